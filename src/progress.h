/*-------------------------------------------------------------------------
 * progress.h
 *	  What a deploy is doing, shown in pg_stat_activity and smig.progress.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_PROGRESS_H
#define SMIG_PROGRESS_H

/*
 * Position of the migration about to run in its call, k of n.  A
 * procedure (CALL smig.upgrade()) sets it for its whole plan
 * (progress_set_plan_step); a function call (upgrade_head, downgrade) for
 * its own loop (progress_set_step), which a procedure's position overrides.
 */
extern void progress_set_plan_step(int k, int n);
extern void progress_set_step(int k, int n);

/* The procedure's plan ended: forget its position. */
extern void progress_end_plan(void);

/*
 * A migration starts (the runner, as it begins a script): remember its
 * version, name, direction and start time for the reports that follow.
 * up is false for a down script; rehearsing for a rehearsal.
 */
extern void progress_begin_migration(const char *version, const char *name,
									 bool up, bool rehearsing);

/*
 * The statement at line of the running migration starts: report it.
 * statement NULL: the migration runs in a background worker.
 */
extern void progress_report_statement(int line, const char *statement);

/* The migration ended: the session shows its own query again. */
extern void progress_end_migration(void);

/* The transaction aborted: forget everything (the next query resets the
 * activity). */
extern void progress_reset(void);

#endif							/* SMIG_PROGRESS_H */
