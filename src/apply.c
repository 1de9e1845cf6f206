/*-------------------------------------------------------------------------
 * apply.c
 *	  The apply loop: smig.upgrade_head, smig.upgrade_to, smig.apply, and
 *	  the other actions that change migration state (smig.baseline,
 *	  smig.repair).
 *
 * Every action follows one sequence:
 *	 1. action_begin() (action.c): preconditions, before touching anything,
 *		and the deploy lock, held until the transaction ends;
 *	 2. the work, read *after* the lock: in READ COMMITTED each SPI query
 *		takes a new snapshot, so a second upgrader sees what the first one
 *		committed and applies nothing twice;
 *	 3. every selected migration checked before any runs: state, order,
 *		and that the caller may act as the role it runs as;
 *	 4. per migration: the runner (as the migration's role), one history
 *		row, one NOTICE, one result row.
 * The work is the pending versioned migrations in version order (with
 * run-on-change ones whose up script changed, "outdated"), then the new
 * or changed repeatable migrations in name order.  upgrade_head() and
 * upgrade_to() apply both, as Flyway's migrate does with or without a
 * target; apply(version) applies exactly the one named ("R__<name>" for a
 * repeatable migration).
 * All of it happens in the caller's transaction: a failure anywhere rolls
 * back every migration of the call and its history.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "action.h"
#include "apply.h"
#include "args.h"
#include "compat.h"
#include "history.h"
#include "progress.h"
#include "ownersql.h"
#include "repeatable.h"
#include "runner.h"
#include "schema.h"
#include "smig.h"
#include "summary.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_upgrade_head);
PG_FUNCTION_INFO_V1(smig_upgrade_to);
PG_FUNCTION_INFO_V1(smig_apply);
PG_FUNCTION_INFO_V1(smig_baseline);
PG_FUNCTION_INFO_V1(smig_repair);
PG_FUNCTION_INFO_V1(smig_repair_one);

/* The highest applied version and its key, or NULLs on an empty history. */
static void
read_current(char **version, char **key)
{
	owner_exec("SELECT a.version, a.version_key FROM smig.applied a"
			   " ORDER BY a.version_key COLLATE \"C\" DESC LIMIT 1",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	*version = SPI_processed ? spi_text(0, 1) : NULL;
	*key = SPI_processed ? spi_text(0, 2) : NULL;
}

/*---- the work list --------------------------------------------------------*/

typedef struct WorkItem
{
	char	   *version_key;
	char	   *version;
	char	   *name;
	char	   *state;			/* pending, out-of-order, modified, outdated */
	char	   *up_sql;
	char	   *checksum;
	char	   *down_checksum;	/* of its down script, NULL without one */
	bool		baseline;
	bool		transactional;
	char	   *lock_timeout;
	char	   *lock_retries;	/* per-migration overrides, or NULL */
	char	   *statement_timeout;
	char	   *run_as;			/* NULL: registered before smig 0.2 */
	char	   *registered_by;	/* who vouched for the text */
	Oid			run_as_oid;		/* set by check_selected */
	int			up_line;		/* line of its file where up_sql starts */
	bool		repeatable;		/* version is R__<name>, version_key NULL */
	bool		destructive;	/* declares destructive changes */
} WorkItem;

/* What apply(version) compares: the version key, or a repeatable's label. */
static const char *
work_key(const WorkItem *item)
{
	return item->repeatable ? item->version : item->version_key;
}

/*
 * Every pending, out-of-order, modified and outdated (run-on-change)
 * version, in version order.
 */
static WorkItem *
read_work(int *nitems)
{
	WorkItem   *items;
	uint64		i;

	owner_exec("SELECT s.version_key, s.version, s.name, s.state, m.up_sql,"
			   "  m.checksum,"
			   "  coalesce((m.options ->> 'baseline')::boolean, false),"
			   "  coalesce((m.options ->> 'transactional')::boolean, true),"
			   "  m.options ->> 'lock_timeout', m.run_as,"
			   "  coalesce((m.options ->> 'up_line')::integer, 1),"
			   "  m.registered_by, m.down_checksum,"
			   "  m.options ->> 'lock_retries', m.options ->> 'statement_timeout',"
			   "  coalesce((m.options ->> 'destructive')::boolean, false)"
			   " FROM smig._state() s"
			   " LEFT JOIN smig.migration m ON m.version_key = s.version_key"
			   " WHERE s.state IN ('pending', 'out-of-order', 'modified', 'outdated')"
			   " ORDER BY s.version_key COLLATE \"C\"",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);

	items = palloc0(Max(SPI_processed, 1) * sizeof(WorkItem));
	for (i = 0; i < SPI_processed; i++)
	{
		items[i].version_key = spi_text(i, 1);
		items[i].version = spi_text(i, 2);
		items[i].name = spi_text(i, 3);
		items[i].state = spi_text(i, 4);
		items[i].up_sql = spi_text(i, 5);
		items[i].checksum = spi_text(i, 6);
		items[i].baseline = strcmp(spi_text(i, 7), "t") == 0;
		items[i].transactional = strcmp(spi_text(i, 8), "t") == 0;
		items[i].lock_timeout = spi_text(i, 9);
		items[i].run_as = spi_text(i, 10);
		items[i].up_line = atoi(spi_text(i, 11));
		items[i].registered_by = spi_text(i, 12);
		items[i].down_checksum = spi_text(i, 13);
		items[i].lock_retries = spi_text(i, 14);
		items[i].statement_timeout = spi_text(i, 15);
		items[i].destructive = strcmp(spi_text(i, 16), "t") == 0;
	}
	*nitems = (int) SPI_processed;
	return items;
}

/*
 * Append to items (*nitems of them) every new or changed repeatable
 * migration, in name order: they run after the versioned ones.
 */
static WorkItem *
read_repeatable_work(WorkItem *items, int *nitems)
{
	uint64		i;
	int			n = *nitems;

	owner_exec("SELECT s.version, s.name, s.state, r.up_sql, r.checksum,"
			   "  coalesce((r.options ->> 'transactional')::boolean, true),"
			   "  r.options ->> 'lock_timeout', r.run_as,"
			   "  coalesce((r.options ->> 'up_line')::integer, 1),"
			   "  r.registered_by,"
			   "  r.options ->> 'lock_retries', r.options ->> 'statement_timeout',"
			   "  coalesce((r.options ->> 'destructive')::boolean, false)"
			   " FROM smig._repeatable_state() s"
			   " JOIN smig.repeatable r ON r.name = s.name"
			   " WHERE s.state IN ('pending', 'outdated')"
			   " ORDER BY s.name COLLATE \"C\"",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return items;

	items = repalloc(items, (n + SPI_processed) * sizeof(WorkItem));
	for (i = 0; i < SPI_processed; i++)
	{
		WorkItem   *item = &items[n + i];

		memset(item, 0, sizeof(WorkItem));
		item->repeatable = true;
		item->version = spi_text(i, 1);
		item->name = spi_text(i, 2);
		item->state = spi_text(i, 3);
		item->up_sql = spi_text(i, 4);
		item->checksum = spi_text(i, 5);
		item->transactional = strcmp(spi_text(i, 6), "t") == 0;
		item->lock_timeout = spi_text(i, 7);
		item->run_as = spi_text(i, 8);
		item->up_line = atoi(spi_text(i, 9));
		item->registered_by = spi_text(i, 10);
		item->lock_retries = spi_text(i, 11);
		item->statement_timeout = spi_text(i, 12);
		item->destructive = strcmp(spi_text(i, 13), "t") == 0;
	}
	*nitems = n + (int) SPI_processed;
	return items;
}

/* Refuse to run while an applied migration's text differs from the files. */
static void
refuse_modified(WorkItem *items, int nitems)
{
	StringInfoData list;
	WorkItem   *first = NULL;
	int			i;

	initStringInfo(&list);
	for (i = 0; i < nitems; i++)
	{
		if (strcmp(items[i].state, "modified") != 0)
			continue;
		if (first == NULL)
			first = &items[i];
		appendStringInfo(&list, "%s\"%s\" (\"%s\")",
						 list.len ? ", " : "", items[i].version, items[i].name);
	}
	if (first != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("applied migration \"%s\" (\"%s\") was modified",
						first->version, first->name),
				 errdetail("The registered up script of these applied migrations differs from the one applied: %s.",
						   list.data),
				 errhint("Restore the original text, or accept the change with SELECT smig.repair().")));
}

/*
 * A migration runs as the role that registered it (or its run-as role),
 * whoever applies or reverts it; the caller must be a member of that role
 * (superusers are members of every role), so that applying never lends
 * anyone's rights to text someone else wrote, and never borrows rights the
 * caller lacks.  Membership is checked again now, not only at
 * registration: an author who has since been dropped, or has lost the
 * run-as role, no longer vouches for the text.  Returns the role's OID.
 */
Oid
apply_check_run_as(const char *version, const char *name, const char *run_as,
				   const char *registered_by, RunnerScriptKind kind)
{
	Oid			caller = GetUserId();
	Oid			run_as_oid;
	Oid			author;

	if (run_as == NULL || registered_by == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" (\"%s\") records no role to run as",
						version, name),
				 errdetail("It was registered by smig 0.1, which did not record who registered a migration."),
				 errhint("Register it again (smig.register() or smig.load_dir()) as the role it should run as.")));
	run_as_oid = get_role_oid(run_as, true);
	author = get_role_oid(registered_by, true);
	if (!OidIsValid(run_as_oid) || !OidIsValid(author))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" of migration \"%s\" (\"%s\") does not exist",
						OidIsValid(author) ? run_as : registered_by,
						version, name),
				 errdetail("The migration was registered by role \"%s\" to run as role \"%s\".",
						   registered_by, run_as),
				 errhint("Register it again as an existing role.")));
	if (!is_member_of_role(author, run_as_oid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("migration \"%s\" (\"%s\") may no longer run as role \"%s\"",
						version, name, run_as),
				 errdetail("Role \"%s\", who registered it, is no longer a member of role \"%s\".",
						   registered_by, run_as),
				 errhint("Register it again as a member of role \"%s\".", run_as)));
	if (!is_member_of_role(caller, run_as_oid))
	{
		if (kind == RUNNER_SCRIPT_DOWN)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to revert migration \"%s\" (\"%s\") as role \"%s\"",
							version, name, run_as),
					 errdetail("The migration's down script runs as role \"%s\", and role \"%s\" is not a member of it.",
							   run_as, GetUserNameFromId(caller, false)),
					 errhint("Revert it as a member of role \"%s\".", run_as)));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to apply migration \"%s\" (\"%s\") as role \"%s\"",
						version, name, run_as),
				 errdetail("The migration runs as role \"%s\", and role \"%s\" is not a member of it.",
						   run_as, GetUserNameFromId(caller, false)),
				 errhint("Apply it as a member of role \"%s\", or have it registered by a role you are a member of.",
						 run_as)));
	}
	return run_as_oid;
}

/*
 * Refuse, before running anything, every item of the selection that
 * cannot be applied: out of order (unless smig.out_of_order), a baseline
 * migration on a non-empty history, a no-transaction migration outside
 * CALL smig.upgrade() (procedure false; a repeatable one always), one
 * whose run-as role the caller may not act as.
 */
static void check_baseline_skips(const char *version, const char *key,
								 bool baseline_migration);

static void
check_selected(WorkItem *item, const char *current_version, bool procedure)
{
	if (strcmp(item->state, "out-of-order") == 0 && !smig_out_of_order)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" (\"%s\") is older than the current version \"%s\"",
						item->version, item->name, current_version),
				 errdetail("Applying it now would run it after migrations with higher versions."),
				 errhint("Renumber it above \"%s\", or SET smig.out_of_order = on to apply it anyway.",
						 current_version)));
	if (item->baseline && current_version != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot apply baseline migration \"%s\" (\"%s\"): the history stops at version \"%s\"",
						item->version, item->name, current_version),
				 errdetail("A baseline migration replaces every version before it and applies only to an empty database."),
				 errhint("Upgrade this database to version \"%s\" with a release that still ships the older migrations, or create a new database from the baseline.",
						 item->version)));
	if (item->baseline)
		check_baseline_skips(item->version, item->version_key, true);
	if (!item->transactional && item->repeatable)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("repeatable migration \"%s\" cannot run inside a transaction",
						item->name),
				 errdetail("It is marked \"-- smig:no-transaction\", and smig runs only versioned migrations outside a transaction."),
				 errhint("Remove the directive if its statements can run inside a transaction, or make it a versioned migration.")));
	if (!item->transactional && !procedure)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("migration \"%s\" (\"%s\") cannot run inside a transaction",
						item->version, item->name),
				 errdetail("It is marked \"-- smig:no-transaction\": its statements run one by one as top-level commands in a background worker, which a function cannot wait for."),
				 errhint("Apply it with CALL smig.upgrade(), a top-level statement outside BEGIN ... COMMIT.")));
	item->run_as_oid = apply_check_run_as(item->version, item->name,
										  item->run_as, item->registered_by,
										  RUNNER_SCRIPT_UP);
}

/*
 * Explain why version cannot be applied by smig.apply(version); key is
 * its version key, or for a repeatable migration its label.
 */
static void
refuse_unselectable(const char *version, const char *key)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(key)};
	char	   *state;

	if (repeatable_is_label(version))
	{
		values[0] = CStringGetTextDatum(repeatable_label_name(version));
		owner_exec("SELECT s.state FROM smig._repeatable_state() s WHERE s.name = $1",
				   1, types, values, NULL, SPI_OK_SELECT);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("repeatable migration \"%s\" is not registered",
							repeatable_label_name(version)),
					 errhint("Register it with smig.register_repeatable() or smig.load_dir().")));
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("repeatable migration \"%s\" is not pending",
						repeatable_label_name(version)),
				 errdetail("It was last applied with its current checksum; it runs again when it changes.")));
	}
	owner_exec("SELECT s.state FROM smig._state() s WHERE s.version_key = $1",
			   1, types, values, NULL, SPI_OK_SELECT);
	state = SPI_processed ? spi_text(0, 1) : NULL;
	if (state == NULL || strcmp(state, "missing") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version),
				 errhint("Register it with smig.register() or smig.load_dir().")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("migration \"%s\" is not pending", version),
			 errdetail("Its state is \"%s\".", state)));
}

/*
 * upgrade_to(target): the target must be a registered or applied version,
 * and not one below the current version that is already applied (or
 * covered by a baseline): that would be a downgrade.  A pending target
 * below the current version (out of order) is fine; check_selected
 * decides about it.
 */
static void
check_target(const char *target, const char *key)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(key)};
	char	   *state;
	char	   *current_version;
	char	   *current_key;

	owner_exec("SELECT s.state FROM smig._state() s WHERE s.version_key = $1",
			   1, types, values, NULL, SPI_OK_SELECT);
	state = SPI_processed ? spi_text(0, 1) : NULL;
	if (state == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", target),
				 errdetail("smig.upgrade_to() applies pending migrations up to and including a registered version."),
				 errhint("Name a version that smig.status() lists, or register it first.")));
	if (strcmp(state, "pending") == 0 || strcmp(state, "out-of-order") == 0 ||
		strcmp(state, "outdated") == 0)
		return;
	read_current(&current_version, &current_key);
	if (current_key != NULL && strcmp(key, current_key) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot upgrade to version \"%s\": the database is already at version \"%s\"",
						target, current_version),
				 errdetail("Version \"%s\" is %s; going back to it would be a downgrade.",
						   target, state),
				 errhint("To go back to it, revert the migrations above it with SELECT smig.downgrade('%s').",
						 target)));
}

/*---- the apply loop --------------------------------------------------------*/

/* One result row (version, name, duration) of an apply or revert loop. */
void
apply_put_result(ReturnSetInfo *rsinfo, const char *version, const char *name,
				 int64 duration_us)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};
	Interval   *duration = palloc0(sizeof(Interval));

	duration->time = duration_us;
	values[0] = CStringGetTextDatum(version);
	values[1] = CStringGetTextDatum(name);
	values[2] = IntervalPGetDatum(duration);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The NOTICE for one applied migration. */
static void
report_applied(const WorkItem *item, int64 duration_us)
{
	if (item->repeatable)
		ereport(NOTICE,
				(errmsg("applied repeatable migration \"%s\"", item->name),
				 errdetail("Duration: %.3f ms.", duration_us / 1000.0)));
	else if (strcmp(item->state, "outdated") == 0)
		ereport(NOTICE,
				(errmsg("applied migration \"%s\" (\"%s\") again",
						item->version, item->name),
				 errdetail("Its up script changed, and it runs on change. Duration: %.3f ms.",
						   duration_us / 1000.0)));
	else
		ereport(NOTICE,
				(errmsg("applied %smigration \"%s\" (\"%s\")",
						item->baseline ? "baseline " : "",
						item->version, item->name),
				 errdetail("Duration: %.3f ms.", duration_us / 1000.0)));
}

/*
 * After its up script ran: the history row, the NOTICE; last: the
 * action's last row, which carries the schema it leaves.
 */
static void
record_applied(const WorkItem *item, TimestampTz started, int64 duration_us,
			   bool last)
{
	HistoryEntry entry = {0};

	entry.action = item->baseline ? "baseline" : "apply";
	entry.version = item->version;
	entry.version_key = item->version_key;
	entry.name = item->name;
	entry.checksum = item->checksum;
	entry.run_as = item->run_as;
	entry.started_at = started;
	entry.duration_us = duration_us;
	if (last)
		schema_stage_fingerprint_if_due();
	if (item->repeatable)
		history_record_repeatable(&entry);
	else if (strcmp(item->state, "outdated") == 0)
		history_record_reapplied(&entry);
	else
		history_record_applied(&entry, item->baseline ? "baseline" : "migration");
	if (!item->repeatable && item->down_checksum != NULL)
		history_record_down_checksum(item->version_key, item->down_checksum);
	report_applied(item, duration_us);
}

struct ApplyStep
{
	WorkItem	item;
};

static char *
dup_or_null(const char *s)
{
	return s ? pstrdup(s) : NULL;
}

/* A copy of item, with its script, in the current memory context. */
static ApplyStep *
copy_step(const WorkItem *item, RunnerScript *script)
{
	ApplyStep  *step = palloc0(sizeof(ApplyStep));
	WorkItem   *c = &step->item;

	c->version_key = dup_or_null(item->version_key);
	c->version = pstrdup(item->version);
	c->name = pstrdup(item->name);
	c->state = pstrdup(item->state);
	c->up_sql = pstrdup(item->up_sql);
	c->checksum = dup_or_null(item->checksum);
	c->down_checksum = dup_or_null(item->down_checksum);
	c->baseline = item->baseline;
	c->transactional = item->transactional;
	c->lock_timeout = dup_or_null(item->lock_timeout);
	c->lock_retries = dup_or_null(item->lock_retries);
	c->statement_timeout = dup_or_null(item->statement_timeout);
	c->run_as = dup_or_null(item->run_as);
	c->registered_by = dup_or_null(item->registered_by);
	c->run_as_oid = item->run_as_oid;
	c->up_line = item->up_line;
	c->repeatable = item->repeatable;
	c->destructive = item->destructive;

	memset(script, 0, sizeof(RunnerScript));
	script->version = c->version;
	script->name = c->name;
	script->sql = c->up_sql;
	script->lock_timeout = c->lock_timeout;
	script->lock_retries = c->lock_retries;
	script->statement_timeout = c->statement_timeout;
	script->run_as = c->run_as_oid;
	script->kind = RUNNER_SCRIPT_UP;
	script->first_line = c->up_line;
	/* the worker judges it too (smig.destructive), statement by statement */
	script->gate = true;
	script->destructive = c->destructive;
	return step;
}

/*
 * Apply pending migrations, in version order, in the caller's transaction:
 * all of them (target_key and only_key NULL), those up to target_key, or
 * only the one with only_key.  Returns one row per applied migration
 * (fcinfo NULL: none).  With plan, apply nothing: *plan gets the checked
 * selection, a List of ApplyPlanItem in the caller's memory context.
 * With prepared (and only_key), apply nothing either: *prepared gets the
 * checked migration and *script its up script, for the background worker.
 * procedure: called by CALL smig.upgrade(), which may select a
 * no-transaction migration.
 */
static void
apply_pending(FunctionCallInfo fcinfo,
			  const char *target_version, const char *target_key,
			  const char *only_version, const char *only_key, List **plan,
			  bool procedure, ApplyStep **prepared, RunnerScript *script)
{
	ReturnSetInfo *rsinfo = fcinfo ? (ReturnSetInfo *) fcinfo->resultinfo : NULL;
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext itemcxt;
	MemoryContext oldcxt;
	WorkItem   *items;
	int			nitems;
	char	   *current_version;
	char	   *current_key;
	int			i;
	bool		found_only = false;
	bool		applied_any = false;
	int			first_selected = -1;
	int			last_selected = -1;
	int			nselected = 0;
	int			step = 0;
	int64		generation;

	if (fcinfo)
		InitMaterializedSRF(fcinfo, 0);
	if (plan)
		*plan = NIL;
	action_begin("apply migrations");

	SPI_connect();
	if (target_key != NULL)
		check_target(target_version, target_key);
	/* an up-to-date database answers from one row */
	if (summary_nothing_to_do(&generation) && only_key == NULL)
	{
		SPI_finish();
		return;
	}
	read_current(&current_version, &current_key);
	items = read_work(&nitems);
	items = read_repeatable_work(items, &nitems);
	refuse_modified(items, nitems);

	/* select, and check everything selected before running anything */
	for (i = 0; i < nitems; i++)
	{
		WorkItem   *item = &items[i];
		bool		selected = strcmp(item->state, "modified") != 0;

		if (target_key && !item->repeatable &&
			strcmp(item->version_key, target_key) > 0)
			selected = false;
		if (only_key && strcmp(work_key(item), only_key) != 0)
			selected = false;
		if (!selected)
		{
			item->state = NULL;
			continue;
		}
		found_only = true;
		nselected++;
		if (first_selected < 0)
			first_selected = i;
		last_selected = i;
		check_selected(item, current_version, procedure);
	}
	if (only_key && !found_only)
		refuse_unselectable(only_version, only_key);
	if (plan)
	{
		MemoryContext oldcxt2 = MemoryContextSwitchTo(callercxt);

		for (i = 0; i < nitems; i++)
		{
			ApplyPlanItem *p;

			if (items[i].state == NULL)
				continue;
			p = palloc0(sizeof(ApplyPlanItem));
			/* a repeatable migration has no version key */
			p->version_key = items[i].version_key ? pstrdup(items[i].version_key) : NULL;
			p->version = pstrdup(items[i].version);
			p->name = pstrdup(items[i].name);
			p->checksum = items[i].checksum ? pstrdup(items[i].checksum) : NULL;
			p->down_checksum = NULL;
			p->run_as = items[i].run_as ? pstrdup(items[i].run_as) : NULL;
			p->state = pstrdup(items[i].state);
			p->up_sql = pstrdup(items[i].up_sql);
			p->up_line = items[i].up_line;
			p->lock_timeout = items[i].lock_timeout ? pstrdup(items[i].lock_timeout) : NULL;
			p->run_as_oid = items[i].run_as_oid;
			p->repeatable = items[i].repeatable;
			p->destructive = items[i].destructive;
			p->empty_history = current_key == NULL && !items[i].repeatable &&
				i == first_selected;
			p->transactional = items[i].transactional;
			*plan = lappend(*plan, p);
		}
		MemoryContextSwitchTo(oldcxt2);
		SPI_finish();
		return;
	}
	if (prepared)
	{
		MemoryContext oldcxt2 = MemoryContextSwitchTo(callercxt);

		*prepared = copy_step(&items[last_selected], script);
		MemoryContextSwitchTo(oldcxt2);
		SPI_finish();
		return;
	}

	itemcxt = AllocSetContextCreate(CurrentMemoryContext, "smig migration",
									ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < nitems; i++)
	{
		WorkItem   *item = &items[i];
		RunnerScript script = {0};
		TimestampTz started;
		int64		duration_us;

		if (item->state == NULL)
			continue;
		oldcxt = MemoryContextSwitchTo(itemcxt);

		script.version = item->version;
		script.name = item->name;
		script.sql = item->up_sql;
		script.lock_timeout = item->lock_timeout;
		script.lock_retries = item->lock_retries;
		script.statement_timeout = item->statement_timeout;
		script.run_as = item->run_as_oid;
		script.kind = RUNNER_SCRIPT_UP;
		script.empty_history = current_key == NULL && !applied_any &&
			!item->repeatable;
		script.first_line = item->up_line;
		script.repeatable = item->repeatable;
		script.gate = true;
		script.destructive = item->destructive;

		progress_set_step(++step, nselected);
		started = GetCurrentTimestamp();
		runner_run(&script);

		duration_us = GetCurrentTimestamp() - started;
		record_applied(item, started, duration_us, i == last_selected);
		applied_any = true;

		if (rsinfo)
			apply_put_result(rsinfo, item->version, item->name, duration_us);

		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(itemcxt);
	}
	MemoryContextDelete(itemcxt);
	/* everything pending was applied: the generation read above is clean */
	if (target_key == NULL && only_key == NULL)
		summary_mark_clean(generation);
	SPI_finish();
}

/* smig.upgrade_head() returns table (version, name, duration) */
Datum
smig_upgrade_head(PG_FUNCTION_ARGS)
{
	apply_pending(fcinfo, NULL, NULL, NULL, NULL, NULL, false, NULL, NULL);
	return (Datum) 0;
}

/* smig.upgrade_to(target text) returns table (version, name, duration) */
Datum
smig_upgrade_to(PG_FUNCTION_ARGS)
{
	char	   *target;

	args_require(fcinfo, 0, "target");
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (repeatable_is_label(target))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot upgrade to repeatable migration \"%s\"",
						repeatable_label_name(target)),
				 errdetail("A repeatable migration has no version: smig.upgrade_to() applies the versioned migrations up to a version, then every new or changed repeatable migration."),
				 errhint("Name a version, or apply it alone with SELECT * FROM smig.apply('%s').",
						 target)));
	apply_pending(fcinfo, target, version_key_or_error(target), NULL, NULL, NULL,
				  false, NULL, NULL);
	return (Datum) 0;
}

/* smig.apply(version text) returns table (version, name, duration) */
Datum
smig_apply(PG_FUNCTION_ARGS)
{
	char	   *version;

	args_require(fcinfo, 0, "version");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	apply_pending(fcinfo, NULL, NULL, version,
				  repeatable_is_label(version) ? version
				  : version_key_or_error(version), NULL, false, NULL, NULL);
	return (Datum) 0;
}

/*---- for the committing procedure (procedure.c) ------------------------------*/

List *
apply_plan(const char *target)
{
	List	   *plan;

	apply_pending(NULL, target, target ? version_key_or_error(target) : NULL,
				  NULL, NULL, &plan, true, NULL, NULL);
	return plan;
}

void
apply_one(const char *version)
{
	apply_pending(NULL, NULL, NULL, version,
				  repeatable_is_label(version) ? version
				  : version_key_or_error(version), NULL, false, NULL, NULL);
}

/*---- for the background worker (worker.c) ----------------------------------*/

ApplyStep *
apply_one_prepare(const char *version, RunnerScript *script)
{
	ApplyStep  *step = NULL;

	apply_pending(NULL, NULL, NULL, version, version_key_or_error(version),
				  NULL, true, &step, script);
	return step;
}

void
apply_one_record(const ApplyStep *step, TimestampTz started,
				 int64 duration_us)
{
	SPI_connect();
	record_applied(&step->item, started, duration_us, true);
	SPI_finish();
}

/*---- baseline and repair ---------------------------------------------------*/

/*
 * A baseline at version makes registered migrations that never ran count
 * as applied: smig.baseline() those up to it that are pending, a baseline
 * migration (applied on an empty history only) all those below it.  Only
 * a caller who could apply such a migration may skip it: a member of its
 * run-as role (as for apply and unregister), so that a role granted
 * baseline(), or one that registers a baseline migration, cannot make
 * another role's pending migration never run.
 */
static void
check_baseline_skips(const char *version, const char *key,
					 bool baseline_migration)
{
	Oid			caller = GetUserId();
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	uint64		i;

	values[0] = CStringGetTextDatum(key);
	owner_exec(baseline_migration
			   ? "SELECT s.version, s.name, s.run_as FROM smig._state() s"
			   " WHERE s.state OPERATOR(pg_catalog.=) 'baselined'"
			   "   AND s.applied_checksum IS NULL"
			   "   AND s.version_key OPERATOR(pg_catalog.<) $1 COLLATE \"C\""
			   " ORDER BY s.version_key COLLATE \"C\""
			   : "SELECT s.version, s.name, s.run_as FROM smig._state() s"
			   " WHERE s.state OPERATOR(pg_catalog.=) ANY ('{pending,out-of-order}'::text[])"
			   "   AND s.version_key OPERATOR(pg_catalog.<=) $1 COLLATE \"C\""
			   " ORDER BY s.version_key COLLATE \"C\"",
			   1, argtypes, values, NULL, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *run_as = spi_text(i, 3);
		Oid			run_as_oid = run_as ? get_role_oid(run_as, true) : InvalidOid;

		if (OidIsValid(run_as_oid) ? is_member_of_role(caller, run_as_oid)
			: superuser_arg(caller))
			continue;
		if (run_as == NULL && baseline_migration)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to apply baseline migration \"%s\" past migration \"%s\" (\"%s\")",
							version, spi_text(i, 1), spi_text(i, 2)),
					 errdetail("It was registered by smig 0.1, which recorded no role to run it as; only a superuser may make it count as applied without running."),
					 errhint("Register it again (smig.register() or smig.load_dir()) as the role it should run as, or ask a superuser.")));
		if (run_as == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to baseline past migration \"%s\" (\"%s\")",
							spi_text(i, 1), spi_text(i, 2)),
					 errdetail("It was registered by smig 0.1, which recorded no role to run it as; only a superuser may make it count as applied without running."),
					 errhint("Register it again (smig.register() or smig.load_dir()) as the role it should run as, or ask a superuser.")));
		if (baseline_migration)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("permission denied to apply baseline migration \"%s\" past migration \"%s\" (\"%s\")",
							version, spi_text(i, 1), spi_text(i, 2)),
					 errdetail("Applying the baseline would make it count as applied without running; it runs as role \"%s\", and role \"%s\" is not a member of it.",
							   run_as, GetUserNameFromId(caller, false)),
					 errhint("Apply the baseline as a member of role \"%s\".", run_as)));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to baseline past migration \"%s\" (\"%s\")",
						spi_text(i, 1), spi_text(i, 2)),
				 errdetail("A baseline at version \"%s\" would make it count as applied without running; it runs as role \"%s\", and role \"%s\" is not a member of it.",
						   version, run_as, GetUserNameFromId(caller, false)),
				 errhint("Set the baseline as a member of role \"%s\", or below version \"%s\".",
						 run_as, spi_text(i, 1))));
	}
}

/* smig.baseline(version text, name text DEFAULT 'baseline') returns void */
Datum
smig_baseline(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *name;
	char	   *key;
	char	   *current_version;
	char	   *current_key;
	HistoryEntry entry = {0};

	args_require(fcinfo, 0, "version");
	args_require(fcinfo, 1, "name");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	key = version_key_or_error(version);
	args_check_name(name, NULL);
	action_begin("set a baseline");

	SPI_connect();
	read_current(&current_version, &current_key);
	if (current_key != NULL && strcmp(key, current_key) <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot baseline at version \"%s\": the history already reaches version \"%s\"",
						version, current_version),
				 errhint("A baseline only moves the history forward; choose a version above \"%s\".",
						 current_version)));

	check_baseline_skips(version, key, false);

	entry.action = "baseline";
	entry.version = version;
	entry.version_key = key;
	entry.name = name;
	entry.started_at = GetCurrentTimestamp();
	entry.duration_us = -1;
	schema_stage_fingerprint();
	history_record_applied(&entry, "baseline");
	SPI_finish();

	ereport(NOTICE,
			(errmsg("baselined the database at version \"%s\"", version),
			 errdetail("Versions up to and including \"%s\" count as applied.",
					   version)));
	PG_RETURN_VOID();
}

/*
 * Accept the registered text of modified applied migrations: all of them
 * (only_version NULL), or the one named, which must be modified.  An
 * edited up script and an edited down script ("down-modified") are each
 * accepted, recorded in history with the old and the new checksum, and
 * returned as a row saying which script it was.
 */
static void
repair_migrations(FunctionCallInfo fcinfo, const char *only_version)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPITupleTable *modified;
	uint64		nmodified;
	uint64		i;
	Oid			types[1] = {TEXTOID};
	Datum		values1[1];
	char	   *only_key = only_version ? version_key_or_error(only_version) : NULL;

	InitMaterializedSRF(fcinfo, 0);
	action_begin("repair migrations");

	SPI_connect();
	values1[0] = only_key ? CStringGetTextDatum(only_key) : (Datum) 0;
	owner_exec("SELECT s.version_key, s.version, s.name,"
			   "  s.applied_checksum, s.registered_checksum, s.state,"
			   "  s.applied_down_checksum, s.registered_down_checksum,"
			   "  s.state = 'modified',"
			   "  s.applied_down_checksum <> s.registered_down_checksum"
			   " FROM smig._state() s"
			   " WHERE ($1 IS NULL AND (s.state = 'modified'"
			   "   OR s.applied_down_checksum <> s.registered_down_checksum))"
			   "  OR s.version_key = $1"
			   " ORDER BY s.version_key COLLATE \"C\"",
			   1, types, values1, only_key ? " " : "n", SPI_OK_SELECT);
	modified = SPI_tuptable;
	nmodified = SPI_processed;
	if (only_key != NULL && nmodified == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", only_version)));
	if (only_key != NULL &&
		strcmp(SPI_getvalue(modified->vals[0], modified->tupdesc, 6), "modified") != 0 &&
		strcmp(SPI_getvalue(modified->vals[0], modified->tupdesc, 6), "down-modified") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" is not modified", only_version),
				 errdetail("Its state is \"%s\"; smig.repair() accepts the registered text of an applied migration that differs from the one applied.",
						   SPI_getvalue(modified->vals[0], modified->tupdesc, 6))));

	for (i = 0; i < nmodified; i++)
	{
		HeapTuple	tup = modified->vals[i];
		TupleDesc	desc = modified->tupdesc;
		char	   *up_modified = SPI_getvalue(tup, desc, 9);
		char	   *down_modified = SPI_getvalue(tup, desc, 10);
		HistoryEntry entry = {0};
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		entry.action = "repair";
		entry.version_key = SPI_getvalue(tup, desc, 1);
		entry.version = SPI_getvalue(tup, desc, 2);
		entry.name = SPI_getvalue(tup, desc, 3);
		values[0] = CStringGetTextDatum(entry.version);
		values[1] = CStringGetTextDatum(entry.name);

		if (up_modified && strcmp(up_modified, "t") == 0)
		{
			entry.old_checksum = SPI_getvalue(tup, desc, 4);
			entry.checksum = SPI_getvalue(tup, desc, 5);
			entry.started_at = GetCurrentTimestamp();
			entry.duration_us = -1;
			history_record_repair(&entry);

			ereport(NOTICE,
					(errmsg("accepted the modified text of migration \"%s\" (\"%s\")",
							entry.version, entry.name)));
			values[2] = CStringGetTextDatum(entry.old_checksum);
			values[3] = CStringGetTextDatum(entry.checksum);
			values[4] = CStringGetTextDatum("up");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
		if (down_modified && strcmp(down_modified, "t") == 0)
		{
			char	   *old_down = SPI_getvalue(tup, desc, 7);
			char	   *new_down = SPI_getvalue(tup, desc, 8);

			/* the up script's checksum as it now stands applied */
			entry.old_checksum = NULL;
			entry.checksum = SPI_getvalue(tup, desc, 5);
			entry.started_at = GetCurrentTimestamp();
			entry.duration_us = -1;
			history_record_down_repair(&entry, new_down, old_down);

			ereport(NOTICE,
					(errmsg("accepted the modified down script of migration \"%s\" (\"%s\")",
							entry.version, entry.name)));
			values[2] = CStringGetTextDatum(old_down);
			values[3] = CStringGetTextDatum(new_down);
			values[4] = CStringGetTextDatum("down");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	SPI_finish();
}

/* smig.repair() returns table (version, name, old_checksum, new_checksum, script) */
Datum
smig_repair(PG_FUNCTION_ARGS)
{
	repair_migrations(fcinfo, NULL);
	return (Datum) 0;
}

/* smig.repair(version text) returns table (version, name, old_checksum, new_checksum, script) */
Datum
smig_repair_one(PG_FUNCTION_ARGS)
{
	args_require(fcinfo, 0, "version");
	repair_migrations(fcinfo, text_to_cstring(PG_GETARG_TEXT_PP(0)));
	return (Datum) 0;
}
