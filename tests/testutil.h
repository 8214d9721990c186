/*
** testutil.h — helpers shared by the cmocka suites: temporary directories that
** clean themselves up, whole-file reads, and where ../shared/data is (tests that
** need it skip, saying so, when it is absent).
*/
#ifndef FURET_TESTUTIL_H
#define FURET_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "furet.h"

/* A document of id, title (NULL: none given) and text; the rest zero: plain
** text, no metadata, no source. */
static inline furet_doc tu_doc(const char *id, const char *title,
	const char *text)
{
	furet_doc d;
	memset(&d, 0, sizeof d);
	d.id = id;
	d.id_len = strlen(id);
	d.title = title;
	d.title_len = title ? strlen(title) : 0;
	d.text = text;
	d.text_len = strlen(text);
	return d;
}

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string and
** removes the tree with tu_rmtree. A test cannot go on without it: failing
** to make one ends the suite. */
static inline char *tu_mkdtemp(void)
{
	const char *base = getenv("TMPDIR");
	char *p = malloc(4096);
	if (p)
		snprintf(p, 4096, "%s/furet-test-XXXXXX",
			base && *base ? base : "/tmp");
	if (!p || !mkdtemp(p)) {
		perror("furet tests: cannot make a temporary directory");
		exit(1);
	}
	return p;
}

static inline void tu_rmtree(const char *dir)
{
	char cmd[4200];
	if (!dir || !*dir)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Writes len bytes to dir/name (creating parent directories); 0 on success. */
static inline int tu_write(const char *dir, const char *name, const char *data,
	size_t len)
{
	char path[8400];
	FILE *f;
	size_t i;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	for (i = strlen(dir) + 1; path[i]; i++) {
		if (path[i] == '/') {
			path[i] = '\0';
			mkdir(path, 0777);
			path[i] = '/';
		}
	}
	f = fopen(path, "wb");
	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f);
}

/* Reads a whole file; NULL when it cannot. *len gets its size. malloc'd. */
static inline char *tu_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = (n + 4096 + 1) * 2;
			buf = realloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		if (!r)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* The shared data folder (../shared/data beside the checkout, or
** $FURET_DATA), or NULL when absent. Tests run from the checkout root. */
static inline const char *tu_shared_data(void)
{
	const char *env = getenv("FURET_DATA");
	struct stat st;
	if (env && *env && stat(env, &st) == 0)
		return env;
	if (stat("../shared/data", &st) == 0)
		return "../shared/data";
	return NULL;
}

#endif
