/*
 * http01.c - http-01 validation (RFC 8555 section 8.3): a small HTTP/1.1
 * client that resolves through the worker's resolver, connects to the
 * address it found, and keeps to strict size, time and redirect limits.
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

#include "dns.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#define HTTP_CHUNK_LINE_MAX	1024	/* chunk size line with extensions */
#define HTTP_LOCATION_MAX	2048
#define HTTP_QUOTE_MAX		128	/* received text quoted in details */

/* Where one request of the validation goes. */
struct http_target {
	char	*host;		/* owned */
	int	 port;
	char	*path;		/* owned; starts with '/' */
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

/* Returns the URL of a target for messages; caller frees. */
static char *
http_url(const struct http_target *t)
{
	if (t->port == 80)
		return xasprintf("http://%s%s", t->host, t->path);
	return xasprintf("http://%s:%d%s", t->host, t->port, t->path);
}

/*
 * Opens a TCP connection to ss on port before deadline. Returns 1 with
 * *fdp (non-blocking, owned by the caller), or 0 with p set (connection).
 */
static int
http_connect(const struct sockaddr_storage *ss, int port,
    const struct timespec *deadline, int *fdp, struct problem *p)
{
	struct sockaddr_storage sa = *ss;
	struct pollfd pfd;
	char addr[INET6_ADDRSTRLEN];
	socklen_t salen, elen;
	int fd = -1, err = 0, n, rc = 0;

	http_addr_text(ss, addr, sizeof(addr));
	if (sa.ss_family == AF_INET6) {
		((struct sockaddr_in6 *)&sa)->sin6_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in6);
	} else {
		((struct sockaddr_in *)&sa)->sin_port = htons((uint16_t)port);
		salen = sizeof(struct sockaddr_in);
	}
	fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		problem_set(p, PT_CONNECTION, "cannot connect to %s port %d: "
		    "%s", addr, port, strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, salen) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
		} else {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			do {
				n = poll(&pfd, 1, http_ms_left(deadline));
			} while (n == -1 && errno == EINTR);
			if (n == 0) {
				problem_set(p, PT_CONNECTION, "timeout "
				    "connecting to %s port %d", addr, port);
				goto out;
			}
			elen = sizeof(err);
			if (n == -1 || getsockopt(fd, SOL_SOCKET, SO_ERROR,
			    &err, &elen) == -1)
				err = errno;
		}
	}
	if (err != 0) {
		problem_set(p, PT_CONNECTION, "cannot connect to %s port %d: "
		    "%s", addr, port, strerror(err));
		goto out;
	}
	*fdp = fd;
	fd = -1;
	rc = 1;
out:
	if (fd != -1)
		close(fd);
	return rc;
}

/* Sends len bytes on the non-blocking fd before deadline. Returns 1, or
 * 0 with p set (connection). */
static int
http_send(int fd, const char *buf, size_t len, const char *addr, int port,
    const struct timespec *deadline, struct problem *p)
{
	struct pollfd pfd;
	ssize_t n;
	size_t off = 0;
	int rc = 0;

	while (off < len) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		n = poll(&pfd, 1, http_ms_left(deadline));
		if (n == 0) {
			problem_set(p, PT_CONNECTION, "timeout sending the "
			    "request to %s port %d", addr, port);
			goto out;
		}
		if (n > 0)
			n = send(fd, buf + off, len - off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			problem_set(p, PT_CONNECTION, "error sending the request "
			    "to %s port %d: %s", addr, port, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	rc = 1;
out:
	return rc;
}

/*
 * Resolves t->host, connects to its first address and sends a GET for
 * t->path, then reads and parses the response before deadline. Returns 1
 * with resp filled (caller frees with http_resp_free), or 0 with p set.
 */
static int
http_fetch(const struct dns_resolver *res, const struct http_target *t,
    const struct timespec *deadline, struct http_resp *resp,
    struct problem *p)
{
	struct sockaddr_storage *addrs = NULL;
	struct pollfd pfd;
	char addr[INET6_ADDRSTRLEN];
	char *req = NULL, *buf = NULL, *url = NULL;
	const char *err;
	size_t naddrs, len = 0;
	ssize_t n;
	int fd = -1, final = 0, pr, rc = 0;

	url = http_url(t);
	if (!dns_addrs(res, t->host, &addrs, &naddrs, p))
		goto out;
	http_addr_text(&addrs[0], addr, sizeof(addr));
	msg_debug("http-01: GET %s from %s port %d", url, addr, t->port);
	if (!http_connect(&addrs[0], t->port, deadline, &fd, p))
		goto out;
	req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: acme-worker\r\nAccept: */*\r\n"
	    "Connection: close\r\n\r\n", t->path, t->host);
	if (!http_send(fd, req, strlen(req), addr, t->port, deadline, p))
		goto out;

	buf = xmalloc(HTTP_MAX_READ);
	for (;;) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		n = poll(&pfd, 1, http_ms_left(deadline));
		if (n == 0) {
			problem_set(p, PT_CONNECTION, "timeout reading the "
			    "response of %s from %s port %d", url, addr,
			    t->port);
			goto out;
		}
		if (n > 0)
			n = recv(fd, buf + len, HTTP_MAX_READ - len, 0);
		if (n == -1) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			problem_set(p, PT_CONNECTION, "error reading the "
			    "response of %s from %s port %d: %s", url, addr,
			    t->port, strerror(errno));
			goto out;
		}
		len += (size_t)n;
		final = n == 0 || len == HTTP_MAX_READ;
		if ((pr = http_response_parse(buf, len, final, resp,
		    &err)) == 1)
			break;
		if (pr == 0) {
			problem_set(p, PT_CONNECTION, "malformed HTTP "
			    "response of %s from %s port %d: %s", url, addr,
			    t->port, err);
			goto out;
		}
	}
	msg_debug("http-01: %s: status %d, %zu body bytes", url,
	    resp->status, resp->bodylen);
	rc = 1;
out:
	if (fd != -1)
		close(fd);
	free(addrs);
	free(req);
	free(buf);
	free(url);
	return rc;
}

/*
 * Turns the Location of a redirect from t into the next target: an
 * absolute http URL on the configured port (port absent or equal) or an
 * absolute path on the same host. Returns 1 with next filled (owned
 * strings), or 0 with p set (connection).
 */
static int
http_redirect(const struct http_target *t, int port, const char *loc,
    struct http_target *next, struct problem *p)
{
	char quoted[HTTP_QUOTE_MAX];
	const char *auth, *end, *colon, *path;
	char *host = NULL;
	size_t i;
	long rport = port;
	int rc = 0;

	printable_copy(quoted, sizeof(quoted), loc, strlen(loc));
	memset(next, 0, sizeof(*next));
	if (strlen(loc) > HTTP_LOCATION_MAX) {
		problem_set(p, PT_CONNECTION, "redirect URL too long: \"%s\"",
		    quoted);
		goto out;
	}
	if (strncasecmp(loc, "https://", 8) == 0) {
		problem_set(p, PT_CONNECTION, "redirect to https is not "
		    "supported: \"%s\"", quoted);
		goto out;
	}
	if (loc[0] == '/' && loc[1] != '/') {
		host = xstrdup(t->host);
		path = loc;
	} else if (strncasecmp(loc, "http://", 7) == 0) {
		auth = loc + 7;
		end = auth + strcspn(auth, "/?#");
		if ((colon = memchr(auth, ':', (size_t)(end - auth))) ==
		    NULL)
			colon = end;
		host = xstrndup(auth, (size_t)(colon - auth));
		if (colon < end) {
			rport = 0;
			for (i = 1; colon + i < end; i++) {
				if (!isdigit((unsigned char)colon[i]) ||
				    rport > 65535) {
					rport = -1;
					break;
				}
				rport = rport * 10 + (colon[i] - '0');
			}
			if (i == 1)
				rport = port;	/* "host:" */
		}
		if (!http_host_ok(host) || host[strspn(host, "0123456789.")] ==
		    '\0') {
			problem_set(p, PT_CONNECTION, "redirect to an invalid "
			    "host or an IP address: \"%s\"", quoted);
			goto out;
		}
		if (rport != port) {
			problem_set(p, PT_CONNECTION, "redirect to a port "
			    "other than %d: \"%s\"", port, quoted);
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
	next->host = host;
	host = NULL;
	next->port = port;
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

int
http01_validate(const struct dns_resolver *res, const char *name,
    int port, const char *token, const char *key_auth, int timeout,
    struct problem *p)
{
	struct http_target t, next;
	struct http_resp resp;
	struct timespec deadline;
	char got[HTTP_QUOTE_MAX], *url = NULL;
	size_t len;
	int hops, rc = 0;

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
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += timeout;
	t.host = xstrdup(name);
	t.port = port;
	t.path = xasprintf("/.well-known/acme-challenge/%s", token);

	for (hops = 0;; hops++) {
		free(url);
		url = http_url(&t);
		http_resp_free(&resp);
		if (!http_fetch(res, &t, &deadline, &resp, p))
			goto out;
		if (resp.status == 200)
			break;
		if (resp.status != 301 && resp.status != 302 &&
		    resp.status != 303 && resp.status != 307 &&
		    resp.status != 308) {
			problem_set(p, PT_UNAUTHORIZED, "invalid response from "
			    "%s: %d", url, resp.status);
			goto out;
		}
		if (resp.location == NULL) {
			problem_set(p, PT_CONNECTION, "redirect without a "
			    "Location from %s", url);
			goto out;
		}
		if (hops == HTTP01_MAX_REDIRECTS) {
			problem_set(p, PT_CONNECTION, "too many redirects "
			    "(more than %d) from %s", HTTP01_MAX_REDIRECTS,
			    url);
			goto out;
		}
		if (!http_redirect(&t, port, resp.location, &next, p))
			goto out;
		msg_debug("http-01: %s redirects to %s", url, resp.location);
		free(t.host);
		free(t.path);
		t = next;
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
	http_resp_free(&resp);
	free(t.host);
	free(t.path);
	free(url);
	return rc;
}
