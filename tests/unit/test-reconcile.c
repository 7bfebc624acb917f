/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reconcile on plain data: a host entry, paths as the daemon would have
 * them, logs as their discovery controllers returned them. No loop, no
 * kernel, no clock.
 */
#include "cmocka-prelude.h"

#include <stdlib.h>
#include <time.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "core/reconcile.h"
#include "load-inventory.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define HOSTNQN2 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002"
#define HOSTID "00000000-0000-0000-0000-000000000001"

struct world {
	struct inventory *inv;
	const struct inv_host *h;
	struct rc_path paths[64];
	size_t n;
	struct disc_log logs[12];
	struct disc_entry entries[12][64];
	size_t n_logs;
};

static void world_load(struct world *w, const char *connect_lines)
{
	char yaml[2048];

	snprintf(yaml, sizeof(yaml), "defaults:\n  transport: tcp\nhosts:\n  - name: h\n    hostnqn: " HOSTNQN "\n    connect:\n%s",
		 connect_lines);
	if (w->inv)
		inventory_free(w->inv);
	w->inv = load_inventory(yaml);
	w->h = &w->inv->hosts[0];
}

static struct disc_log *log_new(struct world *w, uint64_t genctr)
{
	struct disc_log *l = &w->logs[w->n_logs];

	*l = (struct disc_log){ .genctr = genctr, .entries = w->entries[w->n_logs] };
	w->n_logs++;
	return l;
}

static void log_lists(struct disc_log *l, int subtype, const char *traddr, const char *trsvcid, const char *nqn)
{
	struct disc_entry *e = &l->entries[l->n++];

	*e = (struct disc_entry){ .transport = TRANSPORT_TCP, .adrfam = ADRFAM_IPV4, .subtype = subtype };
	snprintf(e->traddr, sizeof(e->traddr), "%s", traddr);
	snprintf(e->trsvcid, sizeof(e->trsvcid), "%s", trsvcid);
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", nqn);
}

static size_t path_add(struct world *w, bool discovery, const char *traddr, const char *trsvcid, const char *nqn,
		       const char *hostnqn)
{
	struct rc_path *p = &w->paths[w->n];

	*p = (struct rc_path){ .discovery = discovery, .parent = RC_NONE, .hostid = HOSTID };
	snprintf(p->id.transport, sizeof(p->id.transport), "tcp");
	snprintf(p->id.traddr, sizeof(p->id.traddr), "%s", traddr);
	snprintf(p->id.trsvcid, sizeof(p->id.trsvcid), "%s", trsvcid);
	snprintf(p->id.subsysnqn, sizeof(p->id.subsysnqn), "%s", discovery ? NQN_DISCOVERY : nqn);
	snprintf(p->id.hostnqn, sizeof(p->id.hostnqn), "%s", hostnqn);
	return w->n++;
}

static size_t dc_add(struct world *w, const char *traddr, struct disc_log *log, uint64_t seq)
{
	size_t i = path_add(w, true, traddr, "8009", NULL, HOSTNQN);

	w->paths[i].log = log;
	w->paths[i].log_seq = seq;
	return i;
}

static size_t io_add(struct world *w, size_t parent, const char *traddr, const char *nqn)
{
	size_t i = path_add(w, false, traddr, "4420", nqn, HOSTNQN);

	w->paths[i].parent = parent;
	return i;
}

static void run(struct world *w, struct rc_plan *plan)
{
	assert_int_equal(reconcile(w->h, HOSTNQN, HOSTID, w->paths, w->n, plan), 0);
}

static size_t count(const struct rc_plan *plan, size_t n, enum rc_verdict v, enum rc_why why)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += plan->paths[i].verdict == v && plan->paths[i].why == why;
	return k;
}

static bool starts(const struct rc_plan *plan, bool discovery, const char *traddr, const char *nqn)
{
	for (size_t i = 0; i < plan->n_start; i++)
		if (plan->start[i].discovery == discovery && streq(plan->start[i].id.traddr, traddr) &&
		    streq(plan->start[i].id.subsysnqn, discovery ? NQN_DISCOVERY : nqn))
			return true;
	return false;
}

static void world_free(struct world *w)
{
	inventory_free(w->inv);
}

static void reconcile_test_starts_the_configured_discovery_controllers(void **state _unused_)
{
	struct world w = { 0 };
	struct rc_plan plan;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n      - {traddr: 192.0.2.2, trsvcid: 8009}\n");
	run(&w, &plan);
	assert_int_equal(plan.n_start, 2);
	assert_true(starts(&plan, true, "192.0.2.1", NULL));
	assert_true(starts(&plan, true, "192.0.2.2", NULL));
	assert_int_equal(plan.start[0].depth, 0);
	assert_int_equal(plan.start[0].parent, RC_NONE);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_starts_what_a_log_lists_and_keeps_what_exists(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 1);
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a"); /* twice: one path */
	dc = dc_add(&w, "192.0.2.1", l, 1);
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	run(&w, &plan);
	assert_int_equal(plan.n_start, 1);
	assert_true(starts(&plan, false, "192.0.2.1", "nqn.2020-09.com.example:b"));
	assert_int_equal(plan.start[0].parent, dc);
	assert_int_equal(count(&plan, w.n, RC_KEEP, RC_WHY_DESIRED), 2);
	assert_int_equal(plan.paths[1].parent, dc);
	assert_ptr_equal(plan.paths[1].ep, &w.h->endpoints[0]);
	rc_plan_free(&plan);
	world_free(&w);
}

/* 32 subsystems connected; the filter narrowed to 2, then widened to all. */
static void reconcile_test_a_filter_narrowed_stops_and_widened_starts(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 1);
	struct rc_plan plan;
	char nqn[64];
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:s3, "
		       "nqn.2020-09.com.example:s7]}\n");
	dc = dc_add(&w, "192.0.2.1", l, 1);
	for (int i = 0; i < 32; i++) {
		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:s%d", i);
		log_lists(l, 2, "192.0.2.1", "4420", nqn);
		io_add(&w, dc, "192.0.2.1", nqn);
	}
	run(&w, &plan);
	assert_int_equal(plan.n_start, 0);
	assert_int_equal(count(&plan, w.n, RC_STOP, RC_WHY_NOT_CONFIGURED), 30);
	assert_int_equal(count(&plan, w.n, RC_KEEP, RC_WHY_DESIRED), 3); /* the discovery controller, s3, s7 */
	assert_int_equal(plan.paths[dc + 1 + 3].verdict, RC_KEEP);
	rc_plan_free(&plan);

	/* widened: the two left, and the log's other 30 start again */
	w.n = dc + 1;
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:s3");
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:s7");
	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	run(&w, &plan);
	assert_int_equal(plan.n_start, 30);
	assert_int_equal(count(&plan, w.n, RC_KEEP, RC_WHY_DESIRED), 3);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_unlisted_paths_follow_on_removed(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 2);
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: keep}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	dc = dc_add(&w, "192.0.2.1", l, 1);
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:gone");
	run(&w, &plan);
	assert_int_equal(plan.paths[2].verdict, RC_KEEP);
	assert_int_equal(plan.paths[2].why, RC_WHY_KEPT);
	assert_int_equal(plan.paths[2].parent, dc);
	rc_plan_free(&plan);

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: disconnect}\n");
	run(&w, &plan);
	assert_int_equal(plan.paths[1].verdict, RC_KEEP);
	assert_int_equal(plan.paths[2].verdict, RC_STOP);
	assert_int_equal(plan.paths[2].why, RC_WHY_UNLISTED);
	rc_plan_free(&plan);

	/* under a new host ID, kept and moved to it with its discovery controller */
	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: keep}\n");
	assert_int_equal(reconcile(w.h, HOSTNQN, "00000000-0000-0000-0000-00000000000f", w.paths, w.n, &plan), 0);
	assert_int_equal(plan.paths[0].verdict, RC_REINIT);
	assert_int_equal(plan.paths[2].verdict, RC_REINIT);
	assert_int_equal(plan.paths[2].why, RC_WHY_HOSTID);
	assert_int_equal(plan.paths[2].parent, dc);
	rc_plan_free(&plan);

	/* kept only while its filter still takes it */
	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: keep, subsystems: [nqn.2020-09.com.example:a]}\n");
	run(&w, &plan);
	assert_int_equal(plan.paths[2].verdict, RC_STOP);
	assert_int_equal(plan.paths[2].why, RC_WHY_NOT_CONFIGURED);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_an_endpoint_removed_stops_its_paths(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 1);
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.2, trsvcid: 8009, on_removed: keep}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	dc = dc_add(&w, "192.0.2.1", l, 1);
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	run(&w, &plan);
	assert_int_equal(count(&plan, w.n, RC_STOP, RC_WHY_NOT_CONFIGURED), 2); /* keep is for the log, not the inventory */
	assert_true(starts(&plan, true, "192.0.2.2", NULL));
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_a_new_host_nqn_moves_every_path(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 1);
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	dc = dc_add(&w, "192.0.2.1", l, 1);
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	assert_int_equal(reconcile(w.h, HOSTNQN2, HOSTID, w.paths, w.n, &plan), 0);
	assert_int_equal(count(&plan, w.n, RC_STOP, RC_WHY_NOT_CONFIGURED), 2);
	assert_int_equal(plan.n_start, 1); /* the discovery controller as the new host; its log then lists the rest */
	assert_string_equal(plan.start[0].id.hostnqn, HOSTNQN2);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_a_new_host_id_or_key_reinits(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 1);
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	dc = dc_add(&w, "192.0.2.1", l, 1);
	io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	assert_int_equal(reconcile(w.h, HOSTNQN, "00000000-0000-0000-0000-00000000000f", w.paths, w.n, &plan), 0);
	assert_int_equal(count(&plan, w.n, RC_REINIT, RC_WHY_HOSTID), 2);
	assert_int_equal(plan.n_start, 0);
	rc_plan_free(&plan);

	w.paths[1].dhchap_key = "/etc/nvmfd/keys/old.key";
	run(&w, &plan);
	assert_int_equal(plan.paths[0].verdict, RC_KEEP);
	assert_int_equal(plan.paths[1].verdict, RC_REINIT);
	assert_int_equal(plan.paths[1].why, RC_WHY_KEYS);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_a_subsystem_listed_again_is_retried_now(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *l = log_new(&w, 7);
	struct rc_plan plan;
	size_t dc, a, b;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	log_lists(l, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");
	dc = dc_add(&w, "192.0.2.1", l, 5);
	a = io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:a");
	b = io_add(&w, dc, "192.0.2.1", "nqn.2020-09.com.example:b");
	w.paths[a].backing_off = true;
	w.paths[a].fail_seq = 4; /* refused before the log of seq 5 listed it */
	w.paths[b].backing_off = true;
	w.paths[b].fail_seq = 5; /* refused after it: that log is no news */
	run(&w, &plan);
	assert_int_equal(plan.paths[a].verdict, RC_RETRY);
	assert_int_equal(plan.paths[a].why, RC_WHY_RELISTED);
	assert_int_equal(plan.paths[b].verdict, RC_KEEP);
	rc_plan_free(&plan);
	world_free(&w);
}

/* a refers to b, b back to a, and both list s1: each once; referrals kept on re-reads */
static void reconcile_test_referrals_once_each_and_kept(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *la = log_new(&w, 1), *lb = log_new(&w, 1);
	struct rc_plan plan;
	size_t a, b;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: disconnect}\n");
	log_lists(la, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	log_lists(la, 1, "192.0.2.2", "8009", NQN_DISCOVERY);
	log_lists(lb, 1, "192.0.2.1", "8009", NQN_DISCOVERY);
	log_lists(lb, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	log_lists(lb, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:s2");
	a = dc_add(&w, "192.0.2.1", la, 1);
	run(&w, &plan);
	assert_int_equal(plan.n_start, 2);
	assert_true(starts(&plan, true, "192.0.2.2", NULL));
	assert_true(starts(&plan, false, "192.0.2.1", "nqn.2020-09.com.example:s1"));
	for (size_t i = 0; i < plan.n_start; i++)
		if (plan.start[i].discovery)
			assert_int_equal(plan.start[i].depth, 1);
	rc_plan_free(&plan);

	b = dc_add(&w, "192.0.2.2", lb, 2);
	io_add(&w, a, "192.0.2.1", "nqn.2020-09.com.example:s1");
	run(&w, &plan);
	assert_int_equal(plan.n_start, 1);
	assert_true(starts(&plan, false, "192.0.2.2", "nqn.2020-09.com.example:s2"));
	assert_int_equal(plan.start[0].parent, b);
	assert_int_equal(plan.paths[b].verdict, RC_KEEP); /* the referral, on every re-read */
	assert_int_equal(plan.paths[b].depth, 1);
	assert_int_equal(count(&plan, w.n, RC_KEEP, RC_WHY_DESIRED), 3);
	rc_plan_free(&plan);

	/* a no longer refers to b: b and what only b listed go; s1 stays through a */
	la->n = 1;
	io_add(&w, b, "192.0.2.2", "nqn.2020-09.com.example:s2");
	run(&w, &plan);
	assert_int_equal(plan.paths[b].verdict, RC_STOP);
	assert_int_equal(plan.paths[w.n - 1].verdict, RC_STOP);
	assert_int_equal(plan.paths[w.n - 2].verdict, RC_KEEP);
	assert_int_equal(plan.n_start, 0);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_a_referral_chain_ends_at_depth_eight(void **state _unused_)
{
	struct world w = { 0 };
	struct rc_plan plan;
	char addr[32], next[32];

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	/* a chain 1 -> 2 -> ... -> 12, every controller with its log */
	for (int i = 0; i < 8; i++) {
		struct disc_log *l = log_new(&w, 1);

		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		snprintf(next, sizeof(next), "192.0.2.%d", i + 2);
		log_lists(l, 1, next, "8009", NQN_DISCOVERY);
		dc_add(&w, addr, l, 1);
	}
	run(&w, &plan);
	/* 192.0.2.9 is at depth 8: wanted; its own referral would be depth 9 */
	assert_int_equal(plan.n_start, 1);
	assert_true(starts(&plan, true, "192.0.2.9", NULL));
	assert_int_equal(plan.start[0].depth, 8);
	assert_int_equal(count(&plan, w.n, RC_KEEP, RC_WHY_DESIRED), 8);
	rc_plan_free(&plan);

	{
		struct disc_log *l = log_new(&w, 1);

		log_lists(l, 1, "192.0.2.10", "8009", NQN_DISCOVERY);
		dc_add(&w, "192.0.2.9", l, 1);
	}
	run(&w, &plan);
	assert_int_equal(plan.n_start, 0);
	assert_int_equal(plan.n_too_deep, 1);
	rc_plan_free(&plan);
	world_free(&w);
}

static void reconcile_test_no_start_while_the_same_identity_leaves(void **state _unused_)
{
	struct world w = { 0 };
	struct rc_plan plan;
	size_t dc;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	dc = dc_add(&w, "192.0.2.1", NULL, 0);
	w.paths[dc].leaving = true;
	run(&w, &plan);
	assert_int_equal(plan.paths[dc].verdict, RC_SKIP);
	assert_int_equal(plan.n_start, 0);
	rc_plan_free(&plan);
	world_free(&w);
}

/* 65,536 entries, the most a log may hold, and as many paths: well under a second. */
static void reconcile_test_is_linear(void **state _unused_)
{
	enum { N = 65536 };
	struct world w = { 0 };
	struct disc_log log = { .genctr = 1 };
	struct rc_path *paths = calloc(N + 1, sizeof(*paths));
	struct rc_plan plan;
	struct timespec t0, t1;
	double secs;

	assert_non_null(paths);
	log.entries = calloc(N, sizeof(*log.entries));
	assert_non_null(log.entries);
	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	for (size_t i = 0; i < N; i++) {
		char nqn[64];

		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:s%zu", i);
		log_lists(&log, 2, "192.0.2.1", "4420", nqn);
	}
	w.n = 0;
	dc_add(&w, "192.0.2.1", &log, 1);
	paths[0] = w.paths[0];
	/* half of them have paths already */
	for (size_t i = 0; i < N / 2; i++) {
		paths[i + 1] = paths[0];
		paths[i + 1].discovery = false;
		paths[i + 1].log = NULL;
		paths[i + 1].parent = 0;
		snprintf(paths[i + 1].id.trsvcid, sizeof(paths[i + 1].id.trsvcid), "4420");
		snprintf(paths[i + 1].id.subsysnqn, sizeof(paths[i + 1].id.subsysnqn), "%s", log.entries[i].subnqn);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(reconcile(w.h, HOSTNQN, HOSTID, paths, N / 2 + 1, &plan), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("reconcile of %d entries, %d paths: %.3f s\n", N, N / 2 + 1, secs);
	assert_int_equal(plan.n_start, N / 2);
	assert_int_equal(count(&plan, N / 2 + 1, RC_KEEP, RC_WHY_DESIRED), N / 2 + 1);
	assert_true(secs < 2.0);
	rc_plan_free(&plan);
	free(log.entries);
	free(paths);
	world_free(&w);
}

static const struct rc_start *start_of(const struct rc_plan *plan, const char *traddr, const char *nqn)
{
	for (size_t i = 0; i < plan->n_start; i++)
		if (!plan->start[i].discovery && streq(plan->start[i].id.traddr, traddr) &&
		    streq(plan->start[i].id.subsysnqn, nqn))
			return &plan->start[i];
	return NULL;
}

/* Two endpoints whose logs refer to one discovery controller: each endpoint's filter applies
 * to what that controller lists, whichever of them comes first. */
static void reconcile_test_a_controller_two_endpoints_refer_to_is_read_with_both_filters(void **state _unused_)
{
	struct world w = { 0 };
	struct disc_log *la = log_new(&w, 1), *lb = log_new(&w, 1), *lc = log_new(&w, 1);
	struct rc_plan plan;
	const struct rc_start *x, *y;
	size_t c;

	world_load(&w, "      - {traddr: 192.0.2.1, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:x]}\n"
		       "      - {traddr: 192.0.2.2, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:y]}\n");
	log_lists(la, 1, "192.0.2.3", "8009", NQN_DISCOVERY);
	log_lists(lb, 1, "192.0.2.3", "8009", NQN_DISCOVERY);
	log_lists(lc, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:x");
	log_lists(lc, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:y");
	log_lists(lc, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:z");
	dc_add(&w, "192.0.2.1", la, 1);
	dc_add(&w, "192.0.2.2", lb, 2);
	c = dc_add(&w, "192.0.2.3", lc, 3);
	run(&w, &plan);
	assert_int_equal(plan.paths[c].verdict, RC_KEEP);
	assert_int_equal(plan.paths[c].depth, 1);
	assert_ptr_equal(plan.paths[c].ep, &w.h->endpoints[0]); /* its own connect: the first endpoint's */
	assert_int_equal(plan.n_start, 2);
	x = start_of(&plan, "192.0.2.3", "nqn.2020-09.com.example:x");
	y = start_of(&plan, "192.0.2.3", "nqn.2020-09.com.example:y");
	assert_non_null(x);
	assert_non_null(y);
	assert_ptr_equal(x->ep, &w.h->endpoints[0]);
	assert_ptr_equal(y->ep, &w.h->endpoints[1]);
	assert_int_equal(x->parent, c);
	assert_int_equal(y->parent, c);
	rc_plan_free(&plan);
	world_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reconcile_test_starts_the_configured_discovery_controllers),
		cmocka_unit_test(reconcile_test_starts_what_a_log_lists_and_keeps_what_exists),
		cmocka_unit_test(reconcile_test_a_filter_narrowed_stops_and_widened_starts),
		cmocka_unit_test(reconcile_test_unlisted_paths_follow_on_removed),
		cmocka_unit_test(reconcile_test_an_endpoint_removed_stops_its_paths),
		cmocka_unit_test(reconcile_test_a_new_host_nqn_moves_every_path),
		cmocka_unit_test(reconcile_test_a_new_host_id_or_key_reinits),
		cmocka_unit_test(reconcile_test_a_subsystem_listed_again_is_retried_now),
		cmocka_unit_test(reconcile_test_referrals_once_each_and_kept),
		cmocka_unit_test(reconcile_test_a_referral_chain_ends_at_depth_eight),
		cmocka_unit_test(reconcile_test_a_controller_two_endpoints_refer_to_is_read_with_both_filters),
		cmocka_unit_test(reconcile_test_no_start_while_the_same_identity_leaves),
		cmocka_unit_test(reconcile_test_is_linear),
	};
	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
