/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nvmfctl doctor: the seed's troubleshooting list (modules, both sides can
 * reach each other, the firewall) made automatic, for each configured path,
 * in the order a connect needs them. Each check gets a mark, what was found
 * and, when it fails, the fix. Checks that depend on a failed one are
 * skipped. The doctor makes no lasting change: it reads the discovery log
 * through a discovery controller of its own (the kernel always allows a
 * second one) and disconnects it, and where the log does not list a
 * subsystem it tries one connect, which the target refuses, to tell why.
 *
 * doctor_run() gathers; doctor_print() and doctor_json() render a report,
 * which tests build by hand.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

#include "inventory/hostid.h"
#include "inventory/inventory.h"

enum doctor_check {
	DOCTOR_MODULES,
	DOCTOR_FABRICS_DEV,
	DOCTOR_RDMA_DEVICE,
	DOCTOR_PORT_ACTIVE,
	DOCTOR_LINK_LAYER,
	DOCTOR_LOCAL_ADDR,
	DOCTOR_ROUTE,
	DOCTOR_RDMA_CM,
	DOCTOR_TARGET_PORT,
	DOCTOR_DISCOVERY,
	DOCTOR_HOST_ALLOWED,
	DOCTOR_IDENTITY,
	_DOCTOR_CHECK_MAX,
};

enum doctor_mark {
	DOCTOR_PASS,
	DOCTOR_WARN,
	DOCTOR_FAIL,
	DOCTOR_SKIP,
	_DOCTOR_MARK_MAX,
};

struct doctor_item {
	enum doctor_check check;
	enum doctor_mark mark;
	char finding[320];
	char fix[320];      /* "" unless it failed (or warns) */
};

struct doctor_path {
	char title[320];    /* "rdma 192.0.2.1:4420 (storage1, port 1)" */
	char daemon[160];   /* what nvmfd says of it, "" without a daemon */
	struct doctor_item items[_DOCTOR_CHECK_MAX];
	size_t n;
};

struct doctor_report {
	struct doctor_path *paths;
	size_t n;
	bool daemon;        /* nvmfd answered: its state is included */
};

const char *doctor_check_to_string(enum doctor_check c); /* "modules loaded" */
const char *doctor_check_key(enum doctor_check c);       /* "modules" (JSON) */
const char *doctor_mark_to_string(enum doctor_mark m);   /* "ok", "warn", "FAIL", "skip" */

struct doctor_env {
	const char *sysfs;              /* "/sys" */
	const char *etc_nvme;           /* NULL: /etc/nvme */
	struct json_object *status;     /* nvmfd's status, or NULL without a daemon */
};

/*
 * Check every endpoint of host H (those of FILTER only: a target name or a
 * traddr; NULL: all) into RET. ID is the identity nvmfd uses. Returns 0, or
 * -ENOENT when FILTER matches none, -ENOMEM.
 */
int doctor_run(const struct inventory *inv, const struct inv_host *h, const struct host_identity *id,
	       const char *filter, const struct doctor_env *env, struct doctor_report *ret);
void doctor_report_free(struct doctor_report *r);

/* Whether any check failed (warnings do not count). */
bool doctor_failed(const struct doctor_report *r);

void doctor_print(FILE *f, const struct doctor_report *r);
struct json_object *doctor_json(const struct doctor_report *r);

/* Add an item to P (for doctor_run, and for tests). */
void doctor_add(struct doctor_path *p, enum doctor_check c, enum doctor_mark m, const char *finding, const char *fix);
