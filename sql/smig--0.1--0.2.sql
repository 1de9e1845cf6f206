/* smig--0.1--0.2.sql — everything changed since 0.1.
 *
 * There is no smig--0.2.sql: CREATE EXTENSION smig installs 0.1 and then
 * runs this script, so a new 0.2 database and one upgraded from 0.1 are
 * made by the same statements.
 */

\echo Use "ALTER EXTENSION smig UPDATE TO '0.2'" to load this file. \quit
