/*
 * landlock: a ruleset on the kernel's uAPI (see landlock.h).
 *
 * Debian 12's <linux/landlock.h> stops at ABI 2; the later flags and the
 * TCP rule's struct are defined here, as the kernel documents them
 * (Documentation/userspace-api/landlock.rst), and used only when the
 * running kernel reports the ABI that has them.  The ruleset attribute is
 * passed with the size that ABI knows, so an older kernel never sees a
 * field it would refuse.
 */
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "landlock.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)	/* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)	/* ABI 5 */
#endif
#define LL_NET_BIND_TCP				(1ULL << 0)	/* ABI 4 */
#define LL_NET_CONNECT_TCP			(1ULL << 1)
#define LL_RULE_NET_PORT			2
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET		(1ULL << 0)	/* ABI 6 */
#define LL_SCOPE_SIGNAL				(1ULL << 1)

#define MAX_PORTS	8

/* struct landlock_ruleset_attr as of ABI 6. */
struct ll_ruleset_attr {
	uint64_t	handled_access_fs;
	uint64_t	handled_access_net;	/* ABI 4 */
	uint64_t	scoped;			/* ABI 6 */
};

/* struct landlock_net_port_attr (ABI 4), packed as the kernel's. */
struct ll_net_port_attr {
	uint64_t	allowed_access;
	uint64_t	port;
} __attribute__((packed));

struct hl_landlock {
	int		 abi;
	int		 fd;		/* the ruleset */
	uint64_t	 fs;		/* handled file system rights */
	unsigned	 ports[MAX_PORTS];
	int		 nports;
};

#define FS_READ	(LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define FS_WRITE (LANDLOCK_ACCESS_FS_WRITE_FILE | \
	LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
	LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
	LANDLOCK_ACCESS_FS_MAKE_SYM | LANDLOCK_ACCESS_FS_REFER | \
	LANDLOCK_ACCESS_FS_TRUNCATE)
/* What applies to a file (the kernel refuses the others on one). */
#define FS_FILE	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
	LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
	LANDLOCK_ACCESS_FS_IOCTL_DEV)

int
hl_landlock_abi(void)
{
	long v;

	v = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);
	return v < 0 ? 0 : (int)v;
}

/* The file system rights the kernel of that ABI handles. */
static uint64_t
fs_rights(int abi)
{
	uint64_t fs = LANDLOCK_ACCESS_FS_EXECUTE | FS_READ |
	    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR |
	    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
	    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

int
hl_landlock_new(struct hl_landlock **out, struct hl_err *err)
{
	struct ll_ruleset_attr attr;
	struct hl_landlock *ll;
	size_t size;
	int abi;

	*out = NULL;
	if ((abi = hl_landlock_abi()) <= 0)
		return hl_err_set(err, HL_ENOTFOUND, "the kernel has no"
		    " Landlock (%s)", errno == EOPNOTSUPP ? "disabled at boot" :
		    strerror(errno));
	if ((ll = calloc(1, sizeof(*ll))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	ll->abi = abi;
	ll->fs = fs_rights(abi);
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = ll->fs;
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LL_NET_BIND_TCP;
		size = offsetof(struct ll_ruleset_attr, scoped);
	}
	if (abi >= 6) {
		attr.scoped = LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL;
		size = sizeof(attr);
	}
	ll->fd = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ll->fd < 0) {
		hl_err_set(err, HL_EIO, "landlock_create_ruleset: %s",
		    strerror(errno));
		free(ll);
		return HL_EIO;
	}
	*out = ll;
	return 0;
}

void
hl_landlock_free(struct hl_landlock *ll)
{
	if (ll == NULL)
		return;
	close(ll->fd);
	free(ll);
}

int
hl_landlock_allow(struct hl_landlock *ll, const char *path,
    enum hl_landlock_access access, int optional, struct hl_err *err)
{
	struct landlock_path_beneath_attr pb;
	struct stat sb;
	uint64_t a;
	int fd, rc = 0;

	if ((fd = open(path, O_PATH | O_CLOEXEC)) < 0) {
		/* Absent, or out of the user's reach anyway. */
		if (optional && (errno == ENOENT || errno == ENOTDIR ||
		    errno == EACCES))
			return 0;
		return hl_err_set(err, HL_EIO, "landlock: %s: %s", path,
		    strerror(errno));
	}
	a = FS_READ;
	if (access == HL_LANDLOCK_RX)
		a |= LANDLOCK_ACCESS_FS_EXECUTE;
	else if (access == HL_LANDLOCK_RW)
		a |= FS_WRITE;
	if (fstat(fd, &sb) == 0 && !S_ISDIR(sb.st_mode))
		a &= FS_FILE;
	memset(&pb, 0, sizeof(pb));
	pb.allowed_access = a & ll->fs;
	pb.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ll->fd, LANDLOCK_RULE_PATH_BENEATH,
	    &pb, 0) != 0)
		rc = hl_err_set(err, HL_EIO, "landlock: %s: %s", path,
		    strerror(errno));
	close(fd);
	return rc;
}

void
hl_landlock_bind_port(struct hl_landlock *ll, unsigned port)
{
	if (ll->nports < MAX_PORTS)
		ll->ports[ll->nports++] = port;
}

int
hl_landlock_apply(struct hl_landlock *ll, struct hl_err *err)
{
	struct ll_net_port_attr np;
	int i;

	for (i = 0; ll->abi >= 4 && i < ll->nports; i++) {
		np.allowed_access = LL_NET_BIND_TCP;
		np.port = ll->ports[i];
		if (syscall(SYS_landlock_add_rule, ll->fd, LL_RULE_NET_PORT,
		    &np, 0) != 0)
			return hl_err_set(err, HL_EIO, "landlock: port %u: %s",
			    ll->ports[i], strerror(errno));
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return hl_err_set(err, HL_EIO, "no_new_privs: %s",
		    strerror(errno));
	if (syscall(SYS_landlock_restrict_self, ll->fd, 0) != 0)
		return hl_err_set(err, HL_EIO, "landlock_restrict_self: %s",
		    strerror(errno));
	return 0;
}
