/*-------------------------------------------------------------------------
 * runner.c
 *	  The only code that executes migration SQL.
 *
 * A migration runs statement by statement through SPI, in the caller's
 * transaction, as the role that registered it (or its run-as role; the
 * apply loop checked that the caller may act as it).  The switch is the
 * one SECURITY DEFINER functions make (SECURITY_LOCAL_USERID_CHANGE), so a
 * migration cannot SET ROLE or SET SESSION AUTHORIZATION its way back to
 * the caller's rights.  Every setting the migration changes, with SET,
 * SET LOCAL or set_config(), is rolled back when it ends, as a function's
 * SET clause would be: nothing a migration sets reaches the next migration,
 * the caller's session, or, behind a pooler, the next client.  A failure is caught only to be
 * re-raised decorated with the migration's version and name and the
 * failing statement's line; the caller's transaction then aborts, so a
 * whole upgrade is all or nothing.
 *
 * There is deliberately no subtransaction per migration: a subtransaction
 * commit walks every relation file and lock the transaction already holds
 * (AtSubCommit_smgr, lock reassignment), so with N migrations in one call
 * its cost grows as N^2 (measured: a quarter of the backend's time at
 * 1,000 migrations).  Error decoration does not need one, since the error
 * is re-thrown at once.  A feature that must survive a failed migration
 * (lock timeout retries, rehearsals) opens its own, where it is needed.
 *
 * Statements come from the shared lexer (common/sqllex.c), so the runner
 * skips an outer BEGIN; ... COMMIT; pair that files written for psql often
 * carry.  Other transaction control was refused at registration.
 *
 * While a migration runs, runner_current_version() names it: a C variable,
 * not a setting, so that no one can SET it to pass unmanaged DDL off as a
 * migration.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "runner.h"
#include "sqllex.h"

static const char *current_version = NULL;
static const char *current_statement = NULL;

const char *
runner_current_version(void)
{
	return current_version;
}

const char *
runner_current_statement(void)
{
	return current_version ? current_statement : NULL;
}

/* Split script->sql into statements; skip an outer BEGIN/COMMIT pair. */
static SqlStmt *
split_statements(const RunnerScript *script, int *nstmts)
{
	SqlLexer	lx;
	SqlStmt		st;
	SqlStmt    *stmts;
	int			n = 0;
	int			cap = 16;
	SqlLexStatus rc;

	stmts = palloc(cap * sizeof(SqlStmt));
	sqllex_init(&lx, script->sql, strlen(script->sql));
	while ((rc = sqllex_next(&lx, &st)) == SQLLEX_OK)
	{
		if (n == cap)
		{
			cap *= 2;
			stmts = repalloc(stmts, cap * sizeof(SqlStmt));
		}
		stmts[n++] = st;
	}
	if (rc == SQLLEX_ERROR)
		elog(ERROR, "migration \"%s\" no longer lexes: %s at line %d",
			 script->version, lx.error, lx.error_line);

	if (n >= 2 && stmts[0].kind == SQL_STMT_BEGIN &&
		stmts[n - 1].kind == SQL_STMT_COMMIT)
	{
		n -= 2;
		memmove(stmts, stmts + 1, n * sizeof(SqlStmt));
	}
	*nstmts = n;
	return stmts;
}

/* 1-based line of the character at 1-based position pos of stmt_text. */
static int
line_of_position(const char *stmt_text, int stmt_line, int pos)
{
	int			line = stmt_line;
	const char *p = stmt_text;
	int			chars = 1;

	while (*p && chars < pos)
	{
		if (*p == '\n')
			line++;
		p += pg_mblen(p);
		chars++;
	}
	return line;
}

/*
 * Turn the error of a failed statement into the migration's error: same
 * SQLSTATE, detail and hint; message prefixed with the migration; the
 * statement's line appended to the context.
 */
static void
decorate_error(ErrorData *edata, const RunnerScript *script,
			   const char *stmt_text, const SqlStmt *st)
{
	int			line = st->line;
	char	   *where;

	/* a syntax error points into the statement: report that line */
	if (edata->internalpos > 0 && edata->internalquery &&
		strcmp(edata->internalquery, stmt_text) == 0)
		line = line_of_position(stmt_text, st->line, edata->internalpos);
	else if (edata->cursorpos > 0)
		line = line_of_position(stmt_text, st->line, edata->cursorpos);

	edata->message = psprintf("migration \"%s\" (\"%s\") failed: %s",
							  script->version, script->name,
							  edata->message ? edata->message : "");
	where = psprintf("line %d of migration \"%s\" (\"%s\")",
					 line, script->version, script->name);
	edata->context = edata->context
		? psprintf("%s\n%s", edata->context, where)
		: where;
	edata->cursorpos = 0;
}

void
runner_run(const RunnerScript *script)
{
	MemoryContext oldcontext = CurrentMemoryContext;
	SqlStmt    *volatile stmts;
	int			nstmts;
	volatile int i = 0;
	char	   *volatile stmt_text = NULL;
	int			gucnest;
	Oid			saved_userid;
	int			saved_sec_context;

	stmts = split_statements(script, &nstmts);
	GetUserIdAndSecContext(&saved_userid, &saved_sec_context);
	SetUserIdAndSecContext(script->run_as,
						   saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	gucnest = NewGUCNestLevel();
	if (script->lock_timeout)
		(void) set_config_option("lock_timeout", script->lock_timeout,
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
	current_version = script->version;

	PG_TRY();
	{
		for (i = 0; i < nstmts; i++)
		{
			int			rc;

			stmt_text = pnstrdup(script->sql + stmts[i].start,
								 stmts[i].end - stmts[i].start);
			current_statement = stmt_text;
			rc = SPI_execute(stmt_text, false, 0);
			if (rc < 0)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("statement cannot run in a migration: %s",
								SPI_result_code_string(rc))));
			SPI_freetuptable(SPI_tuptable);
			current_statement = NULL;
			pfree(stmt_text);
			stmt_text = NULL;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/*
		 * The transaction is aborting, which restores the user and the
		 * settings: only decorate and re-throw.
		 */
		current_version = NULL;
		current_statement = NULL;
		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		if (stmt_text != NULL && i < nstmts)
			decorate_error(edata, script, stmt_text, &stmts[i]);
		ReThrowError(edata);
	}
	PG_END_TRY();

	current_version = NULL;
	/* as at abort: undo every setting the migration changed */
	AtEOXact_GUC(false, gucnest);
	SetUserIdAndSecContext(saved_userid, saved_sec_context);
}
