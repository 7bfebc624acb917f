/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Identities to indices, in constant time: the reconcile matches every
 * desired identity against every path on each round, and a discovery log
 * may list 65,536 of them. Keys compare as identities compare (ident_equal:
 * addresses as addresses), so they hash in that form too. The map points at
 * keys it does not own: they must outlive it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ident.h"

struct identmap_slot {
	uint64_t hash;
	const struct ident *key; /* NULL: free */
	size_t value;
};

struct identmap {
	struct identmap_slot *slots;
	size_t cap; /* a power of two, or 0 */
	size_t n;
};

/* A hash of ID that equal identities share. */
uint64_t ident_hash(const struct ident *id);

/* Add KEY -> VALUE. Returns 0, -EEXIST (KEY is there: *RET_EXISTING set when
 * not NULL, nothing changed) or -ENOMEM. */
int identmap_put(struct identmap *m, const struct ident *key, size_t value, size_t *ret_existing);
/* The value of KEY, if it is there. */
bool identmap_get(const struct identmap *m, const struct ident *key, size_t *ret_value);
void identmap_clear(struct identmap *m);
