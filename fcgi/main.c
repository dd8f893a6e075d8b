/*
 * main.c - acme-fcgi: the command line, then the master of
 * common/prefork.c with its keys (listen, children) and the shared metrics
 * (mapped before the children are forked). The master never touches the
 * database.
 *
 * With children = 0 there is no master: the process serves requests
 * itself, for process managers that start one process per socket and
 * send it one request at a time (Apache mod_fcgid).
 */
#include "acme-fcgi.h"
#include "config.h"
#include "metrics.h"
#include "prefork.h"
#include "util.h"

/* Maps the shared metrics before the children exist; returns 1 (a
 * failure is fatal). */
static int
fcgi_start(int nchildren)
{
	if (!metrics_init(nchildren))
		msg_fatal("cannot map the shared metrics");
	return 1;
}

static const struct prefork fcgi_pool = {
	.prog = "acme-fcgi",
	.listen_key = CFG_LISTEN,
	.children_key = CFG_CHILDREN,
	.start = fcgi_start,
	.child_main = child_main,
	.reloaded = metrics_reload,
	.restarted = metrics_child_restart,
};

int
main(int argc, char *argv[])
{
	return prefork_cmdline(&fcgi_pool, argc, argv);
}
