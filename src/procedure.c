/*-------------------------------------------------------------------------
 * procedure.c
 *	  CALL smig.upgrade(target) and CALL smig.downgrade_to(target): long
 *	  deploys that commit after each migration.
 *
 * A procedure called by a top-level CALL outside a transaction block is
 * non-atomic: it may commit (SPI_connect_ext(SPI_OPT_NONATOMIC),
 * SPI_commit, which in PostgreSQL 15 starts the next transaction itself).
 * The sequence:
 *	 1. refuse an atomic call (inside BEGIN ... COMMIT, or from a function
 *		or DO block): it could not commit, and the functions
 *		(upgrade_head, downgrade) are the tool for one transaction;
 *	 2. action_begin_session(): the preconditions and the deploy lock as a
 *		session lock, held across the commits (action.c says how it is
 *		released on every exit path);
 *	 3. the plan, every migration checked before any runs, by the same
 *		code as the functions (apply_plan, downgrade_plan);
 *	 4. per migration, a NOTICE "k of n", then a transaction of its own:
 *		the migration inside a subtransaction (apply_one, revert_one: the
 *		same code as smig.apply and smig.rollback), then commit.  If it
 *		fails, the subtransaction rolls its work back, a "failed" history
 *		row (direction, message, SQLSTATE, duration) is committed and the
 *		error is raised again with its context (the lock is released on the
 *		way out); the migrations before it stay applied.
 * A no-transaction migration ("-- smig:no-transaction") goes to the
 * background worker instead (worker.c: each statement a top-level command
 * of its own), and fails the same way.
 * The subtransaction costs nothing here: its transaction holds one
 * migration.  Each step reads the state again (smig.apply does), so a
 * plan of n migrations reads it n times: fine for long deploys of a few
 * long migrations, which is what these are for; upgrade_head() stays the
 * fast path for many small ones.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "action.h"
#include "apply.h"
#include "args.h"
#include "downgrade.h"
#include "history.h"
#include "progress.h"
#include "schema.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(smig_upgrade_proc);
PG_FUNCTION_INFO_V1(smig_downgrade_proc);

static void fail_step(bool up, ApplyPlanItem *item, int k, int n,
					  TimestampTz started, ErrorData *edata,
					  const char *detail);

static double
seconds_since(TimestampTz start)
{
	return (GetCurrentTimestamp() - start) / 1000000.0;
}

/*
 * One step: item applied (up) or reverted, in a subtransaction of the
 * current transaction.  On failure: roll the step back, commit a failed
 * attempt, raise the error again.
 */
static void
run_step(bool up, ApplyPlanItem *item, int k, int n)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	TimestampTz started = GetCurrentTimestamp();

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		/* one fingerprint per call: with its last step */
		schema_fingerprint_deferred = k < n;
		if (up)
			apply_one(item->version);
		else
			revert_one(item->version_key);
		schema_fingerprint_deferred = false;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		schema_fingerprint_deferred = false;
		fail_step(up, item, k, n, started, edata, NULL);
	}
	PG_END_TRY();
}

/*
 * A step failed with edata, its work rolled back (a no-transaction
 * migration: what its worker committed stays): commit a failed attempt,
 * raise the error again.
 */
static void
fail_step(bool up, ApplyPlanItem *item, int k, int n, TimestampTz started,
		  ErrorData *edata, const char *detail)
{
	HistoryEntry entry = {0};

	/* the failed attempt carries the schema the call leaves */
	schema_stage_fingerprint();

	entry.action = "failed";
	entry.version = item->version;
	entry.version_key = item->version_key;
	entry.name = item->name;
	entry.checksum = item->checksum;
	entry.run_as = item->run_as;
	entry.started_at = started;
	entry.duration_us = GetCurrentTimestamp() - started;
	entry.detail = detail;
	history_record_failure(&entry, up ? NULL : item->down_checksum,
						   up ? "up" : "down", edata->message,
						   unpack_sql_state(edata->sqlerrcode));
	SPI_commit();			/* the failed attempt */

	if (up)
		ereport(NOTICE,
				(errmsg("migration \"%s\" (\"%s\"), %d of %d, failed",
						item->version, item->name, k, n),
				 errdetail_plural("The %d migration before it stays applied; the failed attempt is recorded in smig.history.",
								  "The %d migrations before it stay applied; the failed attempt is recorded in smig.history.",
								  k - 1, k - 1)));
	else
		ereport(NOTICE,
				(errmsg("reverting migration \"%s\" (\"%s\"), %d of %d, failed",
						item->version, item->name, k, n),
				 errdetail_plural("The %d migration reverted before it stays reverted; the failed attempt is recorded in smig.history.",
								  "The %d migrations reverted before it stay reverted; the failed attempt is recorded in smig.history.",
								  k - 1, k - 1)));
	ReThrowError(edata);
}

/*
 * One step of a no-transaction migration: through the background worker
 * (worker.c), which commits; a failure as run_step's.
 */
static void
run_worker_step(bool up, ApplyPlanItem *item, int k, int n)
{
	TimestampTz started = GetCurrentTimestamp();
	ErrorData  *edata;

	schema_fingerprint_deferred = k < n;
	progress_begin_migration(item->version, item->name, up, false);
	progress_report_statement(0, NULL);
	edata = worker_run_step(up, item);
	progress_end_migration();
	schema_fingerprint_deferred = false;
	if (edata != NULL)
		fail_step(up, item, k, n, started, edata, worker_failed_statement());
}

/* Run every step of plan, committing after each. */
static void
run_plan(bool up, List *plan)
{
	TimestampTz call_started = GetCurrentTimestamp();
	int			n = list_length(plan);
	int			k = 0;
	ListCell   *lc;

	/* the plan's transaction took the lock for itself too: end it */
	SPI_commit();
	EnsurePortalSnapshotExists();
	foreach(lc, plan)
	{
		ApplyPlanItem *item = (ApplyPlanItem *) lfirst(lc);

		k++;
		progress_set_plan_step(k, n);
		if (up)
			ereport(NOTICE,
					(errmsg("applying migration \"%s\" (\"%s\"), %d of %d",
							item->version, item->name, k, n),
					 errdetail("Elapsed: %.3f s.", seconds_since(call_started))));
		else
			ereport(NOTICE,
					(errmsg("reverting migration \"%s\" (\"%s\"), %d of %d",
							item->version, item->name, k, n),
					 errdetail("Elapsed: %.3f s.", seconds_since(call_started))));
		if (item->transactional)
			run_step(up, item, k, n);
		else
			run_worker_step(up, item, k, n);
		SPI_commit();			/* the step's transaction */
		EnsurePortalSnapshotExists();
	}
	progress_end_plan();
	if (n > 0)
		ereport(NOTICE,
				(errmsg_plural("%s %d migration, one transaction each",
							   "%s %d migrations, one transaction each",
							   n, up ? "applied" : "reverted", n),
				 errdetail("Elapsed: %.3f s.", seconds_since(call_started))));
}

/* The body of both procedures: lock, plan, steps; the lock released on exit. */
static void
run_procedure(bool up, const char *target)
{
	MemoryContext cxt;

	action_begin_session(up ? "apply migrations" : "revert migrations");
	PG_TRY();
	{
		List	   *plan;

		SPI_connect_ext(SPI_OPT_NONATOMIC);
		/* the plan lives across the commits, with the SPI connection */
		cxt = CurrentMemoryContext;
		plan = up ? apply_plan(target) : downgrade_plan(target);
		MemoryContextSwitchTo(cxt);
		if (plan == NIL && up)
			ereport(NOTICE,
					(errmsg("no migration is pending"),
					 errdetail("Nothing was applied.")));
		run_plan(up, plan);
		SPI_finish();
	}
	PG_CATCH();
	{
		/* (the abort of the transaction would release it too) */
		action_end_session();
		PG_RE_THROW();
	}
	PG_END_TRY();
	action_end_session();
}

/* CALL smig.upgrade(target text DEFAULT NULL) */
Datum
smig_upgrade_proc(PG_FUNCTION_ARGS)
{
	if (!args_call_may_commit(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("CALL smig.upgrade() cannot run inside a transaction block"),
				 errdetail("It commits after each migration, which a procedure can do only when CALL is a top-level statement (or in a top-level DO block) outside BEGIN ... COMMIT, not in a function."),
				 errhint("Inside a transaction, SELECT * FROM smig.upgrade_head() (or smig.upgrade_to()) applies the migrations in that transaction.")));
	run_procedure(true, PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

/* CALL smig.downgrade_to(target text) */
Datum
smig_downgrade_proc(PG_FUNCTION_ARGS)
{
	args_require(fcinfo, 0, "target");
	if (!args_call_may_commit(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("CALL smig.downgrade_to() cannot run inside a transaction block"),
				 errdetail("It commits after each reverted migration, which a procedure can do only when CALL is a top-level statement (or in a top-level DO block) outside BEGIN ... COMMIT, not in a function."),
				 errhint("Inside a transaction, SELECT * FROM smig.downgrade(target) reverts the migrations in that transaction.")));
	run_procedure(false, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
