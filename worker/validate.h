/*
 * validate.h - the worker's challenge validators (RFC 8555 section 8.3
 * http-01, section 8.4 dns-01) and the HTTP response parser of http-01.
 */
#ifndef ACME_VALIDATE_H
#define ACME_VALIDATE_H

#include <stddef.h>

#include "dns.h"
#include "problem.h"

#define HTTP_MAX_HEADERS	8192	/* status line and headers */
#define HTTP_MAX_BODY		1024	/* body bytes kept */
#define HTTP_MAX_READ		(HTTP_MAX_HEADERS + 4 * HTTP_MAX_BODY)
#define HTTP01_MAX_REDIRECTS	10

/* One parsed HTTP/1.x response. */
struct http_resp {
	int	 status;	/* 100 to 599 */
	char	*location;	/* owned; Location header, or NULL */
	char	*body;		/* owned; de-chunked, NUL-terminated */
	size_t	 bodylen;	/* at most HTTP_MAX_BODY */
	int	 truncated;	/* the body was longer and was cut */
};

/*
 * Parses the HTTP/1.x response held in buf (len bytes, not necessarily
 * NUL-terminated): status line, headers (Content-Length, chunked
 * Transfer-Encoding, Location) and as much of the body as
 * HTTP_MAX_BODY allows. final says no more bytes will come (the peer
 * closed, or HTTP_MAX_READ bytes were read). Returns 1 when the response
 * is complete (r filled, free it with http_resp_free), -1 when more
 * bytes are needed (never when final), or 0 when it is malformed or too
 * large (*err set to a static reason; r untouched).
 */
int	 http_response_parse(const char *buf, size_t len, int final,
	    struct http_resp *r, const char **err);
void	 http_resp_free(struct http_resp *);

/* Copies srclen bytes of src into dst (dstsz bytes, dstsz >= 4) for a
 * problem detail: bytes outside printable ASCII become '?', and a copy
 * too long for dst ends with "...". dst is always NUL-terminated. */
void	 printable_copy(char *dst, size_t dstsz, const char *src,
	    size_t srclen);

/*
 * Fetches http://name:port/.well-known/acme-challenge/token through the
 * resolver (first A, else AAAA address), following at most
 * HTTP01_MAX_REDIRECTS redirects to http URLs on the same port; the whole
 * exchange, redirects included, gets timeout seconds besides DNS time.
 * Returns 1 if the response is 200 with a body equal to key_auth (after
 * trailing whitespace), else 0 with p set (connection, unauthorized,
 * incorrectResponse, dns or malformed).
 */
int	 http01_validate(const struct dns_resolver *, const char *name,
	    int port, const char *token, const char *key_auth, int timeout,
	    struct problem *p);

/* Returns 1 if a TXT record at _acme-challenge.<name> ("*." removed
 * from a wildcard name) equals base64url(SHA-256(key_auth)), else 0 with
 * p set (unauthorized or dns). */
int	 dns01_validate(const struct dns_resolver *, const char *name,
	    const char *key_auth, struct problem *p);

#endif
