/*
 * mockdns.c - a mock dns_query() answering from an in-memory zone with
 * wire-format messages (mockdns.h); shared by the unit tests of the DNS
 * layer, of CAA and of the validators.
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
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

#include "dns.h"
#include "mockdns.h"

struct zrec {
	char		 name[MOCKDNS_NAMELEN];
	int		 type;
	unsigned char	 rdata[512];
	size_t		 rdlen;
};

struct mockdns mockdns;

static struct zrec zone[MOCKDNS_MAX];
static size_t nzone;
static struct mockdns_fail zfails[MOCKDNS_MAX];
static size_t nzfails;

/* Empties the zone and the failures; zeroes the knobs. */
void
mockdns_reset(void)
{
	memset(zone, 0, sizeof(zone));
	nzone = 0;
	memset(zfails, 0, sizeof(zfails));
	nzfails = 0;
	memset(&mockdns, 0, sizeof(mockdns));
}

/* Adds one record; name and rd are copied. */
void
mockdns_add(const char *name, int type, const void *rd, size_t rdlen)
{
	assert_true(nzone < MOCKDNS_MAX);
	assert_true(rdlen <= sizeof(zone[0].rdata));
	assert_true(strlen(name) < sizeof(zone[0].name));
	snprintf(zone[nzone].name, sizeof(zone[0].name), "%s", name);
	zone[nzone].type = type;
	memcpy(zone[nzone].rdata, rd, rdlen);
	zone[nzone].rdlen = rdlen;
	nzone++;
}

/* Adds a TXT record made of the given character-strings (NULL ends). */
void
mockdns_txt(const char *name, ...)
{
	unsigned char rd[512];
	size_t len = 0, n;
	const char *s;
	va_list ap;

	va_start(ap, name);
	while ((s = va_arg(ap, const char *)) != NULL) {
		n = strlen(s);
		assert_true(n < 256 && len + 1 + n <= sizeof(rd));
		rd[len++] = (unsigned char)n;
		memcpy(rd + len, s, n);
		len += n;
	}
	va_end(ap);
	mockdns_add(name, ns_t_txt, rd, len);
}

/* Adds an A or an AAAA record. */
void
mockdns_addr(const char *name, const char *addr)
{
	unsigned char a[16];

	if (strchr(addr, ':') != NULL) {
		assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
		mockdns_add(name, ns_t_aaaa, a, 16);
	} else {
		assert_int_equal(inet_pton(AF_INET, addr, a), 1);
		mockdns_add(name, ns_t_a, a, 4);
	}
}

/* Encodes name in uncompressed wire format; returns its length. */
size_t
mockdns_wire(const char *name, unsigned char *out)
{
	size_t len = 0, n;
	const char *dot;

	while (*name != '\0') {
		dot = strchr(name, '.');
		n = dot != NULL ? (size_t)(dot - name) : strlen(name);
		out[len++] = (unsigned char)n;
		memcpy(out + len, name, n);
		len += n;
		name += n;
		if (*name == '.')
			name++;
	}
	out[len++] = 0;
	return len;
}

/* Adds a CNAME record. */
void
mockdns_cname(const char *name, const char *target)
{
	unsigned char rd[256];

	mockdns_add(name, ns_t_cname, rd, mockdns_wire(target, rd));
}

/* Adds a forced failure; returns it (owned by the mock). */
struct mockdns_fail *
mockdns_fail(const char *name, int type, int rcode, int in_packet,
    int garbage)
{
	struct mockdns_fail *f;

	assert_true(nzfails < MOCKDNS_MAX);
	assert_true(strlen(name) < sizeof(zfails[0].name));
	f = &zfails[nzfails++];
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = type;
	f->rcode = rcode;
	f->in_packet = in_packet;
	f->garbage = garbage;
	return f;
}

/* Appends one record, its owner spelled out; returns the new length. */
size_t
mockdns_rr(unsigned char *ans, size_t len, const char *owner, int type,
    const unsigned char *rd, size_t rdlen)
{
	len += mockdns_wire(owner, ans + len);
	ns_put16((unsigned)type, ans + len);
	ns_put16(ns_c_in, ans + len + 2);
	ns_put32(mockdns.authoritative ? 60 : 300, ans + len + 4);
	ns_put16((unsigned)rdlen, ans + len + 8);
	memcpy(ans + len + 10, rd, rdlen);
	return len + 10 + rdlen;
}

/* Appends zone record z, its owner a compression pointer to the
 * question; returns the new length. */
static size_t
put_rr_compressed(unsigned char *ans, size_t len, const struct zrec *z)
{
	ans[len++] = 0xc0;
	ans[len++] = HFIXEDSZ;
	ns_put16((unsigned)z->type, ans + len);
	ns_put16(ns_c_in, ans + len + 2);
	ns_put32(300, ans + len + 4);
	ns_put16((unsigned)z->rdlen, ans + len + 8);
	memcpy(ans + len + 10, z->rdata, z->rdlen);
	return len + 10 + z->rdlen;
}

/* Builds a response header and question for name and type; returns its
 * length. */
static size_t
put_question(const char *name, int type, int rcode, unsigned char *ans)
{
	HEADER *h = (HEADER *)ans;
	size_t len;

	memset(ans, 0, HFIXEDSZ);
	if (mockdns.authoritative)
		h->id = htons(7);
	else {
		h->id = htons(0x1234);
		h->rd = 1;
		h->ra = 1;
	}
	h->qr = 1;
	h->rcode = (unsigned)rcode;
	h->qdcount = htons(1);
	len = HFIXEDSZ + mockdns_wire(name, ans + HFIXEDSZ);
	ns_put16((unsigned)type, ans + len);
	ns_put16(ns_c_in, ans + len + 2);
	return len + 4;
}

/* The default answer: a CNAME at the name, then its target's records;
 * returns the length, 0 when there is no record (*exists set). */
static size_t
answer_one_hop(const char *name, int type, unsigned char *ans, size_t len,
    size_t *an, int *exists)
{
	char cname[NS_MAXDNAME];
	const char *target = name;
	size_t i;

	for (i = 0; i < nzone; i++)
		if (strcasecmp(zone[i].name, name) == 0 &&
		    zone[i].type == ns_t_cname && type != ns_t_cname) {
			len = put_rr_compressed(ans, len, &zone[i]);
			(*an)++;
			assert_true(ns_name_ntop(zone[i].rdata, cname,
			    sizeof(cname)) > 0);
			target = cname;
			break;
		}
	for (i = 0; i < nzone; i++) {
		if (strcasecmp(zone[i].name, target) != 0)
			continue;
		*exists = 1;
		if (zone[i].type != type)
			continue;
		if (target == name)
			len = put_rr_compressed(ans, len, &zone[i]);
		else
			len = mockdns_rr(ans, len, target, zone[i].type,
			    zone[i].rdata, zone[i].rdlen);
		(*an)++;
	}
	if (*an == 0)
		for (i = 0; i < nzone; i++)
			if (strcasecmp(zone[i].name, name) == 0)
				*exists = 1;
	return len;
}

/* The authoritative answer: a CNAME at the name alone (the chain when
 * mockdns.chase), else the records of the name; returns the length. */
static size_t
answer_authoritative(const char *name, int type, unsigned char *ans,
    size_t len, size_t *an, int *exists)
{
	char cur[NS_MAXDNAME];
	size_t i, hops;
	int moved = 0;

	snprintf(cur, sizeof(cur), "%s", name);
	for (hops = 0; hops < 20; hops++) {
		moved = 0;
		for (i = 0; i < nzone; i++) {
			if (strcasecmp(zone[i].name, cur) != 0)
				continue;
			*exists = 1;
			if (zone[i].type == ns_t_cname && type != ns_t_cname) {
				len = mockdns_rr(ans, len, cur, ns_t_cname,
				    zone[i].rdata, zone[i].rdlen);
				(*an)++;
				assert_true(ns_name_ntop(zone[i].rdata, cur,
				    sizeof(cur)) > 0);
				moved = 1;
				break;
			}
		}
		if (!moved || !mockdns.chase)
			break;
	}
	if (!moved)
		for (i = 0; i < nzone; i++)
			if (strcasecmp(zone[i].name, cur) == 0 &&
			    zone[i].type == type) {
				len = mockdns_rr(ans, len, cur, type,
				    zone[i].rdata, zone[i].rdlen);
				(*an)++;
			}
	return len;
}

/* The mock: answers from the zone and the failures. */
int
dns_query(const struct dns_resolver *r, const char *name, int type,
    unsigned char *ans, size_t anslen, int *rcode)
{
	size_t i, len, an = 0;
	int exists = 0;

	(void)r;
	assert_true(anslen >= 4096);
	mockdns.queries++;
	if (mockdns.onquery != NULL)
		mockdns.onquery(name, type);
	for (i = 0; i < nzfails; i++) {
		if (strcasecmp(zfails[i].name, name) != 0 ||
		    (zfails[i].type != 0 && zfails[i].type != type))
			continue;
		if (zfails[i].garbage) {
			memset(ans, 0xff, 20);
			*rcode = 0;
			return 20;
		}
		if (zfails[i].in_packet) {
			*rcode = 0;
			return (int)put_question(name, type, zfails[i].rcode,
			    ans);
		}
		*rcode = zfails[i].rcode;
		return -1;
	}

	len = put_question(name, type, 0, ans);
	if (mockdns.authoritative)
		len = answer_authoritative(name, type, ans, len, &an, &exists);
	else
		len = answer_one_hop(name, type, ans, len, &an, &exists);
	if (mockdns.extra != NULL)
		len = mockdns.extra(ans, len, type, &an);
	if (an == 0) {
		*rcode = exists ? DNS_RCODE_NOERROR : DNS_RCODE_NXDOMAIN;
		return -1;
	}
	((HEADER *)ans)->ancount = htons((uint16_t)an);
	*rcode = 0;
	return (int)len;
}

/* The queries one after the other, in their order: dns_query_all()
 * without its threads. */
void
dns_query_all(const struct dns_resolver *r, struct dns_q *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		q[i].len = dns_query(r, q[i].name, q[i].type, q[i].ans,
		    q[i].anslen, &q[i].rcode);
}
