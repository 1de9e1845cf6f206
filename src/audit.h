/*-------------------------------------------------------------------------
 * audit.h
 *	  The audit trail: event triggers writing smig.ddl_log, and the log of
 *	  REASSIGN OWNED.  The guard is in guard.h.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_AUDIT_H
#define SMIG_AUDIT_H

/* Define smig.audit (called from _PG_init). */
extern void audit_init(void);

/* Are smig.ddl_log and its schema there (not during DROP EXTENSION)? */
extern bool audit_tables_exist(void);

/*
 * Log REASSIGN OWNED BY roles (an oid[] Datum) TO newrole: one row per
 * object whose owner it changes.  Called by the ProcessUtility_hook before
 * the command runs.
 */
extern void audit_log_reassign_owned(Datum roles, const char *newrole);

#endif							/* SMIG_AUDIT_H */
