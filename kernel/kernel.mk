# The kernel: freestanding x86_64, linked high, booted through PVH.
# Every .c and .S under kernel/ is part of it; a new file needs no edit here.
# The image is linked twice: the second link embeds a symbol table (from
# nm of the first) so exception reports name functions.

KERNEL := $(B)/kiln.elf
ALL_TARGETS += $(KERNEL)

KCC := gcc
KCFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -mcmodel=kernel \
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fno-strict-aliasing -fcf-protection=none -fno-tree-loop-distribute-patterns \
	-Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	-Wstrict-prototypes -Wmissing-prototypes \
	-Ikernel/include -Ikernel/arch/x86 -Iinclude -I$(B)/kernel-gen
# The .boot segment is RWX on purpose: 32-bit entry code and the boot page
# tables it points CR3 at, both at fixed physical addresses, used once.
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=4096 -z noexecstack \
	-Wl,--no-warn-rwx-segments \
	-Wl,--build-id=none -T kernel/arch/x86/kernel.ld

KERNEL_C := $(shell find kernel -name '*.c' -not -path 'kernel/tests/*' \
	-not -path 'kernel/vdso/*')
KERNEL_S := $(shell find kernel -name '*.S')
KERNEL_OBJS := $(patsubst %,$(B)/kernel-obj/%.o,$(KERNEL_C) $(KERNEL_S))

# lwIP, from Debian's lwip source package: scripts/lwip.sh (run by
# scripts/deps.sh, or here when missing) unpacks it into build/lwip; it is
# never committed.  Its core, IPv4 and Ethernet files are compiled with the
# kernel's flags plus the port's headers (kernel/net: lwipopts.h, arch/cc.h,
# compat/ for the two libc headers lwIP includes); lwIP 2.1.3 builds
# cleanly with the kernel's warnings.  Files not listed (apps, api, IPv6,
# PPP) are not built.  kernel/net's own files see the same include paths.
LWIP_DIR := $(B)/lwip
LWIP_STAMP := $(LWIP_DIR)/src/include/lwip/init.h
LWIP_SRC := $(addprefix $(LWIP_DIR)/src/core/,altcp.c altcp_alloc.c \
	altcp_tcp.c def.c dns.c inet_chksum.c init.c ip.c mem.c memp.c \
	netif.c pbuf.c raw.c stats.c sys.c tcp.c tcp_in.c tcp_out.c \
	timeouts.c udp.c) \
	$(addprefix $(LWIP_DIR)/src/core/ipv4/,autoip.c dhcp.c etharp.c \
	icmp.c igmp.c ip4.c ip4_addr.c ip4_frag.c) \
	$(LWIP_DIR)/src/netif/ethernet.c
LWIP_OBJS := $(patsubst %,$(B)/kernel-obj/%.o,$(LWIP_SRC))
LWIP_INC := -Ikernel/net -Ikernel/net/compat -I$(LWIP_DIR)/src/include
KNET_OBJS := $(filter $(B)/kernel-obj/kernel/net/%,$(KERNEL_OBJS))
KERNEL_OBJS += $(LWIP_OBJS)

$(LWIP_OBJS): KCFLAGS += $(LWIP_INC)
$(KNET_OBJS): KCFLAGS += $(LWIP_INC)
$(LWIP_OBJS) $(KNET_OBJS): | $(LWIP_STAMP)
$(LWIP_SRC): | $(LWIP_STAMP)
	@:
$(LWIP_STAMP):
	$(Q)sh scripts/lwip.sh

# The vDSO (kernel/vdso): a freestanding shared object, position
# independent and without relocations, one PT_LOAD (vdso.lds), exports
# versioned LINUX_2.6 (vdso.ver), both hash styles (Go reads either, musl
# DT_HASH).  kernel/exec/vdso_image.S embeds it into kiln.elf.
VDSO_SO := $(B)/vdso/vdso.so
VDSO_CFLAGS := -std=gnu11 -O2 -fPIC -ffreestanding -fno-builtin \
	-fno-stack-protector -fcf-protection=none -mgeneral-regs-only \
	-fasynchronous-unwind-tables -fno-omit-frame-pointer \
	-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Ikernel/include
VDSO_LDFLAGS := -shared -nostdlib -Wl,-soname=linux-vdso.so.1 \
	-Wl,--hash-style=both -Wl,--version-script=kernel/vdso/vdso.ver \
	-Wl,-T,kernel/vdso/vdso.lds -Wl,-Bsymbolic -Wl,--no-undefined \
	-Wl,-z,max-page-size=4096 -Wl,-z,noexecstack -Wl,--eh-frame-hdr \
	-Wl,--build-id=sha1

$(VDSO_SO): kernel/vdso/vdso.c kernel/include/vvar.h kernel/vdso/vdso.lds \
		kernel/vdso/vdso.ver
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  VDSO    $@")
	$(Q)$(KCC) $(VDSO_CFLAGS) $(VDSO_LDFLAGS) -o $@ kernel/vdso/vdso.c
	$(Q)if readelf -rW $@ | grep -q 'R_X86_64'; then \
		echo "vdso: $@ has relocations"; rm -f $@; exit 1; fi

$(B)/kernel-obj/kernel/exec/vdso_image.S.o: $(VDSO_SO)
$(B)/kernel-obj/kernel/exec/vdso_image.S.o: KCFLAGS += -DVDSO_SO='"$(VDSO_SO)"'

$(B)/kernel-obj/%.c.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  KCC     $<")
	$(Q)$(KCC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(B)/kernel-obj/%.S.o: %.S
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  KAS     $<")
	$(Q)$(KCC) $(KCFLAGS) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

# Pass 1: link without symbols; generate the table; pass 2: link with it.
$(B)/kiln.pass1.elf: $(KERNEL_OBJS) kernel/arch/x86/kernel.ld scripts/ksyms.sh
	@$(if $(Q),echo "  KLD     $@")
	$(Q)sh scripts/ksyms.sh /dev/null > $(B)/ksyms.pass1.c
	$(Q)$(KCC) $(KCFLAGS) -c $(B)/ksyms.pass1.c -o $(B)/ksyms.pass1.o
	$(Q)$(KCC) $(KLDFLAGS) -o $@ $(KERNEL_OBJS) $(B)/ksyms.pass1.o

$(KERNEL): $(B)/kiln.pass1.elf
	@$(if $(Q),echo "  KLD     $@")
	$(Q)sh scripts/ksyms.sh $< > $(B)/ksyms.c
	$(Q)$(KCC) $(KCFLAGS) -c $(B)/ksyms.c -o $(B)/ksyms.o
	$(Q)$(KCC) $(KLDFLAGS) -o $(B)/kiln.pass2.elf $(KERNEL_OBJS) $(B)/ksyms.o
	$(Q)sh scripts/ksyms.sh $(B)/kiln.pass2.elf > $(B)/ksyms.final.c
	$(Q)cmp -s $(B)/ksyms.c $(B)/ksyms.final.c || \
		{ echo "ksyms: symbol table moved between links"; exit 1; }
	$(Q)strip --strip-debug -o $@ $(B)/kiln.pass2.elf

# Syscall names for the "not implemented" log line.
$(B)/kernel-gen/syscall_names.h: scripts/syscall-names.sh
	@mkdir -p $(dir $@)
	$(Q)sh $< > $@
$(B)/kernel-obj/kernel/sys/syscall.c.o: $(B)/kernel-gen/syscall_names.h

-include $(KERNEL_OBJS:.o=.d)
