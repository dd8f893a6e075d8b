/*
 * metrics.h - acme-fcgi's own counters for GET /metrics: one anonymous
 * shared mapping made by the master before it forks, so that every child
 * (and every child that replaces one) adds to the same counters with
 * atomic adds, and a scrape served by any child reports the whole
 * instance. metrics.c also renders /metrics (these counters, then the
 * service-wide figures read from the database at scrape time).
 */
#ifndef ACME_METRICS_H
#define ACME_METRICS_H

#include "acme-fcgi.h"

/* Maps the shared counters; call once, before any fork. Returns 1, or 0
 * (logged) when the mapping fails. */
int	 metrics_init(int children);
/* Counts one request of a route (R__MAX: no route matched), answered
 * with an HTTP status after usec microseconds. */
void	 metrics_request(enum route, int status, long usec);
/* Counts a child the master replaced because it died. */
void	 metrics_child_restart(void);
/* Returns wait_ms when this child may hold a request that long for the
 * worker's outcome (three quarters of the children at once, one left
 * free at least), then
 * metrics_hold_end must follow; 0 (counted as busy) when the request is
 * to be answered at once. */
int	 metrics_hold_begin(int wait_ms);
/* Ends a hold of held_ms (metrics_hold_begin's result; nothing when 0),
 * counted as done unless the object's status is still processing. */
void	 metrics_hold_end(int held_ms, const char *status);
/* Counts a reload of the configuration (SIGHUP) and records the number
 * of children now configured. */
void	 metrics_reload(int children);

#endif
