/*
** furet.h — the public API of libfuret, a full-text search engine for French.
**
** furet indexes documents cut into passages (paragraphs) in an LMDB
** environment and ranks passages with BM25F (the passage text, plus the
** document title and the passage's section as weaker fields).
**
** Conventions (as in LMDB):
**   - Handles are opaque. Every call that can fail returns a furet_rc and
**     writes its result through its last parameter, which is set to NULL (or
**     zero) on failure. Release functions return void and accept NULL.
**   - Text is passed as (pointer, byte length) in UTF-8 and need not be NUL
**     terminated. Strings returned by furet are NUL terminated as well.
**   - Ownership: each function says who owns what it returns and until when.
**
** Threads: a furet_index handle may be shared by several threads for
** searching; each thread runs its own searches and owns the furet_results it
** gets. Only one furet_writer may exist per index at a time (in any process;
** LMDB serialises writers); one thread makes the calls on it, and it runs
** threads of its own to analyse documents (furet_writer_options).
** furet_index_errmsg is per handle: with threads, read it only when you
** own the handle alone, or use the furet_rc.
*/
#ifndef FURET_H
#define FURET_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(FURET_BUILDING) && defined(__GNUC__)
#define FURET_API __attribute__((visibility("default")))
#else
#define FURET_API
#endif

#define FURET_VERSION_MAJOR 0
#define FURET_VERSION_MINOR 1
#define FURET_VERSION_PATCH 0
#define FURET_VERSION_STRING "0.1.0"
#define FURET_VERSION_NUMBER \
	(FURET_VERSION_MAJOR * 10000 + FURET_VERSION_MINOR * 100 + FURET_VERSION_PATCH)

/* Result codes. Append-only: the values are pinned and never reused. */
typedef enum furet_rc {
	FURET_OK = 0,
	FURET_ERROR = 1,    /* unclassified failure; see furet_index_errmsg */
	FURET_NOMEM = 2,    /* an allocation failed; nothing was changed */
	FURET_IO = 3,       /* reading or writing a file failed */
	FURET_CORRUPT = 4,  /* the index is damaged or is not a furet index */
	FURET_VERSION = 5,  /* the index has another format version or analyzer */
	FURET_INVALID = 6,  /* an argument is invalid (NULL, bad UTF-8, bad option) */
	FURET_NOINDEX = 7,  /* no index at that path (and creation not asked) */
	FURET_EXISTS = 8,   /* a document with that id is already in the index */
	FURET_BUSY = 9,     /* another writer holds the index */
	FURET_DONE = 10,    /* iteration finished: no more items */
	FURET_QUERY = 11    /* the query cannot be read */
} furet_rc;

/* A static English description of rc; never NULL. */
FURET_API const char *furet_strerror(furet_rc rc);

/* The library's version at run time, e.g. "0.1.0"; static. Compare with
** FURET_VERSION_STRING to detect a header/library mismatch. */
FURET_API const char *furet_version(void);
FURET_API int furet_version_number(void);

/* ---------------------------------------------------------------------
** Index handle
*/
typedef struct furet_index furet_index;

#define FURET_OPEN_CREATE 0x1   /* create the directory and an empty index */
#define FURET_OPEN_READONLY 0x2 /* never write; allows read-only media */
#define FURET_OPEN_REBUILD 0x4  /* also open an index of another format or
                                   analyzer version, to rebuild it whole: only
                                   furet_writer_begin with FURET_WRITE_REBUILD
                                   may use it then (others get FURET_VERSION)
                                   until that batch commits */

/* Opens the index stored in directory dir (UTF-8 path, NUL terminated).
** Returns FURET_NOINDEX when there is none and FURET_OPEN_CREATE is not set,
** FURET_CORRUPT for a file that is not a furet index, FURET_VERSION for an
** index of another format version or analyzer (rebuild it).
** On success *out is the caller's; release with furet_index_close. On
** failure *out is NULL; furet_last_errmsg() says why in more detail. */
FURET_API furet_rc furet_index_open(const char *dir, unsigned flags,
	furet_index **out);

/* Closes the index. Every furet_writer and furet_results made from it must
** have been released first. Accepts NULL. */
FURET_API void furet_index_close(furet_index *ix);

/* The detail of the last failure on this handle (which file, which LMDB or
** ICU code), or "" when there was none. Borrowed until the next call on ix. */
FURET_API const char *furet_index_errmsg(const furet_index *ix);

/* The detail of the last failure of furet_index_open in this thread.
** Static storage; valid until the next furet_index_open in this thread. */
FURET_API const char *furet_last_errmsg(void);

/* Collection statistics of the committed index. */
typedef struct furet_stats {
	uint64_t n_docs;
	uint64_t n_passages;    /* live passages */
	uint64_t n_terms;       /* distinct index terms */
	uint64_t n_postings;    /* live (term, passage) pairs */
	uint64_t total_length;  /* indexed words over all live passages */
	uint64_t text_bytes;    /* stored passage text */
	uint64_t n_dead;        /* removed passages whose postings remain until
	                           furet_index_compact */
	uint64_t file_bytes;    /* size of data.mdb */
	uint64_t last_update;   /* Unix time of the last commit */
	uint32_t format_version;
	char analyzer[128];     /* analyzer signature, NUL terminated */
} furet_stats;

/* Checks the whole index: every posting points to a passage (live, or
** removed and counted as dead), document frequencies and the collection
** statistics match the postings, records decode. FURET_OK, or
** FURET_CORRUPT with the first problems in furet_index_errmsg. */
FURET_API furet_rc furet_index_check(furet_index *ix);

/* Rewrites the index compactly: the postings of removed passages are
** dropped, every table is rewritten densely into a sibling directory
** DIR.compact, and the two directories are exchanged atomically (the index
** directory must hold only furet's files: FURET_INVALID otherwise). Takes
** the writer lock; this handle then reads the new files. Other processes
** that have the index open keep reading their snapshot of the old files
** until they reopen it (and must not write through it meanwhile).
** *before and *after (may be NULL) get data.mdb's size in bytes. */
FURET_API furet_rc furet_index_compact(furet_index *ix, uint64_t *before,
	uint64_t *after);

FURET_API furet_rc furet_index_stats(furet_index *ix, furet_stats *out);

/* ---------------------------------------------------------------------
** Writing: a batch of documents committed at once
*/
typedef struct furet_writer furet_writer;

/* Document formats: how the text is cut into passages. */
#define FURET_FORMAT_TEXT 0     /* paragraphs: blank-line separated, or one per line */
#define FURET_FORMAT_MARKDOWN 1 /* as TEXT, and "# ..." lines are headings */

typedef struct furet_doc {
	const char *id;      /* unique document id, UTF-8; required */
	size_t id_len;
	const char *title;   /* may be NULL */
	size_t title_len;
	const char *text;    /* the document body, UTF-8; may be empty */
	size_t text_len;
	unsigned format;     /* FURET_FORMAT_* */
	const char *source;  /* where it came from (a file path), NUL terminated,
	                        or NULL; see furet_writer_remove_unseen */
} furet_doc;

#define FURET_WRITE_REBUILD 0x1 /* the batch replaces the whole index */
#define FURET_WRITE_NO_WAIT 0x2 /* fail with FURET_BUSY at once when another
                                   writer (in any process) holds the index,
                                   instead of waiting for it */

/* Starts a batch. Nothing is visible to searches until furet_writer_commit
** returns FURET_OK; a batch that is aborted (or a process that dies) leaves
** the index exactly as it was. One batch at a time per index: in another
** process, begin waits for it to end (or with FURET_WRITE_NO_WAIT returns
** FURET_BUSY, furet_index_errmsg naming the process); on this handle it
** returns FURET_BUSY. Searches are never blocked. *out is the caller's: end
** it with commit or abort. */
FURET_API furet_rc furet_writer_begin(furet_index *ix, unsigned flags,
	furet_writer **out);

/* Options of a batch, for furet_writer_begin_v2; furet_writer_options_init
** fills the defaults (all zero). */
typedef struct furet_writer_options {
	unsigned flags;        /* FURET_WRITE_* */
	unsigned threads;      /* threads analysing documents while the caller
	                          adds more: 0 for the online processors (at
	                          most 8), 1 to analyse in the calling thread.
	                          The index is the same whatever the number. */
	uint64_t memory;       /* memory budget of the batch in bytes: 0 for
	                          1 GiB; at least 1 MiB. Beyond it, the stored
	                          texts and sorted runs of postings are spilled
	                          to temporary files and merged at commit (same
	                          index, more I/O). The commit's LMDB
	                          transaction holds the pages it writes in
	                          memory, about the size of what the batch adds
	                          to the index and at most 512 MiB: the writer
	                          makes room for them, but a smaller budget
	                          cannot hold a bigger batch. */
	const char *tmp_dir;   /* where those files go: NULL for the index
	                          directory. They have no name and vanish with
	                          the writer, whatever happens to the process. */
} furet_writer_options;

FURET_API void furet_writer_options_init(furet_writer_options *o);

/* furet_writer_begin with options (NULL arguments: FURET_INVALID). */
FURET_API furet_rc furet_writer_begin_v2(furet_index *ix,
	const furet_writer_options *o, furet_writer **out);

/* Adds a document to the batch. The writer copies what it needs: the
** caller's buffers may be reused when the call returns. Returns
** FURET_INVALID for a missing id or text that is not UTF-8 (the batch goes
** on without that document), FURET_EXISTS when the id is already in the
** index or earlier in this batch, FURET_NOMEM (the batch must be aborted).
** The document is analysed in another thread when the writer has several:
** a failure there (FURET_NOMEM, or FURET_IO writing a temporary file) is
** returned by a later call and by furet_writer_commit. */
FURET_API furet_rc furet_writer_add(furet_writer *w, const furet_doc *doc);

/* Adds the document, or replaces the indexed document of the same id when
** its content (title, text, format) changed; an unchanged document is left
** as it is, without being analysed again. A second put of an id in the
** same batch replaces the first (the last one wins). *outcome, when not
** NULL, gets FURET_PUT_ADDED, FURET_PUT_UPDATED, FURET_PUT_UNCHANGED or
** FURET_PUT_REPLACED_IN_BATCH. Errors as furet_writer_add. */
FURET_API furet_rc furet_writer_put(furet_writer *w, const furet_doc *doc,
	int *outcome);

#define FURET_PUT_ADDED 1
#define FURET_PUT_UPDATED 2
#define FURET_PUT_UNCHANGED 3
#define FURET_PUT_REPLACED_IN_BATCH 4

/* Removes the document with this id (and all its passages) at commit.
** FURET_DONE when the index has no such document. */
FURET_API furet_rc furet_writer_remove(furet_writer *w, const char *id,
	size_t id_len);

/* Removes at commit every indexed document whose source is one of the n
** paths, or lies under one of them (a directory), and that was not put in
** this batch: files deleted since the last run, ids gone from a JSONL file.
** *n_removed gets how many. */
FURET_API furet_rc furet_writer_remove_unseen(furet_writer *w,
	const char *const *paths, size_t n, size_t *n_removed);

/* What the batch will do when committed, each id counted once by its last
** put: added (new ids), updated (indexed ids whose content changed),
** removed (indexed ids removed and not put again), unchanged (put with the
** content already indexed), repeated (puts that replaced an earlier put of
** the same id in this batch). */
typedef struct furet_batch_summary {
	size_t added, updated, removed, unchanged, repeated;
} furet_batch_summary;

FURET_API furet_rc furet_writer_summary(furet_writer *w,
	furet_batch_summary *out);

/* Number of passages added so far in this batch (waits for the documents
** still being analysed). */
FURET_API size_t furet_writer_passages(const furet_writer *w);

/* Commits the batch in one LMDB write transaction and releases w, whatever
** the result. On failure the index is unchanged. */
FURET_API furet_rc furet_writer_commit(furet_writer *w);

/* Discards the batch and releases w. Accepts NULL. */
FURET_API void furet_writer_abort(furet_writer *w);

/* ---------------------------------------------------------------------
** Searching
*/
typedef struct furet_search_options {
	unsigned limit;        /* hits to return; default 10 */
	unsigned offset;       /* hits to skip first; default 0 */
	double k1;             /* BM25 term saturation; default 1.2 */
	double b;              /* BM25 length normalisation; default 0.3 (chosen
	                          on the PIAF and spf_qr dev questions) */
	double w_title;        /* weight of a title match; default 3 */
	double w_section;      /* weight of a section match; default 0.5 */
	double w_fold;         /* weight of a match that differs from the query
	                          word by accents only (a query "peche" reaching
	                          "pêche"), 0..1; default 0.7. The word's own form
	                          always weighs 1. */
	double w_typo;         /* weight of a typo correction, 0..1; default 0.5 */
	double w_prox;         /* weight of the proximity bonus: query words close
	                          to each other in the passage; default 0.6 */
	double w_phrase;       /* weight of the bonus of a matched "phrase";
	                          default 1.0 */
	double w_cover;        /* weight of the bonus for holding more of the
	                          query's words (by idf, squared); default 0.6 */
	double w_doc;          /* with FURET_SEARCH_BEST_PER_DOC, a document of
	                          several passages scores (1 - w_doc) x its best
	                          passage's score + w_doc x BM25F over all its
	                          matching passages as one text; 0..1, default
	                          0.6 */
	double b_doc;          /* length normalisation of that document-level
	                          score, 0..1; default 1 */
	unsigned max_expansions; /* terms a prefix* reaches at most (the most
	                          frequent); default 64, at most 4096 */
	unsigned flags;        /* FURET_SEARCH_* */
} furet_search_options;

#define FURET_SEARCH_BEST_PER_DOC 0x1 /* keep only the best passage of each document */
#define FURET_SEARCH_NO_TEXT 0x2      /* do not fetch passage text nor highlights */
#define FURET_SEARCH_EXPLAIN 0x4      /* fill furet_hit.explain */
#define FURET_SEARCH_NO_TYPO 0x8      /* no typo correction */

/* Fills o with the defaults. */
FURET_API void furet_search_options_init(furet_search_options *o);

typedef struct furet_results furet_results;

typedef struct furet_span {
	size_t start, end; /* byte range [start, end) */
} furet_span;

/* One hit. All pointers are borrowed from the furet_results and stay valid
** until furet_results_free. Strings are NUL terminated. */
typedef struct furet_hit {
	unsigned rank;          /* from 1, counting the offset */
	double score;
	const char *doc;        /* document id */
	const char *title;      /* "" when none */
	const char *section;    /* NULL when the passage has no section */
	uint32_t passage;       /* passage number in its document, from 0 */
	size_t start, end;      /* byte range of the passage in its document */
	const char *text;       /* passage text (NULL with FURET_SEARCH_NO_TEXT) */
	size_t text_len;
	const furet_span *highlights; /* matched words, byte ranges in text */
	size_t n_highlights;
	furet_span snippet;     /* a window of text around the best highlights,
	                           about 240 bytes, cut between words (the
	                           whole text when it is short) */
	const struct furet_explain *explain; /* with FURET_SEARCH_EXPLAIN: how
	                           each part of the score came, else NULL */
	size_t n_explain;
} furet_hit;

/* One part of a hit's score (FURET_SEARCH_EXPLAIN). Strings are borrowed
** from the furet_results. */
typedef struct furet_explain {
	const char *word;  /* the query word (or phrase) as typed */
	const char *term;  /* the index term it matched ("" for a bonus) */
	const char *how;   /* "exact" (same word), "stem" (same stem, other
	                      form), "accent" (differs by accents), "compound"
	                      (a part or the whole of a compound), "prefix",
	                      "typo", "phrase", "proximity", "coverage" (bonuses) */
	const char *field; /* "text", "title", "section" or "" for a bonus */
	double tf;         /* occurrences (weighted) */
	double score;      /* contribution to the hit's score */
} furet_explain;

/* Runs the query q (UTF-8, q_len bytes) with options o (NULL for the
** defaults). The query language:
**   free text        words, any of which may match; stop words are dropped
**                    unless nothing else is left
**   "exact phrase"   the words in this order, stop words included
**   +word -word      required, excluded
**   a AND b, a OR b, NOT a, ( )    boolean operators, in capitals
**   prefix*          the words that start so (at most max_expansions)
**   a NEAR/n b       a and b within n words (NEAR alone: 10)
**   title:x section:x   restricted to the document title or passage section
** A malformed query is read as sensibly as possible (an unclosed quote runs
** to the end, a stray parenthesis is ignored), never an error. A word absent
** from the index (5+ letters) is also looked for with one typo (two for 9+
** letters), accents free; see furet_results_suggestion. A query without any
** word returns no hits, not an error.
** Returns FURET_INVALID for NULL arguments or a query that is not UTF-8.
** On success *out is the caller's; release with furet_results_free. The
** results are a snapshot: they stay valid after later commits. */
FURET_API furet_rc furet_search(furet_index *ix, const char *q, size_t q_len,
	const furet_search_options *o, furet_results **out);

/* Number of hits held (at most the limit). */
FURET_API size_t furet_results_count(const furet_results *r);

/* Total number of passages that matched, before limit and offset. */
FURET_API uint64_t furet_results_matched(const furet_results *r);

/* "Did you mean": the query with its misspelt words corrected, when typo
** correction found words the index has for words it has not; NULL
** otherwise. Borrowed until furet_results_free. */
FURET_API const char *furet_results_suggestion(const furet_results *r);

/* Copies hit i (0-based, < furet_results_count) into *out. */
FURET_API furet_rc furet_results_get(const furet_results *r, size_t i,
	furet_hit *out);

FURET_API void furet_results_free(furet_results *r);

/* ---------------------------------------------------------------------
** Analysis: the terms furet indexes for a text
*/
typedef struct furet_analysis furet_analysis;

typedef struct furet_term {
	const char *term;  /* the index term (the stem, accents kept); NUL
	                      terminated, borrowed until furet_analysis_free */
	size_t term_len;
	uint32_t position; /* word position, from 0; the whole of a compound
	                      shares its first part's position */
	size_t start, end; /* byte range of the word in the analysed text,
	                      without an elided article ("l'école" -> "école") */
	int is_stop;       /* 1 for a stop word (indexed, dropped from queries) */
	const char *fold;  /* accent-free lookup key: the stem of the word without
	                      accents; accent-insensitive matching goes through it */
	const char *word;  /* the word normalised and case-folded, before stemming */
	size_t elision_len; /* bytes of the elided article before start, or 0 */
	unsigned flags;    /* FURET_TERM_* */
} furet_term;

#define FURET_TERM_STOP 0x1     /* a stop word */
#define FURET_TERM_PART 0x2     /* a part of a compound, name, e-mail or URL */
#define FURET_TERM_WHOLE 0x4    /* the whole compound (spans its parts) */
#define FURET_TERM_NUMBER 0x8   /* a number in canonical form (1002758,20) */
#define FURET_TERM_ACRONYM 0x10 /* an acronym written with dots (S.A.S.) */
#define FURET_TERM_ACCENTED 0x20 /* the word has accents or ligatures */

/* Analyses text as furet indexes it. *out is the caller's; release with
** furet_analysis_free. FURET_INVALID when text is not UTF-8. */
FURET_API furet_rc furet_analyze(const char *text, size_t len,
	furet_analysis **out);
FURET_API size_t furet_analysis_count(const furet_analysis *a);
FURET_API furet_rc furet_analysis_get(const furet_analysis *a, size_t i,
	furet_term *out);
FURET_API void furet_analysis_free(furet_analysis *a);

/* The analyzer signature stored in every index (ICU and Snowball versions,
** furet's rule version); static. */
FURET_API const char *furet_analyzer_name(void);

#ifdef __cplusplus
}
#endif

#endif
