/*
 * portal_certs.c - the organization's certificates: search by name or
 * serial (paginated), detail, PEM download, revocation with a reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal_pages.h"

/* The revocation reasons a subscriber may give (RFC 5280 CRLReason). */
static const struct {
	const char	*name;
	int		 code;
	const char	*en, *fr;
} reasons[] = {
	{ "unspecified", 0, "Unspecified", "Non précisé" },
	{ "keyCompromise", 1, "Key compromise: the private key leaked or "
	    "may have", "Compromission de clé : la clé privée a fuité ou a pu "
	    "fuiter" },
	{ "superseded", 4, "Superseded: replaced by a new certificate",
	    "Remplacé : un nouveau certificat le remplace" },
	{ "cessationOfOperation", 5, "Cessation of operation: the names are "
	    "no longer used", "Cessation d'activité : les noms ne sont plus "
	    "utilisés" },
	{ "affiliationChanged", 3, "Affiliation changed: the organization's "
	    "details changed", "Changement d'affiliation : les informations "
	    "de l'organisation ont changé" },
};
#define NREASONS	(sizeof(reasons) / sizeof(reasons[0]))

/* Returns the label of a CRLReason code (borrowed). */
static const char *
reason_label(const struct web_req *r, long long code)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].code == code)
			return L(r, reasons[i].en, reasons[i].fr);
	if (code == 9)
		return L(r, "Privilege withdrawn (by the CA)",
		    "Retrait de privilège (par l'AC)");
	return L(r, "Other", "Autre");
}

/* Appends a serial in the usual form: pairs of hex digits separated by
 * colons, upper case. */
static void
serial_out(struct web_req *r, const char *serial)
{
	char buf[128];
	size_t i, n = 0;

	if (serial == NULL)
		return;
	for (i = 0; serial[i] != '\0' && n + 4 < sizeof(buf); i++) {
		if (i > 0 && i % 2 == 0)
			buf[n++] = ':';
		buf[n++] = (serial[i] >= 'a' && serial[i] <= 'f') ?
		    (char)(serial[i] - 'a' + 'A') : serial[i];
	}
	buf[n] = '\0';
	web_text(r, buf);
}

/* Appends the names of a certificate (JSON array), one per line. */
static void
names_out(struct web_req *r, json_object *names, size_t max)
{
	size_t i, n = pj_len(names);

	for (i = 0; i < n && i < max; i++) {
		if (i > 0)
			web_raw(r, "<br>");
		web_raw(r, "<span class=\"mono\">");
		web_text(r, json_object_get_string(pj_idx(names, i)));
		web_raw(r, "</span>");
	}
	if (n > max) {
		web_raw(r, "<br><span class=\"muted\">");
		if (r->lang == LANG_FR)
			web_textf(r, "et %zu autres", n - max);
		else
			web_textf(r, "and %zu more", n - max);
		web_raw(r, "</span>");
	}
}

void
portal_certificates_get(struct web_req *r)
{
	json_object *doc, *items, *c;
	const char *q = web_query(r, "q"), *vals[5];
	char *name = NULL, serial[64], xa[24], limit[16], offset[24];
	long page = pp_page_number(r);
	size_t i, n;

	/* a name is searched lower-case, a serial without colons */
	if (q != NULL) {
		while (*q == ' ')
			q++;
		name = xstrdup(q);
		for (n = strlen(name); n > 0 && name[n - 1] == ' '; n--)
			name[n - 1] = '\0';
		for (i = 0; name[i] != '\0'; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (char)(name[i] - 'A' + 'a');
	}
	pp_xa(r, xa);
	snprintf(limit, sizeof(limit), "%d", PORTAL_PAGE_ROWS);
	snprintf(offset, sizeof(offset), "%ld", (page - 1) *
	    PORTAL_PAGE_ROWS);
	vals[0] = xa;
	vals[1] = name != NULL && *name != '\0' ? name : NULL;
	vals[2] = name != NULL && portal_serial_normalize(name, serial,
	    sizeof(serial)) ? serial : NULL;
	vals[3] = limit;
	vals[4] = offset;
	if ((doc = pp_load(r, PORTAL_CERTIFICATE_SEARCH, vals)) == NULL)
		goto out;
	items = pj_arr(doc, "items");
	pp_page(r, L(r, "Certificates", "Certificats"));
	web_raw(r, "<form method=\"get\" action=\"/certificates\" "
	    "class=\"inline\">\n");
	form_input(r, "search", "q", L(r, "Name or serial number",
	    "Nom ou numéro de série"), name, 0);
	form_submit(r, L(r, "Search", "Rechercher"));
	web_raw(r, "</form>\n<p class=\"muted\">");
	if (r->lang == LANG_FR)
		web_textf(r, "%lld certificat(s)", pj_int(doc, "total"));
	else
		web_textf(r, "%lld certificate(s)", pj_int(doc, "total"));
	web_raw(r, "</p>\n");
	if (pj_len(items) == 0)
		goto done;
	web_thead(r, "<table>\n<thead><tr><th>",
	    "</th></tr></thead>\n<tbody>\n",
	    L(r, "Serial number", "Numéro de série"), L(r, "Names", "Noms"),
	    L(r, "Valid until", "Valable jusqu'au"), L(r, "Status", "Statut"),
	    L(r, "ACME account", "Compte ACME"), NULL);
	for (i = 0; i < pj_len(items); i++) {
		c = pj_idx(items, i);
		web_raw(r, "<tr><td class=\"mono\"><a href=\"/certificates/");
		web_text(r, pj_str(c, "id"));
		web_raw(r, "\">");
		serial_out(r, pj_str(c, "serial"));
		web_raw(r, "</a></td><td>");
		names_out(r, pj_arr(c, "names"), 5);
		web_raw(r, "</td><td>");
		pp_day(r, pj_str(c, "not_after"));
		web_raw(r, "</td><td>");
		pp_badge(r, pj_str(c, "status"));
		web_raw(r, "</td><td class=\"mono\">");
		pp_link(r, "/accounts/", pj_str(c, "acme_account"), NULL,
		    pj_str(c, "acme_account"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
	pp_pager(r, "/certificates", name, page, pj_int(doc, "total"));
done:
	page_end(r);
	json_object_put(doc);
out:
	free(name);
}

/* Renders the detail page of the certificate of the path. */
static void
detail_page(struct web_req *r, const char *error)
{
	json_object *doc;
	const char *status, *id;
	const char *rvalues[NREASONS], *rlabels[NREASONS];
	char *action;
	size_t i;

	if ((doc = pp_load_own(r, PORTAL_CERTIFICATE_SHOW, r->args[0])) == NULL)
		return;
	status = pj_str(doc, "status");
	id = pj_str(doc, "id");
	pp_page(r, L(r, "Certificate", "Certificat"));
	pp_error(r, error);
	web_raw(r, "<section>\n<dl>\n<dt>");
	web_text(r, L(r, "Serial number", "Numéro de série"));
	web_raw(r, "</dt><dd class=\"mono\">");
	serial_out(r, pj_str(doc, "serial"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Status", "Statut"));
	web_raw(r, "</dt><dd>");
	pp_badge(r, status);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Names", "Noms"));
	web_raw(r, "</dt><dd>");
	names_out(r, pj_arr(doc, "names"), 1000);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Valid from", "Valable du"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "not_before"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Valid until", "Valable jusqu'au"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "not_after"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "ACME account", "Compte ACME"));
	web_raw(r, "</dt><dd class=\"mono\">");
	pp_link(r, "/accounts/", pj_str(doc, "acme_account"), NULL,
	    pj_str(doc, "acme_account"));
	web_raw(r, " <span class=\"muted\">(");
	web_text(r, pj_str(doc, "profile"));
	web_raw(r, ")</span></dd>\n");
	if (pj_str(doc, "revoked_at") != NULL) {
		web_raw(r, "<dt>");
		web_text(r, L(r, "Revoked", "Révoqué le"));
		web_raw(r, "</dt><dd>");
		pp_date(r, pj_str(doc, "revoked_at"));
		web_raw(r, "</dd>\n<dt>");
		web_text(r, L(r, "Reason", "Motif"));
		web_raw(r, "</dt><dd>");
		web_text(r, reason_label(r, pj_int(doc,
		    "revocation_reason")));
		web_raw(r, "</dd>\n<dt>");
		web_text(r, L(r, "Revoked by", "Révoqué par"));
		web_raw(r, "</dt><dd>");
		pp_text_or_dash(r, pj_str(doc, "revoked_by"));
		web_raw(r, "</dd>\n");
	}
	web_raw(r, "</dl>\n<p>");
	pp_link(r, "/certificates/", id, "/pem", L(r, "Download (PEM, with "
	    "its chain)", "Télécharger (PEM, avec sa chaîne)"));
	web_raw(r, "</p>\n</section>\n");
	if (status != NULL && strcmp(status, "VALID") == 0) {
		for (i = 0; i < NREASONS; i++) {
			rvalues[i] = reasons[i].name;
			rlabels[i] = L(r, reasons[i].en, reasons[i].fr);
		}
		web_raw(r, "<section>\n<h2>");
		web_text(r, L(r, "Revoke", "Révoquer"));
		web_raw(r, "</h2>\n<p>");
		web_text(r, L(r, "Revocation is final: browsers will refuse "
		    "this certificate within hours. Revoke it if its key "
		    "leaked or it is no longer used.", "La révocation est "
		    "définitive : les navigateurs refuseront ce certificat "
		    "d'ici quelques heures. Révoquez-le si sa clé a fuité ou "
		    "s'il ne sert plus."));
		web_raw(r, "</p>\n");
		action = xasprintf("/certificates/%s/revoke", id);
		form_begin(r, action, 0);
		form_select(r, "reason", L(r, "Reason", "Motif"), rvalues,
		    rlabels, NREASONS, "unspecified");
		web_raw(r, "<button type=\"submit\" class=\"danger\">");
		web_text(r, L(r, "Revoke the certificate",
		    "Révoquer le certificat"));
		web_raw(r, "</button>\n</form>\n</section>\n");
		free(action);
	}
	page_end(r);
	json_object_put(doc);
}

void
portal_certificate_get(struct web_req *r)
{
	detail_page(r, NULL);
}

void
portal_certificate_pem_get(struct web_req *r)
{
	struct portal_file f;
	char xa[24], *name;
	int rc;

	pp_xa(r, xa);
	if ((rc = portal_certificate_pem(r->db, xa, r->args[0], &f)) < 0) {
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
		return;
	}
	if (rc == 0) {
		web_error(r, 404, pp_refusal_text(r, "no_certificate"));
		return;
	}
	name = portal_filename_ascii(f.name);
	r->raw_body = 1;
	r->content_type = "application/pem-certificate-chain";
	web_header(r, "Content-Disposition: attachment; filename=\"%s.pem\"",
	    name);
	web_bytes(r, f.data, f.len);
	free(name);
	portal_file_free(&f);
}

void
portal_certificate_revoke(struct web_req *r)
{
	json_object *doc;
	const char *reason = web_form(r, "reason");
	char code[8], *url;
	size_t i;

	code[0] = '\0';
	for (i = 0; reason != NULL && i < NREASONS; i++)
		if (strcmp(reason, reasons[i].name) == 0)
			snprintf(code, sizeof(code), "%d", reasons[i].code);
	if (code[0] == '\0') {
		r->status = 400;
		detail_page(r, pp_refusal_text(r, "bad_reason"));
		return;
	}
	if ((doc = pp_object_change(r, PORTAL_CERTIFICATE_REVOKE, code,
	    "no_certificate", detail_page)) == NULL)
		return;
	web_flash(r, L(r, "Certificate revoked.", "Certificat révoqué."));
	url = xasprintf("/certificates/%s", pj_str(doc, "id"));
	web_redirect(r, url);
	free(url);
	json_object_put(doc);
}
