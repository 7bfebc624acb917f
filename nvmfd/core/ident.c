/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/ident.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"

static bool addr_equal(const char *a, const char *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];

	if (streq(a, b))
		return true;
	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, sizeof(struct in_addr)) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, sizeof(struct in6_addr)) == 0;
	return false;
}

bool ident_equal(const struct ident *a, const struct ident *b)
{
	return streq(a->transport, b->transport) && addr_equal(a->traddr, b->traddr) &&
	       streq(a->trsvcid, b->trsvcid) && addr_equal(a->host_traddr, b->host_traddr) &&
	       streq(a->host_iface, b->host_iface) && streq(a->subsysnqn, b->subsysnqn) &&
	       streq(a->hostnqn, b->hostnqn);
}

void ident_from_endpoint(struct ident *id, const struct inv_endpoint *e, const char *subsysnqn, const char *hostnqn)
{
	*id = (struct ident){ 0 };
	snprintf(id->transport, sizeof(id->transport), "%s", transport_to_string(e->transport));
	snprintf(id->traddr, sizeof(id->traddr), "%s", strempty(e->traddr));
	snprintf(id->trsvcid, sizeof(id->trsvcid), "%s", strempty(e->trsvcid));
	snprintf(id->host_traddr, sizeof(id->host_traddr), "%s", strempty(e->host_traddr));
	snprintf(id->host_iface, sizeof(id->host_iface), "%s", strempty(e->host_iface));
	snprintf(id->subsysnqn, sizeof(id->subsysnqn), "%s", strempty(subsysnqn));
	snprintf(id->hostnqn, sizeof(id->hostnqn), "%s", strempty(hostnqn));
}

const char *ident_to_string(const struct ident *id, char *buf, size_t size)
{
	bool v6 = strchr(id->traddr, ':') != NULL;
	int n = snprintf(buf, size, "%s %s%s%s:%s %s", id->transport, v6 ? "[" : "", id->traddr, v6 ? "]" : "",
			 id->trsvcid, id->subsysnqn);

	if (n > 0 && (size_t)n < size && (id->host_traddr[0] || id->host_iface[0]))
		snprintf(buf + n, size - (size_t)n, " from %s%s%s", id->host_traddr,
			 id->host_traddr[0] && id->host_iface[0] ? "%" : "", id->host_iface);
	return buf;
}
