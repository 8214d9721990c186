/*
** spill.c — unnamed temporary files and buffered readers. See spill.h.
*/
#define _GNU_SOURCE /* O_TMPFILE */
#include "spill.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

furet_rc furet_tmp_open(furet_tmp *t, const char *dir, char *err,
	size_t err_cap)
{
	char path[4096];
	int fd = -1;

	t->fd = -1;
	t->len = 0;
#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
	if (fd < 0) {
		/* No O_TMPFILE on this file system: a name, gone at once. */
		if ((size_t)snprintf(path, sizeof path, "%s/.furet-tmp-XXXXXX", dir) >=
			sizeof path) {
			snprintf(err, err_cap, "%s: path too long", dir);
			return FURET_IO;
		}
		fd = mkostemp(path, O_CLOEXEC);
		if (fd >= 0)
			unlink(path);
	}
	if (fd < 0) {
		snprintf(err, err_cap, "cannot make a temporary file in %s: %s", dir,
			strerror(errno));
		return FURET_IO;
	}
	t->fd = fd;
	return FURET_OK;
}

furet_rc furet_tmp_append(furet_tmp *t, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n) {
		ssize_t k = pwrite(t->fd, s, n, (off_t)t->len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return FURET_IO;
		s += k;
		n -= (size_t)k;
		t->len += (uint64_t)k;
	}
	return FURET_OK;
}

void furet_tmp_close(furet_tmp *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->len = 0;
}

furet_rc furet_rdr_open_file(furet_rdr *r, int fd, uint64_t off, uint64_t len,
	size_t cap)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->pos = off;
	r->end = off + len;
	r->cap = cap < 4096 ? 4096 : cap;
	r->buf = furet_malloc(r->cap);
	if (!r->buf) {
		r->has_err = 1;
		return FURET_NOMEM;
	}
	r->p = r->e = r->buf;
	return FURET_OK;
}

void furet_rdr_open_mem(furet_rdr *r, const void *p, size_t len)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->p = p;
	r->e = p ? r->p + len : r->p; /* (NULL + 0 is undefined) */
}

void furet_rdr_close(furet_rdr *r)
{
	furet_free(r->buf);
	r->buf = NULL;
	r->p = r->e = NULL;
}

size_t furet_rdr_need(furet_rdr *r, size_t n)
{
	size_t have = (size_t)(r->e - r->p);

	if (have >= n || r->fd < 0 || r->pos == r->end || r->has_err)
		return have < n ? have : n;
	/* Keep what is left at the start of the buffer, then fill the rest. */
	memmove(r->buf, r->p, have);
	r->p = r->buf;
	r->e = r->buf + have;
	while ((size_t)(r->e - r->buf) < r->cap && r->pos < r->end) {
		size_t want = r->cap - (size_t)(r->e - r->buf);
		ssize_t k;
		if (want > r->end - r->pos)
			want = (size_t)(r->end - r->pos);
		k = pread(r->fd, r->buf + (r->e - r->buf), want, (off_t)r->pos);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			r->has_err = 1;
			return 0;
		}
		r->e += k;
		r->pos += (uint64_t)k;
		if ((size_t)(r->e - r->p) >= n)
			break;
	}
	have = (size_t)(r->e - r->p);
	return have < n ? have : n;
}

const unsigned char *furet_rdr_bytes_more(furet_rdr *r, size_t n)
{
	const unsigned char *p;

	if ((size_t)(r->e - r->p) < n && furet_rdr_need(r, n) < n) {
		r->has_err = 1;
		return NULL;
	}
	p = r->p;
	r->p += n;
	return p;
}

void furet_rdr_skip(furet_rdr *r, uint64_t n)
{
	size_t have = (size_t)(r->e - r->p);

	if (n <= have) {
		r->p += n;
		return;
	}
	n -= have;
	r->p = r->e;
	if (r->fd < 0 || n > r->end - r->pos) {
		r->has_err = 1;
		r->pos = r->end;
		return;
	}
	r->pos += n;
}
