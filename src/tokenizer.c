/*
** tokenizer.c — UTF-8 -> UTF-16 with an offset map -> ICU word breaks.
**
** The decoder is our own loop rather than u_strFromUTF8 because it has to
** write, for every UTF-16 unit, the UTF-8 byte offset it came from; doing both
** in one pass is cheaper than converting and then re-walking the text. Both
** units of a surrogate pair map to the start of their code point (ICU never
** puts a boundary between them), and map[n16] = len so that a word's end
** offset is map[u_end] whatever comes after it.
**
** Before ICU sees the text, the decoder rewrites a few characters in the
** UTF-16 buffer, one unit for one unit so that the offset map stays exact:
** every apostrophe variant (U+2019 ’, U+2018 ‘, U+02BC ʼ, U+2032 ′, the
** backtick U+0060 and the full-width U+FF07) becomes U+0027, so that "l′école"
** and "l`école" are one ICU word like "l'école" (ICU cuts at ′ and `), and
** the analyzer has one apostrophe to look for; NBSP U+00A0 and the narrow
** NBSP U+202F become U+0020. U+202F matters most: ICU counts it as
** ExtendNumLet and would glue "1\u202f002" into one word, or "Bonjour\u202f"
** before a "!". The UTF-8 text itself is never changed: offsets still point
** into it.
**
** Most French text needs nothing of ICU's word rules but their Latin part,
** so a text made only of characters of that part (ASCII but the underscore and @,
** Latin-1 and Latin Extended-A letters, the common French punctuation:
** see char_class) is cut by fast_words, which applies the same rules of
** UAX #29 as ICU does for those characters: letters and digits stick
** together; a letter, then an apostrophe or a dot, then a letter (WB6/7)
** stay one word, as do a digit, then an apostrophe, a dot, a comma or a
** semicolon, then a digit (WB11/12); anything else breaks. ICU's status
** for such a word is that of its last character (letter 200, number 100),
** and so is ours. Any other character anywhere in the text (a combining
** mark, the middle dot, an underscore, a superscript, a Greek letter)
** sends the whole text to ICU. test_tokenizer_fast_path compares the two
** on random strings and on real text.
**
** Buffers only grow: a UTF-8 text of len bytes never needs more than len
** UTF-16 units (1 byte -> 1 unit, 2-3 bytes -> 1 unit, 4 bytes -> 2 units,
** an invalid byte -> 1 unit U+FFFD), so capacity len + 1 is reserved up front
** and the decoder needs no checks. Lengths are int32_t for ICU, hence the
** INT32_MAX limit on a single text (documents are cut into passages long
** before that).
*/
#include "tokenizer.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <pthread.h>
#include <string.h>
#include <unicode/ubrk.h>

#include "util.h"

struct furet_tokenizer {
	UBreakIterator *brk;
	int is_icu_only;  /* tests: never take the fast path */
	int is_fast;      /* the last decoded text may take the fast path */
	UChar *u16;     /* the text in UTF-16 */
	uint32_t *map;  /* map[i] = byte offset of u16[i]; n16 + 1 entries */
	size_t u16_cap; /* units available in u16 and entries in map */
	int32_t n16;
	furet_word *words;
	size_t n_words, words_cap;
};

/* The fast path's class of U+0000..U+017F (class_of), looked up: the
** decoder asks for every character. Filled once by the first open. */
static unsigned char latin_class[0x180];
static pthread_once_t latin_once = PTHREAD_ONCE_INIT;
static void fill_latin_class(void);

furet_rc furet_tokenizer_open(furet_tokenizer **out)
{
	furet_tokenizer *t = NULL;
	UErrorCode err = U_ZERO_ERROR;
	furet_rc rc = FURET_OK;

	if (!out)
		return FURET_INVALID;
	*out = NULL;
	t = furet_malloc(sizeof *t);
	if (!t) {
		rc = FURET_NOMEM;
		goto done;
	}
	t->brk = NULL;
	t->is_icu_only = 0;
	t->is_fast = 0;
	t->u16 = NULL;
	t->map = NULL;
	t->u16_cap = 0;
	t->n16 = 0;
	t->words = NULL;
	t->n_words = t->words_cap = 0;

	pthread_once(&latin_once, fill_latin_class);
	/* "fr" has no tailoring of its own: ICU answers U_USING_DEFAULT_WARNING
	** and uses the root rules, which is what we want. */
	t->brk = ubrk_open(UBRK_WORD, "fr", NULL, 0, &err);
	if (U_FAILURE(err)) {
		rc = err == U_MEMORY_ALLOCATION_ERROR ? FURET_NOMEM : FURET_ERROR;
		goto done;
	}
	*out = t;
	t = NULL;
done:
	furet_tokenizer_close(t);
	return rc;
}

void furet_tokenizer_close(furet_tokenizer *t)
{
	if (!t)
		return;
	if (t->brk)
		ubrk_close(t->brk);
	furet_free(t->words);
	furet_free(t->map);
	furet_free(t->u16);
	furet_free(t);
}

static int grow_text(furet_tokenizer *t, size_t need)
{
	UChar *u;
	uint32_t *m;
	size_t cap;

	if (need <= t->u16_cap)
		return 0;
	cap = t->u16_cap ? t->u16_cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 4 ? need : cap * 2;
	/* Each array is replaced as soon as it is reallocated, so a failure on the
	** second leaves both valid (the first merely larger than u16_cap says). */
	u = furet_realloc(t->u16, cap * sizeof *u);
	if (!u)
		return -1;
	t->u16 = u;
	m = furet_realloc(t->map, cap * sizeof *m);
	if (!m)
		return -1;
	t->map = m;
	t->u16_cap = cap;
	return 0;
}

/* Classes of the fast path (see the file comment). */
enum {
	C_SLOW,   /* a character the fast path leaves to ICU */
	C_OTHER,  /* breaks on both sides: spaces, punctuation, symbols */
	C_LETTER, /* ALetter */
	C_DIGIT,  /* Numeric */
	C_QUOTE,  /* U+0027 (every apostrophe, after substitution): MidNumLetQ */
	C_DOT,    /* MidNumLet */
	C_MIDNUM  /* comma, semicolon: MidNum */
};

static int class_of(UChar c)
{
	if (c < 0x80) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return C_LETTER;
		if (c >= '0' && c <= '9')
			return C_DIGIT;
		switch (c) {
		case 0x27: return C_QUOTE;
		case '.': return C_DOT;
		case ',': case ';': return C_MIDNUM;
		case '_': return C_SLOW; /* ExtendNumLet: ICU's statuses are odd */
		case '@': return C_SLOW; /* ICU 72 keeps "a@b" and "1@2" whole */
		default: return C_OTHER;
		}
	}
	if (c < 0xa0)
		return C_OTHER; /* C1 controls */
	if (c < 0xc0) {
		switch (c) {
		case 0xaa: case 0xba: case 0xb5: /* letters */
		case 0xb2: case 0xb3: case 0xb9: case 0xbc: case 0xbd: case 0xbe:
		case 0xad: /* soft hyphen: Format */
		case 0xb7: /* middle dot: MidLetter */
		case 0xa9: case 0xae: /* Extended_Pictographic */
			return C_SLOW;
		default:
			return C_OTHER; /* « » ° § and the like */
		}
	}
	if (c < 0x180)
		return c == 0xd7 || c == 0xf7 ? C_OTHER : C_LETTER;
	switch (c) {
	case 0x2013: case 0x2014: case 0x2022: case 0x2026: case 0x201c:
	case 0x201d: case 0x201e: case 0x2039: case 0x203a: case 0x20ac:
		return C_OTHER; /* – — • … “ ” „ ‹ › € */
	default:
		return C_SLOW;
	}
}

static void fill_latin_class(void)
{
	UChar c;

	for (c = 0; c < 0x180; c++)
		latin_class[c] = (unsigned char)class_of(c);
}

static inline int char_class(UChar c)
{
	return c < 0x180 ? latin_class[c] : class_of(c);
}

/* The unit ICU is given for BMP character c (see the file comment). */
static UChar substitute(UChar c)
{
	switch (c) {
	case 0x2019: case 0x2018: case 0x02bc: case 0x2032: case 0xff07:
		return 0x27;
	case 0xa0: case 0x202f:
		return 0x20;
	default:
		return c;
	}
}

/* Is any of the 8 bytes of x equal to b? */
static inline int has_byte(uint64_t x, unsigned char b)
{
	uint64_t y = x ^ (0x0101010101010101ull * b);
	return ((y - 0x0101010101010101ull) & ~y & 0x8080808080808080ull) != 0;
}

/* Decodes s[0..len) into t->u16 and t->map. The capacity is at least len + 1
** (see the file comment). Invalid sequences decode as U+FFFD, one byte at a
** time, with the same definition of validity as furet_utf8_valid. */
static void decode(furet_tokenizer *t, const unsigned char *s, size_t len)
{
	UChar *u = t->u16;
	uint32_t *map = t->map;
	size_t i = 0;
	int32_t n = 0;
	int is_fast = !t->is_icu_only;

	while (i < len) {
		uint32_t cp;
		size_t k;

		if (s[i] < 0x80) {
			/* A run of ASCII, most of the text, in loops of their own:
			** of ASCII, only '_' and '@' have the class C_SLOW. First
			** eight bytes at a time, while they are ASCII and none is a
			** backtick (which becomes U+0027). */
			size_t e;
			int has_slow = 0;

#ifdef __SSE2__
			/* Sixteen at a time where SSE2 is there (every x86-64): the
			** bytes widened to UTF-16 and their offsets, a few
			** instructions each instead of a loop. */
			while (i + 16 <= len) {
				__m128i x = _mm_loadu_si128((const __m128i *)(s + i));
				__m128i z = _mm_setzero_si128(), m;
				int b;

				if (_mm_movemask_epi8(x) |
					_mm_movemask_epi8(_mm_cmpeq_epi8(x, _mm_set1_epi8('`'))))
					break;
				has_slow |= _mm_movemask_epi8(_mm_or_si128(
					_mm_cmpeq_epi8(x, _mm_set1_epi8('_')),
					_mm_cmpeq_epi8(x, _mm_set1_epi8('@')))) != 0;
				_mm_storeu_si128((__m128i *)(u + n), _mm_unpacklo_epi8(x, z));
				_mm_storeu_si128((__m128i *)(u + n + 8),
					_mm_unpackhi_epi8(x, z));
				m = _mm_add_epi32(_mm_set1_epi32((int)i),
					_mm_setr_epi32(0, 1, 2, 3));
				for (b = 0; b < 16; b += 4) {
					_mm_storeu_si128((__m128i *)(map + n + b), m);
					m = _mm_add_epi32(m, _mm_set1_epi32(4));
				}
				i += 16;
				n += 16;
			}
#endif
			while (i + 8 <= len) {
				uint64_t x;
				int b;

				memcpy(&x, s + i, 8);
				if ((x & 0x8080808080808080ull) || has_byte(x, '`'))
					break;
				has_slow |= has_byte(x, '_') | has_byte(x, '@');
				for (b = 0; b < 8; b++) {
					map[n + b] = (uint32_t)(i + (size_t)b);
					u[n + b] = s[i + (size_t)b];
				}
				i += 8;
				n += 8;
			}
			for (e = i; e < len && s[e] < 0x80; e++)
				;
			for (; i < e; i++, n++) {
				unsigned char c = s[i];
				map[n] = (uint32_t)i;
				u[n] = c == '`' ? 0x27 : (UChar)c;
				has_slow |= c == '_' || c == '@';
			}
			is_fast &= !has_slow;
			continue;
		}
		k = furet_utf8_decode(s + i, len - i, &cp);
		map[n] = (uint32_t)i;
		if (!k) {
			u[n++] = 0xfffd;
			is_fast = 0;
			i++;
		} else if (cp < 0x10000) {
			u[n] = substitute((UChar)cp);
			is_fast &= char_class(u[n]) != C_SLOW;
			n++;
			i += k;
		} else {
			is_fast = 0;
			u[n++] = (UChar)(0xd7c0 + (cp >> 10));
			map[n] = (uint32_t)i;
			u[n++] = (UChar)(0xdc00 | (cp & 0x3ff));
			i += k;
		}
	}
	map[n] = (uint32_t)len;
	t->n16 = n;
	t->is_fast = is_fast;
}

/* Inline: once a word (growing, rare, is furet_grow's). */
static inline int push_word(furet_tokenizer *t, int32_t from, int32_t to,
	int kind, int chars)
{
	furet_word *w;

	if (t->n_words == t->words_cap && furet_grow((void **)&t->words,
		&t->words_cap, t->n_words + 1, sizeof *t->words))
		return -1;
	w = &t->words[t->n_words++];
	w->start = t->map[from];
	w->end = t->map[to];
	w->u_start = from;
	w->u_end = to;
	w->kind = kind;
	w->chars = chars;
	return 0;
}

#ifdef __SSE2__
/* How many of the units u[0..n) from the first on are letters or digits
** (C_LETTER, C_DIGIT), eight at a time: a word's letters are most of the
** text, and these compares cost less than a class looked up for each. The
** count stops short of the last n % 8; *chars goes from DIGITS to PLAIN
** when there is a letter among them, and *last is the class of the last. */
static int32_t alnum_run(const UChar *u, int32_t n, int *chars, int *last)
{
	int32_t r = 0;

	while (r + 8 <= n) {
		__m128i x = _mm_loadu_si128((const __m128i *)(u + r));
		__m128i lw = _mm_or_si128(x, _mm_set1_epi16(0x20));
		__m128i ascii = _mm_and_si128(_mm_cmpgt_epi16(lw,
			_mm_set1_epi16('a' - 1)), _mm_cmplt_epi16(lw,
			_mm_set1_epi16('z' + 1)));
		/* U+00C0..U+017F but for × and ÷ (class_of) */
		__m128i latin = _mm_andnot_si128(_mm_or_si128(
			_mm_cmpeq_epi16(x, _mm_set1_epi16(0xd7)),
			_mm_cmpeq_epi16(x, _mm_set1_epi16(0xf7))),
			_mm_and_si128(_mm_cmpgt_epi16(x, _mm_set1_epi16(0xbf)),
			_mm_cmplt_epi16(x, _mm_set1_epi16(0x180))));
		__m128i digit = _mm_and_si128(_mm_cmpgt_epi16(x,
			_mm_set1_epi16('0' - 1)), _mm_cmplt_epi16(x,
			_mm_set1_epi16('9' + 1)));
		unsigned letters = (unsigned)_mm_movemask_epi8(_mm_or_si128(ascii,
			latin));
		unsigned m = letters | (unsigned)_mm_movemask_epi8(digit);
		int32_t k = m == 0xffff ? 8 : __builtin_ctz(~m) / 2;

		if (k == 0)
			break;
		if (*chars == FURET_CHARS_DIGITS &&
			(letters & ((1u << (2 * k)) - 1)))
			*chars = FURET_CHARS_PLAIN;
		*last = u[r + k - 1] >= '0' && u[r + k - 1] <= '9' ? C_DIGIT :
			C_LETTER;
		r += k;
		if (k < 8)
			break;
	}
	return r;
}
#endif

/* The words of a text whose characters all have a fast class (see the file
** comment): what ICU would find, without ICU. 0, or -1 out of memory. */
static int fast_words(furet_tokenizer *t)
{
	const UChar *u = t->u16;
	int32_t n = t->n16, i = 0;

	while (i < n) {
		int32_t j;
		int last = char_class(u[i]), chars;

		if (last != C_LETTER && last != C_DIGIT) {
			i++;
			continue;
		}
		chars = last == C_DIGIT ? FURET_CHARS_DIGITS : FURET_CHARS_PLAIN;
		for (j = i + 1; j < n; j++) {
			int c, next;

#ifdef __SSE2__
			if ((j += alnum_run(u + j, n - j, &chars, &last)) >= n)
				break;
#endif
			c = char_class(u[j]);
			if (c == C_LETTER || c == C_DIGIT) {
				if (c == C_LETTER && chars == FURET_CHARS_DIGITS)
					chars = FURET_CHARS_PLAIN;
				last = c;
				continue;
			}
			if (j + 1 == n || (c != C_QUOTE && c != C_DOT && c != C_MIDNUM))
				break;
			next = char_class(u[j + 1]);
			if (next != last || (last == C_LETTER && c == C_MIDNUM))
				break;
			if (c != C_QUOTE)
				chars = FURET_CHARS_DOTTED;
			else if (chars != FURET_CHARS_DOTTED)
				chars = FURET_CHARS_WORD;
			j++; /* the middle character and the one after it */
		}
		if (push_word(t, i, j, last == C_LETTER ? FURET_WORD_LETTER :
			FURET_WORD_NUMBER, chars))
			return -1;
		i = j;
	}
	return 0;
}

void furet_tokenizer_set_icu_only(furet_tokenizer *t, int is_icu_only)
{
	t->is_icu_only = is_icu_only != 0;
}

int furet_tokenizer_was_fast(const furet_tokenizer *t)
{
	return t->is_fast;
}

furet_rc furet_tokenizer_run(furet_tokenizer *t, const char *text, size_t len,
	const furet_word **words, size_t *n_words)
{
	UErrorCode err = U_ZERO_ERROR;
	furet_rc rc = FURET_OK;
	int32_t from, to;

	*words = NULL;
	*n_words = 0;
	t->n_words = 0;
	t->n16 = 0;
	if (!text && len) {
		rc = FURET_INVALID;
		goto done;
	}
	if (len >= INT32_MAX) {
		rc = FURET_INVALID;
		goto done;
	}
	if (grow_text(t, len + 1)) {
		rc = FURET_NOMEM;
		goto done;
	}
	decode(t, (const unsigned char *)text, len);
	if (t->n16 == 0)
		goto done;
	if (t->is_fast) {
		if (fast_words(t)) {
			rc = FURET_NOMEM;
			goto done;
		}
		*words = t->words;
		*n_words = t->n_words;
		goto done;
	}

	ubrk_setText(t->brk, t->u16, t->n16, &err);
	if (U_FAILURE(err)) {
		rc = FURET_ERROR;
		goto done;
	}
	from = ubrk_first(t->brk);
	while ((to = ubrk_next(t->brk)) != UBRK_DONE) {
		/* The status belongs to the boundary just returned, i.e. to the
		** segment [from, to) that it closes. */
		int32_t st = ubrk_getRuleStatus(t->brk);
		int kind;

		if (st >= UBRK_WORD_NUMBER && st < UBRK_WORD_NUMBER_LIMIT)
			kind = FURET_WORD_NUMBER;
		else if (st >= UBRK_WORD_LETTER && st < UBRK_WORD_LETTER_LIMIT)
			kind = FURET_WORD_LETTER;
		else if (st >= UBRK_WORD_KANA && st < UBRK_WORD_IDEO_LIMIT)
			kind = FURET_WORD_CJK;
		else
			kind = -1; /* UBRK_WORD_NONE: spaces, punctuation, symbols */
		if (kind >= 0 && push_word(t, from, to, kind, FURET_CHARS_ANY)) {
			rc = FURET_NOMEM;
			goto done;
		}
		from = to;
	}
	*words = t->words;
	*n_words = t->n_words;
done:
	if (rc != FURET_OK)
		t->n_words = 0;
	return rc;
}

const UChar *furet_tokenizer_utf16(const furet_tokenizer *t)
{
	return t->u16;
}

int32_t furet_tokenizer_length(const furet_tokenizer *t)
{
	return t->n16;
}

const uint32_t *furet_tokenizer_offsets(const furet_tokenizer *t)
{
	return t->map;
}
