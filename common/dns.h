/*
 * dns.h - DNS lookups through libresolv on a private resolver state with
 * configurable name servers (host:port). The functions the tests may
 * replace are dns_query() and dns_query_all() (mocked by linking other
 * definitions; they live alone in dns_query.c for that reason).
 */
#ifndef ACME_DNS_H
#define ACME_DNS_H

#include <stddef.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "problem.h"

#define DNS_MAX_SERVERS	3
#define DNS_DEFAULT_TIMEOUT	5	/* seconds per try */
#define DNS_DEFAULT_ATTEMPTS	2
#define DNS_MAX_PARALLEL	8	/* queries dns_query_all() sends at once */

/* Response codes as dns_query() reports them (RFC 1035 RCODE values). */
#define DNS_RCODE_TRANSPORT	(-1)	/* no usable answer at all */
#define DNS_RCODE_NOERROR	0	/* with no data when returned by -1 */
#define DNS_RCODE_SERVFAIL	2
#define DNS_RCODE_NXDOMAIN	3

struct dns_resolver {
	struct sockaddr_in servers[DNS_MAX_SERVERS];
	int	 nservers;	/* 0: the system's resolv.conf */
	int	 timeout;	/* seconds per try; 0: libresolv's default */
	int	 attempts;	/* 0: libresolv's default */
};

/* Parses "host:port[,host:port...]" (IPv4 addresses, port optional,
 * default 53, at most DNS_MAX_SERVERS, spaces around items allowed).
 * An empty or NULL spec means the system's resolv.conf (nservers 0).
 * Resets the whole structure first: timeout and attempts get the
 * DNS_DEFAULT_* values, which the caller may change afterwards.
 * Returns 1, or 0 with a warning logged. */
int	 dns_resolver_parse(struct dns_resolver *, const char *spec);

/* Sends one query of class IN (no search list, UDP with TCP fallback on
 * truncation). Returns the answer length (> 0) written into ans, or -1
 * with *rcode set: DNS_RCODE_NXDOMAIN (3), DNS_RCODE_SERVFAIL (2), 0 for
 * NOERROR with no answer records, another RFC 1035 RCODE (REFUSED...),
 * or DNS_RCODE_TRANSPORT (-1) when no server answered. */
int	 dns_query(const struct dns_resolver *, const char *name, int type,
	    unsigned char *ans, size_t anslen, int *rcode);

/* One query of dns_query_all(): name, type, ans and anslen are the
 * arguments of dns_query(), len and rcode its results. */
struct dns_q {
	const char	*name;
	int		 type;
	unsigned char	*ans;
	size_t		 anslen;
	int		 len;
	int		 rcode;
};

/* Sends the n queries q together, DNS_MAX_PARALLEL at a time, and
 * returns once each has its answer or has failed (as dns_query()): a
 * lookup then takes as long as its slowest query, not as long as all of
 * them. A query that cannot have a thread of its own is sent after the
 * others. */
void	 dns_query_all(const struct dns_resolver *, struct dns_q *q,
	    size_t n);

/* Sets q up for a query of type at name (which q points to), with an
 * answer buffer of its own, NS_MAXMSG octets; dns_q_free frees it. */
void	 dns_q_init(struct dns_q *q, const char *name, int type);
void	 dns_q_free(struct dns_q *q);

/* Fetches the TXT records at name (records of type TXT in the answer,
 * whatever their owner: CNAMEs are followed by the server). Returns 1
 * with *txts (owned array of owned strings, the character-strings of one
 * record concatenated; a NUL byte inside becomes '?') and *ntxt (0 on
 * NXDOMAIN or no data), or 0 with p set (dns problem). */
int	 dns_txt(const struct dns_resolver *, const char *name, char ***txts,
	    size_t *ntxt, struct problem *p);
/* Fetches the A and AAAA records of name, both queries at once; returns
 * 1 with addresses (owned array of sockaddr_storage, AF_INET first, port
 * 0) or 0 with p set (dns problem; NXDOMAIN, a failed A lookup, or no
 * address at all). A failed AAAA lookup is ignored when the A lookup
 * gave addresses. */
int	 dns_addrs(const struct dns_resolver *, const char *name,
	    struct sockaddr_storage **addrs, size_t *naddrs, struct problem *p);
/* Frees an array returned by dns_txt (NULL is fine). */
void	 dns_strings_free(char **, size_t);

#endif
