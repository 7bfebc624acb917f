/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nvmetcfg: the target half. Turns a target entry of the inventory into the
 * kernel's nvmet configfs tree by difference, so connected hosts of untouched
 * subsystems keep their connections.
 *
 *   nvmetcfg [-c FILE] [--target NAME] [--root DIR] [--no-modules] [--wait SECONDS]
 *            plan|apply|show|clear|check|repair
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/diag.h"
#include "inventory/inventory.h"
#include "base/macro.h"
#include "kernel/modules.h"
#include "target/identity.h"
#include "target/nvmet.h"
#include "kernel/rdmacm.h"

#define DEFAULT_CONFIG SYSCONFDIR "/nvmfd/nvmfd.yaml"
#define DEFAULT_ROOT "/sys/kernel/config"

struct args {
	const char *config;
	const char *target;
	const char *root;
	bool load_modules;
	unsigned wait_s;
	const char *command;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmetcfg [-c FILE] [--target NAME] [--root DIR] [--no-modules] [--wait SECONDS] COMMAND\n"
		"\n"
		"Configure the kernel's NVMe-oF target (nvmet) from the inventory, by difference.\n"
		"\n"
		"commands:\n"
		"  check   validate the inventory and print the normalised target entry\n"
		"  plan    print what apply would change (+ create, ~ change, - remove)\n"
		"  apply   load the modules and converge configfs to the entry\n"
		"  show    print the live nvmet tree as a target entry of the inventory\n"
		"  clear   remove everything under nvmet, in reverse order\n"
		"  repair  enable again each RDMA port nothing listens on (its RDMA device was\n"
		"          removed and came back); needs no inventory\n"
		"\n"
		"options:\n"
		"  -c, --config FILE   the inventory (default %s; - reads standard input)\n"
		"  -t, --target NAME   the target entry (default: named like this machine, or the only one)\n"
		"  -r, --root DIR      the configfs mount (default %s)\n"
		"      --no-modules    apply without loading kernel modules\n"
		"      --wait SECONDS  repair: wait up to SECONDS for a port's RDMA device and address\n"
		"  -h, --help\n",
		DEFAULT_CONFIG, DEFAULT_ROOT);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "target", required_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },   { "no-modules", no_argument, NULL, 'M' },
		{ "wait", required_argument, NULL, 'w' },   { "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	*a = (struct args){ .config = DEFAULT_CONFIG, .root = DEFAULT_ROOT, .load_modules = true };
	while ((c = getopt_long(argc, argv, "c:t:r:h", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 't':
			a->target = optarg;
			break;
		case 'r':
			a->root = optarg;
			break;
		case 'M':
			a->load_modules = false;
			break;
		case 'w': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || v > 3600) {
				fprintf(stderr, "nvmetcfg: --wait takes whole seconds up to 3600, not '%s'\n", optarg);
				return -EINVAL;
			}
			a->wait_s = (unsigned)v;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return -EINVAL;
	}
	a->command = argv[optind];
	return 0;
}

/* Load the inventory and pick the target; diagnostics are printed here. */
static int load_target(const struct args *a, struct inventory **ret_inv, const struct inv_target **ret_t)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	int r = inventory_load(a->config, &d, &inv);

	if (r == 0)
		r = inventory_pick_target(inv, a->target, &d, ret_t);
	diags_print(&d, stderr);
	diags_clear(&d);
	if (r < 0) {
		inventory_free(inv);
		return r;
	}
	*ret_inv = inv;
	return 0;
}

static int load_modules(const struct inventory *inv, const struct inv_target *t)
{
	const char *names[64], *options[64];
	char nullblk_opts[64];
	size_t n = 0;
	struct diags d = { 0 };
	int r;

	names[n] = "nvmet", options[n++] = NULL;
	for (size_t i = 0; i < t->n_ports && n < 60; i++) {
		const char *m = t->ports[i].transport == TRANSPORT_RDMA ? "nvmet-rdma" : "nvmet-tcp";
		bool have = false;

		for (size_t j = 0; j < n; j++)
			have = have || streq(names[j], m);
		if (!have)
			names[n] = m, options[n++] = NULL;
	}
	for (size_t i = 0; i < t->n_modules && n < 63; i++)
		names[n] = t->modules[i], options[n++] = NULL;
	if (t->null_blk.set) {
		snprintf(nullblk_opts, sizeof(nullblk_opts), "nr_devices=%u gb=%u", t->null_blk.nr_devices, t->null_blk.gb);
		names[n] = "null_blk", options[n++] = nullblk_opts;
	}
	r = modules_load(names, options, n, inv->path, &d);
	diags_print(&d, stderr);
	diags_clear(&d);
	return r;
}

/* The live tree; a missing nvmet/ is an empty tree when EMPTY_OK. */
static int read_live(const struct args *a, bool empty_ok, struct nvmet_tree *ret)
{
	struct diags d = { 0 };
	int r = nvmet_tree_read(a->root, &d, ret);

	diags_print(&d, stderr);
	diags_clear(&d);
	if (r == -ENOENT && empty_ok) {
		*ret = (struct nvmet_tree){ .arena = arena_new() };
		return ret->arena ? 0 : -ENOMEM;
	}
	if (r == -ENOENT)
		fprintf(stderr, "nvmetcfg: %s/nvmet does not exist: is configfs mounted there and nvmet loaded?\n",
			a->root);
	else if (r < 0)
		fprintf(stderr, "nvmetcfg: cannot read %s/nvmet: %s\n", a->root, strerror(-r));
	return r;
}

/* What nvmetcfg sets where entry T gives no identity (target/identity.h), as
 * comments: the printed entry still loads. */
static void print_derived(const struct inv_target *t)
{
	bool said = false;

	for (size_t s = 0; s < t->n_subsystems; s++) {
		const struct inv_subsystem *sub = &t->subsystems[s];
		char serial[NVMET_SERIAL_LEN], uuid[NVMET_ID_LEN], nguid[NVMET_ID_LEN];

		/* the subsystem (N 0) first, then its namespaces */
		for (size_t n = 0; n <= sub->n_namespaces; n++) {
			const struct inv_namespace *ns = n ? &sub->namespaces[n - 1] : NULL;

			if (ns ? ns->uuid && ns->nguid : sub->serial != NULL)
				continue;
			if (!said)
				printf("# identities derived where the entry gives none (the same on every machine and boot):\n");
			said = true;
			if (!ns && nvmet_derive_serial(sub->nqn, serial) == 0)
				printf("#   %s: serial %s\n", sub->nqn, serial);
			else if (ns && nvmet_derive_ns_ids(sub->nqn, ns->nsid, uuid, nguid) == 0)
				printf("#   %s namespace %u: uuid %s, nguid %s\n", sub->nqn, ns->nsid,
				       ns->uuid ? ns->uuid : uuid, ns->nguid ? ns->nguid : nguid);
		}
	}
}

static int cmd_check(const struct args *a)
{
	struct inventory *inv = NULL;
	const struct inv_target *t;
	struct diags d = { 0 };
	int r = load_target(a, &inv, &t);

	if (r < 0)
		return r;
	inventory_print_target(stdout, t);
	print_derived(t);
	r = inventory_check_target_keys(inv, t, &d);
	diags_print(&d, stderr);
	diags_clear(&d);
	inventory_free(inv);
	return r;
}

/* librdmacm's device node: without rdma_ucm no port can be checked. */
#define RDMA_CM_DEV "/dev/infiniband/rdma_cm"

/* Say what the check found of each port (QUIET: not those that listen). */
static int relisten_report(const struct nvmet_port_check *checks, size_t n, bool quiet)
{
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		const struct nvmet_port_check *c = &checks[i];

		if (c->held > 0 && !quiet)
			printf("%s (rdma %s:%s): listening\n", c->port, c->traddr, c->trsvcid);
		else if (c->held == 0)
			printf("%s (rdma %s:%s): nothing listens (its RDMA device went away and came back): enabling it again\n",
			       c->port, c->traddr, c->trsvcid);
		else if (c->held < 0) {
			bool no_dev = c->held == -ENODEV || c->held == -EADDRNOTAVAIL;

			fprintf(stderr, "nvmetcfg: %s (rdma %s:%s): cannot listen: %s (%s)%s\n", c->port, c->traddr,
				c->trsvcid, strerror(-c->held), strerrorname_np(-c->held) ?: "?",
				no_dev ? ": no RDMA device has this address: is the RNIC's driver loaded, and the address on its interface?"
				       : "");
			r = -ENODEV;
		}
	}
	return r;
}

/* Whether this process shares PID 1's network namespace (true when that
 * cannot be read: the check is a guard, not a requirement). */
static bool same_netns_as_init(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self) < 0 || stat("/proc/1/ns/net", &init) < 0)
		return true;
	return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
}

/*
 * RET: what enables anew the enabled RDMA ports of LIVE that nothing listens
 * on (but those SKIP changes anyway). WAIT_S: how long to wait for a port's RDMA device and address (a
 * device's add event comes before its GIDs are filled in). Each port's
 * finding is printed; returns 0, -ENODEV when a port could not be checked,
 * -ENOMEM.
 */
static int relisten_plan(const struct args *a, const struct nvmet_tree *live, const struct nvmet_plan *skip,
			 unsigned wait_s, bool quiet, bool may_load, struct nvmet_plan *ret)
{
	struct timespec start, now;

	*ret = (struct nvmet_plan){ 0 };
	if (!nvmet_tree_has_rdma_port(live))
		return 0;
	if (access(RDMA_CM_DEV, F_OK) < 0 && may_load && a->load_modules) {
		const char *name = "rdma_ucm";
		struct diags d = { 0 };

		modules_load(&name, NULL, 1, "nvmetcfg", &d);
		diags_print(&d, stderr);
		diags_clear(&d);
	}
	if (access(RDMA_CM_DEV, F_OK) < 0) {
		if (!may_load)
			return 0; /* plan: no module loaded, and nothing told */
		fprintf(stderr, "nvmetcfg: cannot tell whether the RDMA ports listen: %s: %s (modprobe rdma_ucm)\n",
			RDMA_CM_DEV, strerror(errno));
		return -ENODEV;
	}
	if (!same_netns_as_init()) {
		/* nvmet listens in the initial namespace: a bind elsewhere would
		 * find every port free, and a repair would disturb healthy ones */
		fprintf(stderr, "nvmetcfg: not in the initial network namespace: cannot tell whether the RDMA ports listen\n");
		return -ENODEV;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		_cleanup_free_ struct nvmet_port_check *checks = NULL;
		bool unknown = false;
		size_t n;
		int r = nvmet_plan_relisten(live, skip, rdmacm_port_held, ret, &checks, &n);

		if (r < 0) {
			nvmet_plan_free(ret);
			return r;
		}
		for (size_t i = 0; i < n; i++)
			unknown |= checks[i].held < 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!unknown || now.tv_sec - start.tv_sec >= (time_t)wait_s)
			return relisten_report(checks, n, quiet);
		nvmet_plan_free(ret);
		usleep(250 * 1000);
	}
}

/* Carry out a repair's PLAN, on past a failure: a port's subsystems, once
 * unlinked, are each linked again whatever befalls another. */
static int apply_repair(const struct args *a, const struct nvmet_plan *plan)
{
	struct diags d = { 0 };
	int r = nvmet_plan_apply(a->root, plan, true, &d);

	diags_print(&d, stderr);
	diags_clear(&d);
	return r;
}

static int cmd_repair(const struct args *a)
{
	struct nvmet_tree live = { 0 };
	struct nvmet_plan plan = { 0 };
	int r = read_live(a, false, &live), k;

	if (r < 0)
		return r;
	if (!nvmet_tree_has_rdma_port(&live))
		printf("no RDMA port under %s/nvmet: nothing to check\n", a->root);
	r = relisten_plan(a, &live, NULL, a->wait_s, false, true, &plan);
	if (r != -ENOMEM && plan.n) {
		nvmet_plan_print(stdout, &plan);
		fflush(stdout);
		if ((k = apply_repair(a, &plan)) < 0) {
			fprintf(stderr, "nvmetcfg: a port's subsystems were not all linked again: link each one listed "
					"above by hand (ln -s), or run nvmetcfg apply\n");
			r = r ?: k;
		}
	}
	nvmet_plan_free(&plan);
	nvmet_tree_free(&live);
	return r;
}

/* plan, apply, clear: the difference between live and the entry (or nothing). */
static int cmd_converge(const struct args *a, bool apply, bool clear)
{
	struct inventory *inv = NULL;
	const struct inv_target *t = NULL;
	struct nvmet_tree want = { 0 }, live = { 0 };
	struct nvmet_plan plan = { 0 }, relisten = { 0 };
	struct diags d = { 0 };
	int r = 0;

	if (!clear) {
		if ((r = load_target(a, &inv, &t)) < 0)
			return r;
		r = nvmet_tree_from_target(inv, t, &d, &want);
		diags_print(&d, stderr);
		diags_clear(&d);
		if (r < 0)
			goto out;
		if (apply && a->load_modules && (r = load_modules(inv, t)) < 0)
			goto out;
	} else if (!(want.arena = arena_new())) {
		return -ENOMEM;
	}
	if ((r = read_live(a, !apply && !clear, &live)) < 0)
		goto out;
	if ((r = nvmet_plan_make(&live, &want, &plan)) < 0)
		goto out;
	/* A port configfs shows as the entry says may still have lost its
	 * listener (nvmet.h): apply enables it anew, before anything else. A
	 * port that cannot be checked is said, and stops nothing. */
	if (!clear && (r = relisten_plan(a, &live, &plan, 0, true, apply, &relisten)) == -ENOMEM)
		goto out;
	nvmet_plan_print(stdout, &relisten);
	nvmet_plan_print(stdout, &plan);
	if (plan.n - plan.n_notes + relisten.n == 0)
		printf("nothing to do: %s/nvmet is as the entry says%s\n", a->root,
		       plan.n_notes ? " (but for the identities noted, which stay as hosts know them)" : "");
	r = 0;
	if (apply && relisten.n) {
		fflush(stdout);
		if ((r = apply_repair(a, &relisten)) < 0) {
			fprintf(stderr, "nvmetcfg: stopped; fix the cause and run %s again to converge\n", a->command);
			goto out;
		}
	}
	if (apply || clear) {
		fflush(stdout);
		r = nvmet_plan_apply(a->root, &plan, false, &d);
		diags_print(&d, stderr);
		diags_clear(&d);
		if (r < 0)
			fprintf(stderr, "nvmetcfg: stopped; fix the cause and run %s again to converge\n", a->command);
	}
out:
	nvmet_plan_free(&relisten);
	nvmet_plan_free(&plan);
	nvmet_tree_free(&live);
	nvmet_tree_free(&want);
	inventory_free(inv);
	return r;
}

static int cmd_show(const struct args *a)
{
	struct nvmet_tree live = { 0 };
	struct inv_target t;
	struct arena *arena;
	int r = read_live(a, false, &live);

	if (r < 0)
		return r;
	arena = arena_new();
	r = arena ? nvmet_tree_to_target(&live, a->target ? a->target : "live", arena, &t) : -ENOMEM;
	if (r == 0) {
		printf("# the live nvmet tree under %s\n", a->root);
		inventory_print_target(stdout, &t);
	}
	arena_free(arena);
	nvmet_tree_free(&live);
	return r;
}

int main(int argc, char **argv)
{
	struct args a;
	int r;

	if (parse_args(argc, argv, &a) < 0)
		return 2;
	if (streq(a.command, "check"))
		r = cmd_check(&a);
	else if (streq(a.command, "plan"))
		r = cmd_converge(&a, false, false);
	else if (streq(a.command, "apply"))
		r = cmd_converge(&a, true, false);
	else if (streq(a.command, "clear"))
		r = cmd_converge(&a, false, true);
	else if (streq(a.command, "show"))
		r = cmd_show(&a);
	else if (streq(a.command, "repair"))
		r = cmd_repair(&a);
	else {
		fprintf(stderr, "nvmetcfg: unknown command '%s' (plan, apply, show, clear, check, repair)\n", a.command);
		return 2;
	}
	if (r == -ENOMEM)
		fprintf(stderr, "nvmetcfg: out of memory\n");
	return r < 0 ? 1 : 0;
}
