/*
 * client: the commands that read a published tree and nothing else
 * (`helios pull`, `helios verify`).  They stand apart from the daemon:
 * files here include only the base (src/base/) and each other, so the
 * client can be built, audited and vendored without the store, the
 * generator or the targets.  Each command takes argc/argv starting at its
 * name and returns the process exit status.
 */
#ifndef HL_CLIENT_H
#define HL_CLIENT_H

int	hl_cmd_verify(int argc, char **argv);	/* cmd_verify.c */
int	hl_cmd_pull(int argc, char **argv);	/* cmd_pull.c */

#endif
