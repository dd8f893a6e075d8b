/*
 * passwd.c - scrypt password hashes (RFC 7914) through OpenSSL's EVP_KDF.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "jose.h"
#include "passwd.h"
#include "util.h"

#define SALT_LEN	16
#define HASH_LEN	32
#define LOGN_MIN	10
#define LOGN_MAX	20
#define R_MAX		32
#define P_MAX		16

/* Derives len bytes of scrypt; returns 1 or 0 (logged). */
static int
scrypt(const char *password, const unsigned char *salt, size_t saltlen,
    int log_n, unsigned r, unsigned p, unsigned char *out, size_t len)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *ctx = NULL;
	OSSL_PARAM params[7], *q = params;
	uint64_t n = (uint64_t)1 << log_n;
	/* the KDF's own bound: V (128 r N) plus B (128 r p), with room */
	uint64_t maxmem = 128 * (uint64_t)r * (n + p + 2) + (1 << 20);
	uint32_t r32 = r, p32 = p;
	int rc = 0;

	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)(uintptr_t)password, strlen(password));
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)(uintptr_t)salt, saltlen);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
	    &maxmem);
	*q = OSSL_PARAM_construct_end();
	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL ||
	    (ctx = EVP_KDF_CTX_new(kdf)) == NULL ||
	    EVP_KDF_derive(ctx, out, len, params) != 1) {
		ossl_log_errors("scrypt");
		goto out;
	}
	rc = 1;
out:
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return rc;
}

char *
passwd_hash(const char *password, int log_n)
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char *s = NULL, *h = NULL, *out = NULL;

	if (password == NULL || log_n < LOGN_MIN || log_n > LOGN_MAX)
		return NULL;
	rand_bytes(salt, sizeof(salt));
	if (!scrypt(password, salt, sizeof(salt), log_n, 8, 1, hash,
	    sizeof(hash)))
		goto out;
	s = b64u_encode(salt, sizeof(salt));
	h = b64u_encode(hash, sizeof(hash));
	out = xasprintf("scrypt$%d$8$1$%s$%s", log_n, s, h);
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	free(s);
	free(h);
	return out;
}

/* Parses a decimal number in [min, max] without sign nor leading zero,
 * ending at '$'; advances *s past the '$'. Returns 1 or 0. */
static int
field_num(const char **s, long min, long max, long *v)
{
	const char *p = *s;
	long n = 0;

	if (*p < '1' || *p > '9')
		return 0;
	while (*p >= '0' && *p <= '9') {
		n = n * 10 + (*p - '0');
		if (n > max)
			return 0;
		p++;
	}
	if (*p != '$' || n < min)
		return 0;
	*v = n;
	*s = p + 1;
	return 1;
}

int
passwd_verify(const char *password, const char *stored)
{
	const char *s = stored, *dollar;
	char *salt64 = NULL;
	unsigned char *salt = NULL, *want = NULL, *got = NULL;
	size_t saltlen = 0, wantlen = 0;
	long logn, r, p;
	int rc = 0;

	if (password == NULL || stored == NULL ||
	    strncmp(s, "scrypt$", 7) != 0)
		return 0;
	s += 7;
	if (!field_num(&s, LOGN_MIN, LOGN_MAX, &logn) ||
	    !field_num(&s, 1, R_MAX, &r) || !field_num(&s, 1, P_MAX, &p) ||
	    (dollar = strchr(s, '$')) == NULL)
		return 0;
	salt64 = xstrndup(s, (size_t)(dollar - s));
	if (!b64u_decode(salt64, &salt, &saltlen) || saltlen < 8 ||
	    saltlen > 64 ||
	    !b64u_decode(dollar + 1, &want, &wantlen) || wantlen < 16 ||
	    wantlen > 64)
		goto out;
	got = xmalloc(wantlen);
	if (!scrypt(password, salt, saltlen, (int)logn, (unsigned)r,
	    (unsigned)p, got, wantlen))
		goto out;
	rc = CRYPTO_memcmp(got, want, wantlen) == 0;
out:
	if (got != NULL)
		OPENSSL_cleanse(got, wantlen);
	free(got);
	free(want);
	free(salt);
	free(salt64);
	return rc;
}

int
passwd_acceptable(const char *password)
{
	const unsigned char *s = (const unsigned char *)password;
	size_t bytes, chars = 0, i, k, need;

	if (password == NULL || (bytes = strlen(password)) > PASSWD_MAX_BYTES)
		return 0;
	for (i = 0; i < bytes; i += need + 1) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;	/* control characters */
		if (s[i] < 0x80)
			need = 0;
		else if (s[i] >= 0xc2 && s[i] <= 0xdf)
			need = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			need = 2;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			need = 3;
		else
			return 0;
		if (bytes - i < need + 1)
			return 0;
		for (k = 1; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		chars++;
	}
	return chars >= PASSWD_MIN_CHARS;
}
