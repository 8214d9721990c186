/*
** query.h — the query language: a query string -> a tree of clauses.
**
** Pure parsing, on the raw UTF-8 bytes: it knows nothing of the index nor of
** the analyzer. Words, phrases and prefixes keep their byte range in the
** query; the search analyses them with the same chain as the documents (one
** query word may give several terms: "Villeneuve-la-Garenne", "l'école").
**
** Grammar (operators are case-sensitive, as in Lucene and Xapian):
**
**   query   := or
**   or      := and ( ("OR" | implicit) and )*     juxtaposition is OR: free text
**   and     := unary ( "AND" unary )*
**   unary   := "NOT" unary | ("+" | "-") primary | near
**   near    := primary ( ("NEAR" | "NEAR/" n) primary )*   default n = 10
**   primary := [ field ":" ] ( word | word "*" | '"' words '"' | "(" query ")" )
**   field   := "title" | "section"
**
** "a b AND c" is a OR (b AND c). "+a" makes a required and "-a" excludes it,
** within the enclosing sequence of clauses. "a NOT b" is a OR (NOT b), which
** the search reads as "a, without b", like "-b".
**
** Malformed input always gets a reading, never an error: an unclosed quote
** runs to the end; an unclosed "(" is closed at the end and a stray ")" is
** ignored; a lone "+", "-", "*" or ":" is punctuation; an operator with a
** missing operand is read as a plain word ("AND" alone searches "and"); an
** unknown field ("foo:bar") is the word "foo:bar". Past FURET_QUERY_MAX_NODES
** clauses the rest is dropped and is_truncated is set.
*/
#ifndef FURET_QUERY_H
#define FURET_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "furet.h"

#define FURET_QUERY_MAX_NODES 1000
#define FURET_QUERY_MAX_DEPTH 32   /* deeper parentheses are flattened */

typedef enum furet_qkind {
	FURET_Q_WORD,   /* text: one query word */
	FURET_Q_PREFIX, /* text: the word before "*" */
	FURET_Q_PHRASE, /* text: the words between the quotes */
	FURET_Q_AND,    /* children: all must match */
	FURET_Q_OR,     /* children: any may match; scores add up */
	FURET_Q_NOT,    /* one child: must not match */
	FURET_Q_NEAR    /* children (2 or more, WORD/PREFIX/PHRASE): each within
	                   `distance` words of the previous one, in any order */
} furet_qkind;

/* FURET_QF_ANY, FURET_QF_TITLE, FURET_QF_SECTION: in furet.h. */

#define FURET_QM_NONE 0
#define FURET_QM_REQUIRED 1 /* "+": the enclosing OR needs it */
#define FURET_QM_EXCLUDED 2 /* "-": the enclosing OR rejects what matches it */

typedef struct furet_qnode {
	furet_qkind kind;
	int modifier;        /* FURET_QM_*, on a child of an OR */
	unsigned field;      /* FURET_QF_*: restriction inherited by the leaves */
	size_t start, end;   /* leaf text: byte range in the query string
	                        (WORD: the word; PREFIX: without the "*";
	                        PHRASE: between the quotes) */
	unsigned distance;   /* NEAR */
	struct furet_qnode **children;
	size_t n_children;
} furet_qnode;

/* A parsed query: the tree and what it is made of (furet_query, in furet.h,
** is the public builder, which search.c turns into one of these). */
typedef struct furet_qtree furet_qtree;

/* Parses q[0..len) (UTF-8; FURET_INVALID otherwise). On success *out is the
** caller's, release with furet_qtree_free. FURET_NOMEM on allocation
** failure. An empty query gives a root with no children (an OR with
** n_children 0); punctuation is kept as words ("?" is word:"?"), which
** the analyzer then turns into no term. */
furet_rc furet_qtree_parse(const char *q, size_t len, furet_qtree **out);

/* A leaf taken literally (the query builder's words, phrases and
** prefixes): when the lexer reaches byte `at` it makes a leaf of this kind
** over [start, end) and goes on at byte `next`, reading nothing in between
** as syntax. A "+" or "-" and a field prefix just before `at` apply to it,
** as they would to a word there. The rules for leaves still hold: a
** phrase of blanks or an empty leaf is dropped, a prefix of one character
** is a word. */
typedef struct furet_qliteral {
	furet_qkind kind;  /* FURET_Q_WORD, FURET_Q_PREFIX or FURET_Q_PHRASE */
	size_t at, next;   /* the token: at <= start <= end <= next */
	size_t start, end; /* the leaf's text */
} furet_qliteral;

/* furet_qtree_parse, with the n_lits literal leaves of lits (in increasing
** `at`, not overlapping; borrowed for the call). furet_qtree_parse(q, len,
** out) is furet_qtree_parse_literal(q, len, NULL, 0, out). FURET_INVALID
** also for literals out of order or out of the text. */
furet_rc furet_qtree_parse_literal(const char *q, size_t len,
	const furet_qliteral *lits, size_t n_lits, furet_qtree **out);
const furet_qnode *furet_qtree_root(const furet_qtree *qy);
int furet_qtree_is_truncated(const furet_qtree *qy);
void furet_qtree_free(furet_qtree *qy);

/* Whether the lexer reads cp as a space between words: ASCII and Unicode
** spaces, NUL and control characters. */
int furet_qtree_is_space(uint32_t cp);

/* Writes the tree as one line, for tests and --explain:
** (OR word:"a" +word:"b" -(AND word:"c" phrase:"d e")) etc. into buf,
** NUL terminated, truncated at cap. Returns the length it needed. */
size_t furet_qtree_format(const furet_qtree *qy, const char *q, char *buf,
	size_t cap);

#endif
