-- load_dir: every file convention, pairing, collisions, permissions
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/test/fixtures'
\set ledger :abs_srcdir '/examples/ledger'

-- errors whose messages hold a path, with the path replaced
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || replace(SQLERRM, current_setting('regress.fixtures'), '<fixtures>');
END $$;
SELECT set_config('regress.fixtures', :'fixtures', false) IS NOT NULL AS set;

SELECT smig.load_dir(:'fixtures' || '/conventions') AS loaded;
SELECT version, name, down_sql IS NOT NULL AS has_down, options,
       checksum = smig.checksum(up_sql) AS checksum_ok
  FROM smig.migration ORDER BY version_key;
-- the dbmate-style file was split into sections
SELECT up_sql, down_sql FROM smig.migration WHERE version = '003';
-- loading again changes nothing
SELECT smig.load_dir(:'fixtures' || '/conventions') AS loaded_again;
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM ld_e;

-- broken directories: nothing registered
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/collision'));
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/unrecognized'));
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/orphan_down'));
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/two_downs'));
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/no_such_dir'));
SELECT count(*) AS registered FROM smig.migration;

-- a relative path is relative to the data directory: errors name the
-- directory the server read, made absolute and canonical
CREATE FUNCTION pg_temp.try_hint(sql text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    hint text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, hint = PG_EXCEPTION_HINT;
    RETURN replace(SQLSTATE || ': ' || msg || ' HINT: ' || hint,
                   current_setting('data_directory'), '<datadir>');
END $$;
SELECT pg_temp.try_hint($$SELECT smig.load_dir('no_such_dir')$$);
SELECT pg_temp.try_hint($$SELECT smig.load_dir('./a/../no_such_dir/')$$);
SELECT format('ln -s %s %s/smig_regress_rel', :'fixtures' || '/unrecognized',
              current_setting('data_directory')) AS ln \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'ln';
SELECT pg_temp.try_hint($$SELECT smig.load_dir('smig_regress_rel')$$);
SELECT format('rm %s/smig_regress_rel', current_setting('data_directory')) AS rm \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'rm';

-- reading server files needs pg_read_server_files
CREATE ROLE regress_reader;
GRANT USAGE ON SCHEMA smig TO regress_reader;
GRANT EXECUTE ON FUNCTION smig.load_dir(text, boolean) TO regress_reader;
SET ROLE regress_reader;
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/conventions'));
RESET ROLE;
GRANT pg_read_server_files TO regress_reader;
SET ROLE regress_reader;
SELECT pg_temp.try(format('SELECT smig.load_dir(%L)', :'fixtures' || '/conventions'));
RESET ROLE;
DROP OWNED BY regress_reader;
DROP ROLE regress_reader;

-- B<version> files: an empty database starts from the baseline
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
SELECT smig.load_dir(:'fixtures' || '/baseline') AS loaded;
SELECT version, name FROM smig.upgrade_head();
SELECT version, state FROM smig.status();

-- the example project: the audit ledger
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
SELECT smig.load_dir(:'ledger') AS loaded;
SELECT version, name, down_sql IS NOT NULL AS has_down, options FROM smig.migration ORDER BY version_key;
SELECT version, name FROM smig.upgrade_head();
SELECT version, state FROM smig.status();
INSERT INTO ledger_entries (track, actor, payload, entry_hash)
VALUES ('v3-evaluator', 'demo', '{}', 'h1') RETURNING entry_id, schema_version;
UPDATE ledger_entries SET actor = 'someone else';
SELECT tenant_id, buffer_retention_days FROM tenants;
INSERT INTO telemetry_buffer (tenant_id, event) VALUES ('default', '{"kind": "boot"}');
DELETE FROM telemetry_buffer;
SELECT count(*) AS partitions FROM pg_inherits WHERE inhparent = 'telemetry_buffer'::regclass;
