/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One path: a controller nvmfd keeps for one identity (transport, traddr,
 * trsvcid, host_traddr, host_iface, subsysnqn, hostnqn), an I/O subsystem
 * or a persistent discovery controller. A pure state machine (OpenBSD
 * bgpd's bgp_fsm, iwd's station_enter_state): an event goes in, actions come
 * out; no I/O, no clock, no logging inside. The manager carries the actions
 * out and logs each transition the machine records.
 *
 * The kernel sends no uevent when a controller drops from live to
 * connecting or fails a retry; it sends NVME_EVENT=connected on a
 * (re)connect and a remove once ctrl_loss_tmo expires. So DEGRADED is entered
 * from what the manager reads of the controller's state in sysfs, LIVE again
 * from NVME_EVENT=connected or that state, and a removal leads to a connect
 * of our own.
 *
 * A path with no controller whose local link is not ready (no RDMA device,
 * port down, no carrier, no route) WAITs: no connects, so no backoff grows,
 * and it connects the moment the link is back. While it backs off after a
 * failed connect the manager probes the target's port about once a second;
 * the port seen down and then up again ends the backoff at once: after a
 * long outage the backoff is at its longest, and the target would otherwise
 * wait that long (the kernel itself never comes back after ctrl_loss_tmo).
 * Only a down-to-up change ends it, so a port that answers while connects
 * still fail (another cause) costs no more than the backoff's own connects.
 *
 * And while the latest probe found the port silent, a backoff step makes no
 * connect, until a probe finds it answering (connect at once) or the
 * probes cannot tell, PATH_PROBE_UNKNOWN_RUN times in a row (the backoff
 * connects as before; one probe that overran its time under load is no
 * reason for a connect). A kernel connect to a target that
 * does not answer is not a cheap failure: it holds the kernel's connect
 * mutex (the kernel serialises all connects) through the TCP SYN retries or
 * the RDMA CM's request retries, up to minutes when the target's NIC is up
 * while it boots; every other path's connect, and the first connect once
 * the port answers, would wait behind it. A kick (nvmfctl reconnect), the
 * link's return and a reinit still connect at once.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Probes in a row that cannot tell before a silent answer stops holding connects. */
#define PATH_PROBE_UNKNOWN_RUN 3

#include "core/connect-error.h"
#include "base/duration.h"
#include "inventory/inventory.h"

enum path_state {
	PATH_IDLE,          /* configured; nothing under way yet */
	PATH_CONNECTING,    /* a connect is in flight on a worker */
	PATH_LIVE,          /* the controller is live */
	PATH_DEGRADED,      /* the controller exists but is not live: the kernel retries */
	PATH_BACKOFF,       /* no controller; the next connect waits for its timer */
	PATH_FAILED,        /* refused for a reason retrying soon cannot mend; retried at the longest interval */
	PATH_PAUSED,        /* a one-shot discovery controller between two reads: disconnected on purpose */
	PATH_WAITING,       /* no controller; the local link is not ready: no connects, no backoff growth */
	PATH_DISCONNECTING, /* no longer configured; a disconnect is under way */
	PATH_REMOVED,       /* gone for good */
	_PATH_STATE_MAX,
};

enum path_event_type {
	PATH_EV_START,          /* begin: connect */
	PATH_EV_ADOPT,          /* a controller with the path's identity exists (.ctrl, .live) */
	PATH_EV_CONNECTED,      /* our connect succeeded (.ctrl) */
	PATH_EV_CONNECT_FAILED, /* our connect failed (.cls, .reason) */
	PATH_EV_CTRL_LIVE,      /* the controller is live again (NVME_EVENT=connected, or its state) */
	PATH_EV_CTRL_DOWN,      /* the controller is not live (.reason: its state) */
	PATH_EV_CTRL_GONE,      /* the controller was removed */
	PATH_EV_RETRY_TIMER,    /* the backoff ran out */
	PATH_EV_STABLE_TIMER,   /* live long enough: the backoff starts again from initial */
	PATH_EV_STUCK_TIMER,    /* a connect or a kernel reconnect lasts far too long */
	PATH_EV_KICK,           /* reconnect now (nvmfctl reconnect, a link came up) */
	PATH_EV_STOP,           /* no longer configured: disconnect */
	PATH_EV_DISCONNECTED,   /* our disconnect is done */
	PATH_EV_PAUSE,          /* one-shot discovery: the log is read; disconnect, read again after .pause_for */
	PATH_EV_LINK_DOWN,      /* the local link cannot carry a connect (.reason) */
	PATH_EV_LINK_UP,        /* it can again (.reason) */
	PATH_EV_TARGET_DOWN,    /* a probe found nothing listening on the target's port (.reason) */
	PATH_EV_TARGET_UP,      /* a probe found the target's port answering */
	PATH_EV_TARGET_UNKNOWN, /* a probe could not tell (it could not run) */
	PATH_EV_REINIT,         /* the host ID or keys changed: disconnect ours and connect again (.reason) */
	_PATH_EVENT_MAX,
};

struct path_event {
	enum path_event_type type;
	const char *ctrl;       /* ADOPT, CONNECTED: nvmeN */
	bool live;              /* ADOPT */
	enum connect_class cls; /* CONNECT_FAILED */
	const char *reason;     /* CONNECT_FAILED, CTRL_DOWN, REINIT */
	uint32_t random;        /* jitter for any backoff this event arms */
	usec_t pause_for;       /* PAUSE */
};

enum {
	PATH_ACT_CONNECT = 1 << 0,
	PATH_ACT_DISCONNECT = 1 << 1,
	PATH_ACT_ARM_RETRY = 1 << 2, /* after .retry_in */
	PATH_ACT_CANCEL_RETRY = 1 << 3,
	PATH_ACT_ARM_STABLE = 1 << 4, /* after .stable_in */
	PATH_ACT_CANCEL_STABLE = 1 << 5,
	PATH_ACT_ARM_STUCK = 1 << 6, /* after .stuck_in */
	PATH_ACT_CANCEL_STUCK = 1 << 7,
	PATH_ACT_RESYNC = 1 << 8,     /* read the controller's state from sysfs, answer with ADOPT or GONE */
	PATH_ACT_TRANSITION = 1 << 9, /* the state changed: log .transition, update status */
	PATH_ACT_PORT_BACK = 1 << 10, /* with CONNECT: a probe found the port answering again */
};

struct path_actions {
	unsigned flags;
	usec_t retry_in;
	usec_t stable_in;
	usec_t stuck_in;
};

/* Timing the machine needs, set by the manager from the inventory. */
struct path_timing {
	struct inv_backoff backoff;
	usec_t stable_after; /* live this long resets the backoff */
	usec_t stuck_after;  /* connecting or degraded this long is "stuck" */
	usec_t gone_settle;  /* after a controller's removal, wait this long before connecting (0: at once) */
};

struct path {
	enum path_state state;
	struct path_timing timing;
	unsigned attempts;   /* failed connects since the path was last stable */
	unsigned reconnects; /* times it came back after being lost */
	bool stuck;
	bool ever_live;
	bool stop_pending;   /* STOP arrived while a connect was in flight */
	bool reinit;         /* disconnecting to connect again (REINIT), or to do so once the connect in flight ends */
	bool link_down;      /* the last word on the local link: not ready */
	bool target_down;    /* a probe saw the target's port down since the last connect */
	bool target_silent;  /* the latest probe found it silent (down or unanswered); implies target_down */
	unsigned held;       /* backoff steps held so, since the path began */
	unsigned held_run;   /* ... since its last connect: the backoff grows with them */
	unsigned unknown_run; /* probes in a row that could not tell, since the last silent answer */
	char link_why[160];
	char ctrl[32];       /* nvmeN while a controller exists */
	enum connect_class last_class;
	char last_error[256];
	/* the last transition, for the manager to log: "old -> new (reason)" */
	struct {
		enum path_state from, to;
		char reason[288];
	} transition;
};

const char *path_state_to_string(enum path_state s);
const char *path_event_to_string(enum path_event_type e);

void path_init(struct path *p, const struct path_timing *timing);
struct path_actions path_handle(struct path *p, const struct path_event *ev);
