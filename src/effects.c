/*-------------------------------------------------------------------------
 * effects.c
 *	  What the migration running now does, as the audit triggers see it,
 *	  and the destructive-change gate, smig.destructive, that judges it.
 *
 * While a migration's up script runs, the ddl_command_end, sql_drop and
 * table_rewrite triggers (audit.c) hand their events here first.  This
 * module keeps, per migration, what it created, altered, dropped and
 * rewrote, what reads every existing row of a table (a constraint
 * validated, NOT NULL set, an index built), and why it is destructive:
 *	 - it drops an object it did not create: a table, column, index, view,
 *	   function, type, schema, constraint, trigger, policy... (not a
 *	   column default: SET DEFAULT replaces one by dropping it);
 *	 - it rewrites a table it did not create (table_rewrite);
 *	 - it changes the type of a column of a table it did not create
 *	   (ALTER COLUMN TYPE, rewriting or not: the values may change).
 * An object counts as created by the migration when a CREATE command of
 * the same migration reported it, or belongs to a table one did.
 *
 * The gate: with smig.destructive = warn or refuse, a destructive change
 * by an up script that does not declare it ("-- smig:destructive" or the
 * option {"destructive": true}) is reported with a WARNING, or refused
 * with SQLSTATE SM003 (the migration's transaction, and with it the whole
 * upgrade, rolls back).  Down scripts are destructive by nature and are
 * not judged.  smig.destructive is PGC_SUSET, as smig.guard: a deployer
 * who may run migrations cannot SET the gate off for itself; a superuser
 * sets it, per database with ALTER DATABASE ... SET.
 *
 * With the default (allow) and no rehearsal, the triggers do no work here.
 * A rehearsal (rehearse.c) captures every migration, declared or not, and
 * the audit triggers then write nothing (audit.c asks effects_rehearsing).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "commands/event_trigger.h"
#include "commands/tablecmds.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "effects.h"
#include "guard.h"
#include "ownersql.h"

typedef enum DestructiveMode
{
	DESTRUCTIVE_ALLOW,
	DESTRUCTIVE_WARN,
	DESTRUCTIVE_REFUSE
} DestructiveMode;

static const struct config_enum_entry destructive_options[] = {
	{"allow", DESTRUCTIVE_ALLOW, false},
	{"warn", DESTRUCTIVE_WARN, false},
	{"refuse", DESTRUCTIVE_REFUSE, false},
	{NULL, 0, false}
};

static int	destructive_mode = DESTRUCTIVE_ALLOW;

/*
 * smig.destructive as the running migration began (effects_begin): the
 * gate judges by it, so that a RESET ALL in the migration (which resets
 * superuser-only settings too, for anyone) cannot turn the gate off.
 */
static int	gate_mode = DESTRUCTIVE_ALLOW;

/* the migration running now, or NULL */
static const RunnerScript *current = NULL;
static bool rehearsing = false;

/* what it did (in effects_cxt) and the identities it created */
static MemoryContext effects_cxt = NULL;
static Effects effects;
static List *created_ids = NIL;
static List *candidates = NIL;	/* of struct Candidate, below */

void
effects_init(void)
{
	DefineCustomEnumVariable("smig.destructive",
							 "Refuses (refuse) or reports (warn) a migration's undeclared destructive change.",
							 "Drops, table rewrites and column type changes count; a migration declares them with \"-- smig:destructive\". Only superusers can change this setting.",
							 &destructive_mode,
							 DESTRUCTIVE_ALLOW,
							 destructive_options,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
}

void
effects_begin(const RunnerScript *script)
{
	if (effects_cxt == NULL)
		effects_cxt = AllocSetContextCreate(TopMemoryContext, "smig effects",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(effects_cxt);
	memset(&effects, 0, sizeof(effects));
	created_ids = NIL;
	candidates = NIL;
	current = script;
	gate_mode = destructive_mode;
}

void
effects_resume(const RunnerScript *script)
{
	Assert(effects_cxt != NULL);
	/* what an attempt that rolled back saw did not happen */
	candidates = NIL;
	current = script;
}

void
effects_end(void)
{
	current = NULL;
}

void
effects_reset(void)
{
	current = NULL;
	rehearsing = false;
}

void
effects_set_rehearsing(bool on)
{
	rehearsing = on;
}

bool
effects_rehearsing(void)
{
	return rehearsing;
}

const Effects *
effects_current(void)
{
	return &effects;
}

/* Is the gate judging the running migration? */
static bool
gate_judges(void)
{
	return current != NULL && current->gate && !current->destructive &&
		gate_mode != DESTRUCTIVE_ALLOW;
}

/* Is anything to be recorded for the running migration? */
static bool
effects_active(void)
{
	if (current == NULL)
		return false;
	if (rehearsing)
		return true;
	guard_settings_ensure();
	return gate_judges();
}

static void
add(List **list, const char *s)
{
	MemoryContext old = MemoryContextSwitchTo(effects_cxt);

	*list = lappend(*list, pstrdup(s));
	MemoryContextSwitchTo(old);
}

/* A full read of table relid, described by what. */
static void
add_scan(Oid relid, const char *what)
{
	MemoryContext old = MemoryContextSwitchTo(effects_cxt);

	effects.scans = lappend(effects.scans, pstrdup(what));
	effects.scan_relids = lappend_oid(effects.scan_relids, relid);
	MemoryContextSwitchTo(old);
}

static bool
has_string(List *list, const char *s)
{
	ListCell   *lc;

	if (s == NULL)
		return false;
	foreach(lc, list)
	{
		if (strcmp((const char *) lfirst(lc), s) == 0)
			return true;
	}
	return false;
}

/* Did a CREATE command of the running migration report this object? */
static bool
was_created(const char *identity)
{
	return has_string(created_ids, identity);
}

/*
 * A destructive change seen at the current line: judged when the
 * migration ends (effects_finish), when it is known whether the migration
 * created the object again.
 */
typedef struct Candidate
{
	char	   *reason;			/* a sentence: "Line 3 drops view public.v." */
	char	   *identity;		/* what a later CREATE may restore, or NULL */
} Candidate;


/*
 * Object types whose drop the same migration may undo by creating the
 * object again (CREATE OR REPLACE cannot always: a view losing a column,
 * a function changing its result type): they hold no rows.
 */
static bool
recreatable(const char *type)
{
	static const char *const types[] = {
		"view", "function", "procedure", "aggregate", "trigger", "rule",
		"policy", "index", NULL
	};
	int			i;

	for (i = 0; types[i]; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

static void
destructive(const char *reason, const char *identity)
{
	MemoryContext old = MemoryContextSwitchTo(effects_cxt);
	Candidate  *c = palloc(sizeof(Candidate));

	c->reason = pstrdup(reason);
	c->identity = identity ? pstrdup(identity) : NULL;
	candidates = lappend(candidates, c);
	MemoryContextSwitchTo(old);
}

void
effects_finish(bool judge)
{
	ListCell   *lc;
	StringInfoData detail;
	int			elevel;

	initStringInfo(&detail);
	foreach(lc, candidates)
	{
		Candidate  *c = (Candidate *) lfirst(lc);

		if (was_created(c->identity) || has_string(effects.destructive, c->reason))
			continue;
		add(&effects.destructive, c->reason);
		appendStringInfo(&detail, "%s%s", detail.len ? " " : "", c->reason);
	}
	candidates = NIL;
	if (!judge || detail.len == 0 || !gate_judges())
		return;
	elevel = gate_mode == DESTRUCTIVE_REFUSE ? ERROR : WARNING;
	if (current->repeatable)
		ereport(elevel,
				(errcode(ERRCODE_SMIG_UNDECLARED_DESTRUCTIVE),
				 errmsg("repeatable migration \"%s\" makes a destructive change it does not declare",
						current->name),
				 errdetail("%s", detail.data),
				 errhint("If the change is intended, add \"-- smig:destructive\" to the migration's leading comments (or register it with the option {\"destructive\": true}) and register it again.")));
	else
		ereport(elevel,
				(errcode(ERRCODE_SMIG_UNDECLARED_DESTRUCTIVE),
				 errmsg("migration \"%s\" (\"%s\") makes a destructive change it does not declare",
						current->version, current->name),
				 errdetail("%s", detail.data),
				 errhint("If the change is intended, add \"-- smig:destructive\" to the migration's leading comments (or register it with the option {\"destructive\": true}) and register it again.")));
}

/* The identity of relation relid ("public.t"), or NULL if it is gone. */
static char *
relation_identity(Oid relid)
{
	ObjectAddress addr;

	addr.classId = RelationRelationId;
	addr.objectId = relid;
	addr.objectSubId = 0;
	return getObjectIdentity(&addr, true);
}

/*
 * The background worker, before a statement of a no-transaction migration
 * runs: DROP INDEX CONCURRENTLY commits the index's death (no longer valid,
 * then no longer ready) in transactions of its own before the sql_drop
 * event, so refusing it there leaves the index dead.  With refuse, the
 * gate judges it here, by the names it drops; warn is left to the event.
 */
void
effects_before_statement(Node *stmt)
{
	DropStmt   *drop = (DropStmt *) stmt;
	ListCell   *lc;

	if (!IsA(stmt, DropStmt) || drop->removeType != OBJECT_INDEX ||
		!drop->concurrent || !effects_active() || !gate_judges() ||
		gate_mode != DESTRUCTIVE_REFUSE)
		return;
	foreach(lc, drop->objects)
	{
		Oid			relid = RangeVarGetRelid(makeRangeVarFromNameList((List *) lfirst(lc)),
											 NoLock, true);
		char	   *index;

		if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_INDEX)
			continue;
		index = relation_identity(relid);
		if (index == NULL || was_created(index) ||
			was_created(relation_identity(IndexGetRelation(relid, false))))
			continue;
		destructive(psprintf("Line %d drops index %s.", runner_current_line(), index),
					index);
		effects_finish(true);
	}
}

/*
 * What an ALTER TABLE of a table the migration did not create changes
 * beyond its catalog: column types (destructive) and what reads every
 * row (scans).
 */
static void
judge_alter_table(AlterTableStmt *stmt)
{
	Oid			relid;
	char	   *rel;
	ListCell   *lc;

	if (stmt->relation == NULL)
		return;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (!OidIsValid(relid))
		return;
	rel = relation_identity(relid);
	if (rel == NULL || was_created(rel))
		return;

	/* the lock it asks for, even if the transaction already held it */
	{
		MemoryContext old = MemoryContextSwitchTo(effects_cxt);

		effects.lock_relids = lappend_oid(effects.lock_relids, relid);
		effects.lock_modes = lappend_int(effects.lock_modes,
										 AlterTableGetLockLevel(stmt->cmds));
		MemoryContextSwitchTo(old);
	}

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

		switch (cmd->subtype)
		{
			case AT_AlterColumnType:
				destructive(psprintf("Line %d changes the type of column %s of table %s.",
									 runner_current_line(),
									 quote_identifier(cmd->name), rel), NULL);
				break;
			case AT_SetNotNull:
				add_scan(relid, psprintf("SET NOT NULL on column %s of %s reads every row",
										 quote_identifier(cmd->name), rel));
				break;
			case AT_ValidateConstraint:
			case AT_ValidateConstraintRecurse:
				add_scan(relid, psprintf("VALIDATE CONSTRAINT %s of %s reads every row",
										 quote_identifier(cmd->name), rel));
				break;
			case AT_AddConstraint:
			case AT_AddConstraintRecurse:
				if (cmd->def && IsA(cmd->def, Constraint))
				{
					Constraint *con = (Constraint *) cmd->def;
					const char *what = con->conname
						? psprintf("constraint %s", quote_identifier(con->conname))
						: "a constraint";

					if ((con->contype == CONSTR_CHECK ||
						 con->contype == CONSTR_FOREIGN) && !con->skip_validation)
						add_scan(relid, psprintf("ADD %s of %s validates every existing row",
												 what, rel));
					else if ((con->contype == CONSTR_PRIMARY ||
							  con->contype == CONSTR_UNIQUE ||
							  con->contype == CONSTR_EXCLUSION) &&
							 con->indexname == NULL)
						add_scan(relid, psprintf("ADD %s of %s builds an index over every row",
												 what, rel));
				}
				break;
			default:
				break;
		}
	}
}

/* ddl_command_end: what the command created or altered. */
void
effects_ddl_command_end(EventTriggerData *trigdata)
{
	uint64		i;

	if (!effects_active())
		return;

	SPI_connect();
	if (SPI_execute("SELECT c.command_tag, c.object_type, c.object_identity"
					" FROM pg_catalog.pg_event_trigger_ddl_commands() c"
					" WHERE NOT c.in_extension AND c.object_identity IS NOT NULL",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the DDL commands of the event");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *tag = spi_text(i, 1);
		char	   *type = spi_text(i, 2);
		char	   *identity = spi_text(i, 3);
		char	   *entry = psprintf("%s %s", type, identity);

		if (strncmp(tag, "CREATE ", 7) == 0 || strcmp(tag, "SELECT INTO") == 0)
		{
			if (!was_created(identity))
			{
				MemoryContext old = MemoryContextSwitchTo(effects_cxt);

				created_ids = lappend(created_ids, pstrdup(identity));
				MemoryContextSwitchTo(old);
				add(&effects.created, entry);
			}
		}
		else if (!has_string(effects.altered, entry))
			add(&effects.altered, entry);
	}
	SPI_finish();

	if (trigdata->parsetree && IsA(trigdata->parsetree, AlterTableStmt))
		judge_alter_table((AlterTableStmt *) trigdata->parsetree);
	else if (trigdata->parsetree && IsA(trigdata->parsetree, IndexStmt))
	{
		IndexStmt  *stmt = (IndexStmt *) trigdata->parsetree;
		Oid			relid = stmt->relation
			? RangeVarGetRelid(stmt->relation, NoLock, true) : InvalidOid;
		char	   *rel = OidIsValid(relid) ? relation_identity(relid) : NULL;

		if (rel != NULL && !was_created(rel))
			add_scan(relid, psprintf("CREATE INDEX on %s reads every row", rel));
	}
}

/* sql_drop: what the command dropped. */
void
effects_sql_drop(void)
{
	uint64		i;

	if (!effects_active())
		return;

	SPI_connect();
	if (SPI_execute("SELECT d.object_type, d.object_identity, d.relation"
					" FROM" DROPPED_OBJECTS("d")
					" WHERE (d.original OR d.normal) AND NOT d.is_temporary"
					"  AND d.object_type <> 'default value'"
					"  AND NOT (d.object_type = 'rule'"
					"           AND d.object_identity LIKE '\"\\_RETURN\" on %')",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the dropped objects of the event");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *type = spi_text(i, 1);
		char	   *identity = spi_text(i, 2);
		char	   *relation = spi_text(i, 3);

		add(&effects.dropped, psprintf("%s %s", type, identity));
		if (!was_created(identity) && !was_created(relation))
			destructive(psprintf("Line %d drops %s %s.", runner_current_line(),
								 type, identity),
						recreatable(type) ? identity : NULL);
	}
	SPI_finish();
}

/* table_rewrite: the table is about to be rewritten, for reason. */
void
effects_table_rewrite(Oid relid, const char *reason)
{
	char	   *rel;
	const char *words = strstr(reason, ", ");

	if (!effects_active())
		return;
	/* "rewrite reason 4, a column's type ...": the words */
	if (words != NULL)
		reason = words + 2;
	rel = relation_identity(relid);
	if (rel == NULL)
		return;
	add(&effects.rewritten, psprintf("%s (%s)", rel, reason));
	{
		MemoryContext old = MemoryContextSwitchTo(effects_cxt);

		effects.rewritten_relids = lappend_oid(effects.rewritten_relids, relid);
		MemoryContextSwitchTo(old);
	}
	if (!was_created(rel))
		destructive(psprintf("Line %d rewrites table %s (%s).",
							 runner_current_line(), rel, reason), NULL);
}

/*
 * TRUNCATE (seen by the ProcessUtility_hook before it runs): the rows of
 * each table named are gone, unless the migration created the table.
 * Tables truncated through CASCADE are not named here.
 */
void
effects_truncate(TruncateStmt *stmt)
{
	ListCell   *lc;

	if (!effects_active())
		return;
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst_node(RangeVar, lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		char	   *rel = OidIsValid(relid) ? relation_identity(relid) : NULL;

		if (rel == NULL)
			continue;
		if (!has_string(effects.altered, psprintf("table %s", rel)))
			add(&effects.altered, psprintf("table %s", rel));
		{
			MemoryContext old = MemoryContextSwitchTo(effects_cxt);

			effects.truncated_relids = lappend_oid(effects.truncated_relids, relid);
			MemoryContextSwitchTo(old);
		}
		if (!was_created(rel))
			destructive(psprintf("Line %d truncates table %s.",
								 runner_current_line(), rel), NULL);
	}
}
