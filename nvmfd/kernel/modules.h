/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading kernel modules with libkmod, as modprobe does (dependencies,
 * aliases such as nvme-rdma for nvme_rdma, options). A module that fails is
 * reported by name and the rest go on.
 */
#pragma once

#include <stddef.h>

#include "base/diag.h"
#include "inventory/inventory.h"

/*
 * Load each of NAMES (OPTIONS[i] its parameters, or NULL). Every failure is
 * added to DIAGS as "module NAME: reason", under WHO (the inventory or the
 * program). Returns 0 when all loaded, else the first negative errno.
 */
int modules_load(const char *const *names, const char *const *options, size_t n, const char *who,
		 struct diags *diags);

/* The modules a host entry needs: its own list, nvme-fabrics, and each of its
 * transports' (nvme-rdma, nvme-tcp); at most MAX names, into NAMES. */
size_t modules_for_host(const struct inv_host *h, const char **names, size_t max);

/* Those endpoint E needs (its own transport's), added after the N names
 * already in NAMES, each once; returns the new count. */
size_t modules_for_endpoint(const struct inv_host *h, const struct inv_endpoint *e, const char **names, size_t n,
			    size_t max);

/* Whether NAME (a module, or an alias such as nvme-rdma) is loaded or built
 * in: 1, 0, or a negative errno. */
int modules_loaded(const char *name);
