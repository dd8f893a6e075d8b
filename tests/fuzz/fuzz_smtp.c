/*
 * fuzz_smtp.c - what an SMTP server sends and what the templates feed
 * the message encoders (common/smtp.c). A reply parsed takes no more
 * than it was given, with a valid code and clean lines; whatever the
 * text, a header stays one printable ASCII header (folded with CRLF SP),
 * dot-stuffed data holds no bare CR or LF and ends only at its last
 * ".", quoted-printable is printable ASCII in lines of at most 76.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "smtp.h"
#include "util.h"

/* Aborts unless s is printable ASCII (and tabs if tab) whose only line
 * ends are CRLF, followed by a space when fold, each line at most max
 * bytes. */
static void
check_lines(const char *s, int fold, int tab, size_t max)
{
	size_t col = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\r') {
			if (s[1] != '\n' || (fold && s[2] != ' '))
				abort();
			s++;
			col = 0;
			continue;
		}
		if (((unsigned char)*s < 0x20 && !(tab && *s == '\t')) ||
		    (unsigned char)*s >= 0x7f || ++col > max)
			abort();
	}
}

FUZZ_TARGET(smtp)(const uint8_t *data, size_t size)
{
	struct smtp_reply r;
	char *s, *out, *p;
	size_t i;
	long n;

	n = smtp_reply_parse((const char *)data, size, &r);
	if (n < -1 || n > (long)size)
		abort();
	if (n > 0) {
		if (r.nlines == 0 || r.code < 200 || r.code > 559)
			abort();
		for (i = 0; i < r.nlines; i++)
			if (strchr(r.lines[i], '\r') != NULL ||
			    strlen(r.lines[i]) >= SMTP_LINE_MAX)
				abort();
		(void)smtp_ehlo_parse(&r);
	} else if (r.nlines != 0)
		abort();
	smtp_reply_clear(&r);

	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	out = smtp_header("Subject", s);
	check_lines(out, 1, 0, 1000);
	free(out);
	out = smtp_qp_encode(s);
	check_lines(out, 0, 1, 76);
	free(out);
	out = smtp_dot_stuff(s);
	for (p = out; *p != '\0'; p++)
		if ((*p == '\r' && p[1] != '\n') ||
		    (*p == '\n' && (p == out || p[-1] != '\r')))
			abort();
	n = (long)strlen(out);
	if (n < 3 || strcmp(out + n - 3, ".\r\n") != 0 ||
	    (n > 3 && strcmp(out + n - 5, "\r\n.\r\n") != 0))
		abort();
	/* no line of a lone "." before the end */
	if ((p = strstr(out, "\r\n.\r\n")) != NULL && p != out + n - 5)
		abort();
	if (strncmp(out, ".\r\n", 3) == 0 && n != 3)
		abort();
	free(out);
	free(s);
	return 0;
}
