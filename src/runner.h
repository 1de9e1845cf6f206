/*-------------------------------------------------------------------------
 * runner.h
 *	  The only code that executes migration SQL.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_RUNNER_H
#define SMIG_RUNNER_H

typedef struct RunnerScript
{
	const char *version;
	const char *name;
	const char *sql;			/* the script as registered */
	const char *lock_timeout;	/* "-- smig:lock-timeout" value, or NULL */
	Oid			run_as;			/* the role the statements run as */
} RunnerScript;

/*
 * Run every statement of script through SPI (already connected), as role
 * script->run_as, in the caller's transaction.  Settings the script changes
 * (SET, set_config) are undone when it ends.  An outer BEGIN; ... COMMIT;
 * pair is not sent.  On error the error is re-raised as
 *   migration "<version>" ("<name>") failed: <message>
 * with the statement's line in the context.
 */
extern void runner_run(const RunnerScript *script);

/* The version of the migration running now in this backend, or NULL. */
extern const char *runner_current_version(void);

/* The statement of that migration running now, or NULL. */
extern const char *runner_current_statement(void);

#endif							/* SMIG_RUNNER_H */
