/*-------------------------------------------------------------------------
 * files.c
 *	  The migrations directory, read by the client.
 *
 * Every file is read here and its name checked with src/common/migfile.c
 * before anything is sent.  Sections, directives and statements are checked
 * with src/common/sqllex.c (the server's lexer) before a file's text is
 * sent: by `up` only for the files the server names as new or changed (and
 * for repeatable migrations, whose texts are always sent), as the server
 * lexes only those; by `status`, `verify` and `new` for every file.  A
 * malformed file is reported with its name and line.  The server checks
 * everything again when register_many() receives the texts; the client's
 * checks only make the error early and local.  Checksums use
 * src/common/cksumnorm.c and SHA-256 (OpenSSL, or libpgcommon), so they
 * equal smig.checksum().
 *-------------------------------------------------------------------------
 */
#include "client.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/logging.h"
#include "common/sha2.h"
#ifdef USE_OPENSSL
#include <openssl/evp.h>
#endif

#include "cksumnorm.h"
#include "sqllex.h"
#include "version.h"

/* One file of the directory, before up and down files are paired. */
typedef struct DirEntry
{
	char	   *file;
	MigFileName parsed;
	char	   *version;
	char	   *name;
	char	   *key;			/* NULL for repeatable migrations */
	char	   *text;
	size_t		len;
} DirEntry;

static char *
dupn(const char *s, size_t n)
{
	char	   *r = pg_malloc(n + 1);

	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

/* dir/name, without printf's machinery (once per file) */
static char *
join_path(const char *dir, const char *name)
{
	size_t		dl = strlen(dir);
	size_t		nl = strlen(name);
	char	   *p = pg_malloc(dl + nl + 2);

	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

/*
 * Read file name of directory dirfd whole (path names it in errors); NULL
 * after an error.  One openat (relative to the directory, so the kernel
 * looks up one name, not the whole path) and, for a file under 64 kB, one
 * read and a close: a start-up reads thousands of files, and these system
 * calls are most of what that costs.  A read short of what was asked is the
 * end of a regular file.
 */
static char *
read_file(int dirfd, const char *name, const char *path, size_t *len)
{
	static char *chunk;
	static size_t chunk_cap = 65536;
	int			fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	size_t		n = 0;
	char	   *buf;

	if (fd < 0)
	{
		pg_log_error("could not open file \"%s\": %m", path);
		return NULL;
	}
	if (chunk == NULL)
		chunk = pg_malloc(chunk_cap);
	for (;;)
	{
		ssize_t		got = read(fd, chunk + n, chunk_cap - n);

		if (got < 0)
		{
			if (errno == EINTR)
				continue;
			pg_log_error("could not read file \"%s\": %m", path);
			close(fd);
			return NULL;
		}
		n += got;
		if (got == 0 || n < chunk_cap)
			break;
		chunk_cap *= 2;			/* a large file: read on */
		chunk = pg_realloc(chunk, chunk_cap);
	}
	close(fd);
	buf = pg_malloc(n + 1);
	memcpy(buf, chunk, n);
	buf[n] = '\0';
	*len = n;
	return buf;
}

#if defined(USE_OPENSSL) && OPENSSL_VERSION_NUMBER >= 0x30000000L
/*
 * SHA-256 through OpenSSL 3 with the digest fetched once: pg_cryptohash
 * passes EVP_sha256() at every init, which OpenSSL 3 fetches again each
 * time, at a cost above that of hashing a small file.
 */
typedef EVP_MD_CTX *HashCtx;

static HashCtx
hash_begin(void)
{
	static EVP_MD *md;
	static EVP_MD_CTX *ctx;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		pg_fatal("could not initialize SHA-256");
	if (ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL)
		pg_fatal("could not initialize SHA-256");
	if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
		pg_fatal("could not initialize SHA-256");
	return ctx;
}

static void
hash_update(HashCtx ctx, const char *p, size_t len)
{
	if (EVP_DigestUpdate(ctx, p, len) != 1)
		pg_fatal("could not compute SHA-256");
}

static void
hash_end(HashCtx ctx, uint8 *digest)
{
	if (EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
		pg_fatal("could not compute SHA-256");
}
#else
typedef pg_cryptohash_ctx *HashCtx;

static HashCtx
hash_begin(void)
{
	/* one context for every file */
	static pg_cryptohash_ctx *ctx;

	if (ctx == NULL)
		ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		pg_fatal("could not initialize SHA-256: %s", pg_cryptohash_error(ctx));
	return ctx;
}

static void
hash_update(HashCtx ctx, const char *p, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) p, len) < 0)
		pg_fatal("could not compute SHA-256: %s", pg_cryptohash_error(ctx));
}

static void
hash_end(HashCtx ctx, uint8 *digest)
{
	if (pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		pg_fatal("could not compute SHA-256: %s", pg_cryptohash_error(ctx));
}
#endif

void
files_checksum(const char *buf, size_t len, char *hex)
{
	HashCtx		ctx = hash_begin();
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	ChecksumNorm n;
	const char *chunk;
	size_t		chunk_len;
	int			i;

	cksumnorm_init(&n, buf, len, 2);
	while (cksumnorm_next(&n, &chunk, &chunk_len))
		hash_update(ctx, chunk, chunk_len);
	hash_end(ctx, digest);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = "0123456789abcdef"[digest[i] >> 4];
		hex[2 * i + 1] = "0123456789abcdef"[digest[i] & 15];
	}
	hex[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
}

void
files_up_script(const char *text, size_t len, size_t *start, size_t *end)
{
	size_t		ds,
				de;
	const char *err;
	int			line;

	if (sqllex_split_sections(text, len, start, end, &ds, &de, &err, &line) <= 0)
	{
		*start = 0;
		*end = len;
	}
}

/*
 * Lex one script (a whole file, or a section of it starting at line
 * first_line) as the server will: an unterminated literal, a psql
 * meta-command, COPY through the client and transaction control other than
 * an outer BEGIN/COMMIT are errors, reported as file:line.
 */
static bool
check_script(const char *file, const char *buf, size_t len, int first_line)
{
	SqlLexer	lx;
	SqlStmt		st;
	SqlLexStatus rc;

	sqllex_init_at(&lx, buf, len, first_line);
	while ((rc = sqllex_next(&lx, &st)) == SQLLEX_OK)
	{
		const char *why = NULL;

		if (st.kind == SQL_STMT_META)
			why = "psql meta-commands cannot run in a migration";
		else if (st.kind == SQL_STMT_COPY_STDIO)
			why = "COPY FROM STDIN and COPY TO STDOUT cannot run in a migration";
		else if (st.kind == SQL_STMT_TXN_OTHER)
			why = "transaction control cannot run in a migration";
		if (why)
		{
			pg_log_error("%s:%d: %s", file, st.line, why);
			return false;
		}
	}
	if (rc == SQLLEX_ERROR)
	{
		pg_log_error("%s:%d: %s", file, lx.error_line, lx.error);
		return false;
	}
	return true;
}

/* Directives the server knows, with whether they take an argument. */
static bool
check_directives(const char *file, const char *buf, size_t len)
{
	size_t		pos = 0;
	const char *name;
	const char *arg;
	size_t		name_len;
	size_t		arg_len;
	int			line;

	while (sqllex_next_directive(buf, len, &pos, &name, &name_len, &arg,
								 &arg_len, &line))
	{
		static const struct
		{
			const char *name;
			bool		arg;
		}			known[] = {
			{"no-transaction", false}, {"lock-timeout", true},
			{"run-as", true}, {"run-on-change", false}
		};
		size_t		k;
		bool		ok = false;

		for (k = 0; k < lengthof(known); k++)
			if (strlen(known[k].name) == name_len &&
				memcmp(known[k].name, name, name_len) == 0)
			{
				ok = known[k].arg == (arg_len > 0);
				break;
			}
		if (!ok)
		{
			pg_log_error("%s:%d: invalid directive \"-- smig:%.*s%s%.*s\"",
						 file, line, (int) name_len, name, arg_len ? " " : "",
						 (int) arg_len, arg);
			pg_log_error_hint("Known directives are smig:no-transaction, smig:lock-timeout DURATION, smig:run-as ROLE and smig:run-on-change.");
			return false;
		}
	}
	return true;
}

/* Does the script's leading comment hold directive "-- smig:want"? */
static bool
has_directive(const char *buf, size_t len, const char *want)
{
	size_t		pos = 0;
	const char *name;
	const char *arg;
	size_t		name_len;
	size_t		arg_len;
	int			line;

	while (sqllex_next_directive(buf, len, &pos, &name, &name_len, &arg,
								 &arg_len, &line))
		if (name_len == strlen(want) && memcmp(name, want, name_len) == 0)
			return true;
	return false;
}

/* Everything the server would refuse in one file's text. */
static bool
check_file(const char *file, const char *text, size_t len, bool is_down)
{
	size_t		us,
				ue,
				ds,
				de;
	const char *err;
	int			line;
	int			sections;

	if (memchr(text, '\0', len) != NULL)
	{
		pg_log_error("%s: file holds a zero byte", file);
		return false;
	}
	sections = sqllex_split_sections(text, len, &us, &ue, &ds, &de, &err, &line);
	if (sections < 0)
	{
		pg_log_error("%s:%d: %s", file, line, err);
		return false;
	}
	if (sections > 0 && is_down)
	{
		pg_log_error("%s: a down file cannot have sections", file);
		return false;
	}
	if (sections == 0)
		return check_script(file, text, len, 1) &&
			(is_down || check_directives(file, text, len));
	return check_script(file, text + us, ue - us, sqllex_line_at(text, len, us)) &&
		check_directives(file, text + us, ue - us) &&
		check_script(file, text + ds, de - ds, sqllex_line_at(text, len, ds));
}

static bool finish_check(LocalMigration *m);

static int
entry_cmp(const void *a, const void *b)
{
	const DirEntry *x = a;
	const DirEntry *y = b;
	bool		xr = x->key == NULL;
	bool		yr = y->key == NULL;
	int			c;

	if (xr != yr)
		return xr ? 1 : -1;
	c = xr ? strcmp(x->name, y->name) : strcmp(x->key, y->key);
	if (c != 0)
		return c;
	/* up files before down files */
	c = (x->parsed.kind == MIGFILE_DOWN) - (y->parsed.kind == MIGFILE_DOWN);
	return c != 0 ? c : strcmp(x->file, y->file);
}

static int
entry_ptr_cmp(const void *a, const void *b)
{
	return entry_cmp(*(const DirEntry *const *) a, *(const DirEntry *const *) b);
}

bool
files_read_dir(const char *dir, LocalDir *out, bool lex_all)
{
	DIR		   *dh;
	struct dirent *de;
	DirEntry   *e = NULL;
	int			ne = 0;
	int			cap = 0;
	int			i;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	out->dir = dir;
	dh = opendir(dir);
	if (dh == NULL)
	{
		if (errno == ENOENT)
			return true;
		pg_log_error("could not open migration directory \"%s\": %m", dir);
		return false;
	}
	out->exists = true;
	while ((de = readdir(dh)) != NULL)
	{
		MigFileName p;
		MigFileKind kind = migfile_parse(de->d_name, &p);
		char	   *path;
		struct stat sb;
		DirEntry   *x;

		if (kind == MIGFILE_NOT_SQL)
			continue;
		path = join_path(dir, de->d_name);
		/* regular files only (following links); no stat when readdir says */
		if (de->d_type == DT_UNKNOWN || de->d_type == DT_LNK
			? fstatat(dirfd(dh), de->d_name, &sb, 0) != 0 || !S_ISREG(sb.st_mode)
			: de->d_type != DT_REG)
		{
			free(path);
			continue;
		}
		if (kind == MIGFILE_UNRECOGNIZED)
		{
			pg_log_error("%s: file name fits no migration convention", path);
			pg_log_error_hint("Name migrations V<version>__<name>.sql, <version>_<name>.sql, <version>_<name>.up.sql (with .down.sql), or R__<name>.sql.");
			ok = false;
			free(path);
			continue;
		}
		if (kind == MIGFILE_REPEATABLE_DOWN)
		{
			pg_log_error("%s: a repeatable migration cannot have a down file", path);
			ok = false;
			free(path);
			continue;
		}
		if (ne == cap)
		{
			cap = cap ? cap * 2 : 64;
			e = pg_realloc(e, cap * sizeof(DirEntry));
		}
		x = &e[ne];
		memset(x, 0, sizeof(*x));
		x->file = pg_strdup(de->d_name);
		x->parsed = p;
		/* re-point the spans into our copy of the name */
		x->version = dupn(x->file + (p.version - de->d_name), p.version_len);
		x->name = dupn(x->file + (p.name - de->d_name), p.name_len);
		if (kind != MIGFILE_REPEATABLE)
		{
			if (!version_is_valid(x->version, p.version_len) ||
				p.version_len > SMIG_VERSION_MAXLEN)
			{
				pg_log_error("%s: invalid version \"%s\"", path, x->version);
				ok = false;
				free(path);
				continue;
			}
			x->key = pg_malloc(SMIG_VERSION_KEYSIZE(p.version_len));
			version_sort_key(x->version, p.version_len, x->key);
		}
		x->text = read_file(dirfd(dh), de->d_name, path, &x->len);
		if (x->text == NULL)
			ok = false;
		/* a repeatable migration's text is always sent: checked now */
		else if ((lex_all || kind == MIGFILE_REPEATABLE) &&
				 !check_file(path, x->text, x->len, kind == MIGFILE_DOWN))
			ok = false;
		free(path);
		ne++;
	}
	closedir(dh);
	if (!ok)
		return false;

	/* sorted through pointers: fewer bytes moved than sorting the entries */
	{
		DirEntry  **pe = pg_malloc(Max(ne, 1) * sizeof(DirEntry *));
		DirEntry   *se = pg_malloc(Max(ne, 1) * sizeof(DirEntry));

		for (i = 0; i < ne; i++)
			pe[i] = &e[i];
		qsort(pe, ne, sizeof(DirEntry *), entry_ptr_cmp);
		for (i = 0; i < ne; i++)
			se[i] = *pe[i];
		free(pe);
		free(e);
		e = se;
	}
	out->m = pg_malloc0((ne + 1) * sizeof(LocalMigration));
	for (i = 0; i < ne; i++)
	{
		LocalMigration *m;

		if (e[i].parsed.kind == MIGFILE_DOWN)
		{
			pg_log_error("%s/%s: down file without an up file", dir, e[i].file);
			return false;
		}
		if (i + 1 < ne && e[i].key && e[i + 1].key &&
			strcmp(e[i].key, e[i + 1].key) == 0 &&
			e[i + 1].parsed.kind != MIGFILE_DOWN)
		{
			pg_log_error("migration version \"%s\" has two files: \"%s\" and \"%s\"",
						 e[i].version, e[i].file, e[i + 1].file);
			pg_log_error_hint("Give one of them another version.");
			return false;
		}
		m = &out->m[out->n++];
		if (e[i].parsed.kind != MIGFILE_REPEATABLE)
			out->nversioned = out->n;
		m->file = e[i].file;
		m->version = e[i].version;
		m->name = e[i].name;
		m->kind = e[i].parsed.kind;
		m->key = e[i].key;
		m->label = m->kind == MIGFILE_REPEATABLE
			? psprintf("R__%s", m->name) : m->version;
		m->up_text = e[i].text;
		m->up_len = e[i].len;
		/* what register_many() compares: the checksum of the whole text */
		files_checksum(m->up_text, m->up_len, m->text_checksum);
		if (i + 1 < ne && e[i].key && e[i + 1].key &&
			strcmp(e[i].key, e[i + 1].key) == 0)
		{
			i++;
			if (i + 1 < ne && e[i + 1].key &&
				strcmp(e[i].key, e[i + 1].key) == 0)
			{
				pg_log_error("migration version \"%s\" has two down files: \"%s\" and \"%s\"",
							 e[i].version, e[i].file, e[i + 1].file);
				return false;
			}
			m->down_file = e[i].file;
			m->down_text = e[i].text;
			m->down_len = e[i].len;
			files_checksum(m->down_text, m->down_len, m->down_checksum);
		}
		if ((lex_all || m->kind == MIGFILE_REPEATABLE) && !finish_check(m))
			return false;
	}
	free(e);
	return true;
}

/*
 * After check_file() of m's files: its sections (the checksum of the up
 * script, its directives) and whether a down file and a down section
 * clash.
 */
static bool
finish_check(LocalMigration *m)
{
	size_t		us,
				ue;

	files_up_script(m->up_text, m->up_len, &us, &ue);
	if (us == 0 && ue == m->up_len)
		memcpy(m->checksum, m->text_checksum, sizeof(m->checksum));
	else
		files_checksum(m->up_text + us, ue - us, m->checksum);
	m->run_on_change = has_directive(m->up_text + us, ue - us, "run-on-change");
	if (m->down_file && (us != 0 || ue != m->up_len))
	{
		pg_log_error("migration version \"%s\" has both a down file \"%s\" and a \"-- smig:down\" section",
					 m->version, m->down_file);
		return false;
	}
	m->checked = true;
	return true;
}

bool
files_check(const LocalDir *d, LocalMigration *m)
{
	char	   *path;
	bool		ok;

	if (m->checked)
		return true;
	path = psprintf("%s/%s", d->dir, m->file);
	ok = check_file(path, m->up_text, m->up_len, false);
	free(path);
	if (ok && m->down_file)
	{
		path = psprintf("%s/%s", d->dir, m->down_file);
		ok = check_file(path, m->down_text, m->down_len, true);
		free(path);
	}
	return ok && finish_check(m);
}

/*
 * By binary search: files_read_dir() leaves the versioned migrations first,
 * in version key order (their keys distinct), then the repeatable ones in
 * name order.  A label is found only as spelt ("001" is not "1").
 */
const LocalMigration *
files_find(const LocalDir *d, const char *label)
{
	size_t		len = strlen(label);
	int			lo,
				hi;
	char	   *key = NULL;
	const char *want;
	const LocalMigration *found = NULL;

	if (strncmp(label, "R__", 3) == 0)
	{
		lo = d->nversioned;
		hi = d->n;
		want = label + 3;
	}
	else
	{
		if (!version_is_valid(label, len) || len > SMIG_VERSION_MAXLEN)
			return NULL;
		key = pg_malloc(SMIG_VERSION_KEYSIZE(len));
		version_sort_key(label, len, key);
		lo = 0;
		hi = d->nversioned;
		want = key;
	}
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;
		const LocalMigration *m = &d->m[mid];
		int			c = strcmp(key ? m->key : m->name, want);

		if (c == 0)
		{
			found = strcmp(m->label, label) == 0 ? m : NULL;
			break;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(key);
	return found;
}

void
files_register_json(const LocalDir *d, const bool *with_text,
					bool checksums_only, PQExpBuffer out)
{
	int			i;

	appendPQExpBufferChar(out, '[');
	for (i = 0; i < d->n; i++)
	{
		const LocalMigration *m = &d->m[i];
		bool		text = !checksums_only || (with_text && with_text[i]) ||
			m->kind == MIGFILE_REPEATABLE;

		if (i > 0)
			appendPQExpBufferStr(out, ",\n");
		appendPQExpBufferChar(out, '{');
		if (m->kind == MIGFILE_REPEATABLE)
			appendPQExpBufferStr(out, "\"repeatable\": true");
		else
		{
			appendPQExpBufferStr(out, "\"version\": ");
			out_json_string(out, m->version);
		}
		appendPQExpBufferStr(out, ", \"name\": ");
		out_json_string(out, m->name);
		if (text)
		{
			appendPQExpBufferStr(out, ", \"up_sql\": ");
			out_json_string(out, m->up_text);
			if (m->down_text)
			{
				appendPQExpBufferStr(out, ", \"down_sql\": ");
				out_json_string(out, m->down_text);
			}
		}
		else
		{
			appendPQExpBufferStr(out, ", \"checksum\": \"");
			appendPQExpBufferStr(out, m->text_checksum);
			appendPQExpBufferChar(out, '"');
			if (m->down_text)
			{
				appendPQExpBufferStr(out, ", \"down_checksum\": \"");
				appendPQExpBufferStr(out, m->down_checksum);
				appendPQExpBufferChar(out, '"');
			}
		}
		if (m->kind == MIGFILE_BASELINE)
			appendPQExpBufferStr(out, ", \"options\": {\"baseline\": true}");
		appendPQExpBufferChar(out, '}');
	}
	appendPQExpBufferChar(out, ']');
}

/*---- smig new ---------------------------------------------------------------*/

/* The conventions a new migration can follow. */
typedef enum NewStyle
{
	STYLE_SECTIONS,				/* N_name.sql with -- smig:up / -- smig:down */
	STYLE_PLAIN_DOWN,			/* N_name.sql + N_name.down.sql */
	STYLE_UPDOWN,				/* N_name.up.sql + N_name.down.sql */
	STYLE_FLYWAY				/* VN__name.sql + UN__name.sql */
} NewStyle;

/*
 * The version after v: the last digit group plus one, keeping its width
 * ("009" -> "010"); a 14-digit timestamp (YYYYMMDDHHMMSS) becomes the
 * current UTC time when that is later.
 */
static char *
next_version(const char *v)
{
	size_t		len = strlen(v);
	char	   *r = pg_malloc(len + 2);
	size_t		i;

	if (len == 14 && strspn(v, "0123456789") == 14)
	{
		char		now[32];
		time_t		t = time(NULL);

		strftime(now, sizeof(now), "%Y%m%d%H%M%S", gmtime(&t));
		if (strcmp(now, v) > 0)
		{
			strcpy(r, now);
			return r;
		}
	}
	strcpy(r, v);
	for (i = len; i > 0; i--)
	{
		if (r[i - 1] == '.' || r[i - 1] == '_')
			break;
		if (r[i - 1] != '9')
		{
			r[i - 1]++;
			return r;
		}
		r[i - 1] = '0';
	}
	/* every digit of the last group was 9: one more digit */
	memmove(r + i + 1, r + i, len - i + 1);
	r[i] = '1';
	return r;
}

static bool
write_new_file(const char *path, const char *text)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	size_t		len = strlen(text);

	if (fd < 0)
	{
		pg_log_error("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len || close(fd) != 0)
	{
		pg_log_error("could not write file \"%s\": %m", path);
		return false;
	}
	printf("created %s\n", path);
	return true;
}

int
files_new(const char *dir, const char *name)
{
	LocalDir	d;
	NewStyle	style = STYLE_SECTIONS;
	const LocalMigration *last = NULL;
	char	   *version;
	int			i;
	const char *p;

	if (*name == '\0')
	{
		pg_log_error("migration name must not be empty");
		return EXIT_USAGE;
	}
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
		{
			pg_log_error("invalid migration name \"%s\"", name);
			pg_log_error_detail("A name for a new file may hold letters, digits, \"_\" and \"-\".");
			return EXIT_USAGE;
		}
	if (!files_read_dir(dir, &d, true))
		return EXIT_FAILED;
	if (!d.exists && mkdir(dir, 0755) != 0)
	{
		pg_log_error("could not create directory \"%s\": %m", dir);
		return EXIT_FAILED;
	}
	for (i = 0; i < d.n; i++)
		if (d.m[i].kind != MIGFILE_REPEATABLE)
			last = &d.m[i];
	if (last == NULL)
		version = pg_strdup("001");
	else
	{
		size_t		ulen = strlen(last->file);

		version = next_version(last->version);
		if (last->file[0] == 'V' || last->file[0] == 'B')
			style = STYLE_FLYWAY;
		else if (ulen > 7 && strcmp(last->file + ulen - 7, ".up.sql") == 0)
			style = STYLE_UPDOWN;
		else if (last->down_file != NULL)
			style = STYLE_PLAIN_DOWN;
		else
			style = STYLE_SECTIONS;
	}

	switch (style)
	{
		case STYLE_SECTIONS:
			return write_new_file(psprintf("%s/%s_%s.sql", dir, version, name),
								  psprintf("-- smig:up\n-- migration %s: %s\n\n\n-- smig:down\n\n", version, name))
				? EXIT_OK : EXIT_FAILED;
		case STYLE_PLAIN_DOWN:
			return write_new_file(psprintf("%s/%s_%s.sql", dir, version, name),
								  psprintf("-- migration %s: %s (up)\n\n", version, name)) &&
				write_new_file(psprintf("%s/%s_%s.down.sql", dir, version, name),
							   psprintf("-- migration %s: %s (down)\n\n", version, name))
				? EXIT_OK : EXIT_FAILED;
		case STYLE_UPDOWN:
			return write_new_file(psprintf("%s/%s_%s.up.sql", dir, version, name),
								  psprintf("-- migration %s: %s (up)\n\n", version, name)) &&
				write_new_file(psprintf("%s/%s_%s.down.sql", dir, version, name),
							   psprintf("-- migration %s: %s (down)\n\n", version, name))
				? EXIT_OK : EXIT_FAILED;
		case STYLE_FLYWAY:
			return write_new_file(psprintf("%s/V%s__%s.sql", dir, version, name),
								  psprintf("-- migration %s: %s (up)\n\n", version, name)) &&
				write_new_file(psprintf("%s/U%s__%s.sql", dir, version, name),
							   psprintf("-- migration %s: %s (down)\n\n", version, name))
				? EXIT_OK : EXIT_FAILED;
	}
	return EXIT_FAILED;
}
