-- downgrade: smig.rollback(steps) and smig.downgrade(target) run down
-- scripts newest first, in the caller's transaction, as the migration's
-- role; each revert is a history row; a missing, edited or baselined down
-- stops the call before anything runs
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
-- terse: the NOTICEs show without their durations
\set VERBOSITY terse

CREATE SCHEMA dg;
SET search_path = dg, public;
SELECT smig.register('1', 'accounts', 'CREATE TABLE dg.accounts (id int PRIMARY KEY);',
                     'DROP TABLE dg.accounts;');
SELECT smig.register('2', 'email', 'ALTER TABLE dg.accounts ADD COLUMN email text;',
                     'ALTER TABLE dg.accounts DROP COLUMN email;');
SELECT smig.register('3', 'orders', E'-- smig:up\nCREATE TABLE dg.orders (id int);\n-- smig:down\nDROP TABLE dg.orders;\n');
SELECT smig.register('4', 'audit', 'CREATE TABLE dg.audit (id int);',
                     'DROP TABLE dg.audit;');
SELECT version, name FROM smig.upgrade_head();
-- the down checksums recorded at apply time, shown by status()
SELECT version, state, has_down, s.down_checksum = smig.checksum(m.down_sql) AS down_checksum_ok
  FROM smig.status() s JOIN smig.migration m USING (version) ORDER BY version;
SELECT version, down_checksum IS NOT NULL AS down_recorded FROM smig.applied ORDER BY version;

-- 1. rollback(): the highest applied migration, NOTICE and a result row
SELECT version, name, duration > '0' AS timed FROM smig.rollback();
SELECT smig.current();
SELECT version, name, out_of_order FROM smig.pending();
SELECT to_regclass('dg.audit') IS NULL AS audit_dropped;

-- 2. rollback(n): the n highest, newest first
SELECT version, name FROM smig.rollback(2);
SELECT smig.current();
SELECT version, state FROM smig.status();
SELECT column_name FROM information_schema.columns
 WHERE table_schema = 'dg' AND table_name = 'accounts' ORDER BY ordinal_position;

-- 3. re-apply after a revert: they are pending again, upgrade_head() applies
-- them (the fast path does not claim there is nothing to do)
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT version FROM smig.upgrade_head();
SELECT smig.current();

-- 4. downgrade(v): every applied migration above v
SELECT version, name FROM smig.downgrade('2');
SELECT smig.current();
-- to the current version: nothing to revert, said so
SELECT version FROM smig.downgrade('2');
SELECT version FROM smig.downgrade('2.0');
-- 'base' and '0': everything
SELECT version FROM smig.downgrade('base');
SELECT smig.current();
SELECT count(*) AS applied FROM smig.applied;
SELECT version FROM smig.downgrade('base');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.downgrade('0');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.downgrade('BASE');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.downgrade('000');
SELECT version FROM smig.upgrade_to('3');

-- 5. targets: unregistered (42704), invalid (22023), above the current
-- version (55000, pointing to upgrade_to), NULL (22004); rollback steps
\set VERBOSITY sqlstate
SELECT version FROM smig.downgrade('9');
SELECT version FROM smig.downgrade('v2');
SELECT version FROM smig.downgrade('4');
SELECT version FROM smig.downgrade(NULL);
SELECT version FROM smig.rollback(NULL);
SELECT version FROM smig.rollback(0);
SELECT version FROM smig.rollback(4);
\set VERBOSITY default
SELECT version FROM smig.downgrade('9');
SELECT version FROM smig.downgrade('4');
SELECT version FROM smig.rollback(0);
SELECT version FROM smig.rollback(4);
\set VERBOSITY terse
SELECT smig.current();

-- 6. history: one revert row per migration, with who, when, how long, the
-- role its SQL ran as and the checksums of the up script that was applied
-- and of the down script that ran
SELECT action, version, h.name, role = current_user AS by_caller,
       session_role = session_user AS session_ok, h.run_as = current_user AS ran_as_caller,
       duration IS NOT NULL AS timed,
       h.checksum = smig.checksum(m.up_sql) AS up_checksum_ok,
       h.down_checksum = smig.checksum(m.down_sql) AS down_checksum_ok
  FROM smig.history h JOIN smig.migration m USING (version)
 WHERE h.action = 'revert' ORDER BY h.id LIMIT 4;
SELECT count(*) FILTER (WHERE action = 'apply') AS applies,
       count(*) FILTER (WHERE action = 'revert') AS reverts
  FROM smig.history;
-- the down scripts' DDL is attributed to the migration in the audit log
SELECT h.action, h.version, d.command_tag, d.object_identity
  FROM smig.history h JOIN smig.ddl_log d ON d.txid = h.txid AND d.version = h.version
 WHERE h.id = (SELECT max(id) FROM smig.history WHERE action = 'revert' AND version = '4');
SELECT version, action, change, object_identity FROM smig.migration_ddl
 WHERE history_id = (SELECT max(id) FROM smig.history WHERE action = 'revert' AND version = '4');

-- 7. a migration on the way without a down script: nothing is reverted
SELECT smig.register('5', 'no_way_back', 'CREATE TABLE dg.kept (id int);');
SELECT smig.register('6', 'also_none', 'CREATE TABLE dg.kept2 (id int);');
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id int);', 'DROP TABLE dg.seven;');
SELECT version FROM smig.upgrade_head();
\set VERBOSITY default
SELECT version FROM smig.downgrade('4');
\set VERBOSITY terse
SELECT version FROM smig.rollback(2);
SELECT smig.current();
SELECT to_regclass('dg.seven') IS NOT NULL AS seven_kept;
SELECT count(*) AS reverts_of_7 FROM smig.history WHERE action = 'revert' AND version = '7';
-- a down script added later was not recorded when it was applied: it runs,
-- with a NOTICE saying so
SELECT smig.register('6', 'also_none', 'CREATE TABLE dg.kept2 (id int);', 'DROP TABLE dg.kept2;');
SELECT smig.register('5', 'no_way_back', 'CREATE TABLE dg.kept (id int);', 'DROP TABLE dg.kept;');
SELECT version FROM smig.downgrade('4');
SELECT version FROM smig.upgrade_head();
SELECT version, down_checksum IS NOT NULL AS down_recorded FROM smig.applied WHERE version IN ('5', '6', '7');
-- a migration no longer registered cannot be reverted either
DELETE FROM smig.migration WHERE version = '7';
SELECT version FROM smig.rollback();
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id int);', 'DROP TABLE dg.seven;');

-- 8. an edited down script: WARNING at registration, shown in status() and
-- verify_checksum(), refused until restored or repaired
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id int);', 'DROP TABLE IF EXISTS dg.seven;');
SELECT version, state, has_down FROM smig.status() WHERE version = '7';
SELECT version, name, problem,
       applied_checksum = smig.checksum('DROP TABLE dg.seven;') AS applied_is_old_down,
       registered_checksum = smig.checksum('DROP TABLE IF EXISTS dg.seven;') AS registered_is_new_down
  FROM smig.verify_checksum();
-- it does not stop upgrades (the up script is unchanged) ...
SELECT smig.register('8', 'eight', 'SELECT 1;', 'SELECT 1;');
SELECT version FROM smig.upgrade_head();
-- ... but a revert that reaches it
SELECT version FROM smig.rollback();
\set VERBOSITY default
SELECT version FROM smig.rollback();
\set VERBOSITY terse
SELECT smig.current();
-- unregister refuses it as an applied migration
SELECT smig.unregister('7');
-- restoring the text heals it
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id int);', 'DROP TABLE dg.seven;');
SELECT count(*) AS problems FROM smig.verify_checksum();
-- or repair accepts it, recorded with both checksums
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id int);', 'DROP TABLE IF EXISTS dg.seven;');
SELECT version, name, script,
       old_checksum = smig.checksum('DROP TABLE dg.seven;') AS old_ok,
       new_checksum = smig.checksum('DROP TABLE IF EXISTS dg.seven;') AS new_ok
  FROM smig.repair('7');
SELECT count(*) AS problems FROM smig.verify_checksum();
SELECT action, version, checksum = smig.checksum('CREATE TABLE dg.seven (id int);') AS up_checksum,
       old_checksum, old_down_checksum = smig.checksum('DROP TABLE dg.seven;') AS old_down_ok,
       down_checksum = smig.checksum('DROP TABLE IF EXISTS dg.seven;') AS new_down_ok
  FROM smig.history WHERE action = 'repair';
SELECT version FROM smig.downgrade('6');
SELECT to_regclass('dg.seven') IS NULL AS seven_dropped;
-- an edited up and an edited down: repair() accepts both, one row each
SELECT version FROM smig.upgrade_head();
SELECT smig.register('7', 'reversible', 'CREATE TABLE dg.seven (id bigint);', 'DROP TABLE dg.seven;');
SELECT version, state FROM smig.status() WHERE version = '7';
SELECT version, problem FROM smig.verify_checksum();
SELECT version, script FROM smig.repair();
SELECT count(*) AS problems FROM smig.verify_checksum();
-- an edited up script alone does not stop its revert: afterwards the
-- migration is pending with the new text, and upgrade_head() applies it
SELECT smig.register('8', 'eight', 'SELECT 2;', 'SELECT 1;');
SELECT version, state FROM smig.status() WHERE version = '8';
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS problems FROM smig.verify_checksum();

-- 9. a failure in a down script rolls back every revert of the call, with
-- the down script, its line (of the file, in a -- smig:down section) and
-- the migration in the context
SELECT smig.register('9', 'breaks', E'-- smig:up\nCREATE TABLE dg.nine (id int);\n-- smig:down\nDROP TABLE dg.nine;\nDROP TABLE dg.no_such_table;\n');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('10', 'fine', 'CREATE TABLE dg.ten (id int);', 'DROP TABLE dg.ten;');
SELECT version FROM smig.upgrade_head();
CREATE TEMP TABLE history_before AS SELECT count(*) AS n FROM smig.history;
\set VERBOSITY default
SET client_min_messages = warning;   -- the NOTICE of "10" carries its duration
SELECT version FROM smig.rollback(2);
RESET client_min_messages;
\set VERBOSITY terse
SELECT smig.current();
SELECT to_regclass('dg.ten') IS NOT NULL AS ten_kept, to_regclass('dg.nine') IS NOT NULL AS nine_kept;
SELECT (SELECT count(*) FROM smig.history) - n AS new_history_rows FROM history_before;
SELECT version, state FROM smig.status() WHERE version IN ('9', '10');
\set VERBOSITY default
-- a syntax error: psql's LINE is the line of the file
SELECT smig.register('10', 'fine', 'CREATE TABLE dg.ten (id int);', E'DROP TABLE dg.ten;\nDROP TABLE WHERE;');
SELECT version, script FROM smig.repair('10');
SELECT version FROM smig.rollback();
\set VERBOSITY terse
SELECT smig.current();
-- inside a caller's transaction that rolls back, a revert goes too
SELECT smig.register('10', 'fine', 'CREATE TABLE dg.ten (id int);', 'DROP TABLE dg.ten;');
SELECT version FROM smig.repair('10');
BEGIN;
SELECT version FROM smig.rollback();
SELECT smig.current();
ROLLBACK;
SELECT smig.current();
SELECT to_regclass('dg.ten') IS NOT NULL AS ten_kept;
SELECT smig.register('9', 'breaks', E'-- smig:up\nCREATE TABLE dg.nine (id int);\n-- smig:down\nDROP TABLE dg.nine;\n');
SELECT version, script FROM smig.repair('9');
SELECT version FROM smig.downgrade('8');

-- 10. preconditions and the deploy lock, as for upgrades
BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ;
SELECT version FROM smig.rollback();
ROLLBACK;
BEGIN READ ONLY;
SELECT version FROM smig.downgrade('1');
ROLLBACK;
SELECT smig.register('11', 'nested', 'SELECT * FROM smig.rollback();', 'SELECT 1;');
SELECT version FROM smig.upgrade_head();
SELECT smig.unregister('11');
-- a down script that tries to revert from inside
SELECT smig.register('11', 'nested', 'SELECT 1;', 'SELECT * FROM smig.downgrade(''base'');');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT smig.register('11', 'nested', 'SELECT 1;', 'SELECT 1;');
SELECT version FROM smig.repair('11');
SELECT version FROM smig.rollback();
SELECT smig.unregister('11');
BEGIN;
SELECT version FROM smig.rollback();
SELECT locktype, classid::regclass, objsubid, mode FROM pg_locks
 WHERE locktype = 'object' AND classid = 'pg_extension'::regclass AND pid = pg_backend_pid();
ROLLBACK;

-- 11. out of order: reverts go in version order, not in the order applied
SELECT version FROM smig.downgrade('base');
SELECT version FROM smig.upgrade_to('1');
SELECT smig.register('3', 'orders', E'-- smig:up\nCREATE TABLE dg.orders (id int);\n-- smig:down\nDROP TABLE dg.orders;\n');
SELECT version FROM smig.apply('3');
SET smig.out_of_order = on;
SELECT version FROM smig.apply('2');
RESET smig.out_of_order;
SELECT version, action FROM smig.history ORDER BY id DESC LIMIT 3;
-- the highest version first: 3, though 2 was applied after it
SELECT version FROM smig.rollback();
SELECT version, state FROM smig.status() WHERE version IN ('1', '2', '3');
SELECT version FROM smig.apply('3');
SELECT version FROM smig.downgrade('1');
SELECT version, state FROM smig.status() WHERE version IN ('1', '2', '3');
-- downgrading to a pending version below the current one
SELECT version FROM smig.apply('3');
SELECT version FROM smig.downgrade('2');
SELECT smig.current();

-- 12. baselines: nothing at or below the highest baseline is reverted
SELECT version FROM smig.downgrade('base');
SELECT version FROM smig.upgrade_to('2');
SELECT smig.baseline('2.5', 'adopted');
SELECT version FROM smig.upgrade_to('3');
\set VERBOSITY default
SELECT version FROM smig.rollback(2);
SELECT version FROM smig.downgrade('base');
SELECT version FROM smig.downgrade('1');
\set VERBOSITY terse
SELECT version FROM smig.downgrade('0');
SELECT version FROM smig.downgrade('2');
SELECT smig.current();
-- down to the baseline itself is fine
SELECT version FROM smig.downgrade('2.5');
SELECT smig.current();
SELECT version FROM smig.rollback();
SELECT version, state FROM smig.status() WHERE version IN ('1', '2', '2.5', '3');

-- 13. run-as: a deployer's down script runs as the deployer, also when a
-- superuser reverts it; the caller must be a member of that role
CREATE ROLE regress_dg_deployer;
CREATE ROLE regress_dg_outsider;
GRANT USAGE ON SCHEMA smig TO regress_dg_deployer, regress_dg_outsider;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.upgrade_head(), smig.rollback(integer), smig.downgrade(text)
  TO regress_dg_deployer, regress_dg_outsider;
CREATE SCHEMA dg_app AUTHORIZATION regress_dg_deployer;
CREATE TABLE public.dg_seen (script text, seen text);
GRANT INSERT ON public.dg_seen TO PUBLIC;
SET ROLE regress_dg_deployer;
SELECT smig.register('20', 'deployers', $$
CREATE TABLE dg_app.t (id int);
INSERT INTO public.dg_seen VALUES ('up', current_user);
$$, $$
DROP TABLE dg_app.t;
INSERT INTO public.dg_seen
    SELECT 'down', current_user || ' super=' || rolsuper FROM pg_roles WHERE rolname = current_user;
$$);
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT * FROM public.dg_seen;
SELECT action, role = current_user AS by_caller, run_as FROM smig.history
 WHERE version = '20' ORDER BY id;
SELECT role, command_tag, version FROM smig.ddl_log
 WHERE object_identity = 'dg_app.t' ORDER BY id;
-- an outsider may not revert it (nor apply it)
SELECT version FROM smig.upgrade_head();
SET ROLE regress_dg_outsider;
\set VERBOSITY default
SELECT version FROM smig.rollback();
\set VERBOSITY terse
RESET ROLE;
SELECT smig.current();
-- the deployer itself may
SET ROLE regress_dg_deployer;
SELECT version FROM smig.rollback();
RESET ROLE;
SELECT action, role, run_as FROM smig.history
 WHERE version = '20' ORDER BY id DESC LIMIT 1;

DROP SCHEMA dg CASCADE;
DROP SCHEMA dg_app CASCADE;
DROP TABLE public.dg_seen;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_dg_deployer, regress_dg_outsider;
DROP ROLE regress_dg_deployer, regress_dg_outsider;
RESET search_path;
