/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files read whole: sysfs attributes, /etc/nvme/hostnqn, key files. */
#pragma once

#include <stddef.h>

/*
 * The first line of PATH into BUF, without its line end or trailing white
 * space. Returns 0, -ENODATA for an empty file, or the -errno of the open.
 */
int read_one_line(const char *path, char *buf, size_t size);
