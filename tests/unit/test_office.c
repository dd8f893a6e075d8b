/*
 * test_office.c - the pure helpers of the back office (common/office.c):
 * the checks of ids, kids, credit amounts and revocation reasons taken
 * from requests, the content type and file name a stored document is
 * served with, the query-string encoding of links, the dates of pages,
 * the expiry day of a validated document, and the fingerprint of an
 * operator's certificate (acmectl operator).
 * Tables of cases, each reporting what it got and wanted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "office.h"
#include "util.h"

struct ok_case {
	const char	*in;
	int		 want;
};

/* Runs a predicate over a table of cases. */
static void
check_ok(const char *what, int (*fn)(const char *),
    const struct ok_case *c, size_t n)
{
	size_t i;
	int got, bad = 0;

	for (i = 0; i < n; i++) {
		got = fn(c[i].in);
		if (got != c[i].want) {
			print_error("%s(\"%s\"): got %d, want %d\n", what,
			    c[i].in != NULL ? c[i].in : "(null)", got,
			    c[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

static void
test_id_ok(void **state)
{
	static const struct ok_case c[] = {
		{ "1", 1 }, { "42", 1 }, { "123456789012345678", 1 },
		{ "1234567890123456789", 0 }, { "0", 0 }, { "01", 0 },
		{ "", 0 }, { NULL, 0 }, { "-1", 0 }, { "+1", 0 }, { " 1", 0 },
		{ "1 ", 0 }, { "1a", 0 }, { "0x1", 0 }, { "１", 0 },
	};

	(void)state;
	check_ok("office_id_ok", office_id_ok, c, sizeof(c) / sizeof(c[0]));
}

static void
test_uuid_ok(void **state)
{
	static const struct ok_case c[] = {
		{ "6136f1b5-39c8-4417-b8a7-c4114b092be6", 1 },
		{ "6136F1B5-39C8-4417-B8A7-C4114B092BE6", 1 },
		{ "00000000-0000-0000-0000-000000000000", 1 },
		{ "6136f1b539c84417b8a7c4114b092be6", 0 },
		{ "6136f1b5-39c8-4417-b8a7-c4114b092be", 0 },
		{ "6136f1b5-39c8-4417-b8a7-c4114b092be6a", 0 },
		{ "6136f1b5_39c8-4417-b8a7-c4114b092be6", 0 },
		{ "g136f1b5-39c8-4417-b8a7-c4114b092be6", 0 },
		{ "{136f1b5-39c8-4417-b8a7-c4114b092be}", 0 },
		{ "", 0 }, { NULL, 0 },
	};

	(void)state;
	check_ok("office_uuid_ok", office_uuid_ok, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_amount_ok(void **state)
{
	static const struct ok_case c[] = {
		{ "1", 1 }, { "100", 1 }, { "-5", 1 }, { "2147483647", 1 },
		{ "-2147483648", 1 }, { "0010", 1 },
		{ "2147483648", 0 }, { "-2147483649", 0 },
		{ "99999999999", 0 }, { "0", 0 }, { "-0", 0 }, { "000", 0 },
		{ "", 0 }, { "-", 0 }, { NULL, 0 }, { "+5", 0 }, { "5.0", 0 },
		{ "1e3", 0 }, { " 5", 0 }, { "5 ", 0 }, { "--5", 0 },
	};

	(void)state;
	check_ok("office_amount_ok", office_amount_ok, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_reason_ok(void **state)
{
	static const struct ok_case c[] = {
		{ "0", 1 }, { "1", 1 }, { "3", 1 }, { "4", 1 }, { "5", 1 },
		{ "9", 1 }, { "2", 0 }, { "6", 0 }, { "8", 0 }, { "10", 0 },
		{ "01", 0 }, { "", 0 }, { NULL, 0 }, { "-1", 0 }, { "9 ", 0 },
	};

	(void)state;
	check_ok("office_reason_ok", office_reason_ok, c,
	    sizeof(c) / sizeof(c[0]));
}

struct str_case {
	const char	*in;
	const char	*want;
};

/* Runs a string function (new string out) over a table of cases. */
static void
check_str(const char *what, char *(*fn)(const char *),
    const struct str_case *c, size_t n)
{
	size_t i;
	char *got;
	int bad = 0;

	for (i = 0; i < n; i++) {
		got = fn(c[i].in);
		if (strcmp(got, c[i].want) != 0) {
			print_error("%s(\"%s\"): got \"%s\", want \"%s\"\n",
			    what, c[i].in != NULL ? c[i].in : "(null)", got,
			    c[i].want);
			bad++;
		}
		free(got);
	}
	assert_int_equal(bad, 0);
}

static void
test_content_type(void **state)
{
	static const struct str_case c[] = {
		{ "application/pdf", "application/pdf" },
		{ "image/PNG", "image/png" },
		{ "image/jpeg; charset=binary", "image/jpeg" },
		{ "application/vnd.ms-excel", "application/vnd.ms-excel" },
		{ "text/html\r\nX-Evil: 1", "application/octet-stream" },
		{ "text/html, image/png", "application/octet-stream" },
		{ "image/png\"", "application/octet-stream" },
		{ "image", "application/octet-stream" },
		{ "/png", "application/octet-stream" },
		{ "image/", "application/octet-stream" },
		{ "image/png/x", "application/octet-stream" },
		{ "", "application/octet-stream" },
		{ NULL, "application/octet-stream" },
		{ "image/ png", "application/octet-stream" },
	};

	(void)state;
	check_str("office_content_type", office_content_type, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_safe_filename(void **state)
{
	static const struct str_case c[] = {
		{ "kbis-2026_v2.pdf", "kbis-2026_v2.pdf" },
		{ "K\"bis<x>.pdf", "K_bis_x_.pdf" },
		{ "../../etc/passwd", "passwd" },
		{ "C:\\Users\\me\\scan 1.png", "scan_1.png" },
		{ "..hidden", "hidden" },
		{ "...", "document" },
		{ "", "document" },
		{ NULL, "document" },
		{ "dir/", "document" },
		{ "a\r\nContent-Type: text", "a__Content-Type__text" },
		{ "a\r\nContent-Type: text/html", "html" },
		{ "pièce.pdf", "pi__ce.pdf" },
		{ "a;b=c", "a_b_c" },
	};

	(void)state;
	check_str("office_safe_filename", office_safe_filename, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_safe_filename_length(void **state)
{
	char in[300], *got;

	(void)state;
	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	got = office_safe_filename(in);
	assert_int_equal(strlen(got), 100);
	free(got);
}

static void
test_urlencode(void **state)
{
	static const struct str_case c[] = {
		{ "abc-XYZ_0.9~", "abc-XYZ_0.9~" },
		{ "a b&c=d", "a%20b%26c%3Dd" },
		{ "operator:alice", "operator%3Aalice" },
		{ "\"<'>", "%22%3C%27%3E" },
		{ "é", "%C3%A9" },
		{ "100%", "100%25" },
		{ "a/b?c#d", "a%2Fb%3Fc%23d" },
		{ "", "" },
		{ NULL, "" },
	};

	(void)state;
	check_str("office_urlencode", office_urlencode, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_date_text(void **state)
{
	static const struct str_case c[] = {
		{ "2026-03-15T06:00:00Z", "2026-03-15 06:00 UTC" },
		{ "1999-12-31T23:59:59Z", "1999-12-31 23:59 UTC" },
		{ "2026-03-15T06:00:00+01:00", "2026-03-15T06:00:00+01:00" },
		{ "2026-03-15", "2026-03-15" },
		{ "2026-03-15X06:00:00Z", "2026-03-15X06:00:00Z" },
		{ "2026-0a-15T06:00:00Z", "2026-0a-15T06:00:00Z" },
		{ "", "" },
		{ NULL, "" },
	};

	(void)state;
	check_str("office_date_text", office_date_text, c,
	    sizeof(c) / sizeof(c[0]));
}

static void
test_day_ok(void **state)
{
	static const struct ok_case c[] = {
		{ "2026-03-15", 1 }, { "0001-01-01", 1 }, { "9999-12-31", 1 },
		{ "2028-02-29", 1 }, { "2000-02-29", 1 }, { "2027-02-29", 0 },
		{ "1900-02-29", 0 }, { "2026-04-30", 1 }, { "2026-04-31", 0 },
		{ "2026-12-31", 1 }, { "2026-13-01", 0 }, { "2026-00-10", 0 },
		{ "2026-01-00", 0 }, { "0000-01-01", 0 }, { "2026-1-15", 0 },
		{ "2026-01-155", 0 }, { "2026/01/15", 0 }, { "15-01-2026", 0 },
		{ "2026-01-15T00:00:00Z", 0 }, { " 2026-01-15", 0 },
		{ "2026-0a-15", 0 }, { "+026-01-15", 0 }, { "", 0 },
		{ NULL, 0 },
	};

	(void)state;
	check_ok("office_day_ok", office_day_ok, c, sizeof(c) / sizeof(c[0]));
}

static void
test_day_from(void **state)
{
	static const struct {
		const char	*now;	/* %Y-%m-%dT%H:%M:%SZ */
		int		 years, days;
		const char	*want;
	} c[] = {
		{ "2026-03-15T06:00:00Z", 0, 1, "2026-03-16" },
		{ "2026-03-15T23:59:59Z", 0, 1, "2026-03-16" },
		{ "2026-03-15T00:00:00Z", 0, 1, "2026-03-16" },
		{ "2026-12-31T12:00:00Z", 0, 1, "2027-01-01" },
		{ "2026-03-15T06:00:00Z", 1, 0, "2027-03-15" },
		{ "2026-03-15T06:00:00Z", 3, 0, "2029-03-15" },
		{ "2028-02-29T06:00:00Z", 1, 0, "2029-02-28" },
		{ "2028-02-29T06:00:00Z", 4, 0, "2032-02-29" },
		{ "2028-02-28T06:00:00Z", 0, 1, "2028-02-29" },
		{ "2027-02-28T06:00:00Z", 0, 1, "2027-03-01" },
		{ "2026-03-15T06:00:00Z", 0, 0, "2026-03-15" },
	};
	struct tm tm;
	char got[11];
	size_t i;
	int bad = 0;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		assert_non_null(strptime(c[i].now, "%Y-%m-%dT%H:%M:%SZ", &tm));
		office_day_from(timegm(&tm), c[i].years, c[i].days, got,
		    sizeof(got));
		if (strcmp(got, c[i].want) != 0) {
			print_error("office_day_from(%s, %d, %d): got %s, "
			    "want %s\n", c[i].now, c[i].years, c[i].days, got,
			    c[i].want);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* Returns a new self-signed certificate (P-256) in PEM, caller frees,
 * and its DER's SHA-256 in hex (65 bytes). */
static char *
make_cert_pem(char hex[65])
{
	EVP_PKEY *key;
	X509 *x;
	BIO *bio;
	BUF_MEM *mem;
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	char *pem;

	key = EVP_EC_gen("P-256");
	assert_non_null(key);
	x = X509_new();
	assert_non_null(x);
	assert_int_equal(X509_set_version(x, 2), 1);
	assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
	assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
	assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
	assert_int_equal(X509_NAME_add_entry_by_txt(X509_get_subject_name(x),
	    "CN", MBSTRING_ASC, (const unsigned char *)"operator", -1, -1, 0),
	    1);
	assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(x)),
	    1);
	assert_int_equal(X509_set_pubkey(x, key), 1);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	assert_int_equal(mdlen, 32);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509(bio, x), 1);
	BIO_get_mem_ptr(bio, &mem);
	pem = xstrndup(mem->data, mem->length);
	BIO_free(bio);
	X509_free(x);
	EVP_PKEY_free(key);
	return pem;
}

static void
test_cert_sha256_pem(void **state)
{
	char want[65], *pem, *text, *got;

	(void)state;
	pem = make_cert_pem(want);
	got = office_cert_sha256_pem(pem, strlen(pem));
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	/* text around it, as `openssl x509 -text` writes */
	text = xasprintf("Certificate:\n    Data: ...\n%sbye\n", pem);
	got = office_cert_sha256_pem(text, strlen(text));
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	free(text);
	/* a truncated one, none at all, a key */
	assert_null(office_cert_sha256_pem(pem, strlen(pem) / 2));
	assert_null(office_cert_sha256_pem("", 0));
	assert_null(office_cert_sha256_pem("not a certificate\n", 18));
	text = xstrdup("-----BEGIN PRIVATE KEY-----\nAAAA\n"
	    "-----END PRIVATE KEY-----\n");
	assert_null(office_cert_sha256_pem(text, strlen(text)));
	free(text);
	free(pem);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_ok),
		cmocka_unit_test(test_uuid_ok),
		cmocka_unit_test(test_amount_ok),
		cmocka_unit_test(test_reason_ok),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_safe_filename),
		cmocka_unit_test(test_safe_filename_length),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_date_text),
		cmocka_unit_test(test_day_ok),
		cmocka_unit_test(test_day_from),
		cmocka_unit_test(test_cert_sha256_pem),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
