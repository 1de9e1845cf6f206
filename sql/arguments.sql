-- arguments: NULLs are errors (22004), never a silent NULL result; names
-- that are blank or hold control characters are refused (22023)
SET client_min_messages = warning;
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\getenv abs_builddir PG_ABS_BUILDDIR
\set namesdir :abs_builddir '/results/names_dir'

SELECT smig.load_dir(NULL);
SELECT * FROM smig.upgrade_to(NULL);
SELECT * FROM smig.apply(NULL);
SELECT smig.baseline(NULL);
SELECT smig.baseline('1', NULL);
SELECT smig.unregister(NULL);
-- the SQLSTATE
DO $$
BEGIN
    PERFORM smig.apply(NULL);
EXCEPTION WHEN null_value_not_allowed THEN
    RAISE WARNING 'caught SQLSTATE %', SQLSTATE;
END $$;

-- names
SELECT smig.register('1', '', 'SELECT 1;');
SELECT smig.register('1', '   ', 'SELECT 1;');
SELECT smig.register('1', E'two\nlines', 'SELECT 1;');
SELECT smig.register('1', E'tab\there', 'SELECT 1;');
SELECT smig.register('1', E'bell\x07 and \\ back', 'SELECT 1;');
SELECT smig.register('1', E'del\x7f', 'SELECT 1;');
SELECT smig.register('1', E'\r', 'SELECT 1;');
DO $$
BEGIN
    PERFORM smig.register('1', E'a\tb', 'SELECT 1;');
EXCEPTION WHEN invalid_parameter_value THEN
    RAISE WARNING 'caught SQLSTATE %', SQLSTATE;
END $$;
-- spaces inside a name, and non-ASCII letters, are fine
SELECT smig.register('1', 'add users table', 'SELECT 1;');
SELECT smig.register('2', 'ajouté_élève', 'SELECT 1;');

SELECT smig.baseline('5', '');
SELECT smig.baseline('5', ' ');
SELECT smig.baseline('5', E'x\ny');

-- file names with a blank name or a control character
\set mkdirs 'mkdir -p ' :namesdir '/blank ' :namesdir '/tab; cat >/dev/null'
COPY (SELECT 1 WHERE false) TO PROGRAM :'mkdirs';
\set blankfile :namesdir '/blank/V1__ .sql'
\set tabfile :namesdir '/tab/V1__a\tb.sql'
COPY (SELECT 'SELECT 1;') TO :'blankfile';
COPY (SELECT 'SELECT 1;') TO :'tabfile';
\set blankdir :namesdir '/blank'
\set tabdir :namesdir '/tab'
SELECT smig.load_dir(:'blankdir');
SELECT smig.load_dir(:'tabdir');
\set rmdirs 'rm -rf ' :namesdir '; cat >/dev/null'
COPY (SELECT 1 WHERE false) TO PROGRAM :'rmdirs';

-- nothing was registered by the refused calls
SELECT version, name FROM smig.migration ORDER BY version_key;
SELECT count(*) AS history_rows FROM smig.history;
