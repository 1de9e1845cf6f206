/*-------------------------------------------------------------------------
 * registry.h
 *	  smig.register, smig.load_dir, smig.register_many: from text to
 *	  registry rows.  The validation and the bulk comparison are shared
 *	  with the repeatable migrations (repeatable.c).
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_REGISTRY_H
#define SMIG_REGISTRY_H

#include "nodes/pg_list.h"
#include "utils/jsonb.h"

typedef struct MigrationInput
{
	const char *version;		/* a repeatable one: its label R__<name> */
	const char *name;
	const char *up_sql;			/* may hold -- smig:up / -- smig:down */
	const char *down_sql;		/* NULL: none, or taken from the sections */
	Jsonb	   *options;		/* explicit options, or NULL */
	bool		baseline;		/* a B<version>__ file */
	bool		repeatable;		/* an R__<name> file: no version */
} MigrationInput;

typedef enum RegisterResult
{
	REGISTER_NEW,
	REGISTER_CHANGED,
	REGISTER_UNCHANGED
} RegisterResult;

/*
 * A migration as the registry would store it, built before its scripts
 * are lexed (registry_check), so that a bulk call can compare what it
 * built with the registry and lex only what is new or changed.
 */
typedef struct PreparedMigration
{
	const MigrationInput *in;
	char	   *key;			/* version sort key; NULL for a repeatable */
	const char *up;				/* the up script, after splitting sections */
	const char *down;			/* the down script, or NULL */
	int			up_line;		/* first line of each script in the text */
	int			down_line;
	char	   *checksum;		/* of up */
	char	   *opts;			/* from directives: JSON with a "_" member */
	char	   *opts_final;		/* the same without "_", or NULL for {} */
	const char *registered_by;	/* current_user (set beforehand, or here) */
	char	   *run_as;
	bool		transactional;	/* runs inside a transaction (the default) */
	bool		run_on_change;	/* applied again when its up script changes */
	char	   *source;			/* what it was registered from, as JSON: see
								 * registry_source() */
} PreparedMigration;

/*
 * A registration that a bulk call found new or changed (item >= 0, the
 * index of its input), or that has no input (item -1: when synchronising,
 * to be dropped).  key is NULL for a repeatable migration; version is then
 * its label.
 */
typedef struct RegistryDiff
{
	int			item;
	bool		repeatable;
	char	   *key;
	char	   *version;
	char	   *name;
	char	   *run_as;
} RegistryDiff;

/*
 * One element of a bulk call (load_dir, register_many).  A checksum-only
 * element (register_many's {"version", "name", "checksum"}) has no texts:
 * in.up_sql is NULL and pm holds only key and source.
 */
typedef struct BulkItem
{
	MigrationInput in;
	const char *file;			/* the file, for error context; or NULL */
	PreparedMigration pm;
	bool		checksum_only;
	const char *up_checksum;	/* a checksum-only item's checksums */
	const char *down_checksum;	/* (NULL when none) */
} BulkItem;

/*
 * What a registration came from, as JSON compared in SQL as jsonb: the
 * checksums (smig.checksum()) of the up text and of the down text as
 * given (before sections are split), the explicit options, and whether
 * it is a baseline file.  A checksum-only element carries the same.
 */
extern char *registry_source(const char *up_checksum, const char *down_checksum,
							 Jsonb *options, bool baseline);

/*
 * Register items (SPI connected); when sync, drop the registrations that
 * have no item.  Returns how many registrations changed; *outcomes gets a
 * BulkOutcome per change (or per "needed" checksum-only element, when any
 * is: then nothing is written), and, with sync and report_missing, one
 * ("missing") per applied migration that was already without a
 * registration and stays so.  See registry.c, "bulk registration".
 */
extern int	registry_sync(BulkItem *items, int n, bool sync, bool report_missing,
						  List **outcomes);

/* Validate in and upsert it into smig.migration or smig.repeatable. */
extern RegisterResult registry_upsert(const MigrationInput *in);

/* Build pm from in: versions, names, sections, directives, roles, checksum. */
extern void registry_prepare(const MigrationInput *in, PreparedMigration *pm);

/* Lex pm's scripts: what a migration cannot run is refused here. */
extern void registry_check(const PreparedMigration *pm);

/* "new", "changed" or "unchanged". */
extern const char *register_result_name(RegisterResult r);

#endif							/* SMIG_REGISTRY_H */
