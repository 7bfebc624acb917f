/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * uevent translation, on property sets as `udevadm monitor --property`
 * prints them: KEY=VALUE lines, events apart by a blank line. The sysname is
 * DEVPATH's last part ('!' for '/', as libudev has it) and the AEN falls
 * back to NVMFD_AEN, as the manager reads them. Oracle: the kind agrees with
 * the table in core/uevent.h, checked here with name shapes of its own.
 */
#include <stdbool.h>
#include <string.h>

#include "base/macro.h"
#include "core/uevent.h"
#include "fuzz.h"

struct event {
	const char *action, *subsystem, *devpath, *devtype, *nvme_event, *nvme_aen, *nvmfd_aen;
	char sysname[256];
};

static void set(struct event *e, char *line)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "ACTION=", offsetof(struct event, action) },
		{ "SUBSYSTEM=", offsetof(struct event, subsystem) },
		{ "DEVPATH=", offsetof(struct event, devpath) },
		{ "DEVTYPE=", offsetof(struct event, devtype) },
		{ "NVME_EVENT=", offsetof(struct event, nvme_event) },
		{ "NVME_AEN=", offsetof(struct event, nvme_aen) },
		{ "NVMFD_AEN=", offsetof(struct event, nvmfd_aen) },
	};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0)
			*(const char **)((char *)e + keys[i].off) = line + strlen(keys[i].key);
}

static const char *sysname(struct event *e)
{
	const char *slash;

	if (!e->devpath)
		return NULL;
	slash = strrchr(e->devpath, '/');
	snprintf(e->sysname, sizeof(e->sysname), "%s", slash ? slash + 1 : e->devpath);
	for (char *c = e->sysname; *c; c++)
		if (*c == '!')
			*c = '/';
	return e->sysname;
}

/* S is PATTERN, where '#' stands for one or more digits. */
static bool shaped(const char *s, const char *pattern)
{
	if (!s)
		return false;
	for (; *pattern; pattern++) {
		if (*pattern != '#') {
			if (*s++ != *pattern)
				return false;
			continue;
		}
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static enum uevent_kind add_remove(const char *action, enum uevent_kind add, enum uevent_kind remove)
{
	if (streq(action, "add"))
		return add;
	if (streq(action, "remove"))
		return remove;
	return UEVENT_IGNORE;
}

static enum uevent_kind want_ctrl(const char *action, const char *nvme_event, const char *aen)
{
	if (!streq(action, "change"))
		return add_remove(action, UEVENT_CTRL_ADD, UEVENT_CTRL_REMOVE);
	if (streq_ptr(nvme_event, "connected"))
		return UEVENT_CTRL_CONNECTED;
	if (streq_ptr(aen, NVME_AEN_DISC_CHANGED))
		return UEVENT_DISCOVERY_CHANGED;
	return UEVENT_IGNORE;
}

static enum uevent_kind want(const char *action, const char *subsystem, const char *name, const char *devtype,
			     const char *nvme_event, const char *aen)
{
	if (!action || !subsystem)
		return UEVENT_IGNORE;
	if (streq(subsystem, "nvme") && shaped(name, "nvme#"))
		return want_ctrl(action, nvme_event, aen);
	if (streq(subsystem, "block") && streq_ptr(devtype, "disk") && shaped(name, "nvme#n#"))
		return add_remove(action, UEVENT_NS_ADD, UEVENT_NS_REMOVE);
	if (streq(subsystem, "infiniband"))
		return add_remove(action, UEVENT_RDMA_ADD, UEVENT_RDMA_REMOVE);
	if (streq(subsystem, "net") && (streq(action, "add") || streq(action, "change") || streq(action, "move")))
		return UEVENT_NET_CHANGE;
	return UEVENT_IGNORE;
}

static void translate(struct event *e)
{
	const char *aen = e->nvme_aen && *e->nvme_aen ? e->nvme_aen : e->nvmfd_aen;
	const char *name = sysname(e);
	enum uevent_kind k = uevent_translate(e->action, e->subsystem, name, e->devtype, e->nvme_event, aen);
	enum uevent_kind w = want(e->action, e->subsystem, name, e->devtype, e->nvme_event, aen);

	if ((unsigned)k >= _UEVENT_KIND_MAX || streq(uevent_kind_to_string(k), "?"))
		fuzz_fail("uevent_translate returned %d", k);
	if (k != w)
		fuzz_fail("%s %s %s: %s, want %s", strempty(e->action), strempty(e->subsystem), strempty(name),
			  uevent_kind_to_string(k), uevent_kind_to_string(w));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *text = fuzz_strndup(data, size);
	struct event e = { 0 };
	char *line = text;

	for (bool more = true; more;) {
		size_t n = strcspn(line, "\n");

		more = line[n] == '\n';
		line[n] = '\0';
		if (n == 0 || !more) {
			set(&e, line);
			translate(&e);
			e = (struct event){ 0 };
		} else {
			set(&e, line);
		}
		line += n + more;
	}
	return 0;
}
