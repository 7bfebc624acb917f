/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing and validating the inventory. libyaml loads the file as a document
 * (every node keeps its line and column); the walkers below check each
 * mapping against its keys, convert each value and report every problem with
 * its place, going on after an error so that one run shows them all.
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
#include <yaml.h>

#include "base/arena.h"
#include "base/macro.h"
#include "base/nqn.h"

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

struct parser {
	yaml_document_t doc;
	const char *file;
	struct diags *diags;
	struct arena *arena;
	struct inventory *inv;
	bool oom;
	/* defaults: section values that are not fabrics options */
	int default_transport; /* -1: none */
	const char *default_trsvcid;
};

_printf_(3, 4) static void error_at(struct parser *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		p->oom = true;
		return;
	}
	diags_add(p->diags, DIAG_ERROR, p->file, n ? (unsigned)n->start_mark.line + 1 : 0,
		  n ? (unsigned)n->start_mark.column + 1 : 0, "%s", msg);
}

_printf_(4, 5) static void error_loc(struct parser *p, enum diag_level level, struct inv_loc loc,
				     const char *fmt, ...)
{
	va_list ap;
	_cleanup_free_ char *msg = NULL;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (!msg) {
		p->oom = true;
		return;
	}
	diags_add(p->diags, level, p->file, loc.line, loc.column, "%s", msg);
}

static struct inv_loc loc_of(const yaml_node_t *n)
{
	return (struct inv_loc){ (unsigned)n->start_mark.line + 1, (unsigned)n->start_mark.column + 1 };
}

static yaml_node_t *node(struct parser *p, int index)
{
	return yaml_document_get_node(&p->doc, index);
}

static const char *kind_of(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a single value";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_NO_NODE:
		break;
	}
	return "nothing";
}

static bool is_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)n->data.scalar.value;
	return !*v || streq(v, "~") || streq(v, "null") || streq(v, "Null") || streq(v, "NULL");
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static void *alloc_array(struct parser *p, size_t n, size_t size)
{
	void *v = arena_alloc_array(p->arena, n ? n : 1, size);

	if (!v)
		p->oom = true;
	return v;
}

/* N, a list of ITEMS (for the message): room for each of them, or NULL after an error. */
static void *list_alloc(struct parser *p, const yaml_node_t *n, const char *what, const char *items, size_t size)
{
	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(p, n, "%s is a list of %s, not %s", what, items, kind_of(n));
		return NULL;
	}
	return alloc_array(p, seq_len(n), size);
}

#define for_each_item(p, n, it) \
	for (yaml_node_item_t *it = (n)->data.sequence.items.start; it < (n)->data.sequence.items.top; it++)

/* Join the keys of a table for "allowed: ..." messages. */
static const char *join_keys(struct parser *p, const char *const *keys, size_t n)
{
	size_t len = 1;
	char *s, *q;

	for (size_t i = 0; i < n; i++)
		len += strlen(keys[i]) + 2;
	s = q = arena_alloc(p->arena, len);
	if (!s) {
		p->oom = true;
		return "";
	}
	for (size_t i = 0; i < n; i++)
		q += sprintf(q, "%s%s", i ? ", " : "", keys[i]);
	return s;
}

/*
 * Check that N is a mapping of KEYS only, each at most once; set v[i] to the
 * value of keys[i] (NULL when absent). Returns false when N is no mapping.
 */
static bool get_fields(struct parser *p, const yaml_node_t *n, const char *what,
		       const char *const *keys, size_t n_keys, yaml_node_t **v)
{
	memset(v, 0, n_keys * sizeof(*v));
	if (n->type != YAML_MAPPING_NODE) {
		error_at(p, n, "%s is a mapping of keys (%s), not %s", what, join_keys(p, keys, n_keys),
			 kind_of(n));
		return false;
	}
	for (yaml_node_pair_t *pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node(p, pair->key), *val = node(p, pair->value);
		const char *key;
		size_t i;

		if (k->type != YAML_SCALAR_NODE) {
			error_at(p, k, "a key in %s is %s; keys are names (%s)", what, kind_of(k),
				 join_keys(p, keys, n_keys));
			continue;
		}
		key = (const char *)k->data.scalar.value;
		for (i = 0; i < n_keys && !streq(keys[i], key); i++)
			;
		if (i == n_keys) {
			error_at(p, k, "unknown key '%s' in %s (allowed: %s)", key, what, join_keys(p, keys, n_keys));
			continue;
		}
		if (v[i]) {
			error_at(p, k, "'%s' is given twice in %s (first at line %lu)", key, what,
				 (unsigned long)v[i]->start_mark.line + 1);
			continue;
		}
		v[i] = val;
	}
	return true;
}

static void require(struct parser *p, const yaml_node_t *map, const char *what, const char *key,
		    const yaml_node_t *v)
{
	if (!v)
		error_at(p, map, "%s needs '%s'", what, key);
}

/* A single text value; NULL (after an error) otherwise. */
static const char *get_text(struct parser *p, const yaml_node_t *n, const char *what)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE) {
		error_at(p, n, "%s is a single value, not %s", what, kind_of(n));
		return NULL;
	}
	if (is_null(n)) {
		error_at(p, n, "%s needs a value", what);
		return NULL;
	}
	s = arena_strndup(p->arena, (const char *)n->data.scalar.value, n->data.scalar.length);
	if (!s)
		p->oom = true;
	else if (strlen(s) != n->data.scalar.length) {
		error_at(p, n, "%s contains a NUL byte", what);
		return NULL;
	}
	return s;
}

static bool get_uint(struct parser *p, const yaml_node_t *n, const char *what, unsigned long min,
		     unsigned long max, unsigned long *ret)
{
	const char *s = get_text(p, n, what);
	char *end;
	unsigned long v;

	if (!s)
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (!isdigit((unsigned char)*s) || *end || errno) {
		error_at(p, n, "%s is a whole number from %lu to %lu, not '%s'", what, min, max, s);
		return false;
	}
	if (v < min || v > max) {
		error_at(p, n, "%s is from %lu to %lu, not %lu", what, min, max, v);
		return false;
	}
	*ret = v;
	return true;
}

static bool get_bool(struct parser *p, const yaml_node_t *n, const char *what, bool *ret)
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

static bool get_duration(struct parser *p, const yaml_node_t *n, const char *what, usec_t min,
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
static bool get_seconds(struct parser *p, const yaml_node_t *n, const char *what, int min, int max,
			const char *word, int *ret)
{
	usec_t v;
	char a[DURATION_MAX], b[DURATION_MAX];

	if (word && n->type == YAML_SCALAR_NODE && streq((const char *)n->data.scalar.value, word)) {
		*ret = -1;
		return true;
	}
	if (n->type == YAML_SCALAR_NODE && duration_parse((const char *)n->data.scalar.value, &v) < 0) {
		error_at(p, n, "%s is a duration in whole seconds such as 5s or 10m%s%s%s, not '%s'", what,
			 word ? ", or '" : "", word ? word : "", word ? "'" : "",
			 (const char *)n->data.scalar.value);
		return false;
	}
	if (!get_duration(p, n, what, (usec_t)min * USEC_PER_SEC, (usec_t)max * USEC_PER_SEC, &v))
		return false;
	if (v % USEC_PER_SEC) {
		error_at(p, n, "%s is passed to the kernel in whole seconds: %s is not (use %s or %s)", what,
			 (const char *)n->data.scalar.value, duration_format(v / USEC_PER_SEC * USEC_PER_SEC, a),
			 duration_format((v / USEC_PER_SEC + 1) * USEC_PER_SEC, b));
		return false;
	}
	*ret = (int)(v / USEC_PER_SEC);
	return true;
}

/* A list of single values, each checked by CHECK when given. */
static bool get_text_list(struct parser *p, const yaml_node_t *n, const char *what,
			  bool (*check)(struct parser *, const yaml_node_t *, const char *, const char *),
			  const char ***ret, size_t *ret_n)
{
	const char **v;
	size_t k = 0;
	bool ok = true;

	if (n->type != YAML_SEQUENCE_NODE) {
		error_at(p, n, "%s is a list such as [a, b], not %s", what, kind_of(n));
		return false;
	}
	v = alloc_array(p, seq_len(n), sizeof(*v));
	if (!v)
		return false;
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *item = node(p, *it);
		const char *s = get_text(p, item, what);

		if (!s || (check && !check(p, item, what, s))) {
			ok = false;
			continue;
		}
		for (size_t j = 0; j < k; j++)
			if (streq(v[j], s)) {
				error_at(p, item, "'%s' is listed twice in %s", s, what);
				s = NULL;
				break;
			}
		if (s)
			v[k++] = s;
	}
	*ret = v;
	*ret_n = k;
	return ok;
}

/* ---------------------------------------------------------------------- */
/* value checks */

static bool check_nqn(struct parser *p, const yaml_node_t *n, const char *what, const char *s)
{
	const char *why;

	if (nqn_check(s, &why) == 0)
		return true;
	error_at(p, n, "%s '%s' is not a valid NQN: %s", what, s, why);
	return false;
}

static bool check_name(struct parser *p, const yaml_node_t *n, const char *what, const char *s)
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

static bool check_module(struct parser *p, const yaml_node_t *n, const char *what, const char *s)
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
static bool get_address(struct parser *p, const yaml_node_t *traddr_n, const yaml_node_t *adrfam_n,
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

static bool get_trsvcid(struct parser *p, const yaml_node_t *n, const char **ret)
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

static bool get_transport(struct parser *p, const yaml_node_t *n, enum transport *ret)
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
static const char *get_key_path(struct parser *p, const yaml_node_t *n, const char *what)
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

/* Apply the option keys in V (indexed as above) over O. */
static void parse_options(struct parser *p, yaml_node_t *const *v, struct options *o)
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
		yaml_node_t *b[ARRAY_SIZE(keys)];
		usec_t d;

		if (get_fields(p, v[OPT_BACKOFF], "backoff", keys, ARRAY_SIZE(keys), b)) {
			if (b[0] && get_duration(p, b[0], "backoff initial", 10 * USEC_PER_MSEC, USEC_PER_HOUR, &d))
				o->backoff.initial = d;
			if (b[1] && get_duration(p, b[1], "backoff max", 10 * USEC_PER_MSEC, USEC_PER_HOUR, &d))
				o->backoff.max = d;
			if (b[2]) {
				const char *j = get_text(p, b[2], "backoff jitter");
				char *end;
				unsigned long pct = 0;

				if (j) {
					errno = 0;
					pct = strtoul(j, &end, 10);
					if (!isdigit((unsigned char)*j) || !streq(end, "%") || errno || pct > 100)
						error_at(p, b[2], "backoff jitter is a percentage from 0%% to 100%%, such as 20%%, not '%s'", j);
					else
						o->backoff.jitter_pct = (unsigned)pct;
				}
			}
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

static void parse_namespace(struct parser *p, yaml_node_t *n, struct inv_namespace *ns)
{
	static const char *const keys[] = { "nsid", "device_path", "uuid", "nguid", "enabled" };
	yaml_node_t *v[ARRAY_SIZE(keys)];
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

static void parse_allowed_host(struct parser *p, yaml_node_t *n, struct inv_allowed_host *a)
{
	static const char *const keys[] = { "host", "dhchap_key", "dhchap_ctrl_key", "dhchap_hash", "dhchap_dhgroup" };
	yaml_node_t *v[ARRAY_SIZE(keys)];

	a->loc = loc_of(n);
	if (n->type == YAML_SCALAR_NODE) {
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
	if (v[3] && (a->dhchap_hash = get_text(p, v[3], "dhchap_hash")) &&
	    table_lookup(dhchap_hashes, ARRAY_SIZE(dhchap_hashes), a->dhchap_hash) < 0) {
		error_at(p, v[3], "dhchap_hash is one of %s, not '%s'",
			 join_keys(p, dhchap_hashes, ARRAY_SIZE(dhchap_hashes)), a->dhchap_hash);
		a->dhchap_hash = NULL;
	}
	if (v[4] && (a->dhchap_dhgroup = get_text(p, v[4], "dhchap_dhgroup")) &&
	    table_lookup(dhchap_groups, ARRAY_SIZE(dhchap_groups), a->dhchap_dhgroup) < 0) {
		error_at(p, v[4], "dhchap_dhgroup is one of %s, not '%s'",
			 join_keys(p, dhchap_groups, ARRAY_SIZE(dhchap_groups)), a->dhchap_dhgroup);
		a->dhchap_dhgroup = NULL;
	}
	if ((v[3] || v[4]) && !v[1])
		error_at(p, v[3] ? v[3] : v[4], "dhchap_hash and dhchap_dhgroup go with dhchap_key");
}

static void parse_subsystem(struct parser *p, yaml_node_t *n, struct inv_subsystem *s)
{
	static const char *const keys[] = { "nqn", "serial", "allow_any_host", "allowed_hosts", "namespaces" };
	yaml_node_t *v[ARRAY_SIZE(keys)];

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
	if (v[1] && (s->serial = get_text(p, v[1], "serial"))) {
		bool ok = strlen(s->serial) <= 20;

		for (const char *c = s->serial; *c; c++)
			ok = ok && *c > 0x20 && *c < 0x7f;
		if (!ok) {
			error_at(p, v[1], "serial is at most 20 printable ASCII characters without spaces, not '%s'",
				 s->serial);
			s->serial = NULL;
		}
	}
	if (v[2])
		get_bool(p, v[2], "allow_any_host", &s->allow_any_host);
	if (v[3] && (s->allowed_hosts = list_alloc(p, v[3], "allowed_hosts", "host names, NQNs or mappings",
						   sizeof(*s->allowed_hosts))))
		for_each_item(p, v[3], it)
			parse_allowed_host(p, node(p, *it), &s->allowed_hosts[s->n_allowed_hosts++]);
	if (s->allow_any_host && s->n_allowed_hosts)
		error_at(p, v[2], "allow_any_host: true contradicts allowed_hosts: write one or the other");
	if (v[4] && (s->namespaces = list_alloc(p, v[4], "namespaces", "mappings (nsid, device_path, ...)",
						sizeof(*s->namespaces))))
		for_each_item(p, v[4], it) {
			struct inv_namespace *ns = &s->namespaces[s->n_namespaces++];

			parse_namespace(p, node(p, *it), ns);
			for (size_t j = 0; ns->nsid && j + 1 < s->n_namespaces; j++)
				if (s->namespaces[j].nsid == ns->nsid)
					error_at(p, node(p, *it), "nsid %u is used twice in %s (first at line %u)", ns->nsid,
						 strempty(s->nqn), s->namespaces[j].loc.line);
		}
}

/* The address of a port or a referral (WHAT): transport, traddr with adrfam,
 * trsvcid; transport and trsvcid from defaults where not given. */
static void get_listen_address(struct parser *p, yaml_node_t *n, const char *what, yaml_node_t *transport,
			       yaml_node_t *traddr, yaml_node_t *trsvcid, yaml_node_t *adrfam, enum transport *ret_t,
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

static void parse_referral(struct parser *p, yaml_node_t *n, struct inv_referral *r)
{
	static const char *const keys[] = { "name", "transport", "traddr", "trsvcid", "adrfam", "portid" };
	yaml_node_t *v[ARRAY_SIZE(keys)];
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
		char *name = NULL;

		if (asprintf(&name, "%s-%s-%s", transport_to_string(r->transport), r->traddr, r->trsvcid) < 0)
			p->oom = true;
		else {
			r->name = arena_strdup(p->arena, name);
			free(name);
		}
	}
}

static void parse_port(struct parser *p, yaml_node_t *n, struct inv_target *t, struct inv_port *port,
		       yaml_node_t **ret_subsys)
{
	static const char *const keys[] = { "id", "transport", "traddr", "trsvcid", "adrfam", "subsystems", "referrals" };
	yaml_node_t *v[ARRAY_SIZE(keys)];
	unsigned long u;

	port->loc = loc_of(n);
	*ret_subsys = NULL;
	if (!get_fields(p, n, "a port", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a port", "id", v[0]);
	require(p, n, "a port", "traddr", v[2]);
	if (v[0] && get_uint(p, v[0], "port id", 1, 65535, &u)) {
		port->id = (unsigned)u;
		for (struct inv_port *q = t->ports; q < port; q++)
			if (q->id == port->id)
				error_at(p, v[0], "port id %u is used twice in target %s (first at line %u)", port->id,
					 strempty(t->name), q->loc.line);
	}
	get_listen_address(p, n, "a port", v[1], v[2], v[3], v[4], &port->transport, &port->traddr, &port->adrfam,
			   &port->trsvcid);
	*ret_subsys = v[5];
	if (v[6] && (port->referrals = list_alloc(p, v[6], "referrals", "mappings (transport, traddr, trsvcid)",
						  sizeof(*port->referrals))))
		for_each_item(p, v[6], it) {
			struct inv_referral *r = &port->referrals[port->n_referrals++];

			parse_referral(p, node(p, *it), r);
			for (struct inv_referral *q = port->referrals; r->name && q < r; q++)
				if (q->name && streq(q->name, r->name))
					error_at(p, node(p, *it), "referral %s is given twice in port %u", r->name, port->id);
		}
}

/* A port's subsystems: NQNs of its target's subsystems; all of them when absent. */
static void resolve_port_subsystems(struct parser *p, struct inv_target *t, struct inv_port *port,
				    yaml_node_t *list)
{
	if (!list) {
		port->subsystems = alloc_array(p, t->n_subsystems, sizeof(char *));
		for (size_t i = 0; port->subsystems && i < t->n_subsystems; i++)
			if (t->subsystems[i].nqn)
				port->subsystems[port->n_subsystems++] = t->subsystems[i].nqn;
		return;
	}
	if (!get_text_list(p, list, "a port's subsystems", NULL, &port->subsystems, &port->n_subsystems))
		return;
	for (size_t i = 0; i < port->n_subsystems; i++) {
		size_t j;

		for (j = 0; j < t->n_subsystems && !streq_ptr(t->subsystems[j].nqn, port->subsystems[i]); j++)
			;
		if (j == t->n_subsystems)
			error_at(p, node(p, list->data.sequence.items.start[i]),
				 "port %u exposes '%s', which is not a subsystem of target %s", port->id,
				 port->subsystems[i], strempty(t->name));
	}
}

static void parse_target(struct parser *p, yaml_node_t *n, struct inv_target *t)
{
	static const char *const keys[] = { "name", "modules", "null_blk", "ports", "subsystems" };
	yaml_node_t *v[ARRAY_SIZE(keys)];

	t->loc = loc_of(n);
	if (!get_fields(p, n, "a target", keys, ARRAY_SIZE(keys), v))
		return;
	require(p, n, "a target", "name", v[0]);
	if (v[0] && (t->name = get_text(p, v[0], "target name")) && !check_name(p, v[0], "target name", t->name))
		t->name = NULL;
	if (v[1])
		get_text_list(p, v[1], "modules", check_module, &t->modules, &t->n_modules);
	if (v[2]) {
		static const char *const nkeys[] = { "nr_devices", "gb" };
		yaml_node_t *b[ARRAY_SIZE(nkeys)];
		unsigned long u;

		if (get_fields(p, v[2], "null_blk", nkeys, ARRAY_SIZE(nkeys), b)) {
			t->null_blk.set = true;
			t->null_blk.nr_devices = 1;
			t->null_blk.gb = 250; /* the module's default */
			if (b[0] && get_uint(p, b[0], "null_blk nr_devices", 1, 64, &u))
				t->null_blk.nr_devices = (unsigned)u;
			if (b[1] && get_uint(p, b[1], "null_blk gb", 1, 65536, &u))
				t->null_blk.gb = (unsigned)u;
		}
	}
	if (v[4] && (t->subsystems = list_alloc(p, v[4], "subsystems", "mappings (nqn, namespaces, ...)",
						sizeof(*t->subsystems))))
		for_each_item(p, v[4], it) {
			struct inv_subsystem *s = &t->subsystems[t->n_subsystems++];

			parse_subsystem(p, node(p, *it), s);
			for (struct inv_subsystem *q = t->subsystems; s->nqn && q < s; q++)
				if (streq_ptr(q->nqn, s->nqn))
					error_at(p, node(p, *it), "subsystem %s is given twice in target %s (first at line %u)",
						 s->nqn, strempty(t->name), q->loc.line);
		}
	if (v[3] && (t->ports = list_alloc(p, v[3], "ports", "mappings (id, transport, traddr, ...)", sizeof(*t->ports))))
		for_each_item(p, v[3], it) {
			struct inv_port *port = &t->ports[t->n_ports++];
			yaml_node_t *subsys;

			parse_port(p, node(p, *it), t, port, &subsys);
			resolve_port_subsystems(p, t, port, subsys);
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

static bool endpoint_same(const struct inv_endpoint *a, const struct inv_endpoint *b)
{
	return a->transport == b->transport && streq_ptr(a->traddr, b->traddr) &&
	       streq_ptr(a->trsvcid, b->trsvcid) && streq_ptr(a->host_traddr, b->host_traddr) &&
	       streq_ptr(a->host_iface, b->host_iface);
}

/* One connect entry: appends its endpoints to h->endpoints (room for them is there). */
static void parse_connect(struct parser *p, yaml_node_t *n, struct inv_host *h, const struct options *host_opts,
			  size_t room)
{
	yaml_node_t *v[_C_MAX];
	struct inv_endpoint e = { .loc = loc_of(n) };
	struct options o = *host_opts;
	const struct inv_target *t = NULL;

	if (!get_fields(p, n, "a connect entry", connect_keys, _C_MAX, v))
		return;
	parse_options(p, v + C_OPTIONS, &o);
	check_fabrics(p, e.loc, &o.fabrics);
	e.fabrics = o.fabrics;
	e.backoff = o.backoff;
	e.on_removed = o.on_removed;
	e.iopolicy = o.iopolicy;

	if (v[C_HOST_IFACE] && (e.host_iface = get_text(p, v[C_HOST_IFACE], "host_iface"))) {
		size_t len = strlen(e.host_iface);

		if (len >= 16 || strpbrk(e.host_iface, "/: \t") || streq(e.host_iface, ".") || streq(e.host_iface, "..")) {
			error_at(p, v[C_HOST_IFACE], "host_iface '%s' is not a network interface name (at most 15 characters, no '/', ':' or spaces)",
				 e.host_iface);
			e.host_iface = NULL;
		}
	}
	if (v[C_SUBSYSTEMS])
		get_text_list(p, v[C_SUBSYSTEMS], "subsystems", check_nqn, &e.subsystems, &e.n_subsystems);
	if (v[C_DHCHAP_KEY]) {
		e.dhchap_key = get_key_path(p, v[C_DHCHAP_KEY], "dhchap_key");
		e.key_loc = loc_of(v[C_DHCHAP_KEY]);
	}
	if (v[C_DHCHAP_CTRL_KEY]) {
		e.dhchap_ctrl_key = get_key_path(p, v[C_DHCHAP_CTRL_KEY], "dhchap_ctrl_key");
		if (!v[C_DHCHAP_KEY])
			error_at(p, v[C_DHCHAP_CTRL_KEY], "dhchap_ctrl_key (bidirectional authentication) needs dhchap_key as well");
	}

	if (v[C_TARGET]) {
		const char *name = get_text(p, v[C_TARGET], "target");

		for (size_t k = C_TRANSPORT; k <= C_ADRFAM; k++)
			if (v[k])
				error_at(p, v[k], "a connect entry that names a target takes transport, traddr, trsvcid and adrfam from the target's ports: '%s' goes",
					 connect_keys[k]);
		if (name && !(t = inventory_find_target(p->inv, name))) {
			error_at(p, v[C_TARGET], "there is no target '%s' in this inventory", name);
			return;
		}
	} else {
		if (v[C_PORTS])
			error_at(p, v[C_PORTS], "'ports' picks ports of a named target; this entry names none");
		require(p, n, "a connect entry", "traddr (or target)", v[C_TRADDR]);
	}

	if (t) {
		const char **ids_text = NULL;
		size_t n_ids = 0;

		if (v[C_PORTS] && !get_text_list(p, v[C_PORTS], "ports", NULL, &ids_text, &n_ids))
			return;
		for (size_t i = 0; i < t->n_ports; i++) {
			const struct inv_port *port = &t->ports[i];
			bool wanted = !v[C_PORTS];

			for (size_t j = 0; j < n_ids && !wanted; j++)
				wanted = strtoul(ids_text[j], NULL, 10) == port->id;
			if (!wanted || !port->traddr || !port->trsvcid)
				continue;
			e.target = t->name;
			e.target_port = port->id;
			e.transport = port->transport;
			e.adrfam = port->adrfam;
			e.traddr = port->traddr;
			e.trsvcid = port->trsvcid;
			if (h->n_endpoints < room)
				h->endpoints[h->n_endpoints++] = e;
		}
		for (size_t j = 0; j < n_ids; j++) {
			size_t i;

			for (i = 0; i < t->n_ports && strtoul(ids_text[j], NULL, 10) != t->ports[i].id; i++)
				;
			if (i == t->n_ports)
				error_at(p, node(p, v[C_PORTS]->data.sequence.items.start[j]),
					 "target %s has no port '%s'", t->name, ids_text[j]);
		}
	} else if (v[C_TRADDR]) {
		if (v[C_TRANSPORT])
			get_transport(p, v[C_TRANSPORT], &e.transport);
		else if (p->default_transport >= 0)
			e.transport = (enum transport)p->default_transport;
		else
			error_at(p, n, "a connect entry needs 'transport' (rdma or tcp), here or in defaults");
		if (!get_address(p, v[C_TRADDR], v[C_ADRFAM], "traddr", &e.traddr, &e.adrfam))
			return;
		if (v[C_TRSVCID])
			get_trsvcid(p, v[C_TRSVCID], &e.trsvcid);
		else if (p->default_trsvcid)
			e.trsvcid = p->default_trsvcid;
		else
			e.trsvcid = e.transport == TRANSPORT_TCP ? TRSVCID_TCP_DISCOVERY : TRSVCID_RDMA_DISCOVERY;
		if (h->n_endpoints < room)
			h->endpoints[h->n_endpoints++] = e;
	}

	/* host_traddr needs the family of the endpoints it goes with. */
	if (v[C_HOST_TRADDR]) {
		const char *a = get_text(p, v[C_HOST_TRADDR], "host_traddr");
		int fam = a ? address_family(a) : -EINVAL;

		if (a && fam < 0)
			error_at(p, v[C_HOST_TRADDR], "host_traddr '%s' is not an IPv4 or IPv6 address", a);
		for (size_t i = 0; fam >= 0 && i < h->n_endpoints; i++) {
			struct inv_endpoint *x = &h->endpoints[i];

			if (x->loc.line != e.loc.line || x->loc.column != e.loc.column)
				continue;
			if ((int)x->adrfam != fam) {
				error_at(p, v[C_HOST_TRADDR], "host_traddr '%s' is %s but the target address %s is %s", a,
					 adrfam_to_string((enum adrfam)fam), x->traddr, adrfam_to_string(x->adrfam));
				break;
			}
			x->host_traddr = a;
		}
	}
}

static void parse_host(struct parser *p, yaml_node_t *n, struct inv_host *h)
{
	enum { H_NAME, H_HOSTNQN, H_HOSTID, H_MODULES, H_CONNECT, H_OPTIONS, _H_MAX = H_OPTIONS + _OPT_MAX };
	static const char *const keys[_H_MAX] = { "name", "hostnqn", "hostid", "modules", "connect", OPTION_KEYS };
	yaml_node_t *v[_H_MAX];
	struct options o = { p->inv->fabrics, p->inv->backoff, p->inv->on_removed, p->inv->iopolicy };
	size_t room = 0;

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
		get_text_list(p, v[H_MODULES], "modules", check_module, &h->modules, &h->n_modules);
	parse_options(p, v + H_OPTIONS, &o);

	if (!v[H_CONNECT])
		return;
	if (v[H_CONNECT]->type != YAML_SEQUENCE_NODE) {
		error_at(p, v[H_CONNECT], "connect is a list of mappings (a target, or transport and traddr), not %s",
			 kind_of(v[H_CONNECT]));
		return;
	}
	/* An entry naming a target yields one endpoint per port. */
	for (yaml_node_item_t *it = v[H_CONNECT]->data.sequence.items.start; it < v[H_CONNECT]->data.sequence.items.top; it++)
		room++;
	for (size_t i = 0; i < p->inv->n_targets; i++)
		room += p->inv->targets[i].n_ports * seq_len(v[H_CONNECT]);
	h->endpoints = alloc_array(p, room, sizeof(*h->endpoints));
	if (!h->endpoints)
		return;
	for (yaml_node_item_t *it = v[H_CONNECT]->data.sequence.items.start; it < v[H_CONNECT]->data.sequence.items.top; it++) {
		size_t before = h->n_endpoints;

		parse_connect(p, node(p, *it), h, &o, room);
		for (size_t i = before; i < h->n_endpoints; i++)
			for (size_t j = 0; j < before; j++)
				if (endpoint_same(&h->endpoints[i], &h->endpoints[j])) {
					error_at(p, node(p, *it), "host %s connects to %s %s:%s twice (first at line %u)",
						 strempty(h->name), transport_to_string(h->endpoints[i].transport),
						 h->endpoints[i].traddr, h->endpoints[i].trsvcid, h->endpoints[j].loc.line);
					break;
				}
	}
}

/* allowed_hosts names hosts of this inventory or gives NQNs. */
static void resolve_allowed_hosts(struct parser *p)
{
	for (size_t t = 0; t < p->inv->n_targets; t++) {
		struct inv_target *tg = &p->inv->targets[t];

		for (size_t s = 0; s < tg->n_subsystems; s++) {
			struct inv_subsystem *sub = &tg->subsystems[s];

			for (size_t a = 0; a < sub->n_allowed_hosts; a++) {
				struct inv_allowed_host *ah = &sub->allowed_hosts[a];
				const struct inv_host *h;
				const char *why;

				if (!ah->host)
					continue;
				if (strncmp(ah->host, "nqn.", 4) == 0) {
					if (nqn_check(ah->host, &why) < 0)
						error_loc(p, DIAG_ERROR, ah->loc, "allowed host '%s' is not a valid NQN: %s", ah->host, why);
					else
						ah->nqn = ah->host;
				} else if (!(h = inventory_find_host(p->inv, ah->host))) {
					error_loc(p, DIAG_ERROR, ah->loc,
						  "allowed host '%s' is neither a host of this inventory nor an NQN (nqn....)", ah->host);
				} else if (!h->hostnqn) {
					error_loc(p, DIAG_ERROR, ah->loc,
						  "allowed host '%s' has no hostnqn in the inventory (line %u); the target needs it: write hostnqn there",
						  ah->host, h->loc.line);
				} else {
					ah->nqn = h->hostnqn;
				}
				for (size_t b = 0; ah->nqn && b < a; b++)
					if (streq_ptr(sub->allowed_hosts[b].nqn, ah->nqn))
						error_loc(p, DIAG_ERROR, ah->loc, "host %s is allowed twice on %s", ah->nqn, strempty(sub->nqn));
			}
			if (!sub->nqn)
				continue;
			if (sub->allow_any_host)
				error_loc(p, DIAG_WARNING, sub->loc, "allow_any_host: any host may connect to %s", sub->nqn);
			else if (!sub->n_allowed_hosts)
				error_loc(p, DIAG_WARNING, sub->loc,
					  "no host may connect to %s: it has neither allowed_hosts nor allow_any_host: true", sub->nqn);
		}
	}
	/* nvmet keeps one host object per NQN: its keys cannot differ by subsystem. */
	for (size_t t = 0; t < p->inv->n_targets; t++) {
		struct inv_target *tg = &p->inv->targets[t];

		for (size_t s = 0; s < tg->n_subsystems; s++)
			for (size_t a = 0; a < tg->subsystems[s].n_allowed_hosts; a++) {
				const struct inv_allowed_host *x = &tg->subsystems[s].allowed_hosts[a];

				for (size_t s2 = 0; x->nqn && s2 <= s; s2++)
					for (size_t a2 = 0; a2 < tg->subsystems[s2].n_allowed_hosts && (s2 < s || a2 < a); a2++) {
						const struct inv_allowed_host *y = &tg->subsystems[s2].allowed_hosts[a2];

						if (!streq_ptr(x->nqn, y->nqn))
							continue;
						if (!streq_ptr(x->dhchap_key, y->dhchap_key) || !streq_ptr(x->dhchap_ctrl_key, y->dhchap_ctrl_key) ||
						    !streq_ptr(x->dhchap_hash, y->dhchap_hash) || !streq_ptr(x->dhchap_dhgroup, y->dhchap_dhgroup))
							error_loc(p, DIAG_ERROR, x->loc,
								  "host %s has other DH-HMAC-CHAP settings than at line %u; the target keeps one set per host",
								  x->nqn, y->loc.line);
					}
			}
	}
}

static void parse_defaults(struct parser *p, yaml_node_t *n)
{
	enum { D_TRANSPORT, D_TRSVCID, D_OPTIONS, _D_MAX = D_OPTIONS + _OPT_MAX };
	static const char *const keys[_D_MAX] = { "transport", "trsvcid", OPTION_KEYS };
	yaml_node_t *v[_D_MAX];
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

static void parse_root(struct parser *p, yaml_node_t *root)
{
	static const char *const keys[] = { "defaults", "hosts", "targets" };
	yaml_node_t *v[ARRAY_SIZE(keys)];

	if (!get_fields(p, root, "the inventory", keys, ARRAY_SIZE(keys), v))
		return;
	if (v[0])
		parse_defaults(p, v[0]);
	/* Targets first: connect entries of hosts name them. */
	if (v[2] && (p->inv->targets = list_alloc(p, v[2], "targets", "mappings (name, ports, subsystems, ...)",
						  sizeof(struct inv_target))))
		for_each_item(p, v[2], it) {
			struct inv_target *t = &p->inv->targets[p->inv->n_targets];
			const struct inv_target *first;

			parse_target(p, node(p, *it), t);
			if (t->name && (first = inventory_find_target(p->inv, t->name)))
				error_at(p, node(p, *it), "target %s is given twice (first at line %u)", t->name, first->loc.line);
			p->inv->n_targets++;
		}
	if (v[1] && (p->inv->hosts = list_alloc(p, v[1], "hosts", "mappings (name, hostnqn, connect, ...)",
						sizeof(struct inv_host))))
		for_each_item(p, v[1], it) {
			struct inv_host *h = &p->inv->hosts[p->inv->n_hosts];
			const struct inv_host *first;

			parse_host(p, node(p, *it), h);
			if (h->name && (first = inventory_find_host(p->inv, h->name)))
				error_at(p, node(p, *it), "host %s is given twice (first at line %u)", h->name, first->loc.line);
			p->inv->n_hosts++;
		}
	resolve_allowed_hosts(p);
	if (!v[1] && !v[2])
		error_at(p, root, "the inventory has neither hosts nor targets");
}

static int load(struct parser *p, yaml_parser_t *yp, struct inventory **ret)
{
	yaml_document_t extra;
	yaml_node_t *root;
	size_t errors_before = p->diags->n_errors;
	int r;

	if (!yaml_parser_load(yp, &p->doc)) {
		diags_add(p->diags, DIAG_ERROR, p->file, (unsigned)yp->problem_mark.line + 1,
			  (unsigned)yp->problem_mark.column + 1, "not valid YAML: %s%s%s", strempty(yp->problem),
			  yp->context ? " " : "", strempty(yp->context));
		return -EINVAL;
	}
	root = yaml_document_get_root_node(&p->doc);
	if (!root) {
		diags_add(p->diags, DIAG_ERROR, p->file, 0, 0, "the inventory is empty");
		yaml_document_delete(&p->doc);
		return -EINVAL;
	}
	if (yaml_parser_load(yp, &extra)) {
		yaml_node_t *x = yaml_document_get_root_node(&extra);

		if (x)
			diags_add(p->diags, DIAG_ERROR, p->file, (unsigned)x->start_mark.line + 1,
				  (unsigned)x->start_mark.column + 1, "the inventory is one YAML document; a second one starts here");
		yaml_document_delete(&extra);
	}

	p->arena = arena_new();
	p->inv = p->arena ? arena_alloc(p->arena, sizeof(*p->inv)) : NULL;
	if (!p->inv) {
		arena_free(p->arena);
		yaml_document_delete(&p->doc);
		return -ENOMEM;
	}
	p->inv->arena = p->arena;
	p->inv->path = arena_strdup(p->arena, p->file);
	p->inv->fabrics = inv_fabrics_default;
	p->inv->backoff = inv_backoff_default;
	p->inv->on_removed = ON_REMOVED_KEEP;
	p->default_transport = -1;
	parse_root(p, root);
	yaml_document_delete(&p->doc);

	r = p->oom || p->diags->oom ? -ENOMEM : p->diags->n_errors > errors_before ? -EINVAL : 0;
	if (r < 0) {
		arena_free(p->arena);
		return r;
	}
	*ret = p->inv;
	return 0;
}

int inventory_load_string(const char *name, const char *text, size_t len, struct diags *diags,
			  struct inventory **ret)
{
	struct parser p = { .file = name, .diags = diags };
	yaml_parser_t yp;
	int r;

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)text, len);
	r = load(&p, &yp, ret);
	yaml_parser_delete(&yp);
	return r;
}

int inventory_load(const char *path, struct diags *diags, struct inventory **ret)
{
	bool std_in = streq(path, "-");
	struct parser p = { .file = std_in ? "<stdin>" : path, .diags = diags };
	_cleanup_fclose_ FILE *f = std_in ? fdopen(dup(STDIN_FILENO), "r") : fopen(path, "re");
	yaml_parser_t yp;
	int r;

	if (!f) {
		r = -errno;
		diags_add(diags, DIAG_ERROR, path, 0, 0, "cannot read the inventory: %s", strerror(-r));
		return r;
	}
	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_file(&yp, f);
	r = load(&p, &yp, ret);
	yaml_parser_delete(&yp);
	return r;
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

static int check_key_file(const struct inventory *inv, const char *path, struct inv_loc loc, struct diags *diags)
{
	struct stat st;
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = -errno;

		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column, "key file %s: %s", path, strerror(-r));
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column, "key file %s is not a regular file", path);
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
