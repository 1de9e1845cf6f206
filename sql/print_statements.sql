-- smig.print_statements: each statement of a migration reaches the client
-- as a NOTICE just before it runs, with its migration and the line of its
-- file; up, down and repeatable scripts; off by default
SET smig.allow_drop_extension = on;
DROP EXTENSION IF EXISTS smig CASCADE;
CREATE EXTENSION smig;
\set VERBOSITY terse
CREATE SCHEMA ps;
SET search_path = ps, public;

SHOW smig.print_statements;
SELECT smig.register('1', 'quiet', 'CREATE TABLE ps_quiet (id int);');
SELECT version FROM smig.upgrade_head();

SET smig.print_statements = on;
-- a leading comment, a statement over two lines, a dollar-quoted body:
-- the line is the statement's first line in the file
SELECT smig.register('2', 'users',
    E'-- the users\nCREATE TABLE ps_users (\n    id int PRIMARY KEY);\n\nCREATE FUNCTION ps_f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;\nINSERT INTO ps_users VALUES (1)',
    E'DROP FUNCTION ps_f();\nDROP TABLE ps_users;');
SELECT smig.register_repeatable('users_view', 'CREATE OR REPLACE VIEW ps_quiet_v AS SELECT id FROM ps_quiet;');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();

-- a failing statement: its echo comes first, then the error
SELECT smig.register('3', 'fails', E'CREATE TABLE ps_three ();\nSELECT 1/0;');
SELECT version FROM smig.upgrade_head();

-- a SET in a migration lasts until the migration ends, this one too
SELECT smig.unregister('3');
SELECT smig.register('4', 'silences', E'SET smig.print_statements = off;\nCREATE TABLE ps_four ();');
SELECT smig.register('5', 'after', 'CREATE TABLE ps_five ();');
SELECT version FROM smig.upgrade_head();
SHOW smig.print_statements;

-- a statement that may hold a password shows only its first words
SELECT smig.register('5.1', 'role',
    E'CREATE ROLE regress_ps_role PASSWORD ''hunter2'';\n/* c */ alter\n  user regress_ps_role PASSWORD ''hunter3'';\nCREATE TABLE ps_role_seen (password text);',
    E'DROP TABLE ps_role_seen;\nDROP ROLE regress_ps_role;');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT smig.unregister('5.1');
-- whatever PostgreSQL reads as a comment before the words: a nested block
-- comment, a "--" comment ended by a carriage return
SELECT smig.register('5.11', 'role_comments',
    E'/* a /* nested */ comment */ CREATE ROLE regress_ps_role PASSWORD ''hunter4'';\nALTER -- ends at a CR\rROLE regress_ps_role PASSWORD ''hunter5'';\nCREATE /* x /* y */ */ USER regress_ps_user PASSWORD ''hunter6'';',
    E'DROP USER regress_ps_user;\nDROP ROLE regress_ps_role;');
SELECT version FROM smig.upgrade_head();
SELECT version FROM smig.rollback();
SELECT smig.unregister('5.11');

-- a no-transaction migration's statements, from the background worker,
-- up and down
SELECT smig.register('5.2', 'concurrently',
    E'-- smig:no-transaction\nCREATE INDEX CONCURRENTLY ps_quiet_idx ON ps_quiet (id);\nSELECT 1;',
    E'-- smig:no-transaction\nDROP INDEX CONCURRENTLY ps_quiet_idx;');
CALL smig.upgrade();
CALL smig.downgrade_to('5');
SELECT smig.unregister('5.2');

-- the notices follow client_min_messages like any other
SET client_min_messages = warning;
SELECT smig.register('6', 'unseen', 'CREATE TABLE ps_six ();');
SELECT version FROM smig.upgrade_head();
RESET client_min_messages;
RESET smig.print_statements;

DROP SCHEMA ps CASCADE;
DROP EXTENSION smig CASCADE;
RESET search_path;
