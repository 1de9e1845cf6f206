/*-------------------------------------------------------------------------
 * adopt.c
 *	  smig.adopt(): take over a database that another migration tool
 *	  managed.
 *
 * The tool's history table (Flyway, Liquibase, Alembic, golang-migrate,
 * dbmate, goose, Sqitch, Prisma, node-pg-migrate, or a schema_migrations
 * table with version, name and applied_at) is found by smig._adopt_source()
 * from the catalogs, and read by the query smig._adopt_query() writes, run
 * as the caller.  Here, under the deploy lock and before anything is
 * written:
 *	 - smig's own history must be empty (adopting starts it);
 *	 - an entry the tool marks as unfinished (a failed last Flyway
 *	   migration, a dirty golang-migrate version, an unfinished Prisma
 *	   migration) refuses the whole call, naming it;
 *	 - the baseline is the argument, or else the highest of the tool's
 *	   versions, which must then all be smig versions.
 * Then each entry becomes an "import" row of smig.history (the tool, its
 * version, name, time, user and checksum) and smig is baselined at that
 * version, so the next upgrade_head() applies only what is newer.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/objectaddress.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "action.h"
#include "args.h"
#include "history.h"
#include "ownersql.h"
#include "schema.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_adopt);
PG_FUNCTION_INFO_V1(smig_foreign_checksum);

/* One applied entry of the other tool's history. */
typedef struct AdoptEntry
{
	char	   *version;
	char	   *name;
	bool		has_time;
	TimestampTz applied_at;
	char	   *applied_by;
	char	   *checksum;		/* "kind:value", or NULL */
	char	   *problem;
} AdoptEntry;

/* Is v a smig version: digit groups separated by "." or "_"? */
static bool
is_smig_version(const char *v)
{
	bool		digit_seen = false;

	for (; *v; v++)
	{
		if (*v >= '0' && *v <= '9')
			digit_seen = true;
		else if ((*v == '.' || *v == '_') && digit_seen && v[1] >= '0' && v[1] <= '9')
			digit_seen = false;
		else
			return false;
	}
	return digit_seen;
}

/*
 * Resolve the tool and its table and read its applied entries; *tool and
 * *tbl name them.  Finding the table reads only catalogs (as the owner:
 * smig's helpers are granted to no one); the table itself is read by the
 * caller, with the caller's rights, and with search_path pinned, so that
 * only the caller's own SELECT right lets it be adopted.
 *
 * The checks of smig._adopt_source() (an ordinary table, columns of
 * built-in types) hold only while the table cannot change, and the query
 * names it: so the table is locked first and checked again after the lock
 * (ALTER TABLE, CREATE RULE, DROP and RENAME all wait for it), and the
 * query, once parsed, must read that table and no other relation (a
 * schema renamed meanwhile could give its name to a view).  A table whose
 * row security applies to the caller is refused too: its policies would
 * run its owner's expressions with the caller's rights.
 */
static AdoptEntry *
read_entries(const char *source, Datum tbl_arg, bool tbl_null,
			 char **tool, char **tbl, int *n)
{
	Oid			types[2] = {TEXTOID, REGCLASSOID};
	Datum		values[2];
	char		nulls[3] = "  ";
	bool		isnull;
	Oid			relid;
	char	   *query;
	int			nest;
	SPIPlanPtr	plan;
	ListCell   *lc;
	AdoptEntry *entries;
	int			i;

	values[0] = source ? CStringGetTextDatum(source) : (Datum) 0;
	nulls[0] = source ? ' ' : 'n';
	values[1] = tbl_arg;
	nulls[1] = tbl_null ? 'n' : ' ';
	owner_exec("SELECT s.source_tool, s.source_table::pg_catalog.oid"
			   " FROM smig._adopt_source($1, $2) s",
			   2, types, values, nulls, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "smig._adopt_source() returned no row");
	*tool = spi_text(0, 1);
	relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
										   SPI_tuptable->tupdesc, 2, &isnull));

	/*
	 * From here on the table stays as it is checked below.  (A caller that
	 * may not read it may not lock it either.)
	 */
	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK
		&& pg_attribute_aclcheck_all(relid, GetUserId(), ACL_SELECT, ACLMASK_ANY) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
	LockRelationOid(relid, AccessShareLock);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s's history table was dropped while it was being adopted", *tool)));
	values[0] = CStringGetTextDatum(*tool);
	nulls[0] = ' ';
	values[1] = ObjectIdGetDatum(relid);
	nulls[1] = ' ';
	owner_exec("SELECT s.source_table::pg_catalog.text,"
			   "  smig._adopt_query(s.source_tool, s.source_table)"
			   " FROM smig._adopt_source($1, $2) s",
			   2, types, values, nulls, SPI_OK_SELECT);
	if (SPI_processed != 1)
		elog(ERROR, "smig._adopt_source() returned no row");
	*tbl = spi_text(0, 1);
	query = psprintf("SELECT e.version, e.name, e.applied_at, e.applied_by,"
					 "  e.checksum, e.problem"
					 " FROM (%s) e (ord, version, name, applied_at, applied_by,"
					 "   checksum, problem)"
					 " ORDER BY e.ord", spi_text(0, 2));

	if (check_enable_rls(relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table %s has row-level security that applies to the caller", *tbl),
				 errdetail("Its policies would run its owner's expressions with the rights of the role that adopts it."),
				 errhint("Adopt it as its owner or as a role that bypasses row-level security, or disable row-level security on it first.")));

	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	plan = SPI_prepare(query, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "could not read %s: %s", *tbl,
			 SPI_result_code_string(SPI_result));
	foreach(lc, SPI_plan_get_plan_sources(plan))
	{
		CachedPlanSource *ps = (CachedPlanSource *) lfirst(lc);
		ListCell   *rc;

		foreach(rc, ps->relationOids)
		{
			if (lfirst_oid(rc) != relid)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("%s's history table changed while it was being adopted", *tool),
						 errdetail("The name %s now reads another relation than the table that was checked.", *tbl)));
		}
	}
	if (SPI_execute_plan(plan, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read %s", *tbl);
	AtEOXact_GUC(true, nest);

	*n = (int) SPI_processed;
	entries = palloc0(sizeof(AdoptEntry) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		Datum		at = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
									   3, &isnull);

		entries[i].version = spi_text(i, 1);
		entries[i].name = spi_text(i, 2);
		entries[i].has_time = !isnull;
		entries[i].applied_at = isnull ? 0 : DatumGetTimestampTz(at);
		entries[i].applied_by = spi_text(i, 4);
		entries[i].checksum = spi_text(i, 5);
		entries[i].problem = spi_text(i, 6);
	}
	return entries;
}

/* Refuse, before writing anything, what adopting cannot start from. */
static void
check_entries(const AdoptEntry *entries, int n, const char *tool,
			  const char *tbl)
{
	int			i;

	if (n == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s's history in %s records no applied migration", tool, tbl),
				 errhint("There is nothing to adopt: register your migrations and run smig.upgrade_head(), as on a new database.")));
	for (i = 0; i < n; i++)
	{
		if (entries[i].version == NULL || entries[i].name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("cannot adopt %s's history: a migration in %s has no %s",
							tool, tbl, entries[i].version == NULL ? "version" : "name"),
					 errdetail("The columns smig.adopt() reads it from are NULL in that row."),
					 errhint("Fill them in, or delete the row if the migration is not applied, then adopt.")));
		if (entries[i].problem == NULL)
			continue;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot adopt %s's history: migration \"%s\" (\"%s\") did not complete",
						tool, entries[i].version, entries[i].name),
				 errdetail("In %s, %s.", tbl, entries[i].problem),
				 errhint("Finish or undo that migration with %s, then adopt.", tool)));
	}
}

/*
 * The version to baseline at: the argument, which must be a smig version
 * (checked by version_key_or_error), or the highest of the tool's, which
 * must then all be smig versions.
 */
static const char *
choose_baseline(const AdoptEntry *entries, int n, const char *tool,
				const char *baseline, char **key)
{
	const char *best = NULL;
	char	   *best_key = NULL;
	int			i;

	if (baseline != NULL)
	{
		*key = version_key_or_error(baseline);
		/*
		 * A version the tool applied above the baseline would be pending
		 * for smig, and applied a second time once its file is registered.
		 */
		for (i = 0; i < n; i++)
		{
			if (strncmp(entries[i].version, "R__", 3) == 0
				|| !is_smig_version(entries[i].version))
				continue;
			if (strcmp(version_key_or_error(entries[i].version), *key) > 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("baseline \"%s\" is below version \"%s\", which %s applied",
								baseline, entries[i].version, tool),
						 errdetail("smig would count \"%s\" as pending and apply it again once its file is registered.",
								   entries[i].version),
						 errhint("Baseline at or above the highest version %s applied, or leave baseline out to take it.",
								 tool)));
		}
		return baseline;
	}
	for (i = 0; i < n; i++)
	{
		char	   *k;

		if (strncmp(entries[i].version, "R__", 3) == 0)
			continue;			/* a repeatable migration has no version */
		if (!is_smig_version(entries[i].version))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s's migration \"%s\" has no version smig can order",
							tool, entries[i].version),
					 errdetail("smig versions are digit groups separated by \".\" or \"_\"; %s names its migrations otherwise.",
							   tool),
					 errhint("Say which smig version the database is at now: smig.adopt('%s', baseline => '...'), where your first smig migration comes after it.",
							 tool)));
		k = version_key_or_error(entries[i].version);
		if (best_key == NULL || strcmp(k, best_key) > 0)
		{
			best = entries[i].version;
			best_key = k;
		}
	}
	if (best == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s's history records only repeatable migrations", tool),
				 errhint("Say which smig version the database is at now: smig.adopt('%s', baseline => '...').",
						 tool)));
	*key = best_key;
	return best;
}

/*
 * smig.adopt(source text DEFAULT NULL, baseline text DEFAULT NULL,
 *			  history_table regclass DEFAULT NULL)
 * RETURNS TABLE (tool, version, name, applied_at, applied_by)
 */
Datum
smig_adopt(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *source = PG_ARGISNULL(0) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *baseline = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *tool;
	char	   *tbl;
	char	   *key;
	const char *at_version;
	AdoptEntry *entries;
	int			n;
	int			i;
	HistoryEntry entry = {0};
	StringInfoData name;

	if (baseline != NULL)
		(void) version_key_or_error(baseline);
	InitMaterializedSRF(fcinfo, 0);
	action_begin("adopt another tool's history");

	SPI_connect();
	owner_exec("SELECT 1 FROM smig.history LIMIT 1", 0, NULL, NULL, NULL,
			   SPI_OK_SELECT);
	if (SPI_processed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot adopt another tool's history: smig's history is not empty"),
				 errdetail("smig.adopt() starts the history of a database; this one already has smig actions recorded."),
				 errhint("To mark where the database is, use smig.baseline() on an empty history instead.")));

	entries = read_entries(source, PG_GETARG_DATUM(2), PG_ARGISNULL(2),
						   &tool, &tbl, &n);
	check_entries(entries, n, tool, tbl);
	at_version = choose_baseline(entries, n, tool, baseline, &key);

	/* each entry, as an import row */
	for (i = 0; i < n; i++)
	{
		AdoptEntry *e = &entries[i];
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};

		memset(&entry, 0, sizeof(entry));
		entry.action = "import";
		entry.version = e->version;
		entry.version_key = (strncmp(e->version, "R__", 3) != 0 && is_smig_version(e->version))
			? version_key_or_error(e->version) : NULL;
		entry.name = e->name;
		entry.checksum = e->checksum;
		entry.started_at = e->has_time ? e->applied_at : GetCurrentTimestamp();
		entry.duration_us = -1;
		entry.detail = psprintf("imported from %s", tbl);
		history_record_import(&entry, tool, e->applied_by);

		values[0] = CStringGetTextDatum(tool);
		values[1] = CStringGetTextDatum(e->version);
		values[2] = CStringGetTextDatum(e->name);
		values[3] = TimestampTzGetDatum(e->applied_at);
		nulls[3] = !e->has_time;
		values[4] = e->applied_by ? CStringGetTextDatum(e->applied_by) : (Datum) 0;
		nulls[4] = e->applied_by == NULL;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	/* and the baseline at the tool's current version */
	initStringInfo(&name);
	appendStringInfo(&name, "adopted from %s", tool);
	memset(&entry, 0, sizeof(entry));
	entry.action = "baseline";
	entry.version = at_version;
	entry.version_key = key;
	entry.name = name.data;
	entry.started_at = GetCurrentTimestamp();
	entry.duration_us = -1;
	schema_stage_fingerprint();
	history_record_applied(&entry, "baseline");
	SPI_finish();

	ereport(NOTICE,
			(errmsg("adopted %d migration%s from %s's history in %s, and baselined at version \"%s\"",
					n, n == 1 ? "" : "s", tool, tbl, at_version),
			 errdetail("Versions up to and including \"%s\" count as applied; the next upgrade applies only later ones.",
					   at_version)));
	return (Datum) 0;
}

/*---- the other tools' checksums -------------------------------------------*
 * So that smig.verify_adopted() can tell whether the files registered now
 * are the ones the other tool applied, the checksums it kept are computed
 * here from a registered script, as that tool computes them from its file:
 *	 crc32	Flyway: CRC-32 of the UTF-8 lines without their line breaks (a
 *			leading BOM dropped), as a signed 32-bit integer;
 *	 sha256	Prisma: SHA-256 of the file, hex;
 *	 sha1	Sqitch: SHA-1 of the deploy script, hex;
 *	 liquibase-md5:9
 *			Liquibase 4.24 and later (checksum version 9) for a changeset of
 *			one SQL change: the MD5 of "9:<m>:", where m is the MD5 of the
 *			SQL with every space, tab and line break removed.  Version 8
 *			(and older) normalised the SQL in ways of its own, and is not
 *			computed.
 */

/* CRC-32 (the polynomial of zlib and java.util.zip.CRC32), bit by bit. */
static uint32
crc32_update(uint32 crc, const unsigned char *p, size_t len)
{
	while (len-- > 0)
	{
		int			k;

		crc ^= *p++;
		for (k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
	}
	return crc;
}

/* Flyway's checksum of a script: its lines, without their line breaks. */
static int32
flyway_checksum(const char *s, size_t len)
{
	uint32		crc = 0xFFFFFFFFU;
	size_t		i = 0;

	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	while (i < len)
	{
		size_t		start = i;

		while (i < len && s[i] != '\n' && s[i] != '\r')
			i++;
		crc = crc32_update(crc, (const unsigned char *) s + start, i - start);
		/* a line ends at "\n", "\r" or "\r\n" (Java's readLine) */
		if (i < len && s[i] == '\r')
		{
			i++;
			if (i < len && s[i] == '\n')
				i++;
		}
		else if (i < len)
			i++;				/* "\n" */
	}
	return (int32) (crc ^ 0xFFFFFFFFU);
}

/*
 * Hex digest of s with one of core's hashes; padded false writes each byte
 * without its leading zero (Prisma's format before prisma-engines#1887).
 */
static char *
hex_digest(pg_cryptohash_type type, size_t digest_len, const char *s, size_t len,
		   bool padded)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(type);
	uint8		digest[64];
	StringInfoData hex;
	size_t		i;

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0
		|| pg_cryptohash_update(ctx, (const uint8 *) s, len) < 0
		|| pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a digest: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	initStringInfo(&hex);
	for (i = 0; i < digest_len; i++)
		appendStringInfo(&hex, padded ? "%02x" : "%x", digest[i]);
	return hex.data;
}

/* s with every occurrence of from replaced by to. */
static char *
replace_all(const char *s, size_t len, const char *from, const char *to,
			size_t *outlen)
{
	StringInfoData out;
	size_t		flen = strlen(from);
	size_t		i = 0;

	initStringInfo(&out);
	while (i < len)
	{
		if (i + flen <= len && memcmp(s + i, from, flen) == 0)
		{
			appendStringInfoString(&out, to);
			i += flen;
		}
		else
			appendStringInfoChar(&out, s[i++]);
	}
	*outlen = out.len;
	return out.data;
}

/*
 * Prisma's checksum of a script, as recorded would have it.  Prisma
 * accepts a file whose SHA-256 matches as it is, with its "\r\n" made
 * "\n", or with its "\n" made "\r\n" (git may have changed the line
 * endings), and compares a checksum that is not 64 digits long in the
 * format of its old versions, without leading zeros (its
 * script_matches_checksum).  So: the variant that gives recorded, if one
 * does, else the file's own.
 */
static char *
prisma_checksum(const char *s, size_t len, const char *recorded)
{
	bool		padded = recorded == NULL || *recorded == '\0' || strlen(recorded) == 64;
	char	   *raw = hex_digest(PG_SHA256, 32, s, len, padded);
	const char *const variants[2][2] = {{"\r\n", "\n"}, {"\n", "\r\n"}};
	int			v;

	if (recorded == NULL || strcmp(raw, recorded) == 0)
		return raw;
	for (v = 0; v < 2; v++)
	{
		size_t		vlen;
		char	   *vs = replace_all(s, len, variants[v][0], variants[v][1], &vlen);
		char	   *hex = hex_digest(PG_SHA256, 32, vs, vlen, padded);

		if (strcmp(hex, recorded) == 0)
			return hex;
	}
	return raw;
}

/*
 * smig._foreign_checksum(recorded text, script text) RETURNS text: the
 * checksum "kind:value" that the tool which recorded recorded ("kind" or
 * "kind:value") would have recorded for script, or NULL for a kind smig
 * does not compute.
 */
Datum
smig_foreign_checksum(PG_FUNCTION_ARGS)
{
	char	   *recorded;
	char	   *value;
	text	   *script;
	const char *s;
	size_t		len;
	char	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	recorded = text_to_cstring(PG_GETARG_TEXT_PP(0));
	value = strchr(recorded, ':');
	if (value != NULL)
		*value++ = '\0';
	script = PG_GETARG_TEXT_PP(1);
	s = VARDATA_ANY(script);
	len = VARSIZE_ANY_EXHDR(script);
	if (strcmp(recorded, "crc32") == 0)
		result = psprintf("crc32:%d", flyway_checksum(s, len));
	else if (strcmp(recorded, "sha256") == 0)
		result = psprintf("sha256:%s", prisma_checksum(s, len, value));
	else if (strcmp(recorded, "sha1") == 0)
		result = psprintf("sha1:%s", hex_digest(PG_SHA1, 20, s, len, true));
	else if (strcmp(recorded, "liquibase-md5") == 0 && value != NULL &&
			 strncmp(value, "9:", 2) == 0)
	{
		char	   *packed = palloc(len + 1);
		size_t		n = 0;
		size_t		i;
		char	   *change;

		for (i = 0; i < len; i++)
			if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
				packed[n++] = s[i];
		change = psprintf("9:%s:", hex_digest(PG_MD5, 16, packed, n, true));
		result = psprintf("liquibase-md5:9:%s",
						  hex_digest(PG_MD5, 16, change, strlen(change), true));
	}
	else
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(result));
}
