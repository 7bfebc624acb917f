/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager with its loop and worker, over a fake fabric: the three
 * adapter calls are replaced at link time (-Wl,--wrap=fabrics_connect,...)
 * by a model of discovery controllers and subsystems that keeps its
 * controllers in a temporary sysfs tree, and answers a duplicate connect
 * with EALREADY as the kernel does.
 */
#include "cmocka-prelude.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/discovery.h"
#include "kernel/fabrics.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"
#include "base/macro.h"
#include "daemon/manager.h"
#include "base/nqn.h"

void __wrap_fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret);
void __wrap_fabrics_disconnect(const char *ctrl, struct fabrics_result *ret);
void __wrap_fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret);

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

/* A discovery controller of the fake fabric, at ADDR:8009, and what its log lists. */
struct fake_entry {
	int subtype; /* 1 referral, 2 subsystem */
	char traddr[32], trsvcid[8], nqn[64];
};
struct fake_dc {
	char traddr[32];
	bool refuse_persistent; /* answers a discovery connect with keep-alive with EINVAL */
	struct fake_entry e[8];
	int n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* A connect to HANG_ADDR blocks, as the kernel's can, until hang_release is written. */
static char hang_addr[32];
static int hang_pipe[2] = { -1, -1 };
static struct fake_dc dcs[16];
static int n_dcs;
static int n_connects, n_disc_connects, n_disconnects;
static int next_ctrl;
static char sysfs[] = "/tmp/nvmfd-msys-XXXXXX";

static void sysfs_put(const char *ctrl, const char *attr, const char *value)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/class/nvme/%s", sysfs, ctrl);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/class/nvme/%s/%s", sysfs, ctrl, attr);
	f = fopen(p, "we");
	if (f) {
		fprintf(f, "%s\n", value);
		fclose(f);
	}
}

/* A controller in the fake sysfs; returns its name. */
static void add_ctrl(const char *transport, const char *traddr, const char *trsvcid, const char *nqn, char *name)
{
	char addr[128];

	snprintf(name, 32, "nvme%d", next_ctrl++);
	snprintf(addr, sizeof(addr), "traddr=%s,trsvcid=%s", traddr, trsvcid);
	sysfs_put(name, "transport", transport);
	sysfs_put(name, "address", addr);
	sysfs_put(name, "subsysnqn", nqn);
	sysfs_put(name, "hostnqn", HOSTNQN);
	sysfs_put(name, "state", "live");
}

static bool ctrl_exists(const struct ident *id)
{
	for (int i = 0; i < next_ctrl; i++) {
		char p[256], buf[256];
		FILE *f;
		bool same = true;
		static const char *const attrs[] = { "transport", "address", "subsysnqn" };

		for (size_t k = 0; k < ARRAY_SIZE(attrs) && same; k++) {
			snprintf(p, sizeof(p), "%s/class/nvme/nvme%d/%s", sysfs, i, attrs[k]);
			f = fopen(p, "re");
			if (!f) {
				same = false;
				break;
			}
			buf[0] = '\0';
			if (fgets(buf, sizeof(buf), f))
				buf[strcspn(buf, "\n")] = '\0';
			fclose(f);
			if (k == 0)
				same = streq(buf, id->transport);
			else if (k == 1) {
				char want[128];

				snprintf(want, sizeof(want), "traddr=%s,trsvcid=%s", id->traddr, id->trsvcid);
				same = streq(buf, want);
			} else
				same = streq(buf, id->subsysnqn);
		}
		if (same)
			return true;
	}
	return false;
}

static struct fake_dc *dc_at(const char *traddr)
{
	for (int i = 0; i < n_dcs; i++)
		if (streq(dcs[i].traddr, traddr))
			return &dcs[i];
	return NULL;
}

void __wrap_fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret)
{
	struct ident id = a->id;
	char c;

	*ret = (struct fabrics_result){ 0 };
	if (hang_addr[0] && streq(id.traddr, hang_addr) && !a->discovery && hang_pipe[0] >= 0 &&
	    read(hang_pipe[0], &c, 1) < 0)
		ret->err = -EIO;
	pthread_mutex_lock(&lock);
	if (a->discovery)
		snprintf(id.subsysnqn, sizeof(id.subsysnqn), "%s", NQN_DISCOVERY);
	if (ctrl_exists(&id)) {
		ret->err = -EALREADY; /* the kernel's answer to a duplicate */
	} else if (a->discovery && !dc_at(id.traddr)) {
		ret->err = -ECONNREFUSED;
	} else if (a->discovery && a->persistent && dc_at(id.traddr)->refuse_persistent) {
		ret->err = -EINVAL;
	} else {
		add_ctrl(id.transport, id.traddr, id.trsvcid, id.subsysnqn, ret->ctrl);
		n_connects++;
		n_disc_connects += a->discovery;
	}
	pthread_mutex_unlock(&lock);
}

void __wrap_fabrics_disconnect(const char *ctrl, struct fabrics_result *ret)
{
	char cmd[256];

	*ret = (struct fabrics_result){ 0 };
	pthread_mutex_lock(&lock);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/nvme/%s'", sysfs, ctrl);
	if (system(cmd) != 0)
		ret->err = -EIO;
	n_disconnects++;
	pthread_mutex_unlock(&lock);
}

void __wrap_fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret)
{
	char p[256], addr[128] = "";
	FILE *f;
	struct fake_dc *dc;
	uint8_t *b;

	*ret = (struct fabrics_result){ 0 };
	pthread_mutex_lock(&lock);
	snprintf(p, sizeof(p), "%s/class/nvme/%s/address", sysfs, ctrl);
	f = fopen(p, "re");
	if (f) {
		if (!fgets(addr, sizeof(addr), f))
			addr[0] = '\0';
		fclose(f);
	}
	addr[strcspn(addr, ",")] = '\0';
	dc = dc_at(addr + strlen("traddr="));
	if (!dc) {
		ret->err = -ENODEV;
		pthread_mutex_unlock(&lock);
		return;
	}
	*len = DISC_HEADER_SIZE + (size_t)dc->n * DISC_ENTRY_SIZE;
	b = calloc(1, *len);
	b[8] = (uint8_t)dc->n;
	for (int i = 0; i < dc->n; i++) {
		uint8_t *e = b + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE;

		e[0] = 3; /* tcp */
		e[1] = 1; /* ipv4 */
		e[2] = (uint8_t)dc->e[i].subtype;
		memcpy(e + 32, dc->e[i].trsvcid, strlen(dc->e[i].trsvcid));
		memcpy(e + 256, dc->e[i].nqn, strlen(dc->e[i].nqn));
		memcpy(e + 512, dc->e[i].traddr, strlen(dc->e[i].traddr));
	}
	*raw = b;
	pthread_mutex_unlock(&lock);
}

static struct fake_dc *fake_dc(const char *traddr)
{
	struct fake_dc *d = &dcs[n_dcs++];

	*d = (struct fake_dc){ 0 };
	snprintf(d->traddr, sizeof(d->traddr), "%s", traddr);
	return d;
}

static void lists(struct fake_dc *d, int subtype, const char *traddr, const char *trsvcid, const char *nqn)
{
	struct fake_entry *e = &d->e[d->n++];

	e->subtype = subtype;
	snprintf(e->traddr, sizeof(e->traddr), "%s", traddr);
	snprintf(e->trsvcid, sizeof(e->trsvcid), "%s", trsvcid);
	snprintf(e->nqn, sizeof(e->nqn), "%s", nqn);
}

static int setup(void **state _unused_)
{
	char p[128];

	strcpy(sysfs, "/tmp/nvmfd-msys-XXXXXX");
	if (!mkdtemp(sysfs))
		return -1;
	snprintf(p, sizeof(p), "%s/class", sysfs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/class/nvme", sysfs);
	mkdir(p, 0755);
	n_dcs = n_connects = n_disc_connects = n_disconnects = next_ctrl = 0;
	return 0;
}

static int teardown(void **state _unused_)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sysfs);
	return system(cmd);
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
		 "defaults:\n  transport: tcp\n  backoff: {initial: 10ms, max: 50ms}\n"
		 "hosts:\n  - name: h\n    hostnqn: " HOSTNQN "\n    connect:\n%s",
		 connect_lines);
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
	struct manager_options o = { .sysfs = sysfs, .audit_interval = 20 * USEC_PER_MSEC, .stuck_after = 300 * USEC_PER_MSEC };

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
	};
	return cmocka_run_group_tests_name("manager", tests, NULL, NULL);
}
