/*
 * acme-worker.h - the worker process: one file per kind of job.
 */
#ifndef ACME_WORKER_H
#define ACME_WORKER_H

#include "db.h"
#include "dns.h"
#include "x509.h"

struct worker {
	struct db		 db;
	struct dns_resolver	 resolver;
	struct ca		 ca;
	int			 ca_loaded;
	int			 fault_ca;	/* tests: the CA fails */
	int			 fault_request;	/* tests: requests unreadable */
};

/* Each runs at most one job; returns 1 if it did one, 0 if there was
 * none, -1 on a database error. */
int	 job_challenge(struct worker *);
int	 job_issue(struct worker *);

#endif
