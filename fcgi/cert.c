/*
 * cert.c - certificate download (RFC 8555 section 7.4.2): leaf and
 * intermediate as application/pem-certificate-chain.
 */
#include <stdlib.h>

#include "acme-fcgi.h"
#include "util.h"

int
h_cert(struct req *r)
{
	long owner = 0;
	char *pem = NULL;
	int found;

	if (r->payload != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "a certificate is read "
		    "with POST-as-GET (empty payload)");
		return 0;
	}
	found = store_cert_get(r->db, r->id, &owner, &pem);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the certificate");
		return 0;
	}
	if (found == 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		return 0;
	}
	if (!owner_check(r, owner, "certificate")) {
		free(pem);
		return 0;
	}
	r->raw = pem;
	r->ctype = "application/pem-certificate-chain";
	r->status = 200;
	return 1;
}
