/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nvmfctl: nvmfd's command-line client, over its control socket.
 *
 *   nvmfctl [--socket PATH] status [--json] | discover [TARGET] | reconnect [PATH|--all] |
 *           rescan [PATH|--all] | reload |
 *           owns nvmeN | iopolicy nvme-subsysN|NQN
 *   nvmfctl [-c FILE] [--host NAME] doctor [TARGET] [--json]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control.h"
#include "base/diag.h"
#include "doctor/doctor.h"
#include "base/fileio.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"
#include "base/macro.h"

#define DEFAULT_CONFIG SYSCONFDIR "/nvmfd/nvmfd.yaml"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmfctl [--socket PATH] COMMAND\n"
		"\n"
		"commands:\n"
		"  status [--json]          every path: target, subsystem, address, controller, state, namespaces\n"
		"  discover [TARGET]        read the discovery logs again (all, or TARGET's)\n"
		"  reconnect [PATH|--all]   connect now what waits in backoff (PATH: a subsystem NQN, address or nvmeN)\n"
		"  rescan [PATH|--all]      ask the kernel to scan a live path's namespaces again (after one was lost)\n"
		"  reload                   read the inventory again and apply the difference\n"
		"  owns nvmeN               NVMFD_OWNED=1 if nvmfd manages that controller, else 0 (for udev)\n"
		"  iopolicy nvme-subsysN|NQN\n"
		"                           NVMFD_IOPOLICY=POLICY if the inventory sets one for it (for udev)\n"
		"  doctor [TARGET] [--json] check each configured path step by step, say what fails and the fix\n"
		"                           (TARGET: a target name or address; also without nvmfd running)\n"
		"\n"
		"  --socket PATH   nvmfd's control socket (default %s)\n"
		"  -c, --config FILE, --host NAME\n"
		"                  doctor: the inventory and host entry (default %s; the host nvmfd runs as)\n",
		CONTROL_DEFAULT_SOCKET, DEFAULT_CONFIG);
}

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static void print_status(struct json_object *status)
{
	struct json_object *paths = NULL;
	size_t n;

	json_object_object_get_ex(status, "paths", &paths);
	n = paths ? json_object_array_length(paths) : 0;
	printf("host %s (%s): %s%s\n", strempty(str(status, "host")), strempty(str(status, "hostnqn")),
	       strempty(str(status, "status")), json_object_get_boolean(json_object_object_get(status, "ready")) ? "" : ", starting");
	for (int pass = 0; pass < 2; pass++) {
		bool header = false;

		for (size_t i = 0; i < n; i++) {
			struct json_object *p = json_object_array_get_idx(paths, i), *ns = NULL;
			bool disc = streq_ptr(str(p, "kind"), "discovery");
			char addr[128], nsbuf[128] = "";
			const char *err = str(p, "last_error"), *next = str(p, "next_retry_ms");

			if (disc != (pass == 0))
				continue;
			if (!header) {
				printf("\n%-10s %-44s %-5s %-22s %-7s %-10s %-12s %4s %-8s %s\n", pass == 0 ? "DISCOVERY" : "TARGET",
				       "SUBSYSNQN", "TRANS", "ADDRESS", "CTRL", "STATE", "NAMESPACES", "RECN", "RETRY", "LAST ERROR");
				header = true;
			}
			snprintf(addr, sizeof(addr), "%s:%s", strempty(str(p, "traddr")), strempty(str(p, "trsvcid")));
			if (json_object_object_get_ex(p, "namespaces", &ns))
				for (size_t k = 0; k < json_object_array_length(ns); k++) {
					size_t len = strlen(nsbuf);

					snprintf(nsbuf + len, sizeof(nsbuf) - len, "%s%s", len ? "," : "",
						 json_object_get_string(json_object_array_get_idx(ns, k)));
				}
			char retry[16] = "-", state[40];
			struct json_object *lost = json_object_object_get(p, "namespaces_lost");
			size_t n_lost = lost ? json_object_array_length(lost) : 0;

			if (next)
				snprintf(retry, sizeof(retry), "%.1fs", atof(next) / 1000);
			/* a live path that lost namespaces is not whole */
			snprintf(state, sizeof(state), "%s%s",
				 json_object_get_boolean(json_object_object_get(p, "stuck")) ? "stuck" : strempty(str(p, "state")),
				 n_lost ? "-lost" : "");
			printf("%-10s %-44s %-5s %-22s %-7s %-10s %-12s %4s %-8s %s\n", str(p, "target") ? str(p, "target") : "-",
			       strempty(str(p, "subsysnqn")), strempty(str(p, "transport")), addr,
			       str(p, "controller") ? str(p, "controller") : "-", state, nsbuf[0] ? nsbuf : "-",
			       strempty(str(p, "reconnects")), retry, err ? err : "");
			for (size_t k = 0; k < n_lost; k++)
				printf("%-10s   lost %s%s%s (nvmfctl rescan %s to scan again)\n", "",
				       json_object_get_string(json_object_array_get_idx(lost, k)),
				       str(p, "namespaces_lost_reason") ? ": " : "", strempty(str(p, "namespaces_lost_reason")),
				       strempty(str(p, "controller")));
		}
	}
}

/* nvmfctl doctor: runs here, with nvmfd's state when it answers. */
static int run_doctor(const char *socket_path, const char *config, const char *host, const char *filter, bool json)
{
	struct json_object *req = json_object_new_object(), *reply = NULL, *status = NULL;
	struct diags d = { 0 };
	struct inventory *inv = NULL;
	const struct inv_host *h = NULL;
	struct host_identity id;
	struct doctor_env env = { .sysfs = "/sys" };
	struct doctor_report rep;
	int r;

	json_object_object_add(req, "command", json_object_new_string("status"));
	if (control_call(socket_path, req, 10 * USEC_PER_SEC, &reply) == 0 &&
	    json_object_get_boolean(json_object_object_get(reply, "ok")))
		status = json_object_object_get(reply, "status");
	json_object_put(req);
	/* the host nvmfd runs as, unless told */
	if (!host && status)
		host = str(status, "host");
	r = inventory_load(config, &d, &inv);
	if (r == 0)
		r = inventory_pick_host(inv, host, &d, &h);
	if (r == 0)
		r = host_identity_resolve(inv, h, NULL, &d, &id);
	diags_print(&d, stderr);
	diags_clear(&d);
	if (r < 0) {
		fprintf(stderr, "nvmfctl: doctor: cannot use the inventory %s: %s\n", config, strerror(-r));
		inventory_free(inv);
		json_object_put(reply);
		return 1;
	}
	env.status = status;
	r = doctor_run(inv, h, &id, filter, &env, &rep);
	if (r == -ENOENT)
		fprintf(stderr, "nvmfctl: doctor: host %s has no path to %s\n", h->name, filter);
	else if (r < 0)
		fprintf(stderr, "nvmfctl: doctor: %s\n", strerror(-r));
	if (r == 0) {
		if (json) {
			struct json_object *o = doctor_json(&rep);

			printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
		} else {
			doctor_print(stdout, &rep);
		}
		r = doctor_failed(&rep) ? -EIO : 0;
	}
	doctor_report_free(&rep);
	inventory_free(inv);
	json_object_put(reply);
	return r < 0 ? 1 : 0;
}

/* What the daemon answered to CMD, as the command prints it. */
static void print_reply(const char *cmd, struct json_object *reply, bool json)
{
	if (streq(cmd, "status")) {
		struct json_object *status = json_object_object_get(reply, "status");

		if (json)
			printf("%s\n", json_object_to_json_string_ext(status, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		else
			print_status(status);
	} else if (streq(cmd, "reconnect")) {
		printf("%s path(s) reconnecting\n", strempty(str(reply, "kicked")));
	} else if (streq(cmd, "rescan")) {
		printf("%s path(s) scanning their namespaces\n", strempty(str(reply, "rescanned")));
	} else if (streq(cmd, "discover")) {
		printf("%s discovery log(s) being read\n", strempty(str(reply, "reading")));
	} else if (streq(cmd, "owns")) {
		/* udev's IMPORT{program} form */
		printf("NVMFD_OWNED=%d\n", json_object_get_boolean(json_object_object_get(reply, "owned")) ? 1 : 0);
	} else if (streq(cmd, "iopolicy")) {
		const char *pol = str(reply, "iopolicy");

		if (pol)
			printf("NVMFD_IOPOLICY=%s\n", pol);
	} else {
		printf("reloaded\n");
	}
}

/* Ask the daemon CMD (about ARG), print its answer; the exit status. */
static int call(const char *socket_path, const char *cmd, const char *arg, bool json)
{
	struct json_object *req = json_object_new_object(), *reply = NULL;
	int r;

	json_object_object_add(req, "command", json_object_new_string(cmd));
	if (arg)
		json_object_object_add(req, "target", json_object_new_string(arg));
	r = control_call(socket_path, req, 30 * USEC_PER_SEC, &reply);
	json_object_put(req);
	if (r < 0) {
		fprintf(stderr, "nvmfctl: %s: %s%s\n", socket_path, strerror(-r),
			r == -ENOENT || r == -ECONNREFUSED ? " (is nvmfd running?)" : "");
		return 1;
	}
	if (!json_object_get_boolean(json_object_object_get(reply, "ok"))) {
		/* a refused reload's errors, each FILE:LINE:COLUMN: error: ... */
		control_print_errors(reply, stderr);
		fprintf(stderr, "nvmfctl: %s: %s\n", cmd, strempty(str(reply, "error")));
		json_object_put(reply);
		return 1;
	}
	print_reply(cmd, reply, json);
	json_object_put(reply);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' }, { "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },          { "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' }, { "host", required_argument, NULL, 'H' },
		{},
	};
	const char *socket_path = CONTROL_DEFAULT_SOCKET, *cmd, *arg = NULL, *config = DEFAULT_CONFIG, *host = NULL;
	bool json = false, all = false;
	char nqn[256];
	int c, r;

	while ((c = getopt_long(argc, argv, "s:jahc:", opts, NULL)) >= 0) {
		switch (c) {
		case 's':
			socket_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'a':
			all = true;
			break;
		case 'c':
			config = optarg;
			break;
		case 'H':
			host = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind++];
	if (optind < argc)
		arg = argv[optind++];
	if (streq(cmd, "doctor") && optind >= argc)
		return run_doctor(socket_path, config, host, arg, json);
	if (optind < argc || (!streq(cmd, "status") && !streq(cmd, "discover") && !streq(cmd, "reconnect") &&
			      !streq(cmd, "rescan") && !streq(cmd, "reload") && !streq(cmd, "owns") && !streq(cmd, "iopolicy")) ||
	    ((streq(cmd, "owns") || streq(cmd, "iopolicy")) && !arg)) {
		usage(stderr);
		return 2;
	}
	if ((streq(cmd, "reconnect") || streq(cmd, "rescan")) && !arg && !all) {
		fprintf(stderr, "nvmfctl: %s takes a path (subsystem NQN, address or nvmeN) or --all\n", cmd);
		return 2;
	}

	/* udev names the subsystem device; the daemon knows NQNs */
	if (streq(cmd, "iopolicy") && strncmp(arg, "nvme-subsys", 11) == 0) {
		char path[512];

		snprintf(path, sizeof(path), "/sys/class/nvme-subsystem/%s/subsysnqn", arg);
		r = read_one_line(path, nqn, sizeof(nqn));
		if (r < 0) {
			fprintf(stderr, "nvmfctl: %s: %s\n", path, strerror(-r));
			return 1;
		}
		arg = nqn;
	}
	return call(socket_path, cmd, arg, json);
}
