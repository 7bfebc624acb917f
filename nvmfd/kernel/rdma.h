/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's RDMA devices as libibverbs shows them: ports, their state and
 * link layer, the netdev each port is bound to and the GIDs of its
 * addresses.
 *
 * A device is opened only for the moment of the query: an open verbs
 * context pins the device against removal (see rdma-watch.h, which holds
 * contexts for the asynchronous events and lets them go in time). Changes
 * come from those events, udev (infiniband add and remove) and rtnetlink
 * (the port of a RoCE or iWARP device follows its netdev's link: measured in
 * the lab, rxe and siw ports go DOWN with it); the devices are read again
 * then.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "kernel/netroute.h"

#define RDMA_MAX_PORTS 4
#define RDMA_MAX_GIDS 8

struct rdma_port {
	unsigned num;
	bool active;               /* IBV_PORT_ACTIVE */
	char state[16];            /* "ACTIVE", "DOWN", ... */
	char link_layer[16];       /* "Ethernet", "InfiniBand" */
	char netdev[IF_NAMESIZE];  /* "" when none is known */
	char gids[RDMA_MAX_GIDS][48];
	size_t n_gids;
};

struct rdma_dev {
	char name[64];             /* rxe0, qedr0, mlx5_0 */
	char kind[16];             /* "RoCE", "iWARP", "InfiniBand" */
	bool open_failed;          /* present, but could not be queried (the errno in .err) */
	int err;
	struct rdma_port ports[RDMA_MAX_PORTS];
	size_t n_ports;
};

/* Every RDMA device, into a malloc'ed array (none: 0 and *RET_N 0). */
int rdma_scan(struct rdma_dev **ret, size_t *ret_n);

/*
 * The device and port bound to the local side R of a path: by the GID
 * table's netdev (RoCE), or, where a device keeps no netdev in its GIDs
 * (iWARP: siw, cxgb4 and qedr in iWARP mode put the netdev's MAC in the
 * GID), by that MAC. NULL when none.
 */
const struct rdma_dev *rdma_find(const struct rdma_dev *v, size_t n, const struct netroute *r,
				 const struct rdma_port **ret_port);
