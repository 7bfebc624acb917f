/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Cheap probes of a target's port, while a path backs off: is anything
 * listening? For TCP (and iWARP, which listens on a TCP socket of its own)
 * a plain TCP connect, closed at once; for RoCE and InfiniBand an RDMA CM
 * connect request the target refuses (rdmacm.h), run in a short-lived child
 * (nvmfd --probe-rdma) because librdmacm would otherwise keep the device
 * open in the daemon. A round probes each target once; the manager runs one
 * round a second at most, so a probe never storms.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

struct probe_target {
	bool rdma_cm;        /* through the RDMA CM; else a TCP connect */
	char traddr[64];
	char trsvcid[16];
	char src[64];        /* "" when the kernel picks */
	char iface[32];      /* TCP: the interface the socket is bound to, "" for none */
};

enum probe_answer {
	PROBE_UP,            /* something listens */
	PROBE_DOWN,          /* nothing listens, or no answer */
	PROBE_UNKNOWN,       /* the probe itself could not run */
};

/* One answer; DETAIL says which step and what happened. */
typedef void (*probe_done_t)(void *userdata, const struct probe_target *t, enum probe_answer a, const char *detail);

struct prober;

/*
 * HELPER: the program run as "HELPER --probe-rdma ..." (NULL: no RDMA CM
 * probes). LOOP reaps the child when it exits (sd-event's child source,
 * which needs SIGCHLD blocked in every thread), and kills it when overdue.
 */
int prober_new(sd_event *loop, const char *helper, probe_done_t done, void *userdata, struct prober **ret);
/* A child still running is killed and left to LOOP to reap, at once. */
void prober_free(struct prober *p);

/* A round still under way: answers to come, or its child not yet reaped. */
bool prober_busy(const struct prober *p);

/* Probe every target of V once; answers come through DONE. -EBUSY while a round runs. */
int prober_run(struct prober *p, const struct probe_target *v, size_t n);

/* The child's side: nvmfd --probe-rdma TIMEOUT_MS TRADDR,TRSVCID[,SRC]...; one line per target. */
int probe_helper_main(int argc, char **argv);
