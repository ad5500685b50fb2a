/*
 * Mapping the vDSO.  Its bytes are part of the kernel's read-only data
 * (vdso_image.S, built from kernel/vdso); the vvar page is the clock's own
 * page (drivers/clock.c).  Both are mapped as they are, without copies,
 * read-only: the vvar page right below the vDSO, where the vDSO's linker
 * script expects it, then the vDSO read+exec.  One program, so one
 * mapping at the highest free address of the mmap area; no randomness.
 */
#include "exec.h"
#include "mm.h"
#include "proc.h"
#include "uvm.h"
#include "vvar.h"

extern const char vdso_image_start[], vdso_image_end[];

bool vdso_disabled;

int vdso_map(uint64_t *base)
{
	uint64_t len = (uint64_t)(vdso_image_end - vdso_image_start);
	uint64_t a = 0;
	*base = 0;
	if (vdso_disabled)
		return 0;
	/* Find room for both with one mapping, then put the vDSO over its
	 * upper part. */
	int r = uvm_map(&a, VVAR_SIZE + len, UVM_READ, 0, false, NULL, 0, 0);
	if (r)
		return r;
	r = uvm_map_kpages(a, VVAR_SIZE, UVM_READ, UVM_VVAR,
			   virt_to_phys(clock_vvar()));
	if (!r)
		r = uvm_map_kpages(a + VVAR_SIZE, len, UVM_READ | UVM_EXEC,
				   UVM_VDSO, virt_to_phys(vdso_image_start));
	if (r) {
		uvm_unmap(a, VVAR_SIZE + len);
		return r;
	}
	*base = a + VVAR_SIZE;
	return 0;
}
