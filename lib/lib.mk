# lib/: hosted code shared by kiln's programs, built into build/libkiln.a.
# A new lib/*.c is picked up without editing this file.

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/host/%.o,$(LIB_SRCS))
LIBKILN := $(B)/libkiln.a
# What a program linking libkiln.a needs for lib/image.c (archives, JSON,
# SHA-256).  Static linking only pulls image.o into programs that use it,
# but every link line that names libkiln.a adds these so none has to know.
LIBKILN_PKGS := libarchive jansson libcrypto
LIBKILN_CFLAGS := $(shell pkg-config --cflags $(LIBKILN_PKGS))
LIBKILN_LIBS := $(shell pkg-config --libs $(LIBKILN_PKGS))

ALL_TARGETS += $(LIBKILN)

$(LIBKILN): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $(LIB_OBJS)

$(LIB_OBJS): HOST_CFLAGS += $(LIBKILN_CFLAGS)

-include $(LIB_OBJS:.o=.d)
