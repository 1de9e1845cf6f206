/*-------------------------------------------------------------------------
 * smig.c
 *	  The smig command-line client: options, help and the commands.
 *
 * Each command connects (conn.c), runs the smig SQL API and prints plain
 * lines or, with --json, one JSON document on stdout; server messages
 * (NOTICEs, WARNINGs, errors) go to stderr.  "up" reads the migrations
 * directory first (files.c) and sends nothing when a file is malformed.
 * State-changing commands on several databases use two-phase commit.
 *
 * Exit codes: 0 ok, 1 a migration (or a file, or a statement) failed,
 * 2 usage or connection error, 3 verification failed.
 *-------------------------------------------------------------------------
 */
#include "client.h"

#include <getopt.h>
#include <unistd.h>

#include "common/logging.h"
#include "sqllex.h"
#include "version.h"

#define SMIG_CLIENT_VERSION "0.2"

Options		opts;

typedef int (*CommandFn) (int argc, char **argv);

typedef struct Command
{
	const char *name;
	CommandFn	fn;
	const char *synopsis;
	const char *help;
} Command;

static int	cmd_init(int argc, char **argv);
static int	cmd_new(int argc, char **argv);
static int	cmd_status(int argc, char **argv);
static int	cmd_current(int argc, char **argv);
static int	cmd_history(int argc, char **argv);
static int	cmd_up(int argc, char **argv);
static int	cmd_down(int argc, char **argv);
static int	cmd_verify(int argc, char **argv);
static int	cmd_baseline(int argc, char **argv);
static int	cmd_log(int argc, char **argv);
static int	cmd_audit(int argc, char **argv);

static const Command commands[] = {
	{"init", cmd_init, "init",
	"Create the smig extension in the database if it is not there yet."},
	{"new", cmd_new, "new NAME",
	"Write a new migration file in the migrations directory: the next version\n"
	"in the directory's convention, with an up and a down part to fill in."},
	{"status", cmd_status, "status",
	"Show every migration (applied, pending, modified, missing, ...) and every\n"
	"file not registered yet; warn about prepared transactions a smig client\n"
	"left behind."},
	{"current", cmd_current, "current",
	"Print the highest applied version (nothing on an empty history)."},
	{"history", cmd_history, "history [--limit N]",
	"Show smig.history: every apply, revert, baseline and repair."},
	{"up", cmd_up, "up [--to VERSION] [--dry-run] [--each] [--backup FILE]",
	"Register the migrations directory (new and changed files; files that are\n"
	"gone are dropped) and apply what is pending, in one transaction.\n"
	"  --to VERSION   stop after VERSION\n"
	"  --dry-run      show what would be applied, and the server's rehearsal\n"
	"                 (smig.rehearse()) of it, and change nothing\n"
	"  --each         commit after each migration (CALL smig.upgrade())\n"
	"  --backup FILE  pg_dump -Fc the database to FILE first (several\n"
	"                 databases: FILE.1, FILE.2, ... in the order of -d);\n"
	"                 if a dump fails, migrate nothing (exit code 2)"},
	{"down", cmd_down, "down [--to VERSION | --steps N]",
	"Revert applied migrations with their down scripts, in one transaction:\n"
	"the last one (default), the last N (--steps), or every one above VERSION\n"
	"(--to; \"base\" reverts all)."},
	{"verify", cmd_verify, "verify",
	"Check that applied migrations match their files and the registry, and\n"
	"that the schema has not drifted (smig.verify()).  Exit code 3 if not."},
	{"baseline", cmd_baseline, "baseline VERSION [NAME]",
	"Mark an existing database as being at VERSION (smig.baseline())."},
	{"log", cmd_log, "log [--limit N]",
	"Show the latest DDL of the audit log (smig.ddl_log), newest last."},
	{"audit", cmd_audit, "audit [OBJECT] [--limit N]",
	"Show DDL not made by a migration, or with OBJECT (a name as\n"
	"pg_identify_object gives it, e.g. public.users) every change to it."},
};

static void
usage(void)
{
	size_t		i;

	printf("smig manages schema migrations kept in PostgreSQL.\n\n");
	printf("Usage:\n  smig [OPTION]... COMMAND [ARG]...\n\nCommands:\n");
	for (i = 0; i < lengthof(commands); i++)
		printf("  %s\n", commands[i].synopsis);
	printf("\nConnection options:\n"
		   "  -d, --dbname=CONNINFO    database name, conninfo string or URI; repeat\n"
		   "                           to change several databases at once\n"
		   "                           (default: $DATABASE_URL, then libpq's PG* variables)\n"
		   "  -h, --host=HOST          database server host or socket directory\n"
		   "  -p, --port=PORT          database server port\n"
		   "  -U, --username=USER      database user name\n"
		   "  -w, --no-password        never prompt for a password\n"
		   "  -W, --password           prompt for a password first\n"
		   "      --wait=SECONDS       wait up to SECONDS for the server to accept connections\n"
		   "\nOther options:\n"
		   "      --dir=DIR            migrations directory (default ./migrations)\n"
		   "      --json               print JSON on stdout\n"
		   "  -y, --yes                do not ask for confirmation on a terminal\n"
		   "  -v, --verbose            print each query sent, and each migration\n"
		   "                           statement as it starts\n"
		   "  -V, --version            print the version and exit\n"
		   "  -?, --help               show this help (smig COMMAND --help: a command's)\n"
		   "\nExit codes: 0 ok, 1 migration failed, 2 usage or connection error,\n"
		   "3 verification failed.\n");
}

static const Command *
find_command(const char *name)
{
	size_t		i;

	for (i = 0; i < lengthof(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* May we ask the user?  Only on a terminal, and not with -y or --json. */
static bool
interactive(void)
{
	return !opts.yes && !opts.json && isatty(STDIN_FILENO);
}

static bool
confirm(const char *question)
{
	char		answer[16];

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

/* Begin a transaction on every database. */
static bool
begin_all(void)
{
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		if (!db_command(&dbs[i], "BEGIN"))
			return false;
		dbs[i].in_tx = true;
	}
	return true;
}

/* Commit every database: one directly, several with two-phase commit. */
static bool
commit_all(void)
{
	if (ndbs == 1)
	{
		dbs[0].in_tx = false;
		return db_command(&dbs[0], "COMMIT");
	}
	if (!conn_prepare_all())
		return false;
	return conn_commit_prepared_all();
}

static void
print_db_header(Db *db)
{
	if (ndbs > 1 && !opts.json)
		printf("== %s\n", db->label);
}

/* Run a read-only query on every database and print it; exit code. */
static int
query_all(const char *sql, int nparams, const char *const *params,
		  const char *empty_msg)
{
	int			rc = conn_open_all();
	int			i;

	if (rc != EXIT_OK)
		return rc;
	for (i = 0; i < ndbs; i++)
	{
		PGresult   *res = db_exec(&dbs[i], sql, nparams, params);

		if (res == NULL)
			return EXIT_FAILED;
		print_db_header(&dbs[i]);
		out_result(res, empty_msg);
		PQclear(res);
	}
	return EXIT_OK;
}

static int
no_args(int argc, char **argv, const char *cmd)
{
	if (argc > 0)
	{
		pg_log_error("too many arguments for \"%s\": \"%s\"", cmd, argv[0]);
		pg_log_error_hint("Try \"smig %s --help\".", cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/*---- init, current, history, log, audit, baseline ---------------------------*/

static int
cmd_init(int argc, char **argv)
{
	int			rc = no_args(argc, argv, "init");
	char	  **msg;
	int			i;

	if (rc == EXIT_OK)
		rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	msg = pg_malloc0(ndbs * sizeof(char *));
	if (!begin_all())
		goto fail;
	for (i = 0; i < ndbs; i++)
	{
		const char *q = "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'smig'";
		PGresult   *res = db_exec(&dbs[i], q, 0, NULL);
		bool		had;

		if (res == NULL)
			goto fail;
		had = PQntuples(res) > 0;
		if (!had)
		{
			PQclear(res);
			if (!db_command(&dbs[i], "CREATE EXTENSION smig") ||
				(res = db_exec(&dbs[i], q, 0, NULL)) == NULL)
				goto fail;
		}
		msg[i] = psprintf(had ? "smig %s is already installed in %s" :
						  "created extension smig %s in %s",
						  PQgetvalue(res, 0, 0), dbs[i].label);
		PQclear(res);
	}
	if (!commit_all())
		goto fail;
	for (i = 0; i < ndbs; i++)
		printf("%s\n", msg[i]);
	return EXIT_OK;
fail:
	conn_abort_all();
	return EXIT_FAILED;
}

static int
cmd_current(int argc, char **argv)
{
	int			rc = no_args(argc, argv, "current");
	int			i;

	if (rc == EXIT_OK)
		rc = conn_open_all();
	for (i = 0; rc == EXIT_OK && i < ndbs; i++)
	{
		PGresult   *res = db_exec(&dbs[i], "SELECT smig.current() AS current", 0, NULL);

		if (res == NULL)
			return EXIT_FAILED;
		if (opts.json)
			out_result(res, NULL);
		else if (ndbs > 1)
			printf("%s: %s\n", dbs[i].label, PQgetvalue(res, 0, 0));
		else if (!PQgetisnull(res, 0, 0))
			printf("%s\n", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	return rc;
}

static char *
limit_text(void)
{
	return psprintf("%d", opts.limit > 0 ? opts.limit : 50);
}

static int
cmd_history(int argc, char **argv)
{
	const char *params[1];
	int			rc = no_args(argc, argv, "history");

	if (rc != EXIT_OK)
		return rc;
	params[0] = limit_text();
	return query_all("SELECT id, action, version, name, role, "
					 "started_at::timestamptz(0) AS started_at, duration "
					 "FROM (SELECT * FROM smig.history ORDER BY id DESC LIMIT $1::int) h "
					 "ORDER BY id", 1, params, "no history yet");
}

static int
cmd_log(int argc, char **argv)
{
	const char *params[1];
	int			rc = no_args(argc, argv, "log");

	if (rc != EXIT_OK)
		return rc;
	params[0] = limit_text();
	return query_all("SELECT id, logged_at::timestamptz(0) AS logged_at, role, command_tag, "
					 "object_identity, coalesce(version, '(unmanaged)') AS version "
					 "FROM (SELECT * FROM smig.ddl_log ORDER BY id DESC LIMIT $1::int) l "
					 "ORDER BY id", 1, params, "the audit log is empty");
}

static int
cmd_audit(int argc, char **argv)
{
	const char *params[2];

	if (argc > 1)
		return no_args(argc - 1, argv + 1, "audit");
	params[0] = limit_text();
	if (argc == 0)
		return query_all("SELECT id, logged_at::timestamptz(0) AS logged_at, role, command_tag, "
						 "object_identity, statement "
						 "FROM (SELECT * FROM smig.ddl_log WHERE version IS NULL "
						 "      AND event <> 'trim' ORDER BY id DESC LIMIT $1::int) l "
						 "ORDER BY id", 1, params, "no DDL outside migrations");
	params[1] = argv[0];
	return query_all("SELECT id, logged_at::timestamptz(0) AS logged_at, role, command_tag, "
					 "object_identity, coalesce(version, '(unmanaged)') AS version, statement "
					 "FROM (SELECT * FROM smig.ddl_log "
					 "      WHERE object_identity = $2 OR relation = $2 "
					 "      ORDER BY id DESC LIMIT $1::int) l "
					 "ORDER BY id", 2, params, "no DDL on that object");
}

static int
cmd_baseline(int argc, char **argv)
{
	const char *params[2];
	int			rc;
	int			i;

	if (argc < 1 || argc > 2)
	{
		pg_log_error("\"baseline\" needs a version");
		pg_log_error_hint("Try \"smig baseline --help\".");
		return EXIT_USAGE;
	}
	params[0] = argv[0];
	params[1] = argc > 1 ? argv[1] : "baseline";
	rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	if (!begin_all())
		goto fail;
	for (i = 0; i < ndbs; i++)
	{
		PGresult   *res = db_exec(&dbs[i], "SELECT smig.baseline($1, $2)", 2, params);

		if (res == NULL)
			goto fail;
		PQclear(res);
	}
	if (!commit_all())
		goto fail;
	for (i = 0; i < ndbs; i++)
		printf("baselined %s at version %s\n", dbs[i].label, argv[0]);
	return EXIT_OK;
fail:
	conn_abort_all();
	return EXIT_FAILED;
}

/*---- new ---------------------------------------------------------------------*/

static int
cmd_new(int argc, char **argv)
{
	if (argc != 1)
	{
		pg_log_error("\"new\" needs one NAME");
		pg_log_error_hint("Try \"smig new --help\".");
		return EXIT_USAGE;
	}
	return files_new(opts.dir, argv[0]);
}

/*---- status -----------------------------------------------------------------*/

/* Warn about prepared transactions a smig client left on db. */
static void
warn_prepared(Db *db, PQExpBuffer json)
{
	PGresult   *res = db_exec(db,
							  "SELECT gid, prepared::timestamptz(0) AS prepared, owner, database "
							  "FROM pg_catalog.pg_prepared_xacts WHERE gid LIKE 'smig\\_%' ORDER BY prepared",
							  0, NULL);
	int			r;

	if (res == NULL)
		return;
	for (r = 0; r < PQntuples(res); r++)
	{
		pg_log_warning("prepared transaction \"%s\" of database \"%s\" was left by a smig client (prepared at %s)",
					   PQgetvalue(res, r, 0), PQgetvalue(res, r, 3),
					   PQgetvalue(res, r, 1));
		pg_log_warning_hint("It holds its locks until it is finished: COMMIT PREPARED '%s' if every other database of that deploy committed, else ROLLBACK PREPARED '%s'.",
							PQgetvalue(res, r, 0), PQgetvalue(res, r, 0));
	}
	if (json)
	{
		appendPQExpBufferStr(json, ", \"prepared\": ");
		out_json_rows(json, res);
	}
	PQclear(res);
}

static int
cmd_status(int argc, char **argv)
{
	LocalDir	d;
	int			rc = no_args(argc, argv, "status");
	int			i;
	bool		have_files;
	PQExpBufferData json;

	if (rc != EXIT_OK)
		return rc;
	have_files = files_read_dir(opts.dir, &d, true);
	if (!have_files)
		pg_log_warning("the files of \"%s\" are not compared", opts.dir);
	rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	initPQExpBuffer(&json);
	if (opts.json)
		appendPQExpBufferChar(&json, '[');
	for (i = 0; i < ndbs; i++)
	{
		PGresult   *res = db_exec(&dbs[i],
								  "SELECT version, name, state, applied_at::timestamptz(0) AS applied_at, checksum "
								  "FROM smig.status()", 0, NULL);
		int			r,
					k;
		int			w[3] = {7, 4, 5};
		char	  **file_state;
		bool	   *known;			/* a status row names d.m[k] */

		if (res == NULL)
			return EXIT_FAILED;
		print_db_header(&dbs[i]);
		file_state = pg_malloc0((PQntuples(res) + 1) * sizeof(char *));
		known = pg_malloc0((have_files ? d.n : 0) + 1);
		for (r = 0; r < PQntuples(res); r++)
		{
			const char *v = PQgetvalue(res, r, 0);
			const LocalMigration *m = have_files ? files_find(&d, v) : NULL;
			const char *state = PQgetvalue(res, r, 2);

			if (m)
				known[m - d.m] = true;

			if (!have_files || !d.exists)
				file_state[r] = "";
			else if (m == NULL)
			{
				file_state[r] = "no file";
				if (strcmp(state, "missing") != 0)
					pg_log_warning("migration %s (%s) is registered but has no file in \"%s\"",
								   v, PQgetvalue(res, r, 1), opts.dir);
			}
			else if (strcmp(m->checksum, PQgetvalue(res, r, 4)) != 0 &&
					 strcmp(state, "missing") != 0)
				file_state[r] = psprintf("%s (edited, not registered yet)", m->file);
			else
				file_state[r] = m->file;
			if (strcmp(state, "missing") == 0)
				pg_log_warning("migration %s (%s) is applied but no longer registered",
							   v, PQgetvalue(res, r, 1));
		}
		if (opts.json)
		{
			if (i > 0)
				appendPQExpBufferStr(&json, ",\n");
			appendPQExpBufferStr(&json, "{\"database\": ");
			out_json_string(&json, dbs[i].label);
			appendPQExpBufferStr(&json, ", \"migrations\": [");
			for (r = 0; r < PQntuples(res); r++)
			{
				appendPQExpBufferStr(&json, r ? ",\n {" : "{");
				for (k = 0; k < 4; k++)
				{
					out_json_string(&json, PQfname(res, k));
					appendPQExpBufferStr(&json, ": ");
					if (PQgetisnull(res, r, k))
						appendPQExpBufferStr(&json, "null");
					else
						out_json_string(&json, PQgetvalue(res, r, k));
					appendPQExpBufferStr(&json, ", ");
				}
				appendPQExpBufferStr(&json, "\"file\": ");
				out_json_string(&json, file_state[r]);
				appendPQExpBufferChar(&json, '}');
			}
			appendPQExpBufferStr(&json, "], \"unregistered_files\": [");
		}
		else
		{
			for (r = 0; r < PQntuples(res); r++)
				for (k = 0; k < 3; k++)
					w[k] = Max(w[k], PQgetlength(res, r, k));
			for (k = 0; have_files && k < d.n; k++)
			{
				w[0] = Max(w[0], (int) strlen(d.m[k].label));
				w[1] = Max(w[1], (int) strlen(d.m[k].name));
			}
			w[2] = Max(w[2], 8);
			printf("%-*s  %-*s  %-*s  %-22s  %s\n", w[0], "version", w[1], "name",
				   w[2], "state", "applied_at", "file");
			for (r = 0; r < PQntuples(res); r++)
				printf("%-*s  %-*s  %-*s  %-22s  %s\n", w[0], PQgetvalue(res, r, 0),
					   w[1], PQgetvalue(res, r, 1), w[2], PQgetvalue(res, r, 2),
					   PQgetisnull(res, r, 3) ? "" : PQgetvalue(res, r, 3),
					   file_state[r]);
		}
		/* files the registry does not know yet */
		for (k = 0, r = 0; have_files && k < d.n; k++)
		{
			if (known[k])
				continue;
			if (opts.json)
			{
				if (r++)
					appendPQExpBufferStr(&json, ", ");
				out_json_string(&json, d.m[k].file);
			}
			else
				printf("%-*s  %-*s  %-*s  %-22s  %s\n", w[0], d.m[k].label,
					   w[1], d.m[k].name, w[2], "new file", "", d.m[k].file);
		}
		if (opts.json)
			appendPQExpBufferChar(&json, ']');
		warn_prepared(&dbs[i], opts.json ? &json : NULL);
		if (opts.json)
			appendPQExpBufferChar(&json, '}');
		PQclear(res);
	}
	if (opts.json)
		printf("%s]\n", json.data);
	termPQExpBuffer(&json);
	return EXIT_OK;
}

/*---- up ---------------------------------------------------------------------*/

/* Print the statements of a migration's up script (-v). */
static void
print_statements(const LocalMigration *m)
{
	SqlLexer	lx;
	SqlStmt		st;
	size_t		us,
				ue;

	if (m == NULL)
		return;
	files_up_script(m->up_text, m->up_len, &us, &ue);
	sqllex_init_at(&lx, m->up_text + us, ue - us,
				   sqllex_line_at(m->up_text, m->up_len, us));
	while (sqllex_next(&lx, &st) == SQLLEX_OK)
	{
		const char *text = m->up_text + us + st.start;
		size_t		shown = sqllex_password_prefix(text, st.end - st.start);

		if (shown > 0)
			fprintf(stderr, "%s:%d: %.*s ... (the rest is not shown: it may hold a password)\n",
					m->file, st.line, (int) shown, text);
		else
			fprintf(stderr, "%s:%d: %.*s;\n", m->file, st.line,
					(int) (st.end - st.start), text);
	}
}

/*
 * Register the directory on db, in its open transaction, through
 * register_many()'s checksum-only elements: the first call sends each
 * versioned migration's checksums (repeatable ones with their texts); when
 * nothing is new or changed, that call is the whole sync.  Otherwise it
 * writes nothing and names the migrations whose texts it needs, and a
 * second call sends those texts (the others again as checksums).  Returns
 * the register_many() result, or NULL after an error.
 */
static PGresult *
sync_dir(Db *db, const LocalDir *d)
{
	const char *sql = "SELECT version, name, result FROM smig.register_many($1::jsonb)";
	PQExpBufferData payload;
	const char *params[1];
	bool	   *with_text = pg_malloc0(Max(d->n, 1) * sizeof(bool));
	PGresult   *res;
	int			needed = 0;
	int			nsums = 0;
	int			r;

	for (r = 0; r < d->n; r++)
		nsums += d->m[r].kind != MIGFILE_REPEATABLE;
	initPQExpBuffer(&payload);
	files_register_json(d, NULL, true, &payload);
	params[0] = payload.data;
	res = db_exec(db, sql, 1, params);
	for (r = 0; res != NULL && r < PQntuples(res); r++)
	{
		const LocalMigration *m;

		if (strcmp(PQgetvalue(res, r, 2), "needed") != 0)
			continue;
		m = files_find(d, PQgetvalue(res, r, 0));
		if (m == NULL)
		{
			pg_log_error("the server asked for migration %s, which is not in \"%s\"",
						 PQgetvalue(res, r, 0), opts.dir);
			PQclear(res);
			res = NULL;
			break;
		}
		/* its text is sent: check it first, as files_read_dir() did not */
		if (!files_check(d, &d->m[m - d->m]))
		{
			PQclear(res);
			res = NULL;
			break;
		}
		with_text[m - d->m] = true;
		needed++;
	}
	if (opts.verbose && res != NULL)
		fprintf(stderr, "%ssent %d migrations by checksum; the server needs the texts of %d\n",
				ndbs > 1 ? psprintf("%s: ", db->label) : "", nsums, needed);
	if (res != NULL && needed > 0)
	{
		PQclear(res);
		resetPQExpBuffer(&payload);
		files_register_json(d, with_text, true, &payload);
		params[0] = payload.data;
		res = db_exec(db, sql, 1, params);
	}
	termPQExpBuffer(&payload);
	pg_free(with_text);
	return res;
}

/*
 * Register the directory on db (in its open transaction) and return the
 * plan: the pending migrations up to --to (no rows when it would not be
 * shown).  Warns about registrations without a file and applied
 * migrations no longer known.
 */
/* qsort_arg: rows of a register_many() result by version (sort key) */
static int
missing_cmp(const void *a, const void *b, void *arg)
{
	PGresult   *res = arg;
	const char *x = PQgetvalue(res, *(const int *) a, 0);
	const char *y = PQgetvalue(res, *(const int *) b, 0);
	char	   *kx = pg_malloc(SMIG_VERSION_KEYSIZE(strlen(x)));
	char	   *ky = pg_malloc(SMIG_VERSION_KEYSIZE(strlen(y)));
	int			c;

	version_sort_key(x, strlen(x), kx);
	version_sort_key(y, strlen(y), ky);
	c = strcmp(kx, ky);
	free(kx);
	free(ky);
	return c;
}

static PGresult *
sync_and_plan(Db *db, const LocalDir *d)
{
	const char *to[1] = {opts.to};
	PGresult   *res;
	int			r;
	int		   *missing;
	int			nmissing = 0;

	res = sync_dir(db, d);
	if (res == NULL)
		return NULL;
	missing = pg_malloc(Max(PQntuples(res), 1) * sizeof(int));
	for (r = 0; r < PQntuples(res); r++)
	{
		const char *result = PQgetvalue(res, r, 2);

		if (strcmp(result, "unregistered") == 0)
			pg_log_warning("migration %s (%s) was registered but its file is gone: unregistered",
						   PQgetvalue(res, r, 0), PQgetvalue(res, r, 1));
		else if (strcmp(result, "missing") == 0)
			missing[nmissing++] = r;
	}

	/*
	 * The applied migrations without a registration, in version order:
	 * register_many() names those it dropped now and those dropped before.
	 */
	qsort_arg(missing, nmissing, sizeof(int), missing_cmp, res);
	for (r = 0; r < nmissing; r++)
		pg_log_warning("migration %s (%s) is applied but not in \"%s\"",
					   PQgetvalue(res, missing[r], 0),
					   PQgetvalue(res, missing[r], 1), opts.dir);
	pg_free(missing);
	PQclear(res);
	/* the plan is read only when it is shown: no scan of the registry else */
	if (!opts.dry_run && !opts.verbose && !interactive())
		return PQmakeEmptyPGresult(db->conn, PGRES_TUPLES_OK);
	if (opts.to)
		return db_exec(db, "SELECT version, name FROM smig.pending() "
					   "WHERE CASE WHEN version LIKE 'R\\_\\_%' THEN true "
					   "ELSE smig.version_key(version) <= smig.version_key($1) END",
					   1, to);
	return db_exec(db, "SELECT version, name FROM smig.pending()", 0, NULL);
}

static void
print_plan(Db *db, PGresult *plan, const char *verb)
{
	int			r;

	if (opts.json)
		return;
	print_db_header(db);
	if (PQntuples(plan) == 0)
	{
		printf("nothing to %s\n", verb);
		return;
	}
	for (r = 0; r < PQntuples(plan); r++)
		printf("%s %s %s (%d of %d)\n", strcmp(verb, "apply") == 0 ? "pending" : verb,
			   PQgetvalue(plan, r, 0), PQgetvalue(plan, r, 1), r + 1, PQntuples(plan));
}

/* Print what one database applied or reverted (version, name, ms). */
static void
print_done(Db *db, PGresult *res, const char *verb, PQExpBuffer json)
{
	int			r;

	if (opts.json)
	{
		if (json->len > 1)
			appendPQExpBufferStr(json, ",\n");
		appendPQExpBufferStr(json, "{\"database\": ");
		out_json_string(json, db->label);
		appendPQExpBuffer(json, ", \"%s\": ", verb);
		out_json_rows(json, res);
		appendPQExpBufferChar(json, '}');
		return;
	}
	print_db_header(db);
	if (PQntuples(res) == 0)
		printf("nothing to do\n");
	for (r = 0; r < PQntuples(res); r++)
		printf("%s %s %s %s ms (%d of %d)\n", verb, PQgetvalue(res, r, 0),
			   PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), r + 1, PQntuples(res));
}

static const char *
quote_literal(Db *db, const char *s)
{
	char	   *q;

	if (s == NULL)
		return "NULL";
	q = PQescapeLiteral(db->conn, s, strlen(s));
	return q ? q : "NULL";
}

/*
 * up --dry-run: the server's rehearsal of the plan on db, where the server
 * has smig.rehearse() (smig 0.2), inside the dry run's transaction (which
 * is rolled back) and a savepoint, so that a rehearsal that cannot run
 * leaves the plan shown.  With --json, the rows as rehearse() returns them
 * (a JSON array, or null when there is no rehearsal); else a few lines per
 * migration.  --to: only the migrations of the plan.
 */
static void
print_rehearsal(Db *db, PGresult *plan, PQExpBuffer json)
{
	static const char *const cols[] = {"created", "altered", "dropped",
	"rewritten", "locks", "scans", "hazards"};
	const char *to[1] = {opts.to};
	const char *filter = opts.to
		? " WHERE r.kind = 'repeatable' OR smig.version_key(r.version) <= smig.version_key($1)"
		: "";
	PGresult   *res;
	char	   *sql;
	int			r,
				c;

	if (PQntuples(plan) == 0)
		goto none;
	res = db_exec(db, "SELECT pg_catalog.to_regprocedure('smig.rehearse(text)') IS NOT NULL",
				  0, NULL);
	if (res == NULL || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		PQclear(res);
		if (!opts.json)
			printf("(no rehearsal: the server's smig has no smig.rehearse())\n");
		goto none;
	}
	PQclear(res);
	if (!db_command(db, "SAVEPOINT smig_rehearse"))
		goto none;
	if (opts.json)
		sql = psprintf("SELECT coalesce(pg_catalog.json_agg(r ORDER BY r.step), '[]') "
					   "FROM smig.rehearse() r%s", filter);
	else
		sql = psprintf("SELECT r.version, r.name, r.classification, "
					   "pg_catalog.array_to_string(r.reasons, ' '), r.duration, "
					   "r.error, r.sqlstate, "
					   "pg_catalog.array_to_string(r.created, '; '), "
					   "pg_catalog.array_to_string(r.altered, '; '), "
					   "pg_catalog.array_to_string(r.dropped, '; '), "
					   "pg_catalog.array_to_string(r.rewritten, '; '), "
					   "pg_catalog.array_to_string(r.locks, '; '), "
					   "pg_catalog.array_to_string(r.scans, '; '), "
					   "pg_catalog.array_to_string(r.hazards, '; ') "
					   "FROM smig.rehearse() r%s ORDER BY r.step", filter);
	res = db_exec(db, sql, opts.to ? 1 : 0, to);
	if (res == NULL)
	{
		pg_log_warning("could not rehearse the plan on %s; the plan is shown without a rehearsal",
					   db->label);
		db_command(db, "ROLLBACK TO SAVEPOINT smig_rehearse");
		goto none;
	}
	if (opts.json)
	{
		appendPQExpBufferStr(json, ", \"rehearsal\": ");
		appendPQExpBufferStr(json, PQgetvalue(res, 0, 0));
		PQclear(res);
		return;
	}
	printf("rehearsal (smig.rehearse(), rolled back):\n");
	for (r = 0; r < PQntuples(res); r++)
	{
		printf("  %s %s: %s", PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
			   PQgetvalue(res, r, 2));
		if (PQgetlength(res, r, 3) > 0)
			printf(" (%s)", PQgetvalue(res, r, 3));
		if (!PQgetisnull(res, r, 4))
			printf(", %s", PQgetvalue(res, r, 4));
		printf("\n");
		for (c = 0; c < (int) lengthof(cols); c++)
			if (PQgetlength(res, r, 7 + c) > 0)
				printf("    %s: %s\n", cols[c], PQgetvalue(res, r, 7 + c));
		if (!PQgetisnull(res, r, 5))
			printf("    error: %s (SQLSTATE %s)\n", PQgetvalue(res, r, 5),
				   PQgetvalue(res, r, 6));
	}
	PQclear(res);
	return;
none:
	if (opts.json)
		appendPQExpBufferStr(json, ", \"rehearsal\": null");
}

/* up --each: sync and commit, then CALL smig.upgrade() (one database). */
static int
up_each(const LocalDir *d)
{
	Db		   *db = &dbs[0];
	PGresult   *plan;
	PGresult   *res;
	char	   *last_id;
	const char *params[1];
	bool		ok;

	if (!begin_all() || (plan = sync_and_plan(db, d)) == NULL)
		goto fail;
	/* -v: the server echoes each statement as it starts (conn.c) */
	if (interactive() && PQntuples(plan) > 0)
	{
		print_plan(db, plan, "apply");
		if (!confirm("Apply these migrations, committing after each?"))
		{
			conn_abort_all();
			printf("nothing changed\n");
			return EXIT_FAILED;
		}
	}
	res = db_exec(db, "SELECT coalesce(max(id), 0) FROM smig.history", 0, NULL);
	if (res == NULL)
		goto fail;
	last_id = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!commit_all())
		goto fail;
	ok = db_command(db, psprintf("CALL smig.upgrade(%s)", quote_literal(db, opts.to)));
	params[0] = last_id;
	res = db_exec(db, "SELECT version, name, "
				  "round(extract(epoch FROM duration) * 1000, 1) AS duration_ms "
				  "FROM smig.history WHERE id > $1::bigint AND action = 'apply' ORDER BY id",
				  1, params);
	if (res != NULL)
	{
		PQExpBufferData jb;

		initPQExpBuffer(&jb);
		appendPQExpBufferChar(&jb, '[');
		print_done(db, res, "applied", &jb);
		if (opts.json)
			printf("%s]\n", jb.data);
		termPQExpBuffer(&jb);
		PQclear(res);
	}
	if (!ok)
	{
		pg_log_error("migration failed on %s; the migrations before it stay applied",
					 db->label);
		return EXIT_FAILED;
	}
	return EXIT_OK;
fail:
	conn_abort_all();
	return EXIT_FAILED;
}

static int
cmd_up(int argc, char **argv)
{
	LocalDir	d;
	PQExpBufferData json;
	PGresult  **plans;
	PGresult  **done;
	int			rc = no_args(argc, argv, "up");
	int			i;
	int			r;
	int			total = 0;
	const char *to[1] = {opts.to};

	if (rc != EXIT_OK)
		return rc;
	if (!files_read_dir(opts.dir, &d, false))
		return EXIT_FAILED;
	if (!d.exists)
	{
		pg_log_error("migration directory \"%s\" does not exist", opts.dir);
		pg_log_error_hint("Use --dir, or create it with \"smig new NAME\".");
		return EXIT_USAGE;
	}
	rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	if (opts.backup && !conn_backup_all(opts.backup))
		return EXIT_USAGE;
	if (opts.each)
	{
		if (ndbs > 1)
		{
			pg_log_error("--each cannot be used with several databases");
			pg_log_error_detail("Several databases are changed together with two-phase commit, in one transaction each.");
			return EXIT_USAGE;
		}
		if (!opts.dry_run)
			return up_each(&d);
	}

	/* every database: sync and plan, in its transaction */
	plans = pg_malloc0(ndbs * sizeof(PGresult *));
	if (!begin_all())
		goto fail;
	for (i = 0; i < ndbs; i++)
	{
		plans[i] = sync_and_plan(&dbs[i], &d);
		if (plans[i] == NULL)
		{
			if (ndbs > 1)
				pg_log_error("could not register the migrations on %s; no database was changed",
							 dbs[i].label);
			goto fail;
		}
		total += PQntuples(plans[i]);
	}
	if (opts.dry_run)
	{
		initPQExpBuffer(&json);
		appendPQExpBufferChar(&json, '[');
		for (i = 0; i < ndbs; i++)
		{
			if (opts.json)
			{
				if (i)
					appendPQExpBufferStr(&json, ",\n");
				appendPQExpBufferStr(&json, "{\"database\": ");
				out_json_string(&json, dbs[i].label);
				appendPQExpBufferStr(&json, ", \"pending\": ");
				out_json_rows(&json, plans[i]);
				print_rehearsal(&dbs[i], plans[i], &json);
				appendPQExpBufferChar(&json, '}');
			}
			else
			{
				print_plan(&dbs[i], plans[i], "apply");
				print_rehearsal(&dbs[i], plans[i], NULL);
			}
			if (opts.verbose)
				for (r = 0; r < PQntuples(plans[i]); r++)
					print_statements(files_find(&d, PQgetvalue(plans[i], r, 0)));
		}
		conn_abort_all();
		if (opts.json)
			printf("%s]\n", json.data);
		else
			printf("dry run: nothing changed\n");
		return EXIT_OK;
	}
	if (interactive() && total > 0)
	{
		for (i = 0; i < ndbs; i++)
			print_plan(&dbs[i], plans[i], "apply");
		if (!confirm(ndbs > 1 ? "Apply these migrations to every database?" : "Apply these migrations?"))
		{
			conn_abort_all();
			printf("nothing changed\n");
			return EXIT_FAILED;
		}
	}

	/* apply on each database; print only what was committed */
	done = pg_malloc0(ndbs * sizeof(PGresult *));
	for (i = 0; i < ndbs; i++)
	{
		PGresult   *res;

		/* -v: the server echoes each statement as it starts (conn.c) */
		if (opts.to)
			res = db_exec(&dbs[i], "SELECT version, name, "
						  "round(extract(epoch FROM duration) * 1000, 1) AS duration_ms "
						  "FROM smig.upgrade_to($1)", 1, to);
		else
			res = db_exec(&dbs[i], "SELECT version, name, "
						  "round(extract(epoch FROM duration) * 1000, 1) AS duration_ms "
						  "FROM smig.upgrade_head()", 0, NULL);
		if (res == NULL)
		{
			pg_log_error("migration failed on %s; %s", dbs[i].label,
						 ndbs > 1 ? "no database was changed" : "nothing was changed");
			goto fail;
		}
		done[i] = res;
	}
	if (!commit_all())
	{
		pg_log_error("could not commit; %s", ndbs > 1 ? "no database was changed" : "nothing was changed");
		goto fail;
	}
	initPQExpBuffer(&json);
	appendPQExpBufferChar(&json, '[');
	for (i = 0; i < ndbs; i++)
		print_done(&dbs[i], done[i], "applied", &json);
	if (opts.json)
		printf("%s]\n", json.data);
	return EXIT_OK;
fail:
	conn_abort_all();
	return EXIT_FAILED;
}

/*---- down -------------------------------------------------------------------*/

static int
cmd_down(int argc, char **argv)
{
	PQExpBufferData json;
	PGresult  **done;
	int			rc = no_args(argc, argv, "down");
	int			i;
	int			total = 0;
	char	   *steps;

	if (rc != EXIT_OK)
		return rc;
	if (opts.to && opts.steps)
	{
		pg_log_error("--to and --steps cannot be used together");
		return EXIT_USAGE;
	}
	if (opts.dry_run || opts.each)
	{
		pg_log_error("\"down\" takes neither --dry-run nor --each");
		pg_log_error_hint("Use CALL smig.downgrade_to() to commit after each revert.");
		return EXIT_USAGE;
	}
	steps = psprintf("%d", opts.steps ? opts.steps : 1);
	rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	done = pg_malloc0(ndbs * sizeof(PGresult *));
	if (!begin_all())
		goto fail;
	/* revert in each transaction; on a terminal, ask before committing */
	for (i = 0; i < ndbs; i++)
	{
		const char *params[1];

		params[0] = opts.to ? opts.to : steps;
		done[i] = db_exec(&dbs[i], opts.to
						  ? "SELECT version, name, round(extract(epoch FROM duration) * 1000, 1) AS duration_ms FROM smig.downgrade($1)"
						  : "SELECT version, name, round(extract(epoch FROM duration) * 1000, 1) AS duration_ms FROM smig.rollback($1::int)",
						  1, params);
		if (done[i] == NULL)
		{
			pg_log_error("could not revert on %s; %s", dbs[i].label,
						 ndbs > 1 ? "no database was changed" : "nothing was changed");
			goto fail;
		}
		total += PQntuples(done[i]);
	}
	if (interactive() && total > 0)
	{
		for (i = 0; i < ndbs; i++)
			print_plan(&dbs[i], done[i], "revert");
		if (!confirm("Commit these reverts?"))
		{
			conn_abort_all();
			printf("nothing changed\n");
			return EXIT_FAILED;
		}
	}
	if (!commit_all())
	{
		pg_log_error("could not commit; %s", ndbs > 1 ? "no database was changed" : "nothing was changed");
		goto fail;
	}
	initPQExpBuffer(&json);
	appendPQExpBufferChar(&json, '[');
	for (i = 0; i < ndbs; i++)
		print_done(&dbs[i], done[i], "reverted", &json);
	if (opts.json)
		printf("%s]\n", json.data);
	return EXIT_OK;
fail:
	conn_abort_all();
	return EXIT_FAILED;
}

/*---- verify -----------------------------------------------------------------*/

static int
cmd_verify(int argc, char **argv)
{
	LocalDir	d;
	int			rc = no_args(argc, argv, "verify");
	int			i;
	bool		failed = false;
	PQExpBufferData json;

	if (rc != EXIT_OK)
		return rc;
	if (!files_read_dir(opts.dir, &d, true))
		return EXIT_FAILED;
	rc = conn_open_all();
	if (rc != EXIT_OK)
		return rc;
	initPQExpBuffer(&json);
	appendPQExpBufferChar(&json, '[');
	for (i = 0; i < ndbs; i++)
	{
		PGresult   *res;
		int			r;
		int			problems = 0;

		/* files edited after their migration was applied */
		res = db_exec(&dbs[i], "SELECT s.version, s.name, a.checksum FROM smig.status() s "
					  "JOIN smig.applied a USING (version) "
					  "WHERE s.state IN ('applied', 'modified', 'down-modified')", 0, NULL);
		if (res == NULL)
			return EXIT_FAILED;
		for (r = 0; r < PQntuples(res) && d.exists; r++)
		{
			const LocalMigration *m = files_find(&d, PQgetvalue(res, r, 0));

			if (m == NULL || m->run_on_change || PQgetisnull(res, r, 2))
				continue;
			if (strcmp(m->checksum, PQgetvalue(res, r, 2)) != 0)
			{
				pg_log_error("%s: %s/%s differs from the migration that was applied",
							 dbs[i].label, opts.dir, m->file);
				problems++;
			}
		}
		PQclear(res);
		/* the registry against what was applied */
		res = db_exec(&dbs[i], "SELECT version, name, problem FROM smig.verify_checksum()",
					  0, NULL);
		if (res == NULL)
			return EXIT_FAILED;
		for (r = 0; r < PQntuples(res); r++)
		{
			pg_log_error("%s: migration %s (%s) is %s", dbs[i].label,
						 PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
						 PQgetvalue(res, r, 2));
			problems++;
		}
		PQclear(res);
		/* drift */
		res = db_exec(&dbs[i], "SELECT smig.verify()", 0, NULL);
		if (res == NULL)
			problems++;
		if (opts.json)
		{
			if (i)
				appendPQExpBufferStr(&json, ",\n");
			appendPQExpBufferStr(&json, "{\"database\": ");
			out_json_string(&json, dbs[i].label);
			appendPQExpBuffer(&json, ", \"ok\": %s, \"summary\": ", problems ? "false" : "true");
			if (res)
				out_json_string(&json, PQgetvalue(res, 0, 0));
			else
				appendPQExpBufferStr(&json, "null");
			appendPQExpBufferChar(&json, '}');
		}
		else if (problems == 0)
			printf("%s%s%s\n", ndbs > 1 ? dbs[i].label : "", ndbs > 1 ? ": " : "",
				   PQgetvalue(res, 0, 0));
		if (res)
			PQclear(res);
		if (problems)
			failed = true;
	}
	if (opts.json)
		printf("%s]\n", json.data);
	return failed ? EXIT_VERIFY : EXIT_OK;
}

/*---- main -------------------------------------------------------------------*/

int
main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'h'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"yes", no_argument, NULL, 'y'},
		{"verbose", no_argument, NULL, 'v'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 9},
		{"dir", required_argument, NULL, 1},
		{"wait", required_argument, NULL, 2},
		{"json", no_argument, NULL, 3},
		{"to", required_argument, NULL, 4},
		{"steps", required_argument, NULL, 5},
		{"dry-run", no_argument, NULL, 6},
		{"each", no_argument, NULL, 7},
		{"limit", required_argument, NULL, 8},
		{"backup", required_argument, NULL, 10},
		{NULL, 0, NULL, 0}
	};
	bool		help = false;
	int			c;
	const Command *cmd;
	char	   *end;
	int			rc;

	pg_logging_init(argv[0]);
	opts.argv0 = argv[0];
	opts.dir = "migrations";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "d:h:p:U:wWyvV?", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				if (opts.ndbnames == lengthof(opts.dbnames))
				{
					pg_log_error("too many databases (at most %d)",
								 (int) lengthof(opts.dbnames));
					exit(EXIT_USAGE);
				}
				opts.dbnames[opts.ndbnames++] = optarg;
				break;
			case 'h':
				opts.host = optarg;
				break;
			case 'p':
				opts.port = optarg;
				break;
			case 'U':
				opts.user = optarg;
				break;
			case 'w':
				opts.prompt_password = -1;
				break;
			case 'W':
				opts.prompt_password = 1;
				break;
			case 'y':
				opts.yes = true;
				break;
			case 'v':
				opts.verbose = true;
				break;
			case 'V':
				printf("smig %s\n", SMIG_CLIENT_VERSION);
				exit(EXIT_OK);
			case '?':
				if (strcmp(argv[optind - 1], "-?") != 0)
				{
					pg_log_error("invalid option \"%s\"", argv[optind - 1]);
					pg_log_error_hint("Try \"smig --help\" for more information.");
					exit(EXIT_USAGE);
				}
				help = true;
				break;
			case 1:
				opts.dir = optarg;
				break;
			case 2:
			case 5:
			case 8:
				{
					long		n = strtol(optarg, &end, 10);

					if (*optarg == '\0' || *end != '\0' || n < 1 || n > 1000000)
					{
						pg_log_error("invalid value \"%s\" for option %s", optarg,
									 argv[optind - 1]);
						pg_log_error_hint("Give a whole number from 1 to 1000000.");
						exit(EXIT_USAGE);
					}
					if (c == 2)
						opts.wait_seconds = (int) n;
					else if (c == 5)
						opts.steps = (int) n;
					else
						opts.limit = (int) n;
				}
				break;
			case 9:
				help = true;
				break;
			case 3:
				opts.json = true;
				break;
			case 4:
				opts.to = optarg;
				break;
			case 6:
				opts.dry_run = true;
				break;
			case 7:
				opts.each = true;
				break;
			case 10:
				opts.backup = optarg;
				break;
			default:
				pg_log_error("invalid option \"%s\"", argv[optind - 1]);
				pg_log_error_hint("Try \"smig --help\" for more information.");
				exit(EXIT_USAGE);
		}
	}
	if (optind >= argc)
	{
		if (help)
		{
			usage();
			exit(EXIT_OK);
		}
		pg_log_error("no command given");
		pg_log_error_hint("Try \"smig --help\" for more information.");
		exit(EXIT_USAGE);
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL)
	{
		pg_log_error("unrecognized command \"%s\"", argv[optind]);
		pg_log_error_hint("Try \"smig --help\" for the list of commands.");
		exit(EXIT_USAGE);
	}
	if (help)
	{
		printf("Usage:\n  smig [OPTION]... %s\n\n%s\n\nSee \"smig --help\" for the connection and other options.\n",
			   cmd->synopsis, cmd->help);
		exit(EXIT_OK);
	}
	if ((opts.to || opts.dry_run || opts.each) && cmd->fn != cmd_up && cmd->fn != cmd_down)
	{
		pg_log_error("--to, --steps, --dry-run and --each belong to \"up\" and \"down\"");
		exit(EXIT_USAGE);
	}
	if (opts.backup && (cmd->fn != cmd_up || opts.dry_run))
	{
		pg_log_error("--backup belongs to \"up\" without --dry-run");
		exit(EXIT_USAGE);
	}
	if (opts.steps && cmd->fn != cmd_down)
	{
		pg_log_error("--steps belongs to \"down\"");
		exit(EXIT_USAGE);
	}
	rc = cmd->fn(argc - optind - 1, argv + optind + 1);
	conn_close_all();
	return rc;
}
