/*
 * ctl.h - acmectl's pieces: the command table (commands.c), the argument
 * parser (args.c), the printers (output.c) and the commands that are not
 * operations on the account model (setup.c).
 */
#ifndef ACME_CTL_H
#define ACME_CTL_H

#include <json-c/json.h>

#include "db.h"
#include "ops.h"
#include "util.h"

struct ctl {
	struct db	 db;
	int		 json;		/* --json: one JSON document */
	const char	*actor;		/* recorded in audit_log */
};

/* Kinds of command arguments; each has its checker in args.c. */
enum arg_type {
	ARG_END,	/* ends a command's argument list */
	ARG_TEXT,	/* printable UTF-8 text */
	ARG_ID,		/* a database id: positive integer */
	ARG_INT,	/* an integer (32 bits), may be negative */
	ARG_DAYS,	/* a number of days, 1 to 3650 */
	ARG_CREDIT,	/* an integer, zero or more */
	ARG_DATE,	/* YYYY-MM-DD */
	ARG_COUNTRY,	/* two letters, upper-cased */
	ARG_DOMAIN,	/* a dns name, lower-cased ("*." allowed) */
	ARG_DOMAINS,	/* repeatable ARG_DOMAIN, into a JSON array */
	ARG_KID,	/* an ACME account's kid (UUID), lower-cased */
	ARG_KEY_TYPE,	/* a CA key type (CA_KEY_TYPES in x509.h) */
	ARG_FLAG,	/* no value: "true", else "false" */
	ARG_VERB,	/* not typed: the command's verb (its action) */
	ARG_NEW_KID,	/* not typed: a fresh UUIDv4 */
	ARG_NEW_HMAC,	/* not typed: a fresh HMAC key (base64url) */
	ARG__MAX
};

#define ARGF_REQUIRED	0x1	/* must be given */
#define ARGF_ONE	0x2	/* exactly one of the ARGF_ONE options */
#define ARGF_EXCL	0x4	/* at most one of the ARGF_EXCL options */

struct arg {
	enum arg_type	 type;
	const char	*name;	/* "--org"; "ID" for a positional
				   argument; NULL for the values
				   acmectl makes */
	int		 slot;	/* the operation's parameter */
	int		 flags;
	const char	*def;	/* default when not given, or NULL */
};

/* How a result is shown without --json. */
enum view {
	VIEW_FIELDS,		/* "key: value" lines, lists as tables */
	VIEW_TABLE,		/* a list as a table */
	VIEW_CREDENTIAL,	/* the "kid:" and "hmac_key:" lines only */
	VIEW_NONE,		/* the command prints its own output */
	VIEW__MAX
};

struct command {
	const char	*group;
	const char	*verbs;		/* "validate|suspend|revoke" */
	int		 (*fn)(struct ctl *, const struct command *,
			    char **vals);
	enum op		 op;		/* for cmd_op */
	const struct arg *args;
	enum view	 view;
	const char	*synopsis;	/* the arguments, for usage */
};

extern const struct command commands[];
extern const size_t ncommands;

/* Runs the command's operation with vals and prints its result. Returns
 * 1, or 0 with a one-line message on stderr. */
int	 cmd_op(struct ctl *, const struct command *, char **vals);
/* setup.c: db migrate, ca init, config sample. */
int	 cmd_db_migrate(struct ctl *, const struct command *, char **vals);
int	 cmd_ca_init(struct ctl *, const struct command *, char **vals);
/* ca_ocsp.c: ca ocsp-signer [--renew]. */
int	 cmd_ca_ocsp_signer(struct ctl *, const struct command *,
	    char **vals);
int	 cmd_config_sample(struct ctl *, const struct command *,
	    char **vals);
/* operator.c: operator create, list, disable|enable, set-password,
 * set-cert (the back office's operators). */
int	 cmd_operator_create(struct ctl *, const struct command *,
	    char **vals);
int	 cmd_operator_list(struct ctl *, const struct command *, char **vals);
int	 cmd_operator_status(struct ctl *, const struct command *,
	    char **vals);
int	 cmd_operator_set_password(struct ctl *, const struct command *,
	    char **vals);
int	 cmd_operator_set_cert(struct ctl *, const struct command *,
	    char **vals);
/* notify.c: notify run-daily. */
int	 cmd_notify_run_daily(struct ctl *, const struct command *,
	    char **vals);

/* Returns 1 if verb is one of the command's verbs. */
int	 command_has_verb(const struct command *, const char *verb);
/* Prints the usage of one command and exits 2. */
void	 usage_command(const struct command *) ACME_NORETURN;

/*
 * Parses a command's arguments into vals[slot] (OPS_MAX_PARAMS entries,
 * each NULL or allocated; free with args_free). A malformed command line
 * (unknown or repeated option, missing value or required argument) prints
 * the command's usage and exits 2. Returns 1, or 0 when a value is bad
 * (a one-line message on stderr).
 */
int	 args_parse(const struct command *, const char *verb, int argc,
	    char **argv, char **vals);
/* Frees vals (wiping them: one may be an HMAC key). */
void	 args_free(char **vals);

/* Prints a result document: JSON with --json, else as view says. */
void	 output(const struct ctl *, json_object *, enum view);
/* Prints "acmectl: message" on stderr. */
void	 ctl_error(const char *, ...) ACME_PRINTF(1, 2);

#endif
