/*
 * jsonutil.c - strict json-c parsing and checked getters.
 */
#include <string.h>

#include "jsonutil.h"

json_object *
json_parse_strict(const char *buf, size_t len)
{
	json_tokener *tok = NULL;
	json_object *obj = NULL;

	if (len > 0x7fffffff || memchr(buf, '\0', len) != NULL)
		return NULL;
	if ((tok = json_tokener_new_ex(JSON_MAX_DEPTH)) == NULL)
		return NULL;
	json_tokener_set_flags(tok,
	    JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, buf, (int)len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

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

const char *
json_get_str(json_object *obj, const char *key)
{
	json_object *v = json_get_typed(obj, key, json_type_string);

	return v != NULL ? json_object_get_string(v) : NULL;
}

int
json_get_bool(json_object *obj, const char *key, int *out)
{
	json_object *v = json_get_typed(obj, key, json_type_boolean);

	if (v == NULL)
		return 0;
	*out = json_object_get_boolean(v);
	return 1;
}

const char *
json_compact(json_object *obj)
{
	return json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}
