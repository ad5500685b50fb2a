/*
 * kiln-vmm's CPUID filter on a fake KVM_GET_SUPPORTED_CPUID table with
 * every feature bit set: the features that fail in a nested guest here
 * (PLATFORM.md) are cleared, the hypervisor bit is set, the KVM signature
 * leaf is right, and everything else is left alone.
 */
#include <linux/kvm.h>
#include <stdint.h>

#include "../../vmm/vmm.h"
#include "vmm_test.h"

#define ALL    0xffffffffu
#define BIT(n) (1u << (n))

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid_entry2 *e, size_t n,
				     uint32_t fn, uint32_t idx)
{
	for (size_t i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

static void entry(struct kvm_cpuid_entry2 *e, uint32_t fn, uint32_t idx,
		  uint32_t v)
{
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->eax = e->ebx = e->ecx = e->edx = v;
}

int main(void)
{
	struct kvm_cpuid_entry2 t[16];
	size_t n = 0;

	entry(&t[n++], 0, 0, 0x1f);
	entry(&t[n++], 1, 0, ALL);
	entry(&t[n++], 7, 0, ALL);
	entry(&t[n++], 7, 1, ALL);
	entry(&t[n++], 0xd, 0, ALL);
	entry(&t[n++], 0xd, 1, ALL);
	entry(&t[n++], 0x40000000, 0, 0);
	entry(&t[n++], 0x40000001, 0, 0);
	t[n - 1].eax = 0x010000fb; /* kvmclock bits 0 and 3 among others */
	entry(&t[n++], 0x80000001, 0, ALL);
	size_t before = n;

	n = cpuid_filter(t, n, 16);
	CHECK(n == before, "no entry added when 0x40000000 exists");

	struct kvm_cpuid_entry2 *e = find(t, n, 1, 0);
	uint32_t gone1 =
	    BIT(12) | BIT(13) | BIT(26) | BIT(27) | BIT(28) | BIT(29);
	CHECK((e->ecx & gone1) == 0,
	      "leaf 1 ECX: FMA, CMPXCHG16B, XSAVE, OSXSAVE, AVX, F16C clear");
	CHECK(e->ecx == (ALL & ~gone1),
	      "leaf 1 ECX: other bits kept, "
	      "hypervisor bit 31 set (0x%08x)",
	      e->ecx);
	CHECK(e->edx == ALL && e->eax == ALL, "leaf 1 EAX/EDX untouched");
	CHECK((e->ebx >> 24) == 0, "leaf 1 EBX: APIC ID 0");

	e = find(t, n, 7, 0);
	uint32_t gone7 = BIT(5) | BIT(16) | BIT(17) | BIT(21) | BIT(26) |
			 BIT(27) | BIT(28) | BIT(30) | BIT(31);
	CHECK(e->ebx == (ALL & ~gone7),
	      "leaf 7 EBX: AVX2 and AVX-512 clear, "
	      "rest kept (0x%08x)",
	      e->ebx);
	CHECK((e->ecx & (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))) == 0,
	      "leaf 7 ECX: AVX-512 bits clear");
	CHECK((e->ecx & (BIT(9) | BIT(10))) == 0 && (e->ecx & BIT(0)),
	      "leaf 7 ECX: VAES/VPCLMULQDQ clear, PREFETCHWT1 kept");
	CHECK((e->edx & (BIT(2) | BIT(3) | BIT(8) | BIT(23))) == 0,
	      "leaf 7 EDX: AVX-512 bits clear");
	e = find(t, n, 7, 1);
	CHECK((e->eax & (BIT(4) | BIT(5))) == 0 && e->ebx == ALL,
	      "leaf 7.1 EAX: AVX-VNNI, AVX512_BF16 clear");

	e = find(t, n, 0xd, 0);
	struct kvm_cpuid_entry2 *e1 = find(t, n, 0xd, 1);
	CHECK(!e->eax && !e->ebx && !e->ecx && !e->edx && !e1->eax &&
		  !e1->ebx && !e1->ecx && !e1->edx,
	      "leaf 0xd (XSAVE) zeroed, every subleaf");

	e = find(t, n, 0x80000001, 0);
	CHECK(e->edx == (ALL & ~BIT(27)), "leaf 0x80000001 EDX: RDTSCP clear");

	e = find(t, n, 0x40000000, 0);
	char sig[13] = {0};
	memcpy(sig, &e->ebx, 4);
	memcpy(sig + 4, &e->ecx, 4);
	memcpy(sig + 8, &e->edx, 4);
	CHECK(e->eax == 0x40000001 && memcmp(sig, "KVMKVMKVM\0\0\0", 12) == 0,
	      "leaf 0x40000000: 'KVMKVMKVM', max leaf 0x40000001");
	e = find(t, n, 0x40000001, 0);
	CHECK(e->eax == 0x010000fb, "leaf 0x40000001 EAX kept (kvmclock)");
	e = find(t, n, 0, 0);
	CHECK(e->eax == 0x1f && e->ebx == 0x1f, "leaf 0 untouched");

	/* A table without the hypervisor leaf gets one if there is room. */
	n = 0;
	entry(&t[n++], 1, 0, 0);
	n = cpuid_filter(t, n, 2);
	e = find(t, n, 0x40000000, 0);
	CHECK(n == 2 && e != NULL && e->eax == 0x40000001,
	      "missing 0x40000000 appended");
	CHECK(t[0].ecx == BIT(31), "hypervisor bit set on an empty leaf 1");
	n = 1;
	CHECK(cpuid_filter(t, n, 1) == 1, "no room: nothing appended");
	return vmm_test_done("vmm_cpuid");
}
