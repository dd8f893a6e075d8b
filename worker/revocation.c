/*
 * revocation.c - the publication of revocation status. OCSP: the
 * responses that are due (a new certificate, a revocation change, or
 * half-way to nextUpdate) are claimed in batches with FOR NO KEY UPDATE
 * SKIP LOCKED, signed by the delegated OCSP signer (ca_dir/ocsp.pem and
 * ocsp.key) and stored for acme-fcgi to serve. CRL: the intermediate's
 * CRL is signed by the one worker that wins the crl_state row lock, with
 * the next cRLNumber, when a revocation changed or the last one is
 * half-way to its nextUpdate.
 */
#include <sys/stat.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509.h>

#include "acme-worker.h"
#include "config.h"
#include "ocsp.h"
#include "revstatus.h"
#include "util.h"

#define OCSP_BATCH		100	/* responses signed per transaction */
#define OCSP_DEFER		3600	/* seconds before retrying a
					 * certificate that cannot be signed */
#define SIGNER_CHECK		60	/* seconds between looks at the
					 * signer's files */
#define SIGNER_RENEW_WARN	(30 * 86400)

/* The worker's signer and the registration of its intermediate. */
static struct {
	struct ocsp_signer signer;
	int		 loaded;
	struct stat	 cert_st, key_st;	/* of the files loaded */
	time_t		 checked;		/* last look at the files */
	long		 issuer_id;		/* ocsp_issuer of w->ca.cert */
	unsigned char	 name_hash[OCSP_HASH_LEN];	/* of issuer_id */
	unsigned char	 key_hash[OCSP_HASH_LEN];
	int		 schema_warned;
} rv;

/* Returns 1 if two stats describe the same version of a file. */
static int
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size && a->st_mtime == b->st_mtime;
}

/* Loads the OCSP signer, and loads it again when its files changed
 * (acmectl ca ocsp-signer --renew) or it expired; a signer that cannot
 * be loaded leaves the one in use. Returns 1 if a signer is usable. */
static int
signer_ready(struct worker *w)
{
	struct ocsp_signer s;
	struct stat cst, kst;
	char *cpath, *kpath;
	time_t now = time(NULL);
	int changed;

	if (rv.loaded && now - rv.checked < SIGNER_CHECK)
		return 1;
	if (!rv.loaded && rv.checked != 0 && now - rv.checked < SIGNER_CHECK)
		return 0;
	rv.checked = now;
	if (rv.loaded &&
	    X509_cmp_current_time(X509_get0_notAfter(rv.signer.cert)) <= 0) {
		msg_err("the OCSP signer has expired: no OCSP response is "
		    "signed until it is renewed (acmectl ca ocsp-signer "
		    "--renew)");
		ocsp_signer_free(&rv.signer);
		rv.loaded = 0;
	}
	cpath = xasprintf("%s/ocsp.pem", cfg_str(CFG_CA_DIR));
	kpath = xasprintf("%s/ocsp.key", cfg_str(CFG_CA_DIR));
	changed = stat(cpath, &cst) == 0 && stat(kpath, &kst) == 0 &&
	    (!rv.loaded || !same_file(&cst, &rv.cert_st) ||
	    !same_file(&kst, &rv.key_st));
	if (!rv.loaded && !changed)
		msg_warn("no OCSP signer in %s: no OCSP response is signed "
		    "(create one: acmectl ca ocsp-signer)",
		    cfg_str(CFG_CA_DIR));
	if (changed && ocsp_signer_load(&s, cfg_str(CFG_CA_DIR),
	    w->ca.cert)) {
		if (rv.loaded)
			msg_info("OCSP signer reloaded");
		ocsp_signer_free(&rv.signer);
		rv.signer = s;
		rv.loaded = 1;
		rv.cert_st = cst;
		rv.key_st = kst;
		if (X509_cmp_time(X509_get0_notAfter(rv.signer.cert),
		    &(time_t){ now + SIGNER_RENEW_WARN }) <= 0)
			msg_warn("the OCSP signer expires within 30 days: "
			    "renew it (acmectl ca ocsp-signer --renew)");
	}
	free(cpath);
	free(kpath);
	return rv.loaded;
}

/* Logs a failed query once as a schema not migrated when it is one.
 * Returns the job's result: 0 (nothing to do without the schema) for
 * an undefined table or function, else -1. */
static int
db_failure(struct worker *w)
{
	if (db_failed_with(&w->db, "42P01") ||
	    db_failed_with(&w->db, "42883")) {
		if (!rv.schema_warned)
			msg_err("the revocation status tables are missing: "
			    "run acmectl db migrate");
		rv.schema_warned = 1;
		return 0;
	}
	return -1;
}

/* Registers the intermediate's CertID hashes (computed by ca_load) once,
 * and again when SIGHUP loaded another intermediate. Returns 1 or 0. */
static int
issuer_register(struct worker *w)
{
	unsigned char *der = NULL;
	int n;

	if (rv.issuer_id > 0 &&
	    memcmp(rv.name_hash, w->ca.ocsp_name_hash, OCSP_HASH_LEN) == 0 &&
	    memcmp(rv.key_hash, w->ca.ocsp_key_hash, OCSP_HASH_LEN) == 0)
		return 1;
	rv.issuer_id = 0;
	if ((n = i2d_X509(w->ca.cert, &der)) <= 0) {
		OPENSSL_free(der);
		return 0;
	}
	rv.issuer_id = revstatus_issuer_register(&w->db, der, (size_t)n,
	    w->ca.ocsp_name_hash, w->ca.ocsp_key_hash);
	OPENSSL_free(der);
	memcpy(rv.name_hash, w->ca.ocsp_name_hash, OCSP_HASH_LEN);
	memcpy(rv.key_hash, w->ca.ocsp_key_hash, OCSP_HASH_LEN);
	return rv.issuer_id > 0;
}

/*
 * Signs, at now, the response of the certificate cert (len bytes) whose
 * row says serial, revoked at revoked_at (0: not revoked) for reason.
 * The CertID is made of the intermediate's hashes and the certificate's
 * serial: its key is never decoded. Returns 1 with *der (caller frees),
 * *len and st set, or 0 (logged) when it cannot be signed: not issued by
 * the loaded intermediate, a serial other than its row's, or a signing
 * failure.
 */
static int
ocsp_sign(struct worker *w, const char *serial, const unsigned char *cert,
    size_t cert_len, long revoked_at, int reason, time_t now,
    struct ocsp_status *st, unsigned char **der, size_t *len)
{
	struct ocsp_certid id;

	*der = NULL;
	*len = 0;
	memcpy(id.name_hash, w->ca.ocsp_name_hash, OCSP_HASH_LEN);
	memcpy(id.key_hash, w->ca.ocsp_key_hash, OCSP_HASH_LEN);
	if (!ocsp_cert_issued_by(cert, cert_len, w->ca.cert, id.serial_hex)) {
		msg_warn("OCSP: certificate %s was not issued by the loaded "
		    "intermediate", serial);
		return 0;
	}
	if (strcmp(id.serial_hex, serial) != 0) {
		msg_warn("OCSP: certificate %s has the serial %s", serial,
		    id.serial_hex);
		return 0;
	}
	memset(st, 0, sizeof(*st));
	st->revoked = revoked_at > 0;
	st->revoked_at = (time_t)revoked_at;
	st->reason = reason;
	st->this_update = now;
	st->next_update = now + cfg_int(CFG_OCSP_VALIDITY);
	if (!ocsp_response_sign_id(&rv.signer, &id, st, der, len)) {
		msg_err("OCSP: cannot sign the response of %s", serial);
		return 0;
	}
	return 1;
}

/* Signs and stores the response of one claimed certificate at now; one
 * that cannot be signed is put off. Returns 1 if stored, 0 if put off,
 * -1 on a database error. */
static int
ocsp_publish(struct worker *w, const struct ocsp_job *j, time_t now)
{
	struct ocsp_status st;
	unsigned char *der = NULL;
	size_t len = 0;
	int rc = -1;

	if (!ocsp_sign(w, j->serial, j->der, j->der_len, j->revoked_at,
	    j->reason, now, &st, &der, &len)) {
		msg_warn("OCSP: %s put off", j->serial);
		rc = revstatus_ocsp_defer(&w->db, j->serial, OCSP_DEFER) < 0 ?
		    -1 : 0;
		goto out;
	}
	if (revstatus_ocsp_store(&w->db, j->serial, rv.issuer_id,
	    j->revoked_at, j->reason, (long)st.this_update,
	    (long)st.next_update, der, len) < 0)
		goto out;
	msg_debug("OCSP: %s is %s", j->serial, st.revoked ? "revoked" :
	    "good");
	rc = 1;
out:
	free(der);
	return rc;
}

int
ocsp_sign_issued(struct worker *w, const char *serial,
    const unsigned char *cert, size_t cert_len, struct ocsp_first *out)
{
	struct ocsp_status st;

	memset(out, 0, sizeof(*out));
	if (!w->ca_loaded || !signer_ready(w) || !issuer_register(w))
		return 0;
	if (!ocsp_sign(w, serial, cert, cert_len, 0, 0, time(NULL), &st,
	    &out->der, &out->len))
		return 0;
	out->issuer_id = rv.issuer_id;
	out->this_update = (long)st.this_update;
	out->next_update = (long)st.next_update;
	return 1;
}

int
job_ocsp(struct worker *w)
{
	struct ocsp_job *jobs = NULL;
	size_t n = 0, i, nsigned = 0;
	time_t now;
	int r, rc = -1;

	if (!w->ca_loaded || !signer_ready(w))
		return 0;
	if (!issuer_register(w))
		return db_failure(w);
	if (!db_begin(&w->db))
		return -1;
	if (revstatus_ocsp_claim(&w->db, OCSP_BATCH, &jobs, &n) < 0) {
		rc = db_failure(w);
		goto out;
	}
	now = time(NULL);
	for (i = 0; i < n; i++) {
		if ((r = ocsp_publish(w, &jobs[i], now)) < 0)
			goto out;
		nsigned += (size_t)r;
	}
	if (!db_commit(&w->db))
		goto out;
	if (n > 0)
		msg_info("OCSP: signed %zu response%s (%zu put off)", nsigned,
		    nsigned == 1 ? "" : "s", n - nsigned);
	rc = n > 0;
out:
	if (rc != 1)
		db_rollback(&w->db);
	/* the issuer row is gone (a database restored or re-created):
	 * register it again */
	if (rc < 0 && db_failed_with(&w->db, "23503"))
		rv.issuer_id = 0;
	ocsp_jobs_free(jobs, n);
	return rc;
}

int
job_crl(struct worker *w)
{
	struct crl_entry *e = NULL;
	unsigned char *der = NULL;
	size_t n = 0, len = 0;
	time_t now;
	long number = 0;
	int due, rc = -1;

	if (!w->ca_loaded)
		return 0;
	if ((due = revstatus_crl_due(&w->db)) <= 0)
		return due < 0 ? db_failure(w) : 0;
	if (!db_begin(&w->db))
		return -1;
	if ((due = revstatus_crl_claim(&w->db, &number)) <= 0) {
		rc = due;
		goto out;
	}
	if (revstatus_crl_entries(&w->db, &e, &n) < 0)
		goto out;
	now = time(NULL);
	if (!crl_sign(w->ca.cert, w->ca.key, number, now,
	    now + cfg_int(CFG_CRL_VALIDITY), e, n, &der, &len)) {
		msg_err("CRL %ld: cannot sign it", number);
		rc = 0;
		goto out;
	}
	if (revstatus_crl_store(&w->db, number, (long)now,
	    (long)(now + cfg_int(CFG_CRL_VALIDITY)), n, der, len) < 0 ||
	    !db_commit(&w->db))
		goto out;
	msg_info("CRL %ld signed: %zu revoked certificate%s", number, n,
	    n == 1 ? "" : "s");
	rc = 1;
out:
	if (rc != 1)
		db_rollback(&w->db);
	crl_entries_free(e, n);
	free(der);
	return rc;
}

void
revocation_free(void)
{
	ocsp_signer_free(&rv.signer);
	memset(&rv, 0, sizeof(rv));
}
