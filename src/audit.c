/*-------------------------------------------------------------------------
 * audit.c
 *	  The audit trail: event triggers that write every DDL command into
 *	  smig.ddl_log, the log of REASSIGN OWNED (which fires no event
 *	  trigger), and the append-only rule of smig's logs.
 *
 * Three event triggers (created by the install script) call the functions
 * below:
 *	 ddl_command_end  one row per object of pg_event_trigger_ddl_commands()
 *	 sql_drop		  one row per dropped object (the ones named by the
 *					  command and their normal dependents; not the internal
 *					  ones such as a table's row type)
 *	 table_rewrite	  one row: the table and why it is rewritten
 * The ProcessUtility_hook (guard.c) adds one writer:
 *	 utility		  REASSIGN OWNED: one row per object whose owner changes
 * Each row carries the time, txid, session and current role, command tag,
 * object type, identity and schema, the table the object belongs to (for
 * an index, column, default, constraint, trigger, rule or policy:
 * "relation", see guard.h), the statement (its own text, not the
 * rest of the client's query string: guard_statement_text; none for
 * commands whose text may hold a password), and the
 * version of the migration that ran it: runner_current_version(), a C variable that no
 * SQL can set, so unmanaged DDL cannot pass itself off as a migration.
 * Objects of the smig extension itself are not logged.  Triggers, rules
 * and policies, which have no schema of their own, get their table's.
 *
 * The triggers run as whoever issued the DDL; rows are written as the
 * extension owner (ownersql.c), so nobody needs, or gets, INSERT on the
 * log.  Each event is one INSERT ... SELECT from the event's own function,
 * with a plan prepared once per backend.
 *
 * The guard's after-the-fact judgement (smig.guard, guard.c) runs in the
 * ddl_command_end and sql_drop triggers before their rows are written.
 * Before either, each trigger hands its event to effects.c (what the
 * running migration does: the destructive-change gate, rehearsals); in a
 * rehearsal (smig.rehearse()) a migration's events write no row at all,
 * so that nothing, not even the log's sequence, outlives its rollback.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "tcop/cmdtag.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "action.h"
#include "audit.h"
#include "effects.h"
#include "guard.h"
#include "ownersql.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(smig_audit_ddl_command_end);
PG_FUNCTION_INFO_V1(smig_audit_sql_drop);
PG_FUNCTION_INFO_V1(smig_audit_table_rewrite);
PG_FUNCTION_INFO_V1(smig_refuse_change);
PG_FUNCTION_INFO_V1(smig_trim_ddl_log);

/*---- settings -------------------------------------------------------------*/

static bool audit_enabled = true;

/* Set while smig.trim_ddl_log() deletes: the only DELETE the log allows. */
static bool trimming = false;

void
audit_init(void)
{
	DefineCustomBoolVariable("smig.audit",
							 "Records every DDL command in smig.ddl_log.",
							 "Only superusers can change this setting.",
							 &audit_enabled,
							 true,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

/*---- shared pieces ----------------------------------------------------------*/

/*
 * Is the audit trail there to write to?  During DROP EXTENSION smig the
 * event triggers may outlive the tables for a moment.
 */
bool
audit_tables_exist(void)
{
	Oid			nsp = get_namespace_oid("smig", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("ddl_log", nsp));
}

/*
 * The columns every ddl_log INSERT fills from parameters $1..$5; the
 * statement goes on with object_type, object_identity, schema_name and
 * detail (and relation, for LOG_INSERT_RELATION).
 */
#define LOG_INSERT(event) \
	"INSERT INTO smig.ddl_log (txid, event, session_role, role, statement," \
	" version, command_tag, object_type, object_identity, schema_name, detail)" \
	" SELECT pg_catalog.pg_current_xact_id(), '" event "', $1, $2, $3, $4, $5,"
#define LOG_INSERT_RELATION(event) \
	"INSERT INTO smig.ddl_log (txid, event, session_role, role, statement," \
	" version, command_tag, object_type, object_identity, schema_name, detail," \
	" relation)" \
	" SELECT pg_catalog.pg_current_xact_id(), '" event "', $1, $2, $3, $4, $5,"

/*
 * Does smig.ddl_log have its column "relation" (0.2)?  Between installing
 * the 0.2 library and ALTER EXTENSION smig UPDATE (whose own DDL fires the
 * triggers too) the log is still 0.1's, and the triggers write what it
 * has.
 */
static bool
log_has_relation(void)
{
	Oid			nsp = get_namespace_oid("smig", true);
	Oid			relid = OidIsValid(nsp) ? get_relname_relid("ddl_log", nsp) : InvalidOid;

	return OidIsValid(relid) && get_attnum(relid, "relation") != InvalidAttrNumber;
}

/*
 * Commands whose text may hold a password (OPTIONS (password '...'),
 * CONNECTION '... password=...'): PostgreSQL shows a user mapping's options
 * only to the server's owner and a subscription's connection only to
 * superusers, so their text is not logged for the auditors to read.
 */
static bool
statement_may_hold_password(CommandTag tag)
{
	switch (tag)
	{
		case CMDTAG_CREATE_USER_MAPPING:
		case CMDTAG_ALTER_USER_MAPPING:
		case CMDTAG_CREATE_SERVER:
		case CMDTAG_ALTER_SERVER:
		case CMDTAG_CREATE_SUBSCRIPTION:
		case CMDTAG_ALTER_SUBSCRIPTION:
			return true;
		default:
			return false;
	}
}

#define NOT_LOGGED_DETAIL "statement not logged: it may hold a password"

/*
 * The statement to log for the command running now: inside a migration the
 * runner's statement, else the statement's own text; NULL for a command
 * whose text may hold a password.
 */
static const char *
logged_statement(Node *parsetree, CommandTag tag)
{
	if (statement_may_hold_password(tag))
		return NULL;
	if (runner_current_version() != NULL)
		return runner_current_statement();
	return guard_statement_text(parsetree);
}

/* Parameters $1..$5: session role, current role, statement, version, tag. */
static int
log_params(Datum *values, char *nulls, CommandTag tag, const char *statement)
{
	const char *version = runner_current_version();

	values[0] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[2] = text_datum_or_null(statement);
	values[3] = text_datum_or_null(version);
	values[4] = CStringGetTextDatum(GetCommandTagName(tag));
	memset(nulls, ' ', 5);
	nulls[2] = statement ? ' ' : 'n';
	nulls[3] = version ? ' ' : 'n';
	nulls[5] = '\0';
	return 5;
}

#define LOG_NARGS 5
#define LOG_TYPES {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}
#define LOG_TYPES_DETAIL {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}

static EventTriggerData *
event_data(FunctionCallInfo fcinfo, const char *fn)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be called as an event trigger", fn)));
	return (EventTriggerData *) fcinfo->context;
}

/*---- the event triggers ---------------------------------------------------------*/

/*
 * The body of the ddl_command_end and sql_drop triggers: check the guard
 * with guard_query, then write the event's rows with plan (plan_01 into
 * a log still at 0.1).
 */
static void
audit_event(EventTriggerData *trigdata, OwnerPlan *plan, OwnerPlan *plan_01,
			const char *guard_query)
{
	Datum		values[LOG_NARGS + 1];
	char		nulls[LOG_NARGS + 2];
	const char *statement;

	guard_settings_ensure();
	/* a rehearsal writes nothing; the guard lets migrations through */
	if (effects_rehearsing() && runner_current_version() != NULL)
		return;
	if ((!audit_enabled && !guard_active()) || !audit_tables_exist())
		return;

	/* before SPI_connect: finding the text may need a subtransaction */
	statement = audit_enabled ? logged_statement(trigdata->parsetree, trigdata->tag) : NULL;
	SPI_connect();
	guard_check_event(guard_query, trigdata->tag);
	if (audit_enabled)
	{
		log_params(values, nulls, trigdata->tag, statement);
		/* $6: the detail, why the statement is missing */
		values[LOG_NARGS] = CStringGetTextDatum(NOT_LOGGED_DETAIL);
		nulls[LOG_NARGS] = statement_may_hold_password(trigdata->tag) ? ' ' : 'n';
		nulls[LOG_NARGS + 1] = '\0';
		owner_exec_plan(log_has_relation() ? plan : plan_01, values, nulls,
						SPI_OK_INSERT);
	}
	SPI_finish();
}

/* ddl_command_end: one row per object the command created or altered. */
Datum
smig_audit_ddl_command_end(PG_FUNCTION_ARGS)
{
	static OwnerPlan plan = {
		LOG_INSERT_RELATION("ddl_command_end")
		" c.object_type, c.object_identity, c.schema_name, $6, c.relation"
		" FROM" DDL_COMMANDS("c")
		" WHERE NOT c.in_extension AND NOT " SMIG_OWN("c"),
		LOG_NARGS + 1, LOG_TYPES_DETAIL, NULL
	};
	static OwnerPlan plan_01 = {
		LOG_INSERT("ddl_command_end")
		" c.object_type, c.object_identity, c.schema_name, $6"
		" FROM" DDL_COMMANDS("c")
		" WHERE NOT c.in_extension AND NOT " SMIG_OWN("c"),
		LOG_NARGS + 1, LOG_TYPES_DETAIL, NULL
	};

	EventTriggerData *trigdata = event_data(fcinfo, "smig_audit_ddl_command_end");

	effects_ddl_command_end(trigdata);
	audit_event(trigdata, &plan, &plan_01,
				"SELECT c.object_identity"
				" FROM" DDL_COMMANDS("c")
				" WHERE NOT c.in_extension"
				" AND (" MANAGED_SCHEMA("c") " OR " MANAGED_SCHEMA_OBJECT("c")
				"  OR " MANAGED_DEPENDENT("c") " OR " MANAGED_PINNED("c") ")"
				" LIMIT 1");
	PG_RETURN_VOID();
}

/* sql_drop: one row per dropped object, bar internal dependents. */
Datum
smig_audit_sql_drop(PG_FUNCTION_ARGS)
{
	static OwnerPlan plan = {
		LOG_INSERT_RELATION("sql_drop")
		" d.object_type, d.object_identity, d.schema_name, $6,"
		/* a dropped index: its table as logged when it was made or altered */
		"  CASE WHEN d.object_type = 'index' THEN"
		"   (SELECT l.relation FROM smig.ddl_log l"
		"     WHERE l.object_identity OPERATOR(pg_catalog.=) d.object_identity"
		"     AND l.relation IS NOT NULL ORDER BY l.id DESC LIMIT 1)"
		"  ELSE d.relation END"
		" FROM" DROPPED_OBJECTS("d")
		" WHERE (d.original OR d.normal) AND NOT " SMIG_OWN("d"),
		LOG_NARGS + 1, LOG_TYPES_DETAIL, NULL
	};
	static OwnerPlan plan_01 = {
		LOG_INSERT("sql_drop")
		" d.object_type, d.object_identity, d.schema_name, $6"
		" FROM" DROPPED_OBJECTS("d")
		" WHERE (d.original OR d.normal) AND NOT " SMIG_OWN("d"),
		LOG_NARGS + 1, LOG_TYPES_DETAIL, NULL
	};

	EventTriggerData *trigdata = event_data(fcinfo, "smig_audit_sql_drop");

	effects_sql_drop();
	audit_event(trigdata, &plan, &plan_01,
				"SELECT d.object_identity"
				" FROM" DROPPED_OBJECTS("d")
				" WHERE (d.original OR d.normal) AND NOT d.is_temporary"
				" AND (" MANAGED_SCHEMA("d") " OR " MANAGED_SCHEMA_OBJECT("d") ")"
				" LIMIT 1");
	PG_RETURN_VOID();
}

/* Why a table is rewritten, in words (AT_REWRITE_* bits). */
static char *
rewrite_reason(int reason)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (reason & AT_REWRITE_ALTER_PERSISTENCE)
		appendStringInfoString(&buf, ", persistence changed");
	if (reason & AT_REWRITE_DEFAULT_VAL)
		appendStringInfoString(&buf, ", a column default must be computed for every row");
	if (reason & AT_REWRITE_COLUMN_REWRITE)
		appendStringInfoString(&buf, ", a column's type or storage changed");
	if (reason & AT_REWRITE_ACCESS_METHOD)
		appendStringInfoString(&buf, ", access method changed");
	return psprintf("rewrite reason %d%s", reason, buf.data);
}

/* table_rewrite: which table, and why. */
Datum
smig_audit_table_rewrite(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata = event_data(fcinfo, "smig_audit_table_rewrite");
	static OwnerPlan plan = {
		LOG_INSERT("table_rewrite")
		" i.type, i.identity, i.schema, $6"
		" FROM pg_catalog.pg_identify_object('pg_catalog.pg_class'::pg_catalog.regclass,"
		"   pg_catalog.pg_event_trigger_table_rewrite_oid(), 0) i"
		" WHERE i.schema IS DISTINCT FROM 'smig'",
		LOG_NARGS + 1, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID}, NULL
	};
	Datum		values[LOG_NARGS + 1];
	char		nulls[LOG_NARGS + 2];
	const char *statement;
	char	   *reason = rewrite_reason(
		DatumGetInt32(DirectFunctionCall1(pg_event_trigger_table_rewrite_reason,
										  (Datum) 0)));

	guard_settings_ensure();
	effects_table_rewrite(DatumGetObjectId(DirectFunctionCall1(pg_event_trigger_table_rewrite_oid,
															   (Datum) 0)),
						  reason);
	if (effects_rehearsing() && runner_current_version() != NULL)
		PG_RETURN_VOID();
	if (!audit_enabled || !audit_tables_exist())
		PG_RETURN_VOID();

	statement = logged_statement(trigdata->parsetree, trigdata->tag);
	SPI_connect();
	log_params(values, nulls, trigdata->tag, statement);
	values[LOG_NARGS] = CStringGetTextDatum(reason);
	nulls[LOG_NARGS] = ' ';
	nulls[LOG_NARGS + 1] = '\0';
	owner_exec_plan(&plan, values, nulls, SPI_OK_INSERT);
	SPI_finish();
	PG_RETURN_VOID();
}

/*---- REASSIGN OWNED (from the ProcessUtility_hook) ------------------------------*/

/*
 * REASSIGN OWNED fires no event trigger: the hook calls this before the
 * command runs (the owners are still the old ones then; the rows go with
 * the transaction if the command fails).  One row per object it changes,
 * or one row naming no object if it changes none.
 */
void
audit_log_reassign_owned(Datum roles, const char *newrole)
{
	static OwnerPlan plan = {
		LOG_INSERT("utility")
		" o.object_type, o.object_identity, o.schema_name, $8"
		" FROM" OWNED_OBJECTS("o"),
		LOG_NARGS + 3, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDARRAYOID, OIDOID, TEXTOID}, NULL
	};
	static OwnerPlan none = {
		LOG_INSERT("utility") " NULL, NULL, NULL, $8",
		LOG_NARGS + 3, {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDARRAYOID, OIDOID, TEXTOID}, NULL
	};
	Datum		values[LOG_NARGS + 3];
	char		nulls[LOG_NARGS + 4];
	const char *statement;

	guard_settings_ensure();
	if (!audit_enabled || !audit_tables_exist() ||
		(effects_rehearsing() && runner_current_version() != NULL))
		return;
	/*
	 * A log still at 0.1 takes no event 'utility' (ALTER EXTENSION smig
	 * UPDATE).  Looked up in the catalog directly: the caller may have no
	 * USAGE on schema smig, which a lookup by name would check.
	 */
	if (!OidIsValid(GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
									CStringGetDatum("_guard_ddl_command_start"),
									PointerGetDatum(buildoidvector(NULL, 0)),
									ObjectIdGetDatum(get_namespace_oid("smig", false)))))
		return;

	statement = logged_statement(NULL, CMDTAG_REASSIGN_OWNED);
	SPI_connect();
	log_params(values, nulls, CMDTAG_REASSIGN_OWNED, statement);
	values[LOG_NARGS] = roles;
	values[LOG_NARGS + 1] = ObjectIdGetDatum(MyDatabaseId);
	values[LOG_NARGS + 2] = CStringGetTextDatum(psprintf("new owner %s", newrole));
	memcpy(nulls + LOG_NARGS, "   ", 4);
	owner_exec_plan(&plan, values, nulls, SPI_OK_INSERT);
	if (SPI_processed == 0)
		owner_exec_plan(&none, values, nulls, SPI_OK_INSERT);
	SPI_finish();
}

/*---- append-only logs --------------------------------------------------------*/

/*
 * BEFORE UPDATE/DELETE (row) and TRUNCATE (statement) trigger of
 * smig.history and smig.ddl_log: they are append-only.  The one exception
 * is smig.trim_ddl_log() deleting from smig.ddl_log.
 */
Datum
smig_refuse_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *op;
	const char *table;

	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smig_refuse_change: not called as a trigger");
	table = RelationGetRelationName(trigdata->tg_relation);
	if (trimming && TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) &&
		strcmp(table, "ddl_log") == 0)
		return PointerGetDatum(trigdata->tg_trigtuple);

	op = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ? "update"
		: TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) ? "delete" : "truncate";
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("cannot %s smig.%s", op, table),
			 errdetail("smig.%s is append-only.", table),
			 strcmp(table, "ddl_log") == 0
			 ? errhint("Remove old entries with smig.trim_ddl_log(older_than).")
			 : 0));
	PG_RETURN_NULL();			/* not reached */
}

/*
 * smig.trim_ddl_log(older_than timestamptz) returns bigint: delete the log
 * entries written before older_than, and log that it did.
 */
Datum
smig_trim_ddl_log(PG_FUNCTION_ARGS)
{
	TimestampTz cutoff = PG_GETARG_TIMESTAMPTZ(0);
	Oid			types[1] = {TIMESTAMPTZOID};
	Datum		values[1];
	uint64		removed;
	const char *statement;

	action_check_writable("trim the DDL log");

	/*
	 * No statement text: the running utility statement, if any, is not
	 * this call but whatever encloses it (a DO block, with its neighbours);
	 * the row's detail names the cutoff and the count.
	 */
	statement = NULL;
	values[0] = TimestampTzGetDatum(cutoff);

	SPI_connect();
	trimming = true;
	PG_TRY();
	{
		owner_exec("DELETE FROM smig.ddl_log WHERE logged_at < $1",
				   1, types, values, NULL, SPI_OK_DELETE);
	}
	PG_FINALLY();
	{
		trimming = false;
	}
	PG_END_TRY();
	removed = SPI_processed;

	/* the trim is itself an entry of the log */
	{
		Oid			ltypes[5] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
		Datum		lvalues[5];
		char		lnulls[6] = "     ";

		lvalues[0] = CStringGetTextDatum(GetUserNameFromId(GetSessionUserId(), false));
		lvalues[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
		lvalues[2] = text_datum_or_null(statement);
		lnulls[2] = statement ? ' ' : 'n';
		lvalues[3] = TimestampTzGetDatum(cutoff);
		lvalues[4] = CStringGetTextDatum(psprintf(UINT64_FORMAT, removed));
		owner_exec("INSERT INTO smig.ddl_log (txid, event, session_role, role,"
				   " statement, command_tag, object_type, object_identity,"
				   " schema_name, detail)"
				   " VALUES (pg_catalog.pg_current_xact_id(), 'trim', $1, $2, $3,"
				   "  'TRIM', 'table', 'smig.ddl_log', 'smig',"
				   "  pg_catalog.format('removed %s entries logged before %s', $5, $4))",
				   5, ltypes, lvalues, lnulls, SPI_OK_INSERT);
	}
	SPI_finish();

	ereport(NOTICE,
			(errmsg("removed " UINT64_FORMAT " entries from smig.ddl_log", removed)));
	PG_RETURN_INT64((int64) removed);
}
