/*
 * acmebench.c - ACME load generator for `make bench` (tests/bench/bench.py
 * drives it). It runs complete RFC 8555 flows against one directory:
 * newOrder, authorization, http-01 challenge answered by its own responder,
 * authorization polling, finalize, order polling, certificate download.
 *
 *	acmebench -d DIRECTORY -C CAFILE -k ACCOUNTS -z ZONE -p HTTP01PORT
 *	    [-T REQUEST_TIMEOUT_MS] [-F FLOW_TIMEOUT_MS] [-l LABEL] [-a rsa|ec]
 *
 * ACCOUNTS holds one "kid hmac_key" EAB credential per line; one account
 * is registered per line at start (not measured), with an RSA 2048 key
 * signing RS256 (-a rsa) or a P-256 key signing ES256 (-a ec, the
 * default). Then it reads commands
 * on standard input, one per line, and answers each with one line:
 *
 *	run N SECONDS	N concurrent flows for SECONDS; answers a JSON object
 *			(issuances, latencies, requests, errors, stalls)
 *	quit		exits
 *
 * Before the first command it prints "ready N" (N accounts registered).
 * Every request has a timeout: a request that times out, or a flow that
 * does not end within FLOW_TIMEOUT_MS, is a stall, reported as such.
 *
 * Written in C (libcurl, OpenSSL, json-c) so that on a 2-core machine the
 * client costs far less CPU than the servers it measures: a Python client
 * spends more CPU per flow than the server under test.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define MAX_ACCOUNTS	256
#define MAX_TOKENS	1024
#define MAX_LAT		200000
#define ERR_SAMPLES	5
#define RESPONDERS	4

enum outcome {
	OUT_OK,
	OUT_ERROR,	/* an unexpected status or document */
	OUT_STALL,	/* a request or the flow timed out */
};

/* One HTTP response. */
struct resp {
	long	 status;
	char	*body;
	size_t	 len;
	char	 nonce[256];
	char	 location[1024];
	int	 timed_out;
	char	 err[256];
};

/* One registered account and its connection (one flow at a time). */
struct account {
	CURL		*curl;
	struct curl_slist *hdrs;
	EVP_PKEY	*key;
	char		*jwk;		/* JSON text */
	char		 thumb[64];
	char		*kid;		/* account URL */
	char		 nonce[256];
	char		 eab_kid[128];
	char		 eab_hmac[128];
	int		 index;
	/* results of the current run */
	double		*lat;		/* whole flows */
	size_t		 nlat;
	double		*vlat;		/* challenge POST -> authz valid */
	size_t		 nvlat;
	double		*ilat;		/* finalize -> order valid */
	size_t		 nilat;
	long		 ok, errors, stalls, requests, badnonce;
	char		 samples[ERR_SAMPLES][300];
	int		 nsamples;
};

static struct {
	char	*directory;
	char	*cafile;
	char	*zone;
	const char *label;
	int	 port;
	long	 req_timeout;	/* ms */
	long	 flow_timeout;	/* ms */
	char	*new_nonce, *new_account, *new_order;
	EVP_PKEY *csr_key;
	int	 rsa_accounts;	/* RS256 account keys (RSA 2048), else ES256 */
	struct account acct[MAX_ACCOUNTS];
	int	 nacct;
	double	 deadline;	/* of the current run */
	unsigned long seq;
	pthread_mutex_t lock;
	/* http-01 responder */
	struct { char token[128]; char *keyauth; } tok[MAX_TOKENS];
	pthread_mutex_t toklock;
	int	 lfd;
	long	 served;
} g;

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "acmebench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Returns the base64url (no padding) of len bytes; caller frees. */
static char *
b64u(const unsigned char *in, size_t len)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789-_";
	char *out = malloc(len * 4 / 3 + 4), *o = out;
	size_t i;
	unsigned v;

	if (out == NULL)
		die("out of memory");
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		*o++ = al[v >> 6 & 63];
		*o++ = al[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned)in[i] << 16;
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
		*o++ = al[v >> 18 & 63];
		*o++ = al[v >> 12 & 63];
		*o++ = al[v >> 6 & 63];
	}
	*o = '\0';
	return out;
}

static int
b64u_val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* Decodes base64url into out (at least strlen(in) bytes); returns the
 * length, or -1. */
static int
b64u_dec(const char *in, unsigned char *out)
{
	unsigned v = 0;
	int bits = 0, n = 0, d;

	for (; *in != '\0' && *in != '='; in++) {
		if ((d = b64u_val((unsigned char)*in)) < 0)
			return -1;
		v = v << 6 | (unsigned)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	return n;
}

static char *
xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die("out of memory");
	return d;
}

/* ------------------------------------------------------------ keys, JWS */

/* Returns a new account key: RSA 2048 or P-256 (g.rsa_accounts). */
static EVP_PKEY *
account_key(void)
{
	EVP_PKEY *k = g.rsa_accounts ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");

	if (k == NULL)
		die("cannot generate an account key");
	return k;
}

/* Returns the base64url of the big-endian integer param of key, at least
 * pad bytes long (caller frees). */
static char *
key_param(EVP_PKEY *key, const char *param, int pad)
{
	unsigned char buf[512];
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1 ||
	    (n = BN_num_bytes(bn)) > (int)sizeof(buf) ||
	    BN_bn2binpad(bn, buf, n > pad ? n : pad) < 0)
		die("cannot read the account key's %s", param);
	BN_free(bn);
	return b64u(buf, (size_t)(n > pad ? n : pad));
}

/* Sets the account's JWK text and RFC 7638 thumbprint. */
static void
account_jwk(struct account *a)
{
	unsigned char dg[32];
	char *p1, *p2, *t;
	unsigned int dl;
	int rc;

	/* members in lexicographic order: also the thumbprint input */
	if (g.rsa_accounts) {
		p1 = key_param(a->key, OSSL_PKEY_PARAM_RSA_E, 0);
		p2 = key_param(a->key, OSSL_PKEY_PARAM_RSA_N, 0);
		rc = asprintf(&a->jwk, "{\"e\":\"%s\",\"kty\":\"RSA\","
		    "\"n\":\"%s\"}", p1, p2);
	} else {
		p1 = key_param(a->key, OSSL_PKEY_PARAM_EC_PUB_X, 32);
		p2 = key_param(a->key, OSSL_PKEY_PARAM_EC_PUB_Y, 32);
		rc = asprintf(&a->jwk, "{\"crv\":\"P-256\",\"kty\":\"EC\","
		    "\"x\":\"%s\",\"y\":\"%s\"}", p1, p2);
	}
	if (rc < 0)
		die("out of memory");
	if (EVP_Digest(a->jwk, strlen(a->jwk), dg, &dl, EVP_sha256(), NULL)
	    != 1)
		die("sha256");
	t = b64u(dg, 32);
	snprintf(a->thumb, sizeof(a->thumb), "%s", t);
	free(t);
	free(p1);
	free(p2);
}

/* Returns the flattened JWS (RS256 or ES256) of payload (NULL:
 * POST-as-GET), signed with kid, or with the JWK when kid is NULL; caller
 * frees. */
static char *
jws(struct account *a, const char *url, const char *payload,
    const char *kid)
{
	json_object *prot = json_object_new_object(), *out;
	unsigned char der[512], sig[64];
	const unsigned char *p;
	size_t derlen = sizeof(der);
	char *p64, *b64, *signing, *s64, *text;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *es;
	const BIGNUM *r, *s;

	json_object_object_add(prot, "alg", json_object_new_string(
	    g.rsa_accounts ? "RS256" : "ES256"));
	if (kid != NULL)
		json_object_object_add(prot, "kid", json_object_new_string(kid));
	else
		json_object_object_add(prot, "jwk",
		    json_tokener_parse(a->jwk));
	json_object_object_add(prot, "nonce", json_object_new_string(a->nonce));
	json_object_object_add(prot, "url", json_object_new_string(url));
	text = (char *)json_object_to_json_string_ext(prot,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	p64 = b64u((const unsigned char *)text, strlen(text));
	b64 = payload != NULL ? b64u((const unsigned char *)payload,
	    strlen(payload)) : xstrdup("");
	if (asprintf(&signing, "%s.%s", p64, b64) < 0)
		die("out of memory");
	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    a->key) != 1 || EVP_DigestSign(md, der, &derlen,
	    (unsigned char *)signing, strlen(signing)) != 1)
		die("JWS signature failed");
	if (g.rsa_accounts)
		s64 = b64u(der, derlen);	/* RS256: the signature as is */
	else {
		/* ES256: r and s of the DER signature, 32 bytes each */
		p = der;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
			die("bad ECDSA signature");
		ECDSA_SIG_get0(es, &r, &s);
		BN_bn2binpad(r, sig, 32);
		BN_bn2binpad(s, sig + 32, 32);
		ECDSA_SIG_free(es);
		s64 = b64u(sig, 64);
	}
	out = json_object_new_object();
	json_object_object_add(out, "protected", json_object_new_string(p64));
	json_object_object_add(out, "payload", json_object_new_string(b64));
	json_object_object_add(out, "signature", json_object_new_string(s64));
	text = xstrdup(json_object_to_json_string_ext(out,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(out);
	json_object_put(prot);
	EVP_MD_CTX_free(md);
	free(p64);
	free(b64);
	free(s64);
	free(signing);
	return text;
}

/* Returns the EAB inner JWS (HS256 over the account JWK) as JSON. */
static json_object *
eab_jws(struct account *a)
{
	json_object *prot = json_object_new_object(), *out;
	unsigned char key[128], mac[32];
	unsigned int maclen = 0;
	char *p64, *b64, *signing, *m64;
	const char *text;
	int klen;

	json_object_object_add(prot, "alg", json_object_new_string("HS256"));
	json_object_object_add(prot, "kid", json_object_new_string(a->eab_kid));
	json_object_object_add(prot, "url",
	    json_object_new_string(g.new_account));
	text = json_object_to_json_string_ext(prot, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	p64 = b64u((const unsigned char *)text, strlen(text));
	b64 = b64u((const unsigned char *)a->jwk, strlen(a->jwk));
	if (asprintf(&signing, "%s.%s", p64, b64) < 0)
		die("out of memory");
	if ((klen = b64u_dec(a->eab_hmac, key)) <= 0)
		die("bad EAB HMAC key %s", a->eab_hmac);
	if (HMAC(EVP_sha256(), key, klen, (unsigned char *)signing,
	    strlen(signing), mac, &maclen) == NULL)
		die("HMAC failed");
	m64 = b64u(mac, maclen);
	out = json_object_new_object();
	json_object_object_add(out, "protected", json_object_new_string(p64));
	json_object_object_add(out, "payload", json_object_new_string(b64));
	json_object_object_add(out, "signature", json_object_new_string(m64));
	json_object_put(prot);
	free(p64);
	free(b64);
	free(signing);
	free(m64);
	return out;
}

/* Returns the base64url DER of a CSR for name; caller frees. */
static char *
csr_for(const char *name)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *subj = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509_EXTENSION *ext;
	unsigned char *der = NULL;
	char san[300], *out;
	int len;

	snprintf(san, sizeof(san), "DNS:%s", name);
	X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_ASC,
	    (const unsigned char *)name, -1, -1, 0);
	X509_REQ_set_subject_name(req, subj);
	X509_REQ_set_pubkey(req, g.csr_key);
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
	sk_X509_EXTENSION_push(exts, ext);
	X509_REQ_add_extensions(req, exts);
	if (X509_REQ_sign(req, g.csr_key, EVP_sha256()) <= 0 ||
	    (len = i2d_X509_REQ(req, &der)) <= 0)
		die("cannot sign the CSR");
	out = b64u(der, (size_t)len);
	OPENSSL_free(der);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(subj);
	X509_REQ_free(req);
	return out;
}

/* ------------------------------------------------------------------ HTTP */

static size_t
on_body(char *ptr, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t add = size * n;
	char *nb;

	if (r->len + add > 1 << 20)
		return 0;
	if ((nb = realloc(r->body, r->len + add + 1)) == NULL)
		return 0;
	r->body = nb;
	memcpy(r->body + r->len, ptr, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

/* Copies a header value (trimmed) into dst when the line is name: value. */
static void
header_copy(const char *line, size_t len, const char *name, char *dst,
    size_t dstlen)
{
	size_t nl = strlen(name), i, j;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 ||
	    line[nl] != ':')
		return;
	for (i = nl + 1; i < len && line[i] == ' '; i++)
		;
	for (j = len; j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' ||
	    line[j - 1] == ' '); j--)
		;
	if (j - i >= dstlen)
		return;
	memcpy(dst, line + i, j - i);
	dst[j - i] = '\0';
}

static size_t
on_header(char *ptr, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;

	header_copy(ptr, size * n, "Replay-Nonce", r->nonce, sizeof(r->nonce));
	header_copy(ptr, size * n, "Location", r->location,
	    sizeof(r->location));
	return size * n;
}

static void
resp_free(struct resp *r)
{
	free(r->body);
	memset(r, 0, sizeof(*r));
}

/* Sends one request (body NULL: GET, or HEAD when head); returns 1 if a
 * response came, 0 on a transport error or timeout (r->timed_out). */
static int
http(struct account *a, const char *url, const char *body, int head,
    struct resp *r)
{
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	a->requests++;
	curl_easy_setopt(a->curl, CURLOPT_URL, url);
	curl_easy_setopt(a->curl, CURLOPT_NOBODY, head ? 1L : 0L);
	if (body != NULL) {
		curl_easy_setopt(a->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, a->hdrs);
	} else {
		curl_easy_setopt(a->curl, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(a->curl, CURLOPT_HTTPHEADER, NULL);
		if (head)
			curl_easy_setopt(a->curl, CURLOPT_NOBODY, 1L);
	}
	curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(a->curl, CURLOPT_HEADERDATA, r);
	cc = curl_easy_perform(a->curl);
	if (cc != CURLE_OK) {
		r->timed_out = cc == CURLE_OPERATION_TIMEDOUT;
		snprintf(r->err, sizeof(r->err), "%s %s", url,
		    curl_easy_strerror(cc));
		return 0;
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (r->nonce[0] != '\0')
		snprintf(a->nonce, sizeof(a->nonce), "%s", r->nonce);
	return 1;
}

/* Fetches a fresh nonce; returns 1 or 0. */
static int
fresh_nonce(struct account *a, struct resp *r)
{
	if (!http(a, g.new_nonce, NULL, 1, r))
		return 0;
	resp_free(r);
	return a->nonce[0] != '\0';
}

/* POSTs a JWS of payload to url (kid signed); retries once on badNonce.
 * Returns 1 if a response came (any status), 0 on transport failure. */
static int
post(struct account *a, const char *url, const char *payload,
    struct resp *r)
{
	char *body;
	int tries, ok = 0;

	for (tries = 0; tries < 3; tries++) {
		body = jws(a, url, payload, a->kid);
		ok = http(a, url, body, 0, r);
		free(body);
		if (!ok || r->status != 400 || r->body == NULL ||
		    strstr(r->body, "badNonce") == NULL)
			return ok;
		a->badnonce++;
		resp_free(r);
		if (a->nonce[0] == '\0' && !fresh_nonce(a, r))
			return 0;
	}
	return ok;
}

static json_object *
parse(const struct resp *r)
{
	return r->body != NULL ? json_tokener_parse(r->body) : NULL;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ------------------------------------------------------------ responder */

static void
token_set(const char *token, const char *keyauth)
{
	int i;

	pthread_mutex_lock(&g.toklock);
	for (i = 0; i < MAX_TOKENS; i++)
		if (g.tok[i].keyauth == NULL) {
			snprintf(g.tok[i].token, sizeof(g.tok[i].token), "%s",
			    token);
			g.tok[i].keyauth = xstrdup(keyauth);
			break;
		}
	pthread_mutex_unlock(&g.toklock);
}

static void
token_del(const char *token)
{
	int i;

	pthread_mutex_lock(&g.toklock);
	for (i = 0; i < MAX_TOKENS; i++)
		if (g.tok[i].keyauth != NULL &&
		    strcmp(g.tok[i].token, token) == 0) {
			free(g.tok[i].keyauth);
			g.tok[i].keyauth = NULL;
		}
	pthread_mutex_unlock(&g.toklock);
}

/* Answers GET /.well-known/acme-challenge/TOKEN on one connection. */
static void
serve(int fd)
{
	char buf[4096], *sp, *end, out[1024], *ka = NULL;
	const char *pfx = "GET /.well-known/acme-challenge/";
	size_t got = 0;
	ssize_t n;
	int i, len;
	struct timeval tv = { 5, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < sizeof(buf) - 1) {
		if ((n = read(fd, buf + got, sizeof(buf) - 1 - got)) <= 0)
			return;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (strncmp(buf, pfx, strlen(pfx)) == 0) {
		sp = buf + strlen(pfx);
		if ((end = strchr(sp, ' ')) != NULL) {
			*end = '\0';
			pthread_mutex_lock(&g.toklock);
			for (i = 0; i < MAX_TOKENS; i++)
				if (g.tok[i].keyauth != NULL &&
				    strcmp(g.tok[i].token, sp) == 0) {
					ka = xstrdup(g.tok[i].keyauth);
					break;
				}
			pthread_mutex_unlock(&g.toklock);
		}
	}
	if (ka != NULL)
		len = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
		    "Connection: close\r\n\r\n%s", strlen(ka), ka);
	else
		len = snprintf(out, sizeof(out), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	if (len > 0)
		(void)!write(fd, out, (size_t)len);
	__atomic_add_fetch(&g.served, 1, __ATOMIC_RELAXED);
	free(ka);
}

static void *
responder(void *arg)
{
	int fd;

	(void)arg;
	for (;;) {
		if ((fd = accept(g.lfd, NULL, NULL)) < 0)
			continue;
		serve(fd);
		close(fd);
	}
	return NULL;
}

static void
responder_start(void)
{
	struct sockaddr_in sin;
	pthread_t t;
	int one = 1, i;

	if ((g.lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket: %s", strerror(errno));
	setsockopt(g.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)g.port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(g.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    listen(g.lfd, 256) != 0)
		die("http-01 responder on 127.0.0.1:%d: %s", g.port,
		    strerror(errno));
	for (i = 0; i < RESPONDERS; i++)
		if (pthread_create(&t, NULL, responder, NULL) != 0)
			die("pthread_create");
}

/* -------------------------------------------------------------- the flow */

static void
sample(struct account *a, const char *fmt, ...)
{
	va_list ap;

	if (a->nsamples >= ERR_SAMPLES)
		return;
	va_start(ap, fmt);
	vsnprintf(a->samples[a->nsamples++], sizeof(a->samples[0]), fmt, ap);
	va_end(ap);
}

/* Reports a failed step: a stall on timeout, else an error. */
static enum outcome
failed(struct account *a, const char *step, const struct resp *r)
{
	if (r->timed_out) {
		sample(a, "stall: %s: %s", step, r->err);
		return OUT_STALL;
	}
	if (r->err[0] != '\0')
		sample(a, "error: %s: %s", step, r->err);
	else
		sample(a, "error: %s: HTTP %ld %.200s", step, r->status,
		    r->body != NULL ? r->body : "");
	return OUT_ERROR;
}

/* Polls url (POST-as-GET) until its status is one of want (or "invalid");
 * returns the document (caller puts) or NULL with *out set. */
static json_object *
poll_until(struct account *a, const char *url, const char *want,
    const char *step, double flow_end, enum outcome *out)
{
	struct resp r;
	json_object *doc;
	const char *st;
	long wait = 2;

	for (;;) {
		if (!post(a, url, NULL, &r) || r.status != 200) {
			*out = failed(a, step, &r);
			resp_free(&r);
			return NULL;
		}
		doc = parse(&r);
		st = jstr(doc, "status");
		if (st != NULL && strcmp(st, want) == 0) {
			resp_free(&r);
			return doc;
		}
		if (st == NULL || strcmp(st, "invalid") == 0) {
			*out = failed(a, step, &r);
			resp_free(&r);
			json_object_put(doc);
			return NULL;
		}
		resp_free(&r);
		json_object_put(doc);
		if (now_ms() + (double)wait > flow_end) {
			sample(a, "stall: %s: still %s after the flow timeout",
			    step, st);
			*out = OUT_STALL;
			return NULL;
		}
		/* the same fast polling for every server: 2, 4, 8, 16, 32,
		 * 50 ms... (Retry-After is not honoured: it is in seconds) */
		sleep_ms(wait);
		wait = wait * 2 > 50 ? 50 : wait * 2;
	}
}

static enum outcome
flow(struct account *a)
{
	struct resp r;
	json_object *order = NULL, *authz = NULL, *ch, *v, *done = NULL;
	char name[256], payload[512], *csr = NULL, *orderurl = NULL;
	char *authzurl = NULL, *chall = NULL, *token = NULL, *keyauth = NULL;
	char *finalize = NULL, *certurl = NULL, *p;
	double end = now_ms() + (double)g.flow_timeout, t;
	enum outcome out = OUT_ERROR;
	unsigned long seq;
	size_t i;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&g.lock);
	seq = ++g.seq;
	pthread_mutex_unlock(&g.lock);
	snprintf(name, sizeof(name), "b%d-%lu-%s.%s", a->index, seq,
	    g.label, g.zone);
	snprintf(payload, sizeof(payload), "{\"identifiers\":[{\"type\":"
	    "\"dns\",\"value\":\"%s\"}]}", name);
	if (!post(a, g.new_order, payload, &r) || r.status != 201 ||
	    (order = parse(&r)) == NULL || r.location[0] == '\0') {
		out = failed(a, "newOrder", &r);
		goto out;
	}
	orderurl = xstrdup(r.location);
	if (!json_object_object_get_ex(order, "authorizations", &v) ||
	    json_object_array_length(v) != 1 || jstr(order, "finalize") == NULL)
		goto bad;
	authzurl = xstrdup(json_object_get_string(
	    json_object_array_get_idx(v, 0)));
	finalize = xstrdup(jstr(order, "finalize"));
	resp_free(&r);
	if (!post(a, authzurl, NULL, &r) || r.status != 200 ||
	    (authz = parse(&r)) == NULL) {
		out = failed(a, "authorization", &r);
		goto out;
	}
	if (!json_object_object_get_ex(authz, "challenges", &v))
		goto bad;
	for (i = 0; i < json_object_array_length(v); i++) {
		ch = json_object_array_get_idx(v, i);
		if (jstr(ch, "type") != NULL &&
		    strcmp(jstr(ch, "type"), "http-01") == 0 &&
		    jstr(ch, "url") != NULL && jstr(ch, "token") != NULL) {
			chall = xstrdup(jstr(ch, "url"));
			token = xstrdup(jstr(ch, "token"));
		}
	}
	if (chall == NULL)
		goto bad;
	if (asprintf(&keyauth, "%s.%s", token, a->thumb) < 0)
		die("out of memory");
	token_set(token, keyauth);
	resp_free(&r);
	t = now_ms();
	if (!post(a, chall, "{}", &r) || r.status != 200 ||
	    (done = parse(&r)) == NULL || jstr(done, "status") == NULL ||
	    strcmp(jstr(done, "status"), "invalid") == 0) {
		out = failed(a, "challenge", &r);
		goto out;
	}
	/* as lego does: a challenge answered valid needs no polling of its
	 * authorization (a server may answer with the outcome) */
	i = strcmp(jstr(done, "status"), "valid") == 0;
	json_object_put(done);
	done = NULL;
	resp_free(&r);
	if (!i && (done = poll_until(a, authzurl, "valid",
	    "authorization polling", end, &out)) == NULL)
		goto out;
	json_object_put(done);
	done = NULL;
	if (a->nvlat < MAX_LAT)
		a->vlat[a->nvlat++] = now_ms() - t;
	csr = csr_for(name);
	if (asprintf(&p, "{\"csr\":\"%s\"}", csr) < 0)
		die("out of memory");
	t = now_ms();
	i = post(a, finalize, p, &r);
	free(p);
	if (!i || r.status != 200 || (done = parse(&r)) == NULL ||
	    jstr(done, "status") == NULL ||
	    strcmp(jstr(done, "status"), "invalid") == 0) {
		out = failed(a, "finalize", &r);
		goto out;
	}
	resp_free(&r);
	/* an order answered valid is not polled (every client does so) */
	if (strcmp(jstr(done, "status"), "valid") != 0) {
		json_object_put(done);
		if ((done = poll_until(a, orderurl, "valid", "order polling",
		    end, &out)) == NULL)
			goto out;
	}
	if (a->nilat < MAX_LAT)
		a->ilat[a->nilat++] = now_ms() - t;
	if (jstr(done, "certificate") == NULL)
		goto bad;
	certurl = xstrdup(jstr(done, "certificate"));
	if (!post(a, certurl, NULL, &r) || r.status != 200 || r.body == NULL ||
	    strstr(r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
		out = failed(a, "certificate", &r);
		goto out;
	}
	out = OUT_OK;
	goto out;
bad:
	sample(a, "error: unexpected document: %.200s", r.body != NULL ?
	    r.body : "");
	out = OUT_ERROR;
out:
	if (out == OUT_OK && now_ms() > end) {
		sample(a, "stall: the flow took longer than %ld ms",
		    g.flow_timeout);
		out = OUT_STALL;
	}
	if (token != NULL)
		token_del(token);
	resp_free(&r);
	json_object_put(order);
	json_object_put(authz);
	json_object_put(done);
	free(csr);
	free(orderurl);
	free(authzurl);
	free(chall);
	free(token);
	free(keyauth);
	free(finalize);
	free(certurl);
	return out;
}

/* ------------------------------------------------------------ accounts */

static void
account_init(struct account *a)
{
	a->curl = curl_easy_init();
	if (a->curl == NULL)
		die("curl_easy_init");
	curl_easy_setopt(a->curl, CURLOPT_CAINFO, g.cafile);
	curl_easy_setopt(a->curl, CURLOPT_TIMEOUT_MS, g.req_timeout);
	curl_easy_setopt(a->curl, CURLOPT_CONNECTTIMEOUT_MS, g.req_timeout);
	curl_easy_setopt(a->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->curl, CURLOPT_HTTP_VERSION,
	    (long)CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(a->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(a->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(a->curl, CURLOPT_USERAGENT, "acmebench/1");
	a->hdrs = curl_slist_append(NULL,
	    "Content-Type: application/jose+json");
	a->key = account_key();
	account_jwk(a);
}

/* Registers the account with its EAB credential; returns 1 or 0. */
static int
account_new(struct account *a)
{
	json_object *pl = json_object_new_object();
	struct resp r;
	char *body;
	int ok;

	if (!fresh_nonce(a, &r))
		return 0;
	json_object_object_add(pl, "termsOfServiceAgreed",
	    json_object_new_boolean(1));
	json_object_object_add(pl, "contact", json_object_new_array());
	json_object_object_add(pl, "externalAccountBinding", eab_jws(a));
	body = jws(a, g.new_account, json_object_to_json_string_ext(pl,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), NULL);
	ok = http(a, g.new_account, body, 0, &r) &&
	    (r.status == 201 || r.status == 200) && r.location[0] != '\0';
	if (ok)
		a->kid = xstrdup(r.location);
	else
		fprintf(stderr, "acmebench: newAccount %s: HTTP %ld %s %s\n",
		    a->eab_kid, r.status, r.err, r.body != NULL ? r.body : "");
	free(body);
	resp_free(&r);
	json_object_put(pl);
	return ok;
}

static void
directory_load(void)
{
	struct account *a = &g.acct[0];
	struct resp r;
	json_object *d;

	if (!http(a, g.directory, NULL, 0, &r) || r.status != 200 ||
	    (d = parse(&r)) == NULL)
		die("cannot read the directory %s: %ld %s", g.directory,
		    r.status, r.err);
	if (jstr(d, "newNonce") == NULL || jstr(d, "newAccount") == NULL ||
	    jstr(d, "newOrder") == NULL)
		die("incomplete directory %s", r.body);
	g.new_nonce = xstrdup(jstr(d, "newNonce"));
	g.new_account = xstrdup(jstr(d, "newAccount"));
	g.new_order = xstrdup(jstr(d, "newOrder"));
	json_object_put(d);
	resp_free(&r);
}

static void *
register_thread(void *arg)
{
	struct account *a = arg;

	if (!account_new(a))
		a->kid = NULL;
	return NULL;
}

static void *
run_thread(void *arg)
{
	struct account *a = arg;
	double t0;
	enum outcome o;

	while (now_ms() < g.deadline) {
		t0 = now_ms();
		o = flow(a);
		if (o == OUT_OK) {
			if (a->nlat < MAX_LAT)
				a->lat[a->nlat++] = now_ms() - t0;
			a->ok++;
		} else if (o == OUT_STALL)
			a->stalls++;
		else {
			a->errors++;
			/* a broken connection or nonce: start clean */
			a->nonce[0] = '\0';
		}
		if (a->nonce[0] == '\0') {
			struct resp r;

			(void)fresh_nonce(a, &r);
		}
	}
	return NULL;
}

static int
cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double
pct(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
run(int n, double secs)
{
	pthread_t th[MAX_ACCOUNTS];
	json_object *o = json_object_new_object(), *errs;
	double t0, elapsed, *all, *vall, *iall;
	long ok = 0, er = 0, st = 0, rq = 0, bn = 0;
	size_t nall = 0, nv = 0, ni = 0, i;
	long served0 = g.served;
	int k, j;

	if (n < 1 || n > g.nacct) {
		printf("{\"error\": \"concurrency %d: %d accounts\"}\n", n,
		    g.nacct);
		fflush(stdout);
		return;
	}
	for (k = 0; k < n; k++) {
		struct account *a = &g.acct[k];

		a->nlat = a->nvlat = a->nilat = 0;
		a->ok = a->errors = a->stalls = a->requests = a->badnonce = 0;
		a->nsamples = 0;
		if (a->lat == NULL && ((a->lat = calloc(MAX_LAT,
		    sizeof(double))) == NULL || (a->vlat = calloc(MAX_LAT,
		    sizeof(double))) == NULL || (a->ilat = calloc(MAX_LAT,
		    sizeof(double))) == NULL))
			die("out of memory");
	}
	t0 = now_ms();
	g.deadline = t0 + secs * 1000.0;
	for (k = 0; k < n; k++)
		if (pthread_create(&th[k], NULL, run_thread, &g.acct[k]) != 0)
			die("pthread_create");
	for (k = 0; k < n; k++)
		pthread_join(th[k], NULL);
	elapsed = (now_ms() - t0) / 1000.0;
	all = calloc(MAX_LAT, sizeof(double));
	vall = calloc(MAX_LAT, sizeof(double));
	iall = calloc(MAX_LAT, sizeof(double));
	if (all == NULL || vall == NULL || iall == NULL)
		die("out of memory");
	errs = json_object_new_array();
	for (k = 0; k < n; k++) {
		struct account *a = &g.acct[k];

		ok += a->ok;
		er += a->errors;
		st += a->stalls;
		rq += a->requests;
		bn += a->badnonce;
		for (i = 0; i < a->nlat && nall < MAX_LAT; i++)
			all[nall++] = a->lat[i];
		for (i = 0; i < a->nvlat && nv < MAX_LAT; i++)
			vall[nv++] = a->vlat[i];
		for (i = 0; i < a->nilat && ni < MAX_LAT; i++)
			iall[ni++] = a->ilat[i];
		for (j = 0; j < a->nsamples; j++)
			if (json_object_array_length(errs) < 10)
				json_object_array_add(errs,
				    json_object_new_string(a->samples[j]));
	}
	qsort(all, nall, sizeof(double), cmp_double);
	qsort(vall, nv, sizeof(double), cmp_double);
	qsort(iall, ni, sizeof(double), cmp_double);
	json_object_object_add(o, "concurrency", json_object_new_int(n));
	json_object_object_add(o, "seconds", json_object_new_double(elapsed));
	json_object_object_add(o, "issued", json_object_new_int64(ok));
	json_object_object_add(o, "errors", json_object_new_int64(er));
	json_object_object_add(o, "stalls", json_object_new_int64(st));
	json_object_object_add(o, "requests", json_object_new_int64(rq));
	json_object_object_add(o, "bad_nonce", json_object_new_int64(bn));
	json_object_object_add(o, "http01_served",
	    json_object_new_int64(g.served - served0));
	json_object_object_add(o, "p50_ms",
	    json_object_new_double(pct(all, nall, 50)));
	json_object_object_add(o, "p90_ms",
	    json_object_new_double(pct(all, nall, 90)));
	json_object_object_add(o, "p99_ms",
	    json_object_new_double(pct(all, nall, 99)));
	json_object_object_add(o, "validate_p50_ms",
	    json_object_new_double(pct(vall, nv, 50)));
	json_object_object_add(o, "issue_p50_ms",
	    json_object_new_double(pct(iall, ni, 50)));
	json_object_object_add(o, "samples", errs);
	printf("%s\n", json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
	free(all);
	free(vall);
	free(iall);
}

static void
usage(void)
{
	fprintf(stderr, "usage: acmebench -d DIRECTORY -C CAFILE -k ACCOUNTS "
	    "-z ZONE -p HTTP01PORT [-T ms] [-F ms] [-l label] [-a rsa|ec]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	pthread_t th[MAX_ACCOUNTS];
	char line[512], kid[128], hmac[128];
	FILE *f;
	int ch, n, k, secs;
	EVP_PKEY_CTX *kc;

	g.req_timeout = 10000;
	g.flow_timeout = 30000;
	g.label = "x";
	while ((ch = getopt(argc, argv, "a:d:C:k:z:p:T:F:l:")) != -1) {
		switch (ch) {
		case 'a':
			if (strcmp(optarg, "rsa") != 0 &&
			    strcmp(optarg, "ec") != 0)
				usage();
			g.rsa_accounts = strcmp(optarg, "rsa") == 0;
			break;
		case 'd': g.directory = optarg; break;
		case 'C': g.cafile = optarg; break;
		case 'k':
			if ((f = fopen(optarg, "r")) == NULL)
				die("%s: %s", optarg, strerror(errno));
			while (g.nacct < MAX_ACCOUNTS &&
			    fgets(line, sizeof(line), f) != NULL)
				if (sscanf(line, "%127s %127s", kid, hmac) == 2) {
					snprintf(g.acct[g.nacct].eab_kid,
					    sizeof(kid), "%s", kid);
					snprintf(g.acct[g.nacct].eab_hmac,
					    sizeof(hmac), "%s", hmac);
					g.acct[g.nacct].index = g.nacct;
					g.nacct++;
				}
			fclose(f);
			break;
		case 'z': g.zone = optarg; break;
		case 'p': g.port = atoi(optarg); break;
		case 'T': g.req_timeout = atol(optarg); break;
		case 'F': g.flow_timeout = atol(optarg); break;
		case 'l': g.label = optarg; break;
		default: usage();
		}
	}
	if (g.directory == NULL || g.cafile == NULL || g.zone == NULL ||
	    g.port <= 0 || g.nacct == 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&g.lock, NULL);
	pthread_mutex_init(&g.toklock, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	/* one RSA key for every CSR: the servers accept RSA 2048 */
	if ((kc = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_rsa_keygen_bits(kc, 2048) != 1 ||
	    EVP_PKEY_keygen(kc, &g.csr_key) != 1)
		die("cannot generate the CSR key");
	EVP_PKEY_CTX_free(kc);
	responder_start();
	for (k = 0; k < g.nacct; k++)
		account_init(&g.acct[k]);
	directory_load();
	for (k = 0; k < g.nacct; k++)
		if (pthread_create(&th[k], NULL, register_thread, &g.acct[k]))
			die("pthread_create");
	for (k = 0; k < g.nacct; k++)
		pthread_join(th[k], NULL);
	for (k = 0; k < g.nacct; k++)
		if (g.acct[k].kid == NULL)
			die("account %d (%s) could not register", k,
			    g.acct[k].eab_kid);
	printf("ready %d\n", g.nacct);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		if (sscanf(line, "run %d %d", &n, &secs) == 2)
			run(n, secs);
		else if (strncmp(line, "quit", 4) == 0)
			break;
		else {
			printf("{\"error\": \"unknown command\"}\n");
			fflush(stdout);
		}
	}
	return 0;
}
