/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernel/link.h"
#include "base/macro.h"
#include "kernel/netroute.h"
#include "kernel/rdma.h"
#include "kernel/rdmacm.h"

static struct rdma_dev rxe = {
	.name = "rxe0", .kind = "RoCE", .n_ports = 1,
	.ports = { { .num = 1, .active = true, .state = "ACTIVE", .link_layer = "Ethernet", .netdev = "eth1",
		     .gids = { "fe80::5054:ff:fe12:3456", "::ffff:192.0.2.2" }, .n_gids = 2 } },
};
static struct rdma_dev siw = {
	.name = "siw0", .kind = "iWARP", .n_ports = 1,
	.ports = { { .num = 1, .active = true, .state = "ACTIVE", .link_layer = "Ethernet",
		     .gids = { "5254:12:3457::" }, .n_gids = 1 } },
};

/* A healthy RoCE path: route via eth1, carrier, rxe0 bound and ACTIVE. */
static struct link_facts healthy(void)
{
	struct link_facts f = {
		.rdma = true,
		.route = { .family = 2, .src = "192.0.2.2", .ifname = "eth1" },
		.netdev = { .exists = true, .admin_up = true, .carrier = true, .operstate = "up" },
		.rdma_known = true,
		.traddr = "192.0.2.1",
	};
	f.dev = &rxe;
	f.port = &rxe.ports[0];
	return f;
}

static enum link_status judge(const struct link_facts *f, char *why)
{
	return link_judge(f, why, 160);
}

static void link_test_each_failure_is_named_with_its_reason(void **state _unused_)
{
	char why[160];
	struct link_facts f = healthy();
	struct rdma_dev down = rxe;

	assert_int_equal(judge(&f, why), LINK_READY);
	assert_string_equal(why, "192.0.2.2 via eth1, rxe0 port 1 ACTIVE");

	f = healthy();
	f.route_err = -ENODEV;
	snprintf(f.host_iface, sizeof(f.host_iface), "eth9");
	assert_int_equal(judge(&f, why), LINK_NO_SOURCE);
	assert_string_equal(why, "interface eth9 does not exist");

	f = healthy();
	f.route_err = -EADDRNOTAVAIL;
	snprintf(f.host_traddr, sizeof(f.host_traddr), "192.0.2.7");
	assert_int_equal(judge(&f, why), LINK_NO_SOURCE);
	assert_string_equal(why, "source address 192.0.2.7 is not configured on any interface");

	f = healthy();
	f.route_err = -ENETUNREACH;
	assert_int_equal(judge(&f, why), LINK_NO_ROUTE);
	assert_string_equal(why, "no route to 192.0.2.1: Network is unreachable");

	f = healthy();
	f.netdev.admin_up = false;
	assert_int_equal(judge(&f, why), LINK_IF_DOWN);
	assert_string_equal(why, "interface eth1 is down");
	/* Down, it lost its routes too: the interface is the reason to give. */
	f.route_err = -ENETUNREACH;
	assert_int_equal(judge(&f, why), LINK_IF_DOWN);
	assert_string_equal(why, "interface eth1 is down (no route to 192.0.2.1)");

	f = healthy();
	f.netdev.carrier = false;
	snprintf(f.netdev.operstate, sizeof(f.netdev.operstate), "lowerlayerdown");
	assert_int_equal(judge(&f, why), LINK_NO_CARRIER);
	assert_string_equal(why, "interface eth1 has no carrier (lowerlayerdown)");

	f = healthy();
	f.dev = NULL;
	f.port = NULL;
	assert_int_equal(judge(&f, why), LINK_NO_RDMA_DEVICE);
	assert_string_equal(why, "no RDMA device is bound to eth1");

	/* Not knowing (no ib_uverbs to ask) never holds a connect back. */
	f.rdma_known = false;
	assert_int_equal(judge(&f, why), LINK_UNKNOWN);
	assert_true(link_status_ready(LINK_UNKNOWN));

	f = healthy();
	down.ports[0].active = false;
	snprintf(down.ports[0].state, sizeof(down.ports[0].state), "DOWN");
	f.dev = &down;
	f.port = &down.ports[0];
	assert_int_equal(judge(&f, why), LINK_PORT_DOWN);
	assert_string_equal(why, "rxe0 port 1 is DOWN");

	/* TCP: no RDMA device asked for. */
	f = healthy();
	f.rdma = false;
	f.dev = NULL;
	assert_int_equal(judge(&f, why), LINK_READY);
	assert_false(link_status_ready(LINK_NO_CARRIER));
}

static void rdma_test_a_device_is_found_by_netdev_or_by_mac(void **state _unused_)
{
	struct rdma_dev v[2] = { siw, rxe };
	struct netroute r = { .ifname = "eth1" };
	const struct rdma_port *port = NULL;

	assert_ptr_equal(rdma_find(v, 2, &r, &port), &v[1]);
	assert_ptr_equal(port, &v[1].ports[0]);
	/* iWARP: no netdev in the GID table; the GID begins with the netdev's MAC. */
	r = (struct netroute){ .ifname = "eth2", .has_mac = true, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 } };
	assert_ptr_equal(rdma_find(v, 2, &r, &port), &v[0]);
	r.mac[5] = 0x58;
	assert_null(rdma_find(v, 2, &r, &port));
	r.has_mac = false;
	assert_null(rdma_find(v, 2, &r, &port));
}

static void netdev_test_reads_flags_operstate_and_carrier(void **state _unused_)
{
	char root[] = "/tmp/nvmfd-net-XXXXXX", cmd[512];
	struct netdev_state s;

	assert_non_null(mkdtemp(root));
	snprintf(cmd, sizeof(cmd),
		 "mkdir -p %1$s/class/net/eth1 %1$s/class/net/eth2 && echo 0x1003 >%1$s/class/net/eth1/flags && "
		 "echo up >%1$s/class/net/eth1/operstate && echo 1 >%1$s/class/net/eth1/carrier && "
		 "echo 0x1002 >%1$s/class/net/eth2/flags && echo down >%1$s/class/net/eth2/operstate", root);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(netdev_read(root, "eth1", &s), 0);
	assert_true(s.admin_up && s.carrier);
	assert_string_equal(s.operstate, "up");
	/* down: no carrier file to read (the kernel answers EINVAL) */
	assert_int_equal(netdev_read(root, "eth2", &s), 0);
	assert_false(s.admin_up || s.carrier);
	assert_int_equal(netdev_read(root, "eth3", &s), -ENOENT);
	assert_false(s.exists);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
}

static void netroute_test_addresses_parse_and_bad_ones_do_not(void **state _unused_)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct netroute r;

	assert_int_equal(netroute_sockaddr("192.0.2.1", "4420", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(netroute_sockaddr("fd00::1", "8009", &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(netroute_sockaddr("192.0.2.1", "70000", &ss, &len), -EINVAL);
	assert_int_equal(netroute_sockaddr("target.example", "4420", &ss, &len), -EINVAL);
	assert_int_equal(netroute_lookup("not-an-address", NULL, NULL, &r), -EINVAL);
	/* Loopback is there on every machine; no packet leaves for a lookup. */
	assert_int_equal(netroute_lookup("127.0.0.1", NULL, NULL, &r), 0);
	assert_string_equal(r.src, "127.0.0.1");
	assert_string_equal(r.ifname, "lo");
	assert_int_equal(netroute_lookup("127.0.0.1", NULL, "no-such-if0", &r), -ENODEV);
	assert_int_equal(netroute_lookup("127.0.0.1", "192.0.2.254", NULL, &r), -EADDRNOTAVAIL);
}

static void rdmacm_test_outcomes_round_trip(void **state _unused_)
{
	for (int o = 0; o < _RDMACM_OUTCOME_MAX; o++)
		assert_int_equal(rdmacm_outcome_from_string(rdmacm_outcome_to_string((enum rdmacm_outcome)o)), o);
	assert_int_equal(rdmacm_outcome_from_string("listening-ish"), -EINVAL);
	for (int s = 0; s < _LINK_STATUS_MAX; s++)
		assert_string_not_equal(link_status_to_string((enum link_status)s), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(link_test_each_failure_is_named_with_its_reason),
		cmocka_unit_test(rdma_test_a_device_is_found_by_netdev_or_by_mac),
		cmocka_unit_test(netdev_test_reads_flags_operstate_and_carrier),
		cmocka_unit_test(netroute_test_addresses_parse_and_bad_ones_do_not),
		cmocka_unit_test(rdmacm_test_outcomes_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
