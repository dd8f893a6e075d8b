/*
 * test_ocsp.c - revocation status (common/ocsp.c and the OCSP signer of
 * common/ca.c): OCSP request parsing and GET decoding (tables of cases,
 * requests made here with OpenSSL), responses verified with
 * OCSP_basic_verify against root and intermediate of a CA made by
 * ca_init, CRLs verified with X509_CRL_verify, the signer's files.
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

struct fixture {
	char		 tmp[64];
	char		*dir;		/* tmp/ca, made by ca_init */
	struct ca	 ca;		/* intermediate and its key */
	struct ocsp_signer signer;
	X509		*root;
};

static struct fixture *fx;

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	umask(022);
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/test_ocsp.XXXXXX");
	if (mkdtemp(f->tmp) == NULL)
		return -1;
	f->dir = xasprintf("%s/ca", f->tmp);
	if (!ca_init(f->dir, "Test") || !ca_load(&f->ca, f->dir) ||
	    !ocsp_signer_load(&f->signer, f->dir, f->ca.cert))
		return -1;
	f->root = cert_read(f->dir, "root.pem");
	*state = fx = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f == NULL)
		return 0;
	ca_free(&f->ca);
	ocsp_signer_free(&f->signer);
	X509_free(f->root);
	rm_tree(f->tmp);
	free(f->dir);
	free(f);
	fx = NULL;
	return 0;
}

/* Returns a new ASN1_INTEGER from hex (a leading '-': negative). */
static ASN1_INTEGER *
asn1_serial(const char *hex)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *sn;

	assert_true(BN_hex2bn(&bn, hex) > 0);
	assert_non_null(sn = BN_to_ASN1_INTEGER(bn, NULL));
	BN_free(bn);
	return sn;
}

/* Returns a new CertID of the fixture's intermediate for serial. */
static OCSP_CERTID *
certid(const EVP_MD *md, const char *serial)
{
	ASN1_INTEGER *sn = asn1_serial(serial);
	OCSP_CERTID *id;

	assert_non_null(id = OCSP_cert_id_new(md,
	    X509_get_subject_name(fx->ca.cert),
	    X509_get0_pubkey_bitstr(fx->ca.cert), sn));
	ASN1_INTEGER_free(sn);
	return id;
}

/* ---- requests ---- */

enum mangle {
	M_NONE,
	M_TRUNCATED,	/* last byte cut off */
	M_TRAILING,	/* one byte after the DER */
	M_GARBAGE,	/* not DER at all */
	M_EMPTY,	/* zero bytes */
};

struct req_case {
	const char	*label;
	const char	*serials[3];	/* one request each; NULL-ended */
	int		 sha256;	/* CertIDs hashed with SHA-256 */
	int		 nonce;		/* with a nonce extension */
	enum mangle	 mangle;
	enum ocsp_parse	 want;
	const char	*want_serial;	/* when OCSPP_OK */
};

static const struct req_case req_cases[] = {
	{ "one request", { "1a2b3c4d5e6f708192a3b4c5d6e7f801" }, 0, 0,
	  M_NONE, OCSPP_OK, "1a2b3c4d5e6f708192a3b4c5d6e7f801" },
	{ "with a nonce (ignored)", { "7f" }, 0, 1, M_NONE, OCSPP_OK, "7f" },
	{ "leading zero nibble kept", { "05ab" }, 0, 0, M_NONE, OCSPP_OK,
	  "05ab" },
	{ "top bit set: DER 00 octet dropped", { "80ff" }, 0, 0, M_NONE,
	  OCSPP_OK, "80ff" },
	{ "negative serial: none of ours", { "-1234" }, 0, 0, M_NONE,
	  OCSPP_OK, "" },
	{ "21-octet serial: none of ours",
	  { "0102030405060708091011121314151617181920ff" }, 0, 0, M_NONE,
	  OCSPP_OK, "" },
	{ "two requests", { "01", "02" }, 0, 0, M_NONE, OCSPP_MALFORMED,
	  NULL },
	{ "no request", { NULL }, 0, 0, M_NONE, OCSPP_MALFORMED, NULL },
	{ "SHA-256 CertID", { "01" }, 1, 0, M_NONE, OCSPP_UNSUPPORTED_HASH,
	  NULL },
	{ "truncated", { "0102" }, 0, 0, M_TRUNCATED, OCSPP_MALFORMED, NULL },
	{ "trailing byte", { "0102" }, 0, 0, M_TRAILING, OCSPP_MALFORMED,
	  NULL },
	{ "garbage", { "01" }, 0, 0, M_GARBAGE, OCSPP_MALFORMED, NULL },
	{ "empty", { "01" }, 0, 0, M_EMPTY, OCSPP_MALFORMED, NULL },
};

/* Returns the DER of the request of a case (xmalloc'ed), in *len. */
static unsigned char *
req_make(const struct req_case *c, size_t *len)
{
	static const unsigned char garbage[] = "GET / HTTP/1.1\r\n\r\n";
	OCSP_REQUEST *req;
	unsigned char *der = NULL, *p;
	size_t i;
	int n;

	if (c->mangle == M_GARBAGE) {
		*len = sizeof(garbage) - 1;
		der = xmalloc(*len);
		memcpy(der, garbage, *len);
		return der;
	}
	assert_non_null(req = OCSP_REQUEST_new());
	for (i = 0; i < NELEM(c->serials) && c->serials[i] != NULL; i++)
		assert_non_null(OCSP_request_add0_id(req,
		    certid(c->sha256 ? EVP_sha256() : EVP_sha1(),
		    c->serials[i])));
	if (c->nonce)
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
	assert_true((n = i2d_OCSP_REQUEST(req, NULL)) > 0);
	der = p = xmalloc((size_t)n + 1);
	assert_int_equal(i2d_OCSP_REQUEST(req, &p), n);
	OCSP_REQUEST_free(req);
	*len = (size_t)n;
	switch (c->mangle) {
	case M_TRUNCATED:
		(*len)--;
		break;
	case M_TRAILING:
		der[(*len)++] = 0x00;
		break;
	case M_EMPTY:
		*len = 0;
		break;
	default:
		break;
	}
	return der;
}

static const char *
parse_name(enum ocsp_parse p)
{
	static const char *const names[OCSPP__MAX] = {
		[OCSPP_OK] = "OK",
		[OCSPP_MALFORMED] = "MALFORMED",
		[OCSPP_UNSUPPORTED_HASH] = "UNSUPPORTED_HASH",
	};

	return p < OCSPP__MAX ? names[p] : "?";
}

static void
test_request_parse(void **state)
{
	unsigned char nh[OCSP_HASH_LEN], kh[OCSP_HASH_LEN], *der;
	struct ocsp_certid id;
	enum ocsp_parse got;
	size_t i, len;
	int bad = 0;

	(void)state;
	assert_int_equal(ocsp_issuer_hashes(fx->ca.cert, nh, kh), 1);
	for (i = 0; i < NELEM(req_cases); i++) {
		const struct req_case *c = &req_cases[i];

		der = req_make(c, &len);
		memset(&id, 0xa5, sizeof(id));
		got = ocsp_request_parse(der, len, &id);
		free(der);
		if (got != c->want) {
			print_error("%s: got %s, want %s\n", c->label,
			    parse_name(got), parse_name(c->want));
			bad++;
			continue;
		}
		if (got != OCSPP_OK) {
			if (id.serial_hex[0] != '\0') {
				print_error("%s: id not zeroed\n", c->label);
				bad++;
			}
			continue;
		}
		if (strcmp(id.serial_hex, c->want_serial) != 0) {
			print_error("%s: serial got \"%s\", want \"%s\"\n",
			    c->label, id.serial_hex, c->want_serial);
			bad++;
		}
		if (memcmp(id.name_hash, nh, sizeof(nh)) != 0 ||
		    memcmp(id.key_hash, kh, sizeof(kh)) != 0) {
			print_error("%s: issuer hashes differ from "
			    "ocsp_issuer_hashes\n", c->label);
			bad++;
		}
	}
	if (bad)
		fail_msg("%d request case(s) failed", bad);
}

/* Each truncation of a good request is refused, never read past. */
static void
test_request_every_truncation(void **state)
{
	unsigned char *der, *cut;
	struct ocsp_certid id;
	size_t len, n;

	(void)state;
	der = req_make(&req_cases[1], &len);
	for (n = 0; n < len; n++) {
		cut = xmalloc(n + 1);
		memcpy(cut, der, n);
		if (ocsp_request_parse(cut, n, &id) != OCSPP_MALFORMED)
			fail_msg("a request cut to %zu of %zu bytes was "
			    "accepted", n, len);
		free(cut);
	}
	assert_int_equal(ocsp_request_parse(der, len, &id), OCSPP_OK);
	assert_int_equal(ocsp_request_parse(NULL, 0, &id), OCSPP_MALFORMED);
	free(der);
}

/* ---- GET decoding ---- */

struct get_case {
	const char	*label;
	const char	*path;
	int		 want;		/* 1: decodes to "hello?>" */
};

/* "hello?>" is aGVsbG8/Pg== in base64, aGVsbG8_Pg in base64url */
static const struct get_case get_cases[] = {
	{ "url-encoded", "aGVsbG8%2FPg%3D%3D", 1 },
	{ "lower-case escapes", "aGVsbG8%2fPg%3d%3d", 1 },
	{ "unencoded", "aGVsbG8/Pg==", 1 },
	{ "no padding", "aGVsbG8/Pg", 1 },
	{ "base64url", "aGVsbG8_Pg", 1 },
	{ "every character escaped",
	  "%61%47%56%73%62%47%38%2F%50%67%3D%3D", 1 },
	{ "empty", "", 0 },
	{ "bad escape", "aGVsbG8%2GPg==", 0 },
	{ "escape cut short", "aGVsbG8/Pg%3", 0 },
	{ "percent at the end", "aGVsbG8/Pg%", 0 },
	{ "not base64", "aGVs bG8/Pg==", 0 },
	{ "padding inside", "aG=sbG8/Pg==", 0 },
	{ "wrong padding", "aGVsbG8/Pg=", 0 },
	{ "three pads", "aGVsbG8/P===", 0 },
	{ "three characters in the last group", "aGVsbG8/PgA", 1 },
	{ "a lone sextet", "aGVsbG8/P", 0 },
};

static void
test_get_decode(void **state)
{
	unsigned char *der;
	size_t i, len;
	int got, bad = 0;

	(void)state;
	for (i = 0; i < NELEM(get_cases); i++) {
		const struct get_case *c = &get_cases[i];

		got = ocsp_get_decode(c->path, &der, &len);
		if (got != c->want) {
			print_error("%s: got %d, want %d\n", c->label, got,
			    c->want);
			bad++;
		} else if (got && (len < 7 || memcmp(der, "hello?>", 7) != 0)) {
			print_error("%s: decoded to %zu wrong bytes\n",
			    c->label, len);
			bad++;
		} else if (!got && (der != NULL || len != 0)) {
			print_error("%s: output not cleared\n", c->label);
			bad++;
		}
		free(der);
	}
	if (bad)
		fail_msg("%d GET case(s) failed", bad);
}

/* A real request through base64 and url-encoding, as RFC 6960 A.1. */
static void
test_get_round_trip(void **state)
{
	unsigned char *der, *back;
	struct ocsp_certid id;
	char *b64, *url, *p;
	size_t len, blen, i;
	int n;

	(void)state;
	der = req_make(&req_cases[0], &len);
	b64 = xmalloc(4 * (len / 3 + 1) + 1);
	assert_true((n = EVP_EncodeBlock((unsigned char *)b64, der,
	    (int)len)) > 0);
	url = p = xmalloc(3 * (size_t)n + 1);
	for (i = 0; i < (size_t)n; i++) {
		if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
			p += sprintf(p, "%%%02X", (unsigned char)b64[i]);
		else
			*p++ = b64[i];
	}
	*p = '\0';
	assert_int_equal(ocsp_get_decode(url, &back, &blen), 1);
	assert_int_equal(blen, len);
	assert_memory_equal(back, der, len);
	assert_int_equal(ocsp_request_parse(back, blen, &id), OCSPP_OK);
	assert_string_equal(id.serial_hex, req_cases[0].want_serial);
	free(back);
	free(url);
	free(b64);
	free(der);
}

/* ---- responses ---- */

/* Returns OCSP_basic_verify's result against the fixture's root (trust
 * anchor) with the intermediate as an untrusted certificate. */
static int
resp_verify(OCSP_BASICRESP *bs)
{
	return resp_verify_chain(bs, fx->root, fx->ca.cert);
}

struct resp_case {
	const char	*label;
	int		 revoked;
	int		 reason;
	int		 want_reason;	/* as OCSP_resp_find_status says */
};

static const struct resp_case resp_cases[] = {
	{ "good", 0, 0, -1 },
	{ "revoked keyCompromise", 1, 1, OCSP_REVOKED_STATUS_KEYCOMPROMISE },
	{ "revoked superseded", 1, 4, OCSP_REVOKED_STATUS_SUPERSEDED },
	{ "revoked privilegeWithdrawn", 1, 9,
	  OCSP_REVOKED_STATUS_PRIVILEGEWITHDRAWN },
	{ "revoked unspecified: no reason", 1, 0,
	  OCSP_REVOKED_STATUS_NOSTATUS },
	{ "revoked with a code outside RFC 5280: no reason", 1, 7,
	  OCSP_REVOKED_STATUS_NOSTATUS },
};

static void
test_response_sign(void **state)
{
	const char *serial = "3a0f0000000000000000000000000001";
	struct ocsp_status st;
	OCSP_BASICRESP *bs;
	OCSP_CERTID *cid;
	ASN1_INTEGER *sn;
	ASN1_GENERALIZEDTIME *rev, *thisupd, *nextupd;
	const ASN1_OCTET_STRING *keyid;
	const X509_NAME *byname;
	const STACK_OF(X509) *certs;
	unsigned char *der;
	time_t now = time(NULL);
	size_t i, len;
	int status, reason;

	(void)state;
	sn = asn1_serial(serial);
	cid = certid(EVP_sha1(), serial);
	for (i = 0; i < NELEM(resp_cases); i++) {
		const struct resp_case *c = &resp_cases[i];

		memset(&st, 0, sizeof(st));
		st.revoked = c->revoked;
		st.reason = c->reason;
		st.revoked_at = now - 7200;
		st.this_update = now;
		st.next_update = now + 4 * 86400;
		if (ocsp_response_sign(&fx->signer, fx->ca.cert, sn, &st, &der,
		    &len) != 1)
			fail_msg("%s: not signed", c->label);
		bs = resp_basic(der, len);
		if (resp_verify(bs) != 1)
			fail_msg("%s: OCSP_basic_verify refused it", c->label);
		if (OCSP_resp_find_status(bs, cid, &status, &reason, &rev,
		    &thisupd, &nextupd) != 1)
			fail_msg("%s: no status for the CertID", c->label);
		if (status != (c->revoked ? V_OCSP_CERTSTATUS_REVOKED :
		    V_OCSP_CERTSTATUS_GOOD))
			fail_msg("%s: got status %d", c->label, status);
		if (c->revoked && reason != c->want_reason)
			fail_msg("%s: got reason %d, want %d", c->label,
			    reason, c->want_reason);
		if (c->revoked) {
			assert_non_null(rev);
			assert_int_equal(ASN1_TIME_cmp_time_t(rev,
			    st.revoked_at), 0);
		}
		assert_int_equal(OCSP_check_validity(thisupd, nextupd, 300,
		    -1), 1);
		assert_int_equal(ASN1_TIME_cmp_time_t(thisupd, now), 0);
		assert_int_equal(ASN1_TIME_cmp_time_t(nextupd,
		    now + 4 * 86400), 0);
		/* responder by key hash, signer certificate included */
		assert_int_equal(OCSP_resp_get0_id(bs, &keyid, &byname), 1);
		assert_non_null(keyid);
		assert_null(byname);
		certs = OCSP_resp_get0_certs(bs);
		assert_int_equal(sk_X509_num(certs), 1);
		assert_int_equal(X509_cmp(sk_X509_value(certs, 0),
		    fx->signer.cert), 0);
		assert_int_equal(OCSP_resp_count(bs), 1);
		OCSP_BASICRESP_free(bs);
		free(der);
	}
	OCSP_CERTID_free(cid);
	ASN1_INTEGER_free(sn);
}

/* A response signed by a key the intermediate did not delegate to fails
 * OCSP_basic_verify (so the verification above means something). */
static void
test_response_unauthorized_signer(void **state)
{
	struct ocsp_signer rogue;
	struct ocsp_status st;
	OCSP_BASICRESP *bs;
	X509_NAME *n;
	ASN1_INTEGER *sn;
	unsigned char *der;
	size_t len;
	time_t now = time(NULL);

	(void)state;
	memset(&rogue, 0, sizeof(rogue));
	assert_non_null(rogue.key = EVP_RSA_gen(2048));
	assert_non_null(rogue.cert = X509_new());
	assert_non_null(n = X509_NAME_new());
	assert_int_equal(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Rogue", -1, -1, 0), 1);
	assert_int_equal(X509_set_subject_name(rogue.cert, n), 1);
	assert_int_equal(X509_set_issuer_name(rogue.cert, n), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(rogue.cert), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(rogue.cert),
	    86400));
	assert_int_equal(X509_set_pubkey(rogue.cert, rogue.key), 1);
	assert_true(X509_sign(rogue.cert, rogue.key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	sn = asn1_serial("01");
	memset(&st, 0, sizeof(st));
	st.this_update = now;
	st.next_update = now + 3600;
	assert_int_equal(ocsp_response_sign(&rogue, fx->ca.cert, sn, &st,
	    &der, &len), 1);
	bs = resp_basic(der, len);
	assert_int_not_equal(resp_verify(bs), 1);
	OCSP_BASICRESP_free(bs);
	free(der);
	/* and an empty validity is refused */
	st.next_update = st.this_update;
	assert_int_equal(ocsp_response_sign(&fx->signer, fx->ca.cert, sn, &st,
	    &der, &len), 0);
	assert_null(der);
	ASN1_INTEGER_free(sn);
	ocsp_signer_free(&rogue);
}

static void
test_error_der(void **state)
{
	static const struct {
		enum ocsp_resp_status st;
		int want;
	} cases[] = {
		{ OCSPS_MALFORMED, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST },
		{ OCSPS_INTERNAL, OCSP_RESPONSE_STATUS_INTERNALERROR },
		{ OCSPS_TRY_LATER, OCSP_RESPONSE_STATUS_TRYLATER },
		{ OCSPS_UNAUTHORIZED, OCSP_RESPONSE_STATUS_UNAUTHORIZED },
	};
	const unsigned char *der, *p;
	OCSP_RESPONSE *resp;
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		p = der = ocsp_error_der(cases[i].st, &len);
		assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len));
		assert_ptr_equal(p, der + len);
		if (OCSP_response_status(resp) != cases[i].want)
			fail_msg("status %d: got %d", (int)cases[i].st,
			    OCSP_response_status(resp));
		assert_null(OCSP_response_get1_basic(resp));
		ERR_clear_error();
		OCSP_RESPONSE_free(resp);
	}
}

/* ---- CRL ---- */

static void
test_crl_sign(void **state)
{
	char s1[] = "7e0000000000000000000000000000aa", s2[] = "05ab",
	    s3[] = "1234567890abcdef1234567890abcdef";
	struct crl_entry e[] = {
		{ s1, 0, 1 },
		{ s2, 0, 0 },
		{ s3, 0, 9 },
	};
	static const int want_reason[] = { 1, -1, 9 };
	const unsigned char *p;
	unsigned char *der;
	X509_CRL *crl;
	X509_REVOKED *rev;
	ASN1_INTEGER *sn, *num;
	ASN1_ENUMERATED *reason;
	AUTHORITY_KEYID *akid;
	const ASN1_OCTET_STRING *ski;
	EVP_PKEY *pub;
	time_t now = time(NULL);
	size_t i, len;
	int crit;

	(void)state;
	for (i = 0; i < NELEM(e); i++)
		e[i].revoked_at = now - 3600 * (time_t)(i + 1);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 42, now,
	    now + 7 * 86400, e, NELEM(e), &der, &len), 1);
	p = der;
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_non_null(pub = X509_get0_pubkey(fx->ca.cert));
	assert_int_equal(X509_CRL_verify(crl, pub), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(fx->ca.cert)), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl),
	    now), 0);
	assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl),
	    now + 7 * 86400), 0);
	assert_int_equal(X509_CRL_get_signature_nid(crl),
	    NID_sha256WithRSAEncryption);
	/* cRLNumber 42, AKI = the intermediate's SKI */
	assert_non_null(num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit,
	    NULL));
	assert_int_equal(ASN1_INTEGER_get(num), 42);
	ASN1_INTEGER_free(num);
	assert_non_null(akid = X509_CRL_get_ext_d2i(crl,
	    NID_authority_key_identifier, &crit, NULL));
	assert_non_null(ski = X509_get0_subject_key_id(fx->ca.cert));
	assert_non_null(akid->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, ski), 0);
	AUTHORITY_KEYID_free(akid);
	/* every serial, with its reason (none for unspecified) and date */
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
	for (i = 0; i < NELEM(e); i++) {
		sn = asn1_serial(e[i].serial_hex);
		rev = NULL;
		if (X509_CRL_get0_by_serial(crl, &rev, sn) != 1)
			fail_msg("serial %s is not in the CRL",
			    e[i].serial_hex);
		assert_int_equal(ASN1_TIME_cmp_time_t(
		    X509_REVOKED_get0_revocationDate(rev), e[i].revoked_at), 0);
		reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, &crit,
		    NULL);
		if (want_reason[i] < 0) {
			if (reason != NULL)
				fail_msg("serial %s: a reason for unspecified",
				    e[i].serial_hex);
		} else if (reason == NULL ||
		    ASN1_ENUMERATED_get(reason) != want_reason[i])
			fail_msg("serial %s: got reason %ld, want %d",
			    e[i].serial_hex, reason != NULL ?
			    ASN1_ENUMERATED_get(reason) : -1L, want_reason[i]);
		ASN1_ENUMERATED_free(reason);
		ASN1_INTEGER_free(sn);
	}
	/* a serial that was not revoked is not there */
	sn = asn1_serial("0102");
	assert_int_equal(X509_CRL_get0_by_serial(crl, &rev, sn), 0);
	ASN1_INTEGER_free(sn);
	X509_CRL_free(crl);
	free(der);
}

static void
test_crl_empty_and_refusals(void **state)
{
	char s_bad[] = "not-hex", s_upper[] = "ABCD", s_empty[] = "";
	struct crl_entry bad[] = { { s_bad, 0, 1 } };
	struct crl_entry upper[] = { { s_upper, 0, 1 } };
	struct crl_entry empty[] = { { s_empty, 0, 1 } };
	const unsigned char *p;
	unsigned char *der;
	X509_CRL *crl;
	time_t now = time(NULL);
	size_t len;

	(void)state;
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 1, now, now + 3600,
	    NULL, 0, &der, &len), 1);
	p = der;
	assert_non_null(crl = d2i_X509_CRL(NULL, &p, (long)len));
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(fx->ca.cert)),
	    1);
	/* no revokedCertificates at all (RFC 5280 5.1.2.6) */
	assert_null(X509_CRL_get_REVOKED(crl));
	X509_CRL_free(crl);
	free(der);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 2, now, now + 3600,
	    bad, 1, &der, &len), 0);
	assert_null(der);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 2, now, now + 3600,
	    upper, 1, &der, &len), 0);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 2, now, now + 3600,
	    empty, 1, &der, &len), 0);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 0, now, now + 3600,
	    NULL, 0, &der, &len), 0);
	assert_int_equal(crl_sign(fx->ca.cert, fx->ca.key, 3, now, now,
	    NULL, 0, &der, &len), 0);
}

/* ---- the signer's files ---- */

static void
test_signer(void **state)
{
	struct ocsp_signer s;
	X509 *before;
	char *path;
	FILE *f;
	EVP_PKEY *other;

	(void)state;
	/* what ca_init made: OCSPSigning, nocheck, issued by the intermediate */
	assert_true(X509_get_extended_key_usage(fx->signer.cert) &
	    XKU_OCSP_SIGN);
	assert_true(X509_get_ext_by_NID(fx->signer.cert,
	    NID_id_pkix_OCSP_noCheck, -1) >= 0);
	assert_int_equal(X509_check_ca(fx->signer.cert), 0);
	assert_int_equal(X509_check_issued(fx->ca.cert, fx->signer.cert),
	    X509_V_OK);
	assert_true(X509_cmp_time(X509_get0_notAfter(fx->signer.cert),
	    &(time_t){ time(NULL) + 366 * 86400 }) < 0);
	/* not over an existing one without replace; replaced with it */
	assert_int_equal(ca_ocsp_signer_create(fx->dir, 0), 0);
	before = X509_dup(fx->signer.cert);
	assert_int_equal(ca_ocsp_signer_create(fx->dir, 1), 1);
	assert_int_equal(ocsp_signer_load(&s, fx->dir, fx->ca.cert), 1);
	assert_int_not_equal(X509_cmp(s.cert, before), 0);
	ocsp_signer_free(&s);
	X509_free(before);
	/* not loaded for another issuer */
	assert_int_equal(ocsp_signer_load(&s, fx->dir, fx->root), 0);
	assert_null(s.cert);
	/* nor with a key that does not match */
	path = xasprintf("%s/ocsp.key", fx->dir);
	assert_int_equal(unlink(path), 0);
	assert_non_null(other = EVP_RSA_gen(2048));
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(PEM_write_PrivateKey(f, other, NULL, NULL, 0, NULL,
	    NULL), 1);
	fclose(f);
	assert_int_equal(ocsp_signer_load(&s, fx->dir, fx->ca.cert), 0);
	EVP_PKEY_free(other);
	free(path);
	/* nor from a directory without one */
	assert_int_equal(ocsp_signer_load(&s, fx->tmp, fx->ca.cert), 0);
	/* renewal mends it */
	assert_int_equal(ca_ocsp_signer_create(fx->dir, 1), 1);
	assert_int_equal(ocsp_signer_load(&s, fx->dir, fx->ca.cert), 1);
	ocsp_signer_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_request_every_truncation),
		cmocka_unit_test(test_get_decode),
		cmocka_unit_test(test_get_round_trip),
		cmocka_unit_test(test_response_sign),
		cmocka_unit_test(test_response_unauthorized_signer),
		cmocka_unit_test(test_error_der),
		cmocka_unit_test(test_crl_sign),
		cmocka_unit_test(test_crl_empty_and_refusals),
		cmocka_unit_test(test_signer),
	};

	log_init("test_ocsp", getenv("TEST_VERBOSE") != NULL ?
	    LOG_LVL_DEBUG : LOG_LVL_ERR);
	return cmocka_run_group_tests_name("ocsp", tests, setup, teardown);
}
