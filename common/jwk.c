/*
 * jwk.c - public JSON Web Keys (RFC 7517, RFC 7518 section 6) as
 * RFC 8555 accepts them, their RFC 7638 thumbprints, and the JOSE
 * r||s <-> DER conversion of ECDSA signatures.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "jose.h"
#include "jsonutil.h"
#include "problem.h"
#include "util.h"
#include "weakkey.h"

#define JWK_RSA_MIN_BITS	2048
#define JWK_RSA_MAX_BITS	4096
/* OpenSSL refuses exponents above 64 bits for moduli over 3072 bits;
 * no client uses one, and a large exponent only slows verification. */
#define JWK_RSA_MAX_E_LEN	8
/* the largest half of a JOSE ECDSA signature (P-521) */
#define ECDSA_MAX_HALF		((size_t)66)

enum jwk_curve {
	JWK_CRV_P256,
	JWK_CRV_P384,
	JWK_CRV__MAX
};

static const struct {
	const char	*jose;		/* "crv" value */
	const char	*group;		/* OpenSSL group name */
	size_t		 len;		/* coordinate size, bytes */
	int		 bits;
	enum jws_alg	 alg;		/* the JWS algorithm of its keys */
} jwk_curves[JWK_CRV__MAX] = {
	[JWK_CRV_P256] = { "P-256", "prime256v1", 32, 256, JWS_ALG_ES256 },
	[JWK_CRV_P384] = { "P-384", "secp384r1", 48, 384, JWS_ALG_ES384 },
};

/* Members that only a private (or symmetric) key carries. */
static const char *const jwk_private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

/* Returns the curve of a JOSE "crv" name, or JWK_CRV__MAX. */
static enum jwk_curve
jwk_curve_lookup(const char *crv)
{
	int i;

	for (i = 0; i < JWK_CRV__MAX; i++)
		if (strcmp(jwk_curves[i].jose, crv) == 0)
			break;
	return (enum jwk_curve)i;
}

/* Returns the curve of an OpenSSL group name (either its SN or its NIST
 * name), or JWK_CRV__MAX. */
static enum jwk_curve
jwk_curve_lookup_group(const char *group)
{
	int i;

	for (i = 0; i < JWK_CRV__MAX; i++)
		if (strcasecmp(jwk_curves[i].group, group) == 0 ||
		    strcasecmp(jwk_curves[i].jose, group) == 0)
			break;
	return (enum jwk_curve)i;
}

/* Returns a new json-c string holding base64url(buf); caller owns it. */
static json_object *
jwk_b64u_string(const unsigned char *buf, size_t len)
{
	char *s;
	json_object *o;

	s = b64u_encode(buf, len);
	o = json_object_new_string(s);
	free(s);
	return o;
}

/* Returns the RFC 7638 object of an RSA key, its required members in
 * lexicographic order (json-c keeps insertion order); caller owns it.
 * n and e carry no leading zero octet. */
static json_object *
jwk_canon_rsa(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen)
{
	json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "e", jwk_b64u_string(e, elen));
	json_object_object_add(o, "kty", json_object_new_string("RSA"));
	json_object_object_add(o, "n", jwk_b64u_string(n, nlen));
	return o;
}

/* Returns the RFC 7638 object of an EC key (x and y of the curve's
 * size); caller owns it. */
static json_object *
jwk_canon_ec(enum jwk_curve crv, const unsigned char *x,
    const unsigned char *y)
{
	json_object *o;

	o = json_object_new_object();
	json_object_object_add(o, "crv",
	    json_object_new_string(jwk_curves[crv].jose));
	json_object_object_add(o, "kty", json_object_new_string("EC"));
	json_object_object_add(o, "x", jwk_b64u_string(x, jwk_curves[crv].len));
	json_object_object_add(o, "y", jwk_b64u_string(y, jwk_curves[crv].len));
	return o;
}

/* Fills out from its parts (taking ownership of pkey and canon),
 * computes the thumbprint and sets up the verification of alg's
 * signatures (without it, jws_verify sets it up each time). Returns 1,
 * or 0 with pkey and canon freed. */
static int
jwk_finish(struct jwk *out, EVP_PKEY *pkey, json_object *canon, int bits,
    enum jws_alg alg)
{
	char *tp;

	if ((tp = sha256_b64u(json_compact(canon))) == NULL) {
		EVP_PKEY_free(pkey);
		json_object_put(canon);
		return 0;
	}
	out->pkey = pkey;
	out->canon = canon;
	out->thumbprint = tp;
	out->bits = bits;
	out->alg = alg;
	out->verifier = jws_verifier_new(pkey, alg);
	return 1;
}

/*
 * Decodes the base64url string member name of obj. Returns 1 with a new
 * buffer in *buf (caller frees), or 0 with p set (malformed).
 */
static int
jwk_member(json_object *obj, const char *name, unsigned char **buf,
    size_t *len, struct problem *p)
{
	json_object *v;
	const char *s;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	if ((v = json_get_typed(obj, name, json_type_string)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWK has no \"%s\" string member", name);
	else if ((s = json_object_get_string(v)) == NULL ||
	    strlen(s) != (size_t)json_object_get_string_len(v) ||
	    !b64u_decode(s, buf, len))
		problem_set(p, PT_MALFORMED,
		    "JWK member \"%s\" is not valid base64url", name);
	else
		rc = 1;
	return rc;
}

/* Returns a new public RSA key from big-endian n and e, or NULL. */
static EVP_PKEY *
jwk_rsa_pkey(const unsigned char *n, size_t nlen, const unsigned char *e,
    size_t elen)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn_n = NULL, *bn_e = NULL;

	if ((bn_n = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (bn_e = BN_bin2bn(e, (int)elen, NULL)) == NULL ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn_n);
	BN_free(bn_e);
	return pkey;
}

/* Returns a new public EC key on crv from the coordinates, or NULL if
 * the point is not a valid point of the curve's group. */
static EVP_PKEY *
jwk_ec_pkey(enum jwk_curve crv, const unsigned char *x,
    const unsigned char *y)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx = NULL, *cctx = NULL;
	EVP_PKEY *pkey = NULL;
	unsigned char point[1 + 2 * 48];
	size_t len = jwk_curves[crv].len;

	point[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(point + 1, x, len);
	memcpy(point + 1 + len, y, len);
	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)jwk_curves[crv].group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(
	    OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * len);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (cctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) == NULL ||
	    EVP_PKEY_public_check(cctx) != 1) {
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(cctx);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
}

/* Parses the members of an RSA JWK into out. Returns 1, or 0 with p set. */
static int
jwk_parse_rsa(json_object *obj, struct jwk *out, struct problem *p)
{
	unsigned char *nbuf = NULL, *ebuf = NULL, *n, *e;
	size_t nlen, elen;
	EVP_PKEY *pkey = NULL;
	unsigned int top;
	int bits = 0, rc = 0;

	if (!jwk_member(obj, "n", &nbuf, &nlen, p) ||
	    !jwk_member(obj, "e", &ebuf, &elen, p))
		goto out;
	/* RFC 7518 wants no leading zero octets; accept them but drop
	 * them, so that the thumbprint is that of the canonical key. */
	for (n = nbuf; nlen > 0 && *n == 0; n++, nlen--)
		continue;
	for (e = ebuf; elen > 0 && *e == 0; e++, elen--)
		continue;
	/* the body size limit keeps nlen far below INT_MAX / 8 */
	if (nlen > 0 && nlen < INT_MAX / 8) {
		bits = (int)(nlen - 1) * 8;
		for (top = n[0]; top != 0; top >>= 1)
			bits++;
	} else if (nlen > 0)
		bits = INT_MAX;
	if (bits < JWK_RSA_MIN_BITS || bits > JWK_RSA_MAX_BITS)
		problem_set(p, PT_BAD_PUBLIC_KEY, "RSA key of %d bits refused: "
		    "the modulus must be %d to %d bits", bits,
		    JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS);
	else if ((n[nlen - 1] & 1) == 0)
		problem_set(p, PT_BAD_PUBLIC_KEY,
		    "RSA key refused: the modulus is even");
	else if (elen == 0 || (e[elen - 1] & 1) == 0)
		problem_set(p, PT_BAD_PUBLIC_KEY,
		    "RSA key refused: the public exponent must be odd");
	else if (elen < 3 || (elen == 3 && (e[0] << 16 | e[1] << 8 | e[2]) <
	    65537))
		problem_set(p, PT_BAD_PUBLIC_KEY,
		    "RSA key refused: the public exponent must be at least "
		    "65537");
	else if (elen > JWK_RSA_MAX_E_LEN)
		problem_set(p, PT_BAD_PUBLIC_KEY,
		    "RSA key refused: the public exponent must be at most "
		    "%d bits", JWK_RSA_MAX_E_LEN * 8);
	else if (weakkey_roca(n, nlen))
		problem_set(p, PT_BAD_PUBLIC_KEY, "RSA key refused: its "
		    "modulus has the ROCA fingerprint (CVE-2017-15361), so its "
		    "private key can be computed; generate a new key");
	else if ((pkey = jwk_rsa_pkey(n, nlen, e, elen)) == NULL) {
		ERR_clear_error();
		problem_set(p, PT_BAD_PUBLIC_KEY, "RSA key refused: "
		    "not a valid RSA public key");
	} else if (!jwk_finish(out, pkey, jwk_canon_rsa(n, nlen, e, elen),
	    bits, JWS_ALG_RS256))
		problem_set(p, PT_SERVER_INTERNAL,
		    "cannot compute the JWK thumbprint");
	else
		rc = 1;
out:
	free(nbuf);
	free(ebuf);
	return rc;
}

/* Parses the members of an EC JWK into out. Returns 1, or 0 with p set. */
static int
jwk_parse_ec(json_object *obj, struct jwk *out, struct problem *p)
{
	unsigned char *x = NULL, *y = NULL;
	size_t xlen, ylen;
	const char *crvname;
	enum jwk_curve crv;
	EVP_PKEY *pkey = NULL;
	int rc = 0;

	if ((crvname = json_get_str(obj, "crv")) == NULL) {
		problem_set(p, PT_MALFORMED,
		    "EC JWK has no \"crv\" string member");
		goto out;
	}
	if ((crv = jwk_curve_lookup(crvname)) == JWK_CRV__MAX) {
		problem_set(p, PT_BAD_PUBLIC_KEY, "EC curve \"%.32s\" is not "
		    "supported (supported: P-256, P-384)", crvname);
		goto out;
	}
	if (!jwk_member(obj, "x", &x, &xlen, p) ||
	    !jwk_member(obj, "y", &y, &ylen, p))
		goto out;
	if (xlen != jwk_curves[crv].len || ylen != jwk_curves[crv].len) {
		problem_set(p, PT_BAD_PUBLIC_KEY, "EC key refused: %s "
		    "coordinates must be %zu bytes each", jwk_curves[crv].jose,
		    jwk_curves[crv].len);
		goto out;
	}
	if ((pkey = jwk_ec_pkey(crv, x, y)) == NULL) {
		ERR_clear_error();
		problem_set(p, PT_BAD_PUBLIC_KEY, "EC key refused: (x, y) is "
		    "not a valid point of the %s curve", jwk_curves[crv].jose);
		goto out;
	}
	if (!jwk_finish(out, pkey, jwk_canon_ec(crv, x, y),
	    jwk_curves[crv].bits, jwk_curves[crv].alg)) {
		problem_set(p, PT_SERVER_INTERNAL,
		    "cannot compute the JWK thumbprint");
		goto out;
	}
	rc = 1;
out:
	free(x);
	free(y);
	return rc;
}

/*
 * Parses a public JWK (RSA or EC P-256/P-384). Returns 1 and fills out
 * (which the caller releases with jwk_free), or 0 with out zeroed and p
 * set: badPublicKey for an unacceptable key, malformed for a broken one.
 */
int
jwk_parse(json_object *obj, struct jwk *out, struct problem *p)
{
	const char *kty, *priv = NULL;
	size_t i;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (obj == NULL || !json_object_is_type(obj, json_type_object)) {
		problem_set(p, PT_MALFORMED, "JWK is not a JSON object");
		return 0;
	}
	for (i = 0; i < sizeof(jwk_private_members) /
	    sizeof(jwk_private_members[0]) && priv == NULL; i++)
		if (json_object_object_get_ex(obj, jwk_private_members[i],
		    NULL))
			priv = jwk_private_members[i];

	if (priv != NULL)
		problem_set(p, PT_BAD_PUBLIC_KEY, "JWK refused: it holds the "
		    "private member \"%s\"; send the public key only", priv);
	else if ((kty = json_get_str(obj, "kty")) == NULL)
		problem_set(p, PT_MALFORMED, "JWK has no \"kty\" string member");
	else if (strcmp(kty, "RSA") == 0)
		rc = jwk_parse_rsa(obj, out, p);
	else if (strcmp(kty, "EC") == 0)
		rc = jwk_parse_ec(obj, out, p);
	else
		problem_set(p, PT_BAD_PUBLIC_KEY, "JWK key type \"%.32s\" is "
		    "not supported (supported: RSA, EC)", kty);
	return rc;
}

/*
 * Builds the JWK of a public (or private: only its public half is used
 * for canon and thumbprint) RSA or EC P-256/P-384 key, without the size
 * policy of jwk_parse. out->pkey takes a new reference to pkey. Returns
 * 1, or 0 (unsupported key type) with out zeroed.
 */
int
jwk_from_pkey(EVP_PKEY *pkey, struct jwk *out)
{
	BIGNUM *a = NULL, *b = NULL;
	unsigned char *abuf = NULL, *bbuf = NULL;
	json_object *canon = NULL;
	char group[64];
	enum jwk_curve crv;
	enum jws_alg alg = JWS_ALG_NONE;
	size_t alen, blen;
	int bits = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	if (pkey == NULL)
		goto out;
	if (EVP_PKEY_is_a(pkey, "RSA")) {
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1)
			goto out;
		alen = (size_t)BN_num_bytes(a);
		blen = (size_t)BN_num_bytes(b);
		abuf = xmalloc(alen);
		bbuf = xmalloc(blen);
		BN_bn2bin(a, abuf);
		BN_bn2bin(b, bbuf);
		canon = jwk_canon_rsa(abuf, alen, bbuf, blen);
		bits = BN_num_bits(a);
		alg = JWS_ALG_RS256;
	} else if (EVP_PKEY_is_a(pkey, "EC")) {
		if (EVP_PKEY_get_utf8_string_param(pkey,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
		    NULL) != 1 ||
		    (crv = jwk_curve_lookup_group(group)) == JWK_CRV__MAX ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X,
		    &a) != 1 ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
		    &b) != 1)
			goto out;
		alen = jwk_curves[crv].len;
		abuf = xmalloc(alen);
		bbuf = xmalloc(alen);
		if (BN_bn2binpad(a, abuf, (int)alen) < 0 ||
		    BN_bn2binpad(b, bbuf, (int)alen) < 0)
			goto out;
		canon = jwk_canon_ec(crv, abuf, bbuf);
		bits = jwk_curves[crv].bits;
		alg = jwk_curves[crv].alg;
	} else
		goto out;
	if (EVP_PKEY_up_ref(pkey) != 1)
		goto out;
	rc = jwk_finish(out, pkey, canon, bits, alg);
	canon = NULL;
out:
	if (!rc)
		ERR_clear_error();
	json_object_put(canon);
	BN_free(a);
	BN_free(b);
	free(abuf);
	free(bbuf);
	return rc;
}

/* Releases what a jwk owns and zeroes it; NULL and zeroed are fine. */
void
jwk_free(struct jwk *k)
{
	if (k == NULL)
		return;
	EVP_MD_CTX_free(k->verifier);
	EVP_PKEY_free(k->pkey);
	json_object_put(k->canon);
	free(k->thumbprint);
	memset(k, 0, sizeof(*k));
}

/* Returns 1 if alg is the one the key calls for: RS256 for RSA, ES256
 * for P-256, ES384 for P-384; 0 otherwise. */
int
jwk_alg_matches(const struct jwk *k, enum jws_alg alg)
{
	int rc = 0;

	if (k == NULL || k->pkey == NULL)
		return 0;
	/* known since the key was read: no lookup of its type by name */
	if (k->alg != JWS_ALG_NONE)
		return alg == k->alg;
	switch (alg) {
	case JWS_ALG_RS256:
		rc = EVP_PKEY_is_a(k->pkey, "RSA");
		break;
	case JWS_ALG_ES256:
		rc = EVP_PKEY_is_a(k->pkey, "EC") && k->bits == 256;
		break;
	case JWS_ALG_ES384:
		rc = EVP_PKEY_is_a(k->pkey, "EC") && k->bits == 384;
		break;
	default:
		rc = 0;
		break;
	}
	return rc;
}

/* Returns base64url(SHA-256(s)), owned by the caller, or NULL. */
char *
sha256_b64u(const char *s)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (s == NULL ||
	    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return NULL;
	}
	return b64u_encode(md, mdlen);
}

/* Writes the DER INTEGER of the unsigned big-endian v[0..n) (n >= 1) at
 * out, which has room for n + 3 bytes; returns its size. */
static size_t
der_uint(unsigned char *out, const unsigned char *v, size_t n)
{
	size_t len;

	while (n > 1 && v[0] == 0) {	/* minimal: no leading zero octet */
		v++;
		n--;
	}
	len = n + ((v[0] & 0x80) != 0);	/* a zero octet keeps it positive */
	out[0] = 0x02;
	out[1] = (unsigned char)len;	/* len <= ECDSA_MAX_HALF + 1 < 128 */
	out[2] = 0;
	memcpy(out + 2 + (len - n), v, n);
	return 2 + len;
}

/*
 * Converts a JOSE ECDSA signature (r||s, two halves of equal size) to
 * DER: SEQUENCE { INTEGER r, INTEGER s }, encoded directly (as
 * i2d_ECDSA_SIG would, without big numbers in between). Returns a new
 * buffer (caller frees) with its size in *outlen, or NULL.
 */
unsigned char *
ecdsa_jose_to_der(const unsigned char *sig, size_t len, size_t *outlen)
{
	unsigned char ints[2 * (ECDSA_MAX_HALF + 3)], *der;
	size_t n, hdr;

	*outlen = 0;
	if (len == 0 || len % 2 != 0 || len > 2 * ECDSA_MAX_HALF)
		return NULL;
	n = der_uint(ints, sig, len / 2);
	n += der_uint(ints + n, sig + len / 2, len / 2);
	hdr = n < 0x80 ? 2 : 3;		/* n < 256 */
	der = xmalloc(hdr + n);
	der[0] = 0x30;
	if (hdr == 2)
		der[1] = (unsigned char)n;
	else {
		der[1] = 0x81;
		der[2] = (unsigned char)n;
	}
	memcpy(der + hdr, ints, n);
	*outlen = hdr + n;
	return der;
}

/*
 * Converts a DER ECDSA signature (strict DER, nothing after it) to the
 * JOSE form r||s, each half n bytes. Returns a new buffer of 2n bytes
 * (caller frees, size in *outlen), or NULL if r or s do not fit.
 */
unsigned char *
ecdsa_der_to_jose(const unsigned char *der, size_t len, size_t n,
    size_t *outlen)
{
	ECDSA_SIG *esig = NULL;
	const BIGNUM *r, *s;
	const unsigned char *d = der;
	unsigned char *out = NULL, *re = NULL, *q;
	int relen;

	*outlen = 0;
	if (len == 0 || len > 1024 || n == 0 || n > ECDSA_MAX_HALF)
		return NULL;
	if ((esig = d2i_ECDSA_SIG(NULL, &d, (long)len)) == NULL ||
	    d != der + len)
		goto out;
	/* refuse BER: the encoding must be the one DER allows */
	if ((relen = i2d_ECDSA_SIG(esig, NULL)) <= 0 || (size_t)relen != len)
		goto out;
	re = q = xmalloc((size_t)relen);
	if (i2d_ECDSA_SIG(esig, &q) != relen || memcmp(re, der, len) != 0)
		goto out;
	ECDSA_SIG_get0(esig, &r, &s);
	if (BN_is_negative(r) || BN_is_negative(s) ||
	    (size_t)BN_num_bytes(r) > n || (size_t)BN_num_bytes(s) > n)
		goto out;
	out = xmalloc(2 * n);
	if (BN_bn2binpad(r, out, (int)n) < 0 ||
	    BN_bn2binpad(s, out + n, (int)n) < 0) {
		free(out);
		out = NULL;
		goto out;
	}
	*outlen = 2 * n;
out:
	if (out == NULL)
		ERR_clear_error();
	free(re);
	ECDSA_SIG_free(esig);
	return out;
}
