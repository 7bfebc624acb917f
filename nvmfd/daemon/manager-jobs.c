/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's blocking calls, each a job on a worker lane: a fabrics
 * connect blocks in the kernel and the kernel serialises all connects, so
 * no connect, disconnect or discovery log read ever runs on the loop
 * thread. A job carries plain copies (the path may be gone when it ends);
 * its result comes back to the loop, which looks the path up by id.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/fileio.h"
#include "base/macro.h"
#include "core/connect-error.h"
#include "daemon/manager-private.h"
#include "kernel/fabrics.h"
#include "kernel/modules.h"
#include "kernel/sysfs.h"

struct connect_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	struct fabrics_connect_args args;
	char key_path[256], ctrl_key_path[256];
	char key_problem[320]; /* a key file that could not be read: no connect */
	struct fabrics_result res;
};

/* The key file's secret, for the connect (never logged); read here, off the
 * loop, from a private regular file only. Without it the connect would go
 * without authentication and fail for a reason that hides the real one. */
static int read_secret(const char *path, char *buf, size_t size, char *problem, size_t psize)
{
	int r;

	buf[0] = '\0';
	if (!path[0])
		return 0;
	r = read_secret_line(path, buf, size);
	if (r < 0)
		snprintf(problem, psize, "cannot read the DH-HMAC-CHAP key file %s: %s", path, fileio_strerror(r));
	return r;
}

static void connect_run(struct job *j)
{
	struct connect_job *c = (struct connect_job *)j;

	if (read_secret(c->key_path, c->args.dhchap_key, sizeof(c->args.dhchap_key), c->key_problem,
			sizeof(c->key_problem)) < 0 ||
	    read_secret(c->ctrl_key_path, c->args.dhchap_ctrl_key, sizeof(c->args.dhchap_ctrl_key), c->key_problem,
			sizeof(c->key_problem)) < 0) {
		c->res.err = -ENOKEY;
		return;
	}
	fabrics_connect(&c->args, &c->res);
}

/* A target that refuses a persistent discovery controller: read its log one
 * connect at a time instead, from now on. */
static void go_oneshot(struct mpath *p)
{
	struct log_ctx ctx = mpath_ctx(p);
	struct path_event kick = { .type = PATH_EV_KICK, .random = random32() };
	char name[512];

	p->oneshot = true;
	log_full(LOG_NOTICE, &ctx, "%s takes no persistent discovery controller; reading its log every %llus",
		 mpath_name(p, name, sizeof(name)), (unsigned long long)(ONESHOT_INTERVAL / USEC_PER_SEC));
	mpath_feed(p, &kick);
}

static void connect_done(struct job *j)
{
	struct connect_job *c = (struct connect_job *)j;
	struct mpath *p = j->cancelled || c->m->freeing ? NULL : mpath_by_id(c->m, c->path);
	struct path_event ev = { .random = random32() };
	char reason[512];

	if (p)
		p->first_inflight = false;
	if (p && j->skipped) {
		/* nvmfd is stopping: never connected, nothing to disconnect */
		ev.type = PATH_EV_CONNECT_FAILED;
		ev.cls = CONNECT_TRANSIENT;
		ev.reason = "nvmfd is stopping";
		mpath_feed(p, &ev);
	} else if (p && c->res.err == 0) {
		ev.type = PATH_EV_CONNECTED;
		ev.ctrl = c->res.ctrl;
		p->last_connect_time = c->res.elapsed;
		mpath_feed(p, &ev);
	} else if (p) {
		ev.type = PATH_EV_CONNECT_FAILED;
		ev.cls = connect_classify(c->res.err, c->res.kernel_log, reason, sizeof(reason));
		if (c->key_problem[0]) {
			ev.cls = CONNECT_AUTH; /* an admin's to mend: the longest interval */
			snprintf(reason, sizeof(reason), "%s", c->key_problem);
		}
		ev.reason = reason;
		/* Was it the local link? Then the path waits rather than backs
		 * off. A failure is news: read the devices afresh. */
		rdma_view_clear(&p->m->rdma);
		link_check(p);
		mpath_feed(p, &ev);
		if (ev.cls == CONNECT_INVALID && p->discovery && !p->oneshot && c->args.persistent)
			go_oneshot(p);
	}
	explicit_bzero(c->args.dhchap_key, sizeof(c->args.dhchap_key));
	explicit_bzero(c->args.dhchap_ctrl_key, sizeof(c->args.dhchap_ctrl_key));
	free(c);
}

/*
 * A connect the reconcile did not plan goes first when a probe found its
 * target's port answering again and no other path serves its subsystem:
 * after a target's return, the I/O paths that bring its namespaces back go
 * before the discovery controllers and the second paths (the kernel makes
 * one controller at a time). Not a plain retry: one to a port that may not
 * answer can hang for a minute, and a stream of them going first would
 * starve the rest of the lane. Linear in the paths, once per such connect.
 */
static bool goes_first(const struct mpath *p, bool port_back)
{
	if (p->first_decided || p->connect_first)
		return p->connect_first;
	if (p->discovery || !port_back)
		return false;
	for (const struct mpath *o = p->m->paths; o; o = o->next)
		if (o != p && !o->discovery && streq(o->ident.subsysnqn, p->ident.subsysnqn) &&
		    streq(o->ident.hostnqn, p->ident.hostnqn) &&
		    (o->fsm.state == PATH_LIVE || o->fsm.state == PATH_DEGRADED || o->first_inflight || o->connect_first))
			return false;
	return true;
}

/* PORT_BACK: the path machine connects because a probe found its port answering again (PATH_ACT_PORT_BACK). */
void job_connect(struct mpath *p, bool port_back)
{
	struct connect_job *c = calloc(1, sizeof(*c));
	bool first = goes_first(p, port_back);

	/* the reconcile's word is for this connect alone, made or not */
	p->connect_first = p->first_decided = false;
	if (!c) {
		struct path_event ev = { .type = PATH_EV_CONNECT_FAILED, .cls = CONNECT_TRANSIENT,
					 .reason = "out of memory", .random = random32() };

		mpath_feed(p, &ev);
		return;
	}
	/* the first path of its subsystem goes before the others' second ones */
	c->job = (struct job){ .run = connect_run, .done = connect_done, .first = first };
	p->first_inflight = first;
	c->m = p->m;
	c->path = p->id;
	c->args.id = p->ident;
	snprintf(c->args.hostid, sizeof(c->args.hostid), "%s", p->hostid);
	c->args.opts = p->opts;
	c->args.discovery = p->discovery;
	c->args.persistent = p->discovery && !p->oneshot;
	snprintf(c->key_path, sizeof(c->key_path), "%s", p->dhchap_key);
	snprintf(c->ctrl_key_path, sizeof(c->ctrl_key_path), "%s", p->dhchap_ctrl_key);
	worker_submit(p->m->worker, LANE_CONNECT, &c->job);
}

/*
 * Whether nvmeN is still the controller of ID. A job may wait in its lane
 * while the controller it was for goes (the kernel's ctrl_loss_tmo, a DNR
 * refusal), and the kernel gives the freed instance number to the next
 * controller it makes: a disconnect or a log read by name alone could hit
 * another path's controller, or nvme-cli's.
 */
static bool still_there(const char *sysfs, const char *ctrl, const struct ident *id, bool discovery)
{
	struct ctrl_info c;

	char path[PATH_MAX], type[32];

	if (sysfs_ctrl_read(sysfs, ctrl, &c) < 0)
		return false;
	/* A discovery controller may show its subsystem's own NQN (TP8013)
	 * rather than the well-known one it was connected to; the kernel says
	 * what it is (cntrltype, 5.19 and later). */
	snprintf(path, sizeof(path), "%s/class/nvme/%s/cntrltype", sysfs, ctrl);
	if (discovery && (c.discovery || (read_one_line(path, type, sizeof(type)) == 0 && streq(type, "discovery"))))
		snprintf(c.id.subsysnqn, sizeof(c.id.subsysnqn), "%s", id->subsysnqn);
	return ident_equal(&c.id, id);
}

struct disconnect_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	char ctrl[32];
	char sysfs[256];
	struct ident ident;
	bool discovery;
	struct fabrics_result res;
};

static void disconnect_run(struct job *j)
{
	struct disconnect_job *d = (struct disconnect_job *)j;

	if (!still_there(d->sysfs, d->ctrl, &d->ident, d->discovery)) {
		d->res.err = -ENOENT;
		return;
	}
	fabrics_disconnect(d->ctrl, &d->res);
	if (d->res.err && d->res.err != -ENOENT && !still_there(d->sysfs, d->ctrl, &d->ident, d->discovery))
		d->res.err = -ENOENT; /* it went meanwhile: what was asked is done */
}

static void disconnect_done(struct job *j)
{
	struct disconnect_job *d = (struct disconnect_job *)j;
	struct manager *m = d->m;
	struct mpath *p = j->cancelled || m->freeing ? NULL : mpath_by_id(m, d->path);

	bool failed = d->res.err && d->res.err != -ENOENT;

	if (failed)
		log_full(LOG_WARNING, NULL, "disconnecting %s: %s; %s", d->ctrl, strerror(-d->res.err),
			 p ? "trying again" : "left to the kernel");
	if (p) {
		struct path_event ev = { .type = PATH_EV_DISCONNECTED };

		p->disconnect_inflight = false;
		if (failed && p->fsm.state == PATH_DISCONNECTING) {
			mpath_disconnect_failed(p);
		} else {
			p->disconnect_failures = 0;
			mpath_feed(p, &ev);
		}
	}
	free(d);
}

void job_disconnect(struct mpath *p)
{
	struct disconnect_job *d;

	if (!p->fsm.ctrl[0]) {
		struct path_event ev = { .type = PATH_EV_DISCONNECTED };

		mpath_feed(p, &ev);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		/* asked again after the backoff (and by the reconcile) */
		manager_alloc_failed(p->m);
		if (p->fsm.state == PATH_DISCONNECTING)
			mpath_disconnect_failed(p);
		return;
	}
	d->job = (struct job){ .run = disconnect_run, .done = disconnect_done };
	d->m = p->m;
	d->path = p->id;
	snprintf(d->ctrl, sizeof(d->ctrl), "%s", p->fsm.ctrl);
	snprintf(d->sysfs, sizeof(d->sysfs), "%s", p->m->opts.sysfs);
	d->ident = p->ident;
	d->discovery = p->discovery;
	p->disconnect_inflight = true;
	worker_submit(p->m->worker, LANE_DISCONNECT, &d->job);
}

struct log_job {
	struct job job;
	struct manager *m;
	uint64_t path;
	char ctrl[32];
	char sysfs[256];
	struct ident ident;
	int parsed;            /* disc_log_parse's answer */
	struct disc_log log;
	struct fabrics_result res;
};

/* Read and parse off the loop: a log may hold 65,536 entries. */
static void log_run(struct job *j)
{
	struct log_job *l = (struct log_job *)j;
	void *raw = NULL;
	size_t len = 0;

	if (!still_there(l->sysfs, l->ctrl, &l->ident, true)) {
		l->res.err = -ENODEV;
		return;
	}
	fabrics_read_discovery_log(l->ctrl, &raw, &len, &l->res);
	if (!l->res.err)
		l->parsed = disc_log_parse(raw, len, &l->log);
	free(raw);
}

static void log_failed(struct mpath *p, const struct log_job *l)
{
	struct log_ctx ctx = mpath_ctx(p);
	char name[512];

	if (l->res.err)
		log_full(LOG_WARNING, &ctx, "reading the discovery log of %s (%s) failed: %s%s%s",
			 mpath_name(p, name, sizeof(name)), l->ctrl, strerror(-l->res.err),
			 l->res.kernel_log[0] ? "; kernel: " : "", l->res.kernel_log);
	else
		log_full(LOG_WARNING, &ctx, "discovery log of %s: %s", mpath_name(p, name, sizeof(name)),
			 l->parsed == -ENOMEM ? "out of memory" : "too short to read");
}

/* After a read: the next one if an AEN came meanwhile, or a one-shot controller's pause. */
static void log_next(struct mpath *p)
{
	if (p->log_reread && p->fsm.state == PATH_LIVE && !p->oneshot) {
		p->log_reread = false;
		job_read_log(p);
	} else if (p->oneshot && p->fsm.state == PATH_LIVE) {
		struct path_event pause = { .type = PATH_EV_PAUSE, .pause_for = ONESHOT_INTERVAL };

		p->log_reread = false;
		mpath_feed(p, &pause);
	}
}

static void log_done(struct job *j)
{
	struct log_job *l = (struct log_job *)j;
	struct mpath *p = j->cancelled || l->m->freeing ? NULL : mpath_by_id(l->m, l->path);

	if (p) {
		p->log_reading = false;
		p->log_reads++;
		if (l->res.err || l->parsed < 0) {
			log_failed(p, l);
			if (!p->oneshot)
				mpath_log_failed(p);
		} else {
			mpath_log_read(p);
			manager_take_log(p, &l->log);
		}
		p->first_done = true;
		log_next(p);
		update_status(l->m);
	}
	disc_log_free(&l->log);
	free(l);
}

/* The reads that found no memory for their job, made now (the retry after
 * an allocation failed): nothing else would make them before the next AEN. */
void jobs_retry_reads(struct manager *m)
{
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->discovery && p->log_reread && !p->log_reading)
			log_next(p);
}

/* At most one read in flight and one queued per discovery controller. */
void job_read_log(struct mpath *p)
{
	struct log_job *l;

	if (p->log_reading) {
		p->log_reread = true;
		return;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		p->log_reread = true;
		manager_alloc_failed(p->m);
		return;
	}
	l->job = (struct job){ .run = log_run, .done = log_done };
	l->m = p->m;
	l->path = p->id;
	snprintf(l->ctrl, sizeof(l->ctrl), "%s", p->fsm.ctrl);
	snprintf(l->sysfs, sizeof(l->sysfs), "%s", p->m->opts.sysfs);
	l->ident = p->ident;
	p->log_reading = true;
	worker_submit(p->m->worker, LANE_DISCOVERY, &l->job);
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

void job_load_modules(struct manager *m, const struct inv_host *h, const char *who)
{
	struct modules_job *mj = calloc(1, sizeof(*mj));
	const char *names[64];

	if (!mj) {
		log_full(LOG_WARNING, NULL, "cannot load the modules of %s: out of memory", who);
		return;
	}
	/* before every connect, also those that go first */
	mj->job = (struct job){ .run = modules_run, .done = modules_done, .first = true };
	snprintf(mj->who, sizeof(mj->who), "%s", who);
	mj->n = modules_for_host(h, names, ARRAY_SIZE(names));
	for (size_t i = 0; i < mj->n; i++) {
		snprintf(mj->copies[i], sizeof(mj->copies[i]), "%s", names[i]);
		mj->names[i] = mj->copies[i];
	}
	worker_submit(m->worker, LANE_CONNECT, &mj->job);
}
