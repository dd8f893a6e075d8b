/*
 * auth.c - authentication of a POST: flattened JWS, algorithm and key,
 * url, signature, account, nonce (DESIGN.md, "A request in acme-fcgi").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "acme-fcgi.h"
#include "config.h"
#include "jsonutil.h"
#include "util.h"

/* Returns 1 if the account's ACME account, external account and
 * organization allow its use now, else 0 with the catalogue's problem. */
static int
acme_account_usable(struct req *r)
{
	if (r->acct.problem == NULL)
		return 1;
	req_catalogue(r, pcode_lookup(r->acct.problem), NULL);
	return 0;
}

/* Parses the account id out of a kid URL; returns 0 if it is not one. */
static long
kid_account_id(const char *kid)
{
	char *prefix = account_url(0);
	size_t plen = strlen(prefix) - 1, i;
	long id = 0;

	if (strncmp(kid, prefix, plen) == 0 && kid[plen] != '\0' &&
	    kid[plen] != '0' && strlen(kid + plen) <= 18) {
		for (i = plen; kid[i] != '\0'; i++)
			if (!isdigit((unsigned char)kid[i]))
				break;
		if (kid[i] == '\0')
			id = strtol(kid + plen, NULL, 10);
	}
	free(prefix);
	return id;
}

/*
 * The keys this child verified signatures with, by account id. A public
 * key is a pure function of its RFC 7638 thumbprint, and fcgi_auth checks
 * in the request's one round trip that the account still has the key of
 * that thumbprint: the cache saves a query, never changes an answer (a
 * stale key fails the check and is loaded again).
 */
#define KEY_CACHE	256

struct key_slot {
	long		 id;
	struct jwk	 key;
};

static struct key_slot key_cache[KEY_CACHE];

static void
key_slot_clear(struct key_slot *ks)
{
	jwk_free(&ks->key);
	ks->id = 0;
}

/* Loads account id's key into ks and verifies the request's signature
 * with it. Returns 1, or 0 with prob (the slot is then empty). */
static int
key_load(struct req *r, long id, struct key_slot *ks)
{
	struct acct a;
	json_object *jwk = NULL;
	int found, rc = 0;

	memset(&a, 0, sizeof(a));
	key_slot_clear(ks);
	found = store_account_by_id(r->db, id, &a);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot load the account");
		goto out;
	}
	if (found == 0) {
		problem_set(&r->prob, PT_ACCOUNT_DOES_NOT_EXIST,
		    "no account %s", r->jws.kid);
		goto out;
	}
	jwk = json_parse_strict(a.jwk, strlen(a.jwk));
	if (jwk == NULL || !jwk_parse(jwk, &ks->key, &r->prob))
		goto out;
	if (!jws_verify(&r->jws, &ks->key, &r->prob))
		goto out;
	ks->id = id;
	rc = 1;
out:
	if (!rc)
		key_slot_clear(ks);
	json_object_put(jwk);
	acct_free(&a);
	return rc;
}

/* Copies a key (references on its parts). */
static void
jwk_copy(const struct jwk *from, struct jwk *to)
{
	to->pkey = from->pkey;
	EVP_PKEY_up_ref(to->pkey);
	to->canon = json_object_get(from->canon);
	to->thumbprint = xstrdup(from->thumbprint);
	to->bits = from->bits;
}

/*
 * A request signed by an account: the key (cached, or loaded), the
 * signature, then the account's checks and the nonce's redemption in one
 * round trip (fcgi_auth), told in the order they always were: unknown
 * account, signature, account status, usability, nonce.
 */
static int
auth_kid(struct req *r)
{
	struct key_slot *ks;
	struct problem np;
	enum store_auth sa = SA_UNKNOWN;
	long id;
	int epoch = 0, nonce_ok, usable, tries, found, rc = 0;

	memset(&np, 0, sizeof(np));
	if (r->jws.kid == NULL || r->jws.jwk_obj != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "this request must be "
		    "signed by an account key named with \"kid\"");
		goto out;
	}
	if ((id = kid_account_id(r->jws.kid)) == 0) {
		problem_set(&r->prob, PT_ACCOUNT_DOES_NOT_EXIST,
		    "\"kid\" is not an account URL of this server");
		goto out;
	}
	/* an account can always be read, deactivated, and revoke */
	usable = r->route != R_ACCOUNT && r->route != R_REVOKE_CERT;
	ks = &key_cache[id % KEY_CACHE];
	if (ks->id == id && !jws_verify(&r->jws, &ks->key, &r->prob)) {
		/* perhaps signed with the account's new key */
		problem_clear(&r->prob);
		key_slot_clear(ks);
	}
	for (tries = 0; tries < 2; tries++) {
		if (ks->id != id && !key_load(r, id, ks))
			goto out;
		problem_clear(&np);
		nonce_ok = nonce_check(r->db, &r->child->nonce, r->jws.nonce,
		    &epoch, &np);
		acct_free(&r->acct);
		found = store_auth(r->db, id, ks->key.thumbprint,
		    nonce_ok ? r->jws.nonce : NULL, epoch, usable, &r->acct,
		    &sa);
		if (found < 0) {
			problem_code(&r->prob, PC_ACME_OTHER_ERROR,
			    "cannot load the account");
			goto out;
		}
		if (sa != SA_KEY)
			break;
		/* the key changed since it was cached: load it again */
		key_slot_clear(ks);
	}
	switch (sa) {
	case SA_OK:
		if (!nonce_ok) {
			/* the nonce's own problem, told after the account's */
			problem_clear(&r->prob);
			r->prob = np;
			memset(&np, 0, sizeof(np));
			goto out;
		}
		break;
	case SA_UNKNOWN:
		key_slot_clear(ks);
		problem_set(&r->prob, PT_ACCOUNT_DOES_NOT_EXIST,
		    "no account %s", r->jws.kid);
		goto out;
	case SA_KEY:
		key_slot_clear(ks);
		problem_set(&r->prob, PT_MALFORMED, "JWS signature is invalid");
		goto out;
	case SA_REFUSED:
		if (strcmp(r->acct.status, "valid") != 0)
			problem_set(&r->prob, PT_UNAUTHORIZED,
			    "the account is %s", r->acct.status);
		else
			(void)acme_account_usable(r);
		goto out;
	case SA_NONCE:
		nonce_reused(r->db, &r->child->nonce, epoch, &r->prob);
		goto out;
	default:
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot load the account");
		goto out;
	}
	jwk_copy(&ks->key, &r->jwk);
	rc = 1;
out:
	problem_clear(&np);
	return rc;
}

static int
auth_jwk(struct req *r)
{
	if (r->jws.jwk_obj == NULL || r->jws.kid != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "this request must carry "
		    "its public key as \"jwk\", without \"kid\"");
		return 0;
	}
	if (!jwk_parse(r->jws.jwk_obj, &r->jwk, &r->prob))
		return 0;
	return jws_verify(&r->jws, &r->jwk, &r->prob);
}

int
auth_request(struct req *r)
{
	const struct route_def *d = &routes[r->route];

	if (!jws_parse(r->body, r->bodylen, &r->jws, &r->prob))
		return 0;
	if (r->jws.nonce == NULL) {
		problem_set(&r->prob, PT_BAD_NONCE,
		    "the protected header has no nonce");
		return 0;
	}
	if (strcmp(r->jws.url, r->url) != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the protected header's "
		    "url is not the URL of this request (%s)", r->url);
		return 0;
	}
	if (d->auth == AUTH_JWK || (d->auth == AUTH_EITHER &&
	    r->jws.jwk_obj != NULL)) {
		if (!auth_jwk(r) || !nonce_redeem(r->db, &r->child->nonce,
		    r->jws.nonce, &r->prob))
			return 0;
	} else if (!auth_kid(r))	/* redeems the nonce too */
		return 0;
	if (r->jws.payload_len > 0 &&
	    (r->payload = jws_payload_json(&r->jws, &r->prob)) == NULL)
		return 0;
	return 1;
}
