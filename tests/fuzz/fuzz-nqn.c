/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NQNs and UUIDs: the input as an NQN, and as the UUID of a UUID NQN.
 * Oracles: a valid NQN is at most 223 bytes of printable text starting
 * "nqn."; a refused one says why; the answer does not depend on whether
 * the reason is asked for; a UUID NQN is valid exactly when its UUID is.
 */
#include <errno.h>
#include <string.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "fuzz.h"

#define UUID_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"

static bool looks_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NQN_MAX_LEN || strncmp(s, "nqn.", 4) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void check_nqn(const char *s)
{
	const char *why = NULL;
	int r = nqn_check(s, &why);

	if (r != 0 && r != -EINVAL)
		fuzz_fail("nqn_check returned %d", r);
	if (r == 0 && (why || !looks_valid(s)))
		fuzz_fail("'%s' passes, but is no NQN (or comes with a reason)", s);
	if (r < 0 && (!why || !*why))
		fuzz_fail("'%s' is refused without a reason", s);
	if (nqn_check(s, NULL) != r || nqn_valid(s) != (r == 0))
		fuzz_fail("'%s': the answer changes without ret_why", s);
	if (r == 0 && strncmp(s, UUID_PREFIX, strlen(UUID_PREFIX)) == 0 && !uuid_valid(s + strlen(UUID_PREFIX)))
		fuzz_fail("'%s' passes with an invalid UUID", s);
}

static void check_uuid(const char *s)
{
	char nqn[NQN_MAX_LEN + 2];
	bool ok = uuid_valid(s);

	if (ok && strlen(s) != 36)
		fuzz_fail("'%s' passes as a UUID", s);
	if (strlen(s) > sizeof(nqn) - sizeof(UUID_PREFIX))
		return;
	snprintf(nqn, sizeof(nqn), UUID_PREFIX "%s", s);
	if (nqn_valid(nqn) != ok)
		fuzz_fail("'%s' is %sa UUID, but its UUID NQN is %svalid", s, ok ? "" : "not ", ok ? "not " : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_free_ char *s = fuzz_strndup(data, size);

	check_nqn(s);
	check_uuid(s);
	return 0;
}
