/*
 * web-internal.h - what the core of acme-web (main, dispatch, request,
 * response, layout, session) shares and the pages do not need: the
 * request as the dispatcher holds it, the parsers (tested and fuzzed on
 * their own) and the limits.
 *
 * Do not include problem.h or jose.h with web.h: their enum lang has the
 * same constant names as enum web_lang.
 */
#ifndef ACME_WEB_INTERNAL_H
#define ACME_WEB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "web.h"

#define WEB_MAX_FIELDS		256	/* query, form fields, cookies each */
#define WEB_MAX_PARTS		64	/* parts of a multipart body */
#define WEB_MAX_PART_HEADERS	8192	/* bytes of one part's headers */
#define WEB_FIELD_MAX		65536	/* bytes of a non-file field */
#define WEB_FORM_EXTRA		65536	/* body allowance over web_upload_max */
#define WEB_MAX_SEGMENT		256	/* bytes of a route's '*' segment */
#define WEB_FLASH_MAX		512	/* bytes of a flash notice */

/* Cookie names. */
#define WEB_COOKIE_SID		"__Host-sid"
#define WEB_COOKIE_PRE		"__Host-pre"
#define WEB_COOKIE_FLASH	"__Host-flash"
#define WEB_COOKIE_LANG		"lang"

/* A cookie the response sets: NULL leaves it, "" clears it. */
enum web_cookie_out {
	WC_SID,
	WC_PRE,
	WC_FLASH,
	WC_LANG,
	WC__MAX
};

struct FCGX_Request;

/*
 * The request as the dispatcher holds it: the struct web_req the pages
 * see comes first, so that a struct web_req * from the dispatcher is a
 * struct web_ctx *. Every struct web_req is made by web_ctx_init().
 */
struct web_ctx {
	struct web_req	 r;
	struct FCGX_Request *fcgi;	/* NULL in the unit tests */
	char		*args_own[4];	/* r.args point here */
	char		*token_hash;	/* hex SHA-256 of r.sess.token */
	char		*actor;		/* web_actor() */
	char		**old_actors;	/* earlier ones, valid until the end */
	size_t		 nold_actors;
	char		*user_lang;	/* the customer's language, or NULL */
	char		*new_flash;	/* web_flash() of this request */
	int		 flash_shown;	/* page_begin() showed a flash */
	char		*location;	/* web_redirect() */
	char		*cookie_out[WC__MAX];
	long		 cookie_max_age[WC__MAX];
	unsigned char	*body;		/* the raw request body */
	size_t		 bodylen;
	const char	*cert_verify;	/* SSL_CLIENT_VERIFY */
};

/* Returns the dispatcher's view of a request of the dispatcher. */
#define WEB_CTX(r)	((struct web_ctx *)(void *)(r))

/* --- web/request.c ----------------------------------------------------- */

/* Sets every field of ctx to empty (anonymous, portal, English, 200). */
void	 web_ctx_init(struct web_ctx *);
/* Frees everything a request owns (not ctx itself). */
void	 web_ctx_free(struct web_ctx *);
/* Frees the strings of a session and makes it anonymous. */
void	 web_sess_free(struct web_session *);

/* Returns 1 if s[0..len) is valid UTF-8 (shortest forms, no surrogates,
 * at most U+10FFFF) without NUL nor control characters other than tab,
 * CR and LF; else 0. */
int	 web_utf8_valid(const char *s, size_t len);
/* Appends the name=value pairs of an application/x-www-form-urlencoded
 * string (a query string or a body) to *kv. Returns 1, or 0 if it is
 * malformed (bad %-escape, invalid UTF-8, more than WEB_MAX_FIELDS
 * pairs); *kv and *n stay valid for web_kv_free() either way. */
int	 web_parse_urlencoded(const char *s, size_t len, struct web_kv **kv,
	    size_t *n);
/* Appends the cookies of a Cookie header to *kv, leaving out malformed
 * ones (never fails; at most WEB_MAX_FIELDS). */
void	 web_parse_cookies(const char *header, struct web_kv **kv,
	    size_t *n);
/* Returns the boundary of a multipart/form-data Content-Type (new string,
 * caller frees), or NULL if it is not one or is malformed. */
char	*web_multipart_boundary(const char *content_type);
/* Parses a multipart/form-data body: fields appended to *form, files to
 * *up (each at most file_max bytes). Returns 0 on success, else the
 * HTTP status to answer (400 malformed, 413 a file too large). */
int	 web_parse_multipart(const char *boundary, const unsigned char *body,
	    size_t len, size_t file_max, struct web_kv **form, size_t *nform,
	    struct web_upload **up, size_t *nup);
void	 web_kv_free(struct web_kv *, size_t);
void	 web_uploads_free(struct web_upload *, size_t);
/* Computes the lowercase hex SHA-256 of the DER of a PEM certificate as
 * web servers pass it (URL-escaped by nginx, plain by Apache) and its
 * subject (RFC 2253). Returns 1 with two new strings, or 0. */
int	 web_cert_fingerprint(const char *param, char **sha256_hex,
	    char **subject);
/* Reads the request from the FastCGI parameters envp and the stream in:
 * method, path, query, cookies, area, client certificate, body and its
 * fields. Returns 0, or the HTTP status of the refusal (400, 413, 415). */
int	 web_request_read(struct web_ctx *, char **envp, void *in_stream);
/* Matches a path against a route pattern ('*': one non-empty segment of
 * at most WEB_MAX_SEGMENT bytes, at most 4). Returns 1 with the segments
 * in args (new strings, *nargs of them; the caller frees), or 0. */
int	 web_route_match(const char *pattern, const char *path,
	    char *args[4], size_t *nargs);
/* Returns the value of a FastCGI parameter, or NULL (borrowed). */
const char *web_param(char **envp, const char *name);

/* --- web/response.c ---------------------------------------------------- */

/* The reason phrase of an HTTP status. */
const char *web_reason(int status);
/* Appends text HTML-escaped to a buffer (what web_text() does). */
void	 web_buf_escape(struct web_buf *, const char *text);
void	 web_buf_add(struct web_buf *, const void *, size_t);
void	 web_buf_free(struct web_buf *);
/* Sets a cookie of the response: value NULL clears it; max_age 0: a
 * session cookie. */
void	 web_cookie_set(struct web_req *, enum web_cookie_out,
	    const char *value, long max_age);
/* Writes the whole response (status, headers, body) to a FastCGI
 * stream; returns the status sent. */
int	 web_respond(struct web_req *, void *out_stream);
/* Builds the header block of the response (new string, caller frees). */
char	*web_response_headers(struct web_req *);
/* Renders the 413 page of a form refused for a file over limit bytes
 * (web_upload_max): it says so and states the limit. */
void	 web_error_too_large(struct web_req *, long limit);

/* --- web/layout.c ------------------------------------------------------ */

extern const char web_site_css[];	/* generated from web/site.css */
/* The stylesheet's URL with its version (cache busting); borrowed. */
const char *web_css_url(void);
/* Answers GET /static/site.css. */
void	 web_serve_css(struct web_req *);
/* The site's icon (SVG, compiled in): its URL with its version
 * (borrowed), and the answer to GET of that URL or of /favicon.ico. */
const char *web_favicon_url(void);
void	 web_serve_favicon(struct web_req *);

/* --- web/dispatch.c ---------------------------------------------------- */

/* Serves one FastCGI request with the child's database connection. */
void	 web_handle(struct db *, struct FCGX_Request *);

/* --- web/session.c ----------------------------------------------------- */

/* Loads the session of the cookie into r->sess (anonymous when unknown,
 * expired, or of the wrong kind for the area; the cookie of an ended
 * session is cleared). Returns 1, or 0 if the database failed. */
int	 web_session_load(struct web_req *);
/* Keeps a flash that was not shown (a redirect) for the next page;
 * called once the handler is done. */
void	 web_session_finish(struct web_req *);

#endif
