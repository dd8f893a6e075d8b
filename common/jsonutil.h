/*
 * jsonutil.h - json-c on untrusted input: strict parsing with a depth
 * limit, and getters that check presence and type before every read.
 */
#ifndef ACME_JSONUTIL_H
#define ACME_JSONUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#define JSON_MAX_DEPTH	16

/* Parses exactly one JSON value filling buf[0..len) (trailing garbage,
 * NUL bytes, invalid UTF-8, depth > JSON_MAX_DEPTH are refused).
 * Returns a new reference or NULL. */
json_object *json_parse_strict(const char *buf, size_t len);
/* Returns the member's string, or NULL if absent, not a string, or
 * holding a NUL character. The pointer is borrowed from obj. */
const char *json_get_str(json_object *obj, const char *key);
/* Returns the member if present and of type t, else NULL (borrowed). */
json_object *json_get_typed(json_object *obj, const char *key, json_type t);
/* Returns 1 and sets *out if the member is a boolean. */
int	 json_get_bool(json_object *obj, const char *key, int *out);
/* Serializes compactly without escaping '/'; pointer owned by obj. */
const char *json_compact(json_object *obj);

#endif
