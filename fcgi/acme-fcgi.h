/*
 * acme-fcgi.h - everything the FastCGI process declares: the request, the
 * route table, the handlers (one file per ACME resource).
 */
#ifndef ACME_FCGI_H
#define ACME_FCGI_H

#include <stddef.h>
#include <fcgiapp.h>
#include <json-c/json.h>

#include "db.h"
#include "jose.h"
#include "nonce.h"
#include "problem.h"
#include "store.h"
#include "x509.h"

#define BODY_MAX	65536

enum route {
	R_DIRECTORY,
	R_NEW_NONCE,
	R_NEW_ACCOUNT,
	R_NEW_ORDER,
	R_REVOKE_CERT,
	R_KEY_CHANGE,
	R_ACCOUNT,
	R_ACCOUNT_ORDERS,
	R_ORDER,
	R_FINALIZE,
	R_AUTHZ,
	R_CHALLENGE,
	R_CERT,
	R_RENEWAL_INFO,
	R_OCSP,		/* revocation status: not ACME resources */
	R_OCSP_POST,
	R_CRL,
	R_HEALTH,	/* monitoring (health.c, metrics.c) */
	R_METRICS,
	R__MAX
};

/* How a POST is authenticated. */
enum auth {
	AUTH_NONE,	/* GET/HEAD only */
	AUTH_JWK,	/* the request carries its key (newAccount) */
	AUTH_KID,	/* signed by an existing account */
	AUTH_KID_QUERY,	/* the same, authenticated by the handler's own
			 * query in its one round trip (auth_with) */
	AUTH_EITHER,	/* account key, or the key of the object (revokeCert) */
	AUTH__MAX
};

/* Process-wide state of one child. */
struct child {
	struct db	 db;
	struct nonce_ctx nonce;
};

struct req {
	FCGX_Request	*fcgi;
	struct child	*child;
	struct db	*db;
	enum route	 route;
	const char	*method;
	enum lang	 lang;		/* of Accept-Language */
	char		*path;		/* owned; without query */
	char		*query;		/* owned; after '?', or NULL */
	char		*id;		/* owned; object id from the path */
	char		*url;		/* owned; base_url + path */
	char		*body;		/* owned */
	size_t		 bodylen;
	/* authentication results */
	struct jws	 jws;
	struct jwk	 jwk;		/* key that signed the request */
	struct acct	 acct;		/* AUTH_KID: the signing account */
	struct auth_args auth;		/* AUTH_KID: fcgi_auth's arguments */
	int		 auth_pending;	/* AUTH_KID_QUERY: auth_with (or
					 * auth_settle) has yet to run */
	json_object	*payload;	/* owned; NULL for POST-as-GET */
	/* response */
	int		 status;
	json_object	*resp;		/* owned; JSON body */
	char		*raw;		/* owned; non-JSON body */
	size_t		 rawlen;	/* bytes of raw; 0: strlen(raw) */
	const char	*ctype;		/* content type of raw */
	char		*cache_control;	/* owned; NULL: no-store */
	char		*location;	/* owned */
	char		*link_up;	/* owned */
	char		*link_next;	/* owned */
	int		 retry_after;
	struct problem	 prob;
};

struct route_def {
	const char	*prefix;	/* path, or prefix when has_id */
	const char	*suffix;	/* after the id, or NULL */
	int		 has_id;	/* 2: the id may contain '.'; 3: the
					 * id is the rest of the path, as
					 * sent (OCSP GET) */
	int		 post;		/* POST route (else GET/HEAD) */
	enum auth	 auth;
	int		 (*handler)(struct req *);
	int		 plain;		/* not ACME (OCSP, CRL): a POST body
					 * is no JWS, a success carries no
					 * Replay-Nonce nor Link */
};

extern const struct route_def routes[R__MAX];

/* Returns a newly allocated absolute URL of a resource (id may be NULL). */
char	*url_for(enum route, const char *id);
/* Returns a newly allocated account URL. */
char	*account_url(long id);

/* Sets a catalogue problem in the request's language (see
 * problem_catalogue), with the documents page as its instance when only
 * the customer can act. */
void	 req_catalogue(struct req *, enum pcode, const char *ident);

/* Authenticates a POST (JWS, key, url, nonce); 1 or 0 with req->prob.
 * On an AUTH_KID_QUERY route, everything but the database's part: that
 * is left pending for the handler's query (auth_with). */
int	 auth_request(struct req *);
/* The handler's query of an AUTH_KID_QUERY route: calls the store_auth_*
 * function of the resource with r->auth (filling r->acct), and puts its
 * own results in arg; returns 1, or -1 on a database error. */
typedef int (*auth_work)(struct req *, void *arg);
/* Authenticates the request in the handler's query work (sql/013): one
 * round trip. Returns 1 when the request is authenticated and work's
 * results are there; 0 with req->prob set when it is refused, or when
 * work failed (then code and what make the problem, once the request is
 * authenticated and its nonce redeemed on its own). */
int	 auth_with(struct req *, auth_work work, void *arg, enum pcode code,
	    const char *what);
/* After the handler, whose result is ok: a request whose authentication
 * is still pending (a refusal before the handler's query) is
 * authenticated now, on its own, and its refusal, if any, is told instead
 * of the handler's answer. Returns the request's result, 1 or 0. */
int	 auth_settle(struct req *, int ok);

/* Handlers: return 1 with req->resp/raw and status set, or 0 with
 * req->prob set. */
int	 h_directory(struct req *);
int	 h_new_nonce(struct req *);
int	 h_new_account(struct req *);
int	 h_account(struct req *);
int	 h_account_orders(struct req *);
int	 h_new_order(struct req *);
int	 h_order(struct req *);
int	 h_finalize(struct req *);
int	 h_authz(struct req *);
int	 h_challenge(struct req *);
int	 h_cert(struct req *);
int	 h_key_change(struct req *);
int	 h_revoke_cert(struct req *);
int	 h_renewal_info(struct req *);
/* ocsp.c, crl.c: revocation status as the worker published it. */
int	 h_ocsp_get(struct req *);
int	 h_ocsp_post(struct req *);
int	 h_crl(struct req *);
/* health.c, metrics.c: monitoring, not ACME (see metrics.h). */
int	 h_health(struct req *);
int	 h_metrics(struct req *);
/* Finds a certificate by an RFC 9773 CertID; 1 found, 0 not (prob set). */
int	 cert_by_certid(struct req *, const char *certid, struct cert_row *);

/* Rendering shared by handlers. */
/* Renders an account with its Location; returns 1. */
int	 account_reply(struct req *, const struct acct *, int status);
json_object *order_json(const struct order *);
json_object *challenge_json(const struct challenge *);
/* Returns 1 if the order belongs to the request's account, else sets a
 * 404 (the object is not revealed to other accounts). */
int	 owner_check(struct req *, long account_id, const char *what);

/* Serves requests on the listening socket until told to stop. */
void	 child_main(int listen_fd);

#endif
