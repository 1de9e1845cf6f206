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
	const char *version;
	const char *version_key;
	const char *name;
	const char *checksum;		/* NULL for a baseline without SQL */
	const char *old_checksum;	/* repair only */
	const char *run_as;			/* the role its SQL ran as; NULL if none ran */
	TimestampTz started_at;
	int64		duration_us;	/* < 0: no duration */
	const char *detail;
	const char *fingerprint;	/* schema after the action: its last row only */
} HistoryEntry;

/*
 * Append e to smig.history and record the version in smig.applied, with
 * kind "migration" or "baseline".  Call with SPI connected, outside an
 * owner scope: the caller's role is what history records.
 */
extern void history_record_applied(const HistoryEntry *e, const char *kind);

/* Append a repair to smig.history and accept its checksum in smig.applied. */
extern void history_record_repair(const HistoryEntry *e);

#endif							/* SMIG_HISTORY_H */
