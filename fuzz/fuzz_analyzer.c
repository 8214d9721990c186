/*
** fuzz_analyzer.c — arbitrary bytes into the analyzer. Invalid UTF-8 must be
** refused with FURET_INVALID; valid text must give tokens whose byte ranges
** lie inside the input, with starts and positions that never decrease.
** The tokenizer's fast path for Latin text must cut the input into the
** same words as ICU does (whenever it takes the fast path).
*/
#include <stdint.h>
#include <stdlib.h>

#include "analyzer.h"
#include "tokenizer.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static furet_analyzer *an;
	const furet_token *toks;
	size_t n, i;
	int is_valid = furet_utf8_valid((const char *)data, size) == size;
	furet_rc rc;

	static furet_tokenizer *fast, *icu;
	const furet_word *wa, *wb;
	size_t na, nb;

	if (!an && furet_analyzer_open(&an) != FURET_OK)
		abort();
	if (!fast && (furet_tokenizer_open(&fast) != FURET_OK ||
		furet_tokenizer_open(&icu) != FURET_OK))
		abort();
	furet_tokenizer_set_icu_only(icu, 1);
	if (furet_tokenizer_run(fast, (const char *)data, size, &wa, &na) ||
		furet_tokenizer_run(icu, (const char *)data, size, &wb, &nb))
		abort();
	if (furet_tokenizer_was_fast(fast)) {
		if (na != nb)
			abort();
		for (i = 0; i < na; i++)
			if (wa[i].start != wb[i].start || wa[i].end != wb[i].end ||
				wa[i].kind != wb[i].kind)
				abort();
	}
	rc = furet_analyzer_run(an, (const char *)data, size, FURET_MODE_DOCUMENT,
		&toks, &n);
	if (!is_valid) {
		if (rc != FURET_INVALID)
			abort();
		return 0;
	}
	if (rc != FURET_OK)
		abort();
	for (i = 0; i < n; i++) {
		if (toks[i].start >= toks[i].end || toks[i].end > size ||
			toks[i].term_len == 0 || toks[i].term[toks[i].term_len] != '\0')
			abort();
		/* Positions and starts never go back; a compound's whole overlaps
		** its parts, so ranges may overlap. */
		if (i && (toks[i].pos < toks[i - 1].pos ||
			toks[i].start < toks[i - 1].start))
			abort();
	}
	return 0;
}
