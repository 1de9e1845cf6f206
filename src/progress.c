/*-------------------------------------------------------------------------
 * progress.c
 *	  What a deploy is doing, shown in pg_stat_activity and smig.progress.
 *
 * While a migration runs, the runner reports each statement as the
 * backend's activity (pgstat_report_activity), the way the backend
 * reports a query: another session sees in pg_stat_activity.query
 *
 *	 smig: applying 0003 "add users" (3 of 10) since 2026-12-02 07:15:02.1+00, line 12: ALTER TABLE ...
 *
 * with the same visibility rules as any query (its own role, or
 * pg_read_all_stats), truncated at track_activity_query_size as any
 * query is.  When the migration ends the activity is the session's query
 * again.  The view smig.progress reads these lines back, only for the
 * backends that hold the deploy lock (a query text alone proves nothing:
 * anyone can send one that looks like this), beside the sessions waiting
 * for that lock and a no-transaction migration's background worker.
 *
 * The name is double-quoted with inner quotes doubled, and the start time
 * is ISO in UTC whatever the session's DateStyle, so the view can parse
 * the line unambiguously.  The cost is one short format and a copy into
 * the backend's status entry per statement; with track_activities off,
 * pgstat_report_activity does nothing, and neither does the view.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "utils/backend_status.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "progress.h"

static int	plan_k = 0,
			plan_n = 0;			/* a procedure's position; 0: none */
static int	call_k = 0,
			call_n = 0;			/* a function's own position */

static bool migration_active = false;
static char *migration_head = NULL; /* "smig: applying ... since ..." */

void
progress_set_plan_step(int k, int n)
{
	plan_k = k;
	plan_n = n;
}

void
progress_set_step(int k, int n)
{
	call_k = k;
	call_n = n;
}

void
progress_end_plan(void)
{
	plan_k = plan_n = 0;
}

/* t as "2026-12-02 07:15:02.123456+00", whatever DateStyle and TimeZone */
static void
append_utc(StringInfo buf, TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	char		out[MAXDATELEN + 1];

	if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		appendStringInfoString(buf, "unknown");
		return;
	}
	tm.tm_isdst = 0;			/* (else no zone is printed) */
	EncodeDateTime(&tm, fsec, true, 0, NULL, USE_ISO_DATES, out);
	appendStringInfoString(buf, out);
}

void
progress_begin_migration(const char *version, const char *name, bool up,
						 bool rehearsing)
{
	StringInfoData buf;
	int			k = plan_n > 0 ? plan_k : call_k;
	int			n = plan_n > 0 ? plan_n : call_n;
	const char *p;

	if (migration_head)
		pfree(migration_head);
	migration_head = NULL;
	migration_active = false;
	if (!pgstat_track_activities)
		return;

	/* it outlives the migration's memory: the procedure's steps commit */
	initStringInfo(&buf);
	appendStringInfo(&buf, "smig: %s %s \"",
					 rehearsing ? "rehearsing" : up ? "applying" : "reverting",
					 version);
	for (p = name ? name : ""; *p; p++)
	{
		if (*p == '"')
			appendStringInfoChar(&buf, '"');
		appendStringInfoChar(&buf, *p);
	}
	appendStringInfoChar(&buf, '"');
	if (n > 0)
		appendStringInfo(&buf, " (%d of %d)", k, n);
	appendStringInfoString(&buf, " since ");
	append_utc(&buf, GetCurrentTimestamp());
	migration_head = MemoryContextStrdup(TopMemoryContext, buf.data);
	pfree(buf.data);
	migration_active = true;
}

void
progress_report_statement(int line, const char *statement)
{
	StringInfoData buf;
	int			room = pgstat_track_activity_query_size;

	if (!migration_active || !pgstat_track_activities)
		return;
	initStringInfo(&buf);
	if (statement == NULL)
	{
		/* a no-transaction migration: its worker reports the statements */
		appendStringInfo(&buf, "%s, in a background worker", migration_head);
		pgstat_report_activity(STATE_RUNNING, buf.data);
		pfree(buf.data);
		return;
	}
	appendStringInfo(&buf, "%s, line %d: ", migration_head, line);
	/* pgstat_report_activity clips to the track size; copy no more */
	if (buf.len < room)
		appendBinaryStringInfo(&buf, statement,
							   strnlen(statement, room - buf.len));
	pgstat_report_activity(STATE_RUNNING, buf.data);
	pfree(buf.data);
}

void
progress_end_migration(void)
{
	if (migration_active)
		pgstat_report_activity(STATE_RUNNING, debug_query_string);
	migration_active = false;
	call_k = call_n = 0;
}

void
progress_reset(void)
{
	migration_active = false;
	plan_k = plan_n = call_k = call_n = 0;
}
