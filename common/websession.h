/*
 * websession.h - the web site's accounts as stored (sql/010_web.sql):
 * sessions, customers' sign-in and its rate limit, one-time tokens (e-mail
 * confirmation, password reset) and the operators of the back office.
 * Every function is one call of an SQL function; tokens are stored only
 * as their SHA-256 (websession_token_hash).
 */
#ifndef ACME_WEBSESSION_H
#define ACME_WEBSESSION_H

#include "db.h"

/* Kinds of session, as stored ('customer', 'operator'). */
enum ws_kind {
	WS_NONE,
	WS_CUSTOMER,
	WS_OPERATOR,
	WS__MAX
};

/* A session as web_session_load() returns it. */
struct ws_session {
	enum ws_kind	 kind;		/* WS_NONE: no such live session */
	long long	 external_account_id;	/* customer */
	long long	 organization_id;	/* customer */
	long long	 operator_id;		/* operator */
	char		*email;
	char		*name;		/* operator's name; customer: email */
	char		*csrf;
	char		*flash;		/* cleared in the database */
	char		*language;	/* customer's "en" | "fr", or NULL */
	char		*status;	/* external account's / operator's */
	char		*cert_sha256;	/* operator's registered cert */
};

/* What signing in needs to know of a customer (web_login_customer). */
struct ws_login {
	int		 found;		/* 0: no customer with a password */
	long long	 external_account_id;
	long long	 organization_id;
	char		*email;
	char		*password_hash;
	char		*status;	/* of the external account */
	char		*organization_status;
	char		*language;
	int		 email_confirmed;
};

/* An operator, for signing in to the back office. */
struct ws_operator {
	int		 found;
	long long	 id;
	char		*name;
	char		*email;
	char		*password_hash;
	char		*cert_sha256;
	char		*status;	/* ACTIVE | DISABLED */
};

/* Returns the hex SHA-256 of a token (what the database stores); new
 * string, caller frees. */
char	*websession_token_hash(const char *token);
/* Returns the kind's SQL name ("customer", "operator"), NULL for none. */
const char *websession_kind_name(enum ws_kind);

/* Stores a new session of kind for id (external account or operator),
 * lasting lifetime seconds; returns 1 or 0 (logged). */
int	 websession_open(struct db *, enum ws_kind, long long id,
	    const char *token_hash, const char *csrf, long lifetime,
	    const char *remote_addr);
/* Loads a live session (not past its lifetime, used in the last idle
 * seconds), takes its flash away and notes its use (at most once a
 * minute). An ended session is deleted and s->kind is WS_NONE. Returns 1,
 * or 0 if the database failed. Free with websession_free(). */
int	 websession_load(struct db *, const char *token_hash, long idle,
	    struct ws_session *s);
void	 websession_free(struct ws_session *);
/* Deletes a session; returns 1 or 0. */
int	 websession_close(struct db *, const char *token_hash);
/* Stores the one-time notice of a session; returns 1 or 0. */
int	 websession_flash(struct db *, const char *token_hash,
	    const char *text);

/* Finds a customer who can sign in with a password by e-mail address
 * (case-insensitive); l->found = 0 when none. Returns 1, or 0 if the
 * database failed. Free with websession_login_free(). */
int	 websession_login_customer(struct db *, const char *email,
	    struct ws_login *l);
void	 websession_login_free(struct ws_login *);
/* Records a failed sign-in for the address (e-mail or operator name) and
 * the client address; returns 1 or 0. */
int	 websession_login_failed(struct db *, const char *who,
	    const char *remote_addr);
/* Sets *blocked when the last 15 minutes saw max failures for who, or
 * 4 * max for the client address; returns 1, or 0 if the database
 * failed. */
int	 websession_login_blocked(struct db *, const char *who,
	    const char *remote_addr, long max, int *blocked);

/* Stores a one-time token of purpose "confirm" or "reset" for an
 * external account, valid lifetime seconds; returns 1 or 0. */
int	 websession_token_create(struct db *, const char *purpose,
	    long long external_account_id, const char *token_hash,
	    long lifetime);
/* Uses a token once: *external_account_id is its account, or 0 when the
 * token is unknown, used, expired or of another purpose. Returns 1, or 0
 * if the database failed. */
int	 websession_token_use(struct db *, const char *purpose,
	    const char *token_hash, long long *external_account_id);
/* Sets a customer's password hash and ends all their sessions (audit
 * actor given); returns 1 or 0. */
int	 websession_customer_set_password(struct db *, const char *actor,
	    long long external_account_id, const char *password_hash);
/* Marks a customer's e-mail address confirmed; returns 1 or 0. */
int	 websession_customer_confirm_email(struct db *, const char *actor,
	    long long external_account_id);

/* Finds an operator by name or e-mail address; o->found = 0 when none.
 * Returns 1, or 0 if the database failed. */
int	 websession_operator_login(struct db *, const char *name_or_email,
	    struct ws_operator *o);
void	 websession_operator_free(struct ws_operator *);
/*
 * The operators' administration (acmectl operator ...): each returns the
 * JSON document of its SQL function (new string, caller frees) -- with
 * "refused" and "kind" on a refusal, as the op_* functions -- or NULL if
 * the database failed.
 */
char	*websession_operator_create(struct db *, const char *actor,
	    const char *name, const char *email, const char *password_hash,
	    const char *cert_sha256);
char	*websession_operator_set_status(struct db *, const char *actor,
	    const char *name, const char *status);
char	*websession_operator_set_password(struct db *, const char *actor,
	    const char *name, const char *password_hash);
char	*websession_operator_set_cert(struct db *, const char *actor,
	    const char *name, const char *cert_sha256);
char	*websession_operator_list(struct db *);

/* Purges ended sessions, used or expired tokens and sign-in failures
 * older than a day; returns the number of rows purged, -1 on failure. */
long	 websession_housekeeping(struct db *);

/* Returns 1 if an Accept-Language header prefers French (problem.c's
 * rule), else 0. */
int	 websession_accept_fr(const char *accept_language);

#endif
