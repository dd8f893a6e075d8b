/*
 * office.h - the operators' back office (acme-web's office area, web/
 * office*.c): every SQL call its pages make, each one call of a function
 * of sql/012_office.sql or of an op_* function of sql/003..006 returning
 * one JSON document (signing in is common/websession.c's); and the small
 * pure helpers of the office pages and of acmectl's operator commands
 * (unit-tested in tests/unit/test_office.c).
 *
 * This header does not include problem.h (whose enum lang clashes with
 * web.h's enum web_lang): a refusal comes back as a struct office_err.
 */
#ifndef ACME_OFFICE_H
#define ACME_OFFICE_H

#include <stddef.h>
#include <time.h>

#include <json-c/json.h>

#include "db.h"

/* The calls; each takes its parameters as text (NULL is SQL NULL). */
enum office_call {
	OFFICE_QUEUE,			/* limit */
	OFFICE_ORGANIZATION_SEARCH,	/* query, limit */
	OFFICE_ORGANIZATION_SHOW,	/* id, limit */
	OFFICE_ORGANIZATION_SET_STATUS,	/* actor; id, action */
	OFFICE_CREDIT_ADD,		/* actor; id, amount, reason */
	OFFICE_DOMAIN_SET_STATUS,	/* actor; domain id, action */
	OFFICE_DOCUMENT_SHOW,		/* id */
	OFFICE_DOCUMENT_DECIDE,		/* actor; id, action, reason, expiry
					 * day (validate) */
	OFFICE_EXTERNAL_ACCOUNT_SHOW,	/* id */
	OFFICE_EXTERNAL_ACCOUNT_SET_STATUS, /* actor; id, action */
	OFFICE_ACME_ACCOUNT_SHOW,	/* kid, limit */
	OFFICE_ACME_ACCOUNT_SET_STATUS,	/* actor; kid, action */
	OFFICE_PREVIEW,			/* object type, id, action */
	OFFICE_CERTIFICATE_SEARCH,	/* query, limit */
	OFFICE_CERTIFICATE_SHOW,	/* id or serial */
	OFFICE_CERTIFICATE_REVOKE,	/* actor; id or serial, reason */
	OFFICE_AUDIT_PAGE,		/* query, before id, limit */
	OFFICE__MAX
};

#define OFFICE_MAX_PARAMS	4	/* the actor not counted */

/* A validated document is valid until a day from tomorrow to this many
 * years ahead (as sql/015_document_expiry.sql checks); the form offers
 * the default one. */
#define OFFICE_DOCUMENT_YEARS_MAX	3
#define OFFICE_DOCUMENT_YEARS_DEFAULT	1

/* A refusal or failure: the HTTP status that says its kind (400 bad
 * input, 404 unknown object, 409 refused by the object's status, 500 the
 * database failed) and a clear message (English, from the database). */
struct office_err {
	int	 status;
	char	 detail[512];
};

/* A document's stored file. */
struct office_file {
	char		*filename;
	char		*content_type;
	unsigned char	*data;
	size_t		 len;
};

/* Returns the number of parameters of a call, the actor not counted. */
int	 office_nparams(enum office_call);
/* Returns the HTTP status of a kind of refusal of the SQL functions of
 * the web site (sql/011, sql/012): 404 not_found, 409 conflict, 400
 * invalid and any other kind or none. */
int	 office_refusal_status(const char *kind);

/*
 * Makes one call with its parameters (office_nparams() of them); an
 * audited call records actor. Returns the result document (a new
 * reference, owned by the caller), or NULL with err set; nothing was
 * changed then.
 */
json_object *office_run(struct db *, enum office_call, const char *actor,
	    const char *const *vals, struct office_err *err);

/* Loads the stored file of document id (digits). Returns 1, or 0 with
 * err set (404 when the document has no file). Free with
 * office_file_free(). */
int	 office_document_file(struct db *, const char *id,
	    struct office_file *, struct office_err *err);
void	 office_file_free(struct office_file *);

/* --- pure helpers ------------------------------------------------------ */

/* Returns 1 if s is a database id (1 to 18 digits, no leading zero). */
int	 office_id_ok(const char *s);
/* Returns 1 if s is a UUID in canonical form (any case). */
int	 office_uuid_ok(const char *s);
/* Returns 1 if s is a credit amount: an optionally negative decimal
 * integer, not zero, within 32 bits signed. */
int	 office_amount_ok(const char *s);
/* Returns 1 if s is one of the RFC 5280 reason codes an operator gives
 * (0, 1, 3, 4, 5, 9). */
int	 office_reason_ok(const char *s);
/* Returns the content type to serve a stored file with: the stored one
 * when it is a plain "type/subtype" token (lower-cased, parameters
 * dropped), else application/octet-stream. New string, caller frees. */
char	*office_content_type(const char *stored);
/* Returns a file name safe in a Content-Disposition header: the last
 * path component, characters other than letters, digits, '.', '-' and
 * '_' replaced by '_', no leading dot, at most 100 bytes, "document" if
 * nothing is left. New string, caller frees. */
char	*office_safe_filename(const char *name);
/* Returns s percent-encoded for a query string (unreserved characters
 * kept). New string, caller frees. */
char	*office_urlencode(const char *s);
/* Returns 1 if s is a calendar day "YYYY-MM-DD" (years 0001 to 9999). */
int	 office_day_ok(const char *s);
/* Writes to out (size bytes, at least 11) the UTC day of t moved by
 * years, then by days ("2026-03-15"); a 29 February moved to a common
 * year becomes the 28th, as PostgreSQL's date + interval 'N years'. */
void	 office_day_from(time_t t, int years, int days, char *out,
	    size_t size);
/* Returns an RFC 3339 UTC time ("2026-03-15T06:00:00Z") as the pages show
 * it ("2026-03-15 06:00 UTC"); anything else unchanged. New string. */
char	*office_date_text(const char *rfc3339);
/* Computes the lowercase hex SHA-256 of the DER of the first certificate
 * of a PEM text. Returns a new string, or NULL if there is none. */
char	*office_cert_sha256_pem(const char *pem, size_t len);

#endif
