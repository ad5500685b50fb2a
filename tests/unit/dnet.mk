# Tests of kilnd's host networking (daemon/net.mk's objects):
#   build/tests/unit/dnet_proxy_spec   unit test of -p spec parsing
#   build/tests/dnet/dnet_ctl          the program tests/e2e/daemon_net.sh
#                                      drives inside a network namespace
#                                      (networks, leases, taps, proxies);
#                                      not a unit test: it needs root and
#                                      a namespace, so it is not listed in
#                                      UNIT_TESTS.
# lib_ipam is a lib_*.c test, picked up by tests/unit/lib.mk.
ifndef DNET_UNIT_MK_INCLUDED
DNET_UNIT_MK_INCLUDED := 1
-include daemon/net.mk

DNET_UNIT_TESTS := $(B)/tests/unit/dnet_proxy_spec
DNET_CTL := $(B)/tests/dnet/dnet_ctl
UNIT_TESTS += $(DNET_UNIT_TESTS)
ALL_TARGETS += $(DNET_UNIT_TESTS) $(DNET_CTL)

$(B)/host/tests/unit/dnet_%.o: HOST_CFLAGS += -Idaemon

$(B)/tests/unit/dnet_proxy_spec: $(B)/host/tests/unit/dnet_proxy_spec.o \
		$(B)/host/daemon/proxy.o $(LIBKILN)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ -lpthread

$(DNET_CTL): $(B)/host/tests/unit/dnet_ctl.o $(DNET_OBJS) $(LIBKILN)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $^ $(DNET_LIBS)

-include $(B)/host/tests/unit/dnet_proxy_spec.d $(B)/host/tests/unit/dnet_ctl.d
endif
