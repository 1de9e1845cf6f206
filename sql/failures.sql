-- failures: the statement's own error, and one CONTEXT line naming the
-- line (of the file), the script and the migration; registry and history
-- are left exactly as they were
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;

SELECT smig.register('001', 'create_accounts', 'CREATE TABLE fail_accounts (id int PRIMARY KEY);');
SELECT smig.register('002', 'seed', 'INSERT INTO fail_accounts VALUES (1);');
SELECT smig.register('003', 'add_cache', E'CREATE TABLE fail_cache (id int);\n\nALTER TABLE fail_cache\n  ADD COLUMN size int,\n  ADD COLUMN size int;\n');
SELECT smig.register('004', 'later', 'CREATE TABLE fail_later ();');

CREATE TEMP TABLE registry_before AS SELECT * FROM smig.migration;

-- an execution error: SQLSTATE kept, line of the statement in the context
SELECT version FROM smig.upgrade_head();
DO $$
BEGIN
    PERFORM smig.upgrade_head();
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'caught SQLSTATE %', SQLSTATE;
END $$;
SELECT count(*) AS history_rows FROM smig.history;
SELECT count(*) AS applied_rows FROM smig.applied;
SELECT to_regclass('fail_accounts') IS NULL AS first_rolled_back,
       to_regclass('fail_cache') IS NULL AS third_rolled_back;
SELECT count(*) AS registry_changes
  FROM (SELECT * FROM smig.migration EXCEPT SELECT * FROM registry_before) d;

-- a syntax error: the line inside a multi-line statement
SELECT smig.register('003', 'add_cache', E'CREATE TABLE fail_cache (id int);\nCREATE INDEX ON fail_cache\n  (id\n  WHERE;\n');
SELECT version FROM smig.upgrade_head();

-- an error raised inside a DO block keeps its PL/pgSQL context
SELECT smig.register('003', 'add_cache', E'\n\nDO $$\nBEGIN\n  RAISE EXCEPTION ''custom failure'' USING ERRCODE = ''P0042'', HINT = ''Fix the data.'';\nEND\n$$;\n');
SELECT version FROM smig.upgrade_head();

-- the SQLSTATE is the one the statement raised
DO $$
BEGIN
    PERFORM smig.upgrade_head();
EXCEPTION WHEN OTHERS THEN
    RAISE WARNING 'caught SQLSTATE %', SQLSTATE;
END $$;

-- a failure inside the caller's transaction aborts it as usual
BEGIN;
SELECT version FROM smig.upgrade_head();
SELECT 1;
ROLLBACK;

-- a migration cannot apply migrations itself
SELECT smig.register('003', 'add_cache', 'SELECT smig.upgrade_head();');
\set VERBOSITY terse
SELECT version FROM smig.upgrade_head();
\set VERBOSITY default

-- fixed: everything applies
SELECT smig.register('003', 'add_cache', 'CREATE TABLE fail_cache (id int, size int);');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS history_rows FROM smig.history;

-- errors as caught by a caller: message, SQLSTATE and context unchanged
CREATE FUNCTION fail_caught(OUT code text, OUT message text, OUT context text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM smig.upgrade_head();
    code := 'none';
EXCEPTION WHEN OTHERS THEN
    code := SQLSTATE;
    GET STACKED DIAGNOSTICS message = MESSAGE_TEXT, context = PG_EXCEPTION_CONTEXT;
END $$;

-- a failing statement in the up section: lines count from the file's first line
SELECT smig.register('005', 'sections', E'-- header line 1\n-- header line 2\n\n-- smig:up\nCREATE TABLE fail_sect (id int);\n\nINSERT INTO fail_sect\n  VALUES (1, 2);\n-- smig:down\nDROP TABLE fail_sect;\n');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('005', 'sections', E'-- header\n-- smig:up\nCREATE TABLE fail_sect (id int);\nCREATE INDEX ON fail_sect\n  (id\n  WHERE;\n-- smig:down\nDROP TABLE fail_sect;\n');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('005', 'sections', E'-- header\n-- smig:up\n\nCREATE TABLE fail_accounts (id int);\n-- smig:down\nDROP TABLE fail_accounts;\n');
SELECT version FROM smig.upgrade_head();

-- a CR-only file (old Mac line ends): a syntax error on line 5
SELECT smig.register('005', 'old_mac', E'-- saved on a Mac\rCREATE TABLE fail_mac (id int);\rCREATE INDEX ON fail_mac\r  (id\r  WHERE;\r');
SELECT code, message, replace(context, E'\n', ' / ') AS context FROM fail_caught();

-- an error inside a function the migration calls keeps its own position
-- and context; the migration adds one line, and nothing nests
CREATE FUNCTION fail_inner() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'SELEC 1';
END $$;
SELECT smig.register('005', 'calls', E'\nSELECT fail_inner();\n');
SELECT version FROM smig.upgrade_head();
SELECT code, message, replace(context, E'\n', ' / ') AS context FROM fail_caught();

-- statements SPI refuses get a clear error (registration refuses them, so
-- these rows are written by hand, as a 0.1 registry could hold them)
SELECT smig.register('005', 'placeholder', 'SELECT 1;');
UPDATE smig.migration
   SET up_sql = E'CREATE TABLE fail_copy (a int);\nCOPY fail_copy FROM STDIN;\n1\n\\.\n'
 WHERE version = '005';
SELECT version FROM smig.upgrade_head();
UPDATE smig.migration SET up_sql = E'SELECT 1;\nSAVEPOINT s;' WHERE version = '005';
SELECT version FROM smig.upgrade_head();
