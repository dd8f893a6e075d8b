/*
 * portal.c - the customer's certificate manager: its routes and the
 * helpers its pages share (calls, refusals in the customer's language,
 * dates, badges, links, paginators).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonutil.h"
#include "office.h"
#include "portal_pages.h"

const struct web_route portal_routes[] = {
	{ AREA_PORTAL, "GET", "/", AUTH_ANON, portal_home },
	{ AREA_PORTAL, "GET", "/signup", AUTH_ANON, portal_signup_get },
	{ AREA_PORTAL, "POST", "/signup", AUTH_ANON, portal_signup_post },
	{ AREA_PORTAL, "GET", "/signup/resend", AUTH_ANON, portal_resend_get },
	{ AREA_PORTAL, "POST", "/signup/resend", AUTH_ANON,
	    portal_resend_post },
	{ AREA_PORTAL, "GET", "/confirm/*", AUTH_ANON, portal_confirm },
	{ AREA_PORTAL, "GET", "/login", AUTH_ANON, portal_login_get },
	{ AREA_PORTAL, "POST", "/login", AUTH_ANON, portal_login_post },
	{ AREA_PORTAL, "POST", "/logout", AUTH_CUSTOMER, portal_logout },
	{ AREA_PORTAL, "GET", "/password/forgot", AUTH_ANON,
	    portal_forgot_get },
	{ AREA_PORTAL, "POST", "/password/forgot", AUTH_ANON,
	    portal_forgot_post },
	{ AREA_PORTAL, "GET", "/password/reset/*", AUTH_ANON,
	    portal_reset_get },
	{ AREA_PORTAL, "POST", "/password/reset/*", AUTH_ANON,
	    portal_reset_post },
	{ AREA_PORTAL, "GET", "/dashboard", AUTH_CUSTOMER, portal_dashboard },
	{ AREA_PORTAL, "GET", "/organization", AUTH_CUSTOMER,
	    portal_organization_get },
	{ AREA_PORTAL, "POST", "/organization", AUTH_CUSTOMER,
	    portal_organization_post },
	{ AREA_PORTAL, "POST", "/organization/domains", AUTH_CUSTOMER,
	    portal_domain_post },
	{ AREA_PORTAL, "GET", "/documents", AUTH_CUSTOMER,
	    portal_documents_get },
	{ AREA_PORTAL, "POST", "/documents", AUTH_CUSTOMER,
	    portal_documents_post },
	{ AREA_PORTAL, "GET", "/documents/*/file", AUTH_CUSTOMER,
	    portal_document_file_get },
	{ AREA_PORTAL, "GET", "/accounts", AUTH_CUSTOMER,
	    portal_accounts_get },
	{ AREA_PORTAL, "GET", "/accounts/new", AUTH_CUSTOMER,
	    portal_account_new_get },
	{ AREA_PORTAL, "POST", "/accounts/new", AUTH_CUSTOMER,
	    portal_account_new_post },
	{ AREA_PORTAL, "GET", "/accounts/*", AUTH_CUSTOMER,
	    portal_account_get },
	{ AREA_PORTAL, "POST", "/accounts/*/regenerate", AUTH_CUSTOMER,
	    portal_account_regenerate },
	{ AREA_PORTAL, "POST", "/accounts/*/suspend", AUTH_CUSTOMER,
	    portal_account_suspend },
	{ AREA_PORTAL, "POST", "/accounts/*/reactivate", AUTH_CUSTOMER,
	    portal_account_reactivate },
	{ AREA_PORTAL, "GET", "/certificates", AUTH_CUSTOMER,
	    portal_certificates_get },
	{ AREA_PORTAL, "GET", "/certificates/*", AUTH_CUSTOMER,
	    portal_certificate_get },
	{ AREA_PORTAL, "GET", "/certificates/*/pem", AUTH_CUSTOMER,
	    portal_certificate_pem_get },
	{ AREA_PORTAL, "POST", "/certificates/*/revoke", AUTH_CUSTOMER,
	    portal_certificate_revoke },
	{ AREA_PORTAL, "GET", "/credit", AUTH_CUSTOMER, portal_credit_get },
	{ AREA_PORTAL, "GET", "/notifications", AUTH_CUSTOMER,
	    portal_notifications_get },
	{ AREA_PORTAL, "GET", "/notifications/*", AUTH_CUSTOMER,
	    portal_notification_get },
	{ AREA_PORTAL, "GET", "/settings", AUTH_CUSTOMER,
	    portal_settings_get },
	{ AREA_PORTAL, "POST", "/settings", AUTH_CUSTOMER,
	    portal_settings_post },
	{ AREA__MAX, NULL, NULL, AUTH_ANON, NULL }
};

/* The refusals of sql/011_portal.sql in the customer's words. */
static const struct {
	const char	*code;
	const char	*en, *fr;
} refusals[] = {
	{ "no_customer", "Your account was not found: please sign in again.",
	    "Votre compte est introuvable : veuillez vous reconnecter." },
	{ "bad_email", "This e-mail address is not valid.",
	    "Cette adresse électronique n'est pas valide." },
	{ "bad_language", "Choose English or French.",
	    "Choisissez le français ou l'anglais." },
	{ "bad_organization_name",
	    "The organization name must have 1 to 64 characters.",
	    "Le nom de l'organisation doit compter 1 à 64 caractères." },
	{ "bad_country", "The country must be an ISO 3166 code of two "
	    "letters (FR, BE, CH...).", "Le pays doit être un code ISO 3166 "
	    "de deux lettres (FR, BE, CH...)." },
	{ "bad_locality", "The state and the locality have at most 128 "
	    "characters.", "La région et la localité comptent au plus 128 "
	    "caractères." },
	{ "organization_name_taken", "An organization of this name already "
	    "has an account: ask its certificate manager to invite you, or "
	    "contact us.", "Une organisation de ce nom a déjà un compte : "
	    "demandez à son gestionnaire de certificats, ou contactez-nous." },
	{ "bad_token", "This link is not valid: it was already used or it "
	    "expired.", "Ce lien n'est pas valide : il a déjà servi ou il a "
	    "expiré." },
	{ "account_closed", "This account is closed.",
	    "Ce compte est fermé." },
	{ "email_taken", "Another account uses this address: contact us.",
	    "Un autre compte utilise cette adresse : contactez-nous." },
	{ "organization_not_pending", "The organization was validated: its "
	    "details can no longer be changed here. Contact us to change "
	    "them.", "L'organisation a été validée : ses informations ne "
	    "peuvent plus être modifiées ici. Contactez-nous pour les "
	    "changer." },
	{ "organization_closed", "The organization is suspended, expired or "
	    "revoked: contact us.", "L'organisation est suspendue, expirée ou "
	    "révoquée : contactez-nous." },
	{ "bad_domain", "This is not a domain name (like example.com).",
	    "Ce n'est pas un nom de domaine (comme exemple.fr)." },
	{ "too_many_domains", "Too many domains.", "Trop de domaines." },
	{ "domain_exists", "This domain is already declared.",
	    "Ce domaine est déjà déclaré." },
	{ "bad_document_kind", "Choose the kind of document.",
	    "Choisissez le type de document." },
	{ "domain_only_for_authorization", "Only a domain name authorization "
	    "names a domain.", "Seule une autorisation de nom de domaine "
	    "désigne un domaine." },
	{ "unknown_domain", "This domain is not one of your organization's: "
	    "declare it first.", "Ce domaine n'est pas un domaine de votre "
	    "organisation : déclarez-le d'abord." },
	{ "bad_reference", "The reference has at most 200 characters.",
	    "La référence compte au plus 200 caractères." },
	{ "empty_file", "The file is empty.", "Le fichier est vide." },
	{ "no_acme_account", "No such ACME account.",
	    "Compte ACME introuvable." },
	{ "no_certificate", "No such certificate.",
	    "Certificat introuvable." },
	{ "no_message", "No such message.", "Message introuvable." },
	{ "external_account_not_valid", "Your account is not active yet: "
	    "ACME accounts can be created once the CA has checked your "
	    "organization's documents and activated it.", "Votre compte n'est "
	    "pas encore actif : vous pourrez créer des comptes ACME quand "
	    "l'AC aura vérifié les documents de votre organisation et "
	    "l'aura activé." },
	{ "bad_profile", "Choose a certificate profile.",
	    "Choisissez un profil de certificat." },
	{ "no_domain", "Choose at least one domain.",
	    "Choisissez au moins un domaine." },
	{ "wildcard_needs_exact_names", "A \"*.\" name needs a profile that "
	    "lists every name (RGS); the wildcard profile takes plain domains.",
	    "Un nom « *. » demande un profil qui liste chaque nom (RGS) ; le "
	    "profil wildcard prend des domaines simples." },
	{ "domain_revoked", "One of these domains was revoked by the CA.",
	    "L'un de ces domaines a été révoqué par l'AC." },
	{ "acme_account_not_renewable", "This ACME account is suspended, "
	    "revoked or deactivated: its key cannot be regenerated.",
	    "Ce compte ACME est suspendu, révoqué ou désactivé : sa clé ne "
	    "peut pas être régénérée." },
	{ "key_still_usable", "The key of this ACME account is still valid: "
	    "a new one can be made once the account expires or its unused "
	    "key passes its date.", "La clé de ce compte ACME est encore "
	    "valable : une nouvelle pourra être créée quand le compte aura "
	    "expiré ou que sa clé inutilisée aura dépassé sa date." },
	{ "acme_account_not_valid", "Only a valid ACME account can be "
	    "suspended.", "Seul un compte ACME valide peut être suspendu." },
	{ "acme_account_not_suspended", "This ACME account is not suspended.",
	    "Ce compte ACME n'est pas suspendu." },
	{ "suspended_by_ca", "The CA suspended this ACME account: contact us "
	    "to reactivate it.", "L'AC a suspendu ce compte ACME : "
	    "contactez-nous pour le réactiver." },
	{ "bad_action", "Unknown action.", "Action inconnue." },
	{ "bad_reason", "Choose a revocation reason.",
	    "Choisissez un motif de révocation." },
	{ "already_revoked", "This certificate is already revoked.",
	    "Ce certificat est déjà révoqué." },
};

void
pp_xa(const struct web_req *r, char buf[24])
{
	snprintf(buf, 24, "%lld", r->sess.external_account_id);
}

const char *
pp_refusal_text(const struct web_req *r, const char *refused)
{
	size_t i;

	if (refused == NULL)
		return "";
	for (i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++)
		if (strcmp(refusals[i].code, refused) == 0)
			return L(r, refusals[i].en, refusals[i].fr);
	return refused;
}

int
pp_refusal_status(json_object *doc)
{
	return office_refusal_status(pj_str(doc, "kind"));
}

json_object *
pp_change(struct web_req *r, enum portal_fn fn, const char *const *vals)
{
	json_object *doc;

	if ((doc = portal_call(r->db, fn, vals)) == NULL)
		web_error(r, 500, L(r, "The service is unavailable for a "
		    "moment; please try again.", "Le service est "
		    "momentanément indisponible ; veuillez réessayer."));
	return doc;
}

json_object *
pp_object_change(struct web_req *r, enum portal_fn fn, const char *value,
    const char *missing, void (*page)(struct web_req *, const char *))
{
	json_object *doc;
	const char *vals[4];
	char xa[24];

	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = r->args[0];
	vals[3] = value;
	if ((doc = pp_change(r, fn, vals)) == NULL)
		return NULL;
	if (portal_refused(doc) != NULL) {
		if (strcmp(portal_refused(doc), missing) == 0)
			web_error(r, 404, pp_refusal_text(r, missing));
		else {
			r->status = pp_refusal_status(doc);
			page(r, pp_refusal_text(r, portal_refused(doc)));
		}
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

json_object *
pp_load_own(struct web_req *r, enum portal_fn fn, const char *arg)
{
	const char *vals[2];
	char xa[24];

	pp_xa(r, xa);
	vals[0] = xa;
	vals[1] = arg;
	return pp_load(r, fn, vals);
}

json_object *
pp_load(struct web_req *r, enum portal_fn fn, const char *const *vals)
{
	json_object *doc;
	const char *refused;

	if ((doc = pp_change(r, fn, vals)) == NULL)
		return NULL;
	if ((refused = portal_refused(doc)) != NULL) {
		web_error(r, pp_refusal_status(doc), pp_refusal_text(r,
		    refused));
		json_object_put(doc);
		return NULL;
	}
	return doc;
}

const char *
pj_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return NULL;
	return json_object_get_string(v);
}

json_object *
pj_arr(json_object *o, const char *key)
{
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_get_typed(o, key, json_type_array);
}

size_t
pj_len(json_object *arr)
{
	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return 0;
	return json_object_array_length(arr);
}

json_object *
pj_idx(json_object *arr, size_t i)
{
	if (i >= pj_len(arr))
		return NULL;
	return json_object_array_get_idx(arr, i);
}

json_object *
pj_obj(json_object *o, const char *key)
{
	if (o == NULL || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_get_typed(o, key, json_type_object);
}

long long
pj_int(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v) || v == NULL)
		return 0;
	return (long long)json_object_get_int64(v);
}

int
pj_true(json_object *o, const char *key)
{
	int b = 0;

	if (o == NULL || !json_object_is_type(o, json_type_object))
		return 0;
	return json_get_bool(o, key, &b) && b;
}

void
pp_date(struct web_req *r, const char *iso)
{
	char buf[64];

	if (iso == NULL || *iso == '\0') {
		web_raw(r, "-");
		return;
	}
	web_text(r, portal_date(iso, r->lang == LANG_FR, 0, buf,
	    sizeof(buf)));
}

void
pp_day(struct web_req *r, const char *iso)
{
	char buf[64];

	if (iso == NULL || *iso == '\0') {
		web_raw(r, "-");
		return;
	}
	web_text(r, portal_date(iso, r->lang == LANG_FR, 1, buf,
	    sizeof(buf)));
}

void
pp_text_or_dash(struct web_req *r, const char *s)
{
	if (s == NULL || *s == '\0')
		web_raw(r, "-");
	else
		web_text(r, s);
}

/* Status words in French (English shows them as they are). */
static const struct {
	const char	*status;
	const char	*fr;
} status_fr[] = {
	{ "VALID", "VALIDE" },
	{ "PENDING", "EN ATTENTE" },
	{ "SUSPENDED", "SUSPENDU" },
	{ "EXPIRED", "EXPIRÉ" },
	{ "REVOKED", "RÉVOQUÉ" },
	{ "DEACTIVATED", "DÉSACTIVÉ" },
	{ "REJECTED", "REFUSÉ" },
	{ "MISSING", "MANQUANT" },
	{ "valid", "valide" },
	{ "deactivated", "désactivé" },
	{ "revoked", "révoqué" },
	{ "pending", "en attente" },
	{ "sent", "envoyé" },
	{ "failed", "échec" },
};

void
pp_badge(struct web_req *r, const char *status)
{
	char cls[32];
	const char *word = status != NULL ? status : "";
	size_t i, n = 0;

	for (i = 0; word[i] != '\0' && n + 1 < sizeof(cls); i++) {
		char c = word[i];

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			cls[n++] = c;
		else if (c >= 'A' && c <= 'Z')
			cls[n++] = (char)(c - 'A' + 'a');
	}
	cls[n] = '\0';
	/* a document not received shows as one to send again */
	if (strcmp(cls, "missing") == 0)
		snprintf(cls, sizeof(cls), "rejected");
	if (r->lang == LANG_FR)
		for (i = 0; i < sizeof(status_fr) / sizeof(status_fr[0]); i++)
			if (strcmp(status_fr[i].status, word) == 0) {
				word = status_fr[i].fr;
				break;
			}
	web_raw(r, "<span class=\"badge badge-");
	web_raw(r, n > 0 ? cls : "none");
	web_raw(r, "\">");
	web_text(r, word);
	web_raw(r, "</span>");
}

const char *
pp_kind_label(const struct web_req *r, const char *kind)
{
	if (kind == NULL)
		return "";
	if (strcmp(kind, "ORGANIZATION_PROOF") == 0)
		return L(r, "Proof of the organization's existence (e.g. "
		    "K-bis extract)", "Justificatif d'existence de "
		    "l'organisation (extrait K-bis...)");
	if (strcmp(kind, "REQUEST_FORM") == 0)
		return L(r, "Signed certificate request form",
		    "Formulaire de demande de certificat signé");
	if (strcmp(kind, "MANAGER_AUTHORIZATION") == 0)
		return L(r, "Authorization of the certificate manager",
		    "Autorisation du gestionnaire de certificats");
	if (strcmp(kind, "DOMAIN_AUTHORIZATION") == 0)
		return L(r, "Domain name authorization",
		    "Autorisation du nom de domaine");
	return kind;
}

void
pp_page(struct web_req *r, const char *title)
{
	page_begin(r, title);
	web_raw(r, "<h1>");
	web_text(r, title);
	web_raw(r, "</h1>\n");
}

void
pp_error(struct web_req *r, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	web_raw(r, "<p class=\"error\" role=\"alert\">");
	web_text(r, text);
	web_raw(r, "</p>\n");
}

void
pp_hidden(struct web_req *r, const char *name, const char *value)
{
	web_raw(r, "<input type=\"hidden\" name=\"");
	web_text(r, name);
	web_raw(r, "\" value=\"");
	web_text(r, value != NULL ? value : "");
	web_raw(r, "\">\n");
}

void
pp_link(struct web_req *r, const char *prefix, const char *id,
    const char *suffix, const char *text)
{
	char *enc = portal_url_encode(id);

	web_raw(r, "<a href=\"");
	web_text(r, prefix);
	web_text(r, enc);
	web_text(r, suffix != NULL ? suffix : "");
	web_raw(r, "\">");
	web_text(r, text);
	web_raw(r, "</a>");
	free(enc);
}

void
pp_textarea(struct web_req *r, const char *name, const char *label,
    const char *value, int rows)
{
	web_raw(r, "<label>");
	web_text(r, label);
	web_raw(r, " <textarea name=\"");
	web_text(r, name);
	web_textf(r, "\" rows=\"%d", rows);
	web_raw(r, "\">");
	web_text(r, value);
	web_raw(r, "</textarea></label>\n");
}

long
pp_page_number(const struct web_req *r)
{
	const char *s = web_query(r, "page");
	char *end = NULL;
	long n;

	if (s == NULL || *s == '\0')
		return 1;
	n = strtol(s, &end, 10);
	if (end == NULL || *end != '\0' || n < 1 || n > 100000)
		return 1;
	return n;
}

/* Appends one link of a paginator. */
static void
pager_link(struct web_req *r, const char *path, const char *q, long page,
    const char *text)
{
	char *enc = NULL;

	web_raw(r, "<a href=\"");
	web_text(r, path);
	web_raw(r, "?");
	if (q != NULL && *q != '\0') {
		enc = portal_url_encode(q);
		web_raw(r, "q=");
		web_text(r, enc);
		web_raw(r, "&amp;");
	}
	web_textf(r, "page=%ld", page);
	web_raw(r, "\">");
	web_text(r, text);
	web_raw(r, "</a>");
	free(enc);
}

void
pp_pager(struct web_req *r, const char *path, const char *q, long page,
    long long total)
{
	long long pages = (total + PORTAL_PAGE_ROWS - 1) / PORTAL_PAGE_ROWS;

	if (pages <= 1)
		return;
	web_raw(r, "<p class=\"pager\">");
	if (page > 1)
		pager_link(r, path, q, page - 1, L(r, "Previous page",
		    "Page précédente"));
	web_raw(r, "<span class=\"muted\">");
	if (r->lang == LANG_FR)
		web_textf(r, "page %ld sur %lld", page, pages);
	else
		web_textf(r, "page %ld of %lld", page, pages);
	web_raw(r, "</span>");
	if (page < pages)
		pager_link(r, path, q, page + 1, L(r, "Next page",
		    "Page suivante"));
	web_raw(r, "</p>\n");
}

char *
pp_field(const struct web_req *r, const char *name)
{
	const char *v = web_form(r, name), *end;

	if (v == NULL)
		return xstrdup("");
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r' || end[-1] == '\n'))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

const char *
pp_org_check(const struct web_req *r, const char *name, char *country,
    const char *state, const char *locality)
{
	char *p;

	for (p = country; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (*name == '\0' || strlen(name) > 64)
		return pp_refusal_text(r, "bad_organization_name");
	if (!portal_country_valid(country))
		return pp_refusal_text(r, "bad_country");
	if (strlen(state) > 128 || strlen(locality) > 128)
		return pp_refusal_text(r, "bad_locality");
	return NULL;
}

int
pp_checked(const struct web_req *r, const char *name)
{
	const char *v = web_form(r, name);

	return v != NULL && (strcmp(v, "1") == 0 || strcmp(v, "on") == 0 ||
	    strcmp(v, "true") == 0);
}
