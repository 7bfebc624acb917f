/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Planning and applying against an emulated configfs: a temporary directory
 * where mkdir and rmdir are wrapped (-Wl,--wrap=mkdir,--wrap=rmdir) to act as
 * configfs does for nvmet: a new directory comes with its attribute files and
 * default groups; rmdir takes them away, and refuses while child items remain.
 */
#include "cmocka-prelude.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "inventory/inventory.h"
#include "base/macro.h"
#include "target/identity.h"
#include "target/nvmet.h"

int __real_mkdir(const char *path, mode_t mode);
int __real_rmdir(const char *path);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_rmdir(const char *path);

static char root[64];
static bool kernel_has_auth = true;

static void put(const char *dir, const char *name, const char *value)
{
	char p[PATH_MAX + NAME_MAX + 2];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs(value, f);
	fputc('\n', f);
	fclose(f);
}

static void sub(const char *dir, const char *name)
{
	char p[PATH_MAX + NAME_MAX + 2];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(__real_mkdir(p, 0755), 0);
}

/* The parent directory's name: what kind of item PATH is. */
static const char *parent_name(const char *path, char *buf)
{
	const char *end = strrchr(path, '/'), *start = end;

	while (start > path && start[-1] != '/')
		start--;
	memcpy(buf, start, (size_t)(end - start));
	buf[end - start] = '\0';
	return buf;
}

int __wrap_mkdir(const char *path, mode_t mode)
{
	char parent[NAME_MAX + 1];
	int r = __real_mkdir(path, mode);

	if (r < 0 || strncmp(path, root, strlen(root)) != 0 || !strstr(path, "/nvmet/"))
		return r;
	parent_name(path, parent);
	if (streq(parent, "hosts") && kernel_has_auth) {
		put(path, "dhchap_key", "");
		put(path, "dhchap_ctrl_key", "");
		put(path, "dhchap_hash", "hmac(sha256)");
		put(path, "dhchap_dhgroup", "null");
	} else if (streq(parent, "subsystems") && !strstr(path, "/ports/")) {
		put(path, "attr_allow_any_host", "0");
		put(path, "attr_serial", "5d2c4a3e1f0b9a87");
		put(path, "attr_version", "1.3");
		sub(path, "namespaces");
		sub(path, "allowed_hosts");
	} else if (streq(parent, "namespaces")) {
		put(path, "device_path", "");
		put(path, "device_uuid", "0f5e2d3c-0000-4000-8000-000000000001");
		put(path, "device_nguid", "00000000-0000-0000-0000-000000000000");
		put(path, "enable", "0");
	} else if (streq(parent, "ports")) {
		put(path, "addr_trtype", "");
		put(path, "addr_adrfam", "");
		put(path, "addr_traddr", "");
		put(path, "addr_trsvcid", "");
		put(path, "addr_treq", "not specified");
		sub(path, "subsystems");
		sub(path, "referrals");
	} else if (streq(parent, "referrals")) {
		put(path, "addr_trtype", "");
		put(path, "addr_adrfam", "");
		put(path, "addr_traddr", "");
		put(path, "addr_trsvcid", "");
		put(path, "addr_portid", "0");
		put(path, "enable", "0");
	}
	return 0;
}

int __wrap_rmdir(const char *path)
{
	DIR *d;
	struct dirent *de;

	if (strncmp(path, root, strlen(root)) != 0 || !strstr(path, "/nvmet/"))
		return __real_rmdir(path);
	d = opendir(path);
	if (!d)
		return -1;
	/* Default groups go with their item, but only when empty. */
	while ((de = readdir(d))) {
		char p[PATH_MAX + NAME_MAX + 2];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && __real_rmdir(p) < 0) {
			closedir(d);
			errno = ENOTEMPTY;
			return -1;
		}
	}
	rewinddir(d);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	return __real_rmdir(path);
}

static int setup(void **state _unused_)
{
	char p[PATH_MAX];

	snprintf(root, sizeof(root), "/tmp/nvmfd-cfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(p, sizeof(p), "%s/nvmet", root);
	assert_int_equal(__real_mkdir(p, 0755), 0);
	for (const char *const *d = (const char *const[]){ "hosts", "subsystems", "ports", NULL }; *d; d++)
		sub(p, *d);
	kernel_has_auth = true;
	return 0;
}

static int teardown(void **state _unused_)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define NQN1 "nqn.2020-09.com.example:vol1"
#define NQN2 "nqn.2020-09.com.example:vol2"

static const char base_yaml[] =
	"targets:\n"
	"  - name: t\n"
	"    subsystems:\n"
	"      - nqn: " NQN1 "\n"
	"        allowed_hosts: [h]\n"
	"        namespaces:\n"
	"          - {nsid: 1, device_path: /dev/nullb0}\n"
	"      - nqn: " NQN2 "\n"
	"        allow_any_host: true\n"
	"        namespaces:\n"
	"          - {nsid: 1, device_path: /dev/nullb1, uuid: 11111111-2222-3333-4444-555555555555}\n"
	"    ports:\n"
	"      - {id: 1, transport: rdma, traddr: 192.0.2.1, trsvcid: 4420}\n"
	"      - id: 2\n"
	"        transport: tcp\n"
	"        traddr: 192.0.2.1\n"
	"        subsystems: [" NQN2 "]\n"
	"        referrals: [{transport: tcp, traddr: 198.51.100.7, trsvcid: 8009, portid: 3}]\n"
	"hosts:\n"
	"  - name: h\n"
	"    hostnqn: " HOSTNQN "\n";

/* Text with FROM replaced by TO (once); the caller frees it. */
static char *edit(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *s = NULL;

	assert_non_null(at);
	assert_true(asprintf(&s, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
	return s;
}

/* The plan for YAML against the emulated root, printed. */
static char *plan_for(const char *yaml, struct nvmet_plan *ret_plan)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	struct nvmet_tree want = { 0 }, live = { 0 };
	struct nvmet_plan plan = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	assert_int_equal(nvmet_tree_from_target(inv, &inv->targets[0], &d, &want), 0);
	assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
	assert_int_equal(nvmet_plan_make(&live, &want, &plan), 0);
	f = open_memstream(&out, &len);
	nvmet_plan_print(f, &plan);
	fclose(f);
	nvmet_tree_free(&want);
	nvmet_tree_free(&live);
	inventory_free(inv);
	diags_clear(&d);
	if (ret_plan)
		*ret_plan = plan;
	else
		nvmet_plan_free(&plan);
	return out;
}

static bool has_line_starting(const char *text, const char *prefix)
{
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL)
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static void apply_yaml(const char *yaml)
{
	struct nvmet_plan plan;
	struct diags d = { 0 };
	_cleanup_free_ char *out = plan_for(yaml, &plan);
	int r = nvmet_plan_apply(root, &plan, false, &d);

	if (r < 0) {
		diags_print(&d, stderr);
		fail_msg("apply failed: %s", strerror(-r));
	}
	nvmet_plan_free(&plan);
	diags_clear(&d);
}

static char *read_attr(const char *rel)
{
	char p[PATH_MAX], *s = NULL;
	size_t n = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/nvmet/%s", root, rel);
	f = fopen(p, "re");
	if (!f)
		return NULL;
	if (getline(&s, &n, f) < 0)
		s[0] = '\0';
	fclose(f);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static bool exists(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/nvmet/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void nvmet_test_apply_creates_in_order_then_plans_nothing(void **state _unused_)
{
	_cleanup_free_ char *first = plan_for(base_yaml, NULL), *second = NULL, *v = NULL, *lnk = NULL;
	const char *host = strstr(first, "+ hosts/" HOSTNQN "\n"), *sub1 = strstr(first, "+ subsystems/" NQN1 "\n"),
		   *ns = strstr(first, "/namespaces/1/device_path = /dev/nullb0\n"),
		   *en = strstr(first, "/namespaces/1/enable = 1\n"),
		   *port = strstr(first, "+ ports/1\n"),
		   *link = strstr(first, "+ ports/1/subsystems/" NQN1 " -> subsystems/" NQN1 "\n");

	/* nvmetcli's order: hosts, subsystems (namespaces enabled last), ports (links last). */
	assert_non_null(host);
	assert_non_null(sub1);
	assert_non_null(ns);
	assert_non_null(en);
	assert_non_null(port);
	assert_non_null(link);
	assert_true(host < sub1 && sub1 < ns && ns < en && en < port && port < link);
	/* A port without subsystems: exposes them all; port 2 only NQN2. */
	assert_null(strstr(first, "+ ports/2/subsystems/" NQN1));

	apply_yaml(base_yaml);
	v = read_attr("ports/2/referrals/tcp-198.51.100.7-8009/addr_portid");
	assert_string_equal(v, "3");
	free(v);
	v = read_attr("subsystems/" NQN2 "/attr_allow_any_host");
	assert_string_equal(v, "1");
	lnk = read_attr("subsystems/" NQN1 "/allowed_hosts/" HOSTNQN "/dhchap_hash");
	assert_string_equal(lnk, "hmac(sha256)"); /* the link leads to the host */

	second = plan_for(base_yaml, NULL);
	assert_string_equal(second, "");
}

static void nvmet_test_changes_respect_the_kernels_rules(void **state _unused_)
{
	_cleanup_free_ char *y1 = edit(base_yaml, "device_path: /dev/nullb0", "device_path: /dev/nullb5");
	_cleanup_free_ char *y2 = edit(y1, "{id: 1, transport: rdma, traddr: 192.0.2.1", "{id: 1, transport: rdma, traddr: 192.0.2.9");
	_cleanup_free_ char *plan = NULL, *again = NULL, *v = NULL;
	const char *off, *dev, *on, *unlink_, *addr, *relink;

	apply_yaml(base_yaml);
	plan = plan_for(y2, NULL);
	off = strstr(plan, "~ subsystems/" NQN1 "/namespaces/1/enable: 1 -> 0 (to change device_path)\n");
	dev = strstr(plan, "~ subsystems/" NQN1 "/namespaces/1/device_path: /dev/nullb0 -> /dev/nullb5\n");
	on = strstr(plan, "~ subsystems/" NQN1 "/namespaces/1/enable: 0 -> 1\n");
	unlink_ = strstr(plan, "- ports/1/subsystems/" NQN1 " (to change addr_traddr)\n");
	addr = strstr(plan, "~ ports/1/addr_traddr: 192.0.2.1 -> 192.0.2.9\n");
	relink = strstr(plan, "+ ports/1/subsystems/" NQN1 " -> subsystems/" NQN1 "\n");
	if (!off || !dev || !on || !unlink_ || !addr || !relink)
		fail_msg("unexpected plan:\n%s", plan);
	assert_true(off < dev && dev < on && unlink_ < addr && addr < relink);
	/* What the change does not touch stays out of the plan: vol2 itself
	 * (port 1 exposes it too, so only its link there is cycled) and port 2. */
	for (const char *const *sign = (const char *const[]){ "+ ", "~ ", "- ", NULL }; *sign; sign++) {
		char prefix[128];

		snprintf(prefix, sizeof(prefix), "%ssubsystems/" NQN2, *sign);
		assert_false(has_line_starting(plan, prefix));
		snprintf(prefix, sizeof(prefix), "%sports/2", *sign);
		assert_false(has_line_starting(plan, prefix));
	}

	apply_yaml(y2);
	v = read_attr("ports/1/addr_traddr");
	assert_string_equal(v, "192.0.2.9");
	again = plan_for(y2, NULL);
	assert_string_equal(again, "");
}

static void nvmet_test_removals_go_in_reverse(void **state _unused_)
{
	/* Drop vol1 (and so its host and its links) from the entry. */
	static const char yaml[] =
		"targets:\n  - name: t\n    subsystems:\n"
		"      - nqn: " NQN2 "\n        allow_any_host: true\n        namespaces:\n"
		"          - {nsid: 1, device_path: /dev/nullb1, uuid: 11111111-2222-3333-4444-555555555555}\n"
		"    ports:\n      - {id: 1, transport: rdma, traddr: 192.0.2.1, trsvcid: 4420}\n"
		"      - id: 2\n        transport: tcp\n        traddr: 192.0.2.1\n        subsystems: [" NQN2 "]\n"
		"        referrals: [{transport: tcp, traddr: 198.51.100.7, trsvcid: 8009, portid: 3}]\n";
	_cleanup_free_ char *plan = NULL, *again = NULL;
	const char *plink, *alink, *ns, *subsys, *host;

	apply_yaml(base_yaml);
	plan = plan_for(yaml, NULL);
	plink = strstr(plan, "- ports/1/subsystems/" NQN1 "\n");
	alink = strstr(plan, "- subsystems/" NQN1 "/allowed_hosts/" HOSTNQN "\n");
	ns = strstr(plan, "- subsystems/" NQN1 "/namespaces/1\n");
	subsys = strstr(plan, "- subsystems/" NQN1 "\n");
	host = strstr(plan, "- hosts/" HOSTNQN "\n");
	if (!plink || !alink || !ns || !subsys || !host)
		fail_msg("unexpected plan:\n%s", plan);
	assert_true(plink < alink && alink < ns && ns < subsys && subsys < host);
	assert_null(strstr(plan, "+ "));
	apply_yaml(yaml);
	assert_false(exists("subsystems/" NQN1));
	assert_true(exists("subsystems/" NQN2 "/namespaces/1"));
	again = plan_for(yaml, NULL);
	assert_string_equal(again, "");
}

/* A DH-HMAC-CHAP key file in a new directory DIR (a mkdtemp template), as
 * KEY; the base inventory with host h carrying it, returned (free it). */
static char *yaml_with_key(char *dir, char *key, size_t size)
{
	char with_key[128];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(key, size, "%s/h.key", dir);
	f = fopen(key, "we");
	assert_non_null(f);
	fputs("DHHC-1:00:c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0ZGw0Zw==:\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0600), 0);
	snprintf(with_key, sizeof(with_key), "allowed_hosts: [{host: h, dhchap_key: %s}]", key);
	return edit(base_yaml, "allowed_hosts: [h]", with_key);
}

static void nvmet_test_failure_half_way_names_path_and_cause_then_converges(void **state _unused_)
{
	char dir[] = "/tmp/nvmfd-key-XXXXXX", key[64];
	_cleanup_free_ char *yaml = yaml_with_key(dir, key, sizeof(key)), *again = NULL;
	struct nvmet_plan plan;
	struct diags d = { 0 };

	kernel_has_auth = false; /* as Debian's 6.1 */
	_cleanup_free_ char *out = plan_for(yaml, &plan);
	assert_non_null(strstr(out, "/dhchap_key = (the key in "));
	assert_null(strstr(out, "DHHC-1")); /* never the secret itself */
	assert_int_equal(nvmet_plan_apply(root, &plan, false, &d), -ENOENT);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.v[0].file, "/nvmet/hosts/" HOSTNQN "/dhchap_key"));
	assert_non_null(strstr(d.v[0].msg, "(ENOENT)"));
	assert_non_null(strstr(d.v[0].msg, "no NVMe in-band authentication"));
	assert_null(strstr(d.v[0].msg, "DHHC-1"));
	assert_true(exists("hosts/" HOSTNQN));  /* done before the failure */
	assert_false(exists("subsystems/" NQN1)); /* not reached */
	nvmet_plan_free(&plan);
	diags_clear(&d);

	/* The fixed input converges from where it stopped. */
	apply_yaml(base_yaml);
	again = plan_for(base_yaml, NULL);
	assert_string_equal(again, "");
	unlink(key);
	rmdir(dir);
}

/* Keep going: every action is tried, each failure said, the first returned. */
static void nvmet_test_keep_going_tries_every_action(void **state _unused_)
{
	char dir[] = "/tmp/nvmfd-key-XXXXXX", key[64];
	_cleanup_free_ char *yaml = yaml_with_key(dir, key, sizeof(key)), *out = NULL;
	struct nvmet_plan plan;
	struct diags d = { 0 };

	kernel_has_auth = false;
	out = plan_for(yaml, &plan);
	assert_int_equal(nvmet_plan_apply(root, &plan, true, &d), -ENOENT);
	assert_true(d.n_errors >= 1);
	assert_non_null(strstr(d.v[0].file, "/nvmet/hosts/" HOSTNQN "/dhchap_"));
	assert_true(exists("subsystems/" NQN1)); /* reached past the failure */
	assert_true(exists("ports/1/subsystems/" NQN1));
	nvmet_plan_free(&plan);
	diags_clear(&d);
	unlink(key);
	rmdir(dir);
}

static void nvmet_test_show_feeds_back_to_an_empty_plan(void **state _unused_)
{
	struct diags d = { 0 };
	struct nvmet_tree live = { 0 };
	struct inv_target t;
	struct arena *a = arena_new();
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	_cleanup_free_ char *plan = NULL;

	apply_yaml(base_yaml);
	assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
	assert_int_equal(nvmet_tree_to_target(&live, "t", a, &t), 0);
	f = open_memstream(&text, &len);
	inventory_print_target(f, &t);
	fclose(f);
	plan = plan_for(text, NULL);
	if (*plan)
		fail_msg("show's output plans changes:\n%s\nshow:\n%s", plan, text);
	free(text);
	nvmet_tree_free(&live);
	arena_free(a);
	diags_clear(&d);
}

/* show's target grows with the tree, not with its square: each subsystem's
 * and port's lists are as long as their children (they were as long as the
 * whole tree each: 300 subsystems took about 30 MB). */
static void nvmet_test_show_of_a_large_tree_is_linear_in_memory(void **state _unused_)
{
	enum { N = 300 };
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	struct nvmet_tree want = { 0 };
	struct inv_target t;
	struct arena *a = arena_new();
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);

	fputs("targets:\n  - name: t\n    subsystems:\n", f);
	for (int i = 0; i < N; i++)
		fprintf(f, "      - nqn: nqn.2020-09.com.example:s%d\n        allowed_hosts: [h]\n"
			   "        namespaces: [{nsid: 1, device_path: /dev/nullb0}]\n", i);
	fputs("    ports:\n      - {id: 1, transport: tcp, traddr: 192.0.2.1, trsvcid: 4420}\n"
	      "hosts:\n  - name: h\n    hostnqn: " HOSTNQN "\n", f);
	fclose(f);
	assert_int_equal(inventory_load_string("inv.yaml", yaml, len, &d, &inv), 0);
	assert_int_equal(nvmet_tree_from_target(inv, &inv->targets[0], &d, &want), 0);
	assert_int_equal(nvmet_tree_to_target(&want, "t", a, &t), 0);
	assert_int_equal(t.n_subsystems, N);
	assert_int_equal(t.n_ports, 1);
	assert_int_equal(t.ports[0].n_subsystems, N);
	assert_int_equal(t.subsystems[N - 1].n_namespaces, 1);
	assert_int_equal(t.subsystems[N - 1].n_allowed_hosts, 1);
	if (arena_used(a) > (size_t)N * 1024)
		fail_msg("show's target of %d subsystems took %zu bytes", N, arena_used(a));
	nvmet_tree_free(&want);
	inventory_free(inv);
	arena_free(a);
	diags_clear(&d);
	free(yaml);
}

static void nvmet_test_clear_removes_everything(void **state _unused_)
{
	struct diags d = { 0 };
	struct nvmet_tree live = { 0 }, none = { .arena = arena_new() };
	struct nvmet_plan plan = { 0 };
	DIR *dir;
	char p[PATH_MAX];
	int left = 0;

	apply_yaml(base_yaml);
	assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
	assert_int_equal(nvmet_plan_make(&live, &none, &plan), 0);
	assert_int_equal(nvmet_plan_apply(root, &plan, false, &d), 0);
	for (const char *const *s = (const char *const[]){ "hosts", "subsystems", "ports", NULL }; *s; s++) {
		struct dirent *de;

		snprintf(p, sizeof(p), "%s/nvmet/%s", root, *s);
		dir = opendir(p);
		assert_non_null(dir);
		while ((de = readdir(dir)))
			left += de->d_name[0] != '.';
		closedir(dir);
	}
	assert_int_equal(left, 0);
	nvmet_plan_free(&plan);
	nvmet_tree_free(&live);
	nvmet_tree_free(&none);
	diags_clear(&d);
}

/* The listen check: what it answers, and how often it was asked. */
static int fake_held;
static unsigned fake_calls;

static int fake_check(const char *traddr, const char *trsvcid)
{
	assert_string_equal(traddr, "192.0.2.1");
	assert_string_equal(trsvcid, "4420");
	fake_calls++;
	return fake_held;
}

/* The checks and the printed plan of a repair of the emulated root. */
static char *relisten_for(const struct nvmet_plan *skip, struct nvmet_plan *ret_plan, size_t *ret_n, int *ret_held)
{
	struct diags d = { 0 };
	struct nvmet_tree live = { 0 };
	struct nvmet_plan plan = { 0 };
	_cleanup_free_ struct nvmet_port_check *checks = NULL;
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
	assert_int_equal(nvmet_plan_relisten(&live, skip, fake_check, &plan, &checks, ret_n), 0);
	if (*ret_n) {
		assert_string_equal(checks[0].port, "ports/1");
		assert_int_equal(checks[0].n_subsystems, 2);
		*ret_held = checks[0].held;
	}
	f = open_memstream(&out, &len);
	nvmet_plan_print(f, &plan);
	fclose(f);
	if (ret_plan)
		*ret_plan = plan;
	else
		nvmet_plan_free(&plan);
	nvmet_tree_free(&live);
	diags_clear(&d);
	return out;
}

#define WHY " (to listen again: nothing listens on rdma 192.0.2.1:4420)\n"

/* Where the entry gives no identity: derived from the NQN and nsid (RFC 9562
 * version 5 UUIDs, checked against Python's uuid.uuid5), set before the
 * namespace is enabled, and the same after the target is built again. */
static void nvmet_test_identities_are_derived_where_the_entry_gives_none(void **state _unused_)
{
	char uuid[NVMET_ID_LEN], nguid[NVMET_ID_LEN], serial[NVMET_SERIAL_LEN];
	_cleanup_free_ char *first = plan_for(base_yaml, NULL);
	const char *id = strstr(first, "+ subsystems/" NQN1 "/namespaces/1/device_uuid = 2872eb17-bef7-5d5f-a912-ec4fbc92738d\n"),
		   *en = strstr(first, "+ subsystems/" NQN1 "/namespaces/1/enable = 1\n");
	struct diags d = { 0 };
	struct nvmet_tree live = { 0 }, none = { .arena = arena_new() };
	struct nvmet_plan plan = { 0 };
	char *v;

	assert_int_equal(nvmet_derive_ns_ids(NQN1, 1, uuid, nguid), 0);
	assert_string_equal(uuid, "2872eb17-bef7-5d5f-a912-ec4fbc92738d");
	assert_string_equal(nguid, "bef76d5f-2912-ec4f-bc92-738d4f212650");
	assert_int_equal(nvmet_derive_serial(NQN1, serial), 0);
	assert_string_equal(serial, "3a8e61afa2db1b9f");
	assert_int_equal(nvmet_derive_ns_ids(NQN1, 2, uuid, nguid), 0);
	assert_string_not_equal(uuid, "2872eb17-bef7-5d5f-a912-ec4fbc92738d");
	/* in the plan, before the namespace is enabled; the entry's own uuid kept */
	if (!id || !en || id > en)
		fail_msg("unexpected plan:\n%s", first);
	assert_non_null(strstr(first, "+ subsystems/" NQN1 "/attr_serial = 3a8e61afa2db1b9f\n"));
	assert_non_null(strstr(first, "+ subsystems/" NQN2 "/namespaces/1/device_uuid = 11111111-2222-3333-4444-555555555555\n"));
	/* built, cleared and built again: the same identity */
	for (int round = 0; round < 2; round++) {
		apply_yaml(base_yaml);
		v = read_attr("subsystems/" NQN1 "/namespaces/1/device_nguid");
		assert_string_equal(v, "bef76d5f-2912-ec4f-bc92-738d4f212650");
		free(v);
		v = read_attr("subsystems/" NQN1 "/attr_serial");
		assert_string_equal(v, "3a8e61afa2db1b9f");
		free(v);
		assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
		assert_int_equal(nvmet_plan_make(&live, &none, &plan), 0);
		assert_int_equal(nvmet_plan_apply(root, &plan, false, &d), 0);
		nvmet_plan_free(&plan);
		nvmet_tree_free(&live);
	}
	/* a namespace made but never enabled (an apply that stopped half way):
	 * no host holds it, so it takes the derived identity */
	apply_yaml(base_yaml);
	{
		char dir[PATH_MAX];
		_cleanup_free_ char *again = NULL;

		snprintf(dir, sizeof(dir), "%s/nvmet/subsystems/" NQN1 "/namespaces/1", root);
		put(dir, "enable", "0");
		put(dir, "device_uuid", "0f5e2d3c-0000-4000-8000-00000000abcd");
		again = plan_for(base_yaml, NULL);
		assert_non_null(strstr(again, "~ subsystems/" NQN1 "/namespaces/1/device_uuid: 0f5e2d3c-0000-4000-8000-00000000abcd -> "
					      "2872eb17-bef7-5d5f-a912-ec4fbc92738d\n"));
		assert_null(strstr(again, "! "));
	}
	nvmet_tree_free(&none);
	diags_clear(&d);
}

/* A live namespace whose identity differs from the derived one (made by
 * hand, or by a tool that let the kernel choose) keeps it: hosts know that
 * one. The plan says so and changes nothing; the entry's own uuid changes it. */
static void nvmet_test_a_live_identity_is_kept_unless_the_entry_gives_one(void **state _unused_)
{
	_cleanup_free_ char *plan = NULL, *again = NULL, *with = NULL;
	_cleanup_free_ char *y = edit(base_yaml, "{nsid: 1, device_path: /dev/nullb0}",
				      "{nsid: 1, device_path: /dev/nullb0, uuid: 99999999-8888-4777-8666-555555555555}");
	struct nvmet_plan p = { 0 };
	char dir[PATH_MAX];
	char *v;

	apply_yaml(base_yaml);
	snprintf(dir, sizeof(dir), "%s/nvmet/subsystems/" NQN1 "/namespaces/1", root);
	put(dir, "device_uuid", "0f5e2d3c-0000-4000-8000-00000000abcd");
	snprintf(dir, sizeof(dir), "%s/nvmet/subsystems/" NQN1, root);
	put(dir, "attr_serial", "5d2c4a3e1f0b9a87    "); /* the kernel pads it to 20 */
	plan = plan_for(base_yaml, &p);
	assert_non_null(strstr(plan, "! subsystems/" NQN1 "/namespaces/1/device_uuid: 0f5e2d3c-0000-4000-8000-00000000abcd "
				     "(derived 2872eb17-bef7-5d5f-a912-ec4fbc92738d)"));
	assert_non_null(strstr(plan, "! subsystems/" NQN1 "/attr_serial: 5d2c4a3e1f0b9a87 (derived 3a8e61afa2db1b9f)"));
	assert_null(strstr(plan, "~ "));
	assert_null(strstr(plan, "+ "));
	assert_int_equal(p.n, 2);
	assert_int_equal(p.n_notes, 2);
	nvmet_plan_free(&p);
	put(dir, "attr_serial", "3a8e61afa2db1b9f    "); /* the derived one, as the kernel shows it */
	free(plan);
	plan = plan_for(base_yaml, &p);
	assert_null(strstr(plan, "attr_serial"));
	assert_int_equal(p.n_notes, 1);
	nvmet_plan_free(&p);
	put(dir, "attr_serial", "5d2c4a3e1f0b9a87    ");
	apply_yaml(base_yaml); /* notes do nothing */
	v = read_attr("subsystems/" NQN1 "/namespaces/1/device_uuid");
	assert_string_equal(v, "0f5e2d3c-0000-4000-8000-00000000abcd");
	free(v);
	/* the entry gives one: changed, with the namespace disabled around it */
	with = plan_for(y, NULL);
	assert_non_null(strstr(with, "~ subsystems/" NQN1 "/namespaces/1/enable: 1 -> 0 (to change device_uuid)\n"));
	assert_non_null(strstr(with, "~ subsystems/" NQN1 "/namespaces/1/device_uuid: 0f5e2d3c-0000-4000-8000-00000000abcd -> "
				     "99999999-8888-4777-8666-555555555555\n"));
	apply_yaml(y);
	again = plan_for(y, NULL);
	assert_null(strstr(again, "namespaces/1/device_uuid"));
}

/* clear takes the ports down first (hosts see a path error and queue their
 * I/O), then the namespaces and subsystems. */
static void nvmet_test_clear_takes_the_ports_down_first(void **state _unused_)
{
	struct diags d = { 0 };
	struct nvmet_tree live = { 0 }, none = { .arena = arena_new() };
	struct nvmet_plan plan = { 0 };
	size_t last_port = 0, first_ns = SIZE_MAX;

	apply_yaml(base_yaml);
	assert_int_equal(nvmet_tree_read(root, &d, &live), 0);
	assert_int_equal(nvmet_plan_make(&live, &none, &plan), 0);
	for (size_t i = 0; i < plan.n; i++) {
		if (strncmp(plan.v[i].path, "ports/", 6) == 0)
			last_port = i;
		if (strstr(plan.v[i].path, "/namespaces/") && first_ns == SIZE_MAX)
			first_ns = i;
	}
	assert_true(first_ns != SIZE_MAX);
	assert_true(last_port < first_ns);
	nvmet_plan_free(&plan);
	nvmet_tree_free(&live);
	nvmet_tree_free(&none);
	diags_clear(&d);
}

static void nvmet_test_relisten_enables_a_deaf_rdma_port_anew(void **state _unused_)
{
	struct nvmet_plan plan;
	struct diags d = { 0 };
	size_t n = 0;
	int held = 99;
	char *out;

	apply_yaml(base_yaml);

	/* listening: nothing to do; only the rdma port is asked */
	fake_held = 1, fake_calls = 0;
	out = relisten_for(NULL, NULL, &n, &held);
	assert_int_equal(n, 1);
	assert_int_equal(fake_calls, 1);
	assert_int_equal(held, 1);
	assert_string_equal(out, "");
	free(out);

	/* cannot tell (no RDMA device has the address): said, nothing done */
	fake_held = -ENODEV;
	out = relisten_for(NULL, NULL, &n, &held);
	assert_int_equal(held, -ENODEV);
	assert_string_equal(out, "");
	free(out);

	/* deaf: every link removed, then made again, in that order */
	fake_held = 0;
	out = relisten_for(NULL, &plan, &n, &held);
	{
		/* in the order configfs lists them */
		const char *u1 = strstr(out, "- ports/1/subsystems/" NQN1 WHY), *u2 = strstr(out, "- ports/1/subsystems/" NQN2 WHY),
			   *l1 = strstr(out, "+ ports/1/subsystems/" NQN1 " -> subsystems/" NQN1 WHY),
			   *l2 = strstr(out, "+ ports/1/subsystems/" NQN2 " -> subsystems/" NQN2 WHY);

		assert_non_null(u1);
		assert_non_null(u2);
		assert_non_null(l1);
		assert_non_null(l2);
		assert_true(u1 < l1 && u1 < l2 && u2 < l1 && u2 < l2);
		assert_int_equal(plan.n, 4);
	}
	free(out);
	assert_int_equal(nvmet_plan_apply(root, &plan, true, &d), 0);
	nvmet_plan_free(&plan);
	assert_true(exists("ports/1/subsystems/" NQN1));
	assert_true(exists("ports/1/subsystems/" NQN2));
	assert_true(exists("ports/2/subsystems/" NQN2));
	out = plan_for(base_yaml, NULL);
	assert_string_equal(out, "");
	free(out);

	/* a port a plan changes anyway is left to that plan */
	{
		_cleanup_free_ char *moved = edit(base_yaml, "{id: 1, transport: rdma, traddr: 192.0.2.1", "{id: 1, transport: rdma, traddr: 192.0.2.5");
		struct nvmet_plan change;
		_cleanup_free_ char *p = plan_for(moved, &change);

		fake_calls = 0;
		out = relisten_for(&change, NULL, &n, &held);
		assert_int_equal(n, 0);
		assert_int_equal(fake_calls, 0);
		free(out);
		nvmet_plan_free(&change);
	}

	/* a port without subsystems is not enabled: nothing should listen */
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/nvmet/ports/1/subsystems/" NQN1, root);
		assert_int_equal(unlink(p), 0);
		snprintf(p, sizeof(p), "%s/nvmet/ports/1/subsystems/" NQN2, root);
		assert_int_equal(unlink(p), 0);
		fake_calls = 0;
		out = relisten_for(NULL, NULL, &n, &held);
		assert_int_equal(n, 0);
		assert_int_equal(fake_calls, 0);
		free(out);
	}
	diags_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nvmet_test_apply_creates_in_order_then_plans_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_changes_respect_the_kernels_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_removals_go_in_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_failure_half_way_names_path_and_cause_then_converges, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_keep_going_tries_every_action, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_show_feeds_back_to_an_empty_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_clear_removes_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_show_of_a_large_tree_is_linear_in_memory, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_identities_are_derived_where_the_entry_gives_none, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_a_live_identity_is_kept_unless_the_entry_gives_one, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_clear_takes_the_ports_down_first, setup, teardown),
		cmocka_unit_test_setup_teardown(nvmet_test_relisten_enables_a_deaf_rdma_port_anew, setup, teardown),
	};
	return cmocka_run_group_tests_name("nvmet", tests, NULL, NULL);
}
