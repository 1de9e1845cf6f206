/*-------------------------------------------------------------------------
 * action.h
 *	  Preconditions and the deploy lock of every state-changing entry point.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_ACTION_H
#define SMIG_ACTION_H

#include "nodes/pg_list.h"

/*
 * Refuse, before touching anything, to change migration state on a
 * standby or in a read-only transaction; what names the action in the
 * message ("apply migrations", "register migrations", ...).
 */
extern void action_check_writable(const char *what);

/*
 * Everything an action that applies, reverts, baselines or repairs
 * migrations needs before it reads any state: not from inside a migration,
 * writable, READ COMMITTED, and the deploy lock for the rest of the
 * transaction.
 */
extern void action_begin(const char *what);

/*
 * The same preconditions, and the deploy lock as a session lock that
 * spans commits (a procedure committing per migration), until
 * action_end_session() or the abort of a top-level transaction.
 */
extern void action_begin_session(const char *what);

/* Release the session deploy lock, if this backend holds it. */
extern void action_end_session(void);

/*---- while a no-transaction migration runs (worker.c) ----*/

/*
 * Take and release the session lock that says a no-transaction migration
 * runs: sessions that then find the deploy lock taken fail at once instead
 * of waiting for it with a snapshot.  Take it with the deploy lock held.
 */
extern void action_begin_no_transaction(void);
extern void action_end_no_transaction(void);

/*
 * Cancel the sessions queued for the deploy lock with a snapshot (their
 * cancel becomes a clear error); signalled, a List of pids, says who was
 * signalled already and is returned longer.  Reads no catalog.
 */
extern List *action_end_snapshot_waiters(List *signalled);

#endif							/* SMIG_ACTION_H */
