/*
 * b64.c - unpadded base64url (RFC 4648 section 5, RFC 7515 section 2),
 * decoded strictly: one encoding per byte string.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "jose.h"
#include "util.h"

static const char b64u_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Returns the 6-bit value of an alphabet character, or -1. */
static int
b64u_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/* Returns the unpadded base64url encoding of buf; owned by the caller. */
char *
b64u_encode(const unsigned char *buf, size_t len)
{
	char *out, *o;
	size_t i;
	unsigned long v;

	out = o = xmalloc(len / 3 * 4 + 4 + 1);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (unsigned long)buf[i] << 16 |
		    (unsigned long)buf[i + 1] << 8 | buf[i + 2];
		*o++ = b64u_alphabet[(v >> 18) & 0x3f];
		*o++ = b64u_alphabet[(v >> 12) & 0x3f];
		*o++ = b64u_alphabet[(v >> 6) & 0x3f];
		*o++ = b64u_alphabet[v & 0x3f];
	}
	if (len - i == 1) {
		v = (unsigned long)buf[i] << 16;
		*o++ = b64u_alphabet[(v >> 18) & 0x3f];
		*o++ = b64u_alphabet[(v >> 12) & 0x3f];
	} else if (len - i == 2) {
		v = (unsigned long)buf[i] << 16 |
		    (unsigned long)buf[i + 1] << 8;
		*o++ = b64u_alphabet[(v >> 18) & 0x3f];
		*o++ = b64u_alphabet[(v >> 12) & 0x3f];
		*o++ = b64u_alphabet[(v >> 6) & 0x3f];
	}
	*o = '\0';
	return out;
}

/*
 * Decodes the unpadded base64url string s. Refuses padding, any
 * character outside the alphabet, a length of 1 mod 4 and non-zero
 * unused trailing bits, so that every byte string has exactly one
 * accepted encoding. The empty string decodes to an empty buffer.
 * Returns 1 with *out (NUL-terminated, owned by the caller) and *outlen
 * (excluding the NUL), or 0 with *out NULL.
 */
int
b64u_decode(const char *s, unsigned char **out, size_t *outlen)
{
	unsigned char *buf = NULL, *o;
	size_t len, i, rem;
	unsigned long v;
	int c, rc = 0;

	*out = NULL;
	*outlen = 0;
	len = strlen(s);
	rem = len % 4;
	if (rem == 1)
		goto out;
	buf = o = xmalloc(len / 4 * 3 + 2 + 1);
	v = 0;
	for (i = 0; i < len; i++) {
		if ((c = b64u_value((unsigned char)s[i])) < 0)
			goto out;
		v = v << 6 | (unsigned long)c;
		if (i % 4 == 3) {
			*o++ = (unsigned char)(v >> 16);
			*o++ = (unsigned char)(v >> 8);
			*o++ = (unsigned char)v;
			v = 0;
		}
	}
	if (rem == 2) {
		/* 12 bits: one byte, 4 unused bits that must be zero */
		if ((v & 0x0f) != 0)
			goto out;
		*o++ = (unsigned char)(v >> 4);
	} else if (rem == 3) {
		/* 18 bits: two bytes, 2 unused bits that must be zero */
		if ((v & 0x03) != 0)
			goto out;
		*o++ = (unsigned char)(v >> 10);
		*o++ = (unsigned char)(v >> 2);
	}
	*o = '\0';
	*outlen = (size_t)(o - buf);
	*out = buf;
	buf = NULL;
	rc = 1;
out:
	free(buf);
	return rc;
}
