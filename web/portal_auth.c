/*
 * portal_auth.c - the customer's way in: home, sign up (organization and
 * account in one SQL call, confirmation e-mail), address confirmation,
 * sign in (rate limited, the same time for unknown addresses), sign out,
 * forgotten password and reset, and the settings (language, password).
 *
 * Pages that could tell whether an address has an account (sign up,
 * confirmation resend, forgotten password) say the same whatever the
 * answer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "jsonutil.h"
#include "passwd.h"
#include "portal_pages.h"
#include "websession.h"

#define CONFIRM_SECONDS		(48 * 3600)
#define RESET_SECONDS		3600

/* The e-mails the portal sends with a one-time link. */
enum mail {
	MAIL_CONFIRM,
	MAIL_RESET,
	MAIL__MAX
};

/* Subject and body of each e-mail in each language; in the body, {link}
 * stands for the link and {email} for the account's address (filled by
 * portal_token_mail() in SQL). */
static const struct {
	const char	*subject[2];
	const char	*body[2];
} mails[MAIL__MAX] = {
	[MAIL_CONFIRM] = {
		{ "Confirm your e-mail address",
		  "Confirmez votre adresse électronique" },
		{ "Hello,\n\n"
		  "You signed up for the certificate manager of the "
		  "certification\nauthority. To confirm your e-mail address, "
		  "open this link within\n48 hours:\n\n"
		  "  {link}\n\n"
		  "Then sign in and send your organization's documents: the "
		  "CA checks\nthem before it activates your account.\n\n"
		  "If you did not sign up, ignore this message: nothing is "
		  "done\nwithout your confirmation.\n",
		  "Bonjour,\n\n"
		  "Vous vous êtes inscrit au gestionnaire de certificats de "
		  "l'autorité\nde certification. Pour confirmer votre adresse "
		  "électronique, ouvrez\nce lien dans les 48 heures :\n\n"
		  "  {link}\n\n"
		  "Connectez-vous ensuite et envoyez les documents de votre "
		  "organisation :\nl'AC les vérifie avant d'activer votre "
		  "compte.\n\n"
		  "Si vous ne vous êtes pas inscrit, ignorez ce message : rien "
		  "n'est fait\nsans votre confirmation.\n" },
	},
	[MAIL_RESET] = {
		{ "Choose a new password",
		  "Choisissez un nouveau mot de passe" },
		{ "Hello,\n\n"
		  "Someone, hopefully you, asked to choose a new password for "
		  "the\naccount {email} of the certificate manager. To do so, "
		  "open this link\nwithin one hour:\n\n"
		  "  {link}\n\n"
		  "If you did not ask for it, ignore this message: your "
		  "password stays\nas it is.\n",
		  "Bonjour,\n\n"
		  "Quelqu'un, sans doute vous, a demandé à choisir un nouveau "
		  "mot de passe\npour le compte {email} du gestionnaire de "
		  "certificats. Pour cela, ouvrez\nce lien dans l'heure :\n\n"
		  "  {link}\n\n"
		  "Si vous ne l'avez pas demandé, ignorez ce message : votre "
		  "mot de passe\nreste le même.\n" },
	},
};

/* Returns text with {link} replaced by the link (new string); {email}
 * stays for the database to fill with the account's own address. */
static char *
fill(const char *text, const char *link)
{
	const char *p;
	char *out, *o;
	size_t n = strlen(text) + 1;

	for (p = text; (p = strstr(p, "{link}")) != NULL; p++)
		n += strlen(link);
	o = out = xmalloc(n);
	for (p = text; *p != '\0'; ) {
		if (strncmp(p, "{link}", 6) == 0) {
			memcpy(o, link, strlen(link));
			o += strlen(link);
			p += 6;
		} else
			*o++ = *p++;
	}
	*o = '\0';
	return out;
}

/* Returns the texts of an e-mail with the link of a token as sql/011
 * takes them, {"en": {subject, body}, "fr": {...}}, for one language
 * ("en", "fr") or both (NULL); new string, caller frees. */
static char *
mail_texts(enum mail m, const char *lang, const char *path,
    const char *token)
{
	static const char *const langs[2] = { "en", "fr" };
	json_object *all = json_object_new_object(), *one;
	char *link, *body, *ret;
	int i;

	link = xasprintf("%s%s%s", cfg_str(CFG_WEB_BASE_URL), path, token);
	for (i = 0; i < 2; i++) {
		if (lang != NULL && strcmp(lang, langs[i]) != 0)
			continue;
		body = fill(mails[m].body[i], link);
		one = json_object_new_object();
		json_object_object_add(one, "subject",
		    json_object_new_string(mails[m].subject[i]));
		json_object_object_add(one, "body",
		    json_object_new_string(body));
		json_object_object_add(all, langs[i], one);
		free(body);
	}
	ret = xstrdup(json_compact(all));
	json_object_put(all);
	free(link);
	return ret;
}

/* Returns the password hash made for unknown addresses, so that signing
 * in takes the same time whether the address has an account or not
 * (made once per process, with the cost of new hashes). */
static const char *
dummy_hash(void)
{
	static char *hash;

	if (hash == NULL)
		hash = passwd_hash("no account has this password",
		    (int)cfg_int(CFG_WEB_SCRYPT_LOG_N));
	return hash != NULL ? hash : "";
}

/* The language select of the forms. */
static void
language_select(struct web_req *r, const char *selected)
{
	static const char *const values[] = { "en", "fr" };
	static const char *const labels[] = { "English", "Français" };

	form_select(r, "language", L(r, "Language of e-mails and pages",
	    "Langue des courriels et des pages"), values, labels, 2,
	    selected);
}

/* Appends the rule of new passwords. */
static void
password_hint(struct web_req *r)
{
	web_raw(r, "<p class=\"muted\">");
	if (r->lang == LANG_FR)
		web_textf(r, "Au moins %d caractères. Une phrase de passe de "
		    "quelques mots est plus facile à retenir et plus sûre.",
		    PASSWD_MIN_CHARS);
	else
		web_textf(r, "At least %d characters. A passphrase of a few "
		    "words is easier to remember and safer.", PASSWD_MIN_CHARS);
	web_raw(r, "</p>\n");
}

/* Returns 1, after redirecting to the dashboard, if a customer is signed
 * in (the pages for visitors are not for them). */
static int
signed_in(struct web_req *r)
{
	if (r->sess.kind != AUTH_CUSTOMER)
		return 0;
	web_redirect(r, "/dashboard");
	return 1;
}

/* Sends the e-mail m with a fresh link (PATH+token, valid for seconds)
 * to email through fn (email, token hash, seconds, the texts in both
 * languages); returns fn's document (caller puts), or NULL (the error
 * page rendered). */
static json_object *
link_mail_change(struct web_req *r, enum portal_fn fn, enum mail m,
    const char *path, int seconds, const char *email)
{
	json_object *doc;
	char *token, *texts, thash[65], secs[16];
	const char *vals[4];

	token = portal_token_new(thash);
	texts = mail_texts(m, NULL, path, token);
	snprintf(secs, sizeof(secs), "%d", seconds);
	vals[0] = email;
	vals[1] = thash;
	vals[2] = secs;
	vals[3] = texts;
	doc = pp_change(r, fn, vals);
	free(token);
	free(texts);
	return doc;
}

/* ------------------------------------------------------------- home */

void
portal_home(struct web_req *r)
{
	if (signed_in(r))
		return;
	pp_page(r, L(r, "Certificate manager", "Gestionnaire de certificats"));
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "Order organization validated (OV) TLS certificates "
	    "with your usual ACME client (certbot, lego, acme.sh, win-acme) "
	    "and manage them here.", "Obtenez des certificats TLS à "
	    "validation d'organisation (OV) avec votre client ACME habituel "
	    "(certbot, lego, acme.sh, win-acme) et gérez-les ici."));
	web_raw(r, "</p>\n<p class=\"actions\"><a href=\"/login\">");
	web_text(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</a> <a href=\"/signup\">");
	web_text(r, L(r, "Create an account", "Créer un compte"));
	web_raw(r, "</a></p>\n</section>\n<h2>");
	web_text(r, L(r, "How it works", "Comment ça marche"));
	web_raw(r, "</h2>\n<ol>\n<li>");
	web_text(r, L(r, "Sign up with your organization's details and "
	    "confirm your e-mail address.", "Inscrivez-vous avec les "
	    "informations de votre organisation et confirmez votre adresse "
	    "électronique."));
	web_raw(r, "</li>\n<li>");
	web_text(r, L(r, "Send the proof of your organization's existence "
	    "and the signed request form, and declare your domains.",
	    "Envoyez le justificatif d'existence de votre organisation et le "
	    "formulaire de demande signé, et déclarez vos domaines."));
	web_raw(r, "</li>\n<li>");
	web_text(r, L(r, "Once the CA has checked them, create ACME accounts "
	    "and use their key with your ACME client.", "Une fois ces "
	    "documents vérifiés par l'AC, créez des comptes ACME et utilisez "
	    "leur clé avec votre client ACME."));
	web_raw(r, "</li>\n</ol>\n");
	page_end(r);
}

/* ---------------------------------------------------------- sign up */

/* The values of the sign-up form. */
struct signup {
	char	*org, *country, *state, *locality, *email, *language;
};

static void
signup_free(struct signup *s)
{
	free(s->org);
	free(s->country);
	free(s->state);
	free(s->locality);
	free(s->email);
	free(s->language);
}

/* Renders the sign-up form with its values and an error (or none). */
static void
signup_form(struct web_req *r, const struct signup *s, const char *error)
{
	pp_page(r, L(r, "Create an account", "Créer un compte"));
	pp_error(r, error);
	web_raw(r, "<p>");
	web_text(r, L(r, "The organization is the legal entity named in your "
	    "certificates: give its registered name and address.",
	    "L'organisation est l'entité juridique nommée dans vos "
	    "certificats : indiquez sa dénomination et son adresse "
	    "officielles."));
	web_raw(r, "</p>\n");
	form_begin(r, "/signup", 0);
	form_input(r, "text", "organization", L(r, "Organization name",
	    "Nom de l'organisation"), s != NULL ? s->org : NULL, 1);
	form_input(r, "text", "country", L(r, "Country (ISO 3166 code: FR, "
	    "BE, CH...)", "Pays (code ISO 3166 : FR, BE, CH...)"),
	    s != NULL ? s->country : NULL, 1);
	form_input(r, "text", "state", L(r, "State or region (optional)",
	    "Région ou département (facultatif)"),
	    s != NULL ? s->state : NULL, 0);
	form_input(r, "text", "locality", L(r, "Locality (city)",
	    "Localité (ville)"), s != NULL ? s->locality : NULL, 0);
	form_input(r, "email", "email", L(r, "Your e-mail address",
	    "Votre adresse électronique"), s != NULL ? s->email : NULL, 1);
	form_input(r, "password", "password", L(r, "Password",
	    "Mot de passe"), NULL, 1);
	form_input(r, "password", "password2", L(r, "Password again",
	    "Mot de passe (encore)"), NULL, 1);
	password_hint(r);
	language_select(r, s != NULL && s->language != NULL ? s->language :
	    r->lang == LANG_FR ? "fr" : "en");
	form_submit(r, L(r, "Create the account", "Créer le compte"));
	web_raw(r, "</form>\n<p>");
	web_text(r, L(r, "Already have an account?", "Déjà un compte ?"));
	web_raw(r, " <a href=\"/login\">");
	web_text(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</a></p>\n");
	page_end(r);
}

void
portal_signup_get(struct web_req *r)
{
	if (signed_in(r))
		return;
	signup_form(r, NULL, NULL);
}

/* Renders the page every accepted sign-up gets, new address or not. */
static void
mail_sent_page(struct web_req *r, const char *title, const char *text)
{
	pp_page(r, title);
	web_raw(r, "<section>\n<p>");
	web_text(r, text);
	web_raw(r, "</p>\n<p class=\"muted\">");
	web_text(r, L(r, "No e-mail after a few minutes? Check your spam "
	    "folder, or", "Pas de courriel après quelques minutes ? "
	    "Vérifiez vos indésirables, ou"));
	web_raw(r, " <a href=\"/signup/resend\">");
	web_text(r, L(r, "send the confirmation again",
	    "renvoyez la confirmation"));
	web_raw(r, "</a>.</p>\n</section>\n");
	page_end(r);
}

/*
 * Counts a sign-up of the client (sql/016_signup_limit.sql: at most
 * web_signup_max_per_hour per address, IPv6 /64, in an hour). Returns 1
 * and sets *allowed, or 0 on a database error.
 */
static int
signup_allowed(struct web_req *r, int *allowed)
{
	PGresult *res;
	char smax[32];
	const char *v[2];
	int rc = 0;

	*allowed = 0;
	snprintf(smax, sizeof(smax), "%ld",
	    cfg_int(CFG_WEB_SIGNUP_MAX_PER_HOUR));
	v[0] = r->remote_addr;
	v[1] = smax;
	if ((res = db_query(r->db, "SELECT web_signup_allowed($1, "
	    "$2::integer)", 2, v)) == NULL)
		goto out;
	if (PQntuples(res) != 1)
		goto out;
	*allowed = strcmp(db_val(res, 0, 0), "t") == 0;
	rc = 1;
out:
	if (res != NULL)
		PQclear(res);
	return rc;
}

void
portal_signup_post(struct web_req *r)
{
	struct signup s;
	json_object *doc = NULL;
	const char *error = NULL, *refused, *pw = web_form(r, "password"),
	    *pw2 = web_form(r, "password2");
	char *hash = NULL, *token = NULL, *texts = NULL, thash[65], secs[16];
	const char *vals[10];
	int allowed = 0;

	s.org = pp_field(r, "organization");
	s.country = pp_field(r, "country");
	s.state = pp_field(r, "state");
	s.locality = pp_field(r, "locality");
	s.email = pp_field(r, "email");
	s.language = pp_field(r, "language");
	if (strcmp(s.language, "fr") != 0 && strcmp(s.language, "en") != 0) {
		free(s.language);
		s.language = xstrdup(r->lang == LANG_FR ? "fr" : "en");
	}
	if ((error = pp_org_check(r, s.org, s.country, s.state,
	    s.locality)) != NULL)
		;	/* the first refusal is shown */
	else if (!portal_email_valid(s.email))
		error = pp_refusal_text(r, "bad_email");
	else if (pw == NULL || !passwd_acceptable(pw))
		error = r->lang == LANG_FR ? "Le mot de passe ne convient "
		    "pas : il lui faut au moins 12 caractères, sans caractère "
		    "de contrôle." : "This password will not do: it needs at "
		    "least 12 characters, and no control characters.";
	else if (pw2 == NULL || strcmp(pw, pw2) != 0)
		error = L(r, "The two passwords differ.",
		    "Les deux mots de passe diffèrent.");
	if (error != NULL) {
		r->status = 400;
		signup_form(r, &s, error);
		goto out;
	}
	if (!signup_allowed(r, &allowed)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		goto out;
	}
	if (!allowed) {
		web_error(r, 429, L(r, "Too many sign-ups from your network; "
		    "try again in an hour.", "Trop d'inscriptions depuis "
		    "votre réseau ; réessayez dans une heure."));
		goto out;
	}
	/* hashed before anything is looked up: a known address takes the
	 * same time as a new one */
	if ((hash = passwd_hash(pw, (int)cfg_int(CFG_WEB_SCRYPT_LOG_N))) ==
	    NULL) {
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
		goto out;
	}
	token = portal_token_new(thash);
	texts = mail_texts(MAIL_CONFIRM, s.language, "/confirm/", token);
	snprintf(secs, sizeof(secs), "%d", CONFIRM_SECONDS);
	vals[0] = s.org;
	vals[1] = s.country;
	vals[2] = s.state;
	vals[3] = s.locality;
	vals[4] = s.email;
	vals[5] = s.language;
	vals[6] = hash;
	vals[7] = thash;
	vals[8] = secs;
	vals[9] = texts;
	if ((doc = pp_change(r, PORTAL_SIGNUP, vals)) == NULL)
		goto out;
	if ((refused = portal_refused(doc)) != NULL) {
		r->status = pp_refusal_status(doc);
		signup_form(r, &s, pp_refusal_text(r, refused));
		goto out;
	}
	mail_sent_page(r, L(r, "Check your mailbox", "Consultez votre "
	    "messagerie"), L(r, "If this address is new, a confirmation "
	    "e-mail was sent to it: open its link to confirm your address, "
	    "then sign in.", "Si cette adresse est nouvelle, un courriel de "
	    "confirmation lui a été envoyé : ouvrez son lien pour confirmer "
	    "votre adresse, puis connectez-vous."));
out:
	json_object_put(doc);
	if (hash != NULL)
		free(hash);
	free(token);
	free(texts);
	signup_free(&s);
}

/* Renders a page asking for the address to send a link to: its title,
 * what it does, the form posting to action. */
static void
link_form(struct web_req *r, const char *title, const char *text,
    const char *action, const char *email, const char *error)
{
	pp_page(r, title);
	pp_error(r, error);
	web_raw(r, "<p>");
	web_text(r, text);
	web_raw(r, "</p>\n");
	form_begin(r, action, 0);
	form_input(r, "email", "email", L(r, "E-mail address",
	    "Adresse électronique"), email, 1);
	form_submit(r, L(r, "Send the link", "Envoyer le lien"));
	web_raw(r, "</form>\n");
	page_end(r);
}

/* Renders the form that sends the confirmation e-mail again. */
static void
resend_form(struct web_req *r, const char *email, const char *error)
{
	link_form(r, L(r, "Confirm your address", "Confirmer votre adresse"),
	    L(r, "We send a new confirmation link to the address of your "
	    "account if it is not confirmed yet.", "Nous envoyons un "
	    "nouveau lien de confirmation à l'adresse de votre compte si "
	    "elle n'est pas encore confirmée."), "/signup/resend", email,
	    error);
}

void
portal_resend_get(struct web_req *r)
{
	resend_form(r, web_query(r, "email"), NULL);
}

void
portal_resend_post(struct web_req *r)
{
	json_object *doc = NULL;
	char *email = pp_field(r, "email");

	if (!portal_email_valid(email)) {
		r->status = 400;
		resend_form(r, email, pp_refusal_text(r, "bad_email"));
		goto out;
	}
	if ((doc = link_mail_change(r, PORTAL_CONFIRMATION_RESEND,
	    MAIL_CONFIRM, "/confirm/", CONFIRM_SECONDS, email)) == NULL)
		goto out;
	mail_sent_page(r, L(r, "Check your mailbox", "Consultez votre "
	    "messagerie"), L(r, "If an account with this address waits for "
	    "its confirmation, a new link was sent to it (at most one every "
	    "5 minutes).", "Si un compte avec cette adresse attend sa "
	    "confirmation, un nouveau lien lui a été envoyé (au plus un "
	    "toutes les 5 minutes)."));
out:
	json_object_put(doc);
	free(email);
}

void
portal_confirm(struct web_req *r)
{
	json_object *doc = NULL;
	const char *vals[1];
	char thash[65];

	if (!web_token_ok(r->args[0])) {
		web_error(r, 404, pp_refusal_text(r, "bad_token"));
		return;
	}
	portal_token_hash(r->args[0], thash);
	vals[0] = thash;
	if ((doc = pp_change(r, PORTAL_EMAIL_CONFIRM, vals)) == NULL)
		return;
	if (portal_refused(doc) != NULL) {
		r->status = 404;
		pp_page(r, L(r, "Link not valid", "Lien non valide"));
		pp_error(r, pp_refusal_text(r, portal_refused(doc)));
		web_raw(r, "<p>");
		web_text(r, L(r, "Your address may already be confirmed: try "
		    "to", "Votre adresse est peut-être déjà confirmée : "
		    "essayez de"));
		web_raw(r, " <a href=\"/login\">");
		web_text(r, L(r, "sign in", "vous connecter"));
		web_raw(r, "</a>. ");
		web_text(r, L(r, "Otherwise,", "Sinon,"));
		web_raw(r, " <a href=\"/signup/resend\">");
		web_text(r, L(r, "ask for a new link", "demandez un nouveau "
		    "lien"));
		web_raw(r, "</a>.</p>\n");
		page_end(r);
		goto out;
	}
	pp_page(r, L(r, "Address confirmed", "Adresse confirmée"));
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "Thank you: the address", "Merci : l'adresse"));
	web_raw(r, " <strong>");
	web_text(r, pj_str(doc, "email"));
	web_raw(r, "</strong> ");
	web_text(r, L(r, "is confirmed. You can now sign in and send your "
	    "organization's documents.", "est confirmée. Vous pouvez "
	    "maintenant vous connecter et envoyer les documents de votre "
	    "organisation."));
	web_raw(r, "</p>\n<p><a href=\"/login\">");
	web_text(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</a></p>\n</section>\n");
	page_end(r);
out:
	json_object_put(doc);
}

/* ---------------------------------------------------------- sign in */

static void
login_form(struct web_req *r, const char *email, const char *error)
{
	pp_page(r, L(r, "Sign in", "Connexion"));
	pp_error(r, error);
	form_begin(r, "/login", 0);
	form_input(r, "email", "email", L(r, "E-mail address",
	    "Adresse électronique"), email, 1);
	form_input(r, "password", "password", L(r, "Password",
	    "Mot de passe"), NULL, 1);
	form_submit(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</form>\n<p class=\"actions\"><a href=\"/password/forgot\">");
	web_text(r, L(r, "Forgot your password?", "Mot de passe oublié ?"));
	web_raw(r, "</a> <a href=\"/signup\">");
	web_text(r, L(r, "Create an account", "Créer un compte"));
	web_raw(r, "</a></p>\n");
	page_end(r);
}

void
portal_login_get(struct web_req *r)
{
	if (signed_in(r))
		return;
	login_form(r, NULL, NULL);
}

/* The page of a sign-in refused for too many failures. */
static void
too_many(struct web_req *r)
{
	web_error(r, 429, L(r, "Too many failed sign-ins: please wait 15 "
	    "minutes, or choose a new password through \"Forgot your "
	    "password?\".", "Trop de connexions échouées : veuillez "
	    "patienter 15 minutes, ou choisissez un nouveau mot de passe "
	    "avec « Mot de passe oublié ? »."));
	web_header(r, "Retry-After: 900");
}

void
portal_login_post(struct web_req *r)
{
	struct ws_login l;
	char *email = pp_field(r, "email"), *enc = NULL, *url = NULL;
	const char *pw = web_form(r, "password");
	int blocked = 0, ok;

	memset(&l, 0, sizeof(l));
	if (*email == '\0' || pw == NULL || *pw == '\0') {
		r->status = 400;
		login_form(r, email, L(r, "Give your e-mail address and your "
		    "password.", "Indiquez votre adresse électronique et votre "
		    "mot de passe."));
		goto out;
	}
	if (!websession_login_blocked(r->db, email, r->remote_addr,
	    cfg_int(CFG_WEB_LOGIN_MAX_FAILURES), &blocked) ||
	    !websession_login_customer(r->db, email, &l)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		goto out;
	}
	if (blocked) {
		too_many(r);
		goto out;
	}
	/* an unknown address costs the same scrypt as a known one */
	ok = passwd_verify(pw, l.found ? l.password_hash : dummy_hash()) &&
	    l.found;
	if (!ok) {
		(void)websession_login_failed(r->db, email, r->remote_addr);
		r->status = 401;
		login_form(r, email, L(r, "Wrong e-mail address or password.",
		    "Adresse électronique ou mot de passe incorrect."));
		goto out;
	}
	if (l.status != NULL && (strcmp(l.status, "REVOKED") == 0 ||
	    strcmp(l.status, "DEACTIVATED") == 0)) {
		r->status = 403;
		login_form(r, email, L(r, "This account is closed: contact us "
		    "if you need it again.", "Ce compte est fermé : "
		    "contactez-nous si vous en avez de nouveau besoin."));
		goto out;
	}
	if (!l.email_confirmed) {
		r->status = 403;
		pp_page(r, L(r, "Confirm your address first",
		    "Confirmez d'abord votre adresse"));
		pp_error(r, L(r, "Your e-mail address is not confirmed yet: "
		    "open the link of the e-mail we sent you when you signed "
		    "up.", "Votre adresse électronique n'est pas encore "
		    "confirmée : ouvrez le lien du courriel envoyé lors de "
		    "votre inscription."));
		enc = portal_url_encode(l.email);
		url = xasprintf("/signup/resend?email=%s", enc);
		web_raw(r, "<p><a href=\"");
		web_text(r, url);
		web_raw(r, "\">");
		web_text(r, L(r, "Send the confirmation link again",
		    "Renvoyer le lien de confirmation"));
		web_raw(r, "</a></p>\n");
		page_end(r);
		goto out;
	}
	if (!web_session_open(r, AUTH_CUSTOMER, l.external_account_id)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		goto out;
	}
	web_redirect(r, "/dashboard");
out:
	websession_login_free(&l);
	free(email);
	free(enc);
	free(url);
}

void
portal_logout(struct web_req *r)
{
	web_session_close(r);
	web_flash(r, L(r, "You are signed out.", "Vous êtes déconnecté."));
	web_redirect(r, "/login");
}

/* -------------------------------------------------- password reset */

static void
forgot_form(struct web_req *r, const char *email, const char *error)
{
	link_form(r, L(r, "Forgot your password?", "Mot de passe oublié ?"),
	    L(r, "Give the address of your account: we send it a link to "
	    "choose a new password.", "Indiquez l'adresse de votre compte : "
	    "nous lui envoyons un lien pour choisir un nouveau mot de "
	    "passe."), "/password/forgot", email, error);
}

void
portal_forgot_get(struct web_req *r)
{
	forgot_form(r, NULL, NULL);
}

void
portal_forgot_post(struct web_req *r)
{
	json_object *doc = NULL;
	char *email = pp_field(r, "email");

	if (*email == '\0' || strchr(email, '@') == NULL ||
	    strlen(email) > 254) {
		r->status = 400;
		forgot_form(r, email, pp_refusal_text(r, "bad_email"));
		goto out;
	}
	if ((doc = link_mail_change(r, PORTAL_PASSWORD_FORGOT, MAIL_RESET,
	    "/password/reset/", RESET_SECONDS, email)) == NULL)
		goto out;
	pp_page(r, L(r, "Check your mailbox", "Consultez votre messagerie"));
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "If an account uses this address, a link to choose "
	    "a new password was sent to it. The link is valid for one hour.",
	    "Si un compte utilise cette adresse, un lien pour choisir un "
	    "nouveau mot de passe lui a été envoyé. Le lien est valable une "
	    "heure."));
	web_raw(r, "</p>\n<p><a href=\"/login\">");
	web_text(r, L(r, "Back to sign in", "Retour à la connexion"));
	web_raw(r, "</a></p>\n</section>\n");
	page_end(r);
out:
	json_object_put(doc);
	free(email);
}

/* Renders the page of a reset link that cannot be used. */
static void
reset_invalid(struct web_req *r)
{
	r->status = 404;
	pp_page(r, L(r, "Link not valid", "Lien non valide"));
	pp_error(r, pp_refusal_text(r, "bad_token"));
	web_raw(r, "<p><a href=\"/password/forgot\">");
	web_text(r, L(r, "Ask for a new link", "Demander un nouveau lien"));
	web_raw(r, "</a></p>\n");
	page_end(r);
}

static void
reset_form(struct web_req *r, const char *email, const char *error)
{
	char *action = xasprintf("/password/reset/%s", r->args[0]);

	pp_page(r, L(r, "Choose a new password",
	    "Choisissez un nouveau mot de passe"));
	pp_error(r, error);
	if (email != NULL) {
		web_raw(r, "<p>");
		web_text(r, L(r, "Account:", "Compte :"));
		web_raw(r, " <strong>");
		web_text(r, email);
		web_raw(r, "</strong></p>\n");
	}
	form_begin(r, action, 0);
	form_input(r, "password", "password", L(r, "New password",
	    "Nouveau mot de passe"), NULL, 1);
	form_input(r, "password", "password2", L(r, "New password again",
	    "Nouveau mot de passe (encore)"), NULL, 1);
	password_hint(r);
	form_submit(r, L(r, "Change the password",
	    "Changer le mot de passe"));
	web_raw(r, "</form>\n");
	page_end(r);
	free(action);
}

void
portal_reset_get(struct web_req *r)
{
	json_object *doc = NULL;
	const char *vals[1];
	char thash[65];

	if (!web_token_ok(r->args[0])) {
		reset_invalid(r);
		return;
	}
	portal_token_hash(r->args[0], thash);
	vals[0] = thash;
	if ((doc = pp_change(r, PORTAL_PASSWORD_RESET_CHECK, vals)) == NULL)
		return;
	if (!pj_true(doc, "valid"))
		reset_invalid(r);
	else
		reset_form(r, pj_str(doc, "email"), NULL);
	json_object_put(doc);
}

void
portal_reset_post(struct web_req *r)
{
	json_object *doc = NULL;
	const char *pw = web_form(r, "password"), *pw2 = web_form(r,
	    "password2"), *vals[2];
	char *hash = NULL, thash[65];

	if (!web_token_ok(r->args[0])) {
		reset_invalid(r);
		return;
	}
	if (pw == NULL || !passwd_acceptable(pw)) {
		r->status = 400;
		reset_form(r, NULL, r->lang == LANG_FR ? "Le mot de passe ne "
		    "convient pas : il lui faut au moins 12 caractères, sans "
		    "caractère de contrôle." : "This password will not do: it "
		    "needs at least 12 characters, and no control characters.");
		return;
	}
	if (pw2 == NULL || strcmp(pw, pw2) != 0) {
		r->status = 400;
		reset_form(r, NULL, L(r, "The two passwords differ.",
		    "Les deux mots de passe diffèrent."));
		return;
	}
	if ((hash = passwd_hash(pw, (int)cfg_int(CFG_WEB_SCRYPT_LOG_N))) ==
	    NULL) {
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
		return;
	}
	portal_token_hash(r->args[0], thash);
	vals[0] = thash;
	vals[1] = hash;
	if ((doc = pp_change(r, PORTAL_PASSWORD_RESET, vals)) == NULL)
		goto out;
	if (portal_refused(doc) != NULL) {
		if (strcmp(portal_refused(doc), "bad_token") == 0)
			reset_invalid(r);
		else
			web_error(r, pp_refusal_status(doc),
			    pp_refusal_text(r, portal_refused(doc)));
		goto out;
	}
	pp_page(r, L(r, "Password changed", "Mot de passe changé"));
	web_raw(r, "<section>\n<p>");
	web_text(r, L(r, "Your new password is set, and every session of "
	    "your account was closed. Sign in with it now.", "Votre nouveau "
	    "mot de passe est enregistré, et toutes les sessions de votre "
	    "compte ont été fermées. Connectez-vous avec lui maintenant."));
	web_raw(r, "</p>\n<p><a href=\"/login\">");
	web_text(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</a></p>\n</section>\n");
	page_end(r);
out:
	json_object_put(doc);
	free(hash);
}

/* ---------------------------------------------------------- settings */

static void
settings_page(struct web_req *r, const char *error)
{
	json_object *doc;

	if ((doc = pp_load_own(r, PORTAL_SETTINGS, NULL)) == NULL)
		return;
	pp_page(r, L(r, "Settings", "Paramètres"));
	pp_error(r, error);
	web_raw(r, "<section>\n<h2>");
	web_text(r, L(r, "Your account", "Votre compte"));
	web_raw(r, "</h2>\n<dl><dt>");
	web_text(r, L(r, "E-mail address", "Adresse électronique"));
	web_raw(r, "</dt><dd>");
	web_text(r, pj_str(doc, "email"));
	web_raw(r, "</dd></dl>\n<p class=\"muted\">");
	web_text(r, L(r, "To change the address of your account, contact "
	    "us.", "Pour changer l'adresse de votre compte, contactez-nous."));
	web_raw(r, "</p>\n</section>\n<section>\n<h2>");
	web_text(r, L(r, "Language", "Langue"));
	web_raw(r, "</h2>\n");
	form_begin(r, "/settings", 0);
	pp_hidden(r, "form", "language");
	language_select(r, pj_str(doc, "language"));
	form_submit(r, L(r, "Save", "Enregistrer"));
	web_raw(r, "</form>\n</section>\n<section>\n<h2>");
	web_text(r, L(r, "Password", "Mot de passe"));
	web_raw(r, "</h2>\n");
	form_begin(r, "/settings", 0);
	pp_hidden(r, "form", "password");
	form_input(r, "password", "current", L(r, "Current password",
	    "Mot de passe actuel"), NULL, 1);
	form_input(r, "password", "password", L(r, "New password",
	    "Nouveau mot de passe"), NULL, 1);
	form_input(r, "password", "password2", L(r, "New password again",
	    "Nouveau mot de passe (encore)"), NULL, 1);
	password_hint(r);
	form_submit(r, L(r, "Change the password",
	    "Changer le mot de passe"));
	web_raw(r, "</form>\n<p class=\"muted\">");
	web_text(r, L(r, "Changing the password closes your other sessions.",
	    "Changer le mot de passe ferme vos autres sessions."));
	web_raw(r, "</p>\n</section>\n");
	page_end(r);
	json_object_put(doc);
}

void
portal_settings_get(struct web_req *r)
{
	settings_page(r, NULL);
}

/* POST /settings form=language: the customer's language. */
static void
settings_language(struct web_req *r)
{
	json_object *doc;
	const char *lang = web_form(r, "language"), *vals[3];
	char xa[24];

	if (lang == NULL)
		lang = "";
	pp_xa(r, xa);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = lang;
	if ((doc = pp_change(r, PORTAL_LANGUAGE_SET, vals)) == NULL)
		return;
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		settings_page(r, pp_refusal_text(r, portal_refused(doc)));
	} else {
		/* the page switches too (?lang= sets its cookie) */
		r->lang = strcmp(lang, "fr") == 0 ? LANG_FR : LANG_EN;
		web_flash(r, L(r, "Language saved.", "Langue enregistrée."));
		web_redirect(r, r->lang == LANG_FR ? "/settings?lang=fr" :
		    "/settings?lang=en");
	}
	json_object_put(doc);
}

/* POST /settings form=password: the current password, then the new one
 * twice; the other sessions end, and this one goes on under a new token. */
static void
settings_password(struct web_req *r)
{
	json_object *doc = NULL;
	const char *cur = web_form(r, "current"), *pw = web_form(r,
	    "password"), *pw2 = web_form(r, "password2"), *vals[4];
	char *stored = NULL, *hash = NULL, xa[24], keep[65];
	long long xa_id = r->sess.external_account_id;
	int blocked = 0;

	pp_xa(r, xa);
	if (!websession_login_blocked(r->db, r->sess.email, r->remote_addr,
	    cfg_int(CFG_WEB_LOGIN_MAX_FAILURES), &blocked)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		goto out;
	}
	if (blocked) {
		too_many(r);
		goto out;
	}
	stored = portal_password_hash(r->db, xa);
	if (cur == NULL || stored == NULL || !passwd_verify(cur, stored)) {
		(void)websession_login_failed(r->db, r->sess.email,
		    r->remote_addr);
		r->status = 400;
		settings_page(r, L(r, "The current password is wrong.",
		    "Le mot de passe actuel est incorrect."));
		goto out;
	}
	if (pw == NULL || !passwd_acceptable(pw)) {
		r->status = 400;
		settings_page(r, r->lang == LANG_FR ? "Le nouveau mot de passe "
		    "ne convient pas : il lui faut au moins 12 caractères, sans "
		    "caractère de contrôle." : "The new password will not do: "
		    "it needs at least 12 characters, and no control "
		    "characters.");
		goto out;
	}
	if (pw2 == NULL || strcmp(pw, pw2) != 0) {
		r->status = 400;
		settings_page(r, L(r, "The two new passwords differ.",
		    "Les deux nouveaux mots de passe diffèrent."));
		goto out;
	}
	if ((hash = passwd_hash(pw, (int)cfg_int(CFG_WEB_SCRYPT_LOG_N))) ==
	    NULL) {
		web_error(r, 500, L(r, "Internal error.", "Erreur interne."));
		goto out;
	}
	portal_token_hash(r->sess.token, keep);
	vals[0] = web_actor(r);
	vals[1] = xa;
	vals[2] = hash;
	vals[3] = keep;
	if ((doc = pp_change(r, PORTAL_PASSWORD_CHANGE, vals)) == NULL)
		goto out;
	if (portal_refused(doc) != NULL) {
		r->status = pp_refusal_status(doc);
		settings_page(r, pp_refusal_text(r, portal_refused(doc)));
		goto out;
	}
	/* this session goes on under a new token: a copy of the old one
	 * (stolen, the reason for the change) no longer signs in */
	if (!web_session_open(r, AUTH_CUSTOMER, xa_id)) {
		web_error(r, 503, L(r, "The service is unavailable, please "
		    "try again later.", "Le service est indisponible, "
		    "veuillez réessayer plus tard."));
		goto out;
	}
	web_flash(r, L(r, "Password changed; your other sessions were "
	    "closed.", "Mot de passe changé ; vos autres sessions ont été "
	    "fermées."));
	web_redirect(r, "/settings");
out:
	json_object_put(doc);
	free(stored);
	free(hash);
}

void
portal_settings_post(struct web_req *r)
{
	const char *form = web_form(r, "form");

	if (form != NULL && strcmp(form, "language") == 0)
		settings_language(r);
	else if (form != NULL && strcmp(form, "password") == 0)
		settings_password(r);
	else if (web_form(r, "language") != NULL &&
	    web_form(r, "current") == NULL)
		settings_language(r);
	else
		settings_password(r);
}
