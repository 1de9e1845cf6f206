/*-------------------------------------------------------------------------
 * audit.h
 *	  The audit trail: event triggers writing smig.ddl_log, and the guard.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_AUDIT_H
#define SMIG_AUDIT_H

/* Define smig.audit and smig.guard (called from _PG_init). */
extern void audit_init(void);

#endif							/* SMIG_AUDIT_H */
