/*
 * LD_PRELOAD for QEMU's virtiofsd, run by banger as the user inside `unshare -rm` (a user
 * namespace whose uid 0 is the user). virtiofsd drops supplementary groups at start with
 * setgroups(0, NULL) and exits when that fails; in an unprivileged user namespace the kernel
 * always refuses setgroups (EPERM: /proc/self/setgroups is "deny"). The groups are the user's
 * own and cannot be changed there anyway, so that one call reports success; every other
 * setgroups call, and every other error, is passed through unchanged.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <stddef.h>

int setgroups(size_t size, const gid_t *list)
{
	int (*real)(size_t, const gid_t *) = (int (*)(size_t, const gid_t *))dlsym(RTLD_NEXT, "setgroups");
	if (!real) {
		errno = ENOSYS;
		return -1;
	}
	int r = real(size, list);
	if (r == -1 && errno == EPERM && size == 0)
		return 0;
	return r;
}
