/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inventory/hostid.h"
#include "inventory/inventory.h"
#include "load-inventory.h"
#include "base/fileio.h"
#include "base/macro.h"

#define UUID1 "6f1c2a5e-0b7d-4f7e-9c1a-2d3e4f5a6b7c"
#define UUID2 "00000000-1111-2222-3333-444444444444"
#define NQN1 "nqn.2014-08.org.nvmexpress:uuid:" UUID1

static char dir[] = "/tmp/nvmfd-etc-XXXXXX";

static void put(const char *name, const char *text)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup(void **state _unused_)
{
	strcpy(dir, "/tmp/nvmfd-etc-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state _unused_)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/hostnqn", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/hostid", dir);
	unlink(p);
	return rmdir(dir);
}

static void hostid_test_inventory_values_win(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n    hostnqn: " NQN1 "\n    hostid: " UUID1 "\n");
	struct diags d = { 0 };
	struct host_identity id;

	put("hostnqn", "nqn.2014-08.org.nvmexpress:uuid:" UUID2 "\n");
	put("hostid", UUID2 "\n");
	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), 0);
	assert_string_equal(id.hostnqn, NQN1);
	assert_string_equal(id.hostid, UUID1);
	assert_string_equal(id.hostnqn_from, "the inventory");
	assert_int_equal(d.n, 0);
	inventory_free(inv);
}

static void hostid_test_files_fill_in(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n");
	struct diags d = { 0 };
	struct host_identity id;

	put("hostnqn", NQN1 "  \n");
	put("hostid", UUID1 "\n");
	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), 0);
	assert_string_equal(id.hostnqn, NQN1);
	assert_string_equal(id.hostid, UUID1);
	assert_int_equal(d.n, 0);
	inventory_free(inv);
}

static void hostid_test_mismatch_warns(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n    hostnqn: " NQN1 "\n");
	struct diags d = { 0 };
	struct host_identity id;

	put("hostid", UUID2 "\n");
	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), 0);
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].level, DIAG_WARNING);
	assert_non_null(strstr(d.v[0].msg, "differs from the UUID in hostnqn"));
	diags_clear(&d);
	inventory_free(inv);
}

static void hostid_test_missing_or_bad_files_are_errors(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n");
	struct diags d = { 0 };
	struct host_identity id;

	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), -ENOENT);
	assert_non_null(strstr(d.v[0].msg, "has no hostnqn"));
	assert_non_null(strstr(d.v[0].msg, "nvme gen-hostnqn"));
	diags_clear(&d);

	put("hostnqn", "not-an-nqn\n");
	put("hostid", "1234\n");
	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), -EINVAL);
	assert_int_equal(d.n_errors, 2);
	assert_non_null(strstr(d.v[0].msg, "'not-an-nqn' is not a valid host NQN"));
	assert_non_null(strstr(d.v[1].msg, "'1234' is not a UUID"));
	diags_clear(&d);
	inventory_free(inv);
}

static void interrupted(int sig _unused_)
{
}

/* A FIFO where a file should be: refused at once, never waited on. */
static void hostid_test_fifo_is_refused(void **state _unused_)
{
	struct inventory *inv = load_inventory("hosts:\n  - name: h\n");
	struct sigaction sa = { .sa_handler = interrupted }, old;
	struct diags d = { 0 };
	struct host_identity id;
	char p[128], buf[64];

	snprintf(p, sizeof(p), "%s/hostnqn", dir);
	assert_int_equal(mkfifo(p, 0600), 0);
	put("hostid", UUID1 "\n");
	/* Without O_NONBLOCK the open waits for a writer: the alarm would end it with EINTR. */
	sigaction(SIGALRM, &sa, &old);
	alarm(2);
	assert_int_equal(read_one_line(p, buf, sizeof(buf)), -EBADFD);
	assert_int_equal(host_identity_resolve(inv, &inv->hosts[0], dir, &d, &id), -EBADFD);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(d.n_errors, 1);
	assert_non_null(strstr(d.v[0].msg, "cannot be read (not a regular file)"));
	/* A directory is named as one. */
	assert_int_equal(read_one_line(dir, buf, sizeof(buf)), -EISDIR);
	assert_string_equal(buf, "");
	diags_clear(&d);
	inventory_free(inv);
}

/* A key is read from a private regular file of its own path, and nowhere else. */
static void hostid_test_secret_reader_takes_private_files_only(void **state _unused_)
{
	char key[128], link[128], buf[64];

	snprintf(key, sizeof(key), "%s/hostid", dir);
	snprintf(link, sizeof(link), "%s/hostnqn", dir);
	put("hostid", "DHHC-1:00:secret:  \nsecond line\n");
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(read_secret_line(key, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "DHHC-1:00:secret:");
	/* What followed the line is not left in the buffer. */
	for (size_t i = strlen(buf); i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(read_secret_line(key, buf, 8), 0);
	assert_string_equal(buf, "DHHC-1:");
	assert_int_equal(chmod(key, 0640), 0);
	assert_int_equal(read_secret_line(key, buf, sizeof(buf)), -EACCES);
	assert_string_equal(buf, "");
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(symlink(key, link), 0);
	assert_int_equal(read_secret_line(link, buf, sizeof(buf)), -ELOOP);
	unlink(link);
	assert_int_equal(mkfifo(link, 0600), 0);
	assert_int_equal(read_secret_line(link, buf, sizeof(buf)), -EBADFD);
	unlink(link);
	put("hostnqn", "");
	assert_int_equal(chmod(link, 0600), 0);
	assert_int_equal(read_secret_line(link, buf, sizeof(buf)), -ENODATA);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hostid_test_inventory_values_win, setup, teardown),
		cmocka_unit_test_setup_teardown(hostid_test_files_fill_in, setup, teardown),
		cmocka_unit_test_setup_teardown(hostid_test_mismatch_warns, setup, teardown),
		cmocka_unit_test_setup_teardown(hostid_test_missing_or_bad_files_are_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(hostid_test_fifo_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(hostid_test_secret_reader_takes_private_files_only, setup, teardown),
	};
	return cmocka_run_group_tests_name("hostid", tests, NULL, NULL);
}
