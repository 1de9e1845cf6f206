/*-------------------------------------------------------------------------
 * guard.c
 *	  The guard (smig.guard = off | warn | error): DDL that no migration
 *	  runs, on objects in a managed schema, is refused (error) or reported
 *	  (warn).  Also the refusal of DROP EXTENSION smig while its history
 *	  and audit log hold rows, and the text of the running statement.
 *
 * A command is judged at one of two moments:
 *
 *	 after it ran, from the rows the audit triggers see (ddl_command_end,
 *	 sql_drop: guard_check_event, called by audit.c); the transaction is
 *	 then rolled back, which undoes ordinary DDL.  A trigger, rule or
 *	 policy counts in the schema of its table, and so does a table
 *	 (temporary too) inheriting from a managed table or extended
 *	 statistics on one, and a temporary object that depends on a managed
 *	 relation (guard.h: DDL_COMMANDS, MANAGED_DEPENDENT, MANAGED_PINNED);
 *
 *	 before it starts, from its parse tree (guard_judge), for what cannot
 *	 be judged or undone afterwards: the commands that commit internally
 *	 (CREATE/DROP INDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY, REINDEX
 *	 CONCURRENTLY), commands whose objects have no schema in the audit
 *	 rows (GRANT/REVOKE, ALTER DEFAULT PRIVILEGES, extensions, casts,
 *	 publications), REASSIGN OWNED, and DROP EXTENSION smig.  The C event
 *	 trigger on ddl_command_start judges them, and so does the
 *	 ProcessUtility_hook: PostgreSQL 15 fires no event trigger for REINDEX
 *	 or REASSIGN OWNED, so only the hook sees those, and only in backends
 *	 where smig.so is loaded before they run (always, when smig is in
 *	 shared_preload_libraries).  A statement the hook judged is not judged
 *	 again by the trigger.
 *
 * Settings and a lazily loaded library.  smig.guard is PGC_SUSET.  When
 * smig.so is not preloaded, the settings a backend got at connection
 * (ALTER DATABASE ... SET, PGOPTIONS) are placeholders until the library
 * defines the real variables; a non-superuser's placeholder is then
 * rejected, and with it went the database's setting, which it had
 * replaced.  So once per backend, inside a transaction, the smig.* entries
 * of the configuration files and of pg_db_role_setting are applied again at
 * their own sources, as the server and the connection did (postinit.c,
 * process_settings): a lower source never overrides a value accepted from
 * a higher one (a superuser's PGOPTIONS).
 *
 * The statement-text stack.  The hook pushes the statement it runs (its
 * place in the query string: PlannedStmt stmt_location and stmt_len) and
 * pops it, on error too; the audit triggers log that text.  The statement
 * that loaded smig.so is not on the stack: its text is found by parsing
 * debug_query_string again and matching the event's parse tree.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_db_role_setting.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "audit.h"
#include "effects.h"
#include "guard.h"
#include "ownersql.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(smig_guard_ddl_command_start);

/*---- settings ---------------------------------------------------------------*/

typedef enum GuardMode
{
	GUARD_OFF,
	GUARD_WARN,
	GUARD_ERROR
} GuardMode;

static const struct config_enum_entry guard_options[] = {
	{"off", GUARD_OFF, false},
	{"warn", GUARD_WARN, false},
	{"error", GUARD_ERROR, false},
	{NULL, 0, false}
};

static int	guard_mode = GUARD_OFF;
static bool allow_drop_extension = false;

/* smig.so was loaded by shared_preload_libraries (so the hook sees all). */
static bool preloaded = false;

/*
 * smig.so was loaded when this backend started, before its first command
 * (session_preload_libraries): the hook sees all of this session.
 */
static bool loaded_at_session_start = false;

/*
 * The smig.* settings of the configuration files and of pg_db_role_setting
 * are in force in this backend.
 */
static bool role_settings_applied = false;

/* The "not preloaded" warning was given in this backend. */
static bool warned_not_preloaded = false;

static ProcessUtility_hook_type prev_ProcessUtility = NULL;

static void guard_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
								 bool readOnlyTree,
								 ProcessUtilityContext context,
								 ParamListInfo params,
								 QueryEnvironment *queryEnv,
								 DestReceiver *dest, QueryCompletion *qc);
static void guard_apply_role_settings(void);

void
guard_init(void)
{
	DefineCustomEnumVariable("smig.guard",
							 "Refuses (error) or reports (warn) DDL that no migration runs.",
							 "Applies to objects outside system schemas. Only superusers can change this setting.",
							 &guard_mode,
							 GUARD_OFF,
							 guard_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("smig.allow_drop_extension",
							 "Allows DROP EXTENSION smig while smig.history or smig.ddl_log holds rows.",
							 "Dropping the extension deletes the history and the audit log. Only superusers can change this setting.",
							 &allow_drop_extension,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	preloaded = process_shared_preload_libraries_in_progress;
	/*
	 * session_preload_libraries loads at the end of InitPostgres, still in
	 * InitProcessing mode; LOAD, a function call or an event trigger load
	 * later, in NormalProcessing.
	 */
	loaded_at_session_start = !preloaded && IsInitProcessingMode() &&
		!InitializingParallelWorker;

	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = guard_ProcessUtility;

	/*
	 * Preloaded, the connection applied every setting to the real
	 * variables; a parallel worker gets the leader's values.
	 */
	if (preloaded || InitializingParallelWorker)
		role_settings_applied = true;
	else
		guard_apply_role_settings();
}

/* The settings of one pg_db_role_setting row, smig.* only, at source. */
static void
apply_role_setting_row(Snapshot snapshot, Relation rel, Oid databaseid,
					   Oid roleid, GucSource source)
{
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;

	ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(databaseid));
	ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole,
				BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(roleid));
	scan = systable_beginscan(rel, DbRoleSettingDatidRolidIndexId, true,
							  snapshot, 2, keys);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, Anum_pg_db_role_setting_setconfig,
									 RelationGetDescr(rel), &isnull);
		Datum	   *elems;
		int			n;

		if (isnull)
			continue;
		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, NULL, &n);
		for (int i = 0; i < n; i++)
		{
			char	   *s = TextDatumGetCString(elems[i]);
			char	   *name;
			char	   *value;

			if (strncmp(s, "smig.", 5) != 0)
				continue;
			ParseLongOption(s, &name, &value);
			/* only smig's own variables; a stale entry is skipped */
			if (value != NULL && GetConfigOption(name, true, false) != NULL)
				(void) set_config_option(name, value, PGC_SUSET, source,
										 GUC_ACTION_SET, true, WARNING, false);
		}
	}
	systable_endscan(scan);
}

/*
 * The smig.* settings of postgresql.conf and postgresql.auto.conf (ALTER
 * SYSTEM), at PGC_S_FILE: a non-superuser's PGOPTIONS replaced them too
 * while they were placeholders.  The files are read again (as a reload
 * would); one that cannot be read is skipped.
 */
static void
apply_config_file_settings(void)
{
	ConfigVariable *head = NULL;
	ConfigVariable *tail = NULL;

	if (ConfigFileName == NULL ||
		!ParseConfigFile(ConfigFileName, true, NULL, 0, 0, DEBUG1, &head, &tail) ||
		!ParseConfigFile(PG_AUTOCONF_FILENAME, false, NULL, 0, 0, DEBUG1, &head, &tail))
	{
		FreeConfigVariables(head);
		return;
	}
	for (ConfigVariable *v = head; v != NULL; v = v->next)
	{
		if (v->ignore || v->errmsg != NULL || pg_strncasecmp(v->name, "smig.", 5) != 0 ||
			GetConfigOption(v->name, true, false) == NULL)
			continue;
		(void) set_config_option(v->name, v->value, PGC_SUSET, PGC_S_FILE,
								 GUC_ACTION_SET, true, WARNING, false);
	}
	FreeConfigVariables(head);
}

/*
 * Apply the smig.* settings of the configuration files and then the
 * entries of pg_db_role_setting once, in the order and at the sources of
 * process_settings; needs a transaction, so it waits for one if there is
 * none now.
 */
static void
guard_apply_role_settings(void)
{
	Relation	rel;
	Snapshot	snapshot;
	Oid			roleid;

	if (role_settings_applied || !IsTransactionState() ||
		!OidIsValid(MyDatabaseId))
		return;

	apply_config_file_settings();
	roleid = GetSessionUserId();
	rel = table_open(DbRoleSettingRelationId, AccessShareLock);
	snapshot = RegisterSnapshot(GetCatalogSnapshot(DbRoleSettingRelationId));
	apply_role_setting_row(snapshot, rel, MyDatabaseId, roleid, PGC_S_DATABASE_USER);
	apply_role_setting_row(snapshot, rel, InvalidOid, roleid, PGC_S_USER);
	apply_role_setting_row(snapshot, rel, MyDatabaseId, InvalidOid, PGC_S_DATABASE);
	apply_role_setting_row(snapshot, rel, InvalidOid, InvalidOid, PGC_S_GLOBAL);
	UnregisterSnapshot(snapshot);
	table_close(rel, AccessShareLock);
	role_settings_applied = true;
}

void
guard_settings_ensure(void)
{
	guard_apply_role_settings();
}

/*
 * The guard's mode now, with the configuration files' and
 * pg_db_role_setting's settings in force; the first time the guard is on
 * in a backend that did not preload smig, a WARNING says what it misses.
 */
static int
current_guard_mode(void)
{
	guard_apply_role_settings();
	if (guard_mode != GUARD_OFF && !preloaded && !loaded_at_session_start &&
		!warned_not_preloaded)
	{
		warned_not_preloaded = true;
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg("smig is not loaded through shared_preload_libraries"),
				 errdetail("REINDEX and REASSIGN OWNED fire no event trigger: smig.guard sees them only in sessions that loaded smig before they ran."),
				 errhint("Add smig to shared_preload_libraries and restart the server, or have a superuser run ALTER DATABASE ... SET session_preload_libraries = 'smig' (for new sessions).")));
	}
	return guard_mode;
}

bool
guard_active(void)
{
	guard_apply_role_settings();
	return guard_mode != GUARD_OFF;
}

/*---- refusing -----------------------------------------------------------------*/

/* Refuse (error) or report (warn) tag on identity (may be NULL). */
static void
guard_refuse(int mode, CommandTag tag, const char *identity)
{
	ereport(mode == GUARD_ERROR ? ERROR : WARNING,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 identity
			 ? errmsg("%s on \"%s\" is not a migration",
					  GetCommandTagName(tag), identity)
			 : errmsg("%s is not a migration", GetCommandTagName(tag)),
			 errdetail(mode == GUARD_ERROR
					   ? "smig.guard is \"error\": schema changes must come from a migration."
					   : "smig.guard is \"warn\": schema changes should come from a migration."),
			 errhint("Register the change with smig.register() or smig.load_dir() and apply it with SELECT smig.upgrade_head(); a superuser may SET smig.guard = off for the session.")));
}

void
guard_check_event(const char *query, CommandTag tag)
{
	int			mode = current_guard_mode();

	if (mode == GUARD_OFF || runner_current_version() != NULL)
		return;
	/* refreshing a materialized view is routine work, not a schema change */
	if (tag == CMDTAG_REFRESH_MATERIALIZED_VIEW)
		return;
	owner_exec(query, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return;
	guard_refuse(mode, tag, spi_text(0, 1));
}

/*---- judging parse trees --------------------------------------------------------*/

/*
 * Is nsp a schema the guard protects?  The C twin of MANAGED_SCHEMA: not
 * a system, TOAST or temporary schema, not information_schema or smig.
 */
static bool
namespace_is_managed(Oid nsp)
{
	char	   *name;

	if (!OidIsValid(nsp) || IsCatalogNamespace(nsp) || IsToastNamespace(nsp) ||
		isAnyTempNamespace(nsp))
		return false;
	name = get_namespace_name(nsp);
	return name != NULL && strcmp(name, "information_schema") != 0 &&
		strcmp(name, "smig") != 0;
}

/* A schema by name: the name if the guard protects it, else NULL. */
static const char *
managed_schema_name(const char *name)
{
	return namespace_is_managed(get_namespace_oid(name, true)) ? name : NULL;
}

/* A relation by RangeVar: its qualified name if managed, else NULL. */
static const char *
managed_relation(RangeVar *rv)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);
	Oid			nsp;

	if (!OidIsValid(relid))
		return NULL;
	nsp = get_rel_namespace(relid);
	if (!namespace_is_managed(nsp))
		return NULL;
	return quote_qualified_identifier(get_namespace_name(nsp), get_rel_name(relid));
}

/* The schema of type typid. */
static Oid
type_namespace(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	return nsp;
}

/*
 * GRANT/REVOKE: the first object in a managed schema (or a managed schema
 * itself, or ALL ... IN SCHEMA of one), else NULL.  Objects that do not
 * exist are left to the command's own error.
 */
static const char *
managed_grant_target(GrantStmt *stmt)
{
	ListCell   *lc;

	if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
	{
		foreach(lc, stmt->objects)
		{
			const char *name = managed_schema_name(strVal(lfirst(lc)));

			if (name)
				return name;
		}
		return NULL;
	}
	if (stmt->targtype != ACL_TARGET_OBJECT)
		return NULL;

	foreach(lc, stmt->objects)
	{
		Node	   *obj = lfirst(lc);
		const char *found = NULL;

		switch (stmt->objtype)
		{
			case OBJECT_TABLE:
			case OBJECT_SEQUENCE:
				found = managed_relation(castNode(RangeVar, obj));
				break;
			case OBJECT_FUNCTION:
			case OBJECT_PROCEDURE:
			case OBJECT_ROUTINE:
				{
					Oid			fn = LookupFuncWithArgs(stmt->objtype,
														castNode(ObjectWithArgs, obj),
														true);

					if (OidIsValid(fn) && namespace_is_managed(get_func_namespace(fn)))
						found = format_procedure(fn);
				}
				break;
			case OBJECT_TYPE:
			case OBJECT_DOMAIN:
				{
					TypeName   *tn = makeTypeNameFromNameList(castNode(List, obj));
					Oid			typid = LookupTypeNameOid(NULL, tn, true);

					if (OidIsValid(typid) && namespace_is_managed(type_namespace(typid)))
						found = format_type_be(typid);
				}
				break;
			case OBJECT_SCHEMA:
				found = managed_schema_name(strVal(obj));
				break;
			default:
				/* databases, tablespaces, languages, servers: no schema */
				break;
		}
		if (found)
			return found;
	}
	return NULL;
}

/*
 * ALTER DEFAULT PRIVILEGES: without IN SCHEMA it covers every schema; with
 * it, the first managed one.  Returns "" for "every schema".
 */
static const char *
managed_default_privileges(AlterDefaultPrivilegesStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);
		ListCell   *s;

		if (strcmp(opt->defname, "schemas") != 0)
			continue;
		foreach(s, (List *) opt->arg)
		{
			const char *name = managed_schema_name(strVal(lfirst(s)));

			if (name)
				return name;
		}
		return NULL;
	}
	return "";
}

/* REINDEX ... CONCURRENTLY: the managed object it would rebuild, or NULL. */
static const char *
managed_reindex_concurrently(ReindexStmt *stmt)
{
	ListCell   *lc;
	bool		concurrently = false;

	foreach(lc, stmt->params)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "concurrently") == 0)
			concurrently = defGetBoolean(opt);
	}
	if (!concurrently)
		return NULL;
	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
		case REINDEX_OBJECT_TABLE:
			return managed_relation(stmt->relation);
		case REINDEX_OBJECT_SCHEMA:
			return managed_schema_name(stmt->name);
		default:
			/* a database: every managed schema */
			return get_database_name(MyDatabaseId);
	}
}

/* The roles of REASSIGN OWNED BY as an oid[] Datum. */
static Datum
role_oid_array(List *roles)
{
	Datum	   *oids = palloc(sizeof(Datum) * Max(list_length(roles), 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, roles)
	{
		Oid			r = get_rolespec_oid(lfirst_node(RoleSpec, lc), true);

		if (OidIsValid(r))
			oids[n++] = ObjectIdGetDatum(r);
	}
	return PointerGetDatum(construct_array(oids, n, OIDOID, sizeof(Oid), true,
										   TYPALIGN_INT));
}

/* REASSIGN OWNED: the first object it would change in a managed schema. */
static const char *
managed_owned_object(ReassignOwnedStmt *stmt)
{
	Oid			types[7] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, OIDARRAYOID, OIDOID};
	Datum		values[7] = {0};
	const char *nulls = "nnnnn  ";
	const char *found = NULL;
	MemoryContext cxt = CurrentMemoryContext;

	values[5] = role_oid_array(stmt->roles);
	values[6] = ObjectIdGetDatum(MyDatabaseId);
	SPI_connect();
	owner_exec("SELECT o.object_identity FROM" OWNED_OBJECTS("o")
			   " AND (" MANAGED_SCHEMA("o") " OR " MANAGED_SCHEMA_OBJECT("o") ")"
			   " LIMIT 1",
			   7, types, values, nulls, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		char	   *id = spi_text(0, 1);

		found = id ? MemoryContextStrdup(cxt, id) : "?";
	}
	SPI_finish();
	return found;
}

/* The type names of a cast, "(source AS target)". */
static char *
cast_identity(TypeName *source, TypeName *target)
{
	return psprintf("(%s AS %s)", TypeNameToString(source), TypeNameToString(target));
}

/*
 * DROP EXTENSION smig (or DROP SCHEMA smig CASCADE, which takes it along):
 * refused, whatever smig.guard says, while the history or the audit log
 * holds rows, unless a superuser set smig.allow_drop_extension.
 */
static void
guard_check_drop_smig(DropStmt *stmt)
{
	ListCell   *lc;
	bool		drops_smig = false;
	int64		history_rows;
	int64		log_rows;

	if (stmt->removeType != OBJECT_EXTENSION &&
		!(stmt->removeType == OBJECT_SCHEMA && stmt->behavior == DROP_CASCADE))
		return;
	foreach(lc, stmt->objects)
	{
		if (IsA(lfirst(lc), String) && strcmp(strVal(lfirst(lc)), "smig") == 0)
			drops_smig = true;
	}
	if (!drops_smig || !audit_tables_exist())
		return;

	SPI_connect();
	owner_exec("SELECT (SELECT pg_catalog.count(*) FROM smig.history),"
			   " (SELECT pg_catalog.count(*) FROM smig.ddl_log)",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	history_rows = pg_strtoint64(spi_text(0, 1));
	log_rows = pg_strtoint64(spi_text(0, 2));
	SPI_finish();

	if (history_rows == 0 && log_rows == 0)
		return;
	guard_apply_role_settings();
	if (allow_drop_extension)
	{
		ereport(LOG,
				(errmsg("extension \"smig\" dropped with " INT64_FORMAT " history rows and " INT64_FORMAT " audit log rows",
						history_rows, log_rows)));
		return;
	}

	/*
	 * 55000: the drop is refused because of the extension's state (rows in
	 * its logs) and allowed by a setting; 2BP01 would point to CASCADE,
	 * which does not help here.
	 */
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot drop extension \"smig\" while its history or audit log holds rows"),
			 errdetail("Dropping it would delete every row of smig.history (now " INT64_FORMAT ") and of smig.ddl_log (now " INT64_FORMAT ").",
					   history_rows, log_rows),
			 errhint("Keep them first with pg_dump --table='smig.*'; then a superuser can SET smig.allow_drop_extension = on for the session.")));
}

/*
 * Judge a statement before it starts.  Cheap for everything but the
 * handful of statement types it knows.
 */
static void
guard_judge(Node *parsetree)
{
	const char *found = NULL;
	bool		commits_internally = false;
	int			mode;
	ListCell   *lc;

	if (IsA(parsetree, DropStmt))
		guard_check_drop_smig((DropStmt *) parsetree);

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
		case T_DropStmt:
		case T_AlterTableStmt:
		case T_ReindexStmt:
		case T_GrantStmt:
		case T_AlterDefaultPrivilegesStmt:
		case T_CreateExtensionStmt:
		case T_AlterExtensionStmt:
		case T_AlterExtensionContentsStmt:
		case T_AlterObjectSchemaStmt:
		case T_CreateCastStmt:
		case T_CreatePublicationStmt:
		case T_AlterPublicationStmt:
		case T_RenameStmt:
		case T_AlterOwnerStmt:
		case T_ReassignOwnedStmt:
			break;
		default:
			return;
	}
	mode = current_guard_mode();
	if (mode == GUARD_OFF || runner_current_version() != NULL)
		return;
	/* preloaded, the hook also runs in databases without smig */
	if (!audit_tables_exist())
		return;

	switch (nodeTag(parsetree))
	{
		case T_IndexStmt:
			if (((IndexStmt *) parsetree)->concurrent)
			{
				commits_internally = true;
				found = managed_relation(((IndexStmt *) parsetree)->relation);
			}
			break;
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;

				foreach(lc, stmt->objects)
				{
					if (stmt->removeType == OBJECT_INDEX && stmt->concurrent)
					{
						commits_internally = true;
						found = managed_relation(makeRangeVarFromNameList(lfirst(lc)));
					}
					else if (stmt->removeType == OBJECT_EXTENSION &&
							 strcmp(strVal(lfirst(lc)), "smig") != 0)
						found = strVal(lfirst(lc));
					else if (stmt->removeType == OBJECT_PUBLICATION)
						found = strVal(lfirst(lc));
					else if (stmt->removeType == OBJECT_CAST)
						found = cast_identity(linitial((List *) lfirst(lc)),
											  lsecond((List *) lfirst(lc)));
					if (found)
						break;
				}
			}
			break;
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;

				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition &&
						((PartitionCmd *) cmd->def)->concurrent)
					{
						commits_internally = true;
						found = managed_relation(stmt->relation);
					}
				}
			}
			break;
		case T_ReindexStmt:
			found = managed_reindex_concurrently((ReindexStmt *) parsetree);
			break;
		case T_GrantStmt:
			found = managed_grant_target((GrantStmt *) parsetree);
			break;
		case T_AlterDefaultPrivilegesStmt:
			found = managed_default_privileges((AlterDefaultPrivilegesStmt *) parsetree);
			break;
		case T_CreateExtensionStmt:
			found = ((CreateExtensionStmt *) parsetree)->extname;
			break;
		case T_AlterExtensionStmt:
			found = ((AlterExtensionStmt *) parsetree)->extname;
			break;
		case T_AlterExtensionContentsStmt:
			found = ((AlterExtensionContentsStmt *) parsetree)->extname;
			break;
		case T_AlterObjectSchemaStmt:
			if (((AlterObjectSchemaStmt *) parsetree)->objectType == OBJECT_EXTENSION)
				found = strVal(((AlterObjectSchemaStmt *) parsetree)->object);
			break;
		case T_CreateCastStmt:
			found = cast_identity(((CreateCastStmt *) parsetree)->sourcetype,
								  ((CreateCastStmt *) parsetree)->targettype);
			break;
		case T_CreatePublicationStmt:
			found = ((CreatePublicationStmt *) parsetree)->pubname;
			break;
		case T_AlterPublicationStmt:
			found = ((AlterPublicationStmt *) parsetree)->pubname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) parsetree)->renameType == OBJECT_PUBLICATION)
				found = strVal(((RenameStmt *) parsetree)->object);
			break;
		case T_AlterOwnerStmt:
			if (((AlterOwnerStmt *) parsetree)->objectType == OBJECT_PUBLICATION)
				found = strVal(((AlterOwnerStmt *) parsetree)->object);
			break;
		case T_ReassignOwnedStmt:
			found = managed_owned_object((ReassignOwnedStmt *) parsetree);
			break;
		default:
			break;
	}

	/* smig itself is no other extension */
	if (found && (IsA(parsetree, CreateExtensionStmt) ||
				  IsA(parsetree, AlterExtensionStmt) ||
				  IsA(parsetree, AlterExtensionContentsStmt) ||
				  IsA(parsetree, AlterObjectSchemaStmt)) &&
		strcmp(found, "smig") == 0)
		found = NULL;

	/*
	 * With warn, the audit triggers report the commands that commit
	 * internally after they ran (REINDEX aside: no trigger sees it).
	 */
	if (commits_internally && mode != GUARD_ERROR)
		return;
	if (found)
		guard_refuse(mode, CreateCommandTag(parsetree), *found ? found : NULL);
}

/*---- the statement-text stack and the hook ------------------------------------------*/

/* One utility statement running now: its place in its query string. */
typedef struct RunningStatement
{
	const char *query;
	int			location;		/* -1: the whole string */
	int			len;			/* 0: the rest of the string */
	bool		judged;			/* guard_judge has seen it */
	struct RunningStatement *outer;
} RunningStatement;

static RunningStatement *running = NULL;

/* The text at location/len in query, without surrounding white space. */
static char *
statement_slice(const char *query, int location, int len)
{
	if (location > 0 && location <= (int) strlen(query))
		query += location;
	if (len <= 0 || len > (int) strlen(query))
		len = strlen(query);
	while (len > 0 && isspace((unsigned char) *query))
	{
		query++;
		len--;
	}
	while (len > 0 && isspace((unsigned char) query[len - 1]))
		len--;
	return pnstrdup(query, len);
}

/*
 * The statement that loaded smig.so ran before the hook did: parse
 * debug_query_string again and take the statement equal to parsetree.
 * Nothing else: a query string of one statement that is not parsetree
 * (a DO block, a function call that runs DDL) holds the event's statement
 * among others, perhaps with a password, so the text is NULL then, as
 * after a parse error (a setting changed by an earlier statement of the
 * string); never the whole string.
 */
static char *
statement_from_query_string(Node *parsetree)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	const char *volatile query = debug_query_string;
	char	   *volatile result = NULL;

	if (query == NULL)
		return NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		List	   *raw = raw_parser(query, RAW_PARSE_DEFAULT);
		ListCell   *lc;

		foreach(lc, raw)
		{
			RawStmt    *rs = lfirst_node(RawStmt, lc);

			if (parsetree != NULL && equal(rs->stmt, parsetree))
			{
				result = statement_slice(query, rs->stmt_location, rs->stmt_len);
				break;
			}
		}
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		result = NULL;
	}
	PG_END_TRY();
	return result;
}

char *
guard_statement_text(Node *parsetree)
{
	if (running != NULL)
		return statement_slice(running->query, running->location, running->len);
	return statement_from_query_string(parsetree);
}

/*
 * The ProcessUtility_hook: judge the statement (once), keep its text on
 * the stack while it runs, and log REASSIGN OWNED, which no event trigger
 * sees.
 */
static void
guard_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
					 bool readOnlyTree, ProcessUtilityContext context,
					 ParamListInfo params, QueryEnvironment *queryEnv,
					 DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	RunningStatement entry;

	entry.query = queryString;
	entry.location = pstmt->stmt_location;
	entry.len = pstmt->stmt_len;
	entry.judged = false;
	entry.outer = running;
	running = &entry;

	PG_TRY();
	{
		/* as event triggers, judge whole statements, not subcommands */
		if (context != PROCESS_UTILITY_SUBCOMMAND && IsTransactionState())
		{
			guard_judge(parsetree);
			entry.judged = true;
			/* TRUNCATE fires no event trigger either */
			if (IsA(parsetree, TruncateStmt))
				effects_truncate((TruncateStmt *) parsetree);
			if (IsA(parsetree, ReassignOwnedStmt))
				audit_log_reassign_owned(role_oid_array(((ReassignOwnedStmt *) parsetree)->roles),
										 get_rolespec_name(((ReassignOwnedStmt *) parsetree)->newrole));
		}

		if (prev_ProcessUtility)
			prev_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		running = entry.outer;
	}
	PG_END_TRY();
}

/*---- the ddl_command_start event trigger ---------------------------------------------*/

/* ddl_command_start: judge the statement unless the hook already did. */
Datum
smig_guard_ddl_command_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function %s must be called as an event trigger",
						"smig_guard_ddl_command_start")));
	trigdata = (EventTriggerData *) fcinfo->context;
	if (running == NULL || !running->judged)
		guard_judge(trigdata->parsetree);
	PG_RETURN_VOID();
}
