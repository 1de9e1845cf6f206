/*-------------------------------------------------------------------------
 * downgrade.h
 *	  Reverting migrations: what the committing procedure (procedure.c)
 *	  shares with smig.downgrade.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_DOWNGRADE_H
#define SMIG_DOWNGRADE_H

#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "runner.h"

/*
 * What smig.downgrade(target) would revert, highest first, every check
 * made (target, baselines, down scripts, run-as), reverting nothing: a
 * List of ApplyPlanItem (apply.h).  NIL when there is nothing to revert
 * (a NOTICE said so).  Takes the deploy lock for the transaction.
 */
extern List *downgrade_plan(const char *target);

/*
 * Revert the highest applied migration, which must be version_key, with
 * the checks of smig.rollback(); no result row.
 */
extern void revert_one(const char *version_key);

/*---- a no-transaction down script, run by the background worker ----*/

typedef struct RevertStep RevertStep;

/*
 * The checks of revert_one(version_key), nothing reverted: *script is its
 * down script, to run elsewhere (worker.c); the step records it after.
 */
extern RevertStep *revert_one_prepare(const char *version_key,
									  RunnerScript *script);

/* The history row and NOTICE of a down script the worker ran. */
extern void revert_one_record(const RevertStep *step, TimestampTz started,
							  int64 duration_us);

#endif							/* SMIG_DOWNGRADE_H */
