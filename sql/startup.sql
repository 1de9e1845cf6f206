-- startup: load_dir()'s stat cache and register_many()'s checksum-only
-- elements, the start-up check in one round trip
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse
SELECT current_setting('data_directory') || '/smig_startup' AS d \gset
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', cmd);
END $$;
-- load_dir(), then how many files it opened and what the registry holds
CREATE FUNCTION pg_temp.load(d text, sync boolean DEFAULT true)
RETURNS TABLE (changed integer, files_read integer, registry text)
LANGUAGE plpgsql AS $$
BEGIN
    changed := smig.load_dir(d, sync);
    files_read := smig._load_dir_reads();
    SELECT string_agg(m.version || ':' || m.up_sql, ' | ' ORDER BY m.version_key)
      INTO registry FROM smig.migration m;
    RETURN NEXT;
END $$;
SELECT pg_temp.sh(format($c$rm -rf %1$s && mkdir %1$s && cd %1$s &&
  printf 'CREATE TABLE st_a (id int);\n' > V1__a.sql &&
  printf 'CREATE TABLE st_b (id int);\n' > V2__b.sql &&
  printf 'DROP TABLE st_b;\n' > U2__b.sql &&
  printf 'not a migration' > README.md &&
  touch -d '2020-01-01 00:00:00' *.sql$c$, :'d'));
SELECT smig._load_dir_reads() AS before_any;

-- the first call reads every file
SELECT * FROM pg_temp.load(:'d');
-- racy: the files changed (ctime) in the second they were read, so they
-- are read again, and the cache is not trusted (nor written) yet
SELECT * FROM pg_temp.load(:'d');
-- once their change is safely older than a read, the next read makes the
-- entries trusted; after that, nothing is opened
SELECT pg_sleep(2.1);
SELECT * FROM pg_temp.load(:'d');
SELECT * FROM pg_temp.load(:'d');

-- an unchanged start writes nothing: no transaction id, no WAL
BEGIN;
SELECT smig.load_dir(:'d') AS changed, smig._load_dir_reads() AS files_read,
       pg_current_xact_id_if_assigned() IS NULL AS no_xid;
SELECT version FROM smig.upgrade_head();
COMMIT;
SELECT smig.upgrade_head();
SELECT pg_current_wal_insert_lsn() AS lsn0, smig.load_dir(:'d') AS changed,
       pg_current_wal_insert_lsn() AS lsn1 \gset
SELECT :changed AS changed, smig._load_dir_reads() AS files_read,
       pg_wal_lsn_diff(:'lsn1', :'lsn0') AS wal_bytes;
SELECT count(*) AS cache_rows, bool_and(synced) AS synced FROM smig.load_dir_cache;

-- edited in place, same size: the new text is registered
SELECT pg_temp.sh(format($c$cd %s && printf 'CREATE TABLE st_c (id int);\n' > V1__a.sql$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
SELECT pg_sleep(2.1);
SELECT * FROM pg_temp.load(:'d');
SELECT * FROM pg_temp.load(:'d');
-- edited in place, same size, mtime set back to the very nanosecond the
-- cache holds (touch -r): the change time still changed
SELECT pg_temp.sh(format($c$cd %s && touch -r V1__a.sql ../smig_startup_ref &&
  printf 'CREATE TABLE st_d (id int);\n' > V1__a.sql &&
  touch -r ../smig_startup_ref V1__a.sql && rm ../smig_startup_ref$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
-- touched only: read again, same bytes, nothing registered
SELECT pg_temp.sh(format($c$touch %s/V2__b.sql$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
-- replaced by rename, same size and mtime: another inode
SELECT pg_temp.sh(format($c$cd %s && printf 'CREATE TABLE st_e (id int);\n' > tmp.new &&
  touch -d '2020-01-01 00:00:00' tmp.new && mv tmp.new V2__b.sql$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
-- a down file edited
SELECT pg_temp.sh(format($c$cd %s && printf 'DROP TABLE st_e;\n' > U2__b.sql$c$, :'d'));
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT down_sql FROM smig.migration WHERE version = '2';
-- a file added, then one removed
SELECT pg_temp.sh(format($c$cd %s && printf 'SELECT 3;\n' > V3__c.sql$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
-- a file renamed: as many files as before, one of them not in the cache
SELECT pg_temp.sh(format($c$cd %s && mv V3__c.sql V3__cc.sql$c$, :'d'));
SELECT changed, files_read, registry FROM pg_temp.load(:'d');
SELECT pg_temp.sh(format($c$rm %s/V3__cc.sql$c$, :'d'));
SELECT * FROM pg_temp.load(:'d');
-- a link counts as the file it points to; retargeting it is a change
SELECT pg_temp.sh(format($c$cd %s && printf 'SELECT 4;\n' > ../smig_startup_4a && printf 'SELECT 5;\n' > ../smig_startup_4b &&
  ln -s ../smig_startup_4a V4__link.sql$c$, :'d'));
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT pg_temp.sh(format($c$cd %s && ln -sfn ../smig_startup_4b V4__link.sql$c$, :'d'));
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT up_sql FROM smig.migration WHERE version = '4';
SELECT pg_temp.sh(format($c$cd %s && rm V4__link.sql ../smig_startup_4a ../smig_startup_4b$c$, :'d'));
SELECT changed FROM pg_temp.load(:'d');
SELECT pg_sleep(2.1);
SELECT changed FROM pg_temp.load(:'d');
SELECT changed, files_read FROM pg_temp.load(:'d');

-- the registry changed by another call: the cache is not trusted
SELECT smig.register('2', 'b', 'SELECT 2;') AS elsewhere;
SELECT * FROM pg_temp.load(:'d');
SELECT changed, files_read FROM pg_temp.load(:'d');
-- a pass without sync does not stand for a synchronising one
SELECT smig.register('99', 'extra', 'SELECT 99;');
SELECT changed, files_read FROM pg_temp.load(:'d', false);
SELECT changed, files_read FROM pg_temp.load(:'d', false);
SELECT * FROM pg_temp.load(:'d');
-- a write behind smig's back (stale summary): everything is read again
UPDATE smig.migration SET name = 'renamed' WHERE version = '1';
SELECT * FROM pg_temp.load(:'d');
SELECT name FROM smig.migration WHERE version = '1';
SELECT count(*) AS repaired FROM smig.repair();
SELECT count(*) AS applied FROM smig.upgrade_head();
-- a registration deleted by hand, then upgrade_head() (which clears
-- "stale" once it has read everything): load_dir() registers it again
SELECT pg_temp.sh(format($c$cd %s && printf 'SELECT 7;\n' > V7__hand.sql$c$, :'d'));
SELECT changed, files_read FROM pg_temp.load(:'d');
DELETE FROM smig.migration WHERE version = '7';
SELECT count(*) AS applied FROM smig.upgrade_head();
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT pg_temp.sh(format($c$rm %s/V7__hand.sql$c$, :'d'));
SELECT changed FROM pg_temp.load(:'d');
-- forcing a full re-read
SET smig.load_dir_cache = off;
SELECT changed, files_read FROM pg_temp.load(:'d');
RESET smig.load_dir_cache;
SELECT changed, files_read FROM pg_temp.load(:'d');
-- a modification time in the future (clock skew, a tarball from a machine
-- whose clock is ahead): the file is read at every call while it is
SELECT pg_temp.sh(format($c$cd %s && printf 'SELECT 8;\n' > V8__future.sql &&
  touch -d '+1 day' V8__future.sql$c$, :'d'));
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT pg_sleep(2.1);
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT changed, files_read FROM pg_temp.load(:'d');
SELECT pg_temp.sh(format($c$rm %s/V8__future.sql$c$, :'d'));
SELECT changed FROM pg_temp.load(:'d');
-- no role can write the cache (or read it) but smig's own code
SELECT has_table_privilege('public', 'smig.load_dir_cache', 'SELECT') AS public_select,
       has_function_privilege('public', 'smig._load_dir_reads()', 'EXECUTE') AS public_exec;

/*---- register_many(): checksum-only elements ------------------------------*/
-- elements for the registry as it is, checksums of the texts as given
CREATE FUNCTION pg_temp.current_elements(d text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_agg(jsonb_build_object('version', m.version, 'name', m.name,
        'checksum', smig.checksum(pg_read_file(d || '/V' || m.version || '__' || m.name || '.sql')))
        || CASE WHEN m.down_sql IS NULL THEN '{}'::jsonb
           ELSE jsonb_build_object('down_checksum', smig.checksum(m.down_sql)) END
        ORDER BY m.version_key)
      FROM smig.migration m
$$;
CREATE FUNCTION pg_temp.registry() RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(m.version || ':' || m.name || ':' || m.checksum || ':'
                      || coalesce(m.down_sql, '-') || ':' || m.registered_at,
                      ' | ' ORDER BY m.version_key)
      FROM smig.migration m
$$;
SELECT pg_temp.current_elements(:'d') AS elements \gset
SELECT pg_temp.registry() AS reg0 \gset
-- unchanged: nothing needed, nothing written
BEGIN;
SELECT * FROM smig.register_many(:'elements');
SELECT pg_current_xact_id_if_assigned() IS NULL AS no_xid;
COMMIT;
-- a changed checksum and a new version are asked for; nothing changes
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0,checksum}', to_jsonb(smig.checksum('SELECT 1;')))
    || '[{"version": "5", "name": "five", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.registry() = :'reg0' AS registry_unchanged;
-- with texts beside a needed element: the call still writes nothing
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0,checksum}', to_jsonb(smig.checksum('SELECT 1;')))
    || '[{"version": "6", "name": "six", "up_sql": "SELECT 6;"}]');
SELECT pg_temp.registry() = :'reg0' AS registry_unchanged;
-- a changed down script, and one that has none now
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{1,down_checksum}', to_jsonb(smig.checksum('DROP TABLE x;'))));
SELECT * FROM smig.register_many(:'elements'::jsonb #- '{1,down_checksum}');
-- other explicit options, another name, another registrant
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0,options}', '{"transactional": false}'));
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0,name}', '"other"'));
-- the same explicit options (and down script) are unchanged; other ones not
BEGIN;
SELECT * FROM smig.register_many('[{"version": "9", "name": "nine", "up_sql": "SELECT 9;",
    "down_sql": "SELECT -9;", "options": {"destructive": true, "run_on_change": false}}]', false);
SELECT * FROM smig.register_many(jsonb_build_array(jsonb_build_object('version', '9', 'name', 'nine',
    'checksum', smig.checksum('SELECT 9;'), 'down_checksum', smig.checksum('SELECT -9;'),
    'options', '{"run_on_change": false, "destructive": true}'::jsonb)), false);
SELECT * FROM smig.register_many(jsonb_build_array(jsonb_build_object('version', '9', 'name', 'nine',
    'checksum', smig.checksum('SELECT 9;'), 'down_checksum', smig.checksum('SELECT -9;'),
    'options', '{"destructive": true}'::jsonb)), false);
SELECT * FROM smig.register_many(jsonb_build_array(jsonb_build_object('version', '9', 'name', 'nine',
    'checksum', smig.checksum('SELECT 9;'),
    'options', '{"run_on_change": false, "destructive": true}'::jsonb)), false);
ROLLBACK;
CREATE ROLE regress_startup_other SUPERUSER;
SET ROLE regress_startup_other;
SELECT * FROM smig.register_many(:'elements');
RESET ROLE;
DROP ROLE regress_startup_other;
-- then the texts of what was needed, checksums for the rest: registered
SELECT * FROM smig.register_many((:'elements'::jsonb)
    || '[{"version": "5", "name": "five", "up_sql": "SELECT 5;"}]');
SELECT * FROM smig.register_many((:'elements'::jsonb)
    || jsonb_build_array(jsonb_build_object('version', '5', 'name', 'five', 'checksum', smig.checksum('SELECT 5;'))));
-- all checksum-only and unchanged: one query, unless synchronising has
-- something to drop (here a repeatable migration the list lacks)
SELECT smig.register_repeatable('st_views', 'SELECT 1;');
SELECT * FROM smig.register_many((:'elements'::jsonb)
    || jsonb_build_array(jsonb_build_object('version', '5', 'name', 'five', 'checksum', smig.checksum('SELECT 5;'))), false);
SELECT * FROM smig.register_many((:'elements'::jsonb)
    || jsonb_build_array(jsonb_build_object('version', '5', 'name', 'five', 'checksum', smig.checksum('SELECT 5;'))));
-- synchronising: a registration with no element is dropped
SELECT * FROM smig.register_many((:'elements'::jsonb) #- '{0}');
SELECT * FROM smig.register_many(:'elements');
SELECT * FROM smig.register_many(:'elements');
-- while "1" is missing, any element for it is needed
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0,checksum}',
    to_jsonb(smig.checksum(replace(pg_read_file(:'d' || '/V1__a.sql'), E'\n', E'\r\n')))));
-- a registration made before sources were recorded is asked for once
UPDATE smig.migration SET source = NULL WHERE version = '1';
SELECT * FROM smig.register_many(:'elements');
SELECT * FROM smig.register_many(jsonb_set(:'elements', '{0}',
    jsonb_build_object('version', '1', 'name', 'a', 'up_sql', pg_read_file(:'d' || '/V1__a.sql'))));
SELECT source FROM smig.migration WHERE version = '1';
SELECT * FROM smig.register_many(:'elements');

-- malformed elements: an error each, nothing changed
CREATE FUNCTION pg_temp.try(arg jsonb) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    msg text;
    detail text;
    hint text;
BEGIN
    PERFORM smig.register_many(arg);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, detail = PG_EXCEPTION_DETAIL,
                            hint = PG_EXCEPTION_HINT;
    RETURN SQLSTATE || ': ' || msg || ' DETAIL: ' || coalesce(detail, '-')
           || ' HINT: ' || coalesce(hint, '-');
END $$;
SELECT pg_temp.registry() AS reg1 \gset
SELECT pg_temp.try('[{"version": "6", "name": "six", "checksum": "abc"}]');
SELECT pg_temp.try('[{"version": "6", "name": "six", "checksum": "ABCDEF0000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try('[{"version": "6", "name": "six", "checksum": 42}]');
SELECT pg_temp.try('[{"version": "6", "name": "six", "up_sql": "SELECT 6;", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try('[{"version": "6", "name": "six", "down_sql": "SELECT 6;", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try('[{"version": "6", "name": "six", "up_sql": "SELECT 6;", "down_checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try('[{"repeatable": true, "name": "views", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try('[{"version": "x6", "name": "six", "checksum": "0000000000000000000000000000000000000000000000000000000000000000"}]');
SELECT pg_temp.try((:'elements'::jsonb) || '[{"version": "6", "name": "six", "checksum": "00"}]');
SELECT pg_temp.registry() = :'reg1' AS registry_unchanged;

SELECT pg_temp.sh(format('rm -rf %s', :'d'));
