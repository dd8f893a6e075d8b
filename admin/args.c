/*
 * args.c - acmectl's command arguments: the command line checked against
 * the command's argument table, each value by the checker of its type.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "ctl.h"
#include "ident.h"
#include "jose.h"
#include "jsonutil.h"
#include "portal.h"
#include "x509.h"

#define ARGS_MAX	32	/* arguments of one command */

/* Checks one value of a type: returns 1 and sets *out (allocated, the
 * normalized value), or 0 after printing why, naming the argument. */
typedef int (*arg_check_fn)(const char *name, const char *in, char **out);

void
ctl_error(const char *fmt, ...)
{
	va_list ap;

	fputs("acmectl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Returns 1 if s is valid UTF-8 without control characters. */
static int
text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n, i;

	while (*p != '\0') {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return 0;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n + 1;
	}
	return 1;
}

static int
check_text(const char *name, const char *in, char **out)
{
	if (!text_ok(in) || strlen(in) > 1024) {
		ctl_error("%s: the text must be printable UTF-8 of at most "
		    "1024 bytes", name);
		return 0;
	}
	*out = xstrdup(in);
	return 1;
}

/* Parses a decimal integer in [min, max]; returns 1 or 0. */
static int
parse_integer(const char *in, long long min, long long max, long long *v)
{
	char *end;

	if (*in == '\0' || isspace((unsigned char)*in) || *in == '+')
		return 0;
	errno = 0;
	*v = strtoll(in, &end, 10);
	return errno == 0 && *end == '\0' && *v >= min && *v <= max;
}

static int
check_id(const char *name, const char *in, char **out)
{
	long long v;

	if (!parse_integer(in, 1, LLONG_MAX, &v)) {
		ctl_error("%s: %s is not an id (a positive integer)", name, in);
		return 0;
	}
	*out = xasprintf("%lld", v);
	return 1;
}

static int
check_int(const char *name, const char *in, char **out)
{
	long long v;

	if (!parse_integer(in, INT_MIN, INT_MAX, &v)) {
		ctl_error("%s: %s is not an integer from %d to %d", name, in,
		    INT_MIN, INT_MAX);
		return 0;
	}
	*out = xasprintf("%lld", v);
	return 1;
}

static int
check_days(const char *name, const char *in, char **out)
{
	long long v;

	if (!parse_integer(in, 1, 3650, &v)) {
		ctl_error("%s: %s is not a number of days from 1 to 3650",
		    name, in);
		return 0;
	}
	*out = xasprintf("%lld", v);
	return 1;
}

static int
check_credit(const char *name, const char *in, char **out)
{
	long long v;

	if (!parse_integer(in, 0, INT_MAX, &v)) {
		ctl_error("%s: %s is not a credit (an integer from 0 to %d)",
		    name, in, INT_MAX);
		return 0;
	}
	*out = xasprintf("%lld", v);
	return 1;
}

/* A calendar date YYYY-MM-DD (years 2000 to 9999). */
static int
check_date(const char *name, const char *in, char **out)
{
	struct tm tm;
	time_t t;
	int y, m, d, i, ok = strlen(in) == 10 && in[4] == '-' && in[7] == '-';

	for (i = 0; ok && i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)in[i]))
			ok = 0;
	if (ok) {
		y = atoi(in);
		m = atoi(in + 5);
		d = atoi(in + 8);
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = 12;
		t = timegm(&tm);
		ok = y >= 2000 && t != (time_t)-1 &&
		    gmtime_r(&t, &tm) != NULL && tm.tm_year == y - 1900 &&
		    tm.tm_mon == m - 1 && tm.tm_mday == d;
	}
	if (!ok) {
		ctl_error("%s: %s is not a date (YYYY-MM-DD)", name, in);
		return 0;
	}
	*out = xstrdup(in);
	return 1;
}

static int
check_country(const char *name, const char *in, char **out)
{
	if (strlen(in) != 2 || !isalpha((unsigned char)in[0]) ||
	    !isalpha((unsigned char)in[1])) {
		ctl_error("%s: %s is not a two-letter country code (ISO 3166)",
		    name, in);
		return 0;
	}
	*out = xasprintf("%c%c", toupper((unsigned char)in[0]),
	    toupper((unsigned char)in[1]));
	return 1;
}

static int
check_domain(const char *name, const char *in, char **out)
{
	struct problem p;
	char buf[256];
	int wildcard, rc;

	memset(&p, 0, sizeof(p));
	rc = ident_check(in, buf, &wildcard, &p);
	if (rc)
		*out = xstrdup(buf);
	else
		ctl_error("%s: %s", name, p.detail);
	problem_clear(&p);
	return rc;
}

/* A UUID in canonical form (any version), lower-cased. */
static int
check_kid(const char *name, const char *in, char **out)
{
	size_t i;
	int ok = strlen(in) == 36;

	for (i = 0; ok && i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23)
			ok = in[i] == '-';
		else
			ok = isxdigit((unsigned char)in[i]);
	if (!ok) {
		ctl_error("%s: %s is not a kid (a UUID)", name, in);
		return 0;
	}
	*out = xstrdup(in);
	for (i = 0; i < 36; i++)
		(*out)[i] = (char)tolower((unsigned char)(*out)[i]);
	return 1;
}

/* The algorithm of the CA's keys: one of CA_KEY_TYPES. */
static int
check_key_type(const char *name, const char *in, char **out)
{
	enum ca_key_type t;

	if (!ca_key_type_parse(in, &t)) {
		ctl_error("%s: %s is not a key type (%s)", name, in,
		    CA_KEY_TYPES);
		return 0;
	}
	*out = xstrdup(ca_key_type_name(t));
	return 1;
}

static const arg_check_fn arg_checks[ARG__MAX] = {
	[ARG_TEXT] = check_text,
	[ARG_ID] = check_id,
	[ARG_INT] = check_int,
	[ARG_DAYS] = check_days,
	[ARG_CREDIT] = check_credit,
	[ARG_DATE] = check_date,
	[ARG_COUNTRY] = check_country,
	[ARG_DOMAIN] = check_domain,
	[ARG_DOMAINS] = check_domain,
	[ARG_KID] = check_kid,
	[ARG_KEY_TYPE] = check_key_type,
};

/* Returns the value of an argument acmectl makes itself (allocated). */
static char *
made_value(const struct arg *a, const char *verb)
{
	switch (a->type) {
	case ARG_VERB:
		return xstrdup(verb);
	case ARG_NEW_KID:
		return random_uuid4();
	case ARG_NEW_HMAC:
		return portal_hmac_key_new();
	case ARG_FLAG:
		return xstrdup("false");
	case ARG_DOMAINS:
		return xstrdup("[]");
	default:
		return a->def != NULL ? xstrdup(a->def) : NULL;
	}
}

/* Returns the index of the argument named by an option, or -1. */
static int
find_option(const struct arg *args, const char *opt)
{
	int i;

	for (i = 0; args[i].type != ARG_END; i++)
		if (args[i].name != NULL &&
		    strncmp(args[i].name, "--", 2) == 0 &&
		    strcmp(args[i].name, opt) == 0)
			return i;
	return -1;
}

/* Returns the index of the next positional argument not given, or -1. */
static int
find_positional(const struct arg *args, char *const *raw)
{
	int i;

	for (i = 0; args[i].type != ARG_END; i++)
		if (args[i].name != NULL &&
		    strncmp(args[i].name, "--", 2) != 0 && raw[i] == NULL)
			return i;
	return -1;
}

/* Checks the repeated domains of argument a into a JSON array (vals). */
static int
domains_value(const struct arg *a, char **list, int n, char **val)
{
	json_object *arr = json_object_new_array();
	char *v;
	int i, rc = 0;

	for (i = 0; i < n; i++) {
		if (!check_domain(a->name, list[i], &v))
			goto out;
		json_object_array_add(arr, json_object_new_string(v));
		free(v);
	}
	*val = xstrdup(json_compact(arr));
	rc = 1;
out:
	json_object_put(arr);
	return rc;
}

int
args_parse(const struct command *cmd, const char *verb, int argc,
    char **argv, char **vals)
{
	const struct arg *args = cmd->args;
	char *raw[ARGS_MAX], **domains = NULL;
	int i, k, ndomains = 0, nones = 0, one = 0, nexcl = 0, rc = 0;

	memset(raw, 0, sizeof(raw));
	for (i = 0; i < OPS_MAX_PARAMS; i++)
		vals[i] = NULL;
	for (k = 0; args[k].type != ARG_END; k++)
		if (k + 1 >= ARGS_MAX || args[k].slot < 0 ||
		    args[k].slot >= OPS_MAX_PARAMS)
			msg_fatal("%s %s: bad argument table", cmd->group,
			    cmd->verbs);
	domains = xcalloc((size_t)argc + 1, sizeof(*domains));
	/* the shape of the command line: exit 2 when it is wrong */
	for (i = 0; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) == 0) {
			if ((k = find_option(args, argv[i])) < 0)
				usage_command(cmd);
			if (args[k].type == ARG_FLAG) {
				if (raw[k] != NULL)
					usage_command(cmd);
				raw[k] = argv[i];
				continue;
			}
			if (i + 1 >= argc ||
			    (raw[k] != NULL && args[k].type != ARG_DOMAINS))
				usage_command(cmd);
			raw[k] = argv[++i];
			if (args[k].type == ARG_DOMAINS)
				domains[ndomains++] = argv[i];
		} else {
			if ((k = find_positional(args, raw)) < 0)
				usage_command(cmd);
			raw[k] = argv[i];
		}
	}
	for (k = 0; args[k].type != ARG_END; k++) {
		if (args[k].name != NULL && raw[k] == NULL &&
		    (args[k].flags & ARGF_REQUIRED))
			usage_command(cmd);
		if (args[k].flags & ARGF_ONE) {
			nones++;
			if (raw[k] != NULL)
				one++;
		}
		if ((args[k].flags & ARGF_EXCL) && raw[k] != NULL)
			nexcl++;
	}
	if ((nones > 0 && one != 1) || nexcl > 1)
		usage_command(cmd);
	/* the values: exit 1 when one is bad */
	for (k = 0; args[k].type != ARG_END; k++) {
		if (raw[k] == NULL)
			vals[args[k].slot] = made_value(&args[k], verb);
		else if (args[k].type == ARG_FLAG)
			vals[args[k].slot] = xstrdup("true");
		else if (args[k].type == ARG_DOMAINS) {
			if (!domains_value(&args[k], domains, ndomains,
			    &vals[args[k].slot]))
				goto out;
		} else if (!arg_checks[args[k].type](args[k].name, raw[k],
		    &vals[args[k].slot]))
			goto out;
	}
	rc = 1;
out:
	free(domains);
	return rc;
}

void
args_free(char **vals)
{
	int i;

	for (i = 0; i < OPS_MAX_PARAMS; i++) {
		if (vals[i] != NULL)
			OPENSSL_cleanse(vals[i], strlen(vals[i]));
		free(vals[i]);
		vals[i] = NULL;
	}
}
