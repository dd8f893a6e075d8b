/*
 * monitor.c - the queries of acme-fcgi's monitoring endpoints.
 */
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "util.h"

int
monitor_db_check(struct db *db, long *schema_version)
{
	PGresult *res;
	int rc = 0;

	*schema_version = 0;
	res = db_query(db, "SELECT coalesce(max(version), 0) "
	    "FROM schema_version", 0, NULL);
	if (res != NULL && PQntuples(res) == 1) {
		*schema_version = db_long(res, 0, 0);
		rc = 1;
	}
	PQclear(res);
	return rc;
}

int
monitor_db_metrics(struct db *db, struct metric_row **rows, size_t *n)
{
	PGresult *res;
	struct metric_row *out = NULL;
	size_t i, count = 0;
	int rc = 0;

	*rows = NULL;
	*n = 0;
	res = db_query(db, "SELECT metric, labels, value "
	    "FROM metrics_sample()", 0, NULL);
	if (res == NULL || PQnfields(res) != 3)
		goto out;
	count = (size_t)PQntuples(res);
	out = xcalloc(count + 1, sizeof(*out));
	for (i = 0; i < count; i++) {
		out[i].metric = xstrdup(PQgetvalue(res, (int)i, 0));
		out[i].labels = xstrdup(PQgetvalue(res, (int)i, 1));
		out[i].value = strtod(PQgetvalue(res, (int)i, 2), NULL);
	}
	*rows = out;
	*n = count;
	out = NULL;
	rc = 1;
out:
	monitor_rows_free(out, count);
	PQclear(res);
	return rc;
}

void
monitor_rows_free(struct metric_row *rows, size_t n)
{
	size_t i;

	if (rows == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(rows[i].metric);
		free(rows[i].labels);
	}
	free(rows);
}
