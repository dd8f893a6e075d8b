/*
 * office.c - the SQL calls of the operators' back office (one SQL function
 * each, see office.h), and the pure helpers of the office pages and of
 * acmectl's operator commands.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "jsonutil.h"
#include "office.h"
#include "util.h"

struct office_def {
	const char	*sql;		/* $1: the actor if audited */
	int		 nparams;	/* the actor not counted */
	int		 audited;
};

static const struct office_def office_defs[OFFICE__MAX] = {
	[OFFICE_QUEUE] = { "SELECT office_queue($1::integer)", 1, 0 },
	[OFFICE_ORGANIZATION_SEARCH] = { "SELECT office_organization_search("
	    "$1, $2::integer)", 2, 0 },
	[OFFICE_ORGANIZATION_SHOW] = { "SELECT office_organization_show("
	    "$1::bigint, $2::integer)", 2, 0 },
	[OFFICE_ORGANIZATION_SET_STATUS] = { "SELECT "
	    "op_organization_set_status($1, $2::bigint, $3)", 2, 1 },
	[OFFICE_CREDIT_ADD] = { "SELECT op_credit_add($1, $2::bigint, "
	    "$3::integer, $4)", 3, 1 },
	[OFFICE_DOMAIN_SET_STATUS] = { "SELECT office_domain_set_status($1, "
	    "$2::bigint, $3)", 2, 1 },
	[OFFICE_DOCUMENT_SHOW] = { "SELECT office_document_show($1::bigint)",
	    1, 0 },
	[OFFICE_DOCUMENT_DECIDE] = { "SELECT office_document_decide($1, "
	    "$2::bigint, $3, $4, $5::date)", 4, 1 },
	[OFFICE_EXTERNAL_ACCOUNT_SHOW] = { "SELECT "
	    "office_external_account_show($1::bigint)", 1, 0 },
	[OFFICE_EXTERNAL_ACCOUNT_SET_STATUS] = { "SELECT "
	    "op_external_account_set_status($1, $2::bigint, $3)", 2, 1 },
	[OFFICE_ACME_ACCOUNT_SHOW] = { "SELECT office_acme_account_show("
	    "$1::uuid, $2::integer)", 2, 0 },
	[OFFICE_ACME_ACCOUNT_SET_STATUS] = { "SELECT "
	    "op_acme_account_set_status($1, $2::uuid, $3)", 2, 1 },
	[OFFICE_PREVIEW] = { "SELECT office_preview($1, $2, $3)", 3, 0 },
	[OFFICE_CERTIFICATE_SEARCH] = { "SELECT office_certificate_search("
	    "$1, $2::integer)", 2, 0 },
	[OFFICE_CERTIFICATE_SHOW] = { "SELECT office_certificate_show($1)", 1,
	    0 },
	[OFFICE_CERTIFICATE_REVOKE] = { "SELECT op_certificate_revoke($1, $2, "
	    "$3::integer)", 2, 1 },
	[OFFICE_AUDIT_PAGE] = { "SELECT office_audit_page($1, $2::bigint, "
	    "$3::integer)", 3, 0 },
};

/* The HTTP status of each kind of refusal the SQL functions return
 * (sql/011_portal.sql, sql/012_office.sql). */
static const struct {
	const char	*kind;
	int		 status;
} refusal_kinds[] = {
	{ "invalid", 400 },
	{ "not_found", 404 },
	{ "conflict", 409 },
};

static void
err_set(struct office_err *err, int status, const char *detail)
{
	err->status = status;
	snprintf(err->detail, sizeof(err->detail), "%s", detail);
}

int
office_nparams(enum office_call call)
{
	return office_defs[call].nparams;
}

int
office_refusal_status(const char *kind)
{
	size_t k;

	for (k = 0; kind != NULL && k < sizeof(refusal_kinds) /
	    sizeof(refusal_kinds[0]); k++)
		if (strcmp(kind, refusal_kinds[k].kind) == 0)
			return refusal_kinds[k].status;
	return 400;
}

json_object *
office_run(struct db *db, enum office_call call, const char *actor,
    const char *const *vals, struct office_err *err)
{
	const struct office_def *def = &office_defs[call];
	const char *refused;
	json_object *doc = NULL, *ret = NULL;
	int db_failed;

	if ((doc = db_call_json(db, def->sql, def->audited, actor,
	    def->nparams, vals, &db_failed)) == NULL) {
		if (db_failed)
			err_set(err, 500, "the database failed");
		else {
			msg_err("office: unexpected result of %s", def->sql);
			err_set(err, 500,
			    "unexpected result from the database");
		}
		goto out;
	}
	if ((refused = json_get_str(doc, "refused")) != NULL) {
		err_set(err, office_refusal_status(json_get_str(doc, "kind")),
		    refused);
		goto out;
	}
	ret = doc;
	doc = NULL;
out:
	json_object_put(doc);
	return ret;
}

int
office_document_file(struct db *db, const char *id, struct office_file *f,
    struct office_err *err)
{
	const char *vals[1];
	PGresult *res = NULL;
	unsigned char *raw = NULL;
	size_t len = 0;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	vals[0] = id;
	if ((res = db_query(db, "SELECT filename, content_type, content "
	    "FROM office_document_file($1::bigint)", 1, vals)) == NULL) {
		err_set(err, 500, "the database failed");
		goto out;
	}
	if (PQntuples(res) != 1) {
		err_set(err, 404, "this document has no file");
		goto out;
	}
	if ((raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0,
	    2), &len)) == NULL) {
		err_set(err, 500, "unexpected result from the database");
		goto out;
	}
	f->data = xmalloc(len + 1);
	memcpy(f->data, raw, len);
	f->len = len;
	f->filename = xstrdup(db_val(res, 0, 0) != NULL ? db_val(res, 0, 0) :
	    "");
	f->content_type = xstrdup(db_val(res, 0, 1) != NULL ?
	    db_val(res, 0, 1) : "");
	rc = 1;
out:
	PQfreemem(raw);
	PQclear(res);
	return rc;
}

void
office_file_free(struct office_file *f)
{
	free(f->filename);
	free(f->content_type);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

/* --- pure helpers ------------------------------------------------------ */

int
office_id_ok(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > 18 || s[0] == '0')
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

int
office_uuid_ok(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

int
office_amount_ok(const char *s)
{
	long long v = 0;
	size_t i = 0, digits = 0;
	int neg = 0;

	if (s == NULL)
		return 0;
	if (s[0] == '-') {
		neg = 1;
		i = 1;
	}
	for (; s[i] != '\0'; i++, digits++) {
		if (!isdigit((unsigned char)s[i]) || digits >= 10)
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	if (digits == 0 || v == 0)
		return 0;
	return neg ? v <= 2147483648LL : v <= 2147483647LL;
}

int
office_reason_ok(const char *s)
{
	static const char *const reasons[] = { "0", "1", "3", "4", "5", "9" };
	size_t i;

	for (i = 0; s != NULL && i < sizeof(reasons) / sizeof(reasons[0]);
	    i++)
		if (strcmp(s, reasons[i]) == 0)
			return 1;
	return 0;
}

/* Returns 1 if c may appear in a MIME type or subtype (RFC 6838
 * restricted-name characters). */
static int
mime_char(int c)
{
	return isalnum(c) || strchr("!#$&-^_.+", c) != NULL;
}

char *
office_content_type(const char *stored)
{
	const char *end;
	size_t i, n, slash = 0;
	char *s;

	if (stored == NULL)
		return xstrdup("application/octet-stream");
	end = strchr(stored, ';');
	n = end != NULL ? (size_t)(end - stored) : strlen(stored);
	while (n > 0 && (stored[n - 1] == ' ' || stored[n - 1] == '\t'))
		n--;
	for (i = 0; i < n; i++) {
		if (stored[i] == '/') {
			if (slash != 0 || i == 0)
				return xstrdup("application/octet-stream");
			slash = i;
		} else if (!mime_char((unsigned char)stored[i]))
			return xstrdup("application/octet-stream");
	}
	if (slash == 0 || slash + 1 >= n || n > 127)
		return xstrdup("application/octet-stream");
	s = xstrndup(stored, n);
	for (i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	return s;
}

char *
office_safe_filename(const char *name)
{
	const char *base, *p;
	char *out;
	size_t n = 0;

	if (name == NULL)
		name = "";
	base = name;
	for (p = name; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	while (*base == '.')
		base++;
	out = xmalloc(101);
	for (p = base; *p != '\0' && n < 100; p++)
		out[n++] = isalnum((unsigned char)*p) || *p == '.' ||
		    *p == '-' || *p == '_' ? *p : '_';
	out[n] = '\0';
	if (n == 0) {
		free(out);
		out = xstrdup("document");
	}
	return out;
}

char *
office_urlencode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *out, *o;

	if (s == NULL)
		s = "";
	out = o = xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~')
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Returns 1 if year (of the Gregorian calendar) has a 29 February. */
static int
leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
office_day_ok(const char *s)
{
	static const char shape[] = "dddd-dd-dd";
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int year, month, day;
	size_t i;

	if (s == NULL || strlen(s) != sizeof(shape) - 1)
		return 0;
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) :
		    s[i] != shape[i])
			return 0;
	year = atoi(s);
	month = atoi(s + 5);
	day = atoi(s + 8);
	if (year < 1 || month < 1 || month > 12 || day < 1)
		return 0;
	return day <= mdays[month - 1] + (month == 2 && leap_year(year));
}

void
office_day_from(time_t t, int years, int days, char *out, size_t size)
{
	struct tm tm;
	time_t moved;

	memset(&tm, 0, sizeof(tm));
	gmtime_r(&t, &tm);
	tm.tm_year += years;
	if (tm.tm_mon == 1 && tm.tm_mday == 29 &&
	    !leap_year(tm.tm_year + 1900))
		tm.tm_mday = 28;
	tm.tm_mday += days;
	tm.tm_hour = 12;	/* midday: no second of the day crosses it */
	tm.tm_min = tm.tm_sec = 0;
	moved = timegm(&tm);
	gmtime_r(&moved, &tm);
	if (strftime(out, size, "%Y-%m-%d", &tm) == 0 && size > 0)
		out[0] = '\0';
}

char *
office_date_text(const char *t)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (t == NULL)
		return xstrdup("");
	if (strlen(t) != sizeof(shape) - 1)
		return xstrdup(t);
	for (i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)t[i]) :
		    t[i] != shape[i])
			return xstrdup(t);
	return xasprintf("%.10s %.5s UTC", t, t + 11);
}

char *
office_cert_sha256_pem(const char *pem, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int mdlen = 0, i;
	BIO *bio = NULL;
	X509 *x = NULL;
	char *out = NULL;
	int derlen;

	if (len > (size_t)1 << 20 ||
	    (bio = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    (derlen = i2d_X509(x, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(),
	    NULL) != 1) {
		ERR_clear_error();	/* the caller says what is wrong */
		goto out;
	}
	out = xmalloc(mdlen * 2 + 1);
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * mdlen] = '\0';
out:
	OPENSSL_free(der);
	X509_free(x);
	BIO_free(bio);
	return out;
}
