/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The control socket's server side: the input is what a client sends,
 * written through a real connection to a control socket on an sd-event
 * loop, with the server and the client on the same loop. The handler here
 * answers the daemon's commands in the daemon's shapes, and a few more that
 * drive the server's edges: an echo of any JSON, a reply of a chosen size,
 * no reply. Oracles: every complete line gets exactly one reply; a line of
 * CONTROL_MAX_REQUEST bytes or more, or one whose reply would pass
 * CONTROL_MAX_REPLY, gets the last, and the connection ends; each reply is
 * a JSON object with a boolean "ok".
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/macro.h"
#include "daemon/control.h"
#include "fuzz.h"

/* Past CONTROL_MAX_REPLY, so that the server's limit is reached too. */
#define FILL_MAX (CONTROL_MAX_REPLY + 64 * 1024)
/* What a fill reply holds besides its n bytes of 'x', with its newline. */
#define FILL_OVERHEAD (sizeof("{\"ok\":true,\"fill\":\"\"}\n") - 1)
/* Replies longer than this are checked for their frame only: parsing them
 * again would test json-c, and slowly. */
#define PARSE_MAX (64 * 1024)

struct server {
	sd_event *loop;
	struct control *ctl;
	char dir[64], path[128];
	size_t calls;         /* the handler's, this connection */
	size_t oversize_call; /* the call whose reply passes CONTROL_MAX_REPLY, or 0 */
};

static struct server srv;

struct session {
	const uint8_t *data;
	size_t size, off;
	int fd;
	sd_event_source *io;
	char *got;
	size_t got_len, got_size;
	bool done;
};

static void reply_ok(struct json_object **reply, bool ok)
{
	*reply = json_object_new_object();
	json_object_object_add(*reply, "ok", json_object_new_boolean(ok));
}

static struct json_object *fill(struct json_object *req)
{
	struct json_object *o = NULL;
	int64_t n = json_object_object_get_ex(req, "n", &o) ? json_object_get_int64(o) : 0;
	struct json_object *s;
	char *buf;

	n = n < 0 ? 0 : n > FILL_MAX ? FILL_MAX : n;
	if (!srv.oversize_call && (size_t)n + FILL_OVERHEAD > CONTROL_MAX_REPLY)
		srv.oversize_call = srv.calls;
	buf = malloc((size_t)n + 1);
	if (!buf)
		abort();
	memset(buf, 'x', (size_t)n);
	buf[n] = '\0';
	s = json_object_new_string_len(buf, (int)n);
	free(buf);
	return s;
}

static void handler(void *userdata _unused_, struct json_object *req, struct json_object **reply)
{
	struct json_object *o = NULL;
	const char *cmd = json_object_object_get_ex(req, "command", &o) ? json_object_get_string(o) : NULL;
	const char *arg = json_object_object_get_ex(req, "target", &o) ? json_object_get_string(o) : NULL;

	srv.calls++;
	if (streq_ptr(cmd, "none"))
		return;
	reply_ok(reply, cmd != NULL);
	if (streq_ptr(cmd, "status"))
		json_object_object_add(*reply, "status", json_object_new_array());
	else if (streq_ptr(cmd, "reconnect") || streq_ptr(cmd, "discover"))
		json_object_object_add(*reply, "kicked", json_object_new_int(arg ? (int)strlen(arg) : 0));
	else if (streq_ptr(cmd, "owns"))
		json_object_object_add(*reply, "owned", json_object_new_boolean(arg && arg[0] == 'n'));
	else if (streq_ptr(cmd, "iopolicy"))
		json_object_object_add(*reply, "iopolicy", arg ? json_object_new_string(arg) : NULL);
	else if (streq_ptr(cmd, "echo"))
		json_object_object_add(*reply, "echo", json_object_get(req));
	else if (streq_ptr(cmd, "fill"))
		json_object_object_add(*reply, "fill", fill(req));
	else
		json_object_object_add(*reply, "error", json_object_new_string("unknown command"));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

static void server_stop(void)
{
	control_free(srv.ctl);
	sd_event_unref(srv.loop);
	rmdir(srv.dir);
}

/* One server for the whole run: a client's connection is what each input gets. */
int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
	snprintf(srv.dir, sizeof(srv.dir), "/tmp/nvmfd-fuzz-XXXXXX");
	if (!mkdtemp(srv.dir))
		fuzz_fail("mkdtemp: %s", strerror(errno));
	snprintf(srv.path, sizeof(srv.path), "%s/control.sock", srv.dir);
	if (sd_event_new(&srv.loop) < 0 || control_new(srv.loop, srv.path, handler, NULL, &srv.ctl) < 0)
		fuzz_fail("no control socket at %s", srv.path);
	atexit(server_stop);
	return 0;
}

/* Write what the socket takes; at the end, or when the server stops reading, say so. */
static void session_write(struct session *s)
{
	ssize_t n = send(s->fd, s->data + s->off, s->size - s->off, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n > 0)
		s->off += (size_t)n;
	if (s->off < s->size && (n >= 0 || errno == EAGAIN || errno == EINTR))
		return;
	s->off = s->size;
	shutdown(s->fd, SHUT_WR);
	sd_event_source_set_io_events(s->io, EPOLLIN);
}

static void session_read(struct session *s)
{
	char buf[65536];
	ssize_t n = read(s->fd, buf, sizeof(buf));
	char *got;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		s->done = true;
		return;
	}
	if (s->got_len + (size_t)n + 1 > s->got_size) {
		s->got_size = 2 * (s->got_len + (size_t)n + 1);
		got = realloc(s->got, s->got_size);
		if (!got)
			abort();
		s->got = got;
	}
	memcpy(s->got + s->got_len, buf, (size_t)n);
	s->got_len += (size_t)n;
	s->got[s->got_len] = '\0';
}

static int session_io(sd_event_source *src _unused_, int fd _unused_, uint32_t revents, void *userdata)
{
	struct session *s = userdata;

	if (revents & EPOLLOUT)
		session_write(s);
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		session_read(s);
	return 0;
}

static void session_run(struct session *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memcpy(sa.sun_path, srv.path, strlen(srv.path));
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fuzz_fail("connect to %s: %s", srv.path, strerror(errno));
	if (sd_event_add_io(srv.loop, &s->io, s->fd, EPOLLIN | EPOLLOUT, session_io, s) < 0)
		abort();
	while (!s->done)
		if (sd_event_run(srv.loop, UINT64_MAX) < 0)
			abort();
	sd_event_source_disable_unref(s->io);
	close(s->fd);
}

/* Whether the server hands the line to the handler: it parses as a JSON object. */
static bool handled(const uint8_t *line, size_t len)
{
	_cleanup_free_ char *s = fuzz_strndup(line, len);
	struct json_object *o = json_tokener_parse(s);
	bool object = o && json_object_is_type(o, json_type_object);

	json_object_put(o);
	return object;
}

/*
 * The replies the server owes: one a complete line, up to a line too long or
 * a reply too large, which gets the last.
 */
static size_t want_replies(const uint8_t *data, size_t size)
{
	size_t n = 0, start = 0, calls = 0;

	for (size_t i = 0; i < size; i++) {
		if (i - start >= CONTROL_MAX_REQUEST)
			return n + 1;
		if (data[i] != '\n')
			continue;
		n++;
		if (srv.oversize_call && handled(data + start, i - start) && ++calls == srv.oversize_call)
			return n;
		start = i + 1;
	}
	return n + (size - start >= CONTROL_MAX_REQUEST);
}

static void check_reply(const char *line, size_t len)
{
	struct json_tokener *tok;
	struct json_object *r, *ok = NULL;

	if (len > PARSE_MAX) {
		if (strncmp(line, "{\"ok\":", 6) != 0 || line[len - 1] != '}')
			fuzz_fail("a long reply that is no JSON object with ok first: %.200s", line);
		return;
	}
	tok = json_tokener_new();
	if (!tok)
		abort();
	r = json_tokener_parse_ex(tok, line, (int)len);
	if (!r || !json_object_is_type(r, json_type_object) || !json_object_object_get_ex(r, "ok", &ok) ||
	    !json_object_is_type(ok, json_type_boolean))
		fuzz_fail("a reply that is no JSON object with a boolean ok: %.200s", line);
	if (json_tokener_get_parse_end(tok) != len)
		fuzz_fail("a reply with more after its JSON object: %.200s", line);
	json_object_put(r);
	json_tokener_free(tok);
}

static void check_replies(const struct session *s, size_t want)
{
	const char *got = s->got ? s->got : "";
	size_t n = 0;

	for (const char *p = got, *end = got + s->got_len; p < end; n++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			fuzz_fail("a reply without its newline: %.200s", p);
		check_reply(p, (size_t)(nl - p));
		p = nl + 1;
	}
	if (n != want)
		fuzz_fail("%zu replies to %zu bytes, want %zu:\n%.600s", n, s->size, want, got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct session s = { .data = data, .size = size, .fd = -1 };

	srv.calls = srv.oversize_call = 0;
	session_run(&s);
	check_replies(&s, want_replies(data, size));
	free(s.got);
	return 0;
}
