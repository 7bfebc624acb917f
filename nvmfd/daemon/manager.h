/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager: owns every path (discovery controllers and I/O subsystems),
 * turns udev events, worker results and timers into path events, and
 * carries out the actions the path machine returns. It runs on the event
 * loop alone; blocking kernel calls go to the worker.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "base/duration.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"

struct manager;

struct manager_options {
	const char *sysfs;          /* "/sys" */
	usec_t audit_interval;      /* how often controller states are read (no event comes for live -> connecting) */
	bool disconnect_on_stop;    /* SIGTERM disconnects what this daemon manages */
	usec_t stuck_after;         /* a connect or kernel reconnect this long is "stuck"; 0: from ctrl_loss_tmo */
	bool load_modules;          /* a reload loads the new entry's modules */
	bool check_links;           /* paths wait for their local link (route, netdev, RDMA port) */
	bool probe;                 /* probe a backing-off target's port (TCP connects, RDMA CM requests) */
	const char *probe_helper;   /* run as "HELPER --probe-rdma" for RDMA CM probes; NULL: TCP probes only */
};

/* Takes INV (freed with the manager); H is its entry for this host. */
int manager_new(sd_event *loop, struct inventory *inv, const struct inv_host *h, const struct host_identity *id,
		const struct manager_options *opts, struct manager **ret);
void manager_free(struct manager *m);

/* Start the udev monitor, adopt existing controllers, begin discovery. */
int manager_start(struct manager *m);

/* Apply a new inventory (the manager takes it): new endpoints start, removed
 * ones are disconnected, unchanged ones are left alone. -ESHUTDOWN once
 * manager_stop() was called (the inventory is freed, nothing changes). */
int manager_reload(struct manager *m, struct inventory *inv, const struct inv_host *h, const struct host_identity *id);

/* Read every managed controller's state from sysfs again and re-read the
 * discovery logs: what the udev monitor lost (ENOBUFS) is found again. */
void manager_resync(struct manager *m);

/* Whether CTRL (nvmeN) is a controller of a path this daemon manages. */
bool manager_owns(struct manager *m, const char *ctrl);

/* The native multipath I/O policy the inventory gives subsystem NQN (NULL: none). */
const char *manager_iopolicy(struct manager *m, const char *nqn);

/* Reconnect now: every path in backoff or failed (FILTER NULL), or those whose
 * subsysnqn, traddr or controller equals FILTER. Returns how many. */
unsigned manager_kick(struct manager *m, const char *filter);

/* Ask the kernel to scan the namespaces of each live I/O path again (all, or
 * those whose subsysnqn, traddr or controller equals FILTER): what was lost
 * and comes back is said; the lost list is cleared (the admin decided). */
unsigned manager_rescan(struct manager *m, const char *filter);

/* Re-read the discovery logs of the endpoints (all, or those of target FILTER). */
unsigned manager_rediscover(struct manager *m, const char *filter);

/* Stop: disconnect (if asked to) and leave. Calls DONE when it may exit. */
void manager_stop(struct manager *m, void (*done)(void *), void *userdata);

/* The status of every path as JSON (json-c object, caller puts it). */
struct json_object *manager_status_json(struct manager *m);
/* "3/3 paths live" */
const char *manager_status_line(struct manager *m, char *buf, size_t size);
