/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/connect-error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"

static const char *const class_table[_CONNECT_CLASS_MAX] = {
	[CONNECT_ALREADY] = "already-connected",
	[CONNECT_TRANSIENT] = "unreachable",
	[CONNECT_AUTH] = "authentication-failed",
	[CONNECT_DENIED] = "host-not-allowed",
	[CONNECT_INVALID] = "invalid-options",
	[CONNECT_NO_SUBSYS] = "not-exported",
};

const char *connect_class_to_string(enum connect_class c)
{
	return (unsigned)c < _CONNECT_CLASS_MAX ? class_table[c] : "unknown";
}

/* The kernel's words, most specific first (drivers/nvme/host/fabrics.c, auth.c). */
static const struct {
	const char *needle;
	enum connect_class cls;
	const char *reason;
} kernel_patterns[] = {
	{ "is not allowed", CONNECT_DENIED, "the target does not allow this host NQN" },
	{ "Invalid Host NQN", CONNECT_DENIED, "the target does not allow this host NQN" },
	{ "authentication failed", CONNECT_AUTH, "DH-HMAC-CHAP authentication failed" },
	{ "qid 0: error", CONNECT_AUTH, "DH-HMAC-CHAP authentication failed" },
	/* nvmet answers a subsystem it does not export on the port so (nvmet_alloc_ctrl) */
	{ "Invalid Data Parameter, subsysnqn", CONNECT_NO_SUBSYS, "the target does not export this subsystem on that port" },
	{ "Connect Invalid Parameters", CONNECT_INVALID, "the target refused the connect parameters" },
	{ "Connect Command Failed, Error wo/DNR", CONNECT_TRANSIENT, "the target refused the connect for now" },
	{ "rdma connection establishment failed", CONNECT_TRANSIENT, "RDMA connection establishment failed" },
	{ "Connect rejected", CONNECT_TRANSIENT, "the RDMA connect was rejected (nothing listens on that port?)" },
	{ "address resolution failed", CONNECT_TRANSIENT, "RDMA address resolution failed" },
	{ "route resolution failed", CONNECT_TRANSIENT, "RDMA route resolution failed" },
	{ "failed to connect socket", CONNECT_TRANSIENT, "the TCP connection failed" },
};

/* The kernel line that matched, trimmed of its "nvme nvmeN: " prefix, when short. */
static void with_line(char *reason, size_t size, const char *what, const char *line, size_t len)
{
	const char *colon = memmem(line, len, ": ", 2);

	if (colon && (size_t)(colon - line) < 24) {
		len -= (size_t)(colon + 2 - line);
		line = colon + 2;
	}
	snprintf(reason, size, "%s (kernel: %.*s)", what, (int)(len > 160 ? 160 : len), line);
}

/*
 * "failed to connect queue: 0 ret=N": a negative errno, or a positive NVMe
 * status (NVMe over Fabrics 1.1, 3.3 Connect response: 0x180 incompatible
 * format, 0x181 controller busy, 0x182 invalid parameters, 0x183 restart
 * discovery, 0x184 invalid host; 0x191 authentication required).
 */
static int classify_ret(long ret, const char *line, size_t len, char *reason, size_t size)
{
	if (ret < 0) {
		switch (-ret) {
		case ENOKEY:
		case EKEYREJECTED:
		case EKEYEXPIRED:
		case EKEYREVOKED:
		case EACCES:
			with_line(reason, size, "DH-HMAC-CHAP authentication failed", line, len);
			return CONNECT_AUTH;
		default:
			return -1;
		}
	}
	switch (ret & 0x7ff) {
	case 0x184:
		with_line(reason, size, "the target does not allow this host NQN", line, len);
		return CONNECT_DENIED;
	case 0x191:
		with_line(reason, size, "the target requires DH-HMAC-CHAP authentication", line, len);
		return CONNECT_AUTH;
	case 0x180:
	case 0x182:
		with_line(reason, size, "the target refused the connect parameters", line, len);
		return CONNECT_INVALID;
	default:
		with_line(reason, size, "the target refused the connect", line, len);
		return CONNECT_TRANSIENT;
	}
}

enum connect_class connect_classify(int err, const char *kernel_log, char *reason, size_t size)
{
	/* The kernel's words first: they are the most precise. */
	for (const char *line = kernel_log; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		const char *ret = memmem(line, len, "ret=", 4);
		int cls;

		for (size_t i = 0; i < ARRAY_SIZE(kernel_patterns); i++)
			if (memmem(line, len, kernel_patterns[i].needle, strlen(kernel_patterns[i].needle))) {
				with_line(reason, size, kernel_patterns[i].reason, line, len);
				return kernel_patterns[i].cls;
			}
		if (ret && memmem(line, len, "failed to connect queue", 23) &&
		    (cls = classify_ret(strtol(ret + 4, NULL, 0), line, len, reason, size)) >= 0)
			return (enum connect_class)cls;
		line = nl ? nl + 1 : NULL;
	}

	switch (-err) {
	case EALREADY:
		snprintf(reason, size, "already connected");
		return CONNECT_ALREADY;
	case ENOKEY:
	case EKEYREJECTED:
	case EKEYEXPIRED:
	case EKEYREVOKED:
		snprintf(reason, size, "DH-HMAC-CHAP authentication failed: %s", strerror(-err));
		return CONNECT_AUTH;
	case EINVAL:
	case EOPNOTSUPP:
	case ENODEV:
		snprintf(reason, size, "the kernel refused the connect options: %s", strerror(-err));
		return CONNECT_INVALID;
	case EADDRINUSE:
		snprintf(reason, size, "the host NQN is in use with another host ID: %s", strerror(-err));
		return CONNECT_INVALID;
	default:
		snprintf(reason, size, "%s", strerror(-err));
		return CONNECT_TRANSIENT;
	}
}
