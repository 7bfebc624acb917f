/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/fileio.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"

/* PATH open for reading if it is a regular file, without waiting for a
 * FIFO's writer or a device. */
static int open_regular(const char *path, int flags, struct stat *ret_st)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
	}
	if (ret_st)
		*ret_st = st;
	return fd;
}

/* BUF up to its first line end, without trailing white space. */
static void trim_line(char *buf)
{
	buf[strcspn(buf, "\r\n")] = '\0';
	for (char *end = buf + strlen(buf); end > buf && isspace((unsigned char)end[-1]);)
		*--end = '\0';
}

int read_one_line(const char *path, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = NULL;
	int fd;

	buf[0] = '\0';
	fd = open_regular(path, 0, NULL);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (!fgets(buf, (int)size, f))
		return -ENODATA;
	trim_line(buf);
	return 0;
}

int read_secret_line(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	struct stat st = { 0 };
	size_t len = 0;

	memset(buf, 0, size);
	fd = open_regular(path, O_NOFOLLOW, &st);
	if (fd < 0)
		return fd;
	if (st.st_mode & 077)
		return -EACCES;
	while (len + 1 < size && !memchr(buf, '\n', len)) {
		ssize_t k = read(fd, buf + len, size - 1 - len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int r = -errno;

			explicit_bzero(buf, size);
			return r;
		}
		if (k == 0)
			break;
		len += (size_t)k;
	}
	if (len == 0)
		return -ENODATA;
	trim_line(buf);
	len = strlen(buf);
	explicit_bzero(buf + len, size - len);
	return 0;
}

int read_fd_whole(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t k;

		if (cap - len < 2) {
			size_t want = cap ? cap * 2 : 65536;
			char *b;

			if (want > max + 2)
				want = max + 2;
			if (want <= cap)
				return -EFBIG;
			b = realloc(buf, want);
			if (!b)
				return -ENOMEM;
			buf = b;
			cap = want;
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		len += (size_t)k;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

const char *fileio_strerror(int r)
{
	return r == -EBADFD ? "not a regular file" : strerror(-r);
}
