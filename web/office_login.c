/*
 * office_login.c - signing in to the back office and out of it. An
 * operator gives a name or e-mail address and a password, and must
 * present the client certificate registered for them (the web server
 * verified it; the dispatcher computed r->client_cert_sha256); a DISABLED
 * operator cannot sign in. Every failure gets the same answer (403),
 * whatever failed, and counts towards the rate limit of the operator (by
 * name, whether they were named by name or by address; else of what was
 * typed) and of the client address (web_login_max_failures per 15
 * minutes, 4 times that per address); a blocked operator or address is
 * refused with 429, as on the portal, without checking the password.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "office_pages.h"
#include "passwd.h"
#include "websession.h"

#define LOGIN_MAX_BYTES	254	/* a name or an e-mail address */

/* The sign-in form, with a message after a failure (status set). */
static void
login_page(struct web_req *r, const char *login, const char *error)
{
	page_begin(r, L(r, "Operator sign-in", "Connexion des opérateurs"));
	web_raw(r, "<h1>");
	web_text(r, L(r, "Operator sign-in", "Connexion des opérateurs"));
	web_raw(r, "</h1>\n");
	if (error != NULL) {
		web_raw(r, "<p class=\"error\" role=\"alert\">");
		web_text(r, error);
		web_raw(r, "</p>\n");
	}
	web_raw(r, "<p class=\"muted\">");
	web_text(r, L(r, "Your browser presented the certificate:",
	    "Votre navigateur a présenté le certificat :"));
	web_raw(r, " ");
	office_text_or_dash(r, r->client_cert_subject);
	web_raw(r, "</p>\n");
	form_begin(r, "/office/login", 0);
	form_input(r, "text", "login", L(r, "Name or e-mail address",
	    "Nom ou adresse électronique"), login != NULL ? login : "", 1);
	form_input(r, "password", "password", L(r, "Password",
	    "Mot de passe"), NULL, 1);
	form_submit(r, L(r, "Sign in", "Se connecter"));
	web_raw(r, "</form>\n");
	page_end(r);
}

void
office_login_form(struct web_req *r)
{
	if (r->sess.kind == AUTH_OPERATOR) {
		web_redirect(r, "/office/");
		return;
	}
	login_page(r, NULL, NULL);
}

/* Returns 1 if the presented certificate is the operator's. */
static int
login_cert_ok(const struct web_req *r, const struct ws_operator *o)
{
	size_t n;

	if (o->cert_sha256 == NULL || r->client_cert_sha256 == NULL)
		return 0;
	n = strlen(o->cert_sha256);
	return n == strlen(r->client_cert_sha256) &&
	    ct_equal(o->cert_sha256, r->client_cert_sha256, n);
}

/* Returns the hash checked when no operator has the name, so that an
 * unknown name costs as much as a wrong password (made once per child;
 * NULL if that failed). */
static const char *
login_dummy_hash(void)
{
	static char *dummy;
	char *pw;

	if (dummy == NULL) {
		pw = random_token();
		dummy = passwd_hash(pw, (int)cfg_int(CFG_WEB_SCRYPT_LOG_N));
		free(pw);
	}
	return dummy;
}

void
office_login(struct web_req *r)
{
	struct ws_operator o;
	const char *login = web_form(r, "login");
	const char *password = web_form(r, "password");
	const char *hash, *who;
	int blocked = 0, ok = 0;

	memset(&o, 0, sizeof(o));
	if (login == NULL || *login == '\0' || strlen(login) >
	    LOGIN_MAX_BYTES || password == NULL || *password == '\0' ||
	    strlen(password) > PASSWD_MAX_BYTES)
		goto fail;
	if (!websession_operator_login(r->db, login, &o))
		goto unavailable;
	/* failures count for the operator whether named by name or address */
	who = o.found && o.name != NULL ? o.name : login;
	if (!websession_login_blocked(r->db, who, r->remote_addr,
	    cfg_int(CFG_WEB_LOGIN_MAX_FAILURES), &blocked))
		goto unavailable;
	if (blocked) {
		web_error(r, 429, L(r, "Too many failed sign-ins: please wait "
		    "15 minutes and try again.", "Trop de connexions échouées "
		    ": veuillez patienter 15 minutes et réessayer."));
		web_header(r, "Retry-After: 900");
		goto out;
	}
	/* the password is checked whatever else fails: same cost */
	hash = o.found ? o.password_hash : login_dummy_hash();
	ok = hash != NULL && passwd_verify(password, hash);
	ok = ok && o.found && o.status != NULL &&
	    strcmp(o.status, "ACTIVE") == 0 && login_cert_ok(r, &o);
	if (!ok) {
		if (!websession_login_failed(r->db, who, r->remote_addr))
			goto unavailable;
		goto fail;
	}
	if (!web_session_open(r, AUTH_OPERATOR, o.id))
		goto unavailable;
	web_redirect(r, "/office/");
	goto out;
fail:
	r->status = 403;
	login_page(r, login, L(r, "Sign-in refused: the name, the password "
	    "or the certificate is wrong, or the account is disabled.",
	    "Connexion refusée : le nom, le mot de passe ou le certificat "
	    "est incorrect, ou le compte est désactivé."));
	goto out;
unavailable:
	web_error(r, 503, L(r, "The service is unavailable, please try "
	    "again later.", "Le service est indisponible, veuillez "
	    "réessayer plus tard."));
out:
	websession_operator_free(&o);
}

void
office_logout(struct web_req *r)
{
	web_session_close(r);
	web_redirect(r, "/office/login");
}
