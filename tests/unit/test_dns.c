/*
 * test_dns.c - the DNS layer (common/dns.c) and the challenge validators
 * (worker/http01.c, worker/dns01.c) against a mock dns_query() that
 * answers from a small in-memory zone with wire-format messages, and,
 * for http-01, a real HTTP server thread on 127.0.0.1.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "dns.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#include "mockdns.h"

static struct dns_resolver resolver;

static int
setup_zone(void **state)
{
	(void)state;
	mockdns_reset();
	assert_int_equal(dns_resolver_parse(&resolver, "127.0.0.1:53"), 1);
	return 0;
}

static int
teardown_zone(void **state)
{
	(void)state;
	mockdns_reset();
	return 0;
}

/* ------------------------------------------------------------------ */
/* dns_resolver_parse                                                  */

static void
test_resolver_parse(void **state)
{
	static const struct {
		const char	*spec;
		int		 ok;
		int		 nservers;
		const char	*last;		/* last server's address */
		int		 port;		/* last server's port */
	} cases[] = {
		{ NULL, 1, 0, NULL, 0 },
		{ "", 1, 0, NULL, 0 },
		{ "  ", 1, 0, NULL, 0 },
		{ "127.0.0.1", 1, 1, "127.0.0.1", 53 },
		{ "127.0.0.1:5353", 1, 1, "127.0.0.1", 5353 },
		{ " 10.0.0.1:53 , 10.0.0.2:65535 ", 1, 2, "10.0.0.2", 65535 },
		{ "1.1.1.1,2.2.2.2,3.3.3.3:54", 1, 3, "3.3.3.3", 54 },
		{ "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4", 0, 0, NULL, 0 },
		{ "localhost", 0, 0, NULL, 0 },
		{ "::1", 0, 0, NULL, 0 },
		{ "[::1]:53", 0, 0, NULL, 0 },
		{ "1.2.3.4:0", 0, 0, NULL, 0 },
		{ "1.2.3.4:65536", 0, 0, NULL, 0 },
		{ "1.2.3.4:", 0, 0, NULL, 0 },
		{ "1.2.3.4:53x", 0, 0, NULL, 0 },
		{ "1.2.3.4:-1", 0, 0, NULL, 0 },
		{ "1.2.3.4:+53", 0, 0, NULL, 0 },
		{ "1.2.3.4:99999999999999999999", 0, 0, NULL, 0 },
		{ "1.2.3", 0, 0, NULL, 0 },
		{ ",", 0, 0, NULL, 0 },
		{ "1.2.3.4,", 0, 0, NULL, 0 },
		{ "1.2.3.4,,5.6.7.8", 0, 0, NULL, 0 },
	};
	struct dns_resolver r;
	char addr[INET_ADDRSTRLEN];
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		got = dns_resolver_parse(&r, cases[i].spec);
		if (got != cases[i].ok)
			fail_msg("spec \"%s\": got %d, want %d",
			    cases[i].spec ? cases[i].spec : "(null)", got,
			    cases[i].ok);
		if (got != 1) {
			assert_int_equal(r.nservers, 0);
			continue;
		}
		assert_int_equal(r.nservers, cases[i].nservers);
		assert_int_equal(r.timeout, DNS_DEFAULT_TIMEOUT);
		assert_int_equal(r.attempts, DNS_DEFAULT_ATTEMPTS);
		if (cases[i].nservers == 0)
			continue;
		inet_ntop(AF_INET, &r.servers[r.nservers - 1].sin_addr, addr,
		    sizeof(addr));
		assert_string_equal(addr, cases[i].last);
		assert_int_equal(r.servers[r.nservers - 1].sin_family,
		    AF_INET);
		assert_int_equal(ntohs(r.servers[r.nservers - 1].sin_port),
		    cases[i].port);
	}
}

/* ------------------------------------------------------------------ */
/* dns_txt                                                             */

static void
test_txt_multi_string(void **state)
{
	struct problem p = { 0 };
	char **t = NULL;
	size_t n = 0;

	(void)state;
	mockdns_txt("a.example", "abc", "def", "", "ghi", NULL);
	assert_int_equal(dns_txt(&resolver, "a.example", &t, &n, &p), 1);
	assert_int_equal(n, 1);
	assert_string_equal(t[0], "abcdefghi");
	dns_strings_free(t, n);
}

static void
test_txt_several(void **state)
{
	struct problem p = { 0 };
	char **t = NULL;
	size_t n = 0;

	(void)state;
	mockdns_txt("a.example", "first", NULL);
	mockdns_addr("a.example", "192.0.2.1");
	mockdns_txt("a.example", "sec", "ond", NULL);
	mockdns_txt("a.example", NULL);		/* empty TXT */
	mockdns_txt("b.example", "other", NULL);
	assert_int_equal(dns_txt(&resolver, "A.Example", &t, &n, &p), 1);
	assert_int_equal(n, 3);
	assert_string_equal(t[0], "first");
	assert_string_equal(t[1], "second");
	assert_string_equal(t[2], "");
	dns_strings_free(t, n);
}

static void
test_txt_nxdomain_nodata(void **state)
{
	struct problem p = { 0 };
	char **t = NULL;
	size_t n = 99;

	(void)state;
	mockdns_addr("a.example", "192.0.2.1");
	assert_int_equal(dns_txt(&resolver, "nx.example", &t, &n, &p), 1);
	assert_int_equal(n, 0);
	assert_null(t);
	assert_int_equal(p.type, PT_NONE);
	n = 99;
	assert_int_equal(dns_txt(&resolver, "a.example", &t, &n, &p), 1);
	assert_int_equal(n, 0);
	assert_null(t);
	/* NXDOMAIN told in the answer's header rather than by -1 */
	mockdns_fail("nx2.example", 0, ns_r_nxdomain, 1, 0);
	assert_int_equal(dns_txt(&resolver, "nx2.example", &t, &n, &p), 1);
	assert_int_equal(n, 0);
	assert_int_equal(p.type, PT_NONE);
}

static void
test_txt_failures(void **state)
{
	static const struct {
		int		 rcode;
		int		 in_packet;
		int		 garbage;
		const char	*detail;
	} cases[] = {
		{ DNS_RCODE_SERVFAIL, 0, 0,
		    "SERVFAIL looking up TXT for f.example" },
		{ DNS_RCODE_SERVFAIL, 1, 0,
		    "SERVFAIL looking up TXT for f.example" },
		{ ns_r_refused, 0, 0, "REFUSED looking up TXT for f.example" },
		{ ns_r_formerr, 1, 0, "FORMERR looking up TXT for f.example" },
		{ 12, 0, 0, "RCODE 12 looking up TXT for f.example" },
		{ DNS_RCODE_TRANSPORT, 0, 0, "no answer from the name servers "
		    "(timeout or network error) looking up TXT for f.example" },
		{ 0, 0, 1, "malformed DNS answer looking up TXT for f.example" },
	};
	struct problem p;
	char **t;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mockdns_reset();
		mockdns_fail("f.example", ns_t_txt, cases[i].rcode,
		    cases[i].in_packet, cases[i].garbage);
		memset(&p, 0, sizeof(p));
		t = (char **)&n;
		n = 99;
		assert_int_equal(dns_txt(&resolver, "f.example", &t, &n, &p),
		    0);
		assert_null(t);
		assert_int_equal(n, 0);
		assert_int_equal(p.type, PT_DNS);
		if (strcmp(p.detail, cases[i].detail) != 0)
			fail_msg("case %zu: got \"%s\", want \"%s\"", i,
			    p.detail, cases[i].detail);
	}
}

static void
test_txt_cname(void **state)
{
	struct problem p = { 0 };
	char **t = NULL;
	size_t n = 0;

	(void)state;
	mockdns_cname("_acme-challenge.a.example", "a.validation.example");
	mockdns_txt("a.validation.example", "token", NULL);
	assert_int_equal(dns_txt(&resolver, "_acme-challenge.a.example", &t,
	    &n, &p), 1);
	assert_int_equal(n, 1);
	assert_string_equal(t[0], "token");
	dns_strings_free(t, n);
}

static void
test_txt_malformed_rdata(void **state)
{
	static const unsigned char overrun[] = { 5, 'a', 'b' };
	static const unsigned char nul[] = { 3, 'a', '\0', 'b', 1, 'c' };
	struct problem p = { 0 };
	char **t = NULL;
	size_t n = 0;

	(void)state;
	mockdns_add("m.example", ns_t_txt, overrun, sizeof(overrun));
	assert_int_equal(dns_txt(&resolver, "m.example", &t, &n, &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "malformed TXT record for m.example");
	assert_null(t);

	mockdns_reset();
	memset(&p, 0, sizeof(p));
	mockdns_add("z.example", ns_t_txt, nul, sizeof(nul));
	assert_int_equal(dns_txt(&resolver, "z.example", &t, &n, &p), 1);
	assert_int_equal(n, 1);
	assert_string_equal(t[0], "a?bc");	/* a NUL cannot hide a tail */
	dns_strings_free(t, n);
}

static void
test_txt_invalid_name(void **state)
{
	static const char *const names[] = {
		"", ".", "a..example", ".a.example", "a example", "a\\.example",
		"a\nexample",
		/* a 64-octet label */
		("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    ".example"),
	};
	struct problem p;
	char **t = NULL;
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		memset(&p, 0, sizeof(p));
		assert_int_equal(dns_txt(&resolver, names[i], &t, &n, &p), 0);
		assert_int_equal(p.type, PT_DNS);
	}
	assert_int_equal(mockdns.queries, 0);
	/* a final dot is fine */
	mockdns_txt("ok.example.", "x", NULL);
	assert_int_equal(dns_txt(&resolver, "ok.example.", &t, &n, &p), 1);
	assert_int_equal(n, 1);
	dns_strings_free(t, n);
}

/* ------------------------------------------------------------------ */
/* dns_addrs                                                           */

static void
addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, buf,
		    (socklen_t)len);
}

static void
test_addrs(void **state)
{
	struct sockaddr_storage *a = NULL;
	struct problem p = { 0 };
	char buf[INET6_ADDRSTRLEN];
	size_t n = 0;

	(void)state;
	mockdns_addr("h.example", "2001:db8::1");
	mockdns_addr("h.example", "192.0.2.1");
	mockdns_addr("h.example", "192.0.2.2");
	mockdns_addr("v6.example", "2001:db8::2");
	mockdns_addr("v4.example", "198.51.100.7");

	assert_int_equal(dns_addrs(&resolver, "h.example", &a, &n, &p), 1);
	assert_int_equal(n, 3);
	assert_int_equal(a[0].ss_family, AF_INET);
	addr_text(&a[0], buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1");
	addr_text(&a[1], buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.2");
	assert_int_equal(a[2].ss_family, AF_INET6);
	addr_text(&a[2], buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::1");
	free(a);

	assert_int_equal(dns_addrs(&resolver, "v6.example", &a, &n, &p), 1);
	assert_int_equal(n, 1);
	addr_text(&a[0], buf, sizeof(buf));
	assert_string_equal(buf, "2001:db8::2");
	free(a);

	/* a failing AAAA lookup does not hide A records */
	mockdns_fail("v4.example", ns_t_aaaa, DNS_RCODE_SERVFAIL, 0, 0);
	assert_int_equal(dns_addrs(&resolver, "v4.example", &a, &n, &p), 1);
	assert_int_equal(n, 1);
	addr_text(&a[0], buf, sizeof(buf));
	assert_string_equal(buf, "198.51.100.7");
	free(a);
	assert_int_equal(p.type, PT_NONE);
}

static void
test_addrs_problems(void **state)
{
	static const unsigned char short_a[] = { 192, 0, 2 };
	struct sockaddr_storage *a = NULL;
	struct problem p;
	size_t n = 0;

	(void)state;
	mockdns_txt("txt.example", "x", NULL);
	mockdns_addr("v6.example", "2001:db8::2");
	mockdns_add("bad.example", ns_t_a, short_a, sizeof(short_a));
	mockdns_fail("sf.example", ns_t_a, DNS_RCODE_SERVFAIL, 0, 0);
	mockdns_fail("sf6.example", ns_t_aaaa, DNS_RCODE_TRANSPORT, 0, 0);
	mockdns_fail("v6.example", ns_t_a, DNS_RCODE_TRANSPORT, 0, 0);

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "nx.example", &a, &n, &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "NXDOMAIN looking up A for nx.example");
	assert_null(a);
	assert_int_equal(n, 0);

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "txt.example", &a, &n, &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail,
	    "no valid A or AAAA records for txt.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "sf.example", &a, &n, &p), 0);
	assert_string_equal(p.detail, "SERVFAIL looking up A for sf.example");

	/* AAAA fails and there is no A: the AAAA failure is the problem */
	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "sf6.example", &a, &n, &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "NXDOMAIN looking up A for sf6.example");
	mockdns_txt("sf6.example", "x", NULL);
	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "sf6.example", &a, &n, &p), 0);
	assert_string_equal(p.detail, "no answer from the name servers "
	    "(timeout or network error) looking up AAAA for sf6.example");

	/* a failed A lookup fails even when AAAA would answer */
	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "v6.example", &a, &n, &p), 0);
	assert_int_equal(p.type, PT_DNS);

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns_addrs(&resolver, "bad.example", &a, &n, &p), 0);
	assert_string_equal(p.detail, "malformed A record for bad.example");
	assert_null(a);
}

/* ------------------------------------------------------------------ */
/* dns01_validate                                                      */

/* base64url(SHA-256(KEYAUTH)), computed independently. */
#define KEYAUTH	"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA." \
		"9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI"
#define DIGEST	"lCM7cZyQXcVHK2nnW3jjAhNT3Fvm18UN-kWZZknKoYM"

static void
test_dns01(void **state)
{
	struct problem p;

	(void)state;
	mockdns_txt("_acme-challenge.ok.example", DIGEST, NULL);
	mockdns_txt("_acme-challenge.several.example", "stale", NULL);
	mockdns_txt("_acme-challenge.several.example", "lCM7cZyQXcVHK2nnW3jjA",
	    "hNT3Fvm18UN-kWZZknKoYM", NULL);
	mockdns_txt("_acme-challenge.wrong.example", "wrong\001value", NULL);
	mockdns_txt("_acme-challenge.wrongs.example", "one", NULL);
	mockdns_txt("_acme-challenge.wrongs.example", "two", NULL);
	mockdns_txt("_acme-challenge.wrongs.example", DIGEST "x", NULL);
	mockdns_addr("nodata.example", "192.0.2.1");
	mockdns_addr("_acme-challenge.nodata.example", "192.0.2.1");
	mockdns_fail("_acme-challenge.sf.example", 0, DNS_RCODE_SERVFAIL, 0, 0);

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "ok.example", KEYAUTH, &p),
	    1);
	assert_int_equal(p.type, PT_NONE);
	assert_int_equal(dns01_validate(&resolver, "*.ok.example", KEYAUTH,
	    &p), 1);
	assert_int_equal(dns01_validate(&resolver, "several.example",
	    KEYAUTH, &p), 1);

	assert_int_equal(dns01_validate(&resolver, "ok.example", KEYAUTH "x",
	    &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_string_equal(p.detail, "incorrect TXT record \"" DIGEST
	    "\" found at _acme-challenge.ok.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "*.wrong.example",
	    KEYAUTH, &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_string_equal(p.detail, "incorrect TXT record \"wrong?value\" "
	    "found at _acme-challenge.wrong.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "wrongs.example",
	    KEYAUTH, &p), 0);
	assert_string_equal(p.detail, "incorrect TXT record \"one\" "
	    "(and 2 more) found at _acme-challenge.wrongs.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "missing.example",
	    KEYAUTH, &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_string_equal(p.detail, "no TXT record found at "
	    "_acme-challenge.missing.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "nodata.example",
	    KEYAUTH, &p), 0);
	assert_string_equal(p.detail, "no TXT record found at "
	    "_acme-challenge.nodata.example");

	memset(&p, 0, sizeof(p));
	assert_int_equal(dns01_validate(&resolver, "sf.example", KEYAUTH, &p),
	    0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "SERVFAIL looking up TXT for "
	    "_acme-challenge.sf.example");
}

/* ------------------------------------------------------------------ */
/* http_response_parse                                                 */

/* Runs the parser on an exact-size heap copy of s (so that a read past
 * the end is caught by the sanitizers and valgrind). */
static int
parse(const char *s, size_t len, int final, struct http_resp *r,
    const char **err)
{
	char *copy = xmalloc(len);
	int rc;

	memcpy(copy, s, len);
	rc = http_response_parse(copy, len, final, r, err);
	free(copy);
	return rc;
}

static void
test_http_parse_table(void **state)
{
	static const struct {
		const char	*in;
		int		 final;
		int		 rc;
		int		 status;
		const char	*body;		/* or error when rc is 0 */
		const char	*location;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 1,
		    200, "hello", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello+extra",
		    1, 1, 200, "hello", NULL },
		{ "HTTP/1.0 200\r\ncontent-length:  3 \r\n\r\nabc", 0, 1, 200,
		    "abc", NULL },
		{ "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi", 0, 1, 200, "hi",
		    NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 0, -1, 0,
		    NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 1, 0, 0,
		    "connection closed before the end of the body", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2"
		    "\r\n\r\nhi", 0, 1, 200, "hi", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3"
		    "\r\n\r\nhi", 0, 0, 0, "conflicting Content-Length headers",
		    NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 0, 0,
		    "malformed Content-Length", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1234567890\r\n\r\n", 0,
		    0, 0, "malformed Content-Length", NULL },
		{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", 0, 0, 0,
		    "malformed Content-Length", NULL },
		/* read until close */
		{ "HTTP/1.1 200 OK\r\n\r\nuntil close\n", 0, -1, 0, NULL,
		    NULL },
		{ "HTTP/1.1 200 OK\r\n\r\nuntil close\n", 1, 1, 200,
		    "until close\n", NULL },
		/* chunked */
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\n6;name=value\r\n world\r\n0\r\n\r\n", 0, 1,
		    200, "hello world", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n"
		    "Content-Length: 100\r\n\r\na\r\n0123456789\r\n0\r\n", 0, 1,
		    200, "0123456789", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "A \r\n0123456789\n0\n", 0, 1, 200, "0123456789", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhel", 0, -1, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r", 0, -1, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\n", 1, 0, 0,
		    "connection closed inside the chunked body", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "zz\r\nhello\r\n0\r\n\r\n", 0, 0, 0, "malformed chunk size",
		    NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5x\r\nhello\r\n0\r\n\r\n", 0, 0, 0, "malformed chunk size",
		    NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "1000000\r\n", 0, 0, 0, "chunk too large", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhelloXX0\r\n\r\n", 0, 0, 0, "malformed chunk", NULL },
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
		    0, 0, 0, "unsupported Transfer-Encoding", NULL },
		/* redirects and statuses without a body */
		{ "HTTP/1.1 302 Found\r\nLocation: http://x.example/y\r\n"
		    "Content-Length: 0\r\n\r\n", 0, 1, 302, "",
		    "http://x.example/y" },
		{ "HTTP/1.1 301 Moved\r\nlocation:/relative \r\n\r\n", 1, 1,
		    301, "", "/relative" },
		{ "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
		    1, 0, 0, "several Location headers", NULL },
		{ "HTTP/1.1 204 No Content\r\n\r\n", 0, 1, 204, "", NULL },
		{ "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found",
		    0, 1, 404, "not found", NULL },
		/* garbage */
		{ "", 1, 0, 0, "empty response", NULL },
		{ "", 0, -1, 0, NULL, NULL },
		{ "HTTP/1.1 200 OK\r\nServer: x", 1, 0, 0,
		    "truncated response headers", NULL },
		{ "garbage\r\n\r\n", 0, 0, 0, "malformed status line", NULL },
		{ "HTTP/2 200\r\n\r\n", 0, 0, 0, "malformed status line", NULL },
		{ "HTTP/1.1 2000 OK\r\n\r\n", 0, 0, 0, "malformed status line",
		    NULL },
		{ "HTTP/1.1 099 Low\r\n\r\n", 0, 0, 0, "malformed status line",
		    NULL },
		{ "HTTP/1.1 600 High\r\n\r\n", 0, 0, 0, "malformed status line",
		    NULL },
		{ "HTTP/1.1 20x OK\r\n\r\n", 0, 0, 0, "malformed status line",
		    NULL },
		{ "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", 0, 0, 0,
		    "malformed header line", NULL },
		{ "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n", 0, 0, 0,
		    "malformed header line", NULL },
		{ "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", 0, 0, 0,
		    "malformed header name", NULL },
		{ "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n", 0, 0, 0,
		    "obsolete header line folding", NULL },
		{ "HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", 0, 0, 0,
		    "control character in a header", NULL },
	};
	struct http_resp r;
	const char *err;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		err = NULL;
		rc = parse(cases[i].in, strlen(cases[i].in), cases[i].final,
		    &r, &err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: got %d (%s), want %d", i, rc,
			    err ? err : "-", cases[i].rc);
		if (rc == 0) {
			assert_non_null(err);
			if (strcmp(err, cases[i].body) != 0)
				fail_msg("case %zu: got error \"%s\", want "
				    "\"%s\"", i, err, cases[i].body);
		}
		if (rc != 1) {
			assert_null(r.body);
			continue;
		}
		assert_int_equal(r.status, cases[i].status);
		assert_int_equal(r.bodylen, strlen(cases[i].body));
		assert_string_equal(r.body, cases[i].body);
		assert_int_equal(r.truncated, 0);
		if (cases[i].location == NULL)
			assert_null(r.location);
		else
			assert_string_equal(r.location, cases[i].location);
		http_resp_free(&r);
	}
}

/* Every prefix of a valid response asks for more bytes; the whole
 * parses. */
static void
test_http_parse_prefixes(void **state)
{
	static const char *const full[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
		    "3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n",
		"HTTP/1.1 307 Temporary\r\nLocation: /x\r\nContent-Length: 0"
		    "\r\n\r\n",
		"HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
	};
	struct http_resp r;
	const char *err;
	size_t i, len;

	(void)state;
	for (i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		for (len = 0; len < strlen(full[i]); len++) {
			memset(&r, 0, sizeof(r));
			if (parse(full[i], len, 0, &r, &err) != -1)
				fail_msg("response %zu, prefix %zu: not -1", i,
				    len);
		}
		assert_int_equal(parse(full[i], len, 0, &r, &err), 1);
		http_resp_free(&r);
	}
}

static void
test_http_parse_oversized(void **state)
{
	struct http_resp r;
	const char *err;
	char *buf;
	size_t len;

	(void)state;
	buf = xmalloc(HTTP_MAX_READ);

	/* headers that never end within the limit */
	len = (size_t)snprintf(buf, HTTP_MAX_READ, "HTTP/1.1 200 OK\r\n");
	while (len < HTTP_MAX_HEADERS + 100) {
		memcpy(buf + len, "X-Filler: aaaaaaaaaaaaaaaaaaaa\r\n", 32);
		len += 32;
	}
	assert_int_equal(parse(buf, len, 0, &r, &err), 0);
	assert_string_equal(err, "response headers too large");
	/* even if they end right after the limit */
	memcpy(buf + len, "\r\n", 2);
	assert_int_equal(parse(buf, len + 2, 1, &r, &err), 0);
	assert_string_equal(err, "response headers too large");

	/* a body longer than kept: Content-Length */
	len = (size_t)snprintf(buf, HTTP_MAX_READ, "HTTP/1.1 200 OK\r\n"
	    "Content-Length: 5000\r\n\r\n");
	memset(buf + len, 'b', 2000);
	assert_int_equal(parse(buf, len + 500, 0, &r, &err), -1);
	assert_int_equal(parse(buf, len + 500, 1, &r, &err), 0);
	memset(&r, 0, sizeof(r));
	assert_int_equal(parse(buf, len + 2000, 0, &r, &err), 1);
	assert_int_equal(r.truncated, 1);
	assert_int_equal(r.bodylen, HTTP_MAX_BODY);
	assert_int_equal(strlen(r.body), HTTP_MAX_BODY);
	http_resp_free(&r);

	/* read until close */
	len = (size_t)snprintf(buf, HTTP_MAX_READ, "HTTP/1.1 200 OK\r\n\r\n");
	memset(buf + len, 'c', 2000);
	assert_int_equal(parse(buf, len + HTTP_MAX_BODY, 0, &r, &err), -1);
	memset(&r, 0, sizeof(r));
	assert_int_equal(parse(buf, len + HTTP_MAX_BODY, 1, &r, &err), 1);
	assert_int_equal(r.truncated, 0);
	assert_int_equal(r.bodylen, HTTP_MAX_BODY);
	http_resp_free(&r);
	assert_int_equal(parse(buf, len + HTTP_MAX_BODY + 1, 0, &r, &err), 1);
	assert_int_equal(r.truncated, 1);
	assert_int_equal(r.bodylen, HTTP_MAX_BODY);
	http_resp_free(&r);

	/* chunked: many chunks adding up to more than kept */
	len = (size_t)snprintf(buf, HTTP_MAX_READ, "HTTP/1.1 200 OK\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n");
	while (len + 40 < HTTP_MAX_READ) {
		memcpy(buf + len, "10\r\n0123456789abcdef\r\n", 22);
		len += 22;
	}
	memset(&r, 0, sizeof(r));
	assert_int_equal(parse(buf, len, 0, &r, &err), 1);
	assert_int_equal(r.truncated, 1);
	assert_int_equal(r.bodylen, HTTP_MAX_BODY);
	assert_memory_equal(r.body, "0123456789abcdef0123", 20);
	http_resp_free(&r);
	free(buf);
}

static void
test_printable_copy(void **state)
{
	char buf[8];

	(void)state;
	printable_copy(buf, sizeof(buf), "abc", 3);
	assert_string_equal(buf, "abc");
	printable_copy(buf, sizeof(buf), "a\0b\nc\x80", 6);
	assert_string_equal(buf, "a?b?c?");
	printable_copy(buf, sizeof(buf), "abcdefg", 7);
	assert_string_equal(buf, "abcd...");
	printable_copy(buf, sizeof(buf), "abcdefghijkl", 12);
	assert_string_equal(buf, "abcd...");
	printable_copy(buf, sizeof(buf), "", 0);
	assert_string_equal(buf, "");
}

/* ------------------------------------------------------------------ */
/* http01_validate against a server thread                             */

#define TOKEN_GOOD	"good_Token-1"

struct route {
	const char	*path;		/* after /.well-known/acme-challenge/ */
	char		*reply;		/* NULL: never answer */
};

static struct {
	pthread_t	 thread;
	int		 lfd;
	int		 stop[2];
	int		 port;
	int		 closed_port;	/* nobody listens there */
	struct route	 routes[24];
	size_t		 nroutes;
	pthread_mutex_t	 lock;
	char		 last_request[1024];
	int		 requests;
} srv;

static void
route_add(const char *path, const char *fmt, ...) ACME_PRINTF(2, 3);

static void
route_add(const char *path, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	assert_true(srv.nroutes < sizeof(srv.routes) / sizeof(srv.routes[0]));
	if (fmt != NULL) {
		va_start(ap, fmt);
		assert_true(vasprintf(&s, fmt, ap) > 0);
		va_end(ap);
	}
	srv.routes[srv.nroutes].path = path;
	srv.routes[srv.nroutes].reply = s;
	srv.nroutes++;
}

/* Serves one connection: reads the request head, answers by route. */
static int
serve(int fd)
{
	static const char notfound[] = "HTTP/1.1 404 Not Found\r\n"
	    "Content-Length: 0\r\n\r\n";
	char req[1024], path[512];
	const struct route *rt = NULL;
	const char *reply;
	size_t len = 0, i;
	ssize_t n;
	struct pollfd pfd;
	int keep = 0;

	while (len < sizeof(req) - 1) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 5000) != 1)
			break;
		if ((n = read(fd, req + len, sizeof(req) - 1 - len)) <= 0)
			break;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[len] = '\0';
	pthread_mutex_lock(&srv.lock);
	memcpy(srv.last_request, req, len + 1);
	srv.requests++;
	pthread_mutex_unlock(&srv.lock);
	if (sscanf(req, "GET %511s HTTP/1.1", path) == 1)
		for (i = 0; i < srv.nroutes; i++)
			if (strcmp(path, srv.routes[i].path) == 0)
				rt = &srv.routes[i];
	if (rt == NULL)
		reply = notfound;
	else
		reply = rt->reply;
	if (reply == NULL)
		keep = 1;	/* say nothing: the client times out */
	else {
		(void)!write(fd, reply, strlen(reply));
		shutdown(fd, SHUT_WR);
	}
	return keep;
}

static void *
server_main(void *arg)
{
	struct pollfd pfd[2];
	int fd, kept[8], nkept = 0, i;

	(void)arg;
	for (;;) {
		pfd[0].fd = srv.lfd;
		pfd[0].events = POLLIN;
		pfd[1].fd = srv.stop[0];
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[1].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) == 0)
			continue;
		if ((fd = accept(srv.lfd, NULL, NULL)) == -1)
			continue;
		if (serve(fd) && nkept < 8)
			kept[nkept++] = fd;
		else
			close(fd);
	}
	for (i = 0; i < nkept; i++)
		close(kept[i]);
	return NULL;
}

/* Returns a TCP port on 127.0.0.1 that was free a moment ago. */
static int
closed_port(void)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &slen), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

static int
setup_server(void **state)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char big[HTTP_MAX_BODY * 2];
	int one = 1;

	(void)state;
	memset(&srv, 0, sizeof(srv));
	pthread_mutex_init(&srv.lock, NULL);
	srv.lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.lfd == -1)
		return -1;
	setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(srv.lfd, 16) == -1 ||
	    getsockname(srv.lfd, (struct sockaddr *)&sin, &slen) == -1 ||
	    pipe(srv.stop) == -1)
		return -1;
	srv.port = ntohs(sin.sin_port);
	srv.closed_port = closed_port();
	/* the server is on loopback, a special-purpose range */
	if (!config_set(CFG_VALIDATION_ALLOW, "127.0.0.0/8"))
		return -1;

#define WK "/.well-known/acme-challenge/"
	route_add(WK TOKEN_GOOD, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "Content-Type: text/plain\r\n\r\n%s\r\n", strlen(KEYAUTH) + 2,
	    KEYAUTH);
	route_add(WK "chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n%zx\r\n%s\r\n3\r\n \t\n\r\n0\r\n\r\n",
	    strlen(KEYAUTH), KEYAUTH);
	route_add(WK "close", "HTTP/1.0 200 OK\r\n\r\n%s", KEYAUTH);
	route_add(WK "wrong", "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"
	    "wrong\x01value");
	route_add(WK "prefix", "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
	    "\r\n%.20s", (size_t)20, KEYAUTH);
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	route_add(WK "big", "HTTP/1.1 200 OK\r\n\r\n%s%s", KEYAUTH, big);
	route_add(WK "redirect", "HTTP/1.1 302 Found\r\nLocation: "
	    "http://other.example:%d" WK TOKEN_GOOD "\r\n"
	    "Content-Length: 0\r\n\r\n", srv.port);
	route_add(WK "redirect-rel", "HTTP/1.1 301 Moved\r\nLocation: "
	    "/elsewhere?x=1#frag\r\nContent-Length: 0\r\n\r\n");
	route_add("/elsewhere?x=1", "HTTP/1.1 200 OK\r\nContent-Length: %zu"
	    "\r\n\r\n%s", strlen(KEYAUTH), KEYAUTH);
	route_add(WK "redirect-chain", "HTTP/1.1 307 Temp\r\nLocation: "
	    "http://test.example:%d" WK "redirect\r\n\r\n", srv.port);
	route_add(WK "loop", "HTTP/1.1 308 Perm\r\nLocation: " WK "loop\r\n"
	    "\r\n");
	route_add(WK "https", "HTTP/1.1 301 Moved\r\nLocation: "
	    "https://test.example" WK TOKEN_GOOD "\r\n\r\n");
	route_add(WK "port", "HTTP/1.1 301 Moved\r\nLocation: "
	    "http://test.example:%d" WK TOKEN_GOOD "\r\n\r\n",
	    srv.closed_port);
	route_add(WK "ip", "HTTP/1.1 301 Moved\r\nLocation: "
	    "http://127.0.0.1:%d" WK TOKEN_GOOD "\r\n\r\n", srv.port);
	route_add(WK "noloc", "HTTP/1.1 302 Found\r\n\r\n");
	route_add(WK "nxredirect", "HTTP/1.1 302 Found\r\nLocation: "
	    "http://nx.example:%d/\r\n\r\n", srv.port);
	route_add(WK "garbage", "SSH-2.0-OpenSSH_9.2\r\n");
	route_add(WK "slow", NULL);
#undef WK
	if (pthread_create(&srv.thread, NULL, server_main, NULL) != 0)
		return -1;
	return 0;
}

static int
teardown_server(void **state)
{
	size_t i;

	(void)state;
	(void)!write(srv.stop[1], "x", 1);
	pthread_join(srv.thread, NULL);
	close(srv.lfd);
	close(srv.stop[0]);
	close(srv.stop[1]);
	for (i = 0; i < srv.nroutes; i++)
		free(srv.routes[i].reply);
	pthread_mutex_destroy(&srv.lock);
	return 0;
}

static int
setup_http(void **state)
{
	setup_zone(state);
	mockdns_addr("test.example", "127.0.0.1");
	mockdns_addr("other.example", "127.0.0.1");
	return 0;
}

/* Runs http01_validate on test.example for token with the server's
 * port and a 5 s limit; returns its result. */
static int
h01(const char *token, struct problem *p)
{
	memset(p, 0, sizeof(*p));
	return http01_validate(&resolver, "test.example", srv.port, token,
	    KEYAUTH, 5, p);
}

static void
test_http01_good(void **state)
{
	struct problem p;
	char want[256];

	(void)state;
	assert_int_equal(h01(TOKEN_GOOD, &p), 1);
	assert_int_equal(p.type, PT_NONE);
	snprintf(want, sizeof(want), "GET /.well-known/acme-challenge/"
	    TOKEN_GOOD " HTTP/1.1\r\nHost: test.example\r\n"
	    "User-Agent: acme-worker\r\nAccept: */*\r\nConnection: close"
	    "\r\n\r\n");
	pthread_mutex_lock(&srv.lock);
	assert_string_equal(srv.last_request, want);
	pthread_mutex_unlock(&srv.lock);

	assert_int_equal(h01("chunked", &p), 1);
	assert_int_equal(h01("close", &p), 1);
}

static void
test_http01_incorrect(void **state)
{
	struct problem p;
	char want[512];

	(void)state;
	assert_int_equal(h01("wrong", &p), 0);
	assert_int_equal(p.type, PT_INCORRECT_RESPONSE);
	snprintf(want, sizeof(want), "the key authorization from "
	    "http://test.example:%d/.well-known/acme-challenge/wrong is "
	    "incorrect: expected \"%s\", got \"wrong?value\"", srv.port,
	    KEYAUTH);
	assert_string_equal(p.detail, want);

	assert_int_equal(h01("prefix", &p), 0);
	assert_int_equal(p.type, PT_INCORRECT_RESPONSE);

	assert_int_equal(h01("big", &p), 0);
	assert_int_equal(p.type, PT_INCORRECT_RESPONSE);
	assert_non_null(strstr(p.detail, "larger than 1024 bytes"));
}

static void
test_http01_status(void **state)
{
	struct problem p;
	char want[256];

	(void)state;
	assert_int_equal(h01("missing", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	snprintf(want, sizeof(want), "invalid response from "
	    "http://test.example:%d/.well-known/acme-challenge/missing: 404",
	    srv.port);
	assert_string_equal(p.detail, want);

	assert_int_equal(h01("garbage", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "malformed status line"));
}

static void
test_http01_redirects(void **state)
{
	struct problem p;

	(void)state;
	assert_int_equal(h01("redirect", &p), 1);
	pthread_mutex_lock(&srv.lock);
	assert_non_null(strstr(srv.last_request, "Host: other.example\r\n"));
	pthread_mutex_unlock(&srv.lock);
	assert_int_equal(h01("redirect-chain", &p), 1);
	assert_int_equal(h01("redirect-rel", &p), 1);

	assert_int_equal(h01("loop", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "redirect loop"));

	/* https on port 443, where nothing listens on loopback (the TLS
	 * hops themselves: test_hostile_validate.c) */
	assert_int_equal(h01("https", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "port 443"));

	assert_int_equal(h01("port", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "redirect to a port other than"));

	assert_int_equal(h01("ip", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);

	assert_int_equal(h01("noloc", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);

	assert_int_equal(h01("nxredirect", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "NXDOMAIN looking up A for nx.example");
}

static void
test_http01_connection(void **state)
{
	struct problem p;
	char want[128];

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(http01_validate(&resolver, "test.example",
	    srv.closed_port, TOKEN_GOOD, KEYAUTH, 5, &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	snprintf(want, sizeof(want), "cannot connect to 127.0.0.1 port %d: "
	    "Connection refused", srv.closed_port);
	assert_string_equal(p.detail, want);

	memset(&p, 0, sizeof(p));
	assert_int_equal(http01_validate(&resolver, "test.example", srv.port,
	    "slow", KEYAUTH, 1, &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "timeout reading the response"));

	memset(&p, 0, sizeof(p));
	assert_int_equal(http01_validate(&resolver, "nx.example", srv.port,
	    TOKEN_GOOD, KEYAUTH, 5, &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "NXDOMAIN looking up A for nx.example");
}

static void
test_http01_malformed(void **state)
{
	static const char *const tokens[] = {
		"", "a/b", "../x", "a b", "a\r\nX: y", "tok=", "a.b",
	};
	struct problem p;
	size_t i;
	int before;

	(void)state;
	pthread_mutex_lock(&srv.lock);
	before = srv.requests;
	pthread_mutex_unlock(&srv.lock);
	for (i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
		assert_int_equal(h01(tokens[i], &p), 0);
		assert_int_equal(p.type, PT_MALFORMED);
	}
	memset(&p, 0, sizeof(p));
	assert_int_equal(http01_validate(&resolver, "test.example\r\nX: y",
	    srv.port, TOKEN_GOOD, KEYAUTH, 5, &p), 0);
	assert_int_equal(p.type, PT_MALFORMED);
	memset(&p, 0, sizeof(p));
	assert_int_equal(http01_validate(&resolver, "*.test.example",
	    srv.port, TOKEN_GOOD, KEYAUTH, 5, &p), 0);
	assert_int_equal(p.type, PT_MALFORMED);
	pthread_mutex_lock(&srv.lock);
	assert_int_equal(srv.requests, before);
	pthread_mutex_unlock(&srv.lock);
	assert_int_equal(mockdns.queries, 0);
}

int
main(void)
{
	const struct CMUnitTest dns_tests[] = {
		cmocka_unit_test(test_resolver_parse),
		cmocka_unit_test_setup_teardown(test_txt_multi_string,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_several,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_nxdomain_nodata,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_failures,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_cname,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_malformed_rdata,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_txt_invalid_name,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_addrs,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_addrs_problems,
		    setup_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_dns01,
		    setup_zone, teardown_zone),
	};
	const struct CMUnitTest http_parse_tests[] = {
		cmocka_unit_test(test_http_parse_table),
		cmocka_unit_test(test_http_parse_prefixes),
		cmocka_unit_test(test_http_parse_oversized),
		cmocka_unit_test(test_printable_copy),
	};
	const struct CMUnitTest http01_tests[] = {
		cmocka_unit_test_setup_teardown(test_http01_good,
		    setup_http, teardown_zone),
		cmocka_unit_test_setup_teardown(test_http01_incorrect,
		    setup_http, teardown_zone),
		cmocka_unit_test_setup_teardown(test_http01_status,
		    setup_http, teardown_zone),
		cmocka_unit_test_setup_teardown(test_http01_redirects,
		    setup_http, teardown_zone),
		cmocka_unit_test_setup_teardown(test_http01_connection,
		    setup_http, teardown_zone),
		cmocka_unit_test_setup_teardown(test_http01_malformed,
		    setup_http, teardown_zone),
	};
	int failed = 0;

	log_init("test_dns", LOG_LVL_ERR);
	failed += cmocka_run_group_tests_name("dns", dns_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("http_parse", http_parse_tests,
	    NULL, NULL);
	failed += cmocka_run_group_tests_name("http01", http01_tests,
	    setup_server, teardown_server);
	return failed == 0 ? 0 : 1;
}
