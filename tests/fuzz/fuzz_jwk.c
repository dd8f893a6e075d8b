/*
 * fuzz_jwk.c - public JWK parsing (common/jwk.c): an accepted key has a
 * thumbprint, a canonical form that parses back to the same thumbprint,
 * and a size within the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jose.h"
#include "jsonutil.h"

FUZZ_TARGET(jwk)(const uint8_t *data, size_t size)
{
	struct problem p;
	struct jwk key, again;
	json_object *o;

	memset(&p, 0, sizeof(p));
	if ((o = json_parse_strict((const char *)data, size)) == NULL)
		return 0;
	if (jwk_parse(o, &key, &p)) {
		if (key.thumbprint == NULL || key.canon == NULL ||
		    (key.bits != 256 && key.bits != 384 &&
		    (key.bits < 2048 || key.bits > 4096)))
			abort();
		if (!jwk_parse(key.canon, &again, &p) ||
		    strcmp(again.thumbprint, key.thumbprint) != 0)
			abort();
		jwk_free(&again);
		jwk_free(&key);
	} else if (p.type == PT_NONE)
		abort();
	problem_clear(&p);
	json_object_put(o);
	return 0;
}
