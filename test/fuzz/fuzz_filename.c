/*-------------------------------------------------------------------------
 * fuzz_filename.c
 *	  libFuzzer harness: migration file names (migfile_parse) and the
 *	  versions they carry (version_is_valid, version_sort_key).
 *
 * The input, cut at its first NUL, is a file name.  Checks: the version
 * and name spans lie inside the name; a recognized name has a non-empty
 * name, and a valid version unless repeatable; the version's sort key
 * fits its documented size and equals the key of the same version with
 * its leading zeros stripped and separators swapped ("001.2" = "1_2").
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>

#include "fuzz.h"
#include "migfile.h"
#include "version.h"

/* The sort key of v[0..len) into a new buffer with a guard byte after it. */
static char *
key_of(const char *v, size_t len, bool *valid)
{
	size_t		size = SMIG_VERSION_KEYSIZE(len);
	char	   *key = malloc(size);

	if (key == NULL)
		abort();
	*valid = version_sort_key(v, len, key);
	if (*valid)
		FUZZ_CHECK(strlen(key) < size);
	return key;
}

/* v with each group's leading zeros dropped and '.' and '_' swapped. */
static char *
variant_of(const char *v, size_t len, size_t *out_len)
{
	char	   *r = malloc(len + 1);
	size_t		i = 0,
				n = 0;

	if (r == NULL)
		abort();
	while (i < len)
	{
		while (i < len && v[i] == '0' && i + 1 < len && v[i + 1] >= '0' && v[i + 1] <= '9')
			i++;
		while (i < len && v[i] != '.' && v[i] != '_')
			r[n++] = v[i++];
		if (i < len)
		{
			r[n++] = v[i] == '.' ? '_' : '.';
			i++;
		}
	}
	*out_len = n;
	return r;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *name = fuzz_copy(data, size, 1);
	size_t		len = strlen(name);
	MigFileName p;
	MigFileKind kind = migfile_parse(name, &p);
	bool		valid;
	char	   *key;

	FUZZ_CHECK(kind == p.kind);
	if (kind != MIGFILE_NOT_SQL && kind != MIGFILE_UNRECOGNIZED)
	{
		FUZZ_CHECK(len > 4 && memcmp(name + len - 4, ".sql", 4) == 0);
		FUZZ_CHECK(p.name >= name && p.name + p.name_len <= name + len - 4);
		FUZZ_CHECK(p.name_len > 0);
		FUZZ_CHECK(p.version >= name && p.version + p.version_len <= name + len);
		if (kind == MIGFILE_REPEATABLE || kind == MIGFILE_REPEATABLE_DOWN)
			FUZZ_CHECK(p.version_len == 0);
		else
		{
			FUZZ_CHECK(version_is_valid(p.version, p.version_len));
			FUZZ_CHECK(p.version + p.version_len <= p.name);
		}
	}

	/* the whole input as a version */
	key = key_of(name, len, &valid);
	FUZZ_CHECK(valid == version_is_valid(name, len));
	if (valid)
	{
		size_t		vlen;
		char	   *v = variant_of(name, len, &vlen);
		bool		vvalid;
		char	   *vkey = key_of(v, vlen, &vvalid);

		FUZZ_CHECK(vvalid);
		FUZZ_CHECK(strcmp(key, vkey) == 0);
		free(vkey);
		free(v);
	}
	free(key);
	free(name);
	return 0;
}
