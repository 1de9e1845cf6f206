/*-------------------------------------------------------------------------
 * downgrade.h
 *	  Reverting migrations: what the committing procedure (procedure.c)
 *	  shares with smig.downgrade.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_DOWNGRADE_H
#define SMIG_DOWNGRADE_H

#include "nodes/pg_list.h"

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

#endif							/* SMIG_DOWNGRADE_H */
