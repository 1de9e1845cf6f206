/*-------------------------------------------------------------------------
 * summary.c
 *	  The "nothing to do" fast path of smig.upgrade_head().
 *
 * smig.summary holds one row: registry_gen, bumped (once per call) by every
 * register/load_dir that changed the registry; clean_gen, the generation a
 * complete upgrade_head() read after taking the deploy lock and then left
 * with nothing pending or modified; and "stale", set by a statement
 * trigger when anything other than smig's own code writes smig.migration,
 * smig.applied, smig.repeatable or smig.repeatable_applied (a superuser by
 * hand, a restore).  Registering, changing or dropping a repeatable
 * migration bumps registry_gen as a versioned one does, so the fast path
 * never hides a changed repeatable migration, and an unchanged start-up
 * with repeatable migrations stays on it.  When clean_gen equals
 * registry_gen and nothing is stale, upgrade_head() answers from this one
 * row, so its cost does not grow with the history.
 *
 * It is exact, not probabilistic: no hash can be forged to hide a
 * migration, and a concurrent register only ever increments the counter
 * (READ COMMITTED re-evaluates the UPDATE on the newest row), which an
 * upgrade that read an older generation can never mark clean.  A fresh
 * row starts unclean (1 vs 0), so a database restored with triggers
 * disabled takes the full path once.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ownersql.h"
#include "summary.h"

PG_FUNCTION_INFO_V1(smig_summary_touch);

void
summary_registry_changed(void)
{
	owner_exec("UPDATE smig.summary SET registry_gen = registry_gen + 1",
			   0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

bool
summary_nothing_to_do(int64 *generation)
{
	owner_exec("SELECT s.registry_gen,"
			   " NOT s.stale AND s.clean_gen = s.registry_gen"
			   " FROM smig.summary s",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
	{
		*generation = -1;
		return false;
	}
	*generation = pg_strtoint64(spi_text(0, 1));
	return strcmp(spi_text(0, 2), "t") == 0;
}

void
summary_mark_clean(int64 generation)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(generation)};

	if (generation < 0)
		return;
	owner_exec("UPDATE smig.summary SET clean_gen = $1, stale = false",
			   1, types, values, NULL, SPI_OK_UPDATE);
}

/*
 * Migrations stopped being applied (a revert): they are pending again, so
 * the generation last left clean no longer is.  clean_gen 0 matches no
 * registry generation (they start at 1 and only grow).  Called under the
 * deploy lock, as summary_mark_clean is, so the two cannot interleave.
 */
void
summary_applied_changed(void)
{
	owner_exec("UPDATE smig.summary SET clean_gen = 0",
			   0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

/*
 * Statement trigger on smig.migration and smig.applied: a write that did
 * not come from smig's own code makes the summary stale, and is a new
 * registry generation.  upgrade_head() clears "stale" once it has read
 * everything again, but load_dir()'s stat cache records the generation its
 * pass left: the bump keeps it from trusting a pass that a hand-made change
 * came after (a registration deleted by hand would never come back).
 */
Datum
smig_summary_touch(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smig_summary_touch: not called as a trigger");
	if (owner_scope_active())
		return PointerGetDatum(NULL);

	SPI_connect();
	owner_exec("UPDATE smig.summary SET stale = true, registry_gen = registry_gen + 1",
			   0, NULL, NULL, NULL, SPI_OK_UPDATE);
	SPI_finish();
	return PointerGetDatum(NULL);
}
