-- unregister: take back a migration that is not applied
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = notice;
-- (apply NOTICEs carry durations: their detail is hidden)
\set VERBOSITY terse

SELECT smig.register('1', 'one', 'CREATE TABLE unreg_one ();');
SELECT version FROM smig.upgrade_head();

-- one bad registration blocks every upgrade ...
SELECT smig.register('2', 'typo', 'CREATE TABLE unreg_two (id int, id int);');
SELECT smig.register('3', 'three', 'CREATE TABLE unreg_three ();');
SELECT version FROM smig.upgrade_head();
\set VERBOSITY default
-- ... until it is taken back
SELECT smig.unregister('2');
SELECT version, state FROM smig.status();
\set VERBOSITY terse
SELECT version FROM smig.upgrade_head();
-- the fast path saw the change: nothing is left to do
SELECT version FROM smig.upgrade_head();
\set VERBOSITY default

-- applied and modified migrations stay
SELECT smig.unregister('1');
SELECT smig.register('1', 'one', 'CREATE TABLE unreg_one (id int);');
SELECT smig.unregister('1.0');
-- unknown versions, bad versions, NULL
SELECT smig.unregister('2');
SELECT smig.unregister('x');
SELECT smig.unregister(NULL);

-- out of order and baselined migrations can be taken back too
SELECT smig.register('1', 'one', 'CREATE TABLE unreg_one ();');
SELECT smig.register('0.5', 'late', 'SELECT 1;');
SELECT smig.baseline('10', 'squash');
SELECT smig.register('7', 'below_baseline', 'SELECT 1;');
SELECT version, state FROM smig.status() WHERE version IN ('0.5', '7');
SELECT smig.unregister('0.5');
SELECT smig.unregister('7');
SELECT version, state FROM smig.status();

-- registering it again brings it back as new
SELECT smig.register('7', 'below_baseline', 'SELECT 1;');

-- unregistering writes no history, and nothing for a refused call
SELECT action, version FROM smig.history ORDER BY id;

-- not on a read-only transaction
BEGIN READ ONLY;
SELECT smig.unregister('7');
ROLLBACK;

-- not for PUBLIC: the deployer needs a grant
CREATE ROLE regress_unreg;
GRANT USAGE ON SCHEMA smig TO regress_unreg;
SET ROLE regress_unreg;
\set VERBOSITY terse
SELECT smig.unregister('7');
RESET ROLE;
GRANT EXECUTE ON FUNCTION smig.unregister(text),
    smig.register(text, text, text, text, jsonb) TO regress_unreg;
SET ROLE regress_unreg;
-- only what it could have registered: not a superuser's migration ...
SELECT smig.unregister('7');
-- ... but its own
SELECT smig.register('7', 'below_baseline', 'SELECT 1;');
SELECT smig.unregister('7');
RESET ROLE;
\set VERBOSITY default
DROP OWNED BY regress_unreg;
DROP ROLE regress_unreg;
