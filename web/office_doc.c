/*
 * office_doc.c - documents in the back office: the page of one (its
 * metadata, an inline view of an image or a link to the file, the
 * decision forms), its stored file served as it was uploaded but
 * sandboxed, and the decision (validate, or reject with a reason the
 * customer reads). A validation gives the day until which the document
 * is valid (document.expires_at, which documents_expire() and the
 * "Expiring documents" digest work from).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "office_pages.h"

/* Content types a browser shows in an <img> (the rest: a link). */
static const char *const image_types[] = {
	"image/png", "image/jpeg", "image/gif", "image/webp",
};

/* The days a validation may give (sql/015_document_expiry.sql checks
 * the same): from tomorrow (UTC) to OFFICE_DOCUMENT_YEARS_MAX years
 * ahead; and the day the form offers. */
struct expiry_range {
	char	min[11];
	char	max[11];
	char	def[11];
};

static void
expiry_range_now(struct expiry_range *x)
{
	time_t now = time(NULL);

	office_day_from(now, 0, 1, x->min, sizeof(x->min));
	office_day_from(now, OFFICE_DOCUMENT_YEARS_MAX, 0, x->max,
	    sizeof(x->max));
	office_day_from(now, OFFICE_DOCUMENT_YEARS_DEFAULT, 0, x->def,
	    sizeof(x->def));
}

/* Returns NULL if day is one a validation may give, else the message
 * saying why not (new string, caller frees). */
static char *
expiry_refusal(struct web_req *r, const char *day)
{
	struct expiry_range x;

	expiry_range_now(&x);
	if (day == NULL || day[0] == '\0')
		return xstrdup(L(r, "A validation needs the date until which "
		    "the document is valid. Nothing was changed.",
		    "Une validation demande la date jusqu'à laquelle le "
		    "document est valable. Rien n'a été modifié."));
	if (!office_day_ok(day))
		return xstrdup(L(r, "The expiry date is not a date "
		    "(YYYY-MM-DD). Nothing was changed.",
		    "La date d'expiration n'est pas une date (AAAA-MM-JJ). "
		    "Rien n'a été modifié."));
	if (strcmp(day, x.min) < 0)	/* same shape: text order is time's */
		return xasprintf(r->lang == LANG_FR ? "La date d'expiration "
		    "%s n'est pas dans le futur : indiquez le %s ou plus "
		    "tard. Rien n'a été modifié." : "The expiry date %s is "
		    "not in the future: give %s or later. Nothing was "
		    "changed.", day, x.min);
	if (strcmp(day, x.max) > 0)
		return xasprintf(r->lang == LANG_FR ? "La date d'expiration "
		    "%s est à plus de %d ans : indiquez au plus tard le %s. "
		    "Rien n'a été modifié." : "The expiry date %s is more "
		    "than %d years ahead: give %s at the latest. Nothing was "
		    "changed.", day, OFFICE_DOCUMENT_YEARS_MAX, x.max);
	return NULL;
}

/* Appends the required "Valid until" day of a validation form, offering
 * the document's own expiry when it is one a validation may give, else
 * the default. */
static void
expiry_input(struct web_req *r, json_object *d)
{
	struct expiry_range x;
	const char *cur = oj_str(d, "expires_at");
	char day[11];

	expiry_range_now(&x);
	snprintf(day, sizeof(day), "%s", x.def);
	if (cur != NULL && strlen(cur) >= 10) {
		memcpy(day, cur, 10);
		day[10] = '\0';
		if (!office_day_ok(day) || strcmp(day, x.min) < 0 ||
		    strcmp(day, x.max) > 0)
			snprintf(day, sizeof(day), "%s", x.def);
	}
	web_raw(r, "<label>");
	web_text(r, L(r, "Valid until", "Valable jusqu'au"));
	web_raw(r, " <input type=\"date\" name=\"expires\" value=\"");
	web_text(r, day);
	web_raw(r, "\" min=\"");
	web_text(r, x.min);
	web_raw(r, "\" max=\"");
	web_text(r, x.max);
	web_raw(r, "\" required></label>\n");
}

void
office_doc_forms(struct web_req *r, json_object *d, const char *back)
{
	json_object *acts = oj_arr(d, "actions");
	const char *a;
	char *url;
	size_t i, n = acts != NULL ? json_object_array_length(acts) : 0;
	int validate = 0, reject = 0;

	for (i = 0; i < n; i++) {
		a = json_object_get_string(json_object_array_get_idx(acts, i));
		if (a != NULL && strcmp(a, "validate") == 0)
			validate = 1;
		if (a != NULL && strcmp(a, "reject") == 0)
			reject = 1;
	}
	if (!validate && !reject)
		return;
	url = xasprintf("/office/documents/%s/decision", oj_str(d, "id"));
	if (validate) {
		form_begin(r, url, 0);
		office_hidden(r, "action", "validate");
		office_hidden(r, "back", back);
		expiry_input(r, d);
		form_submit(r, office_action_label(r, "validate"));
		web_raw(r, "</form>\n");
	}
	if (reject) {
		form_begin(r, url, 0);
		office_hidden(r, "action", "reject");
		office_hidden(r, "back", back);
		form_input(r, "text", "reason", L(r, "Reason (the customer "
		    "reads it)", "Motif (le client le lit)"), "", 1);
		form_submit(r, office_action_label(r, "reject"));
		web_raw(r, "</form>\n");
	}
	free(url);
}

/* Returns 1 if a stored content type is an image the page shows. */
static int
doc_is_image(const char *content_type)
{
	char *ct = office_content_type(content_type);
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(image_types) / sizeof(image_types[0]); i++)
		if (strcmp(ct, image_types[i]) == 0)
			rc = 1;
	free(ct);
	return rc;
}

static void
doc_file_section(struct web_req *r, json_object *d)
{
	json_object *f = NULL;
	const char *id = oj_str(d, "id");
	char *url;

	web_raw(r, "<section id=\"file\"><h2>");
	web_text(r, L(r, "File", "Fichier"));
	web_raw(r, "</h2>\n");
	if (!json_object_object_get_ex(d, "file", &f) ||
	    !json_object_is_type(f, json_type_object)) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No file was uploaded with this document.",
		    "Aucun fichier n'a été déposé avec ce document."));
		web_raw(r, "</p></section>\n");
		return;
	}
	web_raw(r, "<table class=\"fields\"><tbody>\n");
	office_row(r, L(r, "File name", "Nom du fichier"),
	    oj_str(f, "filename"));
	office_row(r, L(r, "Type", "Type"), oj_str(f, "content_type"));
	office_row(r, L(r, "Size (bytes)", "Taille (octets)"),
	    oj_str(f, "size"));
	office_row(r, "SHA-256", oj_str(f, "sha256"));
	office_row_begin(r, L(r, "Uploaded", "Déposé"));
	office_date(r, oj_str(f, "uploaded_at"));
	web_raw(r, " ");
	web_text(r, oj_str(f, "uploaded_by"));
	web_raw(r, "</td></tr>\n</tbody></table>\n<p>");
	office_link(r, "/office/documents/", id, "/file",
	    L(r, "Open the file", "Ouvrir le fichier"));
	web_raw(r, " &middot; ");
	office_link(r, "/office/documents/", id, "/file?download=1",
	    L(r, "Download it", "Le télécharger"));
	web_raw(r, "</p>\n");
	if (doc_is_image(oj_str(f, "content_type"))) {
		url = xasprintf("/office/documents/%s/file", id);
		web_raw(r, "<p><img class=\"document\" src=\"");
		web_text(r, url);
		web_raw(r, "\" alt=\"");
		web_text(r, oj_str(f, "filename"));
		web_raw(r, "\"></p>\n");
		free(url);
	}
	web_raw(r, "</section>\n");
}

void
office_doc_show(struct web_req *r)
{
	json_object *d = NULL;
	const char *id = r->args[0], *vals[1];
	char *title = NULL;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such document.",
		    "Document inconnu."));
		return;
	}
	vals[0] = id;
	if ((d = office_call(r, OFFICE_DOCUMENT_SHOW, vals)) == NULL)
		return;
	title = xasprintf("%s %s", L(r, "Document", "Document"), id);
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, office_kind_label(r, oj_str(d, "kind")));
	web_raw(r, " ");
	web_badge(r, oj_str(d, "status"));
	web_raw(r, "</h1>\n<table class=\"fields\"><tbody>\n");
	office_row(r, L(r, "Number", "Numéro"), id);
	office_row_begin(r, L(r, "Organization", "Organisation"));
	office_link(r, "/office/organizations/", oj_str(d, "organization"),
	    "", oj_str(d, "organization_name"));
	web_raw(r, " ");
	web_badge(r, oj_str(d, "organization_status"));
	web_raw(r, "</td></tr>\n");
	office_row(r, L(r, "Reference", "Référence"), oj_str(d, "reference"));
	office_row(r, L(r, "Domain", "Domaine"), oj_str(d, "domain"));
	office_row_date(r, L(r, "Expires", "Expire"), oj_str(d, "expires_at"));
	office_row_date(r, L(r, "Received", "Reçu"), oj_str(d, "created_at"));
	office_row_begin(r, L(r, "Decided", "Décidé"));
	office_date(r, oj_str(d, "decided_at"));
	if (oj_str(d, "decided_by") != NULL) {
		web_raw(r, " ");
		web_text(r, oj_str(d, "decided_by"));
	}
	web_raw(r, "</td></tr>\n");
	office_row(r, L(r, "Reason of the decision", "Motif de la décision"),
	    oj_str(d, "decision_reason"));
	web_raw(r, "</tbody></table>\n");
	doc_file_section(r, d);
	web_raw(r, "<section id=\"decision\"><h2>");
	web_text(r, L(r, "Decision", "Décision"));
	web_raw(r, "</h2>\n");
	if (oj_arr(d, "actions") != NULL &&
	    json_object_array_length(oj_arr(d, "actions")) > 0)
		office_doc_forms(r, d, "document");
	else {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No decision applies to this status.",
		    "Aucune décision ne s'applique à ce statut."));
		web_raw(r, "</p>\n");
	}
	web_raw(r, "</section>\n");
	page_end(r);
	free(title);
	json_object_put(d);
}

/* GET /office/documents/ID/file[?download=1]: the stored bytes with the
 * stored type (checked), shown inline (saved with download), sandboxed
 * (Content-Security-Policy: sandbox) so that a file never acts as a page
 * of the back office. */
void
office_doc_file(struct web_req *r)
{
	/* r->content_type is borrowed until the response is written, after
	 * the handler: one request at a time in a child */
	static char ctype[128];
	struct office_file f;
	struct office_err e;
	char *ct = NULL, *name = NULL;

	memset(&f, 0, sizeof(f));
	memset(&e, 0, sizeof(e));
	if (!office_id_ok(r->args[0])) {
		web_error(r, 404, L(r, "No such document.",
		    "Document inconnu."));
		return;
	}
	if (!office_document_file(r->db, r->args[0], &f, &e)) {
		if (e.status == 404)
			web_error(r, 404, L(r, "This document has no file.",
			    "Ce document n'a pas de fichier."));
		else
			office_fail(r, &e);
		return;
	}
	/* X-Content-Type-Options: nosniff is on every response */
	ct = office_content_type(f.content_type);
	name = office_safe_filename(f.filename);
	snprintf(ctype, sizeof(ctype), "%s", ct);
	r->raw_body = 1;
	r->content_type = ctype;
	web_header(r, "Content-Disposition: %s; filename=\"%s\"",
	    web_query(r, "download") != NULL ? "attachment" : "inline", name);
	web_header(r, "Content-Security-Policy: sandbox");
	web_bytes(r, f.data, f.len);
	free(ct);
	free(name);
	office_file_free(&f);
}

void
office_doc_decision(struct web_req *r)
{
	json_object *doc = NULL;
	const char *id = r->args[0], *action = web_form(r, "action");
	const char *back = web_form(r, "back"), *vals[4];
	char *msg = NULL, *url = NULL;
	int validate = action != NULL && strcmp(action, "validate") == 0;

	if (!office_id_ok(id)) {
		web_error(r, 404, L(r, "No such document.",
		    "Document inconnu."));
		return;
	}
	vals[0] = id;
	vals[1] = action;
	vals[2] = web_form(r, "reason");
	vals[3] = validate ? web_form(r, "expires") : NULL;
	if (validate && (msg = expiry_refusal(r, vals[3])) != NULL) {
		web_error(r, 400, msg);
		free(msg);
		return;
	}
	if ((doc = office_call(r, OFFICE_DOCUMENT_DECIDE, vals)) == NULL)
		return;
	if (oj_str(doc, "expires_at") != NULL)
		msg = xasprintf("%s %s%s %s → %s, %s %.10s", L(r, "Document",
		    "Document"), id, L(r, ":", " :"), oj_str(doc, "from"),
		    oj_str(doc, "status"), L(r, "valid until",
		    "valable jusqu'au"), oj_str(doc, "expires_at"));
	else
		msg = xasprintf("%s %s%s %s → %s", L(r, "Document",
		    "Document"), id, L(r, ":", " :"), oj_str(doc, "from"),
		    oj_str(doc, "status"));
	web_flash(r, msg);
	if (back != NULL && strcmp(back, "organization") == 0 &&
	    oj_str(doc, "organization") != NULL)
		url = xasprintf("/office/organizations/%s#documents",
		    oj_str(doc, "organization"));
	else
		url = xasprintf("/office/documents/%s", id);
	web_redirect(r, url);
	free(msg);
	free(url);
	json_object_put(doc);
}
