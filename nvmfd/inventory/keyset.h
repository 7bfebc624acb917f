/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The first item of each key in a list, found in linear time: the inventory's
 * duplicate checks and name lookups. The set keeps item indices only (8
 * bytes an entry) and asks KEY for an item's key, so the list may move
 * while the set lives. The hash is seeded at random, so that no file can be
 * written to make its keys collide.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct keyview {
	const void *p;
	size_t n;
};

typedef struct keyview (*keyset_key_fn)(const void *ctx, size_t i);

struct keyslot;

struct keyset {
	struct keyslot *v;
	size_t cap, n;
	keyset_key_fn key;
	const void *ctx;
};

#define KEYSET_INIT(fn, c) ((struct keyset){ .key = (fn), .ctx = (c) })

/* Item I's key: I when no item before had it (I is then kept), else the
 * index of the first that had; -ENOMEM. */
ssize_t keyset_add(struct keyset *s, size_t i);
/* The item whose key is KEY (N bytes), or -ENOENT. */
ssize_t keyset_find(const struct keyset *s, const void *key, size_t n);
void keyset_done(struct keyset *s);
