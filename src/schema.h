/*-------------------------------------------------------------------------
 * schema.h
 *	  The schema fingerprint recorded with every action.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_SCHEMA_H
#define SMIG_SCHEMA_H

/*
 * Snapshot the user schemas now (smig.snapshot()), keep the snapshot in
 * smig.schema_snapshot if its fingerprint is new, and stage the fingerprint
 * for the next smig.history row this transaction writes: the column's
 * default, smig._staged_fingerprint(), takes it.  Call it just before an
 * action's last history row is written.  SPI connected.
 */
extern void schema_stage_fingerprint(void);

/*
 * CALL smig.upgrade() and smig.downgrade_to() set this around every step
 * but the last: a call records one fingerprint, at its end (or with its
 * failed attempt), not one per migration.
 */
extern bool schema_fingerprint_deferred;

/* schema_stage_fingerprint() unless deferred. */
extern void schema_stage_fingerprint_if_due(void);

#endif							/* SMIG_SCHEMA_H */
