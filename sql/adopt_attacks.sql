-- adopt_attacks: smig.adopt() and smig.verify_adopted() against tables a
-- hostile or careless role made, and against the real tools' corners.
-- (specs/adopt_race.spec: a table changed between the checks and the read.)
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;
SET timezone = 'UTC';

-- A row without a version or a name (a hand-made table without NOT NULL)
-- is refused, naming the table; it crashed the server (a NULL version was
-- compared with strncmp) or failed on smig.history's NOT NULL.
CREATE TABLE public.schema_migrations (version text);
INSERT INTO public.schema_migrations VALUES ('1'), (NULL);
SELECT * FROM smig.adopt('dbmate');
SELECT * FROM smig.adopt('dbmate', baseline => '5');
DROP TABLE public.schema_migrations;
CREATE TABLE public.schema_migrations (version int, name text, applied_at timestamptz);
INSERT INTO public.schema_migrations VALUES (1, NULL, '2024-01-01');
SELECT * FROM smig.adopt('schema_migrations');
DROP TABLE public.schema_migrations;
-- (a Flyway repeatable row without a script has a name but no version)
CREATE TABLE public.flyway_schema_history (installed_rank int, version varchar(50),
    description varchar(200), type varchar(20), script varchar(1000), checksum int,
    installed_by varchar(100), installed_on timestamp, execution_time int, success boolean);
INSERT INTO flyway_schema_history VALUES
 (1, NULL, 'a view', 'SQL', NULL, 1, 'flyway', '2024-01-01 10:00', 1, true);
SELECT * FROM smig.adopt('flyway', baseline => '1');
DROP TABLE public.flyway_schema_history;
SELECT count(*) AS history_rows FROM smig.history;

-- A baseline below a version the tool applied would leave that version
-- pending for smig, to be applied a second time: refused.
CREATE TABLE public.goose_db_version (id serial, version_id bigint NOT NULL,
    is_applied boolean NOT NULL, tstamp timestamp DEFAULT now());
INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES
 (0, true, '2024-05-01'), (1, true, '2024-05-02'), (2, true, '2024-05-03');
SELECT * FROM smig.adopt('goose', baseline => '1');
SELECT count(*) AS history_rows FROM smig.history;
SELECT version FROM smig.adopt('goose', baseline => '2');
DROP TABLE goose_db_version;
SET client_min_messages = warning;
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

-- Row-level security: an adopter that is not a superuser is subject to
-- the policies of a table another role owns, and they run that owner's
-- function with the adopter's rights.  Refused before the table is read.
CREATE ROLE regress_rls_owner;
CREATE ROLE regress_rls_adopter;
CREATE SCHEMA rls AUTHORIZATION regress_rls_owner;
GRANT USAGE ON SCHEMA smig TO regress_rls_adopter;
GRANT EXECUTE ON FUNCTION smig.adopt(text, text, regclass) TO regress_rls_adopter;
SET ROLE regress_rls_owner;
CREATE FUNCTION rls.planted() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'planted() ran as %', current_user;
    RETURN true;
END $$;
CREATE TABLE rls.pgmigrations (id serial PRIMARY KEY, name varchar(255) NOT NULL, run_on timestamp NOT NULL);
INSERT INTO rls.pgmigrations (name, run_on) VALUES ('1700000000000_one', '2024-08-01');
ALTER TABLE rls.pgmigrations ENABLE ROW LEVEL SECURITY;
CREATE POLICY planted ON rls.pgmigrations USING (rls.planted());
GRANT USAGE ON SCHEMA rls TO regress_rls_adopter;
GRANT SELECT ON rls.pgmigrations TO regress_rls_adopter;
RESET ROLE;
SET ROLE regress_rls_adopter;
SELECT * FROM smig.adopt('node-pg-migrate', history_table => 'rls.pgmigrations');
RESET ROLE;
SELECT count(*) AS history_rows FROM smig.history;
-- a superuser bypasses row security: no policy runs, and it adopts
SELECT version, name FROM smig.adopt('node-pg-migrate', history_table => 'rls.pgmigrations');
DROP SCHEMA rls CASCADE;
REVOKE ALL ON FUNCTION smig.adopt(text, text, regclass) FROM regress_rls_adopter;
REVOKE ALL ON SCHEMA smig FROM regress_rls_adopter;
DROP ROLE regress_rls_owner, regress_rls_adopter;
SET client_min_messages = warning;
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

-- Flyway marks a repeatable migration deleted (repair, Flyway 9+) by its
-- description, for it has no version: not imported, unless applied again.
CREATE TABLE "public"."flyway_schema_history" (
    "installed_rank" INT NOT NULL PRIMARY KEY, "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL, "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL, "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL, "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL, "success" BOOLEAN NOT NULL);
INSERT INTO flyway_schema_history VALUES
 (1, '1', 'one', 'SQL', 'V1__one.sql', 1, 'flyway', '2024-01-01 10:00', 1, true),
 (2, NULL, 'gone view', 'SQL', 'R__gone_view.sql', 2, 'flyway', '2024-01-02 10:00', 1, true),
 (3, NULL, 'kept view', 'SQL', 'R__kept_view.sql', 3, 'flyway', '2024-01-03 10:00', 1, true),
 (4, NULL, 'gone view', 'DELETE', 'R__gone_view.sql', 2, 'flyway', '2024-01-04 10:00', 0, true),
 (5, NULL, 'back view', 'SQL', 'R__back_view.sql', 5, 'flyway', '2024-01-05 10:00', 1, true),
 (6, NULL, 'back view', 'DELETE', 'R__back_view.sql', 5, 'flyway', '2024-01-06 10:00', 0, true),
 (7, NULL, 'back view', 'SQL', 'R__back_view.sql', 7, 'flyway', '2024-01-07 10:00', 1, true);
SELECT version, name, applied_at FROM smig.adopt('flyway');
DROP TABLE flyway_schema_history;
SET client_min_messages = warning;
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

-- Prisma accepts a file whose line endings git changed, and compares the
-- checksums its old versions wrote without leading zeros in that format
-- (prisma-engines' script_matches_checksum): verify_adopted() as well.
-- The recorded values are Python's hashlib.sha256 of the file as Prisma
-- read it (p1: with "\r\n") and, for p3, formatted byte by byte with "%x".
CREATE TABLE "_prisma_migrations" (
    "id" VARCHAR(36) PRIMARY KEY NOT NULL, "checksum" VARCHAR(64) NOT NULL,
    "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, "logs" TEXT,
    "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0);
INSERT INTO "_prisma_migrations" VALUES
 ('1', '0b08dbe1ee671fd70ce3aa28debefd9b891e4e62ca0354611232d66e8d1664a5',
  '2024-07-01 10:00:01+00', '20240701100000_p1', NULL, NULL, '2024-07-01 10:00:00+00', 1),
 ('3', '6ad23817e42395ec56a29ee8592b22da04d1386d4f7c36dfbf65bf758c92ae',
  '2024-07-03 10:00:01+00', '20240703100000_p3', NULL, NULL, '2024-07-03 10:00:00+00', 1),
 ('4', '6ad23817e42395ec56a29ee8592b22da04d1386d4f7c36dfbf65bf758c92ae',
  '2024-07-04 10:00:01+00', '20240704100000_p4', NULL, NULL, '2024-07-04 10:00:00+00', 1);
SELECT count(*) FROM smig.adopt('prisma');
SELECT smig.register('20240701100000', 'p1', E'CREATE TABLE p1 (id int);\n');
SELECT smig.register('20240703100000', 'p3', E'CREATE TABLE p3 (id int);\n');
SELECT smig.register('20240704100000', 'p4', E'CREATE TABLE p4 (id int);\n');
-- only p4, which is not the file Prisma applied
SELECT version, problem, recorded_checksum, registered_checksum FROM smig.verify_adopted();
DROP TABLE "_prisma_migrations";
SET client_min_messages = warning;
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

-- Sqitch's registry upgrade to 1.0 filled script_hash with the change id
-- ("Copy change_id for now"), until Sqitch computes the hash: that is no
-- checksum of the script, and verify_adopted() must not call it differing.
CREATE SCHEMA sqitch;
CREATE TABLE sqitch.changes (change_id text PRIMARY KEY, script_hash text, change text NOT NULL,
    project text NOT NULL, note text NOT NULL DEFAULT '', committed_at timestamptz NOT NULL,
    committer_name text NOT NULL, committer_email text NOT NULL, planned_at timestamptz NOT NULL,
    planner_name text NOT NULL, planner_email text NOT NULL);
INSERT INTO sqitch.changes VALUES
 ('5b5c4e8d2c1f8f6a43c0b1d5e2f7a9c3d4e5f6a7', '5b5c4e8d2c1f8f6a43c0b1d5e2f7a9c3d4e5f6a7', 'widgets',
  'shop', '', '2012-06-01 10:00', 'Ann', 'ann@example.com', '2012-05-30', 'Ann', 'ann@example.com');
SELECT version, name FROM smig.adopt('sqitch', baseline => '1');
SELECT version, checksum FROM smig.history WHERE action = 'import';
SELECT smig.register('1', 'widgets', E'CREATE TABLE widgets (id int);\n');
SELECT version, problem FROM smig.verify_adopted();
DROP SCHEMA sqitch CASCADE;
