/*
 * jsonutil.c - strict json-c parsing and checked getters.
 *
 * json-c 0.16 is lenient even in strict mode: it takes single-quoted
 * strings, keeps the last of duplicate member names silently, lets
 * control characters through in strings, truncates member names at an
 * escaped NUL and turns lone surrogates into U+FFFD. Untrusted text is
 * therefore first checked by a small scanner of the RFC 8259 grammar
 * (with the I-JSON rules of RFC 7493 that matter here: unique member
 * names, no lone surrogates), and only then handed to json-c.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "util.h"

/* A member name, decoded (escapes resolved), for duplicate checks. */
struct jkey {
	const char	*p;		/* points into the scanner's arena */
	size_t		 len;
};

/* The state of one scan of buf[0..len). */
struct jscan {
	const unsigned char *s;
	size_t		 len;
	size_t		 pos;
	int		 depth;		/* containers open */
	char		*arena;		/* decoded names; len bytes at most */
	size_t		 arena_len;
	struct jkey	*keys;		/* names of the open objects: a stack */
	size_t		 nkeys;
	size_t		 keys_cap;
	const char	*why;		/* static reason of a refusal */
};

static int	jscan_value(struct jscan *);

/* Records the first reason of a refusal; returns 0. */
static int
jscan_fail(struct jscan *sc, const char *why)
{
	if (sc->why == NULL)
		sc->why = why;
	return 0;
}

/* Skips the four whitespace characters of RFC 8259. */
static void
jscan_ws(struct jscan *sc)
{
	while (sc->pos < sc->len && (sc->s[sc->pos] == ' ' ||
	    sc->s[sc->pos] == '\t' || sc->s[sc->pos] == '\n' ||
	    sc->s[sc->pos] == '\r'))
		sc->pos++;
}

/* Reads the 4 hex digits after "\u" at sc->pos; returns the code unit
 * or -1. */
static long
jscan_u4(struct jscan *sc)
{
	long v = 0;
	int i, d;

	if (sc->len - sc->pos < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = hex_digit(sc->s[sc->pos + (size_t)i])) < 0)
			return -1;
		v = v << 4 | d;
	}
	sc->pos += 4;
	return v;
}

/* Appends the UTF-8 encoding of code point cp to the arena. */
static void
jscan_put_cp(struct jscan *sc, unsigned long cp)
{
	char *o = sc->arena + sc->arena_len;

	if (cp < 0x80)
		*o++ = (char)cp;
	else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	sc->arena_len = (size_t)(o - sc->arena);
}

/*
 * Returns the length (2 to 4) of the well-formed UTF-8 sequence of a
 * non-ASCII character at p (n bytes available), or 0: no overlong
 * forms, no surrogates, nothing above U+10FFFF (RFC 3629 section 4).
 */
static size_t
jscan_utf8(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * Scans the string starting at the '"' at sc->pos. A member name (key)
 * is also decoded into the arena and pushed on the key stack; an
 * escaped NUL is refused there (json-c would cut the name at it).
 * Returns 1, or 0 with sc->why set.
 */
static int
jscan_string(struct jscan *sc, int key)
{
	size_t start = sc->arena_len, n;
	unsigned char c;
	long u, lo;

	sc->pos++;	/* the opening quote */
	for (;;) {
		if (sc->pos >= sc->len)
			return jscan_fail(sc, "unterminated string");
		c = sc->s[sc->pos];
		if (c == '"') {
			sc->pos++;
			break;
		}
		if (c < 0x20)
			return jscan_fail(sc, "control character in a string");
		if (c >= 0x80) {
			if ((n = jscan_utf8(sc->s + sc->pos,
			    sc->len - sc->pos)) == 0)
				return jscan_fail(sc, "invalid UTF-8");
			if (key) {
				memcpy(sc->arena + sc->arena_len,
				    sc->s + sc->pos, n);
				sc->arena_len += n;
			}
			sc->pos += n;
			continue;
		}
		if (c != '\\') {
			if (key)
				sc->arena[sc->arena_len++] = (char)c;
			sc->pos++;
			continue;
		}
		if (++sc->pos >= sc->len)
			return jscan_fail(sc, "unterminated string");
		c = sc->s[sc->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			u = c;
			break;
		case 'b':
			u = '\b';
			break;
		case 'f':
			u = '\f';
			break;
		case 'n':
			u = '\n';
			break;
		case 'r':
			u = '\r';
			break;
		case 't':
			u = '\t';
			break;
		case 'u':
			if ((u = jscan_u4(sc)) < 0)
				return jscan_fail(sc, "invalid \\u escape");
			if (u >= 0xdc00 && u <= 0xdfff)
				return jscan_fail(sc, "lone low surrogate");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (sc->len - sc->pos < 2 ||
				    sc->s[sc->pos] != '\\' ||
				    sc->s[sc->pos + 1] != 'u')
					return jscan_fail(sc,
					    "lone high surrogate");
				sc->pos += 2;
				if ((lo = jscan_u4(sc)) < 0xdc00 ||
				    lo > 0xdfff)
					return jscan_fail(sc,
					    "lone high surrogate");
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			if (u == 0 && key)
				return jscan_fail(sc,
				    "NUL character in a member name");
			break;
		default:
			return jscan_fail(sc, "invalid escape");
		}
		if (key)
			jscan_put_cp(sc, (unsigned long)u);
	}
	if (key) {
		if (sc->nkeys == sc->keys_cap) {
			sc->keys_cap = sc->keys_cap == 0 ? 16 :
			    sc->keys_cap * 2;
			sc->keys = xrealloc(sc->keys,
			    sc->keys_cap * sizeof(*sc->keys));
		}
		sc->keys[sc->nkeys].p = sc->arena + start;
		sc->keys[sc->nkeys].len = sc->arena_len - start;
		sc->nkeys++;
	}
	return 1;
}

/* Orders member names bytewise, shorter first on a common prefix. */
static int
jkey_cmp(const void *a, const void *b)
{
	const struct jkey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	if ((c = memcmp(x->p, y->p, n)) != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Scans an object at the '{' at sc->pos; names must be unique.
 * Returns 1, or 0 with sc->why set. */
static int
jscan_object(struct jscan *sc)
{
	size_t first = sc->nkeys, arena = sc->arena_len, i;
	int rc = 0;

	if (++sc->depth > JSON_MAX_DEPTH)
		return jscan_fail(sc, "nesting too deep");
	sc->pos++;
	jscan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
		sc->pos++;
		rc = 1;
		goto out;
	}
	for (;;) {
		if (sc->pos >= sc->len || sc->s[sc->pos] != '"') {
			jscan_fail(sc, sc->pos < sc->len &&
			    sc->s[sc->pos] == '}' && sc->nkeys > first ?
			    "trailing comma in an object" :
			    "member name is not a double-quoted string");
			goto out;
		}
		if (!jscan_string(sc, 1))
			goto out;
		jscan_ws(sc);
		if (sc->pos >= sc->len || sc->s[sc->pos] != ':') {
			jscan_fail(sc, "':' expected after a member name");
			goto out;
		}
		sc->pos++;
		jscan_ws(sc);
		if (!jscan_value(sc))
			goto out;
		jscan_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			jscan_ws(sc);
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == '}') {
			sc->pos++;
			break;
		}
		jscan_fail(sc, "',' or '}' expected in an object");
		goto out;
	}
	qsort(sc->keys + first, sc->nkeys - first, sizeof(*sc->keys),
	    jkey_cmp);
	for (i = first + 1; i < sc->nkeys; i++)
		if (jkey_cmp(&sc->keys[i - 1], &sc->keys[i]) == 0) {
			jscan_fail(sc, "duplicate member name");
			goto out;
		}
	rc = 1;
out:
	sc->nkeys = first;
	sc->arena_len = arena;
	sc->depth--;
	return rc;
}

/* Scans an array at the '[' at sc->pos. Returns 1, or 0 with why. */
static int
jscan_array(struct jscan *sc)
{
	int rc = 0;

	if (++sc->depth > JSON_MAX_DEPTH)
		return jscan_fail(sc, "nesting too deep");
	sc->pos++;
	jscan_ws(sc);
	if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
		sc->pos++;
		rc = 1;
		goto out;
	}
	for (;;) {
		if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
			jscan_fail(sc, "trailing comma in an array");
			goto out;
		}
		if (!jscan_value(sc))
			goto out;
		jscan_ws(sc);
		if (sc->pos < sc->len && sc->s[sc->pos] == ',') {
			sc->pos++;
			jscan_ws(sc);
			continue;
		}
		if (sc->pos < sc->len && sc->s[sc->pos] == ']') {
			sc->pos++;
			break;
		}
		jscan_fail(sc, "',' or ']' expected in an array");
		goto out;
	}
	rc = 1;
out:
	sc->depth--;
	return rc;
}

/* Returns 1 if the byte at sc->pos is a decimal digit. */
static int
jscan_digit(const struct jscan *sc)
{
	return sc->pos < sc->len && sc->s[sc->pos] >= '0' &&
	    sc->s[sc->pos] <= '9';
}

/* Scans a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * Returns 1, or 0 with why. */
static int
jscan_number(struct jscan *sc)
{
	if (sc->s[sc->pos] == '-')
		sc->pos++;
	if (!jscan_digit(sc))
		return jscan_fail(sc, "invalid number");
	if (sc->s[sc->pos] == '0') {
		sc->pos++;
		if (jscan_digit(sc))
			return jscan_fail(sc, "number with a leading zero");
	} else
		while (jscan_digit(sc))
			sc->pos++;
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		sc->pos++;
		if (!jscan_digit(sc))
			return jscan_fail(sc, "invalid number");
		while (jscan_digit(sc))
			sc->pos++;
	}
	if (sc->pos < sc->len && (sc->s[sc->pos] == 'e' ||
	    sc->s[sc->pos] == 'E')) {
		sc->pos++;
		if (sc->pos < sc->len && (sc->s[sc->pos] == '+' ||
		    sc->s[sc->pos] == '-'))
			sc->pos++;
		if (!jscan_digit(sc))
			return jscan_fail(sc, "invalid number");
		while (jscan_digit(sc))
			sc->pos++;
	}
	return 1;
}

/* Scans the literal word at sc->pos. Returns 1, or 0 with why. */
static int
jscan_literal(struct jscan *sc, const char *word)
{
	size_t n = strlen(word);

	if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
		return jscan_fail(sc, "invalid literal");
	sc->pos += n;
	return 1;
}

/* Scans one value at sc->pos (no leading whitespace). Returns 1, or 0
 * with why. */
static int
jscan_value(struct jscan *sc)
{
	if (sc->pos >= sc->len)
		return jscan_fail(sc, "value expected");
	switch (sc->s[sc->pos]) {
	case '{':
		return jscan_object(sc);
	case '[':
		return jscan_array(sc);
	case '"':
		return jscan_string(sc, 0);
	case 't':
		return jscan_literal(sc, "true");
	case 'f':
		return jscan_literal(sc, "false");
	case 'n':
		return jscan_literal(sc, "null");
	case '\'':
		return jscan_fail(sc, "single-quoted string");
	default:
		if (sc->s[sc->pos] == '-' || (sc->s[sc->pos] >= '0' &&
		    sc->s[sc->pos] <= '9'))
			return jscan_number(sc);
		return jscan_fail(sc, "value expected");
	}
}

/*
 * Checks that buf[0..len) is exactly one JSON value of RFC 8259, with
 * member names unique in each object (compared after unescaping), no
 * lone surrogate, no escaped NUL in a member name, and at most
 * JSON_MAX_DEPTH nested arrays and objects. Returns 1, or 0 with *why
 * set to a static reason.
 */
static int
json_scan_strict(const char *buf, size_t len, const char **why)
{
	struct jscan sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	sc.s = (const unsigned char *)buf;
	sc.len = len;
	sc.arena = xmalloc(len + 1);
	jscan_ws(&sc);
	rc = jscan_value(&sc);
	if (rc) {
		jscan_ws(&sc);
		if (sc.pos != sc.len)
			rc = jscan_fail(&sc, "trailing data after the value");
	}
	*why = sc.why;
	free(sc.arena);
	free(sc.keys);
	return rc;
}

/* The tokener of json_parse_strict, made once per process and reset
 * before and after each parse (making one allocates its stack). */
static json_tokener *json_tok;

/*
 * Parses exactly one JSON value filling buf[0..len): the strict scanner
 * first, then json-c in strict mode with the depth limit. Returns a new
 * reference owned by the caller, or NULL.
 */
json_object *
json_parse_strict(const char *buf, size_t len)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;
	const char *why = NULL;

	if (buf == NULL || len > 0x7fffffff || memchr(buf, '\0', len) != NULL)
		return NULL;
	if (!json_scan_strict(buf, len, &why)) {
		msg_debug("json: refused at scan: %s", why != NULL ? why :
		    "invalid");
		return NULL;
	}
	if (json_tok == NULL &&
	    (json_tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	tok = json_tok;
	json_tokener_reset(tok);
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (obj == NULL &&
	    json_tokener_get_error(tok) == json_tokener_continue) {
		/* a number alone ends only at the end of the input, which
		 * json-c is told with a NUL (the scanner saw the whole) */
		obj = json_tokener_parse_ex(tok, "", 1);
		if (json_tokener_get_error(tok) != json_tokener_success) {
			json_object_put(obj);
			obj = NULL;
		}
	} else if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_reset(tok);	/* keeps nothing of this input */
	return obj;
}

/* Returns the member key of obj if it is of type t, else NULL
 * (borrowed from obj). */
json_object *
json_get_typed(json_object *obj, const char *key, json_type t)
{
	json_object *v;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (!json_object_is_type(v, t))
		return NULL;
	return v;
}

/* Returns the string of member key, or NULL if it is absent, not a
 * string, or holds a NUL character (which would make a C string say
 * something else than the JSON did); borrowed from obj. */
const char *
json_get_str(json_object *obj, const char *key)
{
	json_object *v = json_get_typed(obj, key, json_type_string);
	const char *s;

	if (v == NULL || (s = json_object_get_string(v)) == NULL ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}

/* Returns 1 and sets *out if member key is a boolean, else 0. */
int
json_get_bool(json_object *obj, const char *key, int *out)
{
	json_object *v = json_get_typed(obj, key, json_type_boolean);

	if (v == NULL)
		return 0;
	*out = json_object_get_boolean(v);
	return 1;
}

/* Returns the compact serialization of obj (owned by obj). */
const char *
json_compact(json_object *obj)
{
	return json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
