/*-------------------------------------------------------------------------
 * repeatable.c
 *	  Repeatable migrations (Flyway's R__<name>.sql): smig.register_repeatable,
 *	  their registry table smig.repeatable, and its part of load_dir,
 *	  register_many and unregister.
 *
 * A repeatable migration has a name and no version: views, functions,
 * grants, written to be run again (CREATE OR REPLACE).  smig.upgrade_head()
 * applies it after the versioned migrations whenever its checksum differs
 * from the one it was last applied with (smig.repeatable_applied, which
 * history.c keeps), and records every application in smig.history.
 * Wherever smig names a migration by its version -- status(), pending(),
 * the history, the audit log, unregister(), apply() -- a repeatable one
 * is "R__<name>" (its label), which no version can be: versions start
 * with a digit.
 *
 * Registration shares registry.c's validation (registry_prepare,
 * registry_check: the same lexing, directives, options, run-as rules and
 * checksum), so a repeatable migration is refused for what a versioned
 * one would be, and also for what only it cannot have: a down script, the
 * baseline or run-on-change option.  This file holds what differs: the
 * table and its comparison in a bulk call.  Taking one back, by
 * unregister() or because its file is gone, is allowed whether or not it
 * was applied, to a member of the role it runs as: what it made and its
 * history stay, and registering the same text again does not run it again
 * (its checksum is the one last applied).
 *
 * The apply side is apply.c's loop, which reads smig._repeatable_state().
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/acl.h"
#include "utils/jsonb.h"

#include "action.h"
#include "args.h"
#include "ownersql.h"
#include "registry.h"
#include "repeatable.h"
#include "summary.h"

PG_FUNCTION_INFO_V1(smig_register_repeatable);

/*---- labels -----------------------------------------------------------------*/

char *
repeatable_label(const char *name)
{
	return psprintf(REPEATABLE_PREFIX "%s", name);
}

bool
repeatable_is_label(const char *version)
{
	return strncmp(version, REPEATABLE_PREFIX, strlen(REPEATABLE_PREFIX)) == 0;
}

const char *
repeatable_label_name(const char *label)
{
	Assert(repeatable_is_label(label));
	return label + strlen(REPEATABLE_PREFIX);
}

/*---- the registry -------------------------------------------------------------*/

/*
 * Upsert pm into smig.repeatable.  The stored options are ($3 - '_') ||
 * ($4 - 'run_as'), as registry_write stores a versioned migration's, and
 * repeatable_compare compares them the same way.
 */
RegisterResult
repeatable_write(const PreparedMigration *pm)
{
	Oid			types[7] = {TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID,
	TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[8] = "       ";

	values[0] = CStringGetTextDatum(pm->in->name);
	values[1] = CStringGetTextDatum(pm->up);
	values[2] = CStringGetTextDatum(pm->opts);
	values[3] = pm->in->options ? JsonbPGetDatum(pm->in->options) : (Datum) 0;
	nulls[3] = pm->in->options ? ' ' : 'n';
	values[4] = CStringGetTextDatum(pm->registered_by);
	values[5] = CStringGetTextDatum(pm->run_as);
	values[6] = CStringGetTextDatum(pm->checksum);

	owner_exec("INSERT INTO smig.repeatable AS r"
			   " (name, up_sql, checksum, options, registered_by, run_as)"
			   " VALUES ($1, $2, $7,"
			   "  ($3::jsonb - '_') || (coalesce($4, '{}'::jsonb) - 'run_as'),"
			   "  $5, $6)"
			   " ON CONFLICT (name) DO UPDATE"
			   " SET up_sql = excluded.up_sql, checksum = excluded.checksum,"
			   "  options = excluded.options, registered_by = excluded.registered_by,"
			   "  run_as = excluded.run_as, registered_at = now()"
			   " WHERE (r.up_sql, r.checksum, r.options, r.registered_by, r.run_as)"
			   "  IS DISTINCT FROM (excluded.up_sql, excluded.checksum,"
			   "  excluded.options, excluded.registered_by, excluded.run_as)"
			   " RETURNING r.xmax = 0",
			   7, types, values, nulls, SPI_OK_INSERT_RETURNING);
	if (SPI_processed == 0)
		return REGISTER_UNCHANGED;
	return strcmp(spi_text(0, 1), "t") == 0 ? REGISTER_NEW : REGISTER_CHANGED;
}

/* A one-dimensional array of n text or jsonb Datums. */
static Datum
datum_array(Datum *values, bool *nulls, int n, Oid typid)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(typid));
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  typid, -1, false, TYPALIGN_INT));
}

RegistryDiff *
repeatable_compare(PreparedMigration **pms, int n, bool sync, int *nrows)
{
	Oid			types[7] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		JSONBARRAYOID, TEXTARRAYOID, TEXTOID, BOOLOID};
	Datum		values[7];
	Datum	   *col[5];
	bool	   *colnull[5];
	RegistryDiff *rows;
	int			c;
	int			i;
	uint64		r;

	/* nothing to compare, and nothing to drop: no query */
	if (n == 0 && !sync)
	{
		*nrows = 0;
		return NULL;
	}
	for (c = 0; c < 5; c++)
	{
		col[c] = palloc0(Max(n, 1) * sizeof(Datum));
		colnull[c] = palloc0(Max(n, 1) * sizeof(bool));
	}
	for (i = 0; i < n; i++)
	{
		col[0][i] = CStringGetTextDatum(pms[i]->in->name);
		col[1][i] = CStringGetTextDatum(pms[i]->checksum);
		colnull[2][i] = pms[i]->opts_final == NULL;
		col[2][i] = text_datum_or_null(pms[i]->opts_final);
		colnull[3][i] = pms[i]->in->options == NULL;
		col[3][i] = pms[i]->in->options ? JsonbPGetDatum(pms[i]->in->options)
			: (Datum) 0;
		col[4][i] = CStringGetTextDatum(pms[i]->run_as);
	}
	for (c = 0; c < 5; c++)
		values[c] = datum_array(col[c], colnull[c], n,
								c == 3 ? JSONBOID : TEXTOID);
	values[5] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[6] = BoolGetDatum(sync);

	/* unchanged: the same checksum, options, author and run-as role */
	owner_exec("SELECT f.i, coalesce(f.name, r.name), r.run_as"
			   " FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[])"
			   "  WITH ORDINALITY AS f(name, checksum, opts, xopts, run_as, i)"
			   " FULL JOIN smig.repeatable r ON r.name = f.name COLLATE \"C\""
			   " WHERE CASE WHEN f.i IS NULL THEN $7"
			   "  WHEN r.name IS NULL THEN true"
			   "  ELSE (r.checksum, r.options, r.registered_by, r.run_as)"
			   "   IS DISTINCT FROM (f.checksum,"
			   "   CASE WHEN f.xopts IS NULL THEN coalesce(f.opts::jsonb, '{}'::jsonb)"
			   "    ELSE coalesce(f.opts::jsonb, '{}'::jsonb) || (f.xopts - 'run_as') END,"
			   "   $6::name, f.run_as::name) END"
			   " ORDER BY coalesce(f.name COLLATE \"C\", r.name)",
			   7, types, values, NULL, SPI_OK_SELECT);

	rows = palloc0(Max(SPI_processed, 1) * sizeof(RegistryDiff));
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *idx = spi_text(r, 1);

		rows[r].item = idx ? (int) strtol(idx, NULL, 10) - 1 : -1;
		rows[r].repeatable = true;
		rows[r].key = NULL;
		rows[r].name = spi_text(r, 2);
		rows[r].version = repeatable_label(rows[r].name);
		rows[r].run_as = spi_text(r, 3);
	}
	*nrows = (int) SPI_processed;
	return rows;
}

bool
repeatable_delete(const char *name)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};

	owner_exec("DELETE FROM smig.repeatable WHERE name = $1",
			   1, types, values, NULL, SPI_OK_DELETE);
	return SPI_processed > 0;
}

/*---- SQL functions --------------------------------------------------------------*/

/*
 * smig.register_repeatable(name text, up_sql text, options jsonb DEFAULT '{}')
 *   returns text
 *
 * Add or update a repeatable migration, as smig.register() does a
 * versioned one (the same validation, directives, options and run-as
 * rules); returns new, changed or unchanged.
 */
Datum
smig_register_repeatable(PG_FUNCTION_ARGS)
{
	MigrationInput in = {0};
	RegisterResult result;

	args_require(fcinfo, 0, "name");
	args_require(fcinfo, 1, "up_sql");
	action_check_writable("register migrations");

	in.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	in.version = repeatable_label(in.name);
	in.repeatable = true;
	in.up_sql = text_to_cstring(PG_GETARG_TEXT_PP(1));
	in.options = PG_ARGISNULL(2) ? NULL : PG_GETARG_JSONB_P(2);

	SPI_connect();
	result = registry_upsert(&in);
	if (result != REGISTER_UNCHANGED)
		summary_registry_changed();
	SPI_finish();

	PG_RETURN_TEXT_P(cstring_to_text(register_result_name(result)));
}

/*
 * smig.unregister('R__<name>'), after action_begin(): take back a
 * repeatable migration, applied or not.  As when load_dir() drops one
 * whose file is gone, only a member of the role it runs as may: one who
 * could have registered it (superusers; for a role that is gone, only
 * they).
 */
void
repeatable_unregister(const char *label)
{
	const char *name = repeatable_label_name(label);
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(name)};
	char	   *run_as;
	Oid			roleid;

	SPI_connect();
	owner_exec("SELECT r.run_as FROM smig.repeatable r WHERE r.name = $1",
			   1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("repeatable migration \"%s\" is not registered", name)));
	run_as = spi_text(0, 1);
	roleid = get_role_oid(run_as, true);
	if (OidIsValid(roleid) ? !is_member_of_role(GetUserId(), roleid) : !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to unregister repeatable migration \"%s\"", name),
				 errdetail("It runs as role \"%s\", and role \"%s\" is not a member of it.",
						   run_as, GetUserNameFromId(GetUserId(), false)),
				 errhint("A member of role \"%s\" can take it back.", run_as)));
	(void) repeatable_delete(name);
	summary_registry_changed();
	SPI_finish();

	ereport(NOTICE,
			(errmsg("unregistered repeatable migration \"%s\"", name),
			 errdetail("The objects it made and its history stay.")));
}
