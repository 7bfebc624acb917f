/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/nqn.h"

/* Field offsets within an entry (NVMe over Fabrics 1.1, Figure 38). */
#define E_TRTYPE 0
#define E_ADRFAM 1
#define E_SUBTYPE 2
#define E_TREQ 3
#define E_PORTID 4
#define E_CNTLID 6
#define E_EFLAGS 10
#define E_TRSVCID 32
#define E_TRSVCID_LEN 32
#define E_SUBNQN 256
#define E_SUBNQN_LEN 256
#define E_TRADDR 512
#define E_TRADDR_LEN 256

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* nvmf_parse_options refuses an NQN of NVMF_NQN_SIZE bytes or more
 * (drivers/nvme/host/fabrics.c): an entry with a longer one cannot connect. */
#define KERNEL_NQN_SIZE 223

#define BAD_FIELD "an empty, unterminated or unprintable trsvcid, traddr or subnqn"

/*
 * A fixed-size string field: up to its NUL, trailing spaces removed (the
 * specification pads with spaces). False when it is unterminated and full,
 * empty, holds anything unprintable, or is longer than OUT (*RET_LONG set).
 */
static bool field(const uint8_t *p, size_t len, char *out, size_t size, bool *ret_long)
{
	size_t n = 0;

	*ret_long = false;
	while (n < len && p[n])
		n++;
	if (n == len && p[len - 1] != ' ')
		return false; /* full and unterminated */
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	if (n >= size) {
		*ret_long = true;
		return false;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

/*
 * A port number, 0-65535, in decimal. Leading zeros are the target's
 * padding, not digits of the port: "0000000000000004420" is 4420, and goes
 * to the kernel and into the path's identity as "4420".
 */
static bool port_parse(const char *s, uint16_t *ret)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return false;
	}
	*ret = (uint16_t)v;
	return true;
}

/*
 * What dedupe sorts by: fixed-size, so that sorting compares no strings;
 * the subnqn by its hash, confirmed afterwards. Addresses as addresses.
 */
struct entry_key {
	const struct disc_entry *e;
	size_t index; /* in the log, for "an earlier entry" */
	uint64_t addr[2];
	uint64_t nqn_hash;
	uint16_t port;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h;
}

static const char *parse_types(const uint8_t *p, struct disc_entry *e)
{
	switch (p[E_TRTYPE]) {
	case 1: e->transport = TRANSPORT_RDMA; break;
	case 3: e->transport = TRANSPORT_TCP; break;
	default: return "a transport other than rdma and tcp";
	}
	switch (p[E_ADRFAM]) {
	case 1: e->adrfam = ADRFAM_IPV4; break;
	case 2: e->adrfam = ADRFAM_IPV6; break;
	default: return "an address family other than ipv4 and ipv6";
	}
	if (p[E_SUBTYPE] < DISC_SUBTYPE_REFERRAL || p[E_SUBTYPE] > DISC_SUBTYPE_CURRENT)
		return "an unknown subtype";
	e->subtype = (enum disc_subtype)p[E_SUBTYPE];
	return NULL;
}

/*
 * The address and port, whole: an entry goes into a path's identity as it
 * is, so what does not fit is left out, never cut (a trsvcid cut to 15
 * characters was once port 0).
 */
static const char *parse_address(const uint8_t *p, struct disc_entry *e, struct entry_key *k)
{
	char svc[E_TRSVCID_LEN + 1];
	unsigned char addr[sizeof(struct in6_addr)] = { 0 };
	bool too_long;

	if (!field(p + E_TRSVCID, E_TRSVCID_LEN, svc, sizeof(svc), &too_long) ||
	    !field(p + E_TRADDR, E_TRADDR_LEN, e->traddr, sizeof(e->traddr), &too_long))
		return BAD_FIELD;
	if (!port_parse(svc, &k->port))
		return "a trsvcid that is no port number (0-65535)";
	snprintf(e->trsvcid, sizeof(e->trsvcid), "%u", (unsigned)k->port);
	if (strlen(e->traddr) >= sizeof(((struct ident *)NULL)->traddr))
		return "a traddr longer than a path's identity holds (63 characters)";
	if (inet_pton(e->adrfam == ADRFAM_IPV6 ? AF_INET6 : AF_INET, e->traddr, addr) != 1)
		return e->adrfam == ADRFAM_IPV6 ? "a traddr that is no ipv6 address" : "a traddr that is no ipv4 address";
	memcpy(k->addr, addr, sizeof(k->addr));
	return NULL;
}

/* Entry P into E and K, or the reason it is left out. */
static const char *parse_entry(const uint8_t *p, struct disc_entry *e, struct entry_key *k)
{
	const char *why = parse_types(p, e);
	bool too_long;

	if (why)
		return why;
	e->treq = p[E_TREQ];
	e->portid = le16(p + E_PORTID);
	e->cntlid = le16(p + E_CNTLID);
	e->eflags = le16(p + E_EFLAGS);
	why = parse_address(p, e, k);
	if (why)
		return why;
	if (!field(p + E_SUBNQN, E_SUBNQN_LEN, e->subnqn, sizeof(e->subnqn), &too_long) && !too_long)
		return BAD_FIELD;
	if (too_long || strlen(e->subnqn) >= KERNEL_NQN_SIZE)
		return "a subnqn of 223 bytes or more, which the kernel refuses (NVMF_NQN_SIZE)";
	k->nqn_hash = fnv1a(e->subnqn);
	return NULL;
}

/* FIRST: the index of the entry first_problem names (SIZE_MAX: none yet). */
static void drop(struct disc_log *log, size_t *first, size_t i, const char *why)
{
	if (log->n_dropped++ == 0) {
		snprintf(log->first_problem, sizeof(log->first_problem), "entry %zu: %s", i, why);
		*first = i;
	}
}

#define CMP(a, b)                             \
	do {                                  \
		if ((a) != (b))               \
			return (a) < (b) ? -1 : 1; \
	} while (0)

/* The same path, by everything but the subnqn's text; then by index. */
static int key_cmp(const void *a, const void *b)
{
	const struct entry_key *x = a, *y = b;

	CMP(x->e->subtype, y->e->subtype);
	CMP(x->e->transport, y->e->transport);
	CMP(x->e->adrfam, y->e->adrfam);
	CMP(x->port, y->port);
	CMP(x->addr[0], y->addr[0]);
	CMP(x->addr[1], y->addr[1]);
	CMP(x->nqn_hash, y->nqn_hash);
	CMP(x->index, y->index);
	return 0;
}

/* Within a run of one hash, for when NQNs collide in it: the text, then the index. */
static int nqn_index_cmp(const void *a, const void *b)
{
	const struct entry_key *x = a, *y = b;
	int r = strcmp(x->e->subnqn, y->e->subnqn);

	if (r)
		return r;
	CMP(x->index, y->index);
	return 0;
}

static bool same_but_nqn(const struct entry_key *x, const struct entry_key *y)
{
	return x->e->subtype == y->e->subtype && x->e->transport == y->e->transport && x->e->adrfam == y->e->adrfam &&
	       x->port == y->port && x->addr[0] == y->addr[0] && x->addr[1] == y->addr[1] && x->nqn_hash == y->nqn_hash;
}

/*
 * Mark the entries of run K[0..N) (one key but for the subnqn's text, sorted
 * by index) that repeat an earlier one. Returns how many, the earliest in
 * *FIRST. A run is all one subnqn but where hashes collide: then it is
 * sorted by the text.
 */
static size_t mark_run(struct entry_key *k, size_t n, const struct disc_entry *base, bool *dup, size_t *first)
{
	size_t n_dup = 0;
	bool one = true;

	for (size_t i = 1; i < n && one; i++)
		one = streq(k[i].e->subnqn, k[0].e->subnqn);
	if (!one)
		qsort(k, n, sizeof(*k), nqn_index_cmp);
	for (size_t i = 1; i < n; i++) {
		if (!one && !streq(k[i].e->subnqn, k[i - 1].e->subnqn))
			continue;
		/* sorted by index within one subnqn: the first of it is the earliest */
		dup[k[i].e - base] = true;
		n_dup++;
		if (k[i].index < *first)
			*first = k[i].index;
	}
	return n_dup;
}

/*
 * Leave out every entry that repeats an earlier one, keeping the order of
 * the rest. Sorted, not compared pairwise: a log holds up to 65,536 entries,
 * and a target chooses what they are. KEYS[i] belongs to LOG's entry i.
 */
static int dedupe(struct disc_log *log, struct entry_key *keys, size_t *first)
{
	_cleanup_free_ bool *dup = calloc(log->n ? log->n : 1, sizeof(*dup));
	size_t n_dup = 0, first_dup = SIZE_MAX, n = 0;

	if (!dup)
		return -ENOMEM;
	qsort(keys, log->n, sizeof(*keys), key_cmp);
	for (size_t i = 0, j; i < log->n; i = j) {
		for (j = i + 1; j < log->n && same_but_nqn(&keys[i], &keys[j]); j++)
			;
		if (j - i > 1)
			n_dup += mark_run(keys + i, j - i, log->entries, dup, &first_dup);
	}
	if (n_dup == 0)
		return 0;
	for (size_t i = 0; i < log->n; i++)
		if (!dup[i])
			log->entries[n++] = log->entries[i];
	log->n = n;
	if (log->n_dropped == 0 || first_dup < *first)
		snprintf(log->first_problem, sizeof(log->first_problem), "entry %zu: a duplicate of an earlier entry", first_dup);
	log->n_dropped += n_dup;
	return 0;
}

int disc_log_parse(const void *buf, size_t len, struct disc_log *ret)
{
	const uint8_t *b = buf;
	struct disc_log log = { 0 };
	_cleanup_free_ struct entry_key *keys = NULL;
	uint64_t present;
	size_t first = SIZE_MAX;
	int r;

	if (len < DISC_HEADER_SIZE)
		return -EINVAL;
	log.genctr = le64(b);
	log.numrec = le64(b + 8);
	present = (len - DISC_HEADER_SIZE) / DISC_ENTRY_SIZE;
	if (log.numrec > present || log.numrec > DISC_MAX_RECORDS) {
		snprintf(log.first_problem, sizeof(log.first_problem), "the header counts %llu records; %llu are there",
			 (unsigned long long)log.numrec, (unsigned long long)(present < DISC_MAX_RECORDS ? present : DISC_MAX_RECORDS));
		log.n_dropped = 1;
		first = 0;
	}
	if (present > log.numrec)
		present = log.numrec;
	if (present > DISC_MAX_RECORDS)
		present = DISC_MAX_RECORDS;
	log.entries = calloc(present ? present : 1, sizeof(*log.entries));
	keys = calloc(present ? present : 1, sizeof(*keys));
	if (!log.entries || !keys) {
		free(log.entries);
		return -ENOMEM;
	}

	for (size_t i = 0; i < present; i++) {
		struct disc_entry *e = &log.entries[log.n];
		const char *why = parse_entry(b + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE, e, &keys[log.n]);

		if (why) {
			*e = (struct disc_entry){ 0 };
			drop(&log, &first, i, why);
			continue;
		}
		keys[log.n].e = e;
		keys[log.n].index = i;
		log.n++;
	}
	r = dedupe(&log, keys, &first);
	if (r < 0) {
		disc_log_free(&log);
		return r;
	}
	*ret = log;
	return 0;
}

void disc_log_free(struct disc_log *log)
{
	free(log->entries);
	*log = (struct disc_log){ 0 };
}

static bool addr_same(const char *a, const char *b)
{
	struct ident x = { 0 }, y = { 0 };

	/* ident_equal compares addresses as addresses; use it on address-only identities. */
	snprintf(x.traddr, sizeof(x.traddr), "%s", a);
	snprintf(y.traddr, sizeof(y.traddr), "%s", b);
	return ident_equal(&x, &y);
}

static int nqn_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* E's subsystem filter, sorted for lookups in log time (it may list thousands). */
static int filter_sorted(const struct inv_endpoint *e, const char ***ret)
{
	const char **v = calloc(e->n_subsystems ? e->n_subsystems : 1, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (e->n_subsystems > 0) {
		memcpy(v, e->subsystems, e->n_subsystems * sizeof(*v));
		qsort(v, e->n_subsystems, sizeof(*v), nqn_cmp);
	}
	*ret = v;
	return 0;
}

/* The discovery controller E reads the log from, listing itself. */
static bool is_self(const struct disc_entry *x, const struct inv_endpoint *e)
{
	uint16_t a, b;

	switch (x->subtype) {
	case DISC_SUBTYPE_CURRENT:
		return true;
	case DISC_SUBTYPE_REFERRAL:
		/* Older targets list themselves as a referral to the discovery NQN. */
		return streq(x->subnqn, NQN_DISCOVERY) && x->transport == e->transport &&
		       addr_same(x->traddr, strempty(e->traddr)) && port_parse(x->trsvcid, &a) &&
		       port_parse(strempty(e->trsvcid), &b) && a == b;
	case DISC_SUBTYPE_NVME:
		return false;
	}
	return false;
}

int disc_plan_make(const struct disc_log *log, const struct inv_endpoint *e, struct disc_plan *ret)
{
	struct disc_plan p = { 0 };
	_cleanup_free_ const char **filter = NULL;

	p.connect = calloc(log->n + 1, sizeof(*p.connect));
	p.referrals = calloc(log->n + 1, sizeof(*p.referrals));
	if (!p.connect || !p.referrals || filter_sorted(e, &filter) < 0) {
		disc_plan_free(&p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < log->n; i++) {
		struct disc_entry *x = &log->entries[i];
		const char *nqn = x->subnqn;

		if (is_self(x, e))
			continue;
		if (x->subtype == DISC_SUBTYPE_REFERRAL) {
			p.referrals[p.n_referrals++] = x;
			continue;
		}
		/* A path over another transport needs its own endpoint in the inventory. */
		if (x->transport != e->transport ||
		    (e->n_subsystems > 0 && !bsearch(&nqn, filter, e->n_subsystems, sizeof(*filter), nqn_cmp))) {
			p.n_filtered++;
			continue;
		}
		p.connect[p.n_connect++] = x;
	}
	*ret = p;
	return 0;
}

/* SRC into DST whole, or false. */
static bool copy(char *dst, size_t size, const char *src)
{
	size_t n = strlen(strempty(src));

	if (n >= size)
		return false;
	memcpy(dst, strempty(src), n + 1);
	return true;
}

int disc_entry_ident(const struct disc_entry *x, const struct inv_endpoint *e, const char *hostnqn, struct ident *ret)
{
	/* A referral, or the discovery controller itself, is connected as a discovery controller. */
	const char *nqn = x->subtype == DISC_SUBTYPE_NVME ? x->subnqn : NQN_DISCOVERY;
	struct ident id = { 0 };

	*ret = (struct ident){ 0 };
	if (!copy(id.transport, sizeof(id.transport), transport_to_string(x->transport)) ||
	    !copy(id.traddr, sizeof(id.traddr), x->traddr) || !copy(id.trsvcid, sizeof(id.trsvcid), x->trsvcid) ||
	    !copy(id.host_traddr, sizeof(id.host_traddr), e->host_traddr) ||
	    !copy(id.host_iface, sizeof(id.host_iface), e->host_iface) ||
	    !copy(id.subsysnqn, sizeof(id.subsysnqn), nqn) || !copy(id.hostnqn, sizeof(id.hostnqn), hostnqn))
		return -EINVAL;
	*ret = id;
	return 0;
}

void disc_plan_free(struct disc_plan *p)
{
	free(p->connect);
	free(p->referrals);
	*p = (struct disc_plan){ 0 };
}
