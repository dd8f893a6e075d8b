/*
 * fake_dns.c - a dns_query() answering from a fuzz input (see fuzz.h),
 * and a dns_query_all() sending its queries one after the other,
 * linked instead of common/dns_query.c by the DNS and CAA targets.
 */
#include <arpa/nameser.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"

static const uint8_t *fake_data;
static size_t fake_len;

void
fake_dns_set(const uint8_t *data, size_t len)
{
	fake_data = data;
	fake_len = len;
}

/* Returns the next message of the input as the answer; an empty one is
 * NXDOMAIN, one of a single byte that RCODE without a message. */
int
dns_query(const struct dns_resolver *r, const char *name, int type,
    unsigned char *ans, size_t anslen, int *rcode)
{
	size_t n;

	(void)r;
	(void)name;
	(void)type;
	*rcode = DNS_RCODE_TRANSPORT;
	if (fake_len < 2)
		return -1;
	n = (size_t)fake_data[0] << 8 | fake_data[1];
	fake_data += 2;
	fake_len -= 2;
	if (n > fake_len)
		n = fake_len;
	if (n > anslen)
		n = anslen;
	if (n == 0) {
		*rcode = DNS_RCODE_NXDOMAIN;
		return -1;
	}
	if (n == 1) {
		*rcode = fake_data[0] & 0x0f;
		fake_data++;
		fake_len--;
		return -1;
	}
	memcpy(ans, fake_data, n);
	fake_data += n;
	fake_len -= n;
	*rcode = DNS_RCODE_NOERROR;
	return (int)n;
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
