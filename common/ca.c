/*
 * ca.c - the embedded CA: creation of a root and an intermediate
 * (acmectl ca init, RSA or ECDSA keys), loading of the intermediate, and
 * signing of OV TLS server certificates (acme-worker). acme-fcgi never
 * links to a caller of these functions with a key.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ocsp.h"
#include "util.h"
#include "x509.h"

#define CA_ROOT_DAYS		3652	/* 10 years */
#define CA_INTERMEDIATE_DAYS	1826	/* 5 years */
#define OCSP_SIGNER_BITS	2048	/* under an RSA intermediate */
#define OCSP_SIGNER_CURVE	"P-256"	/* under an EC intermediate */
#define OCSP_SIGNER_DAYS	365	/* at most; never past the intermediate */
#define SERIAL_LEN		16
#define CN_MAX			64	/* ub-common-name */
#define OV_POLICY_OID		"2.23.140.1.2.2"

/* An extension whose value does not depend on the certificate: its NID
 * and its value in OpenSSL's configuration syntax. */
struct ext_def {
	int		 nid;
	const char	*value;
};

static const struct ext_def root_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE" },
	{ NID_key_usage, "critical,keyCertSign,cRLSign" },
	{ NID_subject_key_identifier, "hash" },
};

static const struct ext_def intermediate_exts[] = {
	{ NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
	{ NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

/* The delegated OCSP signer (RFC 6960 section 4.2.2.2): OCSPSigning,
 * and id-pkix-ocsp-nocheck so that clients do not ask about it. */
static const struct ext_def ocsp_signer_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature" },
	{ NID_ext_key_usage, "OCSPSigning" },
	{ NID_id_pkix_OCSP_noCheck, "ignored" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

static const struct ext_def leaf_exts[] = {
	{ NID_basic_constraints, "critical,CA:FALSE" },
	{ NID_key_usage, "critical,digitalSignature,keyEncipherment" },
	{ NID_ext_key_usage, "serverAuth" },
	{ NID_subject_key_identifier, "hash" },
	{ NID_authority_key_identifier, "keyid:always" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* The CA's key types: RSA of bits, or EC on the named curve. */
static const struct {
	const char	*name;
	int		 bits;		/* RSA; 0 for EC */
	const char	*curve;		/* EC; NULL for RSA */
} ca_key_types[CAK__MAX] = {
	[CAK_RSA2048] = { "rsa2048", 2048, NULL },
	[CAK_RSA3072] = { "rsa3072", 3072, NULL },
	[CAK_RSA4096] = { "rsa4096", 4096, NULL },
	[CAK_EC_P256] = { "ec-p256", 0, "P-256" },
	[CAK_EC_P384] = { "ec-p384", 0, "P-384" },
};

int
ca_key_type_parse(const char *name, enum ca_key_type *t)
{
	int i;

	for (i = 0; i < CAK__MAX; i++)
		if (name != NULL && strcmp(name, ca_key_types[i].name) == 0) {
			*t = (enum ca_key_type)i;
			return 1;
		}
	return 0;
}

const char *
ca_key_type_name(enum ca_key_type t)
{
	return (unsigned int)t < CAK__MAX ? ca_key_types[t].name : NULL;
}

const EVP_MD *
ca_sign_digest(const EVP_PKEY *key)
{
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC &&
	    EVP_PKEY_get_bits(key) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

/* Returns a new key of type t (caller frees), or NULL (logged). */
static EVP_PKEY *
ca_key_gen(enum ca_key_type t)
{
	EVP_PKEY *k;

	if (ca_key_types[t].curve != NULL)
		k = EVP_EC_gen(ca_key_types[t].curve);
	else
		k = EVP_RSA_gen((unsigned int)ca_key_types[t].bits);
	if (k == NULL)
		ossl_log_errors(ca_key_types[t].name);
	return k;
}

/* The files of a CA directory. */
enum ca_file {
	CAF_ROOT_KEY,
	CAF_ROOT_CERT,
	CAF_INTERMEDIATE_KEY,
	CAF_INTERMEDIATE_CERT,
	CAF_OCSP_KEY,
	CAF_OCSP_CERT,
	CAF__MAX
};

static const struct {
	const char	*name;
	mode_t		 mode;
} ca_files[CAF__MAX] = {
	[CAF_ROOT_KEY] = { "root.key", 0600 },
	[CAF_ROOT_CERT] = { "root.pem", 0644 },
	[CAF_INTERMEDIATE_KEY] = { "intermediate.key", 0600 },
	[CAF_INTERMEDIATE_CERT] = { "intermediate.pem", 0644 },
	[CAF_OCSP_KEY] = { "ocsp.key", 0600 },
	[CAF_OCSP_CERT] = { "ocsp.pem", 0644 },
};

/* Fills b[0..SERIAL_LEN) with a random positive serial of exactly
 * SERIAL_LEN bytes: top bit clear, first byte non-zero. */
static void
serial_rand(unsigned char *b)
{
	rand_bytes(b, SERIAL_LEN);
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 0x01;
}

char *
serial_new_hex(void)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[SERIAL_LEN];
	char *s;
	size_t i;

	serial_rand(b);
	s = xmalloc(2 * SERIAL_LEN + 1);
	for (i = 0; i < SERIAL_LEN; i++) {
		s[2 * i] = hex[b[i] >> 4];
		s[2 * i + 1] = hex[b[i] & 0x0f];
	}
	s[2 * SERIAL_LEN] = '\0';
	return s;
}

/* Adds an entry to a name, as UTF8String (or PrintableString where the
 * attribute requires it). Returns 1, or 0 (logged). */
static int
name_add(X509_NAME *n, int nid, const char *value)
{
	if (X509_NAME_add_entry_by_NID(n, nid, MBSTRING_UTF8,
	    (const unsigned char *)value, -1, -1, 0) != 1) {
		ossl_log_errors(OBJ_nid2sn(nid));
		msg_warn("cannot put \"%s\" in a certificate subject as %s",
		    value, OBJ_nid2ln(nid));
		return 0;
	}
	return 1;
}

/* Adds the extensions defs[0..n) to x, issued by issuer (x itself for a
 * self-signed certificate); x's public key must be set. Returns 1 or 0. */
static int
exts_add(X509 *x, X509 *issuer, const struct ext_def *defs, size_t n)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	size_t i;

	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	for (i = 0; i < n; i++) {
		ext = X509V3_EXT_nconf_nid(NULL, &ctx, defs[i].nid,
		    defs[i].value);
		if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
			ossl_log_errors(OBJ_nid2sn(defs[i].nid));
			X509_EXTENSION_free(ext);
			return 0;
		}
		X509_EXTENSION_free(ext);
	}
	return 1;
}

/* Returns a new GENERAL_NAME of type (GEN_DNS, GEN_URI) holding s as an
 * IA5String (caller frees), or NULL (logged) if s is empty or holds a
 * byte outside printable ASCII. */
static GENERAL_NAME *
gn_ia5(int type, const char *s)
{
	GENERAL_NAME *gn = NULL;
	ASN1_IA5STRING *ia5 = NULL;
	const char *c;

	for (c = s; *c != '\0'; c++)
		if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
			break;
	if (*s == '\0' || *c != '\0') {
		msg_warn("cannot put \"%s\" in a certificate", s);
		return NULL;
	}
	if ((gn = GENERAL_NAME_new()) == NULL ||
	    (ia5 = ASN1_IA5STRING_new()) == NULL ||
	    ASN1_STRING_set(ia5, s, -1) != 1) {
		ossl_log_errors("GENERAL_NAME");
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAME_free(gn);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, ia5);
	return gn;
}

/* Pushes a new IA5 general name onto gens. Returns 1 or 0 (logged). */
static int
gens_push(GENERAL_NAMES *gens, int type, const char *s)
{
	GENERAL_NAME *gn;

	if ((gn = gn_ia5(type, s)) == NULL)
		return 0;
	if (sk_GENERAL_NAME_push(gens, gn) <= 0) {
		ossl_log_errors("sk_GENERAL_NAME_push");
		GENERAL_NAME_free(gn);
		return 0;
	}
	return 1;
}

/* Adds a subjectAltName with a dNSName for each of names[0..n). Returns
 * 1 or 0 (logged). */
static int
ext_add_san(X509 *x, const char *const *names, size_t n)
{
	GENERAL_NAMES *gens = NULL;
	size_t i;
	int rc = 0;

	if ((gens = GENERAL_NAMES_new()) == NULL) {
		ossl_log_errors("GENERAL_NAMES_new");
		goto out;
	}
	for (i = 0; i < n; i++)
		if (!gens_push(gens, GEN_DNS, names[i]))
			goto out;
	if (X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		ossl_log_errors("subjectAltName");
		goto out;
	}
	rc = 1;
 out:
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Adds an authorityInfoAccess with the OCSP and caIssuers URLs that are
 * set (none: no extension). Returns 1 or 0 (logged). */
static int
ext_add_aia(X509 *x, const char *ocsp, const char *issuers)
{
	const struct {
		int		 nid;
		const char	*url;
	} ads[] = {
		{ NID_ad_OCSP, ocsp },
		{ NID_ad_ca_issuers, issuers },
	};
	AUTHORITY_INFO_ACCESS *aia = NULL;
	ACCESS_DESCRIPTION *ad = NULL;
	size_t i;
	int rc = 0;

	if ((aia = AUTHORITY_INFO_ACCESS_new()) == NULL) {
		ossl_log_errors("AUTHORITY_INFO_ACCESS_new");
		goto out;
	}
	for (i = 0; i < NELEM(ads); i++) {
		if (ads[i].url == NULL || ads[i].url[0] == '\0')
			continue;
		if ((ad = ACCESS_DESCRIPTION_new()) == NULL) {
			ossl_log_errors("ACCESS_DESCRIPTION_new");
			goto out;
		}
		ASN1_OBJECT_free(ad->method);
		ad->method = OBJ_nid2obj(ads[i].nid);
		GENERAL_NAME_free(ad->location);
		if ((ad->location = gn_ia5(GEN_URI, ads[i].url)) == NULL)
			goto out;
		if (sk_ACCESS_DESCRIPTION_push(aia, ad) <= 0) {
			ossl_log_errors("sk_ACCESS_DESCRIPTION_push");
			goto out;
		}
		ad = NULL;
	}
	if (sk_ACCESS_DESCRIPTION_num(aia) > 0 &&
	    X509_add1_ext_i2d(x, NID_info_access, aia, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		ossl_log_errors("authorityInfoAccess");
		goto out;
	}
	rc = 1;
 out:
	ACCESS_DESCRIPTION_free(ad);
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

/* Adds a cRLDistributionPoints with one full-name URI (none if url is
 * NULL or empty). Returns 1 or 0 (logged). */
static int
ext_add_crldp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *dps = NULL;
	DIST_POINT *dp = NULL;
	int rc = 0;

	if (url == NULL || url[0] == '\0')
		return 1;
	if ((dps = CRL_DIST_POINTS_new()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL) {
		ossl_log_errors("cRLDistributionPoints");
		goto out;
	}
	dp->distpoint->type = 0;	/* fullName */
	if (!gens_push(dp->distpoint->name.fullname, GEN_URI, url))
		goto out;
	if (sk_DIST_POINT_push(dps, dp) <= 0) {
		ossl_log_errors("sk_DIST_POINT_push");
		goto out;
	}
	dp = NULL;
	if (X509_add1_ext_i2d(x, NID_crl_distribution_points, dps, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		ossl_log_errors("cRLDistributionPoints");
		goto out;
	}
	rc = 1;
 out:
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(dps);
	return rc;
}

/* Adds certificatePolicies with the one OID policy (no qualifiers).
 * Returns 1 or 0 (logged). */
static int
ext_add_policy(X509 *x, const char *policy)
{
	CERTIFICATEPOLICIES *pols = NULL;
	POLICYINFO *pi = NULL;
	int rc = 0;

	if ((pols = CERTIFICATEPOLICIES_new()) == NULL ||
	    (pi = POLICYINFO_new()) == NULL) {
		ossl_log_errors("certificatePolicies");
		goto out;
	}
	ASN1_OBJECT_free(pi->policyid);
	if ((pi->policyid = OBJ_txt2obj(policy, 1)) == NULL ||
	    sk_POLICYINFO_push(pols, pi) <= 0) {
		ossl_log_errors("certificatePolicies");
		goto out;
	}
	pi = NULL;
	if (X509_add1_ext_i2d(x, NID_certificate_policies, pols, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		ossl_log_errors("certificatePolicies");
		goto out;
	}
	rc = 1;
 out:
	POLICYINFO_free(pi);
	CERTIFICATEPOLICIES_free(pols);
	return rc;
}

/*
 * Sets the subjectPublicKeyInfo of x to a copy of csr's as it is encoded:
 * algorithm, parameters and key bits. X509_set_pubkey would turn the
 * CSR's key, decoded, into DER with an OpenSSL 3 encoder and back with a
 * decoder, which costs a tenth of an RSA 3072 signature. Returns 1 or 0
 * (logged).
 */
static int
cert_set_spki(X509 *x, const struct csr_req *csr)
{
	const X509_ALGOR *a;
	const ASN1_OBJECT *alg;
	ASN1_OBJECT *algdup = NULL;
	const void *pval;
	const unsigned char *pk;
	unsigned char *bits = NULL;
	void *param = NULL;
	int pklen, ptype = V_ASN1_UNDEF, rc = 0;

	if (!csr_req_spki(csr, &a, &pk, &pklen)) {
		msg_warn("subjectPublicKeyInfo: the key bits are empty or do "
		    "not fill whole bytes");
		return 0;
	}
	X509_ALGOR_get0(&alg, &ptype, &pval, a);
	switch (ptype) {
	case V_ASN1_UNDEF:
	case V_ASN1_NULL:	/* RSA */
		break;
	case V_ASN1_OBJECT:	/* a named curve */
		param = OBJ_dup(pval);
		break;
	case V_ASN1_SEQUENCE:	/* RSA-PSS, explicit curve parameters */
		param = ASN1_STRING_dup(pval);
		break;
	default:
		msg_warn("subjectPublicKeyInfo: parameters of type %d",
		    ptype);
		goto out;
	}
	if ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) &&
	    param == NULL) {
		ossl_log_errors("subjectPublicKeyInfo");
		goto out;
	}
	if ((algdup = OBJ_dup(alg)) == NULL ||
	    (bits = OPENSSL_memdup(pk, (size_t)pklen)) == NULL ||
	    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), algdup, ptype,
	    param, bits, pklen) != 1) {
		ossl_log_errors("subjectPublicKeyInfo");
		goto out;
	}
	algdup = NULL;
	param = NULL;
	bits = NULL;
	rc = 1;
 out:
	ASN1_OBJECT_free(algdup);
	OPENSSL_free(bits);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(param);
	else
		ASN1_STRING_free(param);
	return rc;
}

/* Returns a new version 3 certificate (caller frees) with serial,
 * subject, issuer name, validity and public key set: pub, else csr's, as
 * it is encoded (cert_set_spki). Returns NULL (logged) on failure. */
static X509 *
cert_new(const BIGNUM *serial, const X509_NAME *subject,
    const X509_NAME *issuer, EVP_PKEY *pub, const struct csr_req *csr,
    time_t not_before, time_t not_after)
{
	X509 *x = NULL;
	ASN1_INTEGER *sn = NULL;

	if ((x = X509_new()) == NULL ||
	    X509_set_version(x, X509_VERSION_3) != 1 ||
	    (sn = BN_to_ASN1_INTEGER(serial, NULL)) == NULL ||
	    X509_set_serialNumber(x, sn) != 1 ||
	    X509_set_subject_name(x, subject) != 1 ||
	    X509_set_issuer_name(x, issuer) != 1 ||
	    (pub != NULL && X509_set_pubkey(x, pub) != 1) ||
	    ASN1_TIME_set(X509_getm_notBefore(x), not_before) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), not_after) == NULL) {
		ossl_log_errors("certificate");
		X509_free(x);
		x = NULL;
	} else if (pub == NULL && !cert_set_spki(x, csr)) {
		X509_free(x);
		x = NULL;
	}
	ASN1_INTEGER_free(sn);
	return x;
}

/* Signs x with key and its digest (ca_sign_digest). Returns 1 or 0
 * (logged). */
static int
cert_sign(X509 *x, EVP_PKEY *key)
{
	if (X509_sign(x, key, ca_sign_digest(key)) <= 0) {
		ossl_log_errors("X509_sign");
		return 0;
	}
	return 1;
}

/* Returns the PEM of x as a new string (caller frees), or NULL. */
static char *
cert_pem(X509 *x)
{
	BIO *b = NULL;
	char *data, *s = NULL;
	long n;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(b, x) != 1 ||
	    (n = BIO_get_mem_data(b, &data)) <= 0)
		ossl_log_errors("PEM_write_bio_X509");
	else
		s = xstrndup(data, (size_t)n);
	BIO_free(b);
	return s;
}

/* Returns a new CA certificate (caller frees) for key, with subject
 * "CN=<name> <suffix>, O=<name>", valid for days from now, self-signed
 * when issuer is NULL, or NULL (logged). */
static X509 *
ca_cert_make(const char *name, const char *suffix, EVP_PKEY *key,
    X509 *issuer, EVP_PKEY *issuer_key, int days,
    const struct ext_def *exts, size_t nexts)
{
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	BIGNUM *bn = NULL;
	unsigned char sn[SERIAL_LEN];
	char *cn = NULL;
	time_t now = time(NULL);
	int rc = 0;

	serial_rand(sn);
	cn = xasprintf("%s %s", name, suffix);
	if ((bn = BN_bin2bn(sn, sizeof(sn), NULL)) == NULL ||
	    (subj = X509_NAME_new()) == NULL) {
		ossl_log_errors("CA certificate");
		goto out;
	}
	if (!name_add(subj, NID_organizationName, name) ||
	    !name_add(subj, NID_commonName, cn))
		goto out;
	if ((x = cert_new(bn, subj, issuer != NULL ?
	    X509_get_subject_name(issuer) : subj, key, NULL, now,
	    now + (time_t)days * 86400)) == NULL)
		goto out;
	if (!exts_add(x, issuer != NULL ? issuer : x, exts, nexts) ||
	    !cert_sign(x, issuer != NULL ? issuer_key : key))
		goto out;
	rc = 1;
 out:
	if (!rc) {
		X509_free(x);
		x = NULL;
	}
	free(cn);
	BN_free(bn);
	X509_NAME_free(subj);
	return x;
}

/* Writes key (if not NULL) or cert as PEM to a new file path with mode.
 * Returns 1, or 0 (logged) if the file exists or cannot be written. */
static int
pem_file_write(const char *path, mode_t mode, EVP_PKEY *key, X509 *cert)
{
	FILE *f = NULL;
	int fd, ok, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		msg_warn("%s: %s", path, strerror(errno));
		goto out;
	}
	if ((f = fdopen(fd, "w")) == NULL) {
		msg_warn("%s: fdopen: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	if (key != NULL)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(f, cert);
	if (ok != 1) {
		ossl_log_errors(path);
		goto out;
	}
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		msg_warn("%s: %s", path, strerror(errno));
		goto out;
	}
	rc = 1;
 out:
	if (f != NULL && fclose(f) != 0 && rc) {
		msg_warn("%s: %s", path, strerror(errno));
		rc = 0;
	}
	return rc;
}

/* Returns the number of days (at most OCSP_SIGNER_DAYS) an OCSP signer
 * issued now by issuer may last without outliving it; 0 (logged) when
 * the issuer has less than a day left. */
static int
ocsp_signer_days(X509 *issuer)
{
	int days = 0, secs = 0;

	if (ASN1_TIME_diff(&days, &secs, NULL,
	    X509_get0_notAfter(issuer)) != 1) {
		ossl_log_errors("ASN1_TIME_diff");
		return 0;
	}
	if (days < 1) {
		msg_warn("the intermediate expires within a day: no OCSP "
		    "signer can be issued");
		return 0;
	}
	return days < OCSP_SIGNER_DAYS ? days : OCSP_SIGNER_DAYS;
}

/* Returns a new key (*key, caller frees) and OCSP signer certificate
 * (caller frees) issued by issuer for the CA called name, or NULL
 * (logged) with *key NULL. The key is RSA 2048 under an RSA issuer_key,
 * P-256 under an EC one: the chain stays ECDSA, the responses are
 * smaller, and signing one costs a sixth of an RSA 2048 signature. */
static X509 *
ocsp_signer_make(const char *name, X509 *issuer, EVP_PKEY *issuer_key,
    EVP_PKEY **key)
{
	X509 *x = NULL;
	int days;

	*key = NULL;
	if ((days = ocsp_signer_days(issuer)) == 0)
		return NULL;
	if (EVP_PKEY_get_base_id(issuer_key) == EVP_PKEY_EC)
		*key = EVP_EC_gen(OCSP_SIGNER_CURVE);
	else
		*key = EVP_RSA_gen(OCSP_SIGNER_BITS);
	if (*key == NULL) {
		ossl_log_errors("OCSP signer key generation");
		return NULL;
	}
	if ((x = ca_cert_make(name, "OCSP Responder", *key, issuer,
	    issuer_key, days, ocsp_signer_exts,
	    NELEM(ocsp_signer_exts))) == NULL) {
		EVP_PKEY_free(*key);
		*key = NULL;
	}
	return x;
}

int
ca_init(const char *dir, const char *name)
{
	return ca_init_type(dir, name, CAK_RSA3072);
}

int
ca_init_type(const char *dir, const char *name, enum ca_key_type t)
{
	char *path[CAF__MAX] = { NULL };
	int made[CAF__MAX] = { 0 };
	EVP_PKEY *key[CAF__MAX] = { NULL };
	X509 *cert[CAF__MAX] = { NULL };
	EVP_PKEY *rkey = NULL, *ikey = NULL, *okey = NULL;
	X509 *rcert = NULL, *icert = NULL, *ocert = NULL;
	struct stat st;
	size_t i;
	int rc = 0;

	if (name == NULL || name[0] == '\0') {
		msg_warn("ca init: the CA needs a name");
		goto out;
	}
	if ((unsigned int)t >= CAK__MAX) {
		msg_warn("ca init: unknown key type %d", (int)t);
		goto out;
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		msg_warn("%s: %s", dir, strerror(errno));
		goto out;
	}
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		msg_warn("%s: not a directory", dir);
		goto out;
	}
	for (i = 0; i < CAF__MAX; i++) {
		path[i] = xasprintf("%s/%s", dir, ca_files[i].name);
		if (lstat(path[i], &st) == 0 || errno != ENOENT) {
			msg_warn("%s exists: refusing to replace a CA",
			    path[i]);
			goto out;
		}
	}
	if ((rkey = ca_key_gen(t)) == NULL ||
	    (ikey = ca_key_gen(t)) == NULL) {
		msg_warn("ca init: cannot generate the %s CA keys",
		    ca_key_types[t].name);
		goto out;
	}
	if ((rcert = ca_cert_make(name, "Root CA", rkey, NULL, NULL,
	    CA_ROOT_DAYS, root_exts, NELEM(root_exts))) == NULL ||
	    (icert = ca_cert_make(name, "OV TLS CA", ikey, rcert, rkey,
	    CA_INTERMEDIATE_DAYS, intermediate_exts,
	    NELEM(intermediate_exts))) == NULL ||
	    (ocert = ocsp_signer_make(name, icert, ikey, &okey)) == NULL)
		goto out;
	key[CAF_ROOT_KEY] = rkey;
	key[CAF_INTERMEDIATE_KEY] = ikey;
	key[CAF_OCSP_KEY] = okey;
	cert[CAF_ROOT_CERT] = rcert;
	cert[CAF_INTERMEDIATE_CERT] = icert;
	cert[CAF_OCSP_CERT] = ocert;
	for (i = 0; i < CAF__MAX; i++) {
		if (!pem_file_write(path[i], ca_files[i].mode, key[i],
		    cert[i]))
			goto out;
		made[i] = 1;
	}
	msg_info("%s: created root \"%s Root CA\", intermediate "
	    "\"%s OV TLS CA\" (%s) and its OCSP signer", dir, name, name,
	    ca_key_types[t].name);
	rc = 1;
 out:
	for (i = 0; i < CAF__MAX; i++) {
		if (!rc && made[i] && unlink(path[i]) == -1)
			msg_warn("%s: %s", path[i], strerror(errno));
		free(path[i]);
	}
	X509_free(rcert);
	X509_free(icert);
	X509_free(ocert);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(ikey);
	EVP_PKEY_free(okey);
	return rc;
}

/* Returns the CA's name as ca_init was given it: the organizationName
 * of cert (else its commonName), newly allocated, or NULL (logged). */
static char *
ca_name_of(X509 *cert)
{
	const int nids[] = { NID_organizationName, NID_commonName };
	X509_NAME *n = X509_get_subject_name(cert);
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	char *s = NULL;
	size_t i;
	int idx, len;

	for (i = 0; i < NELEM(nids) && s == NULL; i++) {
		if ((idx = X509_NAME_get_index_by_NID(n, nids[i], -1)) < 0 ||
		    (e = X509_NAME_get_entry(n, idx)) == NULL ||
		    (len = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(e))) <= 0)
			continue;
		s = xstrndup((const char *)utf8, (size_t)len);
		OPENSSL_free(utf8);
		utf8 = NULL;
	}
	if (s == NULL)
		msg_warn("the intermediate's subject has no name to use");
	return s;
}

int
ca_ocsp_signer_create(const char *dir, int replace)
{
	const enum ca_file files[2] = { CAF_OCSP_KEY, CAF_OCSP_CERT };
	struct ca ca;
	struct stat st;
	EVP_PKEY *okey = NULL;
	X509 *ocert = NULL;
	char *name = NULL, *path[2] = { NULL }, *tmp[2] = { NULL };
	int made[2] = { 0 }, loaded = 0, rc = 0;
	size_t i;

	for (i = 0; i < 2; i++) {
		path[i] = xasprintf("%s/%s", dir, ca_files[files[i]].name);
		tmp[i] = replace ? xasprintf("%s.new", path[i]) :
		    xstrdup(path[i]);
		if (!replace &&
		    (lstat(path[i], &st) == 0 || errno != ENOENT)) {
			msg_warn("%s exists: use --renew to replace the OCSP "
			    "signer", path[i]);
			goto out;
		}
		/* a leftover of an interrupted renewal */
		if (replace && unlink(tmp[i]) == -1 && errno != ENOENT) {
			msg_warn("%s: %s", tmp[i], strerror(errno));
			goto out;
		}
	}
	if (!(loaded = ca_load(&ca, dir)) ||
	    (name = ca_name_of(ca.cert)) == NULL ||
	    (ocert = ocsp_signer_make(name, ca.cert, ca.key, &okey)) == NULL)
		goto out;
	for (i = 0; i < 2; i++) {
		if (!pem_file_write(tmp[i], ca_files[files[i]].mode,
		    files[i] == CAF_OCSP_KEY ? okey : NULL, ocert))
			goto out;
		made[i] = 1;
	}
	/* the key first: a worker reading between the two renames sees a
	 * mismatch, keeps its signer and reads them again later */
	for (i = 0; replace && i < 2; i++) {
		if (rename(tmp[i], path[i]) == -1) {
			msg_warn("rename %s: %s", tmp[i], strerror(errno));
			goto out;
		}
		made[i] = 0;
	}
	msg_info("%s: %s OCSP signer \"%s OCSP Responder\"", dir,
	    replace ? "renewed the" : "created the", name);
	rc = 1;
 out:
	for (i = 0; i < 2; i++) {
		if (!rc && made[i] && unlink(tmp[i]) == -1)
			msg_warn("%s: %s", tmp[i], strerror(errno));
		free(path[i]);
		free(tmp[i]);
	}
	if (loaded)
		ca_free(&ca);
	free(name);
	X509_free(ocert);
	EVP_PKEY_free(okey);
	return rc;
}

/* A passphrase callback that refuses: the CA key is not encrypted, and
 * a daemon must never prompt. */
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
ca_load(struct ca *ca, const char *dir)
{
	char *cpath = NULL, *kpath = NULL;
	BIO *b = NULL;
	struct stat st;
	int rc = 0;

	memset(ca, 0, sizeof(*ca));
	cpath = xasprintf("%s/%s", dir, ca_files[CAF_INTERMEDIATE_CERT].name);
	kpath = xasprintf("%s/%s", dir, ca_files[CAF_INTERMEDIATE_KEY].name);
	if ((b = BIO_new_file(cpath, "r")) == NULL ||
	    (ca->cert = PEM_read_bio_X509(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		ossl_log_errors(cpath);
		goto out;
	}
	BIO_free(b);
	if ((b = BIO_new_file(kpath, "r")) == NULL ||
	    (ca->key = PEM_read_bio_PrivateKey(b, NULL, no_passphrase,
	    NULL)) == NULL) {
		ossl_log_errors(kpath);
		goto out;
	}
	if (stat(kpath, &st) == 0 && (st.st_mode & 077) != 0)
		msg_warn("%s: readable by group or others (mode %04o)",
		    kpath, (unsigned int)(st.st_mode & 07777));
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		ossl_log_errors("X509_check_private_key");
		msg_warn("%s does not match %s", kpath, cpath);
		goto out;
	}
	if (X509_check_ca(ca->cert) != 1) {
		msg_warn("%s is not a CA certificate", cpath);
		goto out;
	}
	if (X509_cmp_current_time(X509_get0_notAfter(ca->cert)) <= 0)
		msg_warn("%s has expired", cpath);
	if ((ca->chain_pem = cert_pem(ca->cert)) == NULL ||
	    !ocsp_issuer_hashes(ca->cert, ca->ocsp_name_hash,
	    ca->ocsp_key_hash))
		goto out;
	rc = 1;
 out:
	ERR_clear_error();
	BIO_free(b);
	free(cpath);
	free(kpath);
	if (!rc)
		ca_free(ca);
	return rc;
}

void
ca_free(struct ca *ca)
{
	if (ca == NULL)
		return;
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	free(ca->chain_pem);
	memset(ca, 0, sizeof(*ca));
}

/* Returns the leaf's subject (caller frees): C, ST, L, O when set, then
 * CN = the first name that fits in a commonName. Returns NULL (logged)
 * on failure. */
static X509_NAME *
leaf_subject(const struct issue_params *ip)
{
	const struct {
		int		 nid;
		const char	*value;
	} rdns[] = {
		{ NID_stateOrProvinceName, ip->subject.state },
		{ NID_localityName, ip->subject.locality },
		{ NID_organizationName, ip->subject.organization },
	};
	const char *c = ip->subject.country;
	X509_NAME *n = NULL;
	char cc[3];
	size_t i;
	int rc = 0;

	if ((n = X509_NAME_new()) == NULL) {
		ossl_log_errors("X509_NAME_new");
		goto out;
	}
	if (c != NULL && c[0] != '\0') {
		if (strlen(c) == 2 && strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		    c[0]) != NULL && strchr(
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
		    c[1]) != NULL) {
			cc[0] = (char)(c[0] & ~0x20);
			cc[1] = (char)(c[1] & ~0x20);
			cc[2] = '\0';
			if (!name_add(n, NID_countryName, cc))
				goto out;
		} else
			msg_warn("country \"%s\" is not two letters: left "
			    "out of the certificate", c);
	}
	for (i = 0; i < NELEM(rdns); i++)
		if (rdns[i].value != NULL && rdns[i].value[0] != '\0' &&
		    !name_add(n, rdns[i].nid, rdns[i].value))
			goto out;
	for (i = 0; i < ip->nnames; i++)
		if (strlen(ip->names[i]) <= CN_MAX) {
			if (!name_add(n, NID_commonName, ip->names[i]))
				goto out;
			break;
		}
	rc = 1;
 out:
	if (!rc) {
		X509_NAME_free(n);
		n = NULL;
	}
	return n;
}

int
ca_issue(const struct ca *ca, const struct issue_params *ip,
    char **pem, unsigned char **der, size_t *derlen)
{
	struct csr_req *req = NULL;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	unsigned char *d = NULL, *w;
	char *s = NULL;
	int n, rc = 0;

	*pem = NULL;
	*der = NULL;
	*derlen = 0;
	if (ca->key == NULL || ca->cert == NULL || ip->nnames == 0 ||
	    ip->not_after <= ip->not_before) {
		msg_warn("ca_issue: no CA, no names or empty validity");
		goto out;
	}
	if ((req = csr_decode(ip->csr_der, ip->csr_len)) == NULL ||
	    csr_req_trailing(req) > 0 || !csr_req_verify(req)) {
		msg_warn("ca_issue: the stored CSR is not valid");
		goto out;
	}
	if (ip->serial == NULL || ip->serial_len == 0 ||
	    ip->serial_len > INT_MAX) {
		msg_warn("ca_issue: no serial");
		goto out;
	}
	if ((bn = BN_bin2bn(ip->serial, (int)ip->serial_len, NULL)) == NULL) {
		ossl_log_errors("ca_issue: BN_bin2bn");
		goto out;
	}
	if (BN_is_zero(bn) || BN_num_bits(bn) > 159) {
		msg_warn("ca_issue: the serial must be positive and at most "
		    "159 bits");
		goto out;
	}
	if ((subj = leaf_subject(ip)) == NULL)
		goto out;
	if ((x = cert_new(bn, subj, X509_get_subject_name(ca->cert), NULL,
	    req, ip->not_before,
	    ip->not_after)) == NULL)
		goto out;
	if (!ext_add_san(x, ip->names, ip->nnames) ||
	    !exts_add(x, ca->cert, leaf_exts, NELEM(leaf_exts)) ||
	    !ext_add_policy(x, OV_POLICY_OID) ||
	    !ext_add_aia(x, ip->ocsp_url, ip->ca_issuers_url) ||
	    !ext_add_crldp(x, ip->crl_url) ||
	    !cert_sign(x, ca->key))
		goto out;
	if ((n = i2d_X509(x, NULL)) <= 0) {
		ossl_log_errors("i2d_X509");
		goto out;
	}
	d = w = xmalloc((size_t)n);
	if (i2d_X509(x, &w) != n) {
		ossl_log_errors("i2d_X509");
		goto out;
	}
	if ((s = cert_pem(x)) == NULL)
		goto out;
	*pem = s;
	*der = d;
	*derlen = (size_t)n;
	s = NULL;
	d = NULL;
	rc = 1;
 out:
	ERR_clear_error();
	free(s);
	free(d);
	X509_free(x);
	X509_NAME_free(subj);
	BN_free(bn);
	csr_req_free(req);
	return rc;
}
