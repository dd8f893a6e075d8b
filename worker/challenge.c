/*
 * challenge.c - the validation job: claim a challenge under a lease,
 * validate it (http-01 or dns-01), record the outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "acme-worker.h"
#include "caa.h"
#include "config.h"
#include "jobs.h"
#include "jsonutil.h"
#include "task.h"
#include "util.h"
#include "validate.h"

#define CHALLENGE_MAX_ATTEMPTS	3

/* --- CAA (RFC 8659, RFC 8657): begin --- */
int
worker_caa(struct worker *w, const char *name, int wildcard,
    long account_id, const char *method, struct problem *p)
{
	char **ids = NULL, *account_uri = NULL;
	size_t nids = 0;
	int rc;

	ids = caa_identities_parse(cfg_str(CFG_CAA_IDENTITIES), &nids);
	account_uri = xasprintf("%s/acme/acct/%ld", cfg_str(CFG_BASE_URL),
	    account_id);
	rc = caa_check(&w->resolver, name, wildcard,
	    (const char *const *)ids, nids, account_uri, method, p);
	strv_free(ids, nids);
	free(account_uri);
	return rc;
}
/* --- CAA: end --- */

/* The CAA check of a challenge, a task (task.c) run while the challenge
 * is validated: the lookups of both are in flight together, and a
 * validation takes as long as the longer, not as both. */
struct caa_run {
	struct task		 t;
	struct worker		*w;
	const struct chall_job	*j;
	struct problem		 p;
	int			 ok;
};

static void
caa_run(void *arg)
{
	struct caa_run *c = arg;

	c->ok = worker_caa(c->w, c->j->identifier, c->j->wildcard,
	    c->j->account_id, c->j->type, &c->p);
}

int
job_challenge(struct worker *w)
{
	struct chall_job j;
	struct caa_run caa;
	struct problem p;
	json_object *pj = NULL;
	char *key_auth = NULL;
	int claimed, ok = 0, rc, checking = 0;

	memset(&p, 0, sizeof(p));
	claimed = jobs_claim_challenge(&w->db, cfg_int(CFG_LEASE_SECONDS), &j);
	if (claimed <= 0)
		return claimed;
	log_set_reqid(j.id);
	key_auth = xasprintf("%s.%s", j.token, j.thumbprint);
	if (j.attempts <= CHALLENGE_MAX_ATTEMPTS &&
	    (strcmp(j.type, "http-01") == 0 || strcmp(j.type, "dns-01") == 0)) {
		/* CAA, looked up while control is proven: a refusal
		 * invalidates a challenge that passed */
		memset(&caa, 0, sizeof(caa));
		caa.w = w;
		caa.j = &j;
		task_start(&caa.t, caa_run, &caa);
		checking = 1;
	}
	if (j.attempts > CHALLENGE_MAX_ATTEMPTS)
		problem_set(&p, PT_SERVER_INTERNAL, "validation of %s was "
		    "interrupted too often", j.identifier);
	else if (strcmp(j.type, "http-01") == 0)
		ok = http01_validate(&w->resolver, j.identifier,
		    (int)cfg_int(CFG_HTTP01_PORT), j.token, key_auth,
		    (int)cfg_int(CFG_VALIDATION_TIMEOUT), &p);
	else if (strcmp(j.type, "dns-01") == 0)
		ok = dns01_validate(&w->resolver, j.identifier, key_auth, &p);
	else
		problem_set(&p, PT_SERVER_INTERNAL, "unknown challenge type");
	if (checking) {
		task_wait(&caa.t);
		if (!caa.ok && ok == 1) {
			problem_clear(&p);
			p = caa.p;
			memset(&caa.p, 0, sizeof(caa.p));
			ok = 0;
		}
		problem_clear(&caa.p);
	}
	if (!ok) {
		pj = problem_json(&p);
		msg_info("%s %s for %s: invalid: %s", j.type, j.id,
		    j.identifier, p.detail);
	} else
		msg_info("%s %s for %s: valid", j.type, j.id, j.identifier);
	rc = jobs_finish_challenge(&w->db, j.id, ok,
	    pj != NULL ? json_compact(pj) : NULL);
	if (rc == 0)
		msg_warn("challenge %s was decided meanwhile", j.id);
	json_object_put(pj);
	problem_clear(&p);
	free(key_auth);
	chall_job_free(&j);
	log_set_reqid(NULL);
	return rc < 0 ? -1 : 1;
}
