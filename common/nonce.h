/*
 * nonce.h - Replay-Nonce values that cost no database work to hand out:
 * epoch, issue time and random bytes, MACed with the epoch's key. Their
 * single use is recorded when redeemed (nonce_redeem() in SQL).
 */
#ifndef ACME_NONCE_H
#define ACME_NONCE_H

#include <openssl/evp.h>

#include "db.h"
#include "problem.h"

struct nonce_ctx {
	int		 loaded;
	int		 epoch;
	unsigned char	 key[32];
	long		 lifetime;	/* seconds */
	EVP_MAC_CTX	*mac;		/* owned; HMAC keyed with key, or NULL */
};

/* Loads (or starts) the current epoch's key; returns 1 or 0. */
int	 nonce_load(struct db *, struct nonce_ctx *);
/* Returns a new nonce (caller frees), or NULL if no key is loaded. */
char	*nonce_new(const struct nonce_ctx *);
/* Checks the nonce's MAC and age (reading the key of an older epoch from
 * the database) without redeeming it. Returns 1 with *epoch, or 0 with p
 * set to badNonce (or serverInternal). */
int	 nonce_check(struct db *, struct nonce_ctx *, const char *nonce,
	    int *epoch, struct problem *p);
/* Releases what n holds (the MAC context, the key); n can be loaded
 * again. */
void	 nonce_free(struct nonce_ctx *);
/* Sets p to badNonce for a nonce the database found used, and reloads
 * the key when it was of the current epoch (lost in a crash). */
void	 nonce_reused(struct db *, struct nonce_ctx *, int epoch,
	    struct problem *p);
/* Checks the nonce's MAC and age, then redeems it once in the database.
 * Returns 1, or 0 with p set to badNonce (or serverInternal). */
int	 nonce_redeem(struct db *, struct nonce_ctx *, const char *nonce,
	    struct problem *p);

#endif
