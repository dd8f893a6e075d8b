/*
 * office_pages.h - the pages of the operators' back office (web/office*.c):
 * their handlers, listed in office_routes[] (web/office.c), and the
 * helpers they share. Every SQL call goes through common/office.c (its
 * header is office.h, hence this name).
 */
#ifndef ACME_WEB_OFFICE_PAGES_H
#define ACME_WEB_OFFICE_PAGES_H

#include <json-c/json.h>

#include "office.h"
#include "web.h"

/* Rows of a list page; the queue shows this many of each kind. */
#define OFFICE_PAGE_ROWS	50

/* The objects whose status an operator changes through a preview. */
enum office_object {
	OBJ_ORGANIZATION,
	OBJ_EXTERNAL_ACCOUNT,
	OBJ_ACME_ACCOUNT,
	OBJ__MAX
};

/* --- helpers (web/office.c) -------------------------------------------- */

/* Makes a call as the signed-in operator (web_actor()). Returns its
 * document (caller puts it), or NULL after rendering the refusal as an
 * error page with its status (400, 404, 409; 500 for a failure). */
json_object *office_call(struct web_req *, enum office_call,
	    const char *const *vals);
/* Renders a refusal or failure as an error page. */
void	 office_fail(struct web_req *, const struct office_err *);
/* Returns the text of a member (numbers and booleans as JSON writes
 * them), or NULL if absent or null (borrowed from o). */
const char *oj_str(json_object *o, const char *key);
/* Returns a member that is an array, or NULL (borrowed). */
json_object *oj_arr(json_object *o, const char *key);
/* Returns a member as an integer, 0 if absent. */
long long oj_int(json_object *o, const char *key);
/* Returns 1 if a member is true. */
int	 oj_true(json_object *o, const char *key);

/* Appends an RFC 3339 time as the pages show it ("-" if NULL). */
void	 office_date(struct web_req *, const char *rfc3339);
/* Appends text, or "-" if NULL or empty. */
void	 office_text_or_dash(struct web_req *, const char *);
/* Appends <a href="PREFIX+ID+SUFFIX">TEXT</a>, the id URL-encoded. */
void	 office_link(struct web_req *, const char *prefix, const char *id,
	    const char *suffix, const char *text);
/* Appends a hidden form field. */
void	 office_hidden(struct web_req *, const char *name,
	    const char *value);
/* Appends <tr><th>LABEL</th><td>VALUE or -</td></tr>. */
void	 office_row(struct web_req *, const char *label, const char *value);
/* Appends <tr><th>LABEL</th><td> (the caller closes </td></tr>). */
void	 office_row_begin(struct web_req *, const char *label);
/* Appends a row whose value is a status badge, or a date. */
void	 office_row_badge(struct web_req *, const char *label,
	    const char *status);
void	 office_row_date(struct web_req *, const char *label, const char *t);
/* Appends a link to PREFIX+ID showing TEXT, then when badge the badge of
 * status; "-" if id is NULL. */
void	 office_ref(struct web_req *, const char *prefix, const char *id,
	    const char *text, int badge, const char *status);
/* Appends a document's JSON, indented and escaped, in a <pre>. */
void	 office_json_pre(struct web_req *, json_object *);
/* Appends a list of names (a JSON array of strings) joined by ", ". */
void	 office_names(struct web_req *, json_object *arr);
/* Returns the label of a status-changing action in the page's language
 * (the action itself if unknown; borrowed). */
const char *office_action_label(const struct web_req *, const char *);
/* Returns 1 if an action takes away the right to order certificates
 * (suspend, expire, deactivate, revoke): it goes through a preview. */
int	 office_action_confirms(const char *action);
/* Returns the label of a document kind (borrowed). */
const char *office_kind_label(const struct web_req *, const char *kind);
/* Appends the actions of an object: a link to the preview
 * (BASE+ID/confirm?action=A) of the actions that confirm, else a
 * one-button form posting action to BASE+ID/status. */
void	 office_actions(struct web_req *, enum office_object, const char *id,
	    json_object *actions);
/* Appends a submit button for a change that cannot be undone. */
void	 office_danger_submit(struct web_req *, const char *label);
/* Appends a search form (GET ACTION, field q). */
void	 office_search_form(struct web_req *, const char *action,
	    const char *q, const char *label);
/* Returns the base path of an object's pages ("/office/organizations/")
 * and its status_transition type ("organization"). */
const char *office_object_base(enum office_object);
const char *office_object_type(enum office_object);
/* Returns the name of an object ("External account") and the message
 * saying there is no such object, in the page's language (borrowed). */
const char *office_object_label(const struct web_req *, enum office_object);
const char *office_object_missing(const struct web_req *,
	    enum office_object);

/* Appends a table of certificates (office_certificate_row documents of
 * sql/012_office.sql). web/office_org.c */
void	 office_cert_table(struct web_req *, json_object *list);
/* Appends the section of the ACME accounts (member acme_accounts of an
 * organization or external account document); the fourth column is
 * their domains when domains, else their expiry. web/office_org.c */
void	 office_acme_section(struct web_req *, json_object *doc,
	    int domains);
/* Appends the decision forms a document's actions allow: validate, and
 * reject with its required reason; back ("organization" or "document")
 * names the page shown afterwards. web/office_doc.c */
void	 office_doc_forms(struct web_req *, json_object *doc,
	    const char *back);

/* --- handlers ---------------------------------------------------------- */

/* web/office_login.c */
void	 office_login_form(struct web_req *);
void	 office_login(struct web_req *);
void	 office_logout(struct web_req *);
/* web/office_queue.c */
void	 office_root(struct web_req *);
void	 office_queue(struct web_req *);
/* web/office_org.c */
void	 office_org_search(struct web_req *);
void	 office_org_show(struct web_req *);
void	 office_org_credit(struct web_req *);
void	 office_domain_status(struct web_req *);
/* web/office_doc.c */
void	 office_doc_show(struct web_req *);
void	 office_doc_file(struct web_req *);
void	 office_doc_decision(struct web_req *);
/* web/office_account.c */
void	 office_xa_show(struct web_req *);
void	 office_acme_show(struct web_req *);
/* web/office_status.c: preview and status change of the objects */
void	 office_org_confirm(struct web_req *);
void	 office_org_status(struct web_req *);
void	 office_xa_confirm(struct web_req *);
void	 office_xa_status(struct web_req *);
void	 office_acme_confirm(struct web_req *);
void	 office_acme_status(struct web_req *);
/* web/office_cert.c */
void	 office_cert_search(struct web_req *);
void	 office_cert_show(struct web_req *);
void	 office_cert_revoke(struct web_req *);
/* web/office_audit.c */
void	 office_audit(struct web_req *);

#endif
