-- guard: smig.guard = off | warn | error for DDL that no migration runs
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
CREATE SCHEMA app;
SHOW smig.guard;

-- off (the default): anything goes
CREATE TABLE app.t_off (id int);

-- warn: allowed, with a WARNING
SET smig.guard = warn;
CREATE TABLE app.t_warn (id int);
DROP TABLE app.t_off;

-- error: refused and rolled back, with a hint
SET smig.guard = error;
CREATE TABLE app.t_error (id int);
SELECT to_regclass('app.t_error') IS NULL AS rolled_back;
ALTER TABLE app.t_warn ADD COLUMN x int;
DROP TABLE app.t_warn;
CREATE SCHEMA other;
CREATE TABLE public.t_public (id int);
-- temporary objects are free
CREATE TEMP TABLE scratch (id int);
DROP TABLE scratch;
-- a migration is allowed, and logged as one
SELECT smig.register('1', 'through_smig', 'CREATE TABLE app.t_migrated (id int); DROP TABLE app.t_warn; CREATE MATERIALIZED VIEW app.mv AS SELECT 1 AS one;');
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT object_identity, event, version FROM smig.ddl_log
 WHERE object_identity IN ('app.t_migrated', 'app.t_warn') ORDER BY id;
-- refreshing a materialized view is not a schema change: allowed, and logged
REFRESH MATERIALIZED VIEW app.mv;
SELECT command_tag, object_identity, version FROM smig.ddl_log
 WHERE command_tag = 'REFRESH MATERIALIZED VIEW';
-- refused DDL left no log entry
SELECT count(*) AS refused_logged FROM smig.ddl_log WHERE object_identity IN ('app.t_error', 'public.t_public');

-- only superusers may change the guard
RESET smig.guard;
CREATE ROLE regress_guarded;
ALTER DATABASE contrib_regression SET smig.guard = error;
GRANT CREATE, USAGE ON SCHEMA app TO regress_guarded;
\c -
LOAD 'smig';
SET ROLE regress_guarded;
SHOW smig.guard;
SET smig.guard = off;
CREATE TABLE app.sneaky (id int);
RESET ROLE;
SET smig.guard = off;
CREATE TABLE app.allowed_for_superuser (id int);
ALTER DATABASE contrib_regression RESET smig.guard;

DROP SCHEMA app CASCADE;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_guarded;
DROP ROLE regress_guarded;
