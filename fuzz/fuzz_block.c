/*
** fuzz_block.c — arbitrary bytes into the on-disk record decoders (postings
** block, positions, document with its passages, id and title, and term
** records, a group of stored texts): FURET_OK or FURET_CORRUPT, never a
** read out of bounds; a decoded block re-encodes to a block that decodes
** to the same postings.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "textcodec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decoders without dictionary and with one (any bytes make a zstd
** dictionary of raw content, and LZ4's is the text before). */
static const char dict[] = "legi:codes-en-vigueur/code-des-transports/"
	"partie-legislative/sixieme-partie/livre-ier/titre-iii/chapitre-ii/"
	"section-3/article-l6132-3 Article L6132-3";
static furet_text_dec *dec[2];

static void open_decoders(void)
{
	if (!dec[0] && (furet_text_dec_open(NULL, 0, &dec[0]) ||
		furet_text_dec_open(dict, sizeof dict - 1, &dec[1])))
		abort();
}

/* The bytes as a group of stored texts (the text table's values), each
** text of it asked for, with both decoders. */
static void group(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	uint64_t n, i, len, total = 0;
	size_t r, off, got;
	furet_buf all;
	int k;

	/* The lengths the group declares are allocated: keep them small. */
	if (!(r = furet_get_varint(p, end, &n)) || n > 64)
		return;
	for (p += r, i = 0; i < n; i++, p += r) {
		if (!(r = furet_get_varint(p, end, &len)) || len > (1u << 20))
			return;
		total += len;
	}
	if (total > (1u << 20))
		return;
	open_decoders();
	furet_buf_init(&all);
	for (k = 0; k < 2; k++)
		for (i = 0; i <= n; i++) {
			furet_rc rc = furet_text_group_decode(dec[k], data, size, i,
				&all, &off, &got);
			if (rc == FURET_OK && (i == n || off + got > all.len))
				abort();
			if (rc != FURET_OK && rc != FURET_CORRUPT)
				abort();
		}
	furet_buf_free(&all);
}

/* An id and title read with both decoders. */
static void names(furet_doc_rec *d)
{
	furet_buf out;
	int k;

	open_decoders();
	/* Sizes the frame declares are allocated: keep them small. */
	if (d->id_len + d->title_len > (1u << 20))
		return;
	furet_buf_init(&out);
	for (k = 0; k < 2; k++) {
		furet_rc rc = furet_doc_names_decode(dec[k], d, &out);
		if (rc == FURET_OK && (!d->id || !d->title))
			abort();
		if (rc != FURET_OK && rc != FURET_CORRUPT)
			abort();
	}
	furet_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_block a, b;
	static uint32_t off[FURET_BLOCK_SIZE + 1];
	uint32_t *pos;
	furet_passage_rec p;
	furet_pass_iter it;
	furet_doc_rec d;
	furet_term_rec t;
	furet_val v = { data, size };
	furet_buf buf;
	furet_rc rc;

	if (furet_doc_rec_decode(v, &d) == FURET_OK) {
		names(&d);
		furet_pass_iter_init(&it, &d);
		while ((rc = furet_pass_next(&it, &p)) == FURET_OK)
			;
		if (rc != FURET_DONE && rc != FURET_CORRUPT)
			abort();
	}
	(void)furet_term_rec_decode(v, &t);
	group(data, size);
	rc = furet_block_decode(v, &a);
	if (rc != FURET_OK) {
		if (rc != FURET_CORRUPT)
			abort();
		return 0;
	}
	/* The rest of the record as the positions of that block
	** (fuzz_positions.c aims at that codec), with the room the decoder
	** needs. */
	if (!(pos = malloc((size ? 8 * size : 1) * sizeof *pos)))
		abort();
	rc = furet_positions_decode(furet_block_positions(v, &a), &a, pos, off);
	free(pos);
	if (rc != FURET_OK && rc != FURET_CORRUPT)
		abort();
	furet_buf_init(&buf);
	furet_block_encode(&a, &buf);
	v.data = buf.data;
	v.len = buf.len;
	if (buf.has_err || furet_block_decode(v, &b) != FURET_OK || a.n != b.n ||
		b.size != buf.len ||
		memcmp(a.pid, b.pid, a.n * sizeof a.pid[0]) ||
		memcmp(a.tf, b.tf, a.n * sizeof a.tf[0]))
		abort();
	furet_buf_free(&buf);
	return 0;
}
