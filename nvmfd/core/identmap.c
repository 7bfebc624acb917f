/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/identmap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= FNV_PRIME;
	}
	return h ^ 0xff; /* a separator, so "ab"+"c" differs from "a"+"bc" */
}

/* An address hashes as its bytes when it parses, as ident_equal compares it. */
static uint64_t fnv_addr(uint64_t h, const char *a)
{
	unsigned char b[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, b) == 1)
		return fnv(h, b, sizeof(struct in_addr));
	if (inet_pton(AF_INET6, a, b) == 1)
		return fnv(h, b, sizeof(struct in6_addr));
	return fnv(h, a, strlen(a));
}

uint64_t ident_hash(const struct ident *id)
{
	uint64_t h = FNV_OFFSET;

	h = fnv(h, id->transport, strlen(id->transport));
	h = fnv_addr(h, id->traddr);
	h = fnv(h, id->trsvcid, strlen(id->trsvcid));
	h = fnv_addr(h, id->host_traddr);
	h = fnv(h, id->host_iface, strlen(id->host_iface));
	h = fnv(h, id->subsysnqn, strlen(id->subsysnqn));
	return fnv(h, id->hostnqn, strlen(id->hostnqn));
}

static struct identmap_slot *find(const struct identmap *m, const struct ident *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct identmap_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && ident_equal(s->key, key)))
			return s;
	}
}

static int grow(struct identmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	struct identmap old = *m;

	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots) {
		*m = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(m, old.slots[i].key, old.slots[i].hash) = old.slots[i];
	free(old.slots);
	return 0;
}

int identmap_put(struct identmap *m, const struct ident *key, size_t value, size_t *ret_existing)
{
	uint64_t h = ident_hash(key);
	struct identmap_slot *s;

	/* at most half full: probes stay short */
	if ((m->n + 1) * 2 > m->cap && grow(m) < 0)
		return -ENOMEM;
	s = find(m, key, h);
	if (s->key) {
		if (ret_existing)
			*ret_existing = s->value;
		return -EEXIST;
	}
	*s = (struct identmap_slot){ .hash = h, .key = key, .value = value };
	m->n++;
	return 0;
}

bool identmap_get(const struct identmap *m, const struct ident *key, size_t *ret_value)
{
	const struct identmap_slot *s;

	if (!m->cap)
		return false;
	s = find(m, key, ident_hash(key));
	if (!s->key)
		return false;
	if (ret_value)
		*ret_value = s->value;
	return true;
}

void identmap_clear(struct identmap *m)
{
	free(m->slots);
	*m = (struct identmap){ 0 };
}
