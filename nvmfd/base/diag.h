/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Diagnostics about an input file, each as FILE:LINE:COLUMN: message. A
 * parser adds every problem it finds and goes on, so all errors in a file are
 * reported at once; the caller prints them. Like a compiler's, the report
 * keeps the first DIAGS_MAX errors (and as many warnings) and counts the
 * rest, so a file with an error on every line costs no more than its reading.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/macro.h"

#define DIAGS_MAX 100

enum diag_level {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag {
	enum diag_level level;
	char *file;
	unsigned line, column; /* 1-based; 0 when the problem has no place */
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n, cap;
	size_t n_errors;          /* every error, kept or not */
	size_t n_dropped_errors;  /* past DIAGS_MAX: counted, not kept */
	size_t n_dropped_warnings;
	bool oom;
};

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
	       unsigned column, const char *fmt, ...) _printf_(6, 7);
void diags_addv(struct diags *d, enum diag_level level, const char *file, unsigned line,
		unsigned column, const char *fmt, va_list ap) _printf_(6, 0);
/* Whether the next diagnostic of LEVEL would only be counted (callers may
 * skip building its message). */
bool diags_full(const struct diags *d, enum diag_level level);
/* "FILE:LINE:COLUMN: error: message" lines, in the order they were added,
 * then "(N more errors not shown)" when some were only counted. */
void diags_print(const struct diags *d, FILE *f);
void diags_clear(struct diags *d);
