/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/rdma.h"

#include <arpa/inet.h>
#include <infiniband/verbs.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/macro.h"

static const char *kind_of(const struct ibv_device *d, int link_layer)
{
	if (d->transport_type == IBV_TRANSPORT_IWARP)
		return "iWARP";
	return link_layer == IBV_LINK_LAYER_ETHERNET ? "RoCE" : "InfiniBand";
}

static const char *link_layer_name(int ll)
{
	switch (ll) {
	case IBV_LINK_LAYER_ETHERNET:
		return "Ethernet";
	case IBV_LINK_LAYER_INFINIBAND:
	case IBV_LINK_LAYER_UNSPECIFIED:
		return "InfiniBand";
	default:
		return "unknown";
	}
}

static void gid_text(const union ibv_gid *g, char *buf, size_t size)
{
	if (!inet_ntop(AF_INET6, g->raw, buf, size))
		snprintf(buf, size, "?");
}

static void query_port(struct ibv_context *c, unsigned num, struct rdma_port *p)
{
	struct ibv_port_attr pa;
	struct ibv_gid_entry e[64];
	ssize_t k;

	p->num = num;
	if (ibv_query_port(c, (uint8_t)num, &pa) != 0) {
		snprintf(p->state, sizeof(p->state), "unknown");
		return;
	}
	p->active = pa.state == IBV_PORT_ACTIVE;
	snprintf(p->state, sizeof(p->state), "%s", ibv_port_state_str(pa.state));
	snprintf(p->link_layer, sizeof(p->link_layer), "%s", link_layer_name(pa.link_layer));
	k = ibv_query_gid_table(c, e, ARRAY_SIZE(e), 0);
	for (ssize_t i = 0; i < k; i++) {
		if (e[i].port_num != num)
			continue;
		if (!p->netdev[0] && e[i].ndev_ifindex)
			if_indextoname(e[i].ndev_ifindex, p->netdev);
		if (p->n_gids < RDMA_MAX_GIDS)
			gid_text(&e[i].gid, p->gids[p->n_gids++], sizeof(p->gids[0]));
	}
}

int rdma_scan(struct rdma_dev **ret, size_t *ret_n)
{
	struct ibv_device **list;
	struct rdma_dev *v;
	int n = 0;

	*ret = NULL;
	*ret_n = 0;
	list = ibv_get_device_list(&n);
	if (!list)
		/* ENOSYS: no ib_uverbs; no devices is not an error */
		return errno == ENOSYS ? 0 : -errno;
	if (n == 0) {
		ibv_free_device_list(list);
		return 0;
	}
	v = calloc((size_t)n, sizeof(*v));
	if (!v) {
		ibv_free_device_list(list);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct rdma_dev *d = &v[i];
		struct ibv_device_attr da;
		/* Opened for the query alone; see rdma.h. */
		struct ibv_context *c = ibv_open_device(list[i]);

		snprintf(d->name, sizeof(d->name), "%s", ibv_get_device_name(list[i]));
		if (!c) {
			d->open_failed = true;
			d->err = -errno;
			snprintf(d->kind, sizeof(d->kind), "%s", kind_of(list[i], IBV_LINK_LAYER_ETHERNET));
			continue;
		}
		if (ibv_query_device(c, &da) == 0)
			for (unsigned p = 1; p <= da.phys_port_cnt && d->n_ports < RDMA_MAX_PORTS; p++)
				query_port(c, p, &d->ports[d->n_ports++]);
		snprintf(d->kind, sizeof(d->kind), "%s",
			 kind_of(list[i], d->n_ports && streq(d->ports[0].link_layer, "Ethernet") ? IBV_LINK_LAYER_ETHERNET
												    : IBV_LINK_LAYER_INFINIBAND));
		ibv_close_device(c);
	}
	ibv_free_device_list(list);
	*ret = v;
	*ret_n = (size_t)n;
	return 0;
}

/* iWARP GIDs begin with the netdev's MAC (siw_query_gid, qedr_iw_query_gid, cxgb4). */
static bool gid_has_mac(const char *gid, const unsigned char mac[6])
{
	struct in6_addr a;

	return inet_pton(AF_INET6, gid, &a) == 1 && memcmp(a.s6_addr, mac, 6) == 0;
}

const struct rdma_dev *rdma_find(const struct rdma_dev *v, size_t n, const struct netroute *r,
				 const struct rdma_port **ret_port)
{
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < v[i].n_ports; j++) {
				const struct rdma_port *p = &v[i].ports[j];
				bool match = false;

				if (pass == 0)
					match = p->netdev[0] && streq(p->netdev, r->ifname);
				else if (!p->netdev[0] && r->has_mac)
					for (size_t g = 0; g < p->n_gids && !match; g++)
						match = gid_has_mac(p->gids[g], r->mac);
				if (match) {
					if (ret_port)
						*ret_port = p;
					return &v[i];
				}
			}
	return NULL;
}
