/*-------------------------------------------------------------------------
 * runner.c
 *	  The only code that executes migration SQL.
 *
 * A migration runs statement by statement through SPI, in the caller's
 * transaction, as the role that registered it (or its run-as role; the
 * apply loop checked that the caller may act as it).  The switch is the
 * one SECURITY DEFINER functions make (SECURITY_LOCAL_USERID_CHANGE), so a
 * migration cannot SET ROLE or SET SESSION AUTHORIZATION its way back to
 * the caller's rights.  When that role is not the caller, or the session
 * is not that role's own (a login that SET ROLE to it), the migration is
 * someone else's text running in the caller's session, and it also runs
 * as a security-restricted operation, as PostgreSQL runs index expressions
 * during a superuser's VACUUM or REINDEX: it cannot queue work that would
 * run later with the caller's rights (deferred triggers and constraint
 * checks, WITH HOLD cursors) or create temporary objects that could shadow
 * the caller's names, nor touch the session's state (PREPARE, LISTEN,
 * DISCARD, CLOSE).  Every setting the migration changes, with SET,
 * SET LOCAL or set_config(), is rolled back when it ends, as a function's
 * SET clause would be: nothing a migration sets reaches the next migration,
 * the caller's session, or, behind a pooler, the next client.
 *
 * A failure keeps PostgreSQL's shape:
 * the statement's own message, SQLSTATE, detail and hint reach the user
 * unchanged, and an error context callback, active while each statement
 * runs, adds one CONTEXT line naming the line, the script (up or down)
 * and the migration.  For an error with a position in the statement (a
 * syntax error), the callback makes the position one into the script, as
 * functions.c does for SQL function bodies, so that psql's "LINE n" is the
 * line of the file.  The caller's transaction then aborts, so a whole
 * upgrade is all or nothing.
 *
 * There is deliberately no subtransaction per migration: a subtransaction
 * commit walks every relation file and lock the transaction already holds
 * (AtSubCommit_smgr, lock reassignment), so with N migrations in one call
 * its cost grows as N^2 (measured: a quarter of the backend's time at
 * 1,000 migrations).  Error reporting does not need one: the context
 * callback runs when the error is raised, and the error is re-thrown.
 * Each statement runs through retry_statement (retry.c), which bounds it
 * by the migration's statement timeout and, for a statement that may wait
 * for another session's lock, opens a subtransaction so that a lock
 * timeout can be retried; the lock_timeout of the migration (its
 * directive, option or smig.lock_timeout) is set here for all of it.
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
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"

#include "effects.h"
#include "progress.h"
#include "retry.h"
#include "runner.h"
#include "sqllex.h"

static const char *current_version = NULL;
static const char *current_statement = NULL;
static int	current_line = 0;

/* smig.print_statements: echo each statement to the client as it starts */
static bool print_statements = false;

/* Define the runner's setting (called from _PG_init). */
void
runner_init(void)
{
	DefineCustomBoolVariable("smig.print_statements",
							 "Sends each statement of a migration to the client as a NOTICE before it runs.",
							 "The notice names the migration and the line of its file. The client's -v sets it.",
							 &print_statements,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*
 * Skip blanks and comments of both kinds as PostgreSQL reads them: a "--"
 * comment ends at "\n" or "\r", a block comment may nest.  Returns the
 * next token's start.
 */
static const char *
skip_blanks_and_comments(const char *p)
{
	for (;;)
	{
		while (isspace((unsigned char) *p))
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			while (*p && *p != '\n' && *p != '\r')
				p++;
		}
		else if (p[0] == '/' && p[1] == '*')
		{
			int			depth = 0;

			do
			{
				if (p[0] == '/' && p[1] == '*')
				{
					depth++;
					p += 2;
				}
				else if (p[0] == '*' && p[1] == '/')
				{
					depth--;
					p += 2;
				}
				else
					p++;
			} while (depth > 0 && *p);
		}
		else
			return p;
	}
}

/* Whether the word at p is word (any case); *next: just after it. */
static bool
word_is(const char *p, const char *word, const char **next)
{
	size_t		n = strlen(word);

	if (pg_strncasecmp(p, word, n) != 0 || isalnum((unsigned char) p[n]) || p[n] == '_')
		return false;
	*next = p + n;
	return true;
}

/*
 * Whether a statement may hold a password (CREATE/ALTER ROLE, USER, GROUP,
 * SERVER, USER MAPPING, SUBSCRIPTION): smig.print_statements shows only its
 * first words, so that no password reaches a deploy's output or CI log.
 */
static bool
statement_may_hold_password(const char *stmt_text, const char **shown_end)
{
	static const char *const objects[] = {"ROLE", "USER", "GROUP", "SERVER",
	"SUBSCRIPTION"};
	const char *p = skip_blanks_and_comments(stmt_text);
	const char *next;
	int			i;

	if (!word_is(p, "CREATE", &next) && !word_is(p, "ALTER", &next))
		return false;
	p = skip_blanks_and_comments(next);
	for (i = 0; i < (int) lengthof(objects); i++)
		if (word_is(p, objects[i], shown_end))
			return true;
	return false;
}

bool
runner_print_statements(void)
{
	return print_statements;
}

void
runner_echo_statement(const char *version, const char *name, bool down,
					  bool repeatable, int line, const char *stmt_text)
{
	const char *shown_end;

	if (statement_may_hold_password(stmt_text, &shown_end))
		stmt_text = psprintf("%.*s ... (the rest is not shown: it may hold a password)",
							 (int) (shown_end - stmt_text), stmt_text);
	if (repeatable)
		ereport(NOTICE,
				(errmsg("repeatable migration \"%s\", line %d: %s",
						name, line, stmt_text)));
	else if (down)
		ereport(NOTICE,
				(errmsg("down script of migration \"%s\" (\"%s\"), line %d: %s",
						version, name, line, stmt_text)));
	else
		ereport(NOTICE,
				(errmsg("migration \"%s\" (\"%s\"), line %d: %s",
						version, name, line, stmt_text)));
}

const char *
runner_current_version(void)
{
	return current_version;
}

int
runner_current_line(void)
{
	return current_line;
}

const char *
runner_current_statement(void)
{
	return current_version ? current_statement : NULL;
}

/* The line of its file where the script starts. */
static int
first_line_of(const RunnerScript *script)
{
	return script->first_line > 0 ? script->first_line : 1;
}

void
runner_set_current(const char *version, const char *statement, int line)
{
	current_version = version;
	current_statement = statement;
	current_line = line;
}

/* Split script->sql into statements; skip an outer BEGIN/COMMIT pair. */
SqlStmt *
runner_split_statements(const RunnerScript *script, int *nstmts)
{
	SqlLexer	lx;
	SqlStmt		st;
	SqlStmt    *stmts;
	int			n = 0;
	int			cap = 16;
	SqlLexStatus rc;

	stmts = palloc(cap * sizeof(SqlStmt));
	sqllex_init_at(&lx, script->sql, strlen(script->sql), first_line_of(script));
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

/*---- errors ---------------------------------------------------------------*/

/* What the error context callback knows about the statement running. */
typedef struct RunnerErrorArg
{
	const RunnerScript *script;
	const SqlStmt *stmt;		/* the statement running, in script->sql */
	const char *stmt_text;		/* its text, as sent to SPI */
	MemoryContext cxt;			/* not ErrorContext: for a copy of the error */
} RunnerErrorArg;

static const char *
script_kind_name(RunnerScriptKind kind)
{
	return kind == RUNNER_SCRIPT_DOWN ? "down" : "up";
}

/*
 * Is the error's internal position one into the running statement?  SPI's
 * own callback, pushed inside SPI_execute, turns a position in the
 * statement into an internal position with the statement as the internal
 * query; a position in an inner query (a SQL or PL/pgSQL function body, a
 * DO block's EXECUTE) has that query instead, and stays as it is.  There
 * is no getter for the internal query of the error being raised, so this
 * reads it from a copy of the error data.  Callbacks run in ErrorContext,
 * where CopyErrorData must not copy to: the copy goes to ea->cxt and is
 * freed at once.
 */
static bool
position_is_statement_own(const RunnerErrorArg *ea)
{
	MemoryContext oldcxt;
	ErrorData  *edata;
	bool		own;

	if (getinternalerrposition() <= 0)
		return false;
	oldcxt = MemoryContextSwitchTo(ea->cxt);
	edata = CopyErrorData();
	own = edata->internalquery != NULL &&
		strcmp(edata->internalquery, ea->stmt_text) == 0;
	FreeErrorData(edata);
	MemoryContextSwitchTo(oldcxt);
	return own;
}

/*
 * Error context while a statement runs:
 *   line N of the up script of migration "3" ("add_cache")
 * N is the line of the file (see RunnerScript.first_line) where the
 * statement starts, or, for an error with a position in the statement,
 * the line of that position.  Such a position becomes one into the whole
 * script (padded with line breaks for the lines before it, when it is a
 * section of its file), so psql shows that line of the file and points at
 * the position, as for an error in a SQL function body.
 */
static void
runner_error_callback(void *arg)
{
	RunnerErrorArg *ea = (RunnerErrorArg *) arg;
	const RunnerScript *script = ea->script;
	const char *sql = script->sql;
	size_t		len = strlen(sql);
	int			first_line = first_line_of(script);
	int			line = ea->stmt->line;

	if (position_is_statement_own(ea))
	{
		int			pos = getinternalerrposition();
		const char *p = ea->stmt_text;
		int			chars = 1;
		size_t		offset;
		StringInfoData query;

		/* the byte offset of the pos'th character, clipped to the statement */
		while (*p && chars < pos)
		{
			p += pg_mblen(p);
			chars++;
		}
		offset = ea->stmt->start + (size_t) (p - ea->stmt_text);
		line = first_line - 1 + sqllex_line_at(sql, len, offset);

		initStringInfo(&query);
		for (chars = 1; chars < first_line; chars++)
			appendStringInfoChar(&query, '\n');
		/* the script without its trailing blank lines */
		while (len > ea->stmt->end && isspace((unsigned char) sql[len - 1]))
			len--;
		appendBinaryStringInfo(&query, sql, (int) len);
		internalerrposition((first_line - 1) +
							pg_mbstrlen_with_len(sql, (int) ea->stmt->start) +
							pos);
		internalerrquery(query.data);
	}
	if (script->repeatable)
		errcontext("line %d of repeatable migration \"%s\"", line, script->name);
	else
		errcontext("line %d of the %s script of migration \"%s\" (\"%s\")",
				   line, script_kind_name(script->kind),
				   script->version, script->name);
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

/*
 * The error being handled says that what the script creates already
 * exists: give it hint, unless it carries a hint of its own.
 */
static void
hint_already_exists(const char *hint)
{
	ErrorData  *edata = CopyErrorData();

	if (edata->hint == NULL &&
		(edata->sqlerrcode == ERRCODE_DUPLICATE_TABLE ||
		 edata->sqlerrcode == ERRCODE_DUPLICATE_OBJECT ||
		 edata->sqlerrcode == ERRCODE_DUPLICATE_SCHEMA ||
		 edata->sqlerrcode == ERRCODE_DUPLICATE_FUNCTION ||
		 edata->sqlerrcode == ERRCODE_DUPLICATE_COLUMN))
	{
		FlushErrorState();
		edata->hint = pstrdup(hint);
		ReThrowError(edata);
	}
	FreeErrorData(edata);
}

/*
 * The first migration of an empty history failed because what it creates
 * already exists: most likely a database built before smig (by hand or by
 * another tool).  A repeatable migration that fails so was not written to
 * run again.
 */
static void
hint_baseline(void)
{
	hint_already_exists("smig's history is empty, but the database already holds this object. "
						"If the schema was built before smig, record the version it is at with SELECT smig.baseline('<version>') instead of applying the migrations that built it.");
}

static void
hint_rerunnable(void)
{
	hint_already_exists("A repeatable migration runs again whenever it changes, so it must work on the objects its last run made: "
						"use CREATE OR REPLACE, or DROP ... IF EXISTS before CREATE.");
}

/*
 * Whether the migration is someone else's text in this session, to run as
 * a security-restricted operation: its run-as role is not the current
 * user, or the session belongs to another role.  A superuser (or any
 * login) that SET ROLEs to the run-as role gets its own rights back with
 * RESET ROLE, and what the migration queued for COMMIT (a deferred trigger,
 * a deferred constraint check) would then run with them; so would a
 * superuser's SET SESSION AUTHORIZATION undone before COMMIT, which is why
 * the role compared is the one that authenticated.
 */
static bool
runs_in_foreign_session(Oid run_as, Oid current_user)
{
	return run_as != current_user || run_as != GetAuthenticatedUserId();
}

/*
 * The error being handled is one PostgreSQL raises in a security-restricted
 * operation (CREATE TEMP, a deferred trigger, WITH HOLD, PREPARE, ...):
 * say why the migration runs as one and how to apply it, unless the error
 * carries a hint of its own.  (message_id is the untranslated text.)
 */
static void
hint_restricted(const RunnerScript *script, const char *run_as)
{
	ErrorData  *edata = CopyErrorData();

	if (edata->hint == NULL && edata->message_id != NULL &&
		strstr(edata->message_id, "security-restricted operation") != NULL)
	{
		FlushErrorState();
		edata->hint = psprintf("Migration \"%s\" runs as role \"%s\" in a session that role did not open, so it runs as a security-restricted operation: "
							   "nothing it does may run later with the session's rights. "
							   "Apply it in a session logged in as \"%s\".",
							   script->version, run_as, run_as);
		ReThrowError(edata);
	}
	FreeErrorData(edata);
}

/* One statement, as retry_statement runs it (perhaps more than once). */
static void
exec_statement(void *arg)
{
	int			rc = SPI_execute((const char *) arg, false, 0);

	if (rc < 0)
		report_spi_refusal(rc);
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
	int			sec_context;
	ErrorContextCallback errcb;
	RunnerErrorArg errarg = {0};
	RetryPolicy policy;
	bool		restricted;
	char	   *volatile run_as_name = NULL;

	stmts = runner_split_statements(script, &nstmts);
	GetUserIdAndSecContext(&saved_userid, &saved_sec_context);
	sec_context = saved_sec_context | SECURITY_LOCAL_USERID_CHANGE;
	restricted = runs_in_foreign_session(script->run_as, saved_userid);
	if (restricted)
	{
		/* for hint_restricted, which runs where no lookup should */
		run_as_name = GetUserNameFromId(script->run_as, false);

		sec_context |= SECURITY_RESTRICTED_OPERATION;

		/*
		 * A cursor the session has open (DECLARE, a PL/pgSQL cursor, a
		 * protocol-level portal, one an earlier migration left) can be
		 * read by name, FETCH or a refcursor, with the rights of whoever
		 * opened it: no place for another role's text.
		 */
		if (!ThereAreNoReadyPortals())
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_CURSOR_STATE),
					 errmsg("cannot run migration \"%s\" (\"%s\") as role \"%s\" while cursors are open",
							script->version, script->name, run_as_name),
					 errdetail("Its statements could read the open cursors, which were opened with other rights."),
					 errhint("Close them first (CLOSE ALL), or apply the migration in a transaction without open cursors.")));
	}
	SetUserIdAndSecContext(script->run_as, sec_context);
	gucnest = NewGUCNestLevel();
	retry_policy(&policy, script->lock_timeout, script->lock_retries,
				 script->statement_timeout);
	(void) set_config_option("lock_timeout",
							 psprintf("%d", policy.lock_timeout_ms),
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	current_version = script->version;
	effects_begin(script);
	progress_begin_migration(script->version, script->name,
							 script->kind == RUNNER_SCRIPT_UP,
							 effects_rehearsing());

	errarg.script = script;
	errarg.cxt = oldcontext;
	errcb.callback = runner_error_callback;
	errcb.arg = &errarg;

	PG_TRY();
	{
		for (i = 0; i < nstmts; i++)
		{
			stmt_text = pnstrdup(script->sql + stmts[i].start,
								 stmts[i].end - stmts[i].start);
			current_statement = stmt_text;
			current_line = stmts[i].line;
			/* before the statement's error context: the notice has none */
			if (print_statements)
				runner_echo_statement(script->version, script->name,
									  script->kind == RUNNER_SCRIPT_DOWN,
									  script->repeatable, stmts[i].line,
									  stmt_text);
			errarg.stmt = &stmts[i];
			errarg.stmt_text = stmt_text;
			errcb.previous = error_context_stack;
			error_context_stack = &errcb;
			progress_report_statement(stmts[i].line, stmt_text);

			retry_statement(&policy, stmt_text, exec_statement, stmt_text,
							saved_userid);

			error_context_stack = errcb.previous;
			SPI_freetuptable(SPI_tuptable);
			current_statement = NULL;
			pfree(stmt_text);
			stmt_text = NULL;
		}
		/* the destructive-change gate judges the whole migration */
		effects_finish(true);
	}
	PG_CATCH();
	{
		/*
		 * The transaction is aborting, which restores the user and the
		 * settings; the error already carries its context (PG_TRY restored
		 * error_context_stack): forget the running migration and re-throw.
		 */
		current_version = NULL;
		current_statement = NULL;
		effects_end();
		progress_end_migration();
		MemoryContextSwitchTo(oldcontext);
		if (restricted)
			hint_restricted(script, run_as_name);
		if (script->repeatable)
			hint_rerunnable();
		else if (script->empty_history)
			hint_baseline();
		PG_RE_THROW();
	}
	PG_END_TRY();

	current_version = NULL;
	effects_end();
	progress_end_migration();
	/* as at abort: undo every setting the migration changed */
	AtEOXact_GUC(false, gucnest);
	SetUserIdAndSecContext(saved_userid, saved_sec_context);
}
