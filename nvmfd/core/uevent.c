/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/uevent.h"

#include <string.h>

#include "base/macro.h"
#include "core/devname.h"

static const char *const kind_table[_UEVENT_KIND_MAX] = {
	[UEVENT_IGNORE] = "ignore",
	[UEVENT_CTRL_ADD] = "ctrl-add",
	[UEVENT_CTRL_CONNECTED] = "ctrl-connected",
	[UEVENT_CTRL_REMOVE] = "ctrl-remove",
	[UEVENT_DISCOVERY_CHANGED] = "discovery-changed",
	[UEVENT_NS_ADD] = "ns-add",
	[UEVENT_NS_REMOVE] = "ns-remove",
	[UEVENT_RDMA_ADD] = "rdma-add",
	[UEVENT_RDMA_REMOVE] = "rdma-remove",
	[UEVENT_NET_CHANGE] = "net-change",
};

const char *uevent_kind_to_string(enum uevent_kind k)
{
	return (unsigned)k < _UEVENT_KIND_MAX ? kind_table[k] : "?";
}

enum uevent_kind uevent_translate(const char *action, const char *subsystem, const char *sysname,
				  const char *devtype, const char *nvme_event, const char *nvme_aen)
{
	if (!action || !subsystem)
		return UEVENT_IGNORE;
	if (streq(subsystem, "nvme") && devname_is_ctrl(sysname)) {
		if (streq(action, "add"))
			return UEVENT_CTRL_ADD;
		if (streq(action, "remove"))
			return UEVENT_CTRL_REMOVE;
		if (streq(action, "change") && streq_ptr(nvme_event, "connected"))
			return UEVENT_CTRL_CONNECTED;
		if (streq(action, "change") && streq_ptr(nvme_aen, NVME_AEN_DISC_CHANGED))
			return UEVENT_DISCOVERY_CHANGED;
		return UEVENT_IGNORE;
	}
	if (streq(subsystem, "block") && streq_ptr(devtype, "disk") && devname_is_ns(sysname)) {
		if (streq(action, "add"))
			return UEVENT_NS_ADD;
		if (streq(action, "remove"))
			return UEVENT_NS_REMOVE;
		return UEVENT_IGNORE;
	}
	if (streq(subsystem, "infiniband")) {
		if (streq(action, "add"))
			return UEVENT_RDMA_ADD;
		if (streq(action, "remove"))
			return UEVENT_RDMA_REMOVE;
		return UEVENT_IGNORE;
	}
	if (streq(subsystem, "net") && (streq(action, "add") || streq(action, "change") || streq(action, "move")))
		return UEVENT_NET_CHANGE;
	return UEVENT_IGNORE;
}
