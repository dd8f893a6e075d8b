/*
 * monitor.h - the database side of acme-fcgi's monitoring endpoints: the
 * health check (GET /health) and the service-wide figures of GET /metrics
 * (the SQL function metrics_sample() of sql/008_views.sql).
 */
#ifndef ACME_MONITOR_H
#define ACME_MONITOR_H

#include <stddef.h>

#include "db.h"

/* One sample of metrics_sample(): the metric's name, its label set as
 * written in the Prometheus text format ("" for none), its value. */
struct metric_row {
	char	*metric;
	char	*labels;
	double	 value;
};

/* Checks that the database answers a query. Returns 1 with the schema
 * version (the newest migration applied), or 0 (logged). */
int	 monitor_db_check(struct db *, long *schema_version);
/* Reads the service-wide samples. Returns 1 with *rows (owned by the
 * caller: monitor_rows_free) and *n, or 0 (logged) with *rows NULL. */
int	 monitor_db_metrics(struct db *, struct metric_row **rows, size_t *n);
void	 monitor_rows_free(struct metric_row *, size_t);

#endif
