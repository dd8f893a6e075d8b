/*
 * certfiles.c - see certfiles.h.
 */
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "certfiles.h"
#include "util.h"

X509 *
cert_read(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f;
	X509 *x;

	assert_non_null(f = fopen(path, "r"));
	assert_non_null(x = PEM_read_X509(f, NULL, NULL, NULL));
	fclose(f);
	free(path);
	return x;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int
rm_tree(const char *dir)
{
	return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

OCSP_BASICRESP *
resp_basic(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;

	assert_non_null(resp = d2i_OCSP_RESPONSE(NULL, &p, (long)len));
	assert_ptr_equal(p, der + len);
	assert_int_equal(OCSP_response_status(resp),
	    OCSP_RESPONSE_STATUS_SUCCESSFUL);
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	OCSP_RESPONSE_free(resp);
	return bs;
}

int
resp_verify_chain(OCSP_BASICRESP *bs, X509 *root, X509 *intermediate)
{
	X509_STORE *store;
	STACK_OF(X509) *untrusted;
	int rc;

	assert_non_null(store = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(store, root), 1);
	assert_non_null(untrusted = sk_X509_new_null());
	assert_true(sk_X509_push(untrusted, intermediate) > 0);
	rc = OCSP_basic_verify(bs, untrusted, store, 0);
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return rc;
}
