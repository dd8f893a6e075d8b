/*
 * certfiles.h - what the unit tests that make a CA on disk share
 * (test_x509, test_ocsp, test_ca_keys): reading its certificates back,
 * removing its directory, verifying its chain, and reading and verifying
 * its OCSP responses.
 */
#ifndef ACME_TEST_CERTFILES_H
#define ACME_TEST_CERTFILES_H

#include <stddef.h>

#include <openssl/ocsp.h>
#include <openssl/x509.h>

/* Returns the certificate of the PEM file dir/name (caller frees); fails
 * the test when there is none. */
X509	*cert_read(const char *dir, const char *name);
/* Removes dir and everything below it; returns 0 or -1. */
int	 rm_tree(const char *dir);
/* Returns the basic response (caller frees) of the OCSP response der,
 * whose status must be successful and which must fill the buffer; fails
 * the test otherwise. */
OCSP_BASICRESP *resp_basic(const unsigned char *der, size_t len);
/* Returns OCSP_basic_verify's result for bs against root (the trust
 * anchor) with intermediate as an untrusted certificate. */
int	 resp_verify_chain(OCSP_BASICRESP *bs, X509 *root,
	    X509 *intermediate);
/* Returns X509_verify_cert's result for x up to root, with intermediate
 * as an untrusted certificate; with host, as a TLS server for host. */
int	 cert_verify_chain(X509 *x, X509 *root, X509 *intermediate,
	    const char *host);

#endif
