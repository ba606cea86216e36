/*
 * cmd: subcommands of the helios command that live beside main.c, each in
 * a file of its own (cmd_<name>.c).  Each takes argc/argv starting at the
 * subcommand's name and returns the process exit status.
 */
#ifndef HL_CMD_H
#define HL_CMD_H

int	hl_cmd_verify(int argc, char **argv);	/* cmd_verify.c */
int	hl_cmd_pull(int argc, char **argv);	/* cmd_pull.c */
int	hl_cmd_history(int argc, char **argv);	/* cmd_history.c */
int	hl_cmd_restore(int argc, char **argv);	/* cmd_restore.c */

#endif
