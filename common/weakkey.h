/*
 * weakkey.h - public keys known to be weak whatever their size, refused
 * as account keys (jwk.c) and as certificate keys (csr.c), as the
 * Baseline Requirements (section 6.1.1.3) ask.
 */
#ifndef ACME_WEAKKEY_H
#define ACME_WEAKKEY_H

#include <stddef.h>
#include <openssl/evp.h>

/* Returns 1 if the big-endian RSA modulus n (len bytes) has the ROCA
 * fingerprint (CVE-2017-15361: primes made by Infineon's RSALib, whose
 * factors anyone can compute), else 0. */
int	 weakkey_roca(const unsigned char *n, size_t len);
/* Returns a static reason if pkey is a known weak key (an RSA key with
 * the ROCA fingerprint), else NULL. */
const char *weakkey_check(EVP_PKEY *pkey);

#endif
