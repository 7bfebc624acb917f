/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/kmsg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

int kmsg_open(const char *path)
{
	int fd = open(path ? path : "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (lseek(fd, 0, SEEK_END) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	return fd;
}

int kmsg_open_all(const char *path)
{
	int fd = open(path ? path : "/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/*
 * Room for N more bytes after the OFF bytes of BUF, made by dropping its
 * oldest lines: a connect's own lines come last, when it fails, after
 * whatever other controllers said while it waited. Returns the new length.
 */
static size_t make_room(char *buf, size_t off, size_t size, size_t n)
{
	size_t cut = 0;

	while (off - cut + n + 1 > size) {
		const char *nl = memchr(buf + cut, '\n', off - cut);

		if (!nl) {
			cut = off;
			break;
		}
		cut = (size_t)(nl - buf) + 1;
	}
	memmove(buf, buf + cut, off - cut + 1);
	return off - cut;
}

void kmsg_collect(int fd, const char *const *words, char *buf, size_t size)
{
	size_t off = strlen(buf);
	char rec[8192];

	if (fd < 0)
		return;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		const char *msg;
		size_t len;
		bool keep = !words;

		if (n < 0 && (errno == EPIPE || errno == EINTR))
			continue; /* records were overwritten: go on with what is there */
		if (n <= 0)
			break;
		rec[n] = '\0';
		/* "prio,seq,usec,flags;message\n continuation lines" */
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		len = strcspn(msg, "\n");
		for (const char *const *w = words; w && *w && !keep; w++)
			keep = memmem(msg, len, *w, strlen(*w)) != NULL;
		if (!keep || len + 2 > size)
			continue;
		off = make_room(buf, off, size, len + 1);
		memcpy(buf + off, msg, len);
		off += len;
		buf[off++] = '\n';
		buf[off] = '\0';
	}
	close(fd);
}
