/*
 * session.c - the signed-in user: the __Host-sid cookie holds a random
 * 256-bit token, the database its SHA-256 (common/websession.c). A session
 * is opened with a fresh token at sign-in (never one the client brought),
 * ends at sign-out, at the end of its lifetime or when idle; an operator's
 * only while the operator is ACTIVE and presents the registered client
 * certificate. Also the one-time notices (flash): in the session, or in a
 * cookie before sign-in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"
#include "web-internal.h"
#include "websession.h"

int
web_token_ok(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_'))
			return 0;
	return i == 43;
}

/* Returns the hex of a text (the flash cookie's value); new string. */
static char *
hex_encode(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(s), i;
	char *out = xmalloc(2 * n + 1);

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = hex[(unsigned char)s[i] & 0xf];
	}
	out[2 * n] = '\0';
	return out;
}

/* Returns the text of a flash cookie, or NULL if malformed; new string. */
static char *
hex_decode(const char *s)
{
	size_t n = strlen(s), i;
	char *out;
	int hi, lo;

	if (n % 2 != 0 || n > 2 * WEB_FLASH_MAX)
		return NULL;
	out = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		hi = s[2 * i] >= 'a' ? s[2 * i] - 'a' + 10 : s[2 * i] - '0';
		lo = s[2 * i + 1] >= 'a' ? s[2 * i + 1] - 'a' + 10 :
		    s[2 * i + 1] - '0';
		if (hi < 0 || hi > 15 || lo < 0 || lo > 15 ||
		    (s[2 * i] > '9' && s[2 * i] < 'a') ||
		    (s[2 * i + 1] > '9' && s[2 * i + 1] < 'a')) {
			free(out);
			return NULL;
		}
		out[i] = (char)(hi << 4 | lo);
	}
	out[n / 2] = '\0';
	if (!web_utf8_valid(out, n / 2)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Forgets the signed-in user (the request goes on anonymously). */
static void
sess_clear(struct web_req *r)
{
	struct web_ctx *ctx = WEB_CTX(r);

	web_sess_free(&r->sess);
	free(ctx->token_hash);
	ctx->token_hash = NULL;
	free(ctx->user_lang);
	ctx->user_lang = NULL;
}

/* Fills r->sess from a loaded session; the strings are taken over. */
static void
sess_take(struct web_req *r, const char *token, char *token_hash,
    struct ws_session *s)
{
	struct web_ctx *ctx = WEB_CTX(r);

	sess_clear(r);
	r->sess.token = xstrdup(token);
	r->sess.kind = s->kind == WS_OPERATOR ? AUTH_OPERATOR : AUTH_CUSTOMER;
	r->sess.external_account_id = s->external_account_id;
	r->sess.organization_id = s->organization_id;
	r->sess.operator_id = s->operator_id;
	r->sess.email = s->email;
	r->sess.name = s->name;
	r->sess.csrf = s->csrf;
	r->sess.flash = s->flash;
	s->email = s->name = s->csrf = s->flash = NULL;
	ctx->user_lang = s->language;
	s->language = NULL;
	ctx->token_hash = token_hash;
}

/* Makes the pre-session token of anonymous forms (cookie __Host-pre)
 * when the client has none. */
static void
pre_token_ensure(struct web_req *r)
{
	if (r->pre_token != NULL)
		return;
	r->pre_token = random_token();
	web_cookie_set(r, WC_PRE, r->pre_token, 0);
}

int
web_session_load(struct web_req *r)
{
	struct ws_session s;
	const char *token = web_cookie(r, WEB_COOKIE_SID);
	const char *pre = web_cookie(r, WEB_COOKIE_PRE);
	const char *fl = web_cookie(r, WEB_COOKIE_FLASH);
	char *hash = NULL;
	int rc = 0, drop = 0;

	memset(&s, 0, sizeof(s));
	if (web_token_ok(pre))
		r->pre_token = xstrdup(pre);
	if (fl != NULL) {	/* a notice given before sign-in: once */
		free(r->sess.flash);
		r->sess.flash = hex_decode(fl);
		web_cookie_set(r, WC_FLASH, NULL, 0);
	}
	if (token == NULL) {
		rc = 1;
		goto out;
	}
	if (!web_token_ok(token)) {
		web_cookie_set(r, WC_SID, NULL, 0);
		rc = 1;
		goto out;
	}
	hash = websession_token_hash(token);
	if (!websession_load(r->db, hash, cfg_int(CFG_WEB_SESSION_IDLE), &s))
		goto out;
	rc = 1;
	if (s.kind == WS_NONE) {	/* unknown or ended */
		web_cookie_set(r, WC_SID, NULL, 0);
		goto out;
	}
	/* a session of the other area is not this area's business */
	if ((s.kind == WS_OPERATOR) != (r->area == AREA_OFFICE))
		goto out;
	if (s.kind == WS_OPERATOR) {
		/* the operator must still be active and present the
		 * registered certificate */
		if (s.status == NULL || strcmp(s.status, "ACTIVE") != 0 ||
		    s.cert_sha256 == NULL || r->client_cert_sha256 == NULL ||
		    strlen(s.cert_sha256) != strlen(r->client_cert_sha256) ||
		    !ct_equal(s.cert_sha256, r->client_cert_sha256,
		    strlen(s.cert_sha256)))
			drop = 1;
	} else if (s.status != NULL && (strcmp(s.status, "REVOKED") == 0 ||
	    strcmp(s.status, "DEACTIVATED") == 0))
		drop = 1;	/* the account is gone */
	if (drop) {
		msg_info("session of %s %s ended: account status %s or "
		    "certificate mismatch", s.kind == WS_OPERATOR ?
		    "operator" : "customer", s.name != NULL ? s.name : "-",
		    s.status != NULL ? s.status : "-");
		(void)websession_close(r->db, hash);
		web_cookie_set(r, WC_SID, NULL, 0);
		goto out;
	}
	{
		char *keep = r->sess.flash;	/* the cookie's, if any */

		r->sess.flash = NULL;
		sess_take(r, token, hash, &s);
		hash = NULL;
		if (r->sess.flash == NULL)
			r->sess.flash = keep;
		else
			free(keep);
	}
out:
	if (rc && r->sess.kind == AUTH_ANON)
		pre_token_ensure(r);
	websession_free(&s);
	free(hash);
	return rc;
}

int
web_session_open(struct web_req *r, enum web_auth kind, long long id)
{
	struct web_ctx *ctx = WEB_CTX(r);
	struct ws_session s;
	enum ws_kind wk = kind == AUTH_CUSTOMER ? WS_CUSTOMER :
	    kind == AUTH_OPERATOR ? WS_OPERATOR : WS_NONE;
	long lifetime = cfg_int(CFG_WEB_SESSION_LIFETIME);
	char *token = NULL, *csrf = NULL, *hash = NULL;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	if (wk == WS_NONE || id <= 0)
		goto out;
	/* never keep a token the client had before */
	if (ctx->token_hash != NULL)
		(void)websession_close(r->db, ctx->token_hash);
	sess_clear(r);
	web_cookie_set(r, WC_SID, NULL, 0);
	token = random_token();
	csrf = random_token();
	hash = websession_token_hash(token);
	if (!websession_open(r->db, wk, id, hash, csrf, lifetime,
	    r->remote_addr) ||
	    !websession_load(r->db, hash, cfg_int(CFG_WEB_SESSION_IDLE), &s) ||
	    s.kind != wk)
		goto out;
	sess_take(r, token, hash, &s);
	hash = NULL;
	web_cookie_set(r, WC_SID, token, lifetime);
	msg_info("signed in %s %s", wk == WS_OPERATOR ? "operator" :
	    "customer", r->sess.name);
	rc = 1;
out:
	websession_free(&s);
	free(token);
	free(csrf);
	free(hash);
	return rc;
}

void
web_session_close(struct web_req *r)
{
	struct web_ctx *ctx = WEB_CTX(r);

	if (ctx->token_hash != NULL) {
		(void)websession_close(r->db, ctx->token_hash);
		msg_info("signed out %s", r->sess.name != NULL ?
		    r->sess.name : "-");
	}
	sess_clear(r);
	web_cookie_set(r, WC_SID, NULL, 0);
	pre_token_ensure(r);
}

void
web_session_finish(struct web_req *r)
{
	struct web_ctx *ctx = WEB_CTX(r);
	const char *pending = NULL;
	char *hex;

	if (ctx->new_flash != NULL)
		pending = ctx->new_flash;
	else if (!ctx->flash_shown && r->sess.flash != NULL &&
	    *r->sess.flash != '\0')
		pending = r->sess.flash;	/* a redirect: keep it */
	if (pending == NULL)
		return;
	if (ctx->token_hash != NULL && r->sess.kind != AUTH_ANON) {
		if (!websession_flash(r->db, ctx->token_hash, pending))
			msg_warn("the notice of the session was lost");
	} else {
		hex = hex_encode(pending);
		web_cookie_set(r, WC_FLASH, hex, 0);
		free(hex);
	}
}
