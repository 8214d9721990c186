/*
** spill.h — temporary files for what the writer does not keep in memory,
** and buffered readers over them.
**
** A furet_tmp is a file without a name: O_TMPFILE where the file system has
** it, else mkstemp and an immediate unlink. Nothing can leave it behind: an
** error, an abort or a killed process all end with the last descriptor
** closed, and the kernel drops the file (and its dirty pages, which then
** never reach the disk). The writer spills there its sorted runs of
** postings and its spool of documents and passage texts (writer.c).
**
** A furet_rdr reads a region of such a file, or a block of memory, through
** a buffer of a fixed size; furet_rdr_need makes a few bytes contiguous so
** that varints and keys are decoded in place. Reads are checked: running
** out of bytes or of file is an error the caller sees (has_err), never a
** read past the end.
**
** Depends on util only.
*/
#ifndef FURET_SPILL_H
#define FURET_SPILL_H

#include <stddef.h>
#include <stdint.h>

#include "furet.h"
#include "util.h"

typedef struct furet_tmp {
	int fd;           /* -1 when closed */
	uint64_t len;     /* bytes written */
} furet_tmp;

/* Makes an unnamed file in dir. FURET_IO when it cannot (the message, with
** errno's text, goes to err). */
furet_rc furet_tmp_open(furet_tmp *t, const char *dir, char *err,
	size_t err_cap);
/* Appends n bytes. FURET_IO (a full disk). */
furet_rc furet_tmp_append(furet_tmp *t, const void *p, size_t n);
/* Accepts a closed (or zeroed with fd -1) one. */
void furet_tmp_close(furet_tmp *t);

typedef struct furet_rdr {
	int fd;                  /* -1: reading memory */
	uint64_t pos, end;       /* file bytes [pos, end) not yet buffered */
	unsigned char *buf;      /* owned buffer (files only) */
	size_t cap;
	const unsigned char *p, *e; /* buffered bytes not yet consumed */
	int has_err;             /* sticky: short file, bad varint, I/O error */
} furet_rdr;

/* A reader over file bytes [off, off + len) with a buffer of cap bytes
** (at least 4 KiB). FURET_NOMEM. */
furet_rc furet_rdr_open_file(furet_rdr *r, int fd, uint64_t off, uint64_t len,
	size_t cap);
/* A reader over memory (borrowed until the reader is closed). */
void furet_rdr_open_mem(furet_rdr *r, const void *p, size_t len);
void furet_rdr_close(furet_rdr *r);

/* Makes n bytes (n <= the buffer size) contiguous at r->p; returns how many
** are (fewer at the end of the region, 0 and has_err on an I/O error). */
size_t furet_rdr_need(furet_rdr *r, size_t n);

/* Bytes left to read, buffered or not. */
static inline uint64_t furet_rdr_left(const furet_rdr *r)
{
	return (uint64_t)(r->e - r->p) + (r->end - r->pos);
}

/* Reads a varint; 0 (and has_err) when the region ends or it is bad. */
static inline uint64_t furet_rdr_varint(furet_rdr *r)
{
	uint64_t v = 0;
	size_t k;

	/* One byte, most of them (passage deltas, frequencies, positions). */
	if (r->p < r->e && *r->p < 0x80)
		return *r->p++;
	if (r->e - r->p < 10)
		furet_rdr_need(r, 10);
	k = furet_get_varint(r->p, r->e, &v);
	if (!k) {
		r->has_err = 1;
		return 0;
	}
	r->p += k;
	return v;
}

/* furet_rdr_bytes when fewer than n bytes are buffered. */
const unsigned char *furet_rdr_bytes_more(furet_rdr *r, size_t n);

/* n bytes at once, consumed (valid until the next call), or NULL (and
** has_err) when the region ends first or n is more than the buffer. */
static inline const unsigned char *furet_rdr_bytes(furet_rdr *r, size_t n)
{
	const unsigned char *p = r->p;

	if ((size_t)(r->e - p) < n)
		return furet_rdr_bytes_more(r, n);
	r->p = p + n;
	return p;
}

/* Skips n bytes. */
void furet_rdr_skip(furet_rdr *r, uint64_t n);

#endif
