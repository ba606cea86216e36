/*
 * testdb: what the unit tests share about their files: a database with
 * its side files, a temporary directory.
 */
#ifndef HL_TESTDB_H
#define HL_TESTDB_H

/* Removes the database at path with its -wal, -shm and -journal. */
void	hl_testdb_remove(const char *path);
/* Removes the tree at dir, links not followed.  0, or -1 (errno). */
int	hl_testdb_rmtree(const char *dir);

#endif
