/*-------------------------------------------------------------------------
 * smig.c
 *	  Module entry point: PG_MODULE_MAGIC and the smig.* settings.
 *
 * Everything else lives in the module of its concern; see README.md,
 * "Internals", for the map.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "compat.h"
#include "smig.h"

PG_MODULE_MAGIC;

bool		smig_out_of_order = false;

void		_PG_init(void);

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

	MarkGUCPrefixReserved("smig");
}
