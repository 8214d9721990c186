/*
** pipeline.h — work done in worker threads, handed back in the order it
** was submitted.
**
** The caller fills a slot with a job and submits it; worker threads, each
** with a state of its own (an analyzer, a compressor), run the job on it;
** the caller takes the oldest slot back once it is done, uses the result
** and releases the slot. Slots form a ring: at most n_slots jobs are in
** flight, and they come back in submission order whatever thread finished
** first, so that what the caller makes of them is the same as with one
** thread. The writer runs two: documents to analyse while a batch is
** built (analysed.c), stored texts to compress while it commits.
**
** With one thread there is no worker: submit runs the job at once in the
** calling thread (the same code, one slot).
**
** Only the thread that opened the pipeline calls it. A slot belongs to the
** caller from furet_pipeline_slot to submit, and again from
** furet_pipeline_oldest to release; to its worker in between.
*/
#ifndef FURET_PIPELINE_H
#define FURET_PIPELINE_H

#include <stddef.h>

#include "furet.h"

typedef struct furet_pipeline_ops {
	size_t slot_size;
	void (*slot_init)(void *slot);
	void (*slot_free)(void *slot);
	size_t (*slot_bytes)(const void *slot);   /* memory a slot holds */
	/* A worker's state: made in the opening thread, used by one worker. */
	furet_rc (*state_open)(void *ctx, void **state);
	void (*state_close)(void *ctx, void *state);
	void (*run)(void *state, void *slot);
	void *ctx;
	/* Jobs in flight per worker, 0 for 2 (and two more slots for the
	** caller to fill meanwhile). */
	unsigned depth;
} furet_pipeline_ops;

typedef struct furet_pipeline furet_pipeline;

/* Starts n_threads workers (1: none, the jobs run in the caller's thread).
** A thread that cannot be started leaves fewer workers, not an error.
** ops must outlive the pipeline. FURET_NOMEM, or what state_open says. */
furet_rc furet_pipeline_open(const furet_pipeline_ops *ops, unsigned n_threads,
	furet_pipeline **out);

/* Stops the workers (a job being run is finished first), closes their
** states and frees every slot. Accepts NULL. */
void furet_pipeline_close(furet_pipeline *p);

/* The slot to fill with the next job, or NULL when all are in flight:
** take the oldest back first. */
void *furet_pipeline_slot(furet_pipeline *p);

/* Hands the slot just filled over; weight (bytes of input, say) counts in
** furet_pipeline_weight until the slot is released. */
void furet_pipeline_submit(furet_pipeline *p, size_t weight);

/* The oldest submitted slot once its job is done, waiting for it when
** is_wait; NULL when nothing is in flight, or when it is not done yet and
** !is_wait. */
void *furet_pipeline_oldest(furet_pipeline *p, int is_wait);

/* Frees the oldest slot for another job. A slot holding more than
** shrink_above bytes is freed and made anew (a big job gives its memory
** back). */
void furet_pipeline_release(furet_pipeline *p, size_t shrink_above);

/* Jobs in flight, and their weight. */
size_t furet_pipeline_in_flight(const furet_pipeline *p);
size_t furet_pipeline_weight(const furet_pipeline *p);

/* Memory the slots held when last released (for the writer's budget). */
size_t furet_pipeline_bytes(const furet_pipeline *p);

#endif
