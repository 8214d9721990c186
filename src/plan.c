/*
** plan.c — building and opening query plans, and cursors over postings
** blocks (see plan.h).
*/
#include "plan.h"

#include <math.h>
#include <unicode/uchar.h>
#include <stdlib.h>
#include <string.h>

/* ---- cursors ---------------------------------------------------------------- */

/* The encoded block q->block of q's term. Blocks are mostly read in
** order: through a cursor, the next block is the next key, not a new
** descent of the B-tree (which was 7 % of a search's instructions). */
static furet_rc get_block(furet_txn *t, qcursor *q, unsigned char *key,
	furet_val *v)
{
	size_t klen;
	furet_val k;
	furet_rc rc;

	if (q->inl.data) { /* a term of one block, in its record */
		*v = q->inl;
		return FURET_OK;
	}
	klen = furet_block_key(key, q->term, q->len, q->block);
	if (!q->cur && (rc = furet_cursor_open(t, FURET_T_POSTINGS, &q->cur)))
		return rc;
	if (q->cur_block + 1 == q->block && q->block > 0)
		rc = furet_cursor_next(q->cur, &k, v);
	else
		rc = furet_cursor_seek(q->cur, key, klen, &k, v);
	if (!rc && (k.len != klen || memcmp(k.data, key, klen) != 0))
		rc = furet_cursor_seek(q->cur, key, klen, &k, v);
	if (rc == FURET_DONE ||
		(!rc && (k.len != klen || memcmp(k.data, key, klen) != 0)))
		return FURET_CORRUPT;
	if (rc)
		return rc;
	q->cur_block = q->block;
	return FURET_OK;
}

/* Puts q on the first posting of the encoded block v. */
static furet_rc use_block(qcursor *q, furet_val v)
{
	furet_rc rc;

	q->i = 0;
	q->has_pos = 0;
	if ((rc = furet_block_decode(v, q->blk)))
		return rc;
	if (q->blk->n == 0)
		return FURET_CORRUPT;
	q->rec = v; /* valid for the transaction: searches put nothing */
	q->at = q->blk->pid[0];
	return FURET_OK;
}

furet_rc furet_plan_load_block(furet_txn *t, qcursor *q, unsigned char *key)
{
	furet_val v;
	furet_rc rc = get_block(t, q, key, &v);

	return rc ? rc : use_block(q, v);
}

furet_rc furet_plan_advance(furet_txn *t, qcursor *q, unsigned char *key)
{
	if (++q->i < q->blk->n) {
		q->at = q->blk->pid[q->i];
		return FURET_OK;
	}
	if (++q->block >= q->n_blocks) {
		q->is_done = 1;
		q->at = UINT32_MAX;
		return FURET_OK;
	}
	return furet_plan_load_block(t, q, key);
}

/* Moves q to its first posting >= pid, skipping whole blocks: a block
** whose last id is below pid is passed over from its head, undecoded. */
furet_rc furet_plan_seek(furet_txn *t, qcursor *q, uint32_t pid, unsigned char *key)
{
	furet_rc rc;

	if (!q->is_done && q->blk->pid[q->blk->n - 1] < pid) {
		furet_val v;
		for (;;) {
			uint32_t first, last;
			if (++q->block >= q->n_blocks) {
				q->is_done = 1;
				q->at = UINT32_MAX;
				return FURET_OK;
			}
			if ((rc = get_block(t, q, key, &v)) ||
				(rc = furet_block_span(v, &first, &last)))
				return rc;
			if (last >= pid)
				break;
		}
		if ((rc = use_block(q, v)))
			return rc;
	}
	while (!q->is_done && q->blk->pid[q->i] < pid)
		if ((rc = furet_plan_advance(t, q, key)))
			return rc;
	return FURET_OK;
}

furet_rc furet_plan_rewind(furet_txn *t, qcursor *q, unsigned char *key)
{
	if (!q->blk)
		return FURET_OK;
	q->block = 0;
	q->is_done = 0;
	return furet_plan_load_block(t, q, key);
}

/* Decodes the positions of q's current block (see store.c: per posting,
** its body tf of Rice-coded deltas, the tf read from the block). */
furet_rc furet_plan_load_positions(qcursor *q)
{
	furet_val v = furet_block_positions(q->rec, q->blk);
	size_t n;
	furet_rc rc;

	if (!q->pos_off && !(q->pos_off = furet_malloc((FURET_BLOCK_SIZE + 1) *
		sizeof *q->pos_off)))
		return FURET_NOMEM;
	/* Room for 8 positions per byte of the record, as the decoder needs
	** (it checks that the block's tfs add up to exactly what the record
	** holds). */
	n = 8 * v.len;
	if (n > q->cap_pos) {
		uint32_t *np = furet_realloc(q->pos, n * sizeof *np);
		if (!np)
			return FURET_NOMEM;
		q->pos = np;
		q->cap_pos = n;
	}
	if ((rc = furet_positions_decode(v, q->blk, q->pos, q->pos_off)))
		return rc;
	q->has_pos = 1; /* until the cursor moves to another block */
	return FURET_OK;
}

/* ---- plan ---------------------------------------------------------------------- */

void furet_plan_free(plan *pl)
{
	size_t i;

	furet_free(pl->hit);
	furet_free(pl->gcur);
	furet_free(pl->gcur_off);
	pl->hit = pl->gcur = pl->gcur_off = NULL;
	for (i = 0; i < pl->n_curs; i++) {
		furet_cursor_close(pl->curs[i].cur);
		furet_free(pl->curs[i].blk);
		furet_free(pl->curs[i].pos);
		furet_free(pl->curs[i].pos_off);
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

const char *furet_plan_str(const plan *pl, size_t off)
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
			memcmp(furet_plan_str(pl, c->term_off), term, len) == 0) {
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
	c->at = UINT32_MAX;
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

/* The word before q[*end], skipping blanks and apostrophes: [*start, *end)
** on return; 0 when there is none. Letters are ASCII or any UTF-8 byte. */
static int prev_word(const char *q, size_t *start, size_t *end)
{
	size_t e = *end, b;

	for (;;) {
		if (e > 0 && (q[e - 1] == ' ' || q[e - 1] == '\t' || q[e - 1] == '\''))
			e--;
		else if (e >= 3 && memcmp(q + e - 3, "\xe2\x80\x99", 3) == 0)
			e -= 3; /* ’ */
		else
			break;
	}
	b = e;
	while (b > 0 && ((q[b - 1] >= 'a' && q[b - 1] <= 'z') ||
		(q[b - 1] >= 'A' && q[b - 1] <= 'Z') ||
		((unsigned char)q[b - 1] >= 0x80 &&
		!(b >= 3 && memcmp(q + b - 3, "\xe2\x80\x99", 3) == 0))))
		b--;
	*start = b;
	*end = e;
	return b < e;
}

static int word_is(const char *q, size_t b, size_t e, const char *const *list)
{
	size_t k;

	for (; *list; list++) {
		if (strlen(*list) != e - b)
			continue;
		for (k = 0; k < e - b; k++) {
			char c = q[b + k];
			if (c >= 'A' && c <= 'Z')
				c = (char)(c - 'A' + 'a');
			if (c != (*list)[k])
				break;
		}
		if (k == e - b)
			return 1;
	}
	return 0;
}

/* Is the word at q[start] the one an interrogative asks for: "quel pays",
** "quelle est la date", "quel était l'objectif"? */
static int after_interrogative(const char *q, size_t start)
{
	static const char *const quel[] = { "quel", "quelle", "quels",
		"quelles", NULL };
	static const char *const art[] = { "le", "la", "les", "l", NULL };
	static const char *const verb[] = { "est", "sont", "\xc3\xa9tait",
		"\xc3\xa9taient", "fut", "furent", "serait", "sera", NULL };
	size_t b, e = start;

	if (!prev_word(q, &b, &e))
		return 0;
	if (word_is(q, b, e, quel))
		return 1;
	if (!word_is(q, b, e, art))
		return 0;
	e = b;
	if (!prev_word(q, &b, &e) || !word_is(q, b, e, verb))
		return 0;
	e = b;
	return prev_word(q, &b, &e) && word_is(q, b, e, quel);
}

/* Is the word at q[start] (after an elision of elision_len bytes) written
** with a capital, and not the query's first word ("Qui finance POP School ?")?
** Then it is most likely a name, which the answer must contain, as it must
** contain a number of the query ("en 2003"). */
static int is_name(const char *q, size_t start, size_t elision_len)
{
	size_t b, e = start - elision_len;
	uint32_t cp;

	if (!furet_utf8_decode((const unsigned char *)q + start, 4, &cp) ||
		!u_isupper((UChar32)cp))
		return 0;
	return prev_word(q, &b, &e);
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
			memcmp(furet_plan_str(pl, c->term_off), t->term, t->term_len) == 0)
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
		pl->groups[g].is_name = is_free && n->kind == FURET_Q_WORD &&
			(is_name(bc->q, n->start + t->start, t->elision_len) ||
			(t->flags & FURET_TOK_NUMBER));
		pl->groups[g].is_asked = is_free && n->kind == FURET_Q_WORD &&
			after_interrogative(bc->q, n->start + t->start - t->elision_len);
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

furet_rc furet_plan_build(plan *pl, furet_analyzer *an, const char *q,
	const furet_qnode *root)
{
	build_ctx bc = { pl, an, q, 0 };
	furet_rc rc;

	if ((rc = scan_content(&bc, root)))
		return rc;
	return build_node(&bc, root, FURET_QF_ANY, 1) < 0 ? FURET_NOMEM : FURET_OK;
}

/* ---- expansions: accents, prefixes, typos -------------------------------- */

/* Adds the terms the folds table lists under the group's accent-free key,
** and the key itself, as accent variants. */
static furet_rc add_accent_variants(plan *pl, furet_txn *t, uint32_t g,
	double w_fold)
{
	furet_cursor *cur = NULL;
	char fold[260];
	size_t flen = strlen(furet_plan_str(pl, pl->groups[g].fold_off));
	furet_val k, v;
	furet_rc rc;

	if (flen == 0 || flen > 255)
		return FURET_OK;
	memcpy(fold, furet_plan_str(pl, pl->groups[g].fold_off), flen + 1);
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

/* Collects, from table tab, the terms of keys that start with prefix, max
** at most (terms table: the key is the term; words table: "word\0term";
** folds table: "key\0term"). */
static furet_rc collect_prefix(furet_txn *t, furet_table tab, const char *prefix,
	size_t plen, size_t max, furet_buf *names, cand **cands, size_t *n,
	size_t *cap)
{
	furet_cursor *cur = NULL;
	furet_val k, v;
	size_t scanned = 0;
	furet_rc rc;

	if ((rc = furet_cursor_open(t, tab, &cur)))
		return rc;
	rc = furet_cursor_seek(cur, prefix, plen, &k, &v);
	for (; rc == FURET_OK && scanned < 100000 && *n < max;
		rc = furet_cursor_next(cur, &k, &v), scanned++) {
		const unsigned char *term = k.data;
		size_t tl = k.len, i;

		if (k.len < plen || memcmp(k.data, prefix, plen) != 0)
			break;
		if (tab != FURET_T_TERMS) {
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
	const char *word = furet_plan_str(pl, pl->groups[g].word_off);
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
	rc = collect_prefix(t, FURET_T_TERMS, furet_plan_str(pl, pl->groups[g].fold_off),
		strlen(furet_plan_str(pl, pl->groups[g].fold_off)), SIZE_MAX, &names,
		&cands, &n, &cap);
	if (!rc && tmp.len)
		rc = collect_prefix(t, FURET_T_WORDS, (const char *)tmp.data, tmp.len,
			SIZE_MAX, &names, &cands, &n, &cap);
	for (i = 0; !rc && i < n; i++)
		rc = term_df(t, names.data + cands[i].off, cands[i].len, &cands[i].df);
	if (rc)
		goto done;
	if (n > 1) /* cands is NULL when nothing starts so: qsort wants an array */
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

/* A word's family ("reconstruction" -> "reconstruit", "reconstruire"):
** the index terms whose accent-free stem starts with the query stem less its
** last three letters (five at least), from stems of five letters (a to z)
** on; the FAMILY_MAX most frequent, weight w_derived. Snowball strips
** inflections but not derivations, and French questions often name with a
** noun what the answer says with a verb. Eight terms rank as 32 did (nDCG@10
** PIAF dev 0.8306, spf_qr dev 0.8306, 300 distractor questions 0.7041) and
** every term more is a list of candidates to visit: 8% less CPU on the
** distractor set. */
#define FAMILY_MIN 5
#define FAMILY_CUT 3
#define FAMILY_MAX 8
#define FAMILY_SCAN 512

static furet_rc add_family_terms(plan *pl, furet_txn *t, uint32_t g,
	double w_derived)
{
	const char *fold = furet_plan_str(pl, pl->groups[g].fold_off);
	size_t fl = strlen(fold), plen, n = 0, cap = 0, i;
	furet_buf names;
	cand *cands = NULL;
	furet_rc rc;

	if (fl < FAMILY_MIN || w_derived <= 0)
		return FURET_OK;
	for (i = 0; i < fl; i++)
		if (fold[i] < 'a' || fold[i] > 'z')
			return FURET_OK; /* words of letters only: not "mot2999" */
	plen = fl - FAMILY_CUT < FAMILY_MIN ? FAMILY_MIN : fl - FAMILY_CUT;
	furet_buf_init(&names);
	rc = collect_prefix(t, FURET_T_TERMS, fold, plen, FAMILY_SCAN, &names,
		&cands, &n, &cap);
	if (!rc)
		rc = collect_prefix(t, FURET_T_FOLDS, fold, plen, FAMILY_SCAN,
			&names, &cands, &n, &cap);
	for (i = 0; !rc && i < n; i++)
		rc = term_df(t, names.data + cands[i].off, cands[i].len, &cands[i].df);
	if (!rc && n > 1)
		qsort(cands, n, sizeof *cands, by_df_desc);
	for (i = 0; !rc && i < n && i < FAMILY_MAX; i++)
		if (add_cursor(pl, g, (const char *)names.data + cands[i].off,
			cands[i].len, HOW_FAMILY, w_derived))
			rc = FURET_NOMEM;
	furet_free(cands);
	furet_buf_free(&names);
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
	double w_typo, furet_buf *sugg_word)
{
	const char *word = furet_plan_str(pl, pl->groups[g].word_off);
	size_t chars = utf8_chars(word), k, best_d;
	furet_buf u, names;
	cand *cands = NULL;
	size_t n = 0, cap = 0, i, best = 0;
	size_t *dist = NULL, cap_dist = 0, word_cap = 0, *word_off = NULL;
	furet_cursor *cur = NULL;
	furet_val key, v;
	furet_rc rc;

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

	c->term = furet_plan_str(pl, c->term_off);
	rc = furet_txn_get(t, FURET_T_TERMS, c->term, c->len, &v);
	if (rc == FURET_DONE)
		return FURET_OK;
	if (rc || (rc = furet_term_rec_decode(v, &tr)))
		return rc;
	if (tr.n_blocks == 0 || tr.df == 0)
		return FURET_OK;
	if (c->how != HOW_FAMILY && tr.df > pl->groups[c->group].df)
		pl->groups[c->group].df = tr.df;
	c->n_blocks = tr.n_blocks;
	c->inl.data = tr.inl; /* valid for the transaction */
	c->inl.len = tr.inl_len;
	c->df = tr.df;
	c->bound = tr.bound;
	c->dbound = tr.dbound;
	c->blk = furet_malloc(sizeof *c->blk);
	if (!c->blk)
		return FURET_NOMEM;
	c->is_done = 0;
	return furet_plan_load_block(t, c, key);
}

/* Opens the plan on the index: expansions, then a cursor on every term the
** index has, the groups' idf, and the suggestion. */
furet_rc furet_plan_open(plan *pl, furet_txn *t, const furet_search_options *o,
	uint64_t n_passages, const char *q, size_t q_len, unsigned char *key)
{
	size_t g, i, n_groups = pl->n_groups, at = 0;
	furet_buf sugg_word;
	furet_rc rc = FURET_OK;

	furet_buf_init(&sugg_word);
	for (g = 0; g < n_groups && !rc; g++) {
		if (pl->leaves[pl->groups[g].leaf].kind == FURET_Q_PREFIX)
			rc = add_prefix_terms(pl, t, (uint32_t)g,
				o->max_expansions ? o->max_expansions : 1);
		else {
			rc = add_accent_variants(pl, t, (uint32_t)g, o->w_fold);
			if (!rc && pl->groups[g].is_prox)
				rc = add_family_terms(pl, t, (uint32_t)g, o->w_derived);
		}
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
		/* Each word its own correction: a word without one (too short,
		** nothing near) keeps its spelling. */
		furet_buf_reset(&sugg_word);
		if ((rc = add_typo_terms(pl, t, (uint32_t)g, o->w_typo,
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
	/* The rest of the query: its length, not a NUL (the caller's text is
	** (pointer, length)). The buffer's own NUL ends the suggestion. */
	if (!rc && pl->suggestion.len && at <= q_len)
		furet_buf_append(&pl->suggestion, q + at, q_len - at);
	if (!rc && (pl->arena.has_err || pl->suggestion.has_err))
		rc = FURET_NOMEM;
	/* Every term string is final now: point at them. */
	for (i = 0; i < pl->n_curs; i++)
		pl->curs[i].term = furet_plan_str(pl, pl->curs[i].term_off);
	for (g = 0; g < pl->n_groups; g++) {
		double df = (double)pl->groups[g].df;
		pl->groups[g].idf = log(1.0 + ((double)n_passages - df + 0.5) /
			(df + 0.5));
		if (pl->groups[g].is_asked)
			pl->groups[g].idf *= o->w_asked;
		if (pl->groups[g].is_name)
			pl->groups[g].idf *= o->w_name;
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
