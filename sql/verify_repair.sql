-- verify_checksum and repair: edited applied migrations are "modified"
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

SELECT smig.register('1', 'one', E'CREATE TABLE vr_one (id int);\nSELECT 1;');
SELECT smig.register('2', 'two', 'CREATE TABLE vr_two (id int);');
SELECT version FROM smig.upgrade_head();
SELECT count(*) AS problems FROM smig.verify_checksum();

-- line-ending changes are not edits
SELECT smig.register('1', 'one', E'CREATE TABLE vr_one (id int);\r\nSELECT 1;');
SELECT smig.register('2', 'two', convert_from('\xefbbbf'::bytea, 'UTF8') || 'CREATE TABLE vr_two (id int);');
SELECT count(*) AS problems FROM smig.verify_checksum();
-- nor is a final newline stripped (psql's \set x `cat file`) or added
SELECT smig.register('1', 'one', E'CREATE TABLE vr_one (id int);\nSELECT 1;\n\n');
SELECT smig.register('2', 'two', 'CREATE TABLE vr_two (id int);   ');
SELECT count(*) AS problems FROM smig.verify_checksum();

-- an edit is: WARNING at register, listed, shown, and upgrade_head refuses
SELECT smig.register('1', 'one', 'CREATE TABLE vr_one (id bigint);');
SELECT smig.register('3', 'three', 'CREATE TABLE vr_three ();');
SELECT version, name, problem, applied_checksum = smig.checksum(E'CREATE TABLE vr_one (id int);\nSELECT 1;') AS old_ok,
       registered_checksum = smig.checksum('CREATE TABLE vr_one (id bigint);') AS new_ok
  FROM smig.verify_checksum();
SELECT version, state FROM smig.status();
\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
SELECT to_regclass('vr_three') IS NULL AS three_not_applied;
-- so do the bounded forms (55000), and they apply nothing either
\set VERBOSITY sqlstate
SELECT version FROM smig.apply('3');
SELECT version FROM smig.upgrade_to('3');
\set VERBOSITY terse
SELECT version FROM smig.apply('3');
SELECT version FROM smig.upgrade_to('3');
SELECT to_regclass('vr_three') IS NULL AS three_still_not_applied;

-- restoring the text heals it
SELECT smig.register('1', 'one', E'CREATE TABLE vr_one (id int);\nSELECT 1;');
SELECT count(*) AS problems FROM smig.verify_checksum();

-- or repair() accepts the new text, recorded with both checksums
SELECT smig.register('1', 'one', 'CREATE TABLE vr_one (id bigint);');
SELECT version, name, old_checksum = smig.checksum(E'CREATE TABLE vr_one (id int);\nSELECT 1;') AS old_ok,
       new_checksum = smig.checksum('CREATE TABLE vr_one (id bigint);') AS new_ok
  FROM smig.repair();
SELECT count(*) AS problems FROM smig.verify_checksum();
SELECT action, version, old_checksum IS NOT NULL AS has_old, checksum IS NOT NULL AS has_new
  FROM smig.history ORDER BY id;
SELECT count(*) AS nothing_left FROM smig.repair();
-- repair(version) accepts one migration's edit, and only an edit
SELECT smig.register('1', 'one', 'CREATE TABLE vr_one (id numeric);');
SELECT smig.register('2', 'two', 'CREATE TABLE vr_two (id numeric);');
SELECT version, new_checksum = smig.checksum('CREATE TABLE vr_one (id numeric);') AS new_ok
  FROM smig.repair('1');
SELECT version, state FROM smig.status() WHERE version IN ('1', '2');
SELECT * FROM smig.repair('1');
SELECT * FROM smig.repair('99');
SELECT * FROM smig.repair(NULL);
SELECT version FROM smig.repair('2');
SELECT version FROM smig.upgrade_head();

-- a migration that disappeared from the registry is "missing"
DELETE FROM smig.migration WHERE version = '2';
SELECT version, name, problem FROM smig.verify_checksum();
SELECT version, state FROM smig.status();
