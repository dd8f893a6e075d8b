/*
 * main.c - acme-web: the command line, the master (common/prefork.c with
 * the keys web_listen and web_children) and the children (the accept
 * loop of common/prefork.c). Each child opens its own database connection
 * after the fork and serves one request at a time (web/dispatch.c).
 *
 * With web_children = 0 there is no master: the process serves requests
 * itself (Apache mod_fcgid).
 */
#include <string.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "db.h"
#include "prefork.h"
#include "util.h"
#include "web-internal.h"

/* Opens the child's own database connection (after the fork). */
static void
web_child_open(void *arg)
{
	struct db *db = arg;

	memset(db, 0, sizeof(*db));
	if (!db_connect(db, cfg_str(CFG_DATABASE)))
		msg_warn("child: no database yet: requests will retry");
}

/* Serves one request on the child's connection. */
static void
web_child_handle(void *arg, FCGX_Request *fr)
{
	web_handle(arg, fr);
}

/* Serves requests until SIGTERM (common/prefork.c stops gracefully),
 * then exits. */
static void
web_child_main(int listen_fd)
{
	struct db db;

	prefork_serve(listen_fd, web_child_open, web_child_handle, &db);
	db_close(&db);
	config_free();
	_exit(0);
}

static const struct prefork web_pool = {
	.prog = "acme-web",
	.listen_key = CFG_WEB_LISTEN,
	.children_key = CFG_WEB_CHILDREN,
	.start = NULL,
	.child_main = web_child_main,
	.reloaded = NULL,
	.restarted = NULL,
};

int
main(int argc, char *argv[])
{
	return prefork_cmdline(&web_pool, argc, argv);
}
