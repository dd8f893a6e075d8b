/*
 * config.c - the declarative configuration table and its loader.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

const struct cfg_def cfg_defs[CFG__MAX] = {
	[CFG_DATABASE] = { "database", CFG_T_STR, "dbname=acme", 0, 0,
	    "libpq connection string of the service database" },
	[CFG_BASE_URL] = { "base_url", CFG_T_STR, "https://localhost", 0, 0,
	    "public URL prefix of the service, without trailing slash; "
	    "request URLs are checked against it, never against Host" },
	[CFG_LISTEN] = { "listen", CFG_T_STR, "", 0, 0,
	    "acme-fcgi socket: a unix socket path, or host:port, or empty "
	    "to inherit the listening socket on fd 0" },
	[CFG_CHILDREN] = { "children", CFG_T_INT, "4", 0, 256,
	    "number of acme-fcgi children forked by the master; 0: no "
	    "master, the process serves requests itself (Apache mod_fcgid)" },
	[CFG_PREPARE_STATEMENTS] = { "prepare_statements", CFG_T_INT, "1", 0,
	    1, "1: each acme-fcgi child prepares its statements once per "
	    "database session; 0: unnamed statements, planned at every "
	    "request, for a PgBouncer older than 1.21 in transaction mode" },
	[CFG_LOG_LEVEL] = { "log_level", CFG_T_STR, "info", 0, 0,
	    "debug, info, warn or err" },
	[CFG_TERMS_OF_SERVICE] = { "terms_of_service", CFG_T_STR, "", 0, 0,
	    "URL published as meta.termsOfService (omitted if empty)" },
	[CFG_WEBSITE] = { "website", CFG_T_STR, "", 0, 0,
	    "URL published as meta.website (omitted if empty)" },
	[CFG_CAA_IDENTITIES] = { "caa_identities", CFG_T_STR, "certigna.com",
	    0, 0, "comma-separated CAA issuer domain names of this CA" },
	[CFG_NONCE_LIFETIME] = { "nonce_lifetime", CFG_T_INT, "3600", 10,
	    86400, "seconds a Replay-Nonce stays acceptable" },
	[CFG_ORDER_LIFETIME] = { "order_lifetime", CFG_T_INT, "604800", 60,
	    2592000, "seconds before a pending order and its authorizations expire" },
	[CFG_ORDERS_PAGE_SIZE] = { "orders_page_size", CFG_T_INT, "100", 1,
	    1000, "orders per page of an account's orders list (RFC 8555 "
	    "section 7.1.2.1, Link rel=\"next\")" },
	[CFG_DOCUMENTS_URL] = { "documents_url", CFG_T_STR, "", 0, 0,
	    "URL of the CA's page where customers provide their documents, "
	    "given as the instance of userActionRequired problems (omitted "
	    "if empty)" },
	[CFG_CA_DIR] = { "ca_dir", CFG_T_STR, "/var/lib/acme/ca", 0, 0,
	    "directory of the embedded CA (acmectl ca init); only the worker "
	    "reads its keys" },
	[CFG_CERT_VALIDITY_DAYS] = { "cert_validity_days", CFG_T_INT, "199",
	    1, 199, "validity of issued certificates in days (at most 199)" },
	[CFG_OCSP_URL] = { "ocsp_url", CFG_T_STR, "", 0, 0,
	    "OCSP responder URL put in the AIA extension (omitted if empty)" },
	[CFG_CA_ISSUERS_URL] = { "ca_issuers_url", CFG_T_STR, "", 0, 0,
	    "issuer certificate URL put in the AIA extension (omitted if "
	    "empty)" },
	[CFG_CRL_URL] = { "crl_url", CFG_T_STR, "", 0, 0,
	    "CRL distribution point URL (omitted if empty)" },
	[CFG_OCSP_VALIDITY] = { "ocsp_validity", CFG_T_INT, "345600", 28800,
	    864000, "seconds from thisUpdate to nextUpdate of the OCSP "
	    "responses the worker signs (8 hours to 10 days, as the Baseline "
	    "Requirements want); a new one is signed half-way" },
	[CFG_CRL_VALIDITY] = { "crl_validity", CFG_T_INT, "604800", 3600,
	    864000, "seconds from thisUpdate to nextUpdate of the CRLs the "
	    "worker signs; a new one is signed half-way, or at once after a "
	    "revocation" },
	[CFG_DNS_SERVERS] = { "dns_servers", CFG_T_STR, "", 0, 0,
	    "name servers of the worker's resolver as host:port, "
	    "comma-separated; empty: /etc/resolv.conf" },
	[CFG_HTTP01_PORT] = { "http01_port", CFG_T_INT, "80", 1, 65535,
	    "TCP port the worker connects to for http-01" },
	[CFG_VALIDATION_TIMEOUT] = { "validation_timeout", CFG_T_INT, "10",
	    1, 120, "seconds allowed for one challenge validation request" },
	/* --- validation safety (worker/http01.c): begin --- */
	[CFG_VALIDATION_ALLOW] = { "validation_allow", CFG_T_STR, "", 0, 0,
	    "address ranges (CIDR, comma-separated, e.g. 127.0.0.0/8,::1) "
	    "that http-01 may connect to although they are special-purpose "
	    "(private, loopback, link-local...); empty: none, as in "
	    "production" },
	[CFG_HTTP01_HTTPS_PORT] = { "http01_https_port", CFG_T_INT, "443", 1,
	    65535, "TCP port, besides 443, that an https redirect of http-01 "
	    "may name (tests only; 443 in production)" },
	/* --- validation safety: end --- */
	[CFG_POLL_INTERVAL] = { "poll_interval", CFG_T_INT, "5", 1, 3600,
	    "seconds between two rounds of every job query (NOTIFY wakes the worker sooner, for its kind of work)" },
	[CFG_WORKER_PROCESSES] = { "worker_processes", CFG_T_INT, "1", 1,
	    256, "acme-worker processes; above 1, a master holds the one "
	    "LISTEN session and wakes one idle process per notification" },
	[CFG_LEASE_SECONDS] = { "lease_seconds", CFG_T_INT, "120", 5, 86400,
	    "seconds a worker holds a job before another may take it over" },
	[CFG_RETRY_AFTER] = { "retry_after", CFG_T_INT, "1", 1, 3600,
	    "Retry-After seconds sent while an order or challenge is being "
	    "processed" },
	[CFG_VALIDATION_WAIT] = { "validation_wait", CFG_T_INT, "1000", 0,
	    30000, "milliseconds acme-fcgi holds a challenge's POST for the "
	    "worker's outcome, answered valid or invalid when it comes by "
	    "then (else processing, as with 0); each held request keeps a "
	    "child" },
	[CFG_ISSUANCE_WAIT] = { "issuance_wait", CFG_T_INT, "1000", 0, 30000,
	    "milliseconds acme-fcgi holds finalize for the certificate, "
	    "answered with the order valid when it comes by then (else "
	    "processing, as with 0); each held request keeps a child" },
	[CFG_HOUSEKEEPING_INTERVAL] = { "housekeeping_interval", CFG_T_INT,
	    "60", 1, 86400, "seconds between the worker's housekeeping runs "
	    "(expiring orders, authorizations and documents, purging used "
	    "nonces); a worker also runs it when it starts" },
	/* --- e-mail notifications (common/notify.c): begin --- */
	[CFG_SMTP_HOST] = { "smtp_host", CFG_T_STR, "", 0, 0,
	    "SMTP server (relay) the workers deliver e-mail to; empty: "
	    "messages wait in the outbox" },
	[CFG_SMTP_PORT] = { "smtp_port", CFG_T_INT, "25", 1, 65535,
	    "TCP port of the SMTP server (25, or 587 for submission)" },
	[CFG_SMTP_STARTTLS] = { "smtp_starttls", CFG_T_STR, "yes", 0, 0,
	    "yes: STARTTLS is required and the server's certificate is "
	    "checked; no: plain SMTP (then no AUTH)" },
	[CFG_SMTP_CA_FILE] = { "smtp_ca_file", CFG_T_STR, "", 0, 0,
	    "CA certificates (PEM) trusted for the SMTP server; empty: the "
	    "system's" },
	[CFG_SMTP_USER] = { "smtp_user", CFG_T_STR, "", 0, 0,
	    "user name for SMTP AUTH (PLAIN or LOGIN, over TLS only); "
	    "empty: no AUTH" },
	[CFG_SMTP_PASSWORD_FILE] = { "smtp_password_file", CFG_T_STR, "",
	    0, 0, "file whose first line is the SMTP AUTH password (read "
	    "at each delivery)" },
	[CFG_SMTP_FROM] = { "smtp_from", CFG_T_STR, "", 0, 0,
	    "From of the e-mail, \"address\" or \"Name <address>\"; the "
	    "address is also the envelope sender" },
	[CFG_SMTP_TIMEOUT] = { "smtp_timeout", CFG_T_INT, "30", 1, 600,
	    "seconds allowed for each exchange with the SMTP server" },
	[CFG_TEMPLATES_DIR] = { "templates_dir", CFG_T_STR,
	    "/usr/local/share/acme/templates", 0, 0,
	    "directory of the e-mail templates, LANGUAGE/KIND.txt (make "
	    "install puts the defaults there)" },
	[CFG_NOTIFY_HOUR] = { "notify_hour", CFG_T_INT, "6", -1, 23,
	    "UTC hour from which a worker makes the day's digests (once a "
	    "day among all workers); -1: workers never do (acmectl notify "
	    "run-daily does)" },
	[CFG_DOCUMENT_WARNING_DAYS] = { "document_warning_days", CFG_T_STR,
	    "30,7,1", 0, 0, "days before a document's expiry when its "
	    "organization's accounts are warned, comma-separated; empty: "
	    "never" },
	[CFG_CERTIFICATE_WARNING_DAYS] = { "certificate_warning_days",
	    CFG_T_STR, "30,7", 0, 0, "days before a certificate's expiry "
	    "when its account is warned unless it was renewed, "
	    "comma-separated; empty: never" },
	[CFG_MISSING_DOCUMENTS_DAYS] = { "missing_documents_days", CFG_T_INT,
	    "7", 1, 365, "days between two reminders of the documents an "
	    "account still needs" },
	[CFG_NOTIFY_RETRY_MIN] = { "notify_retry_min", CFG_T_INT, "60", 1,
	    86400, "seconds before the first retry of a message the SMTP "
	    "server did not take; doubled at each attempt" },
	[CFG_NOTIFY_RETRY_MAX] = { "notify_retry_max", CFG_T_INT, "21600", 1,
	    604800, "most seconds between two attempts of a message" },
	[CFG_NOTIFY_MAX_ATTEMPTS] = { "notify_max_attempts", CFG_T_INT, "20",
	    1, 1000, "attempts before a message is marked failed (acmectl "
	    "outbox resend tries it again)" },
	/* --- e-mail notifications: end --- */
	/* --- the web site (web/, acme-web): begin --- */
	[CFG_WEB_LISTEN] = { "web_listen", CFG_T_STR, "", 0, 0,
	    "acme-web socket: a unix socket path, or host:port, or empty to "
	    "inherit the listening socket on fd 0" },
	[CFG_WEB_CHILDREN] = { "web_children", CFG_T_INT, "4", 0, 256,
	    "number of acme-web children forked by its master; 0: no "
	    "master, the process serves requests itself" },
	[CFG_WEB_BASE_URL] = { "web_base_url", CFG_T_STR,
	    "https://localhost", 0, 0, "public URL of the customers' web "
	    "site (portal), without trailing slash, for the links of its "
	    "e-mails" },
	[CFG_WEB_SCRYPT_LOG_N] = { "web_scrypt_log_n", CFG_T_INT, "15", 10,
	    20, "scrypt cost of new password hashes: N = 2^value (r = 8, "
	    "p = 1); hashes keep the cost they were made with" },
	[CFG_WEB_UPLOAD_MAX] = { "web_upload_max", CFG_T_INT, "5242880",
	    1024, 104857600, "largest document file (bytes) a customer may "
	    "upload; a request body may exceed it by 64 KiB of form" },
	[CFG_WEB_SESSION_LIFETIME] = { "web_session_lifetime", CFG_T_INT,
	    "28800", 300, 2592000, "seconds a web session lasts at most "
	    "after sign-in" },
	[CFG_WEB_SESSION_IDLE] = { "web_session_idle", CFG_T_INT, "3600",
	    60, 2592000, "seconds without a request after which a web "
	    "session ends" },
	[CFG_WEB_LOGIN_MAX_FAILURES] = { "web_login_max_failures", CFG_T_INT,
	    "5", 1, 1000, "failed sign-ins allowed per e-mail address in 15 "
	    "minutes (4 times as many per client address) before sign-in "
	    "is refused for a while" },
	[CFG_WEB_SIGNUP_MAX_PER_HOUR] = { "web_signup_max_per_hour",
	    CFG_T_INT, "5", 1, 1000, "sign-ups (new organizations) allowed "
	    "per client address (IPv6: its /64) in an hour; more are refused "
	    "(429)" },
	/* --- the web site: end --- */
};

static char *cfg_val[CFG__MAX];
static long cfg_num[CFG__MAX];

int
config_set(enum cfg_key k, const char *value)
{
	const struct cfg_def *d = &cfg_defs[k];
	char *end;
	long n;

	if (d->type == CFG_T_INT) {
		errno = 0;
		n = strtol(value, &end, 10);
		if (errno != 0 || end == value || *end != '\0') {
			msg_err("config: %s: not an integer: %s", d->name,
			    value);
			return 0;
		}
		if (n < d->min || n > d->max) {
			msg_err("config: %s: %ld out of range [%ld, %ld]",
			    d->name, n, d->min, d->max);
			return 0;
		}
		cfg_num[k] = n;
	}
	free(cfg_val[k]);
	cfg_val[k] = xstrdup(value);
	return 1;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
config_load(const char *path)
{
	FILE *f = NULL;
	char line[4096], *key, *val, *eq;
	int lineno = 0, rc = 0;
	size_t i;

	for (i = 0; i < CFG__MAX; i++)
		if (!config_set((enum cfg_key)i, cfg_defs[i].def))
			msg_fatal("config: bad default for %s",
			    cfg_defs[i].name);
	if (path == NULL)
		return 1;
	if ((f = fopen(path, "r")) == NULL) {
		msg_err("config: %s: %s", path, strerror(errno));
		goto out;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			msg_err("%s:%d: line too long", path, lineno);
			goto out;
		}
		key = trim(line);
		if (*key == '#' || *key == '\0')
			continue;
		if ((eq = strchr(key, '=')) == NULL) {
			msg_err("%s:%d: expected key = value", path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		val = trim(eq + 1);
		for (i = 0; i < CFG__MAX; i++)
			if (strcmp(cfg_defs[i].name, key) == 0)
				break;
		if (i == CFG__MAX) {
			msg_err("%s:%d: unknown key %s", path, lineno, key);
			goto out;
		}
		if (!config_set((enum cfg_key)i, val)) {
			msg_err("%s:%d: bad value for %s", path, lineno, key);
			goto out;
		}
	}
	rc = 1;
out:
	if (f != NULL)
		fclose(f);
	return rc;
}

const char *
cfg_str(enum cfg_key k)
{
	return cfg_val[k] != NULL ? cfg_val[k] : "";
}

int
config_reload(const char *path)
{
	char *saved[CFG__MAX];
	size_t i;
	int rc;

	for (i = 0; i < CFG__MAX; i++)
		saved[i] = xstrdup(cfg_str((enum cfg_key)i));
	rc = config_load(path);
	if (!rc)
		for (i = 0; i < CFG__MAX; i++)
			(void)config_set((enum cfg_key)i, saved[i]);
	for (i = 0; i < CFG__MAX; i++)
		free(saved[i]);
	return rc;
}

long
cfg_int(enum cfg_key k)
{
	return cfg_num[k];
}

void
config_free(void)
{
	size_t i;

	for (i = 0; i < CFG__MAX; i++) {
		free(cfg_val[i]);
		cfg_val[i] = NULL;
	}
}

int
config_log_level(const char *prog)
{
	enum log_level lvl;

	if (!log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl)) {
		msg_err("bad log_level %s", cfg_str(CFG_LOG_LEVEL));
		return 0;
	}
	log_init(prog, lvl);
	return 1;
}
