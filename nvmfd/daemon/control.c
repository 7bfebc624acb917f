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

static void client_queue(struct client *cl, struct json_object *reply)
{
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	size_t n = strlen(s);
	char *out;

	if (cl->out_len - cl->out_off + n + 1 > CONTROL_MAX_REPLY) {
		client_free(cl);
		return;
	}
	out = realloc(cl->out, cl->out_len + n + 1);
	if (!out) {
		client_free(cl);
		return;
	}
	memcpy(out + cl->out_len, s, n);
	out[cl->out_len + n] = '\n';
	cl->out = out;
	cl->out_len += n + 1;
	sd_event_source_set_io_events(cl->io, EPOLLOUT);
}

_printf_(2, 3) static void client_error(struct client *cl, const char *fmt, ...)
{
	struct json_object *r = json_object_new_object();
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(r, "ok", json_object_new_boolean(false));
	json_object_object_add(r, "error", json_object_new_string(msg));
	client_queue(cl, r);
	json_object_put(r);
}

/* Handle each complete line; a partial one waits for more. */
static void client_lines(struct client *cl)
{
	char *nl;

	while (cl->out_len == 0 && (nl = memchr(cl->in, '\n', cl->in_len))) {
		size_t len = (size_t)(nl - cl->in);
		struct json_object *req, *reply = NULL;
		enum json_tokener_error err = json_tokener_success;

		*nl = '\0';
		req = json_tokener_parse_verbose(cl->in, &err);
		if (!req || !json_object_is_type(req, json_type_object)) {
			client_error(cl, "not a JSON object: %s", req ? "another JSON value" : json_tokener_error_desc(err));
		} else {
			cl->c->handler(cl->c->userdata, req, &reply);
			if (!reply) {
				reply = json_object_new_object();
				json_object_object_add(reply, "ok", json_object_new_boolean(false));
				json_object_object_add(reply, "error", json_object_new_string("no reply"));
			}
			client_queue(cl, reply);
			json_object_put(reply);
		}
		json_object_put(req);
		memmove(cl->in, nl + 1, cl->in_len - len - 1);
		cl->in_len -= len + 1;
	}
}

static int client_io(sd_event_source *s _unused_, int fd, uint32_t revents, void *userdata)
{
	struct client *cl = userdata;

	if (revents & EPOLLOUT) {
		ssize_t n = write(fd, cl->out + cl->out_off, cl->out_len - cl->out_off);

		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_free(cl);
			return 0;
		}
		if (n > 0)
			cl->out_off += (size_t)n;
		if (cl->out_off == cl->out_len) {
			free(cl->out);
			cl->out = NULL;
			cl->out_len = cl->out_off = 0;
			sd_event_source_set_io_events(cl->io, EPOLLIN);
			client_lines(cl); /* requests that came while we wrote */
		}
		return 0;
	}
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = read(fd, cl->in + cl->in_len, CONTROL_MAX_REQUEST - cl->in_len);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			client_free(cl);
			return 0;
		}
		if (n > 0)
			cl->in_len += (size_t)n;
		if (cl->in_len == CONTROL_MAX_REQUEST && !memchr(cl->in, '\n', cl->in_len)) {
			client_error(cl, "request longer than %d bytes", CONTROL_MAX_REQUEST);
			cl->in_len = 0;
			/* The rest of that line is garbage: drop the client once the error is out. */
			shutdown(fd, SHUT_RD);
			return 0;
		}
		client_lines(cl);
		/* Activity: the client gets its time again. */
		sd_event_source_set_time_relative(cl->timer, cl->c->client_timeout);
	}
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
	if (r < 0 || listen(c->fd, 16) < 0) {
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

static int wait_fd(int fd, short events, usec_t deadline)
{
	struct timespec ts;
	usec_t now;
	struct pollfd p = { .fd = fd, .events = events };
	int r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
	if (now >= deadline)
		return -ETIMEDOUT;
	r = poll(&p, 1, (int)((deadline - now) / 1000) + 1);
	return r < 0 ? -errno : r == 0 ? -ETIMEDOUT : 0;
}

int control_call(const char *path, struct json_object *req, usec_t timeout, struct json_object **reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	const char *s = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	struct json_tokener *tok;
	struct timespec ts;
	usec_t deadline;
	size_t off = 0, len = strlen(s);
	char buf[65536];
	int r = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	deadline = (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000 + timeout;
	while (off < len) {
		ssize_t n;

		if ((r = wait_fd(fd, POLLOUT, deadline)) < 0)
			return r;
		n = write(fd, s + off, len - off);
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1)
		return -errno;
	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	*reply = NULL;
	for (;;) {
		ssize_t n;
		char *nl;

		if ((r = wait_fd(fd, POLLIN, deadline)) < 0)
			break;
		n = read(fd, buf, sizeof(buf));
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
