/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake fabric of the manager's tests (include after cmocka-prelude.h,
 * in one test file): the three adapter calls are replaced at link time
 * (-Wl,--wrap=fabrics_connect,...) by a model of discovery controllers and
 * subsystems. Its controllers are kept in a table and shown, as the kernel
 * shows them, in a temporary sysfs tree; each appears and goes whole (built
 * aside, then renamed in), as a device does, so the manager never reads half
 * of one. A duplicate connect, on the full identity, is answered with
 * EALREADY as the kernel does (nvmf_ip_options_match).
 *
 * A test that needs more of a world (ports that go down, slow connects, a
 * kernel that reconnects) hangs its own model on fake_world: the calls ask
 * it, under the fake's lock, before they answer.
 */
#pragma once

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "core/discovery.h"
#include "core/ident.h"
#include "kernel/fabrics.h"

void __wrap_fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret);
void __wrap_fabrics_disconnect(const char *ctrl, struct fabrics_result *ret);
void __wrap_fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret);

/* What the kernel takes when a connect names no host ID (its default host's). */
#define FAKE_DEFAULT_HOSTID "00000000-0000-0000-0000-00000000def0"

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

/* A controller as the fake kernel keeps it: nvmeN is ctrls[N]. */
struct fake_ctrl {
	bool exists;
	struct ident id;
	char hostid[40];
};

/* A richer world's answers; every hook is optional and runs under the lock
 * but for the *_begin ones, which run before it (a slow call sleeps there). */
struct fake_world {
	/* true: the call fails at once, RET filled in (its caller is on its way out) */
	bool (*cut_off)(struct fabrics_result *ret);
	void (*connect_begin)(const struct fabrics_connect_args *a);
	/* every connect the kernel sees, before it checks for a duplicate */
	void (*connect_attempt)(const struct fabrics_connect_args *a, const struct ident *id);
	/* true: refused, RET filled in */
	bool (*connect_refused)(const struct fabrics_connect_args *a, const struct ident *id, struct fabrics_result *ret);
	void (*created)(const struct fabrics_connect_args *a, int n);
	void (*disconnect_begin)(const char *ctrl);
	void (*removed)(int n);
	/* true: the read fails, RET filled in */
	bool (*log_refused)(int n, struct fabrics_result *ret);
	/* true: the disconnect fails, RET filled in (the kernel's EBUSY for a controller that never started) */
	bool (*disconnect_refused)(int n, struct fabrics_result *ret);
	void (*log_served)(int n, const struct fake_dc *dc);
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
static int next_ctrl;
static struct fake_ctrl *ctrls;
static int ctrls_cap;
/* Calls under way in the fake kernel, from any lane of any manager. */
static int fake_in_flight;
static const struct fake_world *fake_world;
/* Name controllers as the kernel does, with the lowest free instance number
 * (a test that wants it sets it; names otherwise never repeat). */
static bool fake_reuse_names;
/* The kernel's one host ID per host NQN and one host NQN per host ID while
 * any controller holds them (6.5 and later, nvmf_host_add). */
static bool fake_one_hostid_per_hostnqn;
static char sysfs[] = "/tmp/nvmfd-msys-XXXXXX";

/* Counts the call in; false when the world cuts it off. */
static bool fake_call_begin(struct fabrics_result *ret)
{
	bool cut;

	pthread_mutex_lock(&lock);
	fake_in_flight++;
	cut = fake_world && fake_world->cut_off && fake_world->cut_off(ret);
	if (cut)
		fake_in_flight--;
	pthread_mutex_unlock(&lock);
	return !cut;
}

static void fake_call_end(void)
{
	pthread_mutex_lock(&lock);
	fake_in_flight--;
	pthread_mutex_unlock(&lock);
}

static void write_file(const char *path, const char *value)
{
	FILE *f = fopen(path, "we");

	if (f) {
		fprintf(f, "%s\n", value);
		fclose(f);
	}
}

static void rm_tree(const char *path)
{
	_cleanup_(closedirp) DIR *d = opendir(path);
	struct dirent *de;
	char p[512];

	while (d && (de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (unlink(p) < 0)
			rm_tree(p);
	}
	rmdir(path);
}

static void ctrl_dir(int n, char *buf, size_t size)
{
	snprintf(buf, size, "%s/class/nvme/nvme%d", sysfs, n);
}

/* A controller's attribute, replaced whole (a sysfs read sees the old value or the new). */
_unused_ static void fake_ctrl_put(int n, const char *attr, const char *value)
{
	char dir[256], tmp[300], p[300];

	ctrl_dir(n, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s/.%s", dir, attr);
	snprintf(p, sizeof(p), "%s/%s", dir, attr);
	write_file(tmp, value);
	rename(tmp, p);
}

static bool fake_ctrl_alive(int n);

static int fake_free_number(void)
{
	char dir[256];
	struct stat st;

	for (int i = 0; fake_reuse_names && i < next_ctrl; i++) {
		ctrl_dir(i, dir, sizeof(dir));
		if (!fake_ctrl_alive(i) && stat(dir, &st) < 0)
			return i;
	}
	return next_ctrl++;
}

/* Controller ID with host ID HOSTID ("": the kernel's), live, into *RET_N and NAME. */
static void fake_ctrl_add(const struct ident *id, const char *hostid, int *ret_n, char *name)
{
	char dir[300], p[400], addr[256];
	int n = fake_free_number();
	static const char *const attrs[] = { "transport", "address", "subsysnqn", "hostnqn", "hostid", "state",
					     "rescan_controller" };
	const char *values[ARRAY_SIZE(attrs)] = { id->transport, addr, id->subsysnqn, id->hostnqn,
						  hostid[0] ? hostid : FAKE_DEFAULT_HOSTID, "live", "" };

	if (n >= ctrls_cap) {
		int cap = ctrls_cap ? ctrls_cap * 2 : 64;

		ctrls = realloc(ctrls, (size_t)cap * sizeof(*ctrls));
		assert_non_null(ctrls);
		memset(ctrls + ctrls_cap, 0, (size_t)(cap - ctrls_cap) * sizeof(*ctrls));
		ctrls_cap = cap;
	}
	ctrls[n] = (struct fake_ctrl){ .exists = true, .id = *id };
	snprintf(ctrls[n].hostid, sizeof(ctrls[n].hostid), "%s", values[4]);
	snprintf(addr, sizeof(addr), "traddr=%s,trsvcid=%s%s%s%s%s", id->traddr, id->trsvcid,
		 id->host_traddr[0] ? ",host_traddr=" : "", id->host_traddr, id->host_iface[0] ? ",host_iface=" : "",
		 id->host_iface);
	snprintf(dir, sizeof(dir), "%s/.fake/nvme%d", sysfs, n);
	mkdir(dir, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, attrs[i]);
		write_file(p, values[i]);
	}
	ctrl_dir(n, p, sizeof(p));
	rename(dir, p);
	if (ret_n)
		*ret_n = n;
	snprintf(name, 32, "nvme%d", n);
}

static int ctrl_number(const char *ctrl)
{
	int n = -1;

	return sscanf(ctrl, "nvme%d", &n) == 1 ? n : -1;
}

/* A controller in the fake sysfs, connected with HOSTID ("": the kernel's); returns its name. */
static void add_ctrl_with(const char *transport, const char *traddr, const char *trsvcid, const char *nqn,
			  const char *hostnqn, const char *hostid, char *name)
{
	struct ident id = { 0 };

	snprintf(id.transport, sizeof(id.transport), "%s", transport);
	snprintf(id.traddr, sizeof(id.traddr), "%s", traddr);
	snprintf(id.trsvcid, sizeof(id.trsvcid), "%s", trsvcid);
	snprintf(id.subsysnqn, sizeof(id.subsysnqn), "%s", nqn);
	snprintf(id.hostnqn, sizeof(id.hostnqn), "%s", hostnqn);
	pthread_mutex_lock(&lock);
	fake_ctrl_add(&id, hostid, NULL, name);
	pthread_mutex_unlock(&lock);
}

_unused_ static void add_ctrl_as(const char *transport, const char *traddr, const char *trsvcid, const char *nqn,
				 const char *hostnqn, char *name)
{
	add_ctrl_with(transport, traddr, trsvcid, nqn, hostnqn, "", name);
}

/* The host ID the kernel shows for nvmeN. */
_unused_ static const char *ctrl_hostid(const char *ctrl)
{
	int n = ctrl_number(ctrl);

	return n >= 0 && n < next_ctrl ? ctrls[n].hostid : "";
}

/* Whether nvmeN is there; a test may have removed it behind the fake's back. */
static bool fake_ctrl_alive(int n)
{
	char dir[256];
	struct stat st;

	if (n < 0 || n >= next_ctrl || !ctrls[n].exists)
		return false;
	ctrl_dir(n, dir, sizeof(dir));
	if (stat(dir, &st) < 0)
		ctrls[n].exists = false;
	return ctrls[n].exists;
}

/* The controller with identity ID, or -1. */
static int fake_ctrl_find(const struct ident *id)
{
	for (int i = 0; i < next_ctrl; i++)
		if (ctrls[i].exists && ident_equal(&ctrls[i].id, id) && fake_ctrl_alive(i))
			return i;
	return -1;
}

/* nvmeN goes whole: out of class/nvme first, then away. */
static void fake_ctrl_remove(int n)
{
	char dir[256], away[256];

	ctrl_dir(n, dir, sizeof(dir));
	snprintf(away, sizeof(away), "%s/.fake/gone-nvme%d", sysfs, n);
	if (rename(dir, away) == 0)
		rm_tree(away);
	if (n >= 0 && n < next_ctrl)
		ctrls[n].exists = false;
}

static struct fake_dc *dc_at(const char *traddr)
{
	for (int i = 0; i < n_dcs; i++)
		if (streq(dcs[i].traddr, traddr))
			return &dcs[i];
	return NULL;
}

/* nvmf_host_add's refusal, before the transport looks for a duplicate. */
static bool host_conflict(const struct ident *id, const char *hostid, struct fabrics_result *ret)
{
	for (int i = 0; fake_one_hostid_per_hostnqn && i < next_ctrl; i++) {
		bool same_nqn, same_id;

		if (!fake_ctrl_alive(i))
			continue;
		same_nqn = streq(ctrls[i].id.hostnqn, id->hostnqn);
		same_id = strcasecmp(ctrls[i].hostid, hostid) == 0;
		if (same_nqn == same_id)
			continue;
		ret->err = -EINVAL;
		if (same_nqn)
			snprintf(ret->kernel_log, sizeof(ret->kernel_log),
				 "nvme_fabrics: found same hostnqn %s but different hostid %s\n", id->hostnqn, hostid);
		else
			snprintf(ret->kernel_log, sizeof(ret->kernel_log),
				 "nvme_fabrics: found same hostid %s but different hostnqn %s\n", hostid, id->hostnqn);
		return true;
	}
	return false;
}

/* The kernel's answer once the hangs and refusals a test set up have had their say. */
static void connect_locked(const struct fabrics_connect_args *a, struct fabrics_result *ret)
{
	struct ident id = a->id;
	int n;

	snprintf(last_hostid, sizeof(last_hostid), "%s", a->hostid);
	snprintf(last_hostnqn, sizeof(last_hostnqn), "%s", id.hostnqn);
	for (size_t i = 0; i < ARRAY_SIZE(unexported); i++)
		if (unexported[i][0] && streq(unexported[i], id.subsysnqn)) {
			ret->err = -EIO;
			snprintf(ret->kernel_log, sizeof(ret->kernel_log),
				 "nvme nvme%d: Connect Invalid Data Parameter, subsysnqn \"%s\"\n", next_ctrl, id.subsysnqn);
			return;
		}
	if (a->discovery)
		snprintf(id.subsysnqn, sizeof(id.subsysnqn), "%s", NQN_DISCOVERY);
	if (fake_world && fake_world->connect_attempt)
		fake_world->connect_attempt(a, &id);
	if (host_conflict(&id, a->hostid[0] ? a->hostid : FAKE_DEFAULT_HOSTID, ret))
		return;
	if (fake_ctrl_find(&id) >= 0) {
		ret->err = -EALREADY; /* the kernel's answer to a duplicate */
	} else if (fake_world && fake_world->connect_refused && fake_world->connect_refused(a, &id, ret)) {
		return;
	} else if (a->discovery && !dc_at(id.traddr)) {
		ret->err = -ECONNREFUSED;
	} else if (a->discovery && a->persistent && dc_at(id.traddr)->refuse_persistent) {
		ret->err = -EINVAL;
	} else {
		fake_ctrl_add(&id, a->hostid, &n, ret->ctrl);
		n_connects++;
		n_disc_connects += a->discovery;
		if (fake_world && fake_world->created)
			fake_world->created(a, n);
	}
}

void __wrap_fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret)
{
	char c;

	*ret = (struct fabrics_result){ 0 };
	if (hang_addr[0] && streq(a->id.traddr, hang_addr) && !a->discovery && hang_pipe[0] >= 0 &&
	    (read(hang_pipe[0], &c, 1) < 0 || hang_fails)) {
		ret->err = -ECONNREFUSED;
		return;
	}
	if (refuse_addr[0] && streq(a->id.traddr, refuse_addr) && !a->discovery) {
		ret->err = -ECONNREFUSED;
		return;
	}
	if (!fake_call_begin(ret))
		return;
	if (fake_world && fake_world->connect_begin)
		fake_world->connect_begin(a);
	pthread_mutex_lock(&lock);
	connect_locked(a, ret);
	pthread_mutex_unlock(&lock);
	fake_call_end();
}

void __wrap_fabrics_disconnect(const char *ctrl, struct fabrics_result *ret)
{
	char dir[256];
	int n = ctrl_number(ctrl);

	*ret = (struct fabrics_result){ 0 };
	if (!fake_call_begin(ret))
		return;
	if (fake_world && fake_world->disconnect_begin)
		fake_world->disconnect_begin(ctrl);
	pthread_mutex_lock(&lock);
	if (fake_ctrl_alive(n) && fake_world && fake_world->disconnect_refused && fake_world->disconnect_refused(n, ret)) {
		/* refused: the controller stays */
	} else if (fake_ctrl_alive(n)) {
		fake_ctrl_remove(n);
		if (fake_world && fake_world->removed)
			fake_world->removed(n);
	} else {
		/* made by the test itself, or gone already */
		snprintf(dir, sizeof(dir), "%s/class/nvme/%s", sysfs, ctrl);
		rm_tree(dir);
	}
	n_disconnects++;
	pthread_mutex_unlock(&lock);
	fake_call_end();
}

/* DC's log as the kernel hands it over: header and entries. */
static void *log_encode(const struct fake_dc *dc, size_t *len)
{
	uint8_t *b;

	*len = DISC_HEADER_SIZE + (size_t)dc->n * DISC_ENTRY_SIZE;
	b = calloc(1, *len);
	assert_non_null(b);
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
	return b;
}

static void read_log_locked(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret)
{
	int n = ctrl_number(ctrl);
	struct fake_dc *dc;

	n_log_reads++;
	dc = fake_ctrl_alive(n) ? dc_at(ctrls[n].id.traddr) : NULL;
	if (!dc) {
		ret->err = -ENODEV;
		return;
	}
	if (fake_world && fake_world->log_refused && fake_world->log_refused(n, ret))
		return;
	*raw = log_encode(dc, len);
	if (fake_world && fake_world->log_served)
		fake_world->log_served(n, dc);
}

void __wrap_fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret)
{
	*ret = (struct fabrics_result){ 0 };
	if (!fake_call_begin(ret))
		return;
	if (log_pipe[0] >= 0) {
		char c;

		if (read(log_pipe[0], &c, 1) < 0)
			ret->err = -EIO;
	}
	pthread_mutex_lock(&lock);
	read_log_locked(ctrl, raw, len, ret);
	pthread_mutex_unlock(&lock);
	fake_call_end();
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

/* A fresh fabric: an empty sysfs tree, no discovery controllers, nothing refused. */
static int fake_setup(void)
{
	char p[128];

	strcpy(sysfs, "/tmp/nvmfd-msys-XXXXXX");
	if (!mkdtemp(sysfs))
		return -1;
	snprintf(p, sizeof(p), "%s/class", sysfs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/class/nvme", sysfs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/.fake", sysfs);
	mkdir(p, 0755);
	n_dcs = n_connects = n_disc_connects = n_disconnects = next_ctrl = n_log_reads = 0;
	memset(unexported, 0, sizeof(unexported));
	hang_fails = false;
	refuse_addr[0] = '\0';
	fake_world = NULL;
	fake_reuse_names = fake_one_hostid_per_hostnqn = false;
	return 0;
}

static int fake_teardown(void)
{
	rm_tree(sysfs);
	free(ctrls);
	ctrls = NULL;
	ctrls_cap = 0;
	return 0;
}
