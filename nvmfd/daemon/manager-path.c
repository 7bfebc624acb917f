/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A path in the manager: made when the reconcile starts it, fed events,
 * its machine's actions carried out, reaped once REMOVED.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "base/macro.h"
#include "core/backoff.h"
#include "daemon/manager-private.h"

struct log_ctx mpath_ctx(const struct mpath *p)
{
	return (struct log_ctx){ p->ident.subsysnqn, p->ident.traddr, p->fsm.ctrl[0] ? p->fsm.ctrl : NULL };
}

const char *mpath_name(const struct mpath *p, char *buf, size_t size)
{
	return ident_to_string(&p->ident, buf, size);
}

struct mpath *mpath_by_id(struct manager *m, uint64_t id)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->id == id)
			return p;
	return NULL;
}

struct mpath *mpath_by_ctrl(struct manager *m, const char *ctrl)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->fsm.ctrl[0] && streq(p->fsm.ctrl, ctrl))
			return p;
	return NULL;
}

/* On its way out: a disconnect to connect again (reinit) is not. */
bool mpath_leaving(const struct mpath *p)
{
	return (p->fsm.state == PATH_DISCONNECTING && !p->fsm.reinit) || p->fsm.state == PATH_REMOVED;
}

usec_t manager_now(const struct manager *m)
{
	uint64_t t = 0;

	sd_event_now(m->loop, CLOCK_MONOTONIC, &t);
	return t;
}

uint32_t random32(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)(uintptr_t)&r ^ (uint32_t)random();
	return r;
}

/* ---------------------------------------------------------------------- */
/* timers */

static int on_timer(sd_event_source *s, uint64_t usec _unused_, void *userdata)
{
	struct mpath *p = userdata;
	struct path_event ev = { .random = random32() };

	if (s == p->disconnect_retry) {
		if (p->fsm.state == PATH_DISCONNECTING && !p->disconnect_inflight)
			job_disconnect(p);
		return 0;
	}
	if (s == p->log_retry) {
		/* a failed log read: the AEN that asked will not come again */
		if (p->fsm.state == PATH_LIVE && !p->oneshot)
			job_read_log(p);
		return 0;
	}
	if (s == p->retry) {
		/* the link first: a path whose link went meanwhile waits instead */
		link_check(p);
		ev.type = PATH_EV_RETRY_TIMER;
	} else if (s == p->stable) {
		ev.type = PATH_EV_STABLE_TIMER;
	} else {
		ev.type = PATH_EV_STUCK_TIMER;
	}
	mpath_feed(p, &ev);
	return 0;
}

static void timer_arm(struct mpath *p, sd_event_source **s, usec_t in)
{
	usec_t when = manager_now(p->m) + in;

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

/* After a failed discovery log read: read again after the path's backoff,
 * growing with each failure in a row. Until the log is read with RAE cleared
 * the kernel sends no further log-change AEN, so nothing else would ask. */
void mpath_log_failed(struct mpath *p)
{
	usec_t in = backoff_delay(&p->fsm.timing.backoff, p->log_failures, random32());

	p->log_failures++;
	timer_arm(p, &p->log_retry, in);
}

/* A disconnect that failed while the controller stays (the kernel answers
 * EBUSY for one that never started): the path stays disconnecting, and asks
 * again after its backoff; a STOP is never taken as done while it is there. */
void mpath_disconnect_failed(struct mpath *p)
{
	usec_t in = backoff_delay(&p->fsm.timing.backoff, p->disconnect_failures, random32());

	p->disconnect_failures++;
	timer_arm(p, &p->disconnect_retry, in);
}

void mpath_log_read(struct mpath *p)
{
	p->log_failures = 0;
	timer_cancel(p->log_retry);
}

/* ---------------------------------------------------------------------- */

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

/* Take endpoint E's options, timing and keys for the next connect. */
void mpath_follow(struct mpath *p, const struct inv_endpoint *e)
{
	p->ep = e;
	if (!e)
		return;
	p->opts = e->fabrics;
	p->fsm.timing = timing_of(p->m, e);
	snprintf(p->dhchap_key, sizeof(p->dhchap_key), "%s", strempty(e->dhchap_key));
	snprintf(p->dhchap_ctrl_key, sizeof(p->dhchap_ctrl_key), "%s", strempty(e->dhchap_ctrl_key));
	snprintf(p->hostid, sizeof(p->hostid), "%s", p->m->hid.hostid);
}

struct mpath *mpath_new(struct manager *m, const struct inv_endpoint *e, const struct ident *id, bool discovery,
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
	p->probe_answer = -1;
	path_init(&p->fsm, &t);
	mpath_follow(p, e);
	p->next = m->paths;
	m->paths = p;
	return p;
}

void mpath_free(struct mpath *p)
{
	sd_event_source_disable_unref(p->retry);
	sd_event_source_disable_unref(p->stable);
	sd_event_source_disable_unref(p->stuck);
	sd_event_source_disable_unref(p->log_retry);
	sd_event_source_disable_unref(p->disconnect_retry);
	disc_log_free(&p->log);
	free(p->namespaces);
	free(p->lost);
	free(p);
}

/* Drop paths that reached REMOVED (entering it asked for a reconcile, which
 * starts what should replace them). Never while a path is being fed. */
void manager_reap(struct manager *m)
{
	for (struct mpath **pp = &m->paths; *pp;) {
		struct mpath *p = *pp;

		if (p->fsm.state == PATH_REMOVED) {
			*pp = p->next;
			mpath_free(p);
		} else {
			pp = &p->next;
		}
	}
}

/* ---------------------------------------------------------------------- */

static void log_transition(struct mpath *p)
{
	struct log_ctx ctx = mpath_ctx(p);
	char name[512];
	enum path_state to = p->fsm.transition.to;
	int level = to == PATH_LIVE ? LOG_NOTICE
		    : to == PATH_FAILED || to == PATH_DEGRADED || p->fsm.stuck ? LOG_WARNING : LOG_INFO;

	log_full(level, &ctx, "%s%s: %s -> %s (%s)", p->discovery ? "discovery " : "", mpath_name(p, name, sizeof(name)),
		 path_state_to_string(p->fsm.transition.from), path_state_to_string(to), p->fsm.transition.reason);
}

/* What entering a state means beyond the machine's own actions. */
static void on_transition(struct mpath *p)
{
	enum path_state to = p->fsm.transition.to;

	log_transition(p);
	note_first_outcome(p);
	if (p->fsm.transition.from == PATH_DISCONNECTING)
		p->disconnect_failures = 0;
	if (to != PATH_CONNECTING) /* the reconcile's word on a connect that was not made */
		p->connect_first = p->first_decided = false;
	if (to == PATH_LIVE && p->lost && !streq(p->lost_ctrl, p->fsm.ctrl)) {
		/* another controller: what the old one lost is not this one's */
		free(p->lost);
		p->lost = NULL;
	}
	if (to == PATH_LIVE) {
		/* A discovery controller that is (again) live: read its log. An I/O
		 * path back after a loss: the target may have changed meanwhile;
		 * read the log that listed it again (reads coalesce). */
		struct mpath *d = p->discovery ? p : mpath_by_id(p->m, p->parent);

		if (d && d->discovery && d->fsm.state == PATH_LIVE && (p->discovery || p->fsm.reconnects > 0))
			job_read_log(d);
		/* Its namespaces are there already (a second path to a subsystem, or
		 * an adopted controller): status shows them at once. */
		if (!p->discovery && p->fsm.ctrl[0])
			mpath_read_namespaces(p);
		/* what a probe found is news while the path backs off, not once it is live */
		p->probe[0] = '\0';
		p->probe_answer = -1;
	}
	if (to == PATH_FAILED || to == PATH_BACKOFF)
		p->fail_seq = p->m->log_seq;
	if (to == PATH_REMOVED || to == PATH_DISCONNECTING)
		manager_dirty(p->m);
	if (to == PATH_REMOVED && p->stop_counted) {
		p->stop_counted = false;
		manager_stop_progress(p->m);
	}
	if (needs_tick(p))
		tick_arm(p->m);
	update_status(p->m);
}

/*
 * Carry out what the machine asked. Everything that reads the transition
 * comes first: the last three may feed the machine again (a job that cannot
 * be allocated fails at once, a disconnect without a controller is done at
 * once, a resync adopts), which records a transition of its own.
 */
static void mpath_apply(struct mpath *p, struct path_actions a)
{
	if (a.flags & PATH_ACT_TRANSITION)
		on_transition(p);
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
		job_connect(p, a.flags & PATH_ACT_PORT_BACK);
	if (a.flags & PATH_ACT_DISCONNECT)
		job_disconnect(p);
	if (a.flags & PATH_ACT_RESYNC)
		mpath_resync(p);
}

void mpath_feed(struct mpath *p, const struct path_event *ev)
{
	struct path_actions a;

	if (log_debug_enabled()) {
		char name[512];

		log_debug("%s: event %s in %s", mpath_name(p, name, sizeof(name)), path_event_to_string(ev->type),
			  path_state_to_string(p->fsm.state));
	}
	a = path_handle(&p->fsm, ev);
	mpath_apply(p, a);
}

/*
 * Take C, a controller with P's identity: there at the start, connected
 * first by someone else (nvme-cli), or found by a resync in the place of
 * P's own. The kernel's duplicate check ignores the host ID, so one P did
 * not connect may carry another than ours (a reinit that a restart cut
 * short, nvme-cli's own): P then holds C's, and the reconcile connects it
 * again with ours, as after a reload that changed it. Without a host ID of
 * our own, any will do.
 */
void mpath_adopt(struct mpath *p, const struct ctrl_info *c)
{
	struct path_event ev = { .type = PATH_EV_ADOPT, .ctrl = c->name, .live = streq(c->state, "live") };
	bool same = streq(p->fsm.ctrl, c->name); /* its own, read again */

	mpath_feed(p, &ev);
	if (same || !streq(p->fsm.ctrl, c->name) || !p->hostid[0] || !c->hostid[0] ||
	    strcasecmp(c->hostid, p->hostid) == 0)
		return;
	snprintf(p->hostid, sizeof(p->hostid), "%s", c->hostid);
	manager_dirty(p->m);
}

/* Start P: adopt EXISTING, the controller with its identity, if there is
 * one; else connect (or wait, when its link is not ready). */
void mpath_begin(struct mpath *p, const struct ctrl_info *existing)
{
	struct path_event ev = { .type = PATH_EV_START, .random = random32() };

	if (existing) {
		mpath_adopt(p, existing);
		return;
	}
	link_check(p);
	mpath_feed(p, &ev);
}
