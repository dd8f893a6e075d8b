/*
 * dns01.c - dns-01 validation (RFC 8555 section 8.4): a TXT record at
 * _acme-challenge.<name> holding base64url(SHA-256(key authorization)).
 */
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "jose.h"
#include "problem.h"
#include "util.h"
#include "validate.h"

#define DNS01_QUOTE_MAX	96	/* TXT text quoted in details */

int
dns01_validate(const struct dns_resolver *res, const char *name,
    const char *key_auth, struct problem *p)
{
	char **txts = NULL, *qname = NULL, *want = NULL;
	char got[DNS01_QUOTE_MAX];
	size_t ntxt = 0, i;
	int rc = 0;

	if (strncmp(name, "*.", 2) == 0)
		name += 2;
	qname = xasprintf("_acme-challenge.%s", name);
	if ((want = sha256_b64u(key_auth)) == NULL) {
		problem_set(p, PT_SERVER_INTERNAL, "dns-01: cannot hash the "
		    "key authorization");
		goto out;
	}
	if (!dns_txt(res, qname, &txts, &ntxt, p))
		goto out;
	for (i = 0; i < ntxt; i++)
		if (strcmp(txts[i], want) == 0) {
			msg_debug("dns-01: %s: found the expected TXT record",
			    qname);
			rc = 1;
			goto out;
		}
	if (ntxt == 0)
		problem_set(p, PT_UNAUTHORIZED, "no TXT record found at %s",
		    qname);
	else {
		printable_copy(got, sizeof(got), txts[0], strlen(txts[0]));
		if (ntxt == 1)
			problem_set(p, PT_UNAUTHORIZED, "incorrect TXT record "
			    "\"%s\" found at %s", got, qname);
		else
			problem_set(p, PT_UNAUTHORIZED, "incorrect TXT record "
			    "\"%s\" (and %zu more) found at %s", got, ntxt - 1,
			    qname);
	}
out:
	dns_strings_free(txts, ntxt);
	free(qname);
	free(want);
	return rc;
}
