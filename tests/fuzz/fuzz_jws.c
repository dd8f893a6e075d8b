/*
 * fuzz_jws.c - the flattened JWS parser and verifiers (common/jws.c,
 * common/jwk.c): parse, then verify with the embedded JWK and with a MAC
 * key, as acme-fcgi would.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jose.h"
#include "jsonutil.h"

FUZZ_TARGET(jws)(const uint8_t *data, size_t size)
{
	static const unsigned char mac_key[32] = { 1, 2, 3 };
	struct problem p;
	struct jws jws;
	struct jwk key;
	json_object *payload;

	memset(&p, 0, sizeof(p));
	memset(&key, 0, sizeof(key));
	if (!jws_parse((const char *)data, size, &jws, &p)) {
		if (p.type == PT_NONE)
			abort();	/* a refusal without a problem */
		problem_clear(&p);
		return 0;
	}
	if (jws.url == NULL || jws.signing_input == NULL || jws.sig_len == 0 ||
	    (jws.kid != NULL && jws.jwk_obj != NULL))
		abort();
	if ((payload = jws_payload_json(&jws, &p)) != NULL)
		json_object_put(payload);
	problem_clear(&p);
	if (jws.jwk_obj != NULL && jwk_parse(jws.jwk_obj, &key, &p)) {
		if (jws_verify(&jws, &key, &p) && !jwk_alg_matches(&key,
		    jws.alg))
			abort();
		jwk_free(&key);
	}
	problem_clear(&p);
	(void)jws_verify_hmac(&jws, mac_key, sizeof(mac_key), &p);
	problem_clear(&p);
	jws_free(&jws);
	return 0;
}
