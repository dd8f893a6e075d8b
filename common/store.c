/*
 * store.c - the SQL of acme-fcgi. Each function is one round trip unless
 * its comment says otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "store.h"
#include "util.h"

char *
pg_text_array(const char *const *v, size_t n)
{
	size_t i, len = 3, j;
	char *out, *o;

	for (i = 0; i < n; i++)
		len += 3 + 2 * strlen(v[i]);
	out = o = xmalloc(len);
	*o++ = '{';
	for (i = 0; i < n; i++) {
		if (i > 0)
			*o++ = ',';
		*o++ = '"';
		for (j = 0; v[i][j] != '\0'; j++) {
			if (v[i][j] == '"' || v[i][j] == '\\')
				*o++ = '\\';
			*o++ = v[i][j];
		}
		*o++ = '"';
	}
	*o++ = '}';
	*o = '\0';
	return out;
}

char **
pg_parse_array(const char *s, size_t *n)
{
	char **v = NULL, *cur;
	size_t cap = 0, len;
	int quoted;

	*n = 0;
	if (s == NULL || *s != '{')
		return xcalloc(1, sizeof(char *));
	s++;
	cur = xmalloc(strlen(s) + 1);
	while (*s != '\0' && *s != '}') {
		len = 0;
		quoted = *s == '"';
		if (quoted)
			s++;
		while (*s != '\0') {
			if (quoted && *s == '\\' && s[1] != '\0')
				s++;
			else if (quoted && *s == '"') {
				s++;
				break;
			} else if (!quoted && (*s == ',' || *s == '}'))
				break;
			cur[len++] = *s++;
		}
		cur[len] = '\0';
		if (*n == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			v = xrealloc(v, cap * sizeof(char *));
		}
		v[(*n)++] = xstrdup(cur);
		if (*s == ',')
			s++;
	}
	free(cur);
	if (v == NULL)
		v = xcalloc(1, sizeof(char *));
	return v;
}

#define ACCT_COLS "a.id, a.jwk::text, a.thumbprint, a.status, " \
	"a.contact::text, e.id, e.kid::text, acme_account_problem(e.id), " \
	"e.profile, (SELECT key_sizes FROM profile WHERE name = e.profile)"

/* Fills a from the ACCT_COLS of row 0 starting at column c. */
static void
acct_cols(PGresult *res, int c, struct acct *a)
{
	char **sizes;
	size_t n, i;

	a->id = db_long(res, 0, c);
	a->jwk = db_strdup(res, 0, c + 1);
	a->thumbprint = db_strdup(res, 0, c + 2);
	a->status = db_strdup(res, 0, c + 3);
	a->contact = db_strdup(res, 0, c + 4);
	a->acme_account_id = db_long(res, 0, c + 5);
	a->kid = db_strdup(res, 0, c + 6);
	a->problem = db_strdup(res, 0, c + 7);
	a->profile = db_strdup(res, 0, c + 8);
	sizes = pg_parse_array(db_val(res, 0, c + 9), &n);
	a->key_sizes = xcalloc(n, sizeof(int));
	for (i = 0; i < n; i++)
		a->key_sizes[i] = atoi(sizes[i]);
	a->nkey_sizes = n;
	strv_free(sizes, n);
}

static int
acct_fill(PGresult *res, struct acct *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc)
		acct_cols(res, 0, a);
	PQclear(res);
	return rc;
}

int
store_auth(struct db *db, long id, const char *tp, const char *nonce,
    int epoch, int usable, struct acct *a, enum store_auth *result)
{
	static const char *const names[SA__MAX] = {
		[SA_OK] = "ok",
		[SA_UNKNOWN] = "unknown",
		[SA_KEY] = "key",
		[SA_REFUSED] = "refused",
		[SA_NONCE] = "nonce",
	};
	char ibuf[32], ebuf[16];
	const char *vals[5] = { ibuf, tp, nonce, ebuf, usable ? "t" : "f" };
	const char *v;
	PGresult *res;
	int i, rc = -1;

	memset(a, 0, sizeof(*a));
	snprintf(ibuf, sizeof(ibuf), "%ld", id);
	snprintf(ebuf, sizeof(ebuf), "%d", epoch);
	/* the columns: result, then those of ACCT_COLS */
	res = db_query(db, "SELECT * FROM fcgi_auth($1, $2, $3, $4, $5)", 5,
	    vals);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && PQnfields(res) == 11 &&
	    (v = db_val(res, 0, 0)) != NULL) {
		for (i = 0; i < SA__MAX; i++)
			if (strcmp(v, names[i]) == 0)
				break;
		if (i < SA__MAX) {
			*result = (enum store_auth)i;
			if (db_val(res, 0, 1) != NULL)
				acct_cols(res, 1, a);
			rc = 1;
		}
	}
	PQclear(res);
	return rc;
}

int
store_account_by_id(struct db *db, long id, struct acct *a)
{
	char buf[32];
	const char *vals[1] = { buf };

	snprintf(buf, sizeof(buf), "%ld", id);
	return acct_fill(db_query(db, "SELECT " ACCT_COLS " FROM account a "
	    "JOIN acme_account e ON e.id = a.acme_account_id WHERE a.id = $1",
	    1, vals), a);
}

int
store_account_by_thumbprint(struct db *db, const char *tp, struct acct *a)
{
	const char *vals[1] = { tp };

	return acct_fill(db_query(db, "SELECT " ACCT_COLS " FROM account a "
	    "JOIN acme_account e ON e.id = a.acme_account_id "
	    "WHERE a.thumbprint = $1 ORDER BY a.status = 'valid' DESC, "
	    "a.id DESC LIMIT 1", 1, vals), a);
}

void
acct_free(struct acct *a)
{
	free(a->jwk);
	free(a->thumbprint);
	free(a->status);
	free(a->contact);
	free(a->kid);
	free(a->problem);
	free(a->profile);
	free(a->key_sizes);
	memset(a, 0, sizeof(*a));
}

int
store_eab_by_kid(struct db *db, const char *kid, struct eab *e)
{
	const char *vals[1] = { kid };
	PGresult *res;
	int rc;

	memset(e, 0, sizeof(*e));
	res = db_query(db, "SELECT id, hmac_key, status, "
	    "coalesce(key_expires_at <= now(), false), "
	    "acme_account_problem(id) FROM acme_account "
	    "WHERE kid = $1::uuid", 1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		e->id = db_long(res, 0, 0);
		e->hmac_key = db_strdup(res, 0, 1);
		e->status = db_strdup(res, 0, 2);
		e->key_expired = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		e->problem = db_strdup(res, 0, 4);
	}
	PQclear(res);
	return rc;
}

void
eab_free(struct eab *e)
{
	free(e->hmac_key);
	free(e->status);
	free(e->problem);
	memset(e, 0, sizeof(*e));
}

long
store_account_bind(struct db *db, const char *kid, const char *hmac,
    const char *jwk, const char *tp, const char *contact)
{
	const char *vals[5] = { kid, hmac, jwk, tp, contact };
	PGresult *res;
	long id;

	res = db_query(db, "SELECT account_bind($1::uuid, $2, $3::jsonb, $4, "
	    "$5::jsonb)", 5, vals);
	if (res == NULL)
		return db_failed_with(db, SQLSTATE_UNIQUE_VIOLATION) ? -1 : -2;
	id = PQntuples(res) == 1 ? db_long(res, 0, 0) : -2;
	PQclear(res);
	return id;
}

int
store_account_set_contact(struct db *db, long id, const char *contact)
{
	char buf[32];
	const char *vals[2] = { buf, contact };

	snprintf(buf, sizeof(buf), "%ld", id);
	return db_exec(db, "UPDATE account SET contact = $2::jsonb "
	    "WHERE id = $1 AND status = 'valid'", 2, vals);
}

int
store_account_deactivate(struct db *db, long id)
{
	char buf[32];
	const char *vals[1] = { buf };
	PGresult *res;
	int rc;

	snprintf(buf, sizeof(buf), "%ld", id);
	res = db_query(db, "UPDATE account SET status = 'deactivated' "
	    "WHERE id = $1 AND status = 'valid'", 1, vals);
	if (res == NULL)
		return -1;
	rc = strcmp(PQcmdTuples(res), "1") == 0;
	PQclear(res);
	return rc;
}

int
store_order_policy(struct db *db, long acme_account_id, char *const *names,
    size_t n, const char *profile, struct policy_problem **out)
{
	char acct[32], *arr;
	const char *vals[3];
	PGresult *res;
	int i, rows;

	*out = NULL;
	snprintf(acct, sizeof(acct), "%ld", acme_account_id);
	arr = pg_text_array((const char *const *)names, n);
	vals[0] = acct;
	vals[1] = arr;
	vals[2] = profile;
	res = db_query(db, "SELECT code, identifier FROM "
	    "order_policy($1, $2::text[], $3)", 3, vals);
	free(arr);
	if (res == NULL)
		return -1;
	rows = PQntuples(res);
	*out = xcalloc((size_t)rows, sizeof(**out));
	for (i = 0; i < rows; i++) {
		(*out)[i].code = db_strdup(res, i, 0);
		(*out)[i].identifier = db_strdup(res, i, 1);
	}
	PQclear(res);
	return rows;
}

void
policy_free(struct policy_problem *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(v[i].code);
		free(v[i].identifier);
	}
	free(v);
}

int
store_audit(struct db *db, const char *actor, const char *action,
    const char *type, const char *id, const char *detail)
{
	const char *vals[5] = { actor, action, type, id, detail };

	return db_exec(db, "SELECT audit($1, $2, $3, $4, $5::jsonb)", 5,
	    vals);
}

json_object *
store_profiles(struct db *db)
{
	PGresult *res;
	json_object *o;
	int i;

	res = db_query(db, "SELECT name, description FROM profile "
	    "ORDER BY name", 0, NULL);
	if (res == NULL)
		return NULL;
	o = json_object_new_object();
	for (i = 0; i < PQntuples(res); i++)
		json_object_object_add(o, PQgetvalue(res, i, 0),
		    json_object_new_string(PQgetvalue(res, i, 1)));
	PQclear(res);
	return o;
}

int
store_order_create(struct db *db, const struct order_new *o)
{
	char acct[32], life[32], *wild;
	char *names = NULL, *authz = NULL, *http = NULL, *dns = NULL;
	char *tokens = NULL;
	const char *vals[11];
	size_t i;
	int rc;

	snprintf(acct, sizeof(acct), "%ld", o->account_id);
	snprintf(life, sizeof(life), "%ld", o->lifetime);
	wild = xmalloc(2 * o->n + 3);
	wild[0] = '{';
	for (i = 0; i < o->n; i++) {
		wild[1 + 2 * i] = o->wildcard[i] ? 't' : 'f';
		wild[2 + 2 * i] = i + 1 < o->n ? ',' : '}';
	}
	wild[1 + 2 * o->n] = '\0';
	names = pg_text_array((const char *const *)o->names, o->n);
	authz = pg_text_array((const char *const *)o->authz_ids, o->n);
	http = pg_text_array((const char *const *)o->http_ids, o->n);
	dns = pg_text_array((const char *const *)o->dns_ids, o->n);
	tokens = pg_text_array((const char *const *)o->tokens, o->n);
	vals[0] = o->id;
	vals[1] = acct;
	vals[2] = o->identifiers;
	vals[3] = names;
	vals[4] = wild;
	vals[5] = authz;
	vals[6] = http;
	vals[7] = dns;
	vals[8] = tokens;
	vals[9] = life;
	vals[10] = o->replaces;
	rc = db_exec(db, "SELECT order_create($1, $2, $3::jsonb, $4::text[], "
	    "$5::boolean[], $6::text[], $7::text[], $8::text[], $9::text[], "
	    "now() + make_interval(secs => $10::integer), $11)", 11, vals);
	if (!rc)
		rc = db_failed_with(db, SQLSTATE_UNIQUE_VIOLATION) ? 0 : -1;
	free(wild);
	free(names);
	free(authz);
	free(http);
	free(dns);
	free(tokens);
	return rc;
}

int
store_order_get(struct db *db, const char *id, struct order *o)
{
	const char *vals[1] = { id };
	PGresult *res;
	int rc;

	memset(o, 0, sizeof(*o));
	res = db_query(db, "SELECT o.id, o.account_id, order_status(o), "
	    "rfc3339(o.expires_at), o.identifiers::text, o.error::text, "
	    "c.id, o.names, (SELECT array_agg(authorization_id ORDER BY "
	    "authorization_id) FROM order_authorization "
	    "WHERE order_id = o.id) FROM orders o "
	    "LEFT JOIN certificate c ON c.order_id = o.id WHERE o.id = $1",
	    1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		o->id = db_strdup(res, 0, 0);
		o->account_id = db_long(res, 0, 1);
		o->status = db_strdup(res, 0, 2);
		o->expires = db_strdup(res, 0, 3);
		o->identifiers = db_strdup(res, 0, 4);
		o->error = db_strdup(res, 0, 5);
		o->cert_id = db_strdup(res, 0, 6);
		o->names = pg_parse_array(db_val(res, 0, 7), &o->nnames);
		o->authz_ids = pg_parse_array(db_val(res, 0, 8), &o->nauthz);
	}
	PQclear(res);
	return rc;
}

void
order_free(struct order *o)
{
	free(o->id);
	free(o->status);
	free(o->expires);
	free(o->identifiers);
	free(o->error);
	free(o->cert_id);
	strv_free(o->names, o->nnames);
	strv_free(o->authz_ids, o->nauthz);
	memset(o, 0, sizeof(*o));
}

static int
bool_call(struct db *db, const char *sql, int n, const char *const *vals,
    const int *lens, const int *fmts)
{
	PGresult *res = db_query_bin(db, sql, n, vals, lens, fmts);
	int rc;

	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}

int
store_order_finalize(struct db *db, const char *id, const unsigned char *csr,
    size_t len)
{
	const char *vals[2] = { id, (const char *)csr };
	int lens[2] = { 0, (int)len }, fmts[2] = { 0, 1 };

	return bool_call(db, "SELECT order_finalize($1, $2)", 2, vals, lens,
	    fmts);
}

static void
challenge_fill(PGresult *res, int row, int col, struct challenge *c)
{
	c->id = db_strdup(res, row, col);
	c->authz_id = db_strdup(res, row, col + 1);
	c->account_id = db_long(res, row, col + 2);
	c->type = db_strdup(res, row, col + 3);
	c->token = db_strdup(res, row, col + 4);
	c->status = db_strdup(res, row, col + 5);
	c->validated = db_strdup(res, row, col + 6);
	c->error = db_strdup(res, row, col + 7);
}

#define CHALL_COLS "c.id, c.authorization_id, a.account_id, c.type, " \
	"c.token, c.status, rfc3339(c.validated_at), c.error::text"

int
store_authz_get(struct db *db, const char *id, struct authz *a)
{
	const char *vals[1] = { id };
	PGresult *res;
	int i, n;

	memset(a, 0, sizeof(*a));
	res = db_query(db, "SELECT a.id, a.account_id, a.identifier, "
	    "a.wildcard, CASE WHEN a.status = 'pending' AND a.expires_at <= "
	    "now() THEN 'expired' ELSE a.status END, rfc3339(a.expires_at), "
	    CHALL_COLS " FROM authorization_ a "
	    "LEFT JOIN challenge c ON c.authorization_id = a.id "
	    "WHERE a.id = $1 ORDER BY c.type DESC", 1, vals);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	if (n == 0) {
		PQclear(res);
		return 0;
	}
	a->id = db_strdup(res, 0, 0);
	a->account_id = db_long(res, 0, 1);
	a->identifier = db_strdup(res, 0, 2);
	a->wildcard = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
	a->status = db_strdup(res, 0, 4);
	a->expires = db_strdup(res, 0, 5);
	a->ch = xcalloc((size_t)n, sizeof(*a->ch));
	for (i = 0; i < n; i++)
		if (db_val(res, i, 6) != NULL)
			challenge_fill(res, i, 6, &a->ch[a->nch++]);
	PQclear(res);
	return 1;
}

void
challenge_free(struct challenge *c)
{
	free(c->id);
	free(c->authz_id);
	free(c->type);
	free(c->token);
	free(c->status);
	free(c->validated);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void
authz_free(struct authz *a)
{
	size_t i;

	for (i = 0; i < a->nch; i++)
		challenge_free(&a->ch[i]);
	free(a->ch);
	free(a->id);
	free(a->identifier);
	free(a->status);
	free(a->expires);
	memset(a, 0, sizeof(*a));
}

int
store_challenge_get(struct db *db, const char *id, struct challenge *c)
{
	const char *vals[1] = { id };
	PGresult *res;
	int rc;

	memset(c, 0, sizeof(*c));
	res = db_query(db, "SELECT " CHALL_COLS " FROM challenge c "
	    "JOIN authorization_ a ON a.id = c.authorization_id "
	    "WHERE c.id = $1", 1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc)
		challenge_fill(res, 0, 0, c);
	PQclear(res);
	return rc;
}

int
store_authz_deactivate(struct db *db, const char *id, const char *error)
{
	const char *vals[2] = { id, error };

	return bool_call(db, "SELECT authorization_deactivate($1, $2::jsonb)",
	    2, vals, NULL, NULL);
}

int
store_challenge_start(struct db *db, const char *id)
{
	const char *vals[1] = { id };

	return bool_call(db, "SELECT challenge_start($1)", 1, vals, NULL,
	    NULL);
}

int
store_cert_get(struct db *db, const char *id, long *account_id, char **pem)
{
	const char *vals[1] = { id };
	PGresult *res;
	int rc;

	*pem = NULL;
	res = db_query(db, "SELECT account_id, pem_chain FROM certificate "
	    "WHERE id = $1", 1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		*account_id = db_long(res, 0, 0);
		*pem = db_strdup(res, 0, 1);
	}
	PQclear(res);
	return rc;
}

int
store_cert_by_serial(struct db *db, const char *serial, struct cert_row *c)
{
	const char *vals[1] = { serial };
	PGresult *res;
	int rc;

	memset(c, 0, sizeof(*c));
	res = db_query_bin(db, "SELECT id, account_id, der, "
	    "extract(epoch FROM not_before)::bigint, "
	    "extract(epoch FROM not_after)::bigint, "
	    "coalesce(extract(epoch FROM revoked_at)::bigint, 0), "
	    "coalesce(extract(epoch FROM renew_after)::bigint, 0), names "
	    "FROM certificate WHERE serial = $1", 1, vals, NULL, NULL);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		c->id = db_strdup(res, 0, 0);
		c->account_id = db_long(res, 0, 1);
		c->der = PQunescapeBytea((const unsigned char *)PQgetvalue(res,
		    0, 2), &c->der_len);
		c->not_before = db_long(res, 0, 3);
		c->not_after = db_long(res, 0, 4);
		c->revoked_at = db_long(res, 0, 5);
		c->renew_after = db_long(res, 0, 6);
		c->names = pg_parse_array(db_val(res, 0, 7), &c->nnames);
		if (c->der == NULL)
			rc = -1;
	}
	PQclear(res);
	return rc;
}

void
cert_row_free(struct cert_row *c)
{
	free(c->id);
	strv_free(c->names, c->nnames);
	if (c->der != NULL)
		PQfreemem(c->der);
	memset(c, 0, sizeof(*c));
}

int
store_cert_revoke(struct db *db, const char *id, int reason,
    const char *actor)
{
	char buf[16];
	const char *vals[3] = { id, buf, actor };

	snprintf(buf, sizeof(buf), "%d", reason);
	return bool_call(db, "SELECT certificate_revoke($1, $2, $3)", 3, vals,
	    NULL, NULL);
}

int
store_account_may_revoke(struct db *db, long account_id, const char *cert)
{
	char buf[32];
	const char *vals[2] = { buf, cert };

	snprintf(buf, sizeof(buf), "%ld", account_id);
	return bool_call(db, "SELECT account_may_revoke($1, $2)", 2, vals,
	    NULL, NULL);
}

int
store_account_key_change(struct db *db, long id, const char *old_tp,
    const char *jwk, const char *tp)
{
	char buf[32];
	const char *vals[4] = { buf, old_tp, jwk, tp };
	int rc;

	snprintf(buf, sizeof(buf), "%ld", id);
	rc = bool_call(db, "SELECT account_key_change($1, $2, $3::jsonb, $4)",
	    4, vals, NULL, NULL);
	if (rc < 0)
		return db_failed_with(db, SQLSTATE_UNIQUE_VIOLATION) ? -1 : -2;
	return rc;
}

char **
store_account_orders_page(struct db *db, long id, const char *cursor,
    size_t limit, size_t *n, char **next)
{
	char acct[32], lim[32];
	const char *vals[3] = { acct, cursor, lim };
	PGresult *res;
	char **v;
	int i, rows;

	*n = 0;
	*next = NULL;
	snprintf(acct, sizeof(acct), "%ld", id);
	snprintf(lim, sizeof(lim), "%zu", limit + 1);
	/* keyset pagination on (created_at, id); the cursor is the last
	 * order of the previous page */
	res = db_query(db, "SELECT o.id FROM orders o WHERE o.account_id = $1 "
	    "AND ($2::text IS NULL OR (o.created_at, o.id) > "
	    "(SELECT c.created_at, c.id FROM orders c WHERE c.id = $2 "
	    "AND c.account_id = $1)) ORDER BY o.created_at, o.id LIMIT $3",
	    3, vals);
	if (res == NULL)
		return NULL;
	rows = PQntuples(res);
	if ((size_t)rows > limit) {
		rows = (int)limit;
		*next = db_strdup(res, rows - 1, 0);
	}
	v = xcalloc((size_t)rows + 1, sizeof(char *));
	for (i = 0; i < rows; i++)
		v[i] = db_strdup(res, i, 0);
	*n = (size_t)rows;
	PQclear(res);
	return v;
}
