/*
 * csr.c - checks of the CSR sent to an order's finalize URL (RFC 8555
 * section 7.4): signature, key, and names. Input is untrusted: every
 * refusal sets a badCSR problem whose detail says what to fix.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "problem.h"
#include "util.h"
#include "weakkey.h"
#include "x509.h"

/* Digests refused in the CSR's self-signature. */
static const int csr_weak_md[] = {
	NID_md2, NID_md4, NID_md5, NID_mdc2, NID_sha1,
};

/* What each GENERAL_NAME type is called in a refusal. */
static const char *const gen_names[] = {
	[GEN_OTHERNAME] = "an otherName",
	[GEN_EMAIL] = "an email address",
	[GEN_DNS] = "a DNS name",
	[GEN_X400] = "an X.400 address",
	[GEN_DIRNAME] = "a directory name",
	[GEN_EDIPARTY] = "an EDI party name",
	[GEN_URI] = "a URI",
	[GEN_IPADD] = "an IP address",
	[GEN_RID] = "a registered ID",
};

/* Frees a list of n names and the list. */
static void
names_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Returns 1 if s is in v[0..n), ignoring ASCII case. */
static int
names_has(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Returns a lower-cased, NUL-terminated copy of buf[0..len) (caller
 * frees), or NULL if it is empty or holds a byte that no DNS name has
 * (controls, space, NUL, non-ASCII). */
static char *
dns_copy(const unsigned char *buf, int len)
{
	char *s;
	int i;

	if (buf == NULL || len <= 0)
		return NULL;
	for (i = 0; i < len; i++)
		if (buf[i] <= 0x20 || buf[i] >= 0x7f)
			return NULL;
	s = xmalloc((size_t)len + 1);
	for (i = 0; i < len; i++)
		s[i] = (buf[i] >= 'A' && buf[i] <= 'Z') ?
		    (char)(buf[i] - 'A' + 'a') : (char)buf[i];
	s[len] = '\0';
	return s;
}

/* Checks the self-signature and its digest. Returns 1, or 0 with p set. */
static int
csr_check_sig(struct csr_req *req, struct problem *p)
{
	int mdnid = NID_undef, pknid = NID_undef;
	size_t i;

	if (OBJ_find_sigid_algs(csr_req_sig_nid(req), &mdnid,
	    &pknid) == 1) {
		for (i = 0; i < sizeof(csr_weak_md) / sizeof(csr_weak_md[0]);
		    i++)
			if (mdnid == csr_weak_md[i]) {
				problem_set(p, PT_BAD_CSR, "the CSR is signed "
				    "with %s, which is not accepted: use "
				    "SHA-256 or stronger", OBJ_nid2sn(mdnid));
				return 0;
			}
	}
	if (!csr_req_verify(req)) {
		problem_set(p, PT_BAD_CSR, "the CSR signature is not valid");
		return 0;
	}
	return 1;
}

/* Checks the CSR's key: RSA, of an allowed size (any when allowed is
 * NULL), not the account key. Returns 1 with *bits set, or 0 with p set. */
static int
csr_check_key(EVP_PKEY *pk, const int *allowed, size_t nallowed,
    EVP_PKEY *account_key, int *bits, struct problem *p)
{
	char list[128];
	const char *tn;
	size_t i, off;
	int n;

	if (pk == NULL) {
		ERR_clear_error();
		problem_set(p, PT_BAD_CSR_KEY, "the CSR's public key cannot "
		    "be decoded");
		return 0;
	}
	if (EVP_PKEY_is_a(pk, "RSA") != 1) {
		tn = EVP_PKEY_get0_type_name(pk);
		problem_set(p, PT_BAD_CSR_KEY, "only RSA keys are accepted "
		    "in the CSR, not %s", tn != NULL ? tn : "this key type");
		return 0;
	}
	n = EVP_PKEY_get_bits(pk);
	for (i = 0; allowed != NULL && i < nallowed; i++)
		if (allowed[i] == n)
			break;
	if (allowed != NULL && i == nallowed) {
		list[0] = '\0';
		for (i = 0, off = 0; i < nallowed && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
			    "%s%d", i > 0 ? ", " : "", allowed[i]);
		problem_set(p, PT_BAD_CSR_KEY, "RSA keys of %d bits are not "
		    "accepted; allowed sizes: %s", n,
		    nallowed > 0 ? list : "none");
		return 0;
	}
	if ((tn = weakkey_check(pk)) != NULL) {
		problem_set(p, PT_BAD_CSR_KEY, "the CSR's key is refused: %s",
		    tn);
		return 0;
	}
	if (account_key != NULL && EVP_PKEY_eq(pk, account_key) == 1) {
		problem_set(p, PT_BAD_CSR_KEY, "the certificate key must "
		    "differ from the account key");
		return 0;
	}
	ERR_clear_error();	/* EVP_PKEY_eq on keys of different types */
	*bits = n;
	return 1;
}

/* Reads the subjectAltName of the CSR's extensionRequest: dNSNames only.
 * Returns 1 and appends the lower-cased names, deduplicated, to *v, *n
 * (the caller frees them), or 0 with p set. */
static int
csr_sans(const struct csr_req *req, char ***v, size_t *n,
    struct problem *p)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	const GENERAL_NAME *gen;
	char *s;
	int crit = -1, i, rc = 0;

	if ((exts = csr_req_extensions(req)) == NULL) {
		problem_set(p, PT_BAD_CSR, "the CSR's extension request "
		    "cannot be decoded");
		goto out;
	}
	gens = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL && crit == -2) {
		problem_set(p, PT_BAD_CSR, "the CSR has more than one "
		    "subjectAltName extension");
		goto out;
	}
	if (gens == NULL && crit >= 0) {
		problem_set(p, PT_BAD_CSR, "the CSR's subjectAltName "
		    "extension cannot be decoded");
		goto out;
	}
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		gen = sk_GENERAL_NAME_value(gens, i);
		if (gen->type != GEN_DNS) {
			problem_set(p, PT_BAD_CSR, "only DNS names are "
			    "accepted in subjectAltName, and the CSR has %s",
			    gen->type >= 0 && (size_t)gen->type <
			    sizeof(gen_names) / sizeof(gen_names[0]) ?
			    gen_names[gen->type] : "another name type");
			goto out;
		}
		if ((s = dns_copy(ASN1_STRING_get0_data(gen->d.dNSName),
		    ASN1_STRING_length(gen->d.dNSName))) == NULL) {
			problem_set(p, PT_BAD_CSR, "the CSR has an empty or "
			    "invalid DNS name in subjectAltName");
			goto out;
		}
		if (names_has((const char *const *)*v, *n, s)) {
			free(s);
			continue;
		}
		*v = xrealloc(*v, (*n + 1) * sizeof(**v));
		(*v)[(*n)++] = s;
	}
	rc = 1;
 out:
	ERR_clear_error();
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* Checks that every subject commonName is one of v[0..n). Returns 1, or
 * 0 with p set. */
static int
csr_check_cn(const struct csr_req *req, char *const *v, size_t n,
    struct problem *p)
{
	const X509_NAME *subj;
	X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	char *cn = NULL;
	int idx = -1, len, rc = 0;

	subj = csr_req_subject(req);
	while ((idx = X509_NAME_get_index_by_NID(subj, NID_commonName,
	    idx)) >= 0) {
		e = X509_NAME_get_entry(subj, idx);
		len = ASN1_STRING_to_UTF8(&utf8,
		    X509_NAME_ENTRY_get_data(e));
		if (len < 0 || (cn = dns_copy(utf8, len)) == NULL) {
			problem_set(p, PT_BAD_CSR, "the CSR's subject common "
			    "name is not a DNS name");
			goto out;
		}
		if (!names_has((const char *const *)v, n, cn)) {
			problem_set(p, PT_BAD_CSR, "the CSR's subject common "
			    "name \"%.255s\" is not one of its subjectAltName "
			    "DNS names", cn);
			goto out;
		}
		OPENSSL_free(utf8);
		utf8 = NULL;
		free(cn);
		cn = NULL;
	}
	rc = 1;
 out:
	ERR_clear_error();
	OPENSSL_free(utf8);
	free(cn);
	return rc;
}

int
csr_check(const unsigned char *der, size_t len,
    const char *const *names, size_t nnames,
    const int *allowed_bits, size_t nallowed,
    EVP_PKEY *account_key, struct csr_info *info, struct problem *p)
{
	struct csr_req *req = NULL;
	EVP_PKEY *pk;
	char **v = NULL;
	size_t nv = 0, i;
	int bits = 0, rc = 0;

	memset(info, 0, sizeof(*info));
	if ((req = csr_decode(der, len)) == NULL) {
		problem_set(p, PT_BAD_CSR, "the CSR is not a DER-encoded "
		    "PKCS#10 request");
		goto out;
	}
	if (csr_req_trailing(req) > 0) {
		problem_set(p, PT_BAD_CSR, "the CSR is followed by %zu bytes "
		    "of trailing data", csr_req_trailing(req));
		goto out;
	}
	if (!csr_check_sig(req, p))
		goto out;
	pk = csr_req_key(req);
	if (!csr_check_key(pk, allowed_bits, nallowed, account_key, &bits, p))
		goto out;
	if (!csr_sans(req, &v, &nv, p) || !csr_check_cn(req, v, nv, p))
		goto out;
	if (nv == 0) {
		problem_set(p, PT_BAD_CSR, "the CSR has no DNS name in a "
		    "subjectAltName extension");
		goto out;
	}
	for (i = 0; names != NULL && i < nv; i++)
		if (!names_has(names, nnames, v[i])) {
			problem_set(p, PT_BAD_CSR, "the CSR has the name "
			    "\"%s\", which is not in the order", v[i]);
			goto out;
		}
	for (i = 0; names != NULL && i < nnames; i++)
		if (!names_has((const char *const *)v, nv, names[i])) {
			problem_set(p, PT_BAD_CSR, "the CSR lacks the "
			    "order's name \"%s\"", names[i]);
			goto out;
		}
	if (EVP_PKEY_up_ref(pk) != 1) {
		ossl_log_errors("EVP_PKEY_up_ref");
		problem_set(p, PT_SERVER_INTERNAL, "cannot keep the CSR key");
		goto out;
	}
	info->names = v;
	info->nnames = nv;
	info->key_bits = bits;
	info->pkey = pk;
	v = NULL;
	rc = 1;
 out:
	ERR_clear_error();
	names_free(v, nv);
	csr_req_free(req);
	return rc;
}

void
csr_info_free(struct csr_info *info)
{
	if (info == NULL)
		return;
	names_free(info->names, info->nnames);
	EVP_PKEY_free(info->pkey);
	memset(info, 0, sizeof(*info));
}
