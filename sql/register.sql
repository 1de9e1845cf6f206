-- register: upsert semantics, sections, directives, options, bad input
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

SELECT smig.register('001', 'create_users', 'CREATE TABLE reg_users (id int);');
SELECT smig.register('001', 'create_users', 'CREATE TABLE reg_users (id int);');
SELECT smig.register('1', 'create_users', 'CREATE TABLE reg_users (id int);');   -- same version, new spelling
SELECT version, name, checksum = smig.checksum(up_sql) AS checksum_ok, down_sql, options
  FROM smig.migration;
SELECT smig.register('1', 'create_users', 'CREATE TABLE reg_users (id int, name text);', 'DROP TABLE reg_users;');
SELECT version, up_sql, down_sql FROM smig.migration;

-- sections in one text: smig's own markers and dbmate's
SELECT smig.register('2', 'sections', E'-- smig:up\nCREATE TABLE reg_s (id int);\n-- smig:down\nDROP TABLE reg_s;\n');
SELECT smig.register('3', 'dbmate', E'-- migrate:up\nCREATE TABLE reg_d (id int);\n\n-- migrate:down\n\n');
SELECT smig.register('4', 'down_only_marker', E'CREATE TABLE reg_o (id int);\n-- smig:down\nDROP TABLE reg_o;');
SELECT version, up_sql, down_sql FROM smig.migration WHERE version IN ('2', '3', '4') ORDER BY version;

-- directives become options; explicit options win
SELECT smig.register('5', 'directives', E'-- smig:lock-timeout 5s\n-- smig:no-transaction\nCREATE INDEX CONCURRENTLY reg_i ON reg_users (id);');
SELECT smig.register('6', 'options', 'SELECT 1;', NULL, '{"lock_timeout": "250ms"}');
SELECT smig.register('7', 'override', E'-- smig:lock-timeout 5s\nSELECT 1;', NULL, '{"lock_timeout": "1s"}');
SELECT smig.register('7.1', 'no_timeout', E'-- smig:lock-timeout 0\nSELECT 1;');  -- 0: no limit
SELECT version, options FROM smig.migration WHERE version IN ('5', '6', '7', '7.1') ORDER BY version;

-- bad input: clear errors, registry unchanged
CREATE TEMP TABLE before AS SELECT * FROM smig.migration;
\set VERBOSITY default
SELECT smig.register(NULL, 'x', 'SELECT 1;');
SELECT smig.register('8', NULL, 'SELECT 1;');
SELECT smig.register('8', 'x', NULL);
SELECT smig.register('8', '', 'SELECT 1;');
SELECT smig.register('eight', 'x', 'SELECT 1;');
SELECT smig.register('8', 'x', 'SELECT 1;', NULL, '[1]');
SELECT smig.register('8', 'x', 'SELECT 1;', NULL, '{"transactionl": false}');
SELECT smig.register('8', 'x', 'SELECT 1;', NULL, '{"transactional": "no"}');
SELECT smig.register('8', 'x', 'SELECT 1;', NULL, '{"lock_timeout": "soon"}');
SELECT smig.register('8', 'x', E'-- smig:lock-timeout forever\nSELECT 1;');
SELECT smig.register('8', 'x', E'-- smig:no-transactoin\nSELECT 1;');
SELECT smig.register('8', 'x', E'-- smig:up\nSELECT 1;\n-- smig:up\nSELECT 2;');
SELECT smig.register('8', 'x', E'-- smig:up\nSELECT 1;\n-- smig:down\nSELECT 2;', 'SELECT 3;');
\set VERBOSITY terse
SELECT count(*) AS changed_rows
  FROM (SELECT * FROM smig.migration EXCEPT SELECT * FROM before) d;
SELECT count(*) AS registered FROM smig.migration;

-- registering never applies anything, and never writes history
SELECT count(*) AS history_rows FROM smig.history;
SELECT to_regclass('reg_users') IS NULL AS not_applied;

-- a statement PostgreSQL refuses inside a transaction block is refused at
-- registration unless the migration is marked "-- smig:no-transaction"
\set VERBOSITY default
SELECT smig.register('70', 'cic', E'CREATE TABLE r_cic (a int);\nCREATE INDEX CONCURRENTLY r_cic_a ON r_cic (a);');
SELECT smig.register('70', 'cic_down', 'CREATE INDEX r_cic_a ON r_cic (a);', 'DROP INDEX CONCURRENTLY r_cic_a;');
SELECT smig.register('70', 'vacuum', E'-- smig:up\nUPDATE r_cic SET a = 1;\nVACUUM r_cic;');
SELECT smig.register('70', 'explicit', E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY r_cic_a ON r_cic (a);', options => '{"transactional": true}');
\set VERBOSITY terse
SELECT count(*) AS not_registered FROM smig.migration WHERE version = '70';
SELECT smig.register('70', 'marked', E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY r_cic_a ON r_cic (a);', 'DROP INDEX CONCURRENTLY r_cic_a;');
SELECT smig.register('71', 'by_option', 'VACUUM r_cic;', options => '{"transactional": false}');
SELECT version, options FROM smig.migration WHERE version IN ('70', '71') ORDER BY version;
SELECT smig.unregister('70'), smig.unregister('71');
