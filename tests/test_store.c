/*
** test_store.c — the LMDB layer and the on-disk format: record codecs round
** trip and refuse damaged bytes, postings blocks, opening errors (no index, a
** foreign LMDB file, a file that is not LMDB, another format version,
** another analyzer), damaged LMDB pages and meta pages, and map growth.
*/
#include "testutil.h"

#include <lmdb.h>

#include "analyzer.h"
#include "store.h"
#include "util.h"

static void test_doc_passage_term_codecs(void **state)
{
	furet_doc_rec d = { .id = "corpus/a.txt", .id_len = 12, .title = "Titre",
		.title_len = 5, .first_passage = 7, .n_passages = 3, .source = 2,
		.hash = { 1, 2, 3, 4, 5, 6, 7, 8 }, .meta = "{\"n\":1}\0x",
		.meta_len = 9 }, d2;
	furet_doc_enc de;
	furet_passage_rec p;
	furet_pass_iter it;
	furet_pass_enc pe;
	furet_term_rec t, t2;
	furet_buf b, pass, secs;
	furet_val v;
	size_t cut;
	(void)state;

	/* Four passages: a section, the same section again (written as "as
	** before"), none, then another; the third starts before the second
	** ends (nothing relies on passages following each other). The
	** sections go with the id and title, each once. */
	furet_buf_init(&pass);
	furet_buf_init(&secs);
	furet_pass_enc_init(&pe);
	furet_pass_enc_add(&pe, 100, 250, "POP School", 10, &pass, &secs);
	furet_pass_enc_add(&pe, 252, 300, "POP School", 10, &pass, &secs);
	furet_pass_enc_add(&pe, 40, 40, NULL, 0, &pass, &secs);
	furet_pass_enc_add(&pe, 300, 310, "Lille", 5, &pass, &secs);
	assert_false(pass.has_err);
	assert_int_equal(secs.len, 15);
	assert_int_equal(pe.sections_len, 15);
	assert_memory_equal(secs.data, "POP SchoolLille", 15);
	d.pass = pass.data;
	d.pass_len = pass.len;
	d.n_passages = 4;
	d.sections = (const char *)secs.data;
	d.sections_len = secs.len;

	furet_buf_init(&b);
	furet_doc_enc_init(&de, NULL);
	furet_doc_rec_encode(&de, &d, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_null(d2.id);
	assert_int_equal(furet_doc_names_decode(NULL, &d2, NULL), FURET_OK);
	assert_int_equal(d2.id_len, 12);
	assert_memory_equal(d2.id, "corpus/a.txt", 12);
	assert_memory_equal(d2.title, "Titre", 5);
	assert_int_equal(d2.first_passage, 7);
	assert_int_equal(d2.n_passages, 4);
	assert_int_equal(d2.sections_len, 15);
	assert_memory_equal(d2.sections, "POP SchoolLille", 15);
	assert_int_equal(d2.source, 2);
	assert_memory_equal(d2.hash, d.hash, FURET_HASH_LEN);
	assert_int_equal(d2.meta_len, 9);
	assert_memory_equal(d2.meta, "{\"n\":1}\0x", 9);
	assert_int_equal(d2.pass_len, pass.len);
	furet_pass_iter_init(&it, &d2);
	assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
	assert_int_equal(p.number, 0);
	assert_int_equal(p.start, 100);
	assert_int_equal(p.end, 250);
	assert_int_equal(p.section_len, 10);
	assert_memory_equal(p.section, "POP School", 10);
	assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
	assert_int_equal(p.start, 252);
	assert_int_equal(p.end, 300);
	assert_memory_equal(p.section, "POP School", 10);
	assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
	assert_int_equal(p.number, 2);
	assert_int_equal(p.start, 40);
	assert_int_equal(p.end, 40);
	assert_null(p.section);
	assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
	assert_int_equal(p.section_len, 5);
	assert_memory_equal(p.section, "Lille", 5);
	assert_int_equal(furet_pass_next(&it, &p), FURET_DONE);
	assert_int_equal(furet_doc_passage(&d2, 1, &p), FURET_OK);
	assert_int_equal(p.start, 252);
	assert_int_equal(furet_doc_passage(&d2, 4, &p), FURET_CORRUPT);
	/* A record whose names were not decoded has no sections to give;
	** sections longer or shorter than the passages say are damage. */
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	furet_pass_iter_init(&it, &d2);
	assert_int_equal(furet_pass_next(&it, &p), FURET_CORRUPT);
	assert_int_equal(furet_doc_names_decode(NULL, &d2, NULL), FURET_OK);
	d2.sections_len = 14;
	furet_pass_iter_init(&it, &d2);
	while ((cut = furet_pass_next(&it, &p)) == FURET_OK)
		;
	assert_int_equal(cut, FURET_CORRUPT);
	d2.sections_len = 16;
	furet_pass_iter_init(&it, &d2);
	while ((cut = furet_pass_next(&it, &p)) == FURET_OK)
		;
	assert_int_equal(cut, FURET_CORRUPT);

	/* Every truncation is detected: by the record, or by its passages;
	** and so is a byte too many after the last passage. */
	for (cut = 0; cut < b.len; cut++) {
		furet_rc rc;
		v.len = cut;
		if (furet_doc_rec_decode(v, &d2) == FURET_CORRUPT ||
			furet_doc_names_decode(NULL, &d2, NULL) == FURET_CORRUPT)
			continue;
		furet_pass_iter_init(&it, &d2);
		while ((rc = furet_pass_next(&it, &p)) == FURET_OK)
			;
		assert_int_equal(rc, FURET_CORRUPT);
	}
	furet_buf_putc(&b, 0);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_int_equal(furet_doc_names_decode(NULL, &d2, NULL), FURET_OK);
	furet_pass_iter_init(&it, &d2);
	while (furet_pass_next(&it, &p) == FURET_OK)
		;
	assert_int_equal(furet_pass_next(&it, &p), FURET_CORRUPT);
	/* More passages than the bytes could hold: refused at once. */
	d.n_passages = 1000;
	furet_buf_reset(&b);
	furet_doc_rec_encode(&de, &d, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_CORRUPT);
	d.n_passages = 4;

	/* No metadata, no passages; metadata over FURET_META_MAX is damage. */
	d.meta = NULL;
	d.meta_len = 0;
	d.n_passages = 0;
	d.pass_len = 0;
	d.sections_len = 0;
	furet_buf_reset(&b);
	furet_doc_rec_encode(&de, &d, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_int_equal(d2.meta_len, 0);
	furet_pass_iter_init(&it, &d2);
	assert_int_equal(furet_pass_next(&it, &p), FURET_DONE);
	furet_buf_reset(&b);
	furet_doc_rec_encode(&de, &d, &b);
	b.len--; /* the zero length of the metadata */
	furet_buf_put_varint(&b, FURET_META_MAX + 1);
	{
		size_t i;
		for (i = 0; i <= FURET_META_MAX; i++)
			furet_buf_putc(&b, 'x');
	}
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_CORRUPT);

	/* Damaged passages: "same section" first, and a start before 0. */
	{
		static const unsigned char same_first[] = { 1, 4 },
			before_zero[] = { 6, 4, 9, 1 };
		d2.n_passages = 1;
		d2.pass = same_first;
		d2.pass_len = sizeof same_first;
		furet_pass_iter_init(&it, &d2);
		assert_int_equal(furet_pass_next(&it, &p), FURET_CORRUPT);
		/* After a first passage 1..5, a gap of -2 (zigzag 3, 3 x 3 + no
		** section) is fine, and one of -6 (zigzag 11) would start before
		** 0. */
		d2.n_passages = 2;
		d2.pass = before_zero;
		d2.pass_len = sizeof before_zero;
		furet_pass_iter_init(&it, &d2);
		assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
		assert_int_equal(p.start, 1);
		assert_int_equal(p.end, 5);
		assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
		assert_int_equal(p.start, 3);
		{
			unsigned char bad[sizeof before_zero];
			memcpy(bad, before_zero, sizeof bad);
			bad[2] = 33; /* -6 from 5 */
			d2.pass = bad;
			furet_pass_iter_init(&it, &d2);
			assert_int_equal(furet_pass_next(&it, &p), FURET_OK);
			assert_int_equal(furet_pass_next(&it, &p), FURET_CORRUPT);
		}
	}

	memset(&t, 0, sizeof t);
	t.df = 1234567;
	t.cf = 9876543210ull;
	t.n_blocks = 77;
	furet_buf_reset(&b);
	furet_term_rec_encode(&t, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_OK);
	assert_int_equal(t2.df, 1234567);
	assert_true(t2.cf == 9876543210ull);
	assert_int_equal(t2.n_blocks, 77);
	assert_int_equal(t2.bound.n, 0);
	assert_int_equal(t2.dbound.n, 0);
	/* with bounds; then every truncation, and a fifth point, are refused */
	furet_term_bound_add(&t.bound, 3, 40, 2, 1);
	furet_term_bound_add(&t.bound, 1, 5, 0, 0);
	furet_term_bound_add(&t.dbound, 7, 300, 0, 0);
	furet_buf_reset(&b);
	furet_term_rec_encode(&t, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_OK);
	assert_int_equal(t2.bound.n, 2);
	assert_int_equal(t2.bound.tf[0], 1);
	assert_int_equal(t2.bound.len[0], 5);
	assert_int_equal(t2.bound.tf[1], 3);
	assert_int_equal(t2.bound.len[1], 40);
	assert_int_equal(t2.bound.tt, 2);
	assert_int_equal(t2.bound.ts, 1);
	assert_int_equal(t2.dbound.n, 1);
	assert_int_equal(t2.dbound.tf[0], 7);
	assert_int_equal(t2.dbound.len[0], 300);
	for (v.len = 0; v.len < b.len; v.len++)
		assert_int_equal(furet_term_rec_decode(v, &t2), FURET_CORRUPT);
	/* A term of one block keeps its record, and only such a term. */
	t.n_blocks = 1;
	t.inl = (const unsigned char *)"\x01\x02\x03";
	t.inl_len = 3;
	furet_buf_reset(&b);
	furet_term_rec_encode(&t, &b);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_OK);
	assert_int_equal(t2.inl_len, 3);
	assert_memory_equal(t2.inl, "\x01\x02\x03", 3);
	assert_int_equal(t2.dbound.n, 1);
	v.len = b.len - 3;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_CORRUPT);
	t.n_blocks = 2; /* not written for two blocks: bytes after are damage */
	furet_buf_reset(&b);
	furet_term_rec_encode(&t, &b);
	furet_buf_append(&b, "\x01", 1);
	v.data = b.data;
	v.len = b.len;
	assert_int_equal(furet_term_rec_decode(v, &t2), FURET_CORRUPT);
	t.inl = NULL;
	t.inl_len = 0;
	{
		unsigned char big[64];
		size_t n = 0, k;
		big[n++] = 1; big[n++] = 1; big[n++] = 1; /* df, cf, n_blocks */
		big[n++] = FURET_FRONT_MAX + 1;
		for (k = 0; k <= FURET_FRONT_MAX; k++) {
			big[n++] = (unsigned char)(k + 1);
			big[n++] = (unsigned char)(k + 1);
		}
		big[n++] = 0; big[n++] = 0; big[n++] = 0;
		v.data = big;
		v.len = n;
		assert_int_equal(furet_term_rec_decode(v, &t2), FURET_CORRUPT);
	}
	furet_pass_enc_free(&pe);
	furet_buf_free(&pass);
	furet_buf_free(&secs);
	furet_doc_enc_free(&de);
	furet_buf_free(&b);
}

/* A term's bound bounds every posting added to it: for each, a point with
** as many occurrences or more in a passage as short or shorter; at most
** FURET_FRONT_MAX points, both coordinates increasing. */
static void test_term_bound(void **state)
{
	uint32_t seed = 7, trial;
	(void)state;

	for (trial = 0; trial < 20000; trial++) {
		furet_term_bound b;
		uint32_t tf[40], len[40], n, i, j, tt = 0;
		memset(&b, 0, sizeof b);
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 40;
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			tf[i] = (seed >> 16) % 7; /* 0: a title-only posting */
			seed = seed * 1103515245u + 12345u;
			len[i] = (seed >> 16) % 200;
			furet_term_bound_add(&b, tf[i], len[i], i % 5, 0);
			if (i % 5 > tt)
				tt = i % 5;
		}
		assert_true(b.n <= FURET_FRONT_MAX);
		assert_int_equal(b.tt, tt);
		for (j = 1; j < b.n; j++) {
			assert_true(b.tf[j] > b.tf[j - 1]);
			assert_true(b.len[j] > b.len[j - 1]);
		}
		for (i = 0; i < n; i++) {
			int is_bounded = tf[i] == 0;
			for (j = 0; j < b.n; j++)
				if (b.tf[j] >= tf[i] && b.len[j] <= len[i])
					is_bounded = 1;
			assert_true(is_bounded);
		}
	}
}

static void test_block_codec(void **state)
{
	furet_block *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
	furet_buf buf;
	furet_val v;
	uint32_t i;
	(void)state;

	b->n = FURET_BLOCK_SIZE;
	for (i = 0; i < b->n; i++) {
		b->pid[i] = 1000 + i * i * 37;
		b->tf[i] = i % 5;
		b->tf_title[i] = (uint8_t)(i % 2);
		b->tf_section[i] = (uint8_t)(i % 3 == 0);
	}
	furet_buf_init(&buf);
	furet_block_encode(b, &buf);
	v.data = buf.data;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);
	assert_int_equal(c->n, b->n);
	assert_memory_equal(c->pid, b->pid, sizeof b->pid);
	assert_memory_equal(c->tf, b->tf, sizeof b->tf);
	assert_memory_equal(c->tf_title, b->tf_title, sizeof b->tf_title);
	assert_memory_equal(c->tf_section, b->tf_section, sizeof b->tf_section);
	/* Truncated, and a count above the block size, are corrupt. */
	v.len = buf.len - 1;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	buf.data[0] = 0xff;
	buf.data[1] = 0x01;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	v.len = 0;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	/* A delta of 2^64 - 1 would wrap round to id 4, below the first
	** (fuzz_block): ids must strictly increase. */
	{
		static const unsigned char wrap[] = { 2, 5, 0xff, 0xff, 0xff, 0xff,
			0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1, 1, 0, 0, 0, 0 };
		v.data = wrap;
		v.len = sizeof wrap;
		assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	}
	furet_buf_free(&buf);
	free(b);
	free(c);
}

/* Decodes v (copied to a buffer of exactly its length, so ASan sees any
** read past it) with block b into pos (room for 8 * len). */
static furet_rc decode_exact(const unsigned char *p, size_t len,
	const furet_block *b, uint32_t *pos, uint32_t *off)
{
	unsigned char *copy = malloc(len ? len : 1);
	furet_val v = { copy, len };
	furet_rc rc;

	memcpy(copy, p, len);
	rc = furet_positions_decode(v, b, pos, off);
	if (rc == FURET_OK)
		assert_int_equal(furet_positions_varints(v, b, NULL), FURET_OK);
	else
		assert_int_equal(furet_positions_varints(v, b, NULL), rc);
	free(copy);
	return rc;
}

/* A positions record is the block's body tfs' worth of Rice-coded deltas:
** no count of its own, so anything more or less than the tfs say is
** damage. Raw varints (runs, compaction) go in and come back out. */
static void test_positions_codec(void **state)
{
	furet_block *b = calloc(1, sizeof *b);
	uint32_t pos[8 * 16], off[4];
	furet_buf raw, rec, back;
	furet_val v;
	size_t len, cut;
	int bit;
	(void)state;

	/* Three postings: positions {3, 131}, none (title only), {0}. */
	b->n = 3;
	b->tf[0] = 2;
	b->tf[1] = 0;
	b->tf[2] = 1;
	furet_buf_init(&raw);
	furet_buf_init(&rec);
	furet_buf_init(&back);
	furet_buf_put_varint(&raw, 3);
	furet_buf_put_varint(&raw, 128); /* two bytes */
	furet_buf_put_varint(&raw, 0);
	assert_int_equal(raw.len, 4);
	assert_int_equal(furet_positions_span(raw.data, raw.data + raw.len, 2,
		&len), FURET_OK);
	assert_int_equal(len, 3);
	assert_int_equal(furet_positions_span(raw.data, raw.data + raw.len, 0,
		&len), FURET_OK);
	assert_int_equal(len, 0);
	assert_int_equal(furet_positions_span(raw.data, raw.data + raw.len, 4,
		&len), FURET_CORRUPT);
	assert_int_equal(furet_positions_encode(b, raw.data, raw.len, &rec),
		FURET_OK);
	/* mean 131 / 3 = 43: k = 5 (5 bits); 3 + 128 + 0 take 6 + 10 + 6 bits */
	assert_int_equal(rec.len, 4);
	assert_int_equal(rec.data[0] & 31, 5);
	assert_int_equal(decode_exact(rec.data, rec.len, b, pos, off), FURET_OK);
	assert_int_equal(off[0], 0);
	assert_int_equal(off[1], 2);
	assert_int_equal(off[2], 2);
	assert_int_equal(off[3], 3);
	assert_int_equal(pos[0], 3);
	assert_int_equal(pos[1], 131);
	assert_int_equal(pos[2], 0);
	v.data = rec.data;
	v.len = rec.len;
	assert_int_equal(furet_positions_varints(v, b, &back), FURET_OK);
	assert_int_equal(back.len, raw.len);
	assert_memory_equal(back.data, raw.data, raw.len);
	/* Every truncation, a byte too many, a padding bit set and a unary
	** part that never ends are detected. */
	for (cut = 0; cut < rec.len; cut++)
		assert_int_equal(decode_exact(rec.data, cut, b, pos, off),
			FURET_CORRUPT);
	furet_buf_putc(&rec, 0);
	assert_int_equal(decode_exact(rec.data, rec.len, b, pos, off),
		FURET_CORRUPT);
	rec.len--;
	rec.data[rec.len - 1] |= 0x80; /* 27 bits used of 32 */
	assert_int_equal(decode_exact(rec.data, rec.len, b, pos, off),
		FURET_CORRUPT);
	memset(rec.data, 0, rec.len);
	assert_int_equal(decode_exact(rec.data, rec.len, b, pos, off),
		FURET_CORRUPT);
	/* Raw deltas that are not exactly the tfs' worth are refused. */
	furet_buf_reset(&rec);
	assert_int_equal(furet_positions_encode(b, raw.data, raw.len - 1, &rec),
		FURET_CORRUPT);
	furet_buf_putc(&raw, 0);
	assert_int_equal(furet_positions_encode(b, raw.data, raw.len, &rec),
		FURET_CORRUPT);
	/* A block without body positions has an empty record, and only that. */
	b->tf[0] = b->tf[2] = 0;
	furet_buf_reset(&rec);
	assert_int_equal(furet_positions_encode(b, NULL, 0, &rec), FURET_OK);
	assert_int_equal(rec.len, 0);
	assert_int_equal(decode_exact(rec.data, 0, b, pos, off), FURET_OK);
	assert_int_equal(off[3], 0);
	assert_int_equal(decode_exact((const unsigned char *)"\0", 1, b, pos,
		off), FURET_CORRUPT);
	/* Positions past 2^32 - 1 cannot be, in raw deltas or in a record:
	** k = 31, 2^31 + 2^31 (q = 1, low 0, then q = 1, low 0). */
	b->n = 1;
	b->tf[0] = 2;
	furet_buf_reset(&raw);
	furet_buf_put_varint(&raw, UINT32_MAX);
	furet_buf_put_varint(&raw, 1);
	assert_int_equal(furet_positions_encode(b, raw.data, raw.len, &rec),
		FURET_CORRUPT);
	{
		/* k = 31, then q = 1 (bits 0 1) and 31 zero bits: 33 bits each */
		static const unsigned char one[] = { 0x5f, 0, 0, 0, 0 },
			two[] = { 0x5f, 0, 0, 0, 0x80, 0, 0, 0, 0 };
		b->tf[0] = 1;
		assert_int_equal(decode_exact(one, sizeof one, b, pos, off),
			FURET_OK);
		assert_int_equal(pos[0], 1u << 31);
		b->tf[0] = 2;
		assert_int_equal(decode_exact(two, sizeof two, b, pos, off),
			FURET_CORRUPT);
		/* Each posting's positions start from 0 again. */
		b->n = 2;
		b->tf[0] = b->tf[1] = 1;
		assert_int_equal(decode_exact(two, sizeof two, b, pos, off),
			FURET_OK);
		assert_int_equal(pos[1], 1u << 31);
		b->n = 1;
	}
	/* A varint longer than 5 bytes is no position delta. */
	{
		static const unsigned char longv[] = { 0x80, 0x80, 0x80, 0x80, 0x80,
			0x01 };
		assert_int_equal(furet_positions_span(longv, longv + sizeof longv, 1,
			&len), FURET_CORRUPT);
	}
	/* Flipping any one bit of a record never reads out of bounds. */
	b->tf[0] = 1;
	b->n = 3;
	b->tf[1] = 2;
	b->tf[2] = 1;
	furet_buf_reset(&raw);
	furet_buf_put_varint(&raw, 7);
	furet_buf_put_varint(&raw, 0);
	furet_buf_put_varint(&raw, 70);
	furet_buf_put_varint(&raw, 2);
	furet_buf_reset(&rec);
	assert_int_equal(furet_positions_encode(b, raw.data, raw.len, &rec),
		FURET_OK);
	for (bit = 0; bit < (int)rec.len * 8; bit++) {
		furet_rc rc;
		rec.data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		rc = decode_exact(rec.data, rec.len, b, pos, off);
		assert_true(rc == FURET_OK || rc == FURET_CORRUPT);
		rec.data[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	furet_buf_free(&raw);
	furet_buf_free(&rec);
	furet_buf_free(&back);
	free(b);
}

/* Random blocks: small and geometric deltas, long runs of zeros, rare huge
** ones (unary parts of thousands of bits), tfs from 0 to hundreds, so
** that every path of the bit reader is taken (a whole word loaded, the
** last bytes one at a time, a unary part across loads). */
static void test_positions_random(void **state)
{
	furet_block *b = calloc(1, sizeof *b);
	/* 128 postings of 400 deltas of 17 bits at most (k = 16, q = 0) */
	uint32_t *pos = malloc(8 * 120000 * sizeof *pos), *want = malloc(70000 *
		sizeof *want), off[FURET_BLOCK_SIZE + 1];
	uint64_t seed = 12345;
	furet_buf raw, rec, back;
	int round;
	(void)state;

	furet_buf_init(&raw);
	furet_buf_init(&rec);
	furet_buf_init(&back);
	for (round = 0; round < 3000; round++) {
		uint32_t i, j, n = 0, shape;
		furet_val v;
#define RND() (seed = seed * 6364136223846793005ull + 1442695040888963407ull, \
	(uint32_t)(seed >> 33))
		shape = RND() % 4;
		b->n = 1 + RND() % FURET_BLOCK_SIZE;
		furet_buf_reset(&raw);
		for (i = 0; i < b->n; i++) {
			uint32_t at = 0;
			b->tf[i] = RND() % 3 == 0 ? 0 : RND() % (shape == 3 ? 400 : 5);
			for (j = 0; j < b->tf[i]; j++) {
				uint32_t d = shape == 0 ? RND() % 3 : shape == 1 ?
					RND() % 200 : RND() % 1000 ? RND() % 20 :
					RND() % 100000;
				if (d > UINT32_MAX - at)
					d = 0;
				at += d;
				want[n++] = at;
				furet_buf_put_varint(&raw, d);
			}
		}
		furet_buf_reset(&rec);
		assert_int_equal(furet_positions_encode(b, raw.data, raw.len, &rec),
			FURET_OK);
		assert_int_equal(decode_exact(rec.data, rec.len, b, pos, off),
			FURET_OK);
		assert_int_equal(off[b->n], n);
		if (n)
			assert_memory_equal(pos, want, n * sizeof *pos);
		v.data = rec.data;
		v.len = rec.len;
		furet_buf_reset(&back);
		assert_int_equal(furet_positions_varints(v, b, &back), FURET_OK);
		assert_int_equal(back.len, raw.len);
		if (raw.len)
			assert_memory_equal(back.data, raw.data, raw.len);
		if (rec.len)
			assert_int_equal(decode_exact(rec.data, rec.len - 1, b, pos,
				off), FURET_CORRUPT);
#undef RND
	}
	furet_buf_free(&raw);
	furet_buf_free(&rec);
	furet_buf_free(&back);
	free(pos);
	free(want);
	free(b);
}

/* Decodes exactly len bytes (copied, so ASan sees a read past them). */
static furet_rc block_decode_exact(const unsigned char *p, size_t len,
	furet_block *b)
{
	unsigned char *copy = malloc(len ? len : 1);
	furet_val v;
	furet_rc rc;

	memcpy(copy, p, len);
	v.data = copy;
	v.len = len;
	rc = furet_block_decode(v, b);
	free(copy);
	return rc;
}

/* Blocks of every size and shape round trip: gaps from dense to 2^32
** apart, body tfs mostly 1 and 0 or up to 2^32 - 1 (codes longer than a
** load), title and section tfs of every width, runs of postings found
** only in the title of a document's passages. A block of geometric gaps
** takes the space of its Rice codes, about log2(mean) + 1.5 bits a gap,
** not that of its largest gap. Truncated records and flipped bits decode
** to damage or to a block that agrees with its head, never past the
** record. */
static void test_block_random(void **state)
{
	furet_block *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
	uint64_t seed = 777;
	furet_buf buf;
	int round;
	(void)state;

#define RND() (seed = seed * 6364136223846793005ull + 1442695040888963407ull, \
	(uint32_t)(seed >> 33))
	furet_buf_init(&buf);
	for (round = 0; round < 4000; round++) {
		uint32_t i, shape = RND() % 6, id = RND() % 1000, doc_left = 0;
		uint8_t doc_tt = 0;
		size_t cut;
		b->n = 1 + RND() % FURET_BLOCK_SIZE;
		for (i = 0; i < b->n; i++) {
			uint32_t gap = 0;
			if (shape == 1) /* geometric, of mean 99 */
				while (RND() % 100)
					gap++;
			else
				gap = shape == 0 ? RND() % 3 : shape == 2 ? (RND() % 100 ? RND() % 50 :
				RND() % 1000000) : RND() % 8;
			if (shape == 4 && i == b->n - 1)
				gap = UINT32_MAX - id - b->n;
			b->pid[i] = id = i ? id + gap + 1 : id;
			b->tf[i] = RND() % 4 == 0 ? 0 : shape == 3 ? RND() % 100 :
				RND() % 10 ? 1 : RND() % 7;
			if (shape == 4 && i == 0)
				b->tf[0] = RND() % 2 ? UINT32_MAX : 1u << 30;
			b->tf_title[i] = (uint8_t)(RND() % (1 + round % 9 * 32));
			b->tf_section[i] = (uint8_t)(RND() % 3 ? 0 : RND() % 256);
			if (shape == 5) {
				/* The passages of documents whose title has the
				** word (1 to 12 each), a few with it in their body
				** too: runs. */
				if (i == 0 || !doc_left) {
					doc_left = 1 + RND() % 12;
					doc_tt = (uint8_t)(1 + RND() % 2);
					b->pid[i] = id = i ? b->pid[i - 1] + 2 +
						RND() % 30 : b->pid[0];
				} else {
					b->pid[i] = id = b->pid[i - 1] + 1;
				}
				doc_left--;
				b->tf[i] = RND() % 10 ? 0 : 1 + RND() % 3;
				b->tf_title[i] = doc_tt;
				b->tf_section[i] = 0;
			}
		}
		furet_buf_reset(&buf);
		furet_block_encode(b, &buf);
		assert_false(buf.has_err);
		memset(c, 0xee, sizeof *c);
		assert_int_equal(block_decode_exact(buf.data, buf.len, c), FURET_OK);
		assert_int_equal(c->n, b->n);
		assert_memory_equal(c->pid, b->pid, b->n * sizeof *b->pid);
		assert_memory_equal(c->tf, b->tf, b->n * sizeof *b->tf);
		assert_memory_equal(c->tf_title, b->tf_title, b->n);
		assert_memory_equal(c->tf_section, b->tf_section, b->n);
		if (shape == 5 && b->n == FURET_BLOCK_SIZE)
			/* About 64 bytes; posting by posting, about 115 (3.3 bits
			** of gap, 2 of body tf, 2 of title tf). */
			assert_true(buf.len < 80);
		if (shape == 1 && b->n > 100) {
			/* Smaller than format 11's arrays of one width each (the
			** largest gap of a hundred takes 9 bits, the gaps' Rice
			** codes about 8.1). */
			uint32_t wg = 0, wf = 0, wt = 0, ws = 0;
			for (i = 0; i < b->n; i++) {
				uint32_t g = i ? b->pid[i] - b->pid[i - 1] - 1 : 0;
				while (g >> wg)
					wg++;
				while (b->tf[i] >> wf)
					wf++;
				while (b->tf_title[i] >> wt)
					wt++;
				while (b->tf_section[i] >> ws)
					ws++;
			}
			furet_buf head;
			furet_buf_init(&head);
			furet_buf_put_varint(&head, b->n);
			furet_buf_put_varint(&head, b->pid[0]);
			furet_buf_put_varint(&head, b->pid[b->n - 1] - b->pid[0]);
			assert_true(buf.len < head.len + 4 + ((b->n - 1) * wg + 7) /
				8 + (b->n * wf + 7) / 8 + (b->n * wt + 7) / 8 +
				(b->n * ws + 7) / 8);
			furet_buf_free(&head);
		}
		for (cut = 0; cut < buf.len; cut++)
			assert_int_equal(block_decode_exact(buf.data, cut, c),
				FURET_CORRUPT);
		for (i = 0; i < 8; i++) {
			size_t at = RND() % buf.len;
			uint32_t first, last;
			buf.data[at] ^= (unsigned char)(1u << (RND() % 8));
			if (block_decode_exact(buf.data, buf.len, c) == FURET_OK) {
				furet_val v = { buf.data, buf.len };
				assert_int_equal(furet_block_span(v, &first, &last),
					FURET_OK);
				assert_int_equal(c->pid[0], first);
				assert_int_equal(c->pid[c->n - 1], last);
			}
		}
	}
#undef RND
	furet_buf_free(&buf);
	free(b);
	free(c);
}

/* Compares two keys as LMDB does by default. */
static int key_cmp(const unsigned char *a, size_t a_len,
	const unsigned char *b, size_t b_len)
{
	int c = memcmp(a, b, a_len < b_len ? a_len : b_len);
	return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* Block keys sort by term, then by block number, whatever the length of
** the number (1 byte below 128, 4 at most). */
static void test_block_key(void **state)
{
	static const uint32_t blocks[] = { 0, 1, 127, 128, 255, 256, 16383,
		16384, 65536, 0x1fffff, 0x200000, 0xfffffff, 0x10000000, UINT32_MAX };
	static const size_t lens[] = { 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 4,
		4 };
	unsigned char a[16], b[16];
	size_t i, a_len, b_len;
	(void)state;

	for (i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
		a_len = furet_block_key(a, "ab", 2, blocks[i]);
		assert_int_equal(a_len, 3 + lens[i]);
		assert_int_equal(a[2], 0);
		if (i) {
			b_len = furet_block_key(b, "ab", 2, blocks[i - 1]);
			/* Past 2^28 - 1, the same key, that nothing is put under. */
			assert_true(key_cmp(b, b_len, a, a_len) < (blocks[i] >=
				0x10000000 && blocks[i - 1] >= 0x10000000 ? 1 : 0));
		}
		b_len = furet_block_key(b, "abc", 3, 0);
		assert_true(key_cmp(a, a_len, b, b_len) < 0);
		b_len = furet_block_key(b, "a", 1, UINT32_MAX);
		assert_true(key_cmp(b, b_len, a, a_len) < 0);
	}
}

static void test_varint_edges(void **state)
{
	furet_buf b;
	uint64_t v = 0, vals[] = { 0, 1, 127, 128, 16383, 16384, UINT32_MAX,
		UINT64_MAX };
	const unsigned char over[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0x7f };
	size_t i, at = 0, n;
	(void)state;

	furet_buf_init(&b);
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++)
		furet_buf_put_varint(&b, vals[i]);
	for (i = 0; i < sizeof vals / sizeof vals[0]; i++) {
		n = furet_get_varint(b.data + at, b.data + b.len, &v);
		assert_true(n > 0);
		assert_true(v == vals[i]);
		at += n;
	}
	assert_int_equal(at, b.len);
	assert_int_equal(furet_get_varint(over, over + sizeof over, &v), 0);
	assert_int_equal(furet_get_varint(over, over + 3, &v), 0);
	furet_buf_free(&b);
}

static void test_open_errors(void **state)
{
	char *dir = tu_mkdtemp();
	char path[4200], err[512];
	furet_store *s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	(void)state;

	/* No index there, and creation not asked. */
	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_NOINDEX);
	assert_null(s);
	assert_non_null(strstr(err, "furet index"));

	/* A file that is not LMDB. */
	snprintf(path, sizeof path, "%s/junk", dir);
	mkdir(path, 0777);
	assert_int_equal(tu_write(path, "data.mdb", "hello, not a database\n", 22),
		0);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_CORRUPT);
	assert_null(s);

	/* Another program's LMDB environment. */
	snprintf(path, sizeof path, "%s/foreign", dir);
	mkdir(path, 0777);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, path, 0, 0666), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	k.mv_data = "user:1";
	k.mv_size = 6;
	v.mv_data = "alice";
	v.mv_size = 5;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(furet_store_open(path, 0, &s, err, sizeof err),
		FURET_CORRUPT);
	assert_non_null(strstr(err, "not a furet index"));
	assert_null(s);

	tu_rmtree(dir);
	free(dir);
}

static void test_version_and_analyzer_checks(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	unsigned char ver[4];
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	furet_put_u32be(ver, FURET_FORMAT_VERSION + 1);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "format", 6, ver, 4, 0),
		FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	s = NULL;
	assert_int_equal(furet_store_open(dir, 0, &s, err, sizeof err),
		FURET_VERSION);
	assert_non_null(strstr(err, "--rebuild"));
	assert_null(s);

	/* Right version, other analyzer. */
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_VERSION);
	tu_rmtree(dir);
	mkdir(dir, 0777);
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "analyzer", 8, "other/9",
		7, 0), FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	s = NULL;
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_VERSION);
	assert_non_null(strstr(err, "other/9"));
	tu_rmtree(dir);
	free(dir);
}

/* Values round trip through a transaction; an aborted one leaves nothing;
** cursors walk keys in order from a seek point. */
/* Blocks of one posting, of ids far apart, of all-zero field counts; the
** head alone gives the first and last ids; a head that disagrees with the
** gaps is corrupt; the positions follow the block. */
static void test_block_codec_edges(void **state)
{
	furet_block *b = calloc(1, sizeof *b), *c = calloc(1, sizeof *c);
	furet_buf buf;
	furet_val v;
	uint32_t first, last, i;
	(void)state;

	furet_buf_init(&buf);
	b->n = 1;
	b->pid[0] = 7;
	b->tf[0] = 3;
	furet_block_encode(b, &buf);
	v.data = buf.data;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);
	assert_int_equal(c->n, 1);
	assert_int_equal(c->pid[0], 7);
	assert_int_equal(c->tf[0], 3);
	assert_int_equal(furet_block_span(v, &first, &last), FURET_OK);
	assert_int_equal(first, 7);
	assert_int_equal(last, 7);
	/* Its stream: a flag, 5 bits of k, the tf's code (k 1: 3 bits), two
	** widths of 4 bits: 17 bits, so the last byte's top 7 bits pad it and
	** must be 0. */
	assert_int_equal(buf.len, 3 + 3);
	buf.data[buf.len - 1] |= 0x80;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	buf.data[buf.len - 1] &= 0x7f;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);

	b->n = 3;
	b->pid[0] = 0;
	b->pid[1] = 1;
	b->pid[2] = UINT32_MAX;
	b->tf[0] = b->tf[1] = b->tf[2] = 0;
	b->tf_title[2] = 255;
	furet_buf_reset(&buf);
	furet_block_encode(b, &buf);
	v.data = buf.data;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);
	for (i = 0; i < 3; i++)
		assert_int_equal(c->pid[i], b->pid[i]);
	assert_int_equal(c->tf_title[2], 255);
	assert_int_equal(furet_block_span(v, &first, &last), FURET_OK);
	assert_int_equal(last, UINT32_MAX);
	/* The head's span no longer matches the gaps. */
	buf.data[2] ^= 0x01;
	assert_int_equal(furet_block_decode(v, c), FURET_CORRUPT);
	/* The bytes after the block are its positions: size says where
	** they start. */
	buf.data[2] ^= 0x01;
	furet_buf_putc(&buf, 0x2a);
	v.data = buf.data;
	v.len = buf.len;
	assert_int_equal(furet_block_decode(v, c), FURET_OK);
	assert_int_equal(c->size, buf.len - 1);
	assert_int_equal(furet_block_positions(v, c).len, 1);
	assert_int_equal(furet_block_positions(v, c).data[0], 0x2a);
	furet_buf_free(&buf);
	free(b);
	free(c);
}

/* A document's id and title, stored raw, compressed without dictionary
** and with one; truncated, damaged or read with the wrong decoder. */
static void test_doc_names_codec(void **state)
{
	static const char title[] = "Article L6132-3 du code des transports";
	furet_text_sampler ts;
	furet_text_enc *plain = NULL, *zd = NULL;
	furet_text_dec *dplain = NULL, *dzd = NULL;
	furet_doc_enc de;
	furet_doc_rec d, d2;
	furet_buf dict, b, out, name;
	char id[200];
	int k, tag;
	size_t cut, i;
	furet_val v;
	(void)state;

	furet_buf_init(&dict);
	furet_buf_init(&b);
	furet_buf_init(&out);
	furet_buf_init(&name);
	/* A dictionary trained on ids and titles like those it will see. */
	furet_text_sampler_init(&ts, 3000);
	for (k = 0; k < 3000; k++) {
		furet_buf_reset(&name);
		furet_buf_printf(&name, "legi:codes-en-vigueur/code-du-travail/"
			"partie-legislative/livre-%d/titre-%d/chapitre-%d/article-l%d"
			"Article L%d du code du travail", k % 7, k % 5, k % 11, k, k);
		assert_int_equal(furet_text_sampler_offer(&ts,
			(const char *)name.data, name.len), 0);
	}
	assert_int_equal(furet_text_sampler_train(&ts, 256, &dict), FURET_OK);
	assert_true(dict.len > 0);
	furet_text_sampler_free(&ts);
	assert_int_equal(furet_text_enc_open(NULL, 0, 3, &plain), FURET_OK);
	assert_int_equal(furet_text_enc_open(dict.data, dict.len, 12, &zd),
		FURET_OK);
	assert_int_equal(furet_text_dec_open(NULL, 0, &dplain), FURET_OK);
	assert_int_equal(furet_text_dec_open(dict.data, dict.len, &dzd),
		FURET_OK);
	snprintf(id, sizeof id, "legi:codes-en-vigueur/code-du-travail/"
		"partie-legislative/livre-3/titre-2/chapitre-9/article-l4242");

	/* tag 0: raw (no encoder, or too short to gain); zstd's one
	** compressed block alone (5), with the dictionary (8). */
	for (tag = 0; tag < 4; tag++) {
		furet_text_enc *e = tag == 1 ? plain : tag >= 2 ? zd : NULL;
		int is_short = tag == 3;
		memset(&d, 0, sizeof d);
		d.id = is_short ? "a" : id;
		d.id_len = strlen(d.id);
		d.title = is_short ? "" : title;
		d.title_len = is_short ? 0 : sizeof title - 1;
		d.sections = is_short ? NULL : "Chapitre premierSection 2";
		d.sections_len = is_short ? 0 : 25;
		d.first_passage = 5;
		furet_doc_enc_init(&de, e);
		furet_buf_reset(&b);
		furet_doc_rec_encode(&de, &d, &b);
		assert_false(b.has_err);
		v.data = b.data;
		v.len = b.len;
		assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
		assert_int_equal(d2.names[0], tag == 3 ? 0 : tag == 0 ? 0 :
			tag == 1 ? 5 : 8);
		if (tag == 2)
			assert_true(d2.names_len < (d.id_len + d.title_len) / 2);
		/* Only a record stored raw decodes without a decoder, and one
		** made with the dictionary only with it. */
		assert_int_equal(furet_doc_names_decode(NULL, &d2, &out),
			tag == 0 || tag == 3 ? FURET_OK : FURET_CORRUPT);
		if (tag == 2)
			assert_int_equal(furet_doc_names_decode(dplain, &d2, &out),
				FURET_CORRUPT);
		assert_int_equal(furet_doc_names_decode(tag == 2 ? dzd : dplain,
			&d2, &out), FURET_OK);
		assert_int_equal(d2.id_len, d.id_len);
		assert_memory_equal(d2.id, d.id, d.id_len);
		assert_int_equal(d2.title_len, d.title_len);
		assert_memory_equal(d2.title, d.title, d.title_len);
		assert_int_equal(d2.sections_len, d.sections_len);
		assert_memory_equal(d2.sections, is_short ? "" : d.sections,
			d.sections_len);
		assert_int_equal(d2.first_passage, 5);

		/* Truncated anywhere: refused by the record or by its names. */
		for (cut = 0; cut < b.len; cut++) {
			v.len = cut;
			if (furet_doc_rec_decode(v, &d2) == FURET_OK)
				assert_int_equal(furet_doc_names_decode(dzd, &d2, &out),
					FURET_CORRUPT);
		}
		/* A length that does not match what is stored, and every byte
		** flipped: refused, or decoded to other bytes, never a crash. */
		v.len = b.len;
		assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
		d2.title_len++;
		assert_int_equal(furet_doc_names_decode(dzd, &d2, &out),
			FURET_CORRUPT);
		for (i = 0; i < b.len; i++) {
			furet_rc rc;
			b.data[i] ^= 0x5a;
			if (furet_doc_rec_decode(v, &d2) == FURET_OK) {
				rc = furet_doc_names_decode(tag == 1 ? dplain : dzd, &d2,
					&out);
				assert_true(rc == FURET_OK || rc == FURET_CORRUPT);
			}
			b.data[i] ^= 0x5a;
		}
		furet_doc_enc_free(&de);
	}
	/* An unknown tag (after the lengths of the id, title, sections and
	** names, a byte each). */
	b.data[4] = 9;
	assert_int_equal(furet_doc_rec_decode(v, &d2), FURET_OK);
	assert_int_equal(furet_doc_names_decode(dzd, &d2, &out), FURET_CORRUPT);

	furet_text_enc_close(plain);
	furet_text_enc_close(zd);
	furet_text_dec_close(dplain);
	furet_text_dec_close(dzd);
	furet_buf_free(&dict);
	furet_buf_free(&b);
	furet_buf_free(&out);
	furet_buf_free(&name);
}

/* docids: ids to document numbers through hashed keys, checked against the
** documents' records. */
static void test_docids(void **state)
{
	furet_doc_enc de;
	char *dir = tu_mkdtemp();
	char err[512];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_buf enc;
	uint32_t d, i;
	uint64_t n;
	furet_doc_rec got;
	static const char *const ids[] = { "a", "legi:codes/code-civil/article-1#0",
		"legi:codes/code-civil/article-1#1", "" };
	(void)state;

	furet_buf_init(&enc);
	furet_doc_enc_init(&de, NULL);
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	for (i = 0; i < 4; i++) {
		furet_doc_rec r;
		memset(&r, 0, sizeof r);
		r.id = ids[i];
		r.id_len = strlen(ids[i]);
		r.title = "";
		r.source = 0;
		furet_buf_reset(&enc);
		furet_doc_rec_encode(&de, &r, &enc);
		assert_int_equal(furet_doc_put(t, 10 + i, enc.data, enc.len),
			FURET_OK);
		assert_int_equal(furet_docid_put(t, ids[i], strlen(ids[i]), 10 + i),
			FURET_OK);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(furet_docid_get(t, ids[i], strlen(ids[i]), &d, NULL),
			FURET_OK);
		assert_int_equal(d, 10 + i);
	}
	assert_int_equal(furet_docid_get(t, "b", 1, &d, NULL), FURET_DONE);
	assert_int_equal(furet_docid_count(t, &n), FURET_OK);
	assert_int_equal(n, 4);
	/* Removing a number the id does not have changes nothing. */
	assert_int_equal(furet_docid_del(t, ids[1], strlen(ids[1]), 99), FURET_DONE);
	assert_int_equal(furet_docid_del(t, ids[1], strlen(ids[1]), 11), FURET_OK);
	assert_int_equal(furet_docid_get(t, ids[1], strlen(ids[1]), &d, NULL),
		FURET_DONE);
	assert_int_equal(furet_docid_get(t, ids[2], strlen(ids[2]), &d, &got),
		FURET_OK);
	assert_int_equal(got.id_len, strlen(ids[2]));
	assert_memory_equal(got.id, ids[2], got.id_len);
	assert_int_equal(d, 12);
	assert_int_equal(furet_docid_count(t, &n), FURET_OK);
	assert_int_equal(n, 3);
	/* Ids added one by one from one bucket on: the buckets double as
	** they fill, every id stays found; then half are removed. */
	{
		char name[32];
		furet_val v;
		for (i = 0; i < 2000; i++) {
			furet_doc_rec r;
			snprintf(name, sizeof name, "doc-%u", (unsigned)i);
			memset(&r, 0, sizeof r);
			r.id = name;
			r.id_len = strlen(name);
			r.title = "";
			furet_buf_reset(&enc);
			furet_doc_rec_encode(&de, &r, &enc);
			assert_int_equal(furet_doc_put(t, 100 + i, enc.data, enc.len),
				FURET_OK);
			assert_int_equal(furet_docid_put(t, name, strlen(name), 100 + i),
				FURET_OK);
		}
		assert_int_equal(furet_txn_get(t, FURET_T_META, "docid_bits", 10, &v),
			FURET_OK);
		assert_true(v.len == 1 && v.data[0] >= 4);
		assert_int_equal(furet_docid_count(t, &n), FURET_OK);
		assert_int_equal(n, 2003);
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof name, "doc-%u", (unsigned)i);
			assert_int_equal(furet_docid_get(t, name, strlen(name), &d, NULL),
				FURET_OK);
			assert_int_equal(d, 100 + i);
			if (i % 2)
				assert_int_equal(furet_docid_del(t, name, strlen(name),
					100 + i), FURET_OK);
		}
		for (i = 0; i < 2000; i++) {
			snprintf(name, sizeof name, "doc-%u", (unsigned)i);
			assert_int_equal(furet_docid_get(t, name, strlen(name), &d, NULL),
				i % 2 ? FURET_DONE : FURET_OK);
		}
		assert_int_equal(furet_docid_count(t, &n), FURET_OK);
		assert_int_equal(n, 1003);
	}
	/* A rebuild's ids, put at once in key order: the same answers. */
	{
		furet_buf all;
		furet_buf_init(&all);
		assert_int_equal(furet_txn_clear(t), FURET_OK);
		for (i = 0; i < 4; i++)
			furet_docids_add(&all, ids[i], strlen(ids[i]), 10 + i);
		assert_int_equal(furet_docids_put_all(t, &all), FURET_OK);
		furet_buf_free(&all);
		assert_int_equal(furet_docid_count(t, &n), FURET_OK);
		assert_int_equal(n, 4);
	}
	/* A bucket whose value is not whole entries in order, or an entry in
	** a bucket its hash does not name, is corrupt. */
	{
		unsigned char key[4] = { 0, 0, 0, 9 }, e[24] = { 0 };
		assert_int_equal(furet_txn_put(t, FURET_T_DOCIDS, key, 4, "xyz", 3,
			0), FURET_OK);
		assert_int_equal(furet_docid_count(t, &n), FURET_CORRUPT);
		assert_int_equal(furet_txn_put(t, FURET_T_DOCIDS, key, 4, e, 24, 0),
			FURET_OK); /* two equal entries */
		assert_int_equal(furet_docid_count(t, &n), FURET_CORRUPT);
		e[23] = 1;
		assert_int_equal(furet_txn_put(t, FURET_T_DOCIDS, key, 4, e, 24, 0),
			FURET_OK); /* hash 0 in bucket 9 */
		assert_int_equal(furet_docid_count(t, &n), FURET_CORRUPT);
	}
	furet_txn_abort(t);
	furet_store_close(s);
	furet_doc_enc_free(&de);
	furet_buf_free(&enc);
	tu_rmtree(dir);
	free(dir);
}

/* A copy of the bytes of b as a value (tests damage it). */
static furet_val val_of(const furet_buf *b)
{
	furet_val v = { b->data, b->len };
	return v;
}

/* The streaming codecs against the whole ones: encoded and read back k
** entries at a time, the same bytes and entries; nothing past the end. */
static void check_lens_windows(const furet_buf *whole, const uint32_t *a,
	uint64_t n, unsigned min_width)
{
	static const size_t ks[] = { 1, 7, 64, 100, 4096 };
	uint32_t *got = malloc((n + 1) * sizeof *got);
	size_t x;

	for (x = 0; x < sizeof ks / sizeof *ks; x++) {
		furet_lens_enc e;
		furet_lens_rd r;
		furet_buf b;
		uint64_t i;
		size_t k = ks[x];

		furet_buf_init(&b);
		furet_buf_puts(&b, "pre"); /* appended after what out holds */
		furet_lens_enc_init(&e, n, min_width);
		for (i = 0; i < n; i += k)
			furet_lens_enc_count(&e, a + i, n - i < k ? n - i : k);
		assert_int_equal(furet_lens_enc_start(&e, &b), 0);
		for (i = 0; i < n; i += k)
			furet_lens_enc_put(&e, a + i, n - i < k ? n - i : k);
		assert_int_equal(b.len, 3 + whole->len);
		assert_memory_equal(b.data + 3, whole->data, whole->len);
		assert_int_equal(furet_lens_rd_open(val_of(whole), n, &r), FURET_OK);
		for (i = 0; i < n; i += k)
			assert_int_equal(furet_lens_rd_next(&r, got + i,
				n - i < k ? n - i : k), FURET_OK);
		assert_memory_equal(got, a, n * sizeof *a);
		assert_int_equal(furet_lens_rd_next(&r, got, 1), FURET_INVALID);
		furet_buf_free(&b);
	}
	free(got);
}

static void check_pdoc_windows(const furet_buf *whole, const uint32_t *docs,
	uint64_t n)
{
	static const size_t ks[] = { 1, 7, 63, 64, 65, 4096 };
	uint32_t *got = malloc((n + 1) * sizeof *got);
	size_t x;

	for (x = 0; x < sizeof ks / sizeof *ks; x++) {
		furet_pdoc_enc e;
		furet_pdoc_rd r;
		furet_buf b;
		uint64_t i;
		size_t k = ks[x];

		furet_buf_init(&b);
		furet_buf_puts(&b, "pre");
		furet_pdoc_enc_init(&e, n, NULL);
		for (i = 0; i < n; i += k)
			furet_pdoc_enc_count(&e, docs + i, n - i < k ? n - i : k);
		assert_int_equal(furet_pdoc_enc_start(&e, &b), 0);
		for (i = 0; i < n; i += k)
			furet_pdoc_enc_put(&e, docs + i, n - i < k ? n - i : k);
		assert_int_equal(b.len, 3 + whole->len);
		assert_memory_equal(b.data + 3, whole->data, whole->len);
		assert_int_equal(furet_pdoc_rd_open(val_of(whole), n, &r), FURET_OK);
		for (i = 0; i < n; i += k)
			assert_int_equal(furet_pdoc_rd_next(&r, got + i,
				n - i < k ? n - i : k), FURET_OK);
		assert_memory_equal(got, docs, n * sizeof *docs);
		assert_int_equal(furet_pdoc_rd_next(&r, got, 1), FURET_INVALID);
		furet_buf_free(&b);
	}
	free(got);
}

/* Lengths per passage and per document: every width, escapes, removed
** passages; every length read back one by one and whole. */
static void check_lens(const uint32_t *a, uint64_t n, unsigned min_width,
	unsigned want_width, uint64_t want_exc)
{
	furet_buf b;
	furet_lens l;
	uint32_t *all = malloc((n + 1) * sizeof *all), len;
	uint64_t i;

	furet_buf_init(&b);
	furet_lens_encode(a, n, min_width, &b);
	assert_false(b.has_err);
	assert_int_equal(b.len, 1 + n * want_width + 8 * want_exc);
	assert_int_equal(furet_lens_open(val_of(&b), n, &l), FURET_OK);
	assert_int_equal(l.width, want_width);
	assert_int_equal(l.n_exc, want_exc);
	for (i = 0; i < n; i++) {
		assert_int_equal(furet_lens_get(&l, i, &len), FURET_OK);
		assert_int_equal(len, a[i]);
	}
	assert_int_equal(furet_lens_decode(val_of(&b), n, all), FURET_OK);
	assert_memory_equal(all, a, n * sizeof *a);
	check_lens_windows(&b, a, n, min_width);
	/* Another count of entries does not fit. */
	assert_int_equal(furet_lens_open(val_of(&b), n + 1, &l), FURET_CORRUPT);
	free(all);
	furet_buf_free(&b);
}

static void test_lens_codec(void **state)
{
	uint32_t a[1000], out[1000], len;
	furet_lens l;
	furet_buf b;
	furet_val v;
	size_t i;
	(void)state;

	/* Short lengths, one byte each; removed ones; an empty array. */
	for (i = 0; i < 1000; i++)
		a[i] = i % 7 == 3 ? FURET_DEAD_PASSAGE : (uint32_t)(i % 254);
	check_lens(a, 1000, 1, 1, 0);
	check_lens(a, 0, 1, 1, 0);
	v.data = NULL;
	v.len = 0;
	assert_int_equal(furet_lens_open(v, 0, &l), FURET_OK);
	assert_int_equal(furet_lens_open(v, 1, &l), FURET_CORRUPT);
	/* A few long ones (1 in 64 at most) go apart, 254 the first. */
	a[10] = 254;
	a[500] = 70000;
	a[999] = UINT32_MAX - 1;
	check_lens(a, 1000, 1, 1, 3);
	/* dlen asks for 2 bytes at least: 70000 and 2^32 - 2 go apart. */
	check_lens(a, 1000, 2, 2, 2);
	/* More than 1 in 64 long: wider entries. */
	for (i = 0; i < 1000; i += 20)
		a[i] = 300 + (uint32_t)i; /* (70000 overwritten) */
	check_lens(a, 1000, 1, 2, 1);
	for (i = 0; i < 1000; i += 20)
		a[i] = 65534 + (uint32_t)i;
	check_lens(a, 1000, 1, 4, 1); /* 2^32 - 2 is the escape of 4 bytes */

	/* Damage: a width of 3, a size that is not whole pairs, an escape
	** without its pair, pairs out of order, a pair of no escape. */
	for (i = 0; i < 1000; i++)
		a[i] = (uint32_t)i % 200;
	a[5] = 1000;
	a[6] = 2000;
	furet_buf_init(&b);
	furet_lens_encode(a, 1000, 1, &b);
	assert_int_equal(b.len, 1 + 1000 + 16);
	b.data[0] = 3;
	assert_int_equal(furet_lens_open(val_of(&b), 1000, &l), FURET_CORRUPT);
	b.data[0] = 1;
	v = val_of(&b);
	v.len -= 3;
	assert_int_equal(furet_lens_open(v, 1000, &l), FURET_CORRUPT);
	assert_int_equal(furet_lens_decode(v, 1000, out), FURET_CORRUPT);
	v.len -= 5; /* one pair left: the escape of passage 6 has none */
	assert_int_equal(furet_lens_open(v, 1000, &l), FURET_OK);
	assert_int_equal(furet_lens_get(&l, 5, &len), FURET_OK);
	assert_int_equal(len, 1000);
	assert_int_equal(furet_lens_get(&l, 6, &len), FURET_CORRUPT);
	assert_int_equal(furet_lens_decode(v, 1000, out), FURET_CORRUPT);
	/* the two pairs swapped */
	{
		unsigned char tmp[8];
		unsigned char *p = b.data + 1 + 1000;
		memcpy(tmp, p, 8);
		memcpy(p, p + 8, 8);
		memcpy(p + 8, tmp, 8);
		assert_int_equal(furet_lens_decode(val_of(&b), 1000, out),
			FURET_CORRUPT);
		memcpy(p + 8, p, 8);
		memcpy(p, tmp, 8);
		assert_int_equal(furet_lens_decode(val_of(&b), 1000, out), FURET_OK);
	}
	b.data[1 + 6] = 17; /* passage 6 no longer escaped: its pair is extra */
	assert_int_equal(furet_lens_decode(val_of(&b), 1000, out), FURET_CORRUPT);
	b.data[1 + 6] = 254;
	assert_int_equal(furet_lens_decode(val_of(&b), 1000, out), FURET_OK);
	furet_buf_free(&b);
}

/* Puts docs[n] as meta's "pdoc" in chunks of 2^bits passages, each
** encoded on its own after the previous one's last document. */
static void put_pdoc_chunks(furet_txn *t, const uint32_t *docs, uint64_t n,
	unsigned bits)
{
	unsigned char b8 = (unsigned char)bits, key[8];
	uint64_t c, size = (uint64_t)1 << bits;
	furet_buf b;

	furet_buf_init(&b);
	assert_int_equal(furet_txn_put(t, FURET_T_META, "dense_bits", 10, &b8, 1,
		0), FURET_OK);
	for (c = 0; c * size < n; c++) {
		uint64_t m = n - c * size < size ? n - c * size : size;
		furet_buf_reset(&b);
		furet_pdoc_encode(docs + c * size, m, c ? &docs[c * size - 1] : NULL,
			&b);
		assert_false(b.has_err);
		furet_dense_key(key, "pdoc", c);
		assert_int_equal(furet_txn_put(t, FURET_T_META, key, 8, b.data, b.len,
			0), FURET_OK);
	}
	furet_buf_free(&b);
}

/* The document of each passage against what pdoc's bitmap says, in one
** chunk and in chunks of 64 and 128 passages (documents across them). */
static void check_pdoc(const uint32_t *docs, uint64_t n)
{
	static const unsigned bits[] = { 16, 6, 7 };
	char *dir = tu_mkdtemp(), err[256];
	furet_store *s = NULL;
	furet_buf b;
	uint32_t *all = malloc((n + 1) * sizeof *all), d, pid;
	size_t x;

	furet_buf_init(&b);
	furet_pdoc_encode(docs, n, NULL, &b);
	assert_false(b.has_err);
	assert_int_equal(furet_pdoc_decode(val_of(&b), n, all), FURET_OK);
	assert_memory_equal(all, docs, n * sizeof *docs);
	check_pdoc_windows(&b, docs, n);
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	/* (each in a transaction aborted after) */
	for (x = 0; x < sizeof bits / sizeof *bits; x++) {
		furet_txn *t = NULL;
		furet_pdocv pv;

		assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
		put_pdoc_chunks(t, docs, n, bits[x]);
		assert_int_equal(furet_pdocv_open(t, n, &pv), FURET_OK);
		for (pid = 0; pid < n; pid++) {
			uint32_t first = pid, last = pid;
			while (first > 0 && docs[first - 1] == docs[pid])
				first--;
			while (last + 1 < n && docs[last + 1] == docs[pid])
				last++;
			assert_int_equal(furet_pdocv_doc(&pv, pid, &d), FURET_OK);
			assert_int_equal(d, docs[pid]);
			assert_int_equal(furet_pdocv_first(&pv, pid), first);
			assert_int_equal(furet_pdocv_last(&pv, pid), last);
			assert_int_equal(furet_pdocv_is_alone(&pv, pid), first == last);
		}
		furet_pdocv_close(&pv);
		memset(all, 0, n * sizeof *all);
		assert_int_equal(furet_dense_decode(t, "pdoc", n, all), FURET_OK);
		assert_memory_equal(all, docs, n * sizeof *docs);
		/* A chunk less or more than the passages need. */
		if (n > ((uint64_t)1 << bits[x]))
			assert_int_equal(furet_pdocv_open(t, n - ((uint64_t)1 << bits[x]),
				&pv), FURET_CORRUPT);
		assert_int_equal(furet_pdocv_open(t, n + ((uint64_t)1 << bits[x]),
			&pv), FURET_CORRUPT);
		furet_txn_abort(t);
	}
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
	free(all);
	furet_buf_free(&b);
}

static void test_pdoc_codec(void **state)
{
	static uint32_t docs[2000];
	uint32_t out[2000], d, x = 12345, doc = 0;
	furet_pdoc pd;
	furet_buf b;
	furet_val v;
	size_t i, n;
	(void)state;

	/* One passage each; long documents across blocks; an empty array. */
	for (i = 0; i < 2000; i++)
		docs[i] = (uint32_t)i;
	check_pdoc(docs, 2000);
	check_pdoc(docs, 1);
	check_pdoc(docs, 0);
	for (i = 0; i < 2000; i++)
		docs[i] = 7 + (uint32_t)(i / 150);
	check_pdoc(docs, 2000);
	check_pdoc(docs, 64);
	check_pdoc(docs, 65);
	/* Random runs, with documents of no passage between (jumps), at a
	** block's first passage too. */
	for (n = 0; n < 2000; n++) {
		x = x * 1103515245u + 12345u;
		if (n == 0 || (x >> 16) % 4 == 0)
			doc += (x >> 20) % 5 == 0 ? 3 : 1;
		if (n == 64 || n == 640)
			doc += 2;
		docs[n] = doc;
	}
	for (n = 1990; n <= 2000; n++)
		check_pdoc(docs, n);

	/* Damage: sizes, a bit past the last passage, jump counts that do not
	** hold, a jump at no start, documents that go down. */
	furet_buf_init(&b);
	furet_pdoc_encode(docs, 2000, NULL, &b);
	v = val_of(&b);
	assert_true(b.len > 16 * 32);
	v.len = 16 * 32 + 4;
	assert_int_equal(furet_pdoc_open(v, 2000, &pd), FURET_CORRUPT);
	v.len = 16 * 31;
	assert_int_equal(furet_pdoc_open(v, 2000, &pd), FURET_CORRUPT);
	assert_int_equal(furet_pdoc_open(val_of(&b), 1999, &pd), FURET_CORRUPT);
	b.data[16 * 31 + 7] |= 0x80; /* passage 31 * 64 + 63 = 2047 */
	assert_int_equal(furet_pdoc_open(val_of(&b), 2000, &pd), FURET_CORRUPT);
	b.data[16 * 31 + 7] &= 0x7f;
	assert_int_equal(furet_pdoc_decode(val_of(&b), 2000, out), FURET_OK);
	/* block 1 says it comes after 200 jumps: more than there are */
	{
		uint32_t keep = furet_get_u32le(b.data + 16 + 12);
		unsigned char *p = b.data + 16 + 12;
		p[0] = 200;
		p[1] = p[2] = p[3] = 0;
		assert_int_equal(furet_pdoc_open(val_of(&b), 2000, &pd), FURET_OK);
		for (i = 0; i < 128; i++)
			if (furet_pdoc_doc(&pd, (uint32_t)i, &d) != FURET_OK)
				break;
		assert_true(i < 128);
		assert_int_equal(furet_pdoc_decode(val_of(&b), 2000, out),
			FURET_CORRUPT);
		p[0] = (unsigned char)keep;
		p[1] = (unsigned char)(keep >> 8);
		p[2] = (unsigned char)(keep >> 16);
		p[3] = (unsigned char)(keep >> 24);
		assert_int_equal(furet_pdoc_decode(val_of(&b), 2000, out), FURET_OK);
	}
	/* the first jump moved to a passage that starts no document, then to
	** a block's first passage */
	if (b.len > 16 * 32) {
		unsigned char *j = b.data + 16 * 32;
		uint32_t at = furet_get_u32le(j);
		j[0] = (unsigned char)(at + 1);
		assert_int_equal(furet_pdoc_decode(val_of(&b), 2000, out),
			FURET_CORRUPT);
		j[0] = (unsigned char)(at & ~63u);
		assert_int_equal(furet_pdoc_open(val_of(&b), 2000, &pd), FURET_OK);
		assert_int_equal(furet_pdoc_doc(&pd, at, &d), FURET_CORRUPT);
		j[0] = (unsigned char)at;
	}
	/* a block's document lower than the last one before it */
	b.data[16 * 5 + 8] = 0;
	b.data[16 * 5 + 9] = 0;
	assert_int_equal(furet_pdoc_decode(val_of(&b), 2000, out), FURET_CORRUPT);
	furet_buf_free(&b);
}

/* A split of the docids buckets, in a transaction that may checkpoint
** (a rebuild's part, a batch written into a copy), commits as it goes:
** it rewrites the whole table. Every id is found after each. */
static void test_docids_split_checkpoints(void **state)
{
	char *dir = tu_mkdtemp(), err[512], name[32];
	furet_store *s = NULL, *f = NULL;
	furet_txn *t = NULL;
	furet_doc_enc de;
	furet_buf enc;
	furet_val v;
	uint32_t d, i, j;
	unsigned bits = 0, n_splits = 0;
	(void)state;

	furet_buf_init(&enc);
	furet_doc_enc_init(&de, NULL);
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_open_sibling(s, &f, err, sizeof err),
		FURET_OK);
	assert_int_equal(furet_store_begin(f, 1, &t), FURET_OK);
	furet_txn_set_checkpoint(t, 1);
	for (i = 0; i < 3000; i++) {
		furet_doc_rec r;
		memset(&r, 0, sizeof r);
		snprintf(name, sizeof name, "doc-%u", (unsigned)i);
		r.id = name;
		r.id_len = strlen(name);
		r.title = "";
		furet_buf_reset(&enc);
		furet_doc_rec_encode(&de, &r, &enc);
		assert_int_equal(furet_doc_put(t, i, enc.data, enc.len), FURET_OK);
		assert_int_equal(furet_docid_put(t, name, strlen(name), i), FURET_OK);
		if (furet_txn_get(t, FURET_T_META, "docid_bits", 10, &v) == FURET_OK &&
			v.data[0] != bits) {
			/* it split: checkpointed after its last bucket */
			bits = v.data[0];
			n_splits++;
			assert_true(furet_txn_pending(t) < 64);
			for (j = 0; j <= i; j++) {
				snprintf(name, sizeof name, "doc-%u", (unsigned)j);
				assert_int_equal(furet_docid_get(t, name, strlen(name), &d,
					NULL), FURET_OK);
				assert_int_equal(d, j);
			}
		}
	}
	assert_true(n_splits >= 4);
	furet_txn_abort(t);
	furet_store_discard(f);
	furet_store_close(s);
	furet_doc_enc_free(&de);
	furet_buf_free(&enc);
	tu_rmtree(dir);
	free(dir);
}

/* The docs table, four records to a value: put and get in any order,
** remove, a rebuild's records added in order, every record iterated in
** order; a value that is not four records is damage. */
static void test_docs_table(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512], rec[64];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_doc_app app;
	furet_doc_iter it;
	furet_val v;
	uint32_t d, n;
	static const uint32_t nums[] = { 0, 1, 3, 4, 9, 10, 11, 12, 4000000001u };
	size_t i;
	furet_rc rc_last;
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	for (i = sizeof nums / sizeof *nums; i-- > 0;) {
		snprintf(rec, sizeof rec, "record %u", (unsigned)nums[i]);
		assert_int_equal(furet_doc_put(t, nums[i], rec, strlen(rec)),
			FURET_OK);
	}
	assert_int_equal(furet_doc_get(t, 2, &v), FURET_DONE);
	assert_int_equal(furet_doc_get(t, 5, &v), FURET_DONE);
	assert_int_equal(furet_doc_get(t, 4000000000u, &v), FURET_DONE);
	assert_int_equal(furet_doc_get(t, 11, &v), FURET_OK);
	assert_int_equal(v.len, 9);
	assert_memory_equal(v.data, "record 11", 9);
	/* replaced, removed (twice), and the last of a value removed */
	assert_int_equal(furet_doc_put(t, 11, "eleven", 6), FURET_OK);
	assert_int_equal(furet_doc_get(t, 11, &v), FURET_OK);
	assert_memory_equal(v.data, "eleven", 6);
	assert_int_equal(furet_doc_get(t, 10, &v), FURET_OK);
	assert_memory_equal(v.data, "record 10", 9);
	assert_int_equal(furet_doc_del(t, 10), FURET_OK);
	assert_int_equal(furet_doc_del(t, 10), FURET_DONE);
	assert_int_equal(furet_doc_del(t, 2), FURET_DONE);
	assert_int_equal(furet_doc_del(t, 4000000001u), FURET_OK);
	{
		uint64_t n_values;
		assert_int_equal(furet_txn_count(t, FURET_T_DOCS, &n_values),
			FURET_OK);
		assert_int_equal(n_values, 4); /* 0-3, 4-7, 8-11, 12-15 */
	}
	assert_int_equal(furet_doc_iter_open(t, &it), FURET_OK);
	n = 0;
	while (furet_doc_iter_next(&it, &d, &v) == FURET_OK) {
		static const uint32_t want[] = { 0, 1, 3, 4, 9, 11, 12 };
		assert_true(n < 7);
		assert_int_equal(d, want[n]);
		n++;
	}
	furet_doc_iter_close(&it);
	assert_int_equal(n, 7);

	/* A rebuild's records, in order: the same answers. */
	assert_int_equal(furet_txn_clear(t), FURET_OK);
	furet_doc_app_init(&app);
	for (i = 0; i < sizeof nums / sizeof *nums; i++) {
		snprintf(rec, sizeof rec, "record %u", (unsigned)nums[i]);
		assert_int_equal(furet_doc_app_add(t, &app, nums[i], rec,
			strlen(rec)), FURET_OK);
	}
	assert_int_equal(furet_doc_app_flush(t, &app), FURET_OK);
	furet_doc_app_free(&app);
	for (i = 0; i < sizeof nums / sizeof *nums; i++) {
		snprintf(rec, sizeof rec, "record %u", (unsigned)nums[i]);
		assert_int_equal(furet_doc_get(t, nums[i], &v), FURET_OK);
		assert_int_equal(v.len, strlen(rec));
		assert_memory_equal(v.data, rec, v.len);
	}
	assert_int_equal(furet_doc_get(t, 2, &v), FURET_DONE);

	/* Damage: lengths past the value, three records, nothing at all. */
	{
		unsigned char key[4] = { 0, 0, 0, 1 };
		static const unsigned char past[] = { 5, 0, 0, 0, 'a' },
			three[] = { 1, 'a', 0, 0 }, none[] = { 0, 0, 0, 0 };
		const unsigned char *bad[] = { past, three, none };
		const size_t bad_len[] = { sizeof past, sizeof three, sizeof none };
		for (i = 0; i < 3; i++) {
			assert_int_equal(furet_txn_put(t, FURET_T_DOCS, key, 4, bad[i],
				bad_len[i], 0), FURET_OK);
			assert_int_equal(furet_doc_get(t, 4, &v), FURET_CORRUPT);
			assert_int_equal(furet_doc_put(t, 5, "x", 1), FURET_CORRUPT);
			assert_int_equal(furet_doc_iter_open(t, &it), FURET_OK);
			while ((rc_last = furet_doc_iter_next(&it, &d, &v)) == FURET_OK)
				;
			furet_doc_iter_close(&it);
			assert_int_equal(rc_last, FURET_CORRUPT);
		}
	}
	furet_txn_abort(t);
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* Stored text: one block stored without zstd's headers (put back when
** decoded), a text of several blocks as a whole frame, a block of one
** repeated byte; damaged blocks are refused. */
static void test_text_blocks(void **state)
{
	furet_text_enc *e = NULL;
	furet_text_dec *d = NULL;
	furet_buf text, st, out;
	size_t i, n;
	(void)state;

	furet_buf_init(&text);
	furet_buf_init(&st);
	furet_buf_init(&out);
	assert_int_equal(furet_text_enc_open(NULL, 0, 3, &e), FURET_OK);
	assert_int_equal(furet_text_dec_open(NULL, 0, &d), FURET_OK);
	for (i = 0; text.len < 300000; i++) {
		char w[64];
		n = (size_t)snprintf(w, sizeof w, "mot%u la formation %u, ",
			(unsigned)(i * 7919 % 1000), (unsigned)(i % 13));
		furet_buf_append(&text, w, n);
	}
	/* 300 bytes to 300 KB: one block, 5 + 2 header bytes saved (5 + 3
	** from 256 bytes on); past 128 KB, several blocks and a frame (1) */
	for (n = 300; n <= text.len; n *= 10) {
		assert_int_equal(furet_text_encode(e, (const char *)text.data, n,
			&st), FURET_OK);
		assert_int_equal(st.data[0], n > 128 * 1024 ? 1 : 5);
		assert_int_equal(furet_text_decode(d, st.data, st.len, n, &out),
			FURET_OK);
		assert_int_equal(out.len, n);
		assert_memory_equal(out.data, text.data, n);
		assert_int_equal(furet_text_decode(d, st.data, st.len, n - 1, &out),
			FURET_CORRUPT);
		for (i = 1; i < st.len; i += st.len / 50 + 1)
			assert_int_equal(furet_text_decode(d, st.data, i, n, &out),
				FURET_CORRUPT);
	}
	/* 1000 times the same byte: one RLE block, 1 byte of content */
	furet_buf_reset(&text);
	for (i = 0; i < 1000; i++)
		furet_buf_putc(&text, 'a');
	assert_int_equal(furet_text_encode(e, (const char *)text.data, 1000, &st),
		FURET_OK);
	if (st.data[0] == 4) {
		assert_int_equal(st.len, 2);
		assert_int_equal(furet_text_decode(d, st.data, 2, 1000, &out),
			FURET_OK);
		assert_memory_equal(out.data, text.data, 1000);
		furet_buf_putc(&st, 'a');
		assert_int_equal(furet_text_decode(d, st.data, 3, 1000, &out),
			FURET_CORRUPT);
	} else {
		assert_int_equal(furet_text_decode(d, st.data, st.len, 1000, &out),
			FURET_OK);
	}
	/* a block with the dictionary, for a decoder without one */
	st.data[0] = 8;
	assert_int_equal(furet_text_decode(d, st.data, st.len, 1000, &out),
		FURET_CORRUPT);
	furet_text_enc_close(e);
	furet_text_dec_close(d);
	furet_buf_free(&text);
	furet_buf_free(&st);
	furet_buf_free(&out);
}

/* Stored text in LZ4 blocks (what rebuilds write): with the dictionary
** (tag 10) and without (9), each text comes back whole; the dictionary
** makes a paragraph smaller; a decoder without it, a wrong length, a cut
** block and a length past what the block can hold are refused; damaged
** bytes never read or write out of bounds (the sanitizers watch). */
static void test_text_lz4(void **state)
{
	static const char *const words[] = { "la", "formation", "num\xc3\xa9rique",
		"des", "\xc3\xa9" "coles", "Grande", "\xc3\x89" "cole", "du",
		"financ\xc3\xa9" "e", "par", "le", "Fonds", "social",
		"europ\xc3\xa9" "en", "quartiers", "label", "Simplon", "POP" };
	furet_text_sampler ts;
	furet_text_enc *e = NULL, *e0 = NULL;
	furet_text_dec *d = NULL, *d0 = NULL;
	furet_buf dict, text, st, st0, out;
	size_t i, k, n, nw = sizeof words / sizeof *words;
	uint32_t x = 12345;
	(void)state;

	furet_buf_init(&dict);
	furet_buf_init(&text);
	furet_buf_init(&st);
	furet_buf_init(&st0);
	furet_buf_init(&out);
	/* paragraphs of the same words, the sample the dictionary comes from */
	furet_text_sampler_init(&ts, 2000);
	for (k = 0; k < 2000; k++) {
		furet_buf_reset(&text);
		for (i = 0; i < 40; i++) {
			x = x * 1103515245u + 12345u;
			furet_buf_printf(&text, "%s ", words[(x >> 16) % nw]);
		}
		assert_int_equal(furet_text_sampler_offer(&ts,
			(const char *)text.data, text.len), 0);
	}
	assert_int_equal(furet_text_sampler_train(&ts, 1024, &dict), FURET_OK);
	assert_true(dict.len > 0);
	furet_text_sampler_free(&ts);
	assert_int_equal(furet_text_enc_open(dict.data, dict.len, FURET_TEXT_LZ4,
		&e), FURET_OK);
	assert_int_equal(furet_text_enc_open(NULL, 0, FURET_TEXT_LZ4, &e0),
		FURET_OK);
	assert_int_equal(furet_text_dec_open(dict.data, dict.len, &d), FURET_OK);
	assert_int_equal(furet_text_dec_open(NULL, 0, &d0), FURET_OK);

	for (n = 0; n < 5; n++) {
		furet_buf_reset(&text);
		for (i = 0; i < 10 + 60 * n; i++) {
			x = x * 1103515245u + 12345u;
			furet_buf_printf(&text, "%s ", words[(x >> 16) % nw]);
		}
		assert_int_equal(furet_text_encode(e, (const char *)text.data,
			text.len, &st), FURET_OK);
		assert_int_equal(furet_text_encode(e0, (const char *)text.data,
			text.len, &st0), FURET_OK);
		assert_int_equal(st.data[0], 10);
		assert_true(st.len < st0.len);
		assert_true(st.len < text.len / 2);
		assert_int_equal(furet_text_decode(d, st.data, st.len, text.len,
			&out), FURET_OK);
		assert_int_equal(out.len, text.len);
		assert_memory_equal(out.data, text.data, text.len);
		assert_int_equal(out.data[out.len], '\0');
		/* without the dictionary: tag 9, and any decoder reads it */
		assert_int_equal(st0.data[0], 9);
		assert_int_equal(furet_text_decode(d0, st0.data, st0.len, text.len,
			&out), FURET_OK);
		assert_memory_equal(out.data, text.data, text.len);
		assert_int_equal(furet_text_decode(d, st0.data, st0.len, text.len,
			&out), FURET_OK);
		assert_memory_equal(out.data, text.data, text.len);
		/* refused: no dictionary, a wrong length, a cut block */
		assert_int_equal(furet_text_decode(d0, st.data, st.len, text.len,
			&out), FURET_CORRUPT);
		assert_int_equal(furet_text_decode(d, st.data, st.len, text.len - 1,
			&out), FURET_CORRUPT);
		assert_int_equal(furet_text_decode(d, st.data, st.len, text.len + 1,
			&out), FURET_CORRUPT);
		for (i = 0; i < st.len; i++)
			assert_int_equal(furet_text_decode(d, st.data, i, text.len,
				&out), FURET_CORRUPT);
		/* a length no block of this size can give: refused before any
		** room is made for it */
		assert_int_equal(furet_text_decode(d, st.data, st.len,
			(size_t)1 << 30, &out), FURET_CORRUPT);
		/* each byte damaged: refused, or a text of the length asked */
		for (i = 1; i < st.len; i++) {
			furet_rc rc;
			st.data[i] ^= 0x5a;
			rc = furet_text_decode(d, st.data, st.len, text.len, &out);
			assert_true(rc == FURET_CORRUPT ||
				(rc == FURET_OK && out.len == text.len));
			st.data[i] ^= 0x5a;
		}
	}
	/* short and incompressible texts are stored raw */
	assert_int_equal(furet_text_encode(e0, "POP", 3, &st), FURET_OK);
	assert_int_equal(st.data[0], 0);
	assert_int_equal(furet_text_decode(d0, st.data, st.len, 3, &out),
		FURET_OK);
	assert_memory_equal(out.data, "POP", 3);
	furet_text_enc_close(e);
	furet_text_enc_close(e0);
	furet_text_dec_close(d);
	furet_text_dec_close(d0);
	furet_buf_free(&dict);
	furet_buf_free(&text);
	furet_buf_free(&st);
	furet_buf_free(&st0);
	furet_buf_free(&out);
}

/* Text groups: each text of a group comes back from its place counted from
** the last; empty texts, one text alone and one past FURET_TEXT_GROUP
** included. Damaged headers and bodies are refused, and so is a place
** before the group's first text. Through a store, a passage finds the
** group under the first key at or after its id. */
static void test_text_groups(void **state)
{
	static const char *const texts[] = {
		"Le label Grande \xc3\x89" "cole du Num\xc3\xa9rique.", "",
		"POP School est financ\xc3\xa9" "e par le Fonds social europ\xc3\xa9" "en.",
		"", "Valenciennes M\xc3\xa9tropole et l'\xc3\x89tat.",
	};
	char *dir = tu_mkdtemp();
	char err[512];
	furet_text_enc *e = NULL;
	furet_text_dec *d = NULL;
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_buf cat, st, one, out;
	size_t lens[5], n, i, off, len;
	uint64_t back;
	furet_val v;
	unsigned char k4[4];
	(void)state;

	furet_buf_init(&cat);
	furet_buf_init(&st);
	furet_buf_init(&one);
	furet_buf_init(&out);
	assert_int_equal(furet_text_enc_open(NULL, 0, 0, &e), FURET_OK);
	assert_int_equal(furet_text_dec_open(NULL, 0, &d), FURET_OK);
	for (n = 1; n <= 5; n++) {
		furet_buf_reset(&cat);
		furet_buf_reset(&st);
		for (i = 0; i < n; i++) {
			lens[i] = strlen(texts[i]);
			furet_buf_append(&cat, texts[i], lens[i]);
		}
		assert_int_equal(furet_text_group_encode(e, (const char *)cat.data,
			lens, n, &one, &st), FURET_OK);
		for (i = 0; i < n; i++) {
			assert_int_equal(furet_text_group_decode(d, st.data, st.len,
				n - 1 - i, &out, &off, &len), FURET_OK);
			assert_int_equal(len, lens[i]);
			assert_memory_equal(out.data + off, texts[i], len);
		}
		assert_int_equal(furet_text_group_decode(d, st.data, st.len, n, &out,
			&off, &len), FURET_CORRUPT);
		for (i = 0; i + 1 < st.len; i++)
			assert_int_equal(furet_text_group_decode(d, st.data, i, 0, &out,
				&off, &len), FURET_CORRUPT);
	}
	/* a length one more than the text: the body no longer matches */
	st.data[1]++;
	assert_int_equal(furet_text_group_decode(d, st.data, st.len, 0, &out,
		&off, &len), FURET_CORRUPT);
	/* no text at all */
	furet_buf_reset(&st);
	furet_buf_putc(&st, 0);
	furet_buf_putc(&st, 0);
	assert_int_equal(furet_text_group_decode(d, st.data, st.len, 0, &out,
		&off, &len), FURET_CORRUPT);
	/* a text longer than a group alone, compressed */
	furet_buf_reset(&cat);
	while (cat.len <= FURET_TEXT_GROUP)
		furet_buf_append(&cat, texts[2], strlen(texts[2]));
	furet_buf_reset(&st);
	assert_int_equal(furet_text_group_encode(e, (const char *)cat.data,
		&cat.len, 1, &one, &st), FURET_OK);
	assert_true(st.len < cat.len / 4);
	assert_int_equal(furet_text_group_decode(d, st.data, st.len, 0, &out,
		&off, &len), FURET_OK);
	assert_int_equal(len, cat.len);
	assert_memory_equal(out.data + off, cat.data, len);

	/* groups under passages 5 (3 to 5) and 9 (6 to 9) */
	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	furet_put_u32be(k4, 5);
	assert_int_equal(furet_txn_put(t, FURET_T_TEXT, k4, 4, "a", 1, 0), 0);
	furet_put_u32be(k4, 9);
	assert_int_equal(furet_txn_put(t, FURET_T_TEXT, k4, 4, "b", 1, 0), 0);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_text_get(t, 3, &v, &back), FURET_OK);
	assert_int_equal(back, 2);
	assert_memory_equal(v.data, "a", 1);
	assert_int_equal(furet_text_get(t, 5, &v, &back), FURET_OK);
	assert_int_equal(back, 0);
	assert_int_equal(furet_text_get(t, 6, &v, &back), FURET_OK);
	assert_int_equal(back, 3);
	assert_memory_equal(v.data, "b", 1);
	assert_int_equal(furet_text_get(t, 10, &v, &back), FURET_DONE);
	furet_txn_abort(t);
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
	furet_text_enc_close(e);
	furet_text_dec_close(d);
	furet_buf_free(&cat);
	furet_buf_free(&st);
	furet_buf_free(&one);
	furet_buf_free(&out);
}

static void test_txn_and_cursor(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_cursor *c = NULL;
	furet_val k, v;
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "ecol", 4, "1", 1, 0), 0);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "ecolo", 5, "2", 1, 0), 0);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "form", 4, "3", 1, 0), 0);
	assert_int_equal(furet_txn_commit(t), FURET_OK);

	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	assert_int_equal(furet_txn_put(t, FURET_T_TERMS, "zzz", 3, "4", 1, 0), 0);
	furet_txn_abort(t);

	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "zzz", 3, &v), FURET_DONE);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "ecolo", 5, &v), FURET_OK);
	assert_memory_equal(v.data, "2", 1);
	assert_int_equal(furet_cursor_open(t, FURET_T_TERMS, &c), FURET_OK);
	assert_int_equal(furet_cursor_seek(c, "eco", 3, &k, &v), FURET_OK);
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.data, "ecol", 4);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_OK);
	assert_memory_equal(k.data, "ecolo", 5);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_OK);
	assert_memory_equal(k.data, "form", 4);
	assert_int_equal(furet_cursor_next(c, &k, &v), FURET_DONE);
	furet_cursor_close(c);
	furet_txn_abort(t);
	/* Growing the map keeps the data. */
	assert_int_equal(furet_store_grow(s), FURET_OK);
	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "form", 4, &v), FURET_OK);
	furet_txn_abort(t);
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* Appends go through a cursor per table (FURET_PUT_APPEND): thousands of
** them, across a checkpoint and mixed with a put out of order and a
** deletion in the same table, give the records a put each would. */
static void test_txn_append(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512], key[32], val[64];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_cursor *c = NULL;
	furet_val k, v;
	int i, n = 0;
	(void)state;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	for (i = 0; i < 6000; i++) {
		snprintf(key, sizeof key, "k%06d", 2 * i);
		snprintf(val, sizeof val, "valeur %d assez longue pour des pages", i);
		assert_int_equal(furet_txn_put(t, FURET_T_POSTINGS, key, strlen(key),
			val, strlen(val), FURET_PUT_APPEND), FURET_OK);
		assert_int_equal(furet_txn_put(t, FURET_T_TERMS, key, strlen(key),
			"t", 1, FURET_PUT_APPEND), FURET_OK);
		if (i == 2000)
			assert_int_equal(furet_txn_checkpoint(t), FURET_OK);
		if (i == 3000) {
			/* out of order, then a deletion: no longer at the end */
			assert_int_equal(furet_txn_put(t, FURET_T_POSTINGS, "k000001",
				7, "x", 1, 0), FURET_OK);
			assert_int_equal(furet_txn_del(t, FURET_T_POSTINGS, "k000002",
				7), FURET_OK);
		}
	}
	/* not after the last key */
	assert_int_not_equal(furet_txn_put(t, FURET_T_POSTINGS, "k000003", 7, "y",
		1, FURET_PUT_APPEND), FURET_OK);
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_cursor_open(t, FURET_T_POSTINGS, &c), FURET_OK);
	assert_int_equal(furet_cursor_seek(c, "", 0, &k, &v), FURET_OK);
	do {
		/* k000000, k000001, k000004 ... k011998 */
		int want = n < 2 ? n : 2 * n;
		snprintf(key, sizeof key, "k%06d", want);
		assert_int_equal(k.len, strlen(key));
		assert_memory_equal(k.data, key, k.len);
		n++;
	} while (furet_cursor_next(c, &k, &v) == FURET_OK);
	assert_int_equal(n, 6000);
	furet_cursor_close(c);
	furet_txn_abort(t);
	furet_store_close(s);
	tu_rmtree(dir);
	free(dir);
}

/* Reads the little-endian u64 at off of dir/data.mdb. */
static uint64_t file_u64(const char *dir, size_t off)
{
	char path[4200];
	unsigned char b[8];
	uint64_t v = 0;
	int i;
	FILE *f;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fread(b, 1, 8, f), 8);
	fclose(f);
	for (i = 7; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

/* Writes n bytes at off of dir/data.mdb. */
static void file_poke(const char *dir, size_t off, const void *p, size_t n)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof path, "%s/data.mdb", dir);
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, (long)off, SEEK_SET), 0);
	assert_int_equal(fwrite(p, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* A small index, then its copy damaged in one place; returns the page of
** the main database's root (in the current meta page). */
static uint64_t make_index(const char *dir)
{
	char err[512], key[32];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	size_t cur;
	int i;

	assert_int_equal(furet_store_open(dir, FURET_STORE_CREATE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "terme%04d", i);
		assert_int_equal(furet_txn_put(t, FURET_T_TERMS, key, strlen(key),
			"valeur assez longue pour remplir des pages", 42, 0), FURET_OK);
	}
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);
	/* The meta page with the higher transaction id is current. */
	cur = file_u64(dir, 4096 + 16 + 128) > file_u64(dir, 16 + 128) ? 4096 : 0;
	return file_u64(dir, cur + 16 + 24 + 48 + 40);
}

/* LMDB follows its page numbers without checking them: furet walks the
** pages first, and a damaged one is FURET_CORRUPT naming it, never a read
** outside the file. A rebuild (REPLACE) starts from an empty file. */
static void test_damaged_pages(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512], want[64];
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_val v;
	uint64_t root;
	unsigned char ff[2] = { 0xff, 0xff }, zero[4] = { 0, 0, 0, 0 };
	(void)state;

	/* An intact index verifies. */
	root = make_index(dir);
	assert_true(root >= 2);
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_verify(s, err, sizeof err), FURET_OK);
	furet_store_close(s);
	s = NULL;

	/* The root page's header: lower past upper. */
	file_poke(dir, (size_t)root * 4096 + 12, ff, 2);
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_CORRUPT);
	assert_null(s);
	snprintf(want, sizeof want, "page %llu has a damaged header",
		(unsigned long long)root);
	assert_non_null(strstr(err, want));
	assert_non_null(strstr(err, "--rebuild"));

	/* A rebuild starts from an empty file. */
	assert_int_equal(furet_store_open(dir, FURET_STORE_REPLACE, &s, err,
		sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 0, &t), FURET_OK);
	assert_int_equal(furet_txn_get(t, FURET_T_TERMS, "terme0001", 9, &v),
		FURET_DONE);
	furet_txn_abort(t);
	furet_store_close(s);
	s = NULL;
	tu_rmtree(dir);
	mkdir(dir, 0777);

	/* A node offset past its page. */
	root = make_index(dir);
	file_poke(dir, (size_t)root * 4096 + 16, ff, 2);
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_CORRUPT);
	assert_non_null(strstr(err, "lies outside the page"));
	tu_rmtree(dir);
	mkdir(dir, 0777);

	/* A page size of 0 in the meta pages (LMDB divides by it). */
	make_index(dir);
	file_poke(dir, 16 + 24, zero, 4);
	file_poke(dir, 4096 + 16 + 24, zero, 4);
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_CORRUPT);
	assert_non_null(strstr(err, "page size 0"));
	tu_rmtree(dir);
	mkdir(dir, 0777);

	/* Truncated to three pages. */
	make_index(dir);
	{
		char path[4200];
		snprintf(path, sizeof path, "%s/data.mdb", dir);
		assert_int_equal(truncate(path, 3 * 4096), 0);
	}
	assert_int_equal(furet_store_open(dir, FURET_STORE_READONLY, &s, err,
		sizeof err), FURET_CORRUPT);
	assert_non_null(strstr(err, "truncated"));
	tu_rmtree(dir);
	free(dir);
}

/* Compaction reads each passage's length for every posting: a damaged
** block naming a passage past the arrays is FURET_CORRUPT, not a read past
** them. */
static void test_compact_damaged_block(void **state)
{
	char *dir = tu_mkdtemp();
	char err[512];
	furet_index *ix = NULL;
	furet_writer *w = NULL;
	furet_analysis *an = NULL;
	furet_store *s = NULL;
	furet_txn *t = NULL;
	furet_block *b = calloc(1, sizeof *b);
	furet_term term;
	furet_doc d;
	furet_buf enc;
	unsigned char key[600];
	size_t klen;
	const char *const ids[] = { "a", "b" };
	int i;
	(void)state;

	memset(&d, 0, sizeof d);
	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, FURET_WRITE_REBUILD, &w), 0);
	for (i = 0; i < 2; i++) {
		d.id = ids[i];
		d.id_len = 1;
		d.text = "Les abeilles font du miel.";
		d.text_len = strlen(d.text);
		assert_int_equal(furet_writer_add(w, &d), FURET_OK);
	}
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	assert_int_equal(furet_writer_begin(ix, 0, &w), FURET_OK);
	assert_int_equal(furet_writer_remove(w, "a", 1), FURET_OK);
	assert_int_equal(furet_writer_commit(w), FURET_OK);
	furet_index_close(ix);

	/* Block 0 of "miel", its only one, in its terms record, now names
	** passage 1000 of 2. */
	assert_int_equal(furet_analyze("miel", 4, &an), FURET_OK);
	assert_int_equal(furet_analysis_get(an, 0, &term), FURET_OK);
	b->n = 1;
	b->pid[0] = 1000;
	b->tf[0] = 1;
	furet_buf_init(&enc);
	furet_block_encode(b, &enc);
	assert_int_equal(furet_positions_encode(b, (const unsigned char *)"\3",
		1, &enc), FURET_OK);
	assert_int_equal(furet_store_open(dir, 0, &s, err, sizeof err), FURET_OK);
	assert_int_equal(furet_store_begin(s, 1, &t), FURET_OK);
	{
		furet_term_rec tr;
		furet_val v;
		furet_buf rec;
		assert_int_equal(furet_txn_get(t, FURET_T_TERMS, term.term,
			term.term_len, &v), FURET_OK);
		assert_int_equal(furet_term_rec_decode(v, &tr), FURET_OK);
		assert_int_equal(tr.n_blocks, 1);
		assert_non_null(tr.inl);
		tr.inl = enc.data;
		tr.inl_len = enc.len;
		furet_buf_init(&rec);
		furet_term_rec_encode(&tr, &rec);
		assert_int_equal(furet_txn_put(t, FURET_T_TERMS, term.term,
			term.term_len, rec.data, rec.len, 0), FURET_OK);
		furet_buf_free(&rec);
		/* and the postings table has no record of it */
		klen = furet_block_key(key, term.term, term.term_len, 0);
		assert_int_equal(furet_txn_get(t, FURET_T_POSTINGS, key, klen, &v),
			FURET_DONE);
	}
	assert_int_equal(furet_txn_commit(t), FURET_OK);
	furet_store_close(s);

	assert_int_equal(furet_index_open(dir, 0, &ix), FURET_OK);
	assert_int_equal(furet_index_compact(ix, NULL, NULL), FURET_CORRUPT);
	assert_int_equal(furet_index_check(ix), FURET_CORRUPT);
	furet_index_close(ix);
	furet_analysis_free(an);
	furet_buf_free(&enc);
	free(b);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_passage_term_codecs),
		cmocka_unit_test(test_term_bound),
		cmocka_unit_test(test_block_codec),
		cmocka_unit_test(test_block_codec_edges),
		cmocka_unit_test(test_block_random),
		cmocka_unit_test(test_block_key),
		cmocka_unit_test(test_doc_names_codec),
		cmocka_unit_test(test_docids),
		cmocka_unit_test(test_docids_split_checkpoints),
		cmocka_unit_test(test_docs_table),
		cmocka_unit_test(test_text_blocks),
		cmocka_unit_test(test_text_lz4),
		cmocka_unit_test(test_text_groups),
		cmocka_unit_test(test_lens_codec),
		cmocka_unit_test(test_pdoc_codec),
		cmocka_unit_test(test_varint_edges),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_positions_codec),
		cmocka_unit_test(test_positions_random),
		cmocka_unit_test(test_version_and_analyzer_checks),
		cmocka_unit_test(test_txn_and_cursor),
		cmocka_unit_test(test_txn_append),
		cmocka_unit_test(test_damaged_pages),
		cmocka_unit_test(test_compact_damaged_block),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
