/*
 * jose.h - base64url, JWK and flattened JWS (RFC 7515, 7517, 7518, 7638)
 * as RFC 8555 uses them, strictly.
 */
#ifndef ACME_JOSE_H
#define ACME_JOSE_H

#include <stddef.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "problem.h"

/* Returns the unpadded base64url encoding of buf; caller frees. */
char	*b64u_encode(const unsigned char *buf, size_t len);
/* Decodes unpadded base64url. Refuses padding, characters outside the
 * alphabet, a length of 1 mod 4 and non-zero trailing bits (non-canonical
 * encodings). Returns 1 and a new buffer (*out, NUL-terminated for
 * convenience, *outlen excluding it) or 0. */
int	 b64u_decode(const char *s, unsigned char **out, size_t *outlen);

enum jws_alg {
	JWS_ALG_NONE,
	JWS_ALG_RS256,
	JWS_ALG_ES256,
	JWS_ALG_ES384,
	JWS_ALG_HS256,
	JWS_ALG__MAX
};

/* Returns the algorithm for its JOSE name, JWS_ALG_NONE if unsupported. */
enum jws_alg jws_alg_lookup(const char *);

struct jwk {
	EVP_PKEY	*pkey;		/* owned */
	json_object	*canon;		/* owned; required public members only */
	char		*thumbprint;	/* owned; RFC 7638 SHA-256, base64url */
	int		 bits;		/* RSA modulus size or EC curve size */
	enum jws_alg	 alg;		/* the one it signs with; JWS_ALG_NONE:
					 * ask pkey (jwk_alg_matches) */
	EVP_MD_CTX	*verifier;	/* owned; ready to verify alg's
					 * signatures, copied by jws_verify
					 * (NULL: set up there each time) */
};

/* Parses a public JWK: RSA (n, e; 2048 to 4096 bits, odd e >= 65537) or
 * EC P-256/P-384 (point on the curve). A private member ("d", "p"...)
 * is refused. Returns 1 and fills out, or 0 and sets p (badPublicKey or
 * malformed). */
int	 jwk_parse(json_object *obj, struct jwk *out, struct problem *p);
/* Builds the JWK of a public key (for comparisons and tests). */
int	 jwk_from_pkey(EVP_PKEY *pkey, struct jwk *out);
void	 jwk_free(struct jwk *);
/* Returns 1 if alg is the one the key's type calls for (RS256 with RSA,
 * ES256 with P-256, ES384 with P-384). */
int	 jwk_alg_matches(const struct jwk *, enum jws_alg);

struct jws {
	json_object	*protected;	/* owned; decoded protected header */
	char		*signing_input;	/* owned; "protected.payload" */
	unsigned char	*payload;	/* owned; decoded; NUL-terminated */
	size_t		 payload_len;	/* 0 for POST-as-GET */
	unsigned char	*sig;		/* owned */
	size_t		 sig_len;
	enum jws_alg	 alg;
	const char	*nonce;		/* borrowed from protected, or NULL */
	const char	*url;		/* borrowed from protected, or NULL */
	const char	*kid;		/* borrowed from protected, or NULL */
	json_object	*jwk_obj;	/* borrowed from protected, or NULL */
};

/* Parses a flattened JSON JWS (RFC 7515 section 7.2.2) strictly: exactly
 * the members "protected", "payload", "signature" (no "header", no
 * "signatures", no compact form), each valid base64url; the protected
 * header a JSON object with a supported "alg", "url" a string, "nonce"
 * a string if present, no "b64"/"crit", and at most one of "jwk"/"kid"
 * (both is malformed). Neither is accepted: the CALLER must check that
 * the one it needs is there (out->jwk_obj / out->kid; EAB inner JWS
 * carry "kid" only, key-change inner JWS "jwk" only). HS256 is parsed
 * but only jws_verify_hmac accepts it. Returns 1 or 0 with p set
 * (malformed or badSignatureAlgorithm). */
int	 jws_parse(const char *body, size_t len, struct jws *out,
	    struct problem *p);
/* Verifies the signature with a public key. The algorithm must match the
 * key; ECDSA signatures are the JOSE r||s form of the curve's exact size.
 * Returns 1 if valid, 0 otherwise with p set. */
int	 jws_verify(const struct jws *, const struct jwk *,
	    struct problem *p);
/* Returns a new context ready to verify the signatures of alg (RS256,
 * ES256, ES384) with pkey, for jws_verify to copy; NULL if it cannot be
 * set up. The caller frees it (EVP_MD_CTX_free). */
EVP_MD_CTX *jws_verifier_new(EVP_PKEY *pkey, enum jws_alg alg);
/* Verifies an HS256 signature with a MAC key (constant time). */
int	 jws_verify_hmac(const struct jws *, const unsigned char *key,
	    size_t keylen, struct problem *p);
/* Parses the payload as a JSON object; returns a new reference, or NULL
 * with p set (malformed). An empty payload is refused. */
json_object *jws_payload_json(const struct jws *, struct problem *p);
void	 jws_free(struct jws *);

/* Returns base64url(SHA-256(s)); caller frees. */
char	*sha256_b64u(const char *s);

/* ECDSA conversion between JOSE r||s (each half n bytes) and DER.
 * Return a new buffer or NULL. */
unsigned char *ecdsa_jose_to_der(const unsigned char *, size_t, size_t *);
unsigned char *ecdsa_der_to_jose(const unsigned char *, size_t, size_t n,
	    size_t *);

#endif
