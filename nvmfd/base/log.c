/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-journal.h>
#include <time.h>

static bool verbose;
static bool journal;

void log_setup(bool v)
{
	verbose = v;
	journal = getenv("JOURNAL_STREAM") != NULL;
}

bool log_debug_enabled(void)
{
	return verbose;
}

void log_full(int level, const struct log_ctx *ctx, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];

	if (level == LOG_DEBUG && !verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (journal) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level,
				"NVME_SUBSYSNQN=%s", ctx && ctx->subsysnqn ? ctx->subsysnqn : "",
				"NVME_TRADDR=%s", ctx && ctx->traddr ? ctx->traddr : "",
				"NVME_CTRL=%s", ctx && ctx->ctrl ? ctx->ctrl : "", NULL);
		return;
	}
	{
		struct timespec ts;
		static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };

		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "[%5lld.%03ld] %s: %s\n", (long long)ts.tv_sec, ts.tv_nsec / 1000000,
			names[level & 7], msg);
	}
}
