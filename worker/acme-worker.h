/*
 * acme-worker.h - the worker process: one file per kind of job.
 */
#ifndef ACME_WORKER_H
#define ACME_WORKER_H

#include <stdint.h>

#include "db.h"
#include "dns.h"
#include "jobs.h"
#include "x509.h"

struct worker {
	struct db		 db;
	struct dns_resolver	 resolver;
	struct ca		 ca;
	int			 ca_loaded;
	int			 fault_ca;	/* tests: the CA fails */
	int			 fault_request;	/* tests: requests unreadable */
};

/*
 * pool.c: with worker_processes above 1, the master of a pool of worker
 * processes; proc_main(conf, fd) runs one process (fd: its socket to the
 * master) and returns its exit status. Returns the master's.
 *
 * Over the socket pair: the master sends a struct pool_msg, the kinds of
 * job a notification announced; a process that goes idle (its round found
 * nothing more to do) sends back the seq of the last message it read.
 */
struct pool_msg {
	uint32_t	 seq;
	uint32_t	 kinds;		/* JOB_BIT mask */
};

int	 pool_main(const char *conf, int (*proc_main)(const char *, int));

/* Checks the CAA records of name (wildcard: for "*.name") for this CA (the
 * caa_identities setting), the account's URL and the challenge type.
 * Returns 1 if issuance is allowed, or 0 with p set (INVALID_DNSCAA). */
int	 worker_caa(struct worker *, const char *name, int wildcard,
	    long account_id, const char *method, struct problem *p);

/* Each runs at most one job; returns 1 if it did one, 0 if there was
 * none, -1 on a database error. */
int	 job_challenge(struct worker *);
int	 job_issue(struct worker *);
/* revocation.c: OCSP responses due, and the CRL when due. */
int	 job_ocsp(struct worker *);
int	 job_crl(struct worker *);
/* Signs the first OCSP response (good) of the certificate serial (cert,
 * len bytes) the worker has just signed, to be stored with it (sql/017).
 * Returns 1 with out set (out->der: caller frees), or 0 when there is none
 * to give (no signer, a signing failure; logged): the response is then
 * left due, for job_ocsp. */
int	 ocsp_sign_issued(struct worker *, const char *serial,
	    const unsigned char *cert, size_t len, struct ocsp_first *out);
/* Frees revocation.c's OCSP signer (at exit). */
void	 revocation_free(void);
/* notify.c: delivers one message of the outbox (1 if it tried one, 0 if
 * none was due; a failure is recorded on the message, never -1); and, at
 * housekeeping, the daily digests if this worker is elected for them. */
int	 job_notify(struct worker *);
void	 job_notify_daily(struct worker *);

#endif
