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

#include "core/ident.h"

enum connect_class {
	CONNECT_ALREADY,   /* a controller with this identity exists: adopt it */
	CONNECT_TRANSIENT, /* unreachable, refused, timed out, reset: back off and retry */
	CONNECT_AUTH,      /* DH-HMAC-CHAP failed: retry only at the longest interval */
	CONNECT_DENIED,    /* the target does not allow this host NQN: likewise */
	CONNECT_INVALID,   /* options the kernel refuses: likewise */
	CONNECT_NO_SUBSYS, /* the target does not export the subsystem on that port: likewise */
	/* The kernel (6.5 and later, nvmf_host_add) takes one host ID per host
	 * NQN and one host NQN per host ID while any controller holds them: a
	 * connect with another pair is refused (EINVAL). It clears once those
	 * controllers are gone (a host identity being changed): back off and retry. */
	CONNECT_HOST_CONFLICT,
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
 * the kernel's own where it is known, -EIO where libnvme hid it (anything
 * that is no negative errno counts as -EIO). KERNEL_LOG is the kernel's
 * messages of the attempt (one per line, may be NULL: connect_log_select's
 * choice). The reason, for status and logs, goes to REASON.
 */
enum connect_class connect_classify(int err, const char *kernel_log, char *reason, size_t size);

/*
 * What the kernel's lines must speak of to be taken as one call's: /dev/kmsg
 * holds every controller's messages, and a controller that reconnects by
 * itself while we connect (refused, say) must not give our path its reason.
 */
struct connect_scope {
	const struct ident *id;     /* the path connected: its address, host side and NQNs; or NULL */
	const char *ctrl;           /* its controller (nvmeN) when known, as for a log read; or NULL */
	const char *const *before;  /* the controllers there before the call, NULL-terminated; NULL: none */
};

/*
 * Copy to RET, whole, the lines of KERNEL_LOG that are about scope S. A line
 * of controller nvmeN ("nvme nvmeN: ...") is taken when N is S's controller;
 * when that is not known (a connect that failed never says which number the
 * kernel gave it), when N was not there before the call and none of its
 * lines names another path (the kernel creates one controller at a time,
 * under nvmf_dev_mutex), or when the line itself names S's path and N is no
 * older controller. A line of no controller ("nvme_fabrics: ...",
 * "nvme_tcp: ...") is taken when it names the path (its subsystem or host
 * NQN, its address) and nothing that differs from it. Returns how many lines
 * were taken, or -ENOMEM (RET is then empty).
 */
int connect_log_select(const char *kernel_log, const struct connect_scope *s, char *ret, size_t size);
