/* Writes to an unmapped address and must die with SIGSEGV: kiln run exits
 * 139 and the console report names the faulting address.  The address is
 * never printed by this program, so finding it in the output proves the
 * report is the kernel's. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	volatile int *p = (volatile int *)(uintptr_t)0xdead0;

	puts("segv: about to fault");
	fflush(stdout);
	*p = 1;
	puts("segv: still alive after the fault (wrong)");
	return 0;
}
