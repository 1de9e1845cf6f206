/*-------------------------------------------------------------------------
 * checksum.c
 *	  Migration checksums: SHA-256 (hex) over normalised text.
 *
 * The text is normalised before hashing so that a checkout on another
 * operating system, or a tool that strips or adds the final newline (psql's
 * \set x `cat file`), does not look edited.  The normalisation is
 * versioned: checksums recorded under an older scheme stay verifiable with
 * smig.checksum(sql, scheme).
 *	 scheme 1 (smig 0.1): a leading UTF-8 byte order mark is dropped and
 *		every CRLF or lone CR becomes LF;
 *	 scheme 2 (smig 0.2, current): also, whitespace at the very end of the
 *		script (blanks and line ends) is dropped.
 * Nothing else changes: whitespace elsewhere and comments are part of what
 * was reviewed and applied.
 * Hashing goes through core's pg_cryptohash API, fed in chunks, so the
 * normalised copy is never materialised.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "checksum.h"

PG_FUNCTION_INFO_V1(smig_checksum);
PG_FUNCTION_INFO_V1(smig_checksum_scheme);

static void
hash_update(pg_cryptohash_ctx *ctx, const char *data, size_t len)
{
	if (len > 0 && pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not update SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
}

char *
checksum_sql(const char *sql, size_t len)
{
	return checksum_sql_scheme(sql, len, CHECKSUM_SCHEME_CURRENT);
}

char *
checksum_sql_scheme(const char *sql, size_t len, int scheme)
{
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(PG_SHA256_DIGEST_LENGTH * 2 + 1);
	size_t		i = 0;
	size_t		run_start;

	if (scheme < 1 || scheme > CHECKSUM_SCHEME_CURRENT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unrecognized checksum scheme %d", scheme),
				 errdetail("Known schemes are 1 (smig 0.1) and 2 (smig 0.2 and later).")));
	if (len >= 3 && memcmp(sql, "\xEF\xBB\xBF", 3) == 0)
		i = 3;
	/* scheme 2: nothing after the last non-blank byte counts */
	if (scheme >= 2)
		while (len > i && (sql[len - 1] == ' ' || sql[len - 1] == '\t' ||
						   sql[len - 1] == '\n' || sql[len - 1] == '\r' ||
						   sql[len - 1] == '\f' || sql[len - 1] == '\v'))
			len--;

	ctx = pg_cryptohash_create(PG_SHA256);
	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));

	/* hash runs of text between CRs, then one LF for each CR or CRLF */
	run_start = i;
	for (; i < len; i++)
	{
		if (sql[i] != '\r')
			continue;
		hash_update(ctx, sql + run_start, i - run_start);
		hash_update(ctx, "\n", 1);
		if (i + 1 < len && sql[i + 1] == '\n')
			i++;
		run_start = i + 1;
	}
	hash_update(ctx, sql + run_start, len - run_start);

	if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finalize SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);

	hex_encode((const char *) digest, sizeof(digest), hex);
	hex[PG_SHA256_DIGEST_LENGTH * 2] = '\0';
	return hex;
}

void
checksum_bytes(const char *buf, size_t len, uint8 *digest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (ctx == NULL || pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
	hash_update(ctx, buf, len);
	if (pg_cryptohash_final(ctx, digest, PG_SHA256_DIGEST_LENGTH) < 0)
		elog(ERROR, "could not finalize SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
}

/* smig.checksum(sql text, scheme integer) returns text */
Datum
smig_checksum_scheme(PG_FUNCTION_ARGS)
{
	text	   *sql = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(checksum_sql_scheme(VARDATA_ANY(sql),
														 VARSIZE_ANY_EXHDR(sql),
														 PG_GETARG_INT32(1))));
}

/* smig.checksum(sql text) returns text: the current scheme */
Datum
smig_checksum(PG_FUNCTION_ARGS)
{
	text	   *sql = PG_GETARG_TEXT_PP(0);

	PG_RETURN_TEXT_P(cstring_to_text(checksum_sql(VARDATA_ANY(sql),
												  VARSIZE_ANY_EXHDR(sql))));
}
