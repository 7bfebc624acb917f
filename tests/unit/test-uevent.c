/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "base/macro.h"
#include "core/uevent.h"

#define DATA TEST_SRCDIR "/tests/unit/data"

struct event {
	char action[16], subsystem[32], sysname[64], devtype[16], nvme_event[32], nvme_aen[16];
	bool has_event, has_aen;
};

/* Read "udevadm monitor --property" output: a header line, then KEY=VALUE lines, then a blank line. */
static size_t read_events(const char *path, struct event *v, size_t max)
{
	FILE *f = fopen(path, "re");
	char line[512];
	size_t n = 0;
	struct event *e = NULL;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char devpath[256], action[16], subsystem[32];

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#')
			continue;
		if (sscanf(line, "UDEV [%*[^]]] %15s %255s (%31[^)])", action, devpath, subsystem) == 3) {
			assert_true(n < max);
			e = &v[n++];
			*e = (struct event){ 0 };
			snprintf(e->action, sizeof(e->action), "%s", action);
			snprintf(e->subsystem, sizeof(e->subsystem), "%s", subsystem);
			snprintf(e->sysname, sizeof(e->sysname), "%s", strrchr(devpath, '/') + 1);
			continue;
		}
		if (!e)
			continue;
		if (strncmp(line, "DEVTYPE=", 8) == 0)
			snprintf(e->devtype, sizeof(e->devtype), "%.15s", line + 8);
		else if (strncmp(line, "NVME_EVENT=", 11) == 0)
			e->has_event = snprintf(e->nvme_event, sizeof(e->nvme_event), "%.31s", line + 11) > 0;
		else if (strncmp(line, "NVME_AEN=", 9) == 0)
			e->has_aen = snprintf(e->nvme_aen, sizeof(e->nvme_aen), "%.15s", line + 9) > 0;
	}
	fclose(f);
	return n;
}

static void uevent_test_translates_what_the_lab_saw(void **state _unused_)
{
	static const enum uevent_kind want[] = {
		UEVENT_CTRL_ADD,       UEVENT_CTRL_CONNECTED, UEVENT_NS_ADD,
		UEVENT_CTRL_CONNECTED, /* the kernel reconnected after the port came back */
		UEVENT_IGNORE,         /* block change of the namespace */
		UEVENT_CTRL_REMOVE,    /* ctrl_loss_tmo expired */
		UEVENT_NS_REMOVE,      UEVENT_DISCOVERY_CHANGED,
	};
	struct event v[32];
	size_t n = read_events(DATA "/uevents-6.1.txt", v, ARRAY_SIZE(v));

	assert_int_equal(n, ARRAY_SIZE(want));
	for (size_t i = 0; i < n; i++) {
		enum uevent_kind k = uevent_translate(v[i].action, v[i].subsystem, v[i].sysname, v[i].devtype,
						      v[i].has_event ? v[i].nvme_event : NULL,
						      v[i].has_aen ? v[i].nvme_aen : NULL);

		if (k != want[i])
			fail_msg("event %zu (%s %s %s): got %s, want %s", i, v[i].action, v[i].subsystem, v[i].sysname,
				 uevent_kind_to_string(k), uevent_kind_to_string(want[i]));
	}
}

static void uevent_test_ignores_what_is_not_ours(void **state _unused_)
{
	assert_int_equal(uevent_translate("add", "nvme", "nvme-fabrics", NULL, NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("add", "nvme-subsystem", "nvme-subsys0", NULL, NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("add", "block", "nvme0c0n1", "disk", NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("add", "block", "nvme0n1p1", "partition", NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("add", "block", "sda", "disk", NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("change", "nvme", "nvme3", NULL, "rediscover", NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("change", "nvme", "nvme3", NULL, NULL, "0x000002"), UEVENT_IGNORE);
	assert_int_equal(uevent_translate(NULL, "nvme", "nvme3", NULL, NULL, NULL), UEVENT_IGNORE);
	assert_int_equal(uevent_translate("add", "infiniband", "rxe0", NULL, NULL, NULL), UEVENT_RDMA_ADD);
	assert_int_equal(uevent_translate("remove", "infiniband", "rxe0", NULL, NULL, NULL), UEVENT_RDMA_REMOVE);
	assert_int_equal(uevent_translate("change", "net", "nvmfh0", NULL, NULL, NULL), UEVENT_NET_CHANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(uevent_test_translates_what_the_lab_saw),
		cmocka_unit_test(uevent_test_ignores_what_is_not_ours),
	};
	return cmocka_run_group_tests_name("uevent", tests, NULL, NULL);
}
