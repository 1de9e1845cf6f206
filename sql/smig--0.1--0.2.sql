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

-- down scripts have checksums too (issue 12): the registry's is derived
-- from the text, always in step with it; smig.applied keeps the one
-- recorded when the migration was applied (NULL: applied without a down
-- script, or by smig 0.1), so that an edited down script is caught as an
-- edited up script is.
ALTER TABLE smig.migration
    ADD COLUMN down_checksum text
        GENERATED ALWAYS AS (smig.checksum(down_sql)) STORED;
COMMENT ON COLUMN smig.migration.down_checksum IS
    'Checksum of down_sql (smig.checksum), NULL without a down script.';
ALTER TABLE smig.applied ADD COLUMN down_checksum text;
COMMENT ON COLUMN smig.applied.down_checksum IS
    'Checksum of the down script registered when the migration was applied; NULL if it had none, or was applied by smig 0.1.';
ALTER TABLE smig.history
    ADD COLUMN down_checksum text,
    ADD COLUMN old_down_checksum text;
COMMENT ON COLUMN smig.history.down_checksum IS
    'A revert: the checksum of the down script that ran; a repair of a down script: the accepted one.';
COMMENT ON COLUMN smig.history.old_down_checksum IS
    'A repair of a down script: the checksum recorded before.';

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
               has_down boolean, registered_down_checksum text,
               applied_down_checksum text)
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
             WHEN a.checksum <> m.checksum THEN 'modified'
             WHEN a.down_checksum <> m.down_checksum THEN 'down-modified'
             ELSE 'applied'
           END,
           m.checksum, a.checksum, a.applied_at, a.applied_by, m.run_as,
           m.down_sql IS NOT NULL, m.down_checksum, a.down_checksum
      FROM smig.migration m
      FULL JOIN smig.applied a ON a.version_key = m.version_key
     CROSS JOIN eff e
$$;

CREATE FUNCTION smig.status()
RETURNS TABLE (version text, name text, state text,
               applied_at timestamptz, applied_by name, run_as name,
               checksum text, has_down boolean, down_checksum text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, s.state, s.applied_at, s.applied_by, s.run_as,
           coalesce(s.registered_checksum, s.applied_checksum), s.has_down,
           CASE WHEN s.registered_checksum IS NULL THEN s.applied_down_checksum
                ELSE s.registered_down_checksum END
      FROM smig._state() s
     ORDER BY s.version_key
$$;
COMMENT ON FUNCTION smig.status() IS
    'One row per known version: its state (applied, pending, modified, down-modified, missing, out-of-order, baselined), the role it runs as, the checksums of its up and down scripts and whether it has a down script.';
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
RETURNS TABLE (version text, name text, old_checksum text, new_checksum text,
               script text)
AS 'MODULE_PATHNAME', 'smig_repair_one'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.repair(text) IS
    'Accept the registered up and down scripts of one modified applied migration; recorded in smig.history.';

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

/*---- downgrade and rollback (issue 12) --------------------------------------
 * smig.rollback() and smig.downgrade() run down scripts (src/downgrade.c);
 * each revert is a history row.  Down scripts are checksummed: an applied
 * migration whose down script was edited since it was applied is
 * "down-modified" (status, verify_checksum) until repair() accepts it.
 */
ALTER TABLE smig.history DROP CONSTRAINT history_action_check;
ALTER TABLE smig.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'baseline', 'repair', 'revert'));

CREATE OR REPLACE FUNCTION smig.verify_checksum()
RETURNS TABLE (version text, name text, problem text,
               applied_checksum text, registered_checksum text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, p.problem, p.applied_checksum, p.registered_checksum
      FROM (SELECT * FROM smig._state() s0
             WHERE s0.state IN ('modified', 'missing')
                OR s0.applied_down_checksum <> s0.registered_down_checksum) s
     CROSS JOIN LATERAL (VALUES
           (1, CASE WHEN s.state IN ('modified', 'missing') THEN s.state END,
            s.applied_checksum, s.registered_checksum),
           (2, CASE WHEN s.applied_down_checksum <> s.registered_down_checksum
                    THEN 'down-modified' END,
            s.applied_down_checksum, s.registered_down_checksum))
           AS p (script, problem, applied_checksum, registered_checksum)
     WHERE p.problem IS NOT NULL
     ORDER BY s.version_key, p.script
$$;
COMMENT ON FUNCTION smig.verify_checksum() IS
    'Applied migrations whose registered up script changed (modified), whose down script changed (down-modified; the checksums are the down script''s) or that are no longer registered (missing); empty when all is well.';
-- (the rows with a problem first, then one row per problem: as fast as
-- 0.1's single filter over _state(), where a row per script and version
-- took twice as long at 10,000 migrations)

-- reverts are listed with what their down scripts changed
CREATE OR REPLACE VIEW smig.migration_ddl AS
SELECT h.id AS history_id, h.version, h.name, h.started_at AS applied_at,
       h.role AS applied_by,
       CASE WHEN d.event = 'sql_drop' THEN 'dropped'
            WHEN d.event = 'table_rewrite' THEN 'rewrote'
            WHEN d.command_tag LIKE 'CREATE%' THEN 'created'
            ELSE 'altered' END AS change,
       d.command_tag, d.object_type, d.object_identity, d.schema_name,
       d.detail, d.id AS ddl_log_id, h.action
  FROM smig.history h
  JOIN smig.ddl_log d ON d.txid = h.txid AND d.version = h.version
 WHERE h.action IN ('apply', 'baseline', 'revert');
COMMENT ON VIEW smig.migration_ddl IS
    'Per applied or reverted migration, the objects it created, altered, dropped or rewrote (action: apply, baseline or revert).';

CREATE FUNCTION smig.rollback(steps integer DEFAULT 1)
RETURNS TABLE (version text, name text, duration interval)
AS 'MODULE_PATHNAME', 'smig_rollback'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.rollback(integer) IS
    'Revert the steps highest applied migrations with their down scripts, newest first, in the caller''s transaction.';

CREATE FUNCTION smig.downgrade(target text)
RETURNS TABLE (version text, name text, duration interval)
AS 'MODULE_PATHNAME', 'smig_downgrade'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.downgrade(text) IS
    'Revert every applied migration above target (''base'' or ''0'': all of them) with their down scripts, newest first, in the caller''s transaction.';

-- repair() also accepts edited down scripts, so its rows say which script
-- (a column more): dropped and created again, keeping EXECUTE grants.
SELECT pg_catalog.set_config('smig_upgrade.repair_grantees',
       coalesce(pg_catalog.string_agg(a.grantee::regrole::text, ','), ''), true)
  FROM pg_catalog.pg_proc p,
       pg_catalog.aclexplode(p.proacl) a
 WHERE p.oid = 'smig.repair()'::pg_catalog.regprocedure
   AND a.privilege_type = 'EXECUTE' AND a.grantee <> 0
   AND a.grantee <> p.proowner;
DROP FUNCTION smig.repair();
CREATE FUNCTION smig.repair()
RETURNS TABLE (version text, name text, old_checksum text, new_checksum text,
               script text)
AS 'MODULE_PATHNAME', 'smig_repair'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.repair() IS
    'Accept the registered up and down scripts of modified applied migrations; each is recorded in smig.history.';
REVOKE ALL ON FUNCTION smig.repair() FROM PUBLIC;
DO $$
DECLARE
    g text;
BEGIN
    FOR g IN SELECT pg_catalog.unnest(pg_catalog.string_to_array(
                 pg_catalog.current_setting('smig_upgrade.repair_grantees'), ','))
    LOOP
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.repair() TO %s', g);
    END LOOP;
END
$$;

/*---- long deploys: procedures that commit per migration (issue 12) ---------
 * CALL smig.upgrade() and CALL smig.downgrade_to() (src/procedure.c).  A
 * migration that fails is recorded as a "failed" history row, committed
 * after its work rolled back.  (PostgreSQL keeps functions and procedures
 * in one namespace, so the procedure going down cannot be called
 * smig.downgrade(text) as well.)
 */
ALTER TABLE smig.history DROP CONSTRAINT history_action_check;
ALTER TABLE smig.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'baseline', 'repair', 'revert', 'failed'));
ALTER TABLE smig.history
    ADD COLUMN direction text CHECK (direction IN ('up', 'down')),
    ADD COLUMN error text,
    ADD COLUMN sqlstate text;
COMMENT ON COLUMN smig.history.direction IS
    'A failed attempt: whether the up (apply) or the down script (revert) failed.';
COMMENT ON COLUMN smig.history.error IS
    'A failed attempt: the error message.';
COMMENT ON COLUMN smig.history.sqlstate IS
    'A failed attempt: the error''s SQLSTATE.';

CREATE PROCEDURE smig.upgrade(target text DEFAULT NULL)
AS 'MODULE_PATHNAME', 'smig_upgrade_proc'
LANGUAGE C;
COMMENT ON PROCEDURE smig.upgrade(text) IS
    'Apply pending migrations (up to target; NULL: all), committing after each; a failure leaves the earlier ones applied and records the failed attempt.';

CREATE PROCEDURE smig.downgrade_to(target text)
AS 'MODULE_PATHNAME', 'smig_downgrade_proc'
LANGUAGE C;
COMMENT ON PROCEDURE smig.downgrade_to(text) IS
    'Revert every applied migration above target (''base'' or ''0'': all), committing after each; a failure leaves the earlier reverts done and records the failed attempt.';
-- (REVOKE ... ON ALL FUNCTIONS does not cover procedures)
REVOKE ALL ON PROCEDURE smig.upgrade(text), smig.downgrade_to(text) FROM PUBLIC;

/*---- privileges (keep this section last) -----------------------------------
 * CREATE FUNCTION grants EXECUTE to PUBLIC; nothing of smig's is for PUBLIC.
 */
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smig FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smig FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smig FROM PUBLIC;
