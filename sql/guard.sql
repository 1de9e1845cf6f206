-- guard: smig.guard = off | warn | error for DDL that no migration runs;
-- refused before they start: commands that commit internally, privilege
-- commands, extensions, casts, publications, REASSIGN OWNED, DROP EXTENSION
-- smig; the log's statement text
SET smig.allow_drop_extension = on;
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
-- dropping an empty managed schema is a schema change too
SET smig.guard = off;
CREATE SCHEMA empty_managed;
SET smig.guard = error;
DROP SCHEMA empty_managed;
SELECT count(*) AS empty_managed_remains FROM pg_namespace WHERE nspname = 'empty_managed';
SET smig.guard = off;
DROP SCHEMA empty_managed;
SET smig.guard = error;
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

-- commands that commit internally are refused before they start: no
-- INVALID index, no partition left in DETACH PENDING
SET smig.guard = off;
CREATE TABLE app.items (id int);
CREATE INDEX items_id ON app.items (id);
CREATE TABLE app.events (at date NOT NULL, n int) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SET smig.guard = error;
CREATE INDEX CONCURRENTLY items_id2 ON app.items (id);
DROP INDEX CONCURRENTLY app.items_id;
ALTER TABLE app.events DETACH PARTITION app.events_2026 CONCURRENTLY;
REINDEX INDEX CONCURRENTLY app.items_id;
REINDEX TABLE CONCURRENTLY app.items;
REINDEX SCHEMA CONCURRENTLY app;
SELECT c.relname, i.indisvalid, i.indisready FROM pg_index i
  JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid = 'app.items'::regclass ORDER BY 1;
SELECT inhrelid::regclass AS partition, inhdetachpending FROM pg_inherits
 WHERE inhparent = 'app.events'::regclass;
INSERT INTO app.events VALUES ('2026-06-01', 1);
SELECT count(*) AS events FROM app.events;
-- plain REINDEX is maintenance, not a schema change
REINDEX INDEX app.items_id;
-- temporary objects stay free
CREATE TEMP TABLE tmp_items (id int);
CREATE INDEX CONCURRENTLY tmp_items_id ON tmp_items (id);
DROP TABLE tmp_items;
-- with warn they run, reported once (after they ran, by the audit triggers)
SET smig.guard = warn;
CREATE INDEX CONCURRENTLY items_warned ON app.items (id);
DROP INDEX CONCURRENTLY app.items_warned;
SET smig.guard = error;

-- privileges, extensions, casts, publications, REASSIGN OWNED
SET smig.guard = off;
CREATE ROLE regress_auditor;
CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE TYPE app.pair AS (a int, b int);
CREATE TABLE app.owned (id int);
ALTER TABLE app.owned OWNER TO regress_auditor;
SET smig.guard = error;
\set VERBOSITY terse
GRANT SELECT ON app.items TO regress_auditor;
GRANT SELECT (id) ON app.items TO regress_auditor;
REVOKE ALL ON app.items FROM regress_auditor;
GRANT SELECT ON ALL TABLES IN SCHEMA app TO regress_auditor;
GRANT USAGE ON SCHEMA app TO regress_auditor;
GRANT EXECUTE ON FUNCTION app.f() TO regress_auditor;
GRANT USAGE ON TYPE app.pair TO regress_auditor;
ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO regress_auditor;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO regress_auditor;
CREATE EXTENSION citext;
CREATE CAST (text AS app.pair) WITH INOUT;
CREATE PUBLICATION regress_pub FOR TABLE app.items;
REASSIGN OWNED BY regress_auditor TO CURRENT_USER;
SELECT tableowner = 'regress_auditor' AS still_owned FROM pg_tables
 WHERE schemaname = 'app' AND tablename = 'owned';
-- smig's own objects are not managed: the deployer recipe still works
GRANT USAGE ON SCHEMA smig TO regress_auditor;
GRANT EXECUTE ON FUNCTION smig.status() TO regress_auditor;
REVOKE ALL ON FUNCTION smig.status() FROM regress_auditor;
REVOKE ALL ON SCHEMA smig FROM regress_auditor;
\set VERBOSITY default
-- allowed (guard off) they are logged, REASSIGN OWNED with what it changed
SET smig.guard = off;
GRANT SELECT ON app.items TO regress_auditor;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO regress_auditor;
CREATE CAST (text AS app.pair) WITH INOUT;
CREATE EXTENSION citext;
REASSIGN OWNED BY regress_auditor TO CURRENT_USER;
SELECT event, command_tag, object_type, object_identity, statement FROM smig.ddl_log
 WHERE command_tag IN ('GRANT', 'ALTER DEFAULT PRIVILEGES', 'CREATE CAST',
                       'CREATE EXTENSION', 'REASSIGN OWNED')
 ORDER BY id;
DROP EXTENSION citext;
ALTER DEFAULT PRIVILEGES IN SCHEMA app REVOKE SELECT ON TABLES FROM regress_auditor;
SET smig.guard = error;
\set VERBOSITY terse
DROP CAST (text AS app.pair);
\set VERBOSITY default
SET smig.guard = off;
DROP CAST (text AS app.pair);

-- the log holds the statement's own text, not its neighbours in the query
-- string (psql sends "a \; b" as one)
ALTER ROLE regress_auditor PASSWORD 'secret' \; CREATE TEMP TABLE scratch2 (i int);
SELECT command_tag, statement FROM smig.ddl_log WHERE statement LIKE '%scratch2%';
SELECT count(*) AS leaked FROM smig.ddl_log WHERE statement LIKE '%secret%';
DROP TABLE scratch2;

-- DROP EXTENSION smig is refused while history or log hold rows, guard or
-- not; only a superuser can allow it
DROP EXTENSION smig CASCADE;
\set VERBOSITY terse
DROP SCHEMA smig CASCADE;
\set VERBOSITY default
SET ROLE regress_auditor;
SET smig.allow_drop_extension = on;
RESET ROLE;
SELECT count(*) > 0 AS history_kept FROM smig.history;

DROP SCHEMA app CASCADE;
SET smig.allow_drop_extension = on;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_guarded, regress_auditor;
DROP ROLE regress_guarded;
DROP ROLE regress_auditor;
