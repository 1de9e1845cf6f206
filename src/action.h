/*-------------------------------------------------------------------------
 * action.h
 *	  Preconditions and the deploy lock of every state-changing entry point.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_ACTION_H
#define SMIG_ACTION_H

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

#endif							/* SMIG_ACTION_H */
