/*
 * office_queue.c - the back office's home: what awaits an operator,
 * oldest first (PENDING organizations, documents, external accounts whose
 * organization is VALID, domains), with counts and links.
 */
#include <stdio.h>
#include <stdlib.h>

#include "office_pages.h"

/* Appends a section heading with the count ("Documents (12)") and, when
 * the list shows fewer, how many it shows. */
static void
queue_heading(struct web_req *r, const char *title, json_object *list,
    long long count)
{
	size_t shown = list != NULL ? json_object_array_length(list) : 0;

	web_raw(r, "<h2>");
	web_textf(r, "%s (%lld)", title, count);
	web_raw(r, "</h2>\n");
	if ((long long)shown < count) {
		web_raw(r, "<p class=\"muted\">");
		web_textf(r, "%s %zu", L(r, "Oldest shown:",
		    "Les plus anciens affichés :"), shown);
		web_raw(r, "</p>\n");
	}
	if (shown == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "Nothing awaits review.",
		    "Rien n'attend d'examen."));
		web_raw(r, "</p>\n");
	}
}

static void
queue_organizations(struct web_req *r, json_object *doc)
{
	json_object *list = oj_arr(doc, "organizations"), *o;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	queue_heading(r, L(r, "Organizations", "Organisations"), list,
	    oj_int(doc, "organizations_count"));
	if (n == 0)
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Organization", "Organisation"), L(r, "Country", "Pays"),
	    L(r, "Documents to review", "Documents à examiner"),
	    L(r, "Since", "Depuis"), NULL);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		office_link(r, "/office/organizations/", oj_str(o, "id"), "",
		    oj_str(o, "name"));
		web_raw(r, "</td><td>");
		office_text_or_dash(r, oj_str(o, "country"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(o, "documents_pending"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(o, "created_at"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

static void
queue_documents(struct web_req *r, json_object *doc)
{
	json_object *list = oj_arr(doc, "documents"), *o;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	queue_heading(r, L(r, "Documents", "Documents"), list,
	    oj_int(doc, "documents_count"));
	if (n == 0)
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Document", "Document"), L(r, "Organization", "Organisation"),
	    L(r, "Reference", "Référence"), L(r, "File", "Fichier"),
	    L(r, "Since", "Depuis"), NULL);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		office_link(r, "/office/documents/", oj_str(o, "id"), "",
		    office_kind_label(r, oj_str(o, "kind")));
		if (oj_str(o, "domain") != NULL) {
			web_raw(r, " (");
			web_text(r, oj_str(o, "domain"));
			web_raw(r, ")");
		}
		web_raw(r, "</td><td>");
		office_link(r, "/office/organizations/",
		    oj_str(o, "organization"), "",
		    oj_str(o, "organization_name"));
		web_raw(r, " ");
		web_badge(r, oj_str(o, "organization_status"));
		web_raw(r, "</td><td>");
		office_text_or_dash(r, oj_str(o, "reference"));
		web_raw(r, "</td><td>");
		web_text(r, oj_true(o, "has_file") ? L(r, "yes", "oui") :
		    L(r, "none", "aucun"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(o, "created_at"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

static void
queue_external_accounts(struct web_req *r, json_object *doc)
{
	json_object *list = oj_arr(doc, "external_accounts"), *o;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	queue_heading(r, L(r, "External accounts to activate",
	    "Comptes externes à activer"), list,
	    oj_int(doc, "external_accounts_count"));
	if (n == 0)
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "E-mail", "Courriel"), L(r, "Organization", "Organisation"),
	    L(r, "Since", "Depuis"), NULL);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		office_link(r, "/office/external-accounts/", oj_str(o, "id"),
		    "", oj_str(o, "email"));
		web_raw(r, "</td><td>");
		office_link(r, "/office/organizations/",
		    oj_str(o, "organization"), "",
		    oj_str(o, "organization_name"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(o, "created_at"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

static void
queue_domains(struct web_req *r, json_object *doc)
{
	json_object *list = oj_arr(doc, "domains"), *o;
	size_t i, n = list != NULL ? json_object_array_length(list) : 0;

	queue_heading(r, L(r, "Domains", "Domaines"), list,
	    oj_int(doc, "domains_count"));
	if (n == 0)
		return;
	web_thead(r, "<table><thead><tr><th>", "</th></tr></thead><tbody>\n",
	    L(r, "Domain", "Domaine"), L(r, "Organization", "Organisation"),
	    L(r, "Since", "Depuis"), NULL);
	for (i = 0; i < n; i++) {
		o = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		web_text(r, oj_str(o, "name"));
		web_raw(r, "</td><td>");
		office_link(r, "/office/organizations/",
		    oj_str(o, "organization"), "#domains",
		    oj_str(o, "organization_name"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(o, "created_at"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody></table>\n");
}

void
office_root(struct web_req *r)
{
	web_redirect(r, "/office/");
}

void
office_queue(struct web_req *r)
{
	json_object *doc = NULL;
	char limit[16];
	const char *vals[1];

	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = limit;
	if ((doc = office_call(r, OFFICE_QUEUE, vals)) == NULL)
		return;
	page_begin(r, L(r, "Awaiting review", "En attente d'examen"));
	web_raw(r, "<h1>");
	web_text(r, L(r, "Awaiting review", "En attente d'examen"));
	web_raw(r, "</h1>\n<section id=\"organizations\">\n");
	queue_organizations(r, doc);
	web_raw(r, "</section>\n<section id=\"documents\">\n");
	queue_documents(r, doc);
	web_raw(r, "</section>\n<section id=\"external-accounts\">\n");
	queue_external_accounts(r, doc);
	web_raw(r, "</section>\n<section id=\"domains\">\n");
	queue_domains(r, doc);
	web_raw(r, "</section>\n");
	page_end(r);
	json_object_put(doc);
}
