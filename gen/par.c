/*
 * par: one piece of a build on a second thread (see par.h).
 */
#include <pthread.h>
#include <stdlib.h>

#include "par.h"

struct hl_par {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 thread;
	int			 started;	/* thread made */
	int			 failed;	/* could not be: run inline */
	int			 stop;
	struct hl_par_job	*job;		/* handed, not yet done */
};

static void *
worker(void *arg)
{
	struct hl_par *p = arg;
	struct hl_par_job *j;

	(void)pthread_setname_np(pthread_self(), "hl-par");
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->job == NULL && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->job == NULL)
			break;
		j = p->job;
		pthread_mutex_unlock(&p->mu);
		j->rc = j->fn(j->arg);
		pthread_mutex_lock(&p->mu);
		p->job = NULL;
		j->queued = 0;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
hl_par_new(struct hl_par **out, struct hl_err *err)
{
	struct hl_par *p;

	if ((*out = p = calloc(1, sizeof(*p))) == NULL)
		return hl_err_set(err, HL_ENOMEM, "out of memory");
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	return 0;
}

void
hl_par_free(struct hl_par *p)
{
	if (p == NULL)
		return;
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void
hl_par_start(struct hl_par *p, struct hl_par_job *j, int (*fn)(void *),
    void *arg)
{
	int handed = 0;

	j->fn = fn;
	j->arg = arg;
	j->rc = 0;
	j->queued = 0;
	if (p != NULL) {
		pthread_mutex_lock(&p->mu);
		if (!p->started && !p->failed) {
			p->started = pthread_create(&p->thread, NULL, worker,
			    p) == 0;
			p->failed = !p->started;
		}
		if (p->started && p->job == NULL) {
			p->job = j;
			j->queued = handed = 1;
			pthread_cond_broadcast(&p->cv);
		}
		pthread_mutex_unlock(&p->mu);
	}
	/* (not j->queued: the worker may have run it and cleared it) */
	if (!handed)
		j->rc = fn(arg);
}

int
hl_par_join(struct hl_par *p, struct hl_par_job *j)
{
	if (p != NULL) {
		pthread_mutex_lock(&p->mu);
		while (j->queued)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
	}
	return j->rc;
}
