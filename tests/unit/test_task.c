/*
 * test_task.c - the task queue and its threads (common/task.c): tasks
 * run once each, together, tasks that wait for tasks of their own, and
 * in a forked child.
 */
#include <sys/types.h>
#include <sys/wait.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "task.h"
#include "util.h"

/* A task that meets others: it counts itself in, then waits (at most
 * MEET_MS) until `want' tasks are in. met: whether they all were. */
#define MEET_MS	3000

static int meet_in;
static pthread_mutex_t meet_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cv = PTHREAD_COND_INITIALIZER;

struct meet {
	struct task	 t;
	int		 want;
	int		 met;
};

static void
meet_run(void *arg)
{
	struct meet *m = arg;
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += MEET_MS / 1000;
	pthread_mutex_lock(&meet_mu);
	meet_in++;
	pthread_cond_broadcast(&meet_cv);
	while (meet_in < m->want &&
	    pthread_cond_timedwait(&meet_cv, &meet_mu, &until) == 0)
		;
	m->met = meet_in >= m->want;
	pthread_mutex_unlock(&meet_mu);
}

/* Starts n meeting tasks and waits for them; returns how many met. */
static int
meet_all(struct meet *m, int n)
{
	int i, met = 0;

	meet_in = 0;
	for (i = 0; i < n; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].want = n;
		task_start(&m[i].t, meet_run, &m[i]);
	}
	for (i = 0; i < n; i++) {
		task_wait(&m[i].t);
		met += m[i].met;
	}
	return met;
}

/* TASK_THREADS tasks run together (the caller may run one it waits for
 * before a thread took it, the others on the threads). */
static void
test_together(void **state)
{
	struct meet m[TASK_THREADS];

	(void)state;
	assert_int_equal(meet_all(m, TASK_THREADS), TASK_THREADS);
	/* and again, on the threads kept */
	assert_int_equal(meet_all(m, TASK_THREADS), TASK_THREADS);
}

/* Counting tasks: each runs once, its result seen after task_wait. */
struct count {
	struct task	 t;
	int		 runs;
};

static void
count_run(void *arg)
{
	((struct count *)arg)->runs++;
}

static void
test_each_once(void **state)
{
	struct count c[100];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		c[i].runs = 0;
		task_start(&c[i].t, count_run, &c[i]);
	}
	for (i = 99; i >= 0; i--)
		task_wait(&c[i].t);
	for (i = 0; i < 100; i++)
		assert_int_equal(c[i].runs, 1);
}

/* Tasks that start tasks and wait for them, more of them than there are
 * threads (as a CAA check waits for its lookups): all run. */
struct outer {
	struct task	 t;
	struct count	 inner[TASK_THREADS];
};

static void
outer_run(void *arg)
{
	struct outer *o = arg;
	int i;

	for (i = 0; i < TASK_THREADS; i++) {
		o->inner[i].runs = 0;
		task_start(&o->inner[i].t, count_run, &o->inner[i]);
	}
	for (i = 0; i < TASK_THREADS; i++)
		task_wait(&o->inner[i].t);
}

static void
test_nested(void **state)
{
	struct outer o[TASK_THREADS + 2];
	int i, k;

	(void)state;
	for (i = 0; i < TASK_THREADS + 2; i++)
		task_start(&o[i].t, outer_run, &o[i]);
	for (i = 0; i < TASK_THREADS + 2; i++) {
		task_wait(&o[i].t);
		for (k = 0; k < TASK_THREADS; k++)
			assert_int_equal(o[i].inner[k].runs, 1);
	}
}

/* A child forked after the parent's threads were started has threads
 * of its own: its tasks still run together. */
static void
test_forked_child(void **state)
{
	struct meet m[3];
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(meet_all(m, 3), 3);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(meet_all(m, 3) == 3 ? 0 : 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_together),
		cmocka_unit_test(test_each_once),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_forked_child),
	};

	log_init("test_task", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
