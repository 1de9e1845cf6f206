/*-------------------------------------------------------------------------
 * summary.c
 *	  The "nothing to do" fast path of smig.upgrade_head().
 *
 * smig.summary holds one row: the XOR of a 64-bit hash of (version_key,
 * checksum) over every registered migration, the same over every applied
 * migration, and a "stale" flag.  The two digests are equal exactly when
 * every registered migration is applied with its registered checksum
 * (barring a 64-bit collision), which is the state of a database that is
 * up to date: upgrade_head() then answers from one row instead of joining
 * the registry with the applied set, so its cost does not grow with the
 * history.
 *
 * smig's own code keeps the digests current with one UPDATE per call (not
 * per migration: repeated updates of one row inside a transaction would
 * grow a HOT chain and cost O(N^2)).  Any other write to smig.migration or
 * smig.applied - a superuser editing them by hand, a restore - fires a
 * statement trigger that marks the digests stale; the next upgrade
 * recomputes them.  When the digests differ (something pending, a baseline,
 * a missing migration), the full state query runs as before.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "ownersql.h"
#include "summary.h"

PG_FUNCTION_INFO_V1(smig_summary_touch);

#define DIGEST_SEED UINT64CONST(0x736d6967)

uint64
summary_digest(const char *version_key, const char *checksum)
{
	size_t		klen = strlen(version_key);
	size_t		clen = strlen(checksum);
	char	   *buf = palloc(klen + clen + 1);
	uint64		h;

	memcpy(buf, version_key, klen);
	buf[klen] = '\0';			/* keys never contain NUL: unambiguous */
	memcpy(buf + klen + 1, checksum, clen);
	h = hash_bytes_extended((const unsigned char *) buf, (int) (klen + clen + 1),
							DIGEST_SEED);
	pfree(buf);
	return h;
}

void
summary_add(uint64 registry_delta, uint64 applied_delta)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];

	if (registry_delta == 0 && applied_delta == 0)
		return;
	values[0] = Int64GetDatum((int64) registry_delta);
	values[1] = Int64GetDatum((int64) applied_delta);
	owner_exec("UPDATE smig.summary SET registry_digest = registry_digest # $1,"
			   " applied_digest = applied_digest # $2",
			   2, types, values, NULL, SPI_OK_UPDATE);
}

/*
 * Zero digests over a non-empty registry mean the digests were never
 * computed for this data (a data-only restore with triggers disabled):
 * trust them no more than stale ones.
 */
#define DIGESTS_TRUSTED \
	"(NOT s.stale AND (s.registry_digest <> 0" \
	" OR NOT EXISTS (SELECT FROM smig.migration)))"

bool
summary_nothing_to_do(void)
{
	owner_exec("SELECT " DIGESTS_TRUSTED " AND s.registry_digest = s.applied_digest"
			   " FROM smig.summary s",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	return SPI_processed == 1 && strcmp(spi_text(0, 1), "t") == 0;
}

void
summary_mark_stale(void)
{
	owner_exec("UPDATE smig.summary SET stale = true",
			   0, NULL, NULL, NULL, SPI_OK_UPDATE);
}

/* XOR of the digests of every (version_key, checksum) row of query. */
static uint64
digest_of_query(const char *query)
{
	uint64		d = 0;
	uint64		i;

	owner_exec(query, 0, NULL, NULL, NULL, SPI_OK_SELECT);
	for (i = 0; i < SPI_processed; i++)
		d ^= summary_digest(spi_text(i, 1), spi_text(i, 2));
	return d;
}

void
summary_refresh_if_stale(void)
{
	Oid			types[2] = {INT8OID, INT8OID};
	Datum		values[2];

	owner_exec("SELECT " DIGESTS_TRUSTED " FROM smig.summary s",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 1 && strcmp(spi_text(0, 1), "t") == 0)
		return;

	values[0] = Int64GetDatum((int64) digest_of_query(
							  "SELECT m.version_key, m.checksum FROM smig.migration m"));
	values[1] = Int64GetDatum((int64) digest_of_query(
							  "SELECT a.version_key, a.checksum FROM smig.applied a"
							  " WHERE a.checksum IS NOT NULL"));
	owner_exec("UPDATE smig.summary SET registry_digest = $1,"
			   " applied_digest = $2, stale = false",
			   2, types, values, NULL, SPI_OK_UPDATE);
}

/*
 * Statement trigger on smig.migration and smig.applied: a write that did
 * not come from smig's own code makes the digests stale.
 */
Datum
smig_summary_touch(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		elog(ERROR, "smig_summary_touch: not called as a trigger");
	if (owner_scope_active())
		return PointerGetDatum(NULL);

	SPI_connect();
	summary_mark_stale();
	SPI_finish();
	return PointerGetDatum(NULL);
}
