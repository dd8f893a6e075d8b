/*
 * office_audit.c - the audit log in the back office: newest first,
 * filtered by a text found in the actor, the action or the object, 50
 * rows a page; the next page starts before the last row shown (keyset
 * pagination: ?before=ID), so rows written meanwhile never shift it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "office_pages.h"

/* The pages of the objects the audit log names. */
static const struct {
	const char	*type;
	const char	*base;
	int		 uuid;	/* the id is a kid */
} object_pages[] = {
	{ "organization", "/office/organizations/", 0 },
	{ "document", "/office/documents/", 0 },
	{ "external_account", "/office/external-accounts/", 0 },
	{ "acme_account", "/office/acme-accounts/", 1 },
	{ "certificate", "/office/certificates/", -1 },
};

/* Appends the object of an audit row, linked to its page if it has one. */
static void
audit_object(struct web_req *r, const char *type, const char *id)
{
	size_t i;

	web_text(r, type);
	if (id == NULL)
		return;
	web_raw(r, " ");
	for (i = 0; type != NULL && i < sizeof(object_pages) /
	    sizeof(object_pages[0]); i++) {
		if (strcmp(type, object_pages[i].type) != 0)
			continue;
		if ((object_pages[i].uuid == 1 && office_uuid_ok(id)) ||
		    (object_pages[i].uuid == 0 && office_id_ok(id)) ||
		    object_pages[i].uuid == -1) {
			office_link(r, object_pages[i].base, id, "", id);
			return;
		}
	}
	web_text(r, id);
}

/* Appends the link to a page of the log (before NULL: the newest). */
static void
audit_page_link(struct web_req *r, const char *q, const char *before,
    const char *text)
{
	char *enc = office_urlencode(q != NULL ? q : ""), *url;

	if (before != NULL)
		url = xasprintf("/office/audit?q=%s&before=%s", enc, before);
	else
		url = xasprintf("/office/audit?q=%s", enc);
	web_raw(r, "<a href=\"");
	web_text(r, url);
	web_raw(r, "\">");
	web_text(r, text);
	web_raw(r, "</a>");
	free(url);
	free(enc);
}

void
office_audit(struct web_req *r)
{
	json_object *doc = NULL, *list, *e, *detail;
	const char *q = web_query(r, "q"), *before = web_query(r, "before");
	const char *vals[3];
	char limit[16];
	size_t i, n;

	if (before != NULL && *before == '\0')
		before = NULL;
	if (before != NULL && !office_id_ok(before)) {
		web_error(r, 400, L(r, "The page asked for does not exist.",
		    "La page demandée n'existe pas."));
		return;
	}
	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = q;
	vals[1] = before;
	vals[2] = limit;
	if ((doc = office_call(r, OFFICE_AUDIT_PAGE, vals)) == NULL)
		return;
	list = oj_arr(doc, "entries");
	n = list != NULL ? json_object_array_length(list) : 0;
	page_begin(r, L(r, "Audit log", "Journal d'audit"));
	web_raw(r, "<h1>");
	web_text(r, L(r, "Audit log", "Journal d'audit"));
	web_raw(r, "</h1>\n");
	office_search_form(r, "/office/audit", q, L(r, "Actor, action or "
	    "object", "Acteur, action ou objet"));
	if (n == 0) {
		web_raw(r, "<p>");
		web_text(r, L(r, "No entry.", "Aucune entrée."));
		web_raw(r, "</p>\n");
	} else {
		web_thead(r, "<table class=\"audit\"><thead><tr><th>",
		    "</th></tr></thead><tbody>\n", L(r, "Number", "Numéro"),
		    L(r, "Date", "Date"), L(r, "Actor", "Acteur"),
		    L(r, "Action", "Action"), L(r, "Object", "Objet"),
		    L(r, "Detail", "Détail"), NULL);
	}
	for (i = 0; i < n; i++) {
		e = json_object_array_get_idx(list, i);
		web_raw(r, "<tr><td>");
		web_text(r, oj_str(e, "id"));
		web_raw(r, "</td><td>");
		office_date(r, oj_str(e, "at"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(e, "actor"));
		web_raw(r, "</td><td>");
		web_text(r, oj_str(e, "action"));
		web_raw(r, "</td><td>");
		audit_object(r, oj_str(e, "object_type"),
		    oj_str(e, "object_id"));
		web_raw(r, "</td><td><code>");
		detail = NULL;
		json_object_object_get_ex(e, "detail", &detail);
		web_text(r, detail != NULL ? json_compact(detail) : "");
		web_raw(r, "</code></td></tr>\n");
	}
	if (n > 0)
		web_raw(r, "</tbody></table>\n");
	web_raw(r, "<nav class=\"pager\">");
	if (before != NULL)
		audit_page_link(r, q, NULL, L(r, "Newest", "Les plus récentes"));
	if (oj_str(doc, "next_before") != NULL) {
		if (before != NULL)
			web_raw(r, " ");
		audit_page_link(r, q, oj_str(doc, "next_before"),
		    L(r, "Older", "Plus anciennes"));
	}
	web_raw(r, "</nav>\n");
	page_end(r);
	json_object_put(doc);
}
