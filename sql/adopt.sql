-- adopt: smig.adopt() takes over a database another migration tool
-- managed.  Each tool's history table is built here exactly as that tool
-- creates and fills it.  The checksums the tools "recorded" were computed
-- outside PostgreSQL (Python's zlib.crc32 over the lines without their
-- breaks, as Flyway does; hashlib.sha256 and hashlib.sha1 over the file
-- bytes, as Prisma and Sqitch do), so verify_adopted() is checked against
-- independent implementations.
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;
\set reset 'SET client_min_messages = warning; DROP EXTENSION smig CASCADE; CREATE EXTENSION smig; RESET client_min_messages;'
-- (a tool that records no time is imported with the time of the adoption)
\set imported 'SELECT action, version, name, imported_from, imported_by, checksum, checksum_scheme, CASE WHEN started_at > now() - interval ''1 hour'' THEN ''at adoption'' ELSE started_at::text END AS started_at FROM smig.history ORDER BY id;'
SET timezone = 'UTC';

-- nothing to adopt
SELECT * FROM smig.adopt();
SELECT * FROM smig.adopt('rails');
SELECT * FROM smig.adopt('flyway');

---- Flyway ------------------------------------------------------------------
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE "public"."flyway_schema_history" ADD CONSTRAINT "flyway_schema_history_pk" PRIMARY KEY ("installed_rank");
CREATE INDEX "flyway_schema_history_s_idx" ON "public"."flyway_schema_history" ("success");
INSERT INTO flyway_schema_history VALUES
 (1, NULL, '<< Flyway Schema Creation >>', 'SCHEMA', '"app"', NULL, 'flyway', '2024-01-01 09:00', 0, true),
 (2, '1', 'create users', 'SQL', 'V1__create_users.sql', 336540139, 'flyway', '2024-01-01 10:00', 12, true),
 (3, '1.1', 'add email', 'SQL', 'V1_1__add_email.sql', 1269254288, 'deployer', '2024-01-02 10:00', 7, true),
 (4, '2', 'broken', 'SQL', 'V2__broken.sql', 1111, 'deployer', '2024-01-03 10:00', 3, false),
 (5, '2', 'fixed', 'SQL', 'V2__fixed.sql', 2222, 'deployer', '2024-01-04 10:00', 5, true),
 (6, '3', 'undone', 'SQL', 'V3__undone.sql', 3333, 'deployer', '2024-01-05 10:00', 5, true),
 (7, '3', 'undone', 'UNDO_SQL', 'U3__undone.sql', 4444, 'deployer', '2024-01-06 10:00', 5, true),
 (8, NULL, 'user view', 'SQL', 'R__user_view.sql', 895998086, 'deployer', '2024-01-07 10:00', 2, true);
-- a failed last migration stops it, naming the migration, before anything is written
INSERT INTO flyway_schema_history VALUES
 (9, '4', 'half done', 'SQL', 'V4__half_done.sql', 5555, 'deployer', '2024-01-08 10:00', 2, false);
SELECT * FROM smig.adopt('flyway');
SELECT count(*) AS history_rows FROM smig.history;
DELETE FROM flyway_schema_history WHERE installed_rank = 9;
-- the schema marker, the failed attempt and the undone version are left out;
-- the baseline is the highest version still applied
SELECT * FROM smig.adopt('flyway');
:imported
SELECT version, name, state FROM smig.status();
-- a second adoption: smig's history is no longer empty
SELECT * FROM smig.adopt('flyway');
-- the files registered now: V1 and R__ as Flyway applied them (line breaks
-- and a BOM do not count for Flyway), V1.1 edited since, V2 not registered
SELECT smig.register('1', 'create users', E'CREATE TABLE users (id int);\r\n');
SELECT smig.register('1.1', 'add email', E'ALTER TABLE users ADD COLUMN email text;\n-- the address, edited\n');
SELECT smig.register_repeatable('user_view', E'\xEF\xBB\xBFCREATE VIEW v AS SELECT 1;');
SELECT * FROM smig.verify_adopted();
-- the next deploy applies only what is new
SELECT smig.register('5', 'next', 'CREATE TABLE adopted_next (id int);');
SET client_min_messages = warning;
SELECT version, name FROM smig.upgrade_head();
RESET client_min_messages;
SELECT version, state FROM smig.status() ORDER BY version;
DROP TABLE flyway_schema_history, adopted_next;
DROP VIEW v;
:reset

---- Liquibase ---------------------------------------------------------------
CREATE TABLE public.databasechangeloglock (ID INTEGER NOT NULL, LOCKED BOOLEAN NOT NULL,
    LOCKGRANTED TIMESTAMP WITHOUT TIME ZONE, LOCKEDBY VARCHAR(255),
    CONSTRAINT databasechangeloglock_pkey PRIMARY KEY (ID));
CREATE TABLE public.databasechangelog (ID VARCHAR(255) NOT NULL, AUTHOR VARCHAR(255) NOT NULL,
    FILENAME VARCHAR(255) NOT NULL, DATEEXECUTED TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    ORDEREXECUTED INTEGER NOT NULL, EXECTYPE VARCHAR(10) NOT NULL, MD5SUM VARCHAR(35),
    DESCRIPTION VARCHAR(255), COMMENTS VARCHAR(255), TAG VARCHAR(255), LIQUIBASE VARCHAR(20),
    CONTEXTS VARCHAR(255), LABELS VARCHAR(255), DEPLOYMENT_ID VARCHAR(10));
INSERT INTO databasechangelog VALUES
 ('create-users', 'alice', 'db/changelog.sql', '2024-02-01 10:00', 1, 'EXECUTED',
  '9:263410d2e807cb73a6636460b14a4196', 'sql', '', NULL, '4.27.0', NULL, NULL, '7000000001'),
 ('seed-roles', 'bob', 'db/changelog.sql', '2024-02-01 10:00', 2, 'MARK_RAN',
  '9:f9ea0e775831bd00d6943bd480daf5d0', 'sql', '', NULL, '4.27.0', NULL, NULL, '7000000001'),
 ('skipped-one', 'bob', 'db/changelog.sql', '2024-02-01 10:00', 3, 'SKIPPED',
  NULL, 'sql', '', NULL, '4.27.0', NULL, NULL, '7000000001'),
 ('refresh-view', 'bob', 'db/changelog.sql', '2024-02-02 10:00', 4, 'RERAN',
  '8:2e4c6d0e1c2f9a7b3d5e8f1a2b3c4d5e', 'sql', '', NULL, '4.20.0', NULL, NULL, '7000000002');
-- changeset ids are not versions: smig has to be told where it starts
SELECT * FROM smig.adopt('liquibase');
SELECT * FROM smig.adopt('liquibase', baseline => '100');
:imported
SELECT version, state FROM smig.status();
-- the changesets, now smig files named after them: create-users is the SQL
-- Liquibase ran (its checksum version 9 ignores spaces and line breaks),
-- seed-roles was edited since; refresh-view's checksum is of version 8,
-- which smig does not compute: not checked
SELECT smig.register('1', 'create-users', E'CREATE TABLE users (\n    id int PRIMARY KEY\n);\n');
SELECT smig.register('2', 'seed-roles', 'INSERT INTO roles VALUES (2);');
SELECT smig.register('3', 'refresh-view', 'CREATE VIEW v AS SELECT 1;');
SELECT version, problem, recorded_checksum, registered_checksum FROM smig.verify_adopted();
DROP TABLE databasechangelog, databasechangeloglock;
:reset

---- Alembic -----------------------------------------------------------------
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO alembic_version (version_num) VALUES ('ae1027a6acf');
SELECT * FROM smig.adopt('alembic');
SELECT * FROM smig.adopt('alembic', baseline => '1');
:imported
DROP TABLE alembic_version;
:reset

---- golang-migrate ------------------------------------------------------------
CREATE TABLE IF NOT EXISTS "schema_migrations" (version bigint not null primary key, dirty boolean not null);
INSERT INTO "schema_migrations" (version, dirty) VALUES (20240301120000, true);
SELECT * FROM smig.adopt('golang-migrate');
SELECT count(*) AS history_rows FROM smig.history;
UPDATE schema_migrations SET dirty = false;
-- found without being named
SELECT * FROM smig.adopt();
:imported
-- the same table name, another tool's shape
:reset
SELECT * FROM smig.adopt('dbmate');
DROP TABLE schema_migrations;

---- dbmate ------------------------------------------------------------------
create table if not exists public.schema_migrations (version varchar(128) primary key);
insert into public.schema_migrations (version) values ('20240401000000'), ('20240402000000');
SELECT * FROM smig.adopt('golang-migrate');
SELECT * FROM smig.adopt('schema_migrations');
SELECT * FROM smig.adopt();
:imported
SELECT smig.current();

-- two tools' tables: it has to be told which
:reset
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
SELECT * FROM smig.adopt();
DROP TABLE alembic_version, schema_migrations;
:reset

---- goose -------------------------------------------------------------------
CREATE TABLE goose_db_version (
    id serial NOT NULL,
    version_id bigint NOT NULL,
    is_applied boolean NOT NULL,
    tstamp timestamp NULL default now(),
    PRIMARY KEY(id)
);
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
 (0, true, '2024-05-01 09:00'),
 (1, true, '2024-05-01 10:00'),
 (2, true, '2024-05-02 10:00'),
 (3, true, '2024-05-03 10:00'),
 (3, false, '2024-05-04 10:00');   -- goose down
SELECT * FROM smig.adopt('goose');
:imported
DROP TABLE goose_db_version;
:reset

---- Sqitch ------------------------------------------------------------------
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.projects (
    project         TEXT        PRIMARY KEY,
    uri             TEXT            NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    creator_name    TEXT        NOT NULL,
    creator_email   TEXT        NOT NULL
);
CREATE TABLE sqitch.changes (
    change_id       TEXT        PRIMARY KEY,
    script_hash     TEXT            NULL,
    change          TEXT        NOT NULL,
    project         TEXT        NOT NULL REFERENCES sqitch.projects(project) ON UPDATE CASCADE,
    note            TEXT        NOT NULL DEFAULT '',
    committed_at    TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    committer_name  TEXT        NOT NULL,
    committer_email TEXT        NOT NULL,
    planned_at      TIMESTAMPTZ NOT NULL,
    planner_name    TEXT        NOT NULL,
    planner_email   TEXT        NOT NULL,
    UNIQUE(project, script_hash)
);
INSERT INTO sqitch.projects VALUES ('shop', NULL, '2024-06-01', 'Ann', 'ann@example.com');
INSERT INTO sqitch.changes VALUES
 ('a1', 'd710d84c2856f6694c30bac4c0cdc8f817e92968', 'widgets', 'shop', '', '2024-06-01 10:00',
  'Ann', 'ann@example.com', '2024-05-30', 'Ann', 'ann@example.com'),
 ('b2', '0000000000000000000000000000000000000000', 'gadgets', 'shop', '', '2024-06-02 10:00',
  'Ann', 'ann@example.com', '2024-05-30', 'Ann', 'ann@example.com');
SELECT * FROM smig.adopt('sqitch', baseline => '2');
:imported
-- the files, now smig migrations, matched by name: widgets is the deploy
-- script Sqitch ran, gadgets is not
SELECT smig.register('1', 'widgets', E'CREATE TABLE widgets (id int);\n');
SELECT smig.register('2', 'gadgets', E'CREATE TABLE gadgets (id int);\n');
SELECT version, name, problem, registered_checksum FROM smig.verify_adopted();
DROP SCHEMA sqitch CASCADE;
:reset

---- Prisma ------------------------------------------------------------------
CREATE TABLE "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);
INSERT INTO "_prisma_migrations" VALUES
 ('0b8d4c4e-0000-4000-8000-000000000001', 'dcd8b5e29ba86b98d4a2cc76eebd048877bae391cde26818ba2a1e43d258ae56',
  '2024-07-01 10:00:01+00', '20240701100000_posts', NULL, NULL, '2024-07-01 10:00:00+00', 1),
 ('0b8d4c4e-0000-4000-8000-000000000002', 'aaaa', NULL, '20240702100000_comments', 'error: ...',
  '2024-07-02 11:00:00+00', '2024-07-02 10:00:00+00', 0),
 ('0b8d4c4e-0000-4000-8000-000000000003', 'bbbb', NULL, '20240703100000_tags', NULL,
  NULL, '2024-07-03 10:00:00+00', 0);
-- an unfinished migration (failed, not resolved) stops it
SELECT * FROM smig.adopt('prisma');
UPDATE "_prisma_migrations" SET finished_at = '2024-07-03 10:00:05+00', applied_steps_count = 1
 WHERE migration_name = '20240703100000_tags';
-- the rolled-back attempt is left out
SELECT * FROM smig.adopt('prisma');
:imported
SELECT smig.register('20240701100000', 'posts', E'CREATE TABLE posts (id int);\n');
SELECT smig.register('20240703100000', 'tags', E'CREATE TABLE tags (id int);\n');
SELECT version, problem, recorded_checksum FROM smig.verify_adopted();
DROP TABLE "_prisma_migrations";
:reset

---- node-pg-migrate -----------------------------------------------------------
CREATE TABLE "public"."pgmigrations" (id SERIAL PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO pgmigrations (name, run_on) VALUES
 ('1700000000000_create-users', '2024-08-01 10:00'),
 ('1700000000001_add-index', '2024-08-02 10:00');
SELECT * FROM smig.adopt('node-pg-migrate');
:imported
DROP TABLE pgmigrations;
:reset

---- a schema_migrations(version, name, applied_at) runner -----------------------
CREATE TABLE public.schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
INSERT INTO public.schema_migrations (version, name, applied_at)
VALUES (1, 'baseline', '2024-09-01 10:00'), (2, 'add_my_feature', '2024-09-02 10:00');
-- in another schema, named by the caller
CREATE SCHEMA legacy;
ALTER TABLE public.schema_migrations SET SCHEMA legacy;
SELECT * FROM smig.adopt('schema_migrations');
SELECT * FROM smig.adopt('schema_migrations', history_table => 'legacy.schema_migrations');
:imported

-- a role that may run adopt() but cannot read the tool's table is refused
-- by PostgreSQL, and nothing is written
:reset
CREATE ROLE regress_adopter;
GRANT USAGE ON SCHEMA smig, legacy TO regress_adopter;
GRANT EXECUTE ON FUNCTION smig.adopt(text, text, regclass) TO regress_adopter;
SET ROLE regress_adopter;
SELECT * FROM smig.adopt('schema_migrations', history_table => 'legacy.schema_migrations');
RESET ROLE;
SELECT count(*) AS history_rows FROM smig.history;
-- given SELECT on it, it adopts, and history says who did
GRANT SELECT ON legacy.schema_migrations TO regress_adopter;
SET ROLE regress_adopter;
SELECT count(*) FROM smig.adopt('schema_migrations', history_table => 'legacy.schema_migrations');
RESET ROLE;
SELECT action, version, role FROM smig.history ORDER BY id;
-- PUBLIC may not
SELECT has_function_privilege('public', 'smig.adopt(text, text, regclass)', 'EXECUTE') AS public_may_adopt;
REVOKE ALL ON SCHEMA smig, legacy FROM regress_adopter;
REVOKE ALL ON legacy.schema_migrations FROM regress_adopter;
REVOKE ALL ON FUNCTION smig.adopt(text, text, regclass) FROM regress_adopter;
DROP SCHEMA legacy CASCADE;
:reset
DROP ROLE regress_adopter;

-- attacks: a role that may create tables in public plants a "history
-- table" for an administrator to adopt.  A view would run its owner's
-- function with the superuser's rights; a column of the owner's own type
-- could do the same through a cast.  Both are refused before reading.
CREATE ROLE regress_planter;
GRANT CREATE ON SCHEMA public TO regress_planter;
SET ROLE regress_planter;
CREATE FUNCTION public.planted() RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    ALTER ROLE regress_planter SUPERUSER;
    RETURN 1;
END $$;
CREATE VIEW public.flyway_schema_history AS
SELECT public.planted() AS installed_rank, '1'::varchar AS version, 'x'::varchar AS description,
       'SQL'::varchar AS type, 'V1__x.sql'::varchar AS script, 1 AS checksum,
       'x'::varchar AS installed_by, now()::timestamp AS installed_on, 1 AS execution_time,
       true AS success;
CREATE DOMAIN public.planted_version AS text;
CREATE TABLE public.schema_migrations (version public.planted_version PRIMARY KEY);
RESET ROLE;
SELECT * FROM smig.adopt('flyway');
SELECT * FROM smig.adopt('dbmate');
SELECT rolsuper AS planter_is_superuser FROM pg_roles WHERE rolname = 'regress_planter';
SELECT count(*) AS history_rows FROM smig.history;
DROP VIEW public.flyway_schema_history;
DROP TABLE public.schema_migrations;
DROP DOMAIN public.planted_version;
DROP FUNCTION public.planted();
REVOKE CREATE ON SCHEMA public FROM regress_planter;
DROP ROLE regress_planter;
