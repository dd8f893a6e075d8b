/*
 * smtp.c - the SMTP client and the message encoders (see smtp.h).
 *
 * The socket is non-blocking from the start: every read, write, connect
 * and TLS handshake step waits in poll() for at most the smaller of the
 * timeout and what is left before the session's deadline, so a server
 * that stalls (or trickles a TLS record) never holds the worker longer.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "smtp.h"
#include "util.h"

#define HEADER_WIDTH	78	/* RFC 5322 2.1.1: SHOULD */
#define QP_WIDTH	76	/* RFC 2045 6.7 (5) */
#define EW_BYTES	42	/* bytes of text per encoded-word: its 56
				 * base64 characters and the 12 of the
				 * frame fit after "Subject: " */
#define HEADER_VALUE_MAX 900	/* bytes of a header value kept */

/* ------------------------------------------------------------ strings */

/* A growable string; s is always NUL-terminated once anything is added. */
struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void
sb_addc(struct sbuf *b, char c)
{
	sb_add(b, &c, 1);
}

/* Returns the string (never NULL), owned by the caller. */
static char *
sb_take(struct sbuf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	memset(b, 0, sizeof(*b));
	return s;
}

/* Returns the length of the UTF-8 sequence at s (1 to 4), or 0 if s does
 * not start a valid one (overlong forms, surrogates, > U+10FFFF). */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Returns 1 if s is printable ASCII (spaces included). */
static int
printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* Returns s as valid UTF-8 on one line: control characters as spaces,
 * bytes that are no UTF-8 as '?', spaces trimmed at both ends, at most
 * max bytes (cut at a character). Caller frees. */
static char *
one_line(const char *s, size_t max)
{
	struct sbuf b;
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	memset(&b, 0, sizeof(b));
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	while (*p != '\0') {
		n = utf8_len(p);
		if (n == 0) {
			n = 1;
			if (b.len + 1 > max)
				break;
			sb_addc(&b, '?');
		} else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
			if (b.len + 1 > max)
				break;
			sb_addc(&b, ' ');
		} else {
			if (b.len + n > max)
				break;
			sb_add(&b, (const char *)p, n);
		}
		p += n;
	}
	while (b.len > 0 && b.s[b.len - 1] == ' ')
		b.s[--b.len] = '\0';
	return sb_take(&b);
}

/* Appends len bytes of in, base64 (RFC 4648 section 4, padded). */
static void
sb_base64(struct sbuf *b, const unsigned char *in, size_t len)
{
	unsigned char *out = xmalloc(len / 3 * 4 + 5);
	int n;

	n = EVP_EncodeBlock(out, in, (int)len);
	sb_add(b, (const char *)out, (size_t)n);
	OPENSSL_cleanse(out, (size_t)n);
	free(out);
}

/* ------------------------------------------------------------- replies */

void
smtp_reply_clear(struct smtp_reply *r)
{
	size_t i;

	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	memset(r, 0, sizeof(*r));
}

/* Returns 1 if s[0..n) can start a reply line with code (0: any code):
 * the digits and separator seen so far are allowed. */
static int
line_prefix_ok(const char *s, size_t n, int code)
{
	static const char lo[3] = { '2', '0', '0' }, hi[3] = { '5', '5', '9' };
	char want[4];
	size_t i;

	if (code != 0)
		snprintf(want, sizeof(want), "%03d", code);
	for (i = 0; i < n && i < 3; i++) {
		if (s[i] < lo[i] || s[i] > hi[i])
			return 0;
		if (code != 0 && s[i] != want[i])
			return 0;
	}
	if (n > 3 && s[3] != '-' && s[3] != ' ')
		return 0;
	for (i = 4; i < n; i++)
		if (s[i] == '\0' || (s[i] == '\r' && i + 1 < n))
			return 0;
	return 1;
}

long
smtp_reply_parse(const char *buf, size_t len, struct smtp_reply *r)
{
	const char *nl;
	size_t pos = 0, end, n, i;
	long rc = -1;
	int code, more;

	memset(r, 0, sizeof(*r));
	for (;;) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			/* only the beginning of a line: can it still be one? */
			n = len - pos;
			if (n < SMTP_LINE_MAX && len < SMTP_REPLY_MAX &&
			    line_prefix_ok(buf + pos, n, r->code))
				rc = 0;
			goto out;
		}
		end = (size_t)(nl - buf);
		if (end + 1 - pos > SMTP_LINE_MAX)
			goto out;
		if (end > pos && buf[end - 1] == '\r')
			end--;
		n = end - pos;
		/* "ddd", "ddd text" or "ddd-text", no NUL or CR inside */
		if (n < 3 || !line_prefix_ok(buf + pos, n, r->code))
			goto out;
		for (i = pos; i < end; i++)
			if (buf[i] == '\r')
				goto out;
		if (r->nlines == SMTP_REPLY_LINES)
			goto out;
		code = (buf[pos] - '0') * 100 + (buf[pos + 1] - '0') * 10 +
		    (buf[pos + 2] - '0');
		more = n > 3 && buf[pos + 3] == '-';
		r->code = code;
		r->lines[r->nlines++] = n > 4 ?
		    xstrndup(buf + pos + 4, n - 4) : xstrdup("");
		pos = (size_t)(nl - buf) + 1;
		if (pos > SMTP_REPLY_MAX)
			goto out;
		if (!more) {
			rc = (long)pos;
			break;
		}
	}
out:
	if (rc <= 0)
		smtp_reply_clear(r);
	return rc;
}

/* Returns 1 if the keyword at s (ended by a space, '=' or NUL) is kw. */
static int
keyword_is(const char *s, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(s, kw, n) == 0 &&
	    (s[n] == '\0' || s[n] == ' ' || s[n] == '=');
}

unsigned
smtp_ehlo_parse(const struct smtp_reply *r)
{
	const char *p;
	unsigned ext = 0;
	size_t i;

	/* the first line is the server's name and greeting */
	for (i = 1; i < r->nlines; i++) {
		p = r->lines[i];
		if (keyword_is(p, "STARTTLS"))
			ext |= SMTP_EXT_STARTTLS;
		else if (keyword_is(p, "8BITMIME"))
			ext |= SMTP_EXT_8BITMIME;
		else if (keyword_is(p, "AUTH")) {
			/* "AUTH PLAIN LOGIN", or the old "AUTH=PLAIN LOGIN" */
			p += 4;
			while (*p != '\0') {
				while (*p == ' ' || *p == '=')
					p++;
				if (keyword_is(p, "PLAIN"))
					ext |= SMTP_EXT_AUTH_PLAIN;
				else if (keyword_is(p, "LOGIN"))
					ext |= SMTP_EXT_AUTH_LOGIN;
				while (*p != '\0' && *p != ' ')
					p++;
			}
		}
	}
	return ext;
}

/* ----------------------------------------------------------- addresses */

int
smtp_address_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	if (n == 0 || n > 254 || at == NULL || at == s || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
		    strchr("<>(),;\\\"", *s) != NULL)
			return 0;
	return 1;
}

int
smtp_from_parse(const char *from, char **addr, char **display)
{
	char *s = one_line(from, HEADER_VALUE_MAX), *lt, *gt, *d;
	size_t n;
	int rc = 0;

	*addr = *display = NULL;
	if ((lt = strchr(s, '<')) == NULL) {
		*addr = xstrdup(s);
	} else {
		gt = strchr(lt, '>');
		if (gt == NULL || gt[1] != '\0')
			goto out;
		*addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
		*lt = '\0';
		d = one_line(s, HEADER_VALUE_MAX);
		n = strlen(d);
		if (n >= 2 && d[0] == '"' && d[n - 1] == '"') {
			memmove(d, d + 1, n - 2);
			d[n - 2] = '\0';
		}
		if (*d != '\0')
			*display = d;
		else
			free(d);
	}
	rc = smtp_address_ok(*addr);
out:
	if (!rc) {
		free(*addr);
		free(*display);
		*addr = *display = NULL;
	}
	free(s);
	return rc;
}

/* ------------------------------------------------------------- headers */

/* Appends text (valid UTF-8, one line) as encoded-words, each on a line
 * of its own after the first; *col is the column reached. */
static void
put_encoded_words(struct sbuf *b, const char *text, size_t *col)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n, take, len = strlen(text);

	while (len > 0) {
		/* as many whole characters as fit in one word */
		take = 0;
		while (take < len) {
			n = utf8_len(p + take);
			if (n == 0)
				n = 1;
			if (take + n > EW_BYTES)
				break;
			take += n;
		}
		if (*col > 0 && *col + 12 + (take + 2) / 3 * 4 > HEADER_WIDTH) {
			sb_adds(b, "\r\n ");
			*col = 1;
		} else if (*col > 0 && b->len > 0 && b->s[b->len - 1] != ' ') {
			sb_addc(b, ' ');
			(*col)++;
		}
		sb_adds(b, "=?UTF-8?B?");
		sb_base64(b, p, take);
		sb_adds(b, "?=");
		*col += 12 + (take + 2) / 3 * 4;
		p += take;
		len -= take;
	}
}

/* Appends printable ASCII text, folded before a space where a line would
 * pass HEADER_WIDTH; *col is the column reached. */
static void
put_folded(struct sbuf *b, const char *text, size_t *col)
{
	const char *p = text, *sp;
	size_t n;

	while (*p != '\0') {
		/* the next word and the spaces before it */
		sp = p;
		while (*sp == ' ')
			sp++;
		n = strcspn(sp, " ");
		if (sp > p && *col + (size_t)(sp - p) + n > HEADER_WIDTH) {
			sb_adds(b, "\r\n");
			sb_add(b, p, (size_t)(sp - p));
			*col = (size_t)(sp - p);
		} else {
			sb_add(b, p, (size_t)(sp - p));
			*col += (size_t)(sp - p);
		}
		sb_add(b, sp, n);
		*col += n;
		p = sp + n;
	}
}

char *
smtp_header(const char *name, const char *value)
{
	struct sbuf b;
	char *v = one_line(value, HEADER_VALUE_MAX);
	size_t col;

	memset(&b, 0, sizeof(b));
	sb_adds(&b, name);
	sb_adds(&b, ": ");
	col = b.len;
	if (printable_ascii(v))
		put_folded(&b, v, &col);
	else
		put_encoded_words(&b, v, &col);
	free(v);
	return sb_take(&b);
}

/* Returns the From header of an address and display name (NULL: none):
 * an ASCII name as a quoted-string, any other as encoded-words. */
static char *
from_header(const char *addr, const char *display)
{
	struct sbuf b;
	const char *p;
	size_t col;

	memset(&b, 0, sizeof(b));
	sb_adds(&b, "From: ");
	col = b.len;
	if (display != NULL && printable_ascii(display)) {
		sb_addc(&b, '"');
		for (p = display; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				sb_addc(&b, '\\');
			sb_addc(&b, *p);
		}
		sb_adds(&b, "\" ");
	} else if (display != NULL) {
		put_encoded_words(&b, display, &col);
		sb_addc(&b, ' ');
	}
	if (display != NULL) {
		sb_addc(&b, '<');
		sb_adds(&b, addr);
		sb_addc(&b, '>');
	} else
		sb_adds(&b, addr);
	return sb_take(&b);
}

/* ---------------------------------------------------------------- body */

char *
smtp_qp_encode(const char *text)
{
	struct sbuf b;
	const unsigned char *p = (const unsigned char *)text, *e;
	char enc[4];
	size_t n, i, col, elen;

	memset(&b, 0, sizeof(b));
	while (*p != '\0') {
		for (e = p; *e != '\0' && *e != '\n'; e++)
			;
		n = (size_t)(e - p);
		if (n > 0 && *e == '\n' && p[n - 1] == '\r')
			n--;
		col = 0;
		for (i = 0; i < n; i++) {
			if ((p[i] >= 33 && p[i] <= 126 && p[i] != '=') ||
			    ((p[i] == ' ' || p[i] == '\t') && i + 1 < n)) {
				enc[0] = (char)p[i];
				enc[1] = '\0';
				elen = 1;
			} else {
				snprintf(enc, sizeof(enc), "=%02X", p[i]);
				elen = 3;
			}
			/* a soft line break keeps lines within QP_WIDTH */
			if (col + elen > QP_WIDTH - 1) {
				sb_adds(&b, "=\r\n");
				col = 0;
			}
			sb_add(&b, enc, elen);
			col += elen;
		}
		sb_adds(&b, "\r\n");
		p = *e == '\n' ? e + 1 : e;
	}
	return sb_take(&b);
}

char *
smtp_dot_stuff(const char *text)
{
	struct sbuf b;
	const char *p;
	int bol = 1;

	memset(&b, 0, sizeof(b));
	for (p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			sb_adds(&b, "\r\n");
			bol = 1;
			continue;
		}
		if (bol && *p == '.')
			sb_addc(&b, '.');
		sb_addc(&b, *p == '\r' ? ' ' : *p);
		bol = 0;
	}
	if (!bol)
		sb_adds(&b, "\r\n");
	sb_adds(&b, ".\r\n");
	return sb_take(&b);
}

/* Returns 1 if the body can go as 7bit: ASCII, lines of at most
 * QP_WIDTH characters, no bare CR. */
static int
body_7bit(const char *body)
{
	const char *p;
	size_t col = 0;

	for (p = body; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n') {
			col = 0;
			continue;
		}
		if ((unsigned char)*p >= 0x80 || *p == '\r' || *p == '\0' ||
		    ++col > QP_WIDTH)
			return 0;
	}
	return 1;
}

/* Appends text with CRLF line ends (for a 7bit body). */
static void
sb_crlf(struct sbuf *b, const char *text)
{
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p == '\r' && p[1] == '\n')
			continue;
		if (*p == '\n')
			sb_adds(b, "\r\n");
		else
			sb_addc(b, *p);
	}
	if (b->len < 2 || strcmp(b->s + b->len - 2, "\r\n") != 0)
		sb_adds(b, "\r\n");
}

char *
smtp_message(const char *from, const char *to, const char *subject,
    const char *body, time_t date, const char *msgid_left)
{
	static const char *const days[7] = { "Sun", "Mon", "Tue", "Wed",
	    "Thu", "Fri", "Sat" };
	static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr",
	    "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct sbuf b;
	struct tm tm;
	char *addr = NULL, *display = NULL, *h = NULL, *qp = NULL, *ret = NULL;
	char buf[64];

	memset(&b, 0, sizeof(b));
	if (!smtp_from_parse(from, &addr, &display) || !smtp_address_ok(to) ||
	    gmtime_r(&date, &tm) == NULL)
		goto out;
	snprintf(buf, sizeof(buf), "Date: %s, %02d %s %04d %02d:%02d:%02d "
	    "+0000\r\n", days[tm.tm_wday % 7], tm.tm_mday,
	    months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
	sb_adds(&b, buf);
	h = from_header(addr, display);
	sb_adds(&b, h);
	sb_adds(&b, "\r\nTo: ");
	sb_adds(&b, to);
	sb_adds(&b, "\r\n");
	free(h);
	h = smtp_header("Subject", subject);
	sb_adds(&b, h);
	sb_adds(&b, "\r\nMessage-ID: <");
	sb_adds(&b, msgid_left);
	sb_adds(&b, strchr(addr, '@'));
	sb_adds(&b, ">\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=UTF-8\r\n"
	    "Auto-Submitted: auto-generated\r\n");
	if (body_7bit(body)) {
		sb_adds(&b, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		sb_crlf(&b, body);
	} else {
		sb_adds(&b, "Content-Transfer-Encoding: quoted-printable"
		    "\r\n\r\n");
		qp = smtp_qp_encode(body);
		sb_adds(&b, qp);
	}
	ret = sb_take(&b);
out:
	free(b.s);
	free(addr);
	free(display);
	free(h);
	free(qp);
	return ret;
}

/* ------------------------------------------------------------- session */

struct conn {
	const struct smtp_server *srv;
	struct smtp_error	*err;
	int			 fd;
	SSL_CTX			*ctx;
	SSL			*ssl;
	char			 buf[SMTP_REPLY_MAX];
	size_t			 len;
};

/* Records the first failure of the session. */
static void ACME_PRINTF(4, 5)
fail(struct conn *c, int transport, int permanent, const char *fmt, ...)
{
	va_list ap;

	if (c->err->text[0] != '\0')
		return;
	c->err->transport = transport;
	c->err->permanent = permanent;
	va_start(ap, fmt);
	vsnprintf(c->err->text, sizeof(c->err->text), fmt, ap);
	va_end(ap);
}

/* Returns the reply's first line fit for a log line or an error (caller
 * frees). */
static char *
reply_text(const struct smtp_reply *r)
{
	char *s = one_line(r->nlines > 0 ? r->lines[0] : "", 200);
	char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x7f)
			*p = '?';
	return s;
}

/* Returns the milliseconds to wait at most now, or 0 if the session's
 * time is up. */
static int
remaining_ms(const struct conn *c)
{
	time_t now = time(NULL);
	long ms = (long)c->srv->timeout * 1000;

	if (c->srv->deadline != 0) {
		if (now >= c->srv->deadline)
			return 0;
		if ((long)(c->srv->deadline - now) * 1000 < ms)
			ms = (long)(c->srv->deadline - now) * 1000;
	}
	return ms > 0 ? (int)ms : 0;
}

/* Waits until the socket is ready for events; returns 1, or 0 on a
 * timeout or error (recorded). */
static int
conn_wait(struct conn *c, short events, const char *what)
{
	struct pollfd pfd;
	int ms, n;

	for (;;) {
		if ((ms = remaining_ms(c)) == 0) {
			fail(c, 1, 0, "%s: timed out", what);
			return 0;
		}
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n == 0) {
			fail(c, 1, 0, "%s: timed out after %d s", what,
			    (ms + 999) / 1000);
			return 0;
		}
		if (errno != EINTR) {
			fail(c, 1, 0, "%s: poll: %s", what, strerror(errno));
			return 0;
		}
	}
}

/* Connects to the server's first address that answers; returns 1 or 0. */
static int
conn_open(struct conn *c)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16];
	socklen_t len;
	int gai, soerr, rc = 0, lasterr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%d", c->srv->port);
	if ((gai = getaddrinfo(c->srv->host, port, &hints, &res)) != 0) {
		fail(c, 1, 0, "cannot resolve %s: %s", c->srv->host,
		    gai_strerror(gai));
		goto out;
	}
	for (ai = res; ai != NULL && !rc; ai = ai->ai_next) {
		c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (c->fd < 0) {
			lasterr = errno;
			continue;
		}
		if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
			rc = 1;
		else if (errno == EINPROGRESS && conn_wait(c, POLLOUT,
		    "connect")) {
			len = sizeof(soerr);
			if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr,
			    &len) == 0 && soerr == 0)
				rc = 1;
			else
				lasterr = soerr;
		} else
			lasterr = errno;
		if (!rc) {
			close(c->fd);
			c->fd = -1;
		}
	}
	if (!rc)
		fail(c, 1, 0, "cannot connect to %s port %d: %s", c->srv->host,
		    c->srv->port, lasterr != 0 ? strerror(lasterr) :
		    "no address");
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

/* Reads what the server sent into c->buf; returns 1 or 0 (recorded). */
static int
conn_read(struct conn *c)
{
	size_t space = sizeof(c->buf) - c->len;
	ssize_t n;
	short ev;
	int e;

	for (;;) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_read(c->ssl, c->buf + c->len, (int)space);
			if (n > 0)
				break;
			e = SSL_get_error(c->ssl, (int)n);
			if (e == SSL_ERROR_WANT_READ)
				ev = POLLIN;
			else if (e == SSL_ERROR_WANT_WRITE)
				ev = POLLOUT;
			else {
				ossl_log_errors("smtp: TLS read");
				fail(c, 1, 0, "the server closed the TLS "
				    "connection");
				return 0;
			}
		} else {
			n = read(c->fd, c->buf + c->len, space);
			if (n > 0)
				break;
			if (n == 0) {
				fail(c, 1, 0, "the server closed the "
				    "connection");
				return 0;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				fail(c, 1, 0, "read: %s", strerror(errno));
				return 0;
			}
			ev = POLLIN;
		}
		if (!conn_wait(c, ev, "waiting for the server"))
			return 0;
	}
	c->len += (size_t)n;
	return 1;
}

/* Writes all of s; returns 1 or 0 (recorded). */
static int
conn_write(struct conn *c, const char *s, size_t len)
{
	ssize_t n;
	short ev;
	int e;

	while (len > 0) {
		if (c->ssl != NULL) {
			ERR_clear_error();
			n = SSL_write(c->ssl, s, len > 65536 ? 65536 :
			    (int)len);
			if (n <= 0) {
				e = SSL_get_error(c->ssl, (int)n);
				if (e == SSL_ERROR_WANT_READ)
					ev = POLLIN;
				else if (e == SSL_ERROR_WANT_WRITE)
					ev = POLLOUT;
				else {
					ossl_log_errors("smtp: TLS write");
					fail(c, 1, 0, "TLS write failed");
					return 0;
				}
				if (!conn_wait(c, ev, "sending"))
					return 0;
				continue;
			}
		} else {
			n = write(c->fd, s, len);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				if (errno != EAGAIN && errno != EWOULDBLOCK) {
					fail(c, 1, 0, "write: %s",
					    strerror(errno));
					return 0;
				}
				if (!conn_wait(c, POLLOUT, "sending"))
					return 0;
				continue;
			}
		}
		s += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Reads one reply; returns 1 or 0 (recorded). */
static int
read_reply(struct conn *c, struct smtp_reply *r, const char *what)
{
	char *t;
	long n;

	for (;;) {
		n = smtp_reply_parse(c->buf, c->len, r);
		if (n > 0)
			break;
		if (n < 0) {
			fail(c, 1, 0, "%s: malformed reply from the server",
			    what);
			return 0;
		}
		if (!conn_read(c))
			return 0;
	}
	memmove(c->buf, c->buf + n, c->len - (size_t)n);
	c->len -= (size_t)n;
	t = reply_text(r);
	msg_debug("smtp: %s: %d %s", what, r->code, t);
	free(t);
	return 1;
}

/*
 * Sends line (CRLF added; NULL: nothing, for the greeting) and reads the
 * reply into r. Returns its code, or 0 if there was none (recorded).
 * secret: the line holds a credential (not logged, wiped).
 */
static int
step(struct conn *c, const char *line, const char *what,
    struct smtp_reply *r, int secret)
{
	char *s;
	int ok = 1;

	smtp_reply_clear(r);
	if (line != NULL) {
		if (!secret)
			msg_debug("smtp: > %s", line);
		s = xasprintf("%s\r\n", line);
		ok = conn_write(c, s, strlen(s));
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
	if (!ok || !read_reply(c, r, what))
		return 0;
	return r->code;
}

/* Records a reply that is not the one wanted at a step. */
static void
refused(struct conn *c, const char *what, const struct smtp_reply *r,
    int transport, int permanent)
{
	char *t = reply_text(r);

	fail(c, transport, permanent, "%s: %d %s", what, r->code, t);
	free(t);
}

/* Returns 1 if s is an IPv4 or IPv6 address literal. */
static int
is_ip(const char *s)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, a) == 1 || inet_pton(AF_INET6, s, a) == 1;
}

/* Starts TLS on the connection, the server's certificate checked against
 * the CA file (or the system's) and the host name or address. Returns 1
 * or 0 (recorded). */
static int
tls_start(struct conn *c)
{
	const char *host = c->srv->host;
	long vr;
	int n, e;
	short ev;

	ERR_clear_error();
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
		ossl_log_errors("smtp: SSL_CTX_new");
		fail(c, 1, 0, "cannot set up TLS");
		return 0;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if (c->srv->ca_file != NULL && c->srv->ca_file[0] != '\0' ?
	    SSL_CTX_load_verify_locations(c->ctx, c->srv->ca_file, NULL) != 1 :
	    SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
		ossl_log_errors("smtp: CA certificates");
		fail(c, 1, 0, "cannot load the CA certificates %s",
		    c->srv->ca_file != NULL && c->srv->ca_file[0] != '\0' ?
		    c->srv->ca_file : "of the system");
		return 0;
	}
	if ((c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    (is_ip(host) ?
	    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) != 1 :
	    (SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    SSL_set1_host(c->ssl, host) != 1))) {
		ossl_log_errors("smtp: SSL_new");
		fail(c, 1, 0, "cannot set up TLS for %s", host);
		return 0;
	}
	for (;;) {
		ERR_clear_error();
		if ((n = SSL_connect(c->ssl)) == 1)
			break;
		e = SSL_get_error(c->ssl, n);
		if (e == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (e == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else {
			vr = SSL_get_verify_result(c->ssl);
			ossl_log_errors("smtp: TLS handshake");
			if (vr != X509_V_OK)
				fail(c, 1, 0, "TLS: the certificate of %s is "
				    "not trusted: %s", host,
				    X509_verify_cert_error_string(vr));
			else
				fail(c, 1, 0, "TLS handshake with %s failed",
				    host);
			return 0;
		}
		if (!conn_wait(c, ev, "TLS handshake"))
			return 0;
	}
	if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
		fail(c, 1, 0, "TLS: the certificate of %s is not trusted",
		    host);
		return 0;
	}
	return 1;
}

/* EHLO; returns the extensions announced, or -1 (recorded). */
static int
ehlo(struct conn *c, struct smtp_reply *r)
{
	char *line = xasprintf("EHLO %s", c->srv->helo != NULL &&
	    c->srv->helo[0] != '\0' ? c->srv->helo : "localhost");
	int code = step(c, line, "EHLO", r, 0), rc = -1;

	if (code == 250)
		rc = (int)smtp_ehlo_parse(r);
	else if (code != 0)
		refused(c, "EHLO", r, 1, 0);
	free(line);
	return rc;
}

/* AUTH PLAIN or LOGIN with the server's credentials; returns 1 or 0. */
static int
authenticate(struct conn *c, unsigned ext, struct smtp_reply *r)
{
	struct sbuf b, tok;
	const char *user = c->srv->user;
	const char *pass = c->srv->password != NULL ? c->srv->password : "";
	int code = 0, rc = 0;

	memset(&b, 0, sizeof(b));
	memset(&tok, 0, sizeof(tok));
	if (ext & SMTP_EXT_AUTH_PLAIN) {
		/* RFC 4616: authzid NUL authcid NUL passwd */
		sb_addc(&tok, '\0');
		sb_adds(&tok, user);
		sb_addc(&tok, '\0');
		sb_adds(&tok, pass);
		sb_adds(&b, "AUTH PLAIN ");
		sb_base64(&b, (const unsigned char *)tok.s, tok.len);
		msg_debug("smtp: > AUTH PLAIN (credentials)");
		code = step(c, b.s, "AUTH PLAIN", r, 1);
	} else if (ext & SMTP_EXT_AUTH_LOGIN) {
		msg_debug("smtp: > AUTH LOGIN (credentials)");
		if ((code = step(c, "AUTH LOGIN", "AUTH LOGIN", r, 0)) == 334) {
			sb_base64(&b, (const unsigned char *)user,
			    strlen(user));
			code = step(c, b.s, "AUTH LOGIN user", r, 1);
		}
		if (code == 334) {
			OPENSSL_cleanse(b.s, b.len);
			b.len = 0;
			sb_base64(&b, (const unsigned char *)pass,
			    strlen(pass));
			code = step(c, b.s, "AUTH LOGIN password", r, 1);
		}
	} else {
		fail(c, 1, 0, "smtp_user is set but the server offers neither "
		    "AUTH PLAIN nor AUTH LOGIN");
		goto out;
	}
	if (code == 235)
		rc = 1;
	else if (code != 0)
		refused(c, "AUTH", r, 1, 0);
out:
	if (b.s != NULL)
		OPENSSL_cleanse(b.s, b.len);
	if (tok.s != NULL)
		OPENSSL_cleanse(tok.s, tok.len);
	free(b.s);
	free(tok.s);
	return rc;
}

int
smtp_send(const struct smtp_server *srv, const char *from, const char *to,
    const char *message, struct smtp_error *err)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct smtp_reply r;
	char *line = NULL, *data = NULL;
	int ext, code, rc = 0;

	memset(err, 0, sizeof(*err));
	memset(&r, 0, sizeof(r));
	c->srv = srv;
	c->err = err;
	c->fd = -1;
	if (!smtp_address_ok(from)) {
		fail(c, 1, 0, "the sender address %s is not usable", from);
		goto out;
	}
	if (!smtp_address_ok(to)) {
		fail(c, 0, 1, "the recipient address is not usable");
		goto out;
	}
	if (srv->user != NULL && srv->user[0] != '\0' && !srv->starttls) {
		fail(c, 1, 0, "smtp_user is set but smtp_starttls is no: "
		    "credentials are sent over TLS only");
		goto out;
	}
	if (!conn_open(c))
		goto out;
	if ((code = step(c, NULL, "greeting", &r, 0)) != 220) {
		if (code != 0)
			refused(c, "greeting", &r, 1, 0);
		goto out;
	}
	if ((ext = ehlo(c, &r)) < 0)
		goto out;
	if (srv->starttls) {
		if (!(ext & SMTP_EXT_STARTTLS)) {
			fail(c, 1, 0, "the server does not offer STARTTLS "
			    "(smtp_starttls = yes)");
			goto out;
		}
		if ((code = step(c, "STARTTLS", "STARTTLS", &r, 0)) != 220) {
			if (code != 0)
				refused(c, "STARTTLS", &r, 1, 0);
			goto out;
		}
		/* anything sent before the handshake would be taken as
		 * said over TLS (CVE-2011-0411): refuse it */
		if (c->len != 0) {
			fail(c, 1, 0, "the server sent data after its reply "
			    "to STARTTLS");
			goto out;
		}
		if (!tls_start(c) || (ext = ehlo(c, &r)) < 0)
			goto out;
	}
	if (srv->user != NULL && srv->user[0] != '\0' &&
	    !authenticate(c, (unsigned)ext, &r))
		goto out;
	line = xasprintf("MAIL FROM:<%s>", from);
	if ((code = step(c, line, "MAIL FROM", &r, 0)) / 100 != 2) {
		/* a refused sender is the setup's fault, not the message's */
		if (code != 0)
			refused(c, "MAIL FROM", &r, 1, 0);
		goto out;
	}
	free(line);
	line = xasprintf("RCPT TO:<%s>", to);
	if ((code = step(c, line, "RCPT TO", &r, 0)) / 100 != 2) {
		if (code != 0)
			refused(c, "RCPT TO", &r, 0, code / 100 == 5);
		goto out;
	}
	if ((code = step(c, "DATA", "DATA", &r, 0)) != 354) {
		if (code != 0)
			refused(c, "DATA", &r, 0, code / 100 == 5);
		goto out;
	}
	data = smtp_dot_stuff(message);
	if (!conn_write(c, data, strlen(data)))
		goto out;
	if ((code = step(c, NULL, "end of data", &r, 0)) / 100 != 2) {
		if (code != 0)
			refused(c, "end of data", &r, 0, code / 100 == 5);
		goto out;
	}
	rc = 1;
	/* accepted: QUIT is a courtesy, its failure changes nothing */
	(void)step(c, "QUIT", "QUIT", &r, 0);
	memset(err, 0, sizeof(*err));
out:
	smtp_reply_clear(&r);
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	ERR_clear_error();
	free(line);
	free(data);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
	return rc;
}
