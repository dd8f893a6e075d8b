/*
 * notify.h - e-mail notifications to the contact of external accounts:
 * the templates (files an operator edits), the run of the digests that
 * queues messages in the outbox, and the claim and outcome of their
 * delivery. All their SQL is here and in sql/007_notifications.sql.
 *
 * Templates: templates_dir/LANGUAGE/KIND.txt. The first line is
 * "Subject: ..."; the body follows (empty lines at its start and end are
 * dropped). {{name}} is replaced by the value of name; {{#name}}...
 * {{/name}} repeats its text for each element of the list name (inside,
 * names are looked up in the element first), or shows it once when name
 * is a non-empty value; {{^name}}...{{/name}} shows its text only when
 * name is empty, null or an empty list; {{! ...}} is a comment. A line
 * holding only a section tag or a comment disappears whole. An unknown
 * name is an error: nothing is sent with a template that has one.
 */
#ifndef ACME_NOTIFY_H
#define ACME_NOTIFY_H

#include <stddef.h>

#include <json-c/json.h>

#include "db.h"

enum notify_kind {
	NK_CERTIFICATES_ISSUED,
	NK_MISSING_DOCUMENTS,
	NK_EXPIRING_DOCUMENTS,
	NK_EXPIRING_CERTIFICATES,
	NK__MAX
};

/* The kinds' names, as in outbox.kind and the template file names. */
extern const char *const notify_kinds[NK__MAX];

#define NOTIFY_TEMPLATE_MAX	65536	/* bytes of a template file */
#define NOTIFY_BODY_MAX		1048576	/* bytes of a rendered message */

/*
 * Renders template tpl with data (a JSON object). Returns 1 with the
 * subject (one line) and the body (ending with a newline), both owned by
 * the caller, or 0 with err saying what is wrong in the template.
 */
int	 notify_render(const char *tpl, json_object *data, char **subject,
	    char **body, char *err, size_t errlen);

/* Reads template dir/language/kind.txt (UTF-8, CRLF read as LF). Returns
 * its text (caller frees), or NULL with err set. */
char	*notify_template_load(const char *dir, const char *language,
	    const char *kind, char *err, size_t errlen);

/* Parses a list of lead times in days, "30,7,1" (1 to 3650 each; ""
 * for none), into a PostgreSQL array "{30,7,1}" (caller frees). Returns
 * 1 or 0. */
int	 notify_days_parse(const char *text, char **array);

struct notify_run {
	long	 id;		/* notification_run.id */
	char	*period;
	long	 messages;	/* queued */
};

/*
 * Runs the digests in one transaction: job "daily" is the scheduled run,
 * due from notify_hour (UTC) on and run once per UTC date among all
 * workers (elected by notification_run's UNIQUE (job, period)); it never
 * waits for a run in progress elsewhere. Job "manual" is an extra run
 * now, after any run in progress. The messages (rendered from the
 * templates of the recipient's language) and the items they announce are
 * written with the run's row, so each item is announced once. The
 * configuration gives the lead times and the templates. Returns 1 with
 * run filled (free with notify_run_free), 2 when there was nothing to
 * run, 0 on an error (logged; nothing is queued).
 */
int	 notify_run_digests(struct db *, const char *job, const char *actor,
	    struct notify_run *run);
void	 notify_run_free(struct notify_run *);

/* A message claimed for delivery. */
struct outbox_msg {
	long	 id;
	int	 attempts;	/* this one included */
	char	*kind;
	char	*recipient;
	char	*subject;
	char	*body;
	char	*token;		/* left part of the Message-ID */
	long	 created;	/* seconds since the epoch: the Date */
};

/* Claims the next message due (FOR UPDATE SKIP LOCKED) under a lease of
 * lease seconds, counting the attempt. Returns 1 with m filled (free
 * with outbox_msg_free), 0 when none is due, -1 on a database error. */
int	 notify_claim(struct db *, long lease, struct outbox_msg *m);
void	 outbox_msg_free(struct outbox_msg *);

/* Records the outcome of the attempt m was claimed for: error NULL, sent;
 * else pending again in retry seconds, or failed for good when retry is
 * negative. Returns 1, 0 when the message was claimed again meanwhile
 * (nothing changed), -1 on a database error. */
int	 notify_finish(struct db *, const struct outbox_msg *m,
	    const char *error, long retry);

#endif
