/*-------------------------------------------------------------------------
 * history.c
 *	  The only writer of smig.history (append-only) and of smig.applied
 *	  (the current state that history implies).
 *
 * Each action is one statement: the history row is inserted and
 * smig.applied (or, for a repeatable migration, smig.repeatable_applied)
 * updated from it in the same CTE, so the two never disagree.
 * The acting role is captured before switching to the extension owner
 * for the write (ownersql.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "history.h"
#include "ownersql.h"

/* The INSERT ... RETURNING every history statement starts with. */
#define HISTORY_INSERT \
	"WITH h AS (" \
	" INSERT INTO smig.history (action, version, version_key, name," \
	"   checksum, old_checksum, role, session_role, started_at, duration," \
	"   txid, detail, run_as)" \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10," \
	"   pg_catalog.pg_current_xact_id(), $11, $12)" \
	" RETURNING id, version_key, version, name, checksum, role, started_at) "

/* Fill the 12 history parameters from e; nulls is "n"/" " per SPI. */
static void
history_params(const HistoryEntry *e, Oid *types, Datum *values, char *nulls)
{
	const char *texts[] = {
		e->action, e->version, e->version_key, e->name,
		e->checksum, e->old_checksum,
		GetUserNameFromId(GetUserId(), false),
		GetUserNameFromId(GetSessionUserId(), false)
	};
	int			i;

	for (i = 0; i < 8; i++)
	{
		types[i] = TEXTOID;
		values[i] = text_datum_or_null(texts[i]);
		nulls[i] = texts[i] ? ' ' : 'n';
	}
	types[8] = TIMESTAMPTZOID;
	values[8] = TimestampTzGetDatum(e->started_at);
	nulls[8] = ' ';
	types[9] = INTERVALOID;
	if (e->duration_us >= 0)
	{
		Interval   *iv = palloc0(sizeof(Interval));

		iv->time = e->duration_us;
		values[9] = IntervalPGetDatum(iv);
		nulls[9] = ' ';
	}
	else
	{
		values[9] = (Datum) 0;
		nulls[9] = 'n';
	}
	types[10] = TEXTOID;
	values[10] = text_datum_or_null(e->detail);
	nulls[10] = e->detail ? ' ' : 'n';
	types[11] = TEXTOID;
	values[11] = text_datum_or_null(e->run_as);
	nulls[11] = e->run_as ? ' ' : 'n';
}

/* The types of history_params' 12 parameters, for a kept plan. */
#define HISTORY_TYPES \
	TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, \
	TIMESTAMPTZOID, INTERVALOID, TEXTOID, TEXTOID

/*
 * Once per applied migration: a kept plan (ownersql.h), not parsed and
 * planned for each migration as the rarer actions' statements are.
 */
void
history_record_applied(const HistoryEntry *e, const char *kind)
{
	static OwnerPlan plan = {
		HISTORY_INSERT
		"INSERT INTO smig.applied (version_key, version, name, checksum,"
		"  kind, applied_at, applied_by, history_id)"
		" SELECT h.version_key, h.version, h.name, h.checksum, $13,"
		"  h.started_at, h.role, h.id FROM h",
		13, {HISTORY_TYPES, TEXTOID}, NULL
	};
	Oid			types[13];
	Datum		values[13];
	char		nulls[14];

	history_params(e, types, values, nulls);
	Assert(memcmp(types, plan.argtypes, 12 * sizeof(Oid)) == 0);
	values[12] = CStringGetTextDatum(kind);
	nulls[12] = ' ';
	nulls[13] = '\0';

	owner_exec_plan(&plan, values, nulls, SPI_OK_INSERT);
}

void
history_record_import(const HistoryEntry *e, const char *imported_from,
					  const char *imported_by)
{
	Oid			types[14];
	Datum		values[14];
	char		nulls[15];

	history_params(e, types, values, nulls);
	types[12] = TEXTOID;
	values[12] = CStringGetTextDatum(imported_from);
	nulls[12] = ' ';
	types[13] = TEXTOID;
	values[13] = text_datum_or_null(imported_by);
	nulls[13] = imported_by ? ' ' : 'n';
	nulls[14] = '\0';

	owner_exec("INSERT INTO smig.history (action, version, version_key, name,"
			   "  checksum, old_checksum, role, session_role, started_at, duration,"
			   "  txid, detail, run_as, imported_from, imported_by, checksum_scheme)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
			   "  pg_catalog.pg_current_xact_id(), $11, $12, $13, $14, 0)",
			   14, types, values, nulls, SPI_OK_INSERT);
}

void
history_record_event(const HistoryEntry *e)
{
	Oid			types[12];
	Datum		values[12];
	char		nulls[13];

	history_params(e, types, values, nulls);
	nulls[12] = '\0';
	owner_exec(HISTORY_INSERT "SELECT 1 FROM h", 12, types, values, nulls,
			   SPI_OK_SELECT);
}

void
history_record_repair(const HistoryEntry *e)
{
	Oid			types[12];
	Datum		values[12];
	char		nulls[13];

	history_params(e, types, values, nulls);
	nulls[12] = '\0';

	owner_exec(HISTORY_INSERT
			   "UPDATE smig.applied a SET checksum = h.checksum FROM h"
			   " WHERE a.version_key = h.version_key",
			   12, types, values, nulls, SPI_OK_UPDATE);
}

/*---- down scripts (downgrade.c, apply.c) ----------------------------------
 * Added beside the statements above rather than into them: one more
 * parameter each, the down script's checksums, in statements of their own.
 */

/* The history INSERT with the down script's checksums as $13 and $14. */
#define HISTORY_INSERT_DOWN \
	"WITH h AS (" \
	" INSERT INTO smig.history (action, version, version_key, name," \
	"   checksum, old_checksum, role, session_role, started_at, duration," \
	"   txid, detail, run_as, down_checksum, old_down_checksum)" \
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10," \
	"   pg_catalog.pg_current_xact_id(), $11, $12, $13, $14)" \
	" RETURNING id, version_key) "

/* The 12 history parameters of e and the two checksums of its down script. */
static void
history_params_down(const HistoryEntry *e, const char *down_checksum,
					const char *old_down_checksum,
					Oid *types, Datum *values, char *nulls)
{
	history_params(e, types, values, nulls);
	types[12] = TEXTOID;
	values[12] = text_datum_or_null(down_checksum);
	nulls[12] = down_checksum ? ' ' : 'n';
	types[13] = TEXTOID;
	values[13] = text_datum_or_null(old_down_checksum);
	nulls[13] = old_down_checksum ? ' ' : 'n';
	nulls[14] = '\0';
}

void
history_record_down_checksum(const char *version_key, const char *down_checksum)
{
	static OwnerPlan plan = {
		"UPDATE smig.applied SET down_checksum = $2 WHERE version_key = $1",
		2, {TEXTOID, TEXTOID}, NULL
	};
	Datum		values[2];

	values[0] = CStringGetTextDatum(version_key);
	values[1] = CStringGetTextDatum(down_checksum);
	owner_exec_plan(&plan, values, NULL, SPI_OK_UPDATE);
	if (SPI_processed != 1)
		elog(ERROR, "smig: version key \"%s\" is not applied", version_key);
}

void
history_record_revert(const HistoryEntry *e, const char *down_checksum)
{
	Oid			types[14];
	Datum		values[14];
	char		nulls[15];

	history_params_down(e, down_checksum, NULL, types, values, nulls);
	owner_exec(HISTORY_INSERT_DOWN
			   "DELETE FROM smig.applied a USING h WHERE h.version_key = a.version_key",
			   14, types, values, nulls, SPI_OK_DELETE);
	if (SPI_processed != 1)
		elog(ERROR, "smig: migration \"%s\" is not applied", e->version);
}

void
history_record_down_repair(const HistoryEntry *e, const char *down_checksum,
						   const char *old_down_checksum)
{
	Oid			types[14];
	Datum		values[14];
	char		nulls[15];

	history_params_down(e, down_checksum, old_down_checksum, types, values, nulls);
	owner_exec(HISTORY_INSERT_DOWN
			   "UPDATE smig.applied a SET down_checksum = $13"
			   " FROM h WHERE h.version_key = a.version_key",
			   14, types, values, nulls, SPI_OK_UPDATE);
}

/*---- failed attempts (procedure.c) ------------------------------------------
 * A procedure that commits per migration records a migration that failed
 * (its work rolled back) in a transaction of its own.
 */
void
history_record_failure(const HistoryEntry *e, const char *down_checksum,
					   const char *direction, const char *error,
					   const char *sqlstate)
{
	Oid			types[17];
	Datum		values[17];
	char		nulls[18];

	history_params_down(e, down_checksum, NULL, types, values, nulls);
	types[14] = TEXTOID;
	values[14] = CStringGetTextDatum(direction);
	nulls[14] = ' ';
	types[15] = TEXTOID;
	values[15] = text_datum_or_null(error);
	nulls[15] = error ? ' ' : 'n';
	types[16] = TEXTOID;
	values[16] = text_datum_or_null(sqlstate);
	nulls[16] = sqlstate ? ' ' : 'n';
	nulls[17] = '\0';
	owner_exec("INSERT INTO smig.history (action, version, version_key, name,"
			   "  checksum, old_checksum, role, session_role, started_at, duration,"
			   "  txid, detail, run_as, down_checksum, old_down_checksum,"
			   "  direction, error, sqlstate)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
			   "  pg_catalog.pg_current_xact_id(), $11, $12, $13, $14, $15, $16, $17)",
			   17, types, values, nulls, SPI_OK_INSERT);
}

void
history_record_reapplied(const HistoryEntry *e)
{
	Oid			types[12];
	Datum		values[12];
	char		nulls[13];

	history_params(e, types, values, nulls);
	nulls[12] = '\0';

	owner_exec(HISTORY_INSERT
			   "UPDATE smig.applied a SET name = h.name, checksum = h.checksum,"
			   "  applied_at = h.started_at, applied_by = h.role, history_id = h.id"
			   " FROM h WHERE a.version_key = h.version_key",
			   12, types, values, nulls, SPI_OK_UPDATE);
}

void
history_record_repeatable(const HistoryEntry *e)
{
	Oid			types[12];
	Datum		values[12];
	char		nulls[13];

	history_params(e, types, values, nulls);
	nulls[12] = '\0';

	owner_exec(HISTORY_INSERT
			   "INSERT INTO smig.repeatable_applied AS r (name, checksum,"
			   "  applied_at, applied_by, history_id)"
			   " SELECT h.name, h.checksum, h.started_at, h.role, h.id FROM h"
			   " ON CONFLICT (name) DO UPDATE SET checksum = excluded.checksum,"
			   "  applied_at = excluded.applied_at, applied_by = excluded.applied_by,"
			   "  history_id = excluded.history_id",
			   12, types, values, nulls, SPI_OK_INSERT);
}
