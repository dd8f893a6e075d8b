/*
 * crl.c - the intermediate's CRL (RFC 5280), as the worker last signed
 * it: GET /acme/crl, application/pkix-crl (DER).
 */
#include <stdlib.h>

#include "acme-fcgi.h"
#include "revstatus.h"
#include "util.h"

/* HTTP caches keep the CRL at most this long (never past its
 * nextUpdate): a new one follows each revocation. */
#define CRL_MAX_AGE	600

int
h_crl(struct req *r)
{
	unsigned char *der = NULL;
	size_t len = 0;
	long max_age = 0;
	int found;

	found = revstatus_crl_latest(r->db, &der, &len, &max_age);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the CRL");
		return 0;
	}
	if (found == 0) {
		problem_set(&r->prob, PT_NOT_FOUND,
		    "no CRL has been published yet");
		return 0;
	}
	r->raw = (char *)der;
	r->rawlen = len;
	r->ctype = "application/pkix-crl";
	if (max_age > 0)
		r->cache_control = xasprintf("public, no-transform, "
		    "max-age=%ld", max_age < CRL_MAX_AGE ? max_age :
		    CRL_MAX_AGE);
	r->status = 200;
	return 1;
}
