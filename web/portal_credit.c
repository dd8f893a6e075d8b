/*
 * portal_credit.c - the organization's credit (balance and ledger) and
 * the e-mails sent to the customer (list and one message).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "portal_pages.h"

/* Writes the LIMIT and OFFSET of the page of the query. */
static long
page_window(const struct web_req *r, char limit[16], char offset[24])
{
	long page = pp_page_number(r);

	snprintf(limit, 16, "%d", PORTAL_PAGE_ROWS);
	snprintf(offset, 24, "%ld", (page - 1) * PORTAL_PAGE_ROWS);
	return page;
}

void
portal_credit_get(struct web_req *r)
{
	json_object *doc, *entries, *e;
	const char *vals[3], *reason;
	char xa[24], limit[16], offset[24];
	long page = page_window(r, limit, offset);
	long long delta;
	size_t i;

	pp_xa(r, xa);
	vals[0] = xa;
	vals[1] = limit;
	vals[2] = offset;
	if ((doc = pp_load(r, PORTAL_CREDIT, vals)) == NULL)
		return;
	entries = pj_arr(doc, "entries");
	pp_page(r, L(r, "Credit", "Crédit"));
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "Balance:", "Solde :"));
	web_raw(r, " <strong>");
	web_textf(r, "%lld", pj_int(doc, "balance"));
	web_raw(r, "</strong></p>\n<p class=\"muted\">");
	web_text(r, L(r, "Each certificate issued takes the cost of its "
	    "profile from the balance; an order is refused when the balance "
	    "is too low. Contact the CA to add credit.", "Chaque certificat "
	    "émis retire le coût de son profil du solde ; une commande est "
	    "refusée quand le solde est insuffisant. Contactez l'AC pour "
	    "ajouter du crédit."));
	web_raw(r, "</p>\n</section>\n<h2>");
	web_text(r, L(r, "Ledger", "Mouvements"));
	web_raw(r, "</h2>\n");
	if (pj_len(entries) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No movement yet.",
		    "Aucun mouvement pour l'instant."));
		web_raw(r, "</p>\n");
		goto done;
	}
	web_raw(r, "<table>\n<thead><tr><th>");
	web_text(r, L(r, "Date", "Date"));
	web_raw(r, "</th><th class=\"num\">");
	web_text(r, L(r, "Change", "Mouvement"));
	web_raw(r, "</th><th class=\"num\">");
	web_text(r, L(r, "Balance", "Solde"));
	web_raw(r, "</th><th>");
	web_text(r, L(r, "Reason", "Motif"));
	web_raw(r, "</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < pj_len(entries); i++) {
		e = pj_idx(entries, i);
		delta = pj_int(e, "delta");
		reason = pj_str(e, "reason");
		web_raw(r, "<tr><td>");
		pp_date(r, pj_str(e, "at"));
		web_raw(r, "</td><td class=\"num\">");
		web_textf(r, "%+lld", delta);
		web_raw(r, "</td><td class=\"num\">");
		web_textf(r, "%lld", pj_int(e, "balance_after"));
		web_raw(r, "</td><td>");
		if (reason != NULL && strcmp(reason, "certificate") == 0)
			web_text(r, L(r, "certificate", "certificat"));
		else
			pp_text_or_dash(r, reason);
		if (pj_str(e, "certificate") != NULL) {
			web_raw(r, " ");
			pp_link(r, "/certificates/", pj_str(e, "certificate"),
			    NULL, pj_str(e, "serial"));
		}
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
	pp_pager(r, "/credit", NULL, page, pj_int(doc, "total"));
done:
	page_end(r);
	json_object_put(doc);
}

/* Returns what a kind of message is about (borrowed). */
static const char *
kind_label(const struct web_req *r, const char *kind)
{
	static const struct {
		const char	*kind, *en, *fr;
	} kinds[] = {
		{ "certificates_issued", "Certificates issued",
		    "Certificats émis" },
		{ "missing_documents", "Missing documents",
		    "Documents manquants" },
		{ "expiring_documents", "Documents about to expire",
		    "Documents bientôt expirés" },
		{ "expiring_certificates", "Certificates about to expire",
		    "Certificats bientôt expirés" },
		{ "email_confirmation", "Address confirmation",
		    "Confirmation d'adresse" },
		{ "password_reset", "Password reset",
		    "Nouveau mot de passe" },
	};
	size_t i;

	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return L(r, kinds[i].en, kinds[i].fr);
	return kind != NULL ? kind : "";
}

void
portal_notifications_get(struct web_req *r)
{
	json_object *doc, *items, *m;
	const char *vals[3];
	char xa[24], limit[16], offset[24];
	long page = page_window(r, limit, offset);
	size_t i;

	pp_xa(r, xa);
	vals[0] = xa;
	vals[1] = limit;
	vals[2] = offset;
	if ((doc = pp_load(r, PORTAL_OUTBOX_LIST, vals)) == NULL)
		return;
	items = pj_arr(doc, "items");
	pp_page(r, L(r, "E-mails", "Courriels"));
	web_raw(r, "<p class=\"muted\">");
	web_text(r, L(r, "The messages the CA sent to your address.",
	    "Les messages que l'AC a envoyés à votre adresse."));
	web_raw(r, "</p>\n");
	if (pj_len(items) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No message yet.",
		    "Aucun message pour l'instant."));
		web_raw(r, "</p>\n");
		goto done;
	}
	web_thead(r, "<table>\n<thead><tr><th>",
	    "</th></tr></thead>\n<tbody>\n", L(r, "Date", "Date"),
	    L(r, "Subject", "Objet"), L(r, "About", "Sujet"),
	    L(r, "Delivery", "Envoi"), NULL);
	for (i = 0; i < pj_len(items); i++) {
		m = pj_idx(items, i);
		web_raw(r, "<tr><td>");
		pp_date(r, pj_str(m, "created_at"));
		web_raw(r, "</td><td>");
		pp_link(r, "/notifications/", pj_str(m, "id"), NULL,
		    pj_str(m, "subject"));
		web_raw(r, "</td><td>");
		web_text(r, kind_label(r, pj_str(m, "kind")));
		web_raw(r, "</td><td>");
		pp_badge(r, pj_str(m, "status"));
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
	pp_pager(r, "/notifications", NULL, page, pj_int(doc, "total"));
done:
	page_end(r);
	json_object_put(doc);
}

void
portal_notification_get(struct web_req *r)
{
	json_object *doc;
	const char *id = r->args[0];
	size_t i;

	for (i = 0; id[i] != '\0'; i++)
		if (id[i] < '0' || id[i] > '9')
			break;
	if (i == 0 || id[i] != '\0' || i > 18) {
		web_error(r, 404, pp_refusal_text(r, "no_message"));
		return;
	}
	if ((doc = pp_load_own(r, PORTAL_OUTBOX_SHOW, id)) == NULL)
		return;
	pp_page(r, pj_str(doc, "subject"));
	web_raw(r, "<section>\n<dl>\n<dt>");
	web_text(r, L(r, "To", "À"));
	web_raw(r, "</dt><dd>");
	web_text(r, pj_str(doc, "recipient"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Date", "Date"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "created_at"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "About", "Sujet"));
	web_raw(r, "</dt><dd>");
	web_text(r, kind_label(r, pj_str(doc, "kind")));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Delivery", "Envoi"));
	web_raw(r, "</dt><dd>");
	pp_badge(r, pj_str(doc, "status"));
	if (pj_str(doc, "sent_at") != NULL) {
		web_raw(r, " ");
		pp_date(r, pj_str(doc, "sent_at"));
	}
	web_raw(r, "</dd>\n</dl>\n</section>\n");
	if (pj_true(doc, "hidden")) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "This message carries a one-time link: its "
		    "text is shown only in your mailbox.", "Ce message "
		    "contient un lien à usage unique : son texte n'est visible "
		    "que dans votre messagerie."));
		web_raw(r, "</p>\n");
	} else {
		web_raw(r, "<pre>");
		web_text(r, pj_str(doc, "body"));
		web_raw(r, "</pre>\n");
	}
	web_raw(r, "<p><a href=\"/notifications\">");
	web_text(r, L(r, "All e-mails", "Tous les courriels"));
	web_raw(r, "</a></p>\n");
	page_end(r);
	json_object_put(doc);
}
