-- attacks_0_2b: a hostile review of the newest 0.2 code -- backfill,
-- plan/rehearse, the destructive gate, no-transaction migrations in the
-- worker, lock retries.  Each numbered attack worked before its fix;
-- "held:" marks attacks that did not.
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;

CREATE ROLE regress_a2b_author;
CREATE ROLE regress_a2b_dep;
CREATE ROLE regress_a2b_other;
GRANT USAGE ON SCHEMA smig TO regress_a2b_author, regress_a2b_dep, regress_a2b_other;
GRANT EXECUTE ON FUNCTION smig.register(text, text, text, text, jsonb),
    smig.unregister(text), smig.upgrade_head(), smig.status()
    TO regress_a2b_author, regress_a2b_dep, regress_a2b_other;
GRANT EXECUTE ON PROCEDURE smig.upgrade(text),
    smig.backfill(text, regclass, text, text, integer, interval)
    TO regress_a2b_author, regress_a2b_dep, regress_a2b_other;
CREATE SCHEMA a2b AUTHORIZATION regress_a2b_author;
CREATE TABLE a2b.busy (id int);
ALTER TABLE a2b.busy OWNER TO regress_a2b_author;

-- 1. a lock retry's holders query ran as the deployer (here a superuser)
-- with the migration's search_path: an author's operator "=" on it ran
-- with the deployer's rights.  Now the query runs with search_path
-- pinned; the operator is never called.
SET ROLE regress_a2b_author;
SELECT smig.register('1', 'hijack_holders', $m$
CREATE FUNCTION a2b.eq(text, text) RETURNS boolean LANGUAGE plpgsql AS $f$
BEGIN
    IF current_user <> 'regress_a2b_author' THEN
        RAISE WARNING 'author''s operator runs as %', current_user;
    END IF;
    RETURN $1 OPERATOR(pg_catalog.=) $2;
END $f$;
CREATE OPERATOR a2b.= (LEFTARG = text, RIGHTARG = text, FUNCTION = a2b.eq);
SET search_path = a2b, pg_catalog;
LOCK TABLE a2b.busy;
$m$, NULL, '{"lock_timeout": "50ms", "lock_retries": 1}');
RESET ROLE;
BEGIN;
LOCK TABLE a2b.busy IN ACCESS SHARE MODE;
PREPARE TRANSACTION 'regress_a2b_holder';
\set VERBOSITY terse
SET client_min_messages = warning;
SET smig.retry_backoff = '10ms';
SELECT * FROM smig.upgrade_head();
ROLLBACK PREPARED 'regress_a2b_holder';
SELECT version, state FROM smig.status();
SET ROLE regress_a2b_author;
SELECT smig.unregister('1');
RESET ROLE;

-- 2. a backfill's arguments (another role's SQL, which smig.backfill
-- keeps from it) were shown to any caller who named it with other
-- arguments.  Now only members of the role that started it see them.
CREATE TABLE a2b.secret (id int PRIMARY KEY, v text);
ALTER TABLE a2b.secret OWNER TO regress_a2b_author;
INSERT INTO a2b.secret VALUES (1, 'a');
CREATE TABLE public.a2b_mine (id int PRIMARY KEY, v int);
ALTER TABLE public.a2b_mine OWNER TO regress_a2b_other;
SET ROLE regress_a2b_author;
CALL smig.backfill('bf', 'a2b.secret', $$v = 'api_key=hunter2'$$, $$id < 0$$);
SET ROLE regress_a2b_other;
\set VERBOSITY default
CALL smig.backfill('bf', 'public.a2b_mine', 'v = 2');
SELECT * FROM smig.backfill;
-- the starter still sees them
SET ROLE regress_a2b_author;
CALL smig.backfill('bf', 'a2b.secret', 'v = v');
\set VERBOSITY terse
RESET ROLE;

-- held: the worker of a no-transaction migration (connected as the
-- bootstrap superuser for a NOLOGIN run-as role) cannot get back to it
SET ROLE regress_a2b_author;
SELECT smig.register('2', 'reset_role', E'-- smig:no-transaction\nRESET ROLE;');
CALL smig.upgrade();
SELECT smig.unregister('2');
SELECT smig.register('2', 'discard_all', E'-- smig:no-transaction\nDISCARD ALL;');
CALL smig.upgrade();
SELECT smig.unregister('2');
SELECT smig.register('2', 'session_auth', E'-- smig:no-transaction\nDO $x$ BEGIN EXECUTE ''SET SESSION AUTHORIZATION DEFAULT''; END $x$;');
CALL smig.upgrade();
SELECT smig.unregister('2');
-- held: nor switch the destructive gate off, in the worker or in a migration
SELECT smig.register('2', 'gate_off', E'-- smig:no-transaction\nSELECT set_config(''smig.destructive'', ''allow'', false);');
CALL smig.upgrade();
SELECT smig.unregister('2');
SELECT smig.register('2', 'gate_off_tx', E'SET smig.destructive = allow;');
SELECT * FROM smig.upgrade_head();
SELECT smig.unregister('2');
SET smig.destructive = allow;
RESET ROLE;

SET smig.allow_drop_extension = on;
DROP EXTENSION smig CASCADE;
DROP SCHEMA a2b CASCADE;
DROP TABLE public.a2b_mine;
DROP OWNED BY regress_a2b_author, regress_a2b_dep, regress_a2b_other;
DROP ROLE regress_a2b_author, regress_a2b_dep, regress_a2b_other;
