/*
 * portal_accounts.c - the ACME accounts (EAB credentials) of the
 * organization: list, creation (profile and domains) showing the key ID
 * and HMAC key once with command lines for the usual clients, detail,
 * key regeneration (shown once too), suspension and reactivation.
 *
 * The HMAC key exists in the clear only in the response that creates it:
 * the page says so, and is never stored by the browser (no-store).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "portal_pages.h"

/* At most this many names in the example command lines. */
#define COMMAND_NAMES	10

/* Returns the explanation of an acme_account_problem() code (borrowed),
 * or NULL for none. */
static const char *
problem_text(const struct web_req *r, const char *code)
{
	static const struct {
		const char	*code, *en, *fr;
	} texts[] = {
		{ "SUSPENDED_ACCOUNT", "This ACME account is suspended.",
		    "Ce compte ACME est suspendu." },
		{ "REVOKED_ACCOUNT", "This ACME account is revoked.",
		    "Ce compte ACME est révoqué." },
		{ "DEACTIVATED_ACCOUNT", "This ACME account is deactivated.",
		    "Ce compte ACME est désactivé." },
		{ "EXPIRED_ACCOUNT", "This ACME account has expired: "
		    "regenerate its key to use it again.", "Ce compte ACME a "
		    "expiré : régénérez sa clé pour l'utiliser de nouveau." },
		{ "PENDING_EXTERNAL_ACCOUNT", "Your account is not active yet.",
		    "Votre compte n'est pas encore actif." },
		{ "SUSPENDED_EXTERNAL_ACCOUNT", "Your account is suspended.",
		    "Votre compte est suspendu." },
		{ "EXPIRED_EXTERNAL_ACCOUNT", "Your account has expired.",
		    "Votre compte a expiré." },
		{ "REVOKED_EXTERNAL_ACCOUNT", "Your account is revoked.",
		    "Votre compte est révoqué." },
		{ "DEACTIVATED_EXTERNAL_ACCOUNT", "Your account is "
		    "deactivated.", "Votre compte est désactivé." },
		{ "ORGANIZATION_IS_NOT_VALID", "Your organization is not "
		    "validated.", "Votre organisation n'est pas validée." },
		{ "NO_VALID_ORGANIZATION_DOCUMENT_FOUND", "Your organization "
		    "has no valid proof of existence.", "Votre organisation "
		    "n'a pas de justificatif d'existence valide." },
		{ "NO_DOCUMENT_FORM_FOUND", "Your organization has no valid "
		    "signed request form.", "Votre organisation n'a pas de "
		    "formulaire de demande signé valide." },
	};
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].code, code) == 0)
			return L(r, texts[i].en, texts[i].fr);
	return code;
}

/* Appends the state of an ACME account's key. */
static void
key_state(struct web_req *r, json_object *a)
{
	if (pj_true(a, "key_unused") && pj_true(a, "key_expired")) {
		web_text(r, L(r, "unused, past its date", "inutilisée, "
		    "date dépassée"));
	} else if (pj_true(a, "key_unused")) {
		web_text(r, L(r, "unused, to use before", "inutilisée, à "
		    "utiliser avant le"));
		web_raw(r, " ");
		pp_date(r, pj_str(a, "key_expires_at"));
	} else {
		web_text(r, L(r, "used on", "utilisée le"));
		web_raw(r, " ");
		pp_date(r, pj_str(a, "bound_at"));
	}
}

/* Appends the domains of an account (a JSON array of {name, status}). */
static void
domain_list(struct web_req *r, json_object *domains, int badges)
{
	json_object *d;
	size_t i;

	if (pj_len(domains) == 0) {
		web_raw(r, "-");
		return;
	}
	for (i = 0; i < pj_len(domains); i++) {
		d = pj_idx(domains, i);
		if (i > 0)
			web_raw(r, badges ? "<br>" : ", ");
		web_raw(r, "<span class=\"mono\">");
		web_text(r, pj_str(d, "name"));
		web_raw(r, "</span>");
		if (badges) {
			web_raw(r, " ");
			pp_badge(r, pj_str(d, "status"));
		}
	}
}

void
portal_accounts_get(struct web_req *r)
{
	json_object *doc, *list, *a;
	const char *xstatus;
	size_t i;

	if ((doc = pp_load_own(r, PORTAL_ACME_ACCOUNT_LIST, NULL)) == NULL)
		return;
	list = pj_arr(doc, "accounts");
	xstatus = pj_str(doc, "external_status");
	pp_page(r, L(r, "ACME accounts", "Comptes ACME"));
	web_raw(r, "<p>");
	web_text(r, L(r, "An ACME account is the credential (key ID and HMAC "
	    "key, \"External Account Binding\") an ACME client registers "
	    "with. Each has a certificate profile and a list of domains; use "
	    "one per server or per team.", "Un compte ACME est l'identifiant "
	    "(ID de clé et clé HMAC, « External Account Binding ») avec "
	    "lequel un client ACME s'enregistre. Chacun a un profil de "
	    "certificat et une liste de domaines ; utilisez-en un par serveur "
	    "ou par équipe."));
	web_raw(r, "</p>\n");
	if (xstatus != NULL && strcmp(xstatus, "VALID") == 0) {
		web_raw(r, "<p><a href=\"/accounts/new\">");
		web_text(r, L(r, "New ACME account", "Nouveau compte ACME"));
		web_raw(r, "</a></p>\n");
	} else
		pp_error(r, pp_refusal_text(r, "external_account_not_valid"));
	if (pj_len(list) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No ACME account yet.",
		    "Aucun compte ACME pour l'instant."));
		web_raw(r, "</p>\n");
		goto done;
	}
	web_thead(r, "<table>\n<thead><tr><th>",
	    "</th></tr></thead>\n<tbody>\n", L(r, "Key ID", "ID de clé"),
	    L(r, "Profile", "Profil"), L(r, "Status", "Statut"),
	    L(r, "Domains", "Domaines"),
	    L(r, "Valid until", "Valable jusqu'au"), L(r, "Key", "Clé"), NULL);
	for (i = 0; i < pj_len(list); i++) {
		a = pj_idx(list, i);
		web_raw(r, "<tr><td class=\"mono\">");
		pp_link(r, "/accounts/", pj_str(a, "kid"), NULL,
		    pj_str(a, "kid"));
		web_raw(r, "</td><td>");
		web_text(r, pj_str(a, "profile"));
		web_raw(r, "</td><td>");
		pp_badge(r, pj_true(a, "expired") && strcmp(pj_str(a,
		    "status"), "VALID") == 0 ? "EXPIRED" : pj_str(a, "status"));
		web_raw(r, "</td><td>");
		domain_list(r, pj_arr(a, "domains"), 0);
		web_raw(r, "</td><td>");
		pp_day(r, pj_str(a, "expires_at"));
		web_raw(r, "</td><td>");
		key_state(r, a);
		web_raw(r, "</td></tr>\n");
	}
	web_raw(r, "</tbody>\n</table>\n");
done:
	page_end(r);
	json_object_put(doc);
}

/* ------------------------------------------------------------ creation */

/* Returns 1 if name is in the list of names (JSON array of strings). */
static int
names_have(json_object *names, const char *name)
{
	size_t i;

	for (i = 0; i < pj_len(names); i++)
		if (strcmp(json_object_get_string(pj_idx(names, i)), name) == 0)
			return 1;
	return 0;
}

/* Renders the new ACME account form: the checked domains and the new
 * names typed are kept after an error. */
static void
new_form(struct web_req *r, const char *error, json_object *checked,
    const char *profile, const char *newnames)
{
	json_object *doc, *profiles, *domains, *p, *d;
	const char *values[32], *labels[32];
	char *lab[32];
	size_t i, n = 0;

	memset(lab, 0, sizeof(lab));
	if ((doc = pp_load_own(r, PORTAL_ACME_ACCOUNT_FORM, NULL)) == NULL)
		return;
	pp_page(r, L(r, "New ACME account", "Nouveau compte ACME"));
	if (!pj_true(doc, "can_create")) {
		pp_error(r, pp_refusal_text(r, "external_account_not_valid"));
		web_raw(r, "<p><a href=\"/dashboard\">");
		web_text(r, L(r, "See what is missing on the dashboard",
		    "Voir ce qui manque sur le tableau de bord"));
		web_raw(r, "</a></p>\n");
		goto out;
	}
	pp_error(r, error);
	profiles = pj_arr(doc, "profiles");
	domains = pj_arr(doc, "domains");
	for (i = 0; i < pj_len(profiles) && n < 32; i++, n++) {
		p = pj_idx(profiles, i);
		values[n] = pj_str(p, "name");
		lab[n] = xasprintf("%s - %s", pj_str(p, "name"),
		    pj_str(p, "description"));
		labels[n] = lab[n];
	}
	form_begin(r, "/accounts/new", 0);
	form_select(r, "profile", L(r, "Certificate profile",
	    "Profil de certificat"), values, labels, n, profile);
	web_raw(r, "<p class=\"muted\">");
	web_text(r, L(r, "OV: names under your domains. OV_WILDCARD: "
	    "\"*.domain\" names only. RGS: every name must be listed exactly.",
	    "OV : noms sous vos domaines. OV_WILDCARD : noms « *.domaine » "
	    "seulement. RGS : chaque nom doit être listé exactement."));
	web_raw(r, "</p>\n<fieldset>\n<legend>");
	web_text(r, L(r, "Domains of your organization",
	    "Domaines de votre organisation"));
	web_raw(r, "</legend>\n");
	if (pj_len(domains) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "No domain declared yet: type names below.",
		    "Aucun domaine déclaré : saisissez des noms ci-dessous."));
		web_raw(r, "</p>\n");
	}
	if (pj_len(domains) > 0)
		web_raw(r, "<table>\n<tbody>\n");
	for (i = 0; i < pj_len(domains); i++) {
		d = pj_idx(domains, i);
		web_raw(r, "<tr><td><input type=\"checkbox\" name=\"domain\" "
		    "id=\"");
		web_textf(r, "domain-%zu", i);
		web_raw(r, "\" value=\"");
		web_text(r, pj_str(d, "name"));
		web_raw(r, names_have(checked, pj_str(d, "name")) ?
		    "\" checked></td><td><label for=\"" : "\"></td><td>"
		    "<label for=\"");
		web_textf(r, "domain-%zu", i);
		web_raw(r, "\" class=\"mono\">");
		web_text(r, pj_str(d, "name"));
		web_raw(r, "</label></td><td>");
		pp_badge(r, pj_str(d, "status"));
		web_raw(r, "</td></tr>\n");
	}
	if (pj_len(domains) > 0)
		web_raw(r, "</tbody>\n</table>\n");
	web_raw(r, "</fieldset>\n");
	pp_textarea(r, "names", L(r, "Other names, one per line (declared "
	    "for your organization, checked by the CA)", "Autres noms, un par "
	    "ligne (déclarés pour votre organisation, vérifiés par l'AC)"),
	    newnames, 3);
	web_raw(r, "<p class=\"muted\">");
	web_text(r, L(r, "The account is valid one year; its key must be "
	    "used within 30 days. The key is shown once, on the next page.",
	    "Le compte est valable un an ; sa clé doit être utilisée dans "
	    "les 30 jours. La clé est affichée une seule fois, à la page "
	    "suivante."));
	web_raw(r, "</p>\n");
	form_submit(r, L(r, "Create the ACME account",
	    "Créer le compte ACME"));
	web_raw(r, "</form>\n");
out:
	page_end(r);
	for (i = 0; i < n; i++)
		free(lab[i]);
	json_object_put(doc);
}

void
portal_account_new_get(struct web_req *r)
{
	new_form(r, NULL, NULL, NULL, NULL);
}

/* Renders the one page that shows an HMAC key: the credential, its
 * dates, and command lines for the usual clients. doc is the result of
 * the creation or regeneration; domains a JSON array of names or of
 * {name} objects. */
static void
key_page(struct web_req *r, json_object *doc, json_object *domains,
    int wildcard, const char *email, int regenerated)
{
	const char *names[COMMAND_NAMES];
	char *directory, *cmd, *own[COMMAND_NAMES];
	struct portal_eab eab;
	json_object *d;
	size_t i, n = 0;
	int c;

	memset(own, 0, sizeof(own));
	web_header(r, "Cache-Control: no-store, private");
	web_header(r, "Pragma: no-cache");
	directory = xasprintf("%s/directory", cfg_str(CFG_BASE_URL));
	for (i = 0; i < pj_len(domains) && n < COMMAND_NAMES; i++) {
		d = pj_idx(domains, i);
		names[n] = json_object_is_type(d, json_type_string) ?
		    json_object_get_string(d) : pj_str(d, "name");
		if (names[n] == NULL)
			continue;
		if (wildcard && strncmp(names[n], "*.", 2) != 0)
			names[n] = own[n] = xasprintf("*.%s", names[n]);
		n++;
	}
	pp_page(r, regenerated ? L(r, "New key of the ACME account",
	    "Nouvelle clé du compte ACME") : L(r, "ACME account created",
	    "Compte ACME créé"));
	web_raw(r, "<p class=\"error\" role=\"alert\"><strong>");
	web_text(r, L(r, "Copy the HMAC key now: it is shown only this once "
	    "and cannot be retrieved again.", "Copiez la clé HMAC maintenant : "
	    "elle n'est affichée que cette fois et ne pourra plus être "
	    "retrouvée."));
	web_raw(r, "</strong> ");
	web_text(r, L(r, "If you lose it before using it, wait for its date "
	    "to pass and regenerate it.", "Si vous la perdez avant de "
	    "l'utiliser, attendez que sa date soit dépassée et régénérez-la."));
	web_raw(r, "</p>\n<section>\n<dl>\n<dt>");
	web_text(r, L(r, "ACME directory", "Annuaire ACME"));
	web_raw(r, "</dt><dd class=\"mono\">");
	web_text(r, directory);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Key ID (EAB kid)", "ID de clé (EAB kid)"));
	web_raw(r, "</dt><dd class=\"mono\" id=\"kid\">");
	web_text(r, pj_str(doc, "kid"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "HMAC key (EAB)", "Clé HMAC (EAB)"));
	web_raw(r, "</dt><dd><div class=\"secret\" id=\"hmac\">");
	web_text(r, pj_str(doc, "hmac_key"));
	web_raw(r, "</div></dd>\n<dt>");
	web_text(r, L(r, "Use the key before", "Utiliser la clé avant le"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "key_expires_at"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Account valid until", "Compte valable jusqu'au"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "expires_at"));
	web_raw(r, "</dd>\n</dl>\n</section>\n<h2>");
	web_text(r, L(r, "Command lines", "Lignes de commande"));
	web_raw(r, "</h2>\n<p class=\"muted\">");
	web_text(r, L(r, "Ready to paste; replace the names with those your "
	    "certificate needs (within the account's domains) and the web "
	    "root with yours. Keys are RSA 3072 (2048 and 3072 are accepted).",
	    "Prêtes à coller ; remplacez les noms par ceux dont votre "
	    "certificat a besoin (dans les domaines du compte) et la racine "
	    "web par la vôtre. Les clés sont RSA 3072 (2048 et 3072 sont "
	    "acceptées)."));
	web_raw(r, "</p>\n");
	eab.directory = directory;
	eab.kid = pj_str(doc, "kid");
	eab.hmac = pj_str(doc, "hmac_key");
	eab.email = email;
	eab.names = names;
	eab.nnames = n;
	for (c = 0; c < PORTAL_CLIENT__MAX; c++) {
		cmd = portal_client_command((enum portal_client)c, &eab);
		web_raw(r, "<h3>");
		web_text(r, portal_client_name((enum portal_client)c));
		web_raw(r, "</h3>\n<pre><code>");
		web_text(r, cmd);
		web_raw(r, "</code></pre>\n");
		free(cmd);
	}
	web_raw(r, "<p>");
	pp_link(r, "/accounts/", pj_str(doc, "kid"), NULL, L(r,
	    "See the ACME account", "Voir le compte ACME"));
	web_raw(r, "</p>\n");
	page_end(r);
	for (i = 0; i < COMMAND_NAMES; i++)
		free(own[i]);
	free(directory);
}

/* Adds the names of a textarea (one or more per line, separated by
 * spaces or commas) to names, each normalized. Returns 1, or 0 with the
 * first bad one in *bad (new string). */
static int
names_add(json_object *names, const char *text, char **bad)
{
	char *copy, *tok, *save = NULL, norm[256];
	int rc = 1;

	if (text == NULL)
		return 1;
	copy = xstrdup(text);
	for (tok = strtok_r(copy, " ,;\t\r\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,;\t\r\n", &save)) {
		if (!portal_domain_normalize(tok, norm, 1)) {
			*bad = xstrdup(tok);
			rc = 0;
			break;
		}
		if (!names_have(names, norm))
			json_object_array_add(names,
			    json_object_new_string(norm));
	}
	free(copy);
	return rc;
}

void
portal_account_new_post(struct web_req *r)
{
	json_object *names = json_object_new_array(), *doc = NULL;
	const char *profile = web_form(r, "profile"), *text = web_form(r,
	    "names"), *vals[6];
	char *bad = NULL, *err = NULL, *kid = NULL, *hmac = NULL, xa[24],
	    norm[256];
	size_t i;

	for (i = 0; i < r->nform; i++) {
		if (strcmp(r->form[i].name, "domain") != 0)
			continue;
		if (!portal_domain_normalize(r->form[i].value, norm, 1)) {
			bad = xstrdup(r->form[i].value);
			break;
		}
		if (!names_have(names, norm))
			json_object_array_add(names,
			    json_object_new_string(norm));
	}
	if (bad == NULL)
		(void)names_add(names, text, &bad);
	if (bad != NULL) {
		err = xasprintf("%s %s", L(r, "Not a domain name:",
		    "Ce n'est pas un nom de domaine :"), bad);
		r->status = 400;
		new_form(r, err, names, profile, text);
		goto out;
	}
	if (pj_len(names) == 0) {
		r->status = 400;
		new_form(r, pp_refusal_text(r, "no_domain"), names, profile,
		    text);
		goto out;
	}
	kid = random_uuid4();
	hmac = portal_hmac_key_new();
	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = kid;
	vals[3] = hmac;
	vals[4] = profile;
	vals[5] = json_object_to_json_string_ext(names, JSON_C_TO_STRING_PLAIN);
	if ((doc = pp_change(r, PORTAL_ACME_ACCOUNT_CREATE, vals)) == NULL)
		goto out;
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		new_form(r, pp_refusal_text(r, portal_refused(doc)), names,
		    profile, text);
		goto out;
	}
	key_page(r, doc, pj_arr(doc, "domains"), pj_true(doc,
	    "profile_wildcard"), pj_str(doc, "owner"), 0);
out:
	json_object_put(names);
	json_object_put(doc);
	free(bad);
	free(err);
	free(kid);
	if (hmac != NULL) {
		memset(hmac, 0, strlen(hmac));
		free(hmac);
	}
}

/* -------------------------------------------------------------- detail */

/* Appends a one-button form posting to /accounts/KID/ACTION. */
static void
action_button(struct web_req *r, const char *kid, const char *action,
    const char *label, int danger)
{
	char *enc = portal_url_encode(kid), *url;

	url = xasprintf("/accounts/%s/%s", enc, action);
	form_begin(r, url, 0);
	web_raw(r, danger ? "<button type=\"submit\" class=\"danger\">" :
	    "<button type=\"submit\">");
	web_text(r, label);
	web_raw(r, "</button>\n</form>\n");
	free(url);
	free(enc);
}

/* Renders the detail page of an ACME account, with an error (or none). */
static void
detail_page(struct web_req *r, const char *error)
{
	json_object *doc, *accts, *a;
	const char *status, *kid, *problem;
	size_t i;

	if ((doc = pp_load_own(r, PORTAL_ACME_ACCOUNT_SHOW,
	    r->args[0])) == NULL)
		return;
	status = pj_str(doc, "status");
	kid = pj_str(doc, "kid");
	problem = pj_str(doc, "problem");
	pp_page(r, L(r, "ACME account", "Compte ACME"));
	pp_error(r, error);
	web_raw(r, "<section>\n<dl>\n<dt>");
	web_text(r, L(r, "Key ID", "ID de clé"));
	web_raw(r, "</dt><dd class=\"mono\">");
	web_text(r, kid);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Status", "Statut"));
	web_raw(r, "</dt><dd>");
	pp_badge(r, status);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Profile", "Profil"));
	web_raw(r, "</dt><dd>");
	web_text(r, pj_str(doc, "profile"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Created by", "Créé par"));
	web_raw(r, "</dt><dd>");
	pp_text_or_dash(r, pj_str(doc, "owner"));
	web_raw(r, ", ");
	pp_date(r, pj_str(doc, "created_at"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Valid until", "Valable jusqu'au"));
	web_raw(r, "</dt><dd>");
	pp_date(r, pj_str(doc, "expires_at"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Key", "Clé"));
	web_raw(r, "</dt><dd>");
	key_state(r, doc);
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Certificates issued", "Certificats émis"));
	web_raw(r, "</dt><dd>");
	web_textf(r, "%lld", pj_int(doc, "certificates"));
	web_raw(r, "</dd>\n<dt>");
	web_text(r, L(r, "Can order now", "Peut commander"));
	web_raw(r, "</dt><dd>");
	if (problem == NULL)
		web_text(r, L(r, "yes", "oui"));
	else {
		web_text(r, L(r, "no:", "non :"));
		web_raw(r, " ");
		web_text(r, problem_text(r, problem));
	}
	web_raw(r, "</dd>\n</dl>\n</section>\n<h2>");
	web_text(r, L(r, "Domains", "Domaines"));
	web_raw(r, "</h2>\n<p>");
	domain_list(r, pj_arr(doc, "domains"), 1);
	web_raw(r, "</p>\n<h2>");
	web_text(r, L(r, "ACME client accounts bound to it",
	    "Comptes de client ACME liés"));
	web_raw(r, "</h2>\n");
	accts = pj_arr(doc, "accounts");
	if (pj_len(accts) == 0) {
		web_raw(r, "<p class=\"muted\">");
		web_text(r, L(r, "None yet: no client registered with the key.",
		    "Aucun : aucun client ne s'est encore enregistré avec la "
		    "clé."));
		web_raw(r, "</p>\n");
	} else {
		web_thead(r, "<table>\n<thead><tr><th>",
		    "</th></tr></thead>\n<tbody>\n", L(r, "Account", "Compte"),
		    L(r, "Status", "Statut"),
		    L(r, "Registered", "Enregistré le"),
		    L(r, "Key thumbprint", "Empreinte de la clé"), NULL);
		for (i = 0; i < pj_len(accts); i++) {
			a = pj_idx(accts, i);
			web_raw(r, "<tr><td>");
			web_text(r, pj_str(a, "id"));
			web_raw(r, "</td><td>");
			pp_badge(r, pj_str(a, "status"));
			web_raw(r, "</td><td>");
			pp_date(r, pj_str(a, "created_at"));
			web_raw(r, "</td><td class=\"mono\">");
			web_text(r, pj_str(a, "thumbprint"));
			web_raw(r, "</td></tr>\n");
		}
		web_raw(r, "</tbody>\n</table>\n");
	}
	web_raw(r, "<h2>");
	web_text(r, L(r, "Actions", "Actions"));
	web_raw(r, "</h2>\n<div class=\"actions\">\n");
	if (pj_true(doc, "can_regenerate"))
		action_button(r, kid, "regenerate", L(r, "Regenerate the key",
		    "Régénérer la clé"), 0);
	if (status != NULL && strcmp(status, "VALID") == 0)
		action_button(r, kid, "suspend", L(r, "Suspend",
		    "Suspendre"), 1);
	if (status != NULL && strcmp(status, "SUSPENDED") == 0 &&
	    pj_true(doc, "suspended_by_customer"))
		action_button(r, kid, "reactivate", L(r, "Reactivate",
		    "Réactiver"), 0);
	web_raw(r, "</div>\n<p class=\"muted\">");
	if (status != NULL && strcmp(status, "SUSPENDED") == 0 &&
	    !pj_true(doc, "suspended_by_customer"))
		web_text(r, pp_refusal_text(r, "suspended_by_ca"));
	else if (pj_true(doc, "can_regenerate"))
		web_text(r, L(r, "Regenerating hands out a new key (shown "
		    "once), valid again one year; client accounts bound to the "
		    "old key stop working.", "Régénérer fournit une nouvelle "
		    "clé (affichée une fois), valable de nouveau un an ; les "
		    "comptes de client liés à l'ancienne clé cessent de "
		    "fonctionner."));
	else
		web_text(r, L(r, "The key can be regenerated once the account "
		    "expires, or once an unused key passes its date. A "
		    "suspended account orders nothing until reactivated.",
		    "La clé peut être régénérée quand le compte expire, ou "
		    "quand une clé inutilisée dépasse sa date. Un compte "
		    "suspendu ne commande rien jusqu'à sa réactivation."));
	web_raw(r, "</p>\n");
	page_end(r);
	json_object_put(doc);
}

void
portal_account_get(struct web_req *r)
{
	detail_page(r, NULL);
}

void
portal_account_regenerate(struct web_req *r)
{
	json_object *doc = NULL, *show = NULL;
	char *hmac = portal_hmac_key_new();

	if ((doc = pp_object_change(r, PORTAL_ACME_ACCOUNT_REGENERATE, hmac,
	    "no_acme_account", detail_page)) == NULL)
		goto out;
	/* the domains and the profile for the command lines */
	if ((show = pp_load_own(r, PORTAL_ACME_ACCOUNT_SHOW,
	    r->args[0])) == NULL)
		goto out;
	key_page(r, doc, pj_arr(show, "domains"), pj_true(show,
	    "profile_wildcard"), r->sess.email, 1);
out:
	json_object_put(doc);
	json_object_put(show);
	memset(hmac, 0, strlen(hmac));
	free(hmac);
}

/* Suspends or reactivates the ACME account of the path. */
static void
set_status(struct web_req *r, const char *action, const char *done)
{
	json_object *doc;
	char *enc, *url;

	if ((doc = pp_object_change(r, PORTAL_ACME_ACCOUNT_SET_STATUS, action,
	    "no_acme_account", detail_page)) == NULL)
		return;
	enc = portal_url_encode(r->args[0]);
	url = xasprintf("/accounts/%s", enc);
	web_flash(r, done);
	web_redirect(r, url);
	free(url);
	free(enc);
	json_object_put(doc);
}

void
portal_account_suspend(struct web_req *r)
{
	set_status(r, "suspend", L(r, "ACME account suspended: it orders "
	    "nothing until you reactivate it.", "Compte ACME suspendu : il "
	    "ne commande plus rien jusqu'à sa réactivation."));
}

void
portal_account_reactivate(struct web_req *r)
{
	set_status(r, "reactivate", L(r, "ACME account reactivated.",
	    "Compte ACME réactivé."));
}
