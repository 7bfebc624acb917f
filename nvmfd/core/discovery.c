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

/*
 * A fixed-size string field: up to its NUL, trailing spaces removed (the
 * specification pads with spaces). False when it is unterminated and full,
 * empty, longer than OUT, or holds anything unprintable.
 */
static bool field(const uint8_t *p, size_t len, char *out, size_t size)
{
	size_t n = 0;

	while (n < len && p[n])
		n++;
	if (n == len && p[len - 1] != ' ')
		return false; /* full and unterminated */
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0 || n >= size)
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] > 0x7e)
			return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool address_ok(enum adrfam fam, const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(fam == ADRFAM_IPV6 ? AF_INET6 : AF_INET, s, buf) == 1;
}

static bool port_ok(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	return s[0] >= '0' && s[0] <= '9' && !*end && v >= 1 && v <= 65535;
}

static void drop(struct disc_log *log, size_t i, const char *why)
{
	if (log->n_dropped++ == 0)
		snprintf(log->first_problem, sizeof(log->first_problem), "entry %zu: %s", i, why);
}

static bool same_entry(const struct disc_entry *a, const struct disc_entry *b)
{
	return a->subtype == b->subtype && a->transport == b->transport && streq(a->traddr, b->traddr) &&
	       streq(a->trsvcid, b->trsvcid) && streq(a->subnqn, b->subnqn);
}

int disc_log_parse(const void *buf, size_t len, struct disc_log *ret)
{
	const uint8_t *b = buf;
	struct disc_log log = { 0 };
	uint64_t present;

	if (len < DISC_HEADER_SIZE)
		return -EINVAL;
	log.genctr = le64(b);
	log.numrec = le64(b + 8);
	present = (len - DISC_HEADER_SIZE) / DISC_ENTRY_SIZE;
	if (log.numrec > present || log.numrec > DISC_MAX_RECORDS) {
		snprintf(log.first_problem, sizeof(log.first_problem), "the header counts %llu records; %llu are there",
			 (unsigned long long)log.numrec, (unsigned long long)(present < DISC_MAX_RECORDS ? present : DISC_MAX_RECORDS));
		log.n_dropped = 1;
	}
	if (present > log.numrec)
		present = log.numrec;
	if (present > DISC_MAX_RECORDS)
		present = DISC_MAX_RECORDS;
	log.entries = calloc(present ? present : 1, sizeof(*log.entries));
	if (!log.entries)
		return -ENOMEM;

	for (size_t i = 0; i < present; i++) {
		const uint8_t *p = b + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE;
		struct disc_entry *e = &log.entries[log.n];
		bool dup = false;

		switch (p[E_TRTYPE]) {
		case 1: e->transport = TRANSPORT_RDMA; break;
		case 3: e->transport = TRANSPORT_TCP; break;
		default: drop(&log, i, "a transport other than rdma and tcp"); continue;
		}
		switch (p[E_ADRFAM]) {
		case 1: e->adrfam = ADRFAM_IPV4; break;
		case 2: e->adrfam = ADRFAM_IPV6; break;
		default: drop(&log, i, "an address family other than ipv4 and ipv6"); continue;
		}
		if (p[E_SUBTYPE] < DISC_SUBTYPE_REFERRAL || p[E_SUBTYPE] > DISC_SUBTYPE_CURRENT) {
			drop(&log, i, "an unknown subtype");
			continue;
		}
		e->subtype = (enum disc_subtype)p[E_SUBTYPE];
		e->treq = p[E_TREQ];
		e->portid = le16(p + E_PORTID);
		e->cntlid = le16(p + E_CNTLID);
		e->eflags = le16(p + E_EFLAGS);
		if (!field(p + E_TRSVCID, E_TRSVCID_LEN, e->trsvcid, sizeof(e->trsvcid)) ||
		    !field(p + E_TRADDR, E_TRADDR_LEN, e->traddr, sizeof(e->traddr)) ||
		    !field(p + E_SUBNQN, E_SUBNQN_LEN, e->subnqn, sizeof(e->subnqn))) {
			drop(&log, i, "an empty, unterminated or unprintable trsvcid, traddr or subnqn");
			continue;
		}
		if (!address_ok(e->adrfam, e->traddr) || !port_ok(e->trsvcid)) {
			drop(&log, i, "a traddr that is no address of its family, or a trsvcid that is no port");
			continue;
		}
		for (size_t j = 0; j < log.n && !dup; j++)
			dup = same_entry(&log.entries[j], e);
		if (dup) {
			drop(&log, i, "a duplicate of an earlier entry");
			continue;
		}
		log.n++;
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

int disc_plan_make(const struct disc_log *log, const struct inv_endpoint *e, struct disc_plan *ret)
{
	struct disc_plan p = { 0 };

	p.connect = calloc(log->n + 1, sizeof(*p.connect));
	p.referrals = calloc(log->n + 1, sizeof(*p.referrals));
	if (!p.connect || !p.referrals) {
		disc_plan_free(&p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < log->n; i++) {
		struct disc_entry *x = &log->entries[i];
		bool wanted;

		switch (x->subtype) {
		case DISC_SUBTYPE_CURRENT:
			continue;
		case DISC_SUBTYPE_REFERRAL:
			/* Older targets list themselves as a referral to the discovery NQN. */
			if (streq(x->subnqn, NQN_DISCOVERY) && x->transport == e->transport &&
			    addr_same(x->traddr, e->traddr) && streq(x->trsvcid, e->trsvcid))
				continue;
			p.referrals[p.n_referrals++] = x;
			continue;
		case DISC_SUBTYPE_NVME:
			break;
		}
		/* A path over another transport needs its own endpoint in the inventory. */
		if (x->transport != e->transport) {
			p.n_filtered++;
			continue;
		}
		wanted = e->n_subsystems == 0;
		for (size_t k = 0; k < e->n_subsystems && !wanted; k++)
			wanted = streq(e->subsystems[k], x->subnqn);
		if (!wanted) {
			p.n_filtered++;
			continue;
		}
		p.connect[p.n_connect++] = x;
	}
	*ret = p;
	return 0;
}

void disc_plan_free(struct disc_plan *p)
{
	free(p->connect);
	free(p->referrals);
	*p = (struct disc_plan){ 0 };
}
