/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inventory's YAML as a tree of nodes, built from libyaml's events: each
 * node keeps its place, an alias is the node it names. The builder, not
 * libyaml's own loader, so that the limits hold while the text is read:
 * nesting past YTREE_MAX_DEPTH ends the parse where it happens (libyaml's
 * scanner would take time quadratic in the depth), anchors are found in
 * constant time, and aliases may stand for at most YTREE_MAX_ALIASED nodes in
 * all (a file of aliases of aliases would otherwise be checked node by node
 * a billion times).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/diag.h"

#define YTREE_MAX_DEPTH 64
#define YTREE_MAX_ALIASED (1u << 20)

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
};

struct ypair;

struct ynode {
	enum ynode_type type;
	unsigned line, column; /* 1-based */
	bool plain;            /* a plain scalar, which may be a null */
	size_t n;              /* a scalar's bytes (NUL bytes may be among them), items, pairs */
	union {
		const char *text; /* with a NUL after its n bytes */
		struct ynode **items;
		struct ypair *pairs;
	};
};

struct ypair {
	struct ynode *key, *value;
};

/*
 * Parse LEN bytes of TEXT, one YAML document, into nodes allocated in ARENA.
 * Problems go to DIAGS as NAME:LINE:COLUMN (a byte that is not UTF-8 or not
 * allowed in YAML at its own line and column). Returns 0 with *ret, NULL
 * when the text holds no document; -EINVAL when reported; -ENOMEM.
 */
int ytree_parse(const char *name, const char *text, size_t len, struct arena *arena, struct diags *diags,
		struct ynode **ret);
