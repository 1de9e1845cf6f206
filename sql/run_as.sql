-- run_as: a migration runs as the role that registered it (or a run-as
-- role its registrant is a member of), whoever applies it; the caller must
-- be a member of that role; SET inside a migration ends with it
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;   -- NOTICEs carry durations

CREATE ROLE regress_ra_deployer;
CREATE ROLE regress_ra_owner;       -- a role the deployer may act as
CREATE ROLE regress_ra_outsider;    -- one it may not
GRANT regress_ra_owner TO regress_ra_deployer;
GRANT USAGE ON SCHEMA smig TO regress_ra_deployer, regress_ra_outsider;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.upgrade_head(), smig.status()
  TO regress_ra_deployer, regress_ra_outsider;
CREATE SCHEMA ra AUTHORIZATION regress_ra_deployer;
GRANT CREATE, USAGE ON SCHEMA ra TO regress_ra_owner;
-- what each migration saw, written by the migrations themselves
CREATE TABLE public.ra_seen (version text, seen text);
GRANT INSERT ON public.ra_seen TO PUBLIC;

-- 1. the hostile trial's attack: a deployer registers a migration that,
-- when a superuser applies it, makes its author superuser and erases the
-- trace.  It runs as its author, so the superuser's rights never reach it.
SET ROLE regress_ra_deployer;
SELECT smig.register('1', 'escalate', $$
DO $do$
BEGIN
    INSERT INTO public.ra_seen
        SELECT '1', current_user || ' super=' || rolsuper
          FROM pg_roles WHERE rolname = current_user;
    IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE regress_ra_deployer SUPERUSER;
        SET session_replication_role = replica;
        DELETE FROM smig.history;
    END IF;
END
$do$;
CREATE TABLE ra.accounts (id int);
$$);
RESET ROLE;
SELECT rolsuper FROM pg_roles WHERE rolname = current_user;
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM public.ra_seen;
SELECT rolsuper AS deployer_is_superuser FROM pg_roles WHERE rolname = 'regress_ra_deployer';
-- objects belong to the migration's role; history names caller and run-as role
SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'ra';
SELECT version, role = current_user AS applied_by_caller, run_as FROM smig.history;
SELECT version, state, applied_by = current_user AS applied_by_caller, run_as FROM smig.status();
SELECT count(*) AS history_rows FROM smig.history;

-- 2. a run-as role: the registrant must be a member of it
SET ROLE regress_ra_deployer;
SELECT smig.register('2', 'as_owner', E'-- smig:run-as regress_ra_owner\nCREATE TABLE ra.owned_by_owner (id int);\nINSERT INTO public.ra_seen VALUES (''2'', current_user);');
SELECT smig.register('3', 'as_outsider', 'SELECT 1', options => '{"run_as": "regress_ra_outsider"}');
SELECT smig.register('3', 'as_ghost', E'-- smig:run-as regress_no_such_role\nSELECT 1');
SELECT smig.register('3', 'bad_role', E'-- smig:run-as a, b\nSELECT 1');
SELECT smig.register('3', 'bad_option', 'SELECT 1', options => '{"run_as": 7}');
-- a quoted name is taken as written, a bare one folded to lower case
SELECT smig.register('3', 'quoted', E'-- smig:run-as "regress_ra_owner"\nSELECT 1');
SELECT smig.register('3', 'folded', E'-- smig:run-as REGRESS_RA_OWNER\nSELECT 1');
RESET ROLE;
SELECT version, name, state, run_as FROM smig.status() WHERE state = 'pending';
-- refused registrations stored nothing
SELECT count(*) AS registered FROM smig.migration;

-- 3. the caller must be a member of the role a migration runs as: checked
-- for every selected migration before any runs
SET ROLE regress_ra_outsider;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
SELECT version, state FROM smig.status();
SELECT count(*) AS owned_by_owner FROM pg_tables WHERE tablename = 'owned_by_owner';
SET ROLE regress_ra_deployer;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
SELECT tablename, tableowner FROM pg_tables WHERE tablename = 'owned_by_owner';
SELECT * FROM public.ra_seen WHERE version = '2';
SELECT version, run_as FROM smig.history WHERE version = '2';

-- 4. a migration cannot SET ROLE its way back to the caller's rights
SET ROLE regress_ra_deployer;
SELECT smig.register('4', 'set_role', 'SET ROLE NONE; CREATE TABLE ra.as_caller (id int);');
RESET ROLE;
\set VERBOSITY terse
SELECT version FROM smig.upgrade_head();
\set VERBOSITY default
SELECT to_regclass('ra.as_caller') IS NULL AS not_created;
SET ROLE regress_ra_deployer;
SELECT smig.register('4', 'set_role', 'SELECT 1;');
RESET ROLE;

-- 5. settings a migration changes end with it: neither the next migration
-- nor the caller's session sees them
SET work_mem = '4MB';
SELECT smig.register('5', 'sets', $$
SET work_mem = '77MB';
SET search_path = ra, public;
SELECT set_config('application_name', 'set_by_migration', false);
SET LOCAL statement_timeout = '1h';
INSERT INTO public.ra_seen VALUES ('5', current_setting('work_mem') || ' ' || current_setting('search_path'));
$$);
SELECT smig.register('6', 'sees', $$
INSERT INTO public.ra_seen VALUES ('6', current_setting('work_mem') || ' ' || current_setting('search_path'));
$$);
SELECT version FROM smig.upgrade_head();
SELECT * FROM public.ra_seen WHERE version IN ('5', '6') ORDER BY version;
SHOW work_mem;
SHOW search_path;
SHOW application_name;
SHOW statement_timeout;
RESET work_mem;

-- 6. registering the same text again as another role makes that role its
-- author: the registry says who vouches for the text now
SELECT smig.register('7', 'same_text', 'SELECT 1;');
SET ROLE regress_ra_deployer;
SELECT smig.register('7', 'same_text', 'SELECT 1;');
SELECT smig.register('7', 'same_text', 'SELECT 1;');
RESET ROLE;
SELECT version, run_as FROM smig.status() WHERE version = '7';
-- the run_as option wins over the "-- smig:run-as" directive
SELECT smig.register('8', 'both', E'-- smig:run-as regress_ra_outsider\nSELECT 1;',
                     options => '{"run_as": "regress_ra_owner"}');
SELECT version, run_as FROM smig.status() WHERE version = '8';
SELECT smig.unregister('8');

-- 7. a migration run as another role than the caller creates no temporary
-- object: a temporary view could shadow a name a later migration (here one
-- a superuser registered) or the caller's session uses unqualified (more
-- such attacks in run_as_attacks)
CREATE TABLE public.ra_prices (id int);
SET ROLE regress_ra_deployer;
SELECT smig.register('8', 'shadow', $$
CREATE FUNCTION ra.steal() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TEMP VIEW ra_prices AS SELECT ra.steal() AS id;
$$);
RESET ROLE;
SELECT smig.register('9', 'uses_prices', 'INSERT INTO ra_prices SELECT 1;');
SELECT version FROM smig.upgrade_head();
SELECT to_regclass('pg_temp.ra_prices') IS NULL AS no_temp_view,
       to_regprocedure('ra.steal()') IS NULL AS nothing_applied;
-- nor when its author applies it after SET ROLE from another role's
-- session (the superuser's, here): RESET ROLE would give the session its
-- own rights back before COMMIT.  The hint says why, and what to do.
SELECT smig.unregister('9');
SET ROLE regress_ra_deployer;
SELECT smig.register('8', 'scratch', $$
CREATE TEMP TABLE ra_scratch AS SELECT 1 AS id;
DROP TABLE ra_scratch;
$$);
SELECT version FROM smig.upgrade_head();
RESET ROLE;
-- applied by its author in a session of its own, a migration may use
-- temporary tables
SELECT current_user AS superuser \gset
ALTER ROLE regress_ra_deployer LOGIN;
\c - regress_ra_deployer
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
\c - :"superuser"
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
SELECT smig.register('9', 'uses_prices', 'INSERT INTO ra_prices SELECT 1;');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS prices FROM public.ra_prices;
DROP TABLE public.ra_prices;

DROP SCHEMA ra CASCADE;
DROP TABLE public.ra_seen;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_ra_deployer, regress_ra_owner, regress_ra_outsider;
DROP ROLE regress_ra_deployer, regress_ra_owner, regress_ra_outsider;
