/*
** maintain.c — looking after an index: check and compact.
**
** furet_index_check reads everything once: every postings block decodes,
** ids increase, every posting points to an allocated passage, and the live
** ones (passages not removed) add up to each term's df and cf, and over all
** terms to the collection's posting count; the dense arrays have the right
** sizes and agree with the statistics; documents and ids map one to one.
** It never trusts a length it read, and reports the first problems in the
** handle's message.
**
** furet_index_compact drops the postings of removed passages (each term
** that has some gets its blocks rewritten without them, a term with none
** left disappears; committing every furet_store_compact_ckpt bytes, as
** searches skip those postings anyway), then copies the environment with
** LMDB's compaction and renames the copy over the old file. It holds the
** writer lock throughout, so no batch can commit in between.
*/
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "index.h"
#include "store.h"
#include "util.h"

static uint64_t file_size(const char *dir)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

FURET_API furet_rc furet_index_stats(furet_index *ix, furet_stats *out)
{
	furet_txn *t = NULL;
	furet_collection c;
	furet_val v;
	furet_rc rc;

	if (!ix || !out)
		return FURET_INVALID;
	memset(out, 0, sizeof *out);
	if (furet_store_needs_rebuild(ix->store))
		return furet_index_fail(ix, FURET_VERSION, "the index must be "
			"rebuilt first: furet index --rebuild");
	rc = furet_store_begin(ix->store, 0, &t);
	if (rc)
		return furet_index_fail(ix, rc, "cannot read the index");
	rc = furet_store_get_collection(t, &c);
	if (!rc)
		rc = furet_txn_count(t, FURET_T_TERMS, &out->n_terms);
	if (!rc && furet_txn_get(t, FURET_T_META, "analyzer", 8, &v) == FURET_OK) {
		size_t n = v.len < sizeof out->analyzer - 1 ? v.len :
			sizeof out->analyzer - 1;
		memcpy(out->analyzer, v.data, n);
		out->analyzer[n] = '\0';
	}
	if (!rc) {
		out->n_docs = c.n_docs;
		out->n_passages = c.n_live;
		out->n_postings = c.n_postings;
		out->total_length = c.total_length;
		out->text_bytes = c.text_bytes;
		out->n_dead = c.n_passages - c.n_live - c.n_purged;
		out->last_update = c.last_update;
		out->format_version = FURET_FORMAT_VERSION;
		out->file_bytes = file_size(furet_store_dir(ix->store));
	}
	furet_txn_abort(t);
	return rc ? furet_index_fail(ix, rc, "cannot read the statistics") : rc;
}

/* ---- check ------------------------------------------------------------------ */

typedef struct report {
	char msg[480];
	size_t len;
	unsigned n;
} report;

static void problem(report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void problem(report *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->n++ >= 3 || r->len + 4 >= sizeof r->msg)
		return;
	if (r->len)
		r->len += (size_t)snprintf(r->msg + r->len, sizeof r->msg - r->len,
			"; ");
	va_start(ap, fmt);
	n = vsnprintf(r->msg + r->len, sizeof r->msg - r->len, fmt, ap);
	va_end(ap);
	if (n > 0) {
		size_t i, end = r->len + ((size_t)n < sizeof r->msg - r->len ?
			(size_t)n : sizeof r->msg - r->len - 1);
		/* Terms come from a damaged file: the message stays one line. */
		for (i = r->len; i < end; i++)
			if ((unsigned char)r->msg[i] < 0x20 || r->msg[i] == 0x7f)
				r->msg[i] = '?';
		r->len = end;
	}
}

/* Do the positions v hold exactly the body tfs of blk? */
static int positions_fit(furet_val v, const furet_block *blk)
{
	return furet_positions_varints(v, blk, NULL) == FURET_OK;
}

/* The bytes of values check and a purge read through the map before
** they drop its pages from the resident set (furet_store_drop): each
** fault maps the cached pages around it too. Reading every term's blocks
** of the 212 MB corpus's index, 157 MB of it stayed resident. */
#define READ_DROP ((uint64_t)1 << 20)

/* Is passage pid < plen->n removed? -1 when its length is damaged. */
static int is_dead(const furet_lensv *plen, uint32_t pid)
{
	uint32_t len;

	if (furet_lensv_get(plen, pid, &len))
		return -1;
	return len == FURET_DEAD_PASSAGE;
}

/* Checks the postings of one term against its record. */
static furet_rc check_term(furet_txn *t, const furet_val *term,
	const furet_term_rec *tr, const furet_lensv *plen, furet_block *blk,
	unsigned char *key, uint64_t *n_live_postings, uint64_t *n_read,
	report *r)
{
	uint64_t live = 0, cf = 0;
	uint32_t b, i;
	int64_t prev = -1;
	furet_val v;
	furet_rc rc;

	for (b = 0; b < tr->n_blocks; b++) {
		rc = furet_term_block(t, (const char *)term->data, term->len, tr, b,
			key, &v);
		if (rc == FURET_CORRUPT || (!rc && furet_block_decode(v, blk))) {
			problem(r, "term \"%.*s\": block %u is missing or damaged",
				(int)term->len, (const char *)term->data, (unsigned)b);
			return FURET_OK;
		}
		if (rc)
			return rc;
		*n_read += v.len;
		for (i = 0; i < blk->n; i++) {
			if ((int64_t)blk->pid[i] <= prev) {
				problem(r, "term \"%.*s\": passage ids out of order",
					(int)term->len, (const char *)term->data);
				return FURET_OK;
			}
			prev = blk->pid[i];
			if (blk->pid[i] >= plen->n) {
				problem(r, "term \"%.*s\" points to passage %u, which "
					"does not exist", (int)term->len,
					(const char *)term->data, (unsigned)blk->pid[i]);
				return FURET_OK;
			}
			if (!is_dead(plen, blk->pid[i])) {
				live++;
				cf += blk->tf[i];
			}
		}
		if (!positions_fit(furet_block_positions(v, blk), blk)) {
			problem(r, "term \"%.*s\": positions of block %u do not match "
				"its postings", (int)term->len, (const char *)term->data,
				(unsigned)b);
			return FURET_OK;
		}
	}
	if (live != tr->df || cf != tr->cf)
		problem(r, "term \"%.*s\": df %llu and cf %llu recorded, the "
			"postings say %llu and %llu", (int)term->len,
			(const char *)term->data, (unsigned long long)tr->df,
			(unsigned long long)tr->cf, (unsigned long long)live,
			(unsigned long long)cf);
	*n_live_postings += live;
	return FURET_OK;
}

/* Checks every document record: its passages decode, are live and
** belong to it (pdoc), there are as many as live passages and records as
** documents, and its source is in the sources table. */
static furet_rc check_docs(furet_store *s, furet_txn *t,
	const furet_collection *c, const furet_lensv *plen,
	const furet_pdocv *pdoc, report *r)
{
	furet_doc_iter di;
	furet_val v;
	uint64_t n_sources, n_pass = 0, n_docs = 0;
	uint32_t dn;
	furet_rc rc;

	if ((rc = furet_txn_count(t, FURET_T_SOURCES, &n_sources)) ||
		(rc = furet_doc_iter_open(t, &di)))
		return rc;
	while ((rc = furet_doc_iter_next(&di, &dn, &v)) == FURET_OK) {
		furet_doc_rec d;
		furet_passage_rec p;
		furet_pass_iter it;
		if (!(++n_docs & 4095))
			furet_store_drop(s); /* (as READ_DROP) */
		if (furet_doc_rec_decode(v, &d)) {
			problem(r, "a document record is damaged");
			continue;
		}
		if ((rc = furet_doc_rec_names(t, &d)) == FURET_CORRUPT ||
			(!rc && (furet_utf8_valid(d.id, d.id_len) != d.id_len ||
			furet_utf8_valid(d.title, d.title_len) != d.title_len))) {
			problem(r, "document number %u: its id and title are damaged",
				(unsigned)dn);
			continue;
		}
		if (rc)
			break;
		if (d.source > n_sources)
			problem(r, "document %.*s: source %u is not in the sources "
				"table", (int)(d.id_len > 200 ? 200 : d.id_len), d.id,
				(unsigned)d.source);
		furet_pass_iter_init(&it, &d);
		while ((rc = furet_pass_next(&it, &p)) == FURET_OK) {
			uint64_t pid = (uint64_t)d.first_passage + p.number;
			uint32_t doc;
			if (pid >= c->n_passages ||
				furet_pdocv_doc(pdoc, (uint32_t)pid, &doc) || doc != dn ||
				is_dead(plen, (uint32_t)pid))
				break;
		}
		if (rc != FURET_DONE) {
			problem(r, "document %.*s: its passages are damaged or not its "
				"own", (int)(d.id_len > 200 ? 200 : d.id_len), d.id);
			continue;
		}
		n_pass += d.n_passages;
	}
	furet_doc_iter_close(&di);
	if (rc == FURET_CORRUPT) {
		problem(r, "a value of the documents table is damaged");
		return FURET_OK;
	}
	if (rc != FURET_DONE)
		return rc;
	if (n_docs != c->n_docs)
		problem(r, "%llu document records for %llu documents",
			(unsigned long long)n_docs, (unsigned long long)c->n_docs);
	if (n_pass != c->n_live)
		problem(r, "%llu passages in the document records for %llu live "
			"passages", (unsigned long long)n_pass,
			(unsigned long long)c->n_live);
	return FURET_OK;
}

/* What check reads of the dense arrays: the live passages and their
** words (plen), the last entry (pdoc's: its document). */
typedef struct dense_sums {
	uint64_t live, length;
	uint32_t last;
} dense_sums;

static void sum_lens(void *ctx, uint64_t at, const uint32_t *x, size_t m)
{
	dense_sums *s = ctx;
	size_t i;

	(void)at;
	for (i = 0; i < m; i++)
		if (x[i] != FURET_DEAD_PASSAGE) {
			s->live++;
			s->length += x[i];
		}
}

static void last_doc(void *ctx, uint64_t at, const uint32_t *x, size_t m)
{
	dense_sums *s = ctx;

	(void)at;
	s->last = x[m - 1];
}

FURET_API furet_rc furet_index_check(furet_index *ix)
{
	furet_txn *t = NULL;
	furet_cursor *cur = NULL;
	furet_collection c;
	furet_block *blk = NULL;
	furet_val k, v;
	furet_lensv plens;
	furet_pdocv pdocs;
	dense_sums sums;
	unsigned char key[600];
	char pages[300];
	uint64_t n_live_postings = 0, n, n_block_recs = 0, n_read = 0;
	report r;
	furet_rc rc;

	if (!ix)
		return FURET_INVALID;
	memset(&r, 0, sizeof r);
	memset(&plens, 0, sizeof plens);
	memset(&pdocs, 0, sizeof pdocs);
	memset(&sums, 0, sizeof sums);
	if (furet_store_needs_rebuild(ix->store))
		return furet_index_fail(ix, FURET_VERSION, "the index must be "
			"rebuilt first: furet index --rebuild");
	/* LMDB's pages first: the reads below follow them. */
	if ((rc = furet_store_verify(ix->store, pages, sizeof pages)))
		return furet_index_fail(ix, rc, "%s", pages);
	if ((rc = furet_store_begin(ix->store, 0, &t)))
		return furet_index_fail(ix, rc, "cannot read the index");
	if ((rc = furet_store_get_collection(t, &c))) {
		problem(&r, "the collection statistics cannot be read");
		goto done;
	}
	/* Each array checked whole, a chunk at a time in one chunk's memory,
	** then read through views (they were decoded into arrays of 12 bytes
	** a passage: 110 MB at 9.2 million). */
	if ((rc = furet_dense_each(t, "plen", c.n_passages, sum_lens, &sums)) ||
		(rc = furet_dense_each(t, "pdoc", c.n_passages, last_doc, &sums)) ||
		(rc = furet_dense_each(t, "dlen", c.next_doc, NULL, NULL)) ||
		(c.n_passages && sums.last >= c.next_doc) ||
		(rc = furet_lensv_open(t, "plen", c.n_passages, &plens)) ||
		(rc = furet_pdocv_open(t, c.n_passages, &pdocs))) {
		if (rc == FURET_NOMEM)
			goto done;
		rc = FURET_OK;
		problem(&r, "the passage arrays do not match %llu passages and %llu "
			"documents, or are damaged", (unsigned long long)c.n_passages,
			(unsigned long long)c.next_doc);
		goto done;
	}
	if (sums.live != c.n_live || sums.length != c.total_length)
		problem(&r, "%llu live passages of %llu words recorded, the passages "
			"say %llu and %llu", (unsigned long long)c.n_live,
			(unsigned long long)c.total_length,
			(unsigned long long)sums.live, (unsigned long long)sums.length);
	if ((rc = check_docs(ix->store, t, &c, &plens, &pdocs, &r)))
		goto done;
	if ((rc = furet_docid_count(t, &n)) || n != c.n_docs)
		problem(&r, "%llu document ids for %llu documents",
			(unsigned long long)n, (unsigned long long)c.n_docs);

	blk = furet_malloc(sizeof *blk);
	if (!blk) {
		rc = FURET_NOMEM;
		goto done;
	}
	if ((rc = furet_cursor_open(t, FURET_T_TERMS, &cur)))
		goto done;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		furet_term_rec tr;
		if (k.len == 0 || k.len > 511 || furet_term_rec_decode(v, &tr)) {
			problem(&r, "a term record is damaged");
			continue;
		}
		if (tr.n_blocks > 1)
			n_block_recs += tr.n_blocks;
		if ((rc = check_term(t, &k, &tr, &plens, blk, key,
			&n_live_postings, &n_read, &r)))
			break;
		if ((n_read += v.len) >= READ_DROP) {
			furet_store_drop(ix->store);
			n_read = 0;
		}
	}
	furet_cursor_close(cur);
	if (rc != FURET_DONE && rc != FURET_OK)
		goto done;
	/* A term of one block keeps it in its record: the postings table
	** holds the blocks of the others, no more. */
	if ((rc = furet_txn_count(t, FURET_T_POSTINGS, &n)))
		goto done;
	if (n != n_block_recs)
		problem(&r, "%llu postings records for %llu blocks of terms of "
			"several", (unsigned long long)n,
			(unsigned long long)n_block_recs);
	if (n_live_postings != c.n_postings)
		problem(&r, "%llu postings recorded, the terms hold %llu live ones",
			(unsigned long long)c.n_postings,
			(unsigned long long)n_live_postings);
done:
	furet_free(blk);
	furet_lensv_close(&plens);
	furet_pdocv_close(&pdocs);
	furet_txn_abort(t);
	if (rc == FURET_NOMEM)
		return rc;
	if (rc && !r.n)
		problem(&r, "reading the index failed: %s", furet_strerror(rc));
	if (r.n)
		return furet_index_fail(ix, FURET_CORRUPT, "%s%s", r.msg,
			r.n > 3 ? "; and more" : "");
	return FURET_OK;
}

/* ---- compact ------------------------------------------------------------------ */

/* Writes block out and its positions (pos: raw varints) as the record of
** block b. */
static furet_rc put_block(furet_txn *t, furet_block_sink *sink,
	const furet_block *out, const furet_buf *pos, furet_buf *enc,
	const char *term, size_t term_len, uint32_t b, unsigned char *key)
{
	furet_rc rc;

	furet_buf_reset(enc);
	furet_block_encode(out, enc);
	if (enc->has_err || pos->has_err)
		return FURET_NOMEM;
	if ((rc = furet_positions_encode(out, pos->data, pos->len, enc)))
		return rc;
	return furet_block_sink_put(t, sink, term, term_len, b, enc->data,
		enc->len, 0, key);
}

/* Rewrites one term's blocks without the postings of dead passages; tr
** then has their number and, for one block, its record (in sink).
** *is_changed: 0 when it has none, and nothing was written (a purge
** rewrote every term's blocks, the whole postings table). */
static furet_rc purge_term(furet_txn *t, const char *term, size_t term_len,
	furet_term_rec *tr, const furet_lensv *plen, furet_block *in,
	furet_block *out, furet_buf *enc, furet_buf *pos, furet_block_sink *sink,
	unsigned char *key, int *is_changed, uint64_t *n_read)
{
	uint32_t b, i, nb = 0;
	furet_val v;
	furet_rc rc;
	int d = 0;

	*is_changed = 0;
	for (b = 0; b < tr->n_blocks && !d; b++) {
		if ((rc = furet_term_block(t, term, term_len, tr, b, key, &v)) ||
			(rc = furet_block_decode(v, in)))
			return rc;
		*n_read += v.len;
		for (i = 0; i < in->n && !d; i++) {
			/* A damaged block may name a passage past the arrays. */
			if (in->pid[i] >= plen->n ||
				(d = is_dead(plen, in->pid[i])) < 0)
				return FURET_CORRUPT;
		}
	}
	if (!d)
		return FURET_OK;
	*is_changed = 1;
	out->n = 0;
	furet_buf_reset(pos);
	furet_block_sink_reset(sink);
	for (b = 0; b < tr->n_blocks; b++) {
		const unsigned char *p, *end;
		furet_buf old_pos;
		int is_extra;

		if ((rc = furet_term_block(t, term, term_len, tr, b, key, &v)) ||
			(rc = furet_block_decode(v, in)))
			return rc;
		*n_read += v.len;
		v = furet_block_positions(v, in);
		/* Decoded to raw varints (a copy: the puts below may move the
		** pages under v). */
		furet_buf_init(&old_pos);
		if ((rc = furet_positions_varints(v, in, &old_pos))) {
			furet_buf_free(&old_pos);
			return rc;
		}
		p = old_pos.data;
		end = old_pos.data + old_pos.len;
		for (i = 0; i < in->n; i++) {
			const unsigned char *start = p;
			size_t len;
			if (furet_positions_span(p, end, in->tf[i], &len)) {
				furet_buf_free(&old_pos);
				return FURET_CORRUPT;
			}
			p += len;
			/* A damaged block may name a passage past the arrays. */
			if (in->pid[i] >= plen->n || (d = is_dead(plen, in->pid[i])) < 0) {
				furet_buf_free(&old_pos);
				return FURET_CORRUPT;
			}
			if (d)
				continue;
			out->pid[out->n] = in->pid[i];
			out->tf[out->n] = in->tf[i];
			out->tf_title[out->n] = in->tf_title[i];
			out->tf_section[out->n] = in->tf_section[i];
			out->n++;
			furet_buf_append(pos, start, (size_t)(p - start));
			if (out->n == FURET_BLOCK_SIZE) {
				rc = put_block(t, sink, out, pos, enc, term, term_len, nb,
					key);
				if (rc) {
					furet_buf_free(&old_pos);
					return rc;
				}
				nb++;
				out->n = 0;
				furet_buf_reset(pos);
			}
		}
		is_extra = p != end; /* more positions than the block's tfs */
		furet_buf_free(&old_pos);
		if (is_extra)
			return FURET_CORRUPT;
	}
	if (out->n) {
		if ((rc = put_block(t, sink, out, pos, enc, term, term_len, nb,
			key)))
			return rc;
		nb++;
	}
	/* Blocks past the new end go, and block 0 when it is the only one
	** left (kept in the term's record). */
	for (b = nb == 1 ? 0 : nb; b < tr->n_blocks; b++) {
		size_t klen = furet_block_key(key, term, term_len, b);
		if ((rc = furet_txn_del(t, FURET_T_POSTINGS, key, klen)) > FURET_OK &&
			rc != FURET_DONE)
			return rc;
	}
	tr->n_blocks = nb;
	furet_block_sink_end(sink, nb, tr);
	return FURET_OK;
}

/* Drops the entries of a lookup table ("key\0term": folds, words) whose
** term the index no longer has. */
static furet_rc prune_lookups(furet_txn *t, furet_table tab)
{
	furet_cursor *cur = NULL;
	furet_buf gone;
	furet_val k, v;
	size_t at;
	furet_rc rc;

	furet_buf_init(&gone);
	if ((rc = furet_cursor_open(t, tab, &cur)))
		return rc;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		const unsigned char *z = memchr(k.data, 0, k.len);
		furet_val tv;
		furet_rc r2;
		if (!z)
			continue;
		r2 = furet_txn_get(t, FURET_T_TERMS, z + 1,
			k.len - (size_t)(z + 1 - k.data), &tv);
		if (r2 == FURET_DONE) {
			furet_buf_put_varint(&gone, k.len);
			furet_buf_append(&gone, k.data, k.len);
		} else if (r2) {
			rc = r2;
			break;
		}
	}
	furet_cursor_close(cur);
	if (rc != FURET_DONE)
		goto done;
	rc = gone.has_err ? FURET_NOMEM : FURET_OK;
	for (at = 0; !rc && at < gone.len;) {
		uint64_t len;
		size_t m = furet_get_varint(gone.data + at, gone.data + gone.len, &len);
		rc = furet_txn_del(t, tab, gone.data + at + m, len);
		if (rc == FURET_DONE)
			rc = FURET_OK;
		at += m + len;
	}
done:
	furet_buf_free(&gone);
	return rc;
}

size_t furet_purge_commits, furet_purge_fail_after;

/* Every term without its dead postings, committing every
** furet_store_compact_ckpt bytes written: what LMDB holds in memory until
** a commit (the dirty pages) does not grow with the index. A search in
** between sees some terms purged and others not, which it cannot tell
** apart (it skips dead passages); a failure leaves them so, and the next
** compaction purges the rest. */
static furet_rc purge(furet_index *ix)
{
	furet_txn *t = NULL;
	furet_cursor *cur = NULL;
	furet_block *in = furet_malloc(sizeof *in), *out = furet_malloc(sizeof *out);
	furet_buf enc, pos, terms;
	furet_lensv plens;
	furet_block_sink sink;
	furet_collection c;
	uint64_t n_read = 0;
	size_t n_commits = 0;
	furet_val k, v;
	unsigned char key[600];
	size_t at;
	furet_rc rc;

	furet_block_sink_init(&sink);
	furet_buf_init(&enc);
	furet_buf_init(&pos);
	furet_buf_init(&terms);
	memset(&plens, 0, sizeof plens);
	if (!in || !out) {
		rc = FURET_NOMEM;
		goto done;
	}
	if ((rc = furet_store_begin(ix->store, 1, &t)) ||
		(rc = furet_store_get_collection(t, &c)))
		goto done;
	if (c.n_live + c.n_purged == c.n_passages)
		goto done; /* nothing removed since the last purge */
	/* (meta's pages do not move: nothing below writes there) */
	if ((rc = furet_lensv_open(t, "plen", c.n_passages, &plens)))
		goto done;
	/* The term list first: rewriting while a cursor walks would move it. */
	if ((rc = furet_cursor_open(t, FURET_T_TERMS, &cur)))
		goto done;
	for (rc = furet_cursor_seek(cur, "", 0, &k, &v); rc == FURET_OK;
		rc = furet_cursor_next(cur, &k, &v)) {
		furet_buf_put_varint(&terms, k.len);
		furet_buf_append(&terms, k.data, k.len);
	}
	furet_cursor_close(cur);
	if (rc != FURET_DONE)
		goto done;
	if (terms.has_err) {
		rc = FURET_NOMEM;
		goto done;
	}
	for (at = 0; at < terms.len;) {
		uint64_t len;
		size_t m = furet_get_varint(terms.data + at, terms.data + terms.len,
			&len);
		const char *term = (const char *)terms.data + at + m;
		furet_term_rec tr;
		int is_changed;

		at += m + len;
		if (furet_txn_pending(t) >= furet_store_compact_ckpt) {
			furet_lensv_close(&plens);
			rc = furet_txn_commit(t);
			t = NULL;
			furet_purge_commits++;
			if (!rc && ++n_commits == furet_purge_fail_after)
				rc = FURET_IO; /* (tests: a failure in the middle) */
			if (rc || (rc = furet_store_begin(ix->store, 1, &t)) ||
				(rc = furet_lensv_open(t, "plen", c.n_passages, &plens)))
				goto done;
		}
		if (n_read >= READ_DROP) {
			furet_store_drop(ix->store);
			n_read = 0;
		}
		if ((rc = furet_txn_get(t, FURET_T_TERMS, term, len, &v)) ||
			(rc = furet_term_rec_decode(v, &tr)))
			goto done;
		n_read += v.len;
		if ((rc = purge_term(t, term, len, &tr, &plens, in, out, &enc, &pos,
			&sink, key, &is_changed, &n_read)))
			goto done;
		if (!is_changed)
			continue;
		if (tr.n_blocks == 0) {
			rc = furet_txn_del(t, FURET_T_TERMS, term, len);
		} else {
			furet_buf_reset(&enc);
			furet_term_rec_encode(&tr, &enc);
			rc = enc.has_err ? FURET_NOMEM : furet_txn_put(t, FURET_T_TERMS,
				term, len, enc.data, enc.len, 0);
		}
		if (rc && rc != FURET_DONE)
			goto done;
	}
	if ((rc = prune_lookups(t, FURET_T_FOLDS)) ||
		(rc = prune_lookups(t, FURET_T_WORDS)))
		goto done;
	c.n_purged = c.n_passages - c.n_live;
	if ((rc = furet_store_put_collection(t, &c)))
		goto done;
	rc = furet_txn_commit(t);
	t = NULL;
	furet_purge_commits++;
done:
	furet_lensv_close(&plens);
	furet_txn_abort(t);
	furet_free(in);
	furet_free(out);
	furet_buf_free(&enc);
	furet_buf_free(&pos);
	furet_buf_free(&terms);
	furet_block_sink_free(&sink);
	return rc;
}

FURET_API furet_rc furet_index_compact(furet_index *ix, uint64_t *before,
	uint64_t *after)
{
	char err[300];
	furet_rc rc;

	if (before)
		*before = 0;
	if (after)
		*after = 0;
	if (!ix)
		return FURET_INVALID;
	if (furet_store_needs_rebuild(ix->store))
		return furet_index_fail(ix, FURET_VERSION, "the index must be "
			"rebuilt first: furet index --rebuild");
	if ((rc = furet_index_begin_write(ix, 1)))
		return rc;
	if (before)
		*before = file_size(furet_store_dir(ix->store));
	for (;;) {
		rc = purge(ix);
		if (rc != FURET_MAPFULL || furet_store_grow(ix->store))
			break;
	}
	if (rc) {
		furet_index_fail(ix, rc == FURET_MAPFULL ? FURET_IO : rc,
			"compaction failed: %s", furet_strerror(rc));
		rc = rc == FURET_MAPFULL ? FURET_IO : rc;
		goto done;
	}
	if ((rc = furet_store_compact_copy(ix->store, err, sizeof err))) {
		furet_index_fail(ix, rc, "%s", err);
		goto done;
	}
	if (after)
		*after = file_size(furet_store_dir(ix->store));
done:
	furet_index_end_write(ix);
	return rc;
}
