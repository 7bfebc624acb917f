/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

bool diags_full(const struct diags *d, enum diag_level level)
{
	size_t errors = d->n_errors - d->n_dropped_errors;

	switch (level) {
	case DIAG_ERROR:
		return errors >= DIAGS_MAX;
	case DIAG_WARNING:
		return d->n - errors >= DIAGS_MAX;
	}
	return true;
}

static void count_dropped(struct diags *d, enum diag_level level)
{
	switch (level) {
	case DIAG_ERROR:
		d->n_dropped_errors++;
		d->n_errors++;
		return;
	case DIAG_WARNING:
		d->n_dropped_warnings++;
		return;
	}
}

void diags_addv(struct diags *d, enum diag_level level, const char *file, unsigned line,
		unsigned column, const char *fmt, va_list ap)
{
	char *msg = NULL, *f;

	if (diags_full(d, level)) {
		count_dropped(d, level);
		return;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct diag *v = realloc(d->v, cap * sizeof(*v));

		if (!v) {
			d->oom = true;
			return;
		}
		d->v = v;
		d->cap = cap;
	}
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	f = strdup(file ? file : "");
	if (!msg || !f) {
		free(msg);
		free(f);
		d->oom = true;
		return;
	}
	d->v[d->n++] = (struct diag){ level, f, line, column, msg };
	if (level == DIAG_ERROR)
		d->n_errors++;
}

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
	       unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diags_addv(d, level, file, line, column, fmt, ap);
	va_end(ap);
}

static void print_dropped(const struct diags *d, FILE *f)
{
	size_t e = d->n_dropped_errors, w = d->n_dropped_warnings;

	if (!e && !w)
		return;
	fputc('(', f);
	if (e)
		fprintf(f, "%zu more error%s", e, e == 1 ? "" : "s");
	if (w)
		fprintf(f, "%s%zu more warning%s", e ? " and " : "", w, w == 1 ? "" : "s");
	fputs(" not shown)\n", f);
}

void diags_print(const struct diags *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];
		const char *lvl = x->level == DIAG_ERROR ? "error" : "warning";

		if (x->line)
			fprintf(f, "%s:%u:%u: %s: %s\n", x->file, x->line, x->column, lvl, x->msg);
		else
			fprintf(f, "%s: %s: %s\n", x->file, lvl, x->msg);
	}
	print_dropped(d, f);
	if (d->oom)
		fprintf(f, "(out of memory: some diagnostics were lost)\n");
}

void diags_clear(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].msg);
	}
	free(d->v);
	*d = (struct diags){ 0 };
}
