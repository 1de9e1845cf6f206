-- attacks_worker: a hostile review of the background worker that runs
-- no-transaction migrations (src/worker.c), in the scenario that matters
-- most: a deployer registers "-- smig:no-transaction" text and a superuser
-- (this session) applies it with CALL smig.upgrade().  Each numbered
-- attack worked before its fix; "held:" marks attacks that did not.
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
RESET client_min_messages;

CREATE ROLE regress_aw_dep;
CREATE ROLE regress_aw_other;
GRANT USAGE ON SCHEMA smig TO regress_aw_dep, regress_aw_other;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.unregister(text), smig.status()
    TO regress_aw_dep, regress_aw_other;
GRANT EXECUTE ON PROCEDURE smig.upgrade(text), smig.downgrade_to(text)
    TO regress_aw_dep, regress_aw_other;
CREATE SCHEMA aw AUTHORIZATION regress_aw_dep;
CREATE SCHEMA aw_other AUTHORIZATION regress_aw_other;
GRANT USAGE ON SCHEMA aw_other TO regress_aw_dep;
\set VERBOSITY terse

-- 1. the destructive-change gate did not judge the worker: with
-- smig.destructive = refuse (superuser-only, so that a deployer cannot
-- switch it off), "-- smig:no-transaction" switched it off, and an
-- undeclared DROP TABLE ran.  Now the worker judges each statement of an
-- up script before it commits, with the caller's setting.
SET ROLE regress_aw_dep;
CREATE TABLE aw.precious (x int);
INSERT INTO aw.precious VALUES (42);
SELECT smig.register('1', 'drop_precious',
  E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS precious_x ON aw.precious (x);\nDROP TABLE aw.precious;');
RESET ROLE;
SET smig.destructive = refuse;
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
-- the table is still there; the statement before the refused one stays done
SELECT x, to_regclass('aw.precious_x') AS index FROM aw.precious;
SELECT version, state FROM smig.status();
SELECT smig.unregister('1');
-- DROP INDEX CONCURRENTLY kills the index in transactions of its own
-- before any event trigger fires: it is judged before it runs, and the
-- index stays valid
SELECT smig.register('1.1', 'drop_index',
  E'-- smig:no-transaction\nDROP INDEX CONCURRENTLY aw.precious_x;');
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT indisvalid, indisready FROM pg_index WHERE indexrelid = 'aw.precious_x'::regclass;
SELECT smig.unregister('1.1');
-- what an earlier statement of the migration created it may drop; a
-- down script is not judged
SELECT smig.register('2', 'scratch',
  E'-- smig:no-transaction\nCREATE TABLE aw.scratch (x int);\nCREATE INDEX CONCURRENTLY scratch_x ON aw.scratch (x);\nDROP TABLE aw.scratch;',
  E'DROP INDEX CONCURRENTLY IF EXISTS aw.precious_x;');
CALL smig.upgrade();
CALL smig.downgrade_to('0');
SELECT to_regclass('aw.scratch') AS scratch, to_regclass('aw.precious_x') AS index;
SELECT smig.unregister('2');
-- declared, it runs; with warn, an undeclared one runs with a WARNING
SELECT smig.register('3', 'declared',
  E'-- smig:no-transaction\n-- smig:destructive\nCREATE TABLE aw.gone (x int);\nALTER TABLE aw.precious ALTER COLUMN x TYPE bigint;');
CALL smig.upgrade();
SET smig.destructive = warn;
SELECT smig.register('3.1', 'warned',
  E'-- smig:no-transaction\nDROP TABLE aw.gone;');
CALL smig.upgrade();
SELECT version, state FROM smig.status() ORDER BY version;
RESET smig.destructive;

-- 2. a forged leftover mark: the retry of a migration dropped every
-- INVALID index whose COMMENT carried the migration's mark, as the
-- run-as role; another role that put the mark on an INVALID index of its
-- own made the retry fail ("must be owner"), every time.  Now the retry
-- drops only marked indexes the run-as role owns.
SET ROLE regress_aw_dep;
CREATE TABLE aw.dup (v int);
INSERT INTO aw.dup VALUES (1), (1);
SELECT smig.register('4', 'unique_dup',
  E'-- smig:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS dup_v_key ON aw.dup (v);');
RESET ROLE;
SET client_min_messages = error;
CALL smig.upgrade();
RESET client_min_messages;
SET ROLE regress_aw_other;
CREATE TABLE aw_other.t (v int);
INSERT INTO aw_other.t VALUES (1), (1);
CREATE UNIQUE INDEX CONCURRENTLY t_v_key ON aw_other.t (v);
COMMENT ON INDEX aw_other.t_v_key IS 'smig: INVALID leftover of the up script of migration 4, dropped when it runs again';
RESET ROLE;
DELETE FROM aw.dup WHERE ctid = (SELECT min(ctid) FROM aw.dup);
CALL smig.upgrade();
SELECT c.oid::regclass AS index, i.indisvalid
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('aw.dup'::regclass, 'aw_other.t'::regclass) ORDER BY 1;
SELECT version, state FROM smig.status() WHERE version = '4';

-- 3. a statement smuggled past registration: registration splits the
-- script as standard SQL reads it and refuses transaction control, but
-- the worker's session keeps a migration's SET, and with
-- standard_conforming_strings off the server read line 4 as two
-- statements, the second a BEGIN: every later statement stayed
-- uncommitted (rolled back when the worker exited) while the history
-- recorded the migration applied.  Now a statement that the server reads
-- as several is refused, and so is transaction control in the worker.
SET ROLE regress_aw_dep;
SELECT smig.register('6', 'smuggled_begin', $m$-- smig:no-transaction
SET escape_string_warning = off;
SET standard_conforming_strings = off;
SELECT 'a\' || '; BEGIN; --';
CREATE TABLE aw.made_by_6 (x int);
$m$);
RESET ROLE;
\set VERBOSITY default
SET client_min_messages = warning;
CALL smig.upgrade();
RESET client_min_messages;
\set VERBOSITY terse
SELECT version, state FROM smig.status() WHERE version = '6';
SELECT to_regclass('aw.made_by_6') AS made_by_6;
SELECT smig.unregister('6');

-- held: the worker, connected as this superuser, runs the deployer's text
-- as the deployer; what it queues for its statement's COMMIT (a deferred
-- trigger, a WITH HOLD cursor) runs as the deployer too
SET ROLE regress_aw_dep;
CREATE TABLE aw.seen (what text, who text, session_is_super boolean);
CREATE TABLE aw.d (x int);
CREATE FUNCTION aw.note() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO aw.seen SELECT 'deferred trigger', current_user,
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user);
  RETURN NULL;
END $f$;
CREATE FUNCTION aw.note_cursor() RETURNS int LANGUAGE sql AS $f$
  INSERT INTO aw.seen SELECT 'cursor', current_user,
    (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user)
  RETURNING 1
$f$;
CREATE CONSTRAINT TRIGGER d_note AFTER INSERT ON aw.d
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION aw.note();
SELECT smig.register('7', 'deferred',
  E'-- smig:no-transaction\nINSERT INTO aw.d VALUES (1);\nDECLARE c CURSOR WITH HOLD FOR SELECT aw.note_cursor();');
RESET ROLE;
CALL smig.upgrade();
SELECT * FROM aw.seen ORDER BY what;
SELECT version, state FROM smig.status() WHERE version = '7';

SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION smig CASCADE;
DROP SCHEMA aw, aw_other CASCADE;
DROP OWNED BY regress_aw_dep, regress_aw_other;
DROP ROLE regress_aw_dep, regress_aw_other;
