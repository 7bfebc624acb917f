/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket: a Unix stream socket (mode 0600, peer credentials
 * checked: root or our own uid), one JSON object per line each way. A line
 * longer than CONTROL_MAX_REQUEST, one that is not a JSON object, or a
 * client that sends nothing useful for CONTROL_CLIENT_TIMEOUT gets an error
 * or is dropped, as is one whose reply would pass CONTROL_MAX_REPLY (after
 * an error saying so); the daemon never blocks on a client: replies wait in
 * a buffer until the socket takes them.
 */
#pragma once

#include <stdio.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "base/duration.h"

#define CONTROL_MAX_REQUEST 4096
#define CONTROL_CLIENT_TIMEOUT (5 * USEC_PER_SEC)
#define CONTROL_MAX_REPLY (16 * 1024 * 1024)
#define CONTROL_DEFAULT_SOCKET "/run/nvmfd/nvmfd.sock"

struct control;

/* Answer REQ (a JSON object) with *REPLY (a JSON object the server puts). */
typedef void (*control_handler_t)(void *userdata, struct json_object *req, struct json_object **reply);

int control_new(sd_event *loop, const char *path, control_handler_t handler, void *userdata, struct control **ret);
void control_free(struct control *c);
/* How long a client may stay without sending a request (default CONTROL_CLIENT_TIMEOUT). */
void control_set_client_timeout(struct control *c, usec_t t);

/* Client side, for nvmfctl: one request, one reply, all within TIMEOUT (a full
 * backlog is waited out meanwhile). */
int control_call(const char *path, struct json_object *req, usec_t timeout, struct json_object **reply);

struct diags;
/* D's errors as a JSON array of "FILE:LINE:COLUMN: error: message" strings,
 * for a reply's "errors" (NULL: out of memory). */
struct json_object *control_errors_json(const struct diags *d);
/* Print the "errors" of REPLY to F, one a line; returns how many. */
size_t control_print_errors(struct json_object *reply, FILE *f);
