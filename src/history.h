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
	const char *action;			/* apply, baseline, repair, revert, failed */
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

/*
 * Append an entry of another tool's history (smig.adopt): action "import",
 * e->checksum that tool's checksum ("kind:value") with checksum_scheme 0,
 * imported_from the tool and its table, imported_by the user it recorded.
 * smig.applied is not changed: the baseline that follows stands for them.
 */
extern void history_record_import(const HistoryEntry *e, const char *imported_from,
								  const char *imported_by);

/*
 * Append e to smig.history and nothing else: an event that changes no
 * migration's state (a finished backfill).
 */
extern void history_record_event(const HistoryEntry *e);

/* Append a repair to smig.history and accept its checksum in smig.applied. */
extern void history_record_repair(const HistoryEntry *e);

/*---- down scripts ----*/

/*
 * Record the checksum of the down script a migration had when it was
 * applied (after history_record_applied, for a migration with one).
 */
extern void history_record_down_checksum(const char *version_key,
										 const char *down_checksum);

/*
 * Append a revert (action "revert": e->checksum the up script's checksum
 * that was applied, down_checksum the down script's that ran) and remove
 * the version from smig.applied: it is no longer applied.
 */
extern void history_record_revert(const HistoryEntry *e,
								  const char *down_checksum);

/*
 * Append a repair of a down script (action "repair" with down_checksum
 * and old_down_checksum) and accept down_checksum in smig.applied.
 */
extern void history_record_down_repair(const HistoryEntry *e,
									   const char *down_checksum,
									   const char *old_down_checksum);

/*
 * Append a failed attempt (action "failed"): direction "up" or "down"
 * (then down_checksum is the down script's), the error's message and
 * SQLSTATE; e->duration_us how long it ran.  smig.applied is not touched:
 * the migration's work was rolled back.
 */
extern void history_record_failure(const HistoryEntry *e,
								   const char *down_checksum,
								   const char *direction, const char *error,
								   const char *sqlstate);
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
