/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/api.h"

#include <string.h>

#include "base/macro.h"
#include "daemon/control.h"

static struct json_object *reply_new(bool ok)
{
	struct json_object *r = json_object_new_object();

	json_object_object_add(r, "ok", json_object_new_boolean(ok));
	return r;
}

static struct json_object *reload_reply(api_reload_t reload, void *userdata)
{
	struct diags d = { 0 };
	int r = reload ? reload(userdata, &d) : -EOPNOTSUPP;
	struct json_object *reply = reply_new(r == 0);

	if (d.n_errors) {
		json_object_object_add(reply, "error", json_object_new_string("the inventory has errors; nothing changed"));
		json_object_object_add(reply, "errors", control_errors_json(&d));
	} else if (r < 0) {
		char msg[128];

		snprintf(msg, sizeof(msg), "reload failed: %s", strerror(-r));
		json_object_object_add(reply, "error", json_object_new_string(msg));
	}
	diags_clear(&d);
	return reply;
}

/* String member KEY of REQ into *RET (NULL when absent); false when it is another type. */
static bool member(struct json_object *req, const char *key, const char **ret)
{
	struct json_object *o = NULL;

	*ret = NULL;
	if (!json_object_object_get_ex(req, key, &o) || json_object_is_type(o, json_type_null))
		return true;
	if (!json_object_is_type(o, json_type_string))
		return false;
	*ret = json_object_get_string(o);
	return true;
}

static struct json_object *error_reply(const char *msg)
{
	struct json_object *r = reply_new(false);

	json_object_object_add(r, "error", json_object_new_string(msg));
	return r;
}

void api_handle(struct manager *m, api_reload_t reload, void *userdata, struct json_object *req,
		struct json_object **reply)
{
	const char *cmd, *arg;

	if (!member(req, "command", &cmd) || !member(req, "target", &arg)) {
		/* "target": 5 is not "every path" */
		*reply = error_reply("\"command\" and \"target\" are strings");
		return;
	}
	if (streq_ptr(cmd, "reload")) {
		*reply = reload_reply(reload, userdata);
		return;
	}
	*reply = reply_new(true);
	if (streq_ptr(cmd, "status")) {
		json_object_object_add(*reply, "status", manager_status_json(m));
	} else if (streq_ptr(cmd, "reconnect")) {
		json_object_object_add(*reply, "kicked", json_object_new_int((int)manager_kick(m, arg)));
	} else if (streq_ptr(cmd, "owns")) {
		json_object_object_add(*reply, "owned", json_object_new_boolean(manager_owns(m, arg)));
	} else if (streq_ptr(cmd, "iopolicy")) {
		const char *pol = manager_iopolicy(m, arg);

		json_object_object_add(*reply, "iopolicy", pol ? json_object_new_string(pol) : NULL);
	} else if (streq_ptr(cmd, "rescan")) {
		json_object_object_add(*reply, "rescanned", json_object_new_int((int)manager_rescan(m, arg)));
	} else if (streq_ptr(cmd, "discover")) {
		json_object_object_add(*reply, "reading", json_object_new_int((int)manager_rediscover(m, arg)));
	} else {
		json_object_put(*reply);
		*reply = error_reply("unknown command (status, reconnect, rescan, discover, reload, owns, iopolicy)");
	}
}
