/*-------------------------------------------------------------------------
 * runner.c
 *	  The only code that executes migration SQL.
 *
 * A migration runs statement by statement through SPI, as the calling
 * role, in the caller's transaction.  A failure is caught only to be
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

/* Raise the error for a statement that SPI_execute refused with rc. */
static void
report_spi_refusal(int rc)
{
	switch (rc)
	{
		case SPI_ERROR_COPY:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY with STDIN or STDOUT cannot run in a migration"),
					 errdetail("Migrations run inside the server, where no client connection carries COPY data."),
					 errhint("Load data with INSERT, or with COPY FROM a file on the database server.")));
			break;
		case SPI_ERROR_TRANSACTION:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("transaction control statements cannot run in a migration"),
					 errdetail("smig runs each migration inside the caller's transaction; only one BEGIN; ... COMMIT; pair around the whole script is allowed, and it is not sent."),
					 errhint("Remove the statement, or split the migration in two.")));
			break;
		case SPI_ERROR_OPUNKNOWN:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("statement of an unrecognized kind cannot run in a migration"),
					 errdetail("The server's SPI interface could not run it.")));
			break;
		default:
			/* SPI_ERROR_ARGUMENT, SPI_ERROR_UNCONNECTED, ...: smig's bug */
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not run a migration statement through SPI"),
					 errdetail("SPI_execute returned %s.",
							   SPI_result_code_string(rc))));
			break;
	}
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

	stmts = split_statements(script, &nstmts);
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
				report_spi_refusal(rc);
			SPI_freetuptable(SPI_tuptable);
			current_statement = NULL;
			pfree(stmt_text);
			stmt_text = NULL;
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* the transaction is aborting: only decorate and re-throw */
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
	AtEOXact_GUC(true, gucnest);
}
