/*
 * csrdec.c - PKCS#10 requests (RFC 2986) decoded with the public key left
 * as it is encoded. d2i_X509_REQ decodes the key at once through OpenSSL
 * 3.0's generic decoders, which look up and try every decoder of every
 * provider: about 0.1 ms for one RSA key, more than the rest of the
 * request and five times its signature check. An RSA key read here (the
 * only kind the CA certifies) costs a few microseconds; any other key, or
 * an RSA key encoded in any but the plain way, goes to those decoders, so
 * that what they accept or refuse stays the rule.
 */
#include <limits.h>
#include <stdlib.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "util.h"
#include "x509.h"

typedef struct {
	X509_ALGOR	*algor;
	ASN1_BIT_STRING	*key;
} CSR_SPKI;

typedef struct {
	ASN1_ENCODING	 enc;		/* the bytes signed, as received */
	ASN1_INTEGER	*version;
	X509_NAME	*subject;
	CSR_SPKI	*spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} CSR_INFO;

typedef struct {
	CSR_INFO	*info;
	X509_ALGOR	*sigalg;
	ASN1_BIT_STRING	*sig;
} CSR;

/* RSAPublicKey (RFC 8017 A.1.1) */
typedef struct {
	ASN1_INTEGER	*n;
	ASN1_INTEGER	*e;
} CSR_RSA;

ASN1_SEQUENCE(CSR_SPKI) = {
	ASN1_SIMPLE(CSR_SPKI, algor, X509_ALGOR),
	ASN1_SIMPLE(CSR_SPKI, key, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CSR_SPKI)

/* as OpenSSL's X509_REQ_INFO: the attributes are optional to accept the
 * requests that leave out their (required) empty set */
ASN1_SEQUENCE_enc(CSR_INFO, enc, NULL) = {
	ASN1_SIMPLE(CSR_INFO, version, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_INFO, subject, X509_NAME),
	ASN1_SIMPLE(CSR_INFO, spki, CSR_SPKI),
	ASN1_IMP_SET_OF_OPT(CSR_INFO, attributes, X509_ATTRIBUTE, 0)
} static_ASN1_SEQUENCE_END_ref(CSR_INFO, CSR_INFO)

ASN1_SEQUENCE(CSR) = {
	ASN1_SIMPLE(CSR, info, CSR_INFO),
	ASN1_SIMPLE(CSR, sigalg, X509_ALGOR),
	ASN1_SIMPLE(CSR, sig, ASN1_BIT_STRING)
} static_ASN1_SEQUENCE_END(CSR)

ASN1_SEQUENCE(CSR_RSA) = {
	ASN1_SIMPLE(CSR_RSA, n, ASN1_INTEGER),
	ASN1_SIMPLE(CSR_RSA, e, ASN1_INTEGER)
} static_ASN1_SEQUENCE_END(CSR_RSA)

struct csr_req {
	CSR		*csr;
	size_t		 trailing;	/* bytes after the request */
	EVP_PKEY	*pkey;		/* csr_req_key's, once decoded */
	int		 key_tried;
};

struct csr_req *
csr_decode(const unsigned char *der, size_t len)
{
	struct csr_req *r;
	const unsigned char *q = der;
	CSR *c;

	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (c = (CSR *)ASN1_item_d2i(NULL, &q, (long)len,
	    ASN1_ITEM_rptr(CSR))) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->csr = c;
	r->trailing = (size_t)(der + len - q);
	return r;
}

void
csr_req_free(struct csr_req *r)
{
	if (r == NULL)
		return;
	ASN1_item_free((ASN1_VALUE *)r->csr, ASN1_ITEM_rptr(CSR));
	EVP_PKEY_free(r->pkey);
	free(r);
}

/* Sets the key bits of spki; returns 0 if they are empty or do not fill
 * whole bytes. */
static int
spki_bits(const CSR_SPKI *spki, const unsigned char **key, int *keylen)
{
	const ASN1_BIT_STRING *k = spki->key;

	if ((k->flags & ASN1_STRING_FLAG_BITS_LEFT && (k->flags & 0x07) != 0) ||
	    k->length <= 0)
		return 0;
	*key = k->data;
	*keylen = k->length;
	return 1;
}

/*
 * Returns the RSA key of a plainly encoded rsaEncryption key (parameters
 * NULL or absent, no unused bits, RSAPublicKey with nothing after it,
 * positive modulus and exponent), or NULL for anything else.
 */
static EVP_PKEY *
rsa_key_fast(const CSR_SPKI *spki)
{
	const ASN1_OBJECT *oid;
	const unsigned char *bits, *p;
	CSR_RSA *k = NULL;
	BIGNUM *n = NULL, *e = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int ptype, len;

	X509_ALGOR_get0(&oid, &ptype, NULL, spki->algor);
	if (OBJ_obj2nid(oid) != NID_rsaEncryption ||
	    (ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) ||
	    !spki_bits(spki, &bits, &len))
		return NULL;
	p = bits;
	if ((k = (CSR_RSA *)ASN1_item_d2i(NULL, &p, len,
	    ASN1_ITEM_rptr(CSR_RSA))) == NULL || p != bits + len ||
	    ASN1_STRING_type(k->n) != V_ASN1_INTEGER ||
	    ASN1_STRING_type(k->e) != V_ASN1_INTEGER ||
	    (n = ASN1_INTEGER_to_BN(k->n, NULL)) == NULL ||
	    (e = ASN1_INTEGER_to_BN(k->e, NULL)) == NULL ||
	    BN_is_zero(n) || BN_is_zero(e))
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
 out:
	ERR_clear_error();
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	ASN1_item_free((ASN1_VALUE *)k, ASN1_ITEM_rptr(CSR_RSA));
	return pkey;
}

/* Returns the key decoded by OpenSSL's generic decoders, or NULL. */
static EVP_PKEY *
key_generic(const CSR_SPKI *spki)
{
	unsigned char *der = NULL;
	const unsigned char *q;
	EVP_PKEY *pkey = NULL;
	int n;

	if ((n = ASN1_item_i2d((const ASN1_VALUE *)spki, &der,
	    ASN1_ITEM_rptr(CSR_SPKI))) > 0) {
		q = der;
		pkey = d2i_PUBKEY(NULL, &q, n);
	}
	OPENSSL_free(der);
	ERR_clear_error();
	return pkey;
}

EVP_PKEY *
csr_req_key(struct csr_req *r)
{
	if (!r->key_tried) {
		r->key_tried = 1;
		if ((r->pkey = rsa_key_fast(r->csr->info->spki)) == NULL)
			r->pkey = key_generic(r->csr->info->spki);
	}
	return r->pkey;
}

size_t
csr_req_trailing(const struct csr_req *r)
{
	return r->trailing;
}

int
csr_req_sig_nid(const struct csr_req *r)
{
	const ASN1_OBJECT *oid;

	X509_ALGOR_get0(&oid, NULL, NULL, r->csr->sigalg);
	return OBJ_obj2nid(oid);
}

int
csr_req_verify(struct csr_req *r)
{
	EVP_PKEY *pkey;
	int ok;

	/* PKCS#10 knows version 1 (0) only, as X509_REQ_verify wants */
	if (ASN1_INTEGER_get(r->csr->info->version) != 0 ||
	    (pkey = csr_req_key(r)) == NULL)
		return 0;
	ok = ASN1_item_verify(ASN1_ITEM_rptr(CSR_INFO), r->csr->sigalg,
	    r->csr->sig, r->csr->info, pkey) == 1;
	ERR_clear_error();
	return ok;
}

const X509_NAME *
csr_req_subject(const struct csr_req *r)
{
	return r->csr->info->subject;
}

int
csr_req_spki(const struct csr_req *r, const X509_ALGOR **alg,
    const unsigned char **key, int *keylen)
{
	*alg = r->csr->info->spki->algor;
	return spki_bits(r->csr->info->spki, key, keylen);
}

/*
 * As OpenSSL 3's X509_REQ_get_extensions: the extensions of the first
 * extensionRequest attribute found (PKCS#9's, else Microsoft's); an empty
 * list when there is none or it has no value; NULL when its value is not
 * a list of extensions.
 */
STACK_OF(X509_EXTENSION) *
csr_req_extensions(const struct csr_req *r)
{
	static const int ext_nids[] = { NID_ext_req, NID_ms_ext_req };
	const STACK_OF(X509_ATTRIBUTE) *attrs = r->csr->info->attributes;
	ASN1_TYPE *ext = NULL;
	const unsigned char *p;
	STACK_OF(X509_EXTENSION) *exts;
	size_t i;
	int idx;

	for (i = 0; i < sizeof(ext_nids) / sizeof(ext_nids[0]); i++)
		if ((idx = X509at_get_attr_by_NID(attrs, ext_nids[i],
		    -1)) >= 0) {
			ext = X509_ATTRIBUTE_get0_type(
			    X509at_get_attr(attrs, idx), 0);
			break;
		}
	if (ext == NULL)
		return sk_X509_EXTENSION_new_null();
	if (ext->type != V_ASN1_SEQUENCE)
		return NULL;
	p = ext->value.sequence->data;
	exts = (STACK_OF(X509_EXTENSION) *)ASN1_item_d2i(NULL, &p,
	    ext->value.sequence->length, ASN1_ITEM_rptr(X509_EXTENSIONS));
	ERR_clear_error();
	return exts;
}
