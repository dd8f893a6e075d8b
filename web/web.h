/*
 * web.h - acme-web: the CA's web site as one FastCGI program, in two
 * areas the web server tells apart:
 *
 *   portal  the customer's certificate manager (sign up, organization,
 *           documents, ACME accounts, certificates, credit, e-mails);
 *   office  the operators' back office, on its own virtual host where the
 *           web server verifies a TLS client certificate (the FastCGI
 *           parameter ACME_WEB_AREA=office and SSL_CLIENT_VERIFY=SUCCESS,
 *           with the certificate in SSL_CLIENT_CERT), under /office/.
 *
 * Pages are server-rendered HTML that works without JavaScript. Every
 * text that is not a literal of the program goes out through web_text()
 * (one escaping function); every POST is refused before its handler runs
 * unless it carries the CSRF token of the session (or, before sign-in, the
 * pre-session cookie); every state change is made by one SQL function
 * that writes the audit log in the same transaction.
 */
#ifndef ACME_WEB_H
#define ACME_WEB_H

#include <stddef.h>

#include "db.h"
#include "util.h"

enum web_area {
	AREA_PORTAL,
	AREA_OFFICE,
	AREA__MAX
};

enum web_lang {
	LANG_EN,
	LANG_FR,
	LANG__MAX
};

/* Who a route is for; the dispatcher enforces it before the handler. */
enum web_auth {
	AUTH_ANON,	/* anyone (sign in, sign up, password reset...) */
	AUTH_CUSTOMER,	/* a signed-in customer (portal) */
	AUTH_OPERATOR,	/* a signed-in operator (office, client cert) */
	AUTH__MAX
};

/* One name=value of a query string, a form or a cookie (decoded). */
struct web_kv {
	char	*name;
	char	*value;
};

/* One file of a multipart/form-data body. */
struct web_upload {
	char		*field;
	char		*filename;	/* as sent, may be "" */
	char		*content_type;	/* as sent, may be "" */
	unsigned char	*data;
	size_t		 len;
};

/* The signed-in user, loaded by the dispatcher from the session cookie. */
struct web_session {
	char		*token;		/* the cookie value; NULL: no session */
	enum web_auth	 kind;		/* AUTH_ANON when not signed in */
	long long	 external_account_id;	/* customer */
	long long	 organization_id;	/* customer */
	long long	 operator_id;		/* operator */
	char		*email;		/* customer's or operator's address */
	char		*name;		/* operator's name; customer: email */
	char		*csrf;		/* the token every form carries */
	char		*flash;		/* one-time notice to show, or NULL */
};

struct web_buf {
	char	*data;
	size_t	 len, cap;
};

struct web_req {
	struct db	*db;
	enum web_area	 area;
	enum web_lang	 lang;
	const char	*method;	/* "GET", "POST"... */
	char		*path;		/* decoded, without the query */
	const char	*args[4];	/* the route's '*' segments, in order */
	size_t		 nargs;
	struct web_kv	*query;
	size_t		 nquery;
	struct web_kv	*form;		/* urlencoded or multipart fields */
	size_t		 nform;
	struct web_upload *uploads;
	size_t		 nuploads;
	struct web_kv	*cookies;
	size_t		 ncookies;
	const char	*remote_addr;
	char		*client_cert_sha256;	/* office: verified cert, hex */
	char		*client_cert_subject;	/* office: its subject DN */
	struct web_session sess;
	char		*pre_token;	/* anonymous forms' CSRF token */
	/* the response */
	int		 status;	/* 200 unless set */
	struct web_buf	 headers;	/* extra "Name: value\r\n" lines */
	struct web_buf	 body;
	int		 raw_body;	/* body is not HTML (downloads) */
	const char	*content_type;	/* default text/html; charset=utf-8 */
	int		 page_open;	/* page_begin() called, page_end() due */
};

/* A route: method and path pattern ('*' matches one segment and is
 * copied to r->args), who may use it, and its handler. */
struct web_route {
	enum web_area	 area;
	const char	*method;
	const char	*pattern;
	enum web_auth	 auth;
	void		(*handler)(struct web_req *);
};

/* The route tables of each area (web/portal.c, web/office.c), ending with
 * a NULL pattern. */
extern const struct web_route portal_routes[];
extern const struct web_route office_routes[];

/* --- request (web/request.c) ------------------------------------------ */

/* Returns the value of a query parameter, form field or cookie, or NULL
 * (borrowed from the request). */
const char *web_query(const struct web_req *, const char *name);
const char *web_form(const struct web_req *, const char *name);
const char *web_cookie(const struct web_req *, const char *name);
/* Returns the first upload of a field, or NULL (borrowed). */
const struct web_upload *web_upload(const struct web_req *, const char *);
/* The actor written to the audit log: "web:EMAIL" for a customer,
 * "operator:NAME" for an operator, "web:anonymous" before sign-in. */
const char *web_actor(const struct web_req *);

/* --- response (web/response.c) ----------------------------------------- */

/* Appends a header line ("Name: value", no CRLF). */
void	 web_header(struct web_req *, const char *fmt, ...) ACME_PRINTF(2, 3);
/* Appends trusted markup: string literals of the program only. */
void	 web_raw(struct web_req *, const char *markup);
/* Appends text HTML-escaped (& < > " '): safe in elements and quoted
 * attributes. The one escaping function; NULL appends nothing. */
void	 web_text(struct web_req *, const char *text);
/* Formats, then appends the whole result escaped. */
void	 web_textf(struct web_req *, const char *fmt, ...) ACME_PRINTF(2, 3);
/* Appends bytes as they are (r->raw_body downloads). */
void	 web_bytes(struct web_req *, const void *, size_t);
/* 303 See Other to a path of the same area (or a full URL of ours). */
void	 web_redirect(struct web_req *, const char *location);
/* Stores a one-time notice in the session, shown by the next page. */
void	 web_flash(struct web_req *, const char *text);
/* Renders a whole error page with this status and escaped message. */
void	 web_error(struct web_req *, int status, const char *message);

/* Chooses between the English and the French text of a literal. */
const char *L(const struct web_req *, const char *en, const char *fr);
/* Writes a number of bytes into buf, exact, in the largest unit that
 * divides it ("5 MiB", "5 Mio", "1500 bytes"); returns buf. */
const char *web_size_text(const struct web_req *, long bytes, char *buf,
	    size_t size);

/* The layout (web/layout.c): doctype, head with the stylesheet, the
 * area's navigation for the signed-in user, the flash; then the page's
 * own <main> content; page_end() closes it. */
void	 page_begin(struct web_req *, const char *title);
void	 page_end(struct web_req *);
/* <form method="post" action="ACTION"> with the CSRF hidden field;
 * multipart when enctype_multipart. Closed by web_raw(r, "</form>"). */
void	 form_begin(struct web_req *, const char *action,
	    int enctype_multipart);
/* A labelled input: <label>LABEL <input type name value></label>. */
void	 form_input(struct web_req *, const char *type, const char *name,
	    const char *label, const char *value, int required);
/* A <select> of the given values (labels = values unless labels). */
void	 form_select(struct web_req *, const char *name, const char *label,
	    const char *const *values, const char *const *labels, size_t n,
	    const char *selected);
void	 form_submit(struct web_req *, const char *label);
/* A status word as a styled badge (VALID, PENDING, REVOKED...). */
void	 web_badge(struct web_req *, const char *status);
/* A table's header: the markup open, then the labels (escaped, up to a
 * NULL) joined by "</th><th>", then the markup close. */
void	 web_thead(struct web_req *, const char *open, const char *close,
	    ...) __attribute__((sentinel));

/* --- sessions (web/session.c, SQL in common/websession.c) -------------- */

/* Opens a new session for a customer or an operator (a fresh token: a
 * token the client had before is never kept) and sets its cookie.
 * Returns 1 or 0. */
int	 web_session_open(struct web_req *, enum web_auth kind, long long id);
/* Ends the session (row deleted, cookie cleared). */
void	 web_session_close(struct web_req *);
/* Returns 1 if s looks like one of our tokens, of a session or of an
 * e-mail link (43 base64url characters). */
int	 web_token_ok(const char *s);

#endif
