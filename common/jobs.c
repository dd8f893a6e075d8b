/*
 * jobs.c - the worker's queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs.h"
#include "store.h"
#include "util.h"
#include "websession.h"

/* The payloads of the NOTIFYs sent by sql/ (pg_notify('acme_work', ...))
 * and the kinds of job each announces. */
static const struct {
	const char	*payload;
	unsigned	 kinds;
} wakeups[] = {
	{ "challenge",	JOB_BIT(JOB_CHALLENGE) },	/* challenge_start */
	{ "order",	JOB_BIT(JOB_ORDER) },		/* order_finalize */
	/* certificate_status_changed: a certificate inserted by another
	 * session than a worker's (sql/014)... */
	{ "ocsp",	JOB_BIT(JOB_OCSP) },
	/* ...or its revocation changed (certificate_revoke too) */
	{ "revocation",	JOB_BIT(JOB_OCSP) | JOB_BIT(JOB_CRL) },
	/* notify_enqueue, op_outbox_resend, portal_token_mail */
	{ "outbox",	JOB_BIT(JOB_OUTBOX) },
};

unsigned
jobs_wakeup(const char *payload)
{
	size_t i, n = sizeof(wakeups) / sizeof(wakeups[0]);
	unsigned kinds = JOBS_ALL;

	for (i = 0; payload != NULL && i < n; i++)
		if (strcmp(payload, wakeups[i].payload) == 0) {
			kinds = wakeups[i].kinds;
			break;
		}
	return kinds;
}

int
jobs_listen(struct db *db)
{
	return jobs_session(db) &&
	    db_exec(db, "LISTEN " JOBS_CHANNEL, 0, NULL);
}

int
jobs_session(struct db *db)
{
	/* a worker's session is its own: its claims and the rest are
	 * planned once per session, not at every run */
	db_prepare(db);
	/* the certificates this session issues are not announced: the
	 * worker signs their OCSP responses itself (sql/014) */
	return db_exec(db, "SELECT set_config('acme.signs_own_ocsp', 'on', "
	    "false)", 0, NULL) &&
	    /* the orders this session moves out of processing are
	     * announced after the commit (jobs_order_outcome, sql/020) */
	    db_exec(db, "SELECT set_config('acme.notifies_order_outcome', "
	    "'on', false)", 0, NULL) &&
	    /*
	     * Queue claims read the partial indexes of the jobs still
	     * to do ("WHERE status = 'processing'"), whose entries for
	     * jobs done stay until VACUUM. The planner estimates a row or
	     * two and picks a bitmap scan, which visits every one of
	     * those dead entries again at each claim (0.4 ms and growing
	     * under load); a plain index scan marks them dead the first
	     * time and then skips them (a claim that finds nothing reads
	     * one page). The worker's other statements are lookups by key
	     * and scans of small ranges, as well served by index scans.
	     */
	    db_exec(db, "SET enable_bitmapscan = off", 0, NULL);
}

int
jobs_claim_challenge(struct db *db, long lease, struct chall_job *j)
{
	char buf[32];
	const char *vals[1] = { buf };
	PGresult *res;
	int rc;

	memset(j, 0, sizeof(*j));
	snprintf(buf, sizeof(buf), "%ld", lease);
	res = db_query(db, "UPDATE challenge c SET "
	    "lease_until = now() + make_interval(secs => $1::integer), "
	    "attempts = c.attempts + 1 "
	    "FROM authorization_ a JOIN account ac ON ac.id = a.account_id "
	    "WHERE c.id = (SELECT id FROM challenge WHERE status = "
	    "'processing' AND (lease_until IS NULL OR lease_until < now()) "
	    "ORDER BY lease_until NULLS FIRST LIMIT 1 "
	    "FOR UPDATE SKIP LOCKED) AND a.id = c.authorization_id "
	    "RETURNING c.id, c.type, c.token, a.identifier, ac.thumbprint, "
	    "c.attempts, ac.id, a.wildcard, "
	    /* a claimed challenge commits asynchronously: a claim lost in a
	     * crash only lets the challenge be claimed again, and the order
	     * claim's synchronous commit flushes it before anything is
	     * signed (sql/009) */
	    "set_config('synchronous_commit', 'off', true)", 1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		j->id = db_strdup(res, 0, 0);
		j->type = db_strdup(res, 0, 1);
		j->token = db_strdup(res, 0, 2);
		j->identifier = db_strdup(res, 0, 3);
		j->thumbprint = db_strdup(res, 0, 4);
		j->attempts = atoi(PQgetvalue(res, 0, 5));
		j->account_id = db_long(res, 0, 6);
		j->wildcard = strcmp(PQgetvalue(res, 0, 7), "t") == 0;
	}
	PQclear(res);
	return rc;
}

void
chall_job_free(struct chall_job *j)
{
	free(j->id);
	free(j->type);
	free(j->token);
	free(j->identifier);
	free(j->thumbprint);
	memset(j, 0, sizeof(*j));
}

int
jobs_finish_challenge(struct db *db, const char *id, int ok,
    const char *error)
{
	const char *vals[3] = { id, ok ? "t" : "f", error };
	PGresult *res;
	int rc;

	res = db_query(db, "SELECT challenge_finish($1, $2::boolean, "
	    "$3::jsonb)", 3, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes bytea text output ("\x..."); returns a new buffer or NULL. */
static unsigned char *
bytea_decode(const char *s, size_t *len)
{
	unsigned char *out;
	size_t n, i;
	int hi, lo;

	if (s == NULL || strncmp(s, "\\x", 2) != 0 || strlen(s) % 2 != 0)
		return NULL;
	n = (strlen(s) - 2) / 2;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		hi = hexval(s[2 + 2 * i]);
		lo = hexval(s[3 + 2 * i]);
		if (hi < 0 || lo < 0) {
			free(out);
			return NULL;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	*len = n;
	return out;
}

int
jobs_claim_order(struct db *db, long lease, const char *serial,
    struct issue_job *j)
{
	char buf[32];
	const char *vals[2] = { buf, serial };
	PGresult *res;
	int rc;

	memset(j, 0, sizeof(*j));
	snprintf(buf, sizeof(buf), "%ld", lease);
	/* sql/021: an empty claim is one indexed lookup */
	res = db_query(db, "SELECT * FROM order_claim($1::integer, $2)", 2,
	    vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		j->order_id = db_strdup(res, 0, 0);
		j->csr = bytea_decode(db_val(res, 0, 1), &j->csr_len);
		j->names = pg_parse_array(db_val(res, 0, 2), &j->nnames);
		j->serial = db_strdup(res, 0, 3);
		j->org_name = db_strdup(res, 0, 4);
		j->org_country = db_strdup(res, 0, 5);
		j->org_locality = db_strdup(res, 0, 6);
		j->org_state = db_strdup(res, 0, 7);
		j->attempts = atoi(PQgetvalue(res, 0, 8));
		j->subject_fields = pg_parse_array(db_val(res, 0, 9),
		    &j->nsubject_fields);
		j->validity_days = (int)db_long(res, 0, 10);
		j->policy_problem = db_strdup(res, 0, 11);
		j->account_id = db_long(res, 0, 12);
		j->caa_names = pg_parse_array(db_val(res, 0, 13), &j->ncaa);
		j->caa_methods = pg_parse_array(db_val(res, 0, 14),
		    &j->ncaa_methods);
		j->db_now = db_long(res, 0, 15);
	}
	PQclear(res);
	return rc;
}

void
issue_job_free(struct issue_job *j)
{
	free(j->order_id);
	free(j->csr);
	strv_free(j->names, j->nnames);
	free(j->serial);
	free(j->org_name);
	free(j->org_country);
	free(j->org_locality);
	free(j->org_state);
	strv_free(j->subject_fields, j->nsubject_fields);
	free(j->policy_problem);
	strv_free(j->caa_names, j->ncaa);
	strv_free(j->caa_methods, j->ncaa_methods);
	memset(j, 0, sizeof(*j));
}

int
jobs_store_certificate(struct db *db, const char *order_id,
    const char *cert_id, const char *serial, long not_before,
    long not_after, const unsigned char *der, size_t der_len,
    const char *pem_chain, const struct ocsp_first *ocsp)
{
	char nb[32], na[32], oi[32], tu[32], nu[32];
	const char *vals[11] = { order_id, cert_id, serial, nb, na,
	    (const char *)der, pem_chain, oi,
	    ocsp != NULL ? (const char *)ocsp->der : NULL, tu, nu };
	int lens[11] = { 0, 0, 0, 0, 0, (int)der_len, 0, 0,
	    ocsp != NULL ? (int)ocsp->len : 0, 0, 0 };
	int fmts[11] = { 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0 };
	PGresult *res = NULL;
	int rc;

	snprintf(nb, sizeof(nb), "%ld", not_before);
	snprintf(na, sizeof(na), "%ld", not_after);
	if (ocsp != NULL) {
		snprintf(oi, sizeof(oi), "%ld", ocsp->issuer_id);
		snprintf(tu, sizeof(tu), "%ld", ocsp->this_update);
		snprintf(nu, sizeof(nu), "%ld", ocsp->next_update);
		res = db_query_bin(db, "SELECT order_issue_ocsp($1, $2, $3, "
		    "to_timestamp($4::bigint), to_timestamp($5::bigint), $6, "
		    "$7, $8::integer, $9, to_timestamp($10::bigint), "
		    "to_timestamp($11::bigint))", 11, vals, lens, fmts);
		/* a database not migrated to sql/017 yet: the certificate
		 * alone, its response left due */
		if (res == NULL && !db_failed_with(db, "42883"))
			return -1;
	}
	if (res == NULL)
		res = db_query_bin(db, "SELECT order_issue($1, $2, $3, "
		    "to_timestamp($4::bigint), to_timestamp($5::bigint), $6, "
		    "$7)", 7, vals, lens, fmts);
	if (res == NULL || PQntuples(res) != 1)
		rc = -1;
	else if (strcmp(PQgetvalue(res, 0, 0), "issued") == 0) {
		rc = 1;
		jobs_order_outcome(db, order_id);
	} else if (strcmp(PQgetvalue(res, 0, 0), "OUT_OF_CREDIT") == 0)
		rc = 2;
	else
		rc = 0;
	PQclear(res);
	return rc;
}

void
jobs_order_outcome(struct db *db, const char *order_id)
{
	const char *vals[1] = { order_id };

	/* a database not migrated to sql/020 yet has no such function, and
	 * its transactions notified already */
	if (!db_exec(db, "SELECT order_outcome_notify($1)", 1, vals) &&
	    !db_failed_with(db, "42883"))
		msg_warn("order %s: its outcome is not announced (a request "
		    "waiting for it answers when its wait runs out)", order_id);
}

int
jobs_fail_order(struct db *db, const char *order_id, const char *error)
{
	const char *vals[2] = { order_id, error };

	if (!db_exec(db, "WITH o AS (UPDATE orders SET status = 'invalid', "
	    "error = $2::jsonb, lease_until = NULL, updated_at = now() "
	    "WHERE id = $1 AND status = 'processing' RETURNING id) "
	    "SELECT audit('acme-worker', 'refuse', 'order', o.id, "
	    "jsonb_build_object('error', $2::jsonb)) FROM o", 2, vals))
		return 0;
	jobs_order_outcome(db, order_id);
	return 1;
}

int
jobs_housekeeping(struct db *db, long nonce_lifetime)
{
	char buf[32];
	const char *vals[1] = { buf };
	long web;
	int rc = 1;

	snprintf(buf, sizeof(buf), "%ld", nonce_lifetime + 120);
	if (!db_exec(db, "DELETE FROM nonce_used WHERE used_at < now() - "
	    "make_interval(secs => $1::integer)", 1, vals))
		rc = 0;
	if (!db_exec(db, "UPDATE orders SET status = 'invalid', updated_at = "
	    "now() WHERE status IN ('pending', 'ready') AND expires_at <= "
	    "now()", 0, NULL))
		rc = 0;
	if (!db_exec(db, "UPDATE authorization_ SET status = 'expired' "
	    "WHERE status = 'pending' AND expires_at <= now()", 0, NULL))
		rc = 0;
	if (!db_exec(db, "SELECT documents_expire()", 0, NULL))
		rc = 0;
	/* the web site's (acme-web has no timer of its own) */
	if ((web = websession_housekeeping(db)) < 0)
		rc = 0;
	else if (web > 0)
		msg_info("housekeeping: %ld ended web sessions, tokens and "
		    "sign-in failures purged", web);
	return rc;
}
