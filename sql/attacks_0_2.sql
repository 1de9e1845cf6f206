-- attacks_0_2: a hostile review of smig 0.2's newest code -- the guard,
-- load_dir/register_many/unregister, the run-as model.  Each numbered
-- attack worked before its fix; "held:" marks attacks that did not (6 was
-- a documented hole, fixed since).
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;
\getenv abs_builddir PG_ABS_BUILDDIR
\set scratch :abs_builddir '/results/attacks_0_2'
\setenv A02_SCRATCH :scratch
\! rm -rf "$A02_SCRATCH" && mkdir -p "$A02_SCRATCH"

-- errors whose messages hold a path or a temporary schema's name, with
-- those replaced
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(replace(SQLERRM,
        current_setting('regress.scratch'), '<scratch>'), 'pg_temp_[0-9]+', 'pg_temp', 'g');
END $$;
SELECT set_config('regress.scratch', :'scratch', false) IS NOT NULL AS set;

-- two deployers (the README's recipe grants) and an application role
CREATE ROLE regress_a02_dep;
CREATE ROLE regress_a02_other;
CREATE ROLE regress_a02_app;
GRANT USAGE ON SCHEMA smig TO regress_a02_dep, regress_a02_other;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.unregister(text), smig.register_many(jsonb, boolean),
    smig.upgrade_head(), smig.status() TO regress_a02_dep, regress_a02_other;
CREATE SCHEMA a02 AUTHORIZATION regress_a02_dep;
GRANT USAGE ON SCHEMA a02 TO regress_a02_app;
SET ROLE regress_a02_dep;
SELECT smig.register('1', 'schema', $m$
CREATE TABLE a02.t (id int, c int);
CREATE SEQUENCE a02.s;
CREATE TYPE a02.mood AS ENUM ('ok');
GRANT SELECT ON a02.t TO regress_a02_app;
GRANT USAGE ON a02.s TO regress_a02_app;
$m$);
SELECT version FROM smig.upgrade_head();
RESET ROLE;
\set VERBOSITY terse

-- 1. (guard) a temporary object that depends on a managed table pins it:
-- while the application's session lives, a migration's ALTER COLUMN ...
-- TYPE or DROP COLUMN on a02.t fails ("cannot alter type of a column used
-- by a view or rule").  Any role that may read the table could do it.
SET smig.guard = error;
SET ROLE regress_a02_app;
CREATE TEMP VIEW a02_v AS SELECT * FROM a02.t;
CREATE TEMP TABLE a02_rows (r a02.t);
CREATE TEMP TABLE a02_rows2 (r a02.t[]);
CREATE TEMP TABLE a02_ids (id bigint DEFAULT nextval('a02.s'));
CREATE TEMP TABLE a02_ids2 (id bigint);
ALTER TABLE a02_ids2 ALTER id SET DEFAULT nextval('a02.s');
SELECT pg_temp.try($$CREATE FUNCTION pg_temp.a02_f(a02.t) RETURNS int LANGUAGE sql AS 'SELECT 1'$$);
-- held: temporary objects of their own, or only copying a shape, are free
CREATE TEMP VIEW a02_v2 AS SELECT 1 AS one;
CREATE TEMP TABLE a02_like (LIKE a02.t);
CREATE TEMP TABLE a02_copy AS SELECT * FROM a02.t;
CREATE TEMP TABLE a02_moods (m a02.mood);
RESET ROLE;
SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema()
   AND relowner = 'regress_a02_app'::regrole ORDER BY 1;
SELECT count(*) AS a02_functions FROM pg_proc WHERE proname = 'a02_f';
DROP VIEW a02_v2;
DROP TABLE a02_copy, a02_ids2, a02_like, a02_moods;
SET smig.guard = off;

-- 2. (unregister) a deployer took back another role's pending migration,
-- which synchronising refuses to drop (its NOTICE: "a member of role ...
-- can take it back with smig.unregister()"): upgrade_head() then skipped it,
-- and no history row says so
SET ROLE regress_a02_other;
SELECT smig.register('2', 'others', 'CREATE TABLE a02_other_made ();');
SET ROLE regress_a02_dep;
SELECT smig.unregister('2');
SET ROLE regress_a02_other;
SELECT smig.unregister('2');
RESET ROLE;
SELECT version, state FROM smig.status();
-- the same for a repeatable migration
GRANT EXECUTE ON FUNCTION smig.register_repeatable(text, text, jsonb) TO regress_a02_other;
SET ROLE regress_a02_other;
SELECT smig.register_repeatable('others_view', 'SELECT 1;');
SET ROLE regress_a02_dep;
SELECT smig.unregister('R__others_view');
SET ROLE regress_a02_other;
SELECT smig.unregister('R__others_view');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION smig.register_repeatable(text, text, jsonb) FROM regress_a02_other;

-- 3. (load_dir) a file name that is not valid UTF-8 was stored as the
-- migration's name, in the append-only history too: pg_dump's output no
-- longer restored (COPY refuses the bytes, so smig.history, smig.applied
-- and smig.migration came back empty) and status() failed for clients in
-- another encoding
\! mkdir -p "$A02_SCRATCH/latin1" && printf 'SELECT 1;\n' > "$A02_SCRATCH/latin1/$(printf 'V3__caf\351.sql')"
SELECT pg_temp.try(format('SELECT smig.load_dir(%L, false)', :'scratch' || '/latin1'));
SELECT count(*) AS registered FROM smig.migration WHERE version = '3';

-- 4. (load_dir) a link whose target went missing (a shared checkout being
-- replaced) counted as a file that is gone: synchronising unregistered
-- its pending migration and upgrade_head() ran the later ones without it,
-- which left it out of order when it came back
GRANT pg_read_server_files TO regress_a02_other;
GRANT EXECUTE ON FUNCTION smig.load_dir(text, boolean) TO regress_a02_other;
CREATE SCHEMA a02o AUTHORIZATION regress_a02_other;
\! mkdir -p "$A02_SCRATCH/shared" "$A02_SCRATCH/links" && printf 'CREATE TABLE a02o.four ();\n' > "$A02_SCRATCH/shared/V4__four.sql" && ln -s ../shared/V4__four.sql "$A02_SCRATCH/links/V4__four.sql" && printf 'CREATE TABLE a02o.five ();\n' > "$A02_SCRATCH/links/V5__five.sql"
SET ROLE regress_a02_other;
SELECT smig.load_dir(:'scratch' || '/links') AS loaded;
\! mv "$A02_SCRATCH/shared" "$A02_SCRATCH/shared.away"
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'scratch' || '/links'));
SELECT version, state FROM smig.status();
\! mv "$A02_SCRATCH/shared.away" "$A02_SCRATCH/shared"
-- held: a file that is really gone is still dropped, and a link to a
-- directory is still no migration file (load_dir's fixture)
\! rm "$A02_SCRATCH/links/V5__five.sql" && mkdir "$A02_SCRATCH/dir" && ln -s ../dir "$A02_SCRATCH/links/V6__a_directory.sql"
SELECT smig.load_dir(:'scratch' || '/links') AS loaded;
SELECT version FROM smig.upgrade_head();
RESET ROLE;

-- 5. (run-as) another role's migration read the caller's open cursor: it
-- runs as its author, but a cursor is read with the rights of whoever
-- opened it, and pg_cursors names every cursor of the session
CREATE TABLE public.a02_secrets AS SELECT 'top secret'::text AS s;
SET ROLE regress_a02_dep;
SELECT smig.register('6', 'cursor_thief', $m$
CREATE TABLE a02.loot (s text);
DO $d$
DECLARE
    c refcursor;
    r record;
BEGIN
    FOR r IN SELECT name FROM pg_catalog.pg_cursors LOOP
        c := r.name;
        LOOP
            FETCH c INTO r;
            EXIT WHEN NOT FOUND;
            INSERT INTO a02.loot VALUES (r::text);
        END LOOP;
    END LOOP;
END $d$;
$m$);
RESET ROLE;
BEGIN;
DECLARE a02_mine CURSOR FOR SELECT s FROM public.a02_secrets;
SELECT version FROM smig.upgrade_head();
ROLLBACK;
-- a PL/pgSQL loop around the call holds a cursor too
DO $$ DECLARE r record; BEGIN
    FOR r IN SELECT s FROM public.a02_secrets LOOP PERFORM smig.upgrade_head(); END LOOP;
END $$;
SELECT to_regclass('a02.loot') IS NULL AS nothing_stolen;
-- held: with the cursors closed it runs (and finds nothing to read)
BEGIN;
DECLARE a02_mine CURSOR FOR SELECT s FROM public.a02_secrets;
CLOSE ALL;
SELECT version FROM smig.upgrade_head();
COMMIT;
SELECT count(*) AS stolen FROM a02.loot;
-- held: the caller's own migration may use the caller's cursors
SELECT smig.register('7', 'own_cursor', 'MOVE FORWARD 1 IN a02_mine;');
BEGIN;
DECLARE a02_mine CURSOR FOR SELECT s FROM public.a02_secrets;
SELECT version FROM smig.upgrade_head();
FETCH a02_mine;
COMMIT;

-- 6. (run-as) a superuser who SET ROLEs to a deployer to apply its
-- migration (as README once advised for migrations that need deferred
-- triggers) and RESET ROLEs before COMMIT lent it its rights: the deferred
-- trigger the migration queued fired at COMMIT as the superuser, and the
-- deployer became superuser.  A migration now runs as a security-restricted
-- operation whenever the session is not its run-as role's own, so the
-- deferred trigger is refused; SET SESSION AUTHORIZATION is no way round.
CREATE VIEW public.a02_escalated AS
    SELECT rolsuper AS escalated FROM pg_roles WHERE rolname = 'regress_a02_dep';
SET ROLE regress_a02_dep;
SELECT smig.register('8', 'deferred', $m$
CREATE FUNCTION a02.boom() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
    IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        ALTER ROLE regress_a02_dep SUPERUSER;
    END IF;
    RETURN NULL;
END $f$;
CREATE TABLE a02.d (id int);
CREATE CONSTRAINT TRIGGER d_boom AFTER INSERT ON a02.d
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION a02.boom();
INSERT INTO a02.d VALUES (1);
$m$);
RESET ROLE;
BEGIN;
SET LOCAL ROLE regress_a02_dep;
SELECT version FROM smig.upgrade_head();
RESET ROLE;
COMMIT;
SELECT * FROM public.a02_escalated;
BEGIN;
SET LOCAL SESSION AUTHORIZATION regress_a02_dep;
SELECT version FROM smig.upgrade_head();
RESET SESSION AUTHORIZATION;
COMMIT;
SELECT * FROM public.a02_escalated;
SELECT count(*) AS history_rows FROM smig.history WHERE version = '8';
ALTER ROLE regress_a02_dep NOSUPERUSER;

-- 7. (unregister) a registration at the very version of a baseline set by
-- smig.baseline() is "baselined", but unregistering it was refused as
-- "applied while it was being unregistered"
SELECT smig.baseline('50', 'squash');
SELECT smig.register('50', 'at_the_baseline', 'SELECT 50;');
SELECT version, state FROM smig.status() WHERE version = '50';
SELECT smig.unregister('50');
SELECT count(*) AS history_rows_for_50 FROM smig.history WHERE version = '50';

-- held: a run-as role renamed between registration and apply no longer
-- matches the recorded name (roles are recorded by name: a role created
-- under the old name would inherit the migration, see README)
CREATE ROLE regress_a02_team;
GRANT regress_a02_team TO regress_a02_dep;
GRANT CREATE ON SCHEMA a02 TO regress_a02_team;
SET ROLE regress_a02_dep;
SELECT smig.register('60', 'as_team', E'-- smig:run-as regress_a02_team\nCREATE TABLE a02.team_made ();');
RESET ROLE;
ALTER ROLE regress_a02_team RENAME TO regress_a02_team_old;
SELECT version FROM smig.upgrade_head();
ALTER ROLE regress_a02_team_old RENAME TO regress_a02_team;
SELECT version FROM smig.upgrade_head();

-- held: malformed input to the bulk path fails the whole call
SELECT * FROM smig.register_many('[{"version": "70", "name": "x", "up_sql": "SELECT 1;"}, 5]', false);
SELECT * FROM smig.register_many('[{"version": "70", "name": "x", "up_sql": "SELECT 1;", "options": {"up_line": 9}}]', false);
SELECT * FROM smig.register_many('[{"version": "70", "name": "x\u0007", "up_sql": "SELECT 1;"}]', false);
SELECT count(*) AS registered_70 FROM smig.migration WHERE version = '70';

\set VERBOSITY default
SELECT version, state,
       CASE WHEN run_as = current_user THEN '(the superuser)' ELSE run_as END AS run_as
  FROM smig.status();
SELECT action, version, name,
       CASE WHEN run_as = current_user THEN '(the superuser)' ELSE run_as END AS run_as
  FROM smig.history ORDER BY id;

\! rm -rf "$A02_SCRATCH"
DROP VIEW public.a02_escalated;
DROP TABLE public.a02_secrets;
DROP SCHEMA a02, a02o CASCADE;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_a02_dep, regress_a02_other, regress_a02_app, regress_a02_team;
DROP ROLE regress_a02_dep, regress_a02_other, regress_a02_app, regress_a02_team;
