/* smig--0.1--0.2.sql — everything changed since 0.1.
 *
 * There is no smig--0.2.sql: CREATE EXTENSION smig installs 0.1 and then
 * runs this script, so a new 0.2 database and one upgraded from 0.1 are
 * made by the same statements.
 */

\echo Use "ALTER EXTENSION smig UPDATE TO '0.2'" to load this file. \quit

/*---- run-as model (issue 10) ------------------------------------------------
 * A migration runs as the role that registered it, or as a run_as role the
 * registrant is a member of, whoever applies it.  Migrations registered by
 * 0.1 record no author: their run_as stays NULL and the runner refuses to
 * run them until they are registered again (applied ones never run again).
 */
ALTER TABLE smig.migration
    ADD COLUMN registered_by name,
    ADD COLUMN run_as name;
COMMENT ON COLUMN smig.migration.registered_by IS
    'The role (current_user) that registered this text.';
COMMENT ON COLUMN smig.migration.run_as IS
    'The role the migration runs as: registered_by, or a run_as role it is a member of.';

-- the role each action's SQL ran as (NULL where no SQL ran)
ALTER TABLE smig.history ADD COLUMN run_as name;
COMMENT ON COLUMN smig.history.run_as IS
    'The role the migration''s SQL ran as; role is the caller who applied it.';

-- status() gains a column, so it is dropped and created again; whoever had
-- EXECUTE on it (the README's deployer recipe grants it) keeps it.
-- (Kept in a transaction-local setting: a temporary table would be DDL.)
SELECT pg_catalog.set_config('smig_upgrade.status_grantees',
       coalesce(pg_catalog.string_agg(a.grantee::regrole::text, ','), ''), true)
  FROM pg_catalog.pg_proc p,
       pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid = 'smig.status()'::pg_catalog.regprocedure
   AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
   AND a.grantee <> p.proowner;
DROP FUNCTION smig.status();
DROP FUNCTION smig._state();
CREATE FUNCTION smig._state()
RETURNS TABLE (version_key text, version text, name text, state text,
               registered_checksum text, applied_checksum text,
               applied_at timestamptz, applied_by name, run_as name,
               has_down boolean)
LANGUAGE sql STABLE AS $$
    WITH marks AS (
        SELECT max(a.version_key) AS current_key,
               max(a.version_key) FILTER (WHERE a.kind = 'baseline') AS baseline_key
          FROM smig.applied a
    ), eff AS (
        SELECT mk.current_key,
               CASE WHEN mk.current_key IS NULL
                    THEN (SELECT max(b.version_key) FROM smig.migration b
                           WHERE b.options @> '{"baseline": true}')
                    ELSE mk.baseline_key END AS baseline_key
          FROM marks mk
    )
    SELECT coalesce(m.version_key, a.version_key),
           coalesce(m.version, a.version),
           coalesce(m.name, a.name),
           CASE
             WHEN a.version_key IS NULL THEN
               CASE WHEN m.version_key < e.baseline_key THEN 'baselined'
                    WHEN m.options @> '{"baseline": true}'
                         AND m.version_key <= e.current_key THEN 'baselined'
                    WHEN m.version_key < e.current_key THEN 'out-of-order'
                    ELSE 'pending' END
             WHEN a.checksum IS NULL THEN 'baselined'
             WHEN m.version_key IS NULL THEN 'missing'
             WHEN a.checksum <> m.checksum THEN
               CASE WHEN m.options @> '{"run_on_change": true}' THEN 'outdated'
                    ELSE 'modified' END
             ELSE 'applied'
           END,
           m.checksum, a.checksum, a.applied_at, a.applied_by, m.run_as,
           m.down_sql IS NOT NULL
      FROM smig.migration m
      FULL JOIN smig.applied a ON a.version_key = m.version_key
     CROSS JOIN eff e
$$;

CREATE FUNCTION smig.status()
RETURNS TABLE (version text, name text, state text,
               applied_at timestamptz, applied_by name, run_as name,
               checksum text, has_down boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, s.state, s.applied_at, s.applied_by, s.run_as,
           coalesce(s.registered_checksum, s.applied_checksum), s.has_down
      FROM smig._state() s
     ORDER BY s.version_key
$$;
-- (replaced, with the same columns, by the repeatable migrations' section)
REVOKE ALL ON FUNCTION smig.status() FROM PUBLIC;
DO $$
DECLARE
    g text;
BEGIN
    FOR g IN SELECT pg_catalog.unnest(pg_catalog.string_to_array(
                 pg_catalog.current_setting('smig_upgrade.status_grantees'), ','))
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.status() TO %s', g);
    END LOOP;
END
$$;

/*---- registration and errors (issue 10) ----*/

-- A NULL argument is an error (22004), not a silent NULL result.
ALTER FUNCTION smig.load_dir(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.upgrade_to(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.apply(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.baseline(text, text) CALLED ON NULL INPUT;

CREATE FUNCTION smig.unregister(version text) RETURNS void
AS 'MODULE_PATHNAME', 'smig_unregister'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.unregister(text) IS
    'Take back a registered migration that is not applied; an applied one is refused.';
REVOKE ALL ON FUNCTION smig.unregister(text) FROM PUBLIC;

/*---- guard and audit (issue 10) ----*/

-- The guard before a command starts (src/guard.c): the commands that commit
-- internally (CONCURRENTLY), privileges, extensions, casts, publications,
-- and DROP EXTENSION smig itself are judged from their parse tree.
CREATE FUNCTION smig._guard_ddl_command_start() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'smig_guard_ddl_command_start'
LANGUAGE C;
CREATE EVENT TRIGGER smig_guard_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION smig._guard_ddl_command_start();
REVOKE ALL ON FUNCTION smig._guard_ddl_command_start() FROM PUBLIC;

-- REASSIGN OWNED fires no event trigger: the ProcessUtility_hook logs it,
-- as event 'utility'.
ALTER TABLE smig.ddl_log DROP CONSTRAINT ddl_log_event_check;
ALTER TABLE smig.ddl_log ADD CONSTRAINT ddl_log_event_check
    CHECK (event IN ('ddl_command_end', 'sql_drop', 'table_rewrite', 'trim', 'utility'));

/*---- repair one migration (issue 19) ---------------------------------------*/
CREATE FUNCTION smig.repair(version text)
RETURNS TABLE (version text, name text, old_checksum text, new_checksum text)
AS 'MODULE_PATHNAME', 'smig_repair_one'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.repair(text) IS
    'Accept the registered text of one modified applied migration; recorded in smig.history.';

/*---- checksum scheme 2 (issue 19) ------------------------------------------
 * Scheme 2 also ignores whitespace at the very end of a script (a tool that
 * strips or adds the final newline must not make it look edited).  The
 * registry is recomputed; an applied migration whose recorded checksum
 * matched its registered text gets the new value too; history keeps the
 * values it recorded, with the scheme they were computed under, so they
 * stay verifiable with smig.checksum(sql, scheme).
 */
CREATE FUNCTION smig.checksum(sql text, scheme integer) RETURNS text
AS 'MODULE_PATHNAME', 'smig_checksum_scheme'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION smig.checksum(text, integer) IS
    'SHA-256 (hex) of migration SQL under checksum scheme 1 (smig 0.1) or 2 (current).';
COMMENT ON FUNCTION smig.checksum(text) IS
    'SHA-256 (hex) of migration SQL with CRLF/CR line ends normalised, a leading BOM and trailing whitespace dropped (scheme 2).';

ALTER TABLE smig.history ADD COLUMN checksum_scheme smallint NOT NULL DEFAULT 1;
ALTER TABLE smig.history ALTER COLUMN checksum_scheme SET DEFAULT 2;
COMMENT ON COLUMN smig.history.checksum_scheme IS
    'The checksum scheme checksum and old_checksum were computed under (see smig.checksum(text, integer)).';

-- (Only when there is something to recompute: a statement on these tables
-- marks the fast path's summary stale, which a new install need not be.)
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM smig.migration) THEN
        UPDATE smig.applied a SET checksum = smig.checksum(m.up_sql, 2)
          FROM smig.migration m
         WHERE m.version_key = a.version_key AND a.checksum = m.checksum;
        UPDATE smig.migration SET checksum = smig.checksum(up_sql, 2);
    END IF;
END
$$;

/*---- start-up check (issues 11, 19) ----*/

-- load_dir() synchronises: a second argument, sync (default true), so it
-- is dropped and created again; whoever had EXECUTE on load_dir(text)
-- keeps it on load_dir(text, boolean).
SELECT pg_catalog.set_config('smig_upgrade.load_dir_grantees',
       coalesce(pg_catalog.string_agg(a.grantee::regrole::text, ','), ''), true)
  FROM pg_catalog.pg_proc p,
       pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid = 'smig.load_dir(text)'::pg_catalog.regprocedure
   AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
   AND a.grantee <> p.proowner;
DROP FUNCTION smig.load_dir(text);
CREATE FUNCTION smig.load_dir(path text, sync boolean DEFAULT true) RETURNS integer
AS 'MODULE_PATHNAME', 'smig_load_dir'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.load_dir(text, boolean) IS
    'Make the registry what a server directory says (sync => false: only add); returns how many registrations were added, changed or dropped.';
REVOKE ALL ON FUNCTION smig.load_dir(text, boolean) FROM PUBLIC;
DO $$
DECLARE
    g text;
BEGIN
    FOR g IN SELECT pg_catalog.unnest(pg_catalog.string_to_array(
                 pg_catalog.current_setting('smig_upgrade.load_dir_grantees'), ','))
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.load_dir(text, boolean) TO %s', g);
    END LOOP;
END
$$;

-- The bulk path for clients that send the files themselves.
CREATE FUNCTION smig.register_many(migrations jsonb, sync boolean DEFAULT true)
RETURNS TABLE (version text, name text, result text)
AS 'MODULE_PATHNAME', 'smig_register_many'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.register_many(jsonb, boolean) IS
    'Register a list of migrations as the caller, lexing only new or changed ones (sync => true: drop the rest); returns what changed.';
REVOKE ALL ON FUNCTION smig.register_many(jsonb, boolean) FROM PUBLIC;

/*---- repeatable migrations and run-on-change (issue 19) ----------------------
 * A repeatable migration (Flyway's R__<name>.sql: views, functions) has a
 * name and no version.  upgrade_head() applies it after the versioned
 * migrations whenever its checksum differs from the one it was last
 * applied with; every application is a history row.  Wherever smig names
 * a migration by its version (status(), pending(), the history, the audit
 * log, unregister(), apply()), a repeatable one is "R__<name>", which no
 * version can be.  A versioned migration with the option run_on_change
 * (Liquibase's runOnChange) is applied again when its up script changes,
 * instead of counting as modified: its state is then "outdated".
 */
CREATE TABLE smig.repeatable (
    name          text COLLATE "C" PRIMARY KEY,
    up_sql        text NOT NULL,
    checksum      text NOT NULL,
    options       jsonb NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by name NOT NULL,
    run_as        name NOT NULL
);
COMMENT ON TABLE smig.repeatable IS
    'Registered repeatable migrations (R__<name>.sql): what the files say now.';

-- The checksum each repeatable migration was last applied with: a summary
-- of smig.history, written with each history row (src/history.c).  It
-- outlives the registration, as the history does.
CREATE TABLE smig.repeatable_applied (
    name       text COLLATE "C" PRIMARY KEY,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL,
    applied_by name NOT NULL,
    history_id bigint NOT NULL
);
COMMENT ON TABLE smig.repeatable_applied IS
    'The checksum each repeatable migration was last applied with; derived from smig.history by smig.';

CREATE TRIGGER repeatable_summary_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON smig.repeatable
    FOR EACH STATEMENT EXECUTE FUNCTION smig._summary_touch();
CREATE TRIGGER repeatable_applied_summary_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON smig.repeatable_applied
    FOR EACH STATEMENT EXECUTE FUNCTION smig._summary_touch();
SELECT pg_catalog.pg_extension_config_dump('smig.repeatable', '');
SELECT pg_catalog.pg_extension_config_dump('smig.repeatable_applied', '');

-- a repeatable migration's history rows have version R__<name> and no key
ALTER TABLE smig.history ALTER COLUMN version_key DROP NOT NULL;
COMMENT ON COLUMN smig.history.version_key IS
    'The sort key of version; NULL for a repeatable migration (version R__<name>).';

-- The state of every registered repeatable migration: pending (never
-- applied), applied (with its current checksum) or outdated (changed since
-- it was last applied: upgrade_head() applies it again).
CREATE FUNCTION smig._repeatable_state()
RETURNS TABLE (name text, version text, state text,
               registered_checksum text, applied_checksum text,
               applied_at timestamptz, applied_by name, run_as name)
LANGUAGE sql STABLE AS $$
    SELECT r.name, 'R__' || r.name,
           CASE WHEN a.name IS NULL THEN 'pending'
                WHEN a.checksum <> r.checksum THEN 'outdated'
                ELSE 'applied' END,
           r.checksum, a.checksum, a.applied_at, a.applied_by, r.run_as
      FROM smig.repeatable r
      LEFT JOIN smig.repeatable_applied a ON a.name = r.name
$$;

-- status() and pending() list the repeatable migrations after the
-- versioned ones, in name order (the order upgrade_head() applies them)
CREATE OR REPLACE FUNCTION smig.status()
RETURNS TABLE (version text, name text, state text,
               applied_at timestamptz, applied_by name, run_as name,
               checksum text, has_down boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.version, u.name, u.state, u.applied_at, u.applied_by, u.run_as,
           u.checksum, u.has_down
      FROM (SELECT s.version_key, NULL::text AS repeatable, s.version, s.name,
                   s.state, s.applied_at, s.applied_by, s.run_as,
                   coalesce(s.registered_checksum, s.applied_checksum) AS checksum,
                   s.has_down
              FROM smig._state() s
            UNION ALL
            SELECT NULL, r.name, r.version, r.name, r.state, r.applied_at,
                   r.applied_by, r.run_as, r.registered_checksum, false
              FROM smig._repeatable_state() r) u
     ORDER BY u.version_key COLLATE "C" NULLS LAST, u.repeatable COLLATE "C"
$$;
COMMENT ON FUNCTION smig.status() IS
    'One row per known version: its state (applied, pending, modified, missing, out-of-order, baselined, outdated), the role it runs as, its checksum and whether it has a down script; then the repeatable migrations (pending, applied, outdated).';

CREATE OR REPLACE FUNCTION smig.pending()
RETURNS TABLE (version text, name text, out_of_order boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.version, p.name, p.out_of_order
      FROM (SELECT s.version_key, NULL::text AS repeatable, s.version, s.name,
                   s.state = 'out-of-order' AS out_of_order
              FROM smig._state() s
             WHERE s.state IN ('pending', 'out-of-order', 'outdated')
            UNION ALL
            SELECT NULL, r.name, r.version, r.name, false
              FROM smig._repeatable_state() r
             WHERE r.state IN ('pending', 'outdated')) p
     ORDER BY p.version_key COLLATE "C" NULLS LAST, p.repeatable COLLATE "C"
$$;
COMMENT ON FUNCTION smig.pending() IS
    'Migrations upgrade_head() would apply, in apply order: pending versions (out_of_order marks those below smig.current()), run-on-change ones whose text changed, then new or changed repeatable migrations.';

CREATE FUNCTION smig.register_repeatable(name text, up_sql text,
                                         options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'smig_register_repeatable'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.register_repeatable(text, text, jsonb) IS
    'Add or update a repeatable migration (R__<name>); returns new, changed or unchanged.';

/*---- the audit trail: who changed a table, and per migration (issue 19) -----
 * ddl_log.relation names the table an index, column, default, constraint,
 * trigger, rule or policy belongs to, so "who changed this table" finds
 * them with the table (an index's identity does not name its table).
 * Rows logged before 0.2 have none.
 */
ALTER TABLE smig.ddl_log ADD COLUMN relation text;
COMMENT ON COLUMN smig.ddl_log.relation IS
    'For an index, column, default, constraint, trigger, rule or policy: the table (or view) it belongs to, named as object_identity names it.';
-- 0.1's index on object_identity was COLLATE "C", which a query in the
-- database's collation (README's "who changed" query) cannot use;
-- text_pattern_ops compares bytes as cheaply and serves plain "=".  The
-- index on relation only holds the rows that have one.
DROP INDEX smig.ddl_log_object_identity_idx;
CREATE INDEX ddl_log_object_identity_idx ON smig.ddl_log (object_identity text_pattern_ops);
CREATE INDEX ddl_log_relation_idx ON smig.ddl_log (relation text_pattern_ops)
    WHERE relation IS NOT NULL;

-- migration_ddl lists each object once per statement: PostgreSQL reports
-- some objects twice for one command (the sequence of an identity or
-- serial column: created, then owned by its column; a table with a
-- foreign key: created, then given the constraint), and a dropped view's
-- "_RETURN" rule is part of the view.  A migration applied twice in one
-- transaction (a repeatable or run-on-change one) gets the rows of its own
-- application only.
CREATE OR REPLACE VIEW smig.migration_ddl AS
SELECT x.history_id, x.version, x.name, x.applied_at, x.applied_by, x.change,
       x.command_tag, x.object_type, x.object_identity, x.schema_name,
       x.detail, x.ddl_log_id
  FROM (SELECT DISTINCT ON (h.id, d.event, d.command_tag, d.object_type,
                            d.object_identity, d.statement)
               h.id AS history_id, h.version, h.name, h.started_at AS applied_at,
               h.role AS applied_by,
               CASE WHEN d.event = 'sql_drop' THEN 'dropped'
                    WHEN d.event = 'table_rewrite' THEN 'rewrote'
                    WHEN d.command_tag LIKE 'CREATE%' THEN 'created'
                    ELSE 'altered' END AS change,
               d.command_tag, d.object_type, d.object_identity, d.schema_name,
               d.detail, d.id AS ddl_log_id
          FROM smig.history h
          JOIN smig.ddl_log d ON d.txid = h.txid AND d.version = h.version
         WHERE h.action IN ('apply', 'baseline')
           AND d.logged_at >= h.started_at
           AND NOT EXISTS (SELECT FROM smig.history n
                            WHERE n.txid = h.txid AND n.version = h.version
                              AND n.action IN ('apply', 'baseline')
                              AND n.id > h.id AND n.started_at <= d.logged_at)
           AND NOT (d.event = 'sql_drop' AND d.object_type = 'rule'
                    AND d.object_identity LIKE '"\_RETURN" on %')
         ORDER BY h.id, d.event, d.command_tag, d.object_type,
                  d.object_identity, d.statement, d.id) x
 ORDER BY x.history_id, x.ddl_log_id;
COMMENT ON VIEW smig.migration_ddl IS
    'Per applied migration, the objects it created, altered, dropped or rewrote: each once per statement.';

/*---- privileges (keep this section last) -----------------------------------
 * CREATE FUNCTION grants EXECUTE to PUBLIC; nothing of smig's is for PUBLIC.
 */
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smig FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smig FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smig FROM PUBLIC;
