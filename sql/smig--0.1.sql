/* smig--0.1.sql — install script for smig 0.1 */

\echo Use "CREATE EXTENSION smig" to load this file. \quit

/*---- tables ----------------------------------------------------------------
 * Only smig's own code writes these tables (it switches to the extension
 * owner for the writes), so no role needs, or gets, write access to them.
 * version_key is the order-preserving sort key of a version (see
 * smig.version_key); it is the identity of a migration, so "001" and "1"
 * are the same migration.
 */

-- The registry: what the migration files say now.
CREATE TABLE smig.migration (
    version_key   text COLLATE "C" PRIMARY KEY,
    version       text NOT NULL,
    name          text NOT NULL,
    up_sql        text NOT NULL,
    down_sql      text,
    checksum      text NOT NULL,
    options       jsonb NOT NULL DEFAULT '{}',
    registered_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE smig.migration IS
    'Registered migrations: what the migration files say now (written by smig.register and smig.load_dir).';

-- What is applied now, one row per version: a summary of smig.history kept
-- in step with it by smig, so that state is cheap to derive.  kind =
-- 'baseline' marks a baseline (every lower version counts as applied);
-- checksum is NULL for a baseline set by smig.baseline() without SQL.
CREATE TABLE smig.applied (
    version_key text COLLATE "C" PRIMARY KEY,
    version     text NOT NULL,
    name        text NOT NULL,
    checksum    text,
    kind        text NOT NULL CHECK (kind IN ('migration', 'baseline')),
    applied_at  timestamptz NOT NULL,
    applied_by  name NOT NULL,
    history_id  bigint NOT NULL
);
COMMENT ON TABLE smig.applied IS
    'Applied migrations and baselines now; derived from smig.history by smig.';

-- The history: an append-only log of every action.
CREATE SEQUENCE smig.history_id_seq;
CREATE TABLE smig.history (
    id           bigint PRIMARY KEY DEFAULT nextval('smig.history_id_seq'),
    action       text NOT NULL
                 CHECK (action IN ('apply', 'baseline', 'repair')),
    version      text NOT NULL,
    version_key  text COLLATE "C" NOT NULL,
    name         text NOT NULL,
    checksum     text,
    old_checksum text,
    role         name NOT NULL,
    session_role name NOT NULL,
    started_at   timestamptz NOT NULL,
    duration     interval,
    txid         xid8 NOT NULL,
    fingerprint  text,
    detail       text
);
ALTER SEQUENCE smig.history_id_seq OWNED BY smig.history.id;
CREATE INDEX history_version_key_idx ON smig.history (version_key);
COMMENT ON TABLE smig.history IS
    'Append-only log of every smig action: who, when, how long, txid, checksum.';

-- The fast path of upgrade_head() (src/summary.c): registry_gen counts
-- registry changes; clean_gen is the generation a complete upgrade_head()
-- left with nothing to do.  Equal and not stale: nothing is pending or
-- modified.
CREATE TABLE smig.summary (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    registry_gen bigint NOT NULL DEFAULT 1,
    clean_gen    bigint NOT NULL DEFAULT 0,
    stale        boolean NOT NULL DEFAULT false
);
INSERT INTO smig.summary DEFAULT VALUES;
COMMENT ON TABLE smig.summary IS
    'Registry generations: the fast path of upgrade_head().';

-- A write that does not come from smig's own code makes the summary stale.
CREATE FUNCTION smig._summary_touch() RETURNS trigger
AS 'MODULE_PATHNAME', 'smig_summary_touch'
LANGUAGE C;
CREATE TRIGGER migration_summary_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON smig.migration
    FOR EACH STATEMENT EXECUTE FUNCTION smig._summary_touch();
CREATE TRIGGER applied_summary_touch
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON smig.applied
    FOR EACH STATEMENT EXECUTE FUNCTION smig._summary_touch();

SELECT pg_catalog.pg_extension_config_dump('smig.migration', '');
-- smig.summary is not dumped: CREATE EXTENSION seeds its row, and a
-- restore's COPY into smig.migration and smig.applied marks it stale.
SELECT pg_catalog.pg_extension_config_dump('smig.applied', '');
SELECT pg_catalog.pg_extension_config_dump('smig.history', '');
SELECT pg_catalog.pg_extension_config_dump('smig.history_id_seq', '');

-- The audit trail (src/audit.c): one row per object a DDL command touched.
-- version is the migration that ran the command; NULL means unmanaged DDL.
CREATE SEQUENCE smig.ddl_log_id_seq;
CREATE TABLE smig.ddl_log (
    id              bigint PRIMARY KEY DEFAULT nextval('smig.ddl_log_id_seq'),
    logged_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    txid            xid8 NOT NULL,
    event           text NOT NULL
                    CHECK (event IN ('ddl_command_end', 'sql_drop', 'table_rewrite', 'trim')),
    session_role    name NOT NULL,
    role            name NOT NULL,
    command_tag     text NOT NULL,
    object_type     text,
    object_identity text,
    schema_name     text,
    statement       text,
    version         text,
    detail          text
);
ALTER SEQUENCE smig.ddl_log_id_seq OWNED BY smig.ddl_log.id;
-- Ids start at the creation time in microseconds.  pg_restore creates the
-- extension, then the dumped tables, which these triggers log, and only then
-- copies the dumped log rows back: starting at 1, the restore's own entries
-- would take the ids of the dumped ones and the copy would fail.  The old
-- database's ids are below its creation time plus one per entry, far below
-- a later creation time.
SELECT pg_catalog.setval('smig.ddl_log_id_seq',
    (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000000)::bigint);
-- One secondary index, for "who changed X": every index is paid on every
-- DDL command (bench: two more cost ~5% of a DDL-heavy run), and trims and
-- the migration_ddl join are rare enough for a scan.
CREATE INDEX ddl_log_object_identity_idx ON smig.ddl_log (object_identity COLLATE "C");
COMMENT ON TABLE smig.ddl_log IS
    'Append-only audit trail: every DDL command, who ran it, and the migration (version) that did, if any.';

SELECT pg_catalog.pg_extension_config_dump('smig.ddl_log', '');
SELECT pg_catalog.pg_extension_config_dump('smig.ddl_log_id_seq', '');

-- smig.history and smig.ddl_log are append-only.
CREATE FUNCTION smig._refuse_change() RETURNS trigger
AS 'MODULE_PATHNAME', 'smig_refuse_change'
LANGUAGE C;
CREATE TRIGGER ddl_log_append_only
    BEFORE UPDATE OR DELETE ON smig.ddl_log
    FOR EACH ROW EXECUTE FUNCTION smig._refuse_change();
CREATE TRIGGER ddl_log_no_truncate
    BEFORE TRUNCATE ON smig.ddl_log
    FOR EACH STATEMENT EXECUTE FUNCTION smig._refuse_change();
CREATE TRIGGER history_append_only
    BEFORE UPDATE OR DELETE ON smig.history
    FOR EACH ROW EXECUTE FUNCTION smig._refuse_change();
CREATE TRIGGER history_no_truncate
    BEFORE TRUNCATE ON smig.history
    FOR EACH STATEMENT EXECUTE FUNCTION smig._refuse_change();

/*---- versions and checksums ---------------------------------------------*/

CREATE FUNCTION smig.version_key(version text) RETURNS text
AS 'MODULE_PATHNAME', 'smig_version_key'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION smig.version_key(text) IS
    'Order-preserving sort key of a migration version; raises 22023 for an invalid version.';

CREATE FUNCTION smig.checksum(sql text) RETURNS text
AS 'MODULE_PATHNAME', 'smig_checksum'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION smig.checksum(text) IS
    'SHA-256 (hex) of migration SQL with CRLF/CR line ends normalised and a leading BOM dropped.';

/*---- state ----------------------------------------------------------------
 * One definition of truth: the state of every known version, derived from
 * the registry and smig.applied.  pending(), status(), verify_checksum()
 * and the C apply loop all read it.
 *
 * current_key is the highest applied version; baseline_key the highest
 * baseline, or, on an empty history, the highest registered baseline
 * migration (an empty database applies it and skips every older version).
 */
CREATE FUNCTION smig._state()
RETURNS TABLE (version_key text, version text, name text, state text,
               registered_checksum text, applied_checksum text,
               applied_at timestamptz, applied_by name)
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
             ELSE 'applied'
           END,
           m.checksum, a.checksum, a.applied_at, a.applied_by
      FROM smig.migration m
      FULL JOIN smig.applied a ON a.version_key = m.version_key
     CROSS JOIN eff e
$$;

CREATE FUNCTION smig.status()
RETURNS TABLE (version text, name text, state text,
               applied_at timestamptz, applied_by name)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, s.state, s.applied_at, s.applied_by
      FROM smig._state() s
     ORDER BY s.version_key
$$;
COMMENT ON FUNCTION smig.status() IS
    'One row per known version: applied, pending, modified, missing, out-of-order or baselined.';

CREATE FUNCTION smig.pending()
RETURNS TABLE (version text, name text, out_of_order boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, s.state = 'out-of-order'
      FROM smig._state() s
     WHERE s.state IN ('pending', 'out-of-order')
     ORDER BY s.version_key
$$;
COMMENT ON FUNCTION smig.pending() IS
    'Migrations not yet applied, in apply order; out_of_order marks those below smig.current().';

CREATE FUNCTION smig.current() RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.version FROM smig.applied a ORDER BY a.version_key DESC LIMIT 1
$$;
COMMENT ON FUNCTION smig.current() IS
    'The highest applied (or baselined) version; NULL on an empty history.';

CREATE FUNCTION smig.verify_checksum()
RETURNS TABLE (version text, name text, problem text,
               applied_checksum text, registered_checksum text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.version, s.name, s.state, s.applied_checksum, s.registered_checksum
      FROM smig._state() s
     WHERE s.state IN ('modified', 'missing')
     ORDER BY s.version_key
$$;
COMMENT ON FUNCTION smig.verify_checksum() IS
    'Applied migrations whose registered text changed (modified) or that are no longer registered (missing); empty when all is well.';

/*---- registry ------------------------------------------------------------*/

CREATE FUNCTION smig.register(version text, name text, up_sql text,
                              down_sql text DEFAULT NULL,
                              options jsonb DEFAULT '{}')
RETURNS text
AS 'MODULE_PATHNAME', 'smig_register'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.register(text, text, text, text, jsonb) IS
    'Add or update a migration in the registry; returns new, changed or unchanged.';

CREATE FUNCTION smig.load_dir(path text) RETURNS integer
AS 'MODULE_PATHNAME', 'smig_load_dir'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION smig.load_dir(text) IS
    'Register every migration file in a server directory; returns how many were new or changed.';

/*---- applying ------------------------------------------------------------*/

CREATE FUNCTION smig.upgrade_head()
RETURNS TABLE (version text, name text, duration interval)
AS 'MODULE_PATHNAME', 'smig_upgrade_head'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.upgrade_head() IS
    'Apply every pending migration in version order, in the caller''s transaction.';

CREATE FUNCTION smig.upgrade_to(target text)
RETURNS TABLE (version text, name text, duration interval)
AS 'MODULE_PATHNAME', 'smig_upgrade_to'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION smig.upgrade_to(text) IS
    'Apply pending migrations up to and including target, in the caller''s transaction.';

CREATE FUNCTION smig.apply(version text)
RETURNS TABLE (version text, name text, duration interval)
AS 'MODULE_PATHNAME', 'smig_apply'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION smig.apply(text) IS
    'Apply exactly one pending migration.';

CREATE FUNCTION smig.baseline(version text, name text DEFAULT 'baseline')
RETURNS void
AS 'MODULE_PATHNAME', 'smig_baseline'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION smig.baseline(text, text) IS
    'Mark the database as being at version; every lower version counts as applied.';

CREATE FUNCTION smig.repair()
RETURNS TABLE (version text, name text, old_checksum text, new_checksum text)
AS 'MODULE_PATHNAME', 'smig_repair'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.repair() IS
    'Accept the registered text of modified applied migrations; each is recorded in smig.history.';

/*---- audit trail ---------------------------------------------------------*/

CREATE FUNCTION smig._audit_ddl_command_end() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'smig_audit_ddl_command_end'
LANGUAGE C;
CREATE FUNCTION smig._audit_sql_drop() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'smig_audit_sql_drop'
LANGUAGE C;
CREATE FUNCTION smig._audit_table_rewrite() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'smig_audit_table_rewrite'
LANGUAGE C;

CREATE EVENT TRIGGER smig_audit_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION smig._audit_ddl_command_end();
CREATE EVENT TRIGGER smig_audit_sql_drop ON sql_drop
    EXECUTE FUNCTION smig._audit_sql_drop();
CREATE EVENT TRIGGER smig_audit_table_rewrite ON table_rewrite
    EXECUTE FUNCTION smig._audit_table_rewrite();

CREATE FUNCTION smig.trim_ddl_log(older_than timestamptz) RETURNS bigint
AS 'MODULE_PATHNAME', 'smig_trim_ddl_log'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION smig.trim_ddl_log(timestamptz) IS
    'Delete smig.ddl_log entries logged before older_than (the only way to shorten the log); the trim is logged.';

-- Per applied migration, the objects it created, altered, dropped or
-- rewrote: history and log rows of one transaction and version.
CREATE VIEW smig.migration_ddl AS
SELECT h.id AS history_id, h.version, h.name, h.started_at AS applied_at,
       h.role AS applied_by,
       CASE WHEN d.event = 'sql_drop' THEN 'dropped'
            WHEN d.event = 'table_rewrite' THEN 'rewrote'
            WHEN d.command_tag LIKE 'CREATE%' THEN 'created'
            ELSE 'altered' END AS change,
       d.command_tag, d.object_type, d.object_identity, d.schema_name,
       d.detail, d.id AS ddl_log_id
  FROM smig.history h
  JOIN smig.ddl_log d ON d.txid = h.txid AND d.version = h.version
 WHERE h.action IN ('apply', 'baseline');
COMMENT ON VIEW smig.migration_ddl IS
    'Per applied migration, the objects it created, altered, dropped or rewrote.';

/*---- privileges ------------------------------------------------------------
 * Nothing for PUBLIC: an administrator grants a deployer role what it needs
 * (README, "Privileges").
 */
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA smig FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA smig FROM PUBLIC;   -- views included
REVOKE ALL ON ALL SEQUENCES IN SCHEMA smig FROM PUBLIC;
