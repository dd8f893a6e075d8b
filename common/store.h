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
/* Checks, in one round trip, that account id still has the key of
 * thumbprint tp, is valid and (when usable) usable, then redeems the
 * nonce of epoch (none if nonce is NULL). Returns 1 with *result and,
 * unless SA_UNKNOWN or SA_KEY, the account in a (free with acct_free);
 * -1 on a database error. */
int	 store_auth(struct db *, long id, const char *tp, const char *nonce,
	    int epoch, int usable, struct acct *, enum store_auth *result);
int	 store_eab_by_kid(struct db *, const char *kid, struct eab *);
void	 eab_free(struct eab *);
/* Binds a verified EAB credential. Returns the new account id (> 0), 0
 * when the credential was bound meanwhile, -1 when the key is already
 * registered (unique violation), -2 on another error. */
long	 store_account_bind(struct db *, const char *kid, const char *hmac,
	    const char *jwk, const char *tp, const char *contact);
int	 store_account_set_contact(struct db *, long id, const char *contact);
/* Deactivates a valid account; returns 1 or 0 (not valid) or -1. */
int	 store_account_deactivate(struct db *, long id);
/* Checks an order against the CA's policy (order_policy in SQL). Returns
 * the number of problems (0: allowed) with *out (owned, free with
 * policy_free), or -1 on error. */
int	 store_order_policy(struct db *, long acme_account_id,
	    char *const *names, size_t n, const char *profile,
	    struct policy_problem **out);
void	 policy_free(struct policy_problem *, size_t);
/* Appends an audit_log row; returns 1 or 0. */
int	 store_audit(struct db *, const char *actor, const char *action,
	    const char *type, const char *id, const char *detail_json);
/* Returns the profiles as name -> description (a new object), or NULL. */
struct json_object *store_profiles(struct db *);
/* Creates an order; returns 1, 0 if the replaced certificate already has
 * a live replacement order, -1 on error. */
int	 store_order_create(struct db *, const struct order_new *);
int	 store_order_get(struct db *, const char *id, struct order *);
void	 order_free(struct order *);
/* Moves a ready order to processing with its CSR. Returns 1 if moved,
 * 0 if the order was not ready, -1 on error. */
int	 store_order_finalize(struct db *, const char *id,
	    const unsigned char *csr, size_t len);

int	 store_authz_get(struct db *, const char *id, struct authz *);
/* Deactivates an authorization, invalidating its orders with error (JSON
 * text); 1 if done, 0 if it was not pending or valid, -1 on error. */
int	 store_authz_deactivate(struct db *, const char *id,
	    const char *error);
void	 authz_free(struct authz *);
int	 store_challenge_get(struct db *, const char *id, struct challenge *);
void	 challenge_free(struct challenge *);
/* Starts a challenge's validation; 1 if started, 0 if not pending. */
int	 store_challenge_start(struct db *, const char *id);

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
/* Returns a page of an account's order ids, oldest first, after cursor
 * (NULL: from the start); *next is the cursor of the next page or NULL. */
char	**store_account_orders_page(struct db *, long id, const char *cursor,
	    size_t limit, size_t *n, char **next);

/* Fetches a certificate's chain PEM and owner. */
int	 store_cert_get(struct db *, const char *id, long *account_id,
	    char **pem);

/* Returns a PostgreSQL array literal of the strings (caller frees). */
char	*pg_text_array(const char *const *, size_t);
/* Parses a PostgreSQL text[] output; returns a new string vector. */
char	**pg_parse_array(const char *, size_t *n);

#endif
