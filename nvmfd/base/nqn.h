/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NVMe Qualified Names (NVMe Base Specification 2.0, 4.5 "NVMe Qualified
 * Names"): at most 223 bytes of UTF-8 by the specification, 222 for Linux,
 * which refuses a connect whose NQN has NVMF_NQN_SIZE (223) bytes or more
 * (drivers/nvme/host/fabrics.c, nvmf_parse_options): either
 *   nqn.yyyy-mm.<reverse domain>[:<string>]
 * or the UUID form
 *   nqn.2014-08.org.nvmexpress:uuid:xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx
 */
#pragma once

#include <stdbool.h>

#define NQN_MAX_LEN 222
#define NQN_DISCOVERY "nqn.2014-08.org.nvmexpress.discovery"

/*
 * Check NQN against the rules above. Returns 0, or -EINVAL with *ret_why
 * (when ret_why is not NULL) set to a static text saying which rule it
 * breaks.
 */
int nqn_check(const char *nqn, const char **ret_why);

/* A UUID as text: 8-4-4-4-12 hex digits. */
bool uuid_valid(const char *s);

static inline bool nqn_valid(const char *nqn)
{
	return nqn_check(nqn, (const char **)0) == 0;
}
