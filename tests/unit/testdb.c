/*
 * testdb: removing a test's database files (see testdb.h).
 */
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "testdb.h"

void
hl_testdb_remove(const char *path)
{
	static const char *const side[] = { "", "-wal", "-shm", "-journal" };
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(side) / sizeof(side[0]); i++)
		if (snprintf(p, sizeof(p), "%s%s", path, side[i]) <
		    (int)sizeof(p))
			(void)unlink(p);
}
