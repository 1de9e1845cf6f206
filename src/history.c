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

void
history_record_applied(const HistoryEntry *e, const char *kind)
{
	Oid			types[13];
	Datum		values[13];
	char		nulls[14];

	history_params(e, types, values, nulls);
	types[12] = TEXTOID;
	values[12] = CStringGetTextDatum(kind);
	nulls[12] = ' ';
	nulls[13] = '\0';

	owner_exec(HISTORY_INSERT
			   "INSERT INTO smig.applied (version_key, version, name, checksum,"
			   "  kind, applied_at, applied_by, history_id)"
			   " SELECT h.version_key, h.version, h.name, h.checksum, $13,"
			   "  h.started_at, h.role, h.id FROM h",
			   13, types, values, nulls, SPI_OK_INSERT);
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
