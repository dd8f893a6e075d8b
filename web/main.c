/*
 * main.c - acme-web: the command line, the master (common/prefork.c with
 * the keys web_listen and web_children) and the children's accept loop.
 * Each child opens its own database connection after the fork and serves
 * one request at a time (web/dispatch.c).
 *
 * With web_children = 0 there is no master: the process serves requests
 * itself (Apache mod_fcgid).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "db.h"
#include "prefork.h"
#include "util.h"
#include "web-internal.h"

/* Seconds a stopping child keeps taking the connections already queued
 * on the listening socket before it exits. */
#define CHILD_DRAIN_SECONDS	2

static volatile sig_atomic_t child_stop;

/* SIGTERM and SIGINT are blocked except while the child waits for a
 * connection (child_wait), so this never interrupts a request. */
static void
child_sigterm(int sig)
{
	(void)sig;
	child_stop = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: acme-web [-c config] [-n children] "
	    "[-s socket]\n");
	exit(2);
}

/* Waits until the listening socket has a connection or SIGTERM arrives
 * (the only place the child takes signals). */
static void
child_wait(int listen_fd, const sigset_t *unblocked)
{
	struct pollfd pfd;

	pfd.fd = listen_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (ppoll(&pfd, 1, NULL, unblocked) < 0 && errno != EINTR)
		msg_warn("child: poll: %s", strerror(errno));
}

/*
 * Serves requests until SIGTERM, then stops gracefully: the request in
 * hand is finished, then the connections already queued are served (for
 * at most CHILD_DRAIN_SECONDS) before the child exits. The listening
 * socket is non-blocking, so that a child that loses the race for a
 * connection goes back to waiting instead of blocking in accept().
 */
static void
web_child_main(int listen_fd)
{
	struct db db;
	FCGX_Request fr;
	struct sigaction sa;
	sigset_t block, unblocked;
	time_t drain_end = 0;
	int fl, rc;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = child_sigterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);	/* the master reloads */
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&unblocked);

	if ((fl = fcntl(listen_fd, F_GETFL)) == -1 ||
	    fcntl(listen_fd, F_SETFL, fl | O_NONBLOCK) == -1)
		msg_fatal("child: listening socket: %s", strerror(errno));
	memset(&db, 0, sizeof(db));
	if (!db_connect(&db, cfg_str(CFG_DATABASE)))
		msg_warn("child: no database yet: requests will retry");
	if (FCGX_InitRequest(&fr, listen_fd, 0) != 0)
		msg_fatal("FCGX_InitRequest failed");
	for (;;) {
		if (!child_stop)
			child_wait(listen_fd, &unblocked);
		if (child_stop && drain_end == 0)
			drain_end = time(NULL) + CHILD_DRAIN_SECONDS;
		if (drain_end != 0 && time(NULL) >= drain_end)
			break;
		rc = FCGX_Accept_r(&fr);
		if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR) {
			if (drain_end != 0)
				break;	/* nothing queued any more */
			continue;
		}
		if (rc < 0) {
			msg_warn("child: accept: %s", rc < -1 ?
			    strerror(-rc) : "failed");
			break;
		}
		web_handle(&db, &fr);
		FCGX_Finish_r(&fr);
	}
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
	return prefork_main(&web_pool, conf, nchild, listen_spec);
}
