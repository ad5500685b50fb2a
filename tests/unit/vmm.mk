# Hosted unit tests of kiln-vmm's pure parts (no /dev/kvm needed).  Each
# test is an executable in build/tests/unit/ that prints TAP-style "ok" /
# "not ok" lines and exits 0 only if every check passed; all are appended
# to UNIT_TESTS.  Included from vmm/vmm.mk; safe to include again.
ifndef VMM_UNIT_MK_INCLUDED
VMM_UNIT_MK_INCLUDED := 1

VMM_UNIT_TESTS := $(patsubst %,$(B)/tests/unit/vmm_%,boot mem cpuid args io)
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
endif
