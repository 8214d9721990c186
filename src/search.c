/*
** search.c — query evaluation and ranking of passages.
**
** A query (query.c parses it into a tree) becomes a plan: each leaf (word,
** prefix, phrase) is analysed by the same chain as the documents into
** groups, one per query term; each group reads one or more index terms
** through cursors over their postings blocks:
**
**   - the term itself (weight 1, "exact" or "stem" in explain);
**   - the terms that share its accent-free key (folds table; weight w_fold,
**     "accent"): "evenement" reaches "événement";
**   - for a prefix*, the most frequent terms that start so (terms and words
**     tables; at most max_expansions);
**   - for a word of 5+ letters the index does not have (or has once or twice
**     in a large index), the terms of the words within one typo (two from 9
**     letters), accents free (words table; weight w_typo, "typo"), and the
**     corrected query becomes the results' suggestion ("did you mean").
**
** A group's terms add their weighted frequencies as one term of BM25F.
** Evaluation is document-at-a-time: the cursors advance together in
** passage-id order; each passage that any cursor reaches is matched against
** the query tree (required, excluded, AND, OR, NOT, phrase positions, NEAR
** distances), scored once, and offered to a bounded min-heap of the best
** offset+limit, so no list of all matches is ever sorted. With
** FURET_SEARCH_BEST_PER_DOC the passages of a document, being consecutive
** ids, collapse to their best one before they reach the heap, and a
** document of several passages mixes in a document-level score (see
** doc_score).
**
** Scoring, for passage p of length len (words) with N passages of average
** length avglen:
**
**   tf'   = tf_body / (1 - b + b * len / avglen) + w_title * tf_title
**           + w_section * tf_section       (title:/section: use that field only)
**   score = sum over the groups of idf * tf' * (k1 + 1) / (tf' + k1)
**         + w_phrase * sum of the idf of a matched phrase's words
**           * pc * (k1 + 1) / (pc + k1), pc = its occurrences
**         + w_prox * sum over consecutive free-text query words a, b found
**           within 5 words of each other: min(idf_a, idf_b) / distance
**         + w_cover * (sum of the free-text words' idf) * c^2, c the share
**           of that idf the passage holds
**   idf   = ln(1 + (N - df + 0.5) / (df + 0.5)), df the group's largest
**
** N and df count passages. Ties go to the lower passage id, so results are
** deterministic. FURET_SEARCH_EXPLAIN scores the returned passages a second
** time, recording each part.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "index.h"
#include "query.h"
#include "snippet.h"
#include "store.h"
#include "textcodec.h"
#include "util.h"

#define PROX_WINDOW 5

enum { HOW_OWN, HOW_FOLD, HOW_PREFIX, HOW_TYPO };

typedef struct explain_rec {
	size_t word_off, term_off, how_off, field_off; /* in the results arena */
	double tf, score;
} explain_rec;

typedef struct hit_rec {
	double score;
	uint32_t pid;
	size_t doc_off, title_off, sec_off, text_off; /* in arena; sec_off 0: none */
	size_t text_len;
	uint32_t number;
	uint64_t start, end;
	size_t hl_first, n_hl; /* in spans */
	furet_span snippet;
	size_t ex_first, n_ex; /* in explains */
} hit_rec;

struct furet_results {
	hit_rec *hits;
	size_t n;
	uint64_t matched;
	unsigned offset;
	int has_text;
	size_t suggestion_off; /* 0: none */
	furet_buf arena;
	furet_buf spans;
	furet_buf explains;    /* explain_rec */
	furet_explain *ex_out; /* built by furet_results_get */
};

/* One index term being read: a cursor over its postings blocks, with the
** positions of the current block decoded when a phrase, NEAR or the
** proximity bonus asks for them. */
typedef struct qcursor {
	size_t term_off;   /* in the plan arena */
	const char *term;  /* set once the arena stops moving */
	size_t len;
	uint32_t group;
	double weight;
	int how;           /* HOW_* */
	uint32_t n_blocks, block, i;
	int is_done;
	furet_block *blk;
	int has_pos;       /* positions of this block decoded */
	uint32_t *pos;
	size_t cap_pos;
	uint32_t pos_off[FURET_BLOCK_SIZE + 1];
	int is_at;         /* on the passage being scored (at blk index i) */
} qcursor;

/* A query term and the index terms it reaches, scored as one BM25F term. */
typedef struct qgroup {
	size_t fold_off;   /* accent-free key, in the plan arena */
	size_t word_off;   /* the normalised query word, for "exact" */
	size_t label_off;  /* the query text of its leaf, for explain */
	uint32_t leaf;
	uint32_t qpos;     /* position of the term within its leaf */
	unsigned field;    /* FURET_QF_* */
	int is_scoring;    /* adds to the score (not under NOT, not excluded) */
	int is_prox;       /* a free-text word, for the proximity bonus */
	int is_compound;   /* from a compound's part or whole */
	int is_typo_candidate;
	size_t q_start, q_end; /* the word's bytes in the query (suggestions) */
	uint64_t df;
	double idf;
	/* the current passage */
	double tf, tt, ts;
	int is_hit;
	uint32_t *pos;     /* body positions, merged from its cursors */
	size_t n_pos, cap_pos;
	int has_pos;
	/* the current document, with one passage per document */
	double doc_tf, doc_tt;
} qgroup;

typedef struct qleaf {
	furet_qkind kind;
	unsigned field;
	uint32_t first_group, n_groups;
	int matched;       /* the current passage */
	uint32_t phrase_count;
} qleaf;

/* The query tree, flattened: children are ranges of `kids`. */
typedef struct enode {
	furet_qkind kind;
	int modifier;
	int leaf;          /* index in leaves, or -1 */
	unsigned distance;
	uint32_t first_kid, n_kids;
} enode;

typedef struct plan {
	qgroup *groups;
	size_t n_groups, cap_groups;
	qcursor *curs;
	size_t n_curs, cap_curs;
	qleaf *leaves;
	size_t n_leaves, cap_leaves;
	enode *nodes;
	size_t n_nodes, cap_nodes;
	uint32_t *kids;
	size_t n_kids, cap_kids;
	furet_buf arena;
	const char **terms;  /* the scoring cursors' terms, for highlights */
	size_t n_terms;
	int has_content;     /* the query has a word that is not a stop word */
	int has_typo;
	furet_buf suggestion;
} plan;

typedef struct heap_item {
	double score;
	uint32_t pid;
} heap_item;

/* What scoring one passage needs. */
typedef struct scorer {
	plan *pl;
	furet_txn *t;
	const furet_search_options *o;
	const unsigned char *plen;
	double avglen;
	double avgdlen;    /* average document length, for doc_score */
	unsigned char key[512];
} scorer;

FURET_API void furet_search_options_init(furet_search_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
	o->limit = 10;
	o->k1 = 1.2;
	o->b = 0.3;
	o->w_title = 3.0;
	o->w_section = 0.5;
	o->w_fold = 0.7;
	o->w_typo = 0.5;
	o->w_prox = 0.6;
	o->w_phrase = 1.0;
	o->w_doc = 0.6;
	o->w_cover = 0.6;
	o->b_doc = 1.0;
	o->max_expansions = 64;
}

/* ---- heap ------------------------------------------------------------------ */

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

static int by_pid(const void *a, const void *b)
{
	const heap_item *x = a, *y = b;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* ---- cursors ---------------------------------------------------------------- */

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
	q->has_pos = 0;
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

/* Moves q to its first posting >= pid, skipping whole blocks. */
static furet_rc seek(furet_txn *t, qcursor *q, uint32_t pid, unsigned char *key)
{
	furet_rc rc;

	while (!q->is_done && q->blk->pid[q->blk->n - 1] < pid) {
		if (++q->block >= q->n_blocks) {
			q->is_done = 1;
			return FURET_OK;
		}
		if ((rc = load_block(t, q, key)))
			return rc;
	}
	while (!q->is_done && q->blk->pid[q->i] < pid)
		if ((rc = advance(t, q, key)))
			return rc;
	return FURET_OK;
}

static furet_rc rewind_cursor(furet_txn *t, qcursor *q, unsigned char *key)
{
	if (!q->blk)
		return FURET_OK;
	q->block = 0;
	q->is_done = 0;
	return load_block(t, q, key);
}

/* Decodes the positions of q's current block (see store.c: per posting, a
** count then that many deltas). */
static furet_rc load_positions(furet_txn *t, qcursor *q, unsigned char *key)
{
	furet_val v;
	size_t klen = furet_block_key(key, q->term, q->len, q->block), n = 0;
	const unsigned char *p, *end;
	uint32_t k;
	furet_rc rc = furet_txn_get(t, FURET_T_POSITIONS, key, klen, &v);

	if (rc)
		return rc == FURET_DONE ? FURET_CORRUPT : rc;
	p = v.data;
	end = v.data + v.len;
	for (k = 0; k < q->blk->n; k++) {
		uint64_t cnt, d, at = 0, j;
		size_t m = furet_get_varint(p, end, &cnt);
		if (!m || cnt != q->blk->tf[k] || cnt > (uint64_t)(end - p))
			return FURET_CORRUPT;
		p += m;
		q->pos_off[k] = (uint32_t)n;
		if (n + cnt > q->cap_pos) {
			size_t cap = (n + cnt) * 2;
			uint32_t *np = furet_realloc(q->pos, cap * sizeof *np);
			if (!np)
				return FURET_NOMEM;
			q->pos = np;
			q->cap_pos = cap;
		}
		for (j = 0; j < cnt; j++) {
			m = furet_get_varint(p, end, &d);
			if (!m || at + d > UINT32_MAX)
				return FURET_CORRUPT;
			p += m;
			at += d;
			q->pos[n++] = (uint32_t)at;
		}
	}
	q->pos_off[q->blk->n] = (uint32_t)n;
	q->has_pos = 1;
	return FURET_OK;
}

static uint32_t get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

/* ---- plan ---------------------------------------------------------------------- */

static void plan_free(plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n_curs; i++) {
		furet_free(pl->curs[i].blk);
		furet_free(pl->curs[i].pos);
	}
	for (i = 0; i < pl->n_groups; i++)
		furet_free(pl->groups[i].pos);
	furet_free(pl->groups);
	furet_free(pl->curs);
	furet_free(pl->leaves);
	furet_free(pl->nodes);
	furet_free(pl->kids);
	furet_free(pl->terms);
	furet_buf_free(&pl->arena);
	furet_buf_free(&pl->suggestion);
}

static const char *astr(const plan *pl, size_t off)
{
	return (const char *)pl->arena.data + off;
}

static size_t arena_put(plan *pl, const void *s, size_t len)
{
	size_t off = pl->arena.len;
	furet_buf_append(&pl->arena, s, len);
	furet_buf_putc(&pl->arena, 0);
	return off;
}

/* Adds term to group g unless the group reads it already. */
static int add_cursor(plan *pl, uint32_t g, const char *term, size_t len,
	int how, double weight)
{
	size_t i;
	qcursor *c;

	if (len == 0 || len > 255 || memchr(term, 0, len))
		return 0;
	for (i = 0; i < pl->n_curs; i++) {
		c = &pl->curs[i];
		if (c->group == g && c->len == len &&
			memcmp(astr(pl, c->term_off), term, len) == 0) {
			if (weight > c->weight) {
				c->weight = weight;
				c->how = how;
			}
			return 0;
		}
	}
	if (furet_grow((void **)&pl->curs, &pl->cap_curs, pl->n_curs + 1,
		sizeof *pl->curs))
		return -1;
	c = &pl->curs[pl->n_curs];
	memset(c, 0, sizeof *c);
	c->term_off = arena_put(pl, term, len);
	c->len = len;
	c->group = g;
	c->how = how;
	c->weight = weight;
	c->is_done = 1;
	if (pl->arena.has_err)
		return -1;
	pl->n_curs++;
	return 0;
}

typedef struct build_ctx {
	plan *pl;
	furet_analyzer *an;
	const char *q;
	int is_negative;   /* under NOT or an excluded clause */
} build_ctx;

static int64_t add_group(plan *pl, uint32_t leaf, const furet_token *t,
	unsigned field, int is_scoring, size_t label_off, size_t q_start,
	size_t q_end)
{
	qgroup *g;

	if (furet_grow((void **)&pl->groups, &pl->cap_groups, pl->n_groups + 1,
		sizeof *pl->groups))
		return -1;
	g = &pl->groups[pl->n_groups];
	memset(g, 0, sizeof *g);
	g->fold_off = arena_put(pl, t->fold, t->fold_len);
	g->word_off = arena_put(pl, t->word, t->word_len);
	g->label_off = label_off;
	g->leaf = leaf;
	g->field = field;
	g->is_scoring = is_scoring;
	g->is_compound = (t->flags & (FURET_TOK_PART | FURET_TOK_WHOLE)) != 0;
	g->q_start = q_start;
	g->q_end = q_end;
	if (pl->arena.has_err)
		return -1;
	return (int64_t)pl->n_groups++;
}

/* Words that ask rather than say: in a free-text query ("Pourquoi la tour
** Eiffel est-elle haute ?") they name nothing the answer contains, so they
** are dropped like stop words (from queries only: the index keeps them). */
static int is_question_word(const furet_token *t)
{
	static const char *const words[] = { "combien", "comment", "pourquoi" };
	size_t i;

	for (i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcmp(t->word, words[i]) == 0)
			return 1;
	return 0;
}

/* Does leaf already have a group for t's term? */
static int has_term(const plan *pl, uint32_t leaf, const furet_token *t)
{
	const qleaf *lf = &pl->leaves[leaf];
	size_t i;

	for (i = 0; i < pl->n_curs; i++) {
		const qcursor *c = &pl->curs[i];
		if (c->group >= lf->first_group &&
			c->group < lf->first_group + lf->n_groups && c->how == HOW_OWN &&
			c->len == t->term_len &&
			memcmp(astr(pl, c->term_off), t->term, t->term_len) == 0)
			return 1;
	}
	return 0;
}

/* Analyses a leaf and adds its groups. Free-text words drop stop words
** when the query has anything else; phrases keep them (positions). */
static furet_rc build_leaf(build_ctx *bc, const furet_qnode *n, unsigned field,
	int is_free)
{
	plan *pl = bc->pl;
	const furet_token *toks;
	size_t nt, i;
	uint32_t leaf = (uint32_t)pl->n_leaves, base_pos = 0;
	size_t label_off;
	furet_rc rc;
	qleaf *lf;

	if (furet_grow((void **)&pl->leaves, &pl->cap_leaves, pl->n_leaves + 1,
		sizeof *pl->leaves))
		return FURET_NOMEM;
	lf = &pl->leaves[leaf];
	memset(lf, 0, sizeof *lf);
	lf->kind = n->kind;
	lf->field = field;
	lf->first_group = (uint32_t)pl->n_groups;
	pl->n_leaves++;
	label_off = arena_put(pl, bc->q + n->start, n->end - n->start);
	rc = furet_analyzer_run(bc->an, bc->q + n->start, n->end - n->start,
		FURET_MODE_QUERY, &toks, &nt);
	if (rc)
		return rc;
	for (i = 0; i < nt; i++) {
		const furet_token *t = &toks[i];
		int64_t g;

		if (n->kind == FURET_Q_PHRASE && (t->flags & FURET_TOK_WHOLE))
			continue; /* the parts carry the phrase's positions */
		if (n->kind != FURET_Q_PHRASE && is_free && pl->has_content &&
			((t->flags & FURET_TOK_STOP) || is_question_word(t)))
			continue;
		if (n->kind == FURET_Q_WORD && has_term(pl, leaf, t)) {
			continue; /* a repeated query word counts once */
		}
		if (pl->leaves[leaf].n_groups == 0)
			base_pos = t->pos;
		/* Explain names a word by its own text in the query; a phrase or
		** a prefix by the leaf's. */
		g = add_group(pl, leaf, t, field, !bc->is_negative,
			n->kind == FURET_Q_WORD ? arena_put(pl, bc->q + n->start +
			t->start - t->elision_len, t->end - t->start + t->elision_len) :
			label_off, n->start + t->start - t->elision_len,
			n->start + t->end);
		if (g < 0)
			return FURET_NOMEM;
		pl->groups[g].qpos = t->pos - base_pos;
		pl->groups[g].is_prox = is_free && n->kind == FURET_Q_WORD &&
			!(t->flags & (FURET_TOK_STOP | FURET_TOK_PART)) && !bc->is_negative;
		pl->groups[g].is_typo_candidate = n->kind == FURET_Q_WORD &&
			!(t->flags & (FURET_TOK_STOP | FURET_TOK_NUMBER));
		if (n->kind == FURET_Q_PREFIX) {
			/* Expansions are added when the index is open. */
			pl->leaves[leaf].n_groups++;
			break;
		}
		if (add_cursor(pl, (uint32_t)g, t->term, t->term_len, HOW_OWN, 1.0))
			return FURET_NOMEM;
		pl->leaves[leaf].n_groups++;
	}
	return pl->arena.has_err ? FURET_NOMEM : FURET_OK;
}

static int is_plain_word(const furet_qnode *n, unsigned field)
{
	return n->kind == FURET_Q_WORD && n->modifier == FURET_QM_NONE &&
		(n->field == FURET_QF_ANY || n->field == field);
}

/* Flattens the parse tree into enodes, making leaves on the way. */
static int64_t build_node(build_ctx *bc, const furet_qnode *n, unsigned field,
	int is_free)
{
	plan *pl = bc->pl;
	int was_negative = bc->is_negative;
	uint32_t idx, first, n_kids;
	size_t k;
	enode *e;
	furet_rc rc;

	if (furet_grow((void **)&pl->nodes, &pl->cap_nodes, pl->n_nodes + 1,
		sizeof *pl->nodes))
		return -1;
	idx = (uint32_t)pl->n_nodes++;
	e = &pl->nodes[idx];
	memset(e, 0, sizeof *e);
	e->kind = n->kind;
	e->modifier = n->modifier;
	e->distance = n->distance;
	e->leaf = -1;
	if (n->field != FURET_QF_ANY)
		field = n->field;
	if (n->modifier == FURET_QM_EXCLUDED || n->kind == FURET_Q_NOT)
		bc->is_negative = 1;
	if (n->kind == FURET_Q_WORD || n->kind == FURET_Q_PREFIX ||
		n->kind == FURET_Q_PHRASE) {
		pl->nodes[idx].leaf = (int)pl->n_leaves;
		rc = build_leaf(bc, n, field, is_free && n->modifier == FURET_QM_NONE);
		bc->is_negative = was_negative;
		return rc ? -1 : (int64_t)idx;
	}
	/* Children: their enode indices are kept in kids, contiguous. In an OR,
	** a run of plain words is analysed as one text, so that what spans
	** words stays whole: "1 002 758,20", and positions for proximity. */
	first = (uint32_t)pl->n_kids;
	if (furet_grow((void **)&pl->kids, &pl->cap_kids,
		pl->n_kids + n->n_children, sizeof *pl->kids))
		return -1;
	pl->n_kids += n->n_children;
	n_kids = 0;
	for (k = 0; k < n->n_children; k++) {
		const furet_qnode *ch = n->children[k];
		int64_t c;
		if (n->kind == FURET_Q_OR && is_plain_word(ch, field)) {
			furet_qnode run = *ch;
			while (k + 1 < n->n_children &&
				is_plain_word(n->children[k + 1], field))
				run.end = n->children[++k]->end;
			c = build_node(bc, &run, field, is_free);
		} else {
			c = build_node(bc, ch, field, is_free && n->kind == FURET_Q_OR);
		}
		if (c < 0)
			return -1;
		pl->kids[first + n_kids++] = (uint32_t)c;
	}
	pl->n_kids = first + n_kids;
	pl->nodes[idx].first_kid = first;
	pl->nodes[idx].n_kids = n_kids;
	bc->is_negative = was_negative;
	return (int64_t)idx;
}

/* Does the query have a free-text word that is not a stop word? */
static furet_rc scan_content(build_ctx *bc, const furet_qnode *n)
{
	const furet_token *toks;
	size_t nt, i, k;
	furet_rc rc;

	if (n->kind == FURET_Q_WORD || n->kind == FURET_Q_PREFIX ||
		n->kind == FURET_Q_PHRASE) {
		rc = furet_analyzer_run(bc->an, bc->q + n->start, n->end - n->start,
			FURET_MODE_QUERY, &toks, &nt);
		if (rc)
			return rc;
		for (i = 0; i < nt; i++)
			if (!(toks[i].flags & FURET_TOK_STOP))
				bc->pl->has_content = 1;
		return FURET_OK;
	}
	for (k = 0; k < n->n_children && !bc->pl->has_content; k++)
		if ((rc = scan_content(bc, n->children[k])))
			return rc;
	return FURET_OK;
}

/* ---- expansions: accents, prefixes, typos -------------------------------- */

/* Adds the terms the folds table lists under the group's accent-free key,
** and the key itself, as accent variants. */
static furet_rc add_accent_variants(plan *pl, furet_txn *t, uint32_t g,
	double w_fold)
{
	furet_cursor *cur = NULL;
	char fold[260];
	size_t flen = strlen(astr(pl, pl->groups[g].fold_off));
	furet_val k, v;
	furet_rc rc;

	if (flen == 0 || flen > 255)
		return FURET_OK;
	memcpy(fold, astr(pl, pl->groups[g].fold_off), flen + 1);
	if (add_cursor(pl, g, fold, flen, HOW_FOLD, w_fold))
		return FURET_NOMEM;
	if ((rc = furet_cursor_open(t, FURET_T_FOLDS, &cur)))
		return rc;
	/* Keys are "fold\0term": seek to "fold\0" and read while they match. */
	rc = furet_cursor_seek(cur, fold, flen + 1, &k, &v);
	for (; rc == FURET_OK; rc = furet_cursor_next(cur, &k, &v)) {
		if (k.len <= flen + 1 || memcmp(k.data, fold, flen + 1) != 0)
			break;
		if (add_cursor(pl, g, (const char *)k.data + flen + 1,
			k.len - flen - 1, HOW_FOLD, w_fold)) {
			rc = FURET_NOMEM;
			break;
		}
	}
	furet_cursor_close(cur);
	return rc == FURET_DONE || rc == FURET_OK ? FURET_OK : rc;
}

typedef struct cand {
	size_t off;   /* term in a scratch buffer */
	size_t len;
	uint64_t df;
} cand;

static int by_df_desc(const void *a, const void *b)
{
	const cand *x = a, *y = b;
	return x->df > y->df ? -1 : x->df < y->df;
}

static furet_rc term_df(furet_txn *t, const void *term, size_t len,
	uint64_t *df)
{
	furet_term_rec tr;
	furet_val v;
	furet_rc rc = furet_txn_get(t, FURET_T_TERMS, term, len, &v);

	*df = 0;
	if (rc == FURET_DONE)
		return FURET_OK;
	if (rc || (rc = furet_term_rec_decode(v, &tr)))
		return rc;
	*df = tr.df;
	return FURET_OK;
}

/* Collects, from table tab, the terms of keys that start with prefix
** (terms table: the key is the term; words table: "word\0term"). */
static furet_rc collect_prefix(furet_txn *t, furet_table tab, const char *prefix,
	size_t plen, furet_buf *names, cand **cands, size_t *n, size_t *cap)
{
	furet_cursor *cur = NULL;
	furet_val k, v;
	size_t scanned = 0;
	furet_rc rc;

	if ((rc = furet_cursor_open(t, tab, &cur)))
		return rc;
	rc = furet_cursor_seek(cur, prefix, plen, &k, &v);
	for (; rc == FURET_OK && scanned < 100000;
		rc = furet_cursor_next(cur, &k, &v), scanned++) {
		const unsigned char *term = k.data;
		size_t tl = k.len, i;

		if (k.len < plen || memcmp(k.data, prefix, plen) != 0)
			break;
		if (tab == FURET_T_WORDS) {
			const unsigned char *z = memchr(k.data, 0, k.len);
			if (!z)
				continue;
			term = z + 1;
			tl = k.len - (size_t)(term - k.data);
		}
		for (i = 0; i < *n; i++)
			if ((*cands)[i].len == tl &&
				memcmp(names->data + (*cands)[i].off, term, tl) == 0)
				break;
		if (i < *n)
			continue;
		if (furet_grow((void **)cands, cap, *n + 1, sizeof **cands)) {
			rc = FURET_NOMEM;
			break;
		}
		(*cands)[*n].off = names->len;
		(*cands)[*n].len = tl;
		furet_buf_append(names, term, tl);
		(*n)++;
	}
	furet_cursor_close(cur);
	if (names->has_err)
		return FURET_NOMEM;
	return rc == FURET_DONE || rc == FURET_OK ? FURET_OK : rc;
}

/* A prefix* reaches the terms that start with its stem, and the terms of
** the words that start with it (accents removed); the max most frequent. */
static furet_rc add_prefix_terms(plan *pl, furet_txn *t, uint32_t g,
	unsigned max)
{
	furet_buf names, tmp;
	cand *cands = NULL;
	size_t n = 0, cap = 0, i;
	const char *word = astr(pl, pl->groups[g].word_off);
	furet_rc rc;

	furet_buf_init(&names);
	furet_buf_init(&tmp);
	furet_unaccent(word, strlen(word), &tmp);
	if (tmp.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	/* The stem of the typed prefix: its fold key is the stem of the
	** accent-free prefix ("numéri" -> "numer"). */
	rc = collect_prefix(t, FURET_T_TERMS, astr(pl, pl->groups[g].fold_off),
		strlen(astr(pl, pl->groups[g].fold_off)), &names, &cands, &n, &cap);
	if (!rc && tmp.len)
		rc = collect_prefix(t, FURET_T_WORDS, (const char *)tmp.data, tmp.len,
			&names, &cands, &n, &cap);
	for (i = 0; !rc && i < n; i++)
		rc = term_df(t, names.data + cands[i].off, cands[i].len, &cands[i].df);
	if (rc)
		goto done;
	qsort(cands, n, sizeof *cands, by_df_desc);
	for (i = 0; i < n && i < max; i++) {
		if (add_cursor(pl, g, (const char *)names.data + cands[i].off,
			cands[i].len, HOW_PREFIX, 1.0)) {
			rc = FURET_NOMEM;
			goto done;
		}
	}
done:
	furet_free(cands);
	furet_buf_free(&names);
	furet_buf_free(&tmp);
	return rc;
}

/* Levenshtein distance between a and b if it is at most k, else k + 1;
** on bytes of accent-free text (so mostly letters). */
static size_t edit_distance(const unsigned char *a, size_t la,
	const unsigned char *b, size_t lb, size_t k)
{
	size_t row[64], i, j;

	if (la > 62 || lb > 62)
		return k + 1;
	if ((la > lb ? la - lb : lb - la) > k)
		return k + 1;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t prev = row[0], best;
		row[0] = i;
		best = row[0];
		for (j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t sub = prev + (a[i - 1] != b[j - 1]);
			size_t v = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 :
				row[j - 1] + 1;
			row[j] = v < sub ? v : sub;
			prev = cur;
			if (row[j] < best)
				best = row[j];
		}
		if (best > k)
			return k + 1;
	}
	return row[lb];
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* For a word the index lacks: the terms of the words within one edit (two
** from 9 letters), accents free, that start with the same letter. The
** nearest word with the most frequent term goes into the suggestion. */
static furet_rc add_typo_terms(plan *pl, furet_txn *t, uint32_t g,
	double w_typo, const char *q, furet_buf *sugg_word)
{
	const char *word = astr(pl, pl->groups[g].word_off);
	size_t chars = utf8_chars(word), k, best_d;
	furet_buf u, names;
	cand *cands = NULL;
	size_t n = 0, cap = 0, i, best = 0;
	size_t *dist = NULL, cap_dist = 0, word_cap = 0, *word_off = NULL;
	furet_cursor *cur = NULL;
	furet_val key, v;
	furet_rc rc;

	(void)q;
	if (chars < 5)
		return FURET_OK;
	k = chars >= 9 ? 2 : 1;
	best_d = k + 1;
	furet_buf_init(&u);
	furet_buf_init(&names);
	furet_unaccent(word, strlen(word), &u);
	if (u.has_err || u.len == 0) {
		rc = u.has_err ? FURET_NOMEM : FURET_OK;
		goto done;
	}
	if ((rc = furet_cursor_open(t, FURET_T_WORDS, &cur)))
		goto done;
	rc = furet_cursor_seek(cur, u.data, 1, &key, &v);
	for (; rc == FURET_OK; rc = furet_cursor_next(cur, &key, &v)) {
		const unsigned char *z;
		size_t wl, d;

		if (key.len == 0 || key.data[0] != u.data[0])
			break;
		z = memchr(key.data, 0, key.len);
		if (!z)
			continue;
		wl = (size_t)(z - key.data);
		d = edit_distance(u.data, u.len, key.data, wl, k);
		if (d > k || d == 0)
			continue;
		if (furet_grow((void **)&cands, &cap, n + 1, sizeof *cands) ||
			furet_grow((void **)&dist, &cap_dist, n + 1, sizeof *dist) ||
			furet_grow((void **)&word_off, &word_cap, n + 1,
				sizeof *word_off)) {
			rc = FURET_NOMEM;
			break;
		}
		word_off[n] = names.len;
		furet_buf_append(&names, key.data, wl);
		furet_buf_putc(&names, 0);
		cands[n].off = names.len;
		cands[n].len = key.len - wl - 1;
		furet_buf_append(&names, z + 1, cands[n].len);
		dist[n] = d;
		n++;
		if (n >= 256)
			break;
	}
	furet_cursor_close(cur);
	if (rc != FURET_OK && rc != FURET_DONE)
		goto done;
	rc = names.has_err ? FURET_NOMEM : FURET_OK;
	for (i = 0; !rc && i < n; i++) {
		rc = term_df(t, names.data + cands[i].off, cands[i].len, &cands[i].df);
		if (!rc && (dist[i] < best_d ||
			(dist[i] == best_d && cands[i].df > cands[best].df))) {
			best_d = dist[i];
			best = i;
		}
	}
	for (i = 0; !rc && i < n; i++)
		if (add_cursor(pl, g, (const char *)names.data + cands[i].off,
			cands[i].len, HOW_TYPO, w_typo))
			rc = FURET_NOMEM;
	if (!rc && n) {
		furet_buf_reset(sugg_word);
		furet_buf_puts(sugg_word, (const char *)names.data + word_off[best]);
		pl->has_typo = 1;
	}
done:
	furet_free(cands);
	furet_free(dist);
	furet_free(word_off);
	furet_buf_free(&u);
	furet_buf_free(&names);
	return rc;
}

/* Starts cursor c on its term's first block when the index has the term,
** and raises its group's df to the term's. */
static furet_rc open_cursor(plan *pl, furet_txn *t, qcursor *c,
	unsigned char *key)
{
	furet_term_rec tr;
	furet_val v;
	furet_rc rc;

	c->term = astr(pl, c->term_off);
	rc = furet_txn_get(t, FURET_T_TERMS, c->term, c->len, &v);
	if (rc == FURET_DONE)
		return FURET_OK;
	if (rc || (rc = furet_term_rec_decode(v, &tr)))
		return rc;
	if (tr.n_blocks == 0 || tr.df == 0)
		return FURET_OK;
	if (tr.df > pl->groups[c->group].df)
		pl->groups[c->group].df = tr.df;
	c->n_blocks = tr.n_blocks;
	c->blk = furet_malloc(sizeof *c->blk);
	if (!c->blk)
		return FURET_NOMEM;
	c->is_done = 0;
	return load_block(t, c, key);
}

/* Opens the plan on the index: expansions, then a cursor on every term the
** index has, the groups' idf, and the suggestion. */
static furet_rc plan_open(plan *pl, furet_txn *t, const furet_search_options *o,
	uint64_t n_passages, const char *q, unsigned char *key)
{
	size_t g, i, n_groups = pl->n_groups, at = 0;
	furet_buf sugg_word;
	furet_rc rc = FURET_OK;

	furet_buf_init(&sugg_word);
	for (g = 0; g < n_groups && !rc; g++) {
		if (pl->leaves[pl->groups[g].leaf].kind == FURET_Q_PREFIX)
			rc = add_prefix_terms(pl, t, (uint32_t)g,
				o->max_expansions ? o->max_expansions : 1);
		else
			rc = add_accent_variants(pl, t, (uint32_t)g, o->w_fold);
	}
	for (i = 0; !rc && i < pl->n_curs; i++)
		rc = open_cursor(pl, t, &pl->curs[i], key);
	/* Typos: words the index lacks (or barely has, in a large index). */
	for (g = 0; !rc && !(o->flags & FURET_SEARCH_NO_TYPO) && g < n_groups; g++) {
		qgroup *gr = &pl->groups[g];
		size_t first = pl->n_curs;
		if (!gr->is_typo_candidate || !gr->is_scoring ||
			!(gr->df == 0 || (gr->df <= 2 && n_passages >= 10000)))
			continue;
		if ((rc = add_typo_terms(pl, t, (uint32_t)g, o->w_typo, q,
			&sugg_word)))
			break;
		if (pl->has_typo && sugg_word.len && gr->df == 0 &&
			gr->q_start >= at && gr->q_end >= gr->q_start) {
			/* The suggestion: the query with this word replaced (words in
			** query order; a compound's parts lie inside its whole). */
			furet_buf_append(&pl->suggestion, q + at, gr->q_start - at);
			furet_buf_append(&pl->suggestion, sugg_word.data, sugg_word.len);
			at = gr->q_end;
		}
		for (i = first; !rc && i < pl->n_curs; i++)
			rc = open_cursor(pl, t, &pl->curs[i], key);
	}
	if (!rc && pl->suggestion.len)
		furet_buf_puts(&pl->suggestion, q + at);
	if (!rc && (pl->arena.has_err || pl->suggestion.has_err))
		rc = FURET_NOMEM;
	/* Every term string is final now: point at them. */
	for (i = 0; i < pl->n_curs; i++)
		pl->curs[i].term = astr(pl, pl->curs[i].term_off);
	for (g = 0; g < pl->n_groups; g++) {
		double df = (double)pl->groups[g].df;
		pl->groups[g].idf = log(1.0 + ((double)n_passages - df + 0.5) /
			(df + 0.5));
	}
	if (!rc) {
		pl->terms = furet_malloc((pl->n_curs ? pl->n_curs : 1) *
			sizeof *pl->terms);
		if (!pl->terms)
			rc = FURET_NOMEM;
		for (i = 0; !rc && i < pl->n_curs; i++)
			if (pl->groups[pl->curs[i].group].is_scoring)
				pl->terms[pl->n_terms++] = pl->curs[i].term;
	}
	furet_buf_free(&sugg_word);
	return rc;
}

/* ---- matching and scoring one passage ---------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The body positions of group g in the current passage (sorted). */
static furet_rc group_positions(scorer *sc, uint32_t g)
{
	plan *pl = sc->pl;
	qgroup *gr = &pl->groups[g];
	size_t i;
	furet_rc rc;

	if (gr->has_pos)
		return FURET_OK;
	gr->n_pos = 0;
	for (i = 0; i < pl->n_curs; i++) {
		qcursor *c = &pl->curs[i];
		uint32_t from, to;
		if (c->group != g || !c->is_at)
			continue;
		if (!c->has_pos && (rc = load_positions(sc->t, c, sc->key)))
			return rc;
		from = c->pos_off[c->i];
		to = c->pos_off[c->i + 1];
		if (to == from)
			continue; /* a title or section match has no body position */
		if (furet_grow((void **)&gr->pos, &gr->cap_pos,
			gr->n_pos + (to - from), sizeof *gr->pos))
			return FURET_NOMEM;
		memcpy(gr->pos + gr->n_pos, c->pos + from, (to - from) * sizeof *gr->pos);
		gr->n_pos += to - from;
	}
	if (gr->n_pos > 1)
		qsort(gr->pos, gr->n_pos, sizeof *gr->pos, cmp_u32);
	gr->has_pos = 1;
	return FURET_OK;
}

/* Occurrences of phrase leaf lf: start positions where each of its groups
** sits at its offset in the phrase. */
static furet_rc phrase_count(scorer *sc, qleaf *lf, uint32_t *count,
	uint32_t *first_pos)
{
	plan *pl = sc->pl;
	qgroup *g0 = &pl->groups[lf->first_group];
	uint32_t k, n = 0;
	size_t i;
	furet_rc rc;

	*count = 0;
	for (k = 0; k < lf->n_groups; k++)
		if ((rc = group_positions(sc, lf->first_group + k)))
			return rc;
	for (i = 0; i < g0->n_pos; i++) {
		uint32_t start = g0->pos[i] >= g0->qpos ? g0->pos[i] - g0->qpos : 0;
		int is_ok = g0->pos[i] >= g0->qpos;
		for (k = 1; is_ok && k < lf->n_groups; k++) {
			qgroup *g = &pl->groups[lf->first_group + k];
			uint32_t want = start + g->qpos;
			is_ok = bsearch(&want, g->pos, g->n_pos, sizeof *g->pos,
				cmp_u32) != NULL;
		}
		if (is_ok) {
			if (n == 0 && first_pos)
				*first_pos = start;
			n++;
		}
	}
	*count = n;
	return FURET_OK;
}

/* Smallest distance between two sorted position lists. */
static uint32_t min_distance(const uint32_t *a, size_t na, const uint32_t *b,
	size_t nb)
{
	size_t i = 0, j = 0;
	uint32_t best = UINT32_MAX;

	while (i < na && j < nb) {
		uint32_t d = a[i] > b[j] ? a[i] - b[j] : b[j] - a[i];
		if (d < best)
			best = d;
		if (a[i] < b[j])
			i++;
		else
			j++;
	}
	return best;
}

/* Whether group g counts as found in the current passage, given its field. */
static int group_found(const qgroup *g)
{
	if (!g->is_hit)
		return 0;
	if (g->field == FURET_QF_TITLE)
		return g->tt > 0;
	if (g->field == FURET_QF_SECTION)
		return g->ts > 0;
	return 1;
}

/* Leaf matches for the current passage. */
static furet_rc match_leaves(scorer *sc)
{
	plan *pl = sc->pl;
	size_t l;
	uint32_t k;
	furet_rc rc;

	for (l = 0; l < pl->n_leaves; l++) {
		qleaf *lf = &pl->leaves[l];
		int n_found = 0;
		for (k = 0; k < lf->n_groups; k++)
			n_found += group_found(&pl->groups[lf->first_group + k]);
		lf->phrase_count = 0;
		if (lf->kind != FURET_Q_PHRASE) {
			lf->matched = n_found > 0;
			continue;
		}
		lf->matched = lf->n_groups > 0 && n_found == (int)lf->n_groups;
		if (!lf->matched)
			continue;
		if (lf->field != FURET_QF_ANY || lf->n_groups == 1) {
			lf->phrase_count = 1;
			continue;
		}
		if ((rc = phrase_count(sc, lf, &lf->phrase_count, NULL)))
			return rc;
		lf->matched = lf->phrase_count > 0;
	}
	return FURET_OK;
}

/* The positions of a NEAR operand: those of its leaf's first group. */
static furet_rc leaf_positions(scorer *sc, int leaf, const uint32_t **pos,
	size_t *n)
{
	qleaf *lf = &sc->pl->leaves[leaf];
	qgroup *g;
	furet_rc rc;

	*n = 0;
	if (lf->n_groups == 0)
		return FURET_OK;
	if ((rc = group_positions(sc, lf->first_group)))
		return rc;
	g = &sc->pl->groups[lf->first_group];
	*pos = g->pos;
	*n = g->n_pos;
	return FURET_OK;
}

static furet_rc eval_node(scorer *sc, uint32_t idx, int *out)
{
	plan *pl = sc->pl;
	enode *e = &pl->nodes[idx];
	uint32_t k;
	int m, n_req = 0, any_opt = 0;
	furet_rc rc;

	if (e->leaf >= 0) {
		*out = pl->leaves[e->leaf].matched;
		return FURET_OK;
	}
	switch (e->kind) {
	case FURET_Q_NOT:
		if (e->n_kids == 0) {
			*out = 0;
			return FURET_OK;
		}
		if ((rc = eval_node(sc, pl->kids[e->first_kid], &m)))
			return rc;
		*out = !m;
		return FURET_OK;
	case FURET_Q_AND:
	case FURET_Q_NEAR:
		*out = e->n_kids > 0;
		for (k = 0; k < e->n_kids && *out; k++) {
			if ((rc = eval_node(sc, pl->kids[e->first_kid + k], &m)))
				return rc;
			*out = m;
		}
		if (*out && e->kind == FURET_Q_NEAR) {
			/* Each operand within distance of the previous one. */
			for (k = 1; k < e->n_kids && *out; k++) {
				enode *a = &pl->nodes[pl->kids[e->first_kid + k - 1]];
				enode *b = &pl->nodes[pl->kids[e->first_kid + k]];
				const uint32_t *pa = NULL, *pb = NULL;
				size_t na, nb;
				if (a->leaf < 0 || b->leaf < 0)
					continue; /* the parser makes AND of those */
				if ((rc = leaf_positions(sc, a->leaf, &pa, &na)) ||
					(rc = leaf_positions(sc, b->leaf, &pb, &nb)))
					return rc;
				*out = na && nb &&
					min_distance(pa, na, pb, nb) <= e->distance + 1;
			}
		}
		return FURET_OK;
	default: /* OR, with required and excluded children */
		for (k = 0; k < e->n_kids; k++) {
			enode *c = &pl->nodes[pl->kids[e->first_kid + k]];
			if (c->kind == FURET_Q_NOT && c->modifier == FURET_QM_NONE &&
				c->n_kids == 1) {
				/* "a NOT b" among free clauses: a, without b. */
				if ((rc = eval_node(sc, pl->kids[c->first_kid], &m)))
					return rc;
				if (m) {
					*out = 0;
					return FURET_OK;
				}
				continue;
			}
			if ((rc = eval_node(sc, pl->kids[e->first_kid + k], &m)))
				return rc;
			if (c->modifier == FURET_QM_EXCLUDED) {
				if (m) {
					*out = 0;
					return FURET_OK;
				}
			} else if (c->modifier == FURET_QM_REQUIRED) {
				if (!m) {
					*out = 0;
					return FURET_OK;
				}
				n_req++;
			} else if (m) {
				any_opt = 1;
			}
		}
		*out = n_req > 0 || any_opt;
		return FURET_OK;
	}
}

typedef struct part {
	uint32_t group;     /* or UINT32_MAX for a bonus */
	int kind;           /* 0 group, 1 phrase, 2 proximity, 3 coverage bonus */
	uint32_t leaf;
	double tf, score;
} part;

/* Scores the current passage (its groups gathered); parts, when not NULL,
** receive each contribution. */
static furet_rc score_passage(scorer *sc, uint32_t pid, double *score,
	int *is_scored, part *parts, size_t *n_parts)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
	uint32_t len = get_le32(sc->plen + 4 * (size_t)pid);
	double norm = 1.0 - o->b + o->b * (double)len / sc->avglen;
	size_t g, l;
	uint32_t prev = UINT32_MAX;
	furet_rc rc;

	*score = 0;
	*is_scored = 0;
	if (n_parts)
		*n_parts = 0;
	for (g = 0; g < pl->n_groups; g++) {
		qgroup *gr = &pl->groups[g];
		double tf, s;
		if (!gr->is_scoring || !group_found(gr))
			continue;
		if (gr->field == FURET_QF_TITLE)
			tf = gr->tt;
		else if (gr->field == FURET_QF_SECTION)
			tf = gr->ts;
		else
			tf = gr->tf / norm + o->w_title * gr->tt + o->w_section * gr->ts;
		if (!(tf > 0))
			continue;
		s = gr->idf * tf * (o->k1 + 1.0) / (tf + o->k1);
		*score += s;
		*is_scored = 1;
		if (parts) {
			part p = { (uint32_t)g, 0, gr->leaf, tf, s };
			parts[(*n_parts)++] = p;
		}
	}
	if (!*is_scored)
		return FURET_OK;
	/* Coverage bonus: a passage that holds more of the question's words
	** (weighted by idf) beats one that repeats a few of them. */
	if (o->w_cover > 0) {
		double got = 0, all = 0, s;
		for (g = 0; g < pl->n_groups; g++) {
			qgroup *gr = &pl->groups[g];
			if (!gr->is_scoring || !gr->is_prox)
				continue;
			all += gr->idf;
			if (group_found(gr))
				got += gr->idf;
		}
		if (all > 0 && got > 0) {
			s = o->w_cover * all * (got / all) * (got / all);
			*score += s;
			if (parts) {
				part p = { UINT32_MAX, 3, 0, got / all, s };
				parts[(*n_parts)++] = p;
			}
		}
	}
	/* Phrase bonus. */
	for (l = 0; l < pl->n_leaves; l++) {
		qleaf *lf = &pl->leaves[l];
		double idf = 0, pc = lf->phrase_count, s;
		uint32_t k;
		if (lf->kind != FURET_Q_PHRASE || !lf->matched || lf->n_groups < 2 ||
			!pl->groups[lf->first_group].is_scoring || o->w_phrase <= 0)
			continue;
		for (k = 0; k < lf->n_groups; k++)
			idf += pl->groups[lf->first_group + k].idf;
		s = o->w_phrase * idf * pc * (o->k1 + 1.0) / (pc + o->k1);
		*score += s;
		if (parts) {
			part p = { UINT32_MAX, 1, (uint32_t)l, pc, s };
			parts[(*n_parts)++] = p;
		}
	}
	/* Proximity bonus: consecutive free-text words of the query that the
	** passage has close together. */
	if (o->w_prox <= 0)
		return FURET_OK;
	for (g = 0; g < pl->n_groups; g++) {
		qgroup *gr = &pl->groups[g];
		if (!gr->is_prox || !gr->is_hit || gr->tf <= 0)
			continue;
		if (prev != UINT32_MAX) {
			qgroup *pg = &pl->groups[prev];
			uint32_t d;
			if ((rc = group_positions(sc, prev)) ||
				(rc = group_positions(sc, (uint32_t)g)))
				return rc;
			d = min_distance(pg->pos, pg->n_pos, gr->pos, gr->n_pos);
			if (d >= 1 && d <= PROX_WINDOW) {
				double s = o->w_prox * (pg->idf < gr->idf ? pg->idf : gr->idf) /
					(double)d;
				*score += s;
				if (parts) {
					part p = { (uint32_t)g, 2, gr->leaf, (double)d, s };
					parts[(*n_parts)++] = p;
				}
			}
		}
		prev = (uint32_t)g;
	}
	return FURET_OK;
}

/* With one passage per document: adds the passage's frequencies to its
** document's (the title counts once: it is the same for every passage). */
static void doc_accumulate(plan *pl)
{
	size_t g;

	for (g = 0; g < pl->n_groups; g++) {
		qgroup *gr = &pl->groups[g];
		if (!gr->is_scoring || !group_found(gr) || gr->field != FURET_QF_ANY)
			continue;
		gr->doc_tf += gr->tf;
		if (gr->tt > gr->doc_tt)
			gr->doc_tt = gr->tt;
	}
}

/* A document's score, from its best passage's: mixed, with weight w_doc,
** with BM25F over all its matching passages as one text (length-normalised
** with b_doc against the average document length), so that a page that
** speaks of the query throughout beats one with a single matching
** paragraph. A document of one passage keeps its passage's score. Clears
** the document's frequencies. */
static double doc_score(scorer *sc, uint32_t doc, const unsigned char *dlen,
	size_t n_docs, double best, double best_len)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
	double len = doc < n_docs ? get_le32(dlen + 4 * (size_t)doc) : sc->avgdlen;
	double norm = 1.0 - o->b_doc + o->b_doc * len / sc->avgdlen, s = 0;
	size_t g;

	for (g = 0; g < pl->n_groups; g++) {
		qgroup *gr = &pl->groups[g];
		double tf = gr->doc_tf / norm + o->w_title * gr->doc_tt;
		if (tf > 0)
			s += gr->idf * tf * (o->k1 + 1.0) / (tf + o->k1);
		gr->doc_tf = gr->doc_tt = 0;
	}
	/* A document of one passage is that passage: nothing to mix. */
	if (len == best_len)
		return best;
	return best + o->w_doc * (s - best);
}

/* Gathers the cursors at pid into their groups. */
static void gather(plan *pl, uint32_t pid)
{
	size_t i;

	for (i = 0; i < pl->n_curs; i++) {
		qcursor *c = &pl->curs[i];
		qgroup *g;
		if (c->is_done || c->blk->pid[c->i] != pid)
			continue;
		c->is_at = 1;
		g = &pl->groups[c->group];
		g->tf += c->weight * c->blk->tf[c->i];
		g->tt += c->weight * c->blk->tf_title[c->i];
		g->ts += c->weight * c->blk->tf_section[c->i];
		g->is_hit = 1;
	}
}

/* Moves the cursors that were at the passage on, and clears the groups. */
static furet_rc release(scorer *sc)
{
	plan *pl = sc->pl;
	size_t i;
	furet_rc rc;

	for (i = 0; i < pl->n_groups; i++) {
		qgroup *g = &pl->groups[i];
		g->tf = g->tt = g->ts = 0;
		g->is_hit = 0;
		g->has_pos = 0;
	}
	for (i = 0; i < pl->n_curs; i++) {
		qcursor *c = &pl->curs[i];
		if (!c->is_at)
			continue;
		c->is_at = 0;
		if ((rc = advance(sc->t, c, sc->key)))
			return rc;
	}
	return FURET_OK;
}

/* ---- hits ------------------------------------------------------------------------ */

static size_t res_str(furet_results *r, const char *s, size_t len)
{
	size_t off = r->arena.len;
	furet_buf_append(&r->arena, s, len);
	furet_buf_putc(&r->arena, 0);
	return off;
}

/* Copies the fields of passage pid into the results. */
static furet_rc fetch_hit(furet_results *r, furet_txn *t, hit_rec *h,
	furet_analyzer *an, const char *const *terms, size_t n_terms,
	furet_text_dec *dec, furet_buf *buf)
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
	h->doc_off = res_str(r, d.id, d.id_len);
	h->title_off = res_str(r, d.title, d.title_len);
	h->sec_off = p.section ? res_str(r, p.section, p.section_len) : 0;
	h->text_len = 0;
	h->n_hl = 0;
	h->hl_first = r->spans.len / sizeof(furet_span);
	if (r->has_text) {
		const char *text;
		if ((rc = furet_txn_get(t, FURET_T_TEXT, k4, 4, &v)))
			return rc == FURET_DONE ? FURET_CORRUPT : rc;
		if (p.end - p.start > (uint64_t)1 << 31 ||
			(rc = furet_text_decode(dec, v.data, v.len,
			(size_t)(p.end - p.start), buf)))
			return rc ? rc : FURET_CORRUPT;
		text = (const char *)buf->data;
		if (furet_utf8_valid(text, buf->len) != buf->len)
			return FURET_CORRUPT;
		h->text_len = buf->len;
		h->text_off = res_str(r, text, buf->len);
		rc = furet_snippet_highlights(an, text, buf->len, terms, n_terms,
			&r->spans, &h->n_hl);
		if (rc)
			return rc;
		h->snippet = furet_snippet_window(text, buf->len,
			(const furet_span *)r->spans.data + h->hl_first, h->n_hl, 240);
	}
	return r->arena.has_err ? FURET_NOMEM : FURET_OK;
}

/* Does the passage text hold term under exactly the query's word? */
static int has_exact_word(furet_analyzer *an, const char *text, size_t len,
	const char *term, const char *word)
{
	const furet_token *toks;
	size_t n, i;

	if (!text || furet_analyzer_run(an, text, len, FURET_MODE_DOCUMENT, &toks,
		&n))
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(toks[i].term, term) == 0 && strcmp(toks[i].word, word) == 0)
			return 1;
	return 0;
}

static const char *how_name(int how, int is_compound, int is_exact)
{
	if (how == HOW_FOLD)
		return "accent";
	if (how == HOW_PREFIX)
		return "prefix";
	if (how == HOW_TYPO)
		return "typo";
	if (is_compound)
		return "compound";
	return is_exact ? "exact" : "stem";
}

/* Explains hit h from the parts of its score: one record per cursor of each
** scoring group found (its share of the group's weighted frequency), and
** one per bonus. */
static furet_rc explain_hit(furet_results *r, hit_rec *h, scorer *sc,
	const part *parts, size_t n_parts, furet_analyzer *an)
{
	plan *pl = sc->pl;
	size_t p, i;

	h->ex_first = r->explains.len / sizeof(explain_rec);
	h->n_ex = 0;
	for (p = 0; p < n_parts; p++) {
		const part *pt = &parts[p];
		explain_rec e;

		memset(&e, 0, sizeof e);
		if (pt->kind != 0) {
			static const char *const names[] = { "", "phrase", "proximity",
				"coverage" };
			qleaf *lf = &pl->leaves[pt->leaf];
			const char *label = pt->kind == 3 ? "" : astr(pl,
				pl->groups[pt->kind == 1 ? lf->first_group : pt->group].label_off);
			e.word_off = res_str(r, label, strlen(label));
			e.term_off = res_str(r, "", 0);
			e.how_off = res_str(r, names[pt->kind], strlen(names[pt->kind]));
			e.field_off = res_str(r, "", 0);
			e.tf = pt->tf;
			e.score = pt->score;
			furet_buf_append(&r->explains, &e, sizeof e);
			h->n_ex++;
			continue;
		}
		{
			qgroup *g = &pl->groups[pt->group];
			double total = 0;
			for (i = 0; i < pl->n_curs; i++) {
				qcursor *c = &pl->curs[i];
				if (c->group == pt->group && c->is_at)
					total += c->weight * (c->blk->tf[c->i] +
						c->blk->tf_title[c->i] + c->blk->tf_section[c->i]);
			}
			for (i = 0; i < pl->n_curs; i++) {
				qcursor *c = &pl->curs[i];
				double share;
				const char *how, *field;
				if (c->group != pt->group || !c->is_at)
					continue;
				share = c->weight * (c->blk->tf[c->i] + c->blk->tf_title[c->i] +
					c->blk->tf_section[c->i]);
				/* The text's address is taken here: res_str below may move
				** the arena it lives in. */
				how = how_name(c->how, g->is_compound, c->how == HOW_OWN &&
					has_exact_word(an, r->has_text ? (const char *)
					r->arena.data + h->text_off : NULL, h->text_len, c->term,
					astr(pl, g->word_off)));
				field = c->blk->tf[c->i] ? "text" : c->blk->tf_title[c->i] ?
					"title" : "section";
				e.word_off = res_str(r, astr(pl, g->label_off),
					strlen(astr(pl, g->label_off)));
				e.term_off = res_str(r, c->term, c->len);
				e.how_off = res_str(r, how, strlen(how));
				e.field_off = res_str(r, field, strlen(field));
				e.tf = share;
				e.score = total > 0 ? pt->score * share / total : 0;
				furet_buf_append(&r->explains, &e, sizeof e);
				h->n_ex++;
			}
		}
	}
	return r->explains.has_err || r->arena.has_err ? FURET_NOMEM : FURET_OK;
}

/* Scores the returned passages a second time, recording each part. */
static furet_rc explain_hits(furet_results *r, scorer *sc, furet_analyzer *an)
{
	plan *pl = sc->pl;
	heap_item *order = NULL;
	part *parts = NULL;
	size_t i, k, n_parts;
	furet_rc rc = FURET_OK;

	order = furet_malloc((r->n ? r->n : 1) * sizeof *order);
	parts = furet_malloc((2 * pl->n_groups + pl->n_leaves + 1) * sizeof *parts);
	if (!order || !parts) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (i = 0; i < r->n; i++) {
		order[i].pid = r->hits[i].pid;
		order[i].score = (double)i; /* where the hit is in r->hits */
	}
	qsort(order, r->n, sizeof *order, by_pid);
	for (i = 0; i < pl->n_curs && !rc; i++)
		rc = rewind_cursor(sc->t, &pl->curs[i], sc->key);
	for (k = 0; k < r->n && !rc; k++) {
		double score;
		int is_scored, m;
		hit_rec *h = &r->hits[(size_t)order[k].score];

		for (i = 0; i < pl->n_curs && !rc; i++)
			if (pl->curs[i].blk && !pl->curs[i].is_done)
				rc = seek(sc->t, &pl->curs[i], h->pid, sc->key);
		if (rc)
			break;
		gather(pl, h->pid);
		if (!(rc = match_leaves(sc)) && !(rc = eval_node(sc, 0, &m)) &&
			!(rc = score_passage(sc, h->pid, &score, &is_scored, parts,
				&n_parts)))
			rc = explain_hit(r, h, sc, parts, n_parts, an);
		if (!rc)
			rc = release(sc);
	}
done:
	furet_free(order);
	furet_free(parts);
	return rc;
}

FURET_API furet_rc furet_search(furet_index *ix, const char *q, size_t q_len,
	const furet_search_options *opt, furet_results **out)
{
	furet_search_options o;
	furet_analyzer *an = NULL;
	furet_query *qy = NULL;
	furet_results *r = NULL;
	scorer sc;
	plan pl;
	heap_item *heap = NULL;
	furet_collection c;
	furet_val plen, pdoc, dlen = { NULL, 0 };
	furet_text_dec *tdec = NULL;
	furet_buf tbuf;
	size_t n_heap = 0, cap, i;
	int is_collapse;
	furet_rc rc;

	memset(&pl, 0, sizeof pl);
	memset(&sc, 0, sizeof sc);
	furet_buf_init(&tbuf);
	furet_buf_init(&pl.arena);
	furet_buf_init(&pl.suggestion);
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
		!(o.w_typo >= 0 && o.w_typo <= 1) || !(o.w_prox >= 0) ||
		!(o.w_phrase >= 0) || !(o.w_doc >= 0 && o.w_doc <= 1) ||
		!(o.w_cover >= 0) ||
		!(o.b_doc >= 0 && o.b_doc <= 1) || o.max_expansions > 4096 ||
		o.limit > 1000000 || o.offset > 1000000)
		return furet_index_fail(ix, FURET_INVALID, "invalid search options "
			"(k1 >= 0, 0 <= b <= 1, weights >= 0, w_fold and w_typo <= 1, "
			"max_expansions <= 4096, limit and offset <= 10^6)");
	if (furet_utf8_valid(q ? q : "", q_len) != q_len)
		return furet_index_fail(ix, FURET_INVALID, "the query is not UTF-8");
	if (furet_store_needs_rebuild(ix->store))
		return furet_index_fail(ix, FURET_VERSION, "the index must be "
			"rebuilt first: furet index --rebuild");
	if (!q)
		q = "";
	is_collapse = (o.flags & FURET_SEARCH_BEST_PER_DOC) != 0;

	r = furet_malloc(sizeof *r);
	if (!r)
		return FURET_NOMEM;
	memset(r, 0, sizeof *r);
	furet_buf_init(&r->arena);
	furet_buf_init(&r->spans);
	furet_buf_init(&r->explains);
	furet_buf_putc(&r->arena, 0); /* offset 0 means "none" */
	r->offset = o.offset;
	r->has_text = !(o.flags & FURET_SEARCH_NO_TEXT);

	if ((rc = furet_query_parse(q, q_len, &qy)))
		goto done;
	if ((rc = furet_index_take_analyzer(ix, &an)))
		goto done;
	{
		build_ctx bc = { &pl, an, q, 0 };
		if ((rc = scan_content(&bc, furet_query_root(qy))))
			goto done;
		if (build_node(&bc, furet_query_root(qy), FURET_QF_ANY, 1) < 0) {
			rc = pl.arena.has_err || !pl.nodes ? FURET_NOMEM : FURET_NOMEM;
			goto done;
		}
	}
	sc.pl = &pl;
	sc.o = &o;
	if ((rc = furet_store_begin(ix->store, 0, &sc.t))) {
		furet_index_fail(ix, rc, "cannot read the index");
		goto done;
	}
	if ((rc = furet_store_get_collection(sc.t, &c)))
		goto corrupt;
	if (c.n_live == 0 || pl.n_groups == 0)
		goto finish;
	if ((rc = furet_txn_get(sc.t, FURET_T_META, "plen", 4, &plen)) ||
		plen.len != c.n_passages * 4 ||
		(rc = furet_txn_get(sc.t, FURET_T_META, "pdoc", 4, &pdoc)) ||
		pdoc.len != c.n_passages * 4) {
		rc = FURET_CORRUPT;
		goto corrupt;
	}
	if (is_collapse && ((rc = furet_txn_get(sc.t, FURET_T_META, "dlen", 4,
		&dlen)) || dlen.len != c.next_doc * 4)) {
		rc = FURET_CORRUPT;
		goto corrupt;
	}
	sc.plen = plen.data;
	sc.avgdlen = c.n_docs ? (double)c.total_length / (double)c.n_docs : 1;
	if (sc.avgdlen <= 0)
		sc.avgdlen = 1;
	sc.avglen = (double)c.total_length / (double)c.n_live;
	if (sc.avglen <= 0)
		sc.avglen = 1;
	if ((rc = plan_open(&pl, sc.t, &o, c.n_live, q, sc.key)))
		goto corrupt;
	if (pl.suggestion.len)
		r->suggestion_off = res_str(r, (const char *)pl.suggestion.data,
			pl.suggestion.len);

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
			uint32_t pid = UINT32_MAX, doc = 0;
			double score;
			int is_any = 0, is_scored = 0, m = 0;

			for (i = 0; i < pl.n_curs; i++) {
				qcursor *cu = &pl.curs[i];
				if (!cu->is_done && cu->blk && cu->blk->pid[cu->i] <= pid) {
					pid = cu->blk->pid[cu->i];
					is_any = 1;
				}
			}
			if (is_any && pid >= c.n_passages) {
				rc = FURET_CORRUPT;
				goto corrupt;
			}
			if (is_collapse) {
				/* Passages of a document are consecutive: when the document
				** changes, the previous one is complete. */
				doc = is_any ? get_le32(pdoc.data + 4 * (size_t)pid) :
					UINT32_MAX;
				if (doc != cur_doc && cur_doc != UINT32_MAX &&
					best.score >= 0) {
					best.score = doc_score(&sc, cur_doc, dlen.data,
						dlen.len / 4, best.score,
						get_le32(sc.plen + 4 * (size_t)best.pid));
					heap_offer(heap, &n_heap, cap, best);
					r->matched++;
				}
				if (doc != cur_doc) {
					cur_doc = doc;
					best.score = -1.0;
				}
			}
			if (!is_any)
				break;
			if (get_le32(plen.data + 4 * (size_t)pid) == FURET_DEAD_PASSAGE) {
				/* Removed: its postings wait for compaction. */
				gather(&pl, pid);
				if ((rc = release(&sc)))
					goto corrupt;
				continue;
			}
			gather(&pl, pid);
			if ((rc = match_leaves(&sc)) || (rc = eval_node(&sc, 0, &m)))
				goto corrupt;
			if (m && (rc = score_passage(&sc, pid, &score, &is_scored, NULL,
				NULL)))
				goto corrupt;
			if (m && is_scored && is_collapse)
				doc_accumulate(&pl);
			if ((rc = release(&sc)))
				goto corrupt;
			/* A match only through fields weighted 0 is no match. */
			if (!m || !is_scored)
				continue;
			if (!is_collapse) {
				heap_item x = { score, pid };
				r->matched++;
				heap_offer(heap, &n_heap, cap, x);
			} else if (best.score < 0 || score > best.score) {
				best.score = score;
				best.pid = pid;
			}
		}
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
		if (r->has_text) {
			furet_val zd;
			rc = furet_txn_get(sc.t, FURET_T_META, "zdict", 5, &zd);
			if (rc == FURET_DONE)
				zd.len = 0;
			else if (rc)
				goto corrupt;
			if ((rc = furet_text_dec_open(zd.data, zd.len, &tdec)))
				goto done;
		}
		for (i = 0; i < r->n; i++) {
			hit_rec *h = &r->hits[i];
			h->score = heap[o.offset + i].score;
			h->pid = heap[o.offset + i].pid;
			if ((rc = fetch_hit(r, sc.t, h, an, pl.terms, pl.n_terms, tdec,
				&tbuf)))
				goto corrupt;
		}
		if ((o.flags & FURET_SEARCH_EXPLAIN) &&
			(rc = explain_hits(r, &sc, an)))
			goto corrupt;
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
		furet_txn_errmsg(sc.t));
done:
	furet_text_dec_close(tdec);
	furet_buf_free(&tbuf);
	furet_txn_abort(sc.t);
	furet_index_give_analyzer(ix, an);
	furet_query_free(qy);
	plan_free(&pl);
	furet_free(heap);
	if (rc == FURET_OK && (r->arena.has_err || r->spans.has_err ||
		r->explains.has_err))
		rc = FURET_NOMEM;
	if (rc == FURET_OK && r->explains.len) {
		/* The arena is final: the explanations can point into it. */
		const explain_rec *e = (const explain_rec *)r->explains.data;
		size_t n = r->explains.len / sizeof *e;
		const char *a = (const char *)r->arena.data;
		r->ex_out = furet_malloc(n * sizeof *r->ex_out);
		if (!r->ex_out)
			rc = FURET_NOMEM;
		for (i = 0; r->ex_out && i < n; i++) {
			r->ex_out[i].word = a + e[i].word_off;
			r->ex_out[i].term = a + e[i].term_off;
			r->ex_out[i].how = a + e[i].how_off;
			r->ex_out[i].field = a + e[i].field_off;
			r->ex_out[i].tf = e[i].tf;
			r->ex_out[i].score = e[i].score;
		}
	}
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

FURET_API const char *furet_results_suggestion(const furet_results *r)
{
	return r && r->suggestion_off ?
		(const char *)r->arena.data + r->suggestion_off : NULL;
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
	if (h->n_ex && r->ex_out) {
		out->explain = r->ex_out + h->ex_first;
		out->n_explain = h->n_ex;
	}
	return FURET_OK;
}

FURET_API void furet_results_free(furet_results *r)
{
	if (!r)
		return;
	furet_free(r->hits);
	furet_free(r->ex_out);
	furet_buf_free(&r->arena);
	furet_buf_free(&r->spans);
	furet_buf_free(&r->explains);
	furet_free(r);
}
