/*-------------------------------------------------------------------------
 * ownersql.c
 *	  Running smig's own bookkeeping SQL as the extension owner.
 *
 * smig's tables are written only by smig's code, never by its callers: a
 * deployer role gets EXECUTE on smig's functions and no privilege on its
 * tables, so it cannot forge history.  Bookkeeping SQL therefore runs as
 * the owner of schema smig (the role that created the extension), with a
 * search_path of pg_catalog, pg_temp so that no caller-created operator or
 * function can be picked up.  Migration SQL itself always runs as the
 * caller (runner.c) and never inside an owner scope.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "ownersql.h"

/*
 * Between owner_scope_enter and owner_scope_exit, the current user is the
 * owner of schema smig and search_path is "pg_catalog, pg_temp".  An error
 * in between needs no exit: (sub)transaction abort restores both.
 */
typedef struct OwnerScope
{
	Oid			saved_userid;
	int			saved_sec_context;
	int			saved_gucnest;
} OwnerScope;

/* Nesting depth of owner scopes: smig's own writes are in progress. */
static int	owner_depth = 0;

bool
owner_scope_active(void)
{
	return owner_depth > 0;
}

void
owner_scope_reset(void)
{
	owner_depth = 0;
}

/* The owner of schema smig, which CREATE EXTENSION made. */
static Oid
smig_owner(void)
{
	Oid			nspid = get_namespace_oid("smig", false);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nspid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nspid);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

static void
owner_scope_enter(OwnerScope *scope)
{
	Oid			owner = smig_owner();

	GetUserIdAndSecContext(&scope->saved_userid, &scope->saved_sec_context);
	SetUserIdAndSecContext(owner,
						   scope->saved_sec_context | SECURITY_LOCAL_USERID_CHANGE);
	scope->saved_gucnest = NewGUCNestLevel();
	owner_depth++;
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

static void
owner_scope_exit(OwnerScope *scope)
{
	owner_depth--;
	AtEOXact_GUC(true, scope->saved_gucnest);
	SetUserIdAndSecContext(scope->saved_userid, scope->saved_sec_context);
}

/*
 * Run stmt inside an owner scope.  An error inside it skips
 * owner_scope_exit(); the (sub)transaction abort restores the user and the
 * settings, and this restores the depth to what it was before the scope
 * was entered (saved before owner_scope_enter: a depth saved after it
 * left the scope counted open after an error that a caller's EXCEPTION
 * block caught, and smig's later writes and foreign ones looked alike).  (Resetting the depth to zero
 * at every subtransaction abort was wrong: an EXCEPTION block in a trigger
 * on one of smig's tables aborts a subtransaction inside an outer scope,
 * and the outer exit then drove the depth below zero.)
 */
#define OWNER_SCOPE_RUN(scope, stmt) \
	do { \
		int			saved_depth = owner_depth; \
		owner_scope_enter(&(scope)); \
		PG_TRY(); \
		{ \
			stmt; \
		} \
		PG_CATCH(); \
		{ \
			owner_depth = saved_depth; \
			PG_RE_THROW(); \
		} \
		PG_END_TRY(); \
		owner_scope_exit(&(scope)); \
	} while (0)

void
owner_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
		   const char *nulls, int expected)
{
	OwnerScope	scope;
	volatile int rc = 0;

	OWNER_SCOPE_RUN(scope, rc = SPI_execute_with_args(sql, nargs, argtypes,
													   values, nulls, false, 0));
	if (rc != expected)
		elog(ERROR, "smig: SPI returned %s for: %s",
			 SPI_result_code_string(rc), sql);
}

/*
 * Run p's kept plan (preparing it the first time) inside an owner scope.
 * The scope also sets enable_seqscan = off, which is where the plan cache
 * builds (and rebuilds) the plan: these statements look up a few catalog
 * rows by key for each DDL command (the table of an index in pg_index),
 * and a plan made while the catalogs were small keeps its sequential scan
 * while every migration makes them bigger (measured: a third of the audit
 * triggers' instructions over 200 migrations).
 */
void
owner_exec_plan(OwnerPlan *p, Datum *values, const char *nulls, int expected)
{
	OwnerScope	scope;
	volatile int rc = 0;

	Assert(p->nargs <= OWNER_PLAN_MAXARGS);
	OWNER_SCOPE_RUN(scope,
		(void) set_config_option("enable_seqscan", "off",
								 PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		if (p->plan == NULL)
		{
			SPIPlanPtr	plan = SPI_prepare(p->sql, p->nargs, p->argtypes);

			if (plan == NULL)
				elog(ERROR, "smig: could not prepare \"%s\": %s", p->sql,
					 SPI_result_code_string(SPI_result));
			if (SPI_keepplan(plan) != 0)
				elog(ERROR, "smig: could not keep the plan of \"%s\"", p->sql);
			p->plan = plan;
		}
		rc = SPI_execute_plan(p->plan, values, nulls, false, 0));
	if (rc != expected)
		elog(ERROR, "smig: SPI returned %s for: %s",
			 SPI_result_code_string(rc), p->sql);
}

Datum
text_datum_or_null(const char *s)
{
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

char *
spi_text(int row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}
