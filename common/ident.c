/*
 * ident.c - dns identifier syntax.
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libpsl.h>

#include "ident.h"

/* Returns 1 if name (lower-case, no "*.") is a public suffix, such as
 * "com" or "co.uk", under which nobody can prove control of the whole. */
static int
public_suffix(const char *name)
{
	static const psl_ctx_t *psl;

	if (psl == NULL)
		psl = psl_latest(NULL);
	if (psl == NULL)
		psl = psl_builtin();
	return psl != NULL && psl_is_public_suffix2(psl, name,
	    PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE);
}

static int
label_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return 1;
}

/* Returns 1 if an A-label ("xn--...") is valid IDNA2008: it decodes, and
 * the decoded U-label encodes back to the same A-label. */
static int
alabel_ok(const char *s, size_t len)
{
	char label[64], *u = NULL;
	uint8_t *a = NULL;
	size_t i;
	int ok;

	for (i = 0; i < len; i++)
		label[i] = (char)tolower((unsigned char)s[i]);
	label[len] = '\0';
	ok = idn2_to_unicode_8z8z(label, &u, 0) == IDN2_OK &&
	    idn2_lookup_u8((const uint8_t *)u, &a, IDN2_NONTRANSITIONAL) ==
	    IDN2_OK && strcmp((const char *)a, label) == 0;
	idn2_free(u);
	idn2_free(a);
	return ok;
}

int
ident_check(const char *value, char *out, int *wildcard, struct problem *p)
{
	const char *s = value, *dot, *last = NULL;
	size_t len = strlen(value), i, nlabels = 0;
	int numeric;

	*wildcard = 0;
	if (len == 0 || len > 253) {
		problem_code(p, PC_INVALID_DOMAIN,
		    "the identifier must have 1 to 253 characters");
		return 0;
	}
	if (strncmp(s, "*.", 2) == 0) {
		*wildcard = 1;
		s += 2;
	}
	for (;;) {
		dot = strchr(s, '.');
		i = dot != NULL ? (size_t)(dot - s) : strlen(s);
		if (!label_ok(s, i)) {
			problem_code(p, PC_INVALID_DOMAIN,
			    "%.253s is not a valid domain name", value);
			return 0;
		}
		if (i > 4 && strncasecmp(s, "xn--", 4) == 0 &&
		    !alabel_ok(s, i)) {
			problem_code(p, PC_INVALID_DOMAIN,
			    "%.253s has an invalid internationalized label",
			    value);
			return 0;
		}
		if (i >= 4 && s[2] == '-' && s[3] == '-' &&
		    strncasecmp(s, "xn--", 4) != 0) {
			problem_code(p, PC_INVALID_DOMAIN, "%.253s has a label "
			    "with hyphens in the third and fourth positions",
			    value);
			return 0;
		}
		nlabels++;
		last = s;
		if (dot == NULL)
			break;
		s = dot + 1;
	}
	if (nlabels < 2) {
		problem_code(p, PC_INVALID_DOMAIN,
		    "%.253s is not a fully qualified domain name", value);
		return 0;
	}
	numeric = 1;
	for (i = 0; last[i] != '\0'; i++)
		if (!isdigit((unsigned char)last[i]))
			numeric = 0;
	if (numeric) {
		problem_code(p, PC_INVALID_DOMAIN,
		    "%.253s is an IP address or has a numeric top-level label",
		    value);
		return 0;
	}
	for (i = 0; i <= len; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	if (public_suffix(*wildcard ? out + 2 : out)) {
		problem_code(p, PC_INVALID_DOMAIN,
		    "%.253s is a public suffix", value);
		return 0;
	}
	return 1;
}
