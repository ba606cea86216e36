/*
 * cmd: subcommands of the helios command that live beside main.c, each in
 * a file of its own (cmd_<name>.c).  Each takes argc/argv starting at the
 * subcommand's name and returns the process exit status.  The client's
 * commands (pull, verify) are declared in client/client.h.
 */
#ifndef HL_CMD_H
#define HL_CMD_H

int	hl_cmd_history(int argc, char **argv);	/* cmd_history.c */
int	hl_cmd_restore(int argc, char **argv);	/* cmd_restore.c */
int	hl_cmd_import_git(int argc, char **argv);	/* cmd_import_git.c */
int	hl_cmd_key(int argc, char **argv);		/* cmd_key.c */

#endif
