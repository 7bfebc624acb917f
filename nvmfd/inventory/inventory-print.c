/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The normalised inventory entry, printed as YAML that loads again to the
 * same entry: defaults applied, target references expanded to endpoints,
 * allowed hosts as NQNs. `nvmetcfg show` prints the live configfs tree with
 * the same function.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inventory.h"
#include "base/macro.h"

/*
 * The next character of S, a UTF-8 sequence of *len bytes; -1 for a byte
 * that starts none (text from a live configfs tree may hold any bytes).
 */
static long utf8_next(const unsigned char *s, size_t *len)
{
	static const long min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	long c;

	*len = 1;
	if (!n)
		return -1;
	c = n == 1 ? s[0] : s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*len = n;
	return c;
}

/* What YAML reads as itself in a quoted or plain scalar: printable, and no
 * line break (NEL, LS and PS are line breaks to YAML, U+FEFF a byte order mark). */
static bool yaml_printable(long c)
{
	return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff && c != 0x2028 && c != 0x2029) ||
	       (c >= 0xe000 && c <= 0xfffd && c != 0xfeff) || (c >= 0x10000 && c <= 0x10ffff);
}

/* Whether S reads back as the same string when written plain. */
static bool plain_safe(const char *s)
{
	static const char *const words[] = { "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n" };

	if (!*s || isspace((unsigned char)s[0]) || strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return false;
	if (isspace((unsigned char)s[strlen(s) - 1]))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return false;
	for (const char *c = s; *c;) {
		size_t len;

		if (!yaml_printable(utf8_next((const unsigned char *)c, &len)))
			return false;
		if (*c == '"' || *c == '\\' || *c == '#' || *c == '\'')
			return false;
		if (*c == ':' && (c[1] == ' ' || c[1] == '\0'))
			return false;
		if (strchr(",[]{}", *c))
			return false;
		c += len;
	}
	/* What reads as a number would be read back as one by other YAML tools. */
	if (isdigit((unsigned char)s[0]) || s[0] == '.' || s[0] == '+') {
		char *end;

		strtod(s, &end);
		if (!*end)
			return false;
		strtoll(s, &end, 0);
		if (!*end)
			return false;
	}
	return true;
}

/*
 * S with YAML's double-quoted escapes for what is not printable: what loads
 * again to S. A byte that is no UTF-8 (only a live tree has them) cannot be
 * written in YAML at all: it goes as \xXX, the character of that value.
 */
static void put_escaped(FILE *f, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c;) {
		size_t len;
		long u = utf8_next(c, &len);

		if (u == '"' || u == '\\')
			fprintf(f, "\\%c", (int)u);
		else if (u == '\n')
			fputs("\\n", f);
		else if (u == '\t')
			fputs("\\t", f);
		else if (u < 0)
			fprintf(f, "\\x%02x", *c);
		else if (yaml_printable(u))
			fwrite(c, 1, len, f);
		else if (u <= 0xff)
			fprintf(f, "\\x%02lx", (unsigned long)u);
		else if (u <= 0xffff)
			fprintf(f, "\\u%04lx", (unsigned long)u);
		else
			fprintf(f, "\\U%08lx", (unsigned long)u);
		c += len;
	}
}

static void put_str(FILE *f, const char *s)
{
	if (plain_safe(s)) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	put_escaped(f, s);
	fputc('"', f);
}

/* A comment holds one line: what would end it is escaped. */
static void put_comment_text(FILE *f, const char *s)
{
	put_escaped(f, strempty(s));
}

/* A port number as written in decimal, plain; anything else (from a live tree) quoted. */
static void put_number_text(FILE *f, const char *s)
{
	if (*s && strspn(s, "0123456789") == strlen(s))
		fputs(s, f);
	else
		put_str(f, s);
}

static void put_kv(FILE *f, int indent, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(f, "%*s%s: ", indent, "", key);
	put_str(f, value);
	fputc('\n', f);
}

static void put_trsvcid(FILE *f, int indent, const char *trsvcid)
{
	if (!trsvcid)
		return;
	fprintf(f, "%*strsvcid: ", indent, "");
	put_number_text(f, trsvcid);
	fputc('\n', f);
}

static void put_list(FILE *f, int indent, const char *key, const char *const *v, size_t n)
{
	fprintf(f, "%*s%s: [", indent, "", key);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", f);
		put_str(f, v[i]);
	}
	fputs("]\n", f);
}

static void put_seconds(FILE *f, int indent, const char *key, int secs, const char *word)
{
	char buf[DURATION_MAX];

	if (secs < 0)
		fprintf(f, "%*s%s: %s\n", indent, "", key, word);
	else
		fprintf(f, "%*s%s: %s\n", indent, "", key, duration_format((usec_t)secs * USEC_PER_SEC, buf));
}

static void print_endpoint(FILE *f, const struct inv_endpoint *e)
{
	char a[DURATION_MAX], b[DURATION_MAX];

	if (e->target) {
		fputs("      # target ", f);
		put_comment_text(f, e->target);
		fprintf(f, ", port %u (line %u)\n", e->target_port, e->loc.line);
	} else
		fprintf(f, "      # line %u\n", e->loc.line);
	fprintf(f, "      - transport: %s\n", transport_to_string(e->transport));
	fprintf(f, "        adrfam: %s\n", adrfam_to_string(e->adrfam));
	put_kv(f, 8, "traddr", e->traddr);
	put_trsvcid(f, 8, e->trsvcid);
	put_kv(f, 8, "host_traddr", e->host_traddr);
	put_kv(f, 8, "host_iface", e->host_iface);
	if (e->n_subsystems)
		put_list(f, 8, "subsystems", e->subsystems, e->n_subsystems);
	else
		fputs("        # subsystems: every one the discovery log lists\n", f);
	put_kv(f, 8, "dhchap_key", e->dhchap_key);
	put_kv(f, 8, "dhchap_ctrl_key", e->dhchap_ctrl_key);
	fprintf(f, "        nr_io_queues: %d%s\n", e->fabrics.nr_io_queues,
		e->fabrics.nr_io_queues ? "" : "  # one per CPU");
	fprintf(f, "        queue_size: %d\n", e->fabrics.queue_size);
	put_seconds(f, 8, "keep_alive_tmo", e->fabrics.keep_alive_tmo, NULL);
	put_seconds(f, 8, "reconnect_delay", e->fabrics.reconnect_delay, NULL);
	put_seconds(f, 8, "ctrl_loss_tmo", e->fabrics.ctrl_loss_tmo, "forever");
	put_seconds(f, 8, "fast_io_fail_tmo", e->fabrics.fast_io_fail_tmo, "off");
	fprintf(f, "        backoff: {initial: %s, max: %s, jitter: %u%%}\n", duration_format(e->backoff.initial, a),
		duration_format(e->backoff.max, b), e->backoff.jitter_pct);
	fprintf(f, "        on_removed: %s\n", on_removed_to_string(e->on_removed));
	put_kv(f, 8, "iopolicy", e->iopolicy);
}

static void print_host_entry(FILE *f, const struct inv_host *h)
{
	fputs("  - name: ", f);
	put_str(f, h->name);
	fputc('\n', f);
	if (h->hostnqn)
		put_kv(f, 4, "hostnqn", h->hostnqn);
	else
		fputs("    # hostnqn: read from /etc/nvme/hostnqn at start\n", f);
	if (h->hostid)
		put_kv(f, 4, "hostid", h->hostid);
	else
		fputs("    # hostid: read from /etc/nvme/hostid at start\n", f);
	put_list(f, 4, "modules", h->modules, h->n_modules);
	fputs("    connect:\n", f);
	for (size_t i = 0; i < h->n_endpoints; i++)
		print_endpoint(f, &h->endpoints[i]);
	if (!h->n_endpoints)
		fputs("      []\n", f);
}

static void print_target_entry(FILE *f, const struct inv_target *t)
{
	fputs("  - name: ", f);
	put_str(f, t->name);
	fputc('\n', f);
	put_list(f, 4, "modules", t->modules, t->n_modules);
	if (t->null_blk.set)
		fprintf(f, "    null_blk: {nr_devices: %u, gb: %u}\n", t->null_blk.nr_devices, t->null_blk.gb);
	fprintf(f, "    subsystems:%s\n", t->n_subsystems ? "" : " []");
	for (size_t i = 0; i < t->n_subsystems; i++) {
		const struct inv_subsystem *s = &t->subsystems[i];

		fputs("      - nqn: ", f);
		put_str(f, s->nqn);
		fputc('\n', f);
		put_kv(f, 8, "serial", s->serial);
		fprintf(f, "        allow_any_host: %s\n", s->allow_any_host ? "true" : "false");
		if (s->n_allowed_hosts || !s->allow_any_host)
			fprintf(f, "        allowed_hosts:%s\n", s->n_allowed_hosts ? "" : " []");
		for (size_t a = 0; a < s->n_allowed_hosts; a++) {
			const struct inv_allowed_host *ah = &s->allowed_hosts[a];

			fputs("          - host: ", f);
			put_str(f, ah->nqn ? ah->nqn : ah->host);
			if (ah->nqn && ah->host && !streq(ah->host, ah->nqn)) {
				fputs("  # ", f);
				put_comment_text(f, ah->host);
			}
			fputc('\n', f);
			put_kv(f, 12, "dhchap_key", ah->dhchap_key);
			put_kv(f, 12, "dhchap_ctrl_key", ah->dhchap_ctrl_key);
			put_kv(f, 12, "dhchap_hash", ah->dhchap_hash);
			put_kv(f, 12, "dhchap_dhgroup", ah->dhchap_dhgroup);
		}
		fprintf(f, "        namespaces:%s\n", s->n_namespaces ? "" : " []");
		for (size_t n = 0; n < s->n_namespaces; n++) {
			const struct inv_namespace *ns = &s->namespaces[n];

			fprintf(f, "          - nsid: %u\n", ns->nsid);
			put_kv(f, 12, "device_path", ns->device_path);
			put_kv(f, 12, "uuid", ns->uuid);
			put_kv(f, 12, "nguid", ns->nguid);
			fprintf(f, "            enabled: %s\n", ns->enabled ? "true" : "false");
		}
	}
	fprintf(f, "    ports:%s\n", t->n_ports ? "" : " []");
	for (size_t i = 0; i < t->n_ports; i++) {
		const struct inv_port *p = &t->ports[i];

		fprintf(f, "      - id: %u\n", p->id);
		fprintf(f, "        transport: %s\n", transport_to_string(p->transport));
		fprintf(f, "        adrfam: %s\n", adrfam_to_string(p->adrfam));
		put_kv(f, 8, "traddr", p->traddr);
		put_trsvcid(f, 8, p->trsvcid);
		put_list(f, 8, "subsystems", p->subsystems, p->n_subsystems);
		if (p->n_referrals)
			fputs("        referrals:\n", f);
		for (size_t r = 0; r < p->n_referrals; r++) {
			const struct inv_referral *ref = &p->referrals[r];

			fputs("          - name: ", f);
			put_str(f, ref->name);
			fputc('\n', f);
			fprintf(f, "            transport: %s\n", transport_to_string(ref->transport));
			fprintf(f, "            adrfam: %s\n", adrfam_to_string(ref->adrfam));
			put_kv(f, 12, "traddr", ref->traddr);
			put_trsvcid(f, 12, ref->trsvcid);
			fprintf(f, "            portid: %u\n", ref->portid);
		}
	}
}

void inventory_print_host(FILE *f, const struct inventory *inv, const struct inv_host *h)
{
	fputs("# host ", f);
	put_comment_text(f, h->name);
	fputs(" of ", f);
	put_comment_text(f, inv->path);
	fputs(", normalised: defaults applied, targets resolved\n", f);
	fputs("hosts:\n", f);
	print_host_entry(f, h);
}

void inventory_print_target(FILE *f, const struct inv_target *t)
{
	fputs("targets:\n", f);
	print_target_entry(f, t);
}

void inventory_print(FILE *f, const struct inventory *inv)
{
	fputs("# ", f);
	put_comment_text(f, inv->path);
	fputs(", normalised: defaults applied, targets resolved\n", f);
	fprintf(f, "targets:%s\n", inv->n_targets ? "" : " []");
	for (size_t i = 0; i < inv->n_targets; i++)
		print_target_entry(f, &inv->targets[i]);
	fprintf(f, "hosts:%s\n", inv->n_hosts ? "" : " []");
	for (size_t i = 0; i < inv->n_hosts; i++)
		print_host_entry(f, &inv->hosts[i]);
}
