/*
 * metrics.c - GET /metrics in the Prometheus text format (version 0.0.4).
 *
 * Two kinds of figures:
 *  - this instance's (master and children): requests by resource and
 *    status, request durations, child restarts, reloads. Kept in one
 *    anonymous shared mapping made before the children are forked and
 *    updated with lock-free atomic adds, so that any child's scrape
 *    reports every child's requests, and a child that dies loses nothing.
 *    Each acme-fcgi instance counts its own: scrape every instance.
 *  - the service's, read from PostgreSQL at scrape time (metrics_sample()
 *    of sql/008_views.sql): jobs waiting for a worker, validations,
 *    certificates, refusals, issuance latency. Every instance reports the
 *    same values.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "acme-fcgi.h"
#include "metrics.h"
#include "monitor.h"
#include "util.h"

/* Counters shared between processes must not hide a lock. */
_Static_assert(ATOMIC_LONG_LOCK_FREE == 2, "atomic long is not lock-free");
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic int is not lock-free");

/* The most requests held at once (metrics_hold_begin). */
#define HOLD_SLOTS	128

/* What became of a request held for the worker's outcome. */
enum hold_outcome {
	HOLD_DONE,		/* answered with the outcome */
	HOLD_NOT_DONE,		/* the wait ran out */
	HOLD_BUSY,		/* not held (metrics_hold_begin said no) */
	HOLD__MAX
};

/* The HTTP statuses counted one by one; the others by class. */
enum mstatus {
	MS_200, MS_201, MS_204, MS_400, MS_401, MS_403, MS_404, MS_405,
	MS_409, MS_413, MS_415, MS_429, MS_500, MS_503,
	MS_2XX, MS_3XX, MS_4XX, MS_5XX,
	MS__MAX
};

static const char *const mstatus_label[MS__MAX] = {
	[MS_200] = "200", [MS_201] = "201", [MS_204] = "204",
	[MS_400] = "400", [MS_401] = "401", [MS_403] = "403",
	[MS_404] = "404", [MS_405] = "405", [MS_409] = "409",
	[MS_413] = "413", [MS_415] = "415", [MS_429] = "429",
	[MS_500] = "500", [MS_503] = "503",
	[MS_2XX] = "2xx", [MS_3XX] = "3xx", [MS_4XX] = "4xx",
	[MS_5XX] = "5xx",
};

/* Upper bounds (microseconds) of the request duration buckets. */
static const long duration_le[] = {
	5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000,
	5000000, 10000000
};
#define NDURATION	(sizeof(duration_le) / sizeof(duration_le[0]))

struct metrics_shm {
	atomic_ulong	 requests[R__MAX + 1][MS__MAX];
	atomic_ulong	 duration[NDURATION + 1];	/* last: above all */
	atomic_ulong	 duration_sum_us;
	atomic_ulong	 restarts;
	atomic_ulong	 reloads;
	atomic_long	 children;
	long		 start_time;
	atomic_int	 holders[HOLD_SLOTS];	/* pids of children holding a
						 * request, 0: free */
	atomic_ulong	 holds[HOLD__MAX];
};

static const char *const hold_label[HOLD__MAX] = {
	[HOLD_DONE] = "done", [HOLD_NOT_DONE] = "not_done",
	[HOLD_BUSY] = "busy",
};

static int hold_slot = -1;	/* this child's, while it holds one */

static struct metrics_shm *shm;

/* The service-wide metrics metrics_sample() returns, in output order. */
static const struct {
	const char	*name;
	const char	*type;
	const char	*help;
} db_metrics[] = {
	{ "acme_jobs_pending", "gauge",
	    "Jobs in processing: challenges to validate, orders to issue" },
	{ "acme_jobs_unclaimed", "gauge",
	    "Jobs in processing that no worker holds a lease on (no worker "
	    "running, or one died and its lease is not over yet)" },
	{ "acme_validations_total", "counter",
	    "Challenge validations finished, by type and result" },
	{ "acme_certificates_issued_total", "counter",
	    "Certificates issued" },
	{ "acme_certificates_revoked_total", "counter",
	    "Certificates revoked" },
	{ "acme_refusals_total", "counter",
	    "Refusals of the CA's catalogue recorded in audit_log, by code" },
	{ "acme_credit_refusals_total", "counter",
	    "Orders refused for lack of credit (OUT_OF_CREDIT), at newOrder "
	    "or at issuance" },
	{ "acme_issuance_seconds", "histogram",
	    "Seconds from finalize to the certificate (order valid)" },
};

int
metrics_init(int children)
{
	void *p;

	p = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		msg_err("metrics: mmap: %s", strerror(errno));
		return 0;
	}
	shm = p;
	memset(shm, 0, sizeof(*shm));
	atomic_store(&shm->children, children);
	shm->start_time = (long)time(NULL);
	return 1;
}

/* Returns the counter index of an HTTP status. */
static enum mstatus
mstatus_of(int status)
{
	static const int codes[MS_2XX] = {
		[MS_200] = 200, [MS_201] = 201, [MS_204] = 204,
		[MS_400] = 400, [MS_401] = 401, [MS_403] = 403,
		[MS_404] = 404, [MS_405] = 405, [MS_409] = 409,
		[MS_413] = 413, [MS_415] = 415, [MS_429] = 429,
		[MS_500] = 500, [MS_503] = 503,
	};
	int i;

	for (i = 0; i < MS_2XX; i++)
		if (codes[i] == status)
			return (enum mstatus)i;
	if (status < 300)
		return MS_2XX;
	if (status < 400)
		return MS_3XX;
	if (status < 500)
		return MS_4XX;
	return MS_5XX;
}

void
metrics_request(enum route route, int status, long usec)
{
	size_t b;

	if (shm == NULL)
		return;
	if ((int)route < 0 || route > R__MAX)
		route = R__MAX;
	if (usec < 0)
		usec = 0;
	atomic_fetch_add_explicit(&shm->requests[route][mstatus_of(status)],
	    1, memory_order_relaxed);
	for (b = 0; b < NDURATION && usec > duration_le[b]; b++)
		;
	atomic_fetch_add_explicit(&shm->duration[b], 1,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&shm->duration_sum_us, (unsigned long)usec,
	    memory_order_relaxed);
}

void
metrics_child_restart(void)
{
	if (shm != NULL)
		atomic_fetch_add_explicit(&shm->restarts, 1,
		    memory_order_relaxed);
}

/*
 * The most children that hold a request at once: three quarters of them,
 * leaving one free at least when there are two or more, so that the
 * others serve everything else.
 */
static long
hold_max(void)
{
	long children, max;

	children = atomic_load(&shm->children);
	max = children - (children / 4 > 1 ? children / 4 : 1);
	if (max < 1)
		max = 1;
	return max > HOLD_SLOTS ? HOLD_SLOTS : max;
}

/* 1 if hold slot i is taken by a live child (its pid in it). */
static int
hold_taken(int i, int *pid)
{
	*pid = atomic_load(&shm->holders[i]);
	return *pid != 0 && (kill(*pid, 0) == 0 || errno != ESRCH);
}

/*
 * Takes a hold slot (hold_max of them). A slot records its holder's pid,
 * so that the slot of a child killed while it held one is taken over.
 */
int
metrics_hold_begin(int wait_ms)
{
	long max;
	int i, cur;

	if (shm == NULL)
		return wait_ms;
	max = hold_max();
	for (i = 0; i < max; i++) {
		if (hold_taken(i, &cur))
			continue;
		if (atomic_compare_exchange_strong(&shm->holders[i], &cur,
		    (int)getpid())) {
			hold_slot = i;
			return wait_ms;
		}
	}
	atomic_fetch_add_explicit(&shm->holds[HOLD_BUSY], 1,
	    memory_order_relaxed);
	return 0;
}

void
metrics_hold_end(int held_ms, const char *status)
{
	if (shm == NULL || held_ms == 0)
		return;
	if (hold_slot >= 0)
		atomic_store(&shm->holders[hold_slot], 0);
	hold_slot = -1;
	atomic_fetch_add_explicit(&shm->holds[strcmp(status, "processing") ?
	    HOLD_DONE : HOLD_NOT_DONE], 1, memory_order_relaxed);
}

void
metrics_reload(int children)
{
	if (shm == NULL)
		return;
	atomic_fetch_add_explicit(&shm->reloads, 1, memory_order_relaxed);
	atomic_store(&shm->children, children);
}

/* Writes the resource label of a route: its path pattern from the route
 * table ("/acme/order/{id}/finalize"), "none" when no route matched. */
static void
put_resource(FILE *f, enum route r)
{
	const struct route_def *d;

	if (r >= R__MAX) {
		fputs("none", f);
		return;
	}
	d = &routes[r];
	fprintf(f, "%s%s%s", d->prefix, d->has_id ? "{id}" : "",
	    d->suffix != NULL ? d->suffix : "");
}

static void
put_header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Writes this instance's counters. */
static void
put_instance(FILE *f)
{
	unsigned long v, cum;
	size_t r, s, b;
	int i, held, pid;

	put_header(f, "acme_http_requests_total", "counter",
	    "Requests answered by this acme-fcgi instance, by resource and "
	    "HTTP status");
	for (r = 0; r <= R__MAX; r++)
		for (s = 0; s < MS__MAX; s++) {
			v = atomic_load(&shm->requests[r][s]);
			if (v == 0)
				continue;
			fputs("acme_http_requests_total{resource=\"", f);
			put_resource(f, (enum route)r);
			fprintf(f, "\",status=\"%s\"} %lu\n", mstatus_label[s],
			    v);
		}
	put_header(f, "acme_http_request_duration_seconds", "histogram",
	    "Time from the request's parameters to the end of its response");
	cum = 0;
	for (b = 0; b <= NDURATION; b++) {
		cum += atomic_load(&shm->duration[b]);
		if (b < NDURATION)
			fprintf(f, "acme_http_request_duration_seconds_bucket"
			    "{le=\"%g\"} %lu\n", (double)duration_le[b] / 1e6,
			    cum);
		else
			fprintf(f, "acme_http_request_duration_seconds_bucket"
			    "{le=\"+Inf\"} %lu\n", cum);
	}
	fprintf(f, "acme_http_request_duration_seconds_sum %.6f\n",
	    (double)atomic_load(&shm->duration_sum_us) / 1e6);
	fprintf(f, "acme_http_request_duration_seconds_count %lu\n", cum);
	put_header(f, "acme_fcgi_children", "gauge",
	    "Children this acme-fcgi instance is configured to run");
	fprintf(f, "acme_fcgi_children %ld\n", atomic_load(&shm->children));
	put_header(f, "acme_fcgi_child_restarts_total", "counter",
	    "Children that died and were replaced");
	fprintf(f, "acme_fcgi_child_restarts_total %lu\n",
	    atomic_load(&shm->restarts));
	put_header(f, "acme_fcgi_reloads_total", "counter",
	    "Configuration reloads (SIGHUP)");
	fprintf(f, "acme_fcgi_reloads_total %lu\n",
	    atomic_load(&shm->reloads));
	put_header(f, "acme_fcgi_held_requests_total", "counter",
	    "Challenge POSTs and finalizes held for the worker's outcome: "
	    "done (answered with it), not_done (the wait ran out), busy (not "
	    "held: as many children as may hold one were holding one)");
	for (s = 0; s < HOLD__MAX; s++)
		fprintf(f, "acme_fcgi_held_requests_total{outcome=\"%s\"} "
		    "%lu\n", hold_label[s], atomic_load(&shm->holds[s]));
	for (i = held = 0; i < HOLD_SLOTS; i++)
		held += hold_taken(i, &pid);
	put_header(f, "acme_fcgi_holding_requests", "gauge",
	    "Children holding a request for the worker's outcome now");
	fprintf(f, "acme_fcgi_holding_requests %d\n", held);
	put_header(f, "acme_fcgi_holding_requests_max", "gauge",
	    "The most children that may hold one at once");
	fprintf(f, "acme_fcgi_holding_requests_max %ld\n", hold_max());
	put_header(f, "acme_fcgi_start_time_seconds", "gauge",
	    "Start time of this acme-fcgi instance, seconds since the epoch");
	fprintf(f, "acme_fcgi_start_time_seconds %ld\n", shm->start_time);
}

/* Returns 1 if a sample named metric belongs to the family name (itself,
 * or its _bucket, _sum, _count series for a histogram). */
static int
in_family(const char *metric, const char *name, int histogram)
{
	size_t n = strlen(name);

	if (strcmp(metric, name) == 0)
		return 1;
	if (!histogram || strncmp(metric, name, n) != 0)
		return 0;
	return strcmp(metric + n, "_bucket") == 0 ||
	    strcmp(metric + n, "_sum") == 0 ||
	    strcmp(metric + n, "_count") == 0;
}

/* Writes the service-wide samples, each family with its HELP and TYPE
 * (a sample of no known family is left out). */
static void
put_service(FILE *f, const struct metric_row *rows, size_t n)
{
	size_t i, m;
	int hist;

	for (m = 0; m < sizeof(db_metrics) / sizeof(db_metrics[0]); m++) {
		hist = strcmp(db_metrics[m].type, "histogram") == 0;
		put_header(f, db_metrics[m].name, db_metrics[m].type,
		    db_metrics[m].help);
		for (i = 0; i < n; i++) {
			if (!in_family(rows[i].metric, db_metrics[m].name,
			    hist))
				continue;
			fprintf(f, "%s%s%s%s %.15g\n", rows[i].metric,
			    *rows[i].labels != '\0' ? "{" : "",
			    rows[i].labels,
			    *rows[i].labels != '\0' ? "}" : "",
			    rows[i].value);
		}
	}
}

int
h_metrics(struct req *r)
{
	struct metric_row *rows = NULL;
	FILE *f = NULL;
	char *buf = NULL;
	size_t len = 0, n = 0;
	int up, rc = 0;

	if (shm == NULL) {
		problem_set(&r->prob, PT_SERVER_INTERNAL,
		    "metrics are not initialized");
		goto out;
	}
	if ((f = open_memstream(&buf, &len)) == NULL) {
		problem_set(&r->prob, PT_SERVER_INTERNAL,
		    "cannot render the metrics");
		goto out;
	}
	put_instance(f);
	up = PQstatus(r->db->conn) == CONNECTION_OK &&
	    monitor_db_metrics(r->db, &rows, &n);
	put_header(f, "acme_database_up", "gauge",
	    "Whether this scrape could read the service-wide figures from "
	    "PostgreSQL");
	fprintf(f, "acme_database_up %d\n", up);
	if (up)
		put_service(f, rows, n);
	if (fclose(f) != 0) {
		f = NULL;
		problem_set(&r->prob, PT_SERVER_INTERNAL,
		    "cannot render the metrics");
		goto out;
	}
	f = NULL;
	r->raw = buf;
	r->rawlen = len;
	buf = NULL;
	r->ctype = "text/plain; version=0.0.4; charset=utf-8";
	r->status = 200;
	rc = 1;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	monitor_rows_free(rows, n);
	return rc;
}
