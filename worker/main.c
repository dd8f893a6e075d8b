/*
 * main.c - acme-worker: waits for NOTIFY acme_work (polling as a
 * fallback) and runs jobs until none is left. Any number of workers may
 * run against one database.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "acme-worker.h"
#include "config.h"
#include "jobs.h"
#include "util.h"


static volatile sig_atomic_t stop;
static volatile sig_atomic_t got_hup;

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
	enum log_level lvl;
	struct db db;
	struct ca ca;

	if (!config_reload(conf)) {
		msg_err("reload: keeping the previous configuration");
		goto out;
	}
	if (log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl))
		log_init("acme-worker", lvl);
	else
		msg_err("reload: bad log_level %s", cfg_str(CFG_LOG_LEVEL));
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
		    jobs_listen(&db)) {
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

/* Drains the notifications libpq has read; returns how many there were. */
static int
drain_notifies(struct worker *w)
{
	PGnotify *n;
	int count = 0;

	(void)PQconsumeInput(w->db.conn);
	while ((n = PQnotifies(w->db.conn)) != NULL) {
		PQfreemem(n);
		count++;
	}
	return count;
}

/*
 * Waits for a notification or the poll interval; drains notifications.
 * A notification that came with the result of a job's query is already
 * in libpq's queue, not on the socket: it is work (perhaps a job the
 * loop's last claims missed), so there is no waiting then.
 */
static void
wait_work(struct worker *w)
{
	struct pollfd pfd;

	if (drain_notifies(w) > 0)
		return;
	pfd.fd = PQsocket(w->db.conn);
	pfd.events = POLLIN;
	if (pfd.fd >= 0 &&
	    poll(&pfd, 1, (int)cfg_int(CFG_POLL_INTERVAL) * 1000) > 0)
		(void)drain_notifies(w);
}

/* Runs jobs until none is left; returns 0 on a database error. */
static int
run_jobs(struct worker *w)
{
	int a, b, c, d, e;

	do {
		if (stop || got_hup)	/* a reload waits for the job */
			return 1;
		a = job_challenge(w);
		if (stop)
			return 1;
		b = job_issue(w);
		/* revocation status (revocation.c) */
		c = stop ? 0 : job_ocsp(w);
		d = stop ? 0 : job_crl(w);
		/* e-mail last: its failures stay its own (notify.c) */
		e = stop ? 0 : job_notify(w);
		if (a < 0 || b < 0 || c < 0 || d < 0)
			return 0;
	} while (a > 0 || b > 0 || c > 0 || d > 0 || e > 0);
	return 1;
}

int
main(int argc, char *argv[])
{
	struct worker w;
	struct sigaction sa;
	const char *conf = NULL, *fault;
	enum log_level lvl;
	time_t last_hk = 0;
	int ch, once = 0;

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
	if (!log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl))
		msg_fatal("bad log_level %s", cfg_str(CFG_LOG_LEVEL));
	log_init("acme-worker", lvl);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	memset(&w, 0, sizeof(w));
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
	if (!db_connect(&w.db, cfg_str(CFG_DATABASE)) || !jobs_listen(&w.db))
		msg_fatal("cannot connect to the database");
	msg_info("worker started");
	while (!stop) {
		if (got_hup) {
			got_hup = 0;
			reload(&w, conf);
		}
		if (PQstatus(w.db.conn) != CONNECTION_OK &&
		    (!db_ensure(&w.db) || !jobs_listen(&w.db))) {
			sleep(1);
			continue;
		}
		if (time(NULL) - last_hk >= cfg_int(CFG_HOUSEKEEPING_INTERVAL)) {
			(void)jobs_housekeeping(&w.db,
			    cfg_int(CFG_NONCE_LIFETIME));
			job_notify_daily(&w);
			last_hk = time(NULL);
		}
		if (!run_jobs(&w))
			continue;
		if (once)
			break;
		if (!got_hup)
			wait_work(&w);
	}
	msg_info("worker stopping");
	db_close(&w.db);
	revocation_free();
	if (w.ca_loaded)
		ca_free(&w.ca);
	config_free();
	return 0;
}
