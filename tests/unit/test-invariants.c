/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Invariants of the daemon's core, over a simulated kernel and target (the
 * fake fabric of fake-fabric.h and the world below), driven by seeded random
 * sequences of events. The world: four target ports (and an address nothing
 * listens on), each with a discovery controller whose log lists the
 * subsystems linked to the port and maybe a referral; the kernel's
 * controllers, which go "connecting" when their target goes away, come back
 * when it returns, and are removed at ctrl_loss_tmo (at once, as 6.12 does
 * after a DNR refusal, in the worlds of odd seeds). Faults: a port down and
 * up, a subsystem unexported and exported again, a referral changed, a
 * controller gone without an event, nvme-cli connecting one of our paths
 * first, a port reset with its log changed meanwhile, lost uevents
 * (manager_resync, as on ENOBUFS), slow calls, log-change notifications
 * (manager_rediscover, as the AEN does; nvmfctl discover). The host side:
 * reloads with random valid inventories, kicks, restarts that adopt.
 *
 * The loop runs for real, with short backoffs, so time is bounded real
 * time. At every step: the daemon connects no identity whose controller it
 * holds, made, or found at its start; no two controllers share an identity;
 * a path names only a controller of its own identity; no two paths share
 * one; none is disconnecting past DISCONNECTING_BOUND. At a check the world
 * stops changing, and within SETTLE_BOUND: no path and no controller of ours
 * for an identity neither desired nor kept (on_removed: keep); every desired
 * path there, and live, with the inventory's host ID, when its target is
 * reachable. What is desired is computed here, from the inventory loaded
 * and the logs the world's discovery controllers hold (for one that cannot
 * be reached, the last it handed over), never from the daemon's reconcile.
 * At the end every job and path must be freed (LeakSanitizer).
 *
 * A failure is shrunk to the shortest sequence that still shows it (delta
 * debugging, a fresh world each try) and printed with its seed, one event a
 * line, and the daemon's last log lines.
 *
 *   NVMFD_INVARIANT_SEED=N          run seed N alone
 *   NVMFD_INVARIANT_STEPS=N         steps a seed (default DEFAULT_STEPS)
 *   NVMFD_INVARIANT_FREE_IN_CALLS=1 free managers while calls are in the kernel (see quiesce)
 *   NVMFD_INVARIANT_NO_REDISCOVER=1 the kernel's rediscover event unheard (see struct world)
 */
#include "cmocka-prelude.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <time.h>

#include "base/log.h"
#include "daemon/manager.h"
#include "daemon/worker.h"
#include "fake-fabric.h"
#include "inventory/hostid.h"
#include "inventory/inventory.h"

void __wrap_log_full(int level, const struct log_ctx *ctx, const char *fmt, ...) _printf_(3, 4);
void __real_worker_submit(struct worker *wk, enum worker_lane lane, struct job *j);
void __wrap_worker_submit(struct worker *wk, enum worker_lane lane, struct job *j);

#define N_PORTS 5        /* 192.0.2.1-5: four target ports, and an address nothing listens on */
#define N_TARGET_PORTS 4
#define N_SUBS 6
#define MAX_EPS 6
#define N_KEYS (2 * 2 * N_PORTS * (N_SUBS + 1))
/* The world's time for a second of ctrl_loss_tmo. */
#define LOSS_SCALE (15 * USEC_PER_MSEC)
#define SLOW_CALL_US 15000
/* After the world stops changing: every eventual invariant holds this soon
 * (the daemon waits GONE_SETTLE, 1 s, after a controller's removal) ... */
#define SETTLE_BOUND (2 * USEC_PER_SEC)
/* ... and goes on holding for this long (longer than the audit and the longest backoff). */
#define STABLE_FOR (80 * USEC_PER_MSEC)
/* A lane does one call at a time: a reload that stops a dozen paths behind slow calls
 * queues their disconnects for a while, never for this long. */
#define DISCONNECTING_BOUND (2 * USEC_PER_SEC)
#define DEFAULT_STEPS 1250
#define SHRINK_BUDGET (300 * USEC_PER_SEC)

static const unsigned default_seeds[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static const char *const hostnqns[] = { "nqn.2020-09.com.example:host-a", "nqn.2020-09.com.example:host-b" };
/* hostids[0]: none in the inventory, so the machine's (/etc/nvme/hostid, as host_identity_resolve
 * reads it), which nvme-cli connects with too. */
static const char *const hostids[] = { "", "6b8f5c1e-2d4a-4c3b-9e7f-0a1b2c3d4e5f", "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b" };
#define MACHINE_HOSTID "5d1c0f3a-8e2b-4a6d-9c7e-1b2a3c4d5e6f"
static const char *const host_traddrs[] = { "", "192.0.2.100" };
static const int loss_tmos[] = { 1, 2, 5 }; /* ctrl_loss_tmo, seconds */
static const int queue_counts[] = { 0, 2, 4 };

static usec_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* splitmix64: the same seed, the same sequence, on every machine. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned rng_below(uint64_t *s, unsigned n)
{
	return n ? (unsigned)(rng_next(s) % n) : 0;
}

static bool rng_chance(uint64_t *s, unsigned pct)
{
	return rng_below(s, 100) < pct;
}

/* BUF holds 16 bytes. */
static const char *port_addr(unsigned p, char *buf)
{
	snprintf(buf, 16, "192.0.2.%u", (p + 1) % 256);
	return buf;
}

/* BUF holds 64 bytes. */
static const char *sub_nqn(unsigned s, char *buf)
{
	snprintf(buf, 64, "nqn.2020-09.com.example:s%u", s % 100);
	return buf;
}

/* ---------------------------------------------------------------------- */
/* the inventory */

struct ep_spec {
	uint8_t port;        /* the port whose discovery controller it names */
	uint8_t host_traddr; /* index into host_traddrs */
	uint8_t filter;      /* the subsystems, a bit each; 0: every one listed */
	bool keep;           /* on_removed: keep, else disconnect */
	uint8_t tmo, queues; /* indexes into loss_tmos, queue_counts */
};

struct inv_spec {
	uint8_t hostnqn, hostid, n;
	struct ep_spec ep[MAX_EPS];
};

static bool filter_passes(const struct ep_spec *e, unsigned s)
{
	return e->filter == 0 || (e->filter & (1u << s));
}

static int spec_find(const struct inv_spec *s, unsigned port, unsigned ht)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->ep[i].port == port && s->ep[i].host_traddr == ht)
			return (int)i;
	return -1;
}

static void ep_yaml(FILE *f, const struct ep_spec *e)
{
	char addr[16], nqn[64];
	bool first = true;

	fprintf(f, "      - {traddr: %s, trsvcid: 8009", port_addr(e->port, addr));
	if (e->host_traddr)
		fprintf(f, ", host_traddr: %s", host_traddrs[e->host_traddr]);
	if (e->filter) {
		fprintf(f, ", subsystems: [");
		for (unsigned s = 0; s < N_SUBS; s++)
			if (e->filter & (1u << s)) {
				fprintf(f, "%s%s", first ? "" : ", ", sub_nqn(s, nqn));
				first = false;
			}
		fprintf(f, "]");
	}
	fprintf(f, ", on_removed: %s, ctrl_loss_tmo: %ds, nr_io_queues: %d}\n", e->keep ? "keep" : "disconnect",
		loss_tmos[e->tmo], queue_counts[e->queues]);
}

static struct inventory *spec_load(const struct inv_spec *s, struct host_identity *id)
{
	_cleanup_free_ char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	struct diags d = { 0 };
	struct inventory *inv = NULL;

	assert_non_null(f);
	fprintf(f, "defaults:\n  transport: tcp\n  reconnect_delay: 1s\n  backoff: {initial: 10ms, max: 50ms}\n"
		   "hosts:\n  - name: h\n    hostnqn: %s\n", hostnqns[s->hostnqn]);
	if (s->hostid)
		fprintf(f, "    hostid: %s\n", hostids[s->hostid]);
	fprintf(f, "    connect:\n");
	for (unsigned i = 0; i < s->n; i++)
		ep_yaml(f, &s->ep[i]);
	fclose(f);
	if (inventory_load_string("inv.yaml", yaml, len, &d, &inv) < 0) {
		for (size_t i = 0; i < d.n; i++)
			print_message("%s\n", d.v[i].msg);
		fail_msg("a generated inventory does not load:\n%s", yaml);
	}
	diags_clear(&d);
	*id = (struct host_identity){ 0 };
	snprintf(id->hostnqn, sizeof(id->hostnqn), "%s", hostnqns[s->hostnqn]);
	snprintf(id->hostid, sizeof(id->hostid), "%s", s->hostid ? hostids[s->hostid] : MACHINE_HOSTID);
	return inv;
}

static void spec_describe(const struct inv_spec *s, char *buf, size_t size)
{
	size_t off = (size_t)snprintf(buf, size, "%s, hostid %s, connect", hostnqns[s->hostnqn] + 24,
				      s->hostid ? hostids[s->hostid] : "the machine's");

	for (unsigned i = 0; i < s->n && off < size; i++) {
		const struct ep_spec *e = &s->ep[i];
		char addr[16];

		off += (size_t)snprintf(buf + off, size - off, "%s %s%s%s", i ? ";" : "", port_addr(e->port, addr),
					e->host_traddr ? " from " : "", host_traddrs[e->host_traddr]);
		if (e->filter && off < size) {
			off += (size_t)snprintf(buf + off, size - off, " [");
			for (unsigned k = 0; k < N_SUBS && off < size; k++)
				if (e->filter & (1u << k))
					off += (size_t)snprintf(buf + off, size - off, "s%u", k);
			if (off < size)
				off += (size_t)snprintf(buf + off, size - off, "]");
		}
		if (off < size)
			off += (size_t)snprintf(buf + off, size - off, " %s tmo %ds q%d", e->keep ? "keep" : "disconnect",
						loss_tmos[e->tmo], queue_counts[e->queues]);
	}
}

static void spec_add_ep(uint64_t *rng, struct inv_spec *s)
{
	struct ep_spec e = { .port = (uint8_t)rng_below(rng, N_PORTS), .host_traddr = rng_chance(rng, 25),
			     .keep = rng_chance(rng, 50), .tmo = (uint8_t)rng_below(rng, ARRAY_SIZE(loss_tmos)),
			     .queues = (uint8_t)rng_below(rng, ARRAY_SIZE(queue_counts)) };

	if (rng_chance(rng, 40))
		e.filter = (uint8_t)(1 + rng_below(rng, (1u << N_SUBS) - 1));
	/* the address nothing listens on, now and then */
	if (e.port == N_PORTS - 1 && rng_chance(rng, 50))
		e.port = (uint8_t)rng_below(rng, N_TARGET_PORTS);
	if (s->n < MAX_EPS && spec_find(s, e.port, e.host_traddr) < 0)
		s->ep[s->n++] = e;
}

/* A reload's inventory: the one before, changed in one way (hostnqn and hostid now and then). */
static void spec_mutate(uint64_t *rng, struct inv_spec *s)
{
	struct ep_spec *e = &s->ep[rng_below(rng, s->n)];
	uint8_t bit = (uint8_t)(1u << rng_below(rng, N_SUBS));

	switch (rng_below(rng, 9)) {
	case 0:
		spec_add_ep(rng, s);
		break;
	case 1:
		if (s->n > 1)
			*e = s->ep[--s->n];
		break;
	case 2: /* narrowed */
		e->filter = e->filter == 0 ? bit : (e->filter & ~bit) ? (uint8_t)(e->filter & ~bit) : e->filter;
		break;
	case 3: /* widened */
		e->filter = rng_chance(rng, 40) ? 0 : (uint8_t)(e->filter | bit);
		break;
	case 4:
		e->keep = !e->keep;
		break;
	case 5:
		e->tmo = (uint8_t)rng_below(rng, ARRAY_SIZE(loss_tmos));
		e->queues = (uint8_t)rng_below(rng, ARRAY_SIZE(queue_counts));
		break;
	case 6:
		if (rng_chance(rng, 35))
			s->hostnqn ^= 1;
		break;
	case 7:
		if (rng_chance(rng, 50))
			s->hostid = (uint8_t)rng_below(rng, ARRAY_SIZE(hostids));
		break;
	default:
		break; /* the same inventory again */
	}
}

/* ---------------------------------------------------------------------- */
/* identities of this world: a discovery controller or a subsystem at a port,
 * from one of the host addresses, as one of the host NQNs */

struct key {
	bool dc;
	uint8_t port, sub, ht, hq;
};

static int key_index(const struct key *k)
{
	return (((k->hq * 2 + k->ht) * N_PORTS + k->port) * (N_SUBS + 1)) + (k->dc ? N_SUBS : k->sub);
}

static int index_of_str(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (streq(v[i], s))
			return (int)i;
	return -1;
}

static int port_of(const char *traddr)
{
	unsigned p;
	char tail;

	if (sscanf(traddr, "192.0.2.%u%c", &p, &tail) != 1 || p < 1 || p > N_PORTS)
		return -1;
	return (int)p - 1;
}

static int sub_of(const char *nqn)
{
	unsigned s;
	char tail;

	if (sscanf(nqn, "nqn.2020-09.com.example:s%u%c", &s, &tail) != 1 || s >= N_SUBS)
		return -1;
	return (int)s;
}

/* The key of a path or controller (HQ: its host NQN's index); false when it is no identity of this world. */
static bool key_of(bool dc, const char *traddr, const char *nqn, const char *host_traddr, int hq, struct key *k)
{
	int p = port_of(traddr), s = dc ? 0 : sub_of(nqn),
	    ht = index_of_str(host_traddrs, ARRAY_SIZE(host_traddrs), strempty(host_traddr));

	*k = (struct key){ .dc = dc, .port = (uint8_t)p, .sub = (uint8_t)s, .ht = (uint8_t)ht, .hq = (uint8_t)hq };
	return p >= 0 && s >= 0 && ht >= 0 && hq >= 0;
}

static bool key_of_ident(const struct ident *id, struct key *k)
{
	return key_of(streq(id->subsysnqn, NQN_DISCOVERY), id->traddr, id->subsysnqn, id->host_traddr,
		      index_of_str(hostnqns, ARRAY_SIZE(hostnqns), id->hostnqn), k);
}

static void key_ident(const struct key *k, struct ident *id)
{
	char buf[64];

	*id = (struct ident){ .transport = "tcp" };
	snprintf(id->traddr, sizeof(id->traddr), "%s", port_addr(k->port, buf));
	snprintf(id->trsvcid, sizeof(id->trsvcid), "%s", k->dc ? "8009" : "4420");
	snprintf(id->host_traddr, sizeof(id->host_traddr), "%s", host_traddrs[k->ht]);
	snprintf(id->subsysnqn, sizeof(id->subsysnqn), "%s", k->dc ? NQN_DISCOVERY : sub_nqn(k->sub, buf));
	snprintf(id->hostnqn, sizeof(id->hostnqn), "%s", hostnqns[k->hq]);
}

static const char *key_name(const struct key *k, char *buf, size_t size)
{
	char addr[16];

	if (k->dc)
		snprintf(buf, size, "discovery at %s", port_addr(k->port, addr));
	else
		snprintf(buf, size, "s%u at %s", k->sub, port_addr(k->port, addr));
	if (k->ht)
		snprintf(buf + strlen(buf), size - strlen(buf), " from %s", host_traddrs[k->ht]);
	if (k->hq)
		snprintf(buf + strlen(buf), size - strlen(buf), " as host-b");
	return buf;
}

static struct key key_at(int i)
{
	struct key k = { 0 };
	int x = i % (N_SUBS + 1);

	k.dc = x == N_SUBS;
	k.sub = (uint8_t)(k.dc ? 0 : x);
	i /= N_SUBS + 1;
	k.port = (uint8_t)(i % N_PORTS);
	i /= N_PORTS;
	k.ht = (uint8_t)(i % 2);
	k.hq = (uint8_t)(i / 2);
	return k;
}

/* ---------------------------------------------------------------------- */
/* the world: the target's ports and the kernel's controllers */

struct wport {
	bool up, slow;
	int refer;               /* the port whose discovery controller its log refers to; -1: none */
	bool exported[N_SUBS];
};

/* What the kernel model keeps of controller nvmeN beside the fake's table. */
struct wctrl {
	bool live;               /* else connecting: its target went away */
	usec_t lost_at;          /* since when (0: refused with DNR, removed at once) */
	usec_t loss_tmo;
	unsigned ours, known, adopted; /* generations: connected by, seen held by, there at the start of */
};

/* The last log a discovery controller of identity ID handed over. */
struct served {
	struct ident id;
	unsigned gen;
	uint8_t exported;
	int refer;
};

enum inv_kind {
	INV_NONE,
	INV_CONNECT_HELD,   /* a connect for an identity whose controller the daemon holds */
	INV_TWO_CTRLS,      /* two controllers of one identity */
	INV_WRONG_CTRL,     /* a path names a controller of another identity */
	INV_TWO_PATHS,      /* two paths of one identity */
	INV_DISCONNECTING,  /* a path disconnecting too long */
	INV_UNDESIRED_PATH, /* a path neither desired nor kept */
	INV_UNDESIRED_CTRL, /* a controller of ours neither desired nor kept */
	INV_MISSING,        /* a desired path the daemon does not have */
	INV_NOT_LIVE,       /* a desired, reachable path not live */
	INV_HOSTID,         /* a desired controller with another host ID than the inventory's */
	_INV_KIND_MAX,
};

static const char *const inv_kind_names[_INV_KIND_MAX] = {
	[INV_NONE] = "none",
	[INV_CONNECT_HELD] = "connect-while-held",
	[INV_TWO_CTRLS] = "two-controllers",
	[INV_WRONG_CTRL] = "wrong-controller",
	[INV_TWO_PATHS] = "two-paths",
	[INV_DISCONNECTING] = "stuck-disconnecting",
	[INV_UNDESIRED_PATH] = "undesired-path",
	[INV_UNDESIRED_CTRL] = "undesired-controller",
	[INV_MISSING] = "missing-path",
	[INV_NOT_LIVE] = "not-live",
	[INV_HOSTID] = "host-id",
};

struct world {
	struct wport port[N_PORTS];
	struct wctrl *ctrl;
	size_t cap;
	struct served served[64];
	size_t n_served;
	unsigned gen;            /* the manager's: a restart makes another */
	bool dnr;                /* the kernel drops a controller whose reconnect is refused with DNR (6.12) */
	bool notify;             /* an AEN, or a discovery controller's rediscover event, is due */
	bool draining;           /* the manager is about to be freed: calls fail at once */
	/*
	 * A discovery controller the kernel reconnects may have missed a log
	 * change while it was away, and the kernel says so (NVME_EVENT=
	 * rediscover); this world passes it on as a notification. nvmfd's
	 * uevent translation drops that event today, so a reconnect quicker
	 * than the audit leaves it with the log from before:
	 * NVMFD_INVARIANT_NO_REDISCOVER=1 keeps the event from it, to show that.
	 */
	bool rediscover;
	enum inv_kind kind;      /* the first violation a call saw */
	char msg[512];
};

static struct world w;

static _printf_(2, 3) void violate(enum inv_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (w.kind != INV_NONE)
		return;
	w.kind = kind;
	va_start(ap, fmt);
	vsnprintf(w.msg, sizeof(w.msg), fmt, ap);
	va_end(ap);
}

static void wctrl_make(int n)
{
	if ((size_t)n >= w.cap) {
		size_t cap = w.cap ? w.cap * 2 : 256;

		while (cap <= (size_t)n)
			cap *= 2;
		w.ctrl = realloc(w.ctrl, cap * sizeof(*w.ctrl));
		assert_non_null(w.ctrl);
		memset(w.ctrl + w.cap, 0, (cap - w.cap) * sizeof(*w.ctrl));
		w.cap = cap;
	}
	w.ctrl[n] = (struct wctrl){ .live = true };
}

static bool key_reachable(const struct key *k)
{
	const struct wport *p = &w.port[k->port];

	return k->port < N_TARGET_PORTS && p->up && (k->dc || p->exported[k->sub]);
}

static bool ctrl_key(int n, struct key *k)
{
	return ctrls[n].exists && key_of_ident(&ctrls[n].id, k);
}

/* The discovery log of port P changed: what it lists is rebuilt, its generation moves on. */
static void log_changed(unsigned p)
{
	struct fake_dc *dc = &dcs[p];
	char addr[16], nqn[64];

	dc->n = 0;
	for (unsigned s = 0; s < N_SUBS; s++)
		if (w.port[p].exported[s])
			lists(dc, 2, port_addr(p, addr), "4420", sub_nqn(s, nqn));
	if (w.port[p].refer >= 0)
		lists(dc, 1, port_addr((unsigned)w.port[p].refer, addr), "8009", NQN_DISCOVERY);
	dc->genctr++;
	/* the AEN: only a discovery controller connected to the port hears it */
	for (int n = 0; n < next_ctrl; n++) {
		struct key k;

		if (ctrl_key(n, &k) && k.dc && k.port == p && w.ctrl[n].live)
			w.notify = true;
	}
}

/* Controller N lost its target: the kernel reconnects it until ctrl_loss_tmo. */
static void ctrl_lose(int n, bool dnr)
{
	if (!w.ctrl[n].live)
		return;
	w.ctrl[n].live = false;
	w.ctrl[n].lost_at = dnr ? 0 : now_usec();
	fake_ctrl_put(n, "state", "connecting");
}

/* The kernel's own work: reconnecting what can be, removing what is lost. */
static void world_tick(void)
{
	usec_t now = now_usec();

	pthread_mutex_lock(&lock);
	for (int n = 0; n < next_ctrl; n++) {
		struct key k;

		if (!ctrl_key(n, &k) || w.ctrl[n].live)
			continue;
		if (key_reachable(&k)) {
			w.ctrl[n].live = true;
			fake_ctrl_put(n, "state", "live");
			if (k.dc && w.rediscover)
				w.notify = true;
		} else if (now >= w.ctrl[n].lost_at + w.ctrl[n].loss_tmo) {
			fake_ctrl_remove(n);
		}
	}
	pthread_mutex_unlock(&lock);
}

static void world_init(unsigned seed)
{
	uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 7;

	free(w.ctrl);
	w = (struct world){ .gen = 1, .dnr = seed % 2, .rediscover = !getenv("NVMFD_INVARIANT_NO_REDISCOVER") };
	for (unsigned p = 0; p < N_PORTS; p++) {
		w.port[p] = (struct wport){ .up = p < N_TARGET_PORTS, .refer = -1 };
		if (p >= N_TARGET_PORTS)
			continue;
		for (unsigned s = 0; s < N_SUBS; s++)
			w.port[p].exported[s] = rng_chance(&rng, 60);
		if (rng_chance(&rng, 25))
			w.port[p].refer = (int)((p + 1 + rng_below(&rng, N_TARGET_PORTS - 1)) % N_TARGET_PORTS);
	}
}

/* The target ports' discovery controllers, into a fresh fake fabric. */
static void world_publish(void)
{
	char addr[16];

	for (unsigned p = 0; p < N_TARGET_PORTS; p++) {
		fake_dc(port_addr(p, addr));
		log_changed(p);
	}
	w.notify = false;
}

/* ---------------------------------------------------------------------- */
/* the kernel's answers to the daemon's calls (fake_world; under the lock but the *_begin ones) */

static bool hook_cut_off(struct fabrics_result *ret)
{
	if (!w.draining)
		return false;
	ret->err = -EINTR;
	return true;
}

static void maybe_slow(const char *traddr)
{
	int p = port_of(traddr);
	bool slow;

	pthread_mutex_lock(&lock);
	slow = p >= 0 && w.port[p].slow && !w.draining;
	pthread_mutex_unlock(&lock);
	if (slow)
		usleep(SLOW_CALL_US);
}

static void hook_connect_begin(const struct fabrics_connect_args *a)
{
	maybe_slow(a->id.traddr);
}

/* The daemon never connects an identity whose controller it holds, made, or found at its start. */
static void hook_connect_attempt(const struct fabrics_connect_args *a _unused_, const struct ident *id)
{
	int n = fake_ctrl_find(id);
	char name[128];
	struct key k;

	if (n < 0 || !key_of_ident(id, &k))
		return;
	if (w.ctrl[n].ours == w.gen || w.ctrl[n].known == w.gen || w.ctrl[n].adopted == w.gen)
		violate(INV_CONNECT_HELD, "a connect for %s while nvme%d has it (%s)", key_name(&k, name, sizeof(name)), n,
			w.ctrl[n].adopted == w.gen ? "there since the daemon started"
			: w.ctrl[n].ours == w.gen  ? "the daemon's own connect made it"
						   : "the daemon's status shows it held");
}

static bool hook_connect_refused(const struct fabrics_connect_args *a, const struct ident *id, struct fabrics_result *ret)
{
	int p = port_of(id->traddr), s = a->discovery ? 0 : sub_of(id->subsysnqn);

	if (p < 0 || p >= N_TARGET_PORTS || !w.port[p].up || s < 0) {
		ret->err = -ECONNREFUSED;
		return true;
	}
	if (!a->discovery && !w.port[p].exported[s]) {
		ret->err = -EIO;
		snprintf(ret->kernel_log, sizeof(ret->kernel_log),
			 "nvme nvme%d: Connect Invalid Data Parameter, subsysnqn \"%s\"\n", next_ctrl, id->subsysnqn);
		return true;
	}
	return false;
}

static void hook_created(const struct fabrics_connect_args *a, int n)
{
	wctrl_make(n);
	w.ctrl[n].loss_tmo = (usec_t)(a->opts.ctrl_loss_tmo > 0 ? a->opts.ctrl_loss_tmo : 600) * LOSS_SCALE;
	w.ctrl[n].ours = w.gen;
}

static void hook_disconnect_begin(const char *ctrl)
{
	int n = ctrl_number(ctrl);
	char traddr[64] = "";

	pthread_mutex_lock(&lock);
	if (n >= 0 && n < next_ctrl)
		snprintf(traddr, sizeof(traddr), "%s", ctrls[n].id.traddr);
	pthread_mutex_unlock(&lock);
	maybe_slow(traddr);
}

static bool hook_log_refused(int n, struct fabrics_result *ret)
{
	if (w.ctrl[n].live)
		return false;
	ret->err = -EIO; /* a controller that is reconnecting answers no command */
	return true;
}

static void hook_log_served(int n, const struct fake_dc *dc)
{
	unsigned p = (unsigned)(dc - dcs);
	struct served *s = NULL;

	for (size_t i = 0; i < w.n_served && !s; i++)
		if (ident_equal(&w.served[i].id, &ctrls[n].id))
			s = &w.served[i];
	if (!s && w.n_served < ARRAY_SIZE(w.served))
		s = &w.served[w.n_served++];
	if (!s)
		return;
	*s = (struct served){ .id = ctrls[n].id, .gen = w.gen, .refer = w.port[p].refer };
	for (unsigned k = 0; k < N_SUBS; k++)
		s->exported |= (uint8_t)(w.port[p].exported[k] << k);
}

static const struct fake_world world_hooks = {
	.cut_off = hook_cut_off,
	.connect_begin = hook_connect_begin,
	.connect_attempt = hook_connect_attempt,
	.connect_refused = hook_connect_refused,
	.created = hook_created,
	.disconnect_begin = hook_disconnect_begin,
	.log_refused = hook_log_refused,
	.log_served = hook_log_served,
};

/* ---------------------------------------------------------------------- */
/* what is desired, from the inventory and the world's logs */

struct dc_node {
	bool seen;
	uint8_t cands; /* the endpoints (a bit each) whose referrals lead to it */
};

struct desired {
	bool may[N_KEYS];  /* the daemon may have it: some log it may hold leads to it */
	bool must[N_KEYS]; /* the daemon must have it: the logs of reachable controllers lead to it */
	uint8_t keep_subs[2]; /* by host address: the subsystems an on_removed: keep endpoint may keep */
	unsigned hq;
};

/* The log of the discovery controller at port P from host address HT: the
 * one it holds when reachable; else the last it handed this generation (USE_SERVED). */
static bool log_of(const struct inv_spec *spec, unsigned p, unsigned ht, bool use_served, uint8_t *exported, int *refer)
{
	struct key k = { .dc = true, .port = (uint8_t)p, .ht = (uint8_t)ht, .hq = spec->hostnqn };
	struct ident id;

	if (key_reachable(&k)) {
		*exported = 0;
		for (unsigned s = 0; s < N_SUBS; s++)
			*exported |= (uint8_t)(w.port[p].exported[s] << s);
		*refer = w.port[p].refer;
		return true;
	}
	key_ident(&k, &id);
	for (size_t i = 0; use_served && i < w.n_served; i++)
		if (w.served[i].gen == w.gen && ident_equal(&w.served[i].id, &id)) {
			*exported = w.served[i].exported;
			*refer = w.served[i].refer;
			return true;
		}
	return false;
}

/* Every endpoint's discovery controller, and those its referrals lead to (each log, one
 * referral at most, is a chain here: shorter than RC_MAX_REFERRAL_DEPTH). */
static void walk(const struct inv_spec *spec, bool use_served, struct dc_node nodes[N_PORTS][2])
{
	memset(nodes, 0, sizeof(struct dc_node) * N_PORTS * 2);
	for (unsigned i = 0; i < spec->n; i++) {
		unsigned p = spec->ep[i].port, ht = spec->ep[i].host_traddr;

		for (unsigned hops = 0; hops <= N_PORTS; hops++) {
			struct dc_node *x = &nodes[p][ht];
			uint8_t exported;
			int refer;

			if (x->cands & (1u << i))
				break; /* a cycle */
			x->seen = true;
			x->cands |= (uint8_t)(1u << i);
			if (!log_of(spec, p, ht, use_served, &exported, &refer) || refer < 0)
				break;
			p = (unsigned)refer;
		}
	}
}

/* What the nodes' logs list that some endpoint leading there lets through: into MAY or MUST. */
static void walk_subsystems(const struct inv_spec *spec, bool use_served, struct dc_node nodes[N_PORTS][2],
			    struct desired *d)
{
	bool *into = use_served ? d->may : d->must;

	for (unsigned p = 0; p < N_PORTS; p++)
		for (unsigned ht = 0; ht < 2; ht++) {
			const struct dc_node *x = &nodes[p][ht];
			struct key k = { .dc = true, .port = (uint8_t)p, .ht = (uint8_t)ht, .hq = spec->hostnqn };
			uint8_t exported, passes = 0;
			int refer;

			if (!x->seen)
				continue;
			into[key_index(&k)] = true;
			for (unsigned i = 0; i < spec->n; i++)
				for (unsigned s = 0; s < N_SUBS && (x->cands & (1u << i)); s++)
					passes |= (uint8_t)(filter_passes(&spec->ep[i], s) << s);
			for (unsigned i = 0; use_served && i < spec->n; i++)
				for (unsigned s = 0; s < N_SUBS && (x->cands & (1u << i)) && spec->ep[i].keep; s++)
					d->keep_subs[ht] |= (uint8_t)(filter_passes(&spec->ep[i], s) << s);
			if (!log_of(spec, p, ht, use_served, &exported, &refer))
				continue;
			for (unsigned s = 0; s < N_SUBS; s++) {
				k = (struct key){ .port = (uint8_t)p, .sub = (uint8_t)s, .ht = (uint8_t)ht, .hq = spec->hostnqn };
				if (exported & passes & (1u << s))
					into[key_index(&k)] = true;
			}
		}
}

static void desired_compute(const struct inv_spec *spec, struct desired *d)
{
	struct dc_node nodes[N_PORTS][2];

	*d = (struct desired){ .hq = spec->hostnqn };
	walk(spec, true, nodes);
	walk_subsystems(spec, true, nodes, d);
	walk(spec, false, nodes);
	walk_subsystems(spec, false, nodes, d);
}

/* Desired, or an I/O path an on_removed: keep endpoint may keep though no log lists it now. */
static bool allowed(const struct desired *d, const struct key *k)
{
	return k->hq == d->hq && (d->may[key_index(k)] || (!k->dc && (d->keep_subs[k->ht] & (1u << k->sub))));
}

/* ---------------------------------------------------------------------- */
/* the daemon's status */

struct spath {
	struct key k;
	bool known;    /* an identity of this world */
	char state[16];
	int ctrl;      /* its controller's number, or -1 */
};

#define MAX_SPATHS 128

static size_t status_read(struct manager *m, unsigned hq, struct spath *v)
{
	struct json_object *st = manager_status_json(m), *paths = json_object_object_get(st, "paths");
	size_t n = 0;

	for (size_t i = 0; i < json_object_array_length(paths) && n < MAX_SPATHS; i++) {
		struct json_object *o = json_object_array_get_idx(paths, i);
		const char *ctrl = json_object_get_string(json_object_object_get(o, "controller"));

		v[n].known = key_of(streq(json_object_get_string(json_object_object_get(o, "kind")), "discovery"),
				    json_object_get_string(json_object_object_get(o, "traddr")),
				    json_object_get_string(json_object_object_get(o, "subsysnqn")),
				    json_object_get_string(json_object_object_get(o, "host_traddr")), (int)hq, &v[n].k);
		snprintf(v[n].state, sizeof(v[n].state), "%s", json_object_get_string(json_object_object_get(o, "state")));
		v[n].ctrl = ctrl ? ctrl_number(ctrl) : -1;
		n++;
	}
	json_object_put(st);
	return n;
}

static bool same_place(const struct key *a, const struct key *b)
{
	return a->dc == b->dc && a->port == b->port && a->ht == b->ht && (a->dc || a->sub == b->sub);
}

static bool active(const struct spath *v)
{
	return !streq(v->state, "disconnecting") && !streq(v->state, "removed");
}

/* ---------------------------------------------------------------------- */
/* events */

enum ev_type {
	EV_PORT_DOWN,
	EV_PORT_UP,
	EV_UNEXPORT,
	EV_EXPORT,
	EV_RESET,   /* a port goes down, its subsystem B toggled meanwhile, and comes back at once */
	EV_REFER,
	EV_VANISH,  /* a controller removed without an event */
	EV_FOREIGN, /* nvme-cli connects a path of ours first */
	EV_LOST,    /* uevents lost: nvmfd resynchronises, as on ENOBUFS */
	EV_AEN,     /* a log-change notification (or nvmfctl discover): the logs are read again */
	EV_SLOW,    /* calls to a port take a while, or no longer */
	EV_RELOAD,
	EV_KICK,
	EV_RESTART, /* manager_free without a stop, then a new one on the same sysfs tree */
	EV_CHECK,   /* the world stops changing: the eventual invariants must hold */
	_EV_TYPE_MAX,
};

struct ev {
	enum ev_type type;
	uint8_t a, b;         /* a port; a subsystem, the port referred to (N_PORTS: none), on or off */
	uint32_t r;           /* which one, where the world decides (a controller, an identity) */
	uint16_t run_ms;      /* how long the loop runs after it */
	struct inv_spec spec; /* EV_RELOAD */
};

struct seq {
	unsigned seed;
	struct inv_spec start;
	struct ev *v;
	size_t n;
};

static const unsigned ev_weights[_EV_TYPE_MAX] = {
	[EV_PORT_DOWN] = 7, [EV_PORT_UP] = 9, [EV_UNEXPORT] = 6, [EV_EXPORT] = 7, [EV_RESET] = 3, [EV_REFER] = 3,
	[EV_VANISH] = 5,    [EV_FOREIGN] = 5, [EV_LOST] = 4,     [EV_AEN] = 10,   [EV_SLOW] = 3,
	[EV_RELOAD] = 8,    [EV_KICK] = 4,    [EV_RESTART] = 2,  [EV_CHECK] = 0,
};
static const uint16_t run_choices[] = { 0, 0, 1, 2, 3, 5, 8, 12 };

/* The generator's idea of the world, so that what it toggles makes sense. */
struct gen {
	uint64_t rng;
	struct inv_spec spec;
	bool up[N_TARGET_PORTS];
	bool exported[N_TARGET_PORTS][N_SUBS];
};

static enum ev_type gen_type(struct gen *g)
{
	unsigned total = 0, x;

	for (unsigned t = 0; t < _EV_TYPE_MAX; t++)
		total += ev_weights[t];
	x = rng_below(&g->rng, total);
	for (unsigned t = 0; t < _EV_TYPE_MAX; t++) {
		if (x < ev_weights[t])
			return (enum ev_type)t;
		x -= ev_weights[t];
	}
	return EV_AEN;
}

/* A port (or subsystem) whose state is WANT, if there is one. */
static uint8_t gen_port(struct gen *g, bool want_up)
{
	unsigned p = rng_below(&g->rng, N_TARGET_PORTS);

	for (unsigned i = 0; i < N_TARGET_PORTS && g->up[p] != want_up; i++)
		p = (p + 1) % N_TARGET_PORTS;
	return (uint8_t)p;
}

static uint8_t gen_sub(struct gen *g, unsigned p, bool want_exported)
{
	unsigned s = rng_below(&g->rng, N_SUBS);

	for (unsigned i = 0; i < N_SUBS && g->exported[p][s] != want_exported; i++)
		s = (s + 1) % N_SUBS;
	return (uint8_t)s;
}

static struct ev gen_event(struct gen *g)
{
	struct ev e = { .type = gen_type(g), .r = (uint32_t)rng_next(&g->rng),
			.run_ms = run_choices[rng_below(&g->rng, ARRAY_SIZE(run_choices))] };

	switch (e.type) {
	case EV_PORT_DOWN:
	case EV_PORT_UP:
		e.a = gen_port(g, e.type == EV_PORT_DOWN);
		g->up[e.a] = e.type == EV_PORT_UP;
		break;
	case EV_UNEXPORT:
	case EV_EXPORT:
		e.a = (uint8_t)rng_below(&g->rng, N_TARGET_PORTS);
		e.b = gen_sub(g, e.a, e.type == EV_UNEXPORT);
		g->exported[e.a][e.b] = e.type == EV_EXPORT;
		break;
	case EV_RESET:
		e.a = gen_port(g, true);
		e.b = (uint8_t)rng_below(&g->rng, N_SUBS);
		g->exported[e.a][e.b] = !g->exported[e.a][e.b];
		break;
	case EV_REFER:
		e.a = (uint8_t)rng_below(&g->rng, N_TARGET_PORTS);
		e.b = rng_chance(&g->rng, 40) ? N_PORTS : (uint8_t)((e.a + 1 + rng_below(&g->rng, N_TARGET_PORTS - 1)) % N_TARGET_PORTS);
		break;
	case EV_SLOW:
		e.a = (uint8_t)rng_below(&g->rng, N_TARGET_PORTS);
		e.b = rng_chance(&g->rng, 50);
		break;
	case EV_RELOAD:
		spec_mutate(&g->rng, &g->spec);
		e.spec = g->spec;
		break;
	case EV_VANISH:
	case EV_FOREIGN:
	case EV_LOST:
	case EV_AEN:
	case EV_KICK:
	case EV_RESTART:
	case EV_CHECK:
	case _EV_TYPE_MAX:
		break;
	}
	return e;
}

static void seq_push(struct seq *s, size_t *cap, struct ev e)
{
	if (s->n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		s->v = realloc(s->v, *cap * sizeof(*s->v));
		assert_non_null(s->v);
	}
	s->v[s->n++] = e;
}

/* STEPS events from SEED, with a check every 20 to 70 of them, a last check, and a tail
 * of quick events the final manager_free cuts into. */
static void seq_generate(unsigned seed, size_t steps, struct seq *s)
{
	struct gen g = { .rng = seed };
	size_t cap = 0, done = 0, next_check = 20 + rng_below(&g.rng, 50);

	*s = (struct seq){ .seed = seed };
	world_init(seed); /* the world as it starts, for the generator to know */
	for (unsigned p = 0; p < N_TARGET_PORTS; p++) {
		g.up[p] = true;
		for (unsigned k = 0; k < N_SUBS; k++)
			g.exported[p][k] = w.port[p].exported[k];
	}
	g.spec.hostid = (uint8_t)rng_below(&g.rng, ARRAY_SIZE(hostids));
	for (unsigned want = 1 + rng_below(&g.rng, 3), tries = 0; (g.spec.n < want && tries < 50) || g.spec.n == 0; tries++)
		spec_add_ep(&g.rng, &g.spec);
	s->start = g.spec;
	while (done < steps) {
		if (done + 3 == steps || done == next_check) {
			seq_push(s, &cap, (struct ev){ .type = EV_CHECK });
			next_check = done + 20 + rng_below(&g.rng, 50);
		}
		struct ev e = gen_event(&g);

		if (done + 3 >= steps)
			e.run_ms = (uint16_t)rng_below(&g.rng, 3);
		seq_push(s, &cap, e);
		done++;
	}
}

static size_t seq_steps(const struct ev *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += v[i].type != EV_CHECK;
	return k;
}

static void ev_describe(const struct ev *e, char *buf, size_t size)
{
	char a[16], b[64], spec[768];

	port_addr(e->a, a);
	switch (e->type) {
	case EV_PORT_DOWN:
		snprintf(buf, size, "port %s goes down", a);
		break;
	case EV_PORT_UP:
		snprintf(buf, size, "port %s comes back", a);
		break;
	case EV_UNEXPORT:
		snprintf(buf, size, "s%u unexported from %s", e->b, a);
		break;
	case EV_EXPORT:
		snprintf(buf, size, "s%u exported on %s", e->b, a);
		break;
	case EV_RESET:
		snprintf(buf, size, "port %s resets, s%u toggled while it is down", a, e->b);
		break;
	case EV_REFER:
		snprintf(buf, size, "the log of %s refers to %s", a, e->b >= N_PORTS ? "nothing" : port_addr(e->b, b));
		break;
	case EV_VANISH:
		snprintf(buf, size, "a controller vanishes without an event (#%u)", e->r);
		break;
	case EV_FOREIGN:
		snprintf(buf, size, "nvme-cli connects a desired path first (#%u)", e->r);
		break;
	case EV_LOST:
		snprintf(buf, size, "uevents lost: resync");
		break;
	case EV_AEN:
		snprintf(buf, size, "log-change notification, or nvmfctl discover: rediscover");
		break;
	case EV_SLOW:
		snprintf(buf, size, "calls to %s %s", a, e->b ? "slow (15 ms)" : "quick again");
		break;
	case EV_RELOAD:
		spec_describe(&e->spec, spec, sizeof(spec));
		snprintf(buf, size, "reload: %s", spec);
		break;
	case EV_KICK:
		snprintf(buf, size, "kick (#%u)", e->r);
		break;
	case EV_RESTART:
		snprintf(buf, size, "restart: free, then a new manager on the same sysfs");
		break;
	case EV_CHECK:
		snprintf(buf, size, "check: the world stops changing");
		break;
	case _EV_TYPE_MAX:
		buf[0] = '\0';
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* the daemon's log, kept rather than printed: shown for a failure's shortest run */

#define LOG_LINES 4096

static char log_ring[LOG_LINES][400];
static size_t log_count;
static usec_t log_epoch;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void __wrap_log_full(int level, const struct log_ctx *ctx _unused_, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug" };
	char msg[360];
	va_list ap;
	usec_t t = now_usec() - log_epoch;

	if (level == LOG_DEBUG)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	snprintf(log_ring[log_count++ % LOG_LINES], sizeof(log_ring[0]), "[%4llu.%03llu] %s: %s",
		 (unsigned long long)(t / USEC_PER_SEC), (unsigned long long)(t % USEC_PER_SEC / 1000), names[level & 7], msg);
	pthread_mutex_unlock(&log_lock);
}

static void log_reset(void)
{
	pthread_mutex_lock(&log_lock);
	log_count = 0;
	log_epoch = now_usec();
	pthread_mutex_unlock(&log_lock);
}

/* The log of a failing run, kept while the shrinking runs others. */
static char log_kept[LOG_LINES][400];
static size_t log_kept_count;

static void log_keep(void)
{
	pthread_mutex_lock(&log_lock);
	memcpy(log_kept, log_ring, sizeof(log_kept));
	log_kept_count = log_count;
	pthread_mutex_unlock(&log_lock);
}

/* A retry that fails as the one before did says nothing new. */
static bool log_chatter(const char *line)
{
	return strstr(line, "-> connecting (retrying)") || strstr(line, "-> backoff (connect failed (attempt");
}

/* The last N lines of RING but for the chatter of retries. */
static void log_print_tail(char (*ring)[400], size_t count, size_t n)
{
	size_t from = count, shown = 0, skipped = 0, oldest = count > LOG_LINES ? count - LOG_LINES : 0;

	while (from > oldest && shown < n)
		shown += !log_chatter(ring[--from % LOG_LINES]);
	print_message("the daemon's last %zu log lines, retries that failed again left out:\n", shown);
	for (size_t i = from; i < count; i++) {
		if (log_chatter(ring[i % LOG_LINES])) {
			skipped++;
			continue;
		}
		if (skipped)
			print_message("  (%zu retries)\n", skipped);
		skipped = 0;
		print_message("  %s\n", ring[i % LOG_LINES]);
	}
}

/* ---------------------------------------------------------------------- */
/* a trial: one sequence in a fresh world */

struct disconnecting {
	int key, ctrl;
	usec_t since, lost; /* when it was first seen, and lost_time then */
};

struct trial {
	const struct seq *s;
	sd_event *loop;
	struct manager *m;
	struct inv_spec spec;  /* the inventory loaded now */
	bool hostnqn_moving;   /* a reload changed the host NQN: until a check, two paths may share all but it */
	struct disconnecting disc[MAX_SPATHS];
	size_t n_disc;
	enum inv_kind kind;
	char msg[1024];
	size_t at;             /* the event after which it failed */
	unsigned checks;
	usec_t longest_settle; /* from a check to all its invariants holding */
	char (*notes)[128];    /* what each event did, when asked */
};

/*
 * The bounds are on real time in which this process ran: on a loaded
 * machine (a lab's QEMU on every CPU) it may not run for a while, and a
 * loop iteration that overruns its timeout by more than STARVED_SLACK counts
 * the excess as lost, which the bounds then allow for (and the report says).
 */
#define STARVED_SLACK (3 * USEC_PER_MSEC)

static usec_t lost_time;

static void run_for(struct trial *t, unsigned ms)
{
	usec_t end = now_usec() + ms * USEC_PER_MSEC, timeout = ms ? USEC_PER_MSEC : 0;

	do {
		usec_t t0 = now_usec(), took;

		world_tick();
		sd_event_run(t->loop, timeout);
		took = now_usec() - t0;
		if (took > timeout + STARVED_SLACK)
			lost_time += took - timeout - STARVED_SLACK;
	} while (now_usec() < end);
}

/* Until the calls under way end, as a process's do before it exits (at most 5 s). */
static void wait_idle(void)
{
	for (int i = 0; i < 5000; i++) {
		int busy;

		pthread_mutex_lock(&lock);
		busy = fake_in_flight;
		pthread_mutex_unlock(&lock);
		if (!busy)
			return;
		usleep(1000);
	}
	fail_msg("a fake kernel call did not end in 5 s");
}

/* The manager's worker, as its jobs show it: only the loop thread submits. */
static struct worker *the_worker;

void __wrap_worker_submit(struct worker *wk, enum worker_lane lane, struct job *j)
{
	the_worker = wk;
	__real_worker_submit(wk, lane, j);
}

/*
 * Before a free: the calls that enter from now on fail at once, and the
 * lanes drain their queues (nothing new comes while the loop does not run);
 * their results wait for the loop, which the free then discards. A free
 * while a lane holds a job (inside the kernel, or about to enter it) leaves
 * the job to the lane, which finishes it and hands it to nobody once the
 * worker is gone: a leak (worker.c) that NVMFD_INVARIANT_FREE_IN_CALLS=1
 * shows, freeing without this wait.
 */
static void quiesce(void)
{
	if (getenv("NVMFD_INVARIANT_FREE_IN_CALLS"))
		return;
	pthread_mutex_lock(&lock);
	w.draining = true;
	pthread_mutex_unlock(&lock);
	for (int i = 0; the_worker && i < 10000; i++) {
		size_t busy = 0;

		for (int lane = 0; lane < _LANE_MAX; lane++)
			busy += worker_pending(the_worker, (enum worker_lane)lane);
		if (!busy)
			return;
		usleep(500);
	}
}

static void manager_end(struct trial *t)
{
	quiesce();
	manager_free(t->m);
	t->m = NULL;
	the_worker = NULL;
	wait_idle();
	pthread_mutex_lock(&lock);
	w.draining = false;
	pthread_mutex_unlock(&lock);
}

static void manager_begin(struct trial *t)
{
	struct host_identity id;
	struct inventory *inv = spec_load(&t->spec, &id);
	struct manager_options o = { .sysfs = sysfs, .audit_interval = 20 * USEC_PER_MSEC,
				     .stuck_after = 400 * USEC_PER_MSEC };

	assert_int_equal(manager_new(t->loop, inv, &inv->hosts[0], &id, &o, &t->m), 0);
	assert_int_equal(manager_start(t->m), 0);
}

static void trial_begin(struct trial *t, const struct seq *s)
{
	char (*notes)[128] = t->notes;

	*t = (struct trial){ .s = s, .spec = s->start, .notes = notes };
	assert_int_equal(fake_setup(), 0);
	world_init(s->seed);
	world_publish();
	fake_world = &world_hooks;
	log_reset();
	assert_int_equal(sd_event_new(&t->loop), 0);
	manager_begin(t);
}

/* The final manager_free comes in the middle of whatever the loop has under way. */
static void trial_end(struct trial *t)
{
	manager_end(t);
	sd_event_unref(t->loop);
	fake_world = NULL;
	fake_teardown();
	free(w.ctrl);
	w.ctrl = NULL;
	w.cap = 0;
}

static void restart(struct trial *t)
{
	manager_end(t);
	pthread_mutex_lock(&lock);
	w.gen++;
	for (int n = 0; n < next_ctrl; n++)
		if (ctrls[n].exists)
			w.ctrl[n].adopted = w.gen;
	pthread_mutex_unlock(&lock);
	t->n_disc = 0;
	manager_begin(t);
}

static void reload(struct trial *t, const struct inv_spec *spec)
{
	struct host_identity id;
	struct inventory *inv = spec_load(spec, &id);

	if (spec->hostnqn != t->spec.hostnqn)
		t->hostnqn_moving = true;
	t->spec = *spec;
	assert_int_equal(manager_reload(t->m, inv, &inv->hosts[0], &id), 0);
}

static void deliver_notify(struct trial *t)
{
	bool due;

	pthread_mutex_lock(&lock);
	due = w.notify;
	w.notify = false;
	pthread_mutex_unlock(&lock);
	if (due)
		manager_rediscover(t->m, NULL);
}

/* Under the lock: the R-th controller there is, or -1. */
static int nth_ctrl(uint32_t r)
{
	int count = 0;

	for (int n = 0; n < next_ctrl; n++)
		count += ctrls[n].exists;
	for (int n = 0, i = 0; count && n < next_ctrl; n++)
		if (ctrls[n].exists && i++ == (int)(r % (uint32_t)count))
			return n;
	return -1;
}

static void vanish(uint32_t r, char *note, size_t size)
{
	int n;
	struct key k;
	char name[128] = "?";

	pthread_mutex_lock(&lock);
	n = nth_ctrl(r);
	if (n >= 0) {
		if (ctrl_key(n, &k))
			key_name(&k, name, sizeof(name));
		snprintf(note, size, "nvme%d (%s) vanished", n, name);
		fake_ctrl_remove(n);
	}
	pthread_mutex_unlock(&lock);
}

/* nvme-cli connects a desired, reachable identity that has no controller, with the machine's host ID. */
static void foreign(struct trial *t, uint32_t r, char *note, size_t size)
{
	struct desired d;
	int cands[N_KEYS], n_cands = 0, n;
	struct ident id;
	char name[32], what[128];

	pthread_mutex_lock(&lock);
	desired_compute(&t->spec, &d);
	for (int i = 0; i < N_KEYS; i++) {
		struct key k = key_at(i);

		key_ident(&k, &id);
		if (d.may[i] && key_reachable(&k) && fake_ctrl_find(&id) < 0)
			cands[n_cands++] = i;
	}
	if (n_cands) {
		struct key k = key_at(cands[r % (uint32_t)n_cands]);

		key_ident(&k, &id);
		fake_ctrl_add(&id, MACHINE_HOSTID, &n, name);
		wctrl_make(n);
		w.ctrl[n].loss_tmo = 600 * LOSS_SCALE; /* nvme-cli's ctrl_loss_tmo */
		snprintf(note, size, "%s for %s", name, key_name(&k, what, sizeof(what)));
	}
	pthread_mutex_unlock(&lock);
}

static void kick(struct trial *t, uint32_t r, char *note, size_t size)
{
	char buf[64];
	const char *filter = NULL;

	if (r % 3 == 1)
		filter = port_addr(r / 3 % N_PORTS, buf);
	else if (r % 3 == 2)
		filter = sub_nqn(r / 3 % N_SUBS, buf);
	snprintf(note, size, "%u kicked (%s)", manager_kick(t->m, filter), filter ? filter : "all");
}

/* The world's side of an event, under the lock. */
static void world_event(const struct ev *e)
{
	struct wport *p = &w.port[e->a];
	struct key k;

	pthread_mutex_lock(&lock);
	switch (e->type) {
	case EV_PORT_DOWN:
		p->up = false;
		for (int n = 0; n < next_ctrl; n++)
			if (ctrl_key(n, &k) && k.port == e->a)
				ctrl_lose(n, false);
		break;
	case EV_PORT_UP:
		p->up = true; /* the kernel reconnects at its next tick */
		break;
	case EV_UNEXPORT:
		p->exported[e->b] = false;
		log_changed(e->a);
		for (int n = 0; n < next_ctrl; n++)
			if (ctrl_key(n, &k) && !k.dc && k.port == e->a && k.sub == e->b)
				ctrl_lose(n, w.dnr);
		break;
	case EV_EXPORT:
		p->exported[e->b] = true;
		log_changed(e->a);
		break;
	case EV_RESET:
		/* every association drops; the log changes with no discovery controller there to
		 * hear of it; the kernel reconnects at its next tick */
		for (int n = 0; n < next_ctrl; n++)
			if (ctrl_key(n, &k) && k.port == e->a)
				ctrl_lose(n, false);
		p->exported[e->b] = !p->exported[e->b];
		log_changed(e->a);
		break;
	case EV_REFER:
		p->refer = e->b >= N_PORTS || e->b == e->a ? -1 : e->b;
		log_changed(e->a);
		break;
	case EV_SLOW:
		p->slow = e->b;
		break;
	case EV_VANISH:
	case EV_FOREIGN:
	case EV_LOST:
	case EV_AEN:
	case EV_RELOAD:
	case EV_KICK:
	case EV_RESTART:
	case EV_CHECK:
	case _EV_TYPE_MAX:
		break;
	}
	pthread_mutex_unlock(&lock);
}

static void trial_event(struct trial *t, const struct ev *e, char *note, size_t size)
{
	note[0] = '\0';
	switch (e->type) {
	case EV_PORT_DOWN:
	case EV_PORT_UP:
	case EV_UNEXPORT:
	case EV_EXPORT:
	case EV_RESET:
	case EV_REFER:
	case EV_SLOW:
		world_event(e);
		break;
	case EV_VANISH:
		vanish(e->r, note, size);
		break;
	case EV_FOREIGN:
		foreign(t, e->r, note, size);
		break;
	case EV_LOST:
		manager_resync(t->m);
		break;
	case EV_AEN:
		pthread_mutex_lock(&lock);
		w.notify = false;
		pthread_mutex_unlock(&lock);
		snprintf(note, size, "%u reading", manager_rediscover(t->m, NULL));
		break;
	case EV_RELOAD:
		reload(t, &e->spec);
		break;
	case EV_KICK:
		kick(t, e->r, note, size);
		break;
	case EV_RESTART:
		restart(t);
		break;
	case EV_CHECK:
	case _EV_TYPE_MAX:
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* the invariants */

static enum inv_kind broken(struct trial *t, enum inv_kind kind, const char *fmt, ...) _printf_(3, 4);
static enum inv_kind broken(struct trial *t, enum inv_kind kind, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	return kind;
}

/* Under the lock: never two controllers of one identity. */
static enum inv_kind check_ctrls_unique(struct trial *t)
{
	int v[256], n = 0;

	for (int i = 0; i < next_ctrl && n < (int)ARRAY_SIZE(v); i++)
		if (ctrls[i].exists)
			v[n++] = i;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (ident_equal(&ctrls[v[i]].id, &ctrls[v[j]].id))
				return broken(t, INV_TWO_CTRLS, "nvme%d and nvme%d have one identity", v[i], v[j]);
	return INV_NONE;
}

/* Under the lock: a path names only a controller of its own identity; the daemon holds what it names. */
static enum inv_kind check_held(struct trial *t, const struct spath *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct key k;
		char a[128], b[128];

		if (v[i].ctrl < 0 || !v[i].known || !fake_ctrl_alive(v[i].ctrl) || !ctrl_key(v[i].ctrl, &k))
			continue;
		if (!same_place(&k, &v[i].k))
			return broken(t, INV_WRONG_CTRL, "the path of %s (%s) names nvme%d, which is %s",
				    key_name(&v[i].k, a, sizeof(a)), v[i].state, v[i].ctrl, key_name(&k, b, sizeof(b)));
		if (!streq(v[i].state, "removed"))
			w.ctrl[v[i].ctrl].known = w.gen;
	}
	return INV_NONE;
}

static enum inv_kind check_paths_unique(struct trial *t, const struct spath *v, size_t n, bool any_state)
{
	char name[128];

	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (v[i].known && v[j].known && key_index(&v[i].k) == key_index(&v[j].k) &&
			    (any_state ? !streq(v[i].state, "removed") && !streq(v[j].state, "removed")
				       : active(&v[i]) && active(&v[j])))
				return broken(t, INV_TWO_PATHS, "two paths of %s (%s, %s)", key_name(&v[i].k, name, sizeof(name)),
					    v[i].state, v[j].state);
	return INV_NONE;
}

/* No path stays disconnecting longer than DISCONNECTING_BOUND. */
static enum inv_kind check_disconnecting(struct trial *t, const struct spath *v, size_t n)
{
	struct disconnecting now[MAX_SPATHS];
	size_t k = 0;
	usec_t at = now_usec();
	char name[128];

	for (size_t i = 0; i < n; i++) {
		struct disconnecting d = { .key = v[i].known ? key_index(&v[i].k) : -1, .ctrl = v[i].ctrl, .since = at,
					   .lost = lost_time };

		if (!streq(v[i].state, "disconnecting"))
			continue;
		for (size_t j = 0; j < t->n_disc; j++)
			if (t->disc[j].key == d.key && t->disc[j].ctrl == d.ctrl)
				d = t->disc[j];
		if (at - d.since > DISCONNECTING_BOUND + (lost_time - d.lost))
			return broken(t, INV_DISCONNECTING,
				      "the path of %s has been disconnecting nvme%d for %llu ms (%llu ms of them with the test starved)",
				      key_name(&v[i].k, name, sizeof(name)), d.ctrl,
				      (unsigned long long)((at - d.since) / USEC_PER_MSEC),
				      (unsigned long long)((lost_time - d.lost) / USEC_PER_MSEC));
		now[k++] = d;
	}
	memcpy(t->disc, now, k * sizeof(*now));
	t->n_disc = k;
	return INV_NONE;
}

/* What holds at every instant. */
static enum inv_kind instant_check(struct trial *t)
{
	struct spath v[MAX_SPATHS];
	size_t n = status_read(t->m, t->spec.hostnqn, v);
	enum inv_kind k;

	pthread_mutex_lock(&lock);
	k = w.kind;
	if (k != INV_NONE)
		snprintf(t->msg, sizeof(t->msg), "%s", w.msg);
	if (k == INV_NONE)
		k = check_ctrls_unique(t);
	if (k == INV_NONE)
		k = check_held(t, v, n);
	pthread_mutex_unlock(&lock);
	if (k == INV_NONE && !t->hostnqn_moving)
		k = check_paths_unique(t, v, n, false);
	if (k == INV_NONE)
		k = check_disconnecting(t, v, n);
	return k;
}

/* Once settled: every path is desired or kept, none leaving. */
static enum inv_kind check_paths_allowed(struct trial *t, const struct desired *d, const struct spath *v, size_t n)
{
	char name[128];

	for (size_t i = 0; i < n; i++) {
		if (streq(v[i].state, "removed"))
			continue;
		if (!v[i].known || !allowed(d, &v[i].k))
			return broken(t, INV_UNDESIRED_PATH, "the daemon has a path (%s) for %s, neither desired nor kept",
				    v[i].state, v[i].known ? key_name(&v[i].k, name, sizeof(name)) : "an identity of no endpoint");
		if (streq(v[i].state, "disconnecting"))
			return broken(t, INV_DISCONNECTING, "the path of %s is still disconnecting", key_name(&v[i].k, name, sizeof(name)));
	}
	return check_paths_unique(t, v, n, true);
}

/* Once settled: no controller of ours for an identity neither desired nor kept. */
static enum inv_kind check_ctrls_allowed(struct trial *t, const struct desired *d)
{
	char name[128];

	for (int n = 0; n < next_ctrl; n++) {
		struct key k;

		if (!ctrls[n].exists || (w.ctrl[n].ours != w.gen && w.ctrl[n].known != w.gen) || !ctrl_key(n, &k))
			continue;
		if (!allowed(d, &k))
			return broken(t, INV_UNDESIRED_CTRL, "nvme%d, ours, is for %s: neither desired nor kept", n,
				    key_name(&k, name, sizeof(name)));
	}
	return INV_NONE;
}

static const struct spath *path_for(const struct spath *v, size_t n, const struct key *k)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].known && active(&v[i]) && key_index(&v[i].k) == key_index(k))
			return &v[i];
	return NULL;
}

/* Once settled: every desired path there, and live on a controller of its identity and host ID when reachable. */
static enum inv_kind check_desired_live(struct trial *t, const struct desired *d, const struct spath *v, size_t n)
{
	const char *want_hostid = t->spec.hostid ? hostids[t->spec.hostid] : MACHINE_HOSTID;
	char name[128];

	for (int i = 0; i < N_KEYS; i++) {
		struct key k = key_at(i);
		const struct spath *p = path_for(v, n, &k);
		struct ident id;

		if (!d->must[i])
			continue;
		key_name(&k, name, sizeof(name));
		if (!p)
			return broken(t, INV_MISSING, "%s is desired, and the daemon has no path for it", name);
		if (!key_reachable(&k))
			continue;
		key_ident(&k, &id);
		if (!streq(p->state, "live") || !fake_ctrl_alive(p->ctrl) || !ident_equal(&ctrls[p->ctrl].id, &id) ||
		    !w.ctrl[p->ctrl].live)
			return broken(t, INV_NOT_LIVE, "%s is desired and reachable, and its path is %s (controller %d%s)", name,
				    p->state, p->ctrl, p->ctrl >= 0 && !fake_ctrl_alive(p->ctrl) ? ", gone" : "");
		if (!streq(ctrls[p->ctrl].hostid, want_hostid))
			return broken(t, INV_HOSTID, "%s is live on nvme%d with host ID %s, not the inventory's %s", name,
				    p->ctrl, ctrls[p->ctrl].hostid, want_hostid);
	}
	return INV_NONE;
}

static enum inv_kind eventual_check(struct trial *t)
{
	struct spath v[MAX_SPATHS];
	size_t n = status_read(t->m, t->spec.hostnqn, v);
	struct desired d;
	enum inv_kind k;

	pthread_mutex_lock(&lock);
	desired_compute(&t->spec, &d);
	k = check_paths_allowed(t, &d, v, n);
	if (k == INV_NONE)
		k = check_ctrls_allowed(t, &d);
	if (k == INV_NONE)
		k = check_desired_live(t, &d, v, n);
	pthread_mutex_unlock(&lock);
	return k;
}

/* The world stops changing (but for the kernel's own work): the eventual invariants hold within
 * SETTLE_BOUND and go on holding for STABLE_FOR. */
static enum inv_kind settle(struct trial *t)
{
	usec_t start = now_usec(), held = 0, lost_before = lost_time;

	for (;;) {
		enum inv_kind k;
		usec_t now;

		deliver_notify(t);
		run_for(t, 5);
		k = instant_check(t);
		if (k != INV_NONE)
			return k;
		k = eventual_check(t);
		now = now_usec();
		if (k == INV_NONE && !held)
			held = now;
		else if (k == INV_NONE && now - held >= STABLE_FOR)
			break;
		else if (k != INV_NONE)
			held = 0;
		if (k != INV_NONE && now - start > SETTLE_BOUND + (lost_time - lost_before)) {
			snprintf(t->msg + strlen(t->msg), sizeof(t->msg) - strlen(t->msg),
				 " (%llu ms after the world stopped changing, %llu ms of them with the test starved)",
				 (unsigned long long)((now - start) / USEC_PER_MSEC),
				 (unsigned long long)((lost_time - lost_before) / USEC_PER_MSEC));
			return k;
		}
	}
	if (held - start > t->longest_settle)
		t->longest_settle = held - start;
	t->hostnqn_moving = false;
	t->checks++;
	return INV_NONE;
}

/* Run S in a fresh world; the first invariant broken, or INV_NONE. */
static enum inv_kind trial_run(const struct seq *s, struct trial *t)
{
	enum inv_kind k = INV_NONE;
	char note[128];

	trial_begin(t, s);
	for (size_t i = 0; i < s->n && k == INV_NONE; i++) {
		trial_event(t, &s->v[i], note, sizeof(note));
		if (t->notes)
			snprintf(t->notes[i], sizeof(t->notes[i]), "%s", note);
		run_for(t, s->v[i].run_ms);
		k = instant_check(t);
		if (k == INV_NONE && s->v[i].type == EV_CHECK)
			k = settle(t);
		t->at = i;
	}
	trial_end(t);
	/* a connect the last moments saw, after the free */
	if (k == INV_NONE && w.kind != INV_NONE) {
		k = w.kind;
		snprintf(t->msg, sizeof(t->msg), "%s", w.msg);
	}
	t->kind = k;
	return k;
}

/* ---------------------------------------------------------------------- */
/* the shortest sequence that still shows a failure */

static bool reproduces(const struct seq *base, struct ev *v, size_t n, enum inv_kind kind, size_t *at)
{
	struct seq s = *base;
	struct trial t = { 0 };

	s.v = v;
	s.n = n;
	if (trial_run(&s, &t) != kind)
		return false;
	*at = t.at;
	return true;
}

/* Try CAND (M events): when it still breaks KIND, it replaces V (up to its own failure). */
static bool shrink_try(const struct seq *base, struct ev *v, size_t *n, struct ev *cand, size_t m, enum inv_kind kind,
		       unsigned *tries)
{
	size_t at;

	(*tries)++;
	if (!reproduces(base, cand, m, kind, &at))
		return false;
	*n = at + 1;
	memmove(v, cand, *n * sizeof(*v));
	return true;
}

/* The cheap cuts first: every check but the last, then all but a suffix (most failures need
 * only the last few events). */
static void shrink_coarse(const struct seq *base, struct ev *v, size_t *n, struct ev *cand, enum inv_kind kind,
			  unsigned *tries)
{
	size_t m = 0;

	for (size_t i = 0; i < *n; i++)
		if (v[i].type != EV_CHECK || i + 1 == *n)
			cand[m++] = v[i];
	if (m < *n)
		shrink_try(base, v, n, cand, m, kind, tries);
	for (size_t k = 4; k < *n; k *= 2) {
		memcpy(cand, v + *n - k, k * sizeof(*v));
		if (shrink_try(base, v, n, cand, k, kind, tries))
			break;
	}
}

/*
 * Delta debugging (Zeller's ddmin, complements only), after the coarse cuts:
 * the events of V up to the failure are cut into chunks; a sequence without
 * one chunk that still breaks the same invariant is kept, and the chunks
 * grow finer when none can go. Returns the length left in V.
 */
static size_t shrink(const struct seq *base, struct ev *v, size_t n, enum inv_kind kind, unsigned *tries)
{
	_cleanup_free_ struct ev *cand = calloc(n ? n : 1, sizeof(*cand));
	usec_t deadline = now_usec() + SHRINK_BUDGET;
	size_t chunks = 2;

	assert_non_null(cand);
	shrink_coarse(base, v, &n, cand, kind, tries);
	while (n > 0 && now_usec() < deadline) {
		size_t len = (n + chunks - 1) / chunks;
		bool reduced = false;

		for (size_t c = 0; c < chunks && !reduced && c * len < n && now_usec() < deadline; c++) {
			size_t m = 0;

			for (size_t i = 0; i < n; i++)
				if (i < c * len || i >= (c + 1) * len)
					cand[m++] = v[i];
			reduced = shrink_try(base, v, &n, cand, m, kind, tries);
		}
		if (reduced)
			chunks = chunks > 2 ? chunks - 1 : 2;
		else if (chunks >= n)
			break;
		else
			chunks = chunks * 2 < n ? chunks * 2 : n;
	}
	return n;
}

/* One event a line: what it was, how long the loop ran after it, and what it did. */
static void print_sequence(const struct seq *s, const struct trial *t)
{
	char line[1024], spec[768];

	spec_describe(&s->start, spec, sizeof(spec));
	print_message("    start: %s\n", spec);
	for (size_t i = 0; i < s->n; i++) {
		const char *note = t->notes ? t->notes[i] : "";

		ev_describe(&s->v[i], line, sizeof(line));
		print_message("  %3zu. %s; %u ms%s%s%s\n", i + 1, line, s->v[i].run_ms, note[0] ? " [" : "", note,
			      note[0] ? "]" : "");
	}
}

/* FULL broke KIND after event AT: shrink it, then show the shortest sequence, from a run
 * that shows it again (with what each event did, and the daemon's log). */
static void report(const struct seq *full, size_t at, enum inv_kind kind, const char *msg)
{
	struct seq s = *full;
	struct trial t = { 0 };
	unsigned tries = 0;
	bool again = false;
	size_t n = at + 1, ignored;
	_cleanup_free_ struct ev *v = calloc(n, sizeof(*v));
	_cleanup_free_ char (*notes)[128] = NULL;

	assert_non_null(v);
	memcpy(v, full->v, n * sizeof(*v));
	log_keep();
	print_message("seed %u: invariant %s broken after step %zu: %s\nshrinking ...\n", full->seed,
		      inv_kind_names[kind], seq_steps(full->v, n), msg);
	for (int i = 0; i < 3 && !again; i++)
		again = reproduces(full, v, n, kind, &ignored);
	if (again)
		n = shrink(full, v, n, kind, &tries);
	s.v = v;
	s.n = n;
	notes = calloc(n ? n : 1, sizeof(*notes));
	assert_non_null(notes);
	for (int i = 0; i < 3 && t.kind != kind; i++) {
		t = (struct trial){ .notes = notes };
		trial_run(&s, &t);
	}
	print_message("seed %u, invariant %s: %s\n", full->seed, inv_kind_names[kind], t.kind == kind ? t.msg : msg);
	print_message("the shortest sequence found, %zu events of %zu (%u tries%s):\n", n, at + 1, tries,
		      !again ? "; the first failure did not show again: not shrunk"
		      : t.kind == kind ? "" : "; its last runs did not show it again (timing)");
	print_sequence(&s, &t);
	if (t.kind == kind)
		log_print_tail(log_ring, log_count, 150);
	else
		log_print_tail(log_kept, log_kept_count, 150); /* the first failing run's */
}

/* ---------------------------------------------------------------------- */

static unsigned env_unsigned(const char *name, unsigned dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || !*s)
		return dflt;
	v = strtoul(s, &end, 10);
	if (*end)
		fail_msg("%s=%s is no number", name, s);
	return (unsigned)v;
}

static void invariants_test_hold_over_random_sequences(void **state _unused_)
{
	unsigned one = env_unsigned("NVMFD_INVARIANT_SEED", 0), steps = env_unsigned("NVMFD_INVARIANT_STEPS", DEFAULT_STEPS);
	const unsigned *seeds = one ? &one : default_seeds;
	size_t n_seeds = one ? 1 : ARRAY_SIZE(default_seeds), total = 0;
	usec_t begun = now_usec();

	for (size_t i = 0; i < n_seeds; i++) {
		struct seq s;
		struct trial t = { 0 };
		usec_t t0 = now_usec();

		seq_generate(seeds[i], steps, &s);
		if (trial_run(&s, &t) != INV_NONE) {
			report(&s, t.at, t.kind, t.msg);
			free(s.v);
			fail_msg("seed %u: invariant %s broken (NVMFD_INVARIANT_SEED=%u replays it)", seeds[i],
				 inv_kind_names[t.kind], seeds[i]);
		}
		total += seq_steps(s.v, s.n);
		print_message("seed %u: %zu steps, %u checks (the longest settled in %llu ms), %.1f s; the fake kernel: "
			      "%d connects, %d disconnects, %d log reads\n", seeds[i], seq_steps(s.v, s.n), t.checks,
			      (unsigned long long)(t.longest_settle / USEC_PER_MSEC), (double)(now_usec() - t0) / USEC_PER_SEC,
			      n_connects, n_disconnects, n_log_reads);
		free(s.v);
	}
	print_message("%zu steps in %.1f s\n", total, (double)(now_usec() - begun) / USEC_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(invariants_test_hold_over_random_sequences),
	};

	return cmocka_run_group_tests_name("invariants", tests, NULL, NULL);
}
