/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/rdma-watch.h"

#include <fcntl.h>
#include <infiniband/verbs.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/macro.h"

struct watched {
	struct watched *next;
	struct rdma_watch *w;
	char name[64];    /* rxe0 */
	char uverbs[64];  /* uverbs0: its character device, whose removal comes first */
	struct ibv_context *ctx;
	sd_event_source *io;
};

struct rdma_watch {
	sd_event *loop;
	rdma_event_t cb;
	void *userdata;
	struct watched *list;
	struct udev *udev;
	struct udev_monitor *mon;
	sd_event_source *mon_src;
};

static void release(struct rdma_watch *w, struct watched *x)
{
	for (struct watched **pp = &w->list; *pp; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	sd_event_source_disable_unref(x->io);
	ibv_close_device(x->ctx);
	free(x);
}

/* The device is going away: let it go, and say so. */
static void removed(struct rdma_watch *w, struct watched *x)
{
	char name[64];

	snprintf(name, sizeof(name), "%s", x->name);
	release(w, x);
	w->cb(w->userdata, name, 0, "removed");
}

static const char *event_name(enum ibv_event_type t)
{
	switch (t) {
	case IBV_EVENT_PORT_ACTIVE:
		return "port active";
	case IBV_EVENT_PORT_ERR:
		return "port error";
	case IBV_EVENT_GID_CHANGE:
		return "GID change";
	case IBV_EVENT_LID_CHANGE:
		return "LID change";
	case IBV_EVENT_PKEY_CHANGE:
		return "P_Key change";
	case IBV_EVENT_SM_CHANGE:
		return "SM change";
	case IBV_EVENT_CLIENT_REREGISTER:
		return "client reregister";
	case IBV_EVENT_DEVICE_FATAL:
		return "device fatal";
	case IBV_EVENT_CQ_ERR:
	case IBV_EVENT_QP_FATAL:
	case IBV_EVENT_QP_REQ_ERR:
	case IBV_EVENT_QP_ACCESS_ERR:
	case IBV_EVENT_COMM_EST:
	case IBV_EVENT_SQ_DRAINED:
	case IBV_EVENT_PATH_MIG:
	case IBV_EVENT_PATH_MIG_ERR:
	case IBV_EVENT_SRQ_ERR:
	case IBV_EVENT_SRQ_LIMIT_REACHED:
	case IBV_EVENT_QP_LAST_WQE_REACHED:
	case IBV_EVENT_WQ_FATAL:
		break;
	}
	return NULL; /* about objects nvmfd does not own */
}

static int on_async(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	struct watched *x = userdata;
	struct rdma_watch *w = x->w;
	struct ibv_async_event ev;
	bool fatal = false;

	while (ibv_get_async_event(x->ctx, &ev) == 0) {
		const char *what = event_name(ev.event_type);
		unsigned port = ev.event_type == IBV_EVENT_DEVICE_FATAL ? 0 : (unsigned)ev.element.port_num;

		fatal |= ev.event_type == IBV_EVENT_DEVICE_FATAL;
		ibv_ack_async_event(&ev);
		if (what)
			w->cb(w->userdata, x->name, port, what);
	}
	if (fatal)
		release(w, x); /* a new add brings it back */
	return 0;
}

static struct watched *find(struct rdma_watch *w, const char *name)
{
	for (struct watched *x = w->list; x; x = x->next)
		if (streq(x->name, name) || streq(x->uverbs, name))
			return x;
	return NULL;
}

void rdma_watch_refresh(struct rdma_watch *w)
{
	int n = 0;
	struct ibv_device **list = ibv_get_device_list(&n);

	for (int i = 0; list && i < n; i++) {
		struct watched *x;
		struct ibv_context *ctx;

		if (find(w, ibv_get_device_name(list[i])))
			continue;
		ctx = ibv_open_device(list[i]);
		if (!ctx)
			continue;
		x = calloc(1, sizeof(*x));
		if (!x) {
			ibv_close_device(ctx);
			continue;
		}
		x->w = w;
		x->ctx = ctx;
		snprintf(x->name, sizeof(x->name), "%s", ibv_get_device_name(list[i]));
		snprintf(x->uverbs, sizeof(x->uverbs), "%s", list[i]->dev_name);
		if (fcntl(ctx->async_fd, F_SETFL, fcntl(ctx->async_fd, F_GETFL) | O_NONBLOCK) < 0 ||
		    sd_event_add_io(w->loop, &x->io, ctx->async_fd, EPOLLIN, on_async, x) < 0) {
			ibv_close_device(ctx);
			free(x);
			continue;
		}
		x->next = w->list;
		w->list = x;
		/* A device that comes with its port active sends no port event:
		 * say it is here, so paths waiting for it look at once. */
		w->cb(w->userdata, x->name, 0, "added");
	}
	if (list)
		ibv_free_device_list(list);
}

void rdma_watch_check(struct rdma_watch *w)
{
	for (struct watched *x = w ? w->list : NULL, *next; x; x = next) {
		char path[128];

		next = x->next;
		snprintf(path, sizeof(path), "/sys/class/infiniband_verbs/%s", x->uverbs);
		if (access(path, F_OK) < 0 && errno == ENOENT)
			removed(w, x);
	}
}

/* The kernel's uevents: a uverbs device going away is let go at once. */
static int on_kernel_uevent(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	struct rdma_watch *w = userdata;
	struct udev_device *d;

	for (;;) {
		errno = 0;
		d = udev_monitor_receive_device(w->mon);
		if (!d) {
			if (errno == ENOBUFS) {
				/* lost some: whatever is gone from sysfs is let go */
				rdma_watch_check(w);
				continue;
			}
			break;
		}
		const char *action = udev_device_get_action(d), *name = udev_device_get_sysname(d);
		struct watched *x = name ? find(w, name) : NULL;

		if (x && streq_ptr(action, "remove"))
			removed(w, x);
		else if (!x && streq_ptr(action, "add"))
			/* its uverbs device comes after the infiniband one */
			rdma_watch_refresh(w);
		udev_device_unref(d);
	}
	return 0;
}

int rdma_watch_new(sd_event *loop, rdma_event_t cb, void *userdata, struct rdma_watch **ret)
{
	struct rdma_watch *w = calloc(1, sizeof(*w));
	int r = -ENOMEM;

	if (!w)
		return -ENOMEM;
	w->loop = sd_event_ref(loop);
	w->cb = cb;
	w->userdata = userdata;
	w->udev = udev_new();
	if (!w->udev)
		goto fail;
	/* "kernel", not "udev": the release must not wait for udevd, nor need it. */
	w->mon = udev_monitor_new_from_netlink(w->udev, "kernel");
	if (!w->mon) {
		r = -errno ?: -ENOMEM;
		goto fail;
	}
	udev_monitor_filter_add_match_subsystem_devtype(w->mon, "infiniband_verbs", NULL);
	/* every kernel uevent arrives here (the filter is applied after): room for bursts */
	udev_monitor_set_receive_buffer_size(w->mon, 16 * 1024 * 1024);
	if ((r = udev_monitor_enable_receiving(w->mon)) < 0 ||
	    (r = sd_event_add_io(loop, &w->mon_src, udev_monitor_get_fd(w->mon), EPOLLIN, on_kernel_uevent, w)) < 0)
		goto fail;
	/* before any device is opened: a removal after this is seen */
	sd_event_source_set_priority(w->mon_src, SD_EVENT_PRIORITY_IMPORTANT);
	*ret = w;
	return 0;
fail:
	rdma_watch_free(w);
	return r;
}

void rdma_watch_free(struct rdma_watch *w)
{
	if (!w)
		return;
	while (w->list)
		release(w, w->list);
	sd_event_source_disable_unref(w->mon_src);
	if (w->mon)
		udev_monitor_unref(w->mon);
	if (w->udev)
		udev_unref(w->udev);
	sd_event_unref(w->loop);
	free(w);
}

unsigned rdma_watch_count(const struct rdma_watch *w)
{
	unsigned n = 0;

	for (const struct watched *x = w ? w->list : NULL; x; x = x->next)
		n++;
	return n;
}
