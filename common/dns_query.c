/*
 * dns_query.c - the functions that talk to name servers: one query, and
 * several at once. They are alone in their file so that a unit test can
 * link its own dns_query() and dns_query_all() instead of these (the
 * static library then never pulls this object).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netdb.h>
#include <resolv.h>
#include <string.h>

#include "dns.h"
#include "task.h"
#include "util.h"

/*
 * glibc's res_nquery() reports NXDOMAIN and NOERROR-no-data through
 * h_errno, but SERVFAIL, REFUSED and a timeout all end as TRY_AGAIN.
 * The answer buffer then still holds the last response received, if
 * any: its header tells a refusing server from a silent one. Returns
 * the RCODE found there, or DNS_RCODE_TRANSPORT.
 */
static int
dns_failed_rcode(const unsigned char *ans, size_t anslen)
{
	HEADER hdr;

	if (anslen < HFIXEDSZ)
		return DNS_RCODE_TRANSPORT;
	memcpy(&hdr, ans, sizeof(hdr));
	if (hdr.qr == 0 || ntohs(hdr.qdcount) != 1 || hdr.rcode == NOERROR)
		return DNS_RCODE_TRANSPORT;
	return hdr.rcode;
}

int
dns_query(const struct dns_resolver *r, const char *name, int type,
    unsigned char *ans, size_t anslen, int *rcode)
{
	struct __res_state st;
	int i, n, inited = 0, len = -1;

	*rcode = DNS_RCODE_TRANSPORT;
	memset(&st, 0, sizeof(st));
	if (anslen > NS_MAXMSG)
		anslen = NS_MAXMSG;
	if (anslen < HFIXEDSZ) {
		msg_warn("dns: answer buffer too small");
		goto out;
	}
	if (res_ninit(&st) != 0) {
		msg_warn("dns: res_ninit failed: %s", strerror(errno));
		goto out;
	}
	inited = 1;
	if (r->nservers > 0) {
		for (i = 0; i < r->nservers && i < DNS_MAX_SERVERS &&
		    i < MAXNS; i++)
			st.nsaddr_list[i] = r->servers[i];
		st.nscount = i;
	}
	if (r->timeout > 0)
		st.retrans = r->timeout;
	if (r->attempts > 0)
		st.retry = r->attempts;
	st.options &= ~(RES_DEFNAMES | RES_DNSRCH | RES_USEVC);

	memset(ans, 0, HFIXEDSZ);
	n = res_nquery(&st, name, ns_c_in, type, ans, (int)anslen);
	if (n > 0) {
		/* glibc may report the length of a longer, cut answer */
		len = n > (int)anslen ? (int)anslen : n;
		*rcode = DNS_RCODE_NOERROR;
		goto out;
	}
	switch (st.res_h_errno) {
	case HOST_NOT_FOUND:
		*rcode = DNS_RCODE_NXDOMAIN;
		break;
	case NO_DATA:
		*rcode = DNS_RCODE_NOERROR;
		break;
	default:	/* TRY_AGAIN, NO_RECOVERY */
		*rcode = dns_failed_rcode(ans, anslen);
		break;
	}
	msg_debug("dns: %s type %d: h_errno %d, rcode %d", name, type,
	    st.res_h_errno, *rcode);
out:
	if (inited)
		res_nclose(&st);
	return len;
}

/* A query of dns_query_all() for a thread. */
struct dns_q_task {
	struct task			 t;
	const struct dns_resolver	*r;
	struct dns_q			*q;
};

static void
dns_q_send(const struct dns_resolver *r, struct dns_q *q)
{
	q->len = dns_query(r, q->name, q->type, q->ans, q->anslen,
	    &q->rcode);
}

static void
dns_q_run(void *arg)
{
	struct dns_q_task *x = arg;

	dns_q_send(x->r, x->q);
}

/*
 * Each query but the first of a batch is a task (task.c: the process's
 * threads), the first is sent on the caller's thread; libresolv's state
 * is the query's own (res_ninit in dns_query), so the queries share
 * nothing but the resolver, which they only read.
 */
void
dns_query_all(const struct dns_resolver *r, struct dns_q *q, size_t n)
{
	struct dns_q_task run[DNS_MAX_PARALLEL];
	size_t i, k, m;

	for (i = 0; i < n; i += m) {
		m = n - i < DNS_MAX_PARALLEL ? n - i : DNS_MAX_PARALLEL;
		for (k = 1; k < m; k++) {
			run[k].r = r;
			run[k].q = &q[i + k];
			task_start(&run[k].t, dns_q_run, &run[k]);
		}
		dns_q_send(r, &q[i]);
		for (k = 1; k < m; k++)
			task_wait(&run[k].t);
	}
}
