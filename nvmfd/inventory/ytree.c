/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inventory/ytree.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "base/macro.h"
#include "inventory/keyset.h"

struct anchor {
	const char *name;
	struct ynode *node;
	size_t weight; /* the nodes it stands for, its aliases' included */
	bool open;     /* still being read: an alias inside it would make a cycle */
};

struct open_node {
	struct ynode *node;
	size_t first;  /* its first child in the builder's kids */
	size_t weight;
	ssize_t anchor; /* -1: none */
};

struct builder {
	const char *name, *text;
	size_t len;
	struct arena *arena;
	struct diags *diags;
	yaml_parser_t yp;
	struct open_node stack[YTREE_MAX_DEPTH];
	size_t depth;
	struct ynode **kids; /* the children of every open node, in order */
	size_t n_kids, cap_kids;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
	struct keyset anchor_set;
	size_t aliased; /* nodes the aliases stand for, so far */
	struct ynode *root;
};

_printf_(4, 5) static int error_at(struct builder *b, yaml_mark_t m, bool has_place, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_addv(b->diags, DIAG_ERROR, b->name, has_place ? (unsigned)m.line + 1 : 0,
		   has_place ? (unsigned)m.column + 1 : 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static size_t add_sat(size_t a, size_t b)
{
	return a + b < a ? SIZE_MAX : a + b;
}

/* ---------------------------------------------------------------------- */
/* where a byte is: libyaml gives only the offset of a byte its reader refuses */

static bool utf16_break(const unsigned char *s, bool le)
{
	unsigned v = le ? s[0] | (unsigned)s[1] << 8 : (unsigned)s[0] << 8 | s[1];

	return v == '\n' || v == 0x85 || v == 0x2028 || v == 0x2029;
}

/* Line and column (in characters, as libyaml counts them) of byte OFFSET. */
static yaml_mark_t place_of(const char *text, size_t len, size_t offset)
{
	const unsigned char *s = (const unsigned char *)text;
	yaml_mark_t m = { .index = offset };
	size_t i = 0;

	if (offset > len)
		offset = len;
	if (len >= 2 && (memcmp(s, "\xff\xfe", 2) == 0 || memcmp(s, "\xfe\xff", 2) == 0)) {
		bool le = s[0] == 0xff;

		/* A low surrogate is no character of its own. */
		for (i = 2; i < offset && i + 1 < len; i += 2) {
			unsigned hi = le ? s[i + 1] : s[i];

			if (utf16_break(s + i, le))
				m.line++, m.column = 0;
			else if ((hi & 0xfc) != 0xdc)
				m.column++;
		}
		return m;
	}
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	for (; i < offset; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		if (s[i] == '\n' || s[i] == '\r' || (s[i] == 0xc2 && i + 1 < offset && s[i + 1] == 0x85) ||
		    (s[i] == 0xe2 && i + 2 < offset && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))) {
			m.line++;
			m.column = 0;
			i += s[i] == 0xc2 ? 1 : s[i] == 0xe2 ? 2 : 0;
		} else if ((s[i] & 0xc0) != 0x80) {
			m.column++;
		}
	}
	return m;
}

static int parse_error(struct builder *b)
{
	const yaml_parser_t *yp = &b->yp;
	yaml_mark_t m = yp->problem_mark;

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		return -ENOMEM;
	case YAML_READER_ERROR:
		m = place_of(b->text, b->len, yp->problem_offset);
		if (yp->problem_value < 0)
			return error_at(b, m, true, "not valid YAML: %s", strempty(yp->problem));
		return error_at(b, m, true, strstr(strempty(yp->problem), "octet") ? "not valid YAML: %s (byte 0x%02x)"
										     : "not valid YAML: %s (U+%04X)",
				strempty(yp->problem), (unsigned)yp->problem_value);
	case YAML_NO_ERROR:
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR:
		break;
	}
	return error_at(b, m, true, "not valid YAML: %s%s%s", strempty(yp->problem), yp->context ? " " : "",
			strempty(yp->context));
}

/* ---------------------------------------------------------------------- */
/* anchors */

static struct keyview anchor_key(const void *ctx, size_t i)
{
	const struct builder *b = ctx;

	return (struct keyview){ b->anchors[i].name, strlen(b->anchors[i].name) };
}

/* Anchor NAME on NODE; its index, or a negative errno. */
static ssize_t anchor_add(struct builder *b, const yaml_char_t *name, struct ynode *node, yaml_mark_t m, bool open)
{
	ssize_t k;

	if (b->n_anchors == b->cap_anchors) {
		size_t cap = b->cap_anchors ? b->cap_anchors * 2 : 16;
		struct anchor *v = realloc(b->anchors, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->anchors = v;
		b->cap_anchors = cap;
	}
	b->anchors[b->n_anchors] = (struct anchor){ arena_strdup(b->arena, (const char *)name), node, 1, open };
	if (!b->anchors[b->n_anchors].name)
		return -ENOMEM;
	k = keyset_add(&b->anchor_set, b->n_anchors);
	if (k < 0)
		return k;
	if ((size_t)k != b->n_anchors)
		return error_at(b, m, true, "anchor &%s is defined twice (first at line %u)", (const char *)name,
				b->anchors[k].node->line);
	return (ssize_t)b->n_anchors++;
}

/* ---------------------------------------------------------------------- */
/* nodes */

static struct ynode *node_new(struct builder *b, enum ynode_type type, yaml_mark_t m)
{
	struct ynode *n = arena_alloc(b->arena, sizeof(*n));

	if (n)
		*n = (struct ynode){ .type = type, .line = (unsigned)m.line + 1, .column = (unsigned)m.column + 1 };
	return n;
}

/* NODE, standing for WEIGHT nodes, as the next child of the open node (or the root). */
static int add_child(struct builder *b, struct ynode *node, size_t weight)
{
	struct open_node *parent;

	if (!b->depth) {
		b->root = node;
		return 0;
	}
	parent = &b->stack[b->depth - 1];
	parent->weight = add_sat(parent->weight, weight);
	if (b->n_kids == b->cap_kids) {
		size_t cap = b->cap_kids ? b->cap_kids * 2 : 64;
		struct ynode **v = realloc(b->kids, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->kids = v;
		b->cap_kids = cap;
	}
	b->kids[b->n_kids++] = node;
	return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n = node_new(b, YNODE_SCALAR, ev->start_mark);
	ssize_t k;

	if (!n || !(n->text = arena_strndup(b->arena, (const char *)ev->data.scalar.value, ev->data.scalar.length)))
		return -ENOMEM;
	n->n = ev->data.scalar.length;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (ev->data.scalar.anchor && (k = anchor_add(b, ev->data.scalar.anchor, n, ev->start_mark, false)) < 0)
		return (int)k;
	return add_child(b, n, 1);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum ynode_type type, const yaml_char_t *anchor)
{
	struct ynode *n;
	ssize_t k = -1;

	if (b->depth == YTREE_MAX_DEPTH)
		return error_at(b, ev->start_mark, true, "the inventory is nested deeper than %d levels here", YTREE_MAX_DEPTH);
	n = node_new(b, type, ev->start_mark);
	if (!n)
		return -ENOMEM;
	if (anchor && (k = anchor_add(b, anchor, n, ev->start_mark, true)) < 0)
		return (int)k;
	b->stack[b->depth++] = (struct open_node){ n, b->n_kids, 1, k };
	return 0;
}

/* What an empty collection points at. */
static struct ynode *no_items[1];
static struct ypair no_pairs[1];

static int on_end(struct builder *b)
{
	struct open_node o = b->stack[--b->depth];
	struct ynode *n = o.node;
	size_t count = b->n_kids - o.first;
	struct ynode **kids = count ? b->kids + o.first : NULL;

	if (n->type == YNODE_MAPPING) {
		n->n = count / 2;
		n->pairs = n->n ? arena_alloc_array(b->arena, n->n, sizeof(*n->pairs)) : no_pairs;
		if (!n->pairs)
			return -ENOMEM;
		for (size_t i = 0; i < n->n; i++)
			n->pairs[i] = (struct ypair){ kids[2 * i], kids[2 * i + 1] };
	} else {
		n->n = count;
		n->items = count ? arena_alloc_array(b->arena, count, sizeof(*n->items)) : no_items;
		if (!n->items)
			return -ENOMEM;
		if (count)
			memcpy(n->items, kids, count * sizeof(*kids));
	}
	b->n_kids = o.first;
	if (o.anchor >= 0) {
		b->anchors[o.anchor].open = false;
		b->anchors[o.anchor].weight = o.weight;
	}
	return add_child(b, n, o.weight);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	ssize_t k = keyset_find(&b->anchor_set, name, strlen(name));
	const struct anchor *a;

	if (k < 0)
		return error_at(b, ev->start_mark, true, "alias *%s names no anchor before it", name);
	a = &b->anchors[k];
	if (a->open)
		return error_at(b, ev->start_mark, true, "alias *%s is inside the node it names", name);
	b->aliased = add_sat(b->aliased, a->weight);
	if (b->aliased > YTREE_MAX_ALIASED)
		return error_at(b, ev->start_mark, true,
				"the aliases up to here stand for more than %u nodes: write the entries out, or use defaults",
				YTREE_MAX_ALIASED);
	return add_child(b, a->node, a->weight);
}

/* ---------------------------------------------------------------------- */

static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(b, ev, YNODE_SEQUENCE, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(b, ev, YNODE_MAPPING, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(b);
	case YAML_ALIAS_EVENT:
		return on_alias(b, ev);
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
		break;
	}
	return 0;
}

static int next_event(struct builder *b, yaml_event_t *ev)
{
	return yaml_parser_parse(&b->yp, ev) ? 0 : parse_error(b);
}

/* After the first document: nothing, or an error where a second one starts. */
static int after_document(struct builder *b)
{
	yaml_event_t ev;
	int r = next_event(b, &ev);

	if (r < 0)
		return r;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		if ((r = next_event(b, &ev)) < 0)
			return r;
		r = error_at(b, ev.start_mark, true, "the inventory is one YAML document; a second one starts here");
	}
	yaml_event_delete(&ev);
	return r;
}

static int build(struct builder *b)
{
	for (;;) {
		yaml_event_t ev;
		yaml_event_type_t type;
		int r = next_event(b, &ev);

		if (r < 0)
			return r;
		r = on_event(b, &ev);
		type = ev.type;
		yaml_event_delete(&ev);
		if (r < 0)
			return r;
		if (type == YAML_DOCUMENT_END_EVENT)
			return after_document(b);
		if (type == YAML_STREAM_END_EVENT)
			return 0;
	}
}

int ytree_parse(const char *name, const char *text, size_t len, struct arena *arena, struct diags *diags,
		struct ynode **ret)
{
	struct builder b = { .name = name, .text = text, .len = len, .arena = arena, .diags = diags };
	int r;

	b.anchor_set = KEYSET_INIT(anchor_key, &b);
	if (!yaml_parser_initialize(&b.yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&b.yp, (const unsigned char *)text, len);
	r = build(&b);
	yaml_parser_delete(&b.yp);
	free(b.kids);
	free(b.anchors);
	keyset_done(&b.anchor_set);
	*ret = r < 0 ? NULL : b.root;
	return r;
}
