/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <string.h>

#include "inventory/inventory.h"
#include "load-inventory.h"
#include "base/macro.h"
#include "kernel/modules.h"

#define HOST                                                    \
	"hosts:\n"                                              \
	"  - name: h\n"                                         \
	"    modules: [qedr, nvme-rdma]\n"                      \
	"    connect:\n"                                        \
	"      - {transport: rdma, traddr: 192.0.2.1}\n"        \
	"      - {transport: tcp, traddr: 192.0.2.2}\n"         \
	"      - {transport: rdma, traddr: 192.0.2.3}\n"

/* The host's own list first (the RNIC's driver before the transports), then
 * nvme-fabrics, then each transport once. */
static void modules_test_for_host(void **state _unused_)
{
	struct inventory *inv = load_inventory(HOST);
	const char *names[8];
	size_t n = modules_for_host(&inv->hosts[0], names, ARRAY_SIZE(names));

	assert_int_equal(n, 4);
	assert_string_equal(names[0], "qedr");
	assert_string_equal(names[1], "nvme-rdma");
	assert_string_equal(names[2], "nvme-fabrics");
	assert_string_equal(names[3], "nvme-tcp");

	/* never more than asked for */
	assert_int_equal(modules_for_host(&inv->hosts[0], names, 2), 2);
	inventory_free(inv);
}

static void modules_test_for_endpoint(void **state _unused_)
{
	struct inventory *inv = load_inventory(HOST);
	const struct inv_host *h = &inv->hosts[0];
	const char *names[8];
	size_t n = modules_for_endpoint(h, &h->endpoints[1], names, 0, ARRAY_SIZE(names));

	/* a tcp endpoint: the host's list, nvme-fabrics, nvme-tcp */
	assert_int_equal(n, 4);
	assert_string_equal(names[3], "nvme-tcp");

	/* an rdma endpoint adds nothing new: nvme-rdma is in the host's list */
	assert_int_equal(modules_for_endpoint(h, &h->endpoints[0], names, 0, ARRAY_SIZE(names)), 3);

	/* added after what is there, each once */
	assert_int_equal(modules_for_endpoint(h, &h->endpoints[2], names, n, ARRAY_SIZE(names)), 4);
	inventory_free(inv);
}

static void modules_test_host_without_endpoints(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n");
	const char *names[4];

	assert_int_equal(modules_for_host(&inv->hosts[0], names, ARRAY_SIZE(names)), 1);
	assert_string_equal(names[0], "nvme-fabrics");
	inventory_free(inv);
}

static void modules_test_unknown_is_not_loaded(void **state _unused_)
{
	assert_int_equal(modules_loaded("nvmfd-no-such-module"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(modules_test_for_host),
		cmocka_unit_test(modules_test_for_endpoint),
		cmocka_unit_test(modules_test_host_without_endpoints),
		cmocka_unit_test(modules_test_unknown_is_not_loaded),
	};
	return cmocka_run_group_tests_name("modules", tests, NULL, NULL);
}
