/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/nqn.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "base/macro.h"

#define UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

static int fail(const char **ret_why, const char *why)
{
	if (ret_why)
		*ret_why = why;
	return -EINVAL;
}

bool uuid_valid(const char *s)
{
	/* 8-4-4-4-12 hex digits */
	static const int groups[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
		for (int i = 0; i < groups[g]; i++, s++)
			if (!isxdigit((unsigned char)*s))
				return false;
		if (g + 1 < ARRAY_SIZE(groups) && *s++ != '-')
			return false;
	}
	return *s == '\0';
}

/* A domain label: letters, digits and hyphens, not starting or ending with a hyphen. */
static bool is_label(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

int nqn_check(const char *nqn, const char **ret_why)
{
	const char *p, *domain, *end;
	size_t len;

	if (!nqn || !*nqn)
		return fail(ret_why, "an NQN may not be empty");
	len = strlen(nqn);
	if (len > NQN_MAX_LEN)
		return fail(ret_why, "an NQN is at most 222 bytes long (Linux refuses a connect with 223 or more)");
	for (p = nqn; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return fail(ret_why, "an NQN may not contain control characters");
	if (strncmp(nqn, "nqn.", 4) != 0)
		return fail(ret_why, "an NQN starts with \"nqn.\" (nqn.yyyy-mm.reverse.domain:name)");

	if (strncmp(nqn, UUID_PREFIX, strlen(UUID_PREFIX)) == 0) {
		if (!uuid_valid(nqn + strlen(UUID_PREFIX)))
			return fail(ret_why, "a UUID NQN ends in a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)");
		return 0;
	}

	/* nqn.yyyy-mm. */
	p = nqn + 4;
	for (int i = 0; i < 7; i++) {
		bool ok = i == 4 ? p[i] == '-' : isdigit((unsigned char)p[i]);

		if (!ok)
			return fail(ret_why, "an NQN has a date after \"nqn.\" (nqn.yyyy-mm.reverse.domain:name)");
	}
	if ((p[5] - '0') * 10 + (p[6] - '0') < 1 || (p[5] - '0') * 10 + (p[6] - '0') > 12)
		return fail(ret_why, "the month in an NQN's date is 01 to 12");
	if (p[7] != '.')
		return fail(ret_why, "a \".\" and a reverse domain name follow an NQN's date");

	/* reverse domain: labels separated by dots, up to ':' or the end */
	domain = p + 8;
	end = strchr(domain, ':');
	if (!end)
		end = domain + strlen(domain);
	if (end == domain)
		return fail(ret_why, "an NQN names a reverse domain after its date");
	for (p = domain; p < end;) {
		const char *dot = memchr(p, '.', (size_t)(end - p));
		size_t n = dot ? (size_t)(dot - p) : (size_t)(end - p);

		if (!is_label(p, n))
			return fail(ret_why, "an NQN's reverse domain is made of labels of letters, digits and hyphens separated by dots");
		p += n + (dot ? 1 : 0);
		if (dot && p == end)
			return fail(ret_why, "an NQN's reverse domain does not end with a dot");
	}
	if (*end == ':' && end[1] == '\0')
		return fail(ret_why, "an NQN with a \":\" has a name after it");
	return 0;
}
