/*-------------------------------------------------------------------------
 * retry.c
 *	  Safety under load: a lock timeout and retries per statement, a
 *	  statement timeout, and their settings and per-migration overrides.
 *
 * The outage to prevent: an ALTER TABLE waits for its ACCESS EXCLUSIVE
 * lock behind one long transaction, and every query of the application
 * queues behind the ALTER.  A migration therefore runs with lock_timeout
 * set to smig.lock_timeout (1 s): it never makes traffic wait longer than
 * that.  A statement that gives up so is rolled back to a savepoint (an
 * internal subtransaction around it) and run again after a backoff, up to
 * smig.lock_retries times, inside the same migration and transaction: the
 * statements before it are not run again.  Only that error is retried:
 * lock_not_available (55P03) raised by the lock timeout itself (a NOWAIT
 * that fails is the migration's own choice, and propagates).
 *
 * Which lock it waited for: a lock timeout's error names no lock, and the
 * wait is over (and cleaned up) when it is raised.  So while a wrapped
 * statement runs, a timer ticks every half lock_timeout; its handler (a
 * signal handler: it only copies) records the lock the backend is queued
 * on, from MyProc->waitLock, which stays valid while we are queued on it.
 * A wait that lasts lock_timeout contains at least one tick.  Who held it
 * is read right after the timeout, from pg_locks and pg_stat_activity: the
 * granted locks on that object in a mode that conflicts with ours.
 *
 * The cost of the subtransaction, and when there is none: a subtransaction
 * commit walks every lock, relation file and (past a few dozen) relcache
 * entry the transaction holds, so one per statement over 1,000 migrations
 * in one transaction costs O(N^2).  A statement gets one only when it can
 * wait for a lock another session holds and can be retried: lock_retries
 * and lock_timeout are both non-zero, and it is not a statement all of
 * whose named relations this transaction already holds in ACCESS
 * EXCLUSIVE mode (it created or altered them).  For a statement whose first
 * word is CREATE, ALTER, DROP, INSERT, UPDATE, DELETE, TRUNCATE, COMMENT,
 * GRANT or REVOKE, every identifier in it that names an existing relation
 * (by the search path) is checked; any other statement (DO, CALL, SELECT,
 * LOCK ...) runs code or takes locks that cannot be seen from its text,
 * and is always wrapped.  Functions a statement calls are not followed: a
 * function that locks another session's table, called from a statement
 * on the migration's own tables, times out like any other (the traffic
 * waits no longer than lock_timeout) but is not retried.
 *
 * smig.statement_timeout bounds each attempt of each statement, with
 * core's statement timeout timer (so its error is PostgreSQL's own,
 * 57014): set for the statement, then put back as the session had it.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/keywords.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/pg_list.h"
#include "parser/scanner.h"
#include "parser/gram.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "retry.h"

/* most a backoff grows to, unless smig.retry_backoff starts above it */
#define RETRY_BACKOFF_CAP_MS 30000
#define RETRY_MAX_RETRIES 1000

static int	smig_lock_timeout = 1000;
static int	smig_lock_retries = 5;
static int	smig_retry_backoff = 1000;
static int	smig_statement_timeout = 0;

void
retry_init(void)
{
	DefineCustomIntVariable("smig.lock_timeout",
							"Sets lock_timeout while a migration runs.",
							"A statement of a migration waits at most this long for a lock; 0 waits forever. "
							"A migration's \"-- smig:lock-timeout\" directive or \"lock_timeout\" option overrides it.",
							&smig_lock_timeout,
							1000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("smig.lock_retries",
							"Sets how many times a migration statement that timed out on a lock is run again.",
							"The statement is rolled back to a savepoint and run again after smig.retry_backoff; 0 fails at the first timeout. "
							"A migration's \"-- smig:lock-retries\" directive or \"lock_retries\" option overrides it.",
							&smig_lock_retries,
							5, 0, RETRY_MAX_RETRIES,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("smig.retry_backoff",
							"Sets the pause before the first retry of a statement that timed out on a lock.",
							"Each further retry waits twice as long, up to 30 s, with random jitter.",
							&smig_retry_backoff,
							1000, 0, 3600 * 1000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("smig.statement_timeout",
							"Sets the longest a single migration statement may run.",
							"0 sets no limit. A migration's \"-- smig:statement-timeout\" directive or \"statement_timeout\" option overrides it.",
							&smig_statement_timeout,
							0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

/*---- values: durations and retry counts --------------------------------------*/

/* A duration as lock_timeout takes it ("5s", "500ms", "0"), in ms. */
static bool
parse_duration(const char *value, int *ms)
{
	return value != NULL && parse_int(value, ms, GUC_UNIT_MS, NULL) && *ms >= 0;
}

/* A retry count: digits only, 0 .. RETRY_MAX_RETRIES. */
static bool
parse_retries(const char *value, int *n)
{
	long		v = 0;
	const char *p;

	if (value == NULL || *value == '\0')
		return false;
	for (p = value; *p; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p - '0');
		if (v > RETRY_MAX_RETRIES)
			return false;
	}
	*n = (int) v;
	return true;
}

void
retry_policy(RetryPolicy *policy, const char *lock_timeout,
			 const char *lock_retries, const char *statement_timeout)
{
	if (!parse_duration(lock_timeout, &policy->lock_timeout_ms))
		policy->lock_timeout_ms = smig_lock_timeout;
	if (!parse_retries(lock_retries, &policy->lock_retries))
		policy->lock_retries = smig_lock_retries;
	if (!parse_duration(statement_timeout, &policy->statement_timeout_ms))
		policy->statement_timeout_ms = smig_statement_timeout;
	policy->backoff_ms = smig_retry_backoff;
}

/*---- registration: directives and options -------------------------------------*/

static void
report_bad_duration(const char *what, const char *value, const char *version)
{
	if (strcmp(what, "lock_timeout") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid lock timeout \"%s\" for migration \"%s\"",
						value, version),
				 errhint("Write a duration such as \"5s\" or \"500ms\".")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid statement timeout \"%s\" for migration \"%s\"",
						value, version),
				 errhint("Write a duration such as \"30s\" or \"5min\", or 0 for no limit.")));
}

static void
report_bad_retries(const char *value, const char *version)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid lock retry count \"%s\" for migration \"%s\"",
					value, version),
			 errhint("Write a whole number from 0 to %d.", RETRY_MAX_RETRIES)));
}

bool
retry_directive(const char *name, const char *arg,
				const char *version, StringInfo buf)
{
	int			v;

	if (strcmp(name, "lock-timeout") == 0 || strcmp(name, "statement-timeout") == 0)
	{
		const char *key = name[0] == 'l' ? "lock_timeout" : "statement_timeout";

		if (!parse_duration(arg, &v))
			report_bad_duration(key, arg, version);
		appendStringInfo(buf, ", \"%s\": ", key);
		escape_json(buf, arg);
		return true;
	}
	if (strcmp(name, "lock-retries") == 0)
	{
		if (!parse_retries(arg, &v))
			report_bad_retries(arg, version);
		appendStringInfo(buf, ", \"lock_retries\": %d", v);
		return true;
	}
	return false;
}

bool
retry_option(const char *key, const JsonbValue *value, const char *version)
{
	int			v;

	if (strcmp(key, "lock_timeout") == 0 || strcmp(key, "statement_timeout") == 0)
	{
		char	   *s;

		if (value->type != jbvString)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"%s\" of migration \"%s\"",
							key, version),
					 errdetail("\"%s\" takes a string such as \"5s\".", key)));
		s = pnstrdup(value->val.string.val, value->val.string.len);
		if (!parse_duration(s, &v))
			report_bad_duration(key, s, version);
		return true;
	}
	if (strcmp(key, "lock_retries") == 0)
	{
		char	   *s;

		if (value->type != jbvNumeric)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid value for option \"%s\" of migration \"%s\"",
							key, version),
					 errdetail("\"lock_retries\" takes a number such as 3.")));
		s = DatumGetCString(DirectFunctionCall1(numeric_out,
												NumericGetDatum(value->val.numeric)));
		if (!parse_retries(s, &v))
			report_bad_retries(s, version);
		return true;
	}
	return false;
}

/*---- may a statement wait for another session's lock? ----------------------*/

/* token codes of keywords in our scans: KEYWORD_TOKEN_BASE + category */
#define KEYWORD_TOKEN_BASE 5000

static uint16 *keyword_tokens = NULL;

/* Does this transaction hold the relation of names in ACCESS EXCLUSIVE mode? */
static bool
relation_is_ours(List *names)
{
	Oid			relid;
	LOCKTAG		tag;

	if (list_length(names) > 3)
		return true;			/* not a relation name */
	relid = RangeVarGetRelid(makeRangeVarFromNameList(names), NoLock, true);
	if (!OidIsValid(relid))
		return true;			/* no such relation: nothing to wait for */
	SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
	return LockHeldByMe(&tag, AccessExclusiveLock);
}

/* Statements whose locks the text shows: see the file header. */
static bool
first_word_is_checked(const char *kw)
{
	static const char *const checked[] = {
		"create", "alter", "drop", "insert", "update", "delete", "truncate",
		"comment", "grant", "revoke"
	};
	size_t		i;

	for (i = 0; i < lengthof(checked); i++)
		if (strcmp(kw, checked[i]) == 0)
			return true;
	return false;
}

/*
 * Scan sql with the server's own scanner; true unless its first word is a
 * checked one and every (qualified) name in it that denotes an existing
 * relation is one this transaction holds in ACCESS EXCLUSIVE mode.
 */
static bool
scan_may_wait(const char *sql)
{
	core_yy_extra_type yyext;
	core_yyscan_t scanner;
	core_YYSTYPE lval;
	int			loc;
	int			tok;
	List	   *names = NIL;
	bool		after_dot = false;
	bool		may_wait = false;

	if (keyword_tokens == NULL)
	{
		uint16	   *t = MemoryContextAlloc(TopMemoryContext,
										   ScanKeywords.num_keywords * sizeof(uint16));
		int			i;

		for (i = 0; i < ScanKeywords.num_keywords; i++)
			t[i] = KEYWORD_TOKEN_BASE + ScanKeywordCategories[i];
		keyword_tokens = t;
	}
	scanner = scanner_init(sql, &yyext, &ScanKeywords, keyword_tokens);
	tok = core_yylex(&lval, &loc, scanner);
	if (tok < KEYWORD_TOKEN_BASE || !first_word_is_checked(lval.keyword))
		may_wait = true;
	else
	{
		while (!may_wait && (tok = core_yylex(&lval, &loc, scanner)) != 0)
		{
			const char *name = NULL;

			if (tok == IDENT)
				name = lval.str;
			else if (tok >= KEYWORD_TOKEN_BASE &&
					 tok != KEYWORD_TOKEN_BASE + RESERVED_KEYWORD)
				name = lval.keyword;

			if (name != NULL && (names == NIL || after_dot))
			{
				names = lappend(names, makeString(pstrdup(name)));
				after_dot = false;
				continue;
			}
			if (tok == '.' && names != NIL && !after_dot)
			{
				after_dot = true;
				continue;
			}
			/* a name ended: check it, and start the next */
			if (names != NIL && !relation_is_ours(names))
				may_wait = true;
			list_free_deep(names);
			names = NIL;
			after_dot = false;
			if (name != NULL)
				names = list_make1(makeString(pstrdup(name)));
		}
		if (!may_wait && names != NIL && !relation_is_ours(names))
			may_wait = true;
	}
	scanner_finish(scanner);
	return may_wait;
}

/*
 * May statement sql wait for a lock another session holds?  An error of
 * the scan or of a name's lookup (a syntax error, a schema the role may not
 * use, a cross-database name: SPI raises it properly when it runs the
 * statement) says yes; any other error (a cancel) propagates.
 */
static bool
statement_may_wait(const char *sql)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	volatile bool may_wait = true;

	PG_TRY();
	{
		may_wait = scan_may_wait(sql);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int			category;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		category = ERRCODE_TO_CATEGORY(edata->sqlerrcode);
		if (edata->elevel > ERROR ||
			(category != ERRCODE_SYNTAX_ERROR_OR_ACCESS_RULE_VIOLATION &&
			 category != ERRCODE_DATA_EXCEPTION &&
			 category != ERRCODE_FEATURE_NOT_SUPPORTED))
			PG_RE_THROW();
		FreeErrorData(edata);
		FlushErrorState();
		may_wait = true;
	}
	PG_END_TRY();
	return may_wait;
}

/*---- the lock being waited for ---------------------------------------------*/

static TimeoutId lock_watch_timeout = MAX_TIMEOUTS;
static volatile bool awaited_valid = false;
static LOCKTAG awaited_tag;
static LOCKMODE awaited_mode;
static LOCKMASK awaited_conflicts;

/*
 * Timer handler (signal context: only copies).  While this backend is
 * queued on a lock, the LOCK cannot go away: it is ours to leave.
 */
static void
lock_watch_handler(void)
{
	LOCK	   *lock = MyProc->waitLock;

	if (lock != NULL)
	{
		awaited_tag = lock->tag;
		awaited_mode = MyProc->waitLockMode;
		awaited_conflicts = GetLocksMethodTable(lock)->conflictTab[awaited_mode];
		awaited_valid = true;
	}
}

static void
lock_watch_start(void)
{
	int			every = Max(LockTimeout / 2, 1);

	if (lock_watch_timeout == MAX_TIMEOUTS)
		lock_watch_timeout = RegisterTimeout(USER_TIMEOUT, lock_watch_handler);
	awaited_valid = false;
	enable_timeout_every(lock_watch_timeout,
						 TimestampTzPlusMilliseconds(GetCurrentTimestamp(), every),
						 every);
}

static void
lock_watch_stop(void)
{
	if (lock_watch_timeout != MAX_TIMEOUTS)
		disable_timeout(lock_watch_timeout, false);
}

/* The error being handled is a lock timeout's (not NOWAIT's). */
static bool
is_lock_timeout(const ErrorData *edata)
{
	return edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE &&
		edata->message_id != NULL &&
		strcmp(edata->message_id, "canceling statement due to lock timeout") == 0;
}

/* What waited: 'relation "s.t"', or core's description of the lock tag. */
static char *
describe_awaited(void)
{
	StringInfoData buf;

	initStringInfo(&buf);
	if (awaited_tag.locktag_type == LOCKTAG_RELATION &&
		awaited_tag.locktag_field1 == MyDatabaseId &&
		get_rel_name(awaited_tag.locktag_field2) != NULL)
	{
		Oid			relid = awaited_tag.locktag_field2;

		appendStringInfo(&buf, "relation \"%s\"",
						 quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													get_rel_name(relid)));
	}
	else
		DescribeLockTag(&buf, &awaited_tag);
	return buf.data;
}

/*
 * Who holds a lock on the awaited object, in a mode that conflicts with
 * ours, as a sentence: "Held by PID 123 in RowExclusiveLock mode (idle in
 * transaction, query started 2026-...)." or "Held by a prepared
 * transaction in ..."; read as role report_as (what pg_stat_activity
 * shows it).
 */
static char *
describe_holders(Oid report_as)
{
	StringInfoData buf;
	StringInfoData modes;
	Datum		values[2];
	Oid			types[2] = {TEXTOID, TEXTOID};
	const char *where;
	Oid			saved_userid;
	int			saved_sec;
	int			nest;
	int			rc;
	int			m;
	uint64		i;

	initStringInfo(&buf);
	if (!awaited_valid)
		return pstrdup("Its holders are not known.");
	if (awaited_tag.locktag_type == LOCKTAG_RELATION)
	{
		where = "l.locktype OPERATOR(pg_catalog.=) 'relation'"
			" AND l.database OPERATOR(pg_catalog.=) pg_catalog.split_part($2, ' ', 1)::pg_catalog.oid"
			" AND l.relation OPERATOR(pg_catalog.=) pg_catalog.split_part($2, ' ', 2)::pg_catalog.oid";
		values[1] = CStringGetTextDatum(psprintf("%u %u", awaited_tag.locktag_field1,
												 awaited_tag.locktag_field2));
	}
	else if (awaited_tag.locktag_type == LOCKTAG_TRANSACTION)
	{
		where = "l.locktype OPERATOR(pg_catalog.=) 'transactionid'"
			" AND l.transactionid OPERATOR(pg_catalog.=) $2::pg_catalog.xid";
		values[1] = CStringGetTextDatum(psprintf("%u", awaited_tag.locktag_field1));
	}
	else if (awaited_tag.locktag_type == LOCKTAG_VIRTUALTRANSACTION)
	{
		/* a concurrent index build waiting for a transaction to end */
		where = "l.locktype OPERATOR(pg_catalog.=) 'virtualxid'"
			" AND l.virtualxid OPERATOR(pg_catalog.=) $2";
		values[1] = CStringGetTextDatum(psprintf("%d/%u", awaited_tag.locktag_field1,
												 awaited_tag.locktag_field2));
	}
	else
		return pstrdup("Its holders are not known.");

	initStringInfo(&modes);
	appendStringInfoChar(&modes, '{');
	for (m = 1; m <= MaxLockMode; m++)
		if (awaited_conflicts & LOCKBIT_ON(m))
			appendStringInfo(&modes, "%s%s", modes.len > 1 ? "," : "",
							 GetLockmodeName(DEFAULT_LOCKMETHOD, m));
	appendStringInfoChar(&modes, '}');
	values[0] = CStringGetTextDatum(modes.data);

	/*
	 * As report_as (the deployer), so with the search_path pinned: the
	 * migration's SET search_path must not put its author's operators into
	 * a query run with the deployer's rights.
	 */
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	GetUserIdAndSecContext(&saved_userid, &saved_sec);
	SetUserIdAndSecContext(report_as, saved_sec);
	rc = SPI_execute_with_args(psprintf("SELECT l.pid, l.mode, a.state, a.query_start"
										" FROM pg_catalog.pg_locks l"
										" LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid"
										" WHERE l.granted AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()"
										" AND l.mode OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.text[]) AND %s"
										" ORDER BY l.pid", where),
							   2, types, values, NULL, true, 0);
	SetUserIdAndSecContext(saved_userid, saved_sec);
	AtEOXact_GUC(true, nest);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_locks: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		appendStringInfoString(&buf, "No session holds it any more.");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *pid = SPI_getvalue(tup, desc, 1);
		char	   *mode = SPI_getvalue(tup, desc, 2);
		char	   *state = SPI_getvalue(tup, desc, 3);
		char	   *started = SPI_getvalue(tup, desc, 4);

		appendStringInfoString(&buf, i == 0 ? "Held by " : "; ");
		if (pid == NULL)
			appendStringInfo(&buf, "a prepared transaction in %s mode", mode);
		else if (state == NULL)
			appendStringInfo(&buf, "PID %s in %s mode", pid, mode);
		else
			appendStringInfo(&buf, "PID %s in %s mode (%s, query started %s)",
							 pid, mode, state, started ? started : "never");
	}
	if (SPI_processed > 0)
		appendStringInfoChar(&buf, '.');
	SPI_freetuptable(SPI_tuptable);
	return buf.data;
}

/*---- backoff ---------------------------------------------------------------*/

/*
 * The pause before retry n (1-based): smig.retry_backoff doubled n - 1
 * times, at most 30 s (or the setting, if larger), then "equal jitter":
 * between half of it and all of it, so that several deploys held up by
 * one lock do not come back at the same moment.
 */
static long
backoff_ms(const RetryPolicy *policy, int n)
{
	double		d = policy->backoff_ms;
	double		cap = Max(RETRY_BACKOFF_CAP_MS, policy->backoff_ms);

	while (--n > 0 && d < cap)
		d *= 2;
	d = Min(d, cap);
	return (long) (d / 2 + pg_prng_double(&pg_global_prng_state) * d / 2);
}

/* Sleep ms, woken at once by a cancel or termination (which then raise). */
static void
backoff_sleep(long ms)
{
	TimestampTz end = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left;

		CHECK_FOR_INTERRUPTS();
		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), end);
		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

/*---- running a statement ---------------------------------------------------*/

/* fn(arg) with the statement timeout of policy, then the session's again. */
static void
run_with_statement_timeout(const RetryPolicy *policy, RetryStatementFn fn,
						   void *arg)
{
	volatile TimestampTz outer = 0;
	TimestampTz fin;
	bool		set = false;

	if (policy->statement_timeout_ms > 0)
	{
		fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
										  policy->statement_timeout_ms);
		if (get_timeout_active(STATEMENT_TIMEOUT))
			outer = get_timeout_finish_time(STATEMENT_TIMEOUT);
		if (outer == 0 || fin < outer)
		{
			enable_timeout_at(STATEMENT_TIMEOUT, fin);
			set = true;
		}
	}
	if (!set)
	{
		fn(arg);
		return;
	}
	PG_TRY();
	{
		fn(arg);
	}
	PG_FINALLY();
	{
		if (outer != 0)
			enable_timeout_at(STATEMENT_TIMEOUT, outer);
		else
			disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_END_TRY();
}

/*
 * After attempt number attempt timed out on a lock (what, mode: NULL when
 * not known): the error when the retries are used up, otherwise the
 * NOTICE; returns the pause before the next attempt.
 */
static long
report_timeout(const RetryPolicy *policy, int attempt, const char *what,
			   const char *mode, const char *holders)
{
	long		pause;

	if (attempt > policy->lock_retries)
	{
		if (what)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain %s on %s in %d attempts",
							mode, what, attempt),
					 errdetail("%s Each attempt waited lock_timeout (%d ms).",
							   holders, LockTimeout),
					 errhint("Deploy again when the lock is free, or raise smig.lock_timeout or smig.lock_retries (or the migration's directives).")));
		else
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain a lock in %d attempts", attempt),
					 errdetail("Each attempt waited lock_timeout (%d ms).", LockTimeout),
					 errhint("Deploy again when the lock is free, or raise smig.lock_timeout or smig.lock_retries (or the migration's directives).")));
	}
	pause = backoff_ms(policy, attempt);
	if (what)
		ereport(NOTICE,
				(errmsg("statement timed out waiting for %s on %s, attempt %d of %d",
						mode, what, attempt, policy->lock_retries + 1),
				 errdetail("%s Retrying in %.2f s.", holders, pause / 1000.0)));
	else
		ereport(NOTICE,
				(errmsg("statement timed out waiting for a lock, attempt %d of %d",
						attempt, policy->lock_retries + 1),
				 errdetail("Retrying in %.2f s.", pause / 1000.0)));
	return pause;
}

void
retry_statement(const RetryPolicy *policy, const char *sql,
				RetryStatementFn fn, void *arg, Oid report_as)
{
	int			attempt;

	if (policy->lock_retries <= 0 || LockTimeout <= 0 ||
		!statement_may_wait(sql))
	{
		run_with_statement_timeout(policy, fn, arg);
		return;
	}

	for (attempt = 1;; attempt++)
	{
		MemoryContext oldcxt = CurrentMemoryContext;
		ResourceOwner oldowner = CurrentResourceOwner;
		ErrorData  *volatile edata = NULL;
		char	   *what;
		char	   *holders;
		const char *mode;
		long		pause;

		BeginInternalSubTransaction(NULL);
		MemoryContextSwitchTo(oldcxt);
		lock_watch_start();
		PG_TRY();
		{
			run_with_statement_timeout(policy, fn, arg);
			lock_watch_stop();
			ReleaseCurrentSubTransaction();
		}
		PG_CATCH();
		{
			lock_watch_stop();
			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			RollbackAndReleaseCurrentSubTransaction();
		}
		PG_END_TRY();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		if (edata == NULL)
			return;
		if (!is_lock_timeout(edata))
			ReThrowError(edata);

		what = awaited_valid ? describe_awaited() : NULL;
		mode = awaited_valid ? GetLockmodeName(DEFAULT_LOCKMETHOD, awaited_mode) : NULL;
		holders = describe_holders(report_as);
		pause = report_timeout(policy, attempt, what, mode, holders);
		FreeErrorData(edata);
		backoff_sleep(pause);
	}
}

void
retry_statement_locked(const RetryPolicy *policy, const char *sql,
					   RetryStatementFn fn, void *arg, Oid report_as)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("lock_timeout",
							 psprintf("%d", policy->lock_timeout_ms),
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	retry_statement(policy, sql, fn, arg, report_as);
	AtEOXact_GUC(true, nest);
}

void
retry_top_level(const RetryPolicy *policy, RetryStatementFn fn,
				RetryStatementFn cleanup, void *arg, Oid report_as)
{
	volatile int attempt;

	for (attempt = 1;; attempt++)
	{
		MemoryContext oldcxt = CurrentMemoryContext;
		ErrorData  *volatile edata = NULL;
		volatile bool watch = policy->lock_retries > 0 && LockTimeout > 0;
		bool		retryable;
		char	   *what = NULL;
		char	   *mode = NULL;
		char	   *holders = NULL;
		long		pause;

		if (watch)
			lock_watch_start();
		PG_TRY();
		{
			fn(arg);
		}
		PG_CATCH();
		{
			lock_watch_stop();
			MemoryContextSwitchTo(oldcxt);
			edata = CopyErrorData();
			FlushErrorState();
			AbortCurrentTransaction();
			disable_timeout(STATEMENT_TIMEOUT, false /* the worker armed it */ );
		}
		PG_END_TRY();
		lock_watch_stop();
		MemoryContextSwitchTo(oldcxt);
		if (edata == NULL)
			return;
		retryable = watch && is_lock_timeout(edata);
		if (retryable)
		{
			/* read at once, in a transaction of our own, as the runner does */
			StartTransactionCommand();
			PushActiveSnapshot(GetTransactionSnapshot());
			SPI_connect();
			if (awaited_valid)
			{
				what = MemoryContextStrdup(oldcxt, describe_awaited());
				mode = MemoryContextStrdup(oldcxt, GetLockmodeName(DEFAULT_LOCKMETHOD, awaited_mode));
			}
			holders = MemoryContextStrdup(oldcxt, describe_holders(report_as));
			SPI_finish();
			PopActiveSnapshot();
			CommitTransactionCommand();
			MemoryContextSwitchTo(oldcxt);
		}
		if (cleanup)
			cleanup(arg);
		if (!retryable)
			ReThrowError(edata);
		pause = report_timeout(policy, attempt, what, mode, holders);
		FreeErrorData(edata);
		backoff_sleep(pause);
	}
}
