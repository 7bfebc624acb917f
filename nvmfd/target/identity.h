/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A target's identity that survives a rebuild. nvmet gives every namespace
 * it creates a random UUID and NGUID, and every subsystem a random serial
 * number, unless told; a host's kernel drops a namespace whose identifiers
 * change ("identifiers changed for nsid N"), and its multipath head keeps a
 * namespace only while they stay the same. So where the inventory gives
 * none, nvmetcfg derives them from names that do not change: the subsystem's
 * NQN and the nsid, hashed as RFC 9562 name-based UUIDs (version 5, SHA-1)
 * in a namespace of nvmetcfg's own. The same inventory on any machine, on
 * any boot, gives the same values.
 */
#pragma once

#include <stdint.h>

/* The kernel prints UUIDs and NGUIDs as 36 characters ("%pUb"). */
#define NVMET_ID_LEN 37
/* A serial number: 16 hex digits (the kernel takes up to 20 printable ASCII). */
#define NVMET_SERIAL_LEN 17

/* Namespace NSID of subsystem NQN: its UUID (version 5 of "NQN/NSID") and NGUID
 * (the last 16 bytes of the same SHA-1 digest), lower-case. 0 or -ENOMEM. */
int nvmet_derive_ns_ids(const char *nqn, uint32_t nsid, char uuid[NVMET_ID_LEN], char nguid[NVMET_ID_LEN]);

/* Subsystem NQN's serial number, from the SHA-1 digest of "serial/NQN". 0 or -ENOMEM. */
int nvmet_derive_serial(const char *nqn, char serial[NVMET_SERIAL_LEN]);
