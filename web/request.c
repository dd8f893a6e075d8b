/*
 * request.c - what a request brings: the FastCGI parameters, the query
 * string, the cookies, the body (urlencoded or multipart) and the client
 * certificate of the office, each parsed strictly: a malformed request is
 * refused as a whole (400) rather than half understood. The parsers take
 * bytes, not FastCGI streams, so that they are unit tested and fuzzed on
 * their own (tests/unit/test_web.c, tests/fuzz/fuzz_web_*.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcgiapp.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "web-internal.h"

void
web_ctx_init(struct web_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->r.area = AREA_PORTAL;
	ctx->r.lang = LANG_EN;
	ctx->r.method = "GET";
	ctx->r.status = 200;
	ctx->r.sess.kind = AUTH_ANON;
	ctx->r.remote_addr = "";
}

void
web_kv_free(struct web_kv *kv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(kv[i].name);
		free(kv[i].value);
	}
	free(kv);
}

void
web_uploads_free(struct web_upload *up, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(up[i].field);
		free(up[i].filename);
		free(up[i].content_type);
		free(up[i].data);
	}
	free(up);
}

void
web_sess_free(struct web_session *s)
{
	free(s->token);
	free(s->email);
	free(s->name);
	free(s->csrf);
	free(s->flash);
	memset(s, 0, sizeof(*s));
	s->kind = AUTH_ANON;
}

void
web_ctx_free(struct web_ctx *ctx)
{
	struct web_req *r = &ctx->r;
	size_t i;

	free(r->path);
	web_kv_free(r->query, r->nquery);
	web_kv_free(r->form, r->nform);
	web_uploads_free(r->uploads, r->nuploads);
	web_kv_free(r->cookies, r->ncookies);
	free(r->client_cert_sha256);
	free(r->client_cert_subject);
	web_sess_free(&r->sess);
	free(r->pre_token);
	free(r->headers.data);
	free(r->body.data);
	for (i = 0; i < 4; i++)
		free(ctx->args_own[i]);
	free(ctx->token_hash);
	free(ctx->actor);
	strv_free(ctx->old_actors, ctx->nold_actors);
	free(ctx->user_lang);
	free(ctx->new_flash);
	free(ctx->location);
	for (i = 0; i < WC__MAX; i++)
		free(ctx->cookie_out[i]);
	free(ctx->body);
	memset(ctx, 0, sizeof(*ctx));
}

/* --- lookups ------------------------------------------------------------ */

/* Returns the value of the first pair named name, or NULL. */
static const char *
kv_get(const struct web_kv *kv, size_t n, const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(kv[i].name, name) == 0)
			return kv[i].value;
	return NULL;
}

const char *
web_query(const struct web_req *r, const char *name)
{
	return kv_get(r->query, r->nquery, name);
}

const char *
web_form(const struct web_req *r, const char *name)
{
	return kv_get(r->form, r->nform, name);
}

const char *
web_cookie(const struct web_req *r, const char *name)
{
	return kv_get(r->cookies, r->ncookies, name);
}

const struct web_upload *
web_upload(const struct web_req *r, const char *field)
{
	size_t i;

	if (field == NULL)
		return NULL;
	for (i = 0; i < r->nuploads; i++)
		if (strcmp(r->uploads[i].field, field) == 0)
			return &r->uploads[i];
	return NULL;
}

/* The actor is kept for the whole request: a new one (the user signed in
 * or out) does not free the strings returned before. */
const char *
web_actor(const struct web_req *r)
{
	struct web_ctx *ctx = WEB_CTX(r);
	char *a;

	if (r->sess.kind == AUTH_OPERATOR && r->sess.name != NULL)
		a = xasprintf("operator:%s", r->sess.name);
	else if (r->sess.kind == AUTH_CUSTOMER && r->sess.email != NULL)
		a = xasprintf("web:%s", r->sess.email);
	else
		a = xstrdup("web:anonymous");
	if (ctx->actor != NULL && strcmp(ctx->actor, a) == 0) {
		free(a);
		return ctx->actor;
	}
	if (ctx->actor != NULL) {
		ctx->old_actors = xrealloc(ctx->old_actors,
		    (ctx->nold_actors + 1) * sizeof(*ctx->old_actors));
		ctx->old_actors[ctx->nold_actors++] = ctx->actor;
	}
	ctx->actor = a;
	return a;
}

const char *
web_param(char **envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

/* --- bytes -------------------------------------------------------------- */

int
web_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, need, k;
	unsigned long cp, min;

	while (i < len) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t' && s[i] != '\r' &&
			    s[i] != '\n') || s[i] == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			need = 1;
			cp = s[i] & 0x1f;
			min = 0x80;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			need = 2;
			cp = s[i] & 0x0f;
			min = 0x800;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			need = 3;
			cp = s[i] & 0x07;
			min = 0x10000;
		} else
			return 0;
		if (len - i <= need)
			return 0;
		for (k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp < 0xa0))	/* C1 controls */
			return 0;
		i += need + 1;
	}
	return 1;
}

/* Percent-decodes s[0..len) ('+' is a space when plus); returns a new
 * string, or NULL if an escape is malformed or the result is not valid
 * text. */
static char *
pct_decode(const char *s, size_t len, int plus)
{
	char *out = xmalloc(len + 1);
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			if (len - i < 3 || (hi = hex_digit(s[i + 1])) < 0 ||
			    (lo = hex_digit(s[i + 2])) < 0) {
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus && s[i] == '+')
			out[n++] = ' ';
		else
			out[n++] = s[i];
	}
	out[n] = '\0';
	if (!web_utf8_valid(out, n)) {
		free(out);
		return NULL;
	}
	return out;
}

/* Appends a pair (the strings are taken over). */
static void
kv_add(struct web_kv **kv, size_t *n, char *name, char *value)
{
	*kv = xrealloc(*kv, (*n + 1) * sizeof(**kv));
	(*kv)[*n].name = name;
	(*kv)[*n].value = value;
	(*n)++;
}

/* --- application/x-www-form-urlencoded ---------------------------------- */

int
web_parse_urlencoded(const char *s, size_t len, struct web_kv **kv,
    size_t *n)
{
	const char *p = s, *end = s + len, *amp, *eq;
	char *name = NULL, *value = NULL;
	size_t count = 0;
	int rc = 0;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp == p) {		/* "a=1&&b=2", a trailing '&' */
			p++;
			continue;
		}
		if (++count > WEB_MAX_FIELDS)
			goto out;
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL)
			eq = amp;
		if ((name = pct_decode(p, (size_t)(eq - p), 1)) == NULL ||
		    *name == '\0')
			goto out;
		value = eq < amp ? pct_decode(eq + 1,
		    (size_t)(amp - eq - 1), 1) : xstrdup("");
		if (value == NULL)
			goto out;
		kv_add(kv, n, name, value);
		name = value = NULL;
		p = amp + (amp < end);
	}
	rc = 1;
out:
	free(name);
	free(value);
	return rc;
}

/* --- cookies ------------------------------------------------------------- */

/* Returns 1 if c may appear in a cookie name (an RFC 6265 token). */
static int
cookie_name_char(int c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) ==
	    NULL;
}

/* Returns 1 if c may appear in a cookie value (RFC 6265 cookie-octet). */
static int
cookie_value_char(int c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) ||
	    (c >= 0x2d && c <= 0x3a) || (c >= 0x3c && c <= 0x5b) ||
	    (c >= 0x5d && c <= 0x7e);
}

void
web_parse_cookies(const char *h, struct web_kv **kv, size_t *n)
{
	const char *p = h, *name, *val;
	size_t nlen, vlen, i, count = 0;
	int ok, quoted;

	while (p != NULL && *p != '\0' && count < WEB_MAX_FIELDS) {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (cookie_name_char((unsigned char)*p))
			p++;
		nlen = (size_t)(p - name);
		ok = nlen > 0 && *p == '=';
		vlen = 0;
		val = p;
		if (ok) {
			p++;
			quoted = *p == '"';
			val = p + quoted;
			for (i = 0; cookie_value_char((unsigned char)val[i]);
			    i++)
				;
			vlen = i;
			p = val + vlen;
			if (quoted) {
				if (*p == '"')
					p++;
				else
					ok = 0;
			}
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != '\0' && *p != ';')
				ok = 0;
		}
		if (ok) {
			kv_add(kv, n, xstrndup(name, nlen),
			    xstrndup(val, vlen));
			count++;
		}
		/* skip to the next pair */
		while (*p != '\0' && *p != ';')
			p++;
	}
}

/* --- multipart/form-data ------------------------------------------------ */

/* Returns 1 if c may appear in a multipart boundary (RFC 2046 bchars). */
static int
bchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("'()+_,-./:=? ", c) !=
	    NULL);
}

/*
 * Finds parameter name (case-insensitive) of a header value of the form
 * "type; a=b; c=\"d\"" and returns its value (new string), or NULL when
 * absent. *bad is set when the header is malformed. Quoted values end at
 * the next quote (browsers percent-encode quotes in names, without
 * backslash escapes).
 */
static char *
header_param(const char *h, const char *name, int *bad)
{
	const char *p = h, *k, *v;
	size_t klen, vlen;
	char *found = NULL;

	p = strchr(p, ';');
	while (p != NULL && *p == ';') {
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		k = p;
		while (*p != '\0' && *p != '=' && *p != ';' && *p != ' ')
			p++;
		klen = (size_t)(p - k);
		while (*p == ' ')
			p++;
		if (*p != '=' || klen == 0) {
			*bad = 1;
			break;
		}
		p++;
		while (*p == ' ')
			p++;
		if (*p == '"') {
			v = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"') {
				*bad = 1;
				break;
			}
			vlen = (size_t)(p - v);
			p++;
		} else {
			v = p;
			while (*p != '\0' && *p != ';' && *p != ' ' &&
			    *p != '\t')
				p++;
			vlen = (size_t)(p - v);
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '\0' && *p != ';') {
			*bad = 1;
			break;
		}
		if (klen == strlen(name) && strncasecmp(k, name, klen) == 0) {
			if (found != NULL) {	/* given twice */
				*bad = 1;
				break;
			}
			found = xstrndup(v, vlen);
		}
	}
	if (*bad) {
		free(found);
		found = NULL;
	}
	return found;
}

char *
web_multipart_boundary(const char *ct)
{
	static const char type[] = "multipart/form-data";
	char *b = NULL;
	size_t i, n;
	int bad = 0;

	if (ct == NULL || strncasecmp(ct, type, sizeof(type) - 1) != 0 ||
	    (ct[sizeof(type) - 1] != ';' && ct[sizeof(type) - 1] != ' '))
		return NULL;
	b = header_param(ct + sizeof(type) - 1, "boundary", &bad);
	if (b == NULL)
		return NULL;
	n = strlen(b);
	for (i = 0; i < n; i++)
		if (!bchar((unsigned char)b[i]))
			break;
	if (n == 0 || n > 70 || i < n || b[n - 1] == ' ') {
		free(b);
		return NULL;
	}
	return b;
}

/* Returns the first occurrence of needle in hay, or NULL. */
static const unsigned char *
find(const unsigned char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return memmem(hay, hlen, needle, nlen);
}

/* The headers of one part that matter. */
struct part_head {
	char	*name;
	char	*filename;	/* NULL: a field, not a file */
	char	*ctype;
};

static void
part_head_free(struct part_head *h)
{
	free(h->name);
	free(h->filename);
	free(h->ctype);
	memset(h, 0, sizeof(*h));
}

/* Parses the header block of a part (CRLF-separated lines). Returns 1, or
 * 0 if it is malformed or has no form-data name. */
static int
part_head_parse(const char *block, struct part_head *h)
{
	char *copy = xstrdup(block), *line, *next, *colon, *v, *base;
	int rc = 0, bad = 0, seen_cd = 0;

	for (line = copy; line != NULL && *line != '\0'; line = next) {
		next = strstr(line, "\r\n");
		if (next != NULL) {
			*next = '\0';
			next += 2;
		}
		if ((colon = strchr(line, ':')) == NULL)
			goto out;
		*colon = '\0';
		v = colon + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strcasecmp(line, "Content-Disposition") == 0) {
			if (seen_cd++ || strncasecmp(v, "form-data", 9) != 0 ||
			    (v[9] != ';' && v[9] != '\0' && v[9] != ' '))
				goto out;
			h->name = header_param(v, "name", &bad);
			if (!bad)
				h->filename = header_param(v, "filename",
				    &bad);
			if (bad)
				goto out;
		} else if (strcasecmp(line, "Content-Type") == 0) {
			if (h->ctype != NULL)
				goto out;
			h->ctype = xstrdup(v);
		}
		/* other headers (Content-Transfer-Encoding...) ignored */
	}
	if (h->name == NULL || *h->name == '\0' ||
	    !web_utf8_valid(h->name, strlen(h->name)) ||
	    (h->ctype != NULL && !web_utf8_valid(h->ctype,
	    strlen(h->ctype))))
		goto out;
	if (h->filename != NULL) {
		/* a path some browsers send: keep its last component */
		base = h->filename + strlen(h->filename);
		while (base > h->filename && base[-1] != '/' &&
		    base[-1] != '\\')
			base--;
		memmove(h->filename, base, strlen(base) + 1);
		if (!web_utf8_valid(h->filename, strlen(h->filename)))
			goto out;
	}
	rc = 1;
out:
	free(copy);
	return rc;
}

int
web_parse_multipart(const char *boundary, const unsigned char *body,
    size_t len, size_t file_max, struct web_kv **form, size_t *nform,
    struct web_upload **up, size_t *nup)
{
	struct part_head h;
	struct web_upload *u;
	const unsigned char *p = body, *end = body + len, *hend, *next;
	char *delim, *block = NULL;
	size_t dlen, nparts = 0, clen;
	int status = 400;

	memset(&h, 0, sizeof(h));
	if (boundary == NULL || *boundary == '\0' || strlen(boundary) > 70)
		return 400;
	/* "\r\n--boundary"; the first delimiter may start the body */
	delim = xasprintf("\r\n--%s", boundary);
	dlen = strlen(delim);
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		p = body + dlen - 2;
	else {
		next = find(body, len, delim, dlen);	/* after a preamble */
		if (next == NULL)
			goto out;
		p = next + dlen;
	}
	for (;;) {
		/* after a delimiter: "--" ends, else CRLF, then a part */
		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
			break;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;	/* transport padding */
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
			goto out;
		p += 2;
		if (++nparts > WEB_MAX_PARTS)
			goto out;
		/* the headers, up to an empty line */
		if (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
			hend = p;	/* no headers at all */
		else {
			hend = find(p, (size_t)(end - p) < WEB_MAX_PART_HEADERS +
			    4 ? (size_t)(end - p) : WEB_MAX_PART_HEADERS + 4,
			    "\r\n\r\n", 4);
			if (hend == NULL)
				goto out;
			hend += 2;
		}
		if (memchr(p, '\0', (size_t)(hend - p)) != NULL)
			goto out;
		block = xstrndup((const char *)p, (size_t)(hend - p));
		if (!part_head_parse(block, &h))
			goto out;
		free(block);
		block = NULL;
		p = hend + 2;
		/* the content, up to the next delimiter */
		next = find(p, (size_t)(end - p), delim, dlen);
		if (next == NULL)
			goto out;
		clen = (size_t)(next - p);
		if (h.filename != NULL) {
			if (*nup >= WEB_MAX_PARTS)
				goto out;
			if (clen > file_max) {
				status = 413;
				goto out;
			}
			*up = xrealloc(*up, (*nup + 1) * sizeof(**up));
			u = &(*up)[*nup];
			(*nup)++;
			u->field = h.name;
			u->filename = h.filename;
			u->content_type = h.ctype != NULL ? h.ctype :
			    xstrdup("");
			u->data = xmalloc(clen + 1);
			memcpy(u->data, p, clen);
			u->data[clen] = '\0';
			u->len = clen;
			memset(&h, 0, sizeof(h));
		} else {
			if (clen > WEB_FIELD_MAX)
				goto out;
			if (!web_utf8_valid((const char *)p, clen))
				goto out;
			kv_add(form, nform, h.name,
			    xstrndup((const char *)p, clen));
			h.name = NULL;
			part_head_free(&h);
		}
		p = next + dlen;
	}
	status = 0;
out:
	part_head_free(&h);
	free(block);
	free(delim);
	return status;
}

/* --- the client certificate --------------------------------------------- */

int
web_cert_fingerprint(const char *param, char **sha256_hex, char **subject)
{
	static const char hex[] = "0123456789abcdef";
	BIO *in = NULL, *out = NULL;
	X509 *x = NULL;
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	char *pem = NULL, *fp = NULL, *subj = NULL, *s;
	size_t len, k, n;
	int derlen, rc = 0;

	*sha256_hex = *subject = NULL;
	if (param == NULL || *param == '\0')
		return 0;
	len = strlen(param);
	/* nginx's $ssl_client_escaped_cert is URL-escaped; plain PEM (Apache)
	 * has no '%'. Old nginx's $ssl_client_cert indents lines by a tab. */
	if (strchr(param, '%') != NULL) {
		pem = xmalloc(len + 1);
		for (k = n = 0; k < len; k++) {
			if (param[k] == '%' && k + 2 < len &&
			    hex_digit(param[k + 1]) >= 0 &&
			    hex_digit(param[k + 2]) >= 0) {
				pem[n++] = (char)(hex_digit(param[k + 1]) << 4 |
				    hex_digit(param[k + 2]));
				k += 2;
			} else if (param[k] == '%')
				goto out;
			else
				pem[n++] = param[k];
		}
		pem[n] = '\0';
	} else
		pem = xstrdup(param);
	for (s = pem, n = 0; *s != '\0'; s++)
		if (*s != '\t')
			pem[n++] = *s;
	pem[n] = '\0';
	if ((in = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL)
		goto out;
	if ((derlen = i2d_X509(x, &der)) <= 0 ||
	    EVP_Digest(der, (size_t)derlen, md, &mdlen, EVP_sha256(),
	    NULL) != 1)
		goto out;
	fp = xmalloc(mdlen * 2 + 1);
	for (i = 0; i < mdlen; i++) {
		fp[2 * i] = hex[md[i] >> 4];
		fp[2 * i + 1] = hex[md[i] & 0xf];
	}
	fp[2 * mdlen] = '\0';
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(out, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0)
		goto out;
	n = (size_t)BIO_get_mem_data(out, &s);
	subj = xstrndup(s, n);
	*sha256_hex = fp;
	*subject = subj;
	fp = subj = NULL;
	rc = 1;
out:
	if (!rc)
		ossl_log_errors("client certificate");
	BIO_free(in);
	BIO_free(out);
	X509_free(x);
	OPENSSL_free(der);
	free(pem);
	free(fp);
	free(subj);
	return rc;
}

/* --- routes -------------------------------------------------------------- */

int
web_route_match(const char *pattern, const char *path, char *args[4],
    size_t *nargs)
{
	const char *p = pattern, *s = path, *seg;
	size_t n = 0, len, i;

	*nargs = 0;
	while (*p != '\0') {
		if (*p == '*') {
			seg = s;
			while (*s != '\0' && *s != '/')
				s++;
			len = (size_t)(s - seg);
			if (len == 0 || len > WEB_MAX_SEGMENT || n == 4)
				goto fail;
			args[n++] = xstrndup(seg, len);
			p++;
			continue;
		}
		if (*p != *s)
			goto fail;
		p++;
		s++;
	}
	if (*s != '\0')
		goto fail;
	*nargs = n;
	return 1;
fail:
	for (i = 0; i < n; i++) {
		free(args[i]);
		args[i] = NULL;
	}
	return 0;
}

/* --- the FastCGI request ------------------------------------------------ */

/* Sets r->path from the parameters; returns 1 or 0 (malformed). */
static int
read_path(struct web_req *r, char **envp, const char **query)
{
	const char *doc = web_param(envp, "DOCUMENT_URI");
	const char *uri = web_param(envp, "REQUEST_URI");
	const char *script = web_param(envp, "SCRIPT_NAME");
	const char *info = web_param(envp, "PATH_INFO");
	const char *q = NULL;
	char *joined;
	size_t n;

	if (uri != NULL && (q = strchr(uri, '?')) != NULL)
		q++;
	*query = q;
	if (doc != NULL && *doc != '\0') {
		/* nginx: decoded and normalized already */
		if (!web_utf8_valid(doc, strlen(doc)))
			return 0;
		r->path = xstrdup(doc);
	} else if (uri != NULL && *uri != '\0') {
		n = q != NULL ? (size_t)(q - 1 - uri) : strlen(uri);
		if ((r->path = pct_decode(uri, n, 0)) == NULL)
			return 0;
	} else if (script != NULL || info != NULL) {
		joined = xasprintf("%s%s", script != NULL ? script : "",
		    info != NULL ? info : "");
		if (!web_utf8_valid(joined, strlen(joined))) {
			free(joined);
			return 0;
		}
		r->path = joined;
	} else
		return 0;
	return r->path[0] == '/' && strlen(r->path) <= 4096;
}

/* Reads the body (CONTENT_LENGTH bytes, at most web_upload_max plus
 * WEB_FORM_EXTRA); returns 0 or the status of a refusal. */
static int
read_body(struct web_ctx *ctx, char **envp, FCGX_Stream *in)
{
	const char *cl = web_param(envp, "CONTENT_LENGTH");
	size_t max = (size_t)cfg_int(CFG_WEB_UPLOAD_MAX) + WEB_FORM_EXTRA;
	unsigned long long len = 0;
	char *end;
	size_t got = 0;
	int n, chunk;

	if (cl != NULL && *cl != '\0') {
		if (!isdigit((unsigned char)*cl))
			return 400;
		len = strtoull(cl, &end, 10);
		if (*end != '\0')
			return 400;
	}
	if (len > max)
		return 413;
	ctx->body = xmalloc((size_t)len + 1);
	while (got < len) {
		chunk = len - got > 65536 ? 65536 : (int)(len - got);
		n = in != NULL ? FCGX_GetStr((char *)ctx->body + got, chunk,
		    in) : 0;
		if (n <= 0)
			return 400;	/* truncated */
		got += (size_t)n;
	}
	ctx->body[got] = '\0';
	ctx->bodylen = got;
	return 0;
}

/* Parses the body after its Content-Type; returns 0 or a status. */
static int
parse_body(struct web_ctx *ctx, const char *ct)
{
	struct web_req *r = &ctx->r;
	static const char urlenc[] = "application/x-www-form-urlencoded";
	char *boundary;
	int status;

	if (ctx->bodylen == 0 && (ct == NULL || *ct == '\0'))
		return 0;
	if (ct != NULL && strncasecmp(ct, urlenc, sizeof(urlenc) - 1) == 0 &&
	    (ct[sizeof(urlenc) - 1] == '\0' || ct[sizeof(urlenc) - 1] == ';')) {
		if (ctx->bodylen > WEB_FORM_EXTRA)
			return 413;
		return web_parse_urlencoded((const char *)ctx->body,
		    ctx->bodylen, &r->form, &r->nform) ? 0 : 400;
	}
	if ((boundary = web_multipart_boundary(ct)) != NULL) {
		status = web_parse_multipart(boundary, ctx->body,
		    ctx->bodylen, (size_t)cfg_int(CFG_WEB_UPLOAD_MAX),
		    &r->form, &r->nform, &r->uploads, &r->nuploads);
		free(boundary);
		return status;
	}
	if (ct != NULL && strncasecmp(ct, "multipart/form-data", 19) == 0)
		return 400;	/* no usable boundary */
	return 415;
}

int
web_request_read(struct web_ctx *ctx, char **envp, void *in_stream)
{
	struct web_req *r = &ctx->r;
	const char *v, *query = NULL;
	int status;

	v = web_param(envp, "ACME_WEB_AREA");
	r->area = v != NULL && strcmp(v, "office") == 0 ? AREA_OFFICE :
	    AREA_PORTAL;
	v = web_param(envp, "REQUEST_METHOD");
	r->method = v != NULL && *v != '\0' ? v : "GET";
	v = web_param(envp, "REMOTE_ADDR");
	r->remote_addr = v != NULL ? v : "";
	web_parse_cookies(web_param(envp, "HTTP_COOKIE"), &r->cookies,
	    &r->ncookies);
	if (!read_path(r, envp, &query))
		return 400;
	v = web_param(envp, "QUERY_STRING");
	if (v == NULL)
		v = query;
	if (v != NULL && !web_parse_urlencoded(v, strlen(v), &r->query,
	    &r->nquery))
		return 400;
	ctx->cert_verify = web_param(envp, "SSL_CLIENT_VERIFY");
	if (ctx->cert_verify != NULL &&
	    strcmp(ctx->cert_verify, "SUCCESS") == 0 &&
	    (v = web_param(envp, "SSL_CLIENT_CERT")) != NULL && *v != '\0' &&
	    !web_cert_fingerprint(v, &r->client_cert_sha256,
	    &r->client_cert_subject))
		msg_warn("the client certificate cannot be read");
	if (strcmp(r->method, "POST") != 0)
		return 0;	/* GET, HEAD: no body */
	if ((status = read_body(ctx, envp, in_stream)) != 0)
		return status;
	return parse_body(ctx, web_param(envp, "CONTENT_TYPE"));
}
