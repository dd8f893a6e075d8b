/*
 * fuzz_json.c - the strict JSON parser (common/jsonutil.c): what it
 * accepts json-c must have parsed whole, and the value must survive a
 * round trip through its serialization.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "jsonutil.h"

FUZZ_TARGET(json)(const uint8_t *data, size_t size)
{
	json_object *o, *again;
	const char *text;

	if ((o = json_parse_strict((const char *)data, size)) == NULL)
		return 0;
	text = json_compact(o);
	if ((again = json_parse_strict(text, strlen(text))) == NULL)
		abort();	/* our own output refused */
	if (!json_object_equal(o, again))
		abort();
	json_object_put(again);
	json_object_put(o);
	return 0;
}
