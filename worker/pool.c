/*
 * pool.c - acme-worker with worker_processes above 1: a master that holds
 * the one LISTEN session and a fixed pool of worker processes, each with
 * its own database session that does not listen.
 *
 * Every NOTIFY acme_work reaches every listening session, and a worker
 * woken claims: with N workers listening, a job costs N claims, all but
 * one empty (README, "Idle workers and their claims"). Here the master
 * reads the notifications and hands each one to a single idle process,
 * over a socket pair: an idle process is one that reported, after its
 * last round, that it found nothing more to do. A notification that
 * finds every process busy waits in the master, counted by kind (at most
 * one per process: more could not run at once), and goes to the first
 * process that reports idle. Each process still runs a round of every
 * kind at each poll_interval by itself, so a master that falls behind
 * only delays work, as a lost notification does.
 *
 * The master replaces a process that dies (and hands the kinds it held
 * to another), forwards SIGHUP (each process reads the configuration
 * again; the master takes a new database and a new worker_processes)
 * and SIGTERM (each process finishes its job). A process is told, by
 * SIGTERM, when the master dies, and stops when its socket closes.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "acme-worker.h"
#include "config.h"
#include "jobs.h"
#include "util.h"

#define POOL_MAX	256

struct proc {
	pid_t		 pid;		/* 0: no process in this slot */
	int		 fd;		/* the master's end, or -1 */
	time_t		 born;
	uint32_t	 sent;		/* seq of the last wake-up sent */
	unsigned	 held;		/* kinds sent since it was last idle */
	int		 idle;
};

/* Static: a process forked from the master keeps these reachable (its
 * copy of the master's session is closed, never freed). */
static struct {
	const char	*conf;
	int		(*proc_main)(const char *, int);
	pid_t		 master;
	struct proc	 procs[POOL_MAX];
	int		 n;
	unsigned	 pending[JOB__MAX];	/* notifications waiting */
	uint32_t	 seq;
	struct db	 db;			/* the LISTEN session */
	int		 listening;
	int		 lost;			/* it was listening, and stopped */
	time_t		 connect_at;		/* next try when not */
} pool;

/* Forks the process of slot i; returns 1, or 0 (logged; the slot stays
 * empty until the next reap or reload). */
static int
spawn(int i)
{
	struct proc *p = &pool.procs[i];
	int sv[2], j;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1) {
		msg_err("socketpair: %s", strerror(errno));
		return 0;
	}
	pid = fork();
	if (pid == -1) {
		msg_err("fork: %s", strerror(errno));
		(void)close(sv[0]);
		(void)close(sv[1]);
		return 0;
	}
	if (pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 ||
		    getppid() != pool.master)
			_exit(0);
		/* the master's session and sockets are not this process's:
		 * closed, not ended (PQfinish would end the master's) */
		if (pool.db.conn != NULL && PQsocket(pool.db.conn) >= 0)
			(void)close(PQsocket(pool.db.conn));
		for (j = 0; j < POOL_MAX; j++)
			if (pool.procs[j].fd >= 0)
				(void)close(pool.procs[j].fd);
		(void)close(sv[0]);
		exit(pool.proc_main(pool.conf, sv[1]));
	}
	(void)close(sv[1]);
	p->pid = pid;
	p->fd = sv[0];
	p->born = time(NULL);
	p->sent = 0;
	p->held = 0;
	/* a process starts with a round of every kind, and says when it is
	 * done with it */
	p->idle = 0;
	return 1;
}

/* Sends the kinds to process i; returns 1, or 0 if it cannot take them. */
static int
send_to(int i, unsigned kinds)
{
	struct proc *p = &pool.procs[i];
	struct pool_msg m;

	m.seq = ++pool.seq;
	m.kinds = kinds;
	if (p->fd < 0 || send(p->fd, &m, sizeof(m),
	    MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)sizeof(m))
		return 0;
	p->sent = m.seq;
	p->held |= kinds;
	p->idle = 0;
	return 1;
}

/* The kinds of the notifications waiting, one of each kind taken. */
static unsigned
take_pending(void)
{
	unsigned kinds = 0;
	int k;

	for (k = 0; k < JOB__MAX; k++)
		if (pool.pending[k] > 0) {
			pool.pending[k]--;
			kinds |= JOB_BIT(k);
		}
	return kinds;
}

/* Hands the kinds of one notification to the first idle process, or
 * keeps them for the first to be idle. */
static void
dispatch(unsigned kinds)
{
	int i, k;

	for (i = 0; i < pool.n; i++)
		if (pool.procs[i].idle && send_to(i, kinds)) {
			msg_debug("pool: wake-up 0x%x to process %ld", kinds,
			    (long)pool.procs[i].pid);
			return;
		}
	for (k = 0; k < JOB__MAX; k++)
		if ((kinds & JOB_BIT(k)) != 0 &&
		    pool.pending[k] < (unsigned)pool.n)
			pool.pending[k]++;
}

/* Reads the reports of process i: one, carrying the seq of the last
 * wake-up it had read, each time it goes idle. */
static void
read_reports(int i)
{
	struct proc *p = &pool.procs[i];
	uint32_t seq;
	unsigned kinds;
	ssize_t r;

	for (;;) {
		r = recv(p->fd, &seq, sizeof(seq), MSG_DONTWAIT);
		if (r == (ssize_t)sizeof(seq)) {
			/* idle, unless a wake-up crossed the report */
			if (seq == p->sent) {
				p->idle = 1;
				p->held = 0;
			}
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 || (r == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK)) {
			/* the process is gone: reap() replaces it */
			(void)close(p->fd);
			p->fd = -1;
			p->idle = 0;
		}
		break;
	}
	if (p->idle && (kinds = take_pending()) != 0)
		(void)send_to(i, kinds);
}

static void read_notifications(void);

/* Opens the LISTEN session when it is not open (at most once a second);
 * returns 1 if it is. Work announced while it was closed is lost: the
 * first idle process is told of every kind. */
static int
ensure_listening(void)
{
	if (pool.listening)
		return 1;
	if (time(NULL) < pool.connect_at)
		return 0;
	pool.connect_at = time(NULL) + 1;
	db_close(&pool.db);
	if (!db_connect(&pool.db, cfg_str(CFG_DATABASE)) ||
	    !db_exec(&pool.db, "LISTEN " JOBS_CHANNEL, 0, NULL)) {
		db_close(&pool.db);
		return 0;
	}
	/* not at the start: each process starts with a round of every
	 * kind */
	if (pool.lost)
		dispatch(JOBS_ALL);
	pool.listening = 1;
	/* those that came with the LISTEN's result are not on the socket */
	read_notifications();
	return pool.listening;
}

/* Reads the notifications on the LISTEN session and dispatches them. */
static void
read_notifications(void)
{
	PGnotify *n;

	if (!PQconsumeInput(pool.db.conn)) {
		msg_warn("pool: the LISTEN session is lost (%s), "
		    "reconnecting", PQerrorMessage(pool.db.conn));
		pool.listening = 0;
		pool.lost = 1;
		return;
	}
	while ((n = PQnotifies(pool.db.conn)) != NULL) {
		dispatch(jobs_wakeup(n->extra));
		PQfreemem(n);
	}
}

/* Reaps the processes that exited; replaces those of a current slot,
 * unless stopping, and hands the kinds they held to another. */
static void
reap(void)
{
	unsigned held;
	pid_t pid;
	int i, status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < pool.n; i++)
			if (pool.procs[i].pid == pid)
				break;
		if (i == pool.n) {
			msg_debug("pool: process %ld of a smaller pool exited",
			    (long)pid);
			continue;
		}
		if (WIFSIGNALED(status))
			msg_warn("pool: process %ld killed by signal %d",
			    (long)pid, WTERMSIG(status));
		else
			msg_warn("pool: process %ld exited with %d",
			    (long)pid, WEXITSTATUS(status));
		if (pool.procs[i].fd >= 0)
			(void)close(pool.procs[i].fd);
		held = pool.procs[i].held;
		pool.procs[i].pid = 0;
		pool.procs[i].fd = -1;
		pool.procs[i].idle = 0;
		if (master_term)
			continue;
		/* one that dies at once is replaced at most once a second */
		if (time(NULL) - pool.procs[i].born < 1)
			sleep(1);
		(void)spawn(i);
		if (held != 0)
			dispatch(held);
	}
}

/* Forks the processes of the slots a failed fork left empty; returns 1
 * if one is still empty (tried again in a second). */
static int
fill_slots(void)
{
	int i, empty = 0;

	for (i = 0; i < pool.n; i++)
		if (pool.procs[i].pid == 0 && (master_term || !spawn(i)))
			empty = 1;
	return empty;
}

/*
 * SIGHUP: the master reads the configuration again (the log level, the
 * database of its LISTEN session, worker_processes: processes are started
 * or told to stop), then tells every process, each reading it again for
 * itself. On failure the master keeps the previous configuration; the
 * processes are told all the same, and keep theirs the same way.
 */
static void
reload(void)
{
	char *db_was = xstrdup(cfg_str(CFG_DATABASE));
	int i, n;

	if (!config_reload(pool.conf) || !config_log_level("acme-worker")) {
		msg_err("reload: keeping the previous configuration");
		goto tell;
	}
	if (strcmp(db_was, cfg_str(CFG_DATABASE)) != 0) {
		pool.listening = 0;
		pool.lost = 1;
		pool.connect_at = 0;
	}
	n = (int)cfg_int(CFG_WORKER_PROCESSES);
	for (i = n; i < pool.n; i++)
		if (pool.procs[i].pid > 0) {
			(void)kill(pool.procs[i].pid, SIGTERM);
			if (pool.procs[i].fd >= 0)
				(void)close(pool.procs[i].fd);
			pool.procs[i].pid = 0;
			pool.procs[i].fd = -1;
			pool.procs[i].idle = 0;
		}
	if (n != pool.n)
		msg_info("reload: %d worker processes (were %d)", n, pool.n);
	pool.n = n;
	(void)fill_slots();
	msg_info("reloaded %s", pool.conf != NULL ? pool.conf : "the defaults");
tell:
	for (i = 0; i < pool.n; i++)
		if (pool.procs[i].pid > 0)
			(void)kill(pool.procs[i].pid, SIGHUP);
	free(db_was);
}

int
pool_main(const char *conf, int (*proc_main)(const char *, int))
{
	struct pollfd pfd[POOL_MAX + 1];
	int slot[POOL_MAX + 1];
	struct timespec ts;
	sigset_t empty;
	int i, nfd, status, gaps = 0;

	memset(&pool, 0, sizeof(pool));
	pool.conf = conf;
	pool.proc_main = proc_main;
	pool.master = getpid();
	pool.n = (int)cfg_int(CFG_WORKER_PROCESSES);
	for (i = 0; i < POOL_MAX; i++)
		pool.procs[i].fd = -1;

	master_signals();
	sigemptyset(&empty);

	if (!ensure_listening())
		msg_warn("pool: cannot LISTEN yet: trying again every second");
	gaps = fill_slots();
	msg_info("pool of %d worker processes", pool.n);
	while (!master_term) {
		nfd = 0;
		if (pool.listening) {
			pfd[nfd].fd = PQsocket(pool.db.conn);
			pfd[nfd].events = POLLIN;
			slot[nfd++] = -1;
		}
		for (i = 0; i < pool.n; i++)
			if (pool.procs[i].fd >= 0) {
				pfd[nfd].fd = pool.procs[i].fd;
				pfd[nfd].events = POLLIN;
				slot[nfd++] = i;
			}
		/* without the session or a process, a second between two
		 * tries */
		ts.tv_sec = 1;
		ts.tv_nsec = 0;
		if (ppoll(pfd, (nfds_t)nfd, pool.listening && !gaps ? NULL :
		    &ts, &empty) == -1 && errno != EINTR)
			msg_err("ppoll: %s", strerror(errno));
		else
			for (i = 0; i < nfd; i++) {
				if ((pfd[i].revents & (POLLIN | POLLHUP |
				    POLLERR)) == 0)
					continue;
				if (slot[i] < 0)
					read_notifications();
				else if (pool.procs[slot[i]].fd == pfd[i].fd)
					read_reports(slot[i]);
			}
		if (master_hup && !master_term) {
			master_hup = 0;
			reload();
		}
		if (master_chld) {
			master_chld = 0;
			reap();
		}
		(void)ensure_listening();
		gaps = fill_slots();
	}

	msg_info("stopping: the worker processes finish their jobs");
	for (i = 0; i < pool.n; i++)
		if (pool.procs[i].pid > 0)
			(void)kill(pool.procs[i].pid, SIGTERM);
	while (waitpid(-1, &status, 0) > 0 || errno == EINTR)
		;
	for (i = 0; i < pool.n; i++)
		if (pool.procs[i].fd >= 0)
			(void)close(pool.procs[i].fd);
	db_close(&pool.db);
	msg_info("stopped");
	return 0;
}
