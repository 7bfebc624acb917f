/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Status for systemd (READY=1 after the first round, STATUS=), for
 * nvmfctl, and the questions the control API and udev ask.
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "base/macro.h"
#include "daemon/manager-private.h"

static unsigned count_live(struct manager *m, unsigned *ret_total)
{
	unsigned live = 0, total = 0;

	for (struct mpath *p = m->paths; p; p = p->next) {
		if (p->discovery || p->fsm.state == PATH_REMOVED || p->fsm.state == PATH_DISCONNECTING)
			continue;
		total++;
		live += p->fsm.state == PATH_LIVE;
	}
	*ret_total = total;
	return live;
}

const char *manager_status_line(struct manager *m, char *buf, size_t size)
{
	unsigned total, live = count_live(m, &total);

	snprintf(buf, size, "%u/%u paths live", live, total);
	return buf;
}

/* Every path has had its first outcome, and no reconcile is due that would start more. */
static bool first_round_done(struct manager *m)
{
	if (m->dirty || m->in_round)
		return false;
	for (struct mpath *p = m->paths; p; p = p->next)
		if (!p->first_done && p->fsm.state != PATH_REMOVED)
			return false;
	return true;
}

void update_status(struct manager *m)
{
	char line[64];

	manager_status_line(m, line, sizeof(line));
	if (!m->ready_sent && first_round_done(m)) {
		m->ready_sent = true;
		log_full(LOG_NOTICE, NULL, "first round done: %s", line);
		sd_notifyf(false, "READY=1\nSTATUS=%s", line);
		snprintf(m->last_status, sizeof(m->last_status), "%s", line);
	} else if (m->ready_sent && !streq(line, m->last_status)) {
		sd_notifyf(false, "STATUS=%s", line);
		snprintf(m->last_status, sizeof(m->last_status), "%s", line);
	}
}

/*
 * A path's first outcome, for READY=1: an I/O path's first connect result
 * (live, degraded, backoff or failed); a discovery path's connect failing, or
 * (once live) its first log read, which log_done() notes.
 */
void note_first_outcome(struct mpath *p)
{
	switch (p->fsm.transition.to) {
	case PATH_LIVE:
		if (!p->discovery)
			p->first_done = true;
		break;
	case PATH_DEGRADED:
	case PATH_BACKOFF:
	case PATH_FAILED:
	case PATH_WAITING:
		p->first_done = true;
		break;
	case PATH_IDLE:
	case PATH_CONNECTING:
	case PATH_PAUSED:
	case PATH_DISCONNECTING:
	case PATH_REMOVED:
	case _PATH_STATE_MAX:
		break;
	}
}

bool manager_owns(struct manager *m, const char *ctrl)
{
	struct mpath *p = ctrl ? mpath_by_ctrl(m, ctrl) : NULL;

	return p && p->fsm.state != PATH_REMOVED;
}

const char *manager_iopolicy(struct manager *m, const char *nqn)
{
	for (struct mpath *p = m->paths; p && nqn; p = p->next) {
		const struct inv_endpoint *e;

		if (p->discovery || !streq(p->ident.subsysnqn, nqn) || !(e = p->ep) || !e->iopolicy)
			continue;
		return e->iopolicy;
	}
	return NULL;
}

/* FILTER (NULL: every path) names P: its subsystem NQN, target address or controller. */
static bool path_matches(const struct mpath *p, const char *filter)
{
	return !filter || streq(filter, p->ident.subsysnqn) || streq(filter, p->ident.traddr) || streq(filter, p->fsm.ctrl);
}

unsigned manager_kick(struct manager *m, const char *filter)
{
	unsigned n = 0;

	/* A kick often follows a device or link coming back (the udev rule):
	 * read the links first, so waiting paths move on now. */
	links_check_all(m);

	for (struct mpath *p = m->paths; p; p = p->next) {
		struct path_event ev = { .type = PATH_EV_KICK, .random = random32() };

		if (p->fsm.state != PATH_BACKOFF && p->fsm.state != PATH_FAILED)
			continue;
		if (!path_matches(p, filter))
			continue;
		mpath_feed(p, &ev);
		n++;
	}
	manager_dirty(m);
	return n;
}

unsigned manager_rescan(struct manager *m, const char *filter)
{
	unsigned n = 0;

	for (struct mpath *p = m->paths; p; p = p->next) {
		struct log_ctx ctx = mpath_ctx(p);
		char name[512];
		int r;

		if (p->discovery || p->fsm.state != PATH_LIVE || !p->fsm.ctrl[0])
			continue;
		if (!path_matches(p, filter))
			continue;
		r = sysfs_ctrl_rescan(m->opts.sysfs, p->fsm.ctrl);
		if (r < 0) {
			log_full(LOG_WARNING, &ctx, "%s: asking %s to scan its namespaces: %s", mpath_name(p, name, sizeof(name)),
				 p->fsm.ctrl, strerror(-r));
			continue;
		}
		/* the admin has looked: what comes back is news, what does not is no longer lost */
		log_full(LOG_NOTICE, &ctx, "%s: %s asked to scan its namespaces%s%s", mpath_name(p, name, sizeof(name)),
			 p->fsm.ctrl, p->lost ? "; no longer counted lost: " : "", strempty(p->lost));
		free(p->lost);
		p->lost = NULL;
		n++;
	}
	update_status(m);
	return n;
}

unsigned manager_rediscover(struct manager *m, const char *filter)
{
	unsigned n = 0;

	for (struct mpath *p = m->paths; p; p = p->next) {
		const struct inv_endpoint *e;

		if (!p->discovery || (p->fsm.state != PATH_LIVE && p->fsm.state != PATH_PAUSED))
			continue;
		e = p->ep;
		if (filter && (!e || !e->target || !streq(e->target, filter)))
			continue;
		if (p->fsm.state == PATH_PAUSED) {
			struct path_event kick = { .type = PATH_EV_KICK, .random = random32() };

			mpath_feed(p, &kick); /* a one-shot controller: connect, and read then */
		} else {
			job_read_log(p);
		}
		n++;
	}
	return n;
}

static struct json_object *str_or_null(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static struct json_object *words_json(const char *list)
{
	struct json_object *ns = json_object_new_array();

	for (const char *s = strempty(list); *s;) {
		size_t len = strcspn(s, " ");

		json_object_array_add(ns, json_object_new_string_len(s, (int)len));
		s += len;
		s += strspn(s, " ");
	}
	return ns;
}

static void discovery_json(struct json_object *o, const struct mpath *p)
{
	json_object_object_add(o, "persistent", json_object_new_boolean(!p->oneshot));
	json_object_object_add(o, "depth", json_object_new_int((int)p->depth));
	json_object_object_add(o, "log_reads", json_object_new_int((int)p->log_reads));
	json_object_object_add(o, "log_unchanged", json_object_new_int((int)p->log_unchanged));
	if (p->has_log) {
		json_object_object_add(o, "log_generation", json_object_new_int64((int64_t)p->log.genctr));
		json_object_object_add(o, "log_entries", json_object_new_int64((int64_t)p->log.n));
	}
}

static void retry_json(struct json_object *o, const struct manager *m, const struct mpath *p)
{
	uint64_t next = 0;

	if ((p->fsm.state == PATH_BACKOFF || p->fsm.state == PATH_FAILED) && p->retry &&
	    sd_event_source_get_time(p->retry, &next) >= 0) {
		usec_t t = manager_now(m);

		json_object_object_add(o, "next_retry_ms", json_object_new_int64(next > t ? (int64_t)((next - t) / 1000) : 0));
	}
}

static struct json_object *path_json(const struct manager *m, const struct mpath *p)
{
	struct json_object *o = json_object_new_object();
	const struct inv_endpoint *e = p->ep;

	json_object_object_add(o, "kind", json_object_new_string(p->discovery ? "discovery" : "io"));
	if (p->discovery)
		discovery_json(o, p);
	json_object_object_add(o, "target", str_or_null(e ? e->target : NULL));
	json_object_object_add(o, "subsysnqn", json_object_new_string(p->ident.subsysnqn));
	json_object_object_add(o, "transport", json_object_new_string(p->ident.transport));
	json_object_object_add(o, "traddr", json_object_new_string(p->ident.traddr));
	json_object_object_add(o, "trsvcid", json_object_new_string(p->ident.trsvcid));
	json_object_object_add(o, "host_traddr", str_or_null(p->ident.host_traddr));
	json_object_object_add(o, "host_iface", str_or_null(p->ident.host_iface));
	json_object_object_add(o, "state", json_object_new_string(path_state_to_string(p->fsm.state)));
	json_object_object_add(o, "stuck", json_object_new_boolean(p->fsm.stuck));
	json_object_object_add(o, "controller", str_or_null(p->fsm.ctrl));
	json_object_object_add(o, "namespaces", words_json(p->namespaces));
	if (!p->discovery) {
		/* dropped by the kernel while the controller stayed live: the path is not whole */
		json_object_object_add(o, "namespaces_lost", words_json(p->lost));
		json_object_object_add(o, "namespaces_lost_total", json_object_new_int((int)p->lost_total));
		json_object_object_add(o, "namespaces_lost_reason", str_or_null(p->lost ? p->lost_reason : NULL));
	}
	json_object_object_add(o, "reconnects", json_object_new_int((int)p->fsm.reconnects));
	json_object_object_add(o, "attempts", json_object_new_int((int)p->fsm.attempts));
	json_object_object_add(o, "last_error", str_or_null(p->fsm.last_error));
	if (p->link_checked) {
		json_object_object_add(o, "link", json_object_new_string(link_status_to_string(p->link)));
		json_object_object_add(o, "link_detail", json_object_new_string(p->link_detail));
	}
	json_object_object_add(o, "probe", str_or_null(p->probe));
	json_object_object_add(o, "connects_held", json_object_new_int((int)p->fsm.held));
	/* how long the last successful connect took in the kernel (the write to /dev/nvme-fabrics) */
	json_object_object_add(o, "connect_ms", p->last_connect_time ? json_object_new_double((double)p->last_connect_time / 1000.0) : NULL);
	retry_json(o, m, p);
	return o;
}

struct json_object *manager_status_json(struct manager *m)
{
	struct json_object *root = json_object_new_object(), *paths = json_object_new_array();
	char line[64];

	for (struct mpath *p = m->paths; p; p = p->next)
		json_object_array_add(paths, path_json(m, p));
	json_object_object_add(root, "host", json_object_new_string(m->host->name));
	json_object_object_add(root, "hostnqn", json_object_new_string(m->hid.hostnqn));
	json_object_object_add(root, "status", json_object_new_string(manager_status_line(m, line, sizeof(line))));
	json_object_object_add(root, "ready", json_object_new_boolean(m->ready_sent));
	json_object_object_add(root, "reconciles", json_object_new_int((int)m->reconciles));
	json_object_object_add(root, "paths", paths);
	return root;
}
