# kiln-vmm, kiln's KVM monitor.  A new device is one vmm/dev_*.c file plus
# one line in VMM_SRCS: it registers itself with IO_DEVICE() (vmm/vmm.h).
# build/kiln-vmm.static is the same program linked with -static (plain libc
# only), for running inside a minimal nested-KVM initramfs.  lib/tap.c is
# shared with the CLI, which checks a tap the same way before booting.

VMM_SRCS := \
	vmm/main.c \
	vmm/args.c \
	vmm/mem.c \
	vmm/console.c \
	vmm/boot.c \
	vmm/cpuid.c \
	vmm/kvm.c \
	vmm/io.c \
	vmm/dev_serial.c \
	vmm/dev_exit.c \
	vmm/dev_kiln.c \
	vmm/virtio.c \
	lib/tap.c \
	vmm/dev_virtio_net.c
VMM_OBJS := $(patsubst %.c,$(B)/host/%.o,$(VMM_SRCS))
# Everything but main.c and kvm.c: what the hosted unit tests link.
VMM_PURE_OBJS := $(filter-out $(B)/host/vmm/main.o $(B)/host/vmm/kvm.o,$(VMM_OBJS))

ALL_TARGETS += $(B)/kiln-vmm $(B)/kiln-vmm.static

$(B)/kiln-vmm: $(VMM_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -o $@ $(VMM_OBJS)

$(B)/kiln-vmm.static: $(VMM_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(HOST_LDFLAGS) -static -o $@ $(VMM_OBJS)

-include $(VMM_OBJS:.o=.d)

# The monitor's unit tests; guarded, so tests/tests.mk may include it too.
include tests/unit/vmm.mk
