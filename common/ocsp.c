/*
 * ocsp.c - revocation status with OpenSSL: parsing OCSP requests
 * (untrusted input, for acme-fcgi), signing OCSP responses with the
 * delegated OCSP signer and CRLs with the intermediate's key (for
 * acme-worker, which alone reads those keys).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ocsp.h"
#include "util.h"
#include "x509.h"

/*
 * OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, ... } without
 * responseBytes, one per unsuccessful status sent.
 */
static const unsigned char err_malformed[] = { 0x30, 0x03, 0x0a, 0x01, 1 };
static const unsigned char err_internal[] = { 0x30, 0x03, 0x0a, 0x01, 2 };
static const unsigned char err_try_later[] = { 0x30, 0x03, 0x0a, 0x01, 3 };
static const unsigned char err_unauthorized[] = { 0x30, 0x03, 0x0a, 0x01, 6 };

const unsigned char *
ocsp_error_der(enum ocsp_resp_status st, size_t *len)
{
	switch (st) {
	case OCSPS_MALFORMED:
		*len = sizeof(err_malformed);
		return err_malformed;
	case OCSPS_TRY_LATER:
		*len = sizeof(err_try_later);
		return err_try_later;
	case OCSPS_UNAUTHORIZED:
		*len = sizeof(err_unauthorized);
		return err_unauthorized;
	case OCSPS_SUCCESSFUL:	/* a success carries a signed response */
	case OCSPS_INTERNAL:
	default:
		*len = sizeof(err_internal);
		return err_internal;
	}
}

/* Writes the n bytes of b as lower-case hex and a NUL into out. */
static void
hex_encode(const unsigned char *b, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[b[i] >> 4];
		out[2 * i + 1] = hex[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/* Fills out (2 * OCSP_SERIAL_MAX + 1 bytes) with the serial as
 * certificate.serial spells it, or "" when sn is zero, negative or
 * longer than OCSP_SERIAL_MAX octets. Returns 1, or 0 if sn is not an
 * integer OpenSSL can read. */
static int
serial_hex(const ASN1_INTEGER *sn, char *out)
{
	unsigned char b[OCSP_SERIAL_MAX];
	BIGNUM *bn;
	int n;

	out[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL)
		return 0;
	if (!BN_is_negative(bn) && !BN_is_zero(bn) &&
	    BN_num_bytes(bn) <= OCSP_SERIAL_MAX &&
	    (n = BN_bn2bin(bn, b)) > 0)
		hex_encode(b, (size_t)n, out);
	BN_free(bn);
	return 1;
}

enum ocsp_parse
ocsp_request_parse(const unsigned char *der, size_t len,
    struct ocsp_certid *id)
{
	OCSP_REQUEST *req = NULL;
	OCSP_ONEREQ *one;
	OCSP_CERTID *cid;
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *md = NULL;
	ASN1_INTEGER *sn = NULL;
	const unsigned char *p = der;
	enum ocsp_parse rc = OCSPP_MALFORMED;

	memset(id, 0, sizeof(*id));
	if (der == NULL || len == 0 || len > OCSP_REQUEST_MAX ||
	    (req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (OCSP_request_onereq_count(req) != 1 ||
	    (one = OCSP_request_onereq_get0(req, 0)) == NULL ||
	    (cid = OCSP_onereq_get0_id(one)) == NULL ||
	    OCSP_id_get0_info(&nh, &md, &kh, &sn, cid) != 1 ||
	    nh == NULL || md == NULL || kh == NULL || sn == NULL)
		goto out;
	if (OBJ_obj2nid(md) != NID_sha1) {
		rc = OCSPP_UNSUPPORTED_HASH;
		goto out;
	}
	if (ASN1_STRING_length(nh) != OCSP_HASH_LEN ||
	    ASN1_STRING_length(kh) != OCSP_HASH_LEN ||
	    !serial_hex(sn, id->serial_hex))
		goto out;
	memcpy(id->name_hash, ASN1_STRING_get0_data(nh), OCSP_HASH_LEN);
	memcpy(id->key_hash, ASN1_STRING_get0_data(kh), OCSP_HASH_LEN);
	rc = OCSPP_OK;
 out:
	if (rc != OCSPP_OK)
		memset(id, 0, sizeof(*id));
	OCSP_REQUEST_free(req);
	ERR_clear_error();
	return rc;
}

/* Returns the value of a base64 (or base64url) character, or -1. */
static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int
ocsp_get_decode(const char *path, unsigned char **der, size_t *len)
{
	char *s = NULL;
	unsigned char *out = NULL;
	size_t plen, i, n = 0, npad = 0, o = 0;
	unsigned long acc = 0;
	int hi, lo, v, bits = 0, rc = 0;

	*der = NULL;
	*len = 0;
	plen = strlen(path);
	/* three url-encoded characters per base64 character at most */
	if (plen == 0 || plen > 3 * (OCSP_REQUEST_MAX / 3 + 1) * 4)
		goto out;
	s = xmalloc(plen + 1);
	for (i = 0; i < plen; i++) {
		if (path[i] != '%') {
			s[n++] = path[i];
			continue;
		}
		if ((hi = hex_digit((unsigned char)path[i + 1])) < 0 ||
		    (lo = hex_digit((unsigned char)path[i + 2])) < 0)
			goto out;
		s[n++] = (char)(hi << 4 | lo);
		i += 2;
	}
	while (n > 0 && s[n - 1] == '=' && npad < 2) {
		n--;
		npad++;
	}
	if (n == 0 || n % 4 == 1 || (npad > 0 && (n + npad) % 4 != 0) ||
	    n / 4 * 3 > OCSP_REQUEST_MAX)
		goto out;
	out = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if ((v = b64val((unsigned char)s[i])) < 0)
			goto out;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	if (o > OCSP_REQUEST_MAX)
		goto out;
	*der = out;
	*len = o;
	out = NULL;
	rc = 1;
 out:
	free(s);
	free(out);
	return rc;
}

int
ocsp_issuer_hashes(X509 *issuer, unsigned char *name_hash,
    unsigned char *key_hash)
{
	unsigned int nlen = 0, klen = 0;

	if (X509_NAME_digest(X509_get_subject_name(issuer), EVP_sha1(),
	    name_hash, &nlen) != 1 ||
	    X509_pubkey_digest(issuer, EVP_sha1(), key_hash, &klen) != 1 ||
	    nlen != OCSP_HASH_LEN || klen != OCSP_HASH_LEN) {
		ossl_log_errors("OCSP issuer hashes");
		return 0;
	}
	return 1;
}

/* A passphrase callback that refuses: keys are not encrypted, and a
 * daemon must never prompt. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

int
ocsp_signer_load(struct ocsp_signer *s, const char *dir, X509 *issuer)
{
	char *cpath = NULL, *kpath = NULL;
	BIO *b = NULL;
	struct stat st;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	cpath = xasprintf("%s/ocsp.pem", dir);
	kpath = xasprintf("%s/ocsp.key", dir);
	if ((b = BIO_new_file(cpath, "r")) == NULL ||
	    (s->cert = PEM_read_bio_X509(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		ossl_log_errors(cpath);
		msg_warn("%s: no OCSP signer certificate", cpath);
		goto out;
	}
	BIO_free(b);
	if ((b = BIO_new_file(kpath, "r")) == NULL ||
	    (s->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		ossl_log_errors(kpath);
		msg_warn("%s: no OCSP signer key", kpath);
		goto out;
	}
	if (stat(kpath, &st) == 0 && (st.st_mode & 077) != 0)
		msg_warn("%s: readable by group or others (mode %04o)",
		    kpath, (unsigned int)(st.st_mode & 07777));
	if (X509_check_private_key(s->cert, s->key) != 1) {
		ossl_log_errors("X509_check_private_key");
		msg_warn("%s does not match %s", kpath, cpath);
		goto out;
	}
	if (X509_check_issued(issuer, s->cert) != X509_V_OK) {
		msg_warn("%s was not issued by the intermediate", cpath);
		goto out;
	}
	if ((X509_get_extension_flags(s->cert) & EXFLAG_XKUSAGE) == 0 ||
	    (X509_get_extended_key_usage(s->cert) & XKU_OCSP_SIGN) == 0) {
		msg_warn("%s lacks the OCSPSigning extended key usage", cpath);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notBefore(s->cert)) >= 0 ||
	    X509_cmp_current_time(X509_get0_notAfter(s->cert)) <= 0) {
		msg_warn("%s is not valid now (renew it: acmectl ca "
		    "ocsp-signer --renew)", cpath);
		goto out;
	}
	rc = 1;
 out:
	ERR_clear_error();
	BIO_free(b);
	free(cpath);
	free(kpath);
	if (!rc)
		ocsp_signer_free(s);
	return rc;
}

void
ocsp_signer_free(struct ocsp_signer *s)
{
	if (s == NULL)
		return;
	X509_free(s->cert);
	EVP_PKEY_free(s->key);
	memset(s, 0, sizeof(*s));
}

/* Returns 1 if a CRLReason code goes into a response or CRL entry:
 * not unspecified (0, left out per the Baseline Requirements), not
 * removeFromCRL (8, delta CRLs only), and defined by RFC 5280. */
static int
reason_published(int reason)
{
	return reason >= 1 && reason <= 10 && reason != 7 && reason != 8;
}

/* Takes the n bytes OpenSSL allocated at buf (an i2d_* result; n <= 0
 * is its failure) and returns them in a newly allocated buffer (caller
 * frees) with *len set, or NULL (logged). Frees buf. */
static unsigned char *
der_take(unsigned char *buf, int n, size_t *len, const char *what)
{
	unsigned char *d = NULL;

	*len = 0;
	if (n <= 0 || buf == NULL)
		ossl_log_errors(what);
	else {
		d = xmalloc((size_t)n);
		memcpy(d, buf, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(buf);
	return d;
}

/* Signs the response of one CertID (see ocsp_response_sign), which it
 * frees (NULL: its making failed, logged). Returns 1 and the DER (*der,
 * *len; caller frees), or 0 (logged). */
static int
response_sign(const struct ocsp_signer *s, OCSP_CERTID *cid,
    const struct ocsp_status *st, unsigned char **der, size_t *len)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
	unsigned char *buf = NULL;
	int n, rc = 0;

	*der = NULL;
	*len = 0;
	if (cid == NULL)
		goto out;
	if (s->cert == NULL || s->key == NULL ||
	    st->next_update <= st->this_update) {
		msg_warn("ocsp_response_sign: no signer, or empty validity");
		goto out;
	}
	if ((thisupd = ASN1_GENERALIZEDTIME_set(NULL,
	    st->this_update)) == NULL ||
	    (nextupd = ASN1_GENERALIZEDTIME_set(NULL,
	    st->next_update)) == NULL ||
	    (st->revoked && (revtime = ASN1_GENERALIZEDTIME_set(NULL,
	    st->revoked_at)) == NULL) ||
	    (bs = OCSP_BASICRESP_new()) == NULL) {
		ossl_log_errors("OCSP response");
		goto out;
	}
	if (OCSP_basic_add1_status(bs, cid, st->revoked ?
	    V_OCSP_CERTSTATUS_REVOKED : V_OCSP_CERTSTATUS_GOOD,
	    st->revoked && reason_published(st->reason) ? st->reason :
	    OCSP_REVOKED_STATUS_NOSTATUS, revtime, thisupd,
	    nextupd) == NULL ||
	    OCSP_basic_sign(bs, s->cert, s->key, ca_sign_digest(s->key), NULL,
	    OCSP_RESPID_KEY) != 1 ||
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL) {
		ossl_log_errors("OCSP response");
		goto out;
	}
	n = i2d_OCSP_RESPONSE(resp, &buf);
	if ((*der = der_take(buf, n, len, "i2d_OCSP_RESPONSE")) == NULL)
		goto out;
	rc = 1;
 out:
	ERR_clear_error();
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(revtime);
	OCSP_CERTID_free(cid);
	return rc;
}

int
ocsp_response_sign(const struct ocsp_signer *s, X509 *issuer,
    const ASN1_INTEGER *serial, const struct ocsp_status *st,
    unsigned char **der, size_t *len)
{
	OCSP_CERTID *cid = NULL;

	if (issuer == NULL || serial == NULL)
		msg_warn("ocsp_response_sign: no issuer or serial");
	else if ((cid = OCSP_cert_id_new(EVP_sha1(),
	    X509_get_subject_name(issuer), X509_get0_pubkey_bitstr(issuer),
	    serial)) == NULL)
		ossl_log_errors("OCSP CertID");
	return response_sign(s, cid, st, der, len);
}

/* Returns a new ASN1_INTEGER (caller frees) for a serial spelled as in
 * certificate.serial (1 to 2 * OCSP_SERIAL_MAX lower-case hex digits),
 * or NULL (logged). */
static ASN1_INTEGER *
serial_from_hex(const char *hex)
{
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	size_t n = hex != NULL ? strlen(hex) : 0;

	if (n == 0 || n > 2 * OCSP_SERIAL_MAX ||
	    strspn(hex, "0123456789abcdef") != n) {
		msg_warn("bad serial \"%s\"", hex != NULL ? hex : "");
		return NULL;
	}
	if (BN_hex2bn(&bn, hex) != (int)n ||
	    (sn = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		ossl_log_errors("serial");
	BN_free(bn);
	return sn;
}

/*
 * Returns a new SHA-1 CertID (caller frees) of id, or NULL (logged).
 * It is decoded from the DER written here, which is what
 * OCSP_cert_id_new(EVP_sha1(), ...) makes from the issuer's name and key
 * (test_ocsp_certid compares them): OCSP_CERTID is opaque, and that
 * function would hash the issuer's name and key again.
 */
static OCSP_CERTID *
certid_of(const struct ocsp_certid *id)
{
	/* AlgorithmIdentifier { id-sha1, NULL } */
	static const unsigned char sha1[] = { 0x30, 0x09, 0x06, 0x05, 0x2b,
	    0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00 };
	/* SEQUENCE, AlgorithmIdentifier, two OCTET STRINGs, INTEGER of at
	 * most OCSP_SERIAL_MAX octets and a leading 00: under 128 bytes,
	 * so every length is one octet */
	unsigned char buf[2 + sizeof(sha1) + 2 * (2 + OCSP_HASH_LEN) + 2 +
	    OCSP_SERIAL_MAX + 1], *w;
	const unsigned char *r;
	ASN1_INTEGER *sn = NULL;
	OCSP_CERTID *cid = NULL;
	int n;

	if ((sn = serial_from_hex(id->serial_hex)) == NULL)
		goto out;
	if ((n = i2d_ASN1_INTEGER(sn, NULL)) <= 0 ||
	    n > 2 + OCSP_SERIAL_MAX + 1) {
		ossl_log_errors("OCSP CertID serial");
		goto out;
	}
	w = buf;
	*w++ = 0x30;
	*w++ = (unsigned char)(sizeof(sha1) + 2 * (2 + OCSP_HASH_LEN) +
	    (size_t)n);
	memcpy(w, sha1, sizeof(sha1));
	w += sizeof(sha1);
	*w++ = 0x04;
	*w++ = OCSP_HASH_LEN;
	memcpy(w, id->name_hash, OCSP_HASH_LEN);
	w += OCSP_HASH_LEN;
	*w++ = 0x04;
	*w++ = OCSP_HASH_LEN;
	memcpy(w, id->key_hash, OCSP_HASH_LEN);
	w += OCSP_HASH_LEN;
	if (i2d_ASN1_INTEGER(sn, &w) != n) {
		ossl_log_errors("OCSP CertID serial");
		goto out;
	}
	r = buf;
	if ((cid = d2i_OCSP_CERTID(NULL, &r, (long)(w - buf))) == NULL ||
	    r != w) {
		ossl_log_errors("OCSP CertID");
		OCSP_CERTID_free(cid);
		cid = NULL;
	}
 out:
	ASN1_INTEGER_free(sn);
	return cid;
}

int
ocsp_response_sign_id(const struct ocsp_signer *s,
    const struct ocsp_certid *id, const struct ocsp_status *st,
    unsigned char **der, size_t *len)
{
	return response_sign(s, certid_of(id), st, der, len);
}

/*
 * A certificate as ocsp_cert_issued_by reads it (RFC 5280 4.1): the
 * subjectPublicKeyInfo, validity and subject stay encoded (ASN1_ANY).
 */
typedef struct {
	ASN1_INTEGER	*version;
	ASN1_INTEGER	*serial;
	X509_ALGOR	*signature;
	X509_NAME	*issuer;
	ASN1_TYPE	*validity;
	ASN1_TYPE	*subject;
	ASN1_TYPE	*spki;
	ASN1_BIT_STRING	*issuer_uid;
	ASN1_BIT_STRING	*subject_uid;
	STACK_OF(X509_EXTENSION) *extensions;
} CERT_TBS_LITE;

ASN1_SEQUENCE(CERT_TBS_LITE) = {
	ASN1_EXP_OPT(CERT_TBS_LITE, version, ASN1_INTEGER, 0),
	ASN1_SIMPLE(CERT_TBS_LITE, serial, ASN1_INTEGER),
	ASN1_SIMPLE(CERT_TBS_LITE, signature, X509_ALGOR),
	ASN1_SIMPLE(CERT_TBS_LITE, issuer, X509_NAME),
	ASN1_SIMPLE(CERT_TBS_LITE, validity, ASN1_ANY),
	ASN1_SIMPLE(CERT_TBS_LITE, subject, ASN1_ANY),
	ASN1_SIMPLE(CERT_TBS_LITE, spki, ASN1_ANY),
	ASN1_IMP_OPT(CERT_TBS_LITE, issuer_uid, ASN1_BIT_STRING, 1),
	ASN1_IMP_OPT(CERT_TBS_LITE, subject_uid, ASN1_BIT_STRING, 2),
	ASN1_EXP_SEQUENCE_OF_OPT(CERT_TBS_LITE, extensions, X509_EXTENSION,
	    3),
} static_ASN1_SEQUENCE_END(CERT_TBS_LITE)

typedef struct {
	CERT_TBS_LITE	*tbs;
	X509_ALGOR	*sig_alg;
	ASN1_BIT_STRING	*sig;
} CERT_LITE;

ASN1_SEQUENCE(CERT_LITE) = {
	ASN1_SIMPLE(CERT_LITE, tbs, CERT_TBS_LITE),
	ASN1_SIMPLE(CERT_LITE, sig_alg, X509_ALGOR),
	ASN1_SIMPLE(CERT_LITE, sig, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(CERT_LITE)

int
ocsp_cert_issued_by(const unsigned char *der, size_t len, X509 *issuer,
    char *serial)
{
	CERT_LITE *c = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OBJECT *alg;
	EVP_PKEY *ipub;
	const unsigned char *p = der;
	int i, pknid, rc = 0;

	serial[0] = '\0';
	if (der == NULL || len == 0 || len > LONG_MAX ||
	    (c = (CERT_LITE *)ASN1_item_d2i(NULL, &p, (long)len,
	    ASN1_ITEM_rptr(CERT_LITE))) == NULL || p != der + len)
		goto out;
	/* as X509_check_issued: the names, the signature algorithm against
	 * the issuer's key type (X509_get0_pubkey returns the key decoded
	 * when the intermediate was loaded), the authorityKeyIdentifier
	 * against the issuer's subjectKeyIdentifier (cached by
	 * X509_get0_subject_key_id before X509_check_akid reads it) */
	X509_ALGOR_get0(&alg, NULL, NULL, c->tbs->signature);
	if (X509_NAME_cmp(c->tbs->issuer, X509_get_subject_name(issuer)) != 0 ||
	    (ipub = X509_get0_pubkey(issuer)) == NULL ||
	    OBJ_find_sigid_algs(OBJ_obj2nid(alg), NULL, &pknid) != 1 ||
	    !(EVP_PKEY_is_a(ipub, OBJ_nid2sn(pknid)) ||
	    (pknid == NID_rsassaPss && EVP_PKEY_is_a(ipub, "RSA"))))
		goto out;
	(void)X509_get0_subject_key_id(issuer);
	if ((i = X509v3_get_ext_by_NID(c->tbs->extensions,
	    NID_authority_key_identifier, -1)) >= 0 &&
	    ((akid = X509V3_EXT_d2i(X509v3_get_ext(c->tbs->extensions,
	    i))) == NULL || X509_check_akid(issuer, akid) != X509_V_OK))
		goto out;
	if (!serial_hex(c->tbs->serial, serial) || serial[0] == '\0')
		goto out;
	rc = 1;
 out:
	if (!rc)
		serial[0] = '\0';
	AUTHORITY_KEYID_free(akid);
	ASN1_item_free((ASN1_VALUE *)c, ASN1_ITEM_rptr(CERT_LITE));
	ERR_clear_error();
	return rc;
}

/* Adds one revoked certificate to crl. Returns 1 or 0 (logged). */
static int
crl_add_entry(X509_CRL *crl, const struct crl_entry *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	int rc = 0;

	if ((sn = serial_from_hex(e->serial_hex)) == NULL)
		goto out;
	if ((rev = X509_REVOKED_new()) == NULL ||
	    (t = ASN1_TIME_set(NULL, e->revoked_at)) == NULL ||
	    X509_REVOKED_set_serialNumber(rev, sn) != 1 ||
	    X509_REVOKED_set_revocationDate(rev, t) != 1) {
		ossl_log_errors("CRL entry");
		goto out;
	}
	if (reason_published(e->reason) &&
	    ((reason = ASN1_ENUMERATED_new()) == NULL ||
	    ASN1_ENUMERATED_set(reason, e->reason) != 1 ||
	    X509_REVOKED_add1_ext_i2d(rev, NID_crl_reason, reason, 0,
	    X509V3_ADD_DEFAULT) != 1)) {
		ossl_log_errors("CRL entry reason");
		goto out;
	}
	if (X509_CRL_add0_revoked(crl, rev) != 1) {
		ossl_log_errors("X509_CRL_add0_revoked");
		goto out;
	}
	rev = NULL;
	rc = 1;
 out:
	X509_REVOKED_free(rev);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	ASN1_ENUMERATED_free(reason);
	return rc;
}

int
crl_sign(X509 *issuer, EVP_PKEY *key, long number, time_t this_update,
    time_t next_update, const struct crl_entry *entries, size_t n,
    unsigned char **der, size_t *len)
{
	X509_CRL *crl = NULL;
	X509_EXTENSION *ext = NULL;
	X509V3_CTX ctx;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL;
	ASN1_INTEGER *num = NULL;
	unsigned char *buf = NULL;
	size_t i;
	int nder, rc = 0;

	*der = NULL;
	*len = 0;
	if (issuer == NULL || key == NULL || number < 1 ||
	    next_update <= this_update) {
		msg_warn("crl_sign: no issuer, bad number or empty validity");
		goto out;
	}
	if ((crl = X509_CRL_new()) == NULL ||
	    X509_CRL_set_version(crl, X509_CRL_VERSION_2) != 1 ||
	    X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(issuer)) != 1 ||
	    (thisupd = ASN1_TIME_set(NULL, this_update)) == NULL ||
	    (nextupd = ASN1_TIME_set(NULL, next_update)) == NULL ||
	    X509_CRL_set1_lastUpdate(crl, thisupd) != 1 ||
	    X509_CRL_set1_nextUpdate(crl, nextupd) != 1) {
		ossl_log_errors("CRL");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!crl_add_entry(crl, &entries[i]))
			goto out;
	if (X509_CRL_sort(crl) != 1 ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    ASN1_INTEGER_set_int64(num, number) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		ossl_log_errors("CRL number");
		goto out;
	}
	X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
	if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx,
	    NID_authority_key_identifier, "keyid:always")) == NULL ||
	    X509_CRL_add_ext(crl, ext, -1) != 1) {
		ossl_log_errors("CRL authorityKeyIdentifier");
		goto out;
	}
	if (X509_CRL_sign(crl, key, ca_sign_digest(key)) <= 0) {
		ossl_log_errors("X509_CRL_sign");
		goto out;
	}
	nder = i2d_X509_CRL(crl, &buf);
	if ((*der = der_take(buf, nder, len, "i2d_X509_CRL")) == NULL)
		goto out;
	rc = 1;
 out:
	ERR_clear_error();
	X509_EXTENSION_free(ext);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(thisupd);
	ASN1_TIME_free(nextupd);
	X509_CRL_free(crl);
	return rc;
}
