/*
 * dns01.c - dns-01 validation (RFC 8555 section 8.4): a TXT record at
 * _acme-challenge.<name> holding base64url(SHA-256(key authorization)).
 *
 * Hosting teams often delegate _acme-challenge with a CNAME to a zone
 * they can update. A recursive server follows the chain itself; an
 * authoritative one answers the CNAME alone when its target is in
 * another zone. Either way the worker follows the chain it is given,
 * record by record from the name it asked, and asks again at the end of
 * the chain when the answer stops there: at most DNS01_MAX_CNAME links,
 * and a name met twice is a loop. Only TXT records owned by the end of
 * the chain count; the character-strings of one record are joined.
 * SERVFAIL, a timeout or a malformed answer at any step is a dns
 * problem, never "no record".
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "jose.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#define DNS01_QUOTE_MAX	96	/* TXT text quoted in details */
#define DNS01_MAX_CNAME	8	/* links of a CNAME chain */

/* RFC 1035 and RFC 2136 RCODE names, for problem details. */
static const char *const dns01_rcodes[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

/* The state of one lookup: the chain so far and the TXT texts found. */
struct dns01_chain {
	char	*names[DNS01_MAX_CNAME + 1];	/* owned; [0] is asked */
	size_t	 nnames;
	char	**txts;				/* owned */
	size_t	 ntxt;
};

/* Sets p to the dns problem of a failed TXT query at name. */
static void
dns01_rcode_problem(struct problem *p, int rcode, const char *name)
{
	if (rcode == DNS_RCODE_TRANSPORT)
		problem_set(p, PT_DNS, "no answer from the name servers "
		    "(timeout or network error) looking up TXT for %s", name);
	else if (rcode >= 0 && (size_t)rcode < sizeof(dns01_rcodes) /
	    sizeof(dns01_rcodes[0]))
		problem_set(p, PT_DNS, "%s looking up TXT for %s",
		    dns01_rcodes[rcode], name);
	else
		problem_set(p, PT_DNS, "RCODE %d looking up TXT for %s", rcode,
		    name);
}

/* Returns 1 if two presentation-format names are equal (ASCII case
 * ignored, a final dot ignored). */
static int
dns01_same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 1 && a[la - 1] == '.')
		la--;
	if (lb > 1 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Appends the joined character-strings of one TXT record's data to c.
 * Returns 1, or 0 when the data is malformed. */
static int
dns01_add_txt(struct dns01_chain *c, const unsigned char *rd, size_t rdlen)
{
	char *s;
	size_t i, off = 0, len = 0, n;

	s = xmalloc(rdlen + 1);
	while (off < rdlen) {
		n = rd[off++];
		if (n > rdlen - off) {
			free(s);
			return 0;
		}
		memcpy(s + len, rd + off, n);
		len += n;
		off += n;
	}
	s[len] = '\0';
	for (i = 0; i < len; i++)	/* a NUL would cut the text */
		if (s[i] == '\0')
			s[i] = '?';
	c->txts = xrealloc(c->txts, (c->ntxt + 1) * sizeof(*c->txts));
	c->txts[c->ntxt++] = s;
	return 1;
}

/*
 * Adds target to the chain as its new end. Returns 1, or 0 with p set
 * (dns) when the chain is too long, loops, or the target is not a name
 * we would ask for.
 */
static int
dns01_link(struct dns01_chain *c, const char *target, struct problem *p)
{
	size_t i, len = strlen(target);

	if (len == 0 || len > NS_MAXDNAME || strcmp(target, ".") == 0 ||
	    strpbrk(target, "\\ ") != NULL) {
		problem_set(p, PT_DNS, "invalid CNAME target for %s",
		    c->names[c->nnames - 1]);
		return 0;
	}
	for (i = 0; i < len; i++)
		if (target[i] < 0x21 || target[i] > 0x7e) {
			problem_set(p, PT_DNS, "invalid CNAME target for %s",
			    c->names[c->nnames - 1]);
			return 0;
		}
	for (i = 0; i < c->nnames; i++)
		if (dns01_same_name(c->names[i], target)) {
			problem_set(p, PT_DNS, "CNAME loop: %s leads back to "
			    "%s", c->names[c->nnames - 1], c->names[i]);
			return 0;
		}
	if (c->nnames > DNS01_MAX_CNAME) {
		problem_set(p, PT_DNS, "CNAME chain from %s longer than %d "
		    "links", c->names[0], DNS01_MAX_CNAME);
		return 0;
	}
	c->names[c->nnames++] = xstrndup(target, len > 1 &&
	    target[len - 1] == '.' ? len - 1 : len);
	return 1;
}

/*
 * Walks one answer (len bytes at ans) to the query for the chain's
 * current end: follows the CNAMEs owned by the end, then keeps the TXT
 * records owned by the new end. Returns 1, or 0 with p set (dns).
 */
static int
dns01_walk(struct dns01_chain *c, const unsigned char *ans, int len,
    int *nxdomain, struct problem *p)
{
	char target[NS_MAXDNAME];
	const char *asked = c->names[c->nnames - 1];
	ns_msg msg;
	ns_rr rr;
	int count, i, rcode, moved;

	*nxdomain = 0;
	if (ns_initparse(ans, len, &msg) < 0) {
		problem_set(p, PT_DNS, "malformed DNS answer looking up TXT "
		    "for %s", asked);
		return 0;
	}
	rcode = ns_msg_getflag(msg, ns_f_rcode);
	if (rcode == ns_r_nxdomain) {
		*nxdomain = 1;
		return 1;
	}
	if (rcode != ns_r_noerror) {
		dns01_rcode_problem(p, rcode, asked);
		return 0;
	}
	count = ns_msg_count(msg, ns_s_an);
	/* the chain within this answer, in any record order */
	do {
		moved = 0;
		for (i = 0; i < count; i++) {
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
				problem_set(p, PT_DNS, "malformed DNS answer "
				    "looking up TXT for %s", asked);
				return 0;
			}
			if (ns_rr_type(rr) != ns_t_cname ||
			    ns_rr_class(rr) != ns_c_in ||
			    !dns01_same_name(ns_rr_name(rr),
			    c->names[c->nnames - 1]))
				continue;
			if (ns_name_uncompress(ns_msg_base(msg),
			    ns_msg_end(msg), ns_rr_rdata(rr), target,
			    sizeof(target)) < 0) {
				problem_set(p, PT_DNS, "malformed CNAME record "
				    "for %s", ns_rr_name(rr));
				return 0;
			}
			if (!dns01_link(c, target, p))
				return 0;
			moved = 1;
			break;
		}
	} while (moved);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			problem_set(p, PT_DNS, "malformed DNS answer looking "
			    "up TXT for %s", asked);
			return 0;
		}
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in ||
		    !dns01_same_name(ns_rr_name(rr), c->names[c->nnames - 1]))
			continue;
		if (!dns01_add_txt(c, ns_rr_rdata(rr), ns_rr_rdlen(rr))) {
			problem_set(p, PT_DNS, "malformed TXT record for %s",
			    ns_rr_name(rr));
			return 0;
		}
	}
	return 1;
}

/*
 * Looks up the TXT records of c->names[0], following CNAMEs. Returns 1
 * with c->txts (possibly none: NXDOMAIN, no data, or a chain ending
 * nowhere), or 0 with p set (dns).
 */
static int
dns01_lookup(const struct dns_resolver *res, struct dns01_chain *c,
    struct problem *p)
{
	unsigned char *ans = NULL;
	size_t before;
	int len, rcode, nx, rc = 0;

	ans = xmalloc(NS_MAXMSG);
	for (;;) {
		before = c->nnames;
		len = dns_query(res, c->names[c->nnames - 1], ns_t_txt, ans,
		    NS_MAXMSG, &rcode);
		if (len < 0) {
			if (rcode != DNS_RCODE_NXDOMAIN &&
			    rcode != DNS_RCODE_NOERROR) {
				dns01_rcode_problem(p, rcode,
				    c->names[c->nnames - 1]);
				goto out;
			}
			break;
		}
		if (!dns01_walk(c, ans, len, &nx, p))
			goto out;
		/* the answer stopped at a CNAME target: ask there */
		if (c->ntxt > 0 || nx || c->nnames == before)
			break;
	}
	rc = 1;
out:
	free(ans);
	return rc;
}

/* Returns 1 if a TXT record at _acme-challenge.<name> ("*." removed)
 * equals base64url(SHA-256(key_auth)), else 0 with p set (unauthorized
 * or dns). */
int
dns01_validate(const struct dns_resolver *res, const char *name,
    const char *key_auth, struct problem *p)
{
	struct dns01_chain c;
	char *want = NULL, *via = NULL;
	char got[DNS01_QUOTE_MAX];
	const char *qname;
	size_t i;
	int rc = 0;

	memset(&c, 0, sizeof(c));
	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	c.names[c.nnames++] = xasprintf("_acme-challenge.%s", name);
	qname = c.names[0];
	if ((want = sha256_b64u(key_auth)) == NULL) {
		problem_set(p, PT_SERVER_INTERNAL, "dns-01: cannot hash the "
		    "key authorization");
		goto out;
	}
	if (!dns01_lookup(res, &c, p))
		goto out;
	for (i = 0; i < c.ntxt; i++)
		if (strcmp(c.txts[i], want) == 0) {
			msg_debug("dns-01: %s: found the expected TXT record%s%s",
			    qname, c.nnames > 1 ? " at " : "",
			    c.nnames > 1 ? c.names[c.nnames - 1] : "");
			rc = 1;
			goto out;
		}
	if (c.nnames > 1)
		via = xasprintf(" (through CNAME to %s)", c.names[c.nnames - 1]);
	if (c.ntxt == 0)
		problem_set(p, PT_UNAUTHORIZED, "no TXT record found at %s%s",
		    qname, via != NULL ? via : "");
	else {
		printable_copy(got, sizeof(got), c.txts[0], strlen(c.txts[0]));
		if (c.ntxt == 1)
			problem_set(p, PT_UNAUTHORIZED, "incorrect TXT record "
			    "\"%s\" found at %s%s", got, qname,
			    via != NULL ? via : "");
		else
			problem_set(p, PT_UNAUTHORIZED, "incorrect TXT record "
			    "\"%s\" (and %zu more) found at %s%s", got,
			    c.ntxt - 1, qname, via != NULL ? via : "");
	}
out:
	strv_free(c.txts, c.ntxt);
	for (i = 0; i < c.nnames; i++)
		free(c.names[i]);
	free(want);
	free(via);
	return rc;
}
