/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's NVMe device names, told apart by their shape alone. */
#pragma once

#include <stdbool.h>

/* nvmeN: a controller (not nvme-fabrics, nvme-subsysN). */
bool devname_is_ctrl(const char *name);
/* nvmeXnY: a namespace block device (not a hidden path nvmeXcYnZ, not a partition). */
bool devname_is_ns(const char *name);
