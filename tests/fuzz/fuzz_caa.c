/*
 * fuzz_caa.c - CAA (common/caa.c): one record's RDATA and its value
 * with caa_parse_rr and caa_value_parse on the raw input, then the whole
 * tree climb of caa_check on answers from the fake name server.
 */
#include <stdlib.h>
#include <string.h>

#include "caa.h"
#include "fuzz.h"
#include "util.h"

FUZZ_TARGET(caa)(const uint8_t *data, size_t size)
{
	static const char *const ids[] = { "certigna.com", "acme.test" };
	struct dns_resolver res;
	struct caa_rr rr;
	struct caa_value v;
	struct problem p;

	memset(&p, 0, sizeof(p));
	if (caa_parse_rr(data, size, &rr)) {
		if (rr.value < (const char *)data ||
		    rr.value + rr.valuelen > (const char *)data + size ||
		    strlen(rr.tag) == 0)
			abort();
		if (caa_value_parse(rr.value, rr.valuelen, &v))
			(void)caa_value_allows(&v, ids, 2,
			    "https://acme.test/acme/acct/1", "dns-01");
	}
	if (caa_value_parse((const char *)data, size, &v))
		(void)caa_value_allows(&v, ids, 2, NULL, NULL);
	(void)dns_resolver_parse(&res, NULL);
	fake_dns_set(data, size);
	if (!caa_check(&res, "a.b.example.org", 1, ids, 2,
	    "https://acme.test/acme/acct/1", "http-01", &p) &&
	    p.type == PT_NONE)
		abort();
	problem_clear(&p);
	return 0;
}
