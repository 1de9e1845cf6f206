/*-------------------------------------------------------------------------
 * versions.c
 *	  Migration versions in the server: smig.version_key() and the error a
 *	  bad version gets.  The rules live in common/version.c, shared with
 *	  the client.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "version.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_version_key);

char *
version_key_or_error(const char *version)
{
	size_t		len = strlen(version);
	char	   *key;

	if (len > SMIG_VERSION_MAXLEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration version: \"%.*s...\"",
						pg_mbcliplen(version, (int) len, 40), version),
				 errdetail("A version is at most %d bytes long.",
						   SMIG_VERSION_MAXLEN)));

	key = palloc(SMIG_VERSION_KEYSIZE(len));
	if (!version_sort_key(version, len, key))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid migration version: \"%s\"", version),
				 errdetail("A version is one or more groups of digits separated by \".\" or \"_\", such as \"1\", \"1.2.10\" or \"2026_11_22_1200\"."),
				 strncmp(version, "R__", 3) == 0
				 ? errhint("\"R__<name>\" names a repeatable migration, which has no version; register one with smig.register_repeatable().")
				 : 0));
	return key;
}

/* smig.version_key(version text) returns text */
Datum
smig_version_key(PG_FUNCTION_ARGS)
{
	char	   *version = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_TEXT_P(cstring_to_text(version_key_or_error(version)));
}
