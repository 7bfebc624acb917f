/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inventory loader and its normalised printer. Oracle: what the printer
 * prints for a loaded inventory loads again, without errors, to the same
 * normalised text; so does each host and target entry printed alone, as
 * `nvmfd --check-config` and `nvmetcfg check` print them. Comments are left
 * out of the comparison: they name lines of the file an entry came from.
 */
#include <stdbool.h>
#include <string.h>

#include "base/diag.h"
#include "base/macro.h"
#include "inventory/inventory.h"
#include "fuzz.h"

enum what {
	WHOLE,
	HOST,
	TARGET,
};

struct entry {
	enum what what;
	size_t i;
};

static char *print(const struct inventory *inv, struct entry e)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		abort();
	switch (e.what) {
	case WHOLE:
		inventory_print(f, inv);
		break;
	case HOST:
		inventory_print_host(f, inv, &inv->hosts[e.i]);
		break;
	case TARGET:
		inventory_print_target(f, &inv->targets[e.i]);
		break;
	}
	if (fclose(f) != 0)
		abort();
	return s;
}

/* Where a comment starts on a printed line: a '#' after a blank, outside quotes. */
static size_t comment_at(const char *line, size_t n)
{
	bool quoted = false;

	for (size_t i = 0; i < n; i++) {
		if (quoted && line[i] == '\\')
			i++;
		else if (line[i] == '"')
			quoted = !quoted;
		else if (!quoted && line[i] == '#' && (i == 0 || line[i - 1] == ' '))
			return i;
	}
	return n;
}

/* The text without its comments; a line that held only a comment goes. */
static void strip_comments(char *s)
{
	char *w = s;

	for (char *line = s; *line;) {
		size_t n = strcspn(line, "\n"), keep = comment_at(line, n);
		bool had_comment = keep < n;

		while (had_comment && keep > 0 && line[keep - 1] == ' ')
			keep--;
		if (keep > 0 || !had_comment) {
			memmove(w, line, keep);
			w += keep;
			if (line[n] == '\n')
				*w++ = '\n';
		}
		line += n + (line[n] == '\n');
	}
	*w = '\0';
}

static void fail_with(const char *why, const struct diags *d, const char *text, const char *again)
{
	fprintf(stderr, "%s\n--- printed:\n%s", why, text);
	if (again)
		fprintf(stderr, "--- printed again:\n%s", again);
	if (d)
		diags_print(d, stderr);
	fuzz_fail("the normalised inventory does not load to itself");
}

static void check_round_trip(const struct inventory *inv, struct entry e)
{
	_cleanup_free_ char *first = print(inv, e), *second = NULL;
	struct inventory *again = NULL;
	struct diags d = { 0 };

	if (inventory_load_string("normalised", first, strlen(first), &d, &again) < 0)
		fail_with("the printed text does not load", &d, first, NULL);
	if ((e.what == HOST && again->n_hosts != 1) || (e.what == TARGET && again->n_targets != 1))
		fail_with("a lone entry does not load to one entry", NULL, first, NULL);
	/* A lone entry is the first of the inventory it loads to. */
	second = print(again, (struct entry){ e.what, 0 });
	strip_comments(first);
	strip_comments(second);
	if (!streq(first, second))
		fail_with("the printed text loads to another inventory", NULL, first, second);
	inventory_free(again);
	diags_clear(&d);
}

static void check_lookups(const struct inventory *inv)
{
	struct diags d = { 0 };

	for (size_t i = 0; i < inv->n_hosts; i++) {
		const struct inv_host *h = NULL;

		if (inventory_pick_host(inv, inv->hosts[i].name, &d, &h) < 0 || h != &inv->hosts[i])
			fuzz_fail("host %zu is not found by its name", i);
	}
	for (size_t i = 0; i < inv->n_targets; i++)
		if (inventory_find_target(inv, inv->targets[i].name) != &inv->targets[i])
			fuzz_fail("target %zu is not found by its name", i);
	diags_clear(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inventory *inv = NULL;
	struct diags d = { 0 };
	int r = inventory_load_string("fuzz.yaml", (const char *)data, size, &d, &inv);

	if (r == 0) {
		check_lookups(inv);
		check_round_trip(inv, (struct entry){ WHOLE, 0 });
		for (size_t i = 0; i < inv->n_hosts; i++)
			check_round_trip(inv, (struct entry){ HOST, i });
		for (size_t i = 0; i < inv->n_targets; i++)
			check_round_trip(inv, (struct entry){ TARGET, i });
		inventory_free(inv);
	} else if (r != -EINVAL || d.n_errors == 0) {
		fuzz_fail("inventory_load_string: %s with %zu errors", strerror(-r), d.n_errors);
	}
	diags_clear(&d);
	return 0;
}
