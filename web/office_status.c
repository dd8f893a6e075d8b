/*
 * office_status.c - status changes of organizations, external accounts
 * and ACME accounts. An action that takes away the right to order
 * certificates (suspend, expire, deactivate, revoke) goes through a
 * preview page saying exactly what it cascades to ("This revokes 12
 * unexpired certificates of 3 ACME accounts", counted by the database as
 * the revocation cascade will revoke them), whose form posts the change
 * with confirmed=1; the page after it shows what the database did. Other
 * actions (validate, activate...) are one button and come back to the
 * object's page with a notice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "office_pages.h"

/* What each object's status change calls. */
static const enum office_call set_status_calls[OBJ__MAX] = {
	[OBJ_ORGANIZATION] = OFFICE_ORGANIZATION_SET_STATUS,
	[OBJ_EXTERNAL_ACCOUNT] = OFFICE_EXTERNAL_ACCOUNT_SET_STATUS,
	[OBJ_ACME_ACCOUNT] = OFFICE_ACME_ACCOUNT_SET_STATUS,
};

/* Returns 1 if id names an object of obj (an id or a kid). */
static int
object_id_ok(enum office_object obj, const char *id)
{
	return obj == OBJ_ACME_ACCOUNT ? office_uuid_ok(id) : office_id_ok(id);
}

static void
not_found(struct web_req *r, enum office_object obj)
{
	web_error(r, 404, office_object_missing(r, obj));
}

/* Appends "N thing(s)" with the singular or plural noun. */
static void
count_text(struct web_req *r, long long n, const char *one,
    const char *many)
{
	web_textf(r, "%lld %s", n, n == 1 ? one : many);
}

/* Appends the sentences saying what a preview's change cascades to. */
static void
preview_consequences(struct web_req *r, enum office_object obj,
    json_object *p)
{
	const char *to = oj_str(p, "status");
	long long certs = oj_int(p, "certificates_revoked");
	long long accounts = oj_int(p, "certificates_acme_accounts");
	long long live = oj_int(p, "live_certificates");
	long long blocked = oj_int(p, "acme_accounts_blocked");
	int revokes = to != NULL && strcmp(to, "REVOKED") == 0 &&
	    obj != OBJ_ORGANIZATION;

	web_raw(r, "<ul class=\"consequences\">\n<li><strong>");
	if (revokes && certs > 0) {
		web_text(r, L(r, "This revokes", "Cela révoque"));
		web_raw(r, " ");
		count_text(r, certs, L(r, "unexpired certificate",
		    "certificat non expiré"), L(r, "unexpired certificates",
		    "certificats non expirés"));
		web_raw(r, " ");
		web_text(r, L(r, "of", "de"));
		web_raw(r, " ");
		count_text(r, accounts, L(r, "ACME account", "compte ACME"),
		    L(r, "ACME accounts", "comptes ACME"));
		web_text(r, L(r, " (reason: privilegeWithdrawn).",
		    " (motif : privilegeWithdrawn)."));
	} else if (revokes) {
		web_text(r, L(r, "No certificate is revoked: none is both "
		    "unexpired and unrevoked.", "Aucun certificat n'est "
		    "révoqué : aucun n'est à la fois non expiré et non "
		    "révoqué."));
	} else {
		web_text(r, L(r, "No certificate is revoked.",
		    "Aucun certificat n'est révoqué."));
		if (live > 0) {
			web_raw(r, " ");
			web_text(r, L(r, "Unexpired certificates that stay "
			    "valid:", "Certificats non expirés qui restent "
			    "valides :"));
			web_textf(r, " %lld.", live);
		}
	}
	web_raw(r, "</strong></li>\n");
	if (blocked > 0) {
		web_raw(r, "<li>");
		count_text(r, blocked, L(r, "ACME account", "compte ACME"),
		    L(r, "ACME accounts", "comptes ACME"));
		web_raw(r, " ");
		web_text(r, blocked == 1 ? L(r, "can no longer order "
		    "certificates.", "ne peut plus commander de certificats.") :
		    L(r, "can no longer order certificates.",
		    "ne peuvent plus commander de certificats."));
		web_raw(r, "</li>\n");
	}
	if (to != NULL && (strcmp(to, "REVOKED") == 0 ||
	    strcmp(to, "DEACTIVATED") == 0)) {
		web_raw(r, "<li>");
		web_text(r, L(r, "There is no way back from this status.",
		    "Il n'y a pas de retour possible depuis ce statut."));
		web_raw(r, "</li>\n");
	}
	web_raw(r, "</ul>\n");
}

/* Returns 1 if the object's id and the action are well formed, else 0
 * after rendering the error page (404, 400). */
static int
status_args_ok(struct web_req *r, enum office_object obj, const char *id,
    const char *action)
{
	if (!object_id_ok(obj, id)) {
		not_found(r, obj);
		return 0;
	}
	if (action == NULL || *action == '\0') {
		web_error(r, 400, L(r, "Choose an action.",
		    "Choisissez une action."));
		return 0;
	}
	return 1;
}

/* GET BASE/ID/confirm?action=A: what the change would do, and the form
 * that makes it. */
static void
status_confirm(struct web_req *r, enum office_object obj)
{
	json_object *p = NULL;
	const char *id = r->args[0], *action = web_query(r, "action");
	const char *vals[3];
	char *title = NULL, *url = NULL, *enc = NULL;

	if (!status_args_ok(r, obj, id, action))
		return;
	vals[0] = office_object_type(obj);
	vals[1] = id;
	vals[2] = action;
	if ((p = office_call(r, OFFICE_PREVIEW, vals)) == NULL)
		return;
	title = xasprintf("%s %s%s %s", office_object_label(r, obj), id,
	    L(r, ":", " :"), office_action_label(r, action));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, title);
	web_raw(r, "</h1>\n<p>");
	if (oj_str(p, "name") != NULL) {
		web_text(r, oj_str(p, "name"));
		web_text(r, L(r, ": ", " : "));
	}
	web_badge(r, oj_str(p, "from"));
	web_raw(r, " &rarr; ");
	web_badge(r, oj_str(p, "status"));
	web_raw(r, "</p>\n");
	preview_consequences(r, obj, p);
	enc = office_urlencode(id);
	url = xasprintf("%s%s/status", office_object_base(obj), enc);
	form_begin(r, url, 0);
	office_hidden(r, "action", action);
	office_hidden(r, "confirmed", "1");
	office_danger_submit(r, office_action_label(r, action));
	web_raw(r, "</form>\n<p>");
	office_link(r, office_object_base(obj), id, "",
	    L(r, "Cancel", "Annuler"));
	web_raw(r, "</p>\n");
	page_end(r);
	free(enc);
	free(url);
	free(title);
	json_object_put(p);
}

/* The page after a confirmed change: what the database did. */
static void
status_done(struct web_req *r, enum office_object obj, const char *id,
    json_object *doc)
{
	char *title;

	title = xasprintf("%s %s%s %s", office_object_label(r, obj), id,
	    L(r, ":", " :"),
	    office_action_label(r, oj_str(doc, "action") != NULL ?
	    oj_str(doc, "action") : ""));
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, title);
	web_raw(r, "</h1>\n<p>");
	web_text(r, L(r, "Done:", "Fait :"));
	web_raw(r, " ");
	web_badge(r, oj_str(doc, "from"));
	web_raw(r, " &rarr; ");
	web_badge(r, oj_str(doc, "status"));
	web_raw(r, "</p>\n");
	if (oj_str(doc, "certificates_revoked") != NULL) {
		web_raw(r, "<p><strong>");
		web_text(r, L(r, "Certificates revoked:",
		    "Certificats révoqués :"));
		web_textf(r, " %lld", oj_int(doc, "certificates_revoked"));
		web_raw(r, "</strong></p>\n");
	}
	web_raw(r, "<h2>");
	web_text(r, L(r, "What the database returned",
	    "Ce que la base de données a répondu"));
	web_raw(r, "</h2>\n");
	office_json_pre(r, doc);
	web_raw(r, "<p>");
	office_link(r, office_object_base(obj), id, "",
	    L(r, "Back to its page", "Retour à sa page"));
	web_raw(r, "</p>\n");
	page_end(r);
	free(title);
}

/* POST BASE/ID/status (action, confirmed). */
static void
status_change(struct web_req *r, enum office_object obj)
{
	json_object *doc = NULL;
	const char *id = r->args[0], *action = web_form(r, "action");
	const char *confirmed = web_form(r, "confirmed"), *vals[2];
	char *url = NULL, *enc = NULL, *aenc = NULL, *msg = NULL;

	if (!status_args_ok(r, obj, id, action))
		return;
	enc = office_urlencode(id);
	if (office_action_confirms(action) &&
	    (confirmed == NULL || strcmp(confirmed, "1") != 0)) {
		/* never without its preview */
		aenc = office_urlencode(action);
		url = xasprintf("%s%s/confirm?action=%s",
		    office_object_base(obj), enc, aenc);
		web_redirect(r, url);
		goto out;
	}
	vals[0] = id;
	vals[1] = action;
	if ((doc = office_call(r, set_status_calls[obj], vals)) == NULL)
		goto out;
	if (office_action_confirms(action)) {
		status_done(r, obj, id, doc);
		goto out;
	}
	msg = xasprintf("%s %s%s %s → %s", office_object_label(r, obj), id,
	    L(r, ":", " :"), oj_str(doc, "from"), oj_str(doc, "status"));
	web_flash(r, msg);
	url = xasprintf("%s%s", office_object_base(obj), enc);
	web_redirect(r, url);
out:
	free(msg);
	free(url);
	free(aenc);
	free(enc);
	json_object_put(doc);
}

void
office_org_confirm(struct web_req *r)
{
	status_confirm(r, OBJ_ORGANIZATION);
}

void
office_org_status(struct web_req *r)
{
	status_change(r, OBJ_ORGANIZATION);
}

void
office_xa_confirm(struct web_req *r)
{
	status_confirm(r, OBJ_EXTERNAL_ACCOUNT);
}

void
office_xa_status(struct web_req *r)
{
	status_change(r, OBJ_EXTERNAL_ACCOUNT);
}

void
office_acme_confirm(struct web_req *r)
{
	status_confirm(r, OBJ_ACME_ACCOUNT);
}

void
office_acme_status(struct web_req *r)
{
	status_change(r, OBJ_ACME_ACCOUNT);
}
