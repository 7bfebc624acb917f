/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One reconcile a loop iteration: every input that can change the desired
 * or the observed side (a log taken in, a reload, a path removed, a resync)
 * only marks the manager dirty; a deferred source at idle priority then
 * runs core/reconcile over all paths at once, after the iteration's other
 * events, and carries out its verdicts. Bursts coalesce into one pass.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "core/identmap.h"
#include "core/reconcile.h"
#include "daemon/manager-private.h"

static int on_reconcile(sd_event_source *s _unused_, void *userdata)
{
	manager_reconcile(userdata);
	return 0;
}

void manager_dirty(struct manager *m)
{
	if (m->stopping || m->freeing)
		return;
	m->dirty = true;
	if (m->reconcile_src) {
		sd_event_source_set_enabled(m->reconcile_src, SD_EVENT_ONESHOT);
		return;
	}
	if (sd_event_add_defer(m->loop, &m->reconcile_src, on_reconcile, m) < 0) {
		log_full(LOG_ERR, NULL, "cannot schedule a reconcile: out of memory");
		return;
	}
	sd_event_source_set_priority(m->reconcile_src, SD_EVENT_PRIORITY_IDLE);
	sd_event_source_set_enabled(m->reconcile_src, SD_EVENT_ONESHOT);
}

static int on_alloc_retry(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	jobs_retry_reads(userdata);
	manager_dirty(userdata);
	return 0;
}

/* A job could not be allocated: look again in a moment. */
void manager_alloc_failed(struct manager *m)
{
	usec_t when = manager_now(m) + ALLOC_RETRY;

	log_full(LOG_WARNING, NULL, "out of memory; trying again in %llus", (unsigned long long)(ALLOC_RETRY / USEC_PER_SEC));
	if (m->alloc_retry) {
		sd_event_source_set_time(m->alloc_retry, when);
		sd_event_source_set_enabled(m->alloc_retry, SD_EVENT_ONESHOT);
	} else if (sd_event_add_time(m->loop, &m->alloc_retry, CLOCK_MONOTONIC, when, 0, on_alloc_retry, m) < 0) {
		log_full(LOG_ERR, NULL, "cannot arm a timer: out of memory");
	}
}

/* ---------------------------------------------------------------------- */
/* logs */

static bool log_same(const struct disc_log *a, const struct disc_log *b)
{
	return a->genctr == b->genctr && a->n == b->n &&
	       (a->n == 0 || memcmp(a->entries, b->entries, a->n * sizeof(*a->entries)) == 0);
}

static void log_says(const struct mpath *d, const struct disc_log *log)
{
	struct log_ctx ctx = mpath_ctx(d);
	struct disc_plan plan;
	char name[512];

	mpath_name(d, name, sizeof(name));
	if (log->n_dropped)
		log_full(LOG_WARNING, &ctx, "discovery log of %s: %zu entries left out (%s)", name, log->n_dropped,
			 log->first_problem);
	if (!d->ep || disc_plan_make(log, d->ep, &plan) < 0)
		return;
	log_full(LOG_INFO, &ctx, "discovery log of %s (generation %llu): %zu to connect, %zu referrals, %zu filtered out",
		 name, (unsigned long long)log->genctr, plan.n_connect, plan.n_referrals, plan.n_filtered);
	disc_plan_free(&plan);
}

/*
 * A log read by D: kept as D's last (the reconcile plans from it, also after
 * a reload), unless it is the one D has. The log-change AEN fires once until
 * the log is read with RAE cleared, and a burst of them, or a path's return,
 * reads the same log again: the same generation and entries change nothing.
 */
void manager_take_log(struct mpath *d, struct disc_log *log)
{
	if (d->has_log && log_same(&d->log, log)) {
		d->log_unchanged++;
		log_debug("discovery log of %s unchanged (generation %llu)", d->ident.traddr,
			  (unsigned long long)log->genctr);
		return;
	}
	log_says(d, log);
	disc_log_free(&d->log);
	d->log = *log;
	d->has_log = true;
	*log = (struct disc_log){ 0 };
	d->log_seq = ++d->m->log_seq;
	manager_dirty(d->m);
}

/* ---------------------------------------------------------------------- */
/* first paths first */

/*
 * The subsystems (subsystem and host NQN) that a path serves already, live
 * or with a connect that goes first: a hash set of 64-bit keys. The kernel
 * makes one controller at a time (nvmf_dev_mutex), so when a target's
 * subsystems come back one by one, or at boot, the first path of each goes
 * before the second paths of the others: every namespace is there sooner. A
 * collision only puts a path's connect in the common queue.
 */
struct served {
	uint64_t *v;
	size_t mask;
};

static uint64_t subsystem_key(const struct mpath *p)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *s = p->ident.subsysnqn;; s++) {
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
		if (!*s)
			break;
	}
	for (const char *s = p->ident.hostnqn; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ULL;
	return h | 1; /* 0 marks a free slot */
}

/* Add K; false when it was there. */
static bool served_add(struct served *s, uint64_t k)
{
	size_t i = (size_t)k & s->mask;

	if (!s->v)
		return true; /* no memory for the set: every path goes first, as before */
	for (; s->v[i]; i = (i + 1) & s->mask)
		if (s->v[i] == k)
			return false;
	s->v[i] = k;
	return true;
}

/* The set for the N paths V and MORE to come. */
static void served_init(struct served *s, struct mpath *const *v, size_t n, size_t more)
{
	size_t cap = 16;

	while (cap < 2 * (n + more))
		cap *= 2;
	s->v = calloc(cap, sizeof(*s->v));
	s->mask = cap - 1;
	for (size_t i = 0; i < n && s->v; i++) {
		const struct mpath *p = v[i];

		if (!p->discovery && (p->fsm.state == PATH_LIVE || p->fsm.state == PATH_DEGRADED || p->first_inflight ||
				      p->connect_first))
			served_add(s, subsystem_key(p));
	}
}

/* P connects now: first if no path serves its subsystem yet (a discovery controller always). */
static void mark_first(struct served *s, struct mpath *p)
{
	p->connect_first = p->discovery || served_add(s, subsystem_key(p));
	p->first_decided = true;
}

/* ---------------------------------------------------------------------- */
/* the round */

struct round {
	struct manager *m;
	struct mpath **v;     /* the paths, by id */
	struct rc_path *in;
	size_t n;
	struct rc_plan plan;
	struct served served;
};

static int by_id(const void *a, const void *b)
{
	uint64_t x = (*(struct mpath *const *)a)->id, y = (*(struct mpath *const *)b)->id;

	return x < y ? -1 : x > y;
}

static size_t index_of(const struct round *r, uint64_t id)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r->v[mid]->id == id)
			return mid;
		if (r->v[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return RC_NONE;
}

static int round_gather(struct round *r)
{
	size_t i = 0;

	for (struct mpath *p = r->m->paths; p; p = p->next)
		r->n++;
	r->v = calloc(r->n ? r->n : 1, sizeof(*r->v));
	r->in = calloc(r->n ? r->n : 1, sizeof(*r->in));
	if (!r->v || !r->in)
		return -ENOMEM;
	for (struct mpath *p = r->m->paths; p; p = p->next)
		r->v[i++] = p;
	qsort(r->v, r->n, sizeof(*r->v), by_id);
	for (i = 0; i < r->n; i++) {
		const struct mpath *p = r->v[i];

		r->in[i] = (struct rc_path){
			.id = p->ident, .discovery = p->discovery, .leaving = mpath_leaving(p) || p->fsm.stop_pending,
			.backing_off = p->fsm.state == PATH_BACKOFF || p->fsm.state == PATH_FAILED,
			.parent = p->discovery ? RC_NONE : index_of(r, p->parent),
			.log = p->has_log ? &p->log : NULL, .log_seq = p->log_seq, .fail_seq = p->fail_seq,
			.hostid = p->hostid, .dhchap_key = p->dhchap_key, .dhchap_ctrl_key = p->dhchap_ctrl_key,
		};
	}
	return 0;
}

static void say(const struct mpath *p, int level, const char *what, enum rc_why why)
{
	struct log_ctx ctx = mpath_ctx(p);
	char name[512];

	log_full(level, &ctx, "%s%s: %s; %s", p->discovery ? "discovery " : "", mpath_name(p, name, sizeof(name)),
		 rc_why_to_string(why), what);
}

/* A kept path follows its endpoint as it is now; new options apply from its next connect. */
static void keep(struct mpath *p, const struct rc_decision *d)
{
	if (p->ep != d->ep && d->ep && memcmp(&p->opts, &d->ep->fabrics, sizeof(p->opts)) != 0 && p->fsm.ctrl[0])
		say(p, LOG_INFO, "its new options apply from its next connect", RC_WHY_DESIRED);
	mpath_follow(p, d->ep);
}

static void carry_out(struct round *r, size_t i)
{
	struct mpath *p = r->v[i];
	const struct rc_decision *d = &r->plan.paths[i];
	struct path_event ev = { .random = random32() };

	if (!p->discovery && d->parent != RC_NONE)
		p->parent = r->v[d->parent]->id;
	if (p->discovery)
		p->depth = d->depth;
	switch (d->verdict) {
	case RC_KEEP:
		keep(p, d);
		return;
	case RC_RETRY:
		keep(p, d);
		say(p, LOG_NOTICE, "connecting now", d->why);
		mark_first(&r->served, p);
		ev.type = PATH_EV_KICK;
		break;
	case RC_REINIT:
		mpath_follow(p, d->ep);
		say(p, LOG_NOTICE, "connecting again with it", d->why);
		ev.type = PATH_EV_REINIT;
		ev.reason = rc_why_to_string(d->why);
		break;
	case RC_STOP:
		p->ep = NULL;
		say(p, LOG_NOTICE, p->fsm.ctrl[0] ? "disconnecting" : "stopping", d->why);
		ev.type = PATH_EV_STOP;
		break;
	case RC_SKIP:
		p->ep = NULL; /* it may outlive the inventory it came from */
		/* A disconnect whose job could not be allocated: again (one the
		 * kernel refused asks again by its own timer). */
		if (p->fsm.state == PATH_DISCONNECTING && !p->disconnect_inflight && !p->disconnect_failures &&
		    p->fsm.ctrl[0])
			job_disconnect(p);
		return;
	case _RC_VERDICT_MAX:
		return;
	}
	mpath_feed(p, &ev);
}

static void start_all(struct round *r)
{
	struct ctrl_info *existing = NULL;
	struct identmap by_ident = { 0 };
	size_t n_existing = 0;
	int k;

	/* One scan for every path started: a controller with its identity is adopted. */
	k = sysfs_ctrl_scan(r->m->opts.sysfs, &existing, &n_existing);
	if (k < 0)
		log_full(LOG_WARNING, NULL, "cannot read %s/class/nvme: %s; adopting nothing", r->m->opts.sysfs, strerror(-k));
	for (size_t i = 0; i < n_existing; i++)
		identmap_put(&by_ident, &existing[i].id, i, NULL);
	for (size_t i = 0; i < r->plan.n_start; i++) {
		const struct rc_start *s = &r->plan.start[i];
		uint64_t parent = s->parent == RC_NONE ? 0 : r->v[s->parent]->id;
		struct mpath *p = mpath_new(r->m, s->ep, &s->id, s->discovery, s->depth, parent);
		size_t c;

		if (!p) {
			manager_alloc_failed(r->m);
			break;
		}
		mark_first(&r->served, p);
		mpath_begin(p, identmap_get(&by_ident, &p->ident, &c) ? &existing[c] : NULL);
	}
	identmap_clear(&by_ident);
	free(existing);
}

int manager_reconcile(struct manager *m)
{
	struct round r = { .m = m };
	int k;

	if (m->stopping || m->freeing)
		return 0;
	m->dirty = false;
	m->in_round = true;
	manager_reap(m);
	k = round_gather(&r);
	if (k >= 0)
		k = reconcile(m->host, m->hid.hostnqn, m->hid.hostid, r.in, r.n, &r.plan);
	if (k < 0) {
		manager_alloc_failed(m);
	} else {
		served_init(&r.served, r.v, r.n, r.plan.n_start);
		for (size_t i = 0; i < r.n; i++)
			carry_out(&r, i);
		if (r.plan.n_too_deep != m->too_deep && r.plan.n_too_deep)
			log_full(LOG_WARNING, NULL, "%zu referrals not followed: deeper than %d", r.plan.n_too_deep,
				 RC_MAX_REFERRAL_DEPTH);
		m->too_deep = r.plan.n_too_deep;
		if (r.plan.n_start)
			start_all(&r);
		m->reconciles++;
	}
	rc_plan_free(&r.plan);
	free(r.served.v);
	free(r.v);
	free(r.in);
	m->in_round = false;
	update_status(m);
	return k;
}
