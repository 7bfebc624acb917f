/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The prober against real children: this very binary stands in for
 * "nvmfd --probe-rdma" (PROBE_TEST_MODE says how it behaves), so each test
 * sees the kernel's own exits, zombies and pipes. The loop must keep
 * dispatching whatever the child does, and every child must be reaped by the
 * loop: the test never reaps one itself (WNOWAIT only looks).
 */
#include "cmocka-prelude.h"

#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/duration.h"
#include "base/macro.h"
#include "daemon/probe.h"

/* This binary, by its own name (valgrind's /proc/self/exe is valgrind). */
static char self[4096];
/* The prober gives a child 3 s (HELPER_TIMEOUT_USEC) before it kills it. */
#define CHILD_BUDGET_USEC (3 * USEC_PER_SEC)

/*
 * The loop must never wait for a child. A blocking waitpid() here stands
 * for a child slow to die, as one stuck in the kernel's RDMA CM teardown
 * would be: it takes 2 s, so a loop that makes one stalls, and the ticker
 * shows it. (This definition takes the place of libc's for the whole test.)
 */
static unsigned blocking_waits;

pid_t waitpid(pid_t pid, int *status, int options)
{
	if (!(options & WNOHANG)) {
		blocking_waits++;
		usleep(2 * USEC_PER_SEC);
	}
	return (pid_t)syscall(SYS_wait4, pid, status, options, NULL);
}

/* The stand-in child's side. */

static void child_answer(int argc, char **argv)
{
	/* argv: --probe-rdma TIMEOUT_MS TARGET... ("-" for a TCP target) */
	for (int i = 2; i < argc; i++)
		if (!streq(argv[i], "-"))
			printf("%d listening 0 stand-in accepted %s\n", i - 2, argv[i]);
	fflush(stdout);
}

static int child_main(int argc, char **argv)
{
	const char *mode = strempty(getenv("PROBE_TEST_MODE"));

	if (streq(mode, "answer")) {
		child_answer(argc, argv);
	} else if (streq(mode, "address-errors")) {
		/* the first target's neighbour does not answer; the second's device went away */
		printf("0 address-error %d address resolution failed: %s\n", -ETIMEDOUT, strerror(ETIMEDOUT));
		printf("1 address-error %d the RDMA device went away\n", -ENODEV);
		printf("2 timeout %d connect request: no answer in time\n", -ETIMEDOUT);
		fflush(stdout);
	} else if (streq(mode, "exit-first")) {
		/* the answer comes from a grandchild, after this child is gone */
		if (fork() == 0) {
			usleep(300 * USEC_PER_MSEC);
			child_answer(argc, argv);
		}
	} else if (streq(mode, "eof-first")) {
		child_answer(argc, argv);
		close(STDOUT_FILENO);
		usleep(300 * USEC_PER_MSEC);
	} else if (streq(mode, "fail")) {
		_exit(3);
	} else if (streq(mode, "sleep")) {
		for (;;)
			pause();
	}
	_exit(0); /* _exit: no leak check of a stand-in */
}

/* The test's side. */

struct got {
	enum probe_answer a;
	char traddr[64];
	char detail[200];
	bool busy;          /* prober_busy() as the answer came */
};

struct ctx {
	sd_event *loop;
	struct prober *p;
	struct got got[8];
	size_t n_got;
	sd_event_source *ticker;
	uint64_t last_tick, max_gap;
	unsigned ticks;
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

static void on_answer(void *userdata, const struct probe_target *t, enum probe_answer a, const char *detail)
{
	struct ctx *c = userdata;
	struct got *g;

	assert_true(c->n_got < ARRAY_SIZE(c->got));
	g = &c->got[c->n_got++];
	g->a = a;
	snprintf(g->traddr, sizeof(g->traddr), "%s", t->traddr);
	snprintf(g->detail, sizeof(g->detail), "%s", detail);
	g->busy = prober_busy(c->p);
}

/* A timer every 20 ms: the gap between two ticks is how long the loop stalled. */
static int on_tick(sd_event_source *s, uint64_t usec _unused_, void *userdata)
{
	struct ctx *c = userdata;
	uint64_t now = now_usec();

	if (c->last_tick && now - c->last_tick > c->max_gap)
		c->max_gap = now - c->last_tick;
	c->last_tick = now;
	c->ticks++;
	return sd_event_source_set_time_relative(s, 20 * USEC_PER_MSEC);
}

static void ctx_init(struct ctx *c, const char *mode)
{
	*c = (struct ctx){ 0 };
	blocking_waits = 0;
	setenv("PROBE_TEST_MODE", mode, 1);
	assert_int_equal(sd_event_new(&c->loop), 0);
	assert_int_equal(sd_event_add_time_relative(c->loop, &c->ticker, CLOCK_MONOTONIC, 20 * USEC_PER_MSEC, 1,
						    on_tick, c), 0);
	assert_int_equal(sd_event_source_set_enabled(c->ticker, SD_EVENT_ON), 0);
	assert_int_equal(prober_new(c->loop, self, on_answer, c, &c->p), 0);
}

/* Children of this process, zombies included, without reaping any. */
static bool has_children(void)
{
	siginfo_t si = { 0 };

	return waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 || errno != ECHILD;
}

static bool answered(struct ctx *c, size_t n)
{
	return c->n_got >= n;
}

static bool idle(struct ctx *c, size_t n _unused_)
{
	return !prober_busy(c->p);
}

static bool never(struct ctx *c _unused_, size_t n _unused_)
{
	return false;
}

static bool childless(struct ctx *c _unused_, size_t n _unused_)
{
	return !has_children();
}

/* Dispatch until DONE holds or BUDGET passes; the loop never waits on a child. */
static bool run_until(struct ctx *c, bool (*done)(struct ctx *, size_t), size_t n, uint64_t budget)
{
	uint64_t end = now_usec() + budget;

	while (!done(c, n) && now_usec() < end)
		assert_true(sd_event_run(c->loop, 50 * USEC_PER_MSEC) >= 0);
	return done(c, n);
}

/* Every child reaped by the loop, and nothing left behind. */
static void ctx_finish(struct ctx *c)
{
	if (c->p)
		assert_true(run_until(c, idle, 0, 10 * USEC_PER_SEC));
	prober_free(c->p);
	assert_true(run_until(c, childless, 0, 2 * USEC_PER_SEC));
	sd_event_source_disable_unref(c->ticker);
	sd_event_unref(c->loop);
	assert_false(has_children());
	assert_int_equal(blocking_waits, 0);
	assert_in_range(c->max_gap, 0, 500 * USEC_PER_MSEC);
}

static const struct probe_target rdma_a = { .rdma_cm = true, .traddr = "192.0.2.1", .trsvcid = "4420" };
static const struct probe_target rdma_b = { .rdma_cm = true, .traddr = "192.0.2.2", .trsvcid = "4420",
					    .src = "192.0.2.9" };
/* Nothing listens on port 1 here: refused at once. */
static const struct probe_target tcp_closed = { .traddr = "127.0.0.1", .trsvcid = "1" };

static const struct got *got_for(const struct ctx *c, const char *traddr)
{
	for (size_t i = 0; i < c->n_got; i++)
		if (streq(c->got[i].traddr, traddr))
			return &c->got[i];
	fail_msg("no answer for %s", traddr);
	return NULL;
}

static void probe_test_an_answering_child_is_reaped_by_the_loop(void **state _unused_)
{
	struct probe_target v[] = { rdma_a, tcp_closed, rdma_b };
	struct ctx c;

	ctx_init(&c, "answer");
	for (int round = 0; round < 2; round++) {
		c.n_got = 0;
		assert_int_equal(prober_run(c.p, v, ARRAY_SIZE(v)), 0);
		assert_true(prober_busy(c.p));
		assert_int_equal(prober_run(c.p, v, ARRAY_SIZE(v)), -EBUSY);
		assert_true(run_until(&c, answered, 3, USEC_PER_SEC));
		assert_int_equal(got_for(&c, "192.0.2.1")->a, PROBE_UP);
		assert_non_null(strstr(got_for(&c, "192.0.2.1")->detail, "stand-in accepted 192.0.2.1,4420,"));
		assert_int_equal(got_for(&c, "192.0.2.2")->a, PROBE_UP);
		assert_non_null(strstr(got_for(&c, "192.0.2.2")->detail, "192.0.2.2,4420,192.0.2.9"));
		assert_int_equal(got_for(&c, "127.0.0.1")->a, PROBE_DOWN);
		assert_true(run_until(&c, idle, 0, USEC_PER_SEC));
		assert_false(has_children());
	}
	assert_int_equal(c.n_got, 3);
	ctx_finish(&c);
}

static void probe_test_an_overdue_child_is_killed_and_reaped_while_the_loop_runs(void **state _unused_)
{
	struct ctx c;
	uint64_t start;

	ctx_init(&c, "sleep");
	start = now_usec();
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, CHILD_BUDGET_USEC + USEC_PER_SEC));
	assert_true(now_usec() - start >= CHILD_BUDGET_USEC - 100 * USEC_PER_MSEC);
	run_until(&c, never, 0, 100 * USEC_PER_MSEC);
	/* the timer kept its pace while the child was killed and reaped */
	assert_in_range(c.max_gap, 0, 500 * USEC_PER_MSEC);
	assert_true(c.ticks > 100);
	assert_int_equal(c.got[0].a, PROBE_UNKNOWN);
	assert_non_null(strstr(c.got[0].detail, "took too long"));
	assert_true(run_until(&c, idle, 0, USEC_PER_SEC));
	assert_false(has_children());
	ctx_finish(&c);
}

static void probe_test_a_child_that_exits_before_its_output_is_read(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "exit-first");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, 2 * USEC_PER_SEC));
	assert_int_equal(c.got[0].a, PROBE_UP);
	assert_non_null(strstr(c.got[0].detail, "stand-in accepted"));
	assert_false(c.got[0].busy);
	assert_false(has_children());
	ctx_finish(&c);
}

static void probe_test_output_read_before_the_child_exits(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "eof-first");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, 2 * USEC_PER_SEC));
	assert_int_equal(c.got[0].a, PROBE_UP);
	/* answered, but the round lasts until the child is reaped: never two at once */
	assert_true(c.got[0].busy);
	assert_true(run_until(&c, idle, 0, 2 * USEC_PER_SEC));
	assert_false(has_children());
	ctx_finish(&c);
}

/* A TCP probe is bound to host_iface as nvme-tcp's socket is: through lo it
 * reaches a listener on 127.0.0.1; through an interface that is not there it
 * cannot run (no answer about the target, so no connect is held for it). */
static void probe_test_a_tcp_probe_binds_host_iface(void **state _unused_)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	struct probe_target v[2] = { { .traddr = "127.0.0.1", .iface = "lo" },
				     { .traddr = "127.0.0.2", .iface = "nvmfd-none0" } };
	_cleanup_close_ int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct ctx c;

	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(v[0].trsvcid, sizeof(v[0].trsvcid), "%u", ntohs(sa.sin_port));
	snprintf(v[1].trsvcid, sizeof(v[1].trsvcid), "%u", ntohs(sa.sin_port));
	ctx_init(&c, "answer");
	assert_int_equal(prober_run(c.p, v, ARRAY_SIZE(v)), 0);
	assert_true(run_until(&c, answered, 2, 2 * USEC_PER_SEC));
	assert_int_equal(got_for(&c, "127.0.0.1")->a, PROBE_UP);
	assert_int_equal(got_for(&c, "127.0.0.2")->a, PROBE_UNKNOWN);
	assert_non_null(strstr(got_for(&c, "127.0.0.2")->detail, "No such device"));
	ctx_finish(&c);
}

/* An address the fabric leaves unanswered is a silent target; a device gone says nothing of it. */
static void probe_test_an_unanswered_address_is_a_silent_target(void **state _unused_)
{
	struct probe_target v[] = { rdma_a, rdma_b, rdma_a };
	struct ctx c;

	snprintf(v[2].traddr, sizeof(v[2].traddr), "192.0.2.3");
	ctx_init(&c, "address-errors");
	assert_int_equal(prober_run(c.p, v, ARRAY_SIZE(v)), 0);
	assert_true(run_until(&c, answered, 3, 2 * USEC_PER_SEC));
	assert_int_equal(got_for(&c, "192.0.2.1")->a, PROBE_DOWN);
	assert_string_equal(got_for(&c, "192.0.2.1")->detail, "address resolution failed: Connection timed out");
	assert_int_equal(got_for(&c, "192.0.2.2")->a, PROBE_UNKNOWN);
	assert_int_equal(got_for(&c, "192.0.2.3")->a, PROBE_DOWN);
	ctx_finish(&c);
}

static void probe_test_a_child_that_fails_says_how(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "fail");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, 2 * USEC_PER_SEC));
	assert_int_equal(c.got[0].a, PROBE_UNKNOWN);
	assert_non_null(strstr(c.got[0].detail, "status 3"));
	ctx_finish(&c);
}

static void probe_test_a_child_that_cannot_start(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "answer");
	prober_free(c.p);
	assert_int_equal(prober_new(c.loop, "/nonexistent/nvmfd", on_answer, &c, &c.p), 0);
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, USEC_PER_SEC));
	assert_int_equal(c.got[0].a, PROBE_UNKNOWN);
	/* posix_spawn() says so; under valgrind, which spawns by fork, the child's exit 127 does */
	assert_true(strstr(c.got[0].detail, "cannot start") || strstr(c.got[0].detail, "status 127"));
	ctx_finish(&c);
}

/* Freed, the prober answers no more, takes no time, and the loop reaps its child. */
static void free_now(struct ctx *c)
{
	size_t n = c->n_got;
	uint64_t start = now_usec();

	prober_free(TAKE_PTR(c->p));
	assert_true(now_usec() - start < 250 * USEC_PER_MSEC);
	assert_true(run_until(c, childless, 0, 2 * USEC_PER_SEC));
	assert_int_equal(c->n_got, n);
}

static void probe_test_freeing_while_the_child_runs(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "sleep");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	run_until(&c, answered, 1, 200 * USEC_PER_MSEC);
	assert_true(has_children());
	free_now(&c);
	ctx_finish(&c);
}

static void probe_test_freeing_after_the_child_exited_unread(void **state _unused_)
{
	struct ctx c;
	siginfo_t si = { 0 };

	ctx_init(&c, "exit-first");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	/* the child is a zombie, its exit and output not yet seen by the loop */
	assert_int_equal(waitid(P_ALL, 0, &si, WEXITED | WNOWAIT), 0);
	free_now(&c);
	ctx_finish(&c);
}

static void probe_test_freeing_after_the_answer_before_the_exit(void **state _unused_)
{
	struct ctx c;

	ctx_init(&c, "eof-first");
	assert_int_equal(prober_run(c.p, &rdma_a, 1), 0);
	assert_true(run_until(&c, answered, 1, 2 * USEC_PER_SEC));
	assert_true(has_children());
	free_now(&c);
	ctx_finish(&c);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(probe_test_an_answering_child_is_reaped_by_the_loop),
		cmocka_unit_test(probe_test_an_overdue_child_is_killed_and_reaped_while_the_loop_runs),
		cmocka_unit_test(probe_test_a_child_that_exits_before_its_output_is_read),
		cmocka_unit_test(probe_test_output_read_before_the_child_exits),
		cmocka_unit_test(probe_test_a_tcp_probe_binds_host_iface),
		cmocka_unit_test(probe_test_an_unanswered_address_is_a_silent_target),
		cmocka_unit_test(probe_test_a_child_that_fails_says_how),
		cmocka_unit_test(probe_test_a_child_that_cannot_start),
		cmocka_unit_test(probe_test_freeing_while_the_child_runs),
		cmocka_unit_test(probe_test_freeing_after_the_child_exited_unread),
		cmocka_unit_test(probe_test_freeing_after_the_answer_before_the_exit),
	};
	sigset_t ss;

	if (argc > 1 && streq(argv[1], "--probe-rdma"))
		return child_main(argc - 1, argv + 1);
	/* As nvmfd's main() does: the loop reaps children only with SIGCHLD
	 * blocked in every thread. */
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!realpath("/proc/self/exe", self))
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
