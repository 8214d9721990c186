/*
** search.c — query evaluation and BM25F ranking of passages.
**
** The query is analysed by the same chain as the documents; its distinct
** terms (stop words dropped unless nothing else is left) each get a cursor
** over their postings blocks. Evaluation is document-at-a-time: the cursors
** advance together in passage-id order, each passage that matches any term is
** scored once and offered to a bounded min-heap of the best offset+limit, so
** no list of all matches is ever sorted. With FURET_SEARCH_BEST_PER_DOC the
** passages of a document, being consecutive ids, collapse to their best one
** before they reach the heap.
**
** Scoring is BM25F with three fields: the passage body (length-normalised
** with b against the average passage length), and the document title and
** the passage section, which are short and so not length-normalised, added
** to the term frequency with weights w_title and w_section:
**
**   tf' = tf_body / (1 - b + b * len / avglen) + w_title * tf_title
**         + w_section * tf_section
**   score = sum over query terms of idf * tf' * (k1 + 1) / (tf' + k1)
**   idf = ln(1 + (N - df + 0.5) / (df + 0.5))
**
** N and df count passages. Ties are broken by the lower passage id, so
** results are deterministic.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "index.h"
#include "snippet.h"
#include "store.h"
#include "util.h"

typedef struct hit_rec {
	double score;
	uint32_t pid;
	size_t doc_off, title_off, sec_off, text_off; /* in arena; sec_off 0: none */
	size_t text_len;
	uint32_t number;
	uint64_t start, end;
	size_t hl_first, n_hl; /* in spans */
	furet_span snippet;
} hit_rec;

struct furet_results {
	hit_rec *hits;
	size_t n;
	uint64_t matched;
	unsigned offset;
	int has_text;
	furet_buf arena;
	furet_buf spans;
};

/* A query word and the index terms it reaches: its own term (weight 1),
** and the terms that share its accent-free key (weight w_fold), whose
** frequencies add up as one term of BM25F (like a synonym group). */
typedef struct qgroup {
	size_t fold_off;   /* the accent-free key, in the plan arena */
	double idf;        /* from the largest df among its terms */
	uint64_t df;
	double tf, tt, ts; /* weighted frequencies in the current passage */
	int is_hit;
} qgroup;

/* One index term being read: a cursor over its postings blocks. */
typedef struct qcursor {
	size_t term_off;   /* in the plan arena */
	const char *term;  /* set once the arena stops moving */
	size_t len;
	uint32_t group;
	double weight;
	int is_own;        /* the query word's own term (not an accent variant) */
	uint32_t n_blocks, block, i;
	int is_done;
	furet_block *blk;
} qcursor;

typedef struct heap_item {
	double score;
	uint32_t pid;
} heap_item;

FURET_API void furet_search_options_init(furet_search_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
	o->limit = 10;
	o->k1 = 1.2;
	o->b = 0.3;
	o->w_title = 0.5;
	o->w_section = 0.5;
	o->w_fold = 0.7;
}

/* a is worse than b: lower score, or equal score and higher id. */
static int worse(const heap_item *a, const heap_item *b)
{
	return a->score < b->score || (a->score == b->score && a->pid > b->pid);
}

static void heap_offer(heap_item *h, size_t *n, size_t cap, heap_item x)
{
	size_t i, c;

	if (*n < cap) {
		i = (*n)++;
		while (i > 0 && worse(&x, &h[(i - 1) / 2])) {
			h[i] = h[(i - 1) / 2];
			i = (i - 1) / 2;
		}
		h[i] = x;
		return;
	}
	if (!cap || !worse(&h[0], &x))
		return;
	i = 0;
	for (;;) {
		c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && worse(&h[c + 1], &h[c]))
			c++;
		if (!worse(&h[c], &x))
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = x;
}

static int best_first(const void *a, const void *b)
{
	const heap_item *x = a, *y = b;
	if (worse(y, x))
		return -1;
	if (worse(x, y))
		return 1;
	return 0;
}

static furet_rc load_block(furet_txn *t, qcursor *q, unsigned char *key)
{
	furet_val v;
	size_t klen = furet_block_key(key, q->term, q->len, q->block);
	furet_rc rc = furet_txn_get(t, FURET_T_POSTINGS, key, klen, &v);

	if (rc == FURET_DONE)
		return FURET_CORRUPT;
	if (rc)
		return rc;
	q->i = 0;
	return furet_block_decode(v, q->blk);
}

static furet_rc advance(furet_txn *t, qcursor *q, unsigned char *key)
{
	if (++q->i < q->blk->n)
		return FURET_OK;
	if (++q->block >= q->n_blocks) {
		q->is_done = 1;
		return FURET_OK;
	}
	return load_block(t, q, key);
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* Copies the fields of passage pid into the results. */
static furet_rc fetch_hit(furet_results *r, furet_txn *t, hit_rec *h,
	furet_analyzer *an, const char *const *terms, size_t n_terms)
{
	unsigned char k4[4], d4[4];
	furet_passage_rec p;
	furet_doc_rec d;
	furet_val v;
	furet_rc rc;

	furet_put_u32be(k4, h->pid);
	if ((rc = furet_txn_get(t, FURET_T_PASSAGES, k4, 4, &v)))
		return rc == FURET_DONE ? FURET_CORRUPT : rc;
	if ((rc = furet_passage_rec_decode(v, &p)))
		return rc;
	furet_put_u32be(d4, p.doc);
	if ((rc = furet_txn_get(t, FURET_T_DOCS, d4, 4, &v)))
		return rc == FURET_DONE ? FURET_CORRUPT : rc;
	if ((rc = furet_doc_rec_decode(v, &d)))
		return rc;
	h->number = p.number;
	h->start = p.start;
	h->end = p.end;
	h->doc_off = r->arena.len;
	furet_buf_append(&r->arena, d.id, d.id_len);
	furet_buf_putc(&r->arena, 0);
	h->title_off = r->arena.len;
	furet_buf_append(&r->arena, d.title, d.title_len);
	furet_buf_putc(&r->arena, 0);
	h->sec_off = 0;
	if (p.section) {
		h->sec_off = r->arena.len;
		furet_buf_append(&r->arena, p.section, p.section_len);
		furet_buf_putc(&r->arena, 0);
	}
	h->text_len = 0;
	h->n_hl = 0;
	h->hl_first = r->spans.len / sizeof(furet_span);
	if (r->has_text) {
		if ((rc = furet_txn_get(t, FURET_T_TEXT, k4, 4, &v)))
			return rc == FURET_DONE ? FURET_CORRUPT : rc;
		if (furet_utf8_valid((const char *)v.data, v.len) != v.len)
			return FURET_CORRUPT;
		h->text_off = r->arena.len;
		h->text_len = v.len;
		furet_buf_append(&r->arena, v.data, v.len);
		furet_buf_putc(&r->arena, 0);
		rc = furet_snippet_highlights(an, (const char *)v.data, v.len, terms,
			n_terms, &r->spans, &h->n_hl);
		if (rc)
			return rc;
		h->snippet = furet_snippet_window((const char *)v.data, v.len,
			(const furet_span *)r->spans.data + h->hl_first, h->n_hl, 240);
	}
	return r->arena.has_err ? FURET_NOMEM : FURET_OK;
}

/* The plan of a query: its groups and cursors, strings in one arena. */
typedef struct plan {
	qgroup *groups;
	size_t n_groups, cap_groups;
	qcursor *curs;
	size_t n_curs, cap_curs;
	furet_buf arena;
	const char **terms; /* every cursor's term, for the highlights */
} plan;

static int plan_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t c = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = furet_realloc(*p, c * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

static void plan_free(plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n_curs; i++)
		furet_free(pl->curs[i].blk);
	furet_free(pl->groups);
	furet_free(pl->curs);
	furet_free(pl->terms);
	furet_buf_free(&pl->arena);
}

static const char *arena_str(const plan *pl, size_t off)
{
	return (const char *)pl->arena.data + off;
}

/* Adds term (to group g) as a candidate cursor unless the group has it. */
static int plan_candidate(plan *pl, uint32_t g, const char *term, size_t len,
	int is_own, double weight)
{
	size_t i;
	qcursor *c;

	if (len == 0 || len > 255 || memchr(term, 0, len))
		return 0;
	for (i = 0; i < pl->n_curs; i++) {
		c = &pl->curs[i];
		if (c->group == g && c->len == len &&
			memcmp(arena_str(pl, c->term_off), term, len) == 0) {
			if (is_own && !c->is_own) {
				c->is_own = 1;
				c->weight = 1.0;
			}
			return 0;
		}
	}
	if (plan_grow((void **)&pl->curs, &pl->cap_curs, pl->n_curs + 1,
		sizeof *pl->curs))
		return -1;
	c = &pl->curs[pl->n_curs];
	memset(c, 0, sizeof *c);
	c->term_off = pl->arena.len;
	c->len = len;
	c->group = g;
	c->is_own = is_own;
	c->weight = is_own ? 1.0 : weight;
	c->is_done = 1;
	furet_buf_append(&pl->arena, term, len);
	furet_buf_putc(&pl->arena, 0);
	if (pl->arena.has_err)
		return -1;
	pl->n_curs++;
	return 0;
}

/* Groups the query tokens by accent-free key; each token's own term is a
** candidate of its group. Stop words are left out unless nothing else is. */
static furet_rc plan_tokens(plan *pl, const furet_token *toks, size_t n)
{
	size_t i, g;
	int has_content = 0;

	for (i = 0; i < n; i++)
		if (!(toks[i].flags & FURET_TOK_STOP))
			has_content = 1;
	for (i = 0; i < n; i++) {
		const furet_token *t = &toks[i];
		if (has_content && (t->flags & FURET_TOK_STOP))
			continue;
		for (g = 0; g < pl->n_groups; g++)
			if (strcmp(arena_str(pl, pl->groups[g].fold_off), t->fold) == 0)
				break;
		if (g == pl->n_groups) {
			if (plan_grow((void **)&pl->groups, &pl->cap_groups,
				pl->n_groups + 1, sizeof *pl->groups))
				return FURET_NOMEM;
			memset(&pl->groups[g], 0, sizeof pl->groups[g]);
			pl->groups[g].fold_off = pl->arena.len;
			furet_buf_append(&pl->arena, t->fold, t->fold_len + 1);
			pl->n_groups++;
		}
		if (plan_candidate(pl, (uint32_t)g, t->term, t->term_len, 1, 1.0) ||
			pl->arena.has_err)
			return FURET_NOMEM;
	}
	return FURET_OK;
}

/* Adds the accent variants of each group (its key itself, and the terms
** the folds table lists for it), then opens a cursor on every candidate
** that is in the index and computes the groups' idf. */
static furet_rc plan_open(plan *pl, furet_txn *t, double w_fold,
	uint64_t n_passages, unsigned char *key)
{
	furet_cursor *cur = NULL;
	size_t g, i, n_groups = pl->n_groups;
	furet_rc rc = FURET_OK;

	for (g = 0; g < n_groups; g++) {
		char fold[260];
		size_t flen = strlen(arena_str(pl, pl->groups[g].fold_off));
		furet_val k, v;

		if (flen == 0 || flen > 255)
			continue;
		memcpy(fold, arena_str(pl, pl->groups[g].fold_off), flen + 1);
		if (plan_candidate(pl, (uint32_t)g, fold, flen, 0, w_fold))
			return FURET_NOMEM;
		if ((rc = furet_cursor_open(t, FURET_T_FOLDS, &cur)))
			return rc;
		/* Keys are "fold\0term": seek to "fold\0" and read while they match. */
		rc = furet_cursor_seek(cur, fold, flen + 1, &k, &v);
		for (; rc == FURET_OK; rc = furet_cursor_next(cur, &k, &v)) {
			if (k.len <= flen + 1 || memcmp(k.data, fold, flen + 1) != 0)
				break;
			if (plan_candidate(pl, (uint32_t)g,
				(const char *)k.data + flen + 1, k.len - flen - 1, 0, w_fold)) {
				rc = FURET_NOMEM;
				break;
			}
		}
		furet_cursor_close(cur);
		if (rc != FURET_OK && rc != FURET_DONE)
			return rc;
		rc = FURET_OK;
	}
	pl->terms = furet_malloc((pl->n_curs ? pl->n_curs : 1) * sizeof *pl->terms);
	if (!pl->terms)
		return FURET_NOMEM;
	for (i = 0; i < pl->n_curs; i++) {
		qcursor *c = &pl->curs[i];
		furet_term_rec tr;
		furet_val v;

		c->term = arena_str(pl, c->term_off);
		pl->terms[i] = c->term;
		rc = furet_txn_get(t, FURET_T_TERMS, c->term, c->len, &v);
		if (rc == FURET_DONE)
			continue;
		if (rc || (rc = furet_term_rec_decode(v, &tr)))
			return rc;
		if (tr.n_blocks == 0 || tr.df == 0)
			continue;
		if (tr.df > pl->groups[c->group].df)
			pl->groups[c->group].df = tr.df;
		c->n_blocks = tr.n_blocks;
		c->blk = furet_malloc(sizeof *c->blk);
		if (!c->blk)
			return FURET_NOMEM;
		c->is_done = 0;
		if ((rc = load_block(t, c, key)))
			return rc;
	}
	for (g = 0; g < pl->n_groups; g++) {
		double df = (double)pl->groups[g].df;
		pl->groups[g].idf = log(1.0 + ((double)n_passages - df + 0.5) /
			(df + 0.5));
	}
	return FURET_OK;
}

FURET_API furet_rc furet_search(furet_index *ix, const char *q, size_t q_len,
	const furet_search_options *opt, furet_results **out)
{
	furet_search_options o;
	furet_analyzer *an = NULL;
	furet_txn *t = NULL;
	furet_results *r = NULL;
	const furet_token *toks;
	plan pl;
	heap_item *heap = NULL;
	unsigned char key[512];
	furet_collection c;
	furet_val plen, pdoc;
	size_t n_toks = 0, n_heap = 0, cap, i, g;
	int is_collapse;
	double avglen;
	furet_rc rc;

	memset(&pl, 0, sizeof pl);
	furet_buf_init(&pl.arena);
	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!ix || (!q && q_len))
		return FURET_INVALID;
	if (opt)
		o = *opt;
	else
		furet_search_options_init(&o);
	if (!(o.k1 >= 0) || !(o.b >= 0 && o.b <= 1) || !(o.w_title >= 0) ||
		!(o.w_section >= 0) || !(o.w_fold >= 0 && o.w_fold <= 1) ||
		o.limit > 1000000 || o.offset > 1000000)
		return furet_index_fail(ix, FURET_INVALID, "invalid search options "
			"(k1 >= 0, 0 <= b <= 1, weights >= 0, 0 <= w_fold <= 1, limit "
			"and offset <= 10^6)");
	if (furet_utf8_valid(q ? q : "", q_len) != q_len)
		return furet_index_fail(ix, FURET_INVALID, "the query is not UTF-8");
	is_collapse = (o.flags & FURET_SEARCH_BEST_PER_DOC) != 0;

	r = furet_malloc(sizeof *r);
	if (!r)
		return FURET_NOMEM;
	memset(r, 0, sizeof *r);
	furet_buf_init(&r->arena);
	furet_buf_init(&r->spans);
	furet_buf_putc(&r->arena, 0); /* offset 0 means "none" */
	r->offset = o.offset;
	r->has_text = !(o.flags & FURET_SEARCH_NO_TEXT);

	if ((rc = furet_index_take_analyzer(ix, &an)))
		goto done;
	rc = furet_analyzer_run(an, q ? q : "", q_len, FURET_MODE_QUERY, &toks,
		&n_toks);
	if (!rc)
		rc = plan_tokens(&pl, toks, n_toks);
	if (rc)
		goto done;

	if ((rc = furet_store_begin(ix->store, 0, &t))) {
		furet_index_fail(ix, rc, "cannot read the index");
		goto done;
	}
	if ((rc = furet_store_get_collection(t, &c)))
		goto corrupt;
	if (c.n_passages == 0 || pl.n_groups == 0)
		goto finish;
	if ((rc = furet_txn_get(t, FURET_T_META, "plen", 4, &plen)) ||
		plen.len != c.n_passages * 4 ||
		(rc = furet_txn_get(t, FURET_T_META, "pdoc", 4, &pdoc)) ||
		pdoc.len != c.n_passages * 4) {
		rc = FURET_CORRUPT;
		goto corrupt;
	}
	avglen = (double)c.total_length / (double)c.n_passages;
	if (avglen <= 0)
		avglen = 1;
	if ((rc = plan_open(&pl, t, o.w_fold, c.n_passages, key)))
		goto corrupt;

	cap = (size_t)o.offset + o.limit;
	heap = furet_malloc((cap ? cap : 1) * sizeof *heap);
	if (!heap) {
		rc = FURET_NOMEM;
		goto done;
	}
	{
		heap_item best = { -1.0, 0 };
		uint32_t cur_doc = UINT32_MAX;

		for (;;) {
			uint32_t pid = UINT32_MAX, len;
			double score = 0, norm;
			int is_any = 0, is_scored = 0;

			for (i = 0; i < pl.n_curs; i++) {
				qcursor *cu = &pl.curs[i];
				if (!cu->is_done && cu->blk->pid[cu->i] <= pid) {
					pid = cu->blk->pid[cu->i];
					is_any = 1;
				}
			}
			if (!is_any)
				break;
			if (pid >= c.n_passages) {
				rc = FURET_CORRUPT;
				goto corrupt;
			}
			len = get_le32(plen.data + 4 * (size_t)pid);
			norm = 1.0 - o.b + o.b * (double)len / avglen;
			for (i = 0; i < pl.n_curs; i++) {
				qcursor *cu = &pl.curs[i];
				qgroup *gr;
				furet_block *b = cu->blk;
				if (cu->is_done || b->pid[cu->i] != pid)
					continue;
				gr = &pl.groups[cu->group];
				gr->tf += cu->weight * b->tf[cu->i];
				gr->tt += cu->weight * b->tf_title[cu->i];
				gr->ts += cu->weight * b->tf_section[cu->i];
				gr->is_hit = 1;
				if ((rc = advance(t, cu, key)))
					goto corrupt;
			}
			for (g = 0; g < pl.n_groups; g++) {
				qgroup *gr = &pl.groups[g];
				double tf;
				if (!gr->is_hit)
					continue;
				tf = gr->tf / norm + o.w_title * gr->tt +
					o.w_section * gr->ts;
				if (tf > 0) {
					score += gr->idf * tf * (o.k1 + 1.0) / (tf + o.k1);
					is_scored = 1;
				}
				gr->tf = gr->tt = gr->ts = 0;
				gr->is_hit = 0;
			}
			/* A match only through fields weighted 0 is no match. */
			if (!is_scored)
				continue;
			if (!is_collapse) {
				heap_item x = { score, pid };
				r->matched++;
				heap_offer(heap, &n_heap, cap, x);
				continue;
			}
			{
				uint32_t doc = get_le32(pdoc.data + 4 * (size_t)pid);
				heap_item x = { score, pid };
				if (doc != cur_doc) {
					if (cur_doc != UINT32_MAX)
						heap_offer(heap, &n_heap, cap, best);
					cur_doc = doc;
					best = x;
					r->matched++;
				} else if (worse(&best, &x)) {
					best = x;
				}
			}
		}
		if (is_collapse && cur_doc != UINT32_MAX)
			heap_offer(heap, &n_heap, cap, best);
	}
	qsort(heap, n_heap, sizeof *heap, best_first);

	if (n_heap > o.offset) {
		r->n = n_heap - o.offset;
		r->hits = furet_malloc(r->n * sizeof *r->hits);
		if (!r->hits) {
			rc = FURET_NOMEM;
			goto done;
		}
		memset(r->hits, 0, r->n * sizeof *r->hits);
		for (i = 0; i < r->n; i++) {
			hit_rec *h = &r->hits[i];
			h->score = heap[o.offset + i].score;
			h->pid = heap[o.offset + i].pid;
			if ((rc = fetch_hit(r, t, h, an, pl.terms, pl.n_curs)))
				goto corrupt;
		}
	}
finish:
	rc = FURET_OK;
	goto done;
corrupt:
	if (rc == FURET_NOMEM)
		goto done;
	if (rc == FURET_DONE || rc == FURET_OK)
		rc = FURET_CORRUPT;
	furet_index_fail(ix, rc, "reading the index failed (%s)%s%s",
		furet_strerror(rc), rc == FURET_CORRUPT ?
		": rebuild it with: furet index --rebuild" : "",
		furet_txn_errmsg(t));
done:
	furet_txn_abort(t);
	furet_index_give_analyzer(ix, an);
	plan_free(&pl);
	furet_free(heap);
	if (rc == FURET_OK && r->arena.has_err)
		rc = FURET_NOMEM;
	if (rc) {
		furet_results_free(r);
		return rc;
	}
	*out = r;
	return FURET_OK;
}

FURET_API size_t furet_results_count(const furet_results *r)
{
	return r ? r->n : 0;
}

FURET_API uint64_t furet_results_matched(const furet_results *r)
{
	return r ? r->matched : 0;
}

FURET_API furet_rc furet_results_get(const furet_results *r, size_t i,
	furet_hit *out)
{
	const hit_rec *h;
	const char *a;

	if (!r || !out || i >= r->n)
		return FURET_INVALID;
	h = &r->hits[i];
	a = (const char *)r->arena.data;
	memset(out, 0, sizeof *out);
	out->rank = r->offset + (unsigned)i + 1;
	out->score = h->score;
	out->doc = a + h->doc_off;
	out->title = a + h->title_off;
	out->section = h->sec_off ? a + h->sec_off : NULL;
	out->passage = h->number;
	out->start = (size_t)h->start;
	out->end = (size_t)h->end;
	if (r->has_text) {
		out->text = a + h->text_off;
		out->text_len = h->text_len;
		out->highlights = h->n_hl ?
			(const furet_span *)r->spans.data + h->hl_first : NULL;
		out->n_highlights = h->n_hl;
		out->snippet = h->snippet;
	}
	return FURET_OK;
}

FURET_API void furet_results_free(furet_results *r)
{
	if (!r)
		return;
	furet_free(r->hits);
	furet_buf_free(&r->arena);
	furet_buf_free(&r->spans);
	furet_free(r);
}
