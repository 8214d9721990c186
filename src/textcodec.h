/*
** textcodec.h — stored text, compressed with LZ4 (the passages' text) or
** zstd (the documents' ids, titles and sections).
**
** Passages are short (a paragraph), and a compressor on a paragraph alone
** finds little to reuse; with a dictionary trained on the collection's own
** text (ZDICT) each passage compresses several times. A rebuild trains one
** from a sample of its passages and keeps it in meta ("zdict"); later
** batches use the index's dictionary. Each stored value starts with a tag
** byte: 0 raw text follows; 1 a zstd frame without dictionary, 2 a zstd
** frame made with the index's dictionary, both without their magic number
** and without a dictionary id; a zstd frame of one block (texts up to 128
** KiB) is stored as that block's content alone, tag 3 + 3 x (with the
** dictionary) + its block type; 9 an LZ4 block without dictionary, 10 an
** LZ4 block made with the dictionary. Decoding checks everything it reads.
**
** Why two codecs. The passages' text is most of what indexing compresses:
** with zstd (level 3, a 64 KB dictionary, 2 KB groups) it took 13 % of a
** rebuild's processor time. On 40,000 passages of the scale set, in those
** groups with that dictionary, zstd compresses at 135 MB/s and LZ4 at
** 230 MB/s, for text 1.46 x larger (0.47 of the raw text against 0.32;
** 0.55 against 0.37 on the 212 MB corpus), and LZ4 decodes a group in
** 1.2 us against 2.1. The rebuild of the 212 MB corpus takes 0.9 s less
** processor time (of 16.3 s). The index's size stays a quarter of
** Xapian's. The ids, titles and sections ("zdict_ids", a dictionary of
** their own, in the docs table, store.c) are a tenth of the bytes and
** count in the index's size without its text: zstd keeps them small.
**
** Only this module includes zstd and LZ4.
*/
#ifndef FURET_TEXTCODEC_H
#define FURET_TEXTCODEC_H

#include <stddef.h>

#include "furet.h"
#include "util.h"

typedef struct furet_text_enc furet_text_enc;
typedef struct furet_text_dec furet_text_dec;

/* The training sample of a rebuild: n passages are offered in order, one
** call each, and every (n / FURET_SAMPLES)-th is kept until the sample
** would pass 8 MiB; then the sample is complete and later passages need not
** be offered. Streaming, so that the passages need not all be in memory.
** Training takes time in proportion to the samples (zstd compresses each
** to finish the dictionary): with zstd, 10,000 instead of 20,000 halved it
** for stored text 0.7 % larger on the scale set (56.6 -> 57.0 MB); with
** LZ4, 5,000 instead of 10,000 take the training thread of a rebuild of
** the 212 MB corpus from 0.34 to 0.16 s (perf), and its stored text from
** 132.6 to 131.6 MB (ids, titles and sections 13.49 -> 13.43 MB). */
#define FURET_SAMPLES 5000
typedef struct furet_text_sampler {
	furet_buf samples;
	size_t *sizes;
	size_t n_sizes, cap_sizes;
	size_t i, step;
	int is_full;
} furet_text_sampler;

void furet_text_sampler_init(furet_text_sampler *s, size_t n);
/* 0 to go on, 1 when the sample is complete, -1 when out of memory. */
int furet_text_sampler_offer(furet_text_sampler *s, const char *text,
	size_t len);
/* Trains a dictionary from the sample into *dict (empty when there is too
** little text to be worth it). segment: the length of the pieces of the
** samples it is made of (fastCover's k), about a sample's: 1024 for
** passages, 256 for documents' ids, titles and sections (1024 made those
** 13 % larger on 922,724 distractor documents, 11 % on the scale set). */
furet_rc furet_text_sampler_train(furet_text_sampler *s, unsigned segment,
	furet_buf *dict);
void furet_text_sampler_free(furet_text_sampler *s);

/* An encoder using dict (may be empty); dict must outlive it. level:
** FURET_TEXT_LZ4 (the passages' text) or zstd's level (ids, titles and
** sections take 3, see writer.c). */
#define FURET_TEXT_LZ4 0
furet_rc furet_text_enc_open(const void *dict, size_t dict_len, int level,
	furet_text_enc **out);
void furet_text_enc_close(furet_text_enc *e);
/* Replaces out's content with the stored form of text. */
furet_rc furet_text_encode(furet_text_enc *e, const char *text, size_t len,
	furet_buf *out);

/* A decoder using the index's dict (may be empty); dict must outlive it. */
furet_rc furet_text_dec_open(const void *dict, size_t dict_len,
	furet_text_dec **out);
void furet_text_dec_close(furet_text_dec *d);
/* Decodes a stored value whose text is expected_len bytes into out
** (replacing its content). FURET_CORRUPT on anything unexpected. */
furet_rc furet_text_decode(furet_text_dec *d, const void *stored,
	size_t stored_len, size_t expected_len, furet_buf *out);

/* A group: the texts of consecutive passages of one document, stored as
** one value so that zstd sees more than a paragraph at a time (the text
** table keeps a group under its last passage's id). The value: a varint
** n, the n texts' lengths as varints, then the stored form of their
** concatenation (furet_text_encode). */
#define FURET_TEXT_GROUP 2048 /* texts join a group up to this many bytes */

/* Appends the group of the n texts concatenated in text, of lengths lens,
** to out; scratch is the encoder's work buffer. */
furet_rc furet_text_group_encode(furet_text_enc *e, const char *text,
	const size_t *lens, size_t n, furet_buf *scratch, furet_buf *out);
/* Decodes the group stored in (stored, stored_len) into all (replacing
** its content) and finds its text back places before the last one:
** *off and *len within all. FURET_CORRUPT on anything unexpected, back
** past the group's first text included. */
furet_rc furet_text_group_decode(furet_text_dec *d, const void *stored,
	size_t stored_len, uint64_t back, furet_buf *all, size_t *off,
	size_t *len);
#endif
