/*-------------------------------------------------------------------------
 * cksumnorm.h
 *	  The normalisation a migration checksum hashes, shared by the client
 *	  (client/files.c) and documented with the server's checksum.c.  Plain
 *	  C, no allocation.
 *
 * A script is hashed as a sequence of chunks: runs of its bytes, and "\n"
 * in place of each CRLF or lone CR.  A leading UTF-8 byte order mark is
 * left out; under scheme 2 (smig 0.2, current) so is whitespace at the
 * very end of the script (blanks and line ends).  Feeding the chunks to
 * SHA-256 in order gives smig.checksum(sql, scheme).
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_CKSUMNORM_H
#define SMIG_CKSUMNORM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ChecksumNorm
{
	const char *buf;
	size_t		pos;			/* next byte to look at */
	size_t		end;			/* just past the last byte that counts */
	bool		pending_lf;		/* a "\n" for a CR comes next */
} ChecksumNorm;

/* Start walking buf[0..len) under scheme 1 or 2. */
extern void cksumnorm_init(ChecksumNorm *n, const char *buf, size_t len,
						   int scheme);

/* The next chunk to hash; false when none is left. */
extern bool cksumnorm_next(ChecksumNorm *n, const char **chunk,
						   size_t *chunk_len);

#endif							/* SMIG_CKSUMNORM_H */
