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

/* Parses the account id out of a kid URL (account_url's form); returns
 * 0 if it is not one. */
static long
kid_account_id(const char *kid)
{
	const char *base = cfg_str(CFG_BASE_URL);
	const char *prefix = routes[R_ACCOUNT].prefix;
	size_t blen = strlen(base), plen = blen + strlen(prefix), i;
	long id = 0;

	if (strncmp(kid, base, blen) == 0 &&
	    strncmp(kid + blen, prefix, plen - blen) == 0 &&
	    kid[plen] != '\0' && kid[plen] != '0' &&
	    strlen(kid + plen) <= 18) {
		for (i = plen; kid[i] != '\0'; i++)
			if (!isdigit((unsigned char)kid[i]))
				break;
		if (kid[i] == '\0')
			id = strtol(kid + plen, NULL, 10);
	}
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

/* Copies a key (references on its parts) into a zeroed to, without its
 * verifier: the copy verifies nothing more (jws_verify would set one up
 * each time). */
static void
jwk_copy(const struct jwk *from, struct jwk *to)
{
	to->pkey = from->pkey;
	EVP_PKEY_up_ref(to->pkey);
	to->canon = json_object_get(from->canon);
	to->thumbprint = xstrdup(from->thumbprint);
	to->bits = from->bits;
	to->alg = from->alg;
	to->verifier = NULL;
}

/*
 * Runs fcgi_auth with r->auth's arguments: alone (work NULL), or inside
 * the handler's query work (sql/013), retrying once with the account's
 * key loaded again when it changed since it was cached; then tells the
 * outcome in the order it always was: unknown account, signature, account
 * status, usability, nonce (np: the nonce's own problem when nonce_check
 * refused it, told after the account's). Returns 1 when the request is
 * authenticated (and work's results are there), 0 with prob, or -1 when
 * the request is authenticated (its nonce redeemed by fcgi_auth alone)
 * but work failed.
 */
static int
auth_run(struct req *r, auth_work work, void *arg, struct problem *np)
{
	struct key_slot *ks = &key_cache[r->auth.id % KEY_CACHE];
	int tries, wrc = 1, rc = 0;

	r->auth.result = SA_UNKNOWN;
	for (tries = 0; tries < 2; tries++) {
		if (ks->id != r->auth.id && !key_load(r, r->auth.id, ks))
			goto out;
		r->auth.tp = ks->key.thumbprint;
		acct_free(&r->acct);
		if (work != NULL)
			wrc = work(r, arg);
		/* Alone, or after work failed: its statement, the nonce's
		 * redemption included, was rolled back. */
		if ((work == NULL || wrc < 0) &&
		    store_auth(r->db, &r->auth, &r->acct) < 0) {
			problem_code(&r->prob, PC_ACME_OTHER_ERROR,
			    "cannot load the account");
			goto out;
		}
		if (r->auth.result != SA_KEY)
			break;
		/* the key changed since it was cached: load it again */
		key_slot_clear(ks);
	}
	switch (r->auth.result) {
	case SA_OK:
		if (np != NULL && np->type != PT_NONE) {
			/* the nonce's own problem, told after the account's */
			problem_clear(&r->prob);
			r->prob = *np;
			memset(np, 0, sizeof(*np));
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
		nonce_reused(r->db, &r->child->nonce, r->auth.epoch, &r->prob);
		goto out;
	default:
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot load the account");
		goto out;
	}
	jwk_free(&r->jwk);
	jwk_copy(&ks->key, &r->jwk);
	rc = wrc < 0 ? -1 : 1;
out:
	return rc;
}

/*
 * A request signed by an account: the key (cached, or loaded), the
 * signature and the nonce's MAC and age here; then the account's checks
 * and the nonce's redemption in one round trip (fcgi_auth), on an
 * AUTH_KID_QUERY route inside the handler's own query (auth_with).
 */
static int
auth_kid(struct req *r)
{
	struct key_slot *ks;
	struct problem np;
	long id;
	int epoch = 0, nonce_ok, rc = 0;

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
	ks = &key_cache[id % KEY_CACHE];
	if (ks->id == id && !jws_verify(&r->jws, &ks->key, &r->prob)) {
		/* perhaps signed with the account's new key */
		problem_clear(&r->prob);
		key_slot_clear(ks);
	}
	if (ks->id != id && !key_load(r, id, ks))
		goto out;
	nonce_ok = nonce_check(r->db, &r->child->nonce, r->jws.nonce, &epoch,
	    &np);
	memset(&r->auth, 0, sizeof(r->auth));
	r->auth.id = id;
	r->auth.nonce = nonce_ok ? r->jws.nonce : NULL;
	r->auth.epoch = epoch;
	/* an account can always be read, deactivated, and revoke */
	r->auth.usable = r->route != R_ACCOUNT && r->route != R_REVOKE_CERT;
	if (nonce_ok && routes[r->route].auth == AUTH_KID_QUERY) {
		/* the handler's query authenticates the request */
		jwk_copy(&ks->key, &r->jwk);
		r->auth_pending = 1;
		rc = 1;
		goto out;
	}
	rc = auth_run(r, NULL, NULL, &np) == 1;
out:
	problem_clear(&np);
	return rc;
}

int
auth_with(struct req *r, auth_work work, void *arg, enum pcode code,
    const char *what)
{
	int rc = 0;

	if (!r->auth_pending) {
		msg_err("auth_with: no authentication pending");
		problem_set(&r->prob, PT_SERVER_INTERNAL, "internal error");
		goto out;
	}
	r->auth_pending = 0;
	if ((rc = auth_run(r, work, arg, NULL)) < 0) {
		problem_code(&r->prob, code, "%s", what);
		rc = 0;
	}
out:
	return rc;
}

int
auth_settle(struct req *r, int ok)
{
	struct problem held;

	if (!r->auth_pending)
		goto out;
	r->auth_pending = 0;
	held = r->prob;
	memset(&r->prob, 0, sizeof(r->prob));
	if (auth_run(r, NULL, NULL, NULL) == 1) {
		r->prob = held;
		goto out;
	}
	/* the request's own refusal comes first */
	problem_clear(&held);
	json_object_put(r->resp);
	r->resp = NULL;
	free(r->raw);
	r->raw = NULL;
	free(r->location);
	r->location = NULL;
	free(r->link_up);
	r->link_up = NULL;
	free(r->link_next);
	r->link_next = NULL;
	r->retry_after = 0;
	r->status = 0;
	ok = 0;
out:
	return ok;
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
	} else if (!auth_kid(r))	/* redeems the nonce too, or leaves
					 * it to the handler's query */
		return 0;
	if (r->jws.payload_len > 0 &&
	    (r->payload = jws_payload_json(&r->jws, &r->prob)) == NULL)
		return 0;
	return 1;
}
