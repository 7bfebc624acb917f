/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kernel/modules.h"

#include <errno.h>
#include <libkmod.h>
#include <string.h>

#include "base/macro.h"

static void kmod_ctx_unrefp(struct kmod_ctx **c)
{
	kmod_unref(*c);
}

static void kmod_list_freep(struct kmod_list **l)
{
	kmod_module_unref_list(*l);
}

/* Whether M is in the running kernel: loaded and live, or built in. */
static bool live_or_builtin(struct kmod_module *m)
{
	int state = kmod_module_get_initstate(m);

	return state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN;
}

/* The same for NAME, a module's own name (no alias resolution). */
static bool name_live_or_builtin(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *m = NULL;
	bool r;

	if (kmod_module_new_from_name(ctx, name, &m) < 0)
		return false;
	r = live_or_builtin(m);
	kmod_module_unref(m);
	return r;
}

static int load_one(struct kmod_ctx *ctx, const char *name, const char *options, const char *who,
		    struct diags *diags)
{
	_cleanup_(kmod_list_freep) struct kmod_list *list = NULL;
	struct kmod_list *it;
	int r;

	r = kmod_module_new_from_lookup(ctx, name, &list);
	if (r < 0) {
		diags_add(diags, DIAG_ERROR, who, 0, 0, "module %s: lookup failed: %s", name, strerror(-r));
		return r;
	}
	if (!list) {
		/* Built into the kernel, or not there at all. */
		if (name_live_or_builtin(ctx, name))
			return 0;
		diags_add(diags, DIAG_ERROR, who, 0, 0, "module %s: not found for this kernel", name);
		return -ENOENT;
	}
	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, options, NULL, NULL, NULL);
		if (r == KMOD_PROBE_APPLY_BLACKLIST) {
			diags_add(diags, DIAG_ERROR, who, 0, 0, "module %s: blacklisted on this machine", name);
			r = -EPERM;
		} else if (r < 0) {
			diags_add(diags, DIAG_ERROR, who, 0, 0, "module %s: %s", name, strerror(-r));
		}
		kmod_module_unref(m);
		if (r < 0)
			return r;
	}
	return 0;
}

int modules_load(const char *const *names, const char *const *options, size_t n, const char *who,
		 struct diags *diags)
{
	_cleanup_(kmod_ctx_unrefp) struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	int r = 0, k;

	if (!ctx) {
		diags_add(diags, DIAG_ERROR, who, 0, 0, "cannot set up libkmod");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if ((k = load_one(ctx, names[i], options ? options[i] : NULL, who, diags)) < 0 && r == 0)
			r = k;
	return r;
}

static void add_once(const char **names, size_t *n, size_t max, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (streq(names[i], name))
			return;
	if (*n < max)
		names[(*n)++] = name;
}

size_t modules_for_host(const struct inv_host *h, const char **names, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < h->n_endpoints; i++)
		n = modules_for_endpoint(h, &h->endpoints[i], names, n, max);
	return h->n_endpoints ? n : modules_for_endpoint(h, NULL, names, 0, max);
}

size_t modules_for_endpoint(const struct inv_host *h, const struct inv_endpoint *e, const char **names, size_t n,
			    size_t max)
{
	for (size_t i = 0; i < h->n_modules; i++)
		add_once(names, &n, max, h->modules[i]);
	add_once(names, &n, max, "nvme-fabrics");
	if (e)
		add_once(names, &n, max, e->transport == TRANSPORT_RDMA ? "nvme-rdma" : "nvme-tcp");
	return n;
}

int modules_loaded(const char *name)
{
	_cleanup_(kmod_ctx_unrefp) struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	_cleanup_(kmod_list_freep) struct kmod_list *list = NULL;
	struct kmod_list *it;

	if (!ctx)
		return -ENOMEM;
	/* an alias (nvme-rdma) names its module (nvme_rdma) */
	if (kmod_module_new_from_lookup(ctx, name, &list) == 0 && list) {
		kmod_list_foreach(it, list) {
			struct kmod_module *m = kmod_module_get_module(it);
			bool up = live_or_builtin(m);

			kmod_module_unref(m);
			if (!up)
				return 0;
		}
		return 1;
	}
	return name_live_or_builtin(ctx, name);
}
