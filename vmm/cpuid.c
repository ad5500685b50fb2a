/*
 * The CPUID the guest sees: KVM_GET_SUPPORTED_CPUID, minus what fails in a
 * nested guest on the machines kiln runs on (PLATFORM.md).  There, xsave,
 * AVX (ymm), rdtscp and cmpxchg16b end KVM_RUN with an emulation failure
 * even though the host CPU advertises them; glibc and the kernel pick code
 * paths from these bits, so hiding them is what keeps a guest alive.  XSAVE
 * goes with everything that needs it: AVX, AVX2, FMA, F16C, AVX-512, AMX and
 * the XSAVE leaf 0xd.  Pure function over the table: unit tested.
 */
#include <linux/kvm.h>
#include <string.h>

#include "vmm.h"

#define BIT(n) (1u << (n))

/* Leaf 1 ECX */
#define CPUID_1_ECX_MASK                                                       \
	(BIT(12) /* FMA */ | BIT(13) /* CMPXCHG16B */ | BIT(26) /* XSAVE */ |  \
	 BIT(27) /* OSXSAVE */ | BIT(28) /* AVX */ | BIT(29) /* F16C */)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
/* Leaf 7 subleaf 0 EBX: AVX2 and the AVX-512 family */
#define CPUID_7_EBX_MASK                                                       \
	(BIT(5) /* AVX2 */ | BIT(16) /* F */ | BIT(17) /* DQ */ |              \
	 BIT(21) /* IFMA */ | BIT(26) /* PF */ | BIT(27) /* ER */ |            \
	 BIT(28) /* CD */ | BIT(30) /* BW */ | BIT(31) /* VL */)
/* Leaf 7 subleaf 0 ECX: AVX-512 and VEX-only extensions */
#define CPUID_7_ECX_MASK                                                       \
	(BIT(1) /* AVX512_VBMI */ | BIT(6) /* AVX512_VBMI2 */ |                \
	 BIT(9) /* VAES */ | BIT(10) /* VPCLMULQDQ */ |                        \
	 BIT(11) /* AVX512_VNNI */ | BIT(12) /* AVX512_BITALG */ |             \
	 BIT(14) /* AVX512_VPOPCNTDQ */)
/* Leaf 7 subleaf 0 EDX: AVX-512 and AMX (XSAVE-managed state) */
#define CPUID_7_EDX_MASK                                                       \
	(BIT(2) /* AVX512_4VNNIW */ | BIT(3) /* AVX512_4FMAPS */ |             \
	 BIT(8) /* AVX512_VP2INTERSECT */ | BIT(22) /* AMX_BF16 */ |           \
	 BIT(23) /* AVX512_FP16 */ | BIT(24) /* AMX_TILE */ |                  \
	 BIT(25) /* AMX_INT8 */)
/* Leaf 7 subleaf 1 EAX */
#define CPUID_7_1_EAX_MASK (BIT(4) /* AVX_VNNI */ | BIT(5) /* AVX512_BF16 */)
/* Leaf 0x80000001 ECX: AMD's VEX/XOP extensions; EDX: RDTSCP */
#define CPUID_80000001_ECX_MASK (BIT(11) /* XOP */ | BIT(16) /* FMA4 */)
#define CPUID_80000001_EDX_MASK BIT(27) /* RDTSCP */

#define CPUID_KVM_BASE 0x40000000u

/* "KVMKVMKVM\0\0\0" as EBX, ECX, EDX. */
static void cpuid_kvm_signature(struct kvm_cpuid_entry2 *e)
{
	static const char sig[12] = "KVMKVMKVM\0\0";
	e->eax = CPUID_KVM_BASE + 1; /* highest hypervisor leaf */
	memcpy(&e->ebx, sig, 4);
	memcpy(&e->ecx, sig + 4, 4);
	memcpy(&e->edx, sig + 8, 4);
}

size_t cpuid_filter(struct kvm_cpuid_entry2 *e, size_t n, size_t cap)
{
	int have_kvm_base = 0;

	for (size_t i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];
		switch (c->function) {
		case 1:
			c->ecx &= ~CPUID_1_ECX_MASK;
			c->ecx |= CPUID_1_ECX_HYPERVISOR;
			c->ebx &= 0x00ffffffu; /* initial APIC ID 0: one vCPU */
			break;
		case 7:
			if (c->index == 0) {
				c->ebx &= ~CPUID_7_EBX_MASK;
				c->ecx &= ~CPUID_7_ECX_MASK;
				c->edx &= ~CPUID_7_EDX_MASK;
			} else if (c->index == 1) {
				c->eax &= ~CPUID_7_1_EAX_MASK;
			}
			break;
		case 0xb:
		case 0x1f:
			c->edx = 0; /* x2APIC ID of the only vCPU */
			break;
		case 0xd:
			c->eax = c->ebx = c->ecx = c->edx = 0;
			break;
		case 0x80000001:
			c->ecx &= ~CPUID_80000001_ECX_MASK;
			c->edx &= ~CPUID_80000001_EDX_MASK;
			break;
		case CPUID_KVM_BASE:
			cpuid_kvm_signature(c);
			have_kvm_base = 1;
			break;
		default:
			break; /* 0x40000001 (kvmclock bits) and others: as is
				*/
		}
	}
	if (!have_kvm_base && n < cap) {
		memset(&e[n], 0, sizeof(e[n]));
		e[n].function = CPUID_KVM_BASE;
		cpuid_kvm_signature(&e[n]);
		n++;
	}
	return n;
}
