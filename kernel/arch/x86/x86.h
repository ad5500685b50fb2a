/*
 * x86-64 architectural constants shared by assembly and C, and (in C) the
 * small inline wrappers for privileged instructions.
 */
#ifndef X86_H
#define X86_H

#define KERNEL_BASE_ASM 0xffffffff80000000
#ifdef __ASSEMBLY__
#define KERNEL_BASE KERNEL_BASE_ASM
#endif

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_NW (1 << 29)
#define CR0_CD (1 << 30)
#define CR0_PG (1 << 31)

#define CR4_PAE	       (1 << 5)
#define CR4_PGE	       (1 << 7)
#define CR4_OSFXSR     (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

#define MSR_EFER		0xc0000080
#define EFER_SCE		(1 << 0)
#define EFER_LME		(1 << 8)
#define EFER_NXE		(1 << 11)
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_SFMASK		0xc0000084
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
#define MSR_APIC_BASE		0x1b
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01

#define PTE_P	(1 << 0)
#define PTE_W	(1 << 1)
#define PTE_U	(1 << 2)
#define PTE_PWT (1 << 3)
#define PTE_PCD (1 << 4)
#define PTE_A	(1 << 5)
#define PTE_D	(1 << 6)
#define PTE_PS	(1 << 7)
#define PTE_G	(1 << 8)

/* GDT layout.  SYSCALL/SYSRET need kernel CS, kernel SS adjacent and user
 * SS (base+8), user CS (base+16) in that order after STAR's user base. */
#define GDT_KERNEL_CS	      0x08
#define GDT_KERNEL_DS	      0x10
#define GDT_USER_DS	      0x1b /* 0x18 | RPL 3 */
#define GDT_USER_CS	      0x23 /* 0x20 | RPL 3 */
#define GDT_TSS		      0x28
#define GDT_ENTRY_KERNEL_CODE 0x00209a0000000000 /* L, P, DPL0, code */
#define GDT_ENTRY_KERNEL_DATA 0x0000920000000000 /* P, DPL0, data */
#define GDT_ENTRY_USER_DATA   0x0000f20000000000 /* P, DPL3, data */
#define GDT_ENTRY_USER_CODE   0x0020fa0000000000 /* L, P, DPL3, code */

#define RFLAGS_IF (1 << 9)
#define RFLAGS_DF (1 << 10)
#define RFLAGS_TF (1 << 8)
#define RFLAGS_AC (1 << 18)

/* Vectors. 0-31 exceptions, 32+ device interrupts. */
#define VEC_PF	     14
#define VEC_TIMER    32
#define VEC_SPURIOUS 255

/* struct trapframe offsets (see arch.h) used by entry.S. */
#define TF_SIZE (22 * 8)

#ifndef __ASSEMBLY__
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
/* Flushes the whole TLB, global entries included (toggling CR4.PGE). */
static inline void tlb_flush_all(void)
{
	uint64_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4 & ~(uint64_t)CR4_PGE)
			 : "memory");
	__asm__ volatile("mov %0, %%cr4" ::"r"(cr4) : "memory");
}
static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}
static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}
static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}
static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}
/* Enables interrupts and halts atomically (sti's one-instruction shadow). */
static inline void irq_enable_and_halt(void)
{
	__asm__ volatile("sti; hlt" ::: "memory");
}
#endif

#endif
