/*
 * issue.c - the issuance job: claim a processing order under a lease,
 * sign its certificate with the reserved serial, then store it and mark
 * the order valid in one transaction. A retry after a crash reuses the
 * serial, and UNIQUE (order_id) forbids a second certificate.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme-worker.h"
#include "config.h"
#include "jobs.h"
#include "jsonutil.h"
#include "util.h"

#define ISSUE_MAX_ATTEMPTS	5
#define BACKDATE		60	/* seconds of clock skew tolerated */

static int
hex_decode(const char *hex, unsigned char *out, size_t max, size_t *len)
{
	size_t n = strlen(hex) / 2, i;
	unsigned int b;
	char pair[3] = { 0, 0, 0 };

	if (strlen(hex) % 2 != 0 || n == 0 || n > max)
		return 0;
	for (i = 0; i < n; i++) {
		pair[0] = hex[2 * i];
		pair[1] = hex[2 * i + 1];
		if (sscanf(pair, "%2x", &b) != 1)
			return 0;
		out[i] = (unsigned char)b;
	}
	*len = n;
	return 1;
}

/* --- fault points (tests/integration/test_faults.py): begin --- */
/*
 * Dies by SIGKILL, as a crash or an operator's kill -9 would, when the
 * ACME_WORKER_FAULT environment variable (the worker's fault seam) is
 * "kill-" followed by step: after-claim, after-serial, after-sign or
 * before-commit. The order and its reserved serial are logged first so
 * that the tests can check that a signed certificate is never lost.
 */
static void
fault_point(const char *step, const struct issue_job *j)
{
	const char *f = getenv("ACME_WORKER_FAULT");

	if (f == NULL || strncmp(f, "kill-", 5) != 0 ||
	    strcmp(f + 5, step) != 0)
		return;
	msg_warn("ACME_WORKER_FAULT=%s: raising SIGKILL %s (order %s, "
	    "serial %s)", f, step, j->order_id, j->serial != NULL ?
	    j->serial : "none");
	raise(SIGKILL);
}
/* --- fault points: end --- */

/* Returns 1 if the profile puts this field in the subject. */
static int
field(const struct issue_job *j, const char *name)
{
	size_t i;

	for (i = 0; i < j->nsubject_fields; i++)
		if (strcmp(j->subject_fields[i], name) == 0)
			return 1;
	return 0;
}

static void
fail(struct worker *w, const struct issue_job *j, enum pcode code,
    const char *why)
{
	struct problem p;
	json_object *pj;

	memset(&p, 0, sizeof(p));
	problem_code(&p, code, "%s", why);
	pj = problem_json(&p);
	msg_warn("order %s: %s", j->order_id, p.detail);
	if (!jobs_fail_order(&w->db, j->order_id, json_compact(pj)))
		msg_err("order %s: cannot record the failure", j->order_id);
	json_object_put(pj);
	problem_clear(&p);
}

/* Checks CAA again for the names validated more than 7 hours ago
 * (Baseline Requirements 3.2.2.8); returns 1, or 0 after failing the
 * order with INVALID_DNSCAA. */
static int
caa_recheck(struct worker *w, const struct issue_job *j)
{
	struct problem p;
	const char *name;
	size_t i;
	int wild, ok = 1;

	for (i = 0; i < j->ncaa && ok; i++) {
		memset(&p, 0, sizeof(p));
		name = j->caa_names[i];
		wild = strncmp(name, "*.", 2) == 0;
		ok = worker_caa(w, wild ? name + 2 : name, wild, j->account_id,
		    i < j->ncaa_methods ? j->caa_methods[i] : NULL, &p);
		if (!ok)
			fail(w, j, PC_INVALID_DNSCAA, strncmp(p.detail,
			    "INVALID_DNSCAA: ", 16) == 0 ? p.detail + 16 :
			    p.detail);
		problem_clear(&p);
	}
	return ok;
}

int
job_issue(struct worker *w)
{
	struct issue_job j;
	struct issue_params ip;
	unsigned char serial[20], *der = NULL;
	size_t serial_len = 0, der_len = 0;
	char *candidate = NULL, *pem = NULL, *chain = NULL, *cert_id = NULL;
	time_t now = time(NULL);
	long days;
	struct ocsp_first ocsp;
	int claimed, stored, has_ocsp = 0, rc = 1;

	candidate = serial_new_hex();
	claimed = jobs_claim_order(&w->db, cfg_int(CFG_LEASE_SECONDS),
	    candidate, &j);
	free(candidate);
	if (claimed <= 0)
		return claimed;
	log_set_reqid(j.order_id);
	fault_point("after-claim", &j);
	if (j.attempts > ISSUE_MAX_ATTEMPTS) {
		fail(w, &j, PC_ACME_CA_ERROR, "issuance was interrupted too "
		    "often");
		goto out;
	}
	if (j.policy_problem != NULL) {
		/* Everything is checked again: statuses, domains, credit. */
		fail(w, &j, pcode_lookup(j.policy_problem),
		    "the order is no longer allowed");
		goto out;
	}
	if (!caa_recheck(w, &j))
		goto out;
	if (!w->ca_loaded) {
		msg_err("no CA loaded: order %s waits", j.order_id);
		rc = 0;
		goto out;
	}
	if (w->fault_request || j.csr == NULL || j.nnames == 0 ||
	    !hex_decode(j.serial, serial, sizeof(serial), &serial_len)) {
		fail(w, &j, PC_ACME_ORDER_FINALIZE_ERROR,
		    "the order's request is unreadable");
		goto out;
	}
	fault_point("after-serial", &j);
	memset(&ip, 0, sizeof(ip));
	ip.csr_der = j.csr;
	ip.csr_len = j.csr_len;
	ip.names = (const char *const *)j.names;
	ip.nnames = j.nnames;
	ip.subject.organization = field(&j, "O") ? j.org_name : NULL;
	ip.subject.country = field(&j, "C") ? j.org_country : NULL;
	ip.subject.locality = field(&j, "L") ? j.org_locality : NULL;
	ip.subject.state = field(&j, "ST") ? j.org_state : NULL;
	ip.serial = serial;
	ip.serial_len = serial_len;
	/* the database's clock, shared by every host, dates the
	 * certificate: a worker whose clock is off does not */
	if (j.db_now > 0)
		now = (time_t)j.db_now;
	ip.not_before = now - BACKDATE;
	days = cfg_int(CFG_CERT_VALIDITY_DAYS);
	if (j.validity_days > 0 && j.validity_days < days)
		days = j.validity_days;
	ip.not_after = ip.not_before + days * 86400 - 1;
	ip.ocsp_url = *cfg_str(CFG_OCSP_URL) ? cfg_str(CFG_OCSP_URL) : NULL;
	ip.ca_issuers_url = *cfg_str(CFG_CA_ISSUERS_URL) ?
	    cfg_str(CFG_CA_ISSUERS_URL) : NULL;
	ip.crl_url = *cfg_str(CFG_CRL_URL) ? cfg_str(CFG_CRL_URL) : NULL;
	if (w->fault_ca || !ca_issue(&w->ca, &ip, &pem, &der, &der_len)) {
		fail(w, &j, PC_ACME_CA_ERROR, "the CA could not sign the "
		    "certificate");
		goto out;
	}
	fault_point("after-sign", &j);
	chain = xasprintf("%s%s", pem, w->ca.chain_pem);
	cert_id = random_id();
	fault_point("before-commit", &j);
	/* its first OCSP response, stored with it */
	has_ocsp = ocsp_sign_issued(w, j.serial, der, der_len, &ocsp);
	stored = jobs_store_certificate(&w->db, j.order_id, cert_id, j.serial,
	    (long)ip.not_before, (long)ip.not_after, der, der_len, chain,
	    has_ocsp ? &ocsp : NULL);
	if (stored < 0)
		rc = -1;
	else if (stored == 2)
		fail(w, &j, PC_OUT_OF_CREDIT, "the organization has no credit "
		    "left for this certificate");
	else if (stored == 0)
		msg_warn("order %s was no longer processing: certificate "
		    "discarded", j.order_id);
	else {
		msg_info("order %s: issued certificate %s serial %s",
		    j.order_id, cert_id, j.serial);
		if (has_ocsp)
			msg_info("OCSP: signed 1 response, of the certificate "
			    "just issued (%s)", j.serial);
		/* without it, through the claim of what is due */
		else if (job_ocsp(w) < 0)
			rc = -1;
	}
out:
	if (has_ocsp)
		free(ocsp.der);
	free(cert_id);
	free(chain);
	free(pem);
	free(der);
	issue_job_free(&j);
	log_set_reqid(NULL);
	return rc;
}
