/*
 * fuzz_b64.c - base64url decoding (common/b64.c): whatever it accepts
 * must encode back to exactly the input (one encoding per byte string).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jose.h"
#include "util.h"

FUZZ_TARGET(b64)(const uint8_t *data, size_t size)
{
	char *s, *again;
	unsigned char *out = NULL;
	size_t outlen = 0;

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (b64u_decode(s, &out, &outlen)) {
		if (outlen > size || out[outlen] != '\0')
			abort();
		again = b64u_encode(out, outlen);
		if (strcmp(again, s) != 0)
			abort();	/* a second encoding was accepted */
		free(again);
	} else if (out != NULL || outlen != 0)
		abort();
	free(out);
	free(s);
	return 0;
}
