/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Discovery log pages written the way nvmet writes them (NVMe over Fabrics
 * 1.1, Figure 38; drivers/nvme/target/discovery.c): trsvcid and traddr
 * padded with spaces, subnqn with NULs, the RDMA transport's CM fields set.
 * The seed generator writes pages with it, and the discovery harness writes
 * a parsed log back to parse it again.
 */
#pragma once

#include <stdint.h>
#include <string.h>

#include "core/discovery.h"

struct disclog_rec {
	uint8_t trtype, adrfam, subtype, treq;
	uint16_t portid, cntlid, eflags;
	const char *trsvcid, *subnqn, *traddr;
};

static inline void disclog_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void disclog_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* S into a LEN-byte field, padded with PAD; a longer S is cut (as a bad target would). */
static inline void disclog_field(uint8_t *p, size_t len, const char *s, uint8_t pad)
{
	size_t n = strnlen(s, len);

	memcpy(p, s, n);
	memset(p + n, pad, len - n);
}

static inline void disclog_header(uint8_t *page, uint64_t genctr, uint64_t numrec)
{
	memset(page, 0, DISC_HEADER_SIZE);
	disclog_put64(page, genctr);
	disclog_put64(page + 8, numrec);
	disclog_put16(page + 16, 0); /* recfmt */
}

static inline void disclog_entry(uint8_t *e, const struct disclog_rec *r)
{
	memset(e, 0, DISC_ENTRY_SIZE);
	e[0] = r->trtype;
	e[1] = r->adrfam;
	e[2] = r->subtype;
	e[3] = r->treq;
	disclog_put16(e + 4, r->portid);
	disclog_put16(e + 6, r->cntlid);
	disclog_put16(e + 8, 32); /* asqsz: NVME_AQ_DEPTH */
	disclog_put16(e + 10, r->eflags);
	disclog_field(e + 32, 32, r->trsvcid, ' ');
	disclog_field(e + 256, 256, r->subnqn, '\0');
	disclog_field(e + 512, 256, r->traddr, ' ');
	if (r->trtype == 1) {
		e[768] = 1; /* qptype: reliable connected */
		e[769] = 1; /* prtype: not specified */
		e[770] = 1; /* cms: the RDMA CM */
	}
}
