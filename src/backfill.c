/*-------------------------------------------------------------------------
 * backfill.c
 *	  CALL smig.backfill(): a large data migration in batches, a commit
 *	  per batch, with progress, resumable after a crash or a cancel.
 *
 * The rows are taken in the order of the table's primary key (or of a
 * unique index on NOT NULL columns), any key type, composite keys too,
 * by keyset pagination: each batch is the next batch_size keys above the
 * last one done and at most the highest key the table had when the
 * backfill started (rows inserted since are the application's: it writes
 * them in the new form).  One transaction per batch:
 *	 1. lock the backfill's row of smig.backfill (FOR UPDATE) and read the
 *		last key done: two sessions running one backfill share the work
 *		instead of doing it twice;
 *	 2. the UPDATE of the batch, as the caller, with the caller's rights
 *		(set_sql and where_sql are the caller's own SQL), under smig's lock
 *		settings as a migration's statement is (retry.c: smig.lock_timeout,
 *		retried after a lock timeout, smig.statement_timeout);
 *	 3. the new last key and the counts written back (as the owner);
 *	 4. commit.
 * So a batch and its bookkeeping commit together: a backfill killed at
 * any point restarts after the last committed batch, and no row is
 * updated twice.  The same name with other arguments is refused; a
 * finished backfill is recorded in smig.history and not run again.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "pgstat.h"
#include "storage/latch.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "action.h"
#include "args.h"
#include "history.h"
#include "ownersql.h"
#include "retry.h"

PG_FUNCTION_INFO_V1(smig_backfill);

/* A NOTICE after the first batch and after every this many. */
#define PROGRESS_EVERY 10

/* The key the batches are ordered by. */
typedef struct BackfillKey
{
	int			ncols;
	char	  **names;			/* quoted identifiers */
	char	  **types;			/* format_type() of each */
} BackfillKey;

/* A backfill's name: not blank, no control characters. */
static void
check_backfill_name(const char *name)
{
	const unsigned char *p;
	bool		blank = true;

	for (p = (const unsigned char *) name; *p; p++)
	{
		if (*p < 0x20 || *p == 0x7F)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid backfill name \"%s\"", args_escape(name, 60)),
					 errdetail("A backfill name must not contain control characters such as line breaks or tabs.")));
		if (*p != ' ')
			blank = false;
	}
	if (blank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid backfill name \"%s\"", name),
				 errdetail("A backfill name must not be empty or only spaces.")));
}

/* A copy of a text[] Datum in cxt, so that it outlives the commits. */
static Datum
keep_array(Datum d, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Datum		copy = PointerGetDatum(DatumGetArrayTypePCopy(d));

	MemoryContextSwitchTo(old);
	return copy;
}

/* The columns of the primary key, or of a unique index on NOT NULL columns. */
static BackfillKey
find_key(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	BackfillKey key;
	int			i;

	owner_exec("WITH c AS ("
			   "  SELECT i.indexrelid, i.indisprimary, o.ord, i.indkey[o.ord] AS attnum"
			   "    FROM pg_catalog.pg_index i,"
			   "         pg_catalog.generate_series(0, i.indnkeyatts - 1) o(ord)"
			   "   WHERE i.indrelid OPERATOR(pg_catalog.=) $1 AND i.indisunique"
			   "     AND i.indisvalid AND i.indimmediate"
			   "     AND i.indpred IS NULL AND i.indexprs IS NULL),"
			   " best AS ("
			   "  SELECT c.indexrelid FROM c"
			   "    JOIN pg_catalog.pg_attribute a"
			   "      ON a.attrelid OPERATOR(pg_catalog.=) $1"
			   "     AND a.attnum OPERATOR(pg_catalog.=) c.attnum"
			   "   GROUP BY c.indexrelid, c.indisprimary"
			   "  HAVING pg_catalog.bool_and(a.attnotnull)"
			   "   ORDER BY c.indisprimary DESC, pg_catalog.count(*), c.indexrelid LIMIT 1)"
			   " SELECT pg_catalog.quote_ident(a.attname),"
			   "        pg_catalog.format_type(a.atttypid, a.atttypmod)"
			   "   FROM c JOIN best USING (indexrelid)"
			   "   JOIN pg_catalog.pg_attribute a"
			   "     ON a.attrelid OPERATOR(pg_catalog.=) $1"
			   "    AND a.attnum OPERATOR(pg_catalog.=) c.attnum"
			   "  ORDER BY c.ord",
			   1, types, values, NULL, SPI_OK_SELECT);
	key.ncols = (int) SPI_processed;
	if (key.ncols == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no primary key or unique index on NOT NULL columns",
						get_rel_name(relid)),
				 errdetail("smig.backfill() takes the rows in key order, a batch at a time, and records the last key done so that it can resume."),
				 errhint("Add a primary key, or a unique index on NOT NULL columns, first.")));
	key.names = palloc(sizeof(char *) * key.ncols);
	key.types = palloc(sizeof(char *) * key.ncols);
	for (i = 0; i < key.ncols; i++)
	{
		key.names[i] = spi_text(i, 1);
		key.types[i] = spi_text(i, 2);
	}
	return key;
}

/* "(k1, k2)" over alias ("" for none) and prefix, or "($off::t1, ...)" */
static void
append_key_list(StringInfo buf, const BackfillKey *key, const char *alias,
				const char *prefix)
{
	int			i;

	appendStringInfoChar(buf, '(');
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(buf, "%s%s%s%s", i ? ", " : "", alias, prefix,
						 prefix[0] ? psprintf("%d", i + 1) : key->names[i]);
	appendStringInfoChar(buf, ')');
}

static void
append_key_params(StringInfo buf, const BackfillKey *key, int first)
{
	int			i;

	appendStringInfoChar(buf, '(');
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(buf, "%s$%d::%s", i ? ", " : "", first + i, key->types[i]);
	appendStringInfoChar(buf, ')');
}

/*
 * The statement of one batch, run as the caller (the key's operators are
 * the caller's: a key of an extension's type, citext say, uses its own).  $1..$k the last key
 * done (when lower), $k+1..$2k (or $1..$k) the highest key at the start.
 * Returns the rows updated and the batch's last key as text[].
 */
static char *
batch_query(const char *tbl, const BackfillKey *key, const char *set_sql,
			const char *where_sql, int batch_size, bool lower)
{
	StringInfoData q;
	int			i;

	initStringInfo(&q);
	appendStringInfoString(&q, "WITH smig_batch AS (SELECT ");
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%s%s AS smig_k%d", i ? ", " : "", key->names[i], i + 1);
	appendStringInfo(&q, " FROM %s WHERE ", tbl);
	if (lower)
	{
		append_key_list(&q, key, "", "");
		appendStringInfoString(&q, " > ");
		append_key_params(&q, key, 1);
		appendStringInfoString(&q, " AND ");
	}
	append_key_list(&q, key, "", "");
	appendStringInfoString(&q, " <= ");
	append_key_params(&q, key, lower ? key->ncols + 1 : 1);
	appendStringInfoString(&q, " ORDER BY ");
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%s%s", i ? ", " : "", key->names[i]);
	appendStringInfo(&q, " LIMIT %d),", batch_size);
	appendStringInfo(&q, " smig_done AS (UPDATE %s smig_t SET %s FROM smig_batch"
					 " WHERE ", tbl, set_sql);
	append_key_list(&q, key, "smig_t.", "");
	appendStringInfoString(&q, " = ");
	append_key_list(&q, key, "smig_batch.", "smig_k");
	if (where_sql != NULL)
		appendStringInfo(&q, " AND (%s)", where_sql);
	appendStringInfoString(&q, " RETURNING 1)"
						   " SELECT (SELECT pg_catalog.count(*) FROM smig_done),"
						   "  (SELECT ARRAY[");
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%ssmig_k%d::pg_catalog.text", i ? ", " : "", i + 1);
	appendStringInfoString(&q, "] FROM smig_batch ORDER BY ");
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%ssmig_k%d DESC", i ? ", " : "", i + 1);
	appendStringInfoString(&q, " LIMIT 1)");
	return q.data;
}

/* The highest key of the table now, as text[], or NULL for an empty table. */
static Datum
highest_key(const char *tbl, const BackfillKey *key, bool *isnull)
{
	StringInfoData q;
	int			i;

	initStringInfo(&q);
	appendStringInfoString(&q, "SELECT ARRAY[");
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%s%s::pg_catalog.text", i ? ", " : "", key->names[i]);
	appendStringInfo(&q, "] FROM %s ORDER BY ", tbl);
	for (i = 0; i < key->ncols; i++)
		appendStringInfo(&q, "%s%s DESC", i ? ", " : "", key->names[i]);
	appendStringInfoString(&q, " LIMIT 1");
	if (SPI_execute(q.data, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read the highest key of %s", tbl);
	if (SPI_processed == 0)
	{
		*isnull = true;
		return (Datum) 0;
	}
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
}

/* One batch statement and what it returned, for retry_statement(). */
typedef struct BatchRun
{
	const char *sql;
	int			nparams;
	Oid		   *types;
	Datum	   *values;
	MemoryContext cxt;			/* where the last key is kept */
	int64		updated;		/* out: rows updated */
	Datum		last;			/* out: the batch's last key (text[]) */
	bool		last_null;		/* out: no key left */
} BatchRun;

static void
run_batch(void *arg)
{
	BatchRun   *b = (BatchRun *) arg;
	bool		isnull;

	if (SPI_execute_with_args(b->sql, b->nparams, b->types, b->values, NULL,
							  false, 0) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "backfill batch returned no row");
	b->updated = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
											 SPI_tuptable->tupdesc, 1, &isnull));
	b->last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2,
							&b->last_null);
	if (!b->last_null)
		b->last = keep_array(b->last, b->cxt);
}

/* The batch statement parsed and planned, to check it (no row is read). */
static void
prepare_batch(void *arg)
{
	BatchRun   *b = (BatchRun *) arg;

	if (SPI_prepare(b->sql, b->nparams, b->types) == NULL)
		elog(ERROR, "could not prepare the batch statement: %s",
			 SPI_result_code_string(SPI_result));
}

/* Sleep between batches, waking for a cancel at once. */
static void
pause_for(int64 ms)
{
	TimestampTz until = GetCurrentTimestamp() + ms * 1000;

	while (ms > 0)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 (long) ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		ms = (until - GetCurrentTimestamp()) / 1000;
	}
}

/* text[] element i as a Datum of a text parameter */
static Datum
array_elem(Datum arr, int i)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;

	deconstruct_array(DatumGetArrayTypeP(arr), TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	if (i >= n || nulls[i])
		elog(ERROR, "backfill key has no element %d", i);
	return elems[i];
}

/*
 * CALL smig.backfill(name text, tbl regclass, set_sql text,
 *					  where_sql text DEFAULT NULL, batch_size int DEFAULT 1000,
 *					  pause interval DEFAULT '0')
 */
Datum
smig_backfill(PG_FUNCTION_ARGS)
{
	char	   *name;
	Oid			relid;
	char	   *tbl;
	char	   *set_sql;
	char	   *where_sql;
	int			batch_size;
	int64		pause_ms;
	BackfillKey key;
	char	   *key_list;
	Datum		upper;
	bool		upper_null;
	Datum		last = (Datum) 0;
	bool		last_null = true;
	int64		rows_done = 0;
	int64		batches = 0;
	double		estimate;
	TimestampTz started = GetCurrentTimestamp();
	int64		rows_this_call = 0;
	char	   *q_first;
	char	   *q_next;
	MemoryContext callcxt;
	RetryPolicy policy;
	int			i;

	args_require(fcinfo, 0, "name");
	args_require(fcinfo, 1, "tbl");
	args_require(fcinfo, 2, "set_sql");
	args_require(fcinfo, 4, "batch_size");
	args_require(fcinfo, 5, "pause");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	check_backfill_name(name);
	relid = PG_GETARG_OID(1);
	set_sql = text_to_cstring(PG_GETARG_TEXT_PP(2));
	where_sql = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	batch_size = PG_GETARG_INT32(4);
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(5);

		pause_ms = (iv->time + (int64) (iv->day) * USECS_PER_DAY) / 1000;
		if (iv->month != 0 || iv->time < 0 || iv->day < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("pause must be a non-negative interval of days, hours, minutes or seconds")));
	}
	if (batch_size < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("batch_size must be at least 1")));
	if (!args_call_may_commit(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("CALL smig.backfill() cannot run inside a transaction block"),
				 errdetail("It commits after each batch, which a procedure can do only when CALL is a top-level statement (or in a top-level DO block) outside BEGIN ... COMMIT, not in a function.")));
	action_check_writable("run a backfill");

	{
		/* (both: pg_class_aclcheck() accepts any one of the bits it is given) */
		AclResult	acl = pg_class_aclcheck(relid, GetUserId(), ACL_SELECT);

		if (acl == ACLCHECK_OK)
			acl = pg_class_aclcheck(relid, GetUserId(), ACL_UPDATE);
		if (acl != ACLCHECK_OK)
			aclcheck_error(acl, OBJECT_TABLE, get_rel_name(relid));
	}

	SPI_connect_ext(SPI_OPT_NONATOMIC);
	callcxt = CurrentMemoryContext;
	tbl = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									 get_rel_name(relid));
	key = find_key(relid);
	{
		StringInfoData k;

		initStringInfo(&k);
		for (i = 0; i < key.ncols; i++)
			appendStringInfo(&k, "%s%s", i ? ", " : "", key.names[i]);
		key_list = k.data;
	}

	/*
	 * The batch statements, checked before anything is recorded: a typo in
	 * set_sql or where_sql is an error now, not a backfill started that can
	 * only be resumed with the typo.
	 */
	retry_policy(&policy, NULL, NULL, NULL);
	q_first = batch_query(tbl, &key, set_sql, where_sql, batch_size, false);
	q_next = batch_query(tbl, &key, set_sql, where_sql, batch_size, true);
	{
		Oid		   *ptypes = palloc(sizeof(Oid) * 2 * key.ncols);
		BatchRun	check = {q_next, 2 * key.ncols, ptypes, NULL, callcxt};

		for (i = 0; i < 2 * key.ncols; i++)
			ptypes[i] = TEXTOID;
		/* (parsing the UPDATE locks the table: under the lock settings too) */
		retry_statement_locked(&policy, q_next, prepare_batch, &check, GetUserId());
	}

	/* the backfill's row: a new one, or the one to resume */
	{
		Oid			types[1] = {TEXTOID};
		Datum		values[1] = {CStringGetTextDatum(name)};

		owner_exec("SELECT b.relation::pg_catalog.oid, b.set_sql, b.where_sql,"
				   "  b.upper_key, b.last_key, b.rows_done, b.batches,"
				   "  b.finished_at IS NOT NULL, b.finished_at::pg_catalog.text,"
				   "  b.started_by::pg_catalog.text"
				   " FROM smig.backfill b WHERE b.name OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL, SPI_OK_SELECT);
	}
	if (SPI_processed > 0)
	{
		bool		isnull;
		Oid			was_rel = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
															 SPI_tuptable->tupdesc, 1, &isnull));
		char	   *was_set = spi_text(0, 2);
		char	   *was_where = spi_text(0, 3);

		if (was_rel != relid || strcmp(was_set, set_sql) != 0 ||
			(was_where == NULL) != (where_sql == NULL) ||
			(was_where != NULL && strcmp(was_where, where_sql) != 0))
		{
			char	   *was_by = spi_text(0, 10);
			Oid			was_by_oid = get_role_oid(was_by, true);

			/* its arguments are its starter's SQL: shown to members only */
			if (!OidIsValid(was_by_oid) || !is_member_of_role(GetUserId(), was_by_oid))
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("backfill \"%s\" was started with other arguments", name),
						 errdetail("It was started by role \"%s\"; only a member of that role sees its table, set_sql and where_sql.", was_by),
						 errhint("Give a new backfill another name.")));
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("backfill \"%s\" was started with other arguments", name),
					 errdetail("It updates %s with SET %s%s%s.",
							   quote_qualified_identifier(get_namespace_name(get_rel_namespace(was_rel)),
														  get_rel_name(was_rel)),
							   was_set, was_where ? " WHERE " : "", was_where ? was_where : ""),
					 errhint("Resume it with the same table, set_sql and where_sql, or give a new backfill another name.")));
		}
		if (strcmp(spi_text(0, 8), "t") == 0)
		{
			ereport(NOTICE,
					(errmsg("backfill \"%s\" already finished", name),
					 errdetail("It finished at %s; nothing was done.", spi_text(0, 9))));
			SPI_finish();
			PG_RETURN_VOID();
		}
		upper = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &upper_null);
		upper = upper_null ? (Datum) 0 : keep_array(upper, callcxt);
		rows_done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull));
		batches = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 7, &isnull));
		ereport(NOTICE,
				(errmsg_plural("resuming backfill \"%s\" after %lld rows in %lld batch",
							   "resuming backfill \"%s\" after %lld rows in %lld batches",
							   (unsigned long) batches,
							   name, (long long) rows_done, (long long) batches)));
	}
	else
	{
		Oid			types[7] = {TEXTOID, OIDOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID};
		Datum		values[7];
		char		nulls[8] = "       ";
		Datum		names;
		Datum	   *elems = palloc(sizeof(Datum) * key.ncols);

		upper = highest_key(tbl, &key, &upper_null);
		if (!upper_null)
			upper = keep_array(upper, callcxt);
		for (i = 0; i < key.ncols; i++)
			elems[i] = CStringGetTextDatum(key.names[i]);
		names = PointerGetDatum(construct_array(elems, key.ncols, TEXTOID, -1, false,
												TYPALIGN_INT));
		values[0] = CStringGetTextDatum(name);
		values[1] = ObjectIdGetDatum(relid);
		values[2] = CStringGetTextDatum(set_sql);
		values[3] = where_sql ? CStringGetTextDatum(where_sql) : (Datum) 0;
		nulls[3] = where_sql ? ' ' : 'n';
		values[4] = names;
		values[5] = upper;
		nulls[5] = upper_null ? 'n' : ' ';
		values[6] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
		owner_exec("INSERT INTO smig.backfill (name, relation, set_sql, where_sql,"
				   "  key_columns, upper_key, started_by)"
				   " VALUES ($1, $2, $3, $4, $5, $6, $7)",
				   7, types, values, nulls, SPI_OK_INSERT);
		SPI_commit();
		EnsurePortalSnapshotExists();
	}
	MemoryContextSwitchTo(callcxt);

	{
		Oid			types[1] = {OIDOID};
		Datum		values[1] = {ObjectIdGetDatum(relid)};

		owner_exec("SELECT c.reltuples FROM pg_catalog.pg_class c"
				   " WHERE c.oid OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL, SPI_OK_SELECT);
		estimate = SPI_processed ? strtod(spi_text(0, 1), NULL) : -1;
	}
	for (;;)
	{
		Oid		   *types = palloc(sizeof(Oid) * 2 * key.ncols);
		Datum	   *values = palloc(sizeof(Datum) * 2 * key.ncols);
		int			nparams = 0;
		bool		isnull;
		int64		updated;
		Datum		batch_last;
		bool		batch_last_null;

		if (upper_null)
			break;				/* an empty table when it started */

		/* 1. this backfill's row, locked; the last key done */
		{
			Oid			t1[1] = {TEXTOID};
			Datum		v1[1] = {CStringGetTextDatum(name)};

			owner_exec("SELECT b.last_key, b.rows_done, b.batches FROM smig.backfill b"
					   " WHERE b.name OPERATOR(pg_catalog.=) $1 FOR UPDATE",
					   1, t1, v1, NULL, SPI_OK_SELECT);
			if (SPI_processed != 1)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("backfill \"%s\" disappeared while it ran", name)));
			last = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &last_null);
			if (!last_null)
				last = keep_array(last, callcxt);
			rows_done = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
			batches = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
		}

		/* 2. the batch, as the caller */
		if (!last_null)
			for (i = 0; i < key.ncols; i++)
			{
				types[nparams] = TEXTOID;
				values[nparams++] = array_elem(last, i);
			}
		for (i = 0; i < key.ncols; i++)
		{
			types[nparams] = TEXTOID;
			values[nparams++] = array_elem(upper, i);
		}
		{
			BatchRun	run = {last_null ? q_first : q_next, nparams, types, values, callcxt};

			/* smig's lock settings, as for a migration's statement */
			retry_statement_locked(&policy, run.sql, run_batch, &run, GetUserId());
			updated = run.updated;
			batch_last = run.last;
			batch_last_null = run.last_null;
		}
		if (batch_last_null)
			break;				/* no key left: done */

		/* 3. the bookkeeping, committed with the batch */
		{
			Oid			t3[3] = {TEXTOID, TEXTARRAYOID, INT8OID};
			Datum		v3[3] = {CStringGetTextDatum(name), batch_last, Int64GetDatum(updated)};

			owner_exec("UPDATE smig.backfill SET last_key = $2,"
					   "  rows_done = rows_done OPERATOR(pg_catalog.+) $3,"
					   "  batches = batches OPERATOR(pg_catalog.+) 1,"
					   "  updated_at = pg_catalog.clock_timestamp()"
					   " WHERE name OPERATOR(pg_catalog.=) $1",
					   3, t3, v3, NULL, SPI_OK_UPDATE);
		}
		rows_done += updated;
		rows_this_call += updated;
		batches++;

		/* 4. commit */
		SPI_commit();
		EnsurePortalSnapshotExists();
		MemoryContextSwitchTo(callcxt);

		if (batches == 1 || batches % PROGRESS_EVERY == 0)
		{
			double		secs = (GetCurrentTimestamp() - started) / 1000000.0;
			double		rate = secs > 0 ? rows_this_call / secs : 0;

			if (estimate > 0)
				ereport(NOTICE,
						(errmsg("backfill \"%s\": %lld rows done after batch %lld, of about %.0f",
								name, (long long) rows_done, (long long) batches, estimate),
						 errdetail("%.0f rows a second; about %.0f s to go.", rate,
								   rate > 0 && estimate > rows_done ? (estimate - rows_done) / rate : 0)));
			else
				ereport(NOTICE,
						(errmsg("backfill \"%s\": %lld rows done after batch %lld",
								name, (long long) rows_done, (long long) batches),
						 errdetail("%.0f rows a second.", rate)));
		}
		if (pause_ms > 0)
			pause_for(pause_ms);
	}

	/* finished: recorded once, in smig.backfill and in history */
	{
		Oid			t1[1] = {TEXTOID};
		Datum		v1[1] = {CStringGetTextDatum(name)};
		HistoryEntry entry = {0};

		owner_exec("UPDATE smig.backfill SET finished_at = pg_catalog.clock_timestamp()"
				   " WHERE name OPERATOR(pg_catalog.=) $1 AND finished_at IS NULL"
				   " RETURNING started_at",
				   1, t1, v1, NULL, SPI_OK_UPDATE_RETURNING);
		if (SPI_processed == 1)
		{
			bool		isnull;

			entry.action = "backfill";
			entry.version = name;
			entry.name = psprintf("backfill of %s", tbl);
			entry.started_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
																 SPI_tuptable->tupdesc, 1, &isnull));
			entry.duration_us = GetCurrentTimestamp() - entry.started_at;
			entry.detail = psprintf("%lld rows in %lld batches, in the order of (%s)",
									(long long) rows_done, (long long) batches, key_list);
			history_record_event(&entry);
		}
	}
	SPI_commit();
	EnsurePortalSnapshotExists();
	SPI_finish();
	ereport(NOTICE,
			(errmsg_plural("backfill \"%s\" finished: %lld rows in %lld batch",
						   "backfill \"%s\" finished: %lld rows in %lld batches",
						   (unsigned long) batches,
						   name, (long long) rows_done, (long long) batches)));
	PG_RETURN_VOID();
}
