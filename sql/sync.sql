-- load_dir and register_many synchronise: the registry becomes what the
-- files say (issue 19, item 1); an unchanged start-up lexes nothing (issue 11)
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse
\getenv abs_srcdir PG_ABS_SRCDIR
\set fixtures :abs_srcdir '/test/fixtures'

-- 11, 12 and 14 applied
SELECT smig.load_dir(:'fixtures' || '/sync_before') AS loaded;
SELECT version FROM smig.upgrade_head();

-- V13 arrives late: out of order, every upgrade_head() fails
SELECT smig.load_dir(:'fixtures' || '/sync_hint') AS loaded;
SELECT version, state FROM smig.status();
SELECT version FROM smig.upgrade_head();

-- following the hint, V13 is renamed V15: load_dir drops 13 (NOTICE)
SELECT smig.load_dir(:'fixtures' || '/sync_renamed') AS loaded;
SELECT version, out_of_order FROM smig.pending();
SELECT version, state FROM smig.status();
SELECT version FROM smig.upgrade_head();

-- an applied migration whose file is gone becomes missing (WARNING)
SELECT smig.load_dir(:'fixtures' || '/sync_gone') AS loaded;
SELECT version, state FROM smig.status();
SELECT version, name, problem FROM smig.verify_checksum();
-- the file is back: applied again
SELECT smig.load_dir(:'fixtures' || '/sync_renamed') AS loaded;
SELECT version, state FROM smig.status();

-- add-only (sync => false): nothing is dropped
SELECT smig.load_dir(:'fixtures' || '/sync_hint', false) AS loaded;
SELECT version, state FROM smig.status();
SELECT smig.load_dir(:'fixtures' || '/sync_before', sync => false) AS loaded;
SELECT count(*) AS registered FROM smig.migration;
SELECT smig.load_dir(:'fixtures' || '/sync_renamed') AS loaded;
SELECT smig.load_dir(:'fixtures' || '/sync_renamed', NULL);

-- an unchanged load_dir writes nothing: same rows, same registered_at
CREATE TEMP TABLE before AS SELECT * FROM smig.migration;
SELECT smig.load_dir(:'fixtures' || '/sync_renamed') AS loaded;
SELECT count(*) AS changed_rows
  FROM (SELECT * FROM smig.migration EXCEPT SELECT * FROM before) d;
DROP TABLE before;

-- synchronising takes the deploy lock: refused from inside a migration
-- and in REPEATABLE READ; adding only is not
SELECT smig.register('16', 'nested', format('SELECT smig.load_dir(%L);', :'fixtures' || '/sync_renamed'));
SELECT version FROM smig.upgrade_head();
SELECT smig.register('16', 'nested', $$SELECT smig.register_many('[]');$$);
SELECT version FROM smig.upgrade_head();
SELECT smig.register('16', 'nested', format('SELECT smig.load_dir(%L, false);', :'fixtures' || '/sync_renamed'));
SELECT version FROM smig.upgrade_head();
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT smig.load_dir(:'fixtures' || '/sync_renamed') AS loaded;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT smig.load_dir(:'fixtures' || '/sync_renamed', false) AS loaded;
ROLLBACK;

-- a file larger than the first read buffer is read whole
SELECT smig.load_dir(:'fixtures' || '/big', false) AS loaded;
SELECT length(up_sql), checksum = smig.checksum(pg_read_file(:'fixtures' || '/big/V1__big.sql')) AS checksum_ok
  FROM smig.migration WHERE version = '1';

/*---- register_many: the bulk path ----*/
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
SELECT * FROM smig.register_many('[
  {"version": "1", "name": "one", "up_sql": "CREATE TABLE rm_one (id int);"},
  {"version": "2", "name": "two", "up_sql": "-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n"},
  {"version": "3", "name": "three", "up_sql": "-- smig:lock-timeout 5s\nSELECT 3;", "down_sql": "SELECT -3;",
   "options": {"transactional": true}}
]');
SELECT version, name, down_sql, options, checksum = smig.checksum(up_sql) AS checksum_ok
  FROM smig.migration ORDER BY version_key;
-- unchanged: no rows
SELECT * FROM smig.register_many('[
  {"version": "1", "name": "one", "up_sql": "CREATE TABLE rm_one (id int);"},
  {"version": "2", "name": "two", "up_sql": "-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n"},
  {"version": "3", "name": "three", "up_sql": "-- smig:lock-timeout 5s\nSELECT 3;", "down_sql": "SELECT -3;",
   "options": {"transactional": true}}
]');
-- what register() stores, register_many() finds unchanged, and back
SELECT smig.register('4', 'four', E'SELECT 4;\r\n', 'SELECT -4;', '{"lock_timeout": "1s"}');
SELECT * FROM smig.register_many('[
  {"version": "1", "name": "one", "up_sql": "CREATE TABLE rm_one (id int);"},
  {"version": "2", "name": "two", "up_sql": "-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n"},
  {"version": "3", "name": "three", "up_sql": "-- smig:lock-timeout 5s\nSELECT 3;", "down_sql": "SELECT -3;",
   "options": {"transactional": true}},
  {"version": "4", "name": "four", "up_sql": "SELECT 4;\r\n", "down_sql": "SELECT -4;", "options": {"lock_timeout": "1s"}}
]');
SELECT smig.register('2', 'two', E'-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n');
-- each kind of change: up script, name, down script, options; 4 is not listed
SELECT * FROM smig.register_many('[
  {"version": "1", "name": "one", "up_sql": "CREATE TABLE rm_one (id int, x int);"},
  {"version": "2", "name": "two_renamed", "up_sql": "-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n"},
  {"version": "3", "name": "three", "up_sql": "-- smig:lock-timeout 5s\nSELECT 3;", "down_sql": "SELECT -33;",
   "options": {"transactional": true}},
  {"version": "5", "name": "five", "up_sql": "SELECT 5;", "down_sql": null, "options": null}
]');
SELECT * FROM smig.register_many('[
  {"version": "1", "name": "one", "up_sql": "CREATE TABLE rm_one (id int, x int);"},
  {"version": "2", "name": "two_renamed", "up_sql": "-- smig:up\nCREATE TABLE rm_two (id int);\n-- smig:down\nDROP TABLE rm_two;\n"},
  {"version": "3", "name": "three", "up_sql": "-- smig:lock-timeout 5s\nSELECT 3;", "down_sql": "SELECT -33;",
   "options": {"transactional": true, "lock_timeout": "2s"}},
  {"version": "5", "name": "five", "up_sql": "SELECT 5;"}
]', sync => false);
SELECT version, name FROM smig.upgrade_head();
-- an applied migration left out of the list becomes missing
SELECT * FROM smig.register_many('[{"version": "5", "name": "five", "up_sql": "SELECT 5;"}]');
SELECT version, state FROM smig.status();
SELECT * FROM smig.register_many('[]', false);
-- a synchronising call names the applied migrations already missing too,
-- in version order, from texts or checksums alike, but not one the list
-- registers again (and not when an element is needed: nothing is done)
BEGIN;
SELECT * FROM smig.register_many('[{"version": "5", "name": "five", "up_sql": "SELECT 5;"}]');
SELECT * FROM smig.register_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'version', '5', 'name', 'five', 'checksum', smig.checksum('SELECT 5;'))));
SELECT * FROM smig.register_many(pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
    'version', '5', 'name', 'five', 'checksum', smig.checksum('SELECT 5; -- edited'))));
SELECT * FROM smig.register_many('[{"version": "5", "name": "five", "up_sql": "SELECT 5;"},
                                   {"version": "2", "name": "two", "up_sql": "SELECT 2;"}]');
SELECT * FROM smig.register_many('[]', false);
ROLLBACK;

-- bad input: errors name the element or the version; nothing changes
CREATE TEMP TABLE before AS SELECT * FROM smig.migration;
SELECT * FROM smig.register_many(NULL);
SELECT * FROM smig.register_many('[]', NULL);
SELECT * FROM smig.register_many('{"version": "1"}');
SELECT * FROM smig.register_many('[1]');
SELECT * FROM smig.register_many('[{"version": "6", "name": "six"}]');
SELECT * FROM smig.register_many('[{"version": 6, "name": "six", "up_sql": "SELECT 6;"}]');
SELECT * FROM smig.register_many('[{"version": "6", "name": "six", "up_sql": "SELECT 6;", "down": "x"}]');
SELECT * FROM smig.register_many('[{"version": "six", "name": "six", "up_sql": "SELECT 6;"}]');
SELECT * FROM smig.register_many('[{"version": "6", "name": "", "up_sql": "SELECT 6;"}]');
SELECT * FROM smig.register_many('[{"version": "6", "name": "six", "up_sql": "SELECT 6;"},
                                   {"version": "006", "name": "six", "up_sql": "SELECT 6;"}]');
SELECT * FROM smig.register_many('[{"version": "6", "name": "six", "up_sql": "SELECT 6;"},
                                   {"version": "7", "name": "seven", "up_sql": "SELECT 7;\nCOMMIT;"}]');
SELECT * FROM smig.register_many('[{"version": "7", "name": "seven", "up_sql": "SELECT 7;", "down_sql": "\\i x.sql"}]');
SELECT * FROM smig.register_many('[{"version": "7", "name": "seven", "up_sql": "SELECT 7;", "options": {"lock_timeout": "soon"}}]');
SELECT * FROM smig.register_many('[{"version": "7", "name": "seven", "up_sql": "SELECT 7;", "options": [1]}]');
SELECT * FROM smig.register_many('[{"version": "7", "name": "seven", "up_sql": "-- smig:run-as regress_nobody\nSELECT 7;"}]');
SELECT count(*) AS changed_rows
  FROM (SELECT * FROM smig.migration EXCEPT SELECT * FROM before) d;
SELECT count(*) = (SELECT count(*) FROM before) AS same_count FROM smig.migration;
DROP TABLE before;

-- an unchanged text is not lexed again: a registry row written by hand
-- with a text the lexer refuses stays unchanged, silently
SELECT smig.register('8', 'eight', 'SELECT 8;');
UPDATE smig.migration SET up_sql = E'SELECT 8;\n\\echo hi', checksum = smig.checksum(E'SELECT 8;\n\\echo hi')
 WHERE version = '8';
SELECT * FROM smig.register_many('[{"version": "8", "name": "eight", "up_sql": "SELECT 8;\n\\echo hi"}]', false);
-- and a changed one is
SELECT * FROM smig.register_many('[{"version": "8", "name": "eight", "up_sql": "SELECT 8;\n\\echo ho"}]', false);
SELECT smig.unregister('8');

/*---- other roles' registrations ----*/
DROP EXTENSION smig CASCADE;
CREATE EXTENSION smig;
CREATE ROLE regress_sy_app;
CREATE ROLE regress_sy_other;
CREATE ROLE regress_sy_owner;
GRANT USAGE ON SCHEMA smig TO regress_sy_app, regress_sy_other;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.register_many(jsonb, boolean), smig.load_dir(text, boolean),
    smig.status(), smig.upgrade_head() TO regress_sy_app, regress_sy_other;
GRANT pg_read_server_files TO regress_sy_app;
GRANT regress_sy_owner TO regress_sy_other;

-- another role's pending migrations: one runs as itself, one as a role
SET ROLE regress_sy_other;
SELECT smig.register('30', 'others', 'SELECT 30;');
SELECT smig.register('31', 'owners', 'SELECT 31;', NULL, '{"run_as": "regress_sy_owner"}');
RESET ROLE;

-- the app is no member of regress_sy_owner: it cannot register as it (42501)
SET ROLE regress_sy_app;
SELECT * FROM smig.register_many('[{"version": "1", "name": "one", "up_sql": "SELECT 1;"},
    {"version": "2", "name": "two", "up_sql": "SELECT 2;", "options": {"run_as": "regress_sy_owner"}}]');
SELECT * FROM smig.register_many('[{"version": "1", "name": "one", "up_sql": "SELECT 1;"},
    {"version": "2", "name": "two", "up_sql": "-- smig:run-as regress_sy_owner\nSELECT 2;"}]');
-- nor drop what others registered: both are kept (NOTICEs)
SELECT smig.load_dir(:'fixtures' || '/sync_before') AS loaded;
SELECT version, state, run_as FROM smig.status();
RESET ROLE;

-- a member of regress_sy_owner drops what runs as it, and keeps the rest
GRANT regress_sy_owner TO regress_sy_app;
SET ROLE regress_sy_app;
SELECT * FROM smig.register_many('[{"version": "1", "name": "one", "up_sql": "SELECT 1;"}]');
SELECT version, state, run_as FROM smig.status();
RESET ROLE;
-- a superuser is a member of every role
SELECT smig.load_dir(:'fixtures' || '/sync_before') AS loaded;
SELECT version, state, run_as = current_user AS runs_as_caller FROM smig.status();

DROP OWNED BY regress_sy_app, regress_sy_other;
DROP ROLE regress_sy_app, regress_sy_other, regress_sy_owner;

-- register_many() returning many rows: they outlive its SPI connection
-- (they were read after SPI_finish had freed them: a crash at 100)
SET client_min_messages = warning;
SELECT count(*) AS registered, count(*) FILTER (WHERE result = 'new') AS new
  FROM smig.register_many((SELECT jsonb_agg(jsonb_build_object(
         'version', (1000 + i)::text, 'name', 'bulk_' || i, 'up_sql', 'SELECT ' || i))
         FROM generate_series(1, 500) i), false);
SELECT min(version) || '..' || max(version) AS versions, count(*) AS rows
  FROM smig.register_many((SELECT jsonb_agg(jsonb_build_object(
         'version', (1000 + i)::text, 'name', 'bulk_' || i, 'up_sql', 'SELECT -' || i))
         FROM generate_series(1, 500) i), false);
RESET client_min_messages;
