/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/netroute.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/fileio.h"
#include "base/macro.h"

int netroute_sockaddr(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	unsigned long p = 0;

	if (port && *port) {
		char *end;

		errno = 0;
		p = strtoul(port, &end, 10);
		if (errno || *end || p > 65535)
			return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)p);
		*len = sizeof(*in);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

int netroute_tcp_connect(const char *traddr, const char *trsvcid, const char *src, const char *iface, int *ret_fd)
{
	struct sockaddr_storage dst, from;
	socklen_t dlen, flen;
	_cleanup_close_ int fd = -1;
	int r;

	*ret_fd = -1;
	if ((r = netroute_sockaddr(traddr, trsvcid, &dst, &dlen)) < 0)
		return r;
	if (src && *src && (r = netroute_sockaddr(src, NULL, &from, &flen)) < 0)
		return r;
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* without CAP_NET_RAW (nvmfctl doctor as a user) unbound: the route decides */
	if (iface && *iface && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, iface, (socklen_t)strlen(iface)) < 0 &&
	    errno != EPERM)
		return -errno;
	if (src && *src && bind(fd, (struct sockaddr *)&from, flen) < 0)
		return -errno;
	r = connect(fd, (struct sockaddr *)&dst, dlen) == 0 ? 0 : -errno;
	if (r == 0 || r == -EINPROGRESS) {
		*ret_fd = fd;
		fd = -1;
	}
	return r;
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
		      sizeof(struct in6_addr)) == 0;
}

static void freeifaddrsp(struct ifaddrs **p)
{
	if (*p)
		freeifaddrs(*p);
}

/* The interface that owns SRC (and its MAC), or the named IFACE's MAC. */
static int owner_of(const struct sockaddr *src, const char *iface, struct netroute *r)
{
	_cleanup_(freeifaddrsp) struct ifaddrs *ifs = NULL;
	bool found = false;

	if (getifaddrs(&ifs) < 0)
		return -errno;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (iface ? streq(i->ifa_name, iface) : (i->ifa_addr->sa_family != AF_PACKET && same_addr(i->ifa_addr, src))) {
			snprintf(r->ifname, sizeof(r->ifname), "%s", i->ifa_name);
			found = true;
			break;
		}
	}
	if (!found)
		return iface ? -ENODEV : -EADDRNOTAVAIL;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET && streq(i->ifa_name, r->ifname)) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;

			if (ll->sll_halen == 6) {
				memcpy(r->mac, ll->sll_addr, 6);
				r->has_mac = true;
			}
		}
	}
	return 0;
}

static bool in_subnet(const struct sockaddr *a, const struct sockaddr *addr, const struct sockaddr *mask)
{
	const unsigned char *x, *y, *m;
	size_t n;

	if (!mask || a->sa_family != addr->sa_family || a->sa_family != mask->sa_family)
		return false;
	if (a->sa_family == AF_INET) {
		x = (const unsigned char *)&((const struct sockaddr_in *)a)->sin_addr;
		y = (const unsigned char *)&((const struct sockaddr_in *)addr)->sin_addr;
		m = (const unsigned char *)&((const struct sockaddr_in *)mask)->sin_addr;
		n = 4;
	} else {
		x = ((const struct sockaddr_in6 *)a)->sin6_addr.s6_addr;
		y = ((const struct sockaddr_in6 *)addr)->sin6_addr.s6_addr;
		m = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
		n = 16;
	}
	for (size_t i = 0; i < n; i++)
		if ((x[i] & m[i]) != (y[i] & m[i]))
			return false;
	return true;
}

/* The interface whose address is HOST_TRADDR, or whose subnet holds DST. */
static void guess_iface(const struct sockaddr_storage *dst, const char *host_traddr, struct netroute *r)
{
	_cleanup_(freeifaddrsp) struct ifaddrs *ifs = NULL;
	struct sockaddr_storage h;
	socklen_t hlen;
	bool by_src = host_traddr && *host_traddr && netroute_sockaddr(host_traddr, NULL, &h, &hlen) == 0;

	if (getifaddrs(&ifs) < 0)
		return;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6))
			continue;
		if (by_src ? same_addr(i->ifa_addr, (struct sockaddr *)&h)
			   : in_subnet((const struct sockaddr *)dst, i->ifa_addr, i->ifa_netmask)) {
			inet_ntop(i->ifa_addr->sa_family,
				  i->ifa_addr->sa_family == AF_INET ? (void *)&((struct sockaddr_in *)i->ifa_addr)->sin_addr
								    : (void *)&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr,
				  r->src, sizeof(r->src));
			owner_of(NULL, i->ifa_name, r);
			return;
		}
	}
}

int netroute_lookup(const char *traddr, const char *host_traddr, const char *host_iface, struct netroute *ret)
{
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen;
	_cleanup_close_ int fd = -1;
	int r;

	*ret = (struct netroute){ 0 };
	r = netroute_sockaddr(traddr, "9", &dst, &dlen);
	if (r < 0)
		return r;
	ret->family = dst.ss_family;
	if (host_iface && *host_iface && if_nametoindex(host_iface) == 0)
		return -ENODEV;
	fd = socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (host_traddr && *host_traddr) {
		struct sockaddr_storage h;
		socklen_t hlen;

		r = netroute_sockaddr(host_traddr, NULL, &h, &hlen);
		if (r < 0)
			return r;
		if (h.ss_family != dst.ss_family)
			return -EAFNOSUPPORT;
		if (bind(fd, (struct sockaddr *)&h, hlen) < 0)
			return -errno; /* EADDRNOTAVAIL: not configured here */
	}
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
		int err = -errno;

		/* No route: an interface that is down has lost its routes, but
		 * still holds its addresses. Name the one whose subnet holds the
		 * target, so the caller can say it is down. */
		if (!(host_iface && *host_iface))
			guess_iface(&dst, host_traddr, ret);
		else
			owner_of(NULL, host_iface, ret);
		return err;
	}
	slen = sizeof(src);
	if (getsockname(fd, (struct sockaddr *)&src, &slen) < 0)
		return -errno;
	if (!inet_ntop(src.ss_family,
		       src.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&src)->sin_addr
						: (void *)&((struct sockaddr_in6 *)&src)->sin6_addr,
		       ret->src, sizeof(ret->src)))
		return -errno;
	return owner_of((struct sockaddr *)&src, host_iface && *host_iface ? host_iface : NULL, ret);
}

int netdev_read(const char *sysfs, const char *ifname, struct netdev_state *ret)
{
	char path[512], buf[64];

	*ret = (struct netdev_state){ 0 };
	snprintf(path, sizeof(path), "%s/class/net/%s/flags", sysfs, ifname);
	if (read_one_line(path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	ret->exists = true;
	ret->admin_up = strtoul(buf, NULL, 16) & IFF_UP;
	snprintf(path, sizeof(path), "%s/class/net/%s/operstate", sysfs, ifname);
	if (read_one_line(path, ret->operstate, sizeof(ret->operstate)) < 0)
		snprintf(ret->operstate, sizeof(ret->operstate), "unknown");
	/* carrier reads EINVAL while the interface is down */
	snprintf(path, sizeof(path), "%s/class/net/%s/carrier", sysfs, ifname);
	ret->carrier = read_one_line(path, buf, sizeof(buf)) == 0 && streq(buf, "1");
	return 0;
}
