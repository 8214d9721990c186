/*
** plan.h — a query's plan: what each query word reads in the index.
**
** search.c evaluates a parsed query (query.c) against the index through a
** plan: leaves (words, prefixes, phrases) analysed like the documents into
** groups, one per query term, and for each group the cursors over the
** index terms it reaches: its own term, the terms differing only by accents
** (folds table), a prefix's expansions, a missing word's typo candidates
** (words table). plan.c builds and opens plans and moves cursors over
** postings blocks; search.c matches and scores passages with them.
*/
#ifndef FURET_PLAN_H
#define FURET_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "furet.h"
#include "query.h"
#include "store.h"
#include "util.h"

enum { HOW_OWN, HOW_FOLD, HOW_PREFIX, HOW_TYPO, HOW_FAMILY };

/* One index term being read: a cursor over its postings blocks, with the
** positions of the current block decoded when a phrase, NEAR or the
** proximity bonus asks for them. */
typedef struct qcursor {
	uint32_t at;       /* passage id of the current posting; UINT32_MAX
	                      once done (kept next to the flags the evaluation
	                      loop reads for every cursor at every passage) */
	int is_at;         /* on the passage being scored (at blk index i) */
	int is_essential;  /* leads the evaluation (search.c: pruning) */
	int is_done;
	uint32_t group;
	double weight;
	furet_term_bound bound, dbound; /* its term's (store.h) */
	double fmax;       /* the most its term's (tf / norm + w_title tt +
	                      w_section ts) reaches in a passage, from bound:
	                      0 with no postings (search.c: pruning) */
	double dmax;       /* the same in a document's level score (doc_score:
	                      its passages' frequencies summed) */
	double ub;         /* ceiling of its part of its group's score */
	uint64_t df;       /* its term's passages */
	furet_block *blk;
	uint32_t n_blocks, block, i;
	furet_cursor *cur; /* over the postings, on block cur_block: the next
	                      block is the next key (plan.c) */
	uint32_t cur_block;
	int how;           /* HOW_* */
	size_t term_off;   /* in the plan arena */
	const char *term;  /* set once the arena stops moving */
	size_t len;
	furet_val rec;     /* the postings record of blk: its positions */
	furet_val inl;     /* the record of the term's only block, kept in
	                      its terms record (data NULL otherwise) */
	int has_pos;       /* positions of this block decoded */
	uint32_t *pos;
	size_t cap_pos;
	uint32_t *pos_off; /* FURET_BLOCK_SIZE + 1 offsets into pos */
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
	int is_name;       /* a number, or capitalised and not the query's first word */
	/* pruning (search.c): of its non-essential cursors, the sum of
	** weight * fmax (bsum), of weight * dmax (dsum), and the largest
	** weight; while a passage is tested, bsum of those not looked at yet
	** (rsum), and of its cursors found there, their weighted frequencies
	** and largest weight (esum, ew) */
	double bsum, dsum, bw, rsum, esum, ew;
	uint32_t bn, rn;   /* non-essential cursors of weight above 0; of
	                      those, not looked at yet (a passage's test) */
	double bpart, bgot; /* its BM25F part of that bound and its idf times
	                       weight (a prox group), 0 when not there */
	int bin;            /* there: a bound above 0 */
	double bpart0, bgot0; /* the same with no cursor looked at */
	int bin0, is_touched;
	int is_asked;      /* the word an interrogative asks for ("quel pays") */
	size_t q_start, q_end; /* the word's bytes in the query (suggestions) */
	uint64_t df;
	double idf;
	/* the current passage */
	double tf, tt, ts;
	int is_hit;
	double hit_weight; /* the largest weight of its terms found */
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
	/* search.c: the groups found in the passage being scored, in group
	** order (the loops over a passage's groups visit just those), and
	** the idf of all the free-text groups (coverage) */
	uint32_t *hit;
	size_t n_hit;
	double prox_all;
	/* search.c: each group's cursors, in cursor order: those of group g
	** are gcur[gcur_off[g]] to gcur[gcur_off[g + 1] - 1] */
	uint32_t *gcur, *gcur_off;
} plan;

/* Builds the plan of the parsed query rooted at root (q its text). */
furet_rc furet_plan_build(plan *pl, furet_analyzer *an, const char *q,
	const furet_qnode *root);

/* Opens the plan on the index: expansions, then a cursor on every term the
** index has, the groups' idf, and the typo suggestion. q is the query's
** text, q_len bytes (not NUL terminated). */
furet_rc furet_plan_open(plan *pl, furet_txn *t, const furet_search_options *o,
	uint64_t n_passages, const char *q, size_t q_len, unsigned char *key);

void furet_plan_free(plan *pl);

/* A string of the plan's arena. */
const char *furet_plan_str(const plan *pl, size_t off);

/* Cursors over a term's postings blocks; key is a scratch buffer of 512
** bytes. advance and seek set is_done past the last posting. */
furet_rc furet_plan_load_block(furet_txn *t, qcursor *q, unsigned char *key);
furet_rc furet_plan_advance(furet_txn *t, qcursor *q, unsigned char *key);
furet_rc furet_plan_seek(furet_txn *t, qcursor *q, uint32_t pid,
	unsigned char *key);
furet_rc furet_plan_rewind(furet_txn *t, qcursor *q, unsigned char *key);
/* Decodes the positions of the cursor's current block. */
furet_rc furet_plan_load_positions(qcursor *q);

#endif
