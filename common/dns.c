/*
 * dns.c - name server configuration and the lookups the worker needs
 * (TXT for dns-01, A/AAAA for http-01), over dns_query().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "util.h"

/* RFC 1035 and RFC 2136 RCODE names, for problem details. */
static const char *const dns_rcode_names[] = {
	"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
	"YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
};

/* Called with the data of each record of the wanted type; returns 1, or
 * 0 when the data is malformed. */
typedef int (*dns_rr_cb)(void *arg, const unsigned char *rdata,
    size_t rdlen);

/* Returns the name of a query type (static). */
static const char *
dns_type_name(int type)
{
	switch (type) {
	case ns_t_a:
		return "A";
	case ns_t_aaaa:
		return "AAAA";
	case ns_t_txt:
		return "TXT";
	case ns_t_cname:
		return "CNAME";
	case ns_t_caa:
		return "CAA";
	default:
		return "?";
	}
}

/* Sets p to the dns problem for a failed query of type at name. */
static void
dns_problem(struct problem *p, int rcode, int type, const char *name)
{
	if (rcode == DNS_RCODE_TRANSPORT)
		problem_set(p, PT_DNS, "no answer from the name servers "
		    "(timeout or network error) looking up %s for %s",
		    dns_type_name(type), name);
	else if (rcode >= 0 && (size_t)rcode < sizeof(dns_rcode_names) /
	    sizeof(dns_rcode_names[0]))
		problem_set(p, PT_DNS, "%s looking up %s for %s",
		    dns_rcode_names[rcode], dns_type_name(type), name);
	else
		problem_set(p, PT_DNS, "RCODE %d looking up %s for %s",
		    rcode, dns_type_name(type), name);
}

/* Returns 1 if name is a DNS name we are willing to send to libresolv:
 * printable ASCII without spaces or backslashes (which res_mkquery
 * would take as escapes), labels of 1 to 63 octets, at most 253 octets
 * without the optional final dot. */
static int
dns_name_ok(const char *name)
{
	size_t len, label = 0;
	const char *s;

	len = strlen(name);
	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (s = name; s < name + len; s++) {
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

/*
 * Calls cb with the data of every record of the query's type and class
 * IN in the answer section of q (dns_query's result), whatever its owner
 * (the server has followed CNAMEs). Returns 1 with *nxdomain set to 1 if
 * the name does not exist (no records then), or 0 with p set (dns
 * problem: SERVFAIL, timeout, refused, malformed answer).
 */
static int
dns_parse(const struct dns_q *q, dns_rr_cb cb, void *arg, int *nxdomain,
    struct problem *p)
{
	ns_msg msg;
	ns_rr rr;
	int rcode, i, count;

	*nxdomain = 0;
	if (q->len < 0) {
		if (q->rcode == DNS_RCODE_NXDOMAIN)
			*nxdomain = 1;
		else if (q->rcode != DNS_RCODE_NOERROR) {
			dns_problem(p, q->rcode, q->type, q->name);
			return 0;
		}
		return 1;
	}
	if (ns_initparse(q->ans, q->len, &msg) < 0)
		goto malformed;
	rcode = ns_msg_getflag(msg, ns_f_rcode);
	if (rcode == ns_r_nxdomain) {
		*nxdomain = 1;
		return 1;
	} else if (rcode != ns_r_noerror) {
		dns_problem(p, rcode, q->type, q->name);
		return 0;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			goto malformed;
		if ((int)ns_rr_type(rr) != q->type ||
		    ns_rr_class(rr) != ns_c_in)
			continue;
		if (!cb(arg, ns_rr_rdata(rr), ns_rr_rdlen(rr))) {
			problem_set(p, PT_DNS, "malformed %s record for %s",
			    dns_type_name(q->type), q->name);
			return 0;
		}
	}
	return 1;
malformed:
	problem_set(p, PT_DNS, "malformed DNS answer looking up %s for %s",
	    dns_type_name(q->type), q->name);
	return 0;
}

void
dns_q_init(struct dns_q *q, const char *name, int type)
{
	memset(q, 0, sizeof(*q));
	q->name = name;
	q->type = type;
	q->ans = xmalloc(NS_MAXMSG);
	q->anslen = NS_MAXMSG;
}

void
dns_q_free(struct dns_q *q)
{
	free(q->ans);
	q->ans = NULL;
}

/* Returns 1 if name may be sent, or 0 with p set (dns problem). */
static int
dns_name_check(const char *name, int type, struct problem *p)
{
	if (dns_name_ok(name))
		return 1;
	problem_set(p, PT_DNS, "invalid DNS name looking up %s",
	    dns_type_name(type));
	return 0;
}

/*
 * Queries type at name and calls cb with the data of every record of
 * that type (dns_parse). Returns 1 with *nxdomain set to 1 if the name
 * does not exist, or 0 with p set (dns problem: invalid name, SERVFAIL,
 * timeout, refused, malformed answer).
 */
static int
dns_collect(const struct dns_resolver *r, const char *name, int type,
    dns_rr_cb cb, void *arg, int *nxdomain, struct problem *p)
{
	struct dns_q q;
	int rc;

	*nxdomain = 0;
	if (!dns_name_check(name, type, p))
		return 0;
	dns_q_init(&q, name, type);
	q.len = dns_query(r, name, type, q.ans, q.anslen, &q.rcode);
	rc = dns_parse(&q, cb, arg, nxdomain, p);
	dns_q_free(&q);
	return rc;
}

int
dns_resolver_parse(struct dns_resolver *r, const char *spec)
{
	char *copy = NULL, *item, *next, *colon, *end;
	struct sockaddr_in *sin;
	unsigned long port;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	r->timeout = DNS_DEFAULT_TIMEOUT;
	r->attempts = DNS_DEFAULT_ATTEMPTS;
	if (spec == NULL || spec[strspn(spec, " \t")] == '\0') {
		rc = 1;
		goto out;
	}
	copy = xstrdup(spec);
	for (item = copy; item != NULL; item = next) {
		if ((next = strchr(item, ',')) != NULL)
			*next++ = '\0';
		item += strspn(item, " \t");
		end = item + strlen(item);
		while (end > item && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (*item == '\0') {
			msg_warn("dns servers \"%s\": empty item", spec);
			goto out;
		}
		if (r->nservers == DNS_MAX_SERVERS) {
			msg_warn("dns servers \"%s\": more than %d servers",
			    spec, DNS_MAX_SERVERS);
			goto out;
		}
		port = NS_DEFAULTPORT;
		if ((colon = strchr(item, ':')) != NULL) {
			*colon++ = '\0';
			errno = 0;
			if (!isdigit((unsigned char)*colon) ||
			    (port = strtoul(colon, &end, 10)) == 0 ||
			    port > 65535 || *end != '\0' || errno != 0) {
				msg_warn("dns servers \"%s\": bad port \"%s\"",
				    spec, colon);
				goto out;
			}
		}
		sin = &r->servers[r->nservers];
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, item, &sin->sin_addr) != 1) {
			msg_warn("dns servers \"%s\": \"%s\" is not an IPv4 "
			    "address", spec, item);
			goto out;
		}
		r->nservers++;
	}
	rc = 1;
out:
	if (rc == 0)
		r->nservers = 0;
	free(copy);
	return rc;
}

struct dns_txt_list {
	char	**v;
	size_t	  n;
};

/* Appends the concatenated character-strings of one TXT record. */
static int
dns_txt_cb(void *arg, const unsigned char *rd, size_t rdlen)
{
	struct dns_txt_list *l = arg;
	char *s;
	size_t i, off = 0, len = 0, clen;
	int rc = 0;

	s = xmalloc(rdlen + 1);
	while (off < rdlen) {
		clen = rd[off++];
		if (clen > rdlen - off)
			goto out;
		memcpy(s + len, rd + off, clen);
		len += clen;
		off += clen;
	}
	s[len] = '\0';
	/* a NUL byte would end the string early: make it visible */
	for (i = 0; i < len; i++)
		if (s[i] == '\0')
			s[i] = '?';
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = s;
	s = NULL;
	rc = 1;
out:
	free(s);
	return rc;
}

int
dns_txt(const struct dns_resolver *r, const char *name, char ***txts,
    size_t *ntxt, struct problem *p)
{
	struct dns_txt_list l = { NULL, 0 };
	int nx, rc = 0;

	*txts = NULL;
	*ntxt = 0;
	if (!dns_collect(r, name, ns_t_txt, dns_txt_cb, &l, &nx, p))
		goto out;
	*txts = l.v;
	*ntxt = l.n;
	l.v = NULL;
	l.n = 0;
	rc = 1;
out:
	dns_strings_free(l.v, l.n);
	return rc;
}

struct dns_addr_list {
	struct sockaddr_storage	*v;
	size_t			 n;
};

/* Appends the address of one A record. */
static int
dns_a_cb(void *arg, const unsigned char *rd, size_t rdlen)
{
	struct dns_addr_list *l = arg;
	struct sockaddr_in *sin;

	if (rdlen != NS_INADDRSZ)
		return 0;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	sin = (struct sockaddr_in *)&l->v[l->n];
	sin->sin_family = AF_INET;
	memcpy(&sin->sin_addr, rd, NS_INADDRSZ);
	l->n++;
	return 1;
}

/* Appends the address of one AAAA record. */
static int
dns_aaaa_cb(void *arg, const unsigned char *rd, size_t rdlen)
{
	struct dns_addr_list *l = arg;
	struct sockaddr_in6 *sin6;

	if (rdlen != NS_IN6ADDRSZ)
		return 0;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	memset(&l->v[l->n], 0, sizeof(l->v[l->n]));
	sin6 = (struct sockaddr_in6 *)&l->v[l->n];
	sin6->sin6_family = AF_INET6;
	memcpy(&sin6->sin6_addr, rd, NS_IN6ADDRSZ);
	l->n++;
	return 1;
}

int
dns_addrs(const struct dns_resolver *r, const char *name,
    struct sockaddr_storage **addrs, size_t *naddrs, struct problem *p)
{
	struct dns_addr_list l = { NULL, 0 };
	struct dns_q q[2];
	struct problem p6;
	int nx, rc = 0;

	memset(&p6, 0, sizeof(p6));
	*addrs = NULL;
	*naddrs = 0;
	if (!dns_name_check(name, ns_t_a, p))
		return 0;
	dns_q_init(&q[0], name, ns_t_a);
	dns_q_init(&q[1], name, ns_t_aaaa);
	dns_query_all(r, q, 2);
	if (!dns_parse(&q[0], dns_a_cb, &l, &nx, p))
		goto out;
	if (nx) {
		problem_set(p, PT_DNS, "NXDOMAIN looking up A for %s", name);
		goto out;
	}
	if (!dns_parse(&q[1], dns_aaaa_cb, &l, &nx, &p6)) {
		if (l.n == 0) {
			problem_set(p, p6.type, "%s", p6.detail);
			goto out;
		}
		msg_warn("dns: %s (ignored: A records found)", p6.detail);
	}
	if (l.n == 0) {
		problem_set(p, PT_DNS, "no valid A or AAAA records for %s",
		    name);
		goto out;
	}
	*addrs = l.v;
	*naddrs = l.n;
	l.v = NULL;
	rc = 1;
out:
	dns_q_free(&q[0]);
	dns_q_free(&q[1]);
	problem_clear(&p6);
	free(l.v);
	return rc;
}

void
dns_strings_free(char **v, size_t n)
{
	strv_free(v, n);
}
