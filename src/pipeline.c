/*
** pipeline.c — a ring of job slots and the threads that run them. See
** pipeline.h.
**
** Sequence numbers, never reset: head is the oldest slot not yet
** released, next the next slot a worker will take, tail the next slot to
** fill; head <= next <= tail <= head + n_slots, and slot s is number
** s % n_slots. One mutex guards next, tail, stop and every slot's is_done;
** a worker touches a slot only between taking it and setting is_done, the
** caller only outside that window, and the mutex orders the two.
*/
#include "pipeline.h"

#include <pthread.h>
#include <string.h>

#include "util.h"

typedef struct slot_info {
	int is_done;
	size_t bytes;   /* slot_bytes when last released */
	size_t weight;  /* of the job in flight */
} slot_info;

typedef struct worker {
	furet_pipeline *p;
	void *state;
	int has_state;
	pthread_t th;
	int is_started;
} worker;

struct furet_pipeline {
	const furet_pipeline_ops *ops;
	unsigned char *slots;  /* n_slots of ops->slot_size bytes */
	slot_info *info;
	size_t n_slots;        /* in use */
	size_t n_alloc;        /* made (more when threads failed to start) */
	worker *workers;
	size_t n_workers;
	void *state;           /* the caller's, without workers */
	int has_state;
	uint64_t head, next, tail;
	size_t weight;         /* of the slots in flight */
	pthread_mutex_t mu;
	pthread_cond_t has_work, has_done;
	int stop;
};

static void *slot_at(const furet_pipeline *p, uint64_t seq)
{
	return p->slots + (size_t)(seq % p->n_slots) * p->ops->slot_size;
}

static void *work(void *arg)
{
	worker *wk = arg;
	furet_pipeline *p = wk->p;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		uint64_t seq;
		while (!p->stop && p->next == p->tail)
			pthread_cond_wait(&p->has_work, &p->mu);
		if (p->stop)
			break;
		seq = p->next++;
		pthread_mutex_unlock(&p->mu);
		p->ops->run(wk->state, slot_at(p, seq));
		pthread_mutex_lock(&p->mu);
		p->info[seq % p->n_slots].is_done = 1;
		pthread_cond_signal(&p->has_done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

furet_rc furet_pipeline_open(const furet_pipeline_ops *ops, unsigned n_threads,
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
	p->ops = ops;
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
	/* Two jobs per worker (ops->depth) keep them busy while the caller
	** uses results; two more let the caller fill slots meanwhile. */
	p->n_slots = n_threads > 1 ?
		(ops->depth ? ops->depth : 2) * (size_t)n_threads + 2 : 1;
	p->slots = furet_malloc(p->n_slots * ops->slot_size);
	p->info = furet_malloc(p->n_slots * sizeof *p->info);
	if (!p->slots || !p->info) {
		furet_free(p->slots);
		p->slots = NULL;
		rc = FURET_NOMEM;
		goto fail;
	}
	memset(p->info, 0, p->n_slots * sizeof *p->info);
	p->n_alloc = p->n_slots;
	for (i = 0; i < p->n_alloc; i++)
		ops->slot_init(p->slots + i * ops->slot_size);
	if (n_threads <= 1) {
		if ((rc = ops->state_open(ops->ctx, &p->state)))
			goto fail;
		p->has_state = 1;
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
		if ((rc = ops->state_open(ops->ctx, &wk->state)))
			goto fail;
		wk->has_state = 1;
		p->n_workers++;
		if (pthread_create(&wk->th, NULL, work, wk) != 0)
			break; /* fewer workers */
		wk->is_started = 1;
	}
	if (!p->workers[0].is_started) {
		/* Not one thread: run the jobs in the caller's, with one slot. */
		p->state = p->workers[0].state;
		p->has_state = 1;
		p->workers[0].has_state = 0;
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
		if (p->workers[i].has_state)
			p->ops->state_close(p->ops->ctx, p->workers[i].state);
	}
	if (p->has_state)
		p->ops->state_close(p->ops->ctx, p->state);
	for (i = 0; i < p->n_alloc; i++)
		p->ops->slot_free(p->slots + i * p->ops->slot_size);
	furet_free(p->slots);
	furet_free(p->info);
	furet_free(p->workers);
	pthread_cond_destroy(&p->has_done);
	pthread_cond_destroy(&p->has_work);
	pthread_mutex_destroy(&p->mu);
	furet_free(p);
}

void *furet_pipeline_slot(furet_pipeline *p)
{
	if (p->tail - p->head == p->n_slots)
		return NULL;
	return slot_at(p, p->tail);
}

void furet_pipeline_submit(furet_pipeline *p, size_t weight)
{
	slot_info *si = &p->info[p->tail % p->n_slots];

	si->weight = weight;
	p->weight += weight;
	if (p->has_state) {
		p->ops->run(p->state, slot_at(p, p->tail));
		si->is_done = 1;
		p->tail++;
		p->next = p->tail;
		return;
	}
	pthread_mutex_lock(&p->mu);
	si->is_done = 0;
	p->tail++;
	pthread_cond_signal(&p->has_work);
	pthread_mutex_unlock(&p->mu);
}

void *furet_pipeline_oldest(furet_pipeline *p, int is_wait)
{
	slot_info *si;

	if (p->head == p->tail)
		return NULL;
	si = &p->info[p->head % p->n_slots];
	if (p->has_state)
		return slot_at(p, p->head);
	pthread_mutex_lock(&p->mu);
	while (!si->is_done) {
		if (!is_wait) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_cond_wait(&p->has_done, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
	return slot_at(p, p->head);
}

void furet_pipeline_release(furet_pipeline *p, size_t shrink_above)
{
	slot_info *si = &p->info[p->head % p->n_slots];
	void *s = slot_at(p, p->head);

	si->bytes = p->ops->slot_bytes(s);
	if (si->bytes > shrink_above) {
		p->ops->slot_free(s);
		p->ops->slot_init(s);
		si->bytes = p->ops->slot_bytes(s);
	}
	p->weight -= si->weight;
	si->weight = 0;
	si->is_done = 0; /* the caller owns it: no worker looks at it now */
	p->head++;
}

size_t furet_pipeline_in_flight(const furet_pipeline *p)
{
	return (size_t)(p->tail - p->head);
}

size_t furet_pipeline_weight(const furet_pipeline *p)
{
	return p->weight;
}

size_t furet_pipeline_bytes(const furet_pipeline *p)
{
	size_t i, n = 0;

	for (i = 0; i < p->n_slots; i++)
		n += p->info[i].bytes;
	return n + p->n_slots * (p->ops->slot_size + sizeof *p->info);
}
