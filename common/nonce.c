/*
 * nonce.c - stateless issue, single-use redemption of nonces.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "jose.h"
#include "nonce.h"
#include "util.h"

#define NONCE_RAND	16
#define NONCE_MAC	16
#define NONCE_BODY	(4 + 8 + NONCE_RAND)
#define NONCE_LEN	(NONCE_BODY + NONCE_MAC)
#define NONCE_SKEW	60	/* seconds of clock skew between hosts */
/* random parts drawn from the generator at once (see nonce_random) */
#define NONCE_POOL	(64 * NONCE_RAND)

/* HMAC, fetched once per process (a fetch by name costs more than the
 * MAC of a nonce). */
static EVP_MAC *nonce_hmac;

/* Random bytes for the nonces of this process, handed out in order. */
static unsigned char nonce_pool[NONCE_POOL];
static size_t nonce_pool_used = NONCE_POOL;
static pid_t nonce_pool_pid;

static int
hex_to_key(const char *hex, unsigned char *key, size_t len)
{
	size_t i;
	unsigned int b;

	if (strncmp(hex, "\\x", 2) != 0 || strlen(hex) != 2 + 2 * len)
		return 0;
	for (i = 0; i < len; i++) {
		if (sscanf(hex + 2 + 2 * i, "%2x", &b) != 1)
			return 0;
		key[i] = (unsigned char)b;
	}
	return 1;
}

static int
key_from_result(PGresult *res, int ecol, int kcol, int *epoch,
    unsigned char *key)
{
	const char *e, *k;

	if (res == NULL || PQntuples(res) != 1)
		return 0;
	e = db_val(res, 0, ecol);
	k = db_val(res, 0, kcol);
	if (k == NULL || !hex_to_key(k, key, 32))
		return 0;
	if (epoch != NULL) {
		if (e == NULL)
			return 0;
		*epoch = atoi(e);
	}
	return 1;
}

/* Returns a new HMAC-SHA256 context keyed with key (32 bytes), or NULL
 * (the error queue is cleared). */
static EVP_MAC_CTX *
nonce_mac_new(const unsigned char *key)
{
	OSSL_PARAM params[2];
	EVP_MAC_CTX *ctx = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (nonce_hmac == NULL &&
	    (nonce_hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto out;
	if ((ctx = EVP_MAC_CTX_new(nonce_hmac)) == NULL ||
	    EVP_MAC_init(ctx, key, 32, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
out:
	if (ctx == NULL)
		ERR_clear_error();
	return ctx;
}

int
nonce_load(struct db *db, struct nonce_ctx *n)
{
	unsigned char cand[32];
	char *hex = NULL;
	const char *vals[1];
	PGresult *res = NULL;
	size_t i;
	int rc = 0;

	rand_bytes(cand, sizeof(cand));
	hex = xmalloc(2 + 2 * sizeof(cand) + 1);
	memcpy(hex, "\\x", 2);
	for (i = 0; i < sizeof(cand); i++)
		snprintf(hex + 2 + 2 * i, 3, "%02x", cand[i]);
	vals[0] = hex;
	res = db_query(db, "SELECT epoch, key FROM nonce_current_key($1)",
	    1, vals);
	if (!key_from_result(res, 0, 1, &n->epoch, n->key)) {
		msg_err("cannot load the nonce key");
		goto out;
	}
	n->loaded = 1;
	rc = 1;
out:
	/* keyed with n->key as it is now; NULL: keyed at each use */
	EVP_MAC_CTX_free(n->mac);
	n->mac = rc ? nonce_mac_new(n->key) : NULL;
	OPENSSL_cleanse(cand, sizeof(cand));
	if (hex != NULL)
		OPENSSL_cleanse(hex, strlen(hex));
	free(hex);
	PQclear(res);
	return rc;
}

/* Computes the MAC of a nonce body: HMAC-SHA256 with key, truncated.
 * keyed, when not NULL, is a context keyed with key already (copied, so
 * that it stays ready for the next nonce). */
static void
nonce_mac(const EVP_MAC_CTX *keyed, const unsigned char *key,
    const unsigned char *body, unsigned char *mac)
{
	unsigned char full[EVP_MAX_MD_SIZE];
	EVP_MAC_CTX *ctx;
	size_t len = 0;

	ctx = keyed != NULL ? EVP_MAC_CTX_dup(keyed) : nonce_mac_new(key);
	if (ctx == NULL || EVP_MAC_update(ctx, body, NONCE_BODY) != 1 ||
	    EVP_MAC_final(ctx, full, &len, sizeof(full)) != 1 ||
	    len < NONCE_MAC)
		msg_fatal("HMAC failed");
	memcpy(mac, full, NONCE_MAC);
	EVP_MAC_CTX_free(ctx);
}

/*
 * Fills out with the random part of a nonce. The generator is asked for
 * the parts of many nonces at once, a call costing far more than the
 * bytes; the pool is refilled in a new process (after fork), so that no
 * two processes hand out the same bytes. The random part is sent in the
 * clear in the nonce: nothing secret is kept here.
 */
static void
nonce_random(unsigned char *out)
{
	pid_t pid = getpid();

	if (nonce_pool_used + NONCE_RAND > sizeof(nonce_pool) ||
	    nonce_pool_pid != pid) {
		rand_bytes(nonce_pool, sizeof(nonce_pool));
		nonce_pool_used = 0;
		nonce_pool_pid = pid;
	}
	memcpy(out, nonce_pool + nonce_pool_used, NONCE_RAND);
	nonce_pool_used += NONCE_RAND;
}

char *
nonce_new(const struct nonce_ctx *n)
{
	unsigned char raw[NONCE_LEN];
	uint64_t t = (uint64_t)time(NULL);
	int i;

	if (!n->loaded)
		return NULL;
	for (i = 0; i < 4; i++)
		raw[i] = (unsigned char)((uint32_t)n->epoch >> (24 - 8 * i));
	for (i = 0; i < 8; i++)
		raw[4 + i] = (unsigned char)(t >> (56 - 8 * i));
	nonce_random(raw + 12);
	nonce_mac(n->mac, n->key, raw, raw + NONCE_BODY);
	return b64u_encode(raw, sizeof(raw));
}

int
nonce_check(struct db *db, struct nonce_ctx *n, const char *nonce,
    int *epoch_out, struct problem *p)
{
	unsigned char *raw = NULL, key[32], mac[NONCE_MAC];
	const EVP_MAC_CTX *keyed = NULL;
	size_t len = 0;
	uint32_t epoch = 0;
	uint64_t t = 0;
	time_t now = time(NULL);
	char ebuf[16];
	const char *vals[1];
	PGresult *res = NULL;
	int i, rc = 0;

	if (strlen(nonce) > 128 || !b64u_decode(nonce, &raw, &len) ||
	    len != NONCE_LEN) {
		problem_set(p, PT_BAD_NONCE, "the nonce is not one of ours");
		goto out;
	}
	for (i = 0; i < 4; i++)
		epoch = (epoch << 8) | raw[i];
	for (i = 0; i < 8; i++)
		t = (t << 8) | raw[4 + i];
	if (n->loaded && (uint32_t)n->epoch == epoch) {
		memcpy(key, n->key, sizeof(key));
		keyed = n->mac;
	} else {
		snprintf(ebuf, sizeof(ebuf), "%u", epoch);
		vals[0] = ebuf;
		res = db_query(db, "SELECT key FROM nonce_key WHERE epoch = $1",
		    1, vals);
		if (res == NULL) {
			problem_set(p, PT_SERVER_INTERNAL,
			    "cannot check the nonce now");
			goto out;
		}
		if (!key_from_result(res, 0, 0, NULL, key)) {
			problem_set(p, PT_BAD_NONCE,
			    "the nonce is not one of ours");
			goto out;
		}
	}
	nonce_mac(keyed, key, raw, mac);
	if (!ct_equal(mac, raw + NONCE_BODY, NONCE_MAC)) {
		problem_set(p, PT_BAD_NONCE, "the nonce is not one of ours");
		goto out;
	}
	if (t > (uint64_t)now + NONCE_SKEW ||
	    (uint64_t)now > t + (uint64_t)n->lifetime) {
		problem_set(p, PT_BAD_NONCE, "the nonce has expired");
		goto out;
	}
	*epoch_out = (int)epoch;
	rc = 1;
out:
	OPENSSL_cleanse(key, sizeof(key));
	free(raw);
	PQclear(res);
	return rc;
}

void
nonce_reused(struct db *db, struct nonce_ctx *n, int epoch,
    struct problem *p)
{
	problem_set(p, PT_BAD_NONCE, "the nonce was already used");
	/* The epoch may have been lost in a crash: take the new one. */
	if (n->epoch == epoch)
		(void)nonce_load(db, n);
}

int
nonce_redeem(struct db *db, struct nonce_ctx *n, const char *nonce,
    struct problem *p)
{
	char ebuf[16];
	const char *vals[2];
	PGresult *res = NULL;
	int epoch = 0, rc = 0;

	if (!nonce_check(db, n, nonce, &epoch, p))
		goto out;
	snprintf(ebuf, sizeof(ebuf), "%d", epoch);
	vals[0] = nonce;
	vals[1] = ebuf;
	res = db_query(db, "SELECT nonce_redeem($1, $2)", 2, vals);
	if (res == NULL || PQntuples(res) != 1) {
		problem_set(p, PT_SERVER_INTERNAL, "cannot check the nonce now");
		goto out;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0) {
		nonce_reused(db, n, epoch, p);
		goto out;
	}
	rc = 1;
out:
	PQclear(res);
	return rc;
}

void
nonce_free(struct nonce_ctx *n)
{
	EVP_MAC_CTX_free(n->mac);
	n->mac = NULL;
	OPENSSL_cleanse(n->key, sizeof(n->key));
	n->loaded = 0;
}
