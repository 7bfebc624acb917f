/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/control.h"
#include "base/macro.h"

static char dir[] = "/tmp/nvmfd-ctl-XXXXXX";
static char sock[128];

static void handler(void *userdata _unused_, struct json_object *req, struct json_object **reply)
{
	struct json_object *cmd = NULL;

	*reply = json_object_new_object();
	json_object_object_get_ex(req, "command", &cmd);
	json_object_object_add(*reply, "ok", json_object_new_boolean(cmd != NULL));
	json_object_object_add(*reply, "echo", cmd ? json_object_get(cmd) : NULL);
}

struct client_run {
	const char *send;
	size_t len;
	char got[512];
	bool closed;
	int err;
	struct json_object *call_reply;
	bool use_call;
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

		json_object_object_add(req, "command", json_object_new_string("status"));
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
		if (strchr(c->got, '\n') && c->len && memchr(c->send, '\n', c->len))
			break;
	}
	close(fd);
	return NULL;
}

/* Run the server's loop until the client thread is done. */
static void run_client(struct client_run *c)
{
	sd_event *loop = NULL;
	struct control *ctl = NULL;
	pthread_t t;
	bool done = false;

	assert_int_equal(sd_event_new(&loop), 0);
	assert_int_equal(control_new(loop, sock, handler, NULL, &ctl), 0);
	control_set_client_timeout(ctl, 300 * USEC_PER_MSEC);
	assert_int_equal(pthread_create(&t, NULL, client_thread, c), 0);
	for (int i = 0; i < 2000 && !done; i++) {
		sd_event_run(loop, 5 * USEC_PER_MSEC);
		done = pthread_tryjoin_np(t, NULL) == 0;
	}
	assert_true(done);
	control_free(ctl);
	sd_event_unref(loop);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(control_test_answers_a_request_per_line, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_socket_is_private, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_malformed_requests_get_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_oversized_request_is_refused_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_silent_client_is_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(control_test_client_call, setup, teardown),
	};
	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
