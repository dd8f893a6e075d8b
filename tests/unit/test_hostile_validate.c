/*
 * test_hostile_validate.c - validation safety of the worker
 * (worker/http01.c, worker/dns01.c) against hostile answers: addresses
 * in special-purpose ranges, redirects to other statuses, ports and
 * schemes, long chains and loops, https hops (TLS 1.2+, SNI, no
 * verification), CNAME chains, loops and split TXT strings, failures of
 * the name servers. The DNS is a mock dns_query() (an authoritative
 * server: it never follows a CNAME unless told to); the web servers are
 * threads on 127.0.0.1, one plain and one TLS.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "config.h"
#include "dns.h"
#include "jose.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#include "mockdns.h"

#define KEYAUTH	"tok.thumbprint"
#define WK	"/.well-known/acme-challenge/"

/* ------------------------------------------------------------------ */
/* The mock name server (mockdns.c, authoritative)                     */

static struct dns_resolver resolver;

/* Appends a foreign TXT record (of evil.example, with the right digest)
 * to every TXT answer; returns the new length. */
static size_t
inject_foreign(unsigned char *ans, size_t len, int type, size_t *an)
{
	unsigned char rd[128];
	char *want;

	if (type != ns_t_txt)
		return len;
	want = sha256_b64u(KEYAUTH);
	rd[0] = (unsigned char)strlen(want);
	memcpy(rd + 1, want, strlen(want));
	len = mockdns_rr(ans, len, "evil.example", ns_t_txt, rd,
	    1 + strlen(want));
	(*an)++;
	free(want);
	return len;
}

/* Empties the zone; the server is authoritative (it never follows a
 * CNAME unless mockdns.chase). */
static void
mz_reset(void)
{
	mockdns_reset();
	mockdns.authoritative = 1;
}

static int
setup_dns(void **state)
{
	(void)state;
	mz_reset();
	assert_int_equal(dns_resolver_parse(&resolver, "127.0.0.1:53"), 1);
	return 0;
}

/* ------------------------------------------------------------------ */
/* dns-01                                                              */

static char *digest;	/* base64url(SHA-256(KEYAUTH)) */

static int
d01(const char *name, struct problem *p)
{
	memset(p, 0, sizeof(*p));
	return dns01_validate(&resolver, name, KEYAUTH, p);
}

static void
test_dns01_cname_chain(void **state)
{
	struct problem p;

	(void)state;
	/* across zones: each link is asked for separately */
	mockdns_cname("_acme-challenge.a.example", "b.example");
	mockdns_cname("b.example", "C.Example");
	mockdns_txt("c.example", "stale", NULL);
	mockdns_txt("c.example", digest, NULL);
	assert_int_equal(d01("a.example", &p), 1);
	assert_int_equal(mockdns.queries, 3);
	/* a recursive server answers the whole chain at once */
	mockdns.queries = 0;
	mockdns.chase = 1;
	assert_int_equal(d01("*.a.example", &p), 1);
	assert_int_equal(mockdns.queries, 1);
}

static void
test_dns01_split_strings(void **state)
{
	struct problem p;
	char a[64], b[64];

	(void)state;
	snprintf(a, sizeof(a), "%.10s", digest);
	snprintf(b, sizeof(b), "%s", digest + 10);
	mockdns_txt("_acme-challenge.split.example", a, b, NULL);
	assert_int_equal(d01("split.example", &p), 1);
	/* two records with the halves are not one value */
	mockdns_txt("_acme-challenge.halves.example", a, NULL);
	mockdns_txt("_acme-challenge.halves.example", b, NULL);
	assert_int_equal(d01("halves.example", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
}

static void
test_dns01_loops_and_bounds(void **state)
{
	static const char *const links[] = { "l1.example", "l2.example",
	    "l3.example", "l4.example", "l5.example", "l6.example",
	    "l7.example", "l8.example", "l9.example", "l10.example" };
	struct problem p;
	size_t i;

	(void)state;
	mockdns_cname("_acme-challenge.loop.example", "x.example");
	mockdns_cname("x.example", "y.example");
	mockdns_cname("y.example", "_acme-challenge.loop.example.");
	assert_int_equal(d01("loop.example", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_non_null(strstr(p.detail, "CNAME loop"));

	mockdns_cname("_acme-challenge.self.example", "_acme-challenge.SELF.example");
	assert_int_equal(d01("self.example", &p), 0);
	assert_non_null(strstr(p.detail, "CNAME loop"));

	/* 8 links are followed, 9 are not */
	mockdns_cname("_acme-challenge.eight.example", links[0]);
	for (i = 0; i + 1 < 8; i++)
		mockdns_cname(links[i], links[i + 1]);
	mockdns_txt(links[7], digest, NULL);
	assert_int_equal(d01("eight.example", &p), 1);
	mz_reset();
	mockdns_cname("_acme-challenge.nine.example", links[0]);
	for (i = 0; i + 1 < 9; i++)
		mockdns_cname(links[i], links[i + 1]);
	mockdns_txt(links[8], digest, NULL);
	assert_int_equal(d01("nine.example", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_non_null(strstr(p.detail, "longer than 8 links"));
	/* the same, answered at once by a recursive server */
	mockdns.chase = 1;
	assert_int_equal(d01("nine.example", &p), 0);
	assert_non_null(strstr(p.detail, "longer than 8 links"));
}

static void
test_dns01_foreign_records(void **state)
{
	struct problem p;

	(void)state;
	/* a TXT record of another owner in the answer does not count */
	mockdns.extra = inject_foreign;
	mockdns_txt("_acme-challenge.f.example", "other", NULL);
	assert_int_equal(d01("f.example", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_string_equal(p.detail, "incorrect TXT record \"other\" found "
	    "at _acme-challenge.f.example");
	assert_int_equal(d01("none.example", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
}

static void
test_dns01_failures(void **state)
{
	struct mockdns_fail *f;
	struct problem p;

	(void)state;
	mockdns_cname("_acme-challenge.t.example", "target.example");
	/* the target does not exist */
	assert_int_equal(d01("t.example", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_string_equal(p.detail, "no TXT record found at "
	    "_acme-challenge.t.example (through CNAME to target.example)");
	/* SERVFAIL and timeout at the target are dns problems */
	f = mockdns_fail("target.example", 0, DNS_RCODE_SERVFAIL, 0, 0);
	assert_int_equal(d01("t.example", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_string_equal(p.detail, "SERVFAIL looking up TXT for "
	    "target.example");
	f->rcode = DNS_RCODE_TRANSPORT;
	assert_int_equal(d01("t.example", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_non_null(strstr(p.detail, "timeout"));
	f->garbage = 1;
	assert_int_equal(d01("t.example", &p), 0);
	assert_int_equal(p.type, PT_DNS);
	assert_non_null(strstr(p.detail, "malformed DNS answer"));
	/* at the name itself */
	snprintf(f->name, sizeof(f->name), "_acme-challenge.t.example");
	f->garbage = 0;
	f->rcode = 5;
	assert_int_equal(d01("t.example", &p), 0);
	assert_string_equal(p.detail, "REFUSED looking up TXT for "
	    "_acme-challenge.t.example");
}

/* ------------------------------------------------------------------ */
/* http-01: the web servers                                            */

static struct {
	pthread_t	 thread;
	int		 lfd;		/* plain HTTP */
	int		 tfd;		/* TLS */
	int		 stop[2];
	int		 port;
	int		 tls_port;
	SSL_CTX		*ctx;		/* TLS 1.2 and 1.3 */
	SSL_CTX		*old_ctx;	/* TLS 1.0 and 1.1 only */
	int		 tls_old;	/* serve with old_ctx */
	pthread_mutex_t	 lock;
	char		 sni[256];	/* server name of the last handshake */
	char		 version[32];	/* its protocol version */
	int		 requests;
} web;

/* Makes the reply to a request for path (after WK); caller frees. */
static char *
web_reply(const char *path)
{
	int n, k;

	/* chainN-K: redirects to chainN-(K+1) until K == N */
	if (sscanf(path, "chain%d-%d", &n, &k) == 2) {
		if (k >= n)
			return xasprintf("HTTP/1.1 200 OK\r\nContent-Length: "
			    "%zu\r\n\r\n%s", strlen(KEYAUTH), KEYAUTH);
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    WK "chain%d-%d\r\n\r\n", n, k + 1);
	}
	if (strcmp(path, "good") == 0)
		return xasprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
		    "\r\n%s", strlen(KEYAUTH), KEYAUTH);
	if (strcmp(path, "see-other") == 0)
		return xasprintf("HTTP/1.1 303 See Other\r\nLocation: "
		    WK "good\r\n\r\n");
	if (strcmp(path, "multiple") == 0)
		return xasprintf("HTTP/1.1 300 Multiple\r\nLocation: "
		    WK "good\r\n\r\n");
	if (strcmp(path, "loop-a") == 0)
		return xasprintf("HTTP/1.1 301 Moved\r\nLocation: "
		    "http://Test.Example:%d" WK "loop-b\r\n\r\n", web.port);
	if (strcmp(path, "loop-b") == 0)
		return xasprintf("HTTP/1.1 308 Moved\r\nLocation: "
		    WK "loop-a#x\r\n\r\n");
	if (strcmp(path, "to-https") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "https://tls.example:%d" WK "good\r\n\r\n", web.tls_port);
	if (strcmp(path, "to-https-default") == 0)
		return xasprintf("HTTP/1.1 307 Temp\r\nLocation: "
		    "https://tls.example" WK "good\r\n\r\n");
	if (strcmp(path, "to-https-plain") == 0)	/* TLS to a plain port */
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "https://tls.example:%d" WK "good\r\n\r\n", web.port);
	if (strcmp(path, "to-http-port") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "http://test.example:%d" WK "good\r\n\r\n", web.tls_port);
	if (strcmp(path, "to-private") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "http://priv.example:%d" WK "good\r\n\r\n", web.port);
	if (strcmp(path, "to-userinfo") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "http://user@test.example:%d" WK "good\r\n\r\n", web.port);
	if (strcmp(path, "to-ipv6") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "http://[::1]:%d" WK "good\r\n\r\n", web.port);
	if (strcmp(path, "to-ftp") == 0)
		return xasprintf("HTTP/1.1 302 Found\r\nLocation: "
		    "ftp://test.example" WK "good\r\n\r\n");
	if (strcmp(path, "back-to-http") == 0)
		return xasprintf("HTTP/1.1 301 Moved\r\nLocation: "
		    "http://test.example:%d" WK "good\r\n\r\n", web.port);
	return xasprintf("HTTP/1.1 404 Not Found\r\nContent-Length: 0"
	    "\r\n\r\n");
}

/* Reads a request head with rd, answers it with wr. */
static void
web_serve(void *io, int (*rd)(void *, char *, int),
    int (*wr)(void *, const char *, int))
{
	char req[2048], path[512], *reply;
	int len = 0, n;

	while (len < (int)sizeof(req) - 1) {
		if ((n = rd(io, req + len, (int)sizeof(req) - 1 - len)) <= 0)
			break;
		len += n;
		req[len] = '\0';
		/* not HTTP (a TLS ClientHello): answer at once */
		if (strstr(req, "\r\n\r\n") != NULL || req[0] != 'G')
			break;
	}
	req[len] = '\0';
	pthread_mutex_lock(&web.lock);
	web.requests++;
	pthread_mutex_unlock(&web.lock);
	if (sscanf(req, "GET " WK "%511s HTTP/1.1", path) != 1)
		path[0] = '\0';
	reply = web_reply(path);
	(void)wr(io, reply, (int)strlen(reply));
	free(reply);
}

static int
fd_rd(void *io, char *b, int n)
{
	return (int)read(*(int *)io, b, (size_t)n);
}

static int
fd_wr(void *io, const char *b, int n)
{
	return (int)write(*(int *)io, b, (size_t)n);
}

static int
ssl_rd(void *io, char *b, int n)
{
	return SSL_read(io, b, n);
}

static int
ssl_wr(void *io, const char *b, int n)
{
	return SSL_write(io, b, n);
}

static void
web_tls(int fd)
{
	struct timeval tv = { 5, 0 };
	const char *sni;
	SSL *ssl;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ssl = SSL_new(web.tls_old ? web.old_ctx : web.ctx);
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1) {
		pthread_mutex_lock(&web.lock);
		sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		snprintf(web.sni, sizeof(web.sni), "%s", sni != NULL ? sni :
		    "");
		snprintf(web.version, sizeof(web.version), "%s",
		    SSL_get_version(ssl));
		pthread_mutex_unlock(&web.lock);
		web_serve(ssl, ssl_rd, ssl_wr);
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	ERR_clear_error();
}

static void *
web_main(void *arg)
{
	struct pollfd pfd[3];
	int fd;

	(void)arg;
	for (;;) {
		pfd[0].fd = web.lfd;
		pfd[1].fd = web.tfd;
		pfd[2].fd = web.stop[0];
		pfd[0].events = pfd[1].events = pfd[2].events = POLLIN;
		if (poll(pfd, 3, -1) == -1 && errno != EINTR)
			break;
		if (pfd[2].revents != 0)
			break;
		if ((pfd[0].revents & POLLIN) != 0 &&
		    (fd = accept(web.lfd, NULL, NULL)) != -1) {
			struct timeval tv = { 5, 0 };

			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
			    sizeof(tv));
			web_serve(&fd, fd_rd, fd_wr);
			shutdown(fd, SHUT_WR);
			close(fd);
		}
		if ((pfd[1].revents & POLLIN) != 0 &&
		    (fd = accept(web.tfd, NULL, NULL)) != -1) {
			web_tls(fd);
			close(fd);
		}
	}
	return NULL;
}

static int
listen_loopback(int *port)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 16) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &slen) == -1) {
		close(fd);
		return -1;
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A server context with a fresh self-signed P-256 certificate, for
 * protocol versions min..max. */
static SSL_CTX *
tls_ctx(int min, int max)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (key == NULL || x == NULL || ctx == NULL)
		return NULL;
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"not.the.name", -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	if (X509_sign(x, key, EVP_sha256()) == 0 ||
	    SSL_CTX_use_certificate(ctx, x) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, key) != 1)
		return NULL;
	if (min < TLS1_2_VERSION)
		SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_min_proto_version(ctx, min);
	SSL_CTX_set_max_proto_version(ctx, max);
	X509_free(x);
	EVP_PKEY_free(key);
	return ctx;
}

static int
setup_web(void **state)
{
	char allow[64];

	(void)state;
	memset(&web, 0, sizeof(web));
	pthread_mutex_init(&web.lock, NULL);
	if ((web.lfd = listen_loopback(&web.port)) == -1 ||
	    (web.tfd = listen_loopback(&web.tls_port)) == -1 ||
	    pipe(web.stop) == -1 ||
	    (web.ctx = tls_ctx(TLS1_2_VERSION, 0)) == NULL ||
	    (web.old_ctx = tls_ctx(TLS1_VERSION, TLS1_1_VERSION)) == NULL)
		return -1;
	snprintf(allow, sizeof(allow), "%d", web.tls_port);
	if (!config_set(CFG_HTTP01_HTTPS_PORT, allow) ||
	    !config_set(CFG_VALIDATION_ALLOW, " 127.0.0.0/8 , ::1 "))
		return -1;
	if (pthread_create(&web.thread, NULL, web_main, NULL) != 0)
		return -1;
	digest = sha256_b64u(KEYAUTH);
	return 0;
}

static int
teardown_web(void **state)
{
	(void)state;
	(void)!write(web.stop[1], "x", 1);
	pthread_join(web.thread, NULL);
	close(web.lfd);
	close(web.tfd);
	close(web.stop[0]);
	close(web.stop[1]);
	SSL_CTX_free(web.ctx);
	SSL_CTX_free(web.old_ctx);
	pthread_mutex_destroy(&web.lock);
	free(digest);
	config_free();
	return 0;
}

static int
setup_http(void **state)
{
	setup_dns(state);
	mockdns_addr("test.example", "127.0.0.1");
	mockdns_addr("tls.example", "127.0.0.1");
	mockdns_addr("priv.example", "10.1.2.3");
	assert_int_equal(config_set(CFG_VALIDATION_ALLOW, " 127.0.0.0/8 , ::1 "),
	    1);
	return 0;
}

static int
h01(const char *name, const char *token, struct problem *p)
{
	memset(p, 0, sizeof(*p));
	return http01_validate(&resolver, name, web.port, token, KEYAUTH, 5,
	    p);
}

static int
web_requests(void)
{
	int n;

	pthread_mutex_lock(&web.lock);
	n = web.requests;
	pthread_mutex_unlock(&web.lock);
	return n;
}

/* ------------------------------------------------------------------ */
/* http-01: addresses                                                  */

static void
test_http01_special_addresses(void **state)
{
	static const struct {
		const char	*addr;
		const char	*what;
	} cases[] = {
		{ "0.1.2.3", "\"this network\"" },
		{ "10.0.0.1", "private-use" },
		{ "100.64.0.1", "shared address space" },
		{ "169.254.169.254", "link-local" },
		{ "172.16.0.1", "private-use" },
		{ "172.31.255.255", "private-use" },
		{ "192.0.0.8", "IETF protocol assignments" },
		{ "192.0.2.1", "documentation" },
		{ "192.168.1.1", "private-use" },
		{ "198.18.0.1", "benchmarking" },
		{ "203.0.113.9", "documentation" },
		{ "224.0.0.1", "multicast" },
		{ "255.255.255.255", "reserved" },
		{ "::", "unspecified" },
		{ "::ffff:127.0.0.1", "IPv4-mapped" },
		{ "::ffff:8.8.8.8", "IPv4-mapped" },
		{ "64:ff9b:1::1", "local-use translation" },
		{ "2001:db8::1", "documentation" },
		{ "2002:7f00:1::1", "6to4" },
		{ "fc00::1", "unique local" },
		{ "fd12:3456::1", "unique local" },
		{ "fe80::1", "link-local" },
		{ "ff02::1", "multicast" },
		{ "4000::1", "not global unicast" },
	};
	struct problem p;
	char name[64], want[160];
	size_t i;
	int before = web_requests();

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(name, sizeof(name), "s%zu.example", i);
		mockdns_addr(name, cases[i].addr);
		assert_int_equal(h01(name, "good", &p), 0);
		snprintf(want, sizeof(want), "refusing to connect to %s: its "
		    "address %s is special-purpose (%s)", name, cases[i].addr,
		    cases[i].what);
		if (p.type != PT_CONNECTION || strcmp(p.detail, want) != 0)
			fail_msg("%s: got %d \"%s\", want \"%s\"",
			    cases[i].addr, p.type, p.detail, want);
	}
	/* loopback is allowed here by validation_allow; ::1 too, but an
	 * address outside the list is not */
	config_set(CFG_VALIDATION_ALLOW, "::1");
	assert_int_equal(h01("test.example", "good", &p), 0);
	assert_string_equal(p.detail, "refusing to connect to test.example: "
	    "its address 127.0.0.1 is special-purpose (loopback)");
	config_set(CFG_VALIDATION_ALLOW, "");
	assert_int_equal(h01("test.example", "good", &p), 0);
	assert_int_equal(web_requests(), before);
	config_set(CFG_VALIDATION_ALLOW, " 127.0.0.0/8 , ::1 ");
}

static void
test_http01_mixed_addresses(void **state)
{
	struct problem p;

	(void)state;
	/* the first allowed address is used: a special one is skipped */
	mockdns_addr("mixed.example", "10.0.0.1");
	mockdns_addr("mixed.example", "127.0.0.1");
	mockdns_addr("mixed.example", "fc00::1");
	assert_int_equal(h01("mixed.example", "good", &p), 1);
	/* several, all refused */
	mockdns_addr("allbad.example", "10.0.0.1");
	mockdns_addr("allbad.example", "fe80::1");
	assert_int_equal(h01("allbad.example", "good", &p), 0);
	assert_string_equal(p.detail, "refusing to connect to allbad.example: "
	    "its address 10.0.0.1 is special-purpose (private-use), as are "
	    "all its other addresses");
}

static void
test_http01_allow_setting(void **state)
{
	static const char *const bad[] = {
		"127.0.0.1/33", "::1/129", "localhost", "127.0.0.0/", "10/8",
		"127.0.0.1,nonsense", "127.0.0.0/-1", "1.2.3.4/8x",
	};
	struct problem p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		config_set(CFG_VALIDATION_ALLOW, bad[i]);
		assert_int_equal(h01("test.example", "good", &p), 0);
		if (p.type != PT_SERVER_INTERNAL)
			fail_msg("allow \"%s\": got %d %s", bad[i], p.type,
			    p.detail);
	}
	/* a /8 allows the range, /32 one address, empty items are fine */
	config_set(CFG_VALIDATION_ALLOW, ",127.0.0.1/32,,");
	if (h01("test.example", "good", &p) != 1)
		fail_msg("allow ,127.0.0.1/32,,: %s", p.detail);
	config_set(CFG_VALIDATION_ALLOW, "127.0.0.2/32");
	assert_int_equal(h01("test.example", "good", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	/* host bits of the network are ignored */
	config_set(CFG_VALIDATION_ALLOW, "127.127.0.0/9");
	assert_int_equal(h01("test.example", "good", &p), 1);
	config_set(CFG_VALIDATION_ALLOW, "127.128.0.0/9");
	assert_int_equal(h01("test.example", "good", &p), 0);
	config_set(CFG_VALIDATION_ALLOW, " 127.0.0.0/8 , ::1 ");
}

/* ------------------------------------------------------------------ */
/* http-01: redirects                                                  */

static void
test_http01_redirect_statuses(void **state)
{
	struct problem p;

	(void)state;
	assert_int_equal(h01("test.example", "see-other", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
	assert_non_null(strstr(p.detail, ": 303 (only 301, 302, 307 and 308 "
	    "redirects are followed)"));
	assert_int_equal(h01("test.example", "multiple", &p), 0);
	assert_int_equal(p.type, PT_UNAUTHORIZED);
}

static void
test_http01_redirect_bounds(void **state)
{
	struct problem p;
	char *want;

	(void)state;
	/* ten redirects are followed, eleven are not */
	assert_int_equal(h01("test.example", "chain10-0", &p), 1);
	assert_int_equal(h01("test.example", "chain11-0", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "too many redirects (more than 10)"));
	/* a loop is found at once (host case and fragment ignored) */
	assert_int_equal(h01("test.example", "loop-a", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	want = xasprintf("redirect loop: http://test.example:%d" WK "loop-b "
	    "redirects to http://test.example:%d" WK "loop-a, already "
	    "visited", web.port, web.port);
	assert_string_equal(p.detail, want);
	free(want);
}

static void
test_http01_redirect_targets(void **state)
{
	struct problem p;
	int before;

	(void)state;
	/* each hop's address is checked again */
	assert_int_equal(h01("test.example", "to-private", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_string_equal(p.detail, "refusing to connect to priv.example: "
	    "its address 10.1.2.3 is special-purpose (private-use)");
	/* http on the https port: not an allowed http port */
	assert_int_equal(h01("test.example", "to-http-port", &p), 0);
	assert_non_null(strstr(p.detail, "redirect to a port other than 80 "
	    "or "));
	/* user information, IP literals, other schemes */
	before = web_requests();
	assert_int_equal(h01("test.example", "to-userinfo", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_int_equal(h01("test.example", "to-ipv6", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_int_equal(h01("test.example", "to-ftp", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "unsupported redirect URL"));
	assert_int_equal(web_requests(), before + 3);
}

static void
test_http01_https(void **state)
{
	struct problem p;

	(void)state;
	/* http to https on the allowed test port: TLS with SNI, and a
	 * self-signed certificate for another name is fine */
	web.sni[0] = '\0';
	assert_int_equal(h01("test.example", "to-https", &p), 1);
	pthread_mutex_lock(&web.lock);
	assert_string_equal(web.sni, "tls.example");
	assert_true(strcmp(web.version, "TLSv1.2") == 0 ||
	    strcmp(web.version, "TLSv1.3") == 0);
	pthread_mutex_unlock(&web.lock);
	/* no port: the configured https port */
	assert_int_equal(h01("test.example", "to-https-default", &p), 1);
	/* an https port other than 443 or the configured one */
	config_set(CFG_HTTP01_HTTPS_PORT, "443");
	assert_int_equal(h01("test.example", "to-https", &p), 0);
	assert_int_equal(p.type, PT_CONNECTION);
	assert_non_null(strstr(p.detail, "redirect to a port other than 443 "
	    "or 443 for https"));
	{
		char port[16];

		snprintf(port, sizeof(port), "%d", web.port);
		/* https to a plain HTTP server: the handshake fails */
		config_set(CFG_HTTP01_HTTPS_PORT, port);
		assert_int_equal(h01("test.example", "to-https-plain", &p), 0);
		assert_int_equal(p.type, PT_TLS);
		assert_non_null(strstr(p.detail, "TLS handshake with "
		    "127.0.0.1 port"));
		snprintf(port, sizeof(port), "%d", web.tls_port);
		config_set(CFG_HTTP01_HTTPS_PORT, port);
	}
	/* a server offering TLS 1.1 at most is refused */
	web.tls_old = 1;
	assert_int_equal(h01("test.example", "to-https", &p), 0);
	web.tls_old = 0;
	if (p.type != PT_TLS)
		fail_msg("TLS 1.1: got %d %s", p.type, p.detail);
	assert_non_null(strstr(p.detail, "TLS handshake"));
}

int
main(void)
{
	const struct CMUnitTest dns01_tests[] = {
		cmocka_unit_test_setup(test_dns01_cname_chain, setup_dns),
		cmocka_unit_test_setup(test_dns01_split_strings, setup_dns),
		cmocka_unit_test_setup(test_dns01_loops_and_bounds, setup_dns),
		cmocka_unit_test_setup(test_dns01_foreign_records, setup_dns),
		cmocka_unit_test_setup(test_dns01_failures, setup_dns),
	};
	const struct CMUnitTest http01_tests[] = {
		cmocka_unit_test_setup(test_http01_special_addresses,
		    setup_http),
		cmocka_unit_test_setup(test_http01_mixed_addresses,
		    setup_http),
		cmocka_unit_test_setup(test_http01_allow_setting, setup_http),
		cmocka_unit_test_setup(test_http01_redirect_statuses,
		    setup_http),
		cmocka_unit_test_setup(test_http01_redirect_bounds,
		    setup_http),
		cmocka_unit_test_setup(test_http01_redirect_targets,
		    setup_http),
		cmocka_unit_test_setup(test_http01_https, setup_http),
	};
	int failed = 0;

	log_init("test_hostile_validate", LOG_LVL_ERR);
	digest = sha256_b64u(KEYAUTH);
	failed += cmocka_run_group_tests_name("dns01", dns01_tests, NULL,
	    NULL);
	free(digest);
	failed += cmocka_run_group_tests_name("http01", http01_tests,
	    setup_web, teardown_web);
	return failed == 0 ? 0 : 1;
}
