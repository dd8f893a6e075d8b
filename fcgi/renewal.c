/*
 * renewal.c - renewal information (RFC 9773): the suggested renewal
 * window of a certificate, named by its CertID.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "acme-fcgi.h"
#include "config.h"
#include "util.h"

#define ARI_RETRY_AFTER	21600	/* seconds: poll again in 6 hours */

int
cert_by_certid(struct req *r, const char *certid, struct cert_row *c)
{
	struct cert_info ci;
	const char *dot = strchr(certid, '.');
	unsigned char *aki = NULL, *serial = NULL;
	size_t aki_len = 0, serial_len = 0, i, skip;
	char *aki64 = NULL, hex[2 * 20 + 1];
	int found, rc = 0;

	memset(c, 0, sizeof(*c));
	memset(&ci, 0, sizeof(ci));
	if (dot == NULL || strlen(certid) > 128) {
		problem_set(&r->prob, PT_MALFORMED, "a CertID is "
		    "base64url(AKI) \".\" base64url(serial)");
		goto out;
	}
	aki64 = xstrndup(certid, (size_t)(dot - certid));
	if (!b64u_decode(aki64, &aki, &aki_len) || aki_len == 0 ||
	    !b64u_decode(dot + 1, &serial, &serial_len) || serial_len == 0 ||
	    serial_len > 20 || (serial[0] & 0x80) != 0) {
		problem_set(&r->prob, PT_MALFORMED, "a CertID is "
		    "base64url(AKI) \".\" base64url(serial)");
		goto out;
	}
	/* a leading zero octet only keeps the DER integer positive */
	skip = serial_len > 1 && serial[0] == 0 ? 1 : 0;
	for (i = skip; i < serial_len; i++)
		snprintf(hex + 2 * (i - skip), 3, "%02x", serial[i]);
	found = store_cert_by_serial(r->db, hex, c);
	if (found < 0) {
		problem_code(&r->prob, PC_ACME_OTHER_ERROR,
		    "cannot read the certificate");
		goto out;
	}
	if (found == 0 || !cert_info_parse(c->der, c->der_len, &ci) ||
	    ci.aki_len != aki_len || memcmp(ci.aki, aki, aki_len) != 0) {
		req_catalogue(r, PC_ACME_REQUEST_NOT_FOUND, NULL);
		problem_append(&r->prob, " (no certificate of this CA has this "
		    "CertID)");
		goto out;
	}
	rc = 1;
out:
	if (!rc)
		cert_row_free(c);
	cert_info_free(&ci);
	free(aki64);
	free(aki);
	free(serial);
	return rc;
}

static char *
rfc3339(time_t t)
{
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/*
 * The window: the last third of the validity starts it, and it lasts a
 * tenth of the validity, so renewals spread out well before expiry. A
 * revoked certificate, or one an operator asked to renew, gets a window
 * that has already begun.
 */
int
h_renewal_info(struct req *r)
{
	struct cert_row c;
	json_object *o, *w;
	time_t start, end, life, now = time(NULL);
	char *s;

	if (!cert_by_certid(r, r->id, &c))
		return 0;
	life = (time_t)(c.not_after - c.not_before);
	start = (time_t)c.not_before + life * 2 / 3;
	end = start + life / 10;
	if (c.revoked_at != 0 || (c.renew_after != 0 &&
	    (time_t)c.renew_after < start)) {
		start = c.revoked_at != 0 ? (time_t)c.revoked_at :
		    (time_t)c.renew_after;
		if (start > now)
			start = now;
		start -= 3600;
		end = start + 3600;
	}
	o = json_object_new_object();
	w = json_object_new_object();
	s = rfc3339(start);
	json_object_object_add(w, "start", json_object_new_string(s));
	free(s);
	s = rfc3339(end);
	json_object_object_add(w, "end", json_object_new_string(s));
	free(s);
	json_object_object_add(o, "suggestedWindow", w);
	r->resp = o;
	r->status = 200;
	r->retry_after = ARI_RETRY_AFTER;
	cert_row_free(&c);
	return 1;
}
