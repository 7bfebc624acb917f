/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "doctor/doctor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "core/connect-error.h"
#include "core/discovery.h"
#include "kernel/fabrics.h"
#include "base/fileio.h"
#include "core/ident.h"
#include "kernel/link.h"
#include "base/macro.h"
#include "kernel/modules.h"
#include "base/nqn.h"
#include "kernel/rdmacm.h"
#include "kernel/sysfs.h"

#define RDMACM_TIMEOUT_MS 2000
#define TCP_TIMEOUT_MS 2000

static const struct {
	const char *key, *name;
} check_table[_DOCTOR_CHECK_MAX] = {
	[DOCTOR_MODULES] = { "modules", "modules loaded" },
	[DOCTOR_FABRICS_DEV] = { "fabrics_device", "/dev/nvme-fabrics" },
	[DOCTOR_RDMA_DEVICE] = { "rdma_device", "RDMA device" },
	[DOCTOR_PORT_ACTIVE] = { "port_active", "RDMA port active" },
	[DOCTOR_LINK_LAYER] = { "link_layer", "link layer fits" },
	[DOCTOR_LOCAL_ADDR] = { "local_address", "local address" },
	[DOCTOR_ROUTE] = { "route", "route to the target" },
	[DOCTOR_RDMA_CM] = { "rdma_cm", "RDMA CM address and route" },
	[DOCTOR_TARGET_PORT] = { "target_port", "the target answers on its port" },
	[DOCTOR_DISCOVERY] = { "discovery", "the discovery log lists the subsystem" },
	[DOCTOR_HOST_ALLOWED] = { "host_allowed", "the target accepts this host NQN" },
	[DOCTOR_IDENTITY] = { "host_identity", "hostnqn and hostid" },
};

static const char *const mark_table[_DOCTOR_MARK_MAX] = {
	[DOCTOR_PASS] = "ok", [DOCTOR_WARN] = "warn", [DOCTOR_FAIL] = "FAIL", [DOCTOR_SKIP] = "skip",
};

const char *doctor_check_to_string(enum doctor_check c)
{
	return (unsigned)c < _DOCTOR_CHECK_MAX ? check_table[c].name : "?";
}

const char *doctor_check_key(enum doctor_check c)
{
	return (unsigned)c < _DOCTOR_CHECK_MAX ? check_table[c].key : "?";
}

const char *doctor_mark_to_string(enum doctor_mark m)
{
	return (unsigned)m < _DOCTOR_MARK_MAX ? mark_table[m] : "?";
}

void doctor_add(struct doctor_path *p, enum doctor_check c, enum doctor_mark m, const char *finding, const char *fix)
{
	struct doctor_item *it;

	if (p->n >= _DOCTOR_CHECK_MAX)
		return;
	it = &p->items[p->n++];
	it->check = c;
	it->mark = m;
	snprintf(it->finding, sizeof(it->finding), "%s", strempty(finding));
	snprintf(it->fix, sizeof(it->fix), "%s", strempty(fix));
}

_printf_(5, 6) static void addf(struct doctor_path *p, enum doctor_check c, enum doctor_mark m, const char *fix,
				const char *fmt, ...)
{
	char finding[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(finding, sizeof(finding), fmt, ap);
	va_end(ap);
	doctor_add(p, c, m, finding, fix);
}

_printf_(1, 2) static const char *fixf(const char *fmt, ...)
{
	static _Thread_local char buf[320];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

bool doctor_failed(const struct doctor_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		for (size_t j = 0; j < r->paths[i].n; j++)
			if (r->paths[i].items[j].mark == DOCTOR_FAIL)
				return true;
	return false;
}

void doctor_report_free(struct doctor_report *r)
{
	free(r->paths);
	*r = (struct doctor_report){ 0 };
}

/* ---------------------------------------------------------------------- */
/* rendering */

void doctor_print(FILE *f, const struct doctor_report *r)
{
	if (!r->daemon)
		fprintf(f, "(nvmfd is not running: checked without its state)\n");
	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_path *p = &r->paths[i];

		fprintf(f, "%s%s\n", i ? "\n" : "", p->title);
		if (p->daemon[0])
			fprintf(f, "  nvmfd: %s\n", p->daemon);
		for (size_t j = 0; j < p->n; j++) {
			const struct doctor_item *it = &p->items[j];

			fprintf(f, "  [%4s] %s: %s\n", doctor_mark_to_string(it->mark), doctor_check_to_string(it->check),
				it->finding);
			if (it->fix[0])
				fprintf(f, "         fix: %s\n", it->fix);
		}
	}
	fprintf(f, "\n%s\n", doctor_failed(r) ? "some checks failed" : "every check passed");
}

struct json_object *doctor_json(const struct doctor_report *r)
{
	struct json_object *root = json_object_new_object(), *paths = json_object_new_array();

	for (size_t i = 0; i < r->n; i++) {
		const struct doctor_path *p = &r->paths[i];
		struct json_object *o = json_object_new_object(), *checks = json_object_new_array();
		const char *first = NULL;

		for (size_t j = 0; j < p->n; j++) {
			const struct doctor_item *it = &p->items[j];
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "check", json_object_new_string(doctor_check_key(it->check)));
			json_object_object_add(c, "name", json_object_new_string(doctor_check_to_string(it->check)));
			json_object_object_add(c, "mark", json_object_new_string(it->mark == DOCTOR_FAIL ? "fail"
										  : doctor_mark_to_string(it->mark)));
			json_object_object_add(c, "finding", json_object_new_string(it->finding));
			json_object_object_add(c, "fix", it->fix[0] ? json_object_new_string(it->fix) : NULL);
			json_object_array_add(checks, c);
			if (!first && it->mark == DOCTOR_FAIL)
				first = doctor_check_key(it->check);
		}
		json_object_object_add(o, "path", json_object_new_string(p->title));
		json_object_object_add(o, "nvmfd", p->daemon[0] ? json_object_new_string(p->daemon) : NULL);
		json_object_object_add(o, "first_failure", first ? json_object_new_string(first) : NULL);
		json_object_object_add(o, "checks", checks);
		json_object_array_add(paths, o);
	}
	json_object_object_add(root, "daemon", json_object_new_boolean(r->daemon));
	json_object_object_add(root, "ok", json_object_new_boolean(!doctor_failed(r)));
	json_object_object_add(root, "paths", paths);
	return root;
}

/* ---------------------------------------------------------------------- */
/* the checks */

struct ctx {
	const struct inventory *inv;
	const struct inv_host *h;
	const struct host_identity *id;
	const struct doctor_env *env;
	struct rdma_view view;
	struct ctrl_info *ctrls;
	size_t n_ctrls;
};

/* Append NAME to the list in BUF (SIZE bytes), after SEP. */
static void append(char *buf, size_t size, const char *sep, const char *name)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? sep : "", name);
}

static void check_modules(struct ctx *c, const struct inv_endpoint *e, struct doctor_path *p)
{
	const char *need[40];
	size_t n = modules_for_endpoint(c->h, e, need, 0, ARRAY_SIZE(need));
	char missing[256] = "", args[256] = "", have[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (modules_loaded(need[i]) > 0) {
			append(have, sizeof(have), ", ", need[i]);
		} else {
			append(missing, sizeof(missing), ", ", need[i]);
			append(args, sizeof(args), " ", need[i]);
		}
	}
	if (missing[0])
		addf(p, DOCTOR_MODULES, DOCTOR_FAIL, fixf("modprobe -a %s (nvmfd loads the host's modules when it starts)", args),
		     "not loaded: %s", missing);
	else
		addf(p, DOCTOR_MODULES, DOCTOR_PASS, NULL, "%s", have);
}

static void check_fabrics_dev(struct doctor_path *p)
{
	struct stat st;

	if (stat("/dev/nvme-fabrics", &st) == 0 && S_ISCHR(st.st_mode))
		doctor_add(p, DOCTOR_FABRICS_DEV, DOCTOR_PASS, "present", NULL);
	else
		addf(p, DOCTOR_FABRICS_DEV, DOCTOR_FAIL, "modprobe nvme-fabrics", "missing: %s", strerror(errno ?: ENODEV));
}

/* The GID of a RoCE port that carries address SRC (IPv4 as ::ffff:a.b.c.d). */
static bool port_has_gid_for(const struct rdma_port *port, const char *src)
{
	struct in6_addr want, g;
	struct in_addr v4;

	if (inet_pton(AF_INET, src, &v4) == 1) {
		memset(&want, 0, sizeof(want));
		want.s6_addr[10] = want.s6_addr[11] = 0xff;
		memcpy(&want.s6_addr[12], &v4, 4);
	} else if (inet_pton(AF_INET6, src, &want) != 1) {
		return false;
	}
	for (size_t i = 0; i < port->n_gids; i++)
		if (inet_pton(AF_INET6, port->gids[i], &g) == 1 && memcmp(&g, &want, sizeof(g)) == 0)
			return true;
	return false;
}

/* Checks 3-5: the RDMA device bound to the route's interface IFN, its port
 * and its link layer. */
static bool check_rdma(const struct link_facts *f, const char *ifn, struct doctor_path *p)
{
	bool ok = true;

	if (!ifn[0]) {
		doctor_add(p, DOCTOR_RDMA_DEVICE, DOCTOR_SKIP, "no interface leads to the target (see the route)", NULL);
	} else if (!f->rdma_known) {
		doctor_add(p, DOCTOR_RDMA_DEVICE, DOCTOR_WARN, "the RDMA devices cannot be listed",
			   "modprobe ib_uverbs (libibverbs lists devices through it)");
	} else if (!f->dev) {
		addf(p, DOCTOR_RDMA_DEVICE, DOCTOR_FAIL,
		     fixf("load the RNIC's driver (modprobe qedr for FastLinQ) or, for soft-RoCE, "
			  "rdma link add rxe0 type rxe netdev %s; `rdma link show` lists devices and their netdevs", ifn),
		     "no RDMA device is bound to %s (the interface of %s)", ifn, f->route.src[0] ? f->route.src : "the path");
		ok = false;
	} else {
		addf(p, DOCTOR_RDMA_DEVICE, DOCTOR_PASS, NULL, "%s (%s) port %u on %s", f->dev->name, f->dev->kind,
		     f->port->num, ifn);
	}
	if (!f->dev) {
		doctor_add(p, DOCTOR_PORT_ACTIVE, DOCTOR_SKIP, "no device", NULL);
		doctor_add(p, DOCTOR_LINK_LAYER, DOCTOR_SKIP, "no device", NULL);
	} else {
		if (f->port->active) {
			addf(p, DOCTOR_PORT_ACTIVE, DOCTOR_PASS, NULL, "%s port %u %s", f->dev->name, f->port->num, f->port->state);
		} else {
			bool if_down = f->netdev_err == 0 && !f->netdev.admin_up;
			bool no_carrier = f->netdev_err == 0 && !f->netdev.carrier;

			addf(p, DOCTOR_PORT_ACTIVE, DOCTOR_FAIL,
			     if_down ? fixf("ip link set %s up", ifn)
			     : no_carrier ? fixf("%s has no carrier: check the cable and the switch port", ifn)
			     : fixf("check the port: rdma link show %s", f->dev->name),
			     "%s port %u is %s%s%s%s", f->dev->name, f->port->num, f->port->state,
			     if_down ? " (" : "", if_down ? ifn : "", if_down ? " is down)" : "");
			ok = false;
		}
		if (streq(f->dev->kind, "RoCE") && f->route.src[0] && !port_has_gid_for(f->port, f->route.src)) {
			addf(p, DOCTOR_LINK_LAYER, DOCTOR_FAIL,
			     fixf("RoCE v2 needs the address in the device's GID table: is %s configured on %s?", f->route.src, ifn),
			     "%s over %s, but no GID for %s", f->dev->kind, f->port->link_layer, f->route.src);
			ok = false;
		} else {
			addf(p, DOCTOR_LINK_LAYER, DOCTOR_PASS, NULL, "%s over %s", f->dev->kind, f->port->link_layer);
		}
	}
	return ok;
}

/* Check 6: the local address, on an interface that is up with carrier. */
static bool check_addr(struct link_facts *f, const struct ident *ident, const char *ifn, struct doctor_path *p)
{
	bool ok = true;

	if (f->route_err == -ENODEV || f->route_err == -EADDRNOTAVAIL) {
		char why[160];

		link_judge(f, why, sizeof(why));
		addf(p, DOCTOR_LOCAL_ADDR, DOCTOR_FAIL,
		     ident->host_iface[0] ? "create the interface or correct host_iface in the inventory"
					  : fixf("configure %s on an interface (ip addr add %s/PREFIX dev IFACE) or correct host_traddr",
						 ident->host_traddr[0] ? ident->host_traddr : "the source address",
						 ident->host_traddr[0] ? ident->host_traddr : "ADDRESS"),
		     "%s", why);
		ok = false;
	} else if (ifn[0] && f->netdev_err == 0 && !f->netdev.admin_up) {
		addf(p, DOCTOR_LOCAL_ADDR, DOCTOR_FAIL, fixf("ip link set %s up", ifn), "%s is on %s, which is down",
		     f->route.src[0] ? f->route.src : "the address", ifn);
		ok = false;
	} else if (ifn[0] && f->netdev_err == 0 && !f->netdev.carrier) {
		addf(p, DOCTOR_LOCAL_ADDR, DOCTOR_FAIL, fixf("%s has no carrier: check the cable and the switch port", ifn),
		     "%s is on %s, which has no carrier (%s)", f->route.src, ifn, f->netdev.operstate);
		ok = false;
	} else if (ifn[0]) {
		addf(p, DOCTOR_LOCAL_ADDR, DOCTOR_PASS, NULL, "%s on %s (%s)", f->route.src, ifn, f->netdev.operstate);
	} else {
		doctor_add(p, DOCTOR_LOCAL_ADDR, DOCTOR_SKIP, "no interface leads to the target (see the route)", NULL);
	}
	return ok;
}

/* Check 7: the route to the target. */
static bool check_route(const struct link_facts *f, const struct ident *ident, const char *ifn, struct doctor_path *p)
{
	bool ok = true;

	if (f->route_err < 0 && f->route_err != -ENODEV && f->route_err != -EADDRNOTAVAIL) {
		addf(p, DOCTOR_ROUTE, DOCTOR_FAIL,
		     fixf("add an address in the target's subnet or a route to it (ip route get %s)", ident->traddr),
		     "no route to %s: %s", ident->traddr, strerror(-f->route_err));
		ok = false;
	} else if (f->route_err == 0) {
		addf(p, DOCTOR_ROUTE, DOCTOR_PASS, NULL, "%s via %s", ident->traddr, ifn);
	} else {
		doctor_add(p, DOCTOR_ROUTE, DOCTOR_SKIP, "no source address", NULL);
	}
	return ok;
}

/* Checks 3-7: the RDMA device, its port and link layer, the local address, the route. */
static bool check_local(struct ctx *c, const struct ident *ident, bool rdma, struct doctor_path *p,
			struct link_facts *f)
{
	bool ok = true;

	link_gather(c->env->sysfs, ident, &c->view, f);
	if (rdma)
		ok = check_rdma(f, f->route.ifname, p);
	ok = check_addr(f, ident, f->route.ifname, p) && ok;
	return check_route(f, ident, f->route.ifname, p) && ok;
}

/* A TCP connect with a timeout: 0 or a positive errno. */
static int tcp_try(const char *traddr, const char *trsvcid, const char *src, const char *iface)
{
	_cleanup_close_ int fd = -1;
	struct pollfd pfd;
	int err = 0, r = netroute_tcp_connect(traddr, trsvcid, src, iface, &fd);
	socklen_t len = sizeof(err);

	if (r != -EINPROGRESS)
		return -r;
	pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&pfd, 1, TCP_TIMEOUT_MS) <= 0)
		return ETIMEDOUT;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return errno;
	return err;
}

/* Checks 8-9: the RDMA CM's resolution, and whether the port listens. */
static bool check_reach(const struct ident *ident, bool rdma, bool iwarp, struct doctor_path *p)
{
	const char *fw = "check the target's firewall (nft list ruleset) and that the address and trsvcid are the target's";
	int err;

	if (rdma) {
		struct rdmacm_result r;

		rdmacm_probe(ident->traddr, ident->trsvcid, ident->host_traddr, RDMACM_TIMEOUT_MS, &r);
		if (!r.resolved) {
			addf(p, DOCTOR_RDMA_CM, DOCTOR_FAIL,
			     r.outcome == RDMACM_ERROR ? "modprobe rdma_ucm (librdmacm talks to the kernel through /dev/infiniband/rdma_cm)"
			     : r.outcome == RDMACM_ADDR_ERROR ? fixf("%s does not answer on the fabric: check the address, and that the target is up (ping %s)",
								      ident->traddr, ident->traddr)
			     : "check the route to the target and the RDMA device's GIDs",
			     "%s", r.detail);
			doctor_add(p, DOCTOR_TARGET_PORT, DOCTOR_SKIP, "not reached", NULL);
			return false;
		}
		addf(p, DOCTOR_RDMA_CM, DOCTOR_PASS, NULL, "address and route resolved (device %s)", r.device[0] ? r.device : "?");
		if (!iwarp) {
			if (r.outcome == RDMACM_LISTENING) {
				addf(p, DOCTOR_TARGET_PORT, DOCTOR_PASS, NULL, "%s:%s: %s", ident->traddr, ident->trsvcid, r.detail);
				return true;
			}
			addf(p, DOCTOR_TARGET_PORT, DOCTOR_FAIL,
			     r.outcome == RDMACM_NOT_LISTENING
				     ? fixf("on the target: enable an rdma port at %s:%s (nvmetcfg apply; a port listens once a subsystem is linked to it; nvmetcfg repair if its RDMA device went away and came back)",
					    ident->traddr, ident->trsvcid)
				     : fw,
			     "%s:%s: %s", ident->traddr, ident->trsvcid, r.detail);
			return false;
		}
	}
	/* bound to host_iface as nvme-tcp binds its socket; nvme-rdma binds none */
	err = tcp_try(ident->traddr, ident->trsvcid, ident->host_traddr, rdma ? NULL : ident->host_iface);
	if (err == 0) {
		addf(p, DOCTOR_TARGET_PORT, DOCTOR_PASS, NULL, "%s:%s accepts TCP connections", ident->traddr, ident->trsvcid);
		return true;
	}
	addf(p, DOCTOR_TARGET_PORT, DOCTOR_FAIL,
	     err == ECONNREFUSED ? fixf("on the target: enable a %s port at %s:%s (nvmetcfg apply; a port listens once a subsystem is linked to it)",
					rdma ? "rdma" : "tcp", ident->traddr, ident->trsvcid)
				 : fw,
	     "%s:%s: TCP connect: %s", ident->traddr, ident->trsvcid, strerror(err));
	return false;
}

static void connect_args(struct ctx *c, const struct inv_endpoint *e, const struct ident *ident, bool discovery,
			 struct fabrics_connect_args *a)
{
	*a = (struct fabrics_connect_args){ .id = *ident, .opts = e->fabrics, .discovery = discovery };
	snprintf(a->hostid, sizeof(a->hostid), "%s", c->id->hostid);
	if (!discovery && e->dhchap_key)
		read_secret_line(e->dhchap_key, a->dhchap_key, sizeof(a->dhchap_key));
	if (!discovery && e->dhchap_ctrl_key)
		read_secret_line(e->dhchap_ctrl_key, a->dhchap_ctrl_key, sizeof(a->dhchap_ctrl_key));
}

/* One connect to SUBSYS, undone at once if it succeeds: the kernel's answer. */
static enum connect_class try_connect(struct ctx *c, const struct inv_endpoint *e, const char *subsys, char *why,
				      size_t size)
{
	struct fabrics_connect_args a;
	struct fabrics_result res;
	struct ident id;

	ident_from_endpoint(&id, e, subsys, c->id->hostnqn);
	connect_args(c, e, &id, false, &a);
	fabrics_connect(&a, &res);
	explicit_bzero(a.dhchap_key, sizeof(a.dhchap_key));
	explicit_bzero(a.dhchap_ctrl_key, sizeof(a.dhchap_ctrl_key));
	if (res.err == 0) {
		struct fabrics_result d;

		fabrics_disconnect(res.ctrl, &d);
		snprintf(why, size, "accepted (connected %s and disconnected it again)", res.ctrl);
		return _CONNECT_CLASS_MAX;
	}
	return connect_classify(res.err, res.kernel_log, why, size);
}

/* A live controller of path ID: nvmfd's, or anyone's. */
static const struct ctrl_info *live_ctrl(struct ctx *c, const struct ident *id)
{
	for (size_t i = 0; i < c->n_ctrls; i++)
		if (!c->ctrls[i].discovery && ident_equal(&c->ctrls[i].id, id) && streq(c->ctrls[i].state, "live"))
			return &c->ctrls[i];
	return NULL;
}

static bool listed(const struct disc_plan *plan, const char *nqn)
{
	for (size_t i = 0; i < plan->n_connect; i++)
		if (streq(plan->connect[i]->subnqn, nqn))
			return true;
	return false;
}

/* What one connect said of NOT_LISTED, a subsystem the log does not list (WHY:
 * the kernel's reason; NAMES: what the log lists). */
static void report_not_listed(const struct ctx *c, struct doctor_path *p, const struct inv_endpoint *e,
			      enum connect_class cls, const char *not_listed, const char *why, const char *names)
{
	switch (cls) {
	case CONNECT_DENIED:
		addf(p, DOCTOR_DISCOVERY, DOCTOR_WARN, NULL,
		     "%s is not listed for this host (the target hides subsystems a host may not use)", not_listed);
		addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_FAIL,
		     fixf("on the target: allow %s on %s (nvmetcfg: allowed_hosts; configfs: ln -s hosts/HOSTNQN subsystems/NQN/allowed_hosts/)",
			  c->id->hostnqn, not_listed),
		     "%s: %s", not_listed, why);
		break;
	case CONNECT_AUTH:
		addf(p, DOCTOR_DISCOVERY, DOCTOR_WARN, NULL, "%s is not listed for this host", not_listed);
		addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_FAIL, "check the DH-HMAC-CHAP keys on both sides (dhchap_key in the inventories)",
		     "%s: %s", not_listed, why);
		break;
	case CONNECT_HOST_CONFLICT:
		addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_FAIL,
		     "disconnect the controllers that hold this host NQN or host ID with another (nvme list-subsys), or give the inventory their pair",
		     "%s: %s", not_listed, why);
		break;
	case _CONNECT_CLASS_MAX:
		addf(p, DOCTOR_DISCOVERY, DOCTOR_WARN, NULL, "%s is not listed, but a connect succeeded", not_listed);
		addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_PASS, NULL, "%s: %s", not_listed, why);
		break;
	case CONNECT_ALREADY:
	case CONNECT_TRANSIENT:
	case CONNECT_INVALID:
	case CONNECT_NO_SUBSYS: {
		char also[300] = "";

		if (names[0])
			snprintf(also, sizeof(also), " (it lists %s)", names);
		addf(p, DOCTOR_DISCOVERY, DOCTOR_FAIL,
		     fixf("on the target: export %s on this port (nvmetcfg: the port's subsystems; configfs: ln -s subsystems/NQN ports/ID/subsystems/)",
			  not_listed),
		     "%s is not exported on %s:%s%s", not_listed, e->traddr, e->trsvcid, also);
		addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_SKIP, NULL, "%s", why);
		break;
	}
	}
}

/* Checks 10-11: the discovery log, and whether the target takes this host. */
static void check_subsystems(struct ctx *c, const struct inv_endpoint *e, const struct ident *disc, struct doctor_path *p)
{
	struct fabrics_connect_args a;
	struct fabrics_result res, d;
	struct disc_log log = { 0 };
	struct disc_plan plan = { 0 };
	void *raw = NULL;
	size_t len = 0;
	char why[512], names[256] = "";
	const char *not_listed = NULL;

	connect_args(c, e, disc, true, &a);
	fabrics_connect(&a, &res);
	if (res.err < 0) {
		enum connect_class cls = connect_classify(res.err, res.kernel_log, why, sizeof(why));

		addf(p, DOCTOR_DISCOVERY, DOCTOR_FAIL,
		     cls == CONNECT_DENIED	   ? "on the target: allow this host on the discovery subsystem"
		     : cls == CONNECT_HOST_CONFLICT ? "disconnect the controllers that hold this host NQN or host ID with another (nvme list-subsys), or give the inventory their pair"
						    : "see the kernel's reason; nvmfd's journal has the same",
		     "cannot connect the discovery controller: %s", why);
		doctor_add(p, DOCTOR_HOST_ALLOWED, DOCTOR_SKIP, "no discovery log", NULL);
		return;
	}
	fabrics_read_discovery_log(res.ctrl, &raw, &len, &d);
	fabrics_disconnect(res.ctrl, &d);
	if (!raw || disc_log_parse(raw, len, &log) < 0 || disc_plan_make(&log, e, &plan) < 0) {
		addf(p, DOCTOR_DISCOVERY, DOCTOR_FAIL, "see the kernel log (dmesg)", "the discovery log could not be read%s%s",
		     d.kernel_log[0] ? ": " : "", d.kernel_log);
		doctor_add(p, DOCTOR_HOST_ALLOWED, DOCTOR_SKIP, "no discovery log", NULL);
		goto out;
	}
	/* What should be there: the entry's filter, or anything at all. */
	for (size_t i = 0; i < e->n_subsystems && !not_listed; i++)
		if (!listed(&plan, e->subsystems[i]))
			not_listed = e->subsystems[i];
	/* what this host is shown, filter or not */
	for (size_t i = 0; i < log.n; i++)
		if (log.entries[i].subtype == DISC_SUBTYPE_NVME)
			append(names, sizeof(names), ", ", log.entries[i].subnqn);
	if (!not_listed && plan.n_connect == 0) {
		doctor_add(p, DOCTOR_DISCOVERY, DOCTOR_FAIL, "the log lists no subsystem for this host",
			   "on the target: link a subsystem to this port and allow this host on it");
		doctor_add(p, DOCTOR_HOST_ALLOWED, DOCTOR_SKIP, "no subsystem to try", NULL);
		goto out;
	}
	if (!not_listed) {
		struct ident id;
		const struct ctrl_info *live;

		addf(p, DOCTOR_DISCOVERY, DOCTOR_PASS, NULL, "lists %s", names);
		/* the entry's own address and port, not the discovery endpoint's */
		live = disc_entry_ident(plan.connect[0], e, c->id->hostnqn, &id) == 0 ? live_ctrl(c, &id) : NULL;
		if (live)
			addf(p, DOCTOR_HOST_ALLOWED, DOCTOR_PASS, NULL, "%s is live (%s)", plan.connect[0]->subnqn, live->name);
		else
			/* nvmet lists a subsystem only to hosts it allows (nvmet_execute_disc_get_log_page) */
			doctor_add(p, DOCTOR_HOST_ALLOWED, DOCTOR_PASS,
				   "listed in this host's log: the target lists a subsystem only to hosts it allows", NULL);
		goto out;
	}
	/* Not listed: not exported on this port, or hidden from this host. One connect tells. */
	report_not_listed(c, p, e, try_connect(c, e, not_listed, why, sizeof(why)), not_listed, why, names);
out:
	disc_plan_free(&plan);
	disc_log_free(&log);
	free(raw);
}

static void check_identity(struct ctx *c, struct doctor_path *p)
{
	char path[256], nqn[256] = "", hid[64] = "";
	const char *etc = c->env->etc_nvme ? c->env->etc_nvme : SYSCONFDIR "/nvme";
	int rn, ri;

	snprintf(path, sizeof(path), "%s/hostnqn", etc);
	rn = read_one_line(path, nqn, sizeof(nqn));
	snprintf(path, sizeof(path), "%s/hostid", etc);
	ri = read_one_line(path, hid, sizeof(hid));
	if ((rn < 0 && !c->h->hostnqn) || (ri < 0 && !c->h->hostid)) {
		addf(p, DOCTOR_IDENTITY, DOCTOR_FAIL, "nvme gen-hostnqn > /etc/nvme/hostnqn, and its UUID in /etc/nvme/hostid",
		     "%s/%s is missing and the inventory gives none", etc, rn < 0 && !c->h->hostnqn ? "hostnqn" : "hostid");
	} else if (c->h->hostnqn && rn == 0 && !streq(nqn, c->h->hostnqn)) {
		addf(p, DOCTOR_IDENTITY, DOCTOR_FAIL,
		     fixf("write %s to %s/hostnqn, or drop hostnqn from the inventory", c->h->hostnqn, etc),
		     "the inventory's hostnqn differs from %s/hostnqn (%s): nvme-cli would connect as another host", etc, nqn);
	} else if (c->h->hostid && ri == 0 && strcasecmp(hid, c->h->hostid) != 0) {
		addf(p, DOCTOR_IDENTITY, DOCTOR_FAIL, fixf("write %s to %s/hostid, or drop hostid from the inventory", c->h->hostid, etc),
		     "the inventory's hostid differs from %s/hostid (%s)", etc, hid);
	} else if (rn < 0 || ri < 0) {
		addf(p, DOCTOR_IDENTITY, DOCTOR_WARN, fixf("write the inventory's values to %s/hostnqn and %s/hostid", etc, etc),
		     "%s/%s is missing: nvme-cli would connect as another host", etc, rn < 0 ? "hostnqn" : "hostid");
	} else {
		addf(p, DOCTOR_IDENTITY, DOCTOR_PASS, NULL, "%s, hostid %s", c->id->hostnqn, c->id->hostid);
	}
}

/* A string field of a status object, "" when absent. */
static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

/* What nvmfd says of the paths of endpoint E. */
static void daemon_view(struct ctx *c, const struct inv_endpoint *e, struct doctor_path *p)
{
	struct json_object *paths = NULL;

	if (!c->env->status || !json_object_object_get_ex(c->env->status, "paths", &paths))
		return;
	for (size_t i = 0; i < json_object_array_length(paths); i++) {
		struct json_object *o = json_object_array_get_idx(paths, i);
		bool disc = streq(field(o, "kind"), "discovery");
		char one[320];

		if (!streq(field(o, "transport"), transport_to_string(e->transport)) || !streq(field(o, "traddr"), e->traddr) ||
		    (disc && !streq(field(o, "trsvcid"), e->trsvcid)))
			continue;
		snprintf(one, sizeof(one), "%s %s", disc ? "discovery" : field(o, "subsysnqn"), field(o, "state"));
		append(p->daemon, sizeof(p->daemon), "; ", one);
	}
}

int doctor_run(const struct inventory *inv, const struct inv_host *h, const struct host_identity *id,
	       const char *filter, const struct doctor_env *env, struct doctor_report *ret)
{
	struct ctx c = { .inv = inv, .h = h, .id = id, .env = env };

	*ret = (struct doctor_report){ .daemon = env->status != NULL };
	ret->paths = calloc(h->n_endpoints ?: 1, sizeof(*ret->paths));
	if (!ret->paths)
		return -ENOMEM;
	sysfs_ctrl_scan(env->sysfs, &c.ctrls, &c.n_ctrls);
	for (size_t i = 0; i < h->n_endpoints; i++) {
		const struct inv_endpoint *e = &h->endpoints[i];
		struct doctor_path *p;
		struct ident disc;
		struct link_facts f;
		bool rdma = e->transport == TRANSPORT_RDMA, reached;

		if (filter && !streq(filter, e->traddr) && !(e->target && streq(filter, e->target)))
			continue;
		p = &ret->paths[ret->n++];
		if (e->target)
			snprintf(p->title, sizeof(p->title), "%s %s:%s (target %s, port %u)", transport_to_string(e->transport),
				 e->traddr, e->trsvcid, e->target, e->target_port);
		else
			snprintf(p->title, sizeof(p->title), "%s %s:%s (%s line %u)", transport_to_string(e->transport), e->traddr,
				 e->trsvcid, inv->path, e->loc.line);
		daemon_view(&c, e, p);
		ident_from_endpoint(&disc, e, NQN_DISCOVERY, id->hostnqn);
		check_modules(&c, e, p);
		check_fabrics_dev(p);
		if (!check_local(&c, &disc, rdma, p, &f)) {
			static const enum doctor_check later[] = { DOCTOR_RDMA_CM, DOCTOR_TARGET_PORT, DOCTOR_DISCOVERY,
								   DOCTOR_HOST_ALLOWED };

			for (size_t k = 0; k < ARRAY_SIZE(later); k++)
				if (rdma || later[k] != DOCTOR_RDMA_CM)
					doctor_add(p, later[k], DOCTOR_SKIP, "the local side is not ready", NULL);
			check_identity(&c, p);
			continue;
		}
		reached = check_reach(&disc, rdma, f.dev && streq(f.dev->kind, "iWARP"), p);
		if (reached && p->items[0].mark == DOCTOR_PASS && p->items[1].mark == DOCTOR_PASS) {
			check_subsystems(&c, e, &disc, p);
		} else {
			doctor_add(p, DOCTOR_DISCOVERY, DOCTOR_SKIP, reached ? "the modules are missing" : "the target's port is not reached", NULL);
			doctor_add(p, DOCTOR_HOST_ALLOWED, DOCTOR_SKIP, "no discovery log", NULL);
		}
		check_identity(&c, p);
	}
	free(c.ctrls);
	rdma_view_clear(&c.view);
	if (filter && ret->n == 0)
		return -ENOENT;
	return 0;
}
