# Guest programs of tests/e2e/net_tcp.sh: tests/net/*.c, built into
# build/tests/net/.  They need a network, so they are neither guest
# programs of tests/run.sh's tiers (which boot without one) nor unit
# tests: the scenario boots them with `kiln run --net`.  udp_echo is
# dynamic glibc like most programs users bring; net_client is static musl
# because glibc's getaddrinfo calls futex (pthread_once), which the kernel
# does not answer yet.
ifndef NET_TESTS_MK_INCLUDED
NET_TESTS_MK_INCLUDED := 1

NET_TEST_MUSL := net_client
NET_TEST_PROGS := $(patsubst tests/net/%.c,$(B)/tests/net/%,\
	$(wildcard tests/net/*.c))
NET_TEST_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter
ALL_TARGETS += $(NET_TEST_PROGS)

$(B)/tests/net/%: tests/net/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(if $(filter $*,$(NET_TEST_MUSL)),musl-gcc -static,$(CC)) \
		$(NET_TEST_CFLAGS) -o $@ $<

tests-net: $(NET_TEST_PROGS)
.PHONY: tests-net

endif
