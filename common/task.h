/*
 * task.h - functions run on the process's own threads while the caller
 * goes on: the worker's lookups that wait on the network (the CAA lookups
 * while a challenge is validated, the queries of dns_query_all).
 *
 * The threads are started when first needed, at most TASK_THREADS, and
 * kept: a task costs a lock and a wake-up, not a thread's creation. They
 * take no signal (thread_start), and a forked child starts with none.
 * A task must not take the process's locks or call what is not thread
 * safe (the database connection, the configuration being reloaded).
 */
#ifndef ACME_TASK_H
#define ACME_TASK_H

#include <pthread.h>

#define TASK_THREADS	8

struct task {
	void		(*fn)(void *);
	void		 *arg;
	/* private */
	int		 state;
	int		 waited;	/* a caller waits on done */
	pthread_cond_t	 done;
	struct task	*next;
};

/* Queues fn(arg) for a thread; t must live until task_wait(t). When no
 * thread can be started, the task waits for task_wait, which runs it. */
void	 task_start(struct task *t, void (*fn)(void *), void *arg);

/* Returns once t has run: runs it on the caller's thread if no thread
 * has taken it yet, else waits for the thread running it. */
void	 task_wait(struct task *t);

#endif
