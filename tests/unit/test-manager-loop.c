/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The manager's loop sleeps when nothing is due: here with the real fabrics
 * adapter, whose connects fail on a machine without /dev/nvme-fabrics, so a
 * path backs off (the tick runs) and then leaves (the tick must stop).
 */
#include "cmocka-prelude.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "base/macro.h"
#include "daemon/manager.h"
#include "inventory/hostid.h"
#include "load-inventory.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

static struct inventory *inv_with(const char *connect, const struct inv_host **h)
{
	char yaml[1024];
	struct inventory *inv;

	snprintf(yaml, sizeof(yaml),
		 "defaults:\n  transport: tcp\n  backoff: {initial: 10ms, max: 20ms}\n"
		 "hosts:\n  - name: h\n    hostnqn: " HOSTNQN "\n    connect: %s\n", connect);
	inv = load_inventory(yaml);
	*h = &inv->hosts[0];
	return inv;
}

/* Of N runs of the loop (50 ms each at most), how many dispatched something. */
static int busy_runs(sd_event *loop, int n)
{
	int busy = 0;

	for (int i = 0; i < n; i++)
		busy += sd_event_run(loop, 50 * USEC_PER_MSEC) > 0;
	return busy;
}

static void manager_loop_test_sleeps_once_nothing_needs_the_tick(void **state _unused_)
{
	char sysfs[] = "/tmp/nvmfd-lsys-XXXXXX", p[64];
	const struct inv_host *h;
	struct inventory *inv;
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .audit_interval = 3600 * USEC_PER_SEC };
	struct manager *m;
	sd_event *loop;

	assert_non_null(mkdtemp(sysfs));
	snprintf(p, sizeof(p), "%s/class", sysfs);
	mkdir(p, 0755);
	o.sysfs = sysfs;
	inv = inv_with("[{traddr: 192.0.2.1, trsvcid: 8009}]", &h);
	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(manager_new(loop, inv, h, &id, &o, &m), 0);
	assert_int_equal(manager_start(m), 0);
	busy_runs(loop, 60); /* the connect fails and backs off, over and over: the tick runs */

	inv = inv_with("[]", &h);
	assert_int_equal(manager_reload(m, inv, h, &id), 0);
	busy_runs(loop, 40); /* the path leaves; the tick's last round */
	assert_int_equal(busy_runs(loop, 10), 0);

	manager_free(m);
	sd_event_unref(loop);
	snprintf(p, sizeof(p), "rm -rf '%s'", sysfs);
	assert_int_equal(system(p), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(manager_loop_test_sleeps_once_nothing_needs_the_tick),
	};
	return cmocka_run_group_tests_name("manager-loop", tests, NULL, NULL);
}
