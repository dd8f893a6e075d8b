/*
 * revstatus.c - the queries of published revocation status: OCSP
 * responses and CRLs (sql/005_revocation_status.sql).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "revstatus.h"
#include "util.h"

/* Returns a newly allocated copy (caller frees) of the bytea at (row,
 * col) with *len, or NULL if it is SQL NULL or cannot be decoded. */
static unsigned char *
bytea_copy(const PGresult *res, int row, int col, size_t *len)
{
	unsigned char *raw, *d = NULL;
	size_t n = 0;

	*len = 0;
	if (PQgetisnull(res, row, col) ||
	    (raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res,
	    row, col), &n)) == NULL)
		return NULL;
	d = xmalloc(n > 0 ? n : 1);
	memcpy(d, raw, n);
	*len = n;
	PQfreemem(raw);
	return d;
}

/* Returns 1 if the result has exactly one row whose first column is
 * true. */
static int
result_true(const PGresult *res)
{
	return PQntuples(res) == 1 && !PQgetisnull(res, 0, 0) &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;
}

long
revstatus_issuer_register(struct db *db, const unsigned char *der,
    size_t len, const unsigned char *name_hash, const unsigned char *key_hash)
{
	const char *vals[3] = { (const char *)name_hash,
	    (const char *)key_hash, (const char *)der };
	const int lens[3] = { OCSP_HASH_LEN, OCSP_HASH_LEN, (int)len };
	const int fmts[3] = { 1, 1, 1 };
	PGresult *res;
	long id = -1;

	res = db_query_bin(db, "SELECT ocsp_issuer_register($1, $2, $3)",
	    3, vals, lens, fmts);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		id = db_long(res, 0, 0);
	PQclear(res);
	return id > 0 ? id : -1;
}

int
revstatus_ocsp_claim(struct db *db, int max, struct ocsp_job **jobs,
    size_t *n)
{
	char buf[32];
	const char *vals[1] = { buf };
	struct ocsp_job *j = NULL;
	PGresult *res;
	int i, rows, rc = -1;

	*jobs = NULL;
	*n = 0;
	snprintf(buf, sizeof(buf), "%d", max);
	res = db_query(db, "SELECT r.serial, c.der, "
	    "coalesce(floor(extract(epoch FROM c.revoked_at))::bigint, 0), "
	    "coalesce(c.revocation_reason, 0) "
	    "FROM ocsp_response r JOIN certificate c ON c.serial = r.serial "
	    "WHERE r.refresh_at <= now() "
	    "ORDER BY r.refresh_at LIMIT $1::integer "
	    "FOR NO KEY UPDATE OF r SKIP LOCKED", 1, vals);
	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	j = xcalloc(rows > 0 ? (size_t)rows : 1, sizeof(*j));
	for (i = 0; i < rows; i++) {
		j[i].serial = db_strdup(res, i, 0);
		j[i].der = bytea_copy(res, i, 1, &j[i].der_len);
		j[i].revoked_at = db_long(res, i, 2);
		j[i].reason = (int)db_long(res, i, 3);
		if (j[i].serial == NULL || j[i].der == NULL) {
			msg_err("ocsp claim: unreadable row");
			ocsp_jobs_free(j, (size_t)i + 1);
			j = NULL;
			goto out;
		}
	}
	*jobs = j;
	*n = (size_t)rows;
	rc = 1;
out:
	PQclear(res);
	return rc;
}

void
ocsp_jobs_free(struct ocsp_job *j, size_t n)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(j[i].serial);
		free(j[i].der);
	}
	free(j);
}

int
revstatus_ocsp_store(struct db *db, const char *serial, long issuer_id,
    long revoked_at, int reason, long this_update, long next_update,
    const unsigned char *der, size_t len)
{
	char issuer[32], rev[32], rsn[32], tu[32], nu[32];
	const char *vals[7] = { serial, issuer, revoked_at > 0 ? rev : NULL,
	    rsn, (const char *)der, tu, nu };
	const int lens[7] = { 0, 0, 0, 0, (int)len, 0, 0 };
	const int fmts[7] = { 0, 0, 0, 0, 1, 0, 0 };
	PGresult *res;
	int rc;

	snprintf(issuer, sizeof(issuer), "%ld", issuer_id);
	snprintf(rev, sizeof(rev), "%ld", revoked_at);
	snprintf(rsn, sizeof(rsn), "%d", reason);
	snprintf(tu, sizeof(tu), "%ld", this_update);
	snprintf(nu, sizeof(nu), "%ld", next_update);
	res = db_query_bin(db, "SELECT ocsp_response_store($1, "
	    "$2::integer, to_timestamp($3::bigint), $4::integer, $5, "
	    "to_timestamp($6::bigint), to_timestamp($7::bigint))", 7, vals,
	    lens, fmts);
	if (res == NULL)
		return -1;
	rc = result_true(res);
	PQclear(res);
	return rc;
}

int
revstatus_ocsp_defer(struct db *db, const char *serial, long seconds)
{
	char buf[32];
	const char *vals[2] = { serial, buf };

	snprintf(buf, sizeof(buf), "%ld", seconds);
	return db_exec(db, "UPDATE ocsp_response SET refresh_at = now() + "
	    "make_interval(secs => $2::bigint) WHERE serial = $1", 2,
	    vals) ? 1 : -1;
}

enum ocsp_lookup
revstatus_ocsp_lookup(struct db *db, const struct ocsp_certid *id,
    unsigned char **der, size_t *len, long *max_age)
{
	const char *vals[3] = { (const char *)id->name_hash,
	    (const char *)id->key_hash, id->serial_hex };
	const int lens[3] = { OCSP_HASH_LEN, OCSP_HASH_LEN, 0 };
	const int fmts[3] = { 1, 1, 0 };
	PGresult *res;
	enum ocsp_lookup rc = OCSPL_UNKNOWN;

	*der = NULL;
	*len = 0;
	*max_age = 0;
	if (id->serial_hex[0] == '\0')
		return OCSPL_UNKNOWN;
	res = db_query_bin(db, "SELECT answer, der, max_age FROM "
	    "ocsp_response_lookup($1, $2, $3)", 3, vals, lens, fmts);
	if (res == NULL)
		return OCSPL_ERROR;
	if (PQntuples(res) != 1)
		goto out;
	if (strcmp(PQgetvalue(res, 0, 0), "ok") != 0) {
		rc = OCSPL_LATER;
		goto out;
	}
	if ((*der = bytea_copy(res, 0, 1, len)) == NULL) {
		rc = OCSPL_ERROR;
		goto out;
	}
	*max_age = db_long(res, 0, 2);
	rc = OCSPL_FOUND;
out:
	PQclear(res);
	return rc;
}

int
revstatus_crl_due(struct db *db)
{
	PGresult *res;
	int rc;

	if ((res = db_query(db, "SELECT crl_due()", 0, NULL)) == NULL)
		return -1;
	rc = result_true(res);
	PQclear(res);
	return rc;
}

int
revstatus_crl_claim(struct db *db, long *number)
{
	PGresult *res;
	int rc = 0;

	*number = 0;
	if ((res = db_query(db, "SELECT crl_claim()", 0, NULL)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		*number = db_long(res, 0, 0);
		rc = *number > 0;
	}
	PQclear(res);
	return rc;
}

int
revstatus_crl_entries(struct db *db, struct crl_entry **entries, size_t *n)
{
	struct crl_entry *e;
	PGresult *res;
	int i, rows;

	*entries = NULL;
	*n = 0;
	res = db_query(db, "SELECT serial, "
	    "floor(extract(epoch FROM revoked_at))::bigint, "
	    "coalesce(revocation_reason, 0) FROM certificate "
	    "WHERE revoked_at IS NOT NULL AND not_after > now() "
	    "ORDER BY serial", 0, NULL);
	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	e = xcalloc(rows > 0 ? (size_t)rows : 1, sizeof(*e));
	for (i = 0; i < rows; i++) {
		e[i].serial_hex = db_strdup(res, i, 0);
		e[i].revoked_at = (time_t)db_long(res, i, 1);
		e[i].reason = (int)db_long(res, i, 2);
	}
	PQclear(res);
	*entries = e;
	*n = (size_t)rows;
	return 1;
}

void
crl_entries_free(struct crl_entry *e, size_t n)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < n; i++)
		free(e[i].serial_hex);
	free(e);
}

int
revstatus_crl_store(struct db *db, long number, long this_update,
    long next_update, size_t nentries, const unsigned char *der, size_t len)
{
	char num[32], tu[32], nu[32], ne[32];
	const char *vals[5] = { num, (const char *)der, tu, nu, ne };
	const int lens[5] = { 0, (int)len, 0, 0, 0 };
	const int fmts[5] = { 0, 1, 0, 0, 0 };
	PGresult *res;

	snprintf(num, sizeof(num), "%ld", number);
	snprintf(tu, sizeof(tu), "%ld", this_update);
	snprintf(nu, sizeof(nu), "%ld", next_update);
	snprintf(ne, sizeof(ne), "%zu", nentries);
	res = db_query_bin(db, "SELECT crl_store($1::bigint, $2, "
	    "to_timestamp($3::bigint), to_timestamp($4::bigint), "
	    "$5::integer)", 5, vals, lens, fmts);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 1;
}

int
revstatus_crl_latest(struct db *db, unsigned char **der, size_t *len,
    long *max_age)
{
	PGresult *res;
	int rc = 0;

	*der = NULL;
	*len = 0;
	*max_age = 0;
	res = db_query(db, "SELECT der, greatest(0, floor(extract(epoch FROM "
	    "next_update - now())))::bigint FROM crl "
	    "ORDER BY number DESC LIMIT 1", 0, NULL);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		if ((*der = bytea_copy(res, 0, 0, len)) == NULL)
			rc = -1;
		else {
			*max_age = db_long(res, 0, 1);
			rc = 1;
		}
	}
	PQclear(res);
	return rc;
}
