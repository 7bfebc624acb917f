/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/duration.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"

static const struct {
	const char *suffix;
	usec_t usec;
} units[] = {
	/* Longest suffix first within the same letter: "ms" before "m". */
	{ "h", USEC_PER_HOUR },
	{ "ms", USEC_PER_MSEC },
	{ "m", USEC_PER_MINUTE },
	{ "s", USEC_PER_SEC },
	{ "us", 1 },
};

static int unit_lookup(const char *p, size_t *ret_len, usec_t *ret_usec)
{
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		size_t n = strlen(units[i].suffix);

		if (strncmp(p, units[i].suffix, n) == 0 && !isalpha((unsigned char)p[n])) {
			*ret_len = n;
			*ret_usec = units[i].usec;
			return 0;
		}
	}
	return -EINVAL;
}

int duration_parse(const char *text, usec_t *ret)
{
	const char *p = text;
	usec_t total = 0, last_unit = UINT64_MAX;

	if (!text || !*text)
		return -EINVAL;

	while (*p) {
		usec_t n = 0, unit;
		size_t len;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			usec_t digit = (usec_t)(*p - '0');

			if (n > (UINT64_MAX - digit) / 10)
				return -ERANGE;
			n = n * 10 + digit;
		}
		if (unit_lookup(p, &len, &unit) < 0)
			return -EINVAL;
		/* Each unit at most once, largest first. */
		if (unit >= last_unit)
			return -EINVAL;
		last_unit = unit;
		p += len;
		if (n > UINT64_MAX / unit || total > UINT64_MAX - n * unit)
			return -ERANGE;
		total += n * unit;
	}
	*ret = total;
	return 0;
}

const char *duration_format(usec_t d, char buf[static DURATION_MAX])
{
	static const struct {
		const char *suffix;
		usec_t usec;
	} order[] = {
		{ "h", USEC_PER_HOUR }, { "m", USEC_PER_MINUTE }, { "s", USEC_PER_SEC },
		{ "ms", USEC_PER_MSEC }, { "us", 1 },
	};
	size_t off = 0;

	if (d == 0) {
		snprintf(buf, DURATION_MAX, "0s");
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(order) && d > 0; i++) {
		usec_t n = d / order[i].usec;

		if (n == 0)
			continue;
		/* Sub-second remainders read better as one figure: 1500ms, not 1s500ms. */
		if (order[i].usec == USEC_PER_SEC && d % USEC_PER_SEC != 0 && d < USEC_PER_MINUTE)
			continue;
		if (order[i].usec == USEC_PER_MSEC && d % USEC_PER_MSEC != 0)
			continue;
		off += (size_t)snprintf(buf + off, DURATION_MAX - off, "%llu%s", (unsigned long long)n,
					order[i].suffix);
		d -= n * order[i].usec;
	}
	return buf;
}
