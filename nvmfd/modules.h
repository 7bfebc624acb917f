/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading kernel modules with libkmod, as modprobe does (dependencies,
 * aliases such as nvme-rdma for nvme_rdma, options). A module that fails is
 * reported by name and the rest go on.
 */
#pragma once

#include "diag.h"

/*
 * Load each of NAMES (OPTIONS[i] its parameters, or NULL). Every failure is
 * added to DIAGS as "module NAME: reason", under WHO (the inventory or the
 * program). Returns 0 when all loaded, else the first negative errno.
 */
int modules_load(const char *const *names, const char *const *options, size_t n, const char *who,
		 struct diags *diags);
