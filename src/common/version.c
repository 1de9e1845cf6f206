/*-------------------------------------------------------------------------
 * version.c
 *	  Migration versions: validation and an order-preserving sort key.
 *
 * The sort key encodes each significant group as <L1><L><digits>, where
 * <digits> is the group without leading zeros, <L> its length in decimal
 * and <L1> the length of <L> (one digit, as groups are shorter than
 * SMIG_VERSION_MAXLEN).  Longer groups are larger numbers, and the
 * encoding of a group is never a prefix of another's, so strcmp on keys
 * orders versions group by group.  Trailing zero groups are dropped, so
 * "1", "1.0" and "01_00" share one key; a version of zeros only keeps one
 * group.
 *-------------------------------------------------------------------------
 */
#include "version.h"

#include <stdio.h>
#include <string.h>

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
version_is_valid(const char *v, size_t len)
{
	size_t		i;
	bool		in_group = false;

	if (len == 0 || len > SMIG_VERSION_MAXLEN)
		return false;
	for (i = 0; i < len; i++)
	{
		if (is_digit(v[i]))
			in_group = true;
		else if ((v[i] == '.' || v[i] == '_') && in_group)
			in_group = false;
		else
			return false;
	}
	return in_group;			/* no trailing separator */
}

bool
version_sort_key(const char *v, size_t len, char *key)
{
	size_t		i = 0;
	char	   *out = key;
	char	   *significant_end = key;	/* end of the last non-zero group */

	if (!version_is_valid(v, len))
		return false;

	while (i < len)
	{
		size_t		start;
		size_t		glen;
		char		lenbuf[8];
		int			lenlen;

		while (i < len && v[i] == '0')
			i++;
		start = i;
		while (i < len && is_digit(v[i]))
			i++;
		glen = i - start;
		if (glen == 0)
		{
			/* the group was all zeros: encode it as "0" */
			memcpy(out, "110", 3);
			out += 3;
		}
		else
		{
			lenlen = snprintf(lenbuf, sizeof(lenbuf), "%zu", glen);
			*out++ = (char) ('0' + lenlen);
			memcpy(out, lenbuf, lenlen);
			out += lenlen;
			memcpy(out, v + start, glen);
			out += glen;
			significant_end = out;
		}
		if (i < len)
			i++;				/* skip the separator */
	}

	/* drop trailing zero groups, but keep one group for "0" */
	if (significant_end == key)
		significant_end = key + 3;
	*significant_end = '\0';
	return true;
}
