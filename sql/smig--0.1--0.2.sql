/* smig--0.1--0.2.sql — everything changed since 0.1.
 *
 * There is no smig--0.2.sql: CREATE EXTENSION smig installs 0.1 and then
 * runs this script, so a new 0.2 database and one upgraded from 0.1 are
 * made by the same statements.
 */

\echo Use "ALTER EXTENSION smig UPDATE TO '0.2'" to load this file. \quit

/*---- guard and audit (issue 10) ----*/

-- The guard before a command starts (src/guard.c): the commands that commit
-- internally (CONCURRENTLY), privileges, extensions, casts, publications,
-- and DROP EXTENSION smig itself are judged from their parse tree.
CREATE FUNCTION smig._guard_ddl_command_start() RETURNS event_trigger
AS 'MODULE_PATHNAME', 'smig_guard_ddl_command_start'
LANGUAGE C;
CREATE EVENT TRIGGER smig_guard_ddl_command_start ON ddl_command_start
    EXECUTE FUNCTION smig._guard_ddl_command_start();
REVOKE ALL ON FUNCTION smig._guard_ddl_command_start() FROM PUBLIC;

-- REASSIGN OWNED fires no event trigger: the ProcessUtility_hook logs it,
-- as event 'utility'.
ALTER TABLE smig.ddl_log DROP CONSTRAINT ddl_log_event_check;
ALTER TABLE smig.ddl_log ADD CONSTRAINT ddl_log_event_check
    CHECK (event IN ('ddl_command_end', 'sql_drop', 'table_rewrite', 'trim', 'utility'));
