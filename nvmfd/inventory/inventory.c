/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing and validating the inventory. The YAML is read into a tree of
 * nodes (ytree.c: every node keeps its line and column); the walkers below
 * check each mapping against its keys, convert each value and report every
 * problem with its place, going on after an error so that one run shows them
 * all. Every check is linear in the size of the file: duplicates and names
 * are found through key sets, and what one entry multiplies (a target's
 * ports for each connect entry that names it, a target's subsystems for
 * each of its ports) is bounded (inventory.h, the limits).
 */
#include "inventory/inventory.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/fileio.h"
#include "base/macro.h"
#include "base/nqn.h"
#include "inventory/keyset.h"
#include "inventory/ytree.h"

const struct inv_fabrics inv_fabrics_default = {
	.nr_io_queues = 0,
	.queue_size = 128,
	.keep_alive_tmo = 5,
	/* The kernel's own retry every 2 s while it still holds the controller;
	 * nvmfd recreates it after ctrl_loss_tmo. */
	.reconnect_delay = 2,
	.ctrl_loss_tmo = 600,
	.fast_io_fail_tmo = -1,
};

const struct inv_backoff inv_backoff_default = {
	.initial = 500 * USEC_PER_MSEC,
	.max = 30 * USEC_PER_SEC,
	.jitter_pct = 20,
};

static const char *const transport_table[_TRANSPORT_MAX] = {
	[TRANSPORT_RDMA] = "rdma",
	[TRANSPORT_TCP] = "tcp",
};
static const char *const adrfam_table[_ADRFAM_MAX] = {
	[ADRFAM_IPV4] = "ipv4",
	[ADRFAM_IPV6] = "ipv6",
};
static const char *const on_removed_table[_ON_REMOVED_MAX] = {
	[ON_REMOVED_KEEP] = "keep",
	[ON_REMOVED_DISCONNECT] = "disconnect",
};

static int table_lookup(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (table[i] && streq(table[i], s))
			return (int)i;
	return -EINVAL;
}

const char *transport_to_string(enum transport t)
{
	return (unsigned)t < _TRANSPORT_MAX ? transport_table[t] : NULL;
}
int transport_from_string(const char *s)
{
	return table_lookup(transport_table, _TRANSPORT_MAX, s);
}
const char *adrfam_to_string(enum adrfam a)
{
	return (unsigned)a < _ADRFAM_MAX ? adrfam_table[a] : NULL;
}
int adrfam_from_string(const char *s)
{
	return table_lookup(adrfam_table, _ADRFAM_MAX, s);
}
const char *on_removed_to_string(enum on_removed o)
{
	return (unsigned)o < _ON_REMOVED_MAX ? on_removed_table[o] : NULL;
}
int on_removed_from_string(const char *s)
{
	return table_lookup(on_removed_table, _ON_REMOVED_MAX, s);
}

/* ---------------------------------------------------------------------- */

/* What the checks of one target need beside it, found once. */
struct target_index {
	struct keyset subsystems; /* by NQN */
	struct keyset ports;      /* by id */
	const char **all_nqns;    /* what a port without subsystems: exposes, shared */
	size_t n_all;
	bool all_done;
	size_t *usable;           /* the ports with an address, which endpoints can name */
	size_t n_usable;
	bool usable_done;
};

/* What the checks of one host need beside it: its endpoints by path identity. */
struct host_index {
	struct inv_host *h;
	size_t cap;               /* room in h->endpoints */
	const char **ids;         /* each endpoint's identity, as one string */
	struct keyset endpoints;
	bool full;                /* INV_MAX_HOST_ENDPOINTS reached, and said */
};

struct parser {
	const char *file;
	struct diags *diags;
	struct arena *arena;   /* the inventory's */
	struct arena *scratch; /* the tree and the indexes: freed after the load */
	struct inventory *inv;
	bool oom;
	/* defaults: section values that are not fabrics options */
	int default_transport; /* -1: none */
	const char *default_trsvcid;
	struct target_index *tix; /* parallel to inv->targets */
	struct keyset targets_by_name, hosts_by_name;
	size_t n_endpoints, n_links; /* of all hosts, of all targets */
	bool endpoints_full, links_full;
};

_printf_(3, 4) static void error_at(struct parser *p, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_addv(p->diags, DIAG_ERROR, p->file, n ? n->line : 0, n ? n->column : 0, fmt, ap);
	va_end(ap);
}

_printf_(4, 5) static void error_loc(struct parser *p, enum diag_level level, struct inv_loc loc,
				     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_addv(p->diags, level, p->file, loc.line, loc.column, fmt, ap);
	va_end(ap);
}

static struct inv_loc loc_of(const struct ynode *n)
{
	return (struct inv_loc){ n->line, n->column };
}

static const char *kind_of(const struct ynode *n)
{
	switch (n->type) {
	case YNODE_SCALAR:
		return "a single value";
	case YNODE_SEQUENCE:
		return "a list";
	case YNODE_MAPPING:
		return "a mapping";
	}
	return "nothing";
}

static bool is_null(const struct ynode *n)
{
	const char *v = n->text;

	if (n->type != YNODE_SCALAR || !n->plain)
		return false;
	return !*v || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL");
}

/* Whether N is a scalar that reads S. */
static bool scalar_is(const struct ynode *n, const char *s)
{
	return n->type == YNODE_SCALAR && streq(n->text, s);
}

static void *alloc_array(struct parser *p, size_t n, size_t size)
{
	void *v = arena_alloc_array(p->arena, n ? n : 1, size);

	if (!v)
		p->oom = true;
	return v;
}

static void *scratch_array(struct parser *p, size_t n, size_t size)
{
	void *v = arena_alloc_array(p->scratch, n ? n : 1, size);

	if (!v)
		p->oom = true;
	return v;
}

/* N, a list of ITEMS (for the message): room for each of them, or NULL after an error. */
static void *list_alloc(struct parser *p, const struct ynode *n, const char *what, const char *items, size_t size)
{
	if (n->type != YNODE_SEQUENCE) {
		error_at(p, n, "%s is a list of %s, not %s", what, items, kind_of(n));
		return NULL;
	}
	return alloc_array(p, n->n, size);
}

#define for_each_item(seq, it) for (struct ynode *const *it = (seq)->items; it < (seq)->items + (seq)->n; it++)

/* Item I of a list was seen before as item FIRST (or is new: FIRST == I);
 * false when memory ran out. */
static bool first_of(struct parser *p, struct keyset *s, size_t i, size_t *first)
{
	ssize_t k = keyset_add(s, i);

	if (k < 0) {
		p->oom = true;
		return false;
	}
	*first = (size_t)k;
	return true;
}

static bool seen_before(struct parser *p, struct keyset *s, size_t i, size_t *first)
{
	return first_of(p, s, i, first) && *first != i;
}

static struct keyview key_text(const char *s)
{
	return (struct keyview){ s, s ? strlen(s) : 0 };
}

/* Join the keys of a table for "allowed: ..." messages, into BUF. */
static const char *join_keys(char *buf, size_t size, const char *const *keys, size_t n)
{
	size_t at = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && at < size; i++) {
		int k = snprintf(buf + at, size - at, "%s%s", i ? ", " : "", keys[i]);

		if (k < 0)
			break;
		at += (size_t)k;
	}
	return buf;
}

#define KEYS_TEXT_MAX 512

/* The keys for a message, unless the message would only be counted. */
static const char *keys_text(struct parser *p, char *buf, const char *const *keys, size_t n)
{
	return diags_full(p->diags, DIAG_ERROR) ? "" : join_keys(buf, KEYS_TEXT_MAX, keys, n);
}

/*
 * Check that N is a mapping of KEYS only, each at most once; set v[i] to the
 * value of keys[i] (NULL when absent). Returns false when N is no mapping.
 */
static bool get_fields(struct parser *p, const struct ynode *n, const char *what,
		       const char *const *keys, size_t n_keys, struct ynode **v)
{
	char allowed[KEYS_TEXT_MAX];

	memset(v, 0, n_keys * sizeof(*v));
	if (n->type != YNODE_MAPPING) {
		error_at(p, n, "%s is a mapping of keys (%s), not %s", what,
			 keys_text(p, allowed, keys, n_keys), kind_of(n));
		return false;
	}
	for (const struct ypair *pair = n->pairs; pair < n->pairs + n->n; pair++) {
		const struct ynode *k = pair->key;
		size_t i;

		if (k->type != YNODE_SCALAR) {
			error_at(p, k, "a key in %s is %s; keys are names (%s)", what, kind_of(k),
				 keys_text(p, allowed, keys, n_keys));
			continue;
		}
		for (i = 0; i < n_keys && !streq(keys[i], k->text); i++)
			;
		if (i == n_keys) {
			error_at(p, k, "unknown key '%s' in %s (allowed: %s)", k->text, what,
				 keys_text(p, allowed, keys, n_keys));
			continue;
		}
		if (v[i]) {
			error_at(p, k, "'%s' is given twice in %s (first at line %u)", k->text, what, v[i]->line);
			continue;
		}
		v[i] = pair->value;
	}
	return true;
}

static void require(struct parser *p, const struct ynode *map, const char *what, const char *key,
		    const struct ynode *v)
{
	if (!v)
		error_at(p, map, "%s needs '%s'", what, key);
}

/* A single text value; NULL (after an error) otherwise. */
static const char *get_text(struct parser *p, const struct ynode *n, const char *what)
{
	const char *s;

	if (n->type != YNODE_SCALAR) {
		error_at(p, n, "%s is a single value, not %s", what, kind_of(n));
		return NULL;
	}
	if (is_null(n)) {
		error_at(p, n, "%s needs a value", what);
		return NULL;
	}
	if (strlen(n->text) != n->n) {
		error_at(p, n, "%s contains a NUL byte", what);
		return NULL;
	}
	s = arena_strndup(p->arena, n->text, n->n);
	if (!s)
		p->oom = true;
	return s;
}

/*
 * A whole number as written in decimal: digits only, no sign, no leading
 * zero (YAML 1.1 tools read 010 as eight), no space. -EINVAL when S is none,
 * -ERANGE when it is past ULONG_MAX.
 */
static int parse_decimal(const char *s, unsigned long *ret)
{
	unsigned long v = 0;

	if (!isdigit((unsigned char)*s) || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		if (v > (ULONG_MAX - d) / 10) {
			for (; isdigit((unsigned char)*s); s++)
				;
			return *s ? -EINVAL : -ERANGE;
		}
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static bool get_uint(struct parser *p, const struct ynode *n, const char *what, unsigned long min,
		     unsigned long max, unsigned long *ret)
{
	const char *s = get_text(p, n, what);
	unsigned long v = 0;
	int r;

	if (!s)
		return false;
	r = parse_decimal(s, &v);
	if (r == -EINVAL) {
		error_at(p, n, "%s is a whole number from %lu to %lu, not '%s'", what, min, max, s);
		return false;
	}
	if (r < 0 || v < min || v > max) {
		error_at(p, n, "%s is from %lu to %lu, not %s", what, min, max, s);
		return false;
	}
	*ret = v;
	return true;
}
static bool get_bool(struct parser *p, const struct ynode *n, const char *what, bool *ret)
{
	const char *s = get_text(p, n, what);

	if (!s)
		return false;
	if (streq(s, "true") || streq(s, "false")) {
		*ret = streq(s, "true");
		return true;
	}
	error_at(p, n, "%s is true or false, not '%s'", what, s);
	return false;
}

static bool get_duration(struct parser *p, const struct ynode *n, const char *what, usec_t min,
			 usec_t max, usec_t *ret)
{
	const char *s = get_text(p, n, what);
	char a[DURATION_MAX], b[DURATION_MAX];
	usec_t v;

	if (!s)
		return false;
	if (duration_parse(s, &v) < 0) {
		error_at(p, n, "%s is a duration such as 500ms, 2s, 5m or 1m30s (units us, ms, s, m, h), not '%s'",
			 what, s);
		return false;
	}
	if (v < min || v > max) {
		error_at(p, n, "%s is from %s to %s, not %s", what, duration_format(min, a),
			 duration_format(max, b), s);
		return false;
	}
	*ret = v;
	return true;
}

/*
 * A kernel timeout, which the kernel takes in whole seconds. WORD (when not
 * NULL) stands for -1: "forever" for ctrl_loss_tmo, "off" for
 * fast_io_fail_tmo.
 */
static bool get_seconds(struct parser *p, const struct ynode *n, const char *what, int min, int max,
			const char *word, int *ret)
{
	usec_t v;
	char a[DURATION_MAX], b[DURATION_MAX];

	if (word && scalar_is(n, word)) {
		*ret = -1;
		return true;
	}
	if (n->type == YNODE_SCALAR && duration_parse(n->text, &v) < 0) {
		error_at(p, n, "%s is a duration in whole seconds such as 5s or 10m%s%s%s, not '%s'", what,
			 word ? ", or '" : "", word ? word : "", word ? "'" : "", n->text);
		return false;
	}
	if (!get_duration(p, n, what, (usec_t)min * USEC_PER_SEC, (usec_t)max * USEC_PER_SEC, &v))
		return false;
	if (v % USEC_PER_SEC) {
		error_at(p, n, "%s is passed to the kernel in whole seconds: %s is not (use %s or %s)", what,
			 n->text, duration_format(v / USEC_PER_SEC * USEC_PER_SEC, a),
			 duration_format((v / USEC_PER_SEC + 1) * USEC_PER_SEC, b));
		return false;
	}
	*ret = (int)(v / USEC_PER_SEC);
	return true;
}

/* A list of single values as it was loaded: the values kept and where each was written. */
struct text_list {
	const char **v;
	const struct ynode **nodes;
	size_t n;
};

static struct keyview text_list_key(const void *ctx, size_t i)
{
	return key_text(((const struct text_list *)ctx)->v[i]);
}

/*
 * A list of single values, each checked by CHECK when given and kept once:
 * a refused or repeated one is reported, the others are kept.
 */
static void get_text_list(struct parser *p, const struct ynode *n, const char *what,
			  bool (*check)(struct parser *, const struct ynode *, const char *, const char *),
			  struct text_list *ret)
{
	struct text_list l = { 0 };
	struct keyset seen = KEYSET_INIT(text_list_key, &l);

	*ret = (struct text_list){ 0 };
	if (n->type != YNODE_SEQUENCE) {
		error_at(p, n, "%s is a list such as [a, b], not %s", what, kind_of(n));
		return;
	}
	l.v = alloc_array(p, n->n, sizeof(*l.v));
	l.nodes = scratch_array(p, n->n, sizeof(*l.nodes));
	if (!l.v || !l.nodes)
		return;
	for_each_item(n, it) {
		const char *s = get_text(p, *it, what);
		size_t first;

		if (!s || (check && !check(p, *it, what, s)))
			continue;
		l.v[l.n] = s;
		l.nodes[l.n] = *it;
		if (!first_of(p, &seen, l.n, &first))
			break;
		if (first != l.n)
			error_at(p, *it, "'%s' is listed twice in %s", s, what);
		else
			l.n++;
	}
	keyset_done(&seen);
	*ret = l;
}

/* ---------------------------------------------------------------------- */
/* value checks */

static bool check_nqn(struct parser *p, const struct ynode *n, const char *what, const char *s)
{
	const char *why;

	if (nqn_check(s, &why) == 0)
		return true;
	error_at(p, n, "%s '%s' is not a valid NQN: %s", what, s, why);
	return false;
}

static bool check_name(struct parser *p, const struct ynode *n, const char *what, const char *s)
{
	size_t len = strlen(s);

	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-_.", *c))
			goto bad;
	if (len > 0 && len <= 253 && isalnum((unsigned char)s[0]))
		return true;
bad:
	error_at(p, n, "%s '%s' is a name of letters, digits, '-', '_' and '.', starting with a letter or digit",
		 what, s);
	return false;
}

static bool check_module(struct parser *p, const struct ynode *n, const char *what, const char *s)
{
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') {
			error_at(p, n, "%s '%s' is not a module name (letters, digits, '-' and '_')", what, s);
			return false;
		}
	return true;
}


/* An address of FAM (or of either family when FAM < 0); the family it is. */
static int address_family(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, s, buf) == 1)
		return ADRFAM_IPV4;
	if (inet_pton(AF_INET6, s, buf) == 1)
		return ADRFAM_IPV6;
	return -EINVAL;
}

/*
 * traddr and adrfam together: the address must be one of the family; the
 * family defaults to the address's.
 */
static bool get_address(struct parser *p, const struct ynode *traddr_n, const struct ynode *adrfam_n,
			const char *what, const char **ret_addr, enum adrfam *ret_fam)
{
	const char *addr = get_text(p, traddr_n, what);
	int fam, want = -1;

	if (!addr)
		return false;
	if (adrfam_n) {
		const char *s = get_text(p, adrfam_n, "adrfam");

		if (s && (want = adrfam_from_string(s)) < 0) {
			error_at(p, adrfam_n, "adrfam is ipv4 or ipv6, not '%s'", s);
			return false;
		}
		if (!s)
			return false;
	}
	fam = address_family(addr);
	if (fam < 0) {
		error_at(p, traddr_n, "%s '%s' is not an IPv4 or IPv6 address", what, addr);
		return false;
	}
	if (want >= 0 && want != fam) {
		error_at(p, traddr_n, "%s '%s' is not an %s address (adrfam is %s)", what, addr,
			 want == ADRFAM_IPV4 ? "IPv4" : "IPv6", adrfam_to_string((enum adrfam)want));
		return false;
	}
	*ret_addr = addr;
	*ret_fam = (enum adrfam)fam;
	return true;
}

static bool get_trsvcid(struct parser *p, const struct ynode *n, const char **ret)
{
	unsigned long port;
	char buf[8];

	if (!get_uint(p, n, "trsvcid (the TCP or RDMA CM port)", 1, 65535, &port))
		return false;
	snprintf(buf, sizeof(buf), "%lu", port);
	*ret = arena_strdup(p->arena, buf);
	if (!*ret)
		p->oom = true;
	return *ret != NULL;
}

static bool get_transport(struct parser *p, const struct ynode *n, enum transport *ret)
{
	const char *s = get_text(p, n, "transport");
	int t;

	if (!s)
		return false;
	t = transport_from_string(s);
	if (t < 0) {
		error_at(p, n, "transport is rdma or tcp, not '%s'", s);
		return false;
	}
	*ret = (enum transport)t;
	return true;
}

/* A key is a file, never the secret itself. */
static const char *get_key_path(struct parser *p, const struct ynode *n, const char *what)
{
	const char *s = get_text(p, n, what);

	if (!s)
		return NULL;
	if (strncmp(s, "DHHC-1:", 7) == 0) {
		error_at(p, n, "%s holds a secret inline; secrets are never written in the inventory: "
			       "give the path of a file that holds the key (mode 0600)", what);
		return NULL;
	}
	if (s[0] != '/') {
		error_at(p, n, "%s is the absolute path of a file that holds the key, not '%s'", what, s);
		return NULL;
	}
	return s;
}

/* A module list: the kernel modules an entry loads, at most INV_MAX_MODULES. */
static void get_modules(struct parser *p, const struct ynode *n, const char ***ret, size_t *ret_n)
{
	struct text_list l;

	if (n->type == YNODE_SEQUENCE && n->n > INV_MAX_MODULES) {
		error_at(p, n, "modules lists at most %d modules, not %zu", INV_MAX_MODULES, n->n);
		return;
	}
	get_text_list(p, n, "modules", check_module, &l);
	*ret = l.v;
	*ret_n = l.n;
}
/* ---------------------------------------------------------------------- */
/* fabrics options and backoff: in defaults, a host and a connect entry */

#define OPTION_KEYS                                                                             \
	"nr_io_queues", "queue_size", "keep_alive_tmo", "reconnect_delay", "ctrl_loss_tmo",     \
		"fast_io_fail_tmo", "backoff", "on_removed", "iopolicy"
enum {
	OPT_NR_IO_QUEUES,
	OPT_QUEUE_SIZE,
	OPT_KEEP_ALIVE_TMO,
	OPT_RECONNECT_DELAY,
	OPT_CTRL_LOSS_TMO,
	OPT_FAST_IO_FAIL_TMO,
	OPT_BACKOFF,
	OPT_ON_REMOVED,
	OPT_IOPOLICY,
	_OPT_MAX,
};

struct options {
	struct inv_fabrics fabrics;
	struct inv_backoff backoff;
	enum on_removed on_removed;
	const char *iopolicy;
};

/* The native multipath I/O policies (drivers/nvme/host/multipath.c,
 * nvme_iopolicy_names; queue-depth since 6.11). */
static const char *const iopolicies[] = { "numa", "round-robin", "queue-depth" };

/* A percentage such as 20%, from 0% to 100%. */
static void get_jitter(struct parser *p, const struct ynode *n, unsigned *ret)
{
	const char *j = get_text(p, n, "backoff jitter");
	size_t len = j ? strlen(j) : 0;
	unsigned long pct = 0;
	char digits[8];
	bool ok = false;

	if (!j)
		return;
	if (len >= 2 && len <= sizeof(digits) && j[len - 1] == '%') {
		memcpy(digits, j, len - 1);
		digits[len - 1] = '\0';
		ok = parse_decimal(digits, &pct) == 0 && pct <= 100;
	}
	if (!ok) {
		error_at(p, n, "backoff jitter is a percentage from 0%% to 100%%, such as 20%%, not '%s'", j);
		return;
	}
	*ret = (unsigned)pct;
}

/* Apply the option keys in V (indexed as above) over O. */
static void parse_options(struct parser *p, struct ynode *const *v, struct options *o)
{
	unsigned long u;
	int secs;

	if (v[OPT_NR_IO_QUEUES] && get_uint(p, v[OPT_NR_IO_QUEUES], "nr_io_queues (0: one per CPU)", 0, 1024, &u))
		o->fabrics.nr_io_queues = (int)u;
	if (v[OPT_QUEUE_SIZE] && get_uint(p, v[OPT_QUEUE_SIZE], "queue_size", 16, 1024, &u))
		o->fabrics.queue_size = (int)u;
	if (v[OPT_KEEP_ALIVE_TMO] && get_seconds(p, v[OPT_KEEP_ALIVE_TMO], "keep_alive_tmo", 1, 65535, NULL, &secs))
		o->fabrics.keep_alive_tmo = secs;
	if (v[OPT_RECONNECT_DELAY] && get_seconds(p, v[OPT_RECONNECT_DELAY], "reconnect_delay", 1, 3600, NULL, &secs))
		o->fabrics.reconnect_delay = secs;
	if (v[OPT_CTRL_LOSS_TMO] && get_seconds(p, v[OPT_CTRL_LOSS_TMO], "ctrl_loss_tmo", 0, 86400 * 7, "forever", &secs))
		o->fabrics.ctrl_loss_tmo = secs;
	if (v[OPT_FAST_IO_FAIL_TMO] && get_seconds(p, v[OPT_FAST_IO_FAIL_TMO], "fast_io_fail_tmo", 0, 86400 * 7, "off", &secs))
		o->fabrics.fast_io_fail_tmo = secs;
	if (v[OPT_BACKOFF]) {
		static const char *const keys[] = { "initial", "max", "jitter" };
		struct ynode *b[ARRAY_SIZE(keys)];
		usec_t d;

		if (get_fields(p, v[OPT_BACKOFF], "backoff", keys, ARRAY_SIZE(keys), b)) {
			if (b[0] && get_duration(p, b[0], "backoff initial", 10 * USEC_PER_MSEC, USEC_PER_HOUR, &d))
				o->backoff.initial = d;
			if (b[1] && get_duration(p, b[1], "backoff max", 10 * USEC_PER_MSEC, USEC_PER_HOUR, &d))
				o->backoff.max = d;
			if (b[2])
				get_jitter(p, b[2], &o->backoff.jitter_pct);
			if (o->backoff.max < o->backoff.initial)
				error_at(p, v[OPT_BACKOFF], "backoff max is at least backoff initial");
		}
	}
	if (v[OPT_ON_REMOVED]) {
		const char *s = get_text(p, v[OPT_ON_REMOVED], "on_removed");
		int r = s ? on_removed_from_string(s) : -EINVAL;

		if (s && r < 0)
			error_at(p, v[OPT_ON_REMOVED], "on_removed is keep or disconnect, not '%s'", s);
		else if (s)
			o->on_removed = (enum on_removed)r;
	}
	if (v[OPT_IOPOLICY]) {
		const char *s = get_text(p, v[OPT_IOPOLICY], "iopolicy");
		bool known = false;

		for (size_t i = 0; s && i < ARRAY_SIZE(iopolicies); i++)
			known |= streq(s, iopolicies[i]);
		if (s && !known)
			error_at(p, v[OPT_IOPOLICY], "iopolicy is numa, round-robin or queue-depth, not '%s'", s);
		else if (s)
			o->iopolicy = s;
	}
}

/* The kernel's own rules between the timeouts, checked once merged. */
static void check_fabrics(struct parser *p, struct inv_loc loc, const struct inv_fabrics *f)
{
	if (f->ctrl_loss_tmo >= 0 && f->ctrl_loss_tmo < f->reconnect_delay)
		error_loc(p, DIAG_ERROR, loc,
			  "ctrl_loss_tmo (%ds) is shorter than reconnect_delay (%ds): the kernel would not retry",
			  f->ctrl_loss_tmo, f->reconnect_delay);
	if (f->fast_io_fail_tmo >= 0 && f->ctrl_loss_tmo >= 0 && f->fast_io_fail_tmo > f->ctrl_loss_tmo)
		error_loc(p, DIAG_ERROR, loc, "fast_io_fail_tmo (%ds) is longer than ctrl_loss_tmo (%ds)",
			  f->fast_io_fail_tmo, f->ctrl_loss_tmo);
}

/* ---------------------------------------------------------------------- */
/* targets */

static void parse_namespace(struct parser *p, struct ynode *n, struct inv_namespace *ns)
{
	static const char *const keys[] = { "nsid", "device_path", "uuid", "nguid", "enabled" };
	struct ynode *v[ARRAY_SIZE(keys)];
	unsigned long u;

	ns->loc = loc_of(n);
	ns->enabled = true;
	if (!get_fields(p, n, "a namespace", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a namespace", "nsid", v[0]);
	require(p, n, "a namespace", "device_path", v[1]);
	if (v[0] && get_uint(p, v[0], "nsid", 1, 0xfffffffeUL, &u))
		ns->nsid = (uint32_t)u;
	if (v[1] && (ns->device_path = get_text(p, v[1], "device_path")) && ns->device_path[0] != '/') {
		error_at(p, v[1], "device_path is the absolute path of a block device or file, not '%s'", ns->device_path);
		ns->device_path = NULL;
	}
	if (v[2] && (ns->uuid = get_text(p, v[2], "uuid")) && !uuid_valid(ns->uuid)) {
		error_at(p, v[2], "uuid is written xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex, not '%s'", ns->uuid);
		ns->uuid = NULL;
	}
	if (v[3] && (ns->nguid = get_text(p, v[3], "nguid")) && !uuid_valid(ns->nguid)) {
		error_at(p, v[3], "nguid is 16 bytes written xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex, not '%s'",
			 ns->nguid);
		ns->nguid = NULL;
	}
	if (v[4])
		get_bool(p, v[4], "enabled", &ns->enabled);
}

static const char *const dhchap_hashes[] = { "hmac(sha256)", "hmac(sha384)", "hmac(sha512)" };
static const char *const dhchap_groups[] = { "null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192" };

/* V, when given, one of TABLE (for WHAT); NULL after an error. */
static const char *get_word(struct parser *p, const struct ynode *v, const char *what, const char *const *table,
			    size_t n)
{
	char allowed[KEYS_TEXT_MAX];
	const char *s = v ? get_text(p, v, what) : NULL;

	if (s && table_lookup(table, n, s) < 0) {
		error_at(p, v, "%s is one of %s, not '%s'", what, keys_text(p, allowed, table, n), s);
		return NULL;
	}
	return s;
}

static void parse_allowed_host(struct parser *p, struct ynode *n, struct inv_allowed_host *a)
{
	static const char *const keys[] = { "host", "dhchap_key", "dhchap_ctrl_key", "dhchap_hash", "dhchap_dhgroup" };
	struct ynode *v[ARRAY_SIZE(keys)];

	a->loc = loc_of(n);
	if (n->type == YNODE_SCALAR) {
		a->host = get_text(p, n, "an allowed host");
		return;
	}
	if (!get_fields(p, n, "an allowed host (a host name, an NQN, or a mapping with host and its keys)",
			keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "an allowed host", "host", v[0]);
	if (v[0])
		a->host = get_text(p, v[0], "host");
	if (v[1])
		a->dhchap_key = get_key_path(p, v[1], "dhchap_key");
	if (v[2])
		a->dhchap_ctrl_key = get_key_path(p, v[2], "dhchap_ctrl_key");
	if (v[2] && !v[1])
		error_at(p, v[2], "dhchap_ctrl_key (bidirectional authentication) needs dhchap_key as well");
	a->dhchap_hash = get_word(p, v[3], "dhchap_hash", dhchap_hashes, ARRAY_SIZE(dhchap_hashes));
	a->dhchap_dhgroup = get_word(p, v[4], "dhchap_dhgroup", dhchap_groups, ARRAY_SIZE(dhchap_groups));
	if ((v[3] || v[4]) && !v[1])
		error_at(p, v[3] ? v[3] : v[4], "dhchap_hash and dhchap_dhgroup go with dhchap_key");
}

static struct keyview nsid_key(const void *ctx, size_t i)
{
	const struct inv_subsystem *s = ctx;

	return (struct keyview){ &s->namespaces[i].nsid, sizeof(s->namespaces[i].nsid) };
}

static void parse_namespaces(struct parser *p, const struct ynode *list, struct inv_subsystem *s)
{
	struct keyset nsids = KEYSET_INIT(nsid_key, s);

	s->namespaces = list_alloc(p, list, "namespaces", "mappings (nsid, device_path, ...)", sizeof(*s->namespaces));
	if (!s->namespaces)
		return;
	for_each_item(list, it) {
		struct inv_namespace *ns = &s->namespaces[s->n_namespaces];
		size_t first;

		parse_namespace(p, *it, ns);
		if (ns->nsid && seen_before(p, &nsids, s->n_namespaces, &first))
			error_at(p, *it, "nsid %u is used twice in %s (first at line %u)", ns->nsid, strempty(s->nqn),
				 s->namespaces[first].loc.line);
		s->n_namespaces++;
	}
	keyset_done(&nsids);
}

static void check_serial(struct parser *p, const struct ynode *v, struct inv_subsystem *s)
{
	bool ok;

	if (!(s->serial = get_text(p, v, "serial")))
		return;
	ok = strlen(s->serial) <= 20;
	for (const char *c = s->serial; *c; c++)
		ok = ok && *c > 0x20 && *c < 0x7f;
	if (!ok) {
		error_at(p, v, "serial is at most 20 printable ASCII characters without spaces, not '%s'", s->serial);
		s->serial = NULL;
	}
}

static void parse_subsystem(struct parser *p, struct ynode *n, struct inv_subsystem *s)
{
	static const char *const keys[] = { "nqn", "serial", "allow_any_host", "allowed_hosts", "namespaces" };
	struct ynode *v[ARRAY_SIZE(keys)];

	s->loc = loc_of(n);
	if (!get_fields(p, n, "a subsystem", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a subsystem", "nqn", v[0]);
	if (v[0] && (s->nqn = get_text(p, v[0], "nqn")) && !check_nqn(p, v[0], "subsystem nqn", s->nqn))
		s->nqn = NULL;
	if (s->nqn && streq(s->nqn, NQN_DISCOVERY)) {
		error_at(p, v[0], "%s is the discovery subsystem; the kernel provides it", NQN_DISCOVERY);
		s->nqn = NULL;
	}
	if (v[1])
		check_serial(p, v[1], s);
	if (v[2])
		get_bool(p, v[2], "allow_any_host", &s->allow_any_host);
	if (v[3] && (s->allowed_hosts = list_alloc(p, v[3], "allowed_hosts", "host names, NQNs or mappings",
						   sizeof(*s->allowed_hosts))))
		for_each_item(v[3], it)
			parse_allowed_host(p, *it, &s->allowed_hosts[s->n_allowed_hosts++]);
	if (s->allow_any_host && s->n_allowed_hosts)
		error_at(p, v[2], "allow_any_host: true contradicts allowed_hosts: write one or the other");
	if (v[4])
		parse_namespaces(p, v[4], s);
}
/* The address of a port or a referral (WHAT): transport, traddr with adrfam,
 * trsvcid; transport and trsvcid from defaults where not given. */
static void get_listen_address(struct parser *p, struct ynode *n, const char *what, struct ynode *transport,
			       struct ynode *traddr, struct ynode *trsvcid, struct ynode *adrfam, enum transport *ret_t,
			       const char **ret_traddr, enum adrfam *ret_fam, const char **ret_trsvcid)
{
	if (transport)
		get_transport(p, transport, ret_t);
	else if (p->default_transport >= 0)
		*ret_t = (enum transport)p->default_transport;
	else
		error_at(p, n, "%s needs 'transport' (rdma or tcp), here or in defaults", what);
	if (traddr)
		get_address(p, traddr, adrfam, "traddr", ret_traddr, ret_fam);
	if (trsvcid)
		get_trsvcid(p, trsvcid, ret_trsvcid);
	else
		*ret_trsvcid = p->default_trsvcid ? p->default_trsvcid : TRSVCID_IO;
}

static void parse_referral(struct parser *p, struct ynode *n, struct inv_referral *r)
{
	static const char *const keys[] = { "name", "transport", "traddr", "trsvcid", "adrfam", "portid" };
	struct ynode *v[ARRAY_SIZE(keys)];
	unsigned long u;

	r->loc = loc_of(n);
	if (!get_fields(p, n, "a referral", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a referral", "traddr", v[2]);
	get_listen_address(p, n, "a referral", v[1], v[2], v[3], v[4], &r->transport, &r->traddr, &r->adrfam, &r->trsvcid);
	if (v[5] && get_uint(p, v[5], "portid", 0, 65535, &u))
		r->portid = (unsigned)u;
	if (v[0]) {
		r->name = get_text(p, v[0], "referral name");
		if (r->name && (strchr(r->name, '/') || streq(r->name, ".") || streq(r->name, ".."))) {
			error_at(p, v[0], "a referral name is a directory name: no '/', not '.' or '..'");
			r->name = NULL;
		}
	} else if (r->traddr && r->trsvcid) {
		_cleanup_free_ char *name = NULL;

		if (asprintf(&name, "%s-%s-%s", transport_to_string(r->transport), r->traddr, r->trsvcid) < 0)
			p->oom = true;
		else if (!(r->name = arena_strdup(p->arena, name)))
			p->oom = true;
	}
}

static struct keyview referral_key(const void *ctx, size_t i)
{
	return key_text(((const struct inv_port *)ctx)->referrals[i].name);
}

static void parse_referrals(struct parser *p, const struct ynode *list, struct inv_port *port)
{
	struct keyset names = KEYSET_INIT(referral_key, port);

	port->referrals = list_alloc(p, list, "referrals", "mappings (transport, traddr, trsvcid)", sizeof(*port->referrals));
	if (!port->referrals)
		return;
	for_each_item(list, it) {
		struct inv_referral *r = &port->referrals[port->n_referrals];
		size_t first;

		parse_referral(p, *it, r);
		if (r->name && seen_before(p, &names, port->n_referrals, &first))
			error_at(p, *it, "referral %s is given twice in port %u (first at line %u)", r->name, port->id,
				 port->referrals[first].loc.line);
		port->n_referrals++;
	}
	keyset_done(&names);
}

static void parse_port(struct parser *p, struct ynode *n, struct inv_target *t, struct target_index *ti,
		       struct inv_port *port, struct ynode **ret_subsys)
{
	static const char *const keys[] = { "id", "transport", "traddr", "trsvcid", "adrfam", "subsystems", "referrals" };
	struct ynode *v[ARRAY_SIZE(keys)];
	unsigned long u;
	size_t first;

	port->loc = loc_of(n);
	*ret_subsys = NULL;
	if (!get_fields(p, n, "a port", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a port", "id", v[0]);
	require(p, n, "a port", "traddr", v[2]);
	if (v[0] && get_uint(p, v[0], "port id", 1, 65535, &u)) {
		port->id = (unsigned)u;
		if (seen_before(p, &ti->ports, (size_t)(port - t->ports), &first))
			error_at(p, v[0], "port id %u is used twice in target %s (first at line %u)", port->id,
				 strempty(t->name), t->ports[first].loc.line);
	}
	get_listen_address(p, n, "a port", v[1], v[2], v[3], v[4], &port->transport, &port->traddr, &port->adrfam,
			   &port->trsvcid);
	*ret_subsys = v[5];
	if (v[6])
		parse_referrals(p, v[6], port);
}

/* The NQNs of all of T's subsystems: one array, shared by the ports that list none. */
static void all_subsystems(struct parser *p, const struct inv_target *t, struct target_index *ti)
{
	if (ti->all_done)
		return;
	ti->all_done = true;
	ti->all_nqns = alloc_array(p, t->n_subsystems, sizeof(char *));
	for (size_t i = 0; ti->all_nqns && i < t->n_subsystems; i++)
		if (t->subsystems[i].nqn)
			ti->all_nqns[ti->n_all++] = t->subsystems[i].nqn;
}

/* A port's subsystems: NQNs of its target's subsystems; all of them when absent. */
static void resolve_port_subsystems(struct parser *p, struct inv_target *t, struct target_index *ti,
				    struct inv_port *port, const struct ynode *list)
{
	struct text_list l;

	if (!list) {
		all_subsystems(p, t, ti);
		port->subsystems = ti->all_nqns;
		port->n_subsystems = ti->n_all;
	} else {
		get_text_list(p, list, "a port's subsystems", NULL, &l);
		port->subsystems = l.v;
		port->n_subsystems = l.n;
		for (size_t i = 0; i < l.n; i++)
			if (keyset_find(&ti->subsystems, l.v[i], strlen(l.v[i])) < 0)
				error_at(p, l.nodes[i], "port %u exposes '%s', which is not a subsystem of target %s",
					 port->id, l.v[i], strempty(t->name));
	}
	p->n_links += port->n_subsystems;
	if (p->n_links > INV_MAX_LINKS && !p->links_full) {
		p->links_full = true;
		error_loc(p, DIAG_ERROR, port->loc,
			  "the ports of this inventory have more than %u subsystem links in all (a port links each subsystem it lists, or all of its target's)",
			  INV_MAX_LINKS);
	}
}

static struct keyview subsystem_key(const void *ctx, size_t i)
{
	return key_text(((const struct inv_target *)ctx)->subsystems[i].nqn);
}

static struct keyview port_key(const void *ctx, size_t i)
{
	const struct inv_target *t = ctx;

	return (struct keyview){ &t->ports[i].id, sizeof(t->ports[i].id) };
}

static void parse_target_subsystems(struct parser *p, const struct ynode *list, struct inv_target *t,
				    struct target_index *ti)
{
	t->subsystems = list_alloc(p, list, "subsystems", "mappings (nqn, namespaces, ...)", sizeof(*t->subsystems));
	if (!t->subsystems)
		return;
	for_each_item(list, it) {
		struct inv_subsystem *s = &t->subsystems[t->n_subsystems];
		size_t first;

		parse_subsystem(p, *it, s);
		if (s->nqn && seen_before(p, &ti->subsystems, t->n_subsystems, &first))
			error_at(p, *it, "subsystem %s is given twice in target %s (first at line %u)", s->nqn,
				 strempty(t->name), t->subsystems[first].loc.line);
		t->n_subsystems++;
	}
}

static void parse_null_blk(struct parser *p, const struct ynode *n, struct inv_target *t)
{
	static const char *const keys[] = { "nr_devices", "gb" };
	struct ynode *b[ARRAY_SIZE(keys)];
	unsigned long u;

	if (!get_fields(p, n, "null_blk", keys, ARRAY_SIZE(keys), b))
		return;
	t->null_blk.set = true;
	t->null_blk.nr_devices = 1;
	t->null_blk.gb = 250; /* the module's default */
	if (b[0] && get_uint(p, b[0], "null_blk nr_devices", 1, 64, &u))
		t->null_blk.nr_devices = (unsigned)u;
	if (b[1] && get_uint(p, b[1], "null_blk gb", 1, 65536, &u))
		t->null_blk.gb = (unsigned)u;
}

static void parse_target(struct parser *p, struct ynode *n, struct inv_target *t, struct target_index *ti)
{
	static const char *const keys[] = { "name", "modules", "null_blk", "ports", "subsystems" };
	struct ynode *v[ARRAY_SIZE(keys)];

	t->loc = loc_of(n);
	ti->subsystems = KEYSET_INIT(subsystem_key, t);
	ti->ports = KEYSET_INIT(port_key, t);
	if (!get_fields(p, n, "a target", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a target", "name", v[0]);
	if (v[0] && (t->name = get_text(p, v[0], "target name")) && !check_name(p, v[0], "target name", t->name))
		t->name = NULL;
	if (v[1])
		get_modules(p, v[1], &t->modules, &t->n_modules);
	if (v[2])
		parse_null_blk(p, v[2], t);
	if (v[4])
		parse_target_subsystems(p, v[4], t, ti);
	if (v[3] && (t->ports = list_alloc(p, v[3], "ports", "mappings (id, transport, traddr, ...)", sizeof(*t->ports))))
		for_each_item(v[3], it) {
			struct inv_port *port = &t->ports[t->n_ports++];
			struct ynode *subsys;

			parse_port(p, *it, t, ti, port, &subsys);
			resolve_port_subsystems(p, t, ti, port, subsys);
		}
}
/* ---------------------------------------------------------------------- */
/* hosts */

enum {
	C_TARGET,
	C_PORTS,
	C_TRANSPORT,
	C_TRADDR,
	C_TRSVCID,
	C_ADRFAM,
	C_HOST_TRADDR,
	C_HOST_IFACE,
	C_SUBSYSTEMS,
	C_DHCHAP_KEY,
	C_DHCHAP_CTRL_KEY,
	C_OPTIONS,
	_C_MAX = C_OPTIONS + _OPT_MAX,
};

static const char *const connect_keys[_C_MAX] = {
	"target", "ports", "transport", "traddr", "trsvcid", "adrfam", "host_traddr", "host_iface",
	"subsystems", "dhchap_key", "dhchap_ctrl_key", OPTION_KEYS,
};

/* The path identity of E as one string, for the host's key set. */
static const char *endpoint_id(struct parser *p, const struct inv_endpoint *e)
{
	_cleanup_free_ char *s = NULL;
	const char *id;

	if (asprintf(&s, "%d\x1f%s\x1f%s\x1f%s%s\x1f%s%s", (int)e->transport, strempty(e->traddr), strempty(e->trsvcid),
		     e->host_traddr ? "=" : "-", strempty(e->host_traddr), e->host_iface ? "=" : "-",
		     strempty(e->host_iface)) < 0)
		s = NULL;
	id = s ? arena_strdup(p->scratch, s) : NULL;
	if (!id)
		p->oom = true;
	return id;
}

static struct keyview endpoint_key(const void *ctx, size_t i)
{
	return key_text(((const struct host_index *)ctx)->ids[i]);
}

/* Room for one more endpoint of the host: the arrays double, in the arenas. */
static bool endpoint_room(struct parser *p, struct host_index *hi)
{
	struct inv_host *h = hi->h;
	size_t cap = hi->cap ? hi->cap * 2 : 4;
	struct inv_endpoint *v;
	const char **ids;

	if (h->n_endpoints < hi->cap)
		return true;
	v = alloc_array(p, cap, sizeof(*v));
	ids = scratch_array(p, cap, sizeof(*ids));
	if (!v || !ids)
		return false;
	if (h->n_endpoints) {
		memcpy(v, h->endpoints, h->n_endpoints * sizeof(*v));
		memcpy(ids, hi->ids, h->n_endpoints * sizeof(*ids));
	}
	h->endpoints = v;
	hi->ids = ids;
	hi->cap = cap;
	return true;
}

/* Append E to the host's endpoints; false when a limit is reached (said once). */
static bool add_endpoint(struct parser *p, struct host_index *hi, const struct inv_endpoint *e)
{
	struct inv_host *h = hi->h;

	if (h->n_endpoints >= INV_MAX_HOST_ENDPOINTS) {
		if (!hi->full)
			error_loc(p, DIAG_ERROR, e->loc,
				  "host %s has more than %d endpoints (its connect entries, with each port of the targets they name)",
				  strempty(h->name), INV_MAX_HOST_ENDPOINTS);
		hi->full = true;
		return false;
	}
	if (p->n_endpoints >= INV_MAX_ENDPOINTS) {
		if (!p->endpoints_full)
			error_loc(p, DIAG_ERROR, e->loc, "the hosts of this inventory have more than %d endpoints in all",
				  INV_MAX_ENDPOINTS);
		p->endpoints_full = true;
		return false;
	}
	if (!endpoint_room(p, hi))
		return false;
	h->endpoints[h->n_endpoints++] = *e;
	p->n_endpoints++;
	return true;
}

/* The options, the host interface, the subsystem filter and the keys of a connect entry into E. */
static void connect_common(struct parser *p, struct ynode *const *v, const struct options *host_opts,
			   struct inv_endpoint *e)
{
	struct options o = *host_opts;
	struct text_list subsystems;

	parse_options(p, v + C_OPTIONS, &o);
	check_fabrics(p, e->loc, &o.fabrics);
	e->fabrics = o.fabrics;
	e->backoff = o.backoff;
	e->on_removed = o.on_removed;
	e->iopolicy = o.iopolicy;

	if (v[C_HOST_IFACE] && (e->host_iface = get_text(p, v[C_HOST_IFACE], "host_iface"))) {
		size_t len = strlen(e->host_iface);

		if (len >= 16 || strpbrk(e->host_iface, "/: \t") || streq(e->host_iface, ".") || streq(e->host_iface, "..")) {
			error_at(p, v[C_HOST_IFACE], "host_iface '%s' is not a network interface name (at most 15 characters, no '/', ':' or spaces)",
				 e->host_iface);
			e->host_iface = NULL;
		}
	}
	if (v[C_SUBSYSTEMS]) {
		get_text_list(p, v[C_SUBSYSTEMS], "subsystems", check_nqn, &subsystems);
		e->subsystems = subsystems.v;
		e->n_subsystems = subsystems.n;
	}
	if (v[C_DHCHAP_KEY]) {
		e->dhchap_key = get_key_path(p, v[C_DHCHAP_KEY], "dhchap_key");
		e->key_loc = loc_of(v[C_DHCHAP_KEY]);
	}
	if (v[C_DHCHAP_CTRL_KEY]) {
		e->dhchap_ctrl_key = get_key_path(p, v[C_DHCHAP_CTRL_KEY], "dhchap_ctrl_key");
		if (!v[C_DHCHAP_KEY])
			error_at(p, v[C_DHCHAP_CTRL_KEY], "dhchap_ctrl_key (bidirectional authentication) needs dhchap_key as well");
	}
}

static struct keyview port_id_key(const void *ctx, size_t i)
{
	const unsigned *ids = *(const unsigned *const *)ctx;

	return (struct keyview){ &ids[i], sizeof(ids[i]) };
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A connect entry's ports: ids of T's ports, each once. The indices of those
 * ports in T, in T's order; the count, or 0 after errors.
 */
static size_t get_port_ids(struct parser *p, const struct ynode *list, const struct inv_target *t,
			   const struct target_index *ti, size_t **ret)
{
	unsigned *ids = scratch_array(p, list->n, sizeof(*ids));
	size_t *idx = scratch_array(p, list->n, sizeof(*idx)), n = 0;
	struct keyset seen = KEYSET_INIT(port_id_key, &ids);

	*ret = idx;
	if (!ids || !idx)
		return 0;
	for_each_item(list, it) {
		const char *s = get_text(p, *it, "a port id");
		unsigned long id = 0;
		size_t first;
		ssize_t k;

		if (!s)
			continue;
		if (parse_decimal(s, &id) < 0 || id < 1 || id > 65535) {
			error_at(p, *it, "a port id is a whole number from 1 to 65535 (the id of one of target %s's ports), not '%s'",
				 strempty(t->name), s);
			continue;
		}
		ids[n] = (unsigned)id;
		if (seen_before(p, &seen, n, &first)) {
			error_at(p, *it, "port %lu is listed twice in ports", id);
			continue;
		}
		if ((k = keyset_find(&ti->ports, &ids[n], sizeof(ids[n]))) < 0) {
			error_at(p, *it, "target %s has no port '%s'", strempty(t->name), s);
			continue;
		}
		idx[n++] = (size_t)k;
	}
	keyset_done(&seen);
	qsort(idx, n, sizeof(*idx), cmp_size);
	return n;
}

/* The ports of T that have an address, found once: an entry naming T goes through no others. */
static size_t usable_ports(struct parser *p, const struct inv_target *t, struct target_index *ti, size_t **ret)
{
	if (!ti->usable_done) {
		ti->usable_done = true;
		ti->usable = scratch_array(p, t->n_ports, sizeof(*ti->usable));
		for (size_t i = 0; ti->usable && i < t->n_ports; i++)
			if (t->ports[i].traddr && t->ports[i].trsvcid)
				ti->usable[ti->n_usable++] = i;
	}
	*ret = ti->usable;
	return ti->n_usable;
}

/* The endpoints of a connect entry that names target T: one for each of its ports, or of those listed. */
static void connect_target(struct parser *p, struct ynode *const *v, const struct inv_target *t,
			   struct host_index *hi, struct inv_endpoint *e)
{
	struct target_index *ti = &p->tix[t - p->inv->targets];
	size_t *idx, n;

	if (v[C_PORTS] && v[C_PORTS]->type != YNODE_SEQUENCE) {
		error_at(p, v[C_PORTS], "ports is a list of port ids such as [1, 2], not %s", kind_of(v[C_PORTS]));
		return;
	}
	n = v[C_PORTS] ? get_port_ids(p, v[C_PORTS], t, ti, &idx) : usable_ports(p, t, ti, &idx);
	for (size_t i = 0; idx && i < n; i++) {
		const struct inv_port *port = &t->ports[idx[i]];

		if (!port->traddr || !port->trsvcid)
			continue;
		e->target = t->name;
		e->target_port = port->id;
		e->transport = port->transport;
		e->adrfam = port->adrfam;
		e->traddr = port->traddr;
		e->trsvcid = port->trsvcid;
		if (!add_endpoint(p, hi, e))
			return;
	}
}

/* The endpoint of a connect entry that gives an address. */
static void connect_address(struct parser *p, struct ynode *n, struct ynode *const *v, struct host_index *hi,
			    struct inv_endpoint *e)
{
	if (v[C_TRANSPORT])
		get_transport(p, v[C_TRANSPORT], &e->transport);
	else if (p->default_transport >= 0)
		e->transport = (enum transport)p->default_transport;
	else
		error_at(p, n, "a connect entry needs 'transport' (rdma or tcp), here or in defaults");
	if (!get_address(p, v[C_TRADDR], v[C_ADRFAM], "traddr", &e->traddr, &e->adrfam))
		return;
	if (v[C_TRSVCID])
		get_trsvcid(p, v[C_TRSVCID], &e->trsvcid);
	else if (p->default_trsvcid)
		e->trsvcid = p->default_trsvcid;
	else
		e->trsvcid = e->transport == TRANSPORT_TCP ? TRSVCID_TCP_DISCOVERY : TRSVCID_RDMA_DISCOVERY;
	add_endpoint(p, hi, e);
}

/* host_traddr goes with the endpoints of its entry (from FIRST on), in their family. */
static void apply_host_traddr(struct parser *p, const struct ynode *v, struct inv_host *h, size_t first)
{
	const char *a = get_text(p, v, "host_traddr");
	int fam = a ? address_family(a) : -EINVAL;

	if (a && fam < 0)
		error_at(p, v, "host_traddr '%s' is not an IPv4 or IPv6 address", a);
	for (size_t i = first; fam >= 0 && i < h->n_endpoints; i++) {
		struct inv_endpoint *x = &h->endpoints[i];

		if ((int)x->adrfam != fam) {
			error_at(p, v, "host_traddr '%s' is %s but the target address %s is %s", a,
				 adrfam_to_string((enum adrfam)fam), x->traddr, adrfam_to_string(x->adrfam));
			break;
		}
		x->host_traddr = a;
	}
}

/* One connect entry: appends its endpoints to the host's. */
static void parse_connect(struct parser *p, struct ynode *n, struct host_index *hi, const struct options *host_opts)
{
	struct ynode *v[_C_MAX];
	struct inv_endpoint e = { .loc = loc_of(n) };
	const struct inv_target *t = NULL;
	size_t first = hi->h->n_endpoints;

	if (!get_fields(p, n, "a connect entry", connect_keys, _C_MAX, v))
		return;
	connect_common(p, v, host_opts, &e);
	if (v[C_TARGET]) {
		const char *name = get_text(p, v[C_TARGET], "target");
		ssize_t k = name ? keyset_find(&p->targets_by_name, name, strlen(name)) : -ENOENT;

		for (size_t i = C_TRANSPORT; i <= C_ADRFAM; i++)
			if (v[i])
				error_at(p, v[i], "a connect entry that names a target takes transport, traddr, trsvcid and adrfam from the target's ports: '%s' goes",
					 connect_keys[i]);
		if (name && k < 0) {
			error_at(p, v[C_TARGET], "there is no target '%s' in this inventory", name);
			return;
		}
		t = k >= 0 ? &p->inv->targets[k] : NULL;
	} else {
		if (v[C_PORTS])
			error_at(p, v[C_PORTS], "'ports' picks ports of a named target; this entry names none");
		require(p, n, "a connect entry", "traddr (or target)", v[C_TRADDR]);
	}
	if (t)
		connect_target(p, v, t, hi, &e);
	else if (v[C_TRADDR])
		connect_address(p, n, v, hi, &e);
	/* host_traddr needs the family of the endpoints it goes with. */
	if (v[C_HOST_TRADDR])
		apply_host_traddr(p, v[C_HOST_TRADDR], hi->h, first);
}

/* The endpoints entry N added (from FIRST on) that the host has already: said once for the entry. */
static void check_endpoints_once(struct parser *p, struct host_index *hi, const struct ynode *n, size_t first)
{
	struct inv_host *h = hi->h;

	for (size_t i = first; i < h->n_endpoints; i++) {
		size_t j;

		if (!(hi->ids[i] = endpoint_id(p, &h->endpoints[i])) || !first_of(p, &hi->endpoints, i, &j))
			return;
		if (j != i) {
			error_at(p, n, "host %s connects to %s %s:%s twice (first at line %u)", strempty(h->name),
				 transport_to_string(h->endpoints[i].transport), h->endpoints[i].traddr,
				 h->endpoints[i].trsvcid, h->endpoints[j].loc.line);
			return;
		}
	}
}

static void parse_host(struct parser *p, struct ynode *n, struct inv_host *h)
{
	enum { H_NAME, H_HOSTNQN, H_HOSTID, H_MODULES, H_CONNECT, H_OPTIONS, _H_MAX = H_OPTIONS + _OPT_MAX };
	static const char *const keys[_H_MAX] = { "name", "hostnqn", "hostid", "modules", "connect", OPTION_KEYS };
	struct ynode *v[_H_MAX];
	struct options o = { p->inv->fabrics, p->inv->backoff, p->inv->on_removed, p->inv->iopolicy };
	struct host_index hi = { .h = h };

	h->loc = loc_of(n);
	if (!get_fields(p, n, "a host", keys, _H_MAX, v))
		return;
	require(p, n, "a host", "name", v[H_NAME]);
	if (v[H_NAME] && (h->name = get_text(p, v[H_NAME], "host name")) && !check_name(p, v[H_NAME], "host name", h->name))
		h->name = NULL;
	if (v[H_HOSTNQN] && (h->hostnqn = get_text(p, v[H_HOSTNQN], "hostnqn")) && !check_nqn(p, v[H_HOSTNQN], "hostnqn", h->hostnqn))
		h->hostnqn = NULL;
	if (v[H_HOSTID] && (h->hostid = get_text(p, v[H_HOSTID], "hostid")) && !uuid_valid(h->hostid)) {
		error_at(p, v[H_HOSTID], "hostid is a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), not '%s'", h->hostid);
		h->hostid = NULL;
	}
	if (v[H_MODULES])
		get_modules(p, v[H_MODULES], &h->modules, &h->n_modules);
	parse_options(p, v + H_OPTIONS, &o);

	if (!v[H_CONNECT])
		return;
	if (v[H_CONNECT]->type != YNODE_SEQUENCE) {
		error_at(p, v[H_CONNECT], "connect is a list of mappings (a target, or transport and traddr), not %s",
			 kind_of(v[H_CONNECT]));
		return;
	}
	hi.endpoints = KEYSET_INIT(endpoint_key, &hi);
	for_each_item(v[H_CONNECT], it) {
		size_t first = h->n_endpoints;

		parse_connect(p, *it, &hi, &o);
		check_endpoints_once(p, &hi, *it, first);
	}
	keyset_done(&hi.endpoints);
}

/* An allowed host as written: an NQN, or the name of a host of this inventory with a hostnqn. */
static void resolve_allowed_host(struct parser *p, struct inv_allowed_host *ah)
{
	const struct inv_host *h;
	const char *why;
	ssize_t k;

	if (strncmp(ah->host, "nqn.", 4) == 0) {
		if (nqn_check(ah->host, &why) < 0)
			error_loc(p, DIAG_ERROR, ah->loc, "allowed host '%s' is not a valid NQN: %s", ah->host, why);
		else
			ah->nqn = ah->host;
		return;
	}
	k = keyset_find(&p->hosts_by_name, ah->host, strlen(ah->host));
	h = k >= 0 ? &p->inv->hosts[k] : NULL;
	if (!h)
		error_loc(p, DIAG_ERROR, ah->loc,
			  "allowed host '%s' is neither a host of this inventory nor an NQN (nqn....)", ah->host);
	else if (!h->hostnqn)
		error_loc(p, DIAG_ERROR, ah->loc,
			  "allowed host '%s' has no hostnqn in the inventory (line %u); the target needs it: write hostnqn there",
			  ah->host, h->loc.line);
	else
		ah->nqn = h->hostnqn;
}

static struct keyview allowed_key(const void *ctx, size_t i)
{
	return key_text(((const struct inv_subsystem *)ctx)->allowed_hosts[i].nqn);
}

static void resolve_subsystem_hosts(struct parser *p, struct inv_subsystem *sub)
{
	struct keyset nqns = KEYSET_INIT(allowed_key, sub);

	for (size_t a = 0; a < sub->n_allowed_hosts; a++) {
		struct inv_allowed_host *ah = &sub->allowed_hosts[a];
		size_t first;

		if (!ah->host)
			continue;
		resolve_allowed_host(p, ah);
		if (ah->nqn && seen_before(p, &nqns, a, &first))
			error_loc(p, DIAG_ERROR, ah->loc, "host %s is allowed twice on %s (first at line %u)", ah->nqn,
				  strempty(sub->nqn), sub->allowed_hosts[first].loc.line);
	}
	keyset_done(&nqns);
	if (!sub->nqn)
		return;
	if (sub->allow_any_host)
		error_loc(p, DIAG_WARNING, sub->loc, "allow_any_host: any host may connect to %s", sub->nqn);
	else if (!sub->n_allowed_hosts)
		error_loc(p, DIAG_WARNING, sub->loc,
			  "no host may connect to %s: it has neither allowed_hosts nor allow_any_host: true", sub->nqn);
}

static struct keyview allowed_ptr_key(const void *ctx, size_t i)
{
	return key_text((*(const struct inv_allowed_host *const *const *)ctx)[i]->nqn);
}

static bool same_settings(const struct inv_allowed_host *x, const struct inv_allowed_host *y)
{
	return streq_ptr(x->dhchap_key, y->dhchap_key) && streq_ptr(x->dhchap_ctrl_key, y->dhchap_ctrl_key) &&
	       streq_ptr(x->dhchap_hash, y->dhchap_hash) && streq_ptr(x->dhchap_dhgroup, y->dhchap_dhgroup);
}

/* nvmet keeps one host object per NQN: its keys cannot differ by subsystem.
 * Each host is held against its first appearance in the target. */
static void check_host_settings(struct parser *p, const struct inv_target *tg)
{
	const struct inv_allowed_host **all;
	struct keyset nqns = KEYSET_INIT(allowed_ptr_key, &all);
	size_t n = 0;

	for (size_t s = 0; s < tg->n_subsystems; s++)
		n += tg->subsystems[s].n_allowed_hosts;
	if (!(all = scratch_array(p, n, sizeof(*all))))
		return;
	n = 0;
	for (size_t s = 0; s < tg->n_subsystems; s++)
		for (size_t a = 0; a < tg->subsystems[s].n_allowed_hosts; a++) {
			const struct inv_allowed_host *x = &tg->subsystems[s].allowed_hosts[a];
			size_t first;

			if (!x->nqn)
				continue;
			all[n] = x;
			if (!first_of(p, &nqns, n, &first))
				break;
			if (first == n)
				n++;
			else if (!same_settings(x, all[first]))
				error_loc(p, DIAG_ERROR, x->loc,
					  "host %s has other DH-HMAC-CHAP settings than at line %u; the target keeps one set per host",
					  x->nqn, all[first]->loc.line);
		}
	keyset_done(&nqns);
}

/* allowed_hosts names hosts of this inventory or gives NQNs. */
static void resolve_allowed_hosts(struct parser *p)
{
	for (size_t t = 0; t < p->inv->n_targets; t++)
		for (size_t s = 0; s < p->inv->targets[t].n_subsystems; s++)
			resolve_subsystem_hosts(p, &p->inv->targets[t].subsystems[s]);
	for (size_t t = 0; t < p->inv->n_targets; t++)
		check_host_settings(p, &p->inv->targets[t]);
}
static void parse_defaults(struct parser *p, struct ynode *n)
{
	enum { D_TRANSPORT, D_TRSVCID, D_OPTIONS, _D_MAX = D_OPTIONS + _OPT_MAX };
	static const char *const keys[_D_MAX] = { "transport", "trsvcid", OPTION_KEYS };
	struct ynode *v[_D_MAX];
	struct options o = { p->inv->fabrics, p->inv->backoff, p->inv->on_removed, p->inv->iopolicy };

	if (!get_fields(p, n, "defaults", keys, _D_MAX, v))
		return;
	if (v[D_TRANSPORT]) {
		enum transport t;

		if (get_transport(p, v[D_TRANSPORT], &t))
			p->default_transport = (int)t;
	}
	if (v[D_TRSVCID])
		get_trsvcid(p, v[D_TRSVCID], &p->default_trsvcid);
	parse_options(p, v + D_OPTIONS, &o);
	check_fabrics(p, loc_of(n), &o.fabrics);
	p->inv->fabrics = o.fabrics;
	p->inv->backoff = o.backoff;
	p->inv->on_removed = o.on_removed;
	p->inv->iopolicy = o.iopolicy;
}

static struct keyview target_name_key(const void *ctx, size_t i)
{
	return key_text(((const struct inventory *)ctx)->targets[i].name);
}

static struct keyview host_name_key(const void *ctx, size_t i)
{
	return key_text(((const struct inventory *)ctx)->hosts[i].name);
}

static void parse_targets(struct parser *p, const struct ynode *list)
{
	struct inventory *inv = p->inv;

	inv->targets = list_alloc(p, list, "targets", "mappings (name, ports, subsystems, ...)", sizeof(struct inv_target));
	p->tix = inv->targets ? scratch_array(p, list->n, sizeof(*p->tix)) : NULL;
	if (!p->tix)
		return;
	for_each_item(list, it) {
		struct inv_target *t = &inv->targets[inv->n_targets];
		size_t first;

		parse_target(p, *it, t, &p->tix[inv->n_targets]);
		if (t->name && seen_before(p, &p->targets_by_name, inv->n_targets, &first))
			error_at(p, *it, "target %s is given twice (first at line %u)", t->name, inv->targets[first].loc.line);
		inv->n_targets++;
	}
}

static void parse_hosts(struct parser *p, const struct ynode *list)
{
	struct inventory *inv = p->inv;

	inv->hosts = list_alloc(p, list, "hosts", "mappings (name, hostnqn, connect, ...)", sizeof(struct inv_host));
	if (!inv->hosts)
		return;
	for_each_item(list, it) {
		struct inv_host *h = &inv->hosts[inv->n_hosts];
		size_t first;

		parse_host(p, *it, h);
		if (h->name && seen_before(p, &p->hosts_by_name, inv->n_hosts, &first))
			error_at(p, *it, "host %s is given twice (first at line %u)", h->name, inv->hosts[first].loc.line);
		inv->n_hosts++;
	}
}

static void parse_root(struct parser *p, struct ynode *root)
{
	static const char *const keys[] = { "defaults", "hosts", "targets" };
	struct ynode *v[ARRAY_SIZE(keys)];

	if (!get_fields(p, root, "the inventory", keys, ARRAY_SIZE(keys), v))
		return;
	if (v[0])
		parse_defaults(p, v[0]);
	/* Targets first: connect entries of hosts name them. */
	if (v[2])
		parse_targets(p, v[2]);
	if (v[1])
		parse_hosts(p, v[1]);
	resolve_allowed_hosts(p);
	if (!v[1] && !v[2])
		error_at(p, root, "the inventory has neither hosts nor targets");
}

static void parser_done(struct parser *p)
{
	for (size_t i = 0; p->tix && i < p->inv->n_targets; i++) {
		keyset_done(&p->tix[i].subsystems);
		keyset_done(&p->tix[i].ports);
	}
	keyset_done(&p->targets_by_name);
	keyset_done(&p->hosts_by_name);
	arena_free(p->scratch);
}

static struct inventory *inventory_new(struct parser *p)
{
	struct inventory *inv;

	p->arena = arena_new();
	inv = p->arena ? arena_alloc(p->arena, sizeof(*inv)) : NULL;
	if (!inv || !(inv->path = arena_strdup(p->arena, p->file))) {
		arena_free(p->arena);
		return NULL;
	}
	inv->arena = p->arena;
	inv->fabrics = inv_fabrics_default;
	inv->backoff = inv_backoff_default;
	inv->on_removed = ON_REMOVED_KEEP;
	return inv;
}

int inventory_load_string(const char *name, const char *text, size_t len, struct diags *diags,
			  struct inventory **ret)
{
	struct parser p = { .file = name, .diags = diags, .default_transport = -1 };
	size_t errors_before = diags->n_errors;
	struct ynode *root = NULL;
	int r;

	*ret = NULL;
	if (!(p.scratch = arena_new()))
		return -ENOMEM;
	r = ytree_parse(name, text, len, p.scratch, diags, &root);
	if (r == 0 && !root) {
		diags_add(diags, DIAG_ERROR, name, 0, 0, "the inventory is empty");
		r = -EINVAL;
	}
	if (r == 0 && !(p.inv = inventory_new(&p)))
		r = -ENOMEM;
	if (r < 0) {
		arena_free(p.scratch);
		return r;
	}
	p.targets_by_name = KEYSET_INIT(target_name_key, p.inv);
	p.hosts_by_name = KEYSET_INIT(host_name_key, p.inv);
	parse_root(&p, root);
	parser_done(&p);

	r = p.oom || diags->oom ? -ENOMEM : diags->n_errors > errors_before ? -EINVAL : 0;
	if (r < 0) {
		arena_free(p.arena);
		return r;
	}
	*ret = p.inv;
	return 0;
}

int inventory_load(const char *path, struct diags *diags, struct inventory **ret)
{
	bool std_in = streq(path, "-");
	const char *name = std_in ? "<stdin>" : path;
	_cleanup_close_ int fd = std_in ? -1 : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	int r;

	*ret = NULL;
	r = !std_in && fd < 0 ? -errno : read_fd_whole(std_in ? STDIN_FILENO : fd, INV_MAX_FILE_SIZE, &text, &len);
	if (r == -EFBIG)
		diags_add(diags, DIAG_ERROR, name, 0, 0, "cannot read the inventory: it is larger than %u MiB",
			  INV_MAX_FILE_SIZE >> 20);
	else if (r < 0)
		diags_add(diags, DIAG_ERROR, name, 0, 0, "cannot read the inventory: %s", strerror(-r));
	if (r < 0)
		return r;
	return inventory_load_string(name, text, len, diags, ret);
}

void inventory_free(struct inventory *inv)
{
	if (inv)
		arena_free(inv->arena);
}

const struct inv_host *inventory_find_host(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; name && i < inv->n_hosts; i++)
		if (streq_ptr(inv->hosts[i].name, name))
			return &inv->hosts[i];
	return NULL;
}

const struct inv_target *inventory_find_target(const struct inventory *inv, const char *name)
{
	for (size_t i = 0; name && i < inv->n_targets; i++)
		if (streq_ptr(inv->targets[i].name, name))
			return &inv->targets[i];
	return NULL;
}

/* "a, b, c" of the names in a list of entries, for messages. */
static char *names_of(const void *entries, size_t n, size_t stride, size_t name_off)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const char *name = *(const char *const *)((const char *)entries + i * stride + name_off);

		fprintf(f, "%s%s", i ? ", " : "", strempty(name));
	}
	if (n == 0)
		fputs("none", f);
	fclose(f);
	return s;
}

static int pick(const struct inventory *inv, const char *name, const char *what, const void *found,
		const void *entries, size_t n, size_t stride, size_t name_off, struct diags *diags)
{
	char host[256] = "";
	_cleanup_free_ char *names = NULL;

	if (found)
		return 0;
	names = names_of(entries, n, stride, name_off);
	if (name)
		diags_add(diags, DIAG_ERROR, inv->path, 0, 0, "there is no %s '%s' in the inventory (there are: %s)", what,
			  name, strempty(names));
	else {
		gethostname(host, sizeof(host) - 1);
		diags_add(diags, DIAG_ERROR, inv->path, 0, 0,
			  "no %s is named like this machine ('%s'); choose one with --%s (there are: %s)", what, host,
			  what, strempty(names));
	}
	return -ENOENT;
}

/* The entry named NAME, or the one named like this machine. */
static const char *this_machine(const char *name, char *buf, size_t size, bool shortname)
{
	if (name)
		return name;
	if (gethostname(buf, size - 1) < 0)
		return NULL;
	buf[size - 1] = '\0';
	if (shortname)
		buf[strcspn(buf, ".")] = '\0';
	return buf;
}

int inventory_pick_host(const struct inventory *inv, const char *name, struct diags *diags,
			const struct inv_host **ret)
{
	char buf[256];
	const struct inv_host *h = inventory_find_host(inv, this_machine(name, buf, sizeof(buf), false));

	if (!h && !name)
		h = inventory_find_host(inv, this_machine(NULL, buf, sizeof(buf), true));
	*ret = h;
	return pick(inv, name, "host", h, inv->hosts, inv->n_hosts, sizeof(*inv->hosts),
		    offsetof(struct inv_host, name), diags);
}

int inventory_pick_target(const struct inventory *inv, const char *name, struct diags *diags,
			  const struct inv_target **ret)
{
	char buf[256];
	const struct inv_target *t = inventory_find_target(inv, this_machine(name, buf, sizeof(buf), false));

	if (!t && !name)
		t = inventory_find_target(inv, this_machine(NULL, buf, sizeof(buf), true));
	/* A lone target needs no name. */
	if (!t && !name && inv->n_targets == 1)
		t = &inv->targets[0];
	*ret = t;
	return pick(inv, name, "target", t, inv->targets, inv->n_targets, sizeof(*inv->targets),
		    offsetof(struct inv_target, name), diags);
}

/* ---------------------------------------------------------------------- */
/* key files */

static const char *kind_of_file(mode_t mode)
{
	return S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISSOCK(mode) ? "a socket" :
	       S_ISCHR(mode) ? "a character device" : S_ISBLK(mode) ? "a block device" : "not a regular file";
}

/*
 * The key file at PATH: the owner's alone, and a regular file, never a
 * symbolic link. The open does not wait: a FIFO would hold up a check, and
 * the daemon's loop on a reload.
 */
static int check_key_file(const struct inventory *inv, const char *path, struct inv_loc loc, struct diags *diags)
{
	struct stat st;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);

	if (fd < 0 && errno == ELOOP) {
		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column,
			  "key file %s is a symbolic link; a key is a regular file: give its own path", path);
		return -ELOOP;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = -errno;

		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column, "key file %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column, "key file %s is %s, not a regular file",
			  path, kind_of_file(st.st_mode));
		return -EINVAL;
	}
	if (st.st_mode & 077) {
		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column,
			  "key file %s is readable by group or others (mode %04o); a key must be the owner's alone: chmod 600 %s",
			  path, (unsigned)(st.st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

int inventory_check_host_keys(const struct inventory *inv, const struct inv_host *h, struct diags *diags)
{
	int r = 0, k;

	for (size_t i = 0; i < h->n_endpoints; i++) {
		const struct inv_endpoint *e = &h->endpoints[i];

		if (e->dhchap_key && (k = check_key_file(inv, e->dhchap_key, e->key_loc, diags)) < 0 && !r)
			r = k;
		if (e->dhchap_ctrl_key && (k = check_key_file(inv, e->dhchap_ctrl_key, e->key_loc, diags)) < 0 && !r)
			r = k;
	}
	return r;
}

int inventory_check_target_keys(const struct inventory *inv, const struct inv_target *t, struct diags *diags)
{
	int r = 0, k;

	for (size_t s = 0; s < t->n_subsystems; s++)
		for (size_t a = 0; a < t->subsystems[s].n_allowed_hosts; a++) {
			const struct inv_allowed_host *ah = &t->subsystems[s].allowed_hosts[a];

			if (ah->dhchap_key && (k = check_key_file(inv, ah->dhchap_key, ah->loc, diags)) < 0 && !r)
				r = k;
			if (ah->dhchap_ctrl_key && (k = check_key_file(inv, ah->dhchap_ctrl_key, ah->loc, diags)) < 0 && !r)
				r = k;
		}
	return r;
}
