/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "base/macro.h"
#include "daemon/worker.h"

struct test_job {
	struct job job;
	int *done_count;
	int id;
	int gate_fd;      /* run blocks reading this until it is written, or -1 */
	pthread_t ran_on;
	bool ran;
	bool was_cancelled;
	int *order;       /* done order log */
	int *n_order;
};

static void run(struct job *j)
{
	struct test_job *t = (struct test_job *)j;
	char c;

	t->ran_on = pthread_self();
	t->ran = true;
	if (t->gate_fd >= 0)
		assert_int_equal(read(t->gate_fd, &c, 1), 1);
}

static void done(struct job *j)
{
	struct test_job *t = (struct test_job *)j;

	t->was_cancelled = j->cancelled;
	(*t->done_count)++;
	if (t->order)
		t->order[(*t->n_order)++] = t->id;
}

/* Dispatch until N jobs are done, or fail after a few seconds. */
static void wait_done(struct worker *w, int *count, int n)
{
	for (int tries = 0; *count < n && tries < 500; tries++) {
		struct pollfd p = { .fd = worker_fd(w), .events = POLLIN };

		if (poll(&p, 1, 10) > 0)
			worker_dispatch(w);
	}
	assert_int_equal(*count, n);
}

static void worker_test_runs_jobs_off_the_loop_and_reports_back(void **state _unused_)
{
	struct worker *w;
	int count = 0, order[8], n_order = 0;
	struct test_job jobs[5];

	assert_int_equal(worker_new(&w), 0);
	for (int i = 0; i < 5; i++) {
		jobs[i] = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .id = i,
					     .gate_fd = -1, .order = order, .n_order = &n_order };
		worker_submit(w, LANE_CONNECT, &jobs[i].job);
	}
	wait_done(w, &count, 5);
	for (int i = 0; i < 5; i++) {
		assert_true(jobs[i].ran);
		assert_false(pthread_equal(jobs[i].ran_on, pthread_self()));
		assert_int_equal(order[i], i); /* a lane keeps the order */
	}
	assert_int_equal(worker_pending(w, LANE_CONNECT), 0);
	worker_free(w);
}

static void worker_test_a_hanging_connect_does_not_hold_up_discovery(void **state _unused_)
{
	struct worker *w;
	int count = 0, gate[2];
	struct test_job hang, disc, disconnect, queued;

	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(&w), 0);
	hang = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = gate[0] };
	queued = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = -1 };
	disc = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = -1 };
	disconnect = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = -1 };
	worker_submit(w, LANE_CONNECT, &hang.job);
	worker_submit(w, LANE_CONNECT, &queued.job);
	worker_submit(w, LANE_DISCOVERY, &disc.job);
	worker_submit(w, LANE_DISCONNECT, &disconnect.job);

	wait_done(w, &count, 2); /* discovery and disconnect, while the connect hangs */
	assert_true(disc.ran);
	assert_true(disconnect.ran);
	assert_false(queued.ran);
	assert_int_equal(worker_pending(w, LANE_CONNECT), 2);

	assert_int_equal(write(gate[1], "x", 1), 1); /* the kernel lets go */
	wait_done(w, &count, 4);
	assert_true(queued.ran);
	worker_free(w);
	close(gate[0]);
	close(gate[1]);
}

/* Jobs marked first go before the lane's other queued jobs, in their own order. */
static void worker_test_first_jobs_go_before_the_others(void **state _unused_)
{
	struct worker *w;
	int count = 0, gate[2], order[8], n_order = 0;
	struct test_job jobs[6];
	static const bool first[6] = { false, false, true, false, true, true };
	static const int want[6] = { 0, 2, 4, 5, 1, 3 };

	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(&w), 0);
	for (int i = 0; i < 6; i++) {
		jobs[i] = (struct test_job){ .job = { .run = run, .done = done, .first = first[i] }, .done_count = &count,
					     .id = i, .gate_fd = i == 0 ? gate[0] : -1, .order = order, .n_order = &n_order };
		worker_submit(w, LANE_CONNECT, &jobs[i].job);
		while (i == 0 && !jobs[0].ran)
			usleep(1000); /* the lane is busy with the first before the rest come */
	}
	assert_int_equal(write(gate[1], "x", 1), 1);
	wait_done(w, &count, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(order[i], want[i]);
	worker_free(w);
	close(gate[0]);
	close(gate[1]);
}

static void worker_test_free_hands_back_queued_jobs_cancelled(void **state _unused_)
{
	struct worker *w;
	int count = 0, gate[2];
	struct test_job hang, queued;

	assert_int_equal(pipe(gate), 0);
	assert_int_equal(worker_new(&w), 0);
	hang = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = gate[0] };
	queued = (struct test_job){ .job = { .run = run, .done = done }, .done_count = &count, .gate_fd = -1 };
	worker_submit(w, LANE_CONNECT, &hang.job);
	worker_submit(w, LANE_CONNECT, &queued.job);
	while (!hang.ran)
		usleep(1000);
	worker_free(w); /* must not wait for the hanging job */
	assert_int_equal(count, 1);
	assert_true(queued.was_cancelled);
	assert_false(queued.ran);
	/* When the kernel lets go, the stuck lane ends and frees the worker (LeakSanitizer
	 * checks), and the job that hung gets its DONE, cancelled, to free itself. */
	assert_int_equal(write(gate[1], "x", 1), 1);
	for (int i = 0; i < 500 && count < 2; i++)
		usleep(1000);
	usleep(20000);
	assert_int_equal(count, 2);
	assert_true(hang.was_cancelled);
	close(gate[0]);
	close(gate[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(worker_test_runs_jobs_off_the_loop_and_reports_back),
		cmocka_unit_test(worker_test_a_hanging_connect_does_not_hold_up_discovery),
		cmocka_unit_test(worker_test_free_hands_back_queued_jobs_cancelled),
		cmocka_unit_test(worker_test_first_jobs_go_before_the_others),
	};
	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
