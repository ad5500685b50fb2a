# Hosted unit tests of lib/ (tests/unit/lib_*.c, each one executable in
# build/tests/unit/ printing "ok"/"not ok" lines), appended to UNIT_TESTS.
# Fixtures: examples/hello (static musl) and a dynamically linked musl
# build of the same source.  Guarded, so it may be included twice.
ifndef LIB_UNIT_MK_INCLUDED
LIB_UNIT_MK_INCLUDED := 1

LIB_UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,\
	$(wildcard tests/unit/lib_*.c))
LIB_UNIT_FX := $(B)/tests/unit/lib_fx
UNIT_TESTS += $(LIB_UNIT_TESTS)
ALL_TARGETS += $(LIB_UNIT_TESTS)

$(LIB_UNIT_FX)/hello-musl-dynamic: examples/hello.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  MUSLCC  $@")
	$(Q)musl-gcc -std=c11 -O2 -o $@ $<

$(patsubst $(B)/tests/unit/%,$(B)/host/tests/unit/%.o,$(LIB_UNIT_TESTS)): \
	HOST_CFLAGS += -DLIB_TEST_ROOT='"$(abspath .)"' \
		-DLIB_TEST_BUILD='"$(abspath $(B))"'

$(LIB_UNIT_TESTS): $(B)/tests/unit/%: $(B)/host/tests/unit/%.o \
		$(B)/libkiln.a examples/hello $(LIB_UNIT_FX)/hello-musl-dynamic
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $< $(B)/libkiln.a $(LIBKILN_LIBS)

-include $(patsubst $(B)/tests/unit/%,$(B)/host/tests/unit/%.d,$(LIB_UNIT_TESTS))
endif
