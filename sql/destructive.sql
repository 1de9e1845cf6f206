-- destructive: the destructive-change gate (issue 14, item 6).  While an
-- up script runs, the audit triggers see its drops, rewrites and column
-- type changes; smig.destructive = allow | warn | refuse decides what an
-- undeclared one does; "-- smig:destructive" or {"destructive": true}
-- declares it
SET smig.allow_drop_extension = on;
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;
\set VERBOSITY terse

SELECT smig.register('1', 'base',
  'CREATE TABLE ds_accounts (id int PRIMARY KEY, name varchar(10), note text, score int, label varchar(10));
   INSERT INTO ds_accounts SELECT g, g::text, g::text, g, g::text FROM generate_series(1, 50) g;
   CREATE INDEX ds_accounts_score ON ds_accounts (score);
   CREATE VIEW ds_names AS SELECT id, name FROM ds_accounts;');
SELECT version FROM smig.upgrade_head();

-- the default is allow: nothing is judged
SHOW smig.destructive;

-- only superusers set it: a deployer cannot switch the gate off for itself
CREATE ROLE ds_deployer;
SET ROLE ds_deployer;
SET smig.destructive = allow;
RESET ROLE;
SET smig.destructive = sometimes;

-- 1. refuse: an undeclared drop is refused, with the migration, the object,
-- why, and how to declare it; nothing of the upgrade is applied, not even
-- the migrations after it
SET smig.destructive = refuse;
SELECT smig.register('2', 'drop_note', 'ALTER TABLE ds_accounts DROP COLUMN note;');
SELECT smig.register('3', 'later', 'CREATE TABLE ds_later (id int);');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
SELECT version, action FROM smig.history ORDER BY id;
SELECT count(*) AS note_column FROM pg_attribute
 WHERE attrelid = 'ds_accounts'::regclass AND attname = 'note' AND NOT attisdropped;
SELECT to_regclass('ds_later') AS later;
SELECT count(*) AS logged FROM smig.ddl_log WHERE version IN ('2', '3');

-- smig.apply() and CALL smig.upgrade() are gated too
SELECT * FROM smig.apply('2');
CALL smig.upgrade();
SELECT version FROM smig.status() WHERE state = 'applied';

-- 2. declared with the directive: applied
SELECT smig.register('2', 'drop_note', E'-- drop the notes\n-- smig:destructive\nALTER TABLE ds_accounts DROP COLUMN note;');
SELECT version FROM smig.upgrade_head();
SELECT version, action FROM smig.history ORDER BY id;

-- 3. a drop of each kind is caught: index, view, constraint, table
\set VERBOSITY default
SELECT smig.register('4', 'drop_index', 'DROP INDEX ds_accounts_score;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('4', 'drop_index', 'DROP VIEW ds_names;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('4', 'drop_index', 'ALTER TABLE ds_accounts DROP CONSTRAINT ds_accounts_pkey;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('4', 'drop_index', 'DROP TABLE ds_later;');
SELECT version FROM smig.upgrade_head();
-- a table created again is still destructive: its rows are gone
SELECT smig.register('4', 'drop_index', 'DROP TABLE ds_later; CREATE TABLE ds_later (id int);');
SELECT version FROM smig.upgrade_head();

-- 4. a rewrite, and a column type change that rewrites nothing
SELECT smig.register('4', 'rewrite', 'ALTER TABLE ds_accounts ADD COLUMN token float8 DEFAULT random();');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('4', 'widen', 'ALTER TABLE ds_accounts ALTER COLUMN label TYPE varchar(20);');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('4', 'retype', 'ALTER TABLE ds_accounts ALTER COLUMN score TYPE bigint;');
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'ds_accounts'::regclass AND attname IN ('label', 'score') ORDER BY attnum;

-- 5. what the migration created, it may change and drop: not destructive
SELECT smig.register('4', 'scratch',
  'CREATE TABLE ds_scratch (id int PRIMARY KEY, v int, w int CHECK (w > 0));
   CREATE INDEX ds_scratch_v ON ds_scratch (v);
   INSERT INTO ds_scratch VALUES (1, 1, 1);
   ALTER TABLE ds_scratch ALTER COLUMN v TYPE bigint;
   ALTER TABLE ds_scratch DROP COLUMN w;
   DROP INDEX ds_scratch_v;
   CREATE VIEW ds_scratch_view AS SELECT id FROM ds_scratch;
   DROP VIEW ds_scratch_view;
   DROP TABLE ds_scratch;
   CREATE TABLE ds_kept (id int);');
SELECT version FROM smig.upgrade_head();
-- additive changes pass: a column, an index, a default
SELECT smig.register('5', 'additive',
  'ALTER TABLE ds_accounts ADD COLUMN email text;
   ALTER TABLE ds_accounts ALTER COLUMN email SET DEFAULT ''x'';
   ALTER TABLE ds_accounts ALTER COLUMN email SET DEFAULT ''y'';
   CREATE INDEX ds_accounts_email ON ds_accounts (email);');
SELECT version FROM smig.upgrade_head();

-- 6. declared with the option: applied
SELECT smig.register('6', 'drop_view', 'DROP VIEW ds_names;', options => '{"destructive": true}');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('7', 'bad', 'SELECT 1;', options => '{"destructive": "yes"}');
SELECT smig.register('7', 'bad', E'-- smig:destructives\nSELECT 1;');

-- 7. warn: the deploy goes on, with a WARNING naming the object
SET smig.destructive = warn;
SELECT smig.register('7', 'drop_index', 'DROP INDEX ds_accounts_score;');
\set VERBOSITY default
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
\set VERBOSITY terse
SELECT to_regclass('ds_accounts_score') AS dropped_index;

-- 8. repeatable migrations are judged; down scripts are not
SET smig.destructive = refuse;
SELECT smig.register_repeatable('ds_view', 'DROP VIEW IF EXISTS ds_v; CREATE VIEW ds_v AS SELECT 1 AS one;');
SELECT version FROM smig.upgrade_head();
-- a view (function, trigger, index...) dropped and created again by the
-- same migration holds no rows: not destructive
SELECT smig.register_repeatable('ds_view', 'DROP VIEW ds_v; CREATE VIEW ds_v AS SELECT 2 AS two;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register_repeatable('ds_view', 'DROP VIEW ds_v; CREATE VIEW ds_v AS SELECT 3 AS three; DROP INDEX ds_accounts_email;');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT smig.register_repeatable('ds_view', E'-- smig:destructive\nDROP VIEW ds_v; CREATE VIEW ds_v AS SELECT 3 AS three; DROP INDEX ds_accounts_email;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('8', 'with_down', 'CREATE TABLE ds_down (id int);', 'DROP TABLE ds_down;');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT to_regclass('ds_down') AS reverted;
SELECT smig.unregister('8');

-- 9. set per database: a new session of this database starts with it
RESET smig.destructive;
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET smig.destructive = refuse', current_database()); END $$;
\c
SHOW smig.destructive;
\set VERBOSITY terse
SELECT smig.register('9', 'drop_kept', 'DROP TABLE ds_kept;');
SELECT version FROM smig.upgrade_head();
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET smig.destructive', current_database()); END $$;
\c
SHOW smig.destructive;
SELECT smig.unregister('9');

-- 10. a RESET ALL in the migration (it resets superuser-only settings too,
-- for anyone) does not switch off the caller's gate: in a transaction or
-- in the background worker
CREATE TABLE ds_reset_one (id int);
CREATE TABLE ds_reset_two (id int);
SET smig.destructive = refuse;
SELECT smig.register('10', 'reset_all', E'RESET ALL;\nDROP TABLE ds_reset_one;');
SELECT version FROM smig.upgrade_head();
SELECT smig.unregister('10');
SELECT smig.register('11', 'reset_all_worker', E'-- smig:no-transaction\nRESET ALL;\nDROP TABLE ds_reset_two;');
CALL smig.upgrade();
SELECT smig.unregister('11');
SELECT to_regclass('ds_reset_one') AS one, to_regclass('ds_reset_two') AS two;
RESET smig.destructive;
DROP TABLE ds_reset_one, ds_reset_two;

DROP ROLE ds_deployer;
