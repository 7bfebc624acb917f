/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Diagnostics about an input file, each as FILE:LINE:COLUMN: message. A
 * parser adds every problem it finds and goes on, so all errors in a file are
 * reported at once; the caller prints them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/macro.h"

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
	size_t n_errors;
	bool oom;
};

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
	       unsigned column, const char *fmt, ...) _printf_(6, 7);
/* "FILE:LINE:COLUMN: error: message" lines, in the order they were added. */
void diags_print(const struct diags *d, FILE *f);
void diags_clear(struct diags *d);
