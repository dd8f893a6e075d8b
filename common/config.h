/*
 * config.h - the one configuration file of all the programs:
 * "key = value" lines, '#' comments, loaded through one declarative table.
 */
#ifndef ACME_CONFIG_H
#define ACME_CONFIG_H

enum cfg_key {
	CFG_DATABASE,
	CFG_BASE_URL,
	CFG_LISTEN,
	CFG_CHILDREN,
	CFG_PREPARE_STATEMENTS,
	CFG_LOG_LEVEL,
	CFG_TERMS_OF_SERVICE,
	CFG_WEBSITE,
	CFG_CAA_IDENTITIES,
	CFG_NONCE_LIFETIME,
	CFG_ORDER_LIFETIME,
	CFG_ORDERS_PAGE_SIZE,
	CFG_DOCUMENTS_URL,
	CFG_CA_DIR,
	CFG_CERT_VALIDITY_DAYS,
	CFG_OCSP_URL,
	CFG_CA_ISSUERS_URL,
	CFG_CRL_URL,
	CFG_OCSP_VALIDITY,
	CFG_CRL_VALIDITY,
	CFG_DNS_SERVERS,
	CFG_HTTP01_PORT,
	CFG_VALIDATION_TIMEOUT,
	/* validation safety (worker/http01.c) */
	CFG_VALIDATION_ALLOW,
	CFG_HTTP01_HTTPS_PORT,
	CFG_POLL_INTERVAL,
	CFG_WORKER_PROCESSES,
	CFG_LEASE_SECONDS,
	CFG_RETRY_AFTER,
	CFG_VALIDATION_WAIT,
	CFG_ISSUANCE_WAIT,
	CFG_HOUSEKEEPING_INTERVAL,
	/* e-mail notifications (common/notify.c, worker/notify.c) */
	CFG_SMTP_HOST,
	CFG_SMTP_PORT,
	CFG_SMTP_STARTTLS,
	CFG_SMTP_CA_FILE,
	CFG_SMTP_USER,
	CFG_SMTP_PASSWORD_FILE,
	CFG_SMTP_FROM,
	CFG_SMTP_TIMEOUT,
	CFG_TEMPLATES_DIR,
	CFG_NOTIFY_HOUR,
	CFG_DOCUMENT_WARNING_DAYS,
	CFG_CERTIFICATE_WARNING_DAYS,
	CFG_MISSING_DOCUMENTS_DAYS,
	CFG_NOTIFY_RETRY_MIN,
	CFG_NOTIFY_RETRY_MAX,
	CFG_NOTIFY_MAX_ATTEMPTS,
	/* the web site (web/, acme-web) */
	CFG_WEB_LISTEN,
	CFG_WEB_CHILDREN,
	CFG_WEB_BASE_URL,
	CFG_WEB_SCRYPT_LOG_N,
	CFG_WEB_UPLOAD_MAX,
	CFG_WEB_SESSION_LIFETIME,
	CFG_WEB_SESSION_IDLE,
	CFG_WEB_LOGIN_MAX_FAILURES,
	CFG_WEB_SIGNUP_MAX_PER_HOUR,
	CFG__MAX
};

enum cfg_type {
	CFG_T_STR,
	CFG_T_INT,
	CFG__TMAX
};

struct cfg_def {
	const char	*name;
	enum cfg_type	 type;
	const char	*def;		/* default, as text */
	long		 min, max;	/* bounds for integers */
	const char	*doc;		/* one line, for the sample and README */
};

extern const struct cfg_def cfg_defs[CFG__MAX];

/* Loads defaults, then the file (NULL: defaults only). Unknown keys, bad
 * integers and out-of-bounds values are errors. Returns 1 or 0 (logged). */
int	 config_load(const char *path);
/* Sets one key from text (command-line overrides); returns 1 or 0. */
int	 config_set(enum cfg_key, const char *value);
const char *cfg_str(enum cfg_key);	/* never NULL, may be "" */
long	 cfg_int(enum cfg_key);
void	 config_free(void);
/* Loads the file again (SIGHUP); on failure (logged) every value is put
 * back as it was. Returns 1 or 0. */
int	 config_reload(const char *path);
/* Logs as prog at the log_level of the configuration; returns 1, or 0
 * (logged) when the level is not one. */
int	 config_log_level(const char *prog);

#endif
