/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A controller's full identity. nvmfd matches existing controllers on all of
 * it, as the kernel does when it answers a duplicate connect with EALREADY
 * (drivers/nvme/host/fabrics.c, nvmf_ip_options_match): adopting on less
 * (say, subsysnqn and traddr) would take another host's or another
 * interface's path for ours.
 */
#pragma once

#include <stdbool.h>

#include "inventory/inventory.h"

struct ident {
	char transport[8];
	char traddr[64];
	char trsvcid[16];
	char host_traddr[64]; /* "" when the kernel chose */
	char host_iface[16];  /* "" when any */
	char subsysnqn[224];
	char hostnqn[224];
};

/* Equal identities; addresses compare as addresses ("::1" is "0:0::1"). */
bool ident_equal(const struct ident *a, const struct ident *b);

/* The identity of endpoint E's subsystem SUBSYSNQN for host HOSTNQN. */
void ident_from_endpoint(struct ident *id, const struct inv_endpoint *e, const char *subsysnqn, const char *hostnqn);

/* "tcp 192.0.2.1:4420 nqn...." for messages (host side appended when set). */
const char *ident_to_string(const struct ident *id, char *buf, size_t size);
