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

#include <signal.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "daemon/api.h"
#include "daemon/control.h"
#include "base/diag.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"
#include "base/log.h"
#include "base/macro.h"
#include "daemon/manager.h"
#include "kernel/modules.h"
#include "daemon/probe.h"

#define DEFAULT_CONFIG SYSCONFDIR "/nvmfd/nvmfd.yaml"

struct args {
	const char *config;
	const char *host;
	const char *socket;
	const char *sysfs;
	usec_t audit_interval;
	bool foreground;
	bool check_config;
	bool disconnect_on_stop;
	bool no_link_wait;
	bool no_probe;
	int verbose;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmfd [-c FILE] [--host NAME] [--foreground] [--check-config] [-v]\n"
		"\n"
		"Connect this host's NVMe over Fabrics paths from the inventory and keep them up.\n"
		"\n"
		"  -c, --config FILE        the inventory (default %s; - reads standard input)\n"
		"      --host NAME          the host entry (default: named like this machine)\n"
		"  -n, --check-config       validate the inventory, print the normalised host entry, exit\n"
		"  -f, --foreground         log to stderr (also without it, unless systemd runs nvmfd)\n"
		"      --socket PATH        the control socket (default %s)\n"
		"      --audit-interval D   how often controller states are read (default 2s)\n"
		"      --disconnect-on-stop disconnect what nvmfd manages when it stops\n"
		"      --no-link-wait       connect without checking the local link (route, interface, RDMA port)\n"
		"      --no-probe           do not probe a backing-off target's port\n"
		"  -v, --verbose            debug messages\n"
		"  -h, --help\n",
		DEFAULT_CONFIG, CONTROL_DEFAULT_SOCKET);
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },  { "host", required_argument, NULL, 'H' },
		{ "foreground", no_argument, NULL, 'f' },    { "check-config", no_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
		{ "socket", required_argument, NULL, 'S' },  { "sysfs", required_argument, NULL, 'Y' },
		{ "audit-interval", required_argument, NULL, 'A' },
		{ "disconnect-on-stop", no_argument, NULL, 'D' },
		{ "no-link-wait", no_argument, NULL, 'L' },
		{ "no-probe", no_argument, NULL, 'P' },
		{},
	};
	int c;

	*a = (struct args){ .config = DEFAULT_CONFIG, .socket = CONTROL_DEFAULT_SOCKET, .sysfs = "/sys",
			    .audit_interval = 2 * USEC_PER_SEC };
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
		case 'S':
			a->socket = optarg;
			break;
		case 'Y':
			a->sysfs = optarg;
			break;
		case 'A':
			if (duration_parse(optarg, &a->audit_interval) < 0 || a->audit_interval < 100 * USEC_PER_MSEC) {
				fprintf(stderr, "nvmfd: --audit-interval takes a duration of 100ms or more, such as 2s, not '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case 'D':
			a->disconnect_on_stop = true;
			break;
		case 'L':
			a->no_link_wait = true;
			break;
		case 'P':
			a->no_probe = true;
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

/* ---------------------------------------------------------------------- */
/* the daemon */

struct daemon {
	const struct args *a;
	sd_event *loop;
	struct manager *m;
	struct control *ctl;
	bool stopping; /* STOPPING=1 said: no reload, no READY=1 again */
};

/* The inventory and this host's entry and identity, or every reason not:
 * logged, and left in D for whoever asked. */
static int load_host(const struct args *a, struct diags *d, struct inventory **ret_inv, const struct inv_host **ret_h,
		     struct host_identity *ret_id)
{
	struct inventory *inv = NULL;
	int r = inventory_load(a->config, d, &inv);

	if (r == 0)
		r = inventory_pick_host(inv, a->host, d, ret_h);
	if (r == 0)
		r = host_identity_resolve(inv, *ret_h, NULL, d, ret_id);
	if (r == 0)
		r = inventory_check_host_keys(inv, *ret_h, d);
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *x = &d->v[i];

		if (x->line)
			log_full(x->level == DIAG_ERROR ? LOG_ERR : LOG_WARNING, NULL, "%s:%u:%u: %s", x->file, x->line,
				 x->column, x->msg);
		else
			log_full(x->level == DIAG_ERROR ? LOG_ERR : LOG_WARNING, NULL, "%s: %s", x->file, x->msg);
	}
	if (d->n_dropped_errors || d->n_dropped_warnings)
		log_full(LOG_ERR, NULL, "%s: %zu more errors and %zu more warnings not shown", a->config,
			 d->n_dropped_errors, d->n_dropped_warnings);
	if (r < 0) {
		inventory_free(inv);
		return r;
	}
	*ret_inv = inv;
	return 0;
}

/* The host's modules (before the loop runs: the first connects need them). A
 * missing one is named and the rest go on. */
static void load_modules(const struct inventory *inv, const struct inv_host *h)
{
	const char *names[64];
	size_t n = modules_for_host(h, names, ARRAY_SIZE(names));
	struct diags d = { 0 };

	modules_load(names, NULL, n, inv->path, &d);
	for (size_t i = 0; i < d.n; i++)
		log_full(LOG_WARNING, NULL, "%s", d.v[i].msg);
	diags_clear(&d);
}

/* Reload; what is wrong with the inventory goes to D. */
static int reload(struct daemon *dm, struct diags *d)
{
	struct inventory *inv = NULL;
	const struct inv_host *h = NULL;
	struct host_identity id;
	int r;

	if (dm->stopping) {
		diags_add(d, DIAG_ERROR, dm->a->config, 0, 0, "nvmfd is stopping: the inventory is not applied");
		return -ESHUTDOWN;
	}
	sd_notify(false, "RELOADING=1");
	r = load_host(dm->a, d, &inv, &h, &id);
	if (r < 0)
		log_full(LOG_ERR, NULL, "reload: %s is not usable; going on with the inventory loaded before", dm->a->config);
	else
		r = manager_reload(dm->m, inv, h, &id); /* loads new modules off the loop */
	sd_notify(false, "READY=1");
	return r;
}

static int on_sighup(sd_event_source *s _unused_, const struct signalfd_siginfo *si _unused_, void *userdata)
{
	struct diags d = { 0 };

	reload(userdata, &d);
	diags_clear(&d);
	return 0;
}

static void stopped(void *userdata)
{
	struct daemon *dm = userdata;

	sd_event_exit(dm->loop, 0);
}

static int on_sigterm(sd_event_source *s _unused_, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *dm = userdata;

	log_full(LOG_NOTICE, NULL, "%s: stopping%s", strsignal((int)si->ssi_signo),
		 dm->a->disconnect_on_stop ? " and disconnecting" : "; the connections stay");
	sd_notify(false, "STOPPING=1");
	dm->stopping = true;
	manager_stop(dm->m, stopped, dm);
	return 0;
}

static int reload_for_api(void *userdata, struct diags *d)
{
	return reload(userdata, d);
}

static void on_control(void *userdata, struct json_object *req, struct json_object **reply)
{
	struct daemon *dm = userdata;

	api_handle(dm->m, reload_for_api, dm, req, reply);
}

static int run_daemon(const struct args *a)
{
	struct daemon dm = { .a = a };
	struct inventory *inv = NULL;
	const struct inv_host *h = NULL;
	struct host_identity id;
	struct manager_options mo = { .sysfs = a->sysfs, .audit_interval = a->audit_interval,
				      .disconnect_on_stop = a->disconnect_on_stop, .load_modules = true,
				      .check_links = !a->no_link_wait,
				      .probe = !a->no_probe,
				      /* RDMA CM probes run in a child of this very program (probe.h) */
				      .probe_helper = "/proc/self/exe" };
	struct diags d = { 0 };
	sigset_t ss;
	int r;

	r = load_host(a, &d, &inv, &h, &id);
	diags_clear(&d);
	if (r < 0)
		return r;
	log_full(LOG_INFO, NULL, "host %s (%s): %zu discovery endpoints", h->name, id.hostnqn, h->n_endpoints);
	load_modules(inv, h);

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	/* Probe children are reaped by the loop (sd_event_add_child), which
	 * needs SIGCHLD blocked in every thread: before the workers start. */
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	if ((r = sd_event_default(&dm.loop)) < 0)
		goto out;
	sd_event_add_signal(dm.loop, NULL, SIGTERM, on_sigterm, &dm);
	sd_event_add_signal(dm.loop, NULL, SIGINT, on_sigterm, &dm);
	sd_event_add_signal(dm.loop, NULL, SIGHUP, on_sighup, &dm);
	sd_event_set_watchdog(dm.loop, true);

	r = manager_new(dm.loop, inv, h, &id, &mo, &dm.m);
	if (r < 0)
		goto out;
	inv = NULL; /* the manager's now */
	r = control_new(dm.loop, a->socket, on_control, &dm, &dm.ctl);
	if (r < 0) {
		log_full(LOG_ERR, NULL, "cannot open the control socket %s: %s", a->socket, strerror(-r));
		goto out;
	}
	r = manager_start(dm.m);
	if (r < 0)
		goto out;
	r = sd_event_loop(dm.loop);
out:
	control_free(dm.ctl);
	manager_free(dm.m);
	inventory_free(inv);
	sd_event_unref(dm.loop);
	return r;
}

int main(int argc, char **argv)
{
	struct args a;

	/* The RDMA CM probe's child (probe.h): not a daemon option. */
	if (argc > 1 && streq(argv[1], "--probe-rdma"))
		return probe_helper_main(argc - 1, argv + 1);
	if (parse_args(argc, argv, &a) < 0)
		return 2;
	if (a.check_config)
		return check_config(&a) < 0 ? 1 : 0;
	log_setup(a.verbose > 0);
	return run_daemon(&a) < 0 ? 1 : 0;
}
