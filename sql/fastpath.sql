-- fastpath: smig.summary's generations answer "nothing to do" from one row, and
-- never hide work: registering, editing, or writing the tables by hand
-- sends upgrade_head() down the full path again
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
SET client_min_messages = warning;
CREATE VIEW fp AS
    SELECT clean_gen = registry_gen AS up_to_date, stale FROM smig.summary;

SELECT * FROM fp;                                   -- fresh: not yet marked clean
SELECT smig.register('1', 'one', 'CREATE TABLE fp_one ();');
SELECT smig.register('2', 'two', 'CREATE TABLE fp_two ();');
SELECT * FROM fp;                                   -- two pending
SELECT version FROM smig.upgrade_head();
SELECT * FROM fp;                                   -- up to date again
SELECT count(*) FROM smig.upgrade_head();           -- the fast path

-- re-registering the same text changes nothing
SELECT smig.register('2', 'two', 'CREATE TABLE fp_two ();');
SELECT * FROM fp;

-- an edit is seen, refused, and repaired
SELECT smig.register('2', 'two', 'CREATE TABLE fp_two (id int);');
SELECT * FROM fp;
SELECT count(*) FROM smig.upgrade_head();
SELECT version FROM smig.repair();
SELECT * FROM fp;

-- a baseline leaves registered versions unapplied: the full path decides
SELECT smig.register('3', 'three', 'CREATE TABLE fp_three ();');
SELECT smig.baseline('3');
SELECT * FROM fp;
SELECT count(*) FROM smig.upgrade_head();

-- a write by hand (not through smig) marks the summary stale ...
DROP EXTENSION smig CASCADE;
DROP TABLE fp_one, fp_two;
CREATE EXTENSION smig;
CREATE VIEW fp AS
    SELECT clean_gen = registry_gen AS up_to_date, stale FROM smig.summary;
SELECT smig.register('1', 'one', 'CREATE TABLE fp_one ();');
SELECT version FROM smig.upgrade_head();
INSERT INTO smig.migration (version_key, version, name, up_sql, checksum, registered_by, run_as)
VALUES (smig.version_key('2'), '2', 'by_hand', 'CREATE TABLE fp_two ();',
        smig.checksum('CREATE TABLE fp_two ();'), current_user, current_user);
SELECT * FROM fp;
-- ... so upgrade_head() takes the full path, finds it, and marks it clean
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM fp;
-- the same for smig.applied
DELETE FROM smig.applied WHERE version = '2';
SELECT * FROM fp;
SELECT version, state FROM smig.status();
DROP TABLE fp_two;
SELECT version FROM smig.upgrade_head();
SELECT * FROM fp;

-- a fresh summary row starts unclean (a data-only restore with triggers
-- disabled leaves one): the full path runs once and marks it clean
SELECT smig.register('3', 'three', 'CREATE TABLE fp_three ();');
UPDATE smig.summary SET registry_gen = 1, clean_gen = 0, stale = false;
SELECT version, name FROM smig.upgrade_head();
SELECT * FROM fp;

-- smig's own writes stay smig's own after an error is caught inside them:
-- a trigger on smig.ddl_log whose EXCEPTION block catches an error (a
-- subtransaction abort inside smig's write) used to reset the owner-scope
-- depth to zero, so the next exit drove it negative and every later smig
-- write looked foreign (stale summary, fast path lost)
CREATE FUNCTION fp_catching() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM 1 / 0;
    EXCEPTION WHEN division_by_zero THEN
        NULL;
    END;
    RETURN NULL;
END $$;
CREATE TRIGGER fp_catching AFTER INSERT ON smig.ddl_log
    FOR EACH ROW EXECUTE FUNCTION fp_catching();
CREATE TABLE fp_logged ();          -- logged: the trigger catches its error
SELECT smig.register('4', 'four', 'CREATE TABLE fp_four ();');
SELECT * FROM fp;                   -- smig's write was not foreign
SELECT version FROM smig.upgrade_head();
SELECT * FROM fp;
SELECT count(*) FROM smig.upgrade_head();
DROP TRIGGER fp_catching ON smig.ddl_log;
DROP FUNCTION fp_catching();
DROP TABLE fp_logged, fp_four;

-- and an error inside smig's own write, caught by the caller's EXCEPTION
-- block, leaves no scope open: a later write by hand is still foreign
CREATE FUNCTION fp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'refused by a trigger'; END $$;
CREATE TRIGGER fp_refuse BEFORE INSERT ON smig.migration
    FOR EACH ROW EXECUTE FUNCTION fp_refuse();
DO $$
BEGIN
    PERFORM smig.register('5', 'five', 'CREATE TABLE fp_five ();');
EXCEPTION WHEN raise_exception THEN
    RAISE WARNING 'caught: %', SQLERRM;
END $$;
DROP TRIGGER fp_refuse ON smig.migration;
DROP FUNCTION fp_refuse();
SELECT * FROM fp;
DELETE FROM smig.applied WHERE false;   -- by hand
SELECT * FROM fp;                       -- stale: the write was foreign
DROP VIEW fp;

-- the schema fingerprint is recorded by an action that changes something,
-- never when nothing is pending, on the slow path or the fast one
-- (pg_stat_xact_user_functions counts the calls of smig._record_schema()
-- in the transaction)
CREATE VIEW fp_fingerprints AS
    SELECT coalesce(sum(calls), 0) AS fingerprints FROM pg_stat_xact_user_functions
     WHERE schemaname = 'smig' AND funcname = '_record_schema';
SET track_functions = 'all';
BEGIN;
SELECT count(*) AS applied FROM smig.upgrade_head();    -- stale: the slow path
SELECT * FROM fp_fingerprints;
COMMIT;
BEGIN;
SELECT count(*) AS applied FROM smig.upgrade_head();    -- the fast path
SELECT * FROM fp_fingerprints;
COMMIT;
SELECT smig.register('6', 'six', 'CREATE TABLE fp_six ();');
BEGIN;
SELECT count(*) AS applied FROM smig.upgrade_head();
SELECT * FROM fp_fingerprints;
COMMIT;
RESET track_functions;
DROP VIEW fp_fingerprints;
