/*
 * caa.c - the CAA check (RFC 8659) with the accounturi and
 * validationmethods parameters (RFC 8657), over dns_query_all().
 *
 * Every failure to learn the CAA policy refuses issuance: a SERVFAIL at
 * a parent hides records that may forbid us.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caa.h"
#include "util.h"

#define CAA_QUOTE_MAX	240	/* records quoted in a refusal */
#define CAA_QUOTE_VALUE	120	/* octets of one value quoted */

/* Names of the known property tags, indexed by enum caa_tag. */
static const char *const caa_tag_names[CAA_TAG__MAX] = {
	[CAA_TAG_ISSUE] = "issue",
	[CAA_TAG_ISSUEWILD] = "issuewild",
	[CAA_TAG_IODEF] = "iodef",
	[CAA_TAG_OTHER] = NULL,
};

/* RFC 1035 and RFC 2136 RCODE names, for problem details. */
static const char *const caa_rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

/* The CAA records found at one name; rrs point into ans. */
struct caa_set {
	unsigned char	*ans;		/* owned; the DNS answer */
	struct caa_rr	*rrs;		/* owned */
	size_t		 n;
};

/* Returns 1 for an ASCII letter or digit (whatever the locale). */
static int
caa_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Returns 1 for WSP (RFC 5234: space or horizontal tab). */
static int
caa_wsp(int c)
{
	return c == ' ' || c == '\t';
}

/* Returns 1 if the n octets at s are a label of RFC 8659 section 4.2:
 * (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)), i.e. letters, digits and
 * inner hyphens. The same grammar holds for parameter keys and for the
 * method names of validationmethods (RFC 8657 section 4). */
static int
caa_label_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !caa_alnum((unsigned char)s[0]) ||
	    !caa_alnum((unsigned char)s[n - 1]))
		return 0;
	for (i = 1; i < n - 1; i++)
		if (!caa_alnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* Returns 1 if the n octets at s are an issuer-domain-name: labels (at
 * most 63 octets each) separated by dots, at most CAA_ISSUER_MAX octets,
 * no final dot. */
static int
caa_issuer_ok(const char *s, size_t n)
{
	const char *end = s + n, *dot;
	size_t label;

	if (n == 0 || n > CAA_ISSUER_MAX)
		return 0;
	while (s < end) {
		if ((dot = memchr(s, '.', (size_t)(end - s))) == NULL)
			dot = end;
		label = (size_t)(dot - s);
		if (label > 63 || !caa_label_ok(s, label))
			return 0;
		s = dot == end ? end : dot + 1;
		if (dot != end && s == end)
			return 0;	/* final dot */
	}
	return 1;
}

/* Returns 1 if name is a DNS name we are willing to query: printable
 * ASCII without spaces or backslashes, labels of 1 to 63 octets, at most
 * 253 octets (a final dot was removed by the caller). */
static int
caa_name_ok(const char *name)
{
	size_t len, label = 0;
	const char *s;

	len = strlen(name);
	if (len == 0 || len > 253)
		return 0;
	for (s = name; *s != '\0'; s++) {
		if (*s <= ' ' || *s >= 0x7f || *s == '\\')
			return 0;
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (++label > 63)
			return 0;
	}
	return label > 0;
}

int
caa_parse_rr(const unsigned char *rdata, size_t len, struct caa_rr *out)
{
	size_t taglen, i;
	int k;

	memset(out, 0, sizeof(*out));
	if (len < 2)
		return 0;
	taglen = rdata[1];
	if (taglen == 0 || taglen > len - 2)
		return 0;
	for (i = 0; i < taglen; i++)
		if (!caa_alnum(rdata[2 + i]))
			return 0;
	out->flags = rdata[0];
	memcpy(out->tag, rdata + 2, taglen);
	out->tag[taglen] = '\0';
	out->kind = CAA_TAG_OTHER;
	for (k = 0; k < CAA_TAG__MAX; k++)
		if (caa_tag_names[k] != NULL &&
		    strcasecmp(out->tag, caa_tag_names[k]) == 0)
			out->kind = (enum caa_tag)k;
	out->value = (const char *)rdata + 2 + taglen;
	out->valuelen = len - 2 - taglen;
	return 1;
}

/* Returns 1 if the n octets at s spell key, case-insensitively. */
static int
caa_key_is(const char *s, size_t n, const char *key)
{
	return n == strlen(key) && strncasecmp(s, key, n) == 0;
}

int
caa_value_parse(const char *v, size_t len, struct caa_value *out)
{
	size_t i = 0, start, klen, vstart;

	memset(out, 0, sizeof(*out));
	while (i < len && caa_wsp((unsigned char)v[i]))
		i++;
	/* [issuer-domain-name *WSP] */
	start = i;
	while (i < len && (caa_alnum((unsigned char)v[i]) || v[i] == '-' ||
	    v[i] == '.'))
		i++;
	if (i > start) {
		if (!caa_issuer_ok(v + start, i - start))
			return 0;
		memcpy(out->issuer, v + start, i - start);
		out->issuer[i - start] = '\0';
	}
	while (i < len && caa_wsp((unsigned char)v[i]))
		i++;
	/* [";" *WSP [parameters *WSP]] */
	if (i == len)
		return 1;
	if (v[i++] != ';')
		return 0;
	while (i < len && caa_wsp((unsigned char)v[i]))
		i++;
	if (i == len)
		return 1;
	for (;;) {
		/* parameter = tag *WSP "=" *WSP value */
		start = i;
		while (i < len && (caa_alnum((unsigned char)v[i]) ||
		    v[i] == '-'))
			i++;
		klen = i - start;
		if (!caa_label_ok(v + start, klen))
			return 0;
		while (i < len && caa_wsp((unsigned char)v[i]))
			i++;
		if (i == len || v[i++] != '=')
			return 0;
		while (i < len && caa_wsp((unsigned char)v[i]))
			i++;
		/* value = *(%x21-3A / %x3C-7E) */
		vstart = i;
		while (i < len && v[i] >= 0x21 && v[i] <= 0x7e && v[i] != ';')
			i++;
		if (caa_key_is(v + start, klen, "accounturi")) {
			if (out->has_accounturi)
				return 0;
			out->has_accounturi = 1;
			out->accounturi = v + vstart;
			out->accounturi_len = i - vstart;
		} else if (caa_key_is(v + start, klen, "validationmethods")) {
			if (out->has_methods)
				return 0;
			out->has_methods = 1;
			out->methods = v + vstart;
			out->methods_len = i - vstart;
		}
		while (i < len && caa_wsp((unsigned char)v[i]))
			i++;
		if (i == len)
			return 1;
		if (v[i++] != ';')
			return 0;
		while (i < len && caa_wsp((unsigned char)v[i]))
			i++;
		if (i == len)	/* ";" must be followed by a parameter */
			return 0;
	}
}

/* Returns 1 if the comma-separated method list (n octets at s, RFC 8657
 * section 4) is well formed and names method. */
static int
caa_methods_allow(const char *s, size_t n, const char *method)
{
	const char *end = s + n, *comma;
	size_t mlen = strlen(method), ilen;
	int found = 0;

	if (n == 0)
		return 0;
	for (;;) {
		if ((comma = memchr(s, ',', (size_t)(end - s))) == NULL)
			comma = end;
		ilen = (size_t)(comma - s);
		if (!caa_label_ok(s, ilen))
			return 0;
		if (ilen == mlen && memcmp(s, method, mlen) == 0)
			found = 1;
		if (comma == end)
			break;
		s = comma + 1;
	}
	return found;
}

int
caa_value_allows(const struct caa_value *v,
    const char *const *identities, size_t nidentities,
    const char *account_uri, const char *method)
{
	size_t i;
	int ours = 0;

	if (v->issuer[0] == '\0')
		return 0;
	for (i = 0; i < nidentities; i++)
		if (strcasecmp(v->issuer, identities[i]) == 0)
			ours = 1;
	if (!ours)
		return 0;
	if (v->has_accounturi && (account_uri == NULL ||
	    strlen(account_uri) != v->accounturi_len ||
	    memcmp(account_uri, v->accounturi, v->accounturi_len) != 0))
		return 0;
	if (v->has_methods && (method == NULL ||
	    !caa_methods_allow(v->methods, v->methods_len, method)))
		return 0;
	return 1;
}

/* The records quoted in a refusal. */
struct caa_quote {
	char	 text[CAA_QUOTE_MAX];	/* NUL-terminated */
	int	 full;			/* records were left out */
};

/* Appends one record to a refusal's quote: `tag "value"`, octets
 * outside printable ASCII, quotes and backslashes shown as '?', a long
 * value cut with "...". Once the quote is full, it ends with ", ...". */
static void
caa_quote_add(struct caa_quote *q, const struct caa_rr *rr)
{
	char item[CAA_TAG_MAX + CAA_QUOTE_VALUE + 16];
	size_t len = strlen(q->text), n = 0, i;
	unsigned char c;

	if (q->full)
		return;
	if (len > 0) {
		item[n++] = ',';
		item[n++] = ' ';
	}
	memcpy(item + n, rr->tag, strlen(rr->tag));
	n += strlen(rr->tag);
	item[n++] = ' ';
	item[n++] = '"';
	for (i = 0; i < rr->valuelen && i < CAA_QUOTE_VALUE; i++) {
		c = (unsigned char)rr->value[i];
		item[n++] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ?
		    '?' : (char)c;
	}
	if (rr->valuelen > CAA_QUOTE_VALUE) {
		memcpy(item + n, "...", 3);
		n += 3;
	}
	item[n++] = '"';
	item[n] = '\0';
	if (len + n + 6 <= sizeof(q->text))
		memcpy(q->text + len, item, n + 1);
	else {
		snprintf(q->text + len, sizeof(q->text) - len, "%s...",
		    len > 0 ? ", " : "");
		q->full = 1;
	}
}

/* Returns the name of an RCODE for a problem detail: into buf (size
 * bytes) unless it is a static name. */
static const char *
caa_rcode_text(int rcode, char *buf, size_t size)
{
	if (rcode == DNS_RCODE_TRANSPORT)
		return "timeout or network error";
	if (rcode >= 0 && (size_t)rcode < sizeof(caa_rcode_names) /
	    sizeof(caa_rcode_names[0]))
		return caa_rcode_names[rcode];
	snprintf(buf, size, "RCODE %d", rcode);
	return buf;
}

static void
caa_set_free(struct caa_set *s)
{
	free(s->ans);
	free(s->rrs);
	memset(s, 0, sizeof(*s));
}

/*
 * Reads the CAA records of the answer q (dns_query's result for a CAA
 * query at q->name) into s, which takes q's answer buffer (s is emptied
 * first; the records of every owner in the answer count, the server
 * having followed CNAMEs). NXDOMAIN and NOERROR without records leave s
 * empty. Returns 1, or 0 with p set (INVALID_DNSCAA) when the lookup
 * failed or the answer or a record in it is malformed.
 */
static int
caa_answer(struct dns_q *q, struct caa_set *s, struct problem *p)
{
	ns_msg msg;
	ns_rr rr;
	const char *why = NULL;
	char buf[32];
	int rcode, i, count, rc = 0;

	caa_set_free(s);
	s->ans = q->ans;
	q->ans = NULL;
	if (q->len < 0) {
		if (q->rcode == DNS_RCODE_NXDOMAIN ||
		    q->rcode == DNS_RCODE_NOERROR)
			rc = 1;
		else
			why = caa_rcode_text(q->rcode, buf, sizeof(buf));
		goto out;
	}
	if (ns_initparse(s->ans, q->len, &msg) < 0) {
		why = "malformed answer";
		goto out;
	}
	rcode = ns_msg_getflag(msg, ns_f_rcode);
	if (rcode == ns_r_nxdomain) {
		rc = 1;
		goto out;
	} else if (rcode != ns_r_noerror) {
		why = caa_rcode_text(rcode, buf, sizeof(buf));
		goto out;
	}
	count = ns_msg_count(msg, ns_s_an);
	s->rrs = xcalloc(count > 0 ? (size_t)count : 1, sizeof(*s->rrs));
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			why = "malformed answer";
			goto out;
		}
		if (ns_rr_type(rr) != CAA_TYPE || ns_rr_class(rr) != ns_c_in)
			continue;
		if (!caa_parse_rr(ns_rr_rdata(rr), ns_rr_rdlen(rr),
		    &s->rrs[s->n])) {
			why = "malformed CAA record";
			goto out;
		}
		s->n++;
	}
	rc = 1;
out:
	if (why != NULL) {
		problem_code(p, PC_INVALID_DNSCAA, "CAA lookup for %s failed "
		    "(%s): refusing to issue", q->name, why);
		msg_warn("caa: lookup for %s failed: %s", q->name, why);
	}
	return rc;
}

/*
 * Finds the relevant RRset for base into s: the first non-empty CAA
 * RRset at base, then at each parent down to the TLD, never the root.
 * The names are looked up together, DNS_MAX_PARALLEL at a time (as many
 * as most names have), and read in that order: a lookup that failed
 * refuses only when no name before it has records, as when they were
 * looked up one after the other. Returns 1 with *at the name where s was
 * found (in base; s empty when none has records), or 0 with p set.
 */
static int
caa_find(const struct dns_resolver *r, const char *base,
    struct caa_set *s, const char **at, struct problem *p)
{
	struct dns_q q[DNS_MAX_PARALLEL];
	const char *next = base, *dot;
	size_t i, n = 0;
	int rc = 0, done = 0;

	while (!done && next != NULL) {
		for (n = 0; n < DNS_MAX_PARALLEL && next != NULL; n++) {
			dns_q_init(&q[n], next, CAA_TYPE);
			next = (dot = strchr(next, '.')) != NULL ? dot + 1 :
			    NULL;
		}
		dns_query_all(r, q, n);
		for (i = 0; i < n && !done; i++) {
			*at = q[i].name;
			if (!caa_answer(&q[i], s, p))
				goto out;
			done = s->n > 0;
		}
		for (i = 0; i < n; i++)
			dns_q_free(&q[i]);
		n = 0;
	}
	rc = 1;
out:
	for (i = 0; i < n; i++)
		dns_q_free(&q[i]);
	return rc;
}

/*
 * Applies the relevant RRset s, found at the name at, to a request for
 * name (RFC 8659 sections 4.2 and 4.3, RFC 8657). Returns 1 if issuance
 * is allowed, or 0 with p set (INVALID_DNSCAA).
 */
static int
caa_evaluate(const struct caa_set *s, const char *name, const char *at,
    int wildcard, const char *const *identities, size_t nidentities,
    const char *account_uri, const char *method, struct problem *p)
{
	struct caa_value v;
	struct caa_quote found;
	enum caa_tag want = CAA_TAG_ISSUE;
	char where[600];
	const char *us, *what;
	size_t i, nrel = 0;
	int rc = 0;

	memset(&found, 0, sizeof(found));
	what = "";
	for (i = 0; i < s->n; i++)
		if ((s->rrs[i].flags & CAA_FLAG_CRITICAL) != 0 &&
		    s->rrs[i].kind == CAA_TAG_OTHER) {
			caa_quote_add(&found, &s->rrs[i]);
			what = "unknown critical property ";
			goto out;
		}
	if (wildcard)
		for (i = 0; i < s->n; i++)
			if (s->rrs[i].kind == CAA_TAG_ISSUEWILD)
				want = CAA_TAG_ISSUEWILD;
	for (i = 0; i < s->n; i++) {
		if (s->rrs[i].kind != want)
			continue;
		nrel++;
		if (caa_value_parse(s->rrs[i].value, s->rrs[i].valuelen, &v) &&
		    caa_value_allows(&v, identities, nidentities, account_uri,
		    method)) {
			msg_debug("caa: %s: %s at %s allows issuance", name,
			    s->rrs[i].tag, at);
			rc = 1;
			goto out;
		}
		caa_quote_add(&found, &s->rrs[i]);
	}
	if (nrel == 0) {
		msg_debug("caa: %s: no %s property at %s", name,
		    caa_tag_names[want], at);
		rc = 1;
	}
out:
	if (rc == 0) {
		us = nidentities > 0 ? identities[0] : "this CA";
		if (strcasecmp(name, at) == 0)
			snprintf(where, sizeof(where), "%s", name);
		else
			snprintf(where, sizeof(where), "%s (parent of %s)", at,
			    name);
		problem_code(p, PC_INVALID_DNSCAA, "CAA records for %s do not "
		    "allow %s to issue%s (found: %s%s)", where, us,
		    wildcard ? " a wildcard certificate" : "", what,
		    found.text);
	}
	return rc;
}

int
caa_check(const struct dns_resolver *r, const char *name, int wildcard,
    const char *const *identities, size_t nidentities,
    const char *account_uri, const char *method, struct problem *p)
{
	struct caa_set s;
	char *base = NULL;
	const char *level = NULL;
	size_t len;
	int rc = 0;

	memset(&s, 0, sizeof(s));
	if (strncmp(name, "*.", 2) == 0) {
		name += 2;
		wildcard = 1;
	}
	base = xstrdup(name);
	len = strlen(base);
	if (len > 0 && base[len - 1] == '.')
		base[len - 1] = '\0';
	if (!caa_name_ok(base)) {
		problem_code(p, PC_INVALID_DNSCAA, "CAA lookup failed (invalid "
		    "name): refusing to issue");
		goto out;
	}
	if (!caa_find(r, base, &s, &level, p))
		goto out;
	if (s.n == 0) {
		msg_debug("caa: %s: no CAA records", base);
		rc = 1;
		goto out;
	}
	rc = caa_evaluate(&s, base, level, wildcard, identities, nidentities,
	    account_uri, method, p);
out:
	caa_set_free(&s);
	free(base);
	return rc;
}

char **
caa_identities_parse(const char *list, size_t *n)
{
	char **v = NULL;
	const char *s, *e, *comma;

	*n = 0;
	for (s = list; s != NULL && *s != '\0'; s = comma + 1) {
		if ((comma = strchr(s, ',')) == NULL)
			comma = s + strlen(s);
		e = comma;
		while (s < e && caa_wsp((unsigned char)*s))
			s++;
		while (e > s && caa_wsp((unsigned char)e[-1]))
			e--;
		if (e > s) {
			v = xrealloc(v, (*n + 1) * sizeof(*v));
			v[(*n)++] = xstrndup(s, (size_t)(e - s));
		}
		if (*comma == '\0')
			break;
	}
	return v;
}
