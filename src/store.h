/*
** store.h — the LMDB environment behind an index, as named tables.
**
** The only module that includes lmdb.h. It opens one environment per index
** directory with a fixed set of named databases (tables), checks the format
** version and analyzer signature, and hands out transactions and cursors over
** (key, value) byte strings. The byte layout of every table is specified at
** the top of store.c; writer.c and search.c encode and decode it through the
** helpers there.
**
** Values returned by get/cursor calls point into the memory map (zero copy)
** and are valid until the transaction ends.
*/
#ifndef FURET_STORE_H
#define FURET_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "furet.h"
#include "textcodec.h"
#include "util.h"

#define FURET_FORMAT_VERSION 15
#define FURET_BLOCK_SIZE 128 /* postings per block */

/* Internal only, never returned to users: the write hit the map size. */
#define FURET_MAPFULL ((furet_rc)100)

typedef enum furet_table {
	FURET_T_META,
	FURET_T_DOCS,
	FURET_T_DOCIDS,
	FURET_T_SOURCES,
	FURET_T_TEXT,
	FURET_T_TERMS,
	FURET_T_POSTINGS,
	FURET_T_FOLDS,
	FURET_T_WORDS,
	FURET_T_COUNT
} furet_table;

typedef struct furet_store furet_store;
typedef struct furet_txn furet_txn;
typedef struct furet_cursor furet_cursor;

typedef struct furet_val {
	const unsigned char *data;
	size_t len;
} furet_val;

#define FURET_STORE_CREATE 0x1
#define FURET_STORE_READONLY 0x2
#define FURET_STORE_REPLACE 0x4 /* accept another format version or analyzer:
                                   the caller rebuilds the whole index */

/* Opens (or with FURET_STORE_CREATE creates) the index in dir. On failure
** err gets a one-line reason. */
furet_rc furet_store_open(const char *dir, unsigned flags, furet_store **out,
	char *err, size_t err_cap);
void furet_store_close(furet_store *s);
/* Waits for what a swap left to finish in the background: the closing of
** the replaced files (store.c, reopen). Accepts NULL. */
void furet_store_settle(furet_store *s);

/* The cross-process writer lock (DIR/writer.lock): FURET_BUSY with who
** holds it in err when is_wait is 0. Released by unlock or close. */
furet_rc furet_store_lock_writer(furet_store *s, int is_wait, char *err,
	size_t err_cap);
void furet_store_unlock_writer(furet_store *s);

const char *furet_store_dir(const furet_store *s);
furet_rc furet_store_compact_copy(furet_store *s, char *err, size_t err_cap);
/* The bytes compact_copy writes between two commits of the new
** environment: 32 MiB; tests lower it. */
extern size_t furet_store_compact_ckpt;
/* A full rebuild writes a new environment in the sibling directory
** DIR.rebuild (left over files of a killed rebuild are removed first), so
** that the index stays whole and readable until furet_store_adopt swaps
** the new one in, and so that the rebuild may commit as it goes
** (furet_txn_checkpoint) to bound the memory of LMDB's dirty pages. Its
** writes go through the ordinary furet_store_begin/furet_txn_* calls.
** adopt syncs and closes f, exchanges the two directories atomically and
** reopens s on the new files (f is consumed either way); discard removes
** f's directory. */
furet_rc furet_store_open_sibling(furet_store *s, furet_store **f,
	char *err, size_t err_cap);
furet_rc furet_store_adopt(furet_store *s, furet_store *f, char *err,
	size_t err_cap);
/* The same new environment, holding a copy of the index (compacted, as by
** furet_store_compact_copy, but committing every ckpt bytes): an
** incremental batch too large to be one transaction within its budget is
** written into it, committing as it goes, then swapped in with
** furet_store_adopt. */
furet_rc furet_store_open_copy(furet_store *s, size_t ckpt, furet_store **f,
	char *err, size_t err_cap);
void furet_store_discard(furet_store *f);

/* Can compaction swap the index directory (does it hold only furet's
** files)? */
int furet_store_can_swap(const furet_store *s);

/* Opened with FURET_STORE_REPLACE over an index of another version: only a
** full rebuild may use it, which then calls furet_store_rebuilt. */
int furet_store_needs_rebuild(const furet_store *s);
void furet_store_rebuilt(furet_store *s);

/* The map size a new environment starts with (1 GiB); tests lower it to
** exercise growth. The map doubles whenever a batch does not fit. */
extern size_t furet_store_map_min;

/* Walks every LMDB page of the committed index and checks what LMDB would
** follow without checking (page numbers inside the file, nodes inside their
** page, the tree's shape); store.c says what exactly. furet_store_open does
** it by itself for an index of at most 64 MiB, and always checks that the
** file holds every page its meta page counts. FURET_CORRUPT with the first
** problem in err. */
furet_rc furet_store_verify(furet_store *s, char *err, size_t err_cap);

/* Grows the map (no transaction may be open in this process). */
furet_rc furet_store_grow(furet_store *s);

furet_rc furet_store_begin(furet_store *s, int is_write, furet_txn **out);
furet_rc furet_txn_commit(furet_txn *t);
void furet_txn_abort(furet_txn *t);
/* Only on a store from furet_store_open_sibling, with no transaction of
** it open: doubles its map when more than half of it is used (as
** furet_txn_checkpoint does), so that a transaction of less than that
** fits; and drops what was read through the map from the resident set. */
furet_rc furet_store_reserve(furet_store *f);
/* Only on a store from furet_store_open_sibling, with no transaction of
** it open: closes and opens its environment again. LMDB keeps the pages
** its write transactions dirtied for the next ones, as long as the
** environment is open: a rebuild in parts gives them back between two. */
furet_rc furet_store_refresh(furet_store *f);
/* Drops the pages read through f's map from the process's resident set
** (they stay in the page cache). Each page fault maps the pages around it
** that the page cache holds: reads all over a file written in random
** order make the resident set grow by 64 KiB a page read. */
void furet_store_drop(furet_store *f);
/* Bytes of the data file in use (its last page's end). */
uint64_t furet_store_used(furet_store *s);
/* Only on a store from furet_store_open_sibling (no reader may rely on
** this transaction being atomic): commits what t wrote and goes on in a new
** transaction, growing the map first when it is half full. Every value,
** cursor and pointer obtained through t before becomes invalid. After a
** failure t can only be aborted. */
furet_rc furet_txn_checkpoint(furet_txn *t);
/* Lets the store's own long rewrites inside t (a split of the docids
** buckets) checkpoint every `every` bytes put; 0, the default: never. Only
** as furet_txn_checkpoint: the rewrite's values and cursors are its own,
** the caller's from before become invalid as they would. */
void furet_txn_set_checkpoint(furet_txn *t, size_t every);
/* Bytes (keys and values) put through t since it began or its last
** checkpoint. */
size_t furet_txn_pending(const furet_txn *t);
/* The bytes of table tab's leaf pages, as t sees them (0 on failure). */
uint64_t furet_txn_leaf_bytes(furet_txn *t, furet_table tab);
/* The LMDB message of the last failure in this transaction, or "". */
const char *furet_txn_errmsg(const furet_txn *t);

/* FURET_DONE when the key is absent. */
furet_rc furet_txn_get(furet_txn *t, furet_table tab, const void *k,
	size_t k_len, furet_val *out);
#define FURET_PUT_APPEND 0x1 /* keys arrive in order into an empty table */
furet_rc furet_txn_put(furet_txn *t, furet_table tab, const void *k,
	size_t k_len, const void *v, size_t v_len, unsigned flags);
furet_rc furet_txn_del(furet_txn *t, furet_table tab, const void *k,
	size_t k_len);
/* Empties every table but meta (for a rebuild inside one transaction). */
furet_rc furet_txn_clear(furet_txn *t);
/* Number of entries in a table. */
furet_rc furet_txn_count(furet_txn *t, furet_table tab, uint64_t *out);

/* The stored text group (textcodec.h) that holds passage pid's text, and
** *back, how many passages before the group's last one pid is: the group
** is the first one under a key >= pid. FURET_DONE when there is none. */
furet_rc furet_text_get(furet_txn *t, uint32_t pid, furet_val *group,
	uint64_t *back);

/* Cursors: seek to the first key >= k, then next; FURET_DONE at the end. */
furet_rc furet_cursor_open(furet_txn *t, furet_table tab, furet_cursor **out);
furet_rc furet_cursor_seek(furet_cursor *c, const void *k, size_t k_len,
	furet_val *key, furet_val *val);
furet_rc furet_cursor_next(furet_cursor *c, furet_val *key, furet_val *val);
void furet_cursor_close(furet_cursor *c);

/* Collection statistics, kept in meta under "stats". */
typedef struct furet_collection {
	uint64_t n_docs;       /* live documents */
	uint64_t n_passages;   /* passage ids given so far: the next passage id */
	uint64_t total_length; /* body words over all live passages */
	uint64_t n_postings;   /* live postings */
	uint64_t next_doc;     /* next document number */
	uint64_t n_live;       /* live passages (n_passages - removed ones) */
	uint64_t text_bytes;   /* stored text of live passages */
	uint64_t last_update;  /* Unix time of the last commit */
	uint64_t n_purged;     /* removed passages whose postings compaction
	                          dropped already */
} furet_collection;

/* A removed passage's length in "plen": its postings may remain until
** compaction, and searches skip it. */
#define FURET_DEAD_PASSAGE UINT32_MAX

furet_rc furet_store_get_collection(furet_txn *t, furet_collection *out);
furet_rc furet_store_put_collection(furet_txn *t, const furet_collection *c);

/* ---- the dense arrays of meta (layouts in store.c) -------------------------
** "plen" (a length per passage) and "dlen" (per document): entries of 1, 2
** or 4 bytes, the few longer lengths apart. "pdoc" (the document of each
** passage): a bitmap of the passages that start a document, by blocks of
** 64 with the document of each block's first passage. Each is stored in
** chunks (below), each chunk coded on its own. Searches read them once per
** posting or per passage visited, through the inline getters; the writer
** decodes and encodes the chunks it rewrites, check and compaction the
** whole arrays. A view borrows the value it was opened on. */
/* The getters below are a few instructions, read per posting or passage
** in the search's loop, which is too large for the compiler to inline
** them on its own. */
#define FURET_INLINE static inline __attribute__((always_inline))

typedef struct furet_lens {
	const unsigned char *p;   /* n entries of width bytes */
	const unsigned char *exc; /* n_exc pairs u32le index, u32le length */
	uint64_t n, n_exc;
	uint32_t escape;          /* an entry of escape: its length is among the
	                             pairs; escape + 1: FURET_DEAD_PASSAGE */
	unsigned width;           /* 1, 2 or 4 */
} furet_lens;

/* A view of v, an array of n lengths: FURET_CORRUPT unless its size is
** that of n entries and whole pairs. */
furet_rc furet_lens_open(furet_val v, uint64_t n, furet_lens *out);
/* The length of an escaped entry i (from the pairs): FURET_CORRUPT when
** it has none. */
furet_rc furet_lens_long(const furet_lens *l, uint64_t i, uint32_t *len);

FURET_INLINE uint32_t furet_lens_entry(const furet_lens *l, size_t i)
{
	const unsigned char *q;

	if (l->width == 1)
		return l->p[i];
	q = l->p + (size_t)l->width * i;
	if (l->width == 2)
		return (uint32_t)q[0] | (uint32_t)q[1] << 8;
	return furet_get_u32le(q);
}

/* *len: length i (i < l->n), FURET_DEAD_PASSAGE for a removed passage. */
FURET_INLINE furet_rc furet_lens_get(const furet_lens *l, size_t i,
	uint32_t *len)
{
	uint32_t x = furet_lens_entry(l, i);

	if (x < l->escape) {
		*len = x;
		return FURET_OK;
	}
	if (x == l->escape)
		return furet_lens_long(l, i, len);
	*len = FURET_DEAD_PASSAGE;
	return FURET_OK;
}

/* All n lengths of v into out[n], checked whole (the pairs in order, one
** per escaped entry); encode appends the array of lens[n] to out (sticky
** error), with the narrowest entries of min_width bytes or more (1, 2, 4)
** that leave at most 1 length in 64 apart. */
furet_rc furet_lens_decode(furet_val v, uint64_t n, uint32_t *out);
void furet_lens_encode(const uint32_t *lens, uint64_t n, unsigned min_width,
	furet_buf *out);

/* The same a window at a time, for an array too large to hold decoded
** (the writer's, rewritten with a batch's entries appended: 4 bytes a
** passage, 28 MB at 7 million). rd_next reads the next k entries, checked
** as decode checks them (FURET_INVALID past the end). An encoder sees
** every entry twice, in order: counted, then put once start has reserved
** the array's exact size at the end of out (-1: out has_err). */
typedef struct furet_lens_rd {
	furet_lens l;
	uint64_t i, e;            /* the next entry, the next pair */
} furet_lens_rd;

furet_rc furet_lens_rd_open(furet_val v, uint64_t n, furet_lens_rd *r);
furet_rc furet_lens_rd_next(furet_lens_rd *r, uint32_t *out, size_t k);

typedef struct furet_lens_enc {
	uint64_t n, i;            /* entries in all, put so far */
	uint64_t n_big[3];        /* lengths of 0xfe, 0xfffe, 2^32 - 2 or more */
	unsigned min_width, width;
	uint32_t escape;
	unsigned char *p, *pair;  /* where the next entry and pair go */
} furet_lens_enc;

void furet_lens_enc_init(furet_lens_enc *e, uint64_t n, unsigned min_width);
void furet_lens_enc_count(furet_lens_enc *e, const uint32_t *lens, size_t k);
int furet_lens_enc_start(furet_lens_enc *e, furet_buf *out);
void furet_lens_enc_put(furet_lens_enc *e, const uint32_t *lens, size_t k);

typedef struct furet_pdoc {
	const unsigned char *blk;  /* nb blocks of 16 bytes */
	const unsigned char *jump; /* n_jump pairs u32le passage, u32le doc */
	uint64_t n, nb, n_jump;    /* n passages */
} furet_pdoc;

furet_rc furet_pdoc_open(furet_val v, uint64_t n, furet_pdoc *out);
/* furet_pdoc_doc for a passage whose block holds a jump. */
furet_rc furet_pdoc_jump(const furet_pdoc *pd, uint32_t pid, uint32_t *doc);
furet_rc furet_pdoc_decode(furet_val v, uint64_t n, uint32_t *out);
/* docs[n]: the document of each passage, never decreasing. prev: the
** document of the passage before docs[0] (the previous chunk's last), NULL
** when there is none. */
void furet_pdoc_encode(const uint32_t *docs, uint64_t n, const uint32_t *prev,
	furet_buf *out);

/* pdoc a window at a time, as lengths above. */
typedef struct furet_pdoc_rd {
	furet_pdoc pd;
	uint64_t b, e;            /* the next block, the next jump */
	uint32_t prev;            /* the document of the last passage read */
	int has_prev;             /* there is one (or a chunk before) */
	uint32_t buf[64];         /* the block read, from at up to have */
	unsigned at, have;
} furet_pdoc_rd;

furet_rc furet_pdoc_rd_open(furet_val v, uint64_t n, furet_pdoc_rd *r);
/* The array read is a chunk after others, whose last passage is of
** document prev: its first passage starts a document exactly when its
** document is another. */
void furet_pdoc_rd_after(furet_pdoc_rd *r, uint32_t prev);
furet_rc furet_pdoc_rd_next(furet_pdoc_rd *r, uint32_t *out, size_t k);

typedef struct furet_pdoc_enc {
	uint64_t n, pid, n_jump;  /* passages in all, seen, jumps so far */
	uint64_t starts, jump0;   /* the block in progress: its bitmap, the jumps
	                             before it */
	uint32_t prev, first;     /* the documents of passage pid - 1 and of the
	                             block's first */
	uint32_t prev0;           /* the document before passage 0 ... */
	int has_prev;             /* ... when there is one */
	unsigned char *blk, *jump; /* where the next header and jump go */
} furet_pdoc_enc;

/* prev: as furet_pdoc_encode's. */
void furet_pdoc_enc_init(furet_pdoc_enc *e, uint64_t n, const uint32_t *prev);
void furet_pdoc_enc_count(furet_pdoc_enc *e, const uint32_t *docs, size_t k);
int furet_pdoc_enc_start(furet_pdoc_enc *e, furet_buf *out);
void furet_pdoc_enc_put(furet_pdoc_enc *e, const uint32_t *docs, size_t k);

FURET_INLINE uint64_t furet_get_u64le(const unsigned char *p)
{
	return (uint64_t)furet_get_u32le(p) |
		(uint64_t)furet_get_u32le(p + 4) << 32;
}

FURET_INLINE unsigned furet_popcount64(uint64_t x)
{
	/* (no popcnt instruction in the baseline x86-64 target) */
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (unsigned)((x * 0x0101010101010101ull) >> 56);
}

/* The bits of block b saying which passages start a document. */
FURET_INLINE uint64_t furet_pdoc_starts(const furet_pdoc *pd, size_t b)
{
	return furet_get_u64le(pd->blk + 16 * b);
}

/* *doc: the document of passage pid < pd->n. */
FURET_INLINE furet_rc furet_pdoc_doc(const furet_pdoc *pd, uint32_t pid,
	uint32_t *doc)
{
	size_t b = pid >> 6;
	const unsigned char *q = pd->blk + 16 * b;
	uint64_t j1 = b + 1 < pd->nb ? furet_get_u32le(q + 28) : pd->n_jump;

	if (furet_get_u32le(q + 12) != j1)
		return furet_pdoc_jump(pd, pid, doc);
	/* the starts after the block's first passage, up to pid */
	*doc = furet_get_u32le(q + 8) + furet_popcount64(furet_get_u64le(q) &
		(((uint64_t)2 << (pid & 63)) - 2));
	return FURET_OK;
}

/* ---- the dense arrays in chunks ---------------------------------------------
** Each array is stored in chunks of 2^bits entries (the last one shorter),
** each coded as above on its own, under its name and its u32be number: a
** commit rewrites only the chunks its entries and removals fall in, so
** that its memory does not grow with the index. bits is meta's
** "dense_bits", FURET_DENSE_BITS when the index has none. */
#define FURET_DENSE_BITS 16
#define FURET_DENSE_BITS_MIN 6  /* a chunk holds whole pdoc blocks */
#define FURET_DENSE_BITS_MAX 24

furet_rc furet_dense_bits(furet_txn *t, unsigned *bits);
/* Its key: name (4 bytes) and the chunk's u32be number. */
void furet_dense_key(unsigned char key[8], const char *name, uint64_t chunk);
/* Chunk c's value: FURET_CORRUPT when it is missing. */
furet_rc furet_dense_chunk(furet_txn *t, const char *name, uint64_t c,
	furet_val *v);
/* Entry i of an array of n lengths (one chunk read; in a write
** transaction, whose writes may move pages). */
furet_rc furet_dense_len(furet_txn *t, const char *name, uint64_t n,
	uint64_t i, uint32_t *len);
/* The n entries of an array into out[n], checked whole (each chunk, and
** the documents of pdoc across chunks). An array of no entries may have
** no chunk (an index never committed to). */
furet_rc furet_dense_decode(furet_txn *t, const char *name, uint64_t n,
	uint32_t *out);
/* The same a chunk at a time, in the memory of one: fn gets entries
** at..at + m - 1 in x[m] (NULL: the array is only checked). */
typedef void (*furet_dense_fn)(void *ctx, uint64_t at, const uint32_t *x,
	size_t m);
furet_rc furet_dense_each(furet_txn *t, const char *name, uint64_t n,
	furet_dense_fn fn, void *ctx);

/* Views of a whole array, over its chunks, for searches: they borrow the
** values of the read transaction they were opened in. */
typedef struct furet_lensv {
	furet_lens *ch;
	uint64_t n;
	unsigned bits;
	uint64_t mask;
} furet_lensv;

typedef struct furet_pdocv {
	furet_pdoc *ch;
	uint64_t n, nb;            /* passages, blocks of 64 */
	unsigned bits;
	uint64_t mask, bmask;      /* of a passage, of a block, in its chunk */
} furet_pdocv;

/* name is "plen" or "dlen"; FURET_CORRUPT unless each chunk is there and
** opens (furet_lens_open) for its number of entries. */
furet_rc furet_lensv_open(furet_txn *t, const char *name, uint64_t n,
	furet_lensv *out);
void furet_lensv_close(furet_lensv *v);
furet_rc furet_pdocv_open(furet_txn *t, uint64_t n, furet_pdocv *out);
void furet_pdocv_close(furet_pdocv *v);
/* furet_pdocv_first and _last past block b (of 64 passages). */
uint32_t furet_pdocv_first_before(const furet_pdocv *v, uint64_t b);
uint32_t furet_pdocv_last_after(const furet_pdocv *v, uint64_t b);

FURET_INLINE const furet_lens *furet_lensv_chunk(const furet_lensv *v,
	uint64_t i)
{
	return &v->ch[i >> v->bits];
}

/* furet_lens_get of entry i < v->n. */
FURET_INLINE furet_rc furet_lensv_get(const furet_lensv *v, uint64_t i,
	uint32_t *len)
{
	return furet_lens_get(&v->ch[i >> v->bits], (size_t)(i & v->mask), len);
}

FURET_INLINE uint64_t furet_pdocv_starts(const furet_pdocv *v, uint64_t b)
{
	return furet_pdoc_starts(&v->ch[b >> (v->bits - 6)],
		(size_t)(b & v->bmask));
}

/* The first and last passages of the document of pid < v->n. */
FURET_INLINE uint32_t furet_pdocv_first(const furet_pdocv *v, uint32_t pid)
{
	uint64_t m = furet_pdocv_starts(v, pid >> 6) &
		(((uint64_t)2 << (pid & 63)) - 1);

	if (!m)
		return furet_pdocv_first_before(v, pid >> 6);
	return (pid & ~(uint32_t)63) + 63 - (uint32_t)__builtin_clzll(m);
}

FURET_INLINE uint32_t furet_pdocv_last(const furet_pdocv *v, uint32_t pid)
{
	uint64_t m = furet_pdocv_starts(v, pid >> 6) &
		~(((uint64_t)2 << (pid & 63)) - 1);

	/* (bits past the last passage are 0, unless damaged) */
	if (!m)
		return furet_pdocv_last_after(v, pid >> 6);
	return (pid & ~(uint32_t)63) + (uint32_t)__builtin_ctzll(m) - 1;
}

/* *doc: the document of passage pid < v->n. */
FURET_INLINE furet_rc furet_pdocv_doc(const furet_pdocv *v, uint32_t pid,
	uint32_t *doc)
{
	return furet_pdoc_doc(&v->ch[pid >> v->bits], (uint32_t)(pid & v->mask),
		doc);
}

/* Is pid < v->n the only passage of its document? */
FURET_INLINE int furet_pdocv_is_alone(const furet_pdocv *v, uint32_t pid)
{
	uint64_t w = furet_pdocv_starts(v, pid >> 6) >> (pid & 63);

	if (!(w & 1))
		return 0;
	if ((pid & 63) != 63)
		return (w >> 1 & 1) || pid + 1 >= v->n;
	return pid + 1 >= v->n || (furet_pdocv_starts(v, (pid >> 6) + 1) & 1);
}

/* Record codecs (layouts in store.c). Encoders append to out (sticky
** error). Decoders return FURET_CORRUPT on
** malformed bytes; decoded strings point into the value. */
#define FURET_HASH_LEN 8 /* bytes of the content hash a document record
                            keeps (furet_doc_hash makes 16) */

typedef struct furet_doc_rec {
	const char *id;        /* NULL until furet_doc_rec_names */
	size_t id_len;
	const char *title;     /* NULL until furet_doc_rec_names */
	size_t title_len;
	const char *sections;  /* NULL until furet_doc_rec_names */
	size_t sections_len;   /* the passages' own sections, one after the
	                          other (furet_pass_enc_add) */
	const unsigned char *names; /* id, title and sections as stored */
	size_t names_len;           /* (textcodec's form), set by
	                               furet_doc_rec_decode */
	uint32_t first_passage;
	uint32_t n_passages;
	uint32_t source;       /* the file it came from: its number in the
	                          sources table, 0 for none */
	unsigned char hash[FURET_HASH_LEN]; /* of format, title, text and
	                          metadata: "unchanged?" */
	const char *meta;      /* the caller's metadata, meta_len bytes */
	size_t meta_len;
	const unsigned char *pass; /* its passages, encoded (store.c); read */
	size_t pass_len;           /* with furet_pass_next */
} furet_doc_rec;

/* One passage of a document record. */
typedef struct furet_passage_rec {
	uint32_t number;   /* in its document, from 0 */
	uint64_t start, end;
	const char *section; /* NULL when none */
	size_t section_len;
} furet_passage_rec;

/* The passages of a document record, in order: furet_pass_next fills p
** with the next one (pointing into the record), FURET_DONE after the last
** (once it has checked that nothing follows), FURET_CORRUPT on damage. */
typedef struct furet_pass_iter {
	const unsigned char *p, *end;
	uint32_t number, n;
	uint64_t prev_end;
	const char *section;
	size_t section_len;
	const char *sections;  /* the record's (NULL: its names not decoded) */
	size_t sections_len, sections_at;
} furet_pass_iter;

void furet_pass_iter_init(furet_pass_iter *it, const furet_doc_rec *d);
furet_rc furet_pass_next(furet_pass_iter *it, furet_passage_rec *p);
/* Passage number of d (FURET_CORRUPT when the record has no such one). */
furet_rc furet_doc_passage(const furet_doc_rec *d, uint32_t number,
	furet_passage_rec *p);

/* Appends passages to a document record being encoded: init once per
** document, then add each passage in order (it remembers the previous one
** for the deltas and a repeated section). A passage's section, unless it
** is the previous passage's, goes with the id and title (compressed with
** them): appended to sections, when not NULL, and counted in
** sections_len. */
typedef struct furet_pass_enc {
	uint64_t prev_end;
	int has_section;
	furet_buf section;
	uint64_t sections_len;
} furet_pass_enc;

void furet_pass_enc_init(furet_pass_enc *e);
void furet_pass_enc_reset(furet_pass_enc *e);
void furet_pass_enc_free(furet_pass_enc *e);
/* start <= end; out gets the encoded passage (sticky error). */
void furet_pass_enc_add(furet_pass_enc *e, uint64_t start, uint64_t end,
	const char *section, size_t section_len, furet_buf *out,
	furet_buf *sections);

/* What a term's postings reach at most, for the search's bounds whatever
** its options: the pairs (body tf, passage length) that no posting beats on
** both (more occurrences in a passage no longer), at most FURET_FRONT_MAX
** of them (two neighbours merge into the larger tf and the shorter length,
** which bounds both), and the largest title and section tf. A bound only
** grows: removals leave it as it was. */
#define FURET_FRONT_MAX 4
typedef struct furet_term_bound {
	uint32_t n;
	uint32_t tf[FURET_FRONT_MAX];  /* increasing */
	uint32_t len[FURET_FRONT_MAX]; /* increasing */
	uint32_t tt, ts;
} furet_term_bound;

typedef struct furet_term_rec {
	uint64_t df;       /* passages containing the term in any field */
	uint64_t cf;       /* occurrences in passage bodies */
	uint32_t n_blocks;
	furet_term_bound bound;
	/* the same over documents of several passages (the others have no
	** document-level score): (body tf in all of the document's passages,
	** the document's length); tt and ts unused */
	furet_term_bound dbound;
	/* The postings record of its block when it has one (n_blocks == 1):
	** kept in the term's record, not in the postings table (most terms
	** have one block; it saves them a key there). NULL otherwise. */
	const unsigned char *inl;
	size_t inl_len;
} furet_term_rec;

/* Adds a posting to bound b: body tf, length of its passage, title and
** section tf. */
void furet_term_bound_insert(furet_term_bound *b, uint32_t tf, uint32_t len);
static inline void furet_term_bound_add(furet_term_bound *b, uint32_t tf,
	uint32_t len, uint32_t tt, uint32_t ts)
{
	if (tt > b->tt)
		b->tt = tt;
	if (ts > b->ts)
		b->ts = ts;
	/* Most postings are beaten by the front's first point: the least tf
	** (as large as theirs, tf 1 being the most frequent) and the shortest
	** length (as short as theirs). The rest is out of line. */
	if (tf == 0 || (b->n && tf <= b->tf[0] && len >= b->len[0]))
		return;
	furet_term_bound_insert(b, tf, len);
}

/* Encodes document records: names compresses the id, title and sections
** (NULL: stored raw; borrowed, it must outlive de); plain and stored are
** scratch. */
typedef struct furet_doc_enc {
	furet_text_enc *names;
	furet_buf plain, stored;
} furet_doc_enc;

void furet_doc_enc_init(furet_doc_enc *de, furet_text_enc *names);
void furet_doc_enc_free(furet_doc_enc *de);
/* Appends r to out (sticky error), its passages being r->pass_len bytes
** of furet_pass_enc_add output at r->pass, and r->sections those of its
** sections argument. */
void furet_doc_rec_encode(furet_doc_enc *de, const furet_doc_rec *r,
	furet_buf *out);
/* The same with the id, title and sections already in their stored form
** (names, names_len bytes: what furet_text_encode makes of the id, the
** title then the sections with the encoder of "zdict_ids"), compressed
** elsewhere: the writer does it in its compressing threads. r->sections
** is not read, r->sections_len is. */
void furet_doc_rec_encode_stored(const furet_doc_rec *r, const void *names,
	size_t names_len, furet_buf *out);
/* Decodes all but the id, title and sections, which stay stored
** (r->names) and NULL until asked for: most readers of a record never need
** them, and they are compressed. A passage's section needs them. */
furet_rc furet_doc_rec_decode(furet_val v, furet_doc_rec *r);
/* Sets r->id, r->title and r->sections: in place when stored raw, else
** decoded into buf (replacing its content) with dec, the decoder of the
** index's "zdict_ids" (may be NULL when the record needs none).
** FURET_CORRUPT on damage. The strings are valid while both the record's
** value and buf are. */
furet_rc furet_doc_names_decode(furet_text_dec *dec, furet_doc_rec *r,
	furet_buf *buf);
/* The same with a decoder and buffer of t's (made on first use): the
** strings are valid until the next furet_doc_rec_names or furet_docid_get
** on t, or the end of t. */
furet_rc furet_doc_rec_names(furet_txn *t, furet_doc_rec *r);
/* A term's record; decode points r->inl into v. */
void furet_term_rec_encode(const furet_term_rec *r, furet_buf *out);
furet_rc furet_term_rec_decode(furet_val v, furet_term_rec *r);

/* The postings record of block b of term (its record r): in r itself for
** a term of one block, else from the postings table (key: a buffer of
** term_len + 5 bytes). FURET_CORRUPT when it is missing. */
furet_rc furet_term_block(furet_txn *t, const char *term, size_t term_len,
	const furet_term_rec *r, uint32_t b, unsigned char *key, furet_val *v);

/* Where a term's blocks are written, in order from block 0: block 0 waits
** (in first) until block 1 comes, and goes to the term's record when none
** does. */
typedef struct furet_block_sink {
	furet_buf first;
	int has_first;
} furet_block_sink;
void furet_block_sink_init(furet_block_sink *s);
void furet_block_sink_free(furet_block_sink *s);
void furet_block_sink_reset(furet_block_sink *s);
/* Writes the record rec of block b (after those before it). */
furet_rc furet_block_sink_put(furet_txn *t, furet_block_sink *s,
	const char *term, size_t term_len, uint32_t b, const void *rec,
	size_t len, unsigned put_flags, unsigned char *key);
/* Ends the term's blocks (n_blocks of them): r->inl is its only block,
** valid while s is unchanged, or NULL. */
void furet_block_sink_end(furet_block_sink *s, uint32_t n_blocks,
	furet_term_rec *r);

/* Postings block key: term bytes, 0x00, block number in 1 to 4 bytes that
** sort as numbers (store.c). buf must hold term_len + 5 bytes; returns the
** key length. */
size_t furet_block_key(unsigned char *buf, const char *term, size_t term_len,
	uint32_t block);

/* One decoded postings block. */
typedef struct furet_block {
	uint32_t n;
	uint32_t pid[FURET_BLOCK_SIZE];
	uint32_t tf[FURET_BLOCK_SIZE];       /* body occurrences */
	uint8_t tf_title[FURET_BLOCK_SIZE];  /* title occurrences, capped at 255 */
	uint8_t tf_section[FURET_BLOCK_SIZE];
	uint32_t size;   /* bytes of its record the block took: its positions
	                 ** follow (furet_block_positions) */
} furet_block;

/* The docs table: document records by number, four to an LMDB value
** (store.c). get sets *v to the record of doc (valid until the next write
** of t), FURET_DONE when there is none; put sets it (len > 0), del removes
** it (FURET_DONE: there was none). A rebuild adds its records in number
** order into the empty table with furet_doc_app_add, then flushes once:
** full pages, where puts of one record at a time would rewrite each value
** four times and split pages half empty. The iterator gives every record
** in number order (FURET_DONE after the last). */
furet_rc furet_doc_get(furet_txn *t, uint32_t doc, furet_val *v);
furet_rc furet_doc_put(furet_txn *t, uint32_t doc, const void *rec,
	size_t len);
furet_rc furet_doc_del(furet_txn *t, uint32_t doc);

typedef struct furet_doc_app {
	furet_buf b;
	size_t len[4];
	uint32_t key;
	int has;
} furet_doc_app;

void furet_doc_app_init(furet_doc_app *a);
void furet_doc_app_free(furet_doc_app *a);
furet_rc furet_doc_app_add(furet_txn *t, furet_doc_app *a, uint32_t doc,
	const void *rec, size_t len);
furet_rc furet_doc_app_flush(furet_txn *t, furet_doc_app *a);

typedef struct furet_doc_iter {
	furet_cursor *cur;
	furet_val b;
	const unsigned char *rec[4];
	size_t len[4];
	uint32_t key;
	unsigned slot;
	int started;
} furet_doc_iter;

furet_rc furet_doc_iter_open(furet_txn *t, furet_doc_iter *it);
furet_rc furet_doc_iter_next(furet_doc_iter *it, uint32_t *doc, furet_val *v);
void furet_doc_iter_close(furet_doc_iter *it);

/* The docids table: the number of the document whose id is id (FURET_DONE:
** none) and, when rec is not NULL, its record (read to tell colliding ids
** apart; valid for the transaction, its id and title as furet_doc_rec_names
** leaves them), adding and removing one, and the ids it holds in all. */
furet_rc furet_docid_get(furet_txn *t, const void *id, size_t len,
	uint32_t *doc, furet_doc_rec *rec);
furet_rc furet_docid_put(furet_txn *t, const void *id, size_t len,
	uint32_t doc);
furet_rc furet_docid_del(furet_txn *t, const void *id, size_t len,
	uint32_t doc);
furet_rc furet_docid_count(furet_txn *t, uint64_t *n);
/* A rebuild fills the docids table in key order at the end: its pages are
** then full, where keys in hash order split them half empty. add appends
** the entry of an id to buf (12 bytes, sticky error); put_all sorts buf's
** entries and puts them into the empty table. */
void furet_docids_add(furet_buf *buf, const void *id, size_t len,
	uint32_t doc);
furet_rc furet_docids_put_all(furet_txn *t, furet_buf *buf);

/* A postings record is a block, then the positions of its postings.
** encode appends block b to out (b->n must be 1..FURET_BLOCK_SIZE, ids
** strictly increasing; furet_positions_encode then appends its
** positions); decode reads the block at the start of record v and sets
** b->size; positions gives the rest of the record. */
void furet_block_encode(const furet_block *b, furet_buf *out);
furet_rc furet_block_decode(furet_val v, furet_block *b);
static inline furet_val furet_block_positions(furet_val v,
	const furet_block *b)
{
	furet_val p;

	p.data = v.data + b->size;
	p.len = v.len - b->size;
	return p;
}

/* The positions of a block (store.c) hold, for each posting k of it,
** b->tf[k] deltas of body positions, Rice-coded. decode fills pos (room
** for 8 * v.len values: it decodes the record whole, then hands its
** values to the postings) and off (b->n + 1 entries: posting k's
** positions are pos[off[k]] .. pos[off[k + 1]]); FURET_CORRUPT unless the
** record is exactly that.
** The writer and compaction handle a block's positions as "raw" varint
** deltas, posting after posting (as runs hold them): encode appends the
** record of raw (FURET_CORRUPT unless raw holds exactly b's tfs' worth),
** varints appends the raw deltas of a record to out (only checks it when
** out is NULL). span sets *len to the bytes of tf raw varints at p (a
** posting's positions, copied whole by compaction). */
furet_rc furet_positions_decode(furet_val v, const furet_block *b,
	uint32_t *pos, uint32_t *off);
furet_rc furet_positions_encode(const furet_block *b, const unsigned char *raw,
	size_t raw_len, furet_buf *out);
furet_rc furet_positions_varints(furet_val v, const furet_block *b,
	furet_buf *out);
furet_rc furet_positions_span(const unsigned char *p, const unsigned char *end,
	uint32_t tf, size_t *len);

/* The first and last passage ids of an encoded block, from its head alone
** (a seek skips whole blocks without decoding them). */
furet_rc furet_block_span(furet_val v, uint32_t *first, uint32_t *last);

#endif
