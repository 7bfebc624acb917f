/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cmocka-prelude.h"

#include <stdio.h>
#include <stdlib.h>

#include "doctor/doctor.h"
#include "base/macro.h"

/* A report as doctor_run() would give for a path whose rxe device is gone. */
static void broken(struct doctor_report *r, struct doctor_path *p)
{
	*p = (struct doctor_path){ .title = "rdma 192.0.2.1:4420 (target storage1, port 1)" };
	snprintf(p->daemon, sizeof(p->daemon), "discovery waiting; nqn.2020-09.com.example:nvme-test-1 waiting");
	doctor_add(p, DOCTOR_MODULES, DOCTOR_PASS, "nvme_fabrics, nvme_rdma, qedr", NULL);
	doctor_add(p, DOCTOR_FABRICS_DEV, DOCTOR_PASS, "present", NULL);
	doctor_add(p, DOCTOR_RDMA_DEVICE, DOCTOR_FAIL, "no RDMA device is bound to nvmft0 (the interface of 192.0.2.1)",
		   "load the RNIC's driver (modprobe qedr for FastLinQ)");
	doctor_add(p, DOCTOR_PORT_ACTIVE, DOCTOR_SKIP, "no device", NULL);
	doctor_add(p, DOCTOR_IDENTITY, DOCTOR_WARN, "/etc/nvme/hostid is missing", "write it");
	*r = (struct doctor_report){ .paths = p, .n = 1, .daemon = true };
}

static char *render(const struct doctor_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	doctor_print(f, r);
	fclose(f);
	return buf;
}

static void doctor_test_plain_report_marks_findings_and_fixes(void **state _unused_)
{
	struct doctor_path p;
	struct doctor_report r;
	_cleanup_free_ char *out = NULL;

	broken(&r, &p);
	out = render(&r);
	assert_string_equal(out,
			    "rdma 192.0.2.1:4420 (target storage1, port 1)\n"
			    "  nvmfd: discovery waiting; nqn.2020-09.com.example:nvme-test-1 waiting\n"
			    "  [  ok] modules loaded: nvme_fabrics, nvme_rdma, qedr\n"
			    "  [  ok] /dev/nvme-fabrics: present\n"
			    "  [FAIL] RDMA device: no RDMA device is bound to nvmft0 (the interface of 192.0.2.1)\n"
			    "         fix: load the RNIC's driver (modprobe qedr for FastLinQ)\n"
			    "  [skip] RDMA port active: no device\n"
			    "  [warn] hostnqn and hostid: /etc/nvme/hostid is missing\n"
			    "         fix: write it\n"
			    "\n"
			    "some checks failed\n");
	assert_true(doctor_failed(&r));
}

static void doctor_test_warnings_alone_do_not_fail(void **state _unused_)
{
	struct doctor_path p;
	struct doctor_report r;
	_cleanup_free_ char *out = NULL;

	broken(&r, &p);
	p.items[2].mark = DOCTOR_PASS;
	p.items[2].fix[0] = '\0';
	r.daemon = false;
	assert_false(doctor_failed(&r));
	out = render(&r);
	assert_non_null(strstr(out, "(nvmfd is not running: checked without its state)\n"));
	assert_non_null(strstr(out, "\nevery check passed\n"));
}

static void doctor_test_json_names_the_first_failure(void **state _unused_)
{
	struct doctor_path p;
	struct doctor_report r;
	struct json_object *o, *path, *checks, *c;

	broken(&r, &p);
	o = doctor_json(&r);
	assert_false(json_object_get_boolean(json_object_object_get(o, "ok")));
	assert_true(json_object_get_boolean(json_object_object_get(o, "daemon")));
	path = json_object_array_get_idx(json_object_object_get(o, "paths"), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(path, "first_failure")), "rdma_device");
	checks = json_object_object_get(path, "checks");
	assert_int_equal(json_object_array_length(checks), 5);
	c = json_object_array_get_idx(checks, 2);
	assert_string_equal(json_object_get_string(json_object_object_get(c, "mark")), "fail");
	assert_string_equal(json_object_get_string(json_object_object_get(c, "name")), "RDMA device");
	assert_string_equal(json_object_get_string(json_object_object_get(c, "fix")), "load the RNIC's driver (modprobe qedr for FastLinQ)");
	c = json_object_array_get_idx(checks, 0);
	assert_null(json_object_object_get(c, "fix"));
	json_object_put(o);
}

static void doctor_test_every_check_and_mark_has_a_name(void **state _unused_)
{
	for (int c = 0; c < _DOCTOR_CHECK_MAX; c++) {
		assert_string_not_equal(doctor_check_to_string((enum doctor_check)c), "?");
		assert_string_not_equal(doctor_check_key((enum doctor_check)c), "?");
	}
	for (int m = 0; m < _DOCTOR_MARK_MAX; m++)
		assert_string_not_equal(doctor_mark_to_string((enum doctor_mark)m), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(doctor_test_plain_report_marks_findings_and_fixes),
		cmocka_unit_test(doctor_test_warnings_alone_do_not_fail),
		cmocka_unit_test(doctor_test_json_names_the_first_failure),
		cmocka_unit_test(doctor_test_every_check_and_mark_has_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
