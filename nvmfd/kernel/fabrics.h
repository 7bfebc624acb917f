/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fabrics calls: connect, disconnect, read a discovery log. The one
 * place that uses libnvme (1.3 on Debian 12; its API changes in 3.x), behind
 * plain data.
 *
 * Every call here blocks in the kernel, uninterruptibly, and the kernel
 * serialises all connects: they run on worker threads, never on the event
 * loop (a connect to an unreachable RDMA port can take minutes). Each call
 * builds and frees its own libnvme tree, so calls on different threads share
 * nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/duration.h"
#include "core/ident.h"
#include "inventory/inventory.h"

struct fabrics_connect_args {
	struct ident id;
	char hostid[40];            /* "" : the kernel's */
	char dhchap_key[256];       /* the host's DH-HMAC-CHAP secret, or "" */
	char dhchap_ctrl_key[256];  /* the controller's, for bidirectional auth, or "" */
	struct inv_fabrics opts;
	bool discovery;             /* a discovery controller */
	bool persistent;            /* discovery: keep it (keep-alive, AENs) */
};

struct fabrics_result {
	int err;               /* 0, or a negative errno (-EIO where libnvme hid the kernel's) */
	char ctrl[32];         /* connect: the new controller, nvmeN */
	char kernel_log[1024]; /* the kernel's messages about a failed call: its own, not
				* another controller's (connect_log_select) */
	usec_t elapsed;
};

void fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret);
void fabrics_disconnect(const char *ctrl, struct fabrics_result *ret);

/*
 * Read the discovery log of discovery controller CTRL (nvmeN) as raw bytes
 * (header and entries, for disc_log_parse) into a malloc'ed *RAW. Every read
 * ends with the log read with Retain Asynchronous Event cleared, also after an
 * error half-way: the target sends the one-shot log-change AEN
 * (NVME_AEN=0x70f002) only once RAE is cleared, and libnvme 1.3 reads the
 * header with RAE set and returns early on an error.
 */
void fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret);
