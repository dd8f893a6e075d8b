/*
 * fuzz_http.c - the HTTP/1.x response parser of http-01
 * (worker/http01.c http_response_parse: status line, headers, Location,
 * Content-Length, chunked bodies). The first input byte says where the
 * rest is cut, as the worker parses again after each read: the prefix,
 * then the whole, then the whole once the peer has closed.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "validate.h"

/* Runs the parser on an exact-size copy, so that reading past the end is
 * caught. Checks the limits of a complete response. */
static int
fuzz_http_parse(const uint8_t *data, size_t len, int final,
    struct http_resp *r)
{
	const char *err = NULL;
	char *copy = xmalloc(len > 0 ? len : 1);
	int rc;

	memcpy(copy, data, len);
	rc = http_response_parse(copy, len, final, r, &err);
	free(copy);
	if (rc == 1 && (r->status < 100 || r->status > 599 ||
	    r->bodylen > HTTP_MAX_BODY || r->body == NULL ||
	    r->body[r->bodylen] != '\0'))
		abort();
	if (rc == 0 && err == NULL)
		abort();
	if (rc == -1 && final)
		abort();
	return rc;
}

FUZZ_TARGET(http)(const uint8_t *data, size_t size)
{
	struct http_resp r;
	size_t cut;

	if (size < 1)
		return 0;
	cut = data[0] * (size - 1) / 255;
	data++;
	size--;
	memset(&r, 0, sizeof(r));
	if (fuzz_http_parse(data, cut, 0, &r) == 1)
		http_resp_free(&r);
	if (fuzz_http_parse(data, size, 0, &r) == 1)
		http_resp_free(&r);
	if (fuzz_http_parse(data, size, 1, &r) == 1)
		http_resp_free(&r);
	return 0;
}
