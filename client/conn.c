/*-------------------------------------------------------------------------
 * conn.c
 *	  Connections, queries and output for the smig client.
 *
 * Connections are made as PostgreSQL's own clients make them: the -d value
 * is expanded by libpq (a conninfo string or a URI, which may name a
 * service), then -h, -p and -U, then PG* variables, ~/.pgpass and
 * pg_service.conf through libpq itself.  Without -d, DATABASE_URL is the
 * -d value.  A password is asked for (as psql does) when the server wants
 * one, unless -w; -W asks first.  Nothing here prints a connection string:
 * a database is named by its name, host and port (its label), so a
 * password in a URI never reaches the output.
 *
 * Several databases (-d A -d B) are changed atomically with two-phase
 * commit: every one is prepared (PREPARE TRANSACTION 'smig_...') before any
 * is committed; if anything fails before the commit phase, every open and
 * prepared transaction is rolled back.
 *-------------------------------------------------------------------------
 */
#include "client.h"

#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/string.h"

Db		   *dbs;
int			ndbs;

static char *password;

/* Server messages go to stderr, prefixed with the database when several. */
static void
notice_processor(void *arg, const char *message)
{
	Db		   *db = arg;

	if (ndbs > 1)
		fprintf(stderr, "%s: %s", db->label, message);
	else
		fprintf(stderr, "%s", message);
}

/* The connection keywords of one -d value (NULL: none given). */
static void
conn_params(const char *dbname, const char **kw, const char **val)
{
	int			i = 0;

	if (opts.host)
	{
		kw[i] = "host";
		val[i++] = opts.host;
	}
	if (opts.port)
	{
		kw[i] = "port";
		val[i++] = opts.port;
	}
	if (opts.user)
	{
		kw[i] = "user";
		val[i++] = opts.user;
	}
	if (password)
	{
		kw[i] = "password";
		val[i++] = password;
	}
	/* after host/port/user, so a conninfo's own values win (as in psql) */
	if (dbname)
	{
		kw[i] = "dbname";
		val[i++] = dbname;
	}
	kw[i] = "fallback_application_name";
	val[i++] = "smig";
	kw[i] = NULL;
	val[i] = NULL;
}

/* --wait: ping until the server accepts connections or time runs out. */
static bool
wait_for_server(const char *dbname)
{
	const char *kw[8];
	const char *val[8];
	time_t		deadline = time(NULL) + opts.wait_seconds;

	conn_params(dbname, kw, val);
	for (;;)
	{
		PGPing		p = PQpingParams(kw, val, 1);

		if (p == PQPING_OK)
			return true;
		if (p == PQPING_NO_ATTEMPT)
		{
			pg_log_error("invalid connection options");
			return false;
		}
		if (time(NULL) >= deadline)
		{
			pg_log_error("server did not accept connections within %d seconds",
						 opts.wait_seconds);
			return false;
		}
		pg_usleep(250000);
	}
}

static char *
make_label(PGconn *conn)
{
	const char *host = PQhost(conn);
	const char *port = PQport(conn);

	return psprintf("database \"%s\" on %s:%s", PQdb(conn) ? PQdb(conn) : "",
					host ? host : "", port ? port : "");
}

/* Connect one database; NULL after an error. */
static PGconn *
connect_one(const char *dbname)
{
	const char *kw[8];
	const char *val[8];
	PGconn	   *conn;

	if (opts.prompt_password > 0 && password == NULL)
		password = simple_prompt("Password: ", false);
	for (;;)
	{
		conn_params(dbname, kw, val);
		conn = PQconnectdbParams(kw, val, 1);
		if (PQstatus(conn) == CONNECTION_OK)
			break;
		if (PQconnectionNeedsPassword(conn) && password == NULL &&
			opts.prompt_password >= 0)
		{
			PQfinish(conn);
			password = simple_prompt("Password: ", false);
			continue;
		}
		pg_log_error("could not connect to %s: %s", make_label(conn),
					 PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

int
conn_open_all(void)
{
	const char *given[64];
	int			n = opts.ndbnames;
	int			i;

	if (n == 0)
	{
		given[0] = getenv("DATABASE_URL");
		if (given[0] && given[0][0] == '\0')
			given[0] = NULL;
		n = 1;
	}
	else
		memcpy(given, opts.dbnames, n * sizeof(char *));

	dbs = pg_malloc0(n * sizeof(Db));
	ndbs = n;
	for (i = 0; i < n; i++)
	{
		PGconn	   *conn;

		if (opts.wait_seconds > 0 && !wait_for_server(given[i]))
			return EXIT_USAGE;
		conn = connect_one(given[i]);
		if (conn == NULL)
		{
			ndbs = i;
			return EXIT_USAGE;
		}
		dbs[i].conn = conn;
		dbs[i].label = make_label(conn);
		PQsetNoticeProcessor(conn, notice_processor, &dbs[i]);
		/*
		 * -v: the server echoes each migration statement as it starts (a dry
		 * run lists them from the files instead: its rehearsal runs them too)
		 */
		if (opts.verbose && !opts.dry_run)
			PQclear(PQexec(conn, "SELECT pg_catalog.set_config('smig.print_statements', 'on', false)"));
		/* the labels of two databases must tell them apart */
	}
	return EXIT_OK;
}

void
conn_close_all(void)
{
	int			i;

	for (i = 0; i < ndbs; i++)
		if (dbs[i].conn)
			PQfinish(dbs[i].conn);
	ndbs = 0;
}

/* Print a failed result as psql would, naming the database when several. */
static void
report_error(Db *db, PGresult *res)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn);
	size_t		len = strlen(msg);

	while (len > 0 && msg[len - 1] == '\n')
		len--;
	if (ndbs > 1)
		pg_log_error("%s: %.*s", db->label, (int) len, msg);
	else
		pg_log_error("%.*s", (int) len, msg);
}

PGresult *
db_exec(Db *db, const char *sql, int nparams, const char *const *params)
{
	PGresult   *res;
	ExecStatusType st;

	if (opts.verbose)
		fprintf(stderr, "%s%s%s\n", ndbs > 1 ? db->label : "",
				ndbs > 1 ? ": " : "", sql);
	if (nparams > 0)
		res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	else
		res = PQexec(db->conn, sql);
	st = PQresultStatus(res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
	{
		report_error(db, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

bool
db_command(Db *db, const char *sql)
{
	PGresult   *res = db_exec(db, sql, 0, NULL);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

bool
conn_prepare_all(void)
{
	int			i;
	static int	serial;

	for (i = 0; i < ndbs; i++)
	{
		char	   *sql;

		snprintf(dbs[i].gid, sizeof(dbs[i].gid), "smig_%ld_%d_%d_%d",
				 (long) time(NULL), (int) getpid(), serial++, i);
		sql = psprintf("PREPARE TRANSACTION '%s'", dbs[i].gid);
		if (!db_command(&dbs[i], sql))
		{
			/* failed PREPARE TRANSACTION rolls back this one */
			dbs[i].gid[0] = '\0';
			dbs[i].in_tx = false;
			pg_log_error("could not prepare the transaction on %s", dbs[i].label);
			if (strstr(PQerrorMessage(dbs[i].conn), "max_prepared_transactions"))
				pg_log_error_hint("Several databases are changed with two-phase commit, which needs max_prepared_transactions > 0 on each server.");
			return false;
		}
		dbs[i].in_tx = false;
	}
	return true;
}

bool
conn_commit_prepared_all(void)
{
	int			i;
	bool		ok = true;

	for (i = 0; i < ndbs; i++)
	{
		char	   *sql;

		if (dbs[i].gid[0] == '\0')
			continue;
		sql = psprintf("COMMIT PREPARED '%s'", dbs[i].gid);
		if (!db_command(&dbs[i], sql))
		{
			pg_log_error("could not commit prepared transaction \"%s\" on %s",
						 dbs[i].gid, dbs[i].label);
			pg_log_error_hint("It is still prepared: finish it with COMMIT PREPARED '%s' on that database, since the others are committed.",
							  dbs[i].gid);
			ok = false;
			continue;
		}
		dbs[i].gid[0] = '\0';
	}
	return ok;
}

void
conn_abort_all(void)
{
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		if (dbs[i].in_tx)
		{
			PQclear(PQexec(dbs[i].conn, "ROLLBACK"));
			dbs[i].in_tx = false;
		}
		if (dbs[i].gid[0] != '\0')
		{
			char	   *sql = psprintf("ROLLBACK PREPARED '%s'", dbs[i].gid);

			if (!db_command(&dbs[i], sql))
				pg_log_error("could not roll back prepared transaction \"%s\" on %s",
							 dbs[i].gid, dbs[i].label);
			else
				dbs[i].gid[0] = '\0';
		}
	}
}

/*---- output ----------------------------------------------------------------*/

void
out_json_string(PQExpBuffer b, const char *s)
{
	appendPQExpBufferChar(b, '"');
	for (;;)
	{
		const char *run = s;
		unsigned char c;

		/* copy what needs no escape in one piece (a file's text is most) */
		while ((c = (unsigned char) *s) >= 0x20 && c != '"' && c != '\\' &&
			   c != 0x7f)
			s++;
		if (s > run)
			appendBinaryPQExpBuffer(b, run, s - run);
		if (c == '\0')
			break;
		s++;
		if (c == '"' || c == '\\')
		{
			appendPQExpBufferChar(b, '\\');
			appendPQExpBufferChar(b, c);
		}
		else if (c == '\n')
			appendPQExpBufferStr(b, "\\n");
		else if (c == '\r')
			appendPQExpBufferStr(b, "\\r");
		else if (c == '\t')
			appendPQExpBufferStr(b, "\\t");
		else
			appendPQExpBuffer(b, "\\u%04x", c);
	}
	appendPQExpBufferChar(b, '"');
}

void
out_json_rows(PQExpBuffer b, PGresult *res)
{
	int			r,
				c;

	appendPQExpBufferChar(b, '[');
	for (r = 0; r < PQntuples(res); r++)
	{
		appendPQExpBufferStr(b, r ? ",\n {" : "{");
		for (c = 0; c < PQnfields(res); c++)
		{
			if (c)
				appendPQExpBufferStr(b, ", ");
			out_json_string(b, PQfname(res, c));
			appendPQExpBufferStr(b, ": ");
			if (PQgetisnull(res, r, c))
				appendPQExpBufferStr(b, "null");
			else
				out_json_string(b, PQgetvalue(res, r, c));
		}
		appendPQExpBufferChar(b, '}');
	}
	appendPQExpBufferChar(b, ']');
}

/*
 * Rows as aligned columns under a header (NULL shows empty), or as a JSON
 * array with --json; empty_msg instead of a header when there is no row.
 */
void
out_result(PGresult *res, const char *empty_msg)
{
	int			nf = PQnfields(res);
	int			nt = PQntuples(res);
	int		   *w;
	int			r,
				c;

	if (opts.json)
	{
		PQExpBufferData b;

		initPQExpBuffer(&b);
		out_json_rows(&b, res);
		printf("%s\n", b.data);
		termPQExpBuffer(&b);
		return;
	}
	if (nt == 0)
	{
		if (empty_msg)
			printf("%s\n", empty_msg);
		return;
	}
	w = pg_malloc0(nf * sizeof(int));
	for (c = 0; c < nf; c++)
	{
		w[c] = strlen(PQfname(res, c));
		for (r = 0; r < nt; r++)
			w[c] = Max(w[c], PQgetlength(res, r, c));
	}
	for (r = -1; r < nt; r++)
		for (c = 0; c < nf; c++)
		{
			const char *v = r < 0 ? PQfname(res, c) : PQgetvalue(res, r, c);

			if (c + 1 < nf)
				printf("%-*s  ", w[c], v);
			else
				printf("%s\n", v);
		}
	free(w);
}

/*---- up --backup -------------------------------------------------------------*/

/* pg_dump next to this program, else the first in PATH. */
static char *
pg_dump_path(void)
{
	char		self[MAXPGPATH];
	char	   *p;

	if (find_my_exec(opts.argv0, self) == 0)
	{
		get_parent_directory(self);
		p = psprintf("%s/pg_dump", self);
		if (access(p, X_OK) == 0)
			return p;
	}
	return pg_strdup("pg_dump");
}

/*
 * The conninfo of db's live connection without its password, which the
 * child gets in PGPASSWORD instead: an argument is visible to every local
 * user (ps), the environment is not.
 */
static char *
dump_conninfo(Db *db)
{
	PQconninfoOption *opt = PQconninfo(db->conn);
	PQconninfoOption *o;
	PQExpBufferData b;
	const char *s;

	initPQExpBuffer(&b);
	for (o = opt; o && o->keyword; o++)
	{
		if (o->val == NULL || o->val[0] == '\0' ||
			strcmp(o->keyword, "password") == 0 ||
			strcmp(o->keyword, "sslpassword") == 0 ||
			strcmp(o->keyword, "fallback_application_name") == 0)
			continue;
		appendPQExpBuffer(&b, "%s%s='", b.len ? " " : "", o->keyword);
		for (s = o->val; *s; s++)
		{
			if (*s == '\'' || *s == '\\')
				appendPQExpBufferChar(&b, '\\');
			appendPQExpBufferChar(&b, *s);
		}
		appendPQExpBufferChar(&b, '\'');
	}
	appendPQExpBufferStr(&b, " fallback_application_name='smig pg_dump'");
	PQconninfoFree(opt);
	return b.data;
}

/* The backup file of the i-th database: FILE, or FILE.<i+1> when several. */
char *
conn_backup_file(const char *file, int i)
{
	return ndbs > 1 ? psprintf("%s.%d", file, i + 1) : pg_strdup(file);
}

/*
 * up --backup FILE: pg_dump -Fc every database before anything is changed
 * (outside any transaction of ours).  False, after an error naming the
 * database, as soon as one dump fails.
 */
bool
conn_backup_all(const char *file)
{
	char	   *pg_dump = pg_dump_path();
	int			i;

	for (i = 0; i < ndbs; i++)
	{
		char	   *path = conn_backup_file(file, i);
		char	   *conninfo = dump_conninfo(&dbs[i]);
		const char *pass = PQpass(dbs[i].conn);
		pid_t		pid;
		int			status;

		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0)
		{
			pg_log_error("could not start pg_dump: %m");
			return false;
		}
		if (pid == 0)
		{
			if (pass && pass[0])
				setenv("PGPASSWORD", pass, 1);
			execlp(pg_dump, pg_dump, "-Fc", "-w", "-f", path, "-d", conninfo,
				   (char *) NULL);
			pg_log_error("could not run \"%s\": %m", pg_dump);
			_exit(127);
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
			WEXITSTATUS(status) != 0)
		{
			pg_log_error("could not back up %s to \"%s\": %s", dbs[i].label,
						 path, wait_result_to_str(status));
			pg_log_error_detail("Nothing was migrated; the file may be incomplete.");
			pg_log_error_hint("Fix what pg_dump reported above, or run \"smig up\" without --backup.");
			return false;
		}
		if (!opts.json)
			printf("backed up %s to %s\n", dbs[i].label, path);
	}
	return true;
}
