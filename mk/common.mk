# Shared build settings.  Each part has its own .mk that appends to
# ALL_TARGETS; this file holds what they all agree on.
B := build
ALL_TARGETS :=

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Hosted programs (vmm, cli, lib, tests).
CC ?= cc
HOST_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter \
	-Iinclude -Ilib -fstack-protector-strong -D_FORTIFY_SOURCE=2
HOST_LDFLAGS :=

$(B)/host/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@
