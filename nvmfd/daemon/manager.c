/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/manager.h"

#include <errno.h>
#include <json-c/json.h>
#include <libudev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <systemd/sd-daemon.h>

#include "core/connect-error.h"
#include "core/discovery.h"
#include "kernel/fabrics.h"
#include "base/fileio.h"
#include "core/ident.h"
#include "kernel/link.h"
#include "base/log.h"
#include "kernel/modules.h"
#include "base/macro.h"
#include "base/nqn.h"
#include "core/path.h"
#include "daemon/probe.h"
#include "daemon/rdma-watch.h"
#include "kernel/rtnl.h"
#include "kernel/sysfs.h"
#include "core/uevent.h"
#include "daemon/worker.h"

/* How often a one-shot discovery controller (no AEN) reads its log again. */
#define ONESHOT_INTERVAL (60 * USEC_PER_SEC)
/* The specification's limit on referral chains we follow. */
#define MAX_REFERRAL_DEPTH 8
/* The udev monitor's receive buffer (multipath-tools uses the same). */
#define MONITOR_BUFFER (128 * 1024 * 1024)
/* After a controller's removal, the pause before nvmfd connects it again
 * (path.c, ctrl_gone: a device's removal starts with its controllers'). */
#define GONE_SETTLE (1 * USEC_PER_SEC)
/* How often waiting paths read their link again, and backing-off paths
 * probe their target's port: about once a second, never more. */
#define TICK_INTERVAL (1 * USEC_PER_SEC)
/* Link and address changes come in bursts: read the links once after them. */
#define LINK_SETTLE (50 * 1000ULL)

struct mpath {
	struct mpath *next;
	struct manager *m;
	uint64_t id;
	bool discovery;
	unsigned depth;        /* discovery: 0 configured, >0 reached by referral */
	struct ident ident;
	char endpoint_key[512]; /* the configured endpoint it belongs to */
	uint64_t parent;       /* I/O: the discovery path whose log lists it */
	bool listed;           /* I/O: in the parent's last log */
	bool first_done;       /* had a first outcome (for READY=1) */
	struct path fsm;
	struct inv_fabrics opts;
	enum on_removed on_removed;
	char dhchap_key[256], dhchap_ctrl_key[256]; /* key file paths */
	char hostid[40];
	sd_event_source *retry, *stable, *stuck;
	/* discovery */
	bool oneshot;          /* the target takes no persistent discovery controller */
	bool log_reading, log_reread;
	unsigned log_reads;
	/* I/O */
	char namespaces[256];
	usec_t last_connect_time;
	/* the local link and the probes */
	bool link_checked;
	enum link_status link;
	char link_detail[160];
	bool iwarp;            /* rdma over an iWARP device: probed with TCP */
	char probe[160];       /* the last probe's finding */
};

struct manager {
	sd_event *loop;
	struct manager_options opts;
	struct inventory *inv;
	const struct inv_host *host;
	struct host_identity hid;
	struct worker *worker;
	sd_event_source *worker_src;
	struct udev *udev;
	struct udev_monitor *mon;
	sd_event_source *mon_src, *audit;
	sd_event_source *tick, *link_settle, *rtnl_src;
	int rtnl_fd;
	struct prober *prober;
	struct rdma_watch *rdma_watch;
	/* The RDMA devices, read once and kept until something says they
	 * changed (udev, their events, rtnetlink, the tick): every path's link
	 * check reads them from here. */
	struct rdma_view rdma;
	struct mpath *paths;
	uint64_t next_id;
	bool ready_sent, stopping;
	char last_status[64];
	void (*stop_done)(void *);
	void *stop_userdata;
	unsigned stop_waiting;
};

/* ---------------------------------------------------------------------- */

static struct log_ctx ctx_of(const struct mpath *p)
{
	return (struct log_ctx){ p->ident.subsysnqn, p->ident.traddr, p->fsm.ctrl[0] ? p->fsm.ctrl : NULL };
}

static const char *name_of(const struct mpath *p, char *buf, size_t size)
{
	return ident_to_string(&p->ident, buf, size);
}

static struct mpath *path_by_id(struct manager *m, uint64_t id)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

static struct mpath *path_by_ctrl(struct manager *m, const char *ctrl)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->fsm.ctrl[0] && streq(p->fsm.ctrl, ctrl))
			return p;
	return NULL;
}

static struct mpath *path_by_ident(struct manager *m, const struct ident *id)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->fsm.state != PATH_REMOVED && ident_equal(&p->ident, id))
			return p;
	return NULL;
}

static usec_t now_usec(const struct manager *m)
{
	uint64_t t = 0;

	sd_event_now(m->loop, CLOCK_MONOTONIC, &t);
	return t;
}

static uint32_t random32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)(uintptr_t)&r ^ (uint32_t)random();
	return r;
}

static void update_status(struct manager *m);
static void path_feed(struct mpath *p, const struct path_event *ev);
static void link_check(struct mpath *p);
static bool needs_tick(const struct mpath *p);
static void tick_arm(struct manager *m);

/* ---------------------------------------------------------------------- */
/* timers */

static int on_timer(sd_event_source *s, uint64_t usec _unused_, void *userdata)
{
	struct mpath *p = userdata;
	struct path_event ev = { .random = random32() };

	if (s == p->retry) {
		/* the link first: a path whose link went meanwhile waits instead */
		link_check(p);
		ev.type = PATH_EV_RETRY_TIMER;
	}
	else if (s == p->stable)
		ev.type = PATH_EV_STABLE_TIMER;
	else
		ev.type = PATH_EV_STUCK_TIMER;
	path_feed(p, &ev);
	return 0;
}

static void timer_arm(struct mpath *p, sd_event_source **s, usec_t in)
{
	usec_t when = now_usec(p->m) + in;

	if (*s) {
		sd_event_source_set_time(*s, when);
		sd_event_source_set_enabled(*s, SD_EVENT_ONESHOT);
		return;
	}
	if (sd_event_add_time(p->m->loop, s, CLOCK_MONOTONIC, when, 0, on_timer, p) < 0)
		log_full(LOG_ERR, NULL, "cannot arm a timer: out of memory");
}

static void timer_cancel(sd_event_source *s)
{
	if (s)
		sd_event_source_set_enabled(s, SD_EVENT_OFF);
}

/* ---------------------------------------------------------------------- */
/* jobs */

struct connect_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	struct fabrics_connect_args args;
	struct fabrics_result res;
};

static void connect_run(struct job *j)
{
	struct connect_job *c = (struct connect_job *)j;

	fabrics_connect(&c->args, &c->res);
}

static void connect_done(struct job *j)
{
	struct connect_job *c = (struct connect_job *)j;
	struct mpath *p = j->cancelled ? NULL : path_by_id(c->m, c->path);
	struct path_event ev = { .random = random32() };
	char reason[512];

	if (p) {
		if (c->res.err == 0) {
			ev.type = PATH_EV_CONNECTED;
			ev.ctrl = c->res.ctrl;
			p->last_connect_time = c->res.elapsed;
		} else {
			ev.type = PATH_EV_CONNECT_FAILED;
			ev.cls = connect_classify(c->res.err, c->res.kernel_log, reason, sizeof(reason));
			ev.reason = reason;
			/* Was it the local link? Then the path waits rather than backs
			 * off. A failure is news: read the devices afresh. */
			rdma_view_clear(&p->m->rdma);
			link_check(p);
		}
		path_feed(p, &ev);
		/* A target that refuses a persistent discovery controller: read its
		 * log one connect at a time instead, from now on. */
		if (ev.type == PATH_EV_CONNECT_FAILED && ev.cls == CONNECT_INVALID && p->discovery && !p->oneshot &&
		    c->args.persistent) {
			struct log_ctx ctx = ctx_of(p);
			struct path_event kick = { .type = PATH_EV_KICK, .random = random32() };
			char name[512];

			p->oneshot = true;
			log_full(LOG_NOTICE, &ctx, "%s takes no persistent discovery controller; reading its log every %llus",
				 name_of(p, name, sizeof(name)), (unsigned long long)(ONESHOT_INTERVAL / USEC_PER_SEC));
			path_feed(p, &kick);
		}
	}
	explicit_bzero(c->args.dhchap_key, sizeof(c->args.dhchap_key));
	explicit_bzero(c->args.dhchap_ctrl_key, sizeof(c->args.dhchap_ctrl_key));
	free(c);
}

/* The key file's secret, for the connect (never logged). */
static void read_secret(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	if (path[0])
		read_one_line(path, buf, size);
}

static void submit_connect(struct mpath *p)
{
	struct connect_job *c = calloc(1, sizeof(*c));

	if (!c) {
		struct path_event ev = { .type = PATH_EV_CONNECT_FAILED, .cls = CONNECT_TRANSIENT,
					 .reason = "out of memory", .random = random32() };
		path_feed(p, &ev);
		return;
	}
	c->job = (struct job){ .run = connect_run, .done = connect_done };
	c->m = p->m;
	c->path = p->id;
	c->args.id = p->ident;
	snprintf(c->args.hostid, sizeof(c->args.hostid), "%s", p->hostid);
	c->args.opts = p->opts;
	c->args.discovery = p->discovery;
	c->args.persistent = p->discovery && !p->oneshot;
	read_secret(p->dhchap_key, c->args.dhchap_key, sizeof(c->args.dhchap_key));
	read_secret(p->dhchap_ctrl_key, c->args.dhchap_ctrl_key, sizeof(c->args.dhchap_ctrl_key));
	worker_submit(p->m->worker, LANE_CONNECT, &c->job);
}

struct disconnect_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	char ctrl[32];
	struct fabrics_result res;
};

static void disconnect_run(struct job *j)
{
	struct disconnect_job *d = (struct disconnect_job *)j;

	fabrics_disconnect(d->ctrl, &d->res);
}

static void disconnect_done(struct job *j)
{
	struct disconnect_job *d = (struct disconnect_job *)j;
	struct manager *m = d->m;
	struct mpath *p = j->cancelled ? NULL : path_by_id(m, d->path);

	if (d->res.err && d->res.err != -ENOENT)
		log_full(LOG_WARNING, NULL, "disconnecting %s: %s", d->ctrl, strerror(-d->res.err));
	if (p) {
		struct path_event ev = { .type = PATH_EV_DISCONNECTED };

		path_feed(p, &ev);
	}
	free(d);
	if (m->stop_waiting && --m->stop_waiting == 0 && m->stop_done)
		m->stop_done(m->stop_userdata);
}

static void submit_disconnect(struct mpath *p)
{
	struct disconnect_job *d;

	if (!p->fsm.ctrl[0]) {
		struct path_event ev = { .type = PATH_EV_DISCONNECTED };

		path_feed(p, &ev);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return;
	d->job = (struct job){ .run = disconnect_run, .done = disconnect_done };
	d->m = p->m;
	d->path = p->id;
	snprintf(d->ctrl, sizeof(d->ctrl), "%s", p->fsm.ctrl);
	worker_submit(p->m->worker, LANE_DISCONNECT, &d->job);
}

struct log_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	char ctrl[32];
	void *raw;
	size_t len;
	struct fabrics_result res;
};

static void log_run(struct job *j)
{
	struct log_job *l = (struct log_job *)j;

	fabrics_read_discovery_log(l->ctrl, &l->raw, &l->len, &l->res);
}

static void process_log(struct mpath *d, const struct disc_log *log);
static void submit_log_read(struct mpath *p);

static void log_done(struct job *j)
{
	struct log_job *l = (struct log_job *)j;
	struct mpath *p = j->cancelled ? NULL : path_by_id(l->m, l->path);
	char name[512];

	if (p) {
		struct log_ctx ctx = ctx_of(p);

		p->log_reading = false;
		p->log_reads++;
		if (l->res.err) {
			log_full(LOG_WARNING, &ctx, "reading the discovery log of %s (%s) failed: %s%s%s", name_of(p, name, sizeof(name)),
				 l->ctrl, strerror(-l->res.err), l->res.kernel_log[0] ? "; kernel: " : "", l->res.kernel_log);
		} else {
			struct disc_log log;

			if (disc_log_parse(l->raw, l->len, &log) == 0) {
				if (log.n_dropped)
					log_full(LOG_WARNING, &ctx, "discovery log of %s: %zu entries left out (%s)",
						 name_of(p, name, sizeof(name)), log.n_dropped, log.first_problem);
				process_log(p, &log);
				disc_log_free(&log);
			} else {
				log_full(LOG_WARNING, &ctx, "discovery log of %s: too short to read", name_of(p, name, sizeof(name)));
			}
		}
		p->first_done = true;
		/* An AEN came while we read: the log may have changed again. */
		if (p->log_reread && p->fsm.state == PATH_LIVE && !p->oneshot) {
			p->log_reread = false;
			submit_log_read(p);
		} else if (p->oneshot && p->fsm.state == PATH_LIVE) {
			struct path_event pause = { .type = PATH_EV_PAUSE, .pause_for = ONESHOT_INTERVAL };

			p->log_reread = false;
			path_feed(p, &pause);
		}
		update_status(l->m);
	}
	free(l->raw);
	free(l);
}

static void submit_log_read(struct mpath *p)
{
	struct log_job *l;

	if (p->log_reading) {
		/* Coalesce: one more read when this one ends. */
		p->log_reread = true;
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->job = (struct job){ .run = log_run, .done = log_done };
	l->m = p->m;
	l->path = p->id;
	snprintf(l->ctrl, sizeof(l->ctrl), "%s", p->fsm.ctrl);
	p->log_reading = true;
	worker_submit(p->m->worker, LANE_DISCOVERY, &l->job);
}

/* ---------------------------------------------------------------------- */
/* paths */

/* Look the path's controller up in sysfs: adopt it, or report it gone. */
/* The controller in a scan with the path's identity, or NULL. */
static const struct ctrl_info *find_existing(const struct mpath *p, const struct ctrl_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ident_equal(&v[i].id, &p->ident))
			return &v[i];
	return NULL;
}

/* From a scan: adopt the path's controller, or report it gone. */
static void resync_from(struct mpath *p, const struct ctrl_info *v, size_t n)
{
	const struct ctrl_info *c = find_existing(p, v, n);
	struct path_event ev = { .type = PATH_EV_CTRL_GONE, .random = random32() };

	if (c)
		ev = (struct path_event){ .type = PATH_EV_ADOPT, .ctrl = c->name, .live = streq(c->state, "live") };
	path_feed(p, &ev);
}

static void resync(struct mpath *p)
{
	struct ctrl_info *v = NULL;
	size_t n = 0;

	if (sysfs_ctrl_scan(p->m->opts.sysfs, &v, &n) < 0)
		return;
	resync_from(p, v, n);
	free(v);
}

/*
 * A path's first outcome, for READY=1: an I/O path's first connect result
 * (live, degraded, backoff or failed); a discovery path's connect failing, or
 * (once live) its first log read, which log_done() notes.
 */
static void note_first_outcome(struct mpath *p)
{
	switch (p->fsm.transition.to) {
	case PATH_LIVE:
		if (!p->discovery)
			p->first_done = true;
		break;
	case PATH_DEGRADED:
	case PATH_BACKOFF:
	case PATH_FAILED:
	case PATH_WAITING:
		p->first_done = true;
		break;
	case PATH_IDLE:
	case PATH_CONNECTING:
	case PATH_PAUSED:
	case PATH_DISCONNECTING:
	case PATH_REMOVED:
	case _PATH_STATE_MAX:
		break;
	}
}

static void path_apply(struct mpath *p, struct path_actions a)
{
	if (a.flags & PATH_ACT_TRANSITION) {
		struct log_ctx ctx = ctx_of(p);
		char name[512];
		int level = p->fsm.transition.to == PATH_LIVE ? LOG_NOTICE
			    : p->fsm.transition.to == PATH_FAILED || p->fsm.stuck ? LOG_WARNING
			    : p->fsm.transition.to == PATH_DEGRADED ? LOG_WARNING : LOG_INFO;

		log_full(level, &ctx, "%s%s: %s -> %s (%s)", p->discovery ? "discovery " : "", name_of(p, name, sizeof(name)),
			 path_state_to_string(p->fsm.transition.from), path_state_to_string(p->fsm.transition.to),
			 p->fsm.transition.reason);
		note_first_outcome(p);
	}
	if (a.flags & PATH_ACT_CANCEL_RETRY)
		timer_cancel(p->retry);
	if (a.flags & PATH_ACT_CANCEL_STABLE)
		timer_cancel(p->stable);
	if (a.flags & PATH_ACT_CANCEL_STUCK)
		timer_cancel(p->stuck);
	if (a.flags & PATH_ACT_ARM_RETRY)
		timer_arm(p, &p->retry, a.retry_in);
	if (a.flags & PATH_ACT_ARM_STABLE)
		timer_arm(p, &p->stable, a.stable_in);
	if (a.flags & PATH_ACT_ARM_STUCK)
		timer_arm(p, &p->stuck, a.stuck_in);
	if (a.flags & PATH_ACT_CONNECT)
		submit_connect(p);
	if (a.flags & PATH_ACT_DISCONNECT)
		submit_disconnect(p);
	if (a.flags & PATH_ACT_RESYNC)
		resync(p);
	/* A discovery controller that is (again) live: read its log. An I/O path
	 * back after a loss: the target may have changed meanwhile; read the log
	 * that listed it again (reads coalesce). */
	if ((a.flags & PATH_ACT_TRANSITION) && p->fsm.transition.to == PATH_LIVE) {
		struct mpath *d = p->discovery ? p : path_by_id(p->m, p->parent);

		if (d && d->discovery && d->fsm.state == PATH_LIVE && (p->discovery || p->fsm.reconnects > 0))
			submit_log_read(d);
	}
	/* A path just live: its namespaces are there already (a second path to a
	 * subsystem, or an adopted controller); status shows them at once. */
	if ((a.flags & PATH_ACT_TRANSITION) && p->fsm.transition.to == PATH_LIVE && !p->discovery && p->fsm.ctrl[0])
		sysfs_ctrl_namespaces(p->m->opts.sysfs, p->fsm.ctrl, p->namespaces, sizeof(p->namespaces));
	if ((a.flags & PATH_ACT_TRANSITION) && needs_tick(p))
		tick_arm(p->m);
	/* what a probe found is news while the path backs off, not once it is live */
	if ((a.flags & PATH_ACT_TRANSITION) && p->fsm.transition.to == PATH_LIVE)
		p->probe[0] = '\0';
	if (a.flags & PATH_ACT_TRANSITION)
		update_status(p->m);
}

static void path_feed(struct mpath *p, const struct path_event *ev)
{
	struct path_actions a = path_handle(&p->fsm, ev);

	if (log_debug_enabled()) {
		char name[512];

		log_debug("%s: event %s in %s", name_of(p, name, sizeof(name)), path_event_to_string(ev->type),
			  path_state_to_string(p->fsm.state));
	}
	path_apply(p, a);
}

static void path_free(struct mpath *p)
{
	sd_event_source_unref(p->retry);
	sd_event_source_unref(p->stable);
	sd_event_source_unref(p->stuck);
	free(p);
}

/* Drop paths that reached REMOVED. */
static void reap(struct manager *m)
{
	for (struct mpath **pp = &m->paths; *pp;) {
		struct mpath *p = *pp;

		if (p->fsm.state == PATH_REMOVED) {
			*pp = p->next;
			path_free(p);
		} else {
			pp = &p->next;
		}
	}
}

static struct path_timing timing_of(const struct manager *m, const struct inv_endpoint *e)
{
	struct path_timing t = { .backoff = e->backoff, .stable_after = 30 * USEC_PER_SEC, .gone_settle = GONE_SETTLE };
	/* The kernel counts ctrl_loss_tmo in attempts (ctrl_loss_tmo / reconnect_delay),
	 * each as long as a connect timeout: it can last several times longer than
	 * written. Only well past that is a reconnect "stuck". */
	usec_t loss = e->fabrics.ctrl_loss_tmo < 0 ? 3600 * USEC_PER_SEC : (usec_t)e->fabrics.ctrl_loss_tmo * USEC_PER_SEC;

	t.stuck_after = m->opts.stuck_after ? m->opts.stuck_after : 4 * loss + 120 * USEC_PER_SEC;
	return t;
}

static void endpoint_key(const struct inv_endpoint *e, const char *hostnqn, char *buf, size_t size)
{
	snprintf(buf, size, "%s|%s|%s|%s|%s|%s", transport_to_string(e->transport), e->traddr, e->trsvcid,
		 strempty(e->host_traddr), strempty(e->host_iface), hostnqn);
}

static struct mpath *path_new(struct manager *m, const struct inv_endpoint *e, const struct ident *id, bool discovery,
			      unsigned depth, uint64_t parent)
{
	struct mpath *p = calloc(1, sizeof(*p));
	struct path_timing t = timing_of(m, e);

	if (!p)
		return NULL;
	p->m = m;
	p->id = ++m->next_id;
	p->discovery = discovery;
	p->depth = depth;
	p->ident = *id;
	p->parent = parent;
	p->opts = e->fabrics;
	p->on_removed = e->on_removed;
	endpoint_key(e, m->hid.hostnqn, p->endpoint_key, sizeof(p->endpoint_key));
	snprintf(p->dhchap_key, sizeof(p->dhchap_key), "%s", strempty(e->dhchap_key));
	snprintf(p->dhchap_ctrl_key, sizeof(p->dhchap_ctrl_key), "%s", strempty(e->dhchap_ctrl_key));
	snprintf(p->hostid, sizeof(p->hostid), "%s", m->hid.hostid);
	path_init(&p->fsm, &t);
	p->next = m->paths;
	m->paths = p;
	return p;
}

/* ---------------------------------------------------------------------- */
/* the local link, and probes of the target's port */

static bool link_matters(const struct mpath *p)
{
	return p->fsm.state != PATH_REMOVED && p->fsm.state != PATH_DISCONNECTING;
}

/* Read P's link and tell the machine when readiness changed. */
static void link_check(struct mpath *p)
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
		struct log_ctx ctx = ctx_of(p);

		log_full(link_status_ready(st) ? LOG_INFO : LOG_WARNING, &ctx, "%s: link %s: %s",
			 name_of(p, name, sizeof(name)), link_status_ready(st) ? "ready" : "not ready", why);
	}
	path_feed(p, &(struct path_event){ .type = link_status_ready(st) ? PATH_EV_LINK_UP : PATH_EV_LINK_DOWN,
					   .reason = why, .random = random32() });
}

static void links_check_all(struct manager *m)
{
	/* the devices may have changed: read them again */
	rdma_view_clear(&m->rdma);
	for (struct mpath *p = m->paths; p; p = p->next)
		link_check(p);
}

static bool needs_tick(const struct mpath *p)
{
	return p->fsm.state == PATH_WAITING || p->fsm.state == PATH_BACKOFF;
}

static bool probe_same(const struct probe_target *a, const struct probe_target *b)
{
	return a->rdma_cm == b->rdma_cm && streq(a->traddr, b->traddr) && streq(a->trsvcid, b->trsvcid) &&
	       streq(a->src, b->src);
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
}

static void on_probe(void *userdata, const struct probe_target *t, enum probe_answer a, const char *detail)
{
	struct manager *m = userdata;

	for (struct mpath *p = m->paths; p; p = p->next) {
		struct probe_target mine;
		struct path_event ev = { .reason = detail, .random = random32() };

		if (!probes_path(p))
			continue;
		probe_target_of(p, &mine);
		if (!probe_same(&mine, t))
			continue;
		snprintf(p->probe, sizeof(p->probe), "%s", detail);
		if (a == PROBE_UNKNOWN)
			continue;
		ev.type = a == PROBE_UP ? PATH_EV_TARGET_UP : PATH_EV_TARGET_DOWN;
		path_feed(p, &ev);
	}
	reap(m);
}

/* One probe per distinct target port among the backing-off paths. */
static void probe_round(struct manager *m)
{
	struct probe_target v[64];
	size_t n = 0;

	if (!m->prober || prober_busy(m->prober))
		return;
	for (struct mpath *p = m->paths; p && n < ARRAY_SIZE(v); p = p->next) {
		struct probe_target t;
		bool seen = false;

		if (!probes_path(p))
			continue;
		probe_target_of(p, &t);
		for (size_t i = 0; i < n && !seen; i++)
			seen = probe_same(&v[i], &t);
		if (!seen)
			v[n++] = t;
	}
	if (n)
		prober_run(m->prober, v, n);
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
	reap(m);
	for (struct mpath *p = m->paths; p && !again; p = p->next)
		again = needs_tick(p);
	if (again) {
		sd_event_source_set_time(s, usec + TICK_INTERVAL);
		sd_event_source_set_enabled(s, SD_EVENT_ON);
	}
	return 0;
}

static void tick_arm(struct manager *m)
{
	int enabled = SD_EVENT_OFF;

	if (m->stopping)
		return;
	if (m->tick) {
		sd_event_source_get_enabled(m->tick, &enabled);
		if (enabled != SD_EVENT_OFF)
			return;
		sd_event_source_set_time(m->tick, now_usec(m) + TICK_INTERVAL);
		sd_event_source_set_enabled(m->tick, SD_EVENT_ON);
		return;
	}
	if (sd_event_add_time_relative(m->loop, &m->tick, CLOCK_MONOTONIC, TICK_INTERVAL, 0, on_tick, m) < 0)
		log_full(LOG_ERR, NULL, "cannot arm the probe timer: out of memory");
}

static int on_link_settle(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct manager *m = userdata;

	links_check_all(m);
	reap(m);
	return 0;
}

/* Something changed in the links (rtnetlink, udev): read them all again, once the burst is over. */
static void links_changed(struct manager *m)
{
	if (!m->opts.check_links)
		return;
	if (m->link_settle) {
		sd_event_source_set_time(m->link_settle, now_usec(m) + LINK_SETTLE);
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

/* Start P: adopt its controller if one with its identity exists, else
 * connect (or wait, when its link is not ready). */
static void path_begin(struct mpath *p, const struct ctrl_info *existing, size_t n)
{
	const struct ctrl_info *c = find_existing(p, existing, n);
	struct path_event ev = { .type = PATH_EV_START, .random = random32() };

	if (!c)
		link_check(p);

	if (c)
		ev = (struct path_event){ .type = PATH_EV_ADOPT, .ctrl = c->name, .live = streq(c->state, "live") };
	path_feed(p, &ev);
}

static void discovery_ident(struct ident *id, const struct inv_endpoint *e, const char *hostnqn)
{
	ident_from_endpoint(id, e, NQN_DISCOVERY, hostnqn);
}

/* ---------------------------------------------------------------------- */
/* discovery logs */

static const struct inv_endpoint *endpoint_of(struct manager *m, const struct mpath *p)
{
	for (size_t i = 0; i < m->host->n_endpoints; i++) {
		char key[512];

		endpoint_key(&m->host->endpoints[i], m->hid.hostnqn, key, sizeof(key));
		if (streq(key, p->endpoint_key))
			return &m->host->endpoints[i];
	}
	return NULL;
}

static void process_log(struct mpath *d, const struct disc_log *log)
{
	struct manager *m = d->m;
	const struct inv_endpoint *e = endpoint_of(m, d);
	struct disc_plan plan;
	struct ctrl_info *existing = NULL;
	size_t n_existing = 0;
	struct log_ctx ctx = ctx_of(d);
	char name[512];

	if (!e)
		return; /* its endpoint left the inventory: it is being stopped */
	if (disc_plan_make(log, e, &plan) < 0)
		return;
	sysfs_ctrl_scan(m->opts.sysfs, &existing, &n_existing);
	log_full(LOG_INFO, &ctx, "discovery log of %s (generation %llu): %zu to connect, %zu referrals, %zu filtered out",
		 name_of(d, name, sizeof(name)), (unsigned long long)log->genctr, plan.n_connect, plan.n_referrals,
		 plan.n_filtered);

	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->parent == d->id)
			p->listed = false;
	for (size_t i = 0; i < plan.n_connect; i++) {
		const struct disc_entry *x = plan.connect[i];
		struct ident id;
		struct mpath *p;

		ident_from_endpoint(&id, e, x->subnqn, m->hid.hostnqn);
		/* Parsing checked these are an address and a port: they fit. */
		snprintf(id.traddr, sizeof(id.traddr), "%.63s", x->traddr);
		snprintf(id.trsvcid, sizeof(id.trsvcid), "%.15s", x->trsvcid);
		snprintf(id.transport, sizeof(id.transport), "%s", transport_to_string(x->transport));
		p = path_by_ident(m, &id);
		if (p) {
			p->listed = true;
			continue; /* never a second controller for a path */
		}
		p = path_new(m, e, &id, false, 0, d->id);
		if (!p)
			continue;
		p->listed = true;
		path_begin(p, existing, n_existing);
	}
	/* Subsystems gone from the log: keep them, or disconnect (on_removed). */
	for (struct mpath *p = m->paths; p; p = p->next) {
		if (p->parent != d->id || p->listed || p->fsm.state == PATH_REMOVED || p->fsm.state == PATH_DISCONNECTING)
			continue;
		struct log_ctx pctx = ctx_of(p);

		if (d->on_removed == ON_REMOVED_DISCONNECT) {
			struct path_event ev = { .type = PATH_EV_STOP };

			log_full(LOG_NOTICE, &pctx, "%s left the discovery log: disconnecting (on_removed: disconnect)",
				 name_of(p, name, sizeof(name)));
			path_feed(p, &ev);
		} else {
			log_full(LOG_NOTICE, &pctx, "%s left the discovery log: keeping it (on_removed: keep)",
				 name_of(p, name, sizeof(name)));
		}
	}
	/* Referrals: other discovery controllers, each visited once, MAX_REFERRAL_DEPTH deep. */
	for (size_t i = 0; i < plan.n_referrals; i++) {
		const struct disc_entry *x = plan.referrals[i];
		struct ident id;
		struct mpath *p;

		discovery_ident(&id, e, m->hid.hostnqn);
		/* Parsing checked these are an address and a port: they fit. */
		snprintf(id.traddr, sizeof(id.traddr), "%.63s", x->traddr);
		snprintf(id.trsvcid, sizeof(id.trsvcid), "%.15s", x->trsvcid);
		snprintf(id.transport, sizeof(id.transport), "%s", transport_to_string(x->transport));
		if (path_by_ident(m, &id))
			continue;
		if (d->depth + 1 > MAX_REFERRAL_DEPTH) {
			log_full(LOG_WARNING, &ctx, "referral to %s:%s not followed: deeper than %d", x->traddr, x->trsvcid,
				 MAX_REFERRAL_DEPTH);
			continue;
		}
		p = path_new(m, e, &id, true, d->depth + 1, d->id);
		if (p)
			path_begin(p, existing, n_existing);
	}
	free(existing);
	disc_plan_free(&plan);
	reap(m);
}

/* ---------------------------------------------------------------------- */
/* status and readiness */

static unsigned count_live(struct manager *m, unsigned *ret_total)
{
	unsigned live = 0, total = 0;

	for (struct mpath *p = m->paths; p; p = p->next) {
		if (p->discovery || p->fsm.state == PATH_REMOVED || p->fsm.state == PATH_DISCONNECTING)
			continue;
		total++;
		live += p->fsm.state == PATH_LIVE;
	}
	*ret_total = total;
	return live;
}

const char *manager_status_line(struct manager *m, char *buf, size_t size)
{
	unsigned total, live = count_live(m, &total);

	snprintf(buf, size, "%u/%u paths live", live, total);
	return buf;
}

static bool first_round_done(struct manager *m)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (!p->first_done && p->fsm.state != PATH_REMOVED)
			return false;
	return true;
}

static void update_status(struct manager *m)
{
	char line[64];

	manager_status_line(m, line, sizeof(line));
	if (!m->ready_sent && first_round_done(m)) {
		m->ready_sent = true;
		log_full(LOG_NOTICE, NULL, "first round done: %s", line);
		sd_notifyf(false, "READY=1\nSTATUS=%s", line);
		snprintf(m->last_status, sizeof(m->last_status), "%s", line);
	} else if (m->ready_sent && !streq(line, m->last_status)) {
		sd_notifyf(false, "STATUS=%s", line);
		snprintf(m->last_status, sizeof(m->last_status), "%s", line);
	}
}

/* ---------------------------------------------------------------------- */
/* events from udev and the audit */

/*
 * Read the namespaces of the paths NS (nvmeXnY, or NULL: any) may belong to
 * again. A namespace that appears names its subsystem, so only that
 * subsystem's paths are read: 64 paths connecting would otherwise read every
 * path's namespaces 64 times over, on the loop, while the kernel connects.
 */
static void refresh_namespaces(struct manager *m, const char *ns, bool added)
{
	char nqn[224] = "";

	if (ns && added && sysfs_ns_subsysnqn(m->opts.sysfs, ns, nqn, sizeof(nqn)) < 0)
		nqn[0] = '\0';
	for (struct mpath *p = m->paths; p; p = p->next) {
		char now_ns[256];

		if (p->discovery || !p->fsm.ctrl[0] || (nqn[0] && !streq(nqn, p->ident.subsysnqn)))
			continue;
		if (sysfs_ctrl_namespaces(m->opts.sysfs, p->fsm.ctrl, now_ns, sizeof(now_ns)) < 0 ||
		    streq(now_ns, p->namespaces))
			continue;
		snprintf(p->namespaces, sizeof(p->namespaces), "%s", now_ns);
		if (ns) {
			struct log_ctx ctx = ctx_of(p);
			char name[512];

			log_full(LOG_INFO, &ctx, "%s: namespace %s %s (now: %s)", name_of(p, name, sizeof(name)), ns,
				 added ? "appeared" : "went away", now_ns[0] ? now_ns : "none");
		}
	}
}

/*
 * Read every path's controller state: no uevent comes for live -> connecting.
 * The state alone, one read per path: this runs every audit interval for as
 * long as nothing happens, and is most of what nvmfd costs when idle
 * (measured: tests/bench, idle). A controller's removal comes as a uevent,
 * so its name cannot pass to another controller unseen; when events were
 * lost (ENOBUFS) manager_resync() reads every identity again. Without a udev
 * monitor the audit reads identities and namespaces itself.
 */
static void audit(struct manager *m)
{
	bool full = !m->mon;

	rdma_watch_check(m->rdma_watch);
	for (struct mpath *p = m->paths; p; p = p->next) {
		struct ctrl_info c;
		char state[24];
		struct path_event ev = { .random = random32() };
		bool gone;

		if (!p->fsm.ctrl[0] || (p->fsm.state != PATH_LIVE && p->fsm.state != PATH_DEGRADED))
			continue;
		if (full) {
			gone = sysfs_ctrl_read(m->opts.sysfs, p->fsm.ctrl, &c) < 0 || !ident_equal(&c.id, &p->ident);
			snprintf(state, sizeof(state), "%s", c.state);
		} else {
			gone = sysfs_ctrl_state(m->opts.sysfs, p->fsm.ctrl, state, sizeof(state)) < 0;
		}
		if (gone) {
			ev.type = PATH_EV_CTRL_GONE; /* gone, or the name now belongs to another controller */
		} else if (streq(state, "live")) {
			if (p->fsm.state != PATH_DEGRADED)
				continue;
			ev.type = PATH_EV_CTRL_LIVE;
		} else {
			if (p->fsm.state != PATH_LIVE)
				continue;
			ev.type = PATH_EV_CTRL_DOWN;
			ev.reason = state;
		}
		path_feed(p, &ev);
	}
	if (full)
		refresh_namespaces(m, NULL, false);
	reap(m);
}

static int on_audit(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	audit(m);
	sd_event_source_set_time(s, usec + m->opts.audit_interval);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static void on_uevent(struct manager *m, struct udev_device *dev)
{
	const char *sysname = udev_device_get_sysname(dev);
	/* 69-nvmfd.rules hides the AEN of our discovery controllers from
	 * nvme-cli's rule as NVMFD_AEN; we listen after the rules ran. */
	const char *aen = udev_device_get_property_value(dev, "NVME_AEN");
	enum uevent_kind k;

	if (!aen || !*aen)
		aen = udev_device_get_property_value(dev, "NVMFD_AEN");
	k = uevent_translate(udev_device_get_action(dev), udev_device_get_subsystem(dev), sysname,
			     udev_device_get_devtype(dev), udev_device_get_property_value(dev, "NVME_EVENT"), aen);
	struct mpath *p;
	struct path_event ev = { .random = random32() };

	log_debug("uevent %s %s", uevent_kind_to_string(k), strempty(sysname));
	switch (k) {
	case UEVENT_CTRL_CONNECTED:
		if ((p = path_by_ctrl(m, sysname)) && p->fsm.state == PATH_DEGRADED) {
			ev.type = PATH_EV_CTRL_LIVE;
			path_feed(p, &ev);
		}
		break;
	case UEVENT_CTRL_REMOVE:
		if ((p = path_by_ctrl(m, sysname))) {
			ev.type = PATH_EV_CTRL_GONE;
			path_feed(p, &ev);
		}
		break;
	case UEVENT_DISCOVERY_CHANGED:
		if ((p = path_by_ctrl(m, sysname)) && p->discovery && p->fsm.state == PATH_LIVE) {
			struct log_ctx ctx = ctx_of(p);

			log_full(LOG_INFO, &ctx, "discovery log change announced by %s", sysname);
			submit_log_read(p);
		}
		break;
	case UEVENT_NS_ADD:
	case UEVENT_NS_REMOVE:
		refresh_namespaces(m, sysname, k == UEVENT_NS_ADD);
		break;
	case UEVENT_RDMA_ADD:
		if (m->rdma_watch)
			rdma_watch_refresh(m->rdma_watch);
		links_changed(m);
		break;
	case UEVENT_RDMA_REMOVE:
	case UEVENT_NET_CHANGE:
		links_changed(m);
		break;
	case UEVENT_CTRL_ADD:
	case UEVENT_IGNORE:
	case _UEVENT_KIND_MAX:
		break;
	}
	reap(m);
}

void manager_resync(struct manager *m)
{
	struct ctrl_info *v = NULL;
	size_t n = 0;

	/* One scan for every path. */
	if (sysfs_ctrl_scan(m->opts.sysfs, &v, &n) == 0)
		for (struct mpath *p = m->paths; p; p = p->next)
			if (p->fsm.ctrl[0])
				resync_from(p, v, n);
	free(v);
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->discovery && p->fsm.state == PATH_LIVE)
			submit_log_read(p);
	refresh_namespaces(m, NULL, false);
	reap(m);
}

static int on_monitor(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	struct manager *m = userdata;

	/* Drain in a batch. */
	for (;;) {
		struct udev_device *dev;

		errno = 0;
		dev = udev_monitor_receive_device(m->mon);
		if (!dev) {
			if (errno == ENOBUFS) {
				/* Events were lost: resynchronise from sysfs, do not guess. */
				log_full(LOG_WARNING, NULL, "the udev monitor overflowed; resynchronising from sysfs");
				manager_resync(m);
				continue;
			}
			break;
		}
		on_uevent(m, dev);
		udev_device_unref(dev);
	}
	return 0;
}

static int on_worker(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	struct manager *m = userdata;

	worker_dispatch(m->worker);
	reap(m);
	return 0;
}

/* ---------------------------------------------------------------------- */

int manager_new(sd_event *loop, struct inventory *inv, const struct inv_host *h, const struct host_identity *id,
		const struct manager_options *opts, struct manager **ret)
{
	struct manager *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = sd_event_ref(loop);
	m->opts = *opts;
	m->inv = inv;
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
	*ret = m;
	return 0;
fail:
	manager_free(m);
	return r;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	sd_event_source_unref(m->audit);
	sd_event_source_disable_unref(m->tick);
	sd_event_source_disable_unref(m->link_settle);
	sd_event_source_disable_unref(m->rtnl_src);
	if (m->rtnl_fd >= 0)
		close(m->rtnl_fd);
	prober_free(m->prober);
	rdma_watch_free(m->rdma_watch);
	rdma_view_clear(&m->rdma);
	sd_event_source_unref(m->mon_src);
	sd_event_source_unref(m->worker_src);
	if (m->mon)
		udev_monitor_unref(m->mon);
	if (m->udev)
		udev_unref(m->udev);
	worker_free(m->worker);
	while (m->paths) {
		struct mpath *p = m->paths;

		m->paths = p->next;
		path_free(p);
	}
	inventory_free(m->inv);
	sd_event_unref(m->loop);
	free(m);
}

static int monitor_start(struct manager *m)
{
	int r;

	m->udev = udev_new();
	if (!m->udev)
		return -ENOMEM;
	m->mon = udev_monitor_new_from_netlink(m->udev, "udev");
	if (!m->mon)
		return -errno ?: -ENOMEM;
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "nvme", NULL);
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "block", "disk");
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "infiniband", NULL);
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "net", NULL);
	udev_monitor_set_receive_buffer_size(m->mon, MONITOR_BUFFER);
	if ((r = udev_monitor_enable_receiving(m->mon)) < 0)
		return r;
	return sd_event_add_io(m->loop, &m->mon_src, udev_monitor_get_fd(m->mon), EPOLLIN, on_monitor, m);
}

/* Start (or adopt) the discovery path of every configured endpoint not yet managed. */
static void start_endpoints(struct manager *m, const struct ctrl_info *existing, size_t n)
{
	for (size_t i = 0; i < m->host->n_endpoints; i++) {
		const struct inv_endpoint *e = &m->host->endpoints[i];
		struct ident id;
		struct mpath *p;

		discovery_ident(&id, e, m->hid.hostnqn);
		if (path_by_ident(m, &id))
			continue;
		p = path_new(m, e, &id, true, 0, 0);
		if (p)
			path_begin(p, existing, n);
	}
}

int manager_start(struct manager *m)
{
	struct ctrl_info *existing = NULL;
	size_t n = 0;
	int r;

	/* The monitor first, then enumerate: nothing falls into the gap. */
	r = monitor_start(m);
	if (r < 0)
		/* Without events nvmfd still works, from its audit of sysfs, only slower. */
		log_full(LOG_WARNING, NULL, "cannot start the udev monitor: %s; going on with the audit alone",
			 strerror(-r));
	if (m->opts.check_links) {
		m->rtnl_fd = rtnl_open();
		if (m->rtnl_fd < 0 ||
		    sd_event_add_io(m->loop, &m->rtnl_src, m->rtnl_fd, EPOLLIN, on_rtnl, m) < 0)
			/* The tick still reads waiting paths' links once a second. */
			log_full(LOG_WARNING, NULL, "cannot watch link changes (rtnetlink): %s",
				 strerror(m->rtnl_fd < 0 ? -m->rtnl_fd : ENOMEM));
		r = rdma_watch_new(m->loop, on_rdma_event, m, &m->rdma_watch);
		if (r < 0)
			log_full(LOG_WARNING, NULL, "cannot watch the RDMA devices' events: %s", strerror(-r));
		else
			rdma_watch_refresh(m->rdma_watch);
	}
	r = sysfs_ctrl_scan(m->opts.sysfs, &existing, &n);
	if (r < 0)
		log_full(LOG_WARNING, NULL, "cannot read %s/class/nvme: %s; adopting nothing", m->opts.sysfs, strerror(-r));
	start_endpoints(m, existing, n);
	free(existing);
	r = sd_event_add_time_relative(m->loop, &m->audit, CLOCK_MONOTONIC, m->opts.audit_interval, 0, on_audit, m);
	if (r < 0)
		return r;
	update_status(m);
	return 0;
}

/* Loading modules blocks in the kernel (a driver's init): on the connect lane,
 * which also puts it before the connects that need the modules. */
struct modules_job {
	struct job job;
	const char *names[64];
	char copies[64][64]; /* the job owns its names: the inventory may go first */
	size_t n;
	char who[256];
	struct diags diags;
};

static void modules_run(struct job *j)
{
	struct modules_job *mj = (struct modules_job *)j;

	modules_load(mj->names, NULL, mj->n, mj->who, &mj->diags);
}

static void modules_done(struct job *j)
{
	struct modules_job *mj = (struct modules_job *)j;

	for (size_t i = 0; i < mj->diags.n; i++)
		log_full(LOG_WARNING, NULL, "%s", mj->diags.v[i].msg);
	diags_clear(&mj->diags);
	free(mj);
}

int manager_reload(struct manager *m, struct inventory *inv, const struct inv_host *h, const struct host_identity *id)
{
	struct modules_job *mj = m->opts.load_modules ? calloc(1, sizeof(*mj)) : NULL;
	struct inventory *old = m->inv;
	struct ctrl_info *existing = NULL;
	size_t n = 0;
	unsigned stopped = 0;

	m->inv = inv;
	m->host = h;
	m->hid = *id;
	if (mj) {
		const char *names[64];

		mj->job = (struct job){ .run = modules_run, .done = modules_done };
		snprintf(mj->who, sizeof(mj->who), "%s", inv->path);
		mj->n = modules_for_host(h, names, ARRAY_SIZE(names));
		for (size_t i = 0; i < mj->n; i++) {
			snprintf(mj->copies[i], sizeof(mj->copies[i]), "%s", names[i]);
			mj->names[i] = mj->copies[i];
		}
		worker_submit(m->worker, LANE_CONNECT, &mj->job);
	}
	/* Paths of endpoints that are gone: disconnect them (only ours). */
	for (struct mpath *p = m->paths; p; p = p->next) {
		if (endpoint_of(m, p) || p->fsm.state == PATH_REMOVED || p->fsm.state == PATH_DISCONNECTING)
			continue;
		struct path_event ev = { .type = PATH_EV_STOP };

		path_feed(p, &ev);
		stopped++;
	}
	/* Paths that stay take the new options for their next connect. */
	for (struct mpath *p = m->paths; p; p = p->next) {
		const struct inv_endpoint *e = endpoint_of(m, p);

		if (e) {
			p->opts = e->fabrics;
			p->on_removed = e->on_removed;
			p->fsm.timing = timing_of(m, e);
		}
	}
	sysfs_ctrl_scan(m->opts.sysfs, &existing, &n);
	start_endpoints(m, existing, n);
	free(existing);
	inventory_free(old);
	reap(m);
	log_full(LOG_NOTICE, NULL, "reloaded: %zu endpoints, %u paths stopped", h->n_endpoints, stopped);
	update_status(m);
	return 0;
}

bool manager_owns(struct manager *m, const char *ctrl)
{
	struct mpath *p = ctrl ? path_by_ctrl(m, ctrl) : NULL;

	return p && p->fsm.state != PATH_REMOVED;
}

const char *manager_iopolicy(struct manager *m, const char *nqn)
{
	for (struct mpath *p = m->paths; p && nqn; p = p->next) {
		const struct inv_endpoint *e;

		if (p->discovery || !streq(p->ident.subsysnqn, nqn) || !(e = endpoint_of(m, p)) || !e->iopolicy)
			continue;
		return e->iopolicy;
	}
	return NULL;
}

unsigned manager_kick(struct manager *m, const char *filter)
{
	unsigned n = 0;

	/* A kick often follows a device or link coming back (the udev rule):
	 * read the links first, so waiting paths move on now. */
	links_check_all(m);

	for (struct mpath *p = m->paths; p; p = p->next) {
		struct path_event ev = { .type = PATH_EV_KICK, .random = random32() };

		if (p->fsm.state != PATH_BACKOFF && p->fsm.state != PATH_FAILED)
			continue;
		if (filter && !streq(filter, p->ident.subsysnqn) && !streq(filter, p->ident.traddr) &&
		    !streq(filter, p->fsm.ctrl))
			continue;
		path_feed(p, &ev);
		n++;
	}
	return n;
}

unsigned manager_rediscover(struct manager *m, const char *filter)
{
	unsigned n = 0;

	for (struct mpath *p = m->paths; p; p = p->next) {
		const struct inv_endpoint *e;

		if (!p->discovery || (p->fsm.state != PATH_LIVE && p->fsm.state != PATH_PAUSED))
			continue;
		e = endpoint_of(m, p);
		if (filter && (!e || !e->target || !streq(e->target, filter)))
			continue;
		if (p->fsm.state == PATH_PAUSED) {
			struct path_event kick = { .type = PATH_EV_KICK, .random = random32() };

			path_feed(p, &kick); /* a one-shot controller: connect, and read then */
		} else {
			submit_log_read(p);
		}
		n++;
	}
	return n;
}

void manager_stop(struct manager *m, void (*done)(void *), void *userdata)
{
	m->stopping = true;
	m->stop_done = done;
	m->stop_userdata = userdata;
	if (m->opts.disconnect_on_stop)
		for (struct mpath *p = m->paths; p; p = p->next)
			if (p->fsm.ctrl[0] && p->fsm.state != PATH_REMOVED) {
				struct path_event ev = { .type = PATH_EV_STOP };

				m->stop_waiting++;
				path_feed(p, &ev);
			}
	if (m->stop_waiting == 0)
		done(userdata);
}

struct json_object *manager_status_json(struct manager *m)
{
	struct json_object *root = json_object_new_object(), *paths = json_object_new_array();
	char line[64];

	for (struct mpath *p = m->paths; p; p = p->next) {
		struct json_object *o = json_object_new_object();
		const struct inv_endpoint *e = endpoint_of(m, p);

		json_object_object_add(o, "kind", json_object_new_string(p->discovery ? "discovery" : "io"));
		if (p->discovery)
			json_object_object_add(o, "persistent", json_object_new_boolean(!p->oneshot));
		json_object_object_add(o, "target", e && e->target ? json_object_new_string(e->target) : NULL);
		json_object_object_add(o, "subsysnqn", json_object_new_string(p->ident.subsysnqn));
		json_object_object_add(o, "transport", json_object_new_string(p->ident.transport));
		json_object_object_add(o, "traddr", json_object_new_string(p->ident.traddr));
		json_object_object_add(o, "trsvcid", json_object_new_string(p->ident.trsvcid));
		json_object_object_add(o, "host_traddr", p->ident.host_traddr[0] ? json_object_new_string(p->ident.host_traddr) : NULL);
		json_object_object_add(o, "host_iface", p->ident.host_iface[0] ? json_object_new_string(p->ident.host_iface) : NULL);
		json_object_object_add(o, "state", json_object_new_string(path_state_to_string(p->fsm.state)));
		json_object_object_add(o, "stuck", json_object_new_boolean(p->fsm.stuck));
		json_object_object_add(o, "controller", p->fsm.ctrl[0] ? json_object_new_string(p->fsm.ctrl) : NULL);
		{
			struct json_object *ns = json_object_new_array();
			char buf[256], *save = NULL;

			snprintf(buf, sizeof(buf), "%s", p->namespaces);
			for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
				json_object_array_add(ns, json_object_new_string(t));
			json_object_object_add(o, "namespaces", ns);
		}
		json_object_object_add(o, "reconnects", json_object_new_int((int)p->fsm.reconnects));
		json_object_object_add(o, "attempts", json_object_new_int((int)p->fsm.attempts));
		json_object_object_add(o, "last_error", p->fsm.last_error[0] ? json_object_new_string(p->fsm.last_error) : NULL);
		if (p->link_checked) {
			json_object_object_add(o, "link", json_object_new_string(link_status_to_string(p->link)));
			json_object_object_add(o, "link_detail", json_object_new_string(p->link_detail));
		}
		json_object_object_add(o, "probe", p->probe[0] ? json_object_new_string(p->probe) : NULL);
		/* how long the last successful connect took in the kernel (the write to /dev/nvme-fabrics) */
		json_object_object_add(o, "connect_ms", p->last_connect_time ? json_object_new_double((double)p->last_connect_time / 1000.0) : NULL);
		{
			uint64_t next = 0;

			if ((p->fsm.state == PATH_BACKOFF || p->fsm.state == PATH_FAILED) && p->retry &&
			    sd_event_source_get_time(p->retry, &next) >= 0) {
				usec_t t = now_usec(m);

				json_object_object_add(o, "next_retry_ms", json_object_new_int64(next > t ? (int64_t)((next - t) / 1000) : 0));
			}
		}
		json_object_array_add(paths, o);
	}
	json_object_object_add(root, "host", json_object_new_string(m->host->name));
	json_object_object_add(root, "hostnqn", json_object_new_string(m->hid.hostnqn));
	json_object_object_add(root, "status", json_object_new_string(manager_status_line(m, line, sizeof(line))));
	json_object_object_add(root, "ready", json_object_new_boolean(m->ready_sent));
	json_object_object_add(root, "paths", paths);
	return root;
}
