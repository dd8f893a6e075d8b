/*
 * main.c - acmectl, the operator's tool: schema migrations, the embedded
 * CA, and the CA's account model (organizations, documents, external
 * accounts, ACME accounts and their EAB credentials, domains, credit,
 * certificates). Human output by default, --json for scripts.
 * Exit status: 0 done, 1 refused or failed (one line on stderr), 2 bad
 * usage (with the usage text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ctl.h"

#define SYNOPSIS \
	"usage: acmectl [-c FILE] [--json] [--actor NAME] GROUP VERB [args]\n"

/* Prints the usage of every command and exits 2. */
static void ACME_NORETURN
usage(void)
{
	size_t i;

	fputs(SYNOPSIS, stderr);
	for (i = 0; i < ncommands; i++)
		fprintf(stderr, "  %s %s%s%s\n", commands[i].group,
		    commands[i].verbs, commands[i].synopsis[0] != '\0' ?
		    " " : "", commands[i].synopsis);
	exit(2);
}

void
usage_command(const struct command *cmd)
{
	fprintf(stderr, "usage: acmectl [-c FILE] [--json] [--actor NAME] "
	    "%s %s%s%s\n", cmd->group, cmd->verbs,
	    cmd->synopsis[0] != '\0' ? " " : "", cmd->synopsis);
	exit(2);
}

/* Returns the actor recorded in audit_log when --actor is not given:
 * $SUDO_USER, else $USER, else "operator" (borrowed). */
static const char *
default_actor(void)
{
	const char *s;

	if ((s = getenv("SUDO_USER")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("USER")) != NULL && *s != '\0')
		return s;
	return "operator";
}

/* Returns the command for group and verb, or NULL. */
static const struct command *
command_find(const char *group, const char *verb)
{
	size_t i;

	for (i = 0; i < ncommands; i++)
		if (strcmp(commands[i].group, group) == 0 &&
		    command_has_verb(&commands[i], verb))
			return &commands[i];
	return NULL;
}

int
main(int argc, char *argv[])
{
	struct ctl c;
	const struct command *cmd;
	const char *conf = NULL;
	char *vals[OPS_MAX_PARAMS];
	enum log_level lvl;
	int rc = 0, i, n = 0;

	memset(&c, 0, sizeof(c));
	memset(vals, 0, sizeof(vals));
	/* -c FILE, --json and --actor NAME may appear anywhere */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			c.json = 1;
		else if (strcmp(argv[i], "--actor") == 0 && i + 1 < argc &&
		    argv[i + 1][0] != '\0')
			c.actor = argv[++i];
		else if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--actor") == 0)
			usage();
		else
			argv[1 + n++] = argv[i];
	}
	if (n < 2 || argv[1][0] == '-')
		usage();
	if ((cmd = command_find(argv[1], argv[2])) == NULL)
		usage();
	if (c.actor == NULL)
		c.actor = default_actor();
	log_init("acmectl", LOG_LVL_WARN);
	if (!args_parse(cmd, argv[2], n - 2, argv + 3, vals))
		goto out;
	if (!config_load(conf))
		goto out;
	if (log_level_parse(cfg_str(CFG_LOG_LEVEL), &lvl) &&
	    lvl > LOG_LVL_WARN)
		log_init("acmectl", lvl);
	rc = cmd->fn(&c, cmd, vals);
out:
	args_free(vals);
	db_close(&c.db);
	config_free();
	return rc ? 0 : 1;
}
