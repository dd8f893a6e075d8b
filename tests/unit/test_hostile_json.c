/*
 * test_hostile_json.c - the strict JSON scanner in front of json-c
 * (common/jsonutil.c) against inputs json-c 0.16 alone accepts, and the
 * JWS parser on protected headers built from such inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "jose.h"
#include "jsonutil.h"
#include "problem.h"
#include "util.h"

/* RFC 8259 grammar, I-JSON member names and the depth limit. */
static void
test_json_scanner(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
	} cases[] = {
		/* accepted */
		{ "{}", 1 },
		{ " \t\r\n{ \"a\" : [ 1 , -2.5e+3 , true , false , null ] }\n",
		    1 },
		{ "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\"]", 1 },
		{ "{\"a\":{\"a\":{\"a\":1}}}", 1 },	/* same name, nested */
		{ "{\"a\":1,\"b\":{\"a\":2},\"c\":3}", 1 },
		{ "{\"\xc3\xa9t\xc3\xa9\":\"\xf0\x9f\x98\x80\"}", 1 },
		{ "[0, -0, 0.5, 10, 1E5, 1e-5]", 1 },
		{ "\"x\"", 1 },
		{ "0", 1 },		/* fuzz: "0\n" was taken, "0" not */
		{ "0\n", 1 },
		{ "-12.5e3", 1 },
		{ "[\"\\u0000\"]", 1 },		/* NUL in a value: callers */
		/* single quotes (json-c takes them) */
		{ "{'a':1}", 0 },
		{ "{\"a\":'x'}", 0 },
		{ "['x']", 0 },
		/* duplicate member names (json-c keeps the last) */
		{ "{\"a\":1,\"a\":2}", 0 },
		{ "{\"a\":1,\"b\":2,\"a\":3}", 0 },
		{ "{\"a\":1,\"\\u0061\":2}", 0 },	/* same once unescaped */
		{ "{\"\\/\":1,\"/\":2}", 0 },
		{ "{\"x\":{\"k\":1,\"k\":1}}", 0 },
		{ "{\"\xc3\xa9\":1,\"\\u00e9\":2}", 0 },
		/* trailing commas */
		{ "{\"a\":1,}", 0 },
		{ "[1,]", 0 },
		{ "[1,,2]", 0 },
		{ "{,}", 0 },
		/* control characters in strings (json-c takes a raw tab) */
		{ "[\"a\tb\"]", 0 },
		{ "[\"a\nb\"]", 0 },
		{ "[\"\x1f\"]", 0 },
		/* invalid escapes */
		{ "[\"\\x41\"]", 0 },
		{ "[\"\\u12\"]", 0 },
		{ "[\"\\u12G4\"]", 0 },
		{ "[\"\\'\"]", 0 },
		{ "[\"\\\"]", 0 },
		/* lone surrogates (json-c makes U+FFFD of them) */
		{ "[\"\\ud800\"]", 0 },
		{ "[\"\\udc00\"]", 0 },
		{ "[\"\\ud800\\u0041\"]", 0 },
		/* a NUL in a member name (json-c cuts the name there) */
		{ "{\"a\\u0000b\":1,\"a\":2}", 0 },
		{ "{\"a\\u0000\":1}", 0 },
		/* invalid UTF-8: overlong, surrogate, too large, cut */
		{ "[\"\xc0\xaf\"]", 0 },
		{ "[\"\xed\xa0\x80\"]", 0 },
		{ "[\"\xf4\x90\x80\x80\"]", 0 },
		{ "[\"\xe2\x82\"]", 0 },
		{ "\xef\xbb\xbf{}", 0 },		/* byte order mark */
		/* numbers */
		{ "[01]", 0 },
		{ "[+1]", 0 },
		{ "[1.]", 0 },
		{ "[.5]", 0 },
		{ "[1e]", 0 },
		{ "[-]", 0 },
		{ "[0x10]", 0 },
		{ "[NaN]", 0 },
		{ "[Infinity]", 0 },
		/* literals and structure */
		{ "[True]", 0 },
		{ "[nul]", 0 },
		{ "{\"a\" 1}", 0 },
		{ "{a:1}", 0 },
		{ "{\"a\":1}}", 0 },
		{ "[1] [2]", 0 },
		{ "[", 0 },
		{ "\"abc", 0 },
		{ "", 0 },
		{ "   ", 0 },
		{ "/* c */ {}", 0 },
		{ "{\"a\":1} // c", 0 },
	};
	json_object *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_parse_strict(cases[i].in, strlen(cases[i].in));
		if ((o != NULL) != cases[i].ok)
			fail_msg("json case %zu %s: got %s, want %s", i,
			    cases[i].in, o != NULL ? "accepted" : "refused",
			    cases[i].ok ? "accepted" : "refused");
		json_object_put(o);
	}
}

/* Nesting: JSON_MAX_DEPTH arrays or objects are fine, one more is not. */
static void
test_json_depth(void **state)
{
	char buf[8 * (JSON_MAX_DEPTH + 2)], *p;
	json_object *o;
	int depth, i;

	(void)state;
	for (depth = JSON_MAX_DEPTH - 1; depth <= JSON_MAX_DEPTH + 1;
	    depth++) {
		p = buf;
		for (i = 0; i < depth; i++)
			*p++ = '[';
		for (i = 0; i < depth; i++)
			*p++ = ']';
		o = json_parse_strict(buf, (size_t)(p - buf));
		if ((o != NULL) != (depth <= JSON_MAX_DEPTH))
			fail_msg("arrays nested %d deep: got %d", depth,
			    o != NULL);
		json_object_put(o);
		p = buf;
		for (i = 0; i < depth; i++) {
			memcpy(p, "{\"k\":", 5);
			p += 5;
		}
		*p++ = '1';
		for (i = 0; i < depth; i++)
			*p++ = '}';
		o = json_parse_strict(buf, (size_t)(p - buf));
		/* json-c counts an object's member as one more level: at
		 * JSON_MAX_DEPTH objects it refuses what the scanner took */
		if (depth != JSON_MAX_DEPTH &&
		    (o != NULL) != (depth < JSON_MAX_DEPTH))
			fail_msg("objects nested %d deep: got %d", depth,
			    o != NULL);
		json_object_put(o);
	}
}

/* Many members: duplicates are found however far apart they are, and a
 * large object of distinct names is fine. */
static void
test_json_many_members(void **state)
{
	size_t cap = 64 * 1024, len, i;
	char *buf = xmalloc(cap);
	json_object *o;

	(void)state;
	for (i = 0, len = 0, buf[len++] = '{'; i < 4000; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s\"k%zu\":%zu",
		    i > 0 ? "," : "", i, i);
	buf[len++] = '}';
	o = json_parse_strict(buf, len);
	assert_non_null(o);
	assert_int_equal(json_object_object_length(o), 4000);
	json_object_put(o);
	/* the same with the first name again at the end */
	len--;
	len += (size_t)snprintf(buf + len, cap - len, ",\"k0\":0}");
	assert_null(json_parse_strict(buf, len));
	free(buf);
}

/* A string member with an escaped NUL is no string to json_get_str:
 * "x.demo.test\u0000" must not become "x.demo.test". */
static void
test_json_get_str_nul(void **state)
{
	static const char text[] =
	    "{\"a\":\"x.demo.test\\u0000\",\"b\":\"ok\"}";
	json_object *o;

	(void)state;
	o = json_parse_strict(text, strlen(text));
	assert_non_null(o);
	assert_null(json_get_str(o, "a"));
	assert_string_equal(json_get_str(o, "b"), "ok");
	assert_null(json_get_str(o, "c"));
	json_object_put(o);
}

/* Returns the flattened JWS of a raw protected header text (and an
 * empty payload, a dummy signature); caller frees. */
static char *
jws_with_header(const char *header)
{
	char *h = b64u_encode((const unsigned char *)header, strlen(header));
	char *out;

	out = xasprintf("{\"protected\":\"%s\",\"payload\":\"\","
	    "\"signature\":\"AAAA\"}", h);
	free(h);
	return out;
}

/* The protected header must be strict JSON: a duplicate "alg", "url",
 * "nonce" or "kid" is malformed, whichever value comes last. */
static void
test_jws_header_duplicates(void **state)
{
	static const struct {
		const char	*header;
		int		 ok;
	} cases[] = {
		{ "{\"alg\":\"RS256\",\"nonce\":\"n\",\"url\":\"https://a/b\","
		    "\"kid\":\"https://a/acme/acct/1\"}", 1 },
		{ "{\"alg\":\"none\",\"alg\":\"RS256\",\"nonce\":\"n\","
		    "\"url\":\"https://a/b\",\"kid\":\"k\"}", 0 },
		{ "{\"alg\":\"RS256\",\"nonce\":\"n\",\"url\":\"https://x/\","
		    "\"url\":\"https://a/b\",\"kid\":\"k\"}", 0 },
		{ "{\"alg\":\"RS256\",\"nonce\":\"n\",\"nonce\":\"m\","
		    "\"url\":\"https://a/b\",\"kid\":\"k\"}", 0 },
		{ "{\"alg\":\"RS256\",\"nonce\":\"n\",\"url\":\"https://a/b\","
		    "\"kid\":\"k1\",\"kid\":\"k2\"}", 0 },
		{ "{\"alg\":\"RS256\",\"nonce\":\"n\",\"url\":\"https://a/b\","
		    "\"k\\u0069d\":\"k1\",\"kid\":\"k2\"}", 0 },
		{ "{'alg':'RS256','nonce':'n','url':'https://a/b',"
		    "'kid':'k'}", 0 },
	};
	struct jws jws;
	struct problem p;
	char *body;
	size_t i;
	int ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		body = jws_with_header(cases[i].header);
		ok = jws_parse(body, strlen(body), &jws, &p);
		if (ok != cases[i].ok)
			fail_msg("header %zu %s: got %d (%s), want %d", i,
			    cases[i].header, ok, p.detail, cases[i].ok);
		if (!ok && p.type != PT_MALFORMED)
			fail_msg("header %zu: type %d, want malformed", i,
			    p.type);
		jws_free(&jws);
		problem_clear(&p);
		free(body);
	}
	/* duplicates in the outer object too */
	memset(&p, 0, sizeof(p));
	assert_int_equal(jws_parse("{\"protected\":\"e30\",\"payload\":\"\","
	    "\"signature\":\"AAAA\",\"signature\":\"AAAA\"}", 75, &jws, &p),
	    0);
	assert_int_equal(p.type, PT_MALFORMED);
	problem_clear(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_scanner),
		cmocka_unit_test(test_json_depth),
		cmocka_unit_test(test_json_many_members),
		cmocka_unit_test(test_json_get_str_nul),
		cmocka_unit_test(test_jws_header_duplicates),
	};

	log_init("test_hostile_json", LOG_LVL_ERR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
