/*
** query.c — the query parser: UTF-8 text -> tree of clauses (see query.h for
** the language and the tree).
**
** Two passes. The lexer decides everything that depends on characters: what
** is whitespace (ASCII and Unicode spaces, NUL and control characters), a
** phrase quote ("..." «...» “...”), a "+"/"-" modifier at the start of a clause,
** a field prefix, a trailing "*"; it hands each leaf token its modifier and
** field, and drops the parentheses beyond FURET_QUERY_MAX_DEPTH together with
** their closing partners, so the parser sees only matched ")" and recurses at
** most that deep. A recursive-descent parser then builds the tree, reading an
** operator that lacks an operand as a plain word, so that every input gets a
** reading. Nodes and child arrays come from a per-query arena released in one
** go, which keeps out-of-memory unwinding to a single free.
**
** Depends on util only (allocator hooks, UTF-8 decoder). Invariants of a
** finished tree: the root is an OR and is never collapsed; every other OR and
** AND has 2 or more children, NEAR 2 or more leaves, NOT exactly one child;
** modifiers appear only on children of an OR; nested NOTs cancel; the whole
** tree, root included, has at most FURET_QUERY_MAX_NODES nodes. Work is linear
** in the input: the lexer stops after a bounded number of tokens.
*/
#include "query.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

/* The root is a node too: plain text stops one word short of the limit so
** that its tree fills it exactly. */
#define MAX_LEAVES (FURET_QUERY_MAX_NODES - 1)
/* Operators and parentheses are not leaves; they still cost parsing time. */
#define MAX_TOKENS (4 * FURET_QUERY_MAX_NODES)
#define NEAR_DEFAULT 10
#define NEAR_MAX 1000
#define ARENA_CHUNK 8192

typedef struct arena_chunk {
	struct arena_chunk *next;
	size_t len, cap;
	max_align_t data[];
} arena_chunk;

struct furet_qtree {
	furet_qnode *root;
	int is_truncated;
	arena_chunk *arena; /* every node and child array of the tree */
};

typedef enum tok_type {
	T_END,
	T_WORD,
	T_PREFIX,
	T_PHRASE,
	T_LPAREN,
	T_RPAREN,
	T_AND,
	T_OR,
	T_NOT,
	T_NEAR
} tok_type;

typedef struct token {
	tok_type type;
	int modifier;      /* leaves and "(": the "+"/"-" before them */
	unsigned field;    /* leaves and "(": the field prefix before them */
	unsigned distance; /* T_NEAR */
	size_t start, end; /* leaves: as in furet_qnode; others: the token */
} token;

typedef struct parser {
	const char *q;
	size_t len;
	furet_qtree *qy;
	furet_rc rc; /* sticky: once set, every step returns at once */
	int is_stopped;  /* the lexer reached a limit */
	size_t n_leaves; /* leaf tokens so far */
	size_t depth;    /* "(" open, as the lexer sees them */
	size_t n_ignored; /* "(" beyond the depth limit still open */
	token *toks;     /* ends with a T_END token */
	size_t n_toks, cap_toks, pos;
	furet_qnode **stack; /* operands waiting for their parent node */
	size_t n_stack, cap_stack;
	const furet_qliteral *lits; /* literal leaves, in text order */
	size_t n_lits, i_lit;  /* the next one not reached yet */
} parser;

/* ---------------------------------------------------------------------
** Arena
*/

static void *arena_alloc(parser *P, size_t n)
{
	furet_qtree *qy = P->qy;
	arena_chunk *c = qy->arena;
	size_t a = alignof(max_align_t), cap;
	void *p;

	if (P->rc)
		return NULL;
	n = (n + a - 1) / a * a;
	if (!c || c->cap - c->len < n) {
		cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = furet_malloc(sizeof *c + cap);
		if (!c) {
			P->rc = FURET_NOMEM;
			return NULL;
		}
		c->next = qy->arena;
		c->len = 0;
		c->cap = cap;
		qy->arena = c;
	}
	p = (char *)c->data + c->len;
	c->len += n;
	return p;
}

/* ---------------------------------------------------------------------
** Lexer
*/

static uint32_t cp_at(const parser *P, size_t i, size_t *n)
{
	uint32_t cp = 0;

	*n = furet_utf8_decode((const unsigned char *)P->q + i, P->len - i, &cp);
	if (!*n) {
		/* The text was validated; should it not be, step one byte. */
		*n = 1;
		cp = 0xfffd;
	}
	return cp;
}

/* NUL and control characters count as spaces (they only come from copy and
** paste accidents), and so do the Unicode spaces French typography puts
** inside « » and before ; : ! ? (U+00A0, U+202F). */
static int is_space(uint32_t cp)
{
	return cp <= 0x20 || (cp >= 0x7f && cp <= 0xa0) || cp == 0x1680 ||
		(cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
		cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000 ||
		cp == 0xfeff;
}

int furet_qtree_is_space(uint32_t cp)
{
	return is_space(cp);
}

/* The closing quote for an opening one, or 0. */
static uint32_t closing_quote(uint32_t cp)
{
	switch (cp) {
	case '"':
		return '"';
	case 0xab: /* « */
		return 0xbb;
	case 0x201c: /* “ */
		return 0x201d;
	default:
		return 0;
	}
}

static int is_special(uint32_t cp)
{
	return cp == '(' || cp == ')' || closing_quote(cp) || cp == 0xbb ||
		cp == 0x201d;
}

/* Appends a token, or stops the lexer at the first one past the limits:
** the rest of the query is dropped and the query marked truncated. */
static token *emit(parser *P, tok_type type, int modifier, unsigned field,
	size_t start, size_t end)
{
	token *t;
	int is_leaf_tok = type == T_WORD || type == T_PREFIX || type == T_PHRASE;

	if (P->rc || P->is_stopped)
		return NULL;
	if (type != T_END && (P->n_toks == MAX_TOKENS ||
		(is_leaf_tok && P->n_leaves == MAX_LEAVES))) {
		P->qy->is_truncated = 1;
		P->is_stopped = 1;
		return NULL;
	}
	if (P->n_toks == P->cap_toks) {
		size_t cap = P->cap_toks ? 2 * P->cap_toks : 64;
		token *p = furet_realloc(P->toks, cap * sizeof *p);
		if (!p) {
			P->rc = FURET_NOMEM;
			return NULL;
		}
		P->toks = p;
		P->cap_toks = cap;
	}
	t = &P->toks[P->n_toks++];
	t->type = type;
	t->modifier = modifier;
	t->field = field;
	t->distance = 0;
	t->start = start;
	t->end = end;
	P->n_leaves += (size_t)is_leaf_tok;
	return t;
}

/* An operator is the whole word, in capitals: "and", "And" and "AND*" are
** words. NEAR/n takes any number of digits and clamps it. */
static tok_type operator_type(const char *s, size_t n, unsigned *distance)
{
	size_t i;
	unsigned d = 0;

	if (n == 3 && memcmp(s, "AND", 3) == 0)
		return T_AND;
	if (n == 2 && memcmp(s, "OR", 2) == 0)
		return T_OR;
	if (n == 3 && memcmp(s, "NOT", 3) == 0)
		return T_NOT;
	if (n < 4 || memcmp(s, "NEAR", 4) != 0)
		return T_END;
	if (n == 4) {
		*distance = NEAR_DEFAULT;
		return T_NEAR;
	}
	if (n == 5 || s[4] != '/')
		return T_END;
	for (i = 5; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return T_END;
		if (d < NEAR_MAX)
			d = d * 10 + (unsigned)(s[i] - '0');
	}
	*distance = d < NEAR_MAX ? d : NEAR_MAX;
	return T_NEAR;
}

static int ascii_prefix_ci(const char *s, size_t n, const char *lower)
{
	size_t i, k = strlen(lower);

	if (n < k)
		return 0;
	for (i = 0; i < k; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != lower[i])
			return 0;
	}
	return 1;
}

/* FURET_QF_* for a "title:" or "section:" at s (any case), and its length. */
static unsigned field_prefix(const char *s, size_t n, size_t *len)
{
	if (ascii_prefix_ci(s, n, "title:")) {
		*len = 6;
		return FURET_QF_TITLE;
	}
	if (ascii_prefix_ci(s, n, "section:")) {
		*len = 8;
		return FURET_QF_SECTION;
	}
	return FURET_QF_ANY;
}

/* Stops counting at 2: all a prefix needs to know. */
static size_t utf8_chars_upto2(const char *s, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n && k < 2; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			k++;
	return k;
}

/* A word's leaf: lone "+ - * :" say nothing and go; a trailing "*" makes a
** prefix of 2 characters or more (a shorter one would match half the index,
** so it is searched as the word it is). */
static void emit_word(parser *P, size_t s, size_t e, int modifier,
	unsigned field)
{
	const char *q = P->q;
	size_t t = e;

	if (e - s == 1 && memchr("+-*:", q[s], 4))
		return;
	while (t > s && q[t - 1] == '*')
		t--;
	if (t == e || t == s)
		emit(P, T_WORD, modifier, field, s, e);
	else if (utf8_chars_upto2(q + s, t - s) >= 2)
		emit(P, T_PREFIX, modifier, field, s, t);
	else
		emit(P, T_WORD, modifier, field, s, t);
}

static int is_blank(const parser *P, size_t s, size_t e)
{
	size_t k;

	for (; s < e; s += k)
		if (!is_space(cp_at(P, s, &k)))
			return 0;
	return 1;
}

/* The literal leaf that starts at byte i, or NULL. */
static const furet_qliteral *literal_at(parser *P, size_t i)
{
	while (P->i_lit < P->n_lits && P->lits[P->i_lit].at < i)
		P->i_lit++;
	return P->i_lit < P->n_lits && P->lits[P->i_lit].at == i ?
		&P->lits[P->i_lit] : NULL;
}

/* A literal leaf, under the rules a typed one follows. */
static void emit_literal(parser *P, const furet_qliteral *lit, int modifier,
	unsigned field)
{
	tok_type type = lit->kind == FURET_Q_PHRASE ? T_PHRASE :
		lit->kind == FURET_Q_PREFIX ? T_PREFIX : T_WORD;

	if (lit->start == lit->end ||
		(type == T_PHRASE && is_blank(P, lit->start, lit->end)))
		return;
	if (type == T_PREFIX &&
		utf8_chars_upto2(P->q + lit->start, lit->end - lit->start) < 2)
		type = T_WORD;
	emit(P, type, modifier, field, lit->start, lit->end);
}

/* The phrase whose opening quote (n bytes) is at p; returns where lexing
** goes on. It runs to its closing quote or to the end. */
static size_t lex_phrase(parser *P, size_t p, size_t n, uint32_t close,
	int modifier, unsigned field)
{
	size_t s = p + n, e = s, next = P->len, k;

	while (e < P->len) {
		uint32_t cp = cp_at(P, e, &k);
		if (cp == close) {
			next = e + k;
			break;
		}
		e += k;
	}
	if (!is_blank(P, s, e))
		emit(P, T_PHRASE, modifier, field, s, e);
	return next;
}

/* Whether a group the lexer will keep, a phrase or a literal leaf opens at
** i. */
static int opens_at(parser *P, size_t i)
{
	size_t n;
	uint32_t cp;

	if (i >= P->len)
		return 0;
	if (literal_at(P, i))
		return 1;
	cp = cp_at(P, i, &n);
	if (cp == '(')
		return P->depth < FURET_QUERY_MAX_DEPTH;
	return closing_quote(cp) != 0;
}

static void lex(parser *P)
{
	size_t p = 0, n, s, e, flen;
	int is_clause_start = 1, modifier = FURET_QM_NONE;
	unsigned field = FURET_QF_ANY, distance = 0;
	uint32_t cp, close;
	tok_type op;
	token *t;
	const furet_qliteral *lit;

	while (p < P->len && !P->is_stopped && !P->rc) {
		cp = cp_at(P, p, &n);
		if ((lit = literal_at(P, p)) != NULL) {
			emit_literal(P, lit, modifier, field);
			p = lit->next;
			is_clause_start = 0;
		} else if (cp == '(') {
			if (P->depth < FURET_QUERY_MAX_DEPTH) {
				emit(P, T_LPAREN, modifier, field, p, p + 1);
				P->depth++;
			} else {
				P->n_ignored++;
			}
			p++;
			is_clause_start = 1;
		} else if (cp == ')') {
			/* Only a ")" that closes a "(" the parser saw reaches
			** it: the others are spaces. */
			if (P->n_ignored) {
				P->n_ignored--;
				is_clause_start = 1;
			} else if (P->depth) {
				emit(P, T_RPAREN, 0, 0, p, p + 1);
				P->depth--;
				is_clause_start = 0;
			} else {
				is_clause_start = 1;
			}
			p++;
		} else if ((close = closing_quote(cp)) != 0) {
			p = lex_phrase(P, p, n, close, modifier, field);
			is_clause_start = 0;
		} else if (is_space(cp) || is_special(cp)) {
			/* Stray closing quotes separate like spaces. */
			p += n;
			is_clause_start = 1;
		} else if ((cp == '+' || cp == '-') && is_clause_start) {
			/* Only here: "e-mail" and "Villeneuve-la-Garenne"
			** stay whole words. */
			modifier = cp == '+' ? FURET_QM_REQUIRED :
				FURET_QM_EXCLUDED;
			p++;
			is_clause_start = 0;
			continue;
		} else {
			s = p;
			e = p;
			while (e < P->len) {
				cp = cp_at(P, e, &n);
				if (is_space(cp) || is_special(cp) ||
					literal_at(P, e))
					break;
				e += n;
			}
			p = e;
			is_clause_start = 0;
			/* "-AND" excludes the word "and". */
			op = modifier ? T_END :
				operator_type(P->q + s, e - s, &distance);
			field = field_prefix(P->q + s, e - s, &flen);
			if (op != T_END) {
				if ((t = emit(P, op, 0, 0, s, e)) != NULL)
					t->distance = distance;
			} else if (field && s + flen < e) {
				emit_word(P, s + flen, e, modifier, field);
			} else if (field && opens_at(P, e)) {
				/* "title:(" or "title:«": the modifier and the
				** field wait for the group or phrase that
				** follows at once. */
				continue;
			} else {
				emit_word(P, s, e, modifier, FURET_QF_ANY);
			}
		}
		modifier = FURET_QM_NONE;
		field = FURET_QF_ANY;
	}
	P->is_stopped = 0;
	emit(P, T_END, 0, 0, P->len, P->len);
}

/* ---------------------------------------------------------------------
** Tree building
*/

static int is_leaf(const furet_qnode *nd)
{
	return nd->kind == FURET_Q_WORD || nd->kind == FURET_Q_PREFIX ||
		nd->kind == FURET_Q_PHRASE;
}

static furet_qnode *new_node(parser *P, furet_qkind kind)
{
	furet_qnode *nd = arena_alloc(P, sizeof *nd);

	if (nd) {
		memset(nd, 0, sizeof *nd);
		nd->kind = kind;
	}
	return nd;
}

static void push(parser *P, furet_qnode *nd)
{
	if (P->rc || !nd)
		return;
	if (P->n_stack == P->cap_stack) {
		size_t cap = P->cap_stack ? 2 * P->cap_stack : 32;
		furet_qnode **p = furet_realloc(P->stack, cap * sizeof *p);
		if (!p) {
			P->rc = FURET_NOMEM;
			return;
		}
		P->stack = p;
		P->cap_stack = cap;
	}
	P->stack[P->n_stack++] = nd;
}

/* A field restricts every leaf below that has none of its own: in
** "title:(a section:b)" b stays in the section. */
static void apply_field(furet_qnode *nd, unsigned field)
{
	size_t i;

	if (!field || nd->field)
		return;
	nd->field = field;
	for (i = 0; i < nd->n_children; i++)
		apply_field(nd->children[i], field);
}

/* Puts an inner node back in shape once its children are known: an empty
** one disappears, a lone child takes the place of its OR, AND or NEAR with
** that node's modifier, and NOT NOT x is x. An OR holding only "-a" means "not a", so it
** becomes a NOT rather than passing the exclusion outward (where it would
** exclude from the enclosing clause instead). Allocates nothing. */
static furet_qnode *settle(furet_qnode *nd)
{
	furet_qnode *c;

	if (nd->n_children == 0)
		return NULL;
	c = nd->children[0];
	if (nd->kind == FURET_Q_NOT && c->kind == FURET_Q_NOT) {
		/* Pruning can turn a NOT's child into a NOT. */
		c = c->children[0];
		c->modifier = nd->modifier;
		apply_field(c, nd->field);
		return c;
	}
	if (nd->kind == FURET_Q_NOT || nd->n_children > 1)
		return nd;
	if (nd->kind == FURET_Q_OR && c->modifier == FURET_QM_EXCLUDED) {
		c->modifier = FURET_QM_NONE;
		if (c->kind != FURET_Q_NOT) {
			nd->kind = FURET_Q_NOT;
			return nd;
		}
		c = c->children[0];
	}
	c->modifier = nd->modifier;
	apply_field(c, nd->field);
	return c;
}

/* "+a -b" within an OR is a required and an excluded clause; this is what
** they mean elsewhere. Children of AND, NEAR and NOT carry no modifier. */
static int may_splice(const furet_qnode *c, furet_qkind kind)
{
	size_t i;

	if (c->kind != kind || c->modifier || c->field)
		return 0;
	for (i = 0; i < c->n_children; i++)
		if (c->children[i]->modifier)
			return 0;
	return 1;
}

/* The node of kind whose children are the operands stacked from base on,
** with the children of same-kind operands spliced in ("(a b) c" is one OR
** of three). Unstacks them. */
static furet_qnode *build(parser *P, furet_qkind kind, size_t base)
{
	furet_qnode *nd, *c;
	size_t i, j, k = 0, n = 0;

	for (i = base; i < P->n_stack; i++)
		n += may_splice(P->stack[i], kind) ? P->stack[i]->n_children : 1;
	nd = new_node(P, kind);
	if (nd && n)
		nd->children = arena_alloc(P, n * sizeof *nd->children);
	if (P->rc)
		return NULL;
	for (i = base; i < P->n_stack; i++) {
		c = P->stack[i];
		if (may_splice(c, kind))
			for (j = 0; j < c->n_children; j++)
				nd->children[k++] = c->children[j];
		else
			nd->children[k++] = c;
	}
	nd->n_children = n;
	P->n_stack = base;
	return nd;
}

/* NOT x; NOT (NOT x) is x, which also keeps chains of NOT from nesting. */
static furet_qnode *wrap_not(parser *P, furet_qnode *nd)
{
	furet_qnode *neg;

	if (nd->kind == FURET_Q_NOT)
		return nd->children[0];
	neg = new_node(P, FURET_Q_NOT);
	if (neg)
		neg->children = arena_alloc(P, sizeof *neg->children);
	if (P->rc)
		return NULL;
	neg->children[0] = nd;
	neg->n_children = 1;
	return neg;
}

static furet_qnode *negate(parser *P, furet_qnode *nd)
{
	int modifier = nd->modifier;

	nd->modifier = FURET_QM_NONE;
	return modifier == FURET_QM_EXCLUDED ? nd : wrap_not(P, nd);
}

/* A modifier outside an OR: "+" adds nothing to AND, "-x" is NOT x. */
static furet_qnode *unmodify(parser *P, furet_qnode *nd)
{
	if (nd->modifier == FURET_QM_EXCLUDED) {
		nd->modifier = FURET_QM_NONE;
		return wrap_not(P, nd);
	}
	nd->modifier = FURET_QM_NONE;
	return nd;
}

/* AND or NEAR of the operands stacked from base on; a lone operand stands
** for itself, modifier and all. NEAR of anything but leaves is an AND. */
static furet_qnode *combine(parser *P, furet_qkind kind, size_t base,
	unsigned distance)
{
	furet_qnode *nd;
	size_t i;

	if (P->rc || P->n_stack == base)
		return NULL;
	if (P->n_stack - base == 1)
		return P->stack[--P->n_stack];
	for (i = base; i < P->n_stack; i++) {
		nd = unmodify(P, P->stack[i]);
		if (!nd)
			return NULL;
		P->stack[i] = nd;
		if (!is_leaf(nd))
			kind = FURET_Q_AND;
	}
	nd = build(P, kind, base);
	if (nd && kind == FURET_Q_NEAR)
		nd->distance = distance;
	return nd;
}

static int starts_operand(const parser *P, size_t i)
{
	return P->toks[i].type != T_END && P->toks[i].type != T_RPAREN;
}

/* Whether the token at pos is operator type with an operand after it;
** otherwise it will be read as a word. */
static int is_operator(const parser *P, tok_type type)
{
	return P->toks[P->pos].type == type && starts_operand(P, P->pos + 1);
}

static furet_qnode *parse_or(parser *P, int is_root);

static furet_qnode *parse_primary(parser *P)
{
	const token *t = &P->toks[P->pos];
	furet_qnode *nd;

	switch (t->type) {
	case T_WORD:
	case T_PREFIX:
	case T_PHRASE:
	case T_AND:
	case T_OR:
	case T_NOT:
	case T_NEAR:
		/* An operator that reaches here lacks an operand: it is
		** the word it is spelt with ("AND" alone searches "and"). */
		P->pos++;
		nd = new_node(P, t->type == T_PREFIX ? FURET_Q_PREFIX :
				t->type == T_PHRASE ? FURET_Q_PHRASE :
						      FURET_Q_WORD);
		if (nd) {
			nd->modifier = t->modifier;
			nd->field = t->field;
			nd->start = t->start;
			nd->end = t->end;
		}
		return nd;
	case T_LPAREN:
		P->pos++;
		nd = parse_or(P, 0);
		/* An unclosed "(" closes at the end. */
		if (P->toks[P->pos].type == T_RPAREN)
			P->pos++;
		if (nd) {
			apply_field(nd, t->field);
			nd->modifier = t->modifier;
		}
		return nd;
	default:
		return NULL;
	}
}

static furet_qnode *parse_negated(parser *P, int with_near);

static furet_qnode *parse_near(parser *P)
{
	size_t base = P->n_stack;
	unsigned distance = 0;

	push(P, parse_primary(P));
	while (!P->rc && is_operator(P, T_NEAR)) {
		if (P->toks[P->pos].distance > distance)
			distance = P->toks[P->pos].distance;
		P->pos++;
		push(P, parse_negated(P, 0));
	}
	return combine(P, FURET_Q_NEAR, base, distance);
}

/* NOTs, then a NEAR chain (operand of AND) or a primary (operand of NEAR).
** Chains of NOT are counted, not recursed into, whatever their length. */
static furet_qnode *parse_negated(parser *P, int with_near)
{
	size_t n_not = 0;
	furet_qnode *nd;

	while (is_operator(P, T_NOT)) {
		P->pos++;
		n_not++;
	}
	nd = with_near ? parse_near(P) : parse_primary(P);
	if (!nd || P->rc || n_not % 2 == 0)
		return nd;
	return negate(P, nd);
}

static furet_qnode *parse_and(parser *P)
{
	size_t base = P->n_stack;

	push(P, parse_negated(P, 1));
	while (!P->rc && is_operator(P, T_AND)) {
		P->pos++;
		push(P, parse_negated(P, 1));
	}
	return combine(P, FURET_Q_AND, base, 0);
}

/* A sequence of clauses, up to the ")" that ends the group (left for the
** caller) or the end. The root stays an OR, even empty; a group settles. */
static furet_qnode *parse_or(parser *P, int is_root)
{
	size_t base = P->n_stack, n_parsed = 0;
	furet_qnode *nd;

	while (!P->rc && P->toks[P->pos].type != T_END) {
		if (P->toks[P->pos].type == T_RPAREN) {
			if (!is_root)
				break;
			P->pos++;
			continue;
		}
		/* Explicit OR is juxtaposition, when it sits between two
		** operands. */
		if (n_parsed && is_operator(P, T_OR)) {
			P->pos++;
			continue;
		}
		push(P, parse_and(P));
		n_parsed++;
	}
	if (P->rc || (!is_root && P->n_stack == base))
		return NULL;
	nd = build(P, FURET_Q_OR, base);
	if (!nd || !is_root)
		return nd ? settle(nd) : NULL;
	/* A query that is one group is that group: "(+a -b)" needs no
	** second OR, even though its modifiers kept it from being spliced. */
	if (nd->n_children == 1 && nd->children[0]->kind == FURET_Q_OR &&
		!nd->children[0]->modifier && !nd->children[0]->field)
		*nd = *nd->children[0];
	return nd;
}

static size_t count_nodes(const furet_qnode *nd)
{
	size_t i, n = 1;

	for (i = 0; i < nd->n_children; i++)
		n += count_nodes(nd->children[i]);
	return n;
}

/* Keeps the first nodes in reading order while the budget lasts. */
static furet_qnode *prune(furet_qnode *nd, size_t *budget, int is_root)
{
	size_t i, k = 0;
	furet_qnode *c;

	if (!*budget)
		return NULL;
	(*budget)--;
	for (i = 0; i < nd->n_children; i++) {
		c = prune(nd->children[i], budget, 0);
		if (c)
			nd->children[k++] = c;
	}
	nd->n_children = k;
	return is_root || is_leaf(nd) ? nd : settle(nd);
}

/* ---------------------------------------------------------------------
** Public calls
*/

furet_rc furet_qtree_parse(const char *q, size_t len, furet_qtree **out)
{
	return furet_qtree_parse_literal(q, len, NULL, 0, out);
}

furet_rc furet_qtree_parse_literal(const char *q, size_t len,
	const furet_qliteral *lits, size_t n_lits, furet_qtree **out)
{
	parser P;
	furet_qtree *qy = NULL;
	furet_rc rc;
	size_t budget, i;

	memset(&P, 0, sizeof P);
	if (!out)
		return FURET_INVALID;
	*out = NULL;
	if ((!q && len) || (!lits && n_lits))
		return FURET_INVALID;
	if (!q)
		q = "";
	if (furet_utf8_valid(q, len) != len)
		return FURET_INVALID;
	for (i = 0; i < n_lits; i++) {
		const furet_qliteral *l = &lits[i];
		if (l->at > l->start || l->start > l->end || l->end > l->next ||
			l->next > len || l->at == l->next ||
			(i && lits[i - 1].next > l->at) ||
			(l->kind != FURET_Q_WORD && l->kind != FURET_Q_PREFIX &&
			l->kind != FURET_Q_PHRASE))
			return FURET_INVALID;
	}
	P.lits = lits;
	P.n_lits = n_lits;
	qy = furet_malloc(sizeof *qy);
	if (!qy) {
		rc = FURET_NOMEM;
		goto done;
	}
	memset(qy, 0, sizeof *qy);
	P.q = q;
	P.len = len;
	P.qy = qy;
	lex(&P);
	if (!P.rc)
		qy->root = parse_or(&P, 1);
	if (P.rc) {
		rc = P.rc;
		goto done;
	}
	if (count_nodes(qy->root) > FURET_QUERY_MAX_NODES) {
		budget = FURET_QUERY_MAX_NODES;
		prune(qy->root, &budget, 1);
		qy->is_truncated = 1;
	}
	*out = qy;
	qy = NULL;
	rc = FURET_OK;
done:
	furet_free(P.stack);
	furet_free(P.toks);
	furet_qtree_free(qy);
	return rc;
}

const furet_qnode *furet_qtree_root(const furet_qtree *qy)
{
	return qy ? qy->root : NULL;
}

int furet_qtree_is_truncated(const furet_qtree *qy)
{
	return qy ? qy->is_truncated : 0;
}

void furet_qtree_free(furet_qtree *qy)
{
	arena_chunk *c, *next;

	if (!qy)
		return;
	for (c = qy->arena; c; c = next) {
		next = c->next;
		furet_free(c);
	}
	furet_free(qy);
}

/* ---------------------------------------------------------------------
** Format
*/

typedef struct fmt_out {
	char *buf;
	size_t cap, len; /* len: bytes needed so far, written or not */
} fmt_out;

static void out_bytes(fmt_out *o, const char *s, size_t n)
{
	if (o->cap && o->len < o->cap - 1) {
		size_t room = o->cap - 1 - o->len;
		memcpy(o->buf + o->len, s, n < room ? n : room);
	}
	o->len += n;
}

static void out_str(fmt_out *o, const char *s)
{
	out_bytes(o, s, strlen(s));
}

/* Quotes and backslashes are escaped so the line reads back unambiguously;
** control bytes (a phrase may hold a tab or a NUL) as \xNN, so the line
** stays one line and one C string. */
static void out_text(fmt_out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, run = 0;
	char esc[4];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c != '"' && c != '\\' && c >= 0x20 && c != 0x7f)
			continue;
		out_bytes(o, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			out_bytes(o, esc, 2);
		} else {
			esc[1] = 'x';
			esc[2] = hex[c >> 4];
			esc[3] = hex[c & 15];
			out_bytes(o, esc, 4);
		}
	}
	out_bytes(o, s + run, n - run);
}

static void fmt_node(fmt_out *o, const furet_qnode *nd, const char *q)
{
	char tmp[32];
	size_t i;

	if (nd->modifier == FURET_QM_REQUIRED)
		out_str(o, "+");
	else if (nd->modifier == FURET_QM_EXCLUDED)
		out_str(o, "-");
	switch (nd->kind) {
	case FURET_Q_WORD:
	case FURET_Q_PREFIX:
	case FURET_Q_PHRASE:
		if (nd->field == FURET_QF_TITLE)
			out_str(o, "title:");
		else if (nd->field == FURET_QF_SECTION)
			out_str(o, "section:");
		out_str(o, nd->kind == FURET_Q_WORD ? "word:\"" :
				nd->kind == FURET_Q_PREFIX ? "prefix:\"" :
							     "phrase:\"");
		if (q && nd->end > nd->start)
			out_text(o, q + nd->start, nd->end - nd->start);
		out_str(o, "\"");
		return;
	case FURET_Q_AND:
		out_str(o, "(AND");
		break;
	case FURET_Q_OR:
		out_str(o, "(OR");
		break;
	case FURET_Q_NOT:
		out_str(o, "(NOT");
		break;
	case FURET_Q_NEAR:
		snprintf(tmp, sizeof tmp, "(NEAR/%u", nd->distance);
		out_str(o, tmp);
		break;
	}
	for (i = 0; i < nd->n_children; i++) {
		out_str(o, " ");
		fmt_node(o, nd->children[i], q);
	}
	out_str(o, ")");
}

size_t furet_qtree_format(const furet_qtree *qy, const char *q, char *buf,
	size_t cap)
{
	fmt_out o;

	o.buf = buf;
	o.cap = buf ? cap : 0;
	o.len = 0;
	if (qy && qy->root)
		fmt_node(&o, qy->root, q);
	if (o.cap)
		o.buf[o.len < o.cap ? o.len : o.cap - 1] = '\0';
	return o.len;
}
