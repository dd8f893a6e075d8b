/*
 * office_account.c - external accounts (the customer's account on the
 * web site) and ACME accounts (EAB credentials) in the back office: the
 * page of each, with its status and actions (those that take away the
 * right to order go through a preview, web/office_status.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "office_pages.h"

/* Appends a row linking to the organization of an object. */
static void
row_organization(struct web_req *r, json_object *o)
{
	office_row_begin(r, L(r, "Organization", "Organisation"));
	office_ref(r, "/office/organizations/", oj_str(o, "organization"),
	    oj_str(o, "organization_name"), 1,
	    oj_str(o, "organization_status"));
	web_raw(r, "</td></tr>\n");
}

void
office_xa_show(struct web_req *r)
{
	json_object *x = NULL;
	const char *id = r->args[0], *vals[1];
	char *title = NULL;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such external account.",
		    "Compte externe inconnu."));
		return;
	}
	vals[0] = id;
	if ((x = office_call(r, OFFICE_EXTERNAL_ACCOUNT_SHOW, vals)) == NULL)
		return;
	title = xasprintf("%s %s", L(r, "External account", "Compte externe"),
	    oj_str(x, "email"));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, title);
	web_raw(r, " ");
	web_badge(r, oj_str(x, "status"));
	web_raw(r, "</h1>\n<table class=\"fields\"><tbody>\n");
	office_row(r, L(r, "Number", "Numéro"), id);
	office_row(r, L(r, "E-mail", "Courriel"), oj_str(x, "email"));
	row_organization(r, x);
	office_row_badge(r, L(r, "Status", "Statut"), oj_str(x, "status"));
	office_row(r, L(r, "Language", "Langue"), oj_str(x, "language"));
	office_row(r, L(r, "Password set", "Mot de passe défini"),
	    oj_true(x, "has_password") ? L(r, "yes", "oui") :
	    L(r, "no", "non"));
	office_row_date(r, L(r, "Address confirmed", "Adresse confirmée"),
	    oj_str(x, "email_confirmed_at"));
	office_row_date(r, L(r, "Created", "Créé"), oj_str(x, "created_at"));
	office_row_date(r, L(r, "Expires", "Expire"), oj_str(x, "expires_at"));
	office_row(r, L(r, "Unexpired certificates",
	    "Certificats non expirés"), oj_str(x, "live_certificates"));
	web_raw(r, "</tbody></table>\n<section id=\"status\"><h2>");
	web_text(r, L(r, "Status", "Statut"));
	web_raw(r, "</h2>\n");
	office_actions(r, OBJ_EXTERNAL_ACCOUNT, id, oj_arr(x, "actions"));
	web_raw(r, "</section>\n");
	office_acme_section(r, x, 0);
	page_end(r);
	free(title);
	json_object_put(x);
}

/* The domain list of an ACME account (op_domain_json documents). */
static void
acme_domains(struct web_req *r, json_object *list)
{
	json_object *d;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "The domain list is empty.",
		    "La liste de domaines est vide."));
		web_raw(r, "</p>\n");
		return;
	}
	web_raw(r, "<ul class=\"domains\">\n");
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(list, i);
		web_raw(r, "<li>");
		web_text(r, oj_str(d, "name"));
		web_raw(r, " ");
		web_badge(r, oj_str(d, "status"));
		web_raw(r, "</li>\n");
	}
	web_raw(r, "</ul>\n");
}

/* The RFC 8555 accounts bound to an ACME account. */
static void
acme_bound_accounts(struct web_req *r, json_object *list)
{
	json_object *a;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No ACME client has registered with this "
		    "credential yet.", "Aucun client ACME ne s'est encore "
		    "enregistré avec cet identifiant."));
		web_raw(r, "</p>\n");
		return;
	}
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Account", "Compte"),
	    L(r, "Key thumbprint", "Empreinte de la clé"),
	    L(r, "Status", "Statut"), L(r, "Registered", "Enregistré"), NULL);
	for (i = 0; i < n; i++) {
		a = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		web_text(r, oj_str(a, "id"));
		web_raw(r, "</td><td><code>");
		web_text(r, oj_str(a, "thumbprint"));
		web_raw(r, "</code></td><td>");
		web_text(r, oj_str(a, "status"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(a, "created_at"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

void
office_acme_show(struct web_req *r)
{
	json_object *e = NULL;
	const char *kid = r->args[0], *vals[2];
	char limit[16], *title = NULL;

	if (!office_uuid_ok(kid)) {
		web_error(r, 404, L(r, "No such ACME account.",
		    "Compte ACME inconnu."));
		return;
	}
	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = kid;
	vals[1] = limit;
	if ((e = office_call(r, OFFICE_ACME_ACCOUNT_SHOW, vals)) == NULL)
		return;
	title = xasprintf("%s %s", L(r, "ACME account", "Compte ACME"),
	    oj_str(e, "kid"));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, L(r, "ACME account", "Compte ACME"));
	web_raw(r, " <code>");
	web_text(r, oj_str(e, "kid"));
	web_raw(r, "</code> ");
	web_badge(r, oj_str(e, "status"));
	web_raw(r, "</h1>\n<table class=\"fields\"><tbody>\n");
	row_organization(r, e);
	office_row_begin(r, L(r, "External account", "Compte externe"));
	office_ref(r, "/office/external-accounts/",
	    oj_str(e, "external_account"), oj_str(e, "external_account_email"),
	    1, oj_str(e, "external_account_status"));
	web_raw(r, "</td></tr>\n");
	office_row(r, L(r, "Profile", "Profil"), oj_str(e, "profile"));
	office_row_badge(r, L(r, "Status", "Statut"), oj_str(e, "status"));
	office_row(r, L(r, "What refuses its orders now",
	    "Ce qui refuse ses commandes maintenant"),
	    oj_str(e, "problem") != NULL ? oj_str(e, "problem") :
	    L(r, "nothing", "rien"));
	office_row_date(r, L(r, "Created", "Créé"), oj_str(e, "created_at"));
	office_row_date(r, L(r, "Expires", "Expire"), oj_str(e, "expires_at"));
	office_row(r, L(r, "Key still unused", "Clé encore inutilisée"),
	    oj_true(e, "key_unused") ? L(r, "yes", "oui") : L(r, "no", "non"));
	office_row_date(r, L(r, "Key to be used before",
	    "Clé à utiliser avant le"), oj_str(e, "key_expires_at"));
	office_row_date(r, L(r, "Bound", "Liée"), oj_str(e, "bound_at"));
	office_row(r, L(r, "Unexpired certificates",
	    "Certificats non expirés"), oj_str(e, "live_certificates"));
	web_raw(r, "</tbody></table>\n<section id=\"status\"><h2>");
	web_text(r, L(r, "Status", "Statut"));
	web_raw(r, "</h2>\n");
	office_actions(r, OBJ_ACME_ACCOUNT, kid, oj_arr(e, "actions"));
	web_raw(r, "</section>\n<section id=\"domains\"><h2>");
	web_text(r, L(r, "Domain list", "Liste de domaines"));
	web_raw(r, "</h2>\n");
	acme_domains(r, oj_arr(e, "domains"));
	web_raw(r, "</section>\n<section id=\"accounts\"><h2>");
	web_text(r, L(r, "ACME clients registered",
	    "Clients ACME enregistrés"));
	web_raw(r, "</h2>\n");
	acme_bound_accounts(r, oj_arr(e, "accounts"));
	web_raw(r, "</section>\n<section id=\"certificates\"><h2>");
	web_textf(r, "%s (%lld)", L(r, "Certificates, newest first",
	    "Certificats, du plus récent au plus ancien"),
	    oj_int(e, "certificates_count"));
	web_raw(r, "</h2>\n");
	office_cert_table(r, oj_arr(e, "certificates"));
	web_raw(r, "</section>\n");
	page_end(r);
	free(title);
	json_object_put(e);
}
