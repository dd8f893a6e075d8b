/*
 * test_smtp.c - the SMTP client's parsers and encoders (common/smtp.c):
 * replies (untrusted input), EHLO extensions, addresses, dot-stuffing,
 * header encoding (RFC 2047), quoted-printable, whole messages; and the
 * notification templates (common/notify.c), the shipped ones included.
 * Run from the top of the source tree (it reads worker/templates).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "jsonutil.h"
#include "notify.h"
#include "smtp.h"
#include "util.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------- replies */

static void
test_reply_parse(void **state)
{
	static const struct {
		const char	*in;
		long		 want;	/* bytes taken, 0 more, -1 bad */
		int		 code;
		size_t		 nlines;
		const char	*last;	/* text of the last line */
	} cases[] = {
		{ "220 mail.example ESMTP ready\r\n", 30, 220, 1,
		    "mail.example ESMTP ready" },
		{ "250-mail.example\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n",
		    48, 250, 3, "AUTH PLAIN" },
		{ "250\r\n", 5, 250, 1, "" },
		{ "354-\r\n354 go\r\n", 14, 354, 2, "go" },
		{ "250 ok\n", 7, 250, 1, "ok" },
		{ "250 ok\r\nEXTRA", 8, 250, 1, "ok" },
		{ "550 5.1.1 <x@y>: \xc3\xa9t\xc3\xa9\r\n", 24, 550, 1,
		    "5.1.1 <x@y>: \xc3\xa9t\xc3\xa9" },
		/* not complete yet */
		{ "", 0, 0, 0, NULL },
		{ "2", 0, 0, 0, NULL },
		{ "25", 0, 0, 0, NULL },
		{ "250", 0, 0, 0, NULL },
		{ "250-a\r\n", 0, 0, 0, NULL },
		{ "250-a\r\n250", 0, 0, 0, NULL },
		{ "250 partial text", 0, 0, 0, NULL },
		/* malformed */
		{ "HTTP/1.1 400 Bad Request\r\n", -1, 0, 0, NULL },
		{ "H", -1, 0, 0, NULL },
		{ "199 x\r\n", -1, 0, 0, NULL },
		{ "600 x\r\n", -1, 0, 0, NULL },
		{ "260 x\r\n", -1, 0, 0, NULL },
		{ "2a0 x\r\n", -1, 0, 0, NULL },
		{ "250x\r\n", -1, 0, 0, NULL },
		{ "25\r\n", -1, 0, 0, NULL },
		{ "\r\n", -1, 0, 0, NULL },
		{ "250-a\r\n251 b\r\n", -1, 0, 0, NULL },
		{ "250-a\r\n251", -1, 0, 0, NULL },
		{ "250-a\r\n550-b", -1, 0, 0, NULL },
		{ "250 a\rb\r\n", -1, 0, 0, NULL },
		{ "250 a\r\r\n", -1, 0, 0, NULL },
		{ " 250 a\r\n", -1, 0, 0, NULL },
	};
	struct smtp_reply r;
	size_t i;
	long got;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		got = smtp_reply_parse(cases[i].in, strlen(cases[i].in), &r);
		if (got != cases[i].want)
			fail_msg("reply %zu %s: got %ld, want %ld", i,
			    cases[i].in, got, cases[i].want);
		if (got > 0) {
			if (r.code != cases[i].code ||
			    r.nlines != cases[i].nlines ||
			    strcmp(r.lines[r.nlines - 1], cases[i].last) != 0)
				fail_msg("reply %zu: got %d, %zu lines, \"%s\"; "
				    "want %d, %zu, \"%s\"", i, r.code,
				    r.nlines, r.lines[r.nlines - 1],
				    cases[i].code, cases[i].nlines,
				    cases[i].last);
		} else if (r.nlines != 0 || r.code != 0)
			fail_msg("reply %zu: not cleared", i);
		smtp_reply_clear(&r);
	}
}

/* Limits: NUL bytes, line length, number of lines, total size. */
static void
test_reply_limits(void **state)
{
	struct smtp_reply r;
	char *buf;
	size_t i, n;

	(void)state;
	assert_int_equal(smtp_reply_parse("250 a\0b\r\n", 9, &r), -1);
	assert_int_equal(smtp_reply_parse("250 a\0", 6, &r), -1);

	/* a line of SMTP_LINE_MAX bytes with its CRLF is fine, one more
	 * is not; so is an unfinished line that long */
	buf = xmalloc(SMTP_LINE_MAX + 2);
	memset(buf, 'x', SMTP_LINE_MAX + 1);
	memcpy(buf, "250 ", 4);
	memcpy(buf + SMTP_LINE_MAX - 2, "\r\n", 2);
	assert_int_equal(smtp_reply_parse(buf, SMTP_LINE_MAX, &r),
	    SMTP_LINE_MAX);
	smtp_reply_clear(&r);
	memcpy(buf + SMTP_LINE_MAX - 2, "xx\r\n", 4);
	assert_int_equal(smtp_reply_parse(buf, SMTP_LINE_MAX + 1, &r), -1);
	memset(buf + 4, 'x', SMTP_LINE_MAX - 4);
	assert_int_equal(smtp_reply_parse(buf, SMTP_LINE_MAX - 1, &r), 0);
	assert_int_equal(smtp_reply_parse(buf, SMTP_LINE_MAX, &r), -1);
	free(buf);

	/* SMTP_REPLY_LINES lines, then one more */
	buf = xmalloc(8 * (SMTP_REPLY_LINES + 2));
	for (i = 0, n = 0; i < SMTP_REPLY_LINES; i++)
		n += (size_t)sprintf(buf + n, "250%c%02zu\r\n",
		    i + 1 < SMTP_REPLY_LINES ? '-' : ' ', i % 100);
	assert_int_equal(smtp_reply_parse(buf, n, &r), (long)n);
	assert_int_equal(r.nlines, SMTP_REPLY_LINES);
	smtp_reply_clear(&r);
	buf[n - 5] = '-';
	n += (size_t)sprintf(buf + n, "250 xx\r\n");
	assert_int_equal(smtp_reply_parse(buf, n, &r), -1);
	free(buf);

	/* more than SMTP_REPLY_MAX bytes in all */
	buf = xmalloc(SMTP_REPLY_MAX + 1024);
	for (n = 0; n < SMTP_REPLY_MAX; ) {
		memcpy(buf + n, "250-", 4);
		memset(buf + n + 4, 'y', 500);
		memcpy(buf + n + 504, "\r\n", 2);
		n += 506;
	}
	assert_int_equal(smtp_reply_parse(buf, n, &r), -1);
	assert_int_equal(smtp_reply_parse(buf, SMTP_REPLY_MAX - 1, &r), 0);
	free(buf);
}

/* Every prefix of a valid reply is "not complete yet"; the whole of it
 * is taken; random bytes never take more than they are. */
static void
test_reply_prefixes(void **state)
{
	static const char *const replies[] = {
		"220 mail.example ESMTP\r\n",
		"250-mail.example\r\n250-SIZE 1000\r\n250 HELP\r\n",
		"354\n",
		"535 5.7.8 Authentication credentials invalid\r\n",
	};
	struct smtp_reply r;
	unsigned char buf[64];
	size_t i, n, len;
	long got;

	(void)state;
	for (i = 0; i < NELEM(replies); i++) {
		len = strlen(replies[i]);
		for (n = 0; n < len; n++) {
			got = smtp_reply_parse(replies[i], n, &r);
			if (got != 0)
				fail_msg("reply %zu, %zu of %zu bytes: got %ld",
				    i, n, len, got);
		}
		assert_int_equal(smtp_reply_parse(replies[i], len, &r),
		    (long)len);
		smtp_reply_clear(&r);
	}
	for (i = 0; i < 20000; i++) {
		rand_bytes(buf, sizeof(buf));
		n = buf[0] % sizeof(buf);
		/* mostly digits and line ends, to get past the first checks */
		for (len = 1; len < n; len++)
			if (buf[len] < 0xa0)
				buf[len] = (unsigned char)"250- \r\n"[buf[len] % 7];
		got = smtp_reply_parse((const char *)buf + 1, n > 0 ? n - 1 : 0,
		    &r);
		assert_true(got >= -1 && got <= (long)n);
		if (got > 0)
			assert_true(r.nlines > 0 && r.code >= 200 &&
			    r.code <= 559);
		smtp_reply_clear(&r);
	}
}

static void
test_ehlo(void **state)
{
	static const struct {
		const char	*lines[6];
		unsigned	 want;
	} cases[] = {
		{ { "mail.example", "PIPELINING", "8BITMIME", "STARTTLS",
		    "AUTH PLAIN LOGIN", NULL }, SMTP_EXT_8BITMIME |
		    SMTP_EXT_STARTTLS | SMTP_EXT_AUTH_PLAIN |
		    SMTP_EXT_AUTH_LOGIN },
		{ { "mail.example", "starttls", "auth=login", NULL },
		    SMTP_EXT_STARTTLS | SMTP_EXT_AUTH_LOGIN },
		{ { "mail.example", "AUTH CRAM-MD5 PLAIN", NULL },
		    SMTP_EXT_AUTH_PLAIN },
		{ { "mail.example", "STARTTLSX", "AUTH PLAINX LOGINY",
		    "XAUTH PLAIN", NULL }, 0 },
		/* the greeting line is not an extension */
		{ { "STARTTLS", NULL }, 0 },
		{ { NULL }, 0 },
	};
	struct smtp_reply r;
	size_t i, k;
	unsigned got;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(&r, 0, sizeof(r));
		r.code = 250;
		for (k = 0; cases[i].lines[k] != NULL; k++)
			r.lines[r.nlines++] = (char *)cases[i].lines[k];
		got = smtp_ehlo_parse(&r);
		if (got != cases[i].want)
			fail_msg("ehlo %zu: got %#x, want %#x", i, got,
			    cases[i].want);
	}
}

/* ----------------------------------------------------------- addresses */

static void
test_addresses(void **state)
{
	static const struct {
		const char	*in;
		int		 want;
	} cases[] = {
		{ "pki@example.org", 1 },
		{ "first.last+tag@sub.example.org", 1 },
		{ "a@[192.0.2.1]", 1 },
		{ "", 0 },
		{ "example.org", 0 },
		{ "@example.org", 0 },
		{ "pki@", 0 },
		{ "a@b@c", 0 },
		{ "a b@example.org", 0 },
		{ "a@example.org>", 0 },
		{ "<a@example.org", 0 },
		{ "a@example.org\r\nRCPT TO:<b@x>", 0 },
		{ "a\"b@example.org", 0 },
		{ "\xc3\xa9@example.org", 0 },
	};
	char *addr, *display;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++)
		if (smtp_address_ok(cases[i].in) != cases[i].want)
			fail_msg("address %zu %s: got %d", i, cases[i].in,
			    !cases[i].want);

	assert_int_equal(smtp_from_parse("acme@ca.example", &addr,
	    &display), 1);
	assert_string_equal(addr, "acme@ca.example");
	assert_null(display);
	free(addr);
	assert_int_equal(smtp_from_parse(" \"Certigna ACME\" <acme@ca.example> ",
	    &addr, &display), 1);
	assert_string_equal(addr, "acme@ca.example");
	assert_string_equal(display, "Certigna ACME");
	free(addr);
	free(display);
	assert_int_equal(smtp_from_parse("Autorit\xc3\xa9 <a@b.c>", &addr,
	    &display), 1);
	assert_string_equal(display, "Autorit\xc3\xa9");
	free(addr);
	free(display);
	assert_int_equal(smtp_from_parse("Name <a@b.c> trailing", &addr,
	    &display), 0);
	assert_int_equal(smtp_from_parse("Name <a b@c>", &addr, &display), 0);
	assert_int_equal(smtp_from_parse("", &addr, &display), 0);
	assert_null(addr);
}

/* ------------------------------------------------------------ encoding */

static void
test_dot_stuff(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "", ".\r\n" },
		{ "a", "a\r\n.\r\n" },
		{ "a\n", "a\r\n.\r\n" },
		{ "a\r\nb\r\n", "a\r\nb\r\n.\r\n" },
		{ ".", "..\r\n.\r\n" },
		{ ".\n", "..\r\n.\r\n" },
		{ "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n" },
		{ "a\r\n.\r\n", "a\r\n..\r\n.\r\n" },
		{ "..x\n", "...x\r\n.\r\n" },
		{ "x.y\n .z\n", "x.y\r\n .z\r\n.\r\n" },
		{ "a\rb\n", "a b\r\n.\r\n" },
		{ "\n\n", "\r\n\r\n.\r\n" },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		got = smtp_dot_stuff(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("dot-stuff %zu: got \"%s\", want \"%s\"", i,
			    got, cases[i].want);
		free(got);
	}
}

/* Decodes a header made by smtp_header back to its value: unfolds it and
 * decodes its encoded-words (adjacent words joined, as RFC 2047 6.2
 * says). Caller frees. */
static char *
header_decode(const char *h, const char *name)
{
	char *out = xcalloc(1, strlen(h) + 1), *o = out;
	const char *p, *q;
	unsigned char dec[128];
	int n, prev_word = 0;

	assert_int_equal(strncmp(h, name, strlen(name)), 0);
	p = h + strlen(name) + 2;
	while (*p != '\0') {
		if (strncmp(p, "\r\n", 2) == 0) {
			p += 2;
			assert_true(*p == ' ' || *p == '\t');
			continue;
		}
		if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
			q = strstr(p + 10, "?=");
			assert_non_null(q);
			assert_true(q - p - 10 <= 96);
			n = EVP_DecodeBlock(dec, (const unsigned char *)p + 10,
			    (int)(q - p - 10));
			assert_true(n >= 0);
			/* EVP_DecodeBlock counts the padding's bytes */
			if (q - p - 10 >= 2 && q[-1] == '=')
				n--;
			if (q - p - 10 >= 2 && q[-2] == '=')
				n--;
			if (prev_word && o > out && o[-1] == ' ')
				o--;
			memcpy(o, dec, (size_t)n);
			o += n;
			p = q + 2;
			prev_word = 1;
			continue;
		}
		if (*p != ' ')
			prev_word = 0;
		*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* Checks that every line of h is at most max characters. */
static void
check_width(const char *h, size_t max, const char *what)
{
	const char *p = h, *e;

	for (;;) {
		e = strstr(p, "\r\n");
		if ((size_t)((e != NULL ? e : p + strlen(p)) - p) > max)
			fail_msg("%s: line over %zu characters: %s", what, max,
			    h);
		if (e == NULL)
			break;
		p = e + 2;
	}
}

static void
test_header(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* decoded; NULL: the input */
		int		 encoded;
	} cases[] = {
		{ "3 certificates issued", NULL, 0 },
		{ "Demo: a subject long enough to be folded at a space somewhere "
		    "before the seventy-eighth column of its line, twice over at "
		    "least, for the test", NULL, 0 },
		{ "Demo : 3 certificats \xc3\xa9mis ces derni\xc3\xa8res 24 heures",
		    NULL, 1 },
		{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe4\xbb\xb6"
		    "\xe5\x90\x8d\xe3\x81\xa7\xe3\x81\x99\xe3\x80\x82\xe9\x95\xb7"
		    "\xe3\x81\x84\xe4\xbb\xb6\xe5\x90\x8d\xe3\x81\xaf\xe5\x88\x86"
		    "\xe5\x89\xb2\xe3\x81\x95\xe3\x82\x8c\xe3\x81\xbe\xe3\x81\x99"
		    "\xf0\x9f\x98\x80 \xc3\xa9t\xc3\xa9 \xc3\xa9t\xc3\xa9 \xc3\xa9t"
		    "\xc3\xa9", NULL, 1 },
		/* header injection: one header whatever the value holds */
		{ "hello\r\nBcc: victim@example.org", "hello  Bcc: "
		    "victim@example.org", 0 },
		{ "  spaces around  ", "spaces around", 0 },
		{ "bad \xff byte \xc3", "bad ? byte ?", 0 },
		{ "tab\there", "tab here", 0 },
	};
	char *h, *v;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		h = smtp_header("Subject", cases[i].in);
		if (strchr(h, '\n') != NULL && strstr(h, "\r\n ") == NULL)
			fail_msg("header %zu: bare line end: %s", i, h);
		if ((strstr(h, "=?UTF-8?B?") != NULL) != cases[i].encoded)
			fail_msg("header %zu: encoded %d: %s", i,
			    !cases[i].encoded, h);
		check_width(h, 78, "header");
		v = header_decode(h, "Subject");
		if (strcmp(v, cases[i].want != NULL ? cases[i].want :
		    cases[i].in) != 0)
			fail_msg("header %zu: decodes to \"%s\"", i, v);
		free(v);
		free(h);
	}
}

static void
test_qp(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} cases[] = {
		{ "", "" },
		{ "plain\n", "plain\r\n" },
		{ "caf\xc3\xa9\n", "caf=C3=A9\r\n" },
		{ "a=b\r\n", "a=3Db\r\n" },
		{ "trailing \n", "trailing=20\r\n" },
		{ "tab\t\n", "tab=09\r\n" },
		{ "in side\n", "in side\r\n" },
		{ "no newline", "no newline\r\n" },
		{ "bare\rcr\n", "bare=0Dcr\r\n" },
	};
	char *got, *long_line;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		got = smtp_qp_encode(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("qp %zu: got \"%s\", want \"%s\"", i, got,
			    cases[i].want);
		free(got);
	}
	/* a long line of escapes: soft breaks, never inside an escape */
	long_line = xmalloc(301);
	for (i = 0; i < 150; i++)
		memcpy(long_line + 2 * i, "\xc3\xa9", 2);
	long_line[300] = '\0';
	got = smtp_qp_encode(long_line);
	check_width(got, 76, "qp");
	for (i = 0; got[i] != '\0'; i++)
		if (got[i] == '=' && strncmp(got + i, "=\r\n", 3) != 0)
			assert_true(strncmp(got + i, "=C3", 3) == 0 ||
			    strncmp(got + i, "=A9", 3) == 0);
	free(got);
	free(long_line);
}

static void
test_message(void **state)
{
	char *m;

	(void)state;
	m = smtp_message("\"Certigna ACME\" <acme@ca.example>",
	    "pki@example.org", "3 certificates issued",
	    "Hello,\n.\nbye\n", 1773554400, "tok-1");
	assert_non_null(m);
	assert_non_null(strstr(m, "Date: Sun, 15 Mar 2026 06:00:00 +0000\r\n"));
	assert_non_null(strstr(m, "\r\nFrom: \"Certigna ACME\" "
	    "<acme@ca.example>\r\n"));
	assert_non_null(strstr(m, "\r\nTo: pki@example.org\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: 3 certificates issued\r\n"));
	assert_non_null(strstr(m, "\r\nMessage-ID: <tok-1@ca.example>\r\n"));
	assert_non_null(strstr(m, "\r\nMIME-Version: 1.0\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Type: text/plain; "
	    "charset=UTF-8\r\n"));
	assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: 7bit\r\n"
	    "\r\nHello,\r\n.\r\nbye\r\n"));
	free(m);

	m = smtp_message("acme@ca.example", "pki@example.org",
	    "Certificats \xc3\xa9mis", "Num\xc3\xa9ro de s\xc3\xa9rie\n",
	    0, "t");
	assert_non_null(m);
	assert_non_null(strstr(m, "\r\nFrom: acme@ca.example\r\n"));
	assert_non_null(strstr(m, "\r\nSubject: =?UTF-8?B?"));
	assert_non_null(strstr(m, "\r\nContent-Transfer-Encoding: "
	    "quoted-printable\r\n\r\nNum=C3=A9ro de s=C3=A9rie\r\n"));
	assert_null(strstr(m, "\xc3"));
	free(m);

	m = smtp_message("Autorit\xc3\xa9 <acme@ca.example>",
	    "pki@example.org", "s", "b", 0, "t");
	assert_non_null(strstr(m, "\r\nFrom: =?UTF-8?B?"));
	assert_non_null(strstr(m, "?= <acme@ca.example>\r\n"));
	free(m);

	assert_null(smtp_message("not an address", "pki@example.org", "s",
	    "b", 0, "t"));
	assert_null(smtp_message("a@b.c", "pki@example.org>\r\nBcc: x@y",
	    "s", "b", 0, "t"));
}

/* ----------------------------------------------------------- templates */

static json_object *
parse(const char *s)
{
	json_object *o = json_parse_strict(s, strlen(s));

	assert_non_null(o);
	return o;
}

static void
test_render(void **state)
{
	static const char data[] = "{\"org\": \"Example SA\", \"count\": 2, "
	    "\"empty\": \"\", \"none\": null, \"url\": \"https://x.test\", "
	    "\"items\": [{\"serial\": \"0a\", \"names\": \"a.test\"}, "
	    "{\"serial\": \"0b\", \"names\": \"b.test\", \"org\": \"Inner\"}],"
	    " \"nothing\": []}";
	static const struct {
		const char	*tpl;
		const char	*subject;	/* NULL: refused */
		const char	*body;
	} cases[] = {
		{ "Subject: {{count}} for {{ org }}\n\nHello {{org}}\n",
		    "2 for Example SA", "Hello Example SA\n" },
		{ "Subject: s\n{{#items}}\n- {{serial}} {{names}} {{org}}\n"
		    "{{/items}}\nend\n", "s",
		    "- 0a a.test Example SA\n- 0b b.test Inner\nend\n" },
		{ "Subject: s\nA{{#nothing}}x{{/nothing}}B\n", "s", "AB\n" },
		{ "Subject: s\n{{#url}}at {{url}}{{/url}}"
		    "{{^url}}nowhere{{/url}}\n", "s", "at https://x.test\n" },
		{ "Subject: s\n{{#empty}}x{{/empty}}{{^empty}}e{{/empty}}"
		    "{{^none}}n{{/none}}{{^nothing}}z{{/nothing}}|{{none}}|\n",
		    "s", "enz||\n" },
		{ "Subject: s\n{{! a comment\n  on two lines }}\n\n\nbody\n\n\n",
		    "s", "body\n" },
		{ "Subject:    spaced   \n  indented\n", "spaced",
		    "  indented\n" },
		{ "Subject: {{#items}}{{serial}} {{/items}}\nb\n", "0a 0b",
		    "b\n" },
		{ "Subject: a\n  {{#items}}  \n{{serial}}\n  {{/items}}\t\nz\n",
		    "a", "0a\n0b\nz\n" },
		{ "Subject: {{org}}\n", "Example SA", "\n" },
		/* refused */
		{ "Hello\n", NULL, NULL },
		{ "subject: s\n", NULL, NULL },
		{ "Subject: {{unknown}}\n", NULL, NULL },
		{ "Subject: s\n{{orgs}}\n", NULL, NULL },
		{ "Subject: s\n{{items}}\n", NULL, NULL },
		{ "Subject: s\n{{#items}}x\n", NULL, NULL },
		{ "Subject: s\n{{/items}}\n", NULL, NULL },
		{ "Subject: s\n{{org\n", NULL, NULL },
		{ "Subject: s\n{{a-b}}\n", NULL, NULL },
		{ "Subject: {{empty}}\nbody\n", NULL, NULL },
	};
	json_object *d = parse(data);
	char *subject, *body, err[256];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		err[0] = '\0';
		rc = notify_render(cases[i].tpl, d, &subject, &body, err,
		    sizeof(err));
		if (rc != (cases[i].subject != NULL))
			fail_msg("render %zu: got %d (%s)", i, rc, err);
		if (!rc) {
			assert_null(subject);
			assert_null(body);
			if (err[0] == '\0')
				fail_msg("render %zu: refused without a reason",
				    i);
			continue;
		}
		if (strcmp(subject, cases[i].subject) != 0 ||
		    strcmp(body, cases[i].body) != 0)
			fail_msg("render %zu: got \"%s\" / \"%s\", want \"%s\" "
			    "/ \"%s\"", i, subject, body, cases[i].subject,
			    cases[i].body);
		free(subject);
		free(body);
	}
	json_object_put(d);
}

static void
test_days(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: refused */
	} cases[] = {
		{ "30,7,1", "{30,7,1}" },
		{ " 30 , 7 ", "{30,7}" },
		{ "", "{}" },
		{ "5", "{5}" },
		{ "0", NULL },
		{ "3651", NULL },
		{ "30,", NULL },
		{ ",30", NULL },
		{ "30;7", NULL },
		{ "-1", NULL },
		{ "7d", NULL },
		{ "99999999999999999999", NULL },
	};
	char *got;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		rc = notify_days_parse(cases[i].in, &got);
		if (rc != (cases[i].want != NULL) ||
		    (rc && strcmp(got, cases[i].want) != 0))
			fail_msg("days %zu \"%s\": got %d %s", i, cases[i].in,
			    rc, rc ? got : "");
		free(got);
	}
}

/* The shipped templates render the data the database gives them, with
 * what the customer needs to act. */
static void
test_shipped_templates(void **state)
{
	static const char *const langs[] = { "en", "fr" };
	static const char *const data[NK__MAX] = {
		[NK_CERTIFICATES_ISSUED] = "{\"organization\": \"Example SA\", "
		    "\"email\": \"pki@example.org\", \"count\": 1, "
		    "\"items\": [{\"serial\": \"5a0f\", \"names\": "
		    "\"www.example.org, example.org\", \"not_before\": \"NB\", "
		    "\"not_after\": \"NA\", \"issued\": \"IS\", "
		    "\"acme_account\": \"KID\"}]}",
		[NK_MISSING_DOCUMENTS] = "{\"organization\": \"Example SA\", "
		    "\"email\": \"pki@example.org\", \"account_status\": "
		    "\"PENDING\", \"count\": 1, \"items\": [{\"kind\": "
		    "\"REQUEST_FORM\", \"label\": \"LABEL\", \"state\": "
		    "\"STATE\"}]}",
		[NK_EXPIRING_DOCUMENTS] = "{\"organization\": \"Example SA\", "
		    "\"email\": \"pki@example.org\", \"count\": 1, "
		    "\"items\": [{\"id\": 4, \"kind\": \"ORGANIZATION_PROOF\", "
		    "\"label\": \"LABEL\", \"reference\": \"K-bis\", "
		    "\"domain\": null, \"expires\": \"EXP\", "
		    "\"days_left\": 7}]}",
		[NK_EXPIRING_CERTIFICATES] = "{\"organization\": \"Example SA\", "
		    "\"email\": \"pki@example.org\", \"count\": 1, "
		    "\"items\": [{\"serial\": \"5a0f\", \"names\": "
		    "\"www.example.org\", \"not_after\": \"NA\", "
		    "\"days_left\": 30, \"acme_account\": \"KID\"}]}",
	};
	static const char *const needles[NK__MAX][4] = {
		[NK_CERTIFICATES_ISSUED] = { "5a0f", "www.example.org, "
		    "example.org", "NA", "KID" },
		[NK_MISSING_DOCUMENTS] = { "LABEL", "REQUEST_FORM", "STATE",
		    "https://ca.test/documents" },
		[NK_EXPIRING_DOCUMENTS] = { "LABEL", "K-bis", "EXP",
		    "https://ca.test/documents" },
		[NK_EXPIRING_CERTIFICATES] = { "5a0f", "www.example.org", "NA",
		    "30" },
	};
	json_object *d;
	char *tpl, *subject, *body, err[512];
	size_t l, k, n;

	(void)state;
	for (l = 0; l < NELEM(langs); l++) {
		for (k = 0; k < NK__MAX; k++) {
			tpl = notify_template_load("worker/templates", langs[l],
			    notify_kinds[k], err, sizeof(err));
			if (tpl == NULL)
				fail_msg("%s (run from the source tree)", err);
			d = parse(data[k]);
			json_object_object_add(d, "documents_url",
			    json_object_new_string("https://ca.test/documents"));
			json_object_object_add(d, "base_url",
			    json_object_new_string("https://acme.test"));
			if (!notify_render(tpl, d, &subject, &body, err,
			    sizeof(err)))
				fail_msg("%s/%s: %s", langs[l], notify_kinds[k],
				    err);
			if (strstr(subject, "Example SA") == NULL)
				fail_msg("%s/%s: subject %s", langs[l],
				    notify_kinds[k], subject);
			for (n = 0; n < 4; n++)
				if (strstr(body, needles[k][n]) == NULL)
					fail_msg("%s/%s: no \"%s\" in:\n%s",
					    langs[l], notify_kinds[k],
					    needles[k][n], body);
			if (strstr(body, "{{") != NULL || body[0] == '\n')
				fail_msg("%s/%s: body:\n%s", langs[l],
				    notify_kinds[k], body);
			free(subject);
			free(body);
			free(tpl);
			json_object_put(d);
		}
	}
	assert_null(notify_template_load("worker/templates", "de",
	    "missing_documents", err, sizeof(err)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_limits),
		cmocka_unit_test(test_reply_prefixes),
		cmocka_unit_test(test_ehlo),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_dot_stuff),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_shipped_templates),
	};

	log_init("test_smtp", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
