/*
 * db.h - the one libpq wrapper. Every query goes through db_query() with
 * its parameters as text (NULL is SQL NULL); the SQLSTATE of a failure
 * is kept for the caller (23505 unique violation, 40001 retry).
 */
#ifndef ACME_DB_H
#define ACME_DB_H

#include <libpq-fe.h>

/* A statement prepared on the connection (db_prepare). */
struct db_stmt {
	char		*sql;		/* owned copy: the key */
	unsigned long	 hash;		/* of sql */
	char		 name[16];
};

struct db {
	PGconn		*conn;
	char		 sqlstate[6];	/* of the last failure, "" if none */
	int		 prepare;	/* db_prepare */
	struct db_stmt	*stmts;		/* prepared in this session */
	size_t		 nstmts;
	unsigned	 nnames;	/* names given in this session */
	char		*setup;		/* db_session_setup, or NULL */
};

#define SQLSTATE_UNIQUE_VIOLATION	"23505"

/* Connects; returns 1 or 0 (logged). */
int	 db_connect(struct db *, const char *conninfo);
void	 db_close(struct db *);
/* Resets a broken connection; returns 1 if usable afterwards. */
int	 db_ensure(struct db *);
/* Runs sql (a statement setting the session up, e.g. a SET) now and
 * again in each new session after a reset; returns 1 or 0 (logged). */
int	 db_session_setup(struct db *, const char *sql);
/*
 * Waits at most timeout_ms for a notification on channel (LISTENed to
 * by the session), discarding any other that libpq has read or reads
 * meanwhile. Returns 1 when it came, 0 when the time ran out, -1 when
 * the connection failed (logged).
 */
int	 db_wait_notify(struct db *, const char *channel, int timeout_ms);

/*
 * Prepares each statement the connection runs (SELECT, WITH, INSERT,
 * UPDATE, DELETE; at most 64 of them) once per session, and runs it by
 * name from then on: PostgreSQL plans it once (or a few times, until it
 * settles on a generic plan) instead of at every run. Only for a session
 * of one's own (acme-worker's, which LISTENs anyway): never through a
 * pooler in transaction mode. A reset connection prepares them again.
 */
void	 db_prepare(struct db *);

/* Runs sql with n text parameters. Returns the result (caller PQclears)
 * when it is PGRES_TUPLES_OK or PGRES_COMMAND_OK, else NULL with
 * db->sqlstate set and the error logged. */
PGresult *db_query(struct db *, const char *sql, int n,
	    const char *const *vals);
/* The same with lengths and formats (1 = binary) for bytea parameters. */
PGresult *db_query_bin(struct db *, const char *sql, int n,
	    const char *const *vals, const int *lens, const int *fmts);
/* Runs a statement and discards its result; returns 1 or 0. */
int	 db_exec(struct db *, const char *sql, int n, const char *const *vals);
/* Runs a script of several statements (migrations); returns 1 or 0. */
int	 db_exec_script(struct db *, const char *sql);
int	 db_begin(struct db *);
int	 db_commit(struct db *);
void	 db_rollback(struct db *);
/* Returns 1 if the last failure had this SQLSTATE. */
int	 db_failed_with(const struct db *, const char *sqlstate);
/* Returns the value at (row, col), or NULL if SQL NULL (borrowed). */
const char *db_val(const PGresult *, int row, int col);
/* Returns a copy of the value at (row, col), or NULL if SQL NULL. */
char	*db_strdup(const PGresult *, int row, int col);
/* Returns the integer at (row, col), 0 if SQL NULL. */
long	 db_long(const PGresult *, int row, int col);

struct json_object;
/* Runs sql, a call returning one JSON document, with actor as $1 when
 * audited (NULL is SQL NULL) and the nvals vals after it. Returns the
 * document (a new reference, owned by the caller), or NULL with
 * *db_failed set to 1 if the query failed, to 0 if it returned anything
 * else. */
struct json_object *db_call_json(struct db *, const char *sql,
	    int audited, const char *actor, int nvals, const char *const *vals,
	    int *db_failed);

#endif
