-- readonly: state-changing functions refuse read-only and snapshot-isolated
-- transactions before touching anything; read-only functions work
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY default

SELECT smig.register('1', 'one', 'CREATE TABLE ro_one ();');

BEGIN READ ONLY;
SELECT version, state FROM smig.status();
SELECT * FROM smig.pending();
SELECT smig.current();
SELECT count(*) FROM smig.verify_checksum();
SAVEPOINT a;
SELECT * FROM smig.upgrade_head();
ROLLBACK TO a;
SELECT smig.register('2', 'two', 'SELECT 1;');
ROLLBACK TO a;
SELECT smig.baseline('5');
ROLLBACK TO a;
SELECT * FROM smig.repair();
ROLLBACK;

BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM smig.upgrade_head();
ROLLBACK;
BEGIN ISOLATION LEVEL SERIALIZABLE;
SELECT * FROM smig.upgrade_to('1');
ROLLBACK;
-- reading is fine in any isolation level
BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY;
SELECT version, state FROM smig.status();
COMMIT;

SELECT count(*) AS history_rows FROM smig.history;
