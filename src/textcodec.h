/*
** textcodec.h — stored passage text, compressed with zstd.
**
** Passages are short (a paragraph), and zstd on a paragraph alone finds
** little to reuse; with a dictionary trained on the collection's own text
** (ZDICT) each passage compresses several times. A rebuild trains one from
** a sample of its passages and keeps it in meta ("zdict"); later batches use
** the index's dictionary. Each stored value starts with a tag byte: 0 raw
** text follows, 1 a zstd frame without dictionary, 2 a zstd frame made
** with the index's dictionary; frames are stored without their magic number
** and without a dictionary id. A frame of one block (texts up to 128 KiB)
** is stored as that block's content alone, tag 3 + 3 x (with the
** dictionary) + its block type. Decoding checks everything it reads.
**
** The same codec, with a dictionary of its own ("zdict_ids"), stores the
** documents' ids and titles (store.c).
**
** Only this module includes zstd.
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
** to finish the dictionary): 10,000 instead of 20,000 halve it, for stored
** text 0.7 % larger on the scale set (56.6 -> 57.0 MB). */
#define FURET_SAMPLES 10000
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

/* An encoder using dict (may be empty); dict must outlive it. level: zstd's
** (0: 3, the stored text's; ids and titles take 12, see writer.c). */
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
