/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager with its loop and worker, over the fake fabric of
 * fake-fabric.h: the three adapter calls are replaced at link time
 * (-Wl,--wrap=fabrics_connect,...) by a model of discovery controllers and
 * subsystems that keeps its controllers in a temporary sysfs tree, and
 * answers a duplicate connect with EALREADY as the kernel does.
 */
#include "cmocka-prelude.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fake-fabric.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"
#include "base/macro.h"
#include "daemon/manager.h"
#include "daemon/manager-private.h" /* on_probe: the prober's answers, fed by hand */
#include "base/nqn.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

/* What host_inventory() writes into the host entry; setup() resets them. */
static const char *inv_backoff = "{initial: 10ms, max: 50ms}";
static const char *inv_hostnqn = HOSTNQN;
static bool opt_disconnect_on_stop;

static void add_ctrl(const char *transport, const char *traddr, const char *trsvcid, const char *nqn, char *name)
{
	add_ctrl_as(transport, traddr, trsvcid, nqn, HOSTNQN, name);
}

static int setup(void **state _unused_)
{
	if (fake_setup() < 0)
		return -1;
	inv_backoff = "{initial: 10ms, max: 50ms}";
	inv_hostnqn = HOSTNQN;
	opt_disconnect_on_stop = false;
	return 0;
}

static int teardown(void **state _unused_)
{
	return fake_teardown();
}

struct run {
	sd_event *loop;
	struct manager *m;
	char sock[128];
};

static struct inventory *host_inventory(const char *connect_lines, const struct inv_host **h)
{
	char yaml[2048];
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	snprintf(yaml, sizeof(yaml),
		 "defaults:\n  transport: tcp\n  backoff: %s\n"
		 "hosts:\n  - name: h\n    hostnqn: %s\n    connect:\n%s",
		 inv_backoff, inv_hostnqn, connect_lines);
	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	*h = &inv->hosts[0];
	diags_clear(&d);
	return inv;
}

static void start(struct run *r, const char *connect_lines)
{
	const struct inv_host *h;
	struct inventory *inv = host_inventory(connect_lines, &h);
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .sysfs = sysfs, .audit_interval = 20 * USEC_PER_MSEC, .stuck_after = 300 * USEC_PER_MSEC,
				     .disconnect_on_stop = opt_disconnect_on_stop };

	assert_int_equal(sd_event_new(&r->loop), 0);
	assert_int_equal(manager_new(r->loop, inv, h, &id, &o, &r->m), 0);
	assert_int_equal(manager_start(r->m), 0);
}

/* Run the loop for MS milliseconds. */
static void spin(struct run *r, int ms)
{
	for (int i = 0; i < ms / 5; i++)
		sd_event_run(r->loop, 5 * USEC_PER_MSEC);
}

static int count_state(struct run *r, const char *kind, const char *state);

/* Run the loop until N I/O paths are live (at most 10 s), then 200 ms more:
 * what should not happen has had its chance. */
static void settle(struct run *r, int n_live)
{
	for (int i = 0; i < 2000 && count_state(r, "io", "live") < n_live; i++)
		sd_event_run(r->loop, 5 * USEC_PER_MSEC);
	spin(r, 200);
}

static int count_state(struct run *r, const char *kind, const char *state)
{
	struct json_object *st = manager_status_json(r->m), *paths = json_object_object_get(st, "paths");
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *p = json_object_array_get_idx(paths, i);

		n += streq(json_object_get_string(json_object_object_get(p, "kind")), kind) &&
		     (!state || streq(json_object_get_string(json_object_object_get(p, "state")), state));
	}
	json_object_put(st);
	return n;
}

static void stop(struct run *r)
{
	manager_free(r->m);
	sd_event_unref(r->loop);
}

static void manager_test_connects_what_logs_list_and_visits_each_referral_once(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1"), *b = fake_dc("192.0.2.2");
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(a, 1, "192.0.2.2", "8009", NQN_DISCOVERY); /* a refers to b */
	lists(b, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:s2");
	lists(b, 1, "192.0.2.1", "8009", NQN_DISCOVERY); /* b refers back to a: a cycle */
	lists(b, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1"); /* and lists s1 too */
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 2);
	assert_int_equal(n_disc_connects, 2);
	assert_int_equal(n_connects, 4); /* a, b, s1, s2: each once */
	assert_int_equal(count_state(&r, "io", "live"), 2);
	assert_int_equal(count_state(&r, "discovery", "live"), 2);
	stop(&r);
}

static void manager_test_referral_chains_stop_at_depth_eight(void **state _unused_)
{
	struct run r;
	char addr[32], next[32];

	for (int i = 0; i < 12; i++) {
		snprintf(addr, sizeof(addr), "192.0.2.%d", i + 1);
		snprintf(next, sizeof(next), "192.0.2.%d", i + 2);
		lists(fake_dc(addr), 1, next, "8009", NQN_DISCOVERY);
	}
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	for (int i = 0; i < 2000 && n_disc_connects < 9; i++)
		sd_event_run(r.loop, 5 * USEC_PER_MSEC);
	spin(&r, 300);
	assert_int_equal(n_disc_connects, 9); /* depth 0 (configured) to 8 */
	stop(&r);
}

static void manager_test_adopts_what_exists_without_connecting(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char name[32];
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	add_ctrl("tcp", "192.0.2.1", "8009", NQN_DISCOVERY, name);
	add_ctrl("tcp", "192.0.2.1", "4420", "nqn.2020-09.com.example:s1", name);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(n_connects, 0);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	assert_int_equal(count_state(&r, "discovery", "live"), 1);
	stop(&r);
}

static void manager_test_reload_applies_only_the_difference(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1"), *b = fake_dc("192.0.2.2"), *c = fake_dc("192.0.2.3");
	const struct inv_host *h;
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct inventory *inv;
	struct run r;
	int connects_before;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	lists(b, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:b");
	lists(c, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:c");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n      - {traddr: 192.0.2.2, trsvcid: 8009}\n");
	settle(&r, 2);
	assert_int_equal(count_state(&r, "io", "live"), 2);
	connects_before = n_connects;

	/* drop a, keep b, add c */
	inv = host_inventory("      - {traddr: 192.0.2.2, trsvcid: 8009}\n      - {traddr: 192.0.2.3, trsvcid: 8009}\n", &h);
	assert_int_equal(manager_reload(r.m, inv, h, &id), 0);
	for (int i = 0; i < 2000 && (n_disconnects < 2 || n_connects - connects_before < 2); i++)
		sd_event_run(r.loop, 5 * USEC_PER_MSEC);
	settle(&r, 2);
	assert_int_equal(n_disconnects, 2);               /* a's discovery controller and subsystem */
	assert_int_equal(n_connects - connects_before, 2); /* c's, and nothing of b's again */
	assert_int_equal(count_state(&r, "io", "live"), 2);
	stop(&r);
}

static void manager_test_never_a_second_controller_for_a_path(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1"), *b = fake_dc("192.0.2.2");
	struct run r;

	/* Two discovery controllers list the same subsystem at the same address. */
	lists(a, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:shared");
	lists(b, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:shared");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n      - {traddr: 192.0.2.2, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(n_connects, 3);
	assert_int_equal(count_state(&r, "io", NULL), 1);
	stop(&r);
}

static void manager_test_falls_back_to_one_shot_discovery(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	a->refuse_persistent = true;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	for (int i = 0; i < 2000 && count_state(&r, "discovery", "paused") < 1; i++)
		sd_event_run(r.loop, 5 * USEC_PER_MSEC);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	assert_int_equal(count_state(&r, "discovery", "paused"), 1); /* read, then disconnected until the next read */
	assert_int_equal(n_disc_connects, 1);
	assert_int_equal(n_disconnects, 1);
	spin(&r, 200);
	assert_int_equal(n_disc_connects, 1); /* its removal is no loss: no reconnect */
	stop(&r);
}

static void manager_test_resync_finds_what_events_lost(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	char cmd[256];
	int connects;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	connects = n_connects;
	/* The subsystem's controller (the second made) vanishes; no event tells. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/nvme/nvme1'", sysfs);
	assert_int_equal(system(cmd), 0);
	manager_resync(r.m);
	settle(&r, 1);
	assert_int_equal(n_connects, connects + 1); /* found gone, connected again */
	assert_int_equal(count_state(&r, "io", "live"), 1);
	stop(&r);
}

static int count_stuck(struct run *r)
{
	struct json_object *st = manager_status_json(r->m), *paths = json_object_object_get(st, "paths");
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(paths); i++)
		n += json_object_get_boolean(json_object_object_get(json_object_array_get_idx(paths, i), "stuck"));
	json_object_put(st);
	return n;
}

static void manager_test_a_hanging_connect_is_stuck_and_blocks_nothing(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	lists(a, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:hangs");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:fine");
	snprintf(hang_addr, sizeof(hang_addr), "192.0.2.9");
	assert_int_equal(pipe(hang_pipe), 0);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	for (int i = 0; i < 2000 && count_stuck(&r) < 1; i++)
		sd_event_run(r.loop, 5 * USEC_PER_MSEC);
	/* The loop answers while the connect hangs: this status is proof. The
	 * other subsystem's connect waits its turn, as it would in the kernel,
	 * which serialises every connect. */
	assert_true(count_stuck(&r) >= 1);
	assert_int_equal(count_state(&r, "io", "connecting"), 2);
	assert_int_equal(write(hang_pipe[1], "x", 1), 1); /* the kernel lets go */
	settle(&r, 2);
	assert_int_equal(count_stuck(&r), 0);
	assert_int_equal(count_state(&r, "io", "live"), 2);
	stop(&r);
	close(hang_pipe[0]);
	close(hang_pipe[1]);
	hang_pipe[0] = hang_pipe[1] = -1;
	hang_addr[0] = '\0';
}


/* Reload with CONNECT_LINES as host HOSTNQN with HOSTID. */
static void reload_to(struct run *r, const char *connect_lines, const char *hostnqn, const char *hostid)
{
	const struct inv_host *h;
	struct inventory *inv;
	struct host_identity id = { 0 };

	inv_hostnqn = hostnqn;
	inv = host_inventory(connect_lines, &h);
	snprintf(id.hostnqn, sizeof(id.hostnqn), "%s", hostnqn);
	snprintf(id.hostid, sizeof(id.hostid), "%s", hostid);
	assert_int_equal(manager_reload(r->m, inv, h, &id), 0);
}

static int count_field(struct run *r, const char *field, const char *value)
{
	struct json_object *st = manager_status_json(r->m), *paths = json_object_object_get(st, "paths");
	int n = 0;

	for (size_t i = 0; i < json_object_array_length(paths); i++)
		n += streq_ptr(json_object_get_string(json_object_object_get(json_object_array_get_idx(paths, i), field)), value);
	json_object_put(st);
	return n;
}

/* Run until COND holds (at most MS milliseconds); how long it took, in ms, or -1. */
#define RUN_UNTIL(r, cond, ms)                                                         \
	({                                                                             \
		int _t = -1;                                                           \
		for (int _i = 0; _i <= (ms) / 5; _i++) {                               \
			if (cond) {                                                    \
				_t = _i * 5;                                           \
				break;                                                 \
			}                                                              \
			sd_event_run((r)->loop, 5 * USEC_PER_MSEC);                    \
		}                                                                      \
		_t;                                                                    \
	})

/*
 * A target that exports its subsystems again one by one: a connect that
 * comes before its subsystem is refused ("not exported", which waits the
 * longest interval); the log change that lists it again connects it at once.
 */
static void manager_test_a_subsystem_listed_again_connects_at_once(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	int ms;

	inv_backoff = "{initial: 10ms, max: 60s}";
	a->genctr = 1;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s2");
	snprintf(unexported[0], sizeof(unexported[0]), "nqn.2020-09.com.example:s2");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(count_state(&r, "io", "failed"), 1);
	spin(&r, 300);
	assert_int_equal(count_state(&r, "io", "failed"), 1); /* the longest interval: 60 s */

	/* the target links it; its log changes; the AEN makes the host read it */
	unexported[0][0] = '\0';
	a->genctr = 2;
	assert_int_equal(manager_rediscover(r.m, NULL), 1);
	ms = RUN_UNTIL(&r, count_state(&r, "io", "live") == 2, 1500);
	assert_true(ms >= 0);
	print_message("re-listed subsystem live %d ms after the log change\n", ms);
	stop(&r);
}

/* The same log read again (an AEN burst, a path's return) connects nothing again. */
static void manager_test_an_unchanged_log_is_not_taken_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	int connects;

	inv_backoff = "{initial: 10ms, max: 60s}";
	a->genctr = 5;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	snprintf(unexported[0], sizeof(unexported[0]), "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	for (int i = 0; i < 400 && count_state(&r, "io", "failed") < 1; i++)
		sd_event_run(r.loop, 5 * USEC_PER_MSEC);
	connects = n_connects;
	for (int i = 0; i < 5; i++) {
		manager_rediscover(r.m, NULL);
		spin(&r, 50);
	}
	assert_int_equal(count_field(&r, "state", "failed"), 1); /* no retry for news that is none */
	assert_int_equal(n_connects, connects);
	assert_true(n_log_reads >= 6);
	stop(&r);
}

/* An AEN burst while a read is under way: one more read, not one each. */
static void manager_test_log_reads_coalesce(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(pipe(log_pipe), 0);
	n_log_reads = 0;
	for (int i = 0; i < 20; i++)
		manager_rediscover(r.m, NULL); /* the first blocks in the kernel; the rest wait */
	spin(&r, 50);
	assert_int_equal(write(log_pipe[1], "xx", 2), 2);
	spin(&r, 100);
	close(log_pipe[1]);
	close(log_pipe[0]);
	log_pipe[0] = log_pipe[1] = -1;
	spin(&r, 100);
	assert_int_equal(n_log_reads, 2);
	stop(&r);
}

/* The next N callocs fail (memory short for a moment). */
static int fail_callocs;
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size)
{
	if (__atomic_load_n(&fail_callocs, __ATOMIC_SEQ_CST) > 0 &&
	    __atomic_sub_fetch(&fail_callocs, 1, __ATOMIC_SEQ_CST) >= 0) {
		errno = ENOMEM;
		return NULL;
	}
	return __real_calloc(n, size);
}

/* A log read whose job found no memory is made at the retry a second later,
 * not left for the next AEN (which may never come). */
static void manager_test_a_log_read_that_found_no_memory_is_made_later(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	n_log_reads = 0;
	fail_callocs = 1;
	assert_int_equal(manager_rediscover(r.m, NULL), 1);
	assert_int_equal(fail_callocs, 0);
	assert_int_equal(n_log_reads, 0);
	RUN_UNTIL(&r, n_log_reads == 1, 3000);
	assert_int_equal(n_log_reads, 1);
	stop(&r);
}

/* Reload: the filter narrowed stops, widened starts; new options keep the controllers. */
static void manager_test_reload_narrows_and_widens_the_filter(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	char nqn[64];
	int connects;

	for (int i = 0; i < 8; i++) {
		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:s%d", i);
		lists(a, 2, "192.0.2.1", "4420", nqn);
	}
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 8);
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:s2, "
		      "nqn.2020-09.com.example:s5]}\n", HOSTNQN, "");
	RUN_UNTIL(&r, n_disconnects == 6 && count_state(&r, "io", NULL) == 2, 2000);
	assert_int_equal(n_disconnects, 6);
	assert_int_equal(count_state(&r, "io", "live"), 2);
	assert_int_equal(count_field(&r, "subsysnqn", "nqn.2020-09.com.example:s5"), 1);

	connects = n_connects;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", HOSTNQN, ""); /* from the log it has */
	RUN_UNTIL(&r, count_state(&r, "io", "live") == 8, 2000);
	assert_int_equal(count_state(&r, "io", "live"), 8);
	assert_int_equal(n_connects - connects, 6);

	connects = n_connects;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, ctrl_loss_tmo: 30s, nr_io_queues: 2}\n", HOSTNQN, "");
	spin(&r, 200);
	assert_int_equal(n_connects, connects); /* new options from the next connect */
	assert_int_equal(n_disconnects, 6);
	assert_int_equal(count_state(&r, "io", "live"), 8);
	stop(&r);
}

/* Reload to another host NQN: every path moves; to another host ID: each reconnects once. */
static void manager_test_reload_moves_to_a_new_host_identity(void **state _unused_)
{
	static const char *const hostnqn2 = "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002";
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	int connects, disconnects;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s2");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 2);
	connects = n_connects;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", hostnqn2, "");
	RUN_UNTIL(&r, n_disconnects == 3 && count_state(&r, "io", "live") == 2, 2000);
	settle(&r, 2);
	assert_int_equal(n_disconnects, 3);             /* the discovery controller and both subsystems */
	assert_int_equal(n_connects - connects, 3);     /* again, as the new host */
	assert_string_equal(last_hostnqn, hostnqn2);
	assert_int_equal(count_state(&r, "io", NULL), 2);

	connects = n_connects;
	disconnects = n_disconnects;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", hostnqn2, "00000000-0000-0000-0000-0000000000aa");
	RUN_UNTIL(&r, n_connects - connects == 3 && count_state(&r, "io", "live") == 2, 2000);
	settle(&r, 2);
	assert_int_equal(n_disconnects - disconnects, 3);
	assert_int_equal(n_connects - connects, 3);
	assert_string_equal(last_hostid, "00000000-0000-0000-0000-0000000000aa");
	spin(&r, 200);
	assert_int_equal(n_connects - connects, 3); /* once */
	stop(&r);
}

/* Referral discovery controllers stay across re-reads of the log that lists them. */
static void manager_test_referrals_survive_rereads(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1"), *b = fake_dc("192.0.2.2");
	struct run r;

	lists(a, 1, "192.0.2.2", "8009", NQN_DISCOVERY);
	lists(b, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:s2");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, on_removed: disconnect}\n");
	settle(&r, 1);
	for (int i = 0; i < 3; i++) {
		a->genctr++;
		b->genctr++;
		manager_rediscover(r.m, NULL);
		spin(&r, 100);
	}
	assert_int_equal(n_disconnects, 0);
	assert_int_equal(count_state(&r, "discovery", "live"), 2);
	assert_int_equal(count_state(&r, "io", "live"), 1);

	/* the referral gone from a's log: b and what only b listed go */
	a->n = 0;
	a->genctr++;
	manager_rediscover(r.m, NULL);
	RUN_UNTIL(&r, n_disconnects == 2 && count_state(&r, "io", NULL) == 0, 1000);
	assert_int_equal(n_disconnects, 2);
	assert_int_equal(count_state(&r, "discovery", NULL), 1);
	assert_int_equal(count_state(&r, "io", NULL), 0);
	stop(&r);
}

/* Status lists every namespace, however many (a subsystem of 1,000). */
static void manager_test_status_lists_every_namespace(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	char p[256];
	struct json_object *st, *paths, *ns = NULL;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:big");
	/* the subsystem's heads exist before its controller: nvme1 will be the I/O controller */
	snprintf(p, sizeof(p), "mkdir -p %s/class/nvme-subsystem/nvme-subsys1/nvme1 && cd %s/class/nvme-subsystem/nvme-subsys1 && "
		 "for i in $(seq 1 1000); do mkdir nvme1n$i; done", sysfs, sysfs);
	assert_int_equal(system(p), 0);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	st = manager_status_json(r.m);
	paths = json_object_object_get(st, "paths");
	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *o = json_object_array_get_idx(paths, i);

		if (streq(json_object_get_string(json_object_object_get(o, "kind")), "io"))
			ns = json_object_object_get(o, "namespaces");
	}
	assert_non_null(ns);
	assert_int_equal(json_object_array_length(ns), 1000);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(ns, 999)), "nvme1n1000");
	json_object_put(st);
	stop(&r);
}

/* A manager that cannot be made leaves the inventory to its caller. */
static void manager_test_a_failed_new_leaves_the_inventory(void **state _unused_)
{
	const struct inv_host *h;
	struct inventory *inv = host_inventory("      - {traddr: 192.0.2.1, trsvcid: 8009}\n", &h);
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .sysfs = sysfs, .audit_interval = 20 * USEC_PER_MSEC };
	struct manager *m = NULL;
	sd_event *loop;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(sd_event_exit(loop, 0), 0);
	assert_int_equal(sd_event_loop(loop), 0); /* finished: nothing can be added to it */
	assert_true(manager_new(loop, inv, h, &id, &o, &m) < 0);
	assert_null(m);
	inventory_free(inv); /* still the caller's */
	sd_event_unref(loop);
}

/* A key file that cannot be read fails the connect, saying so: never a connect without the key. */
static void manager_test_an_unreadable_key_fails_the_connect_saying_why(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	struct json_object *st, *paths;
	const char *err = NULL;

	inv_backoff = "{initial: 10ms, max: 60s}";
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, dhchap_key: /nonexistent/host.key}\n");
	RUN_UNTIL(&r, count_state(&r, "discovery", "failed") == 1, 2000);
	assert_int_equal(count_state(&r, "discovery", "failed"), 1);
	assert_int_equal(n_connects, 0);
	st = manager_status_json(r.m);
	paths = json_object_object_get(st, "paths");
	for (size_t i = 0; i < json_object_array_length(paths); i++)
		err = json_object_get_string(json_object_object_get(json_object_array_get_idx(paths, i), "last_error"));
	assert_non_null(err);
	assert_non_null(strstr(err, "cannot read the DH-HMAC-CHAP key file /nonexistent/host.key"));
	json_object_put(st);
	stop(&r);
}

/* Freed without a stop, with a connect finished but not yet handed back to the loop. */
static void manager_test_free_in_any_order(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	/* the refused one first: connects are serialised, as in the kernel */
	lists(a, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:refused");
	lists(a, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:hangs");
	snprintf(refuse_addr, sizeof(refuse_addr), "192.0.2.3");
	snprintf(hang_addr, sizeof(hang_addr), "192.0.2.9");
	hang_fails = true;
	assert_int_equal(pipe(hang_pipe), 0);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	RUN_UNTIL(&r, count_state(&r, "io", "backoff") == 1, 1000);
	/* the refused one backs off: the tick is armed; its retry waits behind the hanging connect */
	assert_int_equal(count_state(&r, "io", "backoff"), 1);
	spin(&r, 100);
	assert_int_equal(write(hang_pipe[1], "x", 1), 1); /* the hanging connect ends, refused ... */
	usleep(100 * 1000);                               /* ... while nobody runs the loop */
	stop(&r);
	close(hang_pipe[0]);
	close(hang_pipe[1]);
	hang_pipe[0] = hang_pipe[1] = -1;
	hang_addr[0] = '\0';
}

/* An I/O path's integer status FIELD (the first I/O path). */
static int io_field(struct run *r, const char *field)
{
	struct json_object *st = manager_status_json(r->m), *paths = json_object_object_get(st, "paths");
	int v = -1;

	for (size_t i = 0; i < json_object_array_length(paths) && v < 0; i++) {
		struct json_object *p = json_object_array_get_idx(paths, i);

		if (streq(json_object_get_string(json_object_object_get(p, "kind")), "io"))
			v = json_object_get_int(json_object_object_get(p, field));
	}
	json_object_put(st);
	return v;
}

/*
 * The manager's side of the hold (the probes' answers to a backing-off
 * path): a silent port holds the retries (no attempt, each step counted as
 * held); the port answering connects at once; three answers in a row that
 * cannot tell end the hold and the retries go on.
 */
static void manager_test_a_silent_port_holds_the_retries(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct probe_target t = { .traddr = "192.0.2.3", .trsvcid = "4420" };
	struct run r;
	int attempts, held;

	lists(a, 2, "192.0.2.3", "4420", "nqn.2020-09.com.example:silent");
	snprintf(refuse_addr, sizeof(refuse_addr), "192.0.2.3");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	RUN_UNTIL(&r, io_field(&r, "attempts") >= 2, 2000);
	on_probe(r.m, &t, PROBE_DOWN, "TCP connect: Connection timed out");
	spin(&r, 100); /* a connect that was in the kernel then ends */
	attempts = io_field(&r, "attempts");
	held = io_field(&r, "connects_held");
	spin(&r, 300); /* steps of 10 to 50 ms */
	assert_int_equal(io_field(&r, "attempts"), attempts);
	assert_true(io_field(&r, "connects_held") > held);
	/* answers for another port say nothing of this one */
	t.trsvcid[0] = '9';
	on_probe(r.m, &t, PROBE_UP, "TCP connect accepted");
	spin(&r, 100);
	assert_int_equal(io_field(&r, "attempts"), attempts);
	/* the port answers: a connect at once (refused here: one more attempt), then held no more by that answer */
	snprintf(t.trsvcid, sizeof(t.trsvcid), "4420");
	on_probe(r.m, &t, PROBE_UP, "TCP connect accepted");
	RUN_UNTIL(&r, io_field(&r, "attempts") > attempts, 1000);
	assert_int_equal(io_field(&r, "attempts"), attempts + 1);
	/* silent again, then the probes cannot tell: the hold ends on the third */
	on_probe(r.m, &t, PROBE_DOWN, "TCP connect: Connection timed out");
	spin(&r, 100);
	attempts = io_field(&r, "attempts");
	for (int i = 1; i < PATH_PROBE_UNKNOWN_RUN; i++)
		on_probe(r.m, &t, PROBE_UNKNOWN, "the probe took too long");
	spin(&r, 300);
	assert_int_equal(io_field(&r, "attempts"), attempts);
	on_probe(r.m, &t, PROBE_UNKNOWN, "the probe took too long");
	RUN_UNTIL(&r, io_field(&r, "attempts") > attempts + 1, 1000);
	assert_true(io_field(&r, "attempts") > attempts + 1);
	stop(&r);
}

#define HOSTID_A "00000000-0000-0000-0000-0000000000aa"
#define HOSTID_B "00000000-0000-0000-0000-0000000000bb"

/* start(), as a host whose identity names host ID HOSTID. */
static void start_as(struct run *r, const char *connect_lines, const char *hostid)
{
	const struct inv_host *h;
	struct inventory *inv = host_inventory(connect_lines, &h);
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .sysfs = sysfs, .audit_interval = 20 * USEC_PER_MSEC, .stuck_after = 300 * USEC_PER_MSEC };

	snprintf(id.hostid, sizeof(id.hostid), "%s", hostid);
	assert_int_equal(sd_event_new(&r->loop), 0);
	assert_int_equal(manager_new(r->loop, inv, h, &id, &o, &r->m), 0);
	assert_int_equal(manager_start(r->m), 0);
}

/* A controller there at the start (nvme-cli's, or one a restart found half way through a
 * reinit) that the kernel shows with another host ID than ours is connected again with ours. */
static void manager_test_an_adopted_controller_of_another_host_id_is_connected_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char dc[32], s1[32];
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	add_ctrl_with("tcp", "192.0.2.1", "8009", NQN_DISCOVERY, HOSTNQN, HOSTID_A, dc);
	add_ctrl_with("tcp", "192.0.2.1", "4420", "nqn.2020-09.com.example:s1", HOSTNQN, HOSTID_B, s1);
	start_as(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", HOSTID_A);
	RUN_UNTIL(&r, n_connects == 1 && count_state(&r, "io", "live") == 1, 2000);
	spin(&r, 200);
	assert_int_equal(n_disconnects, 1); /* s1's controller of host ID B */
	assert_int_equal(n_connects, 1);    /* s1 again; the discovery controller, of ours, kept */
	assert_string_equal(last_hostid, HOSTID_A);
	assert_int_equal(count_field(&r, "controller", s1), 0);
	assert_int_equal(count_field(&r, "controller", dc), 1);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	stop(&r);
}

/* nvme-cli connects our path with another host ID while our connect is in the kernel, which
 * answers ours EALREADY: the controller adopted is connected again with our host ID. */
static void manager_test_a_controller_found_by_ealready_with_another_host_id_is_connected_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char theirs[32];
	struct run r;

	lists(a, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:s1");
	snprintf(hang_addr, sizeof(hang_addr), "192.0.2.9");
	assert_int_equal(pipe(hang_pipe), 0);
	start_as(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", HOSTID_A);
	RUN_UNTIL(&r, count_state(&r, "io", "connecting") == 1, 2000);
	spin(&r, 50); /* ours is in the kernel */
	add_ctrl_with("tcp", "192.0.2.9", "4420", "nqn.2020-09.com.example:s1", HOSTNQN, HOSTID_B, theirs);
	assert_int_equal(write(hang_pipe[1], "xx", 2), 2); /* ours goes on, and the one after it */
	RUN_UNTIL(&r, n_disconnects == 1 && count_state(&r, "io", "live") == 1, 2000);
	spin(&r, 200);
	assert_int_equal(n_disconnects, 1);
	assert_int_equal(count_field(&r, "controller", theirs), 0);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	assert_string_equal(last_hostid, HOSTID_A);
	stop(&r);
	close(hang_pipe[0]);
	close(hang_pipe[1]);
	hang_pipe[0] = hang_pipe[1] = -1;
	hang_addr[0] = '\0';
}

/* Our path's controller goes without an event and nvme-cli's, of another host ID, takes its
 * place: the resync after the lost events moves the path onto it, and connects it again with ours. */
static void manager_test_a_controller_a_resync_finds_in_the_place_of_ours_is_connected_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char cmd[256], theirs[32];
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start_as(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", HOSTID_A);
	settle(&r, 1);
	/* the subsystem's controller (the second made) goes; no loop iteration sees it gone */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/nvme/nvme1'", sysfs);
	assert_int_equal(system(cmd), 0);
	add_ctrl_with("tcp", "192.0.2.1", "4420", "nqn.2020-09.com.example:s1", HOSTNQN, HOSTID_B, theirs);
	manager_resync(r.m);
	RUN_UNTIL(&r, n_disconnects == 1 && count_state(&r, "io", "live") == 1, 2000);
	spin(&r, 200);
	assert_int_equal(n_disconnects, 1);
	assert_int_equal(count_field(&r, "controller", theirs), 0);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	assert_string_equal(last_hostid, HOSTID_A);
	stop(&r);
}

/* A discovery log read that fails (EIO) is tried again after the endpoint's
 * backoff: the log-change AEN fires once until the log is read with RAE
 * cleared, so no event would ever ask again. A read that keeps failing is
 * tried at growing intervals, never in a loop. */
static int log_failures_left;
static bool log_fails(int n _unused_, struct fabrics_result *ret)
{
	if (log_failures_left == 0)
		return false;
	if (log_failures_left > 0)
		log_failures_left--;
	ret->err = -EIO;
	return true;
}
static const struct fake_world failing_logs = { .log_refused = log_fails };

static void manager_test_a_failed_log_read_is_tried_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	fake_world = &failing_logs;
	log_failures_left = 2;
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	assert_int_equal(n_log_reads, 3);
	stop(&r);
}

/* The neighbour: it never answers; tried at growing intervals (10 ms up to 50 ms). */
static void manager_test_a_log_that_never_reads_is_tried_at_intervals(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	fake_world = &failing_logs;
	log_failures_left = -1;
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	spin(&r, 600);
	assert_int_equal(count_state(&r, "io", NULL), 0);
	assert_true(n_log_reads >= 6);
	assert_true(n_log_reads <= 20);
	stop(&r);
}

/* ---------------------------------------------------------------------- */
/* the kernel's names and refusals as they are */

/* Disconnects block until the test writes to disconnect_gate; the first one's name is kept. */
static int disconnect_gate[2] = { -1, -1 };
static char first_disconnect[32];
static void disconnect_waits(const char *ctrl)
{
	char c;

	pthread_mutex_lock(&lock);
	if (!first_disconnect[0])
		snprintf(first_disconnect, sizeof(first_disconnect), "%s", ctrl);
	pthread_mutex_unlock(&lock);
	if (read(disconnect_gate[0], &c, 1) < 0)
		return;
}
static const struct fake_world gated_disconnects = { .disconnect_begin = disconnect_waits };

static int ctrl_of(struct run *r, const char *nqn, char *name)
{
	struct json_object *st = manager_status_json(r->m), *paths = json_object_object_get(st, "paths");
	int found = -1;

	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *p = json_object_array_get_idx(paths, i);
		const char *c = json_object_get_string(json_object_object_get(p, "controller"));

		if (c && streq_ptr(json_object_get_string(json_object_object_get(p, "subsysnqn")), nqn)) {
			snprintf(name, 32, "%s", c);
			found = ctrl_number(c);
		}
	}
	json_object_put(st);
	return found;
}

/* The fake kernel's controllers with host ID HOSTID (NULL: all). */
static int alive_with_hostid(const char *hostid)
{
	int n = 0;

	pthread_mutex_lock(&lock);
	for (int i = 0; i < next_ctrl; i++)
		n += fake_ctrl_alive(i) && (!hostid || streq(ctrls[i].hostid, hostid));
	pthread_mutex_unlock(&lock);
	return n;
}

/* A disconnect that waited in its lane while its controller went (the
 * kernel's ctrl_loss_tmo) and the kernel gave the name to the next
 * controller it made: that controller, nvme-cli's here, stays. */
static void manager_test_a_queued_disconnect_never_hits_a_reused_name(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char c1[32], c2[32], theirs[32];
	int queued;
	struct run r;

	fake_reuse_names = true;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s2");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 2);
	assert_true(ctrl_of(&r, "nqn.2020-09.com.example:s1", c1) >= 0);
	assert_true(ctrl_of(&r, "nqn.2020-09.com.example:s2", c2) >= 0);
	assert_int_equal(pipe(disconnect_gate), 0);
	first_disconnect[0] = '\0';
	fake_world = &gated_disconnects;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:none]}\n", HOSTNQN, "");
	RUN_UNTIL(&r, first_disconnect[0], 1000);
	spin(&r, 50);
	/* the one still queued goes by itself, and its name is taken at once */
	queued = streq(first_disconnect, c1) ? ctrl_number(c2) : ctrl_number(c1);
	pthread_mutex_lock(&lock);
	fake_ctrl_remove(queued);
	pthread_mutex_unlock(&lock);
	add_ctrl("tcp", "192.0.2.1", "4420", "nqn.2020-09.com.example:s9", theirs);
	assert_int_equal(ctrl_number(theirs), queued);
	assert_int_equal(write(disconnect_gate[1], "xx", 2), 2);
	RUN_UNTIL(&r, count_state(&r, "io", NULL) == 0, 2000);
	spin(&r, 100);
	assert_true(fake_ctrl_alive(queued)); /* nvme-cli's */
	assert_int_equal(count_state(&r, "io", NULL), 0);
	stop(&r);
	close(disconnect_gate[0]);
	close(disconnect_gate[1]);
}

/* A disconnect the kernel refuses (EBUSY: the controller never started) is
 * not taken as done: the path stays disconnecting and asks again. */
static int disconnect_refusals_left;
static bool disconnect_busy(int n _unused_, struct fabrics_result *ret)
{
	if (disconnect_refusals_left <= 0)
		return false;
	disconnect_refusals_left--;
	ret->err = -EBUSY;
	return true;
}
static const struct fake_world busy_disconnects = { .disconnect_refused = disconnect_busy };

static void manager_test_a_refused_disconnect_is_tried_again(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char c1[32];
	int n;
	struct run r;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	n = ctrl_of(&r, "nqn.2020-09.com.example:s1", c1);
	assert_true(n >= 0);
	fake_world = &busy_disconnects;
	disconnect_refusals_left = 2;
	n_disconnects = 0;
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009, subsystems: [nqn.2020-09.com.example:none]}\n", HOSTNQN, "");
	RUN_UNTIL(&r, count_state(&r, "io", NULL) == 0, 2000);
	spin(&r, 100);
	assert_false(fake_ctrl_alive(n));
	assert_int_equal(n_disconnects, 3);
	assert_int_equal(count_state(&r, "io", NULL), 0);
	stop(&r);
}

/* With disconnect_on_stop the stop ends when the last controller is gone,
 * not when as many disconnects have returned; a reload meanwhile is refused. */
static bool stopped_flag;
static void on_stopped(void *userdata _unused_)
{
	stopped_flag = true;
}

static void manager_test_a_stop_waits_for_every_controller(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	const struct inv_host *h;
	struct inventory *inv;
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct run r;

	opt_disconnect_on_stop = true;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s2");
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 2);
	fake_world = &busy_disconnects;
	disconnect_refusals_left = 2;
	stopped_flag = false;
	manager_stop(r.m, on_stopped, NULL);
	inv = host_inventory("      - {traddr: 192.0.2.1, trsvcid: 8009}\n", &h);
	assert_int_equal(manager_reload(r.m, inv, h, &id), -ESHUTDOWN);
	RUN_UNTIL(&r, stopped_flag, 3000);
	assert_true(stopped_flag);
	assert_int_equal(alive_with_hostid(NULL), 0);
	stop(&r);
}

static void disconnect_slowly(const char *ctrl _unused_)
{
	usleep(30000);
}
static const struct fake_world slow_disconnects = { .disconnect_begin = disconnect_slowly };


/* The kernel takes one host ID per host NQN while a controller holds it
 * (6.5 and later): a new host ID reaches every path although the first
 * connects as the new host are refused while the old controllers remain. */
static void manager_test_a_new_host_id_reaches_every_path_past_the_kernels_refusals(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	int ms;

	fake_one_hostid_per_hostnqn = true;
	fake_world = &slow_disconnects; /* the first connects as the new host come while old controllers remain */
	inv_backoff = "{initial: 10ms, max: 60s}";
	for (int i = 1; i <= 4; i++) {
		char nqn[64];

		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:s%d", i);
		lists(a, 2, "192.0.2.1", "4420", nqn);
	}
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 4);
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n", HOSTNQN, "00000000-0000-0000-0000-0000000000aa");
	ms = RUN_UNTIL(&r, alive_with_hostid("00000000-0000-0000-0000-0000000000aa") == 5 &&
				   count_state(&r, "io", "live") == 4,
		       3000);
	assert_true(ms >= 0);
	assert_int_equal(alive_with_hostid(NULL), 5);
	assert_int_equal(count_state(&r, "io", "failed"), 0);
	assert_int_equal(count_state(&r, "discovery", "live"), 1);
	assert_int_equal(count_field(&r, "persistent", "false"), 0); /* no fall back to one-shot discovery */

	/* the neighbour: a new host NQN under the same host ID ("found same hostid") */
	reload_to(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n",
		  "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002", "00000000-0000-0000-0000-0000000000aa");
	ms = RUN_UNTIL(&r, count_state(&r, "io", "live") == 4 && streq(last_hostnqn, inv_hostnqn) &&
				   alive_with_hostid(NULL) == 5,
		       3000);
	assert_true(ms >= 0);
	assert_int_equal(count_state(&r, "io", "failed"), 0);
	assert_int_equal(count_field(&r, "persistent", "false"), 0);
	stop(&r);
}

/* A namespace the kernel drops while its controller stays live is lost:
 * said in status (the path not plain live), counted, never scanned for by
 * itself; nvmfctl rescan asks the kernel and clears the list. One that goes
 * with a controller on its way out is not lost. */
static struct json_object *io_path(struct json_object *st)
{
	struct json_object *paths = json_object_object_get(st, "paths");

	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *o = json_object_array_get_idx(paths, i);

		if (streq(json_object_get_string(json_object_object_get(o, "kind")), "io"))
			return o;
	}
	return NULL;
}

static int lost_count(struct run *r, int *total)
{
	struct json_object *st = manager_status_json(r->m), *o = io_path(st);
	int n = (int)json_object_array_length(json_object_object_get(o, "namespaces_lost"));

	*total = json_object_get_int(json_object_object_get(o, "namespaces_lost_total"));
	json_object_put(st);
	return n;
}

static void manager_test_a_namespace_dropped_under_a_live_controller_is_lost(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	char cmd[512], *v = NULL;
	int total, n;
	struct run r;
	FILE *f;

	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	snprintf(cmd, sizeof(cmd), "mkdir -p %s/class/nvme-subsystem/nvme-subsys1/nvme1 && cd %s/class/nvme-subsystem/nvme-subsys1 && "
		 "mkdir nvme1n1 nvme1n2 nvme1n3", sysfs, sysfs);
	assert_int_equal(system(cmd), 0);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	settle(&r, 1);
	assert_int_equal(lost_count(&r, &total), 0);
	snprintf(cmd, sizeof(cmd), "rmdir %s/class/nvme-subsystem/nvme-subsys1/nvme1n2", sysfs);
	assert_int_equal(system(cmd), 0);
	manager_resync(r.m);
	spin(&r, 50);
	assert_int_equal(lost_count(&r, &total), 1);
	assert_int_equal(total, 1);
	assert_int_equal(count_state(&r, "io", "live"), 1);
	/* it comes back (the target exported it again, same identity): no longer lost */
	snprintf(cmd, sizeof(cmd), "mkdir %s/class/nvme-subsystem/nvme-subsys1/nvme1n2", sysfs);
	assert_int_equal(system(cmd), 0);
	manager_resync(r.m);
	spin(&r, 50);
	assert_int_equal(lost_count(&r, &total), 0);
	assert_int_equal(total, 1);
	/* lost again; the admin asks for a scan */
	snprintf(cmd, sizeof(cmd), "rmdir %s/class/nvme-subsystem/nvme-subsys1/nvme1n2", sysfs);
	assert_int_equal(system(cmd), 0);
	manager_resync(r.m);
	spin(&r, 50);
	assert_int_equal(lost_count(&r, &total), 1);
	assert_int_equal(total, 2);
	n = (int)manager_rescan(r.m, "nqn.2020-09.com.example:s1");
	assert_int_equal(n, 1);
	assert_int_equal(lost_count(&r, &total), 0);
	snprintf(cmd, sizeof(cmd), "%s/class/nvme/nvme1/rescan_controller", sysfs);
	f = fopen(cmd, "re");
	assert_non_null(f);
	assert_true(getline(&v, &(size_t){ 0 }, f) > 0);
	fclose(f);
	assert_string_equal(v, "1");
	free(v);
	assert_int_equal(manager_rescan(r.m, "nqn.2020-09.com.example:none"), 0);
	/* the neighbour: the controller is on its way out; its namespaces go first */
	fake_ctrl_put(1, "state", "deleting");
	snprintf(cmd, sizeof(cmd), "rmdir %s/class/nvme-subsystem/nvme-subsys1/nvme1n3", sysfs);
	assert_int_equal(system(cmd), 0);
	manager_resync(r.m);
	spin(&r, 50);
	assert_int_equal(lost_count(&r, &total), 0);
	assert_int_equal(total, 2);
	stop(&r);
}

/* The kernel makes one controller at a time: when subsystems come back one
 * by one, the first path of each goes before the second paths of the others
 * (every namespace is there sooner). s1 is listed by two discovery
 * controllers; while its first connect is in the kernel, s2 is listed too:
 * s2's first path goes before s1's second. */
static char attempts[16][320];
static int n_attempts;
/* Each I/O connect, in the order the kernel takes them, and slow. */
static void connect_slowly(const struct fabrics_connect_args *a)
{
	if (a->discovery)
		return;
	pthread_mutex_lock(&lock);
	if (n_attempts < 16)
		snprintf(attempts[n_attempts++], sizeof(attempts[0]), "%s@%s",
			 a->id.subsysnqn + strlen("nqn.2020-09.com.example:"), a->id.traddr);
	pthread_mutex_unlock(&lock);
	usleep(150000);
}
static const struct fake_world one_at_a_time = { .connect_begin = connect_slowly };

static void manager_test_the_first_path_of_each_subsystem_goes_first(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1"), *b = fake_dc("192.0.2.2");
	struct run r;

	n_attempts = 0;
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s1");
	lists(b, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:s1");
	fake_world = &one_at_a_time;
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n      - {traddr: 192.0.2.2, trsvcid: 8009}\n");
	RUN_UNTIL(&r, n_attempts >= 1, 3000);
	spin(&r, 50); /* both logs read; s1's second path queued behind its first */
	pthread_mutex_lock(&lock);
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:s2");
	lists(b, 2, "192.0.2.2", "4420", "nqn.2020-09.com.example:s2");
	a->genctr++;
	b->genctr++;
	pthread_mutex_unlock(&lock);
	manager_rediscover(r.m, NULL);
	settle(&r, 4);
	assert_int_equal(n_attempts, 4);
	assert_true(strncmp(attempts[0], "s1@", 3) == 0);
	if (strncmp(attempts[1], "s2@", 3) != 0)
		fail_msg("connects in the order %s %s %s %s: s1's second path went before s2's first", attempts[0],
			 attempts[1], attempts[2], attempts[3]);
	stop(&r);
}

/* A stop with disconnect_on_stop while connects wait in the lane: those not
 * begun never begin (each path stops at once); the one in the kernel is
 * disconnected when it returns, and then the stop ends. */
static void manager_test_a_stop_skips_the_connects_not_begun(void **state _unused_)
{
	struct fake_dc *a = fake_dc("192.0.2.1");
	struct run r;
	int connects;

	opt_disconnect_on_stop = true;
	lists(a, 2, "192.0.2.9", "4420", "nqn.2020-09.com.example:hangs");
	lists(a, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:waits");
	snprintf(hang_addr, sizeof(hang_addr), "192.0.2.9");
	assert_int_equal(pipe(hang_pipe), 0);
	start(&r, "      - {traddr: 192.0.2.1, trsvcid: 8009}\n");
	RUN_UNTIL(&r, count_state(&r, "io", "connecting") == 2, 2000);
	spin(&r, 50);
	connects = n_connects;
	stopped_flag = false;
	manager_stop(r.m, on_stopped, NULL);
	spin(&r, 100);
	assert_false(stopped_flag); /* the hanging one is still in the kernel */
	assert_int_equal(write(hang_pipe[1], "x", 1), 1); /* the kernel lets go */
	RUN_UNTIL(&r, stopped_flag, 3000);
	assert_true(stopped_flag);
	assert_int_equal(n_connects - connects, 1); /* the waiting one never connected */
	assert_int_equal(alive_with_hostid(NULL), 0);
	stop(&r);
	close(hang_pipe[0]);
	close(hang_pipe[1]);
	hang_pipe[0] = hang_pipe[1] = -1;
	hang_addr[0] = '\0';
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(manager_test_connects_what_logs_list_and_visits_each_referral_once, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_referral_chains_stop_at_depth_eight, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_adopts_what_exists_without_connecting, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_reload_applies_only_the_difference, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_never_a_second_controller_for_a_path, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_falls_back_to_one_shot_discovery, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_hanging_connect_is_stuck_and_blocks_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_resync_finds_what_events_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_subsystem_listed_again_connects_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_an_unchanged_log_is_not_taken_again, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_log_reads_coalesce, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_log_read_that_found_no_memory_is_made_later, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_the_first_path_of_each_subsystem_goes_first, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_silent_port_holds_the_retries, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_failed_log_read_is_tried_again, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_log_that_never_reads_is_tried_at_intervals, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_queued_disconnect_never_hits_a_reused_name, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_refused_disconnect_is_tried_again, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_stop_waits_for_every_controller, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_stop_skips_the_connects_not_begun, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_new_host_id_reaches_every_path_past_the_kernels_refusals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(manager_test_reload_narrows_and_widens_the_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_reload_moves_to_a_new_host_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_referrals_survive_rereads, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_status_lists_every_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_namespace_dropped_under_a_live_controller_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_failed_new_leaves_the_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_free_in_any_order, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_an_unreadable_key_fails_the_connect_saying_why, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_an_adopted_controller_of_another_host_id_is_connected_again, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_controller_found_by_ealready_with_another_host_id_is_connected_again,
						setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_controller_a_resync_finds_in_the_place_of_ours_is_connected_again,
						setup, teardown),
	};
	return cmocka_run_group_tests_name("manager", tests, NULL, NULL);
}
