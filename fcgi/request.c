/*
 * request.c - one FastCGI child: the accept loop, routing through the
 * route table, and the only place responses are written.
 */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme-fcgi.h"
#include "config.h"
#include "jsonutil.h"
#include "metrics.h"
#include "prefork.h"
#include "util.h"

const struct route_def routes[R__MAX] = {
	[R_DIRECTORY] = { "/directory", NULL, 0, 0, AUTH_NONE, h_directory,
	    0 },
	[R_NEW_NONCE] = { "/acme/new-nonce", NULL, 0, 0, AUTH_NONE,
	    h_new_nonce, 0 },
	[R_NEW_ACCOUNT] = { "/acme/new-account", NULL, 0, 1, AUTH_JWK,
	    h_new_account, 0 },
	[R_NEW_ORDER] = { "/acme/new-order", NULL, 0, 1, AUTH_KID_QUERY,
	    h_new_order, 0 },
	[R_REVOKE_CERT] = { "/acme/revoke-cert", NULL, 0, 1, AUTH_EITHER,
	    h_revoke_cert, 0 },
	[R_KEY_CHANGE] = { "/acme/key-change", NULL, 0, 1, AUTH_KID,
	    h_key_change, 0 },
	[R_ACCOUNT] = { "/acme/acct/", NULL, 1, 1, AUTH_KID_QUERY, h_account,
	    0 },
	[R_ACCOUNT_ORDERS] = { "/acme/acct/", "/orders", 1, 1, AUTH_KID_QUERY,
	    h_account_orders, 0 },
	[R_ORDER] = { "/acme/order/", NULL, 1, 1, AUTH_KID_QUERY, h_order, 0 },
	[R_FINALIZE] = { "/acme/order/", "/finalize", 1, 1, AUTH_KID_QUERY,
	    h_finalize, 0 },
	[R_AUTHZ] = { "/acme/authz/", NULL, 1, 1, AUTH_KID_QUERY, h_authz, 0 },
	[R_CHALLENGE] = { "/acme/chall/", NULL, 1, 1, AUTH_KID_QUERY,
	    h_challenge, 0 },
	[R_CERT] = { "/acme/cert/", NULL, 1, 1, AUTH_KID_QUERY, h_cert, 0 },
	[R_RENEWAL_INFO] = { "/acme/renewal-info/", NULL, 2, 0, AUTH_NONE,
	    h_renewal_info, 0 },
	[R_OCSP] = { "/acme/ocsp/", NULL, 3, 0, AUTH_NONE, h_ocsp_get, 1 },
	[R_OCSP_POST] = { "/acme/ocsp", NULL, 0, 1, AUTH_NONE, h_ocsp_post,
	    1 },
	[R_CRL] = { "/acme/crl", NULL, 0, 0, AUTH_NONE, h_crl, 1 },
	/* monitoring: the web server exposes them only where it wants */
	[R_HEALTH] = { "/health", NULL, 0, 0, AUTH_NONE, h_health, 1 },
	[R_METRICS] = { "/metrics", NULL, 0, 0, AUTH_NONE, h_metrics, 1 },
};

char *
url_for(enum route r, const char *id)
{
	const struct route_def *d = &routes[r];

	return xasprintf("%s%s%s%s", cfg_str(CFG_BASE_URL), d->prefix,
	    id != NULL ? id : "", d->suffix != NULL ? d->suffix : "");
}

char *
account_url(long id)
{
	return xasprintf("%s%s%ld", cfg_str(CFG_BASE_URL),
	    routes[R_ACCOUNT].prefix, id);
}

void
req_catalogue(struct req *r, enum pcode code, const char *ident)
{
	problem_catalogue(&r->prob, code, r->lang, ident);
	if (pcode_user_action(code) && *cfg_str(CFG_DOCUMENTS_URL) != '\0') {
		free(r->prob.instance);
		r->prob.instance = xstrdup(cfg_str(CFG_DOCUMENTS_URL));
	}
}

int
owner_check(struct req *r, long account_id, const char *what)
{
	(void)what;
	if (account_id == r->acct.id)
		return 1;
	/* another account's object is not revealed: not found */
	req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
	return 0;
}

/* Returns the length of the id at s (URL-safe characters, and '.' when
 * dot), 0 if none. */
static size_t
id_span(const char *s, int dot)
{
	size_t n = 0;

	while (isalnum((unsigned char)s[n]) || s[n] == '-' || s[n] == '_' ||
	    (dot && s[n] == '.'))
		n++;
	return n;
}

/* Finds the route of path; sets *id for object routes. R__MAX if none. */
static enum route
route_match(const char *path, char **id)
{
	size_t i, plen, n;
	const struct route_def *d;
	const char *rest;

	*id = NULL;
	for (i = 0; i < R__MAX; i++) {
		d = &routes[i];
		if (!d->has_id) {
			if (strcmp(path, d->prefix) == 0)
				return (enum route)i;
			continue;
		}
		plen = strlen(d->prefix);
		if (strncmp(path, d->prefix, plen) != 0)
			continue;
		n = d->has_id == 3 ? strlen(path + plen) :
		    id_span(path + plen, d->has_id == 2);
		if (n == 0 || n > (d->has_id == 3 ? 4096 :
		    d->has_id == 2 ? 128 : 64))
			continue;
		rest = path + plen + n;
		if ((d->suffix == NULL && *rest == '\0') ||
		    (d->suffix != NULL && strcmp(rest, d->suffix) == 0)) {
			*id = xstrndup(path + plen, n);
			return (enum route)i;
		}
	}
	return R__MAX;
}

/* Reads the body, at most BODY_MAX bytes; returns 1 or 0 with prob. */
static int
read_body(struct req *r)
{
	const char *cl = FCGX_GetParam("CONTENT_LENGTH", r->fcgi->envp);
	char *end;
	long len;
	int got;

	len = cl != NULL && *cl != '\0' ? strtol(cl, &end, 10) : 0;
	if (cl != NULL && *cl != '\0' && (*end != '\0' || len < 0)) {
		problem_set(&r->prob, PT_MALFORMED, "bad Content-Length");
		return 0;
	}
	if (len > BODY_MAX) {
		problem_set(&r->prob, PT_PAYLOAD_TOO_LARGE,
		    "the request body exceeds %d bytes", BODY_MAX);
		return 0;
	}
	r->body = xmalloc((size_t)len + 1);
	got = len > 0 ? FCGX_GetStr(r->body, (int)len, r->fcgi->in) : 0;
	if (got != len) {
		problem_set(&r->prob, PT_MALFORMED, "truncated request body");
		return 0;
	}
	r->body[len] = '\0';
	r->bodylen = (size_t)len;
	return 1;
}

static int
dispatch(struct req *r)
{
	const struct route_def *d;
	const char *ct, *uri;
	char *q;

	uri = FCGX_GetParam("REQUEST_URI", r->fcgi->envp);
	if (uri == NULL)
		uri = FCGX_GetParam("DOCUMENT_URI", r->fcgi->envp);
	if (r->method == NULL || uri == NULL) {
		problem_set(&r->prob, PT_MALFORMED, "missing request line");
		return 0;
	}
	r->path = xstrdup(uri);
	if ((q = strchr(r->path, '?')) != NULL) {
		*q = '\0';
		r->query = xstrdup(q + 1);
	}
	r->route = route_match(r->path, &r->id);
	if (r->route == R__MAX) {
		problem_set(&r->prob, PT_NOT_FOUND, "no such resource");
		return 0;
	}
	d = &routes[r->route];
	/* the URL the client signed: path and query as requested */
	r->url = xasprintf("%s%s", cfg_str(CFG_BASE_URL), uri);
	if (!d->post) {
		if (strcmp(r->method, "GET") != 0 &&
		    strcmp(r->method, "HEAD") != 0) {
			problem_set(&r->prob, PT_METHOD_NOT_ALLOWED,
			    "use GET or HEAD on this resource");
			return 0;
		}
		return d->handler(r);
	}
	if (strcmp(r->method, "POST") != 0) {
		problem_set(&r->prob, PT_METHOD_NOT_ALLOWED,
		    "use POST (or POST-as-GET) on this resource");
		return 0;
	}
	if (d->plain)	/* the handler checks the body's type */
		return read_body(r) && d->handler(r);
	ct = FCGX_GetParam("CONTENT_TYPE", r->fcgi->envp);
	if (ct == NULL || strcmp(ct, "application/jose+json") != 0) {
		problem_set(&r->prob, PT_UNSUPPORTED_MEDIA,
		    "the Content-Type must be application/jose+json");
		return 0;
	}
	if (!read_body(r))
		return 0;
	/* on an AUTH_KID_QUERY route, the handler's query authenticates
	 * the request; one that refuses before it, auth_settle */
	return auth_settle(r, auth_request(r) && d->handler(r));
}

/* Writes one formatted header line (libfcgi's own printf lacks %zu). */
static void ACME_PRINTF(2, 3)
hdr(FCGX_Stream *out, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		FCGX_PutStr(buf, n < (int)sizeof(buf) ? n :
		    (int)sizeof(buf) - 1, out);
}

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return status < 400 ? "OK" : "Error";
	}
}

/*
 * Returns the name of the Location header of a response. A CGI gateway
 * (Apache mod_fcgid) turns a 200 with a Location into a 302 redirect, yet
 * ACME answers 200 with a Location (an existing account, finalize): when
 * the web server passes ACME_LOCATION_HEADER, a 200's Location goes under
 * that name, and the server renames it back (apache/acme-locations.conf).
 */
static const char *
location_header(const struct req *r, int status)
{
	const char *name = FCGX_GetParam("ACME_LOCATION_HEADER",
	    r->fcgi->envp);
	size_t i;

	if (status != 200 || name == NULL || *name == '\0' ||
	    strlen(name) > 64)
		return "Location";
	for (i = 0; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return "Location";
	return name;
}

/* Writes the response; returns the HTTP status sent. */
static int
respond(struct req *r, int ok)
{
	FCGX_Stream *out = r->fcgi->out;
	json_object *pj = NULL;
	const char *body = NULL, *ctype = "application/json";
	char *nonce, *dir;
	size_t blen = 0;
	int status = r->status != 0 ? r->status : 200;

	if (!ok) {
		if (r->prob.type == PT_NONE)
			problem_set(&r->prob, PT_SERVER_INTERNAL,
			    "internal error");
		pj = problem_json(&r->prob);
		body = json_compact(pj);
		blen = strlen(body);
		ctype = "application/problem+json";
		status = r->prob.status;
	} else {
		if (r->resp != NULL) {
			body = json_object_to_json_string_ext(r->resp,
			    JSON_C_TO_STRING_PRETTY |
			    JSON_C_TO_STRING_NOSLASHESCAPE);
			blen = strlen(body);
		} else if (r->raw != NULL) {
			body = r->raw;
			blen = r->rawlen > 0 ? r->rawlen : strlen(body);
			ctype = r->ctype;
		}
	}
	hdr(out, "Status: %d %s\r\n", status, reason(status));
	if (body != NULL)
		hdr(out, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		    ctype, blen);
	if (!ok || r->route >= R__MAX || !routes[r->route].plain) {
		nonce = nonce_new(&r->child->nonce);
		if (nonce != NULL)
			hdr(out, "Replay-Nonce: %s\r\n", nonce);
		free(nonce);
		dir = url_for(R_DIRECTORY, NULL);
		hdr(out, "Link: <%s>;rel=\"index\"\r\n", dir);
		free(dir);
	}
	if (r->link_up != NULL)
		hdr(out, "Link: <%s>;rel=\"up\"\r\n", r->link_up);
	if (r->link_next != NULL)
		hdr(out, "Link: <%s>;rel=\"next\"\r\n", r->link_next);
	if (r->location != NULL)
		hdr(out, "%s: %s\r\n", location_header(r, status),
		    r->location);
	if (!ok && r->prob.location != NULL)
		hdr(out, "Location: %s\r\n", r->prob.location);
	if (r->retry_after > 0)
		hdr(out, "Retry-After: %d\r\n", r->retry_after);
	if (!ok && r->prob.status == 405)
		hdr(out, "Allow: %s\r\n", r->route < R__MAX &&
		    routes[r->route].post ? "POST" : "GET, HEAD");
	hdr(out, "Cache-Control: %s\r\n\r\n", ok && r->cache_control != NULL ?
	    r->cache_control : "no-store");
	if (body != NULL && strcmp(r->method != NULL ? r->method : "",
	    "HEAD") != 0)
		FCGX_PutStr(body, (int)blen, out);
	json_object_put(pj);
	return status;
}

static void
req_free(struct req *r)
{
	free(r->path);
	free(r->query);
	free(r->id);
	free(r->url);
	free(r->body);
	jws_free(&r->jws);
	jwk_free(&r->jwk);
	acct_free(&r->acct);
	json_object_put(r->payload);
	json_object_put(r->resp);
	free(r->raw);
	free(r->cache_control);
	free(r->location);
	free(r->link_up);
	free(r->link_next);
	problem_clear(&r->prob);
}

/* Records a refusal from the CA's catalogue in audit_log: what was asked
 * (the object type of the route), by which account, the code and detail. */
static void
audit_refusal(struct req *r)
{
	static const char *const types[R__MAX] = {
		[R_NEW_ACCOUNT] = "account",
		[R_ACCOUNT] = "account",
		[R_NEW_ORDER] = "order",
		[R_ORDER] = "order",
		[R_FINALIZE] = "order",
		[R_AUTHZ] = "authorization",
		[R_CHALLENGE] = "challenge",
		[R_CERT] = "certificate",
		[R_REVOKE_CERT] = "certificate",
		[R_RENEWAL_INFO] = "certificate",
	};
	json_object *d = json_object_new_object();
	const char *type = r->route < R__MAX && types[r->route] != NULL ?
	    types[r->route] : "request";

	if (r->acct.id != 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%ld", r->acct.id);
		json_object_object_add(d, "account", json_object_new_string(buf));
	}
	json_object_object_add(d, "code",
	    json_object_new_string(pcode_name(r->prob.code)));
	json_object_object_add(d, "detail",
	    json_object_new_string(r->prob.detail));
	json_object_object_add(d, "url", json_object_new_string(r->url != NULL ?
	    r->url : ""));
	(void)store_audit(r->db, "acme-fcgi", "refuse", type, r->id,
	    json_compact(d));
	json_object_put(d);
}

/* Writes a log value: printable ASCII as is (and spaces when quoted), a
 * quote or backslash escaped when quoted, anything else as %XX; "-" for
 * none. */
static void
log_value(char *buf, size_t size, const char *s, int quoted)
{
	size_t n = 0;
	unsigned char ch;

	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0' && n + 4 < size; s++) {
		ch = (unsigned char)*s;
		if (quoted && (ch == '"' || ch == '\\')) {
			buf[n++] = '\\';
			buf[n++] = (char)ch;
		} else if ((ch > ' ' && ch < 0x7f && ch != '"') ||
		    (quoted && ch == ' '))
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, size - n, "%%%02X", ch);
	}
	buf[n] = '\0';
}

/* Logs one line per request, key=value, for log processors: request id,
 * method, path, status, milliseconds, account, and for a refusal its
 * catalogue code and detail. */
static void
log_request(const struct req *r, const char *rid, int status, long ms)
{
	char id[96], method[32], path[512], detail[1024], acct[32];

	log_value(id, sizeof(id), rid, 0);
	log_value(method, sizeof(method), r->method, 0);
	log_value(path, sizeof(path), r->path != NULL ? r->path :
	    FCGX_GetParam("REQUEST_URI", r->fcgi->envp), 0);
	if (r->acct.id > 0)
		snprintf(acct, sizeof(acct), "%ld", r->acct.id);
	else
		snprintf(acct, sizeof(acct), "-");
	if (r->prob.type == PT_NONE) {
		msg_info("request rid=%s method=%s path=%s status=%d ms=%ld "
		    "account=%s", id, method, path, status, ms, acct);
		return;
	}
	log_value(detail, sizeof(detail), r->prob.detail, 1);
	msg_info("request rid=%s method=%s path=%s status=%d ms=%ld "
	    "account=%s code=%s detail=\"%s\"", id, method, path, status, ms,
	    acct, r->prob.code != PC_NONE ? pcode_name(r->prob.code) : "-",
	    detail);
}

/* Returns 1 if the request is for monitoring (health check, metrics),
 * answered even without the database (they report it). */
static int
monitor_request(FCGX_Request *fr)
{
	const char *uri = FCGX_GetParam("REQUEST_URI", fr->envp);

	return uri != NULL && (strcmp(uri, routes[R_HEALTH].prefix) == 0 ||
	    strcmp(uri, routes[R_METRICS].prefix) == 0);
}

/*
 * Connects a child to the database; its session prepares the statements
 * it runs (prepare_statements), each planned once per session instead of
 * at every request. Returns 1, or 0 (logged).
 */
static int
child_connect(struct db *db)
{
	if (!db_connect(db, cfg_str(CFG_DATABASE)))
		return 0;
	if (cfg_int(CFG_PREPARE_STATEMENTS))
		db_prepare(db);
	/* sql/018: the challenge's POST and finalize LISTEN for the
	 * outcome they may wait for */
	if ((cfg_int(CFG_VALIDATION_WAIT) > 0 ||
	    cfg_int(CFG_ISSUANCE_WAIT) > 0) &&
	    !db_session_setup(db, "SET acme.wait_outcome = on"))
		return 0;
	return 1;
}

static void
handle(struct child *c, FCGX_Request *fr)
{
	struct req r;
	struct timespec t0, t1;
	const char *rid;
	char *own = NULL;
	long usec;
	int db_up, ok, status, pid;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&r, 0, sizeof(r));
	r.fcgi = fr;
	r.child = c;
	r.db = &c->db;
	r.route = R__MAX;
	r.method = FCGX_GetParam("REQUEST_METHOD", fr->envp);
	r.lang = lang_from_accept(FCGX_GetParam("HTTP_ACCEPT_LANGUAGE",
	    fr->envp));
	rid = FCGX_GetParam("REQUEST_ID", fr->envp);
	if (rid == NULL || *rid == '\0')
		rid = own = random_id();
	log_set_reqid(rid);
	/* a child started while the database was down connects now */
	if (r.db->conn == NULL)
		(void)child_connect(r.db);
	pid = r.db->conn != NULL ? PQbackendPID(r.db->conn) : 0;
	db_up = db_ensure(r.db);
	if (!db_up && monitor_request(fr)) {
		ok = dispatch(&r);	/* reports the database down */
	} else if (!db_up) {
		problem_set(&r.prob, PT_SERVER_INTERNAL,
		    "the database is unavailable");
		ok = 0;
	} else {
		/* a new session (the database restarted): the nonce epoch
		 * may have gone with the UNLOGGED tables of a crash */
		if (!c->nonce.loaded || PQbackendPID(r.db->conn) != pid)
			(void)nonce_load(r.db, &c->nonce);
		ok = dispatch(&r);
		db_rollback(r.db);
		if (!ok && r.prob.code != PC_NONE)
			audit_refusal(&r);
	}
	status = respond(&r, ok);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	usec = (t1.tv_sec - t0.tv_sec) * 1000000L +
	    (t1.tv_nsec - t0.tv_nsec) / 1000;
	log_request(&r, rid, status, usec / 1000);
	metrics_request(r.route, status, usec);
	req_free(&r);
	log_set_reqid(NULL);
	free(own);
}

/* Opens the child's database connection and loads the nonce key. */
static void
child_open(void *arg)
{
	struct child *c = arg;

	memset(c, 0, sizeof(*c));
	c->nonce.lifetime = cfg_int(CFG_NONCE_LIFETIME);
	if (!child_connect(&c->db))
		msg_warn("child: no database yet: requests will retry");
	else if (!nonce_load(&c->db, &c->nonce))
		msg_warn("child: no nonce key yet");
}

/* Serves one request with the child's connection. */
static void
child_handle(void *arg, FCGX_Request *fr)
{
	handle(arg, fr);
}

/* Serves requests until SIGTERM (common/prefork.c stops gracefully:
 * the queued connections are served first), then exits. */
void
child_main(int listen_fd)
{
	struct child c;

	prefork_serve(listen_fd, child_open, child_handle, &c);
	nonce_free(&c.nonce);
	db_close(&c.db);
	config_free();
	_exit(0);
}
