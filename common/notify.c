/*
 * notify.c - the notification templates, the run of the digests and the
 * outbox's claim and outcome (see notify.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "jsonutil.h"
#include "notify.h"
#include "util.h"

#define NOTIFY_DEPTH	8	/* nested sections */
#define DAYS_MAX	3650

const char *const notify_kinds[NK__MAX] = {
	[NK_CERTIFICATES_ISSUED] = "certificates_issued",
	[NK_MISSING_DOCUMENTS] = "missing_documents",
	[NK_EXPIRING_DOCUMENTS] = "expiring_documents",
	[NK_EXPIRING_CERTIFICATES] = "expiring_certificates",
};

/* The languages of external accounts (external_account.language). */
enum notify_lang {
	NL_EN,
	NL_FR,
	NL__MAX
};

static const char *const notify_langs[NL__MAX] = {
	[NL_EN] = "en",
	[NL_FR] = "fr",
};

/* ------------------------------------------------------------ strings */

struct sbuf {
	char	*s;
	size_t	 len, cap;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
sb_adds(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *
sb_take(struct sbuf *b)
{
	char *s = b->s != NULL ? b->s : xstrdup("");

	memset(b, 0, sizeof(*b));
	return s;
}

static void ACME_PRINTF(3, 4)
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Returns 1 if s[0..n) is valid UTF-8 without NUL. */
static int
utf8_ok(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, len;

	while (i < n) {
		if (p[i] == 0)
			return 0;
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if (p[i] >= 0xc2 && p[i] <= 0xdf)
			len = 2;
		else if (p[i] >= 0xe0 && p[i] <= 0xef)
			len = 3;
		else if (p[i] >= 0xf0 && p[i] <= 0xf4)
			len = 4;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		/* overlong three- and four-byte forms, surrogates, > U+10FFFF */
		if ((p[i] == 0xe0 && p[i + 1] < 0xa0) ||
		    (p[i] == 0xed && p[i + 1] > 0x9f) ||
		    (p[i] == 0xf0 && p[i + 1] < 0x90) ||
		    (p[i] == 0xf4 && p[i + 1] > 0x8f))
			return 0;
		i += len;
	}
	return 1;
}

/* ----------------------------------------------------------- templates */

/* Returns 1 if the tag at [ts, te) (from "{{" to after "}}") of text is
 * alone on its line (spaces and tabs around it); sets [*ls, *le) to the
 * line, its newline included. */
static int
standalone(const char *text, const char *ts, const char *te,
    const char **ls, const char **le)
{
	const char *p;

	for (p = ts; p > text && (p[-1] == ' ' || p[-1] == '\t'); p--)
		;
	if (p > text && p[-1] != '\n')
		return 0;
	*ls = p;
	for (p = te; *p == ' ' || *p == '\t' || *p == '\r'; p++)
		;
	if (*p != '\n' && *p != '\0')
		return 0;
	*le = *p == '\n' ? p + 1 : p;
	return 1;
}

/* Returns the template without the lines holding only a section tag or
 * a comment (caller frees). */
static char *
strip_standalone(const char *text)
{
	struct sbuf b;
	const char *p = text, *o, *c, *t, *ls, *le, *copied = text;

	memset(&b, 0, sizeof(b));
	while ((o = strstr(p, "{{")) != NULL) {
		if ((c = strstr(o + 2, "}}")) == NULL)
			break;
		p = c + 2;
		for (t = o + 2; *t == ' '; t++)
			;
		if (t >= c || strchr("#^/!", *t) == NULL ||
		    !standalone(text, o, c + 2, &ls, &le) || ls < copied)
			continue;
		/* keep the tag, drop its line's blanks and newline */
		sb_add(&b, copied, (size_t)(ls - copied));
		sb_add(&b, o, (size_t)(c + 2 - o));
		copied = p = le;
	}
	sb_adds(&b, copied);
	return sb_take(&b);
}

/* Returns 1 if s[0..n) is a name: letters, digits, '_'. */
static int
name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* Looks name up in the contexts, innermost first. Returns 1 with *v set
 * (NULL for a JSON null), 0 if no context has it. */
static int
lookup(json_object *const *ctx, size_t nctx, const char *name,
    json_object **v)
{
	size_t i;

	for (i = nctx; i > 0; i--)
		if (json_object_is_type(ctx[i - 1], json_type_object) &&
		    json_object_object_get_ex(ctx[i - 1], name, v))
			return 1;
	return 0;
}

/* Returns 1 if a section shows for v: not null, false, "" or []. */
static int
truthy(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return 0;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	default:
		return 1;
	}
}

/* Reads the tag between o ("{{") and c ("}}"): sets *type ('#', '^',
 * '/', '!' or 0 for a placeholder) and the name [*name, *name + *n). */
static void
tag_read(const char *o, const char *c, char *type, const char **name,
    size_t *n)
{
	const char *t = o + 2, *te = c;

	while (t < te && *t == ' ')
		t++;
	*type = 0;
	if (t < te && strchr("#^/!", *t) != NULL)
		*type = *t++;
	while (t < te && *t == ' ')
		t++;
	while (te > t && te[-1] == ' ')
		te--;
	*name = t;
	*n = (size_t)(te - t);
}

/* Finds the {{/name}} closing the section whose text starts at p: sets
 * *cs to its "{{" and *ce after its "}}". Returns 1, or 0 if missing. */
static int
find_close(const char *p, const char *end, const char *name,
    const char **cs, const char **ce)
{
	const char *o, *c, *t;
	size_t n;
	char type;
	int depth = 0;

	while ((o = strstr(p, "{{")) != NULL && o < end) {
		if ((c = strstr(o + 2, "}}")) == NULL || c >= end)
			return 0;
		p = c + 2;
		tag_read(o, c, &type, &t, &n);
		if ((type != '#' && type != '^' && type != '/') ||
		    n != strlen(name) || strncmp(t, name, n) != 0)
			continue;
		if (type != '/')
			depth++;
		else if (depth-- == 0) {
			*cs = o;
			*ce = c + 2;
			return 1;
		}
	}
	return 0;
}

/* Renders text[0..end) with the contexts into b; returns 1, or 0 with
 * err set. */
static int
render(const char *text, const char *end, json_object **ctx, size_t nctx,
    struct sbuf *b, char *err, size_t errlen)
{
	const char *p = text, *o, *c, *t, *cs, *ce;
	json_object *v, *el;
	char name[80], type;
	size_t i, n;
	int ok;

	while (p < end) {
		o = strstr(p, "{{");
		if (o == NULL || o >= end) {
			sb_add(b, p, (size_t)(end - p));
			break;
		}
		sb_add(b, p, (size_t)(o - p));
		if ((c = strstr(o + 2, "}}")) == NULL || c >= end) {
			set_err(err, errlen, "a {{ is never closed by }}");
			return 0;
		}
		p = c + 2;
		tag_read(o, c, &type, &t, &n);
		if (type == '!')
			continue;
		if (!name_ok(t, n)) {
			set_err(err, errlen, "{{%.*s}} is not a placeholder "
			    "(names have letters, digits and _)",
			    (int)(c - o - 2), o + 2);
			return 0;
		}
		memcpy(name, t, n);
		name[n] = '\0';
		if (type == '/') {
			set_err(err, errlen, "{{/%s}} closes no section", name);
			return 0;
		}
		if (!lookup(ctx, nctx, name, &v)) {
			set_err(err, errlen, "unknown placeholder {{%s}}", name);
			return 0;
		}
		if (type == 0) {
			if (json_object_is_type(v, json_type_array) ||
			    json_object_is_type(v, json_type_object)) {
				set_err(err, errlen, "{{%s}} is a list: use "
				    "{{#%s}}...{{/%s}}", name, name, name);
				return 0;
			}
			if (v != NULL)
				sb_adds(b, json_object_get_string(v));
			if (b->len > NOTIFY_BODY_MAX) {
				set_err(err, errlen, "the message is too long");
				return 0;
			}
			continue;
		}
		if (!find_close(p, end, name, &cs, &ce)) {
			set_err(err, errlen, "{{%c%s}} has no {{/%s}}", type,
			    name, name);
			return 0;
		}
		if (nctx >= NOTIFY_DEPTH) {
			set_err(err, errlen, "sections nested too deep at "
			    "{{%c%s}}", type, name);
			return 0;
		}
		ok = 1;
		if (type == '^') {
			if (!truthy(v))
				ok = render(p, cs, ctx, nctx, b, err, errlen);
		} else if (json_object_is_type(v, json_type_array)) {
			for (i = 0; ok && i < json_object_array_length(v);
			    i++) {
				el = json_object_array_get_idx(v, i);
				ctx[nctx] = el;
				ok = render(p, cs, ctx, nctx + 1, b, err,
				    errlen);
			}
		} else if (truthy(v)) {
			ctx[nctx] = v;
			ok = render(p, cs, ctx, nctx + 1, b, err, errlen);
		}
		if (!ok)
			return 0;
		p = ce;
	}
	return 1;
}

int
notify_render(const char *tpl, json_object *data, char **subject,
    char **body, char *err, size_t errlen)
{
	json_object *ctx[NOTIFY_DEPTH + 1];
	struct sbuf b;
	char *text = NULL, *s = NULL, *nl, *p;
	int rc = 0;

	*subject = *body = NULL;
	memset(&b, 0, sizeof(b));
	if (strncmp(tpl, "Subject:", 8) != 0) {
		set_err(err, errlen, "the first line must be \"Subject: ...\"");
		goto out;
	}
	text = strip_standalone(tpl);
	ctx[0] = data;
	/* the subject: the first line, rendered on its own, on one line */
	nl = strchr(text, '\n');
	if (nl == NULL)
		nl = text + strlen(text);
	if (!render(text + 8, nl, ctx, 1, &b, err, errlen))
		goto out;
	s = sb_take(&b);
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (p = s; *p == ' '; p++)
		;
	memmove(s, p, strlen(p) + 1);
	for (p = s + strlen(s); p > s && p[-1] == ' '; p--)
		p[-1] = '\0';
	if (*s == '\0') {
		set_err(err, errlen, "the subject is empty");
		goto out;
	}
	/* the body: the rest, without empty lines at either end */
	p = *nl == '\n' ? nl + 1 : nl;
	if (!render(p, p + strlen(p), ctx, 1, &b, err, errlen))
		goto out;
	while (b.len > 0 && (b.s[b.len - 1] == '\n' ||
	    b.s[b.len - 1] == ' '))
		b.s[--b.len] = '\0';
	sb_adds(&b, "\n");
	p = b.s;
	while (p[strspn(p, " \t")] == '\n' && p[strspn(p, " \t") + 1] != '\0')
		p += strspn(p, " \t") + 1;
	*body = xstrdup(p);
	*subject = s;
	s = NULL;
	rc = 1;
out:
	free(b.s);
	free(text);
	free(s);
	return rc;
}

char *
notify_template_load(const char *dir, const char *language,
    const char *kind, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *path = xasprintf("%s/%s/%s.txt", dir, language, kind);
	char *buf = xmalloc(NOTIFY_TEMPLATE_MAX + 1), *ret = NULL, *r, *w;
	size_t n;

	if ((f = fopen(path, "r")) == NULL) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	n = fread(buf, 1, NOTIFY_TEMPLATE_MAX + 1, f);
	if (ferror(f) || n > NOTIFY_TEMPLATE_MAX) {
		set_err(err, errlen, "%s: %s", path, ferror(f) ?
		    "read error" : "larger than 64 KiB");
		goto out;
	}
	if (!utf8_ok(buf, n)) {
		set_err(err, errlen, "%s: not UTF-8 text", path);
		goto out;
	}
	buf[n] = '\0';
	for (r = w = buf; *r != '\0'; r++)
		if (!(r[0] == '\r' && r[1] == '\n'))
			*w++ = *r;
	*w = '\0';
	ret = buf;
	buf = NULL;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	free(path);
	return ret;
}

int
notify_days_parse(const char *text, char **array)
{
	struct sbuf b;
	const char *p = text;
	char *end, num[16];
	long v;
	int rc = 0, first = 1;

	*array = NULL;
	memset(&b, 0, sizeof(b));
	sb_adds(&b, "{");
	while (*p == ' ')
		p++;
	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			goto out;
		errno = 0;
		v = strtol(p, &end, 10);
		if (errno != 0 || v < 1 || v > DAYS_MAX)
			goto out;
		snprintf(num, sizeof(num), "%s%ld", first ? "" : ",", v);
		sb_adds(&b, num);
		first = 0;
		for (p = end; *p == ' '; p++)
			;
		if (*p == ',') {
			for (p++; *p == ' '; p++)
				;
			if (*p == '\0')
				goto out;
		} else if (*p != '\0')
			goto out;
	}
	sb_adds(&b, "}");
	*array = sb_take(&b);
	rc = 1;
out:
	free(b.s);
	return rc;
}

/* ------------------------------------------------------------ the run */

void
notify_run_free(struct notify_run *run)
{
	free(run->period);
	memset(run, 0, sizeof(*run));
}

/* Returns the index of s in names[n], or -1. */
static int
index_of(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

/*
 * Renders the digest of one row of notify_collect (account, email,
 * language, kind, data) into a message object for notify_enqueue, the
 * templates loaded once into tpl. Returns it (a new reference) or NULL
 * (logged).
 */
static json_object *
digest_message(const PGresult *res, int row, char *tpl[NK__MAX][NL__MAX])
{
	const char *dir = cfg_str(CFG_TEMPLATES_DIR), *d;
	json_object *data = NULL, *m = NULL;
	char err[512], *subject = NULL, *body = NULL;
	int k, l;

	k = index_of(notify_kinds, NK__MAX, db_val(res, row, 3));
	l = index_of(notify_langs, NL__MAX, db_val(res, row, 2));
	d = db_val(res, row, 4);
	if (k < 0 || l < 0 || d == NULL || db_val(res, row, 1) == NULL ||
	    (data = json_parse_strict(d, strlen(d))) == NULL ||
	    !json_object_is_type(data, json_type_object)) {
		msg_err("notifications: unexpected digest from the database");
		goto out;
	}
	if (tpl[k][l] == NULL && (tpl[k][l] = notify_template_load(dir,
	    notify_langs[l], notify_kinds[k], err, sizeof(err))) == NULL) {
		msg_err("notifications: template: %s", err);
		goto out;
	}
	json_object_object_add(data, "documents_url",
	    json_object_new_string(cfg_str(CFG_DOCUMENTS_URL)));
	json_object_object_add(data, "base_url",
	    json_object_new_string(cfg_str(CFG_BASE_URL)));
	if (!notify_render(tpl[k][l], data, &subject, &body, err,
	    sizeof(err))) {
		msg_err("notifications: template %s/%s/%s.txt: %s", dir,
		    notify_langs[l], notify_kinds[k], err);
		goto out;
	}
	m = json_object_new_object();
	json_object_object_add(m, "kind",
	    json_object_new_string(notify_kinds[k]));
	json_object_object_add(m, "account",
	    json_object_new_int64(db_long(res, row, 0)));
	json_object_object_add(m, "recipient",
	    json_object_new_string(db_val(res, row, 1)));
	json_object_object_add(m, "language",
	    json_object_new_string(notify_langs[l]));
	json_object_object_add(m, "subject", json_object_new_string(subject));
	json_object_object_add(m, "body", json_object_new_string(body));
	json_object_object_add(m, "data", json_object_get(data));
out:
	json_object_put(data);
	free(subject);
	free(body);
	return m;
}

int
notify_run_digests(struct db *db, const char *job, const char *actor,
    struct notify_run *run)
{
	char *tpl[NK__MAX][NL__MAX];
	char *docdays = NULL, *certdays = NULL, hour[32], missing[32],
	    id[32];
	const char *vals[4];
	json_object *msgs = NULL, *m;
	PGresult *res = NULL;
	int rc = 0, i, k, l;

	memset(run, 0, sizeof(*run));
	memset(tpl, 0, sizeof(tpl));
	if (!notify_days_parse(cfg_str(CFG_DOCUMENT_WARNING_DAYS),
	    &docdays) || !notify_days_parse(
	    cfg_str(CFG_CERTIFICATE_WARNING_DAYS), &certdays)) {
		msg_err("notifications: document_warning_days and "
		    "certificate_warning_days are lists of days (\"30,7,1\")");
		goto out;
	}
	snprintf(hour, sizeof(hour), "%ld", cfg_int(CFG_NOTIFY_HOUR));
	snprintf(missing, sizeof(missing), "%ld",
	    cfg_int(CFG_MISSING_DOCUMENTS_DAYS));
	if (!db_begin(db))
		goto out;
	vals[0] = job;
	vals[1] = actor;
	vals[2] = hour;
	vals[3] = strcmp(job, "manual") == 0 ? "t" : "f";
	res = db_query(db, "SELECT run_id, run_period FROM "
	    "notification_run_start($1, $2, $3::integer, $4::boolean)", 4,
	    vals);
	if (res == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		rc = 2;
		goto out;
	}
	run->id = db_long(res, 0, 0);
	run->period = db_strdup(res, 0, 1);
	PQclear(res);
	snprintf(id, sizeof(id), "%ld", run->id);
	vals[0] = id;
	vals[1] = docdays;
	vals[2] = certdays;
	vals[3] = missing;
	res = db_query(db, "SELECT r_account, r_email, r_language, r_kind, "
	    "r_data FROM notify_collect($1::bigint, $2::integer[], "
	    "$3::integer[], $4::integer)", 4, vals);
	if (res == NULL)
		goto out;
	msgs = json_object_new_array();
	for (i = 0; i < PQntuples(res); i++) {
		if ((m = digest_message(res, i, tpl)) == NULL)
			goto out;
		json_object_array_add(msgs, m);
	}
	PQclear(res);
	vals[1] = json_compact(msgs);
	res = db_query(db, "SELECT notify_enqueue($1::bigint, $2::jsonb)", 2,
	    vals);
	if (res == NULL || PQntuples(res) != 1)
		goto out;
	run->messages = db_long(res, 0, 0);
	if (!db_commit(db))
		goto out;
	rc = 1;
out:
	if (rc != 1) {
		db_rollback(db);
		notify_run_free(run);
	}
	PQclear(res);
	json_object_put(msgs);
	for (k = 0; k < NK__MAX; k++)
		for (l = 0; l < NL__MAX; l++)
			free(tpl[k][l]);
	free(docdays);
	free(certdays);
	return rc;
}

/* ---------------------------------------------------------- the outbox */

int
notify_claim(struct db *db, long lease, struct outbox_msg *m)
{
	char buf[32];
	const char *vals[1] = { buf };
	PGresult *res;
	int rc;

	memset(m, 0, sizeof(*m));
	snprintf(buf, sizeof(buf), "%ld", lease);
	res = db_query(db, "UPDATE outbox o SET "
	    "lease_until = now() + make_interval(secs => $1::integer), "
	    "attempts = o.attempts + 1 "
	    "WHERE o.id = (SELECT id FROM outbox WHERE status = 'pending' "
	    "AND next_attempt_at <= now() "
	    "AND (lease_until IS NULL OR lease_until < now()) "
	    "ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) "
	    "RETURNING o.id, o.attempts, o.kind, o.recipient, o.subject, "
	    "o.body, o.message_token, "
	    "extract(epoch FROM o.created_at)::bigint", 1, vals);
	if (res == NULL)
		return -1;
	rc = PQntuples(res) == 1;
	if (rc) {
		m->id = db_long(res, 0, 0);
		m->attempts = (int)db_long(res, 0, 1);
		m->kind = db_strdup(res, 0, 2);
		m->recipient = db_strdup(res, 0, 3);
		m->subject = db_strdup(res, 0, 4);
		m->body = db_strdup(res, 0, 5);
		m->token = db_strdup(res, 0, 6);
		m->created = db_long(res, 0, 7);
		if (m->recipient == NULL || m->subject == NULL ||
		    m->body == NULL || m->token == NULL) {
			outbox_msg_free(m);
			rc = -1;
		}
	}
	PQclear(res);
	return rc;
}

void
outbox_msg_free(struct outbox_msg *m)
{
	free(m->kind);
	free(m->recipient);
	free(m->subject);
	free(m->body);
	free(m->token);
	memset(m, 0, sizeof(*m));
}

int
notify_finish(struct db *db, const struct outbox_msg *m, const char *error,
    long retry)
{
	char id[32], attempt[32], rt[32];
	const char *vals[4] = { id, attempt, error, retry >= 0 ? rt : NULL };
	PGresult *res;
	int rc;

	snprintf(id, sizeof(id), "%ld", m->id);
	snprintf(attempt, sizeof(attempt), "%d", m->attempts);
	snprintf(rt, sizeof(rt), "%ld", retry);
	res = db_query(db, "SELECT outbox_finish($1::bigint, $2::integer, $3, "
	    "$4::integer)", 4, vals);
	if (res == NULL || PQntuples(res) != 1)
		rc = -1;
	else
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return rc;
}
