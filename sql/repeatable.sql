-- repeatable: R__<name>.sql migrations (Flyway) are applied after the
-- versioned ones whenever their checksum changed, with a history row each
-- time; a run-on-change versioned migration (Liquibase's runOnChange) is
-- applied again when its text changes (issue 19, item 8)
SET smig.allow_drop_extension = on;
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;
\set VERBOSITY terse
\getenv abs_builddir PG_ABS_BUILDDIR
\set dir :abs_builddir '/results/repeatable_dir'

-- files are written by the server: pg_temp.write(file, text) writes each
-- line of the text as a line of dir/file (so the file ends with a line
-- break, and a text ending with line breaks gets blank lines at the end)
SELECT set_config('regress.dir', :'dir', false) IS NOT NULL AS set;
CREATE FUNCTION pg_temp.write(file text, body text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT unnest(string_to_array(%L, E''\n''))) TO %L',
                   body, current_setting('regress.dir') || '/' || file);
END $$;
CREATE FUNCTION pg_temp.remove(file text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L',
                   'rm -f ' || current_setting('regress.dir') || '/' || file);
END $$;
-- how many times each repeatable migration was applied
CREATE VIEW runs AS
    SELECT name, count(*) AS runs FROM smig.history
     WHERE version LIKE 'R\_\_%' GROUP BY name ORDER BY name;
-- the fast path's summary: up to date means upgrade_head() answers from it
CREATE VIEW fp AS
    SELECT clean_gen = registry_gen AS up_to_date, stale FROM smig.summary;

\set mkdir 'rm -rf ' :dir ' && mkdir -p ' :dir
COPY (SELECT 1 WHERE false) TO PROGRAM :'mkdir';
SELECT pg_temp.write('V1__accounts.sql', 'CREATE TABLE accounts (id int PRIMARY KEY);');
SELECT pg_temp.write('V2__email.sql', 'ALTER TABLE accounts ADD COLUMN email text;');
-- the view needs V2's column: it runs after every versioned migration
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email FROM accounts;');
SELECT pg_temp.write('R__functions.sql', $$CREATE OR REPLACE FUNCTION account_count() RETURNS bigint
LANGUAGE sql AS 'SELECT count(*) FROM accounts';$$);

-- load_dir registers R__ files as repeatable migrations
SELECT smig.load_dir(:'dir') AS loaded;
SELECT name, checksum = smig.checksum(up_sql) AS checksum_ok, options,
       registered_by = current_user AS by_me, run_as = current_user AS as_me
  FROM smig.repeatable ORDER BY name;
SELECT version, name, state, has_down FROM smig.status();
SELECT * FROM smig.pending();

-- versioned first, then the repeatable ones in name order
SELECT version, name FROM smig.upgrade_head();
SELECT version, name, state FROM smig.status();
SELECT * FROM runs;
SELECT action, version, version_key IS NULL AS no_key, name,
       checksum = smig.checksum((SELECT up_sql FROM smig.repeatable r WHERE r.name = h.name)) AS checksum_ok
  FROM smig.history h WHERE version LIKE 'R\_\_%' ORDER BY id;
SELECT account_count(), * FROM account_emails;

-- an unchanged start-up: nothing registered, nothing applied, fast path
SELECT smig.load_dir(:'dir') AS loaded;
SELECT * FROM fp;
SELECT count(*) AS applied FROM smig.upgrade_head();
SELECT * FROM runs;

-- a changed repeatable migration is pending ("outdated"), not modified:
-- nothing to verify, nothing blocks; it alone runs again
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email, email IS NOT NULL AS has_email FROM accounts;');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT * FROM fp;
SELECT version, name, state FROM smig.status();
SELECT * FROM smig.pending();
SELECT * FROM smig.verify_checksum();
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM runs;
SELECT * FROM fp;

-- line breaks and blank lines at the end are no change (checksum scheme 2)
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email, email IS NOT NULL AS has_email FROM accounts;\n\n');
SELECT smig.load_dir(:'dir') AS loaded;
-- register_repeatable() records the new text, but its checksum is the same
SELECT smig.register_repeatable('views', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email, email IS NOT NULL AS has_email FROM accounts;');
SELECT version, state FROM smig.status() WHERE name = 'views';
SELECT count(*) AS applied FROM smig.upgrade_head();
SELECT * FROM runs;

-- the text of an earlier run is a change too: only the last run counts
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email FROM accounts;');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT version FROM smig.upgrade_head();
SELECT * FROM runs;

-- a failing repeatable migration aborts the whole call: the versioned
-- migration before it, its history, the registry stay as they were
SELECT pg_temp.write('V3__phone.sql', 'ALTER TABLE accounts ADD COLUMN phone text;');
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS\n  SELECT id, email, phone, fax\n  FROM accounts;');
SELECT smig.load_dir(:'dir') AS loaded;
CREATE TEMP TABLE before AS SELECT count(*) AS history_rows FROM smig.history;
\set VERBOSITY default
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
\set VERBOSITY terse
SELECT version, name, state FROM smig.status();
SELECT (SELECT count(*) FROM smig.history) = history_rows AS history_unchanged FROM before;
DROP TABLE before;
SELECT count(*) AS phone_columns FROM pg_attribute
 WHERE attrelid = 'accounts'::regclass AND attname = 'phone';
-- fixed: both run
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS\n  SELECT id, email, phone\n  FROM accounts;');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT version FROM smig.upgrade_head();
SELECT * FROM runs;
-- a repeatable migration that cannot run again says how to write it
SELECT smig.register_repeatable('plain', 'CREATE VIEW plain_view AS SELECT 1 AS one;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register_repeatable('plain', 'CREATE VIEW plain_view AS SELECT 2 AS two;');
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT smig.unregister('R__plain');

-- the audit log attributes a repeatable migration's DDL to R__<name>, and
-- migration_ddl lists it per run
SELECT version, command_tag, object_identity FROM smig.ddl_log
 WHERE object_identity = 'public.account_emails' ORDER BY id;
SELECT history_id = (SELECT max(id) FROM smig.history WHERE version = 'R__views') AS last_run,
       version, name, change, object_identity
  FROM smig.migration_ddl WHERE version = 'R__views' ORDER BY ddl_log_id DESC LIMIT 1;
-- applied twice in one transaction: each run gets its own rows
BEGIN;
SELECT smig.register_repeatable('twice', 'CREATE OR REPLACE VIEW twice AS SELECT 1 AS a;');
SELECT version FROM smig.upgrade_head();
SELECT smig.register_repeatable('twice', 'CREATE OR REPLACE VIEW twice AS SELECT 1 AS a, 2 AS b;');
SELECT version FROM smig.upgrade_head();
SELECT history_id - (SELECT min(id) FROM smig.history WHERE version = 'R__twice') AS run,
       change, object_identity
  FROM smig.migration_ddl WHERE version = 'R__twice';
ROLLBACK;

-- apply(): one repeatable migration by its label; upgrade_to() applies the
-- versioned migrations up to its target, then the repeatable ones
SELECT pg_temp.write('R__views.sql', E'DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email, phone, 1 AS v FROM accounts;');
SELECT pg_temp.write('R__functions.sql', $$CREATE OR REPLACE FUNCTION account_count() RETURNS bigint
LANGUAGE sql AS 'SELECT count(*) + 0 FROM accounts';$$);
SELECT pg_temp.write('V4__notes.sql', 'ALTER TABLE accounts ADD COLUMN notes text;');
SELECT pg_temp.write('V5__tags.sql', 'ALTER TABLE accounts ADD COLUMN tags text[];');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT version FROM smig.apply('R__views');
SELECT version FROM smig.apply('R__views');
SELECT version FROM smig.apply('R__nosuch');
SELECT version FROM smig.upgrade_to('R__functions');
SELECT version FROM smig.upgrade_to('4');
SELECT version, state FROM smig.status();
SELECT version FROM smig.upgrade_head();

-- run as: a repeatable migration runs as the role that registered it (or
-- its run-as role), whoever applies it
CREATE ROLE regress_rep_owner;
CREATE ROLE regress_rep_other;
GRANT CREATE ON SCHEMA public TO regress_rep_owner;
GRANT SELECT ON accounts TO regress_rep_owner;
GRANT USAGE ON SCHEMA smig TO regress_rep_other;
GRANT EXECUTE ON FUNCTION smig.upgrade_head(), smig.unregister(text),
    smig.register_repeatable(text, text, jsonb) TO regress_rep_other;
SELECT pg_temp.write('R__owned.sql', E'-- smig:run-as regress_rep_owner\nCREATE OR REPLACE VIEW owned AS SELECT count(*) AS n FROM accounts;');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT name, run_as FROM smig.repeatable WHERE name = 'owned';
SET ROLE regress_rep_other;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT viewowner FROM pg_views WHERE viewname = 'owned';
SELECT version, role, run_as FROM smig.history WHERE version = 'R__owned';
-- the registrant must be a member of the run-as role, and so must whoever
-- takes it back
SET ROLE regress_rep_other;
SELECT smig.register_repeatable('sneaky', 'SELECT 1;', '{"run_as": "regress_rep_owner"}');
SELECT smig.unregister('R__owned');
RESET ROLE;

-- unregister() takes a repeatable migration back, applied or not; its
-- history and what it made stay, and the same text registered again is
-- not run again
SELECT smig.unregister('R__owned');
SELECT count(*) AS listed FROM smig.status() WHERE name = 'owned';
SELECT count(*) AS history_rows FROM smig.history WHERE version = 'R__owned';
SELECT smig.unregister('R__owned');
SELECT smig.load_dir(:'dir') AS loaded;
SELECT version, state FROM smig.status() WHERE name = 'owned';
SELECT count(*) AS applied FROM smig.upgrade_head();

-- synchronising: a repeatable migration whose file is gone is dropped with
-- a NOTICE (applied or not); with sync => false it stays
SELECT pg_temp.remove('R__owned.sql');
SELECT smig.load_dir(:'dir', sync => false) AS loaded;
SELECT count(*) AS listed FROM smig.status() WHERE name = 'owned';
SELECT smig.load_dir(:'dir') AS loaded;
SELECT version, state FROM smig.status() WHERE version LIKE 'R\_\_%';
SELECT * FROM runs;
SELECT * FROM fp;
SELECT count(*) AS applied FROM smig.upgrade_head();
DROP VIEW owned;
REVOKE ALL ON accounts FROM regress_rep_owner;
REVOKE CREATE ON SCHEMA public FROM regress_rep_owner;
DROP OWNED BY regress_rep_other;
DROP ROLE regress_rep_owner, regress_rep_other;

-- a write by hand marks the fast path's summary stale: the next upgrade
-- takes the full path and finds the work
DELETE FROM smig.repeatable_applied WHERE name = 'views';
SELECT * FROM fp;
SELECT version FROM smig.upgrade_head();
SELECT * FROM fp;

-- register_many(): an element with "repeatable": true and no version
SELECT * FROM smig.register_many(format('[
  {"version": "1", "name": "accounts", "up_sql": %s},
  {"version": "2", "name": "email", "up_sql": %s},
  {"version": "3", "name": "phone", "up_sql": %s},
  {"version": "4", "name": "notes", "up_sql": %s},
  {"version": "5", "name": "tags", "up_sql": %s},
  {"repeatable": true, "name": "views", "up_sql": "DROP VIEW IF EXISTS account_emails;\nCREATE VIEW account_emails AS SELECT id, email, phone, 2 AS v FROM accounts;"},
  {"repeatable": true, "name": "reports", "up_sql": "CREATE OR REPLACE VIEW reports AS SELECT 1 AS r;"}
]', to_json(pg_read_file(:'dir' || '/V1__accounts.sql')), to_json(pg_read_file(:'dir' || '/V2__email.sql')),
    to_json(pg_read_file(:'dir' || '/V3__phone.sql')), to_json(pg_read_file(:'dir' || '/V4__notes.sql')),
    to_json(pg_read_file(:'dir' || '/V5__tags.sql')))::jsonb);
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM runs;
SELECT * FROM smig.register_many('[{"repeatable": true, "version": "6", "name": "x", "up_sql": "SELECT 1;"}]', false);
SELECT * FROM smig.register_many('[{"repeatable": true, "name": "x", "up_sql": "SELECT 1;", "down_sql": "SELECT 2;"}]', false);
SELECT * FROM smig.register_many('[{"repeatable": true, "name": "x", "up_sql": "SELECT 1;"},
                                   {"repeatable": true, "name": "x", "up_sql": "SELECT 2;"}]', false);
SELECT * FROM smig.register_many('[{"repeatable": "yes", "name": "x", "up_sql": "SELECT 1;"}]', false);
-- a repeatable migration and a version may share a name
SELECT * FROM smig.register_many('[{"repeatable": true, "name": "shared", "up_sql": "SELECT 1;"},
                                   {"version": "30", "name": "shared", "up_sql": "SELECT 1;"}]', false);
SELECT smig.unregister('R__shared');
SELECT smig.unregister('30');

-- what a repeatable migration cannot be or have, refused at registration
SELECT smig.register_repeatable('', 'SELECT 1;');
SELECT smig.register_repeatable('  ', 'SELECT 1;');
SELECT smig.register_repeatable(E'two\nlines', 'SELECT 1;');
SELECT smig.register_repeatable(NULL, 'SELECT 1;');
SELECT smig.register_repeatable('x', NULL);
SELECT smig.register_repeatable('x', E'-- smig:up\nSELECT 1;\n-- smig:down\nSELECT 2;');
SELECT smig.register_repeatable('x', E'-- smig:run-on-change\nSELECT 1;');
SELECT smig.register_repeatable('x', 'SELECT 1;', '{"run_on_change": true}');
SELECT smig.register_repeatable('x', 'SELECT 1;', '{"baseline": true}');
SELECT smig.register_repeatable('x', E'SELECT 1;\nCOMMIT;');
SELECT smig.register_repeatable('x', 'CREATE INDEX CONCURRENTLY ON accounts (email);');
SELECT smig.register('R__x', 'x', 'SELECT 1;');
-- sections without a down part are fine: lines count from the file's first
SELECT smig.register_repeatable('sections', E'-- smig:up\nSELECT 1;\n-- smig:down\n');
SELECT options FROM smig.repeatable WHERE name = 'sections';
SELECT smig.unregister('R__sections');
-- files: a down file for a repeatable migration, a blank name, a down section
\set bad :dir '/bad'
\set mkbad 'mkdir -p ' :bad
COPY (SELECT 1 WHERE false) TO PROGRAM :'mkbad';
SELECT pg_temp.write('bad/U__views.sql', 'DROP VIEW account_emails;');
SELECT smig.load_dir(:'bad');
SELECT pg_temp.remove('bad/U__views.sql');
SELECT pg_temp.write('bad/R__ .sql', 'SELECT 1;');
SELECT smig.load_dir(:'bad');
SELECT pg_temp.remove('bad/R__\ .sql');
SELECT pg_temp.write('bad/R__undo.sql', E'SELECT 1;\n-- smig:down\nSELECT 2;');
SELECT smig.load_dir(:'bad');
SELECT pg_temp.remove('bad/R__undo.sql');
SELECT pg_temp.write('bad/R__.sql', 'SELECT 1;');
SELECT smig.load_dir(:'bad');
-- a no-transaction repeatable migration is recorded, and refused at apply
SELECT smig.register_repeatable('vacuum', E'-- smig:no-transaction\nVACUUM accounts;');
SELECT version FROM smig.upgrade_head();
SELECT smig.unregister('R__vacuum');
SELECT name FROM smig.repeatable ORDER BY name;

-- run on change (Liquibase's runOnChange): a versioned migration with the
-- option or the directive is applied again when its up script changes,
-- instead of blocking every upgrade as modified
SELECT smig.register('10', 'settings', 'CREATE TABLE settings (k text PRIMARY KEY, v text);');
SELECT smig.register('11', 'seed', $$INSERT INTO settings VALUES ('theme', 'dark')
ON CONFLICT (k) DO UPDATE SET v = excluded.v;$$, NULL, '{"run_on_change": true}');
SELECT pg_temp.write('V12__grants.sql', E'-- smig:run-on-change\nCOMMENT ON TABLE settings IS ''v1'';');
SELECT smig.load_dir(:'dir', false) AS loaded;
SELECT version, options FROM smig.migration WHERE version IN ('11', '12') ORDER BY version_key;
SELECT version FROM smig.upgrade_head();
SELECT smig.register('11', 'seed', $$INSERT INTO settings VALUES ('theme', 'light')
ON CONFLICT (k) DO UPDATE SET v = excluded.v;$$, NULL, '{"run_on_change": true}');
SELECT pg_temp.write('V12__grants.sql', E'-- smig:run-on-change\nCOMMENT ON TABLE settings IS ''v2'';');
SELECT smig.load_dir(:'dir', false) AS loaded;
SELECT version, state FROM smig.status() WHERE version IN ('10', '11', '12');
SELECT * FROM smig.pending() WHERE version IN ('11', '12');
SELECT * FROM smig.verify_checksum();
SELECT * FROM fp;
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM settings;
SELECT obj_description('settings'::regclass) AS comment;
SELECT version, state FROM smig.status() WHERE version IN ('10', '11', '12');
SELECT version, count(*) AS runs FROM smig.history
 WHERE version IN ('10', '11', '12') GROUP BY version ORDER BY version;
SELECT a.checksum = m.checksum AS applied_follows, a.history_id = (SELECT max(id) FROM smig.history h WHERE h.version = '11') AS last_run
  FROM smig.applied a JOIN smig.migration m USING (version_key) WHERE m.version = '11';
-- it cannot be taken back (it is applied)
SELECT smig.unregister('11');
-- without the option, an edit still blocks
SELECT smig.register('10', 'settings', 'CREATE TABLE settings (k text PRIMARY KEY, v text NOT NULL);');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.repair('10');
-- a baseline migration cannot run on change
SELECT smig.register('20', 'base', 'SELECT 1;', NULL, '{"baseline": true, "run_on_change": true}');
SELECT smig.register('20', 'base', 'SELECT 1;', NULL, '{"run_on_change": 1}');

\set rmdir 'rm -rf ' :dir
COPY (SELECT 1 WHERE false) TO PROGRAM :'rmdir';
DROP VIEW runs, fp;
DROP EXTENSION smig CASCADE;
DROP TABLE accounts, settings CASCADE;
DROP FUNCTION account_count();
DROP VIEW IF EXISTS reports, plain_view;
