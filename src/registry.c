/*-------------------------------------------------------------------------
 * registry.c
 *	  smig.register and smig.load_dir: validation and upsert of migrations.
 *
 * The registry holds what the migration files say now.  Everything a
 * migration could get wrong that can be seen without running it is
 * refused here, with the line: an invalid version, a blank name or one
 * with control characters, an unterminated literal, a psql meta-command,
 * COPY through the client (FROM STDIN, TO STDOUT), transaction control
 * other than one outer BEGIN; ... COMMIT; pair, an unknown directive or
 * option.  A refused registration changes nothing.  Lines count from the
 * first line of the text (the file) even inside a "-- smig:up" section;
 * the up section's first line is kept in the options as "up_line", so
 * that the runner reports lines the same way.
 *
 * smig.unregister takes back a migration that is not applied.
 *
 * Changing the up script of an applied migration is allowed (the registry
 * follows the files) but makes the migration "modified": a WARNING says
 * so, and smig.upgrade_head() refuses until it is restored or repaired.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/varlena.h"

#include "action.h"
#include "args.h"
#include "checksum.h"
#include "migfile.h"
#include "ownersql.h"
#include "registry.h"
#include "sqllex.h"
#include "summary.h"
#include "version.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_register);
PG_FUNCTION_INFO_V1(smig_load_dir);
PG_FUNCTION_INFO_V1(smig_unregister);

/*---- validation of scripts ------------------------------------------------*/

/*
 * Check that a script lexes and holds nothing a migration cannot run:
 * psql meta-commands, COPY through the client, or transaction control
 * other than an outer BEGIN; ... COMMIT; pair.  which is "up" or "down";
 * first_line is the line of the file where the script starts.
 */
static void
check_script(const char *sql, const char *which, const char *version,
			 int first_line)
{
	SqlLexer	lx;
	SqlStmt		st;
	SqlStmt		first = {0};
	SqlStmt		last = {0};
	int			n = 0;
	SqlLexStatus rc;

	sqllex_init_at(&lx, sql, strlen(sql), first_line);
	while ((rc = sqllex_next(&lx, &st)) == SQLLEX_OK)
	{
		if (st.kind == SQL_STMT_COPY_STDIO)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY with STDIN or STDOUT at line %d of the %s script of migration \"%s\"",
							st.line, which, version),
					 errdetail("Migrations run inside the server, where no client connection carries COPY data."),
					 errhint("Load data with INSERT, or with COPY FROM a file on the database server.")));
		if (st.kind == SQL_STMT_META)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("psql meta-command at line %d of the %s script of migration \"%s\"",
							st.line, which, version),
					 errdetail("Migrations run inside the server, which cannot execute \"%.*s\".",
							   pg_mbcliplen(sql + st.start, (int) (st.end - st.start), 40),
							   sql + st.start),
					 errhint("Write the SQL itself: inline files instead of \\i, literal values instead of \\set variables.")));
		if (st.kind == SQL_STMT_TXN_OTHER ||
			(st.kind == SQL_STMT_BEGIN && n > 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("transaction control statement at line %d of the %s script of migration \"%s\"",
							st.line, which, version),
					 errdetail("smig runs each migration inside a transaction; only one BEGIN; ... COMMIT; pair around the whole script is allowed, and it is not sent."),
					 errhint("Remove the statement, or split the migration in two.")));
		if (n == 0)
			first = st;
		else if (last.kind == SQL_STMT_COMMIT)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
					 errmsg("transaction control statement at line %d of the %s script of migration \"%s\"",
							last.line, which, version),
					 errdetail("COMMIT may only end the script, closing the BEGIN that starts it."),
					 errhint("Remove the statement, or split the migration in two.")));
		last = st;
		n++;
	}
	if (rc == SQLLEX_ERROR)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s at line %d of the %s script of migration \"%s\"",
						lx.error, lx.error_line, which, version)));

	/* BEGIN must open, and COMMIT close, the whole script, as a pair */
	if (n > 0 &&
		(first.kind == SQL_STMT_BEGIN || last.kind == SQL_STMT_COMMIT) &&
		!(n >= 2 && first.kind == SQL_STMT_BEGIN &&
		  last.kind == SQL_STMT_COMMIT))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_TERMINATION),
				 errmsg("transaction control statement at line %d of the %s script of migration \"%s\"",
						first.kind == SQL_STMT_BEGIN ? first.line : last.line,
						which, version),
				 errdetail("A script may be wrapped in BEGIN; ... COMMIT; only as a whole pair."),
				 errhint("Remove the statement, or split the migration in two.")));
}

/*
 * A migration that runs inside a transaction (no "-- smig:no-transaction")
 * must hold no statement PostgreSQL refuses there, such as CREATE INDEX
 * CONCURRENTLY: say so at registration, naming the directive, rather than
 * fail at apply with "cannot be executed from a function".
 */
static void
check_transactional(const char *sql, const char *which, const char *version,
					int first_line)
{
	SqlLexer	lx;
	SqlStmt		st;

	sqllex_init_at(&lx, sql, strlen(sql), first_line);
	while (sqllex_next(&lx, &st) == SQLLEX_OK)
	{
		const char *command = sqllex_no_transaction(sql + st.start,
													st.end - st.start);

		if (command != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("%s at line %d of the %s script of migration \"%s\" cannot run inside a transaction block",
							command, st.line, which, version),
					 errdetail("smig runs a migration inside a transaction unless it is marked \"-- smig:no-transaction\"."),
					 errhint("Mark the migration with \"-- smig:no-transaction\" (this version of smig records such migrations but cannot apply them yet), or use a form that runs inside a transaction.")));
	}
}

/* Does the script hold any statement at all? */
static bool
script_is_blank(const char *sql, size_t len)
{
	SqlLexer	lx;
	SqlStmt		st;

	sqllex_init(&lx, sql, len);
	return sqllex_next(&lx, &st) == SQLLEX_END;
}

/* Is value a valid lock_timeout? */
static bool
valid_lock_timeout(const char *value)
{
	int			ms;

	return parse_int(value, &ms, GUC_UNIT_MS, NULL) && ms >= 0;
}

static void
report_bad_lock_timeout(const char *value, const char *version)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid lock timeout \"%s\" for migration \"%s\"",
					value, version),
			 errhint("Write a duration such as \"5s\" or \"500ms\".")));
}

/*
 * The role named by "-- smig:run-as ROLE": an SQL identifier, folded to
 * lower case unless double-quoted, as in SET ROLE.
 */
static char *
directive_role(char *arg, int line, const char *version)
{
	List	   *names;

	if (!SplitIdentifierString(arg, ',', &names) || list_length(names) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid role name in directive \"-- smig:run-as\" at line %d of migration \"%s\"",
						line, version),
				 errhint("Write one role name, such as \"-- smig:run-as app_owner\".")));
	return linitial(names);
}

/*
 * Read the "-- smig:" directives of an up script into buf as JSON object
 * members (each preceded by ", "); *run_as gets the run-as role, if any,
 * and *no_transaction is set by "-- smig:no-transaction".
 */
static void
read_directives(const char *sql, const char *version, StringInfo buf,
				char **run_as, bool *no_transaction)
{
	size_t		pos = 0;
	const char *name;
	const char *arg;
	size_t		name_len;
	size_t		arg_len;
	int			line;

	while (sqllex_next_directive(sql, strlen(sql), &pos, &name, &name_len,
								 &arg, &arg_len, &line))
	{
		char	   *n = pnstrdup(name, name_len);
		char	   *a = pnstrdup(arg, arg_len);

		if (strcmp(n, "no-transaction") == 0 && arg_len == 0)
		{
			appendStringInfoString(buf, ", \"transactional\": false");
			*no_transaction = true;
		}
		else if (strcmp(n, "lock-timeout") == 0 && arg_len > 0)
		{
			if (!valid_lock_timeout(a))
				report_bad_lock_timeout(a, version);
			appendStringInfoString(buf, ", \"lock_timeout\": ");
			escape_json(buf, a);
		}
		else if (strcmp(n, "run-as") == 0 && arg_len > 0)
			*run_as = directive_role(a, line, version);
		else
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("unrecognized directive \"-- smig:%s%s%s\" at line %d of migration \"%s\"",
							n, arg_len ? " " : "", a, line, version),
					 errhint("Known directives are \"-- smig:no-transaction\", \"-- smig:lock-timeout <duration>\" and \"-- smig:run-as <role>\".")));
	}
}

/*
 * Check the options argument: an object with known keys of the right type.
 * *run_as gets the "run_as" option (a role name, taken as written), if any;
 * *transactional the "transactional" option (0 or 1), if given.
 */
static void
check_options(Jsonb *options, const char *version, char **run_as,
			  int *transactional)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	if (!JB_ROOT_IS_OBJECT(options) || JB_ROOT_IS_SCALAR(options))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("options of migration \"%s\" must be a JSON object",
						version)));

	it = JsonbIteratorInit(&options->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
		{
			bool		ok;

			if (strcmp(key, "transactional") == 0 || strcmp(key, "baseline") == 0)
			{
				ok = v.type == jbvBool;
				if (ok && strcmp(key, "transactional") == 0)
					*transactional = v.val.boolean ? 1 : 0;
			}
			else if (strcmp(key, "run_as") == 0)
			{
				ok = v.type == jbvString && v.val.string.len > 0;
				if (ok)
					*run_as = pnstrdup(v.val.string.val, v.val.string.len);
			}
			else if (strcmp(key, "lock_timeout") == 0)
			{
				ok = v.type == jbvString;
				if (ok && !valid_lock_timeout(pnstrdup(v.val.string.val,
													   v.val.string.len)))
					report_bad_lock_timeout(pnstrdup(v.val.string.val,
													 v.val.string.len),
											version);
			}
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unrecognized option \"%s\" for migration \"%s\"",
								key, version),
						 errhint("Known options are \"transactional\", \"lock_timeout\", \"run_as\" and \"baseline\".")));
			if (!ok)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\" of migration \"%s\"",
								key, version),
						 strcmp(key, "lock_timeout") == 0
						 ? errdetail("\"lock_timeout\" takes a string such as \"5s\".")
						 : strcmp(key, "run_as") == 0
						 ? errdetail("\"run_as\" takes the name of a role.")
						 : errdetail("\"%s\" takes a boolean.", key)));
		}
	}
}

/*---- the upsert -------------------------------------------------------------*/

/*
 * The role a migration runs as: the "run_as" option, else the
 * "-- smig:run-as" directive, else the registrant (current_user).  The
 * registrant must be a member of it, as SET ROLE would require, so no one
 * can register SQL that runs with rights they do not have.
 */
static char *
resolve_run_as(const char *option, const char *directive, const char *version)
{
	const char *name = option ? option : directive;
	Oid			registrant = GetUserId();
	Oid			roleid;

	if (name == NULL)
		return GetUserNameFromId(registrant, false);
	roleid = get_role_oid(name, true);
	if (!OidIsValid(roleid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role \"%s\" does not exist", name),
				 errdetail("Migration \"%s\" names it as the role to run as.", version)));
	if (!is_member_of_role(registrant, roleid))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to register migration \"%s\" to run as role \"%s\"",
						version, name),
				 errdetail("Role \"%s\" is not a member of role \"%s\".",
						   GetUserNameFromId(registrant, false), name),
				 errhint("Register it as a member of role \"%s\", or leave out the run-as role to run it as \"%s\".",
						 name, GetUserNameFromId(registrant, false))));
	return GetUserNameFromId(roleid, false);
}

RegisterResult
registry_upsert(const MigrationInput *in)
{
	const char *up = in->up_sql;
	const char *down = in->down_sql;
	size_t		up_len = strlen(up);
	size_t		us,
				ue,
				ds,
				de;
	const char *sect_error;
	int			sect_line;
	int			sections;
	int			up_line = 1;
	int			down_line = 1;
	char	   *key;
	char	   *checksum;
	StringInfoData opts;
	char	   *directive_run_as = NULL;
	bool		no_transaction = false;
	int			transactional = -1;
	char	   *option_run_as = NULL;
	char	   *run_as;
	Oid			types[10] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID};
	Datum		values[10];
	char		nulls[11] = "          ";
	RegisterResult result;

	key = version_key_or_error(in->version);
	args_check_name(in->name, in->version);

	/* one text with -- smig:up / -- smig:down sections */
	sections = sqllex_split_sections(up, up_len, &us, &ue, &ds, &de,
									 &sect_error, &sect_line);
	if (sections < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("%s at line %d of migration \"%s\"",
						sect_error, sect_line, in->version)));
	if (sections > 0)
	{
		if (down != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("migration \"%s\" has both a down script and a \"-- smig:down\" section",
							in->version),
					 errhint("Keep the down script in one place.")));
		up = pnstrdup(in->up_sql + us, ue - us);
		down = script_is_blank(in->up_sql + ds, de - ds)
			? NULL : pnstrdup(in->up_sql + ds, de - ds);
		up_line = sqllex_line_at(in->up_sql, up_len, us);
		down_line = sqllex_line_at(in->up_sql, up_len, ds);
	}

	check_script(up, "up", in->version, up_line);
	if (down)
		check_script(down, "down", in->version, down_line);

	initStringInfo(&opts);
	appendStringInfoString(&opts, "{\"_\": 0");
	if (in->baseline)
		appendStringInfoString(&opts, ", \"baseline\": true");
	if (up_line > 1)
		appendStringInfo(&opts, ", \"up_line\": %d", up_line);
	read_directives(in->up_sql, in->version, &opts, &directive_run_as,
					&no_transaction);
	appendStringInfoChar(&opts, '}');
	if (in->options)
		check_options(in->options, in->version, &option_run_as,
					  &transactional);
	if (transactional < 0)
		transactional = no_transaction ? 0 : 1;
	if (transactional)
	{
		check_transactional(up, "up", in->version, up_line);
		if (down)
			check_transactional(down, "down", in->version, down_line);
	}
	run_as = resolve_run_as(option_run_as, directive_run_as, in->version);

	checksum = checksum_sql(up, strlen(up));

	values[0] = CStringGetTextDatum(key);
	values[1] = CStringGetTextDatum(in->version);
	values[2] = CStringGetTextDatum(in->name);
	values[3] = CStringGetTextDatum(up);
	values[4] = text_datum_or_null(down);
	nulls[4] = down ? ' ' : 'n';
	values[5] = CStringGetTextDatum(checksum);
	values[6] = CStringGetTextDatum(opts.data);
	values[7] = in->options ? JsonbPGetDatum(in->options) : (Datum) 0;
	nulls[7] = in->options ? ' ' : 'n';
	values[8] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[9] = CStringGetTextDatum(run_as);

	/* who registered it and as whom it runs are part of what changed */
	owner_exec("INSERT INTO smig.migration AS m"
			   " (version_key, version, name, up_sql, down_sql, checksum, options,"
			   "  registered_by, run_as)"
			   " VALUES ($1, $2, $3, $4, $5, $6,"
			   "  ($7::jsonb - '_') || (coalesce($8, '{}'::jsonb) - 'run_as'),"
			   "  $9, $10)"
			   " ON CONFLICT (version_key) DO UPDATE"
			   " SET version = excluded.version, name = excluded.name,"
			   "  up_sql = excluded.up_sql, down_sql = excluded.down_sql,"
			   "  checksum = excluded.checksum, options = excluded.options,"
			   "  registered_by = excluded.registered_by, run_as = excluded.run_as,"
			   "  registered_at = now()"
			   " WHERE (m.version, m.name, m.up_sql, m.down_sql, m.checksum, m.options,"
			   "  m.registered_by, m.run_as)"
			   "  IS DISTINCT FROM (excluded.version, excluded.name, excluded.up_sql,"
			   "  excluded.down_sql, excluded.checksum, excluded.options,"
			   "  excluded.registered_by, excluded.run_as)"
			   " RETURNING m.xmax = 0,"
			   "  (SELECT a.checksum FROM smig.applied a"
			   "    WHERE a.version_key = m.version_key)",
			   10, types, values, nulls, SPI_OK_INSERT_RETURNING);

	if (SPI_processed == 0)
		return REGISTER_UNCHANGED;

	result = strcmp(spi_text(0, 1), "t") == 0 ? REGISTER_NEW : REGISTER_CHANGED;
	{
		char	   *applied_checksum = spi_text(0, 2);

		if (applied_checksum && strcmp(applied_checksum, checksum) != 0)
			ereport(WARNING,
					(errmsg("applied migration \"%s\" (\"%s\") is now modified",
							in->version, in->name),
					 errdetail("Its up script differs from the one that was applied."),
					 errhint("smig.upgrade_head() refuses to run until the original text is restored or SELECT smig.repair() accepts the change.")));
	}
	return result;
}

static const char *
register_result_name(RegisterResult r)
{
	switch (r)
	{
		case REGISTER_NEW:
			return "new";
		case REGISTER_CHANGED:
			return "changed";
		case REGISTER_UNCHANGED:
			break;
	}
	return "unchanged";
}

/*
 * smig.register(version, name, up_sql, down_sql DEFAULT NULL,
 *               options DEFAULT '{}') returns text
 */
Datum
smig_register(PG_FUNCTION_ARGS)
{
	MigrationInput in = {0};
	RegisterResult result;

	args_require(fcinfo, 0, "version");
	args_require(fcinfo, 1, "name");
	args_require(fcinfo, 2, "up_sql");
	action_check_writable("register migrations");

	in.version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	in.name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	in.up_sql = text_to_cstring(PG_GETARG_TEXT_PP(2));
	in.down_sql = PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3));
	in.options = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);

	SPI_connect();
	result = registry_upsert(&in);
	if (result != REGISTER_UNCHANGED)
		summary_registry_changed();
	SPI_finish();

	PG_RETURN_TEXT_P(cstring_to_text(register_result_name(result)));
}

/*---- load_dir ---------------------------------------------------------------*/

typedef struct DirEntry
{
	char	   *file;			/* bare file name */
	MigFileName parsed;
	char	   *version;
	char	   *name;
	char	   *key;
} DirEntry;

/* Order by version key, ups (and baselines) before downs, then file name. */
static int
direntry_cmp(const void *a, const void *b)
{
	const DirEntry *x = a;
	const DirEntry *y = b;
	int			c = strcmp(x->key, y->key);
	bool		xdown = x->parsed.kind == MIGFILE_DOWN;
	bool		ydown = y->parsed.kind == MIGFILE_DOWN;

	if (c != 0)
		return c;
	if (xdown != ydown)
		return xdown ? 1 : -1;
	return strcmp(x->file, y->file);
}

/* The whole file as a NUL-terminated string, checked to be valid text. */
static char *
read_migration_file(const char *dir, const char *file)
{
	char	   *path = psprintf("%s/%s", dir, file);
	FILE	   *fp = AllocateFile(path, PG_BINARY_R);
	StringInfoData buf;
	char		chunk[8192];
	size_t		n;

	if (fp == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration file \"%s\": %m", path)));
	initStringInfo(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		appendBinaryStringInfo(&buf, chunk, n);
	if (ferror(fp))
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read migration file \"%s\": %m", path)));
	FreeFile(fp);

	if (memchr(buf.data, '\0', buf.len) != NULL ||
		!pg_verifymbstr(buf.data, buf.len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("migration file \"%s\" is not valid text in encoding \"%s\"",
						path, GetDatabaseEncodingName())));
	return buf.data;
}

/* Error context: which file was being registered (its name escaped). */
static void
load_dir_error_callback(void *arg)
{
	errcontext("migration file \"%s\"",
			   args_escape((const char *) arg, MAXPGPATH));
}

/* smig.load_dir(path text) returns integer */
Datum
smig_load_dir(PG_FUNCTION_ARGS)
{
	char	   *path;
	DIR		   *dir;
	struct dirent *de;
	DirEntry   *entries;
	int			nentries = 0;
	int			cap = 64;
	int			changed = 0;
	int			i;

	args_require(fcinfo, 0, "path");
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read migration files on the server"),
				 errdetail("Only roles with privileges of the \"pg_read_server_files\" role may use smig.load_dir()."),
				 errhint("Register migrations with smig.register(), or with the smig client.")));
	action_check_writable("register migrations");

	dir = AllocateDir(path);
	if (dir == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration directory \"%s\": %m", path)));

	entries = palloc(cap * sizeof(DirEntry));
	while ((de = ReadDir(dir, path)) != NULL)
	{
		DirEntry	e = {0};
		char	   *full;
		struct stat st;

		if (migfile_parse(de->d_name, &e.parsed) == MIGFILE_NOT_SQL)
			continue;
		full = psprintf("%s/%s", path, de->d_name);
		if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (e.parsed.kind == MIGFILE_UNRECOGNIZED)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized migration file name \"%s\"", de->d_name),
					 errdetail("Migration files are named V<version>__<name>.sql, <version>_<name>.sql or <version>_<name>.up.sql; down scripts U<version>__<name>.sql or <version>_<name>.down.sql; baselines B<version>__<name>.sql."),
					 errhint("Rename the file, or move it out of \"%s\".", path)));

		e.file = pstrdup(de->d_name);
		/* re-parse: parsed points into de, which ReadDir reuses */
		(void) migfile_parse(e.file, &e.parsed);
		e.version = pnstrdup(e.parsed.version, e.parsed.version_len);
		e.name = pnstrdup(e.parsed.name, e.parsed.name_len);
		e.key = version_key_or_error(e.version);
		if (nentries == cap)
		{
			cap *= 2;
			entries = repalloc(entries, cap * sizeof(DirEntry));
		}
		entries[nentries++] = e;
	}
	FreeDir(dir);

	qsort(entries, nentries, sizeof(DirEntry), direntry_cmp);

	SPI_connect();
	for (i = 0; i < nentries;)
	{
		DirEntry   *up = &entries[i];
		DirEntry   *down = NULL;
		MigrationInput in = {0};
		ErrorContextCallback errcb;
		int			j = i + 1;

		if (up->parsed.kind == MIGFILE_DOWN)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("down migration file \"%s\" has no up migration", up->file),
					 errhint("Add the up migration of version \"%s\", or remove the file.",
							 up->version)));
		for (; j < nentries && strcmp(entries[j].key, up->key) == 0; j++)
		{
			if (entries[j].parsed.kind != MIGFILE_DOWN)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("migration version \"%s\" is used by two files: \"%s\" and \"%s\"",
								up->version, up->file, entries[j].file),
						 errhint("Give one of them another version.")));
			if (down != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("migration version \"%s\" has two down files: \"%s\" and \"%s\"",
								up->version, down->file, entries[j].file)));
			down = &entries[j];
		}

		errcb.callback = load_dir_error_callback;
		errcb.arg = up->file;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;

		in.version = up->version;
		in.name = up->name;
		in.up_sql = read_migration_file(path, up->file);
		in.down_sql = down ? read_migration_file(path, down->file) : NULL;
		in.baseline = up->parsed.kind == MIGFILE_BASELINE;
		if (registry_upsert(&in) != REGISTER_UNCHANGED)
			changed++;

		error_context_stack = errcb.previous;
		i = j;
	}
	if (changed > 0)
		summary_registry_changed();
	SPI_finish();

	PG_RETURN_INT32(changed);
}

/*---- unregister -------------------------------------------------------------*/

/*
 * smig.unregister(version text) returns void
 *
 * Take back a registered migration that is not applied (pending, out of
 * order, or below a baseline), so that one bad registration does not
 * block every upgrade.  An applied migration stays: its row is what
 * status and verify compare the database against.
 */
Datum
smig_unregister(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *key;
	char	   *name;
	char	   *state;
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	args_require(fcinfo, 0, "version");
	action_begin("unregister migrations");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	key = version_key_or_error(version);
	values[0] = CStringGetTextDatum(key);

	SPI_connect();
	owner_exec("SELECT m.version, m.name, s.state FROM smig.migration m"
			   " JOIN smig._state() s ON s.version_key = m.version_key"
			   " WHERE m.version_key = $1",
			   1, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("migration \"%s\" is not registered", version)));
	version = spi_text(0, 1);
	name = spi_text(0, 2);
	state = spi_text(0, 3);
	if (strcmp(state, "applied") == 0 || strcmp(state, "modified") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister applied migration \"%s\" (\"%s\")",
						version, name),
				 errdetail("Only a migration that is not applied can be taken back."),
				 errhint("Undo its changes with a new migration instead; this version of smig cannot run down scripts.")));

	/* not applied now, and not applied by a transaction that committed since */
	owner_exec("DELETE FROM smig.migration m WHERE m.version_key = $1"
			   " AND NOT EXISTS (SELECT FROM smig.applied a"
			   "   WHERE a.version_key = m.version_key)",
			   1, types, values, NULL, SPI_OK_DELETE);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister applied migration \"%s\" (\"%s\")",
						version, name),
				 errdetail("It was applied while it was being unregistered.")));
	summary_registry_changed();
	SPI_finish();

	ereport(NOTICE,
			(errmsg("unregistered migration \"%s\" (\"%s\")", version, name),
			 errdetail("Its state was \"%s\".", state)));
	PG_RETURN_VOID();
}
