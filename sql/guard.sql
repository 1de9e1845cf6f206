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

-- triggers, rules and policies sit on a managed table: they are managed
-- too (their catalogs have no schema; the table's counts), for a
-- non-superuser who owns the tables (review of issue 10)
SET smig.guard = off;
CREATE ROLE regress_attacker;
GRANT USAGE ON SCHEMA app TO regress_attacker;
CREATE TABLE app.at (id int, a int);
CREATE TABLE app.e (id int, a int);
CREATE TABLE app.r (id int, a int);
ALTER TABLE app.r ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON app.r USING (a = 1);
CREATE FUNCTION app.no_change() RETURNS trigger LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'append only'; END $$;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON app.at
    FOR EACH ROW EXECUTE FUNCTION app.no_change();
CREATE TRIGGER t_old BEFORE INSERT ON app.at
    FOR EACH ROW EXECUTE FUNCTION app.no_change();
CREATE RULE keep AS ON UPDATE TO app.at DO ALSO NOTHING;
ALTER TABLE app.at OWNER TO regress_attacker;
ALTER TABLE app.e OWNER TO regress_attacker;
ALTER TABLE app.r OWNER TO regress_attacker;
SET smig.guard = error;
SET ROLE regress_attacker;
\set VERBOSITY terse
CREATE RULE r2 AS ON INSERT TO app.at DO INSTEAD NOTHING;
CREATE RULE "_RETURN" AS ON SELECT TO app.e DO INSTEAD SELECT 1 AS id, 2 AS a;
CREATE POLICY leakall ON app.r FOR SELECT TO PUBLIC USING (true);
ALTER POLICY own ON app.r USING (true);
ALTER POLICY own ON app.r RENAME TO own2;
DROP POLICY own ON app.r;
CREATE OR REPLACE TRIGGER append_only BEFORE UPDATE OR DELETE ON app.at
    FOR EACH ROW WHEN (false) EXECUTE FUNCTION app.no_change();
CREATE TRIGGER t2 BEFORE UPDATE ON app.at
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
ALTER TRIGGER t_old ON app.at RENAME TO t3;
ALTER TRIGGER t_old ON app.at DEPENDS ON EXTENSION plpgsql;
ALTER TABLE app.at DISABLE TRIGGER append_only;
DROP TRIGGER append_only ON app.at;
ALTER RULE keep ON app.at RENAME TO r3;
DROP RULE keep ON app.at;
COMMENT ON TRIGGER t_old ON app.at IS 'x';
COMMENT ON RULE keep ON app.at IS 'x';
COMMENT ON POLICY own ON app.r IS 'x';
-- a temporary child or extended statistics change the managed table too
CREATE TEMP TABLE c () INHERITS (app.at);
CREATE TEMP TABLE c3 (id int, a int);
ALTER TABLE c3 INHERIT app.at;
CREATE STATISTICS pg_temp.s ON id, a FROM app.at;
-- a temporary table of its own is still free
DROP TABLE c3;
\set VERBOSITY default
RESET ROLE;
-- nothing changed
SELECT tgname, tgenabled, tgqual IS NULL AS no_when,
       obj_description(oid, 'pg_trigger') AS comment,
       (SELECT count(*) FROM pg_depend d WHERE d.classid = 'pg_trigger'::regclass
           AND d.objid = t.oid AND d.deptype = 'x') AS ext_deps
  FROM pg_trigger t WHERE tgrelid = 'app.at'::regclass AND NOT tgisinternal ORDER BY 1;
SELECT ev_class::regclass, rulename, ev_type, is_instead,
       obj_description(oid, 'pg_rewrite') AS comment
  FROM pg_rewrite WHERE ev_class IN ('app.at'::regclass, 'app.e'::regclass) ORDER BY 2;
SELECT relkind FROM pg_class WHERE oid = 'app.e'::regclass;
SELECT polname, pg_get_expr(polqual, polrelid) AS qual,
       obj_description(oid, 'pg_policy') AS comment
  FROM pg_policy WHERE polrelid = 'app.r'::regclass ORDER BY 1;
SELECT count(*) AS children FROM pg_inherits WHERE inhparent = 'app.at'::regclass;
SELECT count(*) AS statistics FROM pg_statistic_ext WHERE stxrelid = 'app.at'::regclass;
-- a migration may do them all, and the log names their table's schema
SELECT smig.register('2', 'triggers_rules_policies', $m$
CREATE RULE r2 AS ON INSERT TO app.at DO INSTEAD NOTHING;
CREATE POLICY leakall ON app.r FOR SELECT TO PUBLIC USING (true);
ALTER POLICY own ON app.r USING (a = 2);
COMMENT ON POLICY own ON app.r IS 'mine';
CREATE TRIGGER t2 BEFORE UPDATE ON app.at
    FOR EACH ROW EXECUTE FUNCTION suppress_redundant_updates_trigger();
ALTER TRIGGER t_old ON app.at RENAME TO t3;
COMMENT ON TRIGGER t3 ON app.at IS 'renamed';
ALTER RULE keep ON app.at RENAME TO r3;
DROP RULE r3 ON app.at;
DROP TRIGGER t2 ON app.at;
CREATE STATISTICS app.s ON id, a FROM app.at;
$m$);
SET client_min_messages = warning;
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
SELECT event, command_tag, object_type, object_identity, schema_name FROM smig.ddl_log
 WHERE version = '2' ORDER BY id;
-- also without a migration (guard off), the rows name the schema
SET smig.guard = off;
CREATE RULE r4 AS ON DELETE TO app.at DO ALSO NOTHING;
DROP RULE r4 ON app.at;
SELECT event, command_tag, object_type, object_identity, schema_name FROM smig.ddl_log
 WHERE object_identity LIKE 'r4 on %' ORDER BY id;
-- a trigger on one of smig's own tables is no object of smig's: logged
COMMENT ON TRIGGER ddl_log_no_truncate ON smig.ddl_log IS 'x';
COMMENT ON TRIGGER ddl_log_no_truncate ON smig.ddl_log IS NULL;
SELECT event, command_tag, object_type, object_identity, schema_name FROM smig.ddl_log
 WHERE object_identity LIKE 'ddl_log_no_truncate on %' ORDER BY id;
SET smig.guard = error;

-- statements that may hold a password are not logged (PostgreSQL hides
-- user mapping options from other roles, subscription connections from
-- non-superusers)
SET smig.guard = off;
CREATE FOREIGN DATA WRAPPER regress_dummy;
CREATE SERVER regress_srv FOREIGN DATA WRAPPER regress_dummy OPTIONS (host 'SECRET_SRV');
ALTER SERVER regress_srv OPTIONS (ADD password 'SECRET_SRV2');
CREATE USER MAPPING FOR regress_attacker SERVER regress_srv
    OPTIONS (user 'x', password 'SECRET_UM');
ALTER USER MAPPING FOR regress_attacker SERVER regress_srv
    OPTIONS (SET password 'SECRET_UM2');
SET client_min_messages = error;
CREATE SUBSCRIPTION regress_sub CONNECTION 'dbname=regress_nowhere password=SECRET_SUB'
    PUBLICATION regress_nopub WITH (connect = false);
ALTER SUBSCRIPTION regress_sub CONNECTION 'dbname=regress_nowhere password=SECRET_SUB2';
ALTER SUBSCRIPTION regress_sub SET (slot_name = NONE);
DROP SUBSCRIPTION regress_sub;
RESET client_min_messages;
DROP USER MAPPING FOR regress_attacker SERVER regress_srv;
DROP SERVER regress_srv;
DROP FOREIGN DATA WRAPPER regress_dummy;
SELECT command_tag, object_type, statement, detail FROM smig.ddl_log
 WHERE command_tag ~ '(SERVER|USER MAPPING|SUBSCRIPTION|FOREIGN DATA WRAPPER)$' ORDER BY id;
SELECT count(*) AS leaked FROM smig.ddl_log WHERE statement LIKE '%SECRET%';
SET smig.guard = error;

-- the trim row logs no enclosing statement
DO $$ BEGIN
  EXECUTE 'ALTER ROLE regress_attacker PASSWORD ''LEAK_TRIM''';
  PERFORM smig.trim_ddl_log('2000-01-01');
END $$;
SELECT statement, detail FROM smig.ddl_log WHERE event = 'trim';
SELECT count(*) AS leaked FROM smig.ddl_log WHERE statement LIKE '%LEAK_TRIM%';

-- REASSIGN OWNED by a role with no rights on schema smig, of objects
-- outside managed schemas, works
CREATE ROLE regress_nosmig;
CREATE ROLE regress_nosmig_to;
GRANT regress_nosmig_to TO regress_nosmig;
SET ROLE regress_nosmig;
CREATE TEMP TABLE nosmig_tmp (i int);
REASSIGN OWNED BY regress_nosmig TO regress_nosmig_to;
SELECT tableowner FROM pg_tables WHERE tablename = 'nosmig_tmp';
RESET ROLE;
DROP TABLE nosmig_tmp;
SET smig.guard = off;

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
DROP OWNED BY regress_guarded, regress_auditor, regress_attacker, regress_nosmig, regress_nosmig_to;
DROP ROLE regress_guarded;
DROP ROLE regress_auditor;
DROP ROLE regress_attacker;
DROP ROLE regress_nosmig;
DROP ROLE regress_nosmig_to;
