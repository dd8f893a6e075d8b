/*
 * revstatus.h - the SQL of published revocation status (sql/005): the
 * worker's OCSP and CRL work, and the lookups acme-fcgi serves from.
 * Functions returning int give 1 on success, 0 for "nothing" where
 * said, -1 on a database error (logged, SQLSTATE in db->sqlstate).
 */
#ifndef ACME_REVSTATUS_H
#define ACME_REVSTATUS_H

#include <stddef.h>

#include "db.h"
#include "ocsp.h"

/* A certificate whose OCSP response is due. */
struct ocsp_job {
	char		*serial;	/* as certificate.serial */
	unsigned char	*der;		/* the certificate */
	size_t		 der_len;
	long		 revoked_at;	/* epoch seconds, 0 if not revoked */
	int		 reason;	/* CRLReason, 0 if none */
};

/* Registers a CA certificate with its CertID hashes (idempotent).
 * Returns its id (> 0), or -1. */
long	 revstatus_issuer_register(struct db *, const unsigned char *der,
	    size_t len, const unsigned char *name_hash,
	    const unsigned char *key_hash);

/* Inside a transaction: claims (FOR NO KEY UPDATE SKIP LOCKED) up to max
 * certificates whose OCSP response is due, most overdue first. Returns
 * 1 with *jobs (free with ocsp_jobs_free) and *n (may be 0), or -1. */
int	 revstatus_ocsp_claim(struct db *, int max, struct ocsp_job **jobs,
	    size_t *n);
void	 ocsp_jobs_free(struct ocsp_job *, size_t);
/* Stores a signed response of a claimed certificate (revoked_at 0: a
 * good response). Returns 1, 0 if the certificate is gone, or -1. */
int	 revstatus_ocsp_store(struct db *, const char *serial, long issuer_id,
	    long revoked_at, int reason, long this_update, long next_update,
	    const unsigned char *der, size_t len);
/* Puts off a claimed certificate's response by seconds. 1 or -1. */
int	 revstatus_ocsp_defer(struct db *, const char *serial, long seconds);

/* What acme-fcgi can answer to a CertID. */
enum ocsp_lookup {
	OCSPL_UNKNOWN,		/* not our issuer or not our serial */
	OCSPL_FOUND,		/* a current response */
	OCSPL_LATER,		/* ours, but no current response yet */
	OCSPL_ERROR,		/* database error */
	OCSPL__MAX
};

/* Looks a CertID up. OCSPL_FOUND comes with a newly allocated response
 * (*der, *len; caller frees) and the seconds until its nextUpdate. */
enum ocsp_lookup revstatus_ocsp_lookup(struct db *,
	    const struct ocsp_certid *, unsigned char **der, size_t *len,
	    long *max_age);

/* Returns 1 if a new CRL is due, 0 if not, -1. Outside a transaction. */
int	 revstatus_crl_due(struct db *);
/* Inside a transaction: elects this worker to make the next CRL. Returns
 * 1 with its *number, 0 when another worker is at it or none is due, or
 * -1. The transaction must stay open until revstatus_crl_store. */
int	 revstatus_crl_claim(struct db *, long *number);
/* The revoked certificates that have not expired, by serial. Returns 1
 * with *entries (free with crl_entries_free) and *n, or -1. */
int	 revstatus_crl_entries(struct db *, struct crl_entry **entries,
	    size_t *n);
void	 crl_entries_free(struct crl_entry *, size_t);
/* Stores the CRL made after revstatus_crl_claim. Returns 1 or -1. */
int	 revstatus_crl_store(struct db *, long number, long this_update,
	    long next_update, size_t nentries, const unsigned char *der,
	    size_t len);
/* The newest CRL: 1 with a newly allocated *der (caller frees), *len and
 * the seconds until its nextUpdate (may be 0 if it is late), 0 if there
 * is none yet, or -1. */
int	 revstatus_crl_latest(struct db *, unsigned char **der, size_t *len,
	    long *max_age);

#endif
