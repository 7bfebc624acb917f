/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocking kernel calls off the event loop. A fabrics connect blocks in the
 * kernel, uninterruptibly, and the kernel serialises all connects; a
 * disconnect of a controller whose reconnect is wedged can block for good.
 * So each kind of call has its own lane (a thread and a queue): a discovery
 * log read never waits behind a hanging connect, a connect never behind a
 * hanging disconnect. Jobs are plain data; results come back to the loop
 * through an eventfd that the loop watches, and the loop alone touches
 * paths (multipath-tools needed a mutex around every libudev call for sharing
 * state with its threads; nvmfd shares none).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum worker_lane {
	LANE_CONNECT,
	LANE_DISCOVERY,
	LANE_DISCONNECT,
	_LANE_MAX,
};

struct worker;

/* A job: RUN(DATA) on the lane's thread, then DONE(DATA) on the loop. */
struct job {
	struct job *next;
	void (*run)(struct job *j);  /* on the worker thread: blocking calls only, no shared state */
	void (*done)(struct job *j); /* on the loop thread, from worker_dispatch() */
	bool cancelled;              /* set by the loop; DONE still runs, to free the job */
	/* Set by the caller before worker_submit: the job goes before the lane's
	 * other queued jobs (after those that came first the same way). */
	bool first;
	bool skipped; /* set by worker_skip_queued: RUN did not run; DONE runs on the loop as usual */
};

int worker_new(struct worker **ret);
/* Stop the lanes. Jobs that are queued are dropped (DONE runs with cancelled
 * set); a job that is running blocks in the kernel and is left behind: when
 * it returns, its DONE runs with cancelled set, on its lane's thread, and
 * must then touch nothing but the job. */
void worker_free(struct worker *w);

/* The eventfd that becomes readable when results are there. */
int worker_fd(const struct worker *w);
/* Queue J on LANE (before the jobs without first when J->first). Never blocks. */
void worker_submit(struct worker *w, enum worker_lane lane, struct job *j);
/* The jobs queued on LANE (not the one running) will not run: each is handed
 * back with skipped set, for its DONE to say so. For a stop. */
void worker_skip_queued(struct worker *w, enum worker_lane lane);
/* Run DONE for every finished job; returns how many. Call when worker_fd() is readable. */
size_t worker_dispatch(struct worker *w);
/* Jobs queued or running on LANE, for status. */
size_t worker_pending(struct worker *w, enum worker_lane lane);
