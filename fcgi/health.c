/*
 * health.c - GET /health: whether this acme-fcgi child reaches PostgreSQL,
 * for load balancers, supervisors and monitoring. JSON, never cached:
 *	200 {"status": "ok", "database": "ok", "schema_version": 8, ...}
 *	503 {"status": "unavailable", "database": "unreachable", ...}
 * It is also answered when the child's database connection is down
 * (request.c routes it without the database).
 */
#include <time.h>
#include <unistd.h>

#include "acme-fcgi.h"
#include "monitor.h"
#include "util.h"

int
h_health(struct req *r)
{
	struct timespec t0, t1;
	json_object *o;
	long version = 0;
	int up;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	up = PQstatus(r->db->conn) == CONNECTION_OK &&
	    monitor_db_check(r->db, &version);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	o = json_object_new_object();
	json_object_object_add(o, "status",
	    json_object_new_string(up ? "ok" : "unavailable"));
	json_object_object_add(o, "database",
	    json_object_new_string(up ? "ok" : "unreachable"));
	if (up)
		json_object_object_add(o, "schema_version",
		    json_object_new_int64(version));
	json_object_object_add(o, "database_ms", json_object_new_int64(
	    (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	r->resp = o;
	r->status = up ? 200 : 503;
	return 1;
}
