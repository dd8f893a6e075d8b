/*
 * portal_pages.h - the pages of the customer's certificate manager
 * (web/portal*.c): their handlers, listed in portal_routes[]
 * (web/portal.c), and the helpers they share. Every SQL call goes
 * through common/portal.c (whose header is portal.h, hence this name).
 */
#ifndef ACME_WEB_PORTAL_PAGES_H
#define ACME_WEB_PORTAL_PAGES_H

#include <json-c/json.h>

#include "portal.h"
#include "web.h"

/* Rows of a paginated list. */
#define PORTAL_PAGE_ROWS	25

/* --- helpers (web/portal.c) -------------------------------------------- */

/* Writes the session's external account id as text into buf. */
void	 pp_xa(const struct web_req *, char buf[24]);
/* Makes a call for a page to show. Returns its document (the caller
 * puts it), or NULL after rendering an error page: the status of the
 * refusal (pp_refusal_status()), or 500 for a database failure. */
json_object *pp_load(struct web_req *, enum portal_fn, const char *const *);
/* pp_load() of a call about the session's external account: its id,
 * then arg when the call takes a second parameter. */
json_object *pp_load_own(struct web_req *, enum portal_fn, const char *arg);
/* Returns the HTTP status of a refusal document by its kind: 400
 * invalid (and a refusal of no known kind), 404 not_found, 409
 * conflict. */
int	 pp_refusal_status(json_object *doc);
/* Makes a call that changes something. Returns its document, a refusal
 * included (the caller shows it with pp_refusal_text()), or NULL after
 * rendering the 500 page of a database failure. */
json_object *pp_change(struct web_req *, enum portal_fn,
	    const char *const *);
/* Makes a change to the object of the path: fn (the actor, the session's
 * external account, r->args[0], value). Returns its document (the caller
 * puts it), or NULL after rendering a page: 500 for a database failure,
 * 404 for the refusal missing, else page(r, the refusal's text) with
 * the refusal's status. */
json_object *pp_object_change(struct web_req *, enum portal_fn,
	    const char *value, const char *missing,
	    void (*page)(struct web_req *, const char *error));
/* Returns a refusal (code or sentence) as the customer reads it, in the
 * page's language (borrowed). */
const char *pp_refusal_text(const struct web_req *, const char *refused);

/* Returns the text of a member (numbers and booleans as JSON writes
 * them), or NULL if absent or null (borrowed from o). */
const char *pj_str(json_object *o, const char *key);
/* Returns a member that is an array, or NULL (borrowed). */
json_object *pj_arr(json_object *o, const char *key);
/* Returns the length of an array (0 for NULL) and one of its elements
 * (borrowed). */
size_t	 pj_len(json_object *arr);
json_object *pj_idx(json_object *arr, size_t i);
/* Returns a member that is an object, or NULL (borrowed). */
json_object *pj_obj(json_object *o, const char *key);
/* Returns a member as an integer, 0 if absent. */
long long pj_int(json_object *o, const char *key);
/* Returns 1 if a member is true. */
int	 pj_true(json_object *o, const char *key);

/* Appends an RFC 3339 time as people read it ("-" if NULL). */
void	 pp_date(struct web_req *, const char *rfc3339);
/* The same, the day only. */
void	 pp_day(struct web_req *, const char *rfc3339);
/* Appends text, or "-" if NULL or empty. */
void	 pp_text_or_dash(struct web_req *, const char *);
/* Appends a status as a badge, its word translated in French. */
void	 pp_badge(struct web_req *, const char *status);
/* Returns the label of a document kind (borrowed). */
const char *pp_kind_label(const struct web_req *, const char *kind);
/* Appends <h1>TITLE</h1> after page_begin(TITLE). */
void	 pp_page(struct web_req *, const char *title);
/* Appends <p class="error">TEXT</p> (nothing for NULL). */
void	 pp_error(struct web_req *, const char *text);
/* Appends a hidden form field. */
void	 pp_hidden(struct web_req *, const char *name, const char *value);
/* Appends <a href="PREFIX+ID+SUFFIX">TEXT</a>, the id URL-encoded. */
void	 pp_link(struct web_req *, const char *prefix, const char *id,
	    const char *suffix, const char *text);
/* Appends a <textarea> with its label. */
void	 pp_textarea(struct web_req *, const char *name, const char *label,
	    const char *value, int rows);
/* Appends a paginator: previous/next links to PATH?[q=Q&]page=N. */
void	 pp_pager(struct web_req *, const char *path, const char *q,
	    long page, long long total);
/* Returns the page number of the query (?page=N, 1 if absent or bad). */
long	 pp_page_number(const struct web_req *);
/* Returns a trimmed copy of a form field ("" if absent); caller frees. */
char	*pp_field(const struct web_req *, const char *name);
/* Upper-cases country in place, then returns why the details of an
 * organization will not do (the first refusal, as the customer reads it;
 * borrowed), or NULL if they will. */
const char *pp_org_check(const struct web_req *, const char *name,
	    char *country, const char *state, const char *locality);
/* Returns 1 if a form field is exactly "1", "on" or "true". */
int	 pp_checked(const struct web_req *, const char *name);

/* --- handlers ------------------------------------------------------------ */

/* web/portal_auth.c */
void	 portal_home(struct web_req *);
void	 portal_signup_get(struct web_req *);
void	 portal_signup_post(struct web_req *);
void	 portal_resend_get(struct web_req *);
void	 portal_resend_post(struct web_req *);
void	 portal_confirm(struct web_req *);
void	 portal_login_get(struct web_req *);
void	 portal_login_post(struct web_req *);
void	 portal_logout(struct web_req *);
void	 portal_forgot_get(struct web_req *);
void	 portal_forgot_post(struct web_req *);
void	 portal_reset_get(struct web_req *);
void	 portal_reset_post(struct web_req *);
void	 portal_settings_get(struct web_req *);
void	 portal_settings_post(struct web_req *);

/* web/portal_home.c */
void	 portal_dashboard(struct web_req *);

/* web/portal_org.c */
void	 portal_organization_get(struct web_req *);
void	 portal_organization_post(struct web_req *);
void	 portal_domain_post(struct web_req *);
void	 portal_documents_get(struct web_req *);
void	 portal_documents_post(struct web_req *);
void	 portal_document_file_get(struct web_req *);

/* web/portal_accounts.c */
void	 portal_accounts_get(struct web_req *);
void	 portal_account_new_get(struct web_req *);
void	 portal_account_new_post(struct web_req *);
void	 portal_account_get(struct web_req *);
void	 portal_account_regenerate(struct web_req *);
void	 portal_account_suspend(struct web_req *);
void	 portal_account_reactivate(struct web_req *);

/* web/portal_certs.c */
void	 portal_certificates_get(struct web_req *);
void	 portal_certificate_get(struct web_req *);
void	 portal_certificate_pem_get(struct web_req *);
void	 portal_certificate_revoke(struct web_req *);

/* web/portal_credit.c */
void	 portal_credit_get(struct web_req *);
void	 portal_notifications_get(struct web_req *);
void	 portal_notification_get(struct web_req *);

#endif
