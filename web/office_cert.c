/*
 * office_cert.c - certificates of any organization in the back office:
 * the search (by name or serial), the page of one, and its revocation
 * with an RFC 5280 reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "office_pages.h"

/* The reasons an operator gives (op_certificate_revoke). */
static const char *const reason_codes[] = { "0", "1", "3", "4", "5", "9" };
static const char *const reason_en[] = {
	"unspecified", "keyCompromise: the key leaked",
	"affiliationChanged: the organization changed",
	"superseded: replaced by another certificate",
	"cessationOfOperation: the site is closed",
	"privilegeWithdrawn: the CA withdraws it",
};
static const char *const reason_fr[] = {
	"unspecified : non précisé", "keyCompromise : la clé a fuité",
	"affiliationChanged : l'organisation a changé",
	"superseded : remplacé par un autre certificat",
	"cessationOfOperation : le site est fermé",
	"privilegeWithdrawn : l'AC le retire",
};

void
office_cert_search(struct web_req *r)
{
	json_object *doc = NULL, *list;
	const char *q = web_query(r, "q"), *vals[2];
	char limit[16];

	snprintf(limit, sizeof(limit), "%d", OFFICE_PAGE_ROWS);
	vals[0] = q != NULL ? q : "";
	vals[1] = limit;
	if ((doc = office_call(r, OFFICE_CERTIFICATE_SEARCH, vals)) == NULL)
		return;
	list = oj_arr(doc, "results");
	page_begin(r, L(r, "Certificates", "Certificats"));
	web_raw(r, "<h1>");
	web_text(r, L(r, "Certificates", "Certificats"));
	web_raw(r, "</h1>\n");
	office_search_form(r, "/office/certificates", q,
	    L(r, "Name or serial number", "Nom ou numéro de série"));
	if (q == NULL || *q == '\0') {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "The newest certificates:",
		    "Les certificats les plus récents :"));
		web_raw(r, "</p>\n");
	}
	office_cert_table(r, list);
	if (oj_true(doc, "more")) {
		web_raw(r, "<p class=\"muted\">");
		web_textf(r, "%s %d", L(r, "More certificates match: refine "
		    "the search. Shown:", "D'autres certificats correspondent "
		    ": précisez la recherche. Affichés :"), OFFICE_PAGE_ROWS);
		web_raw(r, "</p>\n");
	}
	page_end(r);
	json_object_put(doc);
}

/* Returns the label of a revocation reason code (borrowed). */
static const char *
reason_label(const struct web_req *r, const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < sizeof(reason_codes) /
	    sizeof(reason_codes[0]); i++)
		if (strcmp(code, reason_codes[i]) == 0)
			return L(r, reason_en[i], reason_fr[i]);
	return code;
}

static void
cert_revoke_form(struct web_req *r, const char *id)
{
	const char *labels[sizeof(reason_codes) / sizeof(reason_codes[0])];
	char *url;
	size_t i;

	for (i = 0; i < sizeof(reason_codes) / sizeof(reason_codes[0]); i++)
		labels[i] = reason_label(r, reason_codes[i]);
	web_raw(r, "<section id=\"revoke\"><h2>");
	web_text(r, L(r, "Revoke", "Révoquer"));
	web_raw(r, "</h2>\n<p>");
	web_text(r, L(r, "Revocation is final: clients stop trusting the "
	    "certificate once the revocation status is published.",
	    "La révocation est définitive : les clients cessent de faire "
	    "confiance au certificat dès que son statut est publié."));
	web_raw(r, "</p>\n");
	url = xasprintf("/office/certificates/%s/revoke", id);
	form_begin(r, url, 0);
	form_select(r, "reason", L(r, "Reason", "Motif"), reason_codes,
	    labels, sizeof(reason_codes) / sizeof(reason_codes[0]), "0");
	office_danger_submit(r, L(r, "Revoke this certificate",
	    "Révoquer ce certificat"));
	web_raw(r, "</form></section>\n");
	free(url);
}

void
office_cert_show(struct web_req *r)
{
	json_object *c = NULL;
	const char *vals[1];
	char *title = NULL, *enc = NULL;

	vals[0] = r->args[0];
	if ((c = office_call(r, OFFICE_CERTIFICATE_SHOW, vals)) == NULL)
		return;
	title = xasprintf("%s %s", L(r, "Certificate", "Certificat"),
	    oj_str(c, "serial"));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, L(r, "Certificate", "Certificat"));
	web_raw(r, " <code>");
	web_text(r, oj_str(c, "serial"));
	web_raw(r, "</code> ");
	web_badge(r, oj_true(c, "revoked") ? "REVOKED" :
	    oj_true(c, "expired") ? "EXPIRED" : "VALID");
	web_raw(r, "</h1>\n<table class=\"fields\"><tbody>\n");
	office_row_begin(r, L(r, "Names", "Noms"));
	office_names(r, oj_arr(c, "names"));
	web_raw(r, "</td></tr>\n");
	office_row_begin(r, L(r, "Organization", "Organisation"));
	office_ref(r, "/office/organizations/", oj_str(c, "organization"),
	    oj_str(c, "organization_name"), 0, NULL);
	web_raw(r, "</td></tr>\n");
	office_row_begin(r, L(r, "External account", "Compte externe"));
	office_ref(r, "/office/external-accounts/",
	    oj_str(c, "external_account"), oj_str(c, "external_account_email"),
	    0, NULL);
	web_raw(r, "</td></tr>\n");
	office_row_begin(r, L(r, "ACME account", "Compte ACME"));
	web_raw(r, "<code>");
	office_link(r, "/office/acme-accounts/", oj_str(c, "acme_account"),
	    "", oj_str(c, "acme_account"));
	web_raw(r, "</code></td></tr>\n");
	office_row_date(r, L(r, "Valid from", "Valide à partir du"),
	    oj_str(c, "not_before"));
	office_row_date(r, L(r, "Expires", "Expire"), oj_str(c, "not_after"));
	office_row(r, L(r, "Order", "Commande"), oj_str(c, "order"));
	office_row(r, L(r, "Identifier", "Identifiant"), oj_str(c, "id"));
	office_row_date(r, L(r, "Renewal asked from",
	    "Renouvellement demandé dès"), oj_str(c, "renew_after"));
	if (oj_true(c, "revoked")) {
		office_row_begin(r, L(r, "Revoked", "Révoqué"));
		office_date(r, oj_str(c, "revoked_at"));
		web_raw(r, " ");
		office_text_or_dash(r, oj_str(c, "revoked_by"));
		web_raw(r, "</td></tr>\n");
		office_row(r, L(r, "Reason", "Motif"), reason_label(r,
		    oj_str(c, "revocation_reason")));
	}
	web_raw(r, "</tbody></table>\n");
	if (!oj_true(c, "revoked")) {
		enc = office_urlencode(oj_str(c, "id"));
		cert_revoke_form(r, enc);
	}
	if (oj_str(c, "pem_chain") != NULL && *oj_str(c, "pem_chain") !=
	    '\0') {
		web_raw(r, "<section id=\"pem\"><h2>");
		web_text(r, L(r, "Certificate chain (PEM)",
		    "Chaîne de certificats (PEM)"));
		web_raw(r, "</h2>\n<pre>");
		web_text(r, oj_str(c, "pem_chain"));
		web_raw(r, "</pre></section>\n");
	}
	page_end(r);
	free(enc);
	free(title);
	json_object_put(c);
}

void
office_cert_revoke(struct web_req *r)
{
	json_object *doc = NULL;
	const char *reason = web_form(r, "reason"), *vals[2];
	char *msg = NULL, *url = NULL, *enc = NULL;

	if (!office_reason_ok(reason)) {
		web_error(r, 400, L(r, "Choose a revocation reason.",
		    "Choisissez un motif de révocation."));
		return;
	}
	vals[0] = r->args[0];
	vals[1] = reason;
	if ((doc = office_call(r, OFFICE_CERTIFICATE_REVOKE, vals)) == NULL)
		return;
	msg = xasprintf("%s %s", L(r, "Certificate revoked:",
	    "Certificat révoqué :"), oj_str(doc, "serial"));
	web_flash(r, msg);
	enc = office_urlencode(oj_str(doc, "id"));
	url = xasprintf("/office/certificates/%s", enc);
	web_redirect(r, url);
	free(enc);
	free(msg);
	free(url);
	json_object_put(doc);
}
