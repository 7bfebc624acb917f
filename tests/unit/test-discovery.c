/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/discovery.h"
#include "base/macro.h"
#include "base/nqn.h"

/* A raw log of N entry slots, header count NUMREC. */
static uint8_t *raw_log(size_t slots, uint64_t numrec, size_t *len)
{
	uint8_t *b;

	*len = DISC_HEADER_SIZE + slots * DISC_ENTRY_SIZE;
	b = calloc(1, *len);
	assert_non_null(b);
	b[0] = 42; /* genctr */
	for (int i = 0; i < 8; i++)
		b[8 + i] = (uint8_t)(numrec >> (8 * i));
	return b;
}

static void entry(uint8_t *log, size_t i, uint8_t trtype, uint8_t subtype, const char *traddr, const char *trsvcid,
		  const char *nqn)
{
	uint8_t *p = log + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE;

	p[0] = trtype;
	p[1] = strchr(traddr, ':') ? 2 : 1;
	p[2] = subtype;
	p[4] = (uint8_t)(i + 1); /* portid */
	memcpy(p + 32, trsvcid, strlen(trsvcid));
	memcpy(p + 256, nqn, strlen(nqn));
	memcpy(p + 512, traddr, strlen(traddr));
}

static void discovery_test_parses_a_good_log(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(4, 4, &len);
	struct disc_log log;

	entry(b, 0, 3, 3, "192.0.2.1", "8009", NQN_DISCOVERY);
	entry(b, 1, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	entry(b, 2, 1, 2, "192.0.2.1", "4420", "nvme-test-1"); /* the seed's bare name is the target's business */
	entry(b, 3, 3, 1, "2001:db8::7", "8009", NQN_DISCOVERY);
	memcpy(b + DISC_HEADER_SIZE + 1 * DISC_ENTRY_SIZE + 32 + 4, "    ", 4); /* space padding */
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.genctr, 42);
	assert_int_equal(log.n, 4);
	assert_int_equal(log.n_dropped, 0);
	assert_int_equal(log.entries[1].transport, TRANSPORT_TCP);
	assert_string_equal(log.entries[1].trsvcid, "4420");
	assert_int_equal(log.entries[1].portid, 2);
	assert_int_equal(log.entries[2].transport, TRANSPORT_RDMA);
	assert_string_equal(log.entries[2].subnqn, "nvme-test-1");
	assert_int_equal(log.entries[3].adrfam, ADRFAM_IPV6);
	assert_int_equal(log.entries[3].subtype, DISC_SUBTYPE_REFERRAL);
	disc_log_free(&log);
	free(b);
}

static void discovery_test_drops_malformed_entries_with_a_reason(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(8, 8, &len);
	struct disc_log log;

	entry(b, 6, 3, 2, "192.0.2.300", "4420", "nqn.2020-09.com.example:c");     /* no address */
	entry(b, 7, 3, 2, "192.0.2.1", "44x0", "nqn.2020-09.com.example:d");       /* no port */
	entry(b, 0, 2, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:fc");      /* fc */
	entry(b, 1, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	memset(b + DISC_HEADER_SIZE + 1 * DISC_ENTRY_SIZE + 512, 'x', 256);        /* traddr unterminated */
	entry(b, 2, 3, 9, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");       /* subtype 9 */
	entry(b, 3, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:\x01");    /* unprintable */
	entry(b, 4, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:ok");
	entry(b, 5, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:ok");      /* duplicate */
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.entries[0].subnqn, "nqn.2020-09.com.example:ok");
	assert_int_equal(log.n_dropped, 7);
	assert_string_equal(log.first_problem, "entry 0: a transport other than rdma and tcp");
	disc_log_free(&log);
	free(b);
}

static void discovery_test_absurd_record_counts_are_cut(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(2, 1000000000ULL, &len);
	struct disc_log log;

	entry(b, 0, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	entry(b, 1, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 2);
	assert_non_null(strstr(log.first_problem, "counts 1000000000 records; 2 are there"));
	disc_log_free(&log);
	free(b);

	/* fewer records than slots: only the counted ones */
	b = raw_log(3, 1, &len);
	entry(b, 0, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	entry(b, 1, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.n_dropped, 0);
	disc_log_free(&log);

	assert_int_equal(disc_log_parse(b, DISC_HEADER_SIZE - 1, &log), -EINVAL);
	free(b);
}

static void discovery_test_plan_filters_and_skips_itself(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(6, 6, &len);
	struct disc_log log;
	struct disc_plan plan;
	const char *filter[] = { "nqn.2020-09.com.example:a", "nqn.2020-09.com.example:c" };
	struct inv_endpoint e = {
		.transport = TRANSPORT_TCP, .traddr = "192.0.2.1", .trsvcid = "8009",
		.subsystems = filter, .n_subsystems = 2,
	};

	entry(b, 0, 3, 3, "192.0.2.1", "8009", NQN_DISCOVERY);                /* current */
	entry(b, 1, 3, 1, "192.0.2.1", "8009", NQN_DISCOVERY);                /* itself, as a referral */
	entry(b, 2, 3, 1, "198.51.100.7", "8009", NQN_DISCOVERY);             /* a real referral */
	entry(b, 3, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");  /* wanted */
	entry(b, 4, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:b");  /* filtered */
	entry(b, 5, 1, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:c");  /* other transport */
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(disc_plan_make(&log, &e, &plan), 0);
	assert_int_equal(plan.n_connect, 1);
	assert_string_equal(plan.connect[0]->subnqn, "nqn.2020-09.com.example:a");
	assert_int_equal(plan.n_referrals, 1);
	assert_string_equal(plan.referrals[0]->traddr, "198.51.100.7");
	assert_int_equal(plan.n_filtered, 2);
	disc_plan_free(&plan);

	e.n_subsystems = 0; /* no filter: every subsystem of the transport */
	e.subsystems = NULL;
	assert_int_equal(disc_plan_make(&log, &e, &plan), 0);
	assert_int_equal(plan.n_connect, 2);
	disc_plan_free(&plan);

	/* Its own port compares as a number: the inventory may spell it with zeros. */
	e.trsvcid = "08009";
	assert_int_equal(disc_plan_make(&log, &e, &plan), 0);
	assert_int_equal(plan.n_referrals, 1);
	assert_string_equal(plan.referrals[0]->traddr, "198.51.100.7");
	disc_plan_free(&plan);
	disc_log_free(&log);
	free(b);
}

/* A slot's raw fields, for entries the helper above cannot write. */
static uint8_t *slot(uint8_t *log, size_t i)
{
	return log + DISC_HEADER_SIZE + i * DISC_ENTRY_SIZE;
}

static void discovery_test_trsvcid_is_a_port_normalised(void **state _unused_)
{
	static const struct {
		const char *raw;
		const char *want; /* NULL: not a port */
	} cases[] = {
		{ "0000000000000004420", "4420" }, /* 19 digits: once cut to 15, port 0 */
		{ "04420", "4420" },
		{ "8009", "8009" },
		{ "65535", "65535" },
		{ "0", "0" },
		{ "00000", "0" },
		{ "00000000000000000000000000065535", NULL }, /* 32 digits, no NUL: unterminated */
		{ "0000000000000000000000000065535", "65535" }, /* 31 digits */
		{ "65536", NULL },
		{ "99999999999999999999", NULL }, /* beyond an unsigned long */
		{ "18446744073709551617", NULL }, /* wraps to 1 in 64 bits */
		{ "-1", NULL },
		{ "+4420", NULL },
		{ " 4420", NULL },
		{ "44 20", NULL },
		{ "0x1144", NULL },
		{ "4420x", NULL },
	};
	size_t len;
	uint8_t *b = raw_log(ARRAY_SIZE(cases), ARRAY_SIZE(cases), &len);
	struct disc_log log;
	size_t kept = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char nqn[64];

		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:p%zu", i);
		entry(b, i, 3, 2, "192.0.2.1", "", nqn);
		memcpy(slot(b, i) + 32, cases[i].raw, strlen(cases[i].raw));
	}
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char nqn[64];

		if (!cases[i].want)
			continue;
		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:p%zu", i);
		if (kept >= log.n || !streq(log.entries[kept].subnqn, nqn) || !streq(log.entries[kept].trsvcid, cases[i].want))
			fail_msg("case %zu (\"%s\"): want trsvcid \"%s\", got %s", i, cases[i].raw, cases[i].want,
				 kept < log.n ? log.entries[kept].trsvcid : "nothing");
		kept++;
	}
	assert_int_equal(log.n, kept);
	assert_int_equal(log.n_dropped, ARRAY_SIZE(cases) - kept);
	assert_string_equal(log.first_problem, "entry 6: an empty, unterminated or unprintable trsvcid, traddr or subnqn");
	disc_log_free(&log);
	free(b);
}

static void discovery_test_traddr_is_an_address_of_its_family(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(7, 7, &len);
	struct disc_log log;

	entry(b, 0, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");
	slot(b, 0)[1] = 2; /* an IPv4 address said to be IPv6 */
	entry(b, 1, 3, 2, "2001:db8::1", "4420", "nqn.2020-09.com.example:b");
	slot(b, 1)[1] = 1; /* and the other way round */
	entry(b, 2, 3, 2, "target.example.com", "4420", "nqn.2020-09.com.example:c");
	entry(b, 3, 3, 2, "192.0.2.1%eth0", "4420", "nqn.2020-09.com.example:d");
	/* The longest text of an IPv6 address (45 characters) fits the identity's 64 bytes. */
	entry(b, 4, 3, 2, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", "4420", "nqn.2020-09.com.example:e");
	entry(b, 5, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:f");
	memset(slot(b, 5) + 512 + 9, ' ', 256 - 9); /* space padded to the end: the specification's way */
	entry(b, 6, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:g");
	memset(slot(b, 6) + 512, '1', 200); /* 200 characters: no identity holds it */
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 2);
	assert_string_equal(log.entries[0].traddr, "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255");
	assert_string_equal(log.entries[1].traddr, "192.0.2.1");
	assert_int_equal(log.n_dropped, 5);
	assert_non_null(strstr(log.first_problem, "entry 0: "));
	disc_log_free(&log);
	free(b);
}

static void discovery_test_subnqn_fits_what_the_kernel_takes(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(5, 5, &len);
	struct disc_log log;
	char nqn[300];

	/* nvmf_parse_options refuses an NQN of NVMF_NQN_SIZE (223) bytes or more. */
	for (size_t i = 0; i < 5; i++) {
		static const size_t lengths[] = { 222, 223, 224, 255, 256 };

		memset(nqn, 'x', sizeof(nqn));
		memcpy(nqn, "nqn.2020-09.com.example:", 24);
		nqn[lengths[i]] = '\0';
		entry(b, i, 3, 2, "192.0.2.1", "4420", "");
		memcpy(slot(b, i) + 256, nqn, lengths[i]);
	}
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(strlen(log.entries[0].subnqn), 222);
	assert_int_equal(log.n_dropped, 4);
	assert_non_null(strstr(log.first_problem, "entry 1: "));
	assert_non_null(strstr(log.first_problem, "223"));
	disc_log_free(&log);
	free(b);
}

static void discovery_test_unprintable_bytes_are_left_out(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(5, 5, &len);
	struct disc_log log;

	entry(b, 0, 3, 2, "192.0.2.1", "44\x7f" "0", "nqn.2020-09.com.example:a");
	entry(b, 1, 3, 2, "192.0.2.1\n", "4420", "nqn.2020-09.com.example:b");
	entry(b, 2, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:\xc3\xa9");
	entry(b, 3, 3, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:d");
	memcpy(slot(b, 3) + 32 + 5, "\x1b[2J", 4); /* after the NUL: not part of the string */
	entry(b, 4, 3, 2, "192.0.2.1", "\t4420", "nqn.2020-09.com.example:e");
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 1);
	assert_string_equal(log.entries[0].subnqn, "nqn.2020-09.com.example:d");
	assert_int_equal(log.n_dropped, 4);
	disc_log_free(&log);
	free(b);
}

static void discovery_test_duplicates_compare_as_paths(void **state _unused_)
{
	size_t len;
	uint8_t *b = raw_log(7, 7, &len);
	struct disc_log log;

	entry(b, 0, 3, 2, "2001:db8::1", "4420", "nqn.2020-09.com.example:a");
	entry(b, 1, 3, 2, "2001:DB8:0::1", "04420", "nqn.2020-09.com.example:a"); /* the same path */
	entry(b, 2, 9, 2, "192.0.2.1", "4420", "nqn.2020-09.com.example:a");     /* no transport */
	entry(b, 3, 1, 2, "2001:db8::1", "4420", "nqn.2020-09.com.example:a");   /* rdma: another path */
	entry(b, 4, 3, 1, "2001:db8::1", "4420", "nqn.2020-09.com.example:a");   /* a referral: another entry */
	entry(b, 5, 3, 2, "2001:db8::1", "4421", "nqn.2020-09.com.example:a");   /* another port */
	entry(b, 6, 3, 2, "2001:db8::1", "4420", "nqn.2020-09.com.example:a");   /* the first again */
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 4);
	assert_string_equal(log.entries[0].traddr, "2001:db8::1");
	assert_int_equal(log.entries[1].transport, TRANSPORT_RDMA);
	assert_int_equal(log.entries[2].subtype, DISC_SUBTYPE_REFERRAL);
	assert_string_equal(log.entries[3].trsvcid, "4421");
	assert_int_equal(log.n_dropped, 3);
	assert_string_equal(log.first_problem, "entry 1: a duplicate of an earlier entry");
	disc_log_free(&log);
	free(b);
}

static double seconds_since(clockid_t clock, const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(clock, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* DISC_MAX_RECORDS entries; subsystem i is S % DISTINCT, so DISTINCT < N gives duplicates. */
static void parse_and_plan_a_full_log(size_t distinct, size_t want_kept, size_t want_connect)
{
	const size_t n = DISC_MAX_RECORDS, n_filter = DISC_MAX_RECORDS / 4;
	size_t len;
	uint8_t *b = raw_log(n, n, &len);
	char (*names)[48] = calloc(n_filter, sizeof(*names));
	const char **filter = calloc(n_filter, sizeof(*filter));
	struct inv_endpoint e = { .transport = TRANSPORT_TCP, .traddr = "192.0.2.1", .trsvcid = "8009" };
	struct disc_log log;
	struct disc_plan plan;
	struct timespec t0, c0;
	double secs, cpu;

	assert_non_null(names);
	assert_non_null(filter);
	for (size_t i = 0; i < n; i++) {
		char nqn[48];

		snprintf(nqn, sizeof(nqn), "nqn.2020-09.com.example:subsystem-%05zu", i % distinct);
		entry(b, i, 3, 2, "192.0.2.1", "4420", nqn);
	}
	/* Every fourth subsystem, listed backwards: a long filter. */
	for (size_t k = 0; k < n_filter; k++) {
		snprintf(names[k], sizeof(names[k]), "nqn.2020-09.com.example:subsystem-%05zu", n - 4 * (k + 1));
		filter[k] = names[k];
	}
	e.subsystems = filter;
	e.n_subsystems = n_filter;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(disc_plan_make(&log, &e, &plan), 0);
	cpu = seconds_since(CLOCK_PROCESS_CPUTIME_ID, &c0);
	secs = seconds_since(CLOCK_MONOTONIC, &t0);
	print_message("%zu entries, %zu distinct, a filter of %zu: parsed and planned in %.3f s (%.3f s of CPU)\n", n,
		      distinct, n_filter, secs, cpu);
	assert_int_equal(log.n, want_kept);
	assert_int_equal(log.n_dropped, n - want_kept);
	assert_int_equal(plan.n_connect, want_connect);
	assert_int_equal(plan.n_filtered, want_kept - want_connect);
	/* Generous, for sanitizer builds: n log n work takes well under a second. The
	 * process's CPU time, not the wall clock's: a busy machine slows the one only. */
	assert_true(cpu < 2.0);
	disc_plan_free(&plan);
	disc_log_free(&log);
	free(filter);
	free(names);
	free(b);
}

static void discovery_test_a_full_log_is_parsed_and_planned_fast(void **state _unused_)
{
	parse_and_plan_a_full_log(DISC_MAX_RECORDS, DISC_MAX_RECORDS, DISC_MAX_RECORDS / 4);
	/* Each subsystem twice: half the log is duplicates. */
	parse_and_plan_a_full_log(DISC_MAX_RECORDS / 2, DISC_MAX_RECORDS / 2, DISC_MAX_RECORDS / 8);
	/* 256 subsystems, each 256 times. */
	parse_and_plan_a_full_log(256, 256, 64);
}

static void discovery_test_entry_ident_is_the_whole_path(void **state _unused_)
{
	static const char host[] = "nqn.2014-08.org.nvmexpress:uuid:6f1c2a5e-0b7d-4f7e-9c1a-2d3e4f5a6b7c";
	size_t len;
	uint8_t *b = raw_log(3, 3, &len);
	struct disc_log log;
	struct inv_endpoint e = {
		.transport = TRANSPORT_TCP, .traddr = "192.0.2.1", .trsvcid = "8009",
		.host_traddr = "192.0.2.2", .host_iface = "nvmft0",
	};
	struct ident id, want;

	entry(b, 0, 3, 2, "192.0.2.7", "0000000000000004420", "nqn.2020-09.com.example:a");
	entry(b, 1, 1, 1, "2001:db8::9", "00004420", "nqn.2014-08.org.nvmexpress.discovery");
	entry(b, 2, 3, 3, "192.0.2.1", "8009", "nqn.2014-08.org.nvmexpress.discovery");
	assert_int_equal(disc_log_parse(b, len, &log), 0);
	assert_int_equal(log.n, 3);

	/* A subsystem: its NQN, the entry's address and port, the endpoint's host side. */
	assert_int_equal(disc_entry_ident(&log.entries[0], &e, host, &id), 0);
	want = (struct ident){ .transport = "tcp", .traddr = "192.0.2.7", .trsvcid = "4420", .host_traddr = "192.0.2.2",
			       .host_iface = "nvmft0", .subsysnqn = "nqn.2020-09.com.example:a" };
	snprintf(want.hostnqn, sizeof(want.hostnqn), "%s", host);
	assert_memory_equal(&id, &want, sizeof(id));

	/* A referral: the discovery NQN, over the entry's own transport. */
	assert_int_equal(disc_entry_ident(&log.entries[1], &e, host, &id), 0);
	assert_string_equal(id.transport, "rdma");
	assert_string_equal(id.traddr, "2001:db8::9");
	assert_string_equal(id.trsvcid, "4420");
	assert_string_equal(id.subsysnqn, NQN_DISCOVERY);
	assert_string_equal(id.host_iface, "nvmft0");
	assert_string_equal(id.hostnqn, host);

	/* Whatever does not fit the identity is refused, not cut. */
	snprintf(log.entries[0].traddr, sizeof(log.entries[0].traddr), "%0100d", 1);
	assert_int_equal(disc_entry_ident(&log.entries[0], &e, host, &id), -EINVAL);
	assert_string_equal(id.traddr, "");
	snprintf(log.entries[0].traddr, sizeof(log.entries[0].traddr), "192.0.2.7");
	snprintf(log.entries[0].trsvcid, sizeof(log.entries[0].trsvcid), "0000000000000004420");
	assert_int_equal(disc_entry_ident(&log.entries[0], &e, host, &id), -EINVAL);
	snprintf(log.entries[0].trsvcid, sizeof(log.entries[0].trsvcid), "4420");
	e.host_iface = "an-interface-name-too-long";
	assert_int_equal(disc_entry_ident(&log.entries[0], &e, host, &id), -EINVAL);
	e.host_iface = NULL;
	e.host_traddr = NULL;
	assert_int_equal(disc_entry_ident(&log.entries[0], &e, NULL, &id), 0);
	assert_string_equal(id.host_traddr, "");
	assert_string_equal(id.host_iface, "");
	assert_string_equal(id.hostnqn, "");
	disc_log_free(&log);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(discovery_test_parses_a_good_log),
		cmocka_unit_test(discovery_test_drops_malformed_entries_with_a_reason),
		cmocka_unit_test(discovery_test_absurd_record_counts_are_cut),
		cmocka_unit_test(discovery_test_plan_filters_and_skips_itself),
		cmocka_unit_test(discovery_test_trsvcid_is_a_port_normalised),
		cmocka_unit_test(discovery_test_traddr_is_an_address_of_its_family),
		cmocka_unit_test(discovery_test_subnqn_fits_what_the_kernel_takes),
		cmocka_unit_test(discovery_test_unprintable_bytes_are_left_out),
		cmocka_unit_test(discovery_test_duplicates_compare_as_paths),
		cmocka_unit_test(discovery_test_a_full_log_is_parsed_and_planned_fast),
		cmocka_unit_test(discovery_test_entry_ident_is_the_whole_path),
	};
	return cmocka_run_group_tests_name("discovery", tests, NULL, NULL);
}
