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
** Threads: one furet_index handle may be shared by any number of threads.
**   - furet_search, furet_index_stats, furet_index_check and
**     furet_index_compact may run at the same time on one handle: a search
**     reads a snapshot of the last commit, and a compaction waits for the
**     transactions in progress on this handle before it swaps the files.
**   - What a call returns belongs to the thread that made it: each thread
**     runs its own searches and owns its furet_results (one per search;
**     furet_results and furet_analysis may be handed to another thread, but
**     are used by one thread at a time).
**   - A furet_writer is used by one thread at a time, and there is at most
**     one per index at a time (in any process; LMDB serialises writers).
**     Searches in other threads go on meanwhile and see the last commit.
**     The writer runs threads of its own to analyse documents
**     (furet_writer_options).
**   - furet_index_close comes after every other call on the handle has
**     returned and everything made from it has been released.
**   - furet_index_errmsg is per handle: another thread's failure may
**     overwrite it, so decide on the furet_rc and read the message only when
**     you own the handle alone. furet_last_errmsg is per thread.
**   - furet_strerror, the version calls, furet_analyze,
**     furet_search_options_init and the furet_query_* builders may be
**     called from any thread at any time (a furet_query being built is used
**     by one thread at a time; once built, furet_search_query may run it in
**     several threads at once).
**
** Linking: pkg-config --cflags --libs furet (add --static with libfuret.a).
** Version: FURET_VERSION_* say which header a program was compiled with,
** furet_version() which library it runs with.
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
	FURET_QUERY = 11    /* the query cannot be read (a built query nested
	                       too deep) */
} furet_rc;

/* A static English description of rc; never NULL. */
FURET_API const char *furet_strerror(furet_rc rc);

/* The library's version at run time, e.g. "0.1.0"; static storage, never
** NULL. Compare with FURET_VERSION_STRING to detect a program compiled
** with another header than the library it runs with. */
FURET_API const char *furet_version(void);

/* The same as a number, MAJOR * 10000 + MINOR * 100 + PATCH (compare with
** FURET_VERSION_NUMBER). */
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

/* Opens the index stored in directory dir (UTF-8 path, NUL terminated;
** copied: dir may be freed when the call returns). flags: FURET_OPEN_*.
** Returns FURET_OK; FURET_NOINDEX when there is none and FURET_OPEN_CREATE
** is not set; FURET_IO when the directory cannot be created or read;
** FURET_CORRUPT for a file that is not a furet index; FURET_VERSION for an
** index of another format version or analyzer (rebuild it); FURET_INVALID
** for a NULL or empty dir or a NULL out; FURET_NOMEM.
** On success *out is the caller's; release with furet_index_close. On
** failure *out is NULL; furet_last_errmsg() says why in more detail. */
FURET_API furet_rc furet_index_open(const char *dir, unsigned flags,
	furet_index **out);

/* Closes the index and frees the handle. Every furet_writer made from it
** must have been committed or aborted first, and no other thread may be
** using it. furet_results and furet_analysis are snapshots and outlive it.
** Accepts NULL. */
FURET_API void furet_index_close(furet_index *ix);

/* The detail of the last failure on this handle (which file, which LMDB or
** ICU code), or "" when there was none; never NULL ("" for a NULL ix).
** Borrowed until the next call on ix (see Threads above). */
FURET_API const char *furet_index_errmsg(const furet_index *ix);

/* The detail of the last failure of furet_index_open in this thread.
** Static storage; valid until the next furet_index_open in this thread. */
FURET_API const char *furet_last_errmsg(void);

/* Collection statistics of the committed index (furet_index_stats). */
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
** statistics match the postings, records decode. Reads everything in one
** read transaction: slow on a big index, but searches and writers go on.
** FURET_OK; FURET_CORRUPT with the first problems in furet_index_errmsg;
** FURET_VERSION on an index opened with FURET_OPEN_REBUILD and not rebuilt
** yet; FURET_INVALID for a NULL ix; FURET_NOMEM, FURET_IO. */
FURET_API furet_rc furet_index_check(furet_index *ix);

/* Rewrites the index compactly: the postings of removed passages are
** dropped (in transactions of 32 MiB written; a search meanwhile sees the
** same results, as it skips them), every table is rewritten densely into a
** sibling directory DIR.compact, and the two directories are exchanged
** atomically (the index directory must hold only furet's files:
** FURET_INVALID otherwise). Takes the writer lock; this handle then reads
** the new files. Other handles that have the index open, in any process,
** read the new files from their next search, check or batch on (a search
** in progress finishes on the old ones); a full rebuild
** (FURET_WRITE_REBUILD) swaps them as well.
** *before and *after (may be NULL) get data.mdb's size in bytes.
** Waits for a writer in another process; FURET_BUSY while a furet_writer
** of this handle is open; FURET_IO when the copy cannot be written (the
** index is left as it was); FURET_VERSION as furet_index_check. */
FURET_API furet_rc furet_index_compact(furet_index *ix, uint64_t *before,
	uint64_t *after);

/* Fills *out with the statistics of the last commit (caller's storage; no
** allocation to release). FURET_OK; FURET_INVALID for NULL arguments;
** FURET_VERSION as furet_index_check; FURET_CORRUPT, FURET_IO. */
FURET_API furet_rc furet_index_stats(furet_index *ix, furet_stats *out);

/* ---------------------------------------------------------------------
** Writing: a batch of documents committed at once
*/
typedef struct furet_writer furet_writer;

/* Document formats: how the text is cut into passages. */
#define FURET_FORMAT_TEXT 0     /* paragraphs: blank-line separated, or one per line */
#define FURET_FORMAT_MARKDOWN 1 /* as TEXT, and "# ..." lines are headings */

#define FURET_ID_MAX 511 /* bytes of a document id at most (an LMDB key) */

/* The most bytes of metadata a document may carry (furet_doc.meta). */
#define FURET_META_MAX 65536

/* A document to index. Zero it whole (memset, or = { 0 }) before setting
** the fields you use: a field left zero is absent. */
typedef struct furet_doc {
	const char *id;      /* unique document id, UTF-8, 1 to FURET_ID_MAX
	                        bytes; required */
	size_t id_len;
	const char *title;   /* may be NULL */
	size_t title_len;
	const char *text;    /* the document body, UTF-8; may be empty */
	size_t text_len;
	unsigned format;     /* FURET_FORMAT_* */
	const char *source;  /* where it came from (a file path), NUL terminated,
	                        or NULL; see furet_writer_remove_unseen */
	const void *meta;    /* metadata: meta_len bytes the caller chooses (JSON,
	                        a database key, a URL...), stored with the
	                        document and returned with each of its hits
	                        (furet_hit.meta), never read nor searched; NULL
	                        or meta_len 0 for none; at most FURET_META_MAX
	                        bytes */
	size_t meta_len;
} furet_doc;

#define FURET_WRITE_REBUILD 0x1 /* the batch replaces the whole index */
#define FURET_WRITE_NO_WAIT 0x2 /* fail with FURET_BUSY at once when another
                                   writer (in any process) holds the index,
                                   instead of waiting for it */

/* Starts a batch on ix (flags: FURET_WRITE_*). Nothing is visible to
** searches until furet_writer_commit returns FURET_OK; a batch that is
** aborted (or a process that dies) leaves the index exactly as it was. One
** batch at a time per index: in another process, begin waits for it to end
** (or with FURET_WRITE_NO_WAIT returns FURET_BUSY, furet_index_errmsg
** naming the process); on this handle it returns FURET_BUSY. Searches are
** never blocked. Other returns: FURET_INVALID (NULL arguments),
** FURET_VERSION (an index of another version without FURET_WRITE_REBUILD),
** FURET_NOMEM, FURET_IO. *out is the caller's until
** furet_writer_commit or furet_writer_abort, which release it; ix must
** stay open until then. */
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
	                          memory: a full rebuild beside the index
	                          commits every eighth of the budget (16 to
	                          32 MiB), and writes its batch in parts once
	                          what it keeps per document passes a quarter
	                          of it; an incremental batch is one
	                          transaction unless that would not fit (it
	                          passes that quarter, or its terms would
	                          dirty more pages of the index than the
	                          budget holds): then the index is copied
	                          beside itself (compacted), the batch is
	                          written into the copy in parts, committing
	                          as it goes, and the copy is swapped in at
	                          commit; the disk needs room for the copy.
	                          The budget is for the resident size: furet
	                          allocates at most the budget less a share
	                          for the mapped files (ICU's data, the
	                          libraries, the index pages read through
	                          LMDB's map: about 60 MB), a quarter of the
	                          budget, 64 MiB at most. Below about 128 MiB
	                          the mapped files alone can pass it. With
	                          glibc, blocks freed below its mmap threshold
	                          stay resident, and the threshold rises with
	                          the largest block freed, to 32 MiB: a
	                          program that needs the budget held tightly
	                          fixes it, as the furet command does
	                          (mallopt(M_MMAP_THRESHOLD, 1 << 20)). A
	                          rebuild of 848 MB at 128 MiB peaked at 126 to
	                          146 MiB without, 106 to 109 MiB with. */
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
** FURET_INVALID for a missing id, an id longer than FURET_ID_MAX bytes,
** text that is not UTF-8 or metadata over FURET_META_MAX bytes (the batch
** goes on without that document), FURET_EXISTS when the id is already in
** the index or earlier in this batch, FURET_NOMEM (the batch must be
** aborted). The document is analysed in another thread when the writer has
** several: a failure there (FURET_NOMEM, or FURET_IO writing a temporary
** file) is returned by a later call and by furet_writer_commit. */
FURET_API furet_rc furet_writer_add(furet_writer *w, const furet_doc *doc);

/* Adds the document, or replaces the indexed document of the same id when
** its content (title, text, format, metadata) changed: a change of the
** metadata alone is an update too. An unchanged document is left as it
** is, without being analysed again. A second put of an id in the same
** batch replaces the first (the last one wins). *outcome, when not
** NULL, gets FURET_PUT_ADDED, FURET_PUT_UPDATED, FURET_PUT_UNCHANGED or
** FURET_PUT_REPLACED_IN_BATCH. Errors as furet_writer_add. */
FURET_API furet_rc furet_writer_put(furet_writer *w, const furet_doc *doc,
	int *outcome);

#define FURET_PUT_ADDED 1
#define FURET_PUT_UPDATED 2
#define FURET_PUT_UNCHANGED 3
#define FURET_PUT_REPLACED_IN_BATCH 4

/* Removes the document with this id (and all its passages) at commit; id
** is copied. FURET_OK; FURET_DONE when the index has no such document (not
** an error: the batch goes on); FURET_INVALID for a NULL w or id;
** FURET_NOMEM (the batch must be aborted). */
FURET_API furet_rc furet_writer_remove(furet_writer *w, const char *id,
	size_t id_len);

/* Removes at commit every indexed document whose source is one of the n
** paths, or lies under one of them (a directory), and that was not put in
** this batch: files deleted since the last run, ids gone from a JSONL file.
** paths are NUL-terminated and compared as given (no "./" or trailing "/"
** is resolved): pass them as the documents' source was written. Call it
** after the last put. *n_removed (may be NULL) gets how many. FURET_OK;
** FURET_INVALID for NULL arguments; FURET_NOMEM, FURET_IO, FURET_CORRUPT
** (the batch must be aborted). */
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

/* Fills *out (caller's storage) with what the batch will do if committed
** now. FURET_OK, or FURET_INVALID for NULL arguments. */
FURET_API furet_rc furet_writer_summary(furet_writer *w,
	furet_batch_summary *out);

/* Number of passages added so far in this batch (an unchanged document adds
** none; waits for the documents still being analysed); 0 for a NULL w. */
FURET_API size_t furet_writer_passages(const furet_writer *w);

/* Commits the batch, in one LMDB write transaction or, for a batch written
** beside the index (a rebuild; a batch in parts: see memory), by swapping
** the new files in, and releases w, whatever the result (do not use w
** afterwards, nor abort it). FURET_OK: searches that start from now see the
** batch (open handles follow a swap). On failure the index is unchanged:
** FURET_INVALID (ix was opened FURET_OPEN_READONLY), FURET_NOMEM, FURET_IO
** (disk full, read-only medium), FURET_CORRUPT, or the error that made an
** earlier call of this batch fail. */
FURET_API furet_rc furet_writer_commit(furet_writer *w);

/* Discards the batch and releases w. Accepts NULL. */
FURET_API void furet_writer_abort(furet_writer *w);

/* ---------------------------------------------------------------------
** Searching
*/
typedef struct furet_search_options {
	unsigned limit;        /* hits to return; default 10 */
	unsigned offset;       /* hits to skip first; default 0 */
	double k1;             /* BM25 term saturation; default 1.3 */
	double b;              /* BM25 length normalisation; default 0.45 (chosen
	                          on the PIAF and spf_qr dev questions) */
	double w_title;        /* weight of a title match; default 2 */
	double w_section;      /* weight of a section match; default 0.5 */
	double w_fold;         /* weight of a match that differs from the query
	                          word by accents only (a query "peche" reaching
	                          "pêche"), 0..1; default 0.9. The word's own form
	                          always weighs 1. */
	double w_typo;         /* weight of a typo correction, 0..1; default 0.5 */
	double w_derived;      /* weight of a word of the same family, 0..1: a
	                          query word of five letters or more also reaches
	                          the words whose accent-free stem starts like
	                          its own less three letters ("reconstruction"
	                          reaching "reconstruit"); 0 turns it off;
	                          default 0.3 */
	double w_asked;        /* factor on the weight of the word an
	                          interrogative asks for ("quel pays", "quelle
	                          année"): the answer names a country rather than
	                          saying "pays"; 0..1, default 0.6 */
	double w_name;         /* factor on the weight of a query word written
	                          with a capital that is not the query's first
	                          word ("Qui finance POP School ?"), most likely a
	                          name, and of a number ("en 2003"): the answer
	                          must contain them; 0..10, default 1.6 */
	double w_prox;         /* weight of the proximity bonus: query words close
	                          to each other in the passage; default 0.8 */
	double w_phrase;       /* weight of the bonus of a matched "phrase";
	                          default 1.0 */
	double w_cover;        /* weight of the bonus for holding more of the
	                          query's words (by idf, squared); default 0.6 */
	double w_doc;          /* with FURET_SEARCH_BEST_PER_DOC, a document of
	                          several passages scores (1 - w_doc) x its best
	                          passage's score + w_doc x BM25F over all its
	                          matching passages as one text; 0..1, default
	                          0.7 */
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
#define FURET_SEARCH_EXACT 0x10       /* score every matching passage: no
                                         dynamic pruning (the hits are the
                                         same; furet_results_matched is
                                         then exact) */

/* Fills o (caller's storage) with the defaults listed above; set the fields
** you want to change afterwards. */
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
	const void *meta;       /* the document's metadata, as furet_doc.meta
	                           gave it, followed by a NUL byte that
	                           meta_len does not count (so JSON text reads
	                           as a string); NULL when it has none */
	size_t meta_len;
} furet_hit;

/* One part of a hit's score (FURET_SEARCH_EXPLAIN). Strings are borrowed
** from the furet_results. */
typedef struct furet_explain {
	const char *word;  /* the query word (or phrase) as typed */
	const char *term;  /* the index term it matched ("" for a bonus) */
	const char *how;   /* "exact" (same word), "stem" (same stem, other
	                      form), "accent" (differs by accents), "compound"
	                      (a part or the whole of a compound), "prefix",
	                      "typo", "family" (same family: w_derived),
	                      "phrase", "proximity", "coverage" (bonuses) */
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
** o is read during the call only.
** Returns FURET_OK (also when nothing matched: furet_results_count is then
** 0); FURET_INVALID for NULL arguments, a query that is not UTF-8 or an
** option out of range; FURET_VERSION as furet_index_check; FURET_NOMEM,
** FURET_IO, FURET_CORRUPT. On success *out is the caller's; release it
** with furet_results_free. The results are a snapshot: they stay valid
** after later commits and after furet_index_close. A program that composes
** a query from other text builds it with furet_query_* instead (below). */
FURET_API furet_rc furet_search(furet_index *ix, const char *q, size_t q_len,
	const furet_search_options *o, furet_results **out);

/* ---------------------------------------------------------------------
** Queries built by a program
**
** A furet_query says what furet_search's query language says, composed by
** calls instead of written as a string, so that text from elsewhere (a
** form field, a database) needs no escaping: every text given to a builder
** is taken literally, quotes, parentheses, "AND", "+", "title:" and "*"
** included. furet_search_query reads it exactly as furet_search reads the
** equivalent query string: same hits, scores, order, suggestion and
** explain. For example, with furet_query_words(t, n) written words(t):
**
**   and(words("label"), not(phrase("grande école")))  label AND NOT "grande école"
**   or(words("Qui finance"), require(field(words("POP"), FURET_QF_TITLE)))
**                                                     Qui finance +title:POP
**   near(words("école"), prefix("numéri"), 5)         école NEAR/5 numéri*
**
** Ownership, the same for every builder: a builder returns a new query the
** caller owns (release it with furet_query_free, or hand it to another
** builder), and a builder that takes queries takes them over, whether it
** succeeds or not: it frees them when it fails. A query is handed over at
** most once (and(a, a) is a double free). Builders return NULL only when
** memory runs out, and take NULL for a query argument as such a failure
** (they free the others and return NULL), so a whole expression is checked
** once, at the end. Arguments that are wrong (text that is not UTF-8, an
** unknown field) do not fail the builder: furet_search_query refuses the
** query with FURET_INVALID, naming the problem in furet_index_errmsg.
** Texts are copied: the caller's buffers may be reused when a builder
** returns. A query is never changed by a search: it may be run any number
** of times, by several threads at once.
**
** Limits, as for a query string: past 1000 words, phrases and operators the
** rest of the query is dropped. Operators nest at most 32 deep (a text of
** several words counts as one level): a deeper query is refused with
** FURET_QUERY.
*/
typedef struct furet_query furet_query;

/* Free text (len bytes of UTF-8; NULL with len 0 is the empty text), as
** furet_search reads words: cut at spaces, any word may match, stop words
** and interrogatives dropped when the query has other words, a misspelt
** word corrected. Nothing in it is syntax. An empty or blank text adds
** nothing to the query that holds it (as "()" in a query string); alone, it
** matches nothing. */
FURET_API furet_query *furet_query_words(const char *text, size_t len);

/* The words of text in this order, stop words included ("exact phrase").
** A blank text is as an empty furet_query_words. */
FURET_API furet_query *furet_query_phrase(const char *text, size_t len);

/* Words that start so: the last word of text is a prefix (the
** max_expansions most frequent words that start with it; a prefix of one
** character is the word itself), the words before it are as
** furet_query_words, so prefix("Qui fina") is what a search box has while
** someone types ("Qui fina*"). */
FURET_API furet_query *furet_query_prefix(const char *text, size_t len);

/* Both a and b must match (a AND b). An AND given to another AND adds its
** clauses to it rather than nesting. Takes a and b over. */
FURET_API furet_query *furet_query_and(furet_query *a, furet_query *b);

/* The clauses of a, then those of b: free text, where any clause may
** match and the scores add up (a b). A query of several clauses (from
** furet_query_or, or furet_query_words of several words) that is not
** marked itself (furet_query_require, _exclude, _field) brings its clauses
** one by one, so required and excluded clauses apply to the whole list,
** however it was built: or(or(require(a), b), c) is "+a b c". Takes a and
** b over. */
FURET_API furet_query *furet_query_or(furet_query *a, furet_query *b);

/* Passages that a does not match (NOT a). Among the clauses of an OR it
** excludes, as furet_query_exclude; alone it matches nothing (a query
** needs something to find). Takes a over. */
FURET_API furet_query *furet_query_not(furet_query *a);

/* a and b within distance words of each other, in any order (a NEAR/n b;
** at most 1000). a and b are words, phrases or prefixes (a
** furet_query_words or furet_query_prefix of one word); of anything else,
** NEAR means AND, as in a query string. Takes a and b over. */
FURET_API furet_query *furet_query_near(furet_query *a, furet_query *b,
	unsigned distance);

/* Marks q as a required clause (+q): among the clauses of an OR, a passage
** must match it (the others then only add to the score). Anywhere else it
** changes nothing. Returns q itself (NULL for NULL). Replaces an earlier
** furet_query_exclude of q. */
FURET_API furet_query *furet_query_require(furet_query *q);

/* Marks q as an excluded clause (-q): among the clauses of an OR, a passage
** that matches it is rejected; elsewhere it is furet_query_not(q). Returns
** q itself (NULL for NULL). Replaces an earlier furet_query_require. */
FURET_API furet_query *furet_query_exclude(furet_query *q);

#define FURET_QF_ANY 0      /* the passage text, title and section */
#define FURET_QF_TITLE 1    /* the document title only (title:x) */
#define FURET_QF_SECTION 2  /* the passage's section only (section:x) */

/* Restricts every word of q to a field (FURET_QF_TITLE or
** FURET_QF_SECTION; FURET_QF_ANY changes nothing): title:q. A field given
** earlier to q or to a part of it wins ("title:(a section:b)"). Returns q
** itself (NULL for NULL). */
FURET_API furet_query *furet_query_field(furet_query *q, unsigned field);

/* Releases q and every query it took over. Accepts NULL. */
FURET_API void furet_query_free(furet_query *q);

/* furet_search, for a built query q (borrowed for the call: q is neither
** changed nor released). The suggestion (furet_results_suggestion) is the
** equivalent query string with the misspelt words corrected. Returns as
** furet_search, and FURET_INVALID for a NULL q or a query built from
** invalid arguments (furet_index_errmsg says which), FURET_QUERY for a
** query nested too deep. */
FURET_API furet_rc furet_search_query(furet_index *ix, const furet_query *q,
	const furet_search_options *o, furet_results **out);

/* Number of hits held (at most the limit); 0 for NULL. */
FURET_API size_t furet_results_count(const furet_results *r);

/* Total number of passages (documents with FURET_SEARCH_BEST_PER_DOC) that
** matched, before limit and offset; 0 for NULL. A plain free-text query
** skips the passages that cannot reach the hits (dynamic pruning, MaxScore);
** the count is then a lower bound, unless FURET_SEARCH_EXACT was given. */
FURET_API uint64_t furet_results_matched(const furet_results *r);

/* "Did you mean": the query with its misspelt words corrected, when typo
** correction found words the index has for words it has not; NULL
** otherwise. Borrowed until furet_results_free. */
FURET_API const char *furet_results_suggestion(const furet_results *r);

/* Fills *out with hit i (0-based, < furet_results_count). The hit's strings
** and arrays are borrowed from r: valid until furet_results_free(r).
** FURET_OK, or FURET_INVALID for NULL arguments or i out of range. */
FURET_API furet_rc furet_results_get(const furet_results *r, size_t i,
	furet_hit *out);

/* Releases the results and every string and array of their hits. Accepts
** NULL. */
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

/* Analyses text (len bytes of UTF-8) as furet indexes it; needs no index.
** text is read during the call only (start and end refer to it). *out is
** the caller's; release with furet_analysis_free. FURET_OK (also for a
** text without a word: count 0); FURET_INVALID for NULL arguments or text
** that is not UTF-8; FURET_NOMEM; FURET_ERROR when ICU or the stemmer
** fails. */
FURET_API furet_rc furet_analyze(const char *text, size_t len,
	furet_analysis **out);

/* Number of terms; 0 for NULL. */
FURET_API size_t furet_analysis_count(const furet_analysis *a);

/* Fills *out with term i (0-based, < furet_analysis_count), in text order.
** Its strings are borrowed from a until furet_analysis_free(a). FURET_OK,
** or FURET_INVALID for NULL arguments or i out of range. */
FURET_API furet_rc furet_analysis_get(const furet_analysis *a, size_t i,
	furet_term *out);

/* Releases the analysis and its strings. Accepts NULL. */
FURET_API void furet_analysis_free(furet_analysis *a);

/* The analyzer signature stored in every index (ICU and Snowball versions,
** furet's rule version); static. */
FURET_API const char *furet_analyzer_name(void);

#ifdef __cplusplus
}
#endif

#endif
