/*
 * portal_home.c - the dashboard: where the organization, the account and
 * the documents stand, the figures (credit, domains, ACME accounts,
 * certificates) and what to do next.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal_pages.h"

/* Returns the explanation of an organization's status (borrowed). */
static const char *
org_status_text(const struct web_req *r, const char *status)
{
	if (status == NULL)
		return "";
	if (strcmp(status, "PENDING") == 0)
		return L(r, "The CA checks your organization's documents "
		    "before it validates the organization.", "L'AC vérifie "
		    "les documents de votre organisation avant de la valider.");
	if (strcmp(status, "VALID") == 0)
		return L(r, "Your organization is validated.",
		    "Votre organisation est validée.");
	return L(r, "Your organization cannot get certificates: contact us.",
	    "Votre organisation ne peut pas obtenir de certificats : "
	    "contactez-nous.");
}

/* Returns the explanation of an external account's status (borrowed). */
static const char *
account_status_text(const struct web_req *r, const char *status)
{
	if (status == NULL)
		return "";
	if (strcmp(status, "PENDING") == 0)
		return L(r, "Your account is activated once the CA has "
		    "validated your organization and its documents.", "Votre "
		    "compte est activé quand l'AC a validé votre organisation "
		    "et ses documents.");
	if (strcmp(status, "VALID") == 0)
		return L(r, "Your account is active: you can create ACME "
		    "accounts.", "Votre compte est actif : vous pouvez créer "
		    "des comptes ACME.");
	return L(r, "Your account cannot create ACME accounts: contact us.",
	    "Votre compte ne peut pas créer de comptes ACME : "
	    "contactez-nous.");
}

/* Returns what a required document's state asks of the customer, or
 * NULL when nothing (borrowed). */
static const char *
doc_state_text(const struct web_req *r, const char *state)
{
	if (state == NULL || strcmp(state, "VALID") == 0)
		return NULL;
	if (strcmp(state, "PENDING") == 0)
		return L(r, "received, being checked by the CA",
		    "reçu, en cours de vérification par l'AC");
	if (strcmp(state, "REJECTED") == 0)
		return L(r, "rejected: please send a new one",
		    "refusé : merci d'en envoyer un nouveau");
	if (strcmp(state, "EXPIRED") == 0)
		return L(r, "expired: please send a new one",
		    "expiré : merci d'en envoyer un nouveau");
	return L(r, "not received: please send it",
	    "non reçu : merci de l'envoyer");
}

/* Appends one "next step": a sentence and a link (or none). */
static void
step(struct web_req *r, const char *text, const char *href,
    const char *link)
{
	web_raw(r, "<li>");
	web_text(r, text);
	if (href != NULL) {
		web_raw(r, " <a href=\"");
		web_raw(r, href);
		web_raw(r, "\">");
		web_text(r, link);
		web_raw(r, "</a>");
	}
	web_raw(r, "</li>\n");
}

/* Appends the next steps the dashboard's figures call for. */
static void
next_steps(struct web_req *r, json_object *doc)
{
	json_object *org = pj_obj(doc, "organization"),
	    *acct = pj_obj(doc, "account"), *docs = pj_arr(doc, "documents"),
	    *dom = pj_obj(doc, "domains"), *acme = pj_obj(doc,
	    "acme_accounts"), *certs = pj_obj(doc, "certificates"), *d;
	const char *ostatus = pj_str(org, "status"),
	    *astatus = pj_str(acct, "status"), *state;
	int n = 0, waiting = 0, closed;
	size_t i;

	closed = ostatus == NULL || (strcmp(ostatus, "PENDING") != 0 &&
	    strcmp(ostatus, "VALID") != 0);
	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Next steps", "Prochaines étapes"));
	web_raw(r, "</h2>\n<ol>\n");
	if (closed) {
		step(r, L(r, "Your organization is suspended, expired or "
		    "revoked: contact the CA.", "Votre organisation est "
		    "suspendue, expirée ou révoquée : contactez l'AC."), NULL,
		    NULL);
		n++;
		goto done;
	}
	for (i = 0; i < pj_len(docs); i++) {
		d = pj_idx(docs, i);
		state = pj_str(d, "state");
		if (state != NULL && strcmp(state, "PENDING") == 0)
			waiting = 1;
		if (state == NULL || strcmp(state, "VALID") == 0 ||
		    strcmp(state, "PENDING") == 0)
			continue;
		web_raw(r, "<li>");
		web_text(r, L(r, "Send the document:", "Envoyez le document :"));
		web_raw(r, " <strong>");
		web_text(r, pp_kind_label(r, pj_str(d, "kind")));
		web_raw(r, "</strong> (");
		web_text(r, doc_state_text(r, state));
		web_raw(r, "). <a href=\"/documents\">");
		web_text(r, L(r, "Documents", "Documents"));
		web_raw(r, "</a></li>\n");
		n++;
	}
	if (pj_int(dom, "valid") + pj_int(dom, "pending") == 0) {
		step(r, L(r, "Declare the domains your certificates will name.",
		    "Déclarez les domaines que vos certificats nommeront."),
		    "/organization", L(r, "Organization", "Organisation"));
		n++;
	}
	if (pj_int(dom, "valid") == 0 && pj_int(dom, "pending") > 0 &&
	    !waiting && strcmp(ostatus, "PENDING") != 0) {
		step(r, L(r, "Wait for the CA to check your domains: "
		    "certificates name validated domains only.", "Attendez que "
		    "l'AC vérifie vos domaines : les certificats ne nomment que "
		    "des domaines validés."), "/organization", L(r,
		    "Organization", "Organisation"));
		n++;
	}
	if (waiting || strcmp(ostatus, "PENDING") == 0) {
		step(r, L(r, "Wait for the CA to check your documents and "
		    "validate your organization; you get an e-mail when "
		    "something is missing.", "Attendez que l'AC vérifie vos "
		    "documents et valide votre organisation ; un courriel vous "
		    "prévient s'il manque quelque chose."), NULL, NULL);
		n++;
	}
	if (astatus != NULL && strcmp(astatus, "VALID") == 0) {
		if (pj_int(acme, "valid") == 0) {
			step(r, L(r, "Create an ACME account and use its key "
			    "with your ACME client.", "Créez un compte ACME et "
			    "utilisez sa clé avec votre client ACME."),
			    "/accounts/new", L(r, "New ACME account",
			    "Nouveau compte ACME"));
			n++;
		}
		if (pj_int(doc, "credit") <= 0) {
			step(r, L(r, "Your credit is used up: each certificate "
			    "costs credit. Contact the CA to add some.", "Votre "
			    "crédit est épuisé : chaque certificat coûte du "
			    "crédit. Contactez l'AC pour en ajouter."),
			    "/credit", L(r, "Credit", "Crédit"));
			n++;
		}
	}
	if (pj_int(certs, "expiring") > 0) {
		web_raw(r, "<li>");
		if (r->lang == LANG_FR)
			web_textf(r, "%lld certificat(s) expire(nt) dans les "
			    "30 jours : vérifiez que votre client ACME les "
			    "renouvelle.", pj_int(certs, "expiring"));
		else
			web_textf(r, "%lld certificate(s) expire within 30 "
			    "days: check that your ACME client renews them.",
			    pj_int(certs, "expiring"));
		web_raw(r, " <a href=\"/certificates\">");
		web_text(r, L(r, "Certificates", "Certificats"));
		web_raw(r, "</a></li>\n");
		n++;
	}
done:
	if (n == 0)
		step(r, L(r, "Everything is ready: your ACME clients can order "
		    "certificates.", "Tout est prêt : vos clients ACME peuvent "
		    "commander des certificats."), NULL, NULL);
	web_raw(r, "</ol>\n</section>\n");
}

/* Appends one figure of the dashboard: <dt>LABEL</dt><dd>VALUE</dd>. */
static void
figure(struct web_req *r, const char *label, long long value,
    const char *href)
{
	web_raw(r, "<dt>");
	web_text(r, label);
	web_raw(r, "</dt><dd>");
	if (href != NULL) {
		web_raw(r, "<a href=\"");
		web_raw(r, href);
		web_raw(r, "\">");
	}
	web_textf(r, "%lld", value);
	if (href != NULL)
		web_raw(r, "</a>");
	web_raw(r, "</dd>\n");
}

void
portal_dashboard(struct web_req *r)
{
	json_object *doc, *org, *acct, *docs, *d, *dom, *acme, *certs;
	const char *state;
	size_t i;

	if ((doc = pp_load_own(r, PORTAL_DASHBOARD, NULL)) == NULL)
		return;
	org = pj_obj(doc, "organization");
	acct = pj_obj(doc, "account");
	docs = pj_arr(doc, "documents");
	dom = pj_obj(doc, "domains");
	acme = pj_obj(doc, "acme_accounts");
	certs = pj_obj(doc, "certificates");

	pp_page(r, L(r, "Dashboard", "Tableau de bord"));
	next_steps(r, doc);

	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Organization", "Organisation"));
	web_raw(r, "</h2>\n<p><strong>");
	web_text(r, pj_str(org, "name"));
	web_raw(r, "</strong> ");
	pp_badge(r, pj_str(org, "status"));
	web_raw(r, "</p>\n<p class=\"muted\">");
	web_text(r, org_status_text(r, pj_str(org, "status")));
	web_raw(r, "</p>\n<h2>");
	web_text(r, L(r, "Your account", "Votre compte"));
	web_raw(r, "</h2>\n<p>");
	web_text(r, pj_str(acct, "email"));
	web_raw(r, " ");
	pp_badge(r, pj_str(acct, "status"));
	if (pj_str(acct, "expires_at") != NULL) {
		web_raw(r, " <span class=\"muted\">");
		web_text(r, L(r, "until", "jusqu'au"));
		web_raw(r, " ");
		pp_day(r, pj_str(acct, "expires_at"));
		web_raw(r, "</span>");
	}
	web_raw(r, "</p>\n<p class=\"muted\">");
	web_text(r, account_status_text(r, pj_str(acct, "status")));
	web_raw(r, "</p>\n</section>\n");

	web_raw(r, "<h2>");
	web_text(r, L(r, "Required documents", "Documents requis"));
	web_thead(r, "</h2>\n<table>\n<thead><tr><th>",
	    "</th></tr></thead>\n<tbody>\n", L(r, "Document", "Document"),
	    L(r, "State", "État"), L(r, "Note", "Remarque"), NULL);
	for (i = 0; i < pj_len(docs); i++) {
		d = pj_idx(docs, i);
		state = pj_str(d, "state");
		web_raw(r, "<tr><td>");
		web_text(r, pp_kind_label(r, pj_str(d, "kind")));
		web_raw(r, "</td><td>");
		pp_badge(r, state);
		web_raw(r, "</td><td>");
		if (state != NULL && strcmp(state, "VALID") != 0)
			web_text(r, doc_state_text(r, state));
		if (state != NULL && strcmp(state, "REJECTED") == 0 &&
		    pj_str(d, "reason") != NULL) {
			web_raw(r, " &mdash; ");
			web_text(r, pj_str(d, "reason"));
		}
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
	if (pj_int(doc, "documents_rejected") > 0) {
		web_raw(r, "<p>");
		web_text(r, L(r, "Some documents were rejected: see why on the",
		    "Des documents ont été refusés : voyez pourquoi sur la "
		    "page"));
		web_raw(r, " <a href=\"/documents\">");
		web_text(r, L(r, "Documents page", "Documents"));
		web_raw(r, "</a>.</p>\n");
	}

	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Figures", "Chiffres"));
	web_raw(r, "</h2>\n<dl>\n");
	figure(r, L(r, "Credit", "Crédit"), pj_int(doc, "credit"), "/credit");
	figure(r, L(r, "Validated domains", "Domaines validés"),
	    pj_int(dom, "valid"), "/organization");
	figure(r, L(r, "Domains being checked", "Domaines en vérification"),
	    pj_int(dom, "pending"), "/organization");
	figure(r, L(r, "ACME accounts", "Comptes ACME"), pj_int(acme, "total"),
	    "/accounts");
	figure(r, L(r, "Valid ACME accounts", "Comptes ACME valides"),
	    pj_int(acme, "valid"), "/accounts");
	figure(r, L(r, "Certificates in force", "Certificats en vigueur"),
	    pj_int(certs, "valid"), "/certificates");
	figure(r, L(r, "Certificates issued", "Certificats émis"),
	    pj_int(certs, "total"), "/certificates");
	web_raw(r, "</dl>\n</section>\n");
	page_end(r);
	json_object_put(doc);
}
