/*-------------------------------------------------------------------------
 * checksum.h
 *	  Migration checksums: SHA-256 over normalised text.
 *-------------------------------------------------------------------------
 */
#ifndef SMIG_CHECKSUM_H
#define SMIG_CHECKSUM_H

/* 64 lowercase hex digits, palloc'd. */
extern char *checksum_sql(const char *sql, size_t len);

#endif							/* SMIG_CHECKSUM_H */
