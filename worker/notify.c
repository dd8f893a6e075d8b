/*
 * notify.c - the e-mail jobs. The daily digests: at the housekeeping
 * spot, a worker tries to start the day's run, which the database elects
 * once per UTC date among all workers (common/notify.c). The delivery:
 * one message of the outbox per call, claimed with FOR UPDATE SKIP
 * LOCKED under a lease, sent over SMTP (common/smtp.c), its outcome
 * recorded by compare and set on the attempt it was claimed for.
 *
 * Nothing here may hold up issuance: the delivery job runs after the
 * validation and issuance jobs of each round, never reports a database
 * error to the loop (it logs it and tries again on a later round), and
 * stops trying for notify_retry_min seconds when the SMTP server cannot
 * be reached, so that a dead server costs one timeout, not one per
 * message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "acme-worker.h"
#include "config.h"
#include "notify.h"
#include "smtp.h"
#include "util.h"

#define PASSWORD_MAX	1024

static struct {
	time_t	 paused_until;	/* no delivery before: server unreachable */
	int	 disabled_told;	/* smtp_host is empty, said once */
	int	 from_told;	/* smtp_from is unusable, said once */
	int	 starttls_told;	/* smtp_starttls is neither yes nor no */
} nt;

/* Returns 1 if the configuration lets this worker deliver; says once
 * why it does not. Messages wait meanwhile, their attempts untouched. */
static int
delivery_configured(void)
{
	char *addr = NULL, *display = NULL;
	int ok;

	if (cfg_str(CFG_SMTP_HOST)[0] == '\0') {
		if (!nt.disabled_told)
			msg_warn("notifications: smtp_host is empty: e-mail "
			    "waits in the outbox");
		nt.disabled_told = 1;
		return 0;
	}
	ok = smtp_from_parse(cfg_str(CFG_SMTP_FROM), &addr, &display);
	if (!ok && !nt.from_told)
		msg_err("notifications: smtp_from \"%s\" is not an address "
		    "(\"address\" or \"Name <address>\"): e-mail waits in the "
		    "outbox", cfg_str(CFG_SMTP_FROM));
	nt.from_told = !ok;
	free(addr);
	free(display);
	return ok;
}

void
job_notify_daily(struct worker *w)
{
	struct notify_run run;

	if (cfg_int(CFG_NOTIFY_HOUR) < 0)
		return;
	switch (notify_run_digests(&w->db, "daily", "acme-worker", &run)) {
	case 1:
		msg_info("notifications: digests of %s: %ld messages queued",
		    run.period, run.messages);
		break;
	case 0:
		msg_warn("notifications: the daily digests failed; they are "
		    "tried again at the next housekeeping");
		break;
	default:
		break;
	}
	notify_run_free(&run);
}

/* Returns the seconds to wait before attempt attempts + 1: the minimum
 * doubled at each attempt, at most the maximum. */
static long
backoff(int attempts)
{
	long d = cfg_int(CFG_NOTIFY_RETRY_MIN), max = cfg_int(CFG_NOTIFY_RETRY_MAX);
	int i;

	for (i = 1; i < attempts && d < max; i++)
		d *= 2;
	return d < max ? d : max;
}

/* Returns the first line of the password file (caller wipes and frees),
 * or NULL with err set. */
static char *
password_read(const char *path, struct smtp_error *err)
{
	FILE *f;
	char *buf = xmalloc(PASSWORD_MAX + 1);

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err->text, sizeof(err->text), "smtp_password_file "
		    "%s: %s", path, strerror(errno));
		free(buf);
		return NULL;
	}
	if (fgets(buf, PASSWORD_MAX + 1, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf;
}

/* Sends m; returns 1, or 0 with err set. */
static int
deliver(const struct outbox_msg *m, struct smtp_error *err)
{
	struct smtp_server srv;
	const char *tls = cfg_str(CFG_SMTP_STARTTLS);
	char *addr = NULL, *display = NULL, *text = NULL, *password = NULL;
	char host[256];
	int rc = 0;

	memset(err, 0, sizeof(*err));
	memset(&srv, 0, sizeof(srv));
	if (!smtp_from_parse(cfg_str(CFG_SMTP_FROM), &addr, &display)) {
		err->transport = 1;
		snprintf(err->text, sizeof(err->text), "smtp_from \"%s\" is "
		    "not an address", cfg_str(CFG_SMTP_FROM));
		goto out;
	}
	if ((text = smtp_message(cfg_str(CFG_SMTP_FROM), m->recipient,
	    m->subject, m->body, (time_t)m->created, m->token)) == NULL) {
		err->permanent = 1;
		snprintf(err->text, sizeof(err->text), "the recipient address "
		    "is not usable");
		goto out;
	}
	if (cfg_str(CFG_SMTP_PASSWORD_FILE)[0] != '\0' &&
	    (password = password_read(cfg_str(CFG_SMTP_PASSWORD_FILE),
	    err)) == NULL) {
		err->transport = 1;
		goto out;
	}
	if (strcmp(tls, "yes") != 0 && strcmp(tls, "no") != 0 &&
	    !nt.starttls_told) {
		msg_warn("smtp_starttls = %s: neither yes nor no, taken as "
		    "yes", tls);
		nt.starttls_told = 1;
	}
	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	srv.host = cfg_str(CFG_SMTP_HOST);
	srv.port = (int)cfg_int(CFG_SMTP_PORT);
	srv.starttls = strcmp(tls, "no") != 0;
	srv.ca_file = cfg_str(CFG_SMTP_CA_FILE);
	srv.user = cfg_str(CFG_SMTP_USER);
	srv.password = password;
	srv.helo = host;
	srv.timeout = (int)cfg_int(CFG_SMTP_TIMEOUT);
	/* done well before the lease ends: no other worker takes the
	 * message over while this one may still be sending it */
	srv.deadline = time(NULL) + cfg_int(CFG_LEASE_SECONDS) / 2;
	rc = smtp_send(&srv, addr, m->recipient, text, err);
out:
	if (password != NULL) {
		OPENSSL_cleanse(password, strlen(password));
		free(password);
	}
	free(addr);
	free(display);
	free(text);
	return rc;
}

int
job_notify(struct worker *w)
{
	struct outbox_msg m;
	struct smtp_error err;
	long retry;
	int sent;

	if (time(NULL) < nt.paused_until || !delivery_configured())
		return 0;
	switch (notify_claim(&w->db, cfg_int(CFG_LEASE_SECONDS), &m)) {
	case 1:
		break;
	case 0:
		return 0;
	default:
		msg_warn("notifications: cannot claim a message; trying "
		    "again later");
		return 0;
	}
	sent = deliver(&m, &err);
	/*
	 * The server has the message once it answered 250 to the data. A
	 * crash (or a lost database) before the update below leaves the
	 * message pending under its lease, and the worker that takes it
	 * over once the lease is past sends it a second time. That one
	 * duplicate is accepted, with the same Message-ID so that mail
	 * readers can tell; nothing else comes between the 250 and this
	 * update to keep the window small.
	 */
	if (sent) {
		if (notify_finish(&w->db, &m, NULL, 0) < 0)
			msg_err("notifications: message %ld sent to %s but not "
			    "recorded: it may be sent again", m.id,
			    m.recipient);
		else
			msg_info("notifications: message %ld (%s) sent to %s",
			    m.id, m.kind, m.recipient);
		outbox_msg_free(&m);
		return 1;
	}
	if (err.permanent ||
	    m.attempts >= (int)cfg_int(CFG_NOTIFY_MAX_ATTEMPTS))
		retry = -1;
	else
		retry = backoff(m.attempts);
	if (err.transport)
		nt.paused_until = time(NULL) + cfg_int(CFG_NOTIFY_RETRY_MIN);
	if (retry < 0)
		msg_warn("notifications: message %ld to %s failed for good "
		    "(attempt %d): %s", m.id, m.recipient, m.attempts,
		    err.text);
	else
		msg_warn("notifications: message %ld to %s not sent (attempt "
		    "%d, next in %ld s): %s", m.id, m.recipient, m.attempts,
		    retry, err.text);
	if (notify_finish(&w->db, &m, err.text, retry) < 0)
		msg_warn("notifications: cannot record the failure of message "
		    "%ld: it is tried again when its lease ends", m.id);
	outbox_msg_free(&m);
	return 1;
}
