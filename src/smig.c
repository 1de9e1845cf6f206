/*-------------------------------------------------------------------------
 * smig.c
 *	  Module entry point: PG_MODULE_MAGIC and the smig.* settings.
 *
 * Everything else lives in the module of its concern; see README.md,
 * "Internals", for the map.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "fmgr.h"
#include "utils/guc.h"

#include "audit.h"
#include "compat.h"
#include "effects.h"
#include "guard.h"
#include "loaddir.h"
#include "ownersql.h"
#include "progress.h"
#include "retry.h"
#include "runner.h"
#include "smig.h"

PG_MODULE_MAGIC;

bool		smig_out_of_order = false;

void		_PG_init(void);

/*
 * No owner scope survives the end of a transaction.  (An error inside one
 * restores the depth where it is caught, in ownersql.c; this is the last
 * line of defence, for an error raised somewhere no scope expected.)
 */
static void
smig_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		owner_scope_reset();
		effects_reset();
		progress_reset();
	}
}

void
_PG_init(void)
{
	DefineCustomBoolVariable("smig.out_of_order",
							 "Allows applying a pending migration whose version is lower than the current one.",
							 "When off, such a migration stops smig.upgrade_head() with an error.",
							 &smig_out_of_order,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	audit_init();
	loaddir_init();
	retry_init();
	runner_init();
	effects_init();
	/* last of the *_init: it re-applies the smig.* database and role settings */
	guard_init();

	MarkGUCPrefixReserved("smig");

	RegisterXactCallback(smig_xact_callback, NULL);
}
