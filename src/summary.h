/*-------------------------------------------------------------------------
 * summary.h
 *	  The "nothing to do" fast path: digests of the registry and of what
 *	  is applied, kept in smig.summary.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_SUMMARY_H
#define SMIG_SUMMARY_H

/* Digest of one (version_key, checksum) pair; XOR-combined into a set's. */
extern uint64 summary_digest(const char *version_key, const char *checksum);

/* XOR deltas into the stored digests (one UPDATE; none when both are 0). */
extern void summary_add(uint64 registry_delta, uint64 applied_delta);

/*
 * True when every registered migration is applied with its registered
 * checksum, so nothing is pending or modified: the digests are equal and
 * not stale.  One single-row read.
 */
extern bool summary_nothing_to_do(void);

/*
 * Recompute both digests from the tables if a foreign write marked them
 * stale, or if they were never computed for the data there.
 */
extern void summary_refresh_if_stale(void);

/* Mark the digests stale (a race made a delta unknowable). */
extern void summary_mark_stale(void);

#endif							/* SMIG_SUMMARY_H */
