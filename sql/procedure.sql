-- procedure: CALL smig.upgrade(target) and CALL smig.downgrade_to(target)
-- commit after each migration; a failure leaves the earlier ones done and
-- commits a failed-attempt row; refused inside a transaction block
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
-- terse: the NOTICEs show without their elapsed times
\set VERBOSITY terse

CREATE SCHEMA pr;
SELECT smig.register('1', 'one', 'CREATE TABLE pr.one (id int);', 'DROP TABLE pr.one;');
SELECT smig.register('2', 'two', 'CREATE TABLE pr.two (id int);', 'DROP TABLE pr.two;');
SELECT smig.register('3', 'three', 'CREATE TABLE pr.three (id int);', 'DROP TABLE pr.three;');

-- 1. up to a target, "k of n", one transaction per migration
CALL smig.upgrade('2');
SELECT smig.current();
SELECT count(*) AS history_rows, count(DISTINCT txid) AS transactions FROM smig.history;
CALL smig.upgrade();
CALL smig.upgrade();
SELECT version, state FROM smig.status();
-- no lock is left behind
SELECT count(*) AS deploy_locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND objsubid = 1;

-- 2. a failure in the middle: the migrations before it stay applied, the
-- failed attempt is committed to history, the error keeps its context
SELECT smig.register('4', 'four', 'CREATE TABLE pr.four (id int);', 'DROP TABLE pr.four;');
SELECT smig.register('5', 'five', E'CREATE TABLE pr.five (id int);\nCREATE TABLE pr.five (id int);', 'DROP TABLE pr.five;');
SELECT smig.register('6', 'six', 'CREATE TABLE pr.six (id int);', 'DROP TABLE pr.six;');
CALL smig.upgrade();
-- again, to see the context (every attempt is recorded)
\set VERBOSITY default
SET client_min_messages = warning;   -- the NOTICEs carry elapsed times
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT smig.current();
SELECT to_regclass('pr.four') IS NOT NULL AS four_applied,
       to_regclass('pr.five') IS NULL AS five_rolled_back,
       to_regclass('pr.six') IS NULL AS six_not_run;
SELECT action, version, name, direction, error, sqlstate, duration IS NOT NULL AS timed,
       role = current_user AS by_caller, run_as = current_user AS ran_as_caller,
       checksum = smig.checksum(E'CREATE TABLE pr.five (id int);\nCREATE TABLE pr.five (id int);') AS checksum_ok
  FROM smig.history WHERE action = 'failed' ORDER BY id;
SELECT version, state FROM smig.status() WHERE version IN ('4', '5', '6');
SELECT count(*) AS deploy_locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND objsubid = 1;
-- fixed, it goes on from there
SELECT smig.register('5', 'five', 'CREATE TABLE pr.five (id int);', 'DROP TABLE pr.five;');
CALL smig.upgrade();
SELECT smig.current();

-- 3. checked before anything runs: a modified migration stops the call
SELECT smig.register('7', 'seven', 'CREATE TABLE pr.seven (id int);', 'DROP TABLE pr.seven;');
SELECT smig.register('1', 'one', 'CREATE TABLE pr.one (id bigint);', 'DROP TABLE pr.one;');
CALL smig.upgrade();
SELECT to_regclass('pr.seven') IS NULL AS seven_not_applied;
SELECT count(*) AS failed_rows FROM smig.history WHERE action = 'failed';
SELECT smig.register('1', 'one', 'CREATE TABLE pr.one (id int);', 'DROP TABLE pr.one;');
-- an unknown target
CALL smig.upgrade('99');

-- 4. only as a top-level CALL outside a transaction block
BEGIN;
CALL smig.upgrade();
ROLLBACK;
BEGIN;
CALL smig.downgrade_to('1');
ROLLBACK;
CREATE FUNCTION pr.deploy() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    CALL smig.upgrade();
END
$$;
SELECT pr.deploy();
\set VERBOSITY default
BEGIN;
CALL smig.upgrade();
ROLLBACK;
\set VERBOSITY terse
-- a DO block at top level is not in a transaction block: it may commit
DO $$
BEGIN
    CALL smig.upgrade();
END
$$;
SELECT smig.current();
-- the functions are functions, the procedures procedures
SELECT smig.downgrade_to('1');
CALL smig.downgrade('1');

-- 5. down, one transaction per migration
CALL smig.downgrade_to('5');
SELECT smig.current();
CALL smig.downgrade_to('5');
SELECT version, state FROM smig.status() WHERE version IN ('5', '6', '7');
CALL smig.downgrade_to(NULL);
-- a migration on the way without a down script stops it before anything
SELECT smig.register('6', 'six', 'CREATE TABLE pr.six (id int);');
CALL smig.upgrade();
CALL smig.downgrade_to('3');
SELECT smig.current();
SELECT smig.register('6', 'six', 'CREATE TABLE pr.six (id int);', 'DROP TABLE pr.six;');
-- a failing down script: the reverts before it stay done, its attempt is recorded
SELECT smig.register('4', 'four', 'CREATE TABLE pr.four (id int);', 'DROP TABLE pr.no_such_table;');
SELECT version, script FROM smig.repair('4');
CALL smig.downgrade_to('3');
SELECT smig.current();
SELECT action, version, direction, error, sqlstate,
       down_checksum = smig.checksum('DROP TABLE pr.no_such_table;') AS down_checksum_ok
  FROM smig.history WHERE action = 'failed' ORDER BY id;
SELECT count(*) AS deploy_locks FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND objsubid = 1;
SELECT smig.register('4', 'four', 'CREATE TABLE pr.four (id int);', 'DROP TABLE pr.four;');
SELECT version, script FROM smig.repair('4');
CALL smig.downgrade_to('base');
SELECT smig.current();
SELECT action, count(*) FROM smig.history GROUP BY action ORDER BY action;

DROP SCHEMA pr CASCADE;
DROP EXTENSION smig CASCADE;
