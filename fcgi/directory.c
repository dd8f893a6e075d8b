/*
 * directory.c - the directory resource (RFC 8555 section 7.1.1).
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "config.h"
#include "util.h"

static void
add_url(json_object *o, const char *key, enum route r)
{
	char *u = url_for(r, NULL);
	size_t n = strlen(u);

	/* renewalInfo is a prefix: clients append "/" and a CertID */
	if (n > 0 && u[n - 1] == '/')
		u[n - 1] = '\0';
	json_object_object_add(o, key, json_object_new_string(u));
	free(u);
}

int
h_directory(struct req *r)
{
	json_object *o = json_object_new_object(), *meta, *caa, *profiles;
	char *list, *tok, *save = NULL;

	add_url(o, "newNonce", R_NEW_NONCE);
	add_url(o, "newAccount", R_NEW_ACCOUNT);
	add_url(o, "newOrder", R_NEW_ORDER);
	add_url(o, "revokeCert", R_REVOKE_CERT);
	add_url(o, "keyChange", R_KEY_CHANGE);
	add_url(o, "renewalInfo", R_RENEWAL_INFO);
	meta = json_object_new_object();
	if (*cfg_str(CFG_TERMS_OF_SERVICE) != '\0')
		json_object_object_add(meta, "termsOfService",
		    json_object_new_string(cfg_str(CFG_TERMS_OF_SERVICE)));
	if (*cfg_str(CFG_WEBSITE) != '\0')
		json_object_object_add(meta, "website",
		    json_object_new_string(cfg_str(CFG_WEBSITE)));
	caa = json_object_new_array();
	list = xstrdup(cfg_str(CFG_CAA_IDENTITIES));
	for (tok = strtok_r(list, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save))
		json_object_array_add(caa, json_object_new_string(tok));
	free(list);
	json_object_object_add(meta, "caaIdentities", caa);
	json_object_object_add(meta, "externalAccountRequired",
	    json_object_new_boolean(1));
	if ((profiles = store_profiles(r->db)) == NULL) {
		json_object_put(o);
		json_object_put(meta);
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the profiles");
		return 0;
	}
	json_object_object_add(meta, "profiles", profiles);
	json_object_object_add(o, "meta", meta);
	r->resp = o;
	r->status = 200;
	return 1;
}

int
h_new_nonce(struct req *r)
{
	r->status = strcmp(r->method, "HEAD") == 0 ? 200 : 204;
	return 1;
}
