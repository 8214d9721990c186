/*
** analysed.c — one document cut into passages and analysed into ENTRY
** records for the writer's inverter. See analysed.h for the output.
**
** What this reproduces of the single-threaded writer, exactly: the title
** is the document's own (even "") or else the markdown title from the
** split; it is analysed once per document and its terms count in every
** passage (field 1, position 0); a section is analysed again whenever it
** differs from the previous passage's (field 2, position 0); the body's
** tokens come in position order. Within a term, occurrences are ordered
** by field, then position: the body tokens are gathered first (their
** positions never decrease), then the title's, then the section's, and a
** stable grouping by term keeps that order, so no sort is needed.
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
	furet_buf_free(&d->words);
	furet_buf_free(&d->ents);
	furet_buf_free(&d->pairs);
	furet_free(d->slots);
	furet_free(d->title_ltids);
	furet_free(d->sec_ltids);
	furet_free(d->occs);
	furet_free(d->grp);
	furet_free(d->gterm);
	furet_free(d->gcount);
	furet_free(d->gfill);
	furet_free(d->order);
	furet_buf_free(&d->scratch);
	memset(d, 0, sizeof *d);
}

size_t furet_adoc_bytes(const furet_adoc *d)
{
	return d->in.cap + d->cap_pass * sizeof *d->pass +
		d->cap_terms * (sizeof *d->terms + sizeof *d->grp) +
		d->term_bytes.cap + d->words.cap + d->ents.cap + d->pairs.cap +
		d->n_slots * sizeof(uint32_t) +
		(d->cap_title + d->cap_sec) * sizeof(uint32_t) +
		d->cap_occs * sizeof *d->occs +
		d->cap_g * 3 * sizeof(uint32_t) + d->cap_order * sizeof(uint32_t) +
		d->scratch.cap;
}

void furet_doc_hash(const furet_doc *doc, unsigned char out[16])
{
	const uint64_t prime = 1099511628211ull;
	uint64_t h0 = 1469598103934665603ull, h1 = 0x84222325cbf29ce4ull;
	const unsigned char *parts[3];
	size_t lens[3], k, i;
	unsigned char fmt = (unsigned char)doc->format;

	parts[0] = &fmt;
	lens[0] = 1;
	parts[1] = (const unsigned char *)(doc->title ? doc->title : "");
	lens[1] = doc->title ? doc->title_len : 0;
	parts[2] = (const unsigned char *)(doc->text ? doc->text : "");
	lens[2] = doc->text_len;
	/* Both hashes in one pass over the bytes. */
	for (k = 0; k < 3; k++) {
		for (i = 0; i < lens[k]; i++) {
			h0 = (h0 ^ parts[k][i]) * prime;
			h1 = (h1 ^ parts[k][i]) * prime;
		}
		/* the length separates the parts */
		h0 = (h0 ^ (uint64_t)lens[k]) * prime;
		h1 = (h1 ^ (uint64_t)lens[k]) * prime;
	}
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
	furet_buf_append(&d->in, doc->title, d->title_len);
	furet_buf_append(&d->in, doc->text, d->text_len);
	furet_buf_append(&d->in, doc->source, d->source_len);
	d->format = doc->format;
	d->doc = doc_no;
	d->has_hash = hash != NULL;
	if (hash)
		memcpy(d->hash, hash, 16);
	d->rc = FURET_OK;
	return d->in.has_err ? FURET_NOMEM : FURET_OK;
}

/* ---- the document's terms ------------------------------------------------ */

/* Open addressing over the local terms; each term remembers its slot so that
** the next document clears only the slots it used. */
static int grow_slots(furet_adoc *d)
{
	size_t n = d->n_slots ? d->n_slots * 2 : 1024, i;
	uint32_t *s = furet_malloc(n * sizeof *s);

	if (!s)
		return -1;
	memset(s, 0, n * sizeof *s);
	furet_free(d->slots);
	d->slots = s;
	d->n_slots = n;
	for (i = 0; i < d->n_terms; i++) {
		size_t j = d->terms[i].hash & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	return 0;
}

static void clear_slots(furet_adoc *d)
{
	size_t i;

	/* A big document leaves a big table: clearing by probing again costs
	** what inserting did, far less than wiping the table for every small
	** document after it. */
	for (i = 0; i < d->n_terms; i++) {
		size_t j = d->terms[i].hash & (d->n_slots - 1);
		while (d->slots[j] != i + 1)
			j = (j + 1) & (d->n_slots - 1);
		d->slots[j] = 0;
	}
	d->n_terms = 0;
	furet_buf_reset(&d->term_bytes);
	furet_buf_reset(&d->words);
}

/* The local number of term, added when new; -1 when out of memory. */
static int64_t intern(furet_adoc *d, const char *term, size_t len)
{
	uint32_t h = furet_hash32(term, len);
	furet_adoc_term *e;
	size_t j;

	if ((d->n_terms + 1) * 2 > d->n_slots && grow_slots(d))
		return -1;
	for (j = h & (d->n_slots - 1); d->slots[j]; j = (j + 1) & (d->n_slots - 1)) {
		e = &d->terms[d->slots[j] - 1];
		if (e->hash == h && e->len == len &&
			memcmp(d->term_bytes.data + e->off, term, len) == 0)
			return d->slots[j] - 1;
	}
	if (d->n_terms == d->cap_terms) {
		size_t cap = d->cap_terms, k;
		if (furet_grow((void **)&d->terms, &cap, d->n_terms + 1,
			sizeof *d->terms))
			return -1;
		k = d->cap_terms;
		if (furet_grow((void **)&d->grp, &k, cap, sizeof *d->grp))
			return -1;
		for (k = d->cap_terms; k < cap; k++)
			d->grp[k] = NONE;
		d->cap_terms = cap;
	}
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
	d->slots[j] = (uint32_t)d->n_terms + 1;
	return (int64_t)d->n_terms++;
}

/* ---- lookup pairs ---------------------------------------------------------- */

/* Did this worker record the pairs of (word, term) recently? The cache is
** direct-mapped and forgets: it only spares the writer most of the pairs
** it would keep once anyway, never one it needs (everything emitted by any
** worker ends up in the index, so a pair skipped here was emitted before).
** Records the key when not. */
static int seen_before(furet_pair_cache *cache, const furet_token *t)
{
	furet_pair_cache *e;
	uint32_t h = 2166136261u;
	size_t i;

	if (!cache || t->word_len + t->term_len > FURET_PAIR_KEY)
		return 0;
	/* furet_hash32 of "word\0term", without making it */
	for (i = 0; i < t->word_len; i++)
		h = (h ^ (unsigned char)t->word[i]) * 16777619u;
	h *= 16777619u;
	for (i = 0; i < t->term_len; i++)
		h = (h ^ (unsigned char)t->term[i]) * 16777619u;
	e = &cache[h & (FURET_PAIR_CACHE - 1)];
	if (e->hash == h && e->word_len == t->word_len &&
		e->term_len == t->term_len &&
		memcmp(e->key, t->word, t->word_len) == 0 &&
		memcmp(e->key + t->word_len, t->term, t->term_len) == 0)
		return 1;
	e->hash = h;
	e->word_len = (unsigned char)t->word_len;
	e->term_len = (unsigned char)t->term_len;
	memcpy(e->key, t->word, t->word_len);
	memcpy(e->key + t->word_len, t->term, t->term_len);
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
** unaccented word for typo candidates (words of 4+ bytes, not numbers). */
static int lookups(furet_adoc *d, uint32_t ltid, const furet_token *t)
{
	int has_fold = t->fold_len != t->term_len ||
		memcmp(t->fold, t->term, t->term_len) != 0;
	int has_word = t->word_len >= 4 && !(t->flags & FURET_TOK_NUMBER);
	furet_adoc_term *e = &d->terms[ltid];

	if (!has_fold && !has_word)
		return 0;
	/* Most tokens repeat the word their term had last in this document:
	** nothing new then, and no key to make. */
	if (e->word_len == t->word_len &&
		memcmp(d->words.data + e->word_off, t->word, t->word_len) == 0)
		return 0;
	if (d->words.len > UINT32_MAX - t->word_len)
		return -1;
	e->word_off = (uint32_t)d->words.len;
	e->word_len = (uint32_t)t->word_len;
	furet_buf_append(&d->words, t->word, t->word_len);
	if (d->words.has_err)
		return -1;
	if (seen_before(d->cache, t))
		return 0;
	if (has_fold)
		add_pair(d, FURET_PAIR_FOLDS, t->fold, t->fold_len, t->term,
			t->term_len);
	if (has_word) {
		furet_buf_reset(&d->scratch);
		furet_unaccent(t->word, t->word_len, &d->scratch);
		if (d->scratch.has_err)
			return -1;
		add_pair(d, FURET_PAIR_WORDS, (const char *)d->scratch.data,
			d->scratch.len, t->term, t->term_len);
	}
	return d->pairs.has_err ? -1 : 0;
}

/* ---- passages ------------------------------------------------------------ */

/* Analyses text into local term numbers (title or section). */
static furet_rc field_terms(furet_adoc *d, furet_analyzer *an, const char *text,
	size_t len, uint32_t **ltids, size_t *n, size_t *cap)
{
	const furet_token *toks;
	size_t nt, i;
	furet_rc rc;

	*n = 0;
	rc = furet_analyzer_run(an, text, len, FURET_MODE_DOCUMENT, &toks, &nt);
	if (rc)
		return rc;
	if (furet_grow((void **)ltids, cap, nt, sizeof **ltids))
		return FURET_NOMEM;
	for (i = 0; i < nt; i++) {
		int64_t l = intern(d, toks[i].term, toks[i].term_len);
		if (l < 0 || lookups(d, (uint32_t)l, &toks[i]))
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

static size_t put_varint(unsigned char *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (unsigned char)v;
	return n;
}

static int push_occ(furet_adoc *d, uint32_t ltid, uint32_t pos, uint32_t field)
{
	adoc_occ *o;

	if (d->n_occs == d->cap_occs && furet_grow((void **)&d->occs,
		&d->cap_occs, d->n_occs + 1, sizeof *d->occs))
		return -1;
	o = &d->occs[d->n_occs++];
	o->ltid = ltid;
	o->pos = pos;
	o->field = field;
	return 0;
}

/* Groups the passage's occurrences by term, stably, and writes one ENTRY
** per term. */
static furet_rc emit_entries(furet_adoc *d)
{
	size_t i, ng = 0, g, s;

	if (furet_grow((void **)&d->order, &d->cap_order, d->n_occs,
		sizeof *d->order))
		return FURET_NOMEM;
	if (d->cap_g < d->n_occs) {
		size_t c1 = d->cap_g, c2 = d->cap_g, c3 = d->cap_g;
		if (furet_grow((void **)&d->gterm, &c1, d->n_occs, sizeof *d->gterm) ||
			furet_grow((void **)&d->gcount, &c2, d->n_occs, sizeof *d->gcount) ||
			furet_grow((void **)&d->gfill, &c3, d->n_occs, sizeof *d->gfill))
			return FURET_NOMEM;
		d->cap_g = c1 < c2 ? (c1 < c3 ? c1 : c3) : (c2 < c3 ? c2 : c3);
	}
	for (i = 0; i < d->n_occs; i++) {
		uint32_t l = d->occs[i].ltid;
		if (d->grp[l] == NONE) {
			d->grp[l] = (uint32_t)ng;
			d->gterm[ng] = l;
			d->gcount[ng] = 0;
			ng++;
		}
		d->gcount[d->grp[l]]++;
	}
	for (g = 0, s = 0; g < ng; g++) {
		d->gfill[g] = (uint32_t)s;
		s += d->gcount[g];
	}
	for (i = 0; i < d->n_occs; i++)
		d->order[d->gfill[d->grp[d->occs[i].ltid]]++] = (uint32_t)i;
	for (g = 0; g < ng; g++) {
		uint32_t end = d->gfill[g], start = end - d->gcount[g], k;
		uint32_t tf = 0, tt = 0, ts = 0, prev = 0;
		size_t rest = 2;
		unsigned char *q;

		for (k = start; k < end; k++) {
			const adoc_occ *o = &d->occs[d->order[k]];
			if (o->field == 0) {
				rest += varint_len(o->pos - prev);
				prev = o->pos;
				tf++;
			} else if (o->field == 1) {
				tt++;
			} else {
				ts++;
			}
		}
		if (furet_buf_reserve(&d->ents, 30 + rest))
			return FURET_NOMEM;
		q = d->ents.data + d->ents.len;
		q += put_varint(q, d->gterm[g]);
		q += put_varint(q, tf);
		q += put_varint(q, rest);
		*q++ = (unsigned char)(tt > 255 ? 255 : tt);
		*q++ = (unsigned char)(ts > 255 ? 255 : ts);
		for (k = start, prev = 0; k < start + tf; k++) {
			uint32_t pos = d->occs[d->order[k]].pos;
			q += put_varint(q, pos - prev);
			prev = pos;
		}
		*q = '\0';
		d->ents.len = (size_t)(q - d->ents.data);
		d->grp[d->gterm[g]] = NONE;
	}
	return FURET_OK;
}

/* The body of one passage, with the title's and the section's terms. */
static furet_rc passage_entries(furet_adoc *d, furet_analyzer *an,
	const char *text, size_t len, furet_adoc_passage *p)
{
	const furet_token *toks;
	size_t nt, i;
	furet_rc rc;

	d->n_occs = 0;
	rc = furet_analyzer_run(an, text, len, FURET_MODE_DOCUMENT, &toks, &nt);
	if (rc)
		return rc;
	/* The length counts words: the whole of a compound shares its first
	** part's position and is not one more word. */
	p->length = 0;
	for (i = 0; i < nt; i++) {
		int64_t l = intern(d, toks[i].term, toks[i].term_len);
		if (l < 0 || push_occ(d, (uint32_t)l, toks[i].pos, 0) ||
			lookups(d, (uint32_t)l, &toks[i]))
			return FURET_NOMEM;
		if (!(toks[i].flags & FURET_TOK_WHOLE))
			p->length++;
	}
	for (i = 0; i < d->n_title; i++)
		if (push_occ(d, d->title_ltids[i], 0, 1))
			return FURET_NOMEM;
	for (i = 0; i < d->n_sec; i++)
		if (push_occ(d, d->sec_ltids[i], 0, 2))
			return FURET_NOMEM;
	p->ent_off = d->ents.len;
	rc = emit_entries(d);
	p->ent_len = d->ents.len - p->ent_off;
	return rc;
}

furet_rc furet_adoc_run(furet_adoc *d, furet_analyzer *an,
	furet_pair_cache *cache)
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
		doc.format = d->format;
		furet_doc_hash(&doc, d->hash);
		d->has_hash = 1;
	}
	clear_slots(d);
	d->cache = cache;
	d->n_pass = 0;
	d->n_pairs = 0;
	furet_buf_reset(&d->ents);
	furet_buf_reset(&d->pairs);
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
	rc = field_terms(d, an, (const char *)d->in.data + d->eff_title_off,
		d->eff_title_len, &d->title_ltids, &d->n_title, &d->cap_title);
	if (rc)
		goto done;
	d->n_sec = 0;
	for (i = 0; i < sp.n_spans; i++) {
		const furet_passage_span *s = &sp.spans[i];
		furet_adoc_passage *p = &d->pass[i];

		if (s->has_section != has_prev || (s->has_section &&
			(s->sec_start != prev_start || s->sec_end != prev_end))) {
			d->n_sec = 0;
			if (s->has_section && (rc = field_terms(d, an,
				text + s->sec_start, s->sec_end - s->sec_start,
				&d->sec_ltids, &d->n_sec, &d->cap_sec)))
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
		if ((rc = passage_entries(d, an, text + s->start, s->end - s->start,
			p)))
			goto done;
		d->n_pass++;
	}
	if (d->pairs.has_err)
		rc = FURET_NOMEM;
done:
	furet_split_free(&sp);
	d->rc = rc;
	return rc;
}

/* ---- as jobs of a pipeline ----------------------------------------------- */

static void slot_init(void *slot)
{
	furet_adoc_init(slot);
}

static void slot_free(void *slot)
{
	furet_adoc_free(slot);
}

static size_t slot_bytes(const void *slot)
{
	return furet_adoc_bytes(slot);
}

/* A worker's state: its analyzer and its cache of pairs. */
typedef struct adoc_state {
	furet_analyzer *an;
	furet_pair_cache cache[FURET_PAIR_CACHE];
} adoc_state;

static furet_rc state_open(void *ctx, void **state)
{
	adoc_state *st = furet_malloc(sizeof *st);
	furet_rc rc;

	*state = NULL;
	if (!st)
		return FURET_NOMEM;
	memset(st, 0, sizeof *st);
	if ((rc = furet_index_take_analyzer(ctx, &st->an))) {
		furet_free(st);
		return rc;
	}
	*state = st;
	return FURET_OK;
}

static void state_close(void *ctx, void *state)
{
	adoc_state *st = state;
	if (!st)
		return;
	furet_index_give_analyzer(ctx, st->an);
	furet_free(st);
}

static void run(void *state, void *slot)
{
	adoc_state *st = state;
	furet_adoc_run(slot, st->an, st->cache);
}

const furet_pipeline_ops furet_adoc_ops = {
	sizeof(furet_adoc), slot_init, slot_free, slot_bytes, state_open,
	state_close, run, NULL,
};
