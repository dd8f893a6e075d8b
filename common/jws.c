/*
 * jws.c - the flattened JSON JWS of RFC 8555 section 6.2, parsed
 * strictly, and its verification (RS256, ES256, ES384; HS256 for the
 * external account binding only).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "jose.h"
#include "jsonutil.h"
#include "problem.h"
#include "util.h"

#define JWS_SUPPORTED	"RS256, ES256, ES384"

static const struct {
	const char	*name;		/* JOSE "alg" */
	const char	*md;		/* digest */
	size_t		 ec_len;	/* ECDSA: size of r and of s */
} jws_algs[JWS_ALG__MAX] = {
	[JWS_ALG_NONE] = { NULL, NULL, 0 },
	[JWS_ALG_RS256] = { "RS256", "SHA256", 0 },
	[JWS_ALG_ES256] = { "ES256", "SHA256", 32 },
	[JWS_ALG_ES384] = { "ES384", "SHA384", 48 },
	[JWS_ALG_HS256] = { "HS256", "SHA256", 0 },
};

/* Returns the algorithm of a JOSE "alg" name (case-sensitive), or
 * JWS_ALG_NONE if it is unsupported ("none" included). */
enum jws_alg
jws_alg_lookup(const char *name)
{
	int i;

	if (name == NULL)
		return JWS_ALG_NONE;
	for (i = JWS_ALG_NONE + 1; i < JWS_ALG__MAX; i++)
		if (strcmp(jws_algs[i].name, name) == 0)
			return (enum jws_alg)i;
	return JWS_ALG_NONE;
}

/* Returns the string value of v, or NULL if v is not a string or holds
 * a NUL character (borrowed from v). */
static const char *
jws_string(json_object *v)
{
	const char *s;

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if (s == NULL || strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* Returns 1 if buf[0..len) looks like a compact JWS (three dot-separated
 * base64url parts), so that its refusal can say why. */
static int
jws_looks_compact(const char *buf, size_t len)
{
	size_t i, dots = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '.')
			dots++;
		else if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
		    "vwxyz0123456789-_", buf[i]) == NULL || buf[i] == '\0')
			return 0;
	}
	return dots == 2;
}

/*
 * Checks the outer object: exactly "protected", "payload", "signature",
 * all strings. Sets the three (borrowed) strings. Returns 1, or 0 with p
 * set (malformed).
 */
static int
jws_parse_outer(json_object *obj, const char **prot, const char **payload,
    const char **sig, struct problem *p)
{
	const char *s;
	int rc = 1;

	*prot = *payload = *sig = NULL;
	json_object_object_foreach(obj, key, val) {
		if (!rc)
			break;
		if (strcmp(key, "header") == 0) {
			problem_set(p, PT_MALFORMED, "JWS refused: an "
			    "unprotected \"header\" is not allowed");
			rc = 0;
		} else if (strcmp(key, "signatures") == 0) {
			problem_set(p, PT_MALFORMED, "JWS refused: the general "
			    "JSON serialization (\"signatures\") is not allowed; "
			    "use the flattened JSON serialization");
			rc = 0;
		} else if (strcmp(key, "protected") != 0 &&
		    strcmp(key, "payload") != 0 &&
		    strcmp(key, "signature") != 0) {
			problem_set(p, PT_MALFORMED, "JWS refused: unexpected "
			    "member \"%.32s\" (only \"protected\", \"payload\" "
			    "and \"signature\" are allowed)", key);
			rc = 0;
		} else if ((s = jws_string(val)) == NULL) {
			problem_set(p, PT_MALFORMED, "JWS refused: \"%s\" is "
			    "not a string", key);
			rc = 0;
		} else if (strcmp(key, "protected") == 0)
			*prot = s;
		else if (strcmp(key, "payload") == 0)
			*payload = s;
		else
			*sig = s;
	}
	if (!rc)
		return 0;
	if (*prot == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS refused: no \"protected\" member");
	else if (*payload == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS refused: no \"payload\" member");
	else if (*sig == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS refused: no \"signature\" member");
	else
		return 1;
	return 0;
}

/*
 * Checks the decoded protected header and sets alg and the borrowed
 * nonce, url, kid and jwk_obj of out. Returns 1, or 0 with p set.
 */
static int
jws_parse_header(struct jws *out, struct problem *p)
{
	json_object *h = out->protected, *v;
	const char *alg;
	int rc = 0;

	if (!json_object_object_get_ex(h, "alg", &v))
		problem_set(p, PT_MALFORMED,
		    "JWS protected header has no \"alg\"");
	else if ((alg = jws_string(v)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS protected header \"alg\" is not a string "
		    "(or holds a NUL character)");
	else if ((out->alg = jws_alg_lookup(alg)) == JWS_ALG_NONE)
		problem_set(p, PT_BAD_SIGNATURE_ALGORITHM, "JWS algorithm "
		    "\"%.32s\" is not supported (supported: " JWS_SUPPORTED ")",
		    alg);
	else if (json_object_object_get_ex(h, "b64", NULL))
		problem_set(p, PT_MALFORMED, "JWS protected header "
		    "\"b64\" (RFC 7797 unencoded payload) is not allowed");
	else if (json_object_object_get_ex(h, "crit", NULL))
		problem_set(p, PT_MALFORMED, "JWS protected header "
		    "\"crit\" is not allowed: no extension is understood");
	else if (!json_object_object_get_ex(h, "url", &v))
		problem_set(p, PT_MALFORMED,
		    "JWS protected header has no \"url\"");
	else if ((out->url = jws_string(v)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS protected header \"url\" is not a string "
		    "(or holds a NUL character)");
	else if (json_object_object_get_ex(h, "nonce", &v) &&
	    (out->nonce = jws_string(v)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS protected header \"nonce\" is not a string "
		    "(or holds a NUL character)");
	else if (json_object_object_get_ex(h, "jwk", NULL) &&
	    json_object_object_get_ex(h, "kid", NULL))
		problem_set(p, PT_MALFORMED, "JWS protected header carries "
		    "both \"jwk\" and \"kid\"; exactly one is allowed");
	else if (json_object_object_get_ex(h, "jwk", &v) &&
	    (out->jwk_obj = json_get_typed(h, "jwk",
	    json_type_object)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS protected header \"jwk\" is not a JSON object");
	else if (json_object_object_get_ex(h, "kid", &v) &&
	    (out->kid = jws_string(v)) == NULL)
		problem_set(p, PT_MALFORMED,
		    "JWS protected header \"kid\" is not a string "
		    "(or holds a NUL character)");
	else
		rc = 1;
	return rc;
}

/*
 * Parses a flattened JSON JWS strictly (see jose.h). Whether "jwk" or
 * "kid" is required is the caller's business. Returns 1 with out filled
 * (release with jws_free), or 0 with out zeroed and p set (malformed or
 * badSignatureAlgorithm).
 */
int
jws_parse(const char *body, size_t len, struct jws *out, struct problem *p)
{
	json_object *obj = NULL;
	const char *prot, *payload, *sig;
	unsigned char *hbuf = NULL;
	size_t hlen;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (body == NULL || (obj = json_parse_strict(body, len)) == NULL) {
		if (body != NULL && jws_looks_compact(body, len))
			problem_set(p, PT_MALFORMED, "JWS refused: the "
			    "compact serialization is not allowed; use the "
			    "flattened JSON serialization");
		else
			problem_set(p, PT_MALFORMED,
			    "request body is not valid JSON");
		goto out;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		problem_set(p, PT_MALFORMED, "request body is not a JSON "
		    "object (a flattened JWS is required)");
		goto out;
	}
	if (!jws_parse_outer(obj, &prot, &payload, &sig, p))
		goto out;
	if (!b64u_decode(prot, &hbuf, &hlen)) {
		problem_set(p, PT_MALFORMED,
		    "JWS \"protected\" is not valid base64url");
		goto out;
	}
	if (!b64u_decode(payload, &out->payload, &out->payload_len)) {
		problem_set(p, PT_MALFORMED,
		    "JWS \"payload\" is not valid base64url");
		goto out;
	}
	if (!b64u_decode(sig, &out->sig, &out->sig_len)) {
		problem_set(p, PT_MALFORMED,
		    "JWS \"signature\" is not valid base64url");
		goto out;
	}
	if ((out->protected = json_parse_strict((const char *)hbuf,
	    hlen)) == NULL ||
	    !json_object_is_type(out->protected, json_type_object)) {
		problem_set(p, PT_MALFORMED,
		    "JWS protected header is not a JSON object");
		goto out;
	}
	/* The algorithm is judged before the signature, so that "none"
	 * (whose signature is empty) is badSignatureAlgorithm. */
	if (!jws_parse_header(out, p))
		goto out;
	if (out->sig_len == 0) {
		problem_set(p, PT_MALFORMED, "JWS \"signature\" is empty");
		goto out;
	}
	out->signing_input = xasprintf("%s.%s", prot, payload);
	rc = 1;
out:
	if (!rc)
		jws_free(out);
	free(hbuf);
	json_object_put(obj);
	return rc;
}

/* Returns the alg a key signs with, for error details. */
static const char *
jws_key_alg(const struct jwk *key)
{
	int i;

	for (i = JWS_ALG_NONE + 1; i < JWS_ALG__MAX; i++)
		if (jwk_alg_matches(key, (enum jws_alg)i))
			return jws_algs[i].name;
	return "none of " JWS_SUPPORTED;
}

/*
 * Sets up the verification of alg's signatures with pkey once, for a key
 * that verifies many (jwk.c keeps the context in the jwk): the digest and
 * signature method are looked up by name here, not at each jws_verify.
 * Returns a new context (the caller frees it), or NULL with the error
 * queue cleared.
 */
EVP_MD_CTX *
jws_verifier_new(EVP_PKEY *pkey, enum jws_alg alg)
{
	EVP_MD_CTX *ctx = NULL;

	if (pkey == NULL || alg <= JWS_ALG_NONE || alg >= JWS_ALG__MAX ||
	    alg == JWS_ALG_HS256)
		return NULL;
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(ctx, NULL, jws_algs[alg].md, NULL, NULL,
	    pkey, NULL) != 1) {
		ERR_clear_error();
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Returns a new context ready to verify one signature of alg with key:
 * a copy of the key's verifier, or one set up now; NULL on failure. */
static EVP_MD_CTX *
jws_verifier(const struct jwk *key, enum jws_alg alg)
{
	EVP_MD_CTX *ctx;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (key->verifier != NULL && key->alg == alg)
		ok = EVP_MD_CTX_copy_ex(ctx, key->verifier);
	else
		ok = EVP_DigestVerifyInit_ex(ctx, NULL, jws_algs[alg].md, NULL,
		    NULL, key->pkey, NULL);
	if (ok != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	/* used once: finalised in place rather than on a copy */
	EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	return ctx;
}

/*
 * Verifies the signature of a parsed JWS with a public key: RS256
 * (RSASSA-PKCS1-v1_5), ES256 or ES384 (r||s of the curve's exact size),
 * the algorithm matching the key. Returns 1 if valid, else 0 with p set
 * (badSignatureAlgorithm, or malformed for a bad signature as RFC 8555
 * section 6.2 asks).
 */
int
jws_verify(const struct jws *jws, const struct jwk *key, struct problem *p)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig;
	size_t siglen, eclen;
	int rc = 0;

	if (jws->alg <= JWS_ALG_NONE || jws->alg >= JWS_ALG__MAX ||
	    jws->alg == JWS_ALG_HS256) {
		problem_set(p, PT_BAD_SIGNATURE_ALGORITHM, "JWS algorithm "
		    "%s is not supported here (supported: " JWS_SUPPORTED ")",
		    jws->alg > JWS_ALG_NONE && jws->alg < JWS_ALG__MAX ?
		    jws_algs[jws->alg].name : "none");
		goto out;
	}
	if (!jwk_alg_matches(key, jws->alg)) {
		problem_set(p, PT_BAD_SIGNATURE_ALGORITHM, "JWS algorithm %s "
		    "does not match the key, which signs with %s",
		    jws_algs[jws->alg].name, jws_key_alg(key));
		goto out;
	}
	sig = jws->sig;
	siglen = jws->sig_len;
	if ((eclen = jws_algs[jws->alg].ec_len) != 0) {
		if (jws->sig_len != 2 * eclen) {
			problem_set(p, PT_MALFORMED, "JWS signature is "
			    "invalid: %s signatures are r||s, %zu bytes, not "
			    "%zu (DER is not accepted)",
			    jws_algs[jws->alg].name, 2 * eclen, jws->sig_len);
			goto out;
		}
		if ((der = ecdsa_jose_to_der(jws->sig, jws->sig_len,
		    &siglen)) == NULL) {
			problem_set(p, PT_MALFORMED, "JWS signature is invalid");
			goto out;
		}
		sig = der;
	}
	if ((ctx = jws_verifier(key, jws->alg)) == NULL ||
	    EVP_DigestVerify(ctx, sig, siglen,
	    (const unsigned char *)jws->signing_input,
	    strlen(jws->signing_input)) != 1) {
		problem_set(p, PT_MALFORMED, "JWS signature is invalid");
		goto out;
	}
	rc = 1;
out:
	if (!rc)
		ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	free(der);
	return rc;
}

/*
 * Verifies the HS256 signature of a parsed JWS (the inner JWS of an
 * external account binding) with a MAC key, in constant time. Returns
 * 1 if valid, else 0 with p set (malformed; the caller rewrites it).
 */
int
jws_verify_hmac(const struct jws *jws, const unsigned char *key,
    size_t keylen, struct problem *p)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t maclen = 0;
	int rc = 0;

	if (jws->alg != JWS_ALG_HS256)
		problem_set(p, PT_MALFORMED, "external account binding JWS "
		    "must use HS256, not %s", jws->alg > JWS_ALG_NONE &&
		    jws->alg < JWS_ALG__MAX ? jws_algs[jws->alg].name : "none");
	else if (key == NULL || keylen == 0)
		problem_set(p, PT_MALFORMED,
		    "external account binding MAC key is empty");
	else if (jws->sig_len != 32)
		problem_set(p, PT_MALFORMED, "external account binding "
		    "signature is invalid: HS256 signatures are 32 bytes, "
		    "not %zu", jws->sig_len);
	else if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, keylen,
	    (const unsigned char *)jws->signing_input,
	    strlen(jws->signing_input), mac, sizeof(mac), &maclen) == NULL ||
	    maclen != 32) {
		ERR_clear_error();
		problem_set(p, PT_MALFORMED, "external account binding "
		    "signature cannot be computed");
	} else if (!ct_equal(mac, jws->sig, 32))
		problem_set(p, PT_MALFORMED,
		    "external account binding signature is invalid");
	else
		rc = 1;
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* Returns the payload parsed as a JSON object (a new reference owned by
 * the caller), or NULL with p set (malformed); an empty payload (a
 * POST-as-GET) is refused. */
json_object *
jws_payload_json(const struct jws *jws, struct problem *p)
{
	json_object *obj = NULL;

	if (jws->payload_len == 0)
		problem_set(p, PT_MALFORMED, "JWS payload is empty; this "
		    "request needs a JSON object");
	else if ((obj = json_parse_strict((const char *)jws->payload,
	    jws->payload_len)) == NULL)
		problem_set(p, PT_MALFORMED, "JWS payload is not valid JSON");
	else if (!json_object_is_type(obj, json_type_object)) {
		problem_set(p, PT_MALFORMED,
		    "JWS payload is not a JSON object");
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

/* Releases what a jws owns and zeroes it; zeroed is fine. */
void
jws_free(struct jws *jws)
{
	if (jws == NULL)
		return;
	json_object_put(jws->protected);
	free(jws->signing_input);
	free(jws->payload);
	free(jws->sig);
	memset(jws, 0, sizeof(*jws));
}
