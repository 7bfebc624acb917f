/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Logging for the loop owners (the manager, the mains): to the journal with
 * structured fields when systemd runs us (JOURNAL_STREAM is set), to stderr
 * otherwise. Library code returns errors and logs at most at debug.
 */
#pragma once

#include <stdbool.h>
#include <syslog.h>

#include "base/macro.h"

/* Fields a message is about; any may be NULL. */
struct log_ctx {
	const char *subsysnqn;
	const char *traddr;
	const char *ctrl;
};

void log_setup(bool verbose);
bool log_debug_enabled(void);
void log_full(int level, const struct log_ctx *ctx, const char *fmt, ...) _printf_(3, 4);

#define log_error(...) log_full(LOG_ERR, NULL, __VA_ARGS__)
#define log_warning(...) log_full(LOG_WARNING, NULL, __VA_ARGS__)
#define log_notice(...) log_full(LOG_NOTICE, NULL, __VA_ARGS__)
#define log_info(...) log_full(LOG_INFO, NULL, __VA_ARGS__)
#define log_debug(...) log_full(LOG_DEBUG, NULL, __VA_ARGS__)
