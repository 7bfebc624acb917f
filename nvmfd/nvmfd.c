/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nvmfd: the NVMe over Fabrics connection manager of an initiator.
 *
 *   nvmfd [-c FILE] [--host NAME] [--foreground] [--check-config] [-v]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "hostid.h"
#include "inventory.h"
#include "macro.h"

#define DEFAULT_CONFIG SYSCONFDIR "/nvmfd/nvmfd.yaml"

struct args {
	const char *config;
	const char *host;
	bool foreground;
	bool check_config;
	int verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmfd [-c FILE] [--host NAME] [--foreground] [--check-config] [-v]\n"
		"\n"
		"Connect this host's NVMe over Fabrics paths from the inventory and keep them up.\n"
		"\n"
		"  -c, --config FILE   the inventory (default %s; - reads standard input)\n"
		"      --host NAME     the host entry (default: named like this machine)\n"
		"  -f, --foreground    stay in the foreground, log to stderr\n"
		"  -n, --check-config  validate the inventory, print the normalised host entry, exit\n"
		"  -v, --verbose       debug messages\n"
		"  -h, --help\n",
		DEFAULT_CONFIG);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },  { "host", required_argument, NULL, 'H' },
		{ "foreground", no_argument, NULL, 'f' },    { "check-config", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
		{},
	};
	int c;

	*a = (struct args){ .config = DEFAULT_CONFIG };
	while ((c = getopt_long(argc, argv, "c:fnvh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 'H':
			a->host = optarg;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'n':
			a->check_config = true;
			break;
		case 'v':
			a->verbose++;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "nvmfd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

/* --check-config: what nvmfd would use, or every reason it cannot. */
static int check_config(const struct args *a)
{
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	const struct inv_host *h = NULL;
	struct host_identity id;
	int r = inventory_load(a->config, &d, &inv);

	if (r == 0)
		r = inventory_pick_host(inv, a->host, &d, &h);
	if (r == 0) {
		int k = host_identity_resolve(inv, h, NULL, &d, &id);

		inventory_check_host_keys(inv, h, &d);
		inventory_print_host(stdout, inv, h);
		if (k == 0)
			printf("# identity: hostnqn %s (from %s), hostid %s (from %s)\n", id.hostnqn, id.hostnqn_from,
			       id.hostid[0] ? id.hostid : "chosen by the kernel", id.hostid_from ? id.hostid_from : "-");
		if (d.n_errors)
			r = -EINVAL;
	}
	diags_print(&d, stderr);
	diags_clear(&d);
	inventory_free(inv);
	return r;
}

int main(int argc, char **argv)
{
	struct args a;

	if (parse_args(argc, argv, &a) < 0)
		return 2;
	if (a.check_config)
		return check_config(&a) < 0 ? 1 : 0;
	fprintf(stderr, "nvmfd: the connection manager is not part of this build yet; only --check-config is\n");
	return 1;
}
