/*-------------------------------------------------------------------------
 * repeatable.h
 *	  Repeatable migrations (Flyway's R__<name>.sql): their registry.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_REPEATABLE_H
#define SMIG_REPEATABLE_H

#include "registry.h"

/* What names a repeatable migration where a version would: "R__<name>". */
#define REPEATABLE_PREFIX "R__"

/* The label R__<name> of a repeatable migration. */
extern char *repeatable_label(const char *name);

/* Is version a label R__<name> (no version starts with a letter)? */
extern bool repeatable_is_label(const char *version);

/* The name in a label. */
extern const char *repeatable_label_name(const char *label);

/* Upsert a prepared repeatable migration (after registry_check). */
extern RegisterResult repeatable_write(const PreparedMigration *pm);

/*
 * The bulk comparison: every one of the n prepared repeatable migrations
 * that is new or differs from its registration (item: its index in pms),
 * and when sync every registration without one (item -1), in name order.
 */
extern RegistryDiff *repeatable_compare(PreparedMigration **pms, int n,
										bool sync, int *nrows);

/* Delete the registration of name; false if there was none. */
extern bool repeatable_delete(const char *name);

/* smig.unregister(label) for a repeatable migration. */
extern void repeatable_unregister(const char *label);

#endif							/* SMIG_REPEATABLE_H */
