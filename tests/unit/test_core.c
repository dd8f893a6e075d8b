/*
 * test_core.c - configuration table and its documentation, dns identifier
 * syntax, the problem catalogue, strict JSON, PostgreSQL arrays.
 * Run from the top of the source tree (it reads README.md and
 * acme.conf.sample).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "ident.h"
#include "jsonutil.h"
#include "problem.h"
#include "store.h"
#include "util.h"

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s (run from the source tree)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Every configuration key is in the sample file and in the README. */
static void
test_config_documented(void **state)
{
	char *sample = slurp("acme.conf.sample"), *readme = slurp("README.md");
	char needle[128];
	size_t i;

	(void)state;
	for (i = 0; i < CFG__MAX; i++) {
		snprintf(needle, sizeof(needle), "\n%s = ", cfg_defs[i].name);
		if (strstr(sample, needle) == NULL)
			fail_msg("key %s missing from acme.conf.sample",
			    cfg_defs[i].name);
		snprintf(needle, sizeof(needle), "`%s`", cfg_defs[i].name);
		if (strstr(readme, needle) == NULL)
			fail_msg("key %s missing from README.md",
			    cfg_defs[i].name);
	}
	free(sample);
	free(readme);
}

static int
load_text(const char *text)
{
	char path[] = "/tmp/acme-test-conf-XXXXXX";
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	rc = config_load(path);
	unlink(path);
	return rc;
}

static void
test_config_load(void **state)
{
	static const struct {
		const char	*text;
		int		 want;
	} cases[] = {
		{ "", 1 },
		{ "# comment\n\nchildren = 8\n", 1 },
		{ "  base_url =  https://acme.example  \n", 1 },
		{ "nosuchkey = 1\n", 0 },
		{ "children = eight\n", 0 },
		{ "children = 0\n", 1 },	/* no master (mod_fcgid) */
		{ "children = -1\n", 0 },
		{ "children = 257\n", 0 },
		{ "cert_validity_days = 200\n", 0 },
		{ "children\n", 0 },
	};
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = load_text(cases[i].text);
		if (got != cases[i].want)
			fail_msg("config %zu %s: got %d, want %d", i,
			    cases[i].text, got, cases[i].want);
	}
	assert_int_equal(load_text("children = 8\nbase_url = https://a.b \n"),
	    1);
	assert_int_equal(cfg_int(CFG_CHILDREN), 8);
	assert_string_equal(cfg_str(CFG_BASE_URL), "https://a.b");
	assert_int_equal(cfg_int(CFG_NONCE_LIFETIME), 3600);
	config_free();
}

static void
test_ident(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: refused */
		int		 wild;
	} cases[] = {
		{ "www.example.org", "www.example.org", 0 },
		{ "WWW.Example.ORG", "www.example.org", 0 },
		{ "*.example.org", "*.example.org", 1 },
		{ "a-b.example.org", "a-b.example.org", 0 },
		{ "xn--bcher-kva.example", "xn--bcher-kva.example", 0 },
		{ "XN--BCHER-KVA.example", "xn--bcher-kva.example", 0 },
		{ "xn--ls8h.example", NULL, 0 },
		{ "xn--a.example", NULL, 0 },
		{ "ab--cd.example", NULL, 0 },
		{ "a--b.example", "a--b.example", 0 },
		{ "example", NULL, 0 },
		{ "example.org.", NULL, 0 },
		{ ".example.org", NULL, 0 },
		{ "www..example.org", NULL, 0 },
		{ "-www.example.org", NULL, 0 },
		{ "www-.example.org", NULL, 0 },
		{ "www.exa_mple.org", NULL, 0 },
		{ "192.168.1.1", NULL, 0 },
		{ "www.example.123", NULL, 0 },
		{ "*.*.example.org", NULL, 0 },
		{ "www.*.example.org", NULL, 0 },
		{ "*example.org", NULL, 0 },
		{ "*.org", NULL, 0 },
		{ "co.uk", NULL, 0 },
		{ "*.co.uk", NULL, 0 },
		{ "example.co.uk", "example.co.uk", 0 },
		{ "*.example.co.uk", "*.example.co.uk", 1 },
		{ "github.io", NULL, 0 },
		{ "", NULL, 0 },
		{ "ex ample.org", NULL, 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		    ".org", NULL, 0 },
	};
	struct problem p;
	char out[256];
	size_t i;
	int w, ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&p, 0, sizeof(p));
		ok = ident_check(cases[i].in, out, &w, &p);
		if (ok != (cases[i].want != NULL))
			fail_msg("ident %s: got %d, want %d", cases[i].in, ok,
			    cases[i].want != NULL);
		if (ok) {
			assert_string_equal(out, cases[i].want);
			assert_int_equal(w, cases[i].wild);
		} else {
			assert_int_equal(p.type, PT_REJECTED_IDENTIFIER);
			assert_int_equal(p.code, PC_INVALID_DOMAIN);
			assert_non_null(strstr(p.detail, "INVALID_DOMAIN: "));
		}
	}
}

static void
test_problem(void **state)
{
	struct problem p;
	json_object *o;
	const char *s;
	int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	problem_code(&p, PC_DOMAIN_NOT_FOUND, "%s is not listed", "a.b.c");
	problem_sub(&p, PT_REJECTED_IDENTIFIER, "a.b.c", "not listed");
	o = problem_json(&p);
	assert_string_equal(json_get_str(o, "type"),
	    "urn:ietf:params:acme:error:rejectedIdentifier");
	assert_string_equal(json_get_str(o, "code"), "DOMAIN_NOT_FOUND");
	assert_string_equal(json_get_str(o, "detail"),
	    "DOMAIN_NOT_FOUND: a.b.c is not listed");
	assert_int_equal(json_object_get_int(json_get_typed(o, "status",
	    json_type_int)), 400);
	assert_int_equal(json_object_array_length(json_get_typed(o,
	    "subproblems", json_type_array)), 1);
	json_object_put(o);
	problem_clear(&p);
	problem_set(&p, PT_BAD_NONCE, "x");
	assert_int_equal(p.status, 400);
	problem_set(&p, PT_ORDER_NOT_READY, "x");
	assert_int_equal(p.status, 403);
	problem_set(&p, PT_UNSUPPORTED_MEDIA, "x");
	assert_int_equal(p.status, 415);
	/* every catalogue code has a name that looks itself up */
	for (i = 1; i < PC__MAX; i++) {
		s = pcode_name((enum pcode)i);
		assert_non_null(s);
		assert_int_equal(pcode_lookup(s), i);
	}
	assert_int_equal(pcode_lookup("NO_SUCH_CODE"), PC_NONE);
}

static void
test_json_strict(void **state)
{
	static const struct {
		const char	*in;
		int		 ok;
	} cases[] = {
		{ "{\"a\":1}", 1 },
		{ "{\"a\":1} ", 1 },
		{ "{\"a\":1}x", 0 },
		{ "{\"a\":1}{}", 0 },
		{ "{\"a\":1,}", 0 },
		{ "", 0 },
		{ "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
		    0 },
		{ "{\"a\":\"\xff\"}", 0 },
	};
	json_object *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		o = json_parse_strict(cases[i].in, strlen(cases[i].in));
		if ((o != NULL) != cases[i].ok)
			fail_msg("json %zu: got %d, want %d", i, o != NULL,
			    cases[i].ok);
		json_object_put(o);
	}
	o = json_parse_strict("{\"a\":\"x\"}\0{}", 11);
	assert_null(o);
}

static void
test_pg_array(void **state)
{
	const char *in[] = { "a.example", "*.b.example", "q\"uo\\te" };
	char *lit, **out;
	size_t n, i;

	(void)state;
	lit = pg_text_array(in, 3);
	assert_string_equal(lit,
	    "{\"a.example\",\"*.b.example\",\"q\\\"uo\\\\te\"}");
	out = pg_parse_array(lit, &n);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_string_equal(out[i], in[i]);
	strv_free(out, n);
	free(lit);
	out = pg_parse_array("{a.example,b.example}", &n);
	assert_int_equal(n, 2);
	assert_string_equal(out[1], "b.example");
	strv_free(out, n);
	out = pg_parse_array("{}", &n);
	assert_int_equal(n, 0);
	strv_free(out, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_documented),
		cmocka_unit_test(test_config_load),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_problem),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_pg_array),
	};

	log_init("test_core", LOG_LVL__MAX);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
