# lib/: hosted code shared by kiln's programs, built into build/libkiln.a.
# A new lib/*.c is picked up without editing this file.

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/host/%.o,$(LIB_SRCS))
LIBKILN := $(B)/libkiln.a

ALL_TARGETS += $(LIBKILN)

$(LIBKILN): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $(LIB_OBJS)

-include $(LIB_OBJS:.o=.d)
