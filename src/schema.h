/*-------------------------------------------------------------------------
 * schema.h
 *	  The schema fingerprint recorded with every action.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_SCHEMA_H
#define SMIG_SCHEMA_H

/*
 * Snapshot the user schemas now (smig.snapshot()), keep the snapshot in
 * smig.schema_snapshot if its fingerprint is new, and return the
 * fingerprint, for the last history row of an action.  SPI connected.
 */
extern char *schema_record(void);

#endif							/* SMIG_SCHEMA_H */
