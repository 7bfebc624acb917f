/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host inventory: one YAML file describing a fabric's initiators (hosts)
 * and targets. Parsed once into the plain structs below, validated strictly,
 * with defaults applied and references resolved; nothing consults the YAML
 * again. Every object keeps the place it was written for later messages.
 * The schema is documented in nvmfd.yaml(5) and conf/nvmfd.yaml.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/diag.h"
#include "base/duration.h"

enum transport {
	TRANSPORT_RDMA,
	TRANSPORT_TCP,
	_TRANSPORT_MAX,
};

enum adrfam {
	ADRFAM_IPV4,
	ADRFAM_IPV6,
	_ADRFAM_MAX,
};

/* What nvmfd does with a connection whose subsystem left the discovery log. */
enum on_removed {
	ON_REMOVED_KEEP,
	ON_REMOVED_DISCONNECT,
	_ON_REMOVED_MAX,
};

const char *transport_to_string(enum transport t);
int transport_from_string(const char *s); /* enum value or -EINVAL */
const char *adrfam_to_string(enum adrfam a);
int adrfam_from_string(const char *s);
const char *on_removed_to_string(enum on_removed o);
int on_removed_from_string(const char *s);

/* The well-known service ids: I/O and RDMA discovery on 4420, TCP discovery
 * on 8009 (NVMe/TCP transport specification, 7.4.9.1). */
#define TRSVCID_IO "4420"
#define TRSVCID_RDMA_DISCOVERY "4420"
#define TRSVCID_TCP_DISCOVERY "8009"

/*
 * Limits, past which an inventory is refused with an error saying which
 * (nvmfd.yaml(5), LIMITS). They bound what a file multiplies, so that any
 * file is checked in time and memory linear in its size: the endpoints of
 * connect entries that name targets (one per port), the links of ports that
 * list no subsystems (one per subsystem of the target). Nesting and aliases
 * are bounded while the YAML is read (inventory/ytree.h).
 */
#define INV_MAX_FILE_SIZE (16u << 20)
#define INV_MAX_MODULES 64 /* what nvmfd loads for a host at most */
#define INV_MAX_HOST_ENDPOINTS 4096
#define INV_MAX_ENDPOINTS 65536 /* of all hosts */
#define INV_MAX_LINKS (1u << 20) /* port-subsystem links of all targets */

struct inv_loc {
	unsigned line, column; /* 1-based */
};

/*
 * Fabrics options handed to the kernel with each connect. The kernel takes
 * the timeouts in whole seconds; -1 means "forever" for ctrl_loss_tmo and
 * "off" for fast_io_fail_tmo. nr_io_queues 0 lets the kernel choose (one per
 * CPU).
 */
struct inv_fabrics {
	int nr_io_queues;
	int queue_size;
	int keep_alive_tmo;
	int reconnect_delay;
	int ctrl_loss_tmo;
	int fast_io_fail_tmo;
};

/* nvmfd's own reconnect backoff: initial doubles up to max, +/- jitter %. */
struct inv_backoff {
	usec_t initial;
	usec_t max;
	unsigned jitter_pct;
};

/* A discovery endpoint nvmfd connects to, after target references are
 * expanded (one per port of the named target). */
struct inv_endpoint {
	struct inv_loc loc;      /* the connect entry it comes from */
	const char *target;      /* the target it names, or NULL */
	unsigned target_port;    /* that target's port id */
	enum transport transport;
	enum adrfam adrfam;
	const char *traddr;
	const char *trsvcid;
	const char *host_traddr; /* NULL: the kernel chooses */
	const char *host_iface;  /* NULL: any */
	const char **subsystems; /* filter; n_subsystems 0: every one listed */
	size_t n_subsystems;
	const char *dhchap_key;      /* path of the host's key file, or NULL */
	const char *dhchap_ctrl_key; /* path, for bidirectional authentication */
	struct inv_loc key_loc;
	enum on_removed on_removed;
	struct inv_fabrics fabrics;
	struct inv_backoff backoff;
	const char *iopolicy;        /* native multipath I/O policy of its subsystems; NULL: the kernel's */
};

struct inv_host {
	struct inv_loc loc;
	const char *name;
	const char *hostnqn; /* NULL: read /etc/nvme/hostnqn at run time */
	const char *hostid;  /* NULL: read /etc/nvme/hostid at run time */
	const char **modules;
	size_t n_modules;
	struct inv_endpoint *endpoints;
	size_t n_endpoints;
};

struct inv_namespace {
	struct inv_loc loc;
	uint32_t nsid;
	const char *device_path;
	const char *uuid;  /* NULL: the kernel's */
	const char *nguid; /* NULL: the kernel's */
	bool enabled;
};

/* A host allowed on a subsystem, with its DH-HMAC-CHAP settings if any. */
struct inv_allowed_host {
	struct inv_loc loc;
	const char *host; /* as written: a host name of this inventory or an NQN */
	const char *nqn;  /* resolved */
	const char *dhchap_key;      /* path of the key file, or NULL */
	const char *dhchap_ctrl_key; /* path, or NULL */
	const char *dhchap_hash;     /* hmac(sha256|sha384|sha512), or NULL */
	const char *dhchap_dhgroup;  /* null, ffdhe2048..ffdhe8192, or NULL */
};

struct inv_subsystem {
	struct inv_loc loc;
	const char *nqn;
	const char *serial; /* NULL: the kernel's */
	bool allow_any_host;
	struct inv_allowed_host *allowed_hosts;
	size_t n_allowed_hosts;
	struct inv_namespace *namespaces;
	size_t n_namespaces;
};

struct inv_referral {
	struct inv_loc loc;
	const char *name; /* its directory under the port's referrals/ */
	enum transport transport;
	enum adrfam adrfam;
	const char *traddr;
	const char *trsvcid;
	unsigned portid;
};

struct inv_port {
	struct inv_loc loc;
	unsigned id;
	enum transport transport;
	enum adrfam adrfam;
	const char *traddr;
	const char *trsvcid;
	const char **subsystems; /* NQNs of this target's subsystems it exposes */
	size_t n_subsystems;
	struct inv_referral *referrals;
	size_t n_referrals;
};

struct inv_null_blk {
	bool set;
	unsigned nr_devices;
	unsigned gb;
};

struct inv_target {
	struct inv_loc loc;
	const char *name;
	const char **modules;
	size_t n_modules;
	struct inv_null_blk null_blk;
	struct inv_port *ports;
	size_t n_ports;
	struct inv_subsystem *subsystems;
	size_t n_subsystems;
};

struct inventory {
	struct arena *arena;
	const char *path;
	struct inv_fabrics fabrics; /* defaults: section, over the built-in ones */
	struct inv_backoff backoff;
	enum on_removed on_removed;
	const char *iopolicy;
	struct inv_host *hosts;
	size_t n_hosts;
	struct inv_target *targets;
	size_t n_targets;
};

/* The built-in defaults, under any defaults: section. */
extern const struct inv_fabrics inv_fabrics_default;
extern const struct inv_backoff inv_backoff_default;

/*
 * Load PATH ("-": standard input, called <stdin> in messages). Every problem
 * goes to DIAGS (errors and warnings, each with its FILE:LINE:COLUMN).
 * Returns 0 with *ret set when there are no errors; -EINVAL when the file has
 * errors; a negative errno when it cannot be read (also added to DIAGS, with
 * no place: -EISDIR for a directory, -EFBIG past INV_MAX_FILE_SIZE); -ENOMEM.
 */
int inventory_load(const char *path, struct diags *diags, struct inventory **ret);
/* The same on text in memory; NAME is what messages call it. */
int inventory_load_string(const char *name, const char *text, size_t len, struct diags *diags,
			  struct inventory **ret);
void inventory_free(struct inventory *inv);

const struct inv_host *inventory_find_host(const struct inventory *inv, const char *name);
const struct inv_target *inventory_find_target(const struct inventory *inv, const char *name);

/*
 * Pick the entry this machine uses: NAME when given, else the one named like
 * the machine's hostname (also its short form). Returns -ENOENT with a
 * message in DIAGS naming the entries there are.
 */
int inventory_pick_host(const struct inventory *inv, const char *name, struct diags *diags,
			const struct inv_host **ret);
int inventory_pick_target(const struct inventory *inv, const char *name, struct diags *diags,
			  const struct inv_target **ret);

/*
 * Check that the key files the entry names exist and are readable by their
 * owner only (a key readable by group or others is refused). Problems go to
 * DIAGS with the place the key was written; returns -EACCES or -ENOENT on
 * the first kind found, 0 when all are fine.
 */
int inventory_check_host_keys(const struct inventory *inv, const struct inv_host *h,
			      struct diags *diags);
int inventory_check_target_keys(const struct inventory *inv, const struct inv_target *t,
				struct diags *diags);

/* The normalised entry (defaults applied, references resolved), as YAML that
 * loads again to the same entry. */
void inventory_print_host(FILE *f, const struct inventory *inv, const struct inv_host *h);
void inventory_print_target(FILE *f, const struct inv_target *t);
/* The whole inventory, normalised. */
void inventory_print(FILE *f, const struct inventory *inv);
