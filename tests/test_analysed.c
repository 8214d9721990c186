/*
** test_analysed.c — the ENTRY records furet_adoc_run makes for the writer:
** one per term of a passage, in the order of first occurrence (body, then
** title, then section), each with its body positions and its title and
** section counts, and a tail length that is right whether it takes one
** byte or more (a term some sixty times in a passage or more). And the
** content hash: the same bytes on every machine (pinned), changed by any
** field and by a byte moving from one field to the next. And a pipeline
** job's distinct terms, which the writer looks up once per batch, and the
** worker's cache of the lookup pairs it sent.
*/
#include "testutil.h"

#include "analysed.h"
#include "furet.h"
#include "pipeline.h"
#include "util.h"

static uint64_t get_varint(const unsigned char **p)
{
	uint64_t v = 0;
	int shift = 0;

	while (**p & 0x80) {
		v |= (uint64_t)(*(*p)++ & 0x7f) << shift;
		shift += 7;
	}
	v |= (uint64_t)*(*p)++ << shift;
	return v;
}

/* Analyses document "d" of title (NULL: none given), text and format with
** k into a. */
static void analyse(furet_adoc_work *k, furet_adoc *a, const char *title,
	const char *text, unsigned format)
{
	furet_doc doc = tu_doc("d", title, text);

	doc.format = format;

	assert_int_equal(furet_adoc_set(a, &doc, 0, NULL), FURET_OK);
	assert_int_equal(furet_adoc_run(a, k), FURET_OK);
}

static void test_entries(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_adoc_work *k = NULL;
	furet_adoc a;
	char text[2000];
	const unsigned char *p, *end;
	uint64_t tfs[3], tts[3], n_ent = 0, i;
	size_t len = 0;
	(void)state;

	/* abeille, miel 150 times (a tail of 152 bytes), ruche, abeille. */
	len += (size_t)snprintf(text + len, sizeof text - len, "abeille");
	for (i = 0; i < 150; i++)
		len += (size_t)snprintf(text + len, sizeof text - len, " miel");
	len += (size_t)snprintf(text + len, sizeof text - len, " ruche abeille");

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_adoc_work_open(ix, &k), FURET_OK);
	furet_adoc_init(&a);
	analyse(k, &a, "Ruche", text, FURET_FORMAT_TEXT);
	assert_int_equal(a.n_pass, 1);
	assert_int_equal(a.n_terms, 3);
	assert_int_equal(a.pass[0].length, 153);

	p = a.ents.data + a.pass[0].ent_off;
	end = p + a.pass[0].ent_len;
	while (p < end) {
		uint64_t ltid = get_varint(&p), tf = get_varint(&p);
		uint64_t n = get_varint(&p), pos = 0, j;
		const unsigned char *tail = p;

		assert_true(n_ent < 3);
		/* Terms are numbered as they come, title first (ruche is 0);
		** ENTRYs follow the passage's body. */
		assert_int_equal(ltid, n_ent == 2 ? 0 : n_ent + 1);
		tfs[n_ent] = tf;
		tts[n_ent] = tail[0];
		assert_int_equal(tail[1], 0); /* no section */
		p += 2;
		for (j = 0; j < tf; j++) {
			uint64_t delta = get_varint(&p);
			assert_true(j == 0 || delta > 0);
			pos += delta;
		}
		/* The last position: abeille's at 152, miel's at 150, ruche's
		** at 151. */
		assert_int_equal(pos, n_ent == 0 ? 152 : n_ent == 1 ? 150 : 151);
		assert_ptr_equal(p, tail + n);
		n_ent++;
	}
	assert_ptr_equal(p, end);
	assert_int_equal(n_ent, 3);
	assert_int_equal(tfs[0], 2);
	assert_int_equal(tfs[1], 150);
	assert_int_equal(tfs[2], 1);
	assert_int_equal(tts[0], 0);
	assert_int_equal(tts[1], 0);
	assert_int_equal(tts[2], 1);

	furet_adoc_free(&a);
	furet_adoc_work_close(ix, k);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

static void hash_of(const char *title, const char *text, const char *meta,
	unsigned format, unsigned char out[16])
{
	furet_doc d = tu_doc("x", title, text);

	d.meta = meta;
	d.meta_len = meta ? strlen(meta) : 0;
	d.format = format;
	furet_doc_hash(&d, out);
}

static void test_doc_hash(void **state)
{
	/* Changing these bytes makes every indexed document look changed
	** the next time it is put: only with a reason (format 15: four lanes,
	** the index rebuilt anyway). */
	static const unsigned char pinned[16] = {
		0x28, 0xca, 0x87, 0x59, 0xb9, 0x89, 0x31, 0xc8,
		0xbc, 0xe8, 0x47, 0xb2, 0x12, 0xe4, 0xa5, 0x4e,
	};
	unsigned char h[16], g[16];
	char text[101];
	size_t i, len;
	(void)state;

	/* Any one byte changed, in any lane and at any place of the last
	** word, whatever the title's length shifts the lanes by: both halves
	** change. */
	memset(text, 'a', 100);
	text[100] = '\0';
	for (len = 0; len < 12; len++) {
		char title[12] = "abcdefghijk";
		title[len] = '\0';
		hash_of(title, text, NULL, FURET_FORMAT_TEXT, h);
		for (i = 0; i < 100; i++) {
			text[i] = 'b';
			hash_of(title, text, NULL, FURET_FORMAT_TEXT, g);
			assert_memory_not_equal(h, g, 8);
			assert_memory_not_equal(h + 8, g + 8, 8);
			text[i] = 'a';
		}
	}

	hash_of("Titre", "Un texte de plus de huit octets.", "{\"a\":1}",
		FURET_FORMAT_TEXT, h);
	assert_memory_equal(h, pinned, 16);
	hash_of("Titre", "Un texte de plus de huit octets.", "{\"a\":1}",
		FURET_FORMAT_MARKDOWN, g);
	assert_memory_not_equal(h, g, 16);
	hash_of("Titre", "Un texte de plus de huit octets!", "{\"a\":1}",
		FURET_FORMAT_TEXT, g);
	assert_memory_not_equal(h, g, 16);
	hash_of("Titre", "Un texte de plus de huit octets.", "{\"a\":2}",
		FURET_FORMAT_TEXT, g);
	assert_memory_not_equal(h, g, 16);
	hash_of("Titr", "eUn texte de plus de huit octets.", "{\"a\":1}",
		FURET_FORMAT_TEXT, g);
	assert_memory_not_equal(h, g, 16);
	/* The zeros that pad the last word are not a text's bytes. */
	hash_of(NULL, "abcdefgh", NULL, FURET_FORMAT_TEXT, h);
	{
		furet_doc d;
		memset(&d, 0, sizeof d);
		d.text = "abcdefgh\0";
		d.text_len = 9;
		furet_doc_hash(&d, g);
		assert_memory_not_equal(h, g, 16);
	}
	/* No title and an empty one are the same content. */
	hash_of(NULL, "abc", NULL, FURET_FORMAT_TEXT, h);
	hash_of("", "abc", NULL, FURET_FORMAT_TEXT, g);
	assert_memory_equal(h, g, 16);
}

/* A job of the pipeline gathers its documents' distinct terms: every
** term of every document maps (bmap) to a batch term of the same bytes and
** hash, the batch's terms are distinct, and there are as many as the union
** of the documents' (shared words once). Two batches in a row through the
** same worker state: the table of the first is emptied for the second. A
** document that failed has no map and adds nothing. */
static void test_batch_terms(void **state)
{
	static const char *texts[][2] = {
		{ "Ruche", "abeille miel ruche" },
		{ "Miel", "abeille frelon cire" },
		{ NULL, "" },
		{ "Cire", "bougie cire abeille miel" },
	};
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	void *k = NULL;
	furet_adoc_batch b;
	size_t i, t, u, round, n_docs = sizeof texts / sizeof texts[0];
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_adoc_ops.state_open(ix, &k), FURET_OK);
	furet_adoc_ops.slot_init(&b);
	b.docs = calloc(n_docs, sizeof *b.docs);
	assert_non_null(b.docs);
	b.cap = n_docs;
	for (round = 0; round < 2; round++) {
		size_t n_union = 0;
		b.n = round ? 2 : n_docs; /* the second: fewer documents */
		for (i = 0; i < b.n; i++) {
			furet_doc doc;
			char id[32];
			memset(&doc, 0, sizeof doc);
			snprintf(id, sizeof id, "d%zu", i);
			doc.id = id;
			doc.id_len = strlen(id);
			doc.title = texts[round ? (i ? 1 : 3) : i][0];
			doc.title_len = doc.title ? strlen(doc.title) : 0;
			doc.text = texts[round ? (i ? 1 : 3) : i][1];
			doc.text_len = strlen(doc.text);
			furet_adoc_init(&b.docs[i]);
			assert_int_equal(furet_adoc_set(&b.docs[i], &doc, (uint32_t)i,
				NULL), FURET_OK);
		}
		furet_adoc_ops.run(k, &b);
		assert_true(b.has_terms);
		for (i = 0; i < b.n; i++) {
			const furet_adoc *d = &b.docs[i];
			assert_int_equal(d->rc, FURET_OK);
			for (t = 0; t < d->n_terms; t++) {
				const furet_adoc_term *x = &d->terms[t];
				const furet_adoc_term *y;
				assert_true(d->bmap[t] < b.n_terms);
				y = &b.terms[d->bmap[t]];
				assert_int_equal(x->len, y->len);
				assert_int_equal(x->hash, y->hash);
				assert_memory_equal(d->term_bytes.data + x->off,
					b.term_bytes.data + y->off, x->len);
			}
		}
		for (t = 0; t < b.n_terms; t++)
			for (u = t + 1; u < b.n_terms; u++)
				assert_false(b.terms[t].len == b.terms[u].len &&
					!memcmp(b.term_bytes.data + b.terms[t].off,
					b.term_bytes.data + b.terms[u].off, b.terms[t].len));
		/* Round 0: ruch abeil miel frelon cir boug. Round 1 (documents
		** 3 and 1): cir boug abeil miel frelon. */
		for (i = 0; i < b.n; i++)
			n_union += b.docs[i].n_terms;
		assert_int_equal(b.n_terms, round ? 5 : 6);
		assert_true(n_union > b.n_terms);
		for (i = 0; i < b.n; i++)
			furet_adoc_free(&b.docs[i]);
	}
	furet_adoc_ops.slot_free(&b);
	furet_adoc_ops.state_close(ix, k);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* The lookup pairs (folds, words) a document brings, as "table:key"
** strings in *out (one per line, in order); checks each one's hash. */
static size_t pairs_of(const furet_adoc *d, char *out, size_t cap)
{
	const unsigned char *p = d->pairs.data;
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < d->n_pairs; i++) {
		int table = *p++;
		uint32_t h;
		uint64_t len;
		char key[128];
		size_t k;

		memcpy(&h, p, 4);
		p += 4;
		len = get_varint(&p);
		assert_true(len < sizeof key);
		assert_int_equal(h, furet_hash32(p, (size_t)len));
		for (k = 0; k < len; k++)
			key[k] = p[k] ? (char)p[k] : '|';
		key[len] = '\0';
		n += (size_t)snprintf(out + n, cap - n, "%d:%s\n", table, key);
		assert_true(n < cap);
		p += len;
	}
	return d->n_pairs;
}

/* A worker sends a (word, term)'s pairs once while its cache remembers
** them: the same document again brings none, a new word of a known term
** brings its own, and another worker (its own cache) brings them all
** again, the same. */
static void test_pair_cache(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_adoc_work *k = NULL, *k2 = NULL;
	furet_adoc a;
	char first[1024], again[1024];
	const char *text = "Château châteaux maison";
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_adoc_work_open(ix, &k), FURET_OK);
	assert_int_equal(furet_adoc_work_open(ix, &k2), FURET_OK);
	furet_adoc_init(&a);

	analyse(k, &a, NULL, text, FURET_FORMAT_TEXT);
	assert_true(pairs_of(&a, first, sizeof first) >= 3);
	/* château's fold and unaccented word, châteaux's word, maison's */
	assert_non_null(strstr(first, "0:chateau|château\n"));
	assert_non_null(strstr(first, "1:chateau|château\n"));
	assert_non_null(strstr(first, "1:chateaux|château\n"));
	assert_non_null(strstr(first, "1:maison|maison\n"));

	analyse(k, &a, NULL, text, FURET_FORMAT_TEXT);
	assert_int_equal(pairs_of(&a, again, sizeof again), 0);

	analyse(k, &a, NULL, "CHÂTEAU maison chateau", FURET_FORMAT_TEXT);
	pairs_of(&a, again, sizeof again);
	assert_null(strstr(again, "maison"));
	assert_null(strstr(again, "1:chateau|château"));
	assert_non_null(strstr(again, "1:chateau|chateau\n"));

	analyse(k2, &a, NULL, text, FURET_FORMAT_TEXT);
	pairs_of(&a, again, sizeof again);
	assert_string_equal(again, first);

	furet_adoc_free(&a);
	furet_adoc_work_close(ix, k);
	furet_adoc_work_close(ix, k2);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

/* What a document's records say each passage holds of a term: "k:tf/tt/ts"
** for passage k, in passage order, from its ENTRYs and its SPANs (a SPAN
** stands for passages without the term in the body). */
static void presence(const furet_adoc *d, uint64_t ltid, char *out,
	size_t cap)
{
	char have[16][32];
	size_t k, n = 0;

	assert_true(d->n_pass <= 16);
	memset(have, 0, sizeof have);
	for (k = 0; k <= d->n_pass; k++) {
		const unsigned char *p = d->ents.data + (k < d->n_pass ?
			d->pass[k].ent_off : d->tail_off);
		const unsigned char *end = p + (k < d->n_pass ?
			d->pass[k].ent_len : d->tail_len);
		while (p < end) {
			uint64_t l = get_varint(&p), tf = get_varint(&p);
			uint64_t len = get_varint(&p), first, count, j;
			if (len == 0) { /* SPAN */
				first = get_varint(&p);
				count = get_varint(&p);
				/* it ends before the passage it is placed in */
				assert_true(count > 0 && first + count <= k);
				for (j = first; l == ltid && j < first + count; j++) {
					assert_int_equal(have[j][0], 0);
					snprintf(have[j], sizeof have[j], "%u:0/%u/%u",
						(unsigned)j, p[0], p[1]);
				}
				p += 2;
				continue;
			}
			assert_true(k < d->n_pass);
			if (l == ltid) {
				assert_int_equal(have[k][0], 0);
				snprintf(have[k], sizeof have[k], "%u:%u/%u/%u",
					(unsigned)k, (unsigned)tf, p[0], p[1]);
			}
			p += len;
		}
	}
	out[0] = '\0';
	for (k = 0; k < d->n_pass; k++)
		if (have[k][0])
			n += (size_t)snprintf(out + n, cap - n, "%s ", have[k]);
}

static int64_t local_term(const furet_adoc *d, const char *term)
{
	size_t i;

	for (i = 0; i < d->n_terms; i++)
		if (d->terms[i].len == strlen(term) &&
			!memcmp(d->term_bytes.data + d->terms[i].off, term,
			d->terms[i].len))
			return (int64_t)i;
	return -1;
}

/* A term without body occurrences in consecutive passages, with the same
** title and section counts, is one SPAN record for them, placed before the
** records of the passage after it (or at the end): a title's terms, a
** section's, both, and a body occurrence between two runs. */
static void test_runs(void **state)
{
	const char *text =
		"# Ruche\n\n"
		"## Abeilles\n\n"
		"Les abeilles font du miel.\n\n"
		"Le frelon chasse.\n\n"
		"## Cire\n\n"
		"La cire des abeilles.\n\n"
		"Une bougie.\n";
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_adoc_work *k = NULL;
	furet_adoc a;
	char got[256];
	(void)state;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_adoc_work_open(ix, &k), FURET_OK);
	furet_adoc_init(&a);
	analyse(k, &a, "Ruche et ruche", text, FURET_FORMAT_MARKDOWN);
	assert_int_equal(a.n_pass, 4);

	/* the title's term, twice in it, in no body: one SPAN of 4 */
	presence(&a, (uint64_t)local_term(&a, "ruch"), got, sizeof got);
	assert_string_equal(got, "0:0/2/0 1:0/2/0 2:0/2/0 3:0/2/0 ");
	/* a section's, in the body of its first passage and of the other
	** section's first */
	presence(&a, (uint64_t)local_term(&a, "abeil"), got, sizeof got);
	assert_string_equal(got, "0:1/0/1 1:0/0/1 2:1/0/0 ");
	/* the other section's, in the body of its first passage */
	presence(&a, (uint64_t)local_term(&a, "cir"), got, sizeof got);
	assert_string_equal(got, "2:1/0/1 3:0/0/1 ");
	/* a body's only */
	presence(&a, (uint64_t)local_term(&a, "frelon"), got, sizeof got);
	assert_string_equal(got, "1:1/0/0 ");

	/* The next document starts with no counts or spans left over. */
	analyse(k, &a, "Bougie", "Une bougie.", FURET_FORMAT_TEXT);
	presence(&a, (uint64_t)local_term(&a, "boug"), got, sizeof got);
	assert_string_equal(got, "0:1/1/0 ");
	assert_int_equal(a.tail_len, 0);

	furet_adoc_free(&a);
	furet_adoc_work_close(ix, k);
	furet_index_close(ix);
	tu_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_doc_hash),
		cmocka_unit_test(test_batch_terms),
		cmocka_unit_test(test_pair_cache),
		cmocka_unit_test(test_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
