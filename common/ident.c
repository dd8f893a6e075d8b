/*
 * ident.c - dns identifier syntax.
 */
#include <ctype.h>
#include <string.h>

#include "ident.h"

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
	return 1;
}
