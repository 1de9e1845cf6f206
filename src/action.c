/*-------------------------------------------------------------------------
 * action.c
 *	  Preconditions and the deploy lock of every state-changing entry point.
 *
 * An action that changes what is applied (upgrade, apply, baseline,
 * repair) calls action_begin() before it reads any state:
 *	 1. not from inside a migration (a migration cannot apply migrations);
 *	 2. not on a standby, not in a read-only transaction;
 *	 3. READ COMMITTED: a REPEATABLE READ or SERIALIZABLE snapshot predates
 *		the lock, so it could miss what a concurrent upgrader committed;
 *	 4. the deploy lock, held until the transaction ends.
 * Registration only needs 2 (action_check_writable).  Both first check
 * that the database's smig objects are the version this library serves
 * (check_sql_version).
 *
 * The deploy lock is a heavyweight lock on a tag no SQL can name: the
 * object lock (pg_extension, the smig extension's OID, sub-id 1).  Core
 * locks an extension only with sub-id 0 (ALTER/DROP EXTENSION, COMMENT),
 * and no SQL function takes object locks, so no role can take or hold it
 * to stop deploys -- unlike an advisory key, which any role can lock.  It
 * is an ordinary lock: transaction-scoped (safe behind a pooler in
 * transaction mode), seen by the deadlock detector, shown in pg_locks
 * (locktype "object", classid pg_extension, objsubid 1), and released by
 * commit, abort or the end of the backend.  The form that spans commits,
 * for procedures that commit per migration (action_begin_session), takes
 * the same tag as a session lock; see "the deploy lock across commits".
 *
 * Whoever has to wait is told who holds the lock (NOTICE), then waits as
 * for any lock (lock_timeout and statement_timeout apply).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <signal.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "action.h"
#include "ownersql.h"
#include "runner.h"

/* Sub-ids of the object locks on smig's pg_extension row. */
#define SMIG_LOCK_DEPLOY	1
#define SMIG_LOCK_NO_TRANSACTION	2	/* a no-transaction migration runs */

/*
 * The library serves the SQL objects of its own version only.  Between
 * installing a new library and ALTER EXTENSION smig UPDATE, a database
 * still has the old version's tables and functions: refuse to change
 * anything, and say so, rather than fail on a column the old tables lack.
 * The audit triggers and the read-only functions go on working meanwhile;
 * they use only what every version has.
 */
static void
check_sql_version(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("smig"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		datum = heap_getattr(tuple, Anum_pg_extension_extversion,
										 RelationGetDescr(rel), &isnull);
		char	   *sql_version = isnull ? "?" : TextDatumGetCString(datum);

		if (strcmp(sql_version, SMIG_LIBRARY_VERSION) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("smig's objects in this database are version %s, but its library is version %s",
							sql_version, SMIG_LIBRARY_VERSION),
					 errdetail("The library serves only the objects of its own version. Until they are updated, DDL is still logged and the read-only functions work, but nothing can be registered, applied or reverted."),
					 errhint("Run ALTER EXTENSION smig UPDATE in this database.")));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

void
action_check_writable(const char *what)
{
	check_sql_version();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s on a standby server", what),
				 errdetail("This server is in recovery; its schema follows the primary's."),
				 errhint("Connect to the primary server.")));
	if (XactReadOnly)
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot %s in a read-only transaction", what),
				 errhint("Run it in a read-write transaction.")));
}

/*
 * Tell the waiting session who holds the deploy lock: every process
 * holding it, with its role, application and transaction start.
 */
static void
report_lock_holders(Oid extoid)
{
	Oid			types[2] = {OIDOID, INT4OID};
	Datum		values[2] = {ObjectIdGetDatum(extoid), Int32GetDatum(SMIG_LOCK_DEPLOY)};
	uint64		i;

	SPI_connect();
	owner_exec("SELECT l.pid, coalesce(a.usename::text, '?'),"
			   "  coalesce(a.application_name, ''),"
			   "  coalesce(a.xact_start::text, '?')"
			   " FROM pg_catalog.pg_locks l"
			   " LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid"
			   " WHERE l.locktype = 'object' AND l.granted"
			   "  AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d"
			   "                     WHERE d.datname = pg_catalog.current_database())"
			   "  AND l.classid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
			   "  AND l.objid = $1 AND l.objsubid = $2"
			   " ORDER BY l.pid",
			   2, types, values, NULL, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
		ereport(NOTICE,
				(errmsg("waiting for the deploy lock held by role \"%s\"",
						spi_text(i, 2)),
				 errdetail("Process %s (application \"%s\") holds it in a transaction started at %s.",
						   spi_text(i, 1), spi_text(i, 3), spi_text(i, 4)),
				 errhint("Another deploy is running; this one continues when it commits or rolls back.")));
	if (SPI_processed == 0)
		ereport(NOTICE,
				(errmsg("waiting for the deploy lock")));
	SPI_finish();
}

/*---- waiting while a no-transaction migration runs --------------------------*
 * A no-transaction migration's concurrent statements (CREATE INDEX
 * CONCURRENTLY, ...) wait for every transaction with an older snapshot.
 * A deployer waiting for the deploy lock inside SELECT smig.upgrade_head()
 * has one, and the deploy lock is held by the procedure that waits for the
 * worker: the hidden deadlock (README, "No-transaction migrations").  So
 * while the procedure's worker runs, it holds a second lock
 * (SMIG_LOCK_NO_TRANSACTION), and
 *	 - a session that finds the deploy lock taken and that lock held fails
 *	   at once instead of queuing (refuse_during_no_transaction);
 *	 - a session already queued with a snapshot is cancelled by the
 *	   procedure (action_end_snapshot_waiters, every 100 ms while it
 *	   waits), and its cancel becomes the same clear error.
 * And the procedure's wait is a lock wait on a lock its worker holds
 * (worker.c: type userlock, sub-id 3 of the same object), so the deadlock
 * detector and pg_blocking_pids() see it.
 */
static void
object_locktag(LOCKTAG *tag, Oid extoid, int subid)
{
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, ExtensionRelationId, extoid, subid);
}

/* Does some session run a no-transaction migration now? */
static bool
no_transaction_running(Oid extoid)
{
	LOCKTAG		tag;
	int			count = 0;

	object_locktag(&tag, extoid, SMIG_LOCK_NO_TRANSACTION);
	(void) GetLockConflicts(&tag, ShareLock, &count);
	return count > 0;
}

static void
refuse_during_no_transaction(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
			 errmsg("cannot wait for the deploy lock while a no-transaction migration runs"),
			 errdetail("Its concurrent statements (such as CREATE INDEX CONCURRENTLY) wait for every transaction with an older snapshot, this one included, while its deploy holds the lock: waiting would never end."),
			 errhint("Deploy again when CALL smig.upgrade() or CALL smig.downgrade_to() has finished; pg_stat_activity shows its worker with backend_type \"smig worker\".")));
}

/*
 * Wait for the deploy lock (session: as a session lock), unless a
 * no-transaction migration runs; a cancel while one runs becomes the same
 * error (the procedure cancels waiters that hold a snapshot).
 */
static void
wait_for_deploy_lock(Oid extoid, bool session)
{
	LOCKTAG		tag;
	MemoryContext cxt = CurrentMemoryContext;

	if (no_transaction_running(extoid))
		refuse_during_no_transaction();
	report_lock_holders(extoid);
	object_locktag(&tag, extoid, SMIG_LOCK_DEPLOY);
	PG_TRY();
	{
		(void) LockAcquire(&tag, ExclusiveLock, session, false);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		if (edata->sqlerrcode == ERRCODE_QUERY_CANCELED &&
			no_transaction_running(extoid))
		{
			FlushErrorState();
			refuse_during_no_transaction();
		}
		FreeErrorData(edata);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

/* Take the deploy lock until the end of the transaction. */
static void
lock_deploy(void)
{
	Oid			extoid = get_extension_oid("smig", false);

	if (ConditionalLockDatabaseObject(ExtensionRelationId, extoid,
									  SMIG_LOCK_DEPLOY, ExclusiveLock))
		return;
	wait_for_deploy_lock(extoid, false);
}

/* Preconditions 1-3 of the file header. */
static void
check_preconditions(const char *what)
{
	if (runner_current_version() != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot %s from inside migration \"%s\"", what,
						runner_current_version()),
				 errdetail("A migration cannot apply, baseline or repair migrations itself.")));
	action_check_writable(what);
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("cannot %s in a %s transaction", what,
						IsolationIsSerializable() ? "SERIALIZABLE" : "REPEATABLE READ"),
				 errdetail("Its snapshot predates smig's lock, so it could miss migrations that a concurrent upgrade applied."),
				 errhint("Run it in a READ COMMITTED transaction, the default.")));
}

void
action_begin(const char *what)
{
	check_preconditions(what);
	lock_deploy();
}

/*---- the deploy lock across commits ----------------------------------------*
 * A procedure that commits after each migration (procedure.c) holds the
 * same lock as a session lock, so that no other deploy starts between its
 * transactions.  Its transactions' own action_begin() calls then find the
 * lock already held by this backend and go on.  It is released
 *	 - by action_end_session(), which the procedure calls on its way out,
 *	   also from its error path;
 *	 - by any abort of a top-level transaction, which releases session
 *	   locks too (ProcReleaseLocks): an error, a cancel, statement_timeout;
 *	 - at the end of the backend (the abort of its last transaction), and
 *	   with all shared memory when a backend crashes and the postmaster
 *	   reinitialises it.
 */
static bool session_lock_held = false;

static void
deploy_locktag(LOCKTAG *tag, Oid *extoid)
{
	*extoid = get_extension_oid("smig", false);
	SET_LOCKTAG_OBJECT(*tag, MyDatabaseId, ExtensionRelationId, *extoid,
					   SMIG_LOCK_DEPLOY);
}

void
action_begin_session(const char *what)
{
	LOCKTAG		tag;
	Oid			extoid;

	check_preconditions(what);
	deploy_locktag(&tag, &extoid);
	if (LockAcquire(&tag, ExclusiveLock, true, true) == LOCKACQUIRE_NOT_AVAIL)
		wait_for_deploy_lock(extoid, true);
	session_lock_held = true;
}

void
action_end_session(void)
{
	LOCKTAG		tag;
	Oid			extoid;

	if (!session_lock_held)
		return;
	session_lock_held = false;
	deploy_locktag(&tag, &extoid);
	(void) LockRelease(&tag, ExclusiveLock, true);
}

/*---- the no-transaction lock (see "waiting while ...") ----------------------*/
static bool no_transaction_held = false;
static LOCKTAG deploy_tag;			/* for the sweep: no catalog access */

void
action_begin_no_transaction(void)
{
	LOCKTAG		tag;
	Oid			extoid = get_extension_oid("smig", false);

	object_locktag(&deploy_tag, extoid, SMIG_LOCK_DEPLOY);
	object_locktag(&tag, extoid, SMIG_LOCK_NO_TRANSACTION);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
	no_transaction_held = true;
}

void
action_end_no_transaction(void)
{
	LOCKTAG		tag;

	if (!no_transaction_held)
		return;
	no_transaction_held = false;
	tag = deploy_tag;
	tag.locktag_field4 = SMIG_LOCK_NO_TRANSACTION;
	if (!LockRelease(&tag, ExclusiveLock, true))
		elog(WARNING, "smig's no-transaction lock was not held");
}

/*
 * Cancel every session waiting for the deploy lock with a snapshot (an
 * xmin): a concurrent build would wait for it, and it for us.  Each
 * process is signalled once per no-transaction migration (signalled, a
 * list of pids, grows).  Reads the lock table, not the catalogs: no
 * snapshot of our own.
 */
List *
action_end_snapshot_waiters(List *signalled)
{
	LockData   *data;
	int			i;

	if (!no_transaction_held)
		return signalled;
	data = GetLockStatusData();
	for (i = 0; i < data->nelements; i++)
	{
		LockInstanceData *inst = &data->locks[i];
		PGPROC	   *proc;

		if (inst->waitLockMode == NoLock || inst->pid == MyProcPid ||
			memcmp(&inst->locktag, &deploy_tag, sizeof(LOCKTAG)) != 0 ||
			list_member_int(signalled, inst->pid))
			continue;
		proc = BackendPidGetProc(inst->pid);
		if (proc == NULL || !TransactionIdIsValid(proc->xmin))
			continue;
		ereport(LOG,
				(errmsg("cancelling process %d, which waits for the deploy lock with a snapshot while a no-transaction migration runs",
						inst->pid)));
		if (kill(inst->pid, SIGINT) == 0)
			signalled = lappend_int(signalled, inst->pid);
	}
	/* called every 100 ms for as long as the worker runs */
	pfree(data->locks);
	pfree(data);
	return signalled;
}
