/*-------------------------------------------------------------------------
 * rehearse.c
 *	  smig.rehearse(): run every pending migration inside a subtransaction
 *	  that is always rolled back, and report what each one did, measured.
 *
 * The work and its checks are upgrade_head()'s (apply_plan: the deploy
 * lock, modified, out-of-order, baseline and no-transaction migrations,
 * the run-as roles).  Then, in one subtransaction, each migration runs
 * through the runner as in a deploy (its run-as role, its lock timeout,
 * the destructive gate), and before the next one starts this module
 * reads what it did:
 *	 - created / altered / dropped objects, rewrites, full-table reads and
 *	   the reasons it is destructive: what the audit triggers saw
 *	   (effects.c), kept in memory; in a rehearsal the triggers write no
 *	   row to smig.ddl_log, and nothing is written to smig.history, so
 *	   not even a sequence of smig's tables moves;
 *	 - tables whose storage changed: relfilenode compared with the value
 *	   read when the rehearsal began (catches TRUNCATE, which fires no
 *	   event trigger);
 *	 - locks on tables that existed before the rehearsal: this backend's
 *	   own pg_locks rows that the migration added;
 *	 - full reads of those tables (a constraint validated, NOT NULL set,
 *	   an index built, a rewrite, a query): the deltas of this backend's
 *	   own pending table statistics, the counters behind
 *	   pg_stat_xact_user_tables.seq_scan and seq_tup_read (see
 *	   read_counts());
 *	 - its duration, and its error (with SQLSTATE), which ends the
 *	   rehearsal: the later migrations would run on a schema it did not
 *	   leave.
 * A table is populated when its heap had pages when the rehearsal began;
 * the hazards are what a deploy would do to a populated table: an ACCESS
 * EXCLUSIVE lock (blocks reads and writes), a SHARE-class lock (blocks
 * writes), a rewrite, a full read to validate or index.
 *
 * The subtransaction is rolled back at the end, error or not: the
 * catalog, the tables, the locks, smig's tables are as they were.  The
 * rehearsal runs with a short lock_timeout (its argument), so that it
 * fails fast instead of queueing behind the application's transactions
 * while holding its own locks: every statement of every migration waits
 * at most that long, without retries (the argument NULL: as in a deploy,
 * the migration's own lock timeout and smig.lock_retries).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/proc.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "apply.h"
#include "args.h"
#include "effects.h"
#include "ownersql.h"
#include "runner.h"

PG_FUNCTION_INFO_V1(smig_rehearse);

/* A table that existed when the rehearsal began. */
typedef struct KnownTable
{
	Oid			relid;			/* hash key */
	Oid			relfilenode;	/* its storage now (updated per migration) */
	int64		pages;			/* heap pages when the rehearsal began */
	int64		seq_scans;		/* this backend's counters before the */
	int64		rows_read;		/* running migration (read_counts) */
	char		name[NAMEDATALEN * 2 + 6];
} KnownTable;

#define REHEARSE_COLS 19

/*
 * This backend's sequential scans of relid and the rows they returned, in
 * this transaction: its pending statistics entry, which
 * pg_stat_xact_user_tables reads (pgstat_relation.c, find_tabstat_entry).
 * heapam counts a scan when a sequential scan begins (the validation of a
 * CHECK constraint, of NOT NULL, an index build, a rewrite and a query's
 * Seq Scan all begin one) and a row for each tuple it returns.  These two
 * counters are not transactional: a rolled-back subtransaction leaves
 * them as they are, and they are not sent to the cumulative statistics
 * before the transaction ends.  Without track_counts nothing counts.
 */
static void
read_counts(Oid relid, int64 *seq_scans, int64 *rows_read)
{
	PgStat_TableStatus *s = find_tabstat_entry(relid);

	*seq_scans = s ? s->t_counts.t_numscans : 0;
	*rows_read = s ? s->t_counts.t_tuples_returned : 0;
}

/* Every known table's counters, just before a migration runs. */
static void
count_before(HTAB *tables)
{
	HASH_SEQ_STATUS seq;
	KnownTable *t;

	hash_seq_init(&seq, tables);
	while ((t = hash_seq_search(&seq)) != NULL)
		read_counts(t->relid, &t->seq_scans, &t->rows_read);
}

/* Every user table, matview and partitioned table, with its storage. */
static HTAB *
read_known_tables(void)
{
	HASHCTL		ctl;
	HTAB	   *tables;
	uint64		i;

	ctl.keysize = sizeof(Oid);
	ctl.entrysize = sizeof(KnownTable);
	ctl.hcxt = CurrentMemoryContext;
	tables = hash_create("smig rehearsal tables", 256, &ctl,
						 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	if (SPI_execute("SELECT c.oid, c.relfilenode,"
					"  pg_catalog.format('%I.%I', n.nspname, c.relname),"
					"  pg_catalog.pg_relation_size(c.oid) OPERATOR(pg_catalog./)"
					"   pg_catalog.current_setting('block_size')::pg_catalog.int8"
					" FROM pg_catalog.pg_class c"
					" JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace"
					" WHERE c.relkind IN ('r', 'p', 'm')"
					"  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'smig')"
					"  AND n.nspname NOT LIKE 'pg\\_to%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the tables to rehearse on");
	for (i = 0; i < SPI_processed; i++)
	{
		Oid			relid = (Oid) strtoul(spi_text(i, 1), NULL, 10);
		bool		found;
		KnownTable *t = hash_search(tables, &relid, HASH_ENTER, &found);

		t->relfilenode = (Oid) strtoul(spi_text(i, 2), NULL, 10);
		strlcpy(t->name, spi_text(i, 3), sizeof(t->name));
		t->pages = strtoll(spi_text(i, 4), NULL, 10);
	}
	return tables;
}

/*
 * This backend's granted locks on the known tables: "relid mode" strings.
 * (A deploy from an empty schema knows no table: nothing to read.)
 */
static List *
read_own_locks(HTAB *tables)
{
	List	   *locks = NIL;
	uint64		i;

	if (hash_get_num_entries(tables) == 0)
		return NIL;
	if (SPI_execute("SELECT l.relation, l.mode FROM pg_catalog.pg_locks l"
					" WHERE l.locktype = 'relation' AND l.granted"
					"  AND l.pid OPERATOR(pg_catalog.=) pg_catalog.pg_backend_pid()"
					"  AND l.database OPERATOR(pg_catalog.=) (SELECT d.oid FROM pg_catalog.pg_database d"
					"   WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
					/* in a stable order: pg_locks follows the lock table's hash */
					" ORDER BY l.relation::pg_catalog.regclass::pg_catalog.text, l.mode",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read this backend's locks");
	for (i = 0; i < SPI_processed; i++)
	{
		Oid			relid = (Oid) strtoul(spi_text(i, 1), NULL, 10);

		if (hash_search(tables, &relid, HASH_FIND, NULL) != NULL)
			locks = lappend(locks, psprintf("%u %s", relid, spi_text(i, 2)));
	}
	return locks;
}

#define LOCK_KEY_LEN 48

/* The locks as a hash set, so that a long deploy compares in O(locks). */
static HTAB *
lock_set(List *locks)
{
	HASHCTL		ctl;
	HTAB	   *set;
	ListCell   *lc;

	ctl.keysize = LOCK_KEY_LEN;
	ctl.entrysize = LOCK_KEY_LEN;
	ctl.hcxt = CurrentMemoryContext;
	set = hash_create("smig rehearsal locks", Max(list_length(locks), 16), &ctl,
					  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	foreach(lc, locks)
		(void) hash_search(set, lfirst(lc), HASH_ENTER, NULL);
	return set;
}

static bool
has_string(List *list, const char *s)
{
	ListCell   *lc;

	foreach(lc, list)
	{
		if (strcmp((const char *) lfirst(lc), s) == 0)
			return true;
	}
	return false;
}

static const char *const modes[][2] = {
		{"AccessShareLock", "ACCESS SHARE"},
		{"RowShareLock", "ROW SHARE"},
		{"RowExclusiveLock", "ROW EXCLUSIVE"},
		{"ShareUpdateExclusiveLock", "SHARE UPDATE EXCLUSIVE"},
		{"ShareLock", "SHARE"},
		{"ShareRowExclusiveLock", "SHARE ROW EXCLUSIVE"},
		{"ExclusiveLock", "EXCLUSIVE"},
		{"AccessExclusiveLock", "ACCESS EXCLUSIVE"},
};

/* "AccessExclusiveLock" -> "ACCESS EXCLUSIVE" */
static const char *
lock_mode_words(const char *mode)
{
	size_t		i;

	for (i = 0; i < lengthof(modes); i++)
		if (strcmp(modes[i][0], mode) == 0)
			return modes[i][1];
	return mode;
}

/* What one migration of the rehearsal did, beyond effects.c's lists. */
typedef struct Measured
{
	List	   *locks;			/* "public.t: ACCESS EXCLUSIVE" */
	List	   *hazards;
	List	   *rewritten;		/* the effects' rewrites and storage changes */
	List	   *reasons;		/* the effects' reasons and storage changes */
	char	   *scanned;		/* jsonb text, NULL if nothing is counted */
} Measured;

/* A known table the migration read in full, measured. */
typedef struct Scanned
{
	KnownTable *table;
	int64		seq_scans;
	int64		rows_read;
} Scanned;

static int
scanned_cmp(const ListCell *a, const ListCell *b)
{
	return strcmp(((Scanned *) lfirst(a))->table->name,
				  ((Scanned *) lfirst(b))->table->name);
}

/* The known tables whose sequential scan count moved since count_before(). */
static List *
collect_scans(HTAB *tables)
{
	HASH_SEQ_STATUS seq;
	KnownTable *t;
	List	   *scans = NIL;

	hash_seq_init(&seq, tables);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		int64		seq_scans;
		int64		rows_read;

		read_counts(t->relid, &seq_scans, &rows_read);
		if (seq_scans > t->seq_scans)
		{
			Scanned    *s = palloc(sizeof(Scanned));

			s->table = t;
			s->seq_scans = seq_scans - t->seq_scans;
			s->rows_read = rows_read - t->rows_read;
			scans = lappend(scans, s);
		}
	}
	return scans;
}

/* "1 row", "2 rows" */
static char *
count_words(int64 n, const char *one, const char *many)
{
	return psprintf(INT64_FORMAT " %s", n, n == 1 ? one : many);
}

/*
 * The measured full reads: the jsonb array of "scanned" (in table name
 * order) and, for a populated table, a hazard.  A scan that effects.c
 * ascribes to a statement (a constraint validated, NOT NULL set, an index
 * built) is a validation scan; one of a table the migration rewrote
 * (table_rewrite) is the rewrite's own read, whose hazard is the rewrite;
 * one of a table whose storage was replaced otherwise (replaced: CLUSTER)
 * reads it to copy it; failed: the migration stopped at an error, before
 * the triggers saw its last statement; any other is a query's or a data
 * change's.
 */
static void
report_scans(List *scans, const Effects *eff, List *replaced, bool failed,
			 Measured *m)
{
	StringInfoData json;
	ListCell   *lc;

	list_sort(scans, scanned_cmp);
	initStringInfo(&json);
	appendStringInfoChar(&json, '[');
	foreach(lc, scans)
	{
		Scanned    *s = (Scanned *) lfirst(lc);
		KnownTable *t = s->table;
		StringInfoData why;
		ListCell   *lc2;
		ListCell   *lc3;
		char	   *read;

		if (json.len > 1)
			appendStringInfoString(&json, ", ");
		appendStringInfoString(&json, "{\"table\": ");
		escape_json(&json, t->name);
		appendStringInfo(&json, ", \"seq_scans\": " INT64_FORMAT
						 ", \"rows_read\": " INT64_FORMAT
						 ", \"pages\": " INT64_FORMAT "}",
						 s->seq_scans, s->rows_read, t->pages);

		if (t->pages <= 0 && s->rows_read <= 0)
			continue;			/* empty: nothing to wait for */
		read = psprintf("%s (%s): %s read by %s",
						t->name, count_words(t->pages, "page", "pages"),
						count_words(s->rows_read, "row", "rows"),
						count_words(s->seq_scans, "sequential scan", "sequential scans"));
		initStringInfo(&why);
		forboth(lc2, eff->scans, lc3, eff->scan_relids)
		{
			if (lfirst_oid(lc3) == t->relid)
				appendStringInfo(&why, "%s%s", why.len ? "; " : "",
								 (char *) lfirst(lc2));
		}
		if (why.len > 0)
			m->hazards = lappend(m->hazards,
								 psprintf("validation scan of populated table %s under its lock (%s)",
										  read, why.data));
		else if (list_member_oid(eff->rewritten_relids, t->relid))
			continue;
		else if (list_member_oid(replaced, t->relid))
			m->hazards = lappend(m->hazards,
								 psprintf("full scan of populated table %s to replace its storage, under its lock",
										  read));
		else if (failed)
			m->hazards = lappend(m->hazards,
								 psprintf("full scan of populated table %s before the migration failed",
										  read));
		else
			m->hazards = lappend(m->hazards,
								 psprintf("full scan of populated table %s in a query or data change of the migration",
										  read));
	}
	appendStringInfoChar(&json, ']');
	m->scanned = pgstat_track_counts ? json.data : NULL;
}

/*
 * Lock "relid ModeLock" taken by the migration: listed once if relid is a
 * known table, with a hazard if that table is populated.
 */
static void
add_lock(HTAB *tables, const char *lock, Measured *m)
{
	const char *space = strchr(lock, ' ');
	Oid			relid = (Oid) strtoul(lock, NULL, 10);
	KnownTable *t = hash_search(tables, &relid, HASH_FIND, NULL);
	const char *mode;
	char	   *entry;

	if (t == NULL || space == NULL)
		return;
	mode = lock_mode_words(space + 1);
	entry = psprintf("%s: %s", t->name, mode);
	if (has_string(m->locks, entry))
		return;
	m->locks = lappend(m->locks, entry);
	if (t->pages <= 0)
		return;
	if (strcmp(mode, "ACCESS EXCLUSIVE") == 0)
		m->hazards = lappend(m->hazards,
							 psprintf("ACCESS EXCLUSIVE lock on populated table %s (" INT64_FORMAT " pages): blocks its reads and writes until the deploy commits",
									  t->name, t->pages));
	else if (strcmp(mode, "SHARE") == 0 || strcmp(mode, "SHARE ROW EXCLUSIVE") == 0 ||
			 strcmp(mode, "EXCLUSIVE") == 0)
		m->hazards = lappend(m->hazards,
							 psprintf("%s lock on populated table %s (" INT64_FORMAT " pages): blocks its writes until the deploy commits",
									  mode, t->name, t->pages));
}

/*
 * After a migration ran: its new locks on known tables, the tables whose
 * storage changed, and the hazards to populated tables.
 */
static void
measure(HTAB *tables, HTAB *locks_before, const Effects *eff, Measured *m)
{
	List	   *locks_after = read_own_locks(tables);
	ListCell   *lc;
	ListCell   *lc2;
	HASH_SEQ_STATUS seq;
	KnownTable *t;
	List	   *replaced = NIL;

	m->rewritten = list_copy(eff->rewritten);
	m->reasons = list_copy(eff->destructive);

	/*
	 * The locks of this backend that the migration added, then those its
	 * ALTER TABLE statements asked for that an earlier migration of the
	 * rehearsal already held (the transaction of a deploy holds them all).
	 */
	foreach(lc, locks_after)
	{
		if (hash_search(locks_before, lfirst(lc), HASH_FIND, NULL) == NULL)
			add_lock(tables, (char *) lfirst(lc), m);
	}
	forboth(lc, eff->lock_relids, lc2, eff->lock_modes)
	{
		int			mode = lfirst_int(lc2);

		if (mode >= 1 && mode <= (int) lengthof(modes))
			add_lock(tables, psprintf("%u %s", lfirst_oid(lc), modes[mode - 1][0]), m);
	}

	/* rewrites the triggers saw, on populated tables */
	foreach(lc, eff->rewritten_relids)
	{
		Oid			relid = lfirst_oid(lc);

		t = hash_search(tables, &relid, HASH_FIND, NULL);
		if (t != NULL && t->pages > 0)
			m->hazards = lappend(m->hazards,
								 psprintf("rewrites populated table %s (" INT64_FORMAT " pages) under its lock",
										  t->name, t->pages));
	}

	/* storage replaced without a rewrite event: CLUSTER, REFRESH ... */
	hash_seq_init(&seq, tables);
	while ((t = hash_seq_search(&seq)) != NULL)
	{
		HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(t->relid));
		Oid			now;

		if (!HeapTupleIsValid(tup))
			continue;			/* dropped: the effects say so */
		now = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
		ReleaseSysCache(tup);
		if (now == t->relfilenode)
			continue;
		t->relfilenode = now;
		if (list_member_oid(eff->rewritten_relids, t->relid) ||
			list_member_oid(eff->truncated_relids, t->relid))
			continue;
		replaced = lappend_oid(replaced, t->relid);
		m->rewritten = lappend(m->rewritten,
							   psprintf("%s (its storage was replaced)", t->name));
		m->reasons = lappend(m->reasons,
							 psprintf("It replaces the storage of table %s (CLUSTER, TRUNCATE through CASCADE or the like).",
									  t->name));
	}

	report_scans(collect_scans(tables), eff, replaced, false, m);
}

/* A text[] of the strings of list. */
static Datum
text_array(List *list)
{
	Datum	   *elems = palloc(Max(list_length(list), 1) * sizeof(Datum));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, list)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/* One result row. */
static void
put_row(ReturnSetInfo *rsinfo, int position, const ApplyPlanItem *item,
		const char *classification, const Effects *eff, const Measured *m,
		int64 duration_us, ErrorData *edata)
{
	Datum		values[REHEARSE_COLS];
	bool		nulls[REHEARSE_COLS];
	Interval   *duration = palloc0(sizeof(Interval));
	Effects		none = {0};
	Measured	nothing = {0};

	if (eff == NULL)
		eff = &none;
	if (m == NULL)
		m = &nothing;
	memset(nulls, 0, sizeof(nulls));
	duration->time = duration_us;
	values[0] = Int32GetDatum(position);
	values[1] = CStringGetTextDatum(item->version);
	values[2] = CStringGetTextDatum(item->name);
	values[3] = CStringGetTextDatum(item->repeatable ? "repeatable" : "versioned");
	values[4] = text_datum_or_null(item->run_as);
	nulls[4] = item->run_as == NULL;
	values[5] = BoolGetDatum(item->destructive);
	values[6] = CStringGetTextDatum(classification);
	values[7] = text_array(m->reasons);
	values[8] = text_array(m->hazards);
	values[9] = text_array(eff->created);
	values[10] = text_array(eff->altered);
	values[11] = text_array(eff->dropped);
	values[12] = text_array(m->rewritten);
	values[13] = text_array(m->locks);
	values[14] = text_array(eff->scans);
	if (m->scanned != NULL)
		values[15] = DirectFunctionCall1(jsonb_in, CStringGetDatum(m->scanned));
	nulls[15] = m->scanned == NULL;
	values[16] = IntervalPGetDatum(duration);
	nulls[16] = duration_us < 0;
	if (edata != NULL)
	{
		values[17] = CStringGetTextDatum(edata->message);
		values[18] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	}
	else
		nulls[17] = nulls[18] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * smig.rehearse(lock_timeout text DEFAULT '1s') returns table (step,
 * version, name, kind, run_as, declared_destructive, classification,
 * reasons, hazards, created, altered, dropped, rewritten, locks, scans,
 * scanned, duration, error, sqlstate)
 */
Datum
smig_rehearse(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char *lock_timeout = PG_ARGISNULL(0) ? NULL
		: text_to_cstring(PG_GETARG_TEXT_PP(0));
	MemoryContext oldcontext;
	ResourceOwner oldowner = CurrentResourceOwner;
	List	   *plan;
	ListCell   *lc;
	volatile int position = 0;
	ApplyPlanItem *volatile item = NULL;
	TimestampTz volatile started = 0;
	char	   *volatile rehearsal_timeout = NULL;
	HTAB	   *volatile tables = NULL;
	volatile bool counting = false;	/* count_before() ran for item */

	InitMaterializedSRF(fcinfo, 0);
	plan = apply_plan(NULL);
	if (plan == NIL)
	{
		ereport(NOTICE,
				(errmsg("nothing to rehearse"),
				 errdetail("No migration is pending.")));
		return (Datum) 0;
	}
	if (lock_timeout != NULL)
		ereport(NOTICE,
				(errmsg("rehearsing %d migrations with lock_timeout = %s",
						list_length(plan), lock_timeout),
				 errdetail("A rehearsal takes the migrations' locks on this database's tables until it rolls back; each statement fails rather than waits longer than that for one, and is not retried."),
				 errhint("To rehearse without locking the application's tables, rehearse on a copy: CREATE DATABASE rehearsal TEMPLATE %s (which needs the database to have no other connections).",
						 quote_identifier(get_database_name(MyDatabaseId)))));
	else
		ereport(NOTICE,
				(errmsg("rehearsing %d migrations with the deploy's lock timeouts (smig.lock_timeout = %s, smig.lock_retries = %s, or the migrations' own)",
						list_length(plan),
						GetConfigOptionByName("smig.lock_timeout", NULL, false),
						GetConfigOptionByName("smig.lock_retries", NULL, false)),
				 errdetail("A rehearsal takes the migrations' locks on this database's tables until it rolls back, and waits for them as the deploy would."),
				 errhint("To rehearse without locking the application's tables, rehearse on a copy: CREATE DATABASE rehearsal TEMPLATE %s (which needs the database to have no other connections).",
						 quote_identifier(get_database_name(MyDatabaseId)))));

	SPI_connect();
	oldcontext = CurrentMemoryContext;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcontext);
	effects_set_rehearsing(true);
	PG_TRY();
	{
		if (lock_timeout != NULL)
		{
			(void) set_config_option("lock_timeout", lock_timeout,
									 PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_LOCAL, true, 0, false);
			/* validated: in ms, for the runner's retry policy */
			rehearsal_timeout = psprintf("%d", LockTimeout);
		}
		tables = read_known_tables();
		foreach(lc, plan)
		{
			RunnerScript script = {0};
			HTAB	   *locks_before;
			Measured	m = {0};
			const Effects *eff;
			int64		duration;

			item = (ApplyPlanItem *) lfirst(lc);
			position++;
			script.version = item->version;
			script.name = item->name;
			script.sql = item->up_sql;
			/*
			 * The rehearsal's lock timeout for every statement, and no
			 * retry: it fails rather than queues (or, with NULL, as the
			 * deploy would).
			 */
			script.lock_timeout = rehearsal_timeout ? rehearsal_timeout : item->lock_timeout;
			script.lock_retries = rehearsal_timeout ? "0" : NULL;
			script.run_as = item->run_as_oid;
			script.kind = RUNNER_SCRIPT_UP;
			script.empty_history = item->empty_history;
			script.first_line = item->up_line;
			script.repeatable = item->repeatable;
			script.gate = true;
			script.destructive = item->destructive;

			locks_before = lock_set(read_own_locks(tables));
			count_before(tables);
			counting = true;
			started = GetCurrentTimestamp();
			runner_run(&script);
			duration = GetCurrentTimestamp() - started;
			eff = effects_current();
			measure(tables, locks_before, eff, &m);
			counting = false;
			put_row(rsinfo, position, item,
					m.reasons != NIL ? "destructive" : "additive",
					eff, &m, duration, NULL);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		int64		duration = started ? GetCurrentTimestamp() - started : -1;

		MemoryContextSwitchTo(oldcontext);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcontext);
		CurrentResourceOwner = oldowner;
		effects_set_rehearsing(false);
		/* a query of the measurements failed (lock_timeout): no migration */
		if (item == NULL)
			ReThrowError(edata);
		{
			const Effects *eff;
			Measured	m = {0};
			bool		after = false;

			effects_finish(false);
			eff = effects_current();
			m.rewritten = eff->rewritten;
			m.reasons = eff->destructive;
			/* what it read before it failed: the counters outlive the rollback */
			if (counting)
				report_scans(collect_scans(tables), eff, NIL, true, &m);
			put_row(rsinfo, position, item, "failed", eff, &m, duration, edata);
			foreach(lc, plan)
			{
				ApplyPlanItem *rest = (ApplyPlanItem *) lfirst(lc);

				if (after)
					put_row(rsinfo, ++position, rest, "not run", NULL, NULL, -1, NULL);
				if (rest == item)
					after = true;
			}
		}
		SPI_finish();
		return (Datum) 0;
	}
	PG_END_TRY();

	/* always rolled back */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(oldcontext);
	CurrentResourceOwner = oldowner;
	effects_set_rehearsing(false);
	SPI_finish();
	return (Datum) 0;
}
