/*
** search.c — query evaluation and ranking of passages.
**
** A query (query.c parses it into a tree; a built furet_query is written
** out by qbuild.c as its query string and the tree of that string, its texts
** taken literally) becomes a plan (plan.c): each
** leaf (word, prefix, phrase) is analysed by the same chain as the documents
** into groups, one per query term; each group reads one or more index terms
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
**     corrected query becomes the results' suggestion ("did you mean");
**   - for a free-text word of 5+ letters, its family: the terms whose
**     accent-free stem starts like its own less three letters (weight
**     w_derived, "family"): "reconstruction" reaches "reconstruit".
**
** A group's idf is weighed by w_asked when an interrogative asks for the
** word ("quel pays": the answer names the country) and by w_name for a
** number or a capitalised word that does not start the query (a name).
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
**           of that idf the passage holds (a word found only through
**           weighted terms counts at the largest weight found)
**   idf   = ln(1 + (N - df + 0.5) / (df + 0.5)), df the group's largest
**           (family terms do not raise it), times w_asked or w_name
**
** N and df count passages. Ties go to the lower passage id, so results are
** deterministic.
**
** A plain disjunction of free-text words is pruned, MaxScore by cursor, to
** the same hits as scoring every match (test_pruning_exact): once the heap
** is full, the cursors with the lowest ceilings per posting become
** non-essential while the passages that only they reach cannot enter it,
** and are never visited; a passage that the others reach is first bounded
** with their exact frequencies (its length read), then cursor by cursor as
** each non-essential one is moved to it, and passed over as soon as the
** bound falls below the heap's lowest score. matched then counts the
** passages visited (a lower bound: is_pruned). FURET_SEARCH_EXPLAIN scores the returned passages a second
** time, recording each part.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "analyzer.h"
#include "index.h"
#include "plan.h"
#include "qbuild.h"
#include "query.h"
#include "snippet.h"
#include "store.h"
#include "textcodec.h"
#include "util.h"

#define PROX_WINDOW 5
#define PREFETCH_AHEAD 3


typedef struct explain_rec {
	size_t word_off, term_off, how_off, field_off; /* in the results arena */
	double tf, score;
} explain_rec;

typedef struct hit_rec {
	double score;
	uint32_t pid;
	size_t doc_off, title_off, sec_off, text_off; /* in arena; sec_off 0: none */
	size_t meta_off, meta_len; /* in arena; meta_len 0: none */
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
	int is_pruned;         /* passages were skipped: matched is a lower bound */
	unsigned offset;
	int has_text;
	size_t suggestion_off; /* 0: none */
	furet_buf arena;
	furet_buf spans;
	furet_buf explains;    /* explain_rec */
	furet_explain *ex_out; /* built by furet_results_get */
};

typedef struct heap_item {
	double score;
	uint32_t pid;
} heap_item;

/* What scoring one passage needs. */
typedef struct scorer {
	plan *pl;
	furet_txn *t;
	const furet_search_options *o;
	furet_lensv plen;
	furet_pdocv pdoc;
	double avglen;
	double avgdlen;    /* average document length, for doc_score */
	double cut;        /* a passage whose score cannot reach it needs no
	                      exact score (pruning; -1: off) */
	int has_phrase;    /* the query has a phrase (pruning's bound) */
	unsigned char key[512];
} scorer;

FURET_API void furet_search_options_init(furet_search_options *o)
{
	if (!o)
		return;
	memset(o, 0, sizeof *o);
	o->limit = 10;
	o->k1 = 1.3;
	o->b = 0.45;
	o->w_title = 2.0;
	o->w_section = 0.5;
	o->w_fold = 0.9;
	o->w_typo = 0.5;
	o->w_derived = 0.3;
	o->w_asked = 0.6;
	o->w_name = 1.6;
	o->w_prox = 0.8;
	o->w_phrase = 1.0;
	o->w_doc = 0.7;
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
	if (!gr->is_hit)
		return FURET_OK; /* (nothing to keep: clear_groups skips it) */
	for (i = pl->gcur_off[g]; i < pl->gcur_off[g + 1]; i++) {
		qcursor *c = &pl->curs[pl->gcur[i]];
		uint32_t from, to;
		if (!c->is_at)
			continue;
		if (!c->has_pos && (rc = furet_plan_load_positions(c)))
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

/* Scores the current passage, of len words (its groups gathered); parts,
** when not NULL, receive each contribution. */
static furet_rc score_passage(scorer *sc, uint32_t len,
	double *score, int *is_scored, part *parts, size_t *n_parts)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
	double norm = 1.0 - o->b + o->b * (double)len / sc->avglen;
	size_t h, l;
	uint32_t prev = UINT32_MAX;
	furet_rc rc;

	*score = 0;
	*is_scored = 0;
	if (n_parts)
		*n_parts = 0;
	for (h = 0; h < pl->n_hit; h++) {
		uint32_t g = pl->hit[h];
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
		double got = 0, all = pl->prox_all, s;
		for (h = 0; h < pl->n_hit; h++) {
			qgroup *gr = &pl->groups[pl->hit[h]];
			if (!gr->is_scoring || !gr->is_prox)
				continue;
			if (group_found(gr))
				got += gr->idf * gr->hit_weight;
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
	if (sc->cut >= 0 && !parts) {
		/* Its most, with each pair at distance 1: below the cut, the
		** positions need not be read (the score stays a lower one). */
		double most = 0;
		for (h = 0; h < pl->n_hit; h++) {
			uint32_t g = pl->hit[h];
			qgroup *gr = &pl->groups[g];
			if (!gr->is_prox || !gr->is_hit || gr->tf <= 0)
				continue;
			if (prev != UINT32_MAX)
				most += o->w_prox * (pl->groups[prev].idf < gr->idf ?
					pl->groups[prev].idf : gr->idf);
			prev = g;
		}
		prev = UINT32_MAX;
		if ((*score + most) * (1 + 1e-9) + 1e-12 < sc->cut)
			return FURET_OK;
	}
	for (h = 0; h < pl->n_hit; h++) {
		uint32_t g = pl->hit[h];
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
	size_t i;

	for (i = 0; i < pl->n_hit; i++) {
		qgroup *gr = &pl->groups[pl->hit[i]];
		if (!gr->is_scoring || !group_found(gr) || gr->field != FURET_QF_ANY)
			continue;
		gr->doc_tf += gr->tf;
		if (gr->tt > gr->doc_tt)
			gr->doc_tt = gr->tt;
	}
}

/* Forgets the current document's frequencies. */
static void doc_clear(plan *pl)
{
	size_t g;

	for (g = 0; g < pl->n_groups; g++)
		pl->groups[g].doc_tf = pl->groups[g].doc_tt = 0;
}

/* A document's score, from its best passage's: mixed, with weight w_doc,
** with BM25F over all its matching passages as one text (length-normalised
** with b_doc against the average document length), so that a page that
** speaks of the query throughout beats one with a single matching
** paragraph. A document of one passage keeps its passage's score. Clears
** the document's frequencies. */
static double doc_score(scorer *sc, double len, double best, double best_len)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
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

/* Adds what cursor c holds at its passage to its group. */
static void gather_one(plan *pl, qcursor *c)
{
	qgroup *g = &pl->groups[c->group];

	c->is_at = 1;
	g->tf += c->weight * c->blk->tf[c->i];
	g->tt += c->weight * c->blk->tf_title[c->i];
	g->ts += c->weight * c->blk->tf_section[c->i];
	if (c->weight > g->hit_weight)
		g->hit_weight = c->weight;
	if (!g->is_hit) {
		size_t j = pl->n_hit++;
		g->is_hit = 1;
		while (j > 0 && pl->hit[j - 1] > c->group) {
			pl->hit[j] = pl->hit[j - 1];
			j--;
		}
		pl->hit[j] = c->group;
	}
}

/* Forgets the current passage's frequencies of every group (those found
** are the only ones that have any). */
static void clear_groups(plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n_hit; i++) {
		qgroup *g = &pl->groups[pl->hit[i]];
		g->tf = g->tt = g->ts = 0;
		g->hit_weight = 0;
		g->is_hit = 0;
		g->has_pos = 0;
	}
	pl->n_hit = 0;
}

/* Gathers the cursors at pid into their groups. */
static void gather(plan *pl, uint32_t pid)
{
	size_t i;

	for (i = 0; i < pl->n_curs; i++)
		if (pl->curs[i].at == pid)
			gather_one(pl, &pl->curs[i]);
}

/* Moves the cursors that were at the passage on, and clears the groups. */
static furet_rc release(scorer *sc)
{
	plan *pl = sc->pl;
	size_t i;
	furet_rc rc;

	clear_groups(pl);
	for (i = 0; i < pl->n_curs; i++) {
		qcursor *c = &pl->curs[i];
		if (!c->is_at)
			continue;
		c->is_at = 0;
		if ((rc = furet_plan_advance(sc->t, c, sc->key)))
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

/* Copies the fields of passage pid into the results: its document from
** pdoc, and the passage from the document's record. */
static furet_rc fetch_hit(furet_results *r, furet_txn *t, hit_rec *h,
	const furet_pdocv *pd, furet_analyzer *an, const char *const *terms,
	size_t n_terms, furet_text_dec *dec, furet_buf *buf)
{
	furet_passage_rec p;
	furet_doc_rec d;
	furet_val v;
	uint32_t doc;
	furet_rc rc;

	if ((uint64_t)h->pid >= pd->n || (rc = furet_pdocv_doc(pd, h->pid, &doc)))
		return FURET_CORRUPT;
	if ((rc = furet_doc_get(t, doc, &v)))
		return rc == FURET_DONE ? FURET_CORRUPT : rc;
	if ((rc = furet_doc_rec_decode(v, &d)) ||
		(rc = furet_doc_rec_names(t, &d)))
		return rc;
	if (h->pid < d.first_passage ||
		(rc = furet_doc_passage(&d, h->pid - d.first_passage, &p)))
		return rc ? rc : FURET_CORRUPT;
	h->number = p.number;
	h->start = p.start;
	h->end = p.end;
	h->doc_off = res_str(r, d.id, d.id_len);
	h->title_off = res_str(r, d.title, d.title_len);
	h->sec_off = p.section ? res_str(r, p.section, p.section_len) : 0;
	h->meta_len = d.meta_len;
	h->meta_off = d.meta_len ? res_str(r, d.meta, d.meta_len) : 0;
	h->text_len = 0;
	h->n_hl = 0;
	h->hl_first = r->spans.len / sizeof(furet_span);
	if (r->has_text) {
		const char *text;
		uint64_t back;
		size_t off, len;
		if ((rc = furet_text_get(t, h->pid, &v, &back)))
			return rc == FURET_DONE ? FURET_CORRUPT : rc;
		if ((rc = furet_text_group_decode(dec, v.data, v.len, back, buf,
			&off, &len)))
			return rc;
		if (len != p.end - p.start)
			return FURET_CORRUPT;
		text = (const char *)buf->data + off;
		if (furet_utf8_valid(text, len) != len)
			return FURET_CORRUPT;
		h->text_len = len;
		h->text_off = res_str(r, text, len);
		rc = furet_snippet_highlights(an, text, len, terms, n_terms,
			&r->spans, &h->n_hl);
		if (rc)
			return rc;
		/* No span at all yet (an empty text): no pointer arithmetic on
		** NULL. */
		h->snippet = furet_snippet_window(text, len, h->n_hl ?
			(const furet_span *)r->spans.data + h->hl_first : NULL,
			h->n_hl, 240);
	}
	return r->arena.has_err ? FURET_NOMEM : FURET_OK;
}

/* Does the passage text hold term under exactly the query's word? */
/* Does the passage (its tokens) hold term under exactly the query's word? */
static int has_exact_word(const furet_token *toks, size_t n, const char *term,
	const char *word)
{
	size_t i;

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
	if (how == HOW_FAMILY)
		return "family";
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
	const furet_token *toks = NULL;
	size_t p, i, n_toks = 0;

	/* The passage's tokens, once: whether a word matched exactly is read
	** from them (they live in the analyzer, untouched by the arena). */
	if (r->has_text && furet_analyzer_run(an, (const char *)r->arena.data +
		h->text_off, h->text_len, FURET_MODE_DOCUMENT, &toks, &n_toks))
		n_toks = 0;
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
			const char *label = pt->kind == 3 ? "" : furet_plan_str(pl,
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
				how = how_name(c->how, g->is_compound, c->how == HOW_OWN &&
					has_exact_word(toks, n_toks, c->term,
					furet_plan_str(pl, g->word_off)));
				field = c->blk->tf[c->i] ? "text" : c->blk->tf_title[c->i] ?
					"title" : "section";
				e.word_off = res_str(r, furet_plan_str(pl, g->label_off),
					strlen(furet_plan_str(pl, g->label_off)));
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
		rc = furet_plan_rewind(sc->t, &pl->curs[i], sc->key);
	for (k = 0; k < r->n && !rc; k++) {
		double score;
		int is_scored, m;
		uint32_t len;
		hit_rec *h = &r->hits[(size_t)order[k].score];

		for (i = 0; i < pl->n_curs && !rc; i++)
			if (pl->curs[i].blk && !pl->curs[i].is_done)
				rc = furet_plan_seek(sc->t, &pl->curs[i], h->pid, sc->key);
		if (rc)
			break;
		gather(pl, h->pid);
		if (!(rc = match_leaves(sc)) && !(rc = eval_node(sc, 0, &m)) &&
			!(rc = furet_lensv_get(&sc->plen, h->pid, &len)) &&
			!(rc = score_passage(sc, len, &score, &is_scored, parts,
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

/* ---- dynamic pruning (MaxScore) ----------------------------------------------- */

/* Can the query skip passages that cannot reach the top? Only a plain
** disjunction of free-text words and phrases: no operator, prefix, field or
** +/-, where a passage's score only grows with the words it holds. */
static int is_prunable(const plan *pl)
{
	size_t i;

	for (i = 0; i < pl->n_nodes; i++) {
		const enode *e = &pl->nodes[i];
		if (e->modifier != FURET_QM_NONE)
			return 0;
		if (e->leaf < 0) {
			if (e->kind != FURET_Q_OR)
				return 0;
		} else if ((pl->leaves[e->leaf].kind != FURET_Q_WORD &&
			pl->leaves[e->leaf].kind != FURET_Q_PHRASE) ||
			pl->leaves[e->leaf].field != FURET_QF_ANY) {
			return 0;
		}
	}
	for (i = 0; i < pl->n_groups; i++)
		if (!pl->groups[i].is_scoring || pl->groups[i].field != FURET_QF_ANY)
			return 0;
	return pl->n_groups > 0;
}

/* The most tf / norm + w_title tt + w_section ts reaches in a passage of a
** term of bound bd (norm with b and avg); for its bound over documents,
** the most the body part reaches (its tt and ts are 0). */
static double term_fmax(const furet_term_bound *bd, double b, double avg,
	const furet_search_options *o)
{
	double m = 0;
	uint32_t i;

	for (i = 0; i < bd->n; i++) {
		double f = bd->tf[i] / (1.0 - b + b * (double)bd->len[i] / avg);
		if (f > m)
			m = f;
	}
	return m + o->w_title * bd->tt + o->w_section * bd->ts;
}

/* BM25's saturation of x: x (k1 + 1) / (x + k1), and k1 + 1 for an unbounded
** x. */
static double saturate(double k1, double x)
{
	return isinf(x) ? k1 + 1.0 : x * (k1 + 1.0) / (x + k1);
}

/* The most the phrase bonus adds when the groups there (in[g] > 0 when in
** is given, else bin, or with is_found 0, those whose non-essential cursors
** have a bound) may be: a phrase counts only with all its words. */
static double phrase_bound(const plan *pl, const furet_search_options *o,
	int is_found, const double *in)
{
	double s = 0;
	size_t l;
	uint32_t k;

	for (l = 0; l < pl->n_leaves; l++) {
		const qleaf *lf = &pl->leaves[l];
		double idf = 0;
		if (lf->kind != FURET_Q_PHRASE || lf->n_groups < 2 ||
			!pl->groups[lf->first_group].is_scoring || o->w_phrase <= 0)
			continue;
		for (k = 0; k < lf->n_groups; k++) {
			const qgroup *g = &pl->groups[lf->first_group + k];
			if (in ? !(in[lf->first_group + k] > 0) : is_found ? !g->bin :
				!(g->bw > 0 && g->bsum > 0))
				break;
			idf += g->idf;
		}
		if (k == lf->n_groups)
			s += o->w_phrase * idf * (o->k1 + 1.0);
	}
	return s;
}

/* The most a passage reached only by the non-essential cursors can score,
** each of them at its fmax: each group's BM25F part at that frequency;
** proximity, w_prox times the smaller idf of each pair of neighbours (at
** distance 1), which adds up to at most the groups' idf less the largest;
** coverage, with every group there at its largest weight; each phrase's
** bonus. With one passage per document (is_collapse), the most a document
** scores: best + w_doc * (s - best) (doc_score) grows with its best
** passage's score and its document-level score s, each bounded. */
static double groups_bound(const plan *pl, const furet_search_options *o,
	double all, int is_collapse)
{
	double s = 0, d = 0, sum = 0, top = 0, got = 0;
	size_t g;

	for (g = 0; g < pl->n_groups; g++) {
		const qgroup *gr = &pl->groups[g];
		if (!(gr->bw > 0))
			continue;
		/* found, it counts in the coverage even at frequency 0 (a word
		** only in titles weighted 0) */
		if (gr->is_prox)
			got += gr->idf * gr->bw;
		if (gr->dsum > 0)
			d += gr->idf * saturate(o->k1, gr->dsum);
		if (!(gr->bsum > 0))
			continue;
		s += gr->idf * saturate(o->k1, gr->bsum);
		if (gr->is_prox) {
			sum += gr->idf;
			if (gr->idf > top)
				top = gr->idf;
		}
	}
	s += o->w_prox * (sum - top) + phrase_bound(pl, o, 0, NULL);
	if (o->w_cover > 0 && all > 0)
		s += o->w_cover * all * (got / all) * (got / all);
	if (is_collapse && d > s)
		s += o->w_doc * (d - s);
	return s;
}

/* Strictly below the threshold, with room for rounding: a passage that
** could tie the last hit is still scored. */
static int is_below(double bound, double threshold)
{
	return bound * (1 + 1e-9) + 1e-12 < threshold;
}

/* MaxScore, by cursor: the cursors of order[] (lowest ceilings first) from
** n on become non-essential while the passages that only they reach stay
** below the threshold; those passages are never visited. Returns the new
** count; the threshold only rises, so n never goes back. Cursors are split,
** not groups: a word's derived terms (weight w_derived) or accent variants
** may be frequent where the word itself is rare. */
static size_t split_essential(plan *pl, const furet_search_options *o,
	const uint32_t *order, size_t n, double all, double threshold,
	int is_collapse)
{
	while (n < pl->n_curs) {
		qcursor *c = &pl->curs[order[n]];
		qgroup *g = &pl->groups[c->group];
		double w = g->bw, bs = g->bsum, ds = g->dsum;
		/* (a term the index lacks is never found) */
		int is_some = c->weight > 0 && c->blk != NULL;
		if (is_some) {
			g->bsum += c->weight * c->fmax;
			g->dsum += c->weight * c->dmax;
			g->bn++;
			if (c->weight > g->bw)
				g->bw = c->weight;
		}
		if (!is_below(groups_bound(pl, o, all, is_collapse), threshold)) {
			g->bsum = bs;
			g->dsum = ds;
			g->bw = w;
			if (is_some)
				g->bn--;
			break;
		}
		c->is_essential = 0;
		n++;
	}
	return n;
}

/* c's weighted frequency at its current posting, its passage's norm given. */
static double cursor_freq(const qcursor *c, const furet_search_options *o,
	double norm)
{
	return c->weight * (c->blk->tf[c->i] / norm +
		o->w_title * c->blk->tf_title[c->i] +
		o->w_section * c->blk->tf_section[c->i]);
}

/* The bound of a passage being tested (see groups_bound), kept up to date
** group by group as its cursors are looked at. */
typedef struct pbound {
	double parts;          /* of the groups' BM25F */
	double sum, top, got;  /* idf of the prox groups there, the largest,
	                          idf times weight */
} pbound;

static double pbound_value(const plan *pl, const pbound *b,
	const furet_search_options *o, double all, int has_phrase)
{
	double s = b->parts + o->w_prox * (b->sum - b->top);

	if (has_phrase)
		s += phrase_bound(pl, o, 1, NULL);
	if (o->w_cover > 0 && all > 0)
		s += o->w_cover * all * (b->got / all) * (b->got / all);
	return s;
}

/* Group g's terms of bound b, anew after its sums changed. */
static void group_update(const plan *pl, qgroup *g, double k1, pbound *b)
{
	double x = g->rsum + g->esum;
	double w = g->ew > g->bw ? g->ew : g->bw;
	int is_in = w > 0 && x > 0;
	double p = is_in ? g->idf * saturate(k1, x) : 0;
	/* in the coverage whatever its frequency (see groups_bound), found or
	** with cursors not looked at yet */
	double wc = g->rn ? w : g->ew;
	double got = wc > 0 && g->is_prox ? g->idf * wc : 0;
	size_t i;

	b->parts += p - g->bpart;
	b->got += got - g->bgot;
	g->bpart = p;
	g->bgot = got;
	if (is_in == g->bin)
		return;
	g->bin = is_in;
	if (!g->is_prox)
		return;
	if (is_in) {
		b->sum += g->idf;
		if (g->idf > b->top)
			b->top = g->idf;
		return;
	}
	b->sum -= g->idf;
	if (g->idf < b->top)
		return;
	b->top = 0;
	for (i = 0; i < pl->n_groups; i++)
		if (pl->groups[i].is_prox && pl->groups[i].bin &&
			pl->groups[i].idf > b->top)
			b->top = pl->groups[i].idf;
}

/* The bound of a passage before its cursors are looked at: every
** non-essential cursor at its ceiling. Each test starts from it. */
static void test_base(plan *pl, double k1, pbound *base)
{
	size_t i;

	memset(base, 0, sizeof *base);
	for (i = 0; i < pl->n_groups; i++) {
		qgroup *g = &pl->groups[i];
		g->rsum = g->bsum;
		g->rn = g->bn;
		g->esum = g->ew = g->bpart = g->bgot = 0;
		g->bin = g->is_touched = 0;
		group_update(pl, g, k1, base);
		g->bpart0 = g->bpart;
		g->bgot0 = g->bgot;
		g->bin0 = g->bin;
	}
}

/* Group g's sums as they were before the test. */
static void group_restore(qgroup *g)
{
	g->rsum = g->bsum;
	g->rn = g->bn;
	g->esum = g->ew = 0;
	g->bpart = g->bpart0;
	g->bgot = g->bgot0;
	g->bin = g->bin0;
	g->is_touched = 0;
}

/* Adds cursor c, found at the passage being tested, to its group's sums,
** and the group to touched[] (n_touched there) if not yet; sets *is_match
** when it adds a frequency. Returns the new count of touched. */
static size_t test_found(plan *pl, const qcursor *c,
	const furet_search_options *o, double norm, uint32_t *touched,
	size_t n_touched, int *is_match)
{
	qgroup *g = &pl->groups[c->group];
	double f = cursor_freq(c, o, norm);

	g->esum += f;
	if (f > 0)
		*is_match = 1;
	if (c->weight > g->ew)
		g->ew = c->weight;
	if (!g->is_touched) {
		g->is_touched = 1;
		touched[n_touched++] = c->group;
	}
	return n_touched;
}

/* MaxScore's test of passage pid, its essential cursors at[] (n) taken out:
** bounded with their exact frequencies and every non-essential cursor at
** its fmax (base), then again as each non-essential cursor (highest
** ceiling per posting first: the reverse of the split's order) is moved to
** pid and found there or not. *is_skip: the
** bound fell below the threshold (or the passage was removed), and the
** passage needs no score; *is_match: it matches all the same (a word with
** a frequency above 0 in a field weighted above 0: a plain disjunction
** needs no more). The non-essential cursors looked at stay where they were
** moved. touched: room for every group. */
static furet_rc test_passage(scorer *sc, uint32_t pid, const uint32_t *at,
	size_t n, const uint32_t *order, size_t n_rest, const pbound *base,
	double all, double threshold, uint32_t *touched, int *is_skip,
	int *is_match)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
	uint32_t len;
	double norm;
	pbound b = *base;
	size_t i, n_touched = 0;
	furet_rc rc = FURET_OK;

	*is_skip = 1;
	*is_match = 0;
	if ((rc = furet_lensv_get(&sc->plen, pid, &len)))
		return rc;
	if (len == FURET_DEAD_PASSAGE)
		return FURET_OK;
	norm = 1.0 - o->b + o->b * (double)len / sc->avglen;
	for (i = 0; i < n; i++)
		n_touched = test_found(pl, &pl->curs[at[i]], o, norm, touched,
			n_touched, is_match);
	for (i = 0; i < n_touched; i++)
		group_update(pl, &pl->groups[touched[i]], o->k1, &b);
	for (i = n_rest;; i--) {
		qcursor *c;
		qgroup *g;
		if (is_below(pbound_value(pl, &b, o, all, sc->has_phrase),
			threshold))
			break;
		if (i == 0) {
			*is_skip = 0;
			break;
		}
		c = &pl->curs[order[i - 1]];
		if (!(c->weight > 0) || !c->blk)
			continue; /* (as split_essential counts them) */
		g = &pl->groups[c->group];
		if (c->at < pid && (rc = furet_plan_seek(sc->t, c, pid, sc->key)))
			break;
		g->rsum -= c->weight * c->fmax;
		g->rn--;
		if (c->at == pid)
			n_touched = test_found(pl, c, o, norm, touched, n_touched,
				is_match);
		else if (!g->is_touched) {
			g->is_touched = 1;
			touched[n_touched++] = c->group;
		}
		group_update(pl, g, o->k1, &b);
	}
	for (i = 0; i < n_touched; i++)
		group_restore(&pl->groups[touched[i]]);
	return rc;
}

/* With one passage per document, the test of a whole document of several
** passages before any is scored: the document of passage e, last its last
** passage, bounded from the cursors that reach it (the essential ones, and
** the others once moved to its first passage), each at its term's bounds:
** its best passage scores at most the passages' bound, its document-level
** score at most the documents' (groups_bound). scratch: room for 3
** doubles per group. Below the threshold, no passage of it is scored. */
static int document_is_below(scorer *sc, uint32_t last, double all,
	double threshold, double *scratch)
{
	plan *pl = sc->pl;
	const furet_search_options *o = sc->o;
	double *xp = scratch, *xd = scratch + pl->n_groups;
	double *in = scratch + 2 * pl->n_groups;
	double s = 0, d = 0, sum = 0, top = 0, got = 0;
	size_t i;

	memset(scratch, 0, 3 * pl->n_groups * sizeof *scratch);
	for (i = 0; i < pl->n_curs; i++) {
		const qcursor *c = &pl->curs[i];
		if (c->at > last || !(c->weight > 0))
			continue;
		xp[c->group] += c->weight * c->fmax;
		xd[c->group] += c->weight * c->dmax;
		if (c->weight > in[c->group])
			in[c->group] = c->weight;
	}
	for (i = 0; i < pl->n_groups; i++) {
		const qgroup *g = &pl->groups[i];
		if (!(in[i] > 0))
			continue;
		s += g->idf * saturate(o->k1, xp[i]);
		d += g->idf * saturate(o->k1, xd[i]);
		if (g->is_prox) {
			sum += g->idf;
			got += g->idf * in[i];
			if (g->idf > top)
				top = g->idf;
		}
	}
	s += o->w_prox * (sum - top);
	if (sc->has_phrase)
		s += phrase_bound(pl, o, 0, in);
	if (o->w_cover > 0 && all > 0)
		s += o->w_cover * all * (got / all) * (got / all);
	if (d > s)
		s += o->w_doc * (d - s);
	return is_below(s, threshold);
}

/* The cursors not done, in two min-heaps by current passage id: the
** essential ones, which lead, and the rest, moved only to where those lead.
** Each passage costs O(k log n) for its k cursors, not a scan of them all
** (a question with accent variants and families reaches a hundred terms). */
typedef struct cheap {
	uint64_t *h;  /* passage id << 32 | cursor: compared without reading
	                 the cursors */
	size_t n;
} cheap;

static uint64_t cheap_key(const plan *pl, uint32_t c)
{
	return (uint64_t)pl->curs[c].at << 32 | c;
}

static uint32_t cheap_top(const plan *pl, const cheap *q)
{
	(void)pl;
	return q->n ? (uint32_t)(q->h[0] >> 32) : UINT32_MAX;
}

static void cheap_down(cheap *q, size_t i)
{
	uint64_t x = q->h[i];

	for (;;) {
		size_t l = 2 * i + 1, m;
		uint64_t y;
		if (l >= q->n)
			break;
		m = l + 1 < q->n && q->h[l + 1] < q->h[l] ? l + 1 : l;
		y = q->h[m];
		if (y >= x)
			break;
		q->h[i] = y;
		i = m;
	}
	q->h[i] = x;
}

static void cheap_push(const plan *pl, cheap *q, uint32_t c)
{
	size_t i = q->n++;
	uint64_t x = cheap_key(pl, c);

	while (i > 0 && q->h[(i - 1) / 2] > x) {
		q->h[i] = q->h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->h[i] = x;
}

static uint32_t cheap_pop(const plan *pl, cheap *q)
{
	uint32_t c = (uint32_t)q->h[0];

	(void)pl;
	q->h[0] = q->h[--q->n];
	cheap_down(q, 0);
	return c;
}

/* The non-essential cursors not done: a plain list, not a heap. MaxScore's
** test moves them one by one, highest ceiling first, to the passages it
** bounds; they are few. */
typedef struct crest {
	uint32_t *h;
	size_t n;
} crest;

/* The lowest passage id of the rest's cursors. */
static uint32_t rest_min(const plan *pl, const crest *q)
{
	uint32_t m = UINT32_MAX;
	size_t i;

	for (i = 0; i < q->n; i++)
		if (pl->curs[q->h[i]].at < m)
			m = pl->curs[q->h[i]].at;
	return m;
}

/* Puts every cursor not done into the heap or list of its kind. */
static void cheap_fill(const plan *pl, cheap *ess, crest *rest)
{
	size_t i;

	ess->n = rest->n = 0;
	for (i = 0; i < pl->n_curs; i++) {
		const qcursor *c = &pl->curs[i];
		if (c->at == UINT32_MAX)
			continue;
		if (c->is_essential)
			ess->h[ess->n++] = cheap_key(pl, (uint32_t)i);
		else
			rest->h[rest->n++] = (uint32_t)i;
	}
	for (i = ess->n / 2; i-- > 0;)
		cheap_down(ess, i);
}

/* Moves the cursors of the rest below pid to their first posting >= pid,
** and drops those done. */
static furet_rc cheap_seek_rest(scorer *sc, crest *rest, uint32_t pid)
{
	plan *pl = sc->pl;
	size_t i = 0;
	furet_rc rc;

	while (i < rest->n) {
		qcursor *c = &pl->curs[rest->h[i]];
		if (c->at < pid && (rc = furet_plan_seek(sc->t, c, pid, sc->key)))
			return rc;
		if (c->at == UINT32_MAX)
			rest->h[i] = rest->h[--rest->n];
		else
			i++;
	}
	return FURET_OK;
}

/* Moves every cursor on a passage up to last past it. */
static furet_rc skip_past(scorer *sc, cheap *ess, crest *rest, uint32_t last)
{
	plan *pl = sc->pl;
	furet_rc rc;

	while (cheap_top(pl, ess) <= last) {
		uint32_t ci = cheap_pop(pl, ess);
		if ((rc = furet_plan_seek(sc->t, &pl->curs[ci], last + 1, sc->key)))
			return rc;
		if (pl->curs[ci].at != UINT32_MAX)
			cheap_push(pl, ess, ci);
	}
	return cheap_seek_rest(sc, rest, last + 1);
}

/* Puts cursor ci into at[] of n, in cursor order; returns the new count. */
static size_t at_insert(uint32_t *at, size_t n, uint32_t ci)
{
	size_t j = n++;

	while (j > 0 && at[j - 1] > ci) {
		at[j] = at[j - 1];
		j--;
	}
	at[j] = ci;
	return n;
}

/* Takes the cursors at pid out of heap q into at[], after its n first,
** keeping at[] in cursor order; returns the new count. */
static size_t cheap_take(const plan *pl, cheap *q, uint32_t pid, uint32_t *at,
	size_t n)
{
	while (cheap_top(pl, q) == pid)
		n = at_insert(at, n, cheap_pop(pl, q));
	return n;
}

/* The same from the rest's list. */
static size_t rest_take(const plan *pl, crest *q, uint32_t pid, uint32_t *at,
	size_t n)
{
	size_t i = 0;

	while (i < q->n) {
		if (pl->curs[q->h[i]].at == pid) {
			n = at_insert(at, n, q->h[i]);
			q->h[i] = q->h[--q->n];
		} else {
			i++;
		}
	}
	return n;
}

/* gather() through the heap and list: takes the cursors at pid out into
** at[] (after the n already taken there); their frequencies add up in
** cursor order, as in gather(), so that a score depends neither on the
** heap's order nor on which cursors were taken first, to the last bit. */
static size_t cheap_gather(plan *pl, cheap *ess, crest *rest, uint32_t pid,
	uint32_t *at, size_t n)
{
	size_t i;

	n = cheap_take(pl, ess, pid, at, n);
	n = rest_take(pl, rest, pid, at, n);
	for (i = 0; i < n; i++)
		gather_one(pl, &pl->curs[at[i]]);
	return n;
}

/* Moves the cursors of at[] on and back into the heap and list. */
static furet_rc cheap_advance(scorer *sc, cheap *ess, crest *rest,
	const uint32_t *at, size_t n)
{
	plan *pl = sc->pl;
	size_t i;
	furet_rc rc;

	for (i = 0; i < n; i++) {
		qcursor *c = &pl->curs[at[i]];
		c->is_at = 0;
		if ((rc = furet_plan_advance(sc->t, c, sc->key)))
			return rc;
		if (c->at == UINT32_MAX)
			continue;
		if (c->is_essential && c->i + PREFETCH_AHEAD < c->blk->n) {
			/* The length of a passage it leads to soon: read from
			** memory while others are scored (a cache miss each, for
			** passages that are mostly passed over). Its document's
			** bits, 256 passages to a cache line, are mostly there. */
			size_t k = c->blk->pid[c->i + PREFETCH_AHEAD];
			const furet_lens *l = furet_lensv_chunk(&sc->plen, k);
			__builtin_prefetch(l->p + l->width * (k & sc->plen.mask));
		}
		if (c->is_essential)
			cheap_push(pl, ess, at[i]);
		else
			rest->h[rest->n++] = at[i];
	}
	return FURET_OK;
}

/* release() through the heap and list: clears the groups, moves the
** cursors of at[] on and back in. */
static furet_rc cheap_release(scorer *sc, cheap *ess, crest *rest,
	const uint32_t *at, size_t n)
{
	clear_groups(sc->pl);
	return cheap_advance(sc, ess, rest, at, n);
}

/* Runs the query of text q: the tree built, or parsed from q when built is
** NULL. */
static furet_rc run_search(furet_index *ix, const char *q, size_t q_len,
	const furet_qtree *built, const furet_search_options *opt,
	furet_results **out)
{
	furet_search_options o;
	furet_analyzer *an = NULL;
	furet_qtree *qy = NULL;
	furet_results *r = NULL;
	scorer sc;
	plan pl;
	heap_item *heap = NULL;
	furet_collection c;
	furet_lensv dlen;
	furet_text_dec *tdec = NULL;
	furet_buf tbuf;
	uint32_t *order = NULL, *at = NULL, *touched = NULL;
	double *dscratch = NULL;
	cheap ess = { NULL, 0 };
	crest rest = { NULL, 0 };
	size_t n_heap = 0, cap, i, n_at = 0;
	int is_collapse; unsigned long dbg_tries = 0;
	furet_rc rc;

	memset(&pl, 0, sizeof pl);
	memset(&sc, 0, sizeof sc);
	memset(&dlen, 0, sizeof dlen);
	sc.cut = -1;
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
		!(o.w_derived >= 0 && o.w_derived <= 1) ||
		!(o.w_asked >= 0 && o.w_asked <= 1) ||
		!(o.w_name >= 0 && o.w_name <= 10) ||
		!(o.w_phrase >= 0) || !(o.w_doc >= 0 && o.w_doc <= 1) ||
		!(o.w_cover >= 0) ||
		!(o.b_doc >= 0 && o.b_doc <= 1) || o.max_expansions > 4096 ||
		o.limit > 1000000 || o.offset > 1000000)
		return furet_index_fail(ix, FURET_INVALID, "invalid search options "
			"(k1 >= 0, 0 <= b <= 1, weights >= 0, w_fold, w_typo, "
			"w_derived and w_asked <= 1, w_name <= 10, "
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

	if (!built && (rc = furet_qtree_parse(q, q_len, &qy)))
		goto done;
	if ((rc = furet_index_take_analyzer(ix, &an)))
		goto done;
	if ((rc = furet_plan_build(&pl, an, q,
		furet_qtree_root(built ? built : qy))))
		goto done;
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
	if ((rc = furet_lensv_open(sc.t, "plen", c.n_passages, &sc.plen)) ||
		(rc = furet_pdocv_open(sc.t, c.n_passages, &sc.pdoc)))
		goto corrupt;
	if (is_collapse && (rc = furet_lensv_open(sc.t, "dlen", c.next_doc,
		&dlen)))
		goto corrupt;
	sc.avgdlen = c.n_docs ? (double)c.total_length / (double)c.n_docs : 1;
	if (sc.avgdlen <= 0)
		sc.avgdlen = 1;
	sc.avglen = (double)c.total_length / (double)c.n_live;
	if (sc.avglen <= 0)
		sc.avglen = 1;
	if ((rc = furet_plan_open(&pl, sc.t, &o, c.n_live, q, q_len, sc.key)))
		goto corrupt;
	pl.hit = furet_malloc((pl.n_groups + 1) * sizeof *pl.hit);
	pl.gcur = furet_malloc((pl.n_curs + 1) * sizeof *pl.gcur);
	pl.gcur_off = furet_malloc((pl.n_groups + 2) * sizeof *pl.gcur_off);
	if (!pl.hit || !pl.gcur || !pl.gcur_off) {
		rc = FURET_NOMEM;
		goto done;
	}
	/* each group's cursors: counted, offsets, placed in cursor order */
	memset(pl.gcur_off, 0, (pl.n_groups + 2) * sizeof *pl.gcur_off);
	for (i = 0; i < pl.n_curs; i++)
		pl.gcur_off[pl.curs[i].group + 2]++;
	for (i = 2; i < pl.n_groups + 2; i++)
		pl.gcur_off[i] += pl.gcur_off[i - 1];
	for (i = 0; i < pl.n_curs; i++)
		pl.gcur[pl.gcur_off[pl.curs[i].group + 1]++] = (uint32_t)i;
	for (i = 0; i < pl.n_groups; i++)
		if (pl.groups[i].is_scoring && pl.groups[i].is_prox)
			pl.prox_all += pl.groups[i].idf;
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
		/* the document being collapsed and its passages (a document's
		** passages are consecutive) */
		uint32_t cur_doc = UINT32_MAX, cur_first = 1, cur_last = 0;
		int is_plain = is_prunable(&pl);
		int is_pruning = !(o.flags & FURET_SEARCH_EXACT) && cap > 0 &&
			is_plain;
		double all = 0, threshold = -1;
		size_t n_rest = 0, n_pre = 0;
		pbound base;

		order = furet_malloc((pl.n_curs + 1) * sizeof *order);
		touched = furet_malloc((pl.n_groups + 1) * sizeof *touched);
		dscratch = furet_malloc((3 * pl.n_groups + 1) * sizeof *dscratch);
		at = furet_malloc((pl.n_curs + 1) * sizeof *at);
		ess.h = furet_malloc((pl.n_curs + 1) * sizeof *ess.h);
		rest.h = furet_malloc((pl.n_curs + 1) * sizeof *rest.h);
		if (!order || !touched || !dscratch || !at || !ess.h || !rest.h) {
			rc = FURET_NOMEM;
			goto done;
		}
		/* (is_plain: a disjunction of words, no phrase) */
		for (i = 0; i < pl.n_leaves; i++)
			if (pl.leaves[i].kind == FURET_Q_PHRASE)
				sc.has_phrase = 1;
		is_plain = is_plain && !sc.has_phrase;
		if (is_pruning) {
			for (i = 0; i < pl.n_groups; i++) {
				qgroup *g = &pl.groups[i];
				g->bsum = g->dsum = g->bw = g->esum = g->ew = 0;
				g->bn = 0;
				if (g->is_prox)
					all += g->idf;
			}
			for (i = 0; i < pl.n_curs; i++) {
				qcursor *qc = &pl.curs[i];
				qc->fmax = qc->blk ? term_fmax(&qc->bound, o.b,
					sc.avglen, &o) : 0;
				qc->dmax = qc->blk ? term_fmax(&qc->dbound, o.b_doc,
					sc.avgdlen, &o) + o.w_title * qc->bound.tt : 0;
				qc->is_essential = 1;
				qc->ub = qc->weight > 0 ? pl.groups[qc->group].idf *
					saturate(o.k1, qc->weight * (is_collapse &&
					qc->dmax > qc->fmax ? qc->dmax : qc->fmax)) : 0;
			}
			/* Lowest ceiling per posting first: what the threshold
			** leaves room for goes to the longest lists (by ceiling
			** alone, a rare word's derived terms, short lists of low
			** weight, would take it: 13 % more passages visited). */
			for (i = 0; i < pl.n_curs; i++) {
				const qcursor *x = &pl.curs[i];
				size_t j = i;
				while (j > 0 && pl.curs[order[j - 1]].ub * (double)(x->df + 1) >
					x->ub * (double)(pl.curs[order[j - 1]].df + 1)) {
					order[j] = order[j - 1];
					j--;
				}
				order[j] = (uint32_t)i;
			}
			n_rest = split_essential(&pl, &o, order, 0, all, threshold,
				is_collapse);
			test_base(&pl, o.k1, &base);
		} else {
			for (i = 0; i < pl.n_curs; i++)
				pl.curs[i].is_essential = 1;
		}
		cheap_fill(&pl, &ess, &rest);

		for (;;) {
			uint32_t pid = UINT32_MAX, doc = 0, len;
			double score;
			int is_any, is_scored = 0, m = 0;

			{
				/* Inside a document being collapsed, every passage any
				** word reaches counts (its document-level score sums
				** them all); elsewhere only the essential words lead. */
				uint32_t e = cheap_top(&pl, &ess), r0;
				if (rest.n && is_collapse && cur_doc != UINT32_MAX) {
					r0 = rest_min(&pl, &rest);
					pid = e < r0 ? e : r0;
					if (pid != UINT32_MAX && (pid < cur_first ||
						pid > cur_last))
						pid = UINT32_MAX;
				}
				/* Once the hits are full, a passage that its essential
				** words lead to (alone in its document, with one passage
				** per document) first goes through MaxScore's test: most
				** are passed over without a score. */
				if (pid == UINT32_MAX && e < c.n_passages && is_pruning &&
					n_heap == cap && (!is_collapse ||
					furet_pdocv_is_alone(&sc.pdoc, e))) {
					int is_skip, is_match;
					n_pre = cheap_take(&pl, &ess, e, at, 0); dbg_tries++;
					if ((rc = test_passage(&sc, e, at, n_pre, order, n_rest,
						&base, all, threshold, touched, &is_skip,
						&is_match)))
						goto corrupt;
					if (is_skip) {
						/* (nothing gathered: no group to clear) */
						if ((rc = cheap_advance(&sc, &ess, &rest, at,
							n_pre)))
							goto corrupt;
						n_pre = 0;
						/* (alone in its document: one match either way;
						** a phrase's match is not known) */
						if (sc.has_phrase)
							r->is_pruned = 1;
						else if (is_match)
							r->matched++;
						continue;
					}
				}
				if (pid == UINT32_MAX && rest.n && e < c.n_passages) {
					uint32_t from = is_collapse ? furet_pdocv_first(&sc.pdoc,
						e) : e;
					if ((rc = cheap_seek_rest(&sc, &rest, from)))
						goto corrupt;
					r0 = rest_min(&pl, &rest);
					pid = e < r0 ? e : r0;
				} else if (pid == UINT32_MAX) {
					pid = e;
				}
				/* A document of several passages, reached for the first
				** time: bounded as a whole before any passage of it is
				** scored. */
				if (is_pruning && is_collapse && n_heap == cap && !n_pre &&
					pid < c.n_passages && (pid < cur_first ||
					pid > cur_last)) {
					uint32_t last = furet_pdocv_last(&sc.pdoc, pid);
					if (document_is_below(&sc, last, all, threshold,
						dscratch)) {
						if ((rc = skip_past(&sc, &ess, &rest, last)))
							goto corrupt;
						r->is_pruned = 1;
						continue;
					}
				}
			}
			is_any = pid != UINT32_MAX;
			if (is_any && pid >= c.n_passages) {
				rc = FURET_CORRUPT;
				goto corrupt;
			}
			if (is_collapse) {
				/* Passages of a document are consecutive: when the document
				** changes, the previous one is complete. */
				if (!is_any)
					doc = UINT32_MAX;
				else if (pid >= cur_first && pid <= cur_last)
					doc = cur_doc;
				else if ((rc = furet_pdocv_doc(&sc.pdoc, pid, &doc)))
					goto corrupt;
				if (doc != cur_doc && cur_doc != UINT32_MAX &&
					best.score >= 0) {
					/* A document of one passage is that passage: no
					** document-level score to compute (nor its length to
					** read, far away in memory). */
					if (cur_first == cur_last) {
						doc_clear(&pl);
					} else {
						uint32_t dl = 0, bl = 0;
						if ((cur_doc < dlen.n && (rc = furet_lensv_get(&dlen,
							cur_doc, &dl))) || (rc = furet_lensv_get(&sc.plen,
							best.pid, &bl)))
							goto corrupt;
						best.score = doc_score(&sc, cur_doc < dlen.n ? dl :
							sc.avgdlen, best.score, bl);
					}
					heap_offer(heap, &n_heap, cap, best);
					r->matched++;
				}
				if (doc != cur_doc) {
					cur_doc = doc;
					best.score = -1.0;
					if (is_any) {
						cur_first = furet_pdocv_first(&sc.pdoc, pid);
						cur_last = furet_pdocv_last(&sc.pdoc, pid);
					}
				}
			}
			if (!is_any)
				break;
			/* (after the cursors gathered for the bound, if any: a
			** group's cursors are all essential or all not, so each group
			** still adds up its frequencies in cursor order) */
			n_at = cheap_gather(&pl, &ess, &rest, pid, at, n_pre);
			n_pre = 0;
			if ((rc = furet_lensv_get(&sc.plen, pid, &len)))
				goto corrupt;
			if (len == FURET_DEAD_PASSAGE) {
				/* Removed: its postings wait for compaction. */
				if ((rc = cheap_release(&sc, &ess, &rest, at, n_at)))
					goto corrupt;
				continue;
			}
			/* A disjunction of words matches where a word is found. */
			if (is_plain)
				m = pl.n_hit > 0;
			else if ((rc = match_leaves(&sc)) ||
				(rc = eval_node(&sc, 0, &m)))
				goto corrupt;
			/* Once the hits are full, a passage that cannot enter them
			** (alone in its document, with one passage per document)
			** is not scored to the last bonus. */
			sc.cut = -1;
			if (is_pruning && n_heap == cap && (!is_collapse ||
				cur_first == cur_last))
				sc.cut = threshold;
			if (m && (rc = score_passage(&sc, len, &score, &is_scored, NULL,
				NULL)))
				goto corrupt;
			if (m && is_scored && is_collapse)
				doc_accumulate(&pl);
			if ((rc = cheap_release(&sc, &ess, &rest, at, n_at)))
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
			/* The threshold rises as the heap fills: more words become
			** non-essential. */
			if (is_pruning && n_heap == cap && heap[0].score > threshold) {
				size_t before = n_rest;
				threshold = heap[0].score;
				n_rest = split_essential(&pl, &o, order, n_rest, all,
					threshold, is_collapse);
				test_base(&pl, o.k1, &base);
				if (n_rest != before)
					cheap_fill(&pl, &ess, &rest);
			}
		}
		if (n_rest)
			r->is_pruned = 1;
		if (getenv("DBGM")) { size_t z; fprintf(stderr, "Q %.*s n_rest %zu/%zu thr %.2f tries %lu\n", (int)q_len, q, n_rest, pl.n_curs, threshold, dbg_tries); for (z = 0; z < pl.n_curs; z++) fprintf(stderr, "  g%u idf %.2f %-16s how %d w %.2f ub %.2f df %llu ess %d\n", pl.curs[z].group, pl.groups[pl.curs[z].group].idf, pl.curs[z].term, pl.curs[z].how, pl.curs[z].weight, pl.curs[z].ub, (unsigned long long)pl.curs[z].df, pl.curs[z].is_essential); }
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
			if ((rc = fetch_hit(r, sc.t, h, &sc.pdoc, an, pl.terms, pl.n_terms,
				tdec, &tbuf)))
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
	furet_lensv_close(&sc.plen);
	furet_pdocv_close(&sc.pdoc);
	furet_lensv_close(&dlen);
	furet_free(order);
	furet_free(touched);
	furet_free(dscratch);
	furet_free(at);
	furet_free(ess.h);
	furet_free(rest.h);
	furet_text_dec_close(tdec);
	furet_buf_free(&tbuf);
	/* (the plan's cursors before the transaction they read) */
	furet_plan_free(&pl);
	furet_txn_abort(sc.t);
	furet_index_give_analyzer(ix, an);
	furet_qtree_free(qy);
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

FURET_API furet_rc furet_search(furet_index *ix, const char *q, size_t q_len,
	const furet_search_options *opt, furet_results **out)
{
	return run_search(ix, q, q_len, NULL, opt, out);
}

/* The built query is written out as its query string, with its texts as
** literal leaves (qbuild.c), and searched as that string would be. */
FURET_API furet_rc furet_search_query(furet_index *ix, const furet_query *q,
	const furet_search_options *opt, furet_results **out)
{
	furet_buf text;
	furet_qtree *qt = NULL;
	const char *why;
	furet_rc rc;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if (!ix)
		return FURET_INVALID;
	if ((rc = furet_qbuild_check(q, &why)))
		return furet_index_fail(ix, rc, "%s", why);
	furet_buf_init(&text);
	rc = furet_qbuild_tree(q, &text, &qt);
	if (!rc)
		rc = run_search(ix, text.len ? (const char *)text.data : "", text.len,
			qt, opt, out);
	furet_qtree_free(qt);
	furet_buf_free(&text);
	return rc;
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
	if (h->meta_len) {
		out->meta = a + h->meta_off;
		out->meta_len = h->meta_len;
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
