/*
 * test_dns_query.c - dns_query_all() (common/dns_query.c, the real one,
 * through libresolv) against a name server thread on 127.0.0.1 that
 * holds its answers until a given number of queries has arrived: the
 * most queries it ever held at once shows whether they were sent
 * together. It answers A queries with 192.0.2.N (N: the query's rank
 * of arrival), and SERVFAIL or NXDOMAIN for names that ask for it.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "dns.h"
#include "util.h"

#define NS_HOLD_MAX	16
#define NS_WAIT_MS	3000	/* longest hold: below the resolver's try */

struct held {
	unsigned char		 msg[512];
	size_t			 len;
	struct sockaddr_in	 from;
};

/* The name server: answers batches of `gate' queries (fewer for the
 * last, of `total'), each once the whole batch has arrived or after
 * NS_WAIT_MS. */
static struct ns {
	int		 fd;
	int		 gate;
	int		 total;
	int		 most_held;	/* out */
	int		 seen;		/* out */
	pthread_t	 tid;
} ns;

static long
ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 +
	    (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The end of the question section of a query, or 0. */
static size_t
question_end(const unsigned char *m, size_t len)
{
	size_t i = HFIXEDSZ;

	while (i < len && m[i] != 0) {
		if ((m[i] & 0xc0) != 0)
			return 0;
		i += 1 + m[i];
	}
	i += 1 + 4;
	return i <= len ? i : 0;
}

/* Answers one held query: rank is its order of arrival. */
static void
ns_answer(struct held *h, int rank)
{
	unsigned char out[600];
	char name[NS_MAXDNAME];
	size_t qend = question_end(h->msg, h->len), n;
	int rcode = ns_r_noerror;

	if (qend == 0 || dn_expand(h->msg, h->msg + h->len, h->msg + HFIXEDSZ,
	    name, sizeof(name)) < 0)
		return;
	if (strncmp(name, "servfail.", 9) == 0)
		rcode = ns_r_servfail;
	else if (strncmp(name, "nx.", 3) == 0)
		rcode = ns_r_nxdomain;
	memcpy(out, h->msg, qend);
	n = qend;
	out[2] = (unsigned char)(0x80 | (h->msg[2] & 0x01));	/* QR, RD */
	out[3] = (unsigned char)(0x80 | rcode);			/* RA */
	out[4] = 0;
	out[5] = 1;
	memset(out + 6, 0, 6);
	if (rcode == ns_r_noerror) {
		const unsigned char rr[] = {
			0xc0, 0x0c, 0, ns_t_a, 0, ns_c_in, 0, 0, 0, 60,
			0, 4, 192, 0, 2, (unsigned char)rank,
		};

		memcpy(out + n, rr, sizeof(rr));
		n += sizeof(rr);
		out[7] = 1;
	}
	sendto(ns.fd, out, n, 0, (struct sockaddr *)&h->from,
	    sizeof(h->from));
}

static void *
ns_run(void *arg)
{
	struct held held[NS_HOLD_MAX];
	struct timespec first;
	struct pollfd pfd;
	socklen_t sl;
	ssize_t r;
	int nheld = 0, want, i, left;

	(void)arg;
	while (ns.seen < ns.total) {
		want = ns.total - ns.seen < ns.gate ? ns.total - ns.seen :
		    ns.gate;
		left = NS_WAIT_MS;
		if (nheld > 0 && (left = NS_WAIT_MS - (int)ms_since(&first)) < 0)
			left = 0;
		pfd.fd = ns.fd;
		pfd.events = POLLIN;
		if (nheld < want && left > 0 && poll(&pfd, 1, left) == 1) {
			sl = sizeof(held[nheld].from);
			r = recvfrom(ns.fd, held[nheld].msg,
			    sizeof(held[nheld].msg), 0,
			    (struct sockaddr *)&held[nheld].from, &sl);
			if (r < HFIXEDSZ)
				continue;
			held[nheld].len = (size_t)r;
			if (nheld++ == 0)
				clock_gettime(CLOCK_MONOTONIC, &first);
			if (nheld > ns.most_held)
				ns.most_held = nheld;
			continue;
		}
		if (nheld == 0)
			break;		/* nothing came in NS_WAIT_MS */
		for (i = 0; i < nheld; i++)
			ns_answer(&held[i], ++ns.seen);
		nheld = 0;
	}
	return NULL;
}

/* Starts the name server for total queries in batches of gate; sets r
 * to a resolver that asks it. */
static void
ns_start(struct dns_resolver *r, int gate, int total)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	char spec[64];

	memset(&ns, 0, sizeof(ns));
	ns.gate = gate;
	ns.total = total;
	ns.fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(ns.fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(ns.fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(ns.fd, (struct sockaddr *)&sin, &sl), 0);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", ntohs(sin.sin_port));
	assert_int_equal(dns_resolver_parse(r, spec), 1);
	r->attempts = 1;
	assert_int_equal(thread_start(&ns.tid, ns_run, NULL), 0);
}

static void
ns_stop(void)
{
	pthread_join(ns.tid, NULL);
	close(ns.fd);
}

/* Sets q[i] up for an A query of names[i]. */
static void
queries(struct dns_q *q, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&q[i], 0, sizeof(q[i]));
		q[i].name = names[i];
		q[i].type = ns_t_a;
		q[i].anslen = NS_PACKETSZ;
		q[i].ans = xmalloc(q[i].anslen);
	}
}

/* Checks that q holds an answer to its own question, with one A record;
 * returns the last octet of its address. */
static int
answered(const struct dns_q *q)
{
	ns_msg msg;
	ns_rr rr;

	if (q->len <= 0)
		fail_msg("%s: no answer (rcode %d)", q->name, q->rcode);
	assert_int_equal(ns_initparse(q->ans, q->len, &msg), 0);
	assert_int_equal(ns_parserr(&msg, ns_s_qd, 0, &rr), 0);
	if (strcasecmp(ns_rr_name(rr), q->name) != 0)
		fail_msg("the answer for %s is for %s", q->name,
		    ns_rr_name(rr));
	assert_int_equal(ns_msg_count(msg, ns_s_an), 1);
	assert_int_equal(ns_parserr(&msg, ns_s_an, 0, &rr), 0);
	assert_int_equal(ns_rr_rdlen(rr), 4);
	return ns_rr_rdata(rr)[3];
}

static void
free_queries(struct dns_q *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(q[i].ans);
}

/* Five queries: all five are in flight at once, and each gets its own
 * answer. */
static void
test_all_at_once(void **state)
{
	static const char *const names[] = {
		"a.example", "b.example", "c.example", "d.example",
		"e.example",
	};
	struct dns_resolver r;
	struct dns_q q[5];
	int ranks = 0;
	size_t i;

	(void)state;
	ns_start(&r, 5, 5);
	queries(q, names, 5);
	dns_query_all(&r, q, 5);
	ns_stop();
	assert_int_equal(ns.most_held, 5);
	for (i = 0; i < 5; i++)
		ranks |= 1 << answered(&q[i]);
	/* ranks 1 to 5, each once */
	assert_int_equal(ranks, 0x3e);
	free_queries(q, 5);
}

/* Eleven queries: DNS_MAX_PARALLEL at a time, then the rest. */
static void
test_batches(void **state)
{
	static const char *const names[] = {
		"q1.example", "q2.example", "q3.example", "q4.example",
		"q5.example", "q6.example", "q7.example", "q8.example",
		"q9.example", "q10.example", "q11.example",
	};
	struct dns_resolver r;
	struct dns_q q[11];
	size_t i;

	(void)state;
	assert_int_equal(DNS_MAX_PARALLEL, 8);
	ns_start(&r, DNS_MAX_PARALLEL, 11);
	queries(q, names, 11);
	dns_query_all(&r, q, 11);
	ns_stop();
	assert_int_equal(ns.most_held, DNS_MAX_PARALLEL);
	assert_int_equal(ns.seen, 11);
	/* the first batch was answered before the second was sent */
	for (i = 0; i < 11; i++) {
		if (i < 8)
			assert_in_range(answered(&q[i]), 1, 8);
		else
			assert_in_range(answered(&q[i]), 9, 11);
	}
	free_queries(q, 11);
}

/* One query's failure is its own: the others are answered. */
static void
test_failures_are_per_query(void **state)
{
	static const char *const names[] = {
		"ok1.example", "servfail.example", "nx.example", "ok2.example",
	};
	struct dns_resolver r;
	struct dns_q q[4];

	(void)state;
	ns_start(&r, 4, 4);
	queries(q, names, 4);
	dns_query_all(&r, q, 4);
	ns_stop();
	assert_int_equal(ns.most_held, 4);
	answered(&q[0]);
	assert_int_equal(q[1].len, -1);
	assert_int_equal(q[1].rcode, DNS_RCODE_SERVFAIL);
	assert_int_equal(q[2].len, -1);
	assert_int_equal(q[2].rcode, DNS_RCODE_NXDOMAIN);
	answered(&q[3]);
	free_queries(q, 4);
}

/* One query: no thread, the same as dns_query(). */
static void
test_one(void **state)
{
	static const char *const names[] = { "one.example" };
	struct dns_resolver r;
	struct dns_q q[1];

	(void)state;
	ns_start(&r, 1, 1);
	queries(q, names, 1);
	dns_query_all(&r, q, 1);
	ns_stop();
	assert_int_equal(answered(&q[0]), 1);
	free_queries(q, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_at_once),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_failures_are_per_query),
		cmocka_unit_test(test_one),
	};

	log_init("test_dns_query", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
