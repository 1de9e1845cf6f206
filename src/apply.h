/*-------------------------------------------------------------------------
 * apply.h
 *	  The apply loop and its preconditions.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_APPLY_H
#define SMIG_APPLY_H

/*
 * Refuse, before touching anything, to change migration state on a
 * standby or in a read-only transaction; what names the action.
 */
extern void apply_check_writable(const char *what);

#endif							/* SMIG_APPLY_H */
