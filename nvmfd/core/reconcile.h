/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reconcile: what every path must do, computed as a whole from the
 * desired state and the paths there are (Kubernetes' controllers, systemd-
 * networkd's link_reconfigure). Events only say "look again"; one pass
 * decides, so a missed event costs nothing and a fault's neighbour is
 * handled by the same code as the fault.
 *
 * The desired state is a pure function of the host's inventory entry, the
 * host identity and the last discovery log each discovery path read: the
 * configured endpoints' discovery controllers, the subsystems their logs
 * list that pass the endpoint's filter, and the referrals they list, to
 * RC_MAX_REFERRAL_DEPTH, each identity once (a referral cycle ends there).
 * A discovery controller that several endpoints lead to is read with each
 * one's filter: what one endpoint asks for is not lost because another,
 * earlier in the entry, reached the same controller first.
 * A reload is then a diff: the same logs planned with the new entry. The
 * verdicts, as OpenBSD bgpd marks peers KEEP/REINIT/DELETE on reconfigure:
 * keep (the endpoint's options apply from the next connect), retry now (a
 * log lists the subsystem again since its connect failed: a target that
 * re-exports its subsystems one by one refuses connects that come early,
 * and the kernel of 6.12 even drops a controller whose reconnect is refused
 * with DNR), reinit (the host ID or a key changed: ours is disconnected and
 * connected again), stop, start.
 *
 * No I/O, no clock, no loop: tests drive it with plain data.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/discovery.h"
#include "core/ident.h"
#include "inventory/inventory.h"

/* The specification's limit on the referral chains a host follows. */
#define RC_MAX_REFERRAL_DEPTH 8
#define RC_NONE SIZE_MAX

/* A path as the reconcile sees it: one per path the daemon has. */
struct rc_path {
	struct ident id;
	bool discovery;
	bool leaving;               /* disconnecting or removed: on its way out */
	bool backing_off;           /* no controller; waiting for its next connect (backoff, failed) */
	size_t parent;              /* I/O: the discovery path (index) whose log listed it; RC_NONE */
	const struct disc_log *log; /* discovery: the last log it read, or NULL */
	uint64_t log_seq;           /* discovery: when that log was taken in (increasing, from 1) */
	uint64_t fail_seq;          /* the newest log_seq when its last connect failed; 0: none */
	const char *hostid;         /* what its controller was connected with */
	const char *dhchap_key;     /* key file paths; "" or NULL: none */
	const char *dhchap_ctrl_key;
};

enum rc_verdict {
	RC_KEEP,   /* as it is */
	RC_RETRY,  /* connect now */
	RC_REINIT, /* disconnect ours, connect again */
	RC_STOP,   /* no longer desired: stop, disconnecting ours */
	RC_SKIP,   /* on its way out already */
	_RC_VERDICT_MAX,
};

enum rc_why {
	RC_WHY_DESIRED,        /* configured, or listed by a log */
	RC_WHY_KEPT,           /* no longer listed; on_removed: keep */
	RC_WHY_UNLISTED,       /* no longer listed; on_removed: disconnect */
	RC_WHY_NOT_CONFIGURED, /* no endpoint, filter, host NQN or referral leads to it any more */
	RC_WHY_HOSTID,         /* the host ID changed */
	RC_WHY_KEYS,           /* a DH-HMAC-CHAP key file changed */
	RC_WHY_RELISTED,       /* a log lists it again since its connect failed */
	RC_WHY_LEAVING,
	_RC_WHY_MAX,
};

struct rc_decision {
	enum rc_verdict verdict;
	enum rc_why why;
	const struct inv_endpoint *ep; /* the endpoint it follows now; NULL when it stops */
	size_t parent;                 /* I/O: the discovery path listing it now; RC_NONE */
	unsigned depth;                /* discovery: 0 configured, >0 reached by referral */
};

/* A desired path that has none yet. */
struct rc_start {
	struct ident id;
	bool discovery;
	unsigned depth;
	const struct inv_endpoint *ep;
	size_t parent; /* the discovery path whose log lists it; RC_NONE: configured */
};

struct rc_plan {
	struct rc_decision *paths; /* one per input path, in order */
	struct rc_start *start;
	size_t n_start;
	size_t n_too_deep;       /* referrals past RC_MAX_REFERRAL_DEPTH, not followed */
	size_t n_desired;        /* identities desired, discovery and I/O */
};

/*
 * Decide for the N PATHS of host H (identity HOSTNQN, HOSTID). A path
 * waiting for a leaving one of the same identity to go is not started
 * before it has. Returns 0 or -ENOMEM.
 */
int reconcile(const struct inv_host *h, const char *hostnqn, const char *hostid, const struct rc_path *paths,
	      size_t n, struct rc_plan *ret);
void rc_plan_free(struct rc_plan *p);

const char *rc_verdict_to_string(enum rc_verdict v);
const char *rc_why_to_string(enum rc_why w);
