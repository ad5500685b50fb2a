# Hosted unit tests of kiln-vmm's pure parts (no /dev/kvm needed).  Each
# test is an executable in build/tests/unit/ that prints TAP-style "ok" /
# "not ok" lines and exits 0 only if every check passed; all are appended
# to UNIT_TESTS.  Included from vmm/vmm.mk; safe to include again.
ifndef VMM_UNIT_MK_INCLUDED
VMM_UNIT_MK_INCLUDED := 1

VMM_UNIT_TESTS := $(patsubst %,$(B)/tests/unit/vmm_%,boot mem cpuid args io \
	virtio)
UNIT_TESTS += $(VMM_UNIT_TESTS)
ALL_TARGETS += $(VMM_UNIT_TESTS)

# A tiny PVH kernel laid out by the system toolchain, to check the loader
# against readelf on an ELF it did not build itself.
VMM_FIXTURE := $(B)/tests/unit/vmm_fixture_pvh.elf
$(VMM_FIXTURE): tests/unit/vmm_fixture_pvh.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -nostdlib -static -no-pie -fno-pic -ffreestanding \
		-Wl,-Ttext-segment=0x100000 -Wl,-z,max-page-size=4096 \
		-Wl,--build-id=none -Wl,-e,pvh_start -o $@ $<

$(B)/host/tests/unit/vmm_boot.o: HOST_CFLAGS += \
	-DVMM_TEST_BUILD_DIR='"$(abspath $(B))"'
$(B)/tests/unit/vmm_boot: $(VMM_FIXTURE)

$(VMM_UNIT_TESTS): $(B)/tests/unit/%: $(B)/host/tests/unit/%.o $(VMM_PURE_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(VMM_PURE_OBJS)

-include $(patsubst $(B)/tests/unit/%,$(B)/host/tests/unit/%.d,$(VMM_UNIT_TESTS))

# The virtio fuzz harness, run for a few seconds per `make test`, and the
# monitor code it drives, compiled again into build/host-san/ with
# AddressSanitizer and UBSan (any report aborts) when this compiler can
# build and run such a program; otherwise plainly.  The probe's verdict is
# kept in build/host-san/flags (delete it to probe again).
VMM_FUZZ := $(B)/tests/unit/vmm_virtio_fuzz
UNIT_TESTS += $(VMM_FUZZ)
ALL_TARGETS += $(VMM_FUZZ)
VMM_SAN_FLAGS_FILE := $(B)/host-san/flags
VMM_SAN_CFLAGS = $(shell cat $(VMM_SAN_FLAGS_FILE) 2>/dev/null)
VMM_SAN_OBJS := $(patsubst $(B)/host/%,$(B)/host-san/%,$(VMM_PURE_OBJS)) \
	$(B)/host-san/tests/unit/vmm_virtio_fuzz.o

$(VMM_SAN_FLAGS_FILE):
	@mkdir -p $(dir $@)
	$(Q)if echo 'int main(void){return 0;}' | $(CC) \
		-fsanitize=address,undefined -x c - -o $(dir $@)probe \
		2>/dev/null && $(dir $@)probe; then \
		echo '-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' >$@; \
	else echo >$@; fi; rm -f $(dir $@)probe

$(B)/host-san/%.o: %.c | $(VMM_SAN_FLAGS_FILE)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (sanitizers)")
	$(Q)$(CC) $(HOST_CFLAGS) $(VMM_SAN_CFLAGS) -MMD -MP -c $< -o $@

$(VMM_FUZZ): $(VMM_SAN_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) $(VMM_SAN_CFLAGS) -o $@ $(VMM_SAN_OBJS)

-include $(VMM_SAN_OBJS:.o=.d)
endif
