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
       reasons, hazards, created, altered, dropped, rewritten, locks, scans, scanned,
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

-- 3. the lock timeout: its argument, named in a NOTICE; NULL: the deploy's,
-- named too
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

-- 8. full reads measured (issue 14, items 5 and 6): per migration, the
-- tables that existed before the rehearsal which it read by sequential
-- scan, with the rows read (this backend's pending table statistics, the
-- counters of pg_stat_xact_user_tables); a validation scan of a populated
-- table is a hazard.  SET NOT NULL that a CHECK constraint already proves
-- reads nothing; the migration's own new tables do not count; an error
-- keeps what the failed migration read before it failed.
SELECT smig.register('9', 'events',
  'CREATE TABLE rh_events (id int, kind text);
   INSERT INTO rh_events SELECT g, g::text FROM generate_series(1, 300) g;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT smig.register('10', 'check', 'ALTER TABLE rh_accounts ADD CONSTRAINT rh_score_known CHECK (score IS NOT NULL);');
SELECT smig.register('11', 'not_valid', 'ALTER TABLE rh_events ADD CONSTRAINT rh_id_positive CHECK (id > 0) NOT VALID;');
SELECT smig.register('12', 'validate', 'ALTER TABLE rh_events VALIDATE CONSTRAINT rh_id_positive;');
SELECT smig.register('13', 'not_null', 'ALTER TABLE rh_events ALTER COLUMN kind SET NOT NULL;');
SELECT smig.register('14', 'not_null_implied', 'ALTER TABLE rh_accounts ALTER COLUMN score SET NOT NULL;');
SELECT smig.register('15', 'index', 'CREATE INDEX rh_events_kind ON rh_events (kind);');
SELECT smig.register('16', 'fresh',
  'CREATE TABLE rh_fresh (id int);
   INSERT INTO rh_fresh SELECT generate_series(1, 100);
   ALTER TABLE rh_fresh ADD CONSTRAINT rh_fresh_positive CHECK (id > 0);
   ALTER TABLE rh_fresh ALTER COLUMN id SET NOT NULL;
   CREATE INDEX rh_fresh_id ON rh_fresh (id);');
SELECT smig.register('17', 'empty', 'ALTER TABLE rh_vacant ADD CONSTRAINT rh_vacant_y CHECK (y > 0);');
SELECT smig.register('18', 'query', 'CREATE TABLE rh_kinds AS SELECT DISTINCT kind FROM rh_events;');
-- (the counters are the same as pg_stat_xact_user_tables')
BEGIN;
SELECT seq_scan AS events_scans_before, seq_tup_read AS events_rows_before
  FROM pg_stat_xact_user_tables WHERE relid = 'rh_events'::regclass
\gset
CREATE TEMP TABLE rh_result AS SELECT * FROM smig.rehearse();
SELECT step, version, name, classification, scanned,
       ARRAY(SELECT h FROM unnest(hazards) h WHERE h LIKE '%scan%') AS scan_hazards,
       scans, error
  FROM rh_result ORDER BY step;
SELECT x.seq_scan - :events_scans_before AS events_scans,
       x.seq_tup_read - :events_rows_before AS events_rows,
       (SELECT sum((e ->> 'seq_scans')::int) FROM rh_result, jsonb_array_elements(scanned) e
         WHERE e ->> 'table' = 'public.rh_events') AS rehearse_scans,
       (SELECT sum((e ->> 'rows_read')::int) FROM rh_result, jsonb_array_elements(scanned) e
         WHERE e ->> 'table' = 'public.rh_events') AS rehearse_rows
  FROM pg_stat_xact_user_tables x WHERE x.relid = 'rh_events'::regclass;
DROP TABLE rh_result;
COMMIT;

-- a validation that fails: the rows it read until the first bad one; and
-- still nothing persists: no history row, no sequence value of smig's
-- tables, no log row, the same schema
SELECT smig.register('19', 'fails', 'ALTER TABLE rh_events ADD CONSTRAINT rh_id_small CHECK (id < 20);');
SELECT smig.fingerprint() AS fp_before,
       (SELECT count(*) FROM smig.history) AS history_before,
       (SELECT count(*) FROM smig.ddl_log) AS log_before,
       (SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'unused'), ', '
                          ORDER BY sequencename)
          FROM pg_sequences WHERE schemaname = 'smig') AS seqs_before
\gset
SELECT step, version, classification, scanned,
       ARRAY(SELECT h FROM unnest(hazards) h WHERE h LIKE '%scan%') AS scan_hazards,
       error, sqlstate
  FROM smig.rehearse() WHERE version IN ('18', '19');
SELECT smig.fingerprint() = :'fp_before' AS same_schema,
       (SELECT count(*) FROM smig.history) = :history_before AS same_history,
       (SELECT count(*) FROM smig.ddl_log) = :log_before AS same_log,
       (SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'unused'), ', '
                          ORDER BY sequencename)
          FROM pg_sequences WHERE schemaname = 'smig') = :'seqs_before' AS same_sequences,
       :'seqs_before' NOT LIKE '%unused%' AS sequences_used;
SELECT to_regclass('rh_fresh') AS fresh, to_regclass('rh_kinds') AS kinds,
       (SELECT count(*) FROM pg_constraint WHERE conname IN ('rh_score_known', 'rh_id_positive', 'rh_id_small')) AS constraints;

-- without track_counts nothing is counted: scanned is NULL, not []
SET track_counts = off;
SELECT version, scanned FROM smig.rehearse() WHERE version = '10';
RESET track_counts;
