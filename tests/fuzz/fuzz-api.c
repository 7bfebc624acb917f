/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's own request handler (daemon/api.c), one request a line, over a
 * manager with one discovery endpoint on an empty sysfs tree and no link
 * checks or probes (its connects fail at once: no /dev/nvme-fabrics; they run
 * on the worker, as in the daemon). Reloads alternate between an inventory
 * with errors and one that moves the endpoint. Oracle: every request gets a
 * reply that is a JSON object with a boolean "ok"; a refused one says why.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/macro.h"
#include "daemon/api.h"
#include "fuzz.h"
#include "inventory/hostid.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

static sd_event *loop;
static struct manager *m;
static unsigned reloads;

static struct inventory *load(const char *traddr)
{
	char yaml[512];
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	snprintf(yaml, sizeof(yaml),
		 "defaults: {transport: tcp}\nhosts:\n  - name: h\n    hostnqn: " HOSTNQN
		 "\n    connect: [{traddr: %s, trsvcid: 8009, iopolicy: round-robin}]\n", traddr);
	if (inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv) < 0)
		fuzz_fail("the harness's inventory does not load");
	diags_clear(&d);
	return inv;
}

static int reload(void *userdata, struct diags *d)
{
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct inventory *inv;

	(void)userdata;
	if (reloads++ % 2 == 0) {
		diags_add(d, DIAG_ERROR, "inv.yaml", 1, 1, "%s", "an error, as a broken inventory has");
		return -EINVAL;
	}
	inv = load(reloads % 4 == 1 ? "192.0.2.1" : "192.0.2.2");
	return manager_reload(m, inv, &inv->hosts[0], &id);
}

static void setup(void)
{
	static char sysfs[] = "/tmp/nvmfd-fuzz-api-XXXXXX";
	struct inventory *inv;
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .audit_interval = 3600 * USEC_PER_SEC };
	char p[64];

	if (!mkdtemp(sysfs))
		abort();
	snprintf(p, sizeof(p), "%s/class", sysfs);
	mkdir(p, 0755);
	o.sysfs = sysfs;
	inv = load("192.0.2.1");
	if (sd_event_new(&loop) < 0 || manager_new(loop, inv, &inv->hosts[0], &id, &o, &m) < 0 || manager_start(m) < 0)
		fuzz_fail("no manager");
}

static void check(struct json_object *reply)
{
	struct json_object *ok = json_object_object_get(reply, "ok");

	if (!reply || !json_object_is_type(reply, json_type_object))
		fuzz_fail("a reply that is no JSON object");
	if (!json_object_is_type(ok, json_type_boolean))
		fuzz_fail("a reply without a boolean \"ok\"");
	if (!json_object_get_boolean(ok) && !json_object_is_type(json_object_object_get(reply, "error"), json_type_string))
		fuzz_fail("a refusal that does not say why");
	if (!json_object_to_json_string(reply))
		fuzz_fail("a reply that cannot be written");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strndup(data, size), *save = NULL;

	if (!m)
		setup();
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *req = json_tokener_parse(line), *reply = NULL;

		if (!req || !json_object_is_type(req, json_type_object)) {
			json_object_put(req);
			continue; /* the socket's framing refuses these before the handler (fuzz-control) */
		}
		api_handle(m, reload, NULL, req, &reply);
		check(reply);
		json_object_put(reply);
		json_object_put(req);
		sd_event_run(loop, 0); /* what the requests set off: worker results, reconciles */
	}
	free(text);
	return 0;
}
