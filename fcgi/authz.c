/*
 * authz.c - the authorization resource (RFC 8555 section 7.1.4).
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "jsonutil.h"
#include "util.h"

json_object *
challenge_json(const struct challenge *c)
{
	json_object *j = json_object_new_object(), *err;
	char *u = url_for(R_CHALLENGE, c->id);

	json_object_object_add(j, "type", json_object_new_string(c->type));
	json_object_object_add(j, "url", json_object_new_string(u));
	free(u);
	/* "processing" is what RFC 8555 calls a validation in progress. */
	json_object_object_add(j, "status", json_object_new_string(c->status));
	json_object_object_add(j, "token", json_object_new_string(c->token));
	if (c->validated != NULL)
		json_object_object_add(j, "validated",
		    json_object_new_string(c->validated));
	if (c->error != NULL &&
	    (err = json_parse_strict(c->error, strlen(c->error))) != NULL)
		json_object_object_add(j, "error", err);
	return j;
}

/* Handles {"status": "deactivated"}: the authorization and its orders
 * end (the orders with ACME_DEACTIVATED). Reloads a. Returns 1 or 0. */
static int
authz_deactivate(struct req *r, struct authz *a)
{
	struct problem why;
	json_object *pj;
	const char *st = json_get_str(r->payload, "status");
	int done;

	if (st == NULL || strcmp(st, "deactivated") != 0 ||
	    json_object_object_length(r->payload) != 1) {
		problem_set(&r->prob, PT_MALFORMED, "an authorization can "
		    "only be updated with {\"status\": \"deactivated\"}");
		return 0;
	}
	memset(&why, 0, sizeof(why));
	problem_catalogue(&why, PC_ACME_DEACTIVATED, r->lang, NULL);
	pj = problem_json(&why);
	done = store_authz_deactivate(r->db, a->id, json_compact(pj));
	json_object_put(pj);
	problem_clear(&why);
	if (done < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot deactivate the authorization");
		return 0;
	}
	if (done == 0) {
		problem_set(&r->prob, PT_MALFORMED, "the authorization is %s "
		    "and cannot be deactivated", a->status);
		return 0;
	}
	msg_info("authorization %s deactivated by its client", a->id);
	authz_free(a);
	if (store_authz_get(r->db, r->id, a) != 1) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the authorization");
		return 0;
	}
	return 1;
}

int
h_authz(struct req *r)
{
	struct authz a;
	json_object *j, *id, *arr;
	size_t i;
	int found, rc = 0;

	found = store_authz_get(r->db, r->id, &a);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the authorization");
		goto out;
	}
	if (found == 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		goto out;
	}
	if (!owner_check(r, a.account_id, "authorization"))
		goto out;
	if (r->payload != NULL && !authz_deactivate(r, &a))
		goto out;
	j = json_object_new_object();
	id = json_object_new_object();
	json_object_object_add(id, "type", json_object_new_string("dns"));
	json_object_object_add(id, "value",
	    json_object_new_string(a.identifier));
	json_object_object_add(j, "identifier", id);
	json_object_object_add(j, "status", json_object_new_string(a.status));
	json_object_object_add(j, "expires", json_object_new_string(a.expires));
	arr = json_object_new_array();
	for (i = 0; i < a.nch; i++)
		json_object_array_add(arr, challenge_json(&a.ch[i]));
	json_object_object_add(j, "challenges", arr);
	if (a.wildcard)
		json_object_object_add(j, "wildcard",
		    json_object_new_boolean(1));
	r->resp = j;
	r->status = 200;
	rc = 1;
out:
	authz_free(&a);
	return rc;
}
