/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The local side of a path: which interface and source address the kernel
 * uses to reach a target, and that interface's state. Read, never changed.
 */
#pragma once

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>

struct netroute {
	int family;                    /* AF_INET, AF_INET6 */
	char src[INET6_ADDRSTRLEN];    /* the source address the route picks */
	char ifname[IF_NAMESIZE];      /* the interface that owns it */
	unsigned char mac[6];          /* its hardware address (iWARP devices carry it in their GID) */
	bool has_mac;
};

/*
 * The interface and source address for TRADDR, from HOST_TRADDR or
 * HOST_IFACE when set (either may be NULL or ""). Nothing is sent: a UDP
 * socket's connect() only looks the route up. For a destination on this
 * host the source is the destination and its interface the one that owns
 * it, as the RDMA CM resolves it (drivers/infiniband/core/addr.c,
 * rdma_set_src_addr_rcu: a loopback route takes the netdev owning the
 * destination). Returns 0; -EINVAL for an address that does not parse,
 * -ENODEV when HOST_IFACE does not exist, -EADDRNOTAVAIL when HOST_TRADDR
 * is not configured here, -ENETUNREACH (or the connect's errno) when there
 * is no route. Without a route, RET still names the interface whose subnet
 * holds TRADDR (or that owns HOST_TRADDR, or HOST_IFACE) where there is one:
 * an interface that is down has lost its routes, not its addresses.
 */
int netroute_lookup(const char *traddr, const char *host_traddr, const char *host_iface, struct netroute *ret);

struct netdev_state {
	bool exists;
	bool admin_up;    /* IFF_UP */
	bool carrier;     /* the link has carrier */
	char operstate[24];
};

/* Interface IFNAME under SYSFS ("/sys"): 0, or -ENOENT when it does not exist. */
int netdev_read(const char *sysfs, const char *ifname, struct netdev_state *ret);

/*
 * Begin a non-blocking TCP connect to TRADDR:TRSVCID from SRC (NULL or "":
 * the kernel picks), bound to interface IFACE (NULL or "": none) as
 * nvme-tcp binds its socket to host_iface (SO_BINDTODEVICE; unbound
 * without the capability), into *RET_FD
 * (close-on-exec): 0 when connected at once, -EINPROGRESS while under way
 * (wait for POLLOUT, then read SO_ERROR), or a negative errno with no socket
 * left open.
 */
int netroute_tcp_connect(const char *traddr, const char *trsvcid, const char *src, const char *iface, int *ret_fd);

/* Parse an IPv4 or IPv6 address with PORT (may be NULL: 0) into SS. */
int netroute_sockaddr(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len);
