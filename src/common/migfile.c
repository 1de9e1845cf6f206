/*-------------------------------------------------------------------------
 * migfile.c
 *	  Migration file-name conventions (see migfile.h for the list).
 *
 * Only the exact, case-sensitive forms are recognized: a ".sql" suffix
 * (not ".SQL"), the prefixes 'V', 'U' and 'B' (with a version), 'R__' and
 * 'U__' (without one), and the ".up"/".down" infixes.  Every version found must satisfy version_is_valid() (which
 * also bounds its length) and every name must be non-empty; anything
 * else ending in ".sql" is MIGFILE_UNRECOGNIZED, so that load_dir can
 * complain about it instead of skipping it silently.
 *
 * Plain C, no allocation: version and name point into the file name.
 *-------------------------------------------------------------------------
 */
#include "migfile.h"

#include <stdbool.h>
#include <string.h>

#include "version.h"

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
ends_with(const char *s, size_t len, const char *suffix)
{
	size_t		n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Fill *out and return kind. */
static MigFileKind
found(MigFileName *out, MigFileKind kind, const char *version,
	  size_t version_len, const char *name, size_t name_len)
{
	out->kind = kind;
	out->version = version;
	out->version_len = version_len;
	out->name = name;
	out->name_len = name_len;
	return kind;
}

/*
 * stem[0..len) is "<V|U|B><version>__<name>": the version runs from after
 * the prefix letter to the first "__".
 */
static MigFileKind
parse_prefixed(const char *stem, size_t len, MigFileKind kind,
			   MigFileName *out)
{
	size_t		i;

	for (i = 1; i + 1 < len; i++)
	{
		if (stem[i] == '_' && stem[i + 1] == '_')
			break;
	}
	if (i + 1 >= len)
		return MIGFILE_UNRECOGNIZED;	/* no "__" */
	if (!version_is_valid(stem + 1, i - 1) || i + 2 >= len)
		return MIGFILE_UNRECOGNIZED;	/* bad version, or no name */
	return found(out, kind, stem + 1, i - 1, stem + i + 2, len - (i + 2));
}

/*
 * stem[0..len) is "<version>_<name>", the version being the longest run
 * of digit groups each followed by a separator; the last separator must
 * be '_'.  So "1.2_x" is version "1.2", "001_2fa" is version "001", and
 * "1.2.x" fits nothing.
 */
static MigFileKind
parse_plain(const char *stem, size_t len, MigFileKind kind, MigFileName *out)
{
	size_t		i = 0;
	size_t		version_end = 0;	/* offset of the separator after it */

	for (;;)
	{
		size_t		group = i;

		while (i < len && is_digit(stem[i]))
			i++;
		if (i == group || i >= len || (stem[i] != '_' && stem[i] != '.'))
			break;
		version_end = i;
		i++;
	}
	if (version_end == 0 || stem[version_end] != '_' || version_end + 1 >= len)
		return MIGFILE_UNRECOGNIZED;	/* no version, or no name */
	if (!version_is_valid(stem, version_end))
		return MIGFILE_UNRECOGNIZED;	/* too long */
	return found(out, kind, stem, version_end, stem + version_end + 1,
				 len - (version_end + 1));
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
	len -= strlen(".sql");
	if (len == 0)
		return MIGFILE_UNRECOGNIZED;

	/* R__<name> and U__<name>: no version */
	if ((filename[0] == 'R' || filename[0] == 'U') &&
		len > 3 && filename[1] == '_' && filename[2] == '_')
		return found(out, filename[0] == 'R' ? MIGFILE_REPEATABLE
					 : MIGFILE_REPEATABLE_DOWN,
					 filename + 1, 0, filename + 3, len - 3);

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
		return parse_plain(filename, len - strlen(".down"), MIGFILE_DOWN, out);
	if (ends_with(filename, len, ".up"))
		return parse_plain(filename, len - strlen(".up"), MIGFILE_UP, out);
	return parse_plain(filename, len, MIGFILE_UP, out);
}
