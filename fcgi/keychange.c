/*
 * keychange.c - account key rollover (RFC 8555 section 7.3.5): the outer
 * JWS is signed by the account's current key, the inner one by the new
 * key, over the account URL and the old key.
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "jsonutil.h"
#include "util.h"

int
h_key_change(struct req *r)
{
	struct jws inner;
	struct jwk newkey, oldkey;
	struct acct other;
	json_object *payload = NULL, *oldobj;
	const char *txt, *account;
	int done, rc = 0;

	memset(&inner, 0, sizeof(inner));
	memset(&newkey, 0, sizeof(newkey));
	memset(&oldkey, 0, sizeof(oldkey));
	memset(&other, 0, sizeof(other));
	if (r->payload == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "keyChange needs the inner JWS as payload");
		goto out;
	}
	txt = json_compact(r->payload);
	if (!jws_parse(txt, strlen(txt), &inner, &r->prob))
		goto out;
	if (inner.jwk_obj == NULL || inner.kid != NULL ||
	    inner.nonce != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "the inner JWS must carry "
		    "the new key as \"jwk\", and neither \"kid\" nor "
		    "\"nonce\"");
		goto out;
	}
	if (strcmp(inner.url, r->url) != 0) {
		problem_set(&r->prob, PT_MALFORMED, "the inner JWS url must "
		    "be the outer one");
		goto out;
	}
	if (!jwk_parse(inner.jwk_obj, &newkey, &r->prob) ||
	    !jws_verify(&inner, &newkey, &r->prob) ||
	    (payload = jws_payload_json(&inner, &r->prob)) == NULL)
		goto out;
	account = json_get_str(payload, "account");
	oldobj = json_get_typed(payload, "oldKey", json_type_object);
	if (account == NULL || oldobj == NULL) {
		problem_set(&r->prob, PT_MALFORMED, "the inner payload must "
		    "have \"account\" and \"oldKey\"");
		goto out;
	}
	if (strcmp(account, r->jws.kid) != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the inner payload "
		    "names another account");
		goto out;
	}
	if (!jwk_parse(oldobj, &oldkey, &r->prob) ||
	    strcmp(oldkey.thumbprint, r->acct.thumbprint) != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "\"oldKey\" is not "
		    "the account's current key");
		goto out;
	}
	if (strcmp(newkey.thumbprint, r->acct.thumbprint) == 0) {
		problem_set(&r->prob, PT_MALFORMED,
		    "the new key is the current key");
		goto out;
	}
	done = store_account_key_change(r->db, r->acct.id, r->acct.thumbprint,
	    json_compact(newkey.canon), newkey.thumbprint);
	if (done == -1) {
		problem_set(&r->prob, PT_CONFLICT,
		    "the new key is already the key of another account");
		if (store_account_by_thumbprint(r->db, newkey.thumbprint,
		    &other) == 1)
			r->prob.location = account_url(other.id);
		goto out;
	}
	if (done != 1) {
		problem_set(&r->prob, done == 0 ? PT_CONFLICT : PT_SERVER_INTERNAL,
		    "the account's key changed meanwhile");
		goto out;
	}
	msg_info("account %ld changed its key", r->acct.id);
	if (store_account_by_id(r->db, r->acct.id, &other) != 1) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the account");
		goto out;
	}
	rc = account_reply(r, &other, 200);
out:
	acct_free(&other);
	json_object_put(payload);
	jwk_free(&newkey);
	jwk_free(&oldkey);
	jws_free(&inner);
	return rc;
}
