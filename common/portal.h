/*
 * portal.h - the customer's certificate manager (acme-web, portal area):
 * every database call of its pages, each one SQL function of
 * sql/011_portal.sql, and the pure logic of its pages (recognizing an
 * uploaded file by its content, normalizing a serial, the ACME client
 * command lines, e-mail and country checks).
 *
 * The SQL functions of a signed-in customer take the session's external
 * account id and find everything else from it, so an object of another
 * organization is "not found" by construction. They return a JSON
 * document, or {"refused": CODE, "kind": KIND} on refusal (CODE a
 * snake_case word the pages translate, or an English sentence).
 *
 * This header stays free of problem.h (whose enum lang clashes with
 * web.h): the pages include it.
 */
#ifndef ACME_PORTAL_H
#define ACME_PORTAL_H

#include <stddef.h>
#include <json-c/json.h>

#include "db.h"

/* The calls returning one JSON document; their parameters, as text. */
enum portal_fn {
	PORTAL_SIGNUP,			/* org, country, state, locality,
					 * email, language, password hash,
					 * token hash (hex), seconds, texts */
	PORTAL_CONFIRMATION_RESEND,	/* email, token hash, seconds, texts */
	PORTAL_EMAIL_CONFIRM,		/* token hash */
	PORTAL_PASSWORD_FORGOT,		/* email, token hash, seconds, texts */
	PORTAL_PASSWORD_RESET_CHECK,	/* token hash */
	PORTAL_PASSWORD_RESET,		/* token hash, password hash */
	PORTAL_PASSWORD_CHANGE,		/* actor, xa, password hash,
					 * kept session's token hash */
	PORTAL_LANGUAGE_SET,		/* actor, xa, language */
	PORTAL_SETTINGS,		/* xa */
	PORTAL_DASHBOARD,		/* xa */
	PORTAL_ORGANIZATION_SHOW,	/* xa */
	PORTAL_ORGANIZATION_UPDATE,	/* actor, xa, name, country, state,
					 * locality */
	PORTAL_DOMAIN_DECLARE,		/* actor, xa, name */
	PORTAL_DOCUMENT_LIST,		/* xa */
	PORTAL_ACME_ACCOUNT_LIST,	/* xa */
	PORTAL_ACME_ACCOUNT_FORM,	/* xa */
	PORTAL_ACME_ACCOUNT_CREATE,	/* actor, xa, kid, hmac, profile,
					 * domains (JSON array) */
	PORTAL_ACME_ACCOUNT_SHOW,	/* xa, kid */
	PORTAL_ACME_ACCOUNT_REGENERATE,	/* actor, xa, kid, hmac */
	PORTAL_ACME_ACCOUNT_SET_STATUS,	/* actor, xa, kid, action */
	PORTAL_CERTIFICATE_SEARCH,	/* xa, name, serial, limit, offset */
	PORTAL_CERTIFICATE_SHOW,	/* xa, id */
	PORTAL_CERTIFICATE_REVOKE,	/* actor, xa, id, reason */
	PORTAL_CREDIT,			/* xa, limit, offset */
	PORTAL_OUTBOX_LIST,		/* xa, limit, offset */
	PORTAL_OUTBOX_SHOW,		/* xa, id */
	PORTAL__MAX
};

/* Returns the number of parameters of a call. */
int	 portal_nparams(enum portal_fn);
/*
 * Runs a call with its parameters as text (portal_nparams() of them,
 * NULL is SQL NULL). Returns its document (a new reference, the caller
 * puts it), a refusal document included; NULL if the database failed
 * (logged).
 */
json_object *portal_call(struct db *, enum portal_fn,
	    const char *const *vals);
/* Returns the refusal code or sentence of a document, or NULL if it is
 * not a refusal (borrowed). */
const char *portal_refused(json_object *);

/* Stores an uploaded document and its file in one transaction
 * (portal_document_upload()): vals are actor, xa, kind, reference,
 * domain, filename, content type, sha256 hex. Returns the document or a
 * refusal (new reference), NULL if the database failed. */
json_object *portal_document_upload(struct db *, const char *const *vals,
	    const unsigned char *data, size_t len);

/* A file read from the database; free with portal_file_free(). */
struct portal_file {
	char		*name;
	char		*content_type;
	unsigned char	*data;
	size_t		 len;
};
void	 portal_file_free(struct portal_file *);
/* Reads the file of document id of the customer's organization. Returns
 * 1 (f filled), 0 when there is none for this customer, -1 if the
 * database failed. */
int	 portal_document_file(struct db *, const char *xa, const char *id,
	    struct portal_file *f);
/* Reads the PEM chain of certificate id of the customer's organization
 * (f->name: its serial; content type application/pem-certificate-chain).
 * Returns 1, 0 (none for this customer) or -1 (database failure). */
int	 portal_certificate_pem(struct db *, const char *xa, const char *id,
	    struct portal_file *f);
/* Returns the stored password hash of a customer (new string), or NULL
 * if it has none or the database failed. */
char	*portal_password_hash(struct db *, const char *xa);

/* --- pure logic --------------------------------------------------------- */

/* Returns the media type of a file recognized from its first bytes (PDF
 * "%PDF-", PNG signature, JPEG FF D8 FF), or NULL for anything else. */
const char *portal_sniff(const unsigned char *, size_t);
/* Writes the lower-case hex SHA-256 of data into out (65 bytes). */
void	 portal_sha256_hex(const void *data, size_t len, char out[65]);
/* Returns a fresh e-mail token (256 random bits, base64url; caller
 * frees) and writes the hex SHA-256 of its text into hash (65 bytes):
 * the database stores only the hash. */
char	*portal_token_new(char hash[65]);
/* Writes the hex SHA-256 of a token's text into hash (65 bytes). */
void	 portal_token_hash(const char *token, char hash[65]);
/* Returns a fresh HMAC key for an ACME account: 32 random bytes,
 * base64url without padding, never starting with '-' (a command line
 * would take it for an option); caller frees. */
char	*portal_hmac_key_new(void);
/*
 * Normalizes a certificate serial as people paste it: hex digits in any
 * case, optionally separated by colons or spaces ("0A:1B:...", "0a1b..."),
 * at least 6 digits and at most 40. Writes them lower-case without
 * separators into out (outsz bytes) and returns 1, or returns 0 if the
 * text is not such a serial.
 */
int	 portal_serial_normalize(const char *in, char *out, size_t outsz);
/* Checks a domain name as a customer types it (surrounding spaces and
 * one trailing dot dropped, an internationalized name turned into its
 * A-labels) with the rules of ACME identifiers
 * (ident_check: letters, digits, hyphens, no IP address, no public
 * suffix), a leading "*." only when allow_wildcard. Writes its lower-case
 * form into out (at least 256 bytes) and returns 1, or returns 0. */
int	 portal_domain_normalize(const char *in, char *out,
	    int allow_wildcard);
/* Returns 1 if code is an ISO 3166-1 alpha-2 country code (upper case). */
int	 portal_country_valid(const char *code);
/* Returns 1 if an e-mail address is acceptable for signing up: one '@',
 * a local part of the characters HTML forms accept, a domain of letters,
 * digits, hyphens and at least one dot, at most 254 bytes. */
int	 portal_email_valid(const char *);
/* Returns a cleaned copy of an uploaded file's name (new string): no
 * directory part, no control characters nor quotes, at most 200 bytes
 * of UTF-8; "document" if nothing is left. */
char	*portal_filename_clean(const char *);
/* Returns a copy of a file name made of ASCII letters, digits, '.', '-'
 * and '_' only (others become '_'), for a Content-Disposition header. */
char	*portal_filename_ascii(const char *);
/* Returns s %-encoded for a query string value (new string). */
char	*portal_url_encode(const char *s);
/* Formats an RFC 3339 UTC time ("2026-03-15T06:00:00Z") for people:
 * "2026-03-15 06:00 UTC", or "15/03/2026 06:00 UTC" when fr; a date
 * only when date_only. Anything else is copied as it is. Returns out. */
char	*portal_date(const char *iso, int fr, int date_only, char *out,
	    size_t outsz);

/* The ACME clients the portal shows command lines for. */
enum portal_client {
	PORTAL_CLIENT_CERTBOT,
	PORTAL_CLIENT_LEGO,
	PORTAL_CLIENT_ACMESH,
	PORTAL_CLIENT_WINACME,
	PORTAL_CLIENT__MAX
};

/* What a command line needs: the directory URL, the EAB credential, the
 * customer's e-mail (may be NULL) and the names to ask for ("*." names
 * make the commands use dns-01). */
struct portal_eab {
	const char	*directory;
	const char	*kid;
	const char	*hmac;
	const char	*email;
	const char *const *names;
	size_t		 nnames;
};

/* Returns the client's name as people know it. */
const char *portal_client_name(enum portal_client);
/* Returns the command line(s) to get a certificate with this client
 * (new string, several lines joined with the shell's continuation; the
 * caller frees). Values are quoted for the client's shell (POSIX sh, or
 * cmd.exe for win-acme). */
char	*portal_client_command(enum portal_client, const struct portal_eab *);

#endif
