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
	uint64_t genctr;        /* the log's generation counter */
	struct fake_entry e[40];
	int n;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
/* A connect to HANG_ADDR blocks, as the kernel's can, until hang_release is written. */
static char hang_addr[32];
static int hang_pipe[2] = { -1, -1 };
static struct fake_dc dcs[16];
static int n_dcs;
static int n_connects, n_disc_connects, n_disconnects, n_log_reads;
/* Subsystems the target does not export now: a connect is refused as the kernel says it. */
static char unexported[8][64];
/* A connect to HANG_ADDR fails (ECONNREFUSED) rather than succeed once released. */
static bool hang_fails;
/* A connect to REFUSE_ADDR is refused at once, as by a port nothing listens on. */
static char refuse_addr[32];
/* A log read blocks until log_release is written. */
static int log_pipe[2] = { -1, -1 };
static char last_hostid[40], last_hostnqn[224];
/* What host_inventory() writes into the host entry; setup() resets them. */
static const char *inv_backoff = "{initial: 10ms, max: 50ms}";
static const char *inv_hostnqn = HOSTNQN;
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
static void add_ctrl_as(const char *transport, const char *traddr, const char *trsvcid, const char *nqn,
		       const char *hostnqn, char *name)
{
	char addr[128];

	snprintf(name, 32, "nvme%d", next_ctrl++);
	snprintf(addr, sizeof(addr), "traddr=%s,trsvcid=%s", traddr, trsvcid);
	sysfs_put(name, "transport", transport);
	sysfs_put(name, "address", addr);
	sysfs_put(name, "subsysnqn", nqn);
	sysfs_put(name, "hostnqn", hostnqn);
	sysfs_put(name, "state", "live");
}

static void add_ctrl(const char *transport, const char *traddr, const char *trsvcid, const char *nqn, char *name)
{
	add_ctrl_as(transport, traddr, trsvcid, nqn, HOSTNQN, name);
}

static bool ctrl_exists(const struct ident *id)
{
	for (int i = 0; i < next_ctrl; i++) {
		char p[256], buf[256];
		FILE *f;
		bool same = true;
		static const char *const attrs[] = { "transport", "address", "subsysnqn", "hostnqn" };

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
	    (read(hang_pipe[0], &c, 1) < 0 || hang_fails)) {
		ret->err = -ECONNREFUSED;
		return;
	}
	if (refuse_addr[0] && streq(id.traddr, refuse_addr) && !a->discovery) {
		ret->err = -ECONNREFUSED;
		return;
	}
	pthread_mutex_lock(&lock);
	snprintf(last_hostid, sizeof(last_hostid), "%s", a->hostid);
	snprintf(last_hostnqn, sizeof(last_hostnqn), "%s", id.hostnqn);
	for (size_t i = 0; i < ARRAY_SIZE(unexported); i++)
		if (unexported[i][0] && streq(unexported[i], id.subsysnqn)) {
			ret->err = -EIO;
			snprintf(ret->kernel_log, sizeof(ret->kernel_log),
				 "nvme nvme%d: Connect Invalid Data Parameter, subsysnqn \"%s\"\n", next_ctrl, id.subsysnqn);
			pthread_mutex_unlock(&lock);
			return;
		}
	if (a->discovery)
		snprintf(id.subsysnqn, sizeof(id.subsysnqn), "%s", NQN_DISCOVERY);
	if (ctrl_exists(&id)) {
		ret->err = -EALREADY; /* the kernel's answer to a duplicate */
	} else if (a->discovery && !dc_at(id.traddr)) {
		ret->err = -ECONNREFUSED;
	} else if (a->discovery && a->persistent && dc_at(id.traddr)->refuse_persistent) {
		ret->err = -EINVAL;
	} else {
		add_ctrl_as(id.transport, id.traddr, id.trsvcid, id.subsysnqn, id.hostnqn, ret->ctrl);
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
	if (log_pipe[0] >= 0) {
		char c;

		if (read(log_pipe[0], &c, 1) < 0)
			ret->err = -EIO;
	}
	pthread_mutex_lock(&lock);
	n_log_reads++;
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
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(dc->genctr >> (8 * i));
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
	n_dcs = n_connects = n_disc_connects = n_disconnects = next_ctrl = n_log_reads = 0;
	memset(unexported, 0, sizeof(unexported));
	hang_fails = false;
	refuse_addr[0] = '\0';
	inv_backoff = "{initial: 10ms, max: 50ms}";
	inv_hostnqn = HOSTNQN;
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
		cmocka_unit_test_setup_teardown(manager_test_reload_narrows_and_widens_the_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_reload_moves_to_a_new_host_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_referrals_survive_rereads, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_status_lists_every_namespace, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_a_failed_new_leaves_the_inventory, setup, teardown),
		cmocka_unit_test_setup_teardown(manager_test_free_in_any_order, setup, teardown),
	};
	return cmocka_run_group_tests_name("manager", tests, NULL, NULL);
}
