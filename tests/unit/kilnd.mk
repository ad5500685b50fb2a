# Hosted unit tests of kilnd's and the CLI's client side (lib/client.c,
# which needs libcurl, so not in lib.mk's list): tests/unit/kilnd_*.c,
# each an executable in build/tests/unit/ printing "ok"/"not ok" lines.
# kilnd itself is tested end to end (tests/e2e/daemon_*.sh).
ifndef KILND_UNIT_MK_INCLUDED
KILND_UNIT_MK_INCLUDED := 1

KILND_UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,\
	$(wildcard tests/unit/kilnd_*.c))
UNIT_TESTS += $(KILND_UNIT_TESTS)
ALL_TARGETS += $(KILND_UNIT_TESTS)

$(KILND_UNIT_TESTS): $(B)/tests/unit/%: $(B)/host/tests/unit/%.o \
		$(B)/libkiln.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(B)/libkiln.a $(LIBKILN_LIBS) \
		$(shell pkg-config --libs libcurl)

-include $(patsubst $(B)/tests/unit/%,$(B)/host/tests/unit/%.d,$(KILND_UNIT_TESTS))
endif
