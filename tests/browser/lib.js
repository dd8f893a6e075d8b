'use strict';
/*
 * lib.js - what every browser step of the acme-web tests shares: Debian's
 * Chromium (/usr/bin/chromium) headless through playwright-core, a fresh
 * profile (--user-data-dir) per step, the persona's cookies carried from
 * one step to the next in a JSON file, the operator's TLS client
 * certificate for the office, screenshots, and the JSON protocol with
 * tests/integration/test_web_journey.py:
 *
 *   node journey.js STEP < args.json   prints one JSON line on stdout:
 *     {"ok": true, ...the step's results}      exit 0
 *     {"ok": false, "error": "...", "url": ..., "text": ...}  exit 1
 *
 * Common arguments (args.json):
 *   base      origin of the site (https://127.0.0.1:PORT)
 *   jar       the persona's cookie file (read if present, written back)
 *   shots     directory of the screenshots
 *   cert, key the TLS client certificate and key (PEM) to present to base
 *   lang      Accept-Language of the browser (default en)
 */

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.ACME_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];
const TIMEOUT = 30000;

/* Reads the step's JSON arguments from stdin. */
function readArgs() {
	const text = fs.readFileSync(0, 'utf8');
	return text.trim() === '' ? {} : JSON.parse(text);
}

/* Starts Chromium on a fresh profile with the persona's cookies; returns
 * {ctx, page, dir}. */
async function open(args) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'acme-web-chromium-'));
	const opts = {
		executablePath: CHROMIUM,
		headless: true,
		args: FLAGS,
		// the stack's TLS certificates come from its own test CA
		ignoreHTTPSErrors: true,
		locale: args.lang || 'en-US',
		viewport: { width: 1280, height: 900 },
		acceptDownloads: true,
	};
	if (args.cert) {
		opts.clientCertificates = [{
			origin: args.base,
			certPath: args.cert,
			keyPath: args.key,
		}];
	}
	const ctx = await chromium.launchPersistentContext(dir, opts);
	ctx.setDefaultTimeout(TIMEOUT);
	ctx.setDefaultNavigationTimeout(TIMEOUT);
	if (args.jar && fs.existsSync(args.jar)) {
		const cookies = JSON.parse(fs.readFileSync(args.jar, 'utf8'));
		if (cookies.length)
			await ctx.addCookies(cookies);
	}
	const page = ctx.pages()[0] || await ctx.newPage();
	return { ctx, page, dir };
}

/* Writes the cookies back, closes the browser, removes the profile. */
async function close(b, args) {
	try {
		if (args.jar) {
			const cookies = await b.ctx.cookies();
			fs.writeFileSync(args.jar, JSON.stringify(cookies, null, 1));
		}
	} finally {
		await b.ctx.close();
		fs.rmSync(b.dir, { recursive: true, force: true });
	}
}

/* A screenshot of the whole page as SHOTS/NAME.png; returns its path. */
async function shot(page, args, name) {
	if (!args.shots)
		return null;
	fs.mkdirSync(args.shots, { recursive: true });
	const file = path.join(args.shots, name + '.png');
	await page.screenshot({ path: file, fullPage: true });
	return file;
}

/* Goes to a path of the site; returns the response status. */
async function go(page, args, p) {
	const url = /^https?:/.test(p) ? p : args.base + p;
	const r = await page.goto(url, { waitUntil: 'load' });
	return r ? r.status() : 0;
}

/* The text of the page's <main> (or body). */
async function text(page) {
	const main = await page.$('main');
	return main ? main.innerText() : page.innerText('body');
}

/* The form holding the field named `name` (a Locator). */
function formWith(page, name) {
	return page.locator('form').filter({
		has: page.locator(`[name="${name}"]`),
	}).first();
}

/* Fills the fields of a form by their name attributes: text, password,
 * e-mail, textarea (fill), select (selectOption by value or label),
 * checkbox/radio (check when true), file (a path). */
async function fill(form, fields) {
	for (const [name, value] of Object.entries(fields)) {
		const el = form.locator(`[name="${name}"]`);
		const n = await el.count();
		if (n === 0)
			throw new Error(`no field named "${name}" in the form`);
		const first = el.first();
		const tag = await first.evaluate((e) => e.tagName.toLowerCase());
		const type = ((await first.getAttribute('type')) || '').toLowerCase();
		if (tag === 'select') {
			const values = await first.evaluate((e) =>
			    Array.from(e.options).map((o) => o.value));
			const wanted = Array.isArray(value) ? value : [value];
			const byValue = wanted.every((v) => values.includes(v));
			await first.selectOption(byValue ? wanted :
			    wanted.map((v) => ({ label: v })));
		} else if (type === 'file') {
			await first.setInputFiles(value);
		} else if (type === 'radio') {
			await form.locator(`[name="${name}"][value="${value}"]`).check();
		} else if (type === 'checkbox') {
			if (n > 1) {
				const wanted = Array.isArray(value) ? value : [value];
				for (const v of wanted)
					await form.locator(`[name="${name}"][value="${v}"]`).check();
			} else if (value) {
				await first.check();
			} else {
				await first.uncheck();
			}
		} else {
			await first.fill(String(value));
		}
	}
}

/* Submits a form with its submit button (the one whose text or value
 * matches `label` when given) and waits for the page that answers (after
 * redirects); returns its status. */
async function submit(page, form, label) {
	const buttons = form.locator('button[type="submit"], input[type="submit"], button:not([type])');
	const k = await buttons.count();
	if (k === 0)
		throw new Error(`the form has no submit button on ${page.url()}`);
	let button = buttons.first();
	if (label) {
		const re = label instanceof RegExp ? label : new RegExp(label, 'i');
		const seen = [];
		button = null;
		for (let i = 0; i < k && button === null; i++) {
			const b = buttons.nth(i);
			const t = ((await b.innerText()) + ' ' +
			    ((await b.getAttribute('value')) || '')).trim();
			seen.push(t);
			if (re.test(t))
				button = b;
		}
		if (button === null)
			throw new Error(`no button matching ${re} in the form on ${page.url()} (buttons: ${seen.join(' | ')})`);
	}
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		button.click(),
	]);
	return resp ? resp.status() : 0;
}

/* Fills the form holding fields' first name and submits it; returns the
 * status of the page that answers. */
async function fillSubmit(page, fields, label) {
	const form = formWith(page, Object.keys(fields)[0]);
	if ((await form.count()) === 0)
		throw new Error(`no form with a field "${Object.keys(fields)[0]}" on ${page.url()}`);
	await fill(form, fields);
	return submit(page, form, label);
}

/* Submits the form whose action matches `re` (its button matching
 * `label` when given), filling `fields` first; returns the status. */
async function submitAction(page, re, fields, label) {
	const forms = page.locator('form');
	const k = await forms.count();
	const seen = [];
	for (let i = 0; i < k; i++) {
		const f = forms.nth(i);
		const action = (await f.getAttribute('action')) || '';
		seen.push(action);
		if (!re.test(action))
			continue;
		if (label) {
			const lre = label instanceof RegExp ? label : new RegExp(label, 'i');
			const t = await f.innerText();
			const vals = await f.locator('input[type="submit"]').evaluateAll(
			    (es) => es.map((e) => e.value).join(' '));
			if (!lre.test(t) && !lre.test(vals))
				continue;
		}
		if (fields)
			await fill(f, fields);
		return submit(page, f, label);
	}
	throw new Error(`no form with action ${re}${label ? ' and button ' + label : ''} on ${page.url()} (forms: ${seen.join(', ')})`);
}

/* Follows the first link whose href matches `re` (and text matches
 * `label` when given); returns the status. */
async function follow(page, args, re, label) {
	const links = page.locator('a[href]');
	const k = await links.count();
	const seen = [];
	for (let i = 0; i < k; i++) {
		const a = links.nth(i);
		const href = await a.getAttribute('href');
		seen.push(href);
		if (!re.test(href))
			continue;
		if (label) {
			const lre = label instanceof RegExp ? label : new RegExp(label, 'i');
			if (!lre.test(await a.innerText()))
				continue;
		}
		const url = new URL(href, page.url()).toString();
		return go(page, args, url);
	}
	throw new Error(`no link matching ${re} on ${page.url()} (links: ${seen.join(', ')})`);
}

/* The hrefs of the links matching `re`. */
async function hrefs(page, re) {
	const all = await page.locator('a[href]').evaluateAll(
	    (es) => es.map((e) => e.getAttribute('href')));
	return all.filter((h) => re.test(h));
}

/* Fails the step unless the page's status is `want`. */
async function expectStatus(page, got, want, what) {
	if (got !== want)
		throw new Error(`${what}: HTTP ${got}, want ${want}: ${(await text(page)).slice(0, 800)}`);
}

/* Runs one step: steps[name](b, args) returns an object of results. On
 * any failure: a screenshot error-NAME.png, {"ok": false, ...}, exit 1. */
async function main(steps) {
	const name = process.argv[2];
	let args = {};
	let b = null;
	let result = null;
	try {
		args = readArgs();
		if (!steps[name])
			throw new Error(`unknown step "${name}" (steps: ${Object.keys(steps).join(', ')})`);
		b = await open(args);
		result = await steps[name](b.page, args);
		await close(b, args);
		b = null;
		process.stdout.write(JSON.stringify(Object.assign({ ok: true }, result)) + '\n');
		process.exitCode = 0;
	} catch (e) {
		const out = { ok: false, step: name, error: String(e && e.stack || e) };
		if (b) {
			try {
				out.url = b.page.url();
				out.text = (await text(b.page)).slice(0, 3000);
				out.shot = await shot(b.page, args, 'error-' + name);
			} catch (e2) {
				out.shot_error = String(e2);
			}
			try {
				await close(b, args);
			} catch (e3) {
				/* the failure above is the one to report */
			}
		}
		process.stdout.write(JSON.stringify(out) + '\n');
		process.exitCode = 1;
	}
}

module.exports = {
	FLAGS, open, close, shot, go, text, formWith, fill, submit, fillSubmit,
	submitAction, follow, hrefs, expectStatus, main,
};
