-- drift: every action records the schema it leaves (smig.history's
-- fingerprint on its last row, the snapshot in smig.schema_snapshot);
-- smig.drift() shows what changed since, with the audit rows that did it;
-- smig.verify() and smig.assert_head() are the gates
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
-- terse: the NOTICEs' durations vary; errors are shown in full below
\set VERBOSITY terse

-- nothing recorded yet
\set VERBOSITY default
SELECT * FROM smig.drift();
\set VERBOSITY terse
SELECT smig.verify();
SELECT smig.register('1', 'accounts', 'CREATE TABLE dr_accounts (id int PRIMARY KEY, name text);');
SELECT smig.register('2', 'entries', 'CREATE TABLE dr_entries (id int, account int REFERENCES dr_accounts); CREATE INDEX dr_entries_account ON dr_entries (account);');
\set VERBOSITY verbose
SELECT smig.assert_head();
\set VERBOSITY terse

-- an upgrade records the fingerprint on its last history row only
SELECT version FROM smig.upgrade_head();
SELECT version, fingerprint IS NOT NULL AS has_fingerprint,
       fingerprint = smig.fingerprint() AS is_now
  FROM smig.history ORDER BY id;
SELECT count(*) AS snapshots,
       bool_and(snapshot = smig.snapshot()) AS snapshot_is_now
  FROM smig.schema_snapshot;
SELECT * FROM smig.drift();
SELECT smig.verify() ~ '^ok: 2 applied, current version 2, schema as recorded' AS verified;
SELECT smig.assert_head();

-- the no-op path records nothing
SELECT count(*) FROM smig.upgrade_head();
SELECT count(*) AS history_rows FROM smig.history;

-- changes behind smig's back: listed, with who did it and the statement
ALTER TABLE dr_accounts ADD COLUMN email text;
DROP INDEX dr_entries_account;
CREATE INDEX dr_accounts_name ON dr_accounts (name);
COMMENT ON TABLE dr_accounts IS 'who owns money';
-- unseen by the audit trail: listed, with no one to blame (not the migration
-- that created the table)
SET smig.audit = off;
ALTER TABLE dr_entries ADD COLUMN note text;
RESET smig.audit;
SELECT object, change, before, after, changed_by, statement FROM smig.drift();
\set VERBOSITY verbose
SELECT smig.verify();
SELECT smig.assert_head();
\set VERBOSITY terse

-- undone by hand: no drift
ALTER TABLE dr_accounts DROP COLUMN email;
CREATE INDEX dr_entries_account ON dr_entries (account);
DROP INDEX dr_accounts_name;
COMMENT ON TABLE dr_accounts IS NULL;
ALTER TABLE dr_entries DROP COLUMN note;
SELECT count(*) AS drifted FROM smig.drift();
SELECT smig.verify() ~ '^ok' AS verified;

-- a long drift is cut short in messages
DO $$ BEGIN FOR i IN 1..12 LOOP EXECUTE format('CREATE TABLE dr_many_%s ()', i); END LOOP; END $$;
SELECT count(*) AS drifted FROM smig.drift();
\set VERBOSITY default
SELECT smig.verify();
\set VERBOSITY terse
DO $$ BEGIN FOR i IN 1..12 LOOP EXECUTE format('DROP TABLE dr_many_%s', i); END LOOP; END $$;

-- the next action records the schema it leaves; the same schema twice
-- keeps one snapshot
SELECT smig.register('3', 'noop', 'SELECT 1;');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS snapshots FROM smig.schema_snapshot;
SELECT smig.register('4', 'ledger', 'CREATE TABLE dr_ledger (id int);');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS snapshots FROM smig.schema_snapshot;
SELECT h.version, s.snapshot ? 'table public.dr_ledger' AS has_ledger
  FROM smig.history h JOIN smig.schema_snapshot s USING (fingerprint) ORDER BY h.id;

-- an edited migration fails both gates, naming it
SELECT smig.register('4', 'ledger', 'CREATE TABLE dr_ledger (id bigint);');
\set VERBOSITY default
SELECT smig.verify();
SELECT smig.assert_head();
\set VERBOSITY terse
SELECT version FROM smig.repair('4');
-- repair changes no schema: it records no fingerprint (a drift stays visible)
SELECT action, fingerprint IS NULL AS no_fingerprint FROM smig.history ORDER BY id DESC LIMIT 1;
SELECT smig.verify() ~ '^ok' AS verified;

-- the gates and drift are read-only: a read-only transaction (a standby)
-- runs them
BEGIN READ ONLY;
SELECT smig.assert_head();
SELECT count(*) FROM smig.drift();
ROLLBACK;

-- a role with EXECUTE only (no rights on smig's tables) can run them
CREATE ROLE dr_app;
GRANT USAGE ON SCHEMA smig TO dr_app;
GRANT EXECUTE ON FUNCTION smig.verify(), smig.assert_head(), smig.drift() TO dr_app;
SET ROLE dr_app;
SELECT smig.assert_head();
SELECT * FROM smig.schema_snapshot;
RESET ROLE;

-- CALL smig.upgrade(): one fingerprint per call, on its last step, or on
-- its failed attempt
SELECT smig.register('5', 'five', 'CREATE TABLE dr_five (id int);');
SELECT smig.register('6', 'six', 'CREATE TABLE dr_six (id int);', 'DROP TABLE dr_six;');
CALL smig.upgrade();
SELECT action, version, fingerprint IS NOT NULL AS has_fingerprint
  FROM smig.history WHERE version IN ('4', '5', '6') AND action <> 'repair' ORDER BY id;
SELECT count(*) AS drifted FROM smig.drift();
-- a rollback records the schema it leaves
SELECT version FROM smig.rollback(1);
SELECT action, version, fingerprint = smig.fingerprint() AS is_now
  FROM smig.history ORDER BY id DESC LIMIT 1;
SELECT count(*) AS drifted FROM smig.drift();
SELECT smig.unregister('6');
SELECT smig.register('7', 'seven', 'CREATE TABLE dr_seven (id int);');
SELECT smig.register('8', 'eight', 'CREATE TABLE dr_seven (id int);');
CALL smig.upgrade();
SELECT action, version, fingerprint IS NOT NULL AS has_fingerprint,
       fingerprint = smig.fingerprint() AS is_now
  FROM smig.history WHERE version IN ('7', '8') ORDER BY id;
SELECT count(*) AS drifted FROM smig.drift();
SELECT smig.unregister('8');
DROP TABLE dr_five, dr_seven;

-- a baseline records the schema it starts from
SET smig.allow_drop_extension = on;
DROP EXTENSION smig;
CREATE EXTENSION smig;
SELECT smig.baseline('4');
SELECT action, fingerprint = smig.fingerprint() AS is_now FROM smig.history;
SELECT * FROM smig.drift();

DROP TABLE dr_ledger, dr_entries, dr_accounts;
REVOKE ALL ON SCHEMA smig FROM dr_app;
DROP ROLE dr_app;
