/*
 * test_x509.c - csr_check on CSRs made here with OpenSSL (a table of
 * cases), and the embedded CA: ca_init, ca_load, ca_issue, the issued
 * certificate verified against root and intermediate as a TLS server.
 */
#include <sys/stat.h>

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
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "problem.h"
#include "util.h"
#include "x509.h"
#include "certfiles.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ---- CSRs ---- */

enum tkey {
	K_RSA2048,
	K_RSA3072,
	K_RSA1024,
	K_RSA4096,
	K_EC256,
	K_ACCOUNT,	/* RSA 2048, the account key of every case */
	K__MAX
};

static EVP_PKEY *keys[K__MAX];

enum tamper {
	T_NONE,
	T_SIGNATURE,	/* last byte of the signature flipped */
	T_TRAILING,	/* one byte after the DER */
	T_GARBAGE,	/* not DER at all */
	T_EMPTY,	/* zero bytes */
	T_SHA1,		/* signed with SHA-1 */
};

struct csr_case {
	const char	*label;
	enum tkey	 key;
	const char	*cn;		/* NULL: no commonName */
	const char	*san;		/* OpenSSL syntax; NULL: none */
	enum tamper	 tamper;
	const char	*order[4];	/* the order's names, NULL-ended */
	enum ptype	 want;		/* PT_NONE: accepted */
	const char	*want_detail;	/* substring of the detail */
	size_t		 want_nnames;	/* when accepted */
};

static const int allowed[] = { 2048, 3072 };

static const struct csr_case csr_cases[] = {
	{ "rsa2048 exact names", K_RSA2048, "www.example.com",
	  "DNS:www.example.com,DNS:example.com", T_NONE,
	  { "www.example.com", "example.com" }, PT_NONE, NULL, 2 },
	{ "rsa3072 other order and case", K_RSA3072, "WWW.Example.COM",
	  "DNS:Example.com,DNS:WWW.example.com", T_NONE,
	  { "www.example.com", "example.com" }, PT_NONE, NULL, 2 },
	{ "no commonName", K_RSA2048, NULL, "DNS:example.com", T_NONE,
	  { "example.com" }, PT_NONE, NULL, 1 },
	{ "duplicate SAN", K_RSA2048, "a.example",
	  "DNS:a.example,DNS:A.EXAMPLE,DNS:b.example", T_NONE,
	  { "b.example", "a.example" }, PT_NONE, NULL, 2 },
	{ "wildcard", K_RSA2048, NULL, "DNS:*.example.com", T_NONE,
	  { "*.example.com" }, PT_NONE, NULL, 1 },
	{ "rsa1024", K_RSA1024, NULL, "DNS:example.com", T_NONE,
	  { "example.com" }, PT_BAD_CSR_KEY, "1024 bits", 0 },
	{ "rsa1024 lists allowed", K_RSA1024, NULL, "DNS:example.com",
	  T_NONE, { "example.com" }, PT_BAD_CSR_KEY, "2048, 3072", 0 },
	{ "rsa4096", K_RSA4096, NULL, "DNS:example.com", T_NONE,
	  { "example.com" }, PT_BAD_CSR_KEY, "4096 bits", 0 },
	{ "ec p-256", K_EC256, NULL, "DNS:example.com", T_NONE,
	  { "example.com" }, PT_BAD_CSR_KEY, "only RSA keys", 0 },
	{ "account key", K_ACCOUNT, NULL, "DNS:example.com", T_NONE,
	  { "example.com" }, PT_BAD_CSR_KEY, "differ from the account key",
	  0 },
	{ "name missing", K_RSA2048, NULL, "DNS:example.com", T_NONE,
	  { "example.com", "www.example.com" }, PT_BAD_CSR,
	  "lacks the order's name \"www.example.com\"", 0 },
	{ "extra name", K_RSA2048, NULL, "DNS:example.com,DNS:evil.example",
	  T_NONE, { "example.com" }, PT_BAD_CSR,
	  "\"evil.example\", which is not in the order", 0 },
	{ "cn not among sans", K_RSA2048, "other.example",
	  "DNS:example.com", T_NONE, { "example.com" }, PT_BAD_CSR,
	  "\"other.example\" is not one of", 0 },
	{ "cn only", K_RSA2048, "example.com", NULL, T_NONE,
	  { "example.com" }, PT_BAD_CSR, "is not one of", 0 },
	{ "no names", K_RSA2048, NULL, NULL, T_NONE, { "example.com" },
	  PT_BAD_CSR, "no DNS name", 0 },
	{ "ip san", K_RSA2048, NULL, "DNS:example.com,IP:192.0.2.1", T_NONE,
	  { "example.com" }, PT_BAD_CSR, "an IP address", 0 },
	{ "email san", K_RSA2048, NULL, "DNS:example.com,email:a@example.com",
	  T_NONE, { "example.com" }, PT_BAD_CSR, "an email address", 0 },
	{ "uri san", K_RSA2048, NULL, "URI:https://example.com/,DNS:example.com",
	  T_NONE, { "example.com" }, PT_BAD_CSR, "a URI", 0 },
	{ "bad signature", K_RSA2048, NULL, "DNS:example.com", T_SIGNATURE,
	  { "example.com" }, PT_BAD_CSR, "signature is not valid", 0 },
	{ "sha-1 signature", K_RSA2048, NULL, "DNS:example.com", T_SHA1,
	  { "example.com" }, PT_BAD_CSR, "SHA1", 0 },
	{ "trailing garbage", K_RSA2048, NULL, "DNS:example.com", T_TRAILING,
	  { "example.com" }, PT_BAD_CSR, "trailing", 0 },
	{ "garbage der", K_RSA2048, NULL, NULL, T_GARBAGE, { "example.com" },
	  PT_BAD_CSR, "not a DER-encoded", 0 },
	{ "empty der", K_RSA2048, NULL, NULL, T_EMPTY, { "example.com" },
	  PT_BAD_CSR, "not a DER-encoded", 0 },
};

/* Returns a new DER CSR for key (*len bytes, caller frees). */
static unsigned char *
csr_make(EVP_PKEY *key, const char *cn, const char *san, const EVP_MD *md,
    size_t *len)
{
	X509_REQ *req;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	STACK_OF(X509_EXTENSION) *exts;
	unsigned char *der = NULL;
	int n;

	assert_non_null(req = X509_REQ_new());
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (cn != NULL)
		assert_int_equal(X509_NAME_add_entry_by_NID(
		    X509_REQ_get_subject_name(req), NID_commonName,
		    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	if (san != NULL) {
		X509V3_set_ctx(&ctx, NULL, NULL, req, NULL, 0);
		assert_non_null(ext = X509V3_EXT_nconf_nid(NULL, &ctx,
		    NID_subject_alt_name, san));
		assert_non_null(exts = sk_X509_EXTENSION_new_null());
		assert_true(sk_X509_EXTENSION_push(exts, ext) > 0);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, md) > 0);
	assert_true((n = i2d_X509_REQ(req, &der)) > 0);
	X509_REQ_free(req);
	*len = (size_t)n;
	return der;
}

/* Returns the DER of a case, tampered with as it says (caller frees). */
static unsigned char *
case_der(const struct csr_case *c, size_t *len)
{
	static const char garbage[] = "this is not a CSR";
	unsigned char *der, *out;

	if (c->tamper == T_GARBAGE || c->tamper == T_EMPTY) {
		out = xmalloc(sizeof(garbage));
		memcpy(out, garbage, sizeof(garbage));
		*len = c->tamper == T_EMPTY ? 0 : sizeof(garbage) - 1;
		return out;
	}
	der = csr_make(keys[c->key], c->cn, c->san,
	    c->tamper == T_SHA1 ? EVP_sha1() : EVP_sha256(), len);
	out = xmalloc(*len + 1);
	memcpy(out, der, *len);
	OPENSSL_free(der);
	if (c->tamper == T_SIGNATURE)
		out[*len - 1] ^= 0x01;
	if (c->tamper == T_TRAILING)
		out[(*len)++] = 0x00;
	return out;
}

static int
csr_setup(void **state)
{
	static const int bits[K__MAX] = {
		[K_RSA2048] = 2048, [K_RSA3072] = 3072, [K_RSA1024] = 1024,
		[K_RSA4096] = 4096, [K_ACCOUNT] = 2048,
	};
	size_t i;

	(void)state;
	for (i = 0; i < K__MAX; i++) {
		keys[i] = i == K_EC256 ? EVP_EC_gen("P-256") :
		    EVP_RSA_gen((unsigned int)bits[i]);
		if (keys[i] == NULL)
			return -1;
	}
	return 0;
}

static int
csr_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < K__MAX; i++) {
		EVP_PKEY_free(keys[i]);
		keys[i] = NULL;
	}
	return 0;
}

/* Checks csr_decode's view of der against OpenSSL's d2i_X509_REQ: the
 * same key, signature verdict, signature algorithm, key bits and
 * extensions. */
static void
decode_as_openssl(const unsigned char *der, size_t len, int want_verified)
{
	const unsigned char *q = der, *pk, *opk;
	const X509_ALGOR *alg;
	STACK_OF(X509_EXTENSION) *e1, *e2;
	struct csr_req *r;
	X509_REQ *req;
	int pklen, opklen;

	assert_non_null(r = csr_decode(der, len));
	assert_non_null(req = d2i_X509_REQ(NULL, &q, (long)len));
	assert_int_equal(csr_req_trailing(r), 0);
	assert_int_equal(EVP_PKEY_eq(csr_req_key(r),
	    X509_REQ_get0_pubkey(req)), 1);
	assert_int_equal(csr_req_verify(r), want_verified);
	assert_int_equal(X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) == 1,
	    want_verified);
	assert_int_equal(csr_req_sig_nid(r), X509_REQ_get_signature_nid(req));
	assert_int_equal(X509_NAME_cmp(csr_req_subject(r),
	    X509_REQ_get_subject_name(req)), 0);
	assert_int_equal(csr_req_spki(r, &alg, &pk, &pklen), 1);
	assert_int_equal(X509_PUBKEY_get0_param(NULL, &opk, &opklen, NULL,
	    X509_REQ_get_X509_PUBKEY(req)), 1);
	assert_int_equal(pklen, opklen);
	assert_memory_equal(pk, opk, (size_t)pklen);
	assert_non_null(e1 = csr_req_extensions(r));
	assert_non_null(e2 = X509_REQ_get_extensions(req));
	assert_int_equal(sk_X509_EXTENSION_num(e1),
	    sk_X509_EXTENSION_num(e2));
	sk_X509_EXTENSION_pop_free(e1, X509_EXTENSION_free);
	sk_X509_EXTENSION_pop_free(e2, X509_EXTENSION_free);
	X509_REQ_free(req);
	csr_req_free(r);
	ERR_clear_error();
}

/* csr_decode reads RSA keys itself and leaves the others to OpenSSL's
 * decoders: either way, what it finds is what OpenSSL finds. */
static void
test_csr_decode_as_openssl(void **state)
{
	EVP_PKEY *pss;
	EVP_PKEY_CTX *kc;
	unsigned char *der, *bad;
	size_t i, len;

	(void)state;
	for (i = 0; i < K__MAX; i++) {
		der = csr_make(keys[i], "example.com", "DNS:example.com",
		    EVP_sha256(), &len);
		decode_as_openssl(der, len, 1);
		bad = xmalloc(len);
		memcpy(bad, der, len);
		bad[len - 1] ^= 0x01;
		decode_as_openssl(bad, len, 0);
		free(bad);
		OPENSSL_free(der);
		der = csr_make(keys[i], NULL, NULL, EVP_sha384(), &len);
		decode_as_openssl(der, len, 1);
		OPENSSL_free(der);
	}
	/* an RSA-PSS key (id-RSASSA-PSS): the generic decoders */
	assert_non_null(kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS",
	    NULL));
	assert_int_equal(EVP_PKEY_keygen_init(kc), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048), 1);
	pss = NULL;
	assert_int_equal(EVP_PKEY_keygen(kc, &pss), 1);
	der = csr_make(pss, "example.com", "DNS:example.com", EVP_sha256(),
	    &len);
	decode_as_openssl(der, len, 1);
	OPENSSL_free(der);
	EVP_PKEY_free(pss);
	EVP_PKEY_CTX_free(kc);
	/* trailing bytes are counted, not refused */
	der = csr_make(keys[K_RSA2048], NULL, "DNS:example.com", EVP_sha256(),
	    &len);
	bad = xmalloc(len + 3);
	memcpy(bad, der, len);
	memset(bad + len, 0, 3);
	{
		struct csr_req *r = csr_decode(bad, len + 3);

		assert_non_null(r);
		assert_int_equal(csr_req_trailing(r), 3);
		csr_req_free(r);
	}
	assert_null(csr_decode(bad, len - 1));
	assert_null(csr_decode(bad, 0));
	assert_null(csr_decode(NULL, 10));
	free(bad);
	OPENSSL_free(der);
}

static void
test_csr_cases(void **state)
{
	const struct csr_case *c;
	struct csr_info info;
	struct problem p;
	unsigned char *der;
	size_t i, j, n, len;
	int ok, fails = 0;

	(void)state;
	for (i = 0; i < NELEM(csr_cases); i++) {
		c = &csr_cases[i];
		der = case_der(c, &len);
		for (n = 0; n < NELEM(c->order) && c->order[n] != NULL; n++)
			;
		memset(&p, 0, sizeof(p));
		ok = csr_check(der, len, c->order, n, allowed, NELEM(allowed),
		    keys[K_ACCOUNT], &info, &p);
		if (ok != (c->want == PT_NONE) || (!ok && p.type != c->want)) {
			print_error("%s: got %s (%s: %s), want %s\n", c->label,
			    ok ? "accepted" : "refused", ptype_urn(p.type),
			    p.detail, c->want == PT_NONE ? "accepted" :
			    ptype_urn(c->want));
			fails++;
		} else if (!ok && strstr(p.detail, c->want_detail) == NULL) {
			print_error("%s: got detail \"%s\", want it to "
			    "contain \"%s\"\n", c->label, p.detail,
			    c->want_detail);
			fails++;
		} else if (!ok && (info.names != NULL || info.pkey != NULL)) {
			print_error("%s: info filled on refusal\n", c->label);
			fails++;
		} else if (ok) {
			if (info.nnames != c->want_nnames ||
			    info.key_bits != EVP_PKEY_get_bits(keys[c->key]) ||
			    EVP_PKEY_eq(info.pkey, keys[c->key]) != 1) {
				print_error("%s: got %zu names, %d bits, want "
				    "%zu names and the CSR key\n", c->label,
				    info.nnames, info.key_bits,
				    c->want_nnames);
				fails++;
			}
			for (j = 0; j < info.nnames; j++)
				if (strspn(info.names[j],
				    "abcdefghijklmnopqrstuvwxyz0123456789.-*") !=
				    strlen(info.names[j])) {
					print_error("%s: name \"%s\" not lower "
					    "case\n", c->label, info.names[j]);
					fails++;
				}
		}
		csr_info_free(&info);
		problem_clear(&p);
		free(der);
	}
	if (fails > 0)
		fail_msg("%d of %zu CSR cases failed", fails,
		    NELEM(csr_cases));
}

/* csr_check without an account key, and with the order's names given in
 * upper case. */
static void
test_csr_no_account_key(void **state)
{
	const char *order[] = { "EXAMPLE.com" };
	struct csr_info info;
	struct problem p;
	unsigned char *der;
	size_t len;

	(void)state;
	memset(&p, 0, sizeof(p));
	der = csr_make(keys[K_ACCOUNT], NULL, "DNS:example.com",
	    EVP_sha256(), &len);
	assert_int_equal(csr_check(der, len, order, 1, allowed,
	    NELEM(allowed), NULL, &info, &p), 1);
	assert_int_equal(info.nnames, 1);
	assert_string_equal(info.names[0], "example.com");
	assert_int_equal(info.key_bits, 2048);
	csr_info_free(&info);
	assert_null(info.names);
	csr_info_free(&info);	/* twice is harmless */
	OPENSSL_free(der);
}

/* csr_check with neither names nor sizes (acme-fcgi's check before its
 * query): every case is refused as with an order, but for the refusals
 * that come from the order's names or the profile's key sizes. */
static void
test_csr_without_order(void **state)
{
	static const char *const of_order[] = {
		"not in the order", "lacks the order's name",
		"bits are not accepted",
	};
	const struct csr_case *c;
	struct csr_info full, pre;
	struct problem pf, pp;
	unsigned char *der;
	size_t i, j, n, len;
	int okf, okp, want, fails = 0;

	(void)state;
	for (i = 0; i < NELEM(csr_cases); i++) {
		c = &csr_cases[i];
		der = case_der(c, &len);
		for (n = 0; n < NELEM(c->order) && c->order[n] != NULL; n++)
			;
		memset(&pf, 0, sizeof(pf));
		memset(&pp, 0, sizeof(pp));
		okf = csr_check(der, len, c->order, n, allowed, NELEM(allowed),
		    keys[K_ACCOUNT], &full, &pf);
		okp = csr_check(der, len, NULL, 0, NULL, 0, keys[K_ACCOUNT],
		    &pre, &pp);
		want = okf;
		for (j = 0; !okf && j < NELEM(of_order); j++)
			if (strstr(pf.detail, of_order[j]) != NULL)
				want = 1;
		if (okp != want) {
			print_error("%s: got %s (%s), want %s\n", c->label,
			    okp ? "accepted" : "refused", okp ? "" : pp.detail,
			    want ? "accepted" : "refused");
			fails++;
		} else if (!okp && (pp.type != pf.type ||
		    strcmp(pp.detail, pf.detail) != 0)) {
			print_error("%s: got \"%s\", want \"%s\"\n", c->label,
			    pp.detail, pf.detail);
			fails++;
		} else if (okf && (pre.nnames != full.nnames ||
		    pre.key_bits != full.key_bits)) {
			print_error("%s: got %zu names and %d bits, want %zu "
			    "and %d\n", c->label, pre.nnames, pre.key_bits,
			    full.nnames, full.key_bits);
			fails++;
		}
		csr_info_free(&full);
		csr_info_free(&pre);
		problem_clear(&pf);
		problem_clear(&pp);
		free(der);
	}
	if (fails > 0)
		fail_msg("%d of %zu CSR cases failed", fails,
		    NELEM(csr_cases));
}

/* ---- serials ---- */

static void
test_serial_new_hex(void **state)
{
	char *s;
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		s = serial_new_hex();
		assert_int_equal(strlen(s), 32);
		assert_int_equal(strspn(s, "0123456789abcdef"), 32);
		assert_non_null(strchr("01234567", s[0]));
		assert_false(s[0] == '0' && s[1] == '0');
		free(s);
	}
}

/* ---- the CA ---- */

struct ca_fixture {
	char		 tmp[64];	/* mkdtemp directory */
	char		*dir;		/* tmp/ca, made by ca_init */
	struct ca	 ca;
	EVP_PKEY	*leaf_key;
	X509		*root;
	X509		*intermediate;
};

static int
ca_setup(void **state)
{
	struct ca_fixture *f = xcalloc(1, sizeof(*f));

	umask(022);
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test_x509.XXXXXX");
	if (mkdtemp(f->tmp) == NULL)
		return -1;
	f->dir = xasprintf("%s/ca", f->tmp);
	if (!ca_init(f->dir, "Test") || !ca_load(&f->ca, f->dir) ||
	    (f->leaf_key = EVP_RSA_gen(2048)) == NULL)
		return -1;
	f->root = cert_read(f->dir, "root.pem");
	f->intermediate = cert_read(f->dir, "intermediate.pem");
	*state = f;
	return 0;
}

static int
ca_teardown(void **state)
{
	struct ca_fixture *f = *state;

	if (f == NULL)
		return 0;
	ca_free(&f->ca);
	EVP_PKEY_free(f->leaf_key);
	X509_free(f->root);
	X509_free(f->intermediate);
	rm_tree(f->tmp);
	free(f->dir);
	free(f);
	return 0;
}

/* Returns the text of the first entry nid of name (static buffer), or
 * NULL. */
static const char *
name_get(const X509_NAME *name, int nid)
{
	static char buf[256];

	if (X509_NAME_get_text_by_NID(name, nid, buf, sizeof(buf)) < 0)
		return NULL;
	return buf;
}

static void
test_ca_init_files(void **state)
{
	static const struct {
		const char	*name;
		mode_t		 mode;
	} files[] = {
		{ ".", 0700 },
		{ "root.key", 0600 },
		{ "intermediate.key", 0600 },
		{ "root.pem", 0644 },
		{ "intermediate.pem", 0644 },
	};
	struct ca_fixture *f = *state;
	struct stat st;
	X509 *x;
	char *path;
	size_t i;

	for (i = 0; i < NELEM(files); i++) {
		path = xasprintf("%s/%s", f->dir, files[i].name);
		assert_int_equal(stat(path, &st), 0);
		if ((st.st_mode & 07777) != files[i].mode)
			fail_msg("%s: got mode %04o, want %04o", files[i].name,
			    (unsigned int)(st.st_mode & 07777),
			    (unsigned int)files[i].mode);
		free(path);
	}
	/* a second init refuses and leaves the CA alone */
	assert_int_equal(ca_init(f->dir, "Other"), 0);
	x = cert_read(f->dir, "root.pem");
	assert_int_equal(X509_cmp(x, f->root), 0);
	X509_free(x);
}

static void
test_ca_init_certs(void **state)
{
	struct ca_fixture *f = *state;
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	time_t now = time(NULL);

	assert_string_equal(name_get(X509_get_subject_name(f->root),
	    NID_commonName), "Test Root CA");
	assert_string_equal(name_get(X509_get_subject_name(f->root),
	    NID_organizationName), "Test");
	assert_string_equal(name_get(X509_get_subject_name(f->intermediate),
	    NID_commonName), "Test OV TLS CA");
	assert_int_equal(X509_NAME_cmp(X509_get_issuer_name(f->intermediate),
	    X509_get_subject_name(f->root)), 0);
	assert_int_equal(X509_check_ca(f->root), 1);
	assert_int_equal(X509_check_ca(f->intermediate), 1);
	assert_int_equal(X509_get_pathlen(f->intermediate), 0);
	assert_true(X509_get_key_usage(f->root) & KU_KEY_CERT_SIGN);
	assert_true(X509_get_extended_key_usage(f->intermediate) & XKU_SSL_SERVER);
	assert_int_equal(X509_get_signature_nid(f->intermediate),
	    NID_sha256WithRSAEncryption);
	assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(f->root)), 3072);
	assert_non_null(X509_get0_subject_key_id(f->root));
	assert_non_null(X509_get0_authority_key_id(f->intermediate));
	/* root for 10 years, intermediate for 5 */
	assert_true(X509_cmp_time(X509_get0_notAfter(f->root),
	    &(time_t){ now + 3650 * 86400L }) > 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(f->intermediate),
	    &(time_t){ now + 1825 * 86400L }) > 0);
	assert_true(X509_cmp_time(X509_get0_notAfter(f->intermediate),
	    &(time_t){ now + 1830 * 86400L }) < 0);
	/* the intermediate chains to the root */
	assert_non_null(store = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(store, f->root), 1);
	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, store, f->intermediate,
	    NULL), 1);
	assert_int_equal(X509_verify_cert(ctx), 1);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
}

static void
test_ca_load(void **state)
{
	struct ca_fixture *f = *state;
	struct ca ca;
	char *bad, *src, *dst;
	const char *p;
	FILE *in, *out;
	int c;

	assert_non_null(f->ca.key);
	assert_int_equal(X509_cmp(f->ca.cert, f->intermediate), 0);
	/* one certificate in the chain */
	p = strstr(f->ca.chain_pem, "-----BEGIN CERTIFICATE-----");
	assert_ptr_equal(p, f->ca.chain_pem);
	assert_null(strstr(p + 1, "-----BEGIN"));

	assert_int_equal(ca_load(&ca, "/nonexistent/ca"), 0);
	assert_null(ca.key);
	assert_null(ca.cert);

	/* intermediate.pem with the root's key: refused */
	bad = xasprintf("%s/bad", f->tmp);
	assert_int_equal(mkdir(bad, 0700), 0);
	src = xasprintf("%s/root.key", f->dir);
	dst = xasprintf("%s/intermediate.key", bad);
	assert_non_null(in = fopen(src, "r"));
	assert_non_null(out = fopen(dst, "w"));
	while ((c = getc(in)) != EOF)
		putc(c, out);
	fclose(in);
	fclose(out);
	free(src);
	free(dst);
	dst = xasprintf("%s/intermediate.pem", bad);
	assert_non_null(out = fopen(dst, "w"));
	assert_int_equal(PEM_write_X509(out, f->intermediate), 1);
	fclose(out);
	free(dst);
	assert_int_equal(ca_load(&ca, bad), 0);
	assert_null(ca.key);
	free(bad);
}

/* Fills b[0..16) from 32 hex characters. */
static void
hex16(const char *s, unsigned char *b)
{
	unsigned int v;
	size_t i;

	assert_int_equal(strlen(s), 32);
	for (i = 0; i < 16; i++) {
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		b[i] = (unsigned char)v;
	}
}

/* Returns the URL of the first access description method in x's AIA
 * (static buffer), or NULL. */
static const char *
aia_get(X509 *x, int method)
{
	static char buf[256];
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad;
	const char *r = NULL;
	int i;

	if ((aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL)) == NULL)
		return NULL;
	for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		if (OBJ_obj2nid(ad->method) == method &&
		    ad->location->type == GEN_URI) {
			snprintf(buf, sizeof(buf), "%s", (const char *)
			    ASN1_STRING_get0_data(ad->location->d.uniformResourceIdentifier));
			r = buf;
			break;
		}
	}
	AUTHORITY_INFO_ACCESS_free(aia);
	return r;
}

static void
test_ca_issue_ov(void **state)
{
	static const char *const names[] = {
		"www.example.com", "example.com", "*.shop.example.com",
	};
	struct ca_fixture *f = *state;
	struct issue_params ip;
	unsigned char sn[16], *csr, *der = NULL;
	const unsigned char *q;
	char *pem = NULL, *hex;
	size_t csrlen, derlen, i;
	X509 *x, *xp;
	BIO *b;
	GENERAL_NAMES *gens;
	CERTIFICATEPOLICIES *pols;
	CRL_DIST_POINTS *dps;
	const GENERAL_NAME *gn;
	BIGNUM *bn;
	time_t now = time(NULL);
	char buf[64];

	hex = serial_new_hex();
	hex16(hex, sn);
	csr = csr_make(f->leaf_key, "www.example.com",
	    "DNS:www.example.com,DNS:example.com,DNS:*.shop.example.com",
	    EVP_sha256(), &csrlen);
	memset(&ip, 0, sizeof(ip));
	ip.csr_der = csr;
	ip.csr_len = csrlen;
	ip.names = names;
	ip.nnames = NELEM(names);
	ip.subject.organization = "Example Corp";
	ip.subject.locality = "Paris";
	ip.subject.state = "Île-de-France";
	ip.subject.country = "fr";
	ip.serial = sn;
	ip.serial_len = sizeof(sn);
	ip.not_before = now - 3600;
	ip.not_after = now + 199 * 86400L;
	ip.ocsp_url = "http://ocsp.example.net";
	ip.ca_issuers_url = "http://ca.example.net/int.der";
	ip.crl_url = "http://crl.example.net/int.crl";
	assert_int_equal(ca_issue(&f->ca, &ip, &pem, &der, &derlen), 1);

	/* the DER and the PEM are the same certificate */
	q = der;
	assert_non_null(x = d2i_X509(NULL, &q, (long)derlen));
	assert_ptr_equal(q, der + derlen);
	assert_non_null(b = BIO_new_mem_buf(pem, -1));
	assert_non_null(xp = PEM_read_bio_X509(b, NULL, NULL, NULL));
	assert_int_equal(X509_cmp(x, xp), 0);
	X509_free(xp);
	BIO_free(b);

	assert_int_equal(cert_verify_chain(x, f->root, f->intermediate,
	    "example.com"), 1);
	assert_int_equal(cert_verify_chain(x, f->root, f->intermediate,
	    "a.shop.example.com"), 1);
	assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(x), f->leaf_key), 1);
	assert_int_equal(X509_get_signature_nid(x),
	    NID_sha256WithRSAEncryption);

	/* subject */
	assert_string_equal(name_get(X509_get_subject_name(x),
	    NID_commonName), "www.example.com");
	assert_string_equal(name_get(X509_get_subject_name(x),
	    NID_organizationName), "Example Corp");
	assert_string_equal(name_get(X509_get_subject_name(x),
	    NID_localityName), "Paris");
	assert_string_equal(name_get(X509_get_subject_name(x),
	    NID_countryName), "FR");
	assert_non_null(name_get(X509_get_subject_name(x),
	    NID_stateOrProvinceName));

	/* serial: positive, 16 bytes, as given */
	assert_non_null(bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x),
	    NULL));
	assert_false(BN_is_negative(bn));
	assert_int_equal(BN_num_bytes(bn), 16);
	assert_int_equal(BN_bn2binpad(bn, (unsigned char *)buf, 16), 16);
	assert_memory_equal(buf, sn, 16);
	BN_free(bn);

	/* validity as requested */
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notBefore(x),
	    ip.not_before), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(x),
	    ip.not_after), 0);

	/* SANs, in order */
	assert_non_null(gens = X509_get_ext_d2i(x, NID_subject_alt_name,
	    NULL, NULL));
	assert_int_equal(sk_GENERAL_NAME_num(gens), NELEM(names));
	for (i = 0; i < NELEM(names); i++) {
		gn = sk_GENERAL_NAME_value(gens, (int)i);
		assert_int_equal(gn->type, GEN_DNS);
		assert_string_equal(ASN1_STRING_get0_data(gn->d.dNSName),
		    names[i]);
	}
	GENERAL_NAMES_free(gens);

	/* the OV policy */
	assert_non_null(pols = X509_get_ext_d2i(x, NID_certificate_policies,
	    NULL, NULL));
	assert_int_equal(sk_POLICYINFO_num(pols), 1);
	OBJ_obj2txt(buf, sizeof(buf), sk_POLICYINFO_value(pols, 0)->policyid,
	    1);
	assert_string_equal(buf, "2.23.140.1.2.2");
	CERTIFICATEPOLICIES_free(pols);

	/* profile */
	assert_int_equal(X509_check_ca(x), 0);
	assert_int_equal(X509_get_key_usage(x),
	    KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
	    X509_get0_subject_key_id(f->intermediate)), 0);
	assert_false(X509_get_extension_flags(x) & EXFLAG_CRITICAL);

	/* AIA and CRL */
	assert_string_equal(aia_get(x, NID_ad_OCSP), ip.ocsp_url);
	assert_string_equal(aia_get(x, NID_ad_ca_issuers), ip.ca_issuers_url);
	assert_non_null(dps = X509_get_ext_d2i(x, NID_crl_distribution_points,
	    NULL, NULL));
	assert_int_equal(sk_DIST_POINT_num(dps), 1);
	gn = sk_GENERAL_NAME_value(sk_DIST_POINT_value(dps, 0)->distpoint->
	    name.fullname, 0);
	assert_int_equal(gn->type, GEN_URI);
	assert_string_equal(ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier),
	    ip.crl_url);
	CRL_DIST_POINTS_free(dps);

	X509_free(x);
	OPENSSL_free(csr);
	free(hex);
	free(pem);
	free(der);
}

/* No URLs, no organization, a bad country, a first name too long for a
 * commonName. */
static void
test_ca_issue_minimal(void **state)
{
	static const char *const names[] = {
		"a-very-long-label-that-goes-on-and-on-and-on.example-of-a-long-"
		"name.example.com",
		"short.example.com",
	};
	struct ca_fixture *f = *state;
	struct issue_params ip;
	unsigned char sn[] = { 0x01 }, *csr, *der = NULL;
	const unsigned char *q;
	char *pem = NULL;
	size_t csrlen, derlen;
	X509 *x;
	time_t now = time(NULL);

	csr = csr_make(f->leaf_key, NULL, "DNS:short.example.com",
	    EVP_sha256(), &csrlen);
	memset(&ip, 0, sizeof(ip));
	ip.csr_der = csr;
	ip.csr_len = csrlen;
	ip.names = names;
	ip.nnames = NELEM(names);
	ip.subject.country = "FRA";
	ip.subject.organization = "";
	ip.serial = sn;
	ip.serial_len = sizeof(sn);
	ip.not_before = now;
	ip.not_after = now + 86400;
	assert_true(strlen(names[0]) > 64);
	assert_int_equal(ca_issue(&f->ca, &ip, &pem, &der, &derlen), 1);
	q = der;
	assert_non_null(x = d2i_X509(NULL, &q, (long)derlen));
	assert_int_equal(X509_NAME_entry_count(X509_get_subject_name(x)), 1);
	assert_string_equal(name_get(X509_get_subject_name(x),
	    NID_commonName), "short.example.com");
	assert_int_equal(X509_get_ext_by_NID(x, NID_info_access, -1), -1);
	assert_int_equal(X509_get_ext_by_NID(x, NID_crl_distribution_points,
	    -1), -1);
	assert_int_equal(cert_verify_chain(x, f->root, f->intermediate,
	    "short.example.com"), 1);
	X509_free(x);
	OPENSSL_free(csr);
	free(pem);
	free(der);
}

/* Table of parameters ca_issue refuses. */
static void
test_ca_issue_refuses(void **state)
{
	enum {
		R_ZERO_SERIAL,
		R_LONG_SERIAL,
		R_NO_SERIAL,
		R_NO_NAMES,
		R_EMPTY_VALIDITY,
		R_BAD_CSR,
		R_TRAILING_CSR,
		R_BAD_NAME,
		R__MAX
	};
	static const char *const labels[R__MAX] = {
		[R_ZERO_SERIAL] = "zero serial",
		[R_LONG_SERIAL] = "160-bit serial",
		[R_NO_SERIAL] = "no serial",
		[R_NO_NAMES] = "no names",
		[R_EMPTY_VALIDITY] = "empty validity",
		[R_BAD_CSR] = "bad CSR",
		[R_TRAILING_CSR] = "CSR with trailing data",
		[R_BAD_NAME] = "name with a space",
	};
	static const char *const names[] = { "example.com" };
	static const char *const bad_names[] = { "exa mple.com" };
	struct ca_fixture *f = *state;
	struct issue_params ip;
	unsigned char zero[] = { 0x00, 0x00 }, big[20], sn[] = { 0x42 };
	unsigned char *csr, *tcsr, *der;
	char *pem;
	size_t csrlen, derlen;
	time_t now = time(NULL);
	int i, fails = 0;

	memset(big, 0xff, sizeof(big));
	csr = csr_make(f->leaf_key, NULL, "DNS:example.com", EVP_sha256(),
	    &csrlen);
	tcsr = xmalloc(csrlen + 1);
	memcpy(tcsr, csr, csrlen);
	tcsr[csrlen] = 0;
	for (i = 0; i < R__MAX; i++) {
		memset(&ip, 0, sizeof(ip));
		ip.csr_der = csr;
		ip.csr_len = csrlen;
		ip.names = names;
		ip.nnames = NELEM(names);
		ip.serial = sn;
		ip.serial_len = sizeof(sn);
		ip.not_before = now;
		ip.not_after = now + 86400;
		switch (i) {
		case R_ZERO_SERIAL:
			ip.serial = zero;
			ip.serial_len = sizeof(zero);
			break;
		case R_LONG_SERIAL:
			ip.serial = big;
			ip.serial_len = sizeof(big);
			break;
		case R_NO_SERIAL:
			ip.serial = NULL;
			ip.serial_len = 0;
			break;
		case R_NO_NAMES:
			ip.nnames = 0;
			break;
		case R_EMPTY_VALIDITY:
			ip.not_after = ip.not_before;
			break;
		case R_BAD_CSR:
			ip.csr_der = (const unsigned char *)"junk";
			ip.csr_len = 4;
			break;
		case R_TRAILING_CSR:
			ip.csr_der = tcsr;
			ip.csr_len = csrlen + 1;
			break;
		case R_BAD_NAME:
			ip.names = bad_names;
			break;
		}
		pem = (char *)"x";
		der = (unsigned char *)"x";
		derlen = 1;
		if (ca_issue(&f->ca, &ip, &pem, &der, &derlen) != 0 ||
		    pem != NULL || der != NULL || derlen != 0) {
			print_error("%s: got accepted or outputs set, want "
			    "refused\n", labels[i]);
			fails++;
		}
	}
	OPENSSL_free(csr);
	free(tcsr);
	if (fails > 0)
		fail_msg("%d of %d refusals failed", fails, (int)R__MAX);
}

int
main(void)
{
	const struct CMUnitTest csr_tests[] = {
		cmocka_unit_test(test_csr_cases),
		cmocka_unit_test(test_csr_decode_as_openssl),
		cmocka_unit_test(test_csr_no_account_key),
		cmocka_unit_test(test_csr_without_order),
		cmocka_unit_test(test_serial_new_hex),
	};
	const struct CMUnitTest ca_tests[] = {
		cmocka_unit_test(test_ca_init_files),
		cmocka_unit_test(test_ca_init_certs),
		cmocka_unit_test(test_ca_load),
		cmocka_unit_test(test_ca_issue_ov),
		cmocka_unit_test(test_ca_issue_minimal),
		cmocka_unit_test(test_ca_issue_refuses),
	};
	int rc;

	log_init("test_x509", getenv("TEST_VERBOSE") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	rc = cmocka_run_group_tests_name("csr", csr_tests, csr_setup,
	    csr_teardown);
	rc += cmocka_run_group_tests_name("ca", ca_tests, ca_setup,
	    ca_teardown);
	return rc;
}
