/*-------------------------------------------------------------------------
 * migfile.h
 *	  Migration file-name conventions, shared by the extension (load_dir)
 *	  and the client.  Plain C, no allocation.
 *
 *	  V<version>__<name>.sql         up (Flyway)
 *	  U<version>__<name>.sql         down (Flyway undo)
 *	  B<version>__<name>.sql         baseline migration
 *	  R__<name>.sql                  repeatable migration (Flyway): no version
 *	  <version>_<name>.sql           up
 *	  <version>_<name>.up.sql        up (golang-migrate)
 *	  <version>_<name>.down.sql      down
 *
 *	  A version is digit groups separated by '.' or '_'.  In the
 *	  "<version>_<name>" forms the version is the longest run of groups such
 *	  that every group is followed by a separator, so "2026_11_22_1200_add"
 *	  has version "2026_11_22_1200" and "001_2fa_setup" has version "001".
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_MIGFILE_H
#define SMIG_MIGFILE_H

#include <stddef.h>

typedef enum MigFileKind
{
	MIGFILE_NOT_SQL,			/* not a ".sql" file: ignore it */
	MIGFILE_UNRECOGNIZED,		/* a ".sql" file that fits no convention */
	MIGFILE_UP,
	MIGFILE_DOWN,
	MIGFILE_BASELINE,
	MIGFILE_REPEATABLE,			/* R__<name>.sql: version is empty */
	MIGFILE_REPEATABLE_DOWN		/* U__<name>.sql: a down script for a
								 * repeatable migration, which cannot have
								 * one (load_dir says so) */
} MigFileKind;

typedef struct MigFileName
{
	MigFileKind kind;
	const char *version;		/* points into the file name; empty (length
								 * 0) for the two repeatable kinds */
	size_t		version_len;
	const char *name;			/* points into the file name */
	size_t		name_len;
} MigFileName;

/* Classify a bare file name (no directory part). */
extern MigFileKind migfile_parse(const char *filename, MigFileName *out);

#endif							/* SMIG_MIGFILE_H */
