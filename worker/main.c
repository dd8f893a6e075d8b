/*
 * main.c - acme-worker: waits for NOTIFY acme_work and runs the jobs of
 * the kinds announced until none is left, and every kind at each
 * poll_interval (the fallback: a lost notification only delays work).
 * Any number of workers may run against one database. With
 * worker_processes above 1, this process is the master of a pool
 * (pool.c), which listens for its processes and wakes one at a time.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "acme-worker.h"
#include "config.h"
#include "jobs.h"
#include "util.h"


static volatile sig_atomic_t stop;
static volatile sig_atomic_t got_hup;

/* In a process of a pool: its socket to the master, which listens for
 * it (pool.c); else -1, and the session LISTENs itself. */
static int master_fd = -1;

/* Sets a worker's session up: it LISTENs unless its master does. */
static int
session_setup(struct db *db)
{
	return master_fd >= 0 ? jobs_session(db) : jobs_listen(db);
}

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	got_hup = 1;
}

/*
 * SIGHUP, between two jobs: reads the configuration again; on failure the
 * previous one stays. The log level, the resolver and the CA (a renewed
 * intermediate) are taken at once; a new database connection string
 * reconnects, and is refused when the new database cannot be reached.
 */
static void
reload(struct worker *w, const char *conf)
{
	char *db_was = xstrdup(cfg_str(CFG_DATABASE));
	struct dns_resolver res;
	struct db db;
	struct ca ca;

	if (!config_reload(conf)) {
		msg_err("reload: keeping the previous configuration");
		goto out;
	}
	(void)config_log_level("acme-worker");
	if (dns_resolver_parse(&res, cfg_str(CFG_DNS_SERVERS))) {
		res.timeout = (int)(cfg_int(CFG_VALIDATION_TIMEOUT) + 1) / 2;
		res.attempts = 2;
		w->resolver = res;
	} else
		msg_err("reload: bad dns_servers: keeping the previous ones");
	if (ca_load(&ca, cfg_str(CFG_CA_DIR))) {
		if (w->ca_loaded)
			ca_free(&w->ca);
		w->ca = ca;
		w->ca_loaded = 1;
	} else
		msg_warn("reload: cannot load the CA from %s%s",
		    cfg_str(CFG_CA_DIR), w->ca_loaded ?
		    ": keeping the previous one" : "");
	if (strcmp(db_was, cfg_str(CFG_DATABASE)) != 0) {
		if (db_connect(&db, cfg_str(CFG_DATABASE)) &&
		    session_setup(&db)) {
			db_close(&w->db);
			w->db = db;
		} else {
			db_close(&db);
			msg_err("reload: the new database is unreachable: "
			    "keeping the previous one");
			(void)config_set(CFG_DATABASE, db_was);
		}
	}
	msg_info("reloaded %s", conf != NULL ? conf : "the defaults");
out:
	free(db_was);
}

static void
usage(void)
{
	fprintf(stderr, "usage: acme-worker [-c config] [-1]\n");
	exit(2);
}

/*
 * The kinds of job (jobs.h): run, by the kind's file, returns 1 if it did
 * a job, 0 if there was none, -1 on a database error. then: the kinds a
 * job makes work for without announcing it, looked at once after it, in
 * the same round.
 */
static const struct {
	int		(*run)(struct worker *);
	unsigned	 then;
} job_kinds[JOB__MAX] = {
	[JOB_CHALLENGE] = { job_challenge, 0 },
	/* the OCSP response of the certificate issued: signed by job_issue
	 * and stored with it (sql/017); without it, job_issue runs job_ocsp */
	[JOB_ORDER] = { job_issue, 0 },
	/* revocation status (revocation.c) */
	[JOB_OCSP] = { job_ocsp, 0 },
	[JOB_CRL] = { job_crl, 0 },
	/* e-mail last: its failures stay its own (notify.c) */
	[JOB_OUTBOX] = { job_notify, 0 },
};

/* What the loop runs next. */
struct wake {
	unsigned	 kinds;		/* JOB_BIT mask: announced, or not
					 * done yet */
	long long	 full_at;	/* every kind then, announced or not
					 * (mono_ms) */
	uint32_t	 seq;		/* of the master's last wake-up read */
	int		 reported;	/* the master knows this one idle */
};

/* Returns the milliseconds of the monotonic clock (a change of the
 * wall clock changes no due time). */
static long long
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Adds to wk the kinds of job of the master's wake-ups waiting on its
 * socket; returns how many there were. The socket closed: the master is
 * gone, and this process stops. */
static int
drain_master(struct wake *wk)
{
	struct pool_msg m;
	int count = 0;
	ssize_t r;

	for (;;) {
		r = recv(master_fd, &m, sizeof(m), MSG_DONTWAIT);
		if (r == (ssize_t)sizeof(m)) {
			wk->kinds |= m.kinds;
			wk->seq = m.seq;
			wk->reported = 0;
			count++;
			continue;
		}
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 || (r == -1 && errno != EAGAIN &&
		    errno != EWOULDBLOCK)) {
			if (!stop)
				msg_warn("the pool's master is gone: stopping");
			stop = 1;
		}
		return count;
	}
}

/* Adds to wk the kinds of job of the notifications libpq has read (or,
 * in a pool, of the master's wake-ups); returns how many there were. */
static int
drain_notifies(struct worker *w, struct wake *wk)
{
	PGnotify *n;
	int count = 0;

	if (master_fd >= 0)
		return drain_master(wk);
	(void)PQconsumeInput(w->db.conn);
	while ((n = PQnotifies(w->db.conn)) != NULL) {
		wk->kinds |= jobs_wakeup(n->extra);
		PQfreemem(n);
		count++;
	}
	return count;
}

/*
 * Waits for a notification, or until every kind is due again; drains
 * the notifications into wk. A notification that came with the result
 * of a job's query is already in libpq's queue, not on the socket: it
 * is work (perhaps a job the loop's last claims missed), so there is no
 * waiting then.
 */
static void
wait_work(struct worker *w, struct wake *wk)
{
	struct pollfd pfd;
	long long left;

	if (drain_notifies(w, wk) > 0)
		return;
	/* at most poll_interval: a reload may have shortened it */
	left = wk->full_at - mono_ms();
	if (left > cfg_int(CFG_POLL_INTERVAL) * 1000)
		left = cfg_int(CFG_POLL_INTERVAL) * 1000;
	if (master_fd >= 0) {
		/* idle: the master may hand this process the next
		 * notification */
		if (!wk->reported && send(master_fd, &wk->seq,
		    sizeof(wk->seq), MSG_NOSIGNAL) == (ssize_t)sizeof(wk->seq))
			wk->reported = 1;
		pfd.fd = master_fd;
	} else
		pfd.fd = PQsocket(w->db.conn);
	pfd.events = POLLIN;
	if (left > 0 && pfd.fd >= 0 && poll(&pfd, 1, (int)left) > 0)
		(void)drain_notifies(w, wk);
}

/*
 * Runs the kinds of job in wk, round after round, until none is left: a
 * kind that found a job stays for the next round (there may be more),
 * the kinds of the notifications read meanwhile join it, and once
 * wk->full_at is past a round runs every kind (the fallback for a lost
 * notification, a lease run out, a retry come due). Returns 1, or 0 on
 * a database error (the kinds that failed stay in wk).
 */
static int
run_jobs(struct worker *w, struct wake *wk)
{
	int k, r, rc = 1;

	while (rc) {
		unsigned todo, found;

		(void)drain_notifies(w, wk);
		if (mono_ms() >= wk->full_at) {
			wk->kinds = JOBS_ALL;
			wk->full_at = mono_ms() +
			    cfg_int(CFG_POLL_INTERVAL) * 1000;
		}
		/* a reload waits for the job in hand, not for the rest */
		if (wk->kinds == 0 || stop || got_hup)
			break;
		todo = wk->kinds;
		found = 0;
		for (k = 0; k < JOB__MAX && !stop; k++) {
			if ((todo & JOB_BIT(k)) == 0)
				continue;
			todo &= ~JOB_BIT(k);
			r = job_kinds[k].run(w);
			/* a kind announced may have more jobs; one looked at
			 * for the job of another looks for that one only */
			if (r < 0 || (r > 0 && (wk->kinds & JOB_BIT(k)) != 0))
				found |= JOB_BIT(k);
			if (r > 0)
				todo |= job_kinds[k].then;
			if (r < 0)
				rc = 0;
		}
		/* todo: what a job made for a kind this round had passed */
		wk->kinds = found | todo;
	}
	return rc;
}

/*
 * Runs the worker in this process until SIGTERM (or, with once, one round
 * of every kind); fd: its socket to the master of a pool, or -1. The
 * configuration is loaded. Returns the exit status.
 */
static int
worker_main(const char *conf, int fd, int once)
{
	struct worker w;
	struct sigaction sa;
	sigset_t sigs;
	const char *fault;
	struct wake wk;
	long long hk_at;

	master_fd = fd;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	/* a process of a pool comes with the master's signals blocked */
	sigemptyset(&sigs);
	sigprocmask(SIG_SETMASK, &sigs, NULL);

	memset(&w, 0, sizeof(w));
	memset(&wk, 0, sizeof(wk));
	if (!dns_resolver_parse(&w.resolver, cfg_str(CFG_DNS_SERVERS)))
		msg_fatal("bad dns_servers: %s", cfg_str(CFG_DNS_SERVERS));
	/* each DNS try gets at most half the validation time */
	w.resolver.timeout = (int)(cfg_int(CFG_VALIDATION_TIMEOUT) + 1) / 2;
	w.resolver.attempts = 2;
	w.ca_loaded = ca_load(&w.ca, cfg_str(CFG_CA_DIR));
	/* Fault injection for the test suite: "ca", every signature fails;
	 * "request", every stored request is unreadable. */
	if ((fault = getenv("ACME_WORKER_FAULT")) != NULL) {
		w.fault_ca = strcmp(fault, "ca") == 0;
		w.fault_request = strcmp(fault, "request") == 0;
		msg_warn("ACME_WORKER_FAULT=%s: issuance will fail", fault);
	}
	if (!w.ca_loaded)
		msg_warn("cannot load the CA from %s: orders will wait",
		    cfg_str(CFG_CA_DIR));
	if (!db_connect(&w.db, cfg_str(CFG_DATABASE)) ||
	    !session_setup(&w.db))
		msg_fatal("cannot connect to the database");
	msg_info("worker started");
	/* at once: housekeeping, and every kind (work that waited) */
	hk_at = wk.full_at = mono_ms();
	wk.kinds = JOBS_ALL;
	while (!stop) {
		if (got_hup) {
			got_hup = 0;
			reload(&w, conf);
			/* perhaps another database, whose work was never
			 * announced to this session */
			wk.kinds = JOBS_ALL;
		}
		if (PQstatus(w.db.conn) != CONNECTION_OK) {
			if (!db_ensure(&w.db) || !session_setup(&w.db)) {
				sleep(1);
				continue;
			}
			/* what was announced meanwhile is lost */
			wk.kinds = JOBS_ALL;
		}
		if (mono_ms() >= hk_at) {
			(void)jobs_housekeeping(&w.db,
			    cfg_int(CFG_NONCE_LIFETIME));
			job_notify_daily(&w);
			hk_at = mono_ms() +
			    cfg_int(CFG_HOUSEKEEPING_INTERVAL) * 1000;
		}
		if (!run_jobs(&w, &wk))
			continue;
		if (once)
			break;
		if (!got_hup)
			wait_work(&w, &wk);
	}
	msg_info("worker stopping");
	db_close(&w.db);
	revocation_free();
	if (w.ca_loaded)
		ca_free(&w.ca);
	config_free();
	return 0;
}

/* A process of a pool (pool.c). */
static int
pool_proc_main(const char *conf, int fd)
{
	return worker_main(conf, fd, 0);
}

int
main(int argc, char *argv[])
{
	const char *conf = NULL;
	int ch, once = 0, rc;

	while ((ch = getopt(argc, argv, "c:1")) != -1) {
		switch (ch) {
		case 'c':
			conf = optarg;
			break;
		case '1':
			once = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("acme-worker", LOG_LVL_INFO);
	if (!config_load(conf))
		exit(1);
	if (!config_log_level("acme-worker"))
		exit(1);
	/* -1 runs one round in this process, whatever the pool's size */
	if (once || cfg_int(CFG_WORKER_PROCESSES) <= 1)
		return worker_main(conf, -1, once);
	rc = pool_main(conf, pool_proc_main);
	config_free();
	return rc;
}
