/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The discovery log page (NVMe over Fabrics 1.1, 5.3: a 1024-byte header,
 * then 1024-byte entries), parsed from raw bytes defensively: it comes off
 * the wire. Entries with an unknown transport, address family or subtype,
 * unterminated or unprintable strings, an address that is none of its
 * family or longer than a path's identity holds, a service id that is no
 * port number, a subsystem NQN the kernel would refuse, or duplicates are
 * left out and counted with the reason, never cut to fit; a record count
 * beyond the data is cut to what is there. A kept entry's trsvcid is its
 * port in decimal without leading zeros.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ident.h"
#include "inventory/inventory.h"

#define DISC_HEADER_SIZE 1024
#define DISC_ENTRY_SIZE 1024
/* More records than any real target lists (blktests' nvme/002 uses 1000). */
#define DISC_MAX_RECORDS 65536

enum disc_subtype {
	DISC_SUBTYPE_REFERRAL = 1, /* another discovery controller */
	DISC_SUBTYPE_NVME = 2,     /* an NVM subsystem */
	DISC_SUBTYPE_CURRENT = 3,  /* this discovery controller itself */
};

struct disc_entry {
	enum transport transport;
	enum adrfam adrfam;
	enum disc_subtype subtype;
	uint8_t treq;
	uint16_t portid, cntlid, eflags;
	char trsvcid[33];
	char subnqn[224];
	char traddr[257];
};

struct disc_log {
	uint64_t genctr;
	uint64_t numrec;   /* as the header says */
	size_t n;          /* entries kept */
	struct disc_entry *entries;
	size_t n_dropped;  /* entries left out */
	char first_problem[160];
};

/*
 * Parse LEN bytes at BUF. Returns 0, -EINVAL (shorter than a header), -ENOMEM.
 * Linear in the entries but for sorting them once to find duplicates (the
 * same path: subtype, transport, address as an address, port, subnqn).
 */
int disc_log_parse(const void *buf, size_t len, struct disc_log *ret);
void disc_log_free(struct disc_log *log);

/*
 * The identity of the path to entry X, reached through endpoint E by host
 * HOSTNQN: the entry's transport, address and port, E's host_traddr and
 * host_iface, and X's subnqn, or the discovery NQN for a referral. Returns 0,
 * or -EINVAL when a field does not fit the identity (never for an entry
 * disc_log_parse kept, with an endpoint the inventory validated); *RET is then
 * all empty: an identity is never cut to fit.
 */
int disc_entry_ident(const struct disc_entry *x, const struct inv_endpoint *e, const char *hostnqn, struct ident *ret);

/* What a log asks of the host reading it from discovery endpoint E. */
struct disc_plan {
	struct disc_entry **connect;  /* NVM subsystems that pass E's filter */
	size_t n_connect;
	struct disc_entry **referrals; /* other discovery controllers */
	size_t n_referrals;
	size_t n_filtered;             /* subsystems the filter left out */
};

/*
 * Sort LOG's entries for endpoint E: NVM subsystems of E's transport that
 * pass its subsystem filter are to connect; referrals to follow; the
 * discovery controller's own entry (subtype 3, or the discovery NQN at E's
 * own address) is skipped. The plan points into LOG. In n log m time for n
 * entries and a filter of m subsystems.
 */
int disc_plan_make(const struct disc_log *log, const struct inv_endpoint *e, struct disc_plan *ret);
void disc_plan_free(struct disc_plan *p);
