/*
 * x509.h - CSR checks (acme-fcgi) and certificate signing by the
 * embedded CA (acme-worker and acmectl only: acme-fcgi never opens a CA key).
 */
#ifndef ACME_X509_H
#define ACME_X509_H

#include <stddef.h>
#include <time.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "ocsp.h"
#include "problem.h"

struct csr_info {
	char	**names;	/* owned; the dNSName SANs, lower-cased and
				 * deduplicated, in CSR order */
	size_t	  nnames;
	int	  key_bits;
	EVP_PKEY *pkey;		/* owned; the CSR's public key */
};

/* Checks a CSR given as DER (the whole buffer must be one CSR):
 * self-signature valid (and not MD5/SHA-1), RSA key of an allowed size
 * (allowed_bits, nallowed), key different from account_key (skipped when
 * NULL), the set of names (dNSName SANs, lower-cased and deduplicated;
 * the CN if any must be one of them) exactly equal to names[0..nnames)
 * (already lower-case) ignoring order; names NULL: whatever names the
 * CSR has, and allowed_bits NULL: any size, for the checks that do not
 * depend on an order. No other SAN type. Returns 1 and
 * fills info (the caller frees it with csr_info_free), or 0 with info
 * zeroed and p set: PT_BAD_CSR_KEY for the key rules, PT_BAD_CSR for the
 * rest (both are badCSR on the wire). */
int	 csr_check(const unsigned char *der, size_t len,
	    const char *const *names, size_t nnames,
	    const int *allowed_bits, size_t nallowed,
	    EVP_PKEY *account_key, struct csr_info *info, struct problem *p);
void	 csr_info_free(struct csr_info *);

/*
 * A PKCS#10 request decoded without decoding its public key (csrdec.c):
 * OpenSSL 3.0's d2i_X509_REQ decodes it through its generic decoders, the
 * costliest part of a CSR by far.
 */
struct csr_req;

/* Decodes der[0..len) (a request may be followed by trailing bytes,
 * counted by csr_req_trailing). Returns NULL if it is not a request. */
struct csr_req *csr_decode(const unsigned char *der, size_t len);
void	 csr_req_free(struct csr_req *);
size_t	 csr_req_trailing(const struct csr_req *);
/* The public key, decoded at the first call (owned by the request), or
 * NULL if it cannot be decoded. */
EVP_PKEY *csr_req_key(struct csr_req *);
/* 1 if the request is version 1 and its self-signature verifies. */
int	 csr_req_verify(struct csr_req *);
int	 csr_req_sig_nid(const struct csr_req *);
const X509_NAME *csr_req_subject(const struct csr_req *);
/* The subjectPublicKeyInfo as encoded: its algorithm and key bits.
 * Returns 1, or 0 if the key's BIT STRING has unused bits or is empty. */
int	 csr_req_spki(const struct csr_req *, const X509_ALGOR **alg,
	    const unsigned char **key, int *keylen);
/* As X509_REQ_get_extensions (caller frees with
 * sk_X509_EXTENSION_pop_free): NULL only when the request has an
 * extensionRequest attribute whose value is not a list of extensions. */
STACK_OF(X509_EXTENSION) *csr_req_extensions(const struct csr_req *);

/* The subject of an OV certificate (organization fields may be NULL). */
struct cert_subject {
	const char *organization;
	const char *locality;
	const char *state;
	const char *country;
};

struct ca {
	EVP_PKEY *key;		/* intermediate's private key */
	X509	 *cert;		/* the intermediate's certificate */
	char	 *chain_pem;	/* intermediate certificate, PEM */
	/* the issuerNameHash and issuerKeyHash of the CertIDs of the
	 * certificates it issues (ocsp_issuer_hashes) */
	unsigned char ocsp_name_hash[OCSP_HASH_LEN];
	unsigned char ocsp_key_hash[OCSP_HASH_LEN];
};

/* Loads intermediate.pem and intermediate.key from dir into a zeroed
 * struct ca, checks that they match and that the certificate is a CA,
 * and computes its OCSP CertID hashes once.
 * Returns 1 (free with ca_free) or 0 (logged; nothing to free). */
int	 ca_load(struct ca *, const char *dir);
void	 ca_free(struct ca *);

struct issue_params {
	const unsigned char *csr_der;	/* public key taken from here */
	size_t		 csr_len;
	const char *const *names;	/* SANs; the CN is the first one of
					 * at most 64 characters (none if
					 * all are longer) */
	size_t		 nnames;
	struct cert_subject subject;	/* NULL/empty fields left out;
					 * country only if 2 letters */
	const unsigned char *serial;	/* big-endian, non-zero, < 2^159 */
	size_t		 serial_len;
	time_t		 not_before;
	time_t		 not_after;
	const char	*ocsp_url;	/* optional */
	const char	*ca_issuers_url;/* optional */
	const char	*crl_url;	/* optional */
};

/* Signs an OV TLS server leaf certificate (ca_sign_digest) with the key
 * in the CSR, whose subjectPublicKeyInfo is copied as it is encoded. Returns 1 and a newly allocated PEM of the leaf alone (*pem) and
 * its DER (*der, *derlen), both free()d by the caller, or 0 (logged). */
int	 ca_issue(const struct ca *, const struct issue_params *,
	    char **pem, unsigned char **der, size_t *derlen);

/* The algorithm of the CA's keys, root and intermediate (acmectl ca init
 * --key-type). Its delegated OCSP signer is RSA 2048 under an RSA CA and
 * P-256 under an EC one. */
enum ca_key_type {
	CAK_RSA2048,
	CAK_RSA3072,		/* the default */
	CAK_RSA4096,
	CAK_EC_P256,
	CAK_EC_P384,
	CAK__MAX
};

/* The names ca_key_type_parse takes, for messages and usage. */
#define CA_KEY_TYPES	"rsa2048, rsa3072, rsa4096, ec-p256, ec-p384"

/* Sets *t to the key type called name (one of CA_KEY_TYPES). Returns 1,
 * or 0 for any other name (nothing logged). */
int	 ca_key_type_parse(const char *name, enum ca_key_type *t);
/* Returns the name of a key type (static storage), or NULL. */
const char *ca_key_type_name(enum ca_key_type);

/* Returns the digest a CA key signs with: SHA-384 for an EC key of more
 * than 256 bits (P-384), else SHA-256 (RSA, P-256). */
const EVP_MD *ca_sign_digest(const EVP_PKEY *key);

/* Creates dir (0700) if missing, then root.pem, root.key,
 * intermediate.pem, intermediate.key, ocsp.pem and ocsp.key in it (keys
 * mode 0600, certificates 0644): a root "<name> Root CA" (10 years) and
 * an intermediate "<name> OV TLS CA" (5 years, pathlen 0, serverAuth),
 * both with a new key of type t, and the intermediate's OCSP signer.
 * Refuses if any of the files exists; removes what it wrote when it
 * fails. Returns 1 or 0 (and logs why). ca_init is ca_init_type with
 * CAK_RSA3072. */
int	 ca_init_type(const char *dir, const char *name, enum ca_key_type t);
int	 ca_init(const char *dir, const char *name);

/* Returns a new random serial: 16 bytes with the top bit clear (so it is
 * positive and DER needs no leading 0x00) and a non-zero first byte (so
 * it is always 16 bytes long), about 127 random bits, as 32 lower-case
 * hex characters; caller frees. */
char	*serial_new_hex(void);

/* What the service needs to know of an issued certificate. */
struct cert_info {
	char		*serial_hex;	/* owned; lower-case, no leading 00 */
	unsigned char	*serial;	/* owned; DER content octets */
	size_t		 serial_len;
	unsigned char	*aki;		/* owned; authority key identifier */
	size_t		 aki_len;
	EVP_PKEY	*pkey;		/* owned; the subject public key */
	time_t		 not_before;
	time_t		 not_after;
};

/* Parses a DER certificate (the whole buffer). Returns 1 and fills info
 * (free with cert_info_free), or 0. */
int	 cert_info_parse(const unsigned char *der, size_t len,
	    struct cert_info *info);
void	 cert_info_free(struct cert_info *);

#endif
