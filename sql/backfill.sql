-- backfill: CALL smig.backfill() updates a table in batches, a commit per
-- batch, in key order, resumable by name; a trigger counts the updates of
-- every row, so "no row updated twice" is checked, not assumed.
-- (VERBOSITY terse: the progress lines' DETAIL has the rate and the ETA.)
\set VERBOSITY terse
SET client_min_messages = notice;
CREATE TABLE bf_accounts (id int PRIMARY KEY, v int, updates int NOT NULL DEFAULT 0);
INSERT INTO bf_accounts (id, v) SELECT g, g FROM generate_series(1, 25) g;
CREATE FUNCTION bf_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updates := OLD.updates + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER bf_count BEFORE UPDATE ON bf_accounts FOR EACH ROW EXECUTE FUNCTION bf_count();
ANALYZE bf_accounts;

-- three batches of ten, a commit after each
CALL smig.backfill('double_v', 'bf_accounts', 'v = v * 2', batch_size => 10);
SELECT count(*) AS rows, min(updates), max(updates), sum(v) AS sum_v FROM bf_accounts;
SELECT name, relation, key_columns, upper_key, last_key, rows_done, batches,
       started_by = current_user AS started_by_me, finished_at IS NOT NULL AS finished
  FROM smig.backfill;
SELECT action, version, name, detail FROM smig.history WHERE action = 'backfill';
-- finished: not run again
CALL smig.backfill('double_v', 'bf_accounts', 'v = v * 2', batch_size => 10);
SELECT max(updates) FROM bf_accounts;
-- the same name with other arguments
CALL smig.backfill('double_v', 'bf_accounts', 'v = v * 3');
CALL smig.backfill('double_v', 'bf_accounts', 'v = v * 2', 'id > 3');

-- stopped half-way (an error in batch 3), then resumed after the last
-- committed batch: the rows of the committed batches are not updated again
CREATE TABLE bf_stop (at int);
INSERT INTO bf_stop VALUES (23);
CREATE FUNCTION bf_check(i int) RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM bf_stop WHERE at = i) THEN
        RAISE EXCEPTION 'stopped at row %', i;
    END IF;
    RETURN 0;
END $$;
CALL smig.backfill('plus_one', 'bf_accounts', 'v = v + 1 + bf_check(id)', batch_size => 10);
SELECT last_key, rows_done, batches, finished_at IS NULL AS unfinished
  FROM smig.backfill WHERE name = 'plus_one';
SELECT updates, count(*) FROM bf_accounts GROUP BY 1 ORDER BY 1;
DELETE FROM bf_stop;
CALL smig.backfill('plus_one', 'bf_accounts', 'v = v + 1 + bf_check(id)', batch_size => 10);
SELECT updates, count(*) FROM bf_accounts GROUP BY 1 ORDER BY 1;
SELECT sum(v) AS sum_v FROM bf_accounts;

-- rows inserted after the start are the application's: not updated
CREATE TABLE bf_late (id bigint PRIMARY KEY, v int);
INSERT INTO bf_late SELECT g, 0 FROM generate_series(1, 6) g;
INSERT INTO bf_stop VALUES (5);
CREATE FUNCTION bf_check2(i bigint) RETURNS int LANGUAGE sql AS $$ SELECT bf_check(i::int) $$;
CALL smig.backfill('late', 'bf_late', 'v = 1 + bf_check2(id)', batch_size => 2);
DELETE FROM bf_stop;
INSERT INTO bf_late VALUES (7, 0), (8, 0);
CALL smig.backfill('late', 'bf_late', 'v = 1 + bf_check2(id)', batch_size => 2);
SELECT id, v FROM bf_late ORDER BY id;

-- smig's lock settings hold per batch: a table another transaction keeps
-- locked (a prepared one, so the holder is the same every run) times the
-- batch out after smig.lock_timeout, it is retried smig.lock_retries
-- times, then the call stops before anything is recorded, and once the
-- lock is gone the backfill resumes
CREATE TABLE bf_locked (id int PRIMARY KEY, v int);
INSERT INTO bf_locked SELECT g, 0 FROM generate_series(1, 6) g;
BEGIN;
LOCK TABLE bf_locked IN SHARE MODE;
PREPARE TRANSACTION 'bf_holder';
SET smig.lock_timeout = '50ms';
SET smig.lock_retries = 1;
SET smig.retry_backoff = '10ms';
CALL smig.backfill('locked', 'bf_locked', 'v = 1', batch_size => 2);
SELECT last_key, rows_done FROM smig.backfill WHERE name = 'locked';
SELECT id, v FROM bf_locked ORDER BY id;
COMMIT PREPARED 'bf_holder';
CALL smig.backfill('locked', 'bf_locked', 'v = 1', batch_size => 2);
SELECT count(*) FILTER (WHERE v = 1) AS updated FROM bf_locked;
-- and in a batch: a row of the second batch locked (the lock's name holds a
-- transaction id, so only the SQLSTATEs are shown); the first batch stays
-- committed
UPDATE bf_locked SET v = 0;
BEGIN;
SELECT id FROM bf_locked WHERE id = 4 FOR UPDATE;
PREPARE TRANSACTION 'bf_row_holder';
\set VERBOSITY sqlstate
CALL smig.backfill('row_locked', 'bf_locked', 'v = 2', batch_size => 2);
\set VERBOSITY terse
SELECT last_key, rows_done, finished_at IS NULL AS unfinished FROM smig.backfill WHERE name = 'row_locked';
COMMIT PREPARED 'bf_row_holder';
CALL smig.backfill('row_locked', 'bf_locked', 'v = 2', batch_size => 2);
SELECT v, count(*) FROM bf_locked GROUP BY v;
RESET smig.lock_timeout;
RESET smig.lock_retries;
RESET smig.retry_backoff;

-- a composite key of text and int, a WHERE, batches that update nothing
CREATE TABLE bf_pairs (a text, b int, x int, PRIMARY KEY (a, b));
INSERT INTO bf_pairs SELECT chr(97 + g % 3), g, 0 FROM generate_series(1, 20) g;
CALL smig.backfill('pairs', 'bf_pairs', 'x = b', 'b % 2 = 0', 4);
SELECT count(*) FILTER (WHERE x = b) AS updated, count(*) FILTER (WHERE x = 0) AS untouched FROM bf_pairs;
SELECT key_columns, upper_key, last_key, rows_done FROM smig.backfill WHERE name = 'pairs';
-- a unique index on NOT NULL columns serves when there is no primary key
CREATE TABLE bf_uniq (code text NOT NULL, maybe int, x int);
CREATE UNIQUE INDEX ON bf_uniq (maybe);
CREATE UNIQUE INDEX ON bf_uniq (code);
INSERT INTO bf_uniq SELECT 'c' || g, g, 0 FROM generate_series(1, 5) g;
CALL smig.backfill('uniq', 'bf_uniq', 'x = 1');
SELECT key_columns, rows_done FROM smig.backfill WHERE name = 'uniq';
-- an empty table
CREATE TABLE bf_empty (id int PRIMARY KEY, x int);
CALL smig.backfill('empty', 'bf_empty', 'x = 1');
SELECT rows_done, batches, finished_at IS NOT NULL AS finished FROM smig.backfill WHERE name = 'empty';

-- refused, and nothing recorded
CREATE TABLE bf_nokey (id int, x int);
CREATE UNIQUE INDEX ON bf_nokey (id);
CALL smig.backfill('nokey', 'bf_nokey', 'x = 1');
CALL smig.backfill('typo', 'bf_accounts', 'vv = 1');
CALL smig.backfill('typo', 'bf_accounts', 'v = 1', 'no_such_column > 0');
CALL smig.backfill('size', 'bf_accounts', 'v = 1', batch_size => 0);
CALL smig.backfill('pause', 'bf_accounts', 'v = 1', pause => '-1 s');
CALL smig.backfill('pause', 'bf_accounts', 'v = 1', pause => '1 mon');
CALL smig.backfill(' ', 'bf_accounts', 'v = 1');
CALL smig.backfill(NULL, 'bf_accounts', 'v = 1');
BEGIN;
CALL smig.backfill('in_tx', 'bf_accounts', 'v = 1');
ROLLBACK;
CREATE FUNCTION bf_in_function() RETURNS void LANGUAGE plpgsql AS $$
BEGIN CALL smig.backfill('in_function', 'bf_accounts', 'v = 1'); END $$;
SELECT bf_in_function();
SELECT name FROM smig.backfill WHERE name IN ('nokey', 'typo', 'size', 'pause', 'in_tx', 'in_function');
-- a top-level DO block may commit: it can run one
DO $$ BEGIN CALL smig.backfill('in_do', 'bf_accounts', 'v = v', batch_size => 10); END $$;

-- privileges: EXECUTE is granted to no one; with it, the caller's own
-- rights on the table decide, and the UPDATE runs as the caller
SELECT has_function_privilege('public', 'smig.backfill(text, regclass, text, text, integer, interval)', 'EXECUTE') AS public_may;
CREATE ROLE regress_backfiller;
GRANT USAGE ON SCHEMA smig TO regress_backfiller;
GRANT EXECUTE ON PROCEDURE smig.backfill(text, regclass, text, text, integer, interval) TO regress_backfiller;
SET ROLE regress_backfiller;
CALL smig.backfill('not_mine', 'bf_accounts', 'v = 0');
RESET ROLE;
-- reading is not enough: refused before anything is recorded
GRANT SELECT ON bf_accounts TO regress_backfiller;
SET ROLE regress_backfiller;
CALL smig.backfill('not_mine', 'bf_accounts', 'v = 0');
RESET ROLE;
REVOKE SELECT ON bf_accounts FROM regress_backfiller;
GRANT SELECT, UPDATE ON bf_pairs TO regress_backfiller;
SET ROLE regress_backfiller;
CALL smig.backfill('mine', 'bf_pairs', 'x = -1', 'b = 1');
RESET ROLE;
SELECT started_by, rows_done FROM smig.backfill WHERE name = 'mine';
SELECT role FROM smig.history WHERE action = 'backfill' AND version = 'mine';
SELECT count(*) AS not_mine FROM smig.backfill WHERE name = 'not_mine';
-- the bookkeeping is smig's: no role writes it
SET ROLE regress_backfiller;
UPDATE smig.backfill SET last_key = NULL;
RESET ROLE;
REVOKE ALL ON bf_pairs FROM regress_backfiller;
REVOKE ALL ON SCHEMA smig FROM regress_backfiller;
REVOKE ALL ON PROCEDURE smig.backfill(text, regclass, text, text, integer, interval) FROM regress_backfiller;
DROP ROLE regress_backfiller;
DROP TABLE bf_accounts, bf_stop, bf_late, bf_locked, bf_pairs, bf_uniq, bf_empty, bf_nokey;
DROP FUNCTION bf_count(), bf_check(int), bf_check2(bigint), bf_in_function();
\set VERBOSITY default
