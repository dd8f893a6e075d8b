/*
 * portal.c - the database calls of the customer's certificate manager
 * (one SQL function of sql/011_portal.sql each) and the pure logic of its
 * pages: content sniffing, serial normalization, ACME client command
 * lines, e-mail, country and file name checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <idn2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "ident.h"
#include "jose.h"
#include "jsonutil.h"
#include "office.h"
#include "portal.h"
#include "util.h"

struct portal_def {
	const char	*sql;
	int		 nparams;
};

/* Token hashes travel as hex and become bytea in SQL. */
static const struct portal_def portal_defs[PORTAL__MAX] = {
	[PORTAL_SIGNUP] = { "SELECT portal_signup($1, $2, $3, $4, $5, $6, "
	    "$7, decode($8, 'hex'), $9::integer, $10::jsonb)", 10 },
	[PORTAL_CONFIRMATION_RESEND] = { "SELECT portal_confirmation_resend("
	    "$1, decode($2, 'hex'), $3::integer, $4::jsonb)", 4 },
	[PORTAL_EMAIL_CONFIRM] = { "SELECT portal_email_confirm("
	    "decode($1, 'hex'))", 1 },
	[PORTAL_PASSWORD_FORGOT] = { "SELECT portal_password_forgot($1, "
	    "decode($2, 'hex'), $3::integer, $4::jsonb)", 4 },
	[PORTAL_PASSWORD_RESET_CHECK] = { "SELECT "
	    "portal_password_reset_check(decode($1, 'hex'))", 1 },
	[PORTAL_PASSWORD_RESET] = { "SELECT portal_password_reset("
	    "decode($1, 'hex'), $2)", 2 },
	[PORTAL_PASSWORD_CHANGE] = { "SELECT portal_password_change($1, "
	    "$2::bigint, $3, decode($4, 'hex'))", 4 },
	[PORTAL_LANGUAGE_SET] = { "SELECT portal_language_set($1, "
	    "$2::bigint, $3)", 3 },
	[PORTAL_SETTINGS] = { "SELECT portal_settings($1::bigint)", 1 },
	[PORTAL_DASHBOARD] = { "SELECT portal_dashboard($1::bigint)", 1 },
	[PORTAL_ORGANIZATION_SHOW] = { "SELECT portal_organization_show("
	    "$1::bigint)", 1 },
	[PORTAL_ORGANIZATION_UPDATE] = { "SELECT portal_organization_update("
	    "$1, $2::bigint, $3, $4, $5, $6)", 6 },
	[PORTAL_DOMAIN_DECLARE] = { "SELECT portal_domain_declare($1, "
	    "$2::bigint, $3)", 3 },
	[PORTAL_DOCUMENT_LIST] = { "SELECT portal_document_list($1::bigint)",
	    1 },
	[PORTAL_ACME_ACCOUNT_LIST] = { "SELECT portal_acme_account_list("
	    "$1::bigint)", 1 },
	[PORTAL_ACME_ACCOUNT_FORM] = { "SELECT portal_acme_account_form("
	    "$1::bigint)", 1 },
	[PORTAL_ACME_ACCOUNT_CREATE] = { "SELECT portal_acme_account_create("
	    "$1, $2::bigint, $3::uuid, $4, $5, $6::jsonb)", 6 },
	[PORTAL_ACME_ACCOUNT_SHOW] = { "SELECT portal_acme_account_show("
	    "$1::bigint, $2)", 2 },
	[PORTAL_ACME_ACCOUNT_REGENERATE] = { "SELECT "
	    "portal_acme_account_regenerate_key($1, $2::bigint, $3, $4)", 4 },
	[PORTAL_ACME_ACCOUNT_SET_STATUS] = { "SELECT "
	    "portal_acme_account_set_status($1, $2::bigint, $3, $4)", 4 },
	[PORTAL_CERTIFICATE_SEARCH] = { "SELECT portal_certificate_search("
	    "$1::bigint, $2, $3, $4::integer, $5::integer)", 5 },
	[PORTAL_CERTIFICATE_SHOW] = { "SELECT portal_certificate_show("
	    "$1::bigint, $2)", 2 },
	[PORTAL_CERTIFICATE_REVOKE] = { "SELECT portal_certificate_revoke("
	    "$1, $2::bigint, $3, $4::integer)", 4 },
	[PORTAL_CREDIT] = { "SELECT portal_credit($1::bigint, $2::integer, "
	    "$3::integer)", 3 },
	[PORTAL_OUTBOX_LIST] = { "SELECT portal_outbox_list($1::bigint, "
	    "$2::integer, $3::integer)", 3 },
	[PORTAL_OUTBOX_SHOW] = { "SELECT portal_outbox_show($1::bigint, "
	    "$2::bigint)", 2 },
};

int
portal_nparams(enum portal_fn fn)
{
	return portal_defs[fn].nparams;
}

/* Returns the JSON document of a one-row, one-column result (new
 * reference), or NULL (logged). */
static json_object *
portal_result_doc(PGresult *res, const char *what)
{
	json_object *doc = NULL;
	const char *v;

	if (PQntuples(res) != 1 || PQnfields(res) != 1 ||
	    (v = db_val(res, 0, 0)) == NULL ||
	    (doc = json_parse_strict(v, strlen(v))) == NULL ||
	    !json_object_is_type(doc, json_type_object)) {
		msg_err("%s: unexpected result from the database", what);
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

json_object *
portal_call(struct db *db, enum portal_fn fn, const char *const *vals)
{
	const struct portal_def *def = &portal_defs[fn];
	json_object *doc = NULL;
	PGresult *res = NULL;

	if ((res = db_query(db, def->sql, def->nparams, vals)) == NULL)
		goto out;
	doc = portal_result_doc(res, def->sql);
out:
	PQclear(res);
	return doc;
}

const char *
portal_refused(json_object *doc)
{
	return doc != NULL ? json_get_str(doc, "refused") : NULL;
}

json_object *
portal_document_upload(struct db *db, const char *const *vals,
    const unsigned char *data, size_t len)
{
	static const char sql[] = "SELECT portal_document_upload($1, "
	    "$2::bigint, $3, $4, $5, $6, $7, $8, $9::bytea)";
	const char *params[9];
	int lens[9], fmts[9];
	json_object *doc = NULL;
	PGresult *res = NULL;
	int i;

	if (len > 0x7fffffff)
		return NULL;
	for (i = 0; i < 8; i++) {
		params[i] = vals[i];
		lens[i] = 0;
		fmts[i] = 0;
	}
	params[8] = (const char *)data;
	lens[8] = (int)len;
	fmts[8] = 1;
	if ((res = db_query_bin(db, sql, 9, params, lens, fmts)) == NULL)
		goto out;
	doc = portal_result_doc(res, "portal_document_upload");
out:
	PQclear(res);
	return doc;
}

void
portal_file_free(struct portal_file *f)
{
	if (f == NULL)
		return;
	free(f->name);
	free(f->content_type);
	free(f->data);
	memset(f, 0, sizeof(*f));
}

int
portal_document_file(struct db *db, const char *xa, const char *id,
    struct portal_file *f)
{
	static const char sql[] = "SELECT filename, content_type, "
	    "encode(content, 'hex') FROM portal_document_file($1::bigint, "
	    "$2::bigint)";
	const char *params[2] = { xa, id };
	PGresult *res = NULL;
	const char *hex;
	size_t i, n;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if ((res = db_query(db, sql, 2, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1 || (hex = db_val(res, 0, 2)) == NULL) {
		rc = 0;
		goto out;
	}
	n = strlen(hex);
	if (n % 2 != 0) {
		msg_err("portal_document_file: odd hex length");
		goto out;
	}
	f->data = xmalloc(n / 2 + 1);
	for (i = 0; i < n / 2; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
			msg_err("portal_document_file: bad hex");
			portal_file_free(f);
			goto out;
		}
		f->data[i] = (unsigned char)v;
	}
	f->len = n / 2;
	f->name = db_strdup(res, 0, 0);
	f->content_type = db_strdup(res, 0, 1);
	rc = 1;
out:
	PQclear(res);
	return rc;
}

int
portal_certificate_pem(struct db *db, const char *xa, const char *id,
    struct portal_file *f)
{
	static const char sql[] = "SELECT serial, pem_chain FROM "
	    "portal_certificate_pem($1::bigint, $2)";
	const char *params[2] = { xa, id };
	PGresult *res = NULL;
	const char *pem;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if ((res = db_query(db, sql, 2, params)) == NULL)
		goto out;
	if (PQntuples(res) != 1 || (pem = db_val(res, 0, 1)) == NULL) {
		rc = 0;
		goto out;
	}
	f->name = db_strdup(res, 0, 0);
	f->content_type = xstrdup("application/pem-certificate-chain");
	f->len = strlen(pem);
	f->data = (unsigned char *)xstrdup(pem);
	rc = 1;
out:
	PQclear(res);
	return rc;
}

char *
portal_password_hash(struct db *db, const char *xa)
{
	static const char sql[] = "SELECT portal_password_hash($1::bigint)";
	const char *params[1] = { xa };
	PGresult *res;
	char *hash = NULL;

	if ((res = db_query(db, sql, 1, params)) == NULL)
		return NULL;
	if (PQntuples(res) == 1)
		hash = db_strdup(res, 0, 0);
	PQclear(res);
	return hash;
}

/* ------------------------------------------------------------------ */
/* Pure logic                                                          */

const char *
portal_sniff(const unsigned char *p, size_t len)
{
	static const unsigned char png[8] = { 0x89, 'P', 'N', 'G', '\r',
	    '\n', 0x1a, '\n' };

	if (p == NULL)
		return NULL;
	if (len >= 5 && memcmp(p, "%PDF-", 5) == 0)
		return "application/pdf";
	if (len >= sizeof(png) && memcmp(p, png, sizeof(png)) == 0)
		return "image/png";
	if (len >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "image/jpeg";
	return NULL;
}

void
portal_sha256_hex(const void *data, size_t len, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md))
		msg_fatal("SHA-256 failed");
	for (i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0x0f];
	}
	out[64] = '\0';
}

void
portal_token_hash(const char *token, char hash[65])
{
	portal_sha256_hex(token, strlen(token), hash);
}

char *
portal_token_new(char hash[65])
{
	char *t = random_token();

	portal_token_hash(t, hash);
	return t;
}

char *
portal_hmac_key_new(void)
{
	unsigned char key[32];
	char *s = NULL;

	do {
		if (s != NULL) {
			OPENSSL_cleanse(s, strlen(s));
			free(s);
		}
		rand_bytes(key, sizeof(key));
		s = b64u_encode(key, sizeof(key));
	} while (s[0] == '-');
	OPENSSL_cleanse(key, sizeof(key));
	return s;
}

int
portal_serial_normalize(const char *in, char *out, size_t outsz)
{
	static const char hex[] = "0123456789abcdef";
	const char *p;
	size_t n = 0, end;
	int v;

	if (in == NULL || out == NULL || outsz == 0)
		return 0;
	while (*in == ' ')
		in++;
	end = strlen(in);
	while (end > 0 && in[end - 1] == ' ')
		end--;
	if (end >= 2 && in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
		in += 2;
		end -= 2;
	}
	for (p = in; p < in + end; p++) {
		if (*p == ':' || *p == ' ') {
			/* a separator between two digits only */
			if (p == in || p + 1 == in + end ||
			    hex_digit(p[-1]) < 0 || hex_digit(p[1]) < 0)
				return 0;
			continue;
		}
		if ((v = hex_digit(*p)) < 0 || n + 1 >= outsz || n >= 40)
			return 0;
		out[n++] = hex[v];
	}
	out[n] = '\0';
	return n >= 6;
}

int
portal_domain_normalize(const char *in, char *out, int allow_wildcard)
{
	struct problem p;
	char buf[256], *ascii = NULL;
	size_t n, i;
	int wildcard = 0, rc;

	memset(&p, 0, sizeof(p));
	out[0] = '\0';
	if (in == NULL)
		return 0;
	while (*in == ' ' || *in == '\t')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == ' ' || in[n - 1] == '\t' ||
	    in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(buf))
		return 0;
	memcpy(buf, in, n);
	buf[n] = '\0';
	/* an internationalized name is taken in its A-label form */
	for (i = 0; i < n; i++)
		if ((unsigned char)buf[i] >= 0x80)
			break;
	if (i < n) {
		if (idn2_to_ascii_8z(buf, &ascii, IDN2_NONTRANSITIONAL) !=
		    IDN2_OK || strlen(ascii) >= sizeof(buf)) {
			idn2_free(ascii);
			return 0;
		}
		snprintf(buf, sizeof(buf), "%s", ascii);
		idn2_free(ascii);
	}
	rc = ident_check(buf, out, &wildcard, &p) &&
	    (allow_wildcard || !wildcard);
	problem_clear(&p);
	if (!rc)
		out[0] = '\0';
	return rc;
}

/* ISO 3166-1 alpha-2, the officially assigned codes. */
static const char countries[] =
	"AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ "
	"BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ "
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
	"DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR "
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY "
	"HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP "
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY "
	"MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ "
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM "
	"PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW "
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ "
	"TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ "
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

int
portal_country_valid(const char *code)
{
	size_t i;

	if (code == NULL || strlen(code) != 2 || code[0] < 'A' ||
	    code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
		return 0;
	for (i = 0; i + 1 < sizeof(countries); i += 3)
		if (countries[i] == code[0] && countries[i + 1] == code[1])
			return 1;
	return 0;
}

int
portal_email_valid(const char *s)
{
	static const char local_ok[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.!#$%&'*+/=?^_`{|}~-";
	const char *at, *p, *label;
	size_t n, labels = 0;

	if (s == NULL || (n = strlen(s)) == 0 || n > 254 ||
	    (at = strchr(s, '@')) == NULL || strchr(at + 1, '@') != NULL ||
	    at == s || at - s > 64)
		return 0;
	for (p = s; p < at; p++)
		if (strchr(local_ok, *p) == NULL)
			return 0;
	for (label = p = at + 1; ; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-' ||
			    p - label > 63)
				return 0;
			labels++;
			if (*p == '\0')
				break;
			label = p + 1;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return 0;
	}
	return labels >= 2;
}

/* Returns the length of the valid UTF-8 sequence at p (at most n bytes
 * available), or 0 if it is not one. */
static size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned long c;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

char *
portal_filename_clean(const char *name)
{
	const unsigned char *p, *base;
	char *out;
	size_t n = 0, len, k;

	if (name == NULL)
		name = "";
	base = (const unsigned char *)name;
	for (p = base; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	while (*base == ' ' || *base == '.')
		base++;
	len = strlen((const char *)base);
	out = xmalloc(len + 1 < 201 ? len + 1 : 201);
	for (p = base; *p != '\0'; p += k) {
		if ((k = utf8_seq(p, len - (size_t)(p - base))) == 0) {
			k = 1;		/* an invalid byte is left out */
			continue;
		}
		if (k == 1 && (*p < 0x20 || *p == 0x7f || *p == '"' ||
		    *p == '\'' || *p == '<' || *p == '>' || *p == '`'))
			continue;
		if (n + k > 200)
			break;
		memcpy(out + n, p, k);
		n += k;
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
	if (n == 0) {
		free(out);
		out = xstrdup("document");
	}
	return out;
}

char *
portal_filename_ascii(const char *name)
{
	char *out;
	size_t i, n;

	if (name == NULL || *name == '\0')
		name = "document";
	n = strlen(name);
	if (n > 100)
		n = 100;
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		char c = name[i];

		out[i] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_') ? c : '_';
	}
	out[n] = '\0';
	if (out[0] == '.')
		out[0] = '_';
	return out;
}

char *
portal_url_encode(const char *s)
{
	return office_urlencode(s);
}

char *
portal_date(const char *iso, int fr, int date_only, char *out, size_t outsz)
{
	int y, mo, d, h, mi, s, n = 0;

	if (outsz == 0)
		return out;
	if (iso == NULL) {
		out[0] = '\0';
		return out;
	}
	if (strlen(iso) != 20 || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2dZ%n",
	    &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 20) {
		snprintf(out, outsz, "%s", iso);
		return out;
	}
	if (fr && date_only)
		snprintf(out, outsz, "%02d/%02d/%04d", d, mo, y);
	else if (fr)
		snprintf(out, outsz, "%02d/%02d/%04d %02d:%02d UTC", d, mo, y,
		    h, mi);
	else if (date_only)
		snprintf(out, outsz, "%04d-%02d-%02d", y, mo, d);
	else
		snprintf(out, outsz, "%04d-%02d-%02d %02d:%02d UTC", y, mo, d,
		    h, mi);
	return out;
}

/* ------------------------------------------------------------------ */
/* ACME client command lines                                           */

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n + 1);
	b->len += n;
}

enum shell {
	SHELL_SH,
	SHELL_CMD
};

/* Appends a value quoted for a shell: as it is when it only holds
 * characters no shell treats specially, else in single quotes (sh, with
 * '\'' for a quote) or double quotes (cmd.exe, quotes and percent signs
 * left out: no value the portal writes holds one). */
static void
sb_arg(struct sbuf *b, enum shell sh, const char *v)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@+=:,./_-";
	char one[2] = { 0, 0 };
	const char *p;

	if (*v != '\0' && strspn(v, plain) == strlen(v)) {
		sb_add(b, v);
		return;
	}
	sb_add(b, sh == SHELL_SH ? "'" : "\"");
	for (p = v; *p != '\0'; p++) {
		if (sh == SHELL_SH && *p == '\'')
			sb_add(b, "'\\''");
		else if (sh == SHELL_CMD && (*p == '"' || *p == '%'))
			continue;
		else {
			one[0] = *p;
			sb_add(b, one);
		}
	}
	sb_add(b, sh == SHELL_SH ? "'" : "\"");
}

/* Appends " OPT VALUE" (VALUE quoted). */
static void
sb_opt(struct sbuf *b, enum shell sh, const char *opt, const char *v)
{
	sb_add(b, " ");
	sb_add(b, opt);
	sb_add(b, " ");
	sb_arg(b, sh, v);
}

/* Continues a command on the next line. */
static void
sb_cont(struct sbuf *b, enum shell sh)
{
	sb_add(b, sh == SHELL_SH ? " \\\n   " : " ^\n   ");
}

static const char *const client_names[PORTAL_CLIENT__MAX] = {
	[PORTAL_CLIENT_CERTBOT] = "certbot",
	[PORTAL_CLIENT_LEGO] = "lego",
	[PORTAL_CLIENT_ACMESH] = "acme.sh",
	[PORTAL_CLIENT_WINACME] = "win-acme (wacs)",
};

const char *
portal_client_name(enum portal_client c)
{
	return c < PORTAL_CLIENT__MAX ? client_names[c] : "";
}

/* Returns 1 if one of the names is a wildcard (dns-01 only). */
static int
eab_wildcard(const struct portal_eab *e)
{
	size_t i;

	for (i = 0; i < e->nnames; i++)
		if (strncmp(e->names[i], "*.", 2) == 0)
			return 1;
	return 0;
}

/* Appends " OPT NAME" for each name. */
static void
sb_names(struct sbuf *b, enum shell sh, const char *opt,
    const struct portal_eab *e)
{
	size_t i;

	for (i = 0; i < e->nnames; i++)
		sb_opt(b, sh, opt, e->names[i]);
}

static void
cmd_certbot(struct sbuf *b, const struct portal_eab *e)
{
	sb_add(b, "certbot certonly");
	sb_opt(b, SHELL_SH, "--server", e->directory);
	sb_cont(b, SHELL_SH);
	sb_opt(b, SHELL_SH, "--eab-kid", e->kid);
	sb_opt(b, SHELL_SH, "--eab-hmac-key", e->hmac);
	sb_cont(b, SHELL_SH);
	if (e->email != NULL)
		sb_opt(b, SHELL_SH, "--email", e->email);
	sb_add(b, " --agree-tos --key-type rsa --rsa-key-size 3072");
	sb_cont(b, SHELL_SH);
	if (eab_wildcard(e))
		sb_add(b, " --manual --preferred-challenges dns");
	else
		sb_add(b, " --webroot -w /var/www/html");
	sb_cont(b, SHELL_SH);
	sb_names(b, SHELL_SH, "-d", e);
}

static void
cmd_lego(struct sbuf *b, const struct portal_eab *e)
{
	sb_add(b, "lego");
	sb_opt(b, SHELL_SH, "--server", e->directory);
	sb_cont(b, SHELL_SH);
	sb_add(b, " --eab");
	sb_opt(b, SHELL_SH, "--kid", e->kid);
	sb_opt(b, SHELL_SH, "--hmac", e->hmac);
	sb_cont(b, SHELL_SH);
	if (e->email != NULL)
		sb_opt(b, SHELL_SH, "--email", e->email);
	sb_add(b, " --accept-tos --key-type rsa3072");
	sb_cont(b, SHELL_SH);
	if (eab_wildcard(e))
		sb_add(b, " --dns manual");
	else
		sb_add(b, " --http --http.webroot /var/www/html");
	sb_cont(b, SHELL_SH);
	sb_names(b, SHELL_SH, "-d", e);
	sb_add(b, " run");
}

static void
cmd_acmesh(struct sbuf *b, const struct portal_eab *e)
{
	sb_add(b, "acme.sh --register-account");
	sb_opt(b, SHELL_SH, "--server", e->directory);
	sb_cont(b, SHELL_SH);
	sb_opt(b, SHELL_SH, "--eab-kid", e->kid);
	sb_opt(b, SHELL_SH, "--eab-hmac-key", e->hmac);
	if (e->email != NULL) {
		sb_cont(b, SHELL_SH);
		sb_opt(b, SHELL_SH, "-m", e->email);
	}
	sb_add(b, "\nacme.sh --issue");
	sb_opt(b, SHELL_SH, "--server", e->directory);
	sb_cont(b, SHELL_SH);
	sb_names(b, SHELL_SH, "-d", e);
	sb_cont(b, SHELL_SH);
	if (eab_wildcard(e))
		sb_add(b, " --dns --yes-I-know-dns-manual-mode-enough-go-ahead-"
		    "please");
	else
		sb_add(b, " -w /var/www/html");
	sb_add(b, " --keylength 3072");
}

static void
cmd_winacme(struct sbuf *b, const struct portal_eab *e)
{
	struct sbuf hosts = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < e->nnames; i++) {
		if (i > 0)
			sb_add(&hosts, ",");
		sb_add(&hosts, e->names[i]);
	}
	sb_add(b, "wacs.exe");
	sb_opt(b, SHELL_CMD, "--baseuri", e->directory);
	sb_cont(b, SHELL_CMD);
	sb_opt(b, SHELL_CMD, "--eab-key-identifier", e->kid);
	sb_opt(b, SHELL_CMD, "--eab-key", e->hmac);
	sb_cont(b, SHELL_CMD);
	sb_add(b, " --source manual");
	sb_opt(b, SHELL_CMD, "--host", hosts.s != NULL ? hosts.s : "");
	sb_cont(b, SHELL_CMD);
	if (eab_wildcard(e))
		sb_add(b, " --validationmode dns-01 --validation manual");
	else
		sb_add(b, " --validation filesystem --webroot "
		    "C:\\inetpub\\wwwroot");
	sb_cont(b, SHELL_CMD);
	sb_add(b, " --csr rsa --accepttos");
	if (e->email != NULL)
		sb_opt(b, SHELL_CMD, "--emailaddress", e->email);
	free(hosts.s);
}

char *
portal_client_command(enum portal_client c, const struct portal_eab *e)
{
	struct sbuf b = { NULL, 0, 0 };

	sb_add(&b, "");
	switch (c) {
	case PORTAL_CLIENT_CERTBOT:
		cmd_certbot(&b, e);
		break;
	case PORTAL_CLIENT_LEGO:
		cmd_lego(&b, e);
		break;
	case PORTAL_CLIENT_ACMESH:
		cmd_acmesh(&b, e);
		break;
	case PORTAL_CLIENT_WINACME:
		cmd_winacme(&b, e);
		break;
	default:
		break;
	}
	return b.s;
}
