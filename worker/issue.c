/*
 * issue.c - the issuance job: claim a processing order under a lease,
 * sign its certificate with the reserved serial, then store it and mark
 * the order valid in one transaction. A retry after a crash reuses the
 * serial, and UNIQUE (order_id) forbids a second certificate.
 */
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

int
job_issue(struct worker *w)
{
	struct issue_job j;
	struct issue_params ip;
	unsigned char serial[20], *der = NULL;
	size_t serial_len = 0, der_len = 0;
	char *candidate = NULL, *pem = NULL, *chain = NULL, *cert_id = NULL;
	time_t now = time(NULL);
	int claimed, stored, rc = 1;

	candidate = serial_new_hex();
	claimed = jobs_claim_order(&w->db, cfg_int(CFG_LEASE_SECONDS),
	    candidate, &j);
	free(candidate);
	if (claimed <= 0)
		return claimed;
	log_set_reqid(j.order_id);
	if (j.attempts > ISSUE_MAX_ATTEMPTS) {
		fail(w, &j, PC_ACME_CA_ERROR, "issuance was interrupted too "
		    "often");
		goto out;
	}
	if (!w->ca_loaded) {
		msg_err("no CA loaded: order %s waits", j.order_id);
		rc = 0;
		goto out;
	}
	if (j.csr == NULL || j.nnames == 0 ||
	    !hex_decode(j.serial, serial, sizeof(serial), &serial_len)) {
		fail(w, &j, PC_ACME_ORDER_FINALIZE_ERROR,
		    "the order's request is unreadable");
		goto out;
	}
	memset(&ip, 0, sizeof(ip));
	ip.csr_der = j.csr;
	ip.csr_len = j.csr_len;
	ip.names = (const char *const *)j.names;
	ip.nnames = j.nnames;
	ip.subject.organization = j.org_name;
	ip.subject.country = j.org_country;
	ip.subject.locality = j.org_locality;
	ip.subject.state = j.org_state;
	ip.serial = serial;
	ip.serial_len = serial_len;
	ip.not_before = now - BACKDATE;
	ip.not_after = ip.not_before +
	    cfg_int(CFG_CERT_VALIDITY_DAYS) * 86400 - 1;
	ip.ocsp_url = *cfg_str(CFG_OCSP_URL) ? cfg_str(CFG_OCSP_URL) : NULL;
	ip.ca_issuers_url = *cfg_str(CFG_CA_ISSUERS_URL) ?
	    cfg_str(CFG_CA_ISSUERS_URL) : NULL;
	ip.crl_url = *cfg_str(CFG_CRL_URL) ? cfg_str(CFG_CRL_URL) : NULL;
	if (!ca_issue(&w->ca, &ip, &pem, &der, &der_len)) {
		fail(w, &j, PC_ACME_CA_ERROR, "the CA could not sign the "
		    "certificate");
		goto out;
	}
	chain = xasprintf("%s%s", pem, w->ca.chain_pem);
	cert_id = random_id();
	stored = jobs_store_certificate(&w->db, j.order_id, cert_id, j.serial,
	    (long)ip.not_before, (long)ip.not_after, der, der_len, chain);
	if (stored < 0)
		rc = -1;
	else if (stored == 0)
		msg_warn("order %s was no longer processing: certificate "
		    "discarded", j.order_id);
	else
		msg_info("order %s: issued certificate %s serial %s",
		    j.order_id, cert_id, j.serial);
out:
	free(cert_id);
	free(chain);
	free(pem);
	free(der);
	issue_job_free(&j);
	log_set_reqid(NULL);
	return rc;
}
