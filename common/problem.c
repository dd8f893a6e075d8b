/*
 * problem.c - the problem types, the CA's catalogue, and problem
 * documents. This is the only place that maps an error to HTTP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"

struct ptype_def {
	const char	*name;	/* after urn:ietf:params:acme:error: */
	int		 status;
};

static const struct ptype_def ptypes[PT__MAX] = {
	[PT_NONE] = { "serverInternal", 500 },
	[PT_ACCOUNT_DOES_NOT_EXIST] = { "accountDoesNotExist", 400 },
	[PT_ALREADY_REVOKED] = { "alreadyRevoked", 400 },
	[PT_BAD_CSR] = { "badCSR", 400 },
	[PT_BAD_NONCE] = { "badNonce", 400 },
	[PT_BAD_PUBLIC_KEY] = { "badPublicKey", 400 },
	[PT_BAD_REVOCATION_REASON] = { "badRevocationReason", 400 },
	[PT_BAD_SIGNATURE_ALGORITHM] = { "badSignatureAlgorithm", 400 },
	[PT_CAA] = { "caa", 403 },
	[PT_COMPOUND] = { "compound", 403 },
	[PT_CONNECTION] = { "connection", 400 },
	[PT_DNS] = { "dns", 400 },
	[PT_EXTERNAL_ACCOUNT_REQUIRED] = { "externalAccountRequired", 401 },
	[PT_INCORRECT_RESPONSE] = { "incorrectResponse", 403 },
	[PT_INVALID_CONTACT] = { "invalidContact", 400 },
	[PT_MALFORMED] = { "malformed", 400 },
	[PT_ORDER_NOT_READY] = { "orderNotReady", 403 },
	[PT_RATE_LIMITED] = { "rateLimited", 429 },
	[PT_REJECTED_IDENTIFIER] = { "rejectedIdentifier", 400 },
	[PT_SERVER_INTERNAL] = { "serverInternal", 500 },
	[PT_TLS] = { "tls", 400 },
	[PT_UNAUTHORIZED] = { "unauthorized", 403 },
	[PT_UNSUPPORTED_CONTACT] = { "unsupportedContact", 400 },
	[PT_UNSUPPORTED_IDENTIFIER] = { "unsupportedIdentifier", 400 },
	[PT_USER_ACTION_REQUIRED] = { "userActionRequired", 403 },
	[PT_BAD_CSR_KEY] = { "badCSR", 400 },
	[PT_NOT_FOUND] = { "malformed", 404 },
	[PT_METHOD_NOT_ALLOWED] = { "malformed", 405 },
	[PT_UNSUPPORTED_MEDIA] = { "malformed", 415 },
	[PT_PAYLOAD_TOO_LARGE] = { "malformed", 413 },
	[PT_CONFLICT] = { "malformed", 409 },
};

struct pcode_def {
	const char	*name;
	enum ptype	 type;
	int		 status;
};

static const struct pcode_def pcodes[PC__MAX] = {
	[PC_NONE] = { NULL, PT_NONE, 0 },
	[PC_DEACTIVATED_ACCOUNT] =
	    { "DEACTIVATED_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_DEACTIVATED_EXTERNAL_ACCOUNT] =
	    { "DEACTIVATED_EXTERNAL_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_DOMAIN_NOT_FOUND] =
	    { "DOMAIN_NOT_FOUND", PT_REJECTED_IDENTIFIER, 400 },
	[PC_EXPIRED_ACCOUNT] =
	    { "EXPIRED_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_EXPIRED_EXTERNAL_ACCOUNT] =
	    { "EXPIRED_EXTERNAL_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_EXTERNAL_ACCOUNT_NOT_FOUND] =
	    { "EXTERNAL_ACCOUNT_NOT_FOUND", PT_UNAUTHORIZED, 403 },
	[PC_INVALID_DNSCAA] = { "INVALID_DNSCAA", PT_CAA, 403 },
	[PC_INVALID_DOMAIN] =
	    { "INVALID_DOMAIN", PT_REJECTED_IDENTIFIER, 400 },
	[PC_INVALID_DOMAIN_FOR_WILDCARD_PROFILE] =
	    { "INVALID_DOMAIN_FOR_WILDCARD_PROFILE",
	      PT_REJECTED_IDENTIFIER, 400 },
	[PC_INVALID_PROFILE_FOR_WILDCARD] =
	    { "INVALID_PROFILE_FOR_WILDCARD", PT_REJECTED_IDENTIFIER, 400 },
	[PC_NO_DOCUMENT_FORM_FOUND] =
	    { "NO_DOCUMENT_FORM_FOUND", PT_USER_ACTION_REQUIRED, 403 },
	[PC_NO_VALID_ORGANIZATION_DOCUMENT_FOUND] =
	    { "NO_VALID_ORGANIZATION_DOCUMENT_FOUND",
	      PT_USER_ACTION_REQUIRED, 403 },
	[PC_NOT_SAME_ORGANIZATION] =
	    { "NOT_SAME_ORGANIZATION", PT_REJECTED_IDENTIFIER, 400 },
	[PC_ORGANIZATION_IS_NOT_VALID] =
	    { "ORGANIZATION_IS_NOT_VALID", PT_UNAUTHORIZED, 403 },
	[PC_OUT_OF_CREDIT] = { "OUT_OF_CREDIT", PT_RATE_LIMITED, 403 },
	[PC_PENDING_EXTERNAL_ACCOUNT] =
	    { "PENDING_EXTERNAL_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_REVOKED_ACCOUNT] = { "REVOKED_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_REVOKED_EXTERNAL_ACCOUNT] =
	    { "REVOKED_EXTERNAL_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_SUSPENDED_ACCOUNT] =
	    { "SUSPENDED_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_SUSPENDED_EXTERNAL_ACCOUNT] =
	    { "SUSPENDED_EXTERNAL_ACCOUNT", PT_UNAUTHORIZED, 403 },
	[PC_UNAUTHORIZED_DOMAIN] =
	    { "UNAUTHORIZED_DOMAIN", PT_REJECTED_IDENTIFIER, 400 },
	[PC_ACME_ORDER_NOT_READ] =
	    { "ACME_ORDER_NOT_READ", PT_SERVER_INTERNAL, 500 },
	[PC_ACME_REQUEST_NOT_FOUND] =
	    { "ACME_REQUEST_NOT_FOUND", PT_MALFORMED, 404 },
	[PC_ACME_ORDER_FINALIZE_ERROR] =
	    { "ACME_ORDER_FINALIZE_ERROR", PT_SERVER_INTERNAL, 500 },
	[PC_ACME_CA_ERROR] = { "ACME_CA_ERROR", PT_SERVER_INTERNAL, 500 },
	[PC_ACME_OTHER_ERROR] =
	    { "ACME_OTHER_ERROR", PT_SERVER_INTERNAL, 500 },
	[PC_ACME_DEACTIVATED] =
	    { "ACME_DEACTIVATED", PT_UNAUTHORIZED, 403 },
};

const char *
ptype_urn(enum ptype t)
{
	static char buf[PT__MAX][80];

	if ((unsigned)t >= PT__MAX)
		t = PT_SERVER_INTERNAL;
	if (buf[t][0] == '\0')
		snprintf(buf[t], sizeof(buf[t]), "urn:ietf:params:acme:error:%s",
		    ptypes[t].name);
	return buf[t];
}

int
ptype_status(enum ptype t)
{
	return (unsigned)t < PT__MAX ? ptypes[t].status : 500;
}

const char *
pcode_name(enum pcode c)
{
	return (unsigned)c < PC__MAX ? pcodes[c].name : NULL;
}

enum pcode
pcode_lookup(const char *name)
{
	size_t i;

	for (i = 1; i < PC__MAX; i++)
		if (strcmp(pcodes[i].name, name) == 0)
			return (enum pcode)i;
	return PC_NONE;
}

void
problem_set(struct problem *p, enum ptype t, const char *fmt, ...)
{
	va_list ap;

	p->type = t;
	p->code = PC_NONE;
	p->status = ptype_status(t);
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
}

void
problem_code(struct problem *p, enum pcode c, const char *fmt, ...)
{
	va_list ap;
	int n;

	if ((unsigned)c >= PC__MAX || c == PC_NONE)
		c = PC_ACME_OTHER_ERROR;
	p->type = pcodes[c].type;
	p->code = c;
	p->status = pcodes[c].status;
	n = snprintf(p->detail, sizeof(p->detail), "%s: ", pcodes[c].name);
	va_start(ap, fmt);
	vsnprintf(p->detail + n, sizeof(p->detail) - (size_t)n, fmt, ap);
	va_end(ap);
}

void
problem_sub(struct problem *p, enum ptype t, const char *ident,
    const char *detail)
{
	json_object *sub, *id;

	if (p->subproblems == NULL)
		p->subproblems = json_object_new_array();
	sub = json_object_new_object();
	json_object_object_add(sub, "type",
	    json_object_new_string(ptype_urn(t)));
	json_object_object_add(sub, "detail", json_object_new_string(detail));
	id = json_object_new_object();
	json_object_object_add(id, "type", json_object_new_string("dns"));
	json_object_object_add(id, "value", json_object_new_string(ident));
	json_object_object_add(sub, "identifier", id);
	json_object_array_add(p->subproblems, sub);
}

void
problem_clear(struct problem *p)
{
	json_object_put(p->subproblems);
	free(p->location);
	memset(p, 0, sizeof(*p));
}

json_object *
problem_json(const struct problem *p)
{
	json_object *o = json_object_new_object();
	enum ptype t = p->type == PT_NONE ? PT_SERVER_INTERNAL : p->type;

	json_object_object_add(o, "type", json_object_new_string(ptype_urn(t)));
	json_object_object_add(o, "status", json_object_new_int(
	    p->status != 0 ? p->status : ptype_status(t)));
	json_object_object_add(o, "detail", json_object_new_string(
	    p->detail[0] != '\0' ? p->detail : "internal error"));
	if (p->code != PC_NONE)
		json_object_object_add(o, "code",
		    json_object_new_string(pcodes[p->code].name));
	if (p->subproblems != NULL)
		json_object_object_add(o, "subproblems",
		    json_object_get(p->subproblems));
	return o;
}
