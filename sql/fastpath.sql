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
INSERT INTO smig.migration (version_key, version, name, up_sql, checksum)
VALUES (smig.version_key('2'), '2', 'by_hand', 'CREATE TABLE fp_two ();',
        smig.checksum('CREATE TABLE fp_two ();'));
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
DROP VIEW fp;
