/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/probe.h"

#include <errno.h>
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
	/*
	 * The RDMA CM child. Its output and its exit come in either order:
	 * the loop reads the one and reaps the other (the child source, held
	 * until then), and the round lasts until both are done, so there is
	 * never a second child beside a first.
	 */
	sd_event_source *child, *child_io;
	int child_fd;
	siginfo_t child_exit;  /* si_code 0 until it is reaped */
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
	r = netroute_tcp_connect(pt->traddr, pt->trsvcid, pt->src, pt->iface, &t->fd);
	if (r != -EINPROGRESS) {
		tcp_finish(t, -r);
		return;
	}
	if (sd_event_add_io(p->loop, &t->io, t->fd, EPOLLOUT, on_tcp, t) < 0)
		tcp_finish(t, ENOMEM);
}

/*
 * What an RDMA CM probe's outcome says of the target's port. Silent (DOWN)
 * is every answer that comes from the fabric: nothing listens, the request
 * or the address (the target's neighbour entry: ARP) got no answer. A
 * kernel connect would wait out the same silence, so the path holds its
 * connects on it (path.h). A local failure (the device, the CM itself)
 * says nothing of the target.
 */
static enum probe_answer rdma_answer_of(int outcome, int err)
{
	switch (outcome) {
	case RDMACM_LISTENING:
		return PROBE_UP;
	case RDMACM_NOT_LISTENING:
	case RDMACM_UNREACHABLE:
	case RDMACM_TIMEOUT:
		return PROBE_DOWN;
	case RDMACM_ADDR_ERROR:
		return err == -ETIMEDOUT || err == -EHOSTUNREACH || err == -ENODATA || err == -ENETUNREACH ? PROBE_DOWN
														   : PROBE_UNKNOWN;
	default:
		return PROBE_UNKNOWN;
	}
}

/* The child's lines: "IDX OUTCOME ERR DETAIL". */
static void parse_child(struct prober *p)
{
	char *save = NULL;

	p->out[p->out_len] = '\0';
	for (char *line = strtok_r(p->out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char outcome[32];
		int off = 0, err = 0;
		unsigned long idx;

		if (sscanf(line, "%lu %31s %d %n", &idx, outcome, &err, &off) < 3 || idx >= p->n || !p->rdma_idx[idx])
			continue;
		p->rdma_idx[idx] = false;
		answer(p, idx, rdma_answer_of(rdmacm_outcome_from_string(outcome), err), line + off);
	}
}

static void rdma_answer_rest(struct prober *p, const char *why)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->rdma_idx[i]) {
			p->rdma_idx[i] = false;
			answer(p, i, PROBE_UNKNOWN, why);
		}
}

static void child_output_close(struct prober *p)
{
	p->child_io = sd_event_source_disable_unref(p->child_io);
	if (p->child_fd >= 0) {
		close(p->child_fd);
		p->child_fd = -1;
	}
}

/* Output read and child gone: what it left unanswered gets its exit's reason. */
static void child_settle(struct prober *p)
{
	const siginfo_t *si = &p->child_exit;
	char why[128];

	if (p->child_fd >= 0 || si->si_code == 0)
		return;
	if (si->si_code == CLD_EXITED && si->si_status == 0)
		snprintf(why, sizeof(why), "the RDMA CM probe gave no answer");
	else if (si->si_code == CLD_EXITED)
		snprintf(why, sizeof(why), "the RDMA CM probe exited with status %d and no answer", si->si_status);
	else
		snprintf(why, sizeof(why), "the RDMA CM probe was killed by SIG%s", strempty(sigabbrev_np(si->si_status)));
	rdma_answer_rest(p, why);
}

static int on_child_exit(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct prober *p = userdata;

	/* sd-event reaps the child once this returns */
	if (!p) {
		/* a freed prober's child (child_orphan): the loop lets the source go */
		(void)sd_event_source_set_floating(s, false);
		return 0;
	}
	p->child_exit = *si;
	p->child = sd_event_source_unref(p->child);
	child_settle(p);
	return 0;
}

static int on_child_output(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata)
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
	child_output_close(p);
	child_settle(p);
	return 0;
}

/* Killed, the child is reaped by its source once it is gone: nothing waits for it. */
static void child_kill(struct prober *p)
{
	if (p->child)
		(void)sd_event_source_send_child_signal(p->child, SIGKILL, NULL, 0);
}

/*
 * A child still running when its prober goes is killed and left to the
 * loop, which reaps it when it is gone (on_child_exit) and then frees the
 * source; should the loop go first, the child goes to init with nvmfd.
 */
static void child_orphan(struct prober *p)
{
	if (!p->child)
		return;
	child_kill(p);
	sd_event_source_set_userdata(p->child, NULL);
	(void)sd_event_source_set_floating(p->child, true);
	p->child = sd_event_source_unref(p->child);
}

/* "HELPER --probe-rdma TIMEOUT_MS TARGET...", with "-" for a target that is not the child's. */
struct child_args {
	char *argv[MAX_TARGETS + 4];
	char args[MAX_TARGETS][160];
	char timeout[16];
};

static void child_args_fill(struct prober *p, struct child_args *a)
{
	size_t k = 0;

	a->argv[k++] = p->helper;
	a->argv[k++] = (char *)"--probe-rdma";
	snprintf(a->timeout, sizeof(a->timeout), "%d", RDMA_TIMEOUT_MS);
	a->argv[k++] = a->timeout;
	for (size_t i = 0; i < p->n; i++)
		if (p->rdma_idx[i]) {
			snprintf(a->args[i], sizeof(a->args[i]), "%s,%s,%s", p->targets[i].traddr,
				 p->targets[i].trsvcid, p->targets[i].src);
			a->argv[k++] = a->args[i];
		} else {
			a->argv[k++] = (char *)"-";
		}
	a->argv[k] = NULL;
}

/* The child, its stdout the non-blocking RET_FD. */
static int child_spawn(struct prober *p, pid_t *ret_pid, int *ret_fd)
{
	_cleanup_close_ int rd = -1, wr = -1;
	struct child_args a;
	int pipefd[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none;
	int r;

	child_args_fill(p, &a);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	rd = pipefd[0];
	wr = pipefd[1];
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
	/* the daemon blocks the signals its loop takes; the child must not */
	sigemptyset(&none);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	r = posix_spawn(ret_pid, p->helper, &fa, &attr, a.argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	fcntl(rd, F_SETFL, O_NONBLOCK);
	*ret_fd = rd;
	rd = -1;
	return 0;
}

/* sd-event reaps children only with SIGCHLD blocked (in every thread: nvmfd's main() does it). */
static bool sigchld_blocked(void)
{
	sigset_t ss;

	return pthread_sigmask(SIG_BLOCK, NULL, &ss) == 0 && sigismember(&ss, SIGCHLD) == 1;
}

/* Watched by the loop: its exit through a child source, its output through the pipe. */
static int child_watch(struct prober *p, pid_t pid)
{
	int r = sd_event_add_child(p->loop, &p->child, pid, WEXITED, on_child_exit, p);

	if (r >= 0)
		r = sd_event_add_io(p->loop, &p->child_io, p->child_fd, EPOLLIN, on_child_output, p);
	if (r >= 0 || p->child)
		return r;
	/* No source to reap it (out of memory, or of file descriptors): the
	 * child is killed before it has done more than start, and reaped
	 * here rather than left a zombie; the wait lasts as long as its
	 * exit, with nothing of the RDMA CM yet to tear down. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

static void child_start(struct prober *p)
{
	char why[160];
	pid_t pid;
	int r;

	p->child_exit = (siginfo_t){ 0 };
	p->out_len = 0;
	if (!sigchld_blocked()) {
		rdma_answer_rest(p, "cannot start the RDMA CM probe: SIGCHLD is not blocked, so nothing could reap it");
		return;
	}
	r = child_spawn(p, &pid, &p->child_fd);
	if (r < 0) {
		snprintf(why, sizeof(why), "cannot start the RDMA CM probe %s: %s", p->helper, strerror(-r));
		rdma_answer_rest(p, why);
		return;
	}
	r = child_watch(p, pid);
	if (r < 0) {
		child_output_close(p);
		child_kill(p);
		snprintf(why, sizeof(why), "cannot watch the RDMA CM probe: %s", strerror(-r));
		rdma_answer_rest(p, why);
	}
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

	if (p->child_fd >= 0) {
		parse_child(p);
		child_output_close(p);
	}
	rdma_answer_rest(p, "the RDMA CM probe took too long");
	child_kill(p);
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
	child_output_close(p);
	child_orphan(p);
	sd_event_source_disable_unref(p->timeout);
	sd_event_source_disable_unref(p->child_timeout);
	sd_event_unref(p->loop);
	free(p->helper);
	free(p);
}

bool prober_busy(const struct prober *p)
{
	return p->pending > 0 || p->child;
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
		printf("%d %s %d %s\n", i - 2, rdmacm_outcome_to_string(r.outcome), r.err, r.detail);
		fflush(stdout);
	}
	return 0;
}
