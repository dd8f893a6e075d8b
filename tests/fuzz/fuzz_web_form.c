/*
 * fuzz_web_form.c - the web site's text parsers (web/request.c): a query
 * string or urlencoded body, a Cookie header and a path against route
 * patterns. Whatever they accept must be valid text: names not empty,
 * names and values valid UTF-8 without control characters; route
 * segments not empty and without '/'.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "web-internal.h"

static const char *const fuzz_web_patterns[] = {
	"/", "/documents/*/file", "/accounts/*", "/office/organizations/*/status",
	"/a/*/*/*/*", "/*",
};

FUZZ_TARGET(web_form)(const uint8_t *data, size_t size)
{
	struct web_kv *kv = NULL;
	char *s, *args[4];
	size_t n = 0, i, j, nargs;
	int ok;

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	ok = web_parse_urlencoded(s, size, &kv, &n);
	if (ok && n > WEB_MAX_FIELDS)
		abort();
	for (i = 0; i < n; i++)
		if (kv[i].name[0] == '\0' ||
		    !web_utf8_valid(kv[i].name, strlen(kv[i].name)) ||
		    !web_utf8_valid(kv[i].value, strlen(kv[i].value)))
			abort();
	web_kv_free(kv, n);
	kv = NULL;
	n = 0;
	web_parse_cookies(s, &kv, &n);
	if (n > WEB_MAX_FIELDS)
		abort();
	for (i = 0; i < n; i++)
		if (kv[i].name[0] == '\0' || strpbrk(kv[i].name, ";= ") !=
		    NULL || strpbrk(kv[i].value, ";\" ") != NULL)
			abort();
	web_kv_free(kv, n);
	for (i = 0; i < sizeof(fuzz_web_patterns) /
	    sizeof(fuzz_web_patterns[0]); i++) {
		if (!web_route_match(fuzz_web_patterns[i], s, args, &nargs))
			continue;
		for (j = 0; j < nargs; j++) {
			if (args[j][0] == '\0' || strchr(args[j], '/') != NULL ||
			    strlen(args[j]) > WEB_MAX_SEGMENT)
				abort();
			free(args[j]);
		}
	}
	free(s);
	return 0;
}
