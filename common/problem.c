/*
 * problem.c - the problem types, the CA's catalogue, and problem
 * documents. This is the only place that maps an error to HTTP.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	[PT_INVALID_PROFILE] = { "invalidProfile", 400 },
	[PT_ALREADY_REPLACED] = { "alreadyReplaced", 409 },
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

/* What each code tells the user, in English and French; "%s" (at most
 * once) stands for the identifier at fault. */
struct pcode_msg {
	const char	*en;
	const char	*fr;
};

static const struct pcode_msg pmsgs[PC__MAX] = {
	[PC_DEACTIVATED_ACCOUNT] = {
	    "the ACME account is deactivated and cannot be used any more",
	    "le compte ACME est désactivé et ne peut plus être utilisé" },
	[PC_DEACTIVATED_EXTERNAL_ACCOUNT] = {
	    "the external account of this ACME account is deactivated",
	    "le compte externe de ce compte ACME est désactivé" },
	[PC_DOMAIN_NOT_FOUND] = {
	    "%s is not in the domain list of this ACME account (for RGS "
	    "certificates every FQDN must be listed)",
	    "%s n'est pas dans la liste des domaines de ce compte ACME (pour "
	    "un certificat RGS, chaque FQDN doit y figurer)" },
	[PC_EXPIRED_ACCOUNT] = {
	    "the ACME account has expired: regenerate its key to use it again",
	    "le compte ACME a expiré : régénérez sa clé pour le réutiliser" },
	[PC_EXPIRED_EXTERNAL_ACCOUNT] = {
	    "the external account has expired: provide new documents to "
	    "extend it",
	    "le compte externe a expiré : fournissez de nouveaux documents "
	    "pour le prolonger" },
	[PC_EXTERNAL_ACCOUNT_NOT_FOUND] = {
	    "no external account is attached to this ACME account",
	    "aucun compte externe n'est rattaché à ce compte ACME" },
	[PC_INVALID_DNSCAA] = {
	    "CAA records of %s do not allow this CA to issue: add "
	    "\"issue certigna.com\"",
	    "les enregistrements CAA de %s n'autorisent pas cette AC : "
	    "ajoutez \"issue certigna.com\"" },
	[PC_INVALID_DOMAIN] = {
	    "%s is not a valid domain name",
	    "%s n'est pas un nom de domaine valide" },
	[PC_INVALID_DOMAIN_FOR_WILDCARD_PROFILE] = {
	    "%s is not a wildcard name, and this ACME account only issues "
	    "wildcard certificates",
	    "%s n'est pas un nom générique, et ce compte ACME n'émet que des "
	    "certificats génériques" },
	[PC_INVALID_PROFILE_FOR_WILDCARD] = {
	    "%s is a wildcard name, and this ACME account does not issue "
	    "wildcard certificates",
	    "%s est un nom générique, et ce compte ACME n'émet pas de "
	    "certificats génériques" },
	[PC_NO_DOCUMENT_FORM_FOUND] = {
	    "no valid signed request form was found for the organization",
	    "aucun formulaire de demande signé valide n'a été trouvé pour "
	    "l'organisation" },
	[PC_NO_VALID_ORGANIZATION_DOCUMENT_FOUND] = {
	    "no valid document proves the organization",
	    "aucun document valide ne prouve l'existence de l'organisation" },
	[PC_NOT_SAME_ORGANIZATION] = {
	    "the requested names belong to different organizations",
	    "les noms demandés appartiennent à des organisations différentes" },
	[PC_ORGANIZATION_IS_NOT_VALID] = {
	    "the organization is not valid: a document may be missing, "
	    "expired or invalid",
	    "l'organisation n'est pas valide : un document manque, a expiré "
	    "ou est invalide" },
	[PC_OUT_OF_CREDIT] = {
	    "there is not enough credit to issue the certificate",
	    "le crédit est insuffisant pour émettre le certificat" },
	[PC_PENDING_EXTERNAL_ACCOUNT] = {
	    "the account is pending: a document may be missing, expired or "
	    "invalid",
	    "le compte est en attente : un document manque, a expiré ou est "
	    "invalide" },
	[PC_REVOKED_ACCOUNT] = {
	    "the ACME account is revoked: create a new ACME account",
	    "le compte ACME est révoqué : créez un nouveau compte ACME" },
	[PC_REVOKED_EXTERNAL_ACCOUNT] = {
	    "the external account is revoked: create a new external account "
	    "and ACME account",
	    "le compte externe est révoqué : créez un nouveau compte externe "
	    "et un nouveau compte ACME" },
	[PC_SUSPENDED_ACCOUNT] = {
	    "the ACME account is suspended: reactivate it to issue "
	    "certificates",
	    "le compte ACME est suspendu : réactivez-le pour émettre des "
	    "certificats" },
	[PC_SUSPENDED_EXTERNAL_ACCOUNT] = {
	    "the external account is suspended: reactivate it to use this "
	    "ACME account",
	    "le compte externe est suspendu : réactivez-le pour utiliser ce "
	    "compte ACME" },
	[PC_UNAUTHORIZED_DOMAIN] = {
	    "%s is not authorized: provide the documents that authorize this "
	    "ACME account for it",
	    "%s n'est pas autorisé : fournissez les documents qui autorisent "
	    "ce compte ACME à l'utiliser" },
	[PC_ACME_ORDER_NOT_READ] = {
	    "internal error while reading the order",
	    "erreur interne à la lecture de la commande" },
	[PC_ACME_REQUEST_NOT_FOUND] = {
	    "the requested object was not found",
	    "l'objet demandé est introuvable" },
	[PC_ACME_ORDER_FINALIZE_ERROR] = {
	    "error while generating the certificate",
	    "erreur lors de la génération du certificat" },
	[PC_ACME_CA_ERROR] = {
	    "the certificate authority could not generate the certificate",
	    "l'autorité de certification n'a pas pu générer le certificat" },
	[PC_ACME_OTHER_ERROR] = {
	    "internal server error",
	    "erreur interne du serveur" },
	[PC_ACME_DEACTIVATED] = {
	    "the object was deactivated by the ACME client",
	    "l'objet a été désactivé par le client ACME" },
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
	    { "ORGANIZATION_IS_NOT_VALID", PT_USER_ACTION_REQUIRED, 403 },
	[PC_OUT_OF_CREDIT] = { "OUT_OF_CREDIT", PT_RATE_LIMITED, 403 },
	[PC_PENDING_EXTERNAL_ACCOUNT] =
	    { "PENDING_EXTERNAL_ACCOUNT", PT_USER_ACTION_REQUIRED, 403 },
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
problem_append(struct problem *p, const char *text)
{
	size_t n = strlen(p->detail);

	snprintf(p->detail + n, sizeof(p->detail) - n, "%s", text);
}

void
problem_clear(struct problem *p)
{
	json_object_put(p->subproblems);
	free(p->location);
	free(p->instance);
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
	if (p->instance != NULL)
		json_object_object_add(o, "instance",
		    json_object_new_string(p->instance));
	if (p->subproblems != NULL)
		json_object_object_add(o, "subproblems",
		    json_object_get(p->subproblems));
	return o;
}

void
problem_catalogue(struct problem *p, enum pcode c, enum lang lang,
    const char *ident)
{
	const char *tmpl, *mark;

	if ((unsigned)c >= PC__MAX || c == PC_NONE)
		c = PC_ACME_OTHER_ERROR;
	tmpl = lang == LANG_FR ? pmsgs[c].fr : pmsgs[c].en;
	mark = strstr(tmpl, "%s");
	if (mark == NULL)
		problem_code(p, c, "%s", tmpl);
	else
		problem_code(p, c, "%.*s%s%s", (int)(mark - tmpl), tmpl,
		    ident != NULL ? ident : "?", mark + 2);
	if (ident != NULL)
		problem_sub(p, p->type, ident, p->detail);
}

int
pcode_user_action(enum pcode c)
{
	return (unsigned)c < PC__MAX && pcodes[c].type ==
	    PT_USER_ACTION_REQUIRED;
}

enum lang
lang_from_accept(const char *accept)
{
	const char *s = accept;
	double best_fr = -1, best_en = -1, q;
	char tag[16];
	size_t n;

	/* The language with the highest q wins; English on ties. */
	while (s != NULL && *s != '\0') {
		while (*s == ' ' || *s == ',')
			s++;
		n = strcspn(s, ";,");
		snprintf(tag, sizeof(tag), "%.*s", (int)(n < 15 ? n : 15), s);
		s += n;
		q = 1;
		if (*s == ';') {
			if (strncmp(s, ";q=", 3) == 0)
				q = strtod(s + 3, NULL);
			s += strcspn(s, ",");
		}
		if (strncasecmp(tag, "fr", 2) == 0 &&
		    (tag[2] == '\0' || tag[2] == '-' || tag[2] == ' '))
			best_fr = q > best_fr ? q : best_fr;
		else if (strncasecmp(tag, "en", 2) == 0 || tag[0] == '*')
			best_en = q > best_en ? q : best_en;
	}
	return best_fr > 0 && best_fr > best_en ? LANG_FR : LANG_EN;
}
