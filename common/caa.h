/*
 * caa.h - Certification Authority Authorization (RFC 8659) with the ACME
 * account and method bindings of RFC 8657: may this CA issue for a name?
 *
 * The lookups go through dns_query() (common/dns.h), so the unit tests
 * answer them from a mock. The record and value parsers are separate
 * functions working on untrusted bytes only, for the fuzzers.
 */
#ifndef ACME_CAA_H
#define ACME_CAA_H

#include <stddef.h>

#include "dns.h"
#include "problem.h"

#define CAA_TYPE		257	/* RR type (RFC 8659 section 4.1) */
#define CAA_FLAG_CRITICAL	128	/* Issuer Critical flag (bit 0) */
#define CAA_TAG_MAX		255	/* a tag length is one octet */
#define CAA_ISSUER_MAX		253	/* an issuer-domain-name is a name */

/* The property tags we know; everything else is CAA_TAG_OTHER. */
enum caa_tag {
	CAA_TAG_ISSUE,
	CAA_TAG_ISSUEWILD,
	CAA_TAG_IODEF,
	CAA_TAG_OTHER,
	CAA_TAG__MAX
};

/* One CAA resource record, as caa_parse_rr() splits its RDATA. */
struct caa_rr {
	unsigned	 flags;			/* the flags octet */
	enum caa_tag	 kind;			/* tag, case-insensitively */
	char		 tag[CAA_TAG_MAX + 1];	/* as found, NUL-terminated */
	const char	*value;			/* borrowed: points into the
						 * RDATA; not NUL-terminated */
	size_t		 valuelen;
};

/* An issue or issuewild value (RFC 8659 section 4.2) with the RFC 8657
 * parameters this CA honours; other parameters are skipped. */
struct caa_value {
	char		 issuer[CAA_ISSUER_MAX + 1];	/* "" if none */
	int		 has_accounturi;
	const char	*accounturi;	/* borrowed from the value */
	size_t		 accounturi_len;
	int		 has_methods;
	const char	*methods;	/* validationmethods; borrowed */
	size_t		 methods_len;
};

/*
 * Splits the RDATA of one CAA record (len octets): flags octet, tag
 * length (at least 1), tag (ASCII letters and digits only), value (the
 * rest, any octets). Returns 1 with out filled (out->value points into
 * rdata, which must outlive it), or 0 when the RDATA is malformed.
 */
int	 caa_parse_rr(const unsigned char *rdata, size_t len,
	    struct caa_rr *out);

/*
 * Parses an issue/issuewild value of len octets (not NUL-terminated):
 * optional issuer-domain-name, then optional "; key=value" parameters,
 * spaces and tabs allowed where RFC 8659 allows them. accounturi and
 * validationmethods (keys compared case-insensitively) are kept; a
 * second occurrence of either makes the value malformed. Returns 1 with
 * out filled (pointers into value, which must outlive it), or 0 when
 * the value does not follow the grammar (out then means nothing).
 */
int	 caa_value_parse(const char *value, size_t len,
	    struct caa_value *out);

/*
 * Returns 1 if the parsed value authorizes this CA: its issuer is one of
 * identities (case-insensitively), its accounturi (if any) equals
 * account_uri exactly, and its validationmethods (if any) list method.
 * A NULL account_uri or method never satisfies the parameter.
 */
int	 caa_value_allows(const struct caa_value *,
	    const char *const *identities, size_t nidentities,
	    const char *account_uri, const char *method);

/*
 * The CAA check of RFC 8659 section 3 for name (a wildcard request is
 * given as its base name with wildcard set; a name starting with "*."
 * is taken as one too; a final dot is ignored): the relevant RRset is the
 * first non-empty CAA RRset found at name, then at each parent up to
 * and including the top-level domain (CNAMEs are followed by the
 * server). No CAA record anywhere allows issuance. In the relevant
 * RRset, a critical property of an unknown tag refuses; a wildcard
 * request uses the issuewild properties if there is one, else issue;
 * others use issue; with no such property issuance is allowed; else one
 * of them must allow this CA (caa_value_allows). Any failed lookup
 * (SERVFAIL, REFUSED, timeout, malformed answer or record) refuses.
 * Returns 1 when issuance is allowed, or 0 with p set (INVALID_DNSCAA).
 */
int	 caa_check(const struct dns_resolver *, const char *name,
	    int wildcard, const char *const *identities, size_t nidentities,
	    const char *account_uri, const char *method, struct problem *p);

/* Splits a comma-separated list of issuer domain names (the
 * caa_identities setting): items are trimmed, empty ones dropped.
 * Returns an owned array of owned strings (free it with strv_free) and
 * sets *n; NULL with *n == 0 for an empty list. */
char	**caa_identities_parse(const char *list, size_t *n);

#endif
