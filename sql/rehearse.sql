-- rehearse: smig.plan() shows what upgrade_head() would run; smig.rehearse()
-- runs it in a subtransaction that is always rolled back and reports, per
-- migration, what it did, measured (issue 14, item 5)
SET smig.allow_drop_extension = on;
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;
\set VERBOSITY terse

-- nothing pending: an empty plan, nothing to rehearse
SELECT * FROM smig.plan();
SELECT * FROM smig.rehearse();

SELECT smig.register('1', 'base',
  'CREATE TABLE rh_accounts (id int PRIMARY KEY, name text, note text, score int);
   INSERT INTO rh_accounts SELECT g, g::text, g::text, g FROM generate_series(1, 500) g;
   CREATE TABLE rh_small (id int PRIMARY KEY);
   INSERT INTO rh_small VALUES (1);
   CREATE TABLE rh_vacant (id int);');
SELECT version FROM smig.upgrade_head();

SELECT smig.register('2', 'drop_note', 'ALTER TABLE rh_accounts DROP COLUMN note;');
SELECT smig.register('3', 'score_bigint',
  E'-- smig:destructive\n-- smig:lock-timeout 3s\nALTER TABLE rh_accounts ALTER COLUMN score TYPE bigint;');
SELECT smig.register('4', 'additive',
  'CREATE TABLE rh_orders (id int PRIMARY KEY, account int);
   CREATE INDEX rh_orders_account ON rh_orders (account);
   ALTER TABLE rh_accounts ADD CONSTRAINT rh_positive CHECK (id > 0);
   ALTER TABLE rh_accounts ALTER COLUMN name SET NOT NULL;
   ALTER TABLE rh_small ADD COLUMN x int;
   ALTER TABLE rh_vacant ADD COLUMN y int;');
SELECT smig.register_repeatable('rh_view', 'CREATE OR REPLACE VIEW rh_names AS SELECT id, name FROM rh_accounts;');

-- 1. the plan: in upgrade_head()'s order, with headers and run-as roles
SELECT step, version, name, kind, state, run_as = current_user AS runs_as_me, transactional, destructive
  FROM smig.plan();
SELECT sql FROM smig.plan() WHERE version = '3';

-- 2. rehearse leaves no trace: the schema, smig's history and log, the
-- sequences of smig's tables, the catalog are the same before and after
SELECT smig.fingerprint() AS fp_before,
       (SELECT count(*) FROM pg_class) AS classes_before,
       (SELECT count(*) FROM smig.history) AS history_before,
       (SELECT count(*) FROM smig.ddl_log) AS log_before,
       (SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'unused'), ', '
                          ORDER BY sequencename)
          FROM pg_sequences WHERE schemaname = 'smig') AS seqs_before
\gset
SELECT step, version, name, kind, run_as = current_user AS runs_as_me, declared_destructive, classification,
       reasons, hazards, created, altered, dropped, rewritten, locks, scans,
       duration IS NOT NULL AS timed, error, sqlstate
  FROM smig.rehearse();
SELECT smig.fingerprint() = :'fp_before' AS same_schema,
       (SELECT count(*) FROM pg_class) = :classes_before AS same_catalog,
       (SELECT count(*) FROM smig.history) = :history_before AS same_history,
       (SELECT count(*) FROM smig.ddl_log) = :log_before AS same_log,
       (SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'unused'), ', '
                          ORDER BY sequencename)
          FROM pg_sequences WHERE schemaname = 'smig') = :'seqs_before' AS same_sequences;
SELECT count(*) AS accounts, to_regclass('rh_orders') AS orders FROM rh_accounts;
SELECT count(*) AS locks_left FROM pg_locks
 WHERE pid = pg_backend_pid() AND locktype = 'relation'
   AND relation = 'rh_accounts'::regclass;
SELECT version, state FROM smig.status();

-- 3. the lock timeout: its argument, named in a NOTICE
SELECT count(*) FROM smig.rehearse('250ms');
SELECT count(*) FROM smig.rehearse(NULL);

-- 4. an error ends the rehearsal: its SQLSTATE, and the migrations after it
-- are not run
SELECT smig.register('5', 'fails', 'TRUNCATE rh_accounts; ALTER TABLE rh_orders ADD COLUMN total numeric CHECK (total > 0); SELECT 1 / 0;');
SELECT smig.register('6', 'after', 'CREATE TABLE rh_after (id int);');
SELECT step, version, classification, reasons, created, altered, error, sqlstate
  FROM smig.rehearse();
SELECT count(*) AS accounts FROM rh_accounts;
SELECT smig.unregister('5');

-- TRUNCATE fires no event trigger (smig's ProcessUtility_hook sees it);
-- CLUSTER fires none either: the table's relfilenode says it was rewritten
SELECT smig.register('5', 'truncate', 'TRUNCATE rh_accounts CASCADE;');
SELECT step, version, classification, reasons, rewritten
  FROM smig.rehearse() WHERE version = '5';
SELECT smig.register('5', 'cluster', 'CLUSTER rh_small USING rh_small_pkey;');
SELECT step, version, classification, reasons, rewritten, locks, hazards
  FROM smig.rehearse() WHERE version = '5';
SELECT smig.unregister('5');

-- 5. with the gate on, a rehearsal is refused where the deploy would be
SET smig.destructive = refuse;
SELECT step, version, classification, reasons, error, sqlstate FROM smig.rehearse();
RESET smig.destructive;

-- 6. the same preconditions: run-as roles, modified migrations
CREATE ROLE rh_outsider;
GRANT USAGE ON SCHEMA smig TO rh_outsider;
GRANT EXECUTE ON FUNCTION smig.rehearse(text), smig.plan() TO rh_outsider;
SET ROLE rh_outsider;
SELECT count(*) FROM smig.rehearse();
SELECT count(*) FROM smig.plan();
RESET ROLE;
REVOKE ALL ON FUNCTION smig.rehearse(text), smig.plan() FROM rh_outsider;
REVOKE USAGE ON SCHEMA smig FROM rh_outsider;
DROP ROLE rh_outsider;
SELECT smig.register('1', 'base', 'SELECT 1;');
SELECT count(*) FROM smig.rehearse();
SELECT smig.register('1', 'base',
  'CREATE TABLE rh_accounts (id int PRIMARY KEY, name text, note text, score int);
   INSERT INTO rh_accounts SELECT g, g::text, g::text, g FROM generate_series(1, 500) g;
   CREATE TABLE rh_small (id int PRIMARY KEY);
   INSERT INTO rh_small VALUES (1);
   CREATE TABLE rh_vacant (id int);');
SELECT version, state FROM smig.status() WHERE version = '1';
-- nobody else may rehearse or plan by default
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_may
  FROM pg_proc p WHERE p.proname IN ('plan', 'rehearse') AND p.pronamespace = 'smig'::regnamespace
 ORDER BY 1;
-- a rehearsal inside a migration is refused, as any action is
SELECT smig.register('7', 'nested', 'SELECT count(*) FROM smig.rehearse();');
SELECT step, version, error, sqlstate FROM smig.rehearse() WHERE version = '7';
SELECT smig.unregister('7');

-- 7. the deploy itself then applies exactly what was rehearsed
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT * FROM smig.plan();
\d rh_accounts
