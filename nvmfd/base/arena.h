/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A bump allocator: everything of one loaded inventory lives in one arena and
 * goes with it, so a reload builds a new inventory and frees the old in one
 * call. Allocations are zeroed; they return NULL when memory runs out.
 */
#pragma once

#include <stddef.h>

struct arena;

struct arena *arena_new(void);
void arena_free(struct arena *a);
void *arena_alloc(struct arena *a, size_t size);
void *arena_alloc_array(struct arena *a, size_t n, size_t size);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
/* Bytes handed out, for the benchmarks. */
size_t arena_used(const struct arena *a);
