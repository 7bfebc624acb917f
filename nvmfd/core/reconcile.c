/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "core/identmap.h"

static const char *const verdict_table[_RC_VERDICT_MAX] = {
	[RC_KEEP] = "keep", [RC_RETRY] = "retry", [RC_REINIT] = "reinit", [RC_STOP] = "stop", [RC_SKIP] = "skip",
};

static const char *const why_table[_RC_WHY_MAX] = {
	[RC_WHY_DESIRED] = "desired",
	[RC_WHY_KEPT] = "no longer in the discovery log; kept (on_removed: keep)",
	[RC_WHY_UNLISTED] = "no longer in the discovery log (on_removed: disconnect)",
	[RC_WHY_NOT_CONFIGURED] = "no longer configured",
	[RC_WHY_HOSTID] = "the host ID changed",
	[RC_WHY_KEYS] = "its DH-HMAC-CHAP keys changed",
	[RC_WHY_RELISTED] = "the discovery log lists it again",
	[RC_WHY_LEAVING] = "leaving",
};

const char *rc_verdict_to_string(enum rc_verdict v)
{
	return (unsigned)v < _RC_VERDICT_MAX ? verdict_table[v] : "?";
}

const char *rc_why_to_string(enum rc_why w)
{
	return (unsigned)w < _RC_WHY_MAX ? why_table[w] : "?";
}

/* A desired identity, found from a configured endpoint or a log. */
struct want {
	struct ident id;
	bool discovery;
	unsigned depth;
	const struct inv_endpoint *ep; /* the first endpoint that leads to it */
	size_t parent;       /* the path whose log lists it */
	uint64_t listed_seq; /* the newest log that lists it */
	size_t path;         /* the path that has it; RC_NONE */
	size_t reaches;      /* discovery: the first of the ways to it (struct reach); RC_NONE */
};

/* A discovery want reached through endpoint EP, DEPTH referrals from it: its
 * log is read with EP's filter, once for every endpoint that leads to it. */
struct reach {
	size_t want;
	const struct inv_endpoint *ep;
	unsigned depth;
	size_t next; /* the want's next way; RC_NONE */
};

struct rc_state {
	const struct rc_path *paths;
	size_t n;
	const char *hostnqn;
	struct identmap by_path;  /* identity -> path, of paths not leaving */
	struct identmap leaving;  /* identity -> path, of leaving ones */
	struct want *wants;
	size_t n_wants, cap_wants;
	struct identmap by_want;
	struct reach *reaches;
	size_t n_reaches, cap_reaches;
	size_t n_too_deep;
};

/* W wanted, once: its index, new or that of the want of its identity, into *RET. */
static int want_add(struct rc_state *s, const struct want *w, size_t *ret)
{
	size_t existing;
	int r;

	if (s->n_wants == s->cap_wants)
		return -ENOBUFS; /* sized for every entry there is: cannot happen */
	s->wants[s->n_wants] = *w;
	s->wants[s->n_wants].path = RC_NONE;
	s->wants[s->n_wants].reaches = RC_NONE;
	r = identmap_put(&s->by_want, &s->wants[s->n_wants].id, s->n_wants, &existing);
	if (r == -EEXIST) {
		struct want *x = &s->wants[existing];

		/* Listed twice (two logs, or a log and a referral): one path. */
		if (w->listed_seq > x->listed_seq)
			x->listed_seq = w->listed_seq;
		*ret = existing;
		return 0;
	}
	if (r < 0)
		return r;
	*ret = s->n_wants++;
	return 0;
}

/* Discovery want WI reached through EP at DEPTH, unless EP leads to it already. */
static int reach_add(struct rc_state *s, size_t wi, const struct inv_endpoint *ep, unsigned depth)
{
	size_t *link = &s->wants[wi].reaches;

	for (; *link != RC_NONE; link = &s->reaches[*link].next)
		if (s->reaches[*link].ep == ep)
			return 0; /* a cycle, or reached another way from the same endpoint */
	if (s->n_reaches == s->cap_reaches) {
		size_t cap = s->cap_reaches ? s->cap_reaches * 2 : 16;
		struct reach *v = realloc(s->reaches, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->reaches = v;
		s->cap_reaches = cap;
		link = &s->wants[wi].reaches;
		while (*link != RC_NONE)
			link = &s->reaches[*link].next;
	}
	s->reaches[s->n_reaches] = (struct reach){ .want = wi, .ep = ep, .depth = depth, .next = RC_NONE };
	*link = s->n_reaches++;
	return 0;
}

/* A referral X, from the log of path PI read for way W: wanted, and reached through W's endpoint. */
static int reach_referral(struct rc_state *s, const struct reach *w, size_t pi, const struct disc_entry *x)
{
	struct want y = { .discovery = true, .depth = w->depth + 1, .ep = w->ep, .parent = pi,
			  .listed_seq = s->paths[pi].log_seq };
	size_t yi;
	int r;

	if (disc_entry_ident(x, w->ep, s->hostnqn, &y.id) < 0)
		return 0;
	if (y.depth > RC_MAX_REFERRAL_DEPTH) {
		if (!identmap_get(&s->by_want, &y.id, NULL))
			s->n_too_deep++;
		return 0;
	}
	r = want_add(s, &y, &yi);
	if (r < 0 || !s->wants[yi].discovery)
		return r;
	return reach_add(s, yi, w->ep, y.depth);
}

/* What way RI's path read, with its endpoint's filter: its subsystems and referrals, wanted too. */
static int reach_expand(struct rc_state *s, size_t ri)
{
	struct reach w = s->reaches[ri]; /* a copy: reaches grows meanwhile */
	const struct rc_path *p;
	struct disc_plan plan;
	size_t pi, ignored;
	int r = 0;

	if (!identmap_get(&s->by_path, &s->wants[w.want].id, &pi) || !s->paths[pi].discovery || !s->paths[pi].log)
		return 0;
	p = &s->paths[pi];
	if (disc_plan_make(p->log, w.ep, &plan) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < plan.n_connect && r >= 0; i++) {
		struct want x = { .ep = w.ep, .parent = pi, .listed_seq = p->log_seq };

		if (disc_entry_ident(plan.connect[i], w.ep, s->hostnqn, &x.id) < 0)
			continue; /* the parser keeps only what fits: cannot happen */
		r = want_add(s, &x, &ignored);
	}
	for (size_t i = 0; i < plan.n_referrals && r >= 0; i++)
		r = reach_referral(s, &w, pi, plan.referrals[i]);
	disc_plan_free(&plan);
	return r;
}

/*
 * The desired identities: breadth first from the configured endpoints. A
 * discovery controller that several endpoints lead to is one path (the
 * first endpoint's), and its log is read for each of them: every endpoint's
 * filter applies to all it leads to, whatever the order of the entries.
 */
static int wants_build(struct rc_state *s, const struct inv_host *h)
{
	size_t cap = h->n_endpoints, wi;
	int r = 0;

	for (size_t i = 0; i < s->n; i++)
		if (s->paths[i].discovery && s->paths[i].log)
			cap += s->paths[i].log->n;
	s->wants = calloc(cap ? cap : 1, sizeof(*s->wants));
	if (!s->wants)
		return -ENOMEM;
	s->cap_wants = cap;
	for (size_t i = 0; i < h->n_endpoints && r >= 0; i++) {
		struct want w = { .discovery = true, .ep = &h->endpoints[i], .parent = RC_NONE };

		ident_from_endpoint(&w.id, w.ep, NQN_DISCOVERY, s->hostnqn);
		r = want_add(s, &w, &wi);
		if (r >= 0 && s->wants[wi].discovery)
			r = reach_add(s, wi, w.ep, 0);
	}
	/* the ways grow as they are walked: each is expanded once */
	for (size_t i = 0; i < s->n_reaches && r >= 0; i++)
		r = reach_expand(s, i);
	return r;
}

static int index_paths(struct rc_state *s)
{
	for (size_t i = 0; i < s->n; i++) {
		int r = identmap_put(s->paths[i].leaving ? &s->leaving : &s->by_path, &s->paths[i].id, i, NULL);

		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

static bool key_same(const char *have, const char *want)
{
	return streq(strempty(have), strempty(want));
}

/* A path that is desired: keep it, or reinit or retry it. */
static void decide_desired(const struct rc_path *p, const struct want *w, const char *hostid, struct rc_decision *d)
{
	*d = (struct rc_decision){ .verdict = RC_KEEP, .why = RC_WHY_DESIRED, .ep = w->ep,
				   .parent = w->discovery ? RC_NONE : w->parent, .depth = w->depth };
	if (!key_same(p->hostid, hostid)) {
		d->verdict = RC_REINIT;
		d->why = RC_WHY_HOSTID;
	} else if (!key_same(p->dhchap_key, w->ep->dhchap_key) || !key_same(p->dhchap_ctrl_key, w->ep->dhchap_ctrl_key)) {
		d->verdict = RC_REINIT;
		d->why = RC_WHY_KEYS;
	} else if (!p->discovery && p->backing_off && w->listed_seq > p->fail_seq) {
		d->verdict = RC_RETRY;
		d->why = RC_WHY_RELISTED;
	}
}

static bool filter_passes(const struct inv_endpoint *e, const char *nqn)
{
	if (e->n_subsystems == 0)
		return true;
	for (size_t i = 0; i < e->n_subsystems; i++)
		if (streq(e->subsystems[i], nqn))
			return true;
	return false;
}

/* Would endpoint E, as configured now, lead to I/O path P if its log listed it? */
static bool still_configured(const struct rc_state *s, const struct rc_path *p, const struct inv_endpoint *e)
{
	struct ident like;

	ident_from_endpoint(&like, e, p->id.subsysnqn, s->hostnqn);
	return streq(like.transport, p->id.transport) && streq(like.host_traddr, p->id.host_traddr) &&
	       streq(like.host_iface, p->id.host_iface) && streq(like.hostnqn, p->id.hostnqn) &&
	       filter_passes(e, p->id.subsysnqn);
}

/* Whether a discovery path's verdict keeps it (its children may stay). */
static bool stays(enum rc_verdict v)
{
	return v == RC_KEEP || v == RC_RETRY || v == RC_REINIT;
}

/* An I/O path no log lists any more: keep it (on_removed: keep; under a new
 * host ID, reinit) or stop it. */
static void decide_unlisted(const struct rc_state *s, const struct rc_path *p, const char *hostid,
			    const struct rc_decision *all, struct rc_decision *d)
{
	const struct rc_decision *parent = p->parent < s->n ? &all[p->parent] : NULL;

	*d = (struct rc_decision){ .verdict = RC_STOP, .why = RC_WHY_NOT_CONFIGURED, .parent = RC_NONE };
	if (!parent || !s->paths[p->parent].discovery || !stays(parent->verdict) || !still_configured(s, p, parent->ep))
		return;
	if (parent->ep->on_removed == ON_REMOVED_KEEP) {
		*d = (struct rc_decision){ .verdict = RC_KEEP, .why = RC_WHY_KEPT, .ep = parent->ep, .parent = p->parent };
		if (!key_same(p->hostid, hostid)) {
			d->verdict = RC_REINIT;
			d->why = RC_WHY_HOSTID;
		}
		return;
	}
	d->why = RC_WHY_UNLISTED;
}

static void decide(struct rc_state *s, const char *hostid, struct rc_decision *all, bool discovery)
{
	for (size_t i = 0; i < s->n; i++) {
		const struct rc_path *p = &s->paths[i];
		size_t wi;

		if (p->discovery != discovery)
			continue;
		if (p->leaving) {
			all[i] = (struct rc_decision){ .verdict = RC_SKIP, .why = RC_WHY_LEAVING, .parent = RC_NONE };
			continue;
		}
		if (identmap_get(&s->by_want, &p->id, &wi) && s->wants[wi].discovery == p->discovery &&
		    s->wants[wi].path == RC_NONE) {
			s->wants[wi].path = i;
			decide_desired(p, &s->wants[wi], hostid, &all[i]);
		} else if (!p->discovery) {
			decide_unlisted(s, p, hostid, all, &all[i]);
		} else {
			all[i] = (struct rc_decision){ .verdict = RC_STOP, .why = RC_WHY_NOT_CONFIGURED, .parent = RC_NONE };
		}
	}
}

static int starts_collect(struct rc_state *s, struct rc_plan *ret)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n_wants; i++)
		n += s->wants[i].path == RC_NONE;
	ret->start = calloc(n ? n : 1, sizeof(*ret->start));
	if (!ret->start)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_wants; i++) {
		const struct want *w = &s->wants[i];

		/* the same identity still leaving: start once it has gone */
		if (w->path != RC_NONE || identmap_get(&s->leaving, &w->id, NULL))
			continue;
		ret->start[ret->n_start++] = (struct rc_start){ .id = w->id, .discovery = w->discovery, .depth = w->depth,
								.ep = w->ep, .parent = w->parent };
	}
	return 0;
}

int reconcile(const struct inv_host *h, const char *hostnqn, const char *hostid, const struct rc_path *paths,
	      size_t n, struct rc_plan *ret)
{
	struct rc_state s = { .paths = paths, .n = n, .hostnqn = hostnqn };
	int r;

	*ret = (struct rc_plan){ 0 };
	ret->paths = calloc(n ? n : 1, sizeof(*ret->paths));
	r = ret->paths ? index_paths(&s) : -ENOMEM;
	if (r >= 0)
		r = wants_build(&s, h);
	if (r >= 0) {
		/* discovery paths first: an unlisted I/O path asks its parent's verdict */
		decide(&s, hostid, ret->paths, true);
		decide(&s, hostid, ret->paths, false);
		r = starts_collect(&s, ret);
	}
	ret->n_too_deep = s.n_too_deep;
	ret->n_desired = s.n_wants;
	identmap_clear(&s.by_path);
	identmap_clear(&s.leaving);
	identmap_clear(&s.by_want);
	free(s.wants);
	free(s.reaches);
	if (r < 0)
		rc_plan_free(ret);
	return r;
}

void rc_plan_free(struct rc_plan *p)
{
	free(p->paths);
	free(p->start);
	*p = (struct rc_plan){ 0 };
}
