-- audit: every DDL kind a migration uses lands in smig.ddl_log with the
-- right attribution; unmanaged DDL has version NULL; the log is append-only
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;
-- creating the extension logged nothing of its own
SELECT count(*) AS own_rows FROM smig.ddl_log;

CREATE VIEW log AS
    SELECT event, command_tag, object_type, object_identity, schema_name,
           version, role = current_user AS role_ok, session_role = session_user AS session_ok,
           detail
      FROM smig.ddl_log WHERE object_identity <> 'public.log' ORDER BY id;

SELECT smig.register('1', 'kinds', $mig$
CREATE SCHEMA aud;
CREATE TYPE aud.mood AS ENUM ('ok', 'meh');
CREATE TABLE aud.events (id int, mood aud.mood, at timestamptz, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE aud.events_2026 (id int NOT NULL, mood aud.mood, at timestamptz NOT NULL);
ALTER TABLE aud.events ATTACH PARTITION aud.events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE aud.notes (id int, body text);
CREATE INDEX notes_id ON aud.notes (id);
CREATE VIEW aud.recent AS SELECT body FROM aud.notes;
CREATE FUNCTION aud.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER notes_touch BEFORE UPDATE ON aud.notes FOR EACH ROW EXECUTE FUNCTION aud.touch();
ALTER TABLE aud.notes ADD COLUMN author text;
ALTER TABLE aud.notes ALTER COLUMN id TYPE bigint;
$mig$);
SELECT smig.register('2', 'drops', $mig$
DROP TRIGGER notes_touch ON aud.notes;
DROP FUNCTION aud.touch();
DROP VIEW aud.recent;
DROP INDEX aud.notes_id;
ALTER TYPE aud.mood ADD VALUE 'great';
DROP TABLE aud.notes;
$mig$);
SELECT version FROM smig.upgrade_head();
SELECT * FROM log;

-- the ALTER and DROP forms of the other kinds (ordered by object, as the
-- order of a cascade's dropped objects is the catalog's)
SELECT smig.register('3', 'alter_rest', $mig$
CREATE SCHEMA aud2;
CREATE TABLE aud2.t (id int);
CREATE INDEX t_id ON aud2.t (id);
ALTER INDEX aud2.t_id RENAME TO t_id_idx;
CREATE VIEW aud2.v AS SELECT id FROM aud2.t;
ALTER VIEW aud2.v RENAME TO v2;
CREATE FUNCTION aud2.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
ALTER FUNCTION aud2.f() RENAME TO f2;
CREATE FUNCTION aud2.tf() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER tr BEFORE INSERT ON aud2.t FOR EACH ROW EXECUTE FUNCTION aud2.tf();
ALTER TRIGGER tr ON aud2.t RENAME TO tr2;
CREATE TYPE aud2.ty AS (a int);
ALTER TYPE aud2.ty RENAME TO ty2;
DROP TYPE aud2.ty2;
ALTER SCHEMA aud2 RENAME TO aud3;
DROP SCHEMA aud3 CASCADE;
$mig$);
SELECT version FROM smig.upgrade_head();
SELECT event, command_tag, object_type, object_identity, version
  FROM smig.ddl_log WHERE version = '3'
 ORDER BY command_tag LIKE 'DROP%', object_identity, command_tag, event;

-- unmanaged DDL: version NULL, the statement as sent
CREATE TABLE aud.by_hand (id int);
SELECT version, command_tag, object_identity, statement FROM smig.ddl_log
 WHERE version IS NULL AND object_identity <> 'public.log';

-- per applied migration, what it changed
SELECT version, name, change, command_tag, object_type, object_identity
  FROM smig.migration_ddl WHERE version IN ('1', '2') ORDER BY ddl_log_id;
SELECT change, count(*) FROM smig.migration_ddl WHERE version = '3' GROUP BY 1 ORDER BY 1;

-- migration_ddl lists each object once per statement, though PostgreSQL
-- reports some twice: the sequence of a serial or identity column
-- (created, then owned by its column), a table with a foreign key (created,
-- then given the constraint), a dropped view with its "_RETURN" rule
SELECT smig.register('4', 'twice_reported', $mig$
CREATE TABLE aud.serials (id serial PRIMARY KEY, n int GENERATED ALWAYS AS IDENTITY);
CREATE TABLE aud.parts (k int, id int REFERENCES aud.serials) PARTITION BY RANGE (k);
CREATE TABLE aud.parts_1 PARTITION OF aud.parts FOR VALUES FROM (0) TO (10);
CREATE VIEW aud.v AS SELECT id FROM aud.serials;
DROP VIEW aud.v;
CREATE MATERIALIZED VIEW aud.mv AS SELECT 1 AS a;
DROP MATERIALIZED VIEW aud.mv;
$mig$);
SELECT version FROM smig.upgrade_head();
-- the log keeps every row PostgreSQL reported ...
SELECT command_tag, object_type, object_identity, count(*) AS rows
  FROM smig.ddl_log WHERE version = '4'
 GROUP BY 1, 2, 3 HAVING count(*) > 1 OR object_type = 'rule' ORDER BY 3;
-- ... and the view lists each object once
SELECT change, command_tag, object_type, object_identity
  FROM smig.migration_ddl WHERE version = '4' ORDER BY ddl_log_id;

-- "who changed this table": README's query, exactly as printed there (the
-- test checks that it is), lists the table and what belongs to it: its
-- indexes (also one renamed and then dropped), constraints, triggers,
-- columns and defaults, whether a migration changed them or not
SELECT smig.register('5', 'accounts', $mig$
CREATE TABLE accounts (id int PRIMARY KEY, email text DEFAULT '');
CREATE INDEX accounts_email_idx ON accounts (email);
CREATE FUNCTION aud.stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER accounts_stamp BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION aud.stamp();
$mig$);
SELECT smig.register('6', 'email_key', 'ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);');
SELECT version FROM smig.upgrade_head();
ALTER TABLE accounts DROP CONSTRAINT accounts_email_key;
ALTER INDEX accounts_email_idx RENAME TO accounts_email;
DROP INDEX accounts_email;
ALTER TABLE accounts ALTER COLUMN email DROP DEFAULT;
DROP TRIGGER accounts_stamp ON accounts;
ALTER TABLE accounts DROP COLUMN email;
CREATE TABLE accounts_archive (id int PRIMARY KEY);
\getenv abs_srcdir PG_ABS_SRCDIR
\set readme :abs_srcdir '/README.md'
CREATE TEMP TABLE readme_query (q text);
INSERT INTO readme_query VALUES ($readme$SELECT logged_at, role, session_role, command_tag, object_type, object_identity,
       coalesce(version, 'NOT A MIGRATION') AS through, left(statement, 50)
  FROM smig.ddl_log
 WHERE object_identity = 'public.accounts' OR relation = 'public.accounts'
 ORDER BY id;$readme$);
SELECT position(q IN pg_read_file(:'readme')) > 0 AS printed_in_readme FROM readme_query;
DO $$ BEGIN EXECUTE 'CREATE TEMP VIEW who_changed AS ' || (SELECT q FROM readme_query); END $$;
SELECT command_tag, object_type, object_identity, through, "left" FROM who_changed;
-- with indexes on both columns it can use
CREATE FUNCTION pg_temp.explain_lines(query text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
        RETURN NEXT line;
    END LOOP;
END $$;
SET enable_seqscan = off;
SELECT count(*) AS index_scans
  FROM pg_temp.explain_lines((SELECT q FROM readme_query)) AS e(line)
 WHERE line LIKE '%Index Scan on ddl_log_%';
RESET enable_seqscan;
DROP VIEW who_changed;
DROP TABLE readme_query;

-- the log is append-only, even for a superuser
UPDATE smig.ddl_log SET version = '1' WHERE version IS NULL;
DELETE FROM smig.ddl_log;
TRUNCATE smig.ddl_log;

-- trimming is the documented way, and it logs itself
SELECT smig.trim_ddl_log(now() - interval '1 hour') AS removed_old;
SELECT count(*) > 0 AS kept FROM smig.ddl_log WHERE event <> 'trim';
SELECT smig.trim_ddl_log(clock_timestamp()) AS removed_all;
SELECT event, command_tag, object_identity, left(detail, 23) AS detail FROM smig.ddl_log;
-- entries logged exactly at the cutoff are kept: it removes those before it
CREATE TABLE aud.at_cutoff (id int);
SELECT smig.trim_ddl_log((SELECT max(logged_at) FROM smig.ddl_log)) AS removed_before;
SELECT count(*) AS kept_at_cutoff FROM smig.ddl_log WHERE object_identity = 'aud.at_cutoff';
-- and after a trim the log is append-only again
DELETE FROM smig.ddl_log;
SELECT count(*) > 0 AS still_there FROM smig.ddl_log;

-- smig.audit = off: nothing is logged
SET smig.audit = off;
CREATE TABLE aud.unlogged_ddl (id int);
RESET smig.audit;
SELECT count(*) AS logged FROM smig.ddl_log WHERE object_identity = 'aud.unlogged_ddl';

-- an ordinary role's DDL is logged though it has no right on the log, and
-- it cannot turn the audit off
CREATE ROLE regress_app_user;
GRANT CREATE, USAGE ON SCHEMA aud TO regress_app_user;
SET ROLE regress_app_user;
CREATE TEMP TABLE scratch (id int);
CREATE TABLE aud.mine (id int);
SET smig.audit = off;
SET smig.guard = off;
SELECT * FROM smig.ddl_log;
RESET ROLE;
SELECT event, object_identity, schema_name, role, session_role = session_user AS session_is_login, version
  FROM smig.ddl_log WHERE role = 'regress_app_user' ORDER BY id;

DROP VIEW log;
DROP TABLE accounts, accounts_archive;
DROP SCHEMA aud CASCADE;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_app_user;
DROP ROLE regress_app_user;
