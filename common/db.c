/*
 * db.c - libpq, treated with paranoia: success statuses enumerated,
 * everything else refused, every result cleared.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <strings.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "jsonutil.h"
#include "util.h"

static void
db_notice(void *arg, const char *message)
{
	(void)arg;
	msg_debug("database: %s", message);
}

int
db_connect(struct db *db, const char *conninfo)
{
	memset(db, 0, sizeof(*db));
	db->conn = PQconnectdb(conninfo);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		msg_err("database connection failed: %s", db->conn != NULL ?
		    PQerrorMessage(db->conn) : "out of memory");
		db_close(db);
		return 0;
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	return 1;
}

#define DB_STMT_MAX	64

/* Forgets the statements prepared in the session (it ended). */
static void
db_stmts_forget(struct db *db)
{
	size_t i;

	for (i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	free(db->stmts);
	db->stmts = NULL;
	db->nstmts = 0;
	db->nnames = 0;
}

void
db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	db_stmts_forget(db);
	free(db->setup);
	db->setup = NULL;
}

/* Runs the session's setup statement; returns 1 or 0 (logged). */
static int
db_setup_run(struct db *db)
{
	return db->setup == NULL || db_exec_script(db, db->setup);
}

int
db_session_setup(struct db *db, const char *sql)
{
	free(db->setup);
	db->setup = xstrdup(sql);
	return db_setup_run(db);
}

void
db_prepare(struct db *db)
{
	db->prepare = 1;
}

/* Returns 1 if sql is a statement PostgreSQL plans (worth preparing). */
static int
db_preparable(const char *sql)
{
	static const char *const verbs[] = {
		"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "VALUES",
	};
	size_t i, len;

	sql += strspn(sql, " \t\r\n(");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		len = strlen(verbs[i]);
		if (strncasecmp(sql, verbs[i], len) == 0 &&
		    strchr(" \t\r\n(", sql[len]) != NULL && sql[len] != '\0')
			return 1;
	}
	return 0;
}

/* Returns the FNV-1a hash of s. */
static unsigned long
db_hash(const char *s)
{
	unsigned long h = 2166136261UL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619UL;
	return h;
}

/* Returns the index of the statement sql prepared in the session, or
 * -1. */
static long
db_stmt_find(const struct db *db, const char *sql, unsigned long h)
{
	size_t i;

	for (i = 0; i < db->nstmts; i++)
		if (db->stmts[i].hash == h &&
		    strcmp(db->stmts[i].sql, sql) == 0)
			return (long)i;
	return -1;
}

/*
 * Returns the name of sql prepared in the session, preparing it (with n
 * parameters) if it is new, or NULL to run it unprepared. When preparing
 * it failed inside a transaction (which the failure aborts), *failed is
 * that result: the statement's own failure, for the caller to report.
 */
static const char *
db_stmt(struct db *db, const char *sql, int n, PGresult **failed)
{
	struct db_stmt *st;
	PGresult *res;
	unsigned long h = db_hash(sql);
	long i;
	char name[16];

	*failed = NULL;
	if ((i = db_stmt_find(db, sql, h)) >= 0)
		return db->stmts[i].name;
	if (db->nstmts == DB_STMT_MAX || !db_preparable(sql) ||
	    PQtransactionStatus(db->conn) == PQTRANS_INERROR)
		return NULL;
	snprintf(name, sizeof(name), "acme_%u", db->nnames++);
	res = PQprepare(db->conn, name, sql, n, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (res != NULL &&
		    PQtransactionStatus(db->conn) == PQTRANS_INERROR)
			*failed = res;
		else
			PQclear(res);
		return NULL;
	}
	PQclear(res);
	db->stmts = xrealloc(db->stmts, (db->nstmts + 1) * sizeof(*st));
	st = &db->stmts[db->nstmts++];
	st->sql = xstrdup(sql);
	st->hash = h;
	memcpy(st->name, name, sizeof(st->name));
	return st->name;
}

/* Forgets the prepared statement sql after a failure that says the
 * session lost it (26000) or must plan it anew (0A000, its result type
 * changed): the next run prepares it again, under a new name. Returns 1
 * if it was forgotten. */
static int
db_stmt_invalid(struct db *db, const char *sql)
{
	long i;

	if (strcmp(db->sqlstate, "26000") != 0 &&
	    strcmp(db->sqlstate, "0A000") != 0)
		return 0;
	if ((i = db_stmt_find(db, sql, db_hash(sql))) < 0)
		return 0;
	free(db->stmts[i].sql);
	db->stmts[i] = db->stmts[--db->nstmts];
	return 1;
}

/* Returns 1 if the server closed the idle connection (a restart or a
 * crash of PostgreSQL): libpq learns it only by reading, so read what
 * is there (a last FATAL message, then the end of the stream) rather
 * than fail the next query. Notifications read meanwhile stay queued
 * for PQnotifies. */
static int
db_peer_closed(struct db *db)
{
	struct pollfd pfd;
	int i;

	for (i = 0; i < 4; i++) {
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0)
			return 1;
		if (poll(&pfd, 1, 0) <= 0)
			return 0;
		if (PQconsumeInput(db->conn) == 0 ||
		    PQstatus(db->conn) != CONNECTION_OK)
			return 1;
	}
	return 0;
}

int
db_ensure(struct db *db)
{
	if (db->conn == NULL)
		return 0;
	if (PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE &&
	    !db_peer_closed(db))
		return 1;
	if (PQtransactionStatus(db->conn) == PQTRANS_INERROR ||
	    PQtransactionStatus(db->conn) == PQTRANS_INTRANS) {
		db_rollback(db);
		if (PQstatus(db->conn) == CONNECTION_OK)
			return 1;
	}
	msg_warn("database connection lost, reconnecting");
	db_stmts_forget(db);
	PQreset(db->conn);
	return PQstatus(db->conn) == CONNECTION_OK && db_setup_run(db);
}

/* Returns 1 if libpq holds a notification on channel; frees them all. */
static int
db_notified(struct db *db, const char *channel)
{
	PGnotify *n;
	int found = 0;

	while ((n = PQnotifies(db->conn)) != NULL) {
		if (strcmp(n->relname, channel) == 0)
			found = 1;
		PQfreemem(n);
	}
	return found;
}

int
db_wait_notify(struct db *db, const char *channel, int timeout_ms)
{
	struct timespec t0, t1;
	struct pollfd pfd;
	long left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (PQconsumeInput(db->conn) == 0) {
			msg_err("database: %s", PQerrorMessage(db->conn));
			return -1;
		}
		if (db_notified(db, channel))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000L +
		    (t1.tv_nsec - t0.tv_nsec) / 1000000L);
		if (left <= 0)
			return 0;
		pfd.fd = PQsocket(db->conn);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || (poll(&pfd, 1, (int)left) < 0 &&
		    errno != EINTR)) {
			msg_err("database: cannot wait for a notification");
			return -1;
		}
	}
}

PGresult *
db_query_bin(struct db *db, const char *sql, int n, const char *const *vals,
    const int *lens, const int *fmts)
{
	PGresult *res = NULL;
	const char *st, *name = NULL;

	int again = 1;

	msg_debug("sql: %s", sql);
 run:
	db->sqlstate[0] = '\0';
	if (db->prepare)
		name = db_stmt(db, sql, n, &res);
	if (res == NULL)
		res = name != NULL ? PQexecPrepared(db->conn, name, n, vals,
		    lens, fmts, 0) : PQexecParams(db->conn, sql, n, NULL, vals,
		    lens, fmts, 0);
	if (res == NULL) {
		msg_err("sql failed: %s", PQerrorMessage(db->conn));
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08000");
		return NULL;
	}
	switch (PQresultStatus(res)) {
	case PGRES_TUPLES_OK:
	case PGRES_COMMAND_OK:
		return res;
	default:
		break;
	}
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    st != NULL ? st : "XX000");
	if (strcmp(db->sqlstate, SQLSTATE_UNIQUE_VIOLATION) == 0)
		msg_debug("sql: unique violation: %s",
		    PQresultErrorMessage(res));
	else
		msg_err("sql failed (%s): %s", db->sqlstate,
		    PQresultErrorMessage(res));
	PQclear(res);
	/*
	 * A prepared statement that its session lost, or whose result type
	 * changed (a migration replaced a function it calls), is prepared
	 * again; outside a transaction its failure changed nothing, and it
	 * runs once more.
	 */
	if (name != NULL && db_stmt_invalid(db, sql) && again &&
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE) {
		again = 0;
		name = NULL;
		res = NULL;
		goto run;
	}
	return NULL;
}

PGresult *
db_query(struct db *db, const char *sql, int n, const char *const *vals)
{
	return db_query_bin(db, sql, n, vals, NULL, NULL);
}

int
db_exec(struct db *db, const char *sql, int n, const char *const *vals)
{
	PGresult *res = db_query(db, sql, n, vals);

	if (res == NULL)
		return 0;
	PQclear(res);
	return 1;
}

int
db_exec_script(struct db *db, const char *sql)
{
	PGresult *res = PQexec(db->conn, sql);
	int rc;

	rc = res != NULL && (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK);
	if (!rc)
		msg_err("sql script failed: %s", res != NULL ?
		    PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	PQclear(res);
	return rc;
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN", 0, NULL);
}

int
db_commit(struct db *db)
{
	return db_exec(db, "COMMIT", 0, NULL);
}

void
db_rollback(struct db *db)
{
	PGresult *res;

	if (db->conn == NULL ||
	    PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

int
db_failed_with(const struct db *db, const char *sqlstate)
{
	return strcmp(db->sqlstate, sqlstate) == 0;
}

const char *
db_val(const PGresult *res, int row, int col)
{
	if (row >= PQntuples(res) || col >= PQnfields(res) ||
	    PQgetisnull(res, row, col))
		return NULL;
	return PQgetvalue(res, row, col);
}

json_object *
db_call_json(struct db *db, const char *sql, int audited, const char *actor,
    int nvals, const char *const *vals, int *db_failed)
{
	const char **params = NULL, *v;
	json_object *doc = NULL;
	PGresult *res = NULL;
	int i, n = 0;

	*db_failed = 0;
	params = xmalloc(sizeof(*params) * (size_t)(nvals + 1));
	if (audited)
		params[n++] = actor;
	for (i = 0; i < nvals; i++)
		params[n++] = vals[i];
	if ((res = db_query(db, sql, n, params)) == NULL) {
		*db_failed = 1;
		goto out;
	}
	if (PQntuples(res) == 1 && (v = db_val(res, 0, 0)) != NULL)
		doc = json_parse_strict(v, strlen(v));
out:
	PQclear(res);
	free(params);
	return doc;
}

char *
db_strdup(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL ? xstrdup(v) : NULL;
}

long
db_long(const PGresult *res, int row, int col)
{
	const char *v = db_val(res, row, col);

	return v != NULL ? strtol(v, NULL, 10) : 0;
}
