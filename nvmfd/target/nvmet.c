/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "target/nvmet.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "base/arena.h"
#include "base/macro.h"
#include "target/identity.h"

#define CONFIGFS_MAGIC 0x62656570

void nvmet_tree_free(struct nvmet_tree *t)
{
	free(t->objs);
	arena_free(t->arena);
	*t = (struct nvmet_tree){ 0 };
}

void nvmet_plan_free(struct nvmet_plan *p)
{
	free(p->v);
	arena_free(p->arena);
	*p = (struct nvmet_plan){ 0 };
}

_printf_(2, 3) static const char *fmt(struct arena *a, const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	const char *r;

	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return NULL;
	r = arena_strdup(a, s);
	free(s);
	return r;
}

static struct nvmet_obj *tree_add(struct nvmet_tree *t, enum nvmet_kind kind, const char *path, const char *link,
				  const char *parent)
{
	if (!path)
		return NULL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct nvmet_obj *v = realloc(t->objs, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->objs = v;
		t->cap = cap;
	}
	t->objs[t->n] = (struct nvmet_obj){ .kind = kind, .path = path, .link = link, .parent = parent };
	return &t->objs[t->n++];
}

/* Attributes are few per object: a fixed room of 16 each. */
#define MAX_ATTRS 16

static int obj_set(struct nvmet_tree *t, struct nvmet_obj *o, const char *name, const char *value,
		   const char *secret_from)
{
	if (!o || !value)
		return -ENOMEM;
	if (!o->attrs && !(o->attrs = arena_alloc_array(t->arena, MAX_ATTRS, sizeof(*o->attrs))))
		return -ENOMEM;
	if (o->n_attrs == MAX_ATTRS)
		return -E2BIG;
	o->attrs[o->n_attrs++] = (struct nvmet_attr){ .name = name, .value = value, .secret_from = secret_from };
	return 0;
}

static const struct nvmet_obj *tree_find(const struct nvmet_tree *t, const char *path, const bool *gone)
{
	for (size_t i = 0; i < t->n; i++)
		if (streq(t->objs[i].path, path) && !(gone && gone[i]))
			return &t->objs[i];
	return NULL;
}

static const char *attr_get(const struct nvmet_obj *o, const char *name)
{
	for (size_t i = 0; o && i < o->n_attrs; i++)
		if (streq(o->attrs[i].name, name))
			return o->attrs[i].value;
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* desired */

static int read_key(const struct inventory *inv, const char *path, struct inv_loc loc, struct diags *diags,
		    struct arena *a, const char **ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char buf[512];
	size_t n;

	if (!f) {
		int r = -errno;

		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column, "key file %s: %s", path, strerror(-r));
		return r;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (strncmp(buf, "DHHC-1:", 7) != 0) {
		diags_add(diags, DIAG_ERROR, inv->path, loc.line, loc.column,
			  "key file %s does not hold a DH-HMAC-CHAP key (DHHC-1:..., as `nvme gen-dhchap-key` makes)", path);
		return -EINVAL;
	}
	*ret = arena_strdup(a, buf);
	return *ret ? 0 : -ENOMEM;
}

/* The attribute just set on O is a derived identity. */
static int obj_set_derived(struct nvmet_tree *t, struct nvmet_obj *o, const char *name, const char *value)
{
	int r = obj_set(t, o, name, arena_strdup(t->arena, value), NULL);

	if (r == 0)
		o->attrs[o->n_attrs - 1].derived = true;
	return r;
}

static int derive_serial(struct nvmet_tree *t, struct nvmet_obj *o, const char *nqn)
{
	char serial[NVMET_SERIAL_LEN];
	int r = nvmet_derive_serial(nqn, serial);

	return r < 0 ? r : obj_set_derived(t, o, "attr_serial", serial);
}

/* Namespace NS's UUID and NGUID, the inventory's or derived. */
static int derive_ns_ids(struct nvmet_tree *t, struct nvmet_obj *x, const char *nqn, const struct inv_namespace *ns)
{
	char uuid[NVMET_ID_LEN], nguid[NVMET_ID_LEN];
	int r = nvmet_derive_ns_ids(nqn, ns->nsid, uuid, nguid);

	if (r < 0)
		return r;
	r = ns->uuid ? obj_set(t, x, "device_uuid", ns->uuid, NULL) : obj_set_derived(t, x, "device_uuid", uuid);
	if (r == 0)
		r = ns->nguid ? obj_set(t, x, "device_nguid", ns->nguid, NULL) : obj_set_derived(t, x, "device_nguid", nguid);
	return r;
}

/* One host object per NQN, whatever the subsystems allowing it, with its
 * keys. A key that cannot be read sets *R (and is said in DIAGS); no key is
 * read after one failed. Returns -ENOMEM or 0. */
static int tree_hosts(struct nvmet_tree *t, const struct inventory *inv, const struct inv_target *tg,
		      struct diags *diags, int *r)
{
	for (size_t s = 0; s < tg->n_subsystems; s++)
		for (size_t a = 0; a < tg->subsystems[s].n_allowed_hosts; a++) {
			const struct inv_allowed_host *ah = &tg->subsystems[s].allowed_hosts[a];
			const char *path = fmt(t->arena, "hosts/%s", ah->nqn);
			struct nvmet_obj *o;
			const char *key;

			if (!ah->nqn || tree_find(t, path, NULL))
				continue;
			o = tree_add(t, NVMET_HOST, path, NULL, NULL);
			if (!o)
				return -ENOMEM;
			if (ah->dhchap_key && *r == 0) {
				if ((*r = read_key(inv, ah->dhchap_key, ah->loc, diags, t->arena, &key)) < 0)
					continue;
				obj_set(t, o, "dhchap_key", key, ah->dhchap_key);
			}
			if (ah->dhchap_ctrl_key && *r == 0) {
				if ((*r = read_key(inv, ah->dhchap_ctrl_key, ah->loc, diags, t->arena, &key)) < 0)
					continue;
				obj_set(t, o, "dhchap_ctrl_key", key, ah->dhchap_ctrl_key);
			}
			if (ah->dhchap_hash)
				obj_set(t, o, "dhchap_hash", ah->dhchap_hash, NULL);
			if (ah->dhchap_dhgroup)
				obj_set(t, o, "dhchap_dhgroup", ah->dhchap_dhgroup, NULL);
		}
	return 0;
}

/* A subsystem with its serial, namespaces (each with its identity) and
 * allowed hosts. */
static int tree_subsystem(struct nvmet_tree *t, const struct inv_subsystem *sub)
{
	const char *spath = fmt(t->arena, "subsystems/%s", sub->nqn);
	struct nvmet_obj *o = tree_add(t, NVMET_SUBSYSTEM, spath, NULL, NULL);

	if (!o || obj_set(t, o, "attr_allow_any_host", sub->allow_any_host ? "1" : "0", NULL) < 0)
		return -ENOMEM;
	if (sub->serial ? obj_set(t, o, "attr_serial", sub->serial, NULL) < 0 : derive_serial(t, o, sub->nqn) < 0)
		return -ENOMEM;
	for (size_t n = 0; n < sub->n_namespaces; n++) {
		const struct inv_namespace *ns = &sub->namespaces[n];
		struct nvmet_obj *x = tree_add(t, NVMET_NAMESPACE, fmt(t->arena, "%s/namespaces/%u", spath, ns->nsid),
					       NULL, spath);

		/* the identity before the namespace is enabled: the kernel takes it only then */
		if (!x || obj_set(t, x, "device_path", ns->device_path, NULL) < 0 ||
		    derive_ns_ids(t, x, sub->nqn, ns) < 0)
			return -ENOMEM;
		if (obj_set(t, x, "enable", ns->enabled ? "1" : "0", NULL) < 0)
			return -ENOMEM;
	}
	for (size_t a = 0; a < sub->n_allowed_hosts; a++) {
		const char *nqn = sub->allowed_hosts[a].nqn;

		if (nqn && !tree_add(t, NVMET_ALLOWED_HOST, fmt(t->arena, "%s/allowed_hosts/%s", spath, nqn),
				     fmt(t->arena, "hosts/%s", nqn), spath))
			return -ENOMEM;
	}
	return 0;
}

/* The address attributes a port and a referral share. */
static int set_addr(struct nvmet_tree *t, struct nvmet_obj *o, enum transport transport, enum adrfam adrfam,
		    const char *traddr, const char *trsvcid)
{
	if (obj_set(t, o, "addr_trtype", transport_to_string(transport), NULL) < 0 ||
	    obj_set(t, o, "addr_adrfam", adrfam_to_string(adrfam), NULL) < 0 ||
	    obj_set(t, o, "addr_traddr", traddr, NULL) < 0 || obj_set(t, o, "addr_trsvcid", trsvcid, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* A port with its referrals and the links to its subsystems. */
static int tree_port(struct nvmet_tree *t, const struct inv_port *p)
{
	const char *ppath = fmt(t->arena, "ports/%u", p->id);
	struct nvmet_obj *o = tree_add(t, NVMET_PORT, ppath, NULL, NULL);

	if (!o || set_addr(t, o, p->transport, p->adrfam, p->traddr, p->trsvcid) < 0)
		return -ENOMEM;
	for (size_t k = 0; k < p->n_referrals; k++) {
		const struct inv_referral *ref = &p->referrals[k];
		struct nvmet_obj *x = tree_add(t, NVMET_REFERRAL, fmt(t->arena, "%s/referrals/%s", ppath, ref->name),
					       NULL, ppath);

		if (!x || set_addr(t, x, ref->transport, ref->adrfam, ref->traddr, ref->trsvcid) < 0 ||
		    obj_set(t, x, "addr_portid", fmt(t->arena, "%u", ref->portid), NULL) < 0 ||
		    obj_set(t, x, "enable", "1", NULL) < 0)
			return -ENOMEM;
	}
	for (size_t k = 0; k < p->n_subsystems; k++)
		if (!tree_add(t, NVMET_PORT_SUBSYSTEM, fmt(t->arena, "%s/subsystems/%s", ppath, p->subsystems[k]),
			      fmt(t->arena, "subsystems/%s", p->subsystems[k]), ppath))
			return -ENOMEM;
	return 0;
}

int nvmet_tree_from_target(const struct inventory *inv, const struct inv_target *tg, struct diags *diags,
			   struct nvmet_tree *ret)
{
	struct nvmet_tree t = { .arena = arena_new() };
	int r = 0, oom = 0;

	if (!t.arena)
		return -ENOMEM;
	if (inventory_check_target_keys(inv, tg, diags) < 0)
		r = -EINVAL;
	oom = tree_hosts(&t, inv, tg, diags, &r);
	for (size_t s = 0; s < tg->n_subsystems && !oom; s++)
		oom = tree_subsystem(&t, &tg->subsystems[s]);
	for (size_t i = 0; i < tg->n_ports && !oom; i++)
		oom = tree_port(&t, &tg->ports[i]);
	if (oom < 0 || r < 0) {
		nvmet_tree_free(&t);
		return oom < 0 ? oom : r;
	}
	*ret = t;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* live */

/* DIR/NAME into BUF; false when it does not fit. */
static bool path_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n >= 0 && (size_t)n < size;
}

struct reader {
	struct nvmet_tree *t;
	const char *root; /* ROOT/nvmet */
	struct diags *diags;
	int r;
};

static void read_error(struct reader *rd, const char *path, int err)
{
	diags_add(rd->diags, DIAG_ERROR, path, 0, 0, "%s", strerror(err));
	if (!rd->r)
		rd->r = -err;
}

/* Every readable regular file of DIR is an attribute (write-only ones are skipped). */
static void read_attrs(struct reader *rd, struct nvmet_obj *o, const char *dir)
{
	_cleanup_(closedirp) DIR *d = opendir(dir);
	struct dirent *de;

	if (!d) {
		read_error(rd, dir, errno);
		return;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX], buf[4096];
		struct stat st;
		ssize_t n;
		int fd;

		if (de->d_name[0] == '.' || !path_join(path, sizeof(path), dir, de->d_name) || lstat(path, &st) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n < 0)
			continue;
		buf[n] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		/* the kernel shows a serial number and a model padded with spaces to their field's width */
		if (streq(de->d_name, "attr_serial") || streq(de->d_name, "attr_model"))
			for (size_t len = strlen(buf); len && buf[len - 1] == ' ';)
				buf[--len] = '\0';
		if (obj_set(rd->t, o, arena_strdup(rd->t->arena, de->d_name), arena_strdup(rd->t->arena, buf), NULL) ==
		    -ENOMEM)
			rd->r = -ENOMEM;
	}
}

/* The entries of ROOT/nvmet/REL, directories or links, each as an object of KIND. */
static void read_dir(struct reader *rd, const char *rel, enum nvmet_kind kind, const char *parent,
		     void (*each)(struct reader *, const char *path))
{
	char dir[PATH_MAX];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;

	snprintf(dir, sizeof(dir), "%s/%s", rd->root, rel);
	d = opendir(dir);
	if (!d) {
		if (errno != ENOENT)
			read_error(rd, dir, errno);
		return;
	}
	while ((de = readdir(d))) {
		const char *path;
		char full[PATH_MAX];
		struct stat st;
		struct nvmet_obj *o;
		bool is_link = kind == NVMET_ALLOWED_HOST || kind == NVMET_PORT_SUBSYSTEM;

		if (de->d_name[0] == '.' || !path_join(full, sizeof(full), dir, de->d_name))
			continue;
		if (lstat(full, &st) < 0 || (is_link ? !S_ISLNK(st.st_mode) : !S_ISDIR(st.st_mode)))
			continue;
		path = fmt(rd->t->arena, "%s/%s", rel, de->d_name);
		o = tree_add(rd->t, kind, path,
			     is_link ? fmt(rd->t->arena, "%s/%s", kind == NVMET_ALLOWED_HOST ? "hosts" : "subsystems",
					   de->d_name)
				     : NULL,
			     parent);
		if (!o) {
			rd->r = -ENOMEM;
			return;
		}
		if (!is_link)
			read_attrs(rd, o, full);
		if (each)
			each(rd, path);
	}
}

static void read_subsystem(struct reader *rd, const char *path)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/namespaces", path);
	read_dir(rd, rel, NVMET_NAMESPACE, path, NULL);
	snprintf(rel, sizeof(rel), "%s/allowed_hosts", path);
	read_dir(rd, rel, NVMET_ALLOWED_HOST, path, NULL);
}

static void read_port(struct reader *rd, const char *path)
{
	char rel[PATH_MAX];

	snprintf(rel, sizeof(rel), "%s/referrals", path);
	read_dir(rd, rel, NVMET_REFERRAL, path, NULL);
	snprintf(rel, sizeof(rel), "%s/subsystems", path);
	read_dir(rd, rel, NVMET_PORT_SUBSYSTEM, path, NULL);
}

int nvmet_tree_read(const char *root, struct diags *diags, struct nvmet_tree *ret)
{
	struct nvmet_tree t = { .arena = arena_new() };
	char nvmet[PATH_MAX];
	struct reader rd = { .t = &t, .root = nvmet, .diags = diags };
	struct stat st;

	if (!t.arena)
		return -ENOMEM;
	snprintf(nvmet, sizeof(nvmet), "%s/nvmet", root);
	if (stat(nvmet, &st) < 0) {
		int r = -errno;

		nvmet_tree_free(&t);
		return r;
	}
	read_dir(&rd, "hosts", NVMET_HOST, NULL, NULL);
	read_dir(&rd, "subsystems", NVMET_SUBSYSTEM, NULL, read_subsystem);
	read_dir(&rd, "ports", NVMET_PORT, NULL, read_port);
	if (rd.r < 0) {
		nvmet_tree_free(&t);
		return rd.r;
	}
	*ret = t;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* plan */

static int plan_add(struct nvmet_plan *p, enum nvmet_op op, char sign, const char *path, const char *value,
		    const char *old, const char *secret_from, const char *why)
{
	if (!path)
		return -ENOMEM;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct nvmet_action *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->v = v;
		p->cap = cap;
	}
	/* The plan owns its strings: it may outlive the trees it was made from. */
	struct nvmet_action *a = &p->v[p->n];

	*a = (struct nvmet_action){ op, sign, arena_strdup(p->arena, path), arena_strdup(p->arena, value),
				    arena_strdup(p->arena, old), arena_strdup(p->arena, secret_from),
				    arena_strdup(p->arena, why) };
	if (!a->path || (value && !a->value) || (old && !a->old) || (secret_from && !a->secret_from) ||
	    (why && !a->why))
		return -ENOMEM;
	p->n++;
	return 0;
}

/* Live values as the kernel prints them; uuids compare without case. */
static bool attr_equal(const char *name, const char *live, const char *want)
{
	if (!live)
		return false;
	if (streq(name, "device_uuid") || streq(name, "device_nguid"))
		return strcasecmp(live, want) == 0;
	return streq(live, want);
}

/* The attribute that must be off while others change: "enable" for namespaces and referrals. */
static const char *gate_of(enum nvmet_kind k)
{
	return k == NVMET_NAMESPACE || k == NVMET_REFERRAL ? "enable" : NULL;
}

static int plan_changes(struct nvmet_plan *p, const struct nvmet_tree *live, bool *gone, const struct nvmet_obj *want,
			const struct nvmet_obj *have)
{
	const char *gate = gate_of(want->kind), *first = NULL;
	bool live_on = gate && streq_ptr(attr_get(have, gate), "1");
	/* no host holds a namespace that is not enabled: its identity is still to be set */
	bool settled = !gate || live_on;
	int r = 0;

	/* The first attribute that differs, gates aside. */
	for (size_t i = 0; i < want->n_attrs && !first; i++) {
		const struct nvmet_attr *a = &want->attrs[i];

		if (!(gate && streq(a->name, gate)) && !(a->derived && settled) &&
		    !attr_equal(a->name, attr_get(have, a->name), a->value))
			first = a->name;
	}
	if (first && live_on) {
		r = plan_add(p, NVMET_WRITE, '~', fmt(p->arena, "%s/%s", want->path, gate), "0", "1", NULL,
			     fmt(p->arena, "to change %s", first));
		live_on = false;
	}
	/* The kernel refuses a new address on an enabled port: unlink its
	 * subsystems first; the link stage puts the wanted ones back. */
	if (first && want->kind == NVMET_PORT)
		for (size_t i = 0; i < live->n; i++) {
			const struct nvmet_obj *l = &live->objs[i];

			if (l->kind != NVMET_PORT_SUBSYSTEM || gone[i] || !streq_ptr(l->parent, want->path))
				continue;
			r = r ?: plan_add(p, NVMET_UNLINK, '-', l->path, NULL, NULL, NULL,
					  fmt(p->arena, "to change %s", first));
			gone[i] = true;
		}
	for (size_t i = 0; i < want->n_attrs; i++) {
		const struct nvmet_attr *a = &want->attrs[i];
		const char *old = attr_get(have, a->name);

		if (gate && streq(a->name, gate)) {
			if (streq(a->value, "1") != live_on)
				r = r ?: plan_add(p, NVMET_WRITE, '~', fmt(p->arena, "%s/%s", want->path, gate), a->value,
						  live_on ? "1" : "0", NULL, NULL);
		} else if (a->derived && settled) {
			/* A live identity is the one hosts know: changing it would
			 * make them drop the namespace. Only the inventory changes it. */
			if (old && !attr_equal(a->name, old, a->value)) {
				r = r ?: plan_add(p, NVMET_NOTE, '!', fmt(p->arena, "%s/%s", want->path, a->name), a->value, old,
						  NULL, "kept: the inventory gives none; hosts drop a namespace whose identity changes");
				p->n_notes += r == 0;
			}
		} else if (!attr_equal(a->name, old, a->value)) {
			r = r ?: plan_add(p, NVMET_WRITE, old ? '~' : '+', fmt(p->arena, "%s/%s", want->path, a->name),
					  a->value, old, a->secret_from, NULL);
		}
	}
	return r;
}

int nvmet_plan_make(const struct nvmet_tree *live, const struct nvmet_tree *desired, struct nvmet_plan *ret)
{
	struct nvmet_plan p = { .arena = arena_new() };
	_cleanup_free_ bool *gone = calloc(live->n + 1, sizeof(bool));
	int r = 0;

	if (!p.arena || !gone) {
		arena_free(p.arena);
		return -ENOMEM;
	}
	/* removals, deepest kinds first */
	for (int k = _NVMET_KIND_MAX - 1; k >= 0; k--)
		for (size_t i = 0; i < live->n; i++) {
			const struct nvmet_obj *l = &live->objs[i];

			if ((int)l->kind != k || tree_find(desired, l->path, NULL))
				continue;
			r = r ?: plan_add(&p, l->link ? NVMET_UNLINK : NVMET_RMDIR, '-', l->path, NULL, NULL, NULL, NULL);
			gone[i] = true;
		}
	/* creations and changes, in creation order */
	for (int k = 0; k < _NVMET_KIND_MAX; k++)
		for (size_t i = 0; i < desired->n; i++) {
			const struct nvmet_obj *w = &desired->objs[i];
			const struct nvmet_obj *have;

			if ((int)w->kind != k)
				continue;
			have = tree_find(live, w->path, gone);
			if (w->link) {
				if (!have)
					r = r ?: plan_add(&p, NVMET_SYMLINK, '+', w->path, w->link, NULL, NULL, NULL);
				continue;
			}
			if (!have) {
				r = r ?: plan_add(&p, NVMET_MKDIR, '+', w->path, NULL, NULL, NULL, NULL);
				for (size_t a = 0; a < w->n_attrs; a++)
					r = r ?: plan_add(&p, NVMET_WRITE, '+', fmt(p.arena, "%s/%s", w->path, w->attrs[a].name),
							  w->attrs[a].value, NULL, w->attrs[a].secret_from, NULL);
				continue;
			}
			r = r ?: plan_changes(&p, live, gone, w, have);
		}
	if (r < 0) {
		nvmet_plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

bool nvmet_tree_has_rdma_port(const struct nvmet_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->objs[i].kind == NVMET_PORT && streq_ptr(attr_get(&t->objs[i], "addr_trtype"), "rdma"))
			return true;
	return false;
}

/* Whether PLAN does anything to PORT ("ports/1") or under it. */
static bool plan_touches(const struct nvmet_plan *plan, const char *port)
{
	size_t len = strlen(port);

	for (size_t i = 0; plan && i < plan->n; i++)
		if (strncmp(plan->v[i].path, port, len) == 0 && (plan->v[i].path[len] == '/' || !plan->v[i].path[len]))
			return true;
	return false;
}

int nvmet_plan_relisten(const struct nvmet_tree *live, const struct nvmet_plan *skip, nvmet_listen_check_t check,
			struct nvmet_plan *plan, struct nvmet_port_check **ret, size_t *n)
{
	_cleanup_free_ struct nvmet_port_check *v = NULL;
	size_t count = 0;
	int r = 0;

	*ret = NULL;
	*n = 0;
	if (!plan->arena && !(plan->arena = arena_new()))
		return -ENOMEM;
	for (size_t i = 0; i < live->n && r == 0; i++) {
		const struct nvmet_obj *port = &live->objs[i];
		struct nvmet_port_check *c;
		const char *why;

		if (port->kind != NVMET_PORT || !streq_ptr(attr_get(port, "addr_trtype"), "rdma") ||
		    plan_touches(skip, port->path))
			continue;
		if (!v && !(v = calloc(live->n, sizeof(*v))))
			return -ENOMEM;
		c = &v[count];
		*c = (struct nvmet_port_check){ .port = port->path, .traddr = strempty(attr_get(port, "addr_traddr")),
						.trsvcid = strempty(attr_get(port, "addr_trsvcid")) };
		for (size_t j = 0; j < live->n; j++)
			c->n_subsystems += live->objs[j].kind == NVMET_PORT_SUBSYSTEM && streq_ptr(live->objs[j].parent, port->path);
		if (c->n_subsystems == 0)
			continue; /* not enabled: nothing should listen */
		count++;
		c->held = check(c->traddr, c->trsvcid);
		if (c->held != 0)
			continue;
		why = fmt(plan->arena, "to listen again: nothing listens on rdma %s:%s", c->traddr, c->trsvcid);
		for (size_t j = 0; j < live->n && r == 0; j++)
			if (live->objs[j].kind == NVMET_PORT_SUBSYSTEM && streq_ptr(live->objs[j].parent, port->path))
				r = plan_add(plan, NVMET_UNLINK, '-', live->objs[j].path, NULL, NULL, NULL, why);
		for (size_t j = 0; j < live->n && r == 0; j++)
			if (live->objs[j].kind == NVMET_PORT_SUBSYSTEM && streq_ptr(live->objs[j].parent, port->path))
				r = plan_add(plan, NVMET_SYMLINK, '+', live->objs[j].path, live->objs[j].link, NULL, NULL, why);
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(v);
	*n = count;
	return 0;
}

void nvmet_plan_print(FILE *f, const struct nvmet_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct nvmet_action *a = &p->v[i];

		switch (a->op) {
		case NVMET_MKDIR:
		case NVMET_RMDIR:
		case NVMET_UNLINK:
			fprintf(f, "%c %s", a->sign, a->path);
			break;
		case NVMET_SYMLINK:
			fprintf(f, "%c %s -> %s", a->sign, a->path, a->value);
			break;
		case NVMET_NOTE:
			fprintf(f, "%c %s: %s (derived %s)", a->sign, a->path, a->old, a->value);
			break;
		case NVMET_WRITE:
			if (a->secret_from)
				fprintf(f, "%c %s = (the key in %s)", a->sign, a->path, a->secret_from);
			else if (a->old)
				fprintf(f, "%c %s: %s -> %s", a->sign, a->path, a->old, a->value);
			else
				fprintf(f, "%c %s = %s", a->sign, a->path, a->value);
			break;
		}
		if (a->why)
			fprintf(f, " (%s)", a->why);
		fputc('\n', f);
	}
}

/* ---------------------------------------------------------------------- */
/* apply */

/* What the kernel most likely meant by ERR for this action. */
static const char *likely_cause(const struct nvmet_action *a, int err)
{
	const char *base = strrchr(a->path, '/');

	base = base ? base + 1 : a->path;
	switch (a->op) {
	case NVMET_WRITE:
		if (strncmp(base, "dhchap_", 7) == 0 && err == ENOENT)
			return "this kernel's nvmet has no NVMe in-band authentication (CONFIG_NVME_TARGET_AUTH: Debian's 6.1 kernel lacks it, 6.12 has it)";
		if (streq(base, "enable") && strstr(a->path, "/namespaces/"))
			return "the kernel cannot open the namespace's device_path: does the device exist (null_blk loaded with enough nr_devices)? A file is opened with O_DIRECT, which tmpfs refuses";
		if (streq(base, "device_path") && err == EBUSY)
			return "the namespace is enabled; it must be disabled first";
		if (strncmp(base, "addr_", 5) == 0 && err == EACCES)
			return "the port is enabled (subsystems are linked to it); they must be unlinked first";
		if (streq(base, "attr_allow_any_host") && err == EINVAL)
			return "the subsystem has allowed hosts linked; allow_any_host cannot be set with them";
		if (streq(base, "attr_serial") && err == EINVAL)
			return "a host has identified the subsystem already; the kernel keeps its serial number from then on";
		return NULL;
	case NVMET_SYMLINK:
		if (strncmp(a->path, "ports/", 6) == 0)
			return "the kernel cannot enable the port: is its address configured on this machine, its RDMA device up, nvmet-<transport> loaded, and no other port on the same address?";
		if (err == ENOENT)
			return "the link's target is missing";
		return NULL;
	case NVMET_MKDIR:
		if (err == ENOENT)
			return "its parent is missing: is nvmet loaded and configfs mounted at the root?";
		if (err == EEXIST)
			return "it exists already: the live tree changed while the plan was made";
		return NULL;
	case NVMET_RMDIR:
	case NVMET_UNLINK:
		if (err == EBUSY || err == ENOTEMPTY)
			return "it is still in use";
		return NULL;
	case NVMET_NOTE:
		return NULL;
	}
	return NULL;
}

static int write_attr(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);
	struct statfs sfs;
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	/* A plain file standing in for configfs (tests) keeps no stale tail. */
	if (fstatfs(fd, &sfs) == 0 && sfs.f_type != CONFIGFS_MAGIC && ftruncate(fd, (off_t)len) < 0)
		return -errno;
	return 0;
}

int nvmet_plan_apply(const char *root, const struct nvmet_plan *p, bool keep_going, struct diags *diags)
{
	int first = 0;

	for (size_t i = 0; i < p->n; i++) {
		const struct nvmet_action *a = &p->v[i];
		char path[PATH_MAX], target[PATH_MAX];
		const char *what = "", *cause;
		int r = 0;

		snprintf(path, sizeof(path), "%s/nvmet/%s", root, a->path);
		switch (a->op) {
		case NVMET_MKDIR:
			what = "mkdir";
			r = mkdir(path, 0755) < 0 ? -errno : 0;
			break;
		case NVMET_RMDIR:
			what = "rmdir";
			r = rmdir(path) < 0 ? -errno : 0;
			break;
		case NVMET_WRITE:
			what = "write";
			r = write_attr(path, a->value);
			break;
		case NVMET_SYMLINK:
			/* Absolute: configfs resolves a link's target from the
			 * caller's working directory, not from the link's. */
			what = "symlink";
			snprintf(target, sizeof(target), "%s/nvmet/%s", root, a->value);
			r = symlink(target, path) < 0 ? -errno : 0;
			break;
		case NVMET_UNLINK:
			what = "unlink";
			r = unlink(path) < 0 ? -errno : 0;
			break;
		case NVMET_NOTE:
			break;
		}
		if (r == 0)
			continue;
		cause = likely_cause(a, -r);
		if (a->op == NVMET_WRITE && !a->secret_from)
			diags_add(diags, DIAG_ERROR, path, 0, 0, "writing '%s': %s (%s)%s%s", a->value, strerror(-r),
				  strerrorname_np(-r) ?: "?", cause ? ": " : "", strempty(cause));
		else
			diags_add(diags, DIAG_ERROR, path, 0, 0, "%s: %s (%s)%s%s", what, strerror(-r),
				  strerrorname_np(-r) ?: "?", cause ? ": " : "", strempty(cause));
		if (!keep_going)
			return r;
		first = first ?: r;
	}
	return first;
}

/* ---------------------------------------------------------------------- */
/* show */

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* How many children of PARENT are of KIND. */
static size_t count_children(const struct nvmet_tree *t, const char *parent, enum nvmet_kind kind)
{
	size_t n = 0;

	for (size_t j = 0; j < t->n; j++)
		n += t->objs[j].kind == kind && streq_ptr(t->objs[j].parent, parent);
	return n;
}

/* An allowed host as show prints it: keys stay in the kernel, so only the
 * names of no secret, and those only where a key is set. */
static void show_allowed_host(const struct nvmet_tree *t, const struct nvmet_obj *c, struct inv_allowed_host *ah)
{
	const struct nvmet_obj *host = tree_find(t, c->link, NULL);
	const char *key = attr_get(host, "dhchap_key");

	ah->host = ah->nqn = base_name(c->path);
	if (key && *key) {
		ah->dhchap_hash = attr_get(host, "dhchap_hash");
		ah->dhchap_dhgroup = attr_get(host, "dhchap_dhgroup");
	}
}

static void show_namespace(const struct nvmet_obj *c, struct inv_namespace *ns)
{
	ns->nsid = (uint32_t)strtoul(base_name(c->path), NULL, 10);
	ns->device_path = attr_get(c, "device_path");
	ns->uuid = attr_get(c, "device_uuid");
	ns->nguid = attr_get(c, "device_nguid");
	ns->enabled = streq_ptr(attr_get(c, "enable"), "1");
	if (ns->device_path && !*ns->device_path)
		ns->device_path = NULL;
}

static int show_subsystem(const struct nvmet_tree *t, const struct nvmet_obj *o, struct arena *arena,
			  struct inv_subsystem *s)
{
	s->nqn = base_name(o->path);
	s->serial = attr_get(o, "attr_serial");
	s->allow_any_host = streq_ptr(attr_get(o, "attr_allow_any_host"), "1");
	/* each list as long as it is (one of the tree's length each was a
	 * square of the tree in all) */
	s->allowed_hosts = arena_alloc_array(arena, count_children(t, o->path, NVMET_ALLOWED_HOST) + 1,
					     sizeof(*s->allowed_hosts));
	s->namespaces = arena_alloc_array(arena, count_children(t, o->path, NVMET_NAMESPACE) + 1, sizeof(*s->namespaces));
	if (!s->allowed_hosts || !s->namespaces)
		return -ENOMEM;
	for (size_t j = 0; j < t->n; j++) {
		const struct nvmet_obj *c = &t->objs[j];

		if (!streq_ptr(c->parent, o->path))
			continue;
		if (c->kind == NVMET_ALLOWED_HOST)
			show_allowed_host(t, c, &s->allowed_hosts[s->n_allowed_hosts++]);
		else if (c->kind == NVMET_NAMESPACE)
			show_namespace(c, &s->namespaces[s->n_namespaces++]);
	}
	return 0;
}

/* Only what the inventory can describe (rdma, tcp over IP). */
static bool describable(const struct nvmet_obj *o)
{
	return transport_from_string(attr_get(o, "addr_trtype")) >= 0 && adrfam_from_string(attr_get(o, "addr_adrfam")) >= 0;
}

static void show_referral(const struct nvmet_obj *c, struct inv_referral *ref)
{
	ref->name = base_name(c->path);
	ref->transport = (enum transport)transport_from_string(attr_get(c, "addr_trtype"));
	ref->adrfam = (enum adrfam)adrfam_from_string(attr_get(c, "addr_adrfam"));
	ref->traddr = attr_get(c, "addr_traddr");
	ref->trsvcid = attr_get(c, "addr_trsvcid");
	ref->portid = (unsigned)strtoul(strempty(attr_get(c, "addr_portid")), NULL, 10);
}

static int show_port(const struct nvmet_tree *t, const struct nvmet_obj *o, struct arena *arena, struct inv_port *p)
{
	p->id = (unsigned)strtoul(base_name(o->path), NULL, 10);
	p->transport = (enum transport)transport_from_string(attr_get(o, "addr_trtype"));
	p->adrfam = (enum adrfam)adrfam_from_string(attr_get(o, "addr_adrfam"));
	p->traddr = attr_get(o, "addr_traddr");
	p->trsvcid = attr_get(o, "addr_trsvcid");
	p->subsystems = arena_alloc_array(arena, count_children(t, o->path, NVMET_PORT_SUBSYSTEM) + 1, sizeof(char *));
	p->referrals = arena_alloc_array(arena, count_children(t, o->path, NVMET_REFERRAL) + 1, sizeof(*p->referrals));
	if (!p->subsystems || !p->referrals)
		return -ENOMEM;
	for (size_t j = 0; j < t->n; j++) {
		const struct nvmet_obj *c = &t->objs[j];

		if (!streq_ptr(c->parent, o->path))
			continue;
		if (c->kind == NVMET_PORT_SUBSYSTEM)
			p->subsystems[p->n_subsystems++] = base_name(c->path);
		else if (c->kind == NVMET_REFERRAL && describable(c))
			show_referral(c, &p->referrals[p->n_referrals++]);
	}
	return 0;
}

int nvmet_tree_to_target(const struct nvmet_tree *t, const char *name, struct arena *arena, struct inv_target *ret)
{
	struct inv_target tg = { .name = name };
	size_t n_sub = 0, n_port = 0;

	for (size_t i = 0; i < t->n; i++) {
		n_sub += t->objs[i].kind == NVMET_SUBSYSTEM;
		n_port += t->objs[i].kind == NVMET_PORT;
	}
	tg.subsystems = arena_alloc_array(arena, n_sub + 1, sizeof(*tg.subsystems));
	tg.ports = arena_alloc_array(arena, n_port + 1, sizeof(*tg.ports));
	if (!tg.subsystems || !tg.ports)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		const struct nvmet_obj *o = &t->objs[i];

		if (o->kind == NVMET_SUBSYSTEM) {
			if (show_subsystem(t, o, arena, &tg.subsystems[tg.n_subsystems++]) < 0)
				return -ENOMEM;
		} else if (o->kind == NVMET_PORT && describable(o)) {
			if (show_port(t, o, arena, &tg.ports[tg.n_ports++]) < 0)
				return -ENOMEM;
		}
	}
	*ret = tg;
	return 0;
}
