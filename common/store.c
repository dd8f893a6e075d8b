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

/* fcgi_auth's columns, first in each function of sql/013: result, then
 * those of ACCT_COLS. */
#define AUTH_NCOLS	11

/*
 * Runs sql, fcgi_auth or a function of sql/013, whose parameters $1..$5
 * are aa's (set here in vals[0..5)) and vals[5..n) the resource's (lens
 * and fmts as db_query_bin takes them, or NULL), and reads fcgi_auth's
 * columns of its first row into aa->result and a (zeroed first). Returns
 * the result (the caller PQclears it), or NULL on a database error or a
 * result of another shape than ncols columns and at least one row.
 */
static PGresult *
auth_query(struct db *db, const char *sql, struct auth_args *aa,
    struct acct *a, int ncols, int n, const char **vals, const int *lens,
    const int *fmts)
{
	static const char *const names[SA__MAX] = {
		[SA_OK] = "ok",
		[SA_UNKNOWN] = "unknown",
		[SA_KEY] = "key",
		[SA_REFUSED] = "refused",
		[SA_NONCE] = "nonce",
	};
	char ibuf[32], ebuf[16];
	const char *v;
	PGresult *res;
	int i;

	memset(a, 0, sizeof(*a));
	snprintf(ibuf, sizeof(ibuf), "%ld", aa->id);
	snprintf(ebuf, sizeof(ebuf), "%d", aa->epoch);
	vals[0] = ibuf;
	vals[1] = aa->tp;
	vals[2] = aa->nonce;
	vals[3] = ebuf;
	vals[4] = aa->usable ? "t" : "f";
	if ((res = db_query_bin(db, sql, n, vals, lens, fmts)) == NULL)
		return NULL;
	i = SA__MAX;
	if (PQntuples(res) >= 1 && PQnfields(res) == ncols &&
	    (v = db_val(res, 0, 0)) != NULL)
		for (i = 0; i < SA__MAX; i++)
			if (strcmp(v, names[i]) == 0)
				break;
	if (i == SA__MAX) {
		msg_err("sql: unexpected result of %.40s", sql);
		PQclear(res);
		return NULL;
	}
	aa->result = (enum store_auth)i;
	if (db_val(res, 0, 1) != NULL)
		acct_cols(res, 1, a);
	return res;
}

int
store_auth(struct db *db, struct auth_args *aa, struct acct *a)
{
	const char *vals[5];
	PGresult *res;

	res = auth_query(db, "SELECT * FROM fcgi_auth($1, $2, $3, $4, $5)",
	    aa, a, AUTH_NCOLS, 5, vals, NULL, NULL);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 1;
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

/* Fills o from the nine order columns of fcgi_order_get (sql/013) at
 * (row, col); leaves it zeroed when the order's id is NULL. */
static void
order_cols(PGresult *res, int row, int col, struct order *o)
{
	memset(o, 0, sizeof(*o));
	if (db_val(res, row, col) == NULL)
		return;
	o->id = db_strdup(res, row, col);
	o->account_id = db_long(res, row, col + 1);
	o->status = db_strdup(res, row, col + 2);
	o->expires = db_strdup(res, row, col + 3);
	o->identifiers = db_strdup(res, row, col + 4);
	o->error = db_strdup(res, row, col + 5);
	o->cert_id = db_strdup(res, row, col + 6);
	o->names = pg_parse_array(db_val(res, row, col + 7), &o->nnames);
	o->authz_ids = pg_parse_array(db_val(res, row, col + 8), &o->nauthz);
}

int
store_order_get(struct db *db, const char *id, struct order *o)
{
	const char *vals[1] = { id };
	PGresult *res;
	int rc;

	memset(o, 0, sizeof(*o));
	res = db_query(db, "SELECT * FROM fcgi_order_get($1)", 1, vals);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && PQnfields(res) == 9)
		order_cols(res, 0, 0, o);
	rc = o->id != NULL;
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

/* Reads the policy problems of fcgi_policy's two arrays (codes, and
 * identifiers, '' for none) at (0, col) into *out (owned, free with
 * policy_free); returns how many (0: the order is allowed). */
static int
policy_cols(PGresult *res, int col, struct policy_problem **out)
{
	char **codes, **idents;
	size_t nc = 0, ni = 0, i;

	*out = NULL;
	if (db_val(res, 0, col) == NULL)
		return 0;
	codes = pg_parse_array(db_val(res, 0, col), &nc);
	idents = pg_parse_array(db_val(res, 0, col + 1), &ni);
	*out = xcalloc(nc, sizeof(**out));
	for (i = 0; i < nc; i++) {
		(*out)[i].code = codes[i];
		codes[i] = NULL;
		if (i < ni && idents[i][0] != '\0')
			(*out)[i].identifier = xstrdup(idents[i]);
	}
	strv_free(codes, nc);
	strv_free(idents, ni);
	return (int)nc;
}

/* Returns 1 if the boolean at (0, col) is true, 0 if false, -1 if NULL. */
static int
tristate(PGresult *res, int col)
{
	const char *v = db_val(res, 0, col);

	if (v == NULL)
		return -1;
	return strcmp(v, "t") == 0;
}

int
store_auth_order(struct db *db, struct auth_args *aa, struct acct *a,
    const char *id, struct order *o)
{
	const char *vals[6];
	PGresult *res;

	memset(o, 0, sizeof(*o));
	vals[5] = id;
	res = auth_query(db, "SELECT * FROM fcgi_order($1, $2, $3, $4, $5, "
	    "$6)", aa, a, AUTH_NCOLS + 9, 6, vals, NULL, NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK)
		order_cols(res, 0, AUTH_NCOLS, o);
	PQclear(res);
	return 1;
}

int
store_auth_new_order(struct db *db, struct auth_args *aa, struct acct *a,
    const struct order_new *on, const char *profile,
    struct policy_problem **pp, int *npp, int *replaced, struct order *o)
{
	char life[32], *wild;
	char *names = NULL, *authz = NULL, *http = NULL, *dns = NULL;
	char *tokens = NULL;
	const char *vals[16];
	PGresult *res;
	size_t i;
	int rc = -1;

	*pp = NULL;
	*npp = 0;
	*replaced = 0;
	memset(o, 0, sizeof(*o));
	snprintf(life, sizeof(life), "%ld", on->lifetime);
	wild = xmalloc(2 * on->n + 3);
	wild[0] = '{';
	for (i = 0; i < on->n; i++) {
		wild[1 + 2 * i] = on->wildcard[i] ? 't' : 'f';
		wild[2 + 2 * i] = i + 1 < on->n ? ',' : '}';
	}
	wild[1 + 2 * on->n] = '\0';
	names = pg_text_array((const char *const *)on->names, on->n);
	authz = pg_text_array((const char *const *)on->authz_ids, on->n);
	http = pg_text_array((const char *const *)on->http_ids, on->n);
	dns = pg_text_array((const char *const *)on->dns_ids, on->n);
	tokens = pg_text_array((const char *const *)on->tokens, on->n);
	vals[5] = on->id;
	vals[6] = on->identifiers;
	vals[7] = names;
	vals[8] = wild;
	vals[9] = authz;
	vals[10] = http;
	vals[11] = dns;
	vals[12] = tokens;
	vals[13] = life;
	vals[14] = profile;
	vals[15] = on->replaces;
	res = auth_query(db, "SELECT * FROM fcgi_new_order($1, $2, $3, $4, "
	    "$5, $6, $7::jsonb, $8::text[], $9::boolean[], $10::text[], "
	    "$11::text[], $12::text[], $13::text[], $14::integer, $15, $16)",
	    aa, a, AUTH_NCOLS + 12, 16, vals, NULL, NULL);
	if (res == NULL)
		goto out;
	if (aa->result == SA_OK) {
		*npp = policy_cols(res, AUTH_NCOLS, pp);
		*replaced = tristate(res, AUTH_NCOLS + 2) == 1;
		order_cols(res, 0, AUTH_NCOLS + 3, o);
	}
	PQclear(res);
	rc = 1;
out:
	free(wild);
	free(names);
	free(authz);
	free(http);
	free(dns);
	free(tokens);
	return rc;
}

int
store_auth_finalize(struct db *db, struct auth_args *aa, struct acct *a,
    const char *id, const unsigned char *csr, size_t csr_len,
    char *const *names, size_t nnames, int bits, struct finalize_out *f)
{
	char bbuf[16], *arr = NULL;
	const char *vals[9];
	int lens[9] = { 0 }, fmts[9] = { 0 };
	PGresult *res;

	memset(f, 0, sizeof(*f));
	f->finalized = -1;
	if (names != NULL)
		arr = pg_text_array((const char *const *)names, nnames);
	snprintf(bbuf, sizeof(bbuf), "%d", bits);
	vals[5] = id;
	vals[6] = (const char *)csr;
	lens[6] = (int)csr_len;
	fmts[6] = 1;
	vals[7] = arr;
	vals[8] = bbuf;
	res = auth_query(db, "SELECT * FROM fcgi_finalize($1, $2, $3, $4, $5, "
	    "$6, $7, $8::text[], $9::integer)", aa, a, AUTH_NCOLS + 13, 9,
	    vals, lens, fmts);
	free(arr);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK) {
		f->status = db_strdup(res, 0, AUTH_NCOLS);
		f->npp = policy_cols(res, AUTH_NCOLS + 1, &f->pp);
		f->finalized = tristate(res, AUTH_NCOLS + 3);
		order_cols(res, 0, AUTH_NCOLS + 4, &f->order);
	}
	PQclear(res);
	return 1;
}

void
finalize_out_free(struct finalize_out *f)
{
	free(f->status);
	policy_free(f->pp, (size_t)(f->npp > 0 ? f->npp : 0));
	order_free(&f->order);
	memset(f, 0, sizeof(*f));
}

int
store_auth_authz(struct db *db, struct auth_args *aa, struct acct *a,
    const char *id, const char *deactivate, int *deactivated,
    struct authz *z)
{
	const char *vals[7];
	PGresult *res;
	int i, n, col = AUTH_NCOLS + 1;

	memset(z, 0, sizeof(*z));
	*deactivated = -1;
	vals[5] = id;
	vals[6] = deactivate;
	res = auth_query(db, "SELECT * FROM fcgi_authorization($1, $2, $3, "
	    "$4, $5, $6, $7::jsonb)", aa, a, AUTH_NCOLS + 15, 7, vals, NULL,
	    NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK && db_val(res, 0, col) != NULL) {
		*deactivated = tristate(res, AUTH_NCOLS);
		n = PQntuples(res);
		z->id = db_strdup(res, 0, col);
		z->account_id = db_long(res, 0, col + 1);
		z->identifier = db_strdup(res, 0, col + 2);
		z->wildcard = tristate(res, col + 3) == 1;
		z->status = db_strdup(res, 0, col + 4);
		z->expires = db_strdup(res, 0, col + 5);
		z->ch = xcalloc((size_t)n, sizeof(*z->ch));
		for (i = 0; i < n; i++)
			if (db_val(res, i, col + 6) != NULL)
				challenge_fill(res, i, col + 6,
				    &z->ch[z->nch++]);
	}
	PQclear(res);
	return 1;
}

int
store_auth_challenge(struct db *db, struct auth_args *aa, struct acct *a,
    const char *id, int start, struct challenge *c)
{
	const char *vals[7];
	PGresult *res;

	memset(c, 0, sizeof(*c));
	vals[5] = id;
	vals[6] = start ? "t" : "f";
	res = auth_query(db, "SELECT * FROM fcgi_challenge($1, $2, $3, $4, "
	    "$5, $6, $7::boolean)", aa, a, AUTH_NCOLS + 8, 7, vals, NULL,
	    NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK && db_val(res, 0, AUTH_NCOLS) != NULL)
		challenge_fill(res, 0, AUTH_NCOLS, c);
	PQclear(res);
	return 1;
}

/*
 * Waits for the outcome of the object of channel kind (acme_c_, acme_o_)
 * and id (sql/018, outcome_channel), then runs sql ($1: id), the read
 * that also stops listening, which must return one row of nfields whose
 * first is not NULL. Returns that row (caller clears), or NULL with *rc
 * 0 when the id makes no channel (the session did not listen: nothing is
 * waited for or read), -1 on error.
 */
static PGresult *
outcome_read(struct db *db, const char *kind, const char *id,
    int timeout_ms, const char *sql, int nfields, int *rc)
{
	const char *vals[1] = { id };
	char channel[64];
	PGresult *res;
	int n, got;

	*rc = 0;
	n = snprintf(channel, sizeof(channel), "%s%s", kind, id);
	if (n < 0 || (size_t)n >= sizeof(channel))
		return NULL;
	got = db_wait_notify(db, channel, timeout_ms);
	msg_debug("outcome of %s: %s", channel, got > 0 ? "notified" :
	    got == 0 ? "not within the wait" : "connection failed");
	*rc = -1;
	if ((res = db_query(db, sql, 1, vals)) == NULL) {
		/* the session stops listening all the same: one that stayed
		 * a listener would be woken by every notification */
		(void)db_exec(db, "UNLISTEN *", 0, NULL);
		return NULL;
	}
	if (PQntuples(res) != 1 || PQnfields(res) != nfields ||
	    db_val(res, 0, 0) == NULL) {
		PQclear(res);
		return NULL;
	}
	*rc = 1;
	return res;
}

int
store_challenge_wait(struct db *db, const char *id, int timeout_ms,
    struct challenge *c)
{
	PGresult *res;
	int rc;

	res = outcome_read(db, "acme_c_", id, timeout_ms,
	    "SELECT * FROM fcgi_challenge_waited($1)", 8, &rc);
	if (res == NULL)
		return rc;
	challenge_free(c);
	challenge_fill(res, 0, 0, c);
	PQclear(res);
	return 1;
}

int
store_order_wait(struct db *db, const char *id, int timeout_ms,
    struct order *o)
{
	PGresult *res;
	int rc;

	res = outcome_read(db, "acme_o_", id, timeout_ms,
	    "SELECT * FROM fcgi_order_waited($1)", 9, &rc);
	if (res == NULL)
		return rc;
	order_free(o);
	order_cols(res, 0, 0, o);
	PQclear(res);
	return 1;
}

int
store_auth_cert(struct db *db, struct auth_args *aa, struct acct *a,
    const char *id, long *owner, char **pem)
{
	const char *vals[6];
	PGresult *res;

	*owner = 0;
	*pem = NULL;
	vals[5] = id;
	res = auth_query(db, "SELECT * FROM fcgi_certificate($1, $2, $3, $4, "
	    "$5, $6)", aa, a, AUTH_NCOLS + 2, 6, vals, NULL, NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK) {
		*owner = db_long(res, 0, AUTH_NCOLS);
		*pem = db_strdup(res, 0, AUTH_NCOLS + 1);
	}
	PQclear(res);
	return 1;
}

int
store_auth_account(struct db *db, struct auth_args *aa, struct acct *a,
    int deactivate, const char *contact, int *changed)
{
	const char *vals[7];
	PGresult *res;

	*changed = -1;
	vals[5] = deactivate ? "t" : "f";
	vals[6] = contact;
	res = auth_query(db, "SELECT * FROM fcgi_account($1, $2, $3, $4, $5, "
	    "$6::boolean, $7::jsonb)", aa, a, AUTH_NCOLS + 1, 7, vals, NULL,
	    NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK)
		*changed = tristate(res, AUTH_NCOLS);
	PQclear(res);
	return 1;
}

int
store_auth_account_orders(struct db *db, struct auth_args *aa,
    struct acct *a, const char *cursor, size_t limit, char ***ids,
    size_t *n, char **next)
{
	char lim[32];
	const char *vals[7];
	PGresult *res;

	*ids = NULL;
	*n = 0;
	*next = NULL;
	snprintf(lim, sizeof(lim), "%zu", limit + 1);
	vals[5] = cursor;
	vals[6] = lim;
	res = auth_query(db, "SELECT * FROM fcgi_account_orders($1, $2, $3, "
	    "$4, $5, $6, $7::integer)", aa, a, AUTH_NCOLS + 1, 7, vals, NULL,
	    NULL);
	if (res == NULL)
		return -1;
	if (aa->result == SA_OK) {
		*ids = pg_parse_array(db_val(res, 0, AUTH_NCOLS), n);
		if (*n > limit) {
			/* one more than a page: there is a next one */
			free((*ids)[limit]);
			(*ids)[limit] = NULL;
			*n = limit;
			*next = limit > 0 ? xstrdup((*ids)[limit - 1]) : NULL;
		}
	}
	PQclear(res);
	return 1;
}
