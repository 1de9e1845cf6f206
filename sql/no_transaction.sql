-- no_transaction: migrations marked "-- smig:no-transaction" run from
-- CALL smig.upgrade() / CALL smig.downgrade_to() in a background worker,
-- each statement a top-level command (CREATE INDEX CONCURRENTLY, DROP
-- INDEX CONCURRENTLY); the functions refuse them with a hint; a failing
-- statement is reported with its message and line, leaves the statements
-- before it done and the migration unapplied; an INVALID index left by a
-- failed concurrent build is never taken for success, and a retry drops it
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;

CREATE SCHEMA nt;
CREATE TABLE nt.t (id int, v int);
INSERT INTO nt.t SELECT g, g % 10 FROM generate_series(1, 1000) g;
CREATE ROLE regress_nt_owner NOLOGIN;
GRANT ALL ON SCHEMA nt TO regress_nt_owner;
ALTER TABLE nt.t OWNER TO regress_nt_owner;

-- 1. registered as a member of regress_nt_owner, to run as it
SELECT smig.register('1', 'index_id',
  E'-- smig:no-transaction\n-- smig:run-as regress_nt_owner\nCREATE INDEX CONCURRENTLY t_id_idx ON nt.t (id);\nCREATE INDEX CONCURRENTLY IF NOT EXISTS t_v_idx ON nt.t (v);\nSELECT current_user;',
  E'DROP INDEX CONCURRENTLY nt.t_v_idx;\nDROP INDEX CONCURRENTLY nt.t_id_idx;');

-- 2. the functions refuse it, naming the procedure
\set VERBOSITY default
SELECT * FROM smig.upgrade_head();
SELECT * FROM smig.upgrade_to('1');
SELECT * FROM smig.apply('1');
BEGIN;
CALL smig.upgrade();
ROLLBACK;
SELECT version, state FROM smig.status();

-- 3. CALL smig.upgrade() builds the indexes through the worker: valid,
-- owned by the run-as role, the DDL attributed to the migration
\set VERBOSITY terse
CALL smig.upgrade();
SELECT c.relname, i.indisvalid, pg_get_userbyid(c.relowner) AS owner
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'nt.t'::regclass ORDER BY 1;
SELECT action, version, run_as FROM smig.history ORDER BY id;
SELECT version, event, command_tag, object_identity, statement, role
  FROM smig.ddl_log WHERE version IS NOT NULL ORDER BY id;
SELECT version, state FROM smig.status();
-- no lock left behind, no worker either
SELECT count(*) AS smig_locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND objsubid IN (1, 2);

-- the worker starts with the caller's search_path
SET search_path = nt, public;
SELECT smig.register('1.1', 'unqualified',
  E'-- smig:no-transaction\n-- smig:run-as regress_nt_owner\nCREATE INDEX CONCURRENTLY t_id_v_idx ON t (id, v);',
  E'DROP INDEX CONCURRENTLY nt.t_id_v_idx;');
CALL smig.upgrade();
RESET search_path;
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'nt.t'::regclass AND c.relname = 't_id_v_idx';

-- a parallel build in the worker, as the migration sets it (the worker is
-- in no lock group of the caller's; t/008_no_transaction.pl checks that
-- it asks for parallel workers)
SELECT smig.register('1.2', 'parallel',
  E'-- smig:no-transaction\nSET min_parallel_table_scan_size = 0;\nSET max_parallel_maintenance_workers = 2;\nCREATE INDEX CONCURRENTLY t_v_id_idx ON nt.t (v, id);',
  E'DROP INDEX CONCURRENTLY nt.t_v_id_idx;');
CALL smig.upgrade();

-- 4. reverting: the down script's DROP INDEX CONCURRENTLY, through the
-- worker; smig.rollback() and smig.downgrade() refuse it
\set VERBOSITY default
SELECT * FROM smig.rollback();
SELECT * FROM smig.downgrade('0');
\set VERBOSITY terse
CALL smig.downgrade_to('0');
SELECT smig.unregister('1.1'), smig.unregister('1.2');
SELECT count(*) AS indexes FROM pg_index WHERE indrelid = 'nt.t'::regclass;
SELECT version, command_tag, object_identity FROM smig.ddl_log
 WHERE version IS NOT NULL AND command_tag = 'DROP INDEX' ORDER BY id;
SELECT action, version FROM smig.history ORDER BY id;

-- 5. a statement that fails half-way: its message, SQLSTATE and line;
-- the statements before it stay done; the migration stays pending, with
-- a failed attempt naming the statement
SELECT smig.register('2', 'fails',
  E'-- smig:no-transaction\nCREATE TABLE IF NOT EXISTS nt.done (id int);\n\nSELECT 1 / (SELECT count(*) FROM nt.done)::int;');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT to_regclass('nt.done') IS NOT NULL AS first_statement_done;
SELECT version, state FROM smig.status() WHERE version = '2';
SELECT action, version, direction, error, sqlstate, detail
  FROM smig.history WHERE action = 'failed' ORDER BY id;
-- resume: make the failing statement pass; the first one is idempotent
INSERT INTO nt.done VALUES (1);
CALL smig.upgrade();
SELECT version, state FROM smig.status() WHERE version = '2';

-- 6. SET in a migration lasts until it ends (the worker's session):
-- statement_timeout set by one statement stops a later one
SELECT smig.register('3', 'timeout',
  E'-- smig:no-transaction\nSET statement_timeout = ''50ms'';\nSELECT pg_sleep(5);');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT current_setting('statement_timeout') AS caller_statement_timeout;
SELECT smig.unregister('3');
-- the caller's statement_timeout ends the procedure's (bounded) lock
-- waits for the worker: the worker, with none of its own, is terminated,
-- and the failed attempt names the statement it was running
SELECT smig.register('3.1', 'caller_timeout',
  E'-- smig:no-transaction\nSET statement_timeout = 0;\nSELECT pg_sleep(30);');
SET statement_timeout = '1s';
CALL smig.upgrade();
RESET statement_timeout;
SELECT count(*) AS workers FROM pg_stat_activity WHERE backend_type = 'smig worker';
SELECT error, detail FROM smig.history WHERE action = 'failed' AND version = '3.1';
SELECT smig.unregister('3.1');

-- 7. trap 2: a unique concurrent build over duplicate rows fails and
-- leaves an INVALID index (named); the data is fixed; the retry drops the
-- leftover and builds a valid index
CREATE TABLE nt.d (id int, v int);
ALTER TABLE nt.d OWNER TO regress_nt_owner;
INSERT INTO nt.d VALUES (1, 1), (2, 1), (3, 2);
SELECT smig.register('4', 'unique_v',
  E'-- smig:no-transaction\n-- smig:run-as regress_nt_owner\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS d_v_key ON nt.d (v);');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'nt.d'::regclass;
SELECT version, state FROM smig.status() WHERE version = '4';
DELETE FROM nt.d WHERE id = 2;
CALL smig.upgrade();
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'nt.d'::regclass;
SELECT version, state FROM smig.status() WHERE version = '4';

-- 8. an INVALID index that IF NOT EXISTS would keep (left by a failed
-- build outside smig) is never taken for success
CREATE TABLE nt.e (v int);
ALTER TABLE nt.e OWNER TO regress_nt_owner;
INSERT INTO nt.e VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY e_v_key ON nt.e (v);
UPDATE nt.e SET v = 2 WHERE ctid = (SELECT min(ctid) FROM nt.e);
SELECT smig.register('5', 'unique_e',
  E'-- smig:no-transaction\n-- smig:run-as regress_nt_owner\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS e_v_key ON nt.e (v);');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT version, state FROM smig.status() WHERE version = '5';
-- the retry (a failed attempt is recorded) drops and rebuilds it
CALL smig.upgrade();
SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'nt.e'::regclass;

-- 9. a repeatable migration cannot be no-transaction
SELECT smig.register_repeatable('nt_view', E'-- smig:no-transaction\nCREATE OR REPLACE VIEW nt.v AS SELECT 1 AS one;');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT smig.unregister('R__nt_view');

SELECT count(*) AS smig_locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND objsubid IN (1, 2);
DROP SCHEMA nt CASCADE;
DROP EXTENSION smig CASCADE;
DROP ROLE regress_nt_owner;
