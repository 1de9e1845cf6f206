-- out_of_order: a pending version below current() is refused unless
-- smig.out_of_order = on
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

SELECT smig.register('1', 'one', 'CREATE TABLE ooo_one ();');
SELECT smig.register('3', 'three', 'CREATE TABLE ooo_three ();');
SELECT version FROM smig.upgrade_head();

-- a branch merged late brings version 2
SELECT smig.register('2', 'two', 'CREATE TABLE ooo_two ();');
SELECT smig.register('4', 'four', 'CREATE TABLE ooo_four ();');
SELECT version, state FROM smig.status();
SELECT * FROM smig.pending();

\set VERBOSITY default
SELECT version FROM smig.upgrade_head();
\set VERBOSITY terse
-- refused before running anything: 4 was not applied either
SELECT to_regclass('ooo_four') IS NULL AS four_not_applied;
SELECT count(*) AS history_rows FROM smig.history;
-- upgrade_to an applied version below the current one would be a downgrade
SELECT count(*) FROM smig.upgrade_to('1');

SET smig.out_of_order = on;
SELECT version FROM smig.upgrade_head();
RESET smig.out_of_order;
SELECT version, state FROM smig.status();
SELECT smig.current();
