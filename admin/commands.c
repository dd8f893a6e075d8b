/*
 * commands.c - the table of acmectl's commands: for each, its verbs, its
 * arguments (each to a parameter slot of its operation in common/ops.c)
 * and how its result is shown.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

static const struct arg no_args[] = {
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg ca_init_args[] = {
	{ ARG_TEXT, "--name", 0, 0, "ACME Demo" },
	{ ARG_KEY_TYPE, "--key-type", 1, 0, "rsa3072" },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* --- revocation status (admin/ca_ocsp.c): begin --- */
static const struct arg ca_ocsp_signer_args[] = {
	{ ARG_FLAG, "--renew", 0, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};
/* --- revocation status: end --- */

/* organization */

static const struct arg org_create_args[] = {
	{ ARG_TEXT, "--name", 0, ARGF_REQUIRED, NULL },
	{ ARG_COUNTRY, "--country", 1, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--locality", 2, 0, NULL },
	{ ARG_TEXT, "--state", 3, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg id_args[] = {
	{ ARG_ID, "ID", 0, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg id_verb_args[] = {
	{ ARG_ID, "ID", 0, ARGF_REQUIRED, NULL },
	{ ARG_VERB, NULL, 1, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* document */

static const struct arg doc_add_args[] = {
	{ ARG_ID, "--org", 0, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--kind", 1, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--reference", 2, 0, NULL },
	{ ARG_DOMAIN, "--domain", 3, 0, NULL },
	{ ARG_DATE, "--expires", 4, ARGF_EXCL, NULL },
	{ ARG_DAYS, "--days", 5, ARGF_EXCL, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg doc_validate_args[] = {
	{ ARG_ID, "ID", 0, ARGF_REQUIRED, NULL },
	{ ARG_DATE, "--expires", 1, ARGF_ONE, NULL },
	{ ARG_DAYS, "--days", 2, ARGF_ONE, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg org_required_args[] = {
	{ ARG_ID, "--org", 0, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* external account */

static const struct arg xa_create_args[] = {
	{ ARG_ID, "--org", 0, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--email", 1, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--language", 2, 0, "en" },
	{ ARG_DATE, "--expires", 3, ARGF_EXCL, NULL },
	{ ARG_DAYS, "--days", 4, ARGF_EXCL, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg org_optional_args[] = {
	{ ARG_ID, "--org", 0, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* ACME account */

static const struct arg acme_create_args[] = {
	{ ARG_NEW_KID, NULL, 0, 0, NULL },
	{ ARG_NEW_HMAC, NULL, 1, 0, NULL },
	{ ARG_ID, "--external-account", 2, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--profile", 3, 0, "OV" },
	{ ARG_DAYS, "--days", 4, 0, NULL },
	{ ARG_DAYS, "--key-days", 5, 0, NULL },
	{ ARG_DOMAINS, "--domain", 6, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg kid_args[] = {
	{ ARG_KID, "KID", 0, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg kid_verb_args[] = {
	{ ARG_KID, "KID", 0, ARGF_REQUIRED, NULL },
	{ ARG_VERB, NULL, 1, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg acme_regenerate_args[] = {
	{ ARG_KID, "KID", 0, ARGF_REQUIRED, NULL },
	{ ARG_NEW_HMAC, NULL, 1, 0, NULL },
	{ ARG_DAYS, "--days", 2, 0, NULL },
	{ ARG_DAYS, "--key-days", 3, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg acme_list_args[] = {
	{ ARG_ID, "--external-account", 0, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* domain */

static const struct arg domain_add_args[] = {
	{ ARG_KID, "--acme-account", 0, ARGF_REQUIRED, NULL },
	{ ARG_DOMAIN, "--name", 1, ARGF_REQUIRED, NULL },
	{ ARG_ID, "--org", 2, 0, NULL },
	{ ARG_FLAG, "--validated", 3, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg domain_status_args[] = {
	{ ARG_ID, "--org", 0, ARGF_REQUIRED, NULL },
	{ ARG_DOMAIN, "NAME", 1, ARGF_REQUIRED, NULL },
	{ ARG_VERB, NULL, 2, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg domain_remove_args[] = {
	{ ARG_KID, "--acme-account", 0, ARGF_REQUIRED, NULL },
	{ ARG_DOMAIN, "--name", 1, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg domain_list_args[] = {
	{ ARG_KID, "--acme-account", 0, ARGF_ONE, NULL },
	{ ARG_ID, "--org", 1, ARGF_ONE, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* credit */

static const struct arg credit_add_args[] = {
	{ ARG_ID, "--org", 0, ARGF_REQUIRED, NULL },
	{ ARG_INT, "--amount", 1, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--reason", 2, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* certificate */

static const struct arg cert_list_args[] = {
	{ ARG_ID, "--org", 0, ARGF_EXCL, NULL },
	{ ARG_KID, "--acme-account", 1, ARGF_EXCL, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg cert_show_args[] = {
	{ ARG_TEXT, "ID|SERIAL", 0, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg cert_revoke_args[] = {
	{ ARG_TEXT, "ID|SERIAL", 0, ARGF_REQUIRED, NULL },
	{ ARG_INT, "--reason", 1, 0, "0" },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* eab */

static const struct arg eab_create_args[] = {
	{ ARG_NEW_KID, NULL, 0, 0, NULL },
	{ ARG_NEW_HMAC, NULL, 1, 0, NULL },
	{ ARG_TEXT, "--org", 2, 0, "Demo Organization" },
	{ ARG_COUNTRY, "--country", 3, 0, "FR" },
	{ ARG_TEXT, "--locality", 4, 0, "Paris" },
	{ ARG_TEXT, "--state", 5, 0, "Ile-de-France" },
	{ ARG_DOMAINS, "--domain", 6, 0, NULL },
	{ ARG_CREDIT, "--credit", 7, 0, "1000" },
	{ ARG_TEXT, "--profile", 8, 0, "OV" },
	{ ARG_END, NULL, 0, 0, NULL },
};

/* --- back office operators (admin/operator.c): begin --- */
static const struct arg operator_create_args[] = {
	{ ARG_TEXT, "NAME", 0, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--email", 1, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--cert", 2, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--password-file", 3, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg operator_verb_args[] = {
	{ ARG_TEXT, "NAME", 0, ARGF_REQUIRED, NULL },
	{ ARG_VERB, NULL, 1, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg operator_password_args[] = {
	{ ARG_TEXT, "NAME", 0, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--password-file", 1, 0, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};

static const struct arg operator_cert_args[] = {
	{ ARG_TEXT, "NAME", 0, ARGF_REQUIRED, NULL },
	{ ARG_TEXT, "--cert", 1, ARGF_REQUIRED, NULL },
	{ ARG_END, NULL, 0, 0, NULL },
};
/* --- back office operators: end --- */

/* --- e-mail notifications (admin/notify.c): begin --- */
static const struct arg outbox_list_args[] = {
	{ ARG_FLAG, "--pending", 0, ARGF_EXCL, NULL },
	{ ARG_FLAG, "--sent", 1, ARGF_EXCL, NULL },
	{ ARG_FLAG, "--failed", 2, ARGF_EXCL, NULL },
	{ ARG_TEXT, "--kind", 3, 0, NULL },
	{ ARG_INT, "--limit", 4, 0, "100" },
	{ ARG_END, NULL, 0, 0, NULL },
};
/* --- e-mail notifications: end --- */

const struct command commands[] = {
	{ "db", "migrate", cmd_db_migrate, OP__MAX, no_args, VIEW_NONE, "" },
	{ "ca", "init", cmd_ca_init, OP__MAX, ca_init_args, VIEW_NONE,
	    "[--name NAME] [--key-type rsa2048|rsa3072|rsa4096|ec-p256|"
	    "ec-p384]" },
	/* --- revocation status (admin/ca_ocsp.c): begin --- */
	{ "ca", "ocsp-signer", cmd_ca_ocsp_signer, OP__MAX,
	    ca_ocsp_signer_args, VIEW_NONE, "[--renew]" },
	/* --- revocation status: end --- */
	{ "config", "sample", cmd_config_sample, OP__MAX, no_args, VIEW_NONE,
	    "" },

	{ "organization", "create", cmd_op, OP_ORGANIZATION_CREATE,
	    org_create_args, VIEW_FIELDS,
	    "--name N --country CC [--locality L] [--state S]" },
	{ "organization", "list", cmd_op, OP_ORGANIZATION_LIST, no_args,
	    VIEW_TABLE, "" },
	{ "organization", "show", cmd_op, OP_ORGANIZATION_SHOW, id_args,
	    VIEW_FIELDS, "ID" },
	{ "organization", "validate|suspend|revoke|expire|reinstate", cmd_op,
	    OP_ORGANIZATION_SET_STATUS, id_verb_args, VIEW_FIELDS, "ID" },

	{ "document", "add", cmd_op, OP_DOCUMENT_ADD, doc_add_args,
	    VIEW_FIELDS, "--org ID --kind ORGANIZATION_PROOF|REQUEST_FORM|"
	    "MANAGER_AUTHORIZATION|DOMAIN_AUTHORIZATION [--reference TEXT] "
	    "[--domain NAME] [--expires YYYY-MM-DD | --days N]" },
	{ "document", "validate", cmd_op, OP_DOCUMENT_VALIDATE,
	    doc_validate_args, VIEW_FIELDS,
	    "ID --expires YYYY-MM-DD | --days N" },
	{ "document", "reject|expire", cmd_op, OP_DOCUMENT_SET_STATUS,
	    id_verb_args, VIEW_FIELDS, "ID" },
	{ "document", "list", cmd_op, OP_DOCUMENT_LIST, org_required_args,
	    VIEW_TABLE, "--org ID" },

	{ "external-account", "create", cmd_op, OP_EXTERNAL_ACCOUNT_CREATE,
	    xa_create_args, VIEW_FIELDS, "--org ID --email E "
	    "[--language en|fr] [--expires YYYY-MM-DD | --days N]" },
	{ "external-account", "activate|suspend|reactivate|revoke|deactivate",
	    cmd_op, OP_EXTERNAL_ACCOUNT_SET_STATUS, id_verb_args, VIEW_FIELDS,
	    "ID" },
	{ "external-account", "list", cmd_op, OP_EXTERNAL_ACCOUNT_LIST,
	    org_optional_args, VIEW_TABLE, "[--org ID]" },
	{ "external-account", "show", cmd_op, OP_EXTERNAL_ACCOUNT_SHOW,
	    id_args, VIEW_FIELDS, "ID" },

	{ "acme-account", "create", cmd_op, OP_ACME_ACCOUNT_CREATE,
	    acme_create_args, VIEW_FIELDS, "--external-account ID "
	    "[--profile OV|OV_WILDCARD|RGS] [--days N] [--key-days N] "
	    "[--domain NAME ...]" },
	{ "acme-account", "activate|suspend|reactivate|revoke|deactivate",
	    cmd_op, OP_ACME_ACCOUNT_SET_STATUS, kid_verb_args, VIEW_FIELDS,
	    "KID" },
	{ "acme-account", "regenerate-key", cmd_op,
	    OP_ACME_ACCOUNT_REGENERATE_KEY, acme_regenerate_args, VIEW_FIELDS,
	    "KID [--days N] [--key-days N]" },
	{ "acme-account", "show", cmd_op, OP_ACME_ACCOUNT_SHOW, kid_args,
	    VIEW_FIELDS, "KID" },
	{ "acme-account", "list", cmd_op, OP_ACME_ACCOUNT_LIST,
	    acme_list_args, VIEW_TABLE, "[--external-account ID]" },

	{ "domain", "add", cmd_op, OP_DOMAIN_ADD, domain_add_args,
	    VIEW_FIELDS, "--acme-account KID --name NAME [--org ID] "
	    "[--validated]" },
	{ "domain", "validate|revoke", cmd_op, OP_DOMAIN_SET_STATUS,
	    domain_status_args, VIEW_FIELDS, "--org ID NAME" },
	{ "domain", "remove", cmd_op, OP_DOMAIN_REMOVE, domain_remove_args,
	    VIEW_FIELDS, "--acme-account KID --name NAME" },
	{ "domain", "list", cmd_op, OP_DOMAIN_LIST, domain_list_args,
	    VIEW_TABLE, "--acme-account KID | --org ID" },

	{ "credit", "add", cmd_op, OP_CREDIT_ADD, credit_add_args,
	    VIEW_FIELDS, "--org ID --amount N [--reason TEXT]" },
	{ "credit", "ledger", cmd_op, OP_CREDIT_LEDGER, org_required_args,
	    VIEW_FIELDS, "--org ID" },

	{ "certificate", "list", cmd_op, OP_CERTIFICATE_LIST, cert_list_args,
	    VIEW_TABLE, "[--org ID | --acme-account KID]" },
	{ "certificate", "show", cmd_op, OP_CERTIFICATE_SHOW, cert_show_args,
	    VIEW_FIELDS, "ID|SERIAL" },
	{ "certificate", "revoke", cmd_op, OP_CERTIFICATE_REVOKE,
	    cert_revoke_args, VIEW_FIELDS, "ID|SERIAL [--reason 0|1|3|4|5|9]" },
	{ "certificate", "renew-now", cmd_op, OP_CERTIFICATE_RENEW_NOW,
	    cert_show_args, VIEW_FIELDS, "ID|SERIAL" },

	{ "eab", "create", cmd_op, OP_EAB_CREATE, eab_create_args,
	    VIEW_CREDENTIAL, "[--org NAME] [--country CC] [--locality L] "
	    "[--state S] [--domain NAME ...] [--credit N] [--profile P]" },

	/* --- e-mail notifications (admin/notify.c): begin --- */
	{ "outbox", "list", cmd_op, OP_OUTBOX_LIST, outbox_list_args,
	    VIEW_TABLE, "[--pending | --sent | --failed] [--kind KIND] "
	    "[--limit N]" },
	{ "outbox", "show", cmd_op, OP_OUTBOX_SHOW, id_args, VIEW_FIELDS,
	    "ID" },
	{ "outbox", "resend", cmd_op, OP_OUTBOX_RESEND, id_args, VIEW_FIELDS,
	    "ID" },
	{ "notify", "run-daily", cmd_notify_run_daily, OP__MAX, no_args,
	    VIEW_NONE, "" },
	/* --- e-mail notifications: end --- */

	/* --- back office operators (admin/operator.c): begin --- */
	{ "operator", "create", cmd_operator_create, OP__MAX,
	    operator_create_args, VIEW_NONE, "NAME --email E --cert FILE.pem "
	    "[--password-file F]" },
	{ "operator", "list", cmd_operator_list, OP__MAX, no_args, VIEW_NONE,
	    "" },
	{ "operator", "disable|enable", cmd_operator_status, OP__MAX,
	    operator_verb_args, VIEW_NONE, "NAME" },
	{ "operator", "set-password", cmd_operator_set_password, OP__MAX,
	    operator_password_args, VIEW_NONE, "NAME [--password-file F]" },
	{ "operator", "set-cert", cmd_operator_set_cert, OP__MAX,
	    operator_cert_args, VIEW_NONE, "NAME --cert FILE.pem" },
	/* --- back office operators: end --- */
};

const size_t ncommands = sizeof(commands) / sizeof(commands[0]);

int
command_has_verb(const struct command *cmd, const char *verb)
{
	const char *p = cmd->verbs, *bar;
	size_t n, len = strlen(verb);

	for (;;) {
		bar = strchr(p, '|');
		n = bar != NULL ? (size_t)(bar - p) : strlen(p);
		if (n == len && strncmp(p, verb, n) == 0)
			return 1;
		if (bar == NULL)
			return 0;
		p = bar + 1;
	}
}

int
cmd_op(struct ctl *c, const struct command *cmd, char **vals)
{
	struct problem p;
	json_object *doc = NULL;
	unsigned slots = 0;
	int n, rc = 0;

	memset(&p, 0, sizeof(p));
	/* the table must give each parameter of the operation exactly once */
	for (n = 0; cmd->args[n].type != ARG_END; n++) {
		if (cmd->args[n].slot < 0 ||
		    cmd->args[n].slot >= ops_nparams(cmd->op) ||
		    (slots & (1u << cmd->args[n].slot)))
			msg_fatal("%s %s: argument %d has no parameter of its "
			    "own", cmd->group, cmd->verbs, n);
		slots |= 1u << cmd->args[n].slot;
	}
	if (n != ops_nparams(cmd->op))
		msg_fatal("%s %s: %d arguments for %d parameters", cmd->group,
		    cmd->verbs, n, ops_nparams(cmd->op));
	if (!db_connect(&c->db, cfg_str(CFG_DATABASE))) {
		ctl_error("cannot connect to the database");
		goto out;
	}
	if ((doc = ops_run(&c->db, cmd->op, c->actor,
	    (const char *const *)vals, &p)) == NULL) {
		ctl_error("%s", p.detail);
		goto out;
	}
	output(c, doc, cmd->view);
	rc = 1;
out:
	json_object_put(doc);
	problem_clear(&p);
	return rc;
}
