/*-------------------------------------------------------------------------
 * cksumnorm.c
 *	  The text a migration checksum hashes: see cksumnorm.h.  The rules are
 *	  those of the server's checksum.c (scheme 1 and 2); test/unit checks
 *	  this walk, and t/008_client.pl checks that the client's checksums
 *	  equal smig.checksum() on awkward files.
 *-------------------------------------------------------------------------
 */
#include "cksumnorm.h"

#include <string.h>

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
		c == '\v';
}

void
cksumnorm_init(ChecksumNorm *n, const char *buf, size_t len, int scheme)
{
	n->buf = buf;
	n->pos = 0;
	n->pending_lf = false;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		n->pos = 3;
	if (scheme >= 2)
		while (len > n->pos && is_blank(buf[len - 1]))
			len--;
	n->end = len;
}

bool
cksumnorm_next(ChecksumNorm *n, const char **chunk, size_t *chunk_len)
{
	size_t		start;

	if (n->pending_lf)
	{
		n->pending_lf = false;
		*chunk = "\n";
		*chunk_len = 1;
		return true;
	}
	if (n->pos >= n->end)
		return false;
	start = n->pos;
	while (n->pos < n->end && n->buf[n->pos] != '\r')
		n->pos++;
	*chunk = n->buf + start;
	*chunk_len = n->pos - start;
	if (n->pos < n->end)
	{
		/* a CR, or a CRLF, becomes one LF */
		n->pos++;
		if (n->pos < n->end && n->buf[n->pos] == '\n')
			n->pos++;
		if (*chunk_len == 0)
		{
			*chunk = "\n";
			*chunk_len = 1;
		}
		else
			n->pending_lf = true;
	}
	return true;
}
