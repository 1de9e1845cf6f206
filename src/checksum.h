/*-------------------------------------------------------------------------
 * checksum.h
 *	  Migration checksums: SHA-256 over normalised text.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_CHECKSUM_H
#define SMIG_CHECKSUM_H

/* The normalisation new checksums use (see checksum.c). */
#define CHECKSUM_SCHEME_CURRENT 2

/* 64 lowercase hex digits, palloc'd, under the current scheme. */
extern char *checksum_sql(const char *sql, size_t len);

/* The same under an older scheme (1 .. CHECKSUM_SCHEME_CURRENT). */
extern char *checksum_sql_scheme(const char *sql, size_t len, int scheme);

/* SHA-256 of buf as it is (no normalisation): 32 bytes into digest. */
extern void checksum_bytes(const char *buf, size_t len, uint8 *digest);

#endif							/* SMIG_CHECKSUM_H */
