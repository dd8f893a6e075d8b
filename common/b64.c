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

/* The 6-bit value of each ASCII character of the alphabet, -1 for the
 * other ASCII characters (b64u_value refuses the bytes from 128 on). */
static const signed char b64u_values[128] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, 63,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
};

/* Returns the 6-bit value of an alphabet character, or -1. */
static int
b64u_value(unsigned char c)
{
	return c < 128 ? b64u_values[c] : -1;
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
	int a, b, c, d, rc = 0;

	*out = NULL;
	*outlen = 0;
	len = strlen(s);
	rem = len % 4;
	if (rem == 1)
		goto out;
	buf = o = xmalloc(len / 4 * 3 + 2 + 1);
	/* whole groups of four characters: three bytes each */
	for (i = 0; i + 4 <= len; i += 4) {
		a = b64u_value((unsigned char)s[i]);
		b = b64u_value((unsigned char)s[i + 1]);
		c = b64u_value((unsigned char)s[i + 2]);
		d = b64u_value((unsigned char)s[i + 3]);
		if ((a | b | c | d) < 0)
			goto out;
		v = (unsigned long)a << 18 | (unsigned long)b << 12 |
		    (unsigned long)c << 6 | (unsigned long)d;
		*o++ = (unsigned char)(v >> 16);
		*o++ = (unsigned char)(v >> 8);
		*o++ = (unsigned char)v;
	}
	/* the last rem characters */
	for (v = 0; i < len; i++) {
		if ((c = b64u_value((unsigned char)s[i])) < 0)
			goto out;
		v = v << 6 | (unsigned long)c;
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
