/*
 * test_caa.c - CAA (common/caa.c, RFC 8659 and RFC 8657): the record and
 * value parsers, the matching of one value, and caa_check() against a
 * mock dns_query() answering from an in-memory zone with wire-format
 * messages (the mock of mockdns.c, with CAA records).
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "caa.h"
#include "dns.h"
#include "problem.h"
#include "util.h"

#include "mockdns.h"

/* ------------------------------------------------------------------ */
/* The zone (the mock dns_query() of mockdns.c, asked for CAA only)    */

#define QLOG_MAX	16

/* the names queried, separated by spaces */
static char qlog[QLOG_MAX * 256];

/* Checks a query (never the root, never an empty or absolute name, CAA
 * only) and logs its name. */
static void
log_query(const char *name, int type)
{
	assert_true(name[0] != '\0' && name[strlen(name) - 1] != '.');
	assert_int_equal(type, CAA_TYPE);
	assert_true(mockdns.queries <= QLOG_MAX);
	if (qlog[0] != '\0')
		strcat(qlog, " ");
	strcat(qlog, name);
}

static void
zone_reset(void)
{
	mockdns_reset();
	mockdns.onquery = log_query;
	qlog[0] = '\0';
}

/* Adds a CAA record: flags octet, tag length, tag, value. */
static void
zone_caa(const char *name, unsigned flags, const char *tag,
    const char *value)
{
	unsigned char rd[512];
	size_t tlen = strlen(tag), vlen = strlen(value);

	assert_true(tlen < 256 && 2 + tlen + vlen <= sizeof(rd));
	rd[0] = (unsigned char)flags;
	rd[1] = (unsigned char)tlen;
	memcpy(rd + 2, tag, tlen);
	memcpy(rd + 2 + tlen, value, vlen);
	mockdns_add(name, CAA_TYPE, rd, 2 + tlen + vlen);
}

static void
zone_a(const char *name)
{
	mockdns_addr(name, "192.0.2.1");
}

static struct dns_resolver resolver;

static int
teardown_zone(void **state)
{
	(void)state;
	zone_reset();
	return 0;
}

/* ------------------------------------------------------------------ */
/* caa_parse_rr                                                        */

static void
test_parse_rr(void **state)
{
	static const struct {
		const char	*what;
		const char	*rdata;
		size_t		 len;
		int		 ok;
		unsigned	 flags;
		const char	*tag;
		enum caa_tag	 kind;
		const char	*value;
		size_t		 valuelen;
	} cases[] = {
		{ "issue", "\0\5issueca.example", 17, 1, 0, "issue",
		    CAA_TAG_ISSUE, "ca.example", 10 },
		{ "critical unknown", "\200\3tbsx", 6, 1, 128, "tbs",
		    CAA_TAG_OTHER, "x", 1 },
		{ "all flags", "\377\5iodefmailto:a@b", 17, 1, 255, "iodef",
		    CAA_TAG_IODEF, "mailto:a@b", 10 },
		{ "reserved flag", "\1\5issue;", 8, 1, 1, "issue",
		    CAA_TAG_ISSUE, ";", 1 },
		{ "tag case", "\0\11IssueWildx", 12, 1, 0, "IssueWild",
		    CAA_TAG_ISSUEWILD, "x", 1 },
		{ "tag prefix", "\0\6issuerx", 9, 1, 0, "issuer",
		    CAA_TAG_OTHER, "x", 1 },
		{ "tag shorter", "\0\4issux", 7, 1, 0, "issu",
		    CAA_TAG_OTHER, "x", 1 },
		{ "digits in tag", "\0\0031a2", 5, 1, 0, "1a2",
		    CAA_TAG_OTHER, "", 0 },
		{ "empty value", "\0\5issue", 7, 1, 0, "issue",
		    CAA_TAG_ISSUE, "", 0 },
		{ "NUL in value", "\0\5issuea\0b", 10, 1, 0, "issue",
		    CAA_TAG_ISSUE, "a\0b", 3 },
		{ "non-ASCII value", "\0\5issue\303\251", 9, 1, 0, "issue",
		    CAA_TAG_ISSUE, "\303\251", 2 },
		{ "empty", "", 0, 0, 0, NULL, 0, NULL, 0 },
		{ "flags only", "\0", 1, 0, 0, NULL, 0, NULL, 0 },
		{ "tag length 0", "\0\0issue", 7, 0, 0, NULL, 0, NULL, 0 },
		{ "tag length 0, nothing", "\0\0", 2, 0, 0, NULL, 0, NULL, 0 },
		{ "truncated tag", "\0\5iss", 5, 0, 0, NULL, 0, NULL, 0 },
		{ "tag length past end", "\0\6issue", 7, 0, 0, NULL, 0, NULL,
		    0 },
		{ "tag length 255, 3 left", "\0\377abc", 5, 0, 0, NULL, 0,
		    NULL, 0 },
		{ "hyphen in tag", "\0\5is-uex", 8, 0, 0, NULL, 0, NULL, 0 },
		{ "space in tag", "\0\5is uex", 8, 0, 0, NULL, 0, NULL, 0 },
		{ "NUL in tag", "\0\5is\0uex", 8, 0, 0, NULL, 0, NULL, 0 },
		{ "non-ASCII tag", "\0\6issu\303\251x", 9, 0, 0, NULL, 0, NULL,
		    0 },
	};
	unsigned char rd[300];
	struct caa_rr rr;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = caa_parse_rr((const unsigned char *)cases[i].rdata,
		    cases[i].len, &rr);
		if (got != cases[i].ok)
			fail_msg("%s: got %d, want %d", cases[i].what, got,
			    cases[i].ok);
		if (!got)
			continue;
		if (rr.flags != cases[i].flags)
			fail_msg("%s: flags: got %u, want %u", cases[i].what,
			    rr.flags, cases[i].flags);
		if (strcmp(rr.tag, cases[i].tag) != 0)
			fail_msg("%s: tag: got \"%s\", want \"%s\"",
			    cases[i].what, rr.tag, cases[i].tag);
		if (rr.kind != cases[i].kind)
			fail_msg("%s: kind: got %d, want %d", cases[i].what,
			    rr.kind, cases[i].kind);
		if (rr.valuelen != cases[i].valuelen ||
		    memcmp(rr.value, cases[i].value, rr.valuelen) != 0)
			fail_msg("%s: value: got %zu octets \"%.*s\", want "
			    "%zu", cases[i].what, rr.valuelen,
			    (int)rr.valuelen, rr.value, cases[i].valuelen);
		/* the value is borrowed from the RDATA */
		assert_ptr_equal(rr.value, cases[i].rdata + 2 +
		    strlen(cases[i].tag));
	}

	/* the longest tag */
	rd[0] = 0;
	rd[1] = 255;
	memset(rd + 2, 'a', 255);
	memcpy(rd + 257, "xyz", 3);
	assert_int_equal(caa_parse_rr(rd, 260, &rr), 1);
	assert_int_equal(strlen(rr.tag), 255);
	assert_int_equal(rr.kind, CAA_TAG_OTHER);
	assert_int_equal(rr.valuelen, 3);
	assert_int_equal(caa_parse_rr(rd, 256, &rr), 0);
}

/* ------------------------------------------------------------------ */
/* caa_value_parse                                                     */

#define LONG_LABEL \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG_NAME \
	LONG_LABEL "." LONG_LABEL "." LONG_LABEL "." \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void
test_value_parse(void **state)
{
	static const struct {
		const char	*value;
		int		 ok;
		const char	*issuer;
		const char	*accounturi;	/* NULL: absent */
		const char	*methods;	/* NULL: absent */
	} cases[] = {
		{ "", 1, "", NULL, NULL },
		{ ";", 1, "", NULL, NULL },
		{ "  ; ", 1, "", NULL, NULL },
		{ "\t", 1, "", NULL, NULL },
		{ "ca.example", 1, "ca.example", NULL, NULL },
		{ "  ca.example\t", 1, "ca.example", NULL, NULL },
		{ "CA.Example", 1, "CA.Example", NULL, NULL },
		{ "example", 1, "example", NULL, NULL },
		{ "a--b.x-1.example", 1, "a--b.x-1.example", NULL, NULL },
		{ "ca.example;", 1, "ca.example", NULL, NULL },
		{ "ca.example ; ", 1, "ca.example", NULL, NULL },
		{ "ca.example; accounturi=https://ca.test/acme/acct/1", 1,
		    "ca.example", "https://ca.test/acme/acct/1", NULL },
		{ "ca.example;accounturi = u\t", 1, "ca.example", "u", NULL },
		{ "ca.example; AccountURI=u", 1, "ca.example", "u", NULL },
		{ "ca.example; accounturi=", 1, "ca.example", "", NULL },
		{ "ca.example; validationmethods=dns-01,http-01", 1,
		    "ca.example", NULL, "dns-01,http-01" },
		{ "ca.example; foo=bar; accounturi=u; validationmethods=x", 1,
		    "ca.example", "u", "x" },
		{ "ca.example; validationmethods=x;accounturi=u", 1,
		    "ca.example", "u", "x" },
		{ "ca.example; policy=ev", 1, "ca.example", NULL, NULL },
		{ "ca.example; a-b=!\"#$%&'()*+,-./:<=>?@[]^_`{|}~", 1,
		    "ca.example", NULL, NULL },
		{ "; accounturi=u", 1, "", "u", NULL },
		{ LONG_LABEL ".example", 1, LONG_LABEL ".example", NULL,
		    NULL },
		{ LONG_NAME, 1, LONG_NAME, NULL, NULL },
		/* malformed */
		{ "ca.example; accounturi=a; accounturi=b", 0, NULL, NULL,
		    NULL },
		{ "ca.example; validationmethods=a; VALIDATIONMETHODS=b", 0,
		    NULL, NULL, NULL },
		{ "ca.example; =x", 0, NULL, NULL, NULL },
		{ "ca.example; a", 0, NULL, NULL, NULL },
		{ "ca.example; a=b;", 0, NULL, NULL, NULL },
		{ "ca.example; a=b; ", 0, NULL, NULL, NULL },
		{ "ca.example; a=b c=d", 0, NULL, NULL, NULL },
		{ "ca.example; -a=b", 0, NULL, NULL, NULL },
		{ "ca.example; a_b=c", 0, NULL, NULL, NULL },
		{ "ca.example;; a=b", 0, NULL, NULL, NULL },
		{ "ca.example.", 0, NULL, NULL, NULL },
		{ ".ca.example", 0, NULL, NULL, NULL },
		{ "ca..example", 0, NULL, NULL, NULL },
		{ "-ca.example", 0, NULL, NULL, NULL },
		{ "ca-.example", 0, NULL, NULL, NULL },
		{ "ca_x.example", 0, NULL, NULL, NULL },
		{ "ca.example x", 0, NULL, NULL, NULL },
		{ "ca.example, other.example", 0, NULL, NULL, NULL },
		{ "\"ca.example\"", 0, NULL, NULL, NULL },
		{ "ca.ex\303\251mple", 0, NULL, NULL, NULL },
		{ "ca.example; a=v\303\251", 0, NULL, NULL, NULL },
		{ "ca.example; a=v\177", 0, NULL, NULL, NULL },
		{ "ca.example; a=\001", 0, NULL, NULL, NULL },
		{ "ca.example\n", 0, NULL, NULL, NULL },
		{ LONG_LABEL "a.example", 0, NULL, NULL, NULL },
		{ LONG_NAME "a", 0, NULL, NULL, NULL },
		{ "*.ca.example", 0, NULL, NULL, NULL },
	};
	struct caa_value v;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = caa_value_parse(cases[i].value, strlen(cases[i].value),
		    &v);
		if (got != cases[i].ok)
			fail_msg("\"%s\": got %d, want %d", cases[i].value,
			    got, cases[i].ok);
		if (!got)
			continue;
		if (strcmp(v.issuer, cases[i].issuer) != 0)
			fail_msg("\"%s\": issuer: got \"%s\", want \"%s\"",
			    cases[i].value, v.issuer, cases[i].issuer);
		if (v.has_accounturi != (cases[i].accounturi != NULL) ||
		    (v.has_accounturi &&
		    (v.accounturi_len != strlen(cases[i].accounturi) ||
		    memcmp(v.accounturi, cases[i].accounturi,
		    v.accounturi_len) != 0)))
			fail_msg("\"%s\": accounturi: got %d \"%.*s\", want "
			    "\"%s\"", cases[i].value, v.has_accounturi,
			    (int)v.accounturi_len,
			    v.has_accounturi ? v.accounturi : "",
			    cases[i].accounturi ? cases[i].accounturi :
			    "(absent)");
		if (v.has_methods != (cases[i].methods != NULL) ||
		    (v.has_methods &&
		    (v.methods_len != strlen(cases[i].methods) ||
		    memcmp(v.methods, cases[i].methods, v.methods_len) != 0)))
			fail_msg("\"%s\": validationmethods: got %d \"%.*s\", "
			    "want \"%s\"", cases[i].value, v.has_methods,
			    (int)v.methods_len, v.has_methods ? v.methods : "",
			    cases[i].methods ? cases[i].methods : "(absent)");
	}
	/* a NUL octet is no end of the value */
	assert_int_equal(caa_value_parse("ca.example\0", 11, &v), 0);
	assert_int_equal(caa_value_parse("ca.example; a=b\0", 16, &v), 0);
	/* only len octets are read */
	assert_int_equal(caa_value_parse("ca.example; junk", 10, &v), 1);
	assert_string_equal(v.issuer, "ca.example");
}

/* ------------------------------------------------------------------ */
/* caa_value_allows                                                    */

#define ACCT	"https://ca.test/acme/acct/42"

static const char *const ids[] = { "certigna.com", "acme.test" };

static void
test_value_allows(void **state)
{
	static const struct {
		const char	*value;
		const char	*account;
		const char	*method;
		int		 want;
	} cases[] = {
		{ "certigna.com", ACCT, "http-01", 1 },
		{ "CERTIGNA.com", ACCT, "http-01", 1 },
		{ "acme.test", ACCT, "dns-01", 1 },
		{ "certigna.com", NULL, NULL, 1 },
		{ "other.example", ACCT, "http-01", 0 },
		{ "certigna.com.example", ACCT, "http-01", 0 },
		{ "www.certigna.com", ACCT, "http-01", 0 },
		{ "certigna", ACCT, "http-01", 0 },
		{ "", ACCT, "http-01", 0 },
		{ ";", ACCT, "http-01", 0 },
		{ "; accounturi=" ACCT, ACCT, "http-01", 0 },
		{ "certigna.com; accounturi=" ACCT, ACCT, "http-01", 1 },
		{ "certigna.com; ACCOUNTURI=" ACCT, ACCT, "http-01", 1 },
		{ "certigna.com; accounturi=" ACCT, NULL, "http-01", 0 },
		{ "certigna.com; accounturi=" ACCT "3", ACCT, "http-01", 0 },
		{ "certigna.com; accounturi=https://ca.test/acme/acct/4", ACCT,
		    "http-01", 0 },
		{ "certigna.com; accounturi=HTTPS://ca.test/acme/acct/42",
		    ACCT, "http-01", 0 },
		{ "certigna.com; accounturi=", ACCT, "http-01", 0 },
		{ "certigna.com; validationmethods=http-01", ACCT, "http-01",
		    1 },
		{ "certigna.com; validationmethods=dns-01,http-01", ACCT,
		    "http-01", 1 },
		{ "certigna.com; validationmethods=dns-01,http-01", ACCT,
		    "dns-01", 1 },
		{ "certigna.com; validationmethods=dns-01", ACCT, "http-01",
		    0 },
		{ "certigna.com; validationmethods=http-01", ACCT, NULL, 0 },
		{ "certigna.com; validationmethods=", ACCT, "http-01", 0 },
		{ "certigna.com; validationmethods=HTTP-01", ACCT, "http-01",
		    0 },
		{ "certigna.com; validationmethods=http", ACCT, "http-01", 0 },
		{ "certigna.com; validationmethods=http-01,", ACCT, "http-01",
		    0 },
		{ "certigna.com; validationmethods=,http-01", ACCT, "http-01",
		    0 },
		{ "certigna.com; validationmethods=dns-01,,http-01", ACCT,
		    "http-01", 0 },
		{ "certigna.com; validationmethods=http-01,dns_01", ACCT,
		    "http-01", 0 },
		{ "certigna.com; accounturi=" ACCT "; validationmethods="
		    "http-01", ACCT, "http-01", 1 },
		{ "certigna.com; accounturi=" ACCT "; validationmethods="
		    "http-01", ACCT, "dns-01", 0 },
		{ "certigna.com; accounturi=other; validationmethods="
		    "http-01", ACCT, "http-01", 0 },
		{ "certigna.com; policy=ev; foo=bar", ACCT, "http-01", 1 },
	};
	struct caa_value v;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(caa_value_parse(cases[i].value,
		    strlen(cases[i].value), &v), 1);
		got = caa_value_allows(&v, ids, 2, cases[i].account,
		    cases[i].method);
		if (got != cases[i].want)
			fail_msg("\"%s\" (account %s, method %s): got %d, "
			    "want %d", cases[i].value,
			    cases[i].account ? cases[i].account : "NULL",
			    cases[i].method ? cases[i].method : "NULL", got,
			    cases[i].want);
	}
	/* no identity: nothing matches */
	assert_int_equal(caa_value_parse("certigna.com", 12, &v), 1);
	assert_int_equal(caa_value_allows(&v, NULL, 0, ACCT, "http-01"), 0);
}

/* ------------------------------------------------------------------ */
/* caa_identities_parse                                                */

static void
test_identities_parse(void **state)
{
	static const struct {
		const char	*list;
		size_t		 n;
		const char	*want[3];
	} cases[] = {
		{ "certigna.com", 1, { "certigna.com" } },
		{ "certigna.com,acme.test", 2,
		    { "certigna.com", "acme.test" } },
		{ " a , ,\tb ,", 2, { "a", "b" } },
		{ ",,a", 1, { "a" } },
		{ "", 0, { NULL } },
		{ " , ", 0, { NULL } },
		{ NULL, 0, { NULL } },
	};
	char **v;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = 99;
		v = caa_identities_parse(cases[i].list, &n);
		if (n != cases[i].n)
			fail_msg("\"%s\": got %zu items, want %zu",
			    cases[i].list ? cases[i].list : "(null)", n,
			    cases[i].n);
		if (n == 0)
			assert_null(v);
		for (j = 0; j < n; j++)
			if (strcmp(v[j], cases[i].want[j]) != 0)
				fail_msg("\"%s\" item %zu: got \"%s\", want "
				    "\"%s\"", cases[i].list, j, v[j],
				    cases[i].want[j]);
		strv_free(v, n);
	}
}

/* ------------------------------------------------------------------ */
/* caa_check                                                           */

/* The zone of the caa_check cases. */
static int
setup_check_zone(void **state)
{
	static const unsigned char taglen0[] = { 0, 0, 'x' };
	static const unsigned char cut[] = { 0, 9, 'i', 's', 's', 'u', 'e' };

	(void)state;
	zone_reset();
	assert_int_equal(dns_resolver_parse(&resolver, "127.0.0.1:53"), 1);
	zone_a("none.example");
	zone_caa("allow.example", 0, "issue", "certigna.com");
	zone_a("allow.example");
	zone_caa("deny.example", 0, "issue", "other.example");
	zone_caa("semi.example", 0, "issue", ";");
	zone_caa("empty.example", 0, "issue", "");
	zone_caa("several.example", 0, "issue", "other.example");
	zone_caa("several.example", 0, "issue", "certigna.com");
	zone_caa("several-deny.example", 0, "issue", "a.example");
	zone_caa("several-deny.example", 0, "issue", "b.example");
	zone_caa("acct.example", 0, "issue", "certigna.com; accounturi="
	    ACCT);
	zone_caa("acct-other.example", 0, "issue", "certigna.com; "
	    "accounturi=https://ca.test/acme/acct/43");
	zone_caa("meth.example", 0, "issue", "certigna.com; "
	    "validationmethods=dns-01,http-01");
	zone_caa("meth-dns.example", 0, "issue", "certigna.com; "
	    "validationmethods=dns-01");
	zone_caa("both.example", 0, "issue", "certigna.com; accounturi="
	    ACCT "; validationmethods=http-01");
	zone_caa("wild.example", 0, "issuewild", "other.example");
	zone_caa("wild.example", 0, "issue", "certigna.com");
	zone_caa("wildok.example", 0, "issuewild", "certigna.com");
	zone_caa("wildok.example", 0, "issue", "other.example");
	zone_caa("wildsemi.example", 0, "issuewild", ";");
	zone_caa("wildsemi.example", 0, "issue", "certigna.com");
	zone_caa("wildacct.example", 0, "issuewild", "certigna.com; "
	    "accounturi=https://ca.test/acme/acct/43");
	zone_caa("wildonly.example", 0, "issuewild", "other.example");
	zone_caa("iodef.example", 0, "iodef", "mailto:sec@iodef.example");
	zone_caa("crit.example", 128, "tbs", "x");
	zone_caa("crit.example", 0, "issue", "certigna.com");
	zone_caa("critcase.example", 128, "TBS", "x");
	zone_caa("noncrit.example", 0, "tbs", "x");
	zone_caa("noncrit.example", 0, "issue", "certigna.com");
	zone_caa("critissue.example", 128, "issue", "certigna.com");
	zone_caa("critiodef.example", 128, "iodef", "mailto:a@b.example");
	zone_caa("reserved.example", 1, "issue", "certigna.com");
	zone_caa("case.example", 0, "ISSUE", "CertiGNA.COM");
	zone_caa("acme.example", 0, "issue", "acme.test");
	zone_caa("badval.example", 0, "issue", "certigna.com; accounturi");
	zone_caa("badval2.example", 0, "issue", "certigna.com.");
	zone_caa("param.example", 0, "issue", "certigna.com; foo=bar");
	zone_caa("quote.example", 0, "issue", "other\001\"\\\303\251.ex");
	mockdns_cname("cname.example", "deny.example");
	mockdns_cname("cname-allow.example", "allow.example");
	zone_caa("par.example", 0, "issue", "other.example");
	mockdns_cname("c.par.example", "target.nocaa.test");
	zone_a("target.nocaa.test");
	zone_caa("nocaa.test", 0, "issue", "certigna.com");
	mockdns_fail("sf.example", CAA_TYPE, DNS_RCODE_SERVFAIL, 0, 0);
	zone_caa("ok.sf.example", 0, "issue", "certigna.com");
	zone_caa("no.sf.example", 0, "issue", "other.example");
	mockdns_fail("sfp.example", CAA_TYPE, DNS_RCODE_SERVFAIL, 1, 0);
	mockdns_fail("to.example", CAA_TYPE, DNS_RCODE_TRANSPORT, 0, 0);
	mockdns_fail("ref.example", CAA_TYPE, ns_r_refused, 0, 0);
	mockdns_fail("odd.example", CAA_TYPE, 12, 1, 0);
	mockdns_fail("garbage.example", CAA_TYPE, 0, 0, 1);
	mockdns_fail("nxpkt.example", CAA_TYPE, ns_r_nxdomain, 1, 0);
	mockdns_fail("sftld", CAA_TYPE, DNS_RCODE_SERVFAIL, 0, 0);
	mockdns_add("badrr.example", CAA_TYPE, taglen0, sizeof(taglen0));
	mockdns_add("cutrr.example", CAA_TYPE, cut, sizeof(cut));
	return 0;
}

#define P	"INVALID_DNSCAA: "
#define DENY(name, found) \
	P "CAA records for " name " do not allow certigna.com to issue " \
	"(found: " found ")"
#define WDENY(name, found) \
	P "CAA records for " name " do not allow certigna.com to issue a " \
	"wildcard certificate (found: " found ")"
#define PDENY(at, name, found) \
	P "CAA records for " at " (parent of " name ") do not allow " \
	"certigna.com to issue (found: " found ")"
#define LFAIL(name, why) \
	P "CAA lookup for " name " failed (" why "): refusing to issue"
#define BADNAME	P "CAA lookup failed (invalid name): refusing to issue"

static void
test_check(void **state)
{
	static const struct {
		const char	*name;
		int		 wildcard;
		const char	*account;
		const char	*method;
		int		 want;
		const char	*detail;	/* when refused */
		const char	*queries;	/* NULL: not checked */
	} cases[] = {
		/* no CAA anywhere */
		{ "none.example", 0, ACCT, "http-01", 1, NULL,
		    "none.example example" },
		{ "a.b.c.example", 0, ACCT, "http-01", 1, NULL,
		    "a.b.c.example b.c.example c.example example" },
		{ "example", 0, ACCT, "http-01", 1, NULL, "example" },
		{ "none.example", 1, ACCT, "dns-01", 1, NULL,
		    "none.example example" },
		/* at the name, at a parent */
		{ "allow.example", 0, ACCT, "http-01", 1, NULL,
		    "allow.example example" },
		{ "allow.example.", 0, ACCT, "http-01", 1, NULL,
		    "allow.example example" },
		{ "ALLOW.Example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "sub.sub.allow.example", 0, ACCT, "http-01", 1, NULL,
		    "sub.sub.allow.example sub.allow.example allow.example "
		    "example" },
		/* the names are looked up 8 at a time: the first 8 hold
		 * records, the next ones are not looked up */
		{ "1.2.3.4.5.6.7.allow.example", 0, ACCT, "http-01", 1, NULL,
		    "1.2.3.4.5.6.7.allow.example 2.3.4.5.6.7.allow.example "
		    "3.4.5.6.7.allow.example 4.5.6.7.allow.example "
		    "5.6.7.allow.example 6.7.allow.example 7.allow.example "
		    "allow.example" },
		/* they do not: the next 8 (here 3) */
		{ "1.2.3.4.5.6.7.8.9.deny.example", 0, ACCT, "http-01", 0,
		    PDENY("deny.example", "1.2.3.4.5.6.7.8.9.deny.example",
		    "issue \"other.example\""),
		    "1.2.3.4.5.6.7.8.9.deny.example 2.3.4.5.6.7.8.9.deny.example "
		    "3.4.5.6.7.8.9.deny.example 4.5.6.7.8.9.deny.example "
		    "5.6.7.8.9.deny.example 6.7.8.9.deny.example "
		    "7.8.9.deny.example 8.9.deny.example 9.deny.example "
		    "deny.example example" },
		{ "deny.example", 0, ACCT, "http-01", 0,
		    DENY("deny.example", "issue \"other.example\""),
		    "deny.example example" },
		{ "x.deny.example", 0, ACCT, "http-01", 0,
		    PDENY("deny.example", "x.deny.example",
		    "issue \"other.example\""),
		    "x.deny.example deny.example example" },
		{ "semi.example", 0, ACCT, "http-01", 0,
		    DENY("semi.example", "issue \";\""), NULL },
		{ "empty.example", 0, ACCT, "http-01", 0,
		    DENY("empty.example", "issue \"\""), NULL },
		{ "several.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "several-deny.example", 0, ACCT, "http-01", 0,
		    DENY("several-deny.example", "issue \"a.example\", "
		    "issue \"b.example\""), NULL },
		{ "case.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "acme.example", 0, ACCT, "http-01", 1, NULL, NULL },
		/* RFC 8657 */
		{ "acct.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "acct.example", 0, ACCT "0", "http-01", 0,
		    DENY("acct.example", "issue \"certigna.com; accounturi="
		    ACCT "\""), NULL },
		{ "acct.example", 0, NULL, "http-01", 0,
		    DENY("acct.example", "issue \"certigna.com; accounturi="
		    ACCT "\""), NULL },
		{ "acct-other.example", 0, ACCT, "http-01", 0,
		    DENY("acct-other.example", "issue \"certigna.com; "
		    "accounturi=https://ca.test/acme/acct/43\""), NULL },
		{ "meth.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "meth.example", 0, ACCT, "dns-01", 1, NULL, NULL },
		{ "meth-dns.example", 0, ACCT, "dns-01", 1, NULL, NULL },
		{ "meth-dns.example", 0, ACCT, "http-01", 0,
		    DENY("meth-dns.example", "issue \"certigna.com; "
		    "validationmethods=dns-01\""), NULL },
		{ "meth-dns.example", 0, ACCT, NULL, 0,
		    DENY("meth-dns.example", "issue \"certigna.com; "
		    "validationmethods=dns-01\""), NULL },
		{ "both.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "both.example", 0, ACCT, "dns-01", 0,
		    DENY("both.example", "issue \"certigna.com; accounturi="
		    ACCT "; validationmethods=http-01\""), NULL },
		{ "param.example", 0, ACCT, "http-01", 1, NULL, NULL },
		/* issuewild */
		{ "wild.example", 1, ACCT, "dns-01", 0,
		    WDENY("wild.example", "issuewild \"other.example\""),
		    NULL },
		{ "*.wild.example", 0, ACCT, "dns-01", 0,
		    WDENY("wild.example", "issuewild \"other.example\""),
		    "wild.example example" },
		{ "wild.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "wildok.example", 1, ACCT, "dns-01", 1, NULL, NULL },
		{ "wildok.example", 0, ACCT, "http-01", 0,
		    DENY("wildok.example", "issue \"other.example\""), NULL },
		{ "wildsemi.example", 1, ACCT, "dns-01", 0,
		    WDENY("wildsemi.example", "issuewild \";\""), NULL },
		{ "wildsemi.example", 0, ACCT, "dns-01", 1, NULL, NULL },
		{ "wildacct.example", 1, ACCT, "dns-01", 0,
		    WDENY("wildacct.example", "issuewild \"certigna.com; "
		    "accounturi=https://ca.test/acme/acct/43\""), NULL },
		{ "wildonly.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "allow.example", 1, ACCT, "dns-01", 1, NULL, NULL },
		{ "deny.example", 1, ACCT, "dns-01", 0,
		    WDENY("deny.example", "issue \"other.example\""), NULL },
		{ "iodef.example", 0, ACCT, "http-01", 1, NULL,
		    "iodef.example example" },
		{ "iodef.example", 1, ACCT, "dns-01", 1, NULL, NULL },
		/* critical flag */
		{ "crit.example", 0, ACCT, "http-01", 0,
		    DENY("crit.example", "unknown critical property "
		    "tbs \"x\""), NULL },
		{ "critcase.example", 0, ACCT, "http-01", 0,
		    DENY("critcase.example", "unknown critical property "
		    "TBS \"x\""), NULL },
		{ "noncrit.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "critissue.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "critiodef.example", 0, ACCT, "http-01", 1, NULL, NULL },
		{ "reserved.example", 0, ACCT, "http-01", 1, NULL, NULL },
		/* malformed values never match */
		{ "badval.example", 0, ACCT, "http-01", 0,
		    DENY("badval.example", "issue \"certigna.com; "
		    "accounturi\""), NULL },
		{ "badval2.example", 0, ACCT, "http-01", 0,
		    DENY("badval2.example", "issue \"certigna.com.\""), NULL },
		{ "quote.example", 0, ACCT, "http-01", 0,
		    DENY("quote.example", "issue \"other?????.ex\""), NULL },
		/* CNAME: the target's records; the climb goes on from the
		 * name's parent, not the target's */
		{ "cname.example", 0, ACCT, "http-01", 0,
		    DENY("cname.example", "issue \"other.example\""),
		    "cname.example example" },
		{ "cname-allow.example", 0, ACCT, "http-01", 1, NULL,
		    "cname-allow.example example" },
		{ "c.par.example", 0, ACCT, "http-01", 0,
		    PDENY("par.example", "c.par.example",
		    "issue \"other.example\""),
		    "c.par.example par.example example" },
		/* lookup failures fail closed */
		{ "sf.example", 0, ACCT, "http-01", 0,
		    LFAIL("sf.example", "SERVFAIL"), "sf.example example" },
		{ "x.sf.example", 0, ACCT, "http-01", 0,
		    LFAIL("sf.example", "SERVFAIL"),
		    "x.sf.example sf.example example" },
		/* in the second batch of names */
		{ "1.2.3.4.5.6.7.8.sf.example", 0, ACCT, "http-01", 0,
		    LFAIL("sf.example", "SERVFAIL"), NULL },
		/* a failure above the relevant records does not count (it
		 * is looked up with them, as they are all at once) */
		{ "ok.sf.example", 0, ACCT, "http-01", 1, NULL,
		    "ok.sf.example sf.example example" },
		{ "no.sf.example", 0, ACCT, "http-01", 0,
		    DENY("no.sf.example", "issue \"other.example\""),
		    "no.sf.example sf.example example" },
		{ "y.x.sfp.example", 0, ACCT, "http-01", 0,
		    LFAIL("sfp.example", "SERVFAIL"), NULL },
		{ "sftld", 0, ACCT, "http-01", 0, LFAIL("sftld", "SERVFAIL"),
		    NULL },
		{ "a.sftld", 0, ACCT, "http-01", 0, LFAIL("sftld", "SERVFAIL"),
		    "a.sftld sftld" },
		{ "to.example", 0, ACCT, "http-01", 0,
		    LFAIL("to.example", "timeout or network error"), NULL },
		{ "x.to.example", 0, ACCT, "http-01", 0,
		    LFAIL("to.example", "timeout or network error"), NULL },
		{ "ref.example", 0, ACCT, "http-01", 0,
		    LFAIL("ref.example", "REFUSED"), NULL },
		{ "odd.example", 0, ACCT, "http-01", 0,
		    LFAIL("odd.example", "RCODE 12"), NULL },
		{ "garbage.example", 0, ACCT, "http-01", 0,
		    LFAIL("garbage.example", "malformed answer"), NULL },
		{ "badrr.example", 0, ACCT, "http-01", 0,
		    LFAIL("badrr.example", "malformed CAA record"), NULL },
		{ "cutrr.example", 0, ACCT, "http-01", 0,
		    LFAIL("cutrr.example", "malformed CAA record"), NULL },
		/* NXDOMAIN told in the answer's header: climb */
		{ "nxpkt.example", 0, ACCT, "http-01", 1, NULL,
		    "nxpkt.example example" },
		/* names never sent */
		{ "", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ ".", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ "a..example", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ ".a.example", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ "a example", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ "a\\.example", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ "a\303\251.example", 0, ACCT, "http-01", 0, BADNAME, "" },
		{ LONG_LABEL "a.example", 0, ACCT, "http-01", 0, BADNAME, "" },
	};
	struct problem p;
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		mockdns.queries = 0;
		qlog[0] = '\0';
		got = caa_check(&resolver, cases[i].name, cases[i].wildcard,
		    ids, 2, cases[i].account, cases[i].method, &p);
		if (got != cases[i].want)
			fail_msg("%s%s (%s): got %d, want %d (%s)",
			    cases[i].wildcard ? "*." : "", cases[i].name,
			    cases[i].method ? cases[i].method : "NULL", got,
			    cases[i].want, p.detail);
		if (got) {
			if (p.type != PT_NONE)
				fail_msg("%s: allowed with a problem: %s",
				    cases[i].name, p.detail);
		} else {
			if (p.type != PT_CAA || p.code != PC_INVALID_DNSCAA ||
			    p.status != 403)
				fail_msg("%s: got type %d code %d status %d, "
				    "want caa INVALID_DNSCAA 403",
				    cases[i].name, p.type, p.code, p.status);
			if (strcmp(p.detail, cases[i].detail) != 0)
				fail_msg("%s: got detail\n\t\"%s\"\nwant\n\t"
				    "\"%s\"", cases[i].name, p.detail,
				    cases[i].detail);
		}
		if (cases[i].queries != NULL &&
		    strcmp(qlog, cases[i].queries) != 0)
			fail_msg("%s: got queries \"%s\", want \"%s\"",
			    cases[i].name, qlog, cases[i].queries);
	}
}

/* No identities configured: any issue property refuses. */
static void
test_check_no_identity(void **state)
{
	struct problem p;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(caa_check(&resolver, "allow.example", 0, NULL, 0,
	    ACCT, "http-01", &p), 0);
	assert_string_equal(p.detail, P "CAA records for allow.example do "
	    "not allow this CA to issue (found: issue \"certigna.com\")");
	memset(&p, 0, sizeof(p));
	assert_int_equal(caa_check(&resolver, "none.example", 0, NULL, 0,
	    ACCT, "http-01", &p), 1);
}

/* The quote of a refusal stays short: long values are cut, many
 * records end with "...", and the detail fits. */
static void
test_check_quote_limits(void **state)
{
	static const char *const many[] = {
		"one.example", "two.example", "three.example", "four.example",
		"five.example", "six.example", "seven.example",
		"eight.example", "nine.example", "ten.example",
		"eleven.example", "twelve.example", "thirteen.example",
	};
	char longval[201], want[512];
	struct problem p;
	size_t i;

	(void)state;
	zone_reset();
	for (i = 0; i < sizeof(many) / sizeof(many[0]); i++)
		zone_caa("many.example", 0, "issue", many[i]);
	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	zone_caa("long.example", 0, "issue", longval);

	memset(&p, 0, sizeof(p));
	assert_int_equal(caa_check(&resolver, "many.example", 0, ids, 2, ACCT,
	    "http-01", &p), 0);
	assert_string_equal(p.detail, DENY("many.example",
	    "issue \"one.example\", issue \"two.example\", "
	    "issue \"three.example\", issue \"four.example\", "
	    "issue \"five.example\", issue \"six.example\", "
	    "issue \"seven.example\", issue \"eight.example\", "
	    "issue \"nine.example\", issue \"ten.example\", ..."));

	memset(&p, 0, sizeof(p));
	assert_int_equal(caa_check(&resolver, "long.example", 0, ids, 2, ACCT,
	    "http-01", &p), 0);
	snprintf(want, sizeof(want), DENY("long.example",
	    "issue \"%.120s...\""), longval);
	assert_string_equal(p.detail, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rr),
		cmocka_unit_test(test_value_parse),
		cmocka_unit_test(test_value_allows),
		cmocka_unit_test(test_identities_parse),
		cmocka_unit_test_setup_teardown(test_check, setup_check_zone,
		    teardown_zone),
		cmocka_unit_test_setup_teardown(test_check_no_identity,
		    setup_check_zone, teardown_zone),
		cmocka_unit_test_setup_teardown(test_check_quote_limits,
		    setup_check_zone, teardown_zone),
	};

	log_init("test_caa", LOG_LVL_ERR);
	/* one group: tests/run.sh counts the last summary line only */
	return cmocka_run_group_tests_name("caa", tests, NULL, NULL) == 0 ?
	    0 : 1;
}
