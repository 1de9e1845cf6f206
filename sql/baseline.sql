-- baseline: smig.baseline() on an existing database, and B<version> migrations
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

SELECT smig.register('1', 'one', 'CREATE TABLE base_one ();');
SELECT smig.register('2', 'two', 'CREATE TABLE base_two ();');
SELECT smig.register('3', 'three', 'CREATE TABLE base_three ();');

-- an existing database already has 1 and 2: applying everything fails on
-- the first object that exists, with a hint pointing to smig.baseline()
CREATE TABLE base_one ();
CREATE TABLE base_two ();
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
-- so baseline at 2
SELECT smig.baseline('2', 'existing schema');
SELECT smig.current();
SELECT version, name, state FROM smig.status();
SELECT * FROM smig.pending();
SELECT action, version, name, checksum, duration FROM smig.history;
SELECT version, name FROM smig.upgrade_head();
SELECT NOT EXISTS (SELECT 1 FROM smig.history WHERE version IN ('1', '2') AND action = 'apply') AS one_two_skipped, to_regclass('base_three') IS NOT NULL AS three_ran;

-- a baseline only moves forward
\set VERBOSITY default
SELECT smig.baseline('3');
SELECT smig.baseline('1');
SELECT smig.baseline('x');
SELECT smig.baseline('9', '');
\set VERBOSITY terse
SELECT smig.baseline('10', 'squash');
SELECT version, state FROM smig.status();

-- baseline migrations (B<version>): an empty database applies the highest
-- and skips every older version
DROP EXTENSION smig CASCADE;
DROP TABLE IF EXISTS base_one, base_two, base_three;
CREATE EXTENSION smig;
SELECT smig.register('1', 'one', 'CREATE TABLE base_one ();');
SELECT smig.register('2', 'two', 'CREATE TABLE base_two ();');
SELECT smig.register('3', 'full_schema', 'CREATE TABLE base_full ();', NULL, '{"baseline": true}');
SELECT smig.register('4', 'four', 'CREATE TABLE base_four ();');
SELECT version, state FROM smig.status();
SELECT version, name FROM smig.upgrade_head();
SELECT to_regclass('base_one') IS NULL AS one_skipped, to_regclass('base_full') IS NOT NULL AS full_ran;
SELECT action, version FROM smig.history ORDER BY id;
SELECT version, state FROM smig.status();

-- a database whose history stops below the baseline is refused
DROP EXTENSION smig CASCADE;
DROP TABLE IF EXISTS base_one, base_full, base_four;
CREATE EXTENSION smig;
SELECT smig.register('1', 'one', 'CREATE TABLE base_one ();');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('3', 'full_schema', 'CREATE TABLE base_full ();', NULL, '{"baseline": true}');
SELECT smig.register('4', 'four', 'CREATE TABLE base_four ();');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT version, state FROM smig.status();
SELECT count(*) AS history_rows FROM smig.history;

-- a baseline skips only what its caller could apply: a role granted
-- baseline() cannot make another role's pending migration never run
DROP EXTENSION smig CASCADE;
DROP TABLE IF EXISTS base_one;
CREATE EXTENSION smig;
CREATE ROLE regress_bl_admin;
CREATE ROLE regress_bl_dev;
GRANT USAGE ON SCHEMA smig TO regress_bl_admin, regress_bl_dev;
GRANT EXECUTE ON FUNCTION smig.baseline(text, text),
    smig.register(text, text, text, text, jsonb) TO regress_bl_admin, regress_bl_dev;
SELECT smig.register('1', 'one', 'CREATE TABLE base_one ();');
SELECT version FROM smig.upgrade_head();
SET ROLE regress_bl_dev;
SELECT smig.register('2', 'dev_two', 'SELECT 2;');
SET ROLE regress_bl_admin;
SELECT smig.register('2.5', 'admin_two_and_a_half', 'SELECT 2.5;');
\set VERBOSITY default
SELECT smig.baseline('3');
\set VERBOSITY terse
RESET ROLE;
SELECT count(*) AS history_rows, max(version) AS current FROM smig.history;
-- below the other role's migration it may; then the dev itself may skip its own
SET ROLE regress_bl_admin;
SELECT smig.baseline('1.5');
SET ROLE regress_bl_dev;
SELECT smig.baseline('2');
-- the admin's own migration and everything below are now its to skip
SET ROLE regress_bl_admin;
SELECT smig.baseline('3');
RESET ROLE;
SELECT version, state FROM smig.status();
SELECT action, version,
       CASE WHEN role LIKE 'regress\_%' THEN role ELSE 'the superuser' END AS role
  FROM smig.history ORDER BY id;
-- so is a baseline migration: registered and applied by one role on an
-- empty history, it may not skip another role's older migration
DROP EXTENSION smig CASCADE;
DROP TABLE base_one;
CREATE EXTENSION smig;
GRANT USAGE ON SCHEMA smig TO regress_bl_admin, regress_bl_dev;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.upgrade_head() TO regress_bl_admin, regress_bl_dev;
GRANT CREATE ON SCHEMA public TO regress_bl_admin;
SET ROLE regress_bl_dev;
SELECT smig.register('1', 'dev_one', 'SELECT 1;');
SET ROLE regress_bl_admin;
SELECT smig.register('2', 'full', 'CREATE TABLE base_full ();', NULL, '{"baseline": true}');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
RESET ROLE;
SELECT count(*) AS history_rows, to_regclass('base_full') IS NULL AS not_created FROM smig.history;
-- a member of both roles (here the superuser) may
SELECT version FROM smig.upgrade_head();
SELECT version, state FROM smig.status();
-- a pending migration registered by smig 0.1 records no run-as role (NULL):
-- like one whose role was dropped, only a superuser may baseline past it
-- (as only a superuser may unregister it)
GRANT EXECUTE ON FUNCTION smig.baseline(text, text) TO regress_bl_admin;
SELECT smig.register('3', 'from_0_1', 'SELECT 3;');
UPDATE smig.migration SET run_as = NULL, registered_by = NULL WHERE version = '3';
SET ROLE regress_bl_admin;
SELECT smig.baseline('3');
RESET ROLE;
SELECT version, state, run_as FROM smig.status() WHERE version = '3';
SELECT smig.baseline('3');
SELECT version, state FROM smig.status() WHERE version = '3';
DROP TABLE base_full;
REVOKE CREATE ON SCHEMA public FROM regress_bl_admin;
DROP OWNED BY regress_bl_admin, regress_bl_dev;
DROP ROLE regress_bl_admin, regress_bl_dev;
