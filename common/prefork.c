/*
 * prefork.c - the master shared by acme-fcgi and acme-web: opens (or
 * inherits) the FastCGI socket, forks the children, replaces those that
 * die, reloads the configuration on SIGHUP and stops gracefully on
 * SIGTERM. The master never touches the database.
 *
 * With children = 0 there is no master: the process serves requests
 * itself, for process managers that start one process per socket and
 * send it one request at a time (Apache mod_fcgid).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "prefork.h"
#include "util.h"

/* Seconds a stopping child keeps taking the connections already queued
 * on the listening socket before it exits. */
#define CHILD_DRAIN_SECONDS	2

static volatile sig_atomic_t child_stop;

/* The command line, applied again over the file on each reload. */
struct args {
	const char	*conf;
	const char	*nchild;
	const char	*listen_spec;
};

/* The children of the current generation (those of earlier ones were
 * told to stop and are only reaped). */
struct pool {
	const struct prefork *def;
	pid_t	 pids[PREFORK_MAX_CHILDREN];
	time_t	 born[PREFORK_MAX_CHILDREN];
	int	 n;
	int	 fd;		/* the listening socket */
	pid_t	 master;
};

/* Forks a child serving on the pool's socket; returns its pid, or -1. A
 * child is told (SIGTERM) when the master dies, even by SIGKILL, so that
 * no orphan keeps serving with a stale configuration. */
static pid_t
spawn(const struct pool *p)
{
	pid_t pid = fork();

	if (pid == -1) {
		msg_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != p->master)
			_exit(0);
		p->def->child_main(p->fd);
		_exit(1);	/* not reached */
	}
	return pid;
}

/* Returns the listening socket: inherited on fd 0, or opened. *own is
 * set to the path of a unix socket created here (removed at shutdown). */
static int
open_listener(const char *spec, char **own)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

	*own = NULL;
	if (*spec == '\0') {
		if (getsockname(0, (struct sockaddr *)&ss, &len) != 0)
			msg_fatal("no listen address configured and fd 0 "
			    "is not a socket");
		return 0;
	}
	if (strchr(spec, '/') != NULL)
		(void)unlink(spec);
	fd = FCGX_OpenSocket(spec, 128);
	if (fd < 0)
		msg_fatal("cannot listen on %s", spec);
	if (strchr(spec, '/') != NULL) {
		(void)chmod(spec, 0660);
		*own = xstrdup(spec);
	}
	return fd;
}

/* Applies the command line over the configuration; returns 1 or 0. */
static int
apply_args(const struct prefork *def, const struct args *a)
{
	return (a->nchild == NULL ||
	    config_set(def->children_key, a->nchild)) &&
	    (a->listen_spec == NULL ||
	    config_set(def->listen_key, a->listen_spec));
}

/*
 * SIGHUP: reads the configuration again. On success a new generation of
 * children is started with it, then the old children are told to stop
 * (each finishes its request and the queued connections first), so that
 * the socket is served throughout. On failure nothing changes. The
 * listening socket is kept: a new listen spec needs a restart.
 */
static void
reload(const struct args *a, struct pool *p)
{
	const struct prefork *def = p->def;
	pid_t old[PREFORK_MAX_CHILDREN];
	char *listen_was = xstrdup(cfg_str(def->listen_key));
	int i, n_old = p->n;

	if (!config_reload(a->conf) || !apply_args(def, a) ||
	    !config_log_level(def->prog)) {
		msg_err("reload: keeping the previous configuration");
		goto out;
	}
	if (strcmp(listen_was, cfg_str(def->listen_key)) != 0) {
		msg_warn("reload: %s changed from \"%s\" to \"%s\": "
		    "restart %s to apply it", cfg_defs[def->listen_key].name,
		    listen_was, cfg_str(def->listen_key), def->prog);
		(void)config_set(def->listen_key, listen_was);
	}
	memcpy(old, p->pids, sizeof(old));
	p->n = (int)cfg_int(def->children_key);
	if (p->n < 1)	/* 0 means no master: not for a running master */
		p->n = 1;
	for (i = 0; i < p->n; i++) {
		p->pids[i] = spawn(p);
		p->born[i] = time(NULL);
	}
	for (i = p->n; i < PREFORK_MAX_CHILDREN; i++)
		p->pids[i] = 0;
	for (i = 0; i < n_old; i++)
		if (old[i] > 0)
			(void)kill(old[i], SIGTERM);
	if (def->reloaded != NULL)
		def->reloaded(p->n);
	msg_info("reloaded %s: %d children replace %d", a->conf != NULL ?
	    a->conf : "the defaults", p->n, n_old);
out:
	free(listen_was);
}

/* Reaps the children that exited; replaces those of the current
 * generation, unless stopping. */
static void
reap(struct pool *p)
{
	pid_t pid;
	int i, status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < p->n; i++)
			if (p->pids[i] == pid)
				break;
		if (i == p->n) {
			msg_debug("child %ld of an earlier generation exited",
			    (long)pid);
			continue;
		}
		if (WIFSIGNALED(status))
			msg_warn("child %ld killed by signal %d", (long)pid,
			    WTERMSIG(status));
		else
			msg_warn("child %ld exited with %d", (long)pid,
			    WEXITSTATUS(status));
		if (master_term) {
			p->pids[i] = 0;
			continue;
		}
		/* A child that dies at once is restarted at most once a
		 * second. */
		if (time(NULL) - p->born[i] < 1)
			sleep(1);
		p->pids[i] = spawn(p);
		p->born[i] = time(NULL);
		if (p->def->restarted != NULL)
			p->def->restarted();
	}
}

/*
 * SIGTERM: no new connection can reach a unix socket of ours once its
 * path is gone; every child finishes its request and the connections
 * already queued, then exits; the master waits for all of them (those of
 * earlier generations too).
 */
static void
shutdown_pool(struct pool *p, const char *own_path)
{
	int i, status;

	msg_info("stopping: the children finish their requests");
	if (own_path != NULL)
		(void)unlink(own_path);
	(void)close(p->fd);
	for (i = 0; i < p->n; i++)
		if (p->pids[i] > 0)
			(void)kill(p->pids[i], SIGTERM);
	while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
		;
	msg_info("stopped");
}

int
prefork_main(const struct prefork *def, const char *conf, const char *nchild,
    const char *listen_spec)
{
	struct args a;
	struct pool p;
	sigset_t empty;
	const char *spec;
	char *own_path = NULL;
	int i;

	a.conf = conf;
	a.nchild = nchild;
	a.listen_spec = listen_spec;
	log_init(def->prog, LOG_LVL_INFO);
	if (!config_load(a.conf) || !apply_args(def, &a) ||
	    !config_log_level(def->prog))
		return 1;
	if (FCGX_Init() != 0)
		msg_fatal("FCGX_Init failed");
	memset(&p, 0, sizeof(p));
	p.def = def;
	spec = cfg_str(def->listen_key);
	p.fd = open_listener(spec, &own_path);
	p.n = (int)cfg_int(def->children_key);
	p.master = getpid();
	if (def->start != NULL && !def->start(p.n))
		msg_fatal("cannot start");
	if (p.n == 0) {
		msg_info("serving on %s in this process (children = 0)",
		    *spec != '\0' ? spec : "fd 0");
		def->child_main(p.fd);	/* does not return */
		return 1;
	}

	master_signals();

	for (i = 0; i < p.n; i++) {
		p.pids[i] = spawn(&p);
		p.born[i] = time(NULL);
	}
	msg_info("listening on %s with %d children",
	    *spec != '\0' ? spec : "fd 0", p.n);
	sigemptyset(&empty);
	while (!master_term) {
		sigsuspend(&empty);
		if (master_hup && !master_term) {
			master_hup = 0;
			reload(&a, &p);
		}
		if (master_chld) {
			master_chld = 0;
			reap(&p);
		}
	}
	shutdown_pool(&p, own_path);
	free(own_path);
	config_free();
	return 0;
}

/* SIGTERM and SIGINT are blocked in a child except while it waits for a
 * connection (child_wait), so this never interrupts a request. */
static void
child_sigterm(int sig)
{
	(void)sig;
	child_stop = 1;
}

/*
 * Returns an epoll descriptor watching the listening socket for this
 * child alone, or -1 (child_wait then polls the socket). EPOLLEXCLUSIVE:
 * a connection wakes one idle child, not all of them only for the others
 * to find accept() empty.
 */
static int
child_epoll(int listen_fd)
{
	struct epoll_event ev;
	int epfd;

	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return -1;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLEXCLUSIVE;
	ev.data.fd = listen_fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, listen_fd, &ev) == -1) {
		(void)close(epfd);
		return -1;
	}
	return epfd;
}

/* Waits until the listening socket has a connection or SIGTERM arrives
 * (the only place the child takes signals): on epfd when it is not -1,
 * else on the socket itself. */
static void
child_wait(int epfd, int listen_fd, const sigset_t *unblocked)
{
	struct epoll_event ev;
	struct pollfd pfd;

	if (epfd != -1) {
		if (epoll_pwait(epfd, &ev, 1, -1, unblocked) < 0 &&
		    errno != EINTR)
			msg_warn("child: epoll_wait: %s", strerror(errno));
		return;
	}
	pfd.fd = listen_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (ppoll(&pfd, 1, NULL, unblocked) < 0 && errno != EINTR)
		msg_warn("child: poll: %s", strerror(errno));
}

/*
 * Serves requests until SIGTERM, then stops gracefully: the request in
 * hand is finished (the signal is blocked outside child_wait), then the
 * connections already queued on the listening socket are served (for at
 * most CHILD_DRAIN_SECONDS) before it returns. The listening socket is
 * made non-blocking, so that a child that loses the race for a connection
 * to another goes back to waiting instead of blocking in accept().
 */
void
prefork_serve(int listen_fd, void (*setup)(void *),
    void (*handle)(void *, FCGX_Request *), void *arg)
{
	FCGX_Request fr;
	struct sigaction sa;
	sigset_t block, unblocked;
	time_t drain_end = 0;
	int epfd, fl, rc;

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
	epfd = child_epoll(listen_fd);
	setup(arg);
	if (FCGX_InitRequest(&fr, listen_fd, 0) != 0)
		msg_fatal("FCGX_InitRequest failed");
	for (;;) {
		if (!child_stop)
			child_wait(epfd, listen_fd, &unblocked);
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
		handle(arg, &fr);
		FCGX_Finish_r(&fr);
	}
	if (epfd != -1)
		(void)close(epfd);
}

/* Prints the usage of the program and exits 2. */
static void
usage(const struct prefork *def)
{
	fprintf(stderr, "usage: %s [-c config] [-n children] "
	    "[-s socket]\n", def->prog);
	exit(2);
}

int
prefork_cmdline(const struct prefork *def, int argc, char *argv[])
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
			usage(def);
		}
	}
	if (optind != argc)
		usage(def);
	return prefork_main(def, conf, nchild, listen_spec);
}
