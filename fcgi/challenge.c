/*
 * challenge.c - the challenge resource: POST {} asks the CA to validate
 * (RFC 8555 section 7.5.1); the worker does the validation.
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "config.h"
#include "util.h"

int
h_challenge(struct req *r)
{
	struct challenge c;
	int found, rc = 0;

	found = store_challenge_get(r->db, r->id, &c);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the challenge");
		goto out;
	}
	if (found == 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		goto out;
	}
	if (!owner_check(r, c.account_id, "challenge"))
		goto out;
	if (r->payload != NULL) {
		if (json_object_object_length(r->payload) != 0) {
			problem_set(&r->prob, PT_MALFORMED, "a challenge "
			    "response must be the empty object {}");
			goto out;
		}
		/* Starting a challenge twice, or one already decided, is
		 * not an error: the client sees its current state. */
		if (store_challenge_start(r->db, c.id) < 0) {
			problem_code(&r->prob, PC_ACME_OTHER_ERROR,
			    "cannot start the validation");
			goto out;
		}
		challenge_free(&c);
		if (store_challenge_get(r->db, r->id, &c) != 1) {
			problem_code(&r->prob, PC_ACME_OTHER_ERROR,
			    "cannot read the challenge");
			goto out;
		}
	}
	if (strcmp(c.status, "processing") == 0)
		r->retry_after = (int)cfg_int(CFG_RETRY_AFTER);
	r->link_up = url_for(R_AUTHZ, c.authz_id);
	r->resp = challenge_json(&c);
	r->status = 200;
	rc = 1;
out:
	challenge_free(&c);
	return rc;
}
