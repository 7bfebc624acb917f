/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Durations as admins write them: "500ms", "2s", "5m", "1h", "1m30s".
 * Values are kept in microseconds.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef uint64_t usec_t;

#define USEC_PER_MSEC ((usec_t)1000)
#define USEC_PER_SEC ((usec_t)1000000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MINUTE)

/* The longest text duration_format() writes, with its NUL. */
#define DURATION_MAX 32

/*
 * Parse TEXT: one or more <digits><unit> with unit us, ms, s, m or h, in
 * descending order ("1m30s", not "30s1m"). A unit is required: "30" is
 * ambiguous between seconds and milliseconds. Returns 0, -EINVAL for text
 * that is not a duration, -ERANGE when it does not fit.
 */
int duration_parse(const char *text, usec_t *ret);

/* Write D as the shortest exact text duration_parse() reads back. */
const char *duration_format(usec_t d, char buf[static DURATION_MAX]);
