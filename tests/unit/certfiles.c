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

/* Makes the store of root (the trust anchor) and the stack of
 * intermediate (untrusted); the caller frees both. */
static void
chain_of(X509 *root, X509 *intermediate, X509_STORE **store,
    STACK_OF(X509) **untrusted)
{
	assert_non_null(*store = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(*store, root), 1);
	assert_non_null(*untrusted = sk_X509_new_null());
	assert_true(sk_X509_push(*untrusted, intermediate) > 0);
}

int
resp_verify_chain(OCSP_BASICRESP *bs, X509 *root, X509 *intermediate)
{
	X509_STORE *store;
	STACK_OF(X509) *untrusted;
	int rc;

	chain_of(root, intermediate, &store, &untrusted);
	rc = OCSP_basic_verify(bs, untrusted, store, 0);
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	return rc;
}

int
cert_verify_chain(X509 *x, X509 *root, X509 *intermediate, const char *host)
{
	X509_STORE *store;
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *untrusted;
	int rc;

	chain_of(root, intermediate, &store, &untrusted);
	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, store, x, untrusted), 1);
	if (host != NULL) {
		assert_int_equal(X509_STORE_CTX_set_purpose(ctx,
		    X509_PURPOSE_SSL_SERVER), 1);
		assert_int_equal(X509_VERIFY_PARAM_set1_host(
		    X509_STORE_CTX_get0_param(ctx), host, 0), 1);
	}
	rc = X509_verify_cert(ctx);
	if (rc != 1)
		print_error("verify: %s\n", X509_verify_cert_error_string(
		    X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	X509_STORE_free(store);
	ERR_clear_error();
	return rc;
}
