/*
 * challenge.c - the challenge resource: POST {} asks the CA to validate
 * (RFC 8555 section 7.5.1); the worker does the validation.
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "config.h"
#include "metrics.h"
#include "util.h"

/* The challenge's query: what it asks, what it found. */
struct chall_work {
	int			 start;	/* POST {}: start the validation */
	struct challenge	 c;
};

static int
chall_work(struct req *r, void *arg)
{
	struct chall_work *w = arg;

	challenge_free(&w->c);
	return store_auth_challenge(r->db, &r->auth, &r->acct, r->id,
	    w->start, &w->c);
}

int
h_challenge(struct req *r)
{
	struct chall_work w;
	int bad, held, rc = 0;

	memset(&w, 0, sizeof(w));
	/* Starting a challenge twice, or one already decided, is not an
	 * error: the client sees its current state. Any other payload is,
	 * once the challenge is found to be the account's. */
	bad = r->payload != NULL && json_object_object_length(r->payload) != 0;
	w.start = r->payload != NULL && !bad;
	if (!auth_with(r, chall_work, &w, PC_ACME_OTHER_ERROR, w.start ?
	    "cannot start the validation" : "cannot read the challenge"))
		goto out;
	if (w.c.id == NULL) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		goto out;
	}
	if (!owner_check(r, w.c.account_id, "challenge"))
		goto out;
	if (bad) {
		problem_set(&r->prob, PT_MALFORMED, "a challenge response "
		    "must be the empty object {}");
		goto out;
	}
	/* a validation started here may be answered with its outcome
	 * (sql/018: fcgi_challenge listens for it); a child that may not
	 * hold the request reads it again at once, which stops listening */
	if (w.start && strcmp(w.c.status, "processing") == 0 &&
	    cfg_int(CFG_VALIDATION_WAIT) > 0) {
		held = metrics_hold_begin((int)cfg_int(CFG_VALIDATION_WAIT));
		(void)store_challenge_wait(r->db, w.c.id, held, &w.c);
		metrics_hold_end(held, w.c.status);
	}
	if (strcmp(w.c.status, "processing") == 0)
		r->retry_after = (int)cfg_int(CFG_RETRY_AFTER);
	r->link_up = url_for(R_AUTHZ, w.c.authz_id);
	r->resp = challenge_json(&w.c);
	r->status = 200;
	rc = 1;
out:
	challenge_free(&w.c);
	return rc;
}
