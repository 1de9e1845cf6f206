/*-------------------------------------------------------------------------
 * migfile.c
 *	  Migration file-name conventions (see migfile.h for the list).
 *	  Plain C, shared by the extension's load_dir and the client.
 *-------------------------------------------------------------------------
 */
#include "migfile.h"

#include <string.h>

#include "version.h"

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t		n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* V/U/B<version>__<name>: the version runs until "__". */
static MigFileKind
parse_prefixed(const char *stem, size_t len, MigFileKind kind, MigFileName *out)
{
	size_t		i;

	for (i = 1; i + 1 < len; i++)
		if (stem[i] == '_' && stem[i + 1] == '_')
			break;
	if (i + 1 >= len || !version_is_valid(stem + 1, i - 1) || i + 2 >= len)
		return MIGFILE_UNRECOGNIZED;
	out->version = stem + 1;
	out->version_len = i - 1;
	out->name = stem + i + 2;
	out->name_len = len - (i + 2);
	out->kind = kind;
	return kind;
}

/*
 * <version>_<name>: the longest run of digit groups each followed by a
 * separator, then the name.
 */
static MigFileKind
parse_plain(const char *stem, size_t len, MigFileKind kind, MigFileName *out)
{
	size_t		i = 0;
	size_t		version_end = 0;

	for (;;)
	{
		size_t		g = i;

		while (i < len && is_digit(stem[i]))
			i++;
		if (i == g || i >= len || (stem[i] != '_' && stem[i] != '.'))
			break;
		version_end = i;		/* this group is followed by a separator */
		i++;
	}
	if (version_end == 0 || stem[version_end] != '_' || version_end + 1 >= len)
		return MIGFILE_UNRECOGNIZED;
	/* a '.' separator must be followed by more version, not the name */
	if (!version_is_valid(stem, version_end))
		return MIGFILE_UNRECOGNIZED;
	out->version = stem;
	out->version_len = version_end;
	out->name = stem + version_end + 1;
	out->name_len = len - version_end - 1;
	out->kind = kind;
	return kind;
}

MigFileKind
migfile_parse(const char *filename, MigFileName *out)
{
	size_t		len = strlen(filename);

	memset(out, 0, sizeof(*out));
	out->kind = MIGFILE_NOT_SQL;
	if (!ends_with(filename, len, ".sql"))
		return MIGFILE_NOT_SQL;
	out->kind = MIGFILE_UNRECOGNIZED;
	len -= 4;
	if (len < 2)
		return MIGFILE_UNRECOGNIZED;

	switch (filename[0])
	{
		case 'V':
			return parse_prefixed(filename, len, MIGFILE_UP, out);
		case 'U':
			return parse_prefixed(filename, len, MIGFILE_DOWN, out);
		case 'B':
			return parse_prefixed(filename, len, MIGFILE_BASELINE, out);
		default:
			break;
	}
	if (!is_digit(filename[0]))
		return MIGFILE_UNRECOGNIZED;
	if (ends_with(filename, len, ".down"))
		return parse_plain(filename, len - 5, MIGFILE_DOWN, out);
	if (ends_with(filename, len, ".up"))
		return parse_plain(filename, len - 3, MIGFILE_UP, out);
	return parse_plain(filename, len, MIGFILE_UP, out);
}
