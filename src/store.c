/*
** store.c — LMDB environment, named tables and the on-disk format.
**
** FORMAT (version 15). One LMDB environment per index directory (data.mdb,
** lock.mdb), with these named databases. "u32be" is a 4-byte big-endian
** integer (so keys sort numerically); "varint" is LEB128 (util.c).
**
**   meta       "format"   -> u32be FURET_FORMAT_VERSION
**              "analyzer" -> analyzer signature (bytes, no NUL)
**              "stats"    -> varint n_docs, n_passages (ids given), total_length,
**                            n_postings, next_doc, n_live (passages not
**                            removed), text_bytes, last_update (Unix time),
**                            n_purged (removed passages whose postings
**                            compaction dropped)
**              "plen"     -> lengths (below): body length in words of
**                            each passage (read once per query term
**                            posting, so it is a dense array, not a record);
**                            removed for a removed passage, whose postings
**                            stay until compaction (searches skip it; df, cf
**                            and the statistics no longer count it)
**              "pdoc"     -> the document of each passage (collapsing to the
**                            best passage of each document without a
**                            lookup). A document is a run of passages, so
**                            per block of 64 passages (n_passages / 64
**                            rounded up), 16 bytes: u64 little-endian,
**                            bit j set when passage 64 block + j is the
**                            first of its document (0 past the last
**                            passage); u32le the document of passage 64
**                            block; u32le the number of jumps before the
**                            block. Then the jumps, u32le passage, u32le
**                            document: each passage that starts a document,
**                            not first in its block, whose document is not
**                            the previous passage's + 1 (documents without
**                            passages came between). A passage's document
**                            is its block's + the starts after the block's
**                            first passage up to it, counted from the last
**                            jump among them when there is one
**              "docid_bits" -> a byte, 0 to 32: how many leading bits of an
**                            id's hash name its bucket in docids (absent:
**                            0, one bucket)
**              "zdict"    -> the dictionary of the stored text (trained by
**                            zstd's ZDICT, used by LZ4 as the text before
**                            each text), trained on the passages of the last
**                            rebuild (absent when there was too little text)
**              "zdict_ids" -> the zstd dictionary of the documents' ids and
**                            titles, trained on those of the last rebuild
**                            (absent when there were too few)
**              "dlen"     -> lengths: length in words of each document, all
**                            its passages (the document-level part of a
**                            score, with one passage per document; entries
**                            of 2 bytes at least)
**              "dense_bits" -> a byte b, 6 to 24 (absent: 16): "plen", "pdoc"
**                            and "dlen" are each stored in chunks of 2^b
**                            entries (the last one shorter), under the
**                            array's name and the chunk's u32be number
**                            ("plen" 00 00 00 03), each chunk coded as
**                            the array is below, on its own: its pairs
**                            and the passages of its jumps numbered from
**                            its first entry; a pdoc chunk's first
**                            passage starts a document when its document
**                            is not the previous chunk's last one's. A
**                            commit rewrites only the chunks that its
**                            entries and removals fall in
**              lengths: a byte w (1, 2 or 4), then one little-endian entry of
**                            w bytes per passage or document: e < 2^8w - 2
**                            the length, 2^8w - 2 see the pairs, 2^8w - 1
**                            removed; then the pairs, u32le index, u32le
**                            length, one per entry 2^8w - 2 in index order.
**                            The writer takes the narrowest w that leaves
**                            at most 1 entry in 64 in the pairs (a search
**                            finds those by binary search)
**   docs       u32be doc number / 4 -> the records of documents 4k to 4k + 3,
**                            each a varint length (0: no such document,
**                            not all 0) and its bytes: four to an LMDB
**                            value, as a node costs 14 bytes and a record
**                            is 75 on average. A record: varint id_len,
**                            varint title_len, varint
**                            sections_len, varint names_len, names: id,
**                            title and sections, one after the other,
**                            stored as text is (see text, with the
**                            dictionary "zdict_ids", at level 12; read
**                            only when asked for), varint first_passage,
**                            varint n_passages, varint source (its number
**                            in sources, 0: none), 8 bytes content hash (of
**                            format, title, text and metadata; only ever
**                            compared with the hash of a new version of
**                            the same id), varint meta_len (at most
**                            FURET_META_MAX), meta: the caller's metadata
**                            bytes (0: none); then its n_passages
**                            passages, each: varint 3 x zigzag of start -
**                            the previous passage's end (0 for the first)
**                            + its section: 0 none, 1 the same as the
**                            previous passage's, 2 its own, then varint
**                            end - start (byte range in the document), and
**                            for 2 varint n: the next n bytes of the
**                            sections (compressed with the id and title,
**                            as the passages' sections share words with
**                            them and each other). A passage's document is
**                            "pdoc", its number pid - first_passage, its
**                            length "plen"
**   docids     u32be bucket -> its entries, each u64be hash of an id (FNV-1a
**                            64, mixed), u32be doc number, in order: the
**                            ids whose hash starts with the bucket's
**                            "docid_bits" bits (8-byte hashes, not ids of
**                            90 bytes; the documents' records tell
**                            colliding ids apart). A rebuild makes the
**                            buckets 32 entries at most on average, and
**                            writes them in key order; a bucket of more
**                            than 128 doubles them (each splits in two by
**                            the next bit)
**   sources    u32be number -> the path of a source file (documents name
**                            theirs by number); numbered densely from 1 in
**                            order of first use, never removed
**   text       u32be passage id -> a group of passage texts: the texts of
**                            consecutive passages of one document, up to
**                            FURET_TEXT_GROUP bytes (a longer one alone),
**                            under the last one's id (a passage's group is
**                            the first at or after its id). The group: a
**                            varint n, the n texts' lengths as varints,
**                            then their concatenation stored as one text:
**                            a tag byte, then the
**                            raw UTF-8 (0), or an LZ4 block without (9)
**                            or with (10) the dictionary "zdict" (what
**                            rebuilds and batches write), or a zstd frame
**                            without (1) or with (2) it, stored without
**                            its 4-byte magic number nor a dictionary id,
**                            or the content of a frame's one block: 3 + 3
**                            x (with the dictionary) + zstd's block type
**                            (0 raw, 1 RLE, 2 compressed), the frame's
**                            headers being what zstd writes for that text
**                            and block (textcodec.c)
**   terms      term bytes -> varint df, cf, n_blocks; the term's bound
**                            (furet_term_bound): varint n (at most 4), n
**                            pairs varint body tf, varint passage length
**                            (tf increasing), varint largest title tf,
**                            largest section tf; then the same pairs over
**                            documents: varint n, n pairs varint body tf
**                            in the document, varint document length;
**                            then, for a term of one block (n_blocks 1:
**                            95 % of them) and only then, the postings
**                            record of that block, which the postings
**                            table does not hold
**   postings   term, 0x00, block -> one block of at most 128 postings,
**                            then their positions. The block: varint
**                            n - 1; varint first passage id; varint
**                            last - first (a seek reads just this far);
**                            then a stream of bits, packed least
**                            significant first from the first byte on,
**                            the last byte padded with 0 bits: 1 bit,
**                            set when the block has runs: then 7 bits of
**                            m - 1, m < n the postings written (the
**                            others are in runs), else m = n; (when m >
**                            1) 1 bit c, 5 bits of k and the m - 1 id
**                            gaps less one (from the end of the previous
**                            run), Rice-coded (c 0, as the positions
**                            are) or Exp-Golomb-coded of order k (c 1: x
**                            = (gap >> k) + 1 of z + 1 bits as z 0 bits,
**                            a 1, the z low bits of x, then the k low
**                            bits of the gap); 5 bits of k and the m body
**                            tfs, Rice-coded with 0 and 1 swapped (1
**                            codes as 0); 4 bits of a width w (0 to 8)
**                            and m title tfs of w bits each; the same for
**                            the m section tfs; with runs, 5 bits of k
**                            and m run lengths, Rice-coded: posting i
**                            stands for itself and the next run_i ids
**                            (no body words: body tf 0, no positions;
**                            the same title and section tfs).
**                            The positions, from the next byte to the end
**                            of the record: for each posting, as many
**                            deltas of its body word positions (the first
**                            from 0) as its body tf (no count: the block
**                            has it), Rice-coded: 5 bits of k (floor(log2)
**                            of the block's mean delta), then per delta d
**                            its quotient d >> k in unary (that many 0
**                            bits, then a 1) and its k low bits, least
**                            significant first; bits are packed least
**                            significant first, the last byte padded
**                            with 0 bits. None when the block has no body
**                            positions. Non-phrase queries read the block
**                            alone.
**                            block: its number, in bytes that sort as the
**                            numbers do: 0xxxxxxx (< 2^7), 10xxxxxx and a
**                            byte (< 2^14), 110xxxxx and 2 bytes (< 2^21),
**                            1110xxxx and 3 bytes (< 2^28), big-endian
**   folds      fold key, 0x00, term -> empty: the index terms (stems with
**                            their accents) that an accent-free lookup key
**                            reaches, for each term that differs from its
**                            key ("even\0éven"); a term equal to its key is
**                            not listed, the search looks it up directly
**   words      unaccented word, 0x00, term -> empty: the surface words (4+
**                            bytes, accents removed, not numbers) and the
**                            term each became, where typo candidates are
**                            looked for ("formation\0format")
**
** Version 2 added the folds table and keeps accents in terms (version 1
** folded them); version 3 added the words table, version 4 "dlen", version
** 5 removal (dead passages, sources and content hashes of documents),
** version 6 compressed text, version 7 document metadata, version 8
** bit-packed postings blocks and hashed docids keys, version 9 a smaller
** index: positions without a count per posting, passages inside their
** document's record (no passages table), source paths numbered in a
** sources table, 8-byte content hashes; version 10 a document's id and
** title compressed with a dictionary of their own, zstd frames without
** their magic number and dictionary id; version 11 a bound of each term's
** frequencies (the search's pruning), Rice-coded positions (varints
** before) and block numbers of 1 to 4 bytes in the keys of postings and
** positions (4 before); version 12 Rice-coded id gaps and body tfs in
** postings blocks (arrays of one bit width each before), Exp-Golomb gaps
** when shorter, runs of title-only postings, a block's positions in its
** postings record (a positions table before), the only block of a term in
** its terms record, "plen" and "dlen" in entries of 1 or 2 bytes and
** "pdoc" as a bitmap of document starts (u32 arrays before), a passage's
** section in the same varint as its start (one byte less), the sections
** compressed with the id and title (raw in the passages before), docids by
** buckets of ids (an id per key before), four documents to a docs value
** (one before), stored text of one zstd block without zstd's headers;
** version 13 stored texts in groups of consecutive passages (one per key
** before); version 14 the dense arrays in chunks (one value each before);
** version 15 stored texts in LZ4 blocks (zstd before).
**
** Passage ids are dense, given in indexing order, and never reused, so a
** document is a run of consecutive ids and appending a batch only touches the
** last block of each term. Terms never contain a 0x00 byte, which keeps the
** postings keys of one term contiguous and in term order.
**
** All data read back is checked: decoders return FURET_CORRUPT rather than
** trusting a length.
*/
#define _GNU_SOURCE /* RENAME_EXCHANGE */
#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <lmdb.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h> /* makedev */
#include <sys/types.h>
#include <unistd.h>

#include "analyzer.h"
#include "textcodec.h"

static const char *const table_names[FURET_T_COUNT] = {
	"meta", "docs", "docids", "sources", "text", "terms", "postings",
	"folds", "words",
};

struct furet_store {
	MDB_env *env;
	MDB_dbi dbi[FURET_T_COUNT];
	size_t map_size;
	int is_readonly;
	int needs_rebuild; /* opened with REPLACE over another version */
	char *dir;
	int lock_fd;       /* writer.lock while a batch is open, else -1 */
	unsigned env_flags;
	/* Every transaction holds it shared; changing the map size or swapping
	** the file after compaction holds it exclusive (LMDB allows those only
	** with no transaction active in the process). */
	pthread_rwlock_t env_lock;
	int has_env_lock;
	void *map;         /* where drop_mapped found the map (NULL: not looked */
	size_t map_len;    /* for since the environment was opened or grown) */
	pthread_t closer;  /* closing the environment a swap replaced (reopen) */
	int has_closer;
};

struct furet_txn {
	furet_store *s;
	MDB_txn *txn;      /* NULL once a checkpoint failed */
	size_t pending;    /* bytes put since it began or its last checkpoint */
	size_t ckpt;       /* the store's own rewrites checkpoint every ckpt
	                      bytes put (0: never) */
	furet_text_dec *names_dec; /* ids and titles: made on first use */
	furet_buf names_buf;       /* the last ones decoded */
	/* A cursor per table for FURET_PUT_APPEND: left on the last record,
	** the next append finds the last page without a search from the
	** root (mdb_put opens a cursor and searches for every record).
	** LMDB closes them with their transaction (commit, checkpoint). */
	MDB_cursor *app[FURET_T_COUNT];
	char errmsg[200];
};

/* The meta key of the dictionary of ids and titles. */
#define NAMES_DICT "zdict_ids"

static void txn_free(furet_txn *t)
{
	furet_text_dec_close(t->names_dec);
	furet_buf_free(&t->names_buf);
	furet_free(t);
}

/* Writing the dictionary of ids and titles: the decoder made with the old
** one must go. */
static void txn_wrote(furet_txn *t, furet_table tab, const void *k,
	size_t k_len)
{
	if (tab == FURET_T_META && k_len == sizeof NAMES_DICT - 1 &&
		memcmp(k, NAMES_DICT, k_len) == 0) {
		furet_text_dec_close(t->names_dec);
		t->names_dec = NULL;
	}
}

struct furet_cursor {
	furet_txn *t;
	MDB_cursor *cur;
};

size_t furet_store_map_min = (size_t)1 << 30;

static furet_rc rc_from_mdb(int rc)
{
	switch (rc) {
	case 0:
		return FURET_OK;
	case MDB_NOTFOUND:
		return FURET_DONE;
	case MDB_MAP_FULL:
		return FURET_MAPFULL;
	case ENOMEM:
		return FURET_NOMEM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
	case MDB_BAD_VALSIZE:
		return FURET_CORRUPT;
	case EACCES:
	case EROFS:
	case EIO:
	case ENOSPC:
		return FURET_IO;
	default:
		return FURET_ERROR;
	}
}

static furet_rc txn_fail(furet_txn *t, const char *what, int rc)
{
	snprintf(t->errmsg, sizeof t->errmsg, "%s: %s", what, mdb_strerror(rc));
	return rc_from_mdb(rc);
}

static int mkdirs(const char *dir)
{
	char path[4096];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof path)
		return ENAMETOOLONG;
	memcpy(path, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];
			path[i] = '\0';
			if (mkdir(path, 0777) != 0 && errno != EEXIST)
				return errno;
			path[i] = c;
		}
	}
	return 0;
}

/* What meta says of the index's format version and analyzer: FURET_OK
** when they are this furet's, FURET_VERSION (with how to rebuild in err),
** FURET_CORRUPT for a record that is not furet's. */
static furet_rc check_version(MDB_txn *txn, MDB_dbi meta, const char *path,
	char *err, size_t err_cap)
{
	const char *sig = furet_analyzer_signature();
	MDB_val k, v;
	int mrc;

	k.mv_data = "format";
	k.mv_size = 6;
	mrc = mdb_get(txn, meta, &k, &v);
	if (mrc == MDB_NOTFOUND) {
		snprintf(err, err_cap, "the index in %s was never finished; "
			"rebuild it with: furet index --rebuild", path);
		return FURET_CORRUPT;
	}
	if (mrc) {
		snprintf(err, err_cap, "cannot read %s: %s", path, mdb_strerror(mrc));
		return rc_from_mdb(mrc);
	}
	if (v.mv_size != 4) {
		snprintf(err, err_cap, "%s is not a furet index (bad format "
			"record)", path);
		return FURET_CORRUPT;
	}
	if (furet_get_u32be(v.mv_data) != FURET_FORMAT_VERSION) {
		snprintf(err, err_cap, "index format version %u, this furet reads "
			"version %u: rebuild it with: furet index --rebuild",
			(unsigned)furet_get_u32be(v.mv_data),
			(unsigned)FURET_FORMAT_VERSION);
		return FURET_VERSION;
	}
	k.mv_data = "analyzer";
	k.mv_size = 8;
	mrc = mdb_get(txn, meta, &k, &v);
	if (mrc && mrc != MDB_NOTFOUND) {
		snprintf(err, err_cap, "cannot read %s: %s", path, mdb_strerror(mrc));
		return rc_from_mdb(mrc);
	}
	if (mrc || v.mv_size != strlen(sig) ||
		memcmp(v.mv_data, sig, v.mv_size) != 0) {
		snprintf(err, err_cap, "index built with analyzer \"%.*s\", "
			"this furet uses \"%s\": rebuild it with: furet index "
			"--rebuild", mrc ? 0 : (int)(v.mv_size > 100 ? 100 :
			v.mv_size), mrc ? "" : (const char *)v.mv_data, sig);
		return FURET_VERSION;
	}
	return FURET_OK;
}

/* Opens the tables and checks what meta says, in one transaction:
**   - no meta table: an empty environment is initialised when creating;
**     one with other content is another program's, and is refused;
**   - another format version or analyzer: refused with how to rebuild,
**     unless FURET_STORE_REPLACE (a rebuild will overwrite everything);
**   - then the other tables are opened (created when writing, so an index
**     of an older version being replaced gets the tables it lacked).
** Nothing is written unless creating or replacing. */
static furet_rc open_tables(furet_store *s, const char *path, unsigned flags,
	char *err, size_t err_cap)
{
	int is_write = (flags & (FURET_STORE_CREATE | FURET_STORE_REPLACE)) &&
		!s->is_readonly;
	const char *sig = furet_analyzer_signature();
	MDB_txn *txn = NULL;
	MDB_val k, v;
	int mrc, i, is_new = 0;
	furet_rc rc = FURET_OK;

	if ((mrc = mdb_txn_begin(s->env, NULL, is_write ? 0 : MDB_RDONLY, &txn)))
		goto mdb_fail;
	mrc = mdb_dbi_open(txn, table_names[FURET_T_META], 0, &s->dbi[FURET_T_META]);
	if (mrc == MDB_NOTFOUND) {
		MDB_dbi main_dbi;
		MDB_stat st;
		if ((mrc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
			(mrc = mdb_stat(txn, main_dbi, &st)))
			goto mdb_fail;
		if (st.ms_entries > 0) {
			snprintf(err, err_cap, "%s is an LMDB file but not a furet index",
				path);
			rc = FURET_CORRUPT;
			goto done;
		}
		if (!is_write) {
			snprintf(err, err_cap, "the index in %s is empty: build it with: "
				"furet index -i DIR PATH...", path);
			rc = FURET_NOINDEX;
			goto done;
		}
		if ((mrc = mdb_dbi_open(txn, table_names[FURET_T_META], MDB_CREATE,
			&s->dbi[FURET_T_META])))
			goto mdb_fail;
		is_new = 1;
	} else if (mrc == MDB_INCOMPATIBLE) {
		snprintf(err, err_cap, "%s is an LMDB file but not a furet index", path);
		rc = FURET_CORRUPT;
		goto done;
	} else if (mrc) {
		goto mdb_fail;
	}

	if (!is_new) {
		rc = check_version(txn, s->dbi[FURET_T_META], path, err, err_cap);
		if (rc == FURET_VERSION && (flags & FURET_STORE_REPLACE) && is_write) {
			s->needs_rebuild = 1;
			rc = FURET_OK;
		}
		if (rc)
			goto done;
	}
	for (i = 0; i < FURET_T_COUNT; i++) {
		if (i == FURET_T_META)
			continue;
		mrc = mdb_dbi_open(txn, table_names[i], is_write ? MDB_CREATE : 0,
			&s->dbi[i]);
		if (mrc == MDB_NOTFOUND || mrc == MDB_INCOMPATIBLE) {
			snprintf(err, err_cap, "the index in %s lacks its %s table: "
				"rebuild it with: furet index --rebuild", path,
				table_names[i]);
			rc = FURET_CORRUPT;
			goto done;
		}
		if (mrc)
			goto mdb_fail;
	}
	if (is_new) {
		unsigned char ver[4];
		MDB_val sv;
		furet_put_u32be(ver, FURET_FORMAT_VERSION);
		k.mv_data = "format";
		k.mv_size = 6;
		v.mv_data = ver;
		v.mv_size = 4;
		if ((mrc = mdb_put(txn, s->dbi[FURET_T_META], &k, &v, 0)))
			goto mdb_fail;
		k.mv_data = "analyzer";
		k.mv_size = 8;
		v.mv_data = (void *)sig;
		v.mv_size = strlen(sig);
		if ((mrc = mdb_put(txn, s->dbi[FURET_T_META], &k, &v, 0)))
			goto mdb_fail;
		/* Empty collection statistics: nine zero varints. */
		k.mv_data = "stats";
		k.mv_size = 5;
		sv.mv_data = "\0\0\0\0\0\0\0\0\0";
		sv.mv_size = 9;
		if ((mrc = mdb_put(txn, s->dbi[FURET_T_META], &k, &sv, 0)))
			goto mdb_fail;
	}
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc)
		goto mdb_fail;
	return FURET_OK;
mdb_fail:
	rc = rc_from_mdb(mrc);
	snprintf(err, err_cap, "cannot read the index in %s: %s", path,
		mdb_strerror(mrc));
done:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

/* ---- LMDB's page structure ------------------------------------------------
**
** LMDB 0.9 trusts the pages of its file: a page number, a node offset or a
** data size read from a damaged page is followed as it is, so a flipped byte
** in a branch page can make a read land outside the file (SIGBUS) or in
** another page. furet_store_verify walks, before anything is read through
** LMDB, every page a read transaction can reach and checks what LMDB would
** follow blindly. The layout is LMDB's on-disk format, data version 1 (mdb.c:
** MDB_page, MDB_node, MDB_meta, MDB_db; 64-bit page numbers):
**
**   page     u64 pgno, u16 pad, u16 flags, u16 lower, u16 upper (overflow
**            pages: u32 count), then u16 node offsets (lower - 16) / 2
**   node     u16 lo, u16 hi, u16 flags, u16 key size, key, data: in a branch
**            page lo | hi << 16 | flags << 32 is the child page; in a leaf
**            lo | hi << 16 is the data size, and with F_BIGDATA the data is
**            the u64 number of its first overflow page
**   meta     pages 0 and 1 at byte 16: u32 magic, u32 version, u64 address,
**            u64 map size, MDB_db free, MDB_db main, u64 last page, u64 txnid
**   MDB_db   u32 pad (page size, in the free DB of a meta), u16 flags, u16
**            depth, u64 branch, leaf and overflow pages, u64 entries, u64 root
**
** Every furet table is a named database: a node of the main database with
** F_SUBDATA whose data is its MDB_db. The walk checks that every page number
** lies inside the file, that each page is reached once, is what its parent
** expects (branch above the leaves, leaves at the tree's depth, overflow
** runs whole), and that every node and its key and data lie inside its page;
** the free-page database's lists must name pages inside the file. */
#define LM_PAGEHDR 16
#define LM_NODEHDR 8
#define LM_DBSIZE 48
#define LM_P_BRANCH 0x01
#define LM_P_LEAF 0x02
#define LM_P_OVERFLOW 0x04
#define LM_P_META 0x08
#define LM_P_LEAF2 0x20
#define LM_P_SUBP 0x40
#define LM_F_BIGDATA 0x01
#define LM_F_SUBDATA 0x02
#define LM_F_DUPDATA 0x04
#define LM_INVALID UINT64_MAX
#define LM_MAX_DEPTH 32 /* LMDB's CURSOR_STACK */
#define LM_META_MAGIC 0xBEEFC0DEu

/* Indexes at most this large are walked whole on every open; larger ones
** by furet_index_check. */
#define VERIFY_ON_OPEN_MAX ((uint64_t)64 << 20)

enum { TREE_FREE, TREE_MAIN, TREE_TABLE };

typedef struct pagewalk {
	const unsigned char *map;
	uint64_t psize, n_pages;
	uint64_t n_walked;   /* pages read (pw_touch) */
	unsigned char *seen; /* one bit per page */
	char *err;
	size_t err_cap;
} pagewalk;

static uint16_t get16(const unsigned char *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static int pw_bad(pagewalk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int pw_bad(pagewalk *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, w->err_cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* Marks pages [pgno, pgno + n) as reached; -1 if one already was. */
static int pw_mark(pagewalk *w, uint64_t pgno, uint64_t n)
{
	uint64_t i;

	for (i = pgno; i < pgno + n; i++) {
		if (w->seen[i >> 3] & (1u << (i & 7)))
			return pw_bad(w, "page %llu is reached twice (%llu)",
				(unsigned long long)i, (unsigned long long)pgno);
		w->seen[i >> 3] |= (unsigned char)(1u << (i & 7));
	}
	return 0;
}

static int pw_tree(pagewalk *w, const unsigned char *db, int kind);

/* A page is read through the map: every 256th time, the map's pages leave
** the resident set. Each fault maps the cached pages around it too (64
** KiB): the 1.8 GB index of the corpus eight times stayed resident whole. */
static void pw_touch(pagewalk *w)
{
	if (!(++w->n_walked & 255))
		madvise((void *)w->map, (size_t)(w->n_pages * w->psize),
			MADV_DONTNEED);
}

/* A free-page list: u64 count, then that many page numbers. */
static int pw_idl(pagewalk *w, const unsigned char *d, uint64_t dsz)
{
	uint64_t n, i;

	if (dsz < 8 || (n = get64(d)) > dsz / 8 - 1)
		return pw_bad(w, "a free-page list of %llu bytes is damaged",
			(unsigned long long)dsz);
	for (i = 1; i <= n; i++)
		if (get64(d + 8 * i) >= w->n_pages)
			return pw_bad(w, "the free-page list names page %llu, past the "
				"end of the file (%llu pages)",
				(unsigned long long)get64(d + 8 * i),
				(unsigned long long)w->n_pages);
	return 0;
}

static int pw_page(pagewalk *w, uint64_t pgno, unsigned level, unsigned depth,
	int kind)
{
	const unsigned char *p;
	unsigned flags, lower, upper, n, i, want;

	if (pgno < 2 || pgno >= w->n_pages)
		return pw_bad(w, "a page number (%llu) lies outside the file "
			"(%llu pages)", (unsigned long long)pgno,
			(unsigned long long)w->n_pages);
	if (pw_mark(w, pgno, 1))
		return -1;
	pw_touch(w);
	p = w->map + pgno * w->psize;
	flags = get16(p + 10);
	lower = get16(p + 12);
	upper = get16(p + 14);
	want = level == depth ? LM_P_LEAF : LM_P_BRANCH;
	if (get64(p) != pgno ||
		(flags & (LM_P_BRANCH | LM_P_LEAF | LM_P_OVERFLOW | LM_P_META |
		LM_P_LEAF2 | LM_P_SUBP)) != want)
		return pw_bad(w, "page %llu is not the %s page its parent names",
			(unsigned long long)pgno, want == LM_P_LEAF ? "leaf" : "branch");
	if (lower < LM_PAGEHDR || (lower & 1) || upper < lower ||
		upper > w->psize || (level < depth && lower == LM_PAGEHDR))
		return pw_bad(w, "page %llu has a damaged header",
			(unsigned long long)pgno);
	n = (lower - LM_PAGEHDR) / 2;
	for (i = 0; i < n; i++) {
		unsigned off = get16(p + LM_PAGEHDR + 2 * i), ksize, nflags;
		const unsigned char *node = p + off, *d;
		uint64_t dsz;

		if (off < upper || off + LM_NODEHDR > w->psize ||
			off + LM_NODEHDR + (ksize = get16(node + 6)) > w->psize)
			return pw_bad(w, "page %llu: node %llu lies outside the page",
				(unsigned long long)pgno, (unsigned long long)i);
		nflags = get16(node + 4);
		d = node + LM_NODEHDR + ksize;
		if (level < depth) {
			uint64_t child = (uint64_t)get16(node) |
				(uint64_t)get16(node + 2) << 16 | (uint64_t)nflags << 32;
			if (pw_page(w, child, level + 1, depth, kind))
				return -1;
			continue;
		}
		dsz = (uint64_t)get16(node) | (uint64_t)get16(node + 2) << 16;
		if (nflags & LM_F_DUPDATA)
			return pw_bad(w, "page %llu: node %llu has duplicates, which "
				"furet never writes", (unsigned long long)pgno,
				(unsigned long long)i);
		if (nflags & LM_F_BIGDATA) {
			uint64_t ov, np;
			const unsigned char *op;
			if (off + LM_NODEHDR + ksize + 8 > w->psize)
				return pw_bad(w, "page %llu: node %llu lies outside the "
					"page", (unsigned long long)pgno, (unsigned long long)i);
			ov = get64(d);
			np = (dsz + LM_PAGEHDR + w->psize - 1) / w->psize;
			if (ov < 2 || ov >= w->n_pages || np > w->n_pages - ov)
				return pw_bad(w, "page %llu: a large value lies outside "
					"the file (page %llu)", (unsigned long long)pgno,
					(unsigned long long)ov);
			op = w->map + ov * w->psize;
			pw_touch(w);
			if (get64(op) != ov || !(get16(op + 10) & LM_P_OVERFLOW) ||
				get32(op + 12) < np)
				return pw_bad(w, "page %llu is not the large value page "
					"%llu names", (unsigned long long)ov,
					(unsigned long long)pgno);
			if (pw_mark(w, ov, np))
				return -1;
			d = op + LM_PAGEHDR;
		} else if (off + LM_NODEHDR + ksize + dsz > w->psize) {
			return pw_bad(w, "page %llu: the data of node %llu lies outside "
				"the page", (unsigned long long)pgno, (unsigned long long)i);
		}
		if (nflags & LM_F_SUBDATA) {
			if (kind != TREE_MAIN || dsz != LM_DBSIZE ||
				(nflags & LM_F_BIGDATA))
				return pw_bad(w, "page %llu: node %llu is a damaged table "
					"record", (unsigned long long)pgno, (unsigned long long)i);
			if (pw_tree(w, d, TREE_TABLE))
				return -1;
		} else if (kind == TREE_FREE && pw_idl(w, d, dsz)) {
			return -1;
		}
	}
	return 0;
}

/* One B-tree from its MDB_db record. furet's tables have no flags (plain
** byte keys, no duplicates); the free-page database has integer keys. */
static int pw_tree(pagewalk *w, const unsigned char *db, int kind)
{
	unsigned flags = get16(db + 4), depth = get16(db + 6);
	uint64_t root = get64(db + 40);

	if (flags != (kind == TREE_FREE ? MDB_INTEGERKEY : 0))
		return pw_bad(w, "a table has flags 0x%x that furet never sets",
			flags);
	if (root == LM_INVALID)
		return depth == 0 ? 0 : pw_bad(w, "an empty table has depth %u",
			depth);
	if (depth == 0 || depth > LM_MAX_DEPTH)
		return pw_bad(w, "a table has depth %u", depth);
	return pw_page(w, root, 1, depth, kind);
}

/* Checks the file against the meta page of the snapshot of txn (the one
** LMDB picks by transaction id): it must hold every page the meta counts;
** with is_walk, also walks every page the snapshot reaches. On failure err
** says what is wrong, naming the page. FURET_BUSY: a writer rewrote the
** meta page meanwhile, try again. */
/* The transaction id of a meta page (8-aligned in a page-aligned map),
** read as an atomic: a writer in another process may be rewriting it. */
static uint64_t meta_txnid(const unsigned char *meta)
{
	return __atomic_load_n((const uint64_t *)(const void *)(meta +
		LM_PAGEHDR + 128), __ATOMIC_SEQ_CST);
}

static furet_rc verify_snapshot(furet_store *s, MDB_txn *txn,
	uint64_t walk_max, char *err, size_t err_cap)
{
	pagewalk w;
	MDB_stat st;
	struct stat fst;
	unsigned char dbs[2 * LM_DBSIZE];
	const unsigned char *meta;
	uint64_t txnid = mdb_txn_id(txn), last_pg, size;
	void *map = MAP_FAILED;
	size_t map_len;
	furet_rc rc = FURET_CORRUPT;
	int mrc, fd;

	memset(&w, 0, sizeof w);
	w.err = err;
	w.err_cap = err_cap;
	if ((mrc = mdb_env_stat(s->env, &st))) {
		snprintf(err, err_cap, "%s", mdb_strerror(mrc));
		return rc_from_mdb(mrc);
	}
	/* After the transaction began: the file holds at least its pages. */
	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &fst) || fst.st_size < 0) {
		snprintf(err, err_cap, "cannot read the size of data.mdb");
		return FURET_IO;
	}
	size = (uint64_t)fst.st_size;
	w.psize = st.ms_psize;
	if (w.psize < 512 || size < 2 * w.psize) {
		snprintf(err, err_cap, "the file is too short (%llu bytes)",
			(unsigned long long)size);
		return FURET_CORRUPT;
	}
	/* Our own read-only view of the file (LMDB does not say where its map
	** is); the same page cache, so walking it costs no copy. */
	map_len = (size_t)(size <= walk_max ? size : 2 * w.psize);
	map = mmap(NULL, map_len, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		snprintf(err, err_cap, "cannot map data.mdb: %s", strerror(errno));
		return FURET_IO;
	}
	w.map = map;
	/* Copy the meta, then make sure no writer rewrote it meanwhile (it
	** rewrites this one two commits later; our pages stay ours). */
	meta = w.map + (txnid & 1) * w.psize;
	if (meta_txnid(meta) != txnid) {
		rc = FURET_BUSY;
		goto done;
	}
	memcpy(dbs, meta + LM_PAGEHDR + 24, sizeof dbs);
	last_pg = get64(meta + LM_PAGEHDR + 120);
	if (meta_txnid(meta) != txnid) {
		rc = FURET_BUSY;
		goto done;
	}
	if (get32(meta + LM_PAGEHDR) != LM_META_MAGIC || get32(dbs) != w.psize) {
		snprintf(err, err_cap, "the meta page of transaction %llu is "
			"damaged", (unsigned long long)txnid);
		goto done;
	}
	if (last_pg >= size / w.psize) {
		snprintf(err, err_cap, "the file is truncated: it holds %llu pages, "
			"the index has %llu", (unsigned long long)(size / w.psize),
			(unsigned long long)last_pg + 1);
		goto done;
	}
	rc = FURET_OK;
	if (size > walk_max)
		goto done;
	w.n_pages = last_pg + 1;
	w.seen = furet_malloc((size_t)(w.n_pages + 7) / 8);
	if (!w.seen) {
		rc = FURET_NOMEM;
		goto done;
	}
	memset(w.seen, 0, (size_t)(w.n_pages + 7) / 8);
	w.seen[0] |= 3; /* the meta pages */
	if (pw_tree(&w, dbs, TREE_FREE) || pw_tree(&w, dbs + LM_DBSIZE, TREE_MAIN))
		rc = FURET_CORRUPT;
	furet_free(w.seen);
done:
	munmap(map, map_len);
	return rc;
}

/* verify_snapshot in a read transaction of its own, again while writers
** rewrite the meta page under it. */
static furet_rc verify(furet_store *s, uint64_t walk_max, char *err,
	size_t err_cap)
{
	MDB_txn *txn = NULL;
	furet_rc rc = FURET_BUSY;
	int mrc, tries;

	err[0] = '\0';
	for (tries = 0; tries < 10 && rc == FURET_BUSY; tries++) {
		pthread_rwlock_rdlock(&s->env_lock);
		mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
		if (mrc) {
			pthread_rwlock_unlock(&s->env_lock);
			snprintf(err, err_cap, "%s", mdb_strerror(mrc));
			return rc_from_mdb(mrc);
		}
		rc = verify_snapshot(s, txn, walk_max, err, err_cap);
		mdb_txn_abort(txn);
		pthread_rwlock_unlock(&s->env_lock);
	}
	if (rc == FURET_BUSY)
		snprintf(err, err_cap, "the index changed too often to be checked");
	return rc;
}

furet_rc furet_store_verify(furet_store *s, char *err, size_t err_cap)
{
	return verify(s, UINT64_MAX, err, err_cap);
}

/* Removes a damaged data.mdb and its lock file, for a rebuild. */
static furet_rc remove_env(const char *dir, const char *path, char *err,
	size_t err_cap)
{
	char lock[4200];

	snprintf(lock, sizeof lock, "%s/lock.mdb", dir);
	if (unlink(path) != 0 || (unlink(lock) != 0 && errno != ENOENT)) {
		snprintf(err, err_cap, "cannot remove the damaged %s: %s", path,
			strerror(errno));
		return FURET_IO;
	}
	return FURET_OK;
}

/* One meta page, read with pread before LMDB opens the file: LMDB takes its
** page size and page count from there as they are (a page size of 0 is a
** division by zero inside mdb_env_open). 0, or -1 with err set. */
static int read_meta(int fd, uint64_t off, const char *path, uint64_t *psize,
	uint64_t *last_pg, uint64_t *txnid, uint64_t roots[2], char *err,
	size_t err_cap)
{
	unsigned char m[LM_PAGEHDR + 136];
	uint32_t ver;

	if (pread(fd, m, sizeof m, (off_t)off) != (ssize_t)sizeof m) {
		snprintf(err, err_cap, "%s is truncated (no meta page at byte %llu)",
			path, (unsigned long long)off);
		return -1;
	}
	if (!(get16(m + 10) & LM_P_META) || get32(m + LM_PAGEHDR) != LM_META_MAGIC) {
		snprintf(err, err_cap, "%s is not a furet index (not an LMDB file, "
			"or its meta page at byte %llu is damaged)", path,
			(unsigned long long)off);
		return -1;
	}
	if ((ver = get32(m + LM_PAGEHDR + 4)) != 1) {
		snprintf(err, err_cap, "%s is not a furet index (LMDB data version "
			"%u)", path, (unsigned)ver);
		return -1;
	}
	*psize = get32(m + LM_PAGEHDR + 24);
	*last_pg = get64(m + LM_PAGEHDR + 120);
	*txnid = get64(m + LM_PAGEHDR + 128);
	roots[0] = get64(m + LM_PAGEHDR + 24 + 40);
	roots[1] = get64(m + LM_PAGEHDR + 24 + LM_DBSIZE + 40);
	if (*psize < 512 || *psize > 65536 || (*psize & (*psize - 1))) {
		snprintf(err, err_cap, "%s is damaged: page size %llu", path,
			(unsigned long long)*psize);
		return -1;
	}
	return 0;
}

/* Checks both meta pages of data.mdb, and that the file holds every page
** the current one (the higher transaction id) counts. A writer may rewrite a
** meta page as it is read: a failure is read again before it counts. */
static furet_rc check_metas(const char *path, uint64_t size, char *err,
	size_t err_cap)
{
	uint64_t ps[2], last[2], txn[2], roots[2][2];
	int fd, tries, cur, k, is_bad = 1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_cap, "cannot read %s: %s", path, strerror(errno));
		return errno == EACCES ? FURET_IO : FURET_NOINDEX;
	}
	for (tries = 0; tries < 3 && is_bad; tries++) {
		if (read_meta(fd, 0, path, &ps[0], &last[0], &txn[0], roots[0], err,
			err_cap) ||
			read_meta(fd, ps[0], path, &ps[1], &last[1], &txn[1], roots[1],
			err, err_cap))
			continue;
		cur = txn[1] > txn[0];
		if (ps[1] != ps[0]) {
			snprintf(err, err_cap, "%s is damaged: its meta pages disagree "
				"on the page size", path);
			continue;
		}
		if (last[cur] >= size / ps[0] || last[cur] < 1) {
			snprintf(err, err_cap, "%s is truncated or damaged: it holds "
				"%llu pages of %llu bytes, the index counts %llu", path,
				(unsigned long long)(size / ps[0]),
				(unsigned long long)ps[0],
				(unsigned long long)last[cur] + 1);
			continue;
		}
		for (k = 0; k < 2; k++)
			if (roots[cur][k] != LM_INVALID &&
				(roots[cur][k] < 2 || roots[cur][k] > last[cur]))
				break;
		if (k < 2) {
			snprintf(err, err_cap, "%s is damaged: a root page lies outside "
				"the file", path);
			continue;
		}
		is_bad = 0;
	}
	close(fd);
	return is_bad ? FURET_CORRUPT : FURET_OK;
}

furet_rc furet_store_open(const char *dir, unsigned flags, furet_store **out,
	char *err, size_t err_cap)
{
	furet_store *s = NULL;
	char path[4200];
	struct stat st;
	unsigned env_flags = MDB_NOTLS;
	furet_rc rc = FURET_OK;
	int mrc;

	*out = NULL;
	err[0] = '\0';
	if (flags & FURET_STORE_REPLACE)
		flags |= FURET_STORE_CREATE;
	if (stat(dir, &st) != 0) {
		if (!(flags & FURET_STORE_CREATE)) {
			snprintf(err, err_cap, "no index at %s (build one with: furet "
				"index -i %s PATH...)", dir, dir);
			return FURET_NOINDEX;
		}
		if ((mrc = mkdirs(dir)) != 0) {
			snprintf(err, err_cap, "cannot create %s: %s", dir,
				strerror(mrc));
			return FURET_IO;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		snprintf(err, err_cap, "%s is not a directory", dir);
		return FURET_NOINDEX;
	}
	snprintf(path, sizeof path, "%s/data.mdb", dir);
	if (stat(path, &st) != 0) {
		if (!(flags & FURET_STORE_CREATE)) {
			snprintf(err, err_cap, "no index in %s (build one with: furet "
				"index -i %s PATH...)", dir, dir);
			return FURET_NOINDEX;
		}
		st.st_size = 0;
	} else if (st.st_size == 0 && !(flags & FURET_STORE_CREATE)) {
		snprintf(err, err_cap, "%s is empty (0 bytes): not an index; "
			"rebuild it with: furet index --rebuild", path);
		return FURET_CORRUPT;
	}
	if (st.st_size > 0 && (rc = check_metas(path, (uint64_t)st.st_size, err,
		err_cap)) != FURET_OK) {
		if (rc != FURET_CORRUPT || !(flags & FURET_STORE_REPLACE) ||
			(flags & FURET_STORE_READONLY))
			return rc;
		/* A rebuild starts from an empty file: see below. */
		if ((rc = remove_env(dir, path, err, err_cap)) != FURET_OK)
			return rc;
		st.st_size = 0;
	}

	s = furet_malloc(sizeof *s);
	if (!s)
		return FURET_NOMEM;
	memset(s, 0, sizeof *s);
	s->is_readonly = (flags & FURET_STORE_READONLY) != 0;
	s->lock_fd = -1;
	s->dir = furet_strndup(dir, strlen(dir));
	if (!s->dir) {
		furet_free(s);
		return FURET_NOMEM;
	}
	s->map_size = furet_store_map_min;
	while (s->map_size < (size_t)st.st_size * 2)
		s->map_size *= 2;

	if ((mrc = mdb_env_create(&s->env)) != 0)
		goto mdb_fail;
	mdb_env_set_maxdbs(s->env, FURET_T_COUNT + 2);
	mdb_env_set_maxreaders(s->env, 256);
	if ((mrc = mdb_env_set_mapsize(s->env, s->map_size)) != 0)
		goto mdb_fail;
	if (s->is_readonly)
		env_flags |= MDB_RDONLY;
	s->env_flags = env_flags;
	if (pthread_rwlock_init(&s->env_lock, NULL) != 0) {
		rc = FURET_ERROR;
		goto fail;
	}
	s->has_env_lock = 1;
	if ((mrc = mdb_env_open(s->env, dir, env_flags, 0666)) != 0)
		goto mdb_fail;
	/* Before LMDB reads a page: the file must hold what its meta page
	** counts, and a small index is walked whole (LMDB follows its page
	** numbers blindly). A rebuild of a damaged index starts from an empty
	** file: nothing in the old one can be trusted, and LMDB's own writes
	** would follow its damaged pages. */
	rc = verify(s, VERIFY_ON_OPEN_MAX, err, err_cap);
	if (rc == FURET_CORRUPT && (flags & FURET_STORE_REPLACE) &&
		!s->is_readonly) {
		mdb_env_close(s->env);
		s->env = NULL;
		if ((rc = remove_env(dir, path, err, err_cap)) != FURET_OK)
			goto fail;
		if ((mrc = mdb_env_create(&s->env)) != 0)
			goto mdb_fail;
		mdb_env_set_maxdbs(s->env, FURET_T_COUNT + 2);
		mdb_env_set_maxreaders(s->env, 256);
		if ((mrc = mdb_env_set_mapsize(s->env, s->map_size)) != 0 ||
			(mrc = mdb_env_open(s->env, dir, env_flags, 0666)) != 0)
			goto mdb_fail;
		rc = verify(s, VERIFY_ON_OPEN_MAX, err, err_cap);
	}
	if (rc) {
		if (rc == FURET_CORRUPT) {
			char why[300];
			snprintf(why, sizeof why, "%s", err);
			snprintf(err, err_cap, "%s is damaged (%s): rebuild it with: "
				"furet index --rebuild", path, why);
		}
		goto fail;
	}

	rc = open_tables(s, path, flags, err, err_cap);
	if (rc)
		goto fail;
	*out = s;
	return FURET_OK;

mdb_fail:
	rc = rc_from_mdb(mrc);
	if (mrc == MDB_INVALID || mrc == MDB_VERSION_MISMATCH)
		snprintf(err, err_cap, "%s is not a furet index (%s)", path,
			mdb_strerror(mrc));
	else if (rc == FURET_CORRUPT)
		snprintf(err, err_cap, "%s is damaged (%s): rebuild it with: "
			"furet index --rebuild", path, mdb_strerror(mrc));
	else if (mrc == EACCES && s->is_readonly)
		snprintf(err, err_cap, "cannot open the index in %s: %s (reading "
			"needs write access to %s/lock.mdb, LMDB's reader table)", dir,
			mdb_strerror(mrc), dir);
	else
		snprintf(err, err_cap, "cannot open the index in %s: %s", dir,
			mdb_strerror(mrc));
fail:
	furet_store_close(s);
	return rc;
}

int furet_store_needs_rebuild(const furet_store *s)
{
	return s->needs_rebuild;
}

void furet_store_rebuilt(furet_store *s)
{
	s->needs_rebuild = 0;
}

static void *close_env_thread(void *env)
{
	mdb_env_close(env);
	return NULL;
}

static void join_closer(furet_store *s)
{
	if (s->has_closer) {
		pthread_join(s->closer, NULL);
		s->has_closer = 0;
	}
}

void furet_store_settle(furet_store *s)
{
	if (s)
		join_closer(s);
}

void furet_store_close(furet_store *s)
{
	if (!s)
		return;
	join_closer(s);
	furet_store_unlock_writer(s);
	if (s->env)
		mdb_env_close(s->env);
	if (s->has_env_lock)
		pthread_rwlock_destroy(&s->env_lock);
	furet_free(s->dir);
	furet_free(s);
}

/* Opens the environment in dir with every table of the index, created when
** is_create: *out and dbi[] are set only on success. An LMDB error code. */
static int open_env(const char *dir, size_t map_size, unsigned env_flags,
	int is_create, MDB_env **out, MDB_dbi *dbi)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi d[FURET_T_COUNT];
	int mrc, i;

	if ((mrc = mdb_env_create(&env)))
		return mrc;
	mdb_env_set_maxdbs(env, FURET_T_COUNT + 2);
	mdb_env_set_maxreaders(env, 256);
	if ((mrc = mdb_env_set_mapsize(env, map_size)) ||
		(mrc = mdb_env_open(env, dir, env_flags, 0666)) ||
		(mrc = mdb_txn_begin(env, NULL, is_create ? 0 : MDB_RDONLY, &txn)))
		goto fail;
	for (i = 0; i < FURET_T_COUNT; i++)
		if ((mrc = mdb_dbi_open(txn, table_names[i], is_create ? MDB_CREATE :
			0, &d[i])))
			goto fail;
	/* Committed, not aborted: an abort would close the new handles. */
	mrc = mdb_txn_commit(txn);
	txn = NULL;
	if (mrc)
		goto fail;
	memcpy(dbi, d, sizeof d);
	*out = env;
	return 0;
fail:
	if (txn)
		mdb_txn_abort(txn);
	mdb_env_close(env);
	return mrc;
}

/* After compaction or a rebuild swapped a new file in: this handle opens
** it (its tables' handles change only when that succeeds). */
static furet_rc reopen(furet_store *s)
{
	MDB_env *env;
	MDB_dbi dbi[FURET_T_COUNT];
	MDB_txn *txn;
	char err[300];
	furet_rc rc;
	int mrc = open_env(s->dir, s->map_size, s->env_flags, 0, &env, dbi);

	if (mrc)
		return rc_from_mdb(mrc);
	/* Files swapped in by another furet (a rebuild by a newer one) are not
	** read as this one's: s stays on its own. */
	if ((mrc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
		rc = rc_from_mdb(mrc);
	} else {
		rc = check_version(txn, dbi[FURET_T_META], s->dir, err, sizeof err);
		mdb_txn_abort(txn);
	}
	if (rc) {
		mdb_env_close(env);
		return rc;
	}
	/* The old files are unlinked: closing them frees their blocks, and on
	** a file system mounted with discard that waits for the device
	** (ext4_free_blocks, blkdev_issue_discard): 0.06 to 0.2 s for the 212
	** MB corpus's index, at the very end of a rebuild. A thread of its own
	** closes them while the caller goes on (the writer frees its memory):
	** 0.06-0.07 s less from the swap to the end of furet index (strace),
	** when the close took 0.07 s. furet_store_settle (the writer's last
	** step), furet_store_close or the next swap waits for it. */
	join_closer(s);
	if (pthread_create(&s->closer, NULL, close_env_thread, s->env) == 0)
		s->has_closer = 1;
	else
		mdb_env_close(s->env);
	s->env = env;
	memcpy(s->dbi, dbi, sizeof dbi);
	s->map = NULL;
	return FURET_OK;
}

const char *furet_store_dir(const furet_store *s)
{
	return s->dir;
}

/* Does dir hold only furet's files (so that it can be swapped whole)? An
** empty .gitkeep (the repository's index/ has one) is carried over. */
static int holds_only_index(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int is_ok = d != NULL;

	while (d && (e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		if (!strcmp(n, ".gitkeep")) {
			struct stat st;
			if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
				!S_ISREG(st.st_mode) || st.st_size != 0)
				is_ok = 0;
		} else if (strcmp(n, ".") && strcmp(n, "..") &&
			strcmp(n, "data.mdb") && strcmp(n, "lock.mdb") &&
			strcmp(n, "writer.lock")) {
			is_ok = 0;
		}
	}
	if (d)
		closedir(d);
	return is_ok;
}

int furet_store_can_swap(const furet_store *s)
{
	return holds_only_index(s->dir);
}

/* Exchanges base with tmpdir, which holds a complete new environment
** (closed), in one atomic step, then opens the new one in s. The data file
** and LMDB's lock file must change together: a reader pairing the old lock
** file (whose transaction counter picks the meta page) with the new data
** file would read the wrong root. Handles that had the index open keep
** both old files, a consistent snapshot, until their next transaction
** (follow_swap); new opens see the new pair. An empty .gitkeep in base
** stays. what says what happened to the index, for the message when it
** cannot be opened again. */
static furet_rc swap_dirs(furet_store *s, const char *base,
	const char *tmpdir, const char *what, char *err, size_t err_cap)
{
	char tmp[4400], lck[4400], old[4400];
	furet_rc rc;

	snprintf(tmp, sizeof tmp, "%s/data.mdb", tmpdir);
	snprintf(lck, sizeof lck, "%s/lock.mdb", tmpdir);
	snprintf(old, sizeof old, "%s/.gitkeep", base);
	if (access(old, F_OK) == 0) {
		int fd;
		snprintf(old, sizeof old, "%s/.gitkeep", tmpdir);
		if ((fd = open(old, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) >= 0)
			close(fd);
	}
	/* Exclusive: no transaction of this handle may run while it swaps. */
	pthread_rwlock_wrlock(&s->env_lock);
	if (syscall(SYS_renameat2, AT_FDCWD, tmpdir, AT_FDCWD, base,
		RENAME_EXCHANGE) != 0) {
		pthread_rwlock_unlock(&s->env_lock);
		snprintf(err, err_cap, "cannot swap %s and %s: %s", tmpdir, base,
			strerror(errno));
		unlink(tmp);
		unlink(lck);
		snprintf(old, sizeof old, "%s/.gitkeep", tmpdir);
		unlink(old);
		rmdir(tmpdir);
		return FURET_IO;
	}
	/* The old files now sit in tmpdir; open handles keep them alive. */
	snprintf(old, sizeof old, "%s/writer.lock", tmpdir);
	unlink(old);
	snprintf(old, sizeof old, "%s/.gitkeep", tmpdir);
	unlink(old);
	unlink(tmp);
	unlink(lck);
	rmdir(tmpdir);
	rc = reopen(s);
	pthread_rwlock_unlock(&s->env_lock);
	if (rc)
		snprintf(err, err_cap, "the index was %s but cannot be opened "
			"again: %s", what, furet_strerror(rc));
	return rc;
}

/* The index directory without its trailing slashes, and the sibling
** DIR.suffix where a new environment is written. */
static void sibling_dir(const furet_store *s, const char *suffix, char *base,
	size_t base_cap, char *tmpdir, size_t tmp_cap)
{
	size_t bl;

	snprintf(base, base_cap, "%s", s->dir);
	for (bl = strlen(base); bl > 1 && base[bl - 1] == '/'; bl--)
		base[bl - 1] = '\0';
	snprintf(tmpdir, tmp_cap, "%s.%s", base, suffix);
}

/* A new environment in the sibling DIR.suffix, whatever a killed run left
** there removed first. */
static furet_rc open_sibling(furet_store *s, const char *suffix,
	furet_store **out, char *err, size_t err_cap)
{
	char base[4200], tmpdir[4300], path[4400];
	furet_store *f;
	int mrc;

	*out = NULL;
	sibling_dir(s, suffix, base, sizeof base, tmpdir, sizeof tmpdir);
	snprintf(path, sizeof path, "%s/data.mdb", tmpdir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", tmpdir);
	unlink(path);
	if (mkdir(tmpdir, 0777) != 0 && errno != EEXIST) {
		snprintf(err, err_cap, "cannot create %s: %s", tmpdir, strerror(errno));
		return FURET_IO;
	}
	if (!(f = furet_malloc(sizeof *f)))
		return FURET_NOMEM;
	memset(f, 0, sizeof *f);
	f->lock_fd = -1;
	f->map_size = s->map_size;
	/* No read-ahead (MADV_RANDOM): a rebuild in parts looks terms up all
	** over the parts written, a page here and there. (It does not stop
	** the kernel from mapping the cached pages around each fault: see
	** drop_mapped.) */
	f->env_flags = (s->env_flags & ~(unsigned)MDB_RDONLY) | MDB_NORDAHEAD;
	if (!(f->dir = furet_strndup(tmpdir, strlen(tmpdir))) ||
		pthread_rwlock_init(&f->env_lock, NULL) != 0) {
		furet_free(f->dir);
		furet_free(f);
		return FURET_NOMEM;
	}
	f->has_env_lock = 1;
	if ((mrc = open_env(tmpdir, f->map_size, f->env_flags, 1, &f->env,
		f->dbi))) {
		snprintf(err, err_cap, "cannot create a new index in %s: %s", tmpdir,
			mdb_strerror(mrc));
		furet_store_discard(f);
		return rc_from_mdb(mrc);
	}
	*out = f;
	return FURET_OK;
}

furet_rc furet_store_open_sibling(furet_store *s, furet_store **out,
	char *err, size_t err_cap)
{
	return open_sibling(s, "rebuild", out, err, err_cap);
}

void furet_store_discard(furet_store *f)
{
	char path[4400];

	if (!f)
		return;
	if (f->env)
		mdb_env_close(f->env);
	f->env = NULL;
	snprintf(path, sizeof path, "%s/data.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/lock.mdb", f->dir);
	unlink(path);
	rmdir(f->dir);
	furet_store_close(f);
}

/* Syncs and closes f, the environment of DIR.suffix, and swaps it in. */
static furet_rc adopt(furet_store *s, furet_store *f, const char *suffix,
	const char *what, char *err, size_t err_cap)
{
	char base[4200], tmpdir[4300];
	int mrc;

	sibling_dir(s, suffix, base, sizeof base, tmpdir, sizeof tmpdir);
	if ((mrc = mdb_env_sync(f->env, 1))) {
		snprintf(err, err_cap, "cannot write the new index: %s",
			mdb_strerror(mrc));
		furet_store_discard(f);
		return rc_from_mdb(mrc);
	}
	mdb_env_close(f->env);
	f->env = NULL;
	if (s->map_size < f->map_size)
		s->map_size = f->map_size;
	furet_store_close(f);
	return swap_dirs(s, base, tmpdir, what, err, err_cap);
}

furet_rc furet_store_adopt(furet_store *s, furet_store *f, char *err,
	size_t err_cap)
{
	return adopt(s, f, "rebuild", "rebuilt", err, err_cap);
}

size_t furet_store_compact_ckpt = (size_t)32 << 20;

static void drop_mapped(furet_store *s);

/* Rewrites every table of s, in key order, into f, a new environment in a
** sibling directory (MDB_APPEND fills the pages, as a fresh build does; a
** copy with MDB_CP_COMPACT would only drop free pages, keeping half-empty
** ones). f is nobody's until it is swapped in: the copy commits every
** ckpt bytes, so that LMDB does not hold every page written in memory, and
** the pages of both read through the map leave the resident set. Whole, a
** compaction of a 1.8 GB index peaked at 2.3 GB. An LMDB error code. */
#define FAULTED_MAX ((size_t)16 << 20) /* s's pages copy_tables maps, about */
static int copy_tables(furet_store *s, furet_store *f, size_t ckpt)
{
	MDB_txn *src = NULL, *dtx = NULL;
	MDB_cursor *cur = NULL;
	MDB_stat st;
	MDB_val k, v;
	size_t pending = 0, read = 0, psize, node_max, n;
	int mrc, i;

	/* What a record takes of LMDB's pages: its node (8 bytes of header)
	** and pointer, or, past LMDB's largest node (about half a page), its
	** key in the page and its value in overflow pages of its own. Counted
	** as k + v, postings' values of 2 to 4 KB took twice that. */
	if ((mrc = mdb_env_stat(f->env, &st)))
		return mrc;
	psize = st.ms_psize;
	node_max = (psize - 16) / 2 - 2;
	drop_mapped(s);
	if ((mrc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &src)) ||
		(mrc = mdb_txn_begin(f->env, NULL, 0, &dtx)))
		goto done;
	for (i = 0; i < FURET_T_COUNT; i++) {
		if ((mrc = mdb_cursor_open(src, s->dbi[i], &cur)))
			goto done;
		for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !mrc;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if ((mrc = mdb_put(dtx, f->dbi[i], &k, &v, MDB_APPEND)))
				break;
			n = k.mv_size + 8 + 2 + (k.mv_size + v.mv_size + 8 > node_max ?
				(v.mv_size + 16 + psize - 1) / psize * psize : v.mv_size);
			pending += n;
			/* Each page of s read maps the cached pages around it too
			** (the kernel's fault-around, 16 pages): a table's pages
			** lie all over a file written in parts, and copying 8 MB of
			** them left 54 MB of s resident. */
			if ((read += n) >= FAULTED_MAX / 16) {
				read = 0;
				drop_mapped(s);
			}
			if (pending >= ckpt) {
				pending = 0;
				mrc = mdb_txn_commit(dtx);
				dtx = NULL;
				if (mrc || (mrc = mdb_txn_begin(f->env, NULL, 0, &dtx)))
					break;
				drop_mapped(f);
			}
		}
		mdb_cursor_close(cur);
		cur = NULL;
		if (mrc != MDB_NOTFOUND)
			goto done;
		mrc = 0;
	}
	mrc = mdb_txn_commit(dtx);
	dtx = NULL;
done:
	if (cur)
		mdb_cursor_close(cur);
	if (dtx)
		mdb_txn_abort(dtx);
	if (src)
		mdb_txn_abort(src);
	return mrc;
}

/* A new environment in the sibling DIR.suffix holding a copy of the index
** (copy_tables, committing every ckpt bytes), in *out. */
static furet_rc open_copy(furet_store *s, const char *suffix, size_t ckpt,
	furet_store **out, char *err, size_t err_cap)
{
	int mrc;
	furet_rc rc;

	if ((rc = open_sibling(s, suffix, out, err, err_cap)))
		return rc;
	if ((mrc = copy_tables(s, *out, ckpt))) {
		furet_store_discard(*out);
		*out = NULL;
		snprintf(err, err_cap, "cannot copy the index: %s", mdb_strerror(mrc));
		return rc_from_mdb(mrc);
	}
	return FURET_OK;
}

/* Copies the index into DIR.compact, then exchanges the two directories in
** one atomic step (swap_dirs: renameat2 RENAME_EXCHANGE). */
furet_rc furet_store_compact_copy(furet_store *s, char *err, size_t err_cap)
{
	char base[4200], tmpdir[4300];
	furet_store *f = NULL;
	furet_rc rc;

	sibling_dir(s, "compact", base, sizeof base, tmpdir, sizeof tmpdir);
	if (!holds_only_index(base)) {
		snprintf(err, err_cap, "%s holds files that are not furet's: "
			"compaction swaps the whole directory, move them out first", base);
		return FURET_INVALID;
	}
	if ((rc = open_copy(s, "compact", furet_store_compact_ckpt, &f, err,
		err_cap)))
		return rc;
	rc = adopt(s, f, "compact", "compacted", err, err_cap);
	join_closer(s); /* (nothing to do meanwhile) */
	return rc;
}

furet_rc furet_store_open_copy(furet_store *s, size_t ckpt, furet_store **out,
	char *err, size_t err_cap)
{
	return open_copy(s, "rebuild", ckpt, out, err, err_cap);
}

/* The writer lock is a flock on DIR/writer.lock, held for a whole batch
** (LMDB's own writer lock only covers the final transaction, and a batch
** is read and inverted long before). The holder writes its pid there so
** that a refused writer can say who holds it. The kernel drops the lock
** when the process dies, so a killed writer never blocks the next. */
furet_rc furet_store_lock_writer(furet_store *s, int is_wait, char *err,
	size_t err_cap)
{
	char path[4200], pid[32];
	int fd, n;

	if (s->lock_fd >= 0)
		return FURET_BUSY;
	snprintf(path, sizeof path, "%s/writer.lock", s->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		snprintf(err, err_cap, "cannot open %s: %s", path, strerror(errno));
		return FURET_IO;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno != EWOULDBLOCK) {
			snprintf(err, err_cap, "cannot lock %s: %s", path,
				strerror(errno));
			close(fd);
			return FURET_IO;
		}
		n = (int)pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (!is_wait) {
			snprintf(err, err_cap, "another furet process (pid %s) is "
				"writing %s; try again when it is done", *pid ? pid : "?",
				s->dir);
			close(fd);
			return FURET_BUSY;
		}
		if (flock(fd, LOCK_EX) != 0) {
			snprintf(err, err_cap, "cannot lock %s: %s", path,
				strerror(errno));
			close(fd);
			return FURET_IO;
		}
	}
	n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* The pid is only for messages: the lock itself holds. */
	}
	s->lock_fd = fd;
	return FURET_OK;
}

void furet_store_unlock_writer(furet_store *s)
{
	if (!s || s->lock_fd < 0)
		return;
	close(s->lock_fd); /* releases the flock */
	s->lock_fd = -1;
}

furet_rc furet_store_grow(furet_store *s)
{
	size_t next = s->map_size * 2;
	int mrc;

	if (next < s->map_size)
		return FURET_NOMEM;
	pthread_rwlock_wrlock(&s->env_lock);
	mrc = mdb_env_set_mapsize(s->env, next);
	if (!mrc)
		s->map_size = next;
	s->map = NULL;
	pthread_rwlock_unlock(&s->env_lock);
	return rc_from_mdb(mrc);
}

/* Was s's data file swapped out from under it, by a rebuild or a
** compaction of another handle or process (swap_dirs)? The file it has
** open then has no name left, and the index's directory holds another.
** (A directory removed whole: no other file, and s goes on reading its
** own.) The caller holds env_lock. */
static int is_swapped(const furet_store *s)
{
	struct stat st, now;
	char path[4200];
	int fd;

	if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st) || st.st_nlink > 0)
		return 0;
	snprintf(path, sizeof path, "%s/data.mdb", s->dir);
	return stat(path, &now) == 0 && (now.st_ino != st.st_ino ||
		now.st_dev != st.st_dev);
}

/* Opens the index's files again when they were swapped: a handle reads
** a rebuild or a compaction made elsewhere from its next transaction on,
** as it reads an incremental commit. An fstat per transaction. */
static furet_rc follow_swap(furet_store *s)
{
	furet_rc rc = FURET_OK;
	int is_old;

	pthread_rwlock_rdlock(&s->env_lock);
	is_old = is_swapped(s);
	pthread_rwlock_unlock(&s->env_lock);
	if (!is_old)
		return FURET_OK;
	/* Exclusive: the transactions in progress on s end first. */
	pthread_rwlock_wrlock(&s->env_lock);
	if (is_swapped(s))
		rc = reopen(s);
	pthread_rwlock_unlock(&s->env_lock);
	return rc;
}

furet_rc furet_store_begin(furet_store *s, int is_write, furet_txn **out)
{
	furet_txn *t;
	int mrc, tries;
	furet_rc rc;

	*out = NULL;
	if (is_write && s->is_readonly)
		return FURET_INVALID;
	if ((rc = follow_swap(s)))
		return rc;
	t = furet_malloc(sizeof *t);
	if (!t)
		return FURET_NOMEM;
	t->s = s;
	t->pending = 0;
	memset(t->app, 0, sizeof t->app);
	t->names_dec = NULL;
	furet_buf_init(&t->names_buf);
	t->errmsg[0] = '\0';
	for (tries = 0; tries < 3; tries++) {
		pthread_rwlock_rdlock(&s->env_lock);
		mrc = mdb_txn_begin(s->env, NULL, is_write ? 0 : MDB_RDONLY,
			&t->txn);
		if (mrc != MDB_MAP_RESIZED)
			break;
		pthread_rwlock_unlock(&s->env_lock);
		/* Another process grew the map: adopt its size and retry. */
		pthread_rwlock_wrlock(&s->env_lock);
		mdb_env_set_mapsize(s->env, 0);
		s->map = NULL;
		pthread_rwlock_unlock(&s->env_lock);
	}
	if (mrc) {
		rc = rc_from_mdb(mrc);
		pthread_rwlock_unlock(&s->env_lock);
		txn_free(t);
		return rc;
	}
	*out = t;
	return FURET_OK;
}

/* Drops s's map from this process's resident set: its mapping of the data
** file (found in /proc/self/maps by device and inode; LMDB does not give
** its address without MDB_FIXEDMAP). The pages stay in the page cache,
** faulted back on the next read. */
static void drop_mapped(furet_store *s)
{
	struct stat st;
	char line[4600];
	FILE *maps;
	int fd;

	if (!s->map && !mdb_env_get_fd(s->env, &fd) && !fstat(fd, &st) &&
		(maps = fopen("/proc/self/maps", "re"))) {
		while (fgets(line, sizeof line, maps)) {
			unsigned long lo, hi, ino;
			unsigned maj, mnr;
			if (sscanf(line, "%lx-%lx %*s %*s %x:%x %lu", &lo, &hi, &maj,
				&mnr, &ino) == 5 && ino == (unsigned long)st.st_ino &&
				makedev(maj, mnr) == st.st_dev && hi > lo && !s->map) {
				s->map = (void *)lo;
				s->map_len = hi - lo;
			}
		}
		fclose(maps);
	}
	if (s->map)
		madvise(s->map, s->map_len, MADV_DONTNEED);
}

void furet_store_drop(furet_store *f)
{
	drop_mapped(f);
}

/* The bytes of s's data file in use (its last page's end). An LMDB error
** code. */
static int used_bytes(const furet_store *s, uint64_t *out)
{
	MDB_envinfo info;
	MDB_stat st;
	int mrc;

	if ((mrc = mdb_env_info(s->env, &info)) ||
		(mrc = mdb_env_stat(s->env, &st)))
		return mrc;
	*out = ((uint64_t)info.me_last_pgno + 1) * st.ms_psize;
	return 0;
}

/* With no transaction active on s, a private environment (a sibling):
** doubles the map when it is more than half full, and drops the pages
** read through it from this process's resident set (they stay in the
** page cache). A rebuild written in parts reads back every term it
** appends to: otherwise the mapped index would count whole, growing with
** the corpus, in the writer's peak RSS. An LMDB error code. */
static int reserve(furet_store *s)
{
	uint64_t used;
	int mrc;

	if ((mrc = used_bytes(s, &used)))
		return mrc;
	drop_mapped(s);
	if (used > s->map_size / 2 && s->map_size * 2 > s->map_size &&
		!(mrc = mdb_env_set_mapsize(s->env, s->map_size * 2))) {
		s->map_size *= 2;
		s->map = NULL; /* mapped again */
	}
	return mrc;
}

furet_rc furet_store_reserve(furet_store *f)
{
	int mrc;

	pthread_rwlock_wrlock(&f->env_lock);
	mrc = reserve(f);
	pthread_rwlock_unlock(&f->env_lock);
	return rc_from_mdb(mrc);
}

/* A checkpoint's commit does not sync (MDB_NOSYNC for it alone): the
** environment is private, a new one that replaces the index only once its
** last commit has synced the whole file (fdatasync) and adopt has synced
** it again, and a rebuild that dies before leaves the previous index. It
** starts the writing out of its pages instead (sync_file_range, which
** does not wait for the disk), so that the last sync has little left to
** wait for. Each sync also flushed the disk's cache: on the 212 MB
** corpus, eight syncs held the writer's thread 0.115 s, the encoding
** threads waiting on it meanwhile; now 0.03 s. */
furet_rc furet_txn_checkpoint(furet_txn *t)
{
	furet_store *s = t->s;
	int mrc, is_nosync = mdb_env_set_flags(s->env, MDB_NOSYNC, 1) == 0;

	mrc = mdb_txn_commit(t->txn);
	if (is_nosync) {
		mdb_env_set_flags(s->env, MDB_NOSYNC, 0);
#ifdef SYNC_FILE_RANGE_WRITE
		{
			mdb_filehandle_t fd;
			if (!mrc && mdb_env_get_fd(s->env, &fd) == 0)
				(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		}
#endif
	}
	t->txn = NULL;
	t->pending = 0;
	memset(t->app, 0, sizeof t->app); /* closed by the commit */
	/* No transaction is active on this private environment now: the map
	** may grow, before it runs short in the middle of a transaction. */
	if (!mrc)
		mrc = reserve(s);
	if (!mrc)
		mrc = mdb_txn_begin(s->env, NULL, 0, &t->txn);
	if (mrc) {
		t->txn = NULL;
		return txn_fail(t, "checkpoint", mrc);
	}
	return FURET_OK;
}

furet_rc furet_store_refresh(furet_store *f)
{
	int mrc;

	pthread_rwlock_wrlock(&f->env_lock);
	mdb_env_close(f->env);
	f->map = NULL;
	mrc = open_env(f->dir, f->map_size, f->env_flags, 0, &f->env, f->dbi);
	if (mrc)
		f->env = NULL;
	pthread_rwlock_unlock(&f->env_lock);
	return rc_from_mdb(mrc);
}

uint64_t furet_store_used(furet_store *s)
{
	uint64_t used;

	return used_bytes(s, &used) ? 0 : used;
}

uint64_t furet_txn_leaf_bytes(furet_txn *t, furet_table tab)
{
	MDB_stat st;

	if (!t->txn || mdb_stat(t->txn, t->s->dbi[tab], &st))
		return 0;
	return (uint64_t)st.ms_leaf_pages * st.ms_psize;
}

void furet_txn_set_checkpoint(furet_txn *t, size_t every)
{
	t->ckpt = every;
}

size_t furet_txn_pending(const furet_txn *t)
{
	return t->pending;
}

furet_rc furet_txn_commit(furet_txn *t)
{
	int mrc = t->txn ? mdb_txn_commit(t->txn) : EINVAL;
	pthread_rwlock_unlock(&t->s->env_lock);
	txn_free(t);
	return rc_from_mdb(mrc);
}

void furet_txn_abort(furet_txn *t)
{
	if (!t)
		return;
	if (t->txn)
		mdb_txn_abort(t->txn);
	pthread_rwlock_unlock(&t->s->env_lock);
	txn_free(t);
}

const char *furet_txn_errmsg(const furet_txn *t)
{
	return t ? t->errmsg : "";
}

furet_rc furet_txn_get(furet_txn *t, furet_table tab, const void *k,
	size_t k_len, furet_val *out)
{
	MDB_val key, val;
	int mrc;

	key.mv_data = (void *)k;
	key.mv_size = k_len;
	mrc = mdb_get(t->txn, t->s->dbi[tab], &key, &val);
	if (mrc) {
		out->data = NULL;
		out->len = 0;
		if (mrc == MDB_NOTFOUND)
			return FURET_DONE;
		return txn_fail(t, table_names[tab], mrc);
	}
	out->data = val.mv_data;
	out->len = val.mv_size;
	return FURET_OK;
}

/* Any other change to table tab goes without its append cursor, which
** would otherwise take its last page for the table's. */
static void drop_app(furet_txn *t, furet_table tab)
{
	if (t->app[tab]) {
		mdb_cursor_close(t->app[tab]);
		t->app[tab] = NULL;
	}
}

furet_rc furet_txn_put(furet_txn *t, furet_table tab, const void *k,
	size_t k_len, const void *v, size_t v_len, unsigned flags)
{
	MDB_val key, val;
	int mrc;

	key.mv_data = (void *)k;
	key.mv_size = k_len;
	val.mv_data = (void *)v;
	val.mv_size = v_len;
	t->pending += k_len + v_len;
	txn_wrote(t, tab, k, k_len);
	if (!(flags & FURET_PUT_APPEND)) {
		drop_app(t, tab);
		mrc = mdb_put(t->txn, t->s->dbi[tab], &key, &val, 0);
	} else if (t->app[tab] || !(mrc = mdb_cursor_open(t->txn,
		t->s->dbi[tab], &t->app[tab]))) {
		mrc = mdb_cursor_put(t->app[tab], &key, &val, MDB_APPEND);
	}
	return mrc ? txn_fail(t, table_names[tab], mrc) : FURET_OK;
}

furet_rc furet_txn_del(furet_txn *t, furet_table tab, const void *k,
	size_t k_len)
{
	MDB_val key;
	int mrc;

	key.mv_data = (void *)k;
	key.mv_size = k_len;
	txn_wrote(t, tab, k, k_len);
	drop_app(t, tab);
	mrc = mdb_del(t->txn, t->s->dbi[tab], &key, NULL);
	if (mrc == MDB_NOTFOUND)
		return FURET_DONE;
	return mrc ? txn_fail(t, table_names[tab], mrc) : FURET_OK;
}

/* Deletes the named databases this version does not have (an older
** version's tables, left by a rebuild in place). */
static furet_rc drop_unknown_tables(furet_txn *t)
{
	MDB_dbi main_dbi, dbi;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	char name[64];
	int i, mrc;

	for (;;) {
		int is_found = 0;
		if ((mrc = mdb_dbi_open(t->txn, NULL, 0, &main_dbi)) ||
			(mrc = mdb_cursor_open(t->txn, main_dbi, &cur)))
			return txn_fail(t, "main", mrc);
		for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0;
			mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			for (i = 0; i < FURET_T_COUNT; i++)
				if (strlen(table_names[i]) == k.mv_size &&
					memcmp(table_names[i], k.mv_data, k.mv_size) == 0)
					break;
			if (i == FURET_T_COUNT && k.mv_size < sizeof name) {
				memcpy(name, k.mv_data, k.mv_size);
				name[k.mv_size] = 0;
				is_found = 1;
				break;
			}
		}
		mdb_cursor_close(cur);
		if (mrc && mrc != MDB_NOTFOUND)
			return txn_fail(t, "main", mrc);
		if (!is_found)
			return FURET_OK;
		/* One at a time: dropping changes what the cursor walked. */
		if ((mrc = mdb_dbi_open(t->txn, name, 0, &dbi)) ||
			(mrc = mdb_drop(t->txn, dbi, 1)))
			return txn_fail(t, name, mrc);
	}
}

furet_rc furet_txn_clear(furet_txn *t)
{
	int i, mrc;

	for (i = 0; i < FURET_T_COUNT; i++) {
		if (i == FURET_T_META)
			continue;
		drop_app(t, (furet_table)i);
		if ((mrc = mdb_drop(t->txn, t->s->dbi[i], 0)) != 0)
			return txn_fail(t, table_names[i], mrc);
	}
	return drop_unknown_tables(t);
}

furet_rc furet_txn_count(furet_txn *t, furet_table tab, uint64_t *out)
{
	MDB_stat st;
	int mrc = mdb_stat(t->txn, t->s->dbi[tab], &st);

	*out = mrc ? 0 : st.ms_entries;
	return mrc ? txn_fail(t, table_names[tab], mrc) : FURET_OK;
}

furet_rc furet_text_get(furet_txn *t, uint32_t pid, furet_val *group,
	uint64_t *back)
{
	unsigned char k4[4];
	MDB_cursor *cur;
	MDB_val k, v;
	int mrc;

	furet_put_u32be(k4, pid);
	k.mv_data = k4;
	k.mv_size = 4;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[FURET_T_TEXT], &cur)) != 0)
		return txn_fail(t, table_names[FURET_T_TEXT], mrc);
	mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	mdb_cursor_close(cur);
	if (mrc == MDB_NOTFOUND)
		return FURET_DONE;
	if (mrc)
		return txn_fail(t, table_names[FURET_T_TEXT], mrc);
	if (k.mv_size != 4)
		return FURET_CORRUPT;
	*back = furet_get_u32be(k.mv_data) - (uint64_t)pid;
	group->data = v.mv_data;
	group->len = v.mv_size;
	return FURET_OK;
}

furet_rc furet_cursor_open(furet_txn *t, furet_table tab, furet_cursor **out)
{
	furet_cursor *c;
	int mrc;

	*out = NULL;
	c = furet_malloc(sizeof *c);
	if (!c)
		return FURET_NOMEM;
	c->t = t;
	if ((mrc = mdb_cursor_open(t->txn, t->s->dbi[tab], &c->cur)) != 0) {
		furet_free(c);
		return txn_fail(t, table_names[tab], mrc);
	}
	*out = c;
	return FURET_OK;
}

static furet_rc cursor_get(furet_cursor *c, MDB_val *k, MDB_cursor_op op,
	furet_val *key, furet_val *val)
{
	MDB_val v;
	int mrc = mdb_cursor_get(c->cur, k, &v, op);

	if (mrc == MDB_NOTFOUND)
		return FURET_DONE;
	if (mrc)
		return txn_fail(c->t, "cursor", mrc);
	key->data = k->mv_data;
	key->len = k->mv_size;
	val->data = v.mv_data;
	val->len = v.mv_size;
	return FURET_OK;
}

furet_rc furet_cursor_seek(furet_cursor *c, const void *k, size_t k_len,
	furet_val *key, furet_val *val)
{
	MDB_val mk;

	mk.mv_data = (void *)k;
	mk.mv_size = k_len;
	if (k_len == 0)
		return cursor_get(c, &mk, MDB_FIRST, key, val);
	return cursor_get(c, &mk, MDB_SET_RANGE, key, val);
}

furet_rc furet_cursor_next(furet_cursor *c, furet_val *key, furet_val *val)
{
	MDB_val mk;
	return cursor_get(c, &mk, MDB_NEXT, key, val);
}

void furet_cursor_close(furet_cursor *c)
{
	if (!c)
		return;
	mdb_cursor_close(c->cur);
	furet_free(c);
}

/* ---- record codecs ---------------------------------------------------- */

typedef struct reader {
	const unsigned char *p, *end;
	int has_err;
} reader;

static uint64_t rd_varint(reader *r)
{
	uint64_t v = 0;
	size_t n;

	if (r->has_err)
		return 0;
	n = furet_get_varint(r->p, r->end, &v);
	if (!n) {
		r->has_err = 1;
		return 0;
	}
	r->p += n;
	return v;
}

static uint32_t rd_u32(reader *r)
{
	uint64_t v = rd_varint(r);
	if (v > UINT32_MAX)
		r->has_err = 1;
	return (uint32_t)v;
}

static const char *rd_bytes(reader *r, size_t n)
{
	const char *p = (const char *)r->p;
	if (r->has_err || n > (size_t)(r->end - r->p)) {
		r->has_err = 1;
		return NULL;
	}
	r->p += n;
	return p;
}

furet_rc furet_store_get_collection(furet_txn *t, furet_collection *out)
{
	furet_val v;
	reader r;
	furet_rc rc;

	memset(out, 0, sizeof *out);
	rc = furet_txn_get(t, FURET_T_META, "stats", 5, &v);
	if (rc == FURET_DONE)
		return FURET_CORRUPT;
	if (rc)
		return rc;
	r.p = v.data;
	r.end = v.data + v.len;
	r.has_err = 0;
	out->n_docs = rd_varint(&r);
	out->n_passages = rd_varint(&r);
	out->total_length = rd_varint(&r);
	out->n_postings = rd_varint(&r);
	out->next_doc = rd_varint(&r);
	out->n_live = rd_varint(&r);
	out->text_bytes = rd_varint(&r);
	out->last_update = rd_varint(&r);
	out->n_purged = rd_varint(&r);
	if (r.has_err || out->n_passages > UINT32_MAX ||
		out->next_doc > UINT32_MAX)
		return FURET_CORRUPT;
	return FURET_OK;
}

furet_rc furet_store_put_collection(furet_txn *t, const furet_collection *c)
{
	furet_buf b;
	furet_rc rc;

	furet_buf_init(&b);
	furet_buf_put_varint(&b, c->n_docs);
	furet_buf_put_varint(&b, c->n_passages);
	furet_buf_put_varint(&b, c->total_length);
	furet_buf_put_varint(&b, c->n_postings);
	furet_buf_put_varint(&b, c->next_doc);
	furet_buf_put_varint(&b, c->n_live);
	furet_buf_put_varint(&b, c->text_bytes);
	furet_buf_put_varint(&b, c->last_update);
	furet_buf_put_varint(&b, c->n_purged);
	rc = b.has_err ? FURET_NOMEM :
		furet_txn_put(t, FURET_T_META, "stats", 5, b.data, b.len, 0);
	furet_buf_free(&b);
	return rc;
}

void furet_doc_enc_init(furet_doc_enc *de, furet_text_enc *names)
{
	de->names = names;
	furet_buf_init(&de->plain);
	furet_buf_init(&de->stored);
}

void furet_doc_enc_free(furet_doc_enc *de)
{
	furet_buf_free(&de->plain);
	furet_buf_free(&de->stored);
}

void furet_doc_rec_encode(furet_doc_enc *de, const furet_doc_rec *r,
	furet_buf *out)
{
	furet_buf_reset(&de->plain);
	furet_buf_append(&de->plain, r->id, r->id_len);
	furet_buf_append(&de->plain, r->title, r->title_len);
	furet_buf_append(&de->plain, r->sections, r->sections_len);
	furet_buf_reset(&de->stored);
	if (de->plain.has_err) {
		out->has_err = 1;
	} else if (de->names) {
		if (furet_text_encode(de->names, (const char *)de->plain.data,
			de->plain.len, &de->stored))
			out->has_err = 1;
	} else {
		furet_buf_putc(&de->stored, 0); /* textcodec's tag: raw */
		furet_buf_append(&de->stored, de->plain.data, de->plain.len);
		if (de->stored.has_err)
			out->has_err = 1;
	}
	furet_doc_rec_encode_stored(r, de->stored.data, de->stored.len, out);
}

void furet_doc_rec_encode_stored(const furet_doc_rec *r, const void *names,
	size_t names_len, furet_buf *out)
{
	furet_buf_put_varint(out, r->id_len);
	furet_buf_put_varint(out, r->title_len);
	furet_buf_put_varint(out, r->sections_len);
	furet_buf_put_varint(out, names_len);
	furet_buf_append(out, names, names_len);
	furet_buf_put_varint(out, r->first_passage);
	furet_buf_put_varint(out, r->n_passages);
	furet_buf_put_varint(out, r->source);
	furet_buf_append(out, r->hash, FURET_HASH_LEN);
	furet_buf_put_varint(out, r->meta_len);
	furet_buf_append(out, r->meta, r->meta_len);
	furet_buf_append(out, r->pass, r->pass_len);
}

furet_rc furet_doc_rec_decode(furet_val v, furet_doc_rec *d)
{
	reader r = { v.data, v.data + v.len, 0 };

	d->id = d->title = d->sections = NULL;
	d->id_len = rd_varint(&r);
	d->title_len = rd_varint(&r);
	d->sections_len = rd_varint(&r);
	d->names_len = rd_varint(&r);
	/* A stored value is a tag byte at least. */
	if (d->id_len > FURET_ID_MAX || d->title_len > (size_t)1 << 31 ||
		d->sections_len > (size_t)1 << 40 || d->names_len < 1)
		r.has_err = 1;
	d->names = r.has_err ? NULL :
		(const unsigned char *)rd_bytes(&r, d->names_len);
	d->first_passage = rd_u32(&r);
	d->n_passages = rd_u32(&r);
	d->source = rd_u32(&r);
	{
		const char *h = rd_bytes(&r, FURET_HASH_LEN);
		if (h)
			memcpy(d->hash, h, FURET_HASH_LEN);
	}
	d->meta_len = rd_varint(&r);
	if (d->meta_len > FURET_META_MAX)
		r.has_err = 1;
	d->meta = r.has_err ? NULL : rd_bytes(&r, d->meta_len);
	if (r.has_err)
		return FURET_CORRUPT;
	/* The passages are the rest, read on demand; each takes 2 bytes at
	** least, so a count the record cannot hold is damage now. */
	d->pass = r.p;
	d->pass_len = (size_t)(r.end - r.p);
	if (d->n_passages > d->pass_len / 2)
		return FURET_CORRUPT;
	return FURET_OK;
}

furet_rc furet_doc_names_decode(furet_text_dec *dec, furet_doc_rec *d,
	furet_buf *buf)
{
	const char *p;
	furet_rc rc;

	if (!d->names || d->names_len < 1)
		return FURET_CORRUPT;
	if (d->names[0] == 0) {
		/* Raw: read in place. */
		if (d->names_len - 1 != d->id_len + d->title_len + d->sections_len)
			return FURET_CORRUPT;
		p = (const char *)d->names + 1;
	} else {
		if (!dec)
			return FURET_CORRUPT;
		if ((rc = furet_text_decode(dec, d->names, d->names_len,
			d->id_len + d->title_len + d->sections_len, buf)))
			return rc;
		p = (const char *)buf->data;
	}
	d->id = p;
	d->title = p + d->id_len;
	d->sections = d->title + d->title_len;
	return FURET_OK;
}

/* The decoder of ids and titles with the dictionary that the transaction
** sees, made on first use (most transactions never need one). */
static furet_rc txn_names_dec(furet_txn *t, furet_text_dec **out)
{
	furet_val v;
	furet_rc rc;

	if (!t->names_dec) {
		rc = furet_txn_get(t, FURET_T_META, NAMES_DICT, sizeof NAMES_DICT - 1,
			&v);
		if (rc == FURET_DONE)
			v.len = 0;
		else if (rc)
			return rc;
		/* The decoder copies the dictionary: the page may move. */
		if ((rc = furet_text_dec_open(v.data, v.len, &t->names_dec)))
			return rc;
	}
	*out = t->names_dec;
	return FURET_OK;
}

furet_rc furet_doc_rec_names(furet_txn *t, furet_doc_rec *d)
{
	furet_text_dec *dec = NULL;
	furet_rc rc;

	if (d->names && d->names_len >= 1 && d->names[0] != 0 &&
		(rc = txn_names_dec(t, &dec)))
		return rc;
	return furet_doc_names_decode(dec, d, &t->names_buf);
}

void furet_pass_enc_init(furet_pass_enc *e)
{
	furet_buf_init(&e->section);
	furet_pass_enc_reset(e);
}

void furet_pass_enc_reset(furet_pass_enc *e)
{
	e->prev_end = 0;
	e->has_section = 0;
	e->sections_len = 0;
	furet_buf_reset(&e->section);
}

void furet_pass_enc_free(furet_pass_enc *e)
{
	furet_buf_free(&e->section);
}

void furet_pass_enc_add(furet_pass_enc *e, uint64_t start, uint64_t end,
	const char *section, size_t section_len, furet_buf *out,
	furet_buf *sections)
{
	/* zigzag: passages follow each other, but nothing here relies on it
	** (a gap within a document in memory: times 3 cannot wrap) */
	int64_t gap = (int64_t)(start - e->prev_end);
	uint64_t zz = (uint64_t)gap << 1 ^ (uint64_t)(gap >> 63);
	unsigned kind = !section ? 0 : e->has_section &&
		e->section.len == section_len &&
		memcmp(e->section.data, section, section_len) == 0 ? 1 : 2;

	furet_buf_put_varint(out, zz * 3 + kind);
	furet_buf_put_varint(out, end - start);
	if (kind == 0) {
		e->has_section = 0;
	} else if (kind == 2) {
		furet_buf_put_varint(out, (uint64_t)section_len);
		if (sections)
			furet_buf_append(sections, section, section_len);
		e->sections_len += section_len;
		furet_buf_reset(&e->section);
		furet_buf_append(&e->section, section, section_len);
		e->has_section = 1;
		if (e->section.has_err)
			out->has_err = 1;
	}
	e->prev_end = end;
}

void furet_pass_iter_init(furet_pass_iter *it, const furet_doc_rec *d)
{
	it->p = d->pass;
	it->end = d->pass + d->pass_len;
	it->number = 0;
	it->n = d->n_passages;
	it->prev_end = 0;
	it->section = NULL;
	it->section_len = 0;
	it->sections = d->sections;
	it->sections_len = d->sections_len;
	it->sections_at = 0;
}

furet_rc furet_pass_next(furet_pass_iter *it, furet_passage_rec *p)
{
	reader r = { it->p, it->end, 0 };
	uint64_t zz, len, kind;
	int64_t gap;

	if (it->number == it->n)
		return it->p == it->end && (!it->sections ||
			it->sections_at == it->sections_len) ? FURET_DONE : FURET_CORRUPT;
	zz = rd_varint(&r);
	len = rd_varint(&r);
	kind = zz % 3;
	zz /= 3;
	gap = (int64_t)(zz >> 1) ^ -(int64_t)(zz & 1);
	/* No wrap below 0 nor past 2^63: offsets into one document. */
	if (r.has_err || (gap < 0 && (uint64_t)-(gap + 1) >= it->prev_end) ||
		(gap > 0 && (uint64_t)gap > INT64_MAX - it->prev_end))
		return FURET_CORRUPT;
	p->start = it->prev_end + (uint64_t)gap;
	if (len > INT64_MAX - p->start)
		return FURET_CORRUPT;
	p->end = p->start + len;
	if (kind == 1) {
		if (!it->section)
			return FURET_CORRUPT; /* "as before" with none before */
	} else if (kind == 0) {
		it->section = NULL;
		it->section_len = 0;
	} else {
		/* its own, with the id and title: decoded with them */
		uint64_t n = rd_varint(&r);
		if (r.has_err || (n && !it->sections) ||
			n > it->sections_len - it->sections_at)
			return FURET_CORRUPT;
		it->section = it->sections ? it->sections + it->sections_at : "";
		it->section_len = (size_t)n;
		it->sections_at += (size_t)n;
	}
	p->section = it->section;
	p->section_len = it->section_len;
	p->number = it->number++;
	it->prev_end = p->end;
	it->p = r.p;
	return FURET_OK;
}

furet_rc furet_doc_passage(const furet_doc_rec *d, uint32_t number,
	furet_passage_rec *p)
{
	furet_pass_iter it;
	furet_rc rc;

	if (number >= d->n_passages)
		return FURET_CORRUPT;
	furet_pass_iter_init(&it, d);
	do {
		if ((rc = furet_pass_next(&it, p)))
			return rc == FURET_DONE ? FURET_CORRUPT : rc;
	} while (p->number != number);
	return FURET_OK;
}

/* ---- docs: document records, four to a value ------------------------------ */

#define DOCS_PER_KEY 4

/* The records of a docs value: slot s of DOCS_PER_KEY at rec[s], len[s]
** bytes (0: none). FURET_CORRUPT unless the value is exactly that, with a
** record at least. */
static furet_rc bundle_split(furet_val v, const unsigned char **rec,
	size_t *len)
{
	reader r = { v.data, v.data + v.len, 0 };
	size_t s, total = 0;

	for (s = 0; s < DOCS_PER_KEY; s++) {
		len[s] = (size_t)rd_varint(&r);
		rec[s] = r.has_err ? NULL : (const unsigned char *)rd_bytes(&r,
			len[s]);
		total += len[s];
	}
	return r.has_err || r.p != r.end || total == 0 ? FURET_CORRUPT : FURET_OK;
}

static void doc_key(unsigned char key[4], uint32_t doc)
{
	furet_put_u32be(key, doc / DOCS_PER_KEY);
}

furet_rc furet_doc_get(furet_txn *t, uint32_t doc, furet_val *v)
{
	const unsigned char *rec[DOCS_PER_KEY];
	size_t len[DOCS_PER_KEY];
	unsigned char key[4];
	furet_val b;
	furet_rc rc;

	doc_key(key, doc);
	if ((rc = furet_txn_get(t, FURET_T_DOCS, key, 4, &b)) ||
		(rc = bundle_split(b, rec, len)))
		return rc;
	if (!len[doc % DOCS_PER_KEY])
		return FURET_DONE;
	v->data = rec[doc % DOCS_PER_KEY];
	v->len = len[doc % DOCS_PER_KEY];
	return FURET_OK;
}

/* Puts the value of the records rec[], len[] under key (deletes it when
** they are all empty). */
static furet_rc bundle_put(furet_txn *t, const unsigned char *key,
	const unsigned char *const *rec, const size_t *len, unsigned flags)
{
	furet_buf b;
	size_t s, total = 0;
	furet_rc rc;

	furet_buf_init(&b);
	for (s = 0; s < DOCS_PER_KEY; s++) {
		furet_buf_put_varint(&b, len[s]);
		furet_buf_append(&b, rec[s], len[s]);
		total += len[s];
	}
	if (b.has_err)
		rc = FURET_NOMEM;
	else if (total == 0)
		rc = furet_txn_del(t, FURET_T_DOCS, key, 4);
	else
		rc = furet_txn_put(t, FURET_T_DOCS, key, 4, b.data, b.len, flags);
	furet_buf_free(&b);
	return rc;
}

/* Replaces the record of doc in its value by rec, len bytes (len 0:
** removes it). */
static furet_rc doc_set(furet_txn *t, uint32_t doc, const void *rec,
	size_t len)
{
	const unsigned char *recs[DOCS_PER_KEY];
	size_t lens[DOCS_PER_KEY], s;
	unsigned char key[4];
	furet_buf copy;
	furet_val b;
	furet_rc rc;

	doc_key(key, doc);
	rc = furet_txn_get(t, FURET_T_DOCS, key, 4, &b);
	if (rc == FURET_DONE) {
		if (!len)
			return FURET_DONE;
		memset(lens, 0, sizeof lens);
		for (s = 0; s < DOCS_PER_KEY; s++)
			recs[s] = NULL;
	} else if (rc || (rc = bundle_split(b, recs, lens))) {
		return rc;
	} else if (!len && !lens[doc % DOCS_PER_KEY]) {
		return FURET_DONE;
	}
	/* The others copied: the put may move the page they are on. */
	furet_buf_init(&copy);
	furet_buf_append(&copy, rc == FURET_DONE ? NULL : b.data,
		rc == FURET_DONE ? 0 : b.len);
	if (copy.has_err)
		return FURET_NOMEM;
	for (s = 0; s < DOCS_PER_KEY; s++)
		if (lens[s])
			recs[s] = copy.data + (recs[s] - b.data);
	recs[doc % DOCS_PER_KEY] = rec;
	lens[doc % DOCS_PER_KEY] = len;
	rc = bundle_put(t, key, recs, lens, 0);
	furet_buf_free(&copy);
	return rc;
}

furet_rc furet_doc_put(furet_txn *t, uint32_t doc, const void *rec,
	size_t len)
{
	return len ? doc_set(t, doc, rec, len) : FURET_INVALID;
}

furet_rc furet_doc_del(furet_txn *t, uint32_t doc)
{
	return doc_set(t, doc, NULL, 0);
}

void furet_doc_app_init(furet_doc_app *a)
{
	furet_buf_init(&a->b);
	memset(a->len, 0, sizeof a->len);
	a->key = 0;
	a->has = 0;
}

void furet_doc_app_free(furet_doc_app *a)
{
	furet_buf_free(&a->b);
}

furet_rc furet_doc_app_flush(furet_txn *t, furet_doc_app *a)
{
	const unsigned char *rec[DOCS_PER_KEY];
	unsigned char key[4];
	size_t s, at = 0;
	furet_rc rc;

	if (!a->has)
		return FURET_OK;
	if (a->b.has_err)
		return FURET_NOMEM;
	for (s = 0; s < DOCS_PER_KEY; s++) {
		rec[s] = a->b.data + at;
		at += a->len[s];
	}
	furet_put_u32be(key, a->key);
	rc = bundle_put(t, key, rec, a->len, FURET_PUT_APPEND);
	furet_buf_reset(&a->b);
	memset(a->len, 0, sizeof a->len);
	a->has = 0;
	return rc;
}

furet_rc furet_doc_app_add(furet_txn *t, furet_doc_app *a, uint32_t doc,
	const void *rec, size_t len)
{
	uint32_t key = doc / DOCS_PER_KEY;
	furet_rc rc;

	if (a->has && key != a->key && (rc = furet_doc_app_flush(t, a)))
		return rc;
	/* (in number order: a slot after those filled) */
	if (a->has && a->len[doc % DOCS_PER_KEY])
		return FURET_INVALID;
	a->key = key;
	a->has = 1;
	a->len[doc % DOCS_PER_KEY] = len;
	furet_buf_append(&a->b, rec, len);
	return a->b.has_err ? FURET_NOMEM : FURET_OK;
}

furet_rc furet_doc_iter_open(furet_txn *t, furet_doc_iter *it)
{
	memset(it, 0, sizeof *it);
	it->slot = DOCS_PER_KEY;
	return furet_cursor_open(t, FURET_T_DOCS, &it->cur);
}

furet_rc furet_doc_iter_next(furet_doc_iter *it, uint32_t *doc, furet_val *v)
{
	furet_val k;
	furet_rc rc;

	for (;;) {
		while (it->slot < DOCS_PER_KEY) {
			unsigned s = it->slot++;
			if (!it->len[s])
				continue;
			*doc = it->key * DOCS_PER_KEY + s;
			v->data = it->rec[s];
			v->len = it->len[s];
			return FURET_OK;
		}
		rc = it->started ? furet_cursor_next(it->cur, &k, &it->b) :
			furet_cursor_seek(it->cur, "", 0, &k, &it->b);
		it->started = 1;
		if (rc)
			return rc;
		if (k.len != 4 || furet_get_u32be(k.data) > UINT32_MAX /
			DOCS_PER_KEY || bundle_split(it->b, it->rec, it->len))
			return FURET_CORRUPT;
		it->key = furet_get_u32be(k.data);
		it->slot = 0;
	}
}

void furet_doc_iter_close(furet_doc_iter *it)
{
	furet_cursor_close(it->cur);
	it->cur = NULL;
}

/* ---- the dense arrays of meta: plen, dlen, pdoc ---------------------------- */

/* A lengths array: the width byte, n entries, the pairs. */
furet_rc furet_lens_open(furet_val v, uint64_t n, furet_lens *out)
{
	uint64_t rest;

	memset(out, 0, sizeof *out);
	out->width = 4;
	out->escape = UINT32_MAX - 1;
	if (v.len == 0 && n == 0)
		return FURET_OK; /* an index that never had a passage */
	if (v.len < 1 || (v.data[0] != 1 && v.data[0] != 2 && v.data[0] != 4))
		return FURET_CORRUPT;
	out->width = v.data[0];
	if ((uint64_t)(v.len - 1) / out->width < n)
		return FURET_CORRUPT;
	rest = (uint64_t)(v.len - 1) - n * out->width;
	if (rest % 8)
		return FURET_CORRUPT;
	out->escape = out->width == 4 ? UINT32_MAX - 1 :
		(uint32_t)((1u << (8 * out->width)) - 2);
	out->p = v.data + 1;
	out->exc = out->p + n * out->width;
	out->n = n;
	out->n_exc = rest / 8;
	return FURET_OK;
}

furet_rc furet_lens_long(const furet_lens *l, uint64_t i, uint32_t *len)
{
	uint64_t lo = 0, hi = l->n_exc;

	/* Binary search: bounded whatever the pairs hold. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		uint32_t at = furet_get_u32le(l->exc + 8 * mid);
		if (at == i) {
			*len = furet_get_u32le(l->exc + 8 * mid + 4);
			return FURET_OK;
		}
		if (at < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return FURET_CORRUPT;
}

furet_rc furet_lens_rd_open(furet_val v, uint64_t n, furet_lens_rd *r)
{
	r->i = r->e = 0;
	return furet_lens_open(v, n, &r->l);
}

furet_rc furet_lens_rd_next(furet_lens_rd *r, uint32_t *out, size_t k)
{
	const furet_lens *l = &r->l;
	size_t j;

	if (k > l->n - r->i)
		return FURET_INVALID;
	for (j = 0; j < k; j++, r->i++) {
		uint32_t x = furet_lens_entry(l, (size_t)r->i);
		if (x == l->escape) {
			/* the pairs come in index order, one per escape */
			if (r->e >= l->n_exc || furet_get_u32le(l->exc + 8 * r->e) !=
				r->i)
				return FURET_CORRUPT;
			x = furet_get_u32le(l->exc + 8 * r->e + 4);
			r->e++;
		} else if (x > l->escape) {
			x = FURET_DEAD_PASSAGE;
		}
		out[j] = x;
	}
	return r->i == l->n && r->e != l->n_exc ? FURET_CORRUPT : FURET_OK;
}

furet_rc furet_lens_decode(furet_val v, uint64_t n, uint32_t *out)
{
	furet_lens_rd r;
	furet_rc rc = furet_lens_rd_open(v, n, &r);

	return rc ? rc : furet_lens_rd_next(&r, out, (size_t)n);
}

void furet_lens_enc_init(furet_lens_enc *e, uint64_t n, unsigned min_width)
{
	memset(e, 0, sizeof *e);
	e->n = n;
	e->min_width = min_width;
}

void furet_lens_enc_count(furet_lens_enc *e, const uint32_t *lens, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++) {
		if (lens[i] == FURET_DEAD_PASSAGE)
			continue;
		e->n_big[0] += lens[i] >= 0xfe;
		e->n_big[1] += lens[i] >= 0xfffe;
		e->n_big[2] += lens[i] >= UINT32_MAX - 1;
	}
}

/* Appends size bytes to out, to be filled, at its exact size (the
** encoders' start): where they begin, or NULL (out has_err). */
static unsigned char *buf_extend(furet_buf *out, uint64_t size)
{
	unsigned char *p;

	if (size > SIZE_MAX / 2) {
		out->has_err = 1;
		return NULL;
	}
	if (furet_buf_reserve(out, (size_t)size))
		return NULL;
	p = out->data + out->len;
	out->len += (size_t)size;
	out->data[out->len] = '\0'; /* (furet_buf keeps one after its bytes) */
	return p;
}

int furet_lens_enc_start(furet_lens_enc *e, furet_buf *out)
{
	uint64_t n = e->n, n_exc, size;
	unsigned w;

	/* Few lengths apart: a search finds them by binary search. */
	w = e->n_big[0] <= n / 64 && e->min_width <= 1 ? 1 :
		e->n_big[1] <= n / 64 && e->min_width <= 2 ? 2 : 4;
	n_exc = e->n_big[w == 1 ? 0 : w == 2 ? 1 : 2];
	e->width = w;
	e->escape = w == 4 ? UINT32_MAX - 1 : (uint32_t)((1u << (8 * w)) - 2);
	size = 1 + n * w + 8 * n_exc;
	if (!(e->p = buf_extend(out, size)))
		return -1;
	*e->p++ = (unsigned char)w;
	e->pair = e->p + n * w;
	return 0;
}

void furet_lens_enc_put(furet_lens_enc *e, const uint32_t *lens, size_t k)
{
	unsigned w = e->width, b;
	size_t i;

	for (i = 0; i < k; i++, e->i++) {
		uint32_t x = lens[i] == FURET_DEAD_PASSAGE ? e->escape + 1 :
			lens[i] >= e->escape ? e->escape : lens[i];
		for (b = 0; b < w; b++)
			*e->p++ = (unsigned char)(x >> (8 * b));
		if (x == e->escape) {
			furet_put_u32le(e->pair, (uint32_t)e->i);
			furet_put_u32le(e->pair + 4, lens[i]);
			e->pair += 8;
		}
	}
}

void furet_lens_encode(const uint32_t *lens, uint64_t n, unsigned min_width,
	furet_buf *out)
{
	furet_lens_enc e;

	furet_lens_enc_init(&e, n, min_width);
	furet_lens_enc_count(&e, lens, (size_t)n);
	if (!furet_lens_enc_start(&e, out))
		furet_lens_enc_put(&e, lens, (size_t)n);
}

furet_rc furet_pdoc_open(furet_val v, uint64_t n, furet_pdoc *out)
{
	memset(out, 0, sizeof *out);
	out->nb = (n + 63) / 64;
	if (v.len / 16 < out->nb || (v.len - 16 * out->nb) % 8)
		return FURET_CORRUPT;
	/* No bit past the last passage: furet_pdoc_last need not check. */
	if ((n & 63) && furet_get_u64le(v.data + 16 * (out->nb - 1)) >> (n & 63))
		return FURET_CORRUPT;
	out->n = n;
	out->blk = v.data;
	out->jump = v.data + 16 * out->nb;
	out->n_jump = (v.len - 16 * out->nb) / 8;
	return FURET_OK;
}

/* The bits after bit a, up to bit j (a <= j < 64). */
static uint64_t bits_after(unsigned a, unsigned j)
{
	return (((uint64_t)2 << j) - 1) & ~(((uint64_t)2 << a) - 1);
}

furet_rc furet_pdoc_jump(const furet_pdoc *pd, uint32_t pid, uint32_t *doc)
{
	size_t b = pid >> 6;
	const unsigned char *q = pd->blk + 16 * b;
	uint64_t starts = furet_get_u64le(q);
	uint64_t lo = furet_get_u32le(q + 12), j0 = lo;
	uint64_t hi = b + 1 < pd->nb ? furet_get_u32le(q + 28) : pd->n_jump;
	uint32_t at;

	if (lo > hi || hi > pd->n_jump)
		return FURET_CORRUPT;
	/* the last jump of the block at or before pid */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (furet_get_u32le(pd->jump + 8 * mid) <= pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == j0) {
		*doc = furet_get_u32le(q + 8) +
			furet_popcount64(starts & bits_after(0, pid & 63));
		return FURET_OK;
	}
	at = furet_get_u32le(pd->jump + 8 * (lo - 1));
	if (at >> 6 != b || (at & 63) == 0)
		return FURET_CORRUPT;
	*doc = furet_get_u32le(pd->jump + 8 * (lo - 1) + 4) +
		furet_popcount64(starts & bits_after(at & 63, pid & 63));
	return FURET_OK;
}

furet_rc furet_pdoc_rd_open(furet_val v, uint64_t n, furet_pdoc_rd *r)
{
	r->b = r->e = 0;
	r->prev = 0;
	r->has_prev = 0;
	r->at = r->have = 0;
	return furet_pdoc_open(v, n, &r->pd);
}

void furet_pdoc_rd_after(furet_pdoc_rd *r, uint32_t prev)
{
	r->prev = prev;
	r->has_prev = 1;
}

/* Decodes the next block into r->buf, checked: its first passage starts
** a document exactly when its document is not the one before; jumps in
** order, each past the next document; no bit past the end. */
static furet_rc pdoc_rd_block(furet_pdoc_rd *r)
{
	const furet_pdoc *pd = &r->pd;
	const unsigned char *q = pd->blk + 16 * r->b;
	uint64_t starts = furet_get_u64le(q), pid = 64 * r->b, j1;
	uint32_t d = furet_get_u32le(q + 8);
	unsigned j;

	j1 = r->b + 1 < pd->nb ? furet_get_u32le(q + 28) : pd->n_jump;
	if (furet_get_u32le(q + 12) != r->e || j1 < r->e || j1 > pd->n_jump)
		return FURET_CORRUPT;
	if ((pid > 0 || r->has_prev) &&
		(d < r->prev || (d != r->prev) != (starts & 1)))
		return FURET_CORRUPT;
	if (pid == 0 && !r->has_prev && !(starts & 1))
		return FURET_CORRUPT;
	for (j = 0; j < 64; j++, pid++) {
		if (pid >= pd->n) {
			if (starts >> j)
				return FURET_CORRUPT; /* bits past the end */
			break;
		}
		if (j > 0 && (starts >> j & 1)) {
			if (r->e < j1 && furet_get_u32le(pd->jump + 8 * r->e) == pid) {
				uint32_t to = furet_get_u32le(pd->jump + 8 * r->e + 4);
				if (to <= d + 1 || d == UINT32_MAX)
					return FURET_CORRUPT;
				d = to;
				r->e++;
			} else {
				if (d == UINT32_MAX)
					return FURET_CORRUPT;
				d++;
			}
		}
		r->buf[j] = d;
	}
	if (r->e != j1)
		return FURET_CORRUPT;
	r->prev = d;
	r->have = j;
	r->at = 0;
	r->b++;
	return FURET_OK;
}

furet_rc furet_pdoc_rd_next(furet_pdoc_rd *r, uint32_t *out, size_t k)
{
	furet_rc rc;

	while (k) {
		size_t m;
		if (r->at == r->have) {
			if (r->b >= r->pd.nb)
				return FURET_INVALID;
			if ((rc = pdoc_rd_block(r)))
				return rc;
		}
		m = r->have - r->at < k ? r->have - r->at : k;
		memcpy(out, r->buf + r->at, m * sizeof *out);
		r->at += (unsigned)m;
		out += m;
		k -= m;
	}
	return FURET_OK;
}

furet_rc furet_pdoc_decode(furet_val v, uint64_t n, uint32_t *out)
{
	furet_pdoc_rd r;
	furet_rc rc = furet_pdoc_rd_open(v, n, &r);

	return rc ? rc : furet_pdoc_rd_next(&r, out, (size_t)n);
}

void furet_pdoc_enc_init(furet_pdoc_enc *e, uint64_t n, const uint32_t *prev)
{
	memset(e, 0, sizeof *e);
	e->n = n;
	if (prev) {
		e->has_prev = 1;
		e->prev0 = *prev;
	}
}

/* A jump: a passage inside a block that starts a document other than
** the next one (documents without passages came between). */
void furet_pdoc_enc_count(furet_pdoc_enc *e, const uint32_t *docs, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++, e->pid++) {
		if ((e->pid & 63) && docs[i] != e->prev && docs[i] != e->prev + 1)
			e->n_jump++;
		e->prev = docs[i];
	}
}

int furet_pdoc_enc_start(furet_pdoc_enc *e, furet_buf *out)
{
	uint64_t nb = (e->n + 63) / 64;

	if (!(e->blk = buf_extend(out, 16 * nb + 8 * e->n_jump)))
		return -1;
	e->jump = e->blk + 16 * nb;
	e->pid = 0;
	e->n_jump = 0;
	e->prev = e->prev0;
	return 0;
}

/* The header of the block in progress: its bitmap, its first passage's
** document, the jumps before it. */
static void pdoc_enc_flush(furet_pdoc_enc *e)
{
	furet_put_u32le(e->blk, (uint32_t)e->starts);
	furet_put_u32le(e->blk + 4, (uint32_t)(e->starts >> 32));
	furet_put_u32le(e->blk + 8, e->first);
	furet_put_u32le(e->blk + 12, (uint32_t)e->jump0);
	e->blk += 16;
}

void furet_pdoc_enc_put(furet_pdoc_enc *e, const uint32_t *docs, size_t k)
{
	size_t i;

	for (i = 0; i < k; i++, e->pid++) {
		unsigned j = (unsigned)(e->pid & 63);
		uint32_t d = docs[i];

		if (j == 0) {
			e->starts = (e->pid == 0 && !e->has_prev) || d != e->prev;
			e->first = d;
			e->jump0 = e->n_jump;
		} else if (d != e->prev) {
			e->starts |= (uint64_t)1 << j;
			if (d != e->prev + 1) {
				furet_put_u32le(e->jump, (uint32_t)e->pid);
				furet_put_u32le(e->jump + 4, d);
				e->jump += 8;
				e->n_jump++;
			}
		}
		e->prev = d;
		if (j == 63 || e->pid + 1 == e->n)
			pdoc_enc_flush(e);
	}
}

void furet_pdoc_encode(const uint32_t *docs, uint64_t n, const uint32_t *prev,
	furet_buf *out)
{
	furet_pdoc_enc e;

	furet_pdoc_enc_init(&e, n, prev);
	furet_pdoc_enc_count(&e, docs, (size_t)n);
	if (!furet_pdoc_enc_start(&e, out))
		furet_pdoc_enc_put(&e, docs, (size_t)n);
}

/* ---- the dense arrays in chunks -------------------------------------------- */

#define DENSE_BITS_KEY "dense_bits"

furet_rc furet_dense_bits(furet_txn *t, unsigned *bits)
{
	furet_val v;
	furet_rc rc = furet_txn_get(t, FURET_T_META, DENSE_BITS_KEY,
		strlen(DENSE_BITS_KEY), &v);

	*bits = FURET_DENSE_BITS;
	if (rc)
		return rc == FURET_DONE ? FURET_OK : rc;
	if (v.len != 1 || v.data[0] < FURET_DENSE_BITS_MIN ||
		v.data[0] > FURET_DENSE_BITS_MAX)
		return FURET_CORRUPT;
	*bits = v.data[0];
	return FURET_OK;
}

void furet_dense_key(unsigned char key[8], const char *name, uint64_t chunk)
{
	memcpy(key, name, 4);
	furet_put_u32be(key + 4, (uint32_t)chunk);
}

furet_rc furet_dense_chunk(furet_txn *t, const char *name, uint64_t c,
	furet_val *v)
{
	unsigned char key[8];
	furet_rc rc;

	if (c > UINT32_MAX)
		return FURET_CORRUPT;
	furet_dense_key(key, name, c);
	rc = furet_txn_get(t, FURET_T_META, key, sizeof key, v);
	return rc == FURET_DONE ? FURET_CORRUPT : rc;
}

/* The entries of chunk c of an array of n, 2^bits to a chunk. */
static uint64_t chunk_len(uint64_t n, unsigned bits, uint64_t c)
{
	uint64_t left = n - (c << bits);

	return left < ((uint64_t)1 << bits) ? left : (uint64_t)1 << bits;
}

furet_rc furet_dense_len(furet_txn *t, const char *name, uint64_t n,
	uint64_t i, uint32_t *len)
{
	unsigned bits;
	furet_val v;
	furet_lens l;
	furet_rc rc;

	if (i >= n)
		return FURET_CORRUPT;
	if ((rc = furet_dense_bits(t, &bits)) ||
		(rc = furet_dense_chunk(t, name, i >> bits, &v)) ||
		(rc = furet_lens_open(v, chunk_len(n, bits, i >> bits), &l)))
		return rc;
	return furet_lens_get(&l, (size_t)(i & (((uint64_t)1 << bits) - 1)), len);
}

/* The chunks of an array of n entries, in order, read with a cursor: each
** under its number, none after the last. */
typedef struct chunk_walk {
	furet_cursor *cur;
	const char *name;
	uint64_t n, c, n_ch;       /* entries, the next chunk, chunks */
	unsigned bits;
} chunk_walk;

static furet_rc walk_open(furet_txn *t, const char *name, uint64_t n,
	chunk_walk *w)
{
	furet_rc rc;

	memset(w, 0, sizeof *w);
	w->name = name;
	w->n = n;
	if ((rc = furet_dense_bits(t, &w->bits)))
		return rc;
	w->n_ch = (n + ((uint64_t)1 << w->bits) - 1) >> w->bits;
	if (w->n_ch > (uint64_t)UINT32_MAX + 1)
		return FURET_CORRUPT;
	return furet_cursor_open(t, FURET_T_META, &w->cur);
}

/* The next chunk and its number of entries: FURET_DONE after the last. */
static furet_rc walk_next(chunk_walk *w, furet_val *v, uint64_t *len)
{
	unsigned char key[8];
	furet_val k;
	furet_rc rc;

	furet_dense_key(key, w->name, w->c);
	rc = w->c == 0 ? furet_cursor_seek(w->cur, key, 4, &k, v) :
		furet_cursor_next(w->cur, &k, v);
	if (rc && rc != FURET_DONE)
		return rc;
	if (w->c == w->n_ch) {
		/* (a chunk past the last one: the array is not what the
		** statistics say) */
		if (rc == FURET_OK && k.len == 8 && !memcmp(k.data, w->name, 4))
			return FURET_CORRUPT;
		return FURET_DONE;
	}
	if (rc || k.len != 8 || memcmp(k.data, key, 8))
		return FURET_CORRUPT;
	*len = chunk_len(w->n, w->bits, w->c++);
	return FURET_OK;
}

furet_rc furet_dense_each(furet_txn *t, const char *name, uint64_t n,
	furet_dense_fn fn, void *ctx)
{
	int is_pdoc = !strcmp(name, "pdoc");
	chunk_walk w;
	furet_val v;
	uint32_t *win = NULL;
	uint64_t m, at = 0;
	furet_rc rc;

	if ((rc = walk_open(t, name, n, &w)))
		goto done;
	if (!(win = furet_malloc(((size_t)1 << w.bits) * sizeof *win))) {
		rc = FURET_NOMEM;
		goto done;
	}
	while ((rc = walk_next(&w, &v, &m)) == FURET_OK) {
		if (is_pdoc) {
			furet_pdoc_rd r;
			if (!(rc = furet_pdoc_rd_open(v, m, &r))) {
				/* (the chunk before is whole: its last in win's last) */
				if (at)
					furet_pdoc_rd_after(&r, win[((size_t)1 << w.bits) - 1]);
				rc = furet_pdoc_rd_next(&r, win, (size_t)m);
			}
		} else {
			rc = furet_lens_decode(v, m, win);
		}
		if (rc)
			goto done;
		if (fn)
			fn(ctx, at, win, (size_t)m);
		at += m;
	}
	if (rc == FURET_DONE)
		rc = FURET_OK;
done:
	furet_cursor_close(w.cur);
	furet_free(win);
	return rc == FURET_INVALID ? FURET_CORRUPT : rc;
}

static void copy_out(void *ctx, uint64_t at, const uint32_t *x, size_t m)
{
	memcpy((uint32_t *)ctx + at, x, m * sizeof *x);
}

furet_rc furet_dense_decode(furet_txn *t, const char *name, uint64_t n,
	uint32_t *out)
{
	return furet_dense_each(t, name, n, copy_out, out);
}

/* The chunks of array name (n entries) for a view: each opened by open_one
** into (*ch)[c], of elem bytes (*ch freed on failure); *bits their size. */
static furet_rc view_chunks(furet_txn *t, const char *name, uint64_t n,
	size_t elem, furet_rc (*open_one)(furet_val, uint64_t, void *),
	void **ch, unsigned *bits)
{
	chunk_walk w;
	furet_val v;
	uint64_t m, c = 0;
	furet_rc rc;

	*ch = NULL;
	if ((rc = walk_open(t, name, n, &w)))
		goto done;
	*bits = w.bits;
	if (!(*ch = furet_malloc((size_t)(w.n_ch + 1) * elem))) {
		rc = FURET_NOMEM;
		goto done;
	}
	while ((rc = walk_next(&w, &v, &m)) == FURET_OK)
		if ((rc = open_one(v, m, (char *)*ch + elem * c++)))
			break;
	if (rc == FURET_DONE)
		rc = FURET_OK;
done:
	furet_cursor_close(w.cur);
	if (rc) {
		furet_free(*ch);
		*ch = NULL;
	}
	return rc;
}

static furet_rc open_lens(furet_val v, uint64_t n, void *out)
{
	return furet_lens_open(v, n, out);
}

static furet_rc open_pdoc(furet_val v, uint64_t n, void *out)
{
	return furet_pdoc_open(v, n, out);
}

furet_rc furet_lensv_open(furet_txn *t, const char *name, uint64_t n,
	furet_lensv *out)
{
	void *ch;
	furet_rc rc;

	memset(out, 0, sizeof *out);
	if ((rc = view_chunks(t, name, n, sizeof *out->ch, open_lens, &ch,
		&out->bits)))
		return rc;
	out->ch = ch;
	out->n = n;
	out->mask = ((uint64_t)1 << out->bits) - 1;
	return FURET_OK;
}

void furet_lensv_close(furet_lensv *v)
{
	furet_free(v->ch);
	v->ch = NULL;
}

furet_rc furet_pdocv_open(furet_txn *t, uint64_t n, furet_pdocv *out)
{
	void *ch;
	furet_rc rc;

	memset(out, 0, sizeof *out);
	if ((rc = view_chunks(t, "pdoc", n, sizeof *out->ch, open_pdoc, &ch,
		&out->bits)))
		return rc;
	out->ch = ch;
	out->n = n;
	out->nb = (n + 63) / 64;
	out->mask = ((uint64_t)1 << out->bits) - 1;
	out->bmask = out->mask >> 6;
	return FURET_OK;
}

void furet_pdocv_close(furet_pdocv *v)
{
	furet_free(v->ch);
	v->ch = NULL;
}

uint32_t furet_pdocv_first_before(const furet_pdocv *v, uint64_t b)
{
	uint64_t m = 0;

	while (!m) {
		if (b == 0)
			return 0; /* (passage 0 starts a document, unless damaged) */
		m = furet_pdocv_starts(v, --b);
	}
	return (uint32_t)(64 * b + 63 - (unsigned)__builtin_clzll(m));
}

uint32_t furet_pdocv_last_after(const furet_pdocv *v, uint64_t b)
{
	uint64_t m = 0, last;

	while (!m) {
		if (++b >= v->nb)
			return (uint32_t)(v->n - 1);
		m = furet_pdocv_starts(v, b);
	}
	last = 64 * b + (unsigned)__builtin_ctzll(m) - 1;
	return last < v->n ? (uint32_t)last : (uint32_t)(v->n - 1);
}

/* ---- docids: document id -> number ------------------------------------------ */

#define DOCID_ENT 12    /* u64be hash of the id, u32be document number */
#define DOCID_AVG 32    /* a rebuild's buckets hold this many at most, on average */
#define DOCID_SPLIT 128 /* a bucket of more entries doubles the buckets */
#define DOCID_BITS "docid_bits"

/* 64-bit FNV-1a with a final mix: the docids key of an id. */
static uint64_t id_hash(const void *id, size_t len)
{
	const unsigned char *p = id;
	uint64_t h = 14695981039346656037ull;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 1099511628211ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static void put_u64be(unsigned char *p, uint64_t v)
{
	int k;

	for (k = 7; k >= 0; k--) {
		p[k] = (unsigned char)v;
		v >>= 8;
	}
}

static uint64_t get_u64be(const unsigned char *p)
{
	return (uint64_t)furet_get_u32be(p) << 32 | furet_get_u32be(p + 4);
}

/* The bits of a hash that name its bucket: meta "docid_bits" (none: 0, one
** bucket). */
static furet_rc docid_bits(furet_txn *t, unsigned *bits)
{
	furet_val v;
	furet_rc rc = furet_txn_get(t, FURET_T_META, DOCID_BITS,
		sizeof DOCID_BITS - 1, &v);

	*bits = 0;
	if (rc == FURET_DONE)
		return FURET_OK;
	if (rc)
		return rc;
	if (v.len != 1 || v.data[0] > 32)
		return FURET_CORRUPT;
	*bits = v.data[0];
	return FURET_OK;
}

static furet_rc put_docid_bits(furet_txn *t, unsigned bits)
{
	unsigned char b = (unsigned char)bits;
	return furet_txn_put(t, FURET_T_META, DOCID_BITS, sizeof DOCID_BITS - 1,
		&b, 1, 0);
}

static uint32_t bucket_of(uint64_t h, unsigned bits)
{
	return bits ? (uint32_t)(h >> (64 - bits)) : 0;
}

/* A bucket's entries: whole, at least one, strictly in order. */
static int bucket_ok(furet_val v)
{
	size_t i;

	if (v.len == 0 || v.len % DOCID_ENT)
		return 0;
	for (i = DOCID_ENT; i < v.len; i += DOCID_ENT)
		if (memcmp(v.data + i - DOCID_ENT, v.data + i, DOCID_ENT) >= 0)
			return 0;
	return 1;
}

/* The bucket of hash h: its key, and in *v its entries (FURET_DONE when
** it has none; FURET_CORRUPT when they are damaged). */
static furet_rc docid_bucket(furet_txn *t, uint64_t h, unsigned *bits,
	unsigned char *key, furet_val *v)
{
	furet_rc rc;

	if ((rc = docid_bits(t, bits)))
		return rc;
	furet_put_u32be(key, bucket_of(h, *bits));
	if ((rc = furet_txn_get(t, FURET_T_DOCIDS, key, 4, v)))
		return rc;
	return bucket_ok(*v) ? FURET_OK : FURET_CORRUPT;
}

/* An entry: the hash of the id, then the document number. */
static void docid_entry(unsigned char *e, uint64_t h, uint32_t doc)
{
	put_u64be(e, h);
	furet_put_u32be(e + 8, doc);
}

furet_rc furet_docid_get(furet_txn *t, const void *id, size_t len,
	uint32_t *doc, furet_doc_rec *rec)
{
	uint64_t h = id_hash(id, len);
	unsigned char key[4];
	unsigned bits;
	furet_val v, dv;
	furet_doc_rec r;
	size_t i;
	furet_rc rc;

	if ((rc = docid_bucket(t, h, &bits, key, &v)))
		return rc;
	for (i = 0; i < v.len; i += DOCID_ENT) {
		if (get_u64be(v.data + i) != h)
			continue;
		rc = furet_doc_get(t, furet_get_u32be(v.data + i + 8), &dv);
		if (rc == FURET_DONE)
			return FURET_CORRUPT;
		if (rc || (rc = furet_doc_rec_decode(dv, &r)))
			return rc;
		if (r.id_len != len)
			continue;
		if ((rc = furet_doc_rec_names(t, &r)))
			return rc;
		if (memcmp(r.id, id, len) == 0) {
			*doc = furet_get_u32be(v.data + i + 8);
			if (rec)
				*rec = r;
			return FURET_OK;
		}
	}
	return FURET_DONE;
}

/* Doubles the buckets: bucket k becomes 2k and 2k + 1, by the next bit of
** the hashes. The buckets are moved from the highest down: a new key (2k,
** 2k + 1) is then never a key not yet moved (below k). That reads every
** page of the table through the map, each fault mapping the cached pages
** around it too: in a rebuild's part over 1.7 GB, 60 to 80 MB of the
** writer's resident set, unless dropped every 64 buckets. (A cursor's walk
** of the keys first did it again, without the drops.) It rewrites the
** whole table, 21 MB at 1.7 GB: LMDB's dirty pages, unless t checkpoints
** (furet_txn_set_checkpoint; the table is whole again only at the end). */
static furet_rc docids_split(furet_txn *t, unsigned bits)
{
	furet_buf ent;
	furet_val v;
	uint64_t n;
	size_t i, j;
	furet_rc rc = FURET_OK;

	furet_buf_init(&ent);
	for (n = (uint64_t)1 << bits; !rc && n > 0; n--) {
		uint32_t b = (uint32_t)(n - 1);
		unsigned char key[4], nk[4];
		size_t half;
		if (!(n & 63))
			drop_mapped(t->s);
		furet_put_u32be(key, b);
		if ((rc = furet_txn_get(t, FURET_T_DOCIDS, key, 4, &v))) {
			if (rc == FURET_DONE)
				rc = FURET_OK; /* an empty bucket */
			continue;
		}
		if (!bucket_ok(v)) {
			rc = FURET_CORRUPT;
			break;
		}
		furet_buf_reset(&ent);
		furet_buf_append(&ent, v.data, v.len);
		if (ent.has_err) {
			rc = FURET_NOMEM;
			break;
		}
		if ((rc = furet_txn_del(t, FURET_T_DOCIDS, key, 4)))
			break;
		/* the entries in order: those whose next bit is 0 first */
		for (half = 0; half < ent.len; half += DOCID_ENT)
			if (bucket_of(get_u64be(ent.data + half), bits + 1) != 2 * b)
				break;
		for (j = 0; j < 2 && !rc; j++) {
			size_t from = j ? half : 0, to = j ? ent.len : half;
			if (from == to)
				continue;
			for (i = from; i < to; i += DOCID_ENT)
				if (bucket_of(get_u64be(ent.data + i), bits + 1) !=
					2 * b + (uint32_t)j)
					rc = FURET_CORRUPT; /* not this bucket's */
			furet_put_u32be(nk, 2 * b + (uint32_t)j);
			if (!rc)
				rc = furet_txn_put(t, FURET_T_DOCIDS, nk, 4, ent.data + from,
					to - from, 0);
		}
		if (!rc && t->ckpt && t->pending >= t->ckpt)
			rc = furet_txn_checkpoint(t);
	}
	if (!rc)
		rc = put_docid_bits(t, bits + 1);
	furet_buf_free(&ent);
	return rc;
}

furet_rc furet_docid_put(furet_txn *t, const void *id, size_t len,
	uint32_t doc)
{
	uint64_t h = id_hash(id, len);
	unsigned char key[4], e[DOCID_ENT];
	unsigned bits;
	furet_buf b;
	furet_val v;
	size_t i = 0;
	furet_rc rc;

	docid_entry(e, h, doc);
	rc = docid_bucket(t, h, &bits, key, &v);
	if (rc == FURET_DONE)
		v.len = 0;
	else if (rc)
		return rc;
	/* Copied with the entry in its place (the put may move the page). */
	while (i < v.len && memcmp(v.data + i, e, DOCID_ENT) < 0)
		i += DOCID_ENT;
	if (i < v.len && memcmp(v.data + i, e, DOCID_ENT) == 0)
		return FURET_OK;
	furet_buf_init(&b);
	furet_buf_append(&b, v.data, i);
	furet_buf_append(&b, e, DOCID_ENT);
	furet_buf_append(&b, v.data + i, v.len - i);
	rc = b.has_err ? FURET_NOMEM : furet_txn_put(t, FURET_T_DOCIDS, key, 4,
		b.data, b.len, 0);
	if (!rc && b.len / DOCID_ENT > DOCID_SPLIT && bits < 32)
		rc = docids_split(t, bits);
	furet_buf_free(&b);
	return rc;
}

furet_rc furet_docid_del(furet_txn *t, const void *id, size_t len,
	uint32_t doc)
{
	uint64_t h = id_hash(id, len);
	unsigned char key[4], e[DOCID_ENT];
	unsigned bits;
	furet_buf b;
	furet_val v;
	size_t i;
	furet_rc rc;

	docid_entry(e, h, doc);
	if ((rc = docid_bucket(t, h, &bits, key, &v)))
		return rc;
	for (i = 0; i < v.len; i += DOCID_ENT)
		if (memcmp(v.data + i, e, DOCID_ENT) == 0)
			break;
	if (i == v.len)
		return FURET_DONE;
	if (v.len == DOCID_ENT)
		return furet_txn_del(t, FURET_T_DOCIDS, key, 4);
	furet_buf_init(&b);
	furet_buf_append(&b, v.data, i);
	furet_buf_append(&b, v.data + i + DOCID_ENT, v.len - i - DOCID_ENT);
	rc = b.has_err ? FURET_NOMEM : furet_txn_put(t, FURET_T_DOCIDS, key, 4,
		b.data, b.len, 0);
	furet_buf_free(&b);
	return rc;
}

void furet_docids_add(furet_buf *buf, const void *id, size_t len,
	uint32_t doc)
{
	unsigned char e[DOCID_ENT];

	docid_entry(e, id_hash(id, len), doc);
	furet_buf_append(buf, e, sizeof e);
}

/* Sorts the n entries at e (DOCID_ENT bytes each) by their bytes, with
** furet_keys_sort: the radix sort of the first 8 bytes (the hash) leaves
** only entries of one hash to compare whole. qsort with memcmp took 0.03 s
** for the 145,000 documents of the 212 MB corpus, at the end of the
** commit with nothing else running. -1 when out of memory. */
static int docids_sort(unsigned char *e, size_t n)
{
	furet_key_ref *v = furet_malloc(n * sizeof *v);
	unsigned char *sorted = furet_malloc(n * DOCID_ENT);
	size_t i;
	int r = -1;

	if (!v || !sorted)
		goto done;
	for (i = 0; i < n; i++)
		furet_key_ref_set(&v[i], e + DOCID_ENT * i, DOCID_ENT, 0);
	if (furet_keys_sort(v, n))
		goto done;
	for (i = 0; i < n; i++)
		memcpy(sorted + DOCID_ENT * i, v[i].p, DOCID_ENT);
	memcpy(e, sorted, n * DOCID_ENT);
	r = 0;
done:
	furet_free(v);
	furet_free(sorted);
	return r;
}

furet_rc furet_docids_put_all(furet_txn *t, furet_buf *buf)
{
	size_t n = buf->len / DOCID_ENT, i, j, k;
	unsigned bits = 0;
	furet_rc rc;

	if (buf->has_err)
		return FURET_NOMEM;
	if (n > 1 && docids_sort(buf->data, n))
		return FURET_NOMEM;
	/* Identical entries (an id twice with one number) once. */
	for (i = j = 0; i < n; i++)
		if (j == 0 || memcmp(buf->data + DOCID_ENT * (j - 1), buf->data +
			DOCID_ENT * i, DOCID_ENT) != 0)
			memmove(buf->data + DOCID_ENT * j++, buf->data + DOCID_ENT * i,
				DOCID_ENT);
	n = j;
	while (bits < 32 && (n >> bits) > DOCID_AVG)
		bits++;
	if ((rc = put_docid_bits(t, bits)))
		return rc;
	/* In key order, a bucket's entries in one value. */
	for (i = 0; i < n; i = k) {
		uint32_t b = bucket_of(get_u64be(buf->data + DOCID_ENT * i), bits);
		unsigned char key[4];
		for (k = i + 1; k < n && bucket_of(get_u64be(buf->data +
			DOCID_ENT * k), bits) == b; k++)
			;
		furet_put_u32be(key, b);
		if ((rc = furet_txn_put(t, FURET_T_DOCIDS, key, 4, buf->data +
			DOCID_ENT * i, DOCID_ENT * (k - i), FURET_PUT_APPEND)))
			return rc;
	}
	return FURET_OK;
}

furet_rc furet_docid_count(furet_txn *t, uint64_t *n)
{
	furet_cursor *cur = NULL;
	furet_val k = { NULL, 0 }, v = { NULL, 0 };
	unsigned bits;
	size_t i;
	furet_rc rc;

	*n = 0;
	if ((rc = docid_bits(t, &bits)) ||
		(rc = furet_cursor_open(t, FURET_T_DOCIDS, &cur)))
		return rc;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		if (k.len != 4 || !bucket_ok(v)) {
			rc = FURET_CORRUPT;
			break;
		}
		/* every entry in the bucket its hash names */
		for (i = 0; i < v.len; i += DOCID_ENT)
			if (bucket_of(get_u64be(v.data + i), bits) !=
				furet_get_u32be(k.data))
				rc = FURET_CORRUPT;
		if (rc)
			break;
		*n += v.len / DOCID_ENT;
	}
	furet_cursor_close(cur);
	return rc == FURET_DONE ? FURET_OK : rc;
}

/* (tf > 0) */
void furet_term_bound_insert(furet_term_bound *b, uint32_t tf, uint32_t len)
{
	uint32_t i, j, best = 0;
	double best_r = 0;

	for (i = 0; i < b->n; i++)
		if (b->tf[i] >= tf && b->len[i] <= len)
			return; /* beaten already */
	/* Drop the points it beats, then insert it in tf order (the points
	** left all have a smaller tf and a shorter length, or a larger tf
	** and a longer length). */
	for (i = j = 0; i < b->n; i++) {
		if (tf >= b->tf[i] && len <= b->len[i])
			continue;
		b->tf[j] = b->tf[i];
		b->len[j] = b->len[i];
		j++;
	}
	b->n = j;
	if (b->n == FURET_FRONT_MAX) {
		/* Full: merge the two neighbours of closest lengths into (the
		** larger tf, the shorter length), the point that loses least. */
		for (i = 0; i + 1 < b->n; i++) {
			double r = (double)(b->len[i + 1] + 1) / (double)(b->len[i] + 1);
			if (i == 0 || r < best_r) {
				best_r = r;
				best = i;
			}
		}
		b->tf[best] = b->tf[best + 1];
		for (i = best + 1; i + 1 < b->n; i++) {
			b->tf[i] = b->tf[i + 1];
			b->len[i] = b->len[i + 1];
		}
		b->n--;
		/* the merged point may beat or be beaten by the new one */
		furet_term_bound_insert(b, tf, len);
		return;
	}
	for (i = b->n; i > 0 && b->tf[i - 1] > tf; i--) {
		b->tf[i] = b->tf[i - 1];
		b->len[i] = b->len[i - 1];
	}
	b->tf[i] = tf;
	b->len[i] = len;
	b->n++;
}

void furet_term_rec_encode(const furet_term_rec *r, furet_buf *out)
{
	uint32_t i;

	furet_buf_put_varint(out, r->df);
	furet_buf_put_varint(out, r->cf);
	furet_buf_put_varint(out, r->n_blocks);
	furet_buf_put_varint(out, r->bound.n);
	for (i = 0; i < r->bound.n; i++) {
		furet_buf_put_varint(out, r->bound.tf[i]);
		furet_buf_put_varint(out, r->bound.len[i]);
	}
	furet_buf_put_varint(out, r->bound.tt);
	furet_buf_put_varint(out, r->bound.ts);
	furet_buf_put_varint(out, r->dbound.n);
	for (i = 0; i < r->dbound.n; i++) {
		furet_buf_put_varint(out, r->dbound.tf[i]);
		furet_buf_put_varint(out, r->dbound.len[i]);
	}
	if (r->n_blocks == 1 && r->inl_len)
		furet_buf_append(out, r->inl, r->inl_len);
}

furet_rc furet_term_rec_decode(furet_val v, furet_term_rec *t)
{
	reader r = { v.data, v.data + v.len, 0 };
	uint32_t i;

	t->df = rd_varint(&r);
	t->cf = rd_varint(&r);
	t->n_blocks = rd_u32(&r);
	t->bound.n = rd_u32(&r);
	if (t->bound.n > FURET_FRONT_MAX)
		return FURET_CORRUPT;
	for (i = 0; i < t->bound.n; i++) {
		t->bound.tf[i] = rd_u32(&r);
		t->bound.len[i] = rd_u32(&r);
	}
	t->bound.tt = rd_u32(&r);
	t->bound.ts = rd_u32(&r);
	t->dbound.n = rd_u32(&r);
	if (t->dbound.n > FURET_FRONT_MAX)
		return FURET_CORRUPT;
	for (i = 0; i < t->dbound.n; i++) {
		t->dbound.tf[i] = rd_u32(&r);
		t->dbound.len[i] = rd_u32(&r);
	}
	t->dbound.tt = t->dbound.ts = 0;
	if (r.has_err)
		return FURET_CORRUPT;
	/* The rest: the record of its block, for a term of one only. */
	t->inl = r.p;
	t->inl_len = (size_t)(r.end - r.p);
	if ((t->n_blocks == 1) != (t->inl_len > 0))
		return FURET_CORRUPT;
	if (!t->inl_len)
		t->inl = NULL;
	return FURET_OK;
}

furet_rc furet_term_block(furet_txn *t, const char *term, size_t term_len,
	const furet_term_rec *r, uint32_t b, unsigned char *key, furet_val *v)
{
	furet_rc rc;

	if (b >= r->n_blocks)
		return FURET_CORRUPT;
	if (r->inl) {
		v->data = r->inl;
		v->len = r->inl_len;
		return FURET_OK;
	}
	rc = furet_txn_get(t, FURET_T_POSTINGS, key,
		furet_block_key(key, term, term_len, b), v);
	return rc == FURET_DONE ? FURET_CORRUPT : rc;
}

void furet_block_sink_init(furet_block_sink *s)
{
	furet_buf_init(&s->first);
	s->has_first = 0;
}

void furet_block_sink_free(furet_block_sink *s)
{
	furet_buf_free(&s->first);
}

void furet_block_sink_reset(furet_block_sink *s)
{
	furet_buf_reset(&s->first);
	s->has_first = 0;
}

furet_rc furet_block_sink_put(furet_txn *t, furet_block_sink *s,
	const char *term, size_t term_len, uint32_t b, const void *rec,
	size_t len, unsigned put_flags, unsigned char *key)
{
	furet_rc rc;

	if (b == 0) {
		furet_buf_reset(&s->first);
		furet_buf_append(&s->first, rec, len);
		s->has_first = 1;
		return s->first.has_err ? FURET_NOMEM : FURET_OK;
	}
	if (s->has_first) {
		if ((rc = furet_txn_put(t, FURET_T_POSTINGS, key,
			furet_block_key(key, term, term_len, 0), s->first.data,
			s->first.len, put_flags)))
			return rc;
		s->has_first = 0;
	}
	return furet_txn_put(t, FURET_T_POSTINGS, key,
		furet_block_key(key, term, term_len, b), rec, len, put_flags);
}

void furet_block_sink_end(furet_block_sink *s, uint32_t n_blocks,
	furet_term_rec *r)
{
	if (n_blocks == 1 && s->has_first) {
		r->inl = s->first.data;
		r->inl_len = s->first.len;
	} else {
		r->inl = NULL;
		r->inl_len = 0;
	}
}

size_t furet_block_key(unsigned char *buf, const char *term, size_t term_len,
	uint32_t block)
{
	unsigned char *p = buf + term_len + 1;

	memcpy(buf, term, term_len);
	buf[term_len] = 0;
	/* Most terms have one block: its number takes one byte, not four.
	** Past 2^28 - 1 (no term has that many blocks: 2^25 hold every 32-bit
	** id), one key that is never written. */
	if (block < 0x80) {
		p[0] = (unsigned char)block;
		return term_len + 2;
	}
	if (block < 0x4000) {
		p[0] = (unsigned char)(0x80 | block >> 8);
		p[1] = (unsigned char)block;
		return term_len + 3;
	}
	if (block < 0x200000) {
		p[0] = (unsigned char)(0xc0 | block >> 16);
		p[1] = (unsigned char)(block >> 8);
		p[2] = (unsigned char)block;
		return term_len + 4;
	}
	if (block >= 0x10000000)
		block = 0x1fffffff; /* 0xff ff ff ff */
	furet_put_u32be(p, 0xe0000000 | block);
	return term_len + 5;
}

furet_rc furet_positions_span(const unsigned char *p, const unsigned char *end,
	uint32_t tf, size_t *len)
{
	const unsigned char *q = p;
	uint32_t k;

	for (k = 0; k < tf; k++) {
		/* At most 5 bytes: a delta fits 32 bits. */
		size_t m = 0;
		while (q + m < end && m < 5 && (q[m] & 0x80))
			m++;
		if (q + m >= end || m == 5)
			return FURET_CORRUPT;
		q += m + 1;
	}
	*len = (size_t)(q - p);
	return FURET_OK;
}

/* ---- positions: Rice codes --------------------------------------------------- */

/* Position deltas are small and roughly geometric: a Rice code of
** parameter k (the quotient d >> k in unary, then the k low bits) near
** log2 of their mean takes 17 MB where varints took 24 on the scale set.
** Bits go least significant first: the unary part is q zero bits and a
** one, so that a count of trailing zeros reads it.
**
** Decoding is on the query path (phrases, NEAR and proximity decode whole
** blocks, a quarter of the instructions of some query sets), so values
** come out of a 64-bit word loaded 8 bytes at a time, several per load;
** the last bytes of a record are read from a zero-padded copy, so a load
** never passes its end. */

static inline uint64_t load_u64le(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

/* The last bytes of a record, from bit bp on, zeros past its end. */
static uint64_t rice_load_tail(const unsigned char *data, size_t len,
	uint64_t bp)
{
	size_t byte = (size_t)(bp >> 3), i;
	uint64_t w = 0;

	for (i = 0; byte + i < len && i < 8; i++)
		w |= (uint64_t)data[byte + i] << (8 * i);
	return w >> (bp & 7);
}

/* At least 57 bits of the record from bit bp <= 8 * len on. */
static inline uint64_t rice_load(const unsigned char *data, size_t len,
	uint64_t bp)
{
	size_t byte = (size_t)(bp >> 3);

	if (byte + 8 <= len)
		return load_u64le(data + byte) >> (bp & 7);
	return rice_load_tail(data, len, bp);
}

typedef struct rice_step {
	uint64_t bp; /* after the value; UINT64_MAX for damage */
	uint64_t v;
} rice_step;

/* A value whose code does not fit a load (a unary part of 57 - k bits or
** more), read a load at a time; damage when the record ends first or the
** value passes 32 bits. */
static rice_step rice_long(const unsigned char *data, size_t len,
	uint64_t bp, unsigned k)
{
	uint64_t bits = 8 * (uint64_t)len, q = 0, w;
	rice_step s = { UINT64_MAX, 0 };

	for (;;) {
		if (bp >= bits)
			return s;
		w = rice_load(data, len, bp);
		if (w & (((uint64_t)1 << 56) - 1))
			break;
		q += 56;
		bp += 56;
		if (q > UINT32_MAX)
			return s;
	}
	q += (uint64_t)__builtin_ctzll(w);
	bp += (uint64_t)__builtin_ctzll(w) + 1;
	if (q > (UINT32_MAX >> k) || bp + k > bits)
		return s;
	s.v = q << k | (rice_load(data, len, bp) & (((uint64_t)1 << k) - 1));
	s.bp = bp + k;
	return s;
}

/* Codes of at most 8 bits, by parameter k (0..7; row 8, for larger k,
** has none) and the low 8 bits of the buffer: the length of the code in
** the low 6 bits (a shift count as it is), the value above them; 0 for a
** longer code. */
static uint16_t rice_tab[9][256];
static pthread_once_t rice_once = PTHREAD_ONCE_INIT;

static void rice_tab_init(void)
{
	unsigned k, b;

	for (k = 0; k < 8; k++)
		for (b = 1; b < 256; b++) {
			unsigned q = (unsigned)__builtin_ctz(b), len = q + 1 + k;
			if (len <= 8)
				rice_tab[k][b] = (uint16_t)((q << k |
					((b >> (q + 1)) & ((1u << k) - 1))) << 6 | len);
		}
}


/* Records past 2^28 bytes are damage: the sum of a posting's deltas
** (less than 2^31 per bit) then stays far from wrapping 64 bits. */
#define RICE_MAX_LEN ((size_t)1 << 28)

/* The 57 bits of the record from bit bp on and a 1 above them, the mark
** of their end (w is never 0, and a code that passes the mark took it). */
#define RICE_BITS 57
#define RICE_MARK ((uint64_t)1 << RICE_BITS)

static inline uint64_t rice_fill(const unsigned char *data, size_t len,
	uint64_t bp)
{
	return (rice_load(data, len, bp) & (RICE_MARK - 1)) | RICE_MARK;
}

/* Bits left before the mark of w. */
static inline unsigned rice_avail(uint64_t w)
{
	return 63 - (unsigned)__builtin_clzll(w);
}

/* The code at the bottom of w (its unary quotient, then k low bits):
** its value, and in *rest what w holds after it (0: it passed the mark,
** not a value). */
static inline uint64_t rice_code(uint64_t w, unsigned k, uint64_t mask,
	uint64_t *rest)
{
	unsigned q = (unsigned)__builtin_ctzll(w);

	*rest = w >> q >> (k + 1);
	return ((w >> q >> 1) & mask) | (uint64_t)q << k;
}

/* Checks record v of block b, posting by posting, and appends its deltas
** to out as varints unless out is NULL (the writer and compaction take
** them so; furet_positions_decode is the searches' faster way). */
static furet_rc rice_varints(furet_val v, const furet_block *b,
	furet_buf *out)
{
	const unsigned char *data = v.data;
	size_t len = v.len, n = 0;
	/* The bits of w below its mark end at bit end of the record; none
	** yet: the first value loads, after the 5 bits of k. */
	uint64_t bits = 8 * (uint64_t)len, end = 5, w = 1, mask, over = 0;
	const uint16_t *tab;
	unsigned k;
	uint32_t i, n_post = b->n;

	if (len == 0) { /* only for a block without body positions */
		for (i = 0; i < n_post; i++)
			if (b->tf[i])
				return FURET_CORRUPT;
		return FURET_OK;
	}
	if (len > RICE_MAX_LEN)
		return FURET_CORRUPT;
	k = data[0] & 31;
	mask = ((uint64_t)1 << k) - 1;
	pthread_once(&rice_once, rice_tab_init);
	tab = rice_tab[k < 8 ? k : 8];
	for (i = 0; i < n_post; i++) {
		uint32_t tf = b->tf[i];
		uint64_t at = 0;
		for (; tf; tf--) {
			uint64_t d, rest;
			unsigned e = tab[w & 255];
			if (e) { /* a code of 8 bits at most */
				d = e >> 6;
				rest = w >> (e & 63);
			} else {
				d = rice_code(w, k, mask, &rest);
			}
			if (!rest) { /* the code passed the mark: load, and again */
				uint64_t bp = end - rice_avail(w);
				if (bp >= bits)
					return FURET_CORRUPT;
				w = rice_fill(data, len, bp);
				end = bp + RICE_BITS;
				d = rice_code(w, k, mask, &rest);
				if (!rest) { /* longer than a load */
					rice_step st = rice_long(data, len, bp, k);
					if (st.bp == UINT64_MAX)
						return FURET_CORRUPT;
					d = st.v;
					rest = 1; /* nothing loaded: the next value loads */
					end = st.bp;
				}
			}
			w = rest;
			at += d;
			if (out)
				furet_buf_put_varint(out, d);
			n++;
		}
		over |= at;
	}
	{
		/* Positions within 32 bits; the values end in the last byte,
		** the rest of it zero bits; a record for a block without body
		** positions is empty. */
		uint64_t bp = end - rice_avail(w);
		if (over > UINT32_MAX || n == 0 || bp > bits || bits - bp >= 8 ||
			((bp & 7) && (data[len - 1] >> (bp & 7))))
			return FURET_CORRUPT;
	}
	return out && out->has_err ? FURET_NOMEM : FURET_OK;
}

/* n Rice values of parameter k from bit *bp of data on, into out: several
** codes a load, short ones through the table (decoding is on the query
** path: postings blocks, and the positions that phrases, NEAR and proximity
** decode whole); *bp then points past them. -1 for damage: a code past the end
** of data, or a value past 32 bits. */
static int rice_run(const unsigned char *data, size_t len, uint64_t *bp,
	unsigned k, uint32_t n, uint32_t *out)
{
	uint64_t bits = 8 * (uint64_t)len, at = *bp, w, end, over = 0;
	uint64_t mask = ((uint64_t)1 << k) - 1;
	const uint16_t *tab;
	uint32_t i;

	if (!n)
		return 0;
	if (at >= bits)
		return -1;
	pthread_once(&rice_once, rice_tab_init);
	tab = rice_tab[k < 8 ? k : 8];
	w = rice_fill(data, len, at);
	end = at + RICE_BITS;
	for (i = 0; i < n; i++) {
		unsigned e = tab[w & 255];
		uint64_t v, rest;
		if (e) { /* a code of 8 bits at most */
			v = e >> 6;
			rest = w >> (e & 63);
		} else {
			v = rice_code(w, k, mask, &rest);
		}
		if (!rest) { /* the code passed the mark: load, and again */
			at = end - rice_avail(w);
			if (at >= bits)
				return -1;
			w = rice_fill(data, len, at);
			end = at + RICE_BITS;
			v = rice_code(w, k, mask, &rest);
			if (!rest) { /* longer than a load */
				rice_step st = rice_long(data, len, at, k);
				if (st.bp == UINT64_MAX)
					return -1;
				v = st.v;
				rest = 1; /* nothing loaded: the next value loads */
				end = st.bp;
			}
		}
		over |= v;
		out[i] = (uint32_t)v;
		w = rest;
	}
	*bp = end - rice_avail(w);
	return over > UINT32_MAX ? -1 : 0;
}

furet_rc furet_positions_decode(furet_val v, const furet_block *b,
	uint32_t *pos, uint32_t *off)
{
	uint64_t n = 0, over = 0, n_val = 0, bits = 8 * (uint64_t)v.len, bp = 5;
	uint32_t i, n_post = b->n;

	for (i = 0; i < n_post; i++)
		n_val += b->tf[i];
	/* No record only for a block without body positions; else the values
	** (each ends with a 1 bit: at most 8 a byte, the room pos has), then
	** 0 bits to the end of the last byte. */
	if (v.len == 0 || n_val == 0) {
		if (v.len || n_val)
			return FURET_CORRUPT;
	} else if (v.len > RICE_MAX_LEN || n_val > bits ||
		rice_run(v.data, v.len, &bp, v.data[0] & 31, (uint32_t)n_val, pos) ||
		bp > bits || bits - bp >= 8 ||
		((bp & 7) && (v.data[v.len - 1] >> (bp & 7)))) {
		return FURET_CORRUPT;
	}
	/* A posting's first delta is its first position: only tfs of 2 and
	** more add up. */
	for (i = 0; i < n_post; i++) {
		uint32_t tf = b->tf[i];
		off[i] = (uint32_t)n;
		if (tf > 1) {
			uint64_t at;
			uint32_t j;
			if (tf > (uint64_t)n_val || n > (uint64_t)n_val - tf)
				return FURET_CORRUPT;
			at = pos[n];
			for (j = 1; j < tf; j++) {
				at += pos[n + j];
				pos[n + j] = (uint32_t)at;
			}
			over |= at;
		}
		n += tf;
	}
	off[n_post] = (uint32_t)n;
	return n == (uint64_t)n_val && over <= UINT32_MAX ? FURET_OK :
		FURET_CORRUPT;
}

furet_rc furet_positions_varints(furet_val v, const furet_block *b,
	furet_buf *out)
{
	return rice_varints(v, b, out);
}

/* The next raw varint at *p (one byte, mostly), known to be there. */
static inline uint64_t raw_next(const unsigned char **p,
	const unsigned char *end)
{
	uint64_t d;

	if (**p < 0x80)
		return *(*p)++;
	*p += furet_get_varint(*p, end, &d);
	return d;
}

/* Reads the raw varint deltas of block b: their count and sum, checking
** they are exactly b's body tfs' worth, each posting's within 32 bits. */
static furet_rc raw_scan(const furet_block *b, const unsigned char *p,
	const unsigned char *end, uint64_t *count, uint64_t *sum)
{
	uint64_t n = 0, total = 0;
	uint32_t k;

	for (k = 0; k < b->n; k++) {
		uint32_t tf = b->tf[k];
		uint64_t at = 0;
		n += tf;
		for (; tf; tf--) {
			uint64_t d;
			if (p < end && *p < 0x80) {
				d = *p++;
			} else {
				size_t m = furet_get_varint(p, end, &d);
				if (!m)
					return FURET_CORRUPT;
				p += m;
			}
			if (d > UINT32_MAX - at)
				return FURET_CORRUPT;
			at += d;
		}
		total += at;
	}
	*count = n;
	*sum = total;
	return p == end ? FURET_OK : FURET_CORRUPT;
}

/* Bits are put 32 at a time into 4 bytes of room (reserved beforehand). */
typedef struct bit_writer {
	unsigned char *q;
	uint64_t acc;
	unsigned na; /* bits in acc, < 32 between calls */
} bit_writer;

/* The low n <= 32 bits of v (nothing above them). */
static inline void bw_bits(bit_writer *w, uint64_t v, unsigned n)
{
	w->acc |= v << w->na;
	w->na += n;
	if (w->na >= 32) {
		uint32_t lo = (uint32_t)w->acc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		lo = __builtin_bswap32(lo);
#endif
		memcpy(w->q, &lo, 4);
		w->q += 4;
		w->acc >>= 32;
		w->na -= 32;
	}
}

static inline void bw_rice(bit_writer *w, uint64_t d, unsigned k)
{
	uint64_t hi = d >> k;

	if (hi + 1 + k <= 32) {
		bw_bits(w, ((d & (((uint64_t)1 << k) - 1)) << 1 | 1) << hi,
			(unsigned)hi + 1 + k);
		return;
	}
	for (; hi >= 32; hi -= 32)
		bw_bits(w, 0, 32);
	bw_bits(w, 0, (unsigned)hi);
	bw_bits(w, (d & (((uint64_t)1 << k) - 1)) << 1 | 1, k + 1);
}

/* The last bits, whole bytes. */
static inline void bw_end(bit_writer *w)
{
	for (; w->na > 0; w->na = w->na > 8 ? w->na - 8 : 0) {
		*w->q++ = (unsigned char)w->acc;
		w->acc >>= 8;
	}
}

furet_rc furet_positions_encode(const furet_block *b, const unsigned char *raw,
	size_t raw_len, furet_buf *out)
{
	const unsigned char *p = raw, *end = raw_len ? raw + raw_len : raw;
	uint64_t count, sum, mean;
	unsigned k = 0;
	bit_writer w;
	furet_rc rc = raw_scan(b, p, end, &count, &sum);

	if (rc || count == 0)
		return rc;
	/* k = floor(log2(mean)): as small as the best k within 0.1 % on the
	** scale set. The unary parts then add up to at most 2 * count bits. */
	mean = sum / count;
	while (k < 31 && (mean >> (k + 1)))
		k++;
	if (furet_buf_reserve(out, (size_t)((5 + count * (k + 1) + (sum >> k) +
		7) / 8) + 8))
		return FURET_NOMEM;
	w.q = out->data + out->len;
	w.acc = 0;
	w.na = 0;
	bw_bits(&w, k, 5);
	while (p < end)
		bw_rice(&w, raw_next(&p, end), k);
	bw_end(&w);
	out->len = (size_t)(w.q - out->data);
	return FURET_OK;
}

/* ---- postings blocks ------------------------------------------------------ */

/* A block is three varints (n - 1, the first id, last - first: what a seek
** reads) and one stream of bits, least significant first like the
** positions' (the comment at the top of this file has every field): runs
** of title-only postings, the id gaps less one in Rice or Exp-Golomb codes,
** the body tfs Rice-coded after swapping 0 and 1 (1 is the most frequent
** by far, then 0: a posting found only in the title or section), then the
** title tfs and the section tfs, each a width of 4 bits (0 to 8) and
** values of that many bits. The last byte is padded with 0 bits; the
** block's positions follow it.
**
** On the scale set, against one bit width per array and block (format
** 11): gaps 23.2 -> 17.2 MB, body tfs 7.2 -> 4.0 MB. Gaps are roughly
** geometric, and a width must fit the largest of 128 of them, about
** log2(mean) + 3 bits where a Rice code takes log2(mean) + 1.5. */

/* The k of least total length for the n values v, and that length in
** bits: k0 = floor(log2) of their mean or k0 - 1, which is where the best k
** of roughly geometric values lies (both sums in one pass: the writer
** encodes every block of a rebuild). An outlier raises the mean and k0:
** the codes are then as long as a width would be, not longer. */
static unsigned rice_best_k(const uint32_t *v, uint32_t n, uint64_t *bits)
{
	uint64_t sum = 0, s0 = 0, s1 = 0;
	unsigned k0 = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		sum += v[i];
	if (n)
		while (k0 < 31 && ((sum / n) >> (k0 + 1)))
			k0++;
	if (k0 == 0) {
		*bits = (uint64_t)n + sum;
		return 0;
	}
	for (i = 0; i < n; i++) {
		s0 += v[i] >> (k0 - 1);
		s1 += v[i] >> k0;
	}
	s0 += (uint64_t)n * k0;
	s1 += (uint64_t)n * (k0 + 1);
	*bits = s0 <= s1 ? s0 : s1;
	return s0 <= s1 ? k0 - 1 : k0;
}

/* Exp-Golomb codes of order k, for gaps: x = (v >> k) + 1 of z + 1 bits
** takes z 0 bits and a 1, the z low bits of x, then the k low bits of v.
** Gaps within a document's passages and between documents mix small and
** large values, which one Rice parameter fits badly: 13.6 MB of gaps on
** the scale set where Rice codes take 15.1. */
static unsigned bits_of(uint64_t x)
{
	return x ? 64 - (unsigned)__builtin_clzll(x) : 0;
}

/* The order of least total length for the n values v, and that length:
** among k0, the mean bit length of the values, and the three below it
** (the mean of the values themselves would follow an outlier, which these
** codes take in their stride), chosen from a histogram of bit lengths (a
** value of b > k bits has a code of 2 (b - k) - 1 + k bits, unless adding
** 1 carries), then measured exactly. */
static unsigned eg_best_k(const uint32_t *v, uint32_t n, uint64_t *bits)
{
	uint32_t h[33];
	uint64_t sum = 0, best = UINT64_MAX, c;
	unsigned k0, k, b, best_k = 0;
	uint32_t i;

	memset(h, 0, sizeof h);
	for (i = 0; i < n; i++)
		h[bits_of(v[i])]++;
	for (b = 1; b < 33; b++)
		sum += (uint64_t)h[b] * b;
	k0 = n ? (unsigned)(sum / n) : 0;
	if (k0 > 31)
		k0 = 31;
	for (k = k0 > 3 ? k0 - 3 : 0; k <= k0; k++) {
		for (b = 0, c = 0; b < 33; b++)
			c += (uint64_t)h[b] * (b > k ? 2 * (b - k) - 1 + k : 1 + k);
		if (c < best) {
			best = c;
			best_k = k;
		}
	}
	for (i = 0, c = 0; i < n; i++)
		c += 2 * bits_of(((uint64_t)v[i] >> best_k) + 1) - 1 + best_k;
	*bits = c;
	return best_k;
}

static inline void bw_eg(bit_writer *w, uint64_t v, unsigned k)
{
	uint64_t x = (v >> k) + 1;
	unsigned z = bits_of(x) - 1;

	if (z < 32) {
		bw_bits(w, (uint64_t)1 << z, z + 1);
	} else {
		bw_bits(w, 0, 32);
		bw_bits(w, 1, 1);
	}
	bw_bits(w, x & (((uint64_t)1 << z) - 1), z);
	bw_bits(w, v & (((uint64_t)1 << k) - 1), k);
}

static unsigned width_of(const uint8_t *v, uint32_t n)
{
	unsigned w = 0, m = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		m |= v[i];
	while (m >> w)
		w++;
	return w;
}

/* Body tf 1 codes as 0 and 0 as 1; the rest as they are. */
static inline uint32_t tf_swap(uint32_t tf)
{
	return tf < 2 ? tf ^ 1 : tf;
}

/* Bits of the block's stream past its flag, for m postings (m < n: in
** runs) of ids pid, fields tf (swapped), tt, ts and run lengths run. */
typedef struct block_plan {
	uint32_t m;
	unsigned kg, kt, kr, wt, ws;
	int is_eg; /* the gaps in Exp-Golomb codes, not Rice codes */
	uint64_t bits;
} block_plan;

static void plan_block(block_plan *p, uint32_t m, uint32_t n,
	const uint32_t *gap, const uint32_t *tf, const uint8_t *tt,
	const uint8_t *ts, const uint32_t *run)
{
	uint64_t gb = 0, tb, rb = 0, eb = 0;

	p->m = m;
	p->kg = m > 1 ? rice_best_k(gap, m - 1, &gb) : 0;
	p->is_eg = 0;
	if (m > 2) {
		unsigned ke = eg_best_k(gap, m - 1, &eb);
		if (eb < gb) {
			p->is_eg = 1;
			p->kg = ke;
			gb = eb;
		}
	}
	p->kt = rice_best_k(tf, m, &tb);
	p->kr = m < n ? rice_best_k(run, m, &rb) : 0;
	p->wt = width_of(tt, m);
	p->ws = width_of(ts, m);
	p->bits = (m < n ? 7 + 5 + rb : 0) + (m > 1 ? 6 + gb : 0) + 5 + tb + 8 +
		(uint64_t)m * (p->wt + p->ws);
}

static void write_block(bit_writer *out, const block_plan *p, uint32_t n,
	const uint32_t *gap, const uint32_t *tf, const uint8_t *tt,
	const uint8_t *ts, const uint32_t *run)
{
	/* A copy whose address goes nowhere: its fields stay in registers
	** (through out, every put loaded and stored them). */
	bit_writer lw = *out, *w = &lw;
	uint32_t i, m = p->m;

	bw_bits(w, m < n, 1);
	if (m < n)
		bw_bits(w, m - 1, 7);
	if (m > 1) {
		bw_bits(w, (unsigned)p->is_eg | p->kg << 1, 6);
		if (p->is_eg)
			for (i = 0; i + 1 < m; i++)
				bw_eg(w, gap[i], p->kg);
		else
			for (i = 0; i + 1 < m; i++)
				bw_rice(w, gap[i], p->kg);
	}
	bw_bits(w, p->kt, 5);
	for (i = 0; i < m; i++)
		bw_rice(w, tf[i], p->kt);
	bw_bits(w, p->wt, 4);
	if (p->wt)
		for (i = 0; i < m; i++)
			bw_bits(w, tt[i], p->wt);
	bw_bits(w, p->ws, 4);
	if (p->ws)
		for (i = 0; i < m; i++)
			bw_bits(w, ts[i], p->ws);
	if (m < n) {
		bw_bits(w, p->kr, 5);
		for (i = 0; i < m; i++)
			bw_rice(w, run[i], p->kr);
	}
	*out = lw;
}

void furet_block_encode(const furet_block *b, furet_buf *out)
{
	uint32_t gap[FURET_BLOCK_SIZE], tf[FURET_BLOCK_SIZE];
	uint32_t rgap[FURET_BLOCK_SIZE], rtf[FURET_BLOCK_SIZE];
	uint32_t run[FURET_BLOCK_SIZE], rpid[FURET_BLOCK_SIZE];
	uint8_t rtt[FURET_BLOCK_SIZE], rts[FURET_BLOCK_SIZE];
	uint32_t i, j, m = 0, n = b->n;
	block_plan flat, runs;
	bit_writer w = { NULL, 0, 0 };

	if (n == 0 || n > FURET_BLOCK_SIZE) { /* a caller's bug */
		out->has_err = 1;
		return;
	}
	for (i = 1; i < n; i++)
		gap[i - 1] = b->pid[i] - b->pid[i - 1] - 1;
	for (i = 0; i < n; i++)
		tf[i] = tf_swap(b->tf[i]);
	plan_block(&flat, n, n, gap, tf, b->tf_title, b->tf_section, NULL);
	/* Runs: postings of consecutive ids without body words and with the
	** same title and section tfs, one posting and its run length (the
	** passages of a document whose title has the word). */
	for (i = 0; i < n; i = j) {
		j = i + 1;
		if (b->tf[i] == 0)
			while (j < n && b->pid[j] == b->pid[j - 1] + 1 &&
				b->tf[j] == 0 && b->tf_title[j] == b->tf_title[i] &&
				b->tf_section[j] == b->tf_section[i])
				j++;
		rpid[m] = b->pid[i];
		rtf[m] = tf[i];
		rtt[m] = b->tf_title[i];
		rts[m] = b->tf_section[i];
		run[m] = j - i - 1;
		if (m)
			rgap[m - 1] = rpid[m] - (rpid[m - 1] + run[m - 1]) - 1;
		m++;
	}
	if (m < n)
		plan_block(&runs, m, n, rgap, rtf, rtt, rts, run);
	furet_buf_put_varint(out, n - 1);
	furet_buf_put_varint(out, b->pid[0]);
	furet_buf_put_varint(out, b->pid[n - 1] - b->pid[0]);
	if (furet_buf_reserve(out, (size_t)(flat.bits / 8) + 10))
		return;
	w.q = out->data + out->len;
	if (m < n && runs.bits < flat.bits)
		write_block(&w, &runs, n, rgap, rtf, rtt, rts, run);
	else
		write_block(&w, &flat, n, gap, tf, b->tf_title, b->tf_section,
			NULL);
	bw_end(&w);
	out->len = (size_t)(w.q - out->data);
}

/* The head: n, first and last id. */
static furet_rc block_head(reader *r, uint32_t *n, uint32_t *first,
	uint32_t *last)
{
	uint64_t n1 = rd_varint(r), f = rd_varint(r), span = rd_varint(r);

	/* Compared apart: f + span of two values near 2^64 would wrap. */
	if (r->has_err || n1 >= FURET_BLOCK_SIZE || f > UINT32_MAX ||
		span > UINT32_MAX - f || span < n1)
		return FURET_CORRUPT;
	*n = (uint32_t)n1 + 1;
	*first = (uint32_t)f;
	*last = (uint32_t)(f + span);
	return FURET_OK;
}

furet_rc furet_block_span(furet_val v, uint32_t *first, uint32_t *last)
{
	reader r = { v.data, v.data + v.len, 0 };
	uint32_t n;

	return block_head(&r, &n, first, last);
}

/* An Exp-Golomb code too long for one load; -1 for damage. */
static int eg_slow(const unsigned char *data, size_t len, uint64_t *at,
	unsigned k, uint64_t *v)
{
	uint64_t bits = 8 * (uint64_t)len, p = *at, z = 0, w, x;

	for (;;) {
		if (p >= bits)
			return -1;
		w = rice_load(data, len, p) & (((uint64_t)1 << 56) - 1);
		if (w)
			break;
		z += 56;
		p += 56;
	}
	z += (uint64_t)__builtin_ctzll(w);
	p += (uint64_t)__builtin_ctzll(w) + 1;
	if (z > 32)
		return -1;
	x = (rice_load(data, len, p) & (((uint64_t)1 << z) - 1)) |
		(uint64_t)1 << z;
	p += z;
	if (x - 1 > (UINT32_MAX >> k))
		return -1;
	*v = (x - 1) << k | (rice_load(data, len, p) & (((uint64_t)1 << k) - 1));
	p += k;
	if (p > bits || *v > UINT32_MAX)
		return -1;
	*at = p;
	return 0;
}

/* n Exp-Golomb values of order k from bit *bp on, into out; -1 for
** damage. Codes come out of a window of 57 bits and its mark, as in
** rice_run. */
static int eg_run(const unsigned char *data, size_t len, uint64_t *bp,
	unsigned k, uint32_t n, uint32_t *out)
{
	uint64_t bits = 8 * (uint64_t)len, at = *bp, mask = ((uint64_t)1 << k) - 1;
	uint64_t w, end, v, over = 0;
	uint32_t i;

	if (at >= bits)
		return -1;
	w = rice_fill(data, len, at);
	end = at + RICE_BITS;
	for (i = 0; i < n; i++) {
		unsigned z = (unsigned)__builtin_ctzll(w), need = 2 * z + 1 + k;
		if (need > rice_avail(w)) { /* past the mark: load, and again */
			at = end - rice_avail(w);
			if (at >= bits)
				return -1;
			w = rice_fill(data, len, at);
			end = at + RICE_BITS;
			z = (unsigned)__builtin_ctzll(w);
			need = 2 * z + 1 + k;
			if (need > RICE_BITS) { /* longer than a load */
				if (eg_slow(data, len, &at, k, &v))
					return -1;
				out[i] = (uint32_t)v;
				w = 1; /* nothing loaded: the next value loads */
				end = at;
				continue;
			}
		}
		v = ((((w >> (z + 1)) & (((uint64_t)1 << z) - 1)) |
			(uint64_t)1 << z) - 1) << k | ((w >> (2 * z + 1)) & mask);
		over |= v;
		out[i] = (uint32_t)v;
		w >>= need;
	}
	*bp = end - rice_avail(w);
	return over > UINT32_MAX ? -1 : 0;
}

/* A width of 4 bits (at most 8), then n values of that many bits from bit
** *bp on, into out; -1 for damage. Bits past the end of data read as 0:
** the caller checks where the last one ends. */
static int packed_run(const unsigned char *data, size_t len, uint64_t *bp,
	uint32_t n, uint8_t *out)
{
	uint64_t at = *bp, x;
	unsigned w = (unsigned)(rice_load(data, len, at) & 15), per, j;
	uint32_t i = 0;

	at += 4;
	if (w > 8)
		return -1;
	if (!w) {
		memset(out, 0, n);
		*bp = at;
		return 0;
	}
	per = 56 / w;
	while (i < n) {
		x = rice_load(data, len, at);
		for (j = 0; j < per && i < n; j++, i++) {
			out[i] = (uint8_t)(x & ((1u << w) - 1));
			x >>= w;
		}
		at += (uint64_t)j * w;
	}
	*bp = at;
	return 0;
}

furet_rc furet_block_decode(furet_val v, furet_block *b)
{
	reader r = { v.data, v.data + v.len, 0 };
	const unsigned char *data;
	uint32_t i, m, n, first, last, gap[FURET_BLOCK_SIZE];
	uint32_t run[FURET_BLOCK_SIZE];
	uint64_t id, bits, bp = 1, head;
	size_t len;
	int has_runs;

	if (block_head(&r, &n, &first, &last))
		return FURET_CORRUPT;
	data = r.p;
	len = (size_t)(r.end - r.p);
	bits = 8 * (uint64_t)len;
	if (len == 0 || len > RICE_MAX_LEN)
		return FURET_CORRUPT;
	head = rice_load(data, len, 0);
	has_runs = (int)(head & 1);
	m = n;
	if (has_runs) {
		m = (uint32_t)((head >> 1) & 127) + 1;
		bp += 7;
		if (m >= n)
			return FURET_CORRUPT;
	}
	b->n = n;
	if (m > 1) {
		unsigned h = (unsigned)(rice_load(data, len, bp) & 63);
		bp += 6;
		if (bp > bits || ((h & 1) ? eg_run(data, len, &bp, h >> 1, m - 1,
			gap) : rice_run(data, len, &bp, h >> 1, m - 1, gap)))
			return FURET_CORRUPT;
	}
	{
		unsigned k = (unsigned)(rice_load(data, len, bp) & 31);
		bp += 5;
		if (bp > bits || rice_run(data, len, &bp, k, m, b->tf))
			return FURET_CORRUPT;
	}
	for (i = 0; i < m; i++)
		b->tf[i] = tf_swap(b->tf[i]);
	if (packed_run(data, len, &bp, m, b->tf_title) ||
		packed_run(data, len, &bp, m, b->tf_section))
		return FURET_CORRUPT;
	if (!has_runs) {
		/* At most 127 gaps below 2^32 each: id cannot wrap 64 bits,
		** and the sum must land on the head's last id. */
		b->pid[0] = first;
		for (i = 1, id = first; i < n; i++) {
			id += (uint64_t)gap[i - 1] + 1; /* ids strictly increase */
			b->pid[i] = (uint32_t)id;
		}
	} else {
		uint64_t total = 0, at[FURET_BLOCK_SIZE];
		uint32_t l;
		unsigned k = (unsigned)(rice_load(data, len, bp) & 31);
		bp += 5;
		if (bp > bits || rice_run(data, len, &bp, k, m, run))
			return FURET_CORRUPT;
		/* Runs are of postings without body words, and add up to n. */
		for (i = 0, id = first; i < m; i++) {
			if (run[i] && b->tf[i])
				return FURET_CORRUPT;
			total += run[i];
			if (i)
				id += (uint64_t)run[i - 1] + gap[i - 1] + 1;
			at[i] = id;
		}
		if (total != n - m)
			return FURET_CORRUPT;
		id += run[m - 1];
		/* Spread out from the last: posting i goes to l >= i. */
		for (l = n, i = m; i-- > 0;) {
			uint32_t c = run[i] + 1;
			while (c--) {
				l--;
				b->pid[l] = (uint32_t)(at[i] + c);
				b->tf[l] = b->tf[i];
				b->tf_title[l] = b->tf_title[i];
				b->tf_section[l] = b->tf_section[i];
			}
		}
	}
	if (id != last)
		return FURET_CORRUPT;
	/* The bits end in a byte whose rest is 0 bits; the positions follow. */
	if (bp > bits || ((bp & 7) && (data[bp >> 3] >> (bp & 7))))
		return FURET_CORRUPT;
	b->size = (uint32_t)((size_t)(data - v.data) + (size_t)((bp + 7) >> 3));
	return FURET_OK;
}
