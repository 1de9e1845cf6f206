-- lexing: what real migration files contain, registered and applied
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;
\set VERBOSITY terse

-- dollar quotes of any tag, ';' inside them, DO blocks, comments everywhere
SELECT smig.register('1', 'functions', $mig$
/* a block /* nested */ comment; with a semicolon */
CREATE TABLE lex_t (id int, note text DEFAULT 'it''s; fine', "odd;name" int);
CREATE FUNCTION lex_f() RETURNS text LANGUAGE plpgsql AS $body$
BEGIN
    -- a semicolon; inside a body
    RETURN 'a;b' || $x$;$x$;
END
$body$;
DO $$ BEGIN INSERT INTO lex_t (id) VALUES (1); END $$;
CREATE FUNCTION lex_atomic(a int) RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT a + 1;
    SELECT a + 2;
END;
INSERT INTO lex_t (id, note) VALUES (2, E'back\\slash\'; quote');  -- trailing comment
INSERT INTO lex_t (id) SELECT x FROM (SELECT 3 AS x) s   -- no final semicolon
$mig$);
SELECT version, name FROM smig.upgrade_head();
SELECT id, note, lex_f(), lex_atomic(1) FROM lex_t ORDER BY id;

-- a psql-style BEGIN; ... COMMIT; wrapper is recognised and not sent
SELECT smig.register('2', 'wrapped', E'-- header\nBEGIN;\nCREATE TABLE lex_wrapped (id int);\nCOMMIT;\n');
SELECT smig.register('3', 'wrapped_lower', E'begin transaction;\ninsert into lex_wrapped values (1);\nend;');
SELECT smig.register('4', 'start', E'START TRANSACTION ISOLATION LEVEL READ COMMITTED;\ninsert into lex_wrapped values (2);\nCOMMIT WORK;');
BEGIN;
SELECT version, name FROM smig.upgrade_head();
-- still in our own transaction: nothing was committed by the migrations
SELECT count(*) FROM lex_wrapped;
ROLLBACK;
SELECT to_regclass('lex_wrapped') IS NULL AS rolled_back;

-- an empty file is a placeholder: applied as a no-op, and recorded
SELECT smig.register('5', 'placeholder', '');
SELECT smig.register('6', 'comments_only', E'-- nothing yet\n/* later */\n');
SELECT version, name FROM smig.upgrade_head() ORDER BY 1;
SELECT version, action FROM smig.history WHERE version IN ('5', '6') ORDER BY id;

-- BOM and CRLF line ends
SELECT smig.register('7', 'crlf', convert_from('\xefbbbf'::bytea, 'UTF8') || E'CREATE TABLE lex_crlf (id int);\r\nINSERT INTO lex_crlf VALUES (7);\r\n');
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM lex_crlf;

-- refused at register time, naming the line
\set VERBOSITY default
SELECT smig.register('20', 'commit_inside', E'CREATE TABLE a (id int);\nCOMMIT;\nCREATE TABLE b (id int);');
SELECT smig.register('20', 'rollback', E'CREATE TABLE a (id int);\n\nROLLBACK;');
SELECT smig.register('20', 'savepoint', E'SAVEPOINT s;\nCREATE TABLE a (id int);');
SELECT smig.register('20', 'begin_only', E'BEGIN;\nCREATE TABLE a (id int);');
SELECT smig.register('20', 'commit_only', E'CREATE TABLE a (id int);\nCOMMIT;');
SELECT smig.register('20', 'begin_twice', E'BEGIN;\nBEGIN;\nCOMMIT;');
SELECT smig.register('20', 'prepare_txn', E'PREPARE TRANSACTION ''x'';');
SELECT smig.register('20', 'include', E'CREATE TABLE a (id int);\n\\i other.sql\n');
SELECT smig.register('20', 'set_var', E'\\set ON_ERROR_STOP 1\nCREATE TABLE a (id int);');
SELECT smig.register('20', 'gset', E'SELECT 1 AS x \\gset\n');
SELECT smig.register('20', 'unterminated', E'CREATE TABLE a (id int);\nSELECT ''oops;\n');
SELECT smig.register('20', 'unterminated_dollar', E'DO $$ BEGIN\nNULL;\nEND $;');
SELECT smig.register('20', 'unterminated_comment', E'/* never closed\nSELECT 1;');
SELECT smig.register('20', 'down_bad', 'CREATE TABLE a (id int);', E'DROP TABLE a;\nCOMMIT;');
-- nothing of the refused registrations is in the registry
SELECT count(*) FROM smig.migration WHERE version = '20';
-- a prepared statement is not transaction control
SELECT smig.register('21', 'prepared', 'PREPARE lex_q AS SELECT 1; DEALLOCATE lex_q;');
SELECT version, name FROM smig.upgrade_head();
-- a long meta-command with multibyte characters is clipped on a character boundary
SELECT smig.register('22', 'meta_utf8', E'\\echo ' || repeat('é', 60));

-- a script may end exactly in its closing dollar quote (no ';', no newline)
SELECT smig.register('900', 'ends_in_dollar', 'DO $$BEGIN PERFORM 1; END$$');
SELECT smig.register('901', 'ends_in_tag', 'DO $tag$BEGIN PERFORM 1; END$tag$');
SELECT version FROM smig.upgrade_to('901');

-- COPY through the client is refused at registration, with its line; psql's
-- inline data after FROM STDIN does not turn it into a meta-command error
\set VERBOSITY default
SELECT smig.register('20', 'copy_in', E'CREATE TABLE lex_copy (a int, b text);\nCOPY lex_copy FROM STDIN;\n1\tone\n2\ttwo\n\\.\n');
SELECT smig.register('20', 'copy_csv', E'-- data\n\ncopy lex_copy (a, b) from stdin with (format csv);\n');
SELECT smig.register('20', 'copy_out', E'COPY (SELECT 1) TO STDOUT;');
SELECT smig.register('20', 'copy_down', 'SELECT 1;', E'SELECT 2;\nCOPY lex_copy TO STDOUT;');
\set VERBOSITY terse
-- COPY from or to a server file is a plain statement
SELECT smig.register('20', 'copy_file', E'COPY (SELECT 1) TO ''/dev/null'';');
SELECT smig.unregister('20');

-- errors in sections count lines from the file's first line
SELECT smig.register('23', 'x', E'-- header\n-- more header\n-- smig:up\nCREATE TABLE lex_sect ();\n\\i other.sql\n');
SELECT smig.register('23', 'x', E'-- smig:up\nSELECT 1;\n-- smig:down\nSELECT 2;\nROLLBACK;\n');
SELECT smig.register('23', 'x', E'-- header\n-- smig:up\nSELECT 1;\nSELECT ''x;\n-- smig:down\nSELECT 2;\n');
SELECT smig.register('23', 'x', E'-- header\r-- smig:up\rSELECT 1;\r\\set x 1\r');
SELECT count(*) AS not_registered FROM smig.migration WHERE version = '23';
