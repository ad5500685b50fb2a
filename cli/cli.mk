# cli/: the `kiln` command, linked with build/libkiln.a.  A new command is
# one cli/cmd_*.c file (picked up here without editing) plus one row in
# main.c's commands[] table.

CLI_SRCS := $(wildcard cli/*.c)
CLI_OBJS := $(patsubst %.c,$(B)/host/%.o,$(CLI_SRCS))
KILN_CLI := $(B)/kiln

ALL_TARGETS += $(KILN_CLI)

$(KILN_CLI): $(CLI_OBJS) $(B)/libkiln.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(CLI_OBJS) $(B)/libkiln.a $(LIBKILN_LIBS)

-include $(CLI_OBJS:.o=.d)

# Tests of the hypervisor plumbing (status propagation, live output,
# signals, --timeout, the /dev/kvm fallback) against stand-in kernels
# built from cli/tests/pvh_fixture.S, one per behaviour; run by
# tests/run.sh as the unit test cli_run.
CLI_FX := $(B)/tests/cli
CLI_FIXTURES := $(foreach n,0 1 42 200 255,$(CLI_FX)/fx-exit-$(n).elf) \
	$(CLI_FX)/fx-norecord-0.elf $(CLI_FX)/fx-norecord-42.elf \
	$(CLI_FX)/fx-spin.elf $(CLI_FX)/fx-triple.elf $(CLI_FX)/fx-bulk.elf
CLI_UNIT_TEST := $(B)/tests/unit/cli_run
UNIT_TESTS += $(CLI_UNIT_TEST)
ALL_TARGETS += $(CLI_FIXTURES) $(CLI_UNIT_TEST)

fx_flags = $(if $(filter fx-exit-%,$(1)),-DFX_EXIT=$(patsubst fx-exit-%,%,$(1)),$(if \
	$(filter fx-norecord-%,$(1)),-DFX_NORECORD=$(patsubst fx-norecord-%,%,$(1)),$(if \
	$(filter fx-spin,$(1)),-DFX_SPIN,$(if $(filter fx-triple,$(1)),-DFX_TRIPLE,-DFX_BULK))))

$(CLI_FX)/%.elf: cli/tests/pvh_fixture.S cli/tests/pvh_fixture.ld
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AS      $@")
	$(Q)$(CC) $(call fx_flags,$*) -c $< -o $(CLI_FX)/$*.o
	$(Q)$(CC) -nostdlib -static -no-pie -Wl,--build-id=none \
		-Wl,-z,max-page-size=4096 -Wl,-T,cli/tests/pvh_fixture.ld \
		-o $@ $(CLI_FX)/$*.o

$(CLI_UNIT_TEST): cli/tests/run_test.sh $(CLI_FIXTURES) $(KILN_CLI)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)cp cli/tests/run_test.sh $@ && chmod +x $@
