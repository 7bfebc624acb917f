/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The discovery log parser and the plan, on bytes as they come off the
 * wire. The first byte picks the endpoint the log is read from (transport,
 * address, service id, subsystem filter), some of it taken from the log
 * itself so that self-referrals and filter matches happen; the rest is the
 * log page. Oracles: what the parser keeps is well formed and free of
 * duplicates, written back as a page it parses to the same entries, has its
 * path's identity whole, and the plan accounts for every entry once, each
 * in the right list.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "core/discovery.h"
#include "core/reconcile.h"
#include "disclog.h"
#include "fuzz.h"

#define SEL_TCP 0x01
#define SEL_TRADDR_FROM_LOG 0x02
#define SEL_FILTER_FIXED 0x04
#define SEL_FILTER_FROM_LOG 0x08
#define SEL_TRSVCID_FROM_LOG 0x10
#define SEL_HOST_SIDE 0x20

#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:6f1c2a5e-0b7d-4f7e-9c1a-2d3e4f5a6b7c"

struct endpoint_buf {
	struct inv_endpoint e;
	const char *filter[3];
	char traddr[257], trsvcid[33], subnqn[224];
};

static void pick_endpoint(uint8_t sel, const struct disc_log *log, struct endpoint_buf *b)
{
	const struct disc_entry *first = log->n ? &log->entries[0] : NULL;
	const struct disc_entry *last = log->n ? &log->entries[log->n - 1] : NULL;

	*b = (struct endpoint_buf){ 0 };
	b->e.transport = sel & SEL_TCP ? TRANSPORT_TCP : TRANSPORT_RDMA;
	snprintf(b->traddr, sizeof(b->traddr), "%s", sel & SEL_TRADDR_FROM_LOG && first ? first->traddr : "192.0.2.1");
	snprintf(b->trsvcid, sizeof(b->trsvcid), "%s", sel & SEL_TRSVCID_FROM_LOG && first ? first->trsvcid : "4420");
	b->e.adrfam = strchr(b->traddr, ':') ? ADRFAM_IPV6 : ADRFAM_IPV4;
	b->e.traddr = b->traddr;
	b->e.trsvcid = b->trsvcid;
	b->e.subsystems = b->filter;
	if (sel & SEL_HOST_SIDE) {
		b->e.host_traddr = b->e.adrfam == ADRFAM_IPV6 ? "2001:db8::2" : "192.0.2.2";
		b->e.host_iface = "nvmft0";
	}
	if (sel & SEL_FILTER_FIXED)
		b->filter[b->e.n_subsystems++] = "nqn.2020-09.com.example:nvme-test-1";
	if (sel & SEL_FILTER_FROM_LOG && last) {
		snprintf(b->subnqn, sizeof(b->subnqn), "%s", last->subnqn);
		b->filter[b->e.n_subsystems++] = b->subnqn;
	}
}

static bool printable(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	if (n == 0 || n == size || s[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool addr_equal(enum adrfam fam, const char *a, const char *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];
	int af = fam == ADRFAM_IPV6 ? AF_INET6 : AF_INET;

	if (inet_pton(af, a, x) != 1 || inet_pton(af, b, y) != 1)
		return streq(a, b);
	return memcmp(x, y, af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr)) == 0;
}

/* The same path: what dedupe compares, addresses as addresses. */
static bool same_path(const struct disc_entry *a, const struct disc_entry *b)
{
	return a->subtype == b->subtype && a->transport == b->transport && a->adrfam == b->adrfam &&
	       streq(a->trsvcid, b->trsvcid) && addr_equal(a->adrfam, a->traddr, b->traddr) && streq(a->subnqn, b->subnqn);
}

static bool entry_equal(const struct disc_entry *a, const struct disc_entry *b)
{
	return same_path(a, b) && streq(a->traddr, b->traddr) && a->treq == b->treq && a->portid == b->portid &&
	       a->cntlid == b->cntlid && a->eflags == b->eflags;
}

/* A port in decimal without leading zeros, as the kernel and identities take it. */
static bool port_text(const char *s)
{
	char buf[8];
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	snprintf(buf, sizeof(buf), "%lu", v);
	return s[0] >= '0' && s[0] <= '9' && !*end && v <= 65535 && streq(buf, s);
}

static void check_entry(const struct disc_entry *x)
{
	unsigned char a[sizeof(struct in6_addr)];

	if ((unsigned)x->transport >= _TRANSPORT_MAX || (unsigned)x->adrfam >= _ADRFAM_MAX)
		fuzz_fail("an entry kept with transport %d, adrfam %d", x->transport, x->adrfam);
	if (x->subtype < DISC_SUBTYPE_REFERRAL || x->subtype > DISC_SUBTYPE_CURRENT)
		fuzz_fail("an entry kept with subtype %d", x->subtype);
	if (!printable(x->trsvcid, sizeof(x->trsvcid)) || !printable(x->traddr, sizeof(x->traddr)) ||
	    !printable(x->subnqn, sizeof(x->subnqn)))
		fuzz_fail("an entry kept with an empty, unterminated or unprintable string");
	if (!port_text(x->trsvcid))
		fuzz_fail("an entry kept with trsvcid '%s'", x->trsvcid);
	if (strlen(x->traddr) >= sizeof(((struct ident *)NULL)->traddr) ||
	    inet_pton(x->adrfam == ADRFAM_IPV6 ? AF_INET6 : AF_INET, x->traddr, a) != 1)
		fuzz_fail("an entry kept with traddr '%s', no address of its family or too long", x->traddr);
	if (strlen(x->subnqn) >= NQN_MAX_LEN)
		fuzz_fail("an entry kept with a subnqn of %zu bytes", strlen(x->subnqn));
}

static void check_log(const struct disc_log *log, size_t present)
{
	if (log->n > present || log->n > log->numrec || log->n > DISC_MAX_RECORDS)
		fuzz_fail("%zu entries kept of %zu present, numrec %llu", log->n, present,
			  (unsigned long long)log->numrec);
	if (log->n_dropped && !log->first_problem[0])
		fuzz_fail("%zu entries dropped without a reason", log->n_dropped);
	if (strnlen(log->first_problem, sizeof(log->first_problem)) == sizeof(log->first_problem))
		fuzz_fail("first_problem is unterminated");
	for (size_t i = 0; i < log->n; i++) {
		check_entry(&log->entries[i]);
		for (size_t j = 0; j < i; j++)
			if (same_path(&log->entries[i], &log->entries[j]))
				fuzz_fail("entries %zu and %zu are duplicates", j, i);
	}
}

static uint8_t trtype_of(enum transport t)
{
	return t == TRANSPORT_TCP ? 3 : 1;
}

static void write_back(const struct disc_log *log, uint8_t *page)
{
	disclog_header(page, log->genctr, log->n);
	for (size_t i = 0; i < log->n; i++) {
		const struct disc_entry *x = &log->entries[i];
		struct disclog_rec r = {
			.trtype = trtype_of(x->transport), .adrfam = x->adrfam == ADRFAM_IPV6 ? 2 : 1,
			.subtype = (uint8_t)x->subtype, .treq = x->treq, .portid = x->portid, .cntlid = x->cntlid,
			.eflags = x->eflags, .trsvcid = x->trsvcid, .subnqn = x->subnqn, .traddr = x->traddr,
		};

		disclog_entry(page + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE, &r);
	}
}

/* The kept entries, written as a page, parse to themselves with nothing dropped. */
static void check_round_trip(const struct disc_log *log)
{
	size_t len = DISC_HEADER_SIZE + log->n * DISC_ENTRY_SIZE;
	uint8_t *page = malloc(len);
	struct disc_log again;

	if (!page)
		abort();
	write_back(log, page);
	if (disc_log_parse(page, len, &again) < 0)
		fuzz_fail("the written-back log does not parse");
	if (again.n != log->n || again.n_dropped || again.genctr != log->genctr)
		fuzz_fail("written back: %zu entries (%zu dropped: %s), want %zu", again.n, again.n_dropped,
			  again.first_problem, log->n);
	for (size_t i = 0; i < log->n; i++)
		if (!entry_equal(&again.entries[i], &log->entries[i]))
			fuzz_fail("entry %zu reads back differently", i);
	disc_log_free(&again);
	free(page);
}

static bool skipped(const struct disc_entry *x, const struct inv_endpoint *e)
{
	if (x->subtype == DISC_SUBTYPE_CURRENT)
		return true;
	return x->subtype == DISC_SUBTYPE_REFERRAL && streq(x->subnqn, NQN_DISCOVERY) && x->transport == e->transport &&
	       streq(x->trsvcid, e->trsvcid) && addr_equal(x->adrfam, x->traddr, e->traddr);
}

static bool passes_filter(const struct disc_entry *x, const struct inv_endpoint *e)
{
	for (size_t k = 0; k < e->n_subsystems; k++)
		if (streq(e->subsystems[k], x->subnqn))
			return true;
	return e->n_subsystems == 0;
}

static bool in_log(const struct disc_log *log, const struct disc_entry *x)
{
	return x >= log->entries && x < log->entries + log->n;
}

/* Every kept entry has its path's identity, whole. */
static void check_idents(const struct disc_log *log, const struct inv_endpoint *e)
{
	for (size_t i = 0; i < log->n; i++) {
		const struct disc_entry *x = &log->entries[i];
		struct ident id;

		if (disc_entry_ident(x, e, HOSTNQN, &id) < 0)
			fuzz_fail("entry %zu has no identity", i);
		if (!streq(id.transport, transport_to_string(x->transport)) || !streq(id.traddr, x->traddr) ||
		    !streq(id.trsvcid, x->trsvcid) || !streq(id.host_traddr, strempty(e->host_traddr)) ||
		    !streq(id.host_iface, strempty(e->host_iface)) || !streq(id.hostnqn, HOSTNQN) ||
		    !streq(id.subsysnqn, x->subtype == DISC_SUBTYPE_NVME ? x->subnqn : NQN_DISCOVERY))
			fuzz_fail("entry %zu: its identity is not its own", i);
	}
}

static void check_plan(const struct disc_log *log, const struct inv_endpoint *e, const struct disc_plan *p)
{
	size_t n_skipped = 0;

	for (size_t i = 0; i < log->n; i++)
		n_skipped += skipped(&log->entries[i], e);
	if (p->n_connect + p->n_referrals + p->n_filtered + n_skipped != log->n)
		fuzz_fail("plan: %zu connect + %zu referrals + %zu filtered + %zu skipped != %zu entries", p->n_connect,
			  p->n_referrals, p->n_filtered, n_skipped, log->n);
	for (size_t i = 0; i < p->n_connect; i++) {
		const struct disc_entry *x = p->connect[i];

		if (!in_log(log, x) || x->subtype != DISC_SUBTYPE_NVME || x->transport != e->transport ||
		    !passes_filter(x, e))
			fuzz_fail("plan: connect %zu is no subsystem of the endpoint's transport passing its filter", i);
	}
	for (size_t i = 0; i < p->n_referrals; i++)
		if (!in_log(log, p->referrals[i]) || p->referrals[i]->subtype != DISC_SUBTYPE_REFERRAL ||
		    skipped(p->referrals[i], e))
			fuzz_fail("plan: referral %zu is no referral to another discovery controller", i);
}

#define HOSTID "6f1c2a5e-0b7d-4f7e-9c1a-2d3e4f5a6b7c"

static bool has_ident(const struct rc_path *paths, size_t n, const struct ident *id)
{
	for (size_t i = 0; i < n; i++)
		if (ident_equal(&paths[i].id, id))
			return true;
	return false;
}

/* A start of the plan RC made for ID, or NULL. */
static const struct rc_start *started(const struct rc_plan *rc, const struct ident *id)
{
	for (size_t i = 0; i < rc->n_start; i++)
		if (ident_equal(&rc->start[i].id, id))
			return &rc->start[i];
	return NULL;
}

/*
 * The reconcile of a host with this one endpoint, whose discovery path read
 * LOG, and with every other subsystem the plan connects as a path it has
 * already: those are kept, the rest of the plan is started, each identity
 * once, and nothing is started that is there.
 */
static void check_reconcile(const struct disc_log *log, struct endpoint_buf *ep, const struct disc_plan *plan)
{
	struct inv_host h = { .name = "h", .hostnqn = HOSTNQN, .hostid = HOSTID, .endpoints = &ep->e, .n_endpoints = 1 };
	_cleanup_free_ struct rc_path *paths = calloc(1 + plan->n_connect, sizeof(*paths));
	struct rc_plan rc;
	size_t n = 1;

	if (!paths)
		return;
	ident_from_endpoint(&paths[0].id, &ep->e, NQN_DISCOVERY, HOSTNQN);
	paths[0] = (struct rc_path){ .id = paths[0].id, .discovery = true, .parent = RC_NONE, .log = log,
				     .log_seq = 1, .hostid = HOSTID };
	for (size_t i = 0; i < plan->n_connect; i += 2) {
		struct ident id;

		if (disc_entry_ident(plan->connect[i], &ep->e, HOSTNQN, &id) < 0 || has_ident(paths, n, &id))
			continue;
		paths[n++] = (struct rc_path){ .id = id, .parent = 0, .hostid = HOSTID };
	}
	if (reconcile(&h, HOSTNQN, HOSTID, paths, n, &rc) < 0)
		fuzz_fail("reconcile failed");
	for (size_t i = 0; i < n; i++)
		if (rc.paths[i].verdict != RC_KEEP)
			fuzz_fail("reconcile: path %zu (listed, unchanged) is %s (%s), not kept", i,
				  rc_verdict_to_string(rc.paths[i].verdict), rc_why_to_string(rc.paths[i].why));
	for (size_t i = 0; i < rc.n_start; i++) {
		if (has_ident(paths, n, &rc.start[i].id))
			fuzz_fail("reconcile: start %zu is a path there is", i);
		if (started(&rc, &rc.start[i].id) != &rc.start[i])
			fuzz_fail("reconcile: start %zu twice", i);
		if (rc.start[i].discovery && !plan->n_referrals)
			fuzz_fail("reconcile: start %zu is a discovery path, with no referral listed", i);
	}
	for (size_t i = 0; i < plan->n_connect; i++) {
		struct ident id;

		if (disc_entry_ident(plan->connect[i], &ep->e, HOSTNQN, &id) == 0 && !has_ident(paths, n, &id) &&
		    !started(&rc, &id))
			fuzz_fail("reconcile: connect %zu of the plan is neither there nor started", i);
	}
	rc_plan_free(&rc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct endpoint_buf ep;
	struct disc_log log;
	struct disc_plan plan;
	int r;

	if (size < 1)
		return 0;
	r = disc_log_parse(data + 1, size - 1, &log);
	if (r == -EINVAL && size - 1 < DISC_HEADER_SIZE)
		return 0;
	if (r < 0)
		fuzz_fail("disc_log_parse: %s on %zu bytes", strerror(-r), size - 1);
	check_log(&log, size - 1 < DISC_HEADER_SIZE ? 0 : (size - 1 - DISC_HEADER_SIZE) / DISC_ENTRY_SIZE);
	check_round_trip(&log);
	pick_endpoint(data[0], &log, &ep);
	if (disc_plan_make(&log, &ep.e, &plan) < 0)
		fuzz_fail("disc_plan_make failed");
	check_plan(&log, &ep.e, &plan);
	check_idents(&log, &ep.e);
	check_reconcile(&log, &ep, &plan);
	disc_plan_free(&plan);
	disc_log_free(&log);
	return 0;
}
