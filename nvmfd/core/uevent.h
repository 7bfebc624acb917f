/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a udev event means for nvmfd, decided from plain values (the monitor
 * in monitor.c reads them off libudev). Seen in the lab on the 6.1 kernel
 * (tests/unit/data/uevents-6.1.txt):
 *   nvme add            a controller appeared
 *   nvme change NVME_EVENT=connected
 *                       the kernel connected it, first or again after a loss
 *   nvme change NVME_AEN=0x70f002
 *                       a discovery controller's log changed (one-shot AEN)
 *   nvme remove         gone: deleted, or given up after ctrl_loss_tmo
 *   block add/remove    a namespace head (nvme0n1) appeared or went
 * No event comes when a controller drops from live to connecting or fails a
 * retry, and poll() on its sysfs "state" does not wake either (the lab
 * watched through live -> connecting -> live: no wake-up), so the manager
 * audits controller states on a timer.
 */
#pragma once

enum uevent_kind {
	UEVENT_IGNORE,
	UEVENT_CTRL_ADD,
	UEVENT_CTRL_CONNECTED,
	UEVENT_CTRL_REMOVE,
	UEVENT_DISCOVERY_CHANGED,
	UEVENT_NS_ADD,
	UEVENT_NS_REMOVE,
	UEVENT_RDMA_ADD,    /* an RDMA device (infiniband subsystem) appeared */
	UEVENT_RDMA_REMOVE,
	UEVENT_NET_CHANGE,  /* a network interface appeared or changed */
	_UEVENT_KIND_MAX,
};

/* The discovery log page changed (NVMe 2.0, Asynchronous Event Information - Notice 0xF0, log 0x70). */
#define NVME_AEN_DISC_CHANGED "0x70f002"

const char *uevent_kind_to_string(enum uevent_kind k);

/*
 * ACTION, SUBSYSTEM, SYSNAME and DEVTYPE of the event; NVME_EVENT and
 * NVME_AEN its properties of those names (NULL when absent).
 */
enum uevent_kind uevent_translate(const char *action, const char *subsystem, const char *sysname,
				  const char *devtype, const char *nvme_event, const char *nvme_aen);
