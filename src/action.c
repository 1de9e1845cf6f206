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
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"

#include "action.h"
#include "ownersql.h"
#include "runner.h"

/* Sub-ids of the object locks on smig's pg_extension row. */
#define SMIG_LOCK_DEPLOY	1

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

/* Take the deploy lock until the end of the transaction. */
static void
lock_deploy(void)
{
	Oid			extoid = get_extension_oid("smig", false);

	if (ConditionalLockDatabaseObject(ExtensionRelationId, extoid,
									  SMIG_LOCK_DEPLOY, ExclusiveLock))
		return;
	report_lock_holders(extoid);
	LockDatabaseObject(ExtensionRelationId, extoid, SMIG_LOCK_DEPLOY,
					   ExclusiveLock);
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
	{
		report_lock_holders(extoid);
		(void) LockAcquire(&tag, ExclusiveLock, true, false);
	}
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
