/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/sysfs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fileio.h"
#include "core/devname.h"
#include "base/macro.h"
#include "base/nqn.h"

static int read_attr(const char *dir, const char *attr, char *buf, size_t size)
{
	char path[PATH_MAX];
	int r;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, attr) >= sizeof(path))
		return -ENAMETOOLONG;
	r = read_one_line(path, buf, size);
	return r == -ENODATA ? 0 : r; /* an empty attribute reads as "" */
}

void sysfs_parse_address(const char *text, struct ident *id)
{
	static const struct {
		const char *key;
		size_t off, size;
	} fields[] = {
		{ "traddr=", offsetof(struct ident, traddr), sizeof(((struct ident *)0)->traddr) },
		{ "trsvcid=", offsetof(struct ident, trsvcid), sizeof(((struct ident *)0)->trsvcid) },
		{ "host_traddr=", offsetof(struct ident, host_traddr), sizeof(((struct ident *)0)->host_traddr) },
		{ "host_iface=", offsetof(struct ident, host_iface), sizeof(((struct ident *)0)->host_iface) },
	};

	for (const char *p = text; p && *p;) {
		size_t len = strcspn(p, ",");

		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			size_t k = strlen(fields[i].key);

			if (len >= k && strncmp(p, fields[i].key, k) == 0)
				snprintf((char *)id + fields[i].off, fields[i].size, "%.*s", (int)(len - k), p + k);
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

int sysfs_ctrl_read(const char *sysfs, const char *name, struct ctrl_info *ret)
{
	char dir[PATH_MAX], buf[512];
	int r;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/class/nvme/%s", sysfs, name) >= sizeof(dir))
		return -ENAMETOOLONG;
	*ret = (struct ctrl_info){ 0 };
	snprintf(ret->name, sizeof(ret->name), "%s", name);
	if ((r = read_attr(dir, "transport", ret->id.transport, sizeof(ret->id.transport))) < 0)
		return r;
	if ((r = read_attr(dir, "address", buf, sizeof(buf))) < 0)
		return r;
	sysfs_parse_address(buf, &ret->id);
	if ((r = read_attr(dir, "subsysnqn", ret->id.subsysnqn, sizeof(ret->id.subsysnqn))) < 0)
		return r;
	/* Older kernels lack these; a missing one reads as empty. */
	read_attr(dir, "hostnqn", ret->id.hostnqn, sizeof(ret->id.hostnqn));
	read_attr(dir, "hostid", ret->hostid, sizeof(ret->hostid));
	read_attr(dir, "state", ret->state, sizeof(ret->state));
	if (read_attr(dir, "cntlid", buf, sizeof(buf)) == 0)
		ret->cntlid = (unsigned)strtoul(buf, NULL, 0);
	ret->discovery = streq(ret->id.subsysnqn, NQN_DISCOVERY);
	return 0;
}

int sysfs_ctrl_state(const char *sysfs, const char *name, char *buf, size_t size)
{
	char dir[PATH_MAX];

	if ((size_t)snprintf(dir, sizeof(dir), "%s/class/nvme/%s", sysfs, name) >= sizeof(dir))
		return -ENAMETOOLONG;
	return read_attr(dir, "state", buf, size);
}

int sysfs_ctrl_rescan(const char *sysfs, const char *name)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if ((size_t)snprintf(path, sizeof(path), "%s/class/nvme/%s/rescan_controller", sysfs, name) >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (write(fd, "1", 1) != 1)
		r = errno ? -errno : -EIO;
	close(fd);
	return r;
}

int sysfs_ns_subsysnqn(const char *sysfs, const char *ns, char *buf, size_t size)
{
	char dir[PATH_MAX];

	/* a head's device is its nvme-subsystem, a private namespace's its controller: both have subsysnqn */
	if ((size_t)snprintf(dir, sizeof(dir), "%s/class/block/%s/device", sysfs, ns) >= sizeof(dir))
		return -ENAMETOOLONG;
	return read_attr(dir, "subsysnqn", buf, size);
}

int sysfs_ctrl_scan(const char *sysfs, struct ctrl_info **ret, size_t *ret_n)
{
	char dir[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct ctrl_info *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/class/nvme", sysfs);
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			return -errno;
		*ret = NULL;
		*ret_n = 0;
		return 0; /* nvme-core not loaded: no controllers */
	}
	while ((de = readdir(d))) {
		struct ctrl_info c;

		if (!devname_is_ctrl(de->d_name) || sysfs_ctrl_read(sysfs, de->d_name, &c) < 0)
			continue; /* gone while we looked, or a PCIe controller without fabrics attributes */
		if (streq(c.id.transport, "pcie"))
			continue;
		if (n == cap) {
			struct ctrl_info *nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = c;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

struct names {
	char **v;
	size_t n, cap;
};

static void names_free(struct names *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->v[i]);
	free(x->v);
}

static int list_namespaces(const char *dir, struct names *x)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (!devname_is_ns(de->d_name))
			continue;
		if (x->n == x->cap) {
			size_t cap = x->cap ? x->cap * 2 : 16;
			char **v = realloc(x->v, cap * sizeof(*v));

			if (!v)
				return -ENOMEM;
			x->v = v;
			x->cap = cap;
		}
		if (!(x->v[x->n] = strdup(de->d_name)))
			return -ENOMEM;
		x->n++;
	}
	return 0;
}

/* nvme1n2 before nvme1n10: the numbers as numbers. */
static int ns_order(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

static int names_join(struct names *x, char **ret)
{
	size_t len = 1, off = 0;
	char *s;

	if (x->n > 1)
		qsort(x->v, x->n, sizeof(*x->v), ns_order);
	for (size_t i = 0; i < x->n; i++)
		len += strlen(x->v[i]) + 1;
	s = malloc(len);
	if (!s)
		return -ENOMEM;
	s[0] = '\0';
	for (size_t i = 0; i < x->n; i++)
		off += (size_t)sprintf(s + off, "%s%s", i ? " " : "", x->v[i]);
	*ret = s;
	return 0;
}

/* The heads under the subsystem that links to controller NAME (native multipath). */
static int list_heads(const char *sysfs, const char *name, struct names *x)
{
	char dir[PATH_MAX];
	_cleanup_(closedirp) DIR *subsystems = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/class/nvme-subsystem", sysfs);
	subsystems = opendir(dir);
	while (subsystems && (de = readdir(subsystems))) {
		char sub[PATH_MAX], link[PATH_MAX];

		if (de->d_name[0] == '.' || (size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) >= sizeof(sub) ||
		    (size_t)snprintf(link, sizeof(link), "%s/%s", sub, name) >= sizeof(link) || access(link, F_OK) < 0)
			continue;
		return list_namespaces(sub, x);
	}
	return 0;
}

int sysfs_ctrl_namespaces(const char *sysfs, const char *name, char **ret)
{
	char dir[PATH_MAX];
	struct names x = { 0 };
	int r;

	/* Without native multipath: the controller's own nvmeXnY. */
	snprintf(dir, sizeof(dir), "%s/class/nvme/%s", sysfs, name);
	r = list_namespaces(dir, &x);
	if (r >= 0)
		r = list_heads(sysfs, name, &x);
	if (r >= 0)
		r = names_join(&x, ret);
	names_free(&x);
	return r;
}
