/*
 * Helpers shared by the file syscall shims (kernel/sys/fs_*.c): copying
 * paths in from the program.  The shims copy every argument into kernel
 * memory first and hand kernel strings to the vfs.
 */
#include "../fs/vfs.h"

#include "mm.h"
#include "uaccess.h"

int fs_user_path(const char *upath, char **out)
{
	char *buf = kmalloc(MAX_PATH);
	long n;

	if (!buf)
		return -ENOMEM;
	n = strncpy_from_user(buf, upath, MAX_PATH);
	if (n < 0) {
		kfree(buf);
		return (int)n;
	}
	*out = buf;
	return 0;
}
