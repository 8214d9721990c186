/*
** analysed.h — a document analysed for the writer, ready to be inverted.
**
** furet_adoc_run cuts one document into passages (passage.c) and analyses
** its title, the sections and the bodies of its passages (analyzer.c) into
** what the writer's inverter appends to its postings without looking at a
** token again:
**
**   - the document's distinct terms, each with its hash (furet_hash32,
**     the key of the writer's term table too, which the analyzer gives
**     with each token);
**   - for each passage, one ENTRY per distinct term of the passage (body,
**     document title or passage section):
**         varint local term, varint body tf, varint n, then n bytes: title
**         tf (a byte, capped at 255), section tf (idem), then tf varint
**         deltas of the body positions (ascending, from 0)
**     which is the tail of writer.c's in-memory POSTING record, so that the
**     inverter only writes the passage delta before copying it (with
**     8-byte loads: ents has FURET_ENTRY_SLACK bytes of room past its
**     end);
**   - but a term with no body occurrence in consecutive passages, with the
**     same title and section counts there (a title's terms in most of a
**     document's passages), gets no ENTRY in them: one SPAN record stands
**     for them all,
**         varint local term, 0, 0, varint first passage (in the
**         document), varint count, title tf byte, section tf byte
**     (an ENTRY's n is never 0), placed before the ENTRYs of the passage
**     after the run, or after the last passage's (tail_off); the
**     inverter makes it one in-memory record too;
**   - the lookup pairs of the folds and words tables ("fold\0term",
**     "unaccented word\0term"), but not those the worker recorded for an
**     earlier document (a small cache): the index gets their union.
**
** The result depends only on the document and the analysis chain, never on
** the thread that made it: the writer runs furet_adoc_run in worker threads
** (pipeline.c), each with its own analyzer, and inverts in submission order.
** A furet_adoc is reused from document to document: reset keeps its memory.
*/
#ifndef FURET_ANALYSED_H
#define FURET_ANALYSED_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "furet.h"
#include "index.h"
#include "util.h"

#define FURET_ENTRY_SLACK 8

#define FURET_PAIR_FOLDS 0
#define FURET_PAIR_WORDS 1

typedef struct furet_adoc_passage {
	size_t start, end;        /* byte range in the text */
	int has_section;
	size_t sec_start, sec_end;
	uint32_t length;          /* body words (a compound's whole not counted) */
	size_t ent_off, ent_len;  /* its ENTRY and SPAN records in ents */
} furet_adoc_passage;

typedef struct furet_adoc_term {
	uint32_t off, len;        /* in term_bytes */
	uint32_t hash;            /* furet_hash32 of the term */
	uint32_t word_off, word_len; /* the word it came from last, in words */
} furet_adoc_term;

/* A term of the passage being written: its occurrences, counted, and its
** body tokens chained in token order (analysed.c). */
typedef struct adoc_group {
	uint32_t ltid;
	uint32_t tf, tt, ts;      /* body, title and section occurrences */
	uint32_t first, last;     /* its first and last body tokens */
} adoc_group;

/* A worker's cache of the (word, term) whose pairs it recorded lately
** (analysed.c): direct-mapped, a 64-bit fingerprint of the key a slot
** (0: empty). */
#define FURET_PAIR_CACHE_BITS 16
#define FURET_PAIR_CACHE (1u << FURET_PAIR_CACHE_BITS)
typedef uint64_t furet_pair_cache;

typedef struct furet_adoc {
	/* Input, set by the writer with furet_adoc_set. */
	furet_buf in;             /* title, text, source and metadata, copied */
	size_t title_len, text_len, source_len, meta_len;
	int has_title;            /* the document gave a title (maybe "") */
	unsigned format;
	uint32_t doc;             /* the writer's document number */
	unsigned char hash[16];   /* content hash: given, or made by run */
	int has_hash;

	/* Output of furet_adoc_run. */
	furet_rc rc;
	size_t eff_title_off, eff_title_len; /* the title used, in in */
	furet_adoc_passage *pass;
	size_t n_pass, cap_pass;
	furet_adoc_term *terms;
	size_t n_terms, cap_terms;
	furet_buf term_bytes;
	furet_buf ents;
	furet_buf pairs;          /* PAIR: byte table, 4 bytes hash (native
	                             order), varint len, the key "a\0b" */
	size_t n_pairs;
	uint32_t *bmap;           /* per local term: the batch's term */
	size_t cap_bmap;
	size_t tail_off, tail_len; /* SPAN records after the last passage's */
} furet_adoc;

/* What a thread needs to analyse documents: its analyzer, its cache of
** pairs, and scratch memory kept from one document to the next. */
typedef struct furet_adoc_work {
	furet_analyzer *an;
	furet_pair_cache cache[FURET_PAIR_CACHE];
	uint32_t *slots;          /* the document's terms: index + 1, 0 empty */
	size_t n_slots;
	uint32_t *grp;            /* per local term: its group in the passage */
	size_t cap_grp;
	struct adoc_span *spans;  /* per local term: its counts in the title
	                             and the section, and its open SPAN */
	uint32_t stamp;
	uint32_t *title_ltids, *sec_ltids;
	size_t n_title, cap_title, n_sec, cap_sec;
	adoc_group *groups;       /* the passage's terms, by first occurrence */
	size_t cap_groups;
	uint32_t *next;           /* per body token: the next one of its term */
	size_t cap_next;
	uint32_t *cand;           /* a passage's tokens whose pairs are to be
	                             looked for */
	uint64_t *cand_hash;      /* and their pair_hash */
	size_t cap_cand, cap_cand_hash;
	furet_buf words;          /* words of the document's terms (lookups) */
	furet_buf scratch;
	uint32_t *bslots;         /* the batch's terms: index + 1, 0 empty */
	size_t n_bslots;
} furet_adoc_work;

/* Documents analysed as one job of the pipeline: fewer hand-overs
** between threads than one document at a time. The job also gathers the
** distinct terms of its documents (those analysed without error, in order
** of first use), and maps each document's local terms to them (bmap): the
** writer looks a term up in its big table once per batch, not once per
** document that has it (2.2 M lookups instead of 13.1 M on the 212 MB
** corpus). has_terms is 0 when that ran out of memory: the writer then
** looks the documents' terms up one by one. */
typedef struct furet_adoc_batch {
	furet_adoc *docs;
	size_t n, cap;            /* docs[0..cap) are initialised */
	furet_adoc_term *terms;   /* (word_off, word_len unused) */
	size_t n_terms, cap_terms;
	furet_buf term_bytes;
	int has_terms;
} furet_adoc_batch;

void furet_adoc_init(furet_adoc *d);
void furet_adoc_free(furet_adoc *d);

/* Copies the document's title (NULL: none given), text, source and
** metadata into d
** (replacing the previous document), with its content hash, or NULL for
** furet_adoc_run to make it. FURET_NOMEM. */
furet_rc furet_adoc_set(furet_adoc *d, const furet_doc *doc, uint32_t doc_no,
	const unsigned char *hash);

/* The content hash of a document (format, title, text, metadata), which the index
** keeps to tell whether a document put again changed: 128 bits from four
** lanes of multiply and shift over 8-byte little-endian words, the same on
** every machine (not a defence against forged collisions). */
void furet_doc_hash(const furet_doc *doc, unsigned char out[16]);

/* A furet_adoc_work with an analyzer from ix's pool, and its release.
** FURET_NOMEM, FURET_ERROR (ICU). */
furet_rc furet_adoc_work_open(furet_index *ix, furet_adoc_work **out);
void furet_adoc_work_close(furet_index *ix, furet_adoc_work *k);

/* Analyses the document set in d with k (this thread's); stores and
** returns the result code in d->rc. */
furet_rc furet_adoc_run(furet_adoc *d, furet_adoc_work *k);

/* Bytes of memory d holds (for the writer's budget). */
size_t furet_adoc_bytes(const furet_adoc *d);

/* The pipeline's view of analysis: slots are furet_adoc_batch, each
** worker has a furet_adoc_work (ctx is the furet_index). */
struct furet_pipeline_ops;
extern const struct furet_pipeline_ops furet_adoc_ops;

static inline const char *furet_adoc_text(const furet_adoc *d)
{
	return (const char *)d->in.data + d->title_len;
}

static inline const char *furet_adoc_source(const furet_adoc *d)
{
	return (const char *)d->in.data + d->title_len + d->text_len;
}

static inline const char *furet_adoc_meta(const furet_adoc *d)
{
	return (const char *)d->in.data + d->title_len + d->text_len +
		d->source_len;
}

#endif
