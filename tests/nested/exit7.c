/*
 * exit7: the program tests/nested/smoke.sh boots under kiln-vmm inside the
 * nested-KVM guest.  It echoes its arguments and exits 7, so the smoke test
 * can check that argv from /.kiln/config and the exit status both made it
 * through kiln.elf and kiln-vmm.
 */
#include <stdio.h>

int main(int argc, char **argv)
{
	printf("exit7:");
	for (int i = 1; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	return 7;
}
