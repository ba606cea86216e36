/*
 * testdb: removing a test's database files and directories (testdb.h).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
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

static int
rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path);
}

int
hl_testdb_rmtree(const char *dir)
{
	return nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
