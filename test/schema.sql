-- pgTAP: schema-level properties of the smig extension.
-- Run with pg_prove (tools/test.sh does); everything rolls back.
\set ON_ERROR_STOP 1
\set QUIET 1
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION smig;

SET client_min_messages = warning;
SELECT plan(69);

SELECT has_schema('smig');
SELECT tables_are('smig', ARRAY['migration', 'applied', 'history', 'summary', 'ddl_log',
                               'repeatable', 'repeatable_applied', 'schema_snapshot', 'backfill',
                               'load_dir_cache']);
SELECT sequences_are('smig', ARRAY['history_id_seq', 'ddl_log_id_seq']);

-- registry
SELECT col_is_pk('smig', 'migration', 'version_key', 'migration is keyed by the version sort key');
SELECT col_type_is('smig', 'migration', 'version', 'text', 'migration.version is text');
SELECT col_type_is('smig', 'migration', 'up_sql', 'text', 'migration.up_sql is text');
SELECT col_not_null('smig', 'migration', 'up_sql', 'migration.up_sql is required');
SELECT col_is_null('smig', 'migration', 'down_sql', 'migration.down_sql is optional');
SELECT col_type_is('smig', 'migration', 'checksum', 'text', 'migration.checksum is text');
SELECT col_type_is('smig', 'migration', 'options', 'jsonb', 'migration.options is jsonb');
SELECT col_type_is('smig', 'migration', 'registered_at', 'timestamp with time zone', 'migration.registered_at is timestamptz');

-- backfills
SELECT col_is_pk('smig', 'backfill', 'name', 'a backfill is keyed by its name');

-- repeatable migrations
SELECT col_is_pk('smig', 'repeatable', 'name', 'a repeatable migration is keyed by its name');
SELECT col_is_pk('smig', 'repeatable_applied', 'name', 'repeatable_applied is keyed by the name');
SELECT col_is_null('smig', 'history', 'version_key', 'history.version_key is NULL for a repeatable migration');

-- applied
SELECT col_is_pk('smig', 'applied', 'version_key', 'applied is keyed by the version sort key');
SELECT col_has_check('smig', 'applied', 'kind', 'applied.kind is checked');

-- history
SELECT col_is_pk('smig', 'history', 'id', 'history has a bigint key');
SELECT col_type_is('smig', 'history', 'id', 'bigint', 'history.id is bigint');
SELECT col_type_is('smig', 'history', 'txid', 'xid8', 'history.txid is xid8');
SELECT col_type_is('smig', 'history', 'duration', 'interval', 'history.duration is an interval');
SELECT col_type_is('smig', 'history', 'role', 'name', 'history.role is a name');
SELECT col_type_is('smig', 'history', 'session_role', 'name', 'history.session_role is a name');
SELECT col_has_check('smig', 'history', 'action', 'history.action is checked');
SELECT has_index('smig', 'history', 'history_version_key_idx', 'history is indexed by version');
SELECT has_trigger('smig', 'history', 'history_append_only', 'history refuses UPDATE and DELETE');
SELECT has_trigger('smig', 'history', 'history_no_truncate', 'history refuses TRUNCATE');
SELECT lives_ok($$SELECT smig.baseline('1')$$, 'a baseline writes a history row');
SELECT throws_ok($$UPDATE smig.history SET name = 'x'$$, '42501', NULL, 'UPDATE on history is refused');
SELECT throws_ok($$DELETE FROM smig.history$$, '42501', NULL, 'DELETE on history is refused');
SELECT throws_ok($$TRUNCATE smig.history$$, '42501', NULL, 'TRUNCATE on history is refused');

-- the audit trail
SELECT col_type_is('smig', 'ddl_log', 'txid', 'xid8', 'ddl_log.txid is xid8');
SELECT col_type_is('smig', 'ddl_log', 'logged_at', 'timestamp with time zone', 'ddl_log.logged_at is timestamptz');
SELECT col_is_null('smig', 'ddl_log', 'version', 'ddl_log.version is NULL for unmanaged DDL');
SELECT col_not_null('smig', 'ddl_log', 'role', 'ddl_log.role is always recorded');
SELECT has_index('smig', 'ddl_log', 'ddl_log_object_identity_idx', 'ddl_log is indexed by object, for "who changed X"');
SELECT has_index('smig', 'ddl_log', 'ddl_log_relation_idx', 'ddl_log is indexed by the table an object belongs to');
SELECT has_trigger('smig', 'ddl_log', 'ddl_log_append_only', 'ddl_log refuses UPDATE and DELETE');
SELECT has_trigger('smig', 'ddl_log', 'ddl_log_no_truncate', 'ddl_log refuses TRUNCATE');
SELECT set_eq($$SELECT evtevent::text FROM pg_event_trigger WHERE evtname LIKE 'smig\_%'$$,
              ARRAY['ddl_command_start', 'ddl_command_end', 'sql_drop', 'table_rewrite'],
              'event triggers on ddl_command_start (the guard), ddl_command_end, sql_drop and table_rewrite');
SELECT has_view('smig', 'migration_ddl', 'migration_ddl links history to the DDL it ran');
SELECT has_view('smig', 'progress', 'progress shows the deploy running now');
SELECT has_function('smig', 'trim_ddl_log', ARRAY['timestamp with time zone']);
SELECT lives_ok($$CREATE TABLE public.pgtap_probe (id int)$$, 'DDL is logged');
SELECT results_eq($$SELECT object_identity, version FROM smig.ddl_log WHERE object_identity = 'public.pgtap_probe'$$,
                  $$VALUES ('public.pgtap_probe', NULL::text)$$, 'unmanaged DDL has no version');

-- the API
SELECT has_function('smig', 'register', ARRAY['text', 'text', 'text', 'text', 'jsonb']);
SELECT has_function('smig', 'load_dir', ARRAY['text', 'boolean']);
SELECT has_function('smig', 'register_many', ARRAY['jsonb', 'boolean']);
SELECT has_function('smig', 'register_repeatable', ARRAY['text', 'text', 'jsonb']);
SELECT has_function('smig', 'upgrade_head', ARRAY[]::text[]);
SELECT has_function('smig', 'upgrade_to', ARRAY['text']);
SELECT has_function('smig', 'apply', ARRAY['text']);
SELECT has_function('smig', 'baseline', ARRAY['text', 'text']);
SELECT has_function('smig', 'repair', ARRAY[]::text[]);
SELECT has_function('smig', 'rollback', ARRAY['integer']);
SELECT has_function('smig', 'downgrade', ARRAY['text']);
SELECT isnt_definer('smig', 'rollback', ARRAY['integer'], 'rollback() runs down scripts as their role, not as the owner');
SELECT col_type_is('smig', 'history', 'down_checksum', 'text', 'history.down_checksum is text');
SELECT has_function('smig', 'verify_checksum', ARRAY[]::text[]);
SELECT function_returns('smig', 'current', ARRAY[]::text[], 'text');
SELECT is_definer('smig', 'status', ARRAY[]::text[], 'status() reads smig''s tables as their owner');
SELECT is_definer('smig', 'pending', ARRAY[]::text[], 'pending() reads smig''s tables as their owner');
SELECT isnt_definer('smig', 'upgrade_head', ARRAY[]::text[], 'upgrade_head() runs migrations as the caller');

-- privileges: nothing for PUBLIC (grantee 0 in an ACL)
SELECT is((SELECT count(*) FROM pg_namespace n,
                  aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
            WHERE n.nspname = 'smig' AND a.grantee = 0),
          0::bigint, 'PUBLIC has no privilege on schema smig');
SELECT is((SELECT count(*) FROM pg_class c,
                  aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
            WHERE c.relnamespace = 'smig'::regnamespace AND a.grantee = 0),
          0::bigint, 'PUBLIC has no privilege on smig''s tables and sequences');
SELECT is((SELECT count(*) FROM pg_proc p,
                  aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
            WHERE p.pronamespace = 'smig'::regnamespace AND a.grantee = 0),
          0::bigint, 'PUBLIC cannot execute any smig function');
SELECT ok(NOT has_function_privilege('pg_monitor', 'smig.upgrade_head()', 'EXECUTE'),
          'a role without a grant cannot run upgrade_head()');
SELECT ok(NOT has_table_privilege('pg_monitor', 'smig.history', 'INSERT'),
          'a role without a grant cannot write smig.history');

-- dump: the tables that hold user data travel with pg_dump
SELECT set_eq(
    $$SELECT unnest(extconfig)::regclass::text FROM pg_extension WHERE extname = 'smig'$$,
    ARRAY['smig.migration', 'smig.applied', 'smig.history', 'smig.history_id_seq',
          'smig.ddl_log', 'smig.ddl_log_id_seq', 'smig.repeatable', 'smig.repeatable_applied',
          'smig.schema_snapshot', 'smig.backfill'],
    'registry, applied, history, the DDL log, the repeatable migrations, the schema snapshots and the backfills are dumped');

SELECT * FROM finish();
ROLLBACK;
