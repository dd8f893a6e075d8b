/*
 * util.c - allocation, logging, randomness.
 */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "jose.h"
#include "util.h"

static const char *log_prog = "acme";
static enum log_level log_min = LOG_LVL_INFO;
static char log_rid[64];

static const char *const log_names[LOG_LVL__MAX] = {
	[LOG_LVL_DEBUG] = "debug",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_WARN] = "warning",
	[LOG_LVL_ERR] = "error",
};

static void ACME_NORETURN
oom(void)
{
	static const char m[] = "out of memory\n";

	(void)!write(STDERR_FILENO, m, sizeof(m) - 1);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n == 0 ? 1 : n);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n == 0 ? 1 : n, sz == 0 ? 1 : sz);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *o, size_t n)
{
	void *p = realloc(o, n == 0 ? 1 : n);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		oom();
	va_end(ap);
	return s;
}

void
log_init(const char *prog, enum log_level lvl)
{
	log_prog = prog;
	log_min = lvl;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	static const char *const names[LOG_LVL__MAX] = {
		"debug", "info", "warn", "err"
	};
	size_t i;

	for (i = 0; i < LOG_LVL__MAX; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 1;
		}
	return 0;
}

void
log_set_reqid(const char *id)
{
	if (id == NULL)
		log_rid[0] = '\0';
	else
		snprintf(log_rid, sizeof(log_rid), "%s", id);
}

const char *
log_reqid(void)
{
	return log_rid;
}

static void vlog(enum log_level, const char *, va_list) ACME_PRINTF(2, 0);

static void
vlog(enum log_level lvl, const char *fmt, va_list ap)
{
	char buf[2048], ts[32];
	struct timespec now;
	struct tm tm;

	if (lvl < log_min)
		return;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_rid[0] != '\0')
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: [%s] %s\n", ts,
		    now.tv_nsec / 1000000, log_prog, (long)getpid(),
		    log_names[lvl], log_rid, buf);
	else
		fprintf(stderr, "%s.%03ldZ %s[%ld] %s: %s\n", ts,
		    now.tv_nsec / 1000000, log_prog, (long)getpid(),
		    log_names[lvl], buf);
}

#define LOGFN(fn, lvl)					\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
							\
	va_start(ap, fmt);				\
	vlog(lvl, fmt, ap);				\
	va_end(ap);					\
}

LOGFN(msg_debug, LOG_LVL_DEBUG)
LOGFN(msg_info, LOG_LVL_INFO)
LOGFN(msg_warn, LOG_LVL_WARN)
LOGFN(msg_err, LOG_LVL_ERR)

void
msg_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LVL_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
ossl_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];
	int any = 0;

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		msg_warn("%s: %s", what, buf);
		any = 1;
	}
	if (!any)
		msg_warn("%s: failed", what);
}

int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
rand_bytes(unsigned char *buf, size_t len)
{
	if (len > 0 && RAND_bytes(buf, (int)len) != 1) {
		ossl_log_errors("RAND_bytes");
		abort();
	}
}

char *
random_id(void)
{
	unsigned char b[16];

	rand_bytes(b, sizeof(b));
	return b64u_encode(b, sizeof(b));
}

char *
random_token(void)
{
	unsigned char b[32];

	rand_bytes(b, sizeof(b));
	return b64u_encode(b, sizeof(b));
}

char *
random_uuid4(void)
{
	unsigned char b[16];

	rand_bytes(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void
strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int
ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

volatile sig_atomic_t master_term, master_chld, master_hup;

static void
master_on_signal(int sig)
{
	if (sig == SIGCHLD)
		master_chld = 1;
	else if (sig == SIGHUP)
		master_hup = 1;
	else
		master_term = 1;
}

void
master_signals(void)
{
	struct sigaction sa;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = master_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
thread_start(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(tid, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}
