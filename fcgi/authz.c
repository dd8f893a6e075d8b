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

/* The authorization's query: what it asks, what it found. */
struct authz_work {
	const char	*deactivate;	/* the orders' error, or NULL */
	int		 deactivated;	/* 1 done, 0 refused, -1 not tried */
	struct authz	 a;
};

static int
authz_work(struct req *r, void *arg)
{
	struct authz_work *w = arg;

	authz_free(&w->a);
	return store_auth_authz(r->db, &r->auth, &r->acct, r->id,
	    w->deactivate, &w->deactivated, &w->a);
}

/* Checks an update of an authorization: only {"status": "deactivated"}
 * (RFC 8555 section 7.5.2). Returns 1, or 0 with prob. */
static int
authz_update_check(struct req *r)
{
	const char *st = json_get_str(r->payload, "status");

	if (st == NULL || strcmp(st, "deactivated") != 0 ||
	    json_object_object_length(r->payload) != 1) {
		problem_set(&r->prob, PT_MALFORMED, "an authorization can "
		    "only be updated with {\"status\": \"deactivated\"}");
		return 0;
	}
	return 1;
}

int
h_authz(struct req *r)
{
	struct authz_work w;
	struct problem why, bad;
	json_object *j, *id, *arr, *pj = NULL;
	size_t i;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	memset(&why, 0, sizeof(why));
	memset(&bad, 0, sizeof(bad));
	/* A deactivation ends the authorization and its orders (with
	 * ACME_DEACTIVATED); a bad update is told once the authorization
	 * is found to be the account's. */
	if (r->payload != NULL) {
		if (!authz_update_check(r)) {
			bad = r->prob;
			memset(&r->prob, 0, sizeof(r->prob));
		} else {
			problem_catalogue(&why, PC_ACME_DEACTIVATED, r->lang,
			    NULL);
			pj = problem_json(&why);
			w.deactivate = json_compact(pj);
		}
	}
	if (!auth_with(r, authz_work, &w, PC_ACME_OTHER_ERROR,
	    w.deactivate != NULL ? "cannot deactivate the authorization" :
	    "cannot read the authorization"))
		goto out;
	if (w.a.id == NULL) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		goto out;
	}
	if (!owner_check(r, w.a.account_id, "authorization"))
		goto out;
	if (bad.type != PT_NONE) {
		r->prob = bad;
		memset(&bad, 0, sizeof(bad));
		goto out;
	}
	if (w.deactivated == 0) {
		problem_set(&r->prob, PT_MALFORMED, "the authorization is %s "
		    "and cannot be deactivated", w.a.status);
		goto out;
	}
	if (w.deactivated == 1)
		msg_info("authorization %s deactivated by its client",
		    w.a.id);
	j = json_object_new_object();
	id = json_object_new_object();
	json_object_object_add(id, "type", json_object_new_string("dns"));
	json_object_object_add(id, "value",
	    json_object_new_string(w.a.identifier));
	json_object_object_add(j, "identifier", id);
	json_object_object_add(j, "status",
	    json_object_new_string(w.a.status));
	json_object_object_add(j, "expires",
	    json_object_new_string(w.a.expires));
	arr = json_object_new_array();
	for (i = 0; i < w.a.nch; i++)
		json_object_array_add(arr, challenge_json(&w.a.ch[i]));
	json_object_object_add(j, "challenges", arr);
	if (w.a.wildcard)
		json_object_object_add(j, "wildcard",
		    json_object_new_boolean(1));
	r->resp = j;
	r->status = 200;
	rc = 1;
out:
	problem_clear(&bad);
	problem_clear(&why);
	json_object_put(pj);
	authz_free(&w.a);
	return rc;
}
