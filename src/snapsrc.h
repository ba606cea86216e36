/*
 * snapsrc: the store as the generator's source of rows.
 *
 * The generator (gen/snapshot.h) takes rows through a struct
 * hl_snap_source and never includes the store; this fills one in with
 * the store's own reads, so that everything that builds a tree from a
 * database (the publisher, helios publish, the tests and benchmarks)
 * hands it the same rows.
 */
#ifndef HL_SNAPSRC_H
#define HL_SNAPSRC_H

#include "snapshot.h"
#include "store.h"

/*
 * Makes *out read from st, which must outlive it.  begin/end are a read
 * transaction (hl_store_read_begin/end), so one build sees one version
 * while the API keeps writing on another connection.
 */
void	hl_snapsrc_store(struct hl_snap_source *out, struct hl_store *st);

#endif
