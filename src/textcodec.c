/*
** textcodec.c — stored text: LZ4 (the passages' text) or zstd (ids, titles
** and sections), each with a dictionary trained on the collection. See
** textcodec.h for the stored form.
**
** A zstd frame starts with a 4-byte magic number, and one made with a
** dictionary names it by a 4-byte id: on values of a hundred bytes (a
** document's id and title) those 8 bytes are a sixth of the frame. Both are
** left out of what is stored: the encoder asks for no dictionary id (the
** index has one dictionary per table, so it is implied) and drops the magic
** number, which the decoder puts back in its scratch buffer before calling
** zstd (whose magic-less format is experimental API). A text of a
** paragraph makes a frame of one block, whose headers (the frame's: the
** text's length; the block's: its type and length) say nothing the
** decoder does not know from the tag, the expected length and the stored
** length: the encoder keeps the block's content alone when the frame is
** exactly what frame_head and one last block give, and the decoder puts
** the 4 to 10 bytes back.
**
** An LZ4 block has no header at all: the tag, then the block. With the
** dictionary, the encoder starts each text from a copy of a stream that
** has loaded it (LZ4_loadDict once; the copy, 16 KB, costs less than
** loading again), and the decoder gives the same bytes to
** LZ4_decompress_safe_usingDict, which checks every length it reads.
*/
#include "textcodec.h"

#include <string.h>
#define ZDICT_STATIC_LINKING_ONLY /* the fastCover parameters */
#include <zdict.h>
#include <lz4.h>
#include <zstd.h>

#define TAG_RAW 0
#define TAG_ZSTD 1
#define TAG_ZSTD_DICT 2
#define TAG_BLOCK 3 /* 3 + 3 x (with the dictionary) + zstd's block type */
#define TAG_LZ4 9
#define TAG_LZ4_DICT 10
#define TAG_END 11
#define DICT_CAP (64 * 1024)
#define SAMPLE_CAP (8u << 20) /* text fed to the trainer at most */
#define LEVEL 3
#define MAGIC_LEN 4 /* ZSTD_MAGICNUMBER, little-endian, not stored */

struct furet_text_enc {
	ZSTD_CCtx *cctx;   /* zstd: NULL with LZ4 */
	ZSTD_CDict *cdict; /* NULL without dictionary */
	LZ4_stream_t *dict_stream; /* LZ4 with a dictionary: it loaded */
	LZ4_stream_t *work;        /* LZ4: the stream of one text */
};

struct furet_text_dec {
	ZSTD_DCtx *dctx;
	ZSTD_DDict *ddict;
	const char *dict;  /* LZ4's, the same bytes */
	size_t dict_len;
	furet_buf frame; /* the stored frame behind its magic number */
};

void furet_text_sampler_init(furet_text_sampler *s, size_t n)
{
	memset(s, 0, sizeof *s);
	furet_buf_init(&s->samples);
	s->step = n > FURET_SAMPLES ? n / FURET_SAMPLES : 1;
}

int furet_text_sampler_offer(furet_text_sampler *s, const char *text,
	size_t len)
{
	/* Every passage, evenly, until the sample is full. */
	if (s->is_full || s->samples.len + len > SAMPLE_CAP) {
		s->is_full = 1;
		return 1;
	}
	if (s->i++ % s->step)
		return 0;
	if (furet_grow((void **)&s->sizes, &s->cap_sizes, s->n_sizes + 1,
		sizeof *s->sizes))
		return -1;
	furet_buf_append(&s->samples, text, len);
	if (s->samples.has_err)
		return -1;
	s->sizes[s->n_sizes++] = len;
	return 0;
}

furet_rc furet_text_sampler_train(furet_text_sampler *s, unsigned segment,
	furet_buf *dict)
{
	size_t r;

	furet_buf_reset(dict);
	if (s->samples.len < 100 * 1024 || s->n_sizes < 100)
		return FURET_OK; /* too little text for a dictionary to pay */
	if (furet_buf_reserve(dict, DICT_CAP))
		return FURET_NOMEM;
	{
		/* fastCover with its parameters fixed (k segment, d 8): 0.06 s
		** instead of 0.27 s on 3 MB of samples, for the same size of the
		** stored text (ZDICT_trainFromBuffer tries several k and d). The
		** rebuild waits for it. */
		ZDICT_fastCover_params_t p;
		memset(&p, 0, sizeof p);
		p.k = segment;
		p.d = 8;
		p.f = 20;
		p.accel = 1;
		p.zParams.compressionLevel = LEVEL;
		r = ZDICT_trainFromBuffer_fastCover(dict->data, DICT_CAP,
			s->samples.data, s->sizes, (unsigned)s->n_sizes, p);
	}
	dict->len = ZDICT_isError(r) ? 0 : r;
	return FURET_OK;
}

void furet_text_sampler_free(furet_text_sampler *s)
{
	furet_buf_free(&s->samples);
	furet_free(s->sizes);
	s->sizes = NULL;
}

furet_rc furet_text_enc_open(const void *dict, size_t dict_len, int level,
	furet_text_enc **out)
{
	furet_text_enc *e = furet_malloc(sizeof *e);

	*out = NULL;
	if (!e)
		return FURET_NOMEM;
	memset(e, 0, sizeof *e);
	if (level == FURET_TEXT_LZ4) {
		/* (a dictionary is at most DICT_CAP, 64 KB: LZ4's window) */
		if (!(e->work = LZ4_createStream()) || (dict_len &&
			(dict_len > DICT_CAP || !(e->dict_stream = LZ4_createStream()) ||
			LZ4_loadDict(e->dict_stream, dict, (int)dict_len) !=
			(int)dict_len))) {
			furet_text_enc_close(e);
			return FURET_NOMEM;
		}
		*out = e;
		return FURET_OK;
	}
	e->cctx = ZSTD_createCCtx();
	e->cdict = dict_len ? ZSTD_createCDict(dict, dict_len, level) : NULL;
	if (!e->cctx || (dict_len && !e->cdict) ||
		ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx,
			ZSTD_c_compressionLevel, level)) ||
		ZSTD_isError(ZSTD_CCtx_setParameter(e->cctx, ZSTD_c_dictIDFlag, 0)) ||
		ZSTD_isError(ZSTD_CCtx_refCDict(e->cctx, e->cdict))) {
		furet_text_enc_close(e);
		return FURET_NOMEM;
	}
	*out = e;
	return FURET_OK;
}

void furet_text_enc_close(furet_text_enc *e)
{
	if (!e)
		return;
	ZSTD_freeCCtx(e->cctx);
	ZSTD_freeCDict(e->cdict);
	LZ4_freeStream(e->dict_stream);
	LZ4_freeStream(e->work);
	furet_free(e);
}

/* The frame header zstd writes after its magic number for a text of len
** bytes, with the encoder's parameters (one segment, the content size in
** as few bytes as it takes, no dictionary id, no checksum): into hdr (9
** bytes at most); returns its length. */
static size_t frame_head(unsigned char *hdr, uint64_t len)
{
	unsigned code = (len >= 256) + (len >= 65536 + 256) + (len >= 0xFFFFFFFFu);
	size_t n = (size_t[]){ 1, 2, 4, 8 }[code], i;
	uint64_t v = code == 1 ? len - 256 : len;

	hdr[0] = (unsigned char)(0x20 | code << 6);
	for (i = 0; i < n; i++)
		hdr[1 + i] = (unsigned char)(v >> (8 * i));
	return 1 + n;
}

/* Whether frame f (r bytes, from the magic number on) of a text of len
** bytes is that header (frame_head) and one last block, whose content can
** then be stored alone, the decoder putting the 3 + 1 to 9 bytes of
** headers back: 1 with the block's type in *type and where its content
** starts in *at, 0 when it is not. */
static int one_block(const unsigned char *f, size_t r, size_t len,
	unsigned *type, size_t *at)
{
	unsigned char hdr[9];
	size_t h = frame_head(hdr, len), payload;
	uint32_t bh;

	if (r < MAGIC_LEN + h + 3 || memcmp(f + MAGIC_LEN, hdr, h) != 0)
		return 0;
	bh = (uint32_t)f[MAGIC_LEN + h] | (uint32_t)f[MAGIC_LEN + h + 1] << 8 |
		(uint32_t)f[MAGIC_LEN + h + 2] << 16;
	*type = bh >> 1 & 3;
	payload = r - MAGIC_LEN - h - 3;
	if (!(bh & 1) || *type > 2 || (*type == 1 ? payload != 1 ||
		bh >> 3 != len : payload != bh >> 3) || payload >= len)
		return 0;
	*at = MAGIC_LEN + h + 3;
	return 1;
}

/* LZ4's stored form of text into out (emptied), when shorter than the
** text; out is left empty when not. */
static void lz4_encode(furet_text_enc *e, const char *text, size_t len,
	furet_buf *out)
{
	int bound, r;

	if (len > LZ4_MAX_INPUT_SIZE)
		return;
	bound = LZ4_compressBound((int)len);
	if (furet_buf_reserve(out, (size_t)bound + 1))
		return;
	if (e->dict_stream) {
		memcpy(e->work, e->dict_stream, sizeof *e->work);
		r = LZ4_compress_fast_continue(e->work, text, (char *)out->data + 1,
			(int)len, bound, 1);
	} else {
		r = LZ4_compress_default(text, (char *)out->data + 1, (int)len,
			bound);
	}
	if (r > 0 && (size_t)r + 1 < len) {
		out->data[0] = e->dict_stream ? TAG_LZ4_DICT : TAG_LZ4;
		out->len = (size_t)r + 1;
	}
}

furet_rc furet_text_encode(furet_text_enc *e, const char *text, size_t len,
	furet_buf *out)
{
	size_t bound = ZSTD_compressBound(len), r;

	furet_buf_reset(out);
	if (!e->cctx) {
		if (len >= 16 || e->dict_stream)
			lz4_encode(e, text, len, out);
		if (out->len)
			return FURET_OK;
	} else if ((len >= 64 || e->cdict) &&
		!furet_buf_reserve(out, bound + 1)) {
		/* (with a dictionary, short texts compress too) */
		r = ZSTD_compress2(e->cctx, out->data + 1, bound, text, len);
		if (!ZSTD_isError(r) && r > MAGIC_LEN && r - MAGIC_LEN + 1 < len) {
			/* One block, as texts of a paragraph are: its content alone;
			** else the frame without its magic number. Moved down in
			** place, over the headers. */
			unsigned type;
			size_t at = MAGIC_LEN;
			if (one_block(out->data + 1, r, len, &type, &at))
				out->data[0] = (unsigned char)(TAG_BLOCK +
					3 * (e->cdict != NULL) + type);
			else
				out->data[0] = e->cdict ? TAG_ZSTD_DICT : TAG_ZSTD;
			memmove(out->data + 1, out->data + 1 + at, r - at);
			out->len = r - at + 1;
			return FURET_OK;
		}
	}
	/* Short, or incompressible: as it is. */
	furet_buf_reset(out);
	furet_buf_putc(out, TAG_RAW);
	furet_buf_append(out, text, len);
	return out->has_err ? FURET_NOMEM : FURET_OK;
}

furet_rc furet_text_dec_open(const void *dict, size_t dict_len,
	furet_text_dec **out)
{
	furet_text_dec *d = furet_malloc(sizeof *d);

	*out = NULL;
	if (!d)
		return FURET_NOMEM;
	furet_buf_init(&d->frame);
	d->dctx = ZSTD_createDCtx();
	d->ddict = dict_len ? ZSTD_createDDict(dict, dict_len) : NULL;
	d->dict = dict;
	d->dict_len = dict_len;
	if (!d->dctx || (dict_len && !d->ddict)) {
		furet_text_dec_close(d);
		return FURET_NOMEM;
	}
	*out = d;
	return FURET_OK;
}

void furet_text_dec_close(furet_text_dec *d)
{
	if (!d)
		return;
	ZSTD_freeDCtx(d->dctx);
	ZSTD_freeDDict(d->ddict);
	furet_buf_free(&d->frame);
	furet_free(d);
}

/* An LZ4 block (tag included) into out. A block of n bytes holds at most
** 255 bytes of text per byte, and the 64 KB dictionary is LZ4's window:
** larger lengths, or a dictionary longer than that, are damage. */
static furet_rc lz4_decode(furet_text_dec *d, const unsigned char *p,
	size_t stored_len, size_t expected_len, furet_buf *out)
{
	int has_dict = p[0] == TAG_LZ4_DICT, r;

	if ((has_dict && (!d->dict_len || d->dict_len > DICT_CAP)) ||
		stored_len < 2 || expected_len > LZ4_MAX_INPUT_SIZE ||
		expected_len / 255 > stored_len)
		return FURET_CORRUPT;
	if (furet_buf_reserve(out, expected_len))
		return FURET_NOMEM;
	r = has_dict ? LZ4_decompress_safe_usingDict((const char *)p + 1,
		(char *)out->data, (int)(stored_len - 1), (int)expected_len,
		d->dict, (int)d->dict_len) :
		LZ4_decompress_safe((const char *)p + 1, (char *)out->data,
		(int)(stored_len - 1), (int)expected_len);
	if (r < 0 || (size_t)r != expected_len)
		return FURET_CORRUPT;
	out->len = (size_t)r;
	out->data[r] = '\0';
	return FURET_OK;
}

furet_rc furet_text_decode(furet_text_dec *d, const void *stored,
	size_t stored_len, size_t expected_len, furet_buf *out)
{
	const unsigned char *p = stored;
	unsigned long long size;
	size_t r;
	int has_dict;

	furet_buf_reset(out);
	if (stored_len < 1)
		return FURET_CORRUPT;
	if (p[0] == TAG_RAW) {
		if (stored_len - 1 != expected_len)
			return FURET_CORRUPT;
		furet_buf_append(out, p + 1, stored_len - 1);
		return out->has_err ? FURET_NOMEM : FURET_OK;
	}
	if (p[0] >= TAG_END)
		return FURET_CORRUPT;
	if (p[0] >= TAG_LZ4)
		return lz4_decode(d, p, stored_len, expected_len, out);
	has_dict = p[0] == TAG_ZSTD_DICT || p[0] >= TAG_BLOCK + 3;
	if (has_dict && !d->ddict)
		return FURET_CORRUPT;
	furet_buf_reset(&d->frame);
	furet_buf_put_u32le(&d->frame, ZSTD_MAGICNUMBER);
	if (p[0] >= TAG_BLOCK) {
		/* the headers put back: the frame's, then its one block's */
		unsigned type = (unsigned)(p[0] - TAG_BLOCK) % 3;
		unsigned char hdr[9 + 3];
		size_t h = frame_head(hdr, expected_len), payload = stored_len - 1;
		uint64_t bsize = type == 1 ? expected_len : payload;
		/* (one block holds 128 KiB at most: no larger buffer for a
		** damaged length) */
		if ((type == 1 && payload != 1) || bsize >= (1u << 21) ||
			expected_len > ZSTD_BLOCKSIZE_MAX)
			return FURET_CORRUPT;
		hdr[h] = (unsigned char)(1 | type << 1 | (bsize & 0x1f) << 3);
		hdr[h + 1] = (unsigned char)(bsize >> 5);
		hdr[h + 2] = (unsigned char)(bsize >> 13);
		furet_buf_append(&d->frame, hdr, h + 3);
	}
	furet_buf_append(&d->frame, p + 1, stored_len - 1);
	if (d->frame.has_err)
		return FURET_NOMEM;
	size = ZSTD_getFrameContentSize(d->frame.data, d->frame.len);
	if (size != expected_len)
		return FURET_CORRUPT;
	if (furet_buf_reserve(out, expected_len))
		return FURET_NOMEM;
	r = has_dict ?
		ZSTD_decompress_usingDDict(d->dctx, out->data, expected_len,
			d->frame.data, d->frame.len, d->ddict) :
		ZSTD_decompressDCtx(d->dctx, out->data, expected_len, d->frame.data,
			d->frame.len);
	if (ZSTD_isError(r) || r != expected_len)
		return FURET_CORRUPT;
	out->len = r;
	out->data[r] = '\0';
	return FURET_OK;
}

furet_rc furet_text_group_encode(furet_text_enc *e, const char *text,
	const size_t *lens, size_t n, furet_buf *scratch, furet_buf *out)
{
	size_t i, total = 0;
	furet_rc rc;

	furet_buf_put_varint(out, n);
	for (i = 0; i < n; i++) {
		furet_buf_put_varint(out, lens[i]);
		total += lens[i];
	}
	if ((rc = furet_text_encode(e, text, total, scratch)))
		return rc;
	furet_buf_append(out, scratch->data, scratch->len);
	return out->has_err ? FURET_NOMEM : FURET_OK;
}

furet_rc furet_text_group_decode(furet_text_dec *d, const void *stored,
	size_t stored_len, uint64_t back, furet_buf *all, size_t *off,
	size_t *len)
{
	const unsigned char *p = stored, *end = p + stored_len;
	uint64_t n, i, v, total = 0, at = 0, want;
	size_t r;

	furet_buf_reset(all);
	if (!(r = furet_get_varint(p, end, &n)) || n == 0 || back >= n ||
		n > stored_len)
		return FURET_CORRUPT;
	p += r;
	want = n - 1 - back;
	for (i = 0; i < n; i++) {
		if (!(r = furet_get_varint(p, end, &v)) || v > SIZE_MAX / 2 ||
			total + v < total || total + v > SIZE_MAX / 2)
			return FURET_CORRUPT;
		p += r;
		if (i == want) {
			at = total;
			*len = (size_t)v;
		}
		total += v;
	}
	*off = (size_t)at;
	return furet_text_decode(d, p, (size_t)(end - p), (size_t)total, all);
}
