/*
 * cert.c - certificate download (RFC 8555 section 7.4.2): leaf and
 * intermediate as application/pem-certificate-chain.
 */
#include <stdlib.h>

#include "acme-fcgi.h"
#include "util.h"

/* What the certificate's query found. */
struct cert_found {
	long	 owner;		/* 0: no such certificate */
	char	*pem;		/* owned; the chain, when it is the account's */
};

static int
cert_work(struct req *r, void *arg)
{
	struct cert_found *cf = arg;

	free(cf->pem);
	return store_auth_cert(r->db, &r->auth, &r->acct, r->id, &cf->owner,
	    &cf->pem);
}

int
h_cert(struct req *r)
{
	struct cert_found cf = { 0, NULL };
	int rc = 0;

	if (r->payload != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "a certificate is read "
		    "with POST-as-GET (empty payload)");
		goto out;
	}
	if (!auth_with(r, cert_work, &cf, PC_ACME_OTHER_ERROR,
	    "cannot read the certificate"))
		goto out;
	if (cf.owner == 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		goto out;
	}
	if (!owner_check(r, cf.owner, "certificate") || cf.pem == NULL)
		goto out;
	r->raw = cf.pem;
	cf.pem = NULL;
	r->ctype = "application/pem-certificate-chain";
	r->status = 200;
	rc = 1;
out:
	free(cf.pem);
	return rc;
}
