/*
** fuzz_positions.c — the Rice codec of positions records (store.c): a
** block's body tfs from the input's head, then the rest of it both as a
** record and as the raw varint deltas the writer encodes. Decoding gives
** FURET_OK or FURET_CORRUPT, never a read out of bounds, and the checking
** decoder (compaction, check) agrees with the searching one; what decodes
** re-encodes to a record that decodes to the same positions, and raw
** deltas that encode come back from their record and encode to the same
** bytes again.
**
** Input: byte 0: n - 1 (mod 128); n bytes: the postings' body tfs; the rest.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_block b;
	static uint32_t off[FURET_BLOCK_SIZE + 1], off2[FURET_BLOCK_SIZE + 1];
	uint32_t *pos, *pos2 = NULL;
	furet_buf raw, rec, raw2, rec2;
	furet_val v;
	furet_rc rc, rc2;
	uint32_t i;

	if (size < 1 || size < 1 + (size_t)(data[0] % FURET_BLOCK_SIZE) + 1)
		return 0;
	b.n = 1 + data[0] % FURET_BLOCK_SIZE;
	for (i = 0; i < b.n; i++)
		b.tf[i] = data[1 + i];
	v.data = data + 1 + b.n;
	v.len = size - 1 - b.n;
	/* The room the decoder needs: 8 positions per byte of the record. */
	if (!(pos = malloc((v.len ? 8 * v.len : 1) * sizeof *pos)))
		abort();
	furet_buf_init(&raw);
	furet_buf_init(&rec);
	furet_buf_init(&raw2);
	furet_buf_init(&rec2);

	/* The rest as a record. */
	rc = furet_positions_decode(v, &b, pos, off);
	if (rc != FURET_OK && rc != FURET_CORRUPT)
		abort();
	if (furet_positions_varints(v, &b, NULL) != rc)
		abort();
	if (rc == FURET_OK) {
		furet_val v2;
		if (furet_positions_varints(v, &b, &raw) ||
			furet_positions_encode(&b, raw.data, raw.len, &rec))
			abort();
		v2.data = rec.data;
		v2.len = rec.len;
		if (!(pos2 = malloc((rec.len ? 8 * rec.len : 1) * sizeof *pos2)) ||
			furet_positions_decode(v2, &b, pos2, off2) ||
			memcmp(off, off2, (b.n + 1) * sizeof off[0]) ||
			memcmp(pos, pos2, off[b.n] * sizeof pos[0]))
			abort();
		free(pos2);
	}

	/* The rest as raw deltas. */
	furet_buf_reset(&rec);
	rc = furet_positions_encode(&b, v.data, v.len, &rec);
	if (rc != FURET_OK && rc != FURET_CORRUPT)
		abort();
	if (rc == FURET_OK) {
		furet_val v2 = { rec.data, rec.len };
		if (rec.has_err || !(pos2 = malloc((rec.len ? 8 * rec.len : 1) *
			sizeof *pos2)) || furet_positions_decode(v2, &b, pos2, off) ||
			furet_positions_varints(v2, &b, &raw2))
			abort();
		free(pos2);
		rc2 = furet_positions_encode(&b, raw2.data, raw2.len, &rec2);
		if (rc2 || rec2.len != rec.len ||
			(rec.len && memcmp(rec.data, rec2.data, rec.len)))
			abort();
	}
	free(pos);
	furet_buf_free(&raw);
	furet_buf_free(&rec);
	furet_buf_free(&raw2);
	furet_buf_free(&rec2);
	return 0;
}
