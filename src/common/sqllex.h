/*-------------------------------------------------------------------------
 * sqllex.h
 *	  A small SQL script lexer shared by the smig extension and client.
 *
 * Plain C (no backend headers): it splits a migration script into
 * statements the way psql would, skipping comments and understanding
 * quoted identifiers, standard and E'' strings and dollar quotes, and
 * classifies each statement (transaction control, psql meta-command, or
 * plain SQL).  It also reads "-- smig:" directives and splits a file into
 * "-- smig:up" / "-- smig:down" sections.  Nothing here allocates memory:
 * results are offsets into the caller's buffer.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_SQLLEX_H
#define SMIG_SQLLEX_H

#include <stddef.h>

typedef enum SqlStmtKind
{
	SQL_STMT_PLAIN,				/* anything a migration may run */
	SQL_STMT_BEGIN,				/* BEGIN [WORK|TRANSACTION] ..., START TRANSACTION ... */
	SQL_STMT_COMMIT,			/* COMMIT [WORK|TRANSACTION], END [WORK|TRANSACTION] */
	SQL_STMT_TXN_OTHER,			/* ROLLBACK, ABORT, SAVEPOINT, RELEASE, PREPARE
								 * TRANSACTION, COMMIT PREPARED, ROLLBACK PREPARED */
	SQL_STMT_META,				/* a psql backslash command (\i, \set, ...) */
	SQL_STMT_COPY_STDIO			/* COPY ... FROM STDIN or COPY ... TO STDOUT:
								 * its data goes through the client
								 * connection */
} SqlStmtKind;

typedef struct SqlStmt
{
	size_t		start;			/* offset of the statement's first byte */
	size_t		end;			/* offset just past its last byte; excludes
								 * the terminating ';' and trailing blanks
								 * and comments (comments between its tokens
								 * are kept) */
	int			line;			/* 1-based line number of start */
	SqlStmtKind kind;
} SqlStmt;

typedef enum SqlLexStatus
{
	SQLLEX_OK = 1,				/* *out holds the next statement */
	SQLLEX_END = 0,				/* no more statements */
	SQLLEX_ERROR = -1			/* unterminated literal or comment: see
								 * error, error_line */
} SqlLexStatus;

typedef struct SqlLexer
{
	const char *buf;
	size_t		len;
	size_t		pos;
	int			line;
	const char *error;			/* static message when SQLLEX_ERROR */
	int			error_line;		/* line where the unterminated thing began */
} SqlLexer;

/* Start lexing buf[0..len).  A leading UTF-8 byte order mark is skipped. */
extern void sqllex_init(SqlLexer *lx, const char *buf, size_t len);

/*
 * Likewise, for text that starts at line first_line of its file (a
 * section: see sqllex_split_sections and sqllex_line_at), so that every
 * line reported counts from the file's first line.  sqllex_init is
 * sqllex_init_at with first_line 1.
 */
extern void sqllex_init_at(SqlLexer *lx, const char *buf, size_t len,
						   int first_line);

/*
 * The 1-based line of offset pos of buf (pos <= len), counting line ends
 * as the lexer does: "\r\n", a lone "\r" and a lone "\n" each end one
 * line (as libpq does when it shows an error position).  With pos the
 * start of a section, this is the first_line to lex the section with.
 */
extern int	sqllex_line_at(const char *buf, size_t len, size_t pos);

/*
 * Return the next statement.  Empty statements (";;", comments only) are
 * skipped.  A statement without a final ';' at the end of input is still
 * returned.  ';' inside parentheses, literals, comments and inside the
 * BEGIN ATOMIC ... END body of CREATE FUNCTION/PROCEDURE does not end a
 * statement.  A backslash outside literals and comments starts a psql
 * meta-command, returned as its own SQL_STMT_META statement that runs to
 * the end of its line.
 *
 * Details: a statement in progress when a backslash appears ends just
 * before it; a meta-command's span excludes trailing blanks (and psql's
 * "\;" is reported as a meta-command too).  The kind comes from the first
 * two tokens, when they are words; SQL_STMT_COPY_STDIO is a statement
 * starting with the word COPY in which, outside parentheses, the word FROM
 * is followed by STDIN or the word TO by STDOUT.  After SQLLEX_ERROR,
 * further calls return SQLLEX_ERROR again.
 */
extern SqlLexStatus sqllex_next(SqlLexer *lx, SqlStmt *out);

/*
 * A statement that may hold a password (CREATE/ALTER ROLE, USER, USER
 * MAPPING, GROUP, SERVER, SUBSCRIPTION, ALTER SYSTEM): the length of its
 * beginning, up to its second word, which is all that an echo of it may
 * show; 0 for any other statement.  For smig.print_statements and the
 * client's -v.
 */
extern size_t sqllex_password_prefix(const char *buf, size_t len);

/*
 * Directives: lines of the form "-- smig:NAME [ARGUMENT]" in the leading
 * comment block of a script (before its first statement; blank lines and
 * other comments may be mixed in).  Section markers (smig:up, smig:down,
 * migrate:up, migrate:down) are not directives and are skipped.
 * Call repeatedly with *pos starting at 0; returns 1 and fills the spans
 * (pointers into buf, not NUL-terminated; arg_len may be 0), or 0 when no
 * directive is left.
 *
 * NAME is the run of non-blank bytes after "smig:" (never empty), so a
 * misspelt "-- smig:lock_timeout 5s" comes back whole for the caller to
 * reject; ARGUMENT is the rest of the line, trimmed of blanks.  Only "--"
 * lines hold directives; block comments are skipped; "-- migrate:..."
 * lines and text before "smig:" ("-- see smig:x") are plain comments.
 */
extern int	sqllex_next_directive(const char *buf, size_t len, size_t *pos,
								  const char **name, size_t *name_len,
								  const char **arg, size_t *arg_len,
								  int *line);

/*
 * Sections: a line consisting only of "-- smig:up" or "-- migrate:up"
 * (likewise ":down"), outside any literal or block comment, marks a
 * section.  Returns 0 when the script has no markers (the whole script is
 * "up"), 1 when it has them, and -1 when they are malformed (a marker
 * repeated, or down before up; *error says which, *error_line where).
 * On 1, [*up_start, *up_end) is the text after the up marker and before
 * the down marker (or the end), and [*down_start, *down_end) the text
 * after the down marker (*down_start == *down_end == len when there is
 * none).  Text before the up marker must be blank or comments; it is not
 * part of either section.
 *
 * Details: blanks may precede and follow a marker, and any number of
 * spaces (or none) may follow the "--".  A down marker without an up
 * marker is accepted: the text before it is the up section.  Also -1:
 * statements before an up marker (*error_line is the first one's line),
 * and a marker followed by other text ("-- migrate:down transaction:false"),
 * which would otherwise be a comment and run the down section as part of
 * up.  Sections start after the marker line's line break; *up_end is the
 * start of the down marker's line.  On 0, [*up_start, *up_end) is the whole
 * script after any byte order mark.  An unterminated literal or comment
 * hides any marker after it (sqllex_next reports it).
 */
extern int	sqllex_split_sections(const char *buf, size_t len,
								  size_t *up_start, size_t *up_end,
								  size_t *down_start, size_t *down_end,
								  const char **error, int *error_line);

/*
 * The command PostgreSQL refuses to run inside a transaction block, if
 * the statement buf[0..len) is one (CREATE INDEX CONCURRENTLY, DROP INDEX
 * CONCURRENTLY, REINDEX ... CONCURRENTLY, REINDEX SCHEMA/DATABASE/SYSTEM,
 * VACUUM, ALTER SYSTEM, CREATE/DROP DATABASE, CREATE/DROP TABLESPACE,
 * ALTER DATABASE ... SET TABLESPACE, ALTER TABLE ... DETACH PARTITION ...
 * CONCURRENTLY, CLUSTER without a table, DISCARD ALL), as a static string
 * naming it; NULL otherwise.  Only the leading words of the statement are
 * read, past comments; it errs towards NULL (the server still refuses
 * what this misses, when the migration runs).
 */
extern const char *sqllex_no_transaction(const char *buf, size_t len);

#endif							/* SMIG_SQLLEX_H */
