/*
 * certinfo.c - reading back issued certificates (revocation, renewal
 * information): serial, authority key identifier, key, validity.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util.h"
#include "x509.h"

static int
asn1_time_to_time_t(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	*out = timegm(&tm);
	return 1;
}

int
cert_info_parse(const unsigned char *der, size_t len, struct cert_info *info)
{
	const unsigned char *q = der;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	const ASN1_INTEGER *sn;
	const ASN1_OCTET_STRING *kid;
	unsigned char *enc = NULL;
	size_t i;
	int n, rc = 0;

	memset(info, 0, sizeof(*info));
	if (len == 0 || len > 65536 ||
	    (x = d2i_X509(NULL, &q, (long)len)) == NULL ||
	    q != der + len)
		goto out;
	sn = X509_get0_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL ||
	    BN_is_negative(bn) || BN_is_zero(bn) ||
	    (hex = BN_bn2hex(bn)) == NULL)
		goto out;
	info->serial_hex = xstrdup(hex);
	for (i = 0; info->serial_hex[i] != '\0'; i++)
		if (info->serial_hex[i] >= 'A' && info->serial_hex[i] <= 'F')
			info->serial_hex[i] = (char)(info->serial_hex[i] -
			    'A' + 'a');
	/* DER content octets of the serial, as ARI's CertID uses them:
	 * the encoding without its tag and (short, <= 21 bytes) length */
	if ((n = i2d_ASN1_INTEGER(sn, &enc)) < 3 || n > 23 || enc[1] != n - 2)
		goto out;
	info->serial_len = (size_t)n - 2;
	info->serial = xmalloc(info->serial_len);
	memcpy(info->serial, enc + 2, info->serial_len);
	if ((kid = X509_get0_authority_key_id(x)) != NULL) {
		info->aki_len = (size_t)ASN1_STRING_length(kid);
		info->aki = xmalloc(info->aki_len + 1);
		memcpy(info->aki, ASN1_STRING_get0_data(kid), info->aki_len);
	}
	if ((info->pkey = X509_get_pubkey(x)) == NULL ||
	    !asn1_time_to_time_t(X509_get0_notBefore(x), &info->not_before) ||
	    !asn1_time_to_time_t(X509_get0_notAfter(x), &info->not_after))
		goto out;
	rc = 1;
out:
	if (!rc)
		cert_info_free(info);
	OPENSSL_free(hex);
	OPENSSL_free(enc);
	BN_free(bn);
	X509_free(x);
	return rc;
}

void
cert_info_free(struct cert_info *info)
{
	free(info->serial_hex);
	free(info->serial);
	free(info->aki);
	EVP_PKEY_free(info->pkey);
	memset(info, 0, sizeof(*info));
}
