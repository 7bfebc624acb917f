/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small files read whole: sysfs attributes, /etc/nvme/hostnqn, key files, the inventory. */
#pragma once

#include <stddef.h>

/*
 * The first line of PATH into BUF, without its line end or trailing white
 * space. Only a regular file is read: the open never waits (a FIFO or a
 * device would hold up the event loop that reads a key), and anything else
 * is refused. Returns 0, -ENODATA for an empty file, -EISDIR for a
 * directory, -EBADFD for another kind of file, or the -errno of the open or
 * the read.
 */
int read_one_line(const char *path, char *buf, size_t size);

/*
 * The first line of the key file PATH into BUF, as read_one_line does, for a
 * secret: the file is a regular file at its own path (-ELOOP for a symbolic
 * link) that only its owner may read (-EACCES), and the line is read
 * straight into BUF, leaving no copy in a stdio buffer and nothing of the
 * file past the line in BUF.
 */
int read_secret_line(const char *path, char *buf, size_t size);

/*
 * All of the file open as FD, up to MAX bytes, into a malloc'd buffer with a
 * NUL after the text (which may hold NUL bytes of its own). Returns 0,
 * -EFBIG past MAX, or the -errno of the read (-EISDIR for a directory).
 */
int read_fd_whole(int fd, size_t max, char **ret, size_t *ret_len);

/* What a negative errno of the readers above says, for messages. */
const char *fileio_strerror(int r);
