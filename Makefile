# nvmfd: NVMe over Fabrics connection manager.
#
#   make            build nvmfd, nvmfctl, nvmetcfg into $(BUILDDIR)
#   make check      install missing packages, unit tests (ASan+UBSan), lab tests
#   make demo       the lab demo (QEMU guest on Debian's kernel)
#   make bench      the benchmarks in the lab: tests/bench/results/ (BENCH_ARGS=--quick for a trial)
#   make install    PREFIX=/usr/local DESTDIR=
#   make ASAN=1 UBSAN=1   sanitizer builds
#   make fuzz SECONDS=N   the libFuzzer harnesses (tests/fuzz/), N seconds each
#
# Everything but the main()s builds into one static library that the tests
# link. Dependencies come from pkg-config; `make deps` installs them.

BUILDDIR ?= build
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
# Where systemd and udev look (pkg-config), under PREFIX when they are not there.
SYSTEMDUNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)
UDEVDIR ?= $(or $(shell $(PKG_CONFIG) --variable=udevdir udev 2>/dev/null),$(PREFIX)/lib/udev)
BASHCOMPDIR ?= $(or $(shell $(PKG_CONFIG) --variable=completionsdir bash-completion 2>/dev/null),$(PREFIX)/share/bash-completion/completions)
DESTDIR ?=

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libnvme json-c libudev yaml-0.1 libkmod libsystemd libibverbs librdmacm libcrypto
TEST_PKGS := cmocka

WARN := -Wall -Wextra -Wformat=2 -Wswitch-enum -Wmissing-prototypes -Wstrict-prototypes \
	-Wshadow -Wpointer-arith -Wundef -Wvla -Werror
CFLAGS ?= -O2 -g
SAN :=
ifeq ($(ASAN),1)
SAN += -fsanitize=address -fno-omit-frame-pointer
endif
ifeq ($(UBSAN),1)
SAN += -fsanitize=undefined -fno-sanitize-recover=all
endif

# pkg-config runs only for targets that compile, so `make deps` works on a
# machine that has none of the packages yet.
pkg = $(if $(shell $(PKG_CONFIG) --exists $(2) && echo ok),$(shell $(PKG_CONFIG) --$(1) $(2)),$(error pkg-config cannot find $(2): run 'make deps' (or tests/deps build)))
PKG_CFLAGS = $(call pkg,cflags,$(PKGS))
PKG_LIBS = $(call pkg,libs,$(PKGS))
TEST_CFLAGS = $(call pkg,cflags,$(TEST_PKGS))
TEST_LIBS = $(call pkg,libs,$(TEST_PKGS))

ALL_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong \
	-fno-common -pthread -Invmfd $(PKG_CFLAGS) $(SAN) $(CFLAGS) \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'
ALL_LDFLAGS = -pthread -Wl,-z,relro -Wl,-z,now -Wl,--as-needed $(SAN) $(LDFLAGS)

# The layers, one folder each (README, Layout): core/ is pure and includes
# nothing from kernel/ or daemon/ (make check-layers).
LAYERS := base inventory core kernel daemon doctor target
MAINS := $(wildcard nvmfd/cmd/*.c)
PROGS := $(patsubst nvmfd/cmd/%.c,$(BUILDDIR)/%,$(MAINS))
LIB_SRCS := $(foreach l,$(LAYERS),$(wildcard nvmfd/$(l)/*.c))
LIB_OBJS := $(patsubst nvmfd/%.c,$(BUILDDIR)/obj/%.o,$(LIB_SRCS))
LIB := $(BUILDDIR)/libnvmfd.a
TEST_SRCS := $(wildcard tests/unit/test-*.c)
TESTS := $(patsubst tests/unit/%.c,$(BUILDDIR)/tests/%,$(TEST_SRCS))
# Drivers that lab scenarios run inside the guest, against the real kernel.
LAB_SRCS := $(wildcard tests/vm/lab-*.c)
LAB_PROGS := $(patsubst tests/vm/%.c,$(BUILDDIR)/lab/%,$(LAB_SRCS))

.PHONY: all deps check check-layers check-length unit-tests demo bench install uninstall clean
.PHONY: fuzz fuzz-build fuzz-seeds
.DELETE_ON_ERROR:

UNIT_INS := $(wildcard systemd/*.service.in)
UNITS := $(patsubst systemd/%.in,%,$(UNIT_INS))
RULES := $(patsubst udev/%.in,%,$(wildcard udev/*.rules.in))

all: $(PROGS) $(LIB) $(LAB_PROGS)

$(BUILDDIR)/obj/%.o: nvmfd/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILDDIR)/%: $(BUILDDIR)/obj/cmd/%.o $(LIB)
	$(CC) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)

$(BUILDDIR)/tests/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -Itests/unit -DTEST_SRCDIR='"$(CURDIR)"' -MMD -MP -c -o $@ $<

# Tests that emulate the kernel wrap libc calls at link time.
WRAP_test-nvmet := -Wl,--wrap=mkdir -Wl,--wrap=rmdir
WRAP_test-manager := -Wl,--wrap=calloc -Wl,--wrap=fabrics_connect -Wl,--wrap=fabrics_disconnect -Wl,--wrap=fabrics_read_discovery_log
WRAP_test-invariants := -Wl,--wrap=fabrics_connect -Wl,--wrap=fabrics_disconnect -Wl,--wrap=fabrics_read_discovery_log -Wl,--wrap=log_full -Wl,--wrap=worker_submit

$(BUILDDIR)/tests/%: $(BUILDDIR)/tests/%.o $(LIB)
	$(CC) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(WRAP_$*) $(PKG_LIBS) $(TEST_LIBS)

$(BUILDDIR)/lab/%.o: tests/vm/%.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILDDIR)/lab/%: $(BUILDDIR)/lab/%.o $(LIB)
	$(CC) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(PKG_LIBS)

unit-tests: $(TESTS)

# The pure core names no adapter and no loop owner: its tests run without a
# kernel, a loop or a clock.
check-layers:
	@bad=$$(grep -HnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(kernel|daemon|doctor|target|cmd)/' nvmfd/core/*.[ch]); \
	if [ -n "$$bad" ]; then echo "core/ includes an adapter or a loop owner:"; echo "$$bad"; exit 1; fi; \
	echo "layers: core/ includes nothing from kernel/, daemon/, doctor/, target/ or cmd/"

# No function over about 80 lines: one that grows past 90 is split, so each
# can be read at once. A function starts at a line that opens its definition
# at the margin and ends at the first "}" at the margin.
check-length:
	@awk 'FNR == 1 { start = 0 } /^[a-z_].*\(/ && !/;$$/ { start = FNR; name = $$0 } \
	/^}/ && start { if (FNR - start > 90) { printf "%s:%d: %d lines: %s\n", FILENAME, start, FNR - start, name; bad = 1 } start = 0 } \
	END { exit bad }' nvmfd/*/*.c || { echo "functions over 90 lines: split them"; exit 1; }
	@echo "length: no function in nvmfd/ over 90 lines"

deps:
	@tests/deps all

# The unit tests run under ASan and UBSan (their own build directory); the
# lab runs the regular build inside the guest.
check: deps check-layers check-length
	@$(MAKE) --no-print-directory ASAN=1 UBSAN=1 BUILDDIR=$(BUILDDIR)/san unit-tests
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory fuzz-build
	@BUILDDIR=$(BUILDDIR) tests/check $(BUILDDIR)/san/tests

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILDDIR=$(BUILDDIR) tests/vm/demo

# Figures for a report, never pass/fail (tests/bench/run).
bench:
	@tests/deps bench
	@$(MAKE) --no-print-directory all
	@BUILDDIR=$(BUILDDIR) tests/bench/run $(BENCH_ARGS)

# The libFuzzer harnesses (tests/fuzz/README.md) link the library's sources
# compiled again with clang, the fuzzer's coverage and ASan+UBSan, in their
# own directory. _FORTIFY_SOURCE is left out: ASan checks those calls itself.
FUZZ_DIR := $(BUILDDIR)/fuzz
FUZZ_CC ?= clang
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=gnu11 $(WARN) -D_GNU_SOURCE -fno-common -pthread -Invmfd $(PKG_CFLAGS) \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_SRCS := $(LIB_SRCS)
FUZZ_LIB_OBJS := $(patsubst nvmfd/%.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS))
FUZZ_LIB := $(FUZZ_DIR)/libnvmfd.a
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz-%.c,%,$(wildcard tests/fuzz/fuzz-*.c))
FUZZERS := $(patsubst %,$(FUZZ_DIR)/fuzz-%,$(FUZZ_NAMES))
SECONDS ?= 30

$(FUZZ_DIR)/obj/%.o: nvmfd/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_DIR)/%.o: tests/fuzz/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/fuzz -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz-%: $(FUZZ_DIR)/fuzz-%.o $(FUZZ_LIB)
	$(FUZZ_CC) -o $@ $< $(FUZZ_LIB) -fsanitize=fuzzer $(FUZZ_SAN) -pthread $(PKG_LIBS)

$(FUZZ_DIR)/gen-disclog: $(FUZZ_DIR)/gen-disclog.o
	$(FUZZ_CC) -o $@ $< $(FUZZ_SAN)

fuzz-build: $(FUZZERS)

# Every harness for SECONDS on a copy of its seeds; a crash fails (HARNESS=NAME for some).
fuzz:
	@tests/deps build
	@$(MAKE) --no-print-directory fuzz-build
	@tests/fuzz/run --seconds $(SECONDS) $(FUZZ_DIR) $(or $(HARNESS),$(FUZZ_NAMES))

# The discovery seeds are written by a generator, the others by hand.
fuzz-seeds: $(FUZZ_DIR)/gen-disclog
	$(FUZZ_DIR)/gen-disclog tests/fuzz/corpus/discovery

MAN5 := $(wildcard man/*.5)
MAN8 := $(wildcard man/*.8)

# The example inventory goes in place only where there is none: an admin's
# own file is never overwritten.
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(SYSCONFDIR)/nvmfd
	$(if $(PROGS),install -m 0755 $(PROGS) $(DESTDIR)$(SBINDIR)/)
	$(if $(MAN5),install -m 0644 $(MAN5) $(DESTDIR)$(MANDIR)/man5/)
	$(if $(MAN8),install -m 0644 $(MAN8) $(DESTDIR)$(MANDIR)/man8/)
	install -m 0644 conf/nvmfd.yaml $(DESTDIR)$(SYSCONFDIR)/nvmfd/nvmfd.yaml.example
	test -e $(DESTDIR)$(SYSCONFDIR)/nvmfd/nvmfd.yaml || \
		install -m 0644 conf/nvmfd.yaml $(DESTDIR)$(SYSCONFDIR)/nvmfd/nvmfd.yaml
	install -d $(DESTDIR)$(UDEVDIR)/rules.d
	for r in $(RULES); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' udev/$$r.in >$(DESTDIR)$(UDEVDIR)/rules.d/$$r && \
			chmod 0644 $(DESTDIR)$(UDEVDIR)/rules.d/$$r || exit 1; \
	done
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 conf/bash-completion/nvmfctl conf/bash-completion/nvmetcfg $(DESTDIR)$(BASHCOMPDIR)/
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	# Units name the install's own paths: rendered here, not at build time.
	for u in $(UNITS); do \
		sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' systemd/$$u.in \
			>$(DESTDIR)$(SYSTEMDUNITDIR)/$$u && chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(patsubst $(BUILDDIR)/%,$(DESTDIR)$(SBINDIR)/%,$(PROGS))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man5/%,$(MAN5)) $(patsubst man/%,$(DESTDIR)$(MANDIR)/man8/%,$(MAN8))
	rm -f $(DESTDIR)$(SYSCONFDIR)/nvmfd/nvmfd.yaml.example
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDUNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/nvmfctl $(DESTDIR)$(BASHCOMPDIR)/nvmetcfg
	rm -f $(addprefix $(DESTDIR)$(UDEVDIR)/rules.d/,$(RULES))

clean:
	rm -rf $(BUILDDIR)

-include $(LIB_OBJS:.o=.d) $(TESTS:%=%.d) $(LAB_PROGS:%=%.d) $(MAINS:nvmfd/%.c=$(BUILDDIR)/obj/%.d)
-include $(FUZZ_LIB_OBJS:.o=.d) $(FUZZERS:%=%.d) $(FUZZ_DIR)/gen-disclog.d
