/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kernel's own messages around an operation, from /dev/kmsg: opened at
 * its end before the operation, read after it. libnvme 1.3 reports most
 * connect failures as "failed to write to nvme-fabrics device"; the kernel
 * says why ("Connect for subsystem ... is not allowed", "failed to connect
 * queue: 0 ret=-126").
 */
#pragma once

#include <stddef.h>

/* A reader positioned at the end of the log, or -errno (no /dev/kmsg: fine to ignore). */
int kmsg_open(const char *path);
/* A reader of all the ring still holds (what was said before), or -errno. */
int kmsg_open_all(const char *path);

/*
 * Append to BUF the messages logged since, one per line, that contain one of
 * the NULL-terminated WORDS (NULL: all); when they do not all fit, the
 * oldest lines give way. Every controller's messages are there: the lines of
 * one call are chosen with connect_log_select. Never blocks. Closes FD.
 */
void kmsg_collect(int fd, const char *const *words, char *buf, size_t size);
