/*
** qbuild.c — the query builder of furet.h (furet_query_words, _and, ...):
** a tree of clauses a program composes, written out for the search as the
** query string that says the same, its texts marked literal.
**
** A built query is a tree of furet_query nodes: leaves hold a copy of their
** text (words, a phrase, words ending in a prefix), inner nodes their
** clauses. AND and OR are kept as lists: and(and(a, b), c) is one AND of
** three, as the parser splices "a AND b AND c"; an OR takes the clauses of
** an OR given to it whatever their modifiers, so that a list built one
** clause at a time stays one list ("+a b c", not "(+a b) c").
**
** Writing it out (furet_qbuild_tree) gives the string a person would type:
** a leaf is its text ("a b", "\"a b\"", "a b*"), modifiers and fields
** prefix a clause ("+title:x"), OR is juxtaposition, AND, NOT and NEAR/n
** are written as such, and parentheses go where the grammar needs them (an
** OR, a modified or fielded group, anything but a leaf under NEAR or NOT).
** Each word, phrase and prefix becomes a literal leaf of that string
** (query.h): the parser builds from it the tree it would build from the
** string, reading nothing in the texts as syntax. Words are cut at spaces
** only, so a text without syntax gives exactly the leaves the string gives,
** and the spaces between words are kept as typed (trimmed at both ends):
** the plan, which reads the query text around its words (names,
** interrogatives, runs of free words analysed as one text), sees what it
** sees for the string.
**
** An empty leaf (no word, a blank phrase) writes nothing in a list and
** "()" as an operand, which the parser drops as it drops "()" typed. Errors
** in arguments are kept in the node (rc, why) and passed up to the root,
** for furet_search_query to report; builders fail only for memory. Depth is
** counted as nodes are made, and a node past FURET_QUERY_MAX_DEPTH drops its
** clauses at once, so no recursion here ever goes deeper than that.
**
** Depends on query (literal leaves, the lexer's spaces) and util.
*/
#include "qbuild.h"

#include <stdio.h>
#include <string.h>

enum { B_WORDS, B_PHRASE, B_PREFIX, B_AND, B_OR, B_NOT, B_NEAR, B_ERROR };

struct furet_query {
	int kind;          /* B_* */
	int modifier;      /* FURET_QM_* */
	unsigned field;    /* FURET_QF_* */
	unsigned distance; /* B_NEAR */
	unsigned depth;    /* levels of parentheses its string may need */
	size_t n_words;    /* leaves: words of the text (a phrase: 1, or 0 blank) */
	char *text;        /* leaves: a copy, NUL terminated */
	size_t len;
	furet_rc rc;       /* FURET_OK, or why a search refuses it (why) */
	const char *why;
	furet_query **kids;
	size_t n_kids, cap_kids;
};

/* ---------------------------------------------------------------------
** Building
*/

static furet_query *new_query(int kind)
{
	furet_query *q = furet_malloc(sizeof *q);

	if (q) {
		memset(q, 0, sizeof *q);
		q->kind = kind;
	}
	return q;
}

static void fail(furet_query *q, furet_rc rc, const char *why)
{
	if (!q->rc) {
		q->rc = rc;
		q->why = why;
	}
}

/* The next word of s[0..len) (valid UTF-8) from *at: [*start, *end), and
** *at after it; 0 when there is none. */
static int next_word(const char *s, size_t len, size_t *at, size_t *start,
	size_t *end)
{
	size_t i = *at, n;
	uint32_t cp;
	int is_in = 0;

	for (; i < len; i += n) {
		n = furet_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (!n)
			n = 1;
		if (furet_qtree_is_space(cp)) {
			if (is_in)
				break;
		} else if (!is_in) {
			is_in = 1;
			*start = i;
		}
	}
	*at = i;
	*end = i;
	return is_in;
}

static furet_query *new_leaf(int kind, const char *text, size_t len)
{
	furet_query *q = new_query(kind);
	size_t at = 0, s, e;

	if (!q)
		return NULL;
	if (!text && len) {
		fail(q, FURET_INVALID, "a query text is NULL with a length");
		return q;
	}
	if (furet_utf8_valid(text ? text : "", len) != len) {
		fail(q, FURET_INVALID, "a query text is not UTF-8");
		return q;
	}
	q->text = furet_strndup(text ? text : "", len);
	if (!q->text) {
		furet_free(q);
		return NULL;
	}
	q->len = len;
	while (next_word(q->text, len, &at, &s, &e))
		q->n_words++;
	if (kind == B_PHRASE)
		q->n_words = q->n_words > 0;
	else
		q->depth = q->n_words > 1;
	return q;
}

FURET_API furet_query *furet_query_words(const char *text, size_t len)
{
	return new_leaf(B_WORDS, text, len);
}

FURET_API furet_query *furet_query_phrase(const char *text, size_t len)
{
	return new_leaf(B_PHRASE, text, len);
}

FURET_API furet_query *furet_query_prefix(const char *text, size_t len)
{
	return new_leaf(B_PREFIX, text, len);
}

FURET_API void furet_query_free(furet_query *q)
{
	size_t i;

	if (!q)
		return;
	for (i = 0; i < q->n_kids; i++)
		furet_query_free(q->kids[i]);
	furet_free(q->kids);
	furet_free(q->text);
	furet_free(q);
}

/* Past the depth limit a node keeps only its error: its clauses go now,
** so that nothing deeper is ever walked. */
static void check_depth(furet_query *q)
{
	size_t i;

	if (q->depth <= FURET_QUERY_MAX_DEPTH)
		return;
	for (i = 0; i < q->n_kids; i++)
		furet_query_free(q->kids[i]);
	furet_free(q->kids);
	q->kids = NULL;
	q->n_kids = q->cap_kids = 0;
	q->kind = B_ERROR;
	q->depth = 0;
	fail(q, FURET_QUERY, "the query nests operators more than 32 deep");
}

/* Moves c under p (room reserved). */
static void adopt(furet_query *p, furet_query *c)
{
	p->kids[p->n_kids++] = c;
	if (c->rc)
		fail(p, c->rc, c->why);
	if (c->depth + 1 > p->depth)
		p->depth = c->depth + 1;
}

/* A list of this kind whose clauses another list of the kind takes one by
** one: an AND's or an OR's own, not modified nor restricted to a field. */
static int is_list(const furet_query *q, int kind)
{
	return q->kind == kind && !q->modifier && !q->field;
}

/* a op b for op AND or OR, lists joined; NEAR and NOT (b NULL) make a node
** of their own. Takes a and b over. */
static furet_query *combine(int kind, furet_query *a, furet_query *b,
	int is_unary)
{
	furet_query *p = NULL;
	size_t need, i;
	int is_a_list = 0, is_b_list = 0;

	if (!a || (!b && !is_unary))
		goto fail;
	if (kind == B_AND || kind == B_OR) {
		is_a_list = is_list(a, kind);
		is_b_list = is_list(b, kind);
	}
	p = is_a_list ? a : new_query(kind);
	if (!p)
		goto fail;
	need = p->n_kids + (is_a_list ? 0 : 1) +
		(is_unary ? 0 : is_b_list ? b->n_kids : 1);
	if (furet_grow((void **)&p->kids, &p->cap_kids, need, sizeof *p->kids))
		goto fail;
	if (!is_a_list)
		adopt(p, a);
	if (is_b_list) {
		for (i = 0; i < b->n_kids; i++)
			adopt(p, b->kids[i]);
		if (b->rc) /* its own: an unknown field given to the list */
			fail(p, b->rc, b->why);
		b->n_kids = 0;
		furet_query_free(b);
	} else if (!is_unary) {
		adopt(p, b);
	}
	check_depth(p);
	return p;
fail:
	if (p != a)
		furet_query_free(p);
	furet_query_free(a);
	furet_query_free(b);
	return NULL;
}

FURET_API furet_query *furet_query_and(furet_query *a, furet_query *b)
{
	return combine(B_AND, a, b, 0);
}

FURET_API furet_query *furet_query_or(furet_query *a, furet_query *b)
{
	return combine(B_OR, a, b, 0);
}

FURET_API furet_query *furet_query_not(furet_query *a)
{
	return combine(B_NOT, a, NULL, 1);
}

FURET_API furet_query *furet_query_near(furet_query *a, furet_query *b,
	unsigned distance)
{
	furet_query *p = combine(B_NEAR, a, b, 0);

	if (p)
		p->distance = distance;
	return p;
}

FURET_API furet_query *furet_query_require(furet_query *q)
{
	if (q)
		q->modifier = FURET_QM_REQUIRED;
	return q;
}

FURET_API furet_query *furet_query_exclude(furet_query *q)
{
	if (q)
		q->modifier = FURET_QM_EXCLUDED;
	return q;
}

FURET_API furet_query *furet_query_field(furet_query *q, unsigned field)
{
	if (!q)
		return NULL;
	if (field > FURET_QF_SECTION)
		fail(q, FURET_INVALID, "unknown field (FURET_QF_TITLE or "
			"FURET_QF_SECTION)");
	else if (!q->field)
		q->field = field;
	return q;
}

furet_rc furet_qbuild_check(const furet_query *q, const char **why)
{
	*why = q ? q->why : "no query";
	return q ? q->rc : FURET_INVALID;
}

/* ---------------------------------------------------------------------
** Writing out
*/

typedef struct rend {
	furet_buf *text;
	furet_qliteral *lits;
	size_t n_lits, cap_lits;
	int has_err;
} rend;

/* Where a clause stands: in a list of free clauses, under AND, or as the
** operand of NOT or NEAR. */
enum { IN_OR, IN_AND, IN_OPERAND };

static void put_literal(rend *R, furet_qkind kind, size_t at, size_t start,
	size_t end, size_t next)
{
	furet_qliteral *l;

	if (furet_grow((void **)&R->lits, &R->cap_lits, R->n_lits + 1,
		sizeof *R->lits)) {
		R->has_err = 1;
		return;
	}
	l = &R->lits[R->n_lits++];
	l->kind = kind;
	l->at = at;
	l->start = start;
	l->end = end;
	l->next = next;
}

static void put_text(rend *R, const furet_query *q)
{
	furet_buf *b = R->text;
	size_t at = 0, s, e, prev_end = 0, base, k = 0;

	if (q->kind == B_PHRASE) {
		base = b->len;
		furet_buf_putc(b, '"');
		furet_buf_append(b, q->text, q->len);
		furet_buf_putc(b, '"');
		put_literal(R, FURET_Q_PHRASE, base, base + 1, base + 1 + q->len,
			base + 2 + q->len);
		return;
	}
	while (next_word(q->text, q->len, &at, &s, &e)) {
		if (k++)
			furet_buf_append(b, q->text + prev_end, s - prev_end);
		base = b->len;
		furet_buf_append(b, q->text + s, e - s);
		if (q->kind == B_PREFIX && k == q->n_words) {
			furet_buf_putc(b, '*');
			put_literal(R, FURET_Q_PREFIX, base, base, base + e - s,
				base + e - s + 1);
		} else {
			put_literal(R, FURET_Q_WORD, base, base, base + e - s,
				base + e - s);
		}
		prev_end = e;
	}
}

static int is_leaf(const furet_query *q)
{
	return q->kind == B_WORDS || q->kind == B_PHRASE || q->kind == B_PREFIX;
}

/* Drops what was written after byte n. */
static void cut(furet_buf *b, size_t n)
{
	if (!b->has_err && n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

static void put_clause(rend *R, const furet_query *q, int where);

static void put_body(rend *R, const furet_query *q)
{
	furet_buf *b = R->text;
	size_t i, mark;
	int is_sep;

	switch (q->kind) {
	case B_WORDS:
	case B_PHRASE:
	case B_PREFIX:
		put_text(R, q);
		return;
	case B_OR:
		for (i = 0; i < q->n_kids; i++) {
			/* A space between clauses, dropped with a clause that
			** writes nothing. */
			mark = b->len;
			is_sep = i && mark && b->data[mark - 1] != '(';
			if (is_sep)
				furet_buf_putc(b, ' ');
			put_clause(R, q->kids[i], IN_OR);
			if (is_sep && b->len == mark + 1)
				cut(b, mark);
		}
		return;
	case B_AND:
		for (i = 0; i < q->n_kids; i++) {
			if (i)
				furet_buf_puts(b, " AND ");
			put_clause(R, q->kids[i], IN_AND);
		}
		return;
	case B_NEAR:
		put_clause(R, q->kids[0], IN_OPERAND);
		furet_buf_printf(b, " NEAR/%u ", q->distance);
		put_clause(R, q->kids[1], IN_OPERAND);
		return;
	case B_NOT:
		furet_buf_puts(b, "NOT ");
		put_clause(R, q->kids[0], IN_OPERAND);
		return;
	default:
		return;
	}
}

/* One clause, with its modifier and field, in parentheses when the grammar
** would otherwise read it otherwise. */
static void put_clause(rend *R, const furet_query *q, int where)
{
	furet_buf *b = R->text;
	int is_single = is_leaf(q) && q->n_words == 1, is_bare;

	if (is_leaf(q) && q->n_words == 0) {
		/* An operand must be there for its operator to be one. */
		if (where != IN_OR)
			furet_buf_puts(b, "()");
		return;
	}
	if (q->modifier)
		furet_buf_putc(b, q->modifier == FURET_QM_REQUIRED ? '+' : '-');
	if (q->field)
		furet_buf_puts(b, q->field == FURET_QF_TITLE ? "title:" :
			"section:");
	if (is_single) {
		put_text(R, q);
		return;
	}
	/* A list of words needs none in a list of clauses; AND, NEAR and NOT
	** bind tighter than the juxtaposition around them, NEAR and NOT
	** tighter than AND. */
	is_bare = !q->modifier && !q->field &&
		((where == IN_OR && q->kind != B_OR) ||
		(where == IN_AND && (q->kind == B_NEAR || q->kind == B_NOT)));
	if (!is_bare)
		furet_buf_putc(b, '(');
	put_body(R, q);
	if (!is_bare)
		furet_buf_putc(b, ')');
}

furet_rc furet_qbuild_tree(const furet_query *q, furet_buf *text,
	furet_qtree **out)
{
	rend R;
	const char *why;
	furet_rc rc;

	*out = NULL;
	if ((rc = furet_qbuild_check(q, &why)))
		return rc;
	memset(&R, 0, sizeof R);
	R.text = text;
	/* The query is a list of clauses itself. */
	if (is_list(q, B_OR))
		put_body(&R, q);
	else
		put_clause(&R, q, IN_OR);
	if (R.has_err || text->has_err)
		rc = FURET_NOMEM;
	else
		rc = furet_qtree_parse_literal(text->len ? (const char *)text->data :
			"", text->len, R.lits, R.n_lits, out);
	furet_free(R.lits);
	return rc;
}
