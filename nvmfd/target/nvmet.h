/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's NVMe target (nvmet) as configfs objects, and convergence by
 * difference: the desired tree (from an inventory target) and the live tree
 * (read under a configfs root) are flat lists of objects (directories with
 * attributes, or symlinks) keyed by their path under nvmet/. The plan turns
 * live into desired touching only what differs, in nvmetcli's order, so hosts
 * connected to untouched subsystems keep their connections.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/diag.h"
#include "inventory/inventory.h"

/* In creation order; removal goes in reverse. */
enum nvmet_kind {
	NVMET_HOST,
	NVMET_SUBSYSTEM,
	NVMET_NAMESPACE,
	NVMET_ALLOWED_HOST, /* link subsystems/S/allowed_hosts/H -> hosts/H */
	NVMET_PORT,
	NVMET_REFERRAL,
	NVMET_PORT_SUBSYSTEM, /* link ports/P/subsystems/S -> subsystems/S */
	_NVMET_KIND_MAX,
};

struct nvmet_attr {
	const char *name;
	const char *value;
	const char *secret_from; /* a secret read from this file: never printed */
	/* An identity nvmetcfg derived where the inventory gives none
	 * (target/identity.h): written when its object is made, never changed
	 * on a live one, where a difference is only noted. */
	bool derived;
};

struct nvmet_obj {
	enum nvmet_kind kind;
	const char *path;   /* under nvmet/, e.g. "ports/1" */
	const char *link;   /* links: the path under nvmet/ they point to */
	const char *parent; /* the gated object's parent, for links and children */
	struct nvmet_attr *attrs;
	size_t n_attrs;
};

struct nvmet_tree {
	struct arena *arena;
	struct nvmet_obj *objs;
	size_t n, cap;
};

enum nvmet_op {
	NVMET_MKDIR,
	NVMET_RMDIR,
	NVMET_WRITE,
	NVMET_SYMLINK,
	NVMET_UNLINK,
	NVMET_NOTE, /* nothing to do: a derived identity that differs from the live one, kept */
};

struct nvmet_action {
	enum nvmet_op op;
	char sign; /* '+', '-' or '~' in the plan */
	const char *path;  /* under nvmet/ */
	const char *value; /* WRITE: the value; SYMLINK: the target under nvmet/ */
	const char *old;   /* WRITE of a changed attribute: the live value */
	const char *secret_from;
	const char *why;   /* a step the kernel's rules force, e.g. "to change device_path" */
};

/* A plan owns copies of its strings; it does not depend on the trees. */
struct nvmet_plan {
	struct arena *arena;
	struct nvmet_action *v;
	size_t n, cap;
	size_t n_notes; /* of the N, those that are notes */
};

void nvmet_tree_free(struct nvmet_tree *t);
void nvmet_plan_free(struct nvmet_plan *p);

/*
 * The tree target T asks for. Key files are read here (their contents are
 * what the kernel takes); problems go to DIAGS with their place in the
 * inventory. Returns 0, -EINVAL after a diagnostic, -ENOMEM.
 */
int nvmet_tree_from_target(const struct inventory *inv, const struct inv_target *t, struct diags *diags,
			   struct nvmet_tree *ret);

/*
 * The live tree under ROOT (the configfs mount). A missing nvmet/ directory is
 * -ENOENT. Errors name the path and the errno in DIAGS.
 */
int nvmet_tree_read(const char *root, struct diags *diags, struct nvmet_tree *ret);

/* What turns LIVE into DESIRED (DESIRED empty: clear everything). */
int nvmet_plan_make(const struct nvmet_tree *live, const struct nvmet_tree *desired, struct nvmet_plan *ret);

/*
 * An enabled RDMA port (one with subsystems linked) and whether the kernel
 * listens on it. On 6.1 the removal of the RDMA device under a port ends
 * nvmet-rdma's listener for good (nvmet_rdma_cm_handler drops the listening
 * cm_id on RDMA_CM_EVENT_DEVICE_REMOVAL; only an address change schedules
 * nvmet_rdma_repair_port_work), while configfs still shows the port as it
 * was. The kernel listens again only when the port is enabled anew: its last
 * subsystem unlinked, then linked again.
 */
struct nvmet_port_check {
	const char *port; /* "ports/1" */
	const char *traddr, *trsvcid;
	size_t n_subsystems;
	int held; /* the check's answer: 1 listening, 0 not, a negative errno: cannot tell */
};

/* Whether something listens on TRADDR:TRSVCID: 1, 0, or a negative errno. */
typedef int (*nvmet_listen_check_t)(const char *traddr, const char *trsvcid);

/*
 * Check each enabled RDMA port of LIVE with CHECK (but those SKIP, a plan
 * that may be NULL, changes anyway); for each that nothing
 * listens on, append to PLAN the removal of its subsystem links and their
 * creation again, in that order (the port enabled anew). *RET: one entry per
 * port checked (*N of them), pointing into LIVE; free() it.
 */
int nvmet_plan_relisten(const struct nvmet_tree *live, const struct nvmet_plan *skip, nvmet_listen_check_t check,
			struct nvmet_plan *plan, struct nvmet_port_check **ret, size_t *n);

/* One line per object and attribute: "+ path", "~ path: old -> new", "- path",
 * and for a note "! path: live (derived D: kept ...)". */
void nvmet_plan_print(FILE *f, const struct nvmet_plan *p);

/*
 * Carry the plan out under ROOT, in order. Stops at the first failure, with
 * the configfs path, the errno and the likely cause in DIAGS, and returns
 * the negative errno; running it again after a fix converges. KEEP_GOING:
 * carries on past a failure (each in DIAGS) and returns the first, for a
 * repair whose every link must be tried again whatever befalls another.
 */
int nvmet_plan_apply(const char *root, const struct nvmet_plan *p, bool keep_going, struct diags *diags);

/* Whether T has an RDMA port (enabled or not). */
bool nvmet_tree_has_rdma_port(const struct nvmet_tree *t);

/* The live tree as an inventory target entry named NAME, for `show`. */
int nvmet_tree_to_target(const struct nvmet_tree *t, const char *name, struct arena *arena,
			 struct inv_target *ret);
