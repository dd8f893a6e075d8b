/*
 * main.c - acme-fcgi master: opens (or inherits) the FastCGI socket,
 * forks the children, replaces those that die, stops them on SIGTERM.
 * The master never touches the database.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "acme-fcgi.h"
#include "config.h"
#include "util.h"

#define MAX_CHILDREN	256

static volatile sig_atomic_t got_term;
static volatile sig_atomic_t got_chld;

static void
on_signal(int sig)
{
	if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: acme-fcgi [-c config] [-n children] "
	    "[-s socket]\n");
	exit(2);
}

static pid_t
spawn(int fd)
{
	pid_t pid = fork();

	if (pid == -1) {
		msg_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0)
		child_main(fd);
	return pid;
}

/* Returns the listening socket: inherited on fd 0, or opened. */
static int
open_listener(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd;

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
	if (strchr(spec, '/') != NULL)
		(void)chmod(spec, 0660);
	return fd;
}

int
main(int argc, char *argv[])
{
	const char *conf = NULL, *listen_spec = NULL, *nchild = NULL;
	pid_t pids[MAX_CHILDREN], pid;
	time_t born[MAX_CHILDREN];
	struct sigaction sa;
	sigset_t block, empty;
	enum log_level lvl;
	int ch, fd, i, n, status;

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
	log_init("acme-fcgi", LOG_LVL_INFO);
	if (!config_load(conf) ||
	    (nchild != NULL && !config_set(CFG_CHILDREN, nchild)) ||
	    (listen_spec != NULL && !config_set(CFG_LISTEN, listen_spec)))
		exit(1);
	if (!log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl))
		msg_fatal("bad log_level %s", cfg_str(CFG_LOG_LEVEL));
	log_init("acme-fcgi", lvl);
	if (FCGX_Init() != 0)
		msg_fatal("FCGX_Init failed");
	fd = open_listener(cfg_str(CFG_LISTEN));
	n = (int)cfg_int(CFG_CHILDREN);

	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	for (i = 0; i < n; i++) {
		pids[i] = spawn(fd);
		born[i] = time(NULL);
	}
	msg_info("listening on %s with %d children",
	    *cfg_str(CFG_LISTEN) != '\0' ? cfg_str(CFG_LISTEN) : "fd 0", n);
	sigemptyset(&empty);
	while (!got_term) {
		sigsuspend(&empty);
		if (!got_chld)
			continue;
		got_chld = 0;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < n; i++)
				if (pids[i] == pid)
					break;
			if (i == n)
				continue;
			if (WIFSIGNALED(status))
				msg_warn("child %ld killed by signal %d",
				    (long)pid, WTERMSIG(status));
			else
				msg_warn("child %ld exited with %d", (long)pid,
				    WEXITSTATUS(status));
			/* A child that dies at once (database down) is
			 * restarted at most once a second. */
			if (!got_term && time(NULL) - born[i] < 1)
				sleep(1);
			pids[i] = got_term ? 0 : spawn(fd);
			born[i] = time(NULL);
		}
	}
	msg_info("stopping");
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGTERM);
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			(void)waitpid(pids[i], &status, 0);
	config_free();
	return 0;
}
