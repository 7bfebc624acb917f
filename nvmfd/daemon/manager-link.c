/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The local link of each path (route, interface, RDMA device and port) and
 * probes of a backing-off target's port, read again once a second by the
 * tick while some path waits or backs off, and at once when rtnetlink, udev
 * or the RDMA devices' events say something changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "daemon/manager-private.h"
#include "kernel/rtnl.h"

/* ---------------------------------------------------------------------- */
/* the local link, and probes of the target's port */

static bool link_matters(const struct mpath *p)
{
	return p->fsm.state != PATH_REMOVED && p->fsm.state != PATH_DISCONNECTING;
}

/* Read P's link and tell the machine when readiness changed. */
void link_check(struct mpath *p)
{
	struct link_facts f;
	char why[160], name[512];
	enum link_status st;
	bool changed;

	if (!p->m->opts.check_links || !link_matters(p))
		return;
	link_gather(p->m->opts.sysfs, &p->ident, &p->m->rdma, &f);
	st = link_judge(&f, why, sizeof(why));
	p->iwarp = f.dev && streq(f.dev->kind, "iWARP");
	changed = !p->link_checked || st != p->link || !streq(why, p->link_detail);
	p->link_checked = true;
	p->link = st;
	snprintf(p->link_detail, sizeof(p->link_detail), "%s", why);
	if (!changed || (link_status_ready(st) && !p->fsm.link_down))
		return;
	/* A path with a controller keeps it (the kernel retries by itself): say
	 * what changed under it; one without says it in its transition. */
	if (p->fsm.ctrl[0]) {
		struct log_ctx ctx = mpath_ctx(p);

		log_full(link_status_ready(st) ? LOG_INFO : LOG_WARNING, &ctx, "%s: link %s: %s",
			 mpath_name(p, name, sizeof(name)), link_status_ready(st) ? "ready" : "not ready", why);
	}
	mpath_feed(p, &(struct path_event){ .type = link_status_ready(st) ? PATH_EV_LINK_UP : PATH_EV_LINK_DOWN,
					   .reason = why, .random = random32() });
}

void links_check_all(struct manager *m)
{
	/* the devices may have changed: read them again */
	rdma_view_clear(&m->rdma);
	for (struct mpath *p = m->paths; p; p = p->next)
		link_check(p);
}

bool needs_tick(const struct mpath *p)
{
	return p->fsm.state == PATH_WAITING || p->fsm.state == PATH_BACKOFF;
}

static bool probe_same(const struct probe_target *a, const struct probe_target *b)
{
	return a->rdma_cm == b->rdma_cm && streq(a->traddr, b->traddr) && streq(a->trsvcid, b->trsvcid) &&
	       streq(a->src, b->src) && streq(a->iface, b->iface);
}

static bool probes_path(const struct mpath *p)
{
	return p->fsm.state == PATH_BACKOFF && !p->fsm.link_down;
}

static void probe_target_of(const struct mpath *p, struct probe_target *t)
{
	/* iWARP listens on a TCP socket of its own: a TCP connect tells. */
	*t = (struct probe_target){ .rdma_cm = streq(p->ident.transport, "rdma") && !p->iwarp };
	snprintf(t->traddr, sizeof(t->traddr), "%s", p->ident.traddr);
	snprintf(t->trsvcid, sizeof(t->trsvcid), "%s", p->ident.trsvcid);
	snprintf(t->src, sizeof(t->src), "%s", p->ident.host_traddr);
	if (!t->rdma_cm && streq(p->ident.transport, "tcp")) /* nvme-rdma binds no interface */
		snprintf(t->iface, sizeof(t->iface), "%s", p->ident.host_iface);
}

/*
 * What the probes find of a path's port, as it changes: the first answer
 * after the path left live, then each change between answering, silent and
 * cannot tell (INFO: why a path does not connect); a changed detail of the
 * same answer only at debug (a TCP probe's "timed out" and "no route" may
 * alternate every second).
 */
static void probe_news(struct mpath *p, enum probe_answer a, const char *detail)
{
	static const char *const said[] = {
		[PROBE_UP] = "the target's port answers",
		[PROBE_DOWN] = "the target's port is silent",
		[PROBE_UNKNOWN] = "the probe cannot tell",
	};
	struct log_ctx ctx = mpath_ctx(p);
	char name[512];
	bool news = p->probe_answer != (int)a, changed = strcmp(p->probe, detail) != 0;

	snprintf(p->probe, sizeof(p->probe), "%s", detail);
	p->probe_answer = (int)a;
	if (news || changed)
		log_full(news ? LOG_INFO : LOG_DEBUG, &ctx, "%s: probe: %s (%s)", mpath_name(p, name, sizeof(name)),
			 said[a], detail);
}

void on_probe(void *userdata, const struct probe_target *t, enum probe_answer a, const char *detail)
{
	struct manager *m = userdata;

	if (m->freeing)
		return;
	for (struct mpath *p = m->paths; p; p = p->next) {
		struct probe_target mine;
		struct path_event ev = { .reason = detail, .random = random32() };
		bool was_silent;

		/* A path that left its backoff while the probe ran (a retry: a
		 * connect to an unreachable address lasts seconds) still shows
		 * what was found, until it is live. */
		if (p->fsm.state == PATH_LIVE || mpath_leaving(p) || p->fsm.link_down)
			continue;
		probe_target_of(p, &mine);
		if (!probe_same(&mine, t))
			continue;
		probe_news(p, a, detail);
		/* also to a path whose retry began while the probe ran: a connect
		 * to a silent port outlasts the backoff's steps, and what the probe
		 * found holds the step after it */
		if (!probes_path(p) && p->fsm.state != PATH_CONNECTING)
			continue;
		/* unknown too: a path holds its connects only on a silent answer that still stands */
		ev.type = a == PROBE_UP ? PATH_EV_TARGET_UP : a == PROBE_DOWN ? PATH_EV_TARGET_DOWN : PATH_EV_TARGET_UNKNOWN;
		was_silent = p->fsm.target_silent;
		mpath_feed(p, &ev);
		if (was_silent && !p->fsm.target_silent && a == PROBE_UNKNOWN) {
			struct log_ctx ctx = mpath_ctx(p);
			char name[512];

			log_full(LOG_INFO, &ctx, "%s: the probes cannot tell (%s); connecting at the backoff's pace again",
				 mpath_name(p, name, sizeof(name)), detail);
		}
	}
}

/* Tell every probed path whose target is not in V[N] (all when V is NULL) that no answer comes for it. */
static void unknown_to_the_rest(struct manager *m, const struct probe_target *v, size_t n)
{
	for (struct mpath *p = m->paths; p; p = p->next) {
		struct path_event ev = { .type = PATH_EV_TARGET_UNKNOWN, .random = random32() };
		struct probe_target t;
		bool in = false;

		if (!probes_path(p))
			continue;
		probe_target_of(p, &t);
		for (size_t i = 0; v && i < n && !in; i++)
			in = probe_same(&v[i], &t);
		if (!in)
			mpath_feed(p, &ev);
	}
}

/*
 * One probe per distinct target port among the backing-off paths, up to
 * ARRAY_SIZE(v) of them. A path holds its connects only on an answer that
 * stands, so every path that gets none hears so: those past the round's
 * size, all of them when the round cannot run, and all of them for each
 * tick a round stays busy beyond PROBE_ROUND_OVERDUE (a child the kernel
 * keeps from dying).
 */
static void probe_round(struct manager *m)
{
	struct probe_target v[64];
	size_t n = 0;
	bool full = false;

	if (!m->prober)
		return;
	if (prober_busy(m->prober)) {
		if (++m->probe_busy_ticks > PROBE_ROUND_OVERDUE)
			unknown_to_the_rest(m, NULL, 0);
		return;
	}
	m->probe_busy_ticks = 0;
	for (struct mpath *p = m->paths; p; p = p->next) {
		struct probe_target t;
		bool seen = false;

		if (!probes_path(p))
			continue;
		probe_target_of(p, &t);
		for (size_t i = 0; i < n && !seen; i++)
			seen = probe_same(&v[i], &t);
		if (!seen && n < ARRAY_SIZE(v))
			v[n++] = t;
		else if (!seen)
			full = true;
	}
	if (n && prober_run(m->prober, v, n) < 0)
		unknown_to_the_rest(m, NULL, 0);
	else if (full)
		unknown_to_the_rest(m, v, n);
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;
	bool again = false;

	/* Waiting paths read their link again: an RDMA device's GIDs, say, are
	 * filled in a moment after its add event. */
	rdma_view_clear(&m->rdma);
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->fsm.state == PATH_WAITING)
			link_check(p);
	probe_round(m);
	for (struct mpath *p = m->paths; p && !again; p = p->next)
		again = needs_tick(p);
	/* ONESHOT, re-armed only while needed: a timer left ON after its
	 * time fires again at once, every iteration, for ever (sd-event), and
	 * starves every source below its priority. */
	if (again) {
		sd_event_source_set_time(s, usec + TICK_INTERVAL);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

void tick_arm(struct manager *m)
{
	int enabled = SD_EVENT_OFF;

	if (m->stopping || m->freeing)
		return;
	if (m->tick) {
		sd_event_source_get_enabled(m->tick, &enabled);
		if (enabled != SD_EVENT_OFF)
			return;
		sd_event_source_set_time(m->tick, manager_now(m) + TICK_INTERVAL);
		sd_event_source_set_enabled(m->tick, SD_EVENT_ONESHOT);
		return;
	}
	if (sd_event_add_time_relative(m->loop, &m->tick, CLOCK_MONOTONIC, TICK_INTERVAL, 0, on_tick, m) < 0)
		log_full(LOG_ERR, NULL, "cannot arm the probe timer: out of memory");
}

static int on_link_settle(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct manager *m = userdata;

	links_check_all(m);
	return 0;
}

/* Something changed in the links (rtnetlink, udev): read them all again, once the burst is over. */
void links_changed(struct manager *m)
{
	if (!m->opts.check_links)
		return;
	if (m->link_settle) {
		sd_event_source_set_time(m->link_settle, manager_now(m) + LINK_SETTLE);
		sd_event_source_set_enabled(m->link_settle, SD_EVENT_ONESHOT);
		return;
	}
	if (sd_event_add_time_relative(m->loop, &m->link_settle, CLOCK_MONOTONIC, LINK_SETTLE, 0, on_link_settle, m) < 0)
		log_full(LOG_ERR, NULL, "cannot arm a timer: out of memory");
}

static void on_rdma_event(void *userdata, const char *dev, unsigned port, const char *what)
{
	struct manager *m = userdata;

	if (port)
		log_full(LOG_INFO, NULL, "rdma %s port %u: %s", dev, port, what);
	else
		log_full(LOG_INFO, NULL, "rdma %s: %s", dev, what);
	links_changed(m);
}

static int on_rtnl(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata)
{
	if (rtnl_drain(fd))
		links_changed(userdata);
	return 0;
}


/* Watch what changes links: rtnetlink and the RDMA devices' events. */
int manager_links_start(struct manager *m)
{
	int r;

	if (!m->opts.check_links)
		return 0;
	m->rtnl_fd = rtnl_open();
	if (m->rtnl_fd < 0 || sd_event_add_io(m->loop, &m->rtnl_src, m->rtnl_fd, EPOLLIN, on_rtnl, m) < 0)
		/* The tick still reads waiting paths' links once a second. */
		log_full(LOG_WARNING, NULL, "cannot watch link changes (rtnetlink): %s",
			 strerror(m->rtnl_fd < 0 ? -m->rtnl_fd : ENOMEM));
	r = rdma_watch_new(m->loop, on_rdma_event, m, &m->rdma_watch);
	if (r < 0)
		log_full(LOG_WARNING, NULL, "cannot watch the RDMA devices' events: %s", strerror(-r));
	else
		rdma_watch_refresh(m->rdma_watch);
	return 0;
}
