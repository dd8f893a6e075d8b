/*
 * order.c - newOrder, the order resource and finalize (RFC 8555
 * sections 7.4, 7.1.3).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "acme-fcgi.h"
#include "config.h"
#include "ident.h"
#include "jsonutil.h"
#include "metrics.h"
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

/* Checks that the order a query found exists and is the request's
 * account's. Returns 1, or 0 with prob. */
static int
order_found(struct req *r, const struct order *o)
{
	if (o->id == NULL) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		return 0;
	}
	return owner_check(r, o->account_id, "order");
}

/* Renders an order; returns 1. */
static int
order_render(struct req *r, const struct order *o, int status)
{
	r->resp = order_json(o);
	r->status = status;
	if (strcmp(o->status, "processing") == 0)
		r->retry_after = (int)cfg_int(CFG_RETRY_AFTER);
	return 1;
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

/* Tells the CA's policy problems of an order (statuses, domain list,
 * profile, credit: order_policy in SQL), as its query found them: the
 * first refusal, with a subproblem per identifier at fault. profile is
 * the one the client asked for (or NULL). Returns 1 if there is none
 * (the order is allowed), else 0 with prob. */
static int
policy_report(struct req *r, const struct policy_problem *pp, int np,
    const char *profile)
{
	struct problem sub;
	int i;

	for (i = 0; i < np; i++) {
		if (strcmp(pp[i].code, "INVALID_PROFILE") == 0) {
			problem_set(&r->prob, PT_INVALID_PROFILE, "the profile "
			    "%.32s is not the profile of this ACME account "
			    "(%s)", profile != NULL ? profile : "",
			    r->acct.profile);
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
	/* read before the request's authentication (r->auth.id is the
	 * account it names), told after it (auth_settle) */
	if (c.account_id != r->auth.id) {
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

/* newOrder's query: what it asks, what it found. */
struct new_order_work {
	const struct order_new	*on;
	const char		*profile;
	struct policy_problem	*pp;
	int			 np;
	int			 replaced;
	struct order		 o;
};

static int
new_order_work(struct req *r, void *arg)
{
	struct new_order_work *w = arg;

	policy_free(w->pp, (size_t)(w->np > 0 ? w->np : 0));
	order_free(&w->o);
	return store_auth_new_order(r->db, &r->auth, &r->acct, w->on,
	    w->profile, &w->pp, &w->np, &w->replaced, &w->o);
}

int
h_new_order(struct req *r)
{
	struct order_new on;
	struct new_order_work w;
	json_object *ids, *canon = NULL, *id, *pv;
	const char *profile = NULL;
	char **names = NULL;
	int *wild = NULL;
	size_t n = 0, i;
	int rc = 0;

	memset(&on, 0, sizeof(on));
	memset(&w, 0, sizeof(w));
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
	on.account_id = r->auth.id;
	on.identifiers = json_compact(canon);
	on.n = n;
	on.names = names;
	on.wildcard = wild;
	on.lifetime = cfg_int(CFG_ORDER_LIFETIME);
	/* the authentication, the policy and the creation: one round trip */
	w.on = &on;
	w.profile = profile;
	if (!auth_with(r, new_order_work, &w, PC_ACME_OTHER_ERROR,
	    "cannot create the order") ||
	    !policy_report(r, w.pp, w.np, profile))
		goto out;
	if (w.replaced) {
		problem_set(&r->prob, PT_ALREADY_REPLACED, "the certificate "
		    "is already replaced by another order");
		goto out;
	}
	if (w.o.id == NULL) {
		problem_code(&r->prob, PC_ACME_ORDER_NOT_READ,
		    "cannot read the order");
		goto out;
	}
	msg_info("order %s created for account %ld (%zu names)", on.id,
	    r->acct.id, n);
	r->location = url_for(R_ORDER, on.id);
	rc = order_render(r, &w.o, 201);
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
	policy_free(w.pp, (size_t)(w.np > 0 ? w.np : 0));
	order_free(&w.o);
	return rc;
}

static int
order_work(struct req *r, void *arg)
{
	struct order *o = arg;

	order_free(o);
	return store_auth_order(r->db, &r->auth, &r->acct, r->id, o);
}

int
h_order(struct req *r)
{
	struct order o;
	int rc = 0;

	memset(&o, 0, sizeof(o));
	if (r->payload != NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "an order is read with POST-as-GET (empty payload)");
		goto out;
	}
	if (!auth_with(r, order_work, &o, PC_ACME_ORDER_NOT_READ,
	    "cannot read the order") || !order_found(r, &o))
		goto out;
	rc = order_render(r, &o, 200);
out:
	order_free(&o);
	return rc;
}

/*
 * Checks the CSR with csr_check for everything but the two things that
 * depend on the order and its profile, the set of names and the allowed
 * key sizes: one decoding of the CSR. Returns 1 with info (the CSR's
 * names and key size as csr_check reads them, which finalize's query
 * compares with the order's), or 0 when the CSR is refused whatever the
 * order (finalize then checks it against the order itself, which names
 * the fault as it always did).
 */
static int
csr_precheck(struct req *r, const unsigned char *der, size_t len,
    struct csr_info *info)
{
	struct problem p;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = len <= 65536 && csr_check(der, len, NULL, 0, NULL, 0,
	    r->jwk.pkey, info, &p);
	if (!rc)
		memset(info, 0, sizeof(*info));
	problem_clear(&p);
	return rc;
}

/* finalize's query: what it asks, what it found. */
struct finalize_work {
	const unsigned char	*csr;		/* NULL: undecodable */
	size_t			 csr_len;
	const struct csr_info	*info;		/* NULL: not to finalize */
	struct finalize_out	 f;
};

static int
finalize_work(struct req *r, void *arg)
{
	struct finalize_work *w = arg;

	finalize_out_free(&w->f);
	return store_auth_finalize(r->db, &r->auth, &r->acct, r->id, w->csr,
	    w->csr_len, w->info != NULL ? w->info->names : NULL,
	    w->info != NULL ? w->info->nnames : 0,
	    w->info != NULL ? w->info->key_bits : 0, &w->f);
}

/*
 * finalize, in one round trip: the CSR is checked here first for all that
 * does not depend on the order (csr_precheck), and the query finalizes the
 * order when the policy allows it and the CSR's names and key size fit the
 * order and its profile. What it did not do is told as it always was: the
 * order's state, the CSR's encoding, the policy, then csr_check against
 * the order, which names the CSR's fault.
 */
int
h_finalize(struct req *r)
{
	struct finalize_work w;
	struct csr_info pre, info;
	struct order o;
	const struct order *cur;
	const char *csr64;
	unsigned char *der = NULL;
	size_t derlen = 0;
	int held, listened, moved, rc = 0;

	memset(&w, 0, sizeof(w));
	memset(&pre, 0, sizeof(pre));
	memset(&info, 0, sizeof(info));
	memset(&o, 0, sizeof(o));
	csr64 = json_get_str(r->payload, "csr");
	if (csr64 != NULL && b64u_decode(csr64, &der, &derlen)) {
		w.csr = der;
		w.csr_len = derlen;
		if (csr_precheck(r, der, derlen, &pre))
			w.info = &pre;
	}
	if (!auth_with(r, finalize_work, &w, PC_ACME_ORDER_FINALIZE_ERROR,
	    "cannot finalize the order") || !order_found(r, &w.f.order))
		goto out;
	cur = &w.f.order;
	if (strcmp(w.f.status, "ready") != 0) {
		problem_set(&r->prob, PT_ORDER_NOT_READY, "the order is %s, "
		    "not ready: complete its authorizations first",
		    w.f.status);
		goto out;
	}
	if (w.csr == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "\"csr\" must be the base64url DER of a CSR");
		goto out;
	}
	if (!policy_report(r, w.f.pp, w.f.npp, NULL))
		goto out;
	/* finalized by fcgi_finalize, which listens for the outcome
	 * (sql/018): the certificate may come within issuance_wait */
	listened = w.f.finalized == 1;
	if (w.f.finalized < 0) {
		/* not tried: the CSR does not fit the order (csr_check says
		 * why), or csr_precheck could not tell */
		if (!csr_check(der, derlen, (const char *const *)cur->names,
		    cur->nnames, r->acct.key_sizes, r->acct.nkey_sizes,
		    r->jwk.pkey, &info, &r->prob))
			goto out;
		moved = store_order_finalize(r->db, cur->id, der, derlen);
		if (moved < 0) {
			problem_code(&r->prob, PC_ACME_ORDER_FINALIZE_ERROR,
			    "cannot finalize the order");
			goto out;
		}
		w.f.finalized = moved;
		if (moved == 1) {
			if (store_order_get(r->db, cur->id, &o) != 1) {
				problem_code(&r->prob, PC_ACME_ORDER_NOT_READ,
				    "cannot read the order");
				goto out;
			}
			cur = &o;
		}
	}
	if (w.f.finalized == 0) {
		problem_set(&r->prob, PT_ORDER_NOT_READY,
		    "the order is no longer ready");
		goto out;
	}
	msg_info("order %s finalized", cur->id);
	/* a child that may not hold the request reads the order again at
	 * once, which stops listening */
	if (listened && strcmp(cur->status, "processing") == 0 &&
	    cfg_int(CFG_ISSUANCE_WAIT) > 0) {
		held = metrics_hold_begin((int)cfg_int(CFG_ISSUANCE_WAIT));
		if (store_order_wait(r->db, cur->id, held, &o) == 1)
			cur = &o;
		metrics_hold_end(held, cur->status);
	}
	r->location = url_for(R_ORDER, cur->id);
	rc = order_render(r, cur, 200);
out:
	csr_info_free(&pre);
	csr_info_free(&info);
	free(der);
	finalize_out_free(&w.f);
	order_free(&o);
	return rc;
}
