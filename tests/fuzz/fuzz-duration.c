/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Durations: the input as text to parse, and its first eight bytes as a
 * value to format. Oracles: what parses formats to text that fits and
 * parses back to the same value, formatted the same; every value formats
 * to text that parses back to it.
 */
#include <errno.h>
#include <string.h>

#include "base/duration.h"
#include "base/macro.h"
#include "fuzz.h"

static void check_format(usec_t d)
{
	char text[DURATION_MAX], again[DURATION_MAX];
	usec_t back = 0;
	int r;

	duration_format(d, text);
	if (strnlen(text, sizeof(text)) >= sizeof(text) - 1)
		fuzz_fail("%llu us formats to text that fills its buffer", (unsigned long long)d);
	r = duration_parse(text, &back);
	if (r < 0 || back != d)
		fuzz_fail("%llu us formats as '%s', which parses to %llu (%d)", (unsigned long long)d, text,
			  (unsigned long long)back, r);
	if (!streq(duration_format(back, again), text))
		fuzz_fail("'%s' formats again as '%s'", text, again);
}

static void check_parse(const char *text)
{
	usec_t d = 0;
	int r = duration_parse(text, &d);

	if (r != 0 && r != -EINVAL && r != -ERANGE)
		fuzz_fail("duration_parse('%s') returned %d", text, r);
	if (r == 0)
		check_format(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_strndup(data, size);
	usec_t d = 0;

	check_parse(text);
	for (size_t i = 0; i < size && i < sizeof(d); i++)
		d = d << 8 | data[i];
	check_format(d);
	return 0;
}
