/*
** writer.c — a batch of documents, inverted in memory within a budget,
** committed in one LMDB write transaction.
**
** furet_writer_add (and put) checks a document, records its id and hands a
** copy to the analysis pipeline (pipeline.c): worker threads cut it into
** passages and analyse its title, sections and passage bodies into ENTRY
** records (analysed.c). This thread takes the analysed documents back in
** submission order and inverts them: it gives the passages their ids,
** appends one POSTING per (term, passage) to that term's in-memory list
** (encoded compactly as it grows, passage ids local to the batch), keeps
** the lookup pairs of the folds and words tables, and appends the document
** and its passages' texts to the spool. Passage ids, postings and
** everything written are therefore the same whatever the number of threads.
**
** Memory stays within a budget (furet_writer_options.memory). When the
** inverted run (terms, postings, pairs), the spool and what the batch
** keeps per document and passage reach the budget, the spool goes to an
** unnamed temporary file (spill.c), and from then on a chunk at a time;
** if that is not enough, the run is sorted and spilled to another
** temporary file as RUN, and inversion starts a new run; passage ids only
** grow, so the runs hold the postings of consecutive passages.
** What stays in memory for the whole batch: each document's id, its
** passage range and state, and each passage's length (4 bytes). A
** rebuild bounds that too: past a quarter of the budget, what it holds is
** written as a part into the new environment beside the index and
** committed there, and the batch starts again empty; the next parts are
** appended to it as incremental batches are, and the last one swapped in
** (maybe_part).
**
** furet_writer_commit waits for the pipeline and, when the budget could
** not hold what is left beside the pages LMDB will dirty (make_room),
** spills the spool and the run first. It opens the write transaction,
** re-reads the collection statistics (another process may have committed
** meanwhile: local ids are rebased on the current passage count),
** performs the removals, then merges the runs: for each term in sorted
** order its postings and positions blocks, appending to the last partial
** block of a term that is already indexed (a rebuild whose postings are
** all in memory has its blocks encoded by worker threads, a job of terms
** at a time, and this thread puts them: job_add).
** Meanwhile other threads train
** the stored text's dictionaries (a rebuild) and compress the texts, ids
** and titles of the spool, a chunk at a time (the texts of a document's
** consecutive passages in groups, textcodec.h), and between two terms this
** thread writes the documents, passages and texts they are done with,
** checking that no document id exists already (struct docs_out). Then
** the folds and words pairs, each once, in key order (MDB_APPEND on a
** rebuild, where every table is written afresh). A batch is replayable:
** when the map is full the transaction is aborted, the map doubled and the
** batch written again from the spool and the runs. Until commit returns,
** readers see the index as it was; the temporary files vanish with the
** writer, whatever happens.
**
** POSTING (in memory and in runs): varint passage delta (from the previous
** posting of the term in the run, the first one absolute), varint body tf,
** byte title tf, byte section tf, then tf varint position deltas. A SPAN
** POSTING stands for count > 1 postings of consecutive passages without
** body occurrences and with the same title and section tfs (a title's term
** in most of a document's passages): passage delta of the first, 0, 0, 0
** (no posting has them), varint count, byte title tf, byte section tf; the
** next delta is from its last passage. encode_term expands it.
**
** RUN (in the runs file; all integers varints): n_terms, then per term in
** byte order: length, bytes, n_post, byte length of its POSTINGs, the
** POSTINGs; then the folds pairs and the words pairs, each as a count,
** then per pair in byte order: length, bytes.
**
** SPOOL: per document in submission order: n_passages, title length,
** title, source length, source, 16 bytes content hash, metadata length,
** metadata; then per passage:
** start, end, section length + 1 (0: none), section bytes, the text
** (end - start bytes).
*/
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysed.h"
#include "analyzer.h"
#include "index.h"
#include "pipeline.h"
#include "spill.h"
#include "store.h"
#include "textcodec.h"
#include "util.h"

#define DEFAULT_MEMORY ((uint64_t)1 << 30)
#define MIN_MEMORY ((uint64_t)1 << 20)
#define MAPPED_RESERVE ((uint64_t)64 << 20)
#define MAX_THREADS 8
/* From this budget on, speed over memory: a deeper analysis ring, and an
** analyzer kept for later searches once the analysis is over. */
#define ROOMY_BUDGET ((uint64_t)512 << 20)
#define KEY_CAP 512       /* LMDB keys are at most 511 bytes */

typedef struct term_entry {
	uint32_t off, len;  /* the term in w->terms_arena */
	uint32_t hash;
	uint32_t n_post;    /* postings in this run */
	uint32_t last_pid;  /* local id of the last posting */
	furet_buf post;     /* encoded POSTING records */
} term_entry;

typedef struct batch_doc {
	size_t id_off;               /* in w->ids */
	uint32_t id_len;
	uint32_t first_passage;      /* local; set when inverted */
	uint32_t n_passages;
	unsigned char is_dead;       /* replaced or removed later in the batch */
	unsigned char is_inverted;
} batch_doc;

/* What the commit's merge reads of a posting's passage, side by side: the
** postings of a term reach passages all over the batch, one cache miss
** each. doc is its document in docs, with DOC_MULTI set when that one has
** several passages (below 2^31 documents: check_doc). */
typedef struct pass_info {
	uint32_t len;
	uint32_t doc;
} pass_info;
#define DOC_MULTI 0x80000000u

/* A set of "a\0b" byte strings, each kept once: the pairs written to the
** folds and words tables at commit. */
typedef struct pairset {
	furet_buf arena;
	uint32_t *offs, *lens; /* of each pair in arena */
	size_t n, cap_offs, cap_lens;
	uint32_t *slots;       /* open addressing: pair index + 1, 0 empty */
	size_t n_slots;
} pairset;

/* Where one spilled run is in the runs file. */
typedef struct run_info {
	uint64_t terms_off, folds_off, words_off, end;
	size_t n_terms;
} run_info;

/* The dictionaries of a batch's stored texts (and of its ids, titles and
** sections with with_names), trained in a thread of their own while the
** commit goes on (dict_job_start, dict_job_end). */
typedef struct dict_job {
	const furet_writer *w;
	int with_names;
	furet_buf dict, names_dict;
	pthread_t th;
	atomic_int is_trained;
	furet_rc rc;
} dict_job;
static void early_drop(furet_writer *w);

struct furet_writer {
	furet_index *ix;
	unsigned flags;
	uint64_t budget;
	uint64_t ckpt;     /* a rebuild commits every ckpt bytes written (0: at
	                      the end only; see commit_rebuild) */
	unsigned n_threads;
	char tmp_dir[4096];
	furet_pipeline_ops an_ops; /* analysis jobs (ctx: the index) */
	furet_pipeline *pl;
	furet_adoc_batch *open; /* the batch being filled, not submitted yet */
	size_t open_bytes;
	furet_analyzer *an; /* removals at commit */

	/* The run being inverted. */
	term_entry *terms;
	size_t n_terms, cap_terms;
	uint32_t *slots;   /* open addressing: tid + 1, 0 empty */
	size_t n_slots;
	furet_buf terms_arena;
	size_t post_bytes; /* capacity of all the terms' post buffers */
	uint64_t post_total; /* POSTING bytes of the whole batch, all runs */
	pairset folds;     /* (accent-free key, term) of accented words */
	pairset words;     /* (unaccented word, term), for typo candidates */
	uint32_t *lmap;    /* a document's local term -> tid */
	size_t cap_lmap;
	uint32_t *bmap;    /* a batch's term (furet_adoc_batch) -> tid */
	size_t cap_bmap;

	/* Spilled runs. */
	furet_tmp runs;
	run_info *run_info;
	size_t n_runs, cap_runs;
	furet_buf wbuf;    /* what is being written to a temporary file */

	/* The spool. */
	furet_tmp spool;
	furet_buf spool_buf;
	size_t spool_chunk;

	/* The batch's documents and passages. */
	batch_doc *docs;
	size_t n_docs, cap_docs;
	furet_buf ids;
	uint32_t *id_slots; /* doc index + 1, for duplicates inside the batch */
	size_t n_id_slots;
	uint32_t *plen;    /* body length of each passage */
	size_t n_pass, cap_plen;
	pass_info *pinfo;  /* at commit: each passage's length and document */
	uint32_t *dlen_b;  /* at commit: each document's length, in words */
	unsigned char *pdead; /* at commit: bit set for passages not written */
	dict_job *early;   /* a rebuild's dictionaries, from the end of the
	                      analysis (write_held) until docs_train */
	int has_dead;      /* at commit: some bit of pdead is set */
	uint32_t *dense_win; /* at commit: a chunk of a dense array */
	size_t cap_win;
	size_t n_spills;

	furet_buf scratch;
	furet_txn *rt;     /* snapshot of the index for put's look-ups (the
	                      writer lock keeps it current for the batch) */
	uint32_t *rm_docs; /* indexed documents to remove at commit */
	size_t n_rm, cap_rm;
	uint32_t *rm_slot; /* rm_docs as a set: open addressing, each slot a
	                      position in rm_docs + 1 (0: empty) */
	size_t n_rm_slot;  /* a power of 2, at least twice n_rm (0: none) */
	pairset seen;      /* ids put unchanged in this batch */
	size_t n_replaced; /* ids put twice in this batch */
	furet_text_dec *tdec; /* stored text of the index, during commit */
	uint64_t n_written; /* postings written by the commit being made */
	furet_store *part; /* a batch in parts: the new environment beside
	                      the index, which holds the parts written so far
	                      (and, with is_copy, the index before them) */
	size_t n_parts;    /* parts written into it */
	int is_copy;       /* an incremental batch written into a copy of the
	                      index (maybe_part, write_held) */
	uint32_t base_doc; /* incremental: the index's next document number
	                      when the batch began; its parts number theirs
	                      from there */
	furet_batch_summary part_sum; /* incremental: what its parts did */
	int no_parts;      /* the batch cannot be written in parts */
	uint64_t part_added; /* bytes added since maybe_part last looked */
	size_t part_pass;  /* passages they added */
	uint64_t *part_ids; /* the hashes of their ids (furet_hash64), sorted */
	size_t n_part_ids;
	int no_part_ids;    /* too many to keep: every id is looked up */
	size_t n_ticks;
	furet_rc failed;   /* sticky: a failure inside add left the batch unusable */
};

static void pairset_free(pairset *ps)
{
	furet_buf_free(&ps->arena);
	furet_free(ps->offs);
	furet_free(ps->lens);
	furet_free(ps->slots);
	memset(ps, 0, sizeof *ps); /* empty, as new */
}

static size_t pairset_bytes(const pairset *ps)
{
	return ps->arena.cap + (ps->cap_offs + ps->cap_lens + ps->n_slots) *
		sizeof(uint32_t);
}

FURET_API void furet_writer_options_init(furet_writer_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
}

/* Threads by default: the online processors, at most MAX_THREADS. */
static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

FURET_API furet_rc furet_writer_begin(furet_index *ix, unsigned flags,
	furet_writer **out)
{
	furet_writer_options o;

	furet_writer_options_init(&o);
	o.flags = flags;
	return furet_writer_begin_v2(ix, &o, out);
}

FURET_API furet_rc furet_writer_begin_v2(furet_index *ix,
	const furet_writer_options *o, furet_writer **out)
{
	furet_writer *w;
	unsigned flags;
	const char *tmp;
	furet_rc rc;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!ix || !o || o->threads > 1024)
		return FURET_INVALID;
	flags = o->flags;
	tmp = o->tmp_dir && *o->tmp_dir ? o->tmp_dir : furet_store_dir(ix->store);
	if (strlen(tmp) >= sizeof w->tmp_dir)
		return FURET_INVALID;
	if (!(flags & FURET_WRITE_REBUILD) && furet_store_needs_rebuild(ix->store))
		return furet_index_fail(ix, FURET_VERSION, "the index has another "
			"format version: only a rebuild can use it");
	if ((rc = furet_index_begin_write(ix, !(flags & FURET_WRITE_NO_WAIT))))
		return rc;

	w = furet_malloc(sizeof *w);
	if (!w) {
		rc = FURET_NOMEM;
		goto fail;
	}
	memset(w, 0, sizeof *w);
	w->ix = ix;
	w->flags = flags;
	w->budget = o->memory ? o->memory : DEFAULT_MEMORY;
	/* The budget is a resident size: the mapped files (ICU's data, the
	** libraries, index pages read through LMDB's map: about 60 MB) take
	** part of it, a quarter of a small budget, 64 MiB of a large one. */
	w->budget -= w->budget / 4 < MAPPED_RESERVE ? w->budget / 4 :
		MAPPED_RESERVE;
	if (w->budget < MIN_MEMORY)
		w->budget = MIN_MEMORY;
	w->n_threads = o->threads ? o->threads : default_threads();
	strcpy(w->tmp_dir, tmp);
	w->runs.fd = -1;
	w->spool.fd = -1;
	/* Spool chunks: big enough for few writes, small beside the budget. */
	w->spool_chunk = w->budget / 64 > (8u << 20) ? (8u << 20) :
		(size_t)(w->budget / 64);
	w->n_slots = 1024;
	w->slots = furet_malloc(w->n_slots * sizeof *w->slots);
	w->n_id_slots = 256;
	w->id_slots = furet_malloc(w->n_id_slots * sizeof *w->id_slots);
	if (!w->slots || !w->id_slots) {
		rc = FURET_NOMEM;
		goto fail;
	}
	memset(w->slots, 0, w->n_slots * sizeof *w->slots);
	memset(w->id_slots, 0, w->n_id_slots * sizeof *w->id_slots);
	w->an_ops = furet_adoc_ops;
	w->an_ops.ctx = ix;
	/* Five batches in flight per worker, not two, with room to spare:
	** documents differ in size a thousandfold, and batches come back in
	** order, so that a worker done early waits on a full ring while the
	** other still has the oldest. On the 212 MB corpus (novels of up to
	** 650 KB among legal articles of a few hundred bytes), with two
	** threads: the cores busy 1.91-1.94 of 2 against 1.84-1.88, and every
	** one of five alternating pairs of rebuilds faster (6.42-7.20 s
	** against 6.60-8.28 s). Below 512 MiB two: at --memory 128M, what the
	** workers' malloc arenas kept of the deeper ring raised peak RSS by
	** about 8 MiB, over the budget in four runs of eight. */
	if (w->budget >= ROOMY_BUDGET)
		w->an_ops.depth = 5;
	if ((rc = furet_pipeline_open(&w->an_ops, w->n_threads, &w->pl)))
		goto fail;
	if (!(flags & FURET_WRITE_REBUILD) &&
		(rc = furet_store_begin(ix->store, 0, &w->rt)))
		goto fail;
	/* The first batch of an index that never held a document is written
	** as a rebuild: beside the index, in parts, committing as it goes,
	** within the budget (as one transaction, the 212 MB corpus into a new
	** index at --memory 128M peaked at 224 MiB: LMDB holds every page it
	** writes until the commit). The index was empty: nothing to replace.
	** Other handles read it from their next search on (follow_swap). */
	if (!(flags & FURET_WRITE_REBUILD) && furet_store_can_swap(ix->store)) {
		furet_collection c;
		if ((rc = furet_store_get_collection(w->rt, &c)))
			goto fail;
		w->base_doc = (uint32_t)c.next_doc;
		if (c.next_doc == 0 && c.n_passages == 0) {
			w->flags |= FURET_WRITE_REBUILD;
			furet_txn_abort(w->rt);
			w->rt = NULL;
		}
	}
	*out = w;
	return FURET_OK;
fail:
	furet_writer_abort(w);
	if (!w)
		furet_index_end_write(ix);
	return rc;
}

static void free_run(furet_writer *w)
{
	size_t i;

	for (i = 0; i < w->n_terms; i++)
		furet_buf_free(&w->terms[i].post);
	w->n_terms = 0;
	w->post_bytes = 0;
}

FURET_API void furet_writer_abort(furet_writer *w)
{
	if (!w)
		return;
	early_drop(w); /* (it reads the spool) */
	furet_pipeline_close(w->pl);
	free_run(w);
	furet_free(w->terms);
	furet_free(w->slots);
	furet_buf_free(&w->terms_arena);
	pairset_free(&w->folds);
	pairset_free(&w->words);
	furet_free(w->lmap);
	furet_free(w->bmap);
	furet_tmp_close(&w->runs);
	furet_free(w->run_info);
	furet_buf_free(&w->wbuf);
	furet_tmp_close(&w->spool);
	furet_buf_free(&w->spool_buf);
	furet_free(w->docs);
	furet_buf_free(&w->ids);
	furet_free(w->id_slots);
	furet_free(w->plen);
	furet_free(w->pinfo);
	furet_free(w->dlen_b);
	furet_free(w->pdead);
	furet_free(w->dense_win);
	furet_buf_free(&w->scratch);
	furet_txn_abort(w->rt);
	furet_store_discard(w->part);
	furet_free(w->part_ids);
	furet_free(w->rm_docs);
	furet_free(w->rm_slot);
	pairset_free(&w->seen);
	if (w->an)
		furet_index_give_analyzer(w->ix, w->an);
	/* (no thread of the writer's left behind: a caller may fork) */
	furet_store_settle(w->ix->store);
	furet_index_end_write(w->ix);
	furet_free(w);
}

static int rehash_terms(furet_writer *w)
{
	size_t n = w->n_slots * 2, i;
	uint32_t *s = furet_malloc(n * sizeof *s);

	if (!s)
		return -1;
	memset(s, 0, n * sizeof *s);
	for (i = 0; i < w->n_terms; i++) {
		size_t j = w->terms[i].hash & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	furet_free(w->slots);
	w->slots = s;
	w->n_slots = n;
	return 0;
}

/* The run-local id of term (hash h), added when new; -1 when out of
** memory. */
static int64_t intern(furet_writer *w, const char *term, size_t len,
	uint32_t h)
{
	size_t j;
	term_entry *e;

	if ((w->n_terms + 1) * 2 > w->n_slots && rehash_terms(w))
		return -1;
	for (j = h & (w->n_slots - 1); w->slots[j]; j = (j + 1) & (w->n_slots - 1)) {
		e = &w->terms[w->slots[j] - 1];
		if (e->hash == h && e->len == len &&
			furet_same(w->terms_arena.data + e->off, term, len))
			return w->slots[j] - 1;
	}
	if (furet_grow((void **)&w->terms, &w->cap_terms, w->n_terms + 1,
		sizeof *w->terms))
		return -1;
	if (w->n_terms >= UINT32_MAX - 1 || w->terms_arena.len > UINT32_MAX)
		return -1;
	e = &w->terms[w->n_terms];
	memset(e, 0, sizeof *e);
	e->off = (uint32_t)w->terms_arena.len;
	e->len = (uint32_t)len;
	e->hash = h;
	furet_buf_init(&e->post);
	furet_buf_append(&w->terms_arena, term, len);
	if (w->terms_arena.has_err)
		return -1;
	w->slots[j] = (uint32_t)w->n_terms + 1;
	return (int64_t)w->n_terms++;
}

static int pairset_rehash(pairset *ps)
{
	size_t n = ps->n_slots ? ps->n_slots * 2 : 256, i;
	uint32_t *s = furet_malloc(n * sizeof *s);

	if (!s)
		return -1;
	memset(s, 0, n * sizeof *s);
	for (i = 0; i < ps->n; i++) {
		size_t j = furet_hash32(ps->arena.data + ps->offs[i], ps->lens[i]) &
			(n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	furet_free(ps->slots);
	ps->slots = s;
	ps->n_slots = n;
	return 0;
}

/* The slot of key[0..len) in ps: where it is (*is_found 1) or would go. */
static size_t pairset_slot(const pairset *ps, const unsigned char *key,
	size_t len, int *is_found)
{
	size_t j;

	*is_found = 0;
	for (j = furet_hash32(key, len) & (ps->n_slots - 1); ps->slots[j];
		j = (j + 1) & (ps->n_slots - 1)) {
		uint32_t k = ps->slots[j] - 1;
		if (ps->lens[k] == len &&
			furet_same(ps->arena.data + ps->offs[k], key, len)) {
			*is_found = 1;
			break;
		}
	}
	return j;
}

/* Adds key[0..len) (hash h) unless it is there already; -1 when out of
** memory. */
static int pairset_add_key(pairset *ps, const unsigned char *key, size_t len,
	uint32_t h)
{
	size_t j;

	if ((ps->n + 1) * 2 > ps->n_slots && pairset_rehash(ps))
		return -1;
	for (j = h & (ps->n_slots - 1); ps->slots[j];
		j = (j + 1) & (ps->n_slots - 1)) {
		uint32_t k = ps->slots[j] - 1;
		if (ps->lens[k] == len &&
			furet_same(ps->arena.data + ps->offs[k], key, len))
			return 0;
	}
	if (furet_grow((void **)&ps->offs, &ps->cap_offs, ps->n + 1, sizeof *ps->offs) ||
		furet_grow((void **)&ps->lens, &ps->cap_lens, ps->n + 1, sizeof *ps->lens) ||
		ps->arena.len > UINT32_MAX - len)
		return -1;
	ps->offs[ps->n] = (uint32_t)ps->arena.len;
	ps->lens[ps->n] = (uint32_t)len;
	furet_buf_append(&ps->arena, key, len);
	if (ps->arena.has_err)
		return -1;
	ps->slots[j] = (uint32_t)ps->n + 1;
	ps->n++;
	return 0;
}

/* Adds the pair "a\0b" unless it is there already; -1 when out of memory. */
static int pairset_add(pairset *ps, const char *a, size_t a_len,
	const char *b, size_t b_len)
{
	unsigned char key[KEY_CAP];
	size_t len = a_len + 1 + b_len;

	if (len >= KEY_CAP)
		return 0; /* no LMDB key can be that long; such words are junk */
	memcpy(key, a, a_len);
	key[a_len] = 0;
	memcpy(key + a_len + 1, b, b_len);
	return pairset_add_key(ps, key, len, furet_hash32(key, len));
}

/* ---- memory ------------------------------------------------------------- */

/* The run: what spilling gives back. */
static size_t run_bytes(const furet_writer *w)
{
	/* 16 bytes of allocator overhead per postings buffer, and the 48 bytes
	** a term that sorting the run takes (terms_sorted: the order and the
	** radix sort's copy): allocated when the run is spilled, at its
	** largest, they were the peaks of a rebuild at --memory 128M (a run of
	** a million terms: 48 MB more). The terms and their slots twice: when
	** they double, the old arrays are there too. */
	return w->post_bytes + w->n_terms * (16 + 2 * sizeof(furet_key_ref)) +
		2 * (w->cap_terms * sizeof *w->terms + w->n_slots * sizeof *w->slots) +
		w->terms_arena.cap + pairset_bytes(&w->folds) +
		pairset_bytes(&w->words);
}

/* What the batch keeps until commit, and the pipeline's documents. */
static size_t kept_bytes(const furet_writer *w)
{
	return w->cap_docs * sizeof *w->docs + w->ids.cap +
		w->n_id_slots * sizeof *w->id_slots + w->cap_plen * sizeof *w->plen +
		w->spool_buf.cap + w->wbuf.cap + pairset_bytes(&w->seen) +
		w->cap_rm * sizeof *w->rm_docs + w->n_rm_slot * sizeof *w->rm_slot +
		w->cap_lmap * sizeof *w->lmap +
		w->cap_bmap * sizeof *w->bmap +
		w->n_part_ids * sizeof *w->part_ids +
		(w->pl ? furet_pipeline_bytes(w->pl) +
			furet_pipeline_weight(w->pl) : 0);
}

/* Is the batch written into a new environment beside the index (a rebuild
** in a directory that holds only furet's files, or a batch in parts), where
** it may commit as it goes? */
static int is_beside(const furet_writer *w)
{
	return w->part || ((w->flags & FURET_WRITE_REBUILD) &&
		furet_store_can_swap(w->ix->store));
}

/* Does the environment the batch is written into hold documents already:
** after a part of a rebuild, or in any part of an incremental batch (a
** copy of the index)? Its writes then land among what it holds. */
static int is_into_held(const furet_writer *w)
{
	return w->n_parts || w->is_copy;
}

/* Is the batch written from nothing: a rebuild, or the first of its parts
** (see maybe_part)? */
static int is_fresh_batch(const furet_writer *w)
{
	return (w->flags & FURET_WRITE_REBUILD) && !w->n_parts;
}

/* Once the analysis is over: the arrays kept until the end of the batch
** lose the capacity that doubling left unused (on the 212 MB corpus the
** ids' buffer was 16 MiB, the documents' 6 MiB for 3.5 MB), and the
** analyzers the analysis threads gave back to the index, a few MiB each,
** are closed but one; with a budget under 512 MiB, all of them. At
** --memory 128M that is 17 MB of the 113 MB at the commit's peak
** (massif). */
static void fit_kept(furet_writer *w)
{
	if (w->n_docs < w->cap_docs) {
		batch_doc *d = furet_realloc(w->docs, w->n_docs * sizeof *d);
		if (d) {
			w->docs = d;
			w->cap_docs = w->n_docs;
		}
	}
	furet_buf_fit(&w->ids);
	furet_index_trim_analyzers(w->ix, w->budget >= ROOMY_BUDGET);
}

/* Slots of the pipeline that one big document made grow give their memory
** back past this. */
static size_t shrink_limit(const furet_writer *w)
{
	return (size_t)(w->budget / 64);
}

/* ---- temporary files ------------------------------------------------------- */

static furet_rc tmp_flush(furet_writer *w, furet_tmp *f, furet_buf *b)
{
	furet_rc rc;

	if (b->has_err)
		return FURET_NOMEM;
	if (f->fd < 0) {
		char err[300];
		if ((rc = furet_tmp_open(f, w->tmp_dir, err, sizeof err)))
			return furet_index_fail(w->ix, rc, "%s", err);
	}
	if ((rc = furet_tmp_append(f, b->data, b->len)))
		return furet_index_fail(w->ix, rc, "writing a temporary file in %s "
			"failed (is the disk full?)", w->tmp_dir);
	furet_buf_reset(b);
	return FURET_OK;
}

/* ---- spilling a run ---------------------------------------------------------- */

/* A run's terms (id: the term's number) and pairs (id unused), sorted. */
typedef furet_key_ref term_ref;
typedef furet_key_ref fold_ref;

/* The run's terms in byte order; caller frees. */
static term_ref *terms_sorted(const furet_writer *w)
{
	term_ref *order = furet_malloc((w->n_terms ? w->n_terms : 1) *
		sizeof *order);
	size_t i;

	if (!order)
		return NULL;
	for (i = 0; i < w->n_terms; i++)
		furet_key_ref_set(&order[i], w->terms_arena.data + w->terms[i].off,
			w->terms[i].len, (uint32_t)i);
	if (furet_keys_sort(order, w->n_terms)) {
		furet_free(order);
		return NULL;
	}
	return order;
}

/* The pairs of ps in byte order (keys for MDB_APPEND); caller frees. */
static fold_ref *pairset_sorted(const pairset *ps)
{
	fold_ref *v = furet_malloc((ps->n ? ps->n : 1) * sizeof *v);
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < ps->n; i++)
		furet_key_ref_set(&v[i], ps->arena.data + ps->offs[i], ps->lens[i],
			(uint32_t)i);
	if (furet_keys_sort(v, ps->n)) {
		furet_free(v);
		return NULL;
	}
	return v;
}

static furet_rc wput(furet_writer *w, const void *p, size_t n)
{
	furet_buf_append(&w->wbuf, p, n);
	if (w->wbuf.len >= (1u << 20))
		return tmp_flush(w, &w->runs, &w->wbuf);
	return w->wbuf.has_err ? FURET_NOMEM : FURET_OK;
}

static furet_rc wput_varint(furet_writer *w, uint64_t v)
{
	furet_buf_put_varint(&w->wbuf, v);
	return w->wbuf.has_err ? FURET_NOMEM : FURET_OK;
}

static furet_rc spill_pairs(furet_writer *w, const pairset *ps)
{
	fold_ref *v = pairset_sorted(ps);
	furet_rc rc;
	size_t i;

	if (!v)
		return FURET_NOMEM;
	rc = wput_varint(w, ps->n);
	for (i = 0; !rc && i < ps->n; i++)
		if (!(rc = wput_varint(w, v[i].len)))
			rc = wput(w, v[i].p, v[i].len);
	furet_free(v);
	return rc;
}

/* Starts a new run from scratch, the last one's postings freed or
** written: what it grew to is given back, so that what stays counts for
** little beside the budget (after a spill, and after a part). */
static void new_run(furet_writer *w)
{
	w->n_terms = 0;
	w->post_bytes = 0;
	furet_free(w->terms);
	w->terms = NULL;
	w->cap_terms = 0;
	furet_buf_free(&w->terms_arena);
	pairset_free(&w->folds);
	pairset_free(&w->words);
	if (w->n_slots > 1024) {
		uint32_t *s = furet_realloc(w->slots, 1024 * sizeof *s);
		if (s) {
			w->slots = s;
			w->n_slots = 1024;
		}
	}
	memset(w->slots, 0, w->n_slots * sizeof *w->slots);
}

/* Writes the run as RUN at the end of the runs file and starts a new one. */
static furet_rc spill_run(furet_writer *w)
{
	term_ref *order = terms_sorted(w);
	run_info ri;
	size_t i;
	furet_rc rc;

	if (!order)
		return FURET_NOMEM;
	if (furet_grow((void **)&w->run_info, &w->cap_runs, w->n_runs + 1,
		sizeof *w->run_info)) {
		rc = FURET_NOMEM;
		goto done;
	}
	ri.terms_off = w->runs.len + w->wbuf.len;
	ri.n_terms = w->n_terms;
	rc = wput_varint(w, w->n_terms);
	for (i = 0; !rc && i < w->n_terms; i++) {
		term_entry *e = &w->terms[order[i].id];
		if (!(rc = wput_varint(w, e->len)) &&
			!(rc = wput(w, order[i].p, e->len)) &&
			!(rc = wput_varint(w, e->n_post)) &&
			!(rc = wput_varint(w, e->post.len)))
			rc = wput(w, e->post.data, e->post.len);
		furet_buf_free(&e->post);
	}
	if (rc)
		goto done;
	ri.folds_off = w->runs.len + w->wbuf.len;
	if ((rc = spill_pairs(w, &w->folds)))
		goto done;
	ri.words_off = w->runs.len + w->wbuf.len;
	if ((rc = spill_pairs(w, &w->words)))
		goto done;
	ri.end = w->runs.len + w->wbuf.len;
	if ((rc = tmp_flush(w, &w->runs, &w->wbuf)))
		goto done;
	w->run_info[w->n_runs++] = ri;
	new_run(w);
	w->n_spills++;
#ifdef __GLIBC__
	/* The run's many small buffers went back to malloc, not to the
	** system; the next run reuses them, but give back what it can. */
	malloc_trim(0);
#endif
done:
	furet_free(order);
	return rc;
}

static furet_rc maybe_spill(furet_writer *w)
{
	/* Three quarters of the budget for what is counted: the allocator's
	** own overhead and the caller's documents take some of the rest. */
	size_t limit = (size_t)(w->budget / 4 * 3);
	furet_rc rc;

	/* After a part of a rebuild, the spool goes to its file from the
	** start: grown in memory again, its capacity doubled past the budget
	** at once (32 to 64 MiB at --memory 128M), beside the part's run. */
	if (w->n_parts && w->spool.fd < 0 && w->spool_buf.len > w->spool_chunk) {
		if ((rc = tmp_flush(w, &w->spool, &w->spool_buf)))
			return rc;
		furet_buf_free(&w->spool_buf);
	}
	if (run_bytes(w) + kept_bytes(w) <= limit)
		return FURET_OK;
	/* The spool goes first: it is written and read once, unsorted. From
	** then on it goes to its file a chunk at a time. */
	if (w->spool.fd < 0 && w->spool_buf.len > w->spool_chunk) {
		if ((rc = tmp_flush(w, &w->spool, &w->spool_buf)))
			return rc;
		furet_buf_free(&w->spool_buf);
		if (run_bytes(w) + kept_bytes(w) <= limit)
			return FURET_OK;
	}
	if (run_bytes(w) < w->budget / 16)
		return FURET_OK;
	return spill_run(w);
}

/* ---- inversion ------------------------------------------------------------- */

/* Copies n bytes: a posting's fields and positions are a few bytes, fewer
** than a call to memcpy costs. */
static inline void copy_short(unsigned char *d, const unsigned char *p,
	size_t n)
{
	if (n > 16) {
		memcpy(d, p, n);
		return;
	}
	while (n--)
		*d++ = *p++;
}

/* Copies the n-byte tail of an ENTRY, and maybe as many as 8 bytes (p and
** d have room past n: FURET_ENTRY_SLACK, and invert_doc's reserve): most
** tails are 3 bytes, which one 8-byte move copies for less than a loop. */
static inline void copy_tail(unsigned char *d, const unsigned char *p,
	size_t n)
{
	if (n <= 8) {
		memcpy(d, p, 8);
	} else if (n <= 16) {
		memcpy(d, p, 8);
		memcpy(d + n - 8, p + n - 8, 8);
	} else {
		memcpy(d, p, n);
	}
}

/* A varint of bytes this process made (ENTRY, PAIR): no bounds to check. */
static inline uint64_t take_varint(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;
	int shift = 0;

	/* Most are one byte: a local term, a tf, a tail length. */
	if (!(*p & 0x80)) {
		*pp = p + 1;
		return *p;
	}
	while (*p & 0x80) {
		v |= (uint64_t)(*p++ & 0x7f) << shift;
		shift += 7;
	}
	v |= (uint64_t)*p++ << shift;
	*pp = p;
	return v;
}

static void spool_varint(furet_writer *w, uint64_t v)
{
	furet_buf_put_varint(&w->spool_buf, v);
}

/* Appends the analysed document a to the spool. */
static furet_rc spool_doc(furet_writer *w, const furet_adoc *a)
{
	const char *text = furet_adoc_text(a);
	size_t i;

	spool_varint(w, a->n_pass);
	spool_varint(w, a->eff_title_len);
	furet_buf_append(&w->spool_buf, a->in.data + a->eff_title_off,
		a->eff_title_len);
	spool_varint(w, a->source_len);
	furet_buf_append(&w->spool_buf, furet_adoc_source(a), a->source_len);
	furet_buf_append(&w->spool_buf, a->hash, 16);
	spool_varint(w, a->meta_len);
	furet_buf_append(&w->spool_buf, furet_adoc_meta(a), a->meta_len);
	for (i = 0; i < a->n_pass; i++) {
		const furet_adoc_passage *p = &a->pass[i];
		spool_varint(w, p->start);
		spool_varint(w, p->end);
		if (p->has_section) {
			spool_varint(w, p->sec_end - p->sec_start + 1);
			furet_buf_append(&w->spool_buf, text + p->sec_start,
				p->sec_end - p->sec_start);
		} else {
			spool_varint(w, 0);
		}
		furet_buf_append(&w->spool_buf, text + p->start, p->end - p->start);
	}
	if (w->spool_buf.has_err)
		return FURET_NOMEM;
	/* In memory while the budget allows (see maybe_spill), else in
	** chunks to its file. */
	if (w->spool.fd >= 0 && w->spool_buf.len >= w->spool_chunk)
		return tmp_flush(w, &w->spool, &w->spool_buf);
	return FURET_OK;
}

/* Looks up (adding) terms [0, n) of a document or a batch, tid[i] being
** the i-th's number. The run's terms are many, and each document reaches
** a hundred of them at random: three cache misses each (its slot, its
** entry, the end of its postings). Asked for a few dozen at once, a stage
** at a time, they overlap instead of following one another. */
static furet_rc intern_all(furet_writer *w, const furet_adoc_term *terms,
	const unsigned char *bytes, size_t n, uint32_t *tid)
{
	size_t i, at, end;

	for (at = 0; at < n; at = end) {
		end = n - at > 128 ? at + 128 : n;
		if (w->n_slots) {
			for (i = at; i < end; i++)
				__builtin_prefetch(&w->slots[terms[i].hash &
					(w->n_slots - 1)]);
			for (i = at; i < end; i++) {
				uint32_t s = w->slots[terms[i].hash & (w->n_slots - 1)];
				if (s)
					__builtin_prefetch(&w->terms[s - 1]);
			}
		}
		for (i = at; i < end; i++) {
			int64_t id = intern(w, (const char *)bytes + terms[i].off,
				terms[i].len, terms[i].hash);
			if (id < 0)
				return FURET_NOMEM;
			tid[i] = (uint32_t)id;
		}
	}
	return FURET_OK;
}

/* Appends the ENTRY and SPAN records at p[0..len) (analysed.h) of passage
** pid (SPANs: of the document whose first passage is base) to their terms'
** POSTINGs: -1 when out of memory. A SPAN of one passage is a POSTING, a
** longer one a SPAN POSTING. */
static int invert_entries(furet_writer *w, uint32_t base, uint32_t pid,
	const unsigned char *p, size_t len)
{
	const unsigned char *end = p + len;

	while (p < end) {
		uint64_t ltid = take_varint(&p), tf = take_varint(&p);
		uint64_t n = take_varint(&p);
		term_entry *e = &w->terms[w->lmap[ltid]];
		size_t cap = e->post.cap;
		unsigned char *q;

		if (furet_buf_reserve(&e->post, 30 + n))
			return -1;
		q = e->post.data + e->post.len;
		if (n == 0) { /* SPAN: first passage, count, title and section tf */
			uint32_t first = base + (uint32_t)take_varint(&p);
			uint64_t count = take_varint(&p);
			/* A new term's last_pid is 0: its first delta is pid. */
			q += furet_put_varint(q, first - e->last_pid);
			*q++ = 0;
			if (count > 1) {
				*q++ = 0;
				*q++ = 0;
				q += furet_put_varint(q, count);
			}
			*q++ = *p++;
			*q++ = *p++;
			e->last_pid = first + (uint32_t)count - 1;
		} else {
			q += furet_put_varint(q, pid - e->last_pid);
			q += furet_put_varint(q, tf);
			copy_tail(q, p, n);
			q += n;
			p += n;
			e->last_pid = pid;
		}
		*q = '\0';
		w->post_total += (size_t)(q - e->post.data) - e->post.len;
		e->post.len = (size_t)(q - e->post.data);
		w->post_bytes += e->post.cap - cap;
		e->n_post++;
	}
	return 0;
}

/* Inverts the analysed document a: passage ids, postings, pairs, spool.
** Its terms are numbered through the batch's (bmap: the batch's term ->
** tid), or else looked up here. */
static furet_rc invert_doc(furet_writer *w, const furet_adoc *a,
	const uint32_t *bmap)
{
	batch_doc *d = &w->docs[a->doc];
	const unsigned char *p;
	uint32_t base = (uint32_t)w->n_pass;
	size_t i, k;
	furet_rc rc;

	if (a->rc)
		return a->rc == FURET_INVALID ? FURET_ERROR : a->rc;
	if (furet_grow((void **)&w->lmap, &w->cap_lmap, a->n_terms,
		sizeof *w->lmap) ||
		furet_grow((void **)&w->plen, &w->cap_plen, w->n_pass + a->n_pass,
		sizeof *w->plen))
		return FURET_NOMEM;
	if (bmap) {
		for (i = 0; i < a->n_terms; i++)
			w->lmap[i] = bmap[a->bmap[i]];
	} else if ((rc = intern_all(w, a->terms, a->term_bytes.data, a->n_terms,
		w->lmap))) {
		return rc;
	}
	/* The end of each term's postings, where this document appends. */
	for (i = 0; i < a->n_terms; i++) {
		const term_entry *e = &w->terms[w->lmap[i]];
		if (e->post.data)
			__builtin_prefetch(e->post.data + e->post.len, 1);
	}
	for (k = 0; k < a->n_pass; k++) {
		const furet_adoc_passage *ps = &a->pass[k];

		w->plen[base + k] = ps->length;
		if (invert_entries(w, base, base + (uint32_t)k,
			a->ents.data + ps->ent_off, ps->ent_len))
			return FURET_NOMEM;
	}
	if (invert_entries(w, base, base, a->ents.data + a->tail_off,
		a->tail_len))
		return FURET_NOMEM;
	for (p = a->pairs.data, i = 0; i < a->n_pairs; i++) {
		int table = *p++;
		uint32_t h;
		uint64_t len;

		memcpy(&h, p, 4);
		p += 4;
		len = take_varint(&p);
		if (pairset_add_key(table == FURET_PAIR_FOLDS ? &w->folds : &w->words,
			p, (size_t)len, h))
			return FURET_NOMEM;
		p += len;
	}
	if ((rc = spool_doc(w, a)))
		return rc;
	d->first_passage = base;
	d->n_passages = (uint32_t)a->n_pass;
	d->is_inverted = 1;
	w->n_pass += a->n_pass;
	return FURET_OK;
}

/* Inverts the analysed documents at the head of the pipeline: those ready,
** or with is_all every one in flight. */
/* Documents go to the pipeline in batches of about this much text (fewer
** hand-overs between threads), or fewer with a small budget. */
static size_t batch_bytes(const furet_writer *w)
{
	uint64_t b = w->budget / 256;
	return b > (256u << 10) ? 256u << 10 : (size_t)b;
}

/* Inverts the oldest batch (waiting for it when is_wait); FURET_DONE when
** there is none ready. */
static furet_rc invert_oldest(furet_writer *w, int is_wait)
{
	furet_adoc_batch *b = furet_pipeline_oldest(w->pl, is_wait);
	furet_rc rc = FURET_OK;
	size_t i;

	if (!b)
		return FURET_DONE;
	if (b->has_terms && furet_grow((void **)&w->bmap, &w->cap_bmap,
		b->n_terms, sizeof *w->bmap))
		rc = FURET_NOMEM;
	else if (b->has_terms)
		rc = intern_all(w, b->terms, b->term_bytes.data, b->n_terms,
			w->bmap);
	for (i = 0; i < b->n && !rc; i++)
		rc = invert_doc(w, &b->docs[i], b->has_terms ? w->bmap : NULL);
	/* Not between two documents: a spill empties the term table that
	** bmap numbers into. */
	if (!rc)
		rc = maybe_spill(w);
	b->n = 0;
	furet_pipeline_release(w->pl, shrink_limit(w));
	if (rc)
		w->failed = rc;
	return rc;
}

static void submit_open(furet_writer *w)
{
	if (!w->open)
		return;
	furet_pipeline_submit(w->pl, w->open_bytes);
	w->open = NULL;
	w->open_bytes = 0;
}

/* Inverts the analysed documents at the head of the pipeline: those ready,
** or with is_all every one in flight (the batch being filled included). */
static furet_rc drain(furet_writer *w, int is_all)
{
	furet_rc rc;

	if (is_all)
		submit_open(w);
	while ((rc = invert_oldest(w, is_all)) == FURET_OK)
		;
	return rc == FURET_DONE ? FURET_OK : rc;
}

FURET_API size_t furet_writer_passages(const furet_writer *w)
{
	/* The documents in flight have passages too: wait for them. */
	if (!w || w->failed || drain((furet_writer *)w, 1))
		return w ? w->part_pass + w->n_pass : 0;
	return w->part_pass + w->n_pass;
}

/* Index of the batch document with this id, or -1; *slot gets its id slot,
** or the free slot where the id would go. */
static int64_t find_batch_id(furet_writer *w, const char *id, size_t len,
	size_t *slot)
{
	size_t j = furet_hash32(id, len) & (w->n_id_slots - 1);

	while (w->id_slots[j]) {
		batch_doc *d = &w->docs[w->id_slots[j] - 1];
		if (d->id_len == len &&
			furet_same(w->ids.data + d->id_off, id, len)) {
			*slot = j;
			return w->id_slots[j] - 1;
		}
		j = (j + 1) & (w->n_id_slots - 1);
	}
	*slot = j;
	return -1;
}

static int grow_id_slots(furet_writer *w)
{
	size_t n = w->n_id_slots * 2, i;
	uint32_t *s = furet_malloc(n * sizeof *s);

	if (!s)
		return -1;
	memset(s, 0, n * sizeof *s);
	for (i = 0; i < w->n_docs; i++) {
		batch_doc *d = &w->docs[i];
		size_t j = furet_hash32(w->ids.data + d->id_off, d->id_len) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	furet_free(w->id_slots);
	w->id_slots = s;
	w->n_id_slots = n;
	return 0;
}

/* ---- a rebuild in parts ---------------------------------------------------- */

/* What the batch keeps for each of its documents and passages until the
** commit, and what the commit adds to it (pass_info, dlen_b, pdead): 13
** bytes a passage, 36 a document and its id. It grows with the batch, not
** with what a spill can write out. */
static size_t part_bytes(const furet_writer *w)
{
	return w->cap_docs * sizeof *w->docs + w->ids.cap +
		w->n_id_slots * sizeof *w->id_slots +
		w->cap_plen * sizeof *w->plen +
		w->n_pass * (sizeof *w->pinfo + 1) + w->n_docs * sizeof *w->dlen_b;
}

static furet_rc write_held(furet_writer *w, int is_last);
uint64_t furet_writer_part_max;
static int64_t indexed_doc(furet_writer *w, const char *id, size_t len,
	furet_doc_rec *rec, furet_rc *rc);
static furet_rc count_batch(furet_writer *w, int is_part,
	furet_batch_summary *out, size_t *gone);
static uint64_t rebuild_ckpt(const furet_writer *w);

/* An incremental batch goes on into a copy of the index, beside it (see
** maybe_part): w->part. 0, or -1 when the copy cannot be made (the batch
** is then one transaction). The copy commits every half checkpoint of a
** rebuild's: its pages and the index's both pass through memory. */
static int open_copy(furet_writer *w)
{
	char err[300];

	if (furet_store_open_copy(w->ix->store, (size_t)rebuild_ckpt(w) / 2,
		&w->part, err, sizeof err)) {
		w->part = NULL;
		return -1;
	}
	w->is_copy = 1;
	return 0;
}

/* Adds what the batch did in a part (or does in its last), b, to what the
** parts before it did, into out (which may be b): gone of those parts'
** documents were removed since, no longer added. */
static void add_part_sum(const furet_writer *w, const furet_batch_summary *b,
	size_t gone, furet_batch_summary *out)
{
	const furet_batch_summary *p = &w->part_sum;
	size_t added = p->added > gone ? p->added - gone : 0;

	out->added = added + b->added;
	out->updated = p->updated + b->updated;
	out->removed = p->removed + b->removed;
	out->unchanged = b->unchanged;
	out->repeated = b->repeated;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* May id be in the parts of a rebuild written so far (see keep_part_ids)? */
static int in_parts(const furet_writer *w, const char *id, size_t len)
{
	uint64_t h = furet_hash64(id, len);
	return w->no_part_ids || (w->n_part_ids && bsearch(&h, w->part_ids,
		w->n_part_ids, sizeof h, u64_cmp) != NULL);
}

uint64_t furet_writer_part_ids_max;

/* Keeps the hashes of the ids of the part just written: put and add look
** an id up in the parts only when its hash is there (in_parts). Looked up
** in the parts' docids table each time, ids were as many random pages
** read, and the kernel maps the pages around each one too: 35 MiB of the
** new index in the writer's resident set, and growing. 8 bytes a document
** (2.3 MB for 289,190), where the batch kept their ids (97 bytes). Past an
** eighth of the budget (12 MiB at --memory 128M: 1.5 million documents,
** the 212 MB corpus 10 times) they are dropped and every id is looked up,
** the pages read dropped now and then (indexed_doc): the memory does not
** grow with the corpus, but the time does. At a sixteenth, the corpus 8
** times went from 139 s and 104 MiB to 187 s and 120 MiB (the lookups'
** pages). */
static furet_rc keep_part_ids(furet_writer *w)
{
	size_t n = w->n_part_ids, i;
	uint64_t most = furet_writer_part_ids_max ? furet_writer_part_ids_max :
		w->budget / 8;
	uint64_t *a;

	if (w->no_part_ids)
		return FURET_OK;
	if ((uint64_t)(n + w->n_docs) * sizeof *a > most) {
		furet_free(w->part_ids);
		w->part_ids = NULL;
		w->n_part_ids = 0;
		w->no_part_ids = 1;
		return FURET_OK;
	}
	if (!(a = furet_realloc(w->part_ids, (n + w->n_docs + 1) * sizeof *a)))
		return FURET_NOMEM;
	w->part_ids = a;
	for (i = 0; i < w->n_docs; i++)
		if (!w->docs[i].is_dead)
			a[n++] = furet_hash64((const char *)w->ids.data +
				w->docs[i].id_off, w->docs[i].id_len);
	qsort(a, n, sizeof *a, u64_cmp);
	w->n_part_ids = n;
	return FURET_OK;
}

/* Empties the batch once a part of it is written: what the next part
** needs, it finds in the new environment (maybe_part). The arrays kept
** per document start small again, as part_bytes counts them. */
static furet_rc reset_batch(furet_writer *w)
{
	early_drop(w);
	free_run(w);
	new_run(w);
	furet_tmp_close(&w->runs);
	w->n_runs = 0;
	furet_tmp_close(&w->spool);
	furet_buf_free(&w->spool_buf);
	furet_buf_free(&w->wbuf);
	w->post_total = 0;
	w->part_pass += w->n_pass;
	w->n_docs = 0;
	w->n_pass = 0;
	furet_free(w->docs);
	w->docs = NULL;
	w->cap_docs = 0;
	furet_buf_free(&w->ids);
	furet_free(w->plen);
	w->plen = NULL;
	w->cap_plen = 0;
	furet_free(w->id_slots);
	w->n_id_slots = 256;
	if (!(w->id_slots = furet_malloc(w->n_id_slots * sizeof *w->id_slots)))
		return FURET_NOMEM;
	memset(w->id_slots, 0, w->n_id_slots * sizeof *w->id_slots);
	furet_free(w->pinfo);
	furet_free(w->dlen_b);
	furet_free(w->pdead);
	w->pinfo = NULL;
	w->dlen_b = NULL;
	w->pdead = NULL;
	w->has_dead = 0;
	w->n_rm = 0;
	if (w->n_rm_slot)
		memset(w->rm_slot, 0, w->n_rm_slot * sizeof *w->rm_slot);
	/* (an incremental batch's unchanged ids count, and stay, to its end) */
	if (!w->is_copy)
		pairset_free(&w->seen);
#ifdef __GLIBC__
	malloc_trim(0);
#endif
	return FURET_OK;
}

/* A batch keeps some bytes per document until the commit (part_bytes):
** 34 MB for the 212 MB corpus, whatever the budget; and LMDB keeps every
** page its transaction writes in memory until the commit. Past a quarter
** of the budget, what the batch holds is written as a part into a new
** environment beside the index and committed there, as it goes; the batch
** starts again empty. A rebuild's first part goes into an empty
** environment (furet_store_open_sibling); an incremental batch's into a
** copy of the index (furet_store_open_copy: adding 212 MB to the index of
** the same corpus at --memory 128M peaked at 296 MiB as one transaction).
** The next parts are written into that environment as incremental batches
** are (documents put again replace the ones of earlier parts). The last
** one is committed by furet_writer_commit, which swaps the environment in:
** until then the index is the previous one, and a failure or a kill loses
** the parts with the rest. Without a sibling (a directory that holds other
** files) the batch is one transaction. */
static furet_rc maybe_part(furet_writer *w)
{
	uint64_t most = furet_writer_part_max ? furet_writer_part_max :
		w->budget / 4;
	int is_rebuild = w->flags & FURET_WRITE_REBUILD;
	char err[300];
	furet_rc rc;

	if (w->no_parts || w->part_added < most / 4)
		return FURET_OK;
	/* Where a part ends depends on the documents added, not on how far
	** the analysis threads are: every sixteenth of the budget's worth of
	** documents, the batch waits for them all. */
	w->part_added = 0;
	if ((rc = drain(w, 1)))
		return rc;
	if (part_bytes(w) <= most)
		return FURET_OK;
	if (!w->part && (!furet_store_can_swap(w->ix->store) || (is_rebuild ?
		furet_store_open_sibling(w->ix->store, &w->part, err,
		sizeof err) != FURET_OK : open_copy(w) < 0))) {
		w->part = NULL;
		w->no_parts = 1;
		return FURET_OK;
	}
	if (!is_rebuild) {
		/* What this part does, counted against the environment as it is
		** before it. */
		furet_batch_summary ps;
		size_t gone = 0;
		memset(&ps, 0, sizeof ps);
		if ((rc = count_batch(w, 1, &ps, &gone)))
			return furet_index_fail(w->ix, rc, "reading the index failed");
		add_part_sum(w, &ps, gone, &w->part_sum);
	}
	if ((rc = write_held(w, 0)) || (is_rebuild && (rc = keep_part_ids(w))) ||
		(rc = reset_batch(w)))
		return rc;
	if ((rc = furet_store_refresh(w->part)))
		return furet_index_fail(w->ix, rc, "cannot open the parts written "
			"so far again");
	if ((rc = furet_store_begin(w->part, 0, &w->rt)))
		return furet_index_fail(w->ix, rc, "cannot read the parts written "
			"so far");
	return FURET_OK;
}

static furet_rc check_doc(furet_writer *w, const furet_doc *doc)
{
	furet_rc rc;

	if (w && w->failed)
		return w->failed;
	if (!w || !doc || !doc->id || doc->id_len == 0 ||
		(!doc->text && doc->text_len) || (!doc->title && doc->title_len) ||
		(!doc->meta && doc->meta_len))
		return FURET_INVALID;
	if (doc->meta_len > FURET_META_MAX)
		return furet_index_fail(w->ix, FURET_INVALID,
			"document %.*s: %zu bytes of metadata, at most %d",
			(int)(doc->id_len > 200 ? 200 : doc->id_len), doc->id,
			doc->meta_len, FURET_META_MAX);
	if (furet_utf8_valid(doc->id, doc->id_len) != doc->id_len ||
		furet_utf8_valid(doc->text, doc->text_len) != doc->text_len ||
		(doc->title && furet_utf8_valid(doc->title, doc->title_len) !=
			doc->title_len) || (doc->source &&
		furet_utf8_valid(doc->source, strlen(doc->source)) !=
			strlen(doc->source)))
		return furet_index_fail(w->ix, FURET_INVALID,
			"document %.*s: not valid UTF-8", (int)(doc->id_len > 200 ?
			200 : doc->id_len), doc->id);
	/* The id is a key of the docids table: LMDB refuses longer keys, and
	** at commit, which would lose the whole batch. */
	if (doc->id_len > FURET_ID_MAX)
		return furet_index_fail(w->ix, FURET_INVALID,
			"document id of %zu bytes (at most %d): %.*s...", doc->id_len,
			FURET_ID_MAX, 60, doc->id);
	if (w->n_pass + 1 >= UINT32_MAX / 2 || w->n_docs + 1 >= UINT32_MAX / 2)
		return furet_index_fail(w->ix, FURET_INVALID,
			"batch too large: commit it and start another");
	if ((rc = maybe_part(w)))
		return w->failed = rc;
	if ((w->n_docs + 1) * 2 > w->n_id_slots && grow_id_slots(w))
		return FURET_NOMEM;
	return FURET_OK;
}

/* Adds doc to the batch, its id going into id slot `slot`: records it and
** hands it to the pipeline. hash is the document's content hash, or NULL
** for the analysis thread to compute. */
static furet_rc add_doc(furet_writer *w, const furet_doc *doc, size_t slot,
	const unsigned char *hash)
{
	furet_adoc_batch *b;
	furet_adoc *a;
	batch_doc *d;
	furet_rc rc;

	if (furet_grow((void **)&w->docs, &w->cap_docs, w->n_docs + 1,
		sizeof *w->docs)) {
		rc = FURET_NOMEM;
		goto done;
	}
	/* Not too much text in flight: a batch to fill, and room for this
	** document, made by inverting the oldest batch. */
	while (!w->open || (furet_pipeline_in_flight(w->pl) &&
		furet_pipeline_weight(w->pl) + w->open_bytes + doc->text_len >
		w->budget / 16)) {
		if (w->open && w->open->n) {
			submit_open(w);
			continue;
		}
		if (!w->open && (w->open = furet_pipeline_slot(w->pl))) {
			w->open->n = 0;
			w->open_bytes = 0;
			continue;
		}
		if ((rc = invert_oldest(w, 1)) && rc != FURET_DONE)
			goto done;
		if (rc == FURET_DONE)
			break; /* nothing in flight: the document goes alone */
	}
	if (!(b = w->open)) {
		rc = FURET_ERROR; /* cannot be: an empty ring has a free slot */
		goto done;
	}
	if (b->n == b->cap) {
		size_t cap = b->cap, i;
		if (furet_grow((void **)&b->docs, &cap, b->n + 1, sizeof *b->docs)) {
			rc = FURET_NOMEM;
			goto done;
		}
		for (i = b->cap; i < cap; i++)
			furet_adoc_init(&b->docs[i]);
		b->cap = cap;
	}
	d = &w->docs[w->n_docs];
	memset(d, 0, sizeof *d);
	d->id_off = w->ids.len;
	d->id_len = (uint32_t)doc->id_len;
	furet_buf_append(&w->ids, doc->id, doc->id_len);
	if (w->ids.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	a = &b->docs[b->n];
	if ((rc = furet_adoc_set(a, doc, (uint32_t)w->n_docs, hash)))
		goto done;
	b->n++;
	w->open_bytes += doc->text_len + 1;
	w->part_added += doc->text_len + doc->id_len + 64;
	w->id_slots[slot] = (uint32_t)w->n_docs + 1;
	w->n_docs++;
	if (w->open_bytes >= batch_bytes(w))
		submit_open(w);
	rc = drain(w, 0);
done:
	if (rc)
		w->failed = rc;
	return rc;
}

FURET_API furet_rc furet_writer_add(furet_writer *w, const furet_doc *doc)
{
	size_t slot;
	furet_rc rc = check_doc(w, doc);

	if (rc)
		return rc;
	if (find_batch_id(w, doc->id, doc->id_len, &slot) >= 0 ||
		(is_into_held(w) && indexed_doc(w, doc->id, doc->id_len, NULL,
		&rc) >= (int64_t)w->base_doc))
		return furet_index_fail(w->ix, FURET_EXISTS,
			"document %.*s is twice in the batch", (int)(doc->id_len > 200 ?
			200 : doc->id_len), doc->id);
	if (rc)
		return furet_index_fail(w->ix, rc, "reading the index failed");
	return add_doc(w, doc, slot, NULL);
}

/* The batch forgets document j: its passages keep their ids, as removed. */
static void kill_batch_doc(furet_writer *w, size_t j)
{
	w->docs[j].is_dead = 1;
}

/* The environment the batch reads (w->rt's): the parts written so far
** (with a copy of the index), or the index. */
static furet_store *read_env(const furet_writer *w)
{
	return w->part ? w->part : w->ix->store;
}

/* Every 256th call, drops the pages of the environment the batch reads
** from the resident set: see furet_store_drop. Reads all over the map,
** each fault mapping the cached pages around it too: adding 25 MB to the
** 1.7 GB index of the corpus eight times at --memory 128M, 345 MB of it
** stayed resident. */
static void drop_now_and_then(furet_writer *w)
{
	if (!(++w->n_ticks & 255))
		furet_store_drop(read_env(w));
}

/* The indexed document number of id, or -1 (also without a snapshot). */
static int64_t indexed_doc(furet_writer *w, const char *id, size_t len,
	furet_doc_rec *rec, furet_rc *rc)
{
	uint32_t num;

	*rc = FURET_OK;
	if (!w->rt || (w->n_parts && !w->is_copy && !in_parts(w, id, len)))
		return -1;
	drop_now_and_then(w); /* a bucket of docids per document put */
	*rc = furet_docid_get(w->rt, id, len, &num, rec);
	if (*rc == FURET_DONE) {
		*rc = FURET_OK;
		return -1;
	}
	return *rc ? -1 : (int64_t)num;
}

/* Where doc's slot in rm_slot is looked for first: its number mixed
** (lowbias32), as documents removed together are often numbered together. */
static size_t rm_home(const furet_writer *w, uint32_t doc)
{
	doc ^= doc >> 16;
	doc *= 0x7feb352du;
	doc ^= doc >> 15;
	doc *= 0x846ca68bu;
	doc ^= doc >> 16;
	return (size_t)doc & (w->n_rm_slot - 1);
}

/* The slot of doc in rm_slot, or the empty one where it would go. (A
** batch may schedule as many removals as the index holds documents: a
** scan of rm_docs for each was quadratic.) */
static size_t rm_find(const furet_writer *w, uint32_t doc)
{
	size_t mask = w->n_rm_slot - 1, s = rm_home(w, doc);

	while (w->rm_slot[s] && w->rm_docs[w->rm_slot[s] - 1] != doc)
		s = (s + 1) & mask;
	return s;
}

/* rm_slot at n slots (a power of 2), rm_docs in it: -1 out of memory. */
static int rm_rehash(furet_writer *w, size_t n)
{
	uint32_t *a = furet_malloc(n * sizeof *a);
	size_t i;

	if (!a)
		return -1;
	memset(a, 0, n * sizeof *a);
	furet_free(w->rm_slot);
	w->rm_slot = a;
	w->n_rm_slot = n;
	for (i = 0; i < w->n_rm; i++)
		w->rm_slot[rm_find(w, w->rm_docs[i])] = (uint32_t)(i + 1);
	return 0;
}

/* Removes indexed document doc at commit: 1 when it was not to be
** already, 0 when it was, -1 out of memory. */
static int schedule_removal(furet_writer *w, uint32_t doc)
{
	size_t s;

	if (2 * (w->n_rm + 1) > w->n_rm_slot && (w->n_rm + 1 > UINT32_MAX - 1 ||
		rm_rehash(w, w->n_rm_slot ? 2 * w->n_rm_slot : 64)))
		return -1;
	s = rm_find(w, doc);
	if (w->rm_slot[s])
		return 0;
	if (furet_grow((void **)&w->rm_docs, &w->cap_rm, w->n_rm + 1,
		sizeof *w->rm_docs))
		return -1;
	w->rm_docs[w->n_rm++] = doc;
	w->rm_slot[s] = (uint32_t)w->n_rm;
	return 1;
}

/* doc is no longer to be removed (if it was). */
static void unschedule_removal(furet_writer *w, uint32_t doc)
{
	size_t mask = w->n_rm_slot - 1, s, i, k;

	if (!w->n_rm)
		return;
	s = rm_find(w, doc);
	if (!w->rm_slot[s])
		return;
	i = w->rm_slot[s] - 1;
	if (i + 1 < w->n_rm) {
		/* the last one takes its place in rm_docs */
		w->rm_slot[rm_find(w, w->rm_docs[w->n_rm - 1])] = (uint32_t)(i + 1);
		w->rm_docs[i] = w->rm_docs[w->n_rm - 1];
	}
	w->n_rm--;
	/* Empties slot s, moving back the entries after it that would no
	** longer be found past the hole. */
	for (;;) {
		w->rm_slot[s] = 0;
		for (k = s;;) {
			size_t h;
			k = (k + 1) & mask;
			if (!w->rm_slot[k])
				return;
			h = rm_home(w, w->rm_docs[w->rm_slot[k] - 1]);
			/* stays when its home is cyclically in (s, k] */
			if (s < k ? (h > s && h <= k) : (h > s || h <= k))
				continue;
			w->rm_slot[s] = w->rm_slot[k];
			s = k;
			break;
		}
	}
}

FURET_API furet_rc furet_writer_put(furet_writer *w, const furet_doc *doc,
	int *outcome)
{
	unsigned char hash[16];
	furet_doc_rec rec;
	size_t slot;
	int64_t j, dn;
	int how = FURET_PUT_ADDED;
	furet_rc rc = check_doc(w, doc);

	if (outcome)
		*outcome = 0;
	if (rc)
		return rc;
	j = find_batch_id(w, doc->id, doc->id_len, &slot);
	if (j >= 0) {
		/* The last one wins: the earlier version leaves the batch, and
		** its id slot goes to the new one. */
		kill_batch_doc(w, (size_t)j);
		w->n_replaced++;
		how = FURET_PUT_REPLACED_IN_BATCH;
	}
	dn = indexed_doc(w, doc->id, doc->id_len, &rec, &rc);
	if (rc)
		return furet_index_fail(w->ix, rc, "reading the index failed");
	if (dn >= 0 && is_into_held(w) && dn >= (int64_t)w->base_doc) {
		/* In an earlier part of this batch: replaced as within the
		** batch. */
		if (schedule_removal(w, (uint32_t)dn) < 0)
			return FURET_NOMEM;
		w->n_replaced++;
		how = FURET_PUT_REPLACED_IN_BATCH;
		dn = -1;
	}
	if (dn >= 0) {
		/* Only then is the hash needed now; otherwise an analysis thread
		** makes it. */
		furet_doc_hash(doc, hash);
		if (memcmp(rec.hash, hash, FURET_HASH_LEN) == 0) {
			/* Unchanged (also when an earlier version in this batch
			** differed: the last one wins, and it is what is indexed). */
			unschedule_removal(w, (uint32_t)dn);
			if (pairset_add(&w->seen, doc->id, doc->id_len, "", 0))
				return FURET_NOMEM;
			if (outcome)
				*outcome = j < 0 ? FURET_PUT_UNCHANGED : how;
			return FURET_OK;
		}
		if (schedule_removal(w, (uint32_t)dn) < 0)
			return FURET_NOMEM;
		if (j < 0)
			how = FURET_PUT_UPDATED;
	}
	rc = add_doc(w, doc, slot, dn >= 0 ? hash : NULL);
	if (rc == FURET_OK && outcome)
		*outcome = how;
	return rc;
}

FURET_API furet_rc furet_writer_remove(furet_writer *w, const char *id,
	size_t id_len)
{
	furet_doc_rec rec;
	size_t slot;
	int64_t j, dn;
	int is_found = 0;
	furet_rc rc;

	if (!w || !id || !id_len)
		return FURET_INVALID;
	if (w->failed)
		return w->failed;
	j = find_batch_id(w, id, id_len, &slot);
	if (j >= 0) {
		size_t k = slot;
		kill_batch_doc(w, (size_t)j);
		/* Take the id out of the table without breaking probe chains:
		** re-insert the rest of the cluster. */
		w->id_slots[k] = 0;
		for (k = (k + 1) & (w->n_id_slots - 1); w->id_slots[k];
			k = (k + 1) & (w->n_id_slots - 1)) {
			uint32_t v = w->id_slots[k];
			batch_doc *d = &w->docs[v - 1];
			size_t m;
			w->id_slots[k] = 0;
			m = furet_hash32(w->ids.data + d->id_off, d->id_len) &
				(w->n_id_slots - 1);
			while (w->id_slots[m])
				m = (m + 1) & (w->n_id_slots - 1);
			w->id_slots[m] = v;
		}
		is_found = 1;
	}
	dn = indexed_doc(w, id, id_len, &rec, &rc);
	if (rc)
		return furet_index_fail(w->ix, rc, "reading the index failed");
	if (dn >= 0) {
		if (schedule_removal(w, (uint32_t)dn) < 0)
			return FURET_NOMEM;
		is_found = 1;
	}
	return is_found ? FURET_OK : FURET_DONE;
}

/* Is source one of paths, or under one of them? */
static int source_in(const char *src, size_t len, const char *const *paths,
	size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t pl = strlen(paths[i]);
		while (pl > 1 && paths[i][pl - 1] == '/')
			pl--;
		if (len == pl && memcmp(src, paths[i], pl) == 0)
			return 1;
		if (len > pl && memcmp(src, paths[i], pl) == 0 && src[pl] == '/')
			return 1;
	}
	return 0;
}

/* Was id put unchanged in this batch (the pair "id\0" in ps)? */
static int seen_contains(const pairset *ps, const char *id, size_t len)
{
	unsigned char key[512];
	int is_found;

	if (!ps->n_slots || len + 1 > sizeof key)
		return 0;
	memcpy(key, id, len);
	key[len] = 0;
	pairset_slot(ps, key, len + 1, &is_found);
	return is_found;
}

FURET_API furet_rc furet_writer_remove_unseen(furet_writer *w,
	const char *const *paths, size_t n, size_t *n_removed)
{
	furet_cursor *cur = NULL;
	furet_doc_iter di;
	uint32_t dn;
	furet_val k, v;
	furet_buf in;      /* a byte per source number: under paths? */
	size_t removed = 0, slot;
	int r;
	furet_rc rc;

	if (n_removed)
		*n_removed = 0;
	if (!w || (!paths && n))
		return FURET_INVALID;
	if (w->failed)
		return w->failed;
	/* (a rebuild's snapshot is of its earlier parts) */
	if (!w->rt || n == 0 || (w->flags & FURET_WRITE_REBUILD))
		return FURET_OK;
	furet_buf_init(&in);
	furet_buf_putc(&in, 0); /* number 0: no source */
	/* The sources, numbered densely from 1 (store.c), then the documents
	** whose source is under paths. */
	if ((rc = furet_cursor_open(w->rt, FURET_T_SOURCES, &cur)))
		goto done;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		if (k.len != 4 || furet_get_u32be(k.data) != in.len) {
			rc = FURET_CORRUPT;
			break;
		}
		furet_buf_putc(&in, source_in((const char *)v.data, v.len, paths, n));
	}
	furet_cursor_close(cur);
	cur = NULL;
	if (rc != FURET_DONE)
		goto done;
	if (in.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	if ((rc = furet_doc_iter_open(w->rt, &di)))
		goto done;
	while ((rc = furet_doc_iter_next(&di, &dn, &v)) == FURET_OK) {
		furet_doc_rec rec;
		/* Every document record is read: the 1.16 million of the corpus
		** eight times left 290 MB of the map resident. */
		if (!(dn & 4095))
			furet_store_drop(read_env(w));
		/* (put by this batch, in a part written already) */
		if (w->is_copy && dn >= w->base_doc)
			continue;
		if (furet_doc_rec_decode(v, &rec) || rec.source >= in.len) {
			rc = FURET_CORRUPT;
			break;
		}
		if (!in.data[rec.source])
			continue;
		if ((rc = furet_doc_rec_names(w->rt, &rec)))
			break;
		if (find_batch_id(w, rec.id, rec.id_len, &slot) >= 0 ||
			seen_contains(&w->seen, rec.id, rec.id_len))
			continue;
		/* (a document removed already in this batch is not counted) */
		if ((r = schedule_removal(w, dn)) < 0) {
			rc = FURET_NOMEM;
			break;
		}
		removed += (size_t)r;
	}
	furet_doc_iter_close(&di);
	if (rc == FURET_DONE) {
		rc = FURET_OK;
		if (n_removed)
			*n_removed = removed;
	}
done:
	furet_buf_free(&in);
	return rc;
}

/* Adds to out what the documents of the batch held now do, each id
** counted by its last put, and the removals it holds; with is_part (an
** incremental batch writing a part), not the ids put unchanged: seen holds
** them until the end of the batch. A document of an earlier part (numbered
** from base_doc on) was counted with its part: put again, it is not
** counted again; removed, it is counted in *gone, to be taken from the
** parts' added (had it replaced an indexed one, that one stays counted as
** updated, not removed). */
static furet_rc count_batch(furet_writer *w, int is_part,
	furet_batch_summary *out, size_t *gone)
{
	furet_doc_rec rec;
	size_t i, slot;
	furet_rc rc = FURET_OK;

	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		int64_t dn;
		if (d->is_dead)
			continue;
		dn = indexed_doc(w, (const char *)w->ids.data + d->id_off,
			d->id_len, &rec, &rc);
		if (rc)
			return rc;
		if (dn < 0)
			out->added++;
		else if (!w->is_copy || dn < (int64_t)w->base_doc)
			out->updated++;
	}
	for (i = 0; i < w->seen.n && !is_part; i++) {
		const char *id = (const char *)w->seen.arena.data + w->seen.offs[i];
		int64_t j = find_batch_id(w, id, w->seen.lens[i] - 1, &slot);
		if (j < 0 || w->docs[j].is_dead)
			out->unchanged++;
	}
	for (i = 0; i < w->n_rm; i++) {
		furet_val v;
		int64_t j;
		if (!w->rt || furet_doc_get(w->rt, w->rm_docs[i], &v) ||
			furet_doc_rec_decode(v, &rec) || furet_doc_rec_names(w->rt, &rec))
			continue;
		j = find_batch_id(w, rec.id, rec.id_len, &slot);
		if (j >= 0 && !w->docs[j].is_dead)
			continue;
		if (!w->is_copy || w->rm_docs[i] < w->base_doc)
			out->removed++;
		else
			(*gone)++;
	}
	return FURET_OK;
}

FURET_API furet_rc furet_writer_summary(furet_writer *w,
	furet_batch_summary *out)
{
	size_t gone = 0;
	furet_rc rc;

	if (!w || !out)
		return FURET_INVALID;
	memset(out, 0, sizeof *out);
	out->repeated = w->n_replaced;
	if (w->n_parts && !w->is_copy) {
		/* A rebuild: what the parts hold less what this one replaces or
		** removes, as in a batch. */
		furet_collection c;
		size_t i;
		if (!w->rt || (rc = furet_store_get_collection(w->rt, &c)))
			return w->rt ? rc : FURET_ERROR;
		out->added = c.n_docs - w->n_rm;
		for (i = 0; i < w->n_docs; i++)
			out->added += !w->docs[i].is_dead;
		return FURET_OK;
	}
	if ((rc = count_batch(w, 0, out, &gone)))
		return rc;
	add_part_sum(w, out, gone, out);
	return FURET_OK;
}


/* Encodes a full (or the final) block and its positions (pos: raw varint
** deltas, Rice-coded here) and appends its record to out, after its length
** as a varint; enc is scratch. */
static furet_rc flush_block(furet_block *blk, furet_buf *pos, furet_buf *enc,
	furet_buf *out)
{
	furet_rc rc;

	furet_buf_reset(enc);
	furet_block_encode(blk, enc);
	if (enc->has_err || pos->has_err)
		return FURET_NOMEM;
	if ((rc = furet_positions_encode(blk, pos->data, pos->len, enc)))
		return rc;
	furet_buf_put_varint(out, enc->len);
	furet_buf_append(out, enc->data, enc->len);
	if (out->has_err)
		return FURET_NOMEM;
	blk->n = 0;
	furet_buf_reset(pos);
	return FURET_OK;
}

/* ---- commit: the merge of the runs ------------------------------------------ */

/* The next key of a spilled run (its length as a varint, then its bytes),
** copied into buf (KEY_CAP bytes): its length, or 0 with r->has_err set. */
static size_t run_key(furet_rdr *r, unsigned char *buf)
{
	uint64_t len = furet_rdr_varint(r);
	const unsigned char *p;

	if (len == 0 || len >= KEY_CAP || !(p = furet_rdr_bytes(r, len))) {
		r->has_err = 1;
		return 0;
	}
	memcpy(buf, p, len);
	return (size_t)len;
}

/* One run's terms, in byte order: a run spilled to the runs file, or the
** run still in memory. */
typedef struct tsrc {
	furet_rdr r;             /* a spilled run's RUN terms */
	uint64_t n_left;         /* its terms not read yet */
	const term_ref *order;   /* the run in memory, sorted */
	size_t i, n;
	int has_term;            /* the current term: */
	const unsigned char *term;
	size_t term_len;
	uint32_t n_post;
	uint64_t post_end;       /* spilled: furet_rdr_left() after its POSTINGs */
	furet_rdr mem;           /* in memory: over its POSTINGs */
	furet_rdr *post;         /* where its POSTINGs are read */
	unsigned char key[KEY_CAP];
} tsrc;

static void tsrc_next(const furet_writer *w, tsrc *s)
{
	uint64_t len, plen, left;

	s->has_term = 0;
	if (s->order) {
		const term_entry *e;
		if (s->i == s->n)
			return;
		e = &w->terms[s->order[s->i++].id];
		s->term = w->terms_arena.data + e->off;
		s->term_len = e->len;
		s->n_post = e->n_post;
		furet_rdr_open_mem(&s->mem, e->post.data, e->post.len);
		s->post = &s->mem;
		s->has_term = 1;
		return;
	}
	/* Skip whatever of the last term's postings was not read. */
	if (s->post && (left = furet_rdr_left(&s->r)) > s->post_end)
		furet_rdr_skip(&s->r, left - s->post_end);
	if (!s->n_left || s->r.has_err)
		return;
	s->n_left--;
	if (!(len = run_key(&s->r, s->key)))
		return;
	s->term = s->key;
	s->term_len = len;
	s->n_post = (uint32_t)furet_rdr_varint(&s->r);
	plen = furet_rdr_varint(&s->r);
	left = furet_rdr_left(&s->r);
	if (s->r.has_err || plen > left) {
		s->r.has_err = 1;
		return;
	}
	s->post_end = left - plen;
	s->post = &s->r;
	s->has_term = 1;
}

/* Buffer of each reader of a spilled run during the merge: a sixteenth
** of the budget between them (an eighth was 12 MB of the 113 MB a 128 MiB
** budget peaked at, for no speed the page cache does not give anyway). */
static size_t merge_buf(const furet_writer *w)
{
	uint64_t b = w->budget / 16 / (w->n_runs + 1);
	if (b < (64u << 10))
		b = 64u << 10;
	if (b > (4u << 20))
		b = 4u << 20;
	return (size_t)b;
}

/* Appends the next n bytes of r to out, a buffer of r at a time:
** FURET_IO (and r->has_err) when r ends first. */
static furet_rc rdr_append(furet_rdr *r, uint64_t n, furet_buf *out)
{
	while (n && !r->has_err) {
		size_t m = furet_rdr_need(r, n < (64u << 10) ? (size_t)n : 64u << 10);
		if (!m) {
			r->has_err = 1;
			return FURET_IO;
		}
		furet_buf_append(out, r->p, m);
		r->p += m;
		n -= m;
	}
	return n ? FURET_IO : FURET_OK;
}

static int is_dead_pid(const furet_writer *w, uint64_t pid)
{
	return pid >= w->n_pass ||
		(w->has_dead && (w->pdead[pid >> 3] >> (pid & 7) & 1));
}

/* Writes one term's postings from its runs (in passage order): appends to
** its existing last block when that one has room, then full blocks of
** FURET_BLOCK_SIZE. Postings of passages replaced later in the batch are
** left out. */
/* Between two records of a rebuild: commits what is written once it
** reaches w->ckpt bytes (see commit_rebuild). Nothing read through t may be
** held across it. */
uint64_t furet_writer_ckpt_min = (uint64_t)16 << 20;
static atomic_size_t n_checkpoints; /* writers of several indexes may tick */

size_t furet_writer_checkpoints(void)
{
	return atomic_load(&n_checkpoints);
}

static furet_rc tick(furet_writer *w, furet_txn *t)
{
	/* A later part of a rebuild, or an incremental batch, reads each
	** term's record and last block, all over the index. A batch written
	** from nothing reads nothing back. */
	if (!is_fresh_batch(w))
		drop_now_and_then(w);
	if (!w->ckpt || furet_txn_pending(t) < w->ckpt)
		return FURET_OK;
	atomic_fetch_add(&n_checkpoints, 1);
	return furet_txn_checkpoint(t);
}

/* Adds document doc of the batch (as in pass_info; UINT32_MAX: none),
** where a term occurs tf times in the bodies, to the term's bound over
** documents: only a document of several passages has a document-level
** score. */
static void add_doc_bound(const furet_writer *w, furet_term_bound *b,
	uint32_t doc, uint64_t tf)
{
	if (doc == UINT32_MAX || !(doc & DOC_MULTI))
		return;
	furet_term_bound_add(b, tf > UINT32_MAX ? UINT32_MAX : (uint32_t)tf,
		w->dlen_b[doc & ~DOC_MULTI], 0, 0);
}

/* Adds the postings blk[from..n) (passages of the batch from base on) to
** the term's bounds, in order; doc and doc_tf are the document being summed
** and its tf so far. Apart from the merge, a block at a time, so that the
** passages' pass_info, a cache miss each, are asked for ahead. */
#define BOUND_AHEAD 8
static void bound_postings(const furet_writer *w, const furet_block *blk,
	uint32_t from, uint32_t base, furet_term_rec *rec, uint32_t *doc,
	uint64_t *doc_tf)
{
	uint32_t j;

	for (j = from; j < blk->n && j < from + BOUND_AHEAD; j++)
		if (blk->tf[j])
			__builtin_prefetch(&w->pinfo[blk->pid[j] - base]);
	for (j = from; j < blk->n; j++) {
		const pass_info *pi;
		if (j + BOUND_AHEAD < blk->n && blk->tf[j + BOUND_AHEAD])
			__builtin_prefetch(&w->pinfo[blk->pid[j + BOUND_AHEAD] - base]);
		/* Without body words (a title's or a section's term), a posting
		** only raises the title and section maxima: its passage's length
		** and document are not needed (a document's bound of tf 0 adds
		** nothing), nor read. */
		if (!blk->tf[j]) {
			furet_term_bound_add(&rec->bound, 0, 0, blk->tf_title[j],
				blk->tf_section[j]);
			continue;
		}
		pi = &w->pinfo[blk->pid[j] - base];
		furet_term_bound_add(&rec->bound, blk->tf[j], pi->len,
			blk->tf_title[j], blk->tf_section[j]);
		if (pi->doc != *doc) {
			add_doc_bound(w, &rec->dbound, *doc, *doc_tf);
			*doc = pi->doc;
			*doc_tf = 0;
		}
		*doc_tf += blk->tf[j];
	}
}

/* A term's postings made into blocks, by encode_term. */
typedef struct term_out {
	furet_term_rec rec;  /* df, cf and bounds added to; n_blocks not set */
	uint32_t n_blocks;   /* blocks made */
	uint32_t n_put;      /* of which put already (block_put) */
	uint64_t n_written;  /* live postings */
	uint64_t cf;
} term_out;

/* Where the writer's thread puts a term's blocks as encode_term makes
** them, so that a term of many blocks never has them all in memory. */
typedef struct block_put {
	furet_txn *t;
	furet_block_sink *sink;
	const char *term;
	size_t term_len;
	uint32_t first;      /* the number of the term's first new block */
	unsigned char *key;
	unsigned put_flags;
} block_put;

#define BLOCKS_HELD (64u << 10) /* bytes of blocks encode_term holds, about */

/* Puts the blocks at p (encode_term's out): those from o->n_put on. */
static furet_rc put_blocks(const block_put *bp, term_out *o,
	const unsigned char *p)
{
	furet_rc rc;

	for (; o->n_put < o->n_blocks; o->n_put++) {
		uint64_t len = take_varint(&p);
		if ((rc = furet_block_sink_put(bp->t, bp->sink, bp->term,
			bp->term_len, bp->first + o->n_put, p, (size_t)len,
			bp->put_flags, bp->key)))
			return rc;
		p += len;
	}
	return FURET_OK;
}

/* A full block of encode_term's: its bounds, then encoded to out (and put
** past BLOCKS_HELD bytes, with bp). */
static furet_rc block_done(const furet_writer *w, furet_block *blk,
	uint32_t *from, uint32_t base, term_out *o, uint32_t *doc,
	uint64_t *doc_tf, furet_buf *pos, furet_buf *enc, furet_buf *out,
	const block_put *bp)
{
	furet_rc rc;

	bound_postings(w, blk, *from, base, &o->rec, doc, doc_tf);
	*from = 0;
	if ((rc = flush_block(blk, pos, enc, out)))
		return rc;
	o->n_blocks++;
	if (bp && out->len >= BLOCKS_HELD) {
		if ((rc = put_blocks(bp, o, out->data)))
			return rc;
		furet_buf_reset(out);
	}
	return FURET_OK;
}

/* Encodes the postings of segs (the term's, run after run), after the
** blk->n postings of an indexed block (already in the bounds, positions in
** pos) as blocks: each appended to out (flush_block), the last one
** included, and added to o; with bp, puts them whenever they pass
** BLOCKS_HELD bytes. Without bp, reads nothing but the writer's arrays:
** the commit runs it in worker threads (see term_job). */
static furet_rc encode_term(const furet_writer *w, tsrc *const *segs,
	size_t n_segs, uint32_t base, furet_block *blk, furet_buf *pos,
	furet_buf *enc, term_out *o, furet_buf *out, const block_put *bp)
{
	uint32_t i, doc = UINT32_MAX, from = blk->n;
	uint64_t doc_tf = 0;
	size_t si;
	furet_rc rc;

	o->n_blocks = o->n_put = 0;
	o->n_written = o->cf = 0;
	for (si = 0; si < n_segs; si++) {
		furet_rdr *r = segs[si]->post;
		uint64_t pid = 0;

		for (i = 0; i < segs[si]->n_post; i++) {
			uint64_t delta = furet_rdr_varint(r), tf = furet_rdr_varint(r), k;
			const unsigned char *fields = furet_rdr_bytes(r, 2);
			int is_dead;

			if (r->has_err || !fields || tf > UINT32_MAX)
				return FURET_IO;
			pid = i ? pid + delta : delta;
			if (tf == 0 && fields[0] == 0 && fields[1] == 0) {
				/* A SPAN POSTING: count passages from pid on. */
				uint64_t count = furet_rdr_varint(r), c;
				const unsigned char *tts = furet_rdr_bytes(r, 2);
				if (r->has_err || !tts || count < 2 ||
					count > UINT32_MAX - pid)
					return FURET_IO;
				for (c = 0; c < count; c++) {
					if (is_dead_pid(w, pid + c))
						continue;
					blk->pid[blk->n] = base + (uint32_t)(pid + c);
					blk->tf[blk->n] = 0;
					blk->tf_title[blk->n] = tts[0];
					blk->tf_section[blk->n] = tts[1];
					blk->n++;
					o->n_written++;
					if (blk->n == FURET_BLOCK_SIZE && (rc = block_done(w,
						blk, &from, base, o, &doc, &doc_tf, pos, enc, out,
						bp)))
						return rc;
				}
				pid += count - 1;
				continue;
			}
			is_dead = is_dead_pid(w, pid);
			if (!is_dead) {
				blk->pid[blk->n] = base + (uint32_t)pid;
				blk->tf[blk->n] = (uint32_t)tf;
				blk->tf_title[blk->n] = fields[0];
				blk->tf_section[blk->n] = fields[1];
			}
			/* The positions are the same varints in the run and in pos
			** (the body tf, in the block, says how many): copied whole
			** when they are all in the reader's buffer. */
			{
				const unsigned char *q = r->p, *qe = r->e;
				for (k = 0; k < tf && q < qe; q++)
					k += !(*q & 0x80);
				if (k == tf) {
					size_t n = (size_t)(q - r->p);
					if (!is_dead && !furet_buf_reserve(pos, n)) {
						copy_short(pos->data + pos->len, r->p, n);
						pos->len += n;
						pos->data[pos->len] = '\0';
					}
					r->p = q;
				} else {
					for (k = 0; k < tf; k++) {
						uint64_t x = furet_rdr_varint(r);
						if (!is_dead)
							furet_buf_put_varint(pos, x);
					}
				}
			}
			if (r->has_err)
				return FURET_IO;
			if (is_dead)
				continue; /* replaced later in this batch */
			blk->n++;
			o->n_written++;
			o->cf += tf;
			if (blk->n == FURET_BLOCK_SIZE && (rc = block_done(w, blk,
				&from, base, o, &doc, &doc_tf, pos, enc, out, bp)))
				return rc;
		}
	}
	if (o->n_written == 0)
		return FURET_OK; /* only postings of replaced documents */
	bound_postings(w, blk, from, base, &o->rec, &doc, &doc_tf);
	add_doc_bound(w, &o->rec.dbound, doc, doc_tf);
	if (blk->n) {
		if ((rc = flush_block(blk, pos, enc, out)))
			return rc;
		o->n_blocks++;
	}
	return FURET_OK;
}

/* Puts the blocks encode_term made that it did not put (at p) and the
** term's record. */
static furet_rc put_term(furet_writer *w, const block_put *bp, term_out *o,
	const unsigned char *p, furet_buf *enc)
{
	furet_rc rc;

	if (o->n_written == 0)
		return FURET_OK;
	if ((rc = put_blocks(bp, o, p)))
		return rc;
	w->n_written += o->n_written;
	o->rec.df += o->n_written;
	o->rec.cf += o->cf;
	o->rec.n_blocks = bp->first + o->n_blocks;
	furet_block_sink_end(bp->sink, o->rec.n_blocks, &o->rec);
	furet_buf_reset(enc);
	furet_term_rec_encode(&o->rec, enc);
	if (enc->has_err)
		return FURET_NOMEM;
	return furet_txn_put(bp->t, FURET_T_TERMS, bp->term, bp->term_len,
		enc->data, enc->len, bp->put_flags);
}

/* Writes a term: its postings of the batch from segs, after those of the
** index (an incremental batch appends to its last block). */
static furet_rc write_term(furet_writer *w, furet_txn *t,
	const unsigned char *term_p, size_t term_len, tsrc *const *segs,
	size_t n_segs, uint32_t base, int is_rebuild, furet_buf *enc,
	furet_buf *pos, furet_block *blk, furet_block_sink *sink,
	unsigned char *key, furet_buf *out)
{
	const char *term = (const char *)term_p;
	term_out o;
	block_put bp;
	furet_val v;
	uint32_t block = 0;
	furet_rc rc;
	unsigned put_flags = is_rebuild ? FURET_PUT_APPEND : 0;

	memset(&o, 0, sizeof o);
	blk->n = 0;
	furet_buf_reset(pos);
	furet_buf_reset(out);
	furet_block_sink_reset(sink);
	if (!is_rebuild) {
		rc = furet_txn_get(t, FURET_T_TERMS, term, term_len, &v);
		if (rc == FURET_OK) {
			if ((rc = furet_term_rec_decode(v, &o.rec)) != FURET_OK)
				return rc;
		} else if (rc != FURET_DONE) {
			return rc;
		}
		if (o.rec.n_blocks) {
			block = o.rec.n_blocks - 1;
			if ((rc = furet_term_block(t, term, term_len, &o.rec, block, key,
				&v)) || (rc = furet_block_decode(v, blk)))
				return rc;
			if (blk->n == FURET_BLOCK_SIZE) {
				/* A full block of its own record goes to the postings
				** table once block 1 comes. */
				if (block == 0 && (rc = furet_block_sink_put(t, sink, term,
					term_len, 0, v.data, v.len, put_flags, key)))
					return rc;
				blk->n = 0;
				block++;
			} else {
				if ((rc = furet_positions_varints(
					furet_block_positions(v, blk), blk, pos)))
					return rc;
			}
		}
	}
	/* (an indexed block's postings are in the bounds) */
	bp = (block_put){ t, sink, term, term_len, block, key, put_flags };
	if ((rc = encode_term(w, segs, n_segs, base, blk, pos, enc, &o, out,
		&bp)))
		return rc;
	return put_term(w, &bp, &o, out->data, enc);
}

/* The documents' side of the commit (see struct docs_out), which
** write_terms lets on between two terms. */
typedef struct docs_out docs_out;
static furet_rc docs_pump(furet_writer *w, furet_txn *t, docs_out *o,
	int is_all);

/* ---- commit: a rebuild's blocks encoded in worker threads ------------------ */

/* A rebuild (nothing of the index to read) has its terms' blocks encoded
** in the pipeline's threads, a job of consecutive terms at a time, while
** this thread merges the runs into jobs and puts the blocks of the jobs
** done, in order: the same records, but encoding (blocks, positions,
** bounds) was most of the commit, one thread's work while the others had
** only the stored texts to compress. A job refers to the postings of the
** run in memory and copies those of spilled runs; a term with more than
** term_big() bytes of them is written by this thread, reading them as it
** goes (write_term), so that memory stays within the budget. */
#define TERM_JOB (128u << 10) /* postings bytes per job, about */
#define TERM_JOB_TERMS 512    /* terms per job at most (200 bytes each) */

/* The copies of spilled postings in flight (furet_pipeline_weight) stay
** under a 512th of the budget, and so does a job's one big term: a slot
** (six with two threads, 34 at a roomy budget: jobs_open) keeps at most
** that and two jobs' worth when released. At 512 MiB, where the 212 MB
** corpus spills, 34 slots gave a peak RSS of 346 MB, 6 slots 351. */
static size_t term_big(const furet_writer *w)
{
	uint64_t b = w->budget / 512;
	return b < (64u << 10) ? 64u << 10 : (size_t)b;
}

typedef struct term_seg {
	const unsigned char *p; /* the run in memory's postings, or NULL: */
	size_t off;             /* copied to the job's in at off */
	size_t len;
	uint32_t n_post;
} term_seg;

typedef struct term_item {
	size_t key_off, key_len; /* the term, in the job's in */
	size_t first_seg, n_segs;
	term_out o;
	size_t at;               /* where its blocks start in the job's out */
} term_item;

typedef struct term_job {
	const furet_writer *w;
	uint32_t base;
	furet_buf in;            /* terms, and postings of spilled runs */
	term_item *items;
	size_t n_items, cap_items;
	term_seg *segs;
	size_t n_segs, cap_segs;
	size_t bytes;            /* of postings */
	furet_buf out;
	furet_rc rc;
} term_job;

/* A worker's scratch. */
typedef struct term_state {
	furet_block blk;
	furet_buf pos, enc;
	tsrc *srcs;
	tsrc **segs;
	size_t cap;
} term_state;

static void term_job_init(void *slot)
{
	term_job *j = slot;
	memset(j, 0, sizeof *j);
	furet_buf_init(&j->in);
	furet_buf_init(&j->out);
}

static void term_job_free(void *slot)
{
	term_job *j = slot;
	furet_free(j->items);
	furet_free(j->segs);
	furet_buf_free(&j->in);
	furet_buf_free(&j->out);
	memset(j, 0, sizeof *j);
}

static size_t term_job_bytes(const void *slot)
{
	const term_job *j = slot;
	return j->in.cap + j->out.cap + j->cap_items * sizeof *j->items +
		j->cap_segs * sizeof *j->segs;
}

static furet_rc term_state_open(void *ctx, void **state)
{
	term_state *st = furet_malloc(sizeof *st);

	(void)ctx;
	*state = st;
	if (!st)
		return FURET_NOMEM;
	memset(st, 0, sizeof *st);
	furet_buf_init(&st->pos);
	furet_buf_init(&st->enc);
	return FURET_OK;
}

static void term_state_close(void *ctx, void *state)
{
	term_state *st = state;

	(void)ctx;
	if (!st)
		return;
	furet_buf_free(&st->pos);
	furet_buf_free(&st->enc);
	furet_free(st->srcs);
	furet_free(st->segs);
	furet_free(st);
}

static void term_job_run(void *state, void *slot)
{
	term_state *st = state;
	term_job *j = slot;
	size_t i, k;

	furet_buf_reset(&j->out);
	j->rc = FURET_OK;
	for (i = 0; i < j->n_items && !j->rc; i++) {
		term_item *it = &j->items[i];
		if (it->n_segs > st->cap) {
			size_t cap = st->cap;
			if (furet_grow((void **)&st->srcs, &cap, it->n_segs,
				sizeof *st->srcs) || furet_grow((void **)&st->segs,
				&st->cap, it->n_segs, sizeof *st->segs)) {
				j->rc = FURET_NOMEM;
				break;
			}
		}
		for (k = 0; k < it->n_segs; k++) {
			const term_seg *sg = &j->segs[it->first_seg + k];
			tsrc *src = &st->srcs[k];
			furet_rdr_open_mem(&src->mem, sg->p ? sg->p : j->in.data + sg->off,
				sg->len);
			src->post = &src->mem;
			src->n_post = sg->n_post;
			st->segs[k] = src;
		}
		memset(&it->o, 0, sizeof it->o);
		it->at = j->out.len;
		st->blk.n = 0;
		furet_buf_reset(&st->pos);
		j->rc = encode_term(j->w, st->segs, it->n_segs, j->base, &st->blk,
			&st->pos, &st->enc, &it->o, &j->out, NULL);
	}
}

/* The commit's side of the jobs. */
/* The lookup pairs and the dense arrays of a batch (write_batch), which
** put_tables writes once: while the encoding threads work (put_job), or
** after the terms. */
typedef struct batch_tables {
	furet_writer *w;
	furet_txn *t;
	const fold_ref *fold_order, *word_order;
	unsigned put_flags;
	uint64_t n_passages, next_doc; /* the index's, before the batch */
	furet_buf *enc, *dead;
	int is_done;
} batch_tables;

static furet_rc put_tables(batch_tables *bt);

typedef struct term_jobs {
	furet_pipeline_ops ops;
	furet_pipeline *p;
	term_job *open;          /* being filled */
	size_t n_put;            /* terms put */
	docs_out *docs;
	furet_block_sink sink;
	furet_buf enc;
	unsigned char key[KEY_CAP + 5];
	/* Writing to do meanwhile, the first time the oldest job is not done
	** yet: the lookup pairs and the dense arrays (put_tables), which
	** otherwise came after the last term with the encoding threads done.
	** NULL for none. */
	batch_tables *tables;
} term_jobs;

/* Puts what the oldest job made (waiting for it): its terms' blocks and
** records, in order. FURET_DONE when no job is in flight. */
static furet_rc put_job(furet_writer *w, furet_txn *t, term_jobs *tj)
{
	term_job *j = furet_pipeline_oldest(tj->p, 0);
	size_t i;
	furet_rc rc = FURET_OK;

	if (!j && tj->tables && !tj->tables->is_done &&
		furet_pipeline_in_flight(tj->p) && (rc = put_tables(tj->tables)))
		return rc;
	if (!j && !(j = furet_pipeline_oldest(tj->p, 1)))
		return FURET_DONE;
	for (i = 0; i < j->n_items && !(rc = j->rc); i++) {
		term_item *it = &j->items[i];
		block_put bp = { t, &tj->sink, (const char *)j->in.data + it->key_off,
			it->key_len, 0, tj->key, FURET_PUT_APPEND };
		furet_block_sink_reset(&tj->sink);
		if ((rc = put_term(w, &bp, &it->o, j->out.data + it->at,
			&tj->enc)) ||
			(rc = tick(w, t)) ||
			(!(++tj->n_put & 15) && (rc = docs_pump(w, t, tj->docs, 0))))
			break;
	}
	furet_pipeline_release(tj->p, 2 * TERM_JOB + term_big(w));
	return rc;
}

/* (weighed by its copies: the run in memory is there anyway) */
static void submit_job(term_jobs *tj)
{
	if (tj->open) {
		furet_pipeline_submit(tj->p, tj->open->in.len);
		tj->open = NULL;
	}
}

/* Puts every job in flight (the one being filled too). */
static furet_rc put_jobs(furet_writer *w, furet_txn *t, term_jobs *tj)
{
	furet_rc rc;

	submit_job(tj);
	while ((rc = put_job(w, t, tj)) == FURET_OK)
		;
	return rc == FURET_DONE ? FURET_OK : rc;
}

static furet_rc jobs_open(furet_writer *w, term_jobs *tj, docs_out *docs)
{
	memset(tj, 0, sizeof *tj);
	tj->ops = (furet_pipeline_ops){
		sizeof(term_job), term_job_init, term_job_free, term_job_bytes,
		term_state_open, term_state_close, term_job_run, NULL, 2,
	};
	/* Sixteen jobs in flight per worker, not two: a term of many
	** postings is one job, and while a worker encodes it the other has
	** soon done the few jobs behind it, then waits, since they come back
	** in order. On the 212 MB corpus the encoding threads waited 1.0-1.9 s
	** of their 5 in all, 0.2 s now, and the commit's two cores went from
	** 81-92 % busy to 97-99 % (per 0.2 s, perf). A job holds its terms'
	** encoded blocks, about 100 KB: 10 MB more at the peak, so not under
	** ROOMY_BUDGET. */
	if (w->budget >= ROOMY_BUDGET)
		tj->ops.depth = 16;
	tj->docs = docs;
	furet_block_sink_init(&tj->sink);
	furet_buf_init(&tj->enc);
	return furet_pipeline_open(&tj->ops, w->n_threads, &tj->p);
}

static void jobs_close(term_jobs *tj)
{
	furet_pipeline_close(tj->p);
	furet_block_sink_free(&tj->sink);
	furet_buf_free(&tj->enc);
}

/* The postings bytes of a term's segment. */
static size_t seg_bytes(const tsrc *s)
{
	return s->order ? (size_t)(s->mem.e - s->mem.p) :
		(size_t)(furet_rdr_left(&s->r) - s->post_end);
}

/* Hands a term (its postings in segs) to the jobs; one too big for a job
** is written at once, after every job before it. */
static furet_rc job_add(furet_writer *w, furet_txn *t, term_jobs *tj,
	const tsrc *min, tsrc *const *segs, size_t n_segs, uint32_t base,
	furet_buf *enc, furet_buf *pos, furet_block *blk, furet_buf *out)
{
	term_job *j;
	term_item *it;
	size_t i, spilled = 0;
	furet_rc rc;

	for (i = 0; i < n_segs; i++)
		if (!segs[i]->order)
			spilled += seg_bytes(segs[i]);
	if (spilled > term_big(w)) {
		if ((rc = put_jobs(w, t, tj)))
			return rc;
		if ((rc = write_term(w, t, min->term, min->term_len, segs, n_segs,
			base, 1, enc, pos, blk, &tj->sink, tj->key, out)))
			return rc;
		return tick(w, t);
	}
	if (!tj->open) {
		/* (the copies in flight: about as much as a run's reader holds) */
		while (furet_pipeline_weight(tj->p) > term_big(w) ||
			!(j = furet_pipeline_slot(tj->p)))
			if ((rc = put_job(w, t, tj)) > FURET_OK)
				return rc;
		j->w = w;
		j->base = base;
		j->bytes = 0;
		j->n_items = j->n_segs = 0;
		furet_buf_reset(&j->in);
		tj->open = j;
	}
	j = tj->open;
	if (furet_grow((void **)&j->items, &j->cap_items, j->n_items + 1,
		sizeof *j->items) || furet_grow((void **)&j->segs, &j->cap_segs,
		j->n_segs + n_segs, sizeof *j->segs))
		return FURET_NOMEM;
	it = &j->items[j->n_items++];
	it->key_off = j->in.len;
	it->key_len = min->term_len;
	furet_buf_append(&j->in, min->term, min->term_len);
	it->first_seg = j->n_segs;
	it->n_segs = n_segs;
	for (i = 0; i < n_segs; i++) {
		term_seg *sg = &j->segs[j->n_segs++];
		tsrc *s = segs[i];
		sg->len = seg_bytes(s);
		sg->n_post = s->n_post;
		j->bytes += sg->len;
		if (s->order) {
			sg->p = s->mem.p;
			continue;
		}
		/* a spilled run's: copied, the reader going past them */
		sg->p = NULL;
		sg->off = j->in.len;
		if ((rc = rdr_append(&s->r, sg->len, &j->in)))
			return rc;
	}
	if (j->in.has_err)
		return FURET_NOMEM;
	if (j->bytes >= TERM_JOB || j->n_items == TERM_JOB_TERMS)
		submit_job(tj);
	return FURET_OK;
}

/* Each passage's length and document, and each document's length, for
** the terms' bounds (over passages and over documents). */
static furet_rc doc_index(furet_writer *w)
{
	size_t i;
	uint32_t k;

	if (w->pinfo)
		return FURET_OK; /* a batch written again (a larger map) */
	w->pinfo = furet_malloc((w->n_pass ? w->n_pass : 1) * sizeof *w->pinfo);
	w->dlen_b = furet_malloc((w->n_docs ? w->n_docs : 1) * sizeof *w->dlen_b);
	if (!w->pinfo || !w->dlen_b)
		return FURET_NOMEM;
	memset(w->pinfo, 0, (w->n_pass ? w->n_pass : 1) * sizeof *w->pinfo);
	w->dlen_b[0] = 0;
	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		uint32_t doc = (uint32_t)i | (d->n_passages >= 2 ? DOC_MULTI : 0);
		uint64_t x = 0;
		for (k = 0; k < d->n_passages; k++) {
			if (d->first_passage + k >= w->n_pass)
				return FURET_ERROR;
			w->pinfo[d->first_passage + k].len = w->plen[d->first_passage + k];
			w->pinfo[d->first_passage + k].doc = doc;
			x += w->plen[d->first_passage + k];
		}
		w->dlen_b[i] = x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
	}
	/* The lengths are in pinfo now (pass_len): at the commit, when the
	** memory peaks, one array of them, not two (4 bytes a passage, 4.6
	** MB for the 212 MB corpus, 8 MB of capacity). */
	furet_free(w->plen);
	w->plen = NULL;
	w->cap_plen = 0;
	return FURET_OK;
}

/* The length of passage pid of the batch, before and after doc_index. */
static uint32_t pass_len(const furet_writer *w, size_t pid)
{
	return w->pinfo ? w->pinfo[pid].len : w->plen[pid];
}

/* Merges the runs' terms: each term once, in byte order, with its
** postings from every run that has it. order is the run still in memory
** (NULL when every run was spilled). Every few terms, what the
** compressing threads made of docs is put (docs_pump). */
static furet_rc write_terms(furet_writer *w, furet_txn *t, const term_ref *order,
	uint32_t base, int is_rebuild, docs_out *docs, batch_tables *tables)
{
	tsrc *srcs = NULL, **segs = NULL;
	size_t n_src = w->n_runs + (order ? 1 : 0), i, n_segs, n_terms = 0;
	furet_buf enc, pos, out;
	furet_block *blk = NULL;
	furet_block_sink sink;
	unsigned char key[KEY_CAP + 5];
	term_jobs tj;
	int has_jobs = 0;
	furet_rc rc = FURET_OK;

	furet_buf_init(&enc);
	furet_buf_init(&pos);
	furet_buf_init(&out);
	furet_block_sink_init(&sink);
	if ((rc = doc_index(w)))
		goto done;
	if (is_rebuild && w->n_threads > 1) {
		has_jobs = 1;
		if ((rc = jobs_open(w, &tj, docs)))
			goto done;
		tj.tables = tables;
	}
	srcs = furet_malloc((n_src ? n_src : 1) * sizeof *srcs);
	segs = furet_malloc((n_src ? n_src : 1) * sizeof *segs);
	blk = furet_malloc(sizeof *blk);
	if (!srcs || !segs || !blk) {
		furet_free(srcs);
		srcs = NULL;
		rc = FURET_NOMEM;
		goto done;
	}
	memset(srcs, 0, n_src * sizeof *srcs);
	for (i = 0; i < w->n_runs; i++) {
		const run_info *ri = &w->run_info[i];
		srcs[i].r.fd = -1;
		if ((rc = furet_rdr_open_file(&srcs[i].r, w->runs.fd, ri->terms_off,
			ri->folds_off - ri->terms_off, merge_buf(w))))
			goto done;
		srcs[i].n_left = furet_rdr_varint(&srcs[i].r);
		tsrc_next(w, &srcs[i]);
	}
	if (order) {
		srcs[w->n_runs].order = order;
		srcs[w->n_runs].n = w->n_terms;
		tsrc_next(w, &srcs[w->n_runs]);
	}
	for (;;) {
		tsrc *min = NULL;
		for (i = 0; i < n_src; i++)
			if (srcs[i].has_term && (!min ||
				furet_key_cmp(srcs[i].term, srcs[i].term_len, min->term,
				min->term_len) < 0))
				min = &srcs[i];
		if (!min)
			break;
		/* Every run holding the term, in run (= passage) order. */
		for (i = 0, n_segs = 0; i < n_src; i++)
			if (srcs[i].has_term && furet_key_cmp(srcs[i].term,
				srcs[i].term_len, min->term, min->term_len) == 0)
				segs[n_segs++] = &srcs[i];
		if (has_jobs)
			rc = job_add(w, t, &tj, min, segs, n_segs, base, &enc, &pos, blk,
				&out);
		else if (!(rc = write_term(w, t, min->term, min->term_len, segs,
			n_segs, base, is_rebuild, &enc, &pos, blk, &sink, key, &out)) &&
			!(rc = tick(w, t)) && !(++n_terms & 15))
			rc = docs_pump(w, t, docs, 0);
		if (rc)
			goto done;
		for (i = 0; i < n_segs; i++)
			tsrc_next(w, segs[i]);
	}
	if (has_jobs && (rc = put_jobs(w, t, &tj)))
		goto done;
	for (i = 0; i < n_src; i++)
		if (srcs[i].r.has_err || srcs[i].n_left)
			rc = FURET_IO;
done:
	if (has_jobs)
		jobs_close(&tj);
	if (rc == FURET_IO)
		furet_index_fail(w->ix, rc, "reading a temporary file in %s failed",
			w->tmp_dir);
	for (i = 0; srcs && i < n_src; i++)
		furet_rdr_close(&srcs[i].r);
	furet_free(srcs);
	furet_free(segs);
	furet_free(blk);
	furet_buf_free(&enc);
	furet_buf_free(&pos);
	furet_buf_free(&out);
	furet_block_sink_free(&sink);
	return rc;
}

/* One run's pairs of one table, in byte order. */
typedef struct psrc {
	furet_rdr r;
	uint64_t n_left;
	const fold_ref *mem;
	size_t i, n;
	int has_key;
	const unsigned char *key;
	size_t len;
	unsigned char buf[KEY_CAP];
} psrc;

static void psrc_next(psrc *s)
{
	uint64_t len;

	s->has_key = 0;
	if (s->mem) {
		if (s->i == s->n)
			return;
		s->key = s->mem[s->i].p;
		s->len = s->mem[s->i++].len;
		s->has_key = 1;
		return;
	}
	if (!s->n_left || s->r.has_err)
		return;
	s->n_left--;
	if (!(len = run_key(&s->r, s->buf)))
		return;
	s->key = s->buf;
	s->len = len;
	s->has_key = 1;
}

/* Merges the runs' pairs of the folds (is_words 0) or words table: each
** pair once, in byte order. mem is the run in memory (or NULL). */
static furet_rc write_pairs(furet_writer *w, furet_txn *t, int is_words,
	const fold_ref *mem, size_t n_mem, unsigned put_flags)
{
	size_t n_src = w->n_runs + (mem ? 1 : 0), i;
	psrc *srcs = furet_malloc((n_src ? n_src : 1) * sizeof *srcs);
	furet_table tab = is_words ? FURET_T_WORDS : FURET_T_FOLDS;
	furet_rc rc = FURET_OK;

	if (!srcs)
		return FURET_NOMEM;
	memset(srcs, 0, n_src * sizeof *srcs);
	for (i = 0; i < w->n_runs; i++) {
		const run_info *ri = &w->run_info[i];
		uint64_t off = is_words ? ri->words_off : ri->folds_off;
		uint64_t end = is_words ? ri->end : ri->words_off;
		if ((rc = furet_rdr_open_file(&srcs[i].r, w->runs.fd, off, end - off,
			merge_buf(w))))
			goto done;
		srcs[i].n_left = furet_rdr_varint(&srcs[i].r);
		psrc_next(&srcs[i]);
	}
	if (mem) {
		srcs[w->n_runs].mem = mem;
		srcs[w->n_runs].n = n_mem;
		psrc_next(&srcs[w->n_runs]);
	}
	for (;;) {
		psrc *min = NULL;
		for (i = 0; i < n_src; i++)
			if (srcs[i].has_key && (!min || furet_key_cmp(srcs[i].key,
				srcs[i].len, min->key, min->len) < 0))
				min = &srcs[i];
		if (!min)
			break;
		if ((rc = furet_txn_put(t, tab, min->key, min->len, "", 0,
			put_flags)) || (rc = tick(w, t)))
			goto done;
		for (i = 0; i < n_src; i++)
			if (&srcs[i] != min && srcs[i].has_key &&
				furet_key_cmp(srcs[i].key, srcs[i].len, min->key,
				min->len) == 0)
				psrc_next(&srcs[i]);
		psrc_next(min);
	}
	for (i = 0; i < n_src; i++)
		if (srcs[i].r.has_err || srcs[i].n_left)
			rc = furet_index_fail(w->ix, FURET_IO, "reading a temporary "
				"file in %s failed", w->tmp_dir);
done:
	for (i = 0; i < n_src; i++)
		furet_rdr_close(&srcs[i].r);
	furet_free(srcs);
	return rc;
}

enum { DENSE_PLEN, DENSE_PDOC, DENSE_DLEN };

/* The batch's entries of a dense array, in order, a window at a time. */
typedef struct dense_src {
	const furet_writer *w;
	int kind;
	uint32_t doc_base;        /* the batch's first document number */
	size_t doc;               /* the next entry: a document */
	uint32_t k;               /* and its passage */
} dense_src;

/* The next m entries into out (m: as many as are left, at most). */
static furet_rc dense_next(dense_src *d, uint32_t *out, size_t m)
{
	const furet_writer *w = d->w;
	size_t n = 0;

	/* Documents in order hold the passages in order. */
	while (n < m && d->doc < w->n_docs) {
		const batch_doc *bd = &w->docs[d->doc];
		uint64_t x = 0;
		uint32_t k;

		if (d->kind == DENSE_DLEN) {
			for (k = 0; k < bd->n_passages; k++)
				x += pass_len(w, bd->first_passage + k);
			out[n++] = x >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)x;
			d->doc++;
			continue;
		}
		if (d->k < bd->n_passages) {
			out[n++] = d->kind == DENSE_PDOC ? d->doc_base +
				(uint32_t)d->doc : bd->is_dead ? FURET_DEAD_PASSAGE :
				pass_len(w, bd->first_passage + d->k);
			d->k++;
			continue;
		}
		d->doc++;
		d->k = 0;
	}
	return n < m ? FURET_ERROR : FURET_OK; /* (the batch's documents hold
	                                          n_pass passages) */
}

static int u32be_cmp(const void *a, const void *b)
{
	uint32_t x = furet_get_u32be(a), y = furet_get_u32be(b);

	return x < y ? -1 : x > y;
}

/* The document of the last passage of pdoc's chunk c (of 2^bits). */
static furet_rc pdoc_chunk_last(furet_txn *t, uint64_t c, unsigned bits,
	uint32_t *doc)
{
	furet_val v;
	furet_pdoc pd;
	uint64_t size = (uint64_t)1 << bits;
	furet_rc rc;

	if ((rc = furet_dense_chunk(t, "pdoc", c, &v)) ||
		(rc = furet_pdoc_open(v, size, &pd)))
		return rc;
	return furet_pdoc_doc(&pd, (uint32_t)(size - 1), doc);
}

/* Deletes the chunks of an array from chunk c on: what a rebuild inside
** one transaction leaves of the index it replaces (meta is not
** cleared). */
static furet_rc drop_chunks(furet_txn *t, const char *name, uint64_t c)
{
	unsigned char key[8];
	furet_cursor *cur;
	furet_val k, v;
	furet_rc rc;

	if (c > UINT32_MAX)
		return FURET_OK;
	furet_dense_key(key, name, c);
	for (;;) {
		if ((rc = furet_cursor_open(t, FURET_T_META, &cur)))
			return rc;
		rc = furet_cursor_seek(cur, key, sizeof key, &k, &v);
		if (rc == FURET_OK && (k.len != 8 || memcmp(k.data, name, 4)))
			rc = FURET_DONE;
		if (rc == FURET_OK) {
			memcpy(key, k.data, 8);
			furet_cursor_close(cur);
			if ((rc = furet_txn_del(t, FURET_T_META, key, sizeof key)))
				return rc;
			continue;
		}
		furet_cursor_close(cur);
		return rc == FURET_DONE ? FURET_OK : rc;
	}
}

/* Rewrites the chunks of a dense array of meta that the batch changes:
** per passage its length (plen) or document (pdoc), per document its
** length in words (dlen). n_old entries are there already: the chunk
** they end in and the chunks after it get the batch's entries, and the
** chunks of the passages that removals made dead (dead, sorted here) get
** those. Each chunk is decoded into w->dense_win and encoded into buf:
** what this holds grows with the batch, not with the index (the whole
** array was rewritten before format 14: 28 MB at 7 million passages,
** in furet's buffer and LMDB's dirty pages). */
static furet_rc write_dense(furet_writer *w, furet_txn *t, const char *name,
	uint64_t n_old, int kind, uint32_t doc_base, furet_buf *buf,
	furet_buf *dead)
{
	uint64_t n = n_old + (kind == DENSE_DLEN ? w->n_docs : w->n_pass);
	uint64_t size, n_ch, c_new, c, n_dead = 0, at_dead = 0;
	const unsigned char *dp = NULL;
	unsigned char key[8];
	uint32_t *win, prev = 0;
	unsigned bits;
	dense_src d;
	furet_rc rc;

	memset(&d, 0, sizeof d);
	d.w = w;
	d.kind = kind;
	d.doc_base = doc_base;
	if ((rc = furet_dense_bits(t, &bits)))
		return rc;
	size = (uint64_t)1 << bits;
	if (w->cap_win < size) {
		furet_free(w->dense_win);
		w->cap_win = 0;
		if (!(w->dense_win = furet_malloc((size_t)size * sizeof *win)))
			return FURET_NOMEM;
		w->cap_win = (size_t)size;
	}
	win = w->dense_win;
	if (dead && dead->len >= 4) {
		qsort(dead->data, dead->len / 4, 4, u32be_cmp);
		dp = dead->data;
		n_dead = dead->len / 4;
	}
	n_ch = (n + size - 1) >> bits;
	c_new = n > n_old ? n_old >> bits : n_ch;
	c = n_dead && furet_get_u32be(dp) >> bits < c_new ?
		furet_get_u32be(dp) >> bits : c_new;
	for (; c < n_ch; ) {
		uint64_t first = c << bits, m = n - first < size ? n - first : size;
		uint64_t k_old = n_old <= first ? 0 : n_old - first < m ?
			n_old - first : m;
		furet_val v;

		if (kind == DENSE_PDOC && c > 0 && c == c_new &&
			(rc = pdoc_chunk_last(t, c - 1, bits, &prev)))
			return rc;
		if (k_old) {
			/* (the chunk's value, read before any put of this chunk) */
			if ((rc = furet_dense_chunk(t, name, c, &v)))
				return rc;
			if (kind == DENSE_PDOC) {
				furet_pdoc_rd r;
				if (!(rc = furet_pdoc_rd_open(v, k_old, &r))) {
					if (c > 0)
						furet_pdoc_rd_after(&r, prev);
					rc = furet_pdoc_rd_next(&r, win, (size_t)k_old);
				}
			} else {
				rc = furet_lens_decode(v, k_old, win);
			}
			if (rc)
				return rc == FURET_INVALID ? FURET_CORRUPT : rc;
		}
		if (m > k_old && (rc = dense_next(&d, win + k_old,
			(size_t)(m - k_old))))
			return rc;
		for (; at_dead < n_dead; at_dead++) {
			uint64_t pid = furet_get_u32be(dp + 4 * at_dead);
			if (pid >= first + m)
				break;
			if (pid >= first)
				win[pid - first] = FURET_DEAD_PASSAGE;
		}
		furet_buf_reset(buf);
		if (kind == DENSE_PDOC)
			furet_pdoc_encode(win, m, c > 0 ? &prev : NULL, buf);
		else
			/* A search reads a document's length only when it has
			** several passages: longer than a byte holds, mostly. */
			furet_lens_encode(win, m, kind == DENSE_DLEN ? 2 : 1, buf);
		if (buf->has_err)
			return FURET_NOMEM;
		furet_dense_key(key, name, c);
		if ((rc = furet_txn_put(t, FURET_T_META, key, sizeof key, buf->data,
			buf->len, 0)) || (rc = tick(w, t)))
			return rc;
		prev = win[m - 1];
		/* the next chunk: the batch's, or one a removal falls in */
		c++;
		if (c < c_new)
			c = at_dead < n_dead && furet_get_u32be(dp + 4 * at_dead) >>
				bits < c_new ? furet_get_u32be(dp + 4 * at_dead) >> bits :
				c_new;
	}
	return n_old == 0 ? drop_chunks(t, name, n_ch) : FURET_OK;
}

typedef struct tref {
	size_t off;      /* in the scratch buffer */
	uint32_t len;
	uint32_t tf;     /* body occurrences */
} tref;

/* qsort has no context argument in C11: the names buffer of the sort in
** progress, per thread. */
static _Thread_local const unsigned char *tref_base;

static int tref_cmp_base(const void *a, const void *b, const void *arg)
{
	const tref *x = a, *y = b;
	const unsigned char *base = arg;

	return furet_key_cmp(base + x->off, x->len, base + y->off, y->len);
}

static int tref_cmp(const void *a, const void *b)
{
	return tref_cmp_base(a, b, tref_base);
}

/* Appends the terms of text to refs (tf counted for the body). */
static furet_rc collect_terms(furet_writer *w, const char *text, size_t len,
	int is_body, furet_buf *names, tref **refs, size_t *n, size_t *cap)
{
	const furet_token *toks;
	size_t nt, i;
	furet_rc rc = furet_analyzer_run(w->an, text, len, FURET_MODE_DOCUMENT,
		&toks, &nt);

	if (rc)
		return rc == FURET_INVALID ? FURET_CORRUPT : rc;
	if (furet_grow((void **)refs, cap, *n + nt, sizeof **refs))
		return FURET_NOMEM;
	for (i = 0; i < nt; i++) {
		tref *r = &(*refs)[(*n)++];
		r->off = names->len;
		r->len = (uint32_t)toks[i].term_len;
		r->tf = is_body ? 1 : 0;
		furet_buf_append(names, toks[i].term, toks[i].term_len);
	}
	return names->has_err ? FURET_NOMEM : FURET_OK;
}

/* The df and cf that a batch's removals take from each term, summed over
** its removed documents and written once per term (deltas_apply). Each
** passage's terms read, changed and put back in turn, removing 45,670
** documents (kali) took 30 s, mostly in LMDB. */
typedef struct term_deltas {
	pairset set;               /* the terms */
	uint64_t *df, *cf;         /* by the terms' numbers in set */
	size_t cap_df, cap_cf;
} term_deltas;

static void deltas_free(term_deltas *d)
{
	pairset_free(&d->set);
	furet_free(d->df);
	furet_free(d->cf);
	memset(d, 0, sizeof *d);
}

/* One passage less holds term, tf times in its body: -1 out of memory. */
static int deltas_add(term_deltas *d, const char *term, size_t len,
	uint64_t tf)
{
	const unsigned char *key = (const unsigned char *)term;
	size_t k;
	int is_found = 0;

	if (d->set.n_slots) {
		size_t j = pairset_slot(&d->set, key, len, &is_found);
		k = is_found ? d->set.slots[j] - 1 : 0;
	}
	if (!is_found) {
		if (pairset_add_key(&d->set, key, len, furet_hash32(key, len)) ||
			furet_grow((void **)&d->df, &d->cap_df, d->set.n, sizeof *d->df) ||
			furet_grow((void **)&d->cf, &d->cap_cf, d->set.n, sizeof *d->cf))
			return -1;
		k = d->set.n - 1;
		d->df[k] = d->cf[k] = 0;
	}
	d->df[k]++;
	d->cf[k] += tf;
	return 0;
}

static const term_deltas *deltas_base; /* (qsort's context, one thread) */

static int deltas_cmp(const void *a, const void *b)
{
	const pairset *ps = &deltas_base->set;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return furet_key_cmp(ps->arena.data + ps->offs[x], ps->lens[x],
		ps->arena.data + ps->offs[y], ps->lens[y]);
}

/* Takes the deltas from the terms' records, in key order, and the
** postings they were from from the collection's count. */
static furet_rc deltas_apply(furet_writer *w, furet_txn *t,
	const term_deltas *d, furet_collection *c)
{
	const pairset *ps = &d->set;
	uint32_t *order;
	size_t i;
	furet_rc rc = FURET_OK;

	if (!ps->n)
		return FURET_OK;
	if (!(order = furet_malloc(ps->n * sizeof *order)))
		return FURET_NOMEM;
	for (i = 0; i < ps->n; i++)
		order[i] = (uint32_t)i;
	deltas_base = d;
	qsort(order, ps->n, sizeof *order, deltas_cmp);
	for (i = 0; i < ps->n && !rc; i++) {
		uint32_t k = order[i];
		const unsigned char *term = ps->arena.data + ps->offs[k];
		furet_term_rec tr;
		furet_val v;

		rc = furet_txn_get(t, FURET_T_TERMS, term, ps->lens[k], &v);
		if (rc == FURET_DONE) {
			rc = FURET_OK;
			continue; /* a term too long to be indexed */
		}
		if (rc || (rc = furet_term_rec_decode(v, &tr))) {
			rc = rc == FURET_OK ? FURET_CORRUPT : rc;
			break;
		}
		tr.df = tr.df >= d->df[k] ? tr.df - d->df[k] : 0;
		tr.cf = tr.cf >= d->cf[k] ? tr.cf - d->cf[k] : 0;
		furet_buf_reset(&w->scratch);
		furet_term_rec_encode(&tr, &w->scratch);
		if (w->scratch.has_err)
			rc = FURET_NOMEM;
		else
			rc = furet_txn_put(t, FURET_T_TERMS, term, ps->lens[k],
				w->scratch.data, w->scratch.len, 0);
		c->n_postings = c->n_postings >= d->df[k] ?
			c->n_postings - d->df[k] : 0;
	}
	furet_free(order);
	return rc;
}

/* Takes an indexed document out: its passages become dead (their postings
** stay until compaction, searches skip them), and the statistics and the
** df and cf of every term they held no longer count them (in deltas, for
** deltas_apply). The terms come from analysing the stored text again: the
** analyzer signature guarantees it gives what indexing gave. Appends the
** dead passage ids to dead. */
static furet_rc remove_indexed_doc(furet_writer *w, furet_txn *t, uint32_t dn,
	furet_collection *c, furet_buf *dead, term_deltas *deltas)
{
	unsigned char d4[4], k4[4];
	furet_doc_rec rec;
	furet_pass_iter it;
	furet_buf names, title, ids, pass, secs;
	tref *refs = NULL;
	size_t n = 0, cap = 0, i, j;
	uint32_t k;
	furet_val v;
	furet_rc rc;

	furet_buf_init(&names);
	furet_buf_init(&title);
	furet_buf_init(&ids);
	furet_buf_init(&pass);
	furet_buf_init(&secs);
	furet_put_u32be(d4, dn);
	if ((rc = furet_doc_get(t, dn, &v)))
		return rc == FURET_DONE ? FURET_OK : rc; /* removed already */
	if ((rc = furet_doc_rec_decode(v, &rec)) ||
		(rc = furet_doc_rec_names(t, &rec)))
		return rc;
	furet_buf_append(&title, rec.title, rec.title_len);
	furet_buf_append(&ids, rec.id, rec.id_len);
	if (title.has_err || ids.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	/* The record's passages and sections, copied: its pages may move as
	** this transaction writes. */
	furet_buf_append(&pass, rec.pass, rec.pass_len);
	furet_buf_append(&secs, rec.sections, rec.sections_len);
	if (pass.has_err || secs.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	rec.pass = pass.data;
	rec.sections = (const char *)secs.data;
	furet_pass_iter_init(&it, &rec);
	for (k = 0; k < rec.n_passages; k++) {
		uint32_t pid = rec.first_passage + k, length;
		furet_passage_rec pr;
		size_t text_len;
		uint64_t back;

		furet_put_u32be(k4, pid);
		if ((rc = furet_pass_next(&it, &pr)))
			goto corrupt;
		/* Its length from "plen", read afresh each time: the writes
		** between two passages may move pages. */
		if ((rc = furet_dense_len(t, "plen", c->n_passages, pid, &length)) ||
			length == FURET_DEAD_PASSAGE)
			goto corrupt;
		n = 0;
		furet_buf_reset(&names);
		if (pr.section) {
			furet_buf sec;
			furet_buf_init(&sec);
			furet_buf_append(&sec, pr.section, pr.section_len);
			rc = sec.has_err ? FURET_NOMEM : collect_terms(w,
				(const char *)sec.data, sec.len, 0, &names, &refs, &n, &cap);
			furet_buf_free(&sec);
			if (rc)
				goto done;
		}
		if (title.len && (rc = collect_terms(w, (const char *)title.data,
			title.len, 0, &names, &refs, &n, &cap)))
			goto done;
		if ((rc = furet_text_get(t, pid, &v, &back)))
			goto corrupt;
		text_len = pr.end - pr.start;
		{
			/* Decoded into a buffer of its own: the text's pages may move
			** as this transaction writes. */
			furet_buf body;
			size_t off, len;
			furet_buf_init(&body);
			rc = furet_text_group_decode(w->tdec, v.data, v.len, back, &body,
				&off, &len);
			if (!rc && len != text_len)
				rc = FURET_CORRUPT;
			if (!rc)
				rc = collect_terms(w, (const char *)body.data + off, len, 1,
					&names, &refs, &n, &cap);
			furet_buf_free(&body);
			if (rc)
				goto done;
		}
		tref_base = names.data;
		qsort(refs, n, sizeof *refs, tref_cmp);
		for (i = 0; i < n; i = j) {
			uint64_t tf = 0;
			const char *term = (const char *)names.data + refs[i].off;
			for (j = i; j < n && tref_cmp(&refs[i], &refs[j]) == 0; j++)
				tf += refs[j].tf;
			if (deltas_add(deltas, term, refs[i].len, tf)) {
				rc = FURET_NOMEM;
				goto done;
			}
		}
		c->total_length = c->total_length >= length ?
			c->total_length - length : 0;
		c->text_bytes = c->text_bytes >= text_len ? c->text_bytes - text_len : 0;
		if (c->n_live)
			c->n_live--;
		/* The group goes with its last passage (the document's passages
		** all go, and a group holds passages of one document). */
		if (back == 0 && (rc = furet_txn_del(t, FURET_T_TEXT, k4, 4)) >
			FURET_OK && rc != FURET_DONE)
			goto done;
		furet_buf_put_u32be(dead, pid);
	}
	if ((rc = furet_docid_del(t, ids.data, ids.len, furet_get_u32be(d4))) >
		FURET_OK && rc != FURET_DONE)
		goto done;
	if ((rc = furet_doc_del(t, dn)) > FURET_OK && rc != FURET_DONE)
		goto done;
	if (c->n_docs)
		c->n_docs--;
	rc = dead->has_err ? FURET_NOMEM : FURET_OK;
	goto done;
corrupt:
	if (rc == FURET_DONE || rc == FURET_OK)
		rc = FURET_CORRUPT;
done:
	furet_free(refs);
	furet_buf_free(&names);
	furet_buf_free(&title);
	furet_buf_free(&ids);
	furet_buf_free(&pass);
	furet_buf_free(&secs);
	return rc;
}

/* ---- commit: documents, passages and texts from the spool ------------------- */

static furet_rc spool_reader(const furet_writer *w, furet_rdr *r)
{
	if (w->spool.fd >= 0)
		return furet_rdr_open_file(r, w->spool.fd, 0, w->spool.len, 1u << 20);
	furet_rdr_open_mem(r, w->spool_buf.data, w->spool_buf.len);
	return FURET_OK;
}

/* Copies n bytes from r into out (replacing its content). */
static furet_rc rdr_copy(furet_rdr *r, uint64_t n, furet_buf *out)
{
	furet_buf_reset(out);
	if (furet_buf_reserve(out, n))
		return FURET_NOMEM;
	return rdr_append(r, n, out);
}

/* One SPOOL document header. */
typedef struct spooled_doc {
	uint64_t n_passages;
	furet_buf title, source, meta;
	unsigned char hash[16];
} spooled_doc;

static furet_rc read_doc(furet_rdr *r, spooled_doc *sd)
{
	const unsigned char *h;
	furet_rc rc;

	sd->n_passages = furet_rdr_varint(r);
	if ((rc = rdr_copy(r, furet_rdr_varint(r), &sd->title)) ||
		(rc = rdr_copy(r, furet_rdr_varint(r), &sd->source)))
		return rc;
	if (!(h = furet_rdr_bytes(r, 16)))
		return FURET_IO;
	memcpy(sd->hash, h, 16);
	if ((rc = rdr_copy(r, furet_rdr_varint(r), &sd->meta)))
		return rc;
	return r->has_err ? FURET_IO : FURET_OK;
}

/* One SPOOL passage. */
typedef struct spooled_pass {
	uint64_t start, end;
	int has_section;
	furet_buf section, text;
} spooled_pass;

static furet_rc read_pass(furet_rdr *r, spooled_pass *sp)
{
	uint64_t sec;
	furet_rc rc;

	sp->start = furet_rdr_varint(r);
	sp->end = furet_rdr_varint(r);
	sec = furet_rdr_varint(r);
	sp->has_section = sec != 0;
	if (r->has_err || sp->end < sp->start)
		return FURET_IO;
	if ((rc = rdr_copy(r, sec ? sec - 1 : 0, &sp->section)))
		return rc;
	return rdr_copy(r, sp->end - sp->start, &sp->text);
}

/* A rebuild (or the first batch of an empty index) trains the stored
** text's dictionary on a sample of the batch's passages, and that of the
** ids and titles unless names_dict is NULL. It only reads the batch (the
** spool, the documents and their ids): it may run in a thread of its own
** while the writer's thread writes the postings (docs_train). FURET_IO is
** not reported (furet_index_fail): the caller does it, in its thread. */
static furet_rc train_dict(const furet_writer *w, furet_buf *dict,
	furet_buf *names_dict)
{
	furet_text_sampler ts, ns;
	furet_rdr r;
	spooled_doc sd;
	spooled_pass sp;
	furet_buf name, pass;
	furet_pass_enc pe;
	size_t i, n_live = 0, n_live_docs = 0;
	uint64_t k;
	int is_full = 0, is_names_full = names_dict == NULL;
	furet_rc rc;

	for (i = 0; i < w->n_docs; i++)
		if (!w->docs[i].is_dead) {
			n_live += w->docs[i].n_passages;
			n_live_docs++;
		}
	memset(&sd, 0, sizeof sd);
	memset(&sp, 0, sizeof sp);
	furet_buf_init(&name);
	furet_buf_init(&pass);
	furet_pass_enc_init(&pe);
	furet_text_sampler_init(&ts, n_live);
	furet_text_sampler_init(&ns, n_live_docs);
	if ((rc = spool_reader(w, &r)))
		goto done;
	/* Both samples in batch order, whatever the threads and memory: the
	** index must not depend on them. */
	for (i = 0; i < w->n_docs && !(is_full && is_names_full); i++) {
		const batch_doc *d = &w->docs[i];
		int is_name = !d->is_dead && !is_names_full;
		if ((rc = read_doc(&r, &sd)))
			goto done;
		/* What the docs record compresses: id, title, then the sections
		** of its passages. */
		furet_buf_reset(&name);
		furet_buf_append(&name, w->ids.data + d->id_off, d->id_len);
		furet_buf_append(&name, sd.title.data, sd.title.len);
		furet_pass_enc_reset(&pe);
		for (k = 0; k < sd.n_passages; k++) {
			int f;
			if ((rc = read_pass(&r, &sp)))
				goto done;
			if (is_name) {
				furet_buf_reset(&pass);
				furet_pass_enc_add(&pe, sp.start, sp.end, sp.has_section ?
					(const char *)sp.section.data : NULL, sp.section.len,
					&pass, &name);
			}
			if (d->is_dead || is_full)
				continue;
			f = furet_text_sampler_offer(&ts, (const char *)sp.text.data,
				sp.text.len);
			if (f < 0) {
				rc = FURET_NOMEM;
				goto done;
			}
			is_full = f;
		}
		if (is_name) {
			int f = name.has_err || pass.has_err ? -1 :
				furet_text_sampler_offer(&ns, (const char *)name.data,
				name.len);
			if (f < 0) {
				rc = FURET_NOMEM;
				goto done;
			}
			is_names_full = f;
		}
	}
	if (!(rc = furet_text_sampler_train(&ts, 1024, dict)) && names_dict)
		rc = furet_text_sampler_train(&ns, 256, names_dict);
done:
	furet_rdr_close(&r);
	furet_buf_free(&sd.title);
	furet_buf_free(&sd.source);
	furet_buf_free(&sd.meta);
	furet_buf_free(&sp.section);
	furet_buf_free(&sp.text);
	furet_buf_free(&name);
	furet_buf_free(&pass);
	furet_pass_enc_free(&pe);
	furet_text_sampler_free(&ts);
	furet_text_sampler_free(&ns);
	return rc;
}

/* Stored texts, and the documents' ids and titles, are compressed in the
** pipeline's threads, a chunk of spooled documents at a time, while this
** thread writes the chunks before in order (see struct docs_out). */
#define ZCHUNK (1u << 20)

typedef struct zchunk {
	const furet_writer *w;
	size_t first_doc, n_docs;
	furet_buf in;      /* the SPOOL records of those documents */
	furet_buf out;     /* stored forms of their live passages' texts */
	furet_buf names;   /* and of their live documents' id and title */
	furet_buf one, plain;
	size_t *ends;      /* where each text ends in out */
	size_t n_ends, cap_ends;
	size_t *name_ends; /* where each id and title ends in names */
	size_t n_names, cap_names;
	furet_rc rc;
} zchunk;

/* zstd's level for ids, titles and sections. 12 makes them 13 % smaller
** than 3 (the text's): docs 12.3 -> 11.0 MB on the scale set, but
** indexing 46 MB of it takes 20.55 G -> 21.58 G instructions (callgrind),
** and the index without its text is well under FTS5's size either way
** (66 against 77 MB) while indexing speed is not yet at FTS5's. */
#define NAMES_LEVEL 3

/* A compressing thread's encoders, and the dictionaries they are made
** with (ctx); pe and pass find a document's sections as its record will
** hold them. */
typedef struct zstate {
	furet_text_enc *text, *names;
	furet_pass_enc pe;
	furet_buf pass;
	furet_buf group;   /* the texts of the group being made */
	size_t *lens;      /* and their lengths */
	size_t n_lens, cap_lens;
} zstate;

typedef struct zdicts {
	const furet_buf *text, *names;
} zdicts;

static void zchunk_init(void *slot)
{
	memset(slot, 0, sizeof(zchunk));
}

static void zchunk_free(void *slot)
{
	zchunk *z = slot;
	furet_buf_free(&z->in);
	furet_buf_free(&z->out);
	furet_buf_free(&z->names);
	furet_buf_free(&z->one);
	furet_buf_free(&z->plain);
	furet_free(z->ends);
	furet_free(z->name_ends);
	memset(z, 0, sizeof *z);
}

static size_t zchunk_bytes(const void *slot)
{
	const zchunk *z = slot;
	return z->in.cap + z->out.cap + z->names.cap + z->one.cap +
		z->plain.cap + (z->cap_ends + z->cap_names) * sizeof(size_t);
}

static void zstate_close(void *ctx, void *state)
{
	zstate *st = state;
	(void)ctx;
	if (!st)
		return;
	furet_text_enc_close(st->text);
	furet_text_enc_close(st->names);
	furet_pass_enc_free(&st->pe);
	furet_buf_free(&st->pass);
	furet_buf_free(&st->group);
	furet_free(st->lens);
	furet_free(st);
}

static furet_rc zstate_open(void *ctx, void **state)
{
	const zdicts *d = ctx;
	zstate *st = furet_malloc(sizeof *st);
	furet_rc rc;

	*state = NULL;
	if (!st)
		return FURET_NOMEM;
	memset(st, 0, sizeof *st);
	furet_pass_enc_init(&st->pe);
	furet_buf_init(&st->pass);
	furet_buf_init(&st->group);
	if (!(rc = furet_text_enc_open(d->text->data, d->text->len, FURET_TEXT_LZ4,
		&st->text)))
		rc = furet_text_enc_open(d->names->data, d->names->len, NAMES_LEVEL,
			&st->names);
	if (rc) {
		/* The pipeline closes only the states that opened. */
		zstate_close(ctx, st);
		return rc;
	}
	*state = st;
	return FURET_OK;
}

/* Appends the stored form of text to z->names, and where it ends to
** z->name_ends. */
static furet_rc zchunk_name(zchunk *z, furet_text_enc *e, const void *text,
	size_t len)
{
	furet_rc rc;

	if (furet_grow((void **)&z->name_ends, &z->cap_names, z->n_names + 1,
		sizeof *z->name_ends))
		return FURET_NOMEM;
	if ((rc = furet_text_encode(e, text, len, &z->one)))
		return rc;
	furet_buf_append(&z->names, z->one.data, z->one.len);
	if (z->names.has_err)
		return FURET_NOMEM;
	z->name_ends[z->n_names++] = z->names.len;
	return FURET_OK;
}

/* Appends the group of texts st holds, if any, to z->out, and where it
** ends to z->ends. */
static furet_rc zchunk_group(zchunk *z, zstate *st)
{
	furet_rc rc;

	if (!st->n_lens)
		return FURET_OK;
	if (furet_grow((void **)&z->ends, &z->cap_ends, z->n_ends + 1,
		sizeof *z->ends))
		return FURET_NOMEM;
	if (st->group.has_err)
		return FURET_NOMEM;
	if ((rc = furet_text_group_encode(st->text, (const char *)st->group.data,
		st->lens, st->n_lens, &z->one, &z->out)))
		return rc;
	z->ends[z->n_ends++] = z->out.len;
	st->n_lens = 0;
	furet_buf_reset(&st->group);
	return FURET_OK;
}

/* Adds a passage's text to the group st is making, after storing that
** group when the text would take it past FURET_TEXT_GROUP bytes. */
static furet_rc zchunk_text(zchunk *z, zstate *st, const void *text,
	size_t len)
{
	furet_rc rc;

	if (st->group.len + len > FURET_TEXT_GROUP &&
		(rc = zchunk_group(z, st)))
		return rc;
	if (furet_grow((void **)&st->lens, &st->cap_lens, st->n_lens + 1,
		sizeof *st->lens))
		return FURET_NOMEM;
	st->lens[st->n_lens++] = len;
	furet_buf_append(&st->group, text, len);
	return FURET_OK;
}

/* Compresses the ids, titles and sections of the chunk's live documents
** and the texts of their passages, in groups that never span two
** documents (a removal deletes its document's groups whole). */
static void zchunk_run(void *state, void *slot)
{
	zstate *st = state;
	zchunk *z = slot;
	furet_rdr r;
	size_t i;
	uint64_t k, n;

	z->n_ends = z->n_names = 0;
	st->n_lens = 0;
	furet_buf_reset(&st->group);
	furet_buf_reset(&z->out);
	furet_buf_reset(&z->names);
	z->rc = FURET_OK;
	furet_rdr_open_mem(&r, z->in.data, z->in.len);
	for (i = 0; i < z->n_docs && !z->rc; i++) {
		const batch_doc *d = &z->w->docs[z->first_doc + i];
		uint64_t n_pass = furet_rdr_varint(&r);
		const unsigned char *title;

		n = furet_rdr_varint(&r);
		title = furet_rdr_bytes(&r, n);
		furet_rdr_skip(&r, furet_rdr_varint(&r)); /* source */
		furet_rdr_skip(&r, 16);
		furet_rdr_skip(&r, furet_rdr_varint(&r)); /* metadata */
		if (r.has_err || !title) {
			z->rc = FURET_IO;
			break;
		}
		/* What the docs record holds: the id, the title, then the
		** sections of the passages (put_chunk writes the passages). */
		furet_buf_reset(&z->plain);
		furet_buf_append(&z->plain, z->w->ids.data + d->id_off, d->id_len);
		furet_buf_append(&z->plain, title, (size_t)n);
		furet_pass_enc_reset(&st->pe);
		for (k = 0; k < n_pass && !z->rc; k++) {
			uint64_t start = furet_rdr_varint(&r), end = furet_rdr_varint(&r);
			const unsigned char *text, *sec;

			n = furet_rdr_varint(&r);
			sec = furet_rdr_bytes(&r, n ? n - 1 : 0);
			if (r.has_err || end < start || !sec ||
				!(text = furet_rdr_bytes(&r, end - start))) {
				z->rc = FURET_IO;
				break;
			}
			if (d->is_dead)
				continue;
			furet_buf_reset(&st->pass);
			furet_pass_enc_add(&st->pe, start, end, n ? (const char *)sec :
				NULL, n ? (size_t)(n - 1) : 0, &st->pass, &z->plain);
			z->rc = zchunk_text(z, st, text, (size_t)(end - start));
		}
		if (!z->rc)
			z->rc = zchunk_group(z, st);
		if (!d->is_dead && !z->rc)
			z->rc = z->plain.has_err || st->pass.has_err ? FURET_NOMEM :
				zchunk_name(z, st->names, z->plain.data, z->plain.len);
	}
}

/* Copies one length-prefixed SPOOL field from r to the end of out. */
static void copy_field(furet_rdr *r, furet_buf *out)
{
	uint64_t n = furet_rdr_varint(r);

	furet_buf_put_varint(out, n);
	(void)rdr_append(r, n, out); /* (a failure is in r->has_err) */
}

/* Copies one SPOOL document record from r to the end of out. */
static furet_rc copy_doc(furet_rdr *r, furet_buf *out)
{
	uint64_t n_pass = furet_rdr_varint(r), k, n;

	furet_buf_put_varint(out, n_pass);
	copy_field(r, out); /* title */
	copy_field(r, out); /* source */
	{
		const unsigned char *h = furet_rdr_bytes(r, 16);
		if (!h)
			return FURET_IO;
		furet_buf_append(out, h, 16);
	}
	copy_field(r, out); /* metadata */
	for (k = 0; k < n_pass && !r->has_err; k++) {
		uint64_t start = furet_rdr_varint(r), end = furet_rdr_varint(r);
		uint64_t sec = furet_rdr_varint(r);
		furet_buf_put_varint(out, start);
		furet_buf_put_varint(out, end);
		furet_buf_put_varint(out, sec);
		if (end < start)
			return FURET_IO;
		n = (sec ? sec - 1 : 0) + (end - start);
		while (n && !r->has_err) {
			size_t m = furet_rdr_need(r, n < (64u << 10) ? (size_t)n : 64u << 10);
			if (!m) {
				r->has_err = 1;
				break;
			}
			furet_buf_append(out, r->p, m);
			r->p += m;
			n -= m;
		}
	}
	if (r->has_err)
		return FURET_IO;
	return out->has_err ? FURET_NOMEM : FURET_OK;
}

/* The commit's documents, passages and stored texts. The dictionaries
** are the index's, or trained from the batch, in a thread of their own
** (trainer) while the writer's thread writes the postings; then chunks of
** the spool go to the compressing threads (zp), and the writer's thread
** puts what they made, in order, between two terms (docs_pump): the texts
** are compressed while the postings are written. The tables each side
** writes are not the same, and each is written in key order, so what the
** index holds is the same as when one side is written after the other. */
struct docs_out {
	const furet_writer *w;
	furet_collection *c;
	size_t n_live_docs, n_live_pass;
	uint64_t live_length;
	spooled_doc sd;
	spooled_pass sp;
	furet_buf enc, pass;
	furet_pass_enc pe;
	pairset sources;  /* the sources table's paths: path k is number k + 1 */
	int has_sources;  /* loaded */

	furet_buf dict, names_dict;
	int needs_dict, needs_names_dict; /* to train and put in meta */
	dict_job *trainer; /* training in its thread, not joined yet */

	zdicts zd;
	furet_pipeline_ops ops;
	furet_pipeline *zp; /* NULL until the dictionaries are there */
	furet_rdr r;      /* the spool */
	size_t next;      /* the next document to hand to a chunk */
	furet_buf docids; /* a rebuild's ids, put in key order at the end */
	furet_doc_app app; /* a rebuild's records, four to a value */
	int is_append;    /* docs and docids empty: records and ids go in
	                     at the end, in order (app, docids) */
	int is_flushed;   /* those put (docs_pump) */
};

/* The number of source path in the sources table (0 for none), added to
** it when new. Numbers are dense from 1 and never reused, so the table
** loads into a pairset in key order, path k being number k + 1. */
static furet_rc source_number(furet_txn *t, docs_out *o, const furet_buf *path,
	uint32_t *num)
{
	unsigned char k4[4];
	size_t j;
	int is_found;
	furet_rc rc;

	*num = 0;
	if (!path->len)
		return FURET_OK;
	if (!o->has_sources) {
		furet_cursor *cur = NULL;
		furet_val k, v;
		if ((rc = furet_cursor_open(t, FURET_T_SOURCES, &cur)))
			return rc;
		for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
			rc = furet_cursor_next(cur, &k, &v)) {
			size_t n = o->sources.n;
			if (k.len != 4 || furet_get_u32be(k.data) != n + 1 ||
				v.len == 0) {
				rc = FURET_CORRUPT;
				break;
			}
			if (pairset_add_key(&o->sources, v.data, v.len,
				furet_hash32(v.data, v.len))) {
				rc = FURET_NOMEM;
				break;
			}
			if (o->sources.n == n) {
				rc = FURET_CORRUPT; /* a path twice */
				break;
			}
		}
		furet_cursor_close(cur);
		if (rc != FURET_DONE)
			return rc;
		o->has_sources = 1;
	}
	if (o->sources.n_slots) {
		j = pairset_slot(&o->sources, path->data, path->len, &is_found);
		if (is_found) {
			*num = o->sources.slots[j];
			return FURET_OK;
		}
	}
	if (o->sources.n >= UINT32_MAX - 1 || pairset_add_key(&o->sources,
		path->data, path->len, furet_hash32(path->data, path->len)))
		return FURET_NOMEM;
	*num = (uint32_t)o->sources.n;
	furet_put_u32be(k4, *num);
	return furet_txn_put(t, FURET_T_SOURCES, k4, 4, path->data, path->len, 0);
}

/* Writes the documents of a compressed chunk: records and stored texts. */
static furet_rc put_chunk(furet_writer *w, furet_txn *t, const zchunk *z,
	docs_out *o)
{
	int is_rebuild = is_fresh_batch(w);
	furet_collection *c = o->c;
	unsigned char k4[4], d4[4];
	size_t i, e = 0, ni = 0, from;
	uint64_t k, left = 0; /* passages still to come in group e */
	furet_rdr r;
	furet_rc rc;

	if (z->rc)
		return z->rc;
	furet_rdr_open_mem(&r, z->in.data, z->in.len);
	for (i = z->first_doc; i < z->first_doc + z->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		furet_doc_rec dr;

		if ((rc = read_doc(&r, &o->sd)))
			return rc;
		if (o->sd.n_passages != d->n_passages)
			return FURET_IO;
		/* The passages and their texts first: the document's record
		** holds its passages. */
		furet_buf_reset(&o->pass);
		furet_pass_enc_reset(&o->pe);
		for (k = 0; k < o->sd.n_passages; k++) {
			uint32_t pid = d->first_passage + (uint32_t)k;

			if ((rc = read_pass(&r, &o->sp)))
				return rc;
			if (d->is_dead)
				continue;
			if (e >= z->n_ends)
				return FURET_IO;
			o->n_live_pass++;
			o->live_length += pass_len(w, pid);
			c->text_bytes += o->sp.end - o->sp.start;
			furet_pass_enc_add(&o->pe, o->sp.start, o->sp.end,
				o->sp.has_section ? (const char *)o->sp.section.data : NULL,
				o->sp.section.len, &o->pass, NULL);
			/* A group goes under its last passage's id. */
			from = e ? z->ends[e - 1] : 0;
			if (!left) {
				const unsigned char *g = z->out.data + from;
				left = take_varint(&g);
			}
			if (--left)
				continue;
			furet_put_u32be(k4, (uint32_t)(c->n_passages + pid));
			if ((rc = furet_txn_put(t, FURET_T_TEXT, k4, 4, z->out.data + from,
				z->ends[e] - from, FURET_PUT_APPEND)))
				return rc;
			e++;
		}
		if (left)
			return FURET_IO;
		if (d->is_dead)
			continue;
		furet_put_u32be(d4, (uint32_t)(c->next_doc + i));
		o->n_live_docs++;
		if (!is_rebuild) {
			uint32_t num;
			rc = furet_docid_get(t, w->ids.data + d->id_off, d->id_len,
				&num, NULL);
			if (rc == FURET_OK)
				return furet_index_fail(w->ix, FURET_EXISTS, "document "
					"%.*s is already in the index", (int)(d->id_len > 200 ?
					200 : d->id_len), (const char *)w->ids.data + d->id_off);
			if (rc != FURET_DONE)
				return rc;
		}
		if ((rc = source_number(t, o, &o->sd.source, &dr.source)))
			return rc;
		dr.id = (const char *)w->ids.data + d->id_off;
		dr.id_len = d->id_len;
		dr.title = (const char *)o->sd.title.data;
		dr.title_len = o->sd.title.len;
		dr.first_passage = (uint32_t)c->n_passages + d->first_passage;
		dr.n_passages = d->n_passages;
		dr.meta = (const char *)o->sd.meta.data;
		dr.meta_len = o->sd.meta.len;
		dr.pass = o->pass.data;
		dr.pass_len = o->pass.len;
		dr.sections = NULL; /* (compressed with the id in names) */
		dr.sections_len = (size_t)o->pe.sections_len;
		memcpy(dr.hash, o->sd.hash, FURET_HASH_LEN);
		if (ni >= z->n_names)
			return FURET_IO;
		from = ni ? z->name_ends[ni - 1] : 0;
		furet_buf_reset(&o->enc);
		furet_doc_rec_encode_stored(&dr, z->names.data + from,
			z->name_ends[ni] - from, &o->enc);
		ni++;
		if (o->enc.has_err || o->pass.has_err)
			return FURET_NOMEM;
		rc = o->is_append ? furet_doc_app_add(t, &o->app,
			furet_get_u32be(d4), o->enc.data, o->enc.len) :
			furet_doc_put(t, furet_get_u32be(d4), o->enc.data, o->enc.len);
		if (!rc && o->is_append)
			furet_docids_add(&o->docids, dr.id, dr.id_len,
				furet_get_u32be(d4));
		else if (!rc)
			rc = furet_docid_put(t, dr.id, dr.id_len, furet_get_u32be(d4));
		if (rc || (rc = tick(w, t)))
			return rc;
	}
	return FURET_OK;
}

/* Stores dict under key in meta, or deletes the key when dict is empty. */
static furet_rc put_dict(furet_txn *t, const char *key, const furet_buf *dict)
{
	furet_rc rc = dict->len ?
		furet_txn_put(t, FURET_T_META, key, strlen(key), dict->data, dict->len,
			0) : furet_txn_del(t, FURET_T_META, key, strlen(key));
	return rc == FURET_DONE ? FURET_OK : rc;
}

/* The index's dictionary under key, copied into dict (this transaction's
** writes may move the page it sits on); *has_it 0 when there is none. */
static furet_rc get_dict(furet_txn *t, const char *key, furet_buf *dict,
	int *has_it)
{
	furet_val v;
	furet_rc rc = furet_txn_get(t, FURET_T_META, key, strlen(key), &v);

	*has_it = rc == FURET_OK;
	if (rc == FURET_DONE)
		return FURET_OK;
	if (rc)
		return rc;
	furet_buf_append(dict, v.data, v.len);
	return dict->has_err ? FURET_NOMEM : FURET_OK;
}

static void *train_thread(void *arg)
{
	dict_job *j = arg;

	j->rc = train_dict(j->w, &j->dict, j->with_names ? &j->names_dict : NULL);
	atomic_store(&j->is_trained, 1);
	return NULL;
}

/* Starts training the dictionaries (and those of the names with
** with_names) in a thread of their own: NULL when it cannot be started
** (the caller trains them itself). */
static dict_job *dict_job_start(const furet_writer *w, int with_names)
{
	dict_job *j = furet_malloc(sizeof *j);

	if (!j)
		return NULL;
	memset(j, 0, sizeof *j);
	j->w = w;
	j->with_names = with_names;
	furet_buf_init(&j->dict);
	furet_buf_init(&j->names_dict);
	atomic_init(&j->is_trained, 0);
	if (pthread_create(&j->th, NULL, train_thread, j) != 0) {
		furet_free(j);
		return NULL;
	}
	return j;
}

/* Waits for j's thread and frees j (NULL: nothing to do); its
** dictionaries, moved into dict and names_dict when these are given (the
** latter only if j trained it), are freed otherwise. Returns what
** training returned. */
static furet_rc dict_job_end(dict_job *j, furet_buf *dict,
	furet_buf *names_dict)
{
	furet_rc rc;

	if (!j)
		return FURET_OK;
	pthread_join(j->th, NULL);
	rc = j->rc;
	if (dict) {
		furet_buf_free(dict);
		*dict = j->dict;
	} else {
		furet_buf_free(&j->dict);
	}
	if (names_dict && j->with_names) {
		furet_buf_free(names_dict);
		*names_dict = j->names_dict;
	} else {
		furet_buf_free(&j->names_dict);
	}
	furet_free(j);
	return rc;
}

/* Can the batch's dictionaries be trained in a thread of their own? Not
** with one thread, nor when removals read the index's stored text with
** the dictionary before anything else. */
static int trains_aside(const furet_writer *w)
{
	return w->n_threads > 1 && !w->n_rm;
}

/* Drops the dictionaries started at the end of the analysis, not taken
** by docs_train (an error, or a batch that trains again). */
static void early_drop(furet_writer *w)
{
	(void)dict_job_end(w->early, NULL, NULL);
	w->early = NULL;
}

static void docs_init(docs_out *o, const furet_writer *w, furet_collection *c)
{
	memset(o, 0, sizeof *o);
	o->w = w;
	o->c = c;
	furet_pass_enc_init(&o->pe);
	furet_doc_app_init(&o->app);
	furet_rdr_open_mem(&o->r, NULL, 0);
}

/* Trains the dictionaries the batch needs: in a thread of its own when
** the writer has threads and the batch removes nothing (removals read the
** index's stored text with the dictionary, before anything else), else
** at once. */
static furet_rc docs_train(furet_writer *w, docs_out *o)
{
	furet_rc rc;

	if (!o->needs_dict)
		return FURET_OK;
	/* A rebuild's, started once the analysis was over (write_held). */
	if (w->early && o->needs_names_dict) {
		o->trainer = w->early;
		w->early = NULL;
		return FURET_OK;
	}
	if (trains_aside(w) &&
		(o->trainer = dict_job_start(w, o->needs_names_dict)))
		return FURET_OK;
	rc = train_dict(w, &o->dict, o->needs_names_dict ? &o->names_dict : NULL);
	if (rc == FURET_IO)
		furet_index_fail(w->ix, rc, "reading a temporary file in %s failed",
			w->tmp_dir);
	return rc;
}

/* Once the dictionaries are there (trained: waiting for it when is_wait),
** puts the new ones in meta and starts the compressing threads. */
static furet_rc docs_start(furet_writer *w, furet_txn *t, docs_out *o,
	int is_wait)
{
	furet_rc rc;

	if (o->trainer) {
		if (!is_wait && !atomic_load(&o->trainer->is_trained))
			return FURET_OK;
		rc = dict_job_end(o->trainer, &o->dict, &o->names_dict);
		o->trainer = NULL;
		if (rc)
			return rc == FURET_IO ? furet_index_fail(w->ix, rc, "reading a "
				"temporary file in %s failed", w->tmp_dir) : rc;
	}
	if ((o->needs_dict && (rc = put_dict(t, "zdict", &o->dict))) ||
		(o->needs_names_dict &&
		(rc = put_dict(t, "zdict_ids", &o->names_dict))))
		return rc;
	o->needs_dict = o->needs_names_dict = 0;
	if ((rc = spool_reader(w, &o->r)))
		return rc;
	o->zd.text = &o->dict;
	o->zd.names = &o->names_dict;
	o->ops = (furet_pipeline_ops){
		sizeof(zchunk), zchunk_init, zchunk_free, zchunk_bytes, zstate_open,
		zstate_close, zchunk_run, &o->zd, 2,
	};
	/* Each chunk's copy of the spool grows to 2 MiB (its last document
	** takes it past ZCHUNK): 12 MiB with two threads. One job per thread
	** with a budget under 128 MiB (less the mapped reserve: --memory 128M
	** is 96) saves 4 of them. */
	if (w->budget < ((uint64_t)128 << 20))
		o->ops.depth = 1;
	return furet_pipeline_open(&o->ops, w->n_threads, &o->zp);
}

/* Puts the chunks compressed so far, in order, and hands more of the
** spool to the compressing threads; with is_all, every document, waiting
** for the threads. Once every document is put, a batch appending to empty
** tables (is_append) puts its last records and its ids too. */
static furet_rc docs_pump(furet_writer *w, furet_txn *t, docs_out *o,
	int is_all)
{
	furet_rc rc = FURET_OK;

	if (!o->zp && ((rc = docs_start(w, t, o, is_all)) || !o->zp))
		goto done;
	for (;;) {
		zchunk *z;
		if (o->next < w->n_docs && (z = furet_pipeline_slot(o->zp))) {
			z->w = w;
			z->first_doc = o->next;
			furet_buf_reset(&z->in);
			while (o->next < w->n_docs && z->in.len < ZCHUNK) {
				if ((rc = copy_doc(&o->r, &z->in)))
					goto done;
				o->next++;
			}
			z->n_docs = o->next - z->first_doc;
			furet_pipeline_submit(o->zp, z->in.len);
			continue;
		}
		if (!(z = furet_pipeline_oldest(o->zp, is_all)))
			break;
		rc = put_chunk(w, t, z, o);
		furet_pipeline_release(o->zp, 4 * ZCHUNK);
		if (rc)
			goto done;
	}
	/* Every document put: a rebuild's last records and its ids, sorted,
	** now rather than after the last term (the texts are mostly done
	** first: 17 ms of the 212 MB corpus's commit, the other processor
	** idle, were left after the terms). */
	if (o->is_append && !o->is_flushed && o->next == w->n_docs &&
		!furet_pipeline_in_flight(o->zp)) {
		o->is_flushed = 1;
		if (!(rc = furet_doc_app_flush(t, &o->app)))
			rc = furet_docids_put_all(t, &o->docids);
	}
done:
	if (rc == FURET_IO)
		furet_index_fail(w->ix, rc, "reading a temporary file in %s failed",
			w->tmp_dir);
	return rc;
}

static void docs_free(docs_out *o)
{
	(void)dict_job_end(o->trainer, NULL, NULL);
	furet_pipeline_close(o->zp);
	furet_rdr_close(&o->r);
	furet_buf_free(&o->sd.title);
	furet_buf_free(&o->sd.source);
	furet_buf_free(&o->sd.meta);
	furet_buf_free(&o->sp.section);
	furet_buf_free(&o->sp.text);
	furet_buf_free(&o->enc);
	furet_buf_free(&o->pass);
	furet_pass_enc_free(&o->pe);
	pairset_free(&o->sources);
	furet_buf_free(&o->dict);
	furet_buf_free(&o->names_dict);
	furet_buf_free(&o->docids);
	furet_doc_app_free(&o->app);
}

/* The chunks of the dense arrays of an index that has none yet: 2^16
** entries (FURET_DENSE_BITS), or FURET_TEST_DENSE_BITS's, for tests that
** need chunk boundaries in a small index. */
static furet_rc put_dense_bits(furet_txn *t)
{
	const char *e = getenv("FURET_TEST_DENSE_BITS");
	unsigned char b = FURET_DENSE_BITS;

	if (e && atoi(e) >= FURET_DENSE_BITS_MIN &&
		atoi(e) <= FURET_DENSE_BITS_MAX)
		b = (unsigned char)atoi(e);
	return furet_txn_put(t, FURET_T_META, "dense_bits", 10, &b, 1, 0);
}

/* Writes the batch's lookup pairs and dense arrays; is_done is set. */
static furet_rc put_tables(batch_tables *bt)
{
	furet_writer *w = bt->w;
	furet_rc rc;

	bt->is_done = 1;
	if (bt->n_passages == 0 && bt->next_doc == 0 &&
		(rc = put_dense_bits(bt->t)))
		return rc;
	if ((rc = write_pairs(w, bt->t, 0, bt->fold_order, w->folds.n,
		bt->put_flags)) ||
		(rc = write_pairs(w, bt->t, 1, bt->word_order, w->words.n,
		bt->put_flags)) ||
		(rc = write_dense(w, bt->t, "plen", bt->n_passages, DENSE_PLEN, 0,
		bt->enc, bt->dead)) ||
		(rc = write_dense(w, bt->t, "pdoc", bt->n_passages, DENSE_PDOC,
		(uint32_t)bt->next_doc, bt->enc, NULL)))
		return rc;
	return write_dense(w, bt->t, "dlen", bt->next_doc, DENSE_DLEN, 0,
		bt->enc, NULL);
}

static furet_rc write_batch(furet_writer *w, furet_txn *t, const term_ref *order,
	const fold_ref *fold_order, const fold_ref *word_order)
{
	int is_rebuild = is_fresh_batch(w);
	unsigned put_flags = is_rebuild ? FURET_PUT_APPEND : 0;
	furet_collection c;
	furet_buf enc;
	size_t i;
	furet_buf dead; /* u32be ids of the passages removals made dead */
	docs_out o;
	batch_tables bt;
	furet_rc rc;

	furet_buf_init(&enc);
	furet_buf_init(&dead);
	docs_init(&o, w, &c);
	w->n_written = 0;
	if (is_rebuild) {
		if ((rc = furet_txn_clear(t)))
			goto done;
		memset(&c, 0, sizeof c);
		o.needs_dict = o.needs_names_dict = 1;
	} else if ((rc = furet_store_get_collection(t, &c))) {
		goto done;
	} else {
		int has_dict = 0, has_names_dict = 0;
		if ((rc = get_dict(t, "zdict", &o.dict, &has_dict)) ||
			(rc = get_dict(t, "zdict_ids", &o.names_dict, &has_names_dict)))
			goto done;
		/* The first batch of an empty index trains it, as a rebuild (the
		** dictionary of ids too, unless a batch of documents without text
		** has been there). */
		o.needs_dict = !has_dict && c.n_live == 0;
		o.needs_names_dict = o.needs_dict && !has_names_dict;
	}
	/* (no document number given yet: docs and docids are empty) */
	o.is_append = is_rebuild || c.next_doc == 0;
	if ((rc = docs_train(w, &o)))
		goto done;
	if (!o.trainer &&
		(rc = furet_text_dec_open(o.dict.data, o.dict.len, &w->tdec)))
		goto done;
	/* Removals first, so that a replaced document's id is free again. */
	if (w->n_rm) {
		term_deltas deltas;
		memset(&deltas, 0, sizeof deltas);
		for (i = 0; i < w->n_rm && !rc; i++)
			rc = remove_indexed_doc(w, t, w->rm_docs[i], &c, &dead, &deltas);
		if (!rc)
			rc = deltas_apply(w, t, &deltas, &c);
		deltas_free(&deltas);
		if (rc)
			goto done;
	}
	if (c.n_passages + w->n_pass > UINT32_MAX - 1 ||
		c.next_doc + w->n_docs > UINT32_MAX - 1) {
		rc = furet_index_fail(w->ix, FURET_INVALID, "the index is full "
			"(2^32 passages)");
		goto done;
	}
	/* The postings, the documents' texts being compressed meanwhile, and
	** the other tables while the encoding threads are busy. */
	bt = (batch_tables){ w, t, fold_order, word_order, put_flags,
		c.n_passages, c.next_doc, &enc, &dead, 0 };
	if ((rc = write_terms(w, t, order, (uint32_t)c.n_passages, is_rebuild,
		&o, &bt)) || (rc = docs_pump(w, t, &o, 1)))
		goto done;

	/* Crash test hook: die with everything written but not committed, to
	** prove that a killed rebuild leaves the previous index (tests/cli.sh);
	** set to N, in the Nth transaction written (a rebuild's Nth part). */
	{
		static int n_written;
		const char *k = getenv("FURET_TEST_KILL_BEFORE_COMMIT");
		if (k && ++n_written >= atoi(k))
			kill(getpid(), SIGKILL);
	}

	if (!bt.is_done && (rc = put_tables(&bt)))
		goto done;
	c.n_docs += o.n_live_docs;
	c.next_doc += w->n_docs;
	c.n_passages += w->n_pass;
	c.n_live += o.n_live_pass;
	/* Passages replaced within the batch never got postings: nothing for
	** compaction to drop. */
	c.n_purged += w->n_pass - o.n_live_pass;
	c.total_length += o.live_length;
	c.n_postings += w->n_written;
	c.last_update = (uint64_t)time(NULL);
	rc = furet_store_put_collection(t, &c);
	if (!rc && is_rebuild) {
		const char *sig = furet_analyzer_signature();
		unsigned char ver[4];
		furet_put_u32be(ver, FURET_FORMAT_VERSION);
		rc = furet_txn_put(t, FURET_T_META, "analyzer", 8, sig, strlen(sig), 0);
		if (!rc)
			rc = furet_txn_put(t, FURET_T_META, "format", 6, ver, 4, 0);
	}
done:
	furet_buf_free(&enc);
	furet_buf_free(&dead);
	furet_text_dec_close(w->tdec);
	w->tdec = NULL;
	docs_free(&o);
	return rc;
}

/* The passages not to write: those of documents replaced or removed later
** in the batch. */
static int mark_dead(furet_writer *w)
{
	size_t i;
	uint32_t k;

	w->has_dead = 0;
	w->pdead = furet_malloc(w->n_pass / 8 + 1);
	if (!w->pdead)
		return -1;
	memset(w->pdead, 0, w->n_pass / 8 + 1);
	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		if (!d->is_dead)
			continue;
		for (k = 0; k < d->n_passages; k++) {
			uint32_t pid = d->first_passage + k;
			w->pdead[pid >> 3] |= (unsigned char)(1u << (pid & 7));
			w->has_dead = 1;
		}
	}
	return 0;
}

/* What a rebuild written beside the index commits at (see
** commit_batch): an eighth of the budget, within 16 and 32 MiB (LMDB
** keeps that many pages dirty, then as many freed for the next
** transaction: a quarter of a 128 MiB budget was 28 MB of its peak). Each
** checkpoint writes its pages (and syncs) in the writer's thread while
** the encoding threads go on, which the final commit cannot: at 256 MiB
** the 212 MB corpus had none, and its commit wrote and synced the whole
** index with every other thread done, 0.13 s; at 32 MiB the final commit
** takes 0.03 s and nothing else got slower. It also bounds LMDB's dirty
** pages, which make_room counts. */
static uint64_t rebuild_ckpt(const furet_writer *w)
{
	uint64_t c = w->budget / 8;

	if (c < furet_writer_ckpt_min)
		c = furet_writer_ckpt_min;
	if (c > ((uint64_t)32 << 20))
		c = (uint64_t)32 << 20;
	return c;
}

/* LMDB keeps the pages a write transaction dirties in memory, up to
** 131071 of them (512 MiB; then it writes some out): about the size of
** what the batch writes, or of what a rebuild written beside the index
** writes between two checkpoints (is_ckpt: rebuild_ckpt). Before the
** transaction, the spool, then (with may_spill_run) the run, go to their
** files when the budget cannot hold them and those pages. (Through the
** map, MDB_WRITEMAP, would not help: the commit touches every dirty page
** again to clear its flag, bringing them all back into the process's
** memory.) Called once the analysis threads are gone: with their
** documents no longer to allow for, seven eighths of the budget may be
** counted, not three quarters as during the analysis (maybe_spill). On
** the 212 MB corpus at the default budget, that keeps the 240 MB spool in
** memory instead of writing it to its file and reading it back (8.85 ->
** 8.21 s; peak RSS 592 -> 792 MB, under the 1 GiB budget). */
static furet_rc make_room(furet_writer *w, int is_ckpt, int may_spill_run)
{
	/* (a part of a rebuild: the analysis threads wait, with their memory) */
	uint64_t limit = w->pl ? w->budget / 4 * 3 : w->budget / 8 * 7;
	uint64_t spool = w->spool.len + w->spool_buf.len;
	uint64_t lmdb = w->post_total + spool / 2 + (uint64_t)w->n_pass * 32;
	uint64_t most = is_ckpt ? rebuild_ckpt(w) : (uint64_t)512 << 20;
	furet_rc rc;

	if (lmdb > most)
		lmdb = most;
	if (run_bytes(w) + kept_bytes(w) + lmdb <= limit)
		return FURET_OK;
	if (w->spool.fd < 0 && w->spool_buf.len) {
		if ((rc = tmp_flush(w, &w->spool, &w->spool_buf)))
			return rc;
		furet_buf_free(&w->spool_buf);
		if (run_bytes(w) + kept_bytes(w) + lmdb <= limit)
			return FURET_OK;
	}
	if (may_spill_run && (w->n_terms || w->folds.n || w->words.n) &&
		(rc = spill_run(w)))
		return rc;
	return FURET_OK;
}

/* A full rebuild writes a new environment beside the index
** (furet_store_open_sibling), committing every ckpt bytes so that LMDB's
** dirty pages, which it keeps in memory until the commit, stay within the
** memory budget whatever the corpus; then swaps it in atomically. Until the
** swap the index is the previous one, whole and readable, and a kill
** leaves only DIR.rebuild, which the next rebuild clears. The new file
** holds nothing of the old one, so rebuilding in place keeps the size of a
** fresh build. When the map runs short anyway, the new environment is
** dropped and the batch written again with a map twice as large (an
** incremental batch's transaction too). */
static furet_rc commit_batch(furet_writer *w, const term_ref *order,
	const fold_ref *fold_order, const fold_ref *word_order, int is_last)
{
	/* An incremental batch, or a rebuild in a directory that holds other
	** files (which a swap would carry away) or whose sibling cannot be
	** made, is one transaction over the index, the old pages free in its
	** file afterwards. */
	int is_fresh = is_beside(w);
	furet_store *f = w->part;
	furet_txn *t = NULL;
	char err[300];
	int tries;
	furet_rc rc = FURET_OK;

	w->ckpt = is_fresh ? rebuild_ckpt(w) : 0;
	if (is_into_held(w)) {
		/* A later part's writes land all over the parts before it: each
		** term's record and last block are rewritten, a page of LMDB's
		** each, about as many pages as the index holds for the terms in
		** between. What it dirties is about what it writes times (what
		** the index holds + what it adds) / what it adds: its
		** checkpoints come that much sooner. */
		uint64_t adds = w->post_total + w->spool.len + w->spool_buf.len + 1;
		uint64_t has = furet_store_used(w->part);
		w->ckpt = w->ckpt / ((has + adds) / adds);
		if (w->ckpt < ((uint64_t)64 << 10))
			w->ckpt = (uint64_t)64 << 10;
	}
	for (tries = 0; tries < 40; tries++) {
		if (is_fresh && !f && (rc = furet_store_open_sibling(w->ix->store,
			&f, err, sizeof err))) {
			if (rc == FURET_NOMEM || !is_last)
				return furet_index_fail(w->ix, rc, "%s", err);
			/* No room beside the index (a parent directory it may not
			** write, a file named DIR.rebuild): rebuilt in place, in
			** one transaction, as an incremental batch is. That one
			** may dirty more pages than make_room allowed for: the
			** spool makes room for them (the run stays, order points
			** into it). */
			is_fresh = 0;
			w->ckpt = 0;
			/* (make_room may write the spool the trainer reads to its
			** file: the batch trains again, as an incremental one) */
			early_drop(w);
			if ((rc = make_room(w, 0, 0)))
				return rc;
		}
		/* A later part starts with the map at most half full, as each
		** checkpoint leaves it: it cannot be written again. */
		if (is_into_held(w) && (rc = furet_store_reserve(f)))
			break;
		if ((rc = furet_store_begin(f ? f : w->ix->store, 1, &t))) {
			if (f == w->part)
				w->part = NULL;
			furet_store_discard(f);
			return furet_index_fail(w->ix, rc, "cannot start the write "
				"transaction");
		}
		/* (a split of the docids buckets rewrites that table whole) */
		furet_txn_set_checkpoint(t, (size_t)w->ckpt);
		rc = write_batch(w, t, order, fold_order, word_order);
		if (rc == FURET_OK) {
			rc = furet_txn_commit(t);
			t = NULL;
			if (rc == FURET_OK && f && !is_last) {
				/* A part: the next ones go into the same environment. */
				w->part = f;
				w->n_parts++;
				return FURET_OK;
			}
			if (rc == FURET_OK && f) {
				w->part = NULL;
				rc = furet_store_adopt(w->ix->store, f, err, sizeof err);
				f = NULL; /* consumed */
				if (rc)
					return furet_index_fail(w->ix, rc, "%s", err);
			}
			if (rc == FURET_OK) {
				if (w->flags & FURET_WRITE_REBUILD)
					furet_store_rebuilt(w->ix->store);
				return FURET_OK;
			}
		}
		furet_txn_abort(t);
		t = NULL;
		/* A later part's checkpoints committed some of it already: the
		** writer discards the parts. */
		if (is_into_held(w))
			break;
		if (f == w->part)
			w->part = NULL;
		furet_store_discard(f);
		f = NULL;
		if (rc != FURET_MAPFULL)
			break;
		/* The batch is still in memory: grow the map and write it again. */
		if ((rc = furet_store_grow(w->ix->store)) != FURET_OK)
			break;
	}
	if (rc == FURET_MAPFULL)
		rc = FURET_IO;
	if (rc != FURET_EXISTS && rc != FURET_INVALID)
		furet_index_fail(w->ix, rc, "commit failed: %s", furet_strerror(rc));
	return rc;
}

/* What an incremental batch written as one transaction would keep in
** memory until its commit, about: LMDB keeps every page the transaction
** dirties. Each term of the batch rewrites its record and its last block,
** on a page of the terms table and one of the postings table, as many
** pages as it has terms on a large index, at most those tables' leaves on
** a small one; a document dirties a page of docids, at most all of them;
** and what the batch adds (postings, stored text) is written too.
** Adding 25 MB to the 1.7 GB index of the corpus eight times as one
** transaction at --memory 128M: 94 MB of dirty pages, 181 MiB at the peak. */
static uint64_t txn_bytes(furet_writer *w)
{
	uint64_t terms = w->n_terms, t, p, d;
	size_t i;

	for (i = 0; i < w->n_runs; i++)
		terms += w->run_info[i].n_terms;
	t = furet_txn_leaf_bytes(w->rt, FURET_T_TERMS);
	p = furet_txn_leaf_bytes(w->rt, FURET_T_POSTINGS);
	d = furet_txn_leaf_bytes(w->rt, FURET_T_DOCIDS);
	terms *= 4096;
	return (terms < t ? terms : t) + (terms < p ? terms : p) +
		((uint64_t)w->n_docs * 4096 < d ? (uint64_t)w->n_docs * 4096 : d) +
		w->post_total + w->spool.len + w->spool_buf.len;
}

/* Writes what the batch holds: with is_last all of it, the analysis over;
** else the part of a batch that the documents added so far make
** (maybe_part), the analysis threads waiting. */
static furet_rc write_held(furet_writer *w, int is_last)
{
	term_ref *order = NULL;
	fold_ref *fold_order = NULL, *word_order = NULL;
	furet_rc rc;

	if ((rc = drain(w, 1)))
		return rc;
	if (is_last) {
		/* The analysis threads and their documents are done with. */
		furet_pipeline_close(w->pl);
		w->pl = NULL;
		fit_kept(w);
		/* An incremental batch whose transaction would not fit in the
		** budget is written into a copy of the index as a part is
		** (maybe_part), committing as it goes: a copy of the whole index
		** for a small batch onto a large one, but within the budget. */
		if (!w->part && !(w->flags & FURET_WRITE_REBUILD) && w->rt &&
			!w->no_parts && furet_store_can_swap(w->ix->store) &&
			run_bytes(w) + kept_bytes(w) + txn_bytes(w) >
			w->budget / 8 * 7)
			(void)open_copy(w); /* (else one transaction after all) */
	}
	/* The spool is read back whole from its file, once it has one; when
	** runs were spilled, the last one joins them. */
	if ((rc = make_room(w, is_beside(w), 1)))
		goto done;
	if (w->spool.fd >= 0 && w->spool_buf.len &&
		(rc = tmp_flush(w, &w->spool, &w->spool_buf)))
		goto done;
	if (w->n_runs && (w->n_terms || w->folds.n || w->words.n) &&
		(rc = spill_run(w)))
		goto done;
	/* (their buffers are not written to again in this batch) */
	if (w->spool.fd >= 0)
		furet_buf_free(&w->spool_buf);
	furet_buf_free(&w->wbuf);
	/* A batch written from nothing trains its dictionaries (docs_train):
	** from here on, the spool and the documents being what they will be,
	** while this thread sorts the run and starts the commit. Else the
	** other processor waited for that, 45 ms on the 212 MB corpus. */
	if (is_fresh_batch(w) && trains_aside(w) && !w->early)
		w->early = dict_job_start(w, 1);
	if (!w->n_runs) {
		order = terms_sorted(w);
		fold_order = pairset_sorted(&w->folds);
		word_order = pairset_sorted(&w->words);
		if (!order || !fold_order || !word_order) {
			rc = FURET_NOMEM;
			goto done;
		}
	}
	if (mark_dead(w)) {
		rc = FURET_NOMEM;
		goto done;
	}
	if (w->n_rm && !w->an &&
		(rc = furet_index_take_analyzer(w->ix, &w->an)))
		goto done;
	/* Put's snapshot of the parts (a read transaction of the environment
	** the commit may grow) ends here. */
	if (is_into_held(w)) {
		furet_txn_abort(w->rt);
		w->rt = NULL;
	}
	rc = commit_batch(w, order, fold_order, word_order, is_last);
done:
	furet_free(order);
	furet_free(fold_order);
	furet_free(word_order);
	return rc;
}

FURET_API furet_rc furet_writer_commit(furet_writer *w)
{
	furet_rc rc;

	if (!w)
		return FURET_INVALID;
	rc = w->failed ? w->failed : write_held(w, 1);
	furet_writer_abort(w);
	return rc;
}

size_t furet_writer_runs(const furet_writer *w)
{
	return w ? w->n_spills : 0;
}

size_t furet_writer_parts(const furet_writer *w)
{
	return w ? w->n_parts : 0;
}
