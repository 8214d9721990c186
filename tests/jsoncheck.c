/*
** jsoncheck.c — a helper of tests/cli.sh: reads JSON Lines on stdin with
** jansson and checks them, so the CLI tests need no Python.
**
**   jsoncheck hits            every line is a search hit with exactly the
**                             keys and types of `furet search --json` (meta
**                             last, of any type), ranks count from 1,
**                             highlights lie inside the text
**   jsoncheck keys K1,K2,...  every line is an object with exactly these
**                             keys, in this order (the documented schema
**                             of the other --json outputs)
**   jsoncheck get N KEY       prints KEY of line N (from 1): strings raw,
**                             numbers, booleans and null as JSON
**   jsoncheck count           prints the number of lines
**
** Exit 0 when the check passes, 1 with a message otherwise.
*/
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const hit_keys[] = { "rank", "score", "doc", "title",
	"section", "passage", "start", "end", "text", "highlights", "meta" };

static int check_hit(json_t *o, size_t lineno)
{
	size_t i, n_keys = sizeof hit_keys / sizeof hit_keys[0];
	json_t *hl, *v;
	size_t text_len;

	if (!json_is_object(o) || json_object_size(o) != n_keys) {
		fprintf(stderr, "line %zu: not an object with %zu keys\n", lineno,
			n_keys);
		return 1;
	}
	for (i = 0; i < n_keys; i++) {
		if (!json_object_get(o, hit_keys[i])) {
			fprintf(stderr, "line %zu: key %s missing\n", lineno, hit_keys[i]);
			return 1;
		}
	}
	{
		/* meta is written last, after the other keys. */
		void *it = json_object_iter(o), *last = NULL;
		for (; it; it = json_object_iter_next(o, it))
			last = it;
		if (!last || strcmp(json_object_iter_key(last), "meta") != 0) {
			fprintf(stderr, "line %zu: meta is not the last key\n", lineno);
			return 1;
		}
	}
	if (!json_is_integer(json_object_get(o, "rank")) ||
		json_integer_value(json_object_get(o, "rank")) != (json_int_t)lineno ||
		!json_is_number(json_object_get(o, "score")) ||
		!json_is_string(json_object_get(o, "doc")) ||
		!json_is_string(json_object_get(o, "title")) ||
		!(json_is_string(json_object_get(o, "section")) ||
			json_is_null(json_object_get(o, "section"))) ||
		!json_is_integer(json_object_get(o, "passage")) ||
		!json_is_integer(json_object_get(o, "start")) ||
		!json_is_integer(json_object_get(o, "end")) ||
		!json_is_string(json_object_get(o, "text")) ||
		!json_is_array(json_object_get(o, "highlights"))) {
		fprintf(stderr, "line %zu: a key has the wrong type or rank\n", lineno);
		return 1;
	}
	if (json_integer_value(json_object_get(o, "end")) -
		json_integer_value(json_object_get(o, "start")) !=
		(json_int_t)json_string_length(json_object_get(o, "text"))) {
		fprintf(stderr, "line %zu: end - start != text length\n", lineno);
		return 1;
	}
	text_len = json_string_length(json_object_get(o, "text"));
	hl = json_object_get(o, "highlights");
	json_array_foreach(hl, i, v) {
		json_int_t s, e;
		if (!json_is_array(v) || json_array_size(v) != 2) {
			fprintf(stderr, "line %zu: highlight %zu is not a pair\n", lineno, i);
			return 1;
		}
		s = json_integer_value(json_array_get(v, 0));
		e = json_integer_value(json_array_get(v, 1));
		if (s < 0 || e <= s || (size_t)e > text_len) {
			fprintf(stderr, "line %zu: highlight %zu out of the text\n",
				lineno, i);
			return 1;
		}
	}
	return 0;
}

/* The keys of o are exactly the comma-separated list, in that order. */
static int check_keys(json_t *o, const char *list, size_t lineno)
{
	const char *key, *at = list;
	json_t *v;

	if (!json_is_object(o)) {
		fprintf(stderr, "line %zu: not an object\n", lineno);
		return 1;
	}
	json_object_foreach(o, key, v) {
		size_t n = strcspn(at, ",");
		if (strlen(key) != n || strncmp(key, at, n) != 0) {
			fprintf(stderr, "line %zu: key %s where %.*s was expected\n",
				lineno, key, (int)n, at);
			return 1;
		}
		at += n + (at[n] == ',');
	}
	if (*at) {
		fprintf(stderr, "line %zu: keys missing from %s\n", lineno, at);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0, want = 0;
	int status = 0, is_found = 0;

	if (argc < 2 || (!strcmp(argv[1], "keys") && argc != 3))
		return 2;
	if (!strcmp(argv[1], "get")) {
		if (argc != 4)
			return 2;
		want = (size_t)strtoul(argv[2], NULL, 10);
	}
	while (getline(&line, &cap, stdin) >= 0) {
		json_error_t err;
		json_t *o;

		lineno++;
		o = json_loads(line, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
		if (!o) {
			fprintf(stderr, "line %zu: invalid JSON: %s\n", lineno, err.text);
			status = 1;
			break;
		}
		if (!strcmp(argv[1], "hits") && check_hit(o, lineno))
			status = 1;
		if (!strcmp(argv[1], "keys") && check_keys(o, argv[2], lineno))
			status = 1;
		if (!strcmp(argv[1], "get") && lineno == want) {
			json_t *v = json_object_get(o, argv[3]);
			is_found = 1;
			if (json_is_string(v)) {
				fwrite(json_string_value(v), 1, json_string_length(v), stdout);
				putchar('\n');
			} else if (v) {
				char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
				puts(s ? s : "");
				free(s);
			} else {
				status = 1;
			}
		}
		json_decref(o);
		if (status)
			break;
	}
	free(line);
	if (!strcmp(argv[1], "count"))
		printf("%zu\n", lineno);
	if (!strcmp(argv[1], "get") && !is_found)
		status = 1;
	return status;
}
