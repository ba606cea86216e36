/*
 * cmd_pending: subcommands whose implementation has not landed yet.  Each
 * says so and exits 1.  Remove an entry when its cmd_<name>.c arrives.
 */
#include <stdio.h>

#include "cmd.h"

static int
pending(const char *name)
{
	fprintf(stderr, "helios %s: not available in this build\n", name);
	return 1;
}

int hl_cmd_history(int argc, char **argv) { return pending("history"); }
int hl_cmd_restore(int argc, char **argv) { return pending("restore"); }
