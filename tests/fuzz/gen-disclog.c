/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gen-disclog DIR: the discovery harness's seeds, written into DIR. Each is
 * the endpoint selector byte and a log page as nvmet on 6.1 answers it
 * (the current discovery controller's own entry first), or one a broken or
 * hostile target might send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/nqn.h"
#include "disclog.h"

#define NQN1 "nqn.2020-09.com.example:nvme-test-1"
#define NQN2 "nqn.2020-09.com.example:nvme-test-2"
/* 223 bytes: one more than the kernel takes. */
#define NQN_LONG "nqn.2020-09.com.example:" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" \
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define RDMA 1
#define TCP 3
#define IPV4 1
#define IPV6 2

struct seed {
	const char *name;
	uint8_t selector;
	uint64_t numrec; /* 0: as many as there are records */
	struct disclog_rec recs[8];
	size_t n;
};

static const struct seed seeds[] = {
	{ "nvmet-rdma", 0x00, 0, {
		{ RDMA, IPV4, 3, 0, 1, 0xffff, 3, "4420", NQN_DISCOVERY, "192.0.2.1" },
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },
	}, 2 },
	{ "nvmet-tcp-filtered", 0x05, 0, {
		{ TCP, IPV4, 3, 2, 2, 0xffff, 3, "4420", NQN_DISCOVERY, "192.0.2.1" },
		{ TCP, IPV4, 2, 2, 2, 0xffff, 0, "4420", NQN1, "192.0.2.1" },
		{ TCP, IPV4, 2, 2, 2, 0xffff, 0, "4420", NQN2, "192.0.2.1" },
	}, 3 },
	{ "referrals", 0x12, 0, {
		{ RDMA, IPV4, 1, 0, 1, 0xffff, 0, "4420", NQN_DISCOVERY, "192.0.2.1" },
		{ RDMA, IPV4, 1, 0, 3, 0xffff, 0, "4420", NQN_DISCOVERY, "192.0.2.2" },
		{ TCP, IPV4, 1, 0, 4, 0xffff, 0, "8009", NQN_DISCOVERY, "192.0.2.2" },
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },
	}, 4 },
	{ "ipv6", 0x0a, 0, {
		{ TCP, IPV6, 3, 2, 1, 0xffff, 3, "8009", NQN_DISCOVERY, "2001:db8::1" },
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "4420", NQN1, "2001:db8::1" },
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "4420", NQN2, "fe80::1" },
	}, 3 },
	{ "problems", 0x03, 0, {
		{ 4, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },     /* fc */
		{ RDMA, 3, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },     /* ib */
		{ RDMA, IPV4, 9, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },  /* no such subtype */
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "65536", NQN1, "192.0.2.1" }, /* no port */
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "2001:db8::1" },/* not ipv4 */
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", "", "192.0.2.1" },     /* empty */
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },   /* duplicate */
	}, 8 },
	{ "same-paths", 0x3a, 0, {
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "0000000000000004420", NQN1, "::1" },
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "4420", NQN1, "0::1" },         /* the same path */
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "4420", NQN1, "::ffff:192.0.2.1" },
		{ TCP, IPV4, 2, 2, 1, 0xffff, 0, "0", NQN2, "192.0.2.1" },
		{ TCP, IPV6, 2, 2, 1, 0xffff, 0, "4420", NQN1,
		  "0000:0000:0000:0000:0000:ffff:192.000.002.001 but longer than sixty-four" },
		{ TCP, IPV4, 2, 2, 1, 0xffff, 0, "4420", NQN_LONG, "192.0.2.1" },
	}, 6 },
	{ "numrec-beyond", 0x00, 40, {
		{ RDMA, IPV4, 2, 0, 1, 0xffff, 0, "4420", NQN1, "192.0.2.1" },
	}, 1 },
	{ "header-only", 0x00, 0, { { 0 } }, 0 },
};

static int write_seed(const char *dir, const struct seed *s)
{
	size_t len = 1 + DISC_HEADER_SIZE + s->n * DISC_ENTRY_SIZE;
	uint8_t *buf = calloc(1, len);
	char path[4096];
	FILE *f;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	buf[0] = s->selector;
	disclog_header(buf + 1, 7, s->numrec ? s->numrec : s->n);
	for (size_t i = 0; i < s->n; i++)
		disclog_entry(buf + 1 + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE, &s->recs[i]);
	snprintf(path, sizeof(path), "%s/%s", dir, s->name);
	f = fopen(path, "we");
	if (!f || fwrite(buf, 1, len, f) != len)
		r = -errno;
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	free(buf);
	return r;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen-disclog DIR\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		if (write_seed(argv[1], &seeds[i]) < 0) {
			fprintf(stderr, "gen-disclog: %s/%s: %s\n", argv[1], seeds[i].name, strerror(errno));
			return 1;
		}
	return 0;
}
