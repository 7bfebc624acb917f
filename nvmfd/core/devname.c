/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "core/devname.h"

#include <string.h>

static const char *digits(const char *s)
{
	while (*s >= '0' && *s <= '9')
		s++;
	return s;
}

bool devname_is_ctrl(const char *n)
{
	if (!n || strncmp(n, "nvme", 4) != 0 || !n[4])
		return false;
	return *digits(n + 4) == '\0';
}

bool devname_is_ns(const char *s)
{
	const char *t;

	if (!s || strncmp(s, "nvme", 4) != 0)
		return false;
	t = digits(s + 4);
	if (t == s + 4 || *t++ != 'n')
		return false;
	s = t;
	t = digits(s);
	return t != s && *t == '\0';
}
