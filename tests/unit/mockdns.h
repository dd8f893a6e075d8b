/*
 * mockdns.h - a mock dns_query() for the unit tests (and a dns_query_all()
 * sending its queries one after the other, in order), linked in place of
 * common/dns_query.c: it answers from an in-memory zone with wire-format
 * messages, and can be told to fail for a name. Two behaviours:
 *
 * - the default (test_dns, test_caa): a CNAME at the name is answered
 *   with the records of its target (one hop), owners compressed;
 * - mockdns.authoritative (test_hostile_validate): a CNAME at the name is
 *   answered alone, unless mockdns.chase, when the chain is followed.
 *
 * Only the unit tests that need it link it (see the Makefile).
 */
#ifndef MOCKDNS_H
#define MOCKDNS_H

#include <stddef.h>

#define MOCKDNS_MAX	96		/* records, and forced failures */
#define MOCKDNS_NAMELEN	256

/* A forced outcome for (name, type); type 0 matches every type. */
struct mockdns_fail {
	char		 name[MOCKDNS_NAMELEN];
	int		 type;
	int		 rcode;		/* what dns_query reports */
	int		 in_packet;	/* 1: an answer with this RCODE */
	int		 garbage;	/* 1: a malformed answer */
};

/* Knobs and counters; mockdns_reset() zeroes them all. */
struct mockdns {
	int		 authoritative;	/* see above */
	int		 chase;		/* authoritative: follow CNAMEs */
	int		 queries;	/* dns_query() calls */
	/* called first on each query (checks, logs) */
	void		(*onquery)(const char *name, int type);
	/* called last on an answer being built: may append records with
	 * mockdns_rr(), adding to *an; returns the new length */
	size_t		(*extra)(unsigned char *ans, size_t len, int type,
			    size_t *an);
};

extern struct mockdns mockdns;

/* Empties the zone and the failures, zeroes the knobs and counters. */
void	 mockdns_reset(void);
/* Adds a record of type with rdata rd (copied, as is name). */
void	 mockdns_add(const char *name, int type, const void *rd,
	    size_t rdlen);
/* Adds a TXT record made of the given character-strings (NULL ends). */
void	 mockdns_txt(const char *name, ...);
/* Adds an A or AAAA record (addr in text, v6 when it has a ':'). */
void	 mockdns_addr(const char *name, const char *addr);
/* Adds a CNAME record from name to target. */
void	 mockdns_cname(const char *name, const char *target);
/* Makes queries for (name, type) fail; returns the entry (owned by the
 * mock, valid until mockdns_reset()) for the caller to change later. */
struct mockdns_fail *mockdns_fail(const char *name, int type, int rcode,
	    int in_packet, int garbage);
/* Encodes name in uncompressed wire format into out; returns its
 * length. */
size_t	 mockdns_wire(const char *name, unsigned char *out);
/* Appends one record (owner spelled out) to the answer ans of length
 * len; returns the new length. */
size_t	 mockdns_rr(unsigned char *ans, size_t len, const char *owner,
	    int type, const unsigned char *rd, size_t rdlen);

#endif /* MOCKDNS_H */
