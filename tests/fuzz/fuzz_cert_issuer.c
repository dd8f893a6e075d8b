/*
 * fuzz_cert_issuer.c - ocsp_cert_issued_by (common/ocsp.c) on arbitrary
 * DER, against one issuer: a P-256 CA "O=Fuzz, CN=Fuzz CA" whose key is
 * fixed, so that tests/fuzz/seeds.py writes seeds really issued by it.
 * An accepted certificate has a serial spelled as certificate.serial
 * holds it; a refused one none. Where d2i_X509 parses the certificate
 * too, X509_check_issued must agree (see cert_issuer_cross_check).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "fuzz.h"
#include "ocsp.h"

/* The issuer's key (the same PEM is in tests/fuzz/seeds.py). */
static const char cert_issuer_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHL3+YBgPhtQMJOFU\n"
    "q9suHf139h0Ab5yc9VRztgaCzNChRANCAASd1M6sOeKQFO0NP7PcsIwF1fYGFRtq\n"
    "MWi8juhnvJTxCyt70mdemXJuuk7i8PoBcWFoCFEKOh1BovLmpX+kAqS6\n"
    "-----END PRIVATE KEY-----\n";

/* The issuer's extensions: those of an intermediate of common/ca.c. */
static const struct {
	int		 nid;
	const char	*value;
} cert_issuer_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
	{ NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
};

/* Returns the self-signed issuer (serial 1, the names and key above),
 * made on the first call and kept for the life of the process; aborts
 * if OpenSSL cannot make it. */
static X509 *
cert_issuer_ca(void)
{
	static X509 *ca;
	X509_NAME *name = NULL;
	X509_EXTENSION *ext;
	X509V3_CTX ctx;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	size_t i;

	if (ca != NULL)
		return ca;
	if ((bio = BIO_new_mem_buf(cert_issuer_key_pem, -1)) == NULL ||
	    (key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL ||
	    (ca = X509_new()) == NULL ||
	    (name = X509_NAME_new()) == NULL ||
	    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Fuzz", -1, -1, 0) != 1 ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Fuzz CA", -1, -1, 0) != 1 ||
	    X509_set_version(ca, X509_VERSION_3) != 1 ||
	    ASN1_INTEGER_set(X509_get_serialNumber(ca), 1) != 1 ||
	    X509_set_issuer_name(ca, name) != 1 ||
	    X509_set_subject_name(ca, name) != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notBefore(ca),
	    "20250101000000Z") != 1 ||
	    ASN1_TIME_set_string_X509(X509_getm_notAfter(ca),
	    "20450101000000Z") != 1 ||
	    X509_set_pubkey(ca, key) != 1)
		abort();
	X509V3_set_ctx(&ctx, ca, ca, NULL, NULL, 0);
	for (i = 0; i < sizeof(cert_issuer_exts) /
	    sizeof(cert_issuer_exts[0]); i++) {
		if ((ext = X509V3_EXT_nconf_nid(NULL, &ctx,
		    cert_issuer_exts[i].nid, cert_issuer_exts[i].value)) ==
		    NULL || X509_add_ext(ca, ext, -1) != 1)
			abort();
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(ca, key, EVP_sha256()) <= 0 ||
	    X509_get0_subject_key_id(ca) == NULL)
		abort();
	X509_NAME_free(name);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return ca;
}

/* Returns 1 if s is a serial as certificate.serial spells it: 1 to
 * OCSP_SERIAL_MAX octets in lower-case hex, the first not 00. */
static int
cert_issuer_serial_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n % 2 != 0 || n > 2 * OCSP_SERIAL_MAX ||
	    (s[0] == '0' && s[1] == '0'))
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Returns the serial of x as certificate.serial spells it (caller frees
 * with OPENSSL_free), or NULL when it cannot be one of ours: zero,
 * negative, longer than OCSP_SERIAL_MAX octets or unreadable. */
static char *
cert_issuer_serial_of(X509 *x)
{
	BIGNUM *bn;
	char *hex = NULL, *p;

	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
	    NULL)
		return NULL;
	if (!BN_is_negative(bn) && !BN_is_zero(bn) &&
	    BN_num_bytes(bn) <= OCSP_SERIAL_MAX) {
		if ((hex = BN_bn2hex(bn)) == NULL)
			abort();
		for (p = hex; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'F')
				*p = *p - 'A' + 'a';
	}
	BN_free(bn);
	return hex;
}

/* Returns 1 if data is one SEQUENCE (constructed) and nothing after it,
 * or one of indefinite length (BER, which OpenSSL reads). */
static int
cert_issuer_whole(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	long len;
	int tag, cls, ret;

	ret = ASN1_get_object(&p, &len, &tag, &cls, (long)size);
	if ((ret & 0x80) != 0 || (ret & V_ASN1_CONSTRUCTED) == 0 ||
	    tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL)
		return 0;
	return (ret & 0x01) != 0 || p + len == data + size;
}

/*
 * Returns what X509_check_issued says of x stripped of every extension
 * but its first authorityKeyIdentifier (the one ocsp_cert_issued_by
 * reads), or X509_V_ERR_UNSPECIFIED if x cannot be encoded again.
 */
static int
cert_issuer_check_aki_only(X509 *ca, X509 *x)
{
	const unsigned char *p;
	unsigned char *der = NULL;
	X509 *y = NULL, *z = NULL;
	int aki, i, len, rc = X509_V_ERR_UNSPECIFIED;

	if ((y = X509_dup(x)) == NULL)
		goto out;
	aki = X509_get_ext_by_NID(y, NID_authority_key_identifier, -1);
	for (i = X509_get_ext_count(y) - 1; i >= 0; i--)
		if (i != aki)
			X509_EXTENSION_free(X509_delete_ext(y, i));
	/* encode the tbsCertificate again (X509_delete_ext does not say
	 * it changed), and read it again for OpenSSL to look at the
	 * extensions left afresh */
	if (i2d_re_X509_tbs(y, NULL) <= 0 || (len = i2d_X509(y, &der)) <= 0)
		goto out;
	p = der;
	if ((z = d2i_X509(NULL, &p, len)) != NULL)
		rc = X509_check_issued(ca, z);
 out:
	OPENSSL_free(der);
	X509_free(y);
	X509_free(z);
	return rc;
}

/*
 * Compares ocsp_cert_issued_by's verdict got (and serial) with OpenSSL's
 * reading of the same DER; aborts where they disagree. Three
 * differences are by design, and allowed:
 * - ocsp_cert_issued_by leaves the validity, subject and key encoded, so
 *   it accepts a certificate that d2i_X509 refuses (a subject that is not
 *   a Name, say): nothing to compare then;
 * - X509_check_issued refuses (X509_V_ERR_UNSPECIFIED) a certificate with
 *   an extension OpenSSL cannot decode (EXFLAG_INVALID: a keyUsage that
 *   is not one, two authorityKeyIdentifiers...), which
 *   ocsp_cert_issued_by does not look at, but for its (first)
 *   authorityKeyIdentifier: X509_check_issued must then accept the
 *   certificate without its other extensions;
 * - d2i_X509 takes a subject Name whose SEQUENCE tag is primitive (0x10:
 *   OpenSSL does not check that a SEQUENCE OF is constructed), which the
 *   ASN1_ANY of ocsp_cert_issued_by refuses, as it should.
 * Everything else must agree: whatever X509_check_issued accepts with a
 * serial that can be ours is accepted, with that serial, and the
 * reverse.
 */
static void
cert_issuer_cross_check(const uint8_t *data, size_t size, X509 *ca,
    int got, const char *serial)
{
	const unsigned char *p = data;
	const unsigned char *subject;
	size_t subject_len;
	X509 *x;
	char *want_serial;
	int issued;

	if ((x = d2i_X509(NULL, &p, (long)size)) == NULL ||
	    p != data + size) {
		X509_free(x);
		return;
	}
	issued = X509_check_issued(ca, x);
	want_serial = cert_issuer_serial_of(x);
	/* the subject's bytes as they came (X509_NAME keeps them) */
	if (X509_NAME_get0_der(X509_get_subject_name(x), &subject,
	    &subject_len) != 1 || subject_len == 0)
		abort();
	if (got) {
		if (want_serial == NULL || strcmp(serial, want_serial) != 0)
			abort();
		if (issued != X509_V_OK &&
		    !(issued == X509_V_ERR_UNSPECIFIED &&
		    (X509_get_extension_flags(x) & EXFLAG_INVALID) != 0 &&
		    cert_issuer_check_aki_only(ca, x) == X509_V_OK))
			abort();
	} else if (issued == X509_V_OK && want_serial != NULL &&
	    subject[0] == (V_ASN1_CONSTRUCTED | V_ASN1_SEQUENCE))
		abort();
	OPENSSL_free(want_serial);
	X509_free(x);
}

FUZZ_TARGET(cert_issuer)(const uint8_t *data, size_t size)
{
	char serial[2 * OCSP_SERIAL_MAX + 1];
	X509 *ca = cert_issuer_ca();
	int got;

	memset(serial, 'x', sizeof(serial));
	got = ocsp_cert_issued_by(data, size, ca, serial);
	if (memchr(serial, '\0', sizeof(serial)) == NULL)
		abort();
	if (got == 1) {
		if (!cert_issuer_serial_ok(serial) ||
		    !cert_issuer_whole(data, size))
			abort();
	} else if (got != 0 || serial[0] != '\0')
		abort();
	cert_issuer_cross_check(data, size, ca, got, serial);
	return 0;
}
