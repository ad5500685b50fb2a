# Tests: guest programs (each built three times: static with musl-gcc,
# dynamic with gcc/glibc, and static-pie with gcc/glibc), the fixtures the end-to-end scenarios need (bad ELF files, a
# program whose shared library is gone), and the list of hosted unit tests
# that other parts declare in tests/unit/*.mk by appending executables to
# UNIT_TESTS.  tests/run.sh runs all of it; `make tests` builds only this.

TESTS_OUT := $(B)/tests

# Hosted unit tests from every part (lib, kernel code built hosted, vmm...).
UNIT_TESTS ?=
-include $(wildcard tests/unit/*.mk)

# Guest programs: every tests/guest/*.c is one program.  Portable C11 +
# POSIX (+ syscall(2) and getauxval, hence _GNU_SOURCE), no -g so the
# images stay small for the boot benchmark.
GUEST_NAMES := $(sort $(notdir $(basename $(wildcard tests/guest/*.c))))
GUEST_STATIC := $(addprefix $(TESTS_OUT)/guest/static/,$(GUEST_NAMES))
GUEST_DYNAMIC := $(addprefix $(TESTS_OUT)/guest/dynamic/,$(GUEST_NAMES))
GUEST_STATIC_PIE := $(addprefix $(TESTS_OUT)/guest/static-pie/,$(GUEST_NAMES))
GUEST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
	-Wno-unused-parameter
MUSL_CC := musl-gcc

$(TESTS_OUT)/guest/static/%: tests/guest/%.c tests/guest/tap.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  MUSLCC  $@")
	$(Q)$(MUSL_CC) -static $(GUEST_CFLAGS) -o $@ $<

$(TESTS_OUT)/guest/dynamic/%: tests/guest/%.c tests/guest/tap.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -o $@ $<

$(TESTS_OUT)/guest/static-pie/%: tests/guest/%.c tests/guest/tap.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) -static-pie $(GUEST_CFLAGS) -o $@ $<

# Go programs (tests/guest/go/*.go, one file each): static binaries from
# Debian's golang-go, for the runtime's use of threads and signals
# (tests/e2e/go.sh).  Go's build cache is the user's, or build/go-cache
# without a HOME.
GO_NAMES := $(sort $(notdir $(basename $(wildcard tests/guest/go/*.go))))
GO_GUESTS := $(addprefix $(TESTS_OUT)/go/,$(GO_NAMES))
GO_ENV := CGO_ENABLED=0 $(if $(HOME),,GOCACHE=$(abspath $(B))/go-cache)

$(TESTS_OUT)/go/%: tests/guest/go/%.go
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GO      $@")
	$(Q)env $(GO_ENV) go build -trimpath -o $@ $<

# Fixtures for tests/e2e/bad_input.sh.  The bad ELF files are crafted by a
# script (no 32-bit toolchain needed); needlib runs with its library found
# through DT_RUNPATH; needlib-missing is linked against a library that is
# deleted right after the link, so it can never be found.
FIX := $(TESTS_OUT)/fixtures
TEST_FIXTURES := $(FIX)/bad/.stamp $(FIX)/needlib/needlib \
	$(FIX)/needlib/libkilnneed.so $(FIX)/needlib-missing

$(FIX)/bad/.stamp: tests/fixtures/make-bad-elves.sh \
		$(TESTS_OUT)/guest/static/hello
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $(dir $@)")
	$(Q)sh tests/fixtures/make-bad-elves.sh $(dir $@) \
		$(TESTS_OUT)/guest/static/hello
	$(Q)touch $@

$(FIX)/needlib/libkilnneed.so: tests/fixtures/kilnneed.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -shared -fPIC -o $@ $<

$(FIX)/needlib/needlib: tests/fixtures/needlib.c $(FIX)/needlib/libkilnneed.so
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -o $@ $< -L$(FIX)/needlib -lkilnneed \
		-Wl,-rpath,$(abspath $(FIX)/needlib)

$(FIX)/needlib-missing: tests/fixtures/needlib.c tests/fixtures/kilnneed.c
	@mkdir -p $(FIX)/gone
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(GUEST_CFLAGS) -shared -fPIC -Wl,-soname,libkilnmissing.so \
		-o $(FIX)/gone/libkilnmissing.so tests/fixtures/kilnneed.c
	$(Q)$(CC) $(GUEST_CFLAGS) -o $@ $< -L$(FIX)/gone -lkilnmissing \
		-Wl,-rpath,$(abspath $(FIX)/gone)
	$(Q)rm -rf $(FIX)/gone

# The unit-test list is rewritten on every make (UNIT_TESTS may change
# without any file changing) but only touched when its content differs.
$(TESTS_OUT)/unit-tests.list: $(UNIT_TESTS) tests-force
	@mkdir -p $(dir $@)
	$(Q)for t in $(UNIT_TESTS); do echo "$$t"; done > $@.tmp
	$(Q)cmp -s $@.tmp $@ 2>/dev/null && rm -f $@.tmp || mv $@.tmp $@

TESTS_TARGETS := $(GUEST_STATIC) $(GUEST_DYNAMIC) $(GUEST_STATIC_PIE) \
	$(GO_GUESTS) $(TEST_FIXTURES) \
	$(TESTS_OUT)/unit-tests.list $(UNIT_TESTS)
ALL_TARGETS += $(TESTS_TARGETS)

tests: $(TESTS_TARGETS)

# Only what this file builds itself (not the other parts' unit tests).
tests-guest: $(GUEST_STATIC) $(GUEST_DYNAMIC) $(GUEST_STATIC_PIE) \
	$(GO_GUESTS) $(TEST_FIXTURES)

tests-force:

.PHONY: tests tests-guest tests-force
