/*
 * kiln-vmm's checked guest-address accessor, mem_gpa(): every range inside
 * RAM maps to the right host byte; every range that leaves RAM, including
 * ones whose end wraps around 2^64, is refused.
 */
#include <stdint.h>

#include "../../vmm/vmm.h"
#include "vmm_test.h"

int main(void)
{
	struct mem m;
	char err[256];
	const uint64_t size = 2 * VMM_MIB;

	CHECK(mem_init(&m, size, err, sizeof(err)) == 0, "mem_init 2 MiB");
	CHECK(m.size == size, "size recorded");
	CHECK(mem_gpa(&m, 0, size) == m.host, "[0, size) is inside");
	CHECK(mem_gpa(&m, size - 1, 1) == m.host + size - 1, "last byte");
	CHECK(mem_gpa(&m, 0x1234, 16) == m.host + 0x1234, "offset maps");
	CHECK(mem_gpa(&m, size, 0) != NULL, "empty range at the end");
	CHECK(mem_gpa(&m, size, 1) == NULL, "byte past the end refused");
	CHECK(mem_gpa(&m, size - 1, 2) == NULL, "range crossing the end");
	CHECK(mem_gpa(&m, 1, size) == NULL, "length too long by one");
	CHECK(mem_gpa(&m, size + 1, 0) == NULL, "empty range beyond RAM");
	CHECK(mem_gpa(&m, UINT64_MAX, 2) == NULL, "gpa + len wraps (gpa max)");
	CHECK(mem_gpa(&m, 16, UINT64_MAX - 15) == NULL,
	      "gpa + len wraps to 0 (len max)");
	CHECK(mem_gpa(&m, 0x1000, UINT64_MAX) == NULL, "len max");
	CHECK(mem_gpa(&m, UINT64_MAX, 0) == NULL, "gpa max, len 0");
	CHECK(mem_gpa(&m, 0xffffffff, 0x100000001ULL) == NULL,
	      "32-bit wrap does not fool it");

	int zero = 1;
	for (uint64_t a = 0; a < size; a += 4096)
		zero &= m.host[a] == 0;
	CHECK(zero, "fresh guest memory reads zero");
	mem_release(&m);
	CHECK(m.host == NULL && mem_gpa(&m, 0, 1) == NULL,
	      "released memory refuses everything");

	CHECK(mem_init(&m, 1ULL << 62, err, sizeof(err)) < 0 &&
		  vmm_test_has(err, "cannot map"),
	      "impossible size fails with a message: %s", err);
	return vmm_test_done("vmm_mem");
}
