/*-------------------------------------------------------------------------
 * summary.h
 *	  The "nothing to do" fast path: registry generations in smig.summary.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_SUMMARY_H
#define SMIG_SUMMARY_H

/* The registry changed (new or changed migrations): one UPDATE. */
extern void summary_registry_changed(void);

/*
 * True when nothing can be pending or modified: the registry generation
 * is the one a complete upgrade_head() last left clean, and no foreign
 * write made it stale.  *generation receives the current generation.
 */
extern bool summary_nothing_to_do(int64 *generation);

/* A complete upgrade_head() that read *generation left nothing to do. */
extern void summary_mark_clean(int64 generation);

/* Migrations were reverted: the next upgrade takes the full path. */
extern void summary_applied_changed(void);

#endif							/* SMIG_SUMMARY_H */
