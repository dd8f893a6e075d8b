/*
 * output.c - acmectl's results for humans ("key: value" lines and
 * aligned tables) or for scripts (one JSON document with --json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "jsonutil.h"

/* Returns the text of a value for a human: "-" for null, lists joined
 * with ", ", objects as compact JSON. Caller frees. */
static char *
value_text(json_object *v)
{
	const char *str;
	char *s, *item, *joined;
	size_t i, n;

	if (v == NULL)
		return xstrdup("-");
	switch (json_object_get_type(v)) {
	case json_type_string:
		str = json_object_get_string(v);
		return xstrdup(*str != '\0' ? str : "-");
	case json_type_array:
		n = json_object_array_length(v);
		if (n == 0)
			return xstrdup("-");
		s = value_text(json_object_array_get_idx(v, 0));
		for (i = 1; i < n; i++) {
			item = value_text(json_object_array_get_idx(v, i));
			joined = xasprintf("%s, %s", s, item);
			free(s);
			free(item);
			s = joined;
		}
		return s;
	case json_type_object:
		return xstrdup(json_compact(v));
	default:
		return xstrdup(json_object_get_string(v));
	}
}

/* Returns 1 if v is a non-empty array of objects (shown as a table). */
static int
is_table(json_object *v)
{
	return json_object_is_type(v, json_type_array) &&
	    json_object_array_length(v) > 0 &&
	    json_object_is_type(json_object_array_get_idx(v, 0),
	    json_type_object);
}

/* Prints one line of a table: n cells padded to their column's width
 * (but the last), two spaces apart. */
static void
print_row(const char *indent, const char **cells, const size_t *width,
    size_t n)
{
	size_t c;

	printf("%s", indent);
	if (n == 0) {
		printf("\n");
		return;
	}
	for (c = 0; c + 1 < n; c++)
		printf("%-*s  ", (int)width[c], cells[c]);
	printf("%s\n", cells[n - 1]);
}

/* Prints an array of objects as a table with a header line, each line
 * prefixed by indent; the columns are the keys of the first object. */
static void
print_table(json_object *arr, const char *indent)
{
	json_object *first, *row, *v;
	size_t r, c, nrows, ncols = 0, *width = NULL;
	const char **keys = NULL;
	char **cells = NULL;

	nrows = json_object_array_length(arr);
	if (nrows == 0) {
		printf("%s(none)\n", indent);
		return;
	}
	first = json_object_array_get_idx(arr, 0);
	keys = xcalloc((size_t)json_object_object_length(first) + 1,
	    sizeof(*keys));
	{
		json_object_object_foreach(first, key, val) {
			(void)val;
			keys[ncols++] = key;
		}
	}
	width = xcalloc(ncols + 1, sizeof(*width));
	cells = xcalloc(nrows * ncols + 1, sizeof(*cells));
	for (c = 0; c < ncols; c++)
		width[c] = strlen(keys[c]);
	for (r = 0; r < nrows; r++) {
		row = json_object_array_get_idx(arr, r);
		for (c = 0; c < ncols; c++) {
			v = NULL;
			json_object_object_get_ex(row, keys[c], &v);
			cells[r * ncols + c] = value_text(v);
			if (strlen(cells[r * ncols + c]) > width[c])
				width[c] = strlen(cells[r * ncols + c]);
		}
	}
	print_row(indent, keys, width, ncols);
	for (r = 0; r < nrows; r++)
		print_row(indent, (const char **)cells + r * ncols, width,
		    ncols);
	for (r = 0; r < nrows * ncols; r++)
		free(cells[r]);
	free(cells);
	free(width);
	free(keys);
}

/* Prints an object as "key: value" lines (prefixed by indent); members
 * that are lists of objects follow as tables under a "key:" line. */
static void
print_fields(json_object *obj, const char *indent)
{
	char *s, *sub;

	{
		json_object_object_foreach(obj, key, val) {
			if (is_table(val))
				continue;
			if (json_object_is_type(val, json_type_object)) {
				printf("%s%s:\n", indent, key);
				sub = xasprintf("%s  ", indent);
				print_fields(val, sub);
				free(sub);
				continue;
			}
			s = value_text(val);
			printf("%s%s: %s\n", indent, key, s);
			free(s);
		}
	}
	{
		json_object_object_foreach(obj, key, val) {
			if (!is_table(val))
				continue;
			printf("%s%s:\n", indent, key);
			sub = xasprintf("%s  ", indent);
			print_table(val, sub);
			free(sub);
		}
	}
}

void
output(const struct ctl *c, json_object *doc, enum view view)
{
	const char *kid, *key;

	if (c->json) {
		printf("%s\n", json_compact(doc));
		return;
	}
	switch (view) {
	case VIEW_TABLE:
		if (json_object_is_type(doc, json_type_array))
			print_table(doc, "");
		else
			print_fields(doc, "");
		break;
	case VIEW_CREDENTIAL:
		kid = json_get_str(doc, "kid");
		key = json_get_str(doc, "hmac_key");
		printf("kid: %s\nhmac_key: %s\n", kid != NULL ? kid : "-",
		    key != NULL ? key : "-");
		break;
	case VIEW_FIELDS:
		print_fields(doc, "");
		break;
	default:
		break;
	}
}
