-- failures: the message names the migration, the context the line;
-- registry and history are left exactly as they were
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
