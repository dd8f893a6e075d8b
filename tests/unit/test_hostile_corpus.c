/*
 * test_hostile_corpus.c - replays every file of tests/fuzz/corpus/TARGET/
 * (seeds, and each input a fuzzer once crashed on) through the fuzz
 * targets of tests/fuzz, built here without libFuzzer: a regression
 * test of every crash found, under `make sanitize` with ASan and UBSan.
 * Run from the top of the source tree.
 */
#include <sys/types.h>
#include <sys/stat.h>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define FUZZ_REPLAY
#include "../fuzz/fake_dns.c"
#include "../fuzz/fuzz_b64.c"
#include "../fuzz/fuzz_caa.c"
#include "../fuzz/fuzz_cert_issuer.c"
#include "../fuzz/fuzz_csr.c"
#include "../fuzz/fuzz_dns.c"
#include "../fuzz/fuzz_http.c"
#include "../fuzz/fuzz_ident.c"
#include "../fuzz/fuzz_json.c"
#include "../fuzz/fuzz_jwk.c"
#include "../fuzz/fuzz_jws.c"
#include "../fuzz/fuzz_smtp.c"

#define CORPUS	"tests/fuzz/corpus"

struct target {
	const char	*name;
	int		(*one)(const uint8_t *, size_t);
};

/* Reads a whole file into a new exact-size buffer; caller frees. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f;
	uint8_t *buf;
	long n;

	if ((f = fopen(path, "rb")) == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = xmalloc(n > 0 ? (size_t)n : 1);
	if (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Runs one target on every file of its corpus (at least one). */
static void
replay(void **state)
{
	const struct target *t = *state;
	char dir[256], path[512];
	struct dirent *de;
	struct stat st;
	uint8_t *buf;
	size_t len;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), CORPUS "/%s", t->name);
	if ((d = opendir(dir)) == NULL)
		fail_msg("no corpus %s (run from the source tree)", dir);
	while ((de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_name[0] == '.' || stat(path, &st) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		buf = slurp(path, &len);
		if (t->one(buf, len) != 0)
			fail_msg("%s: target returned non-zero", path);
		free(buf);
		n++;
	}
	closedir(d);
	if (n == 0)
		fail_msg("corpus %s is empty", dir);
}

int
main(void)
{
	static const struct target targets[] = {
		{ "b64", fuzz_b64 },
		{ "caa", fuzz_caa },
		{ "cert_issuer", fuzz_cert_issuer },
		{ "csr", fuzz_csr },
		{ "dns", fuzz_dns },
		{ "http", fuzz_http },
		{ "ident", fuzz_ident },
		{ "json", fuzz_json },
		{ "jwk", fuzz_jwk },
		{ "jws", fuzz_jws },
		{ "smtp", fuzz_smtp },
	};
	struct CMUnitTest tests[sizeof(targets) / sizeof(targets[0])];
	size_t i;

	for (i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		memset(&tests[i], 0, sizeof(tests[i]));
		tests[i].name = targets[i].name;
		tests[i].test_func = replay;
		tests[i].initial_state = (void *)&targets[i];
	}
	log_init("test_hostile_corpus", LOG_LVL__MAX);
	return cmocka_run_group_tests_name("corpus", tests, NULL, NULL);
}
