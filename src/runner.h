/*-------------------------------------------------------------------------
 * runner.h
 *	  The only code that executes migration SQL.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_RUNNER_H
#define SMIG_RUNNER_H

#include "sqllex.h"

typedef enum RunnerScriptKind
{
	RUNNER_SCRIPT_UP = 0,
	RUNNER_SCRIPT_DOWN
} RunnerScriptKind;

typedef struct RunnerScript
{
	const char *version;
	const char *name;
	const char *sql;			/* the script as registered */
	const char *lock_timeout;	/* "-- smig:lock-timeout" value, or NULL */
	const char *lock_retries;	/* "-- smig:lock-retries" value, or NULL */
	const char *statement_timeout;	/* "-- smig:statement-timeout", or NULL */
	Oid			run_as;			/* the role the statements run as */
	RunnerScriptKind kind;		/* up or down: named in errors */
	bool		empty_history;	/* nothing was applied before it: an
								 * "already exists" error then hints at
								 * smig.baseline() */
	int			first_line;		/* line of its file where sql starts (a
								 * "-- smig:up" section: the registry's
								 * options ->> 'up_line'); 0 means 1 */
	bool		repeatable;		/* a repeatable migration: version is its
								 * label R__<name>, errors name it as
								 * repeatable migration "<name>" */
	bool		gate;			/* judged by smig.destructive (up scripts) */
	bool		destructive;	/* declares its destructive changes
								 * ("-- smig:destructive") */
} RunnerScript;

/* Define smig.print_statements (from _PG_init). */
extern void runner_init(void);

/*
 * smig.print_statements, and its notice for one statement (the runner's,
 * and the background worker's for a no-transaction migration): the
 * migration, the line of its file, and the statement (only its first
 * words when it may hold a password).
 */
extern bool runner_print_statements(void);
extern void runner_echo_statement(const char *version, const char *name,
								  bool down, bool repeatable, int line,
								  const char *stmt_text);

/*
 * Run every statement of script through SPI (already connected), as role
 * script->run_as, in the caller's transaction.  Settings the script changes
 * (SET, set_config) are undone when it ends.  An outer BEGIN; ... COMMIT;
 * pair is not sent.  An error keeps the statement's message, SQLSTATE,
 * detail and hint, and gets one CONTEXT line:
 *   line <n> of the <up|down> script of migration "<version>" ("<name>")
 *   line <n> of repeatable migration "<name>"
 * Zero-initialise the struct: fields added later default to 0.
 */
extern void runner_run(const RunnerScript *script);

/* The version of the migration running now in this backend, or NULL. */
extern const char *runner_current_version(void);

/* The line of its file where that statement starts. */
extern int	runner_current_line(void);

/* The statement of that migration running now, or NULL. */
extern const char *runner_current_statement(void);

/*---- for the background worker (worker.c) ----*/

/*
 * The statements of script->sql, as runner_run() runs them (an outer
 * BEGIN; ... COMMIT; pair skipped): *nstmts of them, palloc'd.
 */
extern SqlStmt *runner_split_statements(const RunnerScript *script,
										int *nstmts);

/*
 * Name the migration, statement and line running in this process (NULLs:
 * none): the background worker, running a no-transaction migration's
 * statements, sets the marker the audit triggers (and the destructive
 * gate's reasons) read, as runner_run() does.
 */
extern void runner_set_current(const char *version, const char *statement,
							   int line);

#endif							/* SMIG_RUNNER_H */
