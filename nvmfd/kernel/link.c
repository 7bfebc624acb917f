/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/link.h"

#include <dirent.h>
#include <stdio.h>

#include "base/macro.h"

static const char *const status_table[_LINK_STATUS_MAX] = {
	[LINK_READY] = "ready",
	[LINK_UNKNOWN] = "unknown",
	[LINK_NO_SOURCE] = "no-source",
	[LINK_NO_ROUTE] = "no-route",
	[LINK_IF_DOWN] = "interface-down",
	[LINK_NO_CARRIER] = "no-carrier",
	[LINK_NO_RDMA_DEVICE] = "no-rdma-device",
	[LINK_PORT_DOWN] = "port-down",
};

const char *link_status_to_string(enum link_status s)
{
	return (unsigned)s < _LINK_STATUS_MAX ? status_table[s] : "?";
}

enum link_status link_judge(const struct link_facts *f, char *why, size_t size)
{
	if (f->route_err == -ENODEV) {
		snprintf(why, size, "interface %s does not exist", f->host_iface);
		return LINK_NO_SOURCE;
	}
	if (f->route_err == -EADDRNOTAVAIL) {
		if (f->host_traddr[0])
			snprintf(why, size, "source address %s is not configured on any interface", f->host_traddr);
		else
			snprintf(why, size, "the source address for %s is not configured on any interface", f->traddr);
		return LINK_NO_SOURCE;
	}
	if (f->route_err < 0 && f->route.ifname[0] && f->netdev_err == 0 && !f->netdev.admin_up) {
		snprintf(why, size, "interface %s is down (no route to %s)", f->route.ifname, f->traddr);
		return LINK_IF_DOWN;
	}
	if (f->route_err < 0) {
		snprintf(why, size, "no route to %s: %s", f->traddr, strerror(-f->route_err));
		return LINK_NO_ROUTE;
	}
	if (f->netdev_err < 0) {
		snprintf(why, size, "interface %s: %s", f->route.ifname, strerror(-f->netdev_err));
		return LINK_UNKNOWN;
	}
	if (!f->netdev.admin_up) {
		snprintf(why, size, "interface %s is down", f->route.ifname);
		return LINK_IF_DOWN;
	}
	if (!f->netdev.carrier) {
		snprintf(why, size, "interface %s has no carrier (%s)", f->route.ifname, f->netdev.operstate);
		return LINK_NO_CARRIER;
	}
	if (!f->rdma) {
		snprintf(why, size, "%s via %s", f->route.src, f->route.ifname);
		return LINK_READY;
	}
	if (!f->dev) {
		if (!f->rdma_known) {
			snprintf(why, size, "the RDMA devices cannot be listed (is ib_uverbs loaded?)");
			return LINK_UNKNOWN;
		}
		snprintf(why, size, "no RDMA device is bound to %s", f->route.ifname);
		return LINK_NO_RDMA_DEVICE;
	}
	if (!f->port || !f->port->active) {
		snprintf(why, size, "%s port %u is %s", f->dev->name, f->port ? f->port->num : 1,
			 f->port ? f->port->state : "unknown");
		return LINK_PORT_DOWN;
	}
	snprintf(why, size, "%s via %s, %s port %u %s", f->route.src, f->route.ifname, f->dev->name, f->port->num,
		 f->port->state);
	return LINK_READY;
}

static size_t count_sysfs_devices(const char *sysfs)
{
	char path[512];
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/class/infiniband", sysfs);
	d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

void rdma_view_clear(struct rdma_view *v)
{
	free(v->devs);
	*v = (struct rdma_view){ 0 };
}

void link_gather(const char *sysfs, const struct ident *id, struct rdma_view *v, struct link_facts *f)
{
	*f = (struct link_facts){ .rdma = streq(id->transport, "rdma") };
	snprintf(f->traddr, sizeof(f->traddr), "%s", id->traddr);
	snprintf(f->host_traddr, sizeof(f->host_traddr), "%s", id->host_traddr);
	snprintf(f->host_iface, sizeof(f->host_iface), "%s", id->host_iface);
	f->route_err = netroute_lookup(id->traddr, id->host_traddr, id->host_iface, &f->route);
	f->netdev_err = f->route.ifname[0] ? netdev_read(sysfs, f->route.ifname, &f->netdev) : -ENOENT;
	if (f->route_err < 0)
		return;
	if (!f->rdma)
		return;
	if (!v->scanned) {
		size_t listed = count_sysfs_devices(sysfs);
		bool all_queried = true;

		v->scanned = true;
		if (rdma_scan(&v->devs, &v->n) < 0)
			v->n = 0;
		for (size_t i = 0; i < v->n; i++)
			all_queried &= !v->devs[i].open_failed;
		/* Without ib_uverbs the kernel's devices are there but not listed. */
		v->complete = all_queried && v->n >= listed;
	}
	f->rdma_known = v->complete;
	f->dev = rdma_find(v->devs, v->n, &f->route, &f->port);
}
