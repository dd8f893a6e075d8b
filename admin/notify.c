/*
 * notify.c - acmectl notify run-daily: an extra run of the e-mail digests
 * now, outside the workers' schedule (notify_hour). It is a run like the
 * scheduled one (common/notify.c): each item is still announced once, so
 * running it again at once queues nothing new. The workers deliver what
 * it queues.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "ctl.h"
#include "jsonutil.h"
#include "notify.h"

int
cmd_notify_run_daily(struct ctl *c, const struct command *cmd, char **vals)
{
	struct notify_run run;
	json_object *o;
	int rc = 0;

	(void)cmd;
	(void)vals;
	memset(&run, 0, sizeof(run));
	if (!db_connect(&c->db, cfg_str(CFG_DATABASE))) {
		ctl_error("cannot connect to the database");
		return 0;
	}
	switch (notify_run_digests(&c->db, "manual", c->actor, &run)) {
	case 1:
		break;
	case 2:
		ctl_error("no run was started");
		goto out;
	default:
		ctl_error("the digests failed: nothing was queued");
		goto out;
	}
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "run", json_object_new_int64(run.id));
		json_object_object_add(o, "period",
		    json_object_new_string(run.period));
		json_object_object_add(o, "messages",
		    json_object_new_int64(run.messages));
		printf("%s\n", json_compact(o));
		json_object_put(o);
	} else
		printf("run %ld (%s): %ld message(s) queued\n", run.id,
		    run.period, run.messages);
	rc = 1;
out:
	notify_run_free(&run);
	return rc;
}
