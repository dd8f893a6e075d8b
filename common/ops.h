/*
 * ops.h - the operator's commands (acmectl) over the CA's account model.
 * Each operation is one call of an SQL function of sql/003_operator.sql,
 * which does its compare-and-set, writes its audit_log rows in the same
 * transaction and returns one JSON document. The schema_version helpers
 * of `acmectl db migrate` live here too, so that no SQL text is in admin/.
 */
#ifndef ACME_OPS_H
#define ACME_OPS_H

#include <json-c/json.h>

#include "db.h"
#include "problem.h"

enum op {
	OP_ORGANIZATION_CREATE,
	OP_ORGANIZATION_LIST,
	OP_ORGANIZATION_SHOW,
	OP_ORGANIZATION_SET_STATUS,
	OP_DOCUMENT_ADD,
	OP_DOCUMENT_SET_STATUS,
	OP_DOCUMENT_VALIDATE,
	OP_DOCUMENT_LIST,
	OP_EXTERNAL_ACCOUNT_CREATE,
	OP_EXTERNAL_ACCOUNT_SET_STATUS,
	OP_EXTERNAL_ACCOUNT_LIST,
	OP_EXTERNAL_ACCOUNT_SHOW,
	OP_ACME_ACCOUNT_CREATE,
	OP_ACME_ACCOUNT_SET_STATUS,
	OP_ACME_ACCOUNT_REGENERATE_KEY,
	OP_ACME_ACCOUNT_SHOW,
	OP_ACME_ACCOUNT_LIST,
	OP_DOMAIN_ADD,
	OP_DOMAIN_SET_STATUS,
	OP_DOMAIN_REMOVE,
	OP_DOMAIN_LIST,
	OP_CREDIT_ADD,
	OP_CREDIT_LEDGER,
	OP_CERTIFICATE_LIST,
	OP_CERTIFICATE_SHOW,
	OP_CERTIFICATE_REVOKE,
	OP_CERTIFICATE_RENEW_NOW,
	OP_EAB_CREATE,
	/* e-mail notifications (sql/007_notifications.sql) */
	OP_OUTBOX_LIST,
	OP_OUTBOX_SHOW,
	OP_OUTBOX_RESEND,
	OP__MAX
};

/* Most parameters an operation takes, the actor not counted. */
#define OPS_MAX_PARAMS	10

/* Returns the number of parameters of op, the actor not counted. */
int	 ops_nparams(enum op);

/*
 * Runs op with its parameters as text (ops_nparams(op) of them, NULL is
 * SQL NULL; lists of names are JSON arrays) in one statement; an audited
 * op records actor. Returns the result document (a new reference, owned
 * by the caller), or NULL with p set: PT_MALFORMED for bad input,
 * PT_NOT_FOUND for an unknown object, PT_CONFLICT for a change the
 * object's status or balance refuses (each with the database's clear
 * detail), PT_SERVER_INTERNAL for a database failure. Nothing is changed
 * when NULL is returned.
 */
json_object *ops_run(struct db *, enum op, const char *actor,
	    const char *const *vals, struct problem *p);

/* Creates the schema_version table if needed; returns 1 or 0. */
int	 ops_schema_prepare(struct db *);
/* Inside a transaction: takes the migration lock and sets *version to the
 * newest applied migration (0 if none). Returns 1 or 0. */
int	 ops_schema_lock(struct db *, unsigned *version);
/* Inside that transaction: records migration version, name as applied.
 * Returns 1 or 0. */
int	 ops_schema_record(struct db *, unsigned version, const char *name);

#endif
