/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "inventory/inventory.h"
#include "base/macro.h"

#define DATA TEST_SRCDIR "/tests/unit/data"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

static char *print_all(const struct inventory *inv)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	inventory_print(f, inv);
	fclose(f);
	return s;
}

static char *diags_text(const struct diags *d)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	diags_print(d, f);
	fclose(f);
	return s;
}

/* Compare with a golden file; UPDATE_GOLDEN=1 rewrites it instead. */
static void assert_golden(const char *text, const char *golden)
{
	_cleanup_free_ char *want = NULL;

	if (getenv("UPDATE_GOLDEN")) {
		FILE *f = fopen(golden, "we");

		assert_non_null(f);
		fputs(text, f);
		fclose(f);
		return;
	}
	want = slurp(golden);
	if (!want)
		fail_msg("no golden file %s (UPDATE_GOLDEN=1 writes it)", golden);
	if (!streq(want, text))
		fail_msg("output differs from %s:\n%s", golden, text);
}

/* Load a file under its base name, so that output does not depend on where the tree is. */
static struct inventory *load_ok(const char *path)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	_cleanup_free_ char *text = slurp(path);
	int r;

	if (!text)
		fail_msg("cannot read %s", path);
	r = inventory_load_string(strrchr(path, '/') + 1, text, strlen(text), &d, &inv);

	if (r < 0) {
		_cleanup_free_ char *t = diags_text(&d);
		fail_msg("%s: %s\n%s", path, strerror(-r), t);
	}
	diags_clear(&d);
	return inv;
}

static struct inventory *load_ok_string(const char *yaml)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	if (inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv) < 0) {
		_cleanup_free_ char *t = diags_text(&d);
		fail_msg("does not load:\n%s\n%s", t, yaml);
	}
	diags_clear(&d);
	return inv;
}

static void inventory_test_example_normalises_to_golden(void **state _unused_)
{
	struct inventory *inv = load_ok(TEST_SRCDIR "/conf/nvmfd.yaml");
	_cleanup_free_ char *out = print_all(inv);

	assert_int_equal(inv->n_hosts, 1);
	assert_int_equal(inv->n_targets, 1);
	/* The host's one connect entry names storage1: one endpoint per port. */
	assert_int_equal(inv->hosts[0].n_endpoints, 2);
	assert_string_equal(inv->hosts[0].endpoints[0].traddr, "192.0.2.1");
	assert_string_equal(inv->hosts[0].endpoints[1].trsvcid, "4420");
	assert_int_equal(inv->hosts[0].endpoints[1].transport, TRANSPORT_TCP);
	assert_string_equal(inv->hosts[0].endpoints[0].host_traddr, "192.0.2.2");
	/* allowed_hosts: [initiator1] resolves to its hostnqn. */
	assert_string_equal(inv->targets[0].subsystems[0].allowed_hosts[0].nqn, inv->hosts[0].hostnqn);
	assert_golden(out, DATA "/example.golden");
	inventory_free(inv);
}

static void inventory_test_full_normalises_to_golden(void **state _unused_)
{
	struct inventory *inv = load_ok(DATA "/full.yaml");
	_cleanup_free_ char *out = print_all(inv);

	assert_golden(out, DATA "/full.golden");
	inventory_free(inv);
}

/* Strip comments, which name lines of the file they came from. */
static void strip_comments(char *s)
{
	char *w = s;

	for (char *line = s; *line;) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
		char *hash = memchr(line, '#', n);

		if (hash) {
			char *end = hash;

			while (end > line && end[-1] == ' ')
				end--;
			if (end > line) {
				memmove(w, line, (size_t)(end - line));
				w += end - line;
				*w++ = '\n';
			}
		} else {
			memmove(w, line, n);
			w += n;
		}
		line += n;
	}
	*w = '\0';
}

static void inventory_test_normalised_output_loads_to_the_same(void **state _unused_)
{
	static const char *const files[] = { TEST_SRCDIR "/conf/nvmfd.yaml", DATA "/full.yaml" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct inventory *inv = load_ok(files[i]), *again = NULL;
		_cleanup_free_ char *first = print_all(inv), *second = NULL;
		struct diags d = { 0 };

		/* Hosts printed after targets: the text is one inventory again. */
		if (inventory_load_string("normalised", first, strlen(first), &d, &again) < 0) {
			_cleanup_free_ char *t = diags_text(&d);
			fail_msg("%s: normalised output does not load:\n%s\n%s", files[i], t, first);
		}
		second = print_all(again);
		strip_comments(first);
		strip_comments(second);
		assert_string_equal(first, second);
		diags_clear(&d);
		inventory_free(again);
		inventory_free(inv);
	}
}

struct bad_case {
	const char *yaml;
	unsigned line, column;
	const char *msg; /* a part of the message */
};

#define T1 "targets:\n  - name: t1\n"
#define P1 "    ports:\n      - id: 1\n        transport: tcp\n        traddr: 192.0.2.1\n"
#define S1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allow_any_host: true\n"
#define H1 "hosts:\n  - name: h1\n"

static const struct bad_case bad_cases[] = {
	/* syntax, shape, keys */
	{ "hosts: [\n", 2, 1, "not valid YAML" },
	{ "- a\n- b\n", 1, 1, "the inventory is a mapping" },
	{ "hostz: []\n", 1, 1, "unknown key 'hostz' in the inventory (allowed: defaults, hosts, targets)" },
	{ "hosts: {}\n", 1, 8, "hosts is a list of mappings" },
	{ H1 "    name: h2\n", 3, 5, "'name' is given twice in a host (first at line 2)" },
	{ H1 "    conect: []\n", 3, 5, "unknown key 'conect' in a host (allowed: name, hostnqn, hostid, modules, connect, nr_io_queues" },
	{ "hosts:\n  - hostnqn: nqn.2020-01.com.example:h\n", 2, 5, "a host needs 'name'" },
	{ "---\nhosts: []\n---\ntargets: []\n", 4, 1, "a second one starts here" },
	{ "", 0, 0, "the inventory is empty" },
	/* numbers, durations, words */
	{ "defaults:\n  queue_size: 4096\n", 2, 15, "queue_size is from 16 to 1024, not 4096" },
	{ "defaults:\n  queue_size: many\n", 2, 15, "queue_size is a whole number from 16 to 1024, not 'many'" },
	{ "defaults:\n  nr_io_queues: [1]\n", 2, 17, "is a single value, not a list" },
	{ "defaults:\n  reconnect_delay: 1500ms\n", 2, 20, "reconnect_delay is passed to the kernel in whole seconds: 1500ms is not (use 1s or 2s)" },
	{ "defaults:\n  keep_alive_tmo: 5\n", 2, 19, "keep_alive_tmo is a duration in whole seconds such as 5s or 10m, not '5'" },
	{ "defaults:\n  ctrl_loss_tmo: never\n", 2, 18, "or 'forever', not 'never'" },
	{ "defaults:\n  fast_io_fail_tmo: 2x\n", 2, 21, "or 'off', not '2x'" },
	{ "defaults:\n  ctrl_loss_tmo: 1s\n  reconnect_delay: 5s\n", 2, 3, "ctrl_loss_tmo (1s) is shorter than reconnect_delay (5s)" },
	{ "defaults:\n  backoff: {initial: 2s, max: 1s}\n", 2, 12, "backoff max is at least backoff initial" },
	{ "defaults:\n  backoff: {jitter: 20}\n", 2, 21, "backoff jitter is a percentage from 0% to 100%, such as 20%, not '20'" },
	{ "defaults:\n  backoff: {initial: 1ms}\n", 2, 22, "backoff initial is from 10ms to 1h, not 1ms" },
	{ "defaults:\n  on_removed: drop\n", 2, 15, "on_removed is keep or disconnect, not 'drop'" },
	{ "defaults:\n  iopolicy: round_robin\n", 2, 13, "iopolicy is numa, round-robin or queue-depth, not 'round_robin'" },
	{ "defaults:\n  transport: fc\n", 2, 14, "transport is rdma or tcp, not 'fc'" },
	{ "defaults:\n  trsvcid: 70000\n", 2, 12, "trsvcid (the TCP or RDMA CM port) is from 1 to 65535, not 70000" },
	/* names and NQNs */
	{ H1 "    hostnqn: nvme-test-1\n", 3, 14, "hostnqn 'nvme-test-1' is not a valid NQN: an NQN starts with \"nqn.\"" },
	{ H1 "    hostid: 1234\n", 3, 13, "hostid is a UUID" },
	{ "hosts:\n  - name: 'bad name'\n", 2, 11, "host name 'bad name' is a name of letters" },
	{ "hosts:\n  - name: h1\n  - name: h1\n", 3, 5, "host h1 is given twice (first at line 2)" },
	{ H1 "    modules: [qedr, 'nvme rdma']\n", 3, 21, "modules 'nvme rdma' is not a module name" },
	{ H1 "    modules: [qedr, qedr]\n", 3, 21, "'qedr' is listed twice in modules" },
	/* connect entries */
	{ H1 "    connect:\n      - traddr: 192.0.2.1\n", 4, 9, "a connect entry needs 'transport' (rdma or tcp), here or in defaults" },
	{ H1 "    connect:\n      - transport: tcp\n", 4, 9, "a connect entry needs 'traddr (or target)'" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.300}\n", 4, 34, "traddr '192.0.2.300' is not an IPv4 or IPv6 address" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, adrfam: ipv6}\n", 4, 34, "traddr '192.0.2.1' is not an IPv6 address (adrfam is ipv6)" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, host_traddr: 'fe80::1'}\n", 4, 58, "host_traddr 'fe80::1' is ipv6 but the target address 192.0.2.1 is ipv4" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, host_iface: a/b}\n", 4, 57, "host_iface 'a/b' is not a network interface name" },
	{ H1 "    connect:\n      - {target: nowhere}\n", 4, 18, "there is no target 'nowhere' in this inventory" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, traddr: 192.0.2.9}\n", 13, 30, "takes transport, traddr, trsvcid and adrfam from the target's ports: 'traddr' goes" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [1, 7]}\n", 13, 33, "target t1 has no port '7'" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1}\n      - {transport: tcp, traddr: 192.0.2.1, trsvcid: 8009}\n", 5, 9, "host h1 connects to tcp 192.0.2.1:8009 twice (first at line 4)" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, subsystems: [bad]}\n", 4, 58, "subsystems 'bad' is not a valid NQN" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, dhchap_key: 'DHHC-1:00:abc:'}\n", 4, 57, "secrets are never written in the inventory" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, dhchap_key: key.txt}\n", 4, 57, "dhchap_key is the absolute path of a file that holds the key, not 'key.txt'" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, dhchap_ctrl_key: /k}\n", 4, 62, "dhchap_ctrl_key (bidirectional authentication) needs dhchap_key as well" },
	{ H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, ports: [1]}\n", 4, 52, "'ports' picks ports of a named target; this entry names none" },
	/* targets */
	{ T1 P1 "      - id: 1\n        transport: tcp\n        traddr: 192.0.2.2\n", 7, 13, "port id 1 is used twice in target t1 (first at line 4)" },
	{ T1 "    ports:\n      - id: 1\n        traddr: 192.0.2.1\n", 4, 9, "a port needs 'transport' (rdma or tcp), here or in defaults" },
	{ T1 P1 "        subsystems: [nqn.2020-01.com.example:other]\n", 7, 22, "port 1 exposes 'nqn.2020-01.com.example:other', which is not a subsystem of target t1" },
	{ T1 S1 "      - nqn: nqn.2020-01.com.example:s1\n", 6, 9, "subsystem nqn.2020-01.com.example:s1 is given twice in target t1 (first at line 4)" },
	{ T1 "    subsystems:\n      - nqn: nvme-test-1\n", 4, 14, "subsystem nqn 'nvme-test-1' is not a valid NQN" },
	{ T1 "    subsystems:\n      - nqn: nqn.2014-08.org.nvmexpress.discovery\n", 4, 14, "is the discovery subsystem" },
	{ T1 S1 "        serial: 'way too long a serial number'\n", 6, 17, "serial is at most 20 printable ASCII characters" },
	{ T1 S1 "        allowed_hosts: [nqn.2020-01.com.example:h]\n", 5, 25, "allow_any_host: true contradicts allowed_hosts" },
	{ T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts: [nobody]\n", 5, 25, "allowed host 'nobody' is neither a host of this inventory nor an NQN" },
	{ T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts: [h1]\n" H1, 5, 25, "allowed host 'h1' has no hostnqn in the inventory (line 7)" },
	{ T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts: [{host: nqn.2020-01.com.example:h, dhchap_hash: md5, dhchap_key: /k}]\n", 5, 72, "dhchap_hash is one of hmac(sha256), hmac(sha384), hmac(sha512), not 'md5'" },
	{ T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts:\n          - {host: nqn.2020-01.com.example:h, dhchap_key: /k1}\n      - nqn: nqn.2020-01.com.example:s2\n        allowed_hosts:\n          - {host: nqn.2020-01.com.example:h, dhchap_key: /k2}\n", 9, 13, "host nqn.2020-01.com.example:h has other DH-HMAC-CHAP settings than at line 6" },
	{ T1 S1 "        namespaces:\n          - {nsid: 1, device_path: /dev/nullb0}\n          - {nsid: 1, device_path: /dev/nullb1}\n", 8, 13, "nsid 1 is used twice in nqn.2020-01.com.example:s1 (first at line 7)" },
	{ T1 S1 "        namespaces:\n          - {nsid: 0, device_path: /dev/nullb0}\n", 7, 20, "nsid is from 1 to 4294967294, not 0" },
	{ T1 S1 "        namespaces:\n          - {nsid: 1, device_path: nullb0}\n", 7, 36, "device_path is the absolute path of a block device or file, not 'nullb0'" },
	{ T1 S1 "        namespaces:\n          - {nsid: 1, device_path: /dev/nullb0, uuid: xyz}\n", 7, 55, "uuid is written xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex, not 'xyz'" },
	{ T1 S1 "        namespaces:\n          - {nsid: 1, device_path: /dev/nullb0, enabled: yes}\n", 7, 58, "enabled is true or false, not 'yes'" },
	{ T1 "    null_blk: {gb: 0}\n", 3, 20, "null_blk gb is from 1 to 65536, not 0" },
	{ T1 "  - name: t1\n", 3, 5, "target t1 is given twice (first at line 2)" },
	{ T1 P1 "        referrals:\n          - {transport: tcp, traddr: 192.0.2.7, name: a/b}\n", 8, 55, "a referral name is a directory name" },
	/* after a duplicate or a bad item, an error points at its own item */
	{ T1 S1 P1 "        subsystems: [nqn.2020-01.com.example:s1, nqn.2020-01.com.example:s1, nqn.2020-01.com.example:x]\n", 10, 78, "port 1 exposes 'nqn.2020-01.com.example:x', which is not" },
	{ T1 S1 P1 "        subsystems: [nqn.2020-01.com.example:s1, nqn.2020-01.com.example:s1, nqn.2020-01.com.example:x]\n", 10, 50, "'nqn.2020-01.com.example:s1' is listed twice in a port's subsystems" },
	{ T1 S1 P1 "        subsystems: [[a], nqn.2020-01.com.example:x]\n", 10, 27, "port 1 exposes 'nqn.2020-01.com.example:x'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [1, 1, 7]}\n", 13, 36, "target t1 has no port '7'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [1, 1, 7]}\n", 13, 33, "port 1 is listed twice in ports" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [[1], 7]}\n", 13, 35, "target t1 has no port '7'" },
	{ T1 S1 "    modules: [a, a, 'b c']\n", 6, 21, "modules 'b c' is not a module name" },
	/* a port id is a plain decimal number */
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [1abc]}\n", 13, 30, "a port id is a whole number from 1 to 65535 (the id of one of target t1's ports), not '1abc'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: ['01']}\n", 13, 30, "not '01'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [-18446744073709551615]}\n", 13, 30, "not '-18446744073709551615'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [+1]}\n", 13, 30, "not '+1'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [18446744073709551617]}\n", 13, 30, "not '18446744073709551617'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [0]}\n", 13, 30, "not '0'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [' 1']}\n", 13, 30, "not ' 1'" },
	{ T1 P1 S1 H1 "    connect:\n      - {target: t1, ports: [1.0]}\n", 13, 30, "not '1.0'" },
	/* and so is every other number */
	{ "defaults:\n  queue_size: 0128\n", 2, 15, "queue_size is a whole number from 16 to 1024, not '0128'" },
	{ "defaults:\n  nr_io_queues: 00\n", 2, 17, "not '00'" },
	{ "defaults:\n  queue_size: 18446744073709551744\n", 2, 15, "queue_size is from 16 to 1024, not 18446744073709551744" },
	{ "defaults:\n  trsvcid: 04420\n", 2, 12, "trsvcid (the TCP or RDMA CM port) is a whole number from 1 to 65535, not '04420'" },
	{ "defaults:\n  backoff: {jitter: 020%}\n", 2, 21, "backoff jitter is a percentage from 0% to 100%, such as 20%, not '020%'" },
	{ "defaults:\n  backoff: {jitter: 18446744073709551636%}\n", 2, 21, "not '18446744073709551636%'" },
	{ T1 S1 "        namespaces:\n          - {nsid: 01, device_path: /dev/nullb0}\n", 7, 20, "nsid is a whole number from 1 to 4294967294, not '01'" },
	{ T1 S1 "        namespaces:\n          - {nsid: 4294967295, device_path: /dev/nullb0}\n", 7, 20, "nsid is from 1 to 4294967294, not 4294967295" },
	{ T1 "    ports:\n      - {id: 007, transport: tcp, traddr: 192.0.2.1}\n", 4, 14, "port id is a whole number from 1 to 65535, not '007'" },
	{ T1 P1 "        referrals:\n          - {transport: tcp, traddr: 192.0.2.7, portid: '-1'}\n", 8, 57, "portid is a whole number from 0 to 65535, not '-1'" },
	{ T1 "    null_blk: {nr_devices: 1e3}\n", 3, 28, "null_blk nr_devices is a whole number from 1 to 64, not '1e3'" },
	/* a duplicate is reported once, against the first */
	{ T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts: [nqn.2020-01.com.example:h, nqn.2020-01.com.example:h]\n", 5, 52, "host nqn.2020-01.com.example:h is allowed twice on nqn.2020-01.com.example:s1 (first at line 5)" },
	{ T1 P1 "        referrals:\n          - {transport: tcp, traddr: 192.0.2.7}\n          - {transport: tcp, traddr: 192.0.2.7}\n", 9, 13, "referral tcp-192.0.2.7-4420 is given twice in port 1 (first at line 8)" },
	/* the limits */
	{ H1 "    modules: [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15, m16, m17, m18, m19, m20, m21, m22, m23, m24, m25, m26, m27, m28, m29, m30, m31, m32, m33, m34, m35, m36, m37, m38, m39, m40, m41, m42, m43, m44, m45, m46, m47, m48, m49, m50, m51, m52, m53, m54, m55, m56, m57, m58, m59, m60, m61, m62, m63, m64]\n", 3, 14, "modules lists at most 64 modules, not 65" },
	{ "x: &a [1]\ny: *b\n", 2, 4, "alias *b names no anchor before it" },
	{ "x: &a [*a]\n", 1, 8, "alias *a is inside the node it names" },
};

static void inventory_test_rejects_each_bad_input_at_its_place(void **state _unused_)
{
	size_t failed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct diags d = { 0 };
		struct inventory *inv = NULL;
		bool found = false;
		int r = inventory_load_string("inv.yaml", c->yaml, strlen(c->yaml), &d, &inv);

		for (size_t k = 0; k < d.n; k++)
			if (d.v[k].level == DIAG_ERROR && d.v[k].line == c->line && d.v[k].column == c->column &&
			    strstr(d.v[k].msg, c->msg))
				found = true;
		if (r != -EINVAL || !found || inv) {
			_cleanup_free_ char *t = diags_text(&d);

			print_error("case %zu: want error at %u:%u containing \"%s\" (r=%d); got:\n%s", i, c->line,
				    c->column, c->msg, r, t);
			failed++;
		}
		inventory_free(inv);
		diags_clear(&d);
	}
	if (failed)
		fail_msg("%zu of %zu bad inputs were not reported as expected", failed, ARRAY_SIZE(bad_cases));
}

static void inventory_test_reports_every_error_in_a_file(void **state _unused_)
{
	static const char yaml[] = "defaults:\n"
				   "  queue_size: 1\n"
				   "  colour: blue\n"
				   "hosts:\n"
				   "  - name: h1\n"
				   "    hostnqn: bad\n"
				   "    connect:\n"
				   "      - {transport: tcp, traddr: 300.1.1.1}\n";
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	_cleanup_free_ char *t = NULL;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), -EINVAL);
	t = diags_text(&d);
	assert_int_equal(d.n_errors, 4);
	assert_non_null(strstr(t, "inv.yaml:2:15: error: queue_size is from 16 to 1024, not 1\n"));
	assert_non_null(strstr(t, "inv.yaml:3:3: error: unknown key 'colour' in defaults"));
	assert_non_null(strstr(t, "inv.yaml:6:14: error: hostnqn 'bad' is not a valid NQN"));
	assert_non_null(strstr(t, "inv.yaml:8:34: error: traddr '300.1.1.1' is not an IPv4 or IPv6 address\n"));
	diags_clear(&d);
}

static void inventory_test_allow_any_host_warns(void **state _unused_)
{
	static const char yaml[] = T1 S1;
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	assert_int_equal(d.n_errors, 0);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.v[0].level, DIAG_WARNING);
	assert_int_equal(d.v[0].line, 4);
	assert_non_null(strstr(d.v[0].msg, "any host may connect to nqn.2020-01.com.example:s1"));
	assert_true(inv->targets[0].subsystems[0].allow_any_host);
	inventory_free(inv);
	diags_clear(&d);
}

static void inventory_test_defaults_apply_in_layers(void **state _unused_)
{
	static const char yaml[] = "defaults:\n  transport: tcp\n  queue_size: 64\n  ctrl_loss_tmo: forever\n"
				   "  iopolicy: round-robin\n"
				   "hosts:\n  - name: h1\n    queue_size: 32\n    connect:\n"
				   "      - traddr: 192.0.2.1\n"
				   "      - {traddr: 192.0.2.2, queue_size: 16, transport: rdma, iopolicy: numa}\n";
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	const struct inv_endpoint *e;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	e = inv->hosts[0].endpoints;
	assert_int_equal(inv->hosts[0].n_endpoints, 2);
	assert_int_equal(e[0].transport, TRANSPORT_TCP);
	assert_string_equal(e[0].trsvcid, TRSVCID_TCP_DISCOVERY); /* tcp discovery: 8009 */
	assert_int_equal(e[0].fabrics.queue_size, 32);            /* host over defaults */
	assert_int_equal(e[0].fabrics.ctrl_loss_tmo, -1);         /* defaults */
	assert_int_equal(e[0].fabrics.keep_alive_tmo, inv_fabrics_default.keep_alive_tmo);
	assert_int_equal(e[1].transport, TRANSPORT_RDMA);
	assert_string_equal(e[1].trsvcid, TRSVCID_RDMA_DISCOVERY);
	assert_int_equal(e[1].fabrics.queue_size, 16);            /* entry over host */
	assert_string_equal(e[0].iopolicy, "round-robin");        /* defaults */
	assert_string_equal(e[1].iopolicy, "numa");               /* entry over defaults */
	inventory_free(inv);
	diags_clear(&d);
}

static void inventory_test_pick_names_the_choices(void **state _unused_)
{
	static const char yaml[] = "hosts:\n  - name: a1\n  - name: b2\n";
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	const struct inv_host *h = NULL;

	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);
	assert_int_equal(inventory_pick_host(inv, "b2", &d, &h), 0);
	assert_string_equal(h->name, "b2");
	assert_int_equal(inventory_pick_host(inv, "zz", &d, &h), -ENOENT);
	assert_null(h);
	assert_non_null(strstr(d.v[d.n - 1].msg, "there is no host 'zz' in the inventory (there are: a1, b2)"));
	inventory_free(inv);
	diags_clear(&d);
}

static void inventory_test_key_files_must_be_private(void **state _unused_)
{
	char dir[] = "/tmp/nvmfd-test-XXXXXX", key[64], yaml[512];
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(key, sizeof(key), "%s/host.key", dir);
	f = fopen(key, "we");
	assert_non_null(f);
	fputs("DHHC-1:00:placeholder:\n", f);
	fclose(f);
	snprintf(yaml, sizeof(yaml),
		 "hosts:\n  - name: h1\n    connect:\n      - {transport: tcp, traddr: 192.0.2.1, dhchap_key: %s}\n", key);
	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);

	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(inventory_check_host_keys(inv, &inv->hosts[0], &d), -EACCES);
	assert_int_equal(d.v[d.n - 1].line, 4);
	assert_non_null(strstr(d.v[d.n - 1].msg, "is readable by group or others (mode 0644)"));
	assert_non_null(strstr(d.v[d.n - 1].msg, "chmod 600"));

	assert_int_equal(chmod(key, 0600), 0);
	diags_clear(&d);
	assert_int_equal(inventory_check_host_keys(inv, &inv->hosts[0], &d), 0);
	assert_int_equal(d.n, 0);

	unlink(key);
	assert_int_equal(inventory_check_host_keys(inv, &inv->hosts[0], &d), -ENOENT);
	assert_non_null(strstr(d.v[d.n - 1].msg, "No such file or directory"));
	rmdir(dir);
	inventory_free(inv);
	diags_clear(&d);
}

static void inventory_test_unreadable_file_names_errno(void **state _unused_)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	_cleanup_free_ char *t = NULL;

	assert_int_equal(inventory_load("/nonexistent/nvmfd.yaml", &d, &inv), -ENOENT);
	t = diags_text(&d);
	assert_string_equal(t, "/nonexistent/nvmfd.yaml: error: cannot read the inventory: No such file or directory\n");
	diags_clear(&d);
}


/* ---------------------------------------------------------------------- */
/* inputs of any shape: checked in linear time, with a bounded report */

#define BIG (1u << 20)
/* Far more than the report keeps, far less than one line per item of BIG. */
#define MAX_SHOWN 200

static const char *big_running;

static void big_too_long(int sig _unused_)
{
	static const char msg[] = "a large input took more than 30 s: ";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0 ||
	    write(STDERR_FILENO, big_running, strlen(big_running)) < 0 || write(STDERR_FILENO, "\n", 1) < 0)
		_exit(2);
	_exit(1);
}

static void gen_repeated_nsids(FILE *f)
{
	fputs(T1 S1 "        namespaces:\n", f);
	while (ftell(f) < BIG)
		fputs("          - {nsid: 1, device_path: /dev/nullb0}\n", f);
}

static void gen_repeated_endpoints(FILE *f)
{
	fputs(H1 "    connect:\n", f);
	while (ftell(f) < BIG)
		fputs("      - {transport: tcp, traddr: 192.0.2.1}\n", f);
}

/* A target of 1000 ports named again and again: each entry 1000 endpoints. */
static void gen_repeated_target_entries(FILE *f)
{
	fputs(T1 S1 "    ports:\n", f);
	for (int i = 1; i <= 1000; i++)
		fprintf(f, "      - {id: %d, transport: tcp, traddr: 192.0.2.1, trsvcid: %d}\n", i, i);
	fputs(H1 "    connect:\n", f);
	while (ftell(f) < BIG)
		fputs("      - {target: t1}\n", f);
}

/* Distinct endpoints by the million: every entry names the target's many ports from another interface. */
static void gen_target_times_interfaces(FILE *f)
{
	fputs(T1 S1 "    ports:\n", f);
	for (int i = 1; ftell(f) < BIG / 2; i++)
		fprintf(f, "      - {id: %d, transport: tcp, traddr: 192.0.2.1, trsvcid: %d}\n", i, i);
	fputs(H1 "    connect:\n", f);
	for (int i = 0; ftell(f) < BIG; i++)
		fprintf(f, "      - {target: t1, host_iface: e%d}\n", i);
}

/* Every port exposes every subsystem when it lists none. */
static void gen_ports_times_subsystems(FILE *f)
{
	fputs(T1 "    subsystems:\n", f);
	for (int i = 0; ftell(f) < BIG / 2; i++)
		fprintf(f, "      - {nqn: 'nqn.2020-01.com.example:s%d', allow_any_host: true}\n", i);
	fputs("    ports:\n", f);
	for (int i = 1; ftell(f) < BIG && i < 65536; i++)
		fprintf(f, "      - {id: %d, transport: tcp, traddr: 192.0.2.1, trsvcid: %d}\n", i, i);
}

static void gen_deep_flow_sequences(FILE *f)
{
	fputs("hosts: ", f);
	for (unsigned i = 0; i < BIG / 2; i++)
		fputc('[', f);
	for (unsigned i = 0; i < BIG / 2; i++)
		fputc(']', f);
	fputc('\n', f);
}

static void gen_deep_flow_mappings(FILE *f)
{
	fputs("hosts: ", f);
	for (unsigned i = 0; i < BIG / 4; i++)
		fputs("{a: ", f);
	fputc('b', f);
	for (unsigned i = 0; i < BIG / 4; i++)
		fputc('}', f);
	fputc('\n', f);
}

static void gen_deep_blocks(FILE *f)
{
	for (int depth = 0; ftell(f) < BIG; depth++)
		fprintf(f, "%*sk:\n", depth, "");
}

static void gen_many_errors(FILE *f)
{
	fputs(H1, f);
	for (int i = 0; ftell(f) < BIG; i++)
		fprintf(f, "    k%d: v\n", i);
}

static void gen_many_anchors(FILE *f)
{
	int i, j;

	fputs("x: [", f);
	for (i = 0; ftell(f) < BIG / 2; i++)
		fprintf(f, "&a%d v, ", i);
	for (j = 0; ftell(f) < BIG; j++)
		fprintf(f, "*a%d, ", j % i);
	fputs("v]\n", f);
}

/* One subsystem of 1000 namespaces, given again by alias over and over. */
static void gen_alias_amplification(FILE *f)
{
	fputs("x: &s\n  nqn: nqn.2020-01.com.example:s1\n  allow_any_host: true\n  namespaces:\n", f);
	for (int i = 1; i <= 1000; i++)
		fprintf(f, "    - {nsid: %d, device_path: /dev/nullb0}\n", i);
	fputs(T1 "    subsystems: [", f);
	while (ftell(f) < BIG)
		fputs("*s, ", f);
	fputs("*s]\n", f);
}

static void gen_repeated_list_items(FILE *f)
{
	fputs(T1 S1 P1 "        subsystems: [", f);
	while (ftell(f) < BIG)
		fputs("nqn.2020-01.com.example:s1, ", f);
	fputs("nqn.2020-01.com.example:s1]\n", f);
}

static void gen_repeated_allowed_hosts(FILE *f)
{
	fputs(T1 "    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts:\n", f);
	while (ftell(f) < BIG / 2)
		fputs("          - {host: nqn.2020-01.com.example:h, dhchap_key: /k1}\n", f);
	fputs("      - nqn: nqn.2020-01.com.example:s2\n        allowed_hosts:\n", f);
	while (ftell(f) < BIG)
		fputs("          - {host: nqn.2020-01.com.example:h, dhchap_key: /k2}\n", f);
}

/* Many names to look up: hosts allowed by name, targets connected by name. */
static void gen_many_names(FILE *f)
{
	int n = 6000;

	fputs("targets:\n", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "  - {name: t%d, ports: [{id: 1, transport: tcp, traddr: 192.0.2.1, trsvcid: %d}]}\n", i,
			i % 60000 + 1);
	fputs("  - name: t\n    subsystems:\n      - nqn: nqn.2020-01.com.example:s1\n        allowed_hosts: [", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "%sh%d", i ? ", " : "", i);
	fputs("]\nhosts:\n", f);
	for (int i = 0; i < n; i++)
		fprintf(f, "  - {name: h%d, hostnqn: 'nqn.2020-01.com.example:h%d', connect: [{target: t%d}]}\n", i, i, i);
}

struct big_case {
	const char *name;
	void (*gen)(FILE *f);
	const char *want; /* a part of an error it reports; NULL: it loads */
};

static const struct big_case big_cases[] = {
	{ "repeated nsids", gen_repeated_nsids, "nsid 1 is used twice" },
	{ "repeated endpoints", gen_repeated_endpoints, "host h1 connects to tcp 192.0.2.1:8009 twice" },
	{ "a target named again and again", gen_repeated_target_entries, "twice" },
	{ "a target's ports from many interfaces", gen_target_times_interfaces, "endpoints" },
	{ "many ports times many subsystems", gen_ports_times_subsystems, "links" },
	{ "deep flow sequences", gen_deep_flow_sequences, "nested deeper than 64 levels" },
	{ "deep flow mappings", gen_deep_flow_mappings, "nested deeper than 64 levels" },
	{ "deep block mappings", gen_deep_blocks, "nested deeper than 64 levels" },
	{ "many errors", gen_many_errors, "unknown key 'k0' in a host" },
	{ "many anchors and aliases", gen_many_anchors, "unknown key 'x'" },
	{ "an alias expanded again and again", gen_alias_amplification, "alias" },
	{ "a list item repeated", gen_repeated_list_items, "is listed twice" },
	{ "an allowed host repeated", gen_repeated_allowed_hosts, "is allowed twice" },
	{ "many names to look up", gen_many_names, NULL },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check_big_case(const struct big_case *c, size_t *failed)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	bool found = !c->want;
	double t0, dt;
	int r;

	assert_non_null(f);
	c->gen(f);
	fclose(f);
	big_running = c->name;
	alarm(30);
	t0 = now_s();
	r = inventory_load_string("big.yaml", text, len, &d, &inv);
	dt = now_s() - t0;
	alarm(0);
	for (size_t k = 0; c->want && k < d.n; k++)
		found |= d.v[k].level == DIAG_ERROR && strstr(d.v[k].msg, c->want);
	if (dt > 2.0 || d.n > MAX_SHOWN || !found || r != (c->want ? -EINVAL : 0)) {
		print_error("%s (%zu bytes): r=%d in %.2f s, %zu diagnostics kept of %zu errors%s%s\n", c->name, len, r,
			    dt, d.n, d.n_errors, found ? "" : "; none says ", found ? "" : c->want);
		for (size_t k = 0; k < d.n && k < 3; k++)
			print_error("  %u:%u: %s\n", d.v[k].line, d.v[k].column, d.v[k].msg);
		(*failed)++;
	}
	inventory_free(inv);
	diags_clear(&d);
}

static void inventory_test_large_inputs_check_in_linear_time(void **state _unused_)
{
	size_t failed = 0;

	signal(SIGALRM, big_too_long);
	for (size_t i = 0; i < ARRAY_SIZE(big_cases); i++)
		check_big_case(&big_cases[i], &failed);
	signal(SIGALRM, SIG_DFL);
	if (failed)
		fail_msg("%zu of %zu large inputs were not checked in time with a bounded report", failed,
			 ARRAY_SIZE(big_cases));
}

static void inventory_test_many_errors_end_with_a_count(void **state _unused_)
{
	_cleanup_free_ char *text = NULL, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	fputs(H1, f);
	for (int i = 0; i < 1000; i++)
		fprintf(f, "    k%d: v\n", i);
	fclose(f);
	assert_int_equal(inventory_load_string("inv.yaml", text, len, &d, &inv), -EINVAL);
	assert_int_equal(d.n_errors, 1000);
	assert_true(d.n >= 20 && d.n <= MAX_SHOWN);
	/* The first ones, in the order of the file; then how many more. */
	assert_int_equal(d.v[0].line, 3);
	assert_non_null(strstr(d.v[0].msg, "unknown key 'k0'"));
	out = diags_text(&d);
	assert_non_null(strstr(out, "inv.yaml:3:5: error: unknown key 'k0' in a host"));
	{
		char want[64];

		snprintf(want, sizeof(want), "(%zu more errors not shown)\n", 1000 - d.n);
		assert_non_null(strstr(out, want));
		assert_string_equal(out + strlen(out) - strlen(want), want);
	}
	diags_clear(&d);
}

/* Nesting past 64 levels is refused where the 65th level opens. */
static void inventory_test_deep_nesting_is_refused_at_its_place(void **state _unused_)
{
	static const struct {
		const char *open, *close;
		size_t open_len;
	} shapes[] = { { "[", "]", 1 }, { "{a: ", "}", 4 }, { "[{a: ", "}]", 5 } };

	for (size_t s = 0; s < ARRAY_SIZE(shapes); s++) {
		_cleanup_free_ char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		struct diags d = { 0 };
		struct inventory *inv = NULL;
		/* The root mapping and defaults' are 2 levels: the 63rd flow level is the 65th. */
		unsigned col = s == 2 ? 12 + 31 * 5 : 12 + 62 * (unsigned)shapes[s].open_len;

		fputs("defaults:\n  backoff: ", f);
		for (int i = 0; i < 100; i++)
			fputs(shapes[s].open, f);
		for (int i = 0; i < 100; i++)
			fputs(shapes[s].close, f);
		fputc('\n', f);
		fclose(f);
		assert_int_equal(inventory_load_string("inv.yaml", text, len, &d, &inv), -EINVAL);
		assert_int_equal(d.n_errors, 1);
		assert_int_equal(d.v[0].line, 2);
		assert_int_equal(d.v[0].column, col);
		assert_non_null(strstr(d.v[0].msg, "nested deeper than 64 levels"));
		diags_clear(&d);
	}
}

/* A FIFO as a key file: refused at once, never waited on. */
static void interrupted(int sig _unused_)
{
}

static void inventory_test_key_file_that_is_no_regular_file_is_refused(void **state _unused_)
{
	char dir[] = "/tmp/nvmfd-test-XXXXXX", fifo[64], sub[64], link[64], key[64], yaml[1024];
	struct sigaction sa = { .sa_handler = interrupted }, old;
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(fifo, sizeof(fifo), "%s/fifo.key", dir);
	snprintf(sub, sizeof(sub), "%s/dir.key", dir);
	snprintf(link, sizeof(link), "%s/link.key", dir);
	snprintf(key, sizeof(key), "%s/host.key", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	f = fopen(key, "we");
	assert_non_null(f);
	fputs("DHHC-1:00:placeholder:\n", f);
	fclose(f);
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(symlink(key, link), 0);
	snprintf(yaml, sizeof(yaml),
		 "hosts:\n  - name: h1\n    connect:\n"
		 "      - {transport: tcp, traddr: 192.0.2.1, dhchap_key: %s}\n"
		 "      - {transport: tcp, traddr: 192.0.2.2, dhchap_key: %s}\n"
		 "      - {transport: tcp, traddr: 192.0.2.3, dhchap_key: %s}\n", fifo, sub, link);
	assert_int_equal(inventory_load_string("inv.yaml", yaml, strlen(yaml), &d, &inv), 0);

	/* Without O_NONBLOCK the open waits for a writer: the alarm would end it with EINTR. */
	sigaction(SIGALRM, &sa, &old);
	alarm(2);
	assert_int_equal(inventory_check_host_keys(inv, &inv->hosts[0], &d), -EINVAL);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	assert_int_equal(d.n_errors, 3);
	assert_int_equal(d.v[0].line, 4);
	assert_int_equal(d.v[0].column, 57);
	assert_non_null(strstr(d.v[0].msg, "is a FIFO, not a regular file"));
	assert_non_null(strstr(d.v[1].msg, "is a directory, not a regular file"));
	assert_non_null(strstr(d.v[2].msg, "is a symbolic link"));
	unlink(fifo);
	rmdir(sub);
	unlink(link);
	unlink(key);
	rmdir(dir);
	inventory_free(inv);
	diags_clear(&d);
}

/* A directory as the inventory: its errno, with no invented place. */
static void inventory_test_directory_is_no_inventory(void **state _unused_)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	_cleanup_free_ char *t = NULL;

	assert_int_equal(inventory_load("/tmp", &d, &inv), -EISDIR);
	assert_null(inv);
	t = diags_text(&d);
	assert_string_equal(t, "/tmp: error: cannot read the inventory: Is a directory\n");
	diags_clear(&d);
}

/* A byte the YAML reader refuses is reported at its own line and column. */
static void inventory_test_bad_bytes_are_reported_where_they_are(void **state _unused_)
{
	static const struct {
		const char *text;
		size_t len;
		unsigned line, column;
		const char *msg;
	} cases[] = {
#define C(s) s, sizeof(s) - 1
		{ C("hosts:\n  - name: h\0x\n"), 2, 12, "control characters are not allowed" },
		{ C("\0"), 1, 1, "control characters are not allowed" },
		{ C("hosts:\n  - name: h1\n    hostnqn: nqn.2020-01.com.example:\xff\n"), 3, 38, "invalid leading UTF-8 octet" },
		{ C("hosts:\n  - name: h1\n    hostnqn: nqn.2020-01.com.example:\xc3\x28\n"), 3, 39, "invalid trailing UTF-8 octet" },
		{ C("hosts:\n  - name: h1\n    hostnqn: nqn.2020-01.com.example:\xc3\xa9\xc3\n"), 3, 40, "UTF-8" },
		{ C("hosts:\n  - name: h1\n    hostnqn: nqn.2020-01.com.example:\xc3"), 3, 38, "incomplete UTF-8 octet sequence" },
		{ C("a: 1\r\nb: 2\r\nc: \x7f\n"), 3, 4, "control characters are not allowed" },
		{ C("a: '\xc3\xa9\xc3\xa9'\nb: '\xe2\x82\xac\x01'\n"), 2, 6, "control characters are not allowed" },
		{ C("\xef\xbb\xbf" "a: 1\nb: \x01\n"), 2, 4, "control characters are not allowed" },
#undef C
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diags d = { 0 };
		struct inventory *inv = NULL;

		assert_int_equal(inventory_load_string("inv.yaml", cases[i].text, cases[i].len, &d, &inv), -EINVAL);
		if (d.n != 1 || d.v[0].line != cases[i].line || d.v[0].column != cases[i].column ||
		    !strstr(d.v[0].msg, cases[i].msg)) {
			_cleanup_free_ char *t = diags_text(&d);
			fail_msg("case %zu: want %u:%u \"%s\", got:\n%s", i, cases[i].line, cases[i].column, cases[i].msg, t);
		}
		diags_clear(&d);
	}
}

/* Each duplicate is reported once, against the first, however often it repeats. */
static void inventory_test_duplicates_are_reported_once_each(void **state _unused_)
{
	static const struct {
		const char *yaml;
		size_t errors;
		const char *msg;
	} cases[] = {
		{ T1 S1 "        namespaces:\n          - {nsid: 1, device_path: /dev/a}\n          - {nsid: 1, device_path: /dev/b}\n"
		  "          - {nsid: 1, device_path: /dev/c}\n", 2, "nsid 1 is used twice in nqn.2020-01.com.example:s1 (first at line 7)" },
		{ T1 "    subsystems:\n"
		  "      - {nqn: nqn.2020-01.com.example:s1, allowed_hosts: [{host: nqn.2020-01.com.example:h, dhchap_key: /k1}]}\n"
		  "      - {nqn: nqn.2020-01.com.example:s2, allowed_hosts: [{host: nqn.2020-01.com.example:h, dhchap_key: /k1}]}\n"
		  "      - {nqn: nqn.2020-01.com.example:s3, allowed_hosts: [{host: nqn.2020-01.com.example:h, dhchap_key: /k2}]}\n",
		  1, "host nqn.2020-01.com.example:h has other DH-HMAC-CHAP settings than at line 4" },
		{ T1 S1 "    ports:\n      - {id: 1, transport: tcp, traddr: 192.0.2.1}\n      - {id: 2, transport: tcp, traddr: 192.0.2.1, trsvcid: 4421}\n"
		  H1 "    connect:\n      - target: t1\n      - target: t1\n      - target: t1\n", 2, "host h1 connects to tcp 192.0.2.1:4420 twice (first at line 12)" },
		{ "hosts:\n  - name: h1\n  - name: h1\n  - name: h1\n", 2, "host h1 is given twice (first at line 2)" },
		{ T1 "  - name: t1\n  - name: t1\n", 2, "target t1 is given twice (first at line 2)" },
		{ H1 "    modules: [a, a, a]\n", 2, "'a' is listed twice in modules" },
		{ T1 "    ports:\n      - {id: 1, transport: tcp, traddr: 192.0.2.1}\n      - {id: 1, transport: tcp, traddr: 192.0.2.2}\n"
		  "      - {id: 1, transport: tcp, traddr: 192.0.2.3}\n", 2, "port id 1 is used twice in target t1 (first at line 4)" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct diags d = { 0 };
		struct inventory *inv = NULL;
		size_t n = 0;

		assert_int_equal(inventory_load_string("inv.yaml", cases[i].yaml, strlen(cases[i].yaml), &d, &inv), -EINVAL);
		for (size_t k = 0; k < d.n; k++)
			n += d.v[k].level == DIAG_ERROR;
		if (n != cases[i].errors || d.n_errors != cases[i].errors || !strstr(d.v[0].msg, cases[i].msg)) {
			_cleanup_free_ char *t = diags_text(&d);
			fail_msg("case %zu: want %zu errors, the first \"%s\", got:\n%s", i, cases[i].errors, cases[i].msg, t);
		}
		diags_clear(&d);
	}
}

/* Bytes a YAML reader refuses or reads as a line break, raw in a printed value. */
static bool has_raw_unsafe(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == 0x7f || (*c < 0x20 && *c != '\n'))
			return true;
		if (c[0] == 0xc2 && c[1] >= 0x80 && c[1] <= 0x9f)
			return true;
		if (c[0] == 0xe2 && c[1] == 0x80 && (c[2] == 0xa8 || c[2] == 0xa9))
			return true;
		if (c[0] == 0xef && c[1] == 0xbb && c[2] == 0xbf)
			return true;
	}
	return false;
}

/* What is printed loads again to the same entry, whatever its strings hold. */
static void inventory_test_tricky_strings_print_and_load_again(void **state _unused_)
{
	/* Each as a YAML double-quoted text, and the bytes it stands for. */
	static const struct {
		const char *yaml, *bytes;
	} tricky[] = {
		{ "a\\x7fb", "a\x7f" "b" },
		{ "c1\\x80\\x9f", "c1\xc2\x80\xc2\x9f" },
		{ "nel\\N", "nel\xc2\x85" },
		{ "ls\\L", "ls\xe2\x80\xa8" },
		{ "ps\\Pend", "ps\xe2\x80\xa9" "end" },
		{ "bom\\ufeff", "bom\xef\xbb\xbf" },
		{ "tab\\tnl\\ncr\\r", "tab\tnl\ncr\r" },
		{ "esc\\e[31m", "esc\x1b[31m" },
		{ "q\\\"b\\\\s", "q\"b\\s" },
		{ "x #y", "x #y" },
		{ "x: y", "x: y" },
		{ "trailing ", "trailing " },
		{ "\\u00e9t\\u00e9 \\U0001F600", "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80" },
		{ "nbsp\\_", "nbsp\xc2\xa0" },
		{ "'single'", "'single'" },
	};
	char yaml[4096];

	for (size_t i = 0; i < ARRAY_SIZE(tricky); i++) {
		struct inventory *inv, *again = NULL;
		_cleanup_free_ char *out = NULL, *path = NULL, *nqn = NULL, *key = NULL;
		struct diags d = { 0 };
		bool nqn_ok = true; /* an NQN holds no ASCII control character */

		for (const char *c = tricky[i].bytes; *c; c++)
			nqn_ok = nqn_ok && (unsigned char)*c >= 0x20 && *c != 0x7f;

		snprintf(yaml, sizeof(yaml),
			 T1 "    subsystems:\n      - nqn: \"nqn.2020-01.com.example:%s\"\n        allow_any_host: true\n"
			 "        namespaces:\n          - {nsid: 1, device_path: \"/dev/%s\"}\n"
			 P1 "        referrals:\n          - {transport: tcp, traddr: 192.0.2.7, name: \"r%s\"}\n"
			 H1 "    connect:\n      - {transport: tcp, traddr: 192.0.2.1, dhchap_key: \"/k/%s\"}\n",
			 nqn_ok ? tricky[i].yaml : "plain", tricky[i].yaml, tricky[i].yaml, tricky[i].yaml);
		inv = load_ok_string(yaml);
		assert_true(asprintf(&nqn, "nqn.2020-01.com.example:%s", nqn_ok ? tricky[i].bytes : "plain") > 0);
		assert_true(asprintf(&path, "/dev/%s", tricky[i].bytes) > 0);
		assert_true(asprintf(&key, "/k/%s", tricky[i].bytes) > 0);
		assert_string_equal(inv->targets[0].subsystems[0].nqn, nqn);
		assert_string_equal(inv->targets[0].subsystems[0].namespaces[0].device_path, path);
		out = print_all(inv);
		if (has_raw_unsafe(out))
			fail_msg("case %zu: printed raw:\n%s", i, out);
		if (inventory_load_string("printed", out, strlen(out), &d, &again) < 0) {
			_cleanup_free_ char *t = diags_text(&d);
			fail_msg("case %zu: the printed inventory does not load:\n%s\n%s", i, t, out);
		}
		assert_string_equal(again->targets[0].subsystems[0].nqn, nqn);
		assert_string_equal(again->targets[0].subsystems[0].namespaces[0].device_path, path);
		assert_string_equal(again->targets[0].ports[0].subsystems[0], nqn);
		assert_string_equal(again->targets[0].ports[0].referrals[0].name + 1, tricky[i].bytes);
		assert_string_equal(again->hosts[0].endpoints[0].dhchap_key, key);
		diags_clear(&d);
		inventory_free(again);
		inventory_free(inv);
	}
}

/* The file's name goes into a comment of the printed text, and stays there. */
static void inventory_test_file_name_stays_in_its_comment(void **state _unused_)
{
	static const char *const names[] = { "a\nhosts: 1", "b\xe2\x80\xa8hosts: 1", "c\rhosts: 1", "d\xc2\x85hosts: 1" };
	static const char yaml[] = H1 "    hostnqn: nqn.2020-01.com.example:h\n";

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct diags d = { 0 };
		struct inventory *inv = NULL, *again = NULL;
		_cleanup_free_ char *all = NULL, *host = NULL;
		size_t len = 0;
		FILE *f;

		assert_int_equal(inventory_load_string(names[i], yaml, strlen(yaml), &d, &inv), 0);
		all = print_all(inv);
		f = open_memstream(&host, &len);
		inventory_print_host(f, inv, &inv->hosts[0]);
		fclose(f);
		assert_false(has_raw_unsafe(all));
		assert_int_equal(inventory_load_string("printed", all, strlen(all), &d, &again), 0);
		inventory_free(again);
		assert_int_equal(inventory_load_string("printed", host, strlen(host), &d, &again), 0);
		inventory_free(again);
		inventory_free(inv);
		diags_clear(&d);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(inventory_test_example_normalises_to_golden),
		cmocka_unit_test(inventory_test_full_normalises_to_golden),
		cmocka_unit_test(inventory_test_normalised_output_loads_to_the_same),
		cmocka_unit_test(inventory_test_rejects_each_bad_input_at_its_place),
		cmocka_unit_test(inventory_test_reports_every_error_in_a_file),
		cmocka_unit_test(inventory_test_allow_any_host_warns),
		cmocka_unit_test(inventory_test_defaults_apply_in_layers),
		cmocka_unit_test(inventory_test_pick_names_the_choices),
		cmocka_unit_test(inventory_test_key_files_must_be_private),
		cmocka_unit_test(inventory_test_unreadable_file_names_errno),
		cmocka_unit_test(inventory_test_large_inputs_check_in_linear_time),
		cmocka_unit_test(inventory_test_many_errors_end_with_a_count),
		cmocka_unit_test(inventory_test_deep_nesting_is_refused_at_its_place),
		cmocka_unit_test(inventory_test_key_file_that_is_no_regular_file_is_refused),
		cmocka_unit_test(inventory_test_directory_is_no_inventory),
		cmocka_unit_test(inventory_test_bad_bytes_are_reported_where_they_are),
		cmocka_unit_test(inventory_test_duplicates_are_reported_once_each),
		cmocka_unit_test(inventory_test_tricky_strings_print_and_load_again),
		cmocka_unit_test(inventory_test_file_name_stays_in_its_comment),
	};
	return cmocka_run_group_tests_name("inventory", tests, NULL, NULL);
}
