/*
 * test_web.c - the core of acme-web without FastCGI nor database: HTML
 * escaping, the parsers of query strings, cookies and multipart bodies,
 * route patterns, the client certificate's fingerprint, the response's
 * headers and cookies, the layout's forms, password hashes; and the
 * replay of the web fuzz targets' corpus (tests/fuzz/corpus/web_*).
 * Run from the top of the source tree.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "passwd.h"
#include "util.h"
#include "web-internal.h"

#define FUZZ_REPLAY
#include "../fuzz/fuzz_web_form.c"
#include "../fuzz/fuzz_web_multipart.c"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* Returns "name=value|name=value" of pairs (static buffer). */
static const char *
kv_join(const struct web_kv *kv, size_t n)
{
	static char buf[4096];
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s=%s",
		    i > 0 ? "|" : "", kv[i].name, kv[i].value);
	return buf;
}

/* The one escaping function: & < > " ' and nothing else. */
static void
test_escape(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "" },
		{ "plain text", "plain text" },
		{ "<script>alert(1)</script>",
		    "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "a & b", "a &amp; b" },
		{ "\"quoted\" 'single'", "&quot;quoted&quot; &#39;single&#39;" },
		{ "&amp;", "&amp;amp;" },
		{ "\" onmouseover=\"x", "&quot; onmouseover=&quot;x" },
		{ "été – ünïcode", "été – ünïcode" },
		{ "<<>>&&", "&lt;&lt;&gt;&gt;&amp;&amp;" },
	};
	struct web_ctx ctx;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		web_ctx_init(&ctx);
		web_text(&ctx.r, cases[i].in);
		if (strcmp(ctx.r.body.data != NULL ? ctx.r.body.data : "",
		    cases[i].want) != 0)
			fail_msg("escape %s: got %s, want %s", cases[i].in,
			    ctx.r.body.data, cases[i].want);
		web_ctx_free(&ctx);
	}
	web_ctx_init(&ctx);
	web_text(&ctx.r, NULL);
	web_textf(&ctx.r, "%d<%s>", 42, "b&");
	assert_string_equal(ctx.r.body.data, "42&lt;b&amp;&gt;");
	web_ctx_free(&ctx);
}

static void
test_utf8(void **state)
{
	static const struct {
		const char *s;
		int want;
	} cases[] = {
		{ "", 1 },
		{ "abc", 1 },
		{ "tab\there\r\nline", 1 },
		{ "\xc3\xa9t\xc3\xa9", 1 },
		{ "\xe2\x82\xac", 1 },			/* euro */
		{ "\xf0\x9f\x94\x92", 1 },		/* emoji */
		{ "\xc3", 0 },				/* truncated */
		{ "\xc0\xaf", 0 },			/* overlong '/' */
		{ "\xe0\x80\xaf", 0 },			/* overlong */
		{ "\xed\xa0\x80", 0 },			/* surrogate */
		{ "\xf4\x90\x80\x80", 0 },		/* > U+10FFFF */
		{ "\xff", 0 },
		{ "bell\x07", 0 },
		{ "del\x7f", 0 },
		{ "c1\xc2\x85", 0 },			/* NEL, a C1 control */
	};
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (web_utf8_valid(cases[i].s, strlen(cases[i].s)) !=
		    cases[i].want)
			fail_msg("utf8 case %zu: got %d, want %d", i,
			    !cases[i].want, cases[i].want);
	/* an embedded NUL */
	assert_int_equal(web_utf8_valid("a\0b", 3), 0);
}

static void
test_urlencoded(void **state)
{
	static const struct {
		const char *in;
		int ok;
		const char *want;
	} cases[] = {
		{ "", 1, "" },
		{ "a=1", 1, "a=1" },
		{ "a=1&b=2", 1, "a=1|b=2" },
		{ "a=&b", 1, "a=|b=" },
		{ "a=1&&b=2&", 1, "a=1|b=2" },
		{ "q=hello+world%21", 1, "q=hello world!" },
		{ "e=%C3%A9t%C3%A9", 1, "e=été" },
		{ "k%3D=v%26w", 1, "k==v&w" },
		{ "a=1=2", 1, "a=1=2" },
		{ "email=bob%40example.com", 1, "email=bob@example.com" },
		{ "multi=line%0D%0Atext", 1, "multi=line\r\ntext" },
		/* hostile */
		{ "a=%", 0, NULL },
		{ "a=%4", 0, NULL },
		{ "a=%zz", 0, NULL },
		{ "a=%00", 0, NULL },		/* NUL */
		{ "a=%ff", 0, NULL },		/* not UTF-8 */
		{ "a=%C0%AF", 0, NULL },	/* overlong */
		{ "a=%07", 0, NULL },		/* control */
		{ "=v", 0, NULL },		/* no name */
		{ "%ED%A0%80=1", 0, NULL },	/* surrogate in a name */
	};
	struct web_kv *kv;
	size_t i, n;
	int ok;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		kv = NULL;
		n = 0;
		ok = web_parse_urlencoded(cases[i].in, strlen(cases[i].in),
		    &kv, &n);
		if (ok != cases[i].ok)
			fail_msg("urlencoded \"%s\": got %d, want %d",
			    cases[i].in, ok, cases[i].ok);
		if (ok && strcmp(kv_join(kv, n), cases[i].want) != 0)
			fail_msg("urlencoded \"%s\": got %s, want %s",
			    cases[i].in, kv_join(kv, n), cases[i].want);
		web_kv_free(kv, n);
	}
}

/* More pairs than WEB_MAX_FIELDS are refused. */
static void
test_urlencoded_many(void **state)
{
	struct web_kv *kv = NULL;
	size_t n = 0, i;
	char *s = xmalloc(4 * (WEB_MAX_FIELDS + 1) + 1);

	(void)state;
	s[0] = '\0';
	for (i = 0; i < WEB_MAX_FIELDS; i++)
		strcat(s, "a=1&");
	assert_int_equal(web_parse_urlencoded(s, strlen(s), &kv, &n), 1);
	assert_int_equal(n, WEB_MAX_FIELDS);
	web_kv_free(kv, n);
	kv = NULL;
	n = 0;
	strcat(s, "b=2");
	assert_int_equal(web_parse_urlencoded(s, strlen(s), &kv, &n), 0);
	web_kv_free(kv, n);
	free(s);
}

static void
test_cookies(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "" },
		{ "a=1", "a=1" },
		{ "a=1; b=2", "a=1|b=2" },
		{ "a=1;b=2", "a=1|b=2" },
		{ "__Host-sid=abc-DEF_123; lang=fr", "__Host-sid=abc-DEF_123|lang=fr" },
		{ "q=\"quoted\"", "q=quoted" },
		{ "empty=; x=1", "empty=|x=1" },
		/* malformed pairs are left out, the rest kept */
		{ "noval; a=1", "a=1" },
		{ "bad name=1; b=2", "b=2" },
		{ "a=x y; b=2", "b=2" },
		{ "a=\"open; b=2", "b=2" },
		{ "a=back\\slash; c=3", "c=3" },
		{ "=1; d=4", "d=4" },
		{ ";;; ; e=5 ;", "e=5" },
	};
	struct web_kv *kv;
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		kv = NULL;
		n = 0;
		web_parse_cookies(cases[i].in, &kv, &n);
		if (strcmp(kv_join(kv, n), cases[i].want) != 0)
			fail_msg("cookies \"%s\": got %s, want %s",
			    cases[i].in, kv_join(kv, n), cases[i].want);
		web_kv_free(kv, n);
	}
	kv = NULL;
	n = 0;
	web_parse_cookies(NULL, &kv, &n);
	assert_int_equal(n, 0);
}

static void
test_boundary(void **state)
{
	static const struct {
		const char *ct, *want;
	} cases[] = {
		{ "multipart/form-data; boundary=abc", "abc" },
		{ "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk",
		    "----WebKitFormBoundary7MA4YWxk" },
		{ "Multipart/Form-Data; Boundary=\"a b'c\"", "a b'c" },
		{ "multipart/form-data; charset=utf-8; boundary=x", "x" },
		{ "multipart/form-data;boundary=x", "x" },
		{ "multipart/form-data", NULL },
		{ "multipart/form-data; boundary=", NULL },
		{ "multipart/form-data; boundary=\"\"", NULL },
		{ "multipart/form-data; boundary=\"unterminated", NULL },
		{ "multipart/form-data; boundary=a; boundary=b", NULL },
		{ "multipart/form-data; boundary=bad\"char", NULL },
		{ "multipart/mixed; boundary=x", NULL },
		{ "multipart/form-dataX; boundary=x", NULL },
		{ "text/plain; boundary=x", NULL },
		{ "multipart/form-data; boundary=0123456789012345678901234567"
		    "890123456789012345678901234567890123456789",	/* 70 */
		    "0123456789012345678901234567890123456789012345678901234567"
		    "890123456789" },
		{ "multipart/form-data; boundary=0123456789012345678901234567"
		    "8901234567890123456789012345678901234567890", NULL },
		{ NULL, NULL },
	};
	char *b;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		b = web_multipart_boundary(cases[i].ct);
		if ((b == NULL) != (cases[i].want == NULL) ||
		    (b != NULL && strcmp(b, cases[i].want) != 0))
			fail_msg("boundary of %s: got %s, want %s",
			    cases[i].ct != NULL ? cases[i].ct : "(null)",
			    b != NULL ? b : "(none)",
			    cases[i].want != NULL ? cases[i].want : "(none)");
		free(b);
	}
}

#define CRLF	"\r\n"

static void
test_multipart(void **state)
{
	static const struct {
		const char	*name;
		const char	*body;
		size_t		 file_max;
		int		 status;
		const char	*fields;	/* name=value|... */
		const char	*files;		/* field:filename:type:len|... */
	} cases[] = {
		{ "a field and a file",
		    "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"csrf\"" CRLF CRLF
		    "tok" CRLF
		    "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"file\"; "
		    "filename=\"kbis.pdf\"" CRLF
		    "Content-Type: application/pdf" CRLF CRLF
		    "%PDF-1.4" CRLF "--XyZ--" CRLF,
		    100, 0, "csrf=tok", "file:kbis.pdf:application/pdf:8" },
		{ "preamble, padding, epilogue, an empty value",
		    "ignored preamble" CRLF "--XyZ  " CRLF
		    "content-disposition: form-data; name=a" CRLF CRLF
		    CRLF "--XyZ--" CRLF "epilogue",
		    100, 0, "a=", "" },
		{ "a Windows path is cut to its base name",
		    "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"f\"; "
		    "filename=\"C:\\docs\\a.txt\"" CRLF CRLF
		    "x" CRLF "--XyZ--",
		    100, 0, "", "f:a.txt::1" },
		{ "no file chosen: an empty file, an empty name",
		    "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"f\"; filename=\"\""
		    CRLF "Content-Type: application/octet-stream" CRLF CRLF
		    CRLF "--XyZ--",
		    100, 0, "", "f::application/octet-stream:0" },
		{ "a field of text with CRLF inside",
		    "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"t\"" CRLF CRLF
		    "l1" CRLF "l2" CRLF "--XyZ--",
		    100, 0, "t=l1\r\nl2", "" },
		{ "a file too large", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"f\"; "
		    "filename=\"big\"" CRLF CRLF
		    "0123456789" CRLF "--XyZ--",
		    9, 413, NULL, NULL },
		{ "a file exactly at the limit", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"f\"; "
		    "filename=\"big\"" CRLF CRLF
		    "0123456789" CRLF "--XyZ--",
		    10, 0, "", "f:big::10" },
		/* hostile */
		{ "no closing delimiter", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
		    "value", 100, 400, NULL, NULL },
		{ "no delimiter at all", "just text", 100, 400, NULL, NULL },
		{ "empty body", "", 100, 400, NULL, NULL },
		{ "no Content-Disposition", "--XyZ" CRLF
		    "Content-Type: text/plain" CRLF CRLF "v" CRLF "--XyZ--",
		    100, 400, NULL, NULL },
		{ "no name", "--XyZ" CRLF
		    "Content-Disposition: form-data; filename=\"a\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "empty name", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "not form-data", "--XyZ" CRLF
		    "Content-Disposition: attachment; name=\"a\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "two dispositions", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF
		    "Content-Disposition: form-data; name=\"b\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "name given twice", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"; name=\"b\""
		    CRLF CRLF "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "unterminated quote", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "header line without colon", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF
		    "garbage" CRLF CRLF "v" CRLF "--XyZ--",
		    100, 400, NULL, NULL },
		{ "headers never end", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF,
		    100, 400, NULL, NULL },
		{ "invalid UTF-8 in a field", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
		    "\xff\xfe" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "invalid UTF-8 in a name", "--XyZ" CRLF
		    "Content-Disposition: form-data; name=\"\xc0\xaf\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
		{ "delimiter not followed by CRLF", "--XyZgarbage" CRLF
		    "Content-Disposition: form-data; name=\"a\"" CRLF CRLF
		    "v" CRLF "--XyZ--", 100, 400, NULL, NULL },
	};
	struct web_kv *form;
	struct web_upload *up;
	char files[1024];
	size_t i, j, nform, nup;
	int status;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		form = NULL;
		up = NULL;
		nform = nup = 0;
		status = web_parse_multipart("XyZ",
		    (const unsigned char *)cases[i].body,
		    strlen(cases[i].body), cases[i].file_max, &form, &nform,
		    &up, &nup);
		if (status != cases[i].status)
			fail_msg("multipart \"%s\": got %d, want %d",
			    cases[i].name, status, cases[i].status);
		if (status == 0) {
			if (strcmp(kv_join(form, nform), cases[i].fields) != 0)
				fail_msg("multipart \"%s\": fields %s, want "
				    "%s", cases[i].name, kv_join(form, nform),
				    cases[i].fields);
			files[0] = '\0';
			for (j = 0; j < nup; j++)
				snprintf(files + strlen(files), sizeof(files) -
				    strlen(files), "%s%s:%s:%s:%zu", j > 0 ?
				    "|" : "", up[j].field, up[j].filename,
				    up[j].content_type, up[j].len);
			if (strcmp(files, cases[i].files) != 0)
				fail_msg("multipart \"%s\": files %s, want %s",
				    cases[i].name, files, cases[i].files);
		}
		web_kv_free(form, nform);
		web_uploads_free(up, nup);
	}
}

/* More parts than WEB_MAX_PARTS are refused; binary file content (NUL
 * bytes, something like a delimiter) is kept as sent. */
static void
test_multipart_limits(void **state)
{
	struct web_kv *form = NULL;
	struct web_upload *up = NULL;
	const struct web_upload *u;
	struct web_ctx ctx;
	char *body = NULL, *part;
	size_t nform = 0, nup = 0, i, len;
	unsigned char *b2;

	(void)state;
	for (i = 0; i <= WEB_MAX_PARTS; i++) {
		part = xasprintf("%s--XyZ\r\nContent-Disposition: form-data; "
		    "name=\"f%zu\"\r\n\r\nv\r\n", body != NULL ? body : "", i);
		free(body);
		body = part;
	}
	part = xasprintf("%s--XyZ--", body);
	free(body);
	body = part;
	assert_int_equal(web_parse_multipart("XyZ", (unsigned char *)body,
	    strlen(body), 100, &form, &nform, &up, &nup), 400);
	web_kv_free(form, nform);
	web_uploads_free(up, nup);
	free(body);

	/* the delimiter is CRLF--XyZ: a "--XyZ" inside content is data */
	{
		static const char head[] = "--XyZ\r\nContent-Disposition: "
		    "form-data; name=\"f\"; filename=\"b\"\r\n\r\n";
		static const char content[] = "x\0\x01--XyZ\r\n";
		static const char tail[] = "\r\n--XyZ--";

		len = 0;
		b2 = xmalloc(sizeof(head) + sizeof(content) + sizeof(tail));
		memcpy(b2, head, sizeof(head) - 1);
		len += sizeof(head) - 1;
		memcpy(b2 + len, content, sizeof(content) - 1);
		len += sizeof(content) - 1;
		memcpy(b2 + len, tail, sizeof(tail) - 1);
		len += sizeof(tail) - 1;
	}
	web_ctx_init(&ctx);
	assert_int_equal(web_parse_multipart("XyZ", b2, len, 100,
	    &ctx.r.form, &ctx.r.nform, &ctx.r.uploads, &ctx.r.nuploads), 0);
	u = web_upload(&ctx.r, "f");
	assert_non_null(u);
	assert_int_equal(u->len, 10);
	assert_memory_equal(u->data, "x\0\x01--XyZ\r\n", 10);
	assert_null(web_upload(&ctx.r, "g"));
	web_ctx_free(&ctx);
	free(b2);
}

static void
test_route_match(void **state)
{
	static const struct {
		const char *pattern, *path;
		int ok;
		const char *args;	/* joined by ',' */
	} cases[] = {
		{ "/", "/", 1, "" },
		{ "/", "/x", 0, NULL },
		{ "/login", "/login", 1, "" },
		{ "/login", "/login/", 0, NULL },
		{ "/login", "/logi", 0, NULL },
		{ "/office/", "/office/", 1, "" },
		{ "/office/", "/office", 0, NULL },
		{ "/accounts/*", "/accounts/12", 1, "12" },
		{ "/accounts/*", "/accounts/", 0, NULL },
		{ "/accounts/*", "/accounts/12/x", 0, NULL },
		{ "/documents/*/file", "/documents/7/file", 1, "7" },
		{ "/documents/*/file", "/documents//file", 0, NULL },
		{ "/documents/*/file", "/documents/7/files", 0, NULL },
		{ "/a/*/b/*", "/a/x/b/y", 1, "x,y" },
		{ "/a/*/b/*", "/a/x/b/", 0, NULL },
		{ "/*/*/*/*", "/1/2/3/4", 1, "1,2,3,4" },
		{ "/*/*/*/*/*", "/1/2/3/4/5", 0, NULL },	/* > 4 */
		{ "/password/reset/*", "/password/reset/"
		    "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ", 1,
		    "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ" },
	};
	char *args[4], joined[512];
	size_t i, j, n;
	int ok;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		ok = web_route_match(cases[i].pattern, cases[i].path, args, &n);
		if (ok != cases[i].ok)
			fail_msg("route %s on %s: got %d, want %d",
			    cases[i].pattern, cases[i].path, ok, cases[i].ok);
		if (!ok)
			continue;
		joined[0] = '\0';
		for (j = 0; j < n; j++) {
			snprintf(joined + strlen(joined), sizeof(joined) -
			    strlen(joined), "%s%s", j > 0 ? "," : "", args[j]);
			free(args[j]);
		}
		if (strcmp(joined, cases[i].args) != 0)
			fail_msg("route %s on %s: args %s, want %s",
			    cases[i].pattern, cases[i].path, joined,
			    cases[i].args);
	}
	/* a segment longer than WEB_MAX_SEGMENT */
	{
		char path[WEB_MAX_SEGMENT + 16];

		memset(path, 'a', sizeof(path));
		memcpy(path, "/x/", 3);
		path[3 + WEB_MAX_SEGMENT] = '\0';
		assert_int_equal(web_route_match("/x/*", path, args, &n), 1);
		free(args[0]);
		path[3 + WEB_MAX_SEGMENT] = 'a';
		path[4 + WEB_MAX_SEGMENT] = '\0';
		assert_int_equal(web_route_match("/x/*", path, args, &n), 0);
	}
}

/* Returns a new self-signed certificate in PEM (caller frees) and its
 * SHA-256 computed by X509_digest (hex). */
static char *
make_cert(char hex[65])
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *name = X509_NAME_new();
	BIO *b = BIO_new(BIO_s_mem());
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	char *pem, *p;
	long n;

	assert_non_null(key);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"Alice Operator", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"CA, Inc.", -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, name);
	X509_set_pubkey(x, key);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	assert_int_equal(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	for (i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	PEM_write_bio_X509(b, x);
	n = BIO_get_mem_data(b, &p);
	pem = xstrndup(p, (size_t)n);
	BIO_free(b);
	X509_NAME_free(name);
	X509_free(x);
	EVP_PKEY_free(key);
	return pem;
}

static void
test_cert_fingerprint(void **state)
{
	char want[65], *pem, *esc, *tabbed, *fp, *subj, *q;
	const char *s;
	size_t n;

	(void)state;
	pem = make_cert(want);
	/* Apache: plain PEM */
	assert_int_equal(web_cert_fingerprint(pem, &fp, &subj), 1);
	assert_string_equal(fp, want);
	assert_string_equal(subj, "O=CA\\, Inc.,CN=Alice Operator");
	free(fp);
	free(subj);
	/* nginx $ssl_client_escaped_cert: URL-escaped */
	esc = xmalloc(3 * strlen(pem) + 1);
	for (s = pem, q = esc; *s != '\0'; s++) {
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9') || *s == '-')
			*q++ = *s;
		else
			q += sprintf(q, "%%%02X", (unsigned char)*s);
	}
	*q = '\0';
	assert_int_equal(web_cert_fingerprint(esc, &fp, &subj), 1);
	assert_string_equal(fp, want);
	free(fp);
	free(subj);
	/* old nginx $ssl_client_cert: lines after the first start with a
	 * tab */
	n = strlen(pem);
	tabbed = xmalloc(2 * n + 1);
	for (s = pem, q = tabbed; *s != '\0'; s++) {
		*q++ = *s;
		if (*s == '\n' && s[1] != '\0')
			*q++ = '\t';
	}
	*q = '\0';
	assert_int_equal(web_cert_fingerprint(tabbed, &fp, &subj), 1);
	assert_string_equal(fp, want);
	free(fp);
	free(subj);
	/* refused */
	assert_int_equal(web_cert_fingerprint("", &fp, &subj), 0);
	assert_null(fp);
	assert_int_equal(web_cert_fingerprint(NULL, &fp, &subj), 0);
	assert_int_equal(web_cert_fingerprint("-----BEGIN CERTIFICATE-----"
	    "\ngarbage\n-----END CERTIFICATE-----\n", &fp, &subj), 0);
	esc[strlen(esc) - 2] = '\0';	/* "%0" */
	assert_int_equal(web_cert_fingerprint(esc, &fp, &subj), 0);
	assert_null(fp);
	assert_null(subj);
	free(esc);
	free(tabbed);
	free(pem);
}

/* Returns 1 if the header block has this exact line. */
static int
has_line(const char *headers, const char *line)
{
	const char *p = strstr(headers, line);

	return p != NULL && (p == headers || p[-1] == '\n') &&
	    strncmp(p + strlen(line), "\r\n", 2) == 0;
}

static void
test_response(void **state)
{
	static const char *const always[] = {
		"Content-Security-Policy: default-src 'none'; style-src "
		    "'self'; img-src 'self'; form-action 'self'; "
		    "frame-ancestors 'none'; base-uri 'none'",
		"X-Content-Type-Options: nosniff",
		"Referrer-Policy: no-referrer",
		"X-Frame-Options: DENY",
	};
	struct web_ctx ctx;
	char *h;
	size_t i;

	(void)state;
	/* a page */
	web_ctx_init(&ctx);
	web_raw(&ctx.r, "<p>");
	web_text(&ctx.r, "<b>");
	web_raw(&ctx.r, "</p>");
	web_cookie_set(&ctx.r, WC_SID, "tok", 600);
	web_cookie_set(&ctx.r, WC_PRE, NULL, 0);
	web_cookie_set(&ctx.r, WC_LANG, "fr", 31536000L);
	web_header(&ctx.r, "X-Test: %d", 1);
	web_header(&ctx.r, "X-Evil: a\r\nSet-Cookie: x=1");	/* refused */
	h = web_response_headers(&ctx.r);
	for (i = 0; i < NELEM(always); i++)
		if (!has_line(h, always[i]))
			fail_msg("missing %s in\n%s", always[i], h);
	assert_true(has_line(h, "Status: 200 OK"));
	assert_true(has_line(h, "Content-Type: text/html; charset=utf-8"));
	assert_true(has_line(h, "Content-Length: 16"));
	assert_true(has_line(h, "Cache-Control: no-store"));
	assert_true(has_line(h, "Set-Cookie: __Host-sid=tok; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=600"));
	assert_true(has_line(h, "Set-Cookie: __Host-pre=; Path=/; Secure; "
	    "HttpOnly; SameSite=Strict; Max-Age=0"));
	assert_true(has_line(h, "Set-Cookie: lang=fr; Path=/; Secure; "
	    "HttpOnly; SameSite=Lax; Max-Age=31536000"));
	assert_true(has_line(h, "X-Test: 1"));
	assert_null(strstr(h, "X-Evil"));
	assert_null(strstr(h, "x=1"));
	assert_string_equal(ctx.r.body.data, "<p>&lt;b&gt;</p>");
	assert_string_equal(h + strlen(h) - 4, "\r\n\r\n");
	free(h);
	web_ctx_free(&ctx);

	/* redirects stay on the site */
	{
		static const struct {
			const char *to, *want;
		} cases[] = {
			{ "/dashboard", "/dashboard" },
			{ "/accounts/3?x=1", "/accounts/3?x=1" },
			{ "https://localhost/login", "https://localhost/login" },
			{ "//evil.example/", "/" },
			{ "https://evil.example/", "/" },
			{ "https://localhost.evil.example/", "/" },
			{ "/\\evil.example", "/" },
			{ "/x\r\nSet-Cookie: a=b", "/" },
			{ "javascript:alert(1)", "/" },
			{ "", "/" },
		};

		for (i = 0; i < NELEM(cases); i++) {
			web_ctx_init(&ctx);
			web_raw(&ctx.r, "discarded");
			web_redirect(&ctx.r, cases[i].to);
			h = web_response_headers(&ctx.r);
			if (ctx.r.status != 303 || strcmp(ctx.location,
			    cases[i].want) != 0 || ctx.r.body.len != 0)
				fail_msg("redirect to %s: got %d %s, want 303 "
				    "%s", cases[i].to, ctx.r.status,
				    ctx.location, cases[i].want);
			assert_true(has_line(h, "Status: 303 See Other"));
			free(h);
			web_ctx_free(&ctx);
		}
	}

	/* an error page: escaped message, status, the layout, in French */
	web_ctx_init(&ctx);
	ctx.r.lang = LANG_FR;
	web_header(&ctx.r, "Content-Disposition: attachment");
	web_error(&ctx.r, 404, "no <such> page");
	h = web_response_headers(&ctx.r);
	assert_true(has_line(h, "Status: 404 Not Found"));
	assert_null(strstr(h, "Content-Disposition"));
	assert_non_null(strstr(ctx.r.body.data, "no &lt;such&gt; page"));
	assert_non_null(strstr(ctx.r.body.data, "<html lang=\"fr\">"));
	assert_non_null(strstr(ctx.r.body.data,
	    "Gestionnaire de certificats"));
	assert_non_null(strstr(ctx.r.body.data, "</html>"));
	assert_int_equal(ctx.r.page_open, 0);
	assert_string_equal(L(&ctx.r, "en", "fr"), "fr");
	free(h);
	web_ctx_free(&ctx);
}

static void
test_layout(void **state)
{
	static const char *const values[] = { "en", "fr" };
	static const char *const labels[] = { "English", "Fran\"ais" };
	struct web_ctx ctx;
	const char *b;

	(void)state;
	/* anonymous: the pre-session token in forms */
	web_ctx_init(&ctx);
	ctx.r.path = xstrdup("/login");
	ctx.r.pre_token = xstrdup("pre\"tok");
	web_flash(&ctx.r, "Saved <ok>");
	page_begin(&ctx.r, "Sign <in>");
	form_begin(&ctx.r, "/login?next=\"x\"", 0);
	form_input(&ctx.r, "email", "email", "E-mail", "a\"b@c", 1);
	form_input(&ctx.r, "password", "password", "Password", "secret", 1);
	form_select(&ctx.r, "lang", "Language", values, labels, 2, "fr");
	form_submit(&ctx.r, "Go");
	web_raw(&ctx.r, "</form>");
	web_badge(&ctx.r, "VALID\"><script>");
	page_end(&ctx.r);
	b = ctx.r.body.data;
	assert_non_null(strstr(b, "<title>Sign &lt;in&gt; - Certificate "
	    "manager</title>"));
	assert_non_null(strstr(b, "<p class=\"flash\" role=\"status\">Saved "
	    "&lt;ok&gt;</p>"));
	assert_int_equal(ctx.flash_shown, 1);
	assert_null(ctx.new_flash);
	assert_non_null(strstr(b, "action=\"/login?next=&quot;x&quot;\">"));
	assert_non_null(strstr(b, "name=\"csrf\" value=\"pre&quot;tok\""));
	assert_non_null(strstr(b, "value=\"a&quot;b@c\" required"));
	assert_null(strstr(b, "secret"));
	assert_non_null(strstr(b, "<option value=\"fr\" selected>"
	    "Fran&quot;ais</option>"));
	assert_non_null(strstr(b, "<span class=\"badge badge-validscript\">"
	    "VALID&quot;&gt;&lt;script&gt;</span>"));
	assert_non_null(strstr(b, "href=\"/login\""));	/* anonymous nav */
	assert_null(strstr(b, "/logout"));
	assert_non_null(strstr(b, "href=\"?lang=fr\""));
	assert_non_null(strstr(b, "<link rel=\"stylesheet\" href=\"/static/"
	    "site.css?v="));
	assert_non_null(strstr(b, "<link rel=\"icon\" type=\"image/svg+xml\" "
	    "href=\"/static/favicon.svg?v="));
	web_ctx_free(&ctx);

	/* signed in: the session's token, the navigation, sign-out */
	web_ctx_init(&ctx);
	ctx.r.path = xstrdup("/documents/3");
	ctx.r.pre_token = xstrdup("pre-token");
	ctx.r.sess.kind = AUTH_CUSTOMER;
	ctx.r.sess.email = xstrdup("bob@example.com");
	ctx.r.sess.csrf = xstrdup("session-token");
	ctx.r.sess.flash = xstrdup("from the session");
	page_begin(&ctx.r, "Documents");
	form_begin(&ctx.r, "/documents", 1);
	page_end(&ctx.r);
	b = ctx.r.body.data;
	assert_non_null(strstr(b, "enctype=\"multipart/form-data\""));
	assert_non_null(strstr(b, "value=\"session-token\""));
	assert_null(strstr(b, "pre-token"));
	assert_non_null(strstr(b, "<a href=\"/documents\" aria-current="
	    "\"page\">Documents</a>"));
	assert_non_null(strstr(b, "action=\"/logout\""));
	assert_non_null(strstr(b, "from the session"));
	assert_non_null(strstr(b, "bob@example.com"));
	web_ctx_free(&ctx);

	/* the office */
	web_ctx_init(&ctx);
	ctx.r.area = AREA_OFFICE;
	ctx.r.path = xstrdup("/office/");
	ctx.r.sess.kind = AUTH_OPERATOR;
	ctx.r.sess.name = xstrdup("alice");
	ctx.r.sess.csrf = xstrdup("op-token");
	page_begin(&ctx.r, NULL);
	page_end(&ctx.r);
	b = ctx.r.body.data;
	assert_non_null(strstr(b, "<title>Back office</title>"));
	assert_non_null(strstr(b, "<a href=\"/office/\" aria-current=\"page\">"
	    "Queue</a>"));
	assert_non_null(strstr(b, "action=\"/office/logout\""));
	assert_non_null(strstr(b, "<body class=\"office\">"));
	assert_non_null(strstr(web_actor(&ctx.r), "operator:alice"));
	web_ctx_free(&ctx);

	/* the stylesheet */
	web_ctx_init(&ctx);
	web_serve_css(&ctx.r);
	assert_int_equal(ctx.r.raw_body, 1);
	assert_string_equal(ctx.r.content_type, "text/css; charset=utf-8");
	assert_non_null(strstr(ctx.r.body.data, ".badge"));
	b = web_response_headers(&ctx.r);
	assert_true(has_line(b, "Cache-Control: public, max-age=31536000, "
	    "immutable"));
	assert_null(strstr(b, "no-store"));
	free((char *)b);
	web_ctx_free(&ctx);

	/* the icon, at its versioned URL and at /favicon.ico */
	web_ctx_init(&ctx);
	ctx.r.path = xstrdup("/static/favicon.svg");
	web_serve_favicon(&ctx.r);
	assert_int_equal(ctx.r.raw_body, 1);
	assert_string_equal(ctx.r.content_type, "image/svg+xml");
	assert_true(ctx.r.body.len > 0 && strncmp(ctx.r.body.data, "<svg ",
	    5) == 0);
	assert_non_null(strstr(ctx.r.body.data, "</svg>"));
	b = web_response_headers(&ctx.r);
	assert_true(has_line(b, "Cache-Control: public, max-age=31536000, "
	    "immutable"));
	free((char *)b);
	web_ctx_free(&ctx);
	web_ctx_init(&ctx);
	ctx.r.path = xstrdup("/favicon.ico");
	web_serve_favicon(&ctx.r);
	assert_string_equal(ctx.r.content_type, "image/svg+xml");
	b = web_response_headers(&ctx.r);
	assert_true(has_line(b, "Cache-Control: public, max-age=86400"));
	assert_null(strstr(b, "immutable"));
	free((char *)b);
	web_ctx_free(&ctx);
	assert_int_equal(strncmp(web_favicon_url(), "/static/favicon.svg?v=",
	    22), 0);
	assert_string_equal(web_favicon_url(), web_favicon_url());
}

/* A file over web_upload_max: a 413 page that states the limit, in the
 * page's language, in the largest unit that divides it exactly. */
static void
test_too_large(void **state)
{
	static const struct {
		long		 bytes;
		enum web_lang	 lang;
		const char	*size, *page;
	} cases[] = {
		{ 5242880, LANG_EN, "5 MiB",
		    "The file is too large: the limit is 5 MiB." },
		{ 5242880, LANG_FR, "5 Mio",
		    "Le fichier est trop volumineux : la limite est de 5 Mio." },
		{ 104857600, LANG_EN, "100 MiB",
		    "The file is too large: the limit is 100 MiB." },
		{ 1536 * 1024, LANG_EN, "1536 KiB",
		    "The file is too large: the limit is 1536 KiB." },
		{ 2048, LANG_FR, "2 Kio",
		    "Le fichier est trop volumineux : la limite est de 2 Kio." },
		{ 5000000, LANG_EN, "5000000 bytes",
		    "The file is too large: the limit is 5000000 bytes." },
		{ 1500, LANG_FR, "1500 octets",
		    "Le fichier est trop volumineux : la limite est de 1500 "
		    "octets." },
	};
	struct web_ctx ctx;
	char buf[48];
	char *h;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		web_ctx_init(&ctx);
		ctx.r.lang = cases[i].lang;
		web_size_text(&ctx.r, cases[i].bytes, buf, sizeof(buf));
		if (strcmp(buf, cases[i].size) != 0)
			fail_msg("%ld bytes: got \"%s\", want \"%s\"",
			    cases[i].bytes, buf, cases[i].size);
		web_raw(&ctx.r, "discarded");
		web_error_too_large(&ctx.r, cases[i].bytes);
		if (ctx.r.status != 413 || strstr(ctx.r.body.data,
		    cases[i].page) == NULL)
			fail_msg("%ld bytes: got %d\n%s\nwant 413 and \"%s\"",
			    cases[i].bytes, ctx.r.status, ctx.r.body.data,
			    cases[i].page);
		assert_null(strstr(ctx.r.body.data, "discarded"));
		h = web_response_headers(&ctx.r);
		assert_true(has_line(h, "Status: 413 Payload Too Large"));
		assert_true(has_line(h, "Cache-Control: no-store"));
		free(h);
		web_ctx_free(&ctx);
	}
}

static void
test_actor(void **state)
{
	struct web_ctx ctx;
	const char *a, *b;

	(void)state;
	web_ctx_init(&ctx);
	a = web_actor(&ctx.r);
	assert_string_equal(a, "web:anonymous");
	assert_ptr_equal(web_actor(&ctx.r), a);
	ctx.r.sess.kind = AUTH_CUSTOMER;
	ctx.r.sess.email = xstrdup("bob@example.com");
	b = web_actor(&ctx.r);
	assert_string_equal(b, "web:bob@example.com");
	assert_string_equal(a, "web:anonymous");	/* still valid */
	web_ctx_free(&ctx);
}

static void
test_passwd(void **state)
{
	static const char *const malformed[] = {
		"",
		"scrypt",
		"scrypt$",
		"bcrypt$10$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"scrypt$9$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",	/* log_n */
		"scrypt$21$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"scrypt$010$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"scrypt$10$0$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",	/* r */
		"scrypt$10$33$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"scrypt$10$8$0$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",	/* p */
		"scrypt$10$8$1$$aGFzaGhhc2hoYXNoaGFzaA",		/* salt */
		"scrypt$10$8$1$c2FsdA$aGFzaGhhc2hoYXNoaGFzaA",	/* short */
		"scrypt$10$8$1$c2FsdHNhbHQ$",				/* hash */
		"scrypt$10$8$1$c2FsdHNhbHQ$aGFzaA",			/* short */
		"scrypt$10$8$1$c2FsdHNhbHQ=$aGFzaGhhc2hoYXNoaGFzaA",	/* pad */
		"scrypt$10$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA$x",
		"scrypt$-10$8$1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"scrypt$10$8$1",
	};
	static const struct {
		const char *pw;
		int want;
	} acceptable[] = {
		{ "correct horse", 1 },
		{ "123456789012", 1 },
		{ "12345678901", 0 },
		{ "éééééééééééé", 1 },		/* 12 characters */
		{ "ééééééééééé", 0 },		/* 11, though 22 bytes */
		{ "with\ttab in it", 0 },
		{ "invalid \xff utf-8 text", 0 },
		{ "truncated utf-8 \xc3", 0 },
		{ "", 0 },
	};
	char *h, *h2, *t, big[PASSWD_MAX_BYTES + 2];
	size_t i;

	(void)state;
	h = passwd_hash("correct horse battery", 10);
	assert_non_null(h);
	assert_int_equal(strncmp(h, "scrypt$10$8$1$", 14), 0);
	assert_int_equal(passwd_verify("correct horse battery", h), 1);
	assert_int_equal(passwd_verify("correct horse batterY", h), 0);
	assert_int_equal(passwd_verify("", h), 0);
	assert_int_equal(passwd_verify(NULL, h), 0);
	assert_int_equal(passwd_verify("correct horse battery", NULL), 0);
	/* a fresh salt each time */
	h2 = passwd_hash("correct horse battery", 10);
	assert_string_not_equal(h, h2);
	assert_int_equal(passwd_verify("correct horse battery", h2), 1);
	free(h2);
	/* tampered: one character of the hash, of the salt, the cost */
	t = xstrdup(h);
	t[strlen(t) - 3] = t[strlen(t) - 3] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify("correct horse battery", t), 0);
	free(t);
	t = xstrdup(h);
	t[15] = t[15] == 'A' ? 'B' : 'A';
	assert_int_equal(passwd_verify("correct horse battery", t), 0);
	free(t);
	t = xstrdup(h);
	t[8] = '1';	/* scrypt$11$ */
	assert_int_equal(passwd_verify("correct horse battery", t), 0);
	free(t);
	free(h);
	for (i = 0; i < NELEM(malformed); i++)
		if (passwd_verify("password", malformed[i]) != 0)
			fail_msg("malformed hash %s accepted", malformed[i]);
	assert_null(passwd_hash("x", 9));
	assert_null(passwd_hash("x", 21));
	assert_null(passwd_hash(NULL, 10));
	for (i = 0; i < NELEM(acceptable); i++)
		if (passwd_acceptable(acceptable[i].pw) != acceptable[i].want)
			fail_msg("acceptable \"%s\": got %d, want %d",
			    acceptable[i].pw, !acceptable[i].want,
			    acceptable[i].want);
	memset(big, 'a', sizeof(big));
	big[PASSWD_MAX_BYTES] = '\0';
	assert_int_equal(passwd_acceptable(big), 1);
	big[PASSWD_MAX_BYTES] = 'a';
	big[PASSWD_MAX_BYTES + 1] = '\0';
	assert_int_equal(passwd_acceptable(big), 0);
	assert_int_equal(passwd_acceptable(NULL), 0);
}

/* --- the corpus of the web fuzz targets -------------------------------- */

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
};

/* Runs one target on every file of its corpus (at least one). */
static void
replay(void **state)
{
	const struct target *t = *state;
	char dir[256], path[512];
	struct dirent *de;
	struct stat st;
	uint8_t *buf;
	FILE *f;
	long n;
	DIR *d;
	int count = 0;

	snprintf(dir, sizeof(dir), "tests/fuzz/corpus/%s", t->name);
	if ((d = opendir(dir)) == NULL)
		fail_msg("no corpus %s (run from the source tree)", dir);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if ((f = fopen(path, "rb")) == NULL)
			fail_msg("cannot open %s", path);
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		buf = xmalloc(n > 0 ? (size_t)n : 1);
		if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
			fail_msg("cannot read %s", path);
		fclose(f);
		if (t->one(buf, (size_t)n) != 0)
			fail_msg("%s: target returned non-zero", path);
		free(buf);
		count++;
	}
	closedir(d);
	if (count == 0)
		fail_msg("corpus %s is empty", dir);
}

int
main(void)
{
	static const struct target targets[] = {
		{ "web_form", fuzz_web_form },
		{ "web_multipart", fuzz_web_multipart },
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_many),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_multipart_limits),
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_cert_fingerprint),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_actor),
		cmocka_unit_test(test_passwd),
		cmocka_unit_test_prestate(replay, (void *)&targets[0]),
		cmocka_unit_test_prestate(replay, (void *)&targets[1]),
	};

	log_init("test_web", LOG_LVL__MAX);
	if (!config_load(NULL))
		return 1;
	return cmocka_run_group_tests_name("web", tests, NULL, NULL);
}
