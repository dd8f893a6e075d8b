/*
 * fuzz_web_multipart.c - multipart/form-data (web/request.c). The input
 * is a Content-Type line, then the body. The boundary is taken from the
 * line when it is a valid one (else "XyZ" is used); the parser answers 0,
 * 400 or 413, and what it accepts is valid: fields as valid text, files
 * within the size limit.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "web-internal.h"

#define FUZZ_FILE_MAX	4096

FUZZ_TARGET(web_multipart)(const uint8_t *data, size_t size)
{
	struct web_kv *form = NULL;
	struct web_upload *up = NULL;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ctlen = nl != NULL ? (size_t)(nl - data) : 0, nform = 0,
	    nup = 0, i;
	char *ct, *b;
	int status;

	ct = xstrndup((const char *)data, ctlen);
	b = web_multipart_boundary(ct);
	if (b != NULL && (strlen(b) == 0 || strlen(b) > 70))
		abort();
	status = web_parse_multipart(b != NULL ? b : "XyZ",
	    nl != NULL ? nl + 1 : data, nl != NULL ? size - ctlen - 1 : size,
	    FUZZ_FILE_MAX, &form, &nform, &up, &nup);
	if (status != 0 && status != 400 && status != 413)
		abort();
	if (nform + nup > WEB_MAX_PARTS)
		abort();
	for (i = 0; i < nform; i++)
		if (form[i].name[0] == '\0' ||
		    !web_utf8_valid(form[i].value, strlen(form[i].value)))
			abort();
	for (i = 0; i < nup; i++)
		if (up[i].len > FUZZ_FILE_MAX || up[i].field[0] == '\0' ||
		    up[i].data[up[i].len] != '\0' ||
		    strpbrk(up[i].filename, "/\\") != NULL)
			abort();
	web_kv_free(form, nform);
	web_uploads_free(up, nup);
	free(b);
	free(ct);
	return 0;
}
