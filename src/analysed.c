/*
** analysed.c — one document cut into passages and analysed into ENTRY
** records for the writer's inverter. See analysed.h for the output.
**
** What this reproduces of the single-threaded writer, exactly: the title
** is the document's own (even "") or else the markdown title from the
** split; it is analysed once per document and its terms count in every
** passage (field 1, position 0); a section is analysed again whenever it
** differs from the previous passage's (field 2, position 0); the body's
** tokens come in position order. A passage's terms are grouped in the
** order of their first occurrence, body tokens first, then the title's,
** then the section's: a term's body tokens are chained in token order
** (their positions never decrease, so no sort is needed), and its title
** and section occurrences, all at position 0, are only counted.
**
** Every lookup pair of every token (title, sections, bodies) is recorded,
** except those of a (word, term) that the worker's small cache says it
** recorded already (in any earlier document: the index gets the union of
** all pairs, so skipping one seen before changes nothing); the writer's
** sets keep each pair once over the batch.
*/
#include "analysed.h"

#include <string.h>

#include "index.h"
#include "passage.h"
#include "pipeline.h"

#define NONE UINT32_MAX

/* A term's span of passages without body occurrences and with the same
** title and section counts (see SPAN in analysed.h): start is NONE when
** none is open. */
typedef struct adoc_span {
	uint32_t start;           /* first passage of the span, NONE: none */
	uint32_t ttf, stf;        /* the term in the title, in the section */
	uint32_t stamp;           /* (de-duplicates the fields' term lists) */
} adoc_span;
#define KEY_MAX 511 /* LMDB's key limit: longer pairs are junk, not kept */

void furet_adoc_init(furet_adoc *d)
{
	memset(d, 0, sizeof *d);
}

void furet_adoc_free(furet_adoc *d)
{
	if (!d)
		return;
	furet_buf_free(&d->in);
	furet_free(d->pass);
	furet_free(d->terms);
	furet_buf_free(&d->term_bytes);
	furet_buf_free(&d->ents);
	furet_buf_free(&d->pairs);
	furet_free(d->bmap);
	memset(d, 0, sizeof *d);
}

size_t furet_adoc_bytes(const furet_adoc *d)
{
	return d->in.cap + d->cap_pass * sizeof *d->pass +
		d->cap_terms * sizeof *d->terms + d->term_bytes.cap + d->ents.cap +
		d->pairs.cap + d->cap_bmap * sizeof *d->bmap;
}

furet_rc furet_adoc_work_open(furet_index *ix, furet_adoc_work **out)
{
	furet_adoc_work *k = furet_malloc(sizeof *k);
	furet_rc rc;

	*out = NULL;
	if (!k)
		return FURET_NOMEM;
	memset(k, 0, sizeof *k);
	if ((rc = furet_index_take_analyzer(ix, &k->an))) {
		furet_free(k);
		return rc;
	}
	*out = k;
	return FURET_OK;
}

void furet_adoc_work_close(furet_index *ix, furet_adoc_work *k)
{
	if (!k)
		return;
	furet_index_give_analyzer(ix, k->an);
	furet_free(k->slots);
	furet_free(k->grp);
	furet_free(k->spans);
	furet_free(k->title_ltids);
	furet_free(k->sec_ltids);
	furet_free(k->groups);
	furet_free(k->next);
	furet_free(k->cand);
	furet_free(k->cand_hash);
	furet_buf_free(&k->words);
	furet_buf_free(&k->scratch);
	furet_free(k->bslots);
	furet_free(k);
}

/* The next 8 bytes as a little-endian integer, whatever the machine's
** order: the hash is stored, and must not depend on where it was made. */
static inline uint64_t load_le64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
		(uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
		(uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* The document's bytes go into four lanes of 64 bits, word i (8 bytes,
** little-endian) into lane i % 4: the lanes' chains are apart, so the
** processor runs them side by side (two lanes over every word, format 14,
** made the hash 0.9 % of a rebuild's time). Each step is a bijection of
** the lane (xor, multiply by an odd constant, xorshift): two contents that
** differ in one word end with that lane different. */
typedef struct doc_hasher {
	uint64_t h[4];
	uint64_t n; /* words so far */
} doc_hasher;

static const uint64_t hash_mul[4] = {
	0x9e3779b97f4a7c15ull, 0xc2b2ae3d27d4eb4full,
	0x165667b19e3779f9ull, 0xd6e8feb86659fd93ull,
};

static inline uint64_t hash_step(uint64_t h, uint64_t v, unsigned j)
{
	h = (h ^ v) * hash_mul[j];
	return h ^ h >> (29 + j);
}

static inline void hash_word(doc_hasher *s, uint64_t v)
{
	unsigned j = (unsigned)(s->n++ & 3);

	s->h[j] = hash_step(s->h[j], v, j);
}

/* p[0..len), the last word padded with zeros, then len: the length after
** each part separates the parts. */
static void hash_part(doc_hasher *s, const unsigned char *p, size_t len)
{
	unsigned char last[8] = { 0 };
	size_t i = 0;

	while (i + 8 <= len && (s->n & 3)) {
		hash_word(s, load_le64(p + i));
		i += 8;
	}
	for (; i + 32 <= len; i += 32) {
		s->h[0] = hash_step(s->h[0], load_le64(p + i), 0);
		s->h[1] = hash_step(s->h[1], load_le64(p + i + 8), 1);
		s->h[2] = hash_step(s->h[2], load_le64(p + i + 16), 2);
		s->h[3] = hash_step(s->h[3], load_le64(p + i + 24), 3);
		s->n += 4;
	}
	for (; i + 8 <= len; i += 8)
		hash_word(s, load_le64(p + i));
	if (i < len) {
		memcpy(last, p + i, len - i);
		hash_word(s, load_le64(last));
	}
	hash_word(s, (uint64_t)len);
}

/* MurmurHash3's finaliser: every input bit reaches every output bit. */
static uint64_t doc_hash_final(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

static uint64_t rotl64(uint64_t x, unsigned r)
{
	return x << r | x >> (64 - r);
}

void furet_doc_hash(const furet_doc *doc, unsigned char out[16])
{
	doc_hasher s = { { 0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull,
		0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull }, 0 };
	uint64_t h0, h1;
	size_t i;

	hash_word(&s, (uint64_t)doc->format);
	hash_part(&s, (const unsigned char *)(doc->title ? doc->title : ""),
		doc->title ? doc->title_len : 0);
	hash_part(&s, (const unsigned char *)(doc->text ? doc->text : ""),
		doc->text_len);
	/* A change of the metadata alone is a change of the document. */
	hash_part(&s, (const unsigned char *)(doc->meta_len ? doc->meta : ""),
		doc->meta_len);
	/* Each half sees every lane: a lane that differs changes both. */
	h0 = doc_hash_final(s.h[0] ^ rotl64(s.h[1], 16) ^ rotl64(s.h[2], 32) ^
		rotl64(s.h[3], 48));
	h1 = doc_hash_final((s.h[1] ^ rotl64(s.h[2], 16) ^ rotl64(s.h[3], 32) ^
		rotl64(s.h[0], 48)) + h0);
	for (i = 0; i < 8; i++) {
		out[i] = (unsigned char)(h0 >> (8 * i));
		out[8 + i] = (unsigned char)(h1 >> (8 * i));
	}
}

furet_rc furet_adoc_set(furet_adoc *d, const furet_doc *doc, uint32_t doc_no,
	const unsigned char *hash)
{
	furet_buf_reset(&d->in);
	d->has_title = doc->title != NULL;
	d->title_len = doc->title ? doc->title_len : 0;
	d->text_len = doc->text_len;
	d->source_len = doc->source ? strlen(doc->source) : 0;
	d->meta_len = doc->meta_len;
	furet_buf_append(&d->in, doc->title, d->title_len);
	furet_buf_append(&d->in, doc->text, d->text_len);
	furet_buf_append(&d->in, doc->source, d->source_len);
	furet_buf_append(&d->in, doc->meta, d->meta_len);
	d->format = doc->format;
	d->doc = doc_no;
	d->has_hash = hash != NULL;
	if (hash)
		memcpy(d->hash, hash, 16);
	d->rc = FURET_OK;
	return d->in.has_err ? FURET_NOMEM : FURET_OK;
}

/* ---- the document's terms ------------------------------------------------ */

/* Open addressing over a table of terms (a document's, in its thread's
** slots; a batch's, in bslots): slots hold a term's index + 1 (0: empty),
** at most half of them used. Each term is found again by its hash when
** the table is done with, so that only the slots it used are cleared: a
** big document leaves a big table, and clearing by probing again costs
** what inserting did, far less than wiping the table for every small
** document after it. */
static int slots_grow(const furet_adoc_term *terms, size_t n_terms,
	uint32_t **slots, size_t *n_slots, size_t first)
{
	size_t n = *n_slots ? *n_slots * 2 : first, i;
	uint32_t *s = furet_malloc(n * sizeof *s);

	if (!s)
		return -1;
	memset(s, 0, n * sizeof *s);
	for (i = 0; i < n_terms; i++) {
		size_t j = terms[i].hash & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	furet_free(*slots);
	*slots = s;
	*n_slots = n;
	return 0;
}

static void slots_clear(const furet_adoc_term *terms, size_t n_terms,
	uint32_t *slots, size_t n_slots)
{
	size_t i;

	for (i = 0; i < n_terms; i++) {
		size_t j = terms[i].hash & (n_slots - 1);
		while (slots[j] != i + 1)
			j = (j + 1) & (n_slots - 1);
		slots[j] = 0;
	}
}

/* The index of term (hash h) among terms (their bytes in bytes), or -1
** with *at the empty slot where the lookup ended. Inline: once per token,
** and most tokens find their term (a call saving and restoring registers
** cost as much as the lookup). */
static inline int64_t slots_find(const furet_adoc_term *terms,
	const unsigned char *bytes, const uint32_t *slots, size_t n_slots,
	const char *term, size_t len, uint32_t h, size_t *at)
{
	size_t j;

	for (j = h & (n_slots - 1); slots[j]; j = (j + 1) & (n_slots - 1)) {
		const furet_adoc_term *e = &terms[slots[j] - 1];
		if (e->hash == h && e->len == len &&
			furet_same(bytes + e->off, term, len))
			return slots[j] - 1;
	}
	*at = j;
	return -1;
}

static void clear_slots(const furet_adoc *d, furet_adoc_work *k)
{
	slots_clear(d->terms, d->n_terms, k->slots, k->n_slots);
}

/* Makes room for n more terms: the table, its slots (at most half full)
** and the passage's group numbers, so that adding a term (add_term) only
** fills them. 0, or -1 when out of memory. */
static int reserve_terms(furet_adoc *d, furet_adoc_work *k, size_t n)
{
	size_t need = d->n_terms + n;

	while ((need + 1) * 2 > k->n_slots)
		if (slots_grow(d->terms, d->n_terms, &k->slots, &k->n_slots, 1024))
			return -1;
	if (furet_grow((void **)&d->terms, &d->cap_terms, need, sizeof *d->terms))
		return -1;
	if (need > k->cap_grp) {
		size_t cap = k->cap_grp, cap_spans = k->cap_grp, i;
		if (furet_grow((void **)&k->grp, &cap, need, sizeof *k->grp) ||
			furet_grow((void **)&k->spans, &cap_spans, cap, sizeof *k->spans))
			return -1;
		for (i = k->cap_grp; i < cap; i++) {
			k->grp[i] = NONE;
			memset(&k->spans[i], 0, sizeof k->spans[i]);
			k->spans[i].start = NONE;
		}
		k->cap_grp = cap;
	}
	return 0;
}

/* Adds term (hash h) in empty slot j, where its lookup ended (the room is
** reserved); its local number, or -1 when out of memory. */
static int64_t add_term(furet_adoc *d, furet_adoc_work *k, const char *term,
	size_t len, uint32_t h, size_t j)
{
	furet_adoc_term *e;

	if (d->term_bytes.len > UINT32_MAX - len)
		return -1;
	e = &d->terms[d->n_terms];
	e->off = (uint32_t)d->term_bytes.len;
	e->len = (uint32_t)len;
	e->hash = h;
	e->word_off = 0;
	e->word_len = UINT32_MAX;
	furet_buf_append(&d->term_bytes, term, len);
	if (d->term_bytes.has_err)
		return -1;
	k->slots[j] = (uint32_t)d->n_terms + 1;
	return (int64_t)d->n_terms++;
}

/* The local number of term (hash h), added when new; -1 when out of
** memory. The caller reserved room for it (reserve_terms). */
static inline int64_t intern(furet_adoc *d, furet_adoc_work *k,
	const char *term, size_t len, uint32_t h)
{
	size_t j;
	int64_t l = slots_find(d->terms, d->term_bytes.data, k->slots,
		k->n_slots, term, len, h, &j);

	return l >= 0 ? l : add_term(d, k, term, len, h, j);
}

/* ---- lookup pairs ---------------------------------------------------------- */

/* The fingerprint of the token's (word, term) in the cache: the word's
** 64-bit hash and the term's 32-bit one (the analyzer's, term_hash), mixed
** by a bijection (MurmurHash3's finaliser). Two keys share it when their
** words' 64-bit hashes do (once in 2^64), or, for one word that made two
** terms (a word all but always makes the same), their terms' 32-bit
** hashes; never 0 (an empty slot). The slot is its top bits. */
static inline uint64_t pair_hash(const furet_token *t)
{
	uint64_t h = furet_hash64(t->word, t->word_len) ^
		(uint64_t)t->term_hash * 0x9e3779b97f4a7c15ull;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h | 1;
}

static inline furet_pair_cache *pair_slot(furet_pair_cache *cache,
	uint64_t h)
{
	return &cache[h >> (64 - FURET_PAIR_CACHE_BITS)];
}

/* Did this worker record the pairs of (word, term) recently? The cache
** forgets: it only spares the writer most of the pairs it would keep once
** anyway (everything emitted by any worker ends up in the index, so a pair
** skipped here was emitted before). Only two keys of the same fingerprint
** (pair_hash) in one slot could make it skip one never emitted: for the
** 5 M lookups of the 212 MB corpus, a chance of about 10^-13. 65,536
** slots of 8 bytes, where it held 8,192 keys of 64: the writer gets
** 0.77 M pairs to look up instead of 2.78 M (153,277 distinct). Records
** the key when not; h is its pair_hash. */
static int seen_before(furet_pair_cache *cache, uint64_t h)
{
	furet_pair_cache *e = pair_slot(cache, h);

	if (*e == h)
		return 1;
	*e = h;
	return 0;
}

static void add_pair(furet_adoc *d, int table, const char *a, size_t a_len,
	const char *b, size_t b_len)
{
	size_t len = a_len + 1 + b_len;
	size_t at;
	uint32_t h;

	if (len > KEY_MAX)
		return; /* no LMDB key can be that long; such words are junk */
	furet_buf_putc(&d->pairs, table);
	at = d->pairs.len;
	furet_buf_append(&d->pairs, "\0\0\0\0", 4);
	furet_buf_put_varint(&d->pairs, len);
	furet_buf_append(&d->pairs, a, a_len);
	furet_buf_putc(&d->pairs, 0);
	furet_buf_append(&d->pairs, b, b_len);
	if (d->pairs.has_err)
		return;
	h = furet_hash32(d->pairs.data + d->pairs.len - len, len);
	memcpy(d->pairs.data + at, &h, 4);
	d->n_pairs++;
}

/* What the search needs to reach a token's term other than by the term
** itself: its accent-free key when that differs (folds), and its
** unaccented word for typo candidates (words of 4+ bytes, not numbers).
** new_pairs says whether the token may bring pairs the document has not
** brought yet; add_pairs records them unless the cache saw them. */
static int has_fold(const furet_token *t)
{
	/* The analyzer points fold at term when they are the same. */
	return t->fold != t->term && (t->fold_len != t->term_len ||
		!furet_same(t->fold, t->term, t->term_len));
}

static int has_word(const furet_token *t)
{
	return t->word_len >= 4 && !(t->flags & FURET_TOK_NUMBER);
}

/* Records t's word as the last of its term e: 1, or -1 when out of
** memory. */
static int new_word(furet_adoc_work *k, furet_adoc_term *e,
	const furet_token *t)
{
	if (k->words.len > UINT32_MAX - t->word_len)
		return -1;
	e->word_off = (uint32_t)k->words.len;
	e->word_len = (uint32_t)t->word_len;
	furet_buf_append(&k->words, t->word, t->word_len);
	return k->words.has_err ? -1 : 1;
}

/* 1 when the token's pairs are to be looked for (in the cache, then
** recorded), 0 when not, -1 when out of memory. Inline, as intern. */
static inline int new_pairs(furet_adoc *d, furet_adoc_work *k, uint32_t ltid,
	const furet_token *t)
{
	furet_adoc_term *e = &d->terms[ltid];

	if (!has_word(t) && !has_fold(t))
		return 0;
	/* Most tokens repeat the word their term had last in this document:
	** nothing new then, and no key to make. */
	if (e->word_len == t->word_len &&
		furet_same(k->words.data + e->word_off, t->word, t->word_len))
		return 0;
	return new_word(k, e, t);
}

static int add_pairs(furet_adoc *d, furet_adoc_work *k, const furet_token *t,
	uint64_t h)
{
	if (seen_before(k->cache, h))
		return 0;
	if (has_fold(t))
		add_pair(d, FURET_PAIR_FOLDS, t->fold, t->fold_len, t->term,
			t->term_len);
	if (has_word(t)) {
		furet_buf_reset(&k->scratch);
		furet_unaccent(t->word, t->word_len, &k->scratch);
		if (k->scratch.has_err)
			return -1;
		add_pair(d, FURET_PAIR_WORDS, (const char *)k->scratch.data,
			k->scratch.len, t->term, t->term_len);
	}
	return d->pairs.has_err ? -1 : 0;
}

static int lookups(furet_adoc *d, furet_adoc_work *k, uint32_t ltid,
	const furet_token *t)
{
	int r = new_pairs(d, k, ltid, t);

	return r <= 0 ? r : add_pairs(d, k, t, pair_hash(t));
}

/* ---- passages ------------------------------------------------------------ */

/* Analyses text into local term numbers (title or section). */
static furet_rc field_terms(furet_adoc *d, furet_adoc_work *k, const char *text,
	size_t len, uint32_t **ltids, size_t *n, size_t *cap)
{
	const furet_token *toks;
	size_t nt, i;
	furet_rc rc;

	*n = 0;
	/* The writer checked the document's UTF-8 (check_doc). */
	rc = furet_analyzer_run_valid(k->an, text, len, FURET_MODE_DOCUMENT,
		&toks, &nt);
	if (rc)
		return rc;
	if (furet_grow((void **)ltids, cap, nt, sizeof **ltids) ||
		reserve_terms(d, k, nt))
		return FURET_NOMEM;
	for (i = 0; i < nt; i++) {
		int64_t l = intern(d, k, toks[i].term, toks[i].term_len,
			toks[i].term_hash);
		if (l < 0 || lookups(d, k, (uint32_t)l, &toks[i]))
			return FURET_NOMEM;
		(*ltids)[(*n)++] = (uint32_t)l;
	}
	return FURET_OK;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

/* The group of local term l in the passage, made when new (after the
** groups made before it: the order of first occurrences). */
static adoc_group *group_of(furet_adoc_work *k, uint32_t l, size_t *n_groups)
{
	adoc_group *g;

	if (k->grp[l] != NONE)
		return &k->groups[k->grp[l]];
	k->grp[l] = (uint32_t)*n_groups;
	g = &k->groups[(*n_groups)++];
	g->ltid = l;
	g->tf = g->tt = g->ts = 0;
	return g;
}

/* Writes one ENTRY per group (n_body body tokens in all). The byte length
** n of an ENTRY's tail comes before the tail but is known after it: one
** byte is kept for it, enough unless the term is in the passage some
** sixty times, when the tail moves to make room for a longer varint. */
static furet_rc emit_entries(furet_adoc *d, furet_adoc_work *k,
	const furet_token *toks, size_t n_body, size_t n_groups)
{
	unsigned char *q;
	size_t g;

	/* At most 17 bytes of varints and counts a group, 5 a position. */
	if (furet_buf_reserve(&d->ents, 17 * n_groups + 5 * n_body))
		return FURET_NOMEM;
	q = d->ents.data + d->ents.len;
	for (g = 0; g < n_groups; g++) {
		const adoc_group *e = &k->groups[g];
		uint32_t m = e->first, prev = 0, c;
		unsigned char *r;
		size_t rest;

		q += furet_put_varint(q, e->ltid);
		q += furet_put_varint(q, e->tf);
		r = q++;
		*q++ = (unsigned char)(e->tt > 255 ? 255 : e->tt);
		*q++ = (unsigned char)(e->ts > 255 ? 255 : e->ts);
		for (c = 0; c < e->tf; c++, m = k->next[m]) {
			q += furet_put_varint(q, toks[m].pos - prev);
			prev = toks[m].pos;
		}
		rest = (size_t)(q - r - 1);
		if (rest < 0x80) {
			*r = (unsigned char)rest;
		} else {
			size_t more = varint_len(rest) - 1;
			memmove(r + 1 + more, r + 1, rest);
			furet_put_varint(r, rest);
			q += more;
		}
		k->grp[e->ltid] = NONE;
	}
	*q = '\0';
	d->ents.len = (size_t)(q - d->ents.data);
	return FURET_OK;
}

#define SPAN_MAX 19 /* bytes of a SPAN record at most */

static unsigned char cap255(uint32_t v)
{
	return (unsigned char)(v > 255 ? 255 : v);
}

/* Ends local term l's span before passage idx: its SPAN record, when the
** span has a passage. The caller reserved SPAN_MAX bytes. */
static void end_span(furet_adoc *d, furet_adoc_work *k, uint32_t l,
	uint32_t idx)
{
	adoc_span *r = &k->spans[l];
	unsigned char *q;

	if (r->start == NONE || r->start >= idx)
		return;
	q = d->ents.data + d->ents.len;
	q += furet_put_varint(q, l);
	*q++ = 0;
	*q++ = 0;
	q += furet_put_varint(q, r->start);
	q += furet_put_varint(q, idx - r->start);
	*q++ = cap255(r->ttf);
	*q++ = cap255(r->stf);
	*q = '\0';
	d->ents.len = (size_t)(q - d->ents.data);
}

/* The terms of a field (the title, a section: ltids[0..n), repeated as
** often as they occur) change their counts at passage idx: each one's span
** ends before it, and the next starts there (title: add 1 a token to
** ttf; section: add to stf, or with is_end take the section away). */
static furet_rc field_spans(furet_adoc *d, furet_adoc_work *k,
	const uint32_t *ltids, size_t n, int is_title, int is_end, uint32_t idx)
{
	size_t i;

	if (furet_buf_reserve(&d->ents, SPAN_MAX * n + 1))
		return FURET_NOMEM;
	k->stamp++;
	for (i = 0; i < n; i++) {
		adoc_span *r = &k->spans[ltids[i]];
		if (r->stamp != k->stamp) {
			r->stamp = k->stamp;
			end_span(d, k, ltids[i], idx);
			if (is_end)
				r->stf = 0;
			/* without a body occurrence, the term is in the passages
			** from idx on unless it leaves with its section */
			r->start = is_end && !r->ttf ? NONE : idx;
		}
		if (!is_end) {
			if (is_title)
				r->ttf++;
			else
				r->stf++;
		}
	}
	return FURET_OK;
}

/* The terms of the title (f 0) or of the current section (f 1), with
** repeats: between them, the only ones with counts or an open span. */
static const uint32_t *field_ltids(const furet_adoc_work *k, int f,
	size_t *n)
{
	*n = f ? k->n_sec : k->n_title;
	return f ? k->sec_ltids : k->title_ltids;
}

/* After the last passage (n of them): the spans still open, as SPAN
** records (tail_off). */
static furet_rc spans_end(furet_adoc *d, furet_adoc_work *k, uint32_t n)
{
	const uint32_t *ltids;
	size_t n_ltids, i;
	int f;

	d->tail_off = d->ents.len;
	if (furet_buf_reserve(&d->ents, SPAN_MAX * (k->n_title + k->n_sec) + 1))
		return FURET_NOMEM;
	for (f = 0; f < 2; f++) {
		ltids = field_ltids(k, f, &n_ltids);
		for (i = 0; i < n_ltids; i++) {
			end_span(d, k, ltids[i], n);
			k->spans[ltids[i]].start = NONE; /* (once if repeated) */
		}
	}
	d->tail_len = d->ents.len - d->tail_off;
	return FURET_OK;
}

/* Every term's counts and span back to none (after the document, or an
** error). */
static void spans_clear(furet_adoc_work *k)
{
	const uint32_t *ltids;
	size_t n_ltids, i;
	int f;

	for (f = 0; f < 2; f++) {
		ltids = field_ltids(k, f, &n_ltids);
		for (i = 0; i < n_ltids; i++) {
			adoc_span *r = &k->spans[ltids[i]];
			r->start = NONE;
			r->ttf = r->stf = 0;
		}
	}
}

/* The body of one passage, with the title's and the section's terms. */
static furet_rc passage_entries(furet_adoc *d, furet_adoc_work *k,
	const char *text, size_t len, furet_adoc_passage *p, uint32_t idx)
{
	const furet_token *toks;
	size_t nt, i, n_cand, n_groups = 0;
	furet_rc rc;

	/* The writer checked the document's UTF-8 (check_doc). */
	rc = furet_analyzer_run_valid(k->an, text, len, FURET_MODE_DOCUMENT,
		&toks, &nt);
	if (rc)
		return rc;
	/* The length counts words: the whole of a compound shares its first
	** part's position and is not one more word. The tokens whose pairs
	** are to be looked for in the cache are noted, and their slots asked
	** for (prefetch), before any is looked at: the cache is larger than
	** the processor's, and its misses then overlap. */
	p->length = 0;
	if (furet_grow((void **)&k->cand, &k->cap_cand, nt, sizeof *k->cand) ||
		furet_grow((void **)&k->cand_hash, &k->cap_cand_hash, nt,
		sizeof *k->cand_hash) ||
		furet_grow((void **)&k->next, &k->cap_next, nt, sizeof *k->next) ||
		furet_grow((void **)&k->groups, &k->cap_groups,
		nt, sizeof *k->groups) ||
		reserve_terms(d, k, nt))
		return FURET_NOMEM;
	for (i = 0, n_cand = 0; i < nt; i++) {
		int64_t l = intern(d, k, toks[i].term, toks[i].term_len,
			toks[i].term_hash);
		adoc_group *g;
		int r;
		if (l < 0 || (r = new_pairs(d, k, (uint32_t)l, &toks[i])) < 0)
			return FURET_NOMEM;
		g = group_of(k, (uint32_t)l, &n_groups);
		if (g->tf)
			k->next[g->last] = (uint32_t)i;
		else
			g->first = (uint32_t)i;
		g->last = (uint32_t)i;
		g->tf++;
		if (r) {
			uint64_t h = pair_hash(&toks[i]);
			__builtin_prefetch(pair_slot(k->cache, h));
			k->cand[n_cand] = (uint32_t)i;
			k->cand_hash[n_cand++] = h;
		}
		if (!(toks[i].flags & FURET_TOK_WHOLE))
			p->length++;
	}
	for (i = 0; i < n_cand; i++)
		if (add_pairs(d, k, &toks[k->cand[i]], k->cand_hash[i]))
			return FURET_NOMEM;
	/* The title's and the section's counts of the passage's terms; those
	** with a span end it before this passage, and start the next after. */
	if (furet_buf_reserve(&d->ents, SPAN_MAX * n_groups + 1))
		return FURET_NOMEM;
	for (i = 0; i < n_groups; i++) {
		adoc_group *g = &k->groups[i];
		adoc_span *r = &k->spans[g->ltid];
		g->tt = r->ttf;
		g->ts = r->stf;
		if (r->start != NONE) {
			end_span(d, k, g->ltid, idx);
			r->start = idx + 1;
		}
	}
	rc = emit_entries(d, k, toks, nt, n_groups);
	p->ent_len = d->ents.len - p->ent_off;
	return rc;
}

furet_rc furet_adoc_run(furet_adoc *d, furet_adoc_work *k)
{
	const char *text = furet_adoc_text(d);
	furet_split sp;
	size_t i, prev_start = 0, prev_end = 0;
	int has_prev = 0;
	furet_rc rc;

	if (!d->has_hash) {
		furet_doc doc;
		memset(&doc, 0, sizeof doc);
		doc.title = (const char *)d->in.data;
		doc.title_len = d->title_len;
		doc.text = text;
		doc.text_len = d->text_len;
		doc.meta = furet_adoc_meta(d);
		doc.meta_len = d->meta_len;
		doc.format = d->format;
		furet_doc_hash(&doc, d->hash);
		d->has_hash = 1;
	}
	d->n_terms = 0;
	furet_buf_reset(&d->term_bytes);
	furet_buf_reset(&k->words);
	d->n_pass = 0;
	d->n_pairs = 0;
	furet_buf_reset(&d->ents);
	furet_buf_reset(&d->pairs);
	d->tail_off = d->tail_len = 0;
	memset(&sp, 0, sizeof sp);
	rc = furet_passage_split(d->text_len ? text : "", d->text_len, d->format,
		FURET_WINDOW_WORDS, &sp);
	if (rc)
		goto done;
	if (d->has_title) {
		d->eff_title_off = 0;
		d->eff_title_len = d->title_len;
	} else if (sp.has_title) {
		d->eff_title_off = d->title_len + sp.title_start;
		d->eff_title_len = sp.title_end - sp.title_start;
	} else {
		d->eff_title_off = 0;
		d->eff_title_len = 0;
	}
	if (furet_grow((void **)&d->pass, &d->cap_pass, sp.n_spans,
		sizeof *d->pass)) {
		rc = FURET_NOMEM;
		goto done;
	}
	k->n_title = k->n_sec = 0;
	rc = field_terms(d, k, (const char *)d->in.data + d->eff_title_off,
		d->eff_title_len, &k->title_ltids, &k->n_title, &k->cap_title);
	if (rc || (sp.n_spans && (rc = field_spans(d, k, k->title_ltids,
		k->n_title, 1, 0, 0))))
		goto done;
	for (i = 0; i < sp.n_spans; i++) {
		const furet_passage_span *s = &sp.spans[i];
		furet_adoc_passage *p = &d->pass[i];

		/* A passage's records start with the SPANs its section's change
		** ends (analysed.h). */
		p->ent_off = d->ents.len;
		if (s->has_section != has_prev || (s->has_section &&
			(s->sec_start != prev_start || s->sec_end != prev_end))) {
			if ((rc = field_spans(d, k, k->sec_ltids, k->n_sec, 0, 1,
				(uint32_t)i)))
				goto done;
			k->n_sec = 0;
			if (s->has_section && ((rc = field_terms(d, k,
				text + s->sec_start, s->sec_end - s->sec_start,
				&k->sec_ltids, &k->n_sec, &k->cap_sec)) ||
				(rc = field_spans(d, k, k->sec_ltids, k->n_sec, 0, 0,
				(uint32_t)i))))
				goto done;
			has_prev = s->has_section;
			prev_start = s->sec_start;
			prev_end = s->sec_end;
		}
		p->start = s->start;
		p->end = s->end;
		p->has_section = s->has_section;
		p->sec_start = s->sec_start;
		p->sec_end = s->sec_end;
		if ((rc = passage_entries(d, k, text + s->start, s->end - s->start,
			p, (uint32_t)i)))
			goto done;
		d->n_pass++;
	}
	rc = spans_end(d, k, (uint32_t)d->n_pass);
	/* Room for the inverter's 8-byte loads past the last ENTRY. */
	if (!rc && (d->pairs.has_err ||
		furet_buf_reserve(&d->ents, FURET_ENTRY_SLACK)))
		rc = FURET_NOMEM;
done:
	spans_clear(k);
	clear_slots(d, k);
	furet_split_free(&sp);
	d->rc = rc;
	return rc;
}

/* ---- as jobs of a pipeline ----------------------------------------------- */

static void slot_init(void *slot)
{
	memset(slot, 0, sizeof(furet_adoc_batch));
}

static void slot_free(void *slot)
{
	furet_adoc_batch *b = slot;
	size_t i;

	for (i = 0; i < b->cap; i++)
		furet_adoc_free(&b->docs[i]);
	furet_free(b->docs);
	furet_free(b->terms);
	furet_buf_free(&b->term_bytes);
	memset(b, 0, sizeof *b);
}

static size_t slot_bytes(const void *slot)
{
	const furet_adoc_batch *b = slot;
	size_t i, n = b->cap * sizeof *b->docs +
		b->cap_terms * sizeof *b->terms + b->term_bytes.cap;

	for (i = 0; i < b->cap; i++)
		n += furet_adoc_bytes(&b->docs[i]);
	return n;
}

static furet_rc state_open(void *ctx, void **state)
{
	furet_adoc_work *k = NULL;
	furet_rc rc = furet_adoc_work_open(ctx, &k);
	*state = k;
	return rc;
}

static void state_close(void *ctx, void *state)
{
	furet_adoc_work_close(ctx, state);
}

/* The batch's number of document d's term i, added if new; -1 when out of
** memory. */
static int64_t batch_term(furet_adoc_batch *b, furet_adoc_work *k,
	const furet_adoc *d, size_t i)
{
	const furet_adoc_term *t = &d->terms[i];
	const unsigned char *term = d->term_bytes.data + t->off;
	furet_adoc_term *e;
	size_t j;
	int64_t id;

	if ((b->n_terms + 1) * 2 > k->n_bslots && slots_grow(b->terms,
		b->n_terms, &k->bslots, &k->n_bslots, 4096))
		return -1;
	if ((id = slots_find(b->terms, b->term_bytes.data, k->bslots,
		k->n_bslots, (const char *)term, t->len, t->hash, &j)) >= 0)
		return id;
	if (furet_grow((void **)&b->terms, &b->cap_terms, b->n_terms + 1,
		sizeof *b->terms) || b->term_bytes.len > UINT32_MAX - t->len)
		return -1;
	e = &b->terms[b->n_terms];
	memset(e, 0, sizeof *e);
	e->off = (uint32_t)b->term_bytes.len;
	e->len = t->len;
	e->hash = t->hash;
	furet_buf_append(&b->term_bytes, term, t->len);
	if (b->term_bytes.has_err)
		return -1;
	k->bslots[j] = (uint32_t)b->n_terms + 1;
	return (int64_t)b->n_terms++;
}

/* The batch's distinct terms, and each document's map to them. */
static int batch_terms(furet_adoc_batch *b, furet_adoc_work *k)
{
	size_t i, t;
	int rc = 0;

	b->n_terms = 0;
	furet_buf_reset(&b->term_bytes);
	for (i = 0; i < b->n && !rc; i++) {
		furet_adoc *d = &b->docs[i];
		if (d->rc)
			continue;
		if (furet_grow((void **)&d->bmap, &d->cap_bmap, d->n_terms,
			sizeof *d->bmap)) {
			rc = -1;
			break;
		}
		for (t = 0; t < d->n_terms; t++) {
			int64_t id = batch_term(b, k, d, t);
			if (id < 0) {
				rc = -1;
				break;
			}
			d->bmap[t] = (uint32_t)id;
		}
	}
	slots_clear(b->terms, b->n_terms, k->bslots, k->n_bslots);
	return rc;
}

static void run(void *state, void *slot)
{
	furet_adoc_batch *b = slot;
	size_t i;

	for (i = 0; i < b->n; i++)
		furet_adoc_run(&b->docs[i], state);
	b->has_terms = !batch_terms(b, state);
}

const furet_pipeline_ops furet_adoc_ops = {
	sizeof(furet_adoc_batch), slot_init, slot_free, slot_bytes, state_open,
	state_close, run, NULL, 0,
};
