/*-------------------------------------------------------------------------
 * client.h
 *	  The smig command-line client: what its modules share.
 *
 *	  smig.c   options, help, the commands
 *	  conn.c   connections (libpq settings, --wait, passwords), queries,
 *	           output (plain lines, --json), two-phase commit over several
 *	           databases
 *	  files.c  the migrations directory: file names, reading, local checks
 *	           with src/common's lexer, checksums, the register_many array
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_CLIENT_H
#define SMIG_CLIENT_H

#include "postgres_fe.h"

#include "libpq-fe.h"
#include "pqexpbuffer.h"

#include "migfile.h"

/* exit codes */
#define EXIT_OK			0
#define EXIT_FAILED		1		/* a migration (or a file) failed */
#define EXIT_USAGE		2		/* usage or connection error */
#define EXIT_VERIFY		3		/* verification failed */

/*---- options (smig.c) ----*/
typedef struct Options
{
	const char *dbnames[64];	/* -d, in order given */
	int			ndbnames;
	const char *host;
	const char *port;
	const char *user;
	int			prompt_password;	/* -W: 1, -w: -1, default 0 */
	const char *dir;
	int			wait_seconds;
	bool		json;
	bool		yes;
	bool		verbose;
	const char *to;
	int			steps;			/* 0: not given */
	bool		dry_run;
	bool		each;
	int			limit;
	const char *backup;			/* up --backup FILE */
	const char *argv0;
} Options;

extern Options opts;

/*---- files.c ----*/
typedef struct LocalMigration
{
	char	   *file;			/* the up file's name */
	char	   *version;		/* "" for a repeatable migration */
	char	   *label;			/* version, or R__<name> */
	char	   *name;
	MigFileKind kind;			/* MIGFILE_UP, _BASELINE or _REPEATABLE */
	char	   *up_text;		/* the up file, whole */
	size_t		up_len;
	char	   *down_file;		/* NULL when none */
	char	   *down_text;
	size_t		down_len;
	char		checksum[65];	/* of the up script, as the server computes it
								 * (once checked) */
	char		text_checksum[65];	/* of the whole up text (register_many) */
	char		down_checksum[65];	/* of the down text, "" when none */
	char	   *key;			/* version sort key (NULL when repeatable) */
	/* set by the lexer's checks (files_check()), else unset: */
	bool		checked;
	bool		run_on_change;	/* has -- smig:run-on-change */
} LocalMigration;

typedef struct LocalDir
{
	const char *dir;
	bool		exists;
	LocalMigration *m;			/* versioned by key, then repeatable by name */
	int			n;
	int			nversioned;		/* m[0 .. nversioned) are versioned */
} LocalDir;

/*
 * Read every migration file of dir, check the names and pair up and down
 * files; false after an error.  With lex_all, check every file's text with
 * the lexer too (sections, directives, statements); else only repeatable
 * migrations' (whose texts are always sent), and files_check() checks the
 * others that are needed: `up` lexes only what the server says is new or
 * changed, as the server does.  text_checksum and down_checksum are always
 * set; checksum and run_on_change once checked.
 */
extern bool files_read_dir(const char *dir, LocalDir *out, bool lex_all);

/* Check m's files as files_read_dir(.., true) does; false after an error. */
extern bool files_check(const LocalDir *d, LocalMigration *m);

/*
 * The register_many() argument for d: every migration with its texts
 * (with_text NULL), or each versioned one as a checksum-only element unless
 * with_text[i] (repeatable migrations always carry their text).
 */
extern void files_register_json(const LocalDir *d, const bool *with_text,
								bool checksums_only, PQExpBuffer out);

/* The migration labelled label, or NULL. */
extern const LocalMigration *files_find(const LocalDir *d, const char *label);

/* SHA-256 (hex) of buf[0..len) normalised as the server does. */
extern void files_checksum(const char *buf, size_t len, char *hex);

/* The up script of text as register() takes it (after its up marker). */
extern void files_up_script(const char *text, size_t len,
							size_t *start, size_t *end);

/* smig new NAME: write the template files; exit code. */
extern int	files_new(const char *dir, const char *name);

/*---- conn.c ----*/
typedef struct Db
{
	PGconn	   *conn;
	char	   *label;			/* "db on host:port", never a password */
	char		gid[64];		/* prepared transaction, or "" */
	bool		in_tx;
} Db;

extern Db  *dbs;
extern int	ndbs;

/* Connect to every database of the options; exit code. */
extern int	conn_open_all(void);
extern void conn_close_all(void);

/* Run sql; NULL (after printing the error naming the database) on error. */
extern PGresult *db_exec(Db *db, const char *sql, int nparams,
						 const char *const *params);
/* Run a command whose result is not needed; false on error. */
extern bool db_command(Db *db, const char *sql);

/* Two-phase commit over every database: prepare all, then commit. */
extern bool conn_prepare_all(void);
extern bool conn_commit_prepared_all(void);
/* Undo everything: roll back open transactions and prepared ones. */
extern void conn_abort_all(void);

/* up --backup: pg_dump -Fc each database to its file; false on failure. */
extern bool conn_backup_all(const char *file);
extern char *conn_backup_file(const char *file, int i);

/* Output of query results: aligned plain lines, or a JSON array. */
extern void out_result(PGresult *res, const char *empty_msg);
extern void out_json_string(PQExpBuffer b, const char *s);
extern void out_json_rows(PQExpBuffer b, PGresult *res);

#endif							/* SMIG_CLIENT_H */
