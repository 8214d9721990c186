/*
** index.h — the furet_index handle shared by writer.c and search.c.
**
** An index is an open store plus a pool of analyzers: analyzers are not
** thread safe and cost an ICU break iterator and a stemmer to make, so each
** search borrows one from the pool (under a mutex) and gives it back.
*/
#ifndef FURET_INDEX_H
#define FURET_INDEX_H

#include <pthread.h>

#include "analyzer.h"
#include "furet.h"
#include "store.h"

struct furet_index {
	furet_store *store;
	pthread_mutex_t mu;           /* guards pool, n_pool, has_writer, errmsg */
	furet_analyzer **pool;
	size_t n_pool, cap_pool;
	int has_writer;
	char errmsg[512];
};

/* Borrows an analyzer (made when the pool is empty); give it back after. */
furet_rc furet_index_take_analyzer(furet_index *ix, furet_analyzer **out);
void furet_index_give_analyzer(furet_index *ix, furet_analyzer *a);
/* Closes the pooled analyzers but keep of them (a writer with a small
** budget, once its analysis threads are gone: each holds megabytes of
** caches that the commit can use). */
void furet_index_trim_analyzers(furet_index *ix, size_t keep);

/* Takes the right to write: one writer per handle (FURET_BUSY otherwise)
** and the cross-process writer lock (waiting for it, or FURET_BUSY naming
** its holder when !is_wait). Release with furet_index_end_write. */
furet_rc furet_index_begin_write(furet_index *ix, int is_wait);
void furet_index_end_write(furet_index *ix);

/* Records the detail of a failure for furet_index_errmsg; returns rc. */
furet_rc furet_index_fail(furet_index *ix, furet_rc rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs of postings the writer spilled to its temporary file so far (for
** the tests of the memory budget). */
size_t furet_writer_runs(const furet_writer *w);
/* Parts of a rebuild committed so far beside the index (writer.c:
** maybe_part), and the bytes kept per document and passage past which the
** next one is (0, the default: a quarter of the budget; tests lower it). */
size_t furet_writer_parts(const furet_writer *w);
extern uint64_t furet_writer_part_max;
/* For tests: the bytes of the parts' id hashes a rebuild keeps, past which
** it looks each id up in the parts (0: an eighth of the budget). */
extern uint64_t furet_writer_part_ids_max;
/* Transactions compaction's purges have committed (maintain.c), and for
** tests, the one after which a purge fails (0: none). */
extern size_t furet_purge_commits, furet_purge_fail_after;
/* The smallest number of bytes a rebuild writes between two checkpoints
** (see commit_rebuild in writer.c): 16 MiB; tests lower it to make a small
** rebuild commit many times. */
extern uint64_t furet_writer_ckpt_min;
/* Checkpoints made by rebuilds in this process so far (tests). */
size_t furet_writer_checkpoints(void);

#endif
