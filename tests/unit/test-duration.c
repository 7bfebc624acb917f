/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>

#include "base/duration.h"
#include "base/macro.h"

static void duration_test_parses_each_unit(void **state _unused_)
{
	usec_t d;

	assert_int_equal(duration_parse("250us", &d), 0);
	assert_int_equal(d, 250);
	assert_int_equal(duration_parse("500ms", &d), 0);
	assert_int_equal(d, 500 * USEC_PER_MSEC);
	assert_int_equal(duration_parse("2s", &d), 0);
	assert_int_equal(d, 2 * USEC_PER_SEC);
	assert_int_equal(duration_parse("5m", &d), 0);
	assert_int_equal(d, 5 * USEC_PER_MINUTE);
	assert_int_equal(duration_parse("1h", &d), 0);
	assert_int_equal(d, USEC_PER_HOUR);
	assert_int_equal(duration_parse("0s", &d), 0);
	assert_int_equal(d, 0);
}

static void duration_test_parses_compound(void **state _unused_)
{
	usec_t d;

	assert_int_equal(duration_parse("1m30s", &d), 0);
	assert_int_equal(d, 90 * USEC_PER_SEC);
	assert_int_equal(duration_parse("1h2m3s4ms5us", &d), 0);
	assert_int_equal(d, USEC_PER_HOUR + 2 * USEC_PER_MINUTE + 3 * USEC_PER_SEC + 4 * USEC_PER_MSEC + 5);
}

static void duration_test_rejects_bad_text(void **state _unused_)
{
	static const char *const bad[] = {
		"", "30", "s", "2 s", "2S", "-1s", "1.5s", "2sec", "30s1m", "1s1s", "1m1m", "2x", "ms",
	};
	usec_t d = 77;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(duration_parse(bad[i], &d), -EINVAL);
		assert_int_equal(d, 77); /* untouched on error */
	}
	assert_int_equal(duration_parse(NULL, &d), -EINVAL);
}

static void duration_test_rejects_overflow(void **state _unused_)
{
	usec_t d;

	assert_int_equal(duration_parse("99999999999999999999s", &d), -ERANGE);
	assert_int_equal(duration_parse("18446744073709551615h", &d), -ERANGE);
	assert_int_equal(duration_parse("18446744073709551615us", &d), 0);
	assert_true(d == UINT64_MAX);
}

static void duration_test_format_round_trips(void **state _unused_)
{
	static const usec_t values[] = {
		0, 1, 999, 1000, 1500, 999999, USEC_PER_SEC, 1500 * USEC_PER_MSEC, 90 * USEC_PER_SEC,
		61500 * USEC_PER_MSEC, USEC_PER_HOUR + 1, 600 * USEC_PER_SEC, UINT64_MAX,
	};
	char buf[DURATION_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		usec_t back = 0;

		duration_format(values[i], buf);
		assert_int_equal(duration_parse(buf, &back), 0);
		assert_true(back == values[i]);
	}
	assert_string_equal(duration_format(0, buf), "0s");
	assert_string_equal(duration_format(500 * USEC_PER_MSEC, buf), "500ms");
	assert_string_equal(duration_format(1500 * USEC_PER_MSEC, buf), "1500ms");
	assert_string_equal(duration_format(90 * USEC_PER_SEC, buf), "1m30s");
	assert_string_equal(duration_format(600 * USEC_PER_SEC, buf), "10m");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(duration_test_parses_each_unit),
		cmocka_unit_test(duration_test_parses_compound),
		cmocka_unit_test(duration_test_rejects_bad_text),
		cmocka_unit_test(duration_test_rejects_overflow),
		cmocka_unit_test(duration_test_format_round_trips),
	};
	return cmocka_run_group_tests_name("duration", tests, NULL, NULL);
}
