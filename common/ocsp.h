/*
 * ocsp.h - revocation status: OCSP responses (RFC 6960, profiled by
 * RFC 5019) and CRLs (RFC 5280) signed by acme-worker, and the parsing of
 * OCSP requests (untrusted input) for acme-fcgi, which serves the stored
 * responses and never holds a key.
 */
#ifndef ACME_OCSP_H
#define ACME_OCSP_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define OCSP_HASH_LEN	20	/* SHA-1: the CertID hash of RFC 5019 */
#define OCSP_SERIAL_MAX	20	/* octets of a serial (RFC 5280 4.1.2.2) */
#define OCSP_REQUEST_MAX 65536	/* bytes of a request we parse at most */

/* The OCSPResponseStatus values this service sends (RFC 6960 4.2.1). */
enum ocsp_resp_status {
	OCSPS_SUCCESSFUL = 0,
	OCSPS_MALFORMED = 1,	/* malformedRequest */
	OCSPS_INTERNAL = 2,	/* internalError */
	OCSPS_TRY_LATER = 3,	/* tryLater */
	OCSPS_UNAUTHORIZED = 6,	/* unauthorized: not a certificate of ours */
};

/* What parsing an OCSP request found. */
enum ocsp_parse {
	OCSPP_OK,		/* exactly one request, SHA-1 CertID */
	OCSPP_MALFORMED,	/* not DER, trailing bytes, not exactly one
				 * request, hashes of the wrong length */
	OCSPP_UNSUPPORTED_HASH,	/* a CertID hashed with another algorithm */
	OCSPP__MAX
};

/* The CertID of a request. */
struct ocsp_certid {
	unsigned char	name_hash[OCSP_HASH_LEN];	/* issuerNameHash */
	unsigned char	key_hash[OCSP_HASH_LEN];	/* issuerKeyHash */
	char		serial_hex[2 * OCSP_SERIAL_MAX + 1];
			/* lower-case hex as certificate.serial holds it
			 * (whole octets, no leading 00 octet); "" when the
			 * serial is zero, negative or too long to be one
			 * of ours */
};

/*
 * Parses the DER of an OCSPRequest (untrusted: len bytes, the whole
 * buffer must be the one request; its signature and extensions, the
 * nonce included, are ignored: responses are signed in advance).
 * Returns OCSPP_OK with id filled, or another value with id zeroed.
 */
enum ocsp_parse ocsp_request_parse(const unsigned char *der, size_t len,
	    struct ocsp_certid *id);

/*
 * Decodes the last path segment of an OCSP GET (RFC 6960 appendix A.1:
 * the url-encoding of the base64 of the DER; "+", "/" and "=" may also
 * come unencoded, and the base64url alphabet is accepted). Returns 1 and
 * a newly allocated buffer (*der, *len; caller frees), or 0 when it is
 * not valid or decodes to more than OCSP_REQUEST_MAX bytes.
 */
int	 ocsp_get_decode(const char *path, unsigned char **der, size_t *len);

/* Returns the DER of the OCSPResponse without responseBytes that carries
 * an unsuccessful status (static storage), and its length in *len. */
const unsigned char *ocsp_error_der(enum ocsp_resp_status, size_t *len);

/* Computes the SHA-1 issuerNameHash and issuerKeyHash of a CertID of a
 * certificate issued by issuer. Returns 1, or 0 (logged). */
int	 ocsp_issuer_hashes(X509 *issuer, unsigned char *name_hash,
	    unsigned char *key_hash);

/* The delegated OCSP signer of a CA directory: ocsp.pem and ocsp.key. */
struct ocsp_signer {
	X509		*cert;
	EVP_PKEY	*key;
};

/*
 * Loads ocsp.pem and ocsp.key from dir into a zeroed signer and checks
 * that they match, that the certificate was issued by issuer with the
 * OCSPSigning extended key usage, and that it is currently valid.
 * Returns 1 (free with ocsp_signer_free) or 0 (logged; nothing to free).
 */
int	 ocsp_signer_load(struct ocsp_signer *, const char *dir,
	    X509 *issuer);
void	 ocsp_signer_free(struct ocsp_signer *);

/* The status one response gives. */
struct ocsp_status {
	int	 revoked;	/* 0: good */
	time_t	 revoked_at;
	int	 reason;	/* CRLReason code; 0 (unspecified) and codes
				 * outside RFC 5280 are left out, as the
				 * Baseline Requirements want */
	time_t	 this_update;
	time_t	 next_update;
};

/*
 * Signs a successful basic OCSP response (SHA-256, or SHA-384 with a
 * P-384 signer) for the certificate of serial issued by issuer: one
 * SingleResponse with a SHA-1 CertID, the responder identified by its
 * key hash, the signer's certificate included. Returns 1 and a newly
 * allocated DER (*der, *len; caller frees), or 0 (logged).
 */
int	 ocsp_response_sign(const struct ocsp_signer *, X509 *issuer,
	    const ASN1_INTEGER *serial, const struct ocsp_status *,
	    unsigned char **der, size_t *len);

/*
 * The same response for the CertID id: the issuer's hashes as
 * ocsp_issuer_hashes computed them (once per issuer) and the serial as
 * certificate.serial spells it; no certificate is read. Returns 1 and a
 * newly allocated DER (*der, *len; caller frees), or 0 (logged).
 */
int	 ocsp_response_sign_id(const struct ocsp_signer *,
	    const struct ocsp_certid *id, const struct ocsp_status *,
	    unsigned char **der, size_t *len);

/*
 * Checks that the certificate der (len bytes, the whole buffer one
 * certificate) was issued by issuer, with X509_check_issued's tests:
 * its issuer is issuer's subject, its signature algorithm is of issuer's
 * key type, and its authorityKeyIdentifier, if any, matches issuer. Its
 * validity, subject and subjectPublicKeyInfo are left encoded, and its
 * other extensions undecoded (X509_check_issued also refuses a
 * certificate whose extensions OpenSSL cannot decode, or whose subject
 * d2i_X509 refuses; the certificates read here are the CA's own, from
 * the database: tests/fuzz/fuzz_cert_issuer.c states the exact
 * relation). OpenSSL 3 decodes the key of
 * every certificate it parses (d2i_X509) with its decoders, which cost
 * a third of an OCSP response. The signature is not verified (nor is it
 * by X509_check_issued). Returns 1 with serial (2 * OCSP_SERIAL_MAX + 1
 * bytes) set to its serial as certificate.serial spells it, or 0
 * (not a certificate, another issuer, or a serial that cannot be ours).
 */
int	 ocsp_cert_issued_by(const unsigned char *der, size_t len,
	    X509 *issuer, char *serial);

/* One revoked certificate of a CRL. */
struct crl_entry {
	char	*serial_hex;	/* as certificate.serial */
	time_t	 revoked_at;
	int	 reason;	/* as in struct ocsp_status */
};

/*
 * Signs (ca_sign_digest of key) a version 2 CRL of issuer with key: thisUpdate,
 * nextUpdate, the cRLNumber number and the authorityKeyIdentifier of
 * issuer, and the entries (sorted by serial) with their reason codes.
 * Returns 1 and a newly allocated DER (*der, *len; caller frees), or 0
 * (logged) also when an entry's serial is not hex.
 */
int	 crl_sign(X509 *issuer, EVP_PKEY *key, long number,
	    time_t this_update, time_t next_update,
	    const struct crl_entry *entries, size_t n,
	    unsigned char **der, size_t *len);

/*
 * In ca.c: creates the delegated OCSP signer of the CA in dir (whose
 * intermediate.pem and intermediate.key must exist): an RSA 2048 key
 * (P-256 under an EC intermediate) ocsp.key (0600) and ocsp.pem (0644), "<intermediate CN> OCSP
 * Responder" issued by the intermediate for a year (never past the
 * intermediate's end), EKU OCSPSigning and id-pkix-ocsp-nocheck. Refuses
 * when ocsp.pem or ocsp.key exists unless replace, in which case both
 * are replaced by rename. Returns 1 or 0 (logged).
 */
int	 ca_ocsp_signer_create(const char *dir, int replace);

#endif
