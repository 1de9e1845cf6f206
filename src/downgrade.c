/*-------------------------------------------------------------------------
 * downgrade.c
 *	  Reverting migrations: smig.rollback and smig.downgrade.
 *
 * The revert loop mirrors the apply loop (apply.c) and shares its pieces:
 *	 1. action_begin() (action.c): the same preconditions and the same
 *		deploy lock as an upgrade, so reverts and upgrades serialise;
 *	 2. the work, read after the lock: the applied migrations above the
 *		target (downgrade) or the highest n (rollback), newest first;
 *	 3. every one of them checked before any down script runs: it is above
 *		every baseline, still registered, has a down script, that down
 *		script is the one recorded when it was applied (or none was
 *		recorded), it may run in a transaction, and the caller may act as
 *		the role it runs as (apply_check_run_as);
 *	 4. per migration: the runner with its down script (RUNNER_SCRIPT_DOWN,
 *		so errors name the down script and its line), one history row
 *		("revert") that also removes it from smig.applied, one NOTICE, one
 *		result row.
 * All in the caller's transaction: a failure reverts nothing.  Afterwards
 * the reverted migrations are pending again (summary_applied_changed
 * sends the next upgrade down the full path).
 *
 * Order is version order, highest first, whatever order the migrations
 * were applied in: the exact inverse of the order a new database applies
 * them in, so every database reverts the same way (as Alembic does).  With
 * smig.out_of_order a lower version may have been applied after a higher
 * one; it is still reverted after it.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "action.h"
#include "apply.h"
#include "args.h"
#include "compat.h"
#include "downgrade.h"
#include "history.h"
#include "ownersql.h"
#include "progress.h"
#include "runner.h"
#include "schema.h"
#include "summary.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_rollback);
PG_FUNCTION_INFO_V1(smig_downgrade);

/* An applied migration to revert. */
typedef struct RevertItem
{
	char	   *version_key;
	char	   *version;
	char	   *name;
	bool		baseline;		/* smig.applied.kind = 'baseline' */
	char	   *checksum;		/* of the up script that was applied */
	bool		registered;		/* still in the registry */
	char	   *down_sql;		/* NULL: no down script */
	char	   *down_checksum;	/* of the registered down script */
	char	   *applied_down_checksum;	/* recorded at apply time, or NULL */
	char	   *run_as;
	char	   *registered_by;
	char	   *lock_timeout;
	char	   *lock_retries;	/* per-migration overrides, or NULL */
	char	   *statement_timeout;
	bool		transactional;
	int			down_line;		/* line of its file where down_sql starts */
	Oid			run_as_oid;		/* set by check_items */
} RevertItem;

/* Where the history stands: the current version and the highest baseline. */
typedef struct Marks
{
	char	   *current_version;	/* NULL: nothing applied */
	char	   *current_key;
	char	   *baseline_version;	/* NULL: no baseline */
	char	   *baseline_key;
} Marks;

static void
read_marks(Marks *marks)
{
	owner_exec("SELECT c.version, c.version_key, b.version, b.version_key"
			   " FROM (SELECT 1) one"
			   " LEFT JOIN (SELECT a.version, a.version_key FROM smig.applied a"
			   "   ORDER BY a.version_key COLLATE \"C\" DESC LIMIT 1) c ON true"
			   " LEFT JOIN (SELECT a.version, a.version_key FROM smig.applied a"
			   "   WHERE a.kind = 'baseline'"
			   "   ORDER BY a.version_key COLLATE \"C\" DESC LIMIT 1) b ON true",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	marks->current_version = spi_text(0, 1);
	marks->current_key = spi_text(0, 2);
	marks->baseline_version = spi_text(0, 3);
	marks->baseline_key = spi_text(0, 4);
}

/*
 * The applied migrations above above_key (NULL: all of them), highest
 * first, at most limit of them (limit < 0: no limit).
 */
static RevertItem *
read_items(const char *above_key, int limit, int *nitems)
{
	Oid			types[2] = {TEXTOID, INT4OID};
	Datum		values[2];
	char		nulls[3] = "  ";
	RevertItem *items;
	uint64		i;

	values[0] = text_datum_or_null(above_key);
	nulls[0] = above_key ? ' ' : 'n';
	values[1] = Int32GetDatum(limit);
	nulls[1] = limit >= 0 ? ' ' : 'n';
	owner_exec("SELECT a.version_key, a.version, coalesce(m.name, a.name),"
			   "  a.kind = 'baseline', a.checksum, m.version_key IS NOT NULL,"
			   "  m.down_sql, m.down_checksum, a.down_checksum,"
			   "  m.run_as, m.registered_by, m.options ->> 'lock_timeout',"
			   "  coalesce((m.options ->> 'transactional')::boolean, true),"
			   "  coalesce((m.options ->> 'down_line')::integer, 1),"
			   "  m.options ->> 'lock_retries', m.options ->> 'statement_timeout'"
			   " FROM smig.applied a"
			   " LEFT JOIN smig.migration m ON m.version_key = a.version_key"
			   " WHERE $1 IS NULL OR a.version_key > $1"
			   " ORDER BY a.version_key COLLATE \"C\" DESC"
			   " LIMIT $2",
			   2, types, values, nulls, SPI_OK_SELECT);

	items = palloc0(Max(SPI_processed, 1) * sizeof(RevertItem));
	for (i = 0; i < SPI_processed; i++)
	{
		RevertItem *it = &items[i];

		it->version_key = spi_text(i, 1);
		it->version = spi_text(i, 2);
		it->name = spi_text(i, 3);
		it->baseline = strcmp(spi_text(i, 4), "t") == 0;
		it->checksum = spi_text(i, 5);
		it->registered = strcmp(spi_text(i, 6), "t") == 0;
		it->down_sql = spi_text(i, 7);
		it->down_checksum = spi_text(i, 8);
		it->applied_down_checksum = spi_text(i, 9);
		it->run_as = spi_text(i, 10);
		it->registered_by = spi_text(i, 11);
		it->lock_timeout = spi_text(i, 12);
		it->transactional = strcmp(spi_text(i, 13), "t") == 0;
		it->down_line = atoi(spi_text(i, 14));
		it->lock_retries = spi_text(i, 15);
		it->statement_timeout = spi_text(i, 16);
	}
	*nitems = (int) SPI_processed;
	return items;
}

/*---- checks, before anything runs -------------------------------------------*/

/*
 * A baseline says the database already was at its version: there is no
 * history at or below it to revert, and the baseline itself has no down
 * script.  Refuse every item at or below the highest baseline.
 */
static void
refuse_baseline_range(const RevertItem *items, int nitems, const Marks *marks)
{
	int			i;

	if (marks->baseline_key == NULL)
		return;
	for (i = 0; i < nitems; i++)
	{
		const RevertItem *it = &items[i];

		if (strcmp(it->version_key, marks->baseline_key) > 0)
			continue;
		if (it->baseline)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot revert baseline \"%s\" (\"%s\")",
							it->version, it->name),
					 errdetail("A baseline records that the database already was at version \"%s\"; the versions it covers have no history to revert.",
							   it->version),
					 errhint("Migrations above version \"%s\" can be reverted; nothing at or below it.",
							 marks->baseline_version)));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot revert migration \"%s\" (\"%s\") below the baseline at version \"%s\"",
						it->version, it->name, marks->baseline_version),
				 errdetail("The baseline counts every version up to and including \"%s\" as applied; reverting one of them would undo part of what it records.",
						   marks->baseline_version),
				 errhint("Migrations above version \"%s\" can be reverted; nothing at or below it.",
						 marks->baseline_version)));
	}
}

/*
 * Every migration on the way must still be registered and have a down
 * script; otherwise nothing is reverted.  The error names the first one
 * met (the highest), the detail all of them.
 */
static void
refuse_without_down(const RevertItem *items, int nitems)
{
	StringInfoData list;
	const RevertItem *first = NULL;
	int			i;

	for (i = 0; i < nitems; i++)
	{
		if (!items[i].registered)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot revert migration \"%s\" (\"%s\"): it is no longer registered",
							items[i].version, items[i].name),
					 errdetail("Its down script went with its registration. Nothing was reverted."),
					 errhint("Register it again with its down script (restore its files and run smig.load_dir()).")));
	}

	initStringInfo(&list);
	for (i = 0; i < nitems; i++)
	{
		if (items[i].down_sql != NULL)
			continue;
		if (first == NULL)
			first = &items[i];
		appendStringInfo(&list, "%s\"%s\" (\"%s\")",
						 list.len ? ", " : "", items[i].version, items[i].name);
	}
	if (first != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" (\"%s\") has no down script",
						first->version, first->name),
				 errdetail("Every migration on the way needs one, and these have none: %s. Nothing was reverted.",
						   list.data),
				 errhint("Register a down script (a U<version>__<name>.sql or <version>_<name>.down.sql file, a \"-- smig:down\" section, or smig.register()'s down_sql), or undo the changes with a new migration.")));
}

/*
 * The rest, per migration: its down script, its mode, its role.  A
 * no-transaction down script runs only from CALL smig.downgrade_to()
 * (procedure: true), through the background worker (worker.c).
 */
static void
check_item(RevertItem *it, bool procedure)
{
	if (it->applied_down_checksum != NULL &&
		strcmp(it->applied_down_checksum, it->down_checksum) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("down script of applied migration \"%s\" (\"%s\") was modified",
						it->version, it->name),
				 errdetail("Its registered down script differs from the one registered when it was applied. Nothing was reverted."),
				 errhint("Restore the original down script, or accept the change with SELECT smig.repair('%s').",
						 it->version)));
	if (!it->transactional && !procedure)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migration \"%s\" (\"%s\") cannot be reverted inside a transaction",
						it->version, it->name),
				 errdetail("It is marked \"-- smig:no-transaction\": its down script runs each statement as a top-level command in a background worker, which a function cannot wait for."),
				 errhint("Revert it with CALL smig.downgrade_to('<version>'), a top-level statement outside BEGIN ... COMMIT.")));
	it->run_as_oid = apply_check_run_as(it->version, it->name, it->run_as,
										it->registered_by, RUNNER_SCRIPT_DOWN);
}

/*---- the revert loop ---------------------------------------------------------*/

/*
 * After its down script ran: the history row (which removes it from
 * smig.applied) and the NOTICE; last: the action's last row, which
 * carries the schema it leaves.
 */
static void
record_revert(const RevertItem *it, TimestampTz started, int64 duration_us,
			  bool last)
{
	HistoryEntry entry = {0};

	entry.action = "revert";
	entry.version = it->version;
	entry.version_key = it->version_key;
	entry.name = it->name;
	entry.checksum = it->checksum;
	entry.run_as = it->run_as;
	entry.started_at = started;
	entry.duration_us = duration_us;
	if (last)
		schema_stage_fingerprint_if_due();
	history_record_revert(&entry, it->down_checksum);

	ereport(NOTICE,
			(errmsg("reverted migration \"%s\" (\"%s\")",
					it->version, it->name),
			 errdetail("Duration: %.3f ms.", duration_us / 1000.0)));
}

/*
 * Check every item, then revert them, in their order (highest first), one
 * result row each (rsinfo NULL: none).
 */
static void
revert_items(ReturnSetInfo *rsinfo, RevertItem *items, int nitems)
{
	MemoryContext itemcxt;
	MemoryContext oldcxt;
	int			i;

	refuse_without_down(items, nitems);
	for (i = 0; i < nitems; i++)
		check_item(&items[i], false);

	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "smig revert",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < nitems; i++)
	{
		RevertItem *it = &items[i];
		RunnerScript script = {0};
		TimestampTz started;
		int64		duration_us;

		oldcxt = MemoryContextSwitchTo(itemcxt);

		if (it->applied_down_checksum == NULL)
			ereport(NOTICE,
					(errmsg("no down script was recorded when migration \"%s\" (\"%s\") was applied",
							it->version, it->name),
					 errdetail("It was applied without one, or by smig 0.1, which recorded none; its down script runs as registered now (checksum %s).",
							   it->down_checksum)));

		script.version = it->version;
		script.name = it->name;
		script.sql = it->down_sql;
		script.lock_timeout = it->lock_timeout;
		script.lock_retries = it->lock_retries;
		script.statement_timeout = it->statement_timeout;
		script.run_as = it->run_as_oid;
		script.kind = RUNNER_SCRIPT_DOWN;
		script.first_line = it->down_line;

		progress_set_step(i + 1, nitems);
		started = GetCurrentTimestamp();
		runner_run(&script);

		duration_us = GetCurrentTimestamp() - started;
		record_revert(it, started, duration_us, i == nitems - 1);
		if (rsinfo)
			apply_put_result(rsinfo, it->version, it->name, duration_us);

		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(itemcxt);
	}
	MemoryContextDelete(itemcxt);
	if (nitems > 0)
		summary_applied_changed();
}

/*---- the SQL functions -------------------------------------------------------*/

/*
 * smig.rollback(steps integer DEFAULT 1) returns table (version, name, duration)
 *
 * Revert the steps highest applied migrations.  Fewer than steps applied
 * (above every baseline) is an error: nothing is reverted.
 */
Datum
smig_rollback(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		steps;
	Marks		marks;
	RevertItem *items;
	int			nitems;

	args_require(fcinfo, 0, "steps");
	steps = PG_GETARG_INT32(0);
	if (steps < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("number of steps must be at least 1, not %d", steps),
				 errhint("SELECT smig.rollback() reverts the highest applied migration; smig.rollback(n) the n highest.")));

	InitMaterializedSRF(fcinfo, 0);
	action_begin("revert migrations");

	SPI_connect();
	read_marks(&marks);
	items = read_items(NULL, steps, &nitems);
	if (nitems == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot roll back: no migration is applied")));
	refuse_baseline_range(items, nitems, &marks);
	if (nitems < steps)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot roll back %d migrations", steps),
				 errdetail_plural("Only %d migration is applied. Nothing was reverted.",
								  "Only %d migrations are applied. Nothing was reverted.",
								  nitems, nitems),
				 errhint("To revert everything, SELECT smig.downgrade('base').")));
	revert_items(rsinfo, items, nitems);
	SPI_finish();
	return (Datum) 0;
}

/*
 * The applied migrations downgrade(target) reverts, highest first, after
 * the checks of the target and of the baseline range (the per-migration
 * checks are revert_items'); NULL with *nitems 0 when there is nothing to
 * revert (a NOTICE said so).  SPI connected, deploy lock held.
 */
static RevertItem *
downgrade_select(const char *target, int *nitems)
{
	char	   *key = NULL;
	bool		to_base;
	Marks		marks;
	RevertItem *items;

	*nitems = 0;
	to_base = pg_strcasecmp(target, "base") == 0;
	if (!to_base)
	{
		key = version_key_or_error(target);
		if (strcmp(key, version_key_or_error("0")) == 0)
		{
			to_base = true;
			key = NULL;
		}
	}

	read_marks(&marks);
	if (!to_base)
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(key)};

		owner_exec("SELECT EXISTS (SELECT FROM smig.migration m WHERE m.version_key = $1)"
				   "  OR EXISTS (SELECT FROM smig.applied a WHERE a.version_key = $1)",
				   1, types, values, NULL, SPI_OK_SELECT);
		if (strcmp(spi_text(0, 1), "t") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("migration \"%s\" is not registered", target),
					 errdetail("smig.downgrade() reverts the migrations above a registered or applied version, or all of them with 'base' or '0'."),
					 errhint("Name a version that smig.status() lists.")));
		if (marks.current_key == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot downgrade to version \"%s\": no migration is applied",
							target),
					 errhint("To go up to it, SELECT smig.upgrade_to('%s').", target)));
		if (strcmp(key, marks.current_key) > 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot downgrade to version \"%s\": the database is at version \"%s\"",
							target, marks.current_version),
					 errdetail("Version \"%s\" is above the current version; going to it would be an upgrade.",
							   target),
					 errhint("To go up to it, SELECT smig.upgrade_to('%s').", target)));
	}
	if (marks.current_key == NULL ||
		(key != NULL && strcmp(key, marks.current_key) == 0))
	{
		if (marks.current_key == NULL)
			ereport(NOTICE,
					(errmsg("no migration is applied"),
					 errdetail("Nothing was reverted.")));
		else
			ereport(NOTICE,
					(errmsg("the database is already at version \"%s\"",
							marks.current_version),
					 errdetail("Nothing was reverted.")));
		return NULL;
	}
	if (marks.baseline_key != NULL &&
		(to_base || strcmp(key, marks.baseline_key) < 0))
	{
		if (to_base)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("cannot downgrade to base: the database has a baseline at version \"%s\"",
							marks.baseline_version),
					 errdetail("The baseline records that the database already was at version \"%s\"; the versions it covers have no history to revert.",
							   marks.baseline_version),
					 errhint("Downgrade to version \"%s\" at most: SELECT smig.downgrade('%s').",
							 marks.baseline_version, marks.baseline_version)));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot downgrade to version \"%s\": the database has a baseline at version \"%s\"",
						target, marks.baseline_version),
				 errdetail("The baseline records that the database already was at version \"%s\"; the versions it covers have no history to revert.",
						   marks.baseline_version),
				 errhint("Downgrade to version \"%s\" at most: SELECT smig.downgrade('%s').",
						 marks.baseline_version, marks.baseline_version)));
	}

	items = read_items(key, -1, nitems);
	refuse_baseline_range(items, *nitems, &marks);
	return items;
}

/*
 * smig.downgrade(target text) returns table (version, name, duration)
 *
 * Revert every applied migration above target, a registered or applied
 * version; 'base' (any case) or a version equal to 0 ('0', '0.0', '000')
 * reverts all of them.  Downgrading to the current version reverts
 * nothing (a NOTICE says so), as upgrade_head() with nothing pending
 * applies nothing; a target above it is an error pointing to upgrading.
 */
Datum
smig_downgrade(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target;
	RevertItem *items;
	int			nitems;

	args_require(fcinfo, 0, "target");
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));

	InitMaterializedSRF(fcinfo, 0);
	action_begin("revert migrations");

	SPI_connect();
	items = downgrade_select(target, &nitems);
	if (nitems > 0)
		revert_items(rsinfo, items, nitems);
	SPI_finish();
	return (Datum) 0;
}

/*---- for the committing procedure (procedure.c) ------------------------------*/

List *
downgrade_plan(const char *target)
{
	MemoryContext callercxt = CurrentMemoryContext;
	List	   *plan = NIL;
	RevertItem *items;
	int			nitems;
	int			i;

	action_begin("revert migrations");
	SPI_connect();
	items = downgrade_select(target, &nitems);
	refuse_without_down(items, nitems);
	for (i = 0; i < nitems; i++)
		check_item(&items[i], true);

	for (i = 0; i < nitems; i++)
	{
		MemoryContext oldcxt = MemoryContextSwitchTo(callercxt);
		ApplyPlanItem *p = palloc0(sizeof(ApplyPlanItem));

		p->version_key = pstrdup(items[i].version_key);
		p->version = pstrdup(items[i].version);
		p->name = pstrdup(items[i].name);
		p->checksum = pstrdup(items[i].checksum);
		p->down_checksum = pstrdup(items[i].down_checksum);
		p->run_as = pstrdup(items[i].run_as);
		p->transactional = items[i].transactional;
		plan = lappend(plan, p);
		MemoryContextSwitchTo(oldcxt);
	}
	SPI_finish();
	return plan;
}

/* The highest applied migration, which must be version_key, checked. */
static RevertItem *
read_next(const char *version_key)
{
	RevertItem *items;
	int			nitems;
	Marks		marks;

	read_marks(&marks);
	items = read_items(NULL, 1, &nitems);
	if (nitems != 1 || strcmp(items[0].version_key, version_key) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the migrations applied changed during the downgrade"),
				 errdetail("The next migration to revert is no longer the highest one applied.")));
	refuse_baseline_range(items, nitems, &marks);
	return items;
}

void
revert_one(const char *version_key)
{
	RevertItem *items;

	action_begin("revert migrations");
	SPI_connect();
	items = read_next(version_key);
	revert_items(NULL, items, 1);
	SPI_finish();
}

/*---- for the background worker (worker.c) ----------------------------------*/

struct RevertStep
{
	RevertItem	item;
};

static char *
dup_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

RevertStep *
revert_one_prepare(const char *version_key, RunnerScript *script)
{
	MemoryContext callercxt = CurrentMemoryContext;
	RevertItem *items;
	RevertStep *step;
	RevertItem *it;

	action_begin("revert migrations");
	SPI_connect();
	items = read_next(version_key);
	refuse_without_down(items, 1);
	check_item(&items[0], true);

	MemoryContextSwitchTo(callercxt);
	step = palloc0(sizeof(RevertStep));
	it = &step->item;
	it->version_key = pstrdup(items[0].version_key);
	it->version = pstrdup(items[0].version);
	it->name = pstrdup(items[0].name);
	it->checksum = dup_or_null(items[0].checksum);
	it->down_sql = pstrdup(items[0].down_sql);
	it->down_checksum = dup_or_null(items[0].down_checksum);
	it->run_as = dup_or_null(items[0].run_as);
	it->lock_timeout = dup_or_null(items[0].lock_timeout);
	it->lock_retries = dup_or_null(items[0].lock_retries);
	it->statement_timeout = dup_or_null(items[0].statement_timeout);
	it->down_line = items[0].down_line;
	it->run_as_oid = items[0].run_as_oid;
	SPI_finish();

	memset(script, 0, sizeof(RunnerScript));
	script->version = it->version;
	script->name = it->name;
	script->sql = it->down_sql;
	script->lock_timeout = it->lock_timeout;
	script->lock_retries = it->lock_retries;
	script->statement_timeout = it->statement_timeout;
	script->run_as = it->run_as_oid;
	script->kind = RUNNER_SCRIPT_DOWN;
	script->first_line = it->down_line;
	return step;
}

void
revert_one_record(const RevertStep *step, TimestampTz started,
				  int64 duration_us)
{
	SPI_connect();
	record_revert(&step->item, started, duration_us, true);
	summary_applied_changed();
	SPI_finish();
}
