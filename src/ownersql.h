/*-------------------------------------------------------------------------
 * ownersql.h
 *	  Running smig's own bookkeeping SQL as the extension owner.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_OWNERSQL_H
#define SMIG_OWNERSQL_H

#include "executor/spi.h"

/* Is smig's own bookkeeping SQL running now (in this backend)? */
extern bool owner_scope_active(void);

/* Forget any scope left open by an error (transaction callbacks). */
extern void owner_scope_reset(void);

/*
 * Run one statement through SPI (already connected) inside an owner scope
 * and check that SPI returned expected; nulls as for SPI_execute_with_args.
 * In an owner scope the current user is the owner of schema smig and
 * search_path is "pg_catalog, pg_temp".
 */
extern void owner_exec(const char *sql, int nargs, Oid *argtypes,
					   Datum *values, const char *nulls, int expected);

/*
 * A statement run often (the audit triggers' INSERTs, the history row of
 * each applied migration): prepared once per backend, in an owner scope,
 * and kept; the plan cache re-analyses and re-plans it when what it reads
 * changes (the tables, their defaults, the functions it calls: a dropped
 * and re-created extension too).  Plans run with enable_seqscan off: see
 * owner_exec_plan.
 */
#define OWNER_PLAN_MAXARGS 16

typedef struct OwnerPlan
{
	const char *sql;
	int			nargs;
	Oid			argtypes[OWNER_PLAN_MAXARGS];
	SPIPlanPtr	plan;
} OwnerPlan;

extern void owner_exec_plan(OwnerPlan *p, Datum *values, const char *nulls,
							int expected);

/* A text Datum from a C string, or (Datum) 0 for NULL. */
extern Datum text_datum_or_null(const char *s);

/* Column `col` (1-based) of SPI result row `row` as a C string, or NULL. */
extern char *spi_text(int row, int col);

#endif							/* SMIG_OWNERSQL_H */
