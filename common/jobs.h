/*
 * jobs.h - the SQL of acme-worker: jobs claimed with FOR UPDATE SKIP
 * LOCKED under a lease, and their outcomes stored by compare and set.
 * Claims return 1 with a job, 0 when there is none, -1 on error.
 */
#ifndef ACME_JOBS_H
#define ACME_JOBS_H

#include <stddef.h>

#include "db.h"

#define JOBS_CHANNEL	"acme_work"

/*
 * The kinds of job, in the order a worker's round runs them. A NOTIFY on
 * JOBS_CHANNEL names in its payload the kind of work it announces (the
 * SQL functions that make the work send it): 'challenge', 'order',
 * 'ocsp' (a new certificate), 'revocation' (its OCSP response and a new
 * CRL) and 'outbox'. A worker runs the claims of the kinds it was told
 * about, and every kind at each poll_interval whatever it was told. The
 * certificates a worker issues are not announced (sql/014): it signs
 * their OCSP responses itself.
 */
enum job_kind {
	JOB_CHALLENGE,		/* a challenge to validate */
	JOB_ORDER,		/* an order to issue */
	JOB_OCSP,		/* OCSP responses due */
	JOB_CRL,		/* a new CRL */
	JOB_OUTBOX,		/* e-mail to deliver */
	JOB__MAX
};

#define JOB_BIT(k)	(1u << (k))
#define JOBS_ALL	(JOB_BIT(JOB__MAX) - 1)

/* Returns the kinds of job (JOB_BIT mask) a notification's payload
 * announces: every kind for a payload it does not know (an empty one
 * from a hand-typed NOTIFY, one of a later schema). */
unsigned jobs_wakeup(const char *payload);

struct chall_job {
	char	*id;
	char	*type;		/* http-01, dns-01 */
	char	*token;
	char	*identifier;	/* without "*." */
	char	*thumbprint;	/* of the account key */
	long	 account_id;	/* RFC 8555 account (CAA accounturi) */
	int	 wildcard;	/* the authorization is for "*.identifier" */
	int	 attempts;
};

struct issue_job {
	char		*order_id;
	unsigned char	*csr;
	size_t		 csr_len;
	char		**names;
	size_t		 nnames;
	char		*serial;	/* hex, reserved once per order */
	char		*org_name;
	char		*org_country;
	char		*org_locality;
	char		*org_state;
	char		**subject_fields;	/* of the profile: C, ST, L, O, CN */
	size_t		 nsubject_fields;
	int		 validity_days;		/* of the profile */
	char		*policy_problem;	/* catalogue code, or NULL */
	long		 account_id;		/* CAA accounturi */
	char		**caa_names;	/* validated over 7 hours ago */
	char		**caa_methods;	/* challenge type of each */
	size_t		 ncaa;
	size_t		 ncaa_methods;
	int		 attempts;
	long		 db_now;	/* the database's clock at the claim
					 * (seconds since the epoch): dates
					 * follow it, not the worker's clock */
};

/* LISTENs for work, has the session prepare its statements (db_prepare)
 * and marks it as one that signs the OCSP responses of the certificates
 * it issues (acme.signs_own_ocsp, sql/014). Returns 1 or 0. */
int	 jobs_listen(struct db *);
/* The same without the LISTEN: the session of a process of a pool, whose
 * master listens for it (worker/pool.c). Returns 1 or 0. */
int	 jobs_session(struct db *);
int	 jobs_claim_challenge(struct db *, long lease, struct chall_job *);
void	 chall_job_free(struct chall_job *);
/* Records a validation outcome; error is problem JSON text or NULL. */
int	 jobs_finish_challenge(struct db *, const char *id, int ok,
	    const char *error);
/* serial_candidate is reserved for the order unless one already is. */
int	 jobs_claim_order(struct db *, long lease,
	    const char *serial_candidate, struct issue_job *);
void	 issue_job_free(struct issue_job *);
/* A certificate's first OCSP response, stored with it (sql/017). */
struct ocsp_first {
	long			 issuer_id;	/* ocsp_issuer.id */
	unsigned char		*der;		/* the signed response */
	size_t			 len;
	long			 this_update;	/* epoch seconds */
	long			 next_update;
};

/* Stores the certificate, debits the credit and marks the order valid in
 * one transaction, with the certificate's first OCSP response when ocsp is
 * not NULL (else that response stays due). Returns 1, 0 if the order was
 * no longer processing, 2 if the organization is out of credit (nothing
 * written), -1 on error. */
int	 jobs_store_certificate(struct db *, const char *order_id,
	    const char *cert_id, const char *serial, long not_before,
	    long not_after, const unsigned char *der, size_t der_len,
	    const char *pem_chain, const struct ocsp_first *ocsp);
/* Announces, after the commit that moved it out of processing, the
 * outcome of an order to a request waiting for it (sql/020; a failure is
 * logged: that request answers when its wait runs out). */
void	 jobs_order_outcome(struct db *, const char *order_id);
int	 jobs_fail_order(struct db *, const char *order_id,
	    const char *error);
/* Expires stale objects, purges old nonces, and purges the web site's
 * ended sessions (past their lifetime or idle web_session_idle seconds),
 * old one-time tokens and sign-in failures (websession_housekeeping).
 * Returns 1, or 0 if a step failed (the others run all the same). */
int	 jobs_housekeeping(struct db *, long nonce_lifetime);

#endif
