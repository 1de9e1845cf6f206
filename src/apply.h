/*-------------------------------------------------------------------------
 * apply.h
 *	  Pieces of the apply loop that the revert loop (downgrade.c) shares.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_APPLY_H
#define SMIG_APPLY_H

#include "fmgr.h"
#include "funcapi.h"

#include "runner.h"

/*
 * Check that the caller may run a migration's script (kind: up, to apply
 * it; down, to revert it) as the role it runs as, and that its author may
 * still act as that role; returns that role's OID.  Call with SPI
 * connected, before running anything.
 */
extern Oid	apply_check_run_as(const char *version, const char *name,
							   const char *run_as, const char *registered_by,
							   RunnerScriptKind kind);

/* Add one (version, name, duration) row to a materialised result. */
extern void apply_put_result(ReturnSetInfo *rsinfo, const char *version,
							 const char *name, int64 duration_us);

#endif							/* SMIG_APPLY_H */
