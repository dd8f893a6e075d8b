/*
 * ops.c - the operator's commands: one SQL function call each (see
 * sql/003_operator.sql), turned into a JSON document or a problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "ops.h"
#include "util.h"

struct op_def {
	const char	*sql;		/* $1: the actor if audited */
	int		 nparams;	/* the actor not counted */
	int		 audited;
};

static const struct op_def op_defs[OP__MAX] = {
	[OP_ORGANIZATION_CREATE] = { "SELECT op_organization_create($1, $2, "
	    "$3, $4, $5)", 4, 1 },
	[OP_ORGANIZATION_LIST] = { "SELECT op_organization_list()", 0, 0 },
	[OP_ORGANIZATION_SHOW] = { "SELECT op_organization_show($1::bigint)",
	    1, 0 },
	[OP_ORGANIZATION_SET_STATUS] = { "SELECT op_organization_set_status("
	    "$1, $2::bigint, $3)", 2, 1 },
	[OP_DOCUMENT_ADD] = { "SELECT op_document_add($1, $2::bigint, $3, $4, "
	    "$5, $6::date, $7::integer)", 6, 1 },
	[OP_DOCUMENT_SET_STATUS] = { "SELECT op_document_set_status($1, "
	    "$2::bigint, $3)", 2, 1 },
	/* a validation takes the date until which the document is valid:
	 * office_document_decide (sql/015), as the back office's */
	[OP_DOCUMENT_VALIDATE] = { "SELECT office_document_decide($1, "
	    "$2::bigint, 'validate', NULL, coalesce($3::date, "
	    "(now() AT TIME ZONE 'UTC')::date + $4::integer))", 3, 1 },
	[OP_DOCUMENT_LIST] = { "SELECT op_document_list($1::bigint)", 1, 0 },
	[OP_EXTERNAL_ACCOUNT_CREATE] = { "SELECT op_external_account_create("
	    "$1, $2::bigint, $3, $4, $5::date, $6::integer)", 5, 1 },
	[OP_EXTERNAL_ACCOUNT_SET_STATUS] = { "SELECT "
	    "op_external_account_set_status($1, $2::bigint, $3)", 2, 1 },
	[OP_EXTERNAL_ACCOUNT_LIST] = { "SELECT op_external_account_list("
	    "$1::bigint)", 1, 0 },
	[OP_EXTERNAL_ACCOUNT_SHOW] = { "SELECT op_external_account_show("
	    "$1::bigint)", 1, 0 },
	[OP_ACME_ACCOUNT_CREATE] = { "SELECT op_acme_account_create($1, "
	    "$2::uuid, $3, $4::bigint, $5, $6::integer, $7::integer, "
	    "$8::jsonb)", 7, 1 },
	[OP_ACME_ACCOUNT_SET_STATUS] = { "SELECT op_acme_account_set_status("
	    "$1, $2::uuid, $3)", 2, 1 },
	[OP_ACME_ACCOUNT_REGENERATE_KEY] = { "SELECT "
	    "op_acme_account_regenerate_key($1, $2::uuid, $3, $4::integer, "
	    "$5::integer)", 4, 1 },
	[OP_ACME_ACCOUNT_SHOW] = { "SELECT op_acme_account_show($1::uuid)",
	    1, 0 },
	[OP_ACME_ACCOUNT_LIST] = { "SELECT op_acme_account_list($1::bigint)",
	    1, 0 },
	[OP_DOMAIN_ADD] = { "SELECT op_domain_add($1, $2::uuid, $3, "
	    "$4::bigint, $5::boolean)", 4, 1 },
	[OP_DOMAIN_SET_STATUS] = { "SELECT op_domain_set_status($1, "
	    "$2::bigint, $3, $4)", 3, 1 },
	[OP_DOMAIN_REMOVE] = { "SELECT op_domain_remove($1, $2::uuid, $3)",
	    2, 1 },
	[OP_DOMAIN_LIST] = { "SELECT op_domain_list($1::uuid, $2::bigint)",
	    2, 0 },
	[OP_CREDIT_ADD] = { "SELECT op_credit_add($1, $2::bigint, "
	    "$3::integer, $4)", 3, 1 },
	[OP_CREDIT_LEDGER] = { "SELECT op_credit_ledger($1::bigint)", 1, 0 },
	[OP_CERTIFICATE_LIST] = { "SELECT op_certificate_list($1::bigint, "
	    "$2::uuid)", 2, 0 },
	[OP_CERTIFICATE_SHOW] = { "SELECT op_certificate_show($1)", 1, 0 },
	[OP_CERTIFICATE_REVOKE] = { "SELECT op_certificate_revoke($1, $2, "
	    "$3::integer)", 2, 1 },
	[OP_CERTIFICATE_RENEW_NOW] = { "SELECT op_certificate_renew_now($1, "
	    "$2)", 1, 1 },
	[OP_EAB_CREATE] = { "SELECT op_eab_create($1, $2::uuid, $3, $4, $5, "
	    "$6, $7, $8::jsonb, $9::integer, $10)", 9, 1 },
	/* --- e-mail notifications: begin --- */
	[OP_OUTBOX_LIST] = { "SELECT op_outbox_list($1::boolean, $2::boolean, "
	    "$3::boolean, $4, $5::integer)", 5, 0 },
	[OP_OUTBOX_SHOW] = { "SELECT op_outbox_show($1::bigint)", 1, 0 },
	[OP_OUTBOX_RESEND] = { "SELECT op_outbox_resend($1, $2::bigint)", 1,
	    1 },
	/* --- e-mail notifications: end --- */
};

/* The problem type of each kind of refusal the SQL functions return. */
static const struct {
	const char	*kind;
	enum ptype	 type;
} refusal_types[] = {
	{ "invalid", PT_MALFORMED },
	{ "not_found", PT_NOT_FOUND },
	{ "conflict", PT_CONFLICT },
};

int
ops_nparams(enum op op)
{
	return op_defs[op].nparams;
}

/* Sets p from a refusal document {"refused": detail, "kind": kind}. */
static void
ops_refusal(json_object *doc, struct problem *p)
{
	const char *kind = json_get_str(doc, "kind");
	enum ptype type = PT_MALFORMED;
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(refusal_types) /
	    sizeof(refusal_types[0]); i++)
		if (strcmp(kind, refusal_types[i].kind) == 0)
			type = refusal_types[i].type;
	problem_set(p, type, "%s", json_get_str(doc, "refused"));
}

json_object *
ops_run(struct db *db, enum op op, const char *actor,
    const char *const *vals, struct problem *p)
{
	const struct op_def *def = &op_defs[op];
	json_object *doc = NULL, *ret = NULL;
	int db_failed;

	if ((doc = db_call_json(db, def->sql, def->audited, actor,
	    def->nparams, vals, &db_failed)) == NULL) {
		if (db_failed)
			problem_set(p, PT_SERVER_INTERNAL,
			    "database error (SQLSTATE %s)", db->sqlstate);
		else
			problem_set(p, PT_SERVER_INTERNAL,
			    "unexpected result from the database");
		goto out;
	}
	if (json_get_str(doc, "refused") != NULL) {
		ops_refusal(doc, p);
		goto out;
	}
	ret = doc;
	doc = NULL;
out:
	json_object_put(doc);
	return ret;
}

int
ops_schema_prepare(struct db *db)
{
	return db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL);
}

int
ops_schema_lock(struct db *db, unsigned *version)
{
	PGresult *res = NULL;
	int rc = 0;

	*version = 0;
	if (!db_exec(db, "SELECT pg_advisory_xact_lock("
	    "hashtext('acme_migrate'))", 0, NULL))
		goto out;
	res = db_query(db, "SELECT coalesce(max(version), 0) "
	    "FROM schema_version", 0, NULL);
	if (res == NULL || PQntuples(res) != 1)
		goto out;
	*version = (unsigned)db_long(res, 0, 0);
	rc = 1;
out:
	PQclear(res);
	return rc;
}

int
ops_schema_record(struct db *db, unsigned version, const char *name)
{
	char ver[16];
	const char *vals[2];

	snprintf(ver, sizeof(ver), "%u", version);
	vals[0] = ver;
	vals[1] = name;
	return db_exec(db, "INSERT INTO schema_version (version, name) "
	    "VALUES ($1, $2)", 2, vals);
}
