/*
** pipeline.c — a ring of document slots and the threads that analyse them.
** See pipeline.h.
**
** Sequence numbers, never reset: head is the oldest slot not yet
** released, next the next slot a worker will take, tail the next slot to
** fill; head <= next <= tail <= head + n_slots, and slot s is
** slots[s % n_slots]. One mutex guards next, tail, stop and every slot's
** is_done; a worker writes a slot's document only between taking it and
** setting is_done, the caller only outside that window, and the mutex
** orders the two.
*/
#include "pipeline.h"

#include <pthread.h>
#include <string.h>

#include "util.h"

typedef struct slot {
	furet_adoc d;
	int is_done;
	size_t bytes;      /* furet_adoc_bytes when last released */
	size_t text_len;   /* of the document in flight */
} slot;

typedef struct worker {
	furet_pipeline *p;
	furet_analyzer *an;
	pthread_t th;
	int is_started;
} worker;

struct furet_pipeline {
	furet_index *ix;
	slot *slots;
	size_t n_slots;
	worker *workers;
	size_t n_workers;
	furet_analyzer *an;  /* the caller's, without workers */
	uint64_t head, next, tail;
	size_t text_bytes;   /* of the slots in flight */
	pthread_mutex_t mu;
	pthread_cond_t has_work, has_done;
	int stop;
};

static void *work(void *arg)
{
	worker *wk = arg;
	furet_pipeline *p = wk->p;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		slot *s;
		while (!p->stop && p->next == p->tail)
			pthread_cond_wait(&p->has_work, &p->mu);
		if (p->stop)
			break;
		s = &p->slots[p->next++ % p->n_slots];
		pthread_mutex_unlock(&p->mu);
		furet_adoc_run(&s->d, wk->an);
		pthread_mutex_lock(&p->mu);
		s->is_done = 1;
		pthread_cond_signal(&p->has_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

furet_rc furet_pipeline_open(furet_index *ix, unsigned n_threads,
	furet_pipeline **out)
{
	furet_pipeline *p;
	furet_rc rc = FURET_OK;
	size_t i;

	*out = NULL;
	p = furet_malloc(sizeof *p);
	if (!p)
		return FURET_NOMEM;
	memset(p, 0, sizeof *p);
	p->ix = ix;
	if (pthread_mutex_init(&p->mu, NULL)) {
		furet_free(p);
		return FURET_ERROR;
	}
	if (pthread_cond_init(&p->has_work, NULL)) {
		pthread_mutex_destroy(&p->mu);
		furet_free(p);
		return FURET_ERROR;
	}
	if (pthread_cond_init(&p->has_done, NULL)) {
		pthread_cond_destroy(&p->has_work);
		pthread_mutex_destroy(&p->mu);
		furet_free(p);
		return FURET_ERROR;
	}
	/* Two documents per worker keep them busy while the caller inverts;
	** two more let the caller fill slots meanwhile. */
	p->n_slots = n_threads > 1 ? 2 * (size_t)n_threads + 2 : 1;
	p->slots = furet_malloc(p->n_slots * sizeof *p->slots);
	if (!p->slots) {
		rc = FURET_NOMEM;
		goto fail;
	}
	for (i = 0; i < p->n_slots; i++) {
		furet_adoc_init(&p->slots[i].d);
		p->slots[i].is_done = 0;
		p->slots[i].bytes = 0;
		p->slots[i].text_len = 0;
	}
	if (n_threads <= 1) {
		if ((rc = furet_index_take_analyzer(ix, &p->an)))
			goto fail;
		*out = p;
		return FURET_OK;
	}
	p->workers = furet_malloc(n_threads * sizeof *p->workers);
	if (!p->workers) {
		rc = FURET_NOMEM;
		goto fail;
	}
	memset(p->workers, 0, n_threads * sizeof *p->workers);
	for (i = 0; i < n_threads; i++) {
		worker *wk = &p->workers[i];
		wk->p = p;
		if ((rc = furet_index_take_analyzer(ix, &wk->an)))
			goto fail;
		p->n_workers++;
		if (pthread_create(&wk->th, NULL, work, wk) != 0)
			break; /* fewer workers */
		wk->is_started = 1;
	}
	if (!p->workers[0].is_started) {
		/* Not one thread: analyse in the caller's, with one slot. */
		p->an = p->workers[0].an;
		p->workers[0].an = NULL;
		p->n_slots = 1;
	}
	*out = p;
	return FURET_OK;
fail:
	furet_pipeline_close(p);
	return rc;
}

void furet_pipeline_close(furet_pipeline *p)
{
	size_t i;

	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->has_work);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->n_workers; i++) {
		if (p->workers[i].is_started)
			pthread_join(p->workers[i].th, NULL);
		if (p->workers[i].an)
			furet_index_give_analyzer(p->ix, p->workers[i].an);
	}
	if (p->an)
		furet_index_give_analyzer(p->ix, p->an);
	if (p->slots)
		for (i = 0; i < p->n_slots; i++)
			furet_adoc_free(&p->slots[i].d);
	furet_free(p->slots);
	furet_free(p->workers);
	pthread_cond_destroy(&p->has_done);
	pthread_cond_destroy(&p->has_work);
	pthread_mutex_destroy(&p->mu);
	furet_free(p);
}

furet_adoc *furet_pipeline_slot(furet_pipeline *p)
{
	if (p->tail - p->head == p->n_slots)
		return NULL;
	return &p->slots[p->tail % p->n_slots].d;
}

void furet_pipeline_submit(furet_pipeline *p)
{
	slot *s = &p->slots[p->tail % p->n_slots];

	s->text_len = s->d.text_len;
	p->text_bytes += s->text_len;
	if (p->an) {
		furet_adoc_run(&s->d, p->an);
		s->is_done = 1;
		p->tail++;
		p->next = p->tail;
		return;
	}
	pthread_mutex_lock(&p->mu);
	s->is_done = 0;
	p->tail++;
	pthread_cond_signal(&p->has_work);
	pthread_mutex_unlock(&p->mu);
}

furet_adoc *furet_pipeline_oldest(furet_pipeline *p, int is_wait)
{
	slot *s;

	if (p->head == p->tail)
		return NULL;
	s = &p->slots[p->head % p->n_slots];
	if (p->an)
		return &s->d;
	pthread_mutex_lock(&p->mu);
	while (!s->is_done) {
		if (!is_wait) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_cond_wait(&p->has_done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return &s->d;
}

void furet_pipeline_release(furet_pipeline *p, size_t shrink_above)
{
	slot *s = &p->slots[p->head % p->n_slots];

	s->bytes = furet_adoc_bytes(&s->d);
	if (s->bytes > shrink_above) {
		furet_adoc_shrink(&s->d);
		s->bytes = 0;
	}
	p->text_bytes -= s->text_len;
	s->text_len = 0;
	s->is_done = 0; /* the caller owns it: no worker looks at it now */
	p->head++;
}

size_t furet_pipeline_in_flight(const furet_pipeline *p)
{
	return (size_t)(p->tail - p->head);
}

size_t furet_pipeline_text_bytes(const furet_pipeline *p)
{
	return p->text_bytes;
}

size_t furet_pipeline_bytes(const furet_pipeline *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_slots; i++)
		n += p->slots[i].bytes;
	return n + p->n_slots * sizeof *p->slots;
}
