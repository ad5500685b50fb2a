/*
 * kvmtest: the smallest useful check that /dev/kvm really runs guest code.
 * It creates a VM with one vCPU, puts five bytes of real-mode code at
 * guest-physical 0x1000 (mov al,0x42; out 0x10,al; hlt), runs it and checks
 * that KVM reports first an I/O exit carrying 0x42 on port 0x10 and then a
 * HLT exit.  Built static so it can run inside the nested-KVM initramfs
 * (scripts/nested-kvm.sh); exits 0 on success, 1 on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int kvmtest_fail(const char *what)
{
	fprintf(stderr, "kvmtest: %s: %s\n", what, strerror(errno));
	return 1;
}

int main(void)
{
	static const uint8_t code[] = {0xb0, 0x42, 0xe6, 0x10, 0xf4};
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		return kvmtest_fail("cannot open '/dev/kvm'");
	int api = ioctl(kvm, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		fprintf(stderr, "kvmtest: unexpected kvm api version %d\n",
			api);
		return 1;
	}
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		return kvmtest_fail("KVM_CREATE_VM");

	size_t memsz = 0x10000;
	uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return kvmtest_fail("mmap guest memory");
	memcpy(mem + 0x1000, code, sizeof(code));
	struct kvm_userspace_memory_region region = {
	    .slot = 0,
	    .guest_phys_addr = 0,
	    .memory_size = memsz,
	    .userspace_addr = (uint64_t)(uintptr_t)mem,
	};
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return kvmtest_fail("KVM_SET_USER_MEMORY_REGION");

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	if (vcpu < 0)
		return kvmtest_fail("KVM_CREATE_VCPU");
	int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (runsz < 0)
		return kvmtest_fail("KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE,
				   MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		return kvmtest_fail("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return kvmtest_fail("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
		return kvmtest_fail("KVM_SET_SREGS");
	struct kvm_regs regs = {.rip = 0x1000, .rflags = 0x2};
	if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		return kvmtest_fail("KVM_SET_REGS");

	int saw_out = 0;
	for (int i = 0; i < 10; i++) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			return kvmtest_fail("KVM_RUN");
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			uint8_t val = *((uint8_t *)run + run->io.data_offset);
			printf("kvmtest: io exit dir=%s port=0x%x size=%d "
			       "val=0x%x\n",
			       run->io.direction == KVM_EXIT_IO_OUT ? "out"
								    : "in",
			       run->io.port, run->io.size, val);
			if (run->io.direction != KVM_EXIT_IO_OUT ||
			    run->io.port != 0x10 || run->io.size != 1 ||
			    val != 0x42) {
				fprintf(stderr,
					"kvmtest: unexpected io exit\n");
				return 1;
			}
			saw_out = 1;
			break;
		}
		case KVM_EXIT_HLT:
			printf("kvmtest: hlt exit\n");
			if (!saw_out) {
				fprintf(stderr, "kvmtest: hlt before out\n");
				return 1;
			}
			printf("kvmtest: ok\n");
			return 0;
		default:
			fprintf(stderr, "kvmtest: unexpected exit reason %u\n",
				run->exit_reason);
			return 1;
		}
	}
	fprintf(stderr, "kvmtest: no hlt after 10 runs\n");
	return 1;
}
