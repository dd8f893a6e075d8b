/*
 * test_jose.c - base64url, JWK and flattened JWS: RFC vectors (RFC 4648
 * section 10, RFC 7515 appendix A.1 to A.3, RFC 7638 section 3.1), keys
 * generated here and signed here, and every refusal class.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/err.h>

#include "jose.h"
#include "jsonutil.h"
#include "problem.h"
#include "util.h"

/* Records a failure with a "got X, want Y" message and goes on, so that
 * one run shows every failing row of a table. */
#define EXPECT(cond, ...) do {						\
	if (!(cond)) {							\
		print_error(__VA_ARGS__);				\
		print_error("\n");					\
		failures++;						\
	}								\
} while (0)

/* RFC 7638 section 3.1 (also RFC 7517 appendix A.1) */
#define N7638 "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbf" \
	"AAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknj" \
	"hMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65" \
	"YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQ" \
	"vRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lF" \
	"d2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzK" \
	"nqDKgw"
#define TP7638 "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

/* RFC 7515 appendix A: the payload shared by A.1 to A.3 */
#define A_PAYLOAD "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6" \
	"Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
/* A.1 HS256 */
#define A1_PROT "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
#define A1_SIG "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
#define A1_KEY "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3" \
	"Yj0iPS4hcgUuTwjAzZr1Z9CAow"
/* A.2 RS256 */
#define A2_PROT "eyJhbGciOiJSUzI1NiJ9"
#define A2_N "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmf" \
	"HQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOW" \
	"vG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9" \
	"e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_" \
	"I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb" \
	"54h4FRWyuXpoQ"
#define A2_SIG "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5R" \
	"Zmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4" \
	"BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0Gar" \
	"ZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnv" \
	"Wh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_Ioyp" \
	"GlUPQGe77Rw"
/* A.3 ES256 */
#define A3_PROT "eyJhbGciOiJFUzI1NiJ9"
#define A3_X "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
#define A3_Y "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
#define A3_D "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"
#define A3_SIG "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8I" \
	"SlSApmWQxfKTUJqPP3-Kg6NU1Q"

static EVP_PKEY *key_rsa, *key_p256, *key_p384;

/* Returns the short name of a problem type for messages (static). */
static const char *
tname(enum ptype t)
{
	const char *u;

	if (t == PT_NONE)
		return "none";
	u = ptype_urn(t);
	return strrchr(u, ':') + 1;
}

/* Returns base64url of a string; caller frees. */
static char *
b64s(const char *s)
{
	return b64u_encode((const unsigned char *)s, strlen(s));
}

/* Returns a copy of tmpl with every "$P" replaced by value; caller frees. */
static char *
subst(const char *tmpl, const char *value)
{
	size_t n = strlen(tmpl) + 1, vlen = strlen(value);
	const char *t;
	char *out, *o;

	for (t = tmpl; (t = strstr(t, "$P")) != NULL; t += 2)
		n += vlen;
	out = o = xmalloc(n);
	for (t = tmpl; *t != '\0';) {
		if (t[0] == '$' && t[1] == 'P') {
			memcpy(o, value, vlen);
			o += vlen;
			t += 2;
		} else
			*o++ = *t++;
	}
	*o = '\0';
	return out;
}

/* Returns the flattened JSON body of three encoded parts; caller frees. */
static char *
flat_body(const char *prot, const char *payload, const char *sig)
{
	json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "protected", json_object_new_string(prot));
	json_object_object_add(o, "payload", json_object_new_string(payload));
	json_object_object_add(o, "signature", json_object_new_string(sig));
	s = xstrdup(json_compact(o));
	json_object_put(o);
	return s;
}

struct parts {
	char	*prot;		/* base64url */
	char	*payload;	/* base64url */
	char	*sig;		/* base64url */
};

static void
parts_free(struct parts *pt)
{
	free(pt->prot);
	free(pt->payload);
	free(pt->sig);
	memset(pt, 0, sizeof(*pt));
}

/* Returns a new protected header (caller owns it); jwk is copied. */
static json_object *
make_header(const char *alg, const struct jwk *jwk, const char *kid,
    const char *nonce, const char *url)
{
	json_object *h = json_object_new_object();

	json_object_object_add(h, "alg", json_object_new_string(alg));
	if (jwk != NULL)
		json_object_object_add(h, "jwk", json_object_get(jwk->canon));
	if (kid != NULL)
		json_object_object_add(h, "kid", json_object_new_string(kid));
	if (nonce != NULL)
		json_object_object_add(h, "nonce",
		    json_object_new_string(nonce));
	if (url != NULL)
		json_object_object_add(h, "url", json_object_new_string(url));
	return h;
}

/*
 * Signs hdr.payload with key as a client does: RSASSA-PKCS1-v1_5 or
 * ECDSA with the digest the header's alg names; ECDSA signatures in the
 * JOSE r||s form unless keep_der. Fills pt.
 */
static void
sign_parts(EVP_PKEY *key, json_object *hdr, const char *payload,
    int keep_der, struct parts *pt)
{
	const char *alg = json_get_str(hdr, "alg");
	const char *md = strcmp(alg, "ES384") == 0 ? "SHA384" : "SHA256";
	EVP_MD_CTX *ctx;
	unsigned char *sig, *jose;
	size_t siglen, jlen;
	char *input;

	pt->prot = b64s(json_compact(hdr));
	pt->payload = b64s(payload);
	input = xasprintf("%s.%s", pt->prot, pt->payload);
	assert_non_null(ctx = EVP_MD_CTX_new());
	assert_int_equal(EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL,
	    key, NULL), 1);
	assert_int_equal(EVP_DigestSign(ctx, NULL, &siglen,
	    (unsigned char *)input, strlen(input)), 1);
	sig = xmalloc(siglen);
	assert_int_equal(EVP_DigestSign(ctx, sig, &siglen,
	    (unsigned char *)input, strlen(input)), 1);
	if (EVP_PKEY_is_a(key, "EC") && !keep_der) {
		jose = ecdsa_der_to_jose(sig, siglen,
		    (size_t)(EVP_PKEY_get_bits(key) + 7) / 8, &jlen);
		assert_non_null(jose);
		free(sig);
		sig = jose;
		siglen = jlen;
	}
	pt->sig = b64u_encode(sig, siglen);
	free(sig);
	free(input);
	EVP_MD_CTX_free(ctx);
}

/* Fills jws from the encoded parts of an RFC vector, as jws_parse would
 * (the vectors' headers have no "url", so jws_parse refuses them). */
static void
vector_jws(const char *prot, const char *payload, const char *sig,
    enum jws_alg alg, struct jws *jws)
{
	size_t hlen;
	unsigned char *h;

	memset(jws, 0, sizeof(*jws));
	assert_int_equal(b64u_decode(prot, &h, &hlen), 1);
	assert_non_null(jws->protected = json_parse_strict((char *)h, hlen));
	free(h);
	assert_int_equal(b64u_decode(payload, &jws->payload,
	    &jws->payload_len), 1);
	assert_int_equal(b64u_decode(sig, &jws->sig, &jws->sig_len), 1);
	jws->signing_input = xasprintf("%s.%s", prot, payload);
	jws->alg = alg;
}

/* Parses a JWK from JSON text into k; returns jwk_parse's result. */
static int
jwk_from_text(const char *text, struct jwk *k, struct problem *p)
{
	json_object *o;
	int rc;

	o = json_parse_strict(text, strlen(text));
	rc = jwk_parse(o, k, p);
	json_object_put(o);
	return rc;
}

static int
setup_keys(void **state)
{
	(void)state;
	key_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	key_p256 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key_p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	return key_rsa != NULL && key_p256 != NULL && key_p384 != NULL ?
	    0 : -1;
}

static int
teardown_keys(void **state)
{
	(void)state;
	EVP_PKEY_free(key_rsa);
	EVP_PKEY_free(key_p256);
	EVP_PKEY_free(key_p384);
	return 0;
}

/* base64url */

static void
test_b64u_vectors(void **state)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} t[] = {
		/* RFC 4648 section 10 */
		{ "", 0, "" },
		{ "f", 1, "Zg" },
		{ "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg" },
		{ "fooba", 5, "Zm9vYmE" },
		{ "foobar", 6, "Zm9vYmFy" },
		/* the two characters that differ from base64 */
		{ "\xfb\xff", 2, "-_8" },
		{ "\xff\xff\xff", 3, "____" },
		{ "\x00", 1, "AA" },
		{ "\x00\x00\x00\x00", 4, "AAAAAA" },
	};
	unsigned char *dec;
	size_t i, declen;
	char *enc;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enc = b64u_encode((const unsigned char *)t[i].in, t[i].len);
		EXPECT(strcmp(enc, t[i].out) == 0,
		    "encode row %zu: got \"%s\", want \"%s\"", i, enc, t[i].out);
		free(enc);
		if (!b64u_decode(t[i].out, &dec, &declen)) {
			EXPECT(0, "decode \"%s\": got refusal, want %zu bytes",
			    t[i].out, t[i].len);
			continue;
		}
		EXPECT(declen == t[i].len && memcmp(dec, t[i].in, declen) == 0,
		    "decode \"%s\": got %zu bytes, want %zu", t[i].out, declen,
		    t[i].len);
		EXPECT(dec[declen] == '\0', "decode \"%s\": got no NUL "
		    "terminator, want one", t[i].out);
		free(dec);
	}
	assert_int_equal(failures, 0);
}

static void
test_b64u_roundtrip(void **state)
{
	unsigned char buf[200], *dec;
	size_t len, declen;
	char *enc;
	int failures = 0;

	(void)state;
	for (len = 0; len <= sizeof(buf); len++) {
		rand_bytes(buf, len);
		enc = b64u_encode(buf, len);
		EXPECT(strlen(enc) == (len * 4 + 2) / 3,
		    "length %zu: got %zu characters, want %zu", len,
		    strlen(enc), (len * 4 + 2) / 3);
		EXPECT(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_") == strlen(enc),
		    "length %zu: got \"%s\", want only base64url characters",
		    len, enc);
		if (b64u_decode(enc, &dec, &declen)) {
			EXPECT(declen == len && memcmp(dec, buf, len) == 0,
			    "length %zu: got a different round trip (%zu "
			    "bytes), want the input", len, declen);
			free(dec);
		} else
			EXPECT(0, "length %zu: got refusal of \"%s\", want "
			    "the input back", len, enc);
		free(enc);
	}
	assert_int_equal(failures, 0);
}

static void
test_b64u_refusals(void **state)
{
	static const struct {
		const char	*in;
		const char	*why;
	} t[] = {
		{ "Zg==", "padding" },
		{ "Zm8=", "padding" },
		{ "Zm9v=", "padding" },
		{ "Zm+v", "base64 '+'" },
		{ "Zm/v", "base64 '/'" },
		{ "Zm9 v", "space" },
		{ "Zm9v\n", "newline" },
		{ "Zm9v.", "dot" },
		{ "\xc3\xa9" "AA", "non-ASCII" },
		{ "Z", "length 1 mod 4" },
		{ "Zm9vY", "length 1 mod 4" },
		{ "Zh", "non-zero trailing bits (4)" },
		{ "Zm9", "non-zero trailing bits (2)" },
		{ "AB", "non-zero trailing bits (4)" },
		{ "AAB", "non-zero trailing bits (2)" },
	};
	unsigned char *dec;
	size_t i, declen;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		dec = (unsigned char *)"sentinel";
		if (b64u_decode(t[i].in, &dec, &declen)) {
			EXPECT(0, "\"%s\" (%s): got %zu bytes, want refusal",
			    t[i].in, t[i].why, declen);
			free(dec);
		} else
			EXPECT(dec == NULL, "\"%s\": got *out set on refusal, "
			    "want NULL", t[i].in);
	}
	assert_int_equal(failures, 0);
}

static void
test_sha256_b64u(void **state)
{
	static const struct {
		const char	*in;
		const char	*out;
	} t[] = {
		{ "", "47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU" },
		{ "abc", "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0" },
	};
	size_t i;
	char *s;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = sha256_b64u(t[i].in);
		EXPECT(s != NULL && strcmp(s, t[i].out) == 0,
		    "sha256_b64u(\"%s\"): got %s, want %s", t[i].in,
		    s != NULL ? s : "NULL", t[i].out);
		free(s);
	}
	assert_int_equal(failures, 0);
}

/* JWK */

static void
test_jwk_thumbprint_rfc7638(void **state)
{
	struct problem p = { 0 };
	struct jwk k;
	unsigned char *n, *n0;
	size_t nlen;
	char *n0b64, *text;
	int failures = 0;

	(void)state;
	/* the RFC's JWK carries "alg" and "kid", which do not count */
	assert_int_equal(jwk_from_text("{\"kty\":\"RSA\",\"n\":\"" N7638
	    "\",\"e\":\"AQAB\",\"alg\":\"RS256\",\"kid\":\"2011-04-29\"}",
	    &k, &p), 1);
	EXPECT(strcmp(k.thumbprint, TP7638) == 0, "thumbprint: got %s, "
	    "want %s", k.thumbprint, TP7638);
	EXPECT(k.bits == 2048, "bits: got %d, want 2048", k.bits);
	EXPECT(strcmp(json_compact(k.canon), "{\"e\":\"AQAB\",\"kty\":\"RSA\","
	    "\"n\":\"" N7638 "\"}") == 0, "canon: got %s, want the RFC 7638 "
	    "section 3.1 form", json_compact(k.canon));
	EXPECT(jwk_alg_matches(&k, JWS_ALG_RS256), "RS256 with this key: got "
	    "mismatch, want match");
	jwk_free(&k);

	/* a leading zero octet in n is accepted and dropped */
	assert_int_equal(b64u_decode(N7638, &n, &nlen), 1);
	n0 = xmalloc(nlen + 1);
	n0[0] = 0;
	memcpy(n0 + 1, n, nlen);
	n0b64 = b64u_encode(n0, nlen + 1);
	text = xasprintf("{\"kty\":\"RSA\",\"e\":\"AAEAAQ\",\"n\":\"%s\"}",
	    n0b64);
	if (jwk_from_text(text, &k, &p)) {
		EXPECT(strcmp(k.thumbprint, TP7638) == 0, "leading zeros: "
		    "got thumbprint %s, want %s", k.thumbprint, TP7638);
		jwk_free(&k);
	} else
		EXPECT(0, "leading zeros: got %s (%s), want acceptance",
		    tname(p.type), p.detail);
	free(text);
	free(n0b64);
	free(n0);
	free(n);
	assert_int_equal(failures, 0);
}

/* A JSON text of an RSA JWK whose modulus is nbytes bytes, the first
 * one top and the others 0xff. Caller frees. */
static char *
rsa_jwk_text(size_t nbytes, unsigned char top, const char *e)
{
	unsigned char *n = xmalloc(nbytes);
	char *nb, *s;

	memset(n, 0xff, nbytes);
	n[0] = top;
	nb = b64u_encode(n, nbytes);
	s = xasprintf("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\"}", nb, e);
	free(nb);
	free(n);
	return s;
}

static void
test_jwk_rsa_limits(void **state)
{
	static const struct {
		size_t		 nbytes;
		unsigned char	 top;
		const char	*e;
		enum ptype	 want;
		int		 bits;
	} t[] = {
		{ 256, 0x7f, "AQAB", PT_BAD_PUBLIC_KEY, 2047 },
		{ 256, 0x80, "AQAB", PT_NONE, 2048 },
		{ 384, 0xff, "AQAB", PT_NONE, 3072 },
		{ 512, 0xff, "AQAB", PT_NONE, 4096 },
		{ 513, 0x01, "AQAB", PT_BAD_PUBLIC_KEY, 4097 },
		{ 128, 0xff, "AQAB", PT_BAD_PUBLIC_KEY, 1024 },
		{ 256, 0xff, "Aw", PT_BAD_PUBLIC_KEY, 0 },	/* e = 3 */
		{ 256, 0xff, "AQAA", PT_BAD_PUBLIC_KEY, 0 },	/* even */
		{ 256, 0xff, "AP8", PT_BAD_PUBLIC_KEY, 0 },	/* 255 */
		{ 256, 0xff, "AQAD", PT_NONE, 2048 },		/* 65539 */
		{ 256, 0xff, "AQAAAAAAAAAB", PT_BAD_PUBLIC_KEY, 0 }, /* 9 B */
		{ 256, 0xff, "", PT_BAD_PUBLIC_KEY, 0 },
		{ 256, 0xff, "AQAB==", PT_MALFORMED, 0 },
	};
	struct problem p;
	struct jwk k;
	size_t i;
	char *text;
	int rc, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		text = rsa_jwk_text(t[i].nbytes, t[i].top, t[i].e);
		memset(&p, 0, sizeof(p));
		rc = jwk_from_text(text, &k, &p);
		EXPECT(p.type == t[i].want, "row %zu (%zu bytes, e %s): got "
		    "%s (%s), want %s", i, t[i].nbytes, t[i].e, tname(p.type),
		    p.detail, tname(t[i].want));
		EXPECT(rc == (t[i].want == PT_NONE), "row %zu: got rc %d, "
		    "want %d", i, rc, t[i].want == PT_NONE);
		if (rc)
			EXPECT(k.bits == t[i].bits, "row %zu: got %d bits, "
			    "want %d", i, k.bits, t[i].bits);
		jwk_free(&k);
		free(text);
	}
	assert_int_equal(failures, 0);
}

static void
test_jwk_rsa1024_refused(void **state)
{
	EVP_PKEY *small;
	struct problem p = { 0 };
	struct jwk from, k;

	(void)state;
	assert_non_null(small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)1024));
	/* jwk_from_pkey has no size policy... */
	assert_int_equal(jwk_from_pkey(small, &from), 1);
	assert_int_equal(from.bits, 1024);
	/* ...jwk_parse has */
	assert_int_equal(jwk_parse(from.canon, &k, &p), 0);
	if (p.type != PT_BAD_PUBLIC_KEY)
		fail_msg("got %s (%s), want badPublicKey", tname(p.type),
		    p.detail);
	assert_null(k.pkey);
	jwk_free(&from);
	EVP_PKEY_free(small);
}

static void
test_jwk_refusals(void **state)
{
	static const struct {
		const char	*name;
		const char	*json;
		enum ptype	 want;
	} t[] = {
		{ "EC with private d", "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\",\"d\":\"" A3_D "\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "RSA with private p", "{\"kty\":\"RSA\",\"n\":\"" N7638
		    "\",\"e\":\"AQAB\",\"p\":\"AQAB\"}", PT_BAD_PUBLIC_KEY },
		{ "RSA with oth", "{\"kty\":\"RSA\",\"n\":\"" N7638
		    "\",\"e\":\"AQAB\",\"oth\":[]}", PT_BAD_PUBLIC_KEY },
		{ "oct with k", "{\"kty\":\"oct\",\"k\":\"" A1_KEY "\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "kty oct", "{\"kty\":\"oct\"}", PT_BAD_PUBLIC_KEY },
		{ "kty OKP", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":"
		    "\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "kty lowercase", "{\"kty\":\"rsa\",\"n\":\"" N7638
		    "\",\"e\":\"AQAB\"}", PT_BAD_PUBLIC_KEY },
		{ "no kty", "{\"n\":\"" N7638 "\",\"e\":\"AQAB\"}",
		    PT_MALFORMED },
		{ "kty number", "{\"kty\":1}", PT_MALFORMED },
		{ "not an object", "[\"RSA\"]", PT_MALFORMED },
		{ "RSA without e", "{\"kty\":\"RSA\",\"n\":\"" N7638 "\"}",
		    PT_MALFORMED },
		{ "RSA n number", "{\"kty\":\"RSA\",\"n\":1,\"e\":\"AQAB\"}",
		    PT_MALFORMED },
		{ "RSA n base64", "{\"kty\":\"RSA\",\"n\":\"a+b/\","
		    "\"e\":\"AQAB\"}", PT_MALFORMED },
		{ "RSA n NUL", "{\"kty\":\"RSA\",\"n\":\"" N7638 "\\u0000\","
		    "\"e\":\"AQAB\"}", PT_MALFORMED },
		{ "RSA tiny n", "{\"kty\":\"RSA\",\"n\":\"AQAB\","
		    "\"e\":\"AQAB\"}", PT_BAD_PUBLIC_KEY },
		{ "EC no crv", "{\"kty\":\"EC\",\"x\":\"" A3_X "\",\"y\":\""
		    A3_Y "\"}", PT_MALFORMED },
		{ "EC P-521", "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\""
		    A3_X "\",\"y\":\"" A3_Y "\"}", PT_BAD_PUBLIC_KEY },
		{ "EC secp256k1", "{\"kty\":\"EC\",\"crv\":\"secp256k1\","
		    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "EC no y", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\""
		    A3_X "\"}", PT_MALFORMED },
		{ "EC x number", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":1,"
		    "\"y\":\"" A3_Y "\"}", PT_MALFORMED },
		{ "EC x 31 bytes", "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":"
		    "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\",\"y\":\""
		    A3_Y "\"}", PT_BAD_PUBLIC_KEY },
		{ "EC P-256 coordinates on P-384", "{\"kty\":\"EC\","
		    "\"crv\":\"P-384\",\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "EC point off the curve (y changed)", "{\"kty\":\"EC\","
		    "\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":"
		    "\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "EC point off the curve (y = x)", "{\"kty\":\"EC\","
		    "\"crv\":\"P-256\",\"x\":\"" A3_X "\",\"y\":\"" A3_X "\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "EC coordinates >= p", "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"__________________________________________8\","
		    "\"y\":\"__________________________________________8\"}",
		    PT_BAD_PUBLIC_KEY },
		{ "EC point at infinity", "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
		    "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}",
		    PT_BAD_PUBLIC_KEY },
		/* the accepted forms, for contrast */
		{ "EC A.3 public key", "{\"kty\":\"EC\",\"crv\":\"P-256\","
		    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}", PT_NONE },
		{ "RSA with use and key_ops", "{\"kty\":\"RSA\",\"n\":\""
		    N7638 "\",\"e\":\"AQAB\",\"use\":\"sig\",\"key_ops\":"
		    "[\"verify\"]}", PT_NONE },
	};
	struct problem p;
	struct jwk k;
	json_object *o;
	size_t i;
	int rc, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		o = json_parse_strict(t[i].json, strlen(t[i].json));
		if (o == NULL) {
			EXPECT(0, "%s: got unparsable test JSON, want JSON",
			    t[i].name);
			continue;
		}
		rc = jwk_parse(o, &k, &p);
		EXPECT(p.type == t[i].want && rc == (t[i].want == PT_NONE),
		    "%s: got %s (%s), want %s", t[i].name, tname(p.type),
		    p.detail, tname(t[i].want));
		EXPECT(rc || (k.pkey == NULL && k.canon == NULL &&
		    k.thumbprint == NULL), "%s: got fields set on refusal, "
		    "want none", t[i].name);
		EXPECT(rc || p.detail[0] != '\0', "%s: got an empty detail, "
		    "want one", t[i].name);
		jwk_free(&k);
		json_object_put(o);
	}
	assert_int_equal(failures, 0);
}

static void
test_jwk_from_pkey(void **state)
{
	const struct {
		const char	*name;
		EVP_PKEY	*key;
		int		 bits;
		enum jws_alg	 alg;
	} t[] = {
		{ "RSA 2048", key_rsa, 2048, JWS_ALG_RS256 },
		{ "P-256", key_p256, 256, JWS_ALG_ES256 },
		{ "P-384", key_p384, 384, JWS_ALG_ES384 },
	};
	struct problem p;
	struct jwk from, k;
	size_t i;
	int a, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		if (!jwk_from_pkey(t[i].key, &from)) {
			EXPECT(0, "%s: got jwk_from_pkey failure, want a JWK",
			    t[i].name);
			continue;
		}
		if (!jwk_parse(from.canon, &k, &p)) {
			EXPECT(0, "%s: got %s (%s) parsing %s, want acceptance",
			    t[i].name, tname(p.type), p.detail,
			    json_compact(from.canon));
			jwk_free(&from);
			continue;
		}
		EXPECT(strcmp(from.thumbprint, k.thumbprint) == 0,
		    "%s: got thumbprints %s and %s, want equal", t[i].name,
		    from.thumbprint, k.thumbprint);
		EXPECT(from.bits == t[i].bits && k.bits == t[i].bits,
		    "%s: got %d and %d bits, want %d", t[i].name, from.bits,
		    k.bits, t[i].bits);
		EXPECT(EVP_PKEY_eq(from.pkey, k.pkey) == 1, "%s: got different "
		    "keys, want the same", t[i].name);
		for (a = JWS_ALG_NONE; a < JWS_ALG__MAX; a++)
			EXPECT(jwk_alg_matches(&k, (enum jws_alg)a) ==
			    (a == (int)t[i].alg), "%s: alg %d: got %d, want %d",
			    t[i].name, a, jwk_alg_matches(&k, (enum jws_alg)a),
			    a == (int)t[i].alg);
		jwk_free(&from);
		jwk_free(&k);
	}
	assert_int_equal(failures, 0);
}

static void
test_jws_alg_lookup(void **state)
{
	static const struct {
		const char	*name;
		enum jws_alg	 want;
	} t[] = {
		{ "RS256", JWS_ALG_RS256 },
		{ "ES256", JWS_ALG_ES256 },
		{ "ES384", JWS_ALG_ES384 },
		{ "HS256", JWS_ALG_HS256 },
		{ "none", JWS_ALG_NONE },
		{ "rs256", JWS_ALG_NONE },
		{ "RS384", JWS_ALG_NONE },
		{ "PS256", JWS_ALG_NONE },
		{ "ES512", JWS_ALG_NONE },
		{ "EdDSA", JWS_ALG_NONE },
		{ "", JWS_ALG_NONE },
	};
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		EXPECT(jws_alg_lookup(t[i].name) == t[i].want, "\"%s\": got "
		    "%d, want %d", t[i].name, jws_alg_lookup(t[i].name),
		    t[i].want);
	assert_int_equal(failures, 0);
}

/* JWS: RFC 7515 appendix A */

/* Checks that flipping one bit of the protected part, of the payload
 * part and of the signature each breaks verification with the given
 * verifier. Returns the number of failures. */
static int
check_tampering(struct jws *jws, const struct jwk *k,
    const unsigned char *mac, size_t maclen, const char *name)
{
	struct problem p;
	size_t i, dot;
	int rc, failures = 0;
	struct {
		const char	*what;
		unsigned char	*at;
	} t[3];

	dot = strcspn(jws->signing_input, ".");
	t[0].what = "protected";
	t[0].at = (unsigned char *)jws->signing_input + dot / 2;
	t[1].what = "payload";
	t[1].at = (unsigned char *)jws->signing_input + dot + 1 +
	    strlen(jws->signing_input + dot + 1) / 2;
	t[2].what = "signature";
	t[2].at = jws->sig + jws->sig_len / 2;
	for (i = 0; i < 3; i++) {
		memset(&p, 0, sizeof(p));
		*t[i].at ^= 0x01;
		rc = mac != NULL ? jws_verify_hmac(jws, mac, maclen, &p) :
		    jws_verify(jws, k, &p);
		*t[i].at ^= 0x01;
		EXPECT(rc == 0 && p.type == PT_MALFORMED, "%s, %s flipped: "
		    "got rc %d %s, want malformed", name, t[i].what, rc,
		    tname(p.type));
	}
	memset(&p, 0, sizeof(p));
	rc = mac != NULL ? jws_verify_hmac(jws, mac, maclen, &p) :
	    jws_verify(jws, k, &p);
	EXPECT(rc == 1, "%s restored: got %s (%s), want valid", name,
	    tname(p.type), p.detail);
	return failures;
}

static void
test_rfc7515_a1_hs256(void **state)
{
	struct problem p = { 0 };
	struct jws jws;
	struct jwk k;
	unsigned char *key;
	size_t keylen;
	int failures = 0;

	(void)state;
	vector_jws(A1_PROT, A_PAYLOAD, A1_SIG, JWS_ALG_HS256, &jws);
	assert_int_equal(b64u_decode(A1_KEY, &key, &keylen), 1);
	if (jws_verify_hmac(&jws, key, keylen, &p) != 1)
		fail_msg("A.1: got %s (%s), want valid", tname(p.type),
		    p.detail);
	failures += check_tampering(&jws, NULL, key, keylen, "A.1");

	/* another key */
	memset(&p, 0, sizeof(p));
	key[0] ^= 0x80;
	EXPECT(jws_verify_hmac(&jws, key, keylen, &p) == 0 &&
	    p.type == PT_MALFORMED, "A.1 other key: got %s, want malformed",
	    tname(p.type));
	key[0] ^= 0x80;
	/* a truncated MAC */
	memset(&p, 0, sizeof(p));
	jws.sig_len = 31;
	EXPECT(jws_verify_hmac(&jws, key, keylen, &p) == 0 &&
	    p.type == PT_MALFORMED, "A.1 31-byte MAC: got %s, want "
	    "malformed", tname(p.type));
	jws.sig_len = 32;
	/* HS256 is for the EAB only: jws_verify refuses it */
	assert_int_equal(jwk_from_pkey(key_rsa, &k), 1);
	memset(&p, 0, sizeof(p));
	EXPECT(jws_verify(&jws, &k, &p) == 0 &&
	    p.type == PT_BAD_SIGNATURE_ALGORITHM, "A.1 with jws_verify: got "
	    "%s, want badSignatureAlgorithm", tname(p.type));
	/* and jws_verify_hmac refuses anything but HS256 */
	memset(&p, 0, sizeof(p));
	jws.alg = JWS_ALG_RS256;
	EXPECT(jws_verify_hmac(&jws, key, keylen, &p) == 0 &&
	    p.type == PT_MALFORMED, "RS256 with jws_verify_hmac: got %s, "
	    "want malformed", tname(p.type));
	jwk_free(&k);
	jws_free(&jws);
	free(key);
	assert_int_equal(failures, 0);
}

static void
test_rfc7515_a2_rs256(void **state)
{
	struct problem p = { 0 };
	struct jws jws;
	struct jwk k, other;
	int failures = 0;

	(void)state;
	assert_int_equal(jwk_from_text("{\"kty\":\"RSA\",\"n\":\"" A2_N
	    "\",\"e\":\"AQAB\"}", &k, &p), 1);
	vector_jws(A2_PROT, A_PAYLOAD, A2_SIG, JWS_ALG_RS256, &jws);
	if (jws_verify(&jws, &k, &p) != 1)
		fail_msg("A.2: got %s (%s), want valid", tname(p.type),
		    p.detail);
	failures += check_tampering(&jws, &k, NULL, 0, "A.2");
	/* another RSA key */
	assert_int_equal(jwk_from_pkey(key_rsa, &other), 1);
	memset(&p, 0, sizeof(p));
	EXPECT(jws_verify(&jws, &other, &p) == 0 && p.type == PT_MALFORMED,
	    "A.2 other key: got %s, want malformed", tname(p.type));
	/* a truncated signature */
	memset(&p, 0, sizeof(p));
	jws.sig_len--;
	EXPECT(jws_verify(&jws, &k, &p) == 0 && p.type == PT_MALFORMED,
	    "A.2 short signature: got %s, want malformed", tname(p.type));
	jwk_free(&other);
	jwk_free(&k);
	jws_free(&jws);
	assert_int_equal(failures, 0);
}

static void
test_rfc7515_a3_es256(void **state)
{
	struct problem p = { 0 };
	struct jws jws;
	struct jwk k;
	char *body, *compact;
	int failures = 0;

	(void)state;
	assert_int_equal(jwk_from_text("{\"kty\":\"EC\",\"crv\":\"P-256\","
	    "\"x\":\"" A3_X "\",\"y\":\"" A3_Y "\"}", &k, &p), 1);
	vector_jws(A3_PROT, A_PAYLOAD, A3_SIG, JWS_ALG_ES256, &jws);
	if (jws_verify(&jws, &k, &p) != 1)
		fail_msg("A.3: got %s (%s), want valid", tname(p.type),
		    p.detail);
	failures += check_tampering(&jws, &k, NULL, 0, "A.3");
	jws_free(&jws);

	/* the vector itself, flattened: no "url", so jws_parse refuses it */
	memset(&p, 0, sizeof(p));
	body = flat_body(A3_PROT, A_PAYLOAD, A3_SIG);
	EXPECT(jws_parse(body, strlen(body), &jws, &p) == 0 &&
	    p.type == PT_MALFORMED && strstr(p.detail, "url") != NULL,
	    "A.3 flattened: got %s (%s), want malformed about url",
	    tname(p.type), p.detail);
	/* and compact */
	memset(&p, 0, sizeof(p));
	compact = xasprintf("%s.%s.%s", A3_PROT, A_PAYLOAD, A3_SIG);
	EXPECT(jws_parse(compact, strlen(compact), &jws, &p) == 0 &&
	    p.type == PT_MALFORMED && strstr(p.detail, "compact") != NULL,
	    "A.3 compact: got %s (%s), want malformed about compact",
	    tname(p.type), p.detail);
	free(compact);
	free(body);
	jwk_free(&k);
	assert_int_equal(failures, 0);
}

/* JWS: keys and signatures made here */

static void
test_jws_sign_parse_verify(void **state)
{
	const struct {
		const char	*name;
		EVP_PKEY	*key;
		const char	*alg;
		int		 use_kid;
		const char	*payload;
	} t[] = {
		{ "RS256 jwk", key_rsa, "RS256", 0,
		    "{\"termsOfServiceAgreed\":true}" },
		{ "ES256 jwk", key_p256, "ES256", 0,
		    "{\"termsOfServiceAgreed\":true}" },
		{ "ES384 jwk", key_p384, "ES384", 0,
		    "{\"termsOfServiceAgreed\":true}" },
		{ "RS256 kid", key_rsa, "RS256", 1,
		    "{\"identifiers\":[{\"type\":\"dns\",\"value\":"
		    "\"example.org\"}]}" },
		{ "ES256 kid POST-as-GET", key_p256, "ES256", 1, "" },
		{ "ES384 kid POST-as-GET", key_p384, "ES384", 1, "" },
	};
	static const char url[] = "https://acme.example/acme/new-order";
	static const char kid[] = "https://acme.example/acme/acct/42";
	struct problem p;
	struct jws jws;
	struct jwk from, k;
	struct parts pt, bad;
	json_object *hdr, *obj;
	char *body, *other;
	unsigned char *sig;
	size_t i, siglen;
	int rc, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(jwk_from_pkey(t[i].key, &from), 1);
		hdr = make_header(t[i].alg, t[i].use_kid ? NULL : &from,
		    t[i].use_kid ? kid : NULL, "nonce-1", url);
		sign_parts(t[i].key, hdr, t[i].payload, 0, &pt);
		json_object_put(hdr);
		body = flat_body(pt.prot, pt.payload, pt.sig);
		if (!jws_parse(body, strlen(body), &jws, &p)) {
			EXPECT(0, "%s: got %s (%s), want a parsed JWS",
			    t[i].name, tname(p.type), p.detail);
			goto next;
		}
		EXPECT(jws.alg == jws_alg_lookup(t[i].alg), "%s: got alg %d, "
		    "want %s", t[i].name, jws.alg, t[i].alg);
		EXPECT(jws.url != NULL && strcmp(jws.url, url) == 0,
		    "%s: got url %s, want %s", t[i].name,
		    jws.url ? jws.url : "NULL", url);
		EXPECT(jws.nonce != NULL && strcmp(jws.nonce, "nonce-1") == 0,
		    "%s: got nonce %s, want nonce-1", t[i].name,
		    jws.nonce ? jws.nonce : "NULL");
		EXPECT(jws.payload_len == strlen(t[i].payload) &&
		    memcmp(jws.payload, t[i].payload, jws.payload_len) == 0,
		    "%s: got payload of %zu bytes, want %zu", t[i].name,
		    jws.payload_len, strlen(t[i].payload));
		if (t[i].use_kid)
			EXPECT(jws.kid != NULL && strcmp(jws.kid, kid) == 0 &&
			    jws.jwk_obj == NULL, "%s: got kid %s, want %s",
			    t[i].name, jws.kid ? jws.kid : "NULL", kid);
		else
			EXPECT(jws.jwk_obj != NULL && jws.kid == NULL,
			    "%s: got no jwk, want one", t[i].name);

		/* the key: from the header when it carries one */
		memset(&k, 0, sizeof(k));
		if (jws.jwk_obj != NULL && !jwk_parse(jws.jwk_obj, &k, &p))
			EXPECT(0, "%s: got %s (%s) for the header jwk, want "
			    "a key", t[i].name, tname(p.type), p.detail);
		else if (jws.jwk_obj != NULL)
			EXPECT(strcmp(k.thumbprint, from.thumbprint) == 0,
			    "%s: got thumbprint %s, want %s", t[i].name,
			    k.thumbprint, from.thumbprint);
		rc = jws_verify(&jws, k.pkey != NULL ? &k : &from, &p);
		EXPECT(rc == 1, "%s: got %s (%s), want valid", t[i].name,
		    tname(p.type), p.detail);

		memset(&p, 0, sizeof(p));
		obj = jws_payload_json(&jws, &p);
		if (t[i].payload[0] == '\0')
			EXPECT(obj == NULL && p.type == PT_MALFORMED,
			    "%s: payload object: got %s, want malformed",
			    t[i].name, tname(p.type));
		else
			EXPECT(obj != NULL, "%s: payload object: got %s (%s), "
			    "want an object", t[i].name, tname(p.type),
			    p.detail);
		json_object_put(obj);
		jws_free(&jws);
		jwk_free(&k);

		/* tampering, through jws_parse: another payload, another
		 * protected header, a flipped signature bit */
		for (int v = 0; v < 3; v++) {
			memset(&p, 0, sizeof(p));
			bad = pt;
			other = NULL;
			if (v == 0)
				bad.payload = other = b64s("{\"x\":1}");
			else if (v == 1) {
				hdr = make_header(t[i].alg, NULL, kid,
				    "nonce-2", url);
				bad.prot = other = b64s(json_compact(hdr));
				json_object_put(hdr);
			} else {
				assert_int_equal(b64u_decode(pt.sig, &sig,
				    &siglen), 1);
				sig[siglen - 1] ^= 0x01;
				bad.sig = other = b64u_encode(sig, siglen);
				free(sig);
			}
			free(body);
			body = flat_body(bad.prot, bad.payload, bad.sig);
			free(other);
			if (!jws_parse(body, strlen(body), &jws, &p)) {
				EXPECT(0, "%s tampered %d: got %s (%s) from "
				    "jws_parse, want a parsed JWS", t[i].name,
				    v, tname(p.type), p.detail);
				continue;
			}
			rc = jws_verify(&jws, &from, &p);
			EXPECT(rc == 0 && p.type == PT_MALFORMED,
			    "%s tampered %d: got rc %d %s, want malformed",
			    t[i].name, v, rc, tname(p.type));
			jws_free(&jws);
		}
next:
		free(body);
		parts_free(&pt);
		jwk_free(&from);
	}
	assert_int_equal(failures, 0);
}

static void
test_jws_alg_key_mismatch(void **state)
{
	const struct {
		const char	*name;
		EVP_PKEY	*signer;
		const char	*alg;
		EVP_PKEY	*verifier;
	} t[] = {
		{ "ES256 header, RSA key", key_rsa, "ES256", key_rsa },
		{ "ES256 header, P-384 key", key_p384, "ES256", key_p384 },
		{ "ES384 header, P-256 key", key_p256, "ES384", key_p256 },
		{ "RS256 header, P-256 key", key_p256, "RS256", key_p256 },
		{ "RS256 signed, P-256 verifier", key_rsa, "RS256", key_p256 },
	};
	struct problem p;
	struct jws jws;
	struct jwk k;
	struct parts pt;
	json_object *hdr;
	char *body;
	size_t i;
	int rc, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		hdr = make_header(t[i].alg, NULL, "kid", "n", "u");
		sign_parts(t[i].signer, hdr, "{}", 0, &pt);
		json_object_put(hdr);
		body = flat_body(pt.prot, pt.payload, pt.sig);
		assert_int_equal(jwk_from_pkey(t[i].verifier, &k), 1);
		if (jws_parse(body, strlen(body), &jws, &p)) {
			rc = jws_verify(&jws, &k, &p);
			EXPECT(rc == 0 && p.type == PT_BAD_SIGNATURE_ALGORITHM,
			    "%s: got rc %d %s (%s), want badSignatureAlgorithm",
			    t[i].name, rc, tname(p.type), p.detail);
		} else
			EXPECT(0, "%s: got %s (%s) from jws_parse, want a "
			    "parsed JWS", t[i].name, tname(p.type), p.detail);
		jws_free(&jws);
		jwk_free(&k);
		free(body);
		parts_free(&pt);
	}
	assert_int_equal(failures, 0);
}

static void
test_jws_ecdsa_der_refused(void **state)
{
	const struct {
		const char	*name;
		EVP_PKEY	*key;
		const char	*alg;
	} t[] = {
		{ "ES256", key_p256, "ES256" },
		{ "ES384", key_p384, "ES384" },
	};
	struct problem p;
	struct jws jws;
	struct jwk k;
	struct parts pt;
	json_object *hdr;
	char *body;
	size_t i;
	int rc, failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		hdr = make_header(t[i].alg, NULL, "kid", "n", "u");
		sign_parts(t[i].key, hdr, "{}", 1, &pt);
		json_object_put(hdr);
		body = flat_body(pt.prot, pt.payload, pt.sig);
		assert_int_equal(jwk_from_pkey(t[i].key, &k), 1);
		if (jws_parse(body, strlen(body), &jws, &p)) {
			rc = jws_verify(&jws, &k, &p);
			EXPECT(rc == 0 && p.type == PT_MALFORMED,
			    "%s DER signature (%zu bytes): got rc %d %s, want "
			    "malformed", t[i].name, jws.sig_len, rc,
			    tname(p.type));
		} else
			EXPECT(0, "%s: got %s (%s) from jws_parse, want a "
			    "parsed JWS", t[i].name, tname(p.type), p.detail);
		jws_free(&jws);
		jwk_free(&k);
		free(body);
		parts_free(&pt);
	}
	assert_int_equal(failures, 0);
}

static void
test_jws_parse_refusals(void **state)
{
	static const struct {
		const char	*name;
		const char	*hdr;	/* protected header, or NULL */
		const char	*body;	/* raw body ($P: a valid protected) */
		enum ptype	 want;
		const char	*detail;	/* substring, or NULL */
	} t[] = {
		/* the protected header */
		{ "alg none", "{\"alg\":\"none\",\"url\":\"u\",\"nonce\":\"n\","
		    "\"kid\":\"k\"}", NULL, PT_BAD_SIGNATURE_ALGORITHM,
		    "RS256, ES256, ES384" },
		{ "alg HS512", "{\"alg\":\"HS512\",\"url\":\"u\"}", NULL,
		    PT_BAD_SIGNATURE_ALGORITHM, "HS512" },
		{ "alg RS384", "{\"alg\":\"RS384\",\"url\":\"u\"}", NULL,
		    PT_BAD_SIGNATURE_ALGORITHM, NULL },
		{ "alg PS256", "{\"alg\":\"PS256\",\"url\":\"u\"}", NULL,
		    PT_BAD_SIGNATURE_ALGORITHM, NULL },
		{ "alg rs256", "{\"alg\":\"rs256\",\"url\":\"u\"}", NULL,
		    PT_BAD_SIGNATURE_ALGORITHM, NULL },
		{ "alg empty", "{\"alg\":\"\",\"url\":\"u\"}", NULL,
		    PT_BAD_SIGNATURE_ALGORITHM, NULL },
		{ "no alg", "{\"url\":\"u\",\"kid\":\"k\"}", NULL,
		    PT_MALFORMED, "alg" },
		{ "alg number", "{\"alg\":256,\"url\":\"u\"}", NULL,
		    PT_MALFORMED, "alg" },
		{ "alg null", "{\"alg\":null,\"url\":\"u\"}", NULL,
		    PT_MALFORMED, "alg" },
		{ "jwk and kid", "{\"alg\":\"ES256\",\"url\":\"u\","
		    "\"kid\":\"k\",\"jwk\":{\"kty\":\"EC\"}}", NULL,
		    PT_MALFORMED, "both" },
		{ "jwk string", "{\"alg\":\"ES256\",\"url\":\"u\","
		    "\"jwk\":\"k\"}", NULL, PT_MALFORMED, "jwk" },
		{ "kid number", "{\"alg\":\"ES256\",\"url\":\"u\",\"kid\":1}",
		    NULL, PT_MALFORMED, "kid" },
		{ "no url", "{\"alg\":\"ES256\",\"kid\":\"k\"}", NULL,
		    PT_MALFORMED, "url" },
		{ "url number", "{\"alg\":\"ES256\",\"url\":1}", NULL,
		    PT_MALFORMED, "url" },
		{ "url with NUL", "{\"alg\":\"ES256\",\"url\":\"https://a/"
		    "new-order\\u0000x\"}", NULL, PT_MALFORMED, "url" },
		{ "nonce number", "{\"alg\":\"ES256\",\"url\":\"u\","
		    "\"nonce\":5}", NULL, PT_MALFORMED, "nonce" },
		{ "b64", "{\"alg\":\"ES256\",\"url\":\"u\",\"b64\":false}",
		    NULL, PT_MALFORMED, "b64" },
		{ "crit", "{\"alg\":\"ES256\",\"url\":\"u\","
		    "\"crit\":[\"exp\"],\"exp\":1}", NULL, PT_MALFORMED,
		    "crit" },
		{ "header an array", "[\"alg\"]", NULL, PT_MALFORMED, NULL },
		{ "header with garbage", "{\"alg\":\"ES256\",\"url\":\"u\"}x",
		    NULL, PT_MALFORMED, NULL },
		{ "header empty", "", NULL, PT_MALFORMED, NULL },
		/* the outer object */
		{ "empty body", NULL, "", PT_MALFORMED, NULL },
		{ "not JSON", NULL, "protected=1", PT_MALFORMED, NULL },
		{ "array", NULL, "[\"$P\",\"\",\"AAAA\"]", PT_MALFORMED,
		    NULL },
		{ "compact", NULL, "$P.e30.AAAA", PT_MALFORMED, "compact" },
		{ "unprotected header", NULL, "{\"protected\":\"$P\","
		    "\"header\":{\"kid\":\"k\"},\"payload\":\"\","
		    "\"signature\":\"AAAA\"}", PT_MALFORMED, "header" },
		{ "general serialization", NULL, "{\"payload\":\"\","
		    "\"signatures\":[{\"protected\":\"$P\","
		    "\"signature\":\"AAAA\"}]}", PT_MALFORMED, "flattened" },
		{ "extra member", NULL, "{\"protected\":\"$P\",\"payload\":"
		    "\"\",\"signature\":\"AAAA\",\"foo\":1}", PT_MALFORMED,
		    "foo" },
		{ "no signature", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\"}", PT_MALFORMED, "signature" },
		{ "no payload", NULL, "{\"protected\":\"$P\","
		    "\"signature\":\"AAAA\"}", PT_MALFORMED, "payload" },
		{ "no protected", NULL, "{\"payload\":\"\","
		    "\"signature\":\"AAAA\"}", PT_MALFORMED, "protected" },
		{ "payload number", NULL, "{\"protected\":\"$P\","
		    "\"payload\":1,\"signature\":\"AAAA\"}", PT_MALFORMED,
		    "payload" },
		{ "signature null", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\",\"signature\":null}", PT_MALFORMED,
		    "signature" },
		{ "protected padded", NULL, "{\"protected\":\"$P=\","
		    "\"payload\":\"\",\"signature\":\"AAAA\"}", PT_MALFORMED,
		    "protected" },
		{ "payload base64", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"e30+\",\"signature\":\"AAAA\"}",
		    PT_MALFORMED, "payload" },
		{ "signature non-canonical", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\",\"signature\":\"AAB\"}", PT_MALFORMED,
		    "signature" },
		{ "signature empty", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\",\"signature\":\"\"}", PT_MALFORMED,
		    "signature" },
		{ "trailing garbage", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\",\"signature\":\"AAAA\"} {}",
		    PT_MALFORMED, NULL },
		/* accepted, for contrast: jwk-or-kid is the caller's check,
		 * and other header members are allowed */
		{ "neither jwk nor kid", "{\"alg\":\"ES256\",\"url\":\"u\"}",
		    NULL, PT_NONE, NULL },
		{ "HS256 with typ", "{\"alg\":\"HS256\",\"url\":\"u\","
		    "\"kid\":\"k\",\"typ\":\"JWT\"}", NULL, PT_NONE, NULL },
		{ "POST-as-GET", NULL, "{\"protected\":\"$P\","
		    "\"payload\":\"\",\"signature\":\"AAAA\"}", PT_NONE, NULL },
	};
	static const char valid_hdr[] =
	    "{\"alg\":\"ES256\",\"url\":\"u\",\"kid\":\"k\"}";
	struct problem p;
	struct jws jws;
	char *vp, *hb, *pb, *body;
	size_t i;
	int rc, failures = 0;

	(void)state;
	vp = b64s(valid_hdr);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		if (t[i].hdr != NULL) {
			hb = b64s(t[i].hdr);
			pb = b64s("{}");
			body = flat_body(hb, pb, "AAAA");
			free(hb);
			free(pb);
		} else
			body = subst(t[i].body, vp);
		rc = jws_parse(body, strlen(body), &jws, &p);
		EXPECT(p.type == t[i].want && rc == (t[i].want == PT_NONE),
		    "%s: got rc %d %s (%s), want %s", t[i].name, rc,
		    tname(p.type), p.detail, tname(t[i].want));
		if (t[i].detail != NULL)
			EXPECT(strstr(p.detail, t[i].detail) != NULL,
			    "%s: got detail \"%s\", want it to mention \"%s\"",
			    t[i].name, p.detail, t[i].detail);
		if (!rc)
			EXPECT(jws.protected == NULL && jws.sig == NULL &&
			    jws.payload == NULL && jws.signing_input == NULL,
			    "%s: got fields set on refusal, want none",
			    t[i].name);
		jws_free(&jws);
		free(body);
	}
	free(vp);
	assert_int_equal(failures, 0);
}

static void
test_jws_signing_input_as_received(void **state)
{
	struct problem p = { 0 };
	struct jws jws;
	char *prot, *body, *want;

	(void)state;
	/* a header with whitespace and odd member order stays as sent */
	prot = b64s("{ \"url\" : \"u\",\r\n \"alg\":\"RS256\" }");
	body = xasprintf("{\"signature\":\"AAAA\",\"payload\":\"e30\","
	    "\"protected\":\"%s\"}", prot);
	want = xasprintf("%s.e30", prot);
	assert_int_equal(jws_parse(body, strlen(body), &jws, &p), 1);
	assert_string_equal(jws.signing_input, want);
	assert_int_equal(jws.payload_len, 2);
	assert_string_equal((char *)jws.payload, "{}");
	jws_free(&jws);
	free(want);
	free(body);
	free(prot);
}

static void
test_jws_payload_json(void **state)
{
	static const struct {
		const char	*payload;
		int		 ok;
	} t[] = {
		{ "{}", 1 },
		{ "{\"a\":[1,2]}", 1 },
		{ "", 0 },
		{ "[]", 0 },
		{ "\"s\"", 0 },
		{ "{", 0 },
		{ "{} {}", 0 },
		{ "{\"a\":1,}", 0 },
	};
	struct problem p;
	struct jws jws;
	json_object *o;
	size_t i;
	int failures = 0;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&p, 0, sizeof(p));
		memset(&jws, 0, sizeof(jws));
		jws.payload = (unsigned char *)xstrdup(t[i].payload);
		jws.payload_len = strlen(t[i].payload);
		o = jws_payload_json(&jws, &p);
		EXPECT((o != NULL) == t[i].ok && (t[i].ok ||
		    p.type == PT_MALFORMED), "payload '%s': got %s %s, want %s",
		    t[i].payload, o != NULL ? "object" : "refusal",
		    tname(p.type), t[i].ok ? "object" : "malformed");
		json_object_put(o);
		jws_free(&jws);
	}
	assert_int_equal(failures, 0);
}

static void
test_ecdsa_conversion(void **state)
{
	/* r with two leading zero octets, s with the top bit set */
	unsigned char jose[64], *der, *back;
	size_t derlen, backlen, i;
	/* INTEGER 1 with a superfluous leading zero octet (not DER) */
	static const unsigned char nonmin[] = {
		0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x01 };
	/* a long-form length where the short form fits (BER) */
	static const unsigned char longlen[] = {
		0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	/* a negative r */
	static const unsigned char neg[] = {
		0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01 };
	static const unsigned char ok[] = {
		0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };
	unsigned char trailing[sizeof(ok) + 1];
	int failures = 0;

	(void)state;
	for (i = 0; i < 32; i++) {
		jose[i] = (unsigned char)(i < 2 ? 0 : i);
		jose[32 + i] = (unsigned char)(0xff - i);
	}
	assert_non_null(der = ecdsa_jose_to_der(jose, sizeof(jose), &derlen));
	assert_non_null(back = ecdsa_der_to_jose(der, derlen, 32, &backlen));
	EXPECT(backlen == 64 && memcmp(back, jose, 64) == 0, "round trip: got "
	    "%zu different bytes, want the input", backlen);
	free(back);
	/* r and s do not fit in 16 bytes */
	EXPECT(ecdsa_der_to_jose(der, derlen, 16, &backlen) == NULL,
	    "n too small: got a conversion, want NULL");
	free(der);

	EXPECT(ecdsa_jose_to_der(jose, 63, &derlen) == NULL, "odd length: got "
	    "a conversion, want NULL");
	EXPECT(ecdsa_jose_to_der(jose, 0, &derlen) == NULL, "empty: got a "
	    "conversion, want NULL");
	EXPECT(ecdsa_der_to_jose(nonmin, sizeof(nonmin), 32, &backlen) ==
	    NULL, "non-minimal INTEGER: got a conversion, want NULL");
	EXPECT(ecdsa_der_to_jose(longlen, sizeof(longlen), 32, &backlen) ==
	    NULL, "long-form length: got a conversion, want NULL");
	EXPECT(ecdsa_der_to_jose(neg, sizeof(neg), 32, &backlen) == NULL,
	    "negative r: got a conversion, want NULL");
	memcpy(trailing, ok, sizeof(ok));
	trailing[sizeof(ok)] = 0;
	EXPECT(ecdsa_der_to_jose(trailing, sizeof(trailing), 32, &backlen) ==
	    NULL, "trailing byte: got a conversion, want NULL");
	back = ecdsa_der_to_jose(ok, sizeof(ok), 32, &backlen);
	EXPECT(back != NULL && backlen == 64 && back[31] == 1 &&
	    back[63] == 1, "r = s = 1: got %s, want 64 bytes",
	    back != NULL ? "a wrong conversion" : "NULL");
	free(back);
	ERR_clear_error();
	assert_int_equal(failures, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64u_vectors),
		cmocka_unit_test(test_b64u_roundtrip),
		cmocka_unit_test(test_b64u_refusals),
		cmocka_unit_test(test_sha256_b64u),
		cmocka_unit_test(test_jwk_thumbprint_rfc7638),
		cmocka_unit_test(test_jwk_rsa_limits),
		cmocka_unit_test(test_jwk_rsa1024_refused),
		cmocka_unit_test(test_jwk_refusals),
		cmocka_unit_test(test_jwk_from_pkey),
		cmocka_unit_test(test_jws_alg_lookup),
		cmocka_unit_test(test_rfc7515_a1_hs256),
		cmocka_unit_test(test_rfc7515_a2_rs256),
		cmocka_unit_test(test_rfc7515_a3_es256),
		cmocka_unit_test(test_jws_sign_parse_verify),
		cmocka_unit_test(test_jws_alg_key_mismatch),
		cmocka_unit_test(test_jws_ecdsa_der_refused),
		cmocka_unit_test(test_jws_parse_refusals),
		cmocka_unit_test(test_jws_signing_input_as_received),
		cmocka_unit_test(test_jws_payload_json),
		cmocka_unit_test(test_ecdsa_conversion),
	};

	return cmocka_run_group_tests(tests, setup_keys, teardown_keys);
}
