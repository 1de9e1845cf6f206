/*-------------------------------------------------------------------------
 * registry.c
 *	  smig.register, smig.register_many and smig.load_dir: validation and
 *	  upsert of migrations.
 *
 * The registry holds what the migration files say now.  Everything a
 * migration could get wrong that can be seen without running it is
 * refused here, with the line: an invalid version, a blank name or one
 * with control characters, an unterminated literal, a psql meta-command,
 * COPY through the client (FROM STDIN, TO STDOUT), transaction control
 * other than one outer BEGIN; ... COMMIT; pair, an unknown directive or
 * option.  A refused registration changes nothing.  Lines count from the
 * first line of the text (the file) even inside a "-- smig:up" section;
 * the first lines of the up and down sections are kept in the options as
 * "up_line" and "down_line", so that the runner reports lines the same way.
 *
 * smig.load_dir and smig.register_many register many migrations in one
 * call, lexing only the new or changed ones, and by default synchronise:
 * registrations that are not in the call are dropped (see "bulk
 * registration" below).  smig.unregister takes back a migration that is
 * not applied.
 *
 * Repeatable migrations (R__<name>.sql) go through the same validation
 * (registry_prepare, registry_check: a MigrationInput with repeatable set
 * and its label R__<name> as the version); their table, its comparison
 * and its drops are repeatable.c's.  A run-on-change migration (option or
 * directive) is validated here like any other; that a change makes it
 * "outdated" rather than "modified" is smig._state()'s.
 *
 * Changing the up script of an applied migration is allowed (the registry
 * follows the files) but makes the migration "modified": a WARNING says
 * so, and smig.upgrade_head() refuses until it is restored or repaired.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"
#include "utils/varlena.h"

#include "action.h"
#include "args.h"
#include "checksum.h"
#include "migfile.h"
#include "ownersql.h"
#include "registry.h"
#include "repeatable.h"
#include "retry.h"
#include "sqllex.h"
#include "summary.h"
#include "version.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_register);
PG_FUNCTION_INFO_V1(smig_unregister);
PG_FUNCTION_INFO_V1(smig_register_many);

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
					 errhint("Mark the migration with \"-- smig:no-transaction\" (CALL smig.upgrade() then runs its statements one by one, outside a transaction), or use a form that runs inside a transaction.")));
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
 * *no_transaction is set by "-- smig:no-transaction" and *run_on_change
 * by "-- smig:run-on-change".
 */
static void
read_directives(const char *sql, const char *version, StringInfo buf,
				char **run_as, bool *no_transaction, bool *run_on_change)
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
		else if (arg_len > 0 && retry_directive(n, a, version, buf))
			;					/* lock-timeout, lock-retries, statement-timeout */
		else if (strcmp(n, "run-as") == 0 && arg_len > 0)
			*run_as = directive_role(a, line, version);
		else if (strcmp(n, "destructive") == 0 && arg_len == 0)
			appendStringInfoString(buf, ", \"destructive\": true");
		else if (strcmp(n, "run-on-change") == 0 && arg_len == 0)
		{
			appendStringInfoString(buf, ", \"run_on_change\": true");
			*run_on_change = true;
		}
		else
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("unrecognized directive \"-- smig:%s%s%s\" at line %d of migration \"%s\"",
							n, arg_len ? " " : "", a, line, version),
					 errhint("Known directives are \"-- smig:no-transaction\", \"-- smig:lock-timeout <duration>\", \"-- smig:lock-retries <n>\", \"-- smig:statement-timeout <duration>\", \"-- smig:run-as <role>\", \"-- smig:run-on-change\" and \"-- smig:destructive\".")));
	}
}

/*
 * Check the options argument: an object with known keys of the right type.
 * *run_as gets the "run_as" option (a role name, taken as written), if any;
 * *transactional and *run_on_change the boolean options of those names (0
 * or 1), if given.
 */
static void
check_options(Jsonb *options, const char *version, char **run_as,
			  int *transactional, int *run_on_change)
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

			if (strcmp(key, "transactional") == 0 || strcmp(key, "baseline") == 0 ||
				strcmp(key, "run_on_change") == 0 || strcmp(key, "destructive") == 0)
			{
				ok = v.type == jbvBool;
				if (ok && strcmp(key, "transactional") == 0)
					*transactional = v.val.boolean ? 1 : 0;
				if (ok && strcmp(key, "run_on_change") == 0)
					*run_on_change = v.val.boolean ? 1 : 0;
			}
			else if (strcmp(key, "run_as") == 0)
			{
				ok = v.type == jbvString && v.val.string.len > 0;
				if (ok)
					*run_as = pnstrdup(v.val.string.val, v.val.string.len);
			}
			else if (retry_option(key, &v, version))
				ok = true;		/* lock_timeout, lock_retries, statement_timeout */
			else
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("unrecognized option \"%s\" for migration \"%s\"",
								key, version),
						 errhint("Known options are \"transactional\", \"lock_timeout\", \"lock_retries\", \"statement_timeout\", \"run_as\", \"baseline\", \"run_on_change\" and \"destructive\".")));
			if (!ok)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("invalid value for option \"%s\" of migration \"%s\"",
								key, version),
						 strcmp(key, "run_as") == 0
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

/*
 * A repeatable migration has no down script: each run replaces what the
 * last one made, so there is nothing to go back to.
 */
static void
refuse_repeatable_down(const MigrationInput *in)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("repeatable migration \"%s\" cannot have a down script",
					in->name),
			 errdetail("A repeatable migration runs again whenever it changes, replacing what its last run made; there is no earlier state to go back to."),
			 errhint("Remove the \"-- smig:down\" section; to remove its objects, drop them in a versioned migration.")));
}

/* Step 1: the version, the name, and the up and down scripts. */
static void
prepare_scripts(const MigrationInput *in, PreparedMigration *pm)
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

	pm->in = in;
	pm->up_line = 1;
	pm->down_line = 1;
	if (in->repeatable)
	{
		pm->key = NULL;
		args_check_repeatable_name(in->name);
		if (down != NULL)
			refuse_repeatable_down(in);
	}
	else
	{
		pm->key = version_key_or_error(in->version);
		args_check_name(in->name, in->version);
	}

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
		if (down != NULL && in->repeatable)
			refuse_repeatable_down(in);
		pm->up_line = sqllex_line_at(in->up_sql, up_len, us);
		pm->down_line = sqllex_line_at(in->up_sql, up_len, ds);
	}
	pm->up = up;
	pm->down = down;
}

/*
 * Lex the scripts (after registry_prepare): what a migration cannot run is
 * refused here.
 */
void
registry_check(const PreparedMigration *pm)
{
	check_script(pm->up, "up", pm->in->version, pm->up_line);
	if (pm->down)
		check_script(pm->down, "down", pm->in->version, pm->down_line);
	if (pm->transactional)
	{
		check_transactional(pm->up, "up", pm->in->version, pm->up_line);
		if (pm->down)
			check_transactional(pm->down, "down", pm->in->version, pm->down_line);
	}
}

/*
 * Options that do not fit the kind of migration: a repeatable one cannot
 * be a baseline, and always runs on change; a baseline migration, which
 * builds a whole schema for an empty database, cannot run again.
 */
static void
check_kind_options(const PreparedMigration *pm)
{
	const MigrationInput *in = pm->in;
	bool		baseline = in->baseline;

	if (in->options)
	{
		JsonbValue *v = getKeyJsonValueFromContainer(&in->options->root,
													 "baseline", strlen("baseline"),
													 NULL);

		if (v != NULL && v->type == jbvBool && v->val.boolean)
			baseline = true;
	}
	if (in->repeatable && baseline)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("repeatable migration \"%s\" cannot be a baseline migration",
						in->name),
				 errdetail("A baseline migration has a version: the schema as of that version.")));
	if (in->repeatable && pm->run_on_change)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("repeatable migration \"%s\" does not take the run-on-change option",
						in->name),
				 errdetail("A repeatable migration always runs again when it changes."),
				 errhint("Remove the option, or the \"-- smig:run-on-change\" directive.")));
	if (baseline && pm->run_on_change)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("baseline migration \"%s\" cannot run on change", in->version),
				 errdetail("A baseline migration builds the whole schema of an empty database; it cannot run again on a database it built.")));
}

/* Step 2: options, directives, the roles, and the checksum. */
static void
prepare_row(PreparedMigration *pm)
{
	const MigrationInput *in = pm->in;
	StringInfoData opts;
	char	   *directive_run_as = NULL;
	char	   *option_run_as = NULL;
	bool		no_transaction = false;
	bool		directive_run_on_change = false;
	int			transactional = -1;
	int			run_on_change = -1;

	initStringInfo(&opts);
	appendStringInfoString(&opts, "{\"_\": 0");
	if (in->baseline)
		appendStringInfoString(&opts, ", \"baseline\": true");
	if (pm->up_line > 1)
		appendStringInfo(&opts, ", \"up_line\": %d", pm->up_line);
	if (pm->down != NULL && pm->down_line > 1)
		appendStringInfo(&opts, ", \"down_line\": %d", pm->down_line);
	read_directives(in->up_sql, in->version, &opts, &directive_run_as,
					&no_transaction, &directive_run_on_change);
	appendStringInfoChar(&opts, '}');
	if (in->options)
		check_options(in->options, in->version, &option_run_as,
					  &transactional, &run_on_change);
	pm->transactional = transactional < 0 ? !no_transaction : transactional == 1;
	pm->run_on_change = run_on_change < 0 ? directive_run_on_change
		: run_on_change == 1;
	check_kind_options(pm);
	/* a copy of its size: a bulk call builds one per file */
	pm->opts = pstrdup(opts.data);
	pfree(opts.data);
	if (strcmp(pm->opts, "{\"_\": 0}") == 0)
		pm->opts_final = NULL;
	else
		pm->opts_final = psprintf("{%s", pm->opts + strlen("{\"_\": 0, "));
	if (pm->registered_by == NULL)
		pm->registered_by = GetUserNameFromId(GetUserId(), false);
	pm->run_as = (option_run_as == NULL && directive_run_as == NULL)
		? pstrdup(pm->registered_by)
		: resolve_run_as(option_run_as, directive_run_as, in->version);
	pm->checksum = checksum_sql(pm->up, strlen(pm->up));
	if (!in->repeatable)
		pm->source = registry_source(pm->up == in->up_sql ? pm->checksum
									 : checksum_sql(in->up_sql, strlen(in->up_sql)),
									 in->down_sql ? checksum_sql(in->down_sql, strlen(in->down_sql))
									 : NULL,
									 in->options, in->baseline);
}

char *
registry_source(const char *up_checksum, const char *down_checksum,
				Jsonb *options, bool baseline)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "{\"checksum\": \"%s\"", up_checksum);
	if (down_checksum)
		appendStringInfo(&buf, ", \"down_checksum\": \"%s\"", down_checksum);
	if (options)
		appendStringInfo(&buf, ", \"options\": %s",
						 JsonbToCString(NULL, &options->root, VARSIZE(options)));
	if (baseline)
		appendStringInfoString(&buf, ", \"baseline\": true");
	appendStringInfoChar(&buf, '}');
	return buf.data;
}

/* Step 3: the upsert (after registry_check). */
static RegisterResult
registry_write(const PreparedMigration *pm)
{
	const MigrationInput *in = pm->in;
	Oid			types[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, JSONBOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[11];
	char		nulls[12] = "           ";
	RegisterResult result;

	values[0] = CStringGetTextDatum(pm->key);
	values[1] = CStringGetTextDatum(in->version);
	values[2] = CStringGetTextDatum(in->name);
	values[3] = CStringGetTextDatum(pm->up);
	values[4] = text_datum_or_null(pm->down);
	nulls[4] = pm->down ? ' ' : 'n';
	values[5] = CStringGetTextDatum(pm->checksum);
	values[6] = CStringGetTextDatum(pm->opts);
	values[7] = in->options ? JsonbPGetDatum(in->options) : (Datum) 0;
	nulls[7] = in->options ? ' ' : 'n';
	values[8] = CStringGetTextDatum(pm->registered_by);
	values[9] = CStringGetTextDatum(pm->run_as);
	values[10] = CStringGetTextDatum(pm->source);

	/*
	 * A registration that differs only in what it was registered from (one
	 * made before sources were recorded; a checksum change the scripts do
	 * not show, such as line ends) is brought up to date and counts as
	 * unchanged.
	 */
	owner_exec("UPDATE smig.migration m SET source = $11::jsonb"
			   " WHERE m.version_key = $1"
			   "  AND (m.version, m.name, m.up_sql, m.down_sql, m.checksum, m.options,"
			   "   m.registered_by, m.run_as)"
			   "   IS NOT DISTINCT FROM ($2, $3, $4, $5, $6,"
			   "   ($7::jsonb - '_') || (coalesce($8, '{}'::jsonb) - 'run_as'),"
			   "   $9::name, $10::name)"
			   "  AND m.source IS DISTINCT FROM $11::jsonb",
			   11, types, values, nulls, SPI_OK_UPDATE);
	if (SPI_processed > 0)
		return REGISTER_UNCHANGED;

	/*
	 * Who registered it and as whom it runs are part of what changed.  The
	 * stored options are ($7 - '_') || ($8 - 'run_as'): registry_compare()
	 * builds them the same way.
	 */
	owner_exec("INSERT INTO smig.migration AS m"
			   " (version_key, version, name, up_sql, down_sql, checksum, options,"
			   "  registered_by, run_as, source)"
			   " VALUES ($1, $2, $3, $4, $5, $6,"
			   "  ($7::jsonb - '_') || (coalesce($8, '{}'::jsonb) - 'run_as'),"
			   "  $9, $10, $11::jsonb)"
			   " ON CONFLICT (version_key) DO UPDATE"
			   " SET version = excluded.version, name = excluded.name,"
			   "  up_sql = excluded.up_sql, down_sql = excluded.down_sql,"
			   "  checksum = excluded.checksum, options = excluded.options,"
			   "  registered_by = excluded.registered_by, run_as = excluded.run_as,"
			   "  source = excluded.source, registered_at = now()"
			   " WHERE (m.version, m.name, m.up_sql, m.down_sql, m.checksum, m.options,"
			   "  m.registered_by, m.run_as)"
			   "  IS DISTINCT FROM (excluded.version, excluded.name, excluded.up_sql,"
			   "  excluded.down_sql, excluded.checksum, excluded.options,"
			   "  excluded.registered_by, excluded.run_as)"
			   " RETURNING m.xmax = 0,"
			   "  (SELECT a.checksum FROM smig.applied a"
			   "    WHERE a.version_key = m.version_key),"
			   "  (SELECT a.down_checksum <> m.down_checksum FROM smig.applied a"
			   "    WHERE a.version_key = m.version_key)",
			   11, types, values, nulls, SPI_OK_INSERT_RETURNING);

	if (SPI_processed == 0)
		return REGISTER_UNCHANGED;

	result = strcmp(spi_text(0, 1), "t") == 0 ? REGISTER_NEW : REGISTER_CHANGED;
	{
		char	   *applied_checksum = spi_text(0, 2);

		/* a run-on-change migration is applied again instead */
		if (applied_checksum && strcmp(applied_checksum, pm->checksum) != 0 &&
			!pm->run_on_change)
			ereport(WARNING,
					(errmsg("applied migration \"%s\" (\"%s\") is now modified",
							in->version, in->name),
					 errdetail("Its up script differs from the one that was applied."),
					 errhint("smig.upgrade_head() refuses to run until the original text is restored or SELECT smig.repair() accepts the change.")));
		if (spi_text(0, 3) != NULL && strcmp(spi_text(0, 3), "t") == 0)
			ereport(WARNING,
					(errmsg("applied migration \"%s\" (\"%s\") now has a modified down script",
							in->version, in->name),
					 errdetail("Its down script differs from the one registered when it was applied."),
					 errhint("smig.rollback() and smig.downgrade() refuse to revert it until the original down script is restored or SELECT smig.repair() accepts the change.")));
	}
	return result;
}

void
registry_prepare(const MigrationInput *in, PreparedMigration *pm)
{
	prepare_scripts(in, pm);
	prepare_row(pm);
}

RegisterResult
registry_upsert(const MigrationInput *in)
{
	PreparedMigration pm = {0};

	registry_prepare(in, &pm);
	registry_check(&pm);
	return in->repeatable ? repeatable_write(&pm) : registry_write(&pm);
}

const char *
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

/*---- bulk registration: load_dir and register_many --------------------------
 *
 * A start-up check registers every file each time, and almost always
 * finds nothing new.  So the cost is per file read and checksummed, not
 * per statement lexed: every migration is built as the registry would
 * store it (sections split, directives read, roles resolved, checksum),
 * one query compares them all with the registry, and only new or changed
 * ones are lexed (registry_check) and written.  "Unchanged" means the
 * same version, name, up script checksum, down script, options, author
 * and run-as role (registry_write also compares the up text, so a change
 * the checksum ignores, such as line ends, is no change here but is one
 * for smig.register).
 *
 * When synchronising, the registry then becomes what the files say: a
 * registration without a file is dropped -- a pending one with a NOTICE,
 * an applied one with a WARNING (it is then "missing").  Only a
 * registration the caller could have made is dropped: one whose run-as
 * role the caller is a member of.  Others' registrations are kept (a
 * NOTICE says so); the caller could not apply them anyway, since applying
 * needs the same membership.  Dropping takes the deploy lock first
 * (action_begin), so a registration being applied by a concurrent upgrade
 * cannot vanish under it, and it is refused from inside a migration.
 */

/* What a bulk call did to one version (smig.register_many's rows). */
typedef struct BulkOutcome
{
	char	   *version;
	char	   *name;
	const char *result;			/* new, changed, unregistered, missing */
	char	   *key;			/* version key of a "missing" row found by
								 * checksum_compare(), else NULL */
} BulkOutcome;

/* Error context: which file was being registered (its name escaped). */
static void
bulk_file_error_callback(void *arg)
{
	errcontext("migration file \"%s\"",
			   args_escape((const char *) arg, MAXPGPATH));
}

static void
push_file_context(ErrorContextCallback *cb, const char *file)
{
	cb->callback = bulk_file_error_callback;
	cb->arg = (void *) file;
	cb->previous = error_context_stack;
	if (file)
		error_context_stack = cb;
}

static void
pop_file_context(ErrorContextCallback *cb, const char *file)
{
	if (file)
		error_context_stack = cb->previous;
}

/* A one-dimensional array of n Datums of type typid (text or jsonb). */
static Datum
varlena_array(Datum *values, bool *nulls, int n, Oid typid)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	if (n == 0)
		return PointerGetDatum(construct_empty_array(typid));
	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs,
											  typid, -1, false, TYPALIGN_INT));
}

/*
 * The one query: every one of the n prepared versioned migrations that is
 * new or differs from its registry row (item: its index in pms), and (when
 * sync) every registry row without one (item -1), in version order.
 */
static RegistryDiff *
registry_compare(PreparedMigration **pms, const bool *keep, int n, bool sync,
				 int *nrows)
{
	Oid			types[12] = {TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID,
		TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, JSONBARRAYOID,
	TEXTARRAYOID, TEXTOID, BOOLOID, TEXTARRAYOID, BOOLARRAYOID};
	Datum		values[12];
	Datum	   *col[9];
	bool	   *colnull[9];
	Datum	   *keeps = palloc0(Max(n, 1) * sizeof(Datum));
	RegistryDiff *rows;
	int			c;
	int			i;
	uint64		r;

	for (c = 0; c < 9; c++)
	{
		col[c] = palloc0(Max(n, 1) * sizeof(Datum));
		colnull[c] = palloc0(Max(n, 1) * sizeof(bool));
	}
	for (i = 0; i < n; i++)
	{
		PreparedMigration *pm = pms[i];

		keeps[i] = BoolGetDatum(keep[i]);
		col[0][i] = CStringGetTextDatum(pm->key);
		col[1][i] = CStringGetTextDatum(pm->in->version);
		col[2][i] = CStringGetTextDatum(pm->in->name);
		if (keep[i])
		{
			/* a checksum-only element found unchanged: only not dropped */
			for (c = 3; c < 9; c++)
				colnull[c][i] = true;
			continue;
		}
		col[3][i] = CStringGetTextDatum(pm->checksum);
		colnull[4][i] = pm->down == NULL;
		col[4][i] = text_datum_or_null(pm->down);
		colnull[5][i] = pm->opts_final == NULL;
		col[5][i] = text_datum_or_null(pm->opts_final);
		colnull[6][i] = pm->in->options == NULL;
		col[6][i] = pm->in->options ? JsonbPGetDatum(pm->in->options) : (Datum) 0;
		col[7][i] = CStringGetTextDatum(pm->run_as);
		col[8][i] = CStringGetTextDatum(pm->source);
	}
	for (c = 0; c < 8; c++)
		values[c] = varlena_array(col[c], colnull[c], n,
								  c == 6 ? JSONBOID : TEXTOID);
	values[8] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[9] = BoolGetDatum(sync);
	values[10] = varlena_array(col[8], colnull[8], n, TEXTOID);
	values[11] = n == 0 ? PointerGetDatum(construct_empty_array(BOOLOID))
		: PointerGetDatum(construct_array(keeps, n, BOOLOID, 1, true,
										  TYPALIGN_CHAR));

	/*
	 * Unchanged means: the same version, name, checksum (of the up script,
	 * so a change the checksum ignores, such as line ends, is no change),
	 * down script, options, author and run-as role.  The stored options
	 * are (directives - '_') || (explicit - 'run_as'), as registry_write
	 * stores them.  A registration whose source was never recorded (made
	 * by an older smig) is returned too: registry_write records it, and it
	 * stays unchanged.  An element to keep is never returned, and keeps its
	 * registration.
	 */
	owner_exec("SELECT f.i, m.version_key, m.version, m.name, m.run_as"
			   " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
			   "   $6::text[], $7::jsonb[], $8::text[], $11::text[], $12::bool[])"
			   "  WITH ORDINALITY AS f(key, version, name, checksum, down_sql,"
			   "   opts, xopts, run_as, source, keep, i)"
			   " FULL JOIN smig.migration m ON m.version_key = f.key COLLATE \"C\""
			   " WHERE CASE WHEN f.i IS NULL THEN $10"
			   "  WHEN f.keep THEN false"
			   "  WHEN m.version_key IS NULL THEN true"
			   "  ELSE m.source IS NULL OR (m.version, m.name, m.checksum, m.down_sql, m.options,"
			   "   m.registered_by, m.run_as)"
			   "   IS DISTINCT FROM (f.version, f.name, f.checksum, f.down_sql,"
			   "   CASE WHEN f.xopts IS NULL THEN coalesce(f.opts::jsonb, '{}'::jsonb)"
			   "    ELSE coalesce(f.opts::jsonb, '{}'::jsonb) || (f.xopts - 'run_as') END,"
			   "   $9::name, f.run_as::name) END"
			   " ORDER BY coalesce(f.key COLLATE \"C\", m.version_key)",
			   12, types, values, NULL, SPI_OK_SELECT);

	rows = palloc0(Max(SPI_processed, 1) * sizeof(RegistryDiff));
	for (r = 0; r < SPI_processed; r++)
	{
		char	   *idx = spi_text(r, 1);

		rows[r].item = idx ? (int) strtol(idx, NULL, 10) - 1 : -1;
		rows[r].key = spi_text(r, 2);
		rows[r].version = spi_text(r, 3);
		rows[r].name = spi_text(r, 4);
		rows[r].run_as = spi_text(r, 5);
	}
	*nrows = (int) SPI_processed;
	return rows;
}

/*
 * May the caller drop this registration?  Only if it could have made it:
 * it is a member of the run-as role (superusers are members of every
 * role).  A 0.1 registration (no run-as role) or one whose role is gone
 * only a superuser may drop.
 */
static bool
may_drop_registration(const RegistryDiff *row)
{
	Oid			roleid;

	if (row->run_as == NULL)
		return superuser();
	roleid = get_role_oid(row->run_as, true);
	if (!OidIsValid(roleid))
		return superuser();
	return is_member_of_role(GetUserId(), roleid);
}

/*
 * Drop the registration of a versioned migration whose file is gone.
 * *applied says whether it was applied (it is then "missing"); false if
 * there was none to drop.
 */
static bool
drop_versioned(const RegistryDiff *row, bool *applied)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(row->key);
	owner_exec("DELETE FROM smig.migration m WHERE m.version_key = $1"
			   " RETURNING EXISTS (SELECT FROM smig.applied a"
			   "   WHERE a.version_key = m.version_key)",
			   1, types, values, NULL, SPI_OK_DELETE_RETURNING);
	if (SPI_processed == 0)
		return false;
	*applied = strcmp(spi_text(0, 1), "t") == 0;
	if (*applied)
		ereport(WARNING,
				(errmsg("applied migration \"%s\" (\"%s\") is now missing",
						row->version, row->name),
				 errdetail("Its file is gone, so it is no longer registered."),
				 errhint("Restore the file, or undo its changes with a new migration.")));
	else
		ereport(NOTICE,
				(errmsg("unregistered migration \"%s\" (\"%s\")",
						row->version, row->name),
				 errdetail("Its file is gone.")));
	return true;
}

/*
 * Drop one registration whose file is gone; false if it was kept.  A
 * repeatable migration is dropped with a NOTICE, applied or not: what it
 * made stays, and so does its history, but it no longer runs.
 */
static bool
drop_registration(const RegistryDiff *row, List **outcomes)
{
	bool		applied = false;
	BulkOutcome *o;

	if (!may_drop_registration(row))
	{
		ereport(NOTICE,
				(errmsg("kept migration \"%s\" (\"%s\") of role \"%s\"",
						row->version, row->name,
						row->run_as ? row->run_as : "?"),
				 errdetail("Its file is gone, but role \"%s\" is not a member of the role it runs as.",
						   GetUserNameFromId(GetUserId(), false)),
				 errhint("A member of role \"%s\" can take it back with smig.unregister().",
						 row->run_as ? row->run_as : "?")));
		return false;
	}

	if (row->repeatable)
	{
		if (!repeatable_delete(row->name))
			return false;
		ereport(NOTICE,
				(errmsg("unregistered repeatable migration \"%s\"", row->name),
				 errdetail("Its file is gone. The objects it made and its history stay.")));
	}
	else if (!drop_versioned(row, &applied))
		return false;

	o = palloc0(sizeof(BulkOutcome));
	o->version = row->version;
	o->name = row->name;
	o->result = applied ? "missing" : "unregistered";
	*outcomes = lappend(*outcomes, o);
	return true;
}

/* Lex what a comparison found new or changed (rows of pms). */
static void
check_diff(RegistryDiff *rows, int nrows, PreparedMigration **pms,
		   const char **files)
{
	int			i;

	for (i = 0; i < nrows; i++)
	{
		ErrorContextCallback cb;

		if (rows[i].item < 0)
			continue;
		push_file_context(&cb, files[rows[i].item]);
		registry_check(pms[rows[i].item]);
		pop_file_context(&cb, files[rows[i].item]);
	}
}

/*
 * Write and drop what a comparison found (after check_diff); returns how
 * many registrations changed.
 */
static int
write_diff(RegistryDiff *rows, int nrows, PreparedMigration **pms,
		   const char **files, List **outcomes)
{
	int			changed = 0;
	int			i;

	for (i = 0; i < nrows; i++)
	{
		PreparedMigration *pm;
		const char *file;
		ErrorContextCallback cb;
		RegisterResult r;
		BulkOutcome *o;

		if (rows[i].item < 0)
		{
			if (drop_registration(&rows[i], outcomes))
				changed++;
			continue;
		}
		pm = pms[rows[i].item];
		file = files[rows[i].item];
		push_file_context(&cb, file);
		r = pm->in->repeatable ? repeatable_write(pm) : registry_write(pm);
		pop_file_context(&cb, file);
		if (r == REGISTER_UNCHANGED)
			continue;
		changed++;
		o = palloc0(sizeof(BulkOutcome));
		o->version = pstrdup(pm->in->version);
		o->name = pstrdup(pm->in->name);
		o->result = register_result_name(r);
		*outcomes = lappend(*outcomes, o);
	}
	return changed;
}

/* Column col of row of tuptable t, as a Datum (*isnull set). */
static Datum
tuptable_datum(SPITupleTable *t, uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(t->vals[row], t->tupdesc, col, isnull);
}

/* Does text datum d hold s?  (No output function, no syscache.) */
static bool
text_datum_is(Datum d, const char *s)
{
	text	   *t = DatumGetTextPP(d);
	size_t		len = VARSIZE_ANY_EXHDR(t);

	return len == strlen(s) && memcmp(VARDATA_ANY(t), s, len) == 0;
}

/* Is string member key of object c the string s? */
static bool
jsonb_member_is(JsonbContainer *c, const char *key, const char *s)
{
	JsonbValue	buf;
	JsonbValue *v = getKeyJsonValueFromContainer(c, key, strlen(key), &buf);

	return v != NULL && v->type == jbvString &&
		v->val.string.len == (int) strlen(s) &&
		memcmp(v->val.string.val, s, v->val.string.len) == 0;
}

/*
 * Is a registration's source (smig.migration.source) what checksum-only item
 * it describes: jsonb-equal to registry_source(it's checksums, options,
 * false)?  That object has "checksum", "down_checksum" when there is one,
 * "options" when there are some, and nothing else.  Anything unexpected
 * counts as different (the item is then only asked for its text).
 */
static bool
source_matches(Jsonb *src, const BulkItem *it)
{
	JsonbContainer *c = &src->root;
	uint32		expect = 1 + (it->down_checksum != NULL) + (it->in.options != NULL);

	if (!JsonContainerIsObject(c) || JsonContainerSize(c) != expect)
		return false;
	if (!jsonb_member_is(c, "checksum", it->up_checksum))
		return false;
	if (it->down_checksum && !jsonb_member_is(c, "down_checksum", it->down_checksum))
		return false;
	if (it->in.options)
	{
		JsonbValue	buf;
		JsonbValue *v = getKeyJsonValueFromContainer(c, "options", strlen("options"), &buf);

		if (v == NULL || v->type != jbvBinary ||
			JB_ROOT_IS_SCALAR(it->in.options) ||
			compareJsonbContainers(v->val.binary.data, &it->in.options->root) != 0)
			return false;
	}
	return true;
}

/* qsort_arg: checksum-only items (indexes into items) by version key */
static int
item_key_cmp(const void *a, const void *b, void *arg)
{
	BulkItem   *items = arg;

	return strcmp(items[*(const int *) a].pm.key, items[*(const int *) b].pm.key);
}

/*
 * The checksum-only elements of a bulk call (register_many's {"version",
 * "name", "checksum"}): those whose registration is missing or was made
 * from something else -- another source (checksums of the texts, explicit
 * options), version spelling, name or registrant -- each get a "needed"
 * outcome, in the order of the items; returns how many.  *settled is set
 * when every item is checksum-only and unchanged and, for a synchronising
 * call, no registration (versioned or repeatable) lacks an item -- the
 * call has nothing to compare, write or drop.  With missing non-NULL,
 * *missing gets the applied migrations without a registration (status()
 * calls them "missing"), in version order.
 *
 * This is the whole of an unchanged start-up sent as checksums, so it is
 * done by merging in C rather than by joining in SQL: the registrations
 * and the applied versions are read in version key order (COLLATE "C", as
 * strcmp() orders the items' keys), and compared as the join compared
 * them: version, name and registrant as text, the source as jsonb.
 */
static int
checksum_compare(BulkItem *items, int n, bool sync, List **outcomes,
				 bool *settled, List **missing)
{
	int		   *index = palloc(Max(n, 1) * sizeof(int));
	bool	   *need = palloc0(Max(n, 1) * sizeof(bool));
	char	  **regkeys;
	const char *registrant = GetUserNameFromId(GetUserId(), false);
	SPITupleTable *regs;
	uint64		nregs;
	uint64		r;
	uint64		a;
	int			nc = 0;
	int			needed = 0;
	int			i;

	*settled = false;
	if (missing)
		*missing = NIL;
	for (i = 0; i < n; i++)
		if (items[i].checksum_only)
			index[nc++] = i;
	if (nc == 0 && missing == NULL)
		return 0;
	qsort_arg(index, nc, sizeof(int), item_key_cmp, items);

	owner_exec("SELECT m.version_key, m.version, m.name, m.source, m.registered_by"
			   " FROM smig.migration m ORDER BY m.version_key",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	regs = SPI_tuptable;
	nregs = SPI_processed;
	regkeys = palloc(Max(nregs, 1) * sizeof(char *));
	for (r = 0; r < nregs; r++)
	{
		bool		isnull;

		regkeys[r] = TextDatumGetCString(tuptable_datum(regs, r, 1, &isnull));
	}

	/* merge: the items by key against the registrations by key */
	r = 0;
	for (i = 0; i < nc; i++)
	{
		BulkItem   *it = &items[index[i]];
		int			c = 1;
		bool		isnull;
		Datum		d;
		bool		same;

		while (r < nregs && (c = strcmp(regkeys[r], it->pm.key)) < 0)
			r++;
		if (r >= nregs || c != 0)
		{
			need[index[i]] = true;	/* not registered */
			continue;
		}
		/* as (version, name, source, registered_by) IS NOT DISTINCT FROM */
		same = text_datum_is(tuptable_datum(regs, r, 2, &isnull), it->in.version) &&
			text_datum_is(tuptable_datum(regs, r, 3, &isnull), it->in.name);
		if (same)
		{
			d = tuptable_datum(regs, r, 5, &isnull);
			same = !isnull && strcmp(NameStr(*DatumGetName(d)), registrant) == 0;
		}
		if (same)
		{
			d = tuptable_datum(regs, r, 4, &isnull);
			same = !isnull && source_matches(DatumGetJsonbP(d), it);
		}
		need[index[i]] = !same;
	}
	for (i = 0; i < n; i++)
	{
		BulkOutcome *o;

		if (!need[i])
			continue;
		o = palloc0(sizeof(BulkOutcome));
		o->version = pstrdup(items[i].in.version);
		o->name = pstrdup(items[i].in.name);
		o->result = "needed";
		*outcomes = lappend(*outcomes, o);
		needed++;
	}
	if (needed > 0)
		return needed;

	/* the items' keys are distinct: as many registrations means none lacks one */
	if (nc == n && nc > 0 && (!sync || (int64) nregs == nc))
	{
		if (!sync)
			*settled = true;
		else
		{
			owner_exec("SELECT pg_catalog.count(*) = 0 FROM smig.repeatable",
					   0, NULL, NULL, NULL, SPI_OK_SELECT);
			*settled = strcmp(spi_text(0, 1), "t") == 0;
		}
	}

	/* applied, not baselined without SQL, and not registered */
	if (missing)
	{
		owner_exec("SELECT a.version_key, a.version, a.name FROM smig.applied a"
				   " WHERE a.checksum IS NOT NULL ORDER BY a.version_key",
				   0, NULL, NULL, NULL, SPI_OK_SELECT);
		r = 0;
		for (a = 0; a < SPI_processed; a++)
		{
			bool		isnull;
			char	   *key = TextDatumGetCString(tuptable_datum(SPI_tuptable, a, 1, &isnull));
			int			c = 1;
			BulkOutcome *o;

			while (r < nregs && (c = strcmp(regkeys[r], key)) < 0)
				r++;
			if (r < nregs && c == 0)
				continue;
			o = palloc0(sizeof(BulkOutcome));
			o->version = spi_text(a, 2);
			o->name = spi_text(a, 3);
			o->result = "missing";
			o->key = key;
			*missing = lappend(*missing, o);
		}
	}
	return 0;
}

/* qsort/bsearch of version keys */
static int
key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * The rows of missing (checksum_compare()'s, found before anything was written)
 * that stay missing: those no item registers again.
 */
static List *
still_missing(List *missing, BulkItem *items, int n)
{
	const char **keys;
	int			nk = 0;
	int			i;
	List	   *result = NIL;
	ListCell   *lc;

	if (missing == NIL)
		return NIL;
	keys = palloc(Max(n, 1) * sizeof(char *));
	for (i = 0; i < n; i++)
		if (!items[i].in.repeatable)
			keys[nk++] = items[i].pm.key;
	qsort(keys, nk, sizeof(char *), key_cmp);
	foreach(lc, missing)
	{
		BulkOutcome *o = lfirst(lc);

		if (bsearch(&o->key, keys, nk, sizeof(char *), key_cmp) == NULL)
			result = lappend(result, o);
	}
	return result;
}

int
registry_sync(BulkItem *items, int n, bool sync, bool report_missing,
			  List **outcomes)
{
	PreparedMigration **versioned = palloc(Max(n, 1) * sizeof(PreparedMigration *));
	PreparedMigration **repeatable = palloc(Max(n, 1) * sizeof(PreparedMigration *));
	bool	   *vkeep = palloc0(Max(n, 1) * sizeof(bool));
	const char **vfiles = palloc(Max(n, 1) * sizeof(char *));
	const char **rfiles = palloc(Max(n, 1) * sizeof(char *));
	int			nv = 0;
	int			nr = 0;
	RegistryDiff *vrows;
	RegistryDiff *rrows;
	int			nvrows;
	int			nrrows;
	int			changed;
	int			i;
	const char *registrant = GetUserNameFromId(GetUserId(), false);
	bool		settled;
	List	   *missing = NIL;

	*outcomes = NIL;
	if (checksum_compare(items, n, sync, outcomes, &settled,
						 sync && report_missing ? &missing : NULL) > 0)
		return 0;
	missing = still_missing(missing, items, n);
	if (settled)
	{
		*outcomes = missing;
		return 0;
	}
	for (i = 0; i < n; i++)
	{
		ErrorContextCallback cb;

		if (items[i].checksum_only)
		{
			items[i].pm.in = &items[i].in;
			vfiles[nv] = items[i].file;
			vkeep[nv] = true;
			versioned[nv++] = &items[i].pm;
			continue;
		}
		items[i].pm.registered_by = registrant;
		push_file_context(&cb, items[i].file);
		registry_prepare(&items[i].in, &items[i].pm);
		pop_file_context(&cb, items[i].file);
		if (items[i].in.repeatable)
		{
			rfiles[nr] = items[i].file;
			repeatable[nr++] = &items[i].pm;
		}
		else
		{
			vfiles[nv] = items[i].file;
			versioned[nv++] = &items[i].pm;
		}
	}

	vrows = registry_compare(versioned, vkeep, nv, sync, &nvrows);
	rrows = repeatable_compare(repeatable, nr, sync, &nrrows);

	/*
	 * Lex everything new or changed before writing anything, so that a
	 * refused file leaves no NOTICE about drops that did not happen.
	 */
	check_diff(vrows, nvrows, versioned, vfiles);
	check_diff(rrows, nrrows, repeatable, rfiles);
	changed = write_diff(vrows, nvrows, versioned, vfiles, outcomes);
	changed += write_diff(rrows, nrrows, repeatable, rfiles, outcomes);
	if (changed > 0)
		summary_registry_changed();
	*outcomes = list_concat(*outcomes, missing);
	return changed;
}

/*---- register_many ----------------------------------------------------------*/

/* A JSON string member as a C string; NULL when absent or null. */
static char *
json_string_member(JsonbValue *v, const char *key, int elem, bool required)
{
	if (v == NULL || v->type == jbvNull)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("element %d of migrations has no \"%s\"", elem, key),
					 errhint("Each element is an object with \"version\", \"name\" and \"up_sql\", and optionally \"down_sql\" and \"options\".")));
		return NULL;
	}
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"%s\" of element %d of migrations must be a JSON string",
						key, elem)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

/* A checksum member: 64 lowercase hex digits, as smig.checksum() gives. */
static char *
checksum_member(JsonbValue *v, const char *key, int elem)
{
	char	   *c = json_string_member(v, key, elem, false);
	int			i;

	for (i = 0; c != NULL && c[i] != '\0'; i++)
		if (!((c[i] >= '0' && c[i] <= '9') || (c[i] >= 'a' && c[i] <= 'f')))
			break;
	if (c != NULL && (i != 64 || c[i] != '\0'))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid \"%s\" in element %d of migrations: \"%s\"",
						key, elem, args_escape(c, 80)),
				 errdetail("A checksum is the SHA-256 of the text as smig.checksum() computes it: 64 lowercase hexadecimal digits."),
				 errhint("Compute it with smig.checksum(), or send the text as \"up_sql\" or \"down_sql\".")));
	return c;
}

/*
 * A checksum-only element: version, name and the checksums of the texts
 * (and explicit options), without the texts.  registry_sync() answers
 * "needed" for it unless the registry holds a registration made from the
 * same source by the caller.
 */
static void
checksum_only_from_json(JsonbValue **members, int elem, BulkItem *it)
{
	char	   *up;
	char	   *down;

	if (it->in.repeatable)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of migrations is a repeatable migration with a \"checksum\"", elem),
				 errdetail("Only versioned migrations can be checked by checksum; a repeatable migration is sent with its text."),
				 errhint("Send \"up_sql\" for repeatable migrations.")));
	if ((members[2] != NULL && members[2]->type != jbvNull) ||
		(members[3] != NULL && members[3]->type != jbvNull))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of migrations has both a text and a \"checksum\"", elem),
				 errdetail("An element either carries the texts (\"up_sql\", \"down_sql\") or their checksums (\"checksum\", \"down_checksum\")."),
				 errhint("Leave out \"checksum\" and \"down_checksum\" when sending the texts.")));
	it->checksum_only = true;
	up = checksum_member(members[6], "checksum", elem);
	down = checksum_member(members[7], "down_checksum", elem);
	/* compared member by member (source_matches()), never written */
	it->pm.source = NULL;
	it->up_checksum = up;
	it->down_checksum = down;
}

/* Element elem (1-based) of the migrations array, an object, as an item. */
static void
bulk_item_from_json(JsonbValue *obj, int elem, BulkItem *it)
{
	JsonbIterator *jit;
	JsonbValue	v;
	JsonbIteratorToken tok;
	JsonbValue *members[8] = {0};
	static const char *const keys[8] = {"version", "name", "up_sql", "down_sql",
	"options", "repeatable", "checksum", "down_checksum"};
	char	   *key = NULL;

	if (obj->type != jbvBinary || !JsonContainerIsObject(obj->val.binary.data))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of migrations must be a JSON object", elem)));

	jit = JsonbIteratorInit(obj->val.binary.data);
	while ((tok = JsonbIteratorNext(&jit, &v, true)) != WJB_DONE)
	{
		int			k;

		if (tok == WJB_KEY)
		{
			key = pnstrdup(v.val.string.val, v.val.string.len);
			continue;
		}
		if (tok != WJB_VALUE)
			continue;
		for (k = 0; k < 8; k++)
			if (strcmp(key, keys[k]) == 0)
				break;
		if (k == 8)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized key \"%s\" in element %d of migrations",
							key, elem),
					 errhint("Known keys are \"version\", \"name\", \"up_sql\", \"down_sql\", \"checksum\", \"down_checksum\", \"options\" and \"repeatable\".")));
		members[k] = palloc(sizeof(JsonbValue));
		*members[k] = v;
	}

	it->file = NULL;
	if (members[5] != NULL && members[5]->type != jbvNull &&
		members[5]->type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("\"repeatable\" of element %d of migrations must be a JSON boolean",
						elem)));
	it->in.repeatable = members[5] != NULL && members[5]->type == jbvBool &&
		members[5]->val.boolean;
	it->in.name = json_string_member(members[1], "name", elem, true);
	if (it->in.repeatable)
	{
		/* a repeatable migration is named by its label where versions go */
		if (members[0] != NULL && members[0]->type != jbvNull)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d of migrations is a repeatable migration with a version", elem),
					 errdetail("A repeatable migration (R__<name>.sql) has a name and no version."),
					 errhint("Leave out \"version\", or \"repeatable\".")));
		it->in.version = repeatable_label(it->in.name);
	}
	else
		it->in.version = json_string_member(members[0], "version", elem, true);
	it->in.options = NULL;
	if (members[4] != NULL && members[4]->type != jbvNull)
		it->in.options = JsonbValueToJsonb(members[4]);
	if (members[6] != NULL && members[6]->type != jbvNull)
	{
		checksum_only_from_json(members, elem, it);
		return;
	}
	if (members[7] != NULL && members[7]->type != jbvNull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("element %d of migrations has a \"down_checksum\" but no \"checksum\"", elem),
				 errdetail("An element either carries the texts (\"up_sql\", \"down_sql\") or their checksums (\"checksum\", \"down_checksum\")."),
				 errhint("Send \"down_sql\" with \"up_sql\", or \"down_checksum\" with \"checksum\".")));
	it->in.up_sql = json_string_member(members[2], "up_sql", elem, true);
	it->in.down_sql = json_string_member(members[3], "down_sql", elem, false);
}

/*
 * Order items for the duplicate check: by version key, and repeatable
 * migrations (whose key is NULL until prepared) after them, by name.
 */
static int
bulk_item_cmp(const void *a, const void *b)
{
	const BulkItem *x = *(const BulkItem *const *) a;
	const BulkItem *y = *(const BulkItem *const *) b;

	if (x->in.repeatable != y->in.repeatable)
		return x->in.repeatable ? 1 : -1;
	if (x->in.repeatable)
		return strcmp(x->in.name, y->in.name);
	return strcmp(x->pm.key, y->pm.key);
}

/*
 * smig.register_many(migrations jsonb, sync boolean DEFAULT true)
 *   returns table (version text, name text, result text)
 *
 * The bulk path for clients that send the files themselves: one call
 * registers a whole directory's worth as current_user, with register()'s
 * validation and run-as rules, lexing only what is new or changed; with
 * sync, registrations that are not in the list are dropped as load_dir()
 * drops them.  One row per registration that changed: new, changed,
 * unregistered (pending, dropped) or missing (applied, dropped); with
 * sync, then one "missing" row per applied migration that was already
 * without a registration and is not in the list; an unchanged start-up
 * returns no other rows.
 */
Datum
smig_register_many(PG_FUNCTION_ARGS)
{
	Jsonb	   *arr;
	bool		sync;
	JsonbIterator *jit;
	JsonbValue	v;
	JsonbIteratorToken tok;
	BulkItem   *items;
	BulkItem  **sorted;
	int			n;
	int			i;
	List	   *outcomes;
	ListCell   *lc;
	ReturnSetInfo *rsinfo;

	args_require(fcinfo, 0, "migrations");
	args_require(fcinfo, 1, "sync");
	arr = PG_GETARG_JSONB_P(0);
	sync = PG_GETARG_BOOL(1);
	if (!JB_ROOT_IS_ARRAY(arr) || JB_ROOT_IS_SCALAR(arr))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("migrations must be a JSON array"),
				 errhint("Pass an array of objects with \"version\", \"name\", \"up_sql\", and optionally \"down_sql\" and \"options\".")));
	if (sync)
		action_begin("register migrations");
	else
		action_check_writable("register migrations");

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	n = JB_ROOT_COUNT(arr);
	items = palloc0(Max(n, 1) * sizeof(BulkItem));
	i = 0;
	jit = JsonbIteratorInit(&arr->root);
	while ((tok = JsonbIteratorNext(&jit, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		bulk_item_from_json(&v, i + 1, &items[i]);
		i++;
	}
	n = i;

	SPI_connect();
	/* versions must be distinct: "1" and "001" are one migration */
	for (i = 0; i < n; i++)
		if (!items[i].in.repeatable)
			items[i].pm.key = version_key_or_error(items[i].in.version);
	sorted = palloc(Max(n, 1) * sizeof(BulkItem *));
	for (i = 0; i < n; i++)
		sorted[i] = &items[i];
	qsort(sorted, n, sizeof(BulkItem *), bulk_item_cmp);
	for (i = 1; i < n; i++)
	{
		if (bulk_item_cmp(&sorted[i - 1], &sorted[i]) != 0)
			continue;
		if (sorted[i]->in.repeatable)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("repeatable migration \"%s\" is given twice",
							sorted[i]->in.name),
					 errhint("Give one of them another name.")));
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("migration version \"%s\" is given twice: as \"%s\" and as \"%s\"",
						sorted[i]->in.version, sorted[i - 1]->in.version,
						sorted[i]->in.version),
				 errhint("Give one of them another version.")));
	}

	registry_sync(items, n, sync, true, &outcomes);

	/* before SPI_finish, which frees the outcomes with SPI's memory */
	foreach(lc, outcomes)
	{
		BulkOutcome *o = lfirst(lc);
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(o->version);
		values[1] = CStringGetTextDatum(o->name);
		values[2] = CStringGetTextDatum(o->result);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	SPI_finish();
	return (Datum) 0;
}

/*---- unregister -------------------------------------------------------------*/

/*
 * smig.unregister(version text) returns void
 *
 * Take back a registered migration that is not applied (pending, out of
 * order, or below a baseline), so that one bad registration does not
 * block every upgrade.  An applied migration stays: its row is what
 * status and verify compare the database against.  A repeatable
 * migration ("R__<name>") is taken back applied or not, as load_dir()
 * drops one whose file is gone (repeatable.c).
 */
Datum
smig_unregister(PG_FUNCTION_ARGS)
{
	char	   *version;
	char	   *key;
	char	   *name;
	char	   *state;
	RegistryDiff row = {0};
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	args_require(fcinfo, 0, "version");
	action_begin("unregister migrations");
	version = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (repeatable_is_label(version))
	{
		repeatable_unregister(version);
		PG_RETURN_VOID();
	}
	key = version_key_or_error(version);
	values[0] = CStringGetTextDatum(key);

	SPI_connect();
	owner_exec("SELECT m.version, m.name, s.state, m.run_as FROM smig.migration m"
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
	/* as synchronising: only a registration the caller could have made */
	row.run_as = spi_text(0, 4);
	if (!may_drop_registration(&row))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to unregister migration \"%s\" (\"%s\")",
						version, name),
				 row.run_as && OidIsValid(get_role_oid(row.run_as, true))
				 ? errdetail("It runs as role \"%s\", and role \"%s\" is not a member of it.",
							 row.run_as, GetUserNameFromId(GetUserId(), false))
				 : errdetail("It records no existing role to run as; only a superuser may unregister it.")));
	if (strcmp(state, "applied") == 0 || strcmp(state, "modified") == 0 ||
		strcmp(state, "down-modified") == 0 ||
		strcmp(state, "outdated") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot unregister applied migration \"%s\" (\"%s\")",
						version, name),
				 errdetail("Only a migration that is not applied can be taken back."),
				 errhint("Revert it first with smig.rollback() or smig.downgrade(), or undo its changes with a new migration.")));

	/*
	 * not applied now, and not applied by a transaction that committed
	 * since (a baseline set at its very version, with no SQL and so no
	 * checksum, does not apply it)
	 */
	owner_exec("DELETE FROM smig.migration m WHERE m.version_key = $1"
			   " AND NOT EXISTS (SELECT FROM smig.applied a"
			   "   WHERE a.version_key = m.version_key AND a.checksum IS NOT NULL)",
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
