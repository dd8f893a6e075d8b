'use strict';
/*
 * journey.js - the browser steps of tests/integration/test_web_journey.py:
 *
 *   node journey.js STEP < args.json
 *
 * prints one JSON line (lib.js). Each step starts Chromium on a fresh
 * profile with the persona's cookies (args.jar), does what a person would
 * on the pages (fields found by their name attributes, buttons by their
 * text), takes its screenshots, and returns what the test checks. The
 * customer's steps run against the portal (args.base = web_url); the
 * operator's against the office, presenting the operator's TLS client
 * certificate (args.cert, args.key).
 */

const lib = require('./lib.js');

/* Clicks the submit button labelled `label` inside the element `scope`
 * (a Locator), waiting for the page that answers; returns its status. */
async function clickIn(page, scope, label) {
	const re = label instanceof RegExp ? label : new RegExp(label, 'i');
	const button = scope.locator('button[type="submit"], input[type="submit"]')
	    .filter({ hasText: re });
	const n = await button.count();
	if (n === 0)
		throw new Error(`no button ${re} in ${await scope.innerText().catch(() => '?')}`);
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load' }),
		button.first().click(),
	]);
	return resp ? resp.status() : 0;
}

/* Fails unless the page shows no error notice; returns the page's text. */
async function noError(page, what) {
	const t = await lib.text(page);
	const err = page.locator('.error, [role="alert"]');
	const k = await err.count();
	for (let i = 0; i < k; i++) {
		const e = (await err.nth(i).innerText()).trim();
		if (e && !/copy the hmac key/i.test(e))
			throw new Error(`${what}: the page says: ${e}`);
	}
	return t;
}

/* The rows of a table (cells' text) matched by `selector`. */
async function rows(page, selector) {
	return page.locator(selector).evaluateAll((trs) => trs.map((tr) =>
	    Array.from(tr.querySelectorAll('td, th')).map((c) => c.innerText.trim())));
}

/* Opens the office page of an organization found by name. */
async function officeOrganization(page, args) {
	let st = await lib.go(page, args, '/office/organizations?q=' +
	    encodeURIComponent(args.org));
	await lib.expectStatus(page, st, 200, 'organization search');
	st = await lib.follow(page, args, /^\/office\/organizations\/\d+$/, args.org);
	await lib.expectStatus(page, st, 200, 'organization page');
	return page.url();
}

const steps = {
	/* Chromium renders the sign-in page with the stylesheet. */
	async probe(page, args) {
		const status = await lib.go(page, args, '/login');
		const css = await page.evaluate(() => {
			const s = Array.from(document.styleSheets);
			return s.length > 0 && s.every((x) => x.cssRules.length > 0);
		});
		await lib.shot(page, args, '00-sign-in');
		return { status, css, title: await page.title() };
	},

	/* Sign up: the form, then the page that answers. */
	async signup(page, args) {
		let st = await lib.go(page, args, '/signup');
		await lib.expectStatus(page, st, 200, 'GET /signup');
		const form = lib.formWith(page, 'organization');
		await lib.fill(form, {
			organization: args.org,
			country: args.country,
			state: args.state || '',
			locality: args.locality || '',
			email: args.email,
			password: args.password,
			password2: args.password,
			language: args.language || 'en',
		});
		await lib.shot(page, args, '01-signup');
		st = await lib.submit(page, form);
		await lib.expectStatus(page, st, 200, 'POST /signup');
		const text = await noError(page, 'sign up');
		await lib.shot(page, args, '02-signup-done');
		return { url: page.url(), text };
	},

	/* Opens a URL (a link of an e-mail). */
	async open(page, args) {
		const status = await lib.go(page, args, args.url);
		const text = await noError(page, 'open ' + args.url);
		if (args.shot)
			await lib.shot(page, args, args.shot);
		return { status, url: page.url(), text };
	},

	/* Signs in; lands on the dashboard. */
	async login(page, args) {
		let st = await lib.go(page, args, '/login');
		await lib.expectStatus(page, st, 200, 'GET /login');
		st = await lib.fillSubmit(page, {
			email: args.email,
			password: args.password,
		});
		await lib.expectStatus(page, st, 200, 'POST /login');
		const text = await noError(page, 'sign in');
		await lib.shot(page, args, '04-dashboard');
		return { url: page.url(), text };
	},

	/* Declares a domain on the organization page. */
	async declare_domain(page, args) {
		let st = await lib.go(page, args, '/organization');
		await lib.expectStatus(page, st, 200, 'GET /organization');
		st = await lib.fillSubmit(page, { domain: args.domain });
		await lib.expectStatus(page, st, 200, 'declare the domain');
		const text = await noError(page, 'declare ' + args.domain);
		await lib.shot(page, args, '05-organization');
		return { url: page.url(), text };
	},

	/* Uploads a document. */
	async upload(page, args) {
		let st = await lib.go(page, args, '/documents');
		await lib.expectStatus(page, st, 200, 'GET /documents');
		const fields = { kind: args.kind, file: args.file };
		if (args.reference)
			fields.reference = args.reference;
		if (args.domain)
			fields.domain = args.domain;
		st = await lib.fillSubmit(page, fields);
		await lib.expectStatus(page, st, 200, 'upload ' + args.kind);
		const text = await noError(page, 'upload ' + args.kind);
		if (args.shot)
			await lib.shot(page, args, args.shot);
		return { url: page.url(), text };
	},

	/* Creates an ACME account for a domain; reads the credential shown
	 * once, then the account's own page (where the key must not be). */
	async create_account(page, args) {
		let st = await lib.go(page, args, '/accounts');
		await lib.expectStatus(page, st, 200, 'GET /accounts');
		st = await lib.follow(page, args, /^\/accounts\/new$/);
		await lib.expectStatus(page, st, 200, 'GET /accounts/new');
		const fields = { domain: [args.domain] };
		if (args.profile)
			fields.profile = args.profile;
		st = await lib.fillSubmit(page, fields);
		await lib.expectStatus(page, st, 200, 'create the ACME account');
		const text = await noError(page, 'create the ACME account');
		const kid = (await page.locator('#kid').innerText()).trim();
		const hmac = (await page.locator('#hmac').innerText()).trim();
		const commands = await page.locator('pre code').allInnerTexts();
		await lib.shot(page, args, '11-acme-account-created');
		st = await lib.follow(page, args, new RegExp('^/accounts/' + kid + '$'));
		await lib.expectStatus(page, st, 200, 'GET /accounts/' + kid);
		const again = await page.content();
		return { kid, hmac, text, commands, again };
	},

	/* Finds a certificate by name, opens it and revokes it. */
	async find_and_revoke(page, args) {
		let st = await lib.go(page, args, '/certificates');
		await lib.expectStatus(page, st, 200, 'GET /certificates');
		st = await lib.fillSubmit(page, { q: args.name });
		await lib.expectStatus(page, st, 200, 'search ' + args.name);
		const found = await rows(page, 'main table tbody tr');
		await lib.shot(page, args, '13-certificates');
		st = await lib.follow(page, args, /^\/certificates\/[^/]+$/);
		await lib.expectStatus(page, st, 200, 'certificate page');
		const form = page.locator('form[action$="/revoke"]');
		await lib.fill(form, { reason: args.reason });
		st = await lib.submit(page, form);
		await lib.expectStatus(page, st, 200, 'revoke');
		const text = await noError(page, 'revoke');
		await lib.shot(page, args, '14-certificate-revoked');
		return { found: JSON.stringify(found), url: page.url(), text };
	},

	/* --- the operator, in the office ----------------------------------- */

	/* Signs in to the office; lands on the queue. */
	async office_login(page, args) {
		let st = await lib.go(page, args, '/office/login');
		await lib.expectStatus(page, st, 200, 'GET /office/login');
		st = await lib.fillSubmit(page, {
			login: args.name,
			password: args.password,
		});
		await lib.expectStatus(page, st, 200, 'POST /office/login');
		const text = await noError(page, 'office sign in');
		await lib.shot(page, args, '07-office-queue');
		return { url: page.url(), text };
	},

	/* Validates every pending document of an organization, each from its
	 * own page, valid until args.expires (YYYY-MM-DD) when given, else
	 * the day the form offers. */
	async office_validate_documents(page, args) {
		const org = await officeOrganization(page, args);
		const docs = Array.from(new Set(await lib.hrefs(page,
		    /^\/office\/documents\/\d+$/)));
		if (docs.length === 0)
			throw new Error('no document on the organization page');
		let validated = 0;
		for (const d of docs) {
			let st = await lib.go(page, args, d);
			await lib.expectStatus(page, st, 200, 'GET ' + d);
			const form = page.locator(`form[action="${d}/decision"]`)
			    .filter({ hasText: /validate/i });
			if ((await form.count()) === 0)
				continue;
			if (args.expires)
				await lib.fill(form.first(), { expires: args.expires });
			if (validated === 0)
				await lib.shot(page, args, '08-office-document');
			st = await clickIn(page, form.first(), /validate/i);
			await lib.expectStatus(page, st, 200, 'validate ' + d);
			await noError(page, 'validate ' + d);
			validated++;
		}
		await lib.go(page, args, org);
		return { validated, docs };
	},

	/* Validates the domain and the organization, adds credit. */
	async office_organization(page, args) {
		await officeOrganization(page, args);
		const row = page.locator('#domains tr', { hasText: args.domain });
		let st = await clickIn(page, row, /^\s*validate\s*$/i);
		await lib.expectStatus(page, st, 200, 'validate the domain');
		await noError(page, 'validate the domain');
		const form = page.locator('form[action^="/office/organizations/"][action$="/status"]')
		    .filter({ has: page.locator('input[name="action"][value="validate"]') });
		if ((await form.count()) === 0)
			throw new Error('no "validate" form for the organization');
		st = await clickIn(page, form.first(), /validate/i);
		await lib.expectStatus(page, st, 200, 'validate the organization');
		await noError(page, 'validate the organization');
		st = await lib.fillSubmit(page, {
			amount: args.credit,
			reason: args.reason,
		});
		await lib.expectStatus(page, st, 200, 'add credit');
		const text = await noError(page, 'add credit');
		await lib.shot(page, args, '09-office-organization');
		return { url: page.url(), text };
	},

	/* Activates the organization's external account. */
	async office_activate(page, args) {
		await officeOrganization(page, args);
		let st = await lib.follow(page, args, /^\/office\/external-accounts\/\d+$/);
		await lib.expectStatus(page, st, 200, 'external account page');
		const form = page.locator('form[action$="/status"]').filter({
			has: page.locator('input[name="action"][value="activate"]'),
		});
		st = await clickIn(page, form.first(), /activate/i);
		await lib.expectStatus(page, st, 200, 'activate');
		const text = await noError(page, 'activate');
		await lib.shot(page, args, '10-office-external-account');
		return { url: page.url(), text };
	},

	/* The preview of a status change of an ACME account (not confirmed). */
	async office_preview(page, args) {
		let st = await lib.go(page, args, '/office/acme-accounts/' + args.kid);
		await lib.expectStatus(page, st, 200, 'ACME account page');
		st = await lib.follow(page, args, new RegExp('/confirm\\?action=' + args.action + '$'));
		await lib.expectStatus(page, st, 200, 'preview');
		const text = await lib.text(page);
		await lib.shot(page, args, '12-cascade-preview');
		return { url: page.url(), text };
	},

	/* The audit log, newest first: the rows above args.since (following
	 * "Older" pages as needed). */
	async office_audit(page, args) {
		let st = await lib.go(page, args, '/office/audit' +
		    (args.q ? '?q=' + encodeURIComponent(args.q) : ''));
		await lib.expectStatus(page, st, 200, 'audit log');
		await lib.shot(page, args, '15-audit-log');
		let all = [];
		for (let p = 0; p < 20; p++) {
			const got = await rows(page, 'table.audit tbody tr');
			all = all.concat(got);
			const ids = got.map((r) => Number(r[0]));
			if (ids.length === 0 || Math.min(...ids) <= (args.since || 0))
				break;
			const older = await lib.hrefs(page, /before=\d+/);
			if (older.length === 0)
				break;
			st = await lib.go(page, args, older[older.length - 1]);
			await lib.expectStatus(page, st, 200, 'audit log, older');
		}
		return { rows: all.filter((r) => Number(r[0]) > (args.since || 0)) };
	},

	/* Opens pages that show an injection payload: no dialog may open
	 * (no script of it runs), no <img> may come of it; returns the
	 * pages' texts (where the payload must read as text). */
	async no_injection(page, args) {
		const dialogs = [];
		page.on('dialog', async (d) => {
			dialogs.push(d.message());
			await d.dismiss();
		});
		let images = 0;
		const texts = [];
		for (const p of args.paths) {
			const st = await lib.go(page, args, p);
			await lib.expectStatus(page, st, 200, p);
			await page.waitForTimeout(200);
			images += await page.locator('img[onerror], img[src="x"]').count();
			texts.push(await page.innerText('body'));
		}
		return { dialogs, images, texts };
	},

	/* How wide pages are laid out at the browser's 1280 px viewport:
	 * a page wider than its window scrolls sideways. */
	async page_widths(page, args) {
		const pages = [];
		for (const p of args.paths) {
			const st = await lib.go(page, args, p);
			await lib.expectStatus(page, st, 200, p);
			pages.push(Object.assign({ path: p }, await page.evaluate(() => ({
				scrollWidth: document.documentElement.scrollWidth,
				viewport: window.innerWidth,
				styled: document.styleSheets.length > 0 &&
				    Array.from(document.styleSheets).every((x) =>
					x.cssRules.length > 0),
			}))));
		}
		return { pages };
	},
};

lib.main(steps);
