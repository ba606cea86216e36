/*
 * seccomp: the allow-list (see seccomp.h).
 *
 * Names, not numbers: libseccomp resolves each for the native
 * architecture and skips one the architecture lacks (stat on arm64), so
 * the list reads the same everywhere.  Grouped by who needs them.
 */
#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "seccomp.h"

static const char *const allowed[] = {
	/* memory, threads, time, signals (glibc, every library) */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync",
	"mlock", "munlock", "membarrier",
	"clone", "clone3", "exit", "exit_group", "set_robust_list",
	"get_robust_list", "set_tid_address", "rseq", "futex",
	"futex_waitv", "sched_yield", "sched_getaffinity",
	"sched_getparam", "sched_getscheduler", "getpriority",
	"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "times", "getrusage", "sysinfo", "uname",
	"getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
	"getegid", "getresuid", "getresgid", "getgroups", "getpgrp",
	"prlimit64", "getrlimit", "umask", "prctl", "arch_prctl",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigtimedwait",
	"rt_sigpending", "rt_sigsuspend", "sigaltstack", "tgkill", "tkill",
	"restart_syscall", "getrandom", "getcpu",
	/* the publisher lowers its own priority (publisher.c) */
	"getpriority", "setpriority", "ioprio_get", "ioprio_set",
	/* files: SQLite, the targets, the static server, libgit2 */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
	"pwritev", "preadv2", "pwritev2", "lseek", "close", "close_range",
	"open", "openat", "openat2", "creat", "stat", "fstat", "lstat",
	"newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
	"faccessat2", "readlink", "readlinkat", "getcwd", "getdents",
	"getdents64", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat",
	"rename", "renameat", "renameat2", "link", "linkat", "symlink",
	"symlinkat", "chmod", "fchmod", "fchmodat", "fchown", "utimensat",
	"futimesat", "utimes", "truncate", "ftruncate", "fallocate",
	"fsync", "fdatasync", "syncfs", "sync_file_range", "flock", "fcntl",
	"dup", "dup2", "dup3", "pipe", "pipe2", "ioctl", "fadvise64",
	"sendfile", "copy_file_range", "splice", "inotify_init1",
	"inotify_add_watch", "inotify_rm_watch",
	/* pub_dir's ETag marks, read by the static table (etagmark.h) */
	"fsetxattr", "fgetxattr",
	/* network: libmicrohttpd, libcurl, libgit2, the resolver */
	"socket", "socketpair", "connect", "accept", "accept4", "listen",
	"bind", "getsockname", "getpeername", "getsockopt", "setsockopt",
	"shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg",
	"recvmmsg", "poll", "ppoll", "select", "pselect6", "epoll_create",
	"epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
	"epoll_pwait2", "eventfd", "eventfd2",
};

int
hl_seccomp_apply(struct hl_err *err)
{
	scmp_filter_ctx ctx;
	size_t i;
	int nr, rc;

	if ((ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "seccomp_init failed");
	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if ((nr = seccomp_syscall_resolve_name(allowed[i])) ==
		    __NR_SCMP_ERROR)
			continue;
		if ((rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)) < 0) {
			seccomp_release(ctx);
			return hl_err_set(err, HL_EIO, "seccomp: %s: %s",
			    allowed[i], strerror(-rc));
		}
	}
	if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1)) < 0 ||
	    (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1)) < 0 ||
	    (rc = seccomp_load(ctx)) < 0) {
		seccomp_release(ctx);
		return hl_err_set(err, HL_EIO, "seccomp: %s", strerror(-rc));
	}
	seccomp_release(ctx);
	return 0;
}
