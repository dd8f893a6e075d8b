/*
 * test_hostile_keys.c - keys known to be weak whatever their size
 * (common/weakkey.c): an RSA modulus of the ROCA family (CVE-2017-15361)
 * is refused as an account key (jwk_parse) and as a certificate key
 * (csr_check), and ordinary keys are not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "jose.h"
#include "jsonutil.h"
#include "problem.h"
#include "util.h"
#include "weakkey.h"

/* A 2048-bit modulus made of two primes k * M + (65537^a mod M), M the
 * product of the primes up to 167 (made once with Python, as
 * tests/integration/test_hostile.py roca_key does). */
static const char roca_hex[] =
	    "a2a3fa11684dfa2e26f2f3c66b09b33a6aa873e34d33c8099fee3ec466b9b145"
	    "bfe0f12f7181359e187f35c191a17938bbfe8ca5df309f2725292ee58d338c4e"
	    "4743eaa279b30eb81a83b281ddf361f2dad2b9a094b746cd53e9c8781954e172"
	    "3d6e6525069347c8655e812fb646eaceac47ba6b67f078592fbfb255d8200083"
	    "2bf9b6585f7ac531e1ad678b4e33d8a3906a55ea475b6f026ce7252f7de0c6e8"
	    "2ad29225118b0c3eec486b14f88f045fcb4e91483f95580ad87f7f5f7783055c"
	    "bf5759708a853469ce9efb785a34dcd19767cddda5fbf67b4bcc9683318009db"
	    "11e458ad5e317b835edb87ad9edb45a53c2309139c940c3663030479c4730dd3";

/* Returns the bytes of a hex string (caller frees). */
static unsigned char *
unhex(const char *hex, size_t *len)
{
	BIGNUM *bn = NULL;
	unsigned char *buf;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	*len = (size_t)BN_num_bytes(bn);
	buf = xmalloc(*len);
	BN_bn2bin(bn, buf);
	BN_free(bn);
	return buf;
}

static void
test_roca_modulus(void **state)
{
	unsigned char *n;
	size_t len;

	(void)state;
	n = unhex(roca_hex, &len);
	assert_int_equal(len, 256);
	assert_int_equal(weakkey_roca(n, len), 1);
	/* a neighbour of it is an ordinary number */
	n[len - 1] ^= 0x02;
	assert_int_equal(weakkey_roca(n, len), 0);
	assert_int_equal(weakkey_roca(n, 0), 0);
	free(n);
}

static void
test_roca_account_key(void **state)
{
	struct jwk key;
	struct problem p;
	json_object *o;
	unsigned char *n;
	char *n64, *text;
	size_t len;

	(void)state;
	memset(&p, 0, sizeof(p));
	n = unhex(roca_hex, &len);
	n64 = b64u_encode(n, len);
	text = xasprintf("{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"%s\"}", n64);
	o = json_parse_strict(text, strlen(text));
	assert_non_null(o);
	assert_int_equal(jwk_parse(o, &key, &p), 0);
	assert_int_equal(p.type, PT_BAD_PUBLIC_KEY);
	assert_non_null(strstr(p.detail, "ROCA"));
	problem_clear(&p);
	json_object_put(o);
	free(text);
	free(n64);
	free(n);
}

/* Ordinary keys are not flagged (a false positive is about 2^-28). */
static void
test_ordinary_keys(void **state)
{
	EVP_PKEY *pk;
	int i;

	(void)state;
	for (i = 0; i < 8; i++) {
		pk = EVP_RSA_gen(2048);
		assert_non_null(pk);
		assert_null(weakkey_check(pk));
		EVP_PKEY_free(pk);
	}
	pk = EVP_EC_gen("P-256");
	assert_null(weakkey_check(pk));
	EVP_PKEY_free(pk);
	assert_null(weakkey_check(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roca_modulus),
		cmocka_unit_test(test_roca_account_key),
		cmocka_unit_test(test_ordinary_keys),
	};

	log_init("test_hostile_keys", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
