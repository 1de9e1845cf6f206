/*-------------------------------------------------------------------------
 * apply.h
 *	  Pieces of the apply loop that the revert loop (downgrade.c) shares.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_APPLY_H
#define SMIG_APPLY_H

#include "fmgr.h"
#include "funcapi.h"
#include "datatype/timestamp.h"
#include "nodes/pg_list.h"

#include "runner.h"

/*
 * Check that the caller may run a migration's script (kind: up, to apply
 * it; down, to revert it) as the role it runs as, and that its author may
 * still act as that role; returns that role's OID.  Call with SPI
 * connected, before running anything.
 */
extern Oid	apply_check_run_as(const char *version, const char *name,
							   const char *run_as, const char *registered_by,
							   RunnerScriptKind kind);

/* Add one (version, name, duration) row to a materialised result. */
extern void apply_put_result(ReturnSetInfo *rsinfo, const char *version,
							 const char *name, int64 duration_us);

/*---- for the committing procedure (procedure.c) ----*/

/* One migration of a plan: what a step applies or reverts, and names. */
typedef struct ApplyPlanItem
{
	char	   *version_key;
	char	   *version;
	char	   *name;
	char	   *checksum;		/* of its up script */
	char	   *down_checksum;	/* of its down script (reverts) */
	char	   *run_as;
	/* the rest: for rehearsals (rehearse.c) */
	char	   *state;			/* pending, out-of-order, outdated */
	char	   *up_sql;
	int			up_line;
	char	   *lock_timeout;
	Oid			run_as_oid;
	bool		repeatable;
	bool		destructive;	/* declares destructive changes */
	bool		empty_history;	/* the first migration of an empty history */
	bool		transactional;	/* false: "-- smig:no-transaction", run by
								 * the background worker (worker.c) */
} ApplyPlanItem;

/*
 * What smig.upgrade_to(target) (target NULL: upgrade_head()) would apply,
 * checked as it checks it (modified, out of order, baseline migrations,
 * no-transaction, run-as), without applying anything: a List of
 * ApplyPlanItem, in version order.  Takes the deploy lock for the
 * transaction, as every action does.
 */
extern List *apply_plan(const char *target);

/* smig.apply(version) without a result row: exactly that pending migration. */
extern void apply_one(const char *version);

/*---- a no-transaction migration, run by the background worker ----*/

typedef struct ApplyStep ApplyStep;

/*
 * The checks of apply_one(version), nothing applied: *script is its up
 * script, to run elsewhere (worker.c); the step records it afterwards.
 */
extern ApplyStep *apply_one_prepare(const char *version, RunnerScript *script);

/* The history row and NOTICE of an up script the worker ran. */
extern void apply_one_record(const ApplyStep *step, TimestampTz started,
							 int64 duration_us);

#endif							/* SMIG_APPLY_H */
