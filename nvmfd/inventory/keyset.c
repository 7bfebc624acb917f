/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inventory/keyset.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

struct keyslot {
	uint32_t hash;
	uint32_t item; /* index + 1; 0: free */
};

static uint64_t seed;
static pthread_once_t seed_once = PTHREAD_ONCE_INIT;

static void seed_init(void)
{
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ULL;
}

/* FNV-1a from a random offset, then a 64-bit finaliser (splitmix64) for the
 * low bits the table uses. */
static uint32_t hash_of(const void *p, size_t n)
{
	const unsigned char *c = p;
	uint64_t h = seed ^ 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ c[i]) * 0x100000001b3ULL;
	h ^= n;
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
	return (uint32_t)(h ^ (h >> 31));
}

static bool same(const struct keyset *s, uint32_t item, const void *p, size_t n)
{
	struct keyview k = s->key(s->ctx, item - 1);

	return k.n == n && (n == 0 || memcmp(k.p, p, n) == 0);
}

/* The slot of KEY, or the free slot where it would go. */
static struct keyslot *slot_of(const struct keyset *s, uint32_t h, const void *p, size_t n)
{
	size_t mask = s->cap - 1;

	for (size_t at = h & mask;; at = (at + 1) & mask) {
		struct keyslot *x = &s->v[at];

		if (!x->item || (x->hash == h && same(s, x->item, p, n)))
			return x;
	}
}

static int grow(struct keyset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 16;
	struct keyslot *old = s->v, *v = calloc(cap, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		size_t at;

		if (!old[i].item)
			continue;
		for (at = old[i].hash & (cap - 1); v[at].item; at = (at + 1) & (cap - 1))
			;
		v[at] = old[i];
	}
	free(old);
	s->v = v;
	s->cap = cap;
	return 0;
}

ssize_t keyset_add(struct keyset *s, size_t i)
{
	struct keyview k = s->key(s->ctx, i);
	struct keyslot *x;
	uint32_t h;

	if (i >= UINT32_MAX || i > SSIZE_MAX)
		return -ENOMEM;
	pthread_once(&seed_once, seed_init);
	/* At most 3/4 full, so that probes stay short. */
	if ((s->n + 1) * 4 > s->cap * 3 && grow(s) < 0)
		return -ENOMEM;
	h = hash_of(k.p, k.n);
	x = slot_of(s, h, k.p, k.n);
	if (x->item)
		return (ssize_t)(x->item - 1);
	*x = (struct keyslot){ h, (uint32_t)i + 1 };
	s->n++;
	return (ssize_t)i;
}

ssize_t keyset_find(const struct keyset *s, const void *key, size_t n)
{
	struct keyslot *x;

	if (!s->n)
		return -ENOENT;
	pthread_once(&seed_once, seed_init);
	x = slot_of(s, hash_of(key, n), key, n);
	return x->item ? (ssize_t)(x->item - 1) : -ENOENT;
}

void keyset_done(struct keyset *s)
{
	free(s->v);
	s->v = NULL;
	s->cap = s->n = 0;
}
