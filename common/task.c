/*
 * task.c - a queue of tasks and the threads that run them (task.h).
 *
 * One lock guards everything. A task is queued, then running, then done;
 * task_wait takes back a task still queued and runs it itself, so that a
 * caller never waits for a thread that may not come (none could be
 * started, or all are running tasks that wait, in turn, for theirs).
 */
#include <string.h>

#include "task.h"
#include "util.h"

enum { TASK_QUEUED, TASK_RUNNING, TASK_DONE };

static pthread_mutex_t task_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t task_work = PTHREAD_COND_INITIALIZER;
static struct task *task_head, **task_tail = &task_head;
static int task_queued;		/* in the queue */
static int task_waiting;	/* threads waiting for a task */
static int task_threads;	/* threads started */
static int task_forkhook;

/* Takes t out of the queue; the lock is held. */
static void
task_unqueue(struct task *t)
{
	struct task **pp;

	for (pp = &task_head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			if (*pp == NULL)
				task_tail = pp;
			task_queued--;
			return;
		}
}

/* Runs t, out of the queue: the lock is held, and released while t
 * runs. */
static void
task_run(struct task *t)
{
	t->state = TASK_RUNNING;
	pthread_mutex_unlock(&task_mu);
	t->fn(t->arg);
	pthread_mutex_lock(&task_mu);
	t->state = TASK_DONE;
}

static void *
task_loop(void *arg)
{
	struct task *t;

	(void)arg;
	pthread_mutex_lock(&task_mu);
	for (;;) {
		while (task_head == NULL) {
			task_waiting++;
			pthread_cond_wait(&task_work, &task_mu);
			task_waiting--;
		}
		t = task_head;
		task_unqueue(t);
		task_run(t);
		if (t->waited)
			pthread_cond_signal(&t->done);
	}
	return NULL;
}

/* A forked child has none of its parent's threads, and the tasks queued
 * belong to the parent's callers: it starts again from nothing. */
static void
task_child(void)
{
	pthread_mutex_init(&task_mu, NULL);
	pthread_cond_init(&task_work, NULL);
	task_head = NULL;
	task_tail = &task_head;
	task_queued = task_waiting = task_threads = 0;
}

void
task_start(struct task *t, void (*fn)(void *), void *arg)
{
	pthread_t tid;
	int err;

	t->fn = fn;
	t->arg = arg;
	t->state = TASK_QUEUED;
	t->waited = 0;
	t->next = NULL;
	pthread_mutex_lock(&task_mu);
	if (!task_forkhook) {
		pthread_atfork(NULL, NULL, task_child);
		task_forkhook = 1;
	}
	*task_tail = t;
	task_tail = &t->next;
	task_queued++;
	/* a waiting thread for each queued task, or one more thread */
	if (task_waiting >= task_queued)
		pthread_cond_signal(&task_work);
	else if (task_threads < TASK_THREADS) {
		err = thread_start(&tid, task_loop, NULL);
		if (err == 0) {
			pthread_detach(tid);
			task_threads++;
		} else
			msg_warn("task: no thread (%s): the task runs when "
			    "waited for", strerror(err));
	}
	pthread_mutex_unlock(&task_mu);
}

void
task_wait(struct task *t)
{
	pthread_mutex_lock(&task_mu);
	if (t->state == TASK_QUEUED) {
		task_unqueue(t);
		task_run(t);
	}
	if (t->state != TASK_DONE) {
		/* the thread running it signals t->done */
		pthread_cond_init(&t->done, NULL);
		t->waited = 1;
		while (t->state != TASK_DONE)
			pthread_cond_wait(&t->done, &task_mu);
		pthread_cond_destroy(&t->done);
	}
	pthread_mutex_unlock(&task_mu);
}
