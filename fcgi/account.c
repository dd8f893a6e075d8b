/*
 * account.c - newAccount with mandatory External Account Binding
 * (RFC 8555 sections 7.3, 7.3.4) and the account resource.
 */
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "config.h"
#include "jsonutil.h"
#include "util.h"

/* Checks the "contact" member: an array of at most 10 mailto: URLs.
 * Returns a new reference to a canonical array, or NULL with prob. */
static json_object *
contact_check(struct req *r, json_object *payload)
{
	json_object *c, *v, *out;
	const char *s;
	size_t i, n;

	if (!json_object_object_get_ex(payload, "contact", &c))
		return json_object_new_array();
	if (!json_object_is_type(c, json_type_array) ||
	    (n = json_object_array_length(c)) > 10) {
		problem_set(&r->prob, PT_MALFORMED, "\"contact\" must be an "
		    "array of at most 10 mailto: URLs");
		return NULL;
	}
	out = json_object_new_array();
	for (i = 0; i < n; i++) {
		v = json_object_array_get_idx(c, i);
		s = json_object_is_type(v, json_type_string) ?
		    json_object_get_string(v) : NULL;
		if (s == NULL || strncmp(s, "mailto:", 7) != 0) {
			problem_set(&r->prob, PT_UNSUPPORTED_CONTACT,
			    "only mailto: contacts are supported");
			json_object_put(out);
			return NULL;
		}
		if (strchr(s + 7, '@') == NULL || strlen(s) > 254 ||
		    strpbrk(s, "?,;<> \t\r\n") != NULL) {
			problem_set(&r->prob, PT_INVALID_CONTACT,
			    "%.80s is not a valid e-mail contact", s);
			json_object_put(out);
			return NULL;
		}
		json_object_array_add(out, json_object_new_string(s));
	}
	return out;
}

/* Renders an account and sets Location. */
int
account_reply(struct req *r, const struct acct *a, int status)
{
	json_object *o = json_object_new_object(), *contact;
	char *orders;

	json_object_object_add(o, "status", json_object_new_string(a->status));
	contact = json_parse_strict(a->contact, strlen(a->contact));
	json_object_object_add(o, "contact", contact != NULL ? contact :
	    json_object_new_array());
	orders = xasprintf("%s/orders", r->location = account_url(a->id));
	json_object_object_add(o, "orders", json_object_new_string(orders));
	free(orders);
	r->resp = o;
	r->status = status;
	return 1;
}

/* Checks the EAB inner JWS (section 7.3.4): HS256 over the outer JWK,
 * kid of a known, unbound, usable credential, url of newAccount, no
 * nonce. Returns 1 with the credential, or 0 with prob. */
static int
eab_check(struct req *r, json_object *eab, struct eab *cred, char **kid)
{
	struct jws inner;
	struct jwk key;
	json_object *payload = NULL;
	unsigned char *hmac = NULL;
	size_t hmaclen = 0;
	const char *txt;
	int found, rc = 0;

	memset(&inner, 0, sizeof(inner));
	memset(&key, 0, sizeof(key));
	txt = json_compact(eab);
	if (!jws_parse(txt, strlen(txt), &inner, &r->prob)) {
		problem_set(&r->prob, PT_MALFORMED, "externalAccountBinding "
		    "is not a valid flattened JWS: %s", r->prob.detail);
		goto out;
	}
	if (inner.alg != JWS_ALG_HS256) {
		problem_set(&r->prob, PT_BAD_SIGNATURE_ALGORITHM,
		    "externalAccountBinding must be signed with HS256");
		goto out;
	}
	if (inner.nonce != NULL || inner.kid == NULL ||
	    inner.jwk_obj != NULL) {
		problem_set(&r->prob, PT_MALFORMED, "externalAccountBinding "
		    "must carry \"kid\" and neither \"nonce\" nor \"jwk\"");
		goto out;
	}
	if (strcmp(inner.url, r->url) != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "externalAccountBinding "
		    "url must be %s", r->url);
		goto out;
	}
	if ((payload = jws_payload_json(&inner, &r->prob)) == NULL ||
	    !jwk_parse(payload, &key, &r->prob) ||
	    strcmp(key.thumbprint, r->jwk.thumbprint) != 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "externalAccountBinding "
		    "payload must be the account key of the request");
		goto out;
	}
	found = strlen(inner.kid) == 36 ? store_eab_by_kid(r->db, inner.kid,
	    cred) : 0;
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot check the external account binding");
		goto out;
	}
	if (found == 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "unknown external "
		    "account binding key id %.64s", inner.kid);
		goto out;
	}
	if (cred->hmac_key == NULL) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the external account "
		    "binding key id %s is already bound to an account",
		    inner.kid);
		goto out;
	}
	if (!b64u_decode(cred->hmac_key, &hmac, &hmaclen) ||
	    !jws_verify_hmac(&inner, hmac, hmaclen, &r->prob)) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the external account "
		    "binding signature is invalid");
		goto out;
	}
	/* The credential's state is told only to its holder. */
	if (cred->key_expired) {
		req_catalogue(r, PC_EXPIRED_ACCOUNT, NULL);
		goto out;
	}
	if (cred->problem != NULL) {
		req_catalogue(r, pcode_lookup(cred->problem), NULL);
		goto out;
	}
	*kid = xstrdup(inner.kid);
	rc = 1;
out:
	if (hmac != NULL)
		OPENSSL_cleanse(hmac, hmaclen);
	free(hmac);
	json_object_put(payload);
	jwk_free(&key);
	jws_free(&inner);
	return rc;
}

int
h_new_account(struct req *r)
{
	struct acct a;
	struct eab cred;
	json_object *contact = NULL, *eab, *tos;
	char *kid = NULL;
	int only = 0, found, rc = 0;
	long id;

	memset(&a, 0, sizeof(a));
	memset(&cred, 0, sizeof(cred));
	if (r->payload == NULL) {
		problem_set(&r->prob, PT_MALFORMED,
		    "newAccount needs a JSON object payload");
		goto out;
	}
	if (json_object_object_get_ex(r->payload, "onlyReturnExisting",
	    &tos) && !json_get_bool(r->payload, "onlyReturnExisting", &only)) {
		problem_set(&r->prob, PT_MALFORMED,
		    "onlyReturnExisting must be a boolean");
		goto out;
	}
	found = store_account_by_thumbprint(r->db, r->jwk.thumbprint, &a);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot look up the account");
		goto out;
	}
	if (found) {
		rc = account_reply(r, &a, 200);
		goto out;
	}
	if (only) {
		problem_set(&r->prob, PT_ACCOUNT_DOES_NOT_EXIST,
		    "no account is registered with this key");
		goto out;
	}
	if ((contact = contact_check(r, r->payload)) == NULL)
		goto out;
	if ((eab = json_get_typed(r->payload, "externalAccountBinding",
	    json_type_object)) == NULL) {
		problem_set(&r->prob, PT_EXTERNAL_ACCOUNT_REQUIRED, "this CA "
		    "requires an external account binding (EAB key id and "
		    "HMAC key from your CA account)");
		goto out;
	}
	if (!eab_check(r, eab, &cred, &kid))
		goto out;
	id = store_account_bind(r->db, kid, cred.hmac_key,
	    json_compact(r->jwk.canon), r->jwk.thumbprint,
	    json_compact(contact));
	if (id == 0) {
		problem_set(&r->prob, PT_UNAUTHORIZED, "the external account "
		    "binding key id %s is already bound to an account", kid);
		goto out;
	}
	if (id == -1) {
		/* The same key was registered meanwhile: report it. */
		found = store_account_by_thumbprint(r->db, r->jwk.thumbprint,
		    &a);
		if (found == 1)
			rc = account_reply(r, &a, 200);
		else
			problem_code(&r->prob, PC_ACME_OTHER_ERROR,
			    "cannot register the account");
		goto out;
	}
	if (id < 0 || store_account_by_id(r->db, id, &a) != 1) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot register the account");
		goto out;
	}
	msg_info("account %ld bound to EAB key id %s", id, kid);
	rc = account_reply(r, &a, 201);
out:
	free(kid);
	json_object_put(contact);
	eab_free(&cred);
	acct_free(&a);
	return rc;
}

/* The account's query: what it asks, what it found. */
struct account_work {
	int		 deactivate;
	const char	*contact;	/* JSON text, or NULL */
	int		 changed;	/* 1 changed, 0 not, -1 not asked */
};

static int
account_work(struct req *r, void *arg)
{
	struct account_work *w = arg;

	return store_auth_account(r->db, &r->auth, &r->acct, w->deactivate,
	    w->contact, &w->changed);
}

int
h_account(struct req *r)
{
	struct account_work w;
	json_object *contact = NULL, *st;
	const char *status;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	/* r->auth.id: the account the request names, which its
	 * authentication checks */
	if (strtol(r->id, NULL, 10) != r->auth.id) {
		problem_set(&r->prob, PT_UNAUTHORIZED,
		    "the request is not signed by this account's key");
		goto out;
	}
	if (r->payload != NULL &&
	    json_object_object_get_ex(r->payload, "status", &st)) {
		status = json_object_is_type(st, json_type_string) ?
		    json_object_get_string(st) : "";
		if (strcmp(status, "deactivated") != 0) {
			problem_set(&r->prob, PT_MALFORMED, "an account can "
			    "only be updated to status \"deactivated\"");
			goto out;
		}
		w.deactivate = 1;
	} else if (r->payload != NULL &&
	    json_object_object_get_ex(r->payload, "contact", &st)) {
		if ((contact = contact_check(r, r->payload)) == NULL)
			goto out;
		w.contact = json_compact(contact);
	}
	if (!auth_with(r, account_work, &w, PC_ACME_OTHER_ERROR,
	    w.deactivate ? "cannot deactivate the account" :
	    w.contact != NULL ? "cannot update the account" :
	    "cannot load the account"))
		goto out;
	if (w.deactivate && w.changed != 1) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot deactivate the account");
		goto out;
	}
	if (w.deactivate)
		msg_info("account %ld deactivated by its key", r->acct.id);
	rc = account_reply(r, &r->acct, 200);
out:
	json_object_put(contact);
	return rc;
}

/* The orders page's query: what it asks, what it found. */
struct orders_work {
	const char	*cursor;
	size_t		 limit;
	char		**ids;
	size_t		 n;
	char		*next;
};

static int
orders_work(struct req *r, void *arg)
{
	struct orders_work *w = arg;

	strv_free(w->ids, w->n);
	free(w->next);
	return store_auth_account_orders(r->db, &r->auth, &r->acct,
	    w->cursor, w->limit, &w->ids, &w->n, &w->next);
}

int
h_account_orders(struct req *r)
{
	struct orders_work w;
	json_object *o, *arr;
	char *u;
	size_t i;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	if (strtol(r->id, NULL, 10) != r->auth.id) {
		problem_set(&r->prob, PT_UNAUTHORIZED,
		    "the request is not signed by this account's key");
		goto out;
	}
	if (r->query != NULL) {
		if (strncmp(r->query, "cursor=", 7) != 0 ||
		    strlen(r->query + 7) > 64) {
			problem_set(&r->prob, PT_MALFORMED,
			    "unknown query: only cursor= is accepted");
			goto out;
		}
		w.cursor = r->query + 7;
	}
	w.limit = (size_t)cfg_int(CFG_ORDERS_PAGE_SIZE);
	if (!auth_with(r, orders_work, &w, PC_ACME_OTHER_ERROR,
	    "cannot list the orders"))
		goto out;
	arr = json_object_new_array();
	for (i = 0; i < w.n; i++) {
		u = url_for(R_ORDER, w.ids[i]);
		json_object_array_add(arr, json_object_new_string(u));
		free(u);
	}
	if (w.next != NULL) {
		u = url_for(R_ACCOUNT_ORDERS, r->id);
		r->link_next = xasprintf("%s?cursor=%s", u, w.next);
		free(u);
	}
	o = json_object_new_object();
	json_object_object_add(o, "orders", arr);
	r->resp = o;
	r->status = 200;
	rc = 1;
out:
	strv_free(w.ids, w.n);
	free(w.next);
	return rc;
}
