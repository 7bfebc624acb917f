/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/macro.h"
#include "base/nqn.h"
#include "core/connect-error.h"
#include "core/ident.h"
#include "kernel/kmsg.h"

#define HOST "nqn.2014-08.org.nvmexpress:uuid:f55cfd11-ed3b-4b2b-8cf6-b091e9a15900"
#define OTHER_HOST "nqn.2014-08.org.nvmexpress:uuid:0f01fb42-9f7f-4856-b0b3-51e60b8de349"
#define SUBSYS "nqn.2020-09.com.example:a"

static const struct ident path = {
	.transport = "tcp", .traddr = "192.0.2.1", .trsvcid = "4420", .subsysnqn = SUBSYS, .hostnqn = HOST,
};

static enum connect_class classify(const char *log, char *reason, size_t size)
{
	return connect_classify(-EIO, log, reason, size);
}

/* A "failed to connect queue" line whose ret= is no number the kernel prints (%d). */
static void connect_error_test_malformed_ret_is_no_status(void **state _unused_)
{
	static const char *const rets[] = {
		"-9223372036854775808",  /* LONG_MIN: once negated */
		"-9223372036854775809",  /* beyond it: strtol's LONG_MIN too */
		"-99999999999999999999999",
		"99999999999999999999999",
		"-2147483648",           /* INT_MIN: no errno */
		"-4096",                 /* beyond MAX_ERRNO */
		"65536",                 /* beyond a 16-bit status */
		"",
		"-",
		"--126",
		"+16772",
		"0x184",                 /* %d never prints hex */
		"16772x",
		"abc",
		" 16772",
		"0",                     /* no failure at all */
	};

	for (size_t i = 0; i < ARRAY_SIZE(rets); i++) {
		char log[128], reason[256];
		enum connect_class c;

		snprintf(log, sizeof(log), "nvme nvme0: failed to connect queue: 0 ret=%s\n", rets[i]);
		c = classify(log, reason, sizeof(reason));
		if (c != CONNECT_TRANSIENT || !streq(reason, "Input/output error"))
			fail_msg("ret=%s: got %s \"%s\", want the errno's class", rets[i], connect_class_to_string(c), reason);
	}
}

static void connect_error_test_ret_is_read_within_its_line(void **state _unused_)
{
	char reason[256];

	/* The number is not on the line: nothing after its end is read. */
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=\n-126 dummy\n", reason, sizeof(reason)),
			 CONNECT_TRANSIENT);
	assert_string_equal(reason, "Input/output error");
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=", reason, sizeof(reason)), CONNECT_TRANSIENT);
	/* Leading zeros are decimal still, not octal. */
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=016772\n", reason, sizeof(reason)), CONNECT_DENIED);
	/* The edges that are numbers. */
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=-4095\n", reason, sizeof(reason)),
			 CONNECT_TRANSIENT);
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=-128\n", reason, sizeof(reason)), CONNECT_AUTH);
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=-126", reason, sizeof(reason)), CONNECT_AUTH);
	assert_int_equal(classify("nvme nvme0: failed to connect queue: 0 ret=16785\n", reason, sizeof(reason)), CONNECT_AUTH);
}

static void connect_error_test_errno_out_of_range(void **state _unused_)
{
	char reason[256];

	assert_int_equal(connect_classify(INT_MIN, NULL, reason, sizeof(reason)), CONNECT_TRANSIENT);
	assert_int_equal(connect_classify(0, NULL, reason, sizeof(reason)), CONNECT_TRANSIENT);
	assert_int_equal(connect_classify(EINVAL, NULL, reason, sizeof(reason)), CONNECT_TRANSIENT);
	assert_int_equal(connect_classify(-EALREADY, NULL, reason, sizeof(reason)), CONNECT_ALREADY);
}

/* The kernel's wording of 6.1 and later (drivers/nvme/host/fabrics.c, nvmf_log_connect_error). */
static void connect_error_test_kernel_wording(void **state _unused_)
{
	static const struct {
		const char *line;
		enum connect_class cls;
	} cases[] = {
		{ "nvme nvme0: Connect command failed, error wo/DNR bit: 6", CONNECT_TRANSIENT },
		{ "nvme nvme0: Connect command failed: controller is busy or not available", CONNECT_TRANSIENT },
		{ "nvme nvme0: Connect command failed: authentication required", CONNECT_AUTH },
		{ "nvme nvme0: Connect Invalid SQE Parameter, qid 0", CONNECT_INVALID },
		{ "nvme nvme0: Connect Invalid Data Parameter, hostnqn \"" HOST "\"", CONNECT_DENIED },
		{ "nvme nvme0: qid 0: authentication failed, error -126", CONNECT_AUTH },
		{ "nvme nvme0: rdma connection establishment failed (-104)", CONNECT_TRANSIENT },
		{ "nvme nvme0: rdma_resolve_addr failed (-99).", CONNECT_TRANSIENT },
		{ "nvme nvme0: rdma_resolve_route failed (-110).", CONNECT_TRANSIENT },
		{ "nvme_fabrics: found same hostnqn " HOST " but different hostid 6f1c1d4e-9e0a-4a4e-8a43-2c7d5e3b9a10",
		  CONNECT_HOST_CONFLICT },
		{ "nvme_fabrics: found same hostid 6f1c1d4e-9e0a-4a4e-8a43-2c7d5e3b9a10 but different hostnqn " HOST,
		  CONNECT_HOST_CONFLICT },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char reason[256];
		enum connect_class c = classify(cases[i].line, reason, sizeof(reason));

		if (c != cases[i].cls || !strstr(reason, "(kernel: "))
			fail_msg("\"%s\": got %s \"%s\", want %s from the line", cases[i].line, connect_class_to_string(c), reason,
				 connect_class_to_string(cases[i].cls));
	}
}

static int select_lines(const char *log, const struct ident *id, const char *ctrl, const char *const *before, char *buf,
			size_t size)
{
	const struct connect_scope s = { .id = id, .ctrl = ctrl, .before = before };

	return connect_log_select(log, &s, buf, size);
}

/* Another path's controller, there before this connect, keeps reconnecting and is refused. */
static void connect_error_test_another_controllers_refusal_is_not_ours(void **state _unused_)
{
	static const char *const before[] = { "nvme0", "nvme1", NULL };
	const char *log =
		"nvme nvme0: Connect for subsystem nqn.2020-09.com.example:b is not allowed, hostnqn: " HOST "\n"
		"nvme nvme0: failed to connect queue: 0 ret=16772\n"
		"nvme nvme0: Failed reconnect attempt 3\n"
		"nvme nvme0: Reconnecting in 10 seconds...\n"
		/* The same subsystem and address from another interface: not this connect's either. */
		"nvme nvme1: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
		"nvme nvme2: failed to connect socket: -111\n";
	char sel[1024], reason[256];

	/* What the whole window said: refused. */
	assert_int_equal(classify(log, reason, sizeof(reason)), CONNECT_DENIED);
	assert_int_equal(select_lines(log, &path, NULL, before, sel, sizeof(sel)), 1);
	assert_string_equal(sel, "nvme nvme2: failed to connect socket: -111\n");
	assert_int_equal(classify(sel, reason, sizeof(reason)), CONNECT_TRANSIENT);
	assert_string_equal(reason, "the TCP connection failed (kernel: failed to connect socket: -111)");
}

/* A controller that was not there before: ours, unless it speaks of another path. */
static void connect_error_test_a_new_controller_is_ours_unless_it_names_another_path(void **state _unused_)
{
	static const char *const before[] = { "nvme0", NULL };
	const char *log =
		/* another connect (nvme-cli's) that the kernel served first */
		"nvme nvme1: Connect Invalid Data Parameter, subsysnqn \"nqn.2020-09.com.example:b\"\n"
		"nvme nvme1: failed to connect queue: 0 ret=16770\n"
		/* a successful one, of a subsystem whose name begins like ours */
		"nvme nvme3: new ctrl: NQN \"" SUBSYS "b\", addr 192.0.2.1:4420, hostnqn: " HOST "\n"
		"nvme nvme3: creating 2 I/O queues.\n"
		/* another host NQN's */
		"nvme nvme4: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " OTHER_HOST "\n"
		/* the same subsystem at another port */
		"nvme nvme5: new ctrl: NQN \"" SUBSYS "\", addr 192.0.2.1:4421\n"
		/* this connect's */
		"nvme nvme2: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
		"nvme nvme2: failed to connect queue: 0 ret=16772\n";
	char sel[1024], reason[256];

	assert_int_equal(select_lines(log, &path, NULL, before, sel, sizeof(sel)), 2);
	assert_string_equal(sel, "nvme nvme2: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
				 "nvme nvme2: failed to connect queue: 0 ret=16772\n");
	assert_int_equal(classify(sel, reason, sizeof(reason)), CONNECT_DENIED);

	/* Lines of a new controller that names no path: this connect's, the kernel creates one at a time. */
	assert_int_equal(select_lines("nvme nvme2: qid 0: authentication failed\n"
				      "nvme nvme2: failed to connect queue: 0 ret=-126\n",
				      &path, NULL, before, sel, sizeof(sel)),
			 2);
	assert_int_equal(classify(sel, reason, sizeof(reason)), CONNECT_AUTH);
	/* Words that only look like a path's fields name none. */
	assert_int_equal(select_lines("nvme nvme2: rdma_resolve_addr failed (-99).\n"
				      "nvme nvme2: failed to bind to interface eth9 queue 0 err -19\n"
				      "nvme nvme2: failed to register subsystem device.\n",
				      &path, NULL, before, sel, sizeof(sel)),
			 3);
	/* No list of controllers before: every controller is new. */
	assert_int_equal(select_lines("nvme nvme0: failed to connect socket: -111\n", &path, NULL, NULL, sel, sizeof(sel)), 1);
}

/* A controller number the kernel gave to another connect, then again to ours. */
static void connect_error_test_a_reused_controller_number_keeps_only_our_words(void **state _unused_)
{
	const char *log = "nvme nvme3: failed to connect socket: -111\n"
			  "nvme nvme3: Connect for subsystem nqn.2020-09.com.example:b is not allowed, hostnqn: " HOST "\n"
			  "nvme nvme3: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
			  "nvme nvme3: failed to connect queue: 0 ret=16772\n";
	char sel[1024], reason[256];

	assert_int_equal(select_lines(log, &path, NULL, NULL, sel, sizeof(sel)), 1);
	assert_int_equal(classify(sel, reason, sizeof(reason)), CONNECT_DENIED);
}

/* Before a controller exists the kernel names its module; the line must name the path. */
static void connect_error_test_lines_without_a_controller_name_the_path(void **state _unused_)
{
	struct ident id = path;
	const char *log = "nvme_fabrics: hostnqn already user-assigned: " HOST "\n"
			  "nvme_fabrics: no handler found for transport tcp.\n"
			  "nvme_tcp: malformed address passed: 192.0.2.9:4420\n"
			  "nvme_tcp: malformed address passed: 192.0.2.1:4420\n"
			  "nvme_tcp: malformed address passed: 192.0.2.1:4421\n"
			  "nvme_tcp: queue 0: bad type returned 5\n"
			  "nvme_tcp: invalid interface passed: eth1\n"
			  "nvme_tcp: malformed src address passed: 192.0.2.2\n"
			  "nvmet: connect by host " HOST " for subsystem " SUBSYS " not allowed\n"
			  "nvmet: connect by host " OTHER_HOST " for subsystem " SUBSYS " not allowed\n"
			  "nvme 0000:01:00.0: I/O 12 QID 0 timeout, completion polled\n";
	char sel[1024];

	assert_int_equal(select_lines(log, &id, NULL, NULL, sel, sizeof(sel)), 3);
	assert_string_equal(sel, "nvme_fabrics: hostnqn already user-assigned: " HOST "\n"
				 "nvme_tcp: malformed address passed: 192.0.2.1:4420\n"
				 "nvmet: connect by host " HOST " for subsystem " SUBSYS " not allowed\n");
	/* With a host side, its own lines. */
	snprintf(id.host_iface, sizeof(id.host_iface), "eth1");
	snprintf(id.host_traddr, sizeof(id.host_traddr), "192.0.2.2");
	assert_int_equal(select_lines(log, &id, NULL, NULL, sel, sizeof(sel)), 5);
	assert_non_null(strstr(sel, "invalid interface passed: eth1\n"));
	assert_non_null(strstr(sel, "src address passed: 192.0.2.2\n"));
}

/* The kernel's one host ID per host NQN (6.5 and later): the line names the
 * host NQN; the one about another host is not this connect's. */
static void connect_error_test_a_host_id_conflict_is_its_own_class(void **state _unused_)
{
	const char *log = "nvme_fabrics: found same hostnqn " OTHER_HOST " but different hostid 6f1c1d4e-9e0a-4a4e-8a43-2c7d5e3b9a10\n"
			  "nvme_fabrics: found same hostnqn " HOST " but different hostid 6f1c1d4e-9e0a-4a4e-8a43-2c7d5e3b9a10\n";
	char sel[1024], reason[256];

	assert_int_equal(select_lines(log, &path, NULL, NULL, sel, sizeof(sel)), 1);
	assert_non_null(strstr(sel, HOST " but"));
	assert_int_equal(connect_classify(-EINVAL, sel, reason, sizeof(reason)), CONNECT_HOST_CONFLICT);
	assert_false(connect_class_is_permanent(CONNECT_HOST_CONFLICT));
	assert_non_null(strstr(reason, "one host ID per host NQN"));
	/* without the line, EINVAL stays what it was */
	assert_int_equal(connect_classify(-EINVAL, "", reason, sizeof(reason)), CONNECT_INVALID);
}

/* Addresses compare as addresses: the kernel prints IPv6 in full (%pISp). */
static void connect_error_test_addresses_compare_as_addresses(void **state _unused_)
{
	const struct ident disc = {
		.transport = "tcp", .traddr = "2001:db8::1", .trsvcid = "8009", .subsysnqn = NQN_DISCOVERY, .hostnqn = HOST,
	};
	const char *log =
		"nvme nvme6: new ctrl: NQN \"" NQN_DISCOVERY "\", addr [2001:0db8:0000:0000:0000:0000:0000:0001]:8009, hostnqn: " HOST "\n"
		"nvme nvme6: Property Set error: 880, offset 0x14\n"
		"nvme nvme7: new ctrl: NQN \"" NQN_DISCOVERY "\", addr [2001:db8::1]:4420\n"
		"nvme nvme7: Property Set error: 880, offset 0x14\n";
	char sel[1024];

	assert_int_equal(select_lines(log, &disc, NULL, NULL, sel, sizeof(sel)), 2);
	assert_non_null(strstr(sel, "nvme nvme6: new ctrl"));
	assert_null(strstr(sel, "nvme7"));
}

/* A discovery log read: the controller is known; its lines alone. */
static void connect_error_test_a_known_controller_takes_its_own_lines(void **state _unused_)
{
	const char *log = "nvme nvme4: Property Get error: -4, offset 0x1c\n"
			  "nvme nvme40: Property Get error: -4, offset 0x1c\n"
			  "nvme nvme5: I/O tag 3 (0003) type 4 opcode 0x2 (Get Log Page) QID 0 timeout\n"
			  "nvme nvme4: I/O tag 1 (0001) type 4 opcode 0x2 (Get Log Page) QID 0 timeout\n"
			  "nvme_fabrics: hostnqn already user-assigned: " HOST "\n"
			  "nvme nvme4";
	char sel[1024];

	assert_int_equal(select_lines(log, NULL, "nvme4", NULL, sel, sizeof(sel)), 2);
	assert_string_equal(sel, "nvme nvme4: Property Get error: -4, offset 0x1c\n"
				 "nvme nvme4: I/O tag 1 (0001) type 4 opcode 0x2 (Get Log Page) QID 0 timeout\n");
}

static void connect_error_test_selection_keeps_whole_lines(void **state _unused_)
{
	const char *first = "nvme nvme2: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n";
	const char *log = "nvme nvme2: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
			  "nvme nvme2: failed to connect queue: 0 ret=16772\n";
	char sel[512];

	/* Room for the first line and a part of the second: the second is left out whole. */
	assert_int_equal(select_lines(log, &path, NULL, NULL, sel, strlen(first) + 1 + 10), 1);
	assert_string_equal(sel, first);
	assert_int_equal(select_lines(log, &path, NULL, NULL, sel, 10), 0);
	assert_string_equal(sel, "");
	assert_int_equal(select_lines("", &path, NULL, NULL, sel, sizeof(sel)), 0);
	assert_int_equal(select_lines(NULL, &path, NULL, NULL, sel, sizeof(sel)), 0);
	assert_string_equal(sel, "");
}

/*
 * From /dev/kmsg records to a class: every controller's lines are read, the
 * newest kept when they do not all fit, this connect's chosen. A seqpacket
 * socket hands them over one record a read, as /dev/kmsg does.
 */
static void connect_error_test_from_kmsg_records_to_a_class(void **state _unused_)
{
	static const char *const before[] = { "nvme0", NULL };
	static const char *const records[] = {
		"4,100,5000,-;nvme nvme0: Connect for subsystem " SUBSYS " is not allowed, hostnqn: " HOST "\n"
		" SUBSYSTEM=nvme\n DEVICE=c239:0\n",
		"6,101,5001,-;nvme nvme0: Reconnecting in 10 seconds...\n",
		"6,102,5002,-;rxe0: some other driver\n",
		"3,103,5003,-;nvme nvme1: failed to connect socket: -111\n",
		"6,104,5004,c;no separator here\n",
	};
	int sv[2];
	char window[200], sel[1024], reason[256];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (int round = 0; round < 10; round++)
		for (size_t i = 0; i < ARRAY_SIZE(records); i++)
			assert_int_equal(write(sv[1], records[i], strlen(records[i])), (ssize_t)strlen(records[i]));
	close(sv[1]);
	window[0] = '\0';
	kmsg_collect(sv[0], (const char *const[]){ "nvme", NULL }, window, sizeof(window));
	/* The last round's lines: the oldest gave way, whole. */
	assert_string_equal(window, "nvme nvme0: Reconnecting in 10 seconds...\n"
				    "nvme nvme1: failed to connect socket: -111\n");
	assert_int_equal(select_lines(window, &path, NULL, before, sel, sizeof(sel)), 1);
	assert_int_equal(classify(sel, reason, sizeof(reason)), CONNECT_TRANSIENT);
	assert_string_equal(reason, "the TCP connection failed (kernel: failed to connect socket: -111)");
	/* An fd that is none: nothing, and BUF as it was. */
	kmsg_collect(-1, NULL, window, sizeof(window));
	assert_non_null(strstr(window, "Reconnecting"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connect_error_test_malformed_ret_is_no_status),
		cmocka_unit_test(connect_error_test_ret_is_read_within_its_line),
		cmocka_unit_test(connect_error_test_errno_out_of_range),
		cmocka_unit_test(connect_error_test_kernel_wording),
		cmocka_unit_test(connect_error_test_another_controllers_refusal_is_not_ours),
		cmocka_unit_test(connect_error_test_a_new_controller_is_ours_unless_it_names_another_path),
		cmocka_unit_test(connect_error_test_a_reused_controller_number_keeps_only_our_words),
		cmocka_unit_test(connect_error_test_lines_without_a_controller_name_the_path),
		cmocka_unit_test(connect_error_test_a_host_id_conflict_is_its_own_class),
		cmocka_unit_test(connect_error_test_addresses_compare_as_addresses),
		cmocka_unit_test(connect_error_test_a_known_controller_takes_its_own_lines),
		cmocka_unit_test(connect_error_test_selection_keeps_whole_lines),
		cmocka_unit_test(connect_error_test_from_kmsg_records_to_a_class),
	};
	return cmocka_run_group_tests_name("connect-error", tests, NULL, NULL);
}
