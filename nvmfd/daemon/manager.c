/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's life: made with an inventory, started (the udev monitor
 * first, then what exists is adopted by the first reconcile), reloaded with
 * another inventory (the reconcile applies the difference), stopped, freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "daemon/manager-private.h"

static int on_worker(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	worker_dispatch(((struct manager *)userdata)->worker);
	return 0;
}

/* Takes INV only when it succeeds: on failure the caller still owns it. */
int manager_new(sd_event *loop, struct inventory *inv, const struct inv_host *h, const struct host_identity *id,
		const struct manager_options *opts, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = sd_event_ref(loop);
	m->opts = *opts;
	m->host = h;
	m->hid = *id;
	m->rtnl_fd = -1;
	if (opts->probe) {
		r = prober_new(loop, opts->probe_helper, on_probe, m, &m->prober);
		if (r < 0)
			goto fail;
	}
	r = worker_new(&m->worker);
	if (r < 0)
		goto fail;
	r = sd_event_add_io(loop, &m->worker_src, worker_fd(m->worker), EPOLLIN, on_worker, m);
	if (r < 0)
		goto fail;
	m->inv = inv;
	*ret = m;
	return 0;
fail:
	manager_free(m);
	return r;
}

/*
 * In any order of what is under way: nothing a job's end or an event
 * source does may reach the manager once this begins (freeing), so the
 * worker goes first, its finished jobs handed back to be freed alone.
 */
void manager_free(struct manager *m)
{
	if (!m)
		return;
	m->freeing = true;
	m->stopping = true;
	/* the source before the worker: worker_free may close the eventfd it watches */
	m->worker_src = sd_event_source_disable_unref(m->worker_src);
	worker_free(m->worker);
	m->worker = NULL;
	m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
	m->reconcile_src = sd_event_source_disable_unref(m->reconcile_src);
	m->alloc_retry = sd_event_source_disable_unref(m->alloc_retry);
	m->audit = sd_event_source_disable_unref(m->audit);
	m->tick = sd_event_source_disable_unref(m->tick);
	m->link_settle = sd_event_source_disable_unref(m->link_settle);
	m->rtnl_src = sd_event_source_disable_unref(m->rtnl_src);
	if (m->rtnl_fd >= 0)
		close(m->rtnl_fd);
	prober_free(m->prober);
	rdma_watch_free(m->rdma_watch);
	rdma_view_clear(&m->rdma);
	m->mon_src = sd_event_source_disable_unref(m->mon_src);
	if (m->mon)
		udev_monitor_unref(m->mon);
	if (m->udev)
		udev_unref(m->udev);
	while (m->paths) {
		struct mpath *p = m->paths;

		m->paths = p->next;
		mpath_free(p);
	}
	inventory_free(m->inv);
	sd_event_unref(m->loop);
	free(m);
}

int manager_start(struct manager *m)
{
	int r;

	/* The monitor first, then enumerate: nothing falls into the gap. */
	r = manager_monitor_start(m);
	if (r < 0)
		/* Without events nvmfd still works, from its audit of sysfs, only slower. */
		log_full(LOG_WARNING, NULL, "cannot start the udev monitor: %s; going on with the audit alone",
			 strerror(-r));
	manager_links_start(m);
	/* The first round starts every configured endpoint, adopting what exists. */
	r = manager_reconcile(m);
	if (r < 0)
		return r;
	return manager_audit_start(m);
}

/*
 * The new entry replaces the old at once, and one reconcile computes the
 * difference before the old inventory goes: the paths that stay point into
 * the new one, those that leave point nowhere.
 */
int manager_reload(struct manager *m, struct inventory *inv, const struct inv_host *h, const struct host_identity *id)
{
	struct inventory *old = m->inv;
	unsigned before = 0, after = 0;
	int r;

	if (m->stopping) {
		/* The reconcile no longer runs: the paths would keep pointing
		 * into the inventory freed here. The stop goes on as it was. */
		inventory_free(inv);
		return -ESHUTDOWN;
	}
	if (m->opts.load_modules)
		job_load_modules(m, h, inv->path);
	for (struct mpath *p = m->paths; p; p = p->next)
		before += !mpath_leaving(p);
	m->inv = inv;
	m->host = h;
	m->hid = *id;
	r = manager_reconcile(m);
	for (struct mpath *p = m->paths; p; p = p->next) {
		after += !mpath_leaving(p);
		if (r < 0 || mpath_leaving(p))
			p->ep = NULL;
	}
	inventory_free(old);
	log_full(LOG_NOTICE, NULL, "reloaded: %zu endpoints; %u paths before, %u after (more come as logs are read)",
		 h->n_endpoints, before, after);
	return r;
}

/* A path manager_stop waits for is removed: the last one ends the stop. */
void manager_stop_progress(struct manager *m)
{
	void (*done)(void *) = m->stop_done;

	if (m->stop_waiting && --m->stop_waiting)
		return;
	m->stop_done = NULL;
	m->stop_timer = sd_event_source_disable_unref(m->stop_timer);
	if (done && !m->freeing)
		done(m->stop_userdata);
}

/* Past the deadline the stop ends with what is left: a connect stuck in the
 * kernel, a disconnect it keeps refusing; systemd would kill nvmfd anyway. */
static int on_stop_deadline(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct manager *m = userdata;

	log_full(LOG_WARNING, NULL, "stopping: %u path(s) not disconnected after %llu s; left to the kernel",
		 m->stop_waiting, (unsigned long long)(STOP_DEADLINE / USEC_PER_SEC));
	m->stop_waiting = 1;
	manager_stop_progress(m);
	return 0;
}

/* With disconnect_on_stop, every path is stopped and the stop ends when the
 * last is removed: one whose connect is under way disconnects once it
 * returns, one whose disconnect fails tries again. All are counted before the
 * first is stopped (a stop may end at once). */
void manager_stop(struct manager *m, void (*done)(void *), void *userdata)
{
	m->stopping = true;
	m->stop_done = done;
	m->stop_userdata = userdata;
	m->stop_waiting = 1; /* the loop's own, dropped below */
	if (m->opts.disconnect_on_stop) {
		/* connects not begun never begin: each path stops at once */
		worker_skip_queued(m->worker, LANE_CONNECT);
		if (!m->stop_timer &&
		    sd_event_add_time_relative(m->loop, &m->stop_timer, CLOCK_MONOTONIC, STOP_DEADLINE, 0, on_stop_deadline, m) < 0)
			m->stop_timer = NULL;
		for (struct mpath *p = m->paths; p; p = p->next)
			if (p->fsm.state != PATH_REMOVED) {
				p->stop_counted = true;
				m->stop_waiting++;
			}
		for (struct mpath *p = m->paths; p; p = p->next)
			if (p->stop_counted) {
				struct path_event ev = { .type = PATH_EV_STOP };

				mpath_feed(p, &ev);
			}
	}
	manager_stop_progress(m);
}
