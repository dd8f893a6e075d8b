/*
 * auth.c - authentication of a POST: flattened JWS, algorithm and key,
 * url, signature, account, nonce (DESIGN.md, "A request in acme-fcgi").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

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

static int
auth_kid(struct req *r)
{
	json_object *jwk = NULL;
	long id;
	int rc = 0, found;

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
	found = store_account_by_id(r->db, id, &r->acct);
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
	jwk = json_parse_strict(r->acct.jwk, strlen(r->acct.jwk));
	if (jwk == NULL || !jwk_parse(jwk, &r->jwk, &r->prob))
		goto out;
	if (!jws_verify(&r->jws, &r->jwk, &r->prob))
		goto out;
	if (strcmp(r->acct.status, "valid") != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the account is %s",
		    r->acct.status);
		goto out;
	}
	/* an account can always be read, deactivated, and revoke */
	if (r->route != R_ACCOUNT && r->route != R_REVOKE_CERT &&
	    !acme_account_usable(r))
		goto out;
	rc = 1;
out:
	json_object_put(jwk);
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
	    r->jws.jwk_obj != NULL) ? !auth_jwk(r) : !auth_kid(r))
		return 0;
	if (!nonce_redeem(r->db, &r->child->nonce, r->jws.nonce, &r->prob))
		return 0;
	if (r->jws.payload_len > 0 &&
	    (r->payload = jws_payload_json(&r->jws, &r->prob)) == NULL)
		return 0;
	return 1;
}
