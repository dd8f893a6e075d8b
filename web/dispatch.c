/*
 * dispatch.c - one request of acme-web from start to end: read it, pick
 * the language, serve the stylesheet and the icon, gate the office area
 * on the client certificate, find the route, load the session, enforce
 * who the route is for, check the CSRF token of every POST before its
 * handler runs, run the handler, write the response and log one line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <fcgiapp.h>

#include "config.h"
#include "util.h"
#include "web-internal.h"
#include "websession.h"

/* The route tables of the areas, indexed by enum web_area. */
static const struct web_route *const area_routes[AREA__MAX] = {
	[AREA_PORTAL] = portal_routes,
	[AREA_OFFICE] = office_routes,
};

static const char *const area_names[AREA__MAX] = {
	[AREA_PORTAL] = "portal",
	[AREA_OFFICE] = "office",
};

/* Returns 1 if a route's method accepts the request's (HEAD as GET). */
static int
method_ok(const char *route, const char *req)
{
	return strcmp(route, req) == 0 ||
	    (strcmp(route, "GET") == 0 && strcmp(req, "HEAD") == 0);
}

/* Finds the route of the request; sets *allow to the methods of the path
 * when only the method differs. Returns the route or NULL. */
static const struct web_route *
route_find(struct web_req *r, char *allow, size_t allowsz)
{
	struct web_ctx *ctx = WEB_CTX(r);
	const struct web_route *rt;
	char *args[4] = { NULL, NULL, NULL, NULL };
	size_t nargs, i;

	allow[0] = '\0';
	for (rt = area_routes[r->area]; rt->pattern != NULL; rt++) {
		if (!web_route_match(rt->pattern, r->path, args, &nargs))
			continue;
		if (rt->area != r->area || !method_ok(rt->method, r->method)) {
			if (rt->area == r->area && strlen(allow) +
			    strlen(rt->method) + 3 < allowsz) {
				if (allow[0] != '\0')
					strcat(allow, ", ");
				strcat(allow, rt->method);
			}
			for (i = 0; i < nargs; i++)
				free(args[i]);
			continue;
		}
		for (i = 0; i < nargs; i++) {
			ctx->args_own[i] = args[i];
			r->args[i] = args[i];
		}
		r->nargs = nargs;
		return rt;
	}
	return NULL;
}

/* The language: ?lang= (remembered in a cookie), the cookie, the
 * customer's own, then Accept-Language. */
static void
choose_lang(struct web_req *r, const char *accept)
{
	struct web_ctx *ctx = WEB_CTX(r);
	const char *q = web_query(r, "lang"), *c = web_cookie(r,
	    WEB_COOKIE_LANG);

	if (q != NULL && (strcmp(q, "en") == 0 || strcmp(q, "fr") == 0)) {
		r->lang = strcmp(q, "fr") == 0 ? LANG_FR : LANG_EN;
		web_cookie_set(r, WC_LANG, q, 31536000L);
	} else if (c != NULL && (strcmp(c, "en") == 0 || strcmp(c, "fr") == 0))
		r->lang = strcmp(c, "fr") == 0 ? LANG_FR : LANG_EN;
	else if (ctx->user_lang != NULL)
		r->lang = strcmp(ctx->user_lang, "fr") == 0 ? LANG_FR : LANG_EN;
	else
		r->lang = websession_accept_fr(accept) ? LANG_FR : LANG_EN;
}

/* Returns 1 if the form's csrf field is the expected token. */
static int
csrf_ok(const struct web_req *r)
{
	const char *want = r->sess.kind != AUTH_ANON ? r->sess.csrf :
	    web_cookie(r, WEB_COOKIE_PRE);
	const char *got = web_form(r, "csrf");
	size_t n;

	if (want == NULL || got == NULL || (n = strlen(want)) < 16 ||
	    strlen(got) != n)
		return 0;
	return ct_equal(want, got, n);
}

/* The message of a refused request (read or routing). */
static const char *
refusal_text(const struct web_req *r, int status)
{
	switch (status) {
	case 400:
		return L(r, "The request is malformed.",
		    "La requête est mal formée.");
	case 413:
		return L(r, "The request is too large.",
		    "La requête est trop volumineuse.");
	case 415:
		return L(r, "This kind of form is not accepted.",
		    "Ce type de formulaire n'est pas accepté.");
	default:
		return L(r, "The request was refused.",
		    "La requête a été refusée.");
	}
}

/* Serves the request (the response is in r). */
static void
serve(struct web_req *r, const char *accept)
{
	struct web_ctx *ctx = WEB_CTX(r);
	const struct web_route *rt;
	char allow[64];
	int is_office_path;

	/* the stylesheet and the icon, in both areas, to anyone */
	if (strcmp(r->path, "/static/site.css") == 0 &&
	    method_ok("GET", r->method)) {
		web_serve_css(r);
		return;
	}
	if ((strcmp(r->path, "/static/favicon.svg") == 0 ||
	    strcmp(r->path, "/favicon.ico") == 0) &&
	    method_ok("GET", r->method)) {
		web_serve_favicon(r);
		return;
	}
	is_office_path = strcmp(r->path, "/office") == 0 ||
	    strncmp(r->path, "/office/", 8) == 0;
	if ((r->area == AREA_OFFICE && (ctx->cert_verify == NULL ||
	    strcmp(ctx->cert_verify, "SUCCESS") != 0 ||
	    r->client_cert_sha256 == NULL)) ||
	    (r->area != AREA_OFFICE && is_office_path)) {
		web_error(r, 403, L(r, "This page needs a verified client "
		    "certificate.", "Cette page demande un certificat client "
		    "vérifié."));
		return;
	}
	if (r->area == AREA_OFFICE && !is_office_path) {
		if (strcmp(r->path, "/") == 0 || strcmp(r->path, "/office") == 0)
			web_redirect(r, "/office/");
		else
			web_error(r, 404, L(r, "There is no such page.",
			    "Cette page n'existe pas."));
		return;
	}
	if ((rt = route_find(r, allow, sizeof(allow))) == NULL) {
		if (allow[0] != '\0') {
			web_error(r, 405, L(r, "This page does not accept this "
			    "method.", "Cette page n'accepte pas cette "
			    "méthode."));
			web_header(r, "Allow: %s", allow);
		} else
			web_error(r, 404, L(r, "There is no such page.",
			    "Cette page n'existe pas."));
		return;
	}
	if (r->db->conn == NULL)	/* started while the database was down */
		(void)db_connect(r->db, cfg_str(CFG_DATABASE));
	if (!db_ensure(r->db) || !web_session_load(r)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		return;
	}
	choose_lang(r, accept);	/* the customer's own now known */
	if (rt->auth == AUTH_CUSTOMER && r->sess.kind != AUTH_CUSTOMER) {
		web_redirect(r, "/login");
		return;
	}
	if (rt->auth == AUTH_OPERATOR && r->sess.kind != AUTH_OPERATOR) {
		web_redirect(r, "/office/login");
		return;
	}
	if (strcmp(r->method, "POST") == 0 && !csrf_ok(r)) {
		msg_info("CSRF check failed on %s", r->path);
		web_error(r, 403, L(r, "The form expired, please try again.",
		    "Le formulaire a expiré, veuillez réessayer."));
		return;
	}
	rt->handler(r);
	if (r->page_open)
		page_end(r);
	if (ctx->location == NULL && r->body.len == 0) {
		msg_err("handler of %s %s wrote no page", rt->method,
		    rt->pattern);
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
	}
}

/* Writes a log value: printable ASCII as is, anything else as %XX, "-"
 * for none. */
static void
log_value(char *buf, size_t size, const char *s)
{
	size_t n = 0;
	unsigned char ch;

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0' && n + 4 < size; s++) {
		ch = (unsigned char)*s;
		if (ch > ' ' && ch < 0x7f && ch != '"' && ch != '\\')
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02X", ch);
	}
	buf[n] = '\0';
}

void
web_handle(struct db *db, FCGX_Request *fr)
{
	struct web_ctx ctx;
	struct web_req *r = &ctx.r;
	struct timespec t0, t1;
	const char *rid, *accept, *ctype;
	char *own = NULL, lrid[96], lmethod[32], lpath[512], luser[160];
	long ms;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	web_ctx_init(&ctx);
	ctx.fcgi = fr;
	r->db = db;
	rid = web_param(fr->envp, "REQUEST_ID");
	if (rid == NULL || *rid == '\0')
		rid = own = random_id();
	log_set_reqid(rid);
	status = web_request_read(&ctx, fr->envp, fr->in);
	accept = web_param(fr->envp, "HTTP_ACCEPT_LANGUAGE");
	choose_lang(r, accept);
	ctype = web_param(fr->envp, "CONTENT_TYPE");
	if (status == 413 && ctype != NULL &&
	    strncasecmp(ctype, "multipart/form-data", 19) == 0) {
		/* a file over web_upload_max (a form allows nothing else as
		 * large): say so with the limit, on a page with the signed-in
		 * user's navigation; no handler ran */
		if (r->db->conn != NULL && db_ensure(r->db))
			(void)web_session_load(r);
		web_error_too_large(r, cfg_int(CFG_WEB_UPLOAD_MAX));
	} else if (status != 0)
		web_error(r, status, refusal_text(r, status));
	else
		serve(r, accept);
	if (r->page_open)
		page_end(r);
	if (r->db->conn != NULL) {
		web_session_finish(r);
		db_rollback(r->db);
	}
	status = web_respond(r, fr->out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000L +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000L;
	log_value(lrid, sizeof(lrid), rid);
	log_value(lmethod, sizeof(lmethod), r->method);
	log_value(lpath, sizeof(lpath), r->path != NULL ? r->path :
	    web_param(fr->envp, "REQUEST_URI"));
	log_value(luser, sizeof(luser), r->sess.kind == AUTH_ANON ? NULL :
	    web_actor(r));
	msg_info("request rid=%s method=%s path=%s status=%d ms=%ld "
	    "area=%s user=%s", lrid, lmethod, lpath, status, ms,
	    area_names[r->area], luser);
	web_ctx_free(&ctx);
	log_set_reqid(NULL);
	free(own);
}
