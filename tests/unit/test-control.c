/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon/control.h"
#include "base/diag.h"
#include "base/macro.h"

static char dir[] = "/tmp/nvmfd-ctl-XXXXXX";
static char sock[128];

static void handler(void *userdata _unused_, struct json_object *req, struct json_object **reply)
{
	struct json_object *cmd = NULL;

	*reply = json_object_new_object();
	json_object_object_get_ex(req, "command", &cmd);
	if (cmd && streq(json_object_get_string(cmd), "big")) {
		size_t n = CONTROL_MAX_REPLY + 1;
		char *big = malloc(n);

		memset(big, 'x', n);
		json_object_object_add(*reply, "big", json_object_new_string_len(big, (int)n));
		free(big);
		return;
	}
	if (cmd && streq(json_object_get_string(cmd), "reload")) {
		struct diags d = { 0 };

		/* as nvmfd answers a reload of a broken inventory */
		diags_add(&d, DIAG_ERROR, "/etc/nvmfd/nvmfd.yaml", 15, 20, "reconnect_delay is in whole seconds: 1500ms is not");
		diags_add(&d, DIAG_WARNING, "/etc/nvmfd/nvmfd.yaml", 3, 1, "a warning stays in the log");
		diags_add(&d, DIAG_ERROR, "/etc/nvmfd/keys/host.key", 0, 0, "readable by others");
		json_object_object_add(*reply, "ok", json_object_new_boolean(false));
		json_object_object_add(*reply, "error", json_object_new_string("the inventory has errors; nothing changed"));
		json_object_object_add(*reply, "errors", control_errors_json(&d));
		diags_clear(&d);
		return;
	}
	json_object_object_add(*reply, "ok", json_object_new_boolean(cmd != NULL));
	json_object_object_add(*reply, "echo", cmd ? json_object_get(cmd) : NULL);
}

struct client_run {
	const char *send;
	size_t len;
	const bool *after; /* connected, then quiet until this is true */
	bool until_eof;    /* read until the server closes, not just a line */
	bool done;
	char got[512];
	bool closed;
	int err;
	struct json_object *call_reply;
	bool use_call;
	const char *command; /* control_call's (default status) */
};

/* A raw client: send, then read what comes until the server closes or a line ends. */
static void *client_thread(void *arg)
{
	struct client_run *c = arg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	size_t off = 0;
	int fd;

	if (c->use_call) {
		struct json_object *req = json_object_new_object();

		json_object_object_add(req, "command", json_object_new_string(c->command ? c->command : "status"));
		c->err = control_call(sock, req, 5 * USEC_PER_SEC, &c->call_reply);
		json_object_put(req);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, sock, strlen(sock));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		c->err = -errno;
		close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (int i = 0; c->after && !__atomic_load_n(c->after, __ATOMIC_ACQUIRE) && i < 10000; i++)
		usleep(1000);
	if (c->len)
		(void)!write(fd, c->send, c->len);
	for (;;) {
		ssize_t n = read(fd, c->got + off, sizeof(c->got) - 1 - off);

		if (n <= 0) {
			c->closed = n == 0 || errno == ECONNRESET;
			break;
		}
		off += (size_t)n;
		c->got[off] = '\0';
		if (!c->until_eof && strchr(c->got, '\n') && c->len && memchr(c->send, '\n', c->len))
			break;
	}
	close(fd);
	__atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Run the server's loop until the client threads are done; a client silent
 * for TIMEOUT is dropped. */
static void run_clients(struct client_run *v, size_t n, usec_t timeout)
{
	sd_event *loop = NULL;
	struct control *ctl = NULL;
	pthread_t t[8];
	bool joined[8] = { false };
	size_t left = n;

	assert_true(n <= ARRAY_SIZE(t));
	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(control_new(loop, sock, handler, NULL, &ctl), 0);
	control_set_client_timeout(ctl, timeout);
	for (size_t k = 0; k < n; k++)
		assert_int_equal(pthread_create(&t[k], NULL, client_thread, &v[k]), 0);
	for (int i = 0; i < 2000 && left; i++) {
		sd_event_run(loop, 5 * USEC_PER_MSEC);
		for (size_t k = 0; k < n; k++)
			if (!joined[k] && pthread_tryjoin_np(t[k], NULL) == 0) {
				joined[k] = true;
				left--;
			}
	}
	assert_int_equal(left, 0);
	control_free(ctl);
	sd_event_unref(loop);
}

static void run_client(struct client_run *c)
{
	run_clients(c, 1, 300 * USEC_PER_MSEC);
}

static int setup(void **state _unused_)
{
	strcpy(dir, "/tmp/nvmfd-ctl-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock, sizeof(sock), "%s/run/nvmfd.sock", dir);
	return 0;
}

static int teardown(void **state _unused_)
{
	char p[160];

	unlink(sock); /* left by a test that failed */
	snprintf(p, sizeof(p), "%s/run", dir);
	rmdir(p);
	return rmdir(dir);
}

static void control_test_answers_a_request_per_line(void **state _unused_)
{
	static const char req[] = "{\"command\":\"status\"}\n";
	struct client_run c = { .send = req, .len = sizeof(req) - 1 };
	struct stat st;

	run_client(&c);
	assert_string_equal(c.got, "{\"ok\":true,\"echo\":\"status\"}\n");
	/* The socket is gone with the server; its directory stays, mode 0700. */
	assert_int_equal(stat(sock, &st), -1);
}

static void control_test_socket_is_private(void **state _unused_)
{
	sd_event *loop = NULL;
	struct control *ctl = NULL;
	struct stat st;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(control_new(loop, sock, handler, NULL, &ctl), 0);
	assert_int_equal(stat(sock, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	control_free(ctl);
	sd_event_unref(loop);
}

static void control_test_malformed_requests_get_errors(void **state _unused_)
{
	static const char *const bad[] = { "{not json\n", "[1,2]\n", "\"text\"\n" };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct client_run c = { .send = bad[i], .len = strlen(bad[i]) };

		run_client(&c);
		if (!strstr(c.got, "\"ok\":false") || !strstr(c.got, "not a JSON object"))
			fail_msg("%s got %s", bad[i], c.got);
	}
}

static void control_test_oversized_request_is_refused_and_dropped(void **state _unused_)
{
	char *big = malloc(CONTROL_MAX_REQUEST + 100);
	struct client_run c;

	memset(big, 'x', CONTROL_MAX_REQUEST + 100);
	c = (struct client_run){ .send = big, .len = CONTROL_MAX_REQUEST + 100 };
	run_client(&c);
	assert_non_null(strstr(c.got, "request longer than 4096 bytes"));
	assert_true(c.closed);
	free(big);
}

/* What follows a refused line, already sent, is never taken as a request. */
static void control_test_nothing_after_a_refusal_is_answered(void **state _unused_)
{
	static const char tail[] = "\n{\"command\":\"status\"}\n";
	size_t len = CONTROL_MAX_REQUEST + 150 + sizeof(tail) - 1;
	char *msg = malloc(len);
	struct client_run c;

	memset(msg, 'x', CONTROL_MAX_REQUEST + 150);
	memcpy(msg + CONTROL_MAX_REQUEST + 150, tail, sizeof(tail) - 1);
	c = (struct client_run){ .send = msg, .len = len, .until_eof = true };
	run_client(&c);
	assert_non_null(strstr(c.got, "request longer than 4096 bytes"));
	assert_null(strstr(c.got, "\"status\"")); /* the request behind it: not answered */
	assert_null(strstr(c.got, "not a JSON object")); /* nor the refused line's tail */
	assert_int_equal(strchr(c.got, '\n') - c.got + 1, (long)strlen(c.got)); /* one reply */
	assert_true(c.closed);
	free(msg);
}

static void control_test_silent_client_is_dropped(void **state _unused_)
{
	struct client_run c = { .send = "", .len = 0 };

	run_client(&c); /* returns only because the server closed the connection */
	assert_true(c.closed);
	assert_string_equal(c.got, "");
}

static void control_test_client_call(void **state _unused_)
{
	struct client_run c = { .use_call = true };
	struct json_object *echo = NULL;

	run_client(&c);
	assert_int_equal(c.err, 0);
	assert_true(json_object_object_get_ex(c.call_reply, "echo", &echo));
	assert_string_equal(json_object_get_string(echo), "status");
	json_object_put(c.call_reply);
}

static void control_test_oversized_reply_closes_only_its_client(void **state _unused_)
{
	static const char big[] = "{\"command\":\"big\"}\n", small[] = "{\"command\":\"status\"}\n";
	struct client_run v[2] = {
		[1] = { .send = big, .len = sizeof(big) - 1, .until_eof = true },
	};

	/* connected before the big reply, asking once that client is gone */
	v[0] = (struct client_run){ .send = small, .len = sizeof(small) - 1, .after = &v[1].done };
	run_clients(v, ARRAY_SIZE(v), 10 * USEC_PER_SEC);
	assert_true(v[1].closed);
	assert_non_null(strstr(v[1].got, "reply longer than"));
	assert_string_equal(v[0].got, "{\"ok\":true,\"echo\":\"status\"}\n");
}

struct ticker {
	unsigned ticks;
	usec_t last, max_gap;
};

/* Other work on the loop: a 1 ms timer that keeps the CPU a moment each time. */
static int on_tick(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct ticker *t = userdata;
	struct timespec ts;
	usec_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
	if (t->last && now - t->last > t->max_gap)
		t->max_gap = now - t->last;
	t->last = now;
	t->ticks++;
	for (volatile unsigned i = 0; i < 20000; i++)
		;
	sd_event_source_set_time(s, usec + USEC_PER_MSEC);
	return 0;
}

#define BURST 200

struct burst {
	int fd[BURST];
	char got[BURST][64];
	size_t len[BURST];
};

/* Read every client's reply line, or its end (10 s in all). */
static void *burst_reader(void *arg)
{
	struct burst *b = arg;
	struct pollfd p[BURST];
	bool done[BURST] = { false };
	unsigned left = BURST;

	for (int round = 0; round < 1000 && left; round++) {
		for (size_t i = 0; i < BURST; i++)
			p[i] = (struct pollfd){ .fd = done[i] ? -1 : b->fd[i], .events = POLLIN };
		if (poll(p, BURST, 10) <= 0)
			continue;
		for (size_t i = 0; i < BURST; i++) {
			ssize_t r;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = read(b->fd[i], b->got[i] + b->len[i], sizeof(b->got[i]) - 1 - b->len[i]);
			if (r > 0) {
				b->len[i] += (size_t)r;
				b->got[i][b->len[i]] = '\0';
			}
			if (r <= 0 || memchr(b->got[i], '\n', b->len[i])) {
				done[i] = true;
				left--;
			}
		}
	}
	return NULL;
}

/* Run LOOP with a busy 1 ms timer until T is done (10 s at most). */
static void run_with_ticker(sd_event *loop, pthread_t t, struct ticker *tk)
{
	sd_event_source *timer = NULL;
	bool done = false;

	assert_int_equal(sd_event_add_time_relative(loop, &timer, CLOCK_MONOTONIC, USEC_PER_MSEC, 0, on_tick, tk), 0);
	assert_int_equal(sd_event_source_set_enabled(timer, SD_EVENT_ON), 0);
	for (int i = 0; i < 20000 && !done; i++) {
		sd_event_run(loop, USEC_PER_MSEC);
		done = pthread_tryjoin_np(t, NULL) == 0;
	}
	sd_event_source_disable_unref(timer);
	assert_true(done);
}

/* Clients connecting at once all wait in the backlog, and all are answered
 * while the loop's other work goes on. */
static void control_test_burst_of_clients_all_answered(void **state _unused_)
{
	static const char req[] = "{\"command\":\"owns\"}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	sd_event *loop = NULL;
	struct control *ctl = NULL;
	struct burst *b = calloc(1, sizeof(*b));
	struct ticker tk = { 0 };
	pthread_t t;

	memcpy(sa.sun_path, sock, strlen(sock));
	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(control_new(loop, sock, handler, NULL, &ctl), 0);
	/* All connected before the loop accepts one. */
	for (size_t i = 0; i < BURST; i++) {
		b->fd[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(b->fd[i] >= 0);
		if (connect(b->fd[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			fail_msg("client %zu of %d: connect: %s", i + 1, BURST, strerror(errno));
		assert_int_equal(write(b->fd[i], req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	}
	assert_int_equal(pthread_create(&t, NULL, burst_reader, b), 0);
	run_with_ticker(loop, t, &tk);
	for (size_t i = 0; i < BURST; i++) {
		if (!streq(b->got[i], "{\"ok\":true,\"echo\":\"owns\"}\n"))
			fail_msg("client %zu got '%s'", i + 1, b->got[i]);
		close(b->fd[i]);
	}
	assert_true(tk.ticks > 0);
	assert_true(tk.max_gap < USEC_PER_SEC);
	control_free(ctl);
	sd_event_unref(loop);
	free(b);
}

struct call_burst {
	pthread_t t[BURST];
	struct client_run run[BURST];
};

static void *call_burst_thread(void *arg)
{
	struct call_burst *cb = arg;

	for (size_t i = 0; i < BURST; i++) {
		cb->run[i].use_call = true;
		if (pthread_create(&cb->t[i], NULL, client_thread, &cb->run[i]) != 0)
			cb->run[i].err = -EAGAIN;
	}
	for (size_t i = 0; i < BURST; i++)
		pthread_join(cb->t[i], NULL);
	return NULL;
}

/* The same through control_call, one thread a client, as udev's burst of
 * nvmfctl runs. */
static void control_test_burst_of_calls_all_answered(void **state _unused_)
{
	sd_event *loop = NULL;
	struct control *ctl = NULL;
	struct call_burst *cb = calloc(1, sizeof(*cb));
	struct ticker tk = { 0 };
	pthread_t t;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(control_new(loop, sock, handler, NULL, &ctl), 0);
	assert_int_equal(pthread_create(&t, NULL, call_burst_thread, cb), 0);
	run_with_ticker(loop, t, &tk);
	for (size_t i = 0; i < BURST; i++) {
		struct json_object *echo = NULL;

		if (cb->run[i].err)
			fail_msg("call %zu: %s", i + 1, strerror(-cb->run[i].err));
		assert_true(json_object_object_get_ex(cb->run[i].call_reply, "echo", &echo));
		assert_string_equal(json_object_get_string(echo), "status");
		json_object_put(cb->run[i].call_reply);
	}
	assert_true(tk.ticks > 0);
	control_free(ctl);
	sd_event_unref(loop);
	free(cb);
}

/* A listening socket whose backlog is full: nothing is accepted yet. */
static int full_backlog(int *fillers, size_t max, size_t *ret_n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	char run[160];

	snprintf(run, sizeof(run), "%s/run", dir);
	mkdir(run, 0700);
	memcpy(sa.sun_path, sock, strlen(sock));
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 0), 0);
	*ret_n = 0;
	while (*ret_n < max) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			assert_int_equal(errno, EAGAIN);
			close(fd);
			break;
		}
		fillers[(*ret_n)++] = fd;
	}
	assert_true(*ret_n < max);
	return lfd;
}

struct call_run {
	usec_t timeout;
	int err;
	struct json_object *reply;
};

static void *call_thread(void *arg)
{
	struct call_run *c = arg;
	struct json_object *req = json_object_new_object();

	json_object_object_add(req, "command", json_object_new_string("owns"));
	c->err = control_call(sock, req, c->timeout, &c->reply);
	json_object_put(req);
	return NULL;
}

static bool join_within(pthread_t t, unsigned ms)
{
	for (unsigned i = 0; i < ms / 10; i++) {
		if (pthread_tryjoin_np(t, NULL) == 0)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

/* A full backlog is a moment of load: the call waits for room, then is answered. */
static void control_test_call_waits_for_room_in_the_backlog(void **state _unused_)
{
	static const char answer[] = "{\"ok\":true}\n";
	int fillers[64], cfd;
	size_t n;
	int lfd = full_backlog(fillers, ARRAY_SIZE(fillers), &n);
	struct call_run c = { .timeout = 5 * USEC_PER_SEC };
	char buf[256];
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	usleep(100 * 1000);
	for (size_t i = 0; i < n; i++) {
		close(accept4(lfd, NULL, NULL, SOCK_CLOEXEC));
		close(fillers[i]);
	}
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	assert_true(cfd >= 0);
	assert_true(read(cfd, buf, sizeof(buf)) > 0);
	assert_int_equal(write(cfd, answer, sizeof(answer) - 1), (ssize_t)sizeof(answer) - 1);
	assert_true(join_within(t, 5000));
	assert_int_equal(c.err, 0);
	assert_true(json_object_get_boolean(json_object_object_get(c.reply, "ok")));
	json_object_put(c.reply);
	close(cfd);
	close(lfd);
	unlink(sock);
}

/* ... but a server that never accepts does not hold the call past its timeout. */
static void control_test_call_times_out_on_a_full_backlog(void **state _unused_)
{
	int fillers[64];
	size_t n;
	int lfd = full_backlog(fillers, ARRAY_SIZE(fillers), &n);
	struct call_run c = { .timeout = 200 * USEC_PER_MSEC };
	pthread_t t;
	bool returned;

	assert_int_equal(pthread_create(&t, NULL, call_thread, &c), 0);
	returned = join_within(t, 3000);
	/* Closing the listener wakes a connect() that waits. */
	close(lfd);
	unlink(sock);
	if (!returned)
		pthread_join(t, NULL);
	for (size_t i = 0; i < n; i++)
		close(fillers[i]);
	json_object_put(c.reply);
	assert_true(returned);
	assert_int_equal(c.err, -ETIMEDOUT);
}

static void control_test_errors_json_has_every_error(void **state _unused_)
{
	struct diags d = { 0 };
	struct json_object *a;

	diags_add(&d, DIAG_WARNING, "h.yaml", 2, 3, "only a warning");
	diags_add(&d, DIAG_ERROR, "h.yaml", 7, 9, "unknown key 'trsvcd'");
	diags_add(&d, DIAG_ERROR, "h.yaml", 0, 0, "no host named 'x'");
	a = control_errors_json(&d);
	assert_non_null(a);
	assert_int_equal(json_object_array_length(a), 2);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)), "h.yaml:7:9: error: unknown key 'trsvcd'");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 1)), "h.yaml: error: no host named 'x'");
	json_object_put(a);
	diags_clear(&d);

	/* past what diags keep: the count says how many more */
	for (int i = 0; i < 150; i++)
		diags_add(&d, DIAG_ERROR, "h.yaml", (unsigned)i + 1, 1, "error %d", i);
	a = control_errors_json(&d);
	assert_int_equal(json_object_array_length(a), d.n + 1);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, d.n)), "(50 more errors not shown)");
	json_object_put(a);
	diags_clear(&d);
}

/* nvmfctl reload's path: the daemon's errors, each on its own line. */
static void control_test_call_prints_the_errors_of_a_reply(void **state _unused_)
{
	struct client_run c = { .use_call = true, .command = "reload" };
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	run_client(&c);
	assert_int_equal(c.err, 0);
	assert_false(json_object_get_boolean(json_object_object_get(c.call_reply, "ok")));
	assert_int_equal(control_print_errors(c.call_reply, f), 2);
	fclose(f);
	assert_string_equal(text, "/etc/nvmfd/nvmfd.yaml:15:20: error: reconnect_delay is in whole seconds: 1500ms is not\n"
				  "/etc/nvmfd/keys/host.key: error: readable by others\n");
	free(text);
	json_object_put(c.call_reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(control_test_answers_a_request_per_line, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_socket_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_malformed_requests_get_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_oversized_request_is_refused_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_nothing_after_a_refusal_is_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_silent_client_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_client_call, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_oversized_reply_closes_only_its_client, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_burst_of_clients_all_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_burst_of_calls_all_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_call_waits_for_room_in_the_backlog, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_call_times_out_on_a_full_backlog, setup, teardown),
		cmocka_unit_test(control_test_errors_json_has_every_error),
		cmocka_unit_test_setup_teardown(control_test_call_prints_the_errors_of_a_reply, setup, teardown),
	};
	/* a client the server dropped fails its write, not the whole run */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
