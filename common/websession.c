/*
 * websession.c - the web site's sessions, sign-in, one-time tokens and
 * operators: one call of an SQL function of sql/010_web.sql each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "db.h"
#include "problem.h"
#include "util.h"
#include "websession.h"

static const char *const kind_names[WS__MAX] = {
	[WS_NONE] = NULL,
	[WS_CUSTOMER] = "customer",
	[WS_OPERATOR] = "operator",
};

const char *
websession_kind_name(enum ws_kind k)
{
	return k < WS__MAX ? kind_names[k] : NULL;
}

char *
websession_token_hash(const char *token)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char *out;

	if (EVP_Digest(token, strlen(token), md, &len, EVP_sha256(),
	    NULL) != 1)
		msg_fatal("SHA-256 failed");
	out = xmalloc(2 * len + 1);
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[2 * len] = '\0';
	return out;
}

/* Returns 1 if the text of a boolean result is true. */
static int
is_true(const char *v)
{
	return v != NULL && strcmp(v, "t") == 0;
}

int
websession_open(struct db *db, enum ws_kind kind, long long id,
    const char *token_hash, const char *csrf, long lifetime,
    const char *remote_addr)
{
	PGresult *res;
	char sid[32], slife[32];
	const char *v[6];

	if (websession_kind_name(kind) == NULL)
		return 0;
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(slife, sizeof(slife), "%ld", lifetime);
	v[0] = websession_kind_name(kind);
	v[1] = sid;
	v[2] = token_hash;
	v[3] = csrf;
	v[4] = slife;
	v[5] = remote_addr;
	res = db_query(db, "SELECT web_session_open($1, $2::bigint, "
	    "decode($3, 'hex'), $4, $5::integer, $6)", 6, v);
	PQclear(res);
	return res != NULL;
}

void
websession_free(struct ws_session *s)
{
	free(s->email);
	free(s->name);
	free(s->csrf);
	free(s->flash);
	free(s->language);
	free(s->status);
	free(s->cert_sha256);
	memset(s, 0, sizeof(*s));
}

int
websession_load(struct db *db, const char *token_hash, long idle,
    struct ws_session *s)
{
	PGresult *res;
	char sidle[32];
	const char *v[2], *kind;

	memset(s, 0, sizeof(*s));
	snprintf(sidle, sizeof(sidle), "%ld", idle);
	v[0] = token_hash;
	v[1] = sidle;
	res = db_query(db, "SELECT kind, external_account_id, "
	    "organization_id, operator_id, email, name, csrf, flash, "
	    "language, status, cert_sha256 "
	    "FROM web_session_load(decode($1, 'hex'), $2::integer)", 2, v);
	if (res == NULL)
		return 0;
	if (PQntuples(res) == 1 && (kind = db_val(res, 0, 0)) != NULL) {
		s->kind = strcmp(kind, "customer") == 0 ? WS_CUSTOMER :
		    strcmp(kind, "operator") == 0 ? WS_OPERATOR : WS_NONE;
		s->external_account_id = db_long(res, 0, 1);
		s->organization_id = db_long(res, 0, 2);
		s->operator_id = db_long(res, 0, 3);
		s->email = db_strdup(res, 0, 4);
		s->name = db_strdup(res, 0, 5);
		s->csrf = db_strdup(res, 0, 6);
		s->flash = db_strdup(res, 0, 7);
		s->language = db_strdup(res, 0, 8);
		s->status = db_strdup(res, 0, 9);
		s->cert_sha256 = db_strdup(res, 0, 10);
		if (s->csrf == NULL || s->email == NULL || s->name == NULL)
			s->kind = WS_NONE;
	}
	PQclear(res);
	return 1;
}

int
websession_close(struct db *db, const char *token_hash)
{
	const char *v[1];

	v[0] = token_hash;
	return db_exec(db, "SELECT web_session_close(decode($1, 'hex'))", 1,
	    v);
}

int
websession_flash(struct db *db, const char *token_hash, const char *text)
{
	const char *v[2];

	v[0] = token_hash;
	v[1] = text;
	return db_exec(db, "SELECT web_session_flash(decode($1, 'hex'), $2)",
	    2, v);
}

void
websession_login_free(struct ws_login *l)
{
	free(l->email);
	free(l->password_hash);
	free(l->status);
	free(l->organization_status);
	free(l->language);
	memset(l, 0, sizeof(*l));
}

int
websession_login_customer(struct db *db, const char *email,
    struct ws_login *l)
{
	PGresult *res;
	const char *v[2];

	memset(l, 0, sizeof(*l));
	v[0] = email;
	v[1] = NULL;
	res = db_query(db, "SELECT external_account_id, organization_id, "
	    "email, password_hash, status, organization_status, language, "
	    "email_confirmed FROM web_login_customer($1, $2)", 2, v);
	if (res == NULL)
		return 0;
	if (PQntuples(res) == 1) {
		l->found = 1;
		l->external_account_id = db_long(res, 0, 0);
		l->organization_id = db_long(res, 0, 1);
		l->email = db_strdup(res, 0, 2);
		l->password_hash = db_strdup(res, 0, 3);
		l->status = db_strdup(res, 0, 4);
		l->organization_status = db_strdup(res, 0, 5);
		l->language = db_strdup(res, 0, 6);
		l->email_confirmed = is_true(db_val(res, 0, 7));
	}
	PQclear(res);
	return 1;
}

int
websession_login_failed(struct db *db, const char *who,
    const char *remote_addr)
{
	const char *v[2];

	v[0] = who;
	v[1] = remote_addr;
	return db_exec(db, "SELECT web_login_failed($1, $2)", 2, v);
}

int
websession_login_blocked(struct db *db, const char *who,
    const char *remote_addr, long max, int *blocked)
{
	PGresult *res;
	char smax[32];
	const char *v[3];

	*blocked = 0;
	snprintf(smax, sizeof(smax), "%ld", max);
	v[0] = who;
	v[1] = remote_addr;
	v[2] = smax;
	res = db_query(db, "SELECT web_login_blocked($1, $2, $3::integer)",
	    3, v);
	if (res == NULL)
		return 0;
	*blocked = PQntuples(res) == 1 && is_true(db_val(res, 0, 0));
	PQclear(res);
	return 1;
}

int
websession_token_create(struct db *db, const char *purpose,
    long long external_account_id, const char *token_hash, long lifetime)
{
	char sid[32], slife[32];
	const char *v[4];

	snprintf(sid, sizeof(sid), "%lld", external_account_id);
	snprintf(slife, sizeof(slife), "%ld", lifetime);
	v[0] = purpose;
	v[1] = sid;
	v[2] = token_hash;
	v[3] = slife;
	return db_exec(db, "SELECT web_token_create($1, $2::bigint, "
	    "decode($3, 'hex'), $4::integer)", 4, v);
}

int
websession_token_use(struct db *db, const char *purpose,
    const char *token_hash, long long *external_account_id)
{
	PGresult *res;
	const char *v[2];

	*external_account_id = 0;
	v[0] = purpose;
	v[1] = token_hash;
	res = db_query(db, "SELECT web_token_use($1, decode($2, 'hex'))", 2,
	    v);
	if (res == NULL)
		return 0;
	if (PQntuples(res) == 1)
		*external_account_id = db_long(res, 0, 0);
	PQclear(res);
	return 1;
}

int
websession_customer_set_password(struct db *db, const char *actor,
    long long external_account_id, const char *password_hash)
{
	PGresult *res;
	char sid[32];
	const char *v[3];
	int rc;

	snprintf(sid, sizeof(sid), "%lld", external_account_id);
	v[0] = actor;
	v[1] = sid;
	v[2] = password_hash;
	res = db_query(db, "SELECT web_customer_set_password($1, $2::bigint, "
	    "$3)", 3, v);
	rc = res != NULL && PQntuples(res) == 1 && is_true(db_val(res, 0, 0));
	PQclear(res);
	return rc;
}

int
websession_customer_confirm_email(struct db *db, const char *actor,
    long long external_account_id)
{
	PGresult *res;
	char sid[32];
	const char *v[2];
	int rc;

	snprintf(sid, sizeof(sid), "%lld", external_account_id);
	v[0] = actor;
	v[1] = sid;
	res = db_query(db, "SELECT web_customer_confirm_email($1, "
	    "$2::bigint)", 2, v);
	rc = res != NULL && PQntuples(res) == 1 && is_true(db_val(res, 0, 0));
	PQclear(res);
	return rc;
}

void
websession_operator_free(struct ws_operator *o)
{
	free(o->name);
	free(o->email);
	free(o->password_hash);
	free(o->cert_sha256);
	free(o->status);
	memset(o, 0, sizeof(*o));
}

int
websession_operator_login(struct db *db, const char *who,
    struct ws_operator *o)
{
	PGresult *res;
	const char *v[1];

	memset(o, 0, sizeof(*o));
	v[0] = who;
	res = db_query(db, "SELECT id, name, email, password_hash, "
	    "cert_sha256, status FROM web_operator_login($1)", 1, v);
	if (res == NULL)
		return 0;
	if (PQntuples(res) == 1) {
		o->found = 1;
		o->id = db_long(res, 0, 0);
		o->name = db_strdup(res, 0, 1);
		o->email = db_strdup(res, 0, 2);
		o->password_hash = db_strdup(res, 0, 3);
		o->cert_sha256 = db_strdup(res, 0, 4);
		o->status = db_strdup(res, 0, 5);
	}
	PQclear(res);
	return 1;
}

/* Runs an SQL function returning one JSON value; returns its text (new
 * string) or NULL. */
static char *
json_call(struct db *db, const char *sql, int n, const char *const *v)
{
	PGresult *res = db_query(db, sql, n, v);
	char *out = NULL;

	if (res != NULL && PQntuples(res) == 1)
		out = db_strdup(res, 0, 0);
	PQclear(res);
	return out;
}

char *
websession_operator_create(struct db *db, const char *actor, const char *name,
    const char *email, const char *password_hash, const char *cert_sha256)
{
	const char *v[5];

	v[0] = actor;
	v[1] = name;
	v[2] = email;
	v[3] = password_hash;
	v[4] = cert_sha256;
	return json_call(db, "SELECT web_operator_create($1, $2, $3, $4, $5)",
	    5, v);
}

char *
websession_operator_set_status(struct db *db, const char *actor,
    const char *name, const char *status)
{
	const char *v[3];

	v[0] = actor;
	v[1] = name;
	v[2] = status;
	return json_call(db, "SELECT web_operator_set_status($1, $2, $3)", 3,
	    v);
}

char *
websession_operator_set_password(struct db *db, const char *actor,
    const char *name, const char *password_hash)
{
	const char *v[3];

	v[0] = actor;
	v[1] = name;
	v[2] = password_hash;
	return json_call(db, "SELECT web_operator_set_password($1, $2, $3)",
	    3, v);
}

char *
websession_operator_set_cert(struct db *db, const char *actor,
    const char *name, const char *cert_sha256)
{
	const char *v[3];

	v[0] = actor;
	v[1] = name;
	v[2] = cert_sha256;
	return json_call(db, "SELECT web_operator_set_cert($1, $2, $3)", 3, v);
}

char *
websession_operator_list(struct db *db)
{
	return json_call(db, "SELECT web_operator_list()", 0, NULL);
}

long
websession_housekeeping(struct db *db)
{
	PGresult *res;
	char sidle[32];
	const char *v[1];
	long n = -1;

	snprintf(sidle, sizeof(sidle), "%ld", cfg_int(CFG_WEB_SESSION_IDLE));
	v[0] = sidle;
	res = db_query(db, "SELECT web_housekeeping($1::integer)", 1, v);
	if (res != NULL && PQntuples(res) == 1)
		n = db_long(res, 0, 0);
	PQclear(res);
	return n;
}

int
websession_accept_fr(const char *accept_language)
{
	return lang_from_accept(accept_language) == LANG_FR;
}
