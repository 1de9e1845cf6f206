/*-------------------------------------------------------------------------
 * loaddir.c
 *	  smig.load_dir: make the registry what a server directory says.
 *
 * An application calls load_dir() at every start, and almost always
 * nothing is new.  So the directory is listed once (one readdir pass and
 * one stat per migration file), and each file's stat -- device, inode,
 * size, modification and change time in nanoseconds -- is compared with
 * the stat cache, smig.load_dir_cache: one row per directory and
 * registrant, written by smig's own code only, holding for every file the
 * stat it had when it was last read, when that was, and the SHA-256 of
 * its bytes.  When every file matches a trusted entry, the file set is the
 * cached one, and the registry is as that pass left it (smig.summary's
 * registry_gen is the one recorded, nothing wrote the registry behind
 * smig's back), load_dir() opens no file and writes nothing.
 *
 * Racy entries (git's term): a file changed in the same timestamp tick as
 * it was read can keep its stat.  An entry is trusted only if the file's
 * mtime and ctime are at least a whole second older than the moment its
 * read began (so a filesystem with 1 or 2 second timestamps, and the
 * kernel's coarse clock, cannot hide a later change); until then the file
 * is read again at every call.
 *
 * A file whose stat differs is read and its bytes hashed: if every such
 * file still hashes as cached (touched, copied back), nothing is
 * registered and only the cache entries are refreshed.  Otherwise every
 * file is read and the whole directory goes through registry_sync(), as
 * it always did, and the cache is rewritten.  The cache is written only
 * when it changes, so an unchanged start writes no WAL.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "action.h"
#include "args.h"
#include "checksum.h"
#include "loaddir.h"
#include "migfile.h"
#include "ownersql.h"
#include "registry.h"
#include "repeatable.h"
#include "version.h"
#include "versions.h"

PG_FUNCTION_INFO_V1(smig_load_dir);
PG_FUNCTION_INFO_V1(smig_load_dir_reads);

static bool loaddir_use_cache = true;

/* files the last load_dir() call of this backend opened (-1: none ran) */
static int	last_reads = -1;

void
loaddir_init(void)
{
	DefineCustomBoolVariable("smig.load_dir_cache",
							 "Lets smig.load_dir() skip files whose stat matches its cache.",
							 "When off, smig.load_dir() reads every file and rewrites the cache from what it read.",
							 &loaddir_use_cache,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/*---- the stat cache ---------------------------------------------------------*/

#define NS_PER_SEC INT64CONST(1000000000)
#define CACHE_MAGIC 0x534d4331	/* "SMC1" */

typedef struct FileStat
{
	int64		dev;
	int64		ino;
	int64		size;
	int64		mtime_ns;
	int64		ctime_ns;
} FileStat;

/* One cache entry (in the blob: FileStat, read_ns, digest, name_len, name). */
typedef struct CachedFile
{
	const char *name;
	uint16		name_len;
	FileStat	st;
	int64		read_ns;		/* when the read that gave digest began */
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
} CachedFile;

#define ENTRY_FIXED (sizeof(FileStat) + sizeof(int64) + PG_SHA256_DIGEST_LENGTH + sizeof(uint16))

/* The cache row of one directory and registrant, and smig.summary's state. */
typedef struct DirCache
{
	bool		present;
	bool		synced;			/* written by a synchronising call */
	int64		gen;			/* registry_gen it matches, -1 for none */
	int64		summary_gen;	/* smig.summary now */
	bool		stale;
	CachedFile *files;
	int			nfiles;
	int		   *slots;			/* open addressing, -1 empty */
	int			nslots;
	bytea	   *blob;
} DirCache;

static void
filestat_from(const struct stat *st, FileStat *fs)
{
	fs->dev = (int64) st->st_dev;
	fs->ino = (int64) st->st_ino;
	fs->size = (int64) st->st_size;
	fs->mtime_ns = (int64) st->st_mtim.tv_sec * NS_PER_SEC + st->st_mtim.tv_nsec;
	fs->ctime_ns = (int64) st->st_ctim.tv_sec * NS_PER_SEC + st->st_ctim.tv_nsec;
}

static bool
filestat_equal(const FileStat *a, const FileStat *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/*
 * May an entry be trusted?  Only if the file's last change (mtime, ctime)
 * lies in a second at least one whole second before the second its read
 * began: a change in the same tick as the read could keep the stat.
 */
static bool
entry_trusted(const FileStat *st, int64 read_ns)
{
	int64		changed = Max(st->mtime_ns, st->ctime_ns);

	return changed / NS_PER_SEC + 1 < read_ns / NS_PER_SEC;
}

static int64
now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		elog(ERROR, "could not read the clock: %m");
	return (int64) ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static uint32
name_hash(const char *name, int len)
{
	return hash_bytes((const unsigned char *) name, len);
}

/* The cache entry of a file name, or NULL. */
static CachedFile *
cache_lookup(DirCache *dc, const char *name)
{
	int			len = strlen(name);
	uint32		h;

	if (dc->nslots == 0)
		return NULL;
	for (h = name_hash(name, len) & (dc->nslots - 1);; h = (h + 1) & (dc->nslots - 1))
	{
		CachedFile *c;

		if (dc->slots[h] < 0)
			return NULL;
		c = &dc->files[dc->slots[h]];
		if (c->name_len == len && memcmp(c->name, name, len) == 0)
			return c;
	}
}

/* Decode the cache blob into entries and a hash table of their names. */
static void
cache_decode(DirCache *dc)
{
	const char *p = VARDATA(dc->blob);
	const char *end = p + VARSIZE(dc->blob) - VARHDRSZ;
	uint32		magic;
	uint32		n;
	int			i;

	if (end - p < 8)
		elog(ERROR, "smig.load_dir_cache entry is truncated");
	memcpy(&magic, p, 4);
	memcpy(&n, p + 4, 4);
	p += 8;
	if (magic != CACHE_MAGIC)
	{
		/* another format: no entry, everything is read again */
		dc->present = false;
		return;
	}
	dc->files = palloc(Max(n, 1) * sizeof(CachedFile));
	for (i = 0; i < (int) n; i++)
	{
		CachedFile *c = &dc->files[i];

		if (end - p < (ptrdiff_t) ENTRY_FIXED)
			elog(ERROR, "smig.load_dir_cache entry is truncated");
		memcpy(&c->st, p, sizeof(FileStat));
		p += sizeof(FileStat);
		memcpy(&c->read_ns, p, sizeof(int64));
		p += sizeof(int64);
		memcpy(c->digest, p, PG_SHA256_DIGEST_LENGTH);
		p += PG_SHA256_DIGEST_LENGTH;
		memcpy(&c->name_len, p, sizeof(uint16));
		p += sizeof(uint16);
		if (end - p < c->name_len)
			elog(ERROR, "smig.load_dir_cache entry is truncated");
		c->name = p;
		p += c->name_len;
	}
	dc->nfiles = n;
	dc->nslots = 16;
	while (dc->nslots < 2 * dc->nfiles)
		dc->nslots *= 2;
	dc->slots = palloc(dc->nslots * sizeof(int));
	memset(dc->slots, -1, dc->nslots * sizeof(int));
	for (i = 0; i < dc->nfiles; i++)
	{
		uint32		h = name_hash(dc->files[i].name, dc->files[i].name_len) & (dc->nslots - 1);

		while (dc->slots[h] >= 0)
			h = (h + 1) & (dc->nslots - 1);
		dc->slots[h] = i;
	}
}

/* Read the cache row of (dir, current_user) and smig.summary (SPI connected). */
static void
cache_fetch(const char *dir, DirCache *dc)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	Datum		d;

	memset(dc, 0, sizeof(DirCache));
	values[0] = CStringGetTextDatum(dir);
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	owner_exec("SELECT s.registry_gen, s.stale, c.synced, c.registry_gen, c.files"
			   " FROM smig.summary s"
			   " LEFT JOIN smig.load_dir_cache c"
			   "  ON c.dir OPERATOR(pg_catalog.=) $1 COLLATE \"C\""
			   "  AND c.registered_by OPERATOR(pg_catalog.=) $2::name",
			   2, types, values, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1)
	{
		dc->summary_gen = -2;
		dc->stale = true;
		return;
	}
	dc->summary_gen = pg_strtoint64(spi_text(0, 1));
	dc->stale = strcmp(spi_text(0, 2), "t") == 0;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
	if (isnull)
		return;
	dc->present = true;
	dc->synced = strcmp(spi_text(0, 3), "t") == 0;
	dc->gen = pg_strtoint64(spi_text(0, 4));
	dc->blob = DatumGetByteaPCopy(d);
	cache_decode(dc);
}

/*---- the directory ----------------------------------------------------------*/

/* One migration file of the directory. */
typedef struct DirEntry
{
	char	   *file;			/* bare file name */
	MigFileName parsed;
	char	   *version;
	char	   *name;
	char	   *key;
	FileStat	st;				/* from the listing; after a read, fstat's */
	CachedFile *cached;			/* its cache entry, or NULL */
	bool		hit;			/* cached with this stat, and trusted */
	char	   *text;			/* the file's contents, once read */
	int64		read_ns;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
} DirEntry;

/* Order by version key, ups (and baselines) before downs, then file name. */
static int
direntry_cmp(const void *a, const void *b)
{
	const DirEntry *x = a;
	const DirEntry *y = b;
	int			c;
	bool		xdown = x->parsed.kind == MIGFILE_DOWN;
	bool		ydown = y->parsed.kind == MIGFILE_DOWN;

	/* repeatable migrations (no key) last, by file name */
	if ((x->key == NULL) != (y->key == NULL))
		return x->key == NULL ? 1 : -1;
	if (x->key == NULL)
		return strcmp(x->file, y->file);
	c = strcmp(x->key, y->key);
	if (c != 0)
		return c;
	if (xdown != ydown)
		return xdown ? 1 : -1;
	return strcmp(x->file, y->file);
}

static int
direntry_name_cmp(const void *a, const void *b)
{
	return strcmp(((const DirEntry *) a)->file, ((const DirEntry *) b)->file);
}

/* A buffer reused for every file a load_dir() call reads. */
typedef struct ReadBuffer
{
	char	   *data;
	size_t		cap;
} ReadBuffer;

/*
 * Read a file whole into e->text (NUL-terminated, checked to be valid
 * text), with its stat (fstat of the open file, so of what was read), the
 * moment the read began and the SHA-256 of its bytes.  The file is opened
 * relative to the directory (dfd, so the kernel looks up one name rather
 * than the whole path), read into rb (a read shorter than asked for is the
 * end of a regular file), and closed.  Nothing that could raise an error
 * runs while the file is open, so no error can leak its descriptor.
 */
static void
read_migration_file(int dfd, const char *dir, DirEntry *e, ReadBuffer *rb)
{
	int			fd;
	size_t		len = 0;
	ssize_t		n;
	int			save_errno = 0;
	bool		too_large = false;
	bool		stat_failed = false;
	struct stat st;
	const char *file = e->file;

	e->read_ns = now_ns();
	ReserveExternalFD();
	fd = openat(dfd, file, O_RDONLY | PG_BINARY | O_CLOEXEC);
	if (fd < 0)
	{
		save_errno = errno;
		ReleaseExternalFD();
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration file \"%s/%s\": %m", dir, file)));
	}
	if (fstat(fd, &st) != 0)
	{
		save_errno = errno;
		stat_failed = true;
	}
	for (; !stat_failed;)
	{
		if (len == rb->cap)
		{
			char	   *bigger = NULL;

			if (rb->cap * 2 < MaxAllocSize)
				bigger = MemoryContextAllocExtended(CurrentMemoryContext,
													rb->cap * 2,
													MCXT_ALLOC_NO_OOM);
			if (bigger == NULL)
			{
				too_large = true;
				break;
			}
			memcpy(bigger, rb->data, len);
			pfree(rb->data);
			rb->data = bigger;
			rb->cap *= 2;
		}
		n = read(fd, rb->data + len, rb->cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			save_errno = errno;
			break;
		}
		len += n;
		if (n == 0 || len < rb->cap)
			break;
	}
	close(fd);
	ReleaseExternalFD();
	if (save_errno != 0)
	{
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not read migration file \"%s/%s\": %m", dir, file)));
	}
	if (too_large)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("migration file \"%s/%s\" is too large", dir, file)));

	if (memchr(rb->data, '\0', len) != NULL ||
		!pg_verifymbstr(rb->data, len, true))
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("migration file \"%s/%s\" is not valid text in encoding \"%s\"",
						dir, file, GetDatabaseEncodingName())));
	filestat_from(&st, &e->st);
	checksum_bytes(rb->data, len, e->digest);
	e->text = palloc(len + 1);
	memcpy(e->text, rb->data, len);
	e->text[len] = '\0';
}

/*
 * The directory a load_dir() path names, made absolute (a relative path is
 * relative to the data directory, the server's working directory) and
 * canonical ("a/./b/../c" is "a/c"), so that errors show which directory
 * the server read.
 */
static char *
resolve_dir(const char *path)
{
	char	   *abs = make_absolute_path(path);
	char	   *result;

	if (abs == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	result = pstrdup(abs);
	free(abs);
	canonicalize_path(result);
	return result;
}

/*
 * List the migration files of dir in one readdir pass, with one stat each
 * (following links: a link counts as the file it points to), and look each
 * up in the cache.  Names that are not migration files are refused here,
 * before anything is read.
 */
static DirEntry *
scan_dir(DIR *dir, const char *path, DirCache *dc, int *nentries)
{
	struct dirent *de;
	int			cap = 64;
	int			n = 0;
	DirEntry   *entries = palloc(cap * sizeof(DirEntry));

	while ((de = ReadDir(dir, path)) != NULL)
	{
		MigFileName parsed;
		DirEntry   *e;
		struct stat st;

		if (migfile_parse(de->d_name, &parsed) == MIGFILE_NOT_SQL)
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN &&
			de->d_type != DT_LNK)
			continue;

		/*
		 * A link whose target cannot be read is not a file that is gone:
		 * synchronising would drop its migration, and upgrade_head() would
		 * run the later ones without it.
		 */
		if (fstatat(dirfd(dir), de->d_name, &st, 0) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat migration file \"%s/%s\": %m",
							path, de->d_name),
					 errhint("Restore the file the link points to, or remove the link.")));
		if (!S_ISREG(st.st_mode))
			continue;
		if (parsed.kind == MIGFILE_UNRECOGNIZED)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unrecognized migration file name \"%s\"", de->d_name),
					 errdetail("Migration files are named V<version>__<name>.sql, <version>_<name>.sql or <version>_<name>.up.sql; down scripts U<version>__<name>.sql or <version>_<name>.down.sql; baselines B<version>__<name>.sql; repeatable migrations R__<name>.sql."),
					 errhint("Rename the file, or move it out of \"%s\".", path)));
		if (parsed.kind == MIGFILE_REPEATABLE_DOWN)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("down migration file \"%s\" has no version", de->d_name),
					 errdetail("A down file U<version>__<name>.sql belongs to the migration V<version>__<name>.sql; a repeatable migration (R__<name>.sql) has no down script."),
					 errhint("Give it the version of the migration it undoes, or remove it from \"%s\".",
							 path)));
		if (n == cap)
		{
			cap *= 2;
			entries = repalloc(entries, cap * sizeof(DirEntry));
		}
		e = &entries[n++];
		memset(e, 0, sizeof(DirEntry));
		e->file = pstrdup(de->d_name);
		filestat_from(&st, &e->st);
		e->cached = cache_lookup(dc, e->file);
		e->hit = e->cached != NULL && filestat_equal(&e->cached->st, &e->st) &&
			entry_trusted(&e->cached->st, e->cached->read_ns);
	}
	*nentries = n;
	return entries;
}

/*---- writing the cache ------------------------------------------------------*/

/*
 * The cache blob for entries (every one read now, or a cache hit), in file
 * name order so that an unchanged directory gives the same bytes.
 */
static bytea *
cache_encode(DirEntry *entries, int n)
{
	StringInfoData buf;
	uint32		magic = CACHE_MAGIC;
	uint32		count = n;
	DirEntry  **sorted = palloc(Max(n, 1) * sizeof(DirEntry *));
	DirEntry   *copy = palloc(Max(n, 1) * sizeof(DirEntry));
	bytea	   *blob;
	int			i;

	memcpy(copy, entries, n * sizeof(DirEntry));
	qsort(copy, n, sizeof(DirEntry), direntry_name_cmp);
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, (char *) &magic, 4);
	appendBinaryStringInfo(&buf, (char *) &count, 4);
	for (i = 0; i < n; i++)
	{
		DirEntry   *e = &copy[i];
		uint16		len = strlen(e->file);

		sorted[i] = e;
		appendBinaryStringInfo(&buf, (char *) &e->st, sizeof(FileStat));
		appendBinaryStringInfo(&buf, (char *) &e->read_ns, sizeof(int64));
		appendBinaryStringInfo(&buf, (char *) e->digest, PG_SHA256_DIGEST_LENGTH);
		appendBinaryStringInfo(&buf, (char *) &len, sizeof(uint16));
		appendBinaryStringInfo(&buf, e->file, len);
	}
	blob = palloc(VARHDRSZ + buf.len);
	SET_VARSIZE(blob, VARHDRSZ + buf.len);
	memcpy(VARDATA(blob), buf.data, buf.len);
	return blob;
}

/* Store the cache row of (dir, current_user) unless it is already so. */
static void
cache_store(const char *dir, DirCache *dc, DirEntry *entries, int n,
			bool synced, int64 gen)
{
	Oid			types[5] = {TEXTOID, TEXTOID, BOOLOID, INT8OID, BYTEAOID};
	Datum		values[5];
	bytea	   *blob = cache_encode(entries, n);

	if (dc->present && dc->synced == synced && dc->gen == gen &&
		VARSIZE(dc->blob) == VARSIZE(blob) &&
		memcmp(VARDATA(dc->blob), VARDATA(blob), VARSIZE(blob) - VARHDRSZ) == 0)
		return;
	values[0] = CStringGetTextDatum(dir);
	values[1] = CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
	values[2] = BoolGetDatum(synced);
	values[3] = Int64GetDatum(gen);
	values[4] = PointerGetDatum(blob);
	owner_exec("INSERT INTO smig.load_dir_cache AS c"
			   " (dir, registered_by, synced, registry_gen, files)"
			   " VALUES ($1, $2, $3, $4, $5)"
			   " ON CONFLICT (dir, registered_by) DO UPDATE"
			   " SET synced = excluded.synced, registry_gen = excluded.registry_gen,"
			   "  files = excluded.files",
			   5, types, values, NULL, SPI_OK_INSERT);
}

/* A cache entry's fields copied into e, for a file not read now. */
static void
entry_from_cache(DirEntry *e)
{
	e->read_ns = e->cached->read_ns;
	memcpy(e->digest, e->cached->digest, PG_SHA256_DIGEST_LENGTH);
}

/*
 * The registry generation to record after a full pass that began at
 * start_gen and changed changed registrations: the one it left, if no one
 * else registered meanwhile and nothing wrote the registry behind smig's
 * back; else -1, which no later call matches.
 */
static int64
gen_after_pass(int64 start_gen, int changed)
{
	int64		gen;

	owner_exec("SELECT s.registry_gen, s.stale FROM smig.summary s",
			   0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed != 1 || strcmp(spi_text(0, 2), "t") == 0)
		return -1;
	gen = pg_strtoint64(spi_text(0, 1));
	if (gen != start_gen + (changed > 0 ? 1 : 0))
		return -1;
	return gen;
}

/*---- the pass ---------------------------------------------------------------*/

/*
 * Pair up and down files (entries sorted by direntry_cmp) into items; the
 * repeatable migrations come after the versioned ones.
 */
static BulkItem *
pair_entries(DirEntry *entries, int nentries, int *nitems)
{
	BulkItem   *items = palloc0((nentries + 1) * sizeof(BulkItem));
	int			n = 0;
	int			i;

	for (i = 0; i < nentries;)
	{
		DirEntry   *up = &entries[i];
		DirEntry   *down = NULL;
		BulkItem   *it = &items[n++];
		int			j = i + 1;

		if (up->key == NULL)
		{
			it->file = up->file;
			it->in.name = up->name;
			it->in.version = repeatable_label(up->name);
			it->in.repeatable = true;
			it->in.up_sql = up->text;
			i++;
			continue;
		}
		if (up->parsed.kind == MIGFILE_DOWN)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("down migration file \"%s\" has no up migration", up->file),
					 errhint("Add the up migration of version \"%s\", or remove the file.",
							 up->version)));
		for (; j < nentries && entries[j].key != NULL &&
			 strcmp(entries[j].key, up->key) == 0; j++)
		{
			if (entries[j].parsed.kind != MIGFILE_DOWN)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("migration version \"%s\" is used by two files: \"%s\" and \"%s\"",
								up->version, up->file, entries[j].file),
						 errhint("Give one of them another version.")));
			if (down != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_OBJECT),
						 errmsg("migration version \"%s\" has two down files: \"%s\" and \"%s\"",
								up->version, down->file, entries[j].file)));
			down = &entries[j];
		}

		it->file = up->file;
		it->in.version = up->version;
		it->in.name = up->name;
		it->in.up_sql = up->text;
		it->in.down_sql = down ? down->text : NULL;
		it->in.baseline = up->parsed.kind == MIGFILE_BASELINE;
		i = j;
	}
	*nitems = n;
	return items;
}

/*
 * Read every file not read yet, build the migrations and register them
 * (registry_sync); returns how many registrations changed.
 */
static int
full_pass(DIR *dir, const char *path, DirEntry *entries, int nentries,
		  ReadBuffer *rb, bool sync, int *reads)
{
	BulkItem   *items;
	int			nitems;
	List	   *outcomes;
	int			i;

	for (i = 0; i < nentries; i++)
	{
		DirEntry   *e = &entries[i];

		if (e->text == NULL)
		{
			read_migration_file(dirfd(dir), path, e, rb);
			(*reads)++;
		}
		/* parsed points into the dirent that ReadDir reused: parse again */
		(void) migfile_parse(e->file, &e->parsed);
		e->name = pnstrdup(e->parsed.name, e->parsed.name_len);
		if (e->parsed.kind == MIGFILE_REPEATABLE)
			e->key = NULL;
		else
		{
			e->version = pnstrdup(e->parsed.version, e->parsed.version_len);
			e->key = version_key_or_error(e->version);
		}
	}
	qsort(entries, nentries, sizeof(DirEntry), direntry_cmp);
	items = pair_entries(entries, nentries, &nitems);
	return registry_sync(items, nitems, sync, false, &outcomes);
}

/*
 * smig.load_dir(path text, sync boolean DEFAULT true) returns integer
 *
 * Register the migration files of a server directory; with sync, also
 * drop the registrations whose file is gone (see registry_sync).  Returns
 * how many registrations were added, changed or dropped.  Called through
 * 0.1's one-argument definition (before ALTER EXTENSION smig UPDATE), it
 * only adds, as 0.1 did.
 */
Datum
smig_load_dir(PG_FUNCTION_ARGS)
{
	char	   *path;
	bool		sync = false;
	DIR		   *dir;
	DirEntry   *entries;
	int			nentries;
	DirCache	dc;
	ReadBuffer	rb;
	int			changed = 0;
	int			reads = 0;
	bool		registry_as_cached;
	bool		content_as_cached;
	bool		dirty = false;
	int			i;

	args_require(fcinfo, 0, "path");
	if (PG_NARGS() > 1)
	{
		args_require(fcinfo, 1, "sync");
		sync = PG_GETARG_BOOL(1);
	}
	path = resolve_dir(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	if (!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to read migration files on the server"),
				 errdetail("Only roles with privileges of the \"pg_read_server_files\" role may use smig.load_dir()."),
				 errhint("Register migrations with smig.register(), or with the smig client.")));
	if (sync)
		action_begin("register migrations");
	else
		action_check_writable("register migrations");
	last_reads = -1;

	dir = AllocateDir(path);
	if (dir == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open migration directory \"%s\": %m", path)));

	SPI_connect();
	cache_fetch(path, &dc);
	if (!loaddir_use_cache)
		dc.nslots = 0;			/* no entry is found: every file is read */
	entries = scan_dir(dir, path, &dc, &nentries);
	rb.cap = 65536;
	rb.data = palloc(rb.cap);

	/*
	 * The registry is as the cached pass left it: the same registry
	 * generation, nothing written behind smig's back, the same directory
	 * listing (every file has an entry, and there are no others), and a
	 * synchronising call needs a synchronising pass.
	 */
	registry_as_cached = loaddir_use_cache && dc.present &&
		dc.gen == dc.summary_gen && !dc.stale && (dc.synced || !sync);
	content_as_cached = registry_as_cached && nentries == dc.nfiles;
	for (i = 0; content_as_cached && i < nentries; i++)
	{
		DirEntry   *e = &entries[i];

		if (e->cached == NULL)
			content_as_cached = false;
		else if (e->hit)
			entry_from_cache(e);
		else
		{
			/* stat differs, or racy: are the bytes still the cached ones? */
			read_migration_file(dirfd(dir), path, e, &rb);
			reads++;
			if (memcmp(e->digest, e->cached->digest, PG_SHA256_DIGEST_LENGTH) != 0)
				content_as_cached = false;
			else if (!filestat_equal(&e->st, &e->cached->st) ||
					 entry_trusted(&e->st, e->read_ns))
				dirty = true;	/* a new stat, or now trusted: record it */
		}
	}

	if (content_as_cached)
	{
		/* nothing to register; refresh the entries of files read again */
		if (dirty)
			cache_store(path, &dc, entries, nentries, dc.synced, dc.gen);
	}
	else
	{
		int64		start_gen = dc.summary_gen;

		changed = full_pass(dir, path, entries, nentries, &rb, sync, &reads);
		cache_store(path, &dc, entries, nentries, sync,
					gen_after_pass(start_gen, changed));
	}
	FreeDir(dir);
	SPI_finish();
	last_reads = reads;

	PG_RETURN_INT32(changed);
}

/*
 * smig._load_dir_reads() returns integer: how many files the last
 * smig.load_dir() call of this session opened (NULL before any).  For
 * tests and benchmarks of the stat cache.
 */
Datum
smig_load_dir_reads(PG_FUNCTION_ARGS)
{
	if (last_reads < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(last_reads);
}
