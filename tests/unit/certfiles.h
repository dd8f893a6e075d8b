/*
 * certfiles.h - what the unit tests that make a CA on disk share
 * (test_x509, test_ocsp, test_ca_keys): reading its certificates back,
 * and removing its directory.
 */
#ifndef ACME_TEST_CERTFILES_H
#define ACME_TEST_CERTFILES_H

#include <openssl/x509.h>

/* Returns the certificate of the PEM file dir/name (caller frees); fails
 * the test when there is none. */
X509	*cert_read(const char *dir, const char *name);
/* Removes dir and everything below it; returns 0 or -1. */
int	 rm_tree(const char *dir);

#endif
