/*
 * ident.h - syntax of dns identifiers (RFC 8555 section 7.1.4, RFC 1123).
 */
#ifndef ACME_IDENT_H
#define ACME_IDENT_H

#include "problem.h"

#define IDENT_MAX_NAMES	100

/* Checks a dns identifier value and writes its lower-case form into out
 * (at least 254 bytes). Accepts a leftmost "*." wildcard label (sets
 * *wildcard). Refuses IP addresses, trailing dots, empty or over-long
 * labels, characters outside letters, digits and hyphens, labels
 * starting or ending with a hyphen, single-label names and all-numeric
 * top-level labels and public suffixes ("co.uk", or "*.com").
 * Returns 1, or 0 with p set (rejectedIdentifier,
 * catalogue INVALID_DOMAIN). */
int	 ident_check(const char *value, char *out, int *wildcard,
	    struct problem *p);

#endif
