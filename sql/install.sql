-- install: CREATE EXTENSION, its objects, dump registration, append-only history
CREATE EXTENSION smig;
SELECT extname, extversion, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'smig';

-- every function of the API
SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS function,
       p.prosecdef AS security_definer,
       p.proconfig
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'smig'
 ORDER BY 1;

-- the audit trail's event triggers
SELECT evtname, evtevent, evtfoid::regproc, evtenabled FROM pg_event_trigger ORDER BY 1;

-- tables registered for pg_dump
SELECT unnest(extconfig)::regclass AS dumped FROM pg_extension WHERE extname = 'smig' ORDER BY 1;

-- not relocatable
ALTER EXTENSION smig SET SCHEMA public;

-- the smig.* settings are reserved once the library is loaded
SELECT smig.version_key('1') IS NOT NULL AS loaded;
SET smig.no_such_setting = on;
SHOW smig.out_of_order;

-- history is append-only, even for a superuser
INSERT INTO smig.history (action, version, version_key, name, role, session_role, started_at, txid)
VALUES ('baseline', '0', smig.version_key('0'), 'x', current_user, session_user, now(), pg_current_xact_id());
UPDATE smig.history SET name = 'y';
DELETE FROM smig.history;
TRUNCATE smig.history;
SELECT count(*) FROM smig.history;

-- dropping the extension removes its objects (CREATE EXTENSION made the
-- schema itself, which stays, empty)
SET smig.allow_drop_extension = on;
DROP EXTENSION smig;
SELECT count(*) AS objects_left FROM pg_class WHERE relnamespace = 'smig'::regnamespace;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace = 'smig'::regnamespace;
