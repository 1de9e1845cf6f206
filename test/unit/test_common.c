/*-------------------------------------------------------------------------
 * test_common.c
 *	  Unit tests of the plain-C modules shared by the extension and the
 *	  client: the SQL lexer, versions and migration file names.
 *	  Prints "ok N - ..." / "not ok N - ..." and ends with
 *	  "N passed, N failed".
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migfile.h"
#include "sqllex.h"
#include "version.h"

static int	npassed;
static int	nfailed;

static void
check(int ok, const char *what, const char *got, const char *want)
{
	int			n = npassed + nfailed + 1;

	if (ok)
	{
		npassed++;
		printf("ok %d - %s\n", n, what);
	}
	else
	{
		nfailed++;
		printf("not ok %d - %s\n#   got:  %s\n#   want: %s\n", n, what,
			   got ? got : "(null)", want ? want : "(null)");
	}
}

static void
check_str(const char *what, const char *got, const char *want)
{
	check(strcmp(got, want) == 0, what, got, want);
}

/*---- lexer -----------------------------------------------------------------*/

static const char *kind_letter = "PBCTM";	/* plain, begin, commit, txn, meta */

/*
 * Lex sql and describe the result as "K@line:text|K@line:text..." (K is a
 * kind letter), or "ERR@line:message".
 */
static char *
lex(const char *sql)
{
	static char out[8192];
	SqlLexer	lx;
	SqlStmt		st;
	SqlLexStatus rc;
	size_t		n = 0;

	out[0] = '\0';
	sqllex_init(&lx, sql, strlen(sql));
	while ((rc = sqllex_next(&lx, &st)) == SQLLEX_OK)
		n += snprintf(out + n, sizeof(out) - n, "%s%c@%d:%.*s", n ? "|" : "",
					  kind_letter[st.kind], st.line,
					  (int) (st.end - st.start), sql + st.start);
	if (rc == SQLLEX_ERROR)
		snprintf(out + n, sizeof(out) - n, "%sERR@%d:%s", n ? "|" : "",
				 lx.error_line, lx.error);
	return out;
}

static void
test_lexer(void)
{
	check_str("empty script", lex(""), "");
	check_str("blank and comments only", lex("  -- x\n/* y */\n;;\n"), "");
	check_str("two statements", lex("SELECT 1;\nSELECT 2;"), "P@1:SELECT 1|P@2:SELECT 2");
	check_str("last statement without semicolon", lex("SELECT 1;\nSELECT 2\n\n"),
			  "P@1:SELECT 1|P@2:SELECT 2");
	check_str("line comment with semicolon", lex("SELECT 1 -- a; b\n;"), "P@1:SELECT 1");
	check_str("nested block comment", lex("/* a /* b; */ c; */ SELECT 1;"), "P@1:SELECT 1");
	check_str("comment inside a statement stays", lex("SELECT /* ; */ 1;"), "P@1:SELECT /* ; */ 1");
	check_str("string with doubled quote", lex("SELECT 'a;''b';SELECT 2;"),
			  "P@1:SELECT 'a;''b'|P@1:SELECT 2");
	check_str("backslash is literal in standard strings", lex("SELECT 'a\\';SELECT 2;"),
			  "P@1:SELECT 'a\\'|P@1:SELECT 2");
	check_str("E string escapes", lex("SELECT E'a\\';b';SELECT 2;"),
			  "P@1:SELECT E'a\\';b'|P@1:SELECT 2");
	check_str("quoted identifier", lex("CREATE TABLE \"a;b\"\"c\" ();"),
			  "P@1:CREATE TABLE \"a;b\"\"c\" ()");
	check_str("U& string", lex("SELECT U&'d;\\0061';"), "P@1:SELECT U&'d;\\0061'");
	check_str("dollar quote", lex("DO $$ BEGIN; END $$;SELECT 1;"),
			  "P@1:DO $$ BEGIN; END $$|P@1:SELECT 1");
	check_str("tagged dollar quote with inner quotes",
			  lex("CREATE FUNCTION f() RETURNS text AS $fn$ SELECT ';' || $x$;$x$ -- ;\n $fn$ LANGUAGE sql;"),
			  "P@1:CREATE FUNCTION f() RETURNS text AS $fn$ SELECT ';' || $x$;$x$ -- ;\n $fn$ LANGUAGE sql");
	check_str("positional parameter", lex("PREPARE q AS SELECT $1;SELECT 2;"),
			  "P@1:PREPARE q AS SELECT $1|P@1:SELECT 2");
	check_str("dollar inside identifier", lex("SELECT a$b, c$1$ FROM t;"),
			  "P@1:SELECT a$b, c$1$ FROM t");
	check_str("parentheses hold semicolons", lex("SELECT (1;2);"), "P@1:SELECT (1;2)");
	check_str("BEGIN ATOMIC body",
			  lex("CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT a;\n SELECT CASE WHEN a > 0 THEN 1 END;\nEND;\nSELECT 2;"),
			  "P@1:CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n SELECT a;\n SELECT CASE WHEN a > 0 THEN 1 END;\nEND|P@6:SELECT 2");
	check_str("CASE outside functions does not nest",
			  lex("SELECT CASE WHEN true THEN 1 END;SELECT 2;"),
			  "P@1:SELECT CASE WHEN true THEN 1 END|P@1:SELECT 2");
	check_str("outer BEGIN/COMMIT", lex("BEGIN;\nCREATE TABLE t ();\nCOMMIT;\n"),
			  "B@1:BEGIN|P@2:CREATE TABLE t ()|C@3:COMMIT");
	check_str("transaction words", lex("begin work; start transaction isolation level serializable; end; commit prepared 'x'; rollback; abort; savepoint s; release s; prepare transaction 'x';"),
			  "B@1:begin work|B@1:start transaction isolation level serializable|C@1:end|T@1:commit prepared 'x'|T@1:rollback|T@1:abort|T@1:savepoint s|T@1:release s|T@1:prepare transaction 'x'");
	check_str("PREPARE and START are plain otherwise", lex("PREPARE q AS SELECT 1; START 1;"),
			  "P@1:PREPARE q AS SELECT 1|P@1:START 1");
	check_str("DO block is plain", lex("DO $$BEGIN NULL; END$$;"), "P@1:DO $$BEGIN NULL; END$$");
	check_str("meta-command on its own line", lex("SELECT 1;\n\\i other.sql\nSELECT 2;"),
			  "P@1:SELECT 1|M@2:\\i other.sql|P@3:SELECT 2");
	check_str("meta-command ends a statement", lex("SELECT 1 AS x \\gset\n"),
			  "P@1:SELECT 1 AS x|M@1:\\gset");
	check_str("BOM skipped", lex("\xEF\xBB\xBFSELECT 1;"), "P@1:SELECT 1");
	check_str("CRLF line numbers", lex("SELECT 1;\r\n\r\nSELECT 2;\rSELECT 3;"),
			  "P@1:SELECT 1|P@3:SELECT 2|P@4:SELECT 3");
	check_str("unterminated string", lex("SELECT 1;\nSELECT 'x;\n"),
			  "P@1:SELECT 1|ERR@2:unterminated quoted string");
	check_str("unterminated identifier", lex("SELECT \"x"), "ERR@1:unterminated quoted identifier");
	check_str("unterminated dollar quote", lex("\nDO $a$ x $b$;"), "ERR@2:unterminated dollar-quoted string");
	check_str("unterminated comment", lex("/* x\n"), "ERR@1:unterminated /* comment");
}

/* Directives of sql as "name=arg@line;..." */
static char *
directives(const char *sql)
{
	static char out[1024];
	size_t		pos = 0,
				n = 0,
				nl,
				al;
	const char *name,
			   *arg;
	int			line;

	out[0] = '\0';
	while (sqllex_next_directive(sql, strlen(sql), &pos, &name, &nl, &arg, &al, &line))
		n += snprintf(out + n, sizeof(out) - n, "%.*s=%.*s@%d;", (int) nl, name,
					  (int) al, arg, line);
	return out;
}

static void
test_directives(void)
{
	check_str("directives in leading comments",
			  directives("-- smig:no-transaction\n--smig:lock-timeout  5s \r\nCREATE INDEX;"),
			  "no-transaction=@1;lock-timeout=5s@2;");
	check_str("directives after block comments and markers",
			  directives("/* header */\n-- smig:up\n-- plain comment\n-- smig:lock-timeout 1s\nSELECT 1;"),
			  "lock-timeout=1s@4;");
	check_str("no directives after the first statement",
			  directives("SELECT 1;\n-- smig:no-transaction\n"), "");
	check_str("text before smig: is a plain comment",
			  directives("-- see smig:no-transaction\n-- smigfoo\n"), "");
	check_str("dbmate markers are not directives", directives("-- migrate:up\n-- migrate:down\n"), "");
}

/* Sections of sql as "rc|up|down" (or "rc|error@line"). */
static char *
sections(const char *sql)
{
	static char out[1024];
	size_t		us,
				ue,
				ds,
				de;
	const char *err = NULL;
	int			line = 0;
	int			rc = sqllex_split_sections(sql, strlen(sql), &us, &ue, &ds, &de, &err, &line);

	if (rc < 0)
		snprintf(out, sizeof(out), "%d|%s@%d", rc, err, line);
	else
		snprintf(out, sizeof(out), "%d|%.*s|%.*s", rc, (int) (ue - us), sql + us,
				 (int) (de - ds), sql + ds);
	return out;
}

static void
test_sections(void)
{
	check_str("no markers", sections("SELECT 1;\n"), "0|SELECT 1;\n|");
	check_str("smig markers", sections("-- smig:up\nCREATE TABLE t ();\n-- smig:down\nDROP TABLE t;\n"),
			  "1|CREATE TABLE t ();\n|DROP TABLE t;\n");
	check_str("dbmate markers, CRLF", sections("-- migrate:up\r\nA;\r\n-- migrate:down\r\nB;"),
			  "1|A;\r\n|B;");
	check_str("down marker only", sections("A;\n--smig:down\nB;"), "1|A;\n|B;");
	check_str("marker inside a dollar quote is not a marker",
			  sections("-- smig:up\nDO $$\n-- smig:down\n$$;\n"), "1|DO $$\n-- smig:down\n$$;\n|");
	check_str("marker inside an E string is not a marker",
			  sections("-- smig:up\nSELECT E'\\'\n-- smig:down\n';\n"), "1|SELECT E'\\'\n-- smig:down\n';\n|");
	check_str("marker after code on a line is not a marker",
			  sections("SELECT 1; -- smig:down\n"), "0|SELECT 1; -- smig:down\n|");
	check_str("duplicate up", sections("-- smig:up\nA;\n-- smig:up\n"), "-1|duplicate \"-- smig:up\" marker@3");
	check_str("up after down", sections("-- smig:down\nA;\n-- smig:up\n"),
			  "-1|\"-- smig:up\" marker after \"-- smig:down\"@3");
	check_str("statements before up", sections("A;\n-- smig:up\nB;\n"),
			  "-1|statements before the \"-- smig:up\" marker@1");
}

/*---- versions ----------------------------------------------------------------*/

static char *
key(const char *v)
{
	static char buf[2][1024];
	static int	which;
	char	   *k = buf[which ^= 1];

	if (!version_sort_key(v, strlen(v), k))
		strcpy(k, "INVALID");
	return k;
}

static void
test_versions(void)
{
	const char *valid[] = {"1", "001", "1.2.10", "2026_11_22_1200", "20191100000001000000", "0"};
	const char *invalid[] = {"", "1..2", ".1", "1.", "v1", "1-2", "1 2", "1__2", "_1"};
	char		longv[300];
	size_t		i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
		check(version_is_valid(valid[i], strlen(valid[i])), "valid version", valid[i], "valid");
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		check(!version_is_valid(invalid[i], strlen(invalid[i])), "invalid version", invalid[i], "invalid");
	memset(longv, '1', 201);
	longv[201] = '\0';
	check(!version_is_valid(longv, 201), "201 bytes is too long", "valid", "invalid");
	check(version_is_valid(longv, 200), "200 bytes is fine", "invalid", "valid");

	check(strcmp(key("1.10"), key("1.9")) > 0, "1.10 > 1.9", key("1.10"), key("1.9"));
	check_str("001 = 1", key("001"), key("1"));
	check_str("1 = 1.0", key("1"), key("1.0"));
	check_str("1.2 = 1_2", key("1.2"), key("1_2"));
	check_str("0 = 0.0", key("0"), key("0.0"));
	check(strcmp(key("1"), key("1.0.1")) < 0, "1 < 1.0.1", key("1"), key("1.0.1"));
	check(strcmp(key("9"), key("10")) < 0, "9 < 10", key("9"), key("10"));
	check(strcmp(key("2"), key("1.99999")) > 0, "2 > 1.99999", key("2"), key("1.99999"));
	check(strcmp(key("20191100000001000000"), key("20191099999999999999")) > 0,
		  "20-digit versions compare as numbers", key("20191100000001000000"),
		  key("20191099999999999999"));
	check_str("invalid has no key", key("x"), "INVALID");
}

/*---- file names ----------------------------------------------------------------*/

static char *
file(const char *name)
{
	static char out[256];
	MigFileName mf;
	const char *kinds[] = {"not-sql", "unrecognized", "up", "down", "baseline"};
	MigFileKind k = migfile_parse(name, &mf);

	if (k == MIGFILE_UP || k == MIGFILE_DOWN || k == MIGFILE_BASELINE)
		snprintf(out, sizeof(out), "%s %.*s %.*s", kinds[k], (int) mf.version_len,
				 mf.version, (int) mf.name_len, mf.name);
	else
		snprintf(out, sizeof(out), "%s", kinds[k]);
	return out;
}

static void
test_files(void)
{
	check_str("Flyway up", file("V1__init.sql"), "up 1 init");
	check_str("Flyway dotted", file("V1.2__add_users.sql"), "up 1.2 add_users");
	check_str("Flyway underscored", file("V2026_11_22_1200__x.sql"), "up 2026_11_22_1200 x");
	check_str("Flyway undo", file("U3__drop.sql"), "down 3 drop");
	check_str("baseline", file("B5__baseline.sql"), "baseline 5 baseline");
	check_str("plain", file("001_add_cache.sql"), "up 001 add_cache");
	check_str("golang-migrate up", file("001_add_cache.up.sql"), "up 001 add_cache");
	check_str("golang-migrate down", file("001_add_cache.down.sql"), "down 001 add_cache");
	check_str("timestamp version", file("2026_11_22_1200_add_users.sql"), "up 2026_11_22_1200 add_users");
	check_str("name starting with digits", file("001_2fa_setup.sql"), "up 001 2fa_setup");
	check_str("dotted plain", file("1.2_name.sql"), "up 1.2 name");
	check_str("20-digit version", file("20191100000001000000_long.sql"), "up 20191100000001000000 long");
	check_str("not sql", file("README.md"), "not-sql");
	check_str("dot file", file(".gitkeep"), "not-sql");
	check_str("no version", file("foo.sql"), "unrecognized");
	check_str("single underscore after V", file("V1_init.sql"), "unrecognized");
	check_str("repeatable", file("R__views.sql"), "unrecognized");
	check_str("no name", file("1.sql"), "unrecognized");
	check_str("empty Flyway name", file("V1__.sql"), "unrecognized");
}

int
main(void)
{
	test_lexer();
	test_directives();
	test_sections();
	test_versions();
	test_files();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed ? 1 : 0;
}
