/*
 * office_org.c - organizations in the back office: the search, the page
 * with everything about one (details, status and its actions, documents
 * with their decisions, domains, external accounts, ACME accounts, credit
 * with its ledger, certificates), adding credit, and the status of a
 * domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "office_pages.h"

void
office_org_search(struct web_req *r)
{
	json_object *doc = NULL, *list, *o;
	const char *q = web_query(r, "q"), *vals[2];
	char limit[16];
	size_t i, n;

	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = q != NULL ? q : "";
	vals[1] = limit;
	if ((doc = office_call(r, OFFICE_ORGANIZATION_SEARCH, vals)) == NULL)
		return;
	list = oj_arr(doc, "results");
	n = list != NULL ? json_object_array_length(list) : 0;
	page_begin(r, L(r, "Organizations", "Organisations"));
	web_raw(r, "<h1>");
	web_text(r, L(r, "Organizations", "Organisations"));
	web_raw(r, "</h1>\n");
	office_search_form(r, "/office/organizations", q,
	    L(r, "Name, number or a customer's e-mail address",
	    "Nom, numéro ou adresse électronique d'un client"));
	if (n == 0) {
		web_raw(r, "<p>");
		web_text(r, L(r, "No organization matches.",
		    "Aucune organisation ne correspond."));
		web_raw(r, "</p>\n");
	} else {
		web_thead(r, "<table><thead><tr><th>",
		    "</th></tr></thead><tbody>\n", L(r, "Number", "Numéro"),
		    L(r, "Name", "Nom"), L(r, "Country", "Pays"),
		    L(r, "Status", "Statut"), L(r, "Credit", "Crédit"),
		    L(r, "Created", "Créée"), NULL);
		for (i = 0; i < n; i++) {
			o = json_object_array_get_idx(list, i);
			web_raw(r, "<tr><td>");
			web_text(r, oj_str(o, "id"));
			web_raw(r, "</td><td>");
			office_link(r, "/office/organizations/",
			    oj_str(o, "id"), "", oj_str(o, "name"));
			web_raw(r, "</td><td>");
			office_text_or_dash(r, oj_str(o, "country"));
			web_raw(r, "</td><td>");
			web_badge(r, oj_str(o, "status"));
			web_raw(r, "</td><td>");
			web_text(r, oj_str(o, "credit_balance"));
			web_raw(r, "</td><td>");
			office_date(r, oj_str(o, "created_at"));
			web_raw(r, "</td></tr>\n");
		}
		web_raw(r, "</tbody></table>\n");
	}
	if (oj_true(doc, "more")) {
		web_raw(r, "<p class=\"muted\">");
		web_textf(r, "%s %d", L(r, "More organizations match: "
		    "refine the search. Shown:", "D'autres organisations "
		    "correspondent : précisez la recherche. Affichées :"),
		    OFFICE_PAGE_ROWS);
		web_raw(r, "</p>\n");
	}
	page_end(r);
	json_object_put(doc);
}

/* Opens a section of the organization page (id, heading); returns 1 if it
 * has rows to show, else 0 after closing it with the text of an empty
 * list. */
static int
org_section(struct web_req *r, const char *id, const char *title, size_t n,
    const char *empty)
{
	web_raw(r, "<section id=\"");
	web_raw(r, id);
	web_raw(r, "\"><h2>");
	web_text(r, title);
	web_raw(r, "</h2>\n");
	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, empty);
		web_raw(r, "</p></section>\n");
		return 0;
	}
	return 1;
}

static void
org_details(struct web_req *r, json_object *g)
{
	web_raw(r, "<table class=\"fields\"><tbody>\n");
	office_row(r, L(r, "Number", "Numéro"), oj_str(g, "id"));
	office_row(r, L(r, "Name", "Nom"), oj_str(g, "name"));
	office_row(r, L(r, "Country", "Pays"), oj_str(g, "country"));
	office_row(r, L(r, "State or region", "État ou région"),
	    oj_str(g, "state"));
	office_row(r, L(r, "Locality", "Localité"), oj_str(g, "locality"));
	office_row_badge(r, L(r, "Status", "Statut"), oj_str(g, "status"));
	office_row_date(r, L(r, "Created", "Créée"), oj_str(g, "created_at"));
	office_row(r, L(r, "Credit balance", "Solde de crédit"),
	    oj_str(g, "credit_balance"));
	web_raw(r, "</tbody></table>\n");
}

static void
org_documents(struct web_req *r, json_object *g)
{
	json_object *list = oj_arr(g, "documents"), *d, *f;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (!org_section(r, "documents", L(r, "Documents", "Documents"), n,
	    L(r, "No document.", "Aucun document.")))
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Document", "Document"), L(r, "Reference", "Référence"),
	    L(r, "Status", "Statut"), L(r, "Expires", "Expire"),
	    L(r, "File", "Fichier"), L(r, "Decision", "Décision"), NULL);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(list, i);
		f = NULL;
		json_object_object_get_ex(d, "file", &f);
		web_raw(r, "<tr><td>");
		office_link(r, "/office/documents/", oj_str(d, "id"), "",
		    office_kind_label(r, oj_str(d, "kind")));
		if (oj_str(d, "domain") != NULL) {
			web_raw(r, " (");
			web_text(r, oj_str(d, "domain"));
			web_raw(r, ")");
		}
		web_raw(r, "</td><td>");
		office_text_or_dash(r, oj_str(d, "reference"));
		web_raw(r, "</td><td>");
		web_badge(r, oj_str(d, "status"));
		if (oj_str(d, "decision_reason") != NULL) {
			web_raw(r, "<br><small>");
			web_text(r, oj_str(d, "decision_reason"));
			web_raw(r, "</small>");
		}
		web_raw(r, "</td><td>");
		office_date(r, oj_str(d, "expires_at"));
		web_raw(r, "</td><td>");
		if (f != NULL && json_object_is_type(f, json_type_object))
			office_link(r, "/office/documents/", oj_str(d, "id"),
			    "/file", oj_str(f, "filename"));
		else
			web_text(r, L(r, "none", "aucun"));
		web_raw(r, "</td><td>");
		office_doc_forms(r, d, "organization");
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

static void
org_domains(struct web_req *r, json_object *g)
{
	json_object *list = oj_arr(g, "domains"), *d, *acts;
	const char *a;
	char *url;
	size_t i, k, n = list != NULL ? json_object_array_length(list) : 0;

	if (!org_section(r, "domains", L(r, "Domains", "Domaines"), n,
	    L(r, "No domain.", "Aucun domaine.")))
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Domain", "Domaine"), L(r, "Status", "Statut"),
	    L(r, "Validated", "Validé"), L(r, "Actions", "Actions"), NULL);
	for (i = 0; i < n; i++) {
		d = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		web_text(r, oj_str(d, "name"));
		web_raw(r, "</td><td>");
		web_badge(r, oj_str(d, "status"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(d, "validated_at"));
		web_raw(r, "</td><td>");
		acts = oj_arr(d, "actions");
		url = xasprintf("/office/domains/%s/status", oj_str(d, "id"));
		for (k = 0; acts != NULL && k < json_object_array_length(acts);
		    k++) {
			a = json_object_get_string(
			    json_object_array_get_idx(acts, k));
			form_begin(r, url, 0);
			office_hidden(r, "action", a);
			form_submit(r, office_action_label(r, a));
			web_raw(r, "</form>\n");
		}
		free(url);
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

static void
org_external_accounts(struct web_req *r, json_object *g)
{
	json_object *list = oj_arr(g, "external_accounts"), *x;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (!org_section(r, "external-accounts", L(r, "External accounts",
	    "Comptes externes"), n, L(r, "No external account.",
	    "Aucun compte externe.")))
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "E-mail", "Courriel"), L(r, "Status", "Statut"),
	    L(r, "Expires", "Expire"), L(r, "Actions", "Actions"), NULL);
	for (i = 0; i < n; i++) {
		x = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		office_link(r, "/office/external-accounts/", oj_str(x, "id"),
		    "", oj_str(x, "email"));
		web_raw(r, "</td><td>");
		web_badge(r, oj_str(x, "status"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(x, "expires_at"));
		web_raw(r, "</td><td>");
		office_actions(r, OBJ_EXTERNAL_ACCOUNT, oj_str(x, "id"),
		    oj_arr(x, "actions"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

/* Appends the section of the ACME accounts of an organization or an
 * external account (member acme_accounts of doc): the fourth column is
 * their domains (domains) or their expiry. */
void
office_acme_section(struct web_req *r, json_object *doc, int domains)
{
	json_object *list = oj_arr(doc, "acme_accounts"), *e;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (!org_section(r, "acme-accounts", L(r, "ACME accounts",
	    "Comptes ACME"), n, L(r, "No ACME account.",
	    "Aucun compte ACME.")))
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Key identifier (kid)", "Identifiant de clé (kid)"),
	    L(r, "Profile", "Profil"), L(r, "Status", "Statut"),
	    domains ? L(r, "Domains", "Domaines") : L(r, "Expires", "Expire"),
	    L(r, "Unexpired certificates", "Certificats non expirés"),
	    L(r, "Actions", "Actions"), NULL);
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td><code>");
		office_link(r, "/office/acme-accounts/", oj_str(e, "kid"), "",
		    oj_str(e, "kid"));
		web_raw(r, "</code></td><td>");
		web_text(r, oj_str(e, "profile"));
		web_raw(r, "</td><td>");
		web_badge(r, oj_str(e, "status"));
		web_raw(r, "</td><td>");
		if (domains)
			office_names(r, oj_arr(e, "domains"));
		else
			office_date(r, oj_str(e, "expires_at"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(e, "live_certificates"));
		web_raw(r, "</td><td>");
		office_actions(r, OBJ_ACME_ACCOUNT, oj_str(e, "kid"),
		    oj_arr(e, "actions"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

static void
org_credit(struct web_req *r, json_object *g)
{
	json_object *list = oj_arr(g, "ledger"), *l;
	char *url;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	web_raw(r, "<section id=\"credit\"><h2>");
	web_text(r, L(r, "Credit", "Crédit"));
	web_raw(r, "</h2>\n<p>");
	web_textf(r, "%s %s", L(r, "Balance:", "Solde :"),
	    oj_str(g, "credit_balance"));
	web_raw(r, "</p>\n");
	url = xasprintf("/office/organizations/%s/credit", oj_str(g, "id"));
	form_begin(r, url, 0);
	form_input(r, "number", "amount", L(r, "Amount (negative for a "
	    "correction)", "Montant (négatif pour une correction)"), "", 1);
	form_input(r, "text", "reason", L(r, "Reason (order, invoice...)",
	    "Motif (commande, facture...)"), "", 1);
	form_submit(r, L(r, "Add credit", "Ajouter du crédit"));
	web_raw(r, "</form>\n");
	free(url);
	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "The ledger is empty.",
		    "Le registre est vide."));
		web_raw(r, "</p></section>\n");
		return;
	}
	web_raw(r, "<h3>");
	web_textf(r, "%s (%lld)", L(r, "Ledger, newest first",
	    "Registre, du plus récent au plus ancien"),
	    oj_int(g, "ledger_count"));
	web_thead(r, "</h3>\n<table><thead><tr><th>",
	    "</th></tr></thead><tbody>\n", L(r, "Date", "Date"),
	    L(r, "Change", "Mouvement"), L(r, "Balance after", "Solde après"),
	    L(r, "Reason", "Motif"), L(r, "By", "Par"), NULL);
	for (i = 0; i < n; i++) {
		l = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		office_date(r, oj_str(l, "at"));
		web_raw(r, "</td><td>");
		web_textf(r, "%+lld", oj_int(l, "delta"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(l, "balance_after"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(l, "reason"));
		if (oj_str(l, "order") != NULL) {
			web_raw(r, " (");
			web_text(r, oj_str(l, "order"));
			web_raw(r, ")");
		}
		web_raw(r, "</td><td>");
		web_text(r, oj_str(l, "actor"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table></section>\n");
}

/* Appends a table of certificates (office_certificate_row documents). */
void
office_cert_table(struct web_req *r, json_object *list)
{
	json_object *c;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	if (n == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No certificate.", "Aucun certificat."));
		web_raw(r, "</p>\n");
		return;
	}
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Serial", "Numéro de série"), L(r, "Names", "Noms"),
	    L(r, "Organization", "Organisation"), L(r, "Expires", "Expire"),
	    L(r, "Status", "Statut"), NULL);
	for (i = 0; i < n; i++) {
		c = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td><code>");
		office_link(r, "/office/certificates/", oj_str(c, "id"), "",
		    oj_str(c, "serial"));
		web_raw(r, "</code></td><td>");
		office_names(r, oj_arr(c, "names"));
		web_raw(r, "</td><td>");
		office_ref(r, "/office/organizations/",
		    oj_str(c, "organization"), oj_str(c, "organization_name"),
		    0, NULL);
		web_raw(r, "</td><td>");
		office_date(r, oj_str(c, "not_after"));
		web_raw(r, "</td><td>");
		web_badge(r, oj_true(c, "revoked") ? "REVOKED" :
		    oj_true(c, "expired") ? "EXPIRED" : "VALID");
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

void
office_org_show(struct web_req *r)
{
	json_object *g = NULL;
	const char *id = r->args[0], *vals[2];
	char limit[16], *title = NULL;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such organization.",
		    "Organisation inconnue."));
		return;
	}
	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = id;
	vals[1] = limit;
	if ((g = office_call(r, OFFICE_ORGANIZATION_SHOW, vals)) == NULL)
		return;
	title = xasprintf("%s %s", L(r, "Organization", "Organisation"),
	    oj_str(g, "name"));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, oj_str(g, "name"));
	web_raw(r, " ");
	web_badge(r, oj_str(g, "status"));
	web_raw(r, "</h1>\n");
	org_details(r, g);
	web_raw(r, "<section id=\"status\"><h2>");
	web_text(r, L(r, "Status", "Statut"));
	web_raw(r, "</h2>\n");
	office_actions(r, OBJ_ORGANIZATION, id, oj_arr(g, "actions"));
	web_raw(r, "</section>\n");
	org_documents(r, g);
	org_domains(r, g);
	org_external_accounts(r, g);
	office_acme_section(r, g, 1);
	org_credit(r, g);
	web_raw(r, "<section id=\"certificates\"><h2>");
	web_textf(r, "%s (%lld)", L(r, "Certificates, newest first",
	    "Certificats, du plus récent au plus ancien"),
	    oj_int(g, "certificates_count"));
	web_raw(r, "</h2>\n");
	office_cert_table(r, oj_arr(g, "certificates"));
	web_raw(r, "</section>\n");
	page_end(r);
	free(title);
	json_object_put(g);
}

void
office_org_credit(struct web_req *r)
{
	json_object *doc = NULL;
	const char *id = r->args[0], *amount = web_form(r, "amount");
	const char *reason = web_form(r, "reason"), *vals[3];
	char *back = NULL, *msg = NULL;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such organization.",
		    "Organisation inconnue."));
		return;
	}
	if (!office_amount_ok(amount)) {
		web_error(r, 400, L(r, "The amount must be a whole number "
		    "other than zero (negative for a correction).",
		    "Le montant doit être un nombre entier non nul (négatif "
		    "pour une correction)."));
		return;
	}
	if (reason == NULL || reason[strspn(reason, " \t")] == '\0' ||
	    strlen(reason) > 200) {
		web_error(r, 400, L(r, "Give a reason of at most 200 "
		    "characters (order, invoice...).", "Donnez un motif d'au "
		    "plus 200 caractères (commande, facture...)."));
		return;
	}
	vals[0] = id;
	vals[1] = amount;
	vals[2] = reason;
	if ((doc = office_call(r, OFFICE_CREDIT_ADD, vals)) == NULL)
		return;
	msg = xasprintf("%s %+lld, %s %lld.", L(r, "Credit added:",
	    "Crédit ajouté :"), oj_int(doc, "delta"),
	    L(r, "balance", "solde"), oj_int(doc, "balance"));
	web_flash(r, msg);
	back = xasprintf("/office/organizations/%s#credit", id);
	web_redirect(r, back);
	free(msg);
	free(back);
	json_object_put(doc);
}

void
office_domain_status(struct web_req *r)
{
	json_object *doc = NULL;
	const char *id = r->args[0], *action = web_form(r, "action");
	const char *vals[2];
	char *back = NULL, *msg = NULL;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such domain.", "Domaine inconnu."));
		return;
	}
	if (action == NULL || (strcmp(action, "validate") != 0 &&
	    strcmp(action, "revoke") != 0)) {
		web_error(r, 400, L(r, "Choose validate or revoke.",
		    "Choisissez valider ou révoquer."));
		return;
	}
	vals[0] = id;
	vals[1] = action;
	if ((doc = office_call(r, OFFICE_DOMAIN_SET_STATUS, vals)) == NULL)
		return;
	msg = xasprintf("%s %s%s %s → %s", L(r, "Domain", "Domaine"),
	    oj_str(doc, "name"), L(r, ":", " :"), oj_str(doc, "from"),
	    oj_str(doc, "status"));
	web_flash(r, msg);
	back = xasprintf("/office/organizations/%s#domains",
	    oj_str(doc, "organization"));
	web_redirect(r, back);
	free(msg);
	free(back);
	json_object_put(doc);
}
