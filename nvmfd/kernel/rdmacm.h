/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The RDMA CM's view of a target: resolve the address, then the route, then
 * send a connect request the target refuses. Each step records its outcome,
 * so a path that keeps failing says which step breaks, and a reject tells
 * whether anything listens on the port:
 *   - "invalid service ID" (IB CM reject reason 8): nothing listens there;
 *   - any other answer (nvmet rejects our malformed request, reason 28,
 *     consumer defined): the port is up.
 * The request carries an NVMe/RDMA private data record with an invalid
 * record format (NVMe over Fabrics 1.1, 7.3.2: recfmt 0), which nvmet
 * rejects before it allocates anything (drivers/nvme/target/rdma.c,
 * nvmet_rdma_parse_cm_connect_req: NVME_RDMA_CM_INVALID_RECFMT), quietly.
 *
 * librdmacm opens the device it resolves to and keeps it open for the life
 * of the process (librdmacm/cma.c: a device leaves its list only when a
 * later call notices it is gone), which would pin the device (see rdma.h).
 * So nvmfd runs these probes in a short-lived child (nvmfd --probe-rdma),
 * never in the daemon; nvmfctl doctor is short-lived itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum rdmacm_outcome {
	RDMACM_LISTENING,      /* the target answered the request: its port is up */
	RDMACM_NOT_LISTENING,  /* rejected: invalid service ID */
	RDMACM_ADDR_ERROR,     /* address resolution failed */
	RDMACM_ROUTE_ERROR,    /* route resolution failed */
	RDMACM_UNREACHABLE,    /* the request went unanswered */
	RDMACM_TIMEOUT,        /* no event in time */
	RDMACM_ERROR,          /* a local failure (no rdma_cm device, out of memory) */
	_RDMACM_OUTCOME_MAX,
};

struct rdmacm_result {
	enum rdmacm_outcome outcome;
	int err;               /* negative errno or CM status where there is one */
	bool resolved;         /* address and route resolved */
	char device[64];       /* the RDMA device the address resolved to */
	char detail[160];
};

const char *rdmacm_outcome_to_string(enum rdmacm_outcome o);
/* Parse a name back (the probe helper's output); -EINVAL if unknown. */
int rdmacm_outcome_from_string(const char *s);

/* Probe TRADDR:TRSVCID from SRC (NULL: the kernel picks), within TIMEOUT_MS. */
void rdmacm_probe(const char *traddr, const char *trsvcid, const char *src, int timeout_ms, struct rdmacm_result *r);

/*
 * Whether something on this machine listens on TRADDR:TRSVCID in the RDMA
 * CM's TCP port space (the one nvmet-rdma listens in): a bind there answers
 * EADDRINUSE (EADDRNOTAVAIL for a wildcard address) while a listener holds
 * it (drivers/infiniband/core/cma.c, cma_check_port). Returns 1 (held), 0
 * (free: nothing listens), or a negative errno when it cannot tell (-ENODEV:
 * no RDMA device has the address).
 */
int rdmacm_port_held(const char *traddr, const char *trsvcid);
