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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "index.h"
#include "passage.h"
#include "store.h"
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
	uint32_t first_passage;      /* local */
	uint32_t n_passages;
} batch_doc;

typedef struct batch_passage {
	uint32_t doc;                /* index in w->docs */
	uint32_t number;
	uint64_t start, end;
	size_t text_off;             /* text bytes [start,end) copied in w->arena */
	int has_section;
	size_t sec_off, sec_len;
	uint32_t length;
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
	uint64_t total_length;
	uint64_t n_postings;

	pairset folds;     /* (accent-free key, term) of accented words */
	pairset words;     /* (unaccented word, term), for typo candidates */
	furet_buf scratch;
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

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c;
	void *q;

	if (need <= *cap)
		return 0;
	c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	q = furet_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
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
	pthread_mutex_lock(&ix->mu);
	if (ix->has_writer) {
		pthread_mutex_unlock(&ix->mu);
		return FURET_BUSY;
	}
	ix->has_writer = 1;
	pthread_mutex_unlock(&ix->mu);

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
	*out = w;
	return FURET_OK;
fail:
	furet_writer_abort(w);
	if (!w) {
		pthread_mutex_lock(&ix->mu);
		ix->has_writer = 0;
		pthread_mutex_unlock(&ix->mu);
	}
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
	furet_buf_free(&w->scratch);
	furet_analyzer_close(w->an);
	pthread_mutex_lock(&w->ix->mu);
	w->ix->has_writer = 0;
	pthread_mutex_unlock(&w->ix->mu);
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
	if (grow((void **)&w->terms, &w->cap_terms, w->n_terms + 1,
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

/* Adds the pair "a\0b" unless it is there already; -1 when out of memory. */
static int pairset_add(pairset *ps, const char *a, size_t a_len,
	const char *b, size_t b_len)
{
	unsigned char key[600];
	size_t len = a_len + 1 + b_len, j;
	uint32_t h;

	if (len > sizeof key || len > 511)
		return 0; /* no LMDB key can be that long; such words are junk */
	memcpy(key, a, a_len);
	key[a_len] = 0;
	memcpy(key + a_len + 1, b, b_len);
	if ((ps->n + 1) * 2 > ps->n_slots && pairset_rehash(ps))
		return -1;
	h = hash_bytes(key, len);
	for (j = h & (ps->n_slots - 1); ps->slots[j];
		j = (j + 1) & (ps->n_slots - 1)) {
		uint32_t k = ps->slots[j] - 1;
		if (ps->lens[k] == len &&
			memcmp(ps->arena.data + ps->offs[k], key, len) == 0)
			return 0;
	}
	if (grow((void **)&ps->offs, &ps->cap_offs, ps->n + 1, sizeof *ps->offs) ||
		grow((void **)&ps->lens, &ps->cap_lens, ps->n + 1, sizeof *ps->lens) ||
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
	if (grow((void **)tids, cap, nt, sizeof **tids))
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
	if (grow((void **)&w->occs, &w->cap_occs, w->n_occs + 1, sizeof *w->occs))
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
		w->n_postings++;
	}
	return FURET_OK;
}

/* Index of the batch document with this id, or -1. */
static int64_t find_batch_id(furet_writer *w, const char *id, size_t len,
	size_t *slot)
{
	size_t j = hash_bytes(id, len) & (w->n_id_slots - 1);

	while (w->id_slots[j]) {
		batch_doc *d = &w->docs[w->id_slots[j] - 1];
		if (d->id_len == len &&
			memcmp(w->arena.data + d->id_off, id, len) == 0)
			return w->id_slots[j] - 1;
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

FURET_API furet_rc furet_writer_add(furet_writer *w, const furet_doc *doc)
{
	furet_split sp;
	batch_doc *d;
	size_t slot, i, prev_sec_start = 0, prev_sec_end = 0;
	const char *title;
	size_t title_len;
	int has_prev_sec = 0;
	furet_rc rc;

	memset(&sp, 0, sizeof sp);
	if (w && w->failed)
		return w->failed;
	if (!w || !doc || !doc->id || doc->id_len == 0 ||
		(!doc->text && doc->text_len) || (!doc->title && doc->title_len))
		return FURET_INVALID;
	if (furet_utf8_valid(doc->id, doc->id_len) != doc->id_len ||
		furet_utf8_valid(doc->text, doc->text_len) != doc->text_len ||
		(doc->title && furet_utf8_valid(doc->title, doc->title_len) !=
			doc->title_len))
		return furet_index_fail(w->ix, FURET_INVALID,
			"document %.*s: not valid UTF-8", (int)(doc->id_len > 200 ?
			200 : doc->id_len), doc->id);
	if (w->n_pass + 1 >= UINT32_MAX / 2 || w->n_docs + 1 >= UINT32_MAX / 2)
		return furet_index_fail(w->ix, FURET_INVALID,
			"batch too large: commit it and start another");
	if ((w->n_docs + 1) * 2 > w->n_id_slots && grow_id_slots(w))
		return FURET_NOMEM;
	if (find_batch_id(w, doc->id, doc->id_len, &slot) >= 0)
		return furet_index_fail(w->ix, FURET_EXISTS,
			"document %.*s is twice in the batch", (int)(doc->id_len > 200 ?
			200 : doc->id_len), doc->id);

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

	if (grow((void **)&w->docs, &w->cap_docs, w->n_docs + 1, sizeof *w->docs) ||
		grow((void **)&w->pass, &w->cap_pass, w->n_pass + sp.n_spans,
			sizeof *w->pass)) {
		rc = FURET_NOMEM;
		goto done;
	}
	d = &w->docs[w->n_docs];
	d->id_off = w->arena.len;
	d->id_len = doc->id_len;
	furet_buf_append(&w->arena, doc->id, doc->id_len);
	d->title_off = w->arena.len;
	d->title_len = title_len;
	furet_buf_append(&w->arena, title, title_len);
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
		w->total_length += p->length;
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

/* Writes one term's postings: appends to its existing last block when that
** one has room, then full blocks of FURET_BLOCK_SIZE. */
static furet_rc write_term(furet_writer *w, furet_txn *t, const term_entry *e,
	uint32_t base, int is_rebuild, furet_buf *enc, furet_buf *pos,
	furet_block *blk, unsigned char *key)
{
	const char *term = (const char *)w->terms_arena.data + e->off;
	furet_term_rec rec;
	furet_val v;
	const unsigned char *p = e->post.data, *end = e->post.data + e->post.len;
	uint32_t block = 0, pid = 0, i;
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
		p += furet_get_varint(p, end, &delta);
		p += furet_get_varint(p, end, &tf);
		pid = i ? pid + (uint32_t)delta : (uint32_t)delta;
		blk->pid[blk->n] = base + pid;
		blk->tf[blk->n] = (uint32_t)tf;
		blk->tf_title[blk->n] = p[0];
		blk->tf_section[blk->n] = p[1];
		p += 2;
		furet_buf_put_varint(pos, tf);
		for (k = 0; k < tf; k++) {
			p += furet_get_varint(p, end, &x);
			furet_buf_put_varint(pos, x);
		}
		blk->n++;
		if (blk->n == FURET_BLOCK_SIZE || i + 1 == e->n_post) {
			furet_buf_reset(enc);
			furet_block_encode(blk, enc);
			if (enc->has_err || pos->has_err)
				return FURET_NOMEM;
			klen = furet_block_key(key, term, e->len, block);
			rc = furet_txn_put(t, FURET_T_POSTINGS, key, klen, enc->data,
				enc->len, put_flags);
			if (!rc)
				rc = furet_txn_put(t, FURET_T_POSITIONS, key, klen,
					pos->data, pos->len, put_flags);
			if (rc)
				return rc;
			block++;
			blk->n = 0;
			furet_buf_reset(pos);
		}
	}
	rec.df += e->n_post;
	rec.cf += e->cf;
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
	uint64_t n_old, int kind, uint32_t doc_base, furet_buf *buf)
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
			x = w->pass[i].length;
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
		{
			unsigned char le[4] = { (unsigned char)x, (unsigned char)(x >> 8),
				(unsigned char)(x >> 16), (unsigned char)(x >> 24) };
			furet_buf_append(buf, le, 4);
		}
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

static furet_rc write_batch(furet_writer *w, furet_txn *t, const term_ref *order,
	const fold_ref *fold_order, const fold_ref *word_order)
{
	int is_rebuild = (w->flags & FURET_WRITE_REBUILD) != 0;
	unsigned put_flags = is_rebuild ? FURET_PUT_APPEND : 0;
	furet_collection c;
	furet_buf enc, pos;
	furet_block *blk = NULL;
	unsigned char *key = NULL, k4[4], d4[4];
	size_t i, max_len = 0;
	furet_val v;
	furet_rc rc;

	furet_buf_init(&enc);
	furet_buf_init(&pos);
	if (is_rebuild) {
		if ((rc = furet_txn_clear(t)))
			goto done;
		memset(&c, 0, sizeof c);
	} else if ((rc = furet_store_get_collection(t, &c))) {
		goto done;
	}
	if (c.n_passages + w->n_pass > UINT32_MAX - 1 ||
		c.next_doc + w->n_docs > UINT32_MAX - 1) {
		rc = furet_index_fail(w->ix, FURET_INVALID, "the index is full "
			"(2^32 passages)");
		goto done;
	}

	for (i = 0; i < w->n_docs; i++) {
		const batch_doc *d = &w->docs[i];
		furet_doc_rec r;

		furet_put_u32be(d4, (uint32_t)(c.next_doc + i));
		if (!is_rebuild) {
			rc = furet_txn_get(t, FURET_T_DOCIDS, w->arena.data + d->id_off,
				d->id_len, &v);
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
		furet_buf_reset(&enc);
		furet_doc_rec_encode(&r, &enc);
		if (enc.has_err) {
			rc = FURET_NOMEM;
			goto done;
		}
		rc = furet_txn_put(t, FURET_T_DOCS, d4, 4, enc.data, enc.len, put_flags);
		if (!rc)
			rc = furet_txn_put(t, FURET_T_DOCIDS, r.id, r.id_len, d4, 4, 0);
		if (rc)
			goto done;
	}
	for (i = 0; i < w->n_pass; i++) {
		const batch_passage *p = &w->pass[i];
		furet_passage_rec r;

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
			rc = furet_txn_put(t, FURET_T_TEXT, k4, 4,
				w->arena.data + p->text_off, p->end - p->start,
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

	rc = write_dense(w, t, "plen", c.n_passages, DENSE_PLEN, 0, &enc);
	if (!rc)
		rc = write_dense(w, t, "pdoc", c.n_passages, DENSE_PDOC,
			(uint32_t)c.next_doc, &enc);
	if (!rc)
		rc = write_dense(w, t, "dlen", c.next_doc, DENSE_DLEN, 0, &enc);
	if (rc)
		goto done;
	c.n_docs += w->n_docs;
	c.next_doc += w->n_docs;
	c.n_passages += w->n_pass;
	c.total_length += w->total_length;
	c.n_postings += w->n_postings;
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
