/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's identity for fabrics connects: hostnqn and hostid from the
 * inventory entry, else from /etc/nvme/hostnqn and /etc/nvme/hostid (as
 * nvme-cli and libnvme use them).
 */
#pragma once

#include "base/diag.h"
#include "inventory/inventory.h"

#define HOSTNQN_FILE SYSCONFDIR "/nvme/hostnqn"
#define HOSTID_FILE SYSCONFDIR "/nvme/hostid"

struct host_identity {
	char hostnqn[224];
	char hostid[37];
	const char *hostnqn_from; /* "the inventory" or the file */
	const char *hostid_from;
};

/*
 * Resolve H's identity, reading the files under ETC_NVME (NULL: the default
 * files) where the entry gives none. Problems go to DIAGS: a missing or
 * invalid value is an error (-ENOENT, -EINVAL); a hostid that differs from the
 * UUID in a UUID-form hostnqn is a warning (the kernel refuses one hostid
 * under two host NQNs, and targets often derive one from the other).
 */
int host_identity_resolve(const struct inventory *inv, const struct inv_host *h, const char *etc_nvme,
			  struct diags *diags, struct host_identity *ret);
