/*
 * util.h - allocation that never fails, logging, randomness.
 *
 * Allocation functions abort on out-of-memory: callers never check.
 * Log lines go to stderr as "prog[pid] level: [reqid] message".
 */
#ifndef ACME_UTIL_H
#define ACME_UTIL_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>

#define ACME_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ACME_NORETURN __attribute__((noreturn))

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERR,
	LOG_LVL__MAX
};

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Returns a newly allocated formatted string; owned by the caller. */
char	*xasprintf(const char *, ...) ACME_PRINTF(1, 2);

/* A master of processes (prefork.c, the worker's pool): blocks SIGCHLD,
 * SIGTERM, SIGINT and SIGHUP, which set master_chld, master_term (for
 * both of the middle two) and master_hup when the master waits with
 * them unblocked (sigsuspend, ppoll), and ignores SIGPIPE. */
void	 master_signals(void);
extern volatile sig_atomic_t master_term, master_chld, master_hup;

/* Starts a thread running fn(arg) with every signal blocked, so that the
 * process's handlers keep running on the threads that were there before
 * (the signals a program waits for still reach it). Returns 0, or the
 * error number of pthread_create (the thread then does not exist). */
int	 thread_start(pthread_t *, void *(*fn)(void *), void *arg);

void	 log_init(const char *prog, enum log_level);
int	 log_level_parse(const char *, enum log_level *);
/* Sets the request id shown in log lines (NULL clears it); copied. */
void	 log_set_reqid(const char *);
const char *log_reqid(void);
void	 msg_debug(const char *, ...) ACME_PRINTF(1, 2);
void	 msg_info(const char *, ...) ACME_PRINTF(1, 2);
void	 msg_warn(const char *, ...) ACME_PRINTF(1, 2);
void	 msg_err(const char *, ...) ACME_PRINTF(1, 2);
void	 msg_fatal(const char *, ...) ACME_PRINTF(1, 2) ACME_NORETURN;
/* Logs and clears the whole OpenSSL error queue, prefixed by what. */
void	 ossl_log_errors(const char *what);

/* Fills buf with cryptographically strong random bytes or aborts. */
void	 rand_bytes(unsigned char *buf, size_t len);
/* Returns a fresh random URL-safe identifier (128 bits); caller frees. */
char	*random_id(void);
/* Returns the value of a hexadecimal digit, or -1. */
int	 hex_digit(int c);
/* Returns a fresh random challenge token (256 bits, base64url). */
char	*random_token(void);
/* Returns a fresh random UUIDv4 in canonical text form; caller frees. */
char	*random_uuid4(void);
/* Frees n strings and the vector holding them (NULL is fine). */
void	 strv_free(char **, size_t);
/* Constant-time comparison; 1 when equal. */
int	 ct_equal(const void *, const void *, size_t);

#endif
