/*
 * test_portal.c - the pure logic of the customer's certificate manager
 * (common/portal.c): recognizing uploaded files by content, serial
 * normalization, e-mail, country, domain and file name checks, dates,
 * URL encoding, keys and tokens, and the ACME client command lines.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jose.h"
#include "portal.h"
#include "util.h"

/* Files are recognized by their first bytes, whatever their name. */
static void
test_sniff(void **state)
{
	static const struct {
		const char	*bytes;
		size_t		 len;
		const char	*want;	/* NULL: refused */
	} cases[] = {
		{ "%PDF-1.7\n", 9, "application/pdf" },
		{ "%PDF-", 5, "application/pdf" },
		{ "%PDF", 4, NULL },
		{ " %PDF-1.4", 9, NULL },
		{ "%pdf-1.4", 8, NULL },
		{ "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, "image/png" },
		{ "\x89PNG\r\n\x1a", 7, NULL },
		{ "\x89PNG\n\n\x1a\n", 8, NULL },
		{ "\xff\xd8\xff\xe0\0\x10JFIF", 10, "image/jpeg" },
		{ "\xff\xd8\xff", 3, "image/jpeg" },
		{ "\xff\xd8", 2, NULL },
		{ "GIF89a", 6, NULL },
		{ "<html><script>", 14, NULL },
		{ "PK\x03\x04", 4, NULL },
		{ "", 0, NULL },
	};
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = portal_sniff((const unsigned char *)cases[i].bytes,
		    cases[i].len);
		if ((got == NULL) != (cases[i].want == NULL) || (got != NULL &&
		    strcmp(got, cases[i].want) != 0))
			fail_msg("sniff case %zu: got %s, want %s", i,
			    got != NULL ? got : "NULL",
			    cases[i].want != NULL ? cases[i].want : "NULL");
	}
	assert_null(portal_sniff(NULL, 10));
}

static void
test_serial_normalize(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: not a serial */
	} cases[] = {
		{ "0a1b2c3d", "0a1b2c3d" },
		{ "0A:1B:2C:3D", "0a1b2c3d" },
		{ "0a 1b 2c 3d", "0a1b2c3d" },
		{ "  0A:1B:2C:3D  ", "0a1b2c3d" },
		{ "0x0A1B2C3D", "0a1b2c3d" },
		{ "abcdef", "abcdef" },
		{ "abcde", NULL },		/* too short */
		{ "example", NULL },
		{ "www.example.com", NULL },
		{ "0a::1b2c3d", NULL },		/* separator not between digits */
		{ ":0a1b2c3d", NULL },
		{ "0a1b2c3d:", NULL },
		{ "0a-1b-2c-3d", NULL },
		{ "", NULL },
		{ "1234567890123456789012345678901234567890",
		    "1234567890123456789012345678901234567890" },
		{ "12345678901234567890123456789012345678901", NULL },
	};
	char out[64];
	int ok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = portal_serial_normalize(cases[i].in, out, sizeof(out));
		if (ok != (cases[i].want != NULL))
			fail_msg("serial \"%s\": got %d, want %d", cases[i].in,
			    ok, cases[i].want != NULL);
		if (ok)
			assert_string_equal(out, cases[i].want);
	}
	/* the output buffer bounds the result */
	assert_int_equal(portal_serial_normalize("0a1b2c3d4e", out, 8), 0);
	assert_int_equal(portal_serial_normalize(NULL, out, sizeof(out)), 0);
}

static void
test_country(void **state)
{
	static const char *const good[] = { "FR", "BE", "CH", "DE", "US",
	    "GB", "AD", "ZW", "AX", "SS", "BQ" };
	static const char *const bad[] = { "fr", "F", "FRA", "", "ZZ", "UK",
	    "EU", "XK", "AA", "Fr", "1F" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!portal_country_valid(good[i]))
			fail_msg("country %s: got refused, want accepted",
			    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (portal_country_valid(bad[i]))
			fail_msg("country %s: got accepted, want refused",
			    bad[i]);
	assert_int_equal(portal_country_valid(NULL), 0);
}

static void
test_email(void **state)
{
	static const struct {
		const char	*in;
		int		 want;
	} cases[] = {
		{ "alice@example.com", 1 },
		{ "Alice.Smith+certs@sub.example.co.uk", 1 },
		{ "o'brien@example.ie", 1 },
		{ "a@b.c", 1 },
		{ "alice@localhost", 0 },
		{ "alice@@example.com", 0 },
		{ "alice@exa@mple.com", 0 },
		{ "@example.com", 0 },
		{ "alice@", 0 },
		{ "alice", 0 },
		{ "alice smith@example.com", 0 },
		{ "alice@example..com", 0 },
		{ "alice@-example.com", 0 },
		{ "alice@example-.com", 0 },
		{ "alice@.example.com", 0 },
		{ "alice@example.com.", 0 },
		{ "\"alice\"@example.com", 0 },
		{ "alice<x>@example.com", 0 },
		{ "alice@ex_ample.com", 0 },
		{ "", 0 },
	};
	char local[80], longer[300];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (portal_email_valid(cases[i].in) != cases[i].want)
			fail_msg("e-mail \"%s\": got %d, want %d", cases[i].in,
			    !cases[i].want, cases[i].want);
	/* a local part of 64 characters, then 65 */
	memset(local, 'a', 64);
	snprintf(local + 64, sizeof(local) - 64, "@example.com");
	assert_int_equal(portal_email_valid(local), 1);
	memset(local, 'a', 65);
	snprintf(local + 65, sizeof(local) - 65, "@example.com");
	assert_int_equal(portal_email_valid(local), 0);
	/* at most 254 bytes */
	memset(longer, 'a', sizeof(longer));
	memcpy(longer, "a@", 2);
	for (i = 50; i < 250; i += 50)
		longer[i] = '.';
	longer[255] = '\0';
	assert_int_equal(portal_email_valid(longer), 0);
	longer[254] = '\0';
	longer[253] = 'b';
	assert_int_equal(portal_email_valid(longer), 1);
	assert_int_equal(portal_email_valid(NULL), 0);
}

static void
test_domain_normalize(void **state)
{
	static const struct {
		const char	*in;
		int		 wildcard;
		const char	*want;	/* NULL: refused */
	} cases[] = {
		{ "Example.COM", 0, "example.com" },
		{ "  www.example.com.  ", 0, "www.example.com" },
		{ "café.fr", 0, "xn--caf-dma.fr" },
		{ "*.example.com", 1, "*.example.com" },
		{ "*.example.com", 0, NULL },
		{ "example", 0, NULL },
		{ "co.uk", 0, NULL },
		{ "*.com", 1, NULL },
		{ "192.0.2.1", 0, NULL },
		{ "exa_mple.com", 0, NULL },
		{ "-example.com", 0, NULL },
		{ "", 0, NULL },
		{ ".", 0, NULL },
		{ "a..b.com", 0, NULL },
	};
	char out[256];
	int ok;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ok = portal_domain_normalize(cases[i].in, out,
		    cases[i].wildcard);
		if (ok != (cases[i].want != NULL))
			fail_msg("domain \"%s\": got %d, want %d", cases[i].in,
			    ok, cases[i].want != NULL);
		if (ok)
			assert_string_equal(out, cases[i].want);
	}
}

static void
test_filename(void **state)
{
	static const struct {
		const char	*in;
		const char	*clean, *ascii;
	} cases[] = {
		{ "kbis.pdf", "kbis.pdf", "kbis.pdf" },
		{ "C:\\Users\\me\\K-bis 2025.pdf", "K-bis 2025.pdf",
		    "K-bis_2025.pdf" },
		{ "../../etc/passwd", "passwd", "passwd" },
		{ "a\"b'c<d>e`.png", "abcde.png", "abcde.png" },
		{ "line\r\nbreak.pdf", "linebreak.pdf", "linebreak.pdf" },
		{ "Relevé été.pdf", "Relevé été.pdf", "Relev_____t__.pdf" },
		{ "bad\xff\xfeutf8.pdf", "badutf8.pdf", "badutf8.pdf" },
		{ ".hidden", "hidden", "hidden" },
		{ "", "document", "document" },
		{ "///", "document", "document" },
		{ "\x01\x02", "document", "document" },
	};
	char *c, *a, big[400];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = portal_filename_clean(cases[i].in);
		a = portal_filename_ascii(c);
		if (strcmp(c, cases[i].clean) != 0 ||
		    strcmp(a, cases[i].ascii) != 0)
			fail_msg("file name %zu: got \"%s\" \"%s\", want "
			    "\"%s\" \"%s\"", i, c, a, cases[i].clean,
			    cases[i].ascii);
		free(c);
		free(a);
	}
	/* at most 200 bytes, cut on a character boundary */
	memset(big, 'x', sizeof(big));
	memcpy(big + 199, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	c = portal_filename_clean(big);
	assert_int_equal(strlen(c), 199);
	free(c);
	a = portal_filename_ascii(".profile");
	assert_string_equal(a, "_profile");
	free(a);
	a = portal_filename_ascii(NULL);
	assert_string_equal(a, "document");
	free(a);
}

static void
test_url_encode(void **state)
{
	static const struct {
		const char	*in, *want;
	} cases[] = {
		{ "abc-_.~XYZ09", "abc-_.~XYZ09" },
		{ "a b&c=d", "a%20b%26c%3Dd" },
		{ "\"><script>", "%22%3E%3Cscript%3E" },
		{ "é", "%C3%A9" },
		{ "", "" },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = portal_url_encode(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("url_encode \"%s\": got \"%s\", want \"%s\"",
			    cases[i].in, got, cases[i].want);
		free(got);
	}
}

static void
test_date(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(portal_date("2026-03-15T06:05:09Z", 0, 0, buf,
	    sizeof(buf)), "2026-03-15 06:05 UTC");
	assert_string_equal(portal_date("2026-03-15T06:05:09Z", 1, 0, buf,
	    sizeof(buf)), "15/03/2026 06:05 UTC");
	assert_string_equal(portal_date("2026-03-15T06:05:09Z", 0, 1, buf,
	    sizeof(buf)), "2026-03-15");
	assert_string_equal(portal_date("2026-03-15T06:05:09Z", 1, 1, buf,
	    sizeof(buf)), "15/03/2026");
	/* anything else as it is */
	assert_string_equal(portal_date("yesterday", 0, 0, buf, sizeof(buf)),
	    "yesterday");
	assert_string_equal(portal_date("2026-03-15T06:05:09+01:00", 0, 0,
	    buf, sizeof(buf)), "2026-03-15T06:05:09+01:00");
	assert_string_equal(portal_date(NULL, 0, 0, buf, sizeof(buf)), "");
}

/* SHA-256 test vector (FIPS 180-2) and tokens stored as their hash. */
static void
test_hashes_and_keys(void **state)
{
	char hash[65], again[65], *t, *k;
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	int i;

	(void)state;
	portal_sha256_hex("abc", 3, hash);
	assert_string_equal(hash, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	t = portal_token_new(hash);
	assert_int_equal(strlen(t), 43);
	portal_token_hash(t, again);
	assert_string_equal(hash, again);
	free(t);
	for (i = 0; i < 200; i++) {
		k = portal_hmac_key_new();
		assert_int_equal(strlen(k), 43);
		assert_true(k[0] != '-');
		assert_int_equal(strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
		assert_int_equal(b64u_decode(k, &raw, &rawlen), 1);
		assert_int_equal(rawlen, 32);
		free(raw);
		free(k);
	}
}

/* The command lines, each as a whole: what a customer pastes. */
static void
test_client_commands(void **state)
{
	static const char *const names[] = { "www.example.com",
	    "api.example.com" };
	static const char *const wild[] = { "*.example.com" };
	static const struct {
		enum portal_client	 c;
		int			 wildcard;
		const char		*want;
	} cases[] = {
		{ PORTAL_CLIENT_CERTBOT, 0,
		  "certbot certonly --server https://acme.example/directory \\\n"
		  "    --eab-kid 6136f1b5-39c8-4417-b8a7-c4114b092be6 "
		  "--eab-hmac-key fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk \\\n"
		  "    --email 'o'\\''brien@example.com' --agree-tos --key-type rsa "
		  "--rsa-key-size 3072 \\\n"
		  "    --webroot -w /var/www/html \\\n"
		  "    -d www.example.com -d api.example.com" },
		{ PORTAL_CLIENT_CERTBOT, 1,
		  "certbot certonly --server https://acme.example/directory \\\n"
		  "    --eab-kid 6136f1b5-39c8-4417-b8a7-c4114b092be6 "
		  "--eab-hmac-key fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk \\\n"
		  "    --email 'o'\\''brien@example.com' --agree-tos --key-type rsa "
		  "--rsa-key-size 3072 \\\n"
		  "    --manual --preferred-challenges dns \\\n"
		  "    -d '*.example.com'" },
		{ PORTAL_CLIENT_LEGO, 0,
		  "lego --server https://acme.example/directory \\\n"
		  "    --eab --kid 6136f1b5-39c8-4417-b8a7-c4114b092be6 --hmac "
		  "fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk \\\n"
		  "    --email 'o'\\''brien@example.com' --accept-tos --key-type "
		  "rsa3072 \\\n"
		  "    --http --http.webroot /var/www/html \\\n"
		  "    -d www.example.com -d api.example.com run" },
		{ PORTAL_CLIENT_ACMESH, 1,
		  "acme.sh --register-account --server "
		  "https://acme.example/directory \\\n"
		  "    --eab-kid 6136f1b5-39c8-4417-b8a7-c4114b092be6 "
		  "--eab-hmac-key fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk \\\n"
		  "    -m 'o'\\''brien@example.com'\n"
		  "acme.sh --issue --server https://acme.example/directory \\\n"
		  "    -d '*.example.com' \\\n"
		  "    --dns --yes-I-know-dns-manual-mode-enough-go-ahead-please "
		  "--keylength 3072" },
		{ PORTAL_CLIENT_WINACME, 0,
		  "wacs.exe --baseuri https://acme.example/directory ^\n"
		  "    --eab-key-identifier 6136f1b5-39c8-4417-b8a7-c4114b092be6 "
		  "--eab-key fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk ^\n"
		  "    --source manual --host www.example.com,api.example.com ^\n"
		  "    --validation filesystem --webroot C:\\inetpub\\wwwroot ^\n"
		  "    --csr rsa --accepttos --emailaddress "
		  "\"o'brien@example.com\"" },
	};
	struct portal_eab e;
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		e.directory = "https://acme.example/directory";
		e.kid = "6136f1b5-39c8-4417-b8a7-c4114b092be6";
		e.hmac = "fh2fRV_yZ3NJZyjAQzSlWcPv1z91FEtO2pO62PRgZXk";
		e.email = "o'brien@example.com";
		e.names = cases[i].wildcard ? wild : names;
		e.nnames = cases[i].wildcard ? 1 : 2;
		got = portal_client_command(cases[i].c, &e);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s (case %zu):\ngot:\n%s\nwant:\n%s",
			    portal_client_name(cases[i].c), i, got,
			    cases[i].want);
		free(got);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sniff),
		cmocka_unit_test(test_serial_normalize),
		cmocka_unit_test(test_country),
		cmocka_unit_test(test_email),
		cmocka_unit_test(test_domain_normalize),
		cmocka_unit_test(test_filename),
		cmocka_unit_test(test_url_encode),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_hashes_and_keys),
		cmocka_unit_test(test_client_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
