/*
 * store.h - every query of the service, typed. Strings in the structures
 * are owned by them and freed by the matching *_free(). Lookups return
 * 1 when found, 0 when not found, -1 on a database error.
 */
#ifndef ACME_STORE_H
#define ACME_STORE_H

#include <stddef.h>

#include "db.h"

struct acct {
	long	 id;
	char	*jwk;		/* JSON text of the public JWK */
	char	*thumbprint;
	char	*status;	/* valid, deactivated, revoked */
	char	*contact;	/* JSON array text */
	long	 acme_account_id;
	char	*kid;		/* EAB kid it was bound with */
	char	*problem;	/* catalogue code forbidding use, or NULL */
	char	*profile;	/* profile of the ACME account */
	int	*key_sizes;	/* RSA sizes of the profile */
	size_t	 nkey_sizes;
};

struct eab {
	long	 id;
	char	*hmac_key;	/* NULL once bound */
	char	*status;
	int	 key_expired;
	char	*problem;	/* catalogue code forbidding use, or NULL */
};

/* A policy problem of an order: catalogue code and identifier. */
struct policy_problem {
	char	*code;
	char	*identifier;	/* NULL when not about one name */
};

struct challenge {
	char	*id;
	char	*authz_id;
	long	 account_id;
	char	*type;
	char	*token;
	char	*status;
	char	*validated;	/* RFC 3339 or NULL */
	char	*error;		/* problem JSON text or NULL */
};

struct authz {
	char	*id;
	long	 account_id;
	char	*identifier;
	int	 wildcard;
	char	*status;
	char	*expires;
	struct challenge *ch;
	size_t	 nch;
};

struct order {
	char	*id;
	long	 account_id;
	char	*status;
	char	*expires;
	char	*identifiers;	/* JSON array text */
	char	*error;		/* JSON or NULL */
	char	*cert_id;	/* NULL until valid */
	char	**names;
	size_t	 nnames;
	char	**authz_ids;
	size_t	 nauthz;
};

/* A new order: parallel arrays of n names (lower-case, "*." kept). */
struct order_new {
	const char	*id;
	long		 account_id;
	const char	*identifiers;	/* JSON array text */
	size_t		 n;
	char		**names;
	int		*wildcard;
	char		**authz_ids;
	char		**http_ids;
	char		**dns_ids;
	char		**tokens;
	long		 lifetime;	/* seconds */
	const char	*replaces;	/* certificate id, or NULL */
};

int	 store_account_by_id(struct db *, long id, struct acct *);
int	 store_account_by_thumbprint(struct db *, const char *tp,
	    struct acct *);
void	 acct_free(struct acct *);
/* What fcgi_auth (sql/009) found, in the order it checks. */
enum store_auth {
	SA_OK,		/* the nonce is redeemed (or none was given) */
	SA_UNKNOWN,	/* no such account */
	SA_KEY,		/* the account's key is no longer tp */
	SA_REFUSED,	/* not valid, or (usable) problem set: no redemption */
	SA_NONCE,	/* the nonce was already used (or its epoch lost) */
	SA__MAX
};
/* The authentication of a request signed by an account: fcgi_auth's
 * arguments, and its outcome in result. The store_auth_* functions below
 * call the resource's function of sql/013, which authenticates the
 * request and does the resource's work in one round trip, the work only
 * when result is SA_OK. Each returns 1 with result and, unless SA_UNKNOWN
 * or SA_KEY, the account in a (free with acct_free); the resource's
 * outputs are filled only when SA_OK (they are zeroed otherwise, and
 * freed by their *_free in every case). -1 on a database error: the
 * statement was rolled back, the nonce's redemption with it. */
struct auth_args {
	long		 id;		/* the account the request names */
	const char	*tp;		/* thumbprint of the key that verified
					 * its signature */
	const char	*nonce;		/* to redeem; NULL: none (then no
					 * resource's work is done) */
	int		 epoch;		/* of the nonce */
	int		 usable;	/* refuse an ACME account, external
					 * account or organization that forbids
					 * its use */
	enum store_auth	 result;
};
/* Checks, in one round trip, that account id still has the key of
 * thumbprint tp, is valid and (when usable) usable, then redeems the
 * nonce of epoch (none if nonce is NULL): fcgi_auth alone, as above. */
int	 store_auth(struct db *, struct auth_args *, struct acct *);
int	 store_eab_by_kid(struct db *, const char *kid, struct eab *);
void	 eab_free(struct eab *);
/* Binds a verified EAB credential. Returns the new account id (> 0), 0
 * when the credential was bound meanwhile, -1 when the key is already
 * registered (unique violation), -2 on another error. */
long	 store_account_bind(struct db *, const char *kid, const char *hmac,
	    const char *jwk, const char *tp, const char *contact);
void	 policy_free(struct policy_problem *, size_t);
/* Appends an audit_log row; returns 1 or 0. */
int	 store_audit(struct db *, const char *actor, const char *action,
	    const char *type, const char *id, const char *detail_json);
/* Returns the profiles as name -> description (a new object), or NULL. */
struct json_object *store_profiles(struct db *);
/* Reads an order (fcgi_order_get in SQL). */
int	 store_order_get(struct db *, const char *id, struct order *);
void	 order_free(struct order *);
/* Moves a ready order to processing with its CSR. Returns 1 if moved,
 * 0 if the order was not ready, -1 on error. */
int	 store_order_finalize(struct db *, const char *id,
	    const unsigned char *csr, size_t len);
void	 authz_free(struct authz *);
void	 challenge_free(struct challenge *);

/* An issued certificate as revocation and renewal information need it. */
struct cert_row {
	char		*id;
	long		 account_id;
	unsigned char	*der;
	size_t		 der_len;
	long		 not_before;	/* Unix time */
	long		 not_after;
	long		 revoked_at;	/* 0 if not revoked */
	long		 renew_after;	/* 0 if no operator override */
	char		**names;
	size_t		 nnames;
};

int	 store_cert_by_serial(struct db *, const char *serial_hex,
	    struct cert_row *);
void	 cert_row_free(struct cert_row *);
/* Revokes once: 1 revoked now, 0 already revoked, -1 error. */
int	 store_cert_revoke(struct db *, const char *id, int reason,
	    const char *actor);
/* 1 if the account may revoke the certificate with its key, 0 if not. */
int	 store_account_may_revoke(struct db *, long account_id,
	    const char *cert_id);
/* Replaces an account's key: 1 done, 0 the old key no longer matches,
 * -1 the new key belongs to another account, -2 error. */
int	 store_account_key_change(struct db *, long id, const char *old_tp,
	    const char *jwk, const char *tp);

/* Signed requests in one round trip (sql/013; see struct auth_args). */
/* fcgi_order: the order id into o (o->id NULL when there is none). */
int	 store_auth_order(struct db *, struct auth_args *, struct acct *,
	    const char *id, struct order *o);
/* fcgi_new_order: the policy's problems (*pp, *npp; free with
 * policy_free), else *replaced (the certificate on->replaces already has a
 * live replacement), else the order created, into o. profile: the one the
 * client asked for, or NULL. */
int	 store_auth_new_order(struct db *, struct auth_args *, struct acct *,
	    const struct order_new *on, const char *profile,
	    struct policy_problem **pp, int *npp, int *replaced,
	    struct order *o);
/* What fcgi_finalize found and did. */
struct finalize_out {
	char			*status;	/* the order's, before; NULL
						 * when there is no order */
	struct policy_problem	*pp;		/* the policy's problems */
	int			 npp;
	int			 finalized;	/* 1 moved to processing, 0
						 * no longer ready, -1 not
						 * tried */
	struct order		 order;		/* as it is now */
};
/* fcgi_finalize: the order id, its CSR (NULL when undecodable), and the
 * CSR's names and RSA key size when nothing else of the CSR is refused
 * (names NULL: finalization is not tried). */
int	 store_auth_finalize(struct db *, struct auth_args *, struct acct *,
	    const char *id, const unsigned char *csr, size_t csr_len,
	    char *const *names, size_t nnames, int bits,
	    struct finalize_out *);
void	 finalize_out_free(struct finalize_out *);
/* fcgi_authorization: the authorization id into a (a->id NULL when there
 * is none); with deactivate (the orders' error, JSON text), deactivates
 * it first when it is the account's, *deactivated saying whether it was
 * (-1: not tried). */
int	 store_auth_authz(struct db *, struct auth_args *, struct acct *,
	    const char *id, const char *deactivate, int *deactivated,
	    struct authz *a);
/* fcgi_challenge: the challenge id into c (c->id NULL when there is
 * none), started first when start and it is the account's. */
int	 store_auth_challenge(struct db *, struct auth_args *, struct acct *,
	    const char *id, int start, struct challenge *c);
/*
 * The outcome of a challenge started, or of an order finalized, by the
 * request that called fcgi_challenge or fcgi_finalize in a session that
 * waits for outcomes (sql/018: it LISTENs on the object's channel): waits
 * at most timeout_ms for the notification, then reads the object again
 * into c or o and stops listening, in one round trip. Returns 1 when read,
 * 0 when not waited for (an id too long for a channel), -1 on error; the
 * object is left as it was unless 1.
 */
int	 store_challenge_wait(struct db *, const char *id, int timeout_ms,
	    struct challenge *c);
int	 store_order_wait(struct db *, const char *id, int timeout_ms,
	    struct order *o);
/* fcgi_certificate: the certificate's owner (0 when there is none) and,
 * when it is the account's, its chain PEM (*pem, caller frees). */
int	 store_auth_cert(struct db *, struct auth_args *, struct acct *,
	    const char *id, long *owner, char **pem);
/* fcgi_account: deactivates the account, or (contact not NULL) replaces
 * its contact, or neither; the account as it is at the end in a.
 * *changed: 1 a valid account was changed, 0 not, -1 nothing asked. */
int	 store_auth_account(struct db *, struct auth_args *, struct acct *,
	    int deactivate, const char *contact, int *changed);
/* fcgi_account_orders: a page of the account's order ids, oldest first,
 * after cursor (NULL: from the start); *next is the cursor of the next
 * page or NULL. *ids (owned, *n of them) is allocated when SA_OK. */
int	 store_auth_account_orders(struct db *, struct auth_args *,
	    struct acct *, const char *cursor, size_t limit, char ***ids,
	    size_t *n, char **next);

/* Returns a PostgreSQL array literal of the strings (caller frees). */
char	*pg_text_array(const char *const *, size_t);
/* Parses a PostgreSQL text[] output; returns a new string vector. */
char	**pg_parse_array(const char *, size_t *n);

#endif
