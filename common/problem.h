/*
 * problem.h - the one error type of the service: RFC 8555 problem types,
 * the CA's catalogue of codes, and their rendering as problem documents.
 */
#ifndef ACME_PROBLEM_H
#define ACME_PROBLEM_H

#include <json-c/json.h>

#include "util.h"

/* RFC 8555 section 6.7 error types (urn:ietf:params:acme:error:NAME). */
enum ptype {
	PT_NONE,
	PT_ACCOUNT_DOES_NOT_EXIST,
	PT_ALREADY_REVOKED,
	PT_BAD_CSR,
	PT_BAD_NONCE,
	PT_BAD_PUBLIC_KEY,
	PT_BAD_REVOCATION_REASON,
	PT_BAD_SIGNATURE_ALGORITHM,
	PT_CAA,
	PT_COMPOUND,
	PT_CONNECTION,
	PT_DNS,
	PT_EXTERNAL_ACCOUNT_REQUIRED,
	PT_INCORRECT_RESPONSE,
	PT_INVALID_CONTACT,
	PT_MALFORMED,
	PT_ORDER_NOT_READY,
	PT_RATE_LIMITED,
	PT_REJECTED_IDENTIFIER,
	PT_SERVER_INTERNAL,
	PT_TLS,
	PT_UNAUTHORIZED,
	PT_UNSUPPORTED_CONTACT,
	PT_UNSUPPORTED_IDENTIFIER,
	PT_USER_ACTION_REQUIRED,
	PT_BAD_CSR_KEY,		/* badCSR, kept apart for logs */
	PT_INVALID_PROFILE,	/* draft-aaron-acme-profiles */
	PT_ALREADY_REPLACED,	/* RFC 9773 */
	PT_NOT_FOUND,		/* malformed, HTTP 404 */
	PT_METHOD_NOT_ALLOWED,	/* malformed, HTTP 405 */
	PT_UNSUPPORTED_MEDIA,	/* malformed, HTTP 415 */
	PT_PAYLOAD_TOO_LARGE,	/* malformed, HTTP 413 */
	PT_CONFLICT,		/* malformed, HTTP 409 */
	PT__MAX
};

/* The CA's catalogue of codes (service documentation, "Result code"). */
enum pcode {
	PC_NONE,
	PC_DEACTIVATED_ACCOUNT,
	PC_DEACTIVATED_EXTERNAL_ACCOUNT,
	PC_DOMAIN_NOT_FOUND,
	PC_EXPIRED_ACCOUNT,
	PC_EXPIRED_EXTERNAL_ACCOUNT,
	PC_EXTERNAL_ACCOUNT_NOT_FOUND,
	PC_INVALID_DNSCAA,
	PC_INVALID_DOMAIN,
	PC_INVALID_DOMAIN_FOR_WILDCARD_PROFILE,
	PC_INVALID_PROFILE_FOR_WILDCARD,
	PC_NO_DOCUMENT_FORM_FOUND,
	PC_NO_VALID_ORGANIZATION_DOCUMENT_FOUND,
	PC_NOT_SAME_ORGANIZATION,
	PC_ORGANIZATION_IS_NOT_VALID,
	PC_OUT_OF_CREDIT,
	PC_PENDING_EXTERNAL_ACCOUNT,
	PC_REVOKED_ACCOUNT,
	PC_REVOKED_EXTERNAL_ACCOUNT,
	PC_SUSPENDED_ACCOUNT,
	PC_SUSPENDED_EXTERNAL_ACCOUNT,
	PC_UNAUTHORIZED_DOMAIN,
	PC_ACME_ORDER_NOT_READ,
	PC_ACME_REQUEST_NOT_FOUND,
	PC_ACME_ORDER_FINALIZE_ERROR,
	PC_ACME_CA_ERROR,
	PC_ACME_OTHER_ERROR,
	PC_ACME_DEACTIVATED,
	PC__MAX
};

enum lang {
	LANG_EN,
	LANG_FR,
	LANG__MAX
};

struct problem {
	enum ptype	 type;		/* PT_NONE: no problem */
	enum pcode	 code;		/* PC_NONE: no catalogue code */
	int		 status;	/* HTTP status */
	char		 detail[512];
	json_object	*subproblems;	/* owned; array or NULL */
	char		*location;	/* owned; Location header (409) */
	char		*instance;	/* owned; where the user can act, or NULL */
};

/* Sets type (and its HTTP status) and detail; clears the code. */
void	 problem_set(struct problem *, enum ptype, const char *, ...)
	    ACME_PRINTF(3, 4);
/* Sets a catalogue code; type and status come from the catalogue and the
 * detail is prefixed "CODE: ". */
void	 problem_code(struct problem *, enum pcode, const char *, ...)
	    ACME_PRINTF(3, 4);
/* Sets a catalogue code with its message in the user's language; ident
 * (may be NULL) fills the message and names the identifier in a
 * subproblem. */
void	 problem_catalogue(struct problem *, enum pcode, enum lang,
	    const char *ident);
/* Returns 1 if only the customer can fix the cause (userActionRequired). */
int	 pcode_user_action(enum pcode);
/* Returns the preferred language of an Accept-Language header (NULL: en). */
enum lang lang_from_accept(const char *);
/* Appends text to the detail (precise context after a catalogue
 * message). */
void	 problem_append(struct problem *, const char *);
/* Adds a subproblem about a dns identifier. */
void	 problem_sub(struct problem *, enum ptype, const char *ident,
	    const char *detail);
void	 problem_clear(struct problem *);
/* Returns a new problem document object; caller owns it. */
json_object *problem_json(const struct problem *);
/* Returns "urn:ietf:params:acme:error:NAME" for a type (static). */
const char *ptype_urn(enum ptype);
/* Returns the HTTP status of a type. */
int	 ptype_status(enum ptype);
/* Returns the code's name ("DOMAIN_NOT_FOUND"), or NULL for PC_NONE. */
const char *pcode_name(enum pcode);
/* Looks up a code by name; PC_NONE if unknown. */
enum pcode pcode_lookup(const char *);

#endif
