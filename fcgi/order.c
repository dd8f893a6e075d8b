/*
 * order.c - newOrder, the order resource and finalize (RFC 8555
 * sections 7.4, 7.1.3).
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "config.h"
#include "ident.h"
#include "jsonutil.h"
#include "util.h"
#include "x509.h"

json_object *
order_json(const struct order *o)
{
	json_object *j = json_object_new_object(), *arr, *err;
	char *u;
	size_t i;

	json_object_object_add(j, "status", json_object_new_string(o->status));
	json_object_object_add(j, "expires",
	    json_object_new_string(o->expires));
	arr = json_parse_strict(o->identifiers, strlen(o->identifiers));
	json_object_object_add(j, "identifiers", arr != NULL ? arr :
	    json_object_new_array());
	arr = json_object_new_array();
	for (i = 0; i < o->nauthz; i++) {
		u = url_for(R_AUTHZ, o->authz_ids[i]);
		json_object_array_add(arr, json_object_new_string(u));
		free(u);
	}
	json_object_object_add(j, "authorizations", arr);
	u = url_for(R_FINALIZE, o->id);
	json_object_object_add(j, "finalize", json_object_new_string(u));
	free(u);
	if (o->cert_id != NULL && strcmp(o->status, "valid") == 0) {
		u = url_for(R_CERT, o->cert_id);
		json_object_object_add(j, "certificate",
		    json_object_new_string(u));
		free(u);
	}
	if (o->error != NULL && strcmp(o->status, "invalid") == 0 &&
	    (err = json_parse_strict(o->error, strlen(o->error))) != NULL)
		json_object_object_add(j, "error", err);
	return j;
}

/* Loads an order of the request's account into o (freed by the caller
 * in every case). Returns 1, or 0 with prob. */
static int
order_load(struct req *r, const char *id, struct order *o)
{
	int found;

	found = store_order_get(r->db, id, o);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_ORDER_NOT_READ,
		    "cannot read the order");
		return 0;
	}
	if (found == 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		return 0;
	}
	return owner_check(r, o->account_id, "order");
}

/* Loads an order of the request's account and renders it. */
static int
order_reply(struct req *r, const char *id, int status)
{
	struct order o;
	int rc = 0;

	if (!order_load(r, id, &o))
		goto out;
	r->resp = order_json(&o);
	r->status = status;
	if (strcmp(o.status, "processing") == 0)
		r->retry_after = (int)cfg_int(CFG_RETRY_AFTER);
	rc = 1;
out:
	order_free(&o);
	return rc;
}

/* Reads and checks the identifiers of a newOrder payload into n (lower-case,
 * unique) names. Returns 1 or 0 with prob (with subproblems). */
static int
identifiers_check(struct req *r, json_object *ids, char ***names,
    int **wild, size_t *n)
{
	json_object *id;
	const char *type, *value;
	char buf[256];
	size_t i, j, len;
	int w, bad = 0;
	struct problem sub;

	*n = 0;
	if (ids == NULL || (len = json_object_array_length(ids)) == 0 ||
	    len > IDENT_MAX_NAMES) {
		problem_set(&r->prob, PT_MALFORMED, "\"identifiers\" must be "
		    "an array of 1 to %d identifiers", IDENT_MAX_NAMES);
		return 0;
	}
	*names = xcalloc(len, sizeof(char *));
	*wild = xcalloc(len, sizeof(int));
	memset(&sub, 0, sizeof(sub));
	for (i = 0; i < len; i++) {
		id = json_object_array_get_idx(ids, i);
		type = json_get_str(id, "type");
		value = json_get_str(id, "value");
		if (type == NULL || value == NULL ||
		    json_object_object_length(id) != 2) {
			problem_set(&r->prob, PT_MALFORMED, "each identifier "
			    "must be an object with a string type and value");
			return 0;
		}
		if (strcmp(type, "dns") != 0) {
			problem_set(&r->prob, PT_UNSUPPORTED_IDENTIFIER,
			    "only dns identifiers are supported, not %.32s",
			    type);
			return 0;
		}
		if (!ident_check(value, buf, &w, &sub)) {
			/* the code's message in the user's language; the
			 * subproblem says precisely what is wrong */
			if (!bad) {
				problem_catalogue(&r->prob, PC_INVALID_DOMAIN,
				    r->lang, value);
				json_object_put(r->prob.subproblems);
				r->prob.subproblems = NULL;
			}
			problem_sub(&r->prob, PT_REJECTED_IDENTIFIER, value,
			    sub.detail);
			bad = 1;
			continue;
		}
		for (j = 0; j < *n; j++)
			if (strcmp((*names)[j], buf) == 0)
				break;
		if (j < *n)
			continue;
		(*names)[*n] = xstrdup(buf);
		(*wild)[*n] = w;
		(*n)++;
	}
	return !bad;
}

/* Applies the CA's policy (statuses, domain list, profile, credit) to the
 * names; returns 1 if allowed, else 0 with the problem of the first
 * refusal and a subproblem per identifier at fault. */
static int
policy_check(struct req *r, char *const *names, size_t n,
    const char *profile)
{
	struct policy_problem *pp = NULL;
	struct problem sub;
	int np, i;

	np = store_order_policy(r->db, r->acct.acme_account_id, names, n,
	    profile, &pp);
	if (np < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot check the order against the policy");
		return 0;
	}
	for (i = 0; i < np; i++) {
		if (strcmp(pp[i].code, "INVALID_PROFILE") == 0) {
			problem_set(&r->prob, PT_INVALID_PROFILE, "the profile "
			    "%.32s is not the profile of this ACME account "
			    "(%s)", profile, r->acct.profile);
			break;
		}
		if (i == 0) {
			req_catalogue(r, pcode_lookup(pp[i].code),
			    pp[i].identifier);
			continue;
		}
		if (pp[i].identifier == NULL)
			continue;
		memset(&sub, 0, sizeof(sub));
		problem_catalogue(&sub, pcode_lookup(pp[i].code), r->lang,
		    pp[i].identifier);
		problem_sub(&r->prob, sub.type, pp[i].identifier, sub.detail);
		problem_clear(&sub);
	}
	policy_free(pp, (size_t)(np > 0 ? np : 0));
	return np == 0;
}

/* Checks the "replaces" CertID of newOrder (RFC 9773): a certificate of
 * this account sharing a name with the order. Returns 1 with *cert_id
 * (owned), or 0 with prob. */
static int
replaces_check(struct req *r, const char *certid, char *const *names,
    size_t n, const char **cert_id)
{
	struct cert_row c;
	size_t i, j;
	int rc = 0, common = 0;

	if (certid == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "\"replaces\" must be a CertID string");
		return 0;
	}
	if (!cert_by_certid(r, certid, &c))
		goto out;
	if (c.account_id != r->acct.id) {
		problem_set(&r->prob, PT_MALFORMED, "\"replaces\" names a "
		    "certificate of another account");
		goto out;
	}
	for (i = 0; i < n && !common; i++)
		for (j = 0; j < c.nnames && !common; j++)
			common = strcmp(names[i], c.names[j]) == 0;
	if (!common) {
		problem_set(&r->prob, PT_MALFORMED, "the order has no name in "
		    "common with the certificate it replaces");
		goto out;
	}
	*cert_id = xstrdup(c.id);
	rc = 1;
out:
	cert_row_free(&c);
	return rc;
}

int
h_new_order(struct req *r)
{
	struct order_new on;
	json_object *ids, *canon = NULL, *id, *pv;
	const char *profile = NULL;
	char **names = NULL;
	int *wild = NULL;
	size_t n = 0, i;
	int rc = 0, created;

	memset(&on, 0, sizeof(on));
	if (r->payload == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "newOrder needs a JSON object payload");
		goto out;
	}
	if (json_object_object_get_ex(r->payload, "notBefore", NULL) ||
	    json_object_object_get_ex(r->payload, "notAfter", NULL)) {
		problem_set(&r->prob, PT_MALFORMED, "notBefore and notAfter "
		    "are not supported: the profile sets the validity");
		goto out;
	}
	if (json_object_object_get_ex(r->payload, "profile", &pv) &&
	    (profile = json_get_str(r->payload, "profile")) == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "\"profile\" must be a string");
		goto out;
	}
	ids = json_get_typed(r->payload, "identifiers", json_type_array);
	if (!identifiers_check(r, ids, &names, &wild, &n))
		goto out;
	if (json_object_object_get_ex(r->payload, "replaces", &pv) &&
	    !replaces_check(r, json_get_str(r->payload, "replaces"), names,
	    n, &on.replaces))
		goto out;
	if (!policy_check(r, names, n, profile))
		goto out;
	canon = json_object_new_array();
	on.authz_ids = xcalloc(n, sizeof(char *));
	on.http_ids = xcalloc(n, sizeof(char *));
	on.dns_ids = xcalloc(n, sizeof(char *));
	on.tokens = xcalloc(n, sizeof(char *));
	for (i = 0; i < n; i++) {
		id = json_object_new_object();
		json_object_object_add(id, "type", json_object_new_string("dns"));
		json_object_object_add(id, "value",
		    json_object_new_string(names[i]));
		json_object_array_add(canon, id);
		on.authz_ids[i] = random_id();
		on.http_ids[i] = random_id();
		on.dns_ids[i] = random_id();
		on.tokens[i] = random_token();
	}
	on.id = random_id();
	on.account_id = r->acct.id;
	on.identifiers = json_compact(canon);
	on.n = n;
	on.names = names;
	on.wildcard = wild;
	on.lifetime = cfg_int(CFG_ORDER_LIFETIME);
	if ((created = store_order_create(r->db, &on)) == 0) {
		problem_set(&r->prob, PT_ALREADY_REPLACED, "the certificate "
		    "is already replaced by another order");
		goto out;
	}
	if (created < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot create the order");
		goto out;
	}
	msg_info("order %s created for account %ld (%zu names)", on.id,
	    r->acct.id, n);
	r->location = url_for(R_ORDER, on.id);
	rc = order_reply(r, on.id, 201);
out:
	free((char *)on.id);
	free((char *)on.replaces);
	strv_free(on.authz_ids, on.authz_ids != NULL ? n : 0);
	strv_free(on.http_ids, on.http_ids != NULL ? n : 0);
	strv_free(on.dns_ids, on.dns_ids != NULL ? n : 0);
	strv_free(on.tokens, on.tokens != NULL ? n : 0);
	strv_free(names, n);
	free(wild);
	json_object_put(canon);
	return rc;
}

int
h_order(struct req *r)
{
	if (r->payload != NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "an order is read with POST-as-GET (empty payload)");
		return 0;
	}
	return order_reply(r, r->id, 200);
}

int
h_finalize(struct req *r)
{
	struct order o;
	struct csr_info info;
	const char *csr64;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int moved, rc = 0;

	memset(&info, 0, sizeof(info));
	if (!order_load(r, r->id, &o))
		goto out;
	if (strcmp(o.status, "ready") != 0) {
		problem_set(&r->prob, PT_ORDER_NOT_READY, "the order is %s, "
		    "not ready: complete its authorizations first", o.status);
		goto out;
	}
	csr64 = json_get_str(r->payload, "csr");
	if (csr64 == NULL || !b64u_decode(csr64, &der, &derlen)) {
		problem_set(&r->prob, PT_MALFORMED,
		    "\"csr\" must be the base64url DER of a CSR");
		goto out;
	}
	if (!policy_check(r, o.names, o.nnames, NULL) ||
	    !csr_check(der, derlen, (const char *const *)o.names, o.nnames,
	    r->acct.key_sizes, r->acct.nkey_sizes, r->jwk.pkey, &info,
	    &r->prob))
		goto out;
	moved = store_order_finalize(r->db, o.id, der, derlen);
	if (moved < 0) {
		problem_code(&r->prob, PC_ACME_ORDER_FINALIZE_ERROR,
		    "cannot finalize the order");
		goto out;
	}
	if (moved == 0) {
		problem_set(&r->prob, PT_ORDER_NOT_READY,
		    "the order is no longer ready");
		goto out;
	}
	msg_info("order %s finalized", o.id);
	r->location = url_for(R_ORDER, o.id);
	rc = order_reply(r, o.id, 200);
out:
	csr_info_free(&info);
	free(der);
	order_free(&o);
	return rc;
}
