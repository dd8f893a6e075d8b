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
	[CFG_CHILDREN] = { "children", CFG_T_INT, "4", 1, 256,
	    "number of acme-fcgi children forked by the master" },
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
	[CFG_POLL_INTERVAL] = { "poll_interval", CFG_T_INT, "5", 1, 3600,
	    "seconds between the worker's polls when no NOTIFY arrives" },
	[CFG_LEASE_SECONDS] = { "lease_seconds", CFG_T_INT, "120", 5, 86400,
	    "seconds a worker holds a job before another may take it over" },
	[CFG_RETRY_AFTER] = { "retry_after", CFG_T_INT, "1", 1, 3600,
	    "Retry-After seconds sent while an order or challenge is being "
	    "processed" },
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
