/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void diags_add(struct diags *d, enum diag_level level, const char *file, unsigned line,
	       unsigned column, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

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
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	char *f = strdup(file ? file : "");
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
