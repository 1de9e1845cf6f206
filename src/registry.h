/*-------------------------------------------------------------------------
 * registry.h
 *	  smig.register and smig.load_dir: from text to registry rows.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_REGISTRY_H
#define SMIG_REGISTRY_H

#include "utils/jsonb.h"

typedef struct MigrationInput
{
	const char *version;
	const char *name;
	const char *up_sql;			/* may hold -- smig:up / -- smig:down */
	const char *down_sql;		/* NULL: none, or taken from the sections */
	Jsonb	   *options;		/* explicit options, or NULL */
	bool		baseline;		/* a B<version>__ file */
} MigrationInput;

typedef enum RegisterResult
{
	REGISTER_NEW,
	REGISTER_CHANGED,
	REGISTER_UNCHANGED
} RegisterResult;

/* Validate in and upsert it into smig.migration (SPI connected). */
extern RegisterResult registry_upsert(const MigrationInput *in);

#endif							/* SMIG_REGISTRY_H */
