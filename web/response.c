/*
 * response.c - building the response: the body (escaped text through the
 * one escaping function, web_text), the redirects, the cookies, and the
 * only place a response is written, with the security headers every
 * response carries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>

#include "config.h"
#include "web-internal.h"

/* The headers of every response (README, "Web site"). */
static const char security_headers[] =
    "Content-Security-Policy: default-src 'none'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "X-Frame-Options: DENY\r\n";

/* The cookies of the response, indexed by enum web_cookie_out. */
static const struct {
	const char	*name;
	const char	*attrs;
} cookie_defs[WC__MAX] = {
	[WC_SID] = { WEB_COOKIE_SID,
	    "Path=/; Secure; HttpOnly; SameSite=Strict" },
	[WC_PRE] = { WEB_COOKIE_PRE,
	    "Path=/; Secure; HttpOnly; SameSite=Strict" },
	[WC_FLASH] = { WEB_COOKIE_FLASH,
	    "Path=/; Secure; HttpOnly; SameSite=Strict" },
	[WC_LANG] = { WEB_COOKIE_LANG,
	    "Path=/; Secure; HttpOnly; SameSite=Lax" },
};

void
web_buf_add(struct web_buf *b, const void *data, size_t len)
{
	size_t cap;

	if (len == 0)
		return;
	if (b->len + len + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 1024;
		while (cap < b->len + len + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void
web_buf_free(struct web_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void
web_buf_escape(struct web_buf *b, const char *s)
{
	const char *run = s, *rep;

	if (s == NULL)
		return;
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		default:
			continue;
		}
		web_buf_add(b, run, (size_t)(s - run));
		web_buf_add(b, rep, strlen(rep));
		run = s + 1;
	}
	web_buf_add(b, run, (size_t)(s - run));
}

void
web_header(struct web_req *r, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		msg_fatal("out of memory");
	va_end(ap);
	if (strpbrk(line, "\r\n") != NULL || strchr(line, ':') == NULL)
		msg_err("web_header: refused a malformed header line");
	else {
		web_buf_add(&r->headers, line, strlen(line));
		web_buf_add(&r->headers, "\r\n", 2);
	}
	free(line);
}

void
web_raw(struct web_req *r, const char *markup)
{
	if (markup != NULL)
		web_buf_add(&r->body, markup, strlen(markup));
}

void
web_text(struct web_req *r, const char *text)
{
	web_buf_escape(&r->body, text);
}

void
web_textf(struct web_req *r, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		msg_fatal("out of memory");
	va_end(ap);
	web_text(r, s);
	free(s);
}

void
web_bytes(struct web_req *r, const void *data, size_t len)
{
	web_buf_add(&r->body, data, len);
}

const char *
L(const struct web_req *r, const char *en, const char *fr)
{
	return r->lang == LANG_FR ? fr : en;
}

/* Returns 1 if loc is a path of this site ("/x", not "//host") or a URL
 * under web_base_url, without control characters. */
static int
location_ok(const char *loc)
{
	const char *base = cfg_str(CFG_WEB_BASE_URL);
	size_t n = strlen(base), i;

	for (i = 0; loc[i] != '\0'; i++)
		if ((unsigned char)loc[i] < 0x21 || loc[i] == 0x7f ||
		    loc[i] == '\\')
			return 0;
	if (loc[0] == '/' && loc[1] != '/')
		return 1;
	return n > 0 && strncmp(loc, base, n) == 0 &&
	    (loc[n] == '/' || loc[n] == '\0');
}

void
web_redirect(struct web_req *r, const char *location)
{
	struct web_ctx *ctx = WEB_CTX(r);

	free(ctx->location);
	if (location == NULL || !location_ok(location)) {
		msg_err("web_redirect: refused a location outside the site");
		location = r->area == AREA_OFFICE ? "/office/" : "/";
	}
	ctx->location = xstrdup(location);
	r->status = 303;
	web_buf_free(&r->body);
	r->raw_body = 0;
	r->page_open = 0;
}

void
web_flash(struct web_req *r, const char *text)
{
	struct web_ctx *ctx = WEB_CTX(r);
	size_t n;

	free(ctx->new_flash);
	ctx->new_flash = NULL;
	if (text == NULL)
		return;
	n = strlen(text);
	if (n > WEB_FLASH_MAX) {	/* cut at a character boundary */
		n = WEB_FLASH_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	ctx->new_flash = xstrndup(text, n);
}

void
web_error(struct web_req *r, int status, const char *message)
{
	struct web_ctx *ctx = WEB_CTX(r);
	char title[64];

	web_buf_free(&r->body);
	web_buf_free(&r->headers);
	free(ctx->location);
	ctx->location = NULL;
	r->raw_body = 0;
	r->content_type = NULL;
	r->page_open = 0;
	r->status = status;
	snprintf(title, sizeof(title), "%d %s", status, web_reason(status));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, title);
	web_raw(r, "</h1>\n<p class=\"error\">");
	web_text(r, message);
	web_raw(r, "</p>\n<p><a href=\"");
	web_raw(r, r->area == AREA_OFFICE ? "/office/" : "/");
	web_raw(r, "\">");
	web_text(r, L(r, "Back to the home page", "Retour à l'accueil"));
	web_raw(r, "</a></p>\n");
	page_end(r);
}

const char *
web_size_text(const struct web_req *r, long bytes, char *buf, size_t size)
{
	const long kib = 1024, mib = 1024 * 1024;
	int fr = r->lang == LANG_FR;

	if (bytes > 0 && bytes % mib == 0)
		snprintf(buf, size, "%ld %s", bytes / mib, fr ? "Mio" : "MiB");
	else if (bytes > 0 && bytes % kib == 0)
		snprintf(buf, size, "%ld %s", bytes / kib, fr ? "Kio" : "KiB");
	else
		snprintf(buf, size, "%ld %s", bytes, fr ? "octets" : "bytes");
	return buf;
}

void
web_error_too_large(struct web_req *r, long limit)
{
	char size[48], *msg;

	web_size_text(r, limit, size, sizeof(size));
	if (r->lang == LANG_FR)
		msg = xasprintf("Le fichier est trop volumineux : la limite "
		    "est de %s. Rien n'a été enregistré ; envoyez un fichier "
		    "plus petit.", size);
	else
		msg = xasprintf("The file is too large: the limit is %s. "
		    "Nothing was stored; send a smaller file.", size);
	web_error(r, 413, msg);
	free(msg);
}

const char *
web_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

void
web_cookie_set(struct web_req *r, enum web_cookie_out which,
    const char *value, long max_age)
{
	struct web_ctx *ctx = WEB_CTX(r);

	free(ctx->cookie_out[which]);
	ctx->cookie_out[which] = xstrdup(value != NULL ? value : "");
	ctx->cookie_max_age[which] = value != NULL ? max_age : 0;
}

/* Returns 1 if the extra headers of the page already have this one. */
static int
has_header(const struct web_req *r, const char *name)
{
	const char *p = r->headers.data;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return 1;
		if ((p = strstr(p, "\r\n")) != NULL)
			p += 2;
	}
	return 0;
}

char *
web_response_headers(struct web_req *r)
{
	struct web_ctx *ctx = WEB_CTX(r);
	struct web_buf b;
	char line[256];
	char *cookie;
	size_t i;
	int status = r->status != 0 ? r->status : 200;

	memset(&b, 0, sizeof(b));
	snprintf(line, sizeof(line), "Status: %d %s\r\n", status,
	    web_reason(status));
	web_buf_add(&b, line, strlen(line));
	if (ctx->location != NULL) {
		web_buf_add(&b, "Location: ", 10);
		web_buf_add(&b, ctx->location, strlen(ctx->location));
		web_buf_add(&b, "\r\n", 2);
	}
	snprintf(line, sizeof(line), "Content-Type: %s\r\n"
	    "Content-Length: %zu\r\n", r->content_type != NULL &&
	    strpbrk(r->content_type, "\r\n") == NULL ? r->content_type :
	    "text/html; charset=utf-8", r->body.len);
	web_buf_add(&b, line, strlen(line));
	web_buf_add(&b, security_headers, sizeof(security_headers) - 1);
	if (!has_header(r, "Cache-Control"))
		web_buf_add(&b, "Cache-Control: no-store\r\n", 25);
	for (i = 0; i < WC__MAX; i++) {
		if (ctx->cookie_out[i] == NULL)
			continue;
		if (*ctx->cookie_out[i] == '\0')
			cookie = xasprintf("Set-Cookie: %s=; %s; Max-Age=0\r\n",
			    cookie_defs[i].name, cookie_defs[i].attrs);
		else if (ctx->cookie_max_age[i] > 0)
			cookie = xasprintf("Set-Cookie: %s=%s; %s; "
			    "Max-Age=%ld\r\n", cookie_defs[i].name,
			    ctx->cookie_out[i], cookie_defs[i].attrs,
			    ctx->cookie_max_age[i]);
		else
			cookie = xasprintf("Set-Cookie: %s=%s; %s\r\n",
			    cookie_defs[i].name, ctx->cookie_out[i],
			    cookie_defs[i].attrs);
		web_buf_add(&b, cookie, strlen(cookie));
		free(cookie);
	}
	web_buf_add(&b, r->headers.data, r->headers.len);
	web_buf_add(&b, "\r\n", 2);
	return b.data;
}

int
web_respond(struct web_req *r, void *out_stream)
{
	FCGX_Stream *out = out_stream;
	char *h = web_response_headers(r);
	int status = r->status != 0 ? r->status : 200;

	FCGX_PutStr(h, (int)strlen(h), out);
	if (r->body.len > 0 && strcmp(r->method, "HEAD") != 0)
		FCGX_PutStr(r->body.data, (int)r->body.len, out);
	free(h);
	return status;
}
