/*-------------------------------------------------------------------------
 * effects.h
 *	  What the migration running now does, as the audit triggers see it,
 *	  and the destructive-change gate (smig.destructive) that judges it.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_EFFECTS_H
#define SMIG_EFFECTS_H

#include "commands/event_trigger.h"
#include "nodes/parsenodes.h"
#include "nodes/pg_list.h"

#include "runner.h"

/* SQLSTATE of an undeclared destructive change refused by the gate */
#define ERRCODE_SMIG_UNDECLARED_DESTRUCTIVE MAKE_SQLSTATE('S','M','0','0','3')

/*
 * What one migration did, in the order the triggers saw it: each list
 * holds palloc'd strings (in memory that lasts until the next migration
 * starts, so a rehearsal can read it after a rolled-back subtransaction).
 */
typedef struct Effects
{
	List	   *created;		/* "table public.t" */
	List	   *altered;
	List	   *dropped;
	List	   *rewritten;		/* "public.t (a column's type ... changed)" */
	List	   *rewritten_relids;	/* the tables of rewritten (Oids) */
	List	   *scans;			/* what reads every existing row of a table */
	List	   *scan_relids;	/* the table each of scans reads (Oids) */
	List	   *truncated_relids;	/* tables TRUNCATE emptied (Oids) */
	List	   *lock_relids;	/* tables an ALTER TABLE locked (Oids) */
	List	   *lock_modes;		/* and the mode it asked for (ints) */
	List	   *destructive;	/* the reasons it is destructive, in words */
} Effects;

/* Define smig.destructive (called from _PG_init). */
extern void effects_init(void);

/* The runner: a migration starts (script) and ends (NULL: nothing runs). */
extern void effects_begin(const RunnerScript *script);
extern void effects_end(void);

/*
 * The background worker: the next statement of the migration effects_begin
 * named starts (in a transaction of its own), keeping what the statements
 * before it created; its caller judges it with effects_finish before it
 * commits.
 */
extern void effects_resume(const RunnerScript *script);

/*
 * The background worker, before each statement of such a migration runs:
 * what PostgreSQL does in transactions of its own before any event
 * trigger fires (DROP INDEX CONCURRENTLY), judged by the gate beforehand.
 */
extern void effects_before_statement(Node *stmt);

/* Rehearsals (rehearse.c): capture every migration, write no log rows. */
extern void effects_set_rehearsing(bool on);
extern bool effects_rehearsing(void);

/*
 * The migration ran to its end: settle which of its changes are
 * destructive (effects_current()->destructive) and, with judge, let the
 * gate refuse or warn.  Called by the runner; a rehearsal calls it without
 * judge for a migration that failed.
 */
extern void effects_finish(bool judge);

/* No migration runs, no rehearsal: at the end of a transaction. */
extern void effects_reset(void);

/* What the last migration that ran (or runs) did. */
extern const Effects *effects_current(void);

/* Called by the audit triggers (audit.c), before they write anything. */
extern void effects_ddl_command_end(EventTriggerData *trigdata);
extern void effects_sql_drop(void);
extern void effects_table_rewrite(Oid relid, const char *reason);

/* Called by the ProcessUtility_hook (guard.c): TRUNCATE fires no trigger. */
extern void effects_truncate(TruncateStmt *stmt);

#endif							/* SMIG_EFFECTS_H */
