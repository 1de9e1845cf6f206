-- run_as_attacks: a deployer's migration that a more privileged caller
-- applies must not get code of its author to run with the caller's rights
-- later (deferred triggers and constraint checks, WITH HOLD cursors,
-- temporary objects shadowing the caller's names); and an author who lost
-- the run-as role no longer vouches for the text.  Each attack comes from a
-- hostile review of the run-as model; each escalated before the fix.
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;

CREATE ROLE regress_rx_deployer;
GRANT USAGE ON SCHEMA smig TO regress_rx_deployer;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.upgrade_head(), smig.status() TO regress_rx_deployer;
CREATE SCHEMA rx AUTHORIZATION regress_rx_deployer;
-- what the author gains if its code ever runs as a superuser
CREATE VIEW rx_escalated AS
    SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls AS escalated
      FROM pg_roles WHERE rolname = 'regress_rx_deployer';
SET ROLE regress_rx_deployer;
CREATE FUNCTION rx.escalate() RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE regress_rx_deployer SUPERUSER CREATEROLE;
    END IF;
    RETURN true;
END $f$;
RESET ROLE;
\set VERBOSITY terse

-- 1. a deferred constraint trigger would fire at the caller's COMMIT
SET ROLE regress_rx_deployer;
SELECT smig.register('1', 'deferred_trigger', $m$
CREATE FUNCTION rx.boom() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN PERFORM rx.escalate(); RETURN NULL; END $f$;
CREATE TABLE rx.t (id int);
CREATE CONSTRAINT TRIGGER t_boom AFTER INSERT ON rx.t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rx.boom();
INSERT INTO rx.t VALUES (1);
$m$);
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT * FROM rx_escalated;
SELECT to_regclass('rx.t') IS NULL AS not_applied;

-- ... nor when the superuser SET ROLEs to its author: a RESET ROLE before
-- COMMIT would have it fire as the superuser
SET ROLE regress_rx_deployer;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
SELECT * FROM rx_escalated;
-- ... while its author may apply it itself, in a session of its own: the
-- trigger then fires as the author
SELECT current_user AS superuser \gset
ALTER ROLE regress_rx_deployer LOGIN;
\c - regress_rx_deployer
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
\c - :"superuser"
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
SELECT * FROM rx_escalated;

-- 2. a WITH HOLD cursor's query would run at the caller's COMMIT
SET ROLE regress_rx_deployer;
SELECT smig.register('2', 'hold_cursor',
    'DECLARE rx_c CURSOR WITH HOLD FOR SELECT rx.escalate();');
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT * FROM rx_escalated;
SELECT count(*) AS open_cursors FROM pg_cursors;

-- 3. a deferred exclusion constraint's recheck would run its expression at COMMIT
SET ROLE regress_rx_deployer;
SELECT smig.register('2', 'deferred_exclusion', $m$
CREATE FUNCTION rx.k(i int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $f$
BEGIN PERFORM rx.escalate(); RETURN i; END $f$;
CREATE TABLE rx.x (id int, EXCLUDE USING btree ((rx.k(id)) WITH =) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO rx.x VALUES (1), (1);
DELETE FROM rx.x WHERE ctid = (SELECT min(ctid) FROM rx.x);
$m$);
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT * FROM rx_escalated;

-- 4. temporary objects would shadow names the caller uses unqualified, in
-- the rest of the call and of the session, even when the caller's session
-- already has a temporary schema
CREATE TEMP TABLE rx_mine (id int);
SET ROLE regress_rx_deployer;
SELECT smig.register('2', 'temp_view',
    'CREATE TEMP VIEW pg_stat_activity AS SELECT * FROM pg_catalog.pg_stat_activity WHERE rx.escalate();');
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SET ROLE regress_rx_deployer;
SELECT smig.register('2', 'temp_domain',
    'CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (rx.escalate());');
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SET ROLE regress_rx_deployer;
SELECT smig.register('2', 'temp_table',
    'CREATE TEMP TABLE pg_stat_activity AS SELECT 1 AS pid;');
RESET ROLE;
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS pid_is_a_number FROM pg_stat_activity WHERE pid = pg_backend_pid();
SELECT 'plain'::text AS cast_is_pg_catalog_text;
SELECT * FROM rx_escalated;
SELECT count(*) AS temp_objects_of_author
  FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relowner = 'regress_rx_deployer'::regrole;
DROP TABLE rx_mine;

-- 5. the caller need not be a superuser: a release manager who is a member
-- of two teams applies team A's migration, which would read team B's data
CREATE ROLE regress_rx_team_a;
CREATE ROLE regress_rx_team_b;
CREATE ROLE regress_rx_relmgr IN ROLE regress_rx_team_a, regress_rx_team_b;
GRANT USAGE ON SCHEMA smig TO regress_rx_team_a, regress_rx_relmgr;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.upgrade_head(), smig.unregister(text) TO regress_rx_team_a, regress_rx_relmgr;
CREATE SCHEMA rx_b AUTHORIZATION regress_rx_team_b;
CREATE TABLE rx_b.secrets AS SELECT 'team b secret'::text AS s;
ALTER TABLE rx_b.secrets OWNER TO regress_rx_team_b;
CREATE SCHEMA rx_a AUTHORIZATION regress_rx_team_a;
SELECT smig.unregister('2');
SET ROLE regress_rx_team_a;
SELECT smig.register('2', 'steal_from_b', $m$
CREATE TABLE rx_a.loot (s text);
CREATE FUNCTION rx_a.steal() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN INSERT INTO rx_a.loot SELECT s FROM rx_b.secrets; RETURN NULL; END $f$;
CREATE TABLE rx_a.t (id int);
CREATE CONSTRAINT TRIGGER t_steal AFTER INSERT ON rx_a.t
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION rx_a.steal();
INSERT INTO rx_a.t VALUES (1);
$m$);
RESET ROLE;
SET ROLE regress_rx_relmgr;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
SELECT to_regclass('rx_a.loot') IS NULL AS nothing_stolen;

-- 6. an author who lost the run-as role no longer vouches for the text
SET ROLE regress_rx_team_a;
SELECT smig.unregister('2');
RESET ROLE;
CREATE ROLE regress_rx_contractor IN ROLE regress_rx_team_a;
GRANT USAGE ON SCHEMA smig TO regress_rx_contractor;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb) TO regress_rx_contractor;
SET ROLE regress_rx_contractor;
SELECT smig.register('2', 'as_team_a', E'-- smig:run-as regress_rx_team_a\nCREATE TABLE rx_a.contractor_made ();');
RESET ROLE;
REVOKE regress_rx_team_a FROM regress_rx_contractor;
SELECT version FROM smig.upgrade_head();
DROP OWNED BY regress_rx_contractor;
DROP ROLE regress_rx_contractor;
SELECT version FROM smig.upgrade_head();
SELECT to_regclass('rx_a.contractor_made') IS NULL AS not_applied;
-- nor does a run-as role that was dropped since
SELECT smig.unregister('2');
CREATE ROLE regress_rx_gone;
GRANT regress_rx_gone TO regress_rx_team_a;
SET ROLE regress_rx_team_a;
SELECT smig.register('2', 'as_gone', E'-- smig:run-as regress_rx_gone\nSELECT 1;');
RESET ROLE;
DROP ROLE regress_rx_gone;
SELECT version FROM smig.upgrade_head();

\set VERBOSITY default
SELECT version, state, run_as FROM smig.status();
SELECT * FROM rx_escalated;

DROP VIEW rx_escalated;
DROP SCHEMA rx, rx_a, rx_b CASCADE;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_rx_deployer, regress_rx_team_a, regress_rx_team_b, regress_rx_relmgr;
DROP ROLE regress_rx_deployer, regress_rx_team_a, regress_rx_team_b, regress_rx_relmgr;
