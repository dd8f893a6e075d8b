/*
 * portal_org.c - the organization (its details, editable while it is
 * PENDING, and its domains) and its documents (list, upload recognized by
 * content and stored with its SHA-256, download of one's own).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "portal_pages.h"

/* The document kinds a customer may send, in the order the form lists
 * them. */
static const char *const doc_kinds[] = {
	"ORGANIZATION_PROOF",
	"REQUEST_FORM",
	"MANAGER_AUTHORIZATION",
	"DOMAIN_AUTHORIZATION",
};
#define NKINDS	(sizeof(doc_kinds) / sizeof(doc_kinds[0]))

/* ------------------------------------------------------ organization */

/* Posted values of the organization form, shown again after an error. */
struct org_form {
	const char	*name, *country, *state, *locality;
	const char	*domain;
};

/* Appends the details of the organization, as a form while it can be
 * changed. */
static void
org_details(struct web_req *r, json_object *doc, const struct org_form *f)
{
	int editable = pj_true(doc, "editable");

	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Details", "Informations"));
	web_raw(r, "</h2>\n<p>");
	web_text(r, L(r, "Status:", "Statut :"));
	web_raw(r, " ");
	pp_badge(r, pj_str(doc, "status"));
	web_raw(r, "</p>\n");
	if (editable) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "These details go into your certificates: "
		    "they must match your organization's documents. You can "
		    "change them until the CA validates the organization.",
		    "Ces informations figurent dans vos certificats : elles "
		    "doivent correspondre aux documents de votre organisation. "
		    "Vous pouvez les modifier jusqu'à la validation de "
		    "l'organisation par l'AC."));
		web_raw(r, "</p>\n");
		form_begin(r, "/organization", 0);
		form_input(r, "text", "name", L(r, "Organization name",
		    "Nom de l'organisation"), f != NULL && f->name != NULL ?
		    f->name : pj_str(doc, "name"), 1);
		form_input(r, "text", "country", L(r, "Country (ISO 3166 "
		    "code)", "Pays (code ISO 3166)"), f != NULL &&
		    f->country != NULL ? f->country : pj_str(doc, "country"),
		    1);
		form_input(r, "text", "state", L(r, "State or region",
		    "Région ou département"), f != NULL && f->state != NULL ?
		    f->state : pj_str(doc, "state"), 0);
		form_input(r, "text", "locality", L(r, "Locality (city)",
		    "Localité (ville)"), f != NULL && f->locality != NULL ?
		    f->locality : pj_str(doc, "locality"), 0);
		form_submit(r, L(r, "Save", "Enregistrer"));
		web_raw(r, "</form>\n</section>\n");
		return;
	}
	web_raw(r, "<dl>\n<dt>");
	web_text(r, L(r, "Name", "Nom"));
	web_raw(r, "</dt><dd>");
	pp_text_or_dash(r, pj_str(doc, "name"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Country", "Pays"));
	web_raw(r, "</dt><dd>");
	pp_text_or_dash(r, pj_str(doc, "country"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "State or region", "Région ou département"));
	web_raw(r, "</dt><dd>");
	pp_text_or_dash(r, pj_str(doc, "state"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Locality", "Localité"));
	web_raw(r, "</dt><dd>");
	pp_text_or_dash(r, pj_str(doc, "locality"));
	web_raw(r, "</dd>\n</dl>\n<p class=\"muted\">");
	web_text(r, L(r, "The CA validated these details against your "
	    "documents: they can no longer be changed here. Contact us to "
	    "change them (a new proof will be needed).", "L'AC a validé ces "
	    "informations au vu de vos documents : elles ne peuvent plus être "
	    "modifiées ici. Contactez-nous pour les changer (un nouveau "
	    "justificatif sera demandé)."));
	web_raw(r, "</p>\n</section>\n");
}

/* Appends the organization's domains and the form declaring one. */
static void
org_domains(struct web_req *r, json_object *doc, const struct org_form *f)
{
	json_object *domains = pj_arr(doc, "domains"), *d;
	size_t i;

	web_raw(r, "<h2 id=\"domains\">");
	web_text(r, L(r, "Domains", "Domaines"));
	web_raw(r, "</h2>\n");
	if (pj_len(domains) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No domain declared yet.",
		    "Aucun domaine déclaré pour l'instant."));
		web_raw(r, "</p>\n");
	} else {
		web_thead(r, "<table>\n<thead><tr><th>",
		    "</th></tr></thead>\n<tbody>\n", L(r, "Domain", "Domaine"),
		    L(r, "Status", "Statut"), L(r, "Declared", "Déclaré le"),
		    L(r, "Validated", "Validé le"), NULL);
		for (i = 0; i < pj_len(domains); i++) {
			d = pj_idx(domains, i);
			web_raw(r, "<tr><td class=\"mono\">");
			web_text(r, pj_str(d, "name"));
			web_raw(r, "</td><td>");
			pp_badge(r, pj_str(d, "status"));
			web_raw(r, "</td><td>");
			pp_day(r, pj_str(d, "created_at"));
			web_raw(r, "</td><td>");
			pp_day(r, pj_str(d, "validated_at"));
			web_raw(r, "</td></tr>\n");
		}
		web_raw(r, "</tbody>\n</table>\n");
	}
	if (!pj_true(doc, "can_declare"))
		return;
	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Declare a domain", "Déclarer un domaine"));
	web_raw(r, "</h2>\n<p class=\"muted\">");
	web_text(r, L(r, "A declared domain also covers its subdomains "
	    "(except for the RGS profile, which lists every name). The CA "
	    "checks that your organization holds it; if the domain is "
	    "registered in another name, send a domain name authorization.",
	    "Un domaine déclaré couvre aussi ses sous-domaines (sauf pour le "
	    "profil RGS, qui liste chaque nom). L'AC vérifie que votre "
	    "organisation le détient ; si le domaine est enregistré à un "
	    "autre nom, envoyez une autorisation de nom de domaine."));
	web_raw(r, "</p>\n");
	form_begin(r, "/organization/domains", 0);
	form_input(r, "text", "domain", L(r, "Domain name (e.g. example.com)",
	    "Nom de domaine (par ex. exemple.fr)"), f != NULL ? f->domain :
	    NULL, 1);
	form_submit(r, L(r, "Declare", "Déclarer"));
	web_raw(r, "</form>\n</section>\n");
}

/* Renders the organization page, with an error and the posted values. */
static void
org_page(struct web_req *r, const char *error, const struct org_form *f)
{
	json_object *doc;

	if ((doc = pp_load_own(r, PORTAL_ORGANIZATION_SHOW, NULL)) == NULL)
		return;
	pp_page(r, L(r, "Organization", "Organisation"));
	pp_error(r, error);
	org_details(r, doc, f);
	org_domains(r, doc, f);
	page_end(r);
	json_object_put(doc);
}

void
portal_organization_get(struct web_req *r)
{
	org_page(r, NULL, NULL);
}

void
portal_domain_post(struct web_req *r)
{
	struct org_form f;
	json_object *doc = NULL;
	char *raw = pp_field(r, "domain"), name[256], xa[24];
	const char *vals[3];

	memset(&f, 0, sizeof(f));
	f.domain = raw;
	if (!portal_domain_normalize(raw, name, 0)) {
		r->status = 400;
		org_page(r, strncmp(raw, "*.", 2) == 0 ? L(r, "Declare the "
		    "domain itself, without \"*.\": it covers its subdomains.",
		    "Déclarez le domaine lui-même, sans « *. » : il couvre ses "
		    "sous-domaines.") : pp_refusal_text(r, "bad_domain"), &f);
		goto out;
	}
	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = name;
	if ((doc = pp_change(r, PORTAL_DOMAIN_DECLARE, vals)) == NULL)
		goto out;
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		org_page(r, pp_refusal_text(r, portal_refused(doc)), &f);
		goto out;
	}
	web_flash(r, L(r, "Domain declared: the CA will check it.",
	    "Domaine déclaré : l'AC va le vérifier."));
	web_redirect(r, "/organization#domains");
out:
	json_object_put(doc);
	free(raw);
}

void
portal_organization_post(struct web_req *r)
{
	struct org_form f;
	json_object *doc = NULL;
	char *name, *country, *state, *locality, xa[24];
	const char *vals[6], *error = NULL;

	if (web_form(r, "domain") != NULL && web_form(r, "name") == NULL) {
		portal_domain_post(r);
		return;
	}
	name = pp_field(r, "name");
	country = pp_field(r, "country");
	state = pp_field(r, "state");
	locality = pp_field(r, "locality");
	error = pp_org_check(r, name, country, state, locality);
	f.name = name;
	f.country = country;
	f.state = state;
	f.locality = locality;
	f.domain = NULL;
	if (error != NULL) {
		r->status = 400;
		org_page(r, error, &f);
		goto out;
	}
	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = name;
	vals[3] = country;
	vals[4] = state;
	vals[5] = locality;
	if ((doc = pp_change(r, PORTAL_ORGANIZATION_UPDATE, vals)) == NULL)
		goto out;
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		org_page(r, pp_refusal_text(r, portal_refused(doc)), &f);
		goto out;
	}
	web_flash(r, L(r, "Organization details saved.",
	    "Informations de l'organisation enregistrées."));
	web_redirect(r, "/organization");
out:
	json_object_put(doc);
	free(name);
	free(country);
	free(state);
	free(locality);
}

/* --------------------------------------------------------- documents */

/* Posted values of the upload form, shown again after an error. */
struct doc_form {
	const char	*kind, *domain, *reference;
};

/* Appends the upload form. */
static void
doc_upload_form(struct web_req *r, json_object *doc,
    const struct doc_form *f)
{
	const char *labels[NKINDS], *dvalues[101], *dlabels[101];
	json_object *domains = pj_arr(doc, "domains");
	char max[48];
	size_t i, n = 0;

	for (i = 0; i < NKINDS; i++)
		labels[i] = pp_kind_label(r, doc_kinds[i]);
	dvalues[n] = "";
	dlabels[n++] = L(r, "(none)", "(aucun)");
	for (i = 0; i < pj_len(domains) && n < 101; i++) {
		dvalues[n] = json_object_get_string(pj_idx(domains, i));
		dlabels[n] = dvalues[n];
		n++;
	}
	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Send a document", "Envoyer un document"));
	web_raw(r, "</h2>\n<p class=\"muted\">");
	web_size_text(r, cfg_int(CFG_WEB_UPLOAD_MAX), max, sizeof(max));
	if (r->lang == LANG_FR)
		web_textf(r, "Un fichier PDF, PNG ou JPEG de %s au plus. "
		    "Une autorisation de nom de domaine indique le domaine "
		    "qu'elle concerne.", max);
	else
		web_textf(r, "A PDF, PNG or JPEG file of at most %s. A "
		    "domain name authorization names the domain it is about.",
		    max);
	web_raw(r, "</p>\n");
	form_begin(r, "/documents", 1);
	form_select(r, "kind", L(r, "Kind of document", "Type de document"),
	    doc_kinds, labels, NKINDS, f != NULL ? f->kind : NULL);
	form_select(r, "domain", L(r, "Domain (domain name authorization "
	    "only)", "Domaine (autorisation de nom de domaine seulement)"),
	    dvalues, dlabels, n, f != NULL ? f->domain : NULL);
	form_input(r, "text", "reference", L(r, "Reference (optional, e.g. "
	    "\"K-bis of 2025-03-01\")", "Référence (facultative, par ex. "
	    "« K-bis du 01/03/2025 »)"), f != NULL ? f->reference : NULL, 0);
	web_raw(r, "<label>");
	web_text(r, L(r, "File", "Fichier"));
	web_raw(r, " <input type=\"file\" name=\"file\" accept=\".pdf,.png,"
	    ".jpg,.jpeg,application/pdf,image/png,image/jpeg\" required>"
	    "</label>\n");
	form_submit(r, L(r, "Send", "Envoyer"));
	web_raw(r, "</form>\n</section>\n");
}

/* Appends the list of the organization's documents. */
static void
doc_list(struct web_req *r, json_object *doc)
{
	json_object *docs = pj_arr(doc, "documents"), *d;
	const char *status;
	size_t i;

	web_raw(r, "<h2>");
	web_text(r, L(r, "Documents sent", "Documents envoyés"));
	web_raw(r, "</h2>\n");
	if (pj_len(docs) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No document yet.",
		    "Aucun document pour l'instant."));
		web_raw(r, "</p>\n");
		return;
	}
	web_thead(r, "<table>\n<thead><tr><th>",
	    "</th></tr></thead>\n<tbody>\n", L(r, "Sent", "Envoyé le"),
	    L(r, "Kind", "Type"), L(r, "Reference", "Référence"),
	    L(r, "Status", "Statut"), L(r, "Expires", "Expire le"),
	    L(r, "File", "Fichier"), NULL);
	for (i = 0; i < pj_len(docs); i++) {
		d = pj_idx(docs, i);
		status = pj_str(d, "status");
		web_raw(r, "<tr><td>");
		pp_day(r, pj_str(d, "created_at"));
		web_raw(r, "</td><td>");
		web_text(r, pp_kind_label(r, pj_str(d, "kind")));
		if (pj_str(d, "domain") != NULL) {
			web_raw(r, "<br><span class=\"mono\">");
			web_text(r, pj_str(d, "domain"));
			web_raw(r, "</span>");
		}
		web_raw(r, "</td><td>");
		pp_text_or_dash(r, pj_str(d, "reference"));
		web_raw(r, "</td><td>");
		pp_badge(r, status);
		if (status != NULL && strcmp(status, "REJECTED") == 0) {
			web_raw(r, "<br>");
			if (pj_str(d, "decision_reason") != NULL) {
				web_text(r, L(r, "Reason:", "Motif :"));
				web_raw(r, " ");
				web_text(r, pj_str(d, "decision_reason"));
			} else
				web_text(r, L(r, "Please send a new one.",
				    "Merci d'en envoyer un nouveau."));
		}
		web_raw(r, "</td><td>");
		pp_day(r, pj_str(d, "expires_at"));
		web_raw(r, "</td><td>");
		if (pj_str(d, "filename") != NULL) {
			pp_link(r, "/documents/", pj_str(d, "id"), "/file",
			    pj_str(d, "filename"));
			web_raw(r, " <span class=\"muted\">");
			web_textf(r, "(%lld %s)", (pj_int(d, "size") + 1023) /
			    1024, r->lang == LANG_FR ? "Kio" : "KiB");
			web_raw(r, "</span>");
		} else
			web_raw(r, "-");
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
}

/* Renders the documents page, with an error and the posted values. */
static void
doc_page(struct web_req *r, const char *error, const struct doc_form *f)
{
	json_object *doc, *req, *d;
	const char *state;
	size_t i;

	if ((doc = pp_load_own(r, PORTAL_DOCUMENT_LIST, NULL)) == NULL)
		return;
	pp_page(r, L(r, "Documents", "Documents"));
	pp_error(r, error);
	req = pj_arr(doc, "required");
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "To get certificates, your organization needs a "
	    "valid proof of its existence and a signed certificate request "
	    "form.", "Pour obtenir des certificats, votre organisation a "
	    "besoin d'un justificatif d'existence valide et d'un formulaire "
	    "de demande de certificat signé."));
	web_raw(r, "</p>\n<ul>\n");
	for (i = 0; i < pj_len(req); i++) {
		d = pj_idx(req, i);
		state = pj_str(d, "state");
		web_raw(r, "<li>");
		web_text(r, pp_kind_label(r, pj_str(d, "kind")));
		web_raw(r, " ");
		pp_badge(r, state);
		web_raw(r, "</li>\n");
	}
	web_raw(r, "</ul>\n</section>\n");
	if (pj_true(doc, "can_upload"))
		doc_upload_form(r, doc, f);
	else {
		web_raw(r, "<p class=\"error\">");
		web_text(r, pp_refusal_text(r, "organization_closed"));
		web_raw(r, "</p>\n");
	}
	doc_list(r, doc);
	page_end(r);
	json_object_put(doc);
}

void
portal_documents_get(struct web_req *r)
{
	doc_page(r, NULL, NULL);
}

void
portal_documents_post(struct web_req *r)
{
	const struct web_upload *up = web_upload(r, "file");
	struct doc_form f;
	json_object *doc = NULL;
	const char *type, *vals[8], *error = NULL;
	char *filename = NULL, *reference = pp_field(r, "reference"),
	    *domain = pp_field(r, "domain"), xa[24], sha[65];

	/* a file over web_upload_max never gets here: the request's parser
	 * refuses it (413, a page that states the limit) */
	f.kind = web_form(r, "kind");
	f.domain = domain;
	f.reference = reference;
	type = up != NULL ? portal_sniff(up->data, up->len) : NULL;
	if (up == NULL || up->len == 0)
		error = L(r, "Choose the file to send.",
		    "Choisissez le fichier à envoyer.");
	else if (type == NULL)
		error = L(r, "Only PDF, PNG and JPEG files are accepted: this "
		    "file is none of them.", "Seuls les fichiers PDF, PNG et "
		    "JPEG sont acceptés : ce fichier n'en est pas un.");
	else if (f.kind == NULL || *f.kind == '\0')
		error = pp_refusal_text(r, "bad_document_kind");
	if (error != NULL) {
		r->status = 400;
		doc_page(r, error, &f);
		goto out;
	}
	filename = portal_filename_clean(up->filename);
	portal_sha256_hex(up->data, up->len, sha);
	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = f.kind;
	vals[3] = reference;
	vals[4] = *domain != '\0' ? domain : NULL;
	vals[5] = filename;
	vals[6] = type;
	vals[7] = sha;
	if ((doc = portal_document_upload(r->db, vals, up->data, up->len)) ==
	    NULL) {
		web_error(r, 500, L(r, "The document could not be stored; "
		    "please try again.", "Le document n'a pas pu être "
		    "enregistré ; veuillez réessayer."));
		goto out;
	}
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		doc_page(r, pp_refusal_text(r, portal_refused(doc)), &f);
		goto out;
	}
	web_flash(r, L(r, "Document received: the CA will check it.",
	    "Document reçu : l'AC va le vérifier."));
	web_redirect(r, "/documents");
out:
	json_object_put(doc);
	free(filename);
	free(reference);
	free(domain);
}

/* Returns 1 if s is a positive decimal id. */
static int
id_ok(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0' || strlen(s) > 18 || *s == '0')
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

void
portal_document_file_get(struct web_req *r)
{
	struct portal_file f;
	char xa[24], *name = NULL;
	const char *type;
	int rc;

	memset(&f, 0, sizeof(f));
	if (!id_ok(r->args[0])) {
		web_error(r, 404, L(r, "No such document.",
		    "Document introuvable."));
		return;
	}
	pp_xa(r, xa);
	if ((rc = portal_document_file(r->db, xa, r->args[0], &f)) < 0) {
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
		return;
	}
	if (rc == 0) {
		web_error(r, 404, L(r, "No such document.",
		    "Document introuvable."));
		return;
	}
	/* the stored type is one portal_sniff() gave: a literal of ours */
	type = portal_sniff(f.data, f.len);
	name = portal_filename_ascii(f.name);
	r->raw_body = 1;
	r->content_type = type != NULL ? type : "application/octet-stream";
	web_header(r, "Content-Disposition: attachment; filename=\"%s\"",
	    name);
	web_bytes(r, f.data, f.len);
	free(name);
	portal_file_free(&f);
}
