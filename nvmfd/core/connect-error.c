/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/connect-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

static const char *const class_table[_CONNECT_CLASS_MAX] = {
	[CONNECT_ALREADY] = "already-connected",
	[CONNECT_TRANSIENT] = "unreachable",
	[CONNECT_AUTH] = "authentication-failed",
	[CONNECT_DENIED] = "host-not-allowed",
	[CONNECT_INVALID] = "invalid-options",
	[CONNECT_NO_SUBSYS] = "not-exported",
	[CONNECT_HOST_CONFLICT] = "host-id-conflict",
};

const char *connect_class_to_string(enum connect_class c)
{
	return (unsigned)c < _CONNECT_CLASS_MAX ? class_table[c] : "unknown";
}

/* The largest errno the kernel returns (include/linux/err.h). */
#define MAX_ERRNO 4095

/* The kernel's words, most specific first (drivers/nvme/host/fabrics.c, auth.c, tcp.c, rdma.c). */
static const struct {
	const char *needle;
	enum connect_class cls;
	const char *reason;
} kernel_patterns[] = {
	/* "Connect for subsystem S is not allowed, hostnqn: H" (NVME_SC_CONNECT_INVALID_HOST) */
	{ "is not allowed", CONNECT_DENIED, "the target does not allow this host NQN" },
	{ "Invalid Data Parameter, hostnqn", CONNECT_DENIED, "the target does not allow this host NQN" },
	{ "Invalid Host NQN", CONNECT_DENIED, "the target does not allow this host NQN" },
	{ "authentication required", CONNECT_AUTH, "the target requires DH-HMAC-CHAP authentication" },
	{ "authentication failed", CONNECT_AUTH, "DH-HMAC-CHAP authentication failed" },
	{ "authentication setup failed", CONNECT_AUTH, "DH-HMAC-CHAP authentication failed" },
	{ "qid 0: error", CONNECT_AUTH, "DH-HMAC-CHAP authentication failed" },
	/* nvmet answers a subsystem it does not export on the port so (nvmet_alloc_ctrl) */
	{ "Invalid Data Parameter, subsysnqn", CONNECT_NO_SUBSYS, "the target does not export this subsystem on that port" },
	{ "Connect Invalid", CONNECT_INVALID, "the target refused the connect parameters" },
	{ "Connect incompatible format", CONNECT_INVALID, "the target refused the connect parameters" },
	/* "nvme_fabrics: found same hostnqn H but different hostid I" (nvmf_host_add) */
	{ "found same hostnqn", CONNECT_HOST_CONFLICT,
	  "the kernel holds controllers of this host NQN with another host ID (it takes one host ID per host NQN)" },
	{ "found same hostid", CONNECT_HOST_CONFLICT,
	  "the kernel holds controllers of this host ID with another host NQN (it takes one host NQN per host ID)" },
	{ "controller is busy or not available", CONNECT_TRANSIENT, "the target's controller is busy" },
	{ "rdma connection establishment failed", CONNECT_TRANSIENT, "RDMA connection establishment failed" },
	{ "Connect rejected", CONNECT_TRANSIENT, "the RDMA connect was rejected (nothing listens on that port?)" },
	{ "rdma_resolve_addr failed", CONNECT_TRANSIENT, "RDMA address resolution failed" },
	{ "rdma_resolve_route failed", CONNECT_TRANSIENT, "RDMA route resolution failed" },
	{ "address resolution failed", CONNECT_TRANSIENT, "RDMA address resolution failed" },
	{ "route resolution failed", CONNECT_TRANSIENT, "RDMA route resolution failed" },
	{ "failed to connect socket", CONNECT_TRANSIENT, "the TCP connection failed" },
};

/* The kernel line that matched, trimmed of its "nvme nvmeN: " prefix, when short. */
static void with_line(char *reason, size_t size, const char *what, const char *line, size_t len)
{
	const char *colon = memmem(line, len, ": ", 2);

	if (colon && (size_t)(colon - line) < 24) {
		len -= (size_t)(colon + 2 - line);
		line = colon + 2;
	}
	snprintf(reason, size, "%s (kernel: %.*s)", what, (int)(len > 160 ? 160 : len), line);
}

/*
 * A number as the kernel prints one (%d) at P, before END: a minus sign or
 * none, then at most ten digits, read in decimal, with nothing glued on. Not
 * strtol: it skips white space (a newline, into the next line), reads "0x"
 * and "0" as hex and octal, and saturates an overlong number at LONG_MIN.
 */
static bool number_at(const char *p, const char *end, long *ret)
{
	bool neg = p < end && *p == '-';
	const char *d = p + neg, *q = d;
	long v = 0;

	for (; q < end && *q >= '0' && *q <= '9'; q++) {
		if (q - d >= 10)
			return false;
		v = v * 10 + (*q - '0');
	}
	if (q == d || (q < end && ((*q >= '0' && *q <= '9') || (*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))))
		return false;
	*ret = neg ? -v : v;
	return true;
}

/* A Connect response status (NVMe over Fabrics 1.1, 3.3: 0x180 incompatible
 * format, 0x181 controller busy, 0x182 invalid parameters, 0x183 restart
 * discovery, 0x184 invalid host; 0x191 authentication required). */
static enum connect_class classify_status(long status, const char *line, size_t len, char *reason, size_t size)
{
	switch (status & 0x7ff) {
	case 0x184:
		with_line(reason, size, "the target does not allow this host NQN", line, len);
		return CONNECT_DENIED;
	case 0x191:
		with_line(reason, size, "the target requires DH-HMAC-CHAP authentication", line, len);
		return CONNECT_AUTH;
	case 0x180:
	case 0x182:
		with_line(reason, size, "the target refused the connect parameters", line, len);
		return CONNECT_INVALID;
	default:
		with_line(reason, size, "the target refused the connect", line, len);
		return CONNECT_TRANSIENT;
	}
}

/*
 * A number the kernel reports for a failed Connect: a negative errno, or a
 * positive NVMe status (16 bits). Anything else says nothing: -1.
 */
static int classify_ret(long ret, const char *line, size_t len, char *reason, size_t size)
{
	if (ret > 0)
		return ret <= 0xffff ? (int)classify_status(ret, line, len, reason, size) : -1;
	if (ret == 0 || ret < -MAX_ERRNO)
		return -1;
	switch ((int)-ret) {
	case ENOKEY:
	case EKEYREJECTED:
	case EKEYEXPIRED:
	case EKEYREVOKED:
	case EACCES:
		with_line(reason, size, "DH-HMAC-CHAP authentication failed", line, len);
		return CONNECT_AUTH;
	default:
		return -1;
	}
}

/* The numbers of a line: "failed to connect queue: 0 ret=N" (tcp.c, rdma.c),
 * "error wo/DNR bit: N" and "errno: N" (fabrics.c, nvmf_log_connect_error). */
static int classify_numbers(const char *line, size_t len, char *reason, size_t size)
{
	static const struct {
		const char *with, *before;
	} shapes[] = {
		{ "failed to connect queue", "ret=" },
		{ "Connect command failed", "wo/DNR bit: " },
		{ "Connect command failed", "errno: " },
	};
	const char *end = line + len;

	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		const char *n = memmem(line, len, shapes[i].before, strlen(shapes[i].before));
		long v;
		int cls;

		if (!n || !memmem(line, len, shapes[i].with, strlen(shapes[i].with)) ||
		    !number_at(n + strlen(shapes[i].before), end, &v))
			continue;
		cls = classify_ret(v, line, len, reason, size);
		if (cls >= 0)
			return cls;
	}
	return -1;
}

static int classify_line(const char *line, size_t len, char *reason, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(kernel_patterns); i++)
		if (memmem(line, len, kernel_patterns[i].needle, strlen(kernel_patterns[i].needle))) {
			with_line(reason, size, kernel_patterns[i].reason, line, len);
			return kernel_patterns[i].cls;
		}
	return classify_numbers(line, len, reason, size);
}

enum connect_class connect_classify(int err, const char *kernel_log, char *reason, size_t size)
{
	/* The kernel's words first: they are the most precise. */
	for (const char *line = kernel_log; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		int cls = classify_line(line, len, reason, size);

		if (cls >= 0)
			return (enum connect_class)cls;
		line = nl ? nl + 1 : NULL;
	}

	if (err >= 0 || err < -MAX_ERRNO)
		err = -EIO;
	switch (-err) {
	case EALREADY:
		snprintf(reason, size, "already connected");
		return CONNECT_ALREADY;
	case ENOKEY:
	case EKEYREJECTED:
	case EKEYEXPIRED:
	case EKEYREVOKED:
		snprintf(reason, size, "DH-HMAC-CHAP authentication failed: %s", strerror(-err));
		return CONNECT_AUTH;
	case EINVAL:
	case EOPNOTSUPP:
	case ENODEV:
		snprintf(reason, size, "the kernel refused the connect options: %s", strerror(-err));
		return CONNECT_INVALID;
	case EADDRINUSE:
		snprintf(reason, size, "the host NQN is in use with another host ID: %s", strerror(-err));
		return CONNECT_INVALID;
	default:
		snprintf(reason, size, "%s", strerror(-err));
		return CONNECT_TRANSIENT;
	}
}

/* ---------------------------------------------------------------------- */
/* whose lines */

enum verdict {
	NAMES_NOTHING,
	NAMES_US,      /* names the path, and nothing else */
	NAMES_ANOTHER, /* names a subsystem, host, address or host side that is not the path's */
};

struct kline {
	const char *text; /* the whole line */
	size_t len;
	long ctrl;        /* N of "nvme nvmeN: ", or -1 */
	enum verdict v;
};

/* What a controller's lines in the window say of it. */
struct claim {
	long ctrl;
	bool us, other;
};

enum field {
	F_SUBSYS,
	F_HOST,
	F_ADDR,        /* "A:P" or "[A]:P", as %pISp prints it */
	F_ADDR_TEXT,   /* "traddr:trsvcid" as given, which the kernel could not parse */
	F_HOST_TRADDR,
	F_HOST_IFACE,
};

/* Where the kernel names a path (host: fabrics.c, tcp.c, rdma.c, core.c; target: nvmet's core.c). */
static const struct {
	const char *key; /* ending in '"': the value is quoted */
	enum field f;
} shapes[] = {
	{ "for subsystem ", F_SUBSYS },        /* "Connect for subsystem S is not allowed, hostnqn: H" */
	{ "subsysnqn \"", F_SUBSYS },          /* "Connect Invalid Data Parameter, subsysnqn \"S\"" */
	{ "NQN \"", F_SUBSYS },                /* "new ctrl: NQN \"S\", addr A:P", "Removing ctrl: NQN \"S\"" */
	{ "hostnqn: ", F_HOST },
	{ "hostnqn \"", F_HOST },
	{ "different hostnqn ", F_HOST },
	{ "user-assigned: ", F_HOST },         /* "hostnqn already user-assigned: H" */
	{ "by host ", F_HOST },                /* nvmet: "connect by host H for subsystem S not allowed" */
	{ ", addr ", F_ADDR },                 /* not "rdma_resolve_addr failed" */
	{ "malformed address passed: ", F_ADDR_TEXT },
	{ "src address passed: ", F_HOST_TRADDR },
	{ "interface passed: ", F_HOST_IFACE },
};

static bool text_is(const char *v, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(v, s, n) == 0;
}

static bool addr_is(const char *v, size_t n, const char *s)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];
	char a[INET6_ADDRSTRLEN + 1];

	if (!*s || n >= sizeof(a))
		return false;
	memcpy(a, v, n);
	a[n] = '\0';
	if (streq(a, s))
		return true;
	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, s, y) == 1)
		return memcmp(x, y, sizeof(struct in_addr)) == 0;
	return inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, s, y) == 1 && memcmp(x, y, sizeof(x)) == 0;
}

static bool port_is(const char *v, size_t n, const char *s)
{
	long a, b;

	return number_at(v, v + n, &a) && number_at(s, s + strlen(s), &b) && a == b && a >= 0;
}

/* "192.0.2.1:4420" or "[2001:db8::1]:4420" is ID's address and port. */
static bool sockaddr_is(const char *v, size_t n, const struct ident *id)
{
	const char *end = v + n, *colon;

	if (n > 0 && v[0] == '[') {
		const char *close = memchr(v, ']', n);

		return close && close + 1 < end && close[1] == ':' && addr_is(v + 1, (size_t)(close - v - 1), id->traddr) &&
		       port_is(close + 2, (size_t)(end - close - 2), id->trsvcid);
	}
	colon = memrchr(v, ':', n);
	return colon && addr_is(v, (size_t)(colon - v), id->traddr) && port_is(colon + 1, (size_t)(end - colon - 1), id->trsvcid);
}

static bool field_is(enum field f, const char *v, size_t n, const struct ident *id)
{
	char text[sizeof(id->traddr) + sizeof(id->trsvcid) + 1];

	switch (f) {
	case F_SUBSYS:
		return text_is(v, n, id->subsysnqn);
	case F_HOST:
		return text_is(v, n, id->hostnqn);
	case F_ADDR:
		return sockaddr_is(v, n, id);
	case F_ADDR_TEXT:
		snprintf(text, sizeof(text), "%s:%s", id->traddr, id->trsvcid);
		return text_is(v, n, text);
	case F_HOST_TRADDR:
		return addr_is(v, n, id->host_traddr);
	case F_HOST_IFACE:
		return text_is(v, n, id->host_iface);
	}
	return false;
}

/* The value after KEY in the line: quoted, or up to a space or a comma. */
static bool value_of(const char *line, size_t len, const char *key, const char **ret, size_t *ret_len)
{
	size_t k = strlen(key);
	const char *p = memmem(line, len, key, k), *end = line + len, *e;

	if (!p)
		return false;
	p += k;
	if (key[k - 1] == '"')
		e = memchr(p, '"', (size_t)(end - p));
	else
		for (e = p; e < end && *e != ' ' && *e != ','; e++)
			;
	if (!e)
		e = end;
	*ret = p;
	*ret_len = (size_t)(e - p);
	return e > p;
}

/* WORD in the line, standing alone (an NQN that only begins like it is another). */
static bool has_word(const char *line, size_t len, const char *word)
{
	static const char delims[] = " \"',";
	size_t n = strlen(word);

	if (n == 0)
		return false;
	for (const char *p = line, *end = line + len; (p = memmem(p, (size_t)(end - p), word, n)); p++)
		if ((p == line || strchr(delims, p[-1])) && (p + n == end || strchr(delims, p[n])))
			return true;
	return false;
}

static enum verdict line_verdict(const char *line, size_t len, const struct ident *id)
{
	bool us = false, other = false;

	if (!id)
		return NAMES_NOTHING;
	for (size_t i = 0; i < ARRAY_SIZE(shapes); i++) {
		const char *v;
		size_t n;

		if (value_of(line, len, shapes[i].key, &v, &n)) {
			if (field_is(shapes[i].f, v, n, id))
				us = true;
			else
				other = true;
		}
	}
	if (other)
		return NAMES_ANOTHER;
	if (us || has_word(line, len, id->subsysnqn) || has_word(line, len, id->hostnqn))
		return NAMES_US;
	return NAMES_NOTHING;
}

/* N of "nvmeN" at P (up to END), or -1. */
static long ctrl_number(const char *p, const char *end)
{
	long n = 0;
	const char *d;

	if (end - p < 5 || memcmp(p, "nvme", 4) != 0)
		return -1;
	for (d = p + 4; d < end && *d >= '0' && *d <= '9'; d++) {
		if (d - p >= 4 + 9)
			return -1;
		n = n * 10 + (*d - '0');
	}
	return d == p + 4 || d != end ? -1 : n;
}

/* dev_printk of a controller's device: "nvme nvmeN: ..." (its class, its name). */
static long line_ctrl(const char *line, size_t len)
{
	const char *colon;

	if (len < 5 || memcmp(line, "nvme ", 5) != 0)
		return -1;
	colon = memmem(line, len, ": ", 2);
	return colon ? ctrl_number(line + 5, colon) : -1;
}

static int long_cmp(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* The lines of LOG, each with its controller and what it names. */
static int lines_split(const char *log, const struct ident *id, struct kline **ret, size_t *ret_n)
{
	size_t n = 1, i = 0;
	struct kline *v;

	for (const char *p = log; (p = strchr(p, '\n')); p++)
		n++;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (const char *p = log; p && *p; i++) {
		const char *nl = strchr(p, '\n');

		v[i].text = p;
		v[i].len = nl ? (size_t)(nl - p) : strlen(p);
		v[i].ctrl = line_ctrl(p, v[i].len);
		v[i].v = line_verdict(p, v[i].len, id);
		p = nl ? nl + 1 : NULL;
	}
	*ret = v;
	*ret_n = i;
	return 0;
}

/* Per controller named in LINES, what its lines say of it; sorted by controller. */
static int claims_of(const struct kline *lines, size_t n, struct claim **ret, size_t *ret_n)
{
	struct claim *c = calloc(n ? n : 1, sizeof(*c));
	size_t k = 0, m = 0;

	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (lines[i].ctrl >= 0)
			c[k++] = (struct claim){ .ctrl = lines[i].ctrl, .us = lines[i].v == NAMES_US,
						 .other = lines[i].v == NAMES_ANOTHER };
	/* ctrl is the first member: sorted as longs */
	qsort(c, k, sizeof(*c), long_cmp);
	for (size_t i = 0; i < k; i++) {
		if (m > 0 && c[m - 1].ctrl == c[i].ctrl) {
			c[m - 1].us |= c[i].us;
			c[m - 1].other |= c[i].other;
		} else {
			c[m++] = c[i];
		}
	}
	*ret = c;
	*ret_n = m;
	return 0;
}

/* The controllers of S->before, as sorted numbers. */
static int before_of(const struct connect_scope *s, long **ret, size_t *ret_n)
{
	size_t n = 0, k = 0;
	long *v;

	for (const char *const *b = s->before; b && *b; b++)
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		long c = ctrl_number(s->before[i], s->before[i] + strlen(s->before[i]));

		if (c >= 0)
			v[k++] = c;
	}
	qsort(v, k, sizeof(*v), long_cmp);
	*ret = v;
	*ret_n = k;
	return 0;
}

struct selection {
	const struct connect_scope *s;
	long known;           /* S's controller, -1: not known, -2: known but no controller's name */
	const long *before;
	size_t n_before;
	const struct claim *claims;
	size_t n_claims;
};

static bool taken(const struct selection *sel, const struct kline *l)
{
	const struct claim *c;

	if (l->ctrl < 0)
		return l->v == NAMES_US;
	if (sel->known != -1)
		return l->ctrl == sel->known;
	if (bsearch(&l->ctrl, sel->before, sel->n_before, sizeof(*sel->before), long_cmp))
		return false;
	c = bsearch(&l->ctrl, sel->claims, sel->n_claims, sizeof(*sel->claims), long_cmp);
	if (c && c->us && c->other)
		return l->v == NAMES_US; /* its number was another connect's too: only our own words */
	return !c || !c->other;
}

int connect_log_select(const char *kernel_log, const struct connect_scope *s, char *ret, size_t size)
{
	_cleanup_free_ struct kline *lines = NULL;
	_cleanup_free_ struct claim *claims = NULL;
	_cleanup_free_ long *before = NULL;
	struct selection sel = { .s = s, .known = -1 };
	size_t n = 0, off = 0;
	int taken_n = 0;

	if (size > 0)
		ret[0] = '\0';
	if (!kernel_log || !*kernel_log)
		return 0;
	if (lines_split(kernel_log, s->id, &lines, &n) < 0 || claims_of(lines, n, &claims, &sel.n_claims) < 0 ||
	    before_of(s, &before, &sel.n_before) < 0)
		return -ENOMEM;
	sel.claims = claims;
	sel.before = before;
	if (s->ctrl) {
		sel.known = ctrl_number(s->ctrl, s->ctrl + strlen(s->ctrl));
		if (sel.known < 0)
			sel.known = -2;
	}
	for (size_t i = 0; i < n; i++) {
		if (lines[i].len == 0 || !taken(&sel, &lines[i]) || off + lines[i].len + 1 >= size)
			continue;
		memcpy(ret + off, lines[i].text, lines[i].len);
		off += lines[i].len;
		ret[off++] = '\n';
		ret[off] = '\0';
		taken_n++;
	}
	return taken_n;
}
