/*-------------------------------------------------------------------------
 * test_common.c
 *	  Unit tests of the plain-C modules shared by the extension and the
 *	  client (src/common): the SQL script lexer, migration versions and
 *	  migration file names.
 *
 * Prints one "ok N - what" or "not ok N - what" line per assertion (with
 * the expected and actual values after a failure), then, as its last
 * line, "N passed, N failed".  Exits 1 if anything failed.
 *
 * Most lexer results are compared as one descriptive string, so that a
 * failure shows everything that came out:
 *	  statements	"K@line:text|K@line:text|..." (K: P plain, B begin,
 *					C commit, T other transaction control, M meta-command,
 *					Y COPY through the client),
 *					then "|ERR@line:message" on an error;
 *	  directives	"name=arg@line;..." ;
 *	  sections		"rc|up text|down text" or "-1|message@line".
 *-------------------------------------------------------------------------
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cksumnorm.h"
#include "migfile.h"
#include "sqllex.h"
#include "version.h"

static int	npassed;
static int	nfailed;

/* Record one assertion; on failure show what was expected and got. */
static void
check(bool ok, const char *what, const char *got, const char *want)
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
		printf("not ok %d - %s\n", n, what);
		printf("#   expected: %s\n", want ? want : "(null)");
		printf("#        got: %s\n", got ? got : "(null)");
	}
}

static void
check_str(const char *what, const char *got, const char *want)
{
	check(strcmp(got, want) == 0, what, got, want);
}

static void
check_int(const char *what, long got, long want)
{
	char		g[32];
	char		w[32];

	snprintf(g, sizeof(g), "%ld", got);
	snprintf(w, sizeof(w), "%ld", want);
	check(got == want, what, g, w);
}

/*---- statements -----------------------------------------------------------*/

static const char kind_letter[] = "PBCTMY";	/* by SqlStmtKind */

/*
 * Describe the statements of sql[0..len) (see the file header), lexed as
 * text starting at line first_line.
 */
static char *
lex_at(const char *sql, size_t len, int first_line)
{
	static char out[8192];
	SqlLexer	lx;
	SqlStmt		st;
	SqlLexStatus rc;
	size_t		n = 0;

	out[0] = '\0';
	sqllex_init_at(&lx, sql, len, first_line);
	while ((rc = sqllex_next(&lx, &st)) == SQLLEX_OK && n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%s%c@%d:%.*s",
					  n ? "|" : "", kind_letter[st.kind], st.line,
					  (int) (st.end - st.start), sql + st.start);
	if (rc == SQLLEX_ERROR && n < sizeof(out))
		snprintf(out + n, sizeof(out) - n, "%sERR@%d:%s", n ? "|" : "",
				 lx.error_line, lx.error ? lx.error : "(no message)");
	return out;
}

static char *
lex_n(const char *sql, size_t len)
{
	return lex_at(sql, len, 1);
}

static char *
lex(const char *sql)
{
	return lex_n(sql, strlen(sql));
}

static void
test_lexer_basics(void)
{
	check_str("empty script", lex(""), "");
	check_str("white space only", lex(" \t\r\n\f\v "), "");
	check_str("comments only", lex("-- a; b\n/* c; */\n-- d"), "");
	check_str("empty statements are skipped", lex(";;\n ; /* x */ ;"), "");
	check_str("two statements", lex("SELECT 1;\nSELECT 2;\n"),
			  "P@1:SELECT 1|P@2:SELECT 2");
	check_str("last statement without a semicolon",
			  lex("SELECT 1;\nSELECT 2\n\n-- trailing\n"),
			  "P@1:SELECT 1|P@2:SELECT 2");
	check_str("empty statements between real ones",
			  lex(";SELECT 1;;\n;SELECT 2;;"), "P@1:SELECT 1|P@2:SELECT 2");
	check_str("leading comments are not part of the statement",
			  lex("-- head\n/* more\n */ SELECT 1;"), "P@3:SELECT 1");
	check_str("trailing blanks and comments before ';' are excluded",
			  lex("SELECT 1 /* c */ -- d\n  ;SELECT 2\t;"),
			  "P@1:SELECT 1|P@2:SELECT 2");
	check_str("comments between tokens stay in the statement",
			  lex("SELECT /* ; */ 1 -- ;\n + 2;"),
			  "P@1:SELECT /* ; */ 1 -- ;\n + 2");
	check_str("line comment hides a semicolon",
			  lex("SELECT 1 -- a; b\n, 2;"), "P@1:SELECT 1 -- a; b\n, 2");
	check_str("nested block comment",
			  lex("/* a /* b; */ c; */ SELECT 1;"), "P@1:SELECT 1");
	check_str("nested block comment counts lines",
			  lex("/* a\n/* b\n*/ ;\n*/\nSELECT 1;"), "P@5:SELECT 1");
	check_str("block comment inside an operator run",
			  lex("SELECT 1+/* ; */2;"), "P@1:SELECT 1+/* ; */2");
	check_str("slash-star-slash does not close a comment",
			  lex("/*/ ; */SELECT 1;"), "P@1:SELECT 1");

	/* exact offsets */
	{
		const char *sql = "  SELECT 1 ; SELECT 2";
		SqlLexer	lx;
		SqlStmt		st;

		sqllex_init(&lx, sql, strlen(sql));
		check_int("first statement returned", sqllex_next(&lx, &st), SQLLEX_OK);
		check_int("start is the first token", (long) st.start, 2);
		check_int("end is just past the last token", (long) st.end, 10);
		check_int("second statement returned", sqllex_next(&lx, &st), SQLLEX_OK);
		check_int("second start", (long) st.start, 13);
		check_int("second end is the end of input", (long) st.end, 21);
		check_int("then the end", sqllex_next(&lx, &st), SQLLEX_END);
		check_int("and the end again", sqllex_next(&lx, &st), SQLLEX_END);
	}

	/* the buffer need not be NUL-terminated: only len bytes count */
	check_str("length limits the script", lex_n("SELECT 1;SELECT 2", 8), "P@1:SELECT 1");
	check_str("a literal cut by the length is unterminated",
			  lex_n("SELECT 'abc'", 10), "ERR@1:unterminated quoted string");
}

static void
test_lexer_literals(void)
{
	check_str("standard string with doubled quotes",
			  lex("SELECT 'it''s; here';SELECT 2;"),
			  "P@1:SELECT 'it''s; here'|P@1:SELECT 2");
	check_str("backslash is literal in a standard string",
			  lex("SELECT 'a\\';SELECT 2;"), "P@1:SELECT 'a\\'|P@1:SELECT 2");
	check_str("E string: backslash escapes a quote",
			  lex("SELECT E'it\\'s; here';SELECT 2;"),
			  "P@1:SELECT E'it\\'s; here'|P@1:SELECT 2");
	check_str("e string, lower case",
			  lex("SELECT e'\\';';SELECT 2;"), "P@1:SELECT e'\\';'|P@1:SELECT 2");
	check_str("E string: doubled quote",
			  lex("SELECT E'a'';b';SELECT 2;"), "P@1:SELECT E'a'';b'|P@1:SELECT 2");
	/* not two adjacent literals: the second would be a standard string */
	check_str("E string: a doubled quote, then an escaped one",
			  lex("SELECT E'x''\\'; y';SELECT 2;"),
			  "P@1:SELECT E'x''\\'; y'|P@1:SELECT 2");
	check_str("E string: escaped backslash before the closing quote",
			  lex("SELECT E'a\\\\';SELECT 2;"), "P@1:SELECT E'a\\\\'|P@1:SELECT 2");
	check_str("U& string is standard",
			  lex("SELECT U&'d\\0061t;a\\';SELECT 2;"),
			  "P@1:SELECT U&'d\\0061t;a\\'|P@1:SELECT 2");
	check_str("U& identifier", lex("SELECT 1 AS u&\"a;\"\"b\";"),
			  "P@1:SELECT 1 AS u&\"a;\"\"b\"");
	check_str("B, X and N strings",
			  lex("SELECT B'1;0', x'1F;\\', N'n;';SELECT 2;"),
			  "P@1:SELECT B'1;0', x'1F;\\', N'n;'|P@1:SELECT 2");
	check_str("identifier followed by a string",
			  lex("SELECT name'x;\\';SELECT 2;"),
			  "P@1:SELECT name'x;\\'|P@1:SELECT 2");
	check_str("quoted identifier with ';' and doubled quotes",
			  lex("CREATE TABLE \"a;b\"\"c\" (\"d;\" int);SELECT 2;"),
			  "P@1:CREATE TABLE \"a;b\"\"c\" (\"d;\" int)|P@1:SELECT 2");
	check_str("string spanning lines counts them",
			  lex("SELECT 'a\nb;\r\nc';\nSELECT 2;"),
			  "P@1:SELECT 'a\nb;\r\nc'|P@4:SELECT 2");

	check_str("$$ body with ';', quotes and a marker",
			  lex("CREATE FUNCTION f() RETURNS text AS $$\nSELECT 'x;'; -- smig:down\n$$ LANGUAGE sql;\nSELECT 2;"),
			  "P@1:CREATE FUNCTION f() RETURNS text AS $$\nSELECT 'x;'; -- smig:down\n$$ LANGUAGE sql|P@4:SELECT 2");
	check_str("$tag$ body containing $$ and another tag",
			  lex("DO $body$ BEGIN PERFORM $$;$$, $x$;$x$; END $body$;SELECT 2;"),
			  "P@1:DO $body$ BEGIN PERFORM $$;$$, $x$;$x$; END $body$|P@1:SELECT 2");
	check_str("dollar tag with digits and underscores",
			  lex("SELECT $a_1$;'\"$a_1$;SELECT 2;"),
			  "P@1:SELECT $a_1$;'\"$a_1$|P@1:SELECT 2");
	check_str("dollar tags are case-sensitive",
			  lex("SELECT $A$ ; $a$ ; $A$;SELECT 2;"),
			  "P@1:SELECT $A$ ; $a$ ; $A$|P@1:SELECT 2");
	check_str("a longer tag inside does not close the body",
			  lex("SELECT $a$ $ab$ ; $a$;SELECT 2;"),
			  "P@1:SELECT $a$ $ab$ ; $a$|P@1:SELECT 2");
	check_str("dollar body spanning lines counts them",
			  lex("SELECT $$\n;\r\n;\r$$;SELECT 2;"),
			  "P@1:SELECT $$\n;\r\n;\r$$|P@4:SELECT 2");
	check_str("positional parameters are not dollar quotes",
			  lex("PREPARE q(int, int) AS SELECT $1 + $2;SELECT 2;"),
			  "P@1:PREPARE q(int, int) AS SELECT $1 + $2|P@1:SELECT 2");
	check_str("'$' inside identifiers does not quote",
			  lex("SELECT a$b, x$y$ + foo$1$ FROM t;SELECT 2;"),
			  "P@1:SELECT a$b, x$y$ + foo$1$ FROM t|P@1:SELECT 2");
	check_str("a lone '$' is an operator",
			  lex("SELECT 1 $ 2;SELECT $x;"), "P@1:SELECT 1 $ 2|P@1:SELECT $x");
	check_str("a dollar quote may follow a number",
			  lex("SELECT 1$$;$$;SELECT 2;"), "P@1:SELECT 1$$;$$|P@1:SELECT 2");
	check_str("non-ASCII identifiers and tags",
			  lex("SELECT \xc3\xa9t\xc3\xa9$x$ ;SELECT $\xc3\xa9$;$\xc3\xa9$;"),
			  "P@1:SELECT \xc3\xa9t\xc3\xa9$x$|P@1:SELECT $\xc3\xa9$;$\xc3\xa9$");

	check_str("parentheses hold semicolons",
			  lex("SELECT (1; (2;) 3);SELECT 2;"), "P@1:SELECT (1; (2;) 3)|P@1:SELECT 2");
	check_str("an extra ')' does not go negative",
			  lex("SELECT 1);SELECT (2);"), "P@1:SELECT 1)|P@1:SELECT (2)");
}

static void
test_lexer_atomic(void)
{
	check_str("CREATE FUNCTION ... BEGIN ATOMIC body",
			  lex("CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
				  "BEGIN ATOMIC\n"
				  "  INSERT INTO t VALUES (a);\n"
				  "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
				  "  SELECT a;\n"
				  "END;\n"
				  "SELECT 2;"),
			  "P@1:CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n"
			  "BEGIN ATOMIC\n"
			  "  INSERT INTO t VALUES (a);\n"
			  "  SELECT CASE WHEN a > 0 THEN 1 ELSE 2 END;\n"
			  "  SELECT a;\n"
			  "END|P@7:SELECT 2");
	check_str("CREATE OR REPLACE PROCEDURE, lower case",
			  lex("create or replace procedure p() language sql begin atomic "
				  "delete from t; insert into t values (1); end;select 2;"),
			  "P@1:create or replace procedure p() language sql begin atomic "
			  "delete from t; insert into t values (1); end|P@1:select 2");
	check_str("CREATE PROCEDURE",
			  lex("CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END;SELECT 2;"),
			  "P@1:CREATE PROCEDURE p() BEGIN ATOMIC SELECT 1; END|P@1:SELECT 2");
	check_str("CREATE OR REPLACE FUNCTION with nested CASE",
			  lex("CREATE OR REPLACE FUNCTION f() RETURNS int BEGIN ATOMIC "
				  "SELECT CASE WHEN true THEN CASE WHEN false THEN 1 END END; "
				  "SELECT 2; END; SELECT 3;"),
			  "P@1:CREATE OR REPLACE FUNCTION f() RETURNS int BEGIN ATOMIC "
			  "SELECT CASE WHEN true THEN CASE WHEN false THEN 1 END END; "
			  "SELECT 2; END|P@1:SELECT 3");
	check_str("BEGIN inside a dollar-quoted body is never seen",
			  lex("CREATE FUNCTION f() RETURNS void AS $$ BEGIN NULL; END $$ LANGUAGE plpgsql;SELECT 2;"),
			  "P@1:CREATE FUNCTION f() RETURNS void AS $$ BEGIN NULL; END $$ LANGUAGE plpgsql|P@1:SELECT 2");
	check_str("a parameter named begin is inside parentheses",
			  lex("CREATE FUNCTION f(begin int) RETURNS int AS 'SELECT 1' LANGUAGE sql;SELECT 2;"),
			  "P@1:CREATE FUNCTION f(begin int) RETURNS int AS 'SELECT 1' LANGUAGE sql|P@1:SELECT 2");
	check_str("RETURN CASE ... END outside a BEGIN block",
			  lex("CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 END;SELECT 2;"),
			  "P@1:CREATE FUNCTION f() RETURNS int RETURN CASE WHEN true THEN 1 END|P@1:SELECT 2");
	check_str("CASE outside functions does not nest",
			  lex("SELECT CASE WHEN true THEN 1 END;SELECT 2;"),
			  "P@1:SELECT CASE WHEN true THEN 1 END|P@1:SELECT 2");
	check_str("only CREATE [OR REPLACE] FUNCTION|PROCEDURE counts",
			  lex("CREATE PUBLICATION begin FOR ALL TABLES;SELECT 2;"),
			  "P@1:CREATE PUBLICATION begin FOR ALL TABLES|P@1:SELECT 2");
	check_str("the BEGIN rule resets after each statement",
			  lex("CREATE FUNCTION f() RETURNS int RETURN 1;BEGIN;SELECT 2;"),
			  "P@1:CREATE FUNCTION f() RETURNS int RETURN 1|B@1:BEGIN|P@1:SELECT 2");
}

static void
test_lexer_kinds(void)
{
	check_str("outer BEGIN/COMMIT",
			  lex("BEGIN;\nCREATE TABLE t ();\nCOMMIT;\n"),
			  "B@1:BEGIN|P@2:CREATE TABLE t ()|C@3:COMMIT");
	check_str("BEGIN forms",
			  lex("begin; BEGIN WORK; Begin Transaction Isolation Level Serializable;"),
			  "B@1:begin|B@1:BEGIN WORK|B@1:Begin Transaction Isolation Level Serializable");
	check_str("START TRANSACTION",
			  lex("START TRANSACTION ISOLATION LEVEL REPEATABLE READ;\nstart/* c */transaction;"),
			  "B@1:START TRANSACTION ISOLATION LEVEL REPEATABLE READ|B@2:start/* c */transaction");
	check_str("START alone is plain", lex("START something;START;"),
			  "P@1:START something|P@1:START");
	check_str("COMMIT and END forms",
			  lex("COMMIT; commit work; COMMIT AND CHAIN; END; end transaction;"),
			  "C@1:COMMIT|C@1:commit work|C@1:COMMIT AND CHAIN|C@1:END|C@1:end transaction");
	check_str("COMMIT PREPARED is other transaction control",
			  lex("COMMIT PREPARED 'x';"), "T@1:COMMIT PREPARED 'x'");
	check_str("ROLLBACK forms",
			  lex("ROLLBACK; rollback to savepoint s; ROLLBACK PREPARED 'x'; ROLLBACK AND CHAIN;"),
			  "T@1:ROLLBACK|T@1:rollback to savepoint s|T@1:ROLLBACK PREPARED 'x'|T@1:ROLLBACK AND CHAIN");
	check_str("ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION",
			  lex("ABORT; SAVEPOINT s; RELEASE SAVEPOINT s; release s; PREPARE TRANSACTION 'x';"),
			  "T@1:ABORT|T@1:SAVEPOINT s|T@1:RELEASE SAVEPOINT s|T@1:release s|T@1:PREPARE TRANSACTION 'x'");
	check_str("PREPARE of a statement is plain",
			  lex("PREPARE foo AS SELECT 1;EXECUTE foo;DEALLOCATE foo;"),
			  "P@1:PREPARE foo AS SELECT 1|P@1:EXECUTE foo|P@1:DEALLOCATE foo");
	check_str("DO block is plain", lex("DO $$ BEGIN NULL; END $$;"),
			  "P@1:DO $$ BEGIN NULL; END $$");
	check_str("a leading comment does not hide the kind",
			  lex("/* c */ commit; -- x\nbegin;"), "C@1:commit|B@2:begin");
	check_str("words later in the statement do not count",
			  lex("SELECT 1 FROM begin; UPDATE t SET commit = 1;"),
			  "P@1:SELECT 1 FROM begin|P@1:UPDATE t SET commit = 1");
	check_str("quoted or prefixed first words are not keywords",
			  lex("\"begin\"; (COMMIT); begin_x;"),
			  "P@1:\"begin\"|P@1:(COMMIT)|P@1:begin_x");
}

static void
test_lexer_copy(void)
{
	check_str("COPY FROM STDIN and TO STDOUT",
			  lex("COPY t FROM STDIN;\ncopy t (a, b) to stdout with (format csv);"),
			  "Y@1:COPY t FROM STDIN|Y@2:copy t (a, b) to stdout with (format csv)");
	check_str("COPY (query) TO STDOUT; FROM STDIN with options",
			  lex("COPY (SELECT 1) TO STDOUT; COPY t FROM /* c */ stdin (FORMAT csv);"),
			  "Y@1:COPY (SELECT 1) TO STDOUT|Y@1:COPY t FROM /* c */ stdin (FORMAT csv)");
	check_str("COPY from or to a server file or program is plain",
			  lex("COPY t FROM '/tmp/f';COPY t TO PROGRAM 'cat';COPY t FROM 'stdin';"),
			  "P@1:COPY t FROM '/tmp/f'|P@1:COPY t TO PROGRAM 'cat'|P@1:COPY t FROM 'stdin'");
	check_str("a table named stdin inside the query of COPY (...) TO",
			  lex("COPY (SELECT * FROM stdin) TO '/tmp/f';"),
			  "P@1:COPY (SELECT * FROM stdin) TO '/tmp/f'");
	check_str("quoted \"stdin\", a column named stdin, other statements",
			  lex("COPY t FROM \"stdin\";COPY t (stdin) FROM '/f';SELECT 1 FROM stdin;"),
			  "P@1:COPY t FROM \"stdin\"|P@1:COPY t (stdin) FROM '/f'|P@1:SELECT 1 FROM stdin");
	check_str("FROM STDOUT and TO STDIN are not the client forms",
			  lex("COPY t TO STDIN;COPY t FROM STDOUT;"),
			  "P@1:COPY t TO STDIN|P@1:COPY t FROM STDOUT");
	check_str("psql inline data after COPY FROM STDIN",
			  lex("CREATE TABLE t (a text);\nCOPY t FROM STDIN;\nit's\n\\.\n"),
			  "P@1:CREATE TABLE t (a text)|Y@2:COPY t FROM STDIN|ERR@3:unterminated quoted string");
}

static void
test_lexer_meta(void)
{
	check_str("meta-command on its own line",
			  lex("SELECT 1;\n\\i other.sql\nSELECT 2;"),
			  "P@1:SELECT 1|M@2:\\i other.sql|P@3:SELECT 2");
	check_str("meta-command ends the statement before it",
			  lex("SELECT 1 AS x \\gset\nSELECT :x;"),
			  "P@1:SELECT 1 AS x|M@1:\\gset|P@2:SELECT :x");
	check_str("meta-command after a multi-line statement",
			  lex("SELECT\n  1\n\\g\nSELECT 2;"),
			  "P@1:SELECT\n  1|M@3:\\g|P@4:SELECT 2");
	check_str("meta-command first, trailing blanks dropped",
			  lex("\\set ON_ERROR_STOP 1  \t\n-- c\nSELECT 1;"),
			  "M@1:\\set ON_ERROR_STOP 1|P@3:SELECT 1");
	check_str("meta-command ends at CRLF",
			  lex("-- c\r\n\\i a.sql\r\nSELECT 1;"), "M@2:\\i a.sql|P@3:SELECT 1");
	check_str("meta-command quotes are not lexed",
			  lex("\\echo it's\nSELECT 1;"), "M@1:\\echo it's|P@2:SELECT 1");
	check_str("backslash in literals and comments is not a meta-command",
			  lex("SELECT '\\i', $$\\q$$, \"\\x\" /* \\g */ -- \\gset\n;"),
			  "P@1:SELECT '\\i', $$\\q$$, \"\\x\"");
	check_str("psql's \\; is reported as a meta-command",
			  lex("SELECT 1 \\; SELECT 2;\nSELECT 3;"),
			  "P@1:SELECT 1|M@1:\\; SELECT 2;|P@2:SELECT 3");
	check_str("meta-command inside parentheses still ends the statement",
			  lex("SELECT (1\n\\g\n);"), "P@1:SELECT (1|M@2:\\g|P@3:)");
	check_str("meta-command at the end without a newline",
			  lex("SELECT 1;\\q"), "P@1:SELECT 1|M@1:\\q");
}

static void
test_lexer_lines_and_errors(void)
{
	{
		const char *sql = "\xEF\xBB\xBFSELECT 1;";
		SqlLexer	lx;
		SqlStmt		st;

		sqllex_init(&lx, sql, strlen(sql));
		check_int("BOM: a statement", sqllex_next(&lx, &st), SQLLEX_OK);
		check_int("BOM: statement starts after it", (long) st.start, 3);
		check_int("BOM: still line 1", st.line, 1);
	}
	check_str("BOM only", lex("\xEF\xBB\xBF"), "");
	check_str("BOM then a comment", lex("\xEF\xBB\xBF-- x\nSELECT 1"), "P@2:SELECT 1");
	check_str("a BOM later on is not skipped", lex("SELECT 1;\xEF\xBB\xBF"),
			  "P@1:SELECT 1|P@1:\xEF\xBB\xBF");
	check_str("CRLF, CR and LF line breaks",
			  lex("SELECT 1;\r\n\r\nSELECT 2;\rSELECT 3;\n\rSELECT 4;"),
			  "P@1:SELECT 1|P@3:SELECT 2|P@4:SELECT 3|P@6:SELECT 4");
	check_str("line comment ended by CR",
			  lex("-- a;\rSELECT 1;"), "P@2:SELECT 1");
	check_str("CR-only file",
			  lex("-- old Mac\r\rCREATE TABLE t\r  (a int);\rSELECT 'x\r"),
			  "P@3:CREATE TABLE t\r  (a int)|ERR@5:unterminated quoted string");
	check_str("lexing from a starting line",
			  lex_at("SELECT 1;\n\nSELECT 2;\rSELECT 'x", 31, 7),
			  "P@7:SELECT 1|P@9:SELECT 2|ERR@10:unterminated quoted string");
	check_str("starting line with a BOM",
			  lex_at("\xEF\xBB\xBF\nSELECT 1;", 13, 4), "P@5:SELECT 1");

	{
		const char *sql = "a\r\nb\rc\nd\n\re";

		check_int("line_at: offset 0", sqllex_line_at(sql, strlen(sql), 0), 1);
		check_int("line_at: on the CR of a CRLF", sqllex_line_at(sql, strlen(sql), 1), 1);
		check_int("line_at: between CR and LF", sqllex_line_at(sql, strlen(sql), 2), 1);
		check_int("line_at: after CRLF", sqllex_line_at(sql, strlen(sql), 3), 2);
		check_int("line_at: after a lone CR", sqllex_line_at(sql, strlen(sql), 5), 3);
		check_int("line_at: after LF", sqllex_line_at(sql, strlen(sql), 7), 4);
		check_int("line_at: LF then CR are two", sqllex_line_at(sql, strlen(sql), 10), 6);
		check_int("line_at: past the end is the end",
				  sqllex_line_at(sql, strlen(sql), 99), 6);
	}

	check_str("unterminated string, after a good statement",
			  lex("SELECT 1;\nSELECT\n'x;\n"),
			  "P@1:SELECT 1|ERR@3:unterminated quoted string");
	check_str("unterminated E string ending in an escaped quote",
			  lex("SELECT E'x\\'"), "ERR@1:unterminated quoted string");
	check_str("unterminated E string ending in a backslash",
			  lex("SELECT E'x\\"), "ERR@1:unterminated quoted string");
	check_str("unterminated E string reports the prefix line",
			  lex("\n\nSELECT E'\n\n"), "ERR@3:unterminated quoted string");
	check_str("unterminated quoted identifier",
			  lex("SELECT \"x\"\"\n"), "ERR@1:unterminated quoted identifier");
	check_str("unterminated dollar quote",
			  lex("\nDO $a$ x $b$; $A$;\n"), "ERR@2:unterminated dollar-quoted string");
	check_str("unterminated $$", lex("SELECT $$;"), "ERR@1:unterminated dollar-quoted string");
	check_str("unterminated block comment",
			  lex("SELECT 1;\n/* x\n"), "P@1:SELECT 1|ERR@2:unterminated /* comment");
	check_str("unterminated nested block comment",
			  lex("/* a /* b */\n"), "ERR@1:unterminated /* comment");
	check_str("unterminated comment inside a statement",
			  lex("SELECT 1\n/* x;"), "ERR@2:unterminated /* comment");

	{
		SqlLexer	lx;
		SqlStmt		st;
		const char *sql = "SELECT 'x";

		sqllex_init(&lx, sql, strlen(sql));
		check_int("error is reported", sqllex_next(&lx, &st), SQLLEX_ERROR);
		check_int("error is sticky", sqllex_next(&lx, &st), SQLLEX_ERROR);
		check_str("error message stays", lx.error ? lx.error : "(null)",
				  "unterminated quoted string");
	}
}

/*---- directives -----------------------------------------------------------*/

/* Describe the directives of sql (see the file header). */
static char *
directives(const char *sql)
{
	static char out[1024];
	size_t		len = strlen(sql);
	size_t		pos = 0;
	size_t		n = 0;
	size_t		nl;
	size_t		al;
	const char *name;
	const char *arg;
	int			line;

	out[0] = '\0';
	while (sqllex_next_directive(sql, len, &pos, &name, &nl, &arg, &al, &line) &&
		   n < sizeof(out))
		n += snprintf(out + n, sizeof(out) - n, "%.*s=%.*s@%d;", (int) nl, name,
					  (int) al, arg, line);
	return out;
}

static void
test_directives(void)
{
	check_str("directives in leading comments",
			  directives("-- smig:no-transaction\n--smig:lock-timeout  5s \r\n\nCREATE INDEX i ON t (a);"),
			  "no-transaction=@1;lock-timeout=5s@2;");
	check_str("argument after a tab, trailing blanks trimmed",
			  directives("--   smig:lock-timeout\t1 min \t\r\n"), "lock-timeout=1 min@1;");
	check_str("mixed with block comments, markers and plain comments",
			  directives("/* header\n */\n-- smig:up\n-- plain comment\n\n-- smig:lock-timeout 1s\nSELECT 1;"),
			  "lock-timeout=1s@6;");
	check_str("dbmate markers are skipped",
			  directives("-- migrate:up\n-- smig:no-transaction\n"), "no-transaction=@2;");
	check_str("no directives after the first statement",
			  directives("SELECT 1;\n-- smig:no-transaction\n"), "");
	check_str("no directives after a meta-command",
			  directives("\\set x 1\n-- smig:no-transaction\n"), "");
	check_str("a directive inside a block comment is not one",
			  directives("/*\n-- smig:inside\n*/\n-- smig:outside\n"), "outside=@4;");
	check_str("text before smig: makes a plain comment",
			  directives("-- see smig:no-transaction\n-- smigfoo\n-- smig:\n-- smig: words\n"), "");
	check_str("other migrate: comments are not directives",
			  directives("-- migrate:foo\n-- migrate:down\n-- smig:down\n"), "");
	check_str("misspelt names are returned whole",
			  directives("-- smig:lock_timeout 5s\n-- smig:No-Transaction\n"),
			  "lock_timeout=5s@1;No-Transaction=@2;");
	check_str("a marker with extra text is returned as a directive",
			  directives("-- smig:up now\n"), "up=now@1;");
	check_str("directive after a BOM is on line 1",
			  directives("\xEF\xBB\xBF-- smig:no-transaction\n"), "no-transaction=@1;");
	check_str("lines counted across CRLF and CR",
			  directives("-- a\r\n-- b\r-- smig:x\n"), "x=@3;");
	check_str("unterminated block comment ends the header",
			  directives("-- smig:a\n/* x\n-- smig:b\n"), "a=@1;");
	check_str("directive at the very end, no newline",
			  directives("-- smig:lock-timeout 5s"), "lock-timeout=5s@1;");

	{
		const char *sql = "-- smig:no-transaction\n";
		size_t		pos = 0;
		size_t		nl,
					al;
		const char *name,
				   *arg;
		int			line;

		check_int("first call finds it",
				  sqllex_next_directive(sql, strlen(sql), &pos, &name, &nl, &arg, &al, &line), 1);
		check_int("name points into the buffer", (long) (name - sql), 8);
		check_int("empty argument", (long) al, 0);
		check_int("then none",
				  sqllex_next_directive(sql, strlen(sql), &pos, &name, &nl, &arg, &al, &line), 0);
		check_int("and none again",
				  sqllex_next_directive(sql, strlen(sql), &pos, &name, &nl, &arg, &al, &line), 0);
	}
}

/*---- sections ---------------------------------------------------------------*/

/* Describe the sections of sql (see the file header). */
static char *
sections(const char *sql)
{
	static char out[1024];
	size_t		len = strlen(sql);
	size_t		us,
				ue,
				ds,
				de;
	const char *err = NULL;
	int			line = 0;
	int			rc = sqllex_split_sections(sql, len, &us, &ue, &ds, &de, &err, &line);

	if (rc < 0)
		snprintf(out, sizeof(out), "%d|%s@%d", rc, err ? err : "(null)", line);
	else if (us > ue || ue > len || ds > de || de > len)
		snprintf(out, sizeof(out), "bad spans %zu %zu %zu %zu", us, ue, ds, de);
	else
		snprintf(out, sizeof(out), "%d|%.*s|%.*s", rc, (int) (ue - us), sql + us,
				 (int) (de - ds), sql + ds);
	return out;
}

/*
 * Where the sections of sql start (sqllex_line_at of their offsets), and
 * the statements of the up section lexed from there: "up@N|down@N|stmts".
 */
static char *
section_lines(const char *sql)
{
	static char out[1024];
	size_t		len = strlen(sql);
	size_t		us,
				ue,
				ds,
				de;
	const char *err;
	int			eline;
	int			rc = sqllex_split_sections(sql, len, &us, &ue, &ds, &de, &err, &eline);

	if (rc < 0)
		return "-1";
	snprintf(out, sizeof(out), "up@%d|down@%d|%s", sqllex_line_at(sql, len, us),
			 sqllex_line_at(sql, len, ds),
			 lex_at(sql + us, ue - us, sqllex_line_at(sql, len, us)));
	return out;
}

static void
test_section_lines(void)
{
	check_str("section lines count from the file's first line",
			  section_lines("-- header\n-- smig:no-transaction\n\n-- smig:up\nSELECT 1;\nSELECT\n 2;\n-- smig:down\nSELECT 3;\n"),
			  "up@5|down@9|P@5:SELECT 1|P@6:SELECT\n 2");
	check_str("section lines with CR-only line ends",
			  section_lines("-- header\r-- smig:up\rSELECT 1;\r\rSELECT 2;\r-- smig:down\rSELECT 3;"),
			  "up@3|down@7|P@3:SELECT 1|P@5:SELECT 2");
	check_str("section lines with CRLF",
			  section_lines("-- a\r\n-- migrate:up\r\nSELECT 1;\r\n-- migrate:down\r\nB;"),
			  "up@3|down@5|P@3:SELECT 1");
	check_str("no markers: up starts at line 1",
			  section_lines("\xEF\xBB\xBF\nSELECT 1;"), "up@1|down@2|P@2:SELECT 1");
}

static void
test_sections(void)
{
	check_str("no markers: the whole script is up",
			  sections("-- c\nSELECT 1;\n"), "0|-- c\nSELECT 1;\n|");
	check_str("empty script", sections(""), "0||");
	check_str("smig markers",
			  sections("-- smig:up\nCREATE TABLE t ();\n-- smig:down\nDROP TABLE t;\n"),
			  "1|CREATE TABLE t ();\n|DROP TABLE t;\n");
	check_str("dbmate markers with CRLF",
			  sections("-- migrate:up\r\nA;\r\n\r\n-- migrate:down\r\nB;"),
			  "1|A;\r\n\r\n|B;");
	check_str("markers with no space, many spaces, indentation and trailing blanks",
			  sections("--smig:up\nA;\n  --   smig:down \t\nB;"), "1|A;\n|B;");
	check_str("comments, blank lines and directives before up",
			  sections("/* about */\n\n-- smig:no-transaction\n-- smig:up\nA;\n"), "1|A;\n|");
	check_str("up marker only", sections("-- smig:up\nA;\n"), "1|A;\n|");
	check_str("down marker only: the text before it is up",
			  sections("A;\n--smig:down\nB;"), "1|A;\n|B;");
	check_str("marker at the end without a newline",
			  sections("-- smig:up\nA;\n-- smig:down"), "1|A;\n|");
	check_str("marker ended by a lone CR",
			  sections("-- smig:up\rA;\r-- smig:down\rB;"), "1|A;\r|B;");
	check_str("mixed spellings", sections("-- smig:up\nA;\n-- migrate:down\nB;\n"),
			  "1|A;\n|B;\n");
	check_str("marker inside a dollar quote is not a marker",
			  sections("-- smig:up\nDO $$\n-- smig:down\n$$;\n"),
			  "1|DO $$\n-- smig:down\n$$;\n|");
	check_str("marker inside a standard string is not a marker",
			  sections("SELECT '\n-- smig:down\n';\n"), "0|SELECT '\n-- smig:down\n';\n|");
	check_str("marker inside an E string is not a marker",
			  sections("-- smig:up\nSELECT E'\\'\n-- smig:down\n';\n"),
			  "1|SELECT E'\\'\n-- smig:down\n';\n|");
	check_str("marker inside a quoted identifier is not a marker",
			  sections("SELECT 1 AS \"\n-- smig:down\n\";\n"),
			  "0|SELECT 1 AS \"\n-- smig:down\n\";\n|");
	check_str("marker inside a nested block comment is not a marker",
			  sections("/* a /* b */\n-- smig:up\n*/\nA;\n"),
			  "0|/* a /* b */\n-- smig:up\n*/\nA;\n|");
	check_str("marker after code on its line is not a marker",
			  sections("SELECT 1; -- smig:down\n"), "0|SELECT 1; -- smig:down\n|");
	check_str("marker after a comment on its line is not a marker",
			  sections("/* x */ -- smig:down\n"), "0|/* x */ -- smig:down\n|");
	check_str("other words are not markers",
			  sections("-- smig:upgrade\n-- smig:UP\n-- migrate:downgrade\n-- smig:down:\nA;"),
			  "0|-- smig:upgrade\n-- smig:UP\n-- migrate:downgrade\n-- smig:down:\nA;|");
	check_str("markers after an unterminated literal are not seen",
			  sections("SELECT 'x\n-- smig:down\n"), "0|SELECT 'x\n-- smig:down\n|");
	check_str("BOM is not part of the up section",
			  sections("\xEF\xBB\xBFSELECT 1;"), "0|SELECT 1;|");
	check_str("BOM then markers",
			  sections("\xEF\xBB\xBF-- smig:up\nA;\n-- smig:down\nB;"), "1|A;\n|B;");

	check_str("duplicate up",
			  sections("-- smig:up\nA;\n-- smig:up\nB;"),
			  "-1|duplicate \"-- smig:up\" marker@3");
	check_str("duplicate down",
			  sections("-- migrate:up\nA;\n-- migrate:down\nB;\r\n-- migrate:down\n"),
			  "-1|duplicate \"-- migrate:down\" marker@5");
	check_str("duplicate down without up",
			  sections("A;\n-- smig:down\n-- smig:down\n"),
			  "-1|duplicate \"-- smig:down\" marker@3");
	check_str("up after down",
			  sections("-- smig:down\nA;\n-- smig:up\n"),
			  "-1|\"-- smig:up\" marker after the down marker@3");
	check_str("statements before up",
			  sections("-- c\n\nA;\n-- smig:up\nB;\n"),
			  "-1|statements before the \"-- smig:up\" marker@3");
	check_str("a meta-command before up counts as a statement",
			  sections("\\set x 1\n-- smig:up\nB;\n"),
			  "-1|statements before the \"-- smig:up\" marker@1");
	check_str("marker followed by other text",
			  sections("-- migrate:up\nA;\n-- migrate:down transaction:false\nB;\n"),
			  "-1|unexpected text after a \"-- migrate:\" section marker@3");

	{
		const char *sql = "-- smig:up\nA;\n  -- smig:down\nB;\n";
		size_t		us,
					ue,
					ds,
					de;
		const char *err;
		int			line;

		check_int("sections found",
				  sqllex_split_sections(sql, strlen(sql), &us, &ue, &ds, &de, &err, &line), 1);
		check_int("up starts after the marker's newline", (long) us, 11);
		check_int("up ends at the start of the down marker's line", (long) ue, 14);
		check_int("down starts after its marker's newline", (long) ds, 29);
		check_int("down ends at the end", (long) de, (long) strlen(sql));
	}
	{
		const char *sql = "-- smig:up\nA;\n";
		size_t		us,
					ue,
					ds,
					de;
		const char *err;
		int			line;

		(void) sqllex_split_sections(sql, strlen(sql), &us, &ue, &ds, &de, &err, &line);
		check_int("without down, down_start is len", (long) ds, (long) strlen(sql));
		check_int("without down, down_end is len", (long) de, (long) strlen(sql));
	}
}

/*---- versions -----------------------------------------------------------------*/

/* The sort key of v, or "INVALID"; two calls' results may be held at once. */
static char *
key(const char *v)
{
	static char buf[2][SMIG_VERSION_KEYSIZE(SMIG_VERSION_MAXLEN + 100)];
	static int	which;
	char	   *k = buf[which ^= 1];

	if (!version_sort_key(v, strlen(v), k))
		strcpy(k, "INVALID");
	return k;
}

/* Check that key(a) compares to key(b) as want (-1, 0 or 1). */
static void
check_order(const char *a, const char *b, int want)
{
	char		what[128];
	char		got[1024];
	char		exp[64];
	char	   *ka = key(a);
	char	   *kb = key(b);
	int			c = strcmp(ka, kb);

	c = (c > 0) - (c < 0);
	snprintf(what, sizeof(what), "version \"%s\" %s \"%s\"", a,
			 want < 0 ? "<" : want > 0 ? ">" : "=", b);
	snprintf(got, sizeof(got), "%d (keys %s, %s)", c, ka, kb);
	snprintf(exp, sizeof(exp), "%d", want);
	check(c == want && strcmp(ka, "INVALID") != 0 && strcmp(kb, "INVALID") != 0,
		  what, got, exp);
}

static void
test_versions(void)
{
	static const char *const valid[] = {
		"0", "1", "001", "1.2.10", "2026_11_22_1200", "20191100000001000000",
		"1_2.3"
	};
	static const char *const invalid[] = {
		"", "1..2", ".1", "1.", "v1", "1-2", "1 2", "1__2", "_1", "1._2",
		"+1", "1e5", "\xef\xbc\x91"
	};
	char		longv[SMIG_VERSION_MAXLEN + 2];
	char		what[128];
	size_t		i;

	for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
	{
		snprintf(what, sizeof(what), "valid version \"%s\"", valid[i]);
		check(version_is_valid(valid[i], strlen(valid[i])), what, "invalid", "valid");
	}
	for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
	{
		snprintf(what, sizeof(what), "invalid version \"%s\"", invalid[i]);
		check(!version_is_valid(invalid[i], strlen(invalid[i])), what, "valid", "invalid");
	}
	check(version_is_valid("12x", 2), "only len bytes are validated", "invalid", "valid");
	check(!version_is_valid("1.", 2), "trailing separator within len", "valid", "invalid");

	memset(longv, '1', SMIG_VERSION_MAXLEN + 1);
	longv[SMIG_VERSION_MAXLEN + 1] = '\0';
	check(!version_is_valid(longv, SMIG_VERSION_MAXLEN + 1),
		  "201 bytes is too long", "valid", "invalid");
	check(version_is_valid(longv, SMIG_VERSION_MAXLEN),
		  "200 bytes is fine", "invalid", "valid");
	check_str("201 bytes has no key", key(longv), "INVALID");

	check_order("1.10", "1.9", 1);
	check_order("001", "1", 0);
	check_order("1", "1.0", 0);
	check_order("1.2", "1_2", 0);
	check_order("1", "1.0.1", -1);
	check_order("9", "10", -1);
	check_order("20191100000001000000", "20191099999999999999", 1);
	check_order("0", "0.0", 0);
	check_order("0", "00_000", 0);
	check_order("2", "1.99999", 1);
	check_order("01_00", "1", 0);
	check_order("1.0.0.1", "1.0.1", -1);
	check_order("0.1", "0", 1);
	check_order("0.0.5", "0.5", -1);
	check_order("999999999", "1000000000", -1);
	check_order("2026_11_22_1200", "2026_11_22_1159", 1);
	check_order("2026_11_22_1200", "2026.11.22.1200.0", 0);

	/* the keys themselves, as version.c documents them */
	check_str("key of \"0\": one zero group", key("0"), "110");
	check_str("key of \"00.0\"", key("00.0"), "110");
	check_str("key of \"1.2.10\"", key("1.2.10"), "1111121210");
	check_str("key of \"1.0\": trailing zero group dropped", key("1.0"), "111");
	check_str("key of \"0.5\": leading zero group kept", key("0.5"), "110115");
	check_str("key of an 11-digit group", key("12345678901"), "21112345678901");

	/* a 150-digit group against a 149-digit one */
	{
		char		big[152];
		char		small[151];

		memset(big, '0', 150);
		big[0] = '1';
		big[150] = '\0';
		memset(small, '9', 149);
		small[149] = '\0';
		check_order(big, small, 1);
	}

	/* key sizes: the worst cases fit SMIG_VERSION_KEYSIZE */
	{
		char		v[SMIG_VERSION_MAXLEN + 1];
		char		k[SMIG_VERSION_KEYSIZE(SMIG_VERSION_MAXLEN) + 1];
		size_t		len = SMIG_VERSION_MAXLEN - 1;

		for (i = 0; i < len; i++)
			v[i] = (i % 2) ? '.' : '7';
		v[len] = '\0';
		memset(k, 'Z', sizeof(k));
		check(version_sort_key(v, len, k), "key of 100 one-digit groups", "false", "true");
		check(k[SMIG_VERSION_KEYSIZE(len)] == 'Z' && strlen(k) < SMIG_VERSION_KEYSIZE(len),
			  "key of 100 one-digit groups fits", "overflow", "fits");

		memset(v, '9', SMIG_VERSION_MAXLEN);
		memset(k, 'Z', sizeof(k));
		check(version_sort_key(v, SMIG_VERSION_MAXLEN, k), "key of a 200-digit group", "false", "true");
		check(k[SMIG_VERSION_KEYSIZE(SMIG_VERSION_MAXLEN)] == 'Z' &&
			  strlen(k) < SMIG_VERSION_KEYSIZE(SMIG_VERSION_MAXLEN),
			  "key of a 200-digit group fits", "overflow", "fits");
	}

	/* an invalid version writes nothing */
	{
		char		k[32];

		memset(k, 'Z', sizeof(k));
		check(!version_sort_key("1..2", 4, k) && k[0] == 'Z',
			  "invalid version: false, key untouched", "written", "untouched");
	}
}

/*---- file names ---------------------------------------------------------------*/

/* "kind version name" for a file name, or just the kind. */
static char *
file(const char *filename)
{
	static char out[512];
	static const char *const kinds[] = {"not-sql", "unrecognized", "up", "down", "baseline",
	"repeatable", "repeatable-down"};
	MigFileName mf;
	MigFileKind k = migfile_parse(filename, &mf);

	if (k != mf.kind)
		snprintf(out, sizeof(out), "returned %d but out->kind %d", (int) k, (int) mf.kind);
	else if (k == MIGFILE_REPEATABLE || k == MIGFILE_REPEATABLE_DOWN)
	{
		if (mf.version_len != 0 || mf.name < filename ||
			mf.name + mf.name_len > filename + strlen(filename))
			snprintf(out, sizeof(out), "spans outside the file name");
		else
			snprintf(out, sizeof(out), "%s %.*s", kinds[k], (int) mf.name_len, mf.name);
	}
	else if (k == MIGFILE_UP || k == MIGFILE_DOWN || k == MIGFILE_BASELINE)
	{
		if (mf.version < filename || mf.name < filename ||
			mf.name + mf.name_len > filename + strlen(filename))
			snprintf(out, sizeof(out), "spans outside the file name");
		else
			snprintf(out, sizeof(out), "%s %.*s %.*s", kinds[k], (int) mf.version_len,
					 mf.version, (int) mf.name_len, mf.name);
	}
	else
		snprintf(out, sizeof(out), "%s", kinds[k]);
	return out;
}

static void
test_files(void)
{
	char		longname[300];

	check_str("Flyway up", file("V1__init.sql"), "up 1 init");
	check_str("Flyway dotted version", file("V1.2__add_users.sql"), "up 1.2 add_users");
	check_str("Flyway underscored version", file("V2026_11_22_1200__x.sql"),
			  "up 2026_11_22_1200 x");
	check_str("Flyway undo", file("U3__drop.sql"), "down 3 drop");
	check_str("Flyway baseline", file("B5__baseline.sql"), "baseline 5 baseline");
	check_str("Flyway name keeps later underscores", file("V1__a__b.sql"), "up 1 a__b");
	check_str("plain", file("001_add_cache.sql"), "up 001 add_cache");
	check_str("golang-migrate up", file("001_add_cache.up.sql"), "up 001 add_cache");
	check_str("golang-migrate down", file("001_add_cache.down.sql"), "down 001 add_cache");
	check_str("timestamp version", file("2026_11_22_1200_add_users.sql"),
			  "up 2026_11_22_1200 add_users");
	check_str("name starting with digits", file("001_2fa_setup.sql"), "up 001 2fa_setup");
	check_str("dotted plain version", file("1.2_name.sql"), "up 1.2 name");
	check_str("20-digit version", file("20191100000001000000_long.sql"),
			  "up 20191100000001000000 long");
	check_str("name with dots", file("3_a.b.sql"), "up 3 a.b");

	check_str("not sql: README.md", file("README.md"), "not-sql");
	check_str("not sql: .gitkeep", file(".gitkeep"), "not-sql");
	check_str("not sql: upper-case suffix", file("V1__init.SQL"), "not-sql");
	check_str("not sql: backup", file("1_x.sql.bak"), "not-sql");
	check_str("not sql: empty", file(""), "not-sql");

	check_str("no version", file("foo.sql"), "unrecognized");
	check_str("V with a single underscore", file("V1_init.sql"), "unrecognized");
	check_str("Flyway repeatable", file("R__views.sql"), "repeatable views");
	check_str("Flyway repeatable keeps underscores and dots", file("R__a__b.c.sql"),
			  "repeatable a__b.c");
	check_str("undo of a repeatable", file("U__views.sql"), "repeatable-down views");
	check_str("repeatable without a name", file("R__.sql"), "unrecognized");
	check_str("repeatable with a version", file("R1__x.sql"), "unrecognized");
	check_str("repeatable with one underscore", file("R_x.sql"), "unrecognized");
	check_str("lower-case repeatable prefix", file("r__x.sql"), "unrecognized");
	check_str("no name", file("1.sql"), "unrecognized");
	check_str("only the suffix", file(".sql"), "unrecognized");
	check_str("empty Flyway name", file("V1__.sql"), "unrecognized");
	check_str("empty Flyway version", file("V__x.sql"), "unrecognized");
	check_str("bad Flyway version", file("V1..2__x.sql"), "unrecognized");
	check_str("lower-case prefix", file("v1__x.sql"), "unrecognized");
	check_str("plain version then a dot", file("1.2.name.sql"), "unrecognized");
	check_str("plain version without a name", file("1_.sql"), "unrecognized");
	check_str("golang-migrate without a name", file("1_.down.sql"), "unrecognized");
	check_str("golang-migrate without a version", file("1.up.sql"), "unrecognized");
	check_str("leading underscore", file("_1_x.sql"), "unrecognized");

	memset(longname, '1', 201);
	strcpy(longname + 201, "_x.sql");
	check_str("201-digit plain version", file(longname), "unrecognized");
	memset(longname, '1', 202);
	longname[0] = 'V';			/* then 201 digits */
	strcpy(longname + 202, "__x.sql");
	check_str("201-digit Flyway version", file(longname), "unrecognized");
	memset(longname, '1', 200);
	strcpy(longname + 200, "_x.sql");
	check(strncmp(file(longname), "up ", 3) == 0, "200-digit plain version",
		  file(longname), "up ...");
}

/*---- statements that cannot run in a transaction ----------------------*/

static void
check_notxn(const char *sql, const char *want)
{
	const char *got = sqllex_no_transaction(sql, strlen(sql));
	char		what[256];

	snprintf(what, sizeof(what), "no-transaction: %s", sql);
	check(got == want || (got && want && strcmp(got, want) == 0), what,
		  got ? got : "(null)", want ? want : "(null)");
}

static void
test_no_transaction(void)
{
	check_notxn("CREATE INDEX CONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY");
	check_notxn("create unique index concurrently if not exists i on t (a)", "CREATE INDEX CONCURRENTLY");
	check_notxn("/* why */ CREATE -- now\n INDEX\tCONCURRENTLY i ON t (a)", "CREATE INDEX CONCURRENTLY");
	check_notxn("CREATE INDEX i ON t (a)", NULL);
	check_notxn("CREATE INDEX concurrently_idx ON t (a)", NULL);
	check_notxn("CREATE INDEX \"concurrently\" ON t (a)", NULL);
	check_notxn("DROP INDEX CONCURRENTLY IF EXISTS i", "DROP INDEX CONCURRENTLY");
	check_notxn("DROP INDEX i", NULL);
	check_notxn("REINDEX TABLE CONCURRENTLY t", "REINDEX CONCURRENTLY");
	check_notxn("REINDEX (VERBOSE, CONCURRENTLY) INDEX i", "REINDEX CONCURRENTLY");
	check_notxn("REINDEX (CONCURRENTLY false) INDEX i", NULL);
	check_notxn("REINDEX TABLE t", NULL);
	check_notxn("REINDEX SCHEMA app", "REINDEX SCHEMA");
	check_notxn("REINDEX DATABASE app", "REINDEX DATABASE");
	check_notxn("VACUUM (ANALYZE) t", "VACUUM");
	check_notxn("ANALYZE t", NULL);
	check_notxn("ALTER SYSTEM SET work_mem = '1GB'", "ALTER SYSTEM");
	check_notxn("ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY", "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY");
	check_notxn("ALTER TABLE IF EXISTS ONLY p DETACH PARTITION p1 FINALIZE", NULL);
	check_notxn("ALTER TABLE p DETACH PARTITION p1", NULL);
	check_notxn("ALTER TABLE t ADD COLUMN concurrently int", NULL);
	check_notxn("ALTER DATABASE app SET TABLESPACE fast", "ALTER DATABASE ... SET TABLESPACE");
	check_notxn("ALTER DATABASE app SET work_mem = '1GB'", NULL);
	check_notxn("CREATE DATABASE x", "CREATE DATABASE");
	check_notxn("DROP TABLESPACE x", "DROP TABLESPACE");
	check_notxn("CLUSTER", "CLUSTER");
	check_notxn("CLUSTER VERBOSE", "CLUSTER");
	check_notxn("CLUSTER t USING i", NULL);
	check_notxn("DISCARD ALL", "DISCARD ALL");
	check_notxn("DISCARD TEMP", NULL);
	check_notxn("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", NULL);
	check_notxn("SELECT 'CREATE INDEX CONCURRENTLY'", NULL);
	check_notxn("", NULL);
}

/*
 * The text a checksum hashes: the chunks of cksumnorm_next() joined, with
 * "\n" shown as "|" so that a failure is readable.
 */
static void
check_norm(const char *in, int scheme, const char *want)
{
	ChecksumNorm n;
	const char *chunk;
	size_t		len;
	char		got[256];
	size_t		used = 0;
	char		what[300];
	size_t		i;

	cksumnorm_init(&n, in, strlen(in), scheme);
	while (cksumnorm_next(&n, &chunk, &len))
	{
		if (used + len >= sizeof(got))
			break;
		memcpy(got + used, chunk, len);
		used += len;
	}
	got[used] = '\0';
	for (i = 0; i < used; i++)
		if (got[i] == '\n')
			got[i] = '|';
	/* the input with its line ends and blanks spelt out */
	strcpy(what, "checksum text of ");
	used = strlen(what);
	for (i = 0; in[i] && used < 200; i++)
	{
		const char *esc = in[i] == '\n' ? "\\n" : in[i] == '\r' ? "\\r" :
			in[i] == '\t' ? "\\t" : in[i] == '\f' ? "\\f" : in[i] == '\v' ? "\\v" : NULL;

		if (esc)
		{
			memcpy(what + used, esc, 2);
			used += 2;
		}
		else
			what[used++] = in[i];
	}
	what[used] = '\0';
	snprintf(what + used, sizeof(what) - used, " (scheme %d)", scheme);
	check_str(what, got, want);
}

static void
test_checksum_norm(void)
{
	check_norm("", 2, "");
	check_norm("SELECT 1;", 2, "SELECT 1;");
	check_norm("SELECT 1;\n", 2, "SELECT 1;");
	check_norm("SELECT 1;\n", 1, "SELECT 1;|");
	check_norm("a\r\nb\r\n", 2, "a|b");
	check_norm("a\r\nb\r\n", 1, "a|b|");
	check_norm("a\rb\r", 1, "a|b|");
	check_norm("a\r\rb", 2, "a||b");
	check_norm("a\r\n\r\nb", 2, "a||b");
	check_norm("\r\na", 2, "|a");
	check_norm("\xEF\xBB\xBFSELECT 1;", 2, "SELECT 1;");
	check_norm("\xEF\xBB\xBF", 2, "");
	check_norm("\xEF\xBB\xBF \n", 2, "");
	check_norm("\xEF\xBB", 2, "\xEF\xBB");
	check_norm("x\xEF\xBB\xBF", 2, "x\xEF\xBB\xBF");
	check_norm("a  \t\f\v\n\r\n ", 2, "a");
	check_norm("a  \t\n", 1, "a  \t|");
	check_norm("  a", 2, "  a");
	check_norm(" \n ", 2, "");
}

/* sqllex_password_prefix: what an echo of a statement may show */
static void
test_password_prefix(void)
{
	static const struct
	{
		const char *stmt;
		const char *shown;		/* NULL: all of it */
	}			cases[] = {
		{"CREATE ROLE r PASSWORD 'x'", "CREATE ROLE"},
		{"alter\n  user r PASSWORD 'x'", "alter\n  user"},
		{"ALTER USER MAPPING FOR r SERVER s OPTIONS (password 'x')", "ALTER USER"},
		{"create server s foreign data wrapper w options (password 'x')", "create server"},
		{"CREATE SUBSCRIPTION s CONNECTION 'password=x' PUBLICATION p", "CREATE SUBSCRIPTION"},
		{"ALTER GROUP g RENAME TO h", "ALTER GROUP"},
		{"ALTER SYSTEM SET primary_conninfo = 'password=x'", "ALTER SYSTEM"},
		{"/* a */ ALTER -- b\n ROLE r PASSWORD 'x'", "/* a */ ALTER -- b\n ROLE"},
		/* comments as the server reads them: nested, and -- ended by CR */
		{"CREATE /* x /* y */ */ USER u PASSWORD 'x'", "CREATE /* x /* y */ */ USER"},
		{"ALTER -- c\rROLE r PASSWORD 'x'", "ALTER -- c\rROLE"},
		{"CREATE TABLE roles (password text)", NULL},
		{"ALTER ROLEX", NULL},
		{"CREATE OR REPLACE FUNCTION role() RETURNS int", NULL},
		{"DROP ROLE r", NULL},
		{"SELECT 'CREATE ROLE r PASSWORD x'", NULL},
		{"CREATE", NULL},
		{"", NULL},
	};
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		size_t		n = sqllex_password_prefix(cases[i].stmt, strlen(cases[i].stmt));
		char		got[128];
		char		what[160];
		char		name[100];
		size_t		j,
					k = 0;

		snprintf(got, sizeof(got), "%.*s", (int) n, cases[i].stmt);

		/* the test's name on one line */
		for (j = 0; cases[i].stmt[j] && k + 2 < sizeof(name); j++)
		{
			if (cases[i].stmt[j] == '\n' || cases[i].stmt[j] == '\r')
			{
				name[k++] = '\\';
				name[k++] = cases[i].stmt[j] == '\n' ? 'n' : 'r';
			}
			else
				name[k++] = cases[i].stmt[j];
		}
		name[k] = '\0';
		snprintf(what, sizeof(what), "password prefix of \"%s\"", name);
		check_str(what, n == 0 ? "(all of it)" : got,
				  cases[i].shown ? cases[i].shown : "(all of it)");
	}
}

int
main(void)
{
	test_lexer_basics();
	test_lexer_literals();
	test_lexer_atomic();
	test_lexer_kinds();
	test_lexer_copy();
	test_lexer_meta();
	test_lexer_lines_and_errors();
	test_directives();
	test_sections();
	test_section_lines();
	test_versions();
	test_files();
	test_no_transaction();
	test_checksum_norm();
	test_password_prefix();
	printf("%d passed, %d failed\n", npassed, nfailed);
	return nfailed ? 1 : 0;
}
