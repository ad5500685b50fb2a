# Hosted unit tests of the kernel's filesystem: kernel/fs/*.c and the
# syscall shims kernel/sys/fs_*.c compiled with the host compiler (under
# ASan and UBSan) against tests/unit/kfs_shim.c, which stands in for the
# rest of the kernel.  Each tests/unit/kfs_NAME.c is one executable
# build/tests/unit/kfs_NAME printing TAP lines; all go to UNIT_TESTS.
ifndef KFS_UNIT_MK_INCLUDED
KFS_UNIT_MK_INCLUDED := 1

KFS_NAMES := cpio path io
KFS_TESTS := $(patsubst %,$(B)/tests/unit/kfs_%,$(KFS_NAMES))
UNIT_TESTS += $(KFS_TESTS)

KFS_OUT := $(B)/kfs-obj
KFS_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
# The kernel's warnings, freestanding, but no kernel code model.
KFS_CFLAGS := -std=gnu11 -O1 -g -ffreestanding -fno-omit-frame-pointer \
	-fno-strict-aliasing -Wall -Wextra -Werror -Wshadow \
	-Wno-unused-parameter -Wstrict-prototypes -Wmissing-prototypes \
	-Ikernel/include -Iinclude $(KFS_SAN)
KFS_SRCS := $(wildcard kernel/fs/*.c) $(wildcard kernel/sys/fs_*.c)
KFS_OBJS := $(patsubst %.c,$(KFS_OUT)/%.o,$(KFS_SRCS))
KFS_SHIM := $(KFS_OUT)/tests/unit/kfs_shim.o

# Kernel code: the .syscalls section is renamed so the linker defines
# __start_/__stop_kfs_syscalls for the shim's dispatcher.  The dependency
# file is named for the final object (gcc would name it for the .tmp).
$(KFS_OUT)/kernel/%.o: kernel/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  KFSCC   $<")
	$(Q)$(CC) $(KFS_CFLAGS) -MMD -MP -MF $(@:.o=.d) -MT $@ -c $< -o $@.tmp
	$(Q)objcopy --rename-section .syscalls=kfs_syscalls $@.tmp $@
	$(Q)rm -f $@.tmp

# The shim is ordinary hosted C with libc.
$(KFS_SHIM): tests/unit/kfs_shim.c tests/unit/kfs_test.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  KFSCC   $<")
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE -O1 -g -Wall -Wextra -Werror \
		-Wno-unused-parameter $(KFS_SAN) -c $< -o $@

# The tests see the kernel's headers, not libc's.
$(KFS_OUT)/tests/unit/kfs_%.o: tests/unit/kfs_%.c tests/unit/kfs_test.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  KFSCC   $<")
	$(Q)$(CC) $(KFS_CFLAGS) -MMD -MP -c $< -o $@

$(KFS_TESTS): $(B)/tests/unit/kfs_%: $(KFS_OUT)/tests/unit/kfs_%.o \
		$(KFS_OBJS) $(KFS_SHIM)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(KFS_SAN) -o $@ $^

-include $(KFS_OBJS:.o=.d) $(patsubst %,$(KFS_OUT)/tests/unit/kfs_%.d,$(KFS_NAMES))
endif
