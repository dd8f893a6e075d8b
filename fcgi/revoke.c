/*
 * revoke.c - revokeCert (RFC 8555 section 7.6), signed by an account key
 * (the issuing account, or one holding valid authorizations for every
 * name) or by the certificate's own key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme-fcgi.h"
#include "jsonutil.h"
#include "util.h"

/* RFC 5280 reasons a subscriber may give (Baseline Requirements 7.2.2). */
static int
reason_allowed(int reason)
{
	switch (reason) {
	case 0:		/* unspecified */
	case 1:		/* keyCompromise */
	case 3:		/* affiliationChanged */
	case 4:		/* superseded */
	case 5:		/* cessationOfOperation */
		return 1;
	default:
		return 0;
	}
}

int
h_revoke_cert(struct req *r)
{
	struct cert_info ci;
	struct cert_row c;
	json_object *rv;
	const char *der64;
	unsigned char *der = NULL;
	size_t der_len = 0;
	char *actor = NULL;
	int reason = 0, may, done, rc = 0;

	memset(&ci, 0, sizeof(ci));
	memset(&c, 0, sizeof(c));
	der64 = json_get_str(r->payload, "certificate");
	if (der64 == NULL || !b64u_decode(der64, &der, &der_len) ||
	    !cert_info_parse(der, der_len, &ci)) {
		problem_set(&r->prob, PT_MALFORMED, "\"certificate\" must be "
		    "the base64url DER of a certificate");
		goto out;
	}
	if (json_object_object_get_ex(r->payload, "reason", &rv)) {
		if (!json_object_is_type(rv, json_type_int) ||
		    json_object_get_int64(rv) < 0 ||
		    json_object_get_int64(rv) > 10 ||
		    !reason_allowed(reason = json_object_get_int(rv))) {
			problem_set(&r->prob, PT_BAD_REVOCATION_REASON, "the "
			    "reason must be one of 0 (unspecified), 1 "
			    "(keyCompromise), 3 (affiliationChanged), 4 "
			    "(superseded), 5 (cessationOfOperation)");
			goto out;
		}
	}
	done = store_cert_by_serial(r->db, ci.serial_hex, &c);
	if (done < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the certificate");
		goto out;
	}
	if (done == 0 || c.der_len != der_len ||
	    memcmp(c.der, der, der_len) != 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		problem_append(&r->prob, " (this CA did not issue this "
		    "certificate)");
		goto out;
	}
	if (r->jws.kid != NULL) {
		may = store_account_may_revoke(r->db, r->acct.id, c.id);
		if (may != 1) {
			problem_set(&r->prob, PT_UNAUTHORIZED, "this account "
			    "neither issued the certificate nor holds valid "
			    "authorizations for all its names");
			goto out;
		}
		actor = xasprintf("account:%ld", r->acct.id);
	} else {
		if (EVP_PKEY_eq(r->jwk.pkey, ci.pkey) != 1) {
			problem_set(&r->prob, PT_UNAUTHORIZED, "the request "
			    "is not signed by the certificate's key");
			goto out;
		}
		actor = xstrdup("certificate-key");
	}
	done = store_cert_revoke(r->db, c.id, reason, actor);
	if (done < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot revoke the certificate");
		goto out;
	}
	if (done == 0) {
		problem_set(&r->prob, PT_ALREADY_REVOKED,
		    "the certificate is already revoked");
		goto out;
	}
	msg_info("certificate %s (serial %s) revoked by %s, reason %d", c.id,
	    ci.serial_hex, actor, reason);
	r->status = 200;
	rc = 1;
out:
	free(actor);
	free(der);
	cert_row_free(&c);
	cert_info_free(&ci);
	return rc;
}
