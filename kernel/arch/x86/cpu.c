/*
 * CPU set-up: the final GDT with a TSS (kernel stack for entries from user
 * mode, IST stacks for double faults and NMIs), the IDT, the syscall MSRs
 * and the FPU/SSE state the program starts with.
 */
#include "arch.h"
#include "mm.h"
#include "x86.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct idt_entry {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct table_desc {
	uint16_t limit;
	uint64_t base;
} __packed;

static uint64_t gdt[7] __aligned(16);
static struct tss tss __aligned(16);
static struct idt_entry idt[256] __aligned(16);
static uint8_t ist_stack_df[8192] __aligned(16);
static uint8_t ist_stack_nmi[8192] __aligned(16);

extern const uint64_t trap_vectors[256];
extern void syscall_entry(void);
extern uint64_t cpu_kernel_rsp;
extern char boot_stack_top[];

static void gdt_load(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	gdt[0] = 0;
	gdt[1] = GDT_ENTRY_KERNEL_CODE;
	gdt[2] = GDT_ENTRY_KERNEL_DATA;
	gdt[3] = GDT_ENTRY_USER_DATA;
	gdt[4] = GDT_ENTRY_USER_CODE;
	/* 64-bit available TSS: a 16-byte descriptor. */
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ULL << 40) | (((limit >> 16) & 0xf) << 48) |
		 (((base >> 24) & 0xff) << 56);
	gdt[6] = base >> 32;

	struct table_desc d = {sizeof(gdt) - 1, (uint64_t)gdt};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(d), "i"(GDT_KERNEL_CS), "i"(GDT_KERNEL_DS),
			   "r"(GDT_TSS)
			 : "rax", "memory");
}

static void idt_set(int vec, uint64_t handler, int ist, int dpl)
{
	idt[vec].offset_lo = handler & 0xffff;
	idt[vec].selector = GDT_KERNEL_CS;
	idt[vec].ist = ist;
	idt[vec].type = 0x8e | (dpl << 5); /* present, interrupt gate */
	idt[vec].offset_mid = (handler >> 16) & 0xffff;
	idt[vec].offset_hi = handler >> 32;
	idt[vec].reserved = 0;
}

static void idt_load(void)
{
	for (int v = 0; v < 256; v++)
		idt_set(v, trap_vectors[v], 0, 0);
	idt_set(8, trap_vectors[8], 1, 0); /* double fault on its own stack */
	idt_set(2, trap_vectors[2], 2, 0); /* NMI */
	struct table_desc d = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(d));
}

static void syscall_msrs_init(void)
{
	/* STAR: kernel CS in 47:32; user base in 63:48 so that sysret
	 * loads SS = base + 8 and CS = base + 16 (GDT_USER_DS, _CS). */
	wrmsr(MSR_STAR, ((uint64_t)(GDT_USER_DS - 8 - 3) << 48) |
			    ((uint64_t)GDT_KERNEL_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_SFMASK, RFLAGS_IF | RFLAGS_DF | RFLAGS_TF | RFLAGS_AC);
}

/* The state a program and every signal handler start with (fninit,
 * MXCSR 0x1f80, XMM registers zero), and the MXCSR bits FXRSTOR accepts. */
static uint8_t fpu_init_img[FPU_STATE_SIZE] __aligned(16);
static uint32_t fpu_mxcsr_mask;

void arch_fpu_save(void *img)
{
	__asm__ volatile("fxsave64 (%0)" ::"r"(img) : "memory");
}

void arch_fpu_load(void *img)
{
	uint32_t *mxcsr = (uint32_t *)((uint8_t *)img + 24);
	*mxcsr &= fpu_mxcsr_mask;
	__asm__ volatile("fxrstor64 (%0)" ::"r"(img) : "memory");
}

void arch_fpu_reset(void)
{
	__asm__ volatile("fxrstor64 (%0)" ::"r"(fpu_init_img) : "memory");
}

static void fpu_init(void)
{
	/* CR0.MP/NE set, EM/TS clear and CR4.OSFXSR set by boot.S.
	 * CR4.OSXSAVE is left clear on purpose (docs/kernel.md): XSAVE and
	 * AVX fail in the nested guests kiln is tested on, and without
	 * OSXSAVE the libcs use SSE code paths whose whole state FXSAVE
	 * holds. */
	uint32_t mxcsr = 0x1f80;
	__asm__ volatile("fninit\n\tldmxcsr %0" ::"m"(mxcsr));
	arch_fpu_save(fpu_init_img);
	fpu_mxcsr_mask = *(uint32_t *)(fpu_init_img + 28);
	if (!fpu_mxcsr_mask)
		fpu_mxcsr_mask = 0xffbf; /* FXSAVE's documented default */
	/* x87 and XMM registers zero, whatever the loader left there. */
	memset(fpu_init_img + 32, 0, 416 - 32);
	arch_fpu_reset();
}

void arch_thread_init_boot(struct arch_thread *t, uint64_t kstack_top)
{
	t->kstack_top = kstack_top;
	t->fs_base = 0;
	memcpy(t->fpu, fpu_init_img, FPU_STATE_SIZE);
}

extern void arch_thread_entry(void);
extern void arch_switch_stacks(uint64_t *save_ksp, uint64_t new_ksp);

void arch_thread_init(struct arch_thread *t, uint64_t kstack_top)
{
	/* The frame arch_switch_stacks pops: six callee-saved registers and
	 * a return address into arch_thread_entry, right below the
	 * trapframe. */
	uint64_t *sp = (uint64_t *)(kstack_top - sizeof(struct trapframe));
	*--sp = (uint64_t)arch_thread_entry;
	for (int i = 0; i < 6; i++)
		*--sp = 0;
	t->ksp = (uint64_t)sp;
	t->kstack_top = kstack_top;
	arch_fpu_save(t->fpu);
}

void arch_switch(struct arch_thread *prev, struct arch_thread *next)
{
	arch_fpu_save(prev->fpu);
	__asm__ volatile("fxrstor64 (%0)" ::"r"(next->fpu) : "memory");
	if (next->fs_base != prev->fs_base)
		wrmsr(MSR_FS_BASE, next->fs_base);
	arch_set_kernel_stack(next->kstack_top);
	arch_switch_stacks(&prev->ksp, next->ksp);
}

void arch_set_kernel_stack(uint64_t top)
{
	tss.rsp[0] = top;
	cpu_kernel_rsp = top;
}

void arch_set_fs_base(uint64_t base)
{
	wrmsr(MSR_FS_BASE, base);
}

uint64_t arch_get_fs_base(void)
{
	return rdmsr(MSR_FS_BASE);
}

void arch_init(void)
{
	tss.ist[0] = (uint64_t)(ist_stack_df + sizeof(ist_stack_df));
	tss.ist[1] = (uint64_t)(ist_stack_nmi + sizeof(ist_stack_nmi));
	tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 has no ports */
	gdt_load();
	idt_load();
	arch_set_kernel_stack((uint64_t)boot_stack_top);
	syscall_msrs_init();
	fpu_init();
}
