-- upgrade_head, upgrade_to, apply: order, NOTICEs, history, state functions
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

-- registered out of order; applied in version order (1.9 before 1.10)
SELECT smig.register('1.10', 'add_email', 'ALTER TABLE up_users ADD COLUMN email text;');
SELECT smig.register('1.9', 'add_name', 'ALTER TABLE up_users ADD COLUMN name text;');
SELECT smig.register('1', 'create_users', 'CREATE TABLE up_users (id int PRIMARY KEY);');
SELECT smig.register('2', 'seed', 'INSERT INTO up_users (id, name, email) VALUES (1, ''a'', ''a@example.org'');');

SELECT smig.current() IS NULL AS empty_history;
SELECT * FROM smig.pending();
SELECT version, name, state FROM smig.status();

-- bounded: up to a target
SELECT version, name, duration >= '0'::interval AS timed FROM smig.upgrade_to('1.9');
SELECT smig.current();
SELECT * FROM smig.pending();

-- everything else, one NOTICE each
SELECT version, name FROM smig.upgrade_head();
SELECT smig.current();
SELECT * FROM up_users;
SELECT version, name, state, applied_by = current_user AS by_me FROM smig.status();

-- nothing to do: no rows
SELECT count(*) FROM smig.upgrade_head();
SELECT count(*) FROM smig.upgrade_to('2');
-- a target that is not registered, or one below the current version, is an
-- error, not a silent no-op (even on the fast path)
\set VERBOSITY default
SELECT count(*) FROM smig.upgrade_to('99');
SELECT count(*) FROM smig.upgrade_to('1.9');
\set VERBOSITY terse
-- the fast path answers only upgrade_head(): apply() of an applied version
-- still says why it cannot
SELECT * FROM smig.apply('2');

-- history: one apply row per migration, with who, when, how long, txid, checksum
SELECT h.action, h.version, h.name, h.checksum = m.checksum AS checksum_ok,
       h.role = current_user AS role_ok, h.session_role = session_user AS session_ok,
       h.duration >= '0'::interval AS timed, h.started_at <= now() AS started_ok,
       h.txid IS NOT NULL AS txid_ok
  FROM smig.history h JOIN smig.migration m USING (version_key)
 ORDER BY h.id;
-- one transaction per call: the first call's two rows share a txid
SELECT count(DISTINCT txid) AS transactions FROM smig.history;

-- apply(version): exactly one
SELECT smig.register('3', 'three', 'CREATE TABLE up_three ();');
SELECT smig.register('4', 'four', 'CREATE TABLE up_four ();');
SELECT version, name FROM smig.apply('4');
SELECT version, state FROM smig.status() WHERE version IN ('3', '4');
-- apply() applied one of two: upgrade_head() still sees the other
SELECT version FROM smig.upgrade_head();
SET smig.out_of_order = on;
SELECT version, name FROM smig.apply('03');
RESET smig.out_of_order;
\set VERBOSITY default
SELECT * FROM smig.apply('4');
SELECT * FROM smig.apply('99');
SELECT * FROM smig.apply('x');
SELECT * FROM smig.upgrade_to('1..2');
\set VERBOSITY terse

-- migrations run as the role that registered them: here, the caller
SELECT tableowner = current_user AS owned_by_caller FROM pg_tables WHERE tablename = 'up_users';

-- the whole call is the caller's transaction: rolled back together
SELECT smig.register('5', 'five', 'CREATE TABLE up_five ();');
BEGIN;
SELECT version FROM smig.upgrade_head();
ROLLBACK;
SELECT version, state FROM smig.status() WHERE version = '5';
SELECT to_regclass('up_five') IS NULL AS not_created;

-- "-- smig:lock-timeout": lock_timeout while that migration runs, restored after;
-- without it, smig.lock_timeout (default 1s)
SELECT smig.register('6', 'timed', E'-- smig:lock-timeout 5s\nCREATE TABLE up_lt AS SELECT current_setting(''lock_timeout'') AS during;');
SELECT smig.register('7', 'untimed', 'INSERT INTO up_lt SELECT current_setting(''lock_timeout'');');
SELECT version FROM smig.upgrade_head();
SELECT during FROM up_lt;
SHOW lock_timeout;

-- an empty BEGIN; COMMIT; wrapper is not sent: a recorded no-op
SELECT smig.register('7.1', 'empty_wrapper', E'BEGIN;\nCOMMIT;\n');
SELECT smig.register('7.2', 'empty_wrapper_lower', E'begin;\ncommit;');
SELECT version FROM smig.upgrade_head();
SELECT version, state FROM smig.status() WHERE version IN ('7.1', '7.2');

-- "-- smig:no-transaction": refused before anything runs; CALL smig.upgrade() runs it
SELECT smig.register('8', 'concurrently', E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY up_users_email ON up_users (email);');
SELECT smig.register('9', 'after', 'CREATE TABLE up_after ();');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT to_regclass('up_after') IS NULL AS nothing_ran;
SELECT version, state FROM smig.status() WHERE version IN ('8', '9');
