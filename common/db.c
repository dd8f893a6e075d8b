/*
 * db.c - libpq, treated with paranoia: success statuses enumerated,
 * everything else refused, every result cleared.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
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

void
db_close(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
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
	PQreset(db->conn);
	return PQstatus(db->conn) == CONNECTION_OK;
}

PGresult *
db_query_bin(struct db *db, const char *sql, int n, const char *const *vals,
    const int *lens, const int *fmts)
{
	PGresult *res;
	const char *st;

	db->sqlstate[0] = '\0';
	msg_debug("sql: %s", sql);
	res = PQexecParams(db->conn, sql, n, NULL, vals, lens, fmts, 0);
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
