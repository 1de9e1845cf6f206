-- lock_retry: smig.lock_timeout, smig.lock_retries, smig.retry_backoff and
-- smig.statement_timeout, their directives and options, and a statement
-- retried after a lock timeout (issue 16).  The lock is held by a prepared
-- transaction, so that the NOTICE's holder ("a prepared transaction", no
-- PID) reads the same in every run; the two-session story (wait, retry,
-- succeed when the holder commits) is specs/lock_retry_concurrency.spec.
SET smig.allow_drop_extension = on;
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

-- the settings and their defaults
SHOW smig.lock_timeout;
SHOW smig.lock_retries;
SHOW smig.retry_backoff;
SHOW smig.statement_timeout;
SET smig.lock_retries = -1;
SET smig.lock_retries = 1001;
SET smig.lock_timeout = 'soon';

-- directives and options: checked at registration, stored as options
SELECT smig.register('1', 'd', E'-- smig:lock-retries 3\n-- smig:statement-timeout 30s\n-- smig:lock-timeout 250ms\nSELECT 1;');
SELECT smig.register('2', 'o', 'SELECT 2;', NULL, '{"lock_retries": 0, "statement_timeout": "1min"}');
SELECT version, options FROM smig.migration ORDER BY version_key;
SELECT smig.register('9', 'x', E'-- smig:lock-retries many\nSELECT 1;');
SELECT smig.register('9', 'x', E'-- smig:lock-retries -1\nSELECT 1;');
SELECT smig.register('9', 'x', E'-- smig:lock-retries 1001\nSELECT 1;');
SELECT smig.register('9', 'x', E'-- smig:statement-timeout later\nSELECT 1;');
SELECT smig.register('9', 'x', E'-- smig:lock-retries\nSELECT 1;');
SELECT smig.register('9', 'x', 'SELECT 1;', NULL, '{"lock_retries": "3"}');
SELECT smig.register('9', 'x', 'SELECT 1;', NULL, '{"lock_retries": 2.5}');
SELECT smig.register('9', 'x', 'SELECT 1;', NULL, '{"statement_timeout": 30}');
SELECT smig.register('9', 'x', 'SELECT 1;', NULL, '{"statement_timeout": "-1s"}');
SELECT count(*) AS registered FROM smig.migration;
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;

-- a table another transaction holds: a prepared transaction keeps its lock
CREATE TABLE busy (id int);
CREATE TABLE counter (n int);
CREATE SEQUENCE attempts;
-- a statement that counts its attempts, then waits for busy
CREATE FUNCTION lock_busy() RETURNS void LANGUAGE sql
    AS $$ SELECT nextval('attempts'); LOCK TABLE busy IN ACCESS EXCLUSIVE MODE $$;
BEGIN;
LOCK TABLE busy IN SHARE MODE;
PREPARE TRANSACTION 'regress_holder';

SET smig.lock_timeout = '20ms';
SET smig.retry_backoff = 0;
SET smig.lock_retries = 2;
-- retries run out: two NOTICEs, then the error says the same; nothing is
-- applied and the statement before it is rolled back with the rest
SELECT smig.register('3', 'alter_busy', E'INSERT INTO counter VALUES (1);\nSELECT lock_busy();\nALTER TABLE busy ADD COLUMN c int;');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS counter_rows FROM counter;
SELECT last_value AS attempts FROM attempts;
SELECT version, state FROM smig.status() WHERE version = '3';
SELECT count(*) AS failed_rows FROM smig.history WHERE version = '3';

-- a directive overrides the setting: no retry, PostgreSQL's own error
SELECT smig.register('3', 'alter_busy', E'-- smig:lock-retries 0\nINSERT INTO counter VALUES (1);\nALTER TABLE busy ADD COLUMN c int;');
SELECT version FROM smig.upgrade_head();
-- ... and so does the lock_retries option
SELECT smig.register('3', 'alter_busy', E'INSERT INTO counter VALUES (1);\nALTER TABLE busy ADD COLUMN c int;', NULL, '{"lock_retries": 1}');
SELECT version FROM smig.upgrade_head();
-- smig.lock_retries = 0: the first timeout fails
SELECT smig.register('3', 'alter_busy', E'INSERT INTO counter VALUES (1);\nALTER TABLE busy ADD COLUMN c int;');
SET smig.lock_retries = 0;
SELECT version FROM smig.upgrade_head();
SET smig.lock_retries = 2;

-- NOWAIT is the migration's own choice: its error propagates unchanged
SELECT smig.register('3', 'nowait', 'LOCK TABLE busy NOWAIT;');
SELECT version FROM smig.upgrade_head();
-- any other error of a retried statement keeps its message and context
SELECT smig.register('3', 'divide', E'SELECT 1;\nUPDATE counter SET n = 1 / 0;\nINSERT INTO counter SELECT 1 / 0;');
INSERT INTO counter VALUES (1);
SELECT version FROM smig.upgrade_head();
DELETE FROM counter;

-- CALL smig.upgrade(): the same retries; the failure is recorded
SELECT smig.register('3', 'alter_busy', E'INSERT INTO counter VALUES (1);\nALTER TABLE busy ADD COLUMN c int;', 'ALTER TABLE busy DROP COLUMN c;');
\set VERBOSITY terse
CALL smig.upgrade();
\set VERBOSITY default
SELECT action, version, sqlstate FROM smig.history WHERE version = '3' ORDER BY id;
SELECT count(*) AS counter_rows FROM counter;

-- statement timeouts: smig.statement_timeout and the directive bound each
-- statement with PostgreSQL's own error; the session's is untouched after
SELECT smig.register('3', 'slow', E'-- smig:statement-timeout 50ms\nSELECT pg_sleep(2);');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('3', 'slow', E'SELECT pg_sleep(0.01);\nSELECT pg_sleep(2);');
SET smig.statement_timeout = '50ms';
SELECT version FROM smig.upgrade_head();
SHOW statement_timeout;
SELECT pg_sleep(0.1) IS NOT NULL AS slept;
RESET smig.statement_timeout;
-- a statement that ends in time leaves no timer behind: the rest of the
-- caller's query runs as long as it needs
SELECT smig.register('3', 'quick', E'-- smig:statement-timeout 100ms\nSELECT 1;', 'SELECT 1;');
SET client_min_messages = warning;
SELECT (SELECT count(*) FROM smig.upgrade_head()) AS applied, pg_sleep(0.3) IS NOT NULL AS slept;
SELECT version FROM smig.rollback();
RESET client_min_messages;

-- the holder goes: the migration applies; then its down script waits for
-- a new holder and is retried by smig.rollback() as well
ROLLBACK PREPARED 'regress_holder';
SELECT smig.register('3', 'alter_busy', E'INSERT INTO counter VALUES (1);\nALTER TABLE busy ADD COLUMN c int;', 'ALTER TABLE busy DROP COLUMN c;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT count(*) AS counter_rows FROM counter;
BEGIN;
LOCK TABLE busy IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'regress_holder';
SELECT version FROM smig.rollback();
ROLLBACK PREPARED 'regress_holder';
SET client_min_messages = warning;
SELECT version FROM smig.rollback();
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;

-- a statement on tables this transaction created (or already holds in
-- ACCESS EXCLUSIVE mode) cannot wait for another session: it runs without
-- a savepoint.  Seen through xmin: a row written in a savepoint carries
-- the savepoint's own transaction id.
SELECT smig.register('4', 'fresh', E'CREATE TABLE fresh (id int);\nCREATE INDEX ON fresh (id);\nALTER TABLE fresh ADD COLUMN c int;\nINSERT INTO fresh SELECT g FROM generate_series(1, 3) g;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT (SELECT xmin FROM pg_class WHERE relname = 'fresh') = ALL (SELECT xmin FROM fresh) AS one_transaction_id;
-- a table that existed before gets one
SELECT smig.register('5', 'old', E'CREATE TABLE probe5 (id int);\nINSERT INTO probe5 VALUES (1);\nALTER TABLE busy ADD COLUMN d int;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT (SELECT xmin FROM pg_class WHERE relname = 'busy') <> (SELECT xmin FROM probe5) AS in_a_savepoint;
-- none at all with smig.lock_retries = 0 (or smig.lock_timeout = 0)
SELECT smig.register('6', 'old_again', E'CREATE TABLE probe6 (id int);\nINSERT INTO probe6 VALUES (1);\nALTER TABLE busy ADD COLUMN e int;');
SET smig.lock_retries = 0;
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT (SELECT xmin FROM pg_class WHERE relname = 'busy') <> (SELECT xmin FROM probe6) AS in_a_savepoint;
RESET smig.lock_retries;
SET smig.lock_timeout = 0;
SELECT smig.register('7', 'old_again', E'CREATE TABLE probe7 (id int);\nINSERT INTO probe7 VALUES (1);\nALTER TABLE busy ADD COLUMN f int;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT (SELECT xmin FROM pg_class WHERE relname = 'busy') <> (SELECT xmin FROM probe7) AS in_a_savepoint;
