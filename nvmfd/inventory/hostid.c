/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "inventory/hostid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/fileio.h"
#include "base/macro.h"
#include "base/nqn.h"

#define UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

int host_identity_resolve(const struct inventory *inv, const struct inv_host *h, const char *etc_nvme,
			  struct diags *diags, struct host_identity *ret)
{
	char nqn_file[256], id_file[256];
	const char *why;
	int r = 0, k;

	snprintf(nqn_file, sizeof(nqn_file), "%s/hostnqn", etc_nvme ? etc_nvme : SYSCONFDIR "/nvme");
	snprintf(id_file, sizeof(id_file), "%s/hostid", etc_nvme ? etc_nvme : SYSCONFDIR "/nvme");
	*ret = (struct host_identity){ 0 };

	if (h->hostnqn) {
		snprintf(ret->hostnqn, sizeof(ret->hostnqn), "%s", h->hostnqn);
		ret->hostnqn_from = "the inventory";
	} else if ((k = read_one_line(nqn_file, ret->hostnqn, sizeof(ret->hostnqn))) < 0) {
		diags_add(diags, DIAG_ERROR, inv->path, h->loc.line, h->loc.column,
			  "host %s has no hostnqn and %s cannot be read (%s): write hostnqn in the inventory or run `nvme gen-hostnqn > %s`",
			  h->name, nqn_file, fileio_strerror(k), nqn_file);
		r = k;
	} else if (nqn_check(ret->hostnqn, &why) < 0) {
		diags_add(diags, DIAG_ERROR, nqn_file, 1, 1, "'%s' is not a valid host NQN: %s", ret->hostnqn, why);
		r = -EINVAL;
	} else {
		ret->hostnqn_from = HOSTNQN_FILE;
	}

	if (h->hostid) {
		snprintf(ret->hostid, sizeof(ret->hostid), "%s", h->hostid);
		ret->hostid_from = "the inventory";
	} else if ((k = read_one_line(id_file, ret->hostid, sizeof(ret->hostid))) < 0) {
		/* Without a hostid the kernel makes one up per connect: allowed, but the
		 * identity then changes across reconnects. */
		diags_add(diags, DIAG_WARNING, inv->path, h->loc.line, h->loc.column,
			  "host %s has no hostid and %s cannot be read (%s); the kernel will choose one",
			  h->name, id_file, fileio_strerror(k));
		ret->hostid[0] = '\0';
	} else if (!uuid_valid(ret->hostid)) {
		diags_add(diags, DIAG_ERROR, id_file, 1, 1, "'%s' is not a UUID", ret->hostid);
		r = r ?: -EINVAL;
	} else {
		ret->hostid_from = HOSTID_FILE;
	}

	if (r == 0 && ret->hostid[0] && strncmp(ret->hostnqn, UUID_NQN_PREFIX, strlen(UUID_NQN_PREFIX)) == 0 &&
	    strcasecmp(ret->hostnqn + strlen(UUID_NQN_PREFIX), ret->hostid) != 0)
		diags_add(diags, DIAG_WARNING, inv->path, h->loc.line, h->loc.column,
			  "host %s: hostid %s (from %s) differs from the UUID in hostnqn %s (from %s)", h->name,
			  ret->hostid, ret->hostid_from, ret->hostnqn, ret->hostnqn_from);
	return r;
}
