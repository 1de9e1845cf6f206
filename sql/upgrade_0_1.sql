-- upgrade_0_1: a 0.1 database upgraded with ALTER EXTENSION smig UPDATE
-- keeps its registry, history, audit log and grants, and works under 0.2
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig VERSION '0.1';
SELECT extversion FROM pg_extension WHERE extname = 'smig';

-- the state 0.1 leaves: one migration applied, one pending, audit rows.
-- (The 0.2 library serves 0.2's SQL objects, so the rows are written as
-- 0.1 wrote them, by hand; the audit triggers are 0.1's own.)
-- Checksums are 0.1's (scheme 1: the final newline counts), computed
-- here with sha256(): these texts have no CR and no BOM.
INSERT INTO smig.migration (version_key, version, name, up_sql, down_sql, checksum)
VALUES (smig.version_key('1'), '1', 'one', E'CREATE TABLE up_one (id int);\n',
        'DROP TABLE up_one;',
        encode(sha256(E'CREATE TABLE up_one (id int);\n'::bytea), 'hex')),
       (smig.version_key('2'), '2', 'two', 'CREATE TABLE up_two (id int);', NULL,
        smig.checksum('CREATE TABLE up_two (id int);'));
CREATE TABLE up_one (id int);
WITH h AS (
    INSERT INTO smig.history (action, version, version_key, name, checksum,
                              role, session_role, started_at, duration, txid)
    VALUES ('apply', '1', smig.version_key('1'), 'one',
            encode(sha256(E'CREATE TABLE up_one (id int);\n'::bytea), 'hex'),
            current_user, session_user, now(), '1 ms', pg_current_xact_id())
    RETURNING *)
INSERT INTO smig.applied (version_key, version, name, checksum, kind,
                          applied_at, applied_by, history_id)
SELECT version_key, version, name, checksum, 'migration', started_at, role, id FROM h;
-- a deployer granted what README's 0.1 recipe grants
CREATE ROLE regress_up_deployer;
GRANT USAGE ON SCHEMA smig TO regress_up_deployer;
GRANT EXECUTE ON FUNCTION smig.status(), smig.upgrade_head(),
    smig.register(text, text, text, text, jsonb) TO regress_up_deployer;
GRANT EXECUTE ON FUNCTION smig.load_dir(text) TO regress_up_deployer;
-- and, deliberately, repair()
GRANT EXECUTE ON FUNCTION smig.repair() TO regress_up_deployer;
-- and a role whose name has a comma (the update keeps the grantees of the
-- functions it re-creates; a comma-separated list of names broke it)
CREATE ROLE "regress_up,ops";
GRANT EXECUTE ON FUNCTION smig.status(), smig.load_dir(text), smig.repair() TO "regress_up,ops";
-- another extension in schema smig, whose script grants to PUBLIC: its
-- privileges and initial privileges are its own, and the update leaves
-- them alone (its REVOKEs from PUBLIC touch only smig's objects)
CREATE EXTENSION pg_stat_statements SCHEMA smig;
CREATE TEMP TABLE pss_initprivs AS
SELECT i.objoid, i.objsubid, i.initprivs::text FROM pg_init_privs i
  JOIN pg_depend d ON d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_stat_statements');
CREATE TEMP TABLE before (migrations bigint, history bigint, applied bigint, ddl_log bigint);
INSERT INTO before
SELECT (SELECT count(*) FROM smig.migration) AS migrations,
       (SELECT count(*) FROM smig.history) AS history,
       (SELECT count(*) FROM smig.applied) AS applied,
       (SELECT count(*) FROM smig.ddl_log) AS ddl_log;
SELECT * FROM before;

ALTER EXTENSION smig UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'smig';

-- nothing lost
SELECT (SELECT count(*) FROM smig.migration) AS migrations,
       (SELECT count(*) FROM smig.history) AS history,
       (SELECT count(*) FROM smig.applied) AS applied,
       (SELECT count(*) FROM smig.ddl_log) AS ddl_log
EXCEPT SELECT * FROM before;
SELECT version, state, run_as FROM smig.status();
-- checksums: the registry and the matching applied row moved to scheme 2;
-- history keeps its scheme-1 value, still verifiable
SELECT m.checksum = smig.checksum(m.up_sql) AS registry_scheme_2,
       a.checksum = m.checksum AS applied_follows
  FROM smig.migration m JOIN smig.applied a USING (version_key);
SELECT h.checksum_scheme, h.checksum = smig.checksum(m.up_sql, h.checksum_scheme) AS history_verifiable,
       h.checksum <> smig.checksum(m.up_sql) AS history_kept_its_value
  FROM smig.history h JOIN smig.migration m USING (version_key);
-- the same file with its final newline stripped is not an edit
SET ROLE regress_up_deployer;
SELECT smig.register('1', 'one', 'CREATE TABLE up_one (id int);', 'DROP TABLE up_one;');
RESET ROLE;
SELECT count(*) AS problems FROM smig.verify_checksum();
-- the deployer keeps EXECUTE on status(), which 0.2 re-created
SELECT has_function_privilege('regress_up_deployer', 'smig.status()', 'EXECUTE') AS deployer_keeps_status;
-- and on load_dir(), which gained its sync argument
SELECT has_function_privilege('regress_up_deployer', 'smig.load_dir(text, boolean)', 'EXECUTE') AS deployer_keeps_load_dir;
-- and on repair(), which gained its script column
SELECT has_function_privilege('regress_up_deployer', 'smig.repair()', 'EXECUTE') AS deployer_keeps_repair;
SELECT (SELECT count(*) FROM pss_initprivs WHERE initprivs ~ '[{,]=r/') AS pss_public_initial,
       (SELECT count(*) FROM (SELECT i.objoid, i.objsubid, i.initprivs::text FROM pg_init_privs i
                                JOIN pg_depend d ON d.classid = i.classoid AND d.objid = i.objoid AND d.deptype = 'e'
                               WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_stat_statements')
                              EXCEPT SELECT * FROM pss_initprivs) c) AS pss_initprivs_changed;
SELECT has_table_privilege('public', 'smig.pg_stat_statements', 'SELECT') AS public_reads_pss,
       has_function_privilege('public', 'smig.pg_stat_statements(boolean)', 'EXECUTE') AS public_runs_pss;
DROP EXTENSION pg_stat_statements;
SELECT has_function_privilege('regress_up,ops', 'smig.status()', 'EXECUTE') AS comma_keeps_status,
       has_function_privilege('regress_up,ops', 'smig.load_dir(text, boolean)', 'EXECUTE') AS comma_keeps_load_dir,
       has_function_privilege('regress_up,ops', 'smig.repair()', 'EXECUTE') AS comma_keeps_repair;
SET ROLE regress_up_deployer;
SELECT version, state FROM smig.status();
RESET ROLE;
-- nothing new for PUBLIC
SELECT count(*) AS public_function_grants
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'smig'::regnamespace AND a.grantee = 0;
-- the deployer's grants are the deployer's, not smig's initial privileges
-- (pg_dump leaves initial privileges out: a restore would lose them)
SELECT count(*) AS deployer_initial_privileges
  FROM pg_init_privs i, aclexplode(i.initprivs) a
 WHERE a.grantee = 'regress_up_deployer'::regrole;
SELECT count(*) AS deployer_grants
  FROM pg_proc p, aclexplode(p.proacl) a
 WHERE p.pronamespace = 'smig'::regnamespace AND a.grantee = 'regress_up_deployer'::regrole;
-- the upgrade's own DDL was not logged as unmanaged DDL
SELECT count(*) AS logged_by_upgrade FROM smig.ddl_log
 WHERE object_identity LIKE 'pg_temp.smig%' OR object_identity LIKE 'smig.%';

-- a pending migration 0.1 registered records no author: refused until
-- registered again, which records one
SELECT version FROM smig.upgrade_head();
SELECT to_regclass('up_two') IS NULL AS not_applied;
SET ROLE regress_up_deployer;
SELECT smig.register('2', 'two', 'CREATE TABLE public.up_two (id int);', 'DROP TABLE public.up_two;');
RESET ROLE;
GRANT CREATE ON SCHEMA public TO regress_up_deployer;
SELECT version FROM smig.upgrade_head();
SELECT version, state, run_as FROM smig.status();
SELECT action, version, run_as, checksum_scheme FROM smig.history ORDER BY id;
SELECT tableowner FROM pg_tables WHERE tablename = 'up_two';
-- repeatable migrations, run on change and the audit log's relation work
-- on an upgraded database
SELECT smig.register_repeatable('up_view', 'CREATE OR REPLACE VIEW up_view AS SELECT id FROM up_one;');
SELECT smig.register('3', 'seed', 'COMMENT ON TABLE up_one IS ''one'';', NULL, '{"run_on_change": true}');
SELECT version FROM smig.upgrade_head();
SELECT smig.register('3', 'seed', 'COMMENT ON TABLE up_one IS ''uno'';', NULL, '{"run_on_change": true}');
SELECT version FROM smig.upgrade_head();
SELECT version, state FROM smig.status();
SELECT action, version, version_key IS NULL AS no_key FROM smig.history WHERE id > 2 ORDER BY id;
CREATE INDEX up_one_id ON up_one (id);
SELECT object_identity, relation FROM smig.ddl_log WHERE object_identity = 'public.up_one_id';
DROP VIEW up_view;
-- the destructive-change gate, plan() and rehearse() work on an upgraded
-- database (issue 14)
SELECT smig.register('4', 'drop_index', 'DROP INDEX up_one_id;');
SELECT step, version, kind, destructive FROM smig.plan();
SELECT step, version, classification, reasons, dropped, error FROM smig.rehearse();
SET smig.destructive = refuse;
SELECT version FROM smig.upgrade_head();
RESET smig.destructive;
SELECT smig.unregister('4');

-- reverting: a migration 0.1 applied has no recorded down checksum (0.1
-- recorded none), so its registered down script runs with a NOTICE saying
-- so; one 0.2 applied has one.  Both run as the role they now record.
SELECT version, down_checksum IS NOT NULL AS down_recorded FROM smig.applied ORDER BY version;
ALTER TABLE up_one OWNER TO regress_up_deployer;
\set VERBOSITY terse
SET client_min_messages = notice;
SELECT version FROM smig.downgrade('base');
SET client_min_messages = warning;
\set VERBOSITY default
SELECT to_regclass('up_one') IS NULL AS one_dropped, to_regclass('up_two') IS NULL AS two_dropped;
SELECT version, state FROM smig.status();
SELECT action, version, run_as, down_checksum = smig.checksum('DROP TABLE up_one;') AS one_down,
       down_checksum = smig.checksum('DROP TABLE public.up_two;') AS two_down
  FROM smig.history WHERE action = 'revert' ORDER BY id;
-- up again: now both record their down scripts
SELECT version FROM smig.upgrade_head();
SELECT version, down_checksum IS NOT NULL AS down_recorded FROM smig.applied ORDER BY version;

DROP TABLE up_one, up_two;
DROP EXTENSION smig CASCADE;
REVOKE CREATE ON SCHEMA public FROM regress_up_deployer;
DROP OWNED BY regress_up_deployer;
DROP ROLE regress_up_deployer;
DROP OWNED BY "regress_up,ops";
DROP ROLE "regress_up,ops";
