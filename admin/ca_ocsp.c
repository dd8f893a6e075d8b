/*
 * ca_ocsp.c - acmectl ca ocsp-signer [--renew]: the delegated OCSP
 * signer of an existing embedded CA (ca init makes one with the CA).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "config.h"
#include "ctl.h"
#include "jsonutil.h"
#include "ocsp.h"

/* Creates ca_dir/ocsp.pem and ocsp.key, or replaces them with --renew
 * (vals[0] is "true" or "false"). Returns 1 or 0. */
int
cmd_ca_ocsp_signer(struct ctl *c, const struct command *cmd, char **vals)
{
	json_object *o;
	int renew = vals[0] != NULL && strcmp(vals[0], "true") == 0;

	(void)cmd;
	if (!ca_ocsp_signer_create(cfg_str(CFG_CA_DIR), renew)) {
		ctl_error("cannot %s the OCSP signer in %s", renew ? "renew" :
		    "create", cfg_str(CFG_CA_DIR));
		return 0;
	}
	if (c->json) {
		o = json_object_new_object();
		json_object_object_add(o, "ocsp_signer", json_object_new_string(
		    renew ? "renewed" : "created"));
		json_object_object_add(o, "ca_dir",
		    json_object_new_string(cfg_str(CFG_CA_DIR)));
		printf("%s\n", json_compact(o));
		json_object_put(o);
	} else
		printf("OCSP signer %s in %s (ocsp.pem, ocsp.key); running "
		    "workers load it within a minute\n",
		    renew ? "renewed" : "created", cfg_str(CFG_CA_DIR));
	return 1;
}
