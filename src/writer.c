/*
** writer.c — a batch of documents, inverted in memory, committed in one LMDB
** write transaction.
**
** furet_writer_add cuts each document into passages (passage.c), analyses
** the passage body, the document title and the passage section, and appends
** one posting per (term, passage) to that term's in-memory list. The lists are
** encoded compactly as they grow (see POSTING below) with passage ids local to
** the batch, so the batch does not depend on the index until commit.
**
** furet_writer_commit opens the write transaction, re-reads the collection
** statistics (another process may have committed meanwhile: local ids are
** rebased on the current passage count), checks that no document id exists
** already, then writes documents, passages, texts, and for each term in
** sorted order its postings and positions blocks, appending to the last
** partial block of a term that is already indexed. A batch is replayable: when
** the map is full the transaction is aborted, the map doubled and the batch
** written again. Until commit returns, readers see the index as it was.
**
** POSTING (in memory only): varint passage delta (from the previous posting
** of the term, the first one absolute), varint body tf, byte title tf, byte
** section tf, then tf varint position deltas.
*/
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "index.h"
#include "passage.h"
#include "store.h"
#include "textcodec.h"
#include "util.h"

typedef struct term_entry {
	uint32_t off, len;  /* the term in w->terms_arena */
	uint32_t hash;
	uint32_t n_post;    /* postings in this batch (= batch df) */
	uint32_t last_pid;  /* local id of the last posting */
	uint64_t cf;        /* body occurrences in this batch */
	furet_buf post;     /* encoded POSTING records */
} term_entry;

typedef struct batch_doc {
	size_t id_off, id_len;       /* in w->arena */
	size_t title_off, title_len;
	size_t source_off, source_len;
	size_t meta_off, meta_len;
	uint32_t first_passage;      /* local */
	uint32_t n_passages;
	int is_dead;                 /* replaced later in the same batch */
	unsigned char hash[16];
} batch_doc;

typedef struct batch_passage {
	uint32_t doc;                /* index in w->docs */
	uint32_t number;
	uint64_t start, end;
	size_t text_off;             /* text bytes [start,end) copied in w->arena */
	int has_section;
	size_t sec_off, sec_len;
	uint32_t length;
	int is_dead;                 /* its document was replaced in the batch */
} batch_passage;

/* A set of "a\0b" byte strings, each kept once: the pairs written to the
** folds and words tables at commit. */
typedef struct pairset {
	furet_buf arena;
	uint32_t *offs, *lens; /* of each pair in arena */
	size_t n, cap_offs, cap_lens;
	uint32_t *slots;       /* open addressing: pair index + 1, 0 empty */
	size_t n_slots;
} pairset;

typedef struct occ {
	uint32_t tid;
	uint32_t field; /* 0 body, 1 title, 2 section */
	uint32_t pos;
} occ;

struct furet_writer {
	furet_index *ix;
	unsigned flags;
	furet_analyzer *an;

	term_entry *terms;
	size_t n_terms, cap_terms;
	uint32_t *slots;   /* open addressing: tid + 1, 0 empty */
	size_t n_slots;
	furet_buf terms_arena;

	batch_doc *docs;
	size_t n_docs, cap_docs;
	batch_passage *pass;
	size_t n_pass, cap_pass;
	furet_buf arena;   /* ids, titles, sections, passage texts */

	uint32_t *id_slots; /* doc index + 1, for duplicates inside the batch */
	size_t n_id_slots;

	occ *occs;         /* scratch for one passage */
	size_t n_occs, cap_occs;
	uint32_t *title_tids, *sec_tids;
	size_t n_title_tids, cap_title_tids, n_sec_tids, cap_sec_tids;

	pairset folds;     /* (accent-free key, term) of accented words */
	pairset words;     /* (unaccented word, term), for typo candidates */
	furet_buf scratch;

	furet_txn *rt;     /* snapshot of the index for put's look-ups (the
	                      writer lock keeps it current for the batch) */
	uint32_t *rm_docs; /* indexed documents to remove at commit */
	size_t n_rm, cap_rm;
	pairset seen;      /* ids put unchanged in this batch */
	size_t n_replaced; /* ids put twice in this batch */
	furet_text_dec *tdec; /* stored text of the index, during commit */
	uint64_t n_written; /* postings written by the commit being made */
	furet_rc failed;   /* sticky: a failure inside add left the batch unusable */
};

static uint32_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint32_t h = 2166136261u;
	while (n--)
		h = (h ^ *s++) * 16777619u;
	return h;
}

static void pairset_free(pairset *ps)
{
	furet_buf_free(&ps->arena);
	furet_free(ps->offs);
	furet_free(ps->lens);
	furet_free(ps->slots);
}

FURET_API furet_rc furet_writer_begin(furet_index *ix, unsigned flags,
	furet_writer **out)
{
	furet_writer *w;
	furet_rc rc;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!ix)
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
	furet_buf_init(&w->terms_arena);
	furet_buf_init(&w->arena);
	furet_buf_init(&w->folds.arena);
	furet_buf_init(&w->words.arena);
	furet_buf_init(&w->seen.arena);
	furet_buf_init(&w->scratch);
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
	rc = furet_analyzer_open(&w->an);
	if (rc)
		goto fail;
	if (!(flags & FURET_WRITE_REBUILD) &&
		(rc = furet_store_begin(ix->store, 0, &w->rt)))
		goto fail;
	*out = w;
	return FURET_OK;
fail:
	furet_writer_abort(w);
	if (!w)
		furet_index_end_write(ix);
	return rc;
}

FURET_API void furet_writer_abort(furet_writer *w)
{
	size_t i;

	if (!w)
		return;
	for (i = 0; i < w->n_terms; i++)
		furet_buf_free(&w->terms[i].post);
	furet_free(w->terms);
	furet_free(w->slots);
	furet_buf_free(&w->terms_arena);
	furet_free(w->docs);
	furet_free(w->pass);
	furet_buf_free(&w->arena);
	furet_free(w->id_slots);
	furet_free(w->occs);
	furet_free(w->title_tids);
	furet_free(w->sec_tids);
	pairset_free(&w->folds);
	pairset_free(&w->words);
	pairset_free(&w->seen);
	furet_buf_free(&w->scratch);
	furet_txn_abort(w->rt);
	furet_free(w->rm_docs);
	furet_analyzer_close(w->an);
	furet_index_end_write(w->ix);
	furet_free(w);
}

FURET_API size_t furet_writer_passages(const furet_writer *w)
{
	return w ? w->n_pass : 0;
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

/* The batch-local id of term, added when new; -1 on allocation failure. */
static int64_t intern(furet_writer *w, const char *term, size_t len)
{
	uint32_t h = hash_bytes(term, len);
	size_t j = h & (w->n_slots - 1);
	term_entry *e;

	while (w->slots[j]) {
		e = &w->terms[w->slots[j] - 1];
		if (e->hash == h && e->len == len &&
			memcmp(w->terms_arena.data + e->off, term, len) == 0)
			return w->slots[j] - 1;
		j = (j + 1) & (w->n_slots - 1);
	}
	if ((w->n_terms + 1) * 2 > w->n_slots) {
		if (rehash_terms(w))
			return -1;
		return intern(w, term, len);
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
		size_t j = hash_bytes(ps->arena.data + ps->offs[i], ps->lens[i]) &
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
	for (j = hash_bytes(key, len) & (ps->n_slots - 1); ps->slots[j];
		j = (j + 1) & (ps->n_slots - 1)) {
		uint32_t k = ps->slots[j] - 1;
		if (ps->lens[k] == len &&
			memcmp(ps->arena.data + ps->offs[k], key, len) == 0) {
			*is_found = 1;
			break;
		}
	}
	return j;
}

/* Adds the pair "a\0b" unless it is there already; -1 when out of memory. */
static int pairset_add(pairset *ps, const char *a, size_t a_len,
	const char *b, size_t b_len)
{
	unsigned char key[600];
	size_t len = a_len + 1 + b_len, j;
	int is_found;

	if (len > sizeof key || len > 511)
		return 0; /* no LMDB key can be that long; such words are junk */
	memcpy(key, a, a_len);
	key[a_len] = 0;
	memcpy(key + a_len + 1, b, b_len);
	if ((ps->n + 1) * 2 > ps->n_slots && pairset_rehash(ps))
		return -1;
	j = pairset_slot(ps, key, len, &is_found);
	if (is_found)
		return 0;
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

/* Records what the search needs to reach a token's term other than by the
** term itself: its accent-free key when that differs (folds table), and its
** unaccented word, for typo candidates (words table; words of 4+ bytes, as
** typos are only looked for in words of 5+ letters). */
static int record_lookups(furet_writer *w, const furet_token *t)
{
	if ((t->fold_len != t->term_len ||
		memcmp(t->fold, t->term, t->term_len) != 0) &&
		pairset_add(&w->folds, t->fold, t->fold_len, t->term, t->term_len))
		return -1;
	if (t->word_len < 4 || (t->flags & FURET_TOK_NUMBER))
		return 0;
	furet_buf_reset(&w->scratch);
	furet_unaccent(t->word, t->word_len, &w->scratch);
	if (w->scratch.has_err)
		return -1;
	return pairset_add(&w->words, (const char *)w->scratch.data,
		w->scratch.len, t->term, t->term_len);
}

/* Analyses text and stores the term ids in *tids. */
static furet_rc analyse_tids(furet_writer *w, const char *text, size_t len,
	uint32_t **tids, size_t *n, size_t *cap)
{
	const furet_token *toks;
	size_t nt, i;
	furet_rc rc;

	*n = 0;
	rc = furet_analyzer_run(w->an, text, len, FURET_MODE_DOCUMENT, &toks, &nt);
	if (rc)
		return rc;
	if (furet_grow((void **)tids, cap, nt, sizeof **tids))
		return FURET_NOMEM;
	for (i = 0; i < nt; i++) {
		int64_t tid = intern(w, toks[i].term, toks[i].term_len);
		if (tid < 0 || record_lookups(w, &toks[i]))
			return FURET_NOMEM;
		(*tids)[(*n)++] = (uint32_t)tid;
	}
	return FURET_OK;
}

static int occ_cmp(const void *a, const void *b)
{
	const occ *x = a, *y = b;
	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	if (x->field != y->field)
		return x->field < y->field ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int push_occ(furet_writer *w, uint32_t tid, uint32_t field, uint32_t pos)
{
	if (furet_grow((void **)&w->occs, &w->cap_occs, w->n_occs + 1, sizeof *w->occs))
		return -1;
	w->occs[w->n_occs].tid = tid;
	w->occs[w->n_occs].field = field;
	w->occs[w->n_occs].pos = pos;
	w->n_occs++;
	return 0;
}

/* Inverts one passage (local id pid) from the body text, the title term ids
** and the section term ids already computed. */
static furet_rc invert_passage(furet_writer *w, uint32_t pid, const char *text,
	size_t len, uint32_t *length)
{
	const furet_token *toks;
	size_t nt, i, j;
	furet_rc rc;

	w->n_occs = 0;
	rc = furet_analyzer_run(w->an, text, len, FURET_MODE_DOCUMENT, &toks, &nt);
	if (rc)
		return rc;
	/* The length counts words: the whole of a compound shares its first
	** part's position and is not one more word. */
	*length = 0;
	for (i = 0; i < nt; i++) {
		int64_t tid = intern(w, toks[i].term, toks[i].term_len);
		if (tid < 0 || push_occ(w, (uint32_t)tid, 0, toks[i].pos) ||
			record_lookups(w, &toks[i]))
			return FURET_NOMEM;
		if (!(toks[i].flags & FURET_TOK_WHOLE))
			(*length)++;
	}
	for (i = 0; i < w->n_title_tids; i++)
		if (push_occ(w, w->title_tids[i], 1, 0))
			return FURET_NOMEM;
	for (i = 0; i < w->n_sec_tids; i++)
		if (push_occ(w, w->sec_tids[i], 2, 0))
			return FURET_NOMEM;
	qsort(w->occs, w->n_occs, sizeof *w->occs, occ_cmp);

	for (i = 0; i < w->n_occs; i = j) {
		term_entry *e = &w->terms[w->occs[i].tid];
		uint32_t tf = 0, tt = 0, ts = 0, prev = 0;
		size_t k;

		for (j = i; j < w->n_occs && w->occs[j].tid == w->occs[i].tid; j++) {
			if (w->occs[j].field == 0)
				tf++;
			else if (w->occs[j].field == 1)
				tt++;
			else
				ts++;
		}
		furet_buf_put_varint(&e->post, e->n_post ? pid - e->last_pid : pid);
		furet_buf_put_varint(&e->post, tf);
		furet_buf_putc(&e->post, tt > 255 ? 255 : (int)tt);
		furet_buf_putc(&e->post, ts > 255 ? 255 : (int)ts);
		for (k = i; k < i + tf; k++) {
			furet_buf_put_varint(&e->post, w->occs[k].pos - prev);
			prev = w->occs[k].pos;
		}
		if (e->post.has_err)
			return FURET_NOMEM;
		e->n_post++;
		e->last_pid = pid;
		e->cf += tf;
	}
	return FURET_OK;
}

/* Index of the batch document with this id, or -1; *slot gets its id slot,
** or the free slot where the id would go. */
static int64_t find_batch_id(furet_writer *w, const char *id, size_t len,
	size_t *slot)
{
	size_t j = hash_bytes(id, len) & (w->n_id_slots - 1);

	while (w->id_slots[j]) {
		batch_doc *d = &w->docs[w->id_slots[j] - 1];
		if (d->id_len == len &&
			memcmp(w->arena.data + d->id_off, id, len) == 0) {
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
		size_t j = hash_bytes(w->arena.data + d->id_off, d->id_len) & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	furet_free(w->id_slots);
	w->id_slots = s;
	w->n_id_slots = n;
	return 0;
}

/* FNV-1a, twice with different bases: 128 bits to tell whether a document
** changed (not a defence against someone forging collisions). */
static void hash_doc(const furet_doc *doc, unsigned char out[16])
{
	uint64_t h[2] = { 1469598103934665603ull, 0x84222325cbf29ce4ull };
	const unsigned char *parts[4];
	size_t lens[4], k, i, j;
	unsigned char fmt = (unsigned char)doc->format;

	parts[0] = &fmt;
	lens[0] = 1;
	parts[1] = (const unsigned char *)(doc->title ? doc->title : "");
	lens[1] = doc->title ? doc->title_len : 0;
	parts[2] = (const unsigned char *)(doc->text ? doc->text : "");
	lens[2] = doc->text_len;
	/* A change of the metadata alone is a change of the document. */
	parts[3] = (const unsigned char *)(doc->meta_len ? doc->meta : "");
	lens[3] = doc->meta_len;
	for (j = 0; j < 2; j++) {
		for (k = 0; k < 4; k++) {
			for (i = 0; i < lens[k]; i++)
				h[j] = (h[j] ^ parts[k][i]) * (j ? 0x100000001b3ull :
					1099511628211ull);
			/* the length separates the parts */
			h[j] = (h[j] ^ (uint64_t)lens[k]) * 1099511628211ull;
		}
	}
	for (j = 0; j < 2; j++)
		for (i = 0; i < 8; i++)
			out[8 * j + i] = (unsigned char)(h[j] >> (8 * i));
}

static furet_rc check_doc(furet_writer *w, const furet_doc *doc)
{
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
	if ((w->n_docs + 1) * 2 > w->n_id_slots && grow_id_slots(w))
		return FURET_NOMEM;
	return FURET_OK;
}

/* Adds doc to the batch, its id going into id slot `slot`. */
static furet_rc add_doc(furet_writer *w, const furet_doc *doc, size_t slot,
	const unsigned char hash[16])
{
	furet_split sp;
	batch_doc *d;
	size_t i, prev_sec_start = 0, prev_sec_end = 0;
	const char *title;
	size_t title_len;
	int has_prev_sec = 0;
	furet_rc rc;

	memset(&sp, 0, sizeof sp);
	rc = furet_passage_split(doc->text ? doc->text : "", doc->text_len,
		doc->format, FURET_WINDOW_WORDS, &sp);
	if (rc)
		return rc;

	title = doc->title;
	title_len = doc->title_len;
	if (!title && sp.has_title) {
		title = doc->text + sp.title_start;
		title_len = sp.title_end - sp.title_start;
	}
	if (!title)
		title = "";

	if (furet_grow((void **)&w->docs, &w->cap_docs, w->n_docs + 1, sizeof *w->docs) ||
		furet_grow((void **)&w->pass, &w->cap_pass, w->n_pass + sp.n_spans,
			sizeof *w->pass)) {
		rc = FURET_NOMEM;
		goto done;
	}
	d = &w->docs[w->n_docs];
	memset(d, 0, sizeof *d);
	memcpy(d->hash, hash, 16);
	d->id_off = w->arena.len;
	d->id_len = doc->id_len;
	furet_buf_append(&w->arena, doc->id, doc->id_len);
	d->source_off = w->arena.len;
	d->source_len = doc->source ? strlen(doc->source) : 0;
	furet_buf_append(&w->arena, doc->source, d->source_len);
	d->title_off = w->arena.len;
	d->title_len = title_len;
	furet_buf_append(&w->arena, title, title_len);
	d->meta_off = w->arena.len;
	d->meta_len = doc->meta_len;
	furet_buf_append(&w->arena, doc->meta, doc->meta_len);
	d->first_passage = (uint32_t)w->n_pass;
	d->n_passages = 0;
	if (w->arena.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}

	rc = analyse_tids(w, title, title_len, &w->title_tids, &w->n_title_tids,
		&w->cap_title_tids);
	if (rc)
		goto done;
	w->n_sec_tids = 0;
	for (i = 0; i < sp.n_spans; i++) {
		const furet_passage_span *s = &sp.spans[i];
		batch_passage *p = &w->pass[w->n_pass + i];

		if (s->has_section != has_prev_sec || (s->has_section &&
			(s->sec_start != prev_sec_start || s->sec_end != prev_sec_end))) {
			w->n_sec_tids = 0;
			if (s->has_section) {
				rc = analyse_tids(w, doc->text + s->sec_start,
					s->sec_end - s->sec_start, &w->sec_tids, &w->n_sec_tids,
					&w->cap_sec_tids);
				if (rc)
					goto done;
			}
			has_prev_sec = s->has_section;
			prev_sec_start = s->sec_start;
			prev_sec_end = s->sec_end;
		}
		p->doc = (uint32_t)w->n_docs;
		p->is_dead = 0;
		p->number = (uint32_t)i;
		p->start = s->start;
		p->end = s->end;
		p->has_section = s->has_section;
		p->sec_off = w->arena.len;
		p->sec_len = s->has_section ? s->sec_end - s->sec_start : 0;
		if (s->has_section)
			furet_buf_append(&w->arena, doc->text + s->sec_start, p->sec_len);
		p->text_off = w->arena.len;
		furet_buf_append(&w->arena, doc->text + s->start, s->end - s->start);
		if (w->arena.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
		rc = invert_passage(w, (uint32_t)(w->n_pass + i), doc->text + s->start,
			s->end - s->start, &p->length);
		if (rc)
			goto done;
	}
	/* Only now is the document part of the batch: a failure above leaves
	** postings of passages that no document owns, so it must abort. */
	d->n_passages = (uint32_t)sp.n_spans;
	w->n_pass += sp.n_spans;
	w->id_slots[slot] = (uint32_t)w->n_docs + 1;
	w->n_docs++;
done:
	if (rc && rc != FURET_INVALID && rc != FURET_EXISTS)
		w->failed = rc;
	furet_split_free(&sp);
	return rc;
}

FURET_API furet_rc furet_writer_add(furet_writer *w, const furet_doc *doc)
{
	unsigned char hash[16];
	size_t slot;
	furet_rc rc = check_doc(w, doc);

	if (rc)
		return rc;
	if (find_batch_id(w, doc->id, doc->id_len, &slot) >= 0)
		return furet_index_fail(w->ix, FURET_EXISTS,
			"document %.*s is twice in the batch", (int)(doc->id_len > 200 ?
			200 : doc->id_len), doc->id);
	hash_doc(doc, hash);
	return add_doc(w, doc, slot, hash);
}

/* The batch forgets document j: its passages stay allocated, as removed. */
static void kill_batch_doc(furet_writer *w, size_t j)
{
	batch_doc *d = &w->docs[j];
	uint32_t k;

	d->is_dead = 1;
	for (k = 0; k < d->n_passages; k++)
		w->pass[d->first_passage + k].is_dead = 1;
}

/* The indexed document number of id, or -1 (also without a snapshot). */
static int64_t indexed_doc(furet_writer *w, const char *id, size_t len,
	furet_doc_rec *rec, furet_rc *rc)
{
	unsigned char d4[4];
	uint32_t num;
	furet_val v;

	*rc = FURET_OK;
	if (!w->rt)
		return -1;
	*rc = furet_docid_get(w->rt, id, len, &num);
	if (*rc == FURET_DONE) {
		*rc = FURET_OK;
		return -1;
	}
	if (*rc)
		return -1;
	furet_put_u32be(d4, num);
	*rc = furet_txn_get(w->rt, FURET_T_DOCS, d4, 4, &v);
	if (*rc == FURET_OK)
		*rc = furet_doc_rec_decode(v, rec);
	else if (*rc == FURET_DONE)
		*rc = FURET_CORRUPT;
	return *rc ? -1 : (int64_t)furet_get_u32be(d4);
}

static int schedule_removal(furet_writer *w, uint32_t doc)
{
	size_t i;

	for (i = 0; i < w->n_rm; i++)
		if (w->rm_docs[i] == doc)
			return 0;
	if (furet_grow((void **)&w->rm_docs, &w->cap_rm, w->n_rm + 1,
		sizeof *w->rm_docs))
		return -1;
	w->rm_docs[w->n_rm++] = doc;
	return 0;
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
	hash_doc(doc, hash);
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
	if (dn >= 0) {
		if (memcmp(rec.hash, hash, 16) == 0) {
			/* Unchanged (also when an earlier version in this batch
			** differed: the last one wins, and it is what is indexed). */
			size_t i;
			for (i = 0; i < w->n_rm; i++)
				if (w->rm_docs[i] == (uint32_t)dn)
					w->rm_docs[i] = w->rm_docs[--w->n_rm];
			if (pairset_add(&w->seen, doc->id, doc->id_len, "", 0))
				return FURET_NOMEM;
			if (outcome)
				*outcome = j < 0 ? FURET_PUT_UNCHANGED : how;
			return FURET_OK;
		}
		if (schedule_removal(w, (uint32_t)dn))
			return FURET_NOMEM;
		if (j < 0)
			how = FURET_PUT_UPDATED;
	}
	rc = add_doc(w, doc, slot, hash);
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
			m = hash_bytes(w->arena.data + d->id_off, d->id_len) &
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
		if (schedule_removal(w, (uint32_t)dn))
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
	furet_val k, v;
	size_t removed = 0, slot;
	furet_rc rc;

	if (n_removed)
		*n_removed = 0;
	if (!w || (!paths && n))
		return FURET_INVALID;
	if (w->failed)
		return w->failed;
	if (!w->rt || n == 0)
		return FURET_OK;
	if ((rc = furet_cursor_open(w->rt, FURET_T_DOCS, &cur)))
		return rc;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		furet_doc_rec rec;
		if (k.len != 4 || furet_doc_rec_decode(v, &rec)) {
			rc = FURET_CORRUPT;
			break;
		}
		if (!source_in(rec.source, rec.source_len, paths, n))
			continue;
		if (find_batch_id(w, rec.id, rec.id_len, &slot) >= 0 ||
			seen_contains(&w->seen, rec.id, rec.id_len))
			continue;
		if (schedule_removal(w, furet_get_u32be(k.data))) {
			rc = FURET_NOMEM;
			break;
		}
		removed++;
	}
	furet_cursor_close(cur);
	if (rc != FURET_DONE)
		return rc == FURET_OK ? FURET_OK : rc;
	if (n_removed)
		*n_removed = removed;
	return FURET_OK;
}

FURET_API furet_rc furet_writer_summary(furet_writer *w,
	furet_batch_summary *out)
{
	furet_doc_rec rec;
	size_t i, slot;
	furet_rc rc = FURET_OK;

	if (!w || !out)
		return FURET_INVALID;
	memset(out, 0, sizeof *out);
	out->repeated = w->n_replaced;
	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		if (d->is_dead)
			continue;
		if (indexed_doc(w, (const char *)w->arena.data + d->id_off, d->id_len,
			&rec, &rc) >= 0)
			out->updated++;
		else if (rc)
			return rc;
		else
			out->added++;
	}
	for (i = 0; i < w->seen.n; i++) {
		const char *id = (const char *)w->seen.arena.data + w->seen.offs[i];
		int64_t j = find_batch_id(w, id, w->seen.lens[i] - 1, &slot);
		if (j < 0 || w->docs[j].is_dead)
			out->unchanged++;
	}
	for (i = 0; i < w->n_rm; i++) {
		unsigned char d4[4];
		furet_val v;
		int64_t j;
		furet_put_u32be(d4, w->rm_docs[i]);
		if (!w->rt || furet_txn_get(w->rt, FURET_T_DOCS, d4, 4, &v) ||
			furet_doc_rec_decode(v, &rec))
			continue;
		j = find_batch_id(w, rec.id, rec.id_len, &slot);
		if (j < 0 || w->docs[j].is_dead)
			out->removed++;
	}
	return FURET_OK;
}

/* ---- commit ------------------------------------------------------------- */

typedef struct term_ref {
	const unsigned char *p;
	uint32_t len;
	uint32_t tid;
} term_ref;

static int term_cmp(const void *a, const void *b)
{
	const term_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Writes a full (or the final) block and its positions as block *block. */
static furet_rc flush_block(furet_txn *t, furet_block *blk, furet_buf *pos,
	furet_buf *enc, unsigned char *key, const char *term, size_t term_len,
	uint32_t *block, unsigned put_flags)
{
	size_t klen;
	furet_rc rc;

	furet_buf_reset(enc);
	furet_block_encode(blk, enc);
	if (enc->has_err || pos->has_err)
		return FURET_NOMEM;
	klen = furet_block_key(key, term, term_len, *block);
	rc = furet_txn_put(t, FURET_T_POSTINGS, key, klen, enc->data, enc->len,
		put_flags);
	if (!rc)
		rc = furet_txn_put(t, FURET_T_POSITIONS, key, klen, pos->data,
			pos->len, put_flags);
	if (rc)
		return rc;
	(*block)++;
	blk->n = 0;
	furet_buf_reset(pos);
	return FURET_OK;
}

/* Writes one term's postings: appends to its existing last block when that
** one has room, then full blocks of FURET_BLOCK_SIZE. Postings of passages
** replaced later in the batch are left out. */
static furet_rc write_term(furet_writer *w, furet_txn *t, const term_entry *e,
	uint32_t base, int is_rebuild, furet_buf *enc, furet_buf *pos,
	furet_block *blk, unsigned char *key)
{
	const char *term = (const char *)w->terms_arena.data + e->off;
	furet_term_rec rec;
	furet_val v;
	const unsigned char *p = e->post.data, *end = e->post.data + e->post.len;
	uint32_t block = 0, pid = 0, i;
	uint64_t n_written = 0, cf = 0;
	size_t klen;
	furet_rc rc;
	unsigned put_flags = is_rebuild ? FURET_PUT_APPEND : 0;

	memset(&rec, 0, sizeof rec);
	blk->n = 0;
	furet_buf_reset(pos);
	if (!is_rebuild) {
		rc = furet_txn_get(t, FURET_T_TERMS, term, e->len, &v);
		if (rc == FURET_OK) {
			if ((rc = furet_term_rec_decode(v, &rec)) != FURET_OK)
				return rc;
		} else if (rc != FURET_DONE) {
			return rc;
		}
		if (rec.n_blocks) {
			block = rec.n_blocks - 1;
			klen = furet_block_key(key, term, e->len, block);
			if ((rc = furet_txn_get(t, FURET_T_POSTINGS, key, klen, &v)))
				return rc == FURET_DONE ? FURET_CORRUPT : rc;
			if ((rc = furet_block_decode(v, blk)))
				return rc;
			if (blk->n == FURET_BLOCK_SIZE) {
				blk->n = 0;
				block++;
			} else {
				if ((rc = furet_txn_get(t, FURET_T_POSITIONS, key, klen, &v)))
					return rc == FURET_DONE ? FURET_CORRUPT : rc;
				furet_buf_append(pos, v.data, v.len);
			}
		}
	}
	for (i = 0; i < e->n_post; i++) {
		uint64_t delta = 0, tf = 0, x = 0;
		uint32_t k;
		int is_dead;
		p += furet_get_varint(p, end, &delta);
		p += furet_get_varint(p, end, &tf);
		pid = i ? pid + (uint32_t)delta : (uint32_t)delta;
		is_dead = w->pass[pid].is_dead;
		if (!is_dead) {
			blk->pid[blk->n] = base + pid;
			blk->tf[blk->n] = (uint32_t)tf;
			blk->tf_title[blk->n] = p[0];
			blk->tf_section[blk->n] = p[1];
			furet_buf_put_varint(pos, tf);
		}
		p += 2;
		for (k = 0; k < tf; k++) {
			p += furet_get_varint(p, end, &x);
			if (!is_dead)
				furet_buf_put_varint(pos, x);
		}
		if (is_dead)
			continue; /* replaced later in this batch */
		blk->n++;
		n_written++;
		cf += tf;
		if (blk->n == FURET_BLOCK_SIZE &&
			(rc = flush_block(t, blk, pos, enc, key, term, e->len, &block,
			put_flags)))
			return rc;
	}
	if (n_written == 0)
		return FURET_OK; /* only postings of replaced documents */
	if (blk->n && (rc = flush_block(t, blk, pos, enc, key, term, e->len,
		&block, put_flags)))
		return rc;
	w->n_written += n_written;
	rec.df += n_written;
	rec.cf += cf;
	rec.n_blocks = block;
	furet_buf_reset(enc);
	furet_term_rec_encode(&rec, enc);
	if (enc->has_err)
		return FURET_NOMEM;
	return furet_txn_put(t, FURET_T_TERMS, term, e->len, enc->data, enc->len,
		put_flags);
}

enum { DENSE_PLEN, DENSE_PDOC, DENSE_DLEN };

/* Appends the batch's entries to a dense little-endian u32 array in meta:
** per passage its length (plen) or document (pdoc), per document its
** length in words (dlen). n_old entries are there already. */
static furet_rc write_dense(furet_writer *w, furet_txn *t, const char *name,
	uint64_t n_old, int kind, uint32_t doc_base, furet_buf *buf,
	const furet_buf *dead)
{
	size_t i, n = kind == DENSE_DLEN ? w->n_docs : w->n_pass;
	furet_val v;
	furet_rc rc;

	furet_buf_reset(buf);
	if (n_old) {
		rc = furet_txn_get(t, FURET_T_META, name, strlen(name), &v);
		if (rc || v.len != n_old * 4)
			return rc && rc != FURET_DONE ? rc : FURET_CORRUPT;
		furet_buf_append(buf, v.data, v.len);
	}
	for (i = 0; i < n; i++) {
		uint64_t x;
		if (kind == DENSE_PLEN) {
			x = w->pass[i].is_dead ? FURET_DEAD_PASSAGE : w->pass[i].length;
		} else if (kind == DENSE_PDOC) {
			x = doc_base + w->pass[i].doc;
		} else {
			const batch_doc *d = &w->docs[i];
			uint32_t k;
			for (x = 0, k = 0; k < d->n_passages; k++)
				x += w->pass[d->first_passage + k].length;
			if (x > UINT32_MAX)
				x = UINT32_MAX;
		}
		furet_buf_put_u32le(buf, (uint32_t)x);
	}
	/* Passages that removals made dead. */
	for (i = 0; dead && i + 4 <= dead->len; i += 4) {
		uint32_t pid = furet_get_u32be(dead->data + i);
		if (!buf->has_err && (size_t)pid * 4 + 4 <= buf->len)
			memset(buf->data + 4 * (size_t)pid, 0xff, 4);
	}
	if (buf->has_err)
		return FURET_NOMEM;
	return furet_txn_put(t, FURET_T_META, name, strlen(name), buf->data,
		buf->len, 0);
}

typedef struct fold_ref {
	const unsigned char *p;
	uint32_t len;
	uint32_t off;
} fold_ref;

static int fold_cmp(const void *a, const void *b)
{
	const fold_ref *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
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
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(base + x->off, base + y->off, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
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

/* Takes an indexed document out: its passages become dead (their postings
** stay until compaction, searches skip them), and the statistics and the
** df and cf of every term they held no longer count them. The terms come
** from analysing the stored text again: the analyzer signature guarantees
** it gives what indexing gave. Appends the dead passage ids to dead. */
static furet_rc remove_indexed_doc(furet_writer *w, furet_txn *t, uint32_t dn,
	furet_collection *c, furet_buf *dead)
{
	unsigned char d4[4], k4[4];
	furet_doc_rec rec;
	furet_buf names, title, ids;
	tref *refs = NULL;
	size_t n = 0, cap = 0, i, j;
	uint32_t k;
	furet_val v;
	furet_rc rc;

	furet_buf_init(&names);
	furet_buf_init(&title);
	furet_buf_init(&ids);
	furet_put_u32be(d4, dn);
	if ((rc = furet_txn_get(t, FURET_T_DOCS, d4, 4, &v)))
		return rc == FURET_DONE ? FURET_OK : rc; /* removed already */
	if ((rc = furet_doc_rec_decode(v, &rec)))
		return rc;
	furet_buf_append(&title, rec.title, rec.title_len);
	furet_buf_append(&ids, rec.id, rec.id_len);
	if (title.has_err || ids.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (k = 0; k < rec.n_passages; k++) {
		uint32_t pid = rec.first_passage + k;
		furet_passage_rec pr;
		furet_term_rec tr;
		size_t text_len;

		furet_put_u32be(k4, pid);
		if ((rc = furet_txn_get(t, FURET_T_PASSAGES, k4, 4, &v)) ||
			(rc = furet_passage_rec_decode(v, &pr)))
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
		if ((rc = furet_txn_get(t, FURET_T_TEXT, k4, 4, &v)))
			goto corrupt;
		text_len = pr.end - pr.start;
		{
			/* Decoded into a buffer of its own: the text's pages may move
			** as this transaction writes. */
			furet_buf body;
			furet_buf_init(&body);
			rc = furet_text_decode(w->tdec, v.data, v.len, text_len, &body);
			if (!rc)
				rc = collect_terms(w, (const char *)body.data, body.len, 1,
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
			rc = furet_txn_get(t, FURET_T_TERMS, term, refs[i].len, &v);
			if (rc == FURET_DONE)
				continue; /* a term too long to be indexed */
			if (rc || (rc = furet_term_rec_decode(v, &tr)))
				goto corrupt;
			tr.df = tr.df ? tr.df - 1 : 0;
			tr.cf = tr.cf >= tf ? tr.cf - tf : 0;
			furet_buf_reset(&w->scratch);
			furet_term_rec_encode(&tr, &w->scratch);
			if (w->scratch.has_err) {
				rc = FURET_NOMEM;
				goto done;
			}
			if ((rc = furet_txn_put(t, FURET_T_TERMS, term, refs[i].len,
				w->scratch.data, w->scratch.len, 0)))
				goto done;
			if (c->n_postings)
				c->n_postings--;
		}
		c->total_length = c->total_length >= pr.length ?
			c->total_length - pr.length : 0;
		c->text_bytes = c->text_bytes >= text_len ? c->text_bytes - text_len : 0;
		if (c->n_live)
			c->n_live--;
		if ((rc = furet_txn_del(t, FURET_T_PASSAGES, k4, 4)) > FURET_OK &&
			rc != FURET_DONE)
			goto done;
		if ((rc = furet_txn_del(t, FURET_T_TEXT, k4, 4)) > FURET_OK &&
			rc != FURET_DONE)
			goto done;
		furet_buf_put_u32be(dead, pid);
	}
	if ((rc = furet_docid_del(t, ids.data, ids.len, furet_get_u32be(d4))) >
		FURET_OK && rc != FURET_DONE)
		goto done;
	if ((rc = furet_txn_del(t, FURET_T_DOCS, d4, 4)) > FURET_OK &&
		rc != FURET_DONE)
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
	return rc;
}

/* The pairs of ps in byte order (keys for MDB_APPEND); caller frees. */
static fold_ref *pairset_sorted(const pairset *ps)
{
	fold_ref *v = furet_malloc((ps->n ? ps->n : 1) * sizeof *v);
	size_t i;

	if (!v)
		return NULL;
	for (i = 0; i < ps->n; i++) {
		v[i].off = ps->offs[i];
		v[i].len = ps->lens[i];
		v[i].p = ps->arena.data + ps->offs[i];
	}
	qsort(v, ps->n, sizeof *v, fold_cmp);
	return v;
}

/* A rebuild trains the stored text's dictionary on the batch's passages. */
static furet_rc train_dict(furet_writer *w, furet_buf *dict)
{
	const char **texts = furet_malloc((w->n_pass ? w->n_pass : 1) *
		sizeof *texts);
	size_t *lens = furet_malloc((w->n_pass ? w->n_pass : 1) * sizeof *lens);
	size_t i, n = 0;
	furet_rc rc;

	if (!texts || !lens) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < w->n_pass; i++) {
		if (w->pass[i].is_dead)
			continue;
		texts[n] = (const char *)w->arena.data + w->pass[i].text_off;
		lens[n++] = w->pass[i].end - w->pass[i].start;
	}
	rc = furet_text_train(texts, lens, n, dict);
done:
	furet_free(texts);
	furet_free(lens);
	return rc;
}

static furet_rc write_batch(furet_writer *w, furet_txn *t, const term_ref *order,
	const fold_ref *fold_order, const fold_ref *word_order)
{
	int is_rebuild = (w->flags & FURET_WRITE_REBUILD) != 0;
	unsigned put_flags = is_rebuild ? FURET_PUT_APPEND : 0;
	furet_collection c;
	furet_buf enc, pos;
	furet_block *blk = NULL;
	unsigned char *key = NULL, k4[4], d4[4];
	size_t i, max_len = 0, n_live_docs = 0, n_live_pass = 0;
	uint64_t live_length = 0;
	furet_buf dead; /* u32be ids of the passages removals made dead */
	furet_buf dict; /* zstd dictionary of the stored text */
	furet_text_enc *tenc = NULL;
	furet_val v;
	furet_rc rc;

	furet_buf_init(&enc);
	furet_buf_init(&pos);
	furet_buf_init(&dead);
	furet_buf_init(&dict);
	w->n_written = 0;
	if (is_rebuild) {
		if ((rc = furet_txn_clear(t)))
			goto done;
		memset(&c, 0, sizeof c);
		if ((rc = train_dict(w, &dict)))
			goto done;
		rc = dict.len ? furet_txn_put(t, FURET_T_META, "zdict", 5, dict.data,
			dict.len, 0) : furet_txn_del(t, FURET_T_META, "zdict", 5);
		if (rc && rc != FURET_DONE)
			goto done;
	} else if ((rc = furet_store_get_collection(t, &c))) {
		goto done;
	} else {
		/* The index's dictionary, copied: this transaction's writes may
		** move the page it sits on. */
		rc = furet_txn_get(t, FURET_T_META, "zdict", 5, &v);
		if (rc == FURET_OK) {
			furet_buf_append(&dict, v.data, v.len);
		} else if (rc != FURET_DONE) {
			goto done;
		} else if (c.n_live == 0) {
			/* The first batch of an empty index trains it, as a rebuild. */
			if ((rc = train_dict(w, &dict)))
				goto done;
			if (dict.len && (rc = furet_txn_put(t, FURET_T_META, "zdict", 5,
				dict.data, dict.len, 0)))
				goto done;
		}
		if (dict.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
	}
	if ((rc = furet_text_enc_open(dict.data, dict.len, &tenc)) ||
		(rc = furet_text_dec_open(dict.data, dict.len, &w->tdec)))
		goto done;
	/* Removals first, so that a replaced document's id is free again. */
	for (i = 0; i < w->n_rm; i++)
		if ((rc = remove_indexed_doc(w, t, w->rm_docs[i], &c, &dead)))
			goto done;
	if (c.n_passages + w->n_pass > UINT32_MAX - 1 ||
		c.next_doc + w->n_docs > UINT32_MAX - 1) {
		rc = furet_index_fail(w->ix, FURET_INVALID, "the index is full "
			"(2^32 passages)");
		goto done;
	}

	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		furet_doc_rec r;

		if (d->is_dead)
			continue;
		n_live_docs++;
		furet_put_u32be(d4, (uint32_t)(c.next_doc + i));
		if (!is_rebuild) {
			uint32_t num;
			rc = furet_docid_get(t, w->arena.data + d->id_off, d->id_len,
				&num);
			if (rc == FURET_OK) {
				rc = furet_index_fail(w->ix, FURET_EXISTS, "document %.*s "
					"is already in the index", (int)(d->id_len > 200 ? 200 :
					d->id_len), (const char *)w->arena.data + d->id_off);
				goto done;
			}
			if (rc != FURET_DONE)
				goto done;
		}
		r.id = (const char *)w->arena.data + d->id_off;
		r.id_len = d->id_len;
		r.title = (const char *)w->arena.data + d->title_off;
		r.title_len = d->title_len;
		r.first_passage = (uint32_t)c.n_passages + d->first_passage;
		r.n_passages = d->n_passages;
		r.source = (const char *)w->arena.data + d->source_off;
		r.source_len = d->source_len;
		r.meta = (const char *)w->arena.data + d->meta_off;
		r.meta_len = d->meta_len;
		memcpy(r.hash, d->hash, 16);
		furet_buf_reset(&enc);
		furet_doc_rec_encode(&r, &enc);
		if (enc.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
		rc = furet_txn_put(t, FURET_T_DOCS, d4, 4, enc.data, enc.len, put_flags);
		if (!rc)
			rc = furet_docid_put(t, r.id, r.id_len, furet_get_u32be(d4));
		if (rc)
			goto done;
	}
	for (i = 0; i < w->n_pass; i++) {
		const batch_passage *p = &w->pass[i];
		furet_passage_rec r;

		if (p->is_dead)
			continue;
		n_live_pass++;
		live_length += p->length;
		c.text_bytes += p->end - p->start;
		furet_put_u32be(k4, (uint32_t)(c.n_passages + i));
		r.doc = (uint32_t)c.next_doc + p->doc;
		r.number = p->number;
		r.start = p->start;
		r.end = p->end;
		r.section = p->has_section ?
			(const char *)w->arena.data + p->sec_off : NULL;
		r.section_len = p->sec_len;
		r.length = p->length;
		furet_buf_reset(&enc);
		furet_passage_rec_encode(&r, &enc);
		if (enc.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
		rc = furet_txn_put(t, FURET_T_PASSAGES, k4, 4, enc.data, enc.len,
			FURET_PUT_APPEND);
		if (!rc)
			rc = furet_text_encode(tenc, (const char *)w->arena.data +
				p->text_off, p->end - p->start, &pos);
		if (!rc)
			rc = furet_txn_put(t, FURET_T_TEXT, k4, 4, pos.data, pos.len,
				FURET_PUT_APPEND);
		if (rc)
			goto done;
	}

	for (i = 0; i < w->n_terms; i++)
		if (w->terms[i].len > max_len)
			max_len = w->terms[i].len;
	key = furet_malloc(max_len + 5);
	blk = furet_malloc(sizeof *blk);
	if (!key || !blk) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < w->n_terms; i++) {
		rc = write_term(w, t, &w->terms[order[i].tid], (uint32_t)c.n_passages,
			is_rebuild, &enc, &pos, blk, key);
		if (rc)
			goto done;
	}

	/* Crash test hook: die with everything written but not committed, to
	** prove that a killed rebuild leaves the previous index (tests/cli.sh). */
	if (getenv("FURET_TEST_KILL_BEFORE_COMMIT"))
		kill(getpid(), SIGKILL);

	for (i = 0; i < w->folds.n; i++) {
		rc = furet_txn_put(t, FURET_T_FOLDS, fold_order[i].p,
			fold_order[i].len, "", 0, put_flags);
		if (rc)
			goto done;
	}
	for (i = 0; i < w->words.n; i++) {
		rc = furet_txn_put(t, FURET_T_WORDS, word_order[i].p,
			word_order[i].len, "", 0, put_flags);
		if (rc)
			goto done;
	}

	rc = write_dense(w, t, "plen", c.n_passages, DENSE_PLEN, 0, &enc, &dead);
	if (!rc)
		rc = write_dense(w, t, "pdoc", c.n_passages, DENSE_PDOC,
			(uint32_t)c.next_doc, &enc, NULL);
	if (!rc)
		rc = write_dense(w, t, "dlen", c.next_doc, DENSE_DLEN, 0, &enc, NULL);
	if (rc)
		goto done;
	c.n_docs += n_live_docs;
	c.next_doc += w->n_docs;
	c.n_passages += w->n_pass;
	c.n_live += n_live_pass;
	/* Passages replaced within the batch never got postings: nothing for
	** compaction to drop. */
	c.n_purged += w->n_pass - n_live_pass;
	c.total_length += live_length;
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
	furet_free(key);
	furet_free(blk);
	furet_buf_free(&enc);
	furet_buf_free(&pos);
	furet_buf_free(&dead);
	furet_text_enc_close(tenc);
	furet_text_dec_close(w->tdec);
	w->tdec = NULL;
	furet_buf_free(&dict);
	return rc;
}

FURET_API furet_rc furet_writer_commit(furet_writer *w)
{
	furet_txn *t = NULL;
	term_ref *order = NULL;
	fold_ref *fold_order = NULL, *word_order = NULL;
	size_t i;
	int tries;
	furet_rc rc;

	if (!w)
		return FURET_INVALID;
	if (w->failed) {
		rc = w->failed;
		goto done;
	}
	order = furet_malloc((w->n_terms ? w->n_terms : 1) * sizeof *order);
	if (!order) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < w->n_terms; i++) {
		order[i].p = w->terms_arena.data + w->terms[i].off;
		order[i].len = w->terms[i].len;
		order[i].tid = (uint32_t)i;
	}
	qsort(order, w->n_terms, sizeof *order, term_cmp);
	fold_order = pairset_sorted(&w->folds);
	word_order = pairset_sorted(&w->words);
	if (!fold_order || !word_order) {
		rc = FURET_NOMEM;
		goto done;
	}

	for (tries = 0; tries < 40; tries++) {
		rc = furet_store_begin(w->ix->store, 1, &t);
		if (rc) {
			furet_index_fail(w->ix, rc, "cannot start the write transaction");
			goto done;
		}
		rc = write_batch(w, t, order, fold_order, word_order);
		if (rc == FURET_OK) {
			rc = furet_txn_commit(t);
			t = NULL;
			if (rc == FURET_OK) {
				if (w->flags & FURET_WRITE_REBUILD)
					furet_store_rebuilt(w->ix->store);
				goto done;
			}
		}
		furet_txn_abort(t);
		t = NULL;
		if (rc != FURET_MAPFULL)
			break;
		/* The batch is still in memory: grow the map and write it again. */
		if ((rc = furet_store_grow(w->ix->store)) != FURET_OK)
			break;
	}
	if (rc == FURET_MAPFULL)
		rc = FURET_IO;
	if (rc != FURET_EXISTS && rc != FURET_INVALID)
		furet_index_fail(w->ix, rc, "commit failed: %s",
			furet_strerror(rc));
done:
	furet_free(order);
	furet_free(fold_order);
	furet_free(word_order);
	furet_writer_abort(w);
	return rc;
}
