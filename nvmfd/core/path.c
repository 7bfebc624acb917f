/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/path.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/backoff.h"
#include "base/macro.h"

static const char *const state_table[_PATH_STATE_MAX] = {
	[PATH_IDLE] = "idle",
	[PATH_CONNECTING] = "connecting",
	[PATH_LIVE] = "live",
	[PATH_DEGRADED] = "degraded",
	[PATH_BACKOFF] = "backoff",
	[PATH_FAILED] = "failed",
	[PATH_PAUSED] = "paused",
	[PATH_WAITING] = "waiting",
	[PATH_DISCONNECTING] = "disconnecting",
	[PATH_REMOVED] = "removed",
};

static const char *const event_table[_PATH_EVENT_MAX] = {
	[PATH_EV_START] = "start",
	[PATH_EV_ADOPT] = "adopt",
	[PATH_EV_CONNECTED] = "connected",
	[PATH_EV_CONNECT_FAILED] = "connect-failed",
	[PATH_EV_CTRL_LIVE] = "ctrl-live",
	[PATH_EV_CTRL_DOWN] = "ctrl-down",
	[PATH_EV_CTRL_GONE] = "ctrl-gone",
	[PATH_EV_RETRY_TIMER] = "retry-timer",
	[PATH_EV_STABLE_TIMER] = "stable-timer",
	[PATH_EV_STUCK_TIMER] = "stuck-timer",
	[PATH_EV_KICK] = "kick",
	[PATH_EV_STOP] = "stop",
	[PATH_EV_DISCONNECTED] = "disconnected",
	[PATH_EV_PAUSE] = "pause",
	[PATH_EV_LINK_DOWN] = "link-down",
	[PATH_EV_LINK_UP] = "link-up",
	[PATH_EV_TARGET_DOWN] = "target-down",
	[PATH_EV_TARGET_UP] = "target-up",
	[PATH_EV_TARGET_UNKNOWN] = "target-unknown",
	[PATH_EV_REINIT] = "reinit",
};

const char *path_state_to_string(enum path_state s)
{
	return (unsigned)s < _PATH_STATE_MAX ? state_table[s] : "?";
}

const char *path_event_to_string(enum path_event_type e)
{
	return (unsigned)e < _PATH_EVENT_MAX ? event_table[e] : "?";
}

void path_init(struct path *p, const struct path_timing *timing)
{
	*p = (struct path){ .state = PATH_IDLE, .timing = *timing };
}

/*
 * The one way into a state: records "old -> new (reason)" for the manager to
 * log, and adds the actions every entry into NEW needs (its timers).
 */
_printf_(4, 5) static void path_enter(struct path *p, struct path_actions *a, enum path_state new,
				      const char *fmt, ...)
{
	va_list ap;

	p->transition.from = p->state;
	p->transition.to = new;
	va_start(ap, fmt);
	vsnprintf(p->transition.reason, sizeof(p->transition.reason), fmt, ap);
	va_end(ap);
	a->flags |= PATH_ACT_TRANSITION;

	/* leaving */
	switch (p->state) {
	case PATH_LIVE:
		a->flags |= PATH_ACT_CANCEL_STABLE;
		break;
	case PATH_CONNECTING:
	case PATH_DEGRADED:
		a->flags |= PATH_ACT_CANCEL_STUCK;
		p->stuck = false;
		break;
	case PATH_BACKOFF:
	case PATH_FAILED:
	case PATH_PAUSED:
		a->flags |= PATH_ACT_CANCEL_RETRY;
		break;
	case PATH_IDLE:
	case PATH_WAITING:
	case PATH_DISCONNECTING:
	case PATH_REMOVED:
	case _PATH_STATE_MAX:
		break;
	}
	p->state = new;

	/* entering */
	switch (new) {
	case PATH_CONNECTING:
		p->held_run = 0; /* a silent answer stands: the probes tell while it runs */
		a->flags |= PATH_ACT_CONNECT | PATH_ACT_ARM_STUCK;
		a->stuck_in = p->timing.stuck_after;
		break;
	case PATH_LIVE:
		a->flags |= PATH_ACT_ARM_STABLE;
		a->stable_in = p->timing.stable_after;
		p->ever_live = true;
		p->target_silent = false;
		p->last_error[0] = '\0';
		break;
	case PATH_DEGRADED:
		a->flags |= PATH_ACT_ARM_STUCK;
		a->stuck_in = p->timing.stuck_after;
		break;
	case PATH_BACKOFF:
	case PATH_FAILED:
		a->flags |= PATH_ACT_ARM_RETRY;
		break;
	case PATH_DISCONNECTING:
		a->flags |= PATH_ACT_DISCONNECT;
		break;
	case PATH_PAUSED:
		/* Disconnect on purpose; the controller's removal is no loss. */
		a->flags |= PATH_ACT_DISCONNECT | PATH_ACT_ARM_RETRY;
		break;
	case PATH_REMOVED:
		p->ctrl[0] = '\0';
		break;
	case PATH_WAITING:
		/* nothing runs: the link's return moves it on */
		snprintf(p->last_error, sizeof(p->last_error), "waiting: %s", p->link_why);
		break;
	case PATH_IDLE:
	case _PATH_STATE_MAX:
		break;
	}
}

/* Connect now, or wait for the link first. */
static void connect_or_wait(struct path *p, struct path_actions *a, const char *why)
{
	if (p->link_down)
		path_enter(p, a, PATH_WAITING, "%s; waiting: %s", why, p->link_why);
	else
		path_enter(p, a, PATH_CONNECTING, "%s", why);
}

static void set_ctrl(struct path *p, const char *ctrl)
{
	snprintf(p->ctrl, sizeof(p->ctrl), "%s", strempty(ctrl));
}

/* A connect failed: back off (doubling), or wait the longest interval. */
static void connect_failed(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	p->last_class = ev->cls;
	snprintf(p->last_error, sizeof(p->last_error), "%s", strempty(ev->reason));
	if (ev->cls == CONNECT_ALREADY) {
		/* The kernel answers a duplicate with EALREADY: find it and adopt it. */
		a->flags |= PATH_ACT_RESYNC;
		path_enter(p, a, PATH_DEGRADED, "already connected; adopting the existing controller");
		return;
	}
	if (p->link_down) {
		/* Not the target's fault: no attempt counted, no backoff grows. */
		path_enter(p, a, PATH_WAITING, "connect failed: %s; waiting: %s", strempty(ev->reason), p->link_why);
		return;
	}
	if (connect_class_is_permanent(ev->cls)) {
		a->retry_in = p->timing.backoff.max;
		path_enter(p, a, PATH_FAILED, "%s: %s; next try in the longest interval",
			   connect_class_to_string(ev->cls), strempty(ev->reason));
		return;
	}
	a->retry_in = backoff_delay(&p->timing.backoff, p->attempts, ev->random);
	/* A target lost after working: treat its port as seen down, so the
	 * first probe that finds it answering connects at once. */
	if (p->attempts == 0)
		p->target_down = true;
	p->attempts++;
	path_enter(p, a, PATH_BACKOFF, "connect failed (attempt %u): %s", p->attempts, strempty(ev->reason));
}

/* A controller with the path's identity exists: take it as ours. */
static void adopt(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	set_ctrl(p, ev->ctrl);
	path_enter(p, a, ev->live ? PATH_LIVE : PATH_DEGRADED, "adopted %s", p->ctrl);
}

/* Flag a connect or a kernel reconnect that lasts far too long; the state stays. */
static void mark_stuck(struct path *p, struct path_actions *a, const char *why)
{
	if (p->stuck)
		return;
	p->stuck = true;
	snprintf(p->last_error, sizeof(p->last_error), "%s", why);
	p->transition.from = p->transition.to = p->state;
	snprintf(p->transition.reason, sizeof(p->transition.reason), "stuck: %s", why);
	a->flags |= PATH_ACT_TRANSITION;
}

/*
 * The controller went away: connect again, after a moment. A removal can be
 * the first sign of the local RDMA device going away (nvme-rdma deletes its
 * controllers before the device is gone), and a connect in that window
 * binds to the dying device; by the time the moment has passed, the link
 * check knows. The target is taken as seen down: a probe that finds its
 * port answering connects at once.
 */
static void ctrl_gone(struct path *p, struct path_actions *a, const char *why)
{
	p->ctrl[0] = '\0';
	if (!p->timing.gone_settle || p->link_down) {
		connect_or_wait(p, a, why);
		return;
	}
	p->target_down = true;
	a->retry_in = p->timing.gone_settle;
	path_enter(p, a, PATH_BACKOFF, "%s; connecting again in %llums", why,
		   (unsigned long long)(p->timing.gone_settle / USEC_PER_MSEC));
}

/* What every state keeps of the link and the probes, before it acts. */
static void note_flags(struct path *p, const struct path_event *ev)
{
	if (ev->type == PATH_EV_LINK_DOWN) {
		p->link_down = true;
		snprintf(p->link_why, sizeof(p->link_why), "%s", strempty(ev->reason));
	} else if (ev->type == PATH_EV_LINK_UP) {
		p->link_down = false;
	} else if (ev->type == PATH_EV_TARGET_DOWN) {
		p->target_down = true;
		p->target_silent = true;
		p->unknown_run = 0;
	} else if (ev->type == PATH_EV_TARGET_UP) {
		p->target_silent = false;
	} else if (ev->type == PATH_EV_TARGET_UNKNOWN && ++p->unknown_run >= PATH_PROBE_UNKNOWN_RUN) {
		p->target_silent = false;
	}
}

/*
 * What every state does with STOP, ADOPT and REINIT; true when handled. A
 * path with a controller disconnects it; one whose connect is in flight
 * undoes it once it returns (a connect cannot be called back), also when
 * the controller turns out to exist already and is adopted.
 */
static bool shared(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	bool has_ctrl = p->state == PATH_LIVE || p->state == PATH_DEGRADED;
	bool no_ctrl = p->state == PATH_IDLE || p->state == PATH_BACKOFF || p->state == PATH_FAILED ||
		       p->state == PATH_WAITING;

	switch (ev->type) {
	case PATH_EV_STOP:
		p->reinit = false;
		if (has_ctrl)
			path_enter(p, a, PATH_DISCONNECTING, "no longer configured");
		else if (no_ctrl || p->state == PATH_PAUSED)
			path_enter(p, a, PATH_REMOVED, "no longer configured");
		else if (p->state == PATH_CONNECTING)
			p->stop_pending = true;
		return true;
	case PATH_EV_ADOPT:
		if (p->state == PATH_CONNECTING && p->stop_pending) {
			set_ctrl(p, ev->ctrl);
			path_enter(p, a, PATH_DISCONNECTING, "adopted %s after it was no longer configured", p->ctrl);
		} else if (no_ctrl || p->state == PATH_CONNECTING) {
			/* someone else (nvme-cli, the kernel) made it, maybe while ours is in flight */
			adopt(p, a, ev);
		} else if (has_ctrl) {
			set_ctrl(p, ev->ctrl);
			if (ev->live != (p->state == PATH_LIVE))
				path_enter(p, a, ev->live ? PATH_LIVE : PATH_DEGRADED, "%s is %s", p->ctrl,
					   ev->live ? "live" : "not live");
		}
		return true;
	case PATH_EV_REINIT:
		if (has_ctrl) {
			p->reinit = true;
			path_enter(p, a, PATH_DISCONNECTING, "%s: disconnecting to connect again", strempty(ev->reason));
		} else if (p->state == PATH_CONNECTING) {
			p->reinit = true;
		} else if (p->state == PATH_BACKOFF || p->state == PATH_FAILED) {
			path_enter(p, a, PATH_CONNECTING, "%s: connecting again", strempty(ev->reason));
		}
		return true;
	case PATH_EV_START:
	case PATH_EV_CONNECTED:
	case PATH_EV_CONNECT_FAILED:
	case PATH_EV_CTRL_LIVE:
	case PATH_EV_CTRL_DOWN:
	case PATH_EV_CTRL_GONE:
	case PATH_EV_RETRY_TIMER:
	case PATH_EV_STABLE_TIMER:
	case PATH_EV_STUCK_TIMER:
	case PATH_EV_KICK:
	case PATH_EV_DISCONNECTED:
	case PATH_EV_PAUSE:
	case PATH_EV_LINK_DOWN:
	case PATH_EV_LINK_UP:
	case PATH_EV_TARGET_DOWN:
	case PATH_EV_TARGET_UP:
	case PATH_EV_TARGET_UNKNOWN:
	case _PATH_EVENT_MAX:
		break;
	}
	return false;
}

/* The events below are those shared() leaves; each handler names its own. */

static void on_idle(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_START)
		connect_or_wait(p, a, "started");
}

static void on_connecting(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_CONNECTED) {
		set_ctrl(p, ev->ctrl);
		if (p->ever_live)
			p->reconnects++;
		p->target_down = p->target_silent = false; /* silent implies down: an answer ends a hold at once */
		if (p->stop_pending)
			path_enter(p, a, PATH_DISCONNECTING, "connected %s after it was no longer configured", p->ctrl);
		else if (p->reinit)
			path_enter(p, a, PATH_DISCONNECTING, "connected %s with the settings before; disconnecting to connect again",
				   p->ctrl);
		else
			path_enter(p, a, PATH_LIVE, "connected %s", p->ctrl);
	} else if (ev->type == PATH_EV_CONNECT_FAILED) {
		p->reinit = false; /* the next connect takes the new settings anyway */
		if (p->stop_pending)
			path_enter(p, a, PATH_REMOVED, "no longer configured");
		else
			connect_failed(p, a, ev);
	} else if (ev->type == PATH_EV_STUCK_TIMER) {
		mark_stuck(p, a, "the connect has not returned; the kernel may be stuck");
	}
	/* LINK_DOWN: the connect in flight tells; its failure then waits */
}

static void on_live(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_CTRL_DOWN) {
		path_enter(p, a, PATH_DEGRADED, "%s is %s; the kernel is reconnecting", p->ctrl,
			   ev->reason ? ev->reason : "not live");
	} else if (ev->type == PATH_EV_CTRL_GONE) {
		ctrl_gone(p, a, "the controller was removed");
	} else if (ev->type == PATH_EV_STABLE_TIMER) {
		p->attempts = 0;
	} else if (ev->type == PATH_EV_PAUSE) {
		a->retry_in = ev->pause_for;
		path_enter(p, a, PATH_PAUSED, "log read; disconnecting until the next read");
	}
	/* LINK_DOWN: the kernel holds the controller and retries by itself */
}

static void on_degraded(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_CTRL_LIVE) {
		p->reconnects++;
		path_enter(p, a, PATH_LIVE, "%s reconnected", p->ctrl);
	} else if (ev->type == PATH_EV_CTRL_GONE) {
		ctrl_gone(p, a, "the kernel gave the controller up (ctrl_loss_tmo)");
	} else if (ev->type == PATH_EV_STUCK_TIMER) {
		mark_stuck(p, a, "the kernel's reconnect has not ended far beyond ctrl_loss_tmo; it may be stuck");
	}
}

/*
 * A backoff step while the latest probe found the target's port silent: no
 * connect (path.h says why), no attempt counted. The steps grow as if each
 * held one had failed: when the probes can no longer tell, the connects
 * that follow come no faster than they would have.
 */
static void hold_retry(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	p->held++;
	p->held_run++;
	a->retry_in = backoff_delay(&p->timing.backoff, p->attempts + p->held_run - 1, ev->random);
	a->flags |= PATH_ACT_ARM_RETRY;
}

static void on_backoff(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_RETRY_TIMER && p->state == PATH_BACKOFF && p->target_silent) {
		hold_retry(p, a, ev);
	} else if (ev->type == PATH_EV_RETRY_TIMER) {
		path_enter(p, a, PATH_CONNECTING, "retrying");
	} else if (ev->type == PATH_EV_KICK) {
		path_enter(p, a, PATH_CONNECTING, "reconnect requested");
	} else if (ev->type == PATH_EV_LINK_DOWN) {
		path_enter(p, a, PATH_WAITING, "%s", p->link_why);
	} else if (ev->type == PATH_EV_TARGET_UP && p->state == PATH_BACKOFF && p->target_down) {
		/* A refusal (FAILED) is not mended by the port being up. */
		p->target_down = false;
		path_enter(p, a, PATH_CONNECTING, "the target's port answers again");
		a->flags |= PATH_ACT_PORT_BACK;
	}
}

static void on_waiting(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_LINK_UP)
		path_enter(p, a, PATH_CONNECTING, "link ready%s%s", ev->reason ? ": " : "", strempty(ev->reason));
	else if (ev->type == PATH_EV_LINK_DOWN)
		/* another reason: say so */
		snprintf(p->last_error, sizeof(p->last_error), "waiting: %s", p->link_why);
	/* KICK: the manager reads the link again first; still down: nothing to try */
}

static void on_disconnecting(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type != PATH_EV_DISCONNECTED && ev->type != PATH_EV_CTRL_GONE)
		return;
	p->ctrl[0] = '\0';
	if (p->reinit) {
		p->reinit = false;
		connect_or_wait(p, a, "disconnected; connecting again");
	} else {
		path_enter(p, a, PATH_REMOVED, "disconnected");
	}
}

static void on_paused(struct path *p, struct path_actions *a, const struct path_event *ev)
{
	if (ev->type == PATH_EV_RETRY_TIMER)
		connect_or_wait(p, a, "time to read the discovery log again");
	else if (ev->type == PATH_EV_KICK)
		connect_or_wait(p, a, "discovery requested");
	else if (ev->type == PATH_EV_DISCONNECTED || ev->type == PATH_EV_CTRL_GONE)
		p->ctrl[0] = '\0';
}

struct path_actions path_handle(struct path *p, const struct path_event *ev)
{
	struct path_actions a = { 0 };

	note_flags(p, ev);
	if (p->state == PATH_REMOVED || shared(p, &a, ev))
		return a;
	switch (p->state) {
	case PATH_IDLE:
		on_idle(p, &a, ev);
		break;
	case PATH_CONNECTING:
		on_connecting(p, &a, ev);
		break;
	case PATH_LIVE:
		on_live(p, &a, ev);
		break;
	case PATH_DEGRADED:
		on_degraded(p, &a, ev);
		break;
	case PATH_BACKOFF:
	case PATH_FAILED:
		on_backoff(p, &a, ev);
		break;
	case PATH_WAITING:
		on_waiting(p, &a, ev);
		break;
	case PATH_DISCONNECTING:
		on_disconnecting(p, &a, ev);
		break;
	case PATH_PAUSED:
		on_paused(p, &a, ev);
		break;
	case PATH_REMOVED:
	case _PATH_STATE_MAX:
		break;
	}
	return a;
}
