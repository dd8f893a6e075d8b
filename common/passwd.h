/*
 * passwd.h - password hashing for the web site: scrypt (OpenSSL's KDF),
 * stored as "scrypt$LOGN$R$P$SALT$HASH" with SALT and HASH in unpadded
 * base64url, verified in constant time.
 */
#ifndef ACME_PASSWD_H
#define ACME_PASSWD_H

#define PASSWD_MIN_CHARS	12	/* characters, not bytes */
#define PASSWD_MAX_BYTES	256

/* Returns a new hash of password with N = 2^log_n, r = 8, p = 1 and a
 * random 16-byte salt (caller frees), or NULL if log_n is out of range
 * (10 to 20) or the KDF failed (logged). */
char	*passwd_hash(const char *password, int log_n);
/* Returns 1 if password matches the stored hash, else 0 (also for a
 * malformed or unsupported stored string). */
int	 passwd_verify(const char *password, const char *stored);
/* Returns 1 if a new password is acceptable: at least PASSWD_MIN_CHARS
 * characters, at most PASSWD_MAX_BYTES bytes, valid UTF-8 without
 * control characters; else 0. */
int	 passwd_acceptable(const char *password);

#endif
