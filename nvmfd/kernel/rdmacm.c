/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/rdmacm.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <rdma/rdma_cma.h>
#include <stdio.h>
#include <time.h>

#include "base/macro.h"
#include "kernel/netroute.h"

/* The IB CM's reject reasons we tell apart (IBTA 1.4, 12.6.7.2). */
#define IB_CM_REJ_INVALID_SERVICE_ID 8

static const char *const outcome_table[_RDMACM_OUTCOME_MAX] = {
	[RDMACM_LISTENING] = "listening",
	[RDMACM_NOT_LISTENING] = "not-listening",
	[RDMACM_ADDR_ERROR] = "address-error",
	[RDMACM_ROUTE_ERROR] = "route-error",
	[RDMACM_UNREACHABLE] = "unreachable",
	[RDMACM_TIMEOUT] = "timeout",
	[RDMACM_ERROR] = "error",
};

const char *rdmacm_outcome_to_string(enum rdmacm_outcome o)
{
	return (unsigned)o < _RDMACM_OUTCOME_MAX ? outcome_table[o] : "?";
}

int rdmacm_outcome_from_string(const char *s)
{
	for (size_t i = 0; i < _RDMACM_OUTCOME_MAX; i++)
		if (streq(s, outcome_table[i]))
			return (int)i;
	return -EINVAL;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next event on CH before DEADLINE (ms), or NULL with *ERR set. */
static struct rdma_cm_event *next_event(struct rdma_event_channel *ch, long long deadline, int *err)
{
	struct rdma_cm_event *ev;

	for (;;) {
		struct pollfd pfd = { .fd = ch->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		int r;

		if (rdma_get_cm_event(ch, &ev) == 0)
			return ev;
		if (errno != EAGAIN) {
			*err = -errno;
			return NULL;
		}
		if (left <= 0) {
			*err = -ETIMEDOUT;
			return NULL;
		}
		r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR) {
			*err = -errno;
			return NULL;
		}
	}
}

_printf_(4, 5) static void set(struct rdmacm_result *r, enum rdmacm_outcome o, int err, const char *fmt, ...)
{
	va_list ap;

	r->outcome = o;
	r->err = err;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof(r->detail), fmt, ap);
	va_end(ap);
}

/* The event channel gave nothing before the deadline (or failed): say which
 * step was waiting. */
static void no_event(enum rdma_cm_event_type want, int err, struct rdmacm_result *r)
{
	if (err != -ETIMEDOUT) {
		set(r, RDMACM_ERROR, err, "RDMA CM event: %s", strerror(-err));
		return;
	}
	if (want == RDMA_CM_EVENT_ADDR_RESOLVED)
		set(r, RDMACM_ADDR_ERROR, err, "%s", "address resolution: no answer in time");
	else if (want == RDMA_CM_EVENT_ROUTE_RESOLVED)
		set(r, RDMACM_ROUTE_ERROR, err, "%s", "route resolution: no answer in time");
	else
		set(r, RDMACM_TIMEOUT, err, "%s", "connect request: no answer in time");
}

/* The route is known: ask for a connection the target refuses on sight, so
 * that its answer says whether the port listens. */
static bool send_request(struct rdma_cm_id *id, struct rdmacm_result *r)
{
	/* recfmt 0xffff: not NVMe/RDMA 1.0, refused on sight */
	unsigned char pdata[32] = { 0xff, 0xff };
	struct rdma_conn_param cp = { .private_data = pdata, .private_data_len = sizeof(pdata),
				      .responder_resources = 1, .initiator_depth = 1,
				      .retry_count = 1, .rnr_retry_count = 1,
				      .qp_num = 1 /* no QP: the request is refused before one is needed */ };

	r->resolved = true;
	if (rdma_connect(id, &cp) < 0) {
		/* iWARP's CM sends nothing without a QP: a TCP connect tells instead */
		set(r, RDMACM_ERROR, -errno, "connect request: %s", strerror(errno));
		return false;
	}
	return true;
}

/* What a refusal says: nothing listens (invalid service ID), or the port
 * answered. */
static void rejected(int status, struct rdmacm_result *r)
{
	if (status == IB_CM_REJ_INVALID_SERVICE_ID)
		set(r, RDMACM_NOT_LISTENING, status, "%s", "rejected: invalid service ID (nothing listens on the port)");
	else
		set(r, RDMACM_LISTENING, 0, "the port answers (reject reason %d)", status);
}

/* One event of the probe's steps; whether to wait for the next. */
static bool on_event(struct rdma_cm_id *id, enum rdma_cm_event_type type, int status, int timeout_ms,
		     enum rdma_cm_event_type *want, struct rdmacm_result *r)
{
	switch (type) {
	case RDMA_CM_EVENT_ADDR_RESOLVED:
		if (id->verbs)
			snprintf(r->device, sizeof(r->device), "%s", ibv_get_device_name(id->verbs->device));
		*want = RDMA_CM_EVENT_ROUTE_RESOLVED;
		if (rdma_resolve_route(id, timeout_ms) < 0) {
			set(r, RDMACM_ROUTE_ERROR, -errno, "route resolution: %s", strerror(errno));
			return false;
		}
		return true;
	case RDMA_CM_EVENT_ROUTE_RESOLVED:
		*want = RDMA_CM_EVENT_ESTABLISHED;
		return send_request(id, r);
	case RDMA_CM_EVENT_ADDR_ERROR:
		set(r, RDMACM_ADDR_ERROR, status, "address resolution failed: %s", strerror(status < 0 ? -status : EHOSTUNREACH));
		return false;
	case RDMA_CM_EVENT_ROUTE_ERROR:
		set(r, RDMACM_ROUTE_ERROR, status, "route resolution failed: %s", strerror(status < 0 ? -status : ENETUNREACH));
		return false;
	case RDMA_CM_EVENT_REJECTED:
		rejected(status, r);
		return false;
	case RDMA_CM_EVENT_ESTABLISHED:
	case RDMA_CM_EVENT_CONNECT_RESPONSE:
		set(r, RDMACM_LISTENING, 0, "%s", "the port answers (accepted)");
		rdma_disconnect(id);
		return false;
	case RDMA_CM_EVENT_UNREACHABLE:
	case RDMA_CM_EVENT_CONNECT_ERROR:
		set(r, RDMACM_UNREACHABLE, status, "connect request unanswered: %s", strerror(status < 0 ? -status : ETIMEDOUT));
		return false;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		set(r, RDMACM_ADDR_ERROR, -ENODEV, "%s", "the RDMA device went away");
		return false;
	case RDMA_CM_EVENT_CONNECT_REQUEST:
	case RDMA_CM_EVENT_DISCONNECTED:
	case RDMA_CM_EVENT_MULTICAST_JOIN:
	case RDMA_CM_EVENT_MULTICAST_ERROR:
	case RDMA_CM_EVENT_ADDR_CHANGE:
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		break;
	}
	return true;
}

void rdmacm_probe(const char *traddr, const char *trsvcid, const char *src, int timeout_ms, struct rdmacm_result *r)
{
	struct rdma_event_channel *ch = NULL;
	struct rdma_cm_id *id = NULL;
	struct sockaddr_storage dst, from;
	socklen_t len;
	long long deadline = now_ms() + timeout_ms;
	enum rdma_cm_event_type want = RDMA_CM_EVENT_ADDR_RESOLVED;
	int err = 0;

	*r = (struct rdmacm_result){ .outcome = RDMACM_ERROR };
	if (netroute_sockaddr(traddr, trsvcid, &dst, &len) < 0 ||
	    (src && *src && netroute_sockaddr(src, NULL, &from, &len) < 0)) {
		set(r, RDMACM_ERROR, -EINVAL, "%s", "an address does not parse");
		return;
	}
	ch = rdma_create_event_channel();
	if (!ch) {
		set(r, RDMACM_ERROR, -errno, "cannot open the RDMA CM (%s): is rdma_ucm loaded?", strerror(errno));
		return;
	}
	if (fcntl(ch->fd, F_SETFL, fcntl(ch->fd, F_GETFL) | O_NONBLOCK) < 0 ||
	    rdma_create_id(ch, &id, NULL, RDMA_PS_TCP) < 0) {
		set(r, RDMACM_ERROR, -errno, "cannot create an RDMA CM id: %s", strerror(errno));
		goto out;
	}
	if (rdma_resolve_addr(id, src && *src ? (struct sockaddr *)&from : NULL, (struct sockaddr *)&dst,
			      timeout_ms) < 0) {
		set(r, RDMACM_ADDR_ERROR, -errno, "address resolution: %s", strerror(errno));
		goto out;
	}
	for (;;) {
		struct rdma_cm_event *ev = next_event(ch, deadline, &err);
		enum rdma_cm_event_type type;
		int status;

		if (!ev) {
			no_event(want, err, r);
			break;
		}
		type = ev->event;
		status = ev->status;
		rdma_ack_cm_event(ev);
		if (!on_event(id, type, status, timeout_ms, &want, r))
			break;
	}
out:
	if (id)
		rdma_destroy_id(id);
	if (ch)
		rdma_destroy_event_channel(ch);
}

static bool any_addr(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return ss->ss_family == AF_INET6 && IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int rdmacm_port_held(const char *traddr, const char *trsvcid)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct rdma_cm_id *id = NULL;
	int r;

	if ((r = netroute_sockaddr(traddr, trsvcid, &ss, &len)) < 0)
		return r;
	/* no channel: a synchronous id, enough for a bind */
	if (rdma_create_id(NULL, &id, NULL, RDMA_PS_TCP) < 0)
		return -errno;
	r = rdma_bind_addr(id, (struct sockaddr *)&ss) == 0 ? 0 : -errno;
	rdma_destroy_id(id);
	/* The kernel finds the device first, then the port: a listener's own
	 * device is there, so a missing one means nothing can be listening
	 * there yet, nor be made to. */
	if (r == -EADDRINUSE || (r == -EADDRNOTAVAIL && any_addr(&ss)))
		return 1;
	return r;
}
