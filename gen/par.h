/*
 * par: one piece of a build run on a second thread while the caller does
 * another (fork and join).
 *
 * A publish is one thread's work from the write to the manifest, and the
 * machine has a second core: where two pieces of a build share nothing
 * (a list's text and its JSON segment, the changes pages and the others),
 * the caller hands one to the worker with hl_par_start, does the other,
 * and takes the first's result with hl_par_join.  The worker is one thread
 * kept for the life of the struct hl_par, made on first use (so it runs
 * at the priority of the thread that builds), which keeps its gzip
 * compressors (blob.c) from one build to the next.  With no worker (p
 * NULL, busy, or no thread can be made) the piece runs in hl_par_start
 * instead: the result is the same, only later.
 *
 *	struct hl_par_job j;
 *
 *	hl_par_start(p, &j, text_job, &t);
 *	rc = json_job(&js);
 *	if (hl_par_join(p, &j) != 0 || rc != 0)
 *		...
 *
 * One caller thread at a time; a job's memory is the caller's until
 * hl_par_join returns.
 */
#ifndef HL_PAR_H
#define HL_PAR_H

#include "err.h"

struct hl_par;

struct hl_par_job {
	int		(*fn)(void *);
	void		*arg;
	int		 rc;
	int		 queued;	/* handed to the worker */
};

/* A worker, its thread not yet made.  HL_ENOMEM. */
int	hl_par_new(struct hl_par **out, struct hl_err *err);
/* Stops the worker (after its job) and frees p.  Accepts NULL. */
void	hl_par_free(struct hl_par *p);
/* Runs fn(arg) on p's worker, or here (see above). */
void	hl_par_start(struct hl_par *p, struct hl_par_job *j, int (*fn)(void *),
	    void *arg);
/* Waits for j, begun by hl_par_start; its fn's return value. */
int	hl_par_join(struct hl_par *p, struct hl_par_job *j);

#endif
