/*
 * main.c - acmectl, the operator's tool: schema migrations, the embedded
 * CA, EAB credentials. Human output by default, --json for scripts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "db.h"
#include "jose.h"
#include "jsonutil.h"
#include "migrations.h"
#include "util.h"
#include "x509.h"

struct ctl {
	struct db	 db;
	int		 json;
};

/* Prints {"key": value} on one line; takes ownership of value. */
static void
print_json_kv(const char *key, json_object *value)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, key, value);
	printf("%s\n", json_compact(o));
	json_object_put(o);
}

static int
ctl_connect(struct ctl *c)
{
	return db_connect(&c->db, cfg_str(CFG_DATABASE));
}

/* Applies the migrations newer than the recorded schema version, each
 * in its own transaction, under an advisory lock. */
static int
cmd_db_migrate(struct ctl *c, int argc, char **argv)
{
	PGresult *res = NULL;
	char ver[16];
	const char *vals[2];
	unsigned i, current = 0, applied = 0;
	int rc = 0;

	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: acmectl db migrate\n");
		return 0;
	}
	if (!ctl_connect(c))
		return 0;
	if (!db_exec(&c->db, "CREATE TABLE IF NOT EXISTS schema_version ("
	    "version integer PRIMARY KEY, name text NOT NULL, "
	    "applied_at timestamptz NOT NULL DEFAULT now())", 0, NULL))
		goto out;
	for (i = 0; i < nmigrations; i++) {
		if (!db_begin(&c->db) ||
		    !db_exec(&c->db, "SELECT pg_advisory_xact_lock("
		    "hashtext('acme_migrate'))", 0, NULL))
			goto out;
		res = db_query(&c->db, "SELECT coalesce(max(version), 0) "
		    "FROM schema_version", 0, NULL);
		if (res == NULL)
			goto out;
		current = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		res = NULL;
		if (migrations[i].version <= current) {
			db_rollback(&c->db);
			continue;
		}
		snprintf(ver, sizeof(ver), "%u", migrations[i].version);
		vals[0] = ver;
		vals[1] = migrations[i].name;
		if (!db_exec_script(&c->db, migrations[i].sql) ||
		    !db_exec(&c->db, "INSERT INTO schema_version "
		    "(version, name) VALUES ($1, $2)", 2, vals) ||
		    !db_commit(&c->db)) {
			fprintf(stderr, "acmectl: migration %s failed\n",
			    migrations[i].name);
			goto out;
		}
		applied++;
		if (!c->json)
			printf("applied %s\n", migrations[i].name);
	}
	if (c->json)
		print_json_kv("applied", json_object_new_int((int)applied));
	else if (applied == 0)
		printf("schema is up to date (version %u)\n", current);
	rc = 1;
out:
	PQclear(res);
	db_rollback(&c->db);
	return rc;
}

static int
cmd_ca_init(struct ctl *c, int argc, char **argv)
{
	const char *name = "ACME Demo";
	int i;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else {
			fprintf(stderr, "usage: acmectl ca init [--name NAME]\n");
			return 0;
		}
	}
	if (!ca_init(cfg_str(CFG_CA_DIR), name))
		return 0;
	if (c->json)
		print_json_kv("ca_dir",
		    json_object_new_string(cfg_str(CFG_CA_DIR)));
	else
		printf("CA created in %s (root.pem is the trust anchor)\n",
		    cfg_str(CFG_CA_DIR));
	return 1;
}

/* Creates an EAB credential (and its organization if new) and prints
 * the kid and HMAC key as certbot's --eab-kid/--eab-hmac-key expect. */
static int
cmd_eab_create(struct ctl *c, int argc, char **argv)
{
	const char *org = "Demo Organization", *country = "FR";
	const char *locality = "Paris", *state = "Ile-de-France";
	const char *vals[6];
	unsigned char key[32];
	char *kid = NULL, *hmac = NULL;
	json_object *o;
	PGresult *res = NULL;
	int i, rc = 0;

	for (i = 0; i < argc; i++) {
		if (i + 1 < argc && strcmp(argv[i], "--org") == 0)
			org = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--country") == 0)
			country = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--locality") == 0)
			locality = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--state") == 0)
			state = argv[++i];
		else {
			fprintf(stderr, "usage: acmectl eab create [--org NAME] "
			    "[--country CC] [--locality L] [--state ST]\n");
			return 0;
		}
	}
	if (!ctl_connect(c))
		return 0;
	rand_bytes(key, sizeof(key));
	hmac = b64u_encode(key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	kid = random_uuid4();
	vals[0] = kid;
	vals[1] = hmac;
	vals[2] = org;
	vals[3] = country;
	vals[4] = locality;
	vals[5] = state;
	res = db_query(&c->db, "WITH g AS (INSERT INTO organization "
	    "(name, country, locality, state) SELECT $3, $4, $5, $6 "
	    "WHERE NOT EXISTS (SELECT 1 FROM organization WHERE name = $3) "
	    "RETURNING id) INSERT INTO acme_account (kid, hmac_key, "
	    "organization_id) SELECT $1::uuid, $2, coalesce((SELECT id FROM g), "
	    "(SELECT min(id) FROM organization WHERE name = $3)) RETURNING id",
	    6, vals);
	if (res == NULL || PQntuples(res) != 1) {
		fprintf(stderr, "acmectl: cannot create the credential\n");
		goto out;
	}
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "kid", json_object_new_string(kid));
		json_object_object_add(o, "hmac_key",
		    json_object_new_string(hmac));
		json_object_object_add(o, "organization",
		    json_object_new_string(org));
		printf("%s\n", json_compact(o));
		json_object_put(o);
	} else
		printf("kid: %s\nhmac_key: %s\n", kid, hmac);
	rc = 1;
out:
	PQclear(res);
	free(kid);
	free(hmac);
	return rc;
}

/* Prints the documented sample configuration, generated from the one
 * configuration table (acme.conf.sample is its output). */
static int
cmd_config_sample(struct ctl *c, int argc, char **argv)
{
	size_t i, n;
	char *doc, *p;

	(void)c;
	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: acmectl config sample\n");
		return 0;
	}
	printf("# acme.conf - configuration of acme-fcgi, acme-worker and "
	    "acmectl.\n# Generated by `acmectl config sample`; every key "
	    "is shown with its default.\n");
	for (i = 0; i < CFG__MAX; i++) {
		doc = cfg_defs[i].type == CFG_T_INT ?
		    xasprintf("%s (%ld to %ld)", cfg_defs[i].doc,
		    cfg_defs[i].min, cfg_defs[i].max) :
		    xstrdup(cfg_defs[i].doc);
		printf("\n");
		/* wrap the comment at 72 columns, on spaces */
		for (p = doc; *p != '\0'; p += n) {
			n = strlen(p);
			if (n > 70) {
				n = 70;
				while (n > 0 && p[n] != ' ')
					n--;
				if (n == 0)
					n = strlen(p);
			}
			printf("# %.*s\n", (int)n, p);
			while (p[n] == ' ')
				n++;
		}
		free(doc);
		printf("%s = %s\n", cfg_defs[i].name, cfg_defs[i].def);
	}
	return 1;
}

struct command {
	const char	*group;
	const char	*verb;
	int		 (*fn)(struct ctl *, int, char **);
	const char	*help;
};

static const struct command commands[] = {
	{ "db", "migrate", cmd_db_migrate, "apply the schema migrations" },
	{ "config", "sample", cmd_config_sample, "print the documented "
	    "sample configuration" },
	{ "ca", "init", cmd_ca_init, "create the embedded root and "
	    "intermediate CA in ca_dir" },
	{ "eab", "create", cmd_eab_create, "create an EAB credential and "
	    "print its kid and HMAC key" },
};

static void
usage(void)
{
	size_t i;

	fprintf(stderr, "usage: acmectl [-c config] [--json] GROUP VERB "
	    "[args]\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %s %-10s %s\n", commands[i].group,
		    commands[i].verb, commands[i].help);
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct ctl c;
	const char *conf = NULL;
	enum log_level lvl;
	size_t i;
	int rc, argi = 1, j, n;

	memset(&c, 0, sizeof(c));
	while (argi < argc && argv[argi][0] == '-') {
		if (strcmp(argv[argi], "-c") == 0 && argi + 1 < argc) {
			conf = argv[argi + 1];
			argi += 2;
		} else if (strcmp(argv[argi], "--json") == 0) {
			c.json = 1;
			argi++;
		} else
			usage();
	}
	if (argc - argi < 2)
		usage();
	log_init("acmectl", LOG_LVL_WARN);
	if (!config_load(conf))
		exit(1);
	if (log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl) &&
	    lvl > LOG_LVL_WARN)
		log_init("acmectl", lvl);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].group, argv[argi]) == 0 &&
		    strcmp(commands[i].verb, argv[argi + 1]) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		usage();
	/* --json may also follow the verb */
	for (j = argi + 2, n = 0; j < argc; j++) {
		if (strcmp(argv[j], "--json") == 0)
			c.json = 1;
		else
			argv[argi + 2 + n++] = argv[j];
	}
	rc = commands[i].fn(&c, n, argv + argi + 2);
	db_close(&c.db);
	config_free();
	return rc ? 0 : 1;
}
