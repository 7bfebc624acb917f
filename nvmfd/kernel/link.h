/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Is a path's local side ready to carry a connect? The route to the target,
 * the interface that owns the source address (up, with carrier) and, for
 * RDMA, the device bound to that interface with its port ACTIVE. A path
 * whose link is not ready waits (no connect, no backoff growth) and
 * connects when it is.
 *
 * link_gather() reads the facts (routing, sysfs, libibverbs);
 * link_judge() decides from them alone, so every outcome is testable.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/ident.h"
#include "kernel/netroute.h"
#include "kernel/rdma.h"

enum link_status {
	LINK_READY,
	LINK_UNKNOWN,        /* cannot tell (no ib_uverbs to ask, say): do not hold connects back */
	LINK_NO_SOURCE,      /* host_iface missing, host_traddr not configured here */
	LINK_NO_ROUTE,       /* no route to the target */
	LINK_IF_DOWN,        /* the interface is administratively down */
	LINK_NO_CARRIER,
	LINK_NO_RDMA_DEVICE, /* no RDMA device is bound to the interface */
	LINK_PORT_DOWN,      /* the device's port is not ACTIVE */
	_LINK_STATUS_MAX,
};

struct link_facts {
	bool rdma;                /* the path's transport is rdma */
	int route_err;            /* netroute_lookup()'s result */
	struct netroute route;
	int netdev_err;
	struct netdev_state netdev;
	bool rdma_known;          /* every RDMA device could be queried */
	const struct rdma_dev *dev;
	const struct rdma_port *port;
	/* for the message */
	char traddr[64];
	char host_traddr[64];
	char host_iface[16];
};

const char *link_status_to_string(enum link_status s);

/* Whether a path in this status may connect. */
static inline bool link_status_ready(enum link_status s)
{
	return s == LINK_READY || s == LINK_UNKNOWN;
}

/* Decide; a sentence for status and logs goes to WHY. */
enum link_status link_judge(const struct link_facts *f, char *why, size_t size);

/* The devices of one rdma_scan() shared by every path's gather. */
struct rdma_view {
	struct rdma_dev *devs;
	size_t n;
	bool complete; /* as many devices as /sys/class/infiniband lists, all queried */
	bool scanned;
};

/* Read the facts of path ID under SYSFS ("/sys"); V is scanned on first need. */
void link_gather(const char *sysfs, const struct ident *id, struct rdma_view *v, struct link_facts *f);
void rdma_view_clear(struct rdma_view *v);
