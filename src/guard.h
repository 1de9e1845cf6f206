/*-------------------------------------------------------------------------
 * guard.h
 *	  The guard (smig.guard): which DDL outside a migration is refused, judged
 *	  from parse trees before a command starts and from the audit triggers'
 *	  rows after it ran; the ProcessUtility_hook; the statement-text stack.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_GUARD_H
#define SMIG_GUARD_H

#include "nodes/nodes.h"
#include "tcop/cmdtag.h"

/*
 * Define smig.guard and smig.allow_drop_extension, install the
 * ProcessUtility_hook, and re-apply the smig.* settings of
 * pg_db_role_setting (called last from _PG_init).
 */
extern void guard_init(void);

/*
 * Make sure the smig.* settings of the configuration files and of
 * pg_db_role_setting are in force in this backend (done once, inside a
 * transaction; see guard.c).  Call before reading a smig.* setting.
 */
extern void guard_settings_ensure(void);

/* Is smig.guard warn or error? */
extern bool guard_active(void);

/*
 * The guard after the fact (ddl_command_end, sql_drop): if no migration is
 * running and query (run as the extension owner, SPI connected) returns a
 * row, its first column names a managed object this command touched:
 * refuse (error) or report (warn) the command.
 */
extern void guard_check_event(const char *query, CommandTag tag);

/*
 * The text of the utility statement running now, for the log: the
 * statement's own part of the query string, never its neighbours, or NULL.
 * parsetree (may be NULL) helps to find it when the ProcessUtility_hook
 * did not see the statement start.
 */
extern char *guard_statement_text(Node *parsetree);

/*
 * SQL conditions shared by the guard and the log writers.
 *
 * MANAGED_NSPNAME(e): the schema named by SQL expression e (text, may be
 * NULL) is one the guard protects.  Temporary schemas and smig are free.
 */
#define MANAGED_NSPNAME(e) \
	"(" e " IS NOT NULL" \
	" AND " e " NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'pg_temp', 'smig')" \
	" AND " e " NOT LIKE 'pg!_temp!_%' ESCAPE '!'" \
	" AND " e " NOT LIKE 'pg!_toast!_temp!_%' ESCAPE '!')"

/*
 * MANAGED_SCHEMA(o): the object in alias "o" (with schema_name) belongs to
 * a schema the guard protects.  Temporary objects and smig's own are free.
 */
#define MANAGED_SCHEMA(o) MANAGED_NSPNAME(o ".schema_name")

/*
 * Triggers, rules and policies have no schema of their own (their catalogs
 * have no namespace column), so the event functions report schema_name
 * NULL for them: they take the schema of the table they sit on, the first
 * of their address names.  Only evaluated for those three types.
 *
 * "relation" is the table (or view) that an object belonging to one sits
 * on, as pg_identify_object names the table: for a column, default,
 * constraint, trigger, rule or policy the first two of its address names
 * (schema and table); for an index its pg_index row (when it exists, so
 * not for a dropped index).  NULL for other objects.
 */
#define BELONGS_TO_TABLE(o) \
	"(" o ".object_type IN ('table constraint', 'default value', 'trigger', 'rule', 'policy')" \
	" OR " o ".object_type LIKE '% column')"

/*
 * DDL_COMMANDS(o): pg_event_trigger_ddl_commands() as alias "o" with
 * classid, objid, object_type, object_identity, in_extension, that
 * schema_name and relation.
 */
#define DDL_COMMANDS(o) \
	" (SELECT c0.classid, c0.objid, c0.object_type, c0.object_identity," \
	"   c0.in_extension, CASE WHEN c0.object_type IN ('trigger', 'rule', 'policy')" \
	"   THEN (pg_catalog.pg_identify_object_as_address(c0.classid, c0.objid," \
	"         c0.objsubid)).object_names[1]" \
	"   ELSE c0.schema_name END AS schema_name," \
	"   CASE WHEN c0.object_type = 'index'" \
	"   THEN (SELECT (pg_catalog.pg_identify_object(" \
	"           'pg_catalog.pg_class'::pg_catalog.regclass, ix.indrelid, 0)).identity" \
	"         FROM pg_catalog.pg_index ix" \
	"         WHERE ix.indexrelid OPERATOR(pg_catalog.=) c0.objid)" \
	"   WHEN " BELONGS_TO_TABLE("c0") \
	"   THEN (SELECT pg_catalog.format('%I.%I', ad.object_names[1], ad.object_names[2])" \
	"         FROM pg_catalog.pg_identify_object_as_address(c0.classid, c0.objid," \
	"              c0.objsubid) ad)" \
	"   END AS relation" \
	"   FROM pg_catalog.pg_event_trigger_ddl_commands() c0) " o

/*
 * DROPPED_OBJECTS(o): pg_event_trigger_dropped_objects() as alias "o"
 * with original, normal, is_temporary, object_type, object_identity, that
 * schema_name and relation.
 */
#define DROPPED_OBJECTS(o) \
	" (SELECT d0.original, d0.normal, d0.is_temporary, d0.object_type," \
	"   d0.object_identity, CASE WHEN d0.schema_name IS NULL" \
	"   AND d0.object_type IN ('trigger', 'rule', 'policy')" \
	"   THEN d0.address_names[1] ELSE d0.schema_name END AS schema_name," \
	"   CASE WHEN " BELONGS_TO_TABLE("d0") \
	"   THEN pg_catalog.format('%I.%I', d0.address_names[1], d0.address_names[2])" \
	"   END AS relation" \
	"   FROM pg_catalog.pg_event_trigger_dropped_objects() d0) " o

/*
 * MANAGED_DEPENDENT(o): a table or statistics object of alias "o" (from
 * DDL_COMMANDS, any schema, temporary too) that changes a managed table:
 * a table whose parent (pg_inherits) is in a managed schema, or extended
 * statistics on a managed table.
 */
#define MANAGED_DEPENDENT(o) \
	"((" o ".object_type IN ('table', 'foreign table') AND EXISTS (SELECT" \
	"   FROM pg_catalog.pg_inherits ih, pg_catalog.pg_class pc, pg_catalog.pg_namespace pn" \
	"   WHERE ih.inhrelid OPERATOR(pg_catalog.=) " o ".objid" \
	"   AND pc.oid OPERATOR(pg_catalog.=) ih.inhparent" \
	"   AND pn.oid OPERATOR(pg_catalog.=) pc.relnamespace" \
	"   AND " MANAGED_NSPNAME("pn.nspname") "))" \
	" OR (" o ".object_type = 'statistics object' AND EXISTS (SELECT" \
	"   FROM pg_catalog.pg_statistic_ext se, pg_catalog.pg_class pc, pg_catalog.pg_namespace pn" \
	"   WHERE se.oid OPERATOR(pg_catalog.=) " o ".objid" \
	"   AND pc.oid OPERATOR(pg_catalog.=) se.stxrelid" \
	"   AND pn.oid OPERATOR(pg_catalog.=) pc.relnamespace" \
	"   AND " MANAGED_NSPNAME("pn.nspname") ")))"

/*
 * MANAGED_PINNED(o): a temporary object of alias "o" (from DDL_COMMANDS)
 * that depends on a managed relation: on a table, view or sequence, on its
 * row type or an array of it, itself or through one of its parts (a view's
 * rule, a column default, a constraint, a trigger).  A temporary view on
 * app.t, for one, makes a migration's ALTER COLUMN ... TYPE, DROP COLUMN or
 * DROP TABLE on app.t fail while the session that made it lives.
 */
#define MANAGED_PINNED(o) \
	"((" o ".schema_name = 'pg_temp' OR " o ".schema_name LIKE 'pg!_temp!_%' ESCAPE '!')" \
	" AND EXISTS (SELECT FROM pg_catalog.pg_depend d, pg_catalog.pg_class pc," \
	"   pg_catalog.pg_namespace pn" \
	"   WHERE d.deptype IN ('n', 'a')" \
	"   AND ((d.classid OPERATOR(pg_catalog.=) " o ".classid" \
	"     AND d.objid OPERATOR(pg_catalog.=) " o ".objid)" \
	"    OR EXISTS (SELECT FROM pg_catalog.pg_depend p" \
	"     WHERE p.classid OPERATOR(pg_catalog.=) d.classid" \
	"     AND p.objid OPERATOR(pg_catalog.=) d.objid AND p.deptype IN ('a', 'i')" \
	"     AND p.refclassid OPERATOR(pg_catalog.=) " o ".classid" \
	"     AND p.refobjid OPERATOR(pg_catalog.=) " o ".objid))" \
	"   AND pc.oid OPERATOR(pg_catalog.=) CASE d.refclassid" \
	"    WHEN 'pg_catalog.pg_class'::pg_catalog.regclass THEN d.refobjid" \
	"    WHEN 'pg_catalog.pg_type'::pg_catalog.regclass THEN (SELECT" \
	"     coalesce(NULLIF(t.typrelid, 0), e.typrelid)" \
	"     FROM pg_catalog.pg_type t LEFT JOIN pg_catalog.pg_type e" \
	"      ON e.oid OPERATOR(pg_catalog.=) t.typelem" \
	"     WHERE t.oid OPERATOR(pg_catalog.=) d.refobjid) END" \
	"   AND pn.oid OPERATOR(pg_catalog.=) pc.relnamespace" \
	"   AND " MANAGED_NSPNAME("pn.nspname") "))"

/* MANAGED_SCHEMA_OBJECT(o): o is a schema the guard protects. */
#define MANAGED_SCHEMA_OBJECT(o) \
	"(" o ".object_type = 'schema' AND " o ".object_identity NOT IN" \
	" ('pg_catalog', 'information_schema', 'smig'))"

/*
 * SMIG_OWN(o): the object in alias "o" is smig's own.  A trigger, rule or
 * policy on one of smig's tables is not (it may be someone's way around
 * the log): it is logged, as it was when its schema_name was NULL.
 */
#define SMIG_OWN(o) \
	"((" o ".schema_name IS NOT DISTINCT FROM 'smig'" \
	"  AND " o ".object_type NOT IN ('trigger', 'rule', 'policy'))" \
	" OR (" o ".object_type = 'extension' AND " o ".object_identity = 'smig'))"

/*
 * FROM items listing the objects owned (pg_shdepend) by the roles in $6
 * (oid[]) in database $7 (oid) or shared, as alias "o" with object_type,
 * object_identity and schema_name: what REASSIGN OWNED changes.
 */
#define OWNED_OBJECTS(o) \
	" pg_catalog.pg_shdepend s, LATERAL (SELECT i.type AS object_type," \
	"   i.identity AS object_identity, i.schema AS schema_name" \
	"   FROM pg_catalog.pg_identify_object(s.classid, s.objid, s.objsubid) i) " o \
	" WHERE s.deptype = 'o'" \
	" AND s.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass" \
	" AND s.refobjid OPERATOR(pg_catalog.=) ANY ($6)" \
	" AND s.dbid IN (0, $7)"

#endif							/* SMIG_GUARD_H */
