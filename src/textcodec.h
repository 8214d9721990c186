/*
** textcodec.h — stored passage text, compressed with zstd.
**
** Passages are short (a paragraph), and zstd on a paragraph alone finds
** little to reuse; with a dictionary trained on the collection's own text
** (ZDICT) each passage compresses several times. A rebuild trains one from
** a sample of its passages and keeps it in meta ("zdict"); later batches use
** the index's dictionary. Each stored value starts with a tag byte: 0 raw
** text follows, 1 a zstd frame without dictionary, 2 a zstd frame made
** with the index's dictionary. Decoding checks everything it reads.
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

/* Trains a dictionary from n samples (texts[i], lens[i]) into *dict (a
** furet_buf, empty when there is too little text to be worth it). */
furet_rc furet_text_train(const char *const *texts, const size_t *lens,
	size_t n, furet_buf *dict);

/* An encoder using dict (may be empty); dict must outlive it. */
furet_rc furet_text_enc_open(const void *dict, size_t dict_len,
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

#endif
