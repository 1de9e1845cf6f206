/*-------------------------------------------------------------------------
 * worker.c
 *	  No-transaction migrations ("-- smig:no-transaction"): CREATE INDEX
 *	  CONCURRENTLY, DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, VACUUM ...
 *	  run in a dynamic background worker, one statement at a time, each a
 *	  top-level command in a transaction of its own.
 *
 * PostgreSQL refuses those commands inside a function or a transaction
 * block, so a migration that holds them cannot run through SPI in the
 * caller's transaction (runner.c).  The committing procedures (CALL
 * smig.upgrade(), CALL smig.downgrade_to(); procedure.c) hand such a
 * migration to worker_run_step(), which, per migration:
 *	 1. in a subtransaction: the checks of smig.apply / smig.rollback for
 *		it (apply_one_prepare, revert_one_prepare), its statements (the
 *		runner's lexer), whether an earlier attempt of it failed, and the
 *		indexes that are INVALID now; then commits, so that it holds no
 *		snapshot from here on;
 *	 2. starts the worker (RegisterDynamicBackgroundWorker: no
 *		shared_preload_libraries needed; bgw_notify_pid wakes us when it
 *		stops), connected to this database as the migration's run-as role,
 *		and waits for it: for the lock the worker holds until it exits
 *		(worker_locktag), a lock wait of at most 100 ms at a time, and
 *		between two, relays its NOTICEs and ends the waits of sessions
 *		that would otherwise deadlock with it (below);
 *	 3. in a subtransaction: the outcome.  Success: the indexes that
 *		became INVALID are checked (none may remain), then the history row.
 *		Failure: the worker's error (message, SQLSTATE, detail, hint) with
 *		the failing statement's line as CONTEXT, and a WARNING naming any
 *		INVALID index it left.  The procedure records the failed attempt.
 *
 * The worker and the procedure share a DSM segment holding one WorkerTask:
 * what to run (version, settings, statements) one way, the outcome the
 * other.  The procedure reads the outcome only after the worker stopped.
 *
 * The worker: connects (BackgroundWorkerInitializeConnectionByOid)
 * as the caller's session user (who logged in; if its LOGIN was revoked
 * since, as the bootstrap superuser), takes its lock (worker_locktag: a
 * session lock, held until it exits) and sets the procedure's latch, then
 * makes the caller's session user the session user
 * (SetSessionAuthorization), so smig.ddl_log.session_role is what the same
 * migration in a transaction records, and acts as the run-as role
 * (SetUserIdAndSecContext with SECURITY_LOCAL_USERID_CHANGE: no SET ROLE
 * back), with the caller's search_path, lock_timeout and statement_timeout
 * (the migration's "-- smig:lock-timeout" over the caller's).  A SET in
 * the migration lasts until the migration ends, the worker's session with
 * it.  Each statement runs as exec_simple_query runs one: parse, analyse,
 * plan (parallel plans allowed), a portal run with isTopLevel, in its own
 * transaction; that is what CREATE INDEX CONCURRENTLY requires.  The
 * worker is in no lock group but the one it leads, so a concurrent build
 * is a parallel one as in psql (max_parallel_maintenance_workers and
 * maintenance_work_mem: the server's, or the migration's SET).  The audit
 * triggers see the runner's marker (runner_set_current), so smig.ddl_log
 * attributes the worker's DDL to the migration.  The destructive-change
 * gate (effects.c, with the caller's smig.destructive) judges each
 * statement of an up script when it ends, before it commits: an
 * undeclared drop or rewrite is refused there (a statement that commits
 * cannot be rolled back), so an object dropped and created again by a
 * later statement counts as destroyed; what an earlier statement created
 * may be dropped.  DROP INDEX CONCURRENTLY is judged before it runs
 * (effects_before_statement): its own transactions kill the index before
 * any event trigger fires.
 *
 * The hidden deadlock (SPEC "Applying", trap 1).  A concurrent build waits
 * for every transaction with an older snapshot.  A deployer blocked on the
 * deploy lock inside SELECT smig.upgrade_head() has one; the procedure
 * holding that lock waits for the worker; the worker waits for the
 * deployer.  smig breaks it four ways:
 *	 - the procedure holds no snapshot while it waits (step 1 commits;
 *	   checked before the worker starts);
 *	 - the procedure's wait is a lock wait on the worker's lock, so the
 *	   deadlock detector follows the cycle through it (deployer -> deploy
 *	   lock -> procedure -> worker's lock -> worker -> the deployer's
 *	   virtualxid), and pg_blocking_pids() of the caller names the worker
 *	   (and the worker's, what it waits for).  Each wait lasts 100 ms at
 *	   most, less than deadlock_timeout, so it is the worker or the
 *	   deployer that finds such a cycle, not the procedure.  The worker
 *	   does not join the procedure's lock group, which would show the
 *	   same but forbid it parallel workers (a lock group has one level);
 *	 - while the worker runs, the procedure holds a second lock
 *	   (action_begin_no_transaction): a session that then finds the deploy
 *	   lock taken fails at once with a clear error instead of queuing;
 *	 - a session already queued for the deploy lock with a snapshot is
 *	   cancelled within 100 ms (action_end_snapshot_waiters), and its
 *	   cancel becomes the same error.
 *
 * The invalid leftover (trap 2).  A concurrent build that fails leaves an
 * INVALID index, and CREATE INDEX CONCURRENTLY IF NOT EXISTS then skips
 * it.  After each CREATE INDEX with a name the worker checks that index
 * and fails naming it if it is INVALID; after the migration the procedure
 * fails naming every index that became INVALID.  The worker knows its own
 * leftovers, named or not (an unnamed CREATE INDEX, REINDEX CONCURRENTLY's
 * <name>_ccnew and _ccold): the indexes that became INVALID while a
 * statement ran, that no other session is building.  A lock-timeout retry
 * of the statement drops them first; a failure marks them with a COMMENT
 * naming the migration and its direction, and the next run of the
 * migration drops the INVALID indexes with that mark (DROP INDEX
 * CONCURRENTLY) before its first statement, and no other index: only
 * indexes the run-as role owns count as leftovers (anyone can write the
 * mark on an index of their own).
 *
 * Cancel (or statement_timeout) of the caller terminates the worker
 * (TerminateBackgroundWorker) and waits for it to exit (a cancel that
 * comes with the end of one of the bounded lock waits is not taken for
 * that end: note_sigint, wait_for_worker_lock); so does the caller's own
 * exit (pg_terminate_backend: stop_worker_at_exit); a worker that
 * dies (FATAL, SIGTERM, a crash) is reported when it has stopped.  A
 * statement that fails leaves the statements before it done: each
 * committed on its own.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "access/genam.h"
#include "access/table.h"
#include "commands/dbcommands.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "libpq/pqformat.h"
#include "libpq/pqmq.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "port/atomics.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shm_mq.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/backend_status.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "action.h"
#include "apply.h"
#include "downgrade.h"
#include "effects.h"
#include "ownersql.h"
#include "retry.h"
#include "runner.h"
#include "worker.h"

/*---- the shared task -------------------------------------------------------*/

#define WORKER_MAGIC	0x534d4757	/* "SMGW" */
#define WORKER_TEXT		4096
#define WORKER_QUEUE_SIZE 16384	/* its NOTICEs, on their way to the caller */

typedef enum WorkerStatus
{
	WORKER_STARTED = 0,			/* still running, or died without a word */
	WORKER_DONE,				/* every statement ran */
	WORKER_FAILED				/* statement "failed" raised an error */
} WorkerStatus;

typedef struct WorkerTask
{
	uint32		magic;
	/* set by the procedure */
	PGPROC	   *leader;			/* whose latch the worker sets */
	int			leader_pid;
	Oid			database;
	Oid			extension;		/* smig's OID: the worker's lock tag */
	Oid			connect_as;
	Oid			run_as;
	Oid			report_as;		/* the caller: who holds a lock, as it sees */
	Oid			session_user;	/* the caller's session user (ddl_log) */
	bool		retry;			/* an earlier attempt failed */
	bool		gate;			/* judged by smig.destructive (an up script) */
	bool		destructive;	/* it declares destructive changes */
	bool		print_statements;	/* the caller's smig.print_statements */
	int			lock_retries;	/* the migration's RetryPolicy */
	int			backoff_ms;
	int			nstmts;
	Size		mq_offset;		/* the message queue: the worker's NOTICEs */
	/* set by the worker */
	int			locked;			/* it holds its lock (worker_locktag) */
	int			status;			/* WorkerStatus */
	int			current;		/* index of the statement running, or -1 */
	int			failed;			/* index of the failing statement */
	int			sqlerrcode;
	char		message[WORKER_TEXT];
	char		detail[WORKER_TEXT];
	char		hint[WORKER_TEXT];
	/*
	 * NUL-terminated, in this order: version, name, "up" or "down",
	 * search_path, lock_timeout, statement_timeout, smig.destructive, then
	 * for each of the nstmts statements its line (decimal) and its text.
	 */
	char		data[FLEXIBLE_ARRAY_MEMBER];
} WorkerTask;

/* The string after s in task->data. */
static char *
next_string(char *s)
{
	return s + strlen(s) + 1;
}

/*---- the procedure's side ----------------------------------------------------*/

/* One no-transaction migration, through its three steps. */
typedef struct Step
{
	bool		up;
	const ApplyPlanItem *item;
	RunnerScript script;
	ApplyStep  *apply;
	RevertStep *revert;
	SqlStmt    *stmts;
	int			nstmts;
	bool		retry;
	Oid			connect_as;
	char	   *search_path;
	char	   *lock_timeout;
	char	   *statement_timeout;
	char	   *destructive_mode;	/* the caller's smig.destructive */
	RetryPolicy policy;
	Datum		invalid_before; /* oid[] of the indexes INVALID before */
	TimestampTz started;
	/* the outcome */
	ErrorData  *error;			/* of the wait: a cancel, no worker slot */
	int			status;
	int			failed;			/* the statement that failed or was running
								 * when the worker stopped; -1: none */
	int			sqlerrcode;
	char	   *message;
	char	   *detail;
	char	   *hint;
} Step;

/* Run fn(arg) in a subtransaction; its error, or NULL. */
static ErrorData *
in_subxact(void (*fn) (Step *), Step *s)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(s);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_END_TRY();
	return edata;
}

static const char *
script_kind_name(const Step *s)
{
	return s->up ? "up" : "down";
}

/* Step 1: the checks, the statements, what the worker needs to know. */
static void
prepare_step(Step *s)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	HeapTuple	tup;
	bool		canlogin = false;

	if (s->up)
		s->apply = apply_one_prepare(s->item->version, &s->script);
	else
		s->revert = revert_one_prepare(s->item->version_key, &s->script);
	s->stmts = runner_split_statements(&s->script, &s->nstmts);

	SPI_connect();
	values[0] = CStringGetTextDatum(s->item->version_key);
	values[1] = CStringGetTextDatum(script_kind_name(s));
	owner_exec("SELECT EXISTS (SELECT FROM smig.history h"
			   "  WHERE h.version_key OPERATOR(pg_catalog.=) $1"
			   "   AND h.action OPERATOR(pg_catalog.=) 'failed'"
			   "   AND h.direction OPERATOR(pg_catalog.=) $2)",
			   2, types, values, NULL, SPI_OK_SELECT);
	s->retry = strcmp(spi_text(0, 1), "t") == 0;
	owner_exec("SELECT coalesce(pg_catalog.array_agg(i.indexrelid), '{}')"
			   " FROM pg_catalog.pg_index i WHERE NOT i.indisvalid",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull);

		s->invalid_before = SPI_datumTransfer(d, false, -1);
	}
	SPI_finish();

	/* the caller's session user, which logged in (unless LOGIN was revoked) */
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(GetSessionUserId()));
	if (HeapTupleIsValid(tup))
	{
		canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
		ReleaseSysCache(tup);
	}
	s->connect_as = canlogin ? GetSessionUserId() : BOOTSTRAP_SUPERUSERID;
	s->search_path = pstrdup(GetConfigOption("search_path", false, false));
	s->destructive_mode = pstrdup(GetConfigOption("smig.destructive", false, false));
	retry_policy(&s->policy, s->script.lock_timeout, s->script.lock_retries,
				 s->script.statement_timeout);
	s->lock_timeout = psprintf("%d", s->policy.lock_timeout_ms);
	/* an attempt: smig's limit, or the caller's, whichever is shorter */
	s->statement_timeout = psprintf("%d",
									s->policy.statement_timeout_ms > 0 &&
									(StatementTimeout <= 0 ||
									 s->policy.statement_timeout_ms < StatementTimeout) ?
									s->policy.statement_timeout_ms : StatementTimeout);
}

/*
 * Relay what the worker's queue holds: its NOTICEs and WARNINGs reach the
 * caller as they are raised (its errors come through the task).  False
 * when the worker has detached.
 */
static bool
relay_messages(shm_mq_handle *mqh)
{
	for (;;)
	{
		Size		nbytes;
		void	   *data;
		StringInfoData msg;
		shm_mq_result res = shm_mq_receive(mqh, &nbytes, &data, true);

		if (res == SHM_MQ_WOULD_BLOCK)
			return true;
		if (res != SHM_MQ_SUCCESS)
			return false;
		initStringInfo(&msg);
		appendBinaryStringInfo(&msg, data, nbytes);
		if (pq_getmsgbyte(&msg) == 'N')
		{
			ErrorData	edata;

			pq_parse_errornotice(&msg, &edata);
			if (edata.elevel < ERROR)
				ThrowErrorData(&edata);
		}
		pfree(msg.data);
	}
}

static char *
copy_or_null(const char *s)
{
	return s[0] ? pstrdup(s) : NULL;
}

/*
 * The worker's lock: ExclusiveLock, taken as a session lock when it has
 * connected and held until it exits (ShutdownPostgres releases the locks
 * of this lock method at exit, whatever ends the process).  A tag no SQL
 * can name: type "userlock" (reserved for the old contrib/userlock, which
 * nothing uses now), in the advisory locks' method, on (database,
 * pg_extension, smig's OID, sub-id 3), so pg_advisory_* cannot take it
 * (their tags are of type "advisory") and pg_locks shows it as locktype
 * userlock, classid pg_extension, objid smig's OID, objsubid 3.  One per
 * database: a second worker in the same database (a procedure that died
 * and left its worker running, then a new deploy) waits for the first.
 * A migration's pg_advisory_unlock_all() or DISCARD ALL releases it too
 * (they release every lock of that method): the procedure then waits on
 * its latch, as before the worker took it, the other three defences
 * against the hidden deadlock unchanged.
 */
#define SMIG_LOCK_WORKER	3

static void
worker_locktag(LOCKTAG *tag, Oid database, Oid extension)
{
	tag->locktag_field1 = database;
	tag->locktag_field2 = ExtensionRelationId;
	tag->locktag_field3 = extension;
	tag->locktag_field4 = SMIG_LOCK_WORKER;
	tag->locktag_type = LOCKTAG_USERLOCK;
	tag->locktag_lockmethodid = USER_LOCKMETHOD;
}

/* How long each of the procedure's waits for the worker lasts at most. */
#define WORKER_POLL_MS	100

/*
 * Each wait ends when a timer of smig's expires: its handler raises a
 * cancel (QueryCancelPending, as the SIGINT of a cancel does), so the
 * wait ends with "canceling statement due to user request", which the
 * procedure swallows when the timer expired and no SIGINT came (a
 * cancel, or statement_timeout, whose handler sends one).  Not
 * lock_timeout: its handler sends a SIGINT too, and when it and a cancel
 * come together PostgreSQL reports only the lock timeout.
 */
static volatile sig_atomic_t poll_expired = false;
static volatile sig_atomic_t sigint_arrived = false;
static pqsigfunc caller_sigint_handler = NULL;
static bool poll_timeout_registered = false;
static TimeoutId poll_timeout;

static void
poll_timeout_handler(void)
{
	poll_expired = true;
	InterruptPending = true;
	QueryCancelPending = true;
	SetLatch(MyLatch);
}

static void
note_sigint(SIGNAL_ARGS)
{
	sigint_arrived = true;
	caller_sigint_handler(postgres_signal_arg);
}

/*
 * Wait for the worker's lock (ShareLock against its ExclusiveLock) for at
 * most WORKER_POLL_MS: a lock wait, so the deadlock detector follows the
 * procedure to the worker and pg_blocking_pids() of the caller names the
 * worker.  In a subtransaction, with lock_timeout 0 for it alone; the
 * end of the timer is swallowed, anything else (a cancel,
 * statement_timeout, a deadlock) raised.  True when the lock was granted:
 * the worker has let go of it, as it does when it exits.
 */
static bool
wait_for_worker_lock(const LOCKTAG *tag)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool granted = false;
	ErrorData  *volatile edata = NULL;

	if (!poll_timeout_registered)
	{
		poll_timeout = RegisterTimeout(USER_TIMEOUT, poll_timeout_handler);
		poll_timeout_registered = true;
	}
	poll_expired = false;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			nest = NewGUCNestLevel();

		(void) set_config_option("lock_timeout", "0", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
		enable_timeout_after(poll_timeout, WORKER_POLL_MS);
		(void) LockAcquire(tag, ShareLock, false, false);
		disable_timeout(poll_timeout, false);
		LockRelease(tag, ShareLock, false);
		granted = true;
		AtEOXact_GUC(true, nest);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		disable_timeout(poll_timeout, false);
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	/*
	 * The timer's cancel, and only it: not pending any more.  SIGINT is
	 * held meanwhile, so that one arriving between the test and the
	 * clearing is not erased (it is delivered after, and pending again).
	 */
	{
		sigset_t	sigint,
					saved;

		sigemptyset(&sigint);
		sigaddset(&sigint, SIGINT);
		sigprocmask(SIG_BLOCK, &sigint, &saved);
		if (poll_expired && !sigint_arrived)
			QueryCancelPending = false;
		sigprocmask(SIG_SETMASK, &saved, NULL);
	}
	if (edata == NULL)
		return granted;
	if (edata->sqlerrcode != ERRCODE_QUERY_CANCELED || !poll_expired ||
		sigint_arrived)
		ReThrowError(edata);
	FreeErrorData(edata);
	return false;
}

/*
 * The worker of the procedure running now, stopped if the procedure's
 * backend exits (pg_terminate_backend: a FATAL error leaves by proc_exit,
 * not through run_worker's PG_CATCH), so that it does not run the rest of
 * a migration that no history row will record.
 */
static BackgroundWorkerHandle *running_worker = NULL;
static bool exit_callback_registered = false;

static void
stop_worker_at_exit(int code, Datum arg)
{
	if (running_worker != NULL)
		TerminateBackgroundWorker(running_worker);
	running_worker = NULL;
}

/*
 * Step 2: start the worker and wait for it, holding no snapshot; on
 * cancel, stop it.  s gets the outcome.
 */
static void
run_worker(Step *s)
{
	MemoryContext cxt = CurrentMemoryContext;
	Size		size;
	dsm_segment *seg;
	WorkerTask *task;
	char	   *p;
	int			i;
	BackgroundWorker bgw;
	BackgroundWorkerHandle *volatile handle = NULL;
	LOCKTAG		tag;

	shm_mq_handle *volatile mqh = NULL;
	Size		mq_offset;

	size = offsetof(WorkerTask, data) + strlen(s->script.version) + 1 +
		strlen(s->script.name) + 1 + strlen(script_kind_name(s)) + 1 +
		strlen(s->search_path) + 1 + strlen(s->lock_timeout) + 1 +
		strlen(s->statement_timeout) + 1 + strlen(s->destructive_mode) + 1;
	for (i = 0; i < s->nstmts; i++)
		size += s->stmts[i].end - s->stmts[i].start + 1 + 12;
	mq_offset = MAXALIGN(size);
	size = mq_offset + WORKER_QUEUE_SIZE;
	seg = dsm_create(size, 0);
	task = dsm_segment_address(seg);
	memset(task, 0, offsetof(WorkerTask, data));
	task->magic = WORKER_MAGIC;
	task->leader = MyProc;
	task->leader_pid = MyProcPid;
	task->database = MyDatabaseId;
	task->extension = get_extension_oid("smig", false);
	task->connect_as = s->connect_as;
	task->run_as = s->script.run_as;
	task->report_as = GetUserId();
	task->session_user = GetSessionUserId();
	task->retry = s->retry;
	task->gate = s->up && s->script.gate;
	task->destructive = s->script.destructive;
	task->print_statements = runner_print_statements();
	task->lock_retries = s->policy.lock_retries;
	task->backoff_ms = s->policy.backoff_ms;
	task->nstmts = s->nstmts;
	task->mq_offset = mq_offset;
	task->status = WORKER_STARTED;
	task->current = -1;
	p = task->data;
	strcpy(p, s->script.version);
	p = next_string(p);
	strcpy(p, s->script.name);
	p = next_string(p);
	strcpy(p, script_kind_name(s));
	p = next_string(p);
	strcpy(p, s->search_path);
	p = next_string(p);
	strcpy(p, s->lock_timeout);
	p = next_string(p);
	strcpy(p, s->statement_timeout);
	p = next_string(p);
	strcpy(p, s->destructive_mode);
	p = next_string(p);
	for (i = 0; i < s->nstmts; i++)
	{
		Size		len = s->stmts[i].end - s->stmts[i].start;

		snprintf(p, 12, "%d", s->stmts[i].line);
		p = next_string(p);
		memcpy(p, s->script.sql + s->stmts[i].start, len);
		p[len] = '\0';
		p += len + 1;
	}

	memset(&bgw, 0, sizeof(bgw));
	bgw.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	bgw.bgw_start_time = BgWorkerStart_RecoveryFinished;
	bgw.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(bgw.bgw_library_name, BGW_MAXLEN, "smig");
	snprintf(bgw.bgw_function_name, BGW_MAXLEN, "smig_worker_main");
	snprintf(bgw.bgw_name, BGW_MAXLEN, "smig worker for migration %s",
			 s->script.version);
	snprintf(bgw.bgw_type, BGW_MAXLEN, "smig worker");
	bgw.bgw_main_arg = UInt32GetDatum(dsm_segment_handle(seg));
	bgw.bgw_notify_pid = MyProcPid;
	shm_mq_set_receiver(shm_mq_create((char *) task + mq_offset, WORKER_QUEUE_SIZE),
						MyProc);

	worker_locktag(&tag, task->database, task->extension);
	action_begin_no_transaction();
	InvalidateCatalogSnapshot();
	if (ActiveSnapshotSet() || HaveRegisteredOrActiveSnapshot())
		elog(ERROR, "smig would wait for its background worker holding a snapshot");

	sigint_arrived = false;
	caller_sigint_handler = pqsignal(SIGINT, note_sigint);
	PG_TRY();
	{
		List	   *signalled = NIL;
		pid_t		pid;
		BackgroundWorkerHandle *h;
		bool		lock_let_go = false;

		if (!RegisterDynamicBackgroundWorker(&bgw, &h))
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start a background worker for migration \"%s\" (\"%s\")",
							s->script.version, s->script.name),
					 errdetail("Every background worker slot is in use (max_worker_processes = %d).",
							   max_worker_processes),
					 errhint("Run it again when fewer background workers run, or raise max_worker_processes (a restart is needed).")));
		handle = h;
		if (!exit_callback_registered)
		{
			before_shmem_exit(stop_worker_at_exit, (Datum) 0);
			exit_callback_registered = true;
		}
		running_worker = h;
		mqh = shm_mq_attach((shm_mq *) ((char *) task + mq_offset), seg, handle);
		(void) WaitForBackgroundWorkerStartup(handle, &pid);
		for (;;)
		{
			signalled = action_end_snapshot_waiters(signalled);
			if (!relay_messages(mqh) ||
				GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
			{
				/* what it sent before it stopped */
				(void) WaitForBackgroundWorkerShutdown(handle);
				(void) relay_messages(mqh);
				break;
			}

			/*
			 * Once the worker holds its lock, wait for that; before (it is
			 * starting, or waits for another worker's lock) and after (it
			 * let go: it is exiting), on the latch, which the worker sets
			 * when it has the lock and the postmaster when it has stopped.
			 */
			pg_read_barrier();
			if (task->locked && !lock_let_go)
				lock_let_go = wait_for_worker_lock(&tag);
			else
			{
				(void) WaitLatch(MyLatch,
								 WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 WORKER_POLL_MS, PG_WAIT_EXTENSION);
				ResetLatch(MyLatch);
				CHECK_FOR_INTERRUPTS();
			}
		}
		pqsignal(SIGINT, caller_sigint_handler);
	}
	PG_CATCH();
	{
		pqsignal(SIGINT, caller_sigint_handler);
		MemoryContextSwitchTo(cxt);
		s->error = CopyErrorData();
		FlushErrorState();
		/* a worker waiting for room in the queue must not wait for us */
		if (mqh != NULL)
			shm_mq_detach(mqh);
		mqh = NULL;
		if (handle != NULL)
		{
			/* stop the worker, and let it end its transaction first */
			HOLD_INTERRUPTS();
			TerminateBackgroundWorker(handle);
			(void) WaitForBackgroundWorkerShutdown(handle);
			RESUME_INTERRUPTS();
		}
	}
	PG_END_TRY();
	running_worker = NULL;
	action_end_no_transaction();
	if (mqh != NULL)
		shm_mq_detach(mqh);

	pg_read_barrier();
	s->status = task->status;
	s->failed = task->status == WORKER_FAILED ? task->failed : task->current;
	s->sqlerrcode = task->sqlerrcode;
	s->message = copy_or_null(task->message);
	s->detail = copy_or_null(task->detail);
	s->hint = copy_or_null(task->hint);
	dsm_detach(seg);
}

/* The indexes that became INVALID during the migration, "a, b", or NULL. */
static char *
new_invalid_indexes(const Step *s)
{
	Oid			types[1] = {OIDARRAYOID};
	Datum		values[1] = {s->invalid_before};
	StringInfoData list;
	uint64		i;

	owner_exec("SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'"
			   "  OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname)"
			   " FROM pg_catalog.pg_index i"
			   " JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid"
			   " JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
			   " WHERE NOT i.indisvalid"
			   "  AND NOT i.indexrelid OPERATOR(pg_catalog.=) ANY ($1)"
			   "  AND NOT EXISTS (SELECT FROM pg_catalog.pg_stat_progress_create_index b"
			   "   WHERE b.index_relid OPERATOR(pg_catalog.=) i.indexrelid)"
			   " ORDER BY 1",
			   1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		return NULL;
	initStringInfo(&list);
	for (i = 0; i < SPI_processed; i++)
		appendStringInfo(&list, "%s%s", i ? ", " : "", spi_text(i, 1));
	return list.data;
}

/*
 * The error the worker reported, as PostgreSQL reports it, with the line
 * of the failing statement as CONTEXT.
 */
static void
raise_worker_error(const Step *s)
{
	const SqlStmt *st = &s->stmts[s->failed];

	ereport(ERROR,
			(errcode(s->sqlerrcode),
			 errmsg_internal("%s", s->message ? s->message : "?"),
			 s->detail ? errdetail_internal("%s", s->detail) : 0,
			 s->hint ? errhint("%s", s->hint) : 0,
			 errcontext("line %d of the %s script of migration \"%s\" (\"%s\"), in a background worker",
						st->line, script_kind_name(s), s->script.version,
						s->script.name)));
}

/* Step 3: the outcome; the history row if the migration is done. */
static void
finish_step(Step *s)
{
	char	   *invalid;

	SPI_connect();
	invalid = new_invalid_indexes(s);
	if (s->error == NULL && s->status == WORKER_DONE && invalid != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("migration \"%s\" (\"%s\") left invalid index %s",
						s->script.version, s->script.name, invalid),
				 errdetail("Its statements finished, but pg_index marks these indexes INVALID: a concurrent build did not complete."),
				 errhint("Drop them (DROP INDEX CONCURRENTLY), fix the cause and run the migration again.")));
	if (invalid != NULL)
		ereport(WARNING,
				(errmsg("migration \"%s\" (\"%s\") left invalid index %s",
						s->script.version, s->script.name, invalid),
				 errdetail("A concurrent build that fails leaves its index INVALID; statements before the failing one stay done."),
				 errhint("Fix the cause and run the migration again: it drops the INVALID indexes it left before building again.")));
	if (s->error != NULL)
	{
		SPI_finish();
		return;
	}
	if (s->status == WORKER_FAILED)
		raise_worker_error(s);
	if (s->status != WORKER_DONE)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("background worker of migration \"%s\" (\"%s\") exited before it finished",
						s->script.version, s->script.name),
				 errdetail("It stopped without reporting success or an error (terminated, or it could not connect); the server log says why."),
				 errhint("Statements of the migration that committed stay done; check them, then run the migration again.")));
	SPI_finish();
	if (s->up)
		apply_one_record(s->apply, s->started,
						 GetCurrentTimestamp() - s->started);
	else
		revert_one_record(s->revert, s->started,
						  GetCurrentTimestamp() - s->started);
}

static char *failed_statement = NULL;

const char *
worker_failed_statement(void)
{
	return failed_statement;
}

ErrorData *
worker_run_step(bool up, const ApplyPlanItem *item)
{
	Step	   *s = palloc0(sizeof(Step));
	ErrorData  *edata;

	failed_statement = NULL;
	s->up = up;
	s->item = item;
	s->started = GetCurrentTimestamp();
	edata = in_subxact(prepare_step, s);
	if (edata != NULL)
		return edata;
	/* end the transaction and its snapshot: we must not hold one */
	SPI_commit();
	run_worker(s);
	EnsurePortalSnapshotExists();
	edata = in_subxact(finish_step, s);
	if (s->status != WORKER_DONE && s->failed >= 0)
	{
		const SqlStmt *st = &s->stmts[s->failed];

		failed_statement = psprintf("line %d: %.*s", st->line,
									(int) (st->end - st->start),
									s->script.sql + st->start);
	}
	return s->error ? s->error : edata;
}

/*---- the worker's side -------------------------------------------------------*/

/*
 * Run sql as exec_simple_query runs a query string: in a transaction of
 * its own, each parse tree a portal run as a top-level command, so that
 * CREATE INDEX CONCURRENTLY and VACUUM accept it.  Parse trees live in
 * cxt, which survives the commits a concurrent build makes.  For a
 * statement of the migration (migration), the destructive-change gate
 * judges what it did before it commits: nothing rolls it back after that.
 *
 * A statement of the migration must be one statement to the parser too:
 * the lexer split the script and registration checked each piece (no
 * transaction control, no COPY through the client), but the server may
 * read the text differently (a "SET standard_conforming_strings = off"
 * earlier in the migration makes 'a\' || '; BEGIN; --' two statements,
 * where the lexer saw one string): what registration never saw would run
 * here, where nothing refuses it, and a smuggled BEGIN left every later
 * statement uncommitted while the history recorded the migration applied.
 */
static void
run_statement(const char *sql, MemoryContext cxt, bool migration)
{
	List	   *parsetrees;
	ListCell   *lc;

	StartTransactionCommand();
	MemoryContextSwitchTo(cxt);
	if (StatementTimeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, StatementTimeout);
	parsetrees = pg_parse_query(sql);
	if (migration && list_length(parsetrees) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("statement of a migration reads as %d statements in the background worker",
						list_length(parsetrees)),
				 errdetail("Registration split the script into statements as standard SQL reads it; with the settings in force here (such as standard_conforming_strings) the server reads this one as several, which registration did not check."),
				 errhint("Write backslashes in E'...' strings or dollar quotes, do not turn standard_conforming_strings off in a migration, and register it again.")));
	foreach(lc, parsetrees)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		bool		snapshot_set = false;
		List	   *querytrees;
		List	   *plantrees;
		Portal		portal;
		DestReceiver *receiver;
		QueryCompletion qc;

		/* registration refused them; one reaching here was smuggled */
		if (migration && IsA(parsetree->stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("transaction control statements cannot run in a migration"),
					 errdetail("The background worker runs each statement of a no-transaction migration in a transaction of its own."),
					 errhint("Remove the statement, or split the migration in two.")));
		if (migration)
			effects_before_statement(parsetree->stmt);
		if (analyze_requires_snapshot(parsetree))
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			snapshot_set = true;
		}
		querytrees = pg_analyze_and_rewrite_fixedparams(parsetree, sql,
														NULL, 0, NULL);
		plantrees = pg_plan_queries(querytrees, sql, CURSOR_OPT_PARALLEL_OK,
									NULL);
		if (snapshot_set)
			PopActiveSnapshot();

		portal = CreatePortal("", true, true);
		portal->visible = false;
		PortalDefineQuery(portal, NULL, sql,
						  CreateCommandTag(parsetree->stmt), plantrees, NULL);
		PortalStart(portal, NULL, 0, InvalidSnapshot);
		receiver = CreateDestReceiver(DestNone);
		(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver, &qc);
		receiver->rDestroy(receiver);
		PortalDrop(portal, false);
		CommandCounterIncrement();
	}
	if (migration)
		effects_finish(true);
	CommitTransactionCommand();
	disable_timeout(STATEMENT_TIMEOUT, false);
	MemoryContextSwitchTo(cxt);
}

/* The CREATE INDEX that sql is, with a name, or NULL. */
static IndexStmt *
named_index_statement(const char *sql)
{
	List	   *parsetrees = raw_parser(sql, RAW_PARSE_DEFAULT);
	RawStmt    *raw;

	if (list_length(parsetrees) != 1)
		return NULL;
	raw = linitial_node(RawStmt, parsetrees);
	if (!IsA(raw->stmt, IndexStmt) || ((IndexStmt *) raw->stmt)->idxname == NULL)
		return NULL;
	return (IndexStmt *) raw->stmt;
}

/*
 * The index that stmt names, on its table, if it exists and is INVALID:
 * its qualified name (in cxt), or NULL.  In a transaction of its own.
 */
static char *
invalid_index_of(IndexStmt *stmt, MemoryContext cxt)
{
	char	   *result = NULL;
	Oid			relid;

	StartTransactionCommand();
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (OidIsValid(relid))
	{
		Oid			nsp = get_rel_namespace(relid);
		Oid			idx = get_relname_relid(stmt->idxname, nsp);
		HeapTuple	tup = OidIsValid(idx) ?
			SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx)) : NULL;

		if (HeapTupleIsValid(tup))
		{
			Form_pg_index form = (Form_pg_index) GETSTRUCT(tup);

			if (!form->indisvalid && form->indrelid == relid)
				result = MemoryContextStrdup(cxt,
											 quote_qualified_identifier(get_namespace_name(nsp),
																		stmt->idxname));
			ReleaseSysCache(tup);
		}
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return result;
}

/*
 * Leftovers that no name tells: an unnamed CREATE INDEX CONCURRENTLY, the
 * <name>_ccnew / _ccold indexes of REINDEX CONCURRENTLY.  Before each
 * statement the worker notes the INVALID indexes (invalid_indexes_now);
 * the ones that are INVALID after it failed and no other session is
 * building are its leftovers (leftovers_since).  A lock-timeout retry of
 * the statement drops them; a failure marks them with a COMMENT naming
 * the migration, and the next run of the migration drops the INVALID
 * indexes that carry its mark (drop_marked_leftovers), and no other.
 * Only indexes the run-as role (the current user here) owns count: the
 * COMMENT smig marks with needs that, and anyone can write the mark's
 * text on an index of their own, which the retry must not try to drop
 * (it failed on it, every run, "must be owner").
 */
#define LEFTOVER_QUERY \
	"SELECT pg_catalog.quote_ident(n.nspname) OPERATOR(pg_catalog.||) '.'" \
	"  OPERATOR(pg_catalog.||) pg_catalog.quote_ident(c.relname)" \
	" FROM pg_catalog.pg_index i" \
	" JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) i.indexrelid" \
	" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace" \
	" WHERE NOT i.indisvalid" \
	" AND pg_catalog.pg_has_role(c.relowner, 'USAGE')" \
	" AND pg_catalog.has_schema_privilege(n.oid, 'USAGE') AND "

/*
 * Run query (one text column; $1, if arg, is arg) in a transaction of its
 * own; its values, in cxt.
 */
static List *
worker_query(const char *query, const char *arg, MemoryContext cxt)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];
	List	   *result = NIL;
	uint64		i;

	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (arg != NULL)
		values[0] = CStringGetTextDatum(arg);
	if (SPI_execute_with_args(query, arg ? 1 : 0, types, values, NULL,
							  true, 0) != SPI_OK_SELECT)
		elog(ERROR, "smig worker: could not read the invalid indexes");
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[i],
									 SPI_tuptable->tupdesc, 1);

		MemoryContext spicxt = MemoryContextSwitchTo(cxt);

		result = lappend(result, pstrdup(v ? v : ""));
		MemoryContextSwitchTo(spicxt);
	}
	PopActiveSnapshot();
	SPI_finish();
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	return result;
}

/* The OIDs of the INVALID indexes, as an oid[] literal, in cxt. */
static char *
invalid_indexes_now(MemoryContext cxt)
{
	return linitial(worker_query("SELECT coalesce(pg_catalog.array_agg(i.indexrelid), '{}')::pg_catalog.text"
								 " FROM pg_catalog.pg_index i WHERE NOT i.indisvalid",
								 NULL, cxt));
}

/*
 * before (an oid[] literal) and the indexes that other sessions are
 * building now (CREATE INDEX, REINDEX), as an oid[] literal, in cxt.  Read
 * from the backends' status in C: pg_stat_progress_create_index shows the
 * run-as role only its own sessions' builds (without pg_read_all_stats),
 * so a superuser's or a colleague login's concurrent build on the run-as
 * role's table passed for the worker's leftover, and a lock-timeout
 * retry tried to drop it (and COMMENTed it for the next run to drop).
 */
static char *
and_indexes_being_built(const char *before, MemoryContext cxt)
{
	StringInfoData buf;
	int			n;
	int			i;
	MemoryContext oldcxt = MemoryContextSwitchTo(cxt);

	initStringInfo(&buf);
	/* "{1,2}" or "{}": all of it but the closing brace */
	appendBinaryStringInfo(&buf, before, strlen(before) - 1);
	MemoryContextSwitchTo(oldcxt);
	StartTransactionCommand();
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *local = pgstat_fetch_stat_local_beentry(i);
		PgBackendStatus *be = local ? &local->backendStatus : NULL;
		MemoryContext c;

		if (be == NULL || be->st_procpid == MyProcPid ||
			be->st_progress_command != PROGRESS_COMMAND_CREATE_INDEX ||
			be->st_progress_param[PROGRESS_CREATEIDX_INDEX_OID] == 0)
			continue;
		c = MemoryContextSwitchTo(cxt);
		appendStringInfo(&buf, "%s%u", buf.len > 1 ? "," : "",
						 (Oid) be->st_progress_param[PROGRESS_CREATEIDX_INDEX_OID]);
		MemoryContextSwitchTo(c);
	}
	CommitTransactionCommand();
	MemoryContextSwitchTo(cxt);
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* The INVALID indexes that are not in before and no other session builds. */
static List *
leftovers_since(const char *before, MemoryContext cxt)
{
	return worker_query(LEFTOVER_QUERY
						" NOT i.indexrelid OPERATOR(pg_catalog.=) ANY ($1::pg_catalog.oid[])"
						" ORDER BY 1",
						and_indexes_being_built(before, cxt), cxt);
}

/* The COMMENT smig puts on a leftover of migration version's kind script. */
static char *
leftover_mark(const char *version, const char *kind)
{
	return psprintf("smig: INVALID leftover of the %s script of migration %s, dropped when it runs again",
					kind, version);
}

/* Drop each of names (DROP INDEX CONCURRENTLY), with a NOTICE why. */
static void
drop_leftovers(List *names, const char *why, MemoryContext cxt)
{
	ListCell   *lc;

	foreach(lc, names)
	{
		const char *idx = lfirst(lc);

		run_statement(psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s", idx), cxt, false);
		ereport(NOTICE,
				(errmsg("dropped invalid index %s before building it again", idx),
				 errdetail_internal("%s", why)));
	}
}

/*
 * After a failed statement: mark its leftovers so that the next run of the
 * migration drops them.  Never raises: a mark that cannot be set (say, the
 * run-as role does not own the index) leaves the index for the user, whom
 * the procedure's WARNING names it to.
 */
static void
mark_leftovers(const char *before, const char *version, const char *kind,
			   MemoryContext cxt)
{
	MemoryContext oldcxt = CurrentMemoryContext;

	PG_TRY();
	{
		List	   *names = leftovers_since(before, cxt);
		ListCell   *lc;

		foreach(lc, names)
			run_statement(psprintf("COMMENT ON INDEX %s IS %s", (char *) lfirst(lc),
								   quote_literal_cstr(leftover_mark(version, kind))),
						  cxt, false);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		disable_timeout(STATEMENT_TIMEOUT, false);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
}

/* A retry of the migration: drop the INVALID indexes carrying its mark. */
static void
drop_marked_leftovers(const char *version, const char *name, const char *kind,
					  MemoryContext cxt)
{
	List	   *names = worker_query(LEFTOVER_QUERY
									 " pg_catalog.obj_description(i.indexrelid, 'pg_class')"
									 "  OPERATOR(pg_catalog.=) $1"
									 " ORDER BY 1",
									 leftover_mark(version, kind), cxt);

	drop_leftovers(names,
				   psprintf("An earlier attempt of migration \"%s\" (\"%s\") failed and left it INVALID.",
							version, name),
				   cxt);
}

/* Keep the error being handled in task. */
static void
report_error(WorkerTask *task, int failed)
{
	ErrorData  *edata = CopyErrorData();

	task->failed = failed;
	task->sqlerrcode = edata->sqlerrcode;
	strlcpy(task->message, edata->message ? edata->message : "", WORKER_TEXT);
	strlcpy(task->detail, edata->detail ? edata->detail : "", WORKER_TEXT);
	strlcpy(task->hint, edata->hint ? edata->hint : "", WORKER_TEXT);
	FreeErrorData(edata);
}

/* One statement of the migration, through its attempts. */
typedef struct WorkerStatement
{
	WorkerTask *task;
	const RunnerScript *gate;	/* what the destructive-change gate judges */
	const char *version;
	const char *name;
	const char *kind;
	const char *sql;
	int			line;
	int			attempt;		/* 1, then each retry after a lock timeout */
	MemoryContext cxt;
	char	   *before;			/* the INVALID indexes before it, oid[] */
} WorkerStatement;

/* CONTEXT of what the worker raises: the caller relays its NOTICEs. */
static void
worker_error_callback(void *arg)
{
	WorkerStatement *ws = arg;

	errcontext("line %d of the %s script of migration \"%s\" (\"%s\"), in a background worker",
			   ws->line, ws->kind, ws->version, ws->name);
}

/*
 * One attempt of a statement (retry_top_level runs it again after a lock
 * timeout): note the INVALID indexes (the first attempt) or drop the ones
 * the attempt that timed out left, run it, check the index it names is
 * valid.
 */
static void
run_migration_statement(void *arg)
{
	WorkerStatement *ws = arg;
	const char *sql = ws->sql;
	MemoryContext cxt = ws->cxt;
	IndexStmt  *index = named_index_statement(sql);
	char	   *invalid;

	ws->attempt++;
	if (ws->attempt == 1)
		ws->before = invalid_indexes_now(cxt);
	else
		drop_leftovers(leftovers_since(ws->before, cxt),
					   "The attempt that timed out on a lock left it INVALID.", cxt);
	/* smig's own drops and COMMENTs are not the migration's changes */
	effects_resume(ws->gate);
	run_statement(sql, cxt, true);
	effects_end();
	if (index != NULL && (invalid = invalid_index_of(index, cxt)) != NULL)
	{
		/* the statement claims it: the next run drops it */
		run_statement(psprintf("COMMENT ON INDEX %s IS %s", invalid,
							   quote_literal_cstr(leftover_mark(ws->version, ws->kind))),
					  cxt, false);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("index %s is invalid", invalid),
				 errdetail("The statement succeeded, but pg_index marks the index it names INVALID: a concurrent build that failed left it, and IF NOT EXISTS kept it."),
				 errhint("Run the migration again: it drops an INVALID index of a name it builds before building it again.")));
	}
}

/* Set a setting for the worker's session. */
static void
set_session(const char *name, const char *value)
{
	(void) set_config_option(name, value, PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
}

void
smig_worker_main(Datum main_arg)
{
	dsm_segment *seg;
	WorkerTask *task;
	MemoryContext cxt;
	char	   *version;
	char	   *name;
	char	   *kind;
	char	   *p;
	int			i;
	volatile bool failed = false;
	RetryPolicy policy = {0};
	RunnerScript gate = {0};
	shm_mq_handle *mqh;
	LOCKTAG		tag;

	pqsignal(SIGTERM, die);
	pqsignal(SIGINT, StatementCancelHandler);
	BackgroundWorkerUnblockSignals();
	CurrentResourceOwner = ResourceOwnerCreate(NULL, "smig worker");
	seg = dsm_attach(DatumGetUInt32(main_arg));
	if (seg == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("could not map the shared memory of smig's background worker")));
	task = dsm_segment_address(seg);
	if (task->magic != WORKER_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("bad magic number in the shared memory of smig's background worker")));
	/* the NOTICEs the worker raises go to the procedure, which relays them */
	shm_mq_set_sender((shm_mq *) ((char *) task + task->mq_offset), MyProc);
	mqh = shm_mq_attach((shm_mq *) ((char *) task + task->mq_offset), seg, NULL);
	pq_redirect_to_shm_mq(seg, mqh);
	/* the procedure is gone: nothing to do */
	if (BackendPidGetProc(task->leader_pid) != task->leader)
		return;
	BackgroundWorkerInitializeConnectionByOid(task->database, task->connect_as, 0);

	/*
	 * The lock the procedure waits for (worker_locktag), until we exit; then
	 * wake the procedure, which waits on its latch until we hold it.
	 */
	worker_locktag(&tag, task->database, task->extension);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	task->locked = true;
	pg_write_barrier();
	SetLatch(&task->leader->procLatch);

	/*
	 * The caller's session user, as in the caller's transaction: the audit
	 * triggers record it as smig.ddl_log.session_role (a NOLOGIN run-as
	 * role had the bootstrap superuser there).  Then the run-as role, as
	 * the runner runs a migration: no SET ROLE or SET SESSION
	 * AUTHORIZATION back.
	 */
	if (task->connect_as != task->session_user)
	{
		StartTransactionCommand();
		SetSessionAuthorization(task->session_user,
								superuser_arg(task->session_user));
		CommitTransactionCommand();
	}
	SetUserIdAndSecContext(task->run_as, SECURITY_LOCAL_USERID_CHANGE);

	/*
	 * What the error context and the audit marker name is copied out of the
	 * segment: a FATAL (the caller terminating us) runs no PG_CATCH, and
	 * whatever reports an error on the way out, after the segment is
	 * unmapped, still finds our callback on the context stack.
	 */
	version = MemoryContextStrdup(TopMemoryContext, task->data);
	name = MemoryContextStrdup(TopMemoryContext, next_string(task->data));
	kind = MemoryContextStrdup(TopMemoryContext,
							   next_string(next_string(task->data)));
	p = next_string(next_string(next_string(task->data)));
	StartTransactionCommand();
	set_session("application_name", "smig worker");
	set_session("search_path", p);
	p = next_string(p);
	set_session("lock_timeout", p);
	p = next_string(p);
	set_session("statement_timeout", p);
	p = next_string(p);
	/* the caller's gate (superuser-only: no SET in the migration changes it) */
	(void) set_config_option("smig.destructive", p, PGC_SUSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
	p = next_string(p);
	CommitTransactionCommand();
	gate.version = version;
	gate.name = name;
	gate.kind = RUNNER_SCRIPT_UP;
	gate.run_as = task->run_as;
	gate.gate = task->gate;
	gate.destructive = task->destructive;
	effects_begin(&gate);
	effects_end();
	policy.lock_timeout_ms = LockTimeout;
	policy.lock_retries = task->lock_retries;
	policy.backoff_ms = task->backoff_ms;

	cxt = AllocSetContextCreate(TopMemoryContext, "smig worker statement",
								ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(cxt);
	for (i = 0; i < task->nstmts && !failed; i++, p = next_string(p))
	{
		WorkerStatement ws = {task, &gate, version, name, kind, NULL, 0, 0, cxt, NULL};
		ErrorContextCallback errcb;

		ws.line = atoi(p);
		p = next_string(p);
		ws.sql = pstrdup(p);	/* in cxt, reset after each statement */
		task->current = i;
		runner_set_current(version, ws.sql, ws.line);
		pgstat_report_activity(STATE_RUNNING, ws.sql);
		if (task->print_statements)
			runner_echo_statement(version, name, strcmp(kind, "down") == 0,
								  false, ws.line, ws.sql);
		errcb.callback = worker_error_callback;
		errcb.arg = &ws;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		PG_TRY();
		{
			if (i == 0 && task->retry)
				drop_marked_leftovers(version, name, kind, cxt);
			retry_top_level(&policy, run_migration_statement, NULL, &ws,
							task->report_as);
		}
		PG_CATCH();
		{
			MemoryContextSwitchTo(TopMemoryContext);
			report_error(task, i);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			disable_timeout(STATEMENT_TIMEOUT, false);
			failed = true;
			if (ws.before != NULL)
				mark_leftovers(ws.before, version, kind, cxt);
		}
		PG_END_TRY();
		error_context_stack = errcb.previous;
		MemoryContextSwitchTo(cxt);
		MemoryContextReset(cxt);
	}
	runner_set_current(NULL, NULL, 0);
	pgstat_report_activity(STATE_IDLE, NULL);
	pg_write_barrier();
	task->status = failed ? WORKER_FAILED : WORKER_DONE;
	dsm_detach(seg);
}
