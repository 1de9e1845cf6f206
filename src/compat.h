/*-------------------------------------------------------------------------
 * compat.h
 *	  Every PG_VERSION_NUM difference smig cares about, in one place.
 *	  Rule: no "#if PG_VERSION_NUM" inside a function body elsewhere.
 *	  Tested on PostgreSQL 15; written so that 13-17 can build.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_COMPAT_H
#define SMIG_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
/* MarkGUCPrefixReserved arrived in 15; before it, the warning-only form. */
#define MarkGUCPrefixReserved(prefix) EmitWarningsOnPlaceholders(prefix)
#endif

#if PG_VERSION_NUM < 150000
/* InitMaterializedSRF arrived in 15: the same set-up, by hand. */
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/tuplestore.h"

static inline void
InitMaterializedSRF(FunctionCallInfo fcinfo, bits32 flags)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext oldcxt;
	TupleDesc	tupdesc;

	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	oldcxt = MemoryContextSwitchTo(rsinfo->econtext->ecxt_per_query_memory);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = tuplestore_begin_heap(true, false, work_mem);
	rsinfo->setDesc = CreateTupleDescCopy(tupdesc);
	MemoryContextSwitchTo(oldcxt);
}
#endif

#endif							/* SMIG_COMPAT_H */
