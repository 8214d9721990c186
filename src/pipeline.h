/*
** pipeline.h — documents analysed in worker threads, handed back in the
** order they were submitted.
**
** The writer fills a slot (a furet_adoc) with a document and submits it;
** the worker threads, each with its own analyzer from the index's pool,
** run furet_adoc_run on submitted slots; the writer takes the oldest slot
** back once it is analysed, inverts it and releases it. Slots form a ring:
** at most n_slots documents are in flight, and they come back in
** submission order whatever thread finished first, so passage ids and
** postings are the same as with one thread.
**
** With one thread there is no worker: submit analyses the document at
** once in the calling thread (the same code, one slot).
**
** Only the thread that opened the pipeline calls it. A slot belongs to the
** caller from furet_pipeline_slot to submit, and again from
** furet_pipeline_oldest to release; to its worker in between.
*/
#ifndef FURET_PIPELINE_H
#define FURET_PIPELINE_H

#include <stddef.h>

#include "analysed.h"
#include "furet.h"
#include "index.h"

typedef struct furet_pipeline furet_pipeline;

/* Starts n_threads workers (1: none, analysis in the caller's thread)
** with analyzers from ix's pool. A thread that cannot be started leaves
** fewer workers, not an error. FURET_NOMEM, FURET_ERROR (ICU). */
furet_rc furet_pipeline_open(furet_index *ix, unsigned n_threads,
	furet_pipeline **out);

/* Stops the workers (a document being analysed is finished first), gives
** the analyzers back and frees every slot. Accepts NULL. */
void furet_pipeline_close(furet_pipeline *p);

/* The slot to fill with the next document, or NULL when all are in
** flight: take the oldest back first. */
furet_adoc *furet_pipeline_slot(furet_pipeline *p);

/* Hands the slot just filled over for analysis. */
void furet_pipeline_submit(furet_pipeline *p);

/* The oldest submitted document once analysed (its rc says how that
** went), waiting for it when is_wait; NULL when nothing is in flight, or
** when it is not analysed yet and !is_wait. */
furet_adoc *furet_pipeline_oldest(furet_pipeline *p, int is_wait);

/* Frees the oldest slot for another document. A slot that a big document
** made hold more than shrink_above bytes gives its memory back. */
void furet_pipeline_release(furet_pipeline *p, size_t shrink_above);

/* Documents in flight, and the text bytes they hold. */
size_t furet_pipeline_in_flight(const furet_pipeline *p);
size_t furet_pipeline_text_bytes(const furet_pipeline *p);

/* Memory the slots held when last released (for the writer's budget). */
size_t furet_pipeline_bytes(const furet_pipeline *p);

#endif
