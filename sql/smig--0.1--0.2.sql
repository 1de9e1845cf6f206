/* smig--0.1--0.2.sql — everything changed since 0.1.
 *
 * make builds smig--0.2.sql, which a new CREATE EXTENSION smig runs, from
 * smig--0.1.sql and this script, so a new 0.2 database and one upgraded
 * from 0.1 are made by the same statements (t/008_extension_upgrade.pl
 * compares their catalogs).  Keep the privileges section last.
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
-- (Kept in a transaction-local setting: a temporary table would be DDL.
-- The roles are kept as OIDs: a role's name may contain the comma.)
SELECT pg_catalog.set_config('smig_upgrade.status_grantees',
       coalesce(pg_catalog.string_agg(a.grantee::pg_catalog.text, ','), ''), true)
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
             WHEN a.checksum <> m.checksum THEN
               CASE WHEN m.options @> '{"run_on_change": true}' THEN 'outdated'
                    ELSE 'modified' END
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
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.status() TO %s', g::pg_catalog.oid::pg_catalog.regrole);
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
       coalesce(pg_catalog.string_agg(a.grantee::pg_catalog.text, ','), ''), true)
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
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.load_dir(text, boolean) TO %s', g::pg_catalog.oid::pg_catalog.regrole);
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

/*---- schema snapshot and fingerprint (issue 14) ----------------------------
 * smig.snapshot() describes the user schemas as one jsonb object, a key per
 * object ("table app.orders", "column app.orders.id", "index app.orders_pkey",
 * ...) and a description per key.  It holds no OIDs and no creation order:
 * names, definitions as pg_get_*def prints them (under search_path =
 * pg_catalog, pg_temp every other name comes out schema-qualified), ACLs
 * sorted, column positions counted among the live columns.  jsonb keeps its
 * keys sorted, so the text of the snapshot is canonical and
 * smig.fingerprint() is its SHA-256.  Objects that belong to an extension are
 * left out (the extension and its version are in).
 */
CREATE FUNCTION smig.snapshot(schemas text[] DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $fn$
DECLARE
    missing text;
    result jsonb;
BEGIN
    SELECT s INTO missing
      FROM pg_catalog.unnest(schemas) AS s
     WHERE s IS NULL
        OR NOT EXISTS (SELECT FROM pg_catalog.pg_namespace n WHERE n.nspname = s)
     LIMIT 1;
    IF FOUND THEN
        IF missing IS NULL THEN
            RAISE EXCEPTION 'schema list must not contain NULL'
                USING ERRCODE = 'null_value_not_allowed';
        END IF;
        RAISE EXCEPTION 'schema "%" does not exist', missing
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'Pass NULL to describe every user schema.';
    END IF;

    -- Comments: ns, rel, fn and typ join theirs from pg_description (not
    -- one obj_description() call, a whole SQL function run, per object).
    -- The other rows of entries look theirs up by pg_description's unique
    -- index: their row counts come from those CTEs, which the planner
    -- underestimates, and a join there could scan every comment per row.
    WITH ns AS (
        SELECT n.oid, n.nspname, n.nspowner, n.nspacl, d.description AS comment
          FROM pg_catalog.pg_namespace n
          LEFT JOIN pg_catalog.pg_description d
                 ON d.objoid = n.oid AND d.classoid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                AND d.objsubid = 0
         WHERE CASE WHEN schemas IS NULL
                    THEN n.nspname NOT IN ('pg_catalog', 'information_schema', 'smig')
                         AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
                    ELSE n.nspname = ANY (schemas) END
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                            WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                              AND d.objid = n.oid AND d.deptype = 'e')
    ),
    -- (the CTEs keep only the columns used below: every row is copied
    -- into each hash table and sort that reads them)
    rel AS (
        SELECT c.oid, c.relname, ns.nspname, c.relkind, c.relowner, c.relacl, c.reloptions, c.relpersistence, c.relam,
               c.relrowsecurity, c.relforcerowsecurity, c.relreplident, c.relpartbound,
               pg_catalog.format('%I.%I', ns.nspname, c.relname) AS qname,
               d.description AS comment
          FROM pg_catalog.pg_class c JOIN ns ON ns.oid = c.relnamespace
          LEFT JOIN pg_catalog.pg_description d
                 ON d.objoid = c.oid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                AND d.objsubid = 0
         WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S', 'c', 'i', 'I')
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                            WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                              AND d.objid = c.oid AND d.deptype = 'e')
    ),
    fn AS (
        SELECT p.oid, p.prokind, p.proowner, p.proacl,
               pg_catalog.format('%I.%I(%s)', ns.nspname, p.proname,
                                 pg_catalog.pg_get_function_identity_arguments(p.oid)) AS qname,
               d.description AS comment
          FROM pg_catalog.pg_proc p JOIN ns ON ns.oid = p.pronamespace
          LEFT JOIN pg_catalog.pg_description d
                 ON d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                AND d.objsubid = 0
         WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                            WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                              AND d.objid = p.oid AND d.deptype = 'e')
    ),
    typ AS (
        SELECT t.*, ns.nspname,
               pg_catalog.format('%I.%I', ns.nspname, t.typname) AS qname,
               d.description AS comment
          FROM pg_catalog.pg_type t JOIN ns ON ns.oid = t.typnamespace
          LEFT JOIN pg_catalog.pg_description d
                 ON d.objoid = t.oid AND d.classoid = 'pg_catalog.pg_type'::pg_catalog.regclass
                AND d.objsubid = 0
         WHERE (t.typtype IN ('e', 'd', 'r', 'b')
                OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_catalog.pg_class c
                                                 WHERE c.oid = t.typrelid AND c.relkind = 'c')))
           AND NOT (t.typtype = 'b' AND t.typcategory = 'A')
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_depend d
                            WHERE d.classid = 'pg_catalog.pg_type'::pg_catalog.regclass
                              AND d.objid = t.oid AND d.deptype = 'e')
    ),
    -- ACLs print sorted.  Most objects have the default ACL (NULL): sort it
    -- once per kind of object and owner, not once per object.
    defacl AS (
        SELECT k.kind, o.owner,
               (SELECT pg_catalog.jsonb_agg(a ORDER BY a)
                  FROM pg_catalog.unnest((pg_catalog.acldefault(k.kind, o.owner))::text[]) a) AS acl
          FROM (VALUES ('n'::"char"), ('r'), ('s'), ('f'), ('T')) k (kind),
               (SELECT nspowner FROM ns UNION SELECT relowner FROM rel
                UNION SELECT proowner FROM fn UNION SELECT typowner FROM typ) o (owner)
    ),
    parents AS (
        SELECT i.inhrelid,
               pg_catalog.jsonb_agg(pg_catalog.format('%I.%I', pn.nspname, pc.relname) ORDER BY i.inhseqno) AS list
          FROM pg_catalog.pg_inherits i
          JOIN pg_catalog.pg_class pc ON pc.oid = i.inhparent
          JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
         GROUP BY i.inhrelid
    ),
    -- the default operator classes: OID -> the type they are the default
    -- for, unless that is a domain (GetDefaultOpClass() looks for the base
    -- type's); a map built once: a lookup in pg_opclass per index column
    -- would scan the table, which the planner finds too small for its index
    default_opclass AS MATERIALIZED (
        SELECT pg_catalog.jsonb_object_agg(oc.oid::text, oc.opcintype::text) AS intype
          FROM pg_catalog.pg_opclass oc JOIN pg_catalog.pg_type ty ON ty.oid = oc.opcintype
         WHERE oc.opcdefault AND ty.typtype <> 'd'
    ),
    -- One row per object: its key, and its description as to_jsonb() of a
    -- row of properties (cheaper than jsonb_build_object() of key-value
    -- pairs); the properties that are NULL are stripped below.
    entries (key, val) AS (
        -- schemas
        SELECT 'schema ' || pg_catalog.quote_ident(ns.nspname),
               pg_catalog.to_jsonb(j)
          FROM ns LEFT JOIN defacl da ON da.kind = 'n' AND da.owner = ns.nspowner
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_userbyid(ns.nspowner) AS owner,
                                     CASE WHEN ns.nspacl IS NULL THEN da.acl
                                          ELSE (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((ns.nspacl)::text[]) a) END AS acl,
                                     ns.comment AS comment) j
        UNION ALL
        -- tables, partitioned tables, foreign tables, views, materialized views
        SELECT CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'p' THEN 'partitioned table '
                              WHEN 'f' THEN 'foreign table ' WHEN 'v' THEN 'view '
                              ELSE 'materialized view ' END || c.qname,
               pg_catalog.to_jsonb(j)
          FROM rel c
          LEFT JOIN defacl da ON da.kind = 'r' AND da.owner = c.relowner
          LEFT JOIN pg_catalog.pg_am am ON am.oid = c.relam AND am.amname <> 'heap'
          LEFT JOIN parents pa ON pa.inhrelid = c.oid
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_userbyid(c.relowner) AS owner,
                                     CASE WHEN c.relacl IS NULL THEN da.acl
                                          ELSE (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((c.relacl)::text[]) a) END AS acl,
                                     c.comment AS comment,
                                     CASE WHEN c.relpersistence = 'u' THEN true END AS unlogged,
                                     CASE WHEN c.reloptions IS NOT NULL
                                          THEN (SELECT pg_catalog.jsonb_agg(o ORDER BY o) FROM pg_catalog.unnest(c.reloptions) o) END AS options,
                                     am.amname AS access_method,
                                     CASE WHEN c.relrowsecurity THEN true END AS row_security,
                                     CASE WHEN c.relforcerowsecurity THEN true END AS force_row_security,
                                     CASE WHEN c.relkind IN ('r', 'p') AND c.relreplident <> 'd'
                                          THEN c.relreplident::text END AS replica_identity,
                                     CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partition_key,
                                     pg_catalog.pg_get_expr(c.relpartbound, c.oid) AS partition_bound,
                                     pa.list AS inherits,
                                     CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END AS definition,
                                     CASE WHEN c.relkind = 'f'
                                          THEN (SELECT s.srvname FROM pg_catalog.pg_foreign_table ft
                                                  JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
                                                 WHERE ft.ftrelid = c.oid) END AS server,
                                     CASE WHEN c.relkind = 'f'
                                          THEN (SELECT pg_catalog.jsonb_agg(o ORDER BY o)
                                                  FROM pg_catalog.pg_foreign_table ft, pg_catalog.unnest(ft.ftoptions) o
                                                 WHERE ft.ftrelid = c.oid) END AS server_options) j
         WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
        UNION ALL
        -- columns of relations and of composite types
        SELECT 'column ' || a.qname || '.' || pg_catalog.quote_ident(a.attname),
               pg_catalog.to_jsonb(j)
          FROM (SELECT c.qname, a.attrelid, a.attname, a.attnum, a.atttypid, a.atttypmod, a.attcollation,
                       a.attnotnull, a.attgenerated, a.attidentity, a.attstorage, a.attcompression,
                       a.attstattarget, a.attoptions, a.attfdwoptions, a.attacl,
                       t.typcollation, t.typstorage, ad.adbin,
                       pg_catalog.row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum) AS position
                  FROM rel c
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                  LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum
                 WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c')) a
          CROSS JOIN LATERAL (SELECT a.position,
                                     pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
                                     CASE WHEN a.attcollation <> a.typcollation
                                          THEN (SELECT pg_catalog.format('%I.%I', cn.nspname, co.collname)
                                                  FROM pg_catalog.pg_collation co
                                                  JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                                                 WHERE co.oid = a.attcollation) END AS collation,
                                     CASE WHEN a.attnotnull THEN true END AS not_null,
                                     CASE WHEN a.attgenerated = '' THEN pg_catalog.pg_get_expr(a.adbin, a.attrelid) END AS default,
                                     CASE WHEN a.attgenerated = 's' THEN pg_catalog.pg_get_expr(a.adbin, a.attrelid) END AS generated,
                                     CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END AS identity,
                                     CASE WHEN a.typstorage <> a.attstorage THEN a.attstorage::text END AS storage,
                                     nullif(a.attcompression::text, '') AS compression,
                                     CASE WHEN a.attstattarget >= 0 THEN a.attstattarget END AS statistics,
                                     -- this server stamps every column with an option pg_attver whose
                                     -- value differs from one database to the next: not schema
                                     CASE WHEN a.attoptions IS NOT NULL
                                               -- (this server's one option alone: nothing to sort)
                                               AND (pg_catalog.cardinality(a.attoptions) > 1
                                                    OR NOT pg_catalog.starts_with(a.attoptions[1], 'pg_attver='))
                                          THEN (SELECT pg_catalog.jsonb_agg(o ORDER BY o) FROM pg_catalog.unnest(a.attoptions) o
                                                 WHERE NOT pg_catalog.starts_with(o, 'pg_attver=')) END AS options,
                                     CASE WHEN a.attfdwoptions IS NOT NULL
                                          THEN (SELECT pg_catalog.jsonb_agg(o ORDER BY o) FROM pg_catalog.unnest(a.attfdwoptions) o) END AS server_options,
                                     CASE WHEN a.attacl IS NOT NULL
                                          THEN (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((a.attacl)::text[]) a) END AS acl,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = a.attrelid AND d.classoid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                        AND d.objsubid = a.attnum) AS comment) j
        UNION ALL
        -- table constraints (NOT NULL is a column property in PostgreSQL 15)
        SELECT 'constraint ' || c.qname || '.' || pg_catalog.quote_ident(k.conname),
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_constraint k ON k.conrelid = c.oid
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_constraintdef(k.oid) AS definition,
                                     k.convalidated AS validated,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = k.oid AND d.classoid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                                        AND d.objsubid = 0) AS comment) j
        UNION ALL
        -- indexes, including those behind constraints.  pg_get_indexdef()
        -- looks up the default operator class of each column (a scan of
        -- pg_opclass each time) to know whether to print its name.  An index
        -- (not a partitioned one) of plain columns, each with the
        -- exactly-typed default operator class of its access method, its
        -- column's collation, and no ordering or operator class options,
        -- with no INCLUDE, predicate, storage parameters or NULLS NOT
        -- DISTINCT, outside pg_catalog and temporary schemas (where regclass
        -- would leave out the schema), prints as the format() below; every
        -- other index goes to pg_get_indexdef().  bench/snapshot_oracle.sh
        -- checks that the two agree.
        SELECT 'index ' || c.qname,
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_index x ON x.indexrelid = c.oid
          JOIN pg_catalog.pg_am am ON am.oid = c.relam
          CROSS JOIN default_opclass dopc
          CROSS JOIN LATERAL (
              -- (each lookup by its own index: the planner cannot count these rows)
              SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY k.n) AS list,
                     pg_catalog.bool_and(coalesce(
                         a.attnum > 0 AND k.opt = 0 AND k.coll IN (0, a.attcollation)
                         AND dopc.intype ->> k.opclass::text = a.atttypid::text
                         AND (SELECT ia.attoptions IS NULL FROM pg_catalog.pg_attribute ia
                               WHERE ia.attrelid = c.oid AND ia.attnum = k.n), false)) AS plain
                FROM ROWS FROM (pg_catalog.unnest((x.indkey)::int2[]), pg_catalog.unnest((x.indclass)::oid[]),
                                pg_catalog.unnest((x.indcollation)::oid[]), pg_catalog.unnest((x.indoption)::int2[]))
                     WITH ORDINALITY AS k (attnum, opclass, coll, opt, n)
                LEFT JOIN LATERAL (SELECT a.attname, a.attnum, a.atttypid, a.attcollation
                                     FROM pg_catalog.pg_attribute a
                                    WHERE a.attrelid = x.indrelid AND a.attnum = k.attnum) a ON true) cols
          CROSS JOIN LATERAL (SELECT CASE WHEN c.relkind = 'i' AND cols.plain AND x.indnatts = x.indnkeyatts
                                               AND x.indexprs IS NULL AND x.indpred IS NULL AND c.reloptions IS NULL
                                               AND NOT x.indnullsnotdistinct
                                               AND c.nspname <> 'pg_catalog' AND c.nspname !~ '^pg_temp_'
                                          THEN pg_catalog.format('CREATE %sINDEX %I ON %s USING %I (%s)',
                                                                 CASE WHEN x.indisunique THEN 'UNIQUE ' ELSE '' END,
                                                                 c.relname, x.indrelid::pg_catalog.regclass::text,
                                                                 am.amname, cols.list)
                                          ELSE pg_catalog.pg_get_indexdef(c.oid) END AS definition,
                              x.indisvalid AS valid,
                              CASE WHEN x.indisclustered THEN true END AS clustered,
                              CASE WHEN x.indisreplident THEN true END AS replica_identity,
                              c.comment AS comment) j
         WHERE c.relkind IN ('i', 'I')
        UNION ALL
        -- sequences (identity sequences too: their options are part of the column)
        SELECT 'sequence ' || c.qname,
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_sequence s ON s.seqrelid = c.oid
          LEFT JOIN defacl da ON da.kind = 's' AND da.owner = c.relowner
          CROSS JOIN LATERAL (SELECT pg_catalog.format_type(s.seqtypid, NULL) AS type,
                                     s.seqstart AS start,
                                     s.seqincrement AS increment,
                                     s.seqmin AS min,
                                     s.seqmax AS max,
                                     s.seqcache AS cache,
                                     s.seqcycle AS cycle,
                                     (SELECT pg_catalog.format('%I.%I.%I', tn.nspname, t.relname, ta.attname)
                                        FROM pg_catalog.pg_depend d
                                        JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
                                        JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
                                        JOIN pg_catalog.pg_attribute ta ON ta.attrelid = t.oid AND ta.attnum = d.refobjsubid
                                       WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                         AND d.objid = c.oid AND d.refobjsubid > 0
                                         AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                         AND d.deptype IN ('a', 'i')
                                       LIMIT 1) AS owned_by,
                                     pg_catalog.pg_get_userbyid(c.relowner) AS owner,
                                     CASE WHEN c.relacl IS NULL THEN da.acl
                                          ELSE (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((c.relacl)::text[]) a) END AS acl,
                                     c.comment AS comment) j
        UNION ALL
        -- triggers
        SELECT 'trigger ' || c.qname || '.' || pg_catalog.quote_ident(g.tgname),
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_trigger g ON g.tgrelid = c.oid
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_triggerdef(g.oid) AS definition,
                                     CASE WHEN g.tgenabled <> 'O' THEN g.tgenabled::text END AS enabled,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = g.oid AND d.classoid = 'pg_catalog.pg_trigger'::pg_catalog.regclass
                                        AND d.objsubid = 0) AS comment) j
         WHERE NOT g.tgisinternal
        UNION ALL
        -- rules (a view's own _RETURN rule is its definition)
        SELECT 'rule ' || c.qname || '.' || pg_catalog.quote_ident(r.rulename),
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_rewrite r ON r.ev_class = c.oid
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_ruledef(r.oid) AS definition,
                                     CASE WHEN r.ev_enabled <> 'O' THEN r.ev_enabled::text END AS enabled,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = r.oid AND d.classoid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                                        AND d.objsubid = 0) AS comment) j
         WHERE r.rulename <> '_RETURN'
        UNION ALL
        -- row-level security policies
        SELECT 'policy ' || c.qname || '.' || pg_catalog.quote_ident(p.polname),
               pg_catalog.to_jsonb(j)
          FROM rel c JOIN pg_catalog.pg_policy p ON p.polrelid = c.oid
          CROSS JOIN LATERAL (SELECT p.polcmd::text AS command,
                                     p.polpermissive AS permissive,
                                     (SELECT pg_catalog.jsonb_agg(CASE WHEN r = 0 THEN 'PUBLIC'
                                                                       ELSE pg_catalog.pg_get_userbyid(r)::text END
                                                                  ORDER BY 1)
                                        FROM pg_catalog.unnest(p.polroles) r) AS roles,
                                     pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS using,
                                     pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS with_check,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = p.oid AND d.classoid = 'pg_catalog.pg_policy'::pg_catalog.regclass
                                        AND d.objsubid = 0) AS comment) j
        UNION ALL
        -- extended statistics
        SELECT 'statistics ' || pg_catalog.format('%I.%I', ns.nspname, st.stxname),
               pg_catalog.to_jsonb(j)
          FROM pg_catalog.pg_statistic_ext st JOIN ns ON ns.oid = st.stxnamespace
          CROSS JOIN LATERAL (SELECT pg_catalog.pg_get_statisticsobjdef(st.oid) AS definition,
                                     (SELECT d.description FROM pg_catalog.pg_description d
                                      WHERE d.objoid = st.oid AND d.classoid = 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass
                                        AND d.objsubid = 0) AS comment) j
        UNION ALL
        -- functions, procedures and aggregates, with their bodies
        SELECT CASE f.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate '
                              ELSE 'function ' END || f.qname,
               pg_catalog.to_jsonb(j)
          FROM fn f LEFT JOIN defacl da ON da.kind = 'f' AND da.owner = f.proowner
          CROSS JOIN LATERAL (SELECT CASE WHEN f.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(f.oid) END AS definition,
                                     CASE WHEN f.prokind = 'a' THEN (SELECT pg_catalog.jsonb_build_object(
                                          'kind', ag.aggkind::text,
                                          'transition', ag.aggtransfn::pg_catalog.regprocedure::text,
                                          'final', nullif(ag.aggfinalfn, 0)::pg_catalog.regprocedure::text,
                                          'combine', nullif(ag.aggcombinefn, 0)::pg_catalog.regprocedure::text,
                                          'state_type', pg_catalog.format_type(ag.aggtranstype, NULL),
                                          'initial', ag.agginitval,
                                          'sort_operator', nullif(ag.aggsortop, 0)::pg_catalog.regoperator::text)
                                        FROM pg_catalog.pg_aggregate ag WHERE ag.aggfnoid = f.oid) END AS aggregate,
                                     pg_catalog.pg_get_userbyid(f.proowner) AS owner,
                                     CASE WHEN f.proacl IS NULL THEN da.acl
                                          ELSE (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((f.proacl)::text[]) a) END AS acl,
                                     f.comment AS comment) j
        UNION ALL
        -- enums (labels in order), domains, composite and range types, base types
        SELECT 'type ' || t.qname,
               pg_catalog.to_jsonb(j)
          FROM typ t LEFT JOIN defacl da ON da.kind = 'T' AND da.owner = t.typowner
          CROSS JOIN LATERAL (SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain'
                                                    WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range'
                                                    ELSE 'base' END AS kind,
                                     CASE WHEN t.typtype = 'e'
                                          THEN (SELECT pg_catalog.jsonb_agg(e.enumlabel ORDER BY e.enumsortorder)
                                                  FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid) END AS labels,
                                     CASE WHEN t.typtype = 'd'
                                          THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base_type,
                                     CASE WHEN t.typnotnull THEN true END AS not_null,
                                     t.typdefault AS default,
                                     CASE WHEN t.typtype = 'd'
                                          THEN (SELECT pg_catalog.format('%I.%I', cn.nspname, co.collname)
                                                  FROM pg_catalog.pg_collation co
                                                  JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                                                 WHERE co.oid = t.typcollation
                                                   AND t.typcollation <> (SELECT b.typcollation FROM pg_catalog.pg_type b
                                                                           WHERE b.oid = t.typbasetype)) END AS collation,
                                     CASE WHEN t.typtype = 'd'
                                          THEN (SELECT pg_catalog.jsonb_object_agg(k.conname, pg_catalog.jsonb_build_object(
                                                           'definition', pg_catalog.pg_get_constraintdef(k.oid),
                                                           'validated', k.convalidated))
                                                  FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid) END AS constraints,
                                     CASE WHEN t.typtype = 'r' THEN (SELECT pg_catalog.jsonb_build_object(
                                          'subtype', pg_catalog.format_type(rg.rngsubtype, NULL),
                                          'subtype_opclass', rg.rngsubopc::pg_catalog.regclass::text,
                                          'canonical', nullif(rg.rngcanonical, 0)::pg_catalog.regprocedure::text,
                                          'subtype_diff', nullif(rg.rngsubdiff, 0)::pg_catalog.regprocedure::text)
                                        FROM pg_catalog.pg_range rg WHERE rg.rngtypid = t.oid) END AS range,
                                     CASE WHEN t.typtype = 'b' THEN t.typinput::pg_catalog.regprocedure::text END AS input,
                                     CASE WHEN t.typtype = 'b' THEN t.typoutput::pg_catalog.regprocedure::text END AS output,
                                     pg_catalog.pg_get_userbyid(t.typowner) AS owner,
                                     CASE WHEN t.typacl IS NULL THEN da.acl
                                          ELSE (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((t.typacl)::text[]) a) END AS acl,
                                     t.comment AS comment) j
        UNION ALL
        -- default privileges for objects created later in these schemas
        SELECT pg_catalog.format('default privileges %s %s %s',
                                 pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(da.defaclrole)),
                                 pg_catalog.quote_ident(ns.nspname), da.defaclobjtype),
               pg_catalog.to_jsonb(j)
          FROM pg_catalog.pg_default_acl da JOIN ns ON ns.oid = da.defaclnamespace
          CROSS JOIN LATERAL (SELECT (SELECT pg_catalog.jsonb_agg(a ORDER BY a) FROM pg_catalog.unnest((da.defaclacl)::text[]) a) AS acl) j
        UNION ALL
        -- extensions in use, with versions
        SELECT 'extension ' || pg_catalog.quote_ident(e.extname),
               pg_catalog.to_jsonb(j)
          FROM pg_catalog.pg_extension e
          CROSS JOIN LATERAL (SELECT e.extversion AS version,
                                     (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = e.extnamespace) AS schema) j
         WHERE e.extname <> 'smig'
           AND (schemas IS NULL OR EXISTS (SELECT FROM ns WHERE ns.oid = e.extnamespace))
    )
    SELECT coalesce(pg_catalog.jsonb_object_agg(key, pg_catalog.jsonb_strip_nulls(val)), '{}')
      INTO result
      FROM entries;
    RETURN result;
END
$fn$;
COMMENT ON FUNCTION smig.snapshot(text[]) IS
    'A canonical, OID-free description of the user schemas (default: all but the system ones and smig), one key per object.';

CREATE FUNCTION smig.fingerprint(schemas text[] DEFAULT NULL) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(smig.snapshot(schemas)::text, 'UTF8')), 'hex')
$$;
COMMENT ON FUNCTION smig.fingerprint(text[]) IS
    'SHA-256 (hex) of smig.snapshot(schemas): equal on two databases when their schemas are the same.';

/*---- schema drift, verify and assert_head (issue 14) -----------------------
 * Every action that changes the schema records the fingerprint of the
 * schema after it in its last smig.history row (src/schema.c), and the
 * snapshot itself in smig.schema_snapshot, once per distinct fingerprint.
 * smig.drift() compares the snapshot of the last recorded action with now.
 */
CREATE TABLE smig.schema_snapshot (
    fingerprint text PRIMARY KEY,
    snapshot    jsonb NOT NULL,
    taken_at    timestamptz NOT NULL
);
COMMENT ON TABLE smig.schema_snapshot IS
    'The schema snapshots smig.history''s fingerprints name, one per distinct fingerprint.';
SELECT pg_catalog.pg_extension_config_dump('smig.schema_snapshot', '');

-- The fingerprint smig's code staged for the next history row
-- (src/schema.c): the default of smig.history.fingerprint, so that every
-- writer of history carries it without knowing about it.
CREATE FUNCTION smig._staged_fingerprint() RETURNS text
AS 'MODULE_PATHNAME', 'smig_staged_fingerprint'
LANGUAGE C VOLATILE;
ALTER TABLE smig.history ALTER COLUMN fingerprint SET DEFAULT smig._staged_fingerprint();

-- Called by smig's own code, as the extension owner, at the end of an
-- action: keep the snapshot, return its fingerprint.
CREATE FUNCTION smig._record_schema() RETURNS text
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH s AS (SELECT smig.snapshot() AS snap),
         f AS (SELECT pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(s.snap::text, 'UTF8')), 'hex') AS fp,
                      s.snap
                 FROM s),
         ins AS (INSERT INTO smig.schema_snapshot (fingerprint, snapshot, taken_at)
                 SELECT f.fp, f.snap, pg_catalog.now() FROM f
                 ON CONFLICT (fingerprint) DO NOTHING)
    SELECT f.fp FROM f
$$;

-- The last action that recorded a fingerprint: its history row and snapshot.
CREATE FUNCTION smig._last_schema()
RETURNS TABLE (history_id bigint, recorded_at timestamptz, fingerprint text, snapshot jsonb)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT h.id, h.started_at, h.fingerprint, s.snapshot
      FROM smig.history h
      LEFT JOIN smig.schema_snapshot s ON s.fingerprint = h.fingerprint
     WHERE h.fingerprint IS NOT NULL
     ORDER BY h.id DESC
     LIMIT 1
$$;

CREATE FUNCTION smig.drift()
RETURNS TABLE (object text, change text, before jsonb, after jsonb,
               changed_by name, changed_at timestamptz, statement text)
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    last record;
BEGIN
    SELECT * INTO last FROM smig._last_schema();
    IF last.history_id IS NULL THEN
        RAISE NOTICE 'no schema fingerprint has been recorded yet'
            USING DETAIL = 'smig records one with every upgrade, downgrade and baseline.';
        RETURN;
    END IF;
    IF last.snapshot IS NULL THEN
        RAISE EXCEPTION 'the snapshot of fingerprint % is not in smig.schema_snapshot', last.fingerprint
            USING ERRCODE = 'data_corrupted';
    END IF;
    RETURN QUERY
    WITH now_snap AS (SELECT smig.snapshot() AS snap),
    diff AS (
        SELECT coalesce(b.key, a.key) AS key, b.value AS before, a.value AS after
          FROM jsonb_each(last.snapshot) b
          FULL JOIN jsonb_each((SELECT snap FROM now_snap)) a ON a.key = b.key
         WHERE b.value IS DISTINCT FROM a.value
    ),
    named AS (
        -- the object's own name, and the relation or routine the audit log
        -- names for it (a column's table, a function without its arguments)
        SELECT d.*, m[2] AS name,
               ARRAY(SELECT k FROM jsonb_object_keys(coalesce(d.before, '{}') || coalesce(d.after, '{}')) k
                      WHERE d.before -> k IS DISTINCT FROM d.after -> k) AS fields,
               CASE WHEN m[1] IN ('column', 'constraint', 'trigger', 'rule', 'policy')
                    THEN regexp_replace(m[2], '\.[^.]+$', '')
                    WHEN m[1] IN ('function', 'procedure', 'aggregate')
                    THEN split_part(m[2], '(', 1)
                    ELSE m[2] END AS logged_as
          FROM diff d,
               regexp_match(d.key, '^(schema|table|partitioned table|foreign table|view|materialized view|column|constraint|index|sequence|trigger|rule|policy|statistics|function|procedure|aggregate|type|default privileges|extension) (.*)$') AS m
    )
    SELECT n.key,
           CASE WHEN n.before IS NULL THEN 'added'
                WHEN n.after IS NULL THEN 'removed'
                ELSE 'changed' END,
           n.before, n.after, l.role, l.logged_at, l.statement
      FROM named n
      LEFT JOIN LATERAL (
          SELECT g.role, g.logged_at, g.statement
            FROM smig.ddl_log g
           WHERE g.version IS NULL
             AND g.logged_at >= last.recorded_at
             AND g.event <> 'trim'
             AND (g.object_identity IN (n.name, n.logged_as)
                  OR split_part(g.object_identity, '(', 1) = n.logged_as)
           -- the object itself first (COMMENT ON COLUMN names the column),
           -- then what alters its table rather than comments or grants on it
           -- and a command that changes what changed: a COMMENT for a
           -- comment, GRANT or REVOKE for privileges, anything else otherwise
           ORDER BY g.object_identity = n.name DESC,
                    CASE WHEN g.command_tag = 'COMMENT' THEN 'comment' = ANY (n.fields)
                         WHEN g.command_tag IN ('GRANT', 'REVOKE') THEN 'acl' = ANY (n.fields)
                         ELSE true END DESC,
                    g.id DESC
           LIMIT 1) l ON true
     ORDER BY n.key;
END
$$;
COMMENT ON FUNCTION smig.drift() IS
    'What differs between the schema recorded at the last smig action and now, with the unmanaged DDL that did it where the audit log has it.';

-- "a added, b changed, ... and 3 more": the drift in one line for messages.
CREATE FUNCTION smig._drift_summary() RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT string_agg(d.object || ' ' || d.change, ', ') FILTER (WHERE d.n <= 10)
           || CASE WHEN count(*) > 10 THEN pg_catalog.format(' and %s more', count(*) - 10) ELSE '' END
      FROM (SELECT x.object, x.change, row_number() OVER (ORDER BY x.object) AS n
              FROM smig.drift() x) d
    HAVING count(*) > 0
$$;

CREATE FUNCTION smig.verify() RETURNS text

LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
    drifted text;
    last record;
    napplied bigint;
BEGIN
    SELECT string_agg(pg_catalog.format('%s (%s): %s', v.version, v.name, v.problem), ', ')
      INTO bad FROM smig.verify_checksum() v;
    SELECT * INTO last FROM smig._last_schema();
    IF last.snapshot IS NOT NULL AND smig.fingerprint() <> last.fingerprint THEN
        drifted := smig._drift_summary();
    END IF;
    IF bad IS NOT NULL OR drifted IS NOT NULL THEN
        RAISE EXCEPTION 'smig verification failed'
            USING ERRCODE = 'SM001',
                  DETAIL = concat_ws(E'\n',
                                     'Migrations whose applied text differs from the registry: ' || bad || '.',
                                     'Schema changed since the last smig action: ' || drifted || '.'),
                  HINT = CASE WHEN bad IS NOT NULL
                              THEN 'Restore the edited migrations, or accept them with SELECT smig.repair(version); SELECT * FROM smig.drift() lists schema changes.'
                              ELSE 'SELECT * FROM smig.drift() lists what changed and who did it.' END;
    END IF;
    SELECT count(*) INTO napplied FROM smig.applied;
    RETURN pg_catalog.format('ok: %s applied, current version %s, %s',
                             napplied, coalesce(smig.current(), 'none'),
                             CASE WHEN last.fingerprint IS NULL
                                  THEN 'no schema fingerprint recorded yet'
                                  ELSE 'schema as recorded by the last action (fingerprint '
                                       || left(last.fingerprint, 12) || ')' END);
END
$$;
COMMENT ON FUNCTION smig.verify() IS
    'For CI gates: raises SM001 when applied migrations were edited or are missing, or the schema drifted since the last action; otherwise a one-line summary.';

CREATE FUNCTION smig.assert_head() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    npending bigint;
    first_pending text;
    bad text;
    last record;
    drifted boolean := false;
BEGIN
    SELECT count(*), min(p.version) FILTER (WHERE p.rn = 1)
      INTO npending, first_pending
      FROM (SELECT q.version, row_number() OVER () AS rn FROM smig.pending() q) p;
    SELECT string_agg(pg_catalog.format('%s (%s)', v.version, v.problem), ', ')
      INTO bad FROM smig.verify_checksum() v;
    SELECT * INTO last FROM smig._last_schema();
    IF last.snapshot IS NOT NULL AND smig.fingerprint() <> last.fingerprint THEN
        drifted := true;
    END IF;
    IF npending > 0 THEN
        RAISE EXCEPTION 'database is not at the head migration: % pending, from version %', npending, first_pending
            USING ERRCODE = 'SM002',
                  HINT = 'An operator must run: SELECT * FROM smig.upgrade_head();';
    ELSIF bad IS NOT NULL THEN
        RAISE EXCEPTION 'applied migrations differ from the registry: %', bad
            USING ERRCODE = 'SM002',
                  HINT = 'Restore the migration files, or an operator accepts them with: SELECT * FROM smig.repair();';
    ELSIF drifted THEN
        RAISE EXCEPTION 'schema changed since the last smig action'
            USING ERRCODE = 'SM002',
                  DETAIL = 'Changed: ' || smig._drift_summary() || '.',
                  HINT = 'See what changed and who did it with: SELECT * FROM smig.drift();';
    END IF;
    RETURN pg_catalog.format('at head: version %s', coalesce(smig.current(), 'none'));
END
$$;
COMMENT ON FUNCTION smig.assert_head() IS
    'For applications that must not start on a schema they were not built for: raises SM002 when anything is pending, edited or drifted, with the command to run.';
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
       coalesce(pg_catalog.string_agg(a.grantee::pg_catalog.text, ','), ''), true)
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
        EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION smig.repair() TO %s', g::pg_catalog.oid::pg_catalog.regrole);
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
               checksum text, has_down boolean, down_checksum text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT u.version, u.name, u.state, u.applied_at, u.applied_by, u.run_as,
           u.checksum, u.has_down, u.down_checksum
      FROM (SELECT s.version_key, NULL::text AS repeatable, s.version, s.name,
                   s.state, s.applied_at, s.applied_by, s.run_as,
                   coalesce(s.registered_checksum, s.applied_checksum) AS checksum,
                   s.has_down,
                   CASE WHEN s.registered_checksum IS NULL THEN s.applied_down_checksum
                        ELSE s.registered_down_checksum END AS down_checksum
              FROM smig._state() s
            UNION ALL
            SELECT NULL, r.name, r.version, r.name, r.state, r.applied_at,
                   r.applied_by, r.run_as, r.registered_checksum, false, NULL
              FROM smig._repeatable_state() r) u
     ORDER BY u.version_key COLLATE "C" NULLS LAST, u.repeatable COLLATE "C"
$$;
COMMENT ON FUNCTION smig.status() IS
    'One row per known version: its state (applied, pending, modified, down-modified, missing, out-of-order, baselined, outdated), the role it runs as, the checksums of its up and down scripts and whether it has a down script; then the repeatable migrations (pending, applied, outdated).';

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
       x.detail, x.ddl_log_id, x.action
  FROM (SELECT DISTINCT ON (h.id, d.event, d.command_tag, d.object_type,
                            d.object_identity, d.statement)
               h.id AS history_id, h.version, h.name, h.started_at AS applied_at,
               h.role AS applied_by,
               CASE WHEN d.event = 'sql_drop' THEN 'dropped'
                    WHEN d.event = 'table_rewrite' THEN 'rewrote'
                    WHEN d.command_tag LIKE 'CREATE%' THEN 'created'
                    ELSE 'altered' END AS change,
               d.command_tag, d.object_type, d.object_identity, d.schema_name,
               d.detail, d.id AS ddl_log_id, h.action
          FROM smig.history h
          JOIN smig.ddl_log d ON d.txid = h.txid AND d.version = h.version
         WHERE h.action IN ('apply', 'baseline', 'revert')
           AND d.logged_at >= h.started_at
           AND NOT EXISTS (SELECT FROM smig.history n
                            WHERE n.txid = h.txid AND n.version = h.version
                              AND n.action IN ('apply', 'baseline', 'revert')
                              AND n.id > h.id AND n.started_at <= d.logged_at)
           AND NOT (d.event = 'sql_drop' AND d.object_type = 'rule'
                    AND d.object_identity LIKE '"\_RETURN" on %')
         ORDER BY h.id, d.event, d.command_tag, d.object_type,
                  d.object_identity, d.statement, d.id) x
 ORDER BY x.history_id, x.ddl_log_id;
COMMENT ON VIEW smig.migration_ddl IS
    'Per applied migration, the objects it created, altered, dropped or rewrote: each once per statement.';

/*---- adopting a database another tool managed (issue 17) --------------------
 * smig.adopt() reads the history table of another migration tool, records
 * each entry it says is applied as an 'import' row of smig.history (the
 * tool, its version and name, when, by whom, its checksum where it kept
 * one), and baselines smig at the tool's current version (src/adopt.c).
 * smig._adopt_source() finds and checks the tool's table (catalogs only),
 * and smig._adopt_query() gives the query that reads it, which adopt()
 * runs as the caller: reading it needs the caller's own SELECT right.
 */
ALTER TABLE smig.history
    ADD COLUMN imported_from text,
    ADD COLUMN imported_by text;
COMMENT ON COLUMN smig.history.imported_from IS
    'For an import row (smig.adopt): the tool whose history it came from (its table is in detail).';
COMMENT ON COLUMN smig.history.imported_by IS
    'For an import row (smig.adopt): who applied it, as that tool recorded (NULL where it records no one).';
ALTER TABLE smig.history DROP CONSTRAINT history_action_check;
ALTER TABLE smig.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'baseline', 'repair', 'revert', 'failed', 'import'));

-- The tools smig.adopt() reads: name, default table, the columns that
-- identify its table, and columns it must not have (tables of the same
-- name that other tools make).
CREATE FUNCTION smig._adopt_tools()
RETURNS TABLE (tool text, default_table text, needs text[], lacks text[])
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    VALUES ('flyway', 'public.flyway_schema_history',
            ARRAY['installed_rank', 'version', 'description', 'type', 'script', 'checksum',
                  'installed_by', 'installed_on', 'success'], ARRAY[]::text[]),
           ('liquibase', 'public.databasechangelog',
            ARRAY['id', 'author', 'filename', 'dateexecuted', 'orderexecuted', 'exectype', 'md5sum'],
            ARRAY[]::text[]),
           ('alembic', 'public.alembic_version', ARRAY['version_num'], ARRAY[]::text[]),
           ('golang-migrate', 'public.schema_migrations', ARRAY['version', 'dirty'], ARRAY[]::text[]),
           ('dbmate', 'public.schema_migrations', ARRAY['version'], ARRAY['dirty', 'name', 'applied_at']),
           ('goose', 'public.goose_db_version', ARRAY['id', 'version_id', 'is_applied', 'tstamp'],
            ARRAY[]::text[]),
           ('sqitch', 'sqitch.changes',
            ARRAY['change_id', 'script_hash', 'change', 'project', 'committed_at', 'committer_name',
                  'committer_email'], ARRAY[]::text[]),
           ('prisma', 'public._prisma_migrations',
            ARRAY['id', 'checksum', 'finished_at', 'migration_name', 'rolled_back_at', 'started_at'],
            ARRAY[]::text[]),
           ('node-pg-migrate', 'public.pgmigrations', ARRAY['id', 'name', 'run_on'], ARRAY[]::text[]),
           ('schema_migrations', 'public.schema_migrations', ARRAY['version', 'name', 'applied_at'],
            ARRAY['dirty'])
$$;

-- Which tool and table to adopt from: the ones named (tool NULL: the one
-- tool whose table this database has; tbl NULL: the tool's default table),
-- checked to have that tool's shape.
CREATE FUNCTION smig._adopt_source(tool text, tbl regclass)
RETURNS TABLE (source_tool text, source_table regclass)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    t record;
    cols text[];
    matches text[] := '{}';
    found_tbl regclass;
    missing text;
    extra text;
BEGIN
    IF _adopt_source.tool IS NULL THEN
        FOR t IN SELECT * FROM smig._adopt_tools() ORDER BY 1 LOOP
            found_tbl := coalesce(_adopt_source.tbl, pg_catalog.to_regclass(t.default_table));
            CONTINUE WHEN found_tbl IS NULL;
            SELECT pg_catalog.array_agg(a.attname::text) INTO cols
              FROM pg_catalog.pg_attribute a
             WHERE a.attrelid OPERATOR(pg_catalog.=) found_tbl AND a.attnum OPERATOR(pg_catalog.>) 0
               AND NOT a.attisdropped;
            IF t.needs OPERATOR(pg_catalog.<@) cols AND NOT (t.lacks OPERATOR(pg_catalog.&&) cols) THEN
                matches := matches OPERATOR(pg_catalog.||) t.tool;
            END IF;
        END LOOP;
        IF pg_catalog.cardinality(matches) OPERATOR(pg_catalog.=) 0 THEN
            RAISE EXCEPTION 'found no other migration tool''s history table'
                USING ERRCODE = 'undefined_table',
                      DETAIL = 'smig.adopt() reads the tables of Flyway, Liquibase, Alembic, golang-migrate, dbmate, goose, Sqitch, Prisma, node-pg-migrate and a schema_migrations(version, name, applied_at) table, in their default places.',
                      HINT = 'Name the tool, and its table if it is not in its default place: smig.adopt(''flyway'', history_table => ''app.flyway_schema_history'').';
        ELSIF pg_catalog.cardinality(matches) OPERATOR(pg_catalog.>) 1 THEN
            RAISE EXCEPTION 'found the history tables of more than one migration tool: %',
                    pg_catalog.array_to_string(matches, ', ')
                USING ERRCODE = 'ambiguous_parameter',
                      HINT = 'Name the tool to adopt from: smig.adopt(''' OPERATOR(pg_catalog.||) matches[1] OPERATOR(pg_catalog.||) ''').';
        END IF;
        _adopt_source.tool := matches[1];
    END IF;

    SELECT * INTO t FROM smig._adopt_tools() x WHERE x.tool OPERATOR(pg_catalog.=) _adopt_source.tool;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unrecognized migration tool "%"', _adopt_source.tool
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The tools smig.adopt() reads are: ' OPERATOR(pg_catalog.||)
                         (SELECT pg_catalog.string_agg(x.tool, ', ' ORDER BY x.tool) FROM smig._adopt_tools() x)
                         OPERATOR(pg_catalog.||) '.';
    END IF;
    found_tbl := coalesce(_adopt_source.tbl, pg_catalog.to_regclass(t.default_table));
    IF found_tbl IS NULL THEN
        RAISE EXCEPTION 'relation "%" does not exist', t.default_table
            USING ERRCODE = 'undefined_table',
                  DETAIL = pg_catalog.format('%s keeps its history there by default.', t.tool),
                  HINT = 'If it is elsewhere, name it: history_table => ''schema.table''.';
    END IF;
    SELECT pg_catalog.array_agg(a.attname::text) INTO cols
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) found_tbl AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped;
    SELECT pg_catalog.string_agg(c, ', ') INTO missing FROM pg_catalog.unnest(t.needs) c
     WHERE NOT c OPERATOR(pg_catalog.=) ANY (cols);
    -- read as the caller, who may be a superuser: only an ordinary table
    -- whose columns smig reads have built-in types (a view, or a type of
    -- the table owner's, could run that owner's functions as the caller)
    IF (SELECT c.relkind FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) found_tbl)
       NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '"%" is not a table', found_tbl
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = pg_catalog.format('smig.adopt() reads %s''s history only from an ordinary table.', t.tool);
    END IF;
    SELECT pg_catalog.string_agg(a.attname::text, ', ' ORDER BY a.attnum) INTO extra
      FROM pg_catalog.pg_attribute a
     WHERE a.attrelid OPERATOR(pg_catalog.=) found_tbl AND a.attnum OPERATOR(pg_catalog.>) 0
       AND NOT a.attisdropped AND a.attname::text OPERATOR(pg_catalog.=) ANY (t.needs)
       AND a.atttypid OPERATOR(pg_catalog.>=) 16384;
    IF extra IS NOT NULL THEN
        RAISE EXCEPTION 'table % is not %''s history table', found_tbl, t.tool
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = pg_catalog.format('Its column(s) %s have types of their own, not the built-in types %s writes.', extra, t.tool);
    END IF;
    extra := NULL;
    SELECT pg_catalog.string_agg(c, ', ') INTO extra FROM pg_catalog.unnest(t.lacks) c
     WHERE c OPERATOR(pg_catalog.=) ANY (cols);
    IF missing IS NOT NULL OR extra IS NOT NULL THEN
        RAISE EXCEPTION 'table % is not %''s history table', found_tbl, t.tool
            USING ERRCODE = 'wrong_object_type',
                  DETAIL = CASE WHEN missing IS NOT NULL
                                THEN pg_catalog.format('It lacks the column(s) %s.', missing)
                                ELSE pg_catalog.format('It has the column(s) %s, which %s''s table does not.', extra, t.tool) END,
                  HINT = coalesce((SELECT pg_catalog.format('Its columns are those of %s''s: smig.adopt(%L).', o.tool, o.tool)
                                     FROM smig._adopt_tools() o
                                    WHERE o.tool OPERATOR(pg_catalog.<>) t.tool
                                      AND o.needs OPERATOR(pg_catalog.<@) cols
                                      AND NOT (o.lacks OPERATOR(pg_catalog.&&) cols)
                                    ORDER BY o.tool LIMIT 1),
                                  'Name the right tool, or the right table with history_table.');
    END IF;
    RETURN QUERY SELECT t.tool, found_tbl;
END
$$;

-- The query that reads what the tool's table says is applied now, in the
-- order it was applied: order, version (as the tool writes it), name,
-- when, by whom, the tool's checksum ("kind:value"), and a problem that
-- stops the adoption (a failed last migration, a dirty or unfinished one).
-- adopt() runs it as the caller, with search_path pg_catalog, pg_temp.
CREATE FUNCTION smig._adopt_query(tool text, tbl regclass)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    CASE tool
    WHEN 'flyway' THEN
        -- skipped: failed attempts (but a failed last one stops the
        -- adoption), schema creation markers, undo and delete markers, and
        -- the versions they took back (a repeatable one by its
        -- description, as Flyway marks it deleted)
        RETURN pg_catalog.format($q$
            WITH r AS (SELECT f.*, f.installed_rank = pg_catalog.max(f.installed_rank) OVER () AS is_last
                         FROM %s f)
            SELECT r.installed_rank::bigint,
                   CASE WHEN r.version IS NULL
                        THEN 'R__' || pg_catalog.regexp_replace(r.script, '^(.*/)?R__(.*)\.[a-z]+$', '\2')
                        ELSE r.version::text END,
                   r.description::text, r.installed_on::timestamptz, r.installed_by::text,
                   'crc32:' || r.checksum,
                   CASE WHEN NOT r.success THEN 'it failed' END
              FROM r
             WHERE (r.success OR r.is_last)
               AND r.type NOT IN ('SCHEMA', 'DELETE', 'UNDO_SQL', 'UNDO_JDBC', 'UNDO_SCRIPT')
               AND NOT EXISTS (SELECT FROM r u
                                WHERE u.success
                                  AND (u.version = r.version
                                       OR (u.version IS NULL AND r.version IS NULL
                                           AND u.description = r.description))
                                  AND u.type IN ('DELETE', 'UNDO_SQL', 'UNDO_JDBC', 'UNDO_SCRIPT')
                                  AND u.installed_rank > r.installed_rank
                                  AND NOT EXISTS (SELECT FROM r a
                                                   WHERE a.success
                                                     AND (a.version = r.version
                                                          OR (a.version IS NULL AND r.version IS NULL
                                                              AND a.description = r.description))
                                                     AND a.installed_rank > u.installed_rank
                                                     AND a.type NOT IN ('DELETE', 'UNDO_SQL', 'UNDO_JDBC', 'UNDO_SCRIPT')))
             ORDER BY r.installed_rank$q$, tbl);
    WHEN 'liquibase' THEN
        RETURN pg_catalog.format($q$
            SELECT c.orderexecuted::bigint, c.id::text,
                   c.filename || '::' || c.id || '::' || c.author,
                   c.dateexecuted::timestamptz, NULL::text,
                   'liquibase-md5:' || c.md5sum, NULL::text
              FROM %s c
             WHERE c.exectype IN ('EXECUTED', 'RERAN', 'MARK_RAN')
             ORDER BY c.orderexecuted, c.dateexecuted$q$, tbl);
    WHEN 'alembic' THEN
        RETURN pg_catalog.format($q$
            SELECT pg_catalog.row_number() OVER (ORDER BY a.version_num), a.version_num::text,
                   'alembic head ' || a.version_num, NULL::timestamptz, NULL::text, NULL::text, NULL::text
              FROM %s a$q$, tbl);
    WHEN 'golang-migrate' THEN
        RETURN pg_catalog.format($q$
            SELECT 1::bigint, g.version::text, 'golang-migrate version ' || g.version,
                   NULL::timestamptz, NULL::text, NULL::text,
                   CASE WHEN g.dirty THEN 'it is marked dirty: it failed half-way, and golang-migrate needs "force" after a manual fix' END
              FROM %s g$q$, tbl);
    WHEN 'dbmate' THEN
        RETURN pg_catalog.format($q$
            SELECT pg_catalog.row_number() OVER (ORDER BY d.version), d.version::text,
                   'dbmate migration ' || d.version, NULL::timestamptz, NULL::text, NULL::text, NULL::text
              FROM %s d$q$, tbl);
    WHEN 'goose' THEN
        -- each version's last row says whether it is applied; 0 is goose's
        -- own marker
        RETURN pg_catalog.format($q$
            SELECT l.id::bigint, l.version_id::text, 'goose migration ' || l.version_id,
                   l.tstamp::timestamptz, NULL::text, NULL::text, NULL::text
              FROM (SELECT DISTINCT ON (g.version_id) g.* FROM %s g
                     ORDER BY g.version_id, g.id DESC) l
             WHERE l.is_applied AND l.version_id <> 0
             ORDER BY l.id$q$, tbl);
    WHEN 'sqitch' THEN
        -- a registry Sqitch upgraded from before 1.0 holds the change id
        -- as the script hash until Sqitch computes it: no checksum then
        RETURN pg_catalog.format($q$
            SELECT pg_catalog.row_number() OVER (ORDER BY s.committed_at, s.change_id),
                   s.change::text, s.project || ':' || s.change, s.committed_at::timestamptz,
                   s.committer_name || ' <' || s.committer_email || '>',
                   CASE WHEN s.script_hash <> s.change_id THEN 'sha1:' || s.script_hash END,
                   NULL::text
              FROM %s s
             ORDER BY s.committed_at, s.change_id$q$, tbl);
    WHEN 'prisma' THEN
        RETURN pg_catalog.format($q$
            SELECT pg_catalog.row_number() OVER (ORDER BY p.started_at, p.migration_name),
                   coalesce(pg_catalog.substring(p.migration_name, '^([0-9]+)_.'), p.migration_name::text),
                   coalesce(pg_catalog.substring(p.migration_name, '^[0-9]+_(.+)$'), p.migration_name::text),
                   p.finished_at::timestamptz, NULL::text, 'sha256:' || p.checksum,
                   CASE WHEN p.finished_at IS NULL THEN 'it did not finish: it failed or is still running (prisma migrate resolve)' END
              FROM %s p
             WHERE p.rolled_back_at IS NULL
             ORDER BY p.started_at, p.migration_name$q$, tbl);
    WHEN 'node-pg-migrate' THEN
        RETURN pg_catalog.format($q$
            SELECT n.id::bigint,
                   coalesce(pg_catalog.substring(n.name, '^([0-9]+)[_-].'), n.name::text),
                   coalesce(pg_catalog.substring(n.name, '^[0-9]+[_-](.+)$'), n.name::text),
                   n.run_on::timestamptz, NULL::text, NULL::text, NULL::text
              FROM %s n
             ORDER BY n.id$q$, tbl);
    WHEN 'schema_migrations' THEN
        RETURN pg_catalog.format($q$
            SELECT pg_catalog.row_number() OVER (ORDER BY s.applied_at, s.version),
                   s.version::text, s.name::text, s.applied_at::timestamptz,
                   NULL::text, NULL::text, NULL::text
              FROM %s s
             ORDER BY s.applied_at, s.version$q$, tbl);
    END CASE;
END
$$;

CREATE FUNCTION smig.adopt(source text DEFAULT NULL, baseline text DEFAULT NULL,
                           history_table regclass DEFAULT NULL)
RETURNS TABLE (tool text, version text, name text, applied_at timestamptz, applied_by text)
AS 'MODULE_PATHNAME', 'smig_adopt'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.adopt(text, text, regclass) IS
    'Take over a database another migration tool managed: import its history into smig.history and baseline at its current version.';

-- The checksum another tool would have recorded for a script, in the form
-- of the one it recorded ("kind:value"; src/adopt.c).
CREATE FUNCTION smig._foreign_checksum(recorded text, script text) RETURNS text
AS 'MODULE_PATHNAME', 'smig_foreign_checksum'
LANGUAGE C IMMUTABLE;

-- Are the files registered now the ones the other tool applied?  One row
-- per imported migration with a recorded checksum that the registered text
-- does not give, or that is not registered (matched by version, or for a
-- tool without versions by name); checksums smig does not compute
-- (Liquibase's before its checksum version 9) are listed as not checked.
CREATE FUNCTION smig.verify_adopted()
RETURNS TABLE (version text, name text, tool text, problem text,
               recorded_checksum text, registered_checksum text)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH imports AS (
        SELECT DISTINCT ON (coalesce(h.version_key, h.version)) h.*
          FROM smig.history h
         WHERE h.action OPERATOR(pg_catalog.=) 'import' AND h.checksum IS NOT NULL
         ORDER BY coalesce(h.version_key, h.version), h.id DESC),
    f AS (
        SELECT i.id, i.version, i.name, i.imported_from, i.checksum AS recorded,
               coalesce(m.up_sql, r.up_sql) AS script,
               (m.version_key IS NOT NULL OR r.name IS NOT NULL) AS registered
          FROM imports i
          -- by version; a tool without versions (Sqitch) by the migration's name
          LEFT JOIN smig.migration m
                 ON m.version_key OPERATOR(pg_catalog.=) i.version_key
                 OR (i.version_key IS NULL AND i.version NOT LIKE 'R\_\_%'
                     AND m.name OPERATOR(pg_catalog.=) i.version)
          LEFT JOIN smig.repeatable r
                 ON i.version_key IS NULL AND 'R__' OPERATOR(pg_catalog.||) r.name OPERATOR(pg_catalog.=) i.version),
    c AS (
        SELECT f.*, smig._foreign_checksum(f.recorded, f.script) AS computed
          FROM f)
    SELECT c.version, c.name, c.imported_from,
           CASE WHEN NOT c.registered THEN 'not registered'
                WHEN c.computed IS NULL THEN 'not checked'
                ELSE 'differs' END,
           c.recorded, c.computed
      FROM c
     WHERE NOT c.registered OR c.computed IS DISTINCT FROM c.recorded
     ORDER BY c.id
$$;
COMMENT ON FUNCTION smig.verify_adopted() IS
    'Imported migrations whose registered file is not the one the other tool applied (its checksum differs), or is not registered.';

/*---- backfills (issue 18) -----------------------------------------------------
 * CALL smig.backfill() updates a large table in batches, a commit per
 * batch (src/backfill.c).  smig.backfill holds each backfill's arguments
 * and where it is, committed with each batch, so that a backfill stopped
 * by a crash or a cancel resumes after its last batch; a finished one is
 * recorded in smig.history (action 'backfill').
 */
CREATE TABLE smig.backfill (
    name        text PRIMARY KEY,
    relation    regclass NOT NULL,
    set_sql     text NOT NULL,
    where_sql   text,
    key_columns text[] NOT NULL,
    upper_key   text[],
    last_key    text[],
    rows_done   bigint NOT NULL DEFAULT 0,
    batches     bigint NOT NULL DEFAULT 0,
    started_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    started_by  name NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    finished_at timestamptz
);
COMMENT ON TABLE smig.backfill IS
    'Each backfill (CALL smig.backfill()): its arguments, the key it goes by, the highest key when it started, the last key done, counts and times.';
SELECT pg_catalog.pg_extension_config_dump('smig.backfill', '');
ALTER TABLE smig.history DROP CONSTRAINT history_action_check;
ALTER TABLE smig.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'baseline', 'repair', 'revert', 'failed', 'import', 'backfill'));

CREATE PROCEDURE smig.backfill(name text, tbl regclass, set_sql text,
                               where_sql text DEFAULT NULL,
                               batch_size integer DEFAULT 1000,
                               pause interval DEFAULT '0')
AS 'MODULE_PATHNAME', 'smig_backfill'
LANGUAGE C;
COMMENT ON PROCEDURE smig.backfill(text, regclass, text, text, integer, interval) IS
    'Update a table in batches of batch_size rows in key order (UPDATE tbl SET set_sql WHERE where_sql), committing after each; resumable by name.';
-- (REVOKE ... ON ALL FUNCTIONS does not cover procedures)
REVOKE ALL ON PROCEDURE smig.backfill(text, regclass, text, text, integer, interval) FROM PUBLIC;
/*---- plan, rehearse and the destructive-change gate (issue 14) -------------
 * The gate (smig.destructive, src/effects.c) needs no SQL object: the
 * audit triggers judge; a migration declares with "-- smig:destructive"
 * or the option {"destructive": true}.
 */

-- What upgrade_head() would run, in its order, each with a header naming
-- it; reads the registry only, so it works on a standby.
CREATE FUNCTION smig.plan()
RETURNS TABLE (step integer, version text, name text, kind text,
               state text, run_as name, transactional boolean,
               destructive boolean, sql text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT (row_number() OVER (ORDER BY w.version_key COLLATE "C" NULLS LAST,
                                        w.rname COLLATE "C"))::integer,
           w.version, w.name, w.kind, w.state, w.run_as,
           coalesce((w.options ->> 'transactional')::boolean, true),
           coalesce((w.options ->> 'destructive')::boolean, false),
           CASE WHEN w.kind = 'repeatable'
                THEN format(E'-- smig: repeatable migration "%s" (%s), runs as role "%s"\n',
                            w.name, w.state, w.run_as)
                ELSE format(E'-- smig: migration "%s" ("%s") (%s), runs as role "%s"\n',
                            w.version, w.name, w.state, w.run_as)
           END || w.up_sql
      FROM (SELECT s.version_key, NULL::text AS rname, s.version, s.name,
                   'versioned'::text AS kind, s.state, m.run_as, m.options, m.up_sql
              FROM smig._state() s
              JOIN smig.migration m ON m.version_key = s.version_key
             WHERE s.state IN ('pending', 'out-of-order', 'outdated')
            UNION ALL
            SELECT NULL, r.name, r.version, r.name, 'repeatable', r.state,
                   g.run_as, g.options, g.up_sql
              FROM smig._repeatable_state() r
              JOIN smig.repeatable g ON g.name = r.name
             WHERE r.state IN ('pending', 'outdated')) w
     ORDER BY 1
$$;
COMMENT ON FUNCTION smig.plan() IS
    'What upgrade_head() would run, in order: each pending migration with its kind, state, run-as role, whether it runs in a transaction and declares destructive changes, and its SQL under a header naming it. Read-only.';

CREATE FUNCTION smig.rehearse(lock_timeout text DEFAULT '1s')
RETURNS TABLE (step integer, version text, name text, kind text,
               run_as text, declared_destructive boolean,
               classification text, reasons text[], hazards text[],
               created text[], altered text[], dropped text[],
               rewritten text[], locks text[], scans text[],
               scanned jsonb,
               duration interval, error text, sqlstate text)
AS 'MODULE_PATHNAME', 'smig_rehearse'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.rehearse(text) IS
    'Run every pending migration inside a subtransaction that is always rolled back; per migration, what it created, altered, dropped and rewrote, the locks it took on existing tables, what its statements read in full (scans) and the full reads measured by the backend''s own table statistics (scanned), its duration and error, whether it is additive or destructive and why, and its hazards.';

/*---- smig.progress: what a deploy is doing, seen from another session ----
 * The runner reports each statement as its backend's activity (progress.c);
 * this view reads those lines back for the backends that hold the deploy
 * lock (an object lock on smig's pg_extension row, sub-id 1; a query text
 * alone proves nothing), with the sessions waiting for that lock and the
 * background worker of a no-transaction migration.  pg_stat_activity
 * shows a query only to its own role and to pg_read_all_stats: so does
 * this view.
 */
CREATE VIEW smig.progress AS
SELECT a.pid,
       a.usename AS role,
       m[1] AS action,
       m[2] AS version,
       pg_catalog.replace(m[3], '""', '"') AS name,
       m[4]::pg_catalog.int4 AS step,
       m[5]::pg_catalog.int4 AS steps,
       a.query_start AS call_started,
       m[6]::pg_catalog.timestamptz AS migration_started,
       m[7]::pg_catalog.int4 AS line,
       CASE WHEN m[7] IS NOT NULL THEN m[8] ELSE w.query END AS statement,
       w.pid AS worker_pid,
       COALESCE(w.wait_event_type, a.wait_event_type) AS wait_event_type,
       COALESCE(w.wait_event, a.wait_event) AS wait_event,
       ARRAY(SELECT q.pid FROM pg_catalog.pg_locks q
              WHERE q.locktype OPERATOR(pg_catalog.=) l.locktype
                AND q.database OPERATOR(pg_catalog.=) l.database
                AND q.classid OPERATOR(pg_catalog.=) l.classid
                AND q.objid OPERATOR(pg_catalog.=) l.objid
                AND q.objsubid OPERATOR(pg_catalog.=) l.objsubid
                AND NOT q.granted
              ORDER BY q.pid) AS waiting_pids
  FROM pg_catalog.pg_locks l
  JOIN pg_catalog.pg_stat_activity a ON a.pid OPERATOR(pg_catalog.=) l.pid
  LEFT JOIN LATERAL pg_catalog.regexp_match(a.query,
       '^smig: (applying|reverting) (\S+) "((?:[^"]|"")*)"(?: \((\d+) of (\d+)\))? since ([^,]+), (?:line (\d+): (.*)|in a background worker)$') m ON true
  LEFT JOIN pg_catalog.pg_stat_activity w
         ON w.leader_pid OPERATOR(pg_catalog.=) a.pid
        AND w.pid OPERATOR(pg_catalog.<>) a.pid
        AND w.backend_type OPERATOR(pg_catalog.=) 'smig worker'
 WHERE l.locktype OPERATOR(pg_catalog.=) 'object'
   AND l.database OPERATOR(pg_catalog.=)
       (SELECT d.oid FROM pg_catalog.pg_database d
         WHERE d.datname OPERATOR(pg_catalog.=) pg_catalog.current_database())
   AND l.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
   AND l.objid OPERATOR(pg_catalog.=)
       (SELECT x.oid FROM pg_catalog.pg_extension x
         WHERE x.extname OPERATOR(pg_catalog.=) 'smig')
   AND l.objsubid OPERATOR(pg_catalog.=) 1
   AND l.granted;
COMMENT ON VIEW smig.progress IS
    'The deploy running now, if any: who, which migration (k of n) since when, which statement at which line, its background worker, and the sessions waiting for the deploy lock.';

/*---- privileges (keep this section last) -----------------------------------
 * CREATE FUNCTION grants EXECUTE to PUBLIC; nothing of smig's is for PUBLIC.
 * Only smig's own objects: schema smig of a database being updated may
 * hold others' (an extension created in it, say pg_stat_statements, whose
 * views PUBLIC may read), and "ALL ... IN SCHEMA smig" revoked those too.
 */
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT d.classid, d.objid,
                    (SELECT c.relkind FROM pg_catalog.pg_class c
                      WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                        AND c.oid OPERATOR(pg_catalog.=) d.objid) AS relkind
               FROM pg_catalog.pg_depend d
              WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                AND d.refobjid OPERATOR(pg_catalog.=)
                    (SELECT x.oid FROM pg_catalog.pg_extension x
                      WHERE x.extname OPERATOR(pg_catalog.=) 'smig')
                AND d.deptype OPERATOR(pg_catalog.=) 'e'
              ORDER BY d.classid, d.objid
    LOOP
        IF r.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON ROUTINE %s FROM PUBLIC',
                                      r.objid::pg_catalog.regprocedure);
        ELSIF r.relkind OPERATOR(pg_catalog.=) 'S' THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON SEQUENCE %s FROM PUBLIC',
                                      r.objid::pg_catalog.regclass);
        ELSIF r.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'm', 'f']::"char"[]) THEN
            EXECUTE pg_catalog.format('REVOKE ALL ON TABLE %s FROM PUBLIC',
                                      r.objid::pg_catalog.regclass);
        END IF;
    END LOOP;
END
$$;

/*---- the start-up check in one round trip (issue 11) ------------------------
 * load_dir()'s stat cache (src/loaddir.c) and the checksum-only elements
 * of register_many() (src/registry.c, "bulk registration").
 */

-- What each registration was made from: the checksums (smig.checksum) of
-- the up and down texts as given, before sections were split, the explicit
-- options, and whether it was a baseline file.  register_many() compares
-- a checksum-only element with it.  NULL: registered before it was kept
-- (the next registration of the same text records it).
ALTER TABLE smig.migration ADD COLUMN source jsonb;
COMMENT ON COLUMN smig.migration.source IS
    'What the registration was made from: {"checksum", "down_checksum", "options", "baseline"} of the texts as given; compared with checksum-only elements of smig.register_many().';

-- load_dir()'s stat cache: per directory (as the server resolved it) and
-- registrant, each file's stat when it was last read, when that read
-- began, and the SHA-256 of its bytes (files: a binary array, see
-- src/loaddir.c); registry_gen is the registry generation the pass left
-- (-1: none that a later call can trust).  Written only by smig's code;
-- not dumped (a restored database reads every file once).
CREATE TABLE smig.load_dir_cache (
    dir           text COLLATE "C" NOT NULL,
    registered_by name NOT NULL,
    synced        boolean NOT NULL,
    registry_gen  bigint NOT NULL,
    files         bytea NOT NULL,
    PRIMARY KEY (dir, registered_by)
);
ALTER TABLE smig.load_dir_cache ALTER COLUMN files SET STORAGE EXTERNAL;
COMMENT ON TABLE smig.load_dir_cache IS
    'smig.load_dir()''s stat cache: which files it need not open again (src/loaddir.c).';
REVOKE ALL ON TABLE smig.load_dir_cache FROM PUBLIC;

CREATE FUNCTION smig._load_dir_reads() RETURNS integer
AS 'MODULE_PATHNAME', 'smig_load_dir_reads'
LANGUAGE C STABLE;
COMMENT ON FUNCTION smig._load_dir_reads() IS
    'How many files the last smig.load_dir() call of this session opened (NULL before any); for tests of the stat cache.';
REVOKE ALL ON FUNCTION smig._load_dir_reads() FROM PUBLIC;

-- GRANT and REVOKE in an extension script are recorded as the objects'
-- initial privileges (pg_init_privs), and pg_dump leaves initial privileges
-- out.  So the grants this script carries over to re-created functions, and
-- those the REVOKEs above find on 0.1's objects, would be dumped by no one,
-- and a dump restored into a new database would lose them.  They are the
-- grantees', not smig's: keep only the owner's entries as initial, as a new
-- install has them.  Only smig's own objects: another extension created in
-- schema smig keeps its initial privileges (else a grant it makes, revoked
-- later, would come back with a dump and restore).
UPDATE pg_catalog.pg_init_privs i
   SET initprivs = ARRAY(SELECT e FROM pg_catalog.unnest(i.initprivs) e
                          WHERE (SELECT pg_catalog.bool_and(x.grantee OPERATOR(pg_catalog.=) o.owner)
                                   FROM pg_catalog.aclexplode(ARRAY[e]) x))
  FROM (SELECT p.oid, 'pg_catalog.pg_proc'::pg_catalog.regclass AS classoid, p.proowner AS owner
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace OPERATOR(pg_catalog.=) 'smig'::pg_catalog.regnamespace
        UNION ALL
        SELECT c.oid, 'pg_catalog.pg_class'::pg_catalog.regclass, c.relowner
          FROM pg_catalog.pg_class c
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'smig'::pg_catalog.regnamespace) o
 WHERE i.objoid OPERATOR(pg_catalog.=) o.oid
   AND i.classoid OPERATOR(pg_catalog.=) o.classoid
   AND i.privtype OPERATOR(pg_catalog.=) 'e'
   AND EXISTS (SELECT FROM pg_catalog.pg_depend d
                WHERE d.classid OPERATOR(pg_catalog.=) o.classoid
                  AND d.objid OPERATOR(pg_catalog.=) o.oid
                  AND d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_extension'::pg_catalog.regclass
                  AND d.refobjid OPERATOR(pg_catalog.=)
                      (SELECT x.oid FROM pg_catalog.pg_extension x
                        WHERE x.extname OPERATOR(pg_catalog.=) 'smig')
                  AND d.deptype OPERATOR(pg_catalog.=) 'e')
   AND EXISTS (SELECT FROM pg_catalog.unnest(i.initprivs) e, pg_catalog.aclexplode(ARRAY[e]) x
                WHERE x.grantee OPERATOR(pg_catalog.<>) o.owner);
