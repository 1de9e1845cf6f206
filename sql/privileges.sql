-- privileges: nothing for PUBLIC; the documented deployer role can migrate
-- without any right on smig's tables, and cannot forge history
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse

-- nothing is granted to PUBLIC
SELECT count(*) AS public_function_grants
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'smig'::regnamespace AND a.grantee = 0;
SELECT count(*) AS public_table_grants
  FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
 WHERE c.relnamespace = 'smig'::regnamespace AND a.grantee = 0;
-- every SECURITY DEFINER function pins its search_path
SELECT p.proname FROM pg_proc p
 WHERE p.pronamespace = 'smig'::regnamespace AND p.prosecdef
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false);

CREATE ROLE regress_nobody;
SET ROLE regress_nobody;
SELECT * FROM smig.status();
SELECT * FROM smig.upgrade_head();
RESET ROLE;

-- the deployer recipe from README.md
CREATE ROLE regress_deployer;
GRANT USAGE ON SCHEMA smig TO regress_deployer;
GRANT EXECUTE ON FUNCTION
    smig.register(text, text, text, text, jsonb),
    smig.upgrade_head(), smig.upgrade_to(text), smig.apply(text),
    smig.rollback(integer), smig.downgrade(text),
    smig.status(), smig.pending(), smig.current(), smig.verify_checksum()
  TO regress_deployer;
-- plus the rights its migrations need
CREATE SCHEMA regress_app AUTHORIZATION regress_deployer;

SET ROLE regress_deployer;
SELECT smig.register('1', 'accounts', 'CREATE TABLE regress_app.accounts (id int);');
SELECT version, name FROM smig.upgrade_head();
SELECT version, state FROM smig.status();
-- it cannot write smig's tables itself
INSERT INTO smig.history (action, version, version_key, name, role, session_role, started_at, txid)
VALUES ('apply', '9', '119', 'forged', 'x', 'x', now(), '1');
UPDATE smig.applied SET checksum = 'x';
DELETE FROM smig.migration;
SELECT * FROM smig.history;
-- nor accept edits or move the baseline: those stay with the administrator
SELECT * FROM smig.repair();
SELECT smig.baseline('100');
-- a migration needs the rights of its statements, as the caller
SELECT smig.register('2', 'outside', 'CREATE TABLE public.not_mine (id int);');
SELECT version FROM smig.upgrade_head();
-- its temporary objects cannot stand in for smig's: bookkeeping searches
-- pg_catalog before pg_temp
CREATE DOMAIN pg_temp.jsonb AS int;
SELECT smig.register('3', 'shadowed', 'CREATE TABLE regress_app.shadowed (id int);');
SELECT version, name FROM smig.apply('3');
DROP DOMAIN pg_temp.jsonb;
-- it reverts what it applied, too
SELECT smig.register('4', 'reversible', 'CREATE TABLE regress_app.rev (id int);', 'DROP TABLE regress_app.rev;');
SELECT version FROM smig.apply('4');
SELECT version FROM smig.rollback();
RESET ROLE;

-- history names the deployer, and the session user behind SET ROLE
SELECT action, version, role, session_role = session_user AS session_ok FROM smig.history ORDER BY id;
SELECT tableowner FROM pg_tables WHERE schemaname = 'regress_app';

DROP SCHEMA regress_app CASCADE;
DROP EXTENSION smig CASCADE;
DROP OWNED BY regress_deployer, regress_nobody;
DROP ROLE regress_deployer;
DROP ROLE regress_nobody;
