/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <stdlib.h>

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
	assert_int_equal(disc_plan_make(&log, &e, &plan), 0);
	assert_int_equal(plan.n_connect, 2);
	disc_plan_free(&plan);
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
	};
	return cmocka_run_group_tests_name("discovery", tests, NULL, NULL);
}
