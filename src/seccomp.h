/*
 * seccomp: the daemon's system call filter, on libseccomp.
 *
 * An allow-list: the calls the daemon, SQLite, libmicrohttpd, libcurl,
 * OpenSSL and libgit2 make while serving and publishing (found by running
 * the test suite under strace -f -c), for the native architecture.  A call
 * outside it fails with EPERM, so a library that tries something new gets
 * an error it already handles rather than a dead daemon; the calls that
 * only an attacker would make (execve, ptrace, mount, bpf, kexec_load,
 * init_module, keyctl, ...) are simply absent from the list.  Nothing the
 * daemon does starts a process: the git targets speak HTTP and SSH through
 * libgit2, S3 through libcurl.
 *
 * The filter is installed with SECCOMP_FILTER_FLAG_TSYNC, so it holds for
 * every thread of the process, and needs no_new_privs (set here too).
 */
#ifndef HL_SECCOMP_H
#define HL_SECCOMP_H

#include "err.h"

/* Installs the filter.  Returns 0, or HL_EIO / HL_ENOMEM with err set. */
int	hl_seccomp_apply(struct hl_err *err);

#endif
