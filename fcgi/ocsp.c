/*
 * ocsp.c - the OCSP responder (RFC 6960 appendix A, RFC 5019): GET
 * /acme/ocsp/<url-encoded base64 of the request> and POST /acme/ocsp of
 * an application/ocsp-request. It signs nothing: it parses the request,
 * matches its CertID with the issuer hashes and serials the worker
 * stored, and returns the stored response, or an unsuccessful status:
 * malformedRequest for a request it cannot read, unauthorized for a
 * certificate that is not ours (or a CertID hash other than SHA-1, which
 * it cannot match), tryLater when the worker has not signed one yet.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "acme-fcgi.h"
#include "ocsp.h"
#include "revstatus.h"
#include "util.h"

#define OCSP_CTYPE_REQUEST	"application/ocsp-request"
#define OCSP_CTYPE_RESPONSE	"application/ocsp-response"
/* HTTP caches keep a response at most this long (never past its
 * nextUpdate), so that a revocation reaches them within the hour. */
#define OCSP_MAX_AGE		3600

/* Sets the response body to a copy of der[0..len). */
static void
reply_der(struct req *r, const unsigned char *der, size_t len)
{
	r->raw = xmalloc(len + 1);
	memcpy(r->raw, der, len);
	r->raw[len] = '\0';
	r->rawlen = len;
	r->ctype = OCSP_CTYPE_RESPONSE;
	r->status = 200;
}

/* Answers the request in der[0..len); a GET answer may be cached.
 * Returns 1: every outcome is an OCSP response. */
static int
ocsp_answer(struct req *r, const unsigned char *der, size_t len,
    int cacheable)
{
	struct ocsp_certid id;
	enum ocsp_resp_status st = OCSPS_INTERNAL;
	const unsigned char *e;
	unsigned char *resp = NULL;
	size_t rlen = 0, elen;
	long max_age = 0;

	switch (ocsp_request_parse(der, len, &id)) {
	case OCSPP_OK:
		break;
	case OCSPP_UNSUPPORTED_HASH:
		msg_info("OCSP request with a CertID not hashed with SHA-1");
		st = OCSPS_UNAUTHORIZED;
		goto error;
	default:
		msg_info("malformed OCSP request (%zu bytes)", len);
		st = OCSPS_MALFORMED;
		goto error;
	}
	switch (revstatus_ocsp_lookup(r->db, &id, &resp, &rlen, &max_age)) {
	case OCSPL_FOUND:
		reply_der(r, resp, rlen);
		free(resp);
		if (cacheable && max_age > 0)
			r->cache_control = xasprintf("public, no-transform, "
			    "must-revalidate, max-age=%ld",
			    max_age < OCSP_MAX_AGE ? max_age : OCSP_MAX_AGE);
		msg_debug("OCSP: response for %s", id.serial_hex);
		return 1;
	case OCSPL_LATER:
		msg_info("OCSP: no current response for %s yet",
		    id.serial_hex);
		st = OCSPS_TRY_LATER;
		break;
	case OCSPL_UNKNOWN:
		msg_info("OCSP: serial %s is not ours",
		    id.serial_hex[0] != '\0' ? id.serial_hex : "(out of range)");
		st = OCSPS_UNAUTHORIZED;
		break;
	default:
		st = OCSPS_INTERNAL;
		break;
	}
 error:
	e = ocsp_error_der(st, &elen);
	reply_der(r, e, elen);
	return 1;
}

int
h_ocsp_get(struct req *r)
{
	unsigned char *der = NULL;
	size_t len = 0;
	int rc;

	if (!ocsp_get_decode(r->id, &der, &len))
		return ocsp_answer(r, NULL, 0, 0);
	rc = ocsp_answer(r, der, len, 1);
	free(der);
	return rc;
}

int
h_ocsp_post(struct req *r)
{
	const char *ct = FCGX_GetParam("CONTENT_TYPE", r->fcgi->envp);
	size_t n = strlen(OCSP_CTYPE_REQUEST);

	if (ct == NULL || strncasecmp(ct, OCSP_CTYPE_REQUEST, n) != 0 ||
	    (ct[n] != '\0' && ct[n] != ';' && !isspace((unsigned char)ct[n]))) {
		problem_set(&r->prob, PT_UNSUPPORTED_MEDIA,
		    "the Content-Type must be " OCSP_CTYPE_REQUEST);
		return 0;
	}
	return ocsp_answer(r, (const unsigned char *)r->body, r->bodylen, 0);
}
