/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lab-fabrics: drives the fabrics adapter from a lab scenario, against the
 * real kernel. One operation per run, one line of result on stdout.
 *
 *   lab-fabrics connect [--discovery] [--persistent] TRANSPORT TRADDR TRSVCID SUBSYSNQN
 *   lab-fabrics disconnect nvmeN
 *   lab-fabrics disc-log nvmeN
 *   lab-fabrics find TRANSPORT TRADDR TRSVCID SUBSYSNQN   (the controller with that identity)
 *   lab-fabrics watch-state nvmeN SECONDS   (does poll() on sysfs "state" wake on a change?)
 *
 * hostnqn and hostid come from /etc/nvme.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/connect-error.h"
#include "core/discovery.h"
#include "kernel/fabrics.h"
#include "base/macro.h"
#include "kernel/sysfs.h"

static void read_file(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void ident_args(struct ident *id, char **argv)
{
	*id = (struct ident){ 0 };
	snprintf(id->transport, sizeof(id->transport), "%s", argv[0]);
	snprintf(id->traddr, sizeof(id->traddr), "%s", argv[1]);
	snprintf(id->trsvcid, sizeof(id->trsvcid), "%s", argv[2]);
	snprintf(id->subsysnqn, sizeof(id->subsysnqn), "%s", argv[3]);
	read_file("/etc/nvme/hostnqn", id->hostnqn, sizeof(id->hostnqn));
}

static int cmd_connect(int argc, char **argv)
{
	struct fabrics_connect_args a = { .opts = inv_fabrics_default };
	struct fabrics_result r;
	char reason[512];
	int i = 0;

	for (; i < argc && argv[i][0] == '-'; i++) {
		a.discovery |= streq(argv[i], "--discovery");
		a.persistent |= streq(argv[i], "--persistent");
	}
	if (argc - i != 4)
		return 2;
	ident_args(&a.id, argv + i);
	read_file("/etc/nvme/hostid", a.hostid, sizeof(a.hostid));
	fabrics_connect(&a, &r);
	if (r.err == 0) {
		printf("ok %s %llums\n", r.ctrl, (unsigned long long)(r.elapsed / 1000));
		return 0;
	}
	enum connect_class c = connect_classify(r.err, r.kernel_log, reason, sizeof(reason));
	printf("err %d %s: %s\n", r.err, connect_class_to_string(c), reason);
	return 1;
}

static int cmd_disconnect(char *ctrl)
{
	struct fabrics_result r;

	fabrics_disconnect(ctrl, &r);
	printf(r.err ? "err %d\n" : "ok\n", r.err);
	return r.err ? 1 : 0;
}

static int cmd_disc_log(char *ctrl)
{
	struct fabrics_result r;
	struct disc_log log;
	void *raw;
	size_t len;

	fabrics_read_discovery_log(ctrl, &raw, &len, &r);
	if (r.err) {
		printf("err %d %s\n", r.err, r.kernel_log);
		return 1;
	}
	if (disc_log_parse(raw, len, &log) < 0) {
		printf("err unparsable\n");
		free(raw);
		return 1;
	}
	printf("ok genctr %llu records %zu dropped %zu\n", (unsigned long long)log.genctr, log.n, log.n_dropped);
	for (size_t i = 0; i < log.n; i++)
		printf("entry %s %s %s subtype %d %s\n", transport_to_string(log.entries[i].transport),
		       log.entries[i].traddr, log.entries[i].trsvcid, log.entries[i].subtype, log.entries[i].subnqn);
	disc_log_free(&log);
	free(raw);
	return 0;
}

static int cmd_find(char **argv)
{
	struct ident want;
	struct ctrl_info *v;
	size_t n;
	int found = 0;

	ident_args(&want, argv);
	if (sysfs_ctrl_scan("/sys", &v, &n) < 0)
		return 1;
	for (size_t i = 0; i < n; i++)
		if (ident_equal(&v[i].id, &want)) {
			printf("ok %s %s\n", v[i].name, v[i].state);
			found++;
		}
	if (!found)
		printf("none\n");
	free(v);
	return found == 1 ? 0 : 1;
}

/* Print every wake-up of poll(POLLPRI) on the state attribute, with the state read then. */
static int cmd_watch_state(const char *ctrl, int seconds)
{
	char path[128], buf[64];
	int fd, wakes = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/nvme/%s/state", ctrl);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return printf("err %d\n", -errno), 1;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n - 1 : 0] = '\0';
	printf("start %s\n", buf);
	fflush(stdout);
	for (int left = seconds * 1000; left > 0; left -= 100) {
		struct pollfd p = { .fd = fd, .events = POLLPRI | POLLERR };
		int r = poll(&p, 1, 100);

		if (r > 0) {
			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n - 1 : 0] = '\0';
			printf("wake %s revents %#x\n", n > 0 ? buf : "(gone)", p.revents);
			fflush(stdout);
			if (++wakes > 20 || n <= 0)
				break;
		}
	}
	printf("wakes %d\n", wakes);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && streq(argv[1], "watch-state"))
		return cmd_watch_state(argv[2], atoi(argv[3]));
	if (argc >= 2 && streq(argv[1], "connect"))
		return cmd_connect(argc - 2, argv + 2);
	if (argc == 3 && streq(argv[1], "disconnect"))
		return cmd_disconnect(argv[2]);
	if (argc == 3 && streq(argv[1], "disc-log"))
		return cmd_disc_log(argv[2]);
	if (argc == 6 && streq(argv[1], "find"))
		return cmd_find(argv + 2);
	fprintf(stderr, "usage: see the head of tests/vm/lab-fabrics.c\n");
	return 2;
}
