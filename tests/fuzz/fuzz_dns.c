/*
 * fuzz_dns.c - DNS answers (common/dns.c: TXT and A/AAAA; worker/dns01.c:
 * CNAME chains and TXT records) from a fake name server answering with
 * the fuzz input (see fake_dns.c).
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "fuzz.h"
#include "util.h"
#include "validate.h"

FUZZ_TARGET(dns)(const uint8_t *data, size_t size)
{
	struct dns_resolver res;
	struct sockaddr_storage *addrs = NULL;
	struct problem p;
	char **txts = NULL;
	size_t n = 0, i;

	memset(&p, 0, sizeof(p));
	(void)dns_resolver_parse(&res, NULL);
	fake_dns_set(data, size);
	if (dns_txt(&res, "_acme-challenge.example.org", &txts, &n, &p)) {
		for (i = 0; i < n; i++)
			if (txts[i] == NULL)
				abort();
		dns_strings_free(txts, n);
	}
	problem_clear(&p);
	fake_dns_set(data, size);
	if (dns_addrs(&res, "www.example.org", &addrs, &n, &p)) {
		if (n == 0)
			abort();
		free(addrs);
	}
	problem_clear(&p);
	fake_dns_set(data, size);
	if (dns01_validate(&res, "*.example.org", "token.thumbprint", &p) ==
	    0 && p.type == PT_NONE)
		abort();
	problem_clear(&p);
	return 0;
}
