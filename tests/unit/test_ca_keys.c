/*
 * test_ca_keys.c - the CA's key types (common/ca.c: ca_init_type, acmectl
 * ca init --key-type) and the OCSP path that reads no certificate's key
 * (common/ocsp.c: ocsp_cert_issued_by, ocsp_response_sign_id). One CA of
 * each type: its keys and signatures, a leaf issued by ca_issue verified
 * up to the root, its OCSP response verified with OCSP_basic_verify and
 * a CRL verified with the intermediate's key. The issuer check is
 * compared with X509_check_issued, and the CertID written by hand with
 * the one OCSP_cert_id_new makes.
 */
#include <sys/stat.h>

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ocsp.h"
#include "util.h"
#include "x509.h"
#include "certfiles.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A CA made by ca_init_type, loaded as the worker loads it. */
struct test_ca {
	char			*dir;
	struct ca		 ca;
	struct ocsp_signer	 signer;
	X509			*root;
};

struct fixture {
	char		 tmp[64];
	struct test_ca	 cas[CAK__MAX];
	struct test_ca	 other;		/* rsa2048, the same name as cas[] */
	EVP_PKEY	*leaf_key;	/* RSA 2048, the key of every CSR */
	unsigned char	*csr;		/* DER */
	size_t		 csr_len;
};

static struct fixture *fx;

/* What ca_init_type must make for each type. */
static const struct type_case {
	enum ca_key_type type;
	const char	*name;
	int		 key_id;	/* root and intermediate keys */
	int		 bits;
	int		 sig_nid;	/* their signatures, and the leaf's */
	int		 signer_id;	/* the OCSP signer's key */
	int		 signer_bits;
	int		 resp_sig_nid;	/* the OCSP responses' signature */
} type_cases[] = {
	{ CAK_RSA2048, "rsa2048", EVP_PKEY_RSA, 2048,
	  NID_sha256WithRSAEncryption, EVP_PKEY_RSA, 2048,
	  NID_sha256WithRSAEncryption },
	{ CAK_RSA3072, "rsa3072", EVP_PKEY_RSA, 3072,
	  NID_sha256WithRSAEncryption, EVP_PKEY_RSA, 2048,
	  NID_sha256WithRSAEncryption },
	{ CAK_RSA4096, "rsa4096", EVP_PKEY_RSA, 4096,
	  NID_sha256WithRSAEncryption, EVP_PKEY_RSA, 2048,
	  NID_sha256WithRSAEncryption },
	{ CAK_EC_P256, "ec-p256", EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256,
	  EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256 },
	{ CAK_EC_P384, "ec-p384", EVP_PKEY_EC, 384, NID_ecdsa_with_SHA384,
	  EVP_PKEY_EC, 256, NID_ecdsa_with_SHA256 },
};

/* Makes and loads a CA "Test" of type t in tmp/sub. Returns 1 or 0. */
static int
test_ca_make(struct test_ca *c, const char *tmp, const char *sub,
    enum ca_key_type t)
{
	c->dir = xasprintf("%s/%s", tmp, sub);
	if (!ca_init_type(c->dir, "Test", t) || !ca_load(&c->ca, c->dir) ||
	    !ocsp_signer_load(&c->signer, c->dir, c->ca.cert))
		return 0;
	c->root = cert_read(c->dir, "root.pem");
	return 1;
}

static void
test_ca_free(struct test_ca *c)
{
	ca_free(&c->ca);
	ocsp_signer_free(&c->signer);
	X509_free(c->root);
	free(c->dir);
}

/* Returns the DER of a CSR for www.example.org signed by key (OpenSSL
 * allocates it), in *len. */
static unsigned char *
csr_make(EVP_PKEY *key, size_t *len)
{
	X509_REQ *req;
	X509_NAME *n;
	STACK_OF(X509_EXTENSION) *exts;
	unsigned char *der = NULL;
	int l;

	if ((req = X509_REQ_new()) == NULL || (n = X509_NAME_new()) == NULL ||
	    (exts = sk_X509_EXTENSION_new_null()) == NULL)
		return NULL;
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"www.example.org", -1, -1, 0);
	sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL,
	    NID_subject_alt_name, "DNS:www.example.org"));
	if (X509_REQ_set_subject_name(req, n) != 1 ||
	    X509_REQ_set_pubkey(req, key) != 1 ||
	    X509_REQ_add_extensions(req, exts) != 1 ||
	    X509_REQ_sign(req, key, EVP_sha256()) <= 0 ||
	    (l = i2d_X509_REQ(req, &der)) <= 0)
		der = NULL;
	else
		*len = (size_t)l;
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(n);
	X509_REQ_free(req);
	return der;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char sub[32];
	size_t i;

	umask(022);
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test_ca_keys.XXXXXX");
	if (mkdtemp(f->tmp) == NULL)
		return -1;
	for (i = 0; i < NELEM(type_cases); i++) {
		snprintf(sub, sizeof(sub), "%s", type_cases[i].name);
		if (!test_ca_make(&f->cas[type_cases[i].type], f->tmp, sub,
		    type_cases[i].type))
			return -1;
	}
	if (!test_ca_make(&f->other, f->tmp, "other", CAK_RSA2048) ||
	    (f->leaf_key = EVP_RSA_gen(2048)) == NULL ||
	    (f->csr = csr_make(f->leaf_key, &f->csr_len)) == NULL)
		return -1;
	*state = fx = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	if (f == NULL)
		return 0;
	for (i = 0; i < CAK__MAX; i++)
		test_ca_free(&f->cas[i]);
	test_ca_free(&f->other);
	EVP_PKEY_free(f->leaf_key);
	OPENSSL_free(f->csr);
	rm_tree(f->tmp);
	free(f);
	fx = NULL;
	return 0;
}

/* Issues a leaf for www.example.org from c with ca_issue; returns it
 * parsed, and its DER (caller frees) in *der, *len. */
static X509 *
leaf_issue(const struct test_ca *c, unsigned char **der, size_t *len)
{
	static const char *const names[] = { "www.example.org" };
	struct issue_params ip;
	unsigned char serial[16];
	const unsigned char *p;
	char *pem = NULL;
	X509 *x;

	rand_bytes(serial, sizeof(serial));
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x01);
	memset(&ip, 0, sizeof(ip));
	ip.csr_der = fx->csr;
	ip.csr_len = fx->csr_len;
	ip.names = names;
	ip.nnames = 1;
	ip.serial = serial;
	ip.serial_len = sizeof(serial);
	ip.not_before = time(NULL) - 60;
	ip.not_after = ip.not_before + 90 * 86400;
	assert_int_equal(ca_issue(&c->ca, &ip, &pem, der, len), 1);
	free(pem);
	p = *der;
	assert_non_null(x = d2i_X509(NULL, &p, (long)*len));
	return x;
}

/* Returns x's serial in lower-case hex, as certificate.serial holds it
 * (caller frees). */
static char *
serial_of(X509 *x)
{
	BIGNUM *bn;
	char *hex, *s;
	size_t i;

	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL));
	assert_non_null(hex = BN_bn2hex(bn));
	s = xstrdup(hex);
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] >= 'A' && s[i] <= 'F')
			s[i] = (char)(s[i] - 'A' + 'a');
	OPENSSL_free(hex);
	BN_free(bn);
	return s;
}

/* Returns the DER of x in a new buffer with room for one more byte
 * (caller frees), its length in *len. */
static unsigned char *
der_of(X509 *x, size_t *len)
{
	unsigned char *der, *p;
	int n;

	assert_true((n = i2d_X509(x, NULL)) > 0);
	der = p = xmalloc((size_t)n + 1);
	assert_int_equal(i2d_X509(x, &p), n);
	*len = (size_t)n;
	return der;
}

/* Returns the hex of a's DER (caller frees), to compare encodings. */
static char *
spki_hex(const X509_PUBKEY *a)
{
	unsigned char *der = NULL;
	char *s;
	int i, n;

	assert_true((n = i2d_X509_PUBKEY(a, &der)) > 0);
	s = xmalloc(2 * (size_t)n + 1);
	for (i = 0; i < n; i++)
		snprintf(s + 2 * i, 3, "%02x", der[i]);
	OPENSSL_free(der);
	return s;
}

/* ---- names and digests ---- */

static void
test_key_type_names(void **state)
{
	static const char *const bad[] = { "", "RSA2048", "rsa", "rsa1024",
	    "ec-p521", "ec-P256", "p256", "rsa3072 ", "ed25519" };
	enum ca_key_type t;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(type_cases); i++) {
		const struct type_case *c = &type_cases[i];

		if (ca_key_type_parse(c->name, &t) != 1 || t != c->type)
			fail_msg("%s: not parsed as type %d", c->name,
			    (int)c->type);
		if (ca_key_type_name(c->type) == NULL ||
		    strcmp(ca_key_type_name(c->type), c->name) != 0)
			fail_msg("type %d: got name %s, want %s", (int)c->type,
			    ca_key_type_name(c->type), c->name);
		if (strstr(CA_KEY_TYPES, c->name) == NULL)
			fail_msg("%s missing from CA_KEY_TYPES", c->name);
	}
	assert_int_equal(NELEM(type_cases), CAK__MAX);
	for (i = 0; i < NELEM(bad); i++)
		if (ca_key_type_parse(bad[i], &t) != 0)
			fail_msg("\"%s\" parsed as a key type", bad[i]);
	assert_int_equal(ca_key_type_parse(NULL, &t), 0);
	assert_null(ca_key_type_name(CAK__MAX));
}

static void
test_sign_digest(void **state)
{
	static const struct {
		enum ca_key_type type;
		int		 md_nid;
	} cases[] = {
		{ CAK_RSA2048, NID_sha256 },
		{ CAK_RSA3072, NID_sha256 },
		{ CAK_RSA4096, NID_sha256 },
		{ CAK_EC_P256, NID_sha256 },
		{ CAK_EC_P384, NID_sha384 },
	};
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		got = EVP_MD_get_type(ca_sign_digest(
		    fx->cas[cases[i].type].ca.key));
		if (got != cases[i].md_nid)
			fail_msg("%s: got digest %s, want %s",
			    ca_key_type_name(cases[i].type), OBJ_nid2sn(got),
			    OBJ_nid2sn(cases[i].md_nid));
	}
}

/* ---- what ca_init_type makes ---- */

static void
test_ca_by_type(void **state)
{
	unsigned char nh[OCSP_HASH_LEN], kh[OCSP_HASH_LEN];
	const EVP_PKEY *k;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(type_cases); i++) {
		const struct type_case *c = &type_cases[i];
		const struct test_ca *t = &fx->cas[c->type];
		const EVP_PKEY *keys[] = { X509_get0_pubkey(t->root),
		    X509_get0_pubkey(t->ca.cert), t->ca.key };
		size_t j;

		for (j = 0; j < NELEM(keys); j++) {
			k = keys[j];
			assert_non_null(k);
			if (EVP_PKEY_get_base_id(k) != c->key_id ||
			    EVP_PKEY_get_bits(k) != c->bits)
				fail_msg("%s: key %zu: got type %d of %d bits, "
				    "want %d of %d", c->name, j,
				    EVP_PKEY_get_base_id(k),
				    EVP_PKEY_get_bits(k), c->key_id, c->bits);
		}
		if (X509_get_signature_nid(t->root) != c->sig_nid ||
		    X509_get_signature_nid(t->ca.cert) != c->sig_nid ||
		    X509_get_signature_nid(t->signer.cert) != c->sig_nid)
			fail_msg("%s: got signatures %s, %s, %s, want %s",
			    c->name,
			    OBJ_nid2sn(X509_get_signature_nid(t->root)),
			    OBJ_nid2sn(X509_get_signature_nid(t->ca.cert)),
			    OBJ_nid2sn(X509_get_signature_nid(
			    t->signer.cert)), OBJ_nid2sn(c->sig_nid));
		k = t->signer.key;
		if (EVP_PKEY_get_base_id(k) != c->signer_id ||
		    EVP_PKEY_get_bits(k) != c->signer_bits)
			fail_msg("%s: OCSP signer: got type %d of %d bits, "
			    "want %d of %d", c->name, EVP_PKEY_get_base_id(k),
			    EVP_PKEY_get_bits(k), c->signer_id,
			    c->signer_bits);
		if (cert_verify_chain(t->ca.cert, t->root, t->ca.cert,
		    NULL) != 1 || cert_verify_chain(t->signer.cert, t->root,
		    t->ca.cert, NULL) != 1)
			fail_msg("%s: the chain does not verify", c->name);
		/* the hashes ca_load keeps are the CertID's */
		assert_int_equal(ocsp_issuer_hashes(t->ca.cert, nh, kh), 1);
		assert_memory_equal(t->ca.ocsp_name_hash, nh, OCSP_HASH_LEN);
		assert_memory_equal(t->ca.ocsp_key_hash, kh, OCSP_HASH_LEN);
	}
}

static void
test_ca_init_refusals(void **state)
{
	char *dir = xasprintf("%s/refused", fx->tmp);
	struct stat st;

	(void)state;
	assert_int_equal(ca_init_type(dir, "Test", CAK__MAX), 0);
	assert_int_equal(ca_init_type(dir, "Test", (enum ca_key_type)-1), 0);
	assert_int_equal(stat(dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	/* an existing CA is never replaced, whatever the type */
	assert_int_equal(ca_init_type(fx->cas[CAK_EC_P256].dir, "Test",
	    CAK_RSA2048), 0);
	free(dir);
}

/* ---- issuance, OCSP and CRL with each type ---- */

/* Checks the OCSP response of leaf signed through ocsp_response_sign_id
 * by c's signer: verified up to the root, "good" for leaf's CertID. */
static void
check_ocsp(const struct type_case *tc, const struct test_ca *c, X509 *leaf,
    const unsigned char *leaf_der, size_t leaf_len)
{
	struct ocsp_certid id;
	struct ocsp_status st;
	OCSP_BASICRESP *bs;
	OCSP_CERTID *cid;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	const X509_ALGOR *alg;
	const ASN1_OBJECT *obj;
	unsigned char *der;
	size_t len;
	int status, reason;
	char *want_serial;

	memcpy(id.name_hash, c->ca.ocsp_name_hash, OCSP_HASH_LEN);
	memcpy(id.key_hash, c->ca.ocsp_key_hash, OCSP_HASH_LEN);
	if (ocsp_cert_issued_by(leaf_der, leaf_len, c->ca.cert,
	    id.serial_hex) != 1)
		fail_msg("%s: the leaf is not seen as issued by its CA",
		    tc->name);
	want_serial = serial_of(leaf);
	if (strcmp(id.serial_hex, want_serial) != 0)
		fail_msg("%s: got serial %s, want %s", tc->name,
		    id.serial_hex, want_serial);
	free(want_serial);

	memset(&st, 0, sizeof(st));
	st.this_update = time(NULL);
	st.next_update = st.this_update + 4 * 86400;
	assert_int_equal(ocsp_response_sign_id(&c->signer, &id, &st, &der,
	    &len), 1);
	bs = resp_basic(der, len);
	if (resp_verify_chain(bs, c->root, c->ca.cert) != 1)
		fail_msg("%s: OCSP_basic_verify refused the response",
		    tc->name);
	alg = OCSP_resp_get0_tbs_sigalg(bs);
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (OBJ_obj2nid(obj) != tc->resp_sig_nid)
		fail_msg("%s: OCSP response: got signature %s, want %s",
		    tc->name, OBJ_nid2sn(OBJ_obj2nid(obj)),
		    OBJ_nid2sn(tc->resp_sig_nid));
	/* the CertID a client makes from the certificates */
	assert_non_null(cid = OCSP_cert_to_id(EVP_sha1(), leaf, c->ca.cert));
	if (OCSP_resp_find_status(bs, cid, &status, &reason, &rev, &thisupd,
	    &nextupd) != 1 || status != V_OCSP_CERTSTATUS_GOOD)
		fail_msg("%s: no good status for the leaf's CertID",
		    tc->name);
	OCSP_CERTID_free(cid);
	OCSP_BASICRESP_free(bs);
	free(der);
	ERR_clear_error();
}

/* Checks a CRL listing leaf signed by c: verified with the intermediate's
 * key, with the CA's signature algorithm. */
static void
check_crl(const struct type_case *tc, const struct test_ca *c, X509 *leaf)
{
	struct crl_entry e;
	X509_CRL *crl;
	unsigned char *der;
	const unsigned char *p;
	size_t len;
	time_t now = time(NULL);

	e.serial_hex = serial_of(leaf);
	e.revoked_at = now - 60;
	e.reason = 1;
	assert_int_equal(crl_sign(c->ca.cert, c->ca.key, 7, now, now + 86400,
	    &e, 1, &der, &len), 1);
	p = der;
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)len));
	if (X509_CRL_verify(crl, X509_get0_pubkey(c->ca.cert)) != 1)
		fail_msg("%s: the CRL does not verify with the intermediate",
		    tc->name);
	if (X509_CRL_get_signature_nid(crl) != tc->sig_nid)
		fail_msg("%s: CRL: got signature %s, want %s", tc->name,
		    OBJ_nid2sn(X509_CRL_get_signature_nid(crl)),
		    OBJ_nid2sn(tc->sig_nid));
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 1);
	X509_CRL_free(crl);
	free(der);
	free(e.serial_hex);
	ERR_clear_error();
}

static void
test_issue_by_type(void **state)
{
	unsigned char *der;
	size_t i, len;
	X509_REQ *req;
	const unsigned char *p;
	char *want_spki, *got_spki;
	X509 *leaf;

	(void)state;
	p = fx->csr;
	assert_non_null(req = d2i_X509_REQ(NULL, &p, (long)fx->csr_len));
	want_spki = spki_hex(X509_REQ_get_X509_PUBKEY(req));
	for (i = 0; i < NELEM(type_cases); i++) {
		const struct type_case *tc = &type_cases[i];
		const struct test_ca *c = &fx->cas[tc->type];

		leaf = leaf_issue(c, &der, &len);
		if (X509_get_signature_nid(leaf) != tc->sig_nid)
			fail_msg("%s: leaf: got signature %s, want %s",
			    tc->name,
			    OBJ_nid2sn(X509_get_signature_nid(leaf)),
			    OBJ_nid2sn(tc->sig_nid));
		if (cert_verify_chain(leaf, c->root, c->ca.cert, NULL) != 1)
			fail_msg("%s: the leaf does not verify up to the root",
			    tc->name);
		/* the CSR's key, copied as it is encoded */
		got_spki = spki_hex(X509_get_X509_PUBKEY(leaf));
		if (strcmp(got_spki, want_spki) != 0)
			fail_msg("%s: got subjectPublicKeyInfo %s, want %s",
			    tc->name, got_spki, want_spki);
		free(got_spki);
		assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf),
		    fx->leaf_key), 1);
		check_ocsp(tc, c, leaf, der, len);
		check_crl(tc, c, leaf);
		X509_free(leaf);
		free(der);
	}
	free(want_spki);
	X509_REQ_free(req);
}

/* ---- the CertID written by hand ---- */

static void
test_certid_as_openssl_makes_it(void **state)
{
	static const char *const serials[] = {
		"01", "7f", "80", "05ab", "80ff",
		"3a0f0000000000000000000000000001",
		"ffffffffffffffffffffffffffffffff",
		"7fffffffffffffffffffffffffffffffffffffff",
	};
	const struct test_ca *c = &fx->cas[CAK_EC_P256];
	struct ocsp_certid id;
	struct ocsp_status st;
	OCSP_BASICRESP *bs[2];
	ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	unsigned char *der[2], *cid_der[2];
	size_t i, len[2];
	int j, n[2];

	(void)state;
	memset(&st, 0, sizeof(st));
	st.this_update = time(NULL);
	st.next_update = st.this_update + 3600;
	memcpy(id.name_hash, c->ca.ocsp_name_hash, OCSP_HASH_LEN);
	memcpy(id.key_hash, c->ca.ocsp_key_hash, OCSP_HASH_LEN);
	for (i = 0; i < NELEM(serials); i++) {
		assert_true(BN_hex2bn(&bn, serials[i]) > 0);
		assert_non_null(sn = BN_to_ASN1_INTEGER(bn, NULL));
		snprintf(id.serial_hex, sizeof(id.serial_hex), "%s",
		    serials[i]);
		assert_int_equal(ocsp_response_sign(&c->signer, c->ca.cert, sn,
		    &st, &der[0], &len[0]), 1);
		assert_int_equal(ocsp_response_sign_id(&c->signer, &id, &st,
		    &der[1], &len[1]), 1);
		for (j = 0; j < 2; j++) {
			bs[j] = resp_basic(der[j], len[j]);
			cid_der[j] = NULL;
			assert_true((n[j] = i2d_OCSP_CERTID(
			    OCSP_SINGLERESP_get0_id(OCSP_resp_get0(bs[j], 0)),
			    &cid_der[j])) > 0);
		}
		if (n[0] != n[1] || memcmp(cid_der[0], cid_der[1],
		    (size_t)n[0]) != 0)
			fail_msg("serial %s: the CertID differs from "
			    "OCSP_cert_id_new's (%d and %d bytes)", serials[i],
			    n[1], n[0]);
		for (j = 0; j < 2; j++) {
			OPENSSL_free(cid_der[j]);
			OCSP_BASICRESP_free(bs[j]);
			free(der[j]);
		}
		ASN1_INTEGER_free(sn);
	}
	BN_free(bn);
	/* a serial that is not one of certificate.serial's */
	snprintf(id.serial_hex, sizeof(id.serial_hex), "%s", "12G4");
	assert_int_equal(ocsp_response_sign_id(&c->signer, &id, &st, &der[0],
	    &len[0]), 0);
	assert_null(der[0]);
	id.serial_hex[0] = '\0';
	assert_int_equal(ocsp_response_sign_id(&c->signer, &id, &st, &der[0],
	    &len[0]), 0);
}

/* ---- the issuer check, against X509_check_issued ---- */

/* Returns a certificate (caller frees) of the leaf key naming issuer as
 * its issuer, with the serial 0abc and no extension, signed by key. */
static X509 *
cert_plain(const X509_NAME *issuer, EVP_PKEY *key)
{
	X509 *x;
	X509_NAME *subj;

	assert_non_null(x = X509_new());
	assert_non_null(subj = X509_NAME_new());
	assert_int_equal(X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	    (const unsigned char *)"plain", -1, -1, 0), 1);
	assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 0x0abc),
	    1);
	assert_int_equal(X509_set_subject_name(x, subj), 1);
	assert_int_equal(X509_set_issuer_name(x, issuer), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 86400));
	assert_int_equal(X509_set_pubkey(x, fx->leaf_key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	X509_NAME_free(subj);
	return x;
}

enum mangle {
	M_NONE,
	M_TRUNCATED,	/* last byte cut off */
	M_TRAILING,	/* one byte after the DER */
	M_EMPTY,	/* zero bytes */
};

/* Returns a leaf issued by c, parsed. */
static X509 *
leaf_of(const struct test_ca *c)
{
	unsigned char *der;
	size_t len;
	X509 *x;

	x = leaf_issue(c, &der, &len);
	free(der);
	return x;
}

static void
test_issued_by_as_x509_check_issued(void **state)
{
	const struct test_ca *ca = &fx->cas[CAK_RSA2048];
	EVP_PKEY *eckey;
	struct {
		const char	*label;
		X509		*x;
		enum mangle	 mangle;
		int		 want;	/* X509_check_issued's verdict */
		const char	*want_serial;	/* NULL: the leaf's */
	} cases[10];
	unsigned char *der;
	char serial[2 * OCSP_SERIAL_MAX + 1], *want_serial;
	size_t i, len;
	int got, want;

	(void)state;
	assert_non_null(eckey = EVP_EC_gen("P-256"));
	i = 0;
#define CASE(l, xx, m, w, sn) do {					\
	cases[i].label = (l);						\
	cases[i].x = (xx);						\
	cases[i].mangle = (m);						\
	cases[i].want = (w);						\
	cases[i].want_serial = (sn);					\
	i++;								\
} while (0)
	CASE("a leaf of the intermediate", leaf_of(ca), M_NONE, 1, NULL);
	CASE("a leaf of another CA of the same name (authorityKeyIdentifier)",
	    leaf_of(&fx->other), M_NONE, 0, NULL);
	CASE("a leaf of an EC CA of the same name",
	    leaf_of(&fx->cas[CAK_EC_P256]), M_NONE, 0, NULL);
	CASE("the intermediate itself (issued by the root)",
	    X509_dup(ca->ca.cert), M_NONE, 0, NULL);
	CASE("no authorityKeyIdentifier, the issuer's name",
	    cert_plain(X509_get_subject_name(ca->ca.cert), ca->ca.key),
	    M_NONE, 1, "0abc");
	CASE("no authorityKeyIdentifier, the root's name",
	    cert_plain(X509_get_subject_name(ca->root), ca->ca.key), M_NONE,
	    0, NULL);
	CASE("the issuer's name, ECDSA under an RSA issuer",
	    cert_plain(X509_get_subject_name(ca->ca.cert), eckey), M_NONE, 0,
	    NULL);
	CASE("truncated", leaf_of(ca), M_TRUNCATED, 0, NULL);
	CASE("trailing byte", leaf_of(ca), M_TRAILING, 0, NULL);
	CASE("empty", leaf_of(ca), M_EMPTY, 0, NULL);
#undef CASE
	assert_int_equal(i, NELEM(cases));
	for (i = 0; i < NELEM(cases); i++) {
		/* the table holds X509_check_issued's verdicts */
		want = X509_check_issued(ca->ca.cert, cases[i].x) ==
		    X509_V_OK;
		if (cases[i].mangle == M_NONE && want != cases[i].want)
			fail_msg("%s: X509_check_issued says %d, the table %d",
			    cases[i].label, want, cases[i].want);
		der = der_of(cases[i].x, &len);
		if (cases[i].mangle == M_TRUNCATED)
			len--;
		else if (cases[i].mangle == M_TRAILING)
			der[len++] = 0x00;
		else if (cases[i].mangle == M_EMPTY)
			len = 0;
		got = ocsp_cert_issued_by(der, len, ca->ca.cert, serial);
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].label, got,
			    cases[i].want);
		want_serial = got ? (cases[i].want_serial != NULL ?
		    xstrdup(cases[i].want_serial) : serial_of(cases[i].x)) :
		    xstrdup("");
		if (strcmp(serial, want_serial) != 0)
			fail_msg("%s: got serial \"%s\", want \"%s\"",
			    cases[i].label, serial, want_serial);
		free(want_serial);
		free(der);
		X509_free(cases[i].x);
	}
	/* not DER at all */
	assert_int_equal(ocsp_cert_issued_by((const unsigned char *)
	    "GET / HTTP/1.1\r\n\r\n", 18, ca->ca.cert, serial), 0);
	assert_int_equal(ocsp_cert_issued_by(NULL, 0, ca->ca.cert, serial), 0);
	EVP_PKEY_free(eckey);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_type_names),
		cmocka_unit_test(test_sign_digest),
		cmocka_unit_test(test_ca_by_type),
		cmocka_unit_test(test_ca_init_refusals),
		cmocka_unit_test(test_issue_by_type),
		cmocka_unit_test(test_certid_as_openssl_makes_it),
		cmocka_unit_test(test_issued_by_as_x509_check_issued),
	};

	log_init("test_ca_keys", getenv("TEST_VERBOSE") != NULL ?
	    LOG_LVL_DEBUG : LOG_LVL_ERR);
	return cmocka_run_group_tests_name("ca_keys", tests, setup, teardown);
}
