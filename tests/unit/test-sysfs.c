/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ident.h"
#include "base/macro.h"
#include "kernel/sysfs.h"

static char root[] = "/tmp/nvmfd-sysfs-XXXXXX";

static void mkdirs(const char *rel)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, rel);
	assert_int_equal(system(cmd), 0);
}

static void put(const char *rel, const char *text)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "we");
	assert_non_null(f);
	fprintf(f, "%s\n", text);
	fclose(f);
}

static void ctrl(const char *name, const char *transport, const char *address, const char *nqn, const char *state)
{
	char rel[128];

	snprintf(rel, sizeof(rel), "class/nvme/%s", name);
	mkdirs(rel);
#define PUT(attr, v)                                                          \
	do {                                                                  \
		char a[160];                                                  \
		snprintf(a, sizeof(a), "%s/%s", rel, attr);                   \
		put(a, v);                                                    \
	} while (0)
	PUT("transport", transport);
	PUT("address", address);
	PUT("subsysnqn", nqn);
	PUT("state", state);
	PUT("hostnqn", "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001");
	PUT("cntlid", "7");
#undef PUT
}

static int setup(void **state _unused_)
{
	strcpy(root, "/tmp/nvmfd-sysfs-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state _unused_)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void sysfs_test_parses_the_kernels_address_attribute(void **state _unused_)
{
	struct ident id = { 0 };

	/* As 6.1 prints them: tcp with the source it chose, rdma bare. */
	sysfs_parse_address("traddr=127.0.0.1,trsvcid=4420,src_addr=127.0.0.1", &id);
	assert_string_equal(id.traddr, "127.0.0.1");
	assert_string_equal(id.trsvcid, "4420");
	assert_string_equal(id.host_traddr, ""); /* src_addr is the kernel's choice, not ours */
	id = (struct ident){ 0 };
	sysfs_parse_address("traddr=2001:db8::1,trsvcid=4420,host_traddr=2001:db8::2,host_iface=nvmfh0", &id);
	assert_string_equal(id.traddr, "2001:db8::1");
	assert_string_equal(id.host_traddr, "2001:db8::2");
	assert_string_equal(id.host_iface, "nvmfh0");
}

static void sysfs_test_scans_fabrics_controllers(void **state _unused_)
{
	struct ctrl_info *v = NULL;
	size_t n = 0;

	ctrl("nvme0", "rdma", "traddr=192.0.2.1,trsvcid=4420", "nqn.2020-09.com.example:a", "live");
	ctrl("nvme1", "tcp", "traddr=127.0.0.1,trsvcid=8009,src_addr=127.0.0.1", "nqn.2014-08.org.nvmexpress.discovery",
	     "connecting");
	ctrl("nvme2", "pcie", "0000:00:04.0", "nqn.local", "live");
	mkdirs("class/nvme/nvme-fabrics"); /* the misc device, not a controller */
	assert_int_equal(sysfs_ctrl_scan(root, &v, &n), 0);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		if (streq(v[i].name, "nvme0")) {
			assert_string_equal(v[i].id.transport, "rdma");
			assert_string_equal(v[i].state, "live");
			assert_false(v[i].discovery);
			assert_int_equal(v[i].cntlid, 7);
		} else {
			assert_string_equal(v[i].name, "nvme1");
			assert_true(v[i].discovery);
			assert_string_equal(v[i].state, "connecting");
		}
	}
	free(v);
}

static void sysfs_test_no_nvme_class_is_no_controllers(void **state _unused_)
{
	struct ctrl_info *v = (void *)1;
	size_t n = 9;

	assert_int_equal(sysfs_ctrl_scan(root, &v, &n), 0);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void sysfs_test_namespaces_with_and_without_multipath(void **state _unused_)
{
	char *buf = NULL, name[64];

	ctrl("nvme0", "tcp", "traddr=127.0.0.1,trsvcid=4420", "nqn.2020-09.com.example:a", "live");
	mkdirs("class/nvme/nvme0/nvme0c0n1"); /* hidden path */
	mkdirs("class/nvme-subsystem/nvme-subsys0/nvme0n10");
	mkdirs("class/nvme-subsystem/nvme-subsys0/nvme0n2");
	mkdirs("class/nvme-subsystem/nvme-subsys0/nvme0n2p1");
	mkdirs("class/nvme-subsystem/nvme-subsys0/nvme0");
	mkdirs("class/nvme-subsystem/nvme-subsys1/nvme1n1"); /* another subsystem's */
	assert_int_equal(sysfs_ctrl_namespaces(root, "nvme0", &buf), 0);
	assert_string_equal(buf, "nvme0n2 nvme0n10"); /* in their numbers' order */
	free(buf);

	ctrl("nvme5", "rdma", "traddr=192.0.2.1,trsvcid=4420", "nqn.2020-09.com.example:b", "live");
	mkdirs("class/nvme/nvme5/nvme5n1"); /* without multipath */
	assert_int_equal(sysfs_ctrl_namespaces(root, "nvme5", &buf), 0);
	assert_string_equal(buf, "nvme5n1");
	free(buf);

	/* no list is too long: a subsystem of 1,000 namespaces */
	ctrl("nvme7", "tcp", "traddr=192.0.2.7,trsvcid=4420", "nqn.2020-09.com.example:c", "live");
	mkdirs("class/nvme-subsystem/nvme-subsys7/nvme7");
	for (int i = 1000; i >= 1; i--) {
		snprintf(name, sizeof(name), "class/nvme-subsystem/nvme-subsys7/nvme7n%d", i);
		mkdirs(name);
	}
	assert_int_equal(sysfs_ctrl_namespaces(root, "nvme7", &buf), 0);
	assert_int_equal(strncmp(buf, "nvme7n1 nvme7n2 nvme7n3 ", 24), 0);
	assert_non_null(strstr(buf, " nvme7n999 nvme7n1000"));
	assert_int_equal(strlen(buf), 9 * 7 + 90 * 8 + 900 * 9 + 10 + 999);
	free(buf);

	ctrl("nvme8", "tcp", "traddr=192.0.2.8,trsvcid=4420", "nqn.2020-09.com.example:d", "live");
	assert_int_equal(sysfs_ctrl_namespaces(root, "nvme8", &buf), 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void ident_test_matches_on_the_full_identity(void **state _unused_)
{
	struct ident a = { "tcp", "2001:db8::1", "4420", "", "", "nqn.2020-09.com.example:a", "nqn.h" }, b = a;

	assert_true(ident_equal(&a, &b));
	snprintf(b.traddr, sizeof(b.traddr), "2001:0db8:0::1");
	assert_true(ident_equal(&a, &b)); /* the same address, written otherwise */
	for (int field = 0; field < 7; field++) {
		b = a;
		switch (field) {
		case 0: snprintf(b.transport, sizeof(b.transport), "rdma"); break;
		case 1: snprintf(b.traddr, sizeof(b.traddr), "2001:db8::2"); break;
		case 2: snprintf(b.trsvcid, sizeof(b.trsvcid), "4421"); break;
		case 3: snprintf(b.host_traddr, sizeof(b.host_traddr), "2001:db8::9"); break;
		case 4: snprintf(b.host_iface, sizeof(b.host_iface), "eth1"); break;
		case 5: snprintf(b.subsysnqn, sizeof(b.subsysnqn), "nqn.2020-09.com.example:b"); break;
		case 6: snprintf(b.hostnqn, sizeof(b.hostnqn), "nqn.other"); break;
		}
		if (ident_equal(&a, &b))
			fail_msg("identities differing in field %d match", field);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sysfs_test_parses_the_kernels_address_attribute),
		cmocka_unit_test_setup_teardown(sysfs_test_scans_fabrics_controllers, setup, teardown),
		cmocka_unit_test_setup_teardown(sysfs_test_no_nvme_class_is_no_controllers, setup, teardown),
		cmocka_unit_test_setup_teardown(sysfs_test_namespaces_with_and_without_multipath, setup, teardown),
		cmocka_unit_test(ident_test_matches_on_the_full_identity),
	};
	return cmocka_run_group_tests_name("sysfs", tests, NULL, NULL);
}
