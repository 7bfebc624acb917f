/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control API: what nvmfctl and udev ask (status, reconnect, discover,
 * reload, owns, iopolicy), answered from the manager. The control socket
 * (control.h) carries the lines; this reads a request and builds its reply.
 */
#pragma once

#include <json-c/json.h>

#include "base/diag.h"
#include "daemon/manager.h"

/* Read the inventory again and apply it; its errors go to D. */
typedef int (*api_reload_t)(void *userdata, struct diags *d);

/* Answer REQ (a JSON object) with *REPLY (a new JSON object, always). */
void api_handle(struct manager *m, api_reload_t reload, void *userdata, struct json_object *req,
		struct json_object **reply);
