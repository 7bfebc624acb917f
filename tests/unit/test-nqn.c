/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>

#include "base/macro.h"
#include "base/nqn.h"

static void nqn_test_accepts_valid(void **state _unused_)
{
	static const char *const good[] = {
		NQN_DISCOVERY,
		"nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
		"nqn.2020-09.com.example:nvme-test-1",
		"nqn.2020-09.com.example",
		"nqn.1999-12.io.x-y.a1:any thing: goes/here",
	};

	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		const char *why = NULL;

		assert_int_equal(nqn_check(good[i], &why), 0);
		assert_null(why);
	}
}

static void nqn_test_rejects_with_reason(void **state _unused_)
{
	static const struct {
		const char *nqn, *why_has;
	} bad[] = {
		{ "", "empty" },
		{ "nvme-test-1", "starts with" },
		{ "nqn.20x4-08.org.x:a", "date" },
		{ "nqn.2014-13.org.x:a", "month" },
		{ "nqn.2014-00.org.x:a", "month" },
		{ "nqn.2014-08org.x:a", "reverse domain" },
		{ "nqn.2014-08.:a", "names a reverse domain" },
		{ "nqn.2014-08.org..x:a", "labels" },
		{ "nqn.2014-08.-org.x:a", "labels" },
		{ "nqn.2014-08.org.x.:a", "end with a dot" },
		{ "nqn.2014-08.org_x:a", "labels" },
		{ "nqn.2014-08.org.x:", "name after" },
		{ "nqn.2014-08.org.nvmexpress:uuid:1b4e28ba-2fa1-11d2-883f", "UUID" },
		{ "nqn.2014-08.org.x:a\tb", "control" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		const char *why = NULL;

		assert_int_equal(nqn_check(bad[i].nqn, &why), -EINVAL);
		assert_non_null(why);
		if (!strstr(why, bad[i].why_has))
			fail_msg("%s: reason \"%s\" lacks \"%s\"", bad[i].nqn, why, bad[i].why_has);
	}
	assert_false(nqn_valid(NULL));
}

static void nqn_test_length_limit(void **state _unused_)
{
	char nqn[NQN_MAX_LEN + 2];
	const char *prefix = "nqn.2014-08.org.example:";
	size_t n = strlen(prefix);

	memcpy(nqn, prefix, n);
	memset(nqn + n, 'a', NQN_MAX_LEN - n);
	nqn[NQN_MAX_LEN] = '\0';
	assert_true(nqn_valid(nqn));
	nqn[NQN_MAX_LEN] = 'a';
	nqn[NQN_MAX_LEN + 1] = '\0';
	assert_false(nqn_valid(nqn));
	/* 223 bytes: the specification's most, one more than the kernel takes */
	assert_int_equal(strlen(nqn), 223);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nqn_test_accepts_valid),
		cmocka_unit_test(nqn_test_rejects_with_reason),
		cmocka_unit_test(nqn_test_length_limit),
	};
	return cmocka_run_group_tests_name("nqn", tests, NULL, NULL);
}
