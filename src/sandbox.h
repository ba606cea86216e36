/*
 * sandbox: what `helios serve` may touch once it serves, and the call that
 * confines it (the policy; landlock.h and seccomp.h are the mechanisms).
 *
 * Applied once, after the port is bound and privileges are dropped and
 * before the first thread starts (so that every thread inherits it):
 *
 *   no_new_privs   always, whatever the mode
 *   Landlock       read and write: the database's directory, the public
 *                  directory, dir: and local git targets, the git cache
 *                  ($HELIOS_GIT_CACHE, else $TMPDIR or /tmp,
 *                  helios-git-cache);
 *                  read: the site sources, the directories of the config
 *                  file, the signing key, the ham corpus and the
 *                  credential files ($HELIOS_GIT_CREDENTIALS,
 *                  $HELIOS_S3_CREDENTIALS, $HELIOS_GIT_SSH_KEY), and what
 *                  the libraries read (/etc/ssl, /etc/resolv.conf,
 *                  /etc/hosts, /etc/passwd, /usr/share/zoneinfo,
 *                  /dev/urandom, git's config files, ...);
 *                  read and map: the shared libraries (/usr/lib, /lib).
 *                  TCP bind: only the serving port (ABI 4 and later).
 *   seccomp        the system call allow-list (seccomp.h)
 *
 * Modes (config key `sandbox`): strict refuses to start when a part is
 * missing; auto (the default) logs one line for what the kernel lacks and
 * goes on; off applies nothing but no_new_privs.  In a build with
 * AddressSanitizer, auto applies only no_new_privs too: the sanitizers'
 * leak check and symbolizer need ptrace, /proc and execve.
 *
 * Replacing a file outside these directories (a key moved elsewhere)
 * takes a restart, as changing the config's paths does anyway.
 */
#ifndef HL_SANDBOX_H
#define HL_SANDBOX_H

#include "config.h"
#include "err.h"

struct hl_sandbox_opts {
	const struct hl_config	*cfg;
	const char *const	*config_files;	/* read again on SIGHUP */
	int			 nconfig_files;
	unsigned		 port;		/* the one port bound */
};

/*
 * Confines the calling process as the mode of o->cfg says, and logs one
 * line saying what is in force.  Returns 0; in strict mode HL_EIO (or
 * HL_ENOTFOUND when the kernel lacks Landlock) with err set, and the
 * caller must not serve.
 */
int	hl_sandbox_apply(const struct hl_sandbox_opts *o, struct hl_err *err);

#endif
