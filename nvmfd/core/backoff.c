/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/backoff.h"

usec_t backoff_delay(const struct inv_backoff *b, unsigned attempt, uint32_t random)
{
	usec_t d = b->initial;
	int64_t span, offset;

	for (unsigned i = 0; i < attempt && d < b->max; i++)
		d = d > b->max / 2 ? b->max : d * 2;
	if (d > b->max)
		d = b->max;
	/* +/- jitter%: offset in [-span, +span], from RANDOM. */
	span = (int64_t)(d * b->jitter_pct / 100);
	if (span == 0)
		return d;
	offset = (int64_t)(random % (uint64_t)(2 * span + 1)) - span;
	return (usec_t)((int64_t)d + offset);
}
