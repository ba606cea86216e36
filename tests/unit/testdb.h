/*
 * testdb: what the unit tests share about their database files.
 */
#ifndef HL_TESTDB_H
#define HL_TESTDB_H

/* Removes the database at path with its -wal, -shm and -journal. */
void	hl_testdb_remove(const char *path);

#endif
