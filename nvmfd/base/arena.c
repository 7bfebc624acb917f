/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE 16384
#define ALIGN 16

struct block {
	struct block *next;
	size_t used, size;
	_Alignas(ALIGN) unsigned char data[];
};

struct arena {
	struct block *head;
	size_t used;
};

struct arena *arena_new(void)
{
	return calloc(1, sizeof(struct arena));
}

void arena_free(struct arena *a)
{
	if (!a)
		return;
	for (struct block *b = a->head, *next; b; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/* SIZE bytes at an offset aligned to ALIGN (a power of two up to the block's). */
static void *take(struct arena *a, size_t size, size_t align)
{
	struct block *b = a->head;
	size_t off = b ? (b->used + align - 1) & ~(align - 1) : 0;

	if (size > SIZE_MAX - sizeof(struct block))
		return NULL;
	if (!b || off > b->size || b->size - off < size) {
		size_t cap = size > BLOCK_SIZE ? size : BLOCK_SIZE;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->size = cap;
		b->used = 0;
		off = 0;
		/* A large block goes behind the current one, which keeps its room. */
		if (a->head && cap > BLOCK_SIZE) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	b->used = off + size;
	a->used += size;
	return b->data + off;
}

void *arena_alloc(struct arena *a, size_t size)
{
	void *p = take(a, size ? size : 1, ALIGN);

	if (p)
		memset(p, 0, size);
	return p;
}

void *arena_alloc_array(struct arena *a, size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return arena_alloc(a, n * size);
}

/* Text needs no alignment: a short string costs its length, not 16 bytes. */
char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = n < SIZE_MAX ? take(a, n + 1, 1) : NULL;

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

size_t arena_used(const struct arena *a)
{
	return a->used;
}
