/*
** fuzz_block.c — arbitrary bytes into the on-disk record decoders (postings
** block, passage, document and term records): FURET_OK or FURET_CORRUPT, never
** a read out of bounds; a decoded block re-encodes to a block that decodes to
** the same postings.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_block a, b;
	furet_passage_rec p;
	furet_doc_rec d;
	furet_term_rec t;
	furet_val v = { data, size };
	furet_buf buf;
	furet_rc rc;

	(void)furet_passage_rec_decode(v, &p);
	(void)furet_doc_rec_decode(v, &d);
	(void)furet_term_rec_decode(v, &t);
	rc = furet_block_decode(v, &a);
	if (rc != FURET_OK) {
		if (rc != FURET_CORRUPT)
			abort();
		return 0;
	}
	furet_buf_init(&buf);
	furet_block_encode(&a, &buf);
	v.data = buf.data;
	v.len = buf.len;
	if (buf.has_err || furet_block_decode(v, &b) != FURET_OK || a.n != b.n ||
		memcmp(a.pid, b.pid, a.n * sizeof a.pid[0]) ||
		memcmp(a.tf, b.tf, a.n * sizeof a.tf[0]))
		abort();
	furet_buf_free(&buf);
	return 0;
}
