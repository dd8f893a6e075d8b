/*
 * weakkey.c - public keys known to be weak whatever their size.
 *
 * ROCA (Nemec et al., "The Return of Coppersmith's Attack", CCS 2017):
 * Infineon's RSALib made primes p = k * M + (65537^a mod M), M the
 * product of the first small primes (at least the 39 primes up to 167
 * for every key size). The modulus then lies, modulo each of those
 * primes r, in the subgroup that 65537 generates in (Z/rZ)*. A random
 * modulus does so with probability about 2^-28 over the 38 odd primes
 * up to 167; a modulus of the family always does.
 *
 * Debian's predictable keys (CVE-2008-0166) are not checked: their
 * blocklists (openssl-blacklist) are no longer packaged.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "util.h"
#include "weakkey.h"

#define ROCA_GENERATOR	65537UL

/* The odd primes up to 167. */
static const unsigned int roca_primes[] = {
	3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61,
	67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131, 137,
	139, 149, 151, 157, 163, 167,
};

/* Returns 1 if x is a power of ROCA_GENERATOR modulo the prime r. */
static int
roca_in_subgroup(unsigned long x, unsigned int r)
{
	unsigned long g = ROCA_GENERATOR % r, y = 1;
	unsigned int i;

	for (i = 0; i < r; i++) {
		if (y == x)
			return 1;
		y = y * g % r;
		if (y == 1)
			break;
	}
	return 0;
}

int
weakkey_roca(const unsigned char *n, size_t len)
{
	unsigned long rem;
	size_t i, j;

	if (len == 0)
		return 0;
	for (j = 0; j < sizeof(roca_primes) / sizeof(roca_primes[0]); j++) {
		rem = 0;
		for (i = 0; i < len; i++)
			rem = (rem * 256 + n[i]) % roca_primes[j];
		if (!roca_in_subgroup(rem, roca_primes[j]))
			return 0;
	}
	return 1;
}

const char *
weakkey_check(EVP_PKEY *pkey)
{
	BIGNUM *n = NULL;
	unsigned char *buf = NULL;
	const char *why = NULL;
	int len;

	if (pkey == NULL || EVP_PKEY_is_a(pkey, "RSA") != 1)
		return NULL;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    (len = BN_num_bytes(n)) <= 0) {
		ERR_clear_error();
		goto out;
	}
	buf = xmalloc((size_t)len);
	if (BN_bn2bin(n, buf) == len && weakkey_roca(buf, (size_t)len))
		why = "its modulus has the ROCA fingerprint (CVE-2017-15361): "
		    "its private key can be computed; generate a new key "
		    "with other software";
out:
	free(buf);
	BN_free(n);
	return why;
}
