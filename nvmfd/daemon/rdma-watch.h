/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RDMA devices' asynchronous events (port active, port error, GID
 * change, device fatal) on the event loop.
 *
 * Reading them needs an open verbs context per device, and an open context
 * pins the device: on drivers without disassociate_ucontext (rxe, siw and
 * qedr among them in 6.1) removing the device waits until every user closes
 * it, and nothing tells the user to (drivers/infiniband/core/uverbs_main.c,
 * ib_uverbs_remove_one: wait_for_completion). But the removal first deletes
 * the uverbs character device, and that sends its remove uevent before the
 * wait. So the watcher listens to the kernel's own uevents (not udevd's: it
 * may not run, or run late) and closes a device's context at its uverbs
 * device's removal; `rdma link delete` and `rmmod qedr` go through.
 */
#pragma once

#include <systemd/sd-event.h>

struct rdma_watch;

/* DEV (rxe0), PORT (0 for the device), WHAT ("port active", "device fatal",
 * "removed" when the watch let it go at its removal, ...). */
typedef void (*rdma_event_t)(void *userdata, const char *dev, unsigned port, const char *what);

int rdma_watch_new(sd_event *loop, rdma_event_t cb, void *userdata, struct rdma_watch **ret);
void rdma_watch_free(struct rdma_watch *w);

/* Watch the devices not yet watched (at start, after an infiniband add). */
void rdma_watch_refresh(struct rdma_watch *w);

/* Let go of every device whose uverbs device is gone from sysfs: the
 * safety net should a removal uevent be lost (the manager's audit calls it). */
void rdma_watch_check(struct rdma_watch *w);

/* How many devices are watched. */
unsigned rdma_watch_count(const struct rdma_watch *w);
