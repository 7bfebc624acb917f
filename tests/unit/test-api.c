/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control API's request handler, over a manager with nothing to connect. */
#include "cmocka-prelude.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "base/macro.h"
#include "daemon/api.h"
#include "inventory/hostid.h"
#include "load-inventory.h"

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"

struct world {
	char sysfs[32];
	sd_event *loop;
	struct manager *m;
	int reloads;
};

static int fake_reload(void *userdata, struct diags *d)
{
	struct world *w = userdata;

	if (w->reloads++ == 0) {
		diags_add(d, DIAG_ERROR, "inv.yaml", 3, 7, "%s", "queue_size is from 16 to 1024, not 3");
		return -EINVAL;
	}
	return 0;
}

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n    hostnqn: " HOSTNQN "\n    connect: []\n");
	struct host_identity id = { .hostnqn = HOSTNQN };
	struct manager_options o = { .audit_interval = 3600 * USEC_PER_SEC };
	char p[64];

	snprintf(w->sysfs, sizeof(w->sysfs), "/tmp/nvmfd-api-XXXXXX");
	assert_non_null(mkdtemp(w->sysfs));
	snprintf(p, sizeof(p), "%s/class", w->sysfs);
	mkdir(p, 0755);
	o.sysfs = w->sysfs;
	assert_int_equal(sd_event_new(&w->loop), 0);
	assert_int_equal(manager_new(w->loop, inv, &inv->hosts[0], &id, &o, &w->m), 0);
	assert_int_equal(manager_start(w->m), 0);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	char cmd[64];

	manager_free(w->m);
	sd_event_unref(w->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->sysfs);
	free(w);
	return system(cmd);
}

/* The reply to the request TEXT. */
static struct json_object *ask(struct world *w, const char *text)
{
	struct json_object *req = json_tokener_parse(text), *reply = NULL;

	assert_non_null(req);
	api_handle(w->m, fake_reload, w, req, &reply);
	json_object_put(req);
	assert_non_null(reply);
	assert_true(json_object_is_type(json_object_object_get(reply, "ok"), json_type_boolean));
	return reply;
}

static bool ok_of(struct json_object *r)
{
	return json_object_get_boolean(json_object_object_get(r, "ok"));
}

static void api_test_answers_each_command(void **state)
{
	struct world *w = *state;
	struct json_object *r;

	r = ask(w, "{\"command\":\"status\"}");
	assert_true(ok_of(r));
	assert_string_equal(json_object_get_string(json_object_object_get(json_object_object_get(r, "status"), "host")), "h");
	json_object_put(r);
	r = ask(w, "{\"command\":\"reconnect\",\"target\":\"nqn.2020-09.com.example:a\"}");
	assert_true(ok_of(r));
	assert_int_equal(json_object_get_int(json_object_object_get(r, "kicked")), 0);
	json_object_put(r);
	r = ask(w, "{\"command\":\"owns\",\"target\":\"nvme0\"}");
	assert_false(json_object_get_boolean(json_object_object_get(r, "owned")));
	json_object_put(r);
	r = ask(w, "{\"command\":\"fly\"}");
	assert_false(ok_of(r));
	json_object_put(r);
}

/* A target that is no string is an error, not "every path". */
static void api_test_refuses_members_of_the_wrong_type(void **state)
{
	struct world *w = *state;
	static const char *const bad[] = { "{\"command\":\"reconnect\",\"target\":5}", "{\"command\":7}",
					   "{\"command\":\"owns\",\"target\":[\"nvme0\"]}" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct json_object *r = ask(w, bad[i]);

		assert_false(ok_of(r));
		assert_non_null(strstr(json_object_get_string(json_object_object_get(r, "error")), "strings"));
		json_object_put(r);
	}
}

static void api_test_a_broken_reload_says_every_error(void **state)
{
	struct world *w = *state;
	struct json_object *r = ask(w, "{\"command\":\"reload\"}"), *errors = json_object_object_get(r, "errors");

	assert_false(ok_of(r));
	assert_int_equal(json_object_array_length(errors), 1);
	assert_non_null(strstr(json_object_get_string(json_object_array_get_idx(errors, 0)), "inv.yaml:3:7: error: queue_size"));
	json_object_put(r);
	r = ask(w, "{\"command\":\"reload\"}");
	assert_true(ok_of(r));
	json_object_put(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(api_test_answers_each_command, setup, teardown),
		cmocka_unit_test_setup_teardown(api_test_refuses_members_of_the_wrong_type, setup, teardown),
		cmocka_unit_test_setup_teardown(api_test_a_broken_reload_says_every_error, setup, teardown),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
