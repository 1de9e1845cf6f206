/* smig--0.1--0.2.sql — everything changed since 0.1.
 *
 * There is no smig--0.2.sql: CREATE EXTENSION smig installs 0.1 and then
 * runs this script, so a new 0.2 database and one upgraded from 0.1 are
 * made by the same statements.
 */

\echo Use "ALTER EXTENSION smig UPDATE TO '0.2'" to load this file. \quit

/*---- registration and errors (issue 10) ----*/

-- A NULL argument is an error (22004), not a silent NULL result.
ALTER FUNCTION smig.load_dir(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.upgrade_to(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.apply(text) CALLED ON NULL INPUT;
ALTER FUNCTION smig.baseline(text, text) CALLED ON NULL INPUT;

CREATE FUNCTION smig.unregister(version text) RETURNS void
AS 'MODULE_PATHNAME', 'smig_unregister'
LANGUAGE C VOLATILE;
COMMENT ON FUNCTION smig.unregister(text) IS
    'Take back a registered migration that is not applied; an applied one is refused.';
REVOKE ALL ON FUNCTION smig.unregister(text) FROM PUBLIC;
