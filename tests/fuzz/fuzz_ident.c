/*
 * fuzz_ident.c - dns identifier syntax (common/ident.c): an accepted
 * name is lower-case letters, digits, hyphens and dots, with at most a
 * leading "*.", and is accepted again as it came out.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ident.h"
#include "util.h"

FUZZ_TARGET(ident)(const uint8_t *data, size_t size)
{
	struct problem p;
	char *s, out[254], again[254];
	const char *body;
	int wild, wild2;

	if (size > 300)
		return 0;
	memset(&p, 0, sizeof(p));
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (ident_check(s, out, &wild, &p)) {
		body = wild ? out + 2 : out;
		if (strlen(out) > 253 || strspn(body,
		    "abcdefghijklmnopqrstuvwxyz0123456789-.") != strlen(body))
			abort();
		if (!ident_check(out, again, &wild2, &p) || wild2 != wild ||
		    strcmp(again, out) != 0)
			abort();
	} else if (p.type == PT_NONE)
		abort();
	problem_clear(&p);
	free(s);
	return 0;
}
