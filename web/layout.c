/*
 * layout.c - the frame of every page (head, header with the area's
 * navigation and the language switch, the flash notice), the form
 * helpers that carry the CSRF token, the status badges, the one
 * stylesheet (web/site.css, compiled in) and the site's icon.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web-internal.h"

/* One link of a navigation bar. */
struct nav_link {
	const char	*href;
	const char	*en, *fr;
	int		 exact;		/* current only on this very path */
};

static const struct nav_link portal_nav[] = {
	{ "/dashboard", "Dashboard", "Tableau de bord", 1 },
	{ "/organization", "Organization", "Organisation", 0 },
	{ "/documents", "Documents", "Documents", 0 },
	{ "/accounts", "ACME accounts", "Comptes ACME", 0 },
	{ "/certificates", "Certificates", "Certificats", 0 },
	{ "/credit", "Credit", "Crédit", 0 },
	{ "/notifications", "E-mails", "Courriels", 0 },
	{ "/settings", "Settings", "Paramètres", 0 },
	{ NULL, NULL, NULL, 0 }
};

static const struct nav_link office_nav[] = {
	{ "/office/", "Queue", "File d'attente", 1 },
	{ "/office/organizations", "Organizations", "Organisations", 0 },
	{ "/office/certificates", "Certificates", "Certificats", 0 },
	{ "/office/audit", "Audit log", "Journal d'audit", 0 },
	{ NULL, NULL, NULL, 0 }
};

/* The site's icon: a white padlock on the portal's blue. */
static const char favicon_svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
    "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1f5fbf\"/>"
    "<path d=\"M11 15v-4a5 5 0 0 1 10 0v4\" fill=\"none\" "
    "stroke=\"#fff\" stroke-width=\"2.5\"/>"
    "<rect x=\"8\" y=\"14\" width=\"16\" height=\"12\" rx=\"2\" "
    "fill=\"#fff\"/></svg>\n";

/* Writes into url (size bytes) the path of a compiled-in file with the
 * FNV-1a hash of its content as version: a new content, a new URL. */
static void
versioned_url(char *url, size_t size, const char *path, const char *data)
{
	const unsigned char *p;
	unsigned long h = 2166136261UL;

	for (p = (const unsigned char *)data; *p != '\0'; p++)
		h = ((h ^ *p) * 16777619UL) & 0xffffffffUL;
	snprintf(url, size, "%s?v=%08lx", path, h);
}

const char *
web_css_url(void)
{
	static char url[64];

	if (url[0] == '\0')
		versioned_url(url, sizeof(url), "/static/site.css",
		    web_site_css);
	return url;
}

void
web_serve_css(struct web_req *r)
{
	r->raw_body = 1;
	r->content_type = "text/css; charset=utf-8";
	web_header(r, "Cache-Control: public, max-age=31536000, immutable");
	web_bytes(r, web_site_css, strlen(web_site_css));
}

const char *
web_favicon_url(void)
{
	static char url[64];

	if (url[0] == '\0')
		versioned_url(url, sizeof(url), "/static/favicon.svg",
		    favicon_svg);
	return url;
}

void
web_serve_favicon(struct web_req *r)
{
	r->raw_body = 1;
	r->content_type = "image/svg+xml";
	/* /favicon.ico, asked by browsers on their own, has no version */
	if (r->path != NULL && strcmp(r->path, "/favicon.ico") == 0)
		web_header(r, "Cache-Control: public, max-age=86400");
	else
		web_header(r, "Cache-Control: public, max-age=31536000, "
		    "immutable");
	web_bytes(r, favicon_svg, sizeof(favicon_svg) - 1);
}

/* Returns 1 if the link is the current page (or its section). */
static int
nav_current(const struct web_req *r, const struct nav_link *l)
{
	size_t n = strlen(l->href);

	if (r->path == NULL)
		return 0;
	if (l->exact)
		return strcmp(r->path, l->href) == 0;
	return strncmp(r->path, l->href, n) == 0 &&
	    (r->path[n] == '\0' || r->path[n] == '/');
}

/* The navigation of the signed-in user, with the sign-out button. */
static void
nav(struct web_req *r)
{
	const struct nav_link *l;
	int office = r->area == AREA_OFFICE;

	if (r->sess.kind == AUTH_ANON) {
		if (office)
			return;
		web_raw(r, "<nav><ul>\n<li><a href=\"/login\">");
		web_text(r, L(r, "Sign in", "Connexion"));
		web_raw(r, "</a></li>\n<li><a href=\"/signup\">");
		web_text(r, L(r, "Sign up", "Inscription"));
		web_raw(r, "</a></li>\n</ul></nav>\n");
		return;
	}
	web_raw(r, "<nav><ul>\n");
	for (l = office ? office_nav : portal_nav; l->href != NULL; l++) {
		web_raw(r, "<li><a href=\"");
		web_raw(r, l->href);
		web_raw(r, nav_current(r, l) ? "\" aria-current=\"page\">" :
		    "\">");
		web_text(r, L(r, l->en, l->fr));
		web_raw(r, "</a></li>\n");
	}
	web_raw(r, "<li>");
	form_begin(r, office ? "/office/logout" : "/logout", 0);
	web_raw(r, "<button type=\"submit\" class=\"link\">");
	web_text(r, L(r, "Sign out", "Déconnexion"));
	web_raw(r, "</button></form></li>\n</ul></nav>\n");
}

void
page_begin(struct web_req *r, const char *title)
{
	struct web_ctx *ctx = WEB_CTX(r);
	const char *site = r->area == AREA_OFFICE ?
	    L(r, "Back office", "Back office") :
	    L(r, "Certificate manager", "Gestionnaire de certificats");
	const char *flash;

	if (r->page_open)
		return;
	r->page_open = 1;
	web_raw(r, "<!DOCTYPE html>\n<html lang=\"");
	web_raw(r, r->lang == LANG_FR ? "fr" : "en");
	web_raw(r, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>");
	if (title != NULL && *title != '\0') {
		web_text(r, title);
		web_raw(r, " - ");
	}
	web_text(r, site);
	web_raw(r, "</title>\n<link rel=\"stylesheet\" href=\"");
	web_text(r, web_css_url());
	web_raw(r, "\">\n<link rel=\"icon\" type=\"image/svg+xml\" href=\"");
	web_text(r, web_favicon_url());
	web_raw(r, "\">\n</head>\n<body class=\"");
	web_raw(r, r->area == AREA_OFFICE ? "office" : "portal");
	web_raw(r, "\">\n<header>\n<a class=\"brand\" href=\"");
	web_raw(r, r->area == AREA_OFFICE ? "/office/" : "/");
	web_raw(r, "\">");
	web_text(r, site);
	web_raw(r, "</a>\n");
	nav(r);
	web_raw(r, "<a class=\"lang\" href=\"?lang=");
	web_raw(r, r->lang == LANG_FR ? "en\" hreflang=\"en\" lang=\"en\">"
	    "English" : "fr\" hreflang=\"fr\" lang=\"fr\">Français");
	web_raw(r, "</a>\n");
	if (r->sess.kind != AUTH_ANON) {
		web_raw(r, "<span class=\"user\">");
		web_text(r, r->sess.kind == AUTH_OPERATOR ? r->sess.name :
		    r->sess.email);
		web_raw(r, "</span>\n");
	}
	web_raw(r, "</header>\n<main>\n");
	flash = ctx->new_flash != NULL ? ctx->new_flash : r->sess.flash;
	if (flash != NULL && *flash != '\0') {
		web_raw(r, "<p class=\"flash\" role=\"status\">");
		web_text(r, flash);
		web_raw(r, "</p>\n");
	}
	ctx->flash_shown = 1;
	free(ctx->new_flash);
	ctx->new_flash = NULL;
}

void
page_end(struct web_req *r)
{
	if (!r->page_open)
		return;
	r->page_open = 0;
	web_raw(r, "</main>\n</body>\n</html>\n");
}

void
form_begin(struct web_req *r, const char *action, int enctype_multipart)
{
	const char *token = r->sess.kind != AUTH_ANON ? r->sess.csrf :
	    r->pre_token;

	web_raw(r, "<form method=\"post\" action=\"");
	web_text(r, action);
	web_raw(r, enctype_multipart ? "\" enctype=\"multipart/form-data\">" :
	    "\">");
	web_raw(r, "<input type=\"hidden\" name=\"csrf\" value=\"");
	web_text(r, token != NULL ? token : "");
	web_raw(r, "\">\n");
}

void
form_input(struct web_req *r, const char *type, const char *name,
    const char *label, const char *value, int required)
{
	int password = type != NULL && strcmp(type, "password") == 0;

	web_raw(r, "<label>");
	web_text(r, label);
	web_raw(r, " <input type=\"");
	web_text(r, type != NULL ? type : "text");
	web_raw(r, "\" name=\"");
	web_text(r, name);
	web_raw(r, "\"");
	if (value != NULL && !password) {	/* never echo a password */
		web_raw(r, " value=\"");
		web_text(r, value);
		web_raw(r, "\"");
	}
	if (required)
		web_raw(r, " required");
	web_raw(r, "></label>\n");
}

void
form_select(struct web_req *r, const char *name, const char *label,
    const char *const *values, const char *const *labels, size_t n,
    const char *selected)
{
	size_t i;

	web_raw(r, "<label>");
	web_text(r, label);
	web_raw(r, " <select name=\"");
	web_text(r, name);
	web_raw(r, "\">\n");
	for (i = 0; i < n; i++) {
		web_raw(r, "<option value=\"");
		web_text(r, values[i]);
		web_raw(r, selected != NULL && strcmp(selected, values[i]) == 0 ?
		    "\" selected>" : "\">");
		web_text(r, labels != NULL ? labels[i] : values[i]);
		web_raw(r, "</option>\n");
	}
	web_raw(r, "</select></label>\n");
}

void
form_submit(struct web_req *r, const char *label)
{
	web_raw(r, "<button type=\"submit\">");
	web_text(r, label);
	web_raw(r, "</button>\n");
}

void
web_badge(struct web_req *r, const char *status)
{
	char cls[32];
	size_t i, n = 0;

	if (status == NULL)
		status = "";
	for (i = 0; status[i] != '\0' && n + 1 < sizeof(cls); i++)
		if (isalnum((unsigned char)status[i]))
			cls[n++] = (char)tolower((unsigned char)status[i]);
	cls[n] = '\0';
	web_raw(r, "<span class=\"badge badge-");
	web_raw(r, n > 0 ? cls : "none");
	web_raw(r, "\">");
	web_text(r, status);
	web_raw(r, "</span>");
}

void
web_thead(struct web_req *r, const char *open, const char *close, ...)
{
	va_list ap;
	const char *label;
	int first = 1;

	web_raw(r, open);
	va_start(ap, close);
	while ((label = va_arg(ap, const char *)) != NULL) {
		if (!first)
			web_raw(r, "</th><th>");
		web_text(r, label);
		first = 0;
	}
	va_end(ap);
	web_raw(r, close);
}
