/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's NVMe controllers as sysfs shows them (/sys/class/nvme). Every
 * read goes through a root directory, so tests run on a temporary tree.
 * Used at start to adopt existing controllers, after a udev monitor overflow
 * (ENOBUFS) to resynchronise, and for a controller's state, for which the
 * kernel sends no uevent.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/ident.h"

struct ctrl_info {
	char name[32];  /* nvme3 */
	struct ident id;
	char state[24]; /* live, connecting, resetting, deleting, new, dead */
	char hostid[40];
	unsigned cntlid;
	bool discovery;
};

/*
 * Parse the kernel's address attribute, "traddr=A,trsvcid=S[,host_traddr=H]
 * [,host_iface=I][,src_addr=X]", into ID's address fields.
 */
void sysfs_parse_address(const char *text, struct ident *id);

/* Controller NAME under SYSFS ("/sys" in production); -ENOENT when gone. */
int sysfs_ctrl_read(const char *sysfs, const char *name, struct ctrl_info *ret);

/* Controller NAME's state alone (one read: the idle audit's); -ENOENT when gone. */
int sysfs_ctrl_state(const char *sysfs, const char *name, char *buf, size_t size);

/* Ask controller NAME to scan its namespaces again (rescan_controller: the
 * kernel queues the scan and returns at once). */
int sysfs_ctrl_rescan(const char *sysfs, const char *name);

/* The subsystem NQN of namespace block device NS (nvme2n1). */
int sysfs_ns_subsysnqn(const char *sysfs, const char *ns, char *buf, size_t size);

/* Every fabrics controller (transport rdma, tcp, fc, loop), into a malloc'ed array. */
int sysfs_ctrl_scan(const char *sysfs, struct ctrl_info **ret, size_t *ret_n);

/* The namespace block devices of controller NAME, multipath heads included,
 * in their numbers' order, as one malloc'ed string ("nvme0n1 nvme0n2 nvme0n10";
 * "" for none): there may be thousands. */
int sysfs_ctrl_namespaces(const char *sysfs, const char *name, char **ret);
