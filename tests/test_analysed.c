/*
** test_analysed.c — the ENTRY records furet_adoc_run makes for the writer:
** one per term of a passage, in the order of first occurrence (body, then
** title, then section), each with its body positions and its title and
** section counts, and a tail length that is right whether it takes one
** byte or more (a term some sixty times in a passage or more). And the
** content hash: the same bytes on every machine (pinned), changed by any
** field and by a byte moving from one field to the next.
*/
#include "testutil.h"

#include "analysed.h"
#include "furet.h"

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

static void test_entries(void **state)
{
	char *dir = tu_mkdtemp();
	furet_index *ix = NULL;
	furet_adoc_work *k = NULL;
	furet_adoc a;
	furet_doc doc;
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
	memset(&doc, 0, sizeof doc);
	doc.id = "d";
	doc.id_len = 1;
	doc.title = "Ruche";
	doc.title_len = 5;
	doc.text = text;
	doc.text_len = len;

	assert_int_equal(furet_index_open(dir, FURET_OPEN_CREATE, &ix), FURET_OK);
	assert_int_equal(furet_adoc_work_open(ix, &k), FURET_OK);
	furet_adoc_init(&a);
	assert_int_equal(furet_adoc_set(&a, &doc, 0, NULL), FURET_OK);
	assert_int_equal(furet_adoc_run(&a, k), FURET_OK);
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
	furet_doc d;

	memset(&d, 0, sizeof d);
	d.id = "x";
	d.id_len = 1;
	d.title = title;
	d.title_len = title ? strlen(title) : 0;
	d.text = text;
	d.text_len = strlen(text);
	d.meta = meta;
	d.meta_len = meta ? strlen(meta) : 0;
	d.format = format;
	furet_doc_hash(&d, out);
}

static void test_doc_hash(void **state)
{
	/* Changing these bytes makes every indexed document look changed
	** the next time it is put: only with a reason. */
	static const unsigned char pinned[16] = {
		0xa5, 0x61, 0x77, 0x35, 0xa4, 0x76, 0x80, 0x4c,
		0x28, 0x1e, 0x8b, 0x12, 0x3c, 0x23, 0x06, 0x4a,
	};
	unsigned char h[16], g[16];
	(void)state;

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_doc_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
