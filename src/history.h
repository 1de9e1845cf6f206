/*-------------------------------------------------------------------------
 * history.h
 *	  The only writer of smig.history and smig.applied.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_HISTORY_H
#define SMIG_HISTORY_H

#include "datatype/timestamp.h"

typedef struct HistoryEntry
{
	const char *action;			/* apply, baseline, repair */
	const char *version;		/* a repeatable migration: R__<name> */
	const char *version_key;	/* NULL for a repeatable migration */
	const char *name;
	const char *checksum;		/* NULL for a baseline without SQL */
	const char *old_checksum;	/* repair only */
	const char *run_as;			/* the role its SQL ran as; NULL if none ran */
	TimestampTz started_at;
	int64		duration_us;	/* < 0: no duration */
	const char *detail;
} HistoryEntry;

/*
 * Append e to smig.history and record the version in smig.applied, with
 * kind "migration" or "baseline".  Call with SPI connected, outside an
 * owner scope: the caller's role is what history records.
 */
extern void history_record_applied(const HistoryEntry *e, const char *kind);

/* Append a repair to smig.history and accept its checksum in smig.applied. */
extern void history_record_repair(const HistoryEntry *e);

/*
 * Append one more application of an applied run-on-change migration, and
 * make it (its checksum, time and role) what smig.applied records.
 */
extern void history_record_reapplied(const HistoryEntry *e);

/*
 * Append an application of a repeatable migration (e->name; version
 * R__<name>, version_key NULL) and record its checksum in
 * smig.repeatable_applied.
 */
extern void history_record_repeatable(const HistoryEntry *e);

#endif							/* SMIG_HISTORY_H */
