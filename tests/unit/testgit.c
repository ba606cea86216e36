/*
 * testgit: the git server script of the unit tests (see testgit.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "testgit.h"

const char *
hl_testgit_server(void)
{
	static char path[512];
	const char *d = getenv("HL_SRCDIR");

	(void)snprintf(path, sizeof(path), "%s/tests/tools/git-http.sh",
	    d != NULL ? d : ".");
	return path;
}
