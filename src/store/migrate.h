/*
 * migrate: the SQL migrations in schema/, compiled in (build/schema_sql.c,
 * made by tests/tools/embed.sh) and applied in order by hl_store_open.
 * PRAGMA user_version holds the number of migrations applied.
 */
#ifndef HL_MIGRATE_H
#define HL_MIGRATE_H

struct hl_migration {
	const char	*name;
	const char	*sql;
};

extern const struct hl_migration hl_migrations[];
extern const int hl_migrations_n;

#endif
