/*
 * http01.c - http-01 validation (RFC 8555 section 8.3): a small HTTP/1.1
 * client that resolves through the worker's resolver, connects to the
 * address it found, and keeps to strict size, time and redirect limits.
 *
 * Safety: no address of a special-purpose range (private, loopback,
 * link-local, multicast, documentation...) is ever connected to unless
 * the validation_allow setting lists it; redirects are followed only
 * for 301, 302, 307 and 308, to http on port 80 (or http01_port) and to
 * https on port 443 (or http01_https_port), at most
 * HTTP01_MAX_REDIRECTS times, never twice to the same URL, and every
 * hop's address is checked again. An https hop is TLS 1.2 or newer with
 * SNI and without certificate verification (RFC 8555 section 8.3: the
 * certificate proves nothing here). Each connect gets at most
 * HTTP_CONNECT_MAX seconds, and the whole exchange, redirects included,
 * the validation timeout.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "config.h"
#include "dns.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#define HTTP_CHUNK_LINE_MAX	1024	/* chunk size line with extensions */
#define HTTP_LOCATION_MAX	2048
#define HTTP_QUOTE_MAX		128	/* received text quoted in details */
#define HTTP_CONNECT_MAX	5	/* seconds for one TCP connect */
#define HTTP_ALLOW_MAX		32	/* entries of validation_allow */

enum http_scheme {
	HTTP_SCHEME_HTTP,
	HTTP_SCHEME_HTTPS,
	HTTP_SCHEME__MAX
};

static const struct {
	const char	*name;
	int		 port;		/* the standard port */
} http_schemes[HTTP_SCHEME__MAX] = {
	[HTTP_SCHEME_HTTP] = { "http", 80 },
	[HTTP_SCHEME_HTTPS] = { "https", 443 },
};

/* Where one request of the validation goes. */
struct http_target {
	enum http_scheme scheme;
	char	*host;		/* owned; lower-case */
	int	 port;
	char	*path;		/* owned; starts with '/' */
};

/* An address range: family, network and prefix length. */
struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 net[16];
	int		 bits;
};

/* What one validation may reach. */
struct http_policy {
	int		 ports[HTTP_SCHEME__MAX];	/* besides the standard
							 * one; also the default
							 * of a URL without port */
	struct cidr	 allow[HTTP_ALLOW_MAX];		/* validation_allow */
	size_t		 nallow;
};

/* One connection, plain or TLS. */
struct http_conn {
	int	 fd;
	SSL_CTX	*ctx;
	SSL	*ssl;
	char	 addr[INET6_ADDRSTRLEN];
	int	 port;
};

/*
 * The special-purpose ranges of the IANA IPv4 and IPv6 registries (RFC
 * 6890 and its updates) that are not globally reachable, plus multicast
 * and the IPv4-mapped and 6to4 forms that would lead back to them. Any
 * IPv6 address outside 2000::/3 is refused too.
 */
static const struct {
	const char	*cidr;
	const char	*what;
} http_special[] = {
	{ "0.0.0.0/8", "\"this network\"" },
	{ "10.0.0.0/8", "private-use" },
	{ "100.64.0.0/10", "shared address space" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local" },
	{ "172.16.0.0/12", "private-use" },
	{ "192.0.0.0/24", "IETF protocol assignments" },
	{ "192.0.2.0/24", "documentation" },
	{ "192.88.99.0/24", "6to4 relay anycast" },
	{ "192.168.0.0/16", "private-use" },
	{ "198.18.0.0/15", "benchmarking" },
	{ "198.51.100.0/24", "documentation" },
	{ "203.0.113.0/24", "documentation" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved" },
	{ "::/128", "unspecified" },
	{ "::1/128", "loopback" },
	{ "::ffff:0:0/96", "IPv4-mapped" },
	{ "64:ff9b:1::/48", "local-use translation" },
	{ "100::/64", "discard-only" },
	{ "2001::/23", "IETF protocol assignments" },
	{ "2001:db8::/32", "documentation" },
	{ "2002::/16", "6to4" },
	{ "3fff::/20", "documentation" },
	{ "5f00::/16", "segment routing" },
	{ "fc00::/7", "unique local" },
	{ "fe80::/10", "link-local" },
	{ "fec0::/10", "site-local" },
	{ "ff00::/8", "multicast" },
};

void
printable_copy(char *dst, size_t dstsz, const char *src, size_t srclen)
{
	size_t i, n;

	n = srclen < dstsz - 1 ? srclen : dstsz - 4;
	for (i = 0; i < n; i++)
		dst[i] = (char)((src[i] >= 0x20 && src[i] < 0x7f) ? src[i] : '?');
	if (n < srclen) {
		memcpy(dst + n, "...", 3);
		n += 3;
	}
	dst[n] = '\0';
}

void
http_resp_free(struct http_resp *r)
{
	free(r->location);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Returns 1 if c may appear in a header name (RFC 7230 tchar). */
static int
http_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) !=
	    NULL);
}

/* Returns 1 if the len bytes at s equal the lower-case word w, ignoring
 * case. */
static int
http_word(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

/* Appends up to n body bytes to r, keeping HTTP_MAX_BODY at most.
 * Returns 1, or 0 when bytes had to be dropped (r->truncated set). */
static int
http_body_add(struct http_resp *r, const char *s, size_t n)
{
	size_t room = HTTP_MAX_BODY - r->bodylen;
	int rc = 1;

	if (n > room) {
		n = room;
		r->truncated = 1;
		rc = 0;
	}
	memcpy(r->body + r->bodylen, s, n);
	r->bodylen += n;
	r->body[r->bodylen] = '\0';
	return rc;
}

/*
 * Decodes a chunked body (RFC 7230 section 4.1) from the len bytes at s
 * into r. Trailers after the last chunk are not waited for. Returns 1
 * when complete (or cut at HTTP_MAX_BODY), -1 when more bytes are
 * needed, 0 with *err set when malformed.
 */
static int
http_dechunk(const char *s, size_t len, int final, struct http_resp *r,
    const char **err)
{
	const char *nl, *q;
	size_t off = 0, size, avail;
	int digits, rc = 0;

	for (;;) {
		nl = memchr(s + off, '\n', len - off);
		if (nl == NULL) {
			if (len - off > HTTP_CHUNK_LINE_MAX) {
				*err = "chunk size line too long";
				goto out;
			}
			goto more;
		}
		size = 0;
		digits = 0;
		for (q = s + off; q < nl && isxdigit((unsigned char)*q); q++) {
			if (++digits > 6) {
				*err = "chunk too large";
				goto out;
			}
			size = size * 16 + (size_t)(isdigit((unsigned char)*q) ?
			    *q - '0' : tolower((unsigned char)*q) - 'a' + 10);
		}
		while (q < nl && (*q == ' ' || *q == '\t'))
			q++;
		if (digits == 0 || (q < nl && *q != ';' &&
		    !(*q == '\r' && q + 1 == nl))) {
			*err = "malformed chunk size";
			goto out;
		}
		off = (size_t)(nl - s) + 1;
		if (size == 0) {
			rc = 1;
			goto out;
		}
		avail = len - off;
		if (!http_body_add(r, s + off, avail < size ? avail : size)) {
			rc = 1;
			goto out;
		}
		if (avail < size)
			goto more;
		off += size;
		avail = len - off;
		if (avail >= 2 && s[off] == '\r' && s[off + 1] == '\n')
			off += 2;
		else if (avail >= 1 && s[off] == '\n')
			off += 1;
		else if (avail == 0 || (avail == 1 && s[off] == '\r'))
			goto more;
		else {
			*err = "malformed chunk";
			goto out;
		}
	}
more:
	if (final)
		*err = "connection closed inside the chunked body";
	else
		rc = -1;
out:
	return rc;
}

/* Parses the status line; returns the status (100 to 599) or 0. */
static int
http_status_line(const char *s, size_t len)
{
	int status;

	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)s[7]) || s[8] != ' ' ||
	    !isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) ||
	    !isdigit((unsigned char)s[11]) || (len > 12 && s[12] != ' '))
		return 0;
	status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return status >= 100 && status <= 599 ? status : 0;
}

int
http_response_parse(const char *buf, size_t len, int final,
    struct http_resp *r, const char **err)
{
	struct http_resp t;
	const char *nl, *line, *colon, *v, *vend, *q;
	size_t off, linelen, avail, clen = 0, n;
	size_t limit = len < HTTP_MAX_HEADERS ? len : HTTP_MAX_HEADERS;
	int have_clen = 0, chunked = 0, rc = 0;

	memset(&t, 0, sizeof(t));
	*err = NULL;
	t.body = xmalloc(HTTP_MAX_BODY + 1);
	t.body[0] = '\0';

	/* status line and headers, one complete line at a time */
	for (off = 0;; off = (size_t)(nl - buf) + 1) {
		nl = off < limit ? memchr(buf + off, '\n', limit - off) : NULL;
		if (nl == NULL) {
			if (len >= HTTP_MAX_HEADERS)
				*err = "response headers too large";
			else if (final && len == 0)
				*err = "empty response";
			else if (final)
				*err = "truncated response headers";
			else
				rc = -1;
			goto out;
		}
		line = buf + off;
		linelen = (size_t)(nl - line);
		if (linelen > 0 && line[linelen - 1] == '\r')
			linelen--;
		if (off == 0) {
			if ((t.status = http_status_line(line, linelen)) == 0) {
				*err = "malformed status line";
				goto out;
			}
			continue;
		}
		if (linelen == 0)
			break;
		if (line[0] == ' ' || line[0] == '\t') {
			*err = "obsolete header line folding";
			goto out;
		}
		if ((colon = memchr(line, ':', linelen)) == NULL ||
		    colon == line) {
			*err = "malformed header line";
			goto out;
		}
		for (q = line; q < colon; q++)
			if (!http_tchar((unsigned char)*q)) {
				*err = "malformed header name";
				goto out;
			}
		v = colon + 1;
		vend = line + linelen;
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		for (q = v; q < vend; q++)
			if (((unsigned char)*q < 0x20 && *q != '\t') ||
			    *q == 0x7f) {
				*err = "control character in a header";
				goto out;
			}
		n = (size_t)(colon - line);
		if (http_word(line, n, "content-length")) {
			size_t cl = 0;

			if (v == vend || vend - v > 9) {
				*err = "malformed Content-Length";
				goto out;
			}
			for (q = v; q < vend; q++) {
				if (!isdigit((unsigned char)*q)) {
					*err = "malformed Content-Length";
					goto out;
				}
				cl = cl * 10 + (size_t)(*q - '0');
			}
			if (have_clen && cl != clen) {
				*err = "conflicting Content-Length headers";
				goto out;
			}
			have_clen = 1;
			clen = cl;
		} else if (http_word(line, n, "transfer-encoding")) {
			if (http_word(v, (size_t)(vend - v), "chunked"))
				chunked = 1;
			else if (!http_word(v, (size_t)(vend - v), "identity")) {
				*err = "unsupported Transfer-Encoding";
				goto out;
			}
		} else if (http_word(line, n, "location")) {
			if (t.location != NULL) {
				*err = "several Location headers";
				goto out;
			}
			t.location = xstrndup(v, (size_t)(vend - v));
		}
	}

	off = (size_t)(nl - buf) + 1;
	avail = len - off;
	if (t.status < 200 || t.status == 204 || t.status == 304)
		rc = 1;			/* no body */
	else if (chunked)		/* wins over Content-Length */
		rc = http_dechunk(buf + off, avail, final, &t, err);
	else if (have_clen) {
		if (clen > HTTP_MAX_BODY && avail >= HTTP_MAX_BODY) {
			http_body_add(&t, buf + off, HTTP_MAX_BODY);
			t.truncated = 1;
			rc = 1;
		} else if (avail >= clen) {
			http_body_add(&t, buf + off, clen);
			rc = 1;
		} else if (final)
			*err = "connection closed before the end of the body";
		else
			rc = -1;
	} else if (avail > HTTP_MAX_BODY || final) {
		http_body_add(&t, buf + off, avail);
		rc = 1;
	} else
		rc = -1;
out:
	if (rc == 1) {
		*r = t;
		memset(&t, 0, sizeof(t));
	}
	http_resp_free(&t);
	return rc;
}

/* Returns the milliseconds left before deadline (CLOCK_MONOTONIC), or
 * 0 once it has passed. */
static int
http_ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
	    (deadline->tv_nsec - now.tv_nsec) / 1000000;
	if (ms <= 0)
		return 0;
	return ms > 3600LL * 1000 ? 3600 * 1000 : (int)ms;
}

/* Waits until fd is ready for events or deadline passes. Returns 1 when
 * ready, 0 on timeout, -1 on error (errno set). */
static int
http_wait(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd;
	int n;

	do {
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, http_ms_left(deadline));
	} while (n == -1 && errno == EINTR);
	return n > 0 ? 1 : n;
}

/* Writes the numeric form of an address into buf. */
static void
http_addr_text(const struct sockaddr_storage *ss, char *buf, size_t bufsz)
{
	const void *a;

	if (ss->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		a = &((const struct sockaddr_in *)ss)->sin_addr;
	if (inet_ntop(ss->ss_family, a, buf, (socklen_t)bufsz) == NULL)
		snprintf(buf, bufsz, "?");
}

/*
 * Parses "address" or "address/bits" (IPv4 or IPv6, len bytes of s,
 * surrounding spaces allowed). Returns 1 with c filled, or 0.
 */
static int
cidr_parse(const char *s, size_t len, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long bits;
	int max;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	memset(c, 0, sizeof(*c));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, c->net) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, c->net) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		return 0;
	c->bits = max;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return 0;
		bits = strtol(slash, &end, 10);
		if (*end != '\0' || bits < 0 || bits > max)
			return 0;
		c->bits = (int)bits;
	}
	return 1;
}

/* Returns 1 if the address of ss is inside c. */
static int
cidr_match(const struct cidr *c, const struct sockaddr_storage *ss)
{
	const unsigned char *a;
	int full, rest;

	if (ss->ss_family != c->family)
		return 0;
	if (c->family == AF_INET)
		a = (const unsigned char *)
		    &((const struct sockaddr_in *)ss)->sin_addr;
	else
		a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
	full = c->bits / 8;
	rest = c->bits % 8;
	if (memcmp(a, c->net, (size_t)full) != 0)
		return 0;
	return rest == 0 || ((a[full] ^ c->net[full]) &
	    (0xff << (8 - rest)) & 0xff) == 0;
}

/* Returns NULL if ss may be connected to under pol, else what kind of
 * special-purpose address it is (static). */
static const char *
http_addr_refused(const struct http_policy *pol,
    const struct sockaddr_storage *ss)
{
	struct cidr c;
	size_t i;

	for (i = 0; i < pol->nallow; i++)
		if (cidr_match(&pol->allow[i], ss))
			return NULL;
	for (i = 0; i < sizeof(http_special) / sizeof(http_special[0]);
	    i++) {
		if (!cidr_parse(http_special[i].cidr,
		    strlen(http_special[i].cidr), &c))
			msg_fatal("http-01: bad range %s", http_special[i].cidr);
		if (cidr_match(&c, ss))
			return http_special[i].what;
	}
	if (ss->ss_family == AF_INET6 &&
	    (((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr[0] &
	    0xe0) != 0x20)
		return "not global unicast";
	return NULL;
}

/*
 * Fills pol from the configuration: the http port (the http01_port the
 * caller passes), the https port (http01_https_port) and the
 * validation_allow ranges. Returns 1, or 0 with p set (serverInternal)
 * when validation_allow is malformed.
 */
static int
http_policy_load(struct http_policy *pol, int port, struct problem *p)
{
	const char *spec = cfg_str(CFG_VALIDATION_ALLOW), *item, *comma;
	size_t len;

	memset(pol, 0, sizeof(*pol));
	pol->ports[HTTP_SCHEME_HTTP] = port;
	pol->ports[HTTP_SCHEME_HTTPS] = cfg_int(CFG_HTTP01_HTTPS_PORT) > 0 ?
	    (int)cfg_int(CFG_HTTP01_HTTPS_PORT) : 443;
	for (item = spec; *item != '\0'; item = *comma != '\0' ? comma + 1 :
	    comma) {
		if ((comma = strchr(item, ',')) == NULL)
			comma = item + strlen(item);
		len = (size_t)(comma - item);
		if (strspn(item, " \t") >= len)
			continue;	/* an empty item */
		if (pol->nallow == HTTP_ALLOW_MAX ||
		    !cidr_parse(item, len, &pol->allow[pol->nallow])) {
			problem_set(p, PT_SERVER_INTERNAL, "http-01: bad "
			    "validation_allow setting \"%.64s\"", spec);
			return 0;
		}
		pol->nallow++;
	}
	return 1;
}

/* Returns 1 if name can be sent as a host name: letters, digits,
 * hyphens, underscores and dots, 1 to 253 characters. */
static int
http_host_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= 253 && name[0] != '.' &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == len;
}

/* Returns the URL of a target for messages and loop checks; caller
 * frees. */
static char *
http_url(const struct http_target *t)
{
	if (t->port == http_schemes[t->scheme].port)
		return xasprintf("%s://%s%s", http_schemes[t->scheme].name,
		    t->host, t->path);
	return xasprintf("%s://%s:%d%s", http_schemes[t->scheme].name,
	    t->host, t->port, t->path);
}

/* Closes a connection; a zeroed one (fd -1) is fine. */
static void
http_conn_close(struct http_conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->ctx != NULL)
		SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	c->ssl = NULL;
	c->ctx = NULL;
	c->fd = -1;
}

/*
 * Opens a TCP connection to ss on port, within HTTP_CONNECT_MAX seconds
 * and before deadline. Returns 1 with c open (non-blocking; close it
 * with http_conn_close), or 0 with p set (connection).
 */
static int
http_connect(const struct sockaddr_storage *ss, int port,
    const struct timespec *deadline, struct http_conn *c, struct problem *p)
{
	struct sockaddr_storage sa = *ss;
	struct timespec cdl;
	socklen_t salen, elen;
	int err = 0, n, rc = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->port = port;
	http_addr_text(ss, c->addr, sizeof(c->addr));
	clock_gettime(CLOCK_MONOTONIC, &cdl);
	cdl.tv_sec += HTTP_CONNECT_MAX;
	if (cdl.tv_sec > deadline->tv_sec || (cdl.tv_sec == deadline->tv_sec &&
	    cdl.tv_nsec > deadline->tv_nsec))
		cdl = *deadline;
	if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in);
	}
	c->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		err = errno;
		goto out;
	}
	if (connect(c->fd, (struct sockaddr *)&sa, salen) == -1) {
		if (errno != EINPROGRESS)
			err = errno;
		else if ((n = http_wait(c->fd, POLLOUT, &cdl)) == 0) {
			problem_set(p, PT_CONNECTION, "timeout connecting to "
			    "%s port %d", c->addr, port);
			goto out;
		} else {
			elen = sizeof(err);
			if (n == -1 || getsockopt(c->fd, SOL_SOCKET, SO_ERROR,
			    &err, &elen) == -1)
				err = errno;
		}
	}
	if (err == 0)
		rc = 1;
out:
	if (!rc && err != 0)
		problem_set(p, PT_CONNECTION, "cannot connect to %s port %d: "
		    "%s", c->addr, port, strerror(err));
	if (!rc)
		http_conn_close(c);
	return rc;
}

/* Sets p to a tls problem naming what failed and OpenSSL's reason, and
 * clears OpenSSL's error queue. */
static void
http_tls_problem(struct http_conn *c, const char *what, struct problem *p)
{
	const char *why = ERR_reason_error_string(ERR_peek_last_error());

	problem_set(p, PT_TLS, "TLS %s with %s port %d failed%s%s", what,
	    c->addr, c->port, why != NULL ? ": " : "", why != NULL ? why : "");
	ERR_clear_error();
}

/* Waits for what SSL_get_error asks (read or write) before deadline.
 * Returns 1 to try again, 0 with p set. */
static int
http_tls_wait(struct http_conn *c, int ret, const char *what,
    const struct timespec *deadline, struct problem *p)
{
	int e = SSL_get_error(c->ssl, ret), n;

	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
		http_tls_problem(c, what, p);
		return 0;
	}
	n = http_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
	    deadline);
	if (n == 0) {
		problem_set(p, PT_CONNECTION, "timeout during the TLS %s with "
		    "%s port %d", what, c->addr, c->port);
		return 0;
	}
	if (n == -1) {
		problem_set(p, PT_CONNECTION, "error during the TLS %s with "
		    "%s port %d: %s", what, c->addr, c->port, strerror(errno));
		return 0;
	}
	return 1;
}

/*
 * Makes c a TLS connection: TLS 1.2 or newer, SNI host, no certificate
 * verification, handshake done before deadline. Returns 1, or 0 with p
 * set (tls or connection).
 */
static int
http_tls_start(struct http_conn *c, const char *host,
    const struct timespec *deadline, struct problem *p)
{
	int r;

	ERR_clear_error();
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
	    (c->ssl = SSL_new(c->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		ossl_log_errors("http-01: TLS setup");
		problem_set(p, PT_SERVER_INTERNAL, "http-01: cannot set up "
		    "TLS");
		return 0;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	/* a peer closing without close_notify ends the body, as in HTTP */
	SSL_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
	while ((r = SSL_connect(c->ssl)) != 1)
		if (!http_tls_wait(c, r, "handshake", deadline, p))
			return 0;
	msg_debug("http-01: %s with %s port %d", SSL_get_version(c->ssl),
	    c->addr, c->port);
	return 1;
}

/* Sends len bytes on c before deadline. Returns 1, or 0 with p set. */
static int
http_conn_write(struct http_conn *c, const char *buf, size_t len,
    const struct timespec *deadline, struct problem *p)
{
	ssize_t n;
	size_t off = 0;
	int r;

	while (off < len) {
		if (c->ssl != NULL) {
			if ((r = SSL_write(c->ssl, buf + off,
			    (int)(len - off))) > 0)
				off += (size_t)r;
			else if (!http_tls_wait(c, r, "write", deadline, p))
				return 0;
			continue;
		}
		if ((r = http_wait(c->fd, POLLOUT, deadline)) == 0) {
			problem_set(p, PT_CONNECTION, "timeout sending the "
			    "request to %s port %d", c->addr, c->port);
			return 0;
		}
		n = r > 0 ? send(c->fd, buf + off, len - off, MSG_NOSIGNAL) :
		    -1;
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			problem_set(p, PT_CONNECTION, "error sending the request "
			    "to %s port %d: %s", c->addr, c->port,
			    strerror(errno));
			return 0;
		}
		off += (size_t)n;
	}
	return 1;
}

/* Reads at most len bytes from c before deadline. Returns the count,
 * 0 at the end of the stream, or -1 with p set. */
static ssize_t
http_conn_read(struct http_conn *c, char *buf, size_t len,
    const struct timespec *deadline, struct problem *p)
{
	ssize_t n;
	int r, e;

	for (;;) {
		if (c->ssl != NULL) {
			if ((r = SSL_read(c->ssl, buf, (int)len)) > 0)
				return r;
			e = SSL_get_error(c->ssl, r);
			if (e == SSL_ERROR_ZERO_RETURN) {
				ERR_clear_error();
				return 0;
			}
			if (!http_tls_wait(c, r, "read", deadline, p))
				return -1;
			continue;
		}
		if ((r = http_wait(c->fd, POLLIN, deadline)) == 0) {
			problem_set(p, PT_CONNECTION, "timeout reading the "
			    "response from %s port %d", c->addr, c->port);
			return -1;
		}
		n = r > 0 ? recv(c->fd, buf, len, 0) : -1;
		if (n >= 0)
			return n;
		if (errno == EINTR || errno == EAGAIN)
			continue;
		problem_set(p, PT_CONNECTION, "error reading the response from "
		    "%s port %d: %s", c->addr, c->port, strerror(errno));
		return -1;
	}
}

/*
 * Returns the first address of t->host that pol allows (index in
 * addrs), or -1 with p set when every address is special-purpose.
 */
static int
http_pick_addr(const struct http_policy *pol, const struct http_target *t,
    const struct sockaddr_storage *addrs, size_t naddrs, struct problem *p)
{
	char addr[INET6_ADDRSTRLEN];
	const char *what, *first = NULL;
	size_t i, at = 0;

	for (i = 0; i < naddrs; i++) {
		if ((what = http_addr_refused(pol, &addrs[i])) == NULL)
			return (int)i;
		if (first == NULL) {
			first = what;
			at = i;
		}
	}
	http_addr_text(&addrs[at], addr, sizeof(addr));
	problem_set(p, PT_CONNECTION, "refusing to connect to %s: its "
	    "address %s is special-purpose (%s)%s", t->host, addr,
	    first != NULL ? first : "none", naddrs > 1 ? ", as are all its "
	    "other addresses" : "");
	return -1;
}

/*
 * Resolves t->host, connects to its first allowed address (TLS for
 * https) and sends a GET for t->path, then reads and parses the response
 * before deadline. Returns 1 with resp filled (caller frees with
 * http_resp_free), or 0 with p set.
 */
static int
http_fetch(const struct dns_resolver *res, const struct http_policy *pol,
    const struct http_target *t, const struct timespec *deadline,
    struct http_resp *resp, struct problem *p)
{
	struct sockaddr_storage *addrs = NULL;
	struct http_conn c;
	char *req = NULL, *buf = NULL, *url = NULL;
	const char *err;
	size_t naddrs, len = 0;
	ssize_t n;
	int i, final = 0, pr, rc = 0;

	memset(&c, 0, sizeof(c));
	c.fd = -1;
	url = http_url(t);
	if (!dns_addrs(res, t->host, &addrs, &naddrs, p))
		goto out;
	if ((i = http_pick_addr(pol, t, addrs, naddrs, p)) < 0)
		goto out;
	if (!http_connect(&addrs[i], t->port, deadline, &c, p))
		goto out;
	msg_debug("http-01: GET %s from %s port %d", url, c.addr, t->port);
	if (t->scheme == HTTP_SCHEME_HTTPS &&
	    !http_tls_start(&c, t->host, deadline, p))
		goto out;
	req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: acme-worker\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", t->path, t->host);
	if (!http_conn_write(&c, req, strlen(req), deadline, p))
		goto out;

	buf = xmalloc(HTTP_MAX_READ);
	for (;;) {
		if ((n = http_conn_read(&c, buf + len, HTTP_MAX_READ - len,
		    deadline, p)) < 0) {
			problem_append(p, " (");
			problem_append(p, url);
			problem_append(p, ")");
			goto out;
		}
		len += (size_t)n;
		final = n == 0 || len == HTTP_MAX_READ;
		if ((pr = http_response_parse(buf, len, final, resp,
		    &err)) == 1)
			break;
		if (pr == 0) {
			problem_set(p, PT_CONNECTION, "malformed HTTP "
			    "response of %s from %s port %d: %s", url, c.addr,
			    t->port, err);
			goto out;
		}
	}
	msg_debug("http-01: %s: status %d, %zu body bytes", url,
	    resp->status, resp->bodylen);
	rc = 1;
out:
	http_conn_close(&c);
	free(addrs);
	free(req);
	free(buf);
	free(url);
	return rc;
}

/*
 * Turns the Location of a redirect from t into the next target: an
 * absolute http or https URL whose host is a DNS name (no IP address,
 * no user information) and whose port, if any, is the scheme's standard
 * one or the one pol adds; or an absolute path on the same origin. The
 * fragment is dropped. Returns 1 with next filled (owned strings), or 0
 * with p set (connection).
 */
static int
http_redirect(const struct http_target *t, const struct http_policy *pol,
    const char *loc, struct http_target *next, struct problem *p)
{
	char quoted[HTTP_QUOTE_MAX];
	const char *auth, *end, *colon, *path;
	char *host = NULL;
	size_t i, plen;
	enum http_scheme scheme = t->scheme;
	long rport = t->port;
	int rc = 0;

	printable_copy(quoted, sizeof(quoted), loc, strlen(loc));
	memset(next, 0, sizeof(*next));
	if (strlen(loc) > HTTP_LOCATION_MAX) {
		problem_set(p, PT_CONNECTION, "redirect URL too long: \"%s\"",
		    quoted);
		goto out;
	}
	if (strncasecmp(loc, "http://", 7) == 0) {
		scheme = HTTP_SCHEME_HTTP;
		plen = 7;
	} else if (strncasecmp(loc, "https://", 8) == 0) {
		scheme = HTTP_SCHEME_HTTPS;
		plen = 8;
	} else
		plen = 0;
	if (plen == 0 && loc[0] == '/' && loc[1] != '/') {
		host = xstrdup(t->host);
		path = loc;
	} else if (plen > 0) {
		auth = loc + plen;
		end = auth + strcspn(auth, "/?#");
		if ((colon = memchr(auth, ':', (size_t)(end - auth))) == NULL)
			colon = end;
		host = xstrndup(auth, (size_t)(colon - auth));
		for (i = 0; host[i] != '\0'; i++)
			host[i] = (char)tolower((unsigned char)host[i]);
		rport = pol->ports[scheme];	/* no port, or "host:" */
		if (colon + 1 < end) {
			rport = 0;
			for (i = 1; colon + i < end; i++) {
				if (!isdigit((unsigned char)colon[i]) ||
				    rport > 65535) {
					rport = -1;
					break;
				}
				rport = rport * 10 + (colon[i] - '0');
			}
		}
		if (!http_host_ok(host) || host[strspn(host, "0123456789.")] ==
		    '\0') {
			problem_set(p, PT_CONNECTION, "redirect to an invalid "
			    "host or an IP address: \"%s\"", quoted);
			goto out;
		}
		if (rport != http_schemes[scheme].port &&
		    rport != pol->ports[scheme]) {
			problem_set(p, PT_CONNECTION, "redirect to a port "
			    "other than %d or %d for %s: \"%s\"",
			    http_schemes[scheme].port, pol->ports[scheme],
			    http_schemes[scheme].name, quoted);
			goto out;
		}
		path = end;
	} else {
		problem_set(p, PT_CONNECTION, "unsupported redirect URL: "
		    "\"%s\"", quoted);
		goto out;
	}
	for (i = 0; path[i] != '\0' && path[i] != '#'; i++)
		if (path[i] <= ' ' || path[i] >= 0x7f) {
			problem_set(p, PT_CONNECTION, "invalid character in "
			    "redirect URL: \"%s\"", quoted);
			goto out;
		}
	next->path = path[0] == '/' ? xstrndup(path, i) :
	    xasprintf("/%.*s", (int)i, path);
	next->scheme = scheme;
	next->host = host;
	host = NULL;
	next->port = (int)rport;
	rc = 1;
out:
	free(host);
	return rc;
}

/* Returns 1 if token is a non-empty base64url string. */
static int
http_token_ok(const char *token)
{
	size_t len = strlen(token);

	return len > 0 && len <= 256 && strspn(token,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_-") == len;
}

/* Returns 1 if status is a redirect that http-01 follows. */
static int
http_followed(int status)
{
	return status == 301 || status == 302 || status == 307 ||
	    status == 308;
}

int
http01_validate(const struct dns_resolver *res, const char *name,
    int port, const char *token, const char *key_auth, int timeout,
    struct problem *p)
{
	struct http_policy pol;
	struct http_target t, next;
	struct http_resp resp;
	struct timespec deadline;
	char got[HTTP_QUOTE_MAX], *url = NULL, *nurl = NULL;
	char *visited[HTTP01_MAX_REDIRECTS + 1];
	size_t len, nvisited = 0, i;
	int rc = 0;

	memset(&t, 0, sizeof(t));
	memset(&resp, 0, sizeof(resp));
	if (!http_host_ok(name)) {
		problem_set(p, PT_MALFORMED, "http-01: invalid host name");
		goto out;
	}
	if (!http_token_ok(token)) {
		problem_set(p, PT_MALFORMED, "http-01: invalid token");
		goto out;
	}
	if (port < 1 || port > 65535 || timeout < 1) {
		problem_set(p, PT_SERVER_INTERNAL, "http-01: bad port or "
		    "timeout");
		goto out;
	}
	if (!http_policy_load(&pol, port, p))
		goto out;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	t.scheme = HTTP_SCHEME_HTTP;
	t.host = xstrdup(name);
	for (i = 0; t.host[i] != '\0'; i++)
		t.host[i] = (char)tolower((unsigned char)t.host[i]);
	t.port = port;
	t.path = xasprintf("/.well-known/acme-challenge/%s", token);
	url = http_url(&t);

	for (;;) {
		visited[nvisited++] = url;
		url = NULL;
		http_resp_free(&resp);
		if (!http_fetch(res, &pol, &t, &deadline, &resp, p))
			goto out;
		url = xstrdup(visited[nvisited - 1]);
		if (resp.status == 200)
			break;
		if (!http_followed(resp.status)) {
			problem_set(p, PT_UNAUTHORIZED, "invalid response from "
			    "%s: %d%s", url, resp.status, resp.status >= 300 &&
			    resp.status < 400 ? " (only 301, 302, 307 and 308 "
			    "redirects are followed)" : "");
			goto out;
		}
		if (resp.location == NULL) {
			problem_set(p, PT_CONNECTION, "redirect without a "
			    "Location from %s", url);
			goto out;
		}
		if (nvisited > HTTP01_MAX_REDIRECTS) {
			problem_set(p, PT_CONNECTION, "too many redirects "
			    "(more than %d) from %s", HTTP01_MAX_REDIRECTS,
			    url);
			goto out;
		}
		if (!http_redirect(&t, &pol, resp.location, &next, p))
			goto out;
		nurl = http_url(&next);
		for (i = 0; i < nvisited; i++)
			if (strcmp(visited[i], nurl) == 0)
				break;
		if (i < nvisited) {
			problem_set(p, PT_CONNECTION, "redirect loop: %s "
			    "redirects to %s, already visited", url, nurl);
			free(next.host);
			free(next.path);
			goto out;
		}
		msg_debug("http-01: %s redirects to %s", url, nurl);
		free(t.host);
		free(t.path);
		t = next;
		free(url);
		url = nurl;
		nurl = NULL;
	}

	len = resp.bodylen;
	while (len > 0 && strchr(" \t\r\n", resp.body[len - 1]) != NULL &&
	    resp.body[len - 1] != '\0')
		len--;
	printable_copy(got, sizeof(got), resp.body, len);
	if (resp.truncated)
		problem_set(p, PT_INCORRECT_RESPONSE, "the response from %s "
		    "is larger than %d bytes: \"%s\"", url, HTTP_MAX_BODY,
		    got);
	else if (len != strlen(key_auth) ||
	    memcmp(resp.body, key_auth, len) != 0)
		problem_set(p, PT_INCORRECT_RESPONSE, "the key authorization "
		    "from %s is incorrect: expected \"%s\", got \"%s\"", url,
		    key_auth, got);
	else
		rc = 1;
out:
	for (i = 0; i < nvisited; i++)
		free(visited[i]);
	http_resp_free(&resp);
	free(t.host);
	free(t.path);
	free(url);
	free(nurl);
	return rc;
}
