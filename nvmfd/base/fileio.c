/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/fileio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"

int read_one_line(const char *path, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");

	buf[0] = '\0';
	if (!f)
		return -errno;
	if (!fgets(buf, (int)size, f))
		return -ENODATA;
	buf[strcspn(buf, "\r\n")] = '\0';
	for (char *end = buf + strlen(buf); end > buf && isspace((unsigned char)end[-1]);)
		*--end = '\0';
	return 0;
}
