/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/fabrics.h"

#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <pthread.h>
#include <libnvme.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "kernel/kmsg.h"
#include "base/macro.h"
#include "base/nqn.h"
#include "core/connect-error.h"
#include "core/devname.h"
#include "core/discovery.h"

static const char *const kernel_words[] = { "nvme", NULL };

/* The kernel's lines of a call, before choosing those about it: room for what
 * other controllers say meanwhile (a connect can wait minutes on its turn). */
#define KMSG_WINDOW 16384

static usec_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* libnvme's messages go nowhere: we report the kernel's own words instead.
 * One stream for the process, opened once whichever worker comes first. */
static FILE *devnull;
static pthread_once_t devnull_once = PTHREAD_ONCE_INIT;

static void devnull_open(void)
{
	devnull = fopen("/dev/null", "we");
}

static nvme_root_t root_new(void)
{
	pthread_once(&devnull_once, devnull_open);
	return nvme_create_root(devnull ? devnull : stderr, LOG_ERR);
}

static void root_freep(nvme_root_t *r)
{
	if (*r)
		nvme_free_tree(*r);
}

/* The controllers there now (nvmeN under /sys/class/nvme), NULL-terminated;
 * NULL when there are none, or they cannot be read. */
static char **ctrls_now(void)
{
	_cleanup_(closedirp) DIR *d = opendir("/sys/class/nvme");
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (!devname_is_ctrl(de->d_name))
			continue;
		if (n + 2 > cap) {
			char **w = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!w)
				break;
			v = w;
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			break;
		v[++n] = NULL;
	}
	return v;
}

static void ctrls_freep(char ***v)
{
	for (char **p = *v; p && *p; p++)
		free(*p);
	free(*v);
}

/* The lines of the window at KFD (closed) that are about SCOPE, into RET's kernel_log. */
static void kernel_lines(int kfd, const struct connect_scope *scope, struct fabrics_result *ret)
{
	_cleanup_free_ char *window = kfd >= 0 ? calloc(1, KMSG_WINDOW) : NULL;

	if (!window) {
		if (kfd >= 0)
			close(kfd);
		return;
	}
	kmsg_collect(kfd, kernel_words, window, KMSG_WINDOW);
	connect_log_select(window, scope, ret->kernel_log, sizeof(ret->kernel_log));
}

/* libnvme 1.3's codes for the errnos it recognises; the rest is hidden as -EIO. */
static int errno_of(int e)
{
	switch (e) {
	case ENVME_CONNECT_ALREADY:
		return -EALREADY;
	case ENVME_CONNECT_INVAL:
		return -EINVAL;
	case ENVME_CONNECT_ADDRINUSE:
		return -EADDRINUSE;
	case ENVME_CONNECT_NODEV:
		return -ENODEV;
	case ENVME_CONNECT_OPNOTSUPP:
		return -EOPNOTSUPP;
	case ENVME_CONNECT_CONNREFUSED:
		return -ECONNREFUSED;
	case ENVME_CONNECT_OPEN: {
		/* libnvme keeps the reason to itself: ask again (ENOENT: nvme-fabrics
		 * is not loaded; EPERM: a device policy or a missing capability). */
		int fd = open("/dev/nvme-fabrics", O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			close(fd);
			return -EIO;
		}
		return -errno;
	}
	default:
		return e > 0 && e < 1000 ? -e : -EIO;
	}
}

void fabrics_connect(const struct fabrics_connect_args *a, struct fabrics_result *ret)
{
	_cleanup_(root_freep) nvme_root_t r = root_new();
	_cleanup_(ctrls_freep) char **before = NULL;
	struct ident id = a->id;
	struct connect_scope scope = { .id = &id };
	struct nvme_fabrics_config cfg;
	nvme_host_t h;
	nvme_ctrl_t c;
	usec_t start = now_usec();
	int kfd;

	*ret = (struct fabrics_result){ 0 };
	if (!r) {
		ret->err = -ENOMEM;
		return;
	}
	h = nvme_lookup_host(r, a->id.hostnqn, a->hostid[0] ? a->hostid : NULL);
	c = h ? nvme_create_ctrl(r, a->discovery ? NQN_DISCOVERY : a->id.subsysnqn, a->id.transport,
				 a->id.traddr, a->id.host_traddr[0] ? a->id.host_traddr : NULL,
				 a->id.host_iface[0] ? a->id.host_iface : NULL, a->id.trsvcid)
	      : NULL;
	if (!c) {
		ret->err = errno ? -errno : -ENOMEM;
		return;
	}
	if (a->dhchap_key[0])
		nvme_ctrl_set_dhchap_host_key(c, a->dhchap_key);
	if (a->dhchap_ctrl_key[0])
		nvme_ctrl_set_dhchap_key(c, a->dhchap_ctrl_key);
	if (a->discovery) {
		nvme_ctrl_set_discovery_ctrl(c, true);
		nvme_ctrl_set_persistent(c, a->persistent);
	}

	nvmf_default_config(&cfg);
	cfg.nr_io_queues = a->opts.nr_io_queues;
	cfg.queue_size = a->discovery ? 0 : a->opts.queue_size;
	cfg.keep_alive_tmo = a->discovery && !a->persistent ? 0 : a->opts.keep_alive_tmo;
	cfg.reconnect_delay = a->opts.reconnect_delay;
	cfg.ctrl_loss_tmo = a->opts.ctrl_loss_tmo;
	cfg.fast_io_fail_tmo = a->opts.fast_io_fail_tmo;

	/* The kernel names the subsystem a discovery controller connects to. */
	if (a->discovery)
		snprintf(id.subsysnqn, sizeof(id.subsysnqn), "%s", NQN_DISCOVERY);
	/* The log first, then the controllers: one missing from the list is new, and the
	 * kernel makes new ones one at a time (nvmf_dev_mutex, drivers/nvme/host/fabrics.c):
	 * ours, unless its lines name another path. */
	kfd = kmsg_open(NULL);
	if (kfd >= 0) {
		before = ctrls_now();
		scope.before = (const char *const *)before;
	}
	if (nvmf_add_ctrl(h, c, &cfg) == 0) {
		snprintf(ret->ctrl, sizeof(ret->ctrl), "%s", nvme_ctrl_get_name(c));
		if (kfd >= 0)
			close(kfd);
	} else {
		ret->err = errno_of(errno);
		kernel_lines(kfd, &scope, ret);
		/* Never joined the tree (libnvme 1.3): freeing the tree would not free it. */
		nvme_free_ctrl(c);
	}
	ret->elapsed = now_usec() - start;
}

void fabrics_disconnect(const char *ctrl, struct fabrics_result *ret)
{
	_cleanup_(root_freep) nvme_root_t r = root_new();
	usec_t start = now_usec();
	nvme_ctrl_t c;

	*ret = (struct fabrics_result){ 0 };
	c = r ? nvme_scan_ctrl(r, ctrl) : NULL;
	if (!c)
		ret->err = errno ? -errno : -ENOENT;
	else if (nvme_disconnect_ctrl(c) < 0)
		ret->err = -errno;
	ret->elapsed = now_usec() - start;
}

/* Read the header with RAE cleared: re-arms the log-change AEN. */
static void clear_rae(int fd)
{
	uint8_t header[1024];

	nvme_get_log_discovery(fd, false, 0, sizeof(header), header);
}

void fabrics_read_discovery_log(const char *ctrl, void **raw, size_t *len, struct fabrics_result *ret)
{
	_cleanup_(root_freep) nvme_root_t r = root_new();
	struct nvmf_discovery_log *log = NULL;
	usec_t start = now_usec();
	nvme_ctrl_t c;
	int kfd;

	*ret = (struct fabrics_result){ 0 };
	*raw = NULL;
	*len = 0;
	c = r ? nvme_scan_ctrl(r, ctrl) : NULL;
	if (!c) {
		ret->err = errno ? -errno : -ENOENT;
		return;
	}
	kfd = kmsg_open(NULL);
	if (nvmf_get_discovery_log(c, &log, 4) < 0) {
		const struct connect_scope scope = { .ctrl = ctrl };

		ret->err = errno ? -errno : -EIO;
		kernel_lines(kfd, &scope, ret);
	} else if (le64toh(log->numrec) > DISC_MAX_RECORDS) {
		/* libnvme sized its buffer from numrec: no length past that is trusted */
		if (kfd >= 0)
			close(kfd);
		free(log);
		ret->err = -E2BIG;
	} else {
		if (kfd >= 0)
			close(kfd);
		*raw = log;
		*len = sizeof(*log) + le64toh(log->numrec) * sizeof(log->entries[0]);
	}
	/* Whatever happened: the AEN must be able to fire again. */
	if (nvme_ctrl_get_fd(c) >= 0)
		clear_rae(nvme_ctrl_get_fd(c));
	ret->elapsed = now_usec() - start;
}
