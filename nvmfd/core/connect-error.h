/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a failed fabrics connect means for retrying it. libnvme 1.3 maps the
 * kernel's errno to its own codes and folds most of them (EIO, ENOKEY,
 * EKEYREJECTED, timeouts) into "failed to write to nvme-fabrics device", so
 * the kernel's own log lines of the attempt are read as well: they say
 * "Connect for subsystem ... is not allowed" or "authentication failed".
 */
#pragma once

#include <stddef.h>

enum connect_class {
	CONNECT_ALREADY,   /* a controller with this identity exists: adopt it */
	CONNECT_TRANSIENT, /* unreachable, refused, timed out, reset: back off and retry */
	CONNECT_AUTH,      /* DH-HMAC-CHAP failed: retry only at the longest interval */
	CONNECT_DENIED,    /* the target does not allow this host NQN: likewise */
	CONNECT_INVALID,   /* options the kernel refuses: likewise */
	CONNECT_NO_SUBSYS, /* the target does not export the subsystem on that port: likewise */
	_CONNECT_CLASS_MAX,
};

const char *connect_class_to_string(enum connect_class c);

/* A failure whose class retries only at the longest interval. */
static inline int connect_class_is_permanent(enum connect_class c)
{
	return c == CONNECT_AUTH || c == CONNECT_DENIED || c == CONNECT_INVALID || c == CONNECT_NO_SUBSYS;
}

/*
 * Classify a failed connect. ERR is the negative errno the adapter reports:
 * the kernel's own where it is known, -EIO where libnvme hid it. KERNEL_LOG is
 * the kernel's messages during the attempt (one per line, may be NULL). The
 * reason, for status and logs, goes to REASON.
 */
enum connect_class connect_classify(int err, const char *kernel_log, char *reason, size_t size);
