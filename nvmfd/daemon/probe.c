/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/probe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "base/macro.h"
#include "kernel/netroute.h"
#include "kernel/rdmacm.h"

/* A TCP probe's whole budget; an RDMA CM probe's, in the child. */
#define TCP_TIMEOUT_USEC (900 * 1000ULL)
#define RDMA_TIMEOUT_MS 900
#define HELPER_TIMEOUT_USEC (3 * 1000 * 1000ULL)
#define MAX_TARGETS 64

extern char **environ;

struct tcp_probe {
	struct prober *p;
	size_t idx;
	int fd;
	sd_event_source *io;
};

struct prober {
	sd_event *loop;
	char *helper;
	probe_done_t done;
	void *userdata;
	struct probe_target targets[MAX_TARGETS];
	size_t n;
	unsigned pending;
	struct tcp_probe tcp[MAX_TARGETS];
	sd_event_source *timeout, *child_timeout;
	/* the RDMA CM child */
	pid_t child;
	int child_fd;
	sd_event_source *child_io;
	char out[8192];
	size_t out_len;
	bool rdma_idx[MAX_TARGETS];
};

static void answer(struct prober *p, size_t idx, enum probe_answer a, const char *detail)
{
	if (p->pending)
		p->pending--;
	p->done(p->userdata, &p->targets[idx], a, detail);
}

static void tcp_close(struct tcp_probe *t)
{
	t->io = sd_event_source_disable_unref(t->io);
	if (t->fd >= 0) {
		/* A reset, not a FIN: no TIME_WAIT left behind, once a second. */
		struct linger l = { .l_onoff = 1, .l_linger = 0 };

		setsockopt(t->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
		close(t->fd);
		t->fd = -1;
	}
}

static void tcp_finish(struct tcp_probe *t, int err)
{
	struct prober *p = t->p;
	char detail[128];

	tcp_close(t);
	if (err == 0) {
		answer(p, t->idx, PROBE_UP, "TCP connect accepted");
		return;
	}
	snprintf(detail, sizeof(detail), "TCP connect: %s", strerror(err));
	answer(p, t->idx, err == ECONNREFUSED || err == ETIMEDOUT || err == EHOSTUNREACH || err == ENETUNREACH
				  ? PROBE_DOWN : PROBE_UNKNOWN, detail);
}

static int on_tcp(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata)
{
	struct tcp_probe *t = userdata;
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	tcp_finish(t, err);
	return 0;
}

static void tcp_start(struct prober *p, size_t idx)
{
	struct tcp_probe *t = &p->tcp[idx];
	const struct probe_target *pt = &p->targets[idx];
	int r;

	*t = (struct tcp_probe){ .p = p, .idx = idx, .fd = -1 };
	r = netroute_tcp_connect(pt->traddr, pt->trsvcid, pt->src, &t->fd);
	if (r != -EINPROGRESS) {
		tcp_finish(t, -r);
		return;
	}
	if (sd_event_add_io(p->loop, &t->io, t->fd, EPOLLOUT, on_tcp, t) < 0)
		tcp_finish(t, ENOMEM);
}

/* The child's lines: "IDX OUTCOME DETAIL". */
static void parse_child(struct prober *p)
{
	char *save = NULL;

	p->out[p->out_len] = '\0';
	for (char *line = strtok_r(p->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char outcome[32];
		int off = 0, o;
		unsigned long idx;

		if (sscanf(line, "%lu %31s %n", &idx, outcome, &off) < 2 || idx >= p->n || !p->rdma_idx[idx])
			continue;
		p->rdma_idx[idx] = false;
		o = rdmacm_outcome_from_string(outcome);
		answer(p, idx, o == RDMACM_LISTENING ? PROBE_UP
			       : o == RDMACM_NOT_LISTENING || o == RDMACM_UNREACHABLE || o == RDMACM_TIMEOUT ? PROBE_DOWN
			       : PROBE_UNKNOWN, line + off);
	}
}

static void child_reap(struct prober *p, const char *why)
{
	p->child_io = sd_event_source_disable_unref(p->child_io);
	if (p->child_fd >= 0) {
		close(p->child_fd);
		p->child_fd = -1;
	}
	if (p->child > 0) {
		kill(p->child, SIGKILL); /* gone already, or overdue */
		waitpid(p->child, NULL, 0);
		p->child = 0;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->rdma_idx[i]) {
			p->rdma_idx[i] = false;
			answer(p, i, PROBE_UNKNOWN, why);
		}
}

static int on_child(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata)
{
	struct prober *p = userdata;
	ssize_t n = read(fd, p->out + p->out_len, sizeof(p->out) - 1 - p->out_len);

	if (n > 0) {
		p->out_len += (size_t)n;
		if (p->out_len < sizeof(p->out) - 1)
			return 0;
	} else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		return 0;
	}
	/* EOF (or full): the answers are in */
	parse_child(p);
	child_reap(p, "the RDMA CM probe gave no answer");
	return 0;
}

static void child_start(struct prober *p)
{
	char *argv[MAX_TARGETS + 4];
	char args[MAX_TARGETS][160];
	char timeout[16];
	size_t k = 0;
	int pipefd[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int r;

	argv[k++] = p->helper;
	argv[k++] = (char *)"--probe-rdma";
	snprintf(timeout, sizeof(timeout), "%d", RDMA_TIMEOUT_MS);
	argv[k++] = timeout;
	for (size_t i = 0; i < p->n; i++)
		if (p->rdma_idx[i]) {
			snprintf(args[i], sizeof(args[i]), "%s,%s,%s", p->targets[i].traddr, p->targets[i].trsvcid,
				 p->targets[i].src);
			argv[k++] = args[i];
		} else {
			argv[k++] = (char *)"-";
		}
	argv[k] = NULL;
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		child_reap(p, "cannot start the RDMA CM probe: no pipe");
		return;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	/* the daemon blocks the signals its loop takes; the child must not */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	r = posix_spawn(&p->child, p->helper, &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	p->child_fd = pipefd[0];
	p->out_len = 0;
	if (r != 0) {
		char why[128];

		p->child = 0;
		snprintf(why, sizeof(why), "cannot start the RDMA CM probe %s: %s", p->helper, strerror(r));
		child_reap(p, why);
		return;
	}
	fcntl(p->child_fd, F_SETFL, O_NONBLOCK);
	if (sd_event_add_io(p->loop, &p->child_io, p->child_fd, EPOLLIN, on_child, p) < 0)
		child_reap(p, "cannot watch the RDMA CM probe");
}

static int on_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct prober *p = userdata;

	for (size_t i = 0; i < p->n; i++)
		if (!p->targets[i].rdma_cm && p->tcp[i].fd >= 0)
			tcp_finish(&p->tcp[i], ETIMEDOUT);
	return 0;
}

static int on_child_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	struct prober *p = userdata;

	if (p->child > 0) {
		parse_child(p);
		child_reap(p, "the RDMA CM probe took too long");
	}
	return 0;
}

int prober_new(sd_event *loop, const char *helper, probe_done_t done, void *userdata, struct prober **ret)
{
	struct prober *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->loop = sd_event_ref(loop);
	p->helper = helper ? strdup(helper) : NULL;
	p->done = done;
	p->userdata = userdata;
	p->child_fd = -1;
	for (size_t i = 0; i < MAX_TARGETS; i++)
		p->tcp[i].fd = -1;
	*ret = p;
	return 0;
}

void prober_free(struct prober *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		tcp_close(&p->tcp[i]);
	p->n = 0; /* no answers while freeing */
	child_reap(p, "");
	sd_event_source_disable_unref(p->timeout);
	sd_event_source_disable_unref(p->child_timeout);
	sd_event_unref(p->loop);
	free(p->helper);
	free(p);
}

bool prober_busy(const struct prober *p)
{
	return p->pending > 0 || p->child > 0;
}

int prober_run(struct prober *p, const struct probe_target *v, size_t n)
{
	bool any_rdma = false;
	uint64_t now;

	if (prober_busy(p))
		return -EBUSY;
	if (n > MAX_TARGETS)
		n = MAX_TARGETS;
	memcpy(p->targets, v, n * sizeof(*v));
	p->n = n;
	p->pending = (unsigned)n;
	sd_event_now(p->loop, CLOCK_MONOTONIC, &now);
	for (size_t i = 0; i < n; i++) {
		p->rdma_idx[i] = v[i].rdma_cm && p->helper;
		any_rdma |= p->rdma_idx[i];
		p->tcp[i].fd = -1;
	}
	p->timeout = sd_event_source_disable_unref(p->timeout);
	p->child_timeout = sd_event_source_disable_unref(p->child_timeout);
	if (sd_event_add_time(p->loop, &p->timeout, CLOCK_MONOTONIC, now + TCP_TIMEOUT_USEC, 0, on_timeout, p) < 0 ||
	    (any_rdma && sd_event_add_time(p->loop, &p->child_timeout, CLOCK_MONOTONIC, now + HELPER_TIMEOUT_USEC, 0,
					   on_child_timeout, p) < 0)) {
		p->n = p->pending = 0;
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i].rdma_cm && !p->helper)
			answer(p, i, PROBE_UNKNOWN, "no RDMA CM probe");
		else if (!v[i].rdma_cm)
			tcp_start(p, i);
	}
	if (any_rdma)
		child_start(p);
	return 0;
}

int probe_helper_main(int argc, char **argv)
{
	int timeout_ms;

	if (argc < 2)
		return 2;
	timeout_ms = atoi(argv[1]);
	if (timeout_ms <= 0 || timeout_ms > 60000)
		timeout_ms = RDMA_TIMEOUT_MS;
	for (int i = 2; i < argc; i++) {
		char buf[200], *traddr, *trsvcid, *src, *save = NULL;
		struct rdmacm_result r;

		if (streq(argv[i], "-"))
			continue;
		snprintf(buf, sizeof(buf), "%s", argv[i]);
		traddr = strtok_r(buf, ",", &save);
		trsvcid = strtok_r(NULL, ",", &save);
		src = strtok_r(NULL, ",", &save);
		if (!traddr || !trsvcid)
			continue;
		rdmacm_probe(traddr, trsvcid, src, timeout_ms, &r);
		printf("%d %s %s\n", i - 2, rdmacm_outcome_to_string(r.outcome), r.detail);
		fflush(stdout);
	}
	return 0;
}
