/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base/diag.h"
#include "base/macro.h"

struct client {
	struct client *next;
	struct control *c;
	int fd;
	sd_event_source *io, *timer;
	char in[CONTROL_MAX_REQUEST + 1];
	size_t in_len;
	char *out;
	size_t out_len, out_off;
	bool refused;  /* told why it is dropped: nothing more it sends is read */
};

struct control {
	sd_event *loop;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;
	sd_event_source *listen;
	control_handler_t handler;
	void *userdata;
	struct client *clients;
	usec_t client_timeout;
};

static void client_free(struct client *cl)
{
	struct control *c = cl->c;

	for (struct client **pp = &c->clients; *pp; pp = &(*pp)->next)
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	sd_event_source_disable_unref(cl->io);
	sd_event_source_disable_unref(cl->timer);
	close(cl->fd);
	free(cl->out);
	free(cl);
}

/* Queue REPLY for writing: -EMSGSIZE when it would pass CONTROL_MAX_REPLY,
 * -ENOMEM. The caller decides the client's fate; only client_io frees it, so
 * nothing up the stack holds a freed client. */
static int client_queue(struct client *cl, struct json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t n = s ? strlen(s) : 0;
	char *out;

	if (!s)
		return -ENOMEM;
	if (cl->out_len - cl->out_off + n + 1 > CONTROL_MAX_REPLY)
		return -EMSGSIZE;
	out = realloc(cl->out, cl->out_len + n + 1);
	if (!out)
		return -ENOMEM;
	memcpy(out + cl->out_len, s, n);
	out[cl->out_len + n] = '\n';
	cl->out = out;
	cl->out_len += n + 1;
	sd_event_source_set_io_events(cl->io, EPOLLOUT);
	return 0;
}

_printf_(2, 0) static int client_verror(struct client *cl, const char *fmt, va_list ap)
{
	struct json_object *r = json_object_new_object();
	char msg[256];
	int k;

	if (!r)
		return -ENOMEM;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "error", json_object_new_string(msg));
	k = client_queue(cl, r);
	json_object_put(r);
	return k;
}

_printf_(2, 3) static int client_error(struct client *cl, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = client_verror(cl, fmt, ap);
	va_end(ap);
	return r;
}

/* An error, and the client is dropped once it is out. What else it sent is
 * never read: a Unix socket still hands out what was queued before a
 * shutdown(SHUT_RD), so the client is marked instead. */
_printf_(2, 3) static int client_refuse(struct client *cl, const char *fmt, ...)
{
	va_list ap;
	int r;

	cl->in_len = 0;
	cl->refused = true;
	shutdown(cl->fd, SHUT_RD);
	va_start(ap, fmt);
	r = client_verror(cl, fmt, ap);
	va_end(ap);
	return r;
}

static int client_answer(struct client *cl, struct json_object *req)
{
	struct json_object *reply = NULL;
	int r;

	cl->c->handler(cl->c->userdata, req, &reply);
	if (!reply) {
		reply = json_object_new_object();
		if (!reply)
			return -ENOMEM;
		json_object_object_add(reply, "ok", json_object_new_boolean(false));
		json_object_object_add(reply, "error", json_object_new_string("no reply"));
	}
	r = client_queue(cl, reply);
	json_object_put(reply);
	/* Too large for this client only: it is told, the others go on. */
	if (r == -EMSGSIZE)
		r = client_refuse(cl, "reply longer than %d bytes", CONTROL_MAX_REPLY);
	return r;
}

/* Handle each complete line; a partial one waits for more. Negative: drop
 * the client. */
static int client_lines(struct client *cl)
{
	char *nl;
	int r = 0;

	while (r == 0 && !cl->refused && cl->out_len == 0 && (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t len = (size_t)(nl - cl->in);
		struct json_object *req;
		enum json_tokener_error err = json_tokener_success;

		*nl = '\0';
		req = json_tokener_parse_verbose(cl->in, &err);
		/* The line is consumed before its answer, which may drop the rest. */
		memmove(cl->in, nl + 1, cl->in_len - len - 1);
		cl->in_len -= len + 1;
		if (!req || !json_object_is_type(req, json_type_object))
			r = client_error(cl, "not a JSON object: %s", req ? "another JSON value" : json_tokener_error_desc(err));
		else
			r = client_answer(cl, req);
		json_object_put(req);
	}
	return r;
}

static int client_write(struct client *cl)
{
	/* MSG_NOSIGNAL: a client gone mid-reply is an error here, not a SIGPIPE. */
	ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off, MSG_NOSIGNAL);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return -errno;
	if (n > 0)
		cl->out_off += (size_t)n;
	if (cl->out_off < cl->out_len)
		return 0;
	free(cl->out);
	cl->out = NULL;
	cl->out_len = cl->out_off = 0;
	if (cl->refused)
		return -ECONNRESET; /* its error is out: done */
	sd_event_source_set_io_events(cl->io, EPOLLIN);
	return client_lines(cl); /* requests that came while we wrote */
}

static int client_read(struct client *cl)
{
	ssize_t n;
	int r;

	if (cl->refused)
		return cl->out_len ? 0 : -ECONNRESET;
	n = read(cl->fd, cl->in + cl->in_len, CONTROL_MAX_REQUEST - cl->in_len);
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	cl->in_len += (size_t)n;
	if (cl->in_len == CONTROL_MAX_REQUEST && !memchr(cl->in, '\n', cl->in_len))
		/* The rest of that line is garbage. */
		return client_refuse(cl, "request longer than %d bytes", CONTROL_MAX_REQUEST);
	r = client_lines(cl);
	if (r < 0)
		return r;
	/* Activity: the client gets its time again. */
	sd_event_source_set_time_relative(cl->timer, cl->c->client_timeout);
	return 0;
}

static int client_io(sd_event_source *s _unused_, int fd _unused_, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;
	int r = 0;

	if (revents & EPOLLOUT)
		r = client_write(cl);
	else if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))
		r = client_read(cl);
	if (r < 0)
		client_free(cl);
	return 0;
}

static int client_timeout(sd_event_source *s _unused_, uint64_t usec _unused_, void *userdata)
{
	client_free(userdata);
	return 0;
}

static int on_accept(sd_event_source *s _unused_, int fd, uint32_t revents _unused_, void *userdata)
{
	struct control *c = userdata;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct client *cl;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	if (cfd < 0)
		return 0;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || (cred.uid != 0 && cred.uid != geteuid())) {
		static const char denied[] = "{\"ok\":false,\"error\":\"permission denied: root only\"}\n";

		(void)!write(cfd, denied, sizeof(denied) - 1);
		close(cfd);
		return 0;
	}
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		close(cfd);
		return 0;
	}
	cl->c = c;
	cl->fd = cfd;
	if (sd_event_add_io(c->loop, &cl->io, cfd, EPOLLIN, client_io, cl) < 0 ||
	    sd_event_add_time_relative(c->loop, &cl->timer, CLOCK_MONOTONIC, c->client_timeout, 0, client_timeout,
				       cl) < 0) {
		sd_event_source_unref(cl->io);
		close(cfd);
		free(cl);
		return 0;
	}
	cl->next = c->clients;
	c->clients = cl;
	return 0;
}

int control_new(sd_event *loop, const char *path, control_handler_t handler, void *userdata, struct control **ret)
{
	struct control *c;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[PATH_MAX], *slash;
	mode_t old;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = sd_event_ref(loop);
	c->handler = handler;
	c->userdata = userdata;
	c->client_timeout = CONTROL_CLIENT_TIMEOUT;
	snprintf(c->path, sizeof(c->path), "%s", path);
	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			goto fail;
		}
	}
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->fd < 0) {
		r = -errno;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path); /* a stale socket of an earlier run */
	old = umask(0177);
	r = bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	/* SOMAXCONN: udev runs nvmfctl once per event, and a burst of events
	 * must wait in the backlog rather than be refused. */
	if (r < 0 || listen(c->fd, SOMAXCONN) < 0) {
		r = r ?: -errno;
		goto fail;
	}
	r = sd_event_add_io(loop, &c->listen, c->fd, EPOLLIN, on_accept, c);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	if (c->fd > 0)
		close(c->fd);
	sd_event_unref(c->loop);
	free(c);
	return r;
}

void control_set_client_timeout(struct control *c, usec_t t)
{
	c->client_timeout = t;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	while (c->clients)
		client_free(c->clients);
	sd_event_source_disable_unref(c->listen);
	close(c->fd);
	unlink(c->path);
	sd_event_unref(c->loop);
	free(c);
}

/* ---------------------------------------------------------------------- */

static usec_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

static int wait_fd(int fd, short events, usec_t deadline)
{
	usec_t now = now_usec();
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)((deadline - now) / 1000) + 1);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

/* A connected socket (non-blocking), or a negative errno. A full backlog
 * (EAGAIN) is a moment of load, a burst of udev events each running
 * nvmfctl: try again shortly, until DEADLINE. */
static int connect_until(const char *path, usec_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	usec_t pause = USEC_PER_MSEC;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	for (;;) {
		_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		usec_t now;

		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			int r = fd;

			fd = -1;
			return r;
		}
		if (errno != EAGAIN)
			return -errno;
		now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		usleep((useconds_t)(deadline - now < pause ? deadline - now : pause));
		pause = pause * 2 < 50 * USEC_PER_MSEC ? pause * 2 : 50 * USEC_PER_MSEC;
	}
}

static int send_all(int fd, const char *s, size_t len, usec_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n;
		int r = wait_fd(fd, POLLOUT, deadline);

		if (r < 0)
			return r;
		n = send(fd, s + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n > 0)
			off += (size_t)n;
	}
	return 0;
}

/* The reply: one JSON object, up to its line's end. */
static int read_reply(int fd, usec_t deadline, struct json_object **reply)
{
	struct json_tokener *tok = json_tokener_new();
	char buf[65536];
	int r;

	if (!tok)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		char *nl;

		if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
			break;
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : -ECONNRESET;
			break;
		}
		nl = memchr(buf, '\n', (size_t)n);
		*reply = json_tokener_parse_ex(tok, buf, nl ? (int)(nl - buf) : (int)n);
		if (*reply || json_tokener_get_error(tok) != json_tokener_continue) {
			r = *reply ? 0 : -EBADMSG;
			break;
		}
		if (nl) {
			r = -EBADMSG;
			break;
		}
	}
	json_tokener_free(tok);
	return r;
}

int control_call(const char *path, struct json_object *req, usec_t timeout, struct json_object **reply)
{
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	usec_t deadline = now_usec() + timeout;
	_cleanup_close_ int fd = -1;
	int r;

	*reply = NULL;
	if (!s)
		return -ENOMEM;
	fd = connect_until(path, deadline);
	if (fd < 0)
		return fd;
	if ((r = send_all(fd, s, strlen(s), deadline)) < 0 || (r = send_all(fd, "\n", 1, deadline)) < 0)
		return r;
	return read_reply(fd, deadline, reply);
}

/* ---------------------------------------------------------------------- */

struct json_object *control_errors_json(const struct diags *d)
{
	struct json_object *a = json_object_new_array();

	if (!a)
		return NULL;
	for (size_t i = 0; i < d->n; i++) {
		/* diags_print's own line, so nvmfctl says it as nvmfd --check-config does */
		struct diag one = d->v[i];
		struct diags view = { .v = &one, .n = 1, .n_errors = 1 };
		_cleanup_free_ char *line = NULL;
		size_t size = 0;
		FILE *f;

		if (one.level != DIAG_ERROR)
			continue;
		f = open_memstream(&line, &size);
		if (!f)
			break;
		diags_print(&view, f);
		if (fclose(f) != 0 || !line)
			break;
		if (size && line[size - 1] == '\n')
			line[--size] = '\0';
		json_object_array_add(a, json_object_new_string_len(line, (int)size));
	}
	if (d->n_dropped_errors) {
		char more[64];

		snprintf(more, sizeof(more), "(%zu more error%s not shown)", d->n_dropped_errors,
			 d->n_dropped_errors == 1 ? "" : "s");
		json_object_array_add(a, json_object_new_string(more));
	}
	if (d->oom)
		json_object_array_add(a, json_object_new_string("(out of memory: some errors were lost)"));
	return a;
}

size_t control_print_errors(struct json_object *reply, FILE *f)
{
	struct json_object *a = NULL;
	size_t n = 0;

	if (!json_object_object_get_ex(reply, "errors", &a) || !json_object_is_type(a, json_type_array))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(a, i));

		if (s) {
			fprintf(f, "%s\n", s);
			n++;
		}
	}
	return n;
}
