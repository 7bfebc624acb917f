/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the kernel tells (udev) and what the manager reads itself (sysfs):
 * controllers coming, going and reconnecting, discovery log changes,
 * namespaces, and the audit of controller states, for which no event comes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "core/uevent.h"
#include "daemon/manager-private.h"
#include "kernel/kmsg.h"

/* ---------------------------------------------------------------------- */
/* namespaces */

/* Read P's namespaces again; true when they changed. NOW gets the new list. */
static bool namespaces_changed(struct mpath *p, char **now)
{
	*now = NULL;
	if (sysfs_ctrl_namespaces(p->m->opts.sysfs, p->fsm.ctrl, now) < 0)
		return false;
	if (streq(*now, strempty(p->namespaces))) {
		free(*now);
		*now = NULL;
		return false;
	}
	return true;
}

void mpath_read_namespaces(struct mpath *p)
{
	char *now;

	if (namespaces_changed(p, &now)) {
		free(p->namespaces);
		p->namespaces = now;
	}
}

/* Whether the space-separated LIST holds WORD. */
static bool list_has(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *s = list; s && *s;) {
		const char *end = strchrnul(s, ' ');

		if ((size_t)(end - s) == len && strncmp(s, word, len) == 0)
			return true;
		s = *end ? end + 1 : end;
	}
	return false;
}

/* LIST without WORD (freed when it becomes empty). */
static void list_drop(char **list, const char *word)
{
	size_t len = strlen(word), n = 0;
	char *out;

	if (!list_has(*list, word))
		return;
	out = *list;
	for (const char *s = *list; *s;) {
		const char *end = strchrnul(s, ' ');
		size_t w = (size_t)(end - s);

		if (w != len || strncmp(s, word, len) != 0) {
			if (n)
				out[n++] = ' ';
			memmove(out + n, s, w);
			n += w;
		}
		s = *end ? end + 1 : end;
	}
	out[n] = '\0';
	if (!n) {
		free(*list);
		*list = NULL;
	}
}

/* The kernel's last word on NS of P's controller ("nvme nvme1: identifiers
 * changed for nsid 1"), from /dev/kmsg; empty when it said none. Reads what
 * the ring holds without waiting: a loss is rare, and said at once. */
static void namespace_loss_reason(const struct mpath *p, const char *ns, char *buf, size_t size)
{
	static const char *const words[] = { "nvme nvme", NULL };
	struct manager *m = p->m;
	char prefix[48], nsid[24], lines[sizeof(m->loss_lines)];
	const char *n = strrchr(ns, 'n');
	usec_t t = manager_now(m);

	buf[0] = '\0';
	if (!n)
		return;
	snprintf(prefix, sizeof(prefix), "nvme %s: ", p->fsm.ctrl);
	snprintf(nsid, sizeof(nsid), "nsid %s", n + 1);
	/* A target that drops 1000 namespaces under two paths: the ring read
	 * once a second for them all (every controller's lines, the latest last). */
	if (!m->loss_at || t - m->loss_at > USEC_PER_SEC) {
		int fd = kmsg_open_all(NULL);

		m->loss_lines[0] = '\0';
		if (fd >= 0)
			kmsg_collect(fd, words, m->loss_lines, sizeof(m->loss_lines));
		m->loss_at = t;
	}
	memcpy(lines, m->loss_lines, sizeof(lines));
	for (char *line = lines, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		const char *w, *msg;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		w = strstr(line, nsid);
		msg = strstr(line, prefix);
		if (w && msg && (w[strlen(nsid)] < '0' || w[strlen(nsid)] > '9'))
			snprintf(buf, size, "%s", msg + strlen(prefix)); /* the last one said */
	}
}

/*
 * Namespace NS went away from live path P while its controller stays live:
 * the kernel dropped it (its identity changed, the target removed it). Not
 * when the controller itself is going (its namespaces go first). nvmfd does
 * not scan again by itself: a changed identity may mean other data, so the
 * admin decides (nvmfctl rescan).
 */
static void namespace_lost(struct mpath *p, const char *ns)
{
	struct log_ctx ctx = mpath_ctx(p);
	char state[24], name[512], *grown;

	if (p->fsm.state != PATH_LIVE || sysfs_ctrl_state(p->m->opts.sysfs, p->fsm.ctrl, state, sizeof(state)) < 0 ||
	    !streq(state, "live") || list_has(p->lost, ns))
		return;
	if (asprintf(&grown, "%s%s%s", strempty(p->lost), p->lost ? " " : "", ns) < 0)
		return;
	free(p->lost);
	p->lost = grown;
	p->lost_total++;
	namespace_loss_reason(p, ns, p->lost_reason, sizeof(p->lost_reason));
	snprintf(p->lost_ctrl, sizeof(p->lost_ctrl), "%s", p->fsm.ctrl);
	log_full(LOG_WARNING, &ctx, "%s: namespace %s lost while %s stays live%s%s%s; nvmfctl rescan %s asks the kernel to scan again",
		 mpath_name(p, name, sizeof(name)), ns, p->fsm.ctrl, p->lost_reason[0] ? " (kernel: " : "",
		 p->lost_reason, p->lost_reason[0] ? ")" : "", p->fsm.ctrl);
}

/* The word at *S into WORD (SIZE bytes, at most); *S moves past it. False at the end. */
static bool next_word(const char **s, char *word, size_t size)
{
	size_t len;

	*s += strspn(*s, " ");
	if (!**s)
		return false;
	len = strcspn(*s, " ");
	snprintf(word, size, "%.*s", (int)len, *s);
	*s += len;
	return true;
}

/*
 * What went from P's namespaces and what came back, NOW against the list
 * before: one pass over both, sorted as sysfs_ctrl_namespaces sorts them
 * (strverscmp), so a target that drops 1000 namespaces one by one costs
 * 1000 passes, not 1000 times 1000 lookups.
 */
static void namespaces_compare(struct mpath *p, const char *now)
{
	const char *a = strempty(p->namespaces), *b = strempty(now);
	char wa[64], wb[64];
	bool ha = next_word(&a, wa, sizeof(wa)), hb = next_word(&b, wb, sizeof(wb));

	while (ha || hb) {
		int c = !ha ? 1 : !hb ? -1 : strverscmp(wa, wb);

		if (c < 0)
			namespace_lost(p, wa); /* there before, gone now */
		else if (c > 0 && p->lost)
			list_drop(&p->lost, wb); /* new now: back, if it was lost */
		if (c <= 0)
			ha = next_word(&a, wa, sizeof(wa));
		if (c >= 0)
			hb = next_word(&b, wb, sizeof(wb));
	}
}

/*
 * Read the namespaces of the paths NS (nvmeXnY, or NULL: any) may belong to
 * again. A namespace that appears names its subsystem, so only that
 * subsystem's paths are read: 64 paths connecting would otherwise read every
 * path's namespaces 64 times over, on the loop, while the kernel connects.
 */
void refresh_namespaces(struct manager *m, const char *ns, bool added)
{
	char nqn[224] = "";

	if (ns && added && sysfs_ns_subsysnqn(m->opts.sysfs, ns, nqn, sizeof(nqn)) < 0)
		nqn[0] = '\0';
	for (struct mpath *p = m->paths; p; p = p->next) {
		char *now;

		if (p->discovery || !p->fsm.ctrl[0] || (nqn[0] && !streq(nqn, p->ident.subsysnqn)))
			continue;
		if (!namespaces_changed(p, &now))
			continue;
		/* all that went and came since the last read: one event may stand for many */
		namespaces_compare(p, now);
		free(p->namespaces);
		p->namespaces = now;
		if (ns) {
			struct log_ctx ctx = mpath_ctx(p);
			char name[512];
			size_t count = 0;

			for (const char *s = now; *s; s++)
				count += *s == ' ';
			log_full(LOG_INFO, &ctx, "%s: namespace %s %s (now %zu)", mpath_name(p, name, sizeof(name)), ns,
				 added ? "appeared" : "went away", now[0] ? count + 1 : 0);
		}
	}
}

/* ---------------------------------------------------------------------- */
/* controllers */

static void resync_from(struct mpath *p, const struct ctrl_info *c)
{
	struct path_event ev = { .type = PATH_EV_CTRL_GONE, .random = random32() };

	if (c)
		mpath_adopt(p, c);
	else
		mpath_feed(p, &ev);
}

static const struct ctrl_info *find_existing(const struct mpath *p, const struct ctrl_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ident_equal(&v[i].id, &p->ident))
			return &v[i];
	return NULL;
}

/* Look P's controller up in sysfs: adopt it, or report it gone. */
void mpath_resync(struct mpath *p)
{
	struct ctrl_info *v = NULL;
	size_t n = 0;

	if (sysfs_ctrl_scan(p->m->opts.sysfs, &v, &n) < 0)
		return;
	resync_from(p, find_existing(p, v, n));
	free(v);
}

/* A path that has no controller and none in flight takes one that appeared with its identity. */
static bool adoptable(const struct mpath *p)
{
	return !p->fsm.ctrl[0] && (p->fsm.state == PATH_IDLE || p->fsm.state == PATH_BACKOFF ||
				   p->fsm.state == PATH_FAILED || p->fsm.state == PATH_WAITING);
}

/* Controller NAME appeared: if someone else (nvme-cli, an admin) made one of our paths, it is ours. */
static void ctrl_added(struct manager *m, const char *name)
{
	struct ctrl_info c;

	if (sysfs_ctrl_read(m->opts.sysfs, name, &c) < 0)
		return;
	for (struct mpath *p = m->paths; p; p = p->next)
		if (adoptable(p) && ident_equal(&c.id, &p->ident)) {
			resync_from(p, &c);
			return;
		}
}

/*
 * Read every path's controller state: no uevent comes for live -> connecting.
 * The state alone, one read per path: this runs every audit interval for as
 * long as nothing happens, and is most of what nvmfd costs when idle
 * (measured: tests/bench, idle). A controller's removal comes as a uevent,
 * so its name cannot pass to another controller unseen; when events were
 * lost (ENOBUFS) manager_resync() reads every identity again. Without a udev
 * monitor the audit reads identities and namespaces itself.
 */
static void audit(struct manager *m)
{
	bool full = !m->mon;

	rdma_watch_check(m->rdma_watch);
	for (struct mpath *p = m->paths; p; p = p->next) {
		struct ctrl_info c;
		char state[24];
		struct path_event ev = { .random = random32() };
		bool gone;

		if (!p->fsm.ctrl[0] || (p->fsm.state != PATH_LIVE && p->fsm.state != PATH_DEGRADED))
			continue;
		if (full) {
			gone = sysfs_ctrl_read(m->opts.sysfs, p->fsm.ctrl, &c) < 0 || !ident_equal(&c.id, &p->ident);
			snprintf(state, sizeof(state), "%s", c.state);
		} else {
			gone = sysfs_ctrl_state(m->opts.sysfs, p->fsm.ctrl, state, sizeof(state)) < 0;
		}
		if (gone) {
			ev.type = PATH_EV_CTRL_GONE; /* gone, or the name now belongs to another controller */
		} else if (streq(state, "live")) {
			if (p->fsm.state != PATH_DEGRADED)
				continue;
			ev.type = PATH_EV_CTRL_LIVE;
		} else {
			if (p->fsm.state != PATH_LIVE)
				continue;
			ev.type = PATH_EV_CTRL_DOWN;
			ev.reason = state;
		}
		mpath_feed(p, &ev);
	}
	if (full)
		refresh_namespaces(m, NULL, false);
}

static int on_audit(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	audit(m);
	sd_event_source_set_time(s, usec + m->opts.audit_interval);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

int manager_audit_start(struct manager *m)
{
	return sd_event_add_time_relative(m->loop, &m->audit, CLOCK_MONOTONIC, m->opts.audit_interval, 0, on_audit, m);
}

/* ---------------------------------------------------------------------- */
/* udev */

static void on_ctrl_event(struct manager *m, enum uevent_kind k, const char *sysname)
{
	struct mpath *p = mpath_by_ctrl(m, sysname);
	struct path_event ev = { .random = random32() };

	if (k == UEVENT_CTRL_ADD) {
		if (!p)
			ctrl_added(m, sysname);
	} else if (k == UEVENT_CTRL_CONNECTED && p && p->fsm.state == PATH_DEGRADED) {
		ev.type = PATH_EV_CTRL_LIVE;
		mpath_feed(p, &ev);
	} else if (k == UEVENT_CTRL_REMOVE && p) {
		ev.type = PATH_EV_CTRL_GONE;
		mpath_feed(p, &ev);
	} else if (k == UEVENT_DISCOVERY_CHANGED && p && p->discovery && p->fsm.state == PATH_LIVE) {
		struct log_ctx ctx = mpath_ctx(p);

		log_full(LOG_INFO, &ctx, "discovery log change announced by %s", sysname);
		job_read_log(p);
	}
}

static void on_uevent(struct manager *m, struct udev_device *dev)
{
	const char *sysname = udev_device_get_sysname(dev);
	/* 69-nvmfd.rules hides the AEN of our discovery controllers from
	 * nvme-cli's rule as NVMFD_AEN; we listen after the rules ran. */
	const char *aen = udev_device_get_property_value(dev, "NVME_AEN");
	enum uevent_kind k;

	if (!aen || !*aen)
		aen = udev_device_get_property_value(dev, "NVMFD_AEN");
	k = uevent_translate(udev_device_get_action(dev), udev_device_get_subsystem(dev), sysname,
			     udev_device_get_devtype(dev), udev_device_get_property_value(dev, "NVME_EVENT"), aen);
	log_debug("uevent %s %s", uevent_kind_to_string(k), strempty(sysname));
	switch (k) {
	case UEVENT_CTRL_ADD:
	case UEVENT_CTRL_CONNECTED:
	case UEVENT_CTRL_REMOVE:
	case UEVENT_DISCOVERY_CHANGED:
		on_ctrl_event(m, k, sysname);
		break;
	case UEVENT_NS_ADD:
	case UEVENT_NS_REMOVE:
		refresh_namespaces(m, sysname, k == UEVENT_NS_ADD);
		break;
	case UEVENT_RDMA_ADD:
		if (m->rdma_watch)
			rdma_watch_refresh(m->rdma_watch);
		links_changed(m);
		break;
	case UEVENT_RDMA_REMOVE:
	case UEVENT_NET_CHANGE:
		links_changed(m);
		break;
	case UEVENT_IGNORE:
	case _UEVENT_KIND_MAX:
		break;
	}
}

void manager_resync(struct manager *m)
{
	struct ctrl_info *v = NULL;
	size_t n = 0;

	/* One scan for every path: each with a controller adopts it again or
	 * finds it gone, each without one adopts one that appeared. */
	if (sysfs_ctrl_scan(m->opts.sysfs, &v, &n) == 0)
		for (struct mpath *p = m->paths; p; p = p->next) {
			const struct ctrl_info *c = find_existing(p, v, n);

			if (p->fsm.ctrl[0] && !mpath_leaving(p))
				resync_from(p, c);
			else if (c && adoptable(p))
				resync_from(p, c);
		}
	free(v);
	for (struct mpath *p = m->paths; p; p = p->next)
		if (p->discovery && p->fsm.state == PATH_LIVE)
			job_read_log(p);
	refresh_namespaces(m, NULL, false);
	manager_dirty(m);
}

static int on_monitor(sd_event_source *s _unused_, int fd _unused_, uint32_t revents _unused_, void *userdata)
{
	struct manager *m = userdata;

	/* Drain in a batch. */
	for (;;) {
		struct udev_device *dev;

		errno = 0;
		dev = udev_monitor_receive_device(m->mon);
		if (!dev) {
			if (errno == ENOBUFS) {
				/* Events were lost: resynchronise from sysfs, do not guess. */
				log_full(LOG_WARNING, NULL, "the udev monitor overflowed; resynchronising from sysfs");
				manager_resync(m);
				continue;
			}
			break;
		}
		on_uevent(m, dev);
		udev_device_unref(dev);
	}
	return 0;
}

int manager_monitor_start(struct manager *m)
{
	int r;

	m->udev = udev_new();
	if (!m->udev)
		return -ENOMEM;
	m->mon = udev_monitor_new_from_netlink(m->udev, "udev");
	if (!m->mon)
		return -errno ?: -ENOMEM;
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "nvme", NULL);
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "block", "disk");
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "infiniband", NULL);
	udev_monitor_filter_add_match_subsystem_devtype(m->mon, "net", NULL);
	udev_monitor_set_receive_buffer_size(m->mon, MONITOR_BUFFER);
	r = udev_monitor_enable_receiving(m->mon);
	if (r >= 0)
		r = sd_event_add_io(m->loop, &m->mon_src, udev_monitor_get_fd(m->mon), EPOLLIN, on_monitor, m);
	if (r < 0)
		/* No monitor at all, rather than one that hears nothing: the
		 * audit then reads everything (full) on each of its rounds. */
		m->mon = udev_monitor_unref(m->mon);
	return r;
}
