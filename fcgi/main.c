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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme-fcgi.h"
#include "config.h"
#include "metrics.h"
#include "prefork.h"
#include "util.h"

static void
usage(void)
{
	fprintf(stderr, "usage: acme-fcgi [-c config] [-n children] "
	    "[-s socket]\n");
	exit(2);
}

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
	const char *conf = NULL, *nchild = NULL, *listen_spec = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "c:n:s:")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case 'n':
			nchild = optarg;
			break;
		case 's':
			listen_spec = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	return prefork_main(&fcgi_pool, conf, nchild, listen_spec);
}
