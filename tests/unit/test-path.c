/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <stdio.h>

#include "core/backoff.h"
#include "core/connect-error.h"
#include "base/macro.h"
#include "core/path.h"

static const struct path_timing timing = {
	.backoff = { .initial = 1 * USEC_PER_SEC, .max = 60 * USEC_PER_SEC, .jitter_pct = 20 },
	.stable_after = 30 * USEC_PER_SEC,
	.stuck_after = 1800 * USEC_PER_SEC,
};

#define T PATH_ACT_TRANSITION
#define CONNECT PATH_ACT_CONNECT
#define DISCONNECT PATH_ACT_DISCONNECT
#define ARM_RETRY PATH_ACT_ARM_RETRY
#define CANCEL_RETRY PATH_ACT_CANCEL_RETRY
#define ARM_STABLE PATH_ACT_ARM_STABLE
#define CANCEL_STABLE PATH_ACT_CANCEL_STABLE
#define ARM_STUCK PATH_ACT_ARM_STUCK
#define CANCEL_STUCK PATH_ACT_CANCEL_STUCK

/* Every (state, event) that does something; every other pair must do nothing. */
static const struct {
	enum path_state from;
	enum path_event_type ev;
	enum path_state to;
	unsigned flags;
} table[] = {
	{ PATH_IDLE, PATH_EV_START, PATH_CONNECTING, T | CONNECT | ARM_STUCK },
	{ PATH_IDLE, PATH_EV_ADOPT, PATH_LIVE, T | ARM_STABLE },
	{ PATH_IDLE, PATH_EV_STOP, PATH_REMOVED, T },

	{ PATH_CONNECTING, PATH_EV_CONNECTED, PATH_LIVE, T | CANCEL_STUCK | ARM_STABLE },
	{ PATH_CONNECTING, PATH_EV_CONNECT_FAILED, PATH_BACKOFF, T | CANCEL_STUCK | ARM_RETRY },
	{ PATH_CONNECTING, PATH_EV_ADOPT, PATH_LIVE, T | CANCEL_STUCK | ARM_STABLE },
	{ PATH_CONNECTING, PATH_EV_STUCK_TIMER, PATH_CONNECTING, T },
	{ PATH_CONNECTING, PATH_EV_STOP, PATH_CONNECTING, 0 },

	{ PATH_LIVE, PATH_EV_CTRL_DOWN, PATH_DEGRADED, T | CANCEL_STABLE | ARM_STUCK },
	{ PATH_LIVE, PATH_EV_CTRL_GONE, PATH_CONNECTING, T | CANCEL_STABLE | CONNECT | ARM_STUCK },
	{ PATH_LIVE, PATH_EV_STABLE_TIMER, PATH_LIVE, 0 },
	{ PATH_LIVE, PATH_EV_STOP, PATH_DISCONNECTING, T | CANCEL_STABLE | DISCONNECT },
	{ PATH_LIVE, PATH_EV_ADOPT, PATH_LIVE, 0 },
	{ PATH_LIVE, PATH_EV_PAUSE, PATH_PAUSED, T | CANCEL_STABLE | DISCONNECT | ARM_RETRY },

	{ PATH_PAUSED, PATH_EV_RETRY_TIMER, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_PAUSED, PATH_EV_KICK, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_PAUSED, PATH_EV_DISCONNECTED, PATH_PAUSED, 0 },
	{ PATH_PAUSED, PATH_EV_CTRL_GONE, PATH_PAUSED, 0 },
	{ PATH_PAUSED, PATH_EV_STOP, PATH_REMOVED, T | CANCEL_RETRY },

	{ PATH_DEGRADED, PATH_EV_CTRL_LIVE, PATH_LIVE, T | CANCEL_STUCK | ARM_STABLE },
	{ PATH_DEGRADED, PATH_EV_ADOPT, PATH_LIVE, T | CANCEL_STUCK | ARM_STABLE },
	{ PATH_DEGRADED, PATH_EV_CTRL_GONE, PATH_CONNECTING, T | CANCEL_STUCK | CONNECT | ARM_STUCK },
	{ PATH_DEGRADED, PATH_EV_STUCK_TIMER, PATH_DEGRADED, T },
	{ PATH_DEGRADED, PATH_EV_STOP, PATH_DISCONNECTING, T | CANCEL_STUCK | DISCONNECT },

	{ PATH_BACKOFF, PATH_EV_RETRY_TIMER, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_BACKOFF, PATH_EV_KICK, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_BACKOFF, PATH_EV_ADOPT, PATH_LIVE, T | CANCEL_RETRY | ARM_STABLE },
	{ PATH_BACKOFF, PATH_EV_STOP, PATH_REMOVED, T | CANCEL_RETRY },

	{ PATH_FAILED, PATH_EV_RETRY_TIMER, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_FAILED, PATH_EV_KICK, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_FAILED, PATH_EV_ADOPT, PATH_LIVE, T | CANCEL_RETRY | ARM_STABLE },
	{ PATH_FAILED, PATH_EV_STOP, PATH_REMOVED, T | CANCEL_RETRY },

	{ PATH_BACKOFF, PATH_EV_LINK_DOWN, PATH_WAITING, T | CANCEL_RETRY },
	{ PATH_FAILED, PATH_EV_LINK_DOWN, PATH_WAITING, T | CANCEL_RETRY },

	{ PATH_WAITING, PATH_EV_LINK_UP, PATH_CONNECTING, T | CONNECT | ARM_STUCK },
	{ PATH_WAITING, PATH_EV_ADOPT, PATH_LIVE, T | ARM_STABLE },
	{ PATH_WAITING, PATH_EV_STOP, PATH_REMOVED, T },

	{ PATH_LIVE, PATH_EV_REINIT, PATH_DISCONNECTING, T | CANCEL_STABLE | DISCONNECT },
	{ PATH_DEGRADED, PATH_EV_REINIT, PATH_DISCONNECTING, T | CANCEL_STUCK | DISCONNECT },
	{ PATH_BACKOFF, PATH_EV_REINIT, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_FAILED, PATH_EV_REINIT, PATH_CONNECTING, T | CANCEL_RETRY | CONNECT | ARM_STUCK },
	{ PATH_CONNECTING, PATH_EV_REINIT, PATH_CONNECTING, 0 },

	{ PATH_DISCONNECTING, PATH_EV_DISCONNECTED, PATH_REMOVED, T },
	{ PATH_DISCONNECTING, PATH_EV_CTRL_GONE, PATH_REMOVED, T },
};

static struct path in_state(enum path_state s)
{
	struct path p;

	path_init(&p, &timing);
	p.state = s;
	if (s == PATH_LIVE || s == PATH_DEGRADED || s == PATH_DISCONNECTING)
		snprintf(p.ctrl, sizeof(p.ctrl), "nvme3");
	return p;
}

static struct path_event event(enum path_event_type t)
{
	return (struct path_event){
		.type = t, .ctrl = "nvme3", .live = true, .cls = CONNECT_TRANSIENT, .reason = "Connection refused",
		.random = 12345,
	};
}

static void path_test_every_state_and_event(void **state _unused_)
{
	size_t failures = 0;

	for (int s = 0; s < _PATH_STATE_MAX; s++)
		for (int e = 0; e < _PATH_EVENT_MAX; e++) {
			struct path p = in_state((enum path_state)s);
			struct path_event ev = event((enum path_event_type)e);
			struct path_actions a = path_handle(&p, &ev);
			enum path_state want_to = (enum path_state)s;
			unsigned want_flags = 0;

			for (size_t i = 0; i < ARRAY_SIZE(table); i++)
				if (table[i].from == (enum path_state)s && table[i].ev == (enum path_event_type)e) {
					want_to = table[i].to;
					want_flags = table[i].flags;
				}
			if (p.state != want_to || a.flags != want_flags) {
				print_error("%s + %s: got %s flags %#x, want %s flags %#x\n",
					    path_state_to_string((enum path_state)s), path_event_to_string((enum path_event_type)e),
					    path_state_to_string(p.state), a.flags, path_state_to_string(want_to), want_flags);
				failures++;
			}
			if ((a.flags & T) && p.transition.to != p.state)
				failures++;
		}
	if (failures)
		fail_msg("%zu state/event pairs did not do what the table says", failures);
}

static void path_test_transition_records_old_new_and_reason(void **state _unused_)
{
	struct path p = in_state(PATH_LIVE);
	struct path_event ev = event(PATH_EV_CTRL_DOWN);

	ev.reason = "connecting";
	path_handle(&p, &ev);
	assert_int_equal(p.transition.from, PATH_LIVE);
	assert_int_equal(p.transition.to, PATH_DEGRADED);
	assert_string_equal(p.transition.reason, "nvme3 is connecting; the kernel is reconnecting");
}

static void path_test_backoff_grows_through_failures_and_resets_when_stable(void **state _unused_)
{
	struct path p;
	struct path_event start = event(PATH_EV_START), fail = event(PATH_EV_CONNECT_FAILED),
			  retry = event(PATH_EV_RETRY_TIMER), ok = event(PATH_EV_CONNECTED),
			  stable = event(PATH_EV_STABLE_TIMER);
	struct path_actions a;
	usec_t last = 0;

	path_init(&p, &timing);
	path_handle(&p, &start);
	for (unsigned i = 0; i < 10; i++) {
		a = path_handle(&p, &fail);
		assert_int_equal(p.state, PATH_BACKOFF);
		assert_true(a.flags & ARM_RETRY);
		assert_true(a.retry_in == backoff_delay(&timing.backoff, i, fail.random));
		assert_true(a.retry_in <= timing.backoff.max + timing.backoff.max / 5);
		if (i < 5)
			assert_true(a.retry_in > last);
		last = a.retry_in;
		path_handle(&p, &retry);
		assert_int_equal(p.state, PATH_CONNECTING);
	}
	assert_int_equal(p.attempts, 10);
	assert_string_equal(p.last_error, "Connection refused");
	path_handle(&p, &ok);
	assert_int_equal(p.state, PATH_LIVE);
	assert_string_equal(p.last_error, "");
	assert_int_equal(p.attempts, 10); /* not yet: only once it stayed live */
	path_handle(&p, &stable);
	assert_int_equal(p.attempts, 0);
}

static void path_test_permanent_failures_wait_the_longest_interval(void **state _unused_)
{
	static const enum connect_class permanent[] = { CONNECT_AUTH, CONNECT_DENIED, CONNECT_INVALID, CONNECT_NO_SUBSYS };

	for (size_t i = 0; i < ARRAY_SIZE(permanent); i++) {
		struct path p = in_state(PATH_CONNECTING);
		struct path_event ev = event(PATH_EV_CONNECT_FAILED);
		struct path_actions a;

		ev.cls = permanent[i];
		ev.reason = "why";
		a = path_handle(&p, &ev);
		assert_int_equal(p.state, PATH_FAILED);
		assert_true(a.flags & ARM_RETRY);
		assert_true(a.retry_in == timing.backoff.max);
		assert_int_equal(p.attempts, 0); /* no storm, and no growth to show */
		assert_int_equal(p.last_class, permanent[i]);
	}
}

static void path_test_already_connected_adopts(void **state _unused_)
{
	struct path p = in_state(PATH_CONNECTING);
	struct path_event ev = event(PATH_EV_CONNECT_FAILED), adopt = event(PATH_EV_ADOPT);
	struct path_actions a;

	ev.cls = CONNECT_ALREADY;
	a = path_handle(&p, &ev);
	assert_int_equal(p.state, PATH_DEGRADED);
	assert_true(a.flags & PATH_ACT_RESYNC);
	assert_false(a.flags & (CONNECT | ARM_RETRY));
	adopt.ctrl = "nvme7";
	path_handle(&p, &adopt);
	assert_int_equal(p.state, PATH_LIVE);
	assert_string_equal(p.ctrl, "nvme7");
}

static void path_test_adopting_a_controller_that_is_not_live(void **state _unused_)
{
	struct path p = in_state(PATH_IDLE);
	struct path_event adopt = event(PATH_EV_ADOPT);
	struct path_actions a;

	adopt.live = false;
	a = path_handle(&p, &adopt);
	assert_int_equal(p.state, PATH_DEGRADED);
	assert_false(a.flags & CONNECT); /* no connect, no disconnect: adoption only */
	assert_string_equal(p.ctrl, "nvme3");
}

static void path_test_stop_during_connect_undoes_it(void **state _unused_)
{
	struct path p = in_state(PATH_CONNECTING);
	struct path_event stop = event(PATH_EV_STOP), ok = event(PATH_EV_CONNECTED), done = event(PATH_EV_DISCONNECTED);
	struct path_actions a;

	path_handle(&p, &stop);
	a = path_handle(&p, &ok);
	assert_int_equal(p.state, PATH_DISCONNECTING);
	assert_true(a.flags & DISCONNECT);
	path_handle(&p, &done);
	assert_int_equal(p.state, PATH_REMOVED);

	p = in_state(PATH_CONNECTING);
	path_handle(&p, &stop);
	struct path_event fail = event(PATH_EV_CONNECT_FAILED);
	a = path_handle(&p, &fail);
	assert_int_equal(p.state, PATH_REMOVED);
	assert_false(a.flags & (ARM_RETRY | DISCONNECT));
}

/* A STOP during a connect that someone else's controller answers (it is
 * adopted, or the connect says EALREADY) is not lost. */
static void path_test_stop_during_connect_survives_adoption(void **state _unused_)
{
	struct path p = in_state(PATH_CONNECTING);
	struct path_event stop = event(PATH_EV_STOP), adopt = event(PATH_EV_ADOPT), done = event(PATH_EV_DISCONNECTED);
	struct path_event already = event(PATH_EV_CONNECT_FAILED);
	struct path_actions a;

	path_handle(&p, &stop);
	a = path_handle(&p, &adopt);
	assert_int_equal(p.state, PATH_DISCONNECTING);
	assert_true(a.flags & DISCONNECT);
	assert_string_equal(p.ctrl, "nvme3");
	path_handle(&p, &done);
	assert_int_equal(p.state, PATH_REMOVED);

	p = in_state(PATH_CONNECTING);
	path_handle(&p, &stop);
	already.cls = CONNECT_ALREADY;
	a = path_handle(&p, &already);
	assert_int_equal(p.state, PATH_REMOVED); /* not ours: left as it is */
	assert_false(a.flags & (PATH_ACT_RESYNC | DISCONNECT));
}

/* A new host ID or key: ours is disconnected and connected again, once. */
static void path_test_reinit_disconnects_and_connects_again(void **state _unused_)
{
	struct path p = in_state(PATH_LIVE);
	struct path_event reinit = event(PATH_EV_REINIT), done = event(PATH_EV_DISCONNECTED);
	struct path_event ok = event(PATH_EV_CONNECTED), stop = event(PATH_EV_STOP);
	struct path_actions a;

	path_handle(&p, &reinit);
	assert_int_equal(p.state, PATH_DISCONNECTING);
	a = path_handle(&p, &done);
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_true(a.flags & CONNECT);
	assert_string_equal(p.ctrl, "");
	path_handle(&p, &ok);
	assert_int_equal(p.state, PATH_LIVE);

	/* during a connect: the controller it makes has the old settings */
	p = in_state(PATH_CONNECTING);
	path_handle(&p, &reinit);
	a = path_handle(&p, &ok);
	assert_int_equal(p.state, PATH_DISCONNECTING);
	assert_true(a.flags & DISCONNECT);
	a = path_handle(&p, &done);
	assert_int_equal(p.state, PATH_CONNECTING);

	/* a stop while it disconnects to connect again: it stops */
	p = in_state(PATH_LIVE);
	path_handle(&p, &reinit);
	path_handle(&p, &stop);
	path_handle(&p, &done);
	assert_int_equal(p.state, PATH_REMOVED);
}

static void path_test_reconnects_are_counted(void **state _unused_)
{
	struct path p;
	struct path_event start = event(PATH_EV_START), ok = event(PATH_EV_CONNECTED), down = event(PATH_EV_CTRL_DOWN),
			  up = event(PATH_EV_CTRL_LIVE), gone = event(PATH_EV_CTRL_GONE);

	path_init(&p, &timing);
	path_handle(&p, &start);
	path_handle(&p, &ok);
	assert_int_equal(p.reconnects, 0);
	path_handle(&p, &down);
	path_handle(&p, &up); /* the kernel brought it back */
	assert_int_equal(p.reconnects, 1);
	path_handle(&p, &gone);
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_string_equal(p.ctrl, "");
	path_handle(&p, &ok); /* we brought it back */
	assert_int_equal(p.reconnects, 2);
}

static void path_test_pause_disconnects_and_waits_without_counting_a_loss(void **state _unused_)
{
	struct path p = in_state(PATH_LIVE);
	struct path_event pause = event(PATH_EV_PAUSE), gone = event(PATH_EV_CTRL_GONE), timer = event(PATH_EV_RETRY_TIMER),
			  ok = event(PATH_EV_CONNECTED);
	struct path_actions a;

	pause.pause_for = 60 * USEC_PER_SEC;
	a = path_handle(&p, &pause);
	assert_int_equal(p.state, PATH_PAUSED);
	assert_true(a.retry_in == 60 * USEC_PER_SEC);
	a = path_handle(&p, &gone); /* our own disconnect: no reconnect */
	assert_int_equal(a.flags, 0);
	assert_string_equal(p.ctrl, "");
	path_handle(&p, &timer);
	assert_int_equal(p.state, PATH_CONNECTING);
	path_handle(&p, &ok);
	assert_int_equal(p.reconnects, 0);
}

static void path_test_stuck_is_flagged_once(void **state _unused_)
{
	struct path p = in_state(PATH_DEGRADED);
	struct path_event stuck = event(PATH_EV_STUCK_TIMER), up = event(PATH_EV_CTRL_LIVE);
	struct path_actions a;

	a = path_handle(&p, &stuck);
	assert_true(p.stuck);
	assert_true(a.flags & T);
	assert_non_null(strstr(p.last_error, "may be stuck"));
	a = path_handle(&p, &stuck);
	assert_int_equal(a.flags, 0);
	path_handle(&p, &up);
	assert_false(p.stuck);
}

static void backoff_test_bounds_and_jitter(void **state _unused_)
{
	const struct inv_backoff b = { .initial = 500 * USEC_PER_MSEC, .max = 30 * USEC_PER_SEC, .jitter_pct = 20 };
	static const uint32_t randoms[] = { 0, 1, 7777, 0x7fffffff, 0xffffffff };

	for (unsigned attempt = 0; attempt < 100; attempt++) {
		usec_t base = attempt >= 6 ? b.max : b.initial << attempt;

		if (base > b.max)
			base = b.max;
		for (size_t i = 0; i < ARRAY_SIZE(randoms); i++) {
			usec_t d = backoff_delay(&b, attempt, randoms[i]);

			assert_true(d >= base - base / 5);
			assert_true(d <= base + base / 5);
		}
	}
	/* Both ends of the jitter are reached. */
	{
		usec_t lo = UINT64_MAX, hi = 0;

		for (uint32_t r = 0; r < 20000; r++) {
			usec_t d = backoff_delay(&b, 0, r * 2654435761u);

			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
		}
		assert_true(lo < b.initial - b.initial / 5 + b.initial / 100);
		assert_true(hi > b.initial + b.initial / 5 - b.initial / 100);
	}
}

static void backoff_test_without_jitter_is_exact(void **state _unused_)
{
	const struct inv_backoff b = { .initial = USEC_PER_SEC, .max = 60 * USEC_PER_SEC, .jitter_pct = 0 };

	assert_true(backoff_delay(&b, 0, 99) == USEC_PER_SEC);
	assert_true(backoff_delay(&b, 1, 99) == 2 * USEC_PER_SEC);
	assert_true(backoff_delay(&b, 5, 99) == 32 * USEC_PER_SEC);
	assert_true(backoff_delay(&b, 6, 99) == 60 * USEC_PER_SEC);
	assert_true(backoff_delay(&b, 4000000000u, 99) == 60 * USEC_PER_SEC);
}

static void connect_error_test_classifies_kernel_lines_and_errnos(void **state _unused_)
{
	/* Lines the lab's kernels printed (6.12: auth and host checks; 6.1: a port nothing listens on). */
	static const struct {
		int err;
		const char *log;
		enum connect_class cls;
		const char *reason_has;
	} cases[] = {
		{ -EIO, "nvme nvme0: failed to connect queue: 0 ret=-126\n", CONNECT_AUTH, "authentication failed" },
		{ -EIO, "nvme nvme0: failed to connect queue: 0 ret=-129\n", CONNECT_AUTH, "ret=-129" },
		{ -EIO, "nvme nvme0: failed to connect queue: 0 ret=16772\n", CONNECT_DENIED, "does not allow this host NQN" },
		{ -EIO, "nvme nvme0: Connect for subsystem nqn.2020-09.com.example:s is not allowed, hostnqn: nqn.x\n",
		  CONNECT_DENIED, "does not allow" },
		{ -EIO, "nvme nvme0: Connect rejected: status 8 (invalid service ID).\n", CONNECT_TRANSIENT, "invalid service ID" },
		{ -EIO, "nvme nvme0: failed to connect queue: 0 ret=386\n", CONNECT_INVALID, "parameters" },
		{ -EIO, "nvme nvme2: Connect Invalid Data Parameter, subsysnqn \"nqn.2020-09.com.example:x\"\n", CONNECT_NO_SUBSYS,
		  "does not export" },
		{ -EALREADY, NULL, CONNECT_ALREADY, "already connected" },
		{ -EINVAL, "", CONNECT_INVALID, "Invalid argument" },
		{ -ENODEV, NULL, CONNECT_INVALID, "No such device" },
		{ -EKEYREJECTED, NULL, CONNECT_AUTH, "rejected" },
		{ -ECONNREFUSED, NULL, CONNECT_TRANSIENT, "Connection refused" },
		{ -ETIMEDOUT, "unrelated: line\n", CONNECT_TRANSIENT, "timed out" },
		{ -EIO, NULL, CONNECT_TRANSIENT, "Input/output error" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char reason[256];
		enum connect_class c = connect_classify(cases[i].err, cases[i].log, reason, sizeof(reason));

		if (c != cases[i].cls || !strstr(reason, cases[i].reason_has))
			fail_msg("case %zu: got %s \"%s\", want %s with \"%s\"", i, connect_class_to_string(c), reason,
				 connect_class_to_string(cases[i].cls), cases[i].reason_has);
	}
}

static struct path_actions feed(struct path *p, enum path_event_type t, const char *reason)
{
	struct path_event ev = event(t);

	ev.reason = reason;
	return path_handle(p, &ev);
}

static void path_test_waits_for_the_link_without_counting_attempts(void **state _unused_)
{
	struct path p = in_state(PATH_IDLE);
	struct path_actions a;

	/* Down before the start: no connect at all. */
	feed(&p, PATH_EV_LINK_DOWN, "no RDMA device is bound to eth1");
	a = feed(&p, PATH_EV_START, NULL);
	assert_int_equal(p.state, PATH_WAITING);
	assert_false(a.flags & CONNECT);
	assert_string_equal(p.last_error, "waiting: no RDMA device is bound to eth1");
	/* Kicks and timers do nothing while it waits. */
	assert_int_equal(feed(&p, PATH_EV_KICK, NULL).flags, 0);
	assert_int_equal(feed(&p, PATH_EV_RETRY_TIMER, NULL).flags, 0);
	/* Another reason is shown, still no connect. */
	assert_int_equal(feed(&p, PATH_EV_LINK_DOWN, "rxe0 port 1 is DOWN").flags, 0);
	assert_string_equal(p.last_error, "waiting: rxe0 port 1 is DOWN");
	a = feed(&p, PATH_EV_LINK_UP, "rxe0 port 1 ACTIVE");
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_true(a.flags & CONNECT);
	assert_int_equal(p.attempts, 0);
}

static void path_test_a_failure_on_a_down_link_waits_instead_of_backing_off(void **state _unused_)
{
	struct path p = in_state(PATH_LIVE);
	struct path_actions a;

	/* The link goes while live: the kernel keeps the controller; nothing changes. */
	assert_int_equal(feed(&p, PATH_EV_LINK_DOWN, "interface eth1 has no carrier").flags, 0);
	assert_int_equal(p.state, PATH_LIVE);
	/* The controller is removed: no connect, wait. */
	a = feed(&p, PATH_EV_CTRL_GONE, NULL);
	assert_int_equal(p.state, PATH_WAITING);
	assert_false(a.flags & CONNECT);
	/* A connect already in flight that fails on a down link: wait, count nothing. */
	p = in_state(PATH_CONNECTING);
	feed(&p, PATH_EV_LINK_DOWN, "no route to 192.0.2.1");
	a = feed(&p, PATH_EV_CONNECT_FAILED, "rdma connection establishment failed (-19)");
	assert_int_equal(p.state, PATH_WAITING);
	assert_false(a.flags & ARM_RETRY);
	assert_int_equal(p.attempts, 0);
}

static void path_test_a_probe_ends_the_backoff_only_on_down_then_up(void **state _unused_)
{
	struct path p = in_state(PATH_CONNECTING);
	struct path_actions a;

	/* The first failure after it worked: the port counts as seen down. */
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -111");
	assert_int_equal(p.state, PATH_BACKOFF);
	a = feed(&p, PATH_EV_TARGET_UP, "TCP connect accepted");
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_true(a.flags & CONNECT);
	assert_true(a.flags & CANCEL_RETRY);
	/* the connect follows the port's return: it may go first (manager-jobs.c) */
	assert_true(a.flags & PATH_ACT_PORT_BACK);
	/* That connect fails too (the port is up; something else is wrong): the
	 * probe keeps seeing it up, and that connects no more. */
	feed(&p, PATH_EV_CONNECT_FAILED, "Connect Invalid Parameters");
	assert_int_equal(p.state, PATH_BACKOFF);
	for (int i = 0; i < 10; i++)
		assert_int_equal(feed(&p, PATH_EV_TARGET_UP, NULL).flags, 0);
	/* Down, then up: connect at once, whatever the backoff says. */
	assert_int_equal(feed(&p, PATH_EV_TARGET_DOWN, "connection refused").flags, 0);
	assert_int_equal(feed(&p, PATH_EV_TARGET_DOWN, "connection refused").flags, 0);
	a = feed(&p, PATH_EV_TARGET_UP, NULL);
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_string_equal(p.transition.reason, "the target's port answers again");
	assert_true(a.flags & PATH_ACT_PORT_BACK);
	/* a plain retry, a kick: no word of the port (one to a silent port may
	 * hang for a minute and must not go before the rest) */
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	a = feed(&p, PATH_EV_RETRY_TIMER, NULL);
	assert_true(a.flags & CONNECT);
	assert_false(a.flags & PATH_ACT_PORT_BACK);
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	a = feed(&p, PATH_EV_KICK, NULL);
	assert_true(a.flags & CONNECT);
	assert_false(a.flags & PATH_ACT_PORT_BACK);
	/* A refusal (FAILED) is not mended by the port answering. */
	p = in_state(PATH_CONNECTING);
	a = path_handle(&p, &(struct path_event){ .type = PATH_EV_CONNECT_FAILED, .cls = CONNECT_DENIED, .reason = "not allowed" });
	assert_int_equal(p.state, PATH_FAILED);
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	assert_int_equal(feed(&p, PATH_EV_TARGET_UP, NULL).flags, 0);
	assert_int_equal(p.state, PATH_FAILED);
}

/* A retry due while the latest probe found the port silent: held, counted as held, not as an attempt. */
static void assert_held(struct path *p, unsigned attempts)
{
	unsigned held = p->held;
	usec_t step = backoff_delay(&timing.backoff, attempts + p->held_run, 0);
	struct path_actions a = feed(p, PATH_EV_RETRY_TIMER, NULL);

	assert_int_equal(p->state, PATH_BACKOFF);
	assert_int_equal(a.flags, ARM_RETRY); /* no connect, no transition to log */
	assert_int_equal(p->attempts, attempts);
	assert_int_equal(p->held, held + 1);
	assert_true(p->target_silent && p->target_down); /* silent implies down: an answer connects at once */
	/* the next step grows as after a failure: the probes soon come faster than the steps */
	assert_in_range(a.retry_in, step * 4 / 5, step * 6 / 5);
}

static void path_test_no_connect_while_the_latest_probe_finds_the_port_silent(void **state _unused_)
{
	struct path p = in_state(PATH_CONNECTING);
	struct path_actions a;

	for (int i = 0; i < 6; i++) {
		feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
		feed(&p, PATH_EV_RETRY_TIMER, NULL);
	}
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	assert_int_equal(p.attempts, 7);
	/* Held steps grow as failed ones would, up to the longest. */
	{
		struct path q = in_state(PATH_CONNECTING);

		feed(&q, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
		for (unsigned i = 0; i < 8; i++) {
			feed(&q, PATH_EV_TARGET_DOWN, NULL);
			assert_held(&q, 1);
		}
		assert_int_equal(q.held_run, 8);
		feed(&q, PATH_EV_TARGET_DOWN, NULL);
		assert_in_range(feed(&q, PATH_EV_RETRY_TIMER, NULL).retry_in, timing.backoff.max * 4 / 5, timing.backoff.max * 6 / 5);
		/* a connect begins the run anew */
		feed(&q, PATH_EV_KICK, NULL);
		assert_int_equal(q.held_run, 0);
	}
	/* A silent answer holds every step while it stands, however many come
	 * (the steps may come faster than the probes' rounds). */
	feed(&p, PATH_EV_TARGET_DOWN, "no answer in 900 ms");
	for (int i = 0; i < 20; i++)
		assert_held(&p, 7);
	assert_int_equal(p.held, 20);
	/* Probes that cannot tell (they could not run), a few in a row, let the
	 * next step connect; one among silent answers holds on. */
	assert_int_equal(feed(&p, PATH_EV_TARGET_UNKNOWN, "the RDMA CM probe took too long").flags, 0);
	assert_held(&p, 7);
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	for (int i = 1; i < PATH_PROBE_UNKNOWN_RUN; i++) {
		assert_int_equal(feed(&p, PATH_EV_TARGET_UNKNOWN, "the RDMA CM probe took too long").flags, 0);
		assert_held(&p, 7);
	}
	assert_int_equal(feed(&p, PATH_EV_TARGET_UNKNOWN, "the RDMA CM probe took too long").flags, 0);
	a = feed(&p, PATH_EV_RETRY_TIMER, NULL);
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_true(a.flags & CONNECT);
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	/* The port answers: connect at once, not at the next step. */
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	assert_held(&p, 8);
	a = feed(&p, PATH_EV_TARGET_UP, "TCP connect accepted");
	assert_int_equal(p.state, PATH_CONNECTING);
	assert_true(a.flags & CONNECT);
	/* A silent answer stands through a connect that fails: the one before
	 * it, or one that came while it ran (a connect to a silent port lasts
	 * longer than the backoff's steps). */
	feed(&p, PATH_EV_CONNECT_FAILED, "Connect Invalid Parameters");
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	feed(&p, PATH_EV_KICK, NULL);
	assert_int_equal(p.state, PATH_CONNECTING);
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	assert_held(&p, 10);
	feed(&p, PATH_EV_KICK, NULL);
	feed(&p, PATH_EV_TARGET_UNKNOWN, NULL);
	feed(&p, PATH_EV_TARGET_UNKNOWN, NULL);
	feed(&p, PATH_EV_TARGET_UNKNOWN, NULL);
	feed(&p, PATH_EV_TARGET_DOWN, "no answer in 900 ms"); /* while connecting */
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	assert_held(&p, 11);
	/* A connect that succeeds ends it: after the next loss, steps connect. */
	feed(&p, PATH_EV_KICK, NULL);
	feed(&p, PATH_EV_CONNECTED, NULL);
	assert_int_equal(p.state, PATH_LIVE);
	assert_false(p.target_silent);
	feed(&p, PATH_EV_CTRL_GONE, NULL); /* connects at once (no settle here) */
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	a = feed(&p, PATH_EV_RETRY_TIMER, NULL);
	assert_true(a.flags & CONNECT);
	/* A reinit's connect that succeeds ends it too, though the path never
	 * went live: the silent answer from before it holds nothing after. */
	feed(&p, PATH_EV_KICK, NULL);
	feed(&p, PATH_EV_REINIT, "the host ID changed");
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	feed(&p, PATH_EV_CONNECTED, NULL);
	assert_int_equal(p.state, PATH_DISCONNECTING);
	assert_false(p.target_silent);
	feed(&p, PATH_EV_DISCONNECTED, NULL);
	assert_int_equal(p.state, PATH_CONNECTING);
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	assert_true(feed(&p, PATH_EV_RETRY_TIMER, NULL).flags & CONNECT);
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	/* An answer that the port is up lifts the hold: it connects, and when
	 * that fails for another cause the steps connect as before. */
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	assert_held(&p, p.attempts);
	assert_true(feed(&p, PATH_EV_TARGET_UP, NULL).flags & CONNECT);
	feed(&p, PATH_EV_CONNECT_FAILED, "Connect Invalid Parameters");
	assert_false(p.target_silent);
	a = feed(&p, PATH_EV_RETRY_TIMER, NULL);
	assert_true(a.flags & CONNECT);
	/* A kick connects whatever the probe said; so does a refused path's (FAILED) step. */
	feed(&p, PATH_EV_CONNECT_FAILED, "failed to connect socket: -110");
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	assert_true(feed(&p, PATH_EV_KICK, NULL).flags & CONNECT);
	path_handle(&p, &(struct path_event){ .type = PATH_EV_CONNECT_FAILED, .cls = CONNECT_DENIED, .reason = "not allowed" });
	assert_int_equal(p.state, PATH_FAILED);
	feed(&p, PATH_EV_TARGET_DOWN, NULL);
	assert_true(feed(&p, PATH_EV_RETRY_TIMER, NULL).flags & CONNECT);
}

static void path_test_a_removal_settles_before_the_next_connect(void **state _unused_)
{
	struct path_timing t = timing;
	struct path p;
	struct path_actions a;

	t.gone_settle = 1 * USEC_PER_SEC;
	path_init(&p, &t);
	p.state = PATH_LIVE;
	snprintf(p.ctrl, sizeof(p.ctrl), "nvme3");
	a = feed(&p, PATH_EV_CTRL_GONE, NULL);
	assert_int_equal(p.state, PATH_BACKOFF);
	assert_false(a.flags & CONNECT);
	assert_true(a.flags & ARM_RETRY);
	assert_int_equal(a.retry_in, 1 * USEC_PER_SEC);
	assert_int_equal(p.attempts, 0);
	assert_string_equal(p.ctrl, "");
	/* the target counts as seen down: its port answering connects at once */
	a = feed(&p, PATH_EV_TARGET_UP, NULL);
	assert_int_equal(p.state, PATH_CONNECTING);
	/* the link gone meanwhile: wait, no connect */
	path_init(&p, &t);
	p.state = PATH_DEGRADED;
	feed(&p, PATH_EV_LINK_DOWN, "no RDMA device is bound to eth1");
	a = feed(&p, PATH_EV_CTRL_GONE, NULL);
	assert_int_equal(p.state, PATH_WAITING);
	assert_false(a.flags & (CONNECT | ARM_RETRY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(path_test_every_state_and_event),
		cmocka_unit_test(path_test_transition_records_old_new_and_reason),
		cmocka_unit_test(path_test_backoff_grows_through_failures_and_resets_when_stable),
		cmocka_unit_test(path_test_permanent_failures_wait_the_longest_interval),
		cmocka_unit_test(path_test_already_connected_adopts),
		cmocka_unit_test(path_test_adopting_a_controller_that_is_not_live),
		cmocka_unit_test(path_test_stop_during_connect_undoes_it),
		cmocka_unit_test(path_test_stop_during_connect_survives_adoption),
		cmocka_unit_test(path_test_reinit_disconnects_and_connects_again),
		cmocka_unit_test(path_test_reconnects_are_counted),
		cmocka_unit_test(path_test_stuck_is_flagged_once),
		cmocka_unit_test(path_test_pause_disconnects_and_waits_without_counting_a_loss),
		cmocka_unit_test(path_test_waits_for_the_link_without_counting_attempts),
		cmocka_unit_test(path_test_a_failure_on_a_down_link_waits_instead_of_backing_off),
		cmocka_unit_test(path_test_a_probe_ends_the_backoff_only_on_down_then_up),
		cmocka_unit_test(path_test_no_connect_while_the_latest_probe_finds_the_port_silent),
		cmocka_unit_test(path_test_a_removal_settles_before_the_next_connect),
		cmocka_unit_test(backoff_test_bounds_and_jitter),
		cmocka_unit_test(backoff_test_without_jitter_is_exact),
		cmocka_unit_test(connect_error_test_classifies_kernel_lines_and_errnos),
	};
	return cmocka_run_group_tests_name("path", tests, NULL, NULL);
}
