/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's insides, shared by its files and by nothing else (systemd-
 * networkd splits its manager the same way):
 *
 *   manager.c            life: new, start, reload, stop, free
 *   manager-reconcile.c  one reconcile a loop iteration, and carrying out its verdicts
 *   manager-path.c       a path: made, fed events, its actions carried out, reaped
 *   manager-jobs.c       connects, disconnects, log reads on the worker's lanes
 *   manager-link.c       the local link, probes of the target's port, the tick
 *   manager-udev.c       the udev monitor, the audit, resynchronisation, namespaces
 *   manager-status.c     status, readiness, and the control API's questions
 *
 * Only the loop thread touches any of it.
 */
#pragma once

#include <libudev.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "base/log.h"
#include "core/discovery.h"
#include "core/ident.h"
#include "core/path.h"
#include "daemon/manager.h"
#include "daemon/probe.h"
#include "daemon/rdma-watch.h"
#include "daemon/worker.h"
#include "kernel/link.h"
#include "kernel/rdma.h"
#include "kernel/sysfs.h"

/* How often a one-shot discovery controller (no AEN) reads its log again. */
#define ONESHOT_INTERVAL (60 * USEC_PER_SEC)
/* The udev monitor's receive buffer (multipath-tools uses the same). */
#define MONITOR_BUFFER (128 * 1024 * 1024)
/* After a controller's removal, the pause before nvmfd connects it again
 * (path.c, ctrl_gone: a device's removal starts with its controllers'). */
#define GONE_SETTLE (1 * USEC_PER_SEC)
/* How often waiting paths read their link again, and backing-off paths
 * probe their target's port: about once a second, never more. */
#define TICK_INTERVAL (1 * USEC_PER_SEC)
/* Ticks a probe round may stay busy (its RDMA CM child has 3 s) before the
 * paths waiting on it are told no answer comes. */
#define PROBE_ROUND_OVERDUE 5
/* Link and address changes come in bursts: read the links once after them. */
#define LINK_SETTLE (50 * 1000ULL)
/* After a job could not be allocated, the next reconcile tries again this much later. */
#define ALLOC_RETRY (1 * USEC_PER_SEC)
/* A stop with disconnect_on_stop ends by then (nvmfd.service: TimeoutStopSec=90s). */
#define STOP_DEADLINE (20 * USEC_PER_SEC)

struct mpath {
	struct mpath *next;
	struct manager *m;
	uint64_t id;
	bool discovery;
	unsigned depth;        /* discovery: 0 configured, >0 reached by referral */
	struct ident ident;
	const struct inv_endpoint *ep; /* the configured endpoint it follows (reconcile); NULL: none now */
	uint64_t parent;       /* I/O: the discovery path whose log lists it */
	bool first_done;       /* had a first outcome (for READY=1) */
	struct path fsm;
	struct inv_fabrics opts;
	char dhchap_key[256], dhchap_ctrl_key[256]; /* key file paths */
	char hostid[40];       /* what its controller was connected with, as far as known */
	uint64_t fail_seq;     /* the manager's log_seq when its last connect failed */
	sd_event_source *retry, *stable, *stuck;
	bool disconnect_inflight;
	/* Its next connect goes before the queued ones of paths whose subsystem
	 * another path serves already (the reconcile decides); in flight so. */
	bool connect_first, first_inflight;
	bool first_decided;    /* the reconcile set connect_first for its next connect */
	unsigned disconnect_failures;  /* disconnects failed in a row, the controller still there */
	sd_event_source *disconnect_retry;
	bool stop_counted;             /* manager_stop waits for it to be removed */
	/* discovery */
	bool oneshot;          /* the target takes no persistent discovery controller */
	bool log_reading, log_reread;
	unsigned log_reads, log_unchanged;
	unsigned log_failures;         /* reads failed in a row */
	sd_event_source *log_retry;    /* the next read after a failed one */
	bool has_log;          /* a log was read (it may list nothing) */
	struct disc_log log;   /* the last log read */
	uint64_t log_seq;      /* when it was taken in */
	/* I/O */
	char *namespaces;      /* "nvme1n1 nvme1n2", sorted; NULL: none */
	char *lost;            /* namespaces the kernel dropped while the controller stayed live; NULL: none */
	unsigned lost_total;   /* namespaces lost since the path began */
	char lost_reason[256]; /* the kernel's word on the last one */
	char lost_ctrl[32];    /* the controller they were lost under */
	usec_t last_connect_time;
	/* the local link and the probes */
	bool link_checked;
	enum link_status link;
	char link_detail[160];
	bool iwarp;            /* rdma over an iWARP device: probed with TCP */
	char probe[160];       /* the last probe's finding */
	int probe_answer;      /* its enum probe_answer; -1: none since the path was live */
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
	sd_event_source *reconcile_src, *alloc_retry;
	int rtnl_fd;
	struct prober *prober;
	unsigned probe_busy_ticks; /* ticks in a row that found a round still busy */
	struct rdma_watch *rdma_watch;
	/* The RDMA devices, read once and kept until something says they
	 * changed (udev, their events, rtnetlink, the tick): every path's link
	 * check reads them from here. */
	struct rdma_view rdma;
	struct mpath *paths;
	uint64_t next_id;
	/* the kernel's lines of the controller that last lost a namespace, read once for a burst */
	char loss_lines[16384];
	usec_t loss_at;
	uint64_t log_seq;      /* counts the logs taken in that changed something */
	unsigned reconciles;   /* rounds run, for status */
	size_t too_deep;       /* referrals the last round did not follow */
	bool ready_sent, stopping, freeing;
	bool dirty;            /* a reconcile is due */
	bool in_round;         /* a reconcile is under way */
	char last_status[64];
	sd_event_source *stop_timer;   /* manager_stop's deadline */
	void (*stop_done)(void *);
	void *stop_userdata;
	unsigned stop_waiting;
};

/* manager-path.c */
struct log_ctx mpath_ctx(const struct mpath *p);
const char *mpath_name(const struct mpath *p, char *buf, size_t size);
struct mpath *mpath_by_id(struct manager *m, uint64_t id);
struct mpath *mpath_by_ctrl(struct manager *m, const char *ctrl);
struct mpath *mpath_new(struct manager *m, const struct inv_endpoint *e, const struct ident *id, bool discovery,
			unsigned depth, uint64_t parent);
void mpath_free(struct mpath *p);
void mpath_follow(struct mpath *p, const struct inv_endpoint *e);
void mpath_log_failed(struct mpath *p); /* a log read failed: read again after a backoff */
void mpath_log_read(struct mpath *p);   /* a log was read: the failures are over */
void mpath_disconnect_failed(struct mpath *p); /* its controller is still there: again after a backoff */
void mpath_feed(struct mpath *p, const struct path_event *ev);
void mpath_adopt(struct mpath *p, const struct ctrl_info *c);
void mpath_begin(struct mpath *p, const struct ctrl_info *existing);
bool mpath_leaving(const struct mpath *p);
void manager_reap(struct manager *m);
void manager_stop_progress(struct manager *m); /* a path manager_stop counted is removed */
usec_t manager_now(const struct manager *m);
uint32_t random32(void);

/* manager-jobs.c */
void job_connect(struct mpath *p, bool port_back);
void job_disconnect(struct mpath *p);
void jobs_retry_reads(struct manager *m);
void job_read_log(struct mpath *p);
void job_load_modules(struct manager *m, const struct inv_host *h, const char *who);

/* manager-reconcile.c */
void manager_dirty(struct manager *m);
void manager_alloc_failed(struct manager *m);
int manager_reconcile(struct manager *m);
void manager_take_log(struct mpath *d, struct disc_log *log);

/* manager-link.c */
int manager_links_start(struct manager *m);
void link_check(struct mpath *p);
void links_check_all(struct manager *m);
void links_changed(struct manager *m);
bool needs_tick(const struct mpath *p);
void tick_arm(struct manager *m);
void on_probe(void *userdata, const struct probe_target *t, enum probe_answer a, const char *detail);

/* manager-udev.c */
int manager_monitor_start(struct manager *m);
int manager_audit_start(struct manager *m);
void refresh_namespaces(struct manager *m, const char *ns, bool added);
void mpath_read_namespaces(struct mpath *p);
void mpath_resync(struct mpath *p);

/* manager-status.c */
void update_status(struct manager *m);
void note_first_outcome(struct mpath *p);
