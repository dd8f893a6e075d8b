/*
 * office.c - the operators' back office: its routes (all under /office/,
 * signed-in operators only but for the sign-in page; the dispatcher has
 * checked the client certificate, the session and the CSRF token before
 * a handler runs) and the helpers its pages share.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "office_pages.h"

const struct web_route office_routes[] = {
	{ AREA_OFFICE, "GET", "/office/login", AUTH_ANON, office_login_form },
	{ AREA_OFFICE, "POST", "/office/login", AUTH_ANON, office_login },
	{ AREA_OFFICE, "POST", "/office/logout", AUTH_OPERATOR,
	    office_logout },
	{ AREA_OFFICE, "GET", "/office", AUTH_OPERATOR, office_root },
	{ AREA_OFFICE, "GET", "/office/", AUTH_OPERATOR, office_queue },
	{ AREA_OFFICE, "GET", "/office/organizations", AUTH_OPERATOR,
	    office_org_search },
	{ AREA_OFFICE, "GET", "/office/organizations/*", AUTH_OPERATOR,
	    office_org_show },
	{ AREA_OFFICE, "GET", "/office/organizations/*/confirm", AUTH_OPERATOR,
	    office_org_confirm },
	{ AREA_OFFICE, "POST", "/office/organizations/*/status",
	    AUTH_OPERATOR, office_org_status },
	{ AREA_OFFICE, "POST", "/office/organizations/*/credit",
	    AUTH_OPERATOR, office_org_credit },
	{ AREA_OFFICE, "POST", "/office/domains/*/status", AUTH_OPERATOR,
	    office_domain_status },
	{ AREA_OFFICE, "GET", "/office/documents/*", AUTH_OPERATOR,
	    office_doc_show },
	{ AREA_OFFICE, "GET", "/office/documents/*/file", AUTH_OPERATOR,
	    office_doc_file },
	{ AREA_OFFICE, "POST", "/office/documents/*/decision", AUTH_OPERATOR,
	    office_doc_decision },
	{ AREA_OFFICE, "GET", "/office/external-accounts/*", AUTH_OPERATOR,
	    office_xa_show },
	{ AREA_OFFICE, "GET", "/office/external-accounts/*/confirm",
	    AUTH_OPERATOR, office_xa_confirm },
	{ AREA_OFFICE, "POST", "/office/external-accounts/*/status",
	    AUTH_OPERATOR, office_xa_status },
	{ AREA_OFFICE, "GET", "/office/acme-accounts/*", AUTH_OPERATOR,
	    office_acme_show },
	{ AREA_OFFICE, "GET", "/office/acme-accounts/*/confirm",
	    AUTH_OPERATOR, office_acme_confirm },
	{ AREA_OFFICE, "POST", "/office/acme-accounts/*/status",
	    AUTH_OPERATOR, office_acme_status },
	{ AREA_OFFICE, "GET", "/office/certificates", AUTH_OPERATOR,
	    office_cert_search },
	{ AREA_OFFICE, "GET", "/office/certificates/*", AUTH_OPERATOR,
	    office_cert_show },
	{ AREA_OFFICE, "POST", "/office/certificates/*/revoke", AUTH_OPERATOR,
	    office_cert_revoke },
	{ AREA_OFFICE, "GET", "/office/audit", AUTH_OPERATOR, office_audit },
	{ AREA_OFFICE, NULL, NULL, AUTH_ANON, NULL },
};

/* The objects whose status changes through a preview. */
static const struct {
	const char	*type;		/* status_transition.object_type */
	const char	*base;		/* its pages */
	const char	*en, *fr;
	const char	*missing_en, *missing_fr;
} objects[OBJ__MAX] = {
	[OBJ_ORGANIZATION] = { "organization", "/office/organizations/",
	    "Organization", "Organisation", "No such organization.",
	    "Organisation inconnue." },
	[OBJ_EXTERNAL_ACCOUNT] = { "external_account",
	    "/office/external-accounts/", "External account",
	    "Compte externe", "No such external account.",
	    "Compte externe inconnu." },
	[OBJ_ACME_ACCOUNT] = { "acme_account", "/office/acme-accounts/",
	    "ACME account", "Compte ACME", "No such ACME account.",
	    "Compte ACME inconnu." },
};

/* The actions of status_transition, as buttons say them. */
static const struct {
	const char	*action;
	const char	*en, *fr;
	int		 confirms;	/* through a preview */
} actions[] = {
	{ "validate", "Validate", "Valider", 0 },
	{ "activate", "Activate", "Activer", 0 },
	{ "reactivate", "Reactivate", "Réactiver", 0 },
	{ "reinstate", "Reinstate", "Rétablir", 0 },
	{ "suspend", "Suspend", "Suspendre", 1 },
	{ "expire", "Expire", "Faire expirer", 1 },
	{ "reject", "Reject", "Rejeter", 0 },
	{ "deactivate", "Deactivate", "Désactiver", 1 },
	{ "revoke", "Revoke", "Révoquer", 1 },
};

static const struct {
	const char	*kind;
	const char	*en, *fr;
} kinds[] = {
	{ "ORGANIZATION_PROOF", "Proof of the organization",
	    "Justificatif de l'organisation" },
	{ "REQUEST_FORM", "Signed request form",
	    "Formulaire de demande signé" },
	{ "MANAGER_AUTHORIZATION", "Manager's authorization",
	    "Autorisation du responsable" },
	{ "DOMAIN_AUTHORIZATION", "Domain authorization",
	    "Autorisation du domaine" },
};

void
office_fail(struct web_req *r, const struct office_err *e)
{
	char *msg;

	if (e->status >= 500) {
		web_error(r, 500, L(r, "The database failed: nothing was "
		    "changed. Try again later.", "La base de données a "
		    "échoué : rien n'a été modifié. Réessayez plus tard."));
		return;
	}
	msg = xasprintf("%s %s", L(r, "Refused:", "Refusé :"), e->detail);
	web_error(r, e->status, msg);
	free(msg);
}

json_object *
office_call(struct web_req *r, enum office_call call,
    const char *const *vals)
{
	struct office_err e;
	json_object *doc;

	memset(&e, 0, sizeof(e));
	if ((doc = office_run(r->db, call, web_actor(r), vals, &e)) == NULL)
		office_fail(r, &e);
	return doc;
}

const char *
oj_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

json_object *
oj_arr(json_object *o, const char *key)
{
	return o != NULL ? json_get_typed(o, key, json_type_array) : NULL;
}

long long
oj_int(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	return (long long)json_object_get_int64(v);
}

int
oj_true(json_object *o, const char *key)
{
	int b = 0;

	return o != NULL && json_get_bool(o, key, &b) && b;
}

void
office_date(struct web_req *r, const char *t)
{
	char *s;

	if (t == NULL || *t == '\0') {
		web_raw(r, "-");
		return;
	}
	s = office_date_text(t);
	web_text(r, s);
	free(s);
}

void
office_text_or_dash(struct web_req *r, const char *s)
{
	if (s == NULL || *s == '\0')
		web_raw(r, "-");
	else
		web_text(r, s);
}

void
office_link(struct web_req *r, const char *prefix, const char *id,
    const char *suffix, const char *text)
{
	char *enc = office_urlencode(id);

	web_raw(r, "<a href=\"");
	web_text(r, prefix);
	web_text(r, enc);
	web_text(r, suffix);
	web_raw(r, "\">");
	web_text(r, text);
	web_raw(r, "</a>");
	free(enc);
}

void
office_hidden(struct web_req *r, const char *name, const char *value)
{
	web_raw(r, "<input type=\"hidden\" name=\"");
	web_text(r, name);
	web_raw(r, "\" value=\"");
	web_text(r, value);
	web_raw(r, "\">");
}

void
office_row_begin(struct web_req *r, const char *label)
{
	web_raw(r, "<tr><th scope=\"row\">");
	web_text(r, label);
	web_raw(r, "</th><td>");
}

void
office_row(struct web_req *r, const char *label, const char *value)
{
	office_row_begin(r, label);
	office_text_or_dash(r, value);
	web_raw(r, "</td></tr>\n");
}

void
office_row_badge(struct web_req *r, const char *label, const char *status)
{
	office_row_begin(r, label);
	web_badge(r, status);
	web_raw(r, "</td></tr>\n");
}

void
office_row_date(struct web_req *r, const char *label, const char *t)
{
	office_row_begin(r, label);
	office_date(r, t);
	web_raw(r, "</td></tr>\n");
}

void
office_ref(struct web_req *r, const char *prefix, const char *id,
    const char *text, int badge, const char *status)
{
	if (id == NULL) {
		web_raw(r, "-");
		return;
	}
	office_link(r, prefix, id, "", text);
	if (badge) {
		web_raw(r, " ");
		web_badge(r, status);
	}
}

void
office_json_pre(struct web_req *r, json_object *o)
{
	web_raw(r, "<pre class=\"json\">");
	web_text(r, json_object_to_json_string_ext(o,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	web_raw(r, "</pre>\n");
}

void
office_names(struct web_req *r, json_object *arr)
{
	size_t i, n;

	if (arr == NULL || (n = json_object_array_length(arr)) == 0) {
		web_raw(r, "-");
		return;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			web_raw(r, ", ");
		web_text(r, json_object_get_string(
		    json_object_array_get_idx(arr, i)));
	}
}

const char *
office_action_label(const struct web_req *r, const char *action)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].action, action) == 0)
			return L(r, actions[i].en, actions[i].fr);
	return action;
}

int
office_action_confirms(const char *action)
{
	size_t i;

	for (i = 0; action != NULL &&
	    i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].action, action) == 0)
			return actions[i].confirms;
	return 0;
}

const char *
office_kind_label(const struct web_req *r, const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]);
	    i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return L(r, kinds[i].en, kinds[i].fr);
	return kind != NULL ? kind : "-";
}

const char *
office_object_base(enum office_object obj)
{
	return objects[obj].base;
}

const char *
office_object_type(enum office_object obj)
{
	return objects[obj].type;
}

const char *
office_object_label(const struct web_req *r, enum office_object obj)
{
	return L(r, objects[obj].en, objects[obj].fr);
}

const char *
office_object_missing(const struct web_req *r, enum office_object obj)
{
	return L(r, objects[obj].missing_en, objects[obj].missing_fr);
}

void
office_actions(struct web_req *r, enum office_object obj, const char *id,
    json_object *list)
{
	const char *action;
	char *url, *enc;
	size_t i, n;

	n = list != NULL ? json_object_array_length(list) : 0;
	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No action applies to this status.",
		    "Aucune action ne s'applique à ce statut."));
		web_raw(r, "</p>\n");
		return;
	}
	enc = office_urlencode(id);
	web_raw(r, "<div class=\"actions\">\n");
	for (i = 0; i < n; i++) {
		action = json_object_get_string(json_object_array_get_idx(list,
		    i));
		if (action == NULL)
			continue;
		if (office_action_confirms(action)) {
			/* a link: the preview changes nothing */
			url = xasprintf("%s%s/confirm?action=", objects[obj].base,
			    enc);
			web_raw(r, "<a class=\"danger\" href=\"");
			web_text(r, url);
			web_text(r, action);
			web_raw(r, "\">");
			web_text(r, office_action_label(r, action));
			web_raw(r, "&hellip;</a>\n");
		} else {
			url = xasprintf("%s%s/status", objects[obj].base, enc);
			form_begin(r, url, 0);
			office_hidden(r, "action", action);
			form_submit(r, office_action_label(r, action));
			web_raw(r, "</form>\n");
		}
		free(url);
	}
	web_raw(r, "</div>\n");
	free(enc);
}

void
office_danger_submit(struct web_req *r, const char *label)
{
	web_raw(r, "<button type=\"submit\" class=\"danger\">");
	web_text(r, label);
	web_raw(r, "</button>\n");
}

void
office_search_form(struct web_req *r, const char *action, const char *q,
    const char *label)
{
	web_raw(r, "<form method=\"get\" class=\"inline\" action=\"");
	web_text(r, action);
	web_raw(r, "\">");
	form_input(r, "search", "q", label, q != NULL ? q : "", 0);
	form_submit(r, L(r, "Search", "Rechercher"));
	web_raw(r, "</form>\n");
}
